#!/usr/bin/python3
"""Measuring half of scripts/bench: framefs and its peers, one pattern a call.

  bench_peers.py time TOOL PATTERN --file F --out DIR --times T,... [options]
      TOOL: framefs | pyav | opencv | ffmpeg.  Appends one JSON line (per-frame
      ms, wall s, peak RSS, the PNGs written) to --log.
  bench_peers.py check --log LOG --file F
      decodes F once with PyAV and appends, per timed run of F, how many of
      its PNGs are the frame on screen at the time asked for.
  bench_peers.py report --log LOG [--goals-file F] [...]
      prints the tables and the goals.

Run with Debian's /usr/bin/python3 (python3-av, python3-opencv, numpy).
Each peer is used as its users write it:
  pyav    per frame: container.seek(ts, backward=True, stream=s), then decode
          forward to the frame on screen at t (thread_type AUTO); a run seeks
          once and decodes on.  PNG: to_ndarray('rgb24') -> cv2.imwrite level 1.
  opencv  cap.set(CAP_PROP_POS_MSEC, t*1000); cap.read(); cv2.imwrite level 1
          (a run: one set, then read() per frame).
  ffmpeg  one process per frame: ffmpeg -ss T -i F -frames:v 1
          -compression_level 1 out.png; a run: one process, -frames:v N.
  framefs open(MNT/F/t=T.png), fstat, read st_size bytes, close, then write
          a copy out (no process per frame); --readers N reads with N threads.
"""
import argparse
import json
import os
import resource
import subprocess
import sys
import time
from fractions import Fraction


def now():
    return time.perf_counter()


def self_rss_kb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def vm_hwm_kb(pid):
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def fmt_t(t):
    s = f"{t:.6f}".rstrip("0").rstrip(".")
    return s or "0"


# ------------------------------------------------------------------ peers
def png_params():
    import cv2
    return [cv2.IMWRITE_PNG_COMPRESSION, 1]


def time_pyav(a, times, res):
    import av
    import cv2
    params = png_params()
    container = av.open(a.file)
    stream = container.streams.video[0]
    stream.thread_type = "AUTO"
    tb = stream.time_base
    start = Fraction(container.start_time or 0, av.time_base)
    rate = stream.average_rate or stream.guessed_rate
    dur = max(1, round(1 / (Fraction(rate) * tb))) if rate else 1

    def ticks(t):
        return round((Fraction(t) + start) / tb)

    def write(frame, i):
        rgb = frame.to_ndarray(format="rgb24")
        path = os.path.join(a.out, f"{i:03d}.png")
        cv2.imwrite(path, cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), params)
        return path

    def seek_to(target):
        """Seek, then decode forward to the frame on screen at target (the
        last one with pts <= target; with a constant frame rate, the one
        whose pts + frame duration passes target).  Returns the frame, the
        decode iterator, and a frame decoded past it (None if none was)."""
        container.seek(target, backward=True, any_frame=False, stream=stream)
        it = container.decode(stream)
        prev = None
        for frame in it:
            if frame.pts is None:
                continue
            if frame.pts > target:
                if prev is None:
                    return frame, it, None   # landed late: a wrong frame, counted so
                return prev, it, frame
            prev = frame
            if frame.pts + dur > target:
                return frame, it, None
        return prev, it, None

    t0 = now()
    if a.run is None:
        for i, t in enumerate(times):
            try:
                frame, _, _ = seek_to(ticks(t))
                if frame is None:
                    raise RuntimeError("no frame decoded")
                res["outs"].append({"t": t, "png": write(frame, i)})
            except Exception as e:  # noqa: BLE001 - reported, not fatal
                res["errors"].append(f"t={t}: {e}")
            t1 = now()
            res["ms"].append((t1 - t0) * 1000)
            t0 = t1
    else:
        t = times[0]
        frame, it, pending = seek_to(ticks(t))
        frames = [frame] if frame is not None else []
        if pending is not None:
            frames.append(pending)
        n = 0
        for frame in frames:
            if n < a.run:
                res["outs"].append({"t": t + n / a.fps, "png": write(frame, n)})
                n += 1
        for frame in it:
            if n >= a.run:
                break
            res["outs"].append({"t": t + n / a.fps, "png": write(frame, n)})
            n += 1
        if n < a.run:
            res["errors"].append(f"run: {n} of {a.run} frames")
        res["ms"].append((now() - t0) * 1000)
    container.close()
    res["rss_kb"] = self_rss_kb()
    res["rss_how"] = "ru_maxrss"


