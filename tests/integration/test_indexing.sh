#!/usr/bin/env bash
# Bounded indexing (issue "hostile media": indexing checks cancellation and
# shutdown at every packet; waiting for another request's index holds no
# worker).  The big unindexed file: the 1080p single-keyframe H.264 of
# test_cancel (900 frames) as a raw Annex B stream, big.h264: raw H.264
# carries no timestamps, so indexing it decodes all of it (seconds).
#
#  1. workers=2; three readers of big.h264 start its indexing (one loads,
#     two are parked).  Meanwhile getfattr on another video answers in under
#     500 ms and its frames keep coming (pixels against the oracle).  All
#     three readers then get their frame.
#  2. A fresh mount: two readers start the indexing, both are killed: after
#     a 1 s grace framefs uses no CPU (< 0.15 s in 0.5 s); the name asked
#     again succeeds (the index starts afresh).
#  3. A fresh mount: SIGTERM while indexing: framefs exits within 1 s.
. "$(dirname "$0")/../lib.sh"

require_framefs

SRC=$WORK/src
MNT=$WORK/mnt
mkdir -p "$SRC"

slow=$(ensure_slow_video) || exit 1
if ! ffmpeg -nostdin -hide_banner -loglevel error -y -i "$slow" -c copy -bsf:v h264_mp4toannexb \
        -f h264 "$SRC/big.h264" </dev/null; then
    fail "cannot make big.h264"
    exit 1
fi
ensure_video "$EXTRA_MEDIA/small.webm" -f lavfi -i testsrc2=size=320x240:rate=25:duration=3 \
    -c:v libvpx-vp9 -deadline realtime -cpu-used 8 -b:v 300k -g 25 -pix_fmt yuv420p -an || exit 1
ln -f "$EXTRA_MEDIA/small.webm" "$SRC/small.webm" 2>/dev/null || cp "$EXTRA_MEDIA/small.webm" "$SRC/small.webm"
small_oracle=$(oracle_of "$SRC/small.webm") || exit 1
read -r SMALL_T SMALL_MD5 <<<"$(awk '!/^#/ && $1 == 30 { print $5, $7 }' "$small_oracle")"
read -r SMALL_T2 SMALL_MD52 <<<"$(awk '!/^#/ && $1 == 60 { print $5, $7 }' "$small_oracle")"

png_md5() { "$PNG2RAW" "$1" 2>/dev/null | md5sum | cut -d' ' -f1; }

# start_readers N NAME: N background cats of big.h264/NAME; READERS holds the pids.
start_readers() {
    READERS=()
    for ((i = 0; i < $1; i++)); do
        env --default-signal=INT cat "$MNT/big.h264/$2" >"$WORK/r$i.png" 2>"$WORK/r$i.err" &
        READERS+=($!)
    done
}

# timed LABEL LIMIT_MS CMD...: run CMD, pass when it succeeds within LIMIT_MS.
timed() {
    local label=$1 limit=$2 t0 ms
    shift 2
    t0=$(now_ms)
    if t "$@" >"$WORK/timed.out" 2>&1; then
        ms=$(($(now_ms) - t0))
        if [ "$ms" -le "$limit" ]; then
            pass "$label: answered in ${ms} ms while big.h264 is being indexed"
        else
            fail "$label: took ${ms} ms while big.h264 is being indexed (limit ${limit} ms)"
        fi
    else
        fail "$label: failed while big.h264 is being indexed: $(head -c 200 "$WORK/timed.out")"
    fi
}

# ---------------------------------------------------------------- 1. latency

mount_framefs "$SRC" "$MNT" "workers=2" || exit 1
PID=$MOUNT_PID
t cat "$MNT/small.webm/t=0.png" >/dev/null 2>&1 || fail "small.webm/t=0.png"
t0=$(now_ms)
start_readers 3 "t=29.png"
busy=$(cpu_over "$PID" 0.4)
if lt "$busy" 0.1; then
    fail "framefs used only ${busy} s CPU in the first 0.4 s: is big.h264 being indexed at all?"
fi
timed "getfattr user.duration of small.webm" 500 getfattr -n user.duration "$MNT/small.webm"
timed "small.webm/t=$SMALL_T.png" 500 cp "$MNT/small.webm/t=$SMALL_T.png" "$WORK/s1.png"
[ "$(png_md5 "$WORK/s1.png")" = "$SMALL_MD5" ] && pass "small.webm/t=$SMALL_T.png: the oracle's pixels" ||
    fail "small.webm/t=$SMALL_T.png: not the oracle's pixels"
