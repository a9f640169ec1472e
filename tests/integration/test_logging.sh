#!/usr/bin/env bash
# Logging: in the foreground errors go to stderr, one line per failed request
# (video, name, reason); successes are silent unless -o verbose, which logs
# each produced frame with its timings; FFmpeg's messages come through the
# same place with their level; daemonized, lines go to syslog (checked with
# a /dev/log of the test's own when the machine has none).
. "$(dirname "$0")/../lib.sh"

require_framefs
SRC=$WORK/src
mkdir -p "$SRC"
ffmpeg -nostdin -loglevel error -f lavfi -i testsrc2=s=160x120:r=25:d=2 -c:v libx264 \
    -pix_fmt yuv420p "$SRC/clip.mp4" || { fail "cannot make clip.mp4"; exit 1; }
# moov at the end (no faststart), cut off: the mov demuxer says "moov atom not found"
head -c "$(( $(stat -c %s "$SRC/clip.mp4") / 2 ))" "$SRC/clip.mp4" >"$SRC/junk.mp4"

# ---- foreground, default: errors only ----
MNT=$WORK/mnt
mount_framefs "$SRC" "$MNT" || exit 1
LOG1=$MOUNT_LOG
t cat "$MNT/clip.mp4/t=1.png" >/dev/null
t cat "$MNT/clip.mp4/t=1.png" >/dev/null
t stat "$MNT/clip.mp4/t=9.png" >/dev/null 2>&1
sleep 0.3
n_err=$(grep -c '^framefs: error: clip.mp4/t=9.png: time 9.000000 is past the end' "$LOG1")
n_all=$(grep -c '^framefs: ' "$LOG1")
[ "$n_err" -eq 1 ] && [ "$n_all" -eq 1 ] &&
    pass "one stderr line for the failed request (video, name, reason), none for successes: $(grep '^framefs: ' "$LOG1")" ||
    fail "stderr after 2 good reads and 1 failed one: $n_err matching of $n_all lines: $(head -c 400 "$LOG1")"
t stat "$MNT/junk.mp4/t=0.png" >/dev/null 2>&1
sleep 0.3
grep -q '^framefs: error: junk.mp4/t=0.png: ' "$LOG1" &&
    pass "a broken video's failed frame is logged: $(grep 'junk.mp4/t=0.png' "$LOG1" | head -1)" ||
    fail "no line for junk.mp4/t=0.png: $(head -c 400 "$LOG1")"
grep -qE '^framefs: error: ffmpeg: \[[a-z0-9_,]+ @ 0x[0-9a-f]+|^framefs: error: ffmpeg: \[[a-zA-Z0-9_, ]+\] ' "$LOG1" &&
    pass "FFmpeg's own message routed with its level: $(grep 'ffmpeg: ' "$LOG1" | head -1)" ||
    fail "no FFmpeg message in the log: $(head -c 400 "$LOG1")"
unmount_framefs "$MNT"

# ---- -o verbose: one line per produced frame, with timings ----
FRAMEFS_ARGS=()
mount_framefs "$SRC" "$MNT" verbose || exit 1
LOG2=$MOUNT_LOG
t cat "$MNT/clip.mp4/t=1.5,w=80.jpg" >/dev/null
t cat "$MNT/clip.mp4/t=1.5,w=80.jpg" >/dev/null      # cached: no new line
sleep 0.3
line=$(grep '^framefs: info: clip.mp4/t=1.5,w=80.jpg: ' "$LOG2")
n=$(grep -c '^framefs: info: clip.mp4/t=1.5,w=80.jpg: ' "$LOG2")
if [ "$n" -eq 1 ] && [[ $line =~ frame\ at\ 1\.480000,\ 80x60,\ [0-9]+\ bytes:\ index\ [0-9.]+\ ms,\ seek\ [0-9.]+\ ms,\ decode\ [0-9.]+\ ms,\ convert\ [0-9.]+\ ms,\ encode\ [0-9.]+\ ms ]]; then
    pass "-o verbose: one line for the produced frame with its timings: $line"
else
    fail "-o verbose: $n lines for the frame: $(head -c 400 "$LOG2")"
fi
unmount_framefs "$MNT"

# ---- daemonized: syslog ----
if [ -e /dev/log ]; then
    skip "syslog: /dev/log exists (the system's logger); not reading it"
else
    SYSLOG=$WORK/syslog.txt
    /usr/bin/python3 - "$SYSLOG" <<'PY' &
import os, socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("/dev/log")
s.settimeout(0.2)
end = time.time() + 20
with open(sys.argv[1], "ab", buffering=0) as out:
    while time.time() < end and not os.path.exists(sys.argv[1] + ".stop"):
        try:
            out.write(s.recv(4096) + b"\n")
        except socket.timeout:
            pass
os.unlink("/dev/log")
PY
    LISTENER=$!
    for _ in $(seq 50); do [ -S /dev/log ] && break; sleep 0.1; done
    "$FRAMEFS" "$SRC" "$MNT" 2>"$WORK/daemon.err"
    DPID=""
    for p in $(pgrep -x framefs); do
        tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | grep -qF " $MNT" && DPID=$p
    done
    t stat "$MNT/clip.mp4/t=7.png" >/dev/null 2>&1
    sleep 0.5
    timeout 10 fusermount3 -u "$MNT"
    for _ in $(seq 50); do [ -n "$DPID" ] && kill -0 "$DPID" 2>/dev/null || break; sleep 0.1; done
    [ -n "$DPID" ] && kill -0 "$DPID" 2>/dev/null && kill "$DPID"
    touch "$SYSLOG.stop"
    wait "$LISTENER"
    grep -qE "framefs\[[0-9]+\]: clip.mp4/t=7.png: time 7.000000 is past the end" "$SYSLOG" &&
        pass "daemonized: the failed request went to syslog: $(grep -m1 't=7.png' "$SYSLOG")" ||
        fail "daemonized: syslog got: $(head -c 400 "$SYSLOG" | tr -d '\0'); stderr: $(head -c 200 "$WORK/daemon.err")"
    [ ! -s "$WORK/daemon.err" ] && pass "daemonized: nothing on stderr" ||
        fail "daemonized: stderr: $(head -c 200 "$WORK/daemon.err")"
fi

[ "$(failures)" -eq 0 ]