def time_opencv(a, times, res):
    import cv2
    params = png_params()
    cap = cv2.VideoCapture(a.file, cv2.CAP_FFMPEG)
    if not cap.isOpened():
        res["errors"].append("VideoCapture did not open the file")
        return
    t0 = now()

    def grab(i, t):
        ok, img = cap.read()
        if not ok:
            res["errors"].append(f"t={t}: read() failed")
            return
        path = os.path.join(a.out, f"{i:03d}.png")
        cv2.imwrite(path, img, params)
        res["outs"].append({"t": t, "png": path})

    if a.run is None:
        for i, t in enumerate(times):
            cap.set(cv2.CAP_PROP_POS_MSEC, t * 1000.0)
            grab(i, t)
            t1 = now()
            res["ms"].append((t1 - t0) * 1000)
            t0 = t1
    else:
        cap.set(cv2.CAP_PROP_POS_MSEC, times[0] * 1000.0)
        for n in range(a.run):
            grab(n, times[0] + n / a.fps)
        res["ms"].append((now() - t0) * 1000)
    cap.release()
    res["rss_kb"] = self_rss_kb()
    res["rss_how"] = "ru_maxrss"


def run_proc(argv, timeout):
    """Run argv; return (seconds, exit status, peak RSS in KiB of the child).
    The RSS is the child's ru_maxrss from wait4, the number /usr/bin/time -f %M
    prints, without another process in the timing."""
    t0 = now()
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE)
    deadline = t0 + timeout
    while True:
        pid, status, ru = os.wait4(p.pid, os.WNOHANG)
        if pid:
            break
        if now() > deadline:
            p.kill()
            pid, status, ru = os.wait4(p.pid, 0)
            break
        time.sleep(0.001)
    secs = now() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    err = p.stderr.read().decode(errors="replace").strip()
    p.stderr.close()
    return secs, p.returncode, ru.ru_maxrss, err


def time_ffmpeg(a, times, res):
    base = ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y"]
    rss = 0
    if a.run is None:
        for i, t in enumerate(times):
            path = os.path.join(a.out, f"{i:03d}.png")
            secs, rc, kb, err = run_proc(base + ["-ss", fmt_t(t), "-i", a.file, "-frames:v", "1",
                                                 "-compression_level", "1", path], a.timeout)
            res["ms"].append(secs * 1000)
            rss = max(rss, kb)
            if rc != 0 or not os.path.exists(path):
                res["errors"].append(f"-ss {fmt_t(t)}: exit {rc} {err[:200]}")
            else:
                res["outs"].append({"t": t, "png": path})
    else:
        t = times[0]
        pattern = os.path.join(a.out, "r%03d.png")
        secs, rc, kb, err = run_proc(base + ["-ss", fmt_t(t), "-i", a.file, "-frames:v", str(a.run),
                                             "-compression_level", "1", pattern],
                                     a.timeout * 4)
        res["ms"].append(secs * 1000)
        rss = kb
        if rc != 0:
            res["errors"].append(f"run -ss {fmt_t(t)}: exit {rc} {err[:200]}")
        for n in range(a.run):
            path = pattern % (n + 1)
            if os.path.exists(path):
                res["outs"].append({"t": t + n / a.fps, "png": path})
    res["rss_kb"] = rss
    res["rss_how"] = "wait4 ru_maxrss (= /usr/bin/time %M), max over processes"


