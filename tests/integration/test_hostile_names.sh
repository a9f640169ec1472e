#!/usr/bin/env bash
# Hostile names (SPEC "Frame names": names that are not valid do not exist,
# ENOENT).  A fixed-seed generator makes ~3000 names: control bytes (all but
# NUL and '/'), invalid UTF-8, unicode look-alikes (fullwidth digits, Arabic
# digits, RTL override, zero-width space, combining marks), spaces, signs,
# exponents, nan/inf/-0 in t, 1e308 spelled out (309 digits) and 400-digit
# numbers, 249-digit numbers that still fit in 255 bytes, names of exactly
# 255 and 256 bytes, 1000-4000 byte names, repeated keys, keys and extensions
# in upper case, empty parameters, and random mutations of valid names plus
# plain random bytes.  Each is looked up (stat) in a video directory, in a
# failed video directory and (a sample) at the root.  The expected answer
# comes from the grammar in the README / fs/name.h, written independently in
# Python here: a valid name of at most 255 bytes exists (user.result
# succeeded or failed); an invalid one is ENOENT; a longer one is ENOENT or
# ENAMETOOLONG.  No other errno, ever; the mount stays up and a valid frame
# still matches the oracle.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../lib_robust.sh"

require_framefs
ensure_media

if ! find_python; then
    skip "hostile names: no python3"
    exit 0
fi

SRC=$WORK/src
MNT=$WORK/mnt
mkdir -p "$SRC/plain"
cp "$MEDIA_DIR/h264_bframes.mp4" "$SRC/clip.mp4"
: >"$SRC/broken.mkv"
mount_framefs "$SRC" "$MNT" || exit 1

cat >"$WORK/names.py" <<'PY'
import errno, os, random, re, sys, time

SEED = int(os.environ.get("SEED", "20240611"))
directory = os.fsencode(sys.argv[1])
limit = int(sys.argv[2])           # how many names to try (0: all)
rng = random.Random(SEED)

# ---- the grammar (README "Frame names", fs/name.h), independently
SECONDS = re.compile(rb"[0-9]+(?:\.[0-9]+)?|\.[0-9]+")
CLOCK2 = re.compile(rb"([0-9]+):([0-9]{1,2})(?:\.[0-9]+)?")
CLOCK3 = re.compile(rb"([0-9]+):([0-9]{1,2}):([0-9]{1,2})(?:\.[0-9]+)?")

def valid_time(v):
    if SECONDS.fullmatch(v):
        return True
    m = CLOCK2.fullmatch(v)
    if m:
        return int(m.group(2)) < 60
    m = CLOCK3.fullmatch(v)
    if m:
        return int(m.group(2)) < 60 and int(m.group(3)) < 60
    return False

def valid_tol(v):
    return v == b"inf" or SECONDS.fullmatch(v) is not None

def valid(name):
    if len(name) > 255 or not name.endswith(b".png"):
        return False
    stem = name[:-4]
    if not stem:
        return False
    seen = set()
    for param in stem.split(b","):
        if b"=" not in param:
            return False
        key, value = param.split(b"=", 1)
        if key in seen or len(value) > 1024:
            return False
        seen.add(key)
        if key == b"t":
            ok = valid_time(value)
        elif key in (b"tol", b"before", b"after"):
            ok = valid_tol(value)
        else:
            ok = False
        if not ok:
            return False
    return b"t" in seen

# ---- the names
names = []
def add(n):
    if isinstance(n, str):
        n = n.encode("utf-8")
    if n in (b"", b".", b"..") or b"/" in n or b"\0" in n:
        return
    names.append(n)

for c in list(range(1, 32)) + [127]:
    b = bytes([c])
    for n in (b, b"t=1" + b + b".png", b"t=" + b + b"1.png", b + b"t=1.png", b"t=1.png" + b,
              b"t=1," + b + b"tol=1.png", b"t=1.pn" + b + b"g"):
        add(n)
for c in range(128, 256):
    add(b"t=1" + bytes([c]) + b".png")
    add(bytes([c]))
for n in (b"\xff\xfe", b"t=\xc0\xae1.png", b"t=1\xed\xa0\x80.png", b"\xef\xbb\xbft=1.png"):
    add(n)
big308 = "1" + "0" * 308
words = ["nan", "NaN", "NAN", "-nan", "inf", "INF", "Inf", "-inf", "+inf", "infinity", "Infinity",
         "-0", "+0", "-0.0", "0.0e0", "-1", "+1", "1e308", "1e309", "1E3", "1e-5", "0x10", "0x1p3",
         "1_000", "1,5", "1..5", "1.", ".", "..", "", " 1", "1 ", "\u00a01", "1\u200b", "\u0661",
         "\uff11", "\uff11.5", "1\u0301", "\u202e1", "\u2024" "5", "1\uff0e5", "0b1", "1/2", "1:60",
         "1:2:3:4", "1::2", ":1", "1:", "00:60.5", "1:001:00", "99999999999999999999999",
         big308, "9" * 400, "0." + "0" * 400 + "1", "1" * 249, "0" * 248 + "1", "." + "5" * 248,
         "18446744073709551616", "9223372036854775808", "4294967296.000001", "1e-400",
         "\U0001F600", "t", "t=1", "=", ","]