timed "small.webm/t=$SMALL_T2.png" 500 cp "$MNT/small.webm/t=$SMALL_T2.png" "$WORK/s2.png"
[ "$(png_md5 "$WORK/s2.png")" = "$SMALL_MD52" ] && pass "small.webm/t=$SMALL_T2.png: the oracle's pixels" ||
    fail "small.webm/t=$SMALL_T2.png: not the oracle's pixels"
ok=0
for i in "${!READERS[@]}"; do
    if wait_pid "${READERS[$i]}" "$OP_TIMEOUT" && [ "$WAIT_STATUS" = 0 ] && [ -s "$WORK/r$i.png" ]; then
        ok=$((ok + 1))
    else
        note "reader $i: status $WAIT_STATUS: $(head -c 200 "$WORK/r$i.err")"
    fi
done
ms=$(($(now_ms) - t0))
[ "$ok" = 3 ] && pass "the 3 readers of big.h264 got their frame (indexed once and decoded in ${ms} ms)" ||
    fail "only $ok of 3 readers of big.h264 got their frame"
cmp -s "$WORK/r0.png" "$WORK/r1.png" && cmp -s "$WORK/r0.png" "$WORK/r2.png" &&
    pass "the 3 readers got the same bytes" || fail "the 3 readers got different bytes"
d=$(xattr_get "$MNT/big.h264" user.duration)
awk -v d="$d" 'BEGIN { exit !(d > 29.9 && d < 30.1) }' && pass "big.h264: user.duration $d" ||
    fail "big.h264: user.duration '$d', want 30"
unmount_framefs "$MNT"

# ---------------------------------------------------------------- 2. cancel

mount_framefs "$SRC" "$MNT" "workers=2" || exit 1
PID=$MOUNT_PID
start_readers 2 "t=29.png"
busy=$(cpu_over "$PID" 0.4)
kill -KILL "${READERS[@]}" 2>/dev/null
for p in "${READERS[@]}"; do wait_pid "$p" 3 || fail "a killed reader is still there"; done 2>/dev/null
sleep 1
cpu=$(cpu_over "$PID" 0.5)
note "indexing: ${busy} s CPU in 0.4 s; after killing both readers and 1 s: ${cpu} s in 0.5 s"
lt 0.1 "$busy" || fail "framefs used only ${busy} s CPU while indexing: nothing to cancel, the test proves nothing"
if lt "$cpu" 0.15; then
    pass "indexing stopped when every reader waiting on it was killed (${cpu} s CPU in 0.5 s)"
else
    fail "indexing went on after every reader was killed: ${cpu} s CPU in 0.5 s"
fi
if t cat "$MNT/big.h264/t=1.png" >"$WORK/again.png" 2>"$WORK/again.err" && [ -s "$WORK/again.png" ]; then
    pass "big.h264/t=1.png asked again after the cancel succeeds (indexed afresh)"
else
    fail "big.h264/t=1.png asked again fails: $(head -c 200 "$WORK/again.err")"
fi
unmount_framefs "$MNT"

# ---------------------------------------------------------------- 3. SIGTERM

mount_framefs "$SRC" "$MNT" "workers=2" || exit 1
PID=$MOUNT_PID
start_readers 1 "t=29.png"
sleep 0.4
mount_forget "$PID"
t0=$(now_ms)
kill -TERM "$PID"
while _running "$PID" && [ $(($(now_ms) - t0)) -lt 5000 ]; do sleep 0.01; done
ms=$(($(now_ms) - t0))
if _running "$PID"; then
    fail "SIGTERM during indexing: framefs still runs after 5 s"
elif [ "$ms" -le 1000 ]; then
    pass "SIGTERM during indexing: framefs exited after ${ms} ms"
else
    fail "SIGTERM during indexing: framefs took ${ms} ms to exit (limit 1000)"
fi
wait "$PID" 2>/dev/null
mount_reap "$PID" "$MNT"
wait_pid "${READERS[0]}" 3 || { fail "the reader still hangs after framefs exited"; kill -KILL "${READERS[0]}"; }

[ "$(failures)" -eq 0 ]