def time_framefs(a, times, res):
    from concurrent.futures import ThreadPoolExecutor
    suffix = f",tol={a.tol}" if a.tol else ""
    if a.run is not None:
        times = [times[0] + n / a.fps for n in range(a.run)]
    jobs = [(i, t, f"t={fmt_t(t)}{suffix}.png") for i, t in enumerate(times)]

    def one(job):
        i, t, name = job
        src = os.path.join(a.file, name)
        dst = os.path.join(a.out, f"{i:03d}.png")
        t0 = now()
        try:
            fd = os.open(src, os.O_RDONLY)
            try:
                size = os.fstat(fd).st_size
                parts = []
                while True:
                    b = os.read(fd, max(size, 1 << 16))
                    if not b:
                        break
                    parts.append(b)
            finally:
                os.close(fd)
            data = parts[0] if len(parts) == 1 else b"".join(parts)
            t_read = now()
            with open(dst, "wb") as fh:
                fh.write(data)
            ok = len(data) > 0
            err = None if ok else "empty file"
        except OSError as e:
            ok, err = False, f"{name}: {e.strerror}"
            t_read = now()
        ms = (now() - t0) * 1000
        read_ms = (t_read - t0) * 1000
        actual = None
        try:
            actual = float(os.getxattr(src, "user.actual_time"))
        except (OSError, ValueError):
            pass
        return i, t, dst, ok, err, ms, actual, read_ms

    # the video is loaded and indexed before the timing, as the peers open
    # their file before theirs (a second pass finds it loaded already)
    try:
        os.getxattr(a.file, "user.duration")
    except OSError as e:
        res["errors"].append(f"getxattr user.duration: {e.strerror}")
    t0 = now()
    if a.readers > 1:
        with ThreadPoolExecutor(a.readers) as ex:
            done = list(ex.map(one, jobs))
    else:
        done = [one(j) for j in jobs]
        for _ in range(a.repeat - 1):
            done += [one(j) for j in jobs]
    wall = now() - t0
    res["read_ms"] = []
    for k, (i, t, dst, ok, err, ms, actual, read_ms) in enumerate(done):
        res["ms"].append(ms)
        res["read_ms"].append(read_ms)
        if k >= len(jobs):
            continue   # --repeat: the same PNGs again
        if ok:
            res["outs"].append({"t": t, "png": dst, "actual": actual})
        else:
            res["errors"].append(err)
    if a.run is not None or a.readers > 1:
        res["ms"] = [wall * 1000]
    res["rss_kb"] = vm_hwm_kb(a.pid) if a.pid else None
    res["rss_how"] = "VmHWM of the framefs process"


def cmd_time(a):
    times = [float(x) for x in a.times.split(",") if x != ""]
    os.makedirs(a.out, exist_ok=True)
    res = {"kind": "time", "file": os.path.basename(a.file.rstrip("/")), "pattern": a.pattern,
           "tool": a.tool, "n": a.run if a.run is not None else len(times),
           "per_frame": a.run is None and a.readers <= 1, "ms": [], "outs": [], "errors": [],
           "rss_kb": None, "tol": a.tol, "readers": a.readers}
    t0 = now()
    {"pyav": time_pyav, "opencv": time_opencv, "ffmpeg": time_ffmpeg,
     "framefs": time_framefs}[a.tool](a, times, res)
    res["wall_s"] = now() - t0
    with open(a.log, "a") as fh:
        fh.write(json.dumps(res) + "\n")
    if res["errors"]:
        print(f"  {a.tool} {a.pattern}: {len(res['errors'])} error(s), first: {res['errors'][0]}",
              file=sys.stderr)
    return 0


# ------------------------------------------------------------------ check
def load_log(path):
    out = []
    with open(path) as fh:
        for line in fh:
            line = line.strip()
            if line:
                out.append(json.loads(line))
    return out