for w in words:
    for form in ("t=%s.png", "t=1,tol=%s.png", "t=1,before=%s.png", "t=1,after=%s.png",
                 "t=%s,tol=inf.png", "tol=%s,t=1.png"):
        add(form % w)
for n in ("T=1.png", "t=1.PNG", "t=1.Png", "TOL=1,t=1.png", "t=1,TOL=1.png", "t=1,Tol=1.png",
          "t=1,BEFORE=1.png", "t=1,After=1.png", "t=1,t=1.png", "t=1,t=2.png", "t=1,tol=1,tol=1.png",
          "t=1,before=0,before=0.png", "t=1,after=1,after=1.png", "tol=1,tol=2,t=1.png",
          "t=1,tol=1,before=1,after=1,tol=1.png", "=1.png", ".png", "t=.png", "t=1,.png", ",t=1.png",
          "t=1,,tol=1.png", "t==1.png", "t=1=1.png", "t=1,=.png", "t 1.png", "t= 1.png",
          "t=1 .png", " t=1.png", "t=1.png ", "t =1.png", "t=1, tol=1.png", "t=1,tol =1.png",
          "t=1.png.png", "t=1.gif", "t=1.png.", "t=1.pngx", "t=1png", "t=1", "t=1.", "png",
          "\uff54=1.png", "t\uff1d1.png", "t=1\uff0epng", "t=1.\uff50ng", "t=1.png\u200b",
          "t\u0301=1.png", "\u202et=1.png", "t=\U0001F600.png", "t=1,\u00e9=1.png", "..png", "...",
          "t=1,tol=inf,before=inf,after=inf.png", "t=00:00:00.000001.png", "t=1:59:59.999.png"):
    add(n)