def cmd_check(a):
    """Decode the file once (PyAV, sequentially), keep only the frames some
    PNG is to be compared with (and their neighbours, to say by how many
    frames a wrong one is off), and compare.  A PNG is right when it is
    identical to, or has PSNR >= 60 dB against, the frame on screen at its t
    (the last frame with pts <= t, t counted from the container's start and
    rounded to the time base, as framefs and ffmpeg -ss count it), converted
    with either matrix: BT.601 (PyAV's default, OpenCV's and the CLI's for
    an untagged file) or BT.709 (framefs's for an untagged HD file, as
    players do; README "Color").  The check is of which frame, not of
    colors."""
    import av
    import cv2
    import numpy as np
    name = os.path.basename(a.file)
    runs = [r for r in load_log(a.log) if r.get("kind") == "time" and r["file"] == name]
    container = av.open(a.file)
    stream = container.streams.video[0]
    stream.thread_type = "AUTO"
    tb = stream.time_base
    start = Fraction(container.start_time or 0, av.time_base)
    pts = sorted(p.pts for p in container.demux(stream) if p.pts is not None)
    container.close()
    if not pts:
        print(f"bench: check: no packets with pts in {name}", file=sys.stderr)
        return 1
    import bisect

    def on_screen(t):
        target = round((Fraction(t) + start) / tb)
        return max(0, bisect.bisect_right(pts, target) - 1)

    SPAN = 2
    checks = []  # (run index, out index, expected frame index)
    for ri, r in enumerate(runs):
        for oi, o in enumerate(r["outs"]):
            if r.get("tol") == "inf":
                # right = the frame framefs says it returned (user.actual_time)
                t = o.get("actual")
                exp = on_screen(t) if t is not None else None
            else:
                exp = on_screen(o["t"])
            checks.append((ri, oi, exp))
    need = set()
    for _, _, e in checks:
        if e is not None:
            need.update(range(max(0, e - SPAN), min(len(pts), e + SPAN + 1)))
    last = max(need) if need else -1
    frames = {}
    index_of = {p: i for i, p in enumerate(pts)}
    container = av.open(a.file)
    stream = container.streams.video[0]
    stream.thread_type = "AUTO"
    t0 = now()
    n_dec = 0
    for frame in container.decode(stream):
        n_dec += 1
        i = index_of.get(frame.pts)
        if i is None:
            continue
        if i in need:
            frames[i] = (frame.to_ndarray(format="rgb24"),
                         frame.reformat(format="rgb24", src_colorspace="ITU709").to_ndarray())
        if i >= last:
            break
    container.close()
    dec_s = now() - t0

    def psnr(x, ys):
        return max(psnr1(x, y) for y in ys)

    def psnr1(x, y):
        if x.shape != y.shape:
            return -1.0
        if np.array_equal(x, y):
            return float("inf")
        d = x.astype(np.int16) - y.astype(np.int16)
        mse = float(np.mean(d.astype(np.int32) ** 2))
        return 10 * np.log10(255.0 * 255.0 / mse)

    per_run = {}
    for ri, oi, exp in checks:
        r = runs[ri]
        st = per_run.setdefault(ri, {"right": 0, "wrong": {}, "checked": 0, "min_db": None})
        st["checked"] += 1
        if exp is None or exp not in frames:
            st["wrong"]["?"] = st["wrong"].get("?", 0) + 1
            continue
        img = cv2.imread(r["outs"][oi]["png"], cv2.IMREAD_COLOR)
        if img is None:
            st["wrong"]["unreadable"] = st["wrong"].get("unreadable", 0) + 1
            continue
        img = img[:, :, ::-1]
        db = psnr(img, frames[exp])
        if db >= 60:
            st["right"] += 1
            continue
        best, best_db = None, -1.0
        for k in range(exp - SPAN, exp + SPAN + 1):
            if k != exp and k in frames:
                d = psnr(img, frames[k])
                if d > best_db:
                    best, best_db = k, d
        key = f"{best - exp:+d}" if best is not None and best_db >= 60 else f"other({db:.0f}dB)"
        st["wrong"][key] = st["wrong"].get(key, 0) + 1
    with open(a.log, "a") as fh:
        for ri, st in per_run.items():
            r = runs[ri]
            fh.write(json.dumps({"kind": "check", "file": name, "pattern": r["pattern"],
                                 "tool": r["tool"], "right": st["right"], "n": r["n"],
                                 "wrong": st["wrong"]}) + "\n")
        fh.write(json.dumps({"kind": "refdecode", "file": name, "frames": n_dec,
                             "kept": len(frames), "s": dec_s}) + "\n")
    return 0