# exactly 255 and 256 bytes, valid grammar and not, and much longer
for length in (254, 255, 256, 257, 300, 1000, 1023, 1024, 1025, 2000, 4000):
    pad = length - len("t=.png")
    add("t=" + "0" * (pad - 1) + "1" + ".png")            # leading zeros
    add("t=0." + "0" * (pad - 3) + "1" + ".png")          # a long fraction
    add("x" * length)
    add("t=1," + "tol=1," * ((length - 8) // 6) + ".png")  # repeated keys
    add("\u00e9" * (length // 2))                          # 2-byte characters

# random mutations of valid names
bases = [b"t=1.png", b"t=1.5,tol=0.1.png", b"t=00:00:01.250.png", b"t=2,before=0,after=0.5.png",
         b"t=3,tol=inf.png", b"tol=1,t=2.png", b"t=.5.png", b"t=007.png", b"t=1:02.png",
         b"t=0.041667.png", b"after=inf,before=0.25,t=3.9.png"]
alphabet = bytes(range(1, 256)).replace(b"/", b"")
special = b" ,=.:-+eE0123456789tolbeforeaftinfnapgPNGT\t\n\x7f\xff"
while len(names) < 2200:
    n = bytearray(rng.choice(bases))
    for _ in range(rng.randint(1, 3)):
        op = rng.randrange(6)
        i = rng.randrange(len(n) + 1)
        ch = rng.choice(special if rng.random() < 0.7 else alphabet)
        if op == 0:
            n[i:i] = bytes([ch])
        elif op == 1 and len(n) > 1:
            del n[min(i, len(n) - 1)]
        elif op == 2 and len(n) > 0:
            n[min(i, len(n) - 1)] = ch
        elif op == 3:
            n[i:i] = rng.choice([b",t=1", b",tol=1", b",before=0", b",after=inf", b",x=1", b",", b"="])
        elif op == 4:
            n = bytearray(bytes(n).swapcase())
        else:
            n[i:i] = rng.choice([b"0" * rng.randint(1, 300), b"9" * rng.randint(1, 300), b"."])
    add(bytes(n))
# random structured names
keys = [b"t", b"tol", b"before", b"after", b"T", b"x", b"", b"tt", b"t ", b"TOL", b"time"]
values = [b"1", b"0", b"3.999", b"4", b"100000", b".5", b"inf", b"nan", b"-1", b"1e3", b"00:01",
          b"1:60", b"", b" ", b"0.0000001", b"9" * 200, b"1\x01", b"\xff", b"1,5"]
exts = [b".png", b".png", b".png", b".PNG", b".gif", b"", b".png.png", b".pn", b".png\n"]
while len(names) < 2700:
    params = [rng.choice(keys) + b"=" + rng.choice(values) for _ in range(rng.randint(1, 4))]
    add(b",".join(params) + rng.choice(exts))
# plain random bytes
while len(names) < 3000:
    add(bytes(rng.choice(alphabet) for _ in range(rng.randint(1, 300))))

if limit:
    rng.shuffle(names)
    names = names[:limit]

# ---- look them up
counts = {}
bad = []
ex_valid = ex_invalid = ex_long = 0
t0 = time.time()
for n in names:
    path = directory + b"/" + n
    try:
        os.stat(path)
        got = "ok"
    except OSError as e:
        got = errno.errorcode.get(e.errno, str(e.errno))
    if len(n) > 255:
        want = ("ENOENT", "ENAMETOOLONG")
        ex_long += 1
    elif valid(n):
        want = ("ok",)
        ex_valid += 1
    else:
        want = ("ENOENT",)
        ex_invalid += 1
    counts[got] = counts.get(got, 0) + 1
    if got == "ok" and got in want:
        try:
            r = os.getxattr(path, "user.result")
            if r not in (b"succeeded", b"failed"):
                bad.append((n, "user.result %r" % r))
        except OSError as e:
            bad.append((n, "getxattr user.result: %s" % errno.errorcode.get(e.errno, e.errno)))
    elif got not in want:
        bad.append((n, "%s, want %s" % (got, " or ".join(want))))
elapsed = time.time() - t0
print("  %d names in %.1f s: %d valid (<= 255 bytes), %d invalid, %d longer than 255; answers %s"
      % (len(names), elapsed, ex_valid, ex_invalid, ex_long,
         ", ".join("%s=%d" % kv for kv in sorted(counts.items()))))
for n, why in bad[:15]:
    shown = repr(n) if len(n) <= 80 else repr(n[:60]) + "...(%d bytes)" % len(n)
    print("  wrong: %s: %s" % (shown, why))
if len(bad) > 15:
    print("  ... %d more" % (len(bad) - 15))
sys.exit(1 if bad else 0)
PY

# run_names LABEL DIR LIMIT
run_names() {
    local out st
    out=$(OP_TIMEOUT=120 t "$PYTHON" "$WORK/names.py" "$2" "$3" 2>&1)
    st=$?
    printf '%s\n' "$out" | grep -v '^  wrong\|^  \.\.\.'
    case $st in
    0) pass "$1: every name gave the answer the grammar says (exists / ENOENT / ENAMETOOLONG)" ;;
    1) printf '%s\n' "$out" | grep '^  wrong\|^  \.\.\.'
       fail "$1: some names gave the wrong answer (above)" ;;
    *) fail "$1: the checker did not finish (status $st): $(printf '%s' "$out" | tail -n 3 | tr '\n' ' ')" ;;
    esac
}

run_names "3000 hostile names in a video directory" "$MNT/clip.mp4" 0
mount_alive "$MNT" || exit 1
run_names "hostile names in a failed video directory (sample of 800)" "$MNT/broken.mkv" 800
mount_alive "$MNT" || exit 1

# At the root and in a plain directory nothing but the real entries exists:
# every generated name is ENOENT (or ENAMETOOLONG when long).
out=$(OP_TIMEOUT=60 t "$PYTHON" -c '
import errno, os, random, sys
rng = random.Random(7)
alphabet = bytes(range(1, 256)).replace(b"/", b"")
bad = 0
for d in sys.argv[1:]:
    for i in range(300):
        n = bytes(rng.choice(alphabet) for _ in range(rng.randint(1, 300)))
        if n in (b".", b".."):
            continue
        n = n if i % 3 else b"t=%d.png" % i
        try:
            os.stat(os.fsencode(d) + b"/" + n)
            e = "ok"
        except OSError as x:
            e = errno.errorcode.get(x.errno, str(x.errno))
        if e not in ("ENOENT", "ENAMETOOLONG") or (e == "ENAMETOOLONG" and len(n) <= 255):
            print("  wrong: %r in %s: %s" % (n[:60], d, e)); bad += 1
sys.exit(1 if bad else 0)' "$MNT" "$MNT/plain" 2>&1)
check $? "600 random names at the root and in a plain directory: all ENOENT (ENAMETOOLONG when > 255 bytes)${out:+: $out}"

# Still alive, and a valid frame is still right.
mount_alive "$MNT" || exit 1
oracle=$(oracle_of "$MEDIA_DIR/h264_bframes.mp4") || exit 1
idx=$(echo "x x 2.5 0 0" | oracle_expect "$oracle" | cut -d' ' -f4)
frame_is "clip.mp4/t=2.5.png after the hostile names" "$MNT/clip.mp4/t=2.5.png" "$oracle" "$idx"
t ls "$MNT/clip.mp4" >/dev/null 2>&1
check $? "ls of the video directory still works"
unmount_framefs "$MNT" && pass "unmount: framefs exited 0 after the hostile names"