# ------------------------------------------------------------------ report
TOOLS = ["framefs", "pyav", "opencv", "ffmpeg"]
PATTERNS = [
    ("random", "1 random exact"),
    ("run", "2 consecutive"),
    ("every2s", "3 every 2 s"),
    ("cached", "4 cached"),
    ("exactmid", "5 exact mid-GOP"),
    ("tolinf", "5 tol=inf"),
    ("par4", "6 4 readers"),
]


def median(xs):
    xs = sorted(xs)
    n = len(xs)
    if not n:
        return None
    return xs[n // 2] if n % 2 else (xs[n // 2 - 1] + xs[n // 2]) / 2


def ms_per_frame(r):
    """Median per-frame ms for per-frame patterns; wall / frames for a run
    (one seek, or one process) and for concurrent readers."""
    if not r["ms"]:
        return None
    if r["pattern"] == "cached" and r.get("read_ms"):
        return median(r["read_ms"])   # serving the cached frame: open + read + close
    if r["per_frame"]:
        return median(r["ms"])
    return sum(r["ms"]) / max(1, r["n"])


def cmd_report(a):
    log = load_log(a.log)
    times = {(r["file"], r["pattern"], r["tool"]): r for r in log if r["kind"] == "time"}
    checks = {(r["file"], r["pattern"], r["tool"]): r for r in log if r["kind"] == "check"}
    files = []
    for r in log:
        if r["kind"] == "time" and r["file"] not in files:
            files.append(r["file"])
    res = {}
    for f in files:
        print(f"== {f}")
        print(f"  {'pattern':<17} {'tool':<8} {'frames':>6} {'ms/frame':>9} {'peer/ffs':>9} "
              f"{'peak RSS':>9} {'right':>7}  wrong ones (frames off)")
        for key, label in PATTERNS:
            if key == "run":
                label = f"2 {a.run_frames} consecutive"
            elif key == "every2s":
                label = f"3 every {a.every:g} s"
            base = times.get((f, key, "framefs"))
            base_ms = ms_per_frame(base) if base else None
            first = True
            for tool in TOOLS:
                r = times.get((f, key, tool))
                if not r:
                    continue
                ms = ms_per_frame(r)
                res[(f, key, tool)] = ms
                ratio = "-"
                if tool != "framefs" and ms is not None and base_ms:
                    ratio = f"{ms / base_ms:.2f}"
                if key == "par4" and ms is not None:
                    sq = times.get((f, "random", "framefs"))
                    sq_ms = ms_per_frame(sq) if sq else None
                    if sq_ms:
                        ratio = f"{ms / sq_ms:.2f}x seq"
                if key == "tolinf" and ms is not None:
                    ex = times.get((f, "exactmid", "framefs"))
                    ex_ms = ms_per_frame(ex) if ex else None
                    if ex_ms:
                        ratio = f"{ms / ex_ms:.2f}x ex"
                rss = f"{r['rss_kb'] / 1024:.0f} MiB" if r.get("rss_kb") else "?"
                c = checks.get((f, key, tool))
                right = f"{c['right']}/{r['n']}" if c else "?"
                wrong = ""
                if c and c["wrong"]:
                    wrong = ", ".join(f"{k} x{v}" for k, v in sorted(c["wrong"].items()))
                missing = r["n"] - len(r["outs"])
                if missing:
                    wrong = (wrong + ", " if wrong else "") + f"{missing} not produced"
                mstxt = f"{ms:9.1f}" if ms is not None else f"{'-':>9}"
                print(f"  {label if first else '':<17} {tool:<8} {r['n']:>6} {mstxt} {ratio:>9} "
                      f"{rss:>9} {right:>7}  {wrong}")
                first = False
        print()
    return res, times, log


def cmd_goals(a):
    res, times, log = cmd_report(a)
    f = a.main_file

    def g(key, tool):
        return res.get((f, key, tool))

    def ratio(key, tool):
        x, y = g(key, tool), g(key, "framefs")
        return None if x is None or not y else x / y

    rows = []

    def goal(text, value, ok, shown):
        rows.append((text, shown if value is not None else "not measured",
                     "-" if value is None else ("met" if ok else "NOT met")))

    v = ratio("random", "pyav")
    goal("random exact >= 2.5x faster than PyAV", v, v is not None and v >= 2.5, f"{v:.2f}x" if v else "")
    v = ratio("random", "ffmpeg")
    goal("random exact >= 3x faster than the ffmpeg CLI", v, v is not None and v >= 3,
         f"{v:.2f}x" if v else "")
    v = ratio("run", "ffmpeg")
    goal(f"{a.run_frames} consecutive >= 1.5x faster than one CLI process", v,
         v is not None and v >= 1.5, f"{v:.2f}x" if v else "")
    v = ratio("every2s", "pyav")
    goal(f"one frame every {a.every:g} s >= 2.5x faster than PyAV", v, v is not None and v >= 2.5,
         f"{v:.2f}x" if v else "")
    v = g("cached", "framefs")
    c = times.get((f, "cached", "framefs"))
    cw = median(c["ms"]) if c and c["ms"] else None
    goal("cached 1080p frame <= 1 ms (open+read+close)", v, v is not None and v <= 1.0,
         f"{v:.2f} ms ({cw:.2f} with the copy written)" if v and cw else "")
    x, y = g("tolinf", "framefs"), g("exactmid", "framefs")
    v = x / y if x is not None and y else None
    goal("tol=inf <= 0.15x of an exact mid-GOP read", v, v is not None and v <= 0.15,
         f"{v:.2f}x ({x:.0f} / {y:.0f} ms)" if v else "")
    peak = [r["rss_kb"] for r in log if r["kind"] == "time" and r["tool"] == "framefs" and r.get("rss_kb")]
    bound = a.cache_bytes / 1024 + 64 * 1024 * a.workers
    v = max(peak) if peak else None
    goal(f"framefs peak RSS <= cache_size + 64 MiB x {a.workers} workers ({bound / 1024:.0f} MiB)",
         v, v is not None and v <= bound, f"{v / 1024:.0f} MiB" if v else "")
    print(f"== goals ({f})")
    w = max(len(r[0]) for r in rows)
    for text, shown, ok in rows:
        print(f"  {text:<{w}}  {shown:<34} {ok}")
    nmet = sum(1 for r in rows if r[2] == "met")
    print(f"  {nmet}/{len(rows)} met")
    bad = sum(1 for r in log if r["kind"] == "check" and r["tool"] == "framefs" and r["right"] != r["n"])
    return 0 if bad == 0 else 3


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("time")
    t.add_argument("tool", choices=TOOLS)
    t.add_argument("pattern")
    t.add_argument("--file", required=True, help="video (framefs: its directory on the mount)")
    t.add_argument("--out", required=True)
    t.add_argument("--times", required=True, help="comma-separated seconds (a run: its start)")
    t.add_argument("--run", type=int, help="consecutive frames from the first time")
    t.add_argument("--fps", type=float, default=30.0)
    t.add_argument("--tol", default="")
    t.add_argument("--readers", type=int, default=1)
    t.add_argument("--repeat", type=int, default=1, help="framefs: read the names this many times")
    t.add_argument("--pid", type=int, help="framefs pid (for VmHWM)")
    t.add_argument("--timeout", type=float, default=60.0)
    t.add_argument("--log", required=True)
    c = sub.add_parser("check")
    c.add_argument("--log", required=True)
    c.add_argument("--file", required=True)
    r = sub.add_parser("report")
    r.add_argument("--log", required=True)
    r.add_argument("--main-file", required=True)
    r.add_argument("--cache-bytes", type=int, required=True)
    r.add_argument("--workers", type=int, required=True)
    r.add_argument("--run-frames", type=int, default=60)
    r.add_argument("--every", type=float, default=2.0)
    a = ap.parse_args()
    if a.cmd == "time":
        return cmd_time(a)
    if a.cmd == "check":
        return cmd_check(a)
    return cmd_goals(a)


if __name__ == "__main__":
    rc = main()
    sys.stdout.flush()
    sys.stderr.flush()
    # no interpreter shutdown: PyAV with frame threads can hang in it when a
    # decode generator was left unfinished
    os._exit(rc)
