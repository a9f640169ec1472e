#!/usr/bin/env bash
# Cancellation (SPEC "Cancellation"): a read whose caller gives up stops the
# decode it waited for, unless another request waits for the same frame.
#
# The slow frame: the last frame of a 1920x1080 H.264 with a single keyframe
# (30 s at 30 fps, -g 1000): producing it decodes 900 frames from the start,
# which takes seconds (1.7 s on an idle 2-CPU machine: framefs decodes with
# two frame threads).  framefs's CPU time (utime + stime of all its threads,
# /proc/PID/stat) tells whether a decode is running.
#
#  1. workers=1.  `cat` of the slow frame; after 0.3 s SIGINT; after a 0.1 s
#     grace framefs must use < CANCEL_MAX_CPU (0.15 s) of CPU in the next
#     0.5 s; cat ends; the (only) worker is free: a small frame of another
#     video comes back within 0.5 s; the same name, asked again, succeeds with
#     the oracle's pixels.  Again with SIGKILL on another slow frame.
#  2. A fresh mount: the slow frame uncancelled, timed (D), with the CPU in
#     the same window as a control (it must look busy: the measurement can
#     tell a running decode from a stopped one).
#  3. A fresh mount, two readers of the same frame under two spellings; at
#     0.5 D one is killed: the first (the producer), then on another frame
#     the second (a waiter).  The decode must not stop: CPU stays busy in
#     the 0.5 s after the kill, and the other reader gets the oracle's frame
#     in about D (not 1.5 D: restarted from the keyframe).
. "$(dirname "$0")/../lib.sh"

require_framefs

MAX_CPU=${CANCEL_MAX_CPU:-0.15}
SRC=$WORK/src
MNT=$WORK/mnt

slow=$(ensure_slow_video) || exit 1
ensure_video "$EXTRA_MEDIA/small.webm" -f lavfi -i testsrc2=size=320x240:rate=25:duration=3 \
    -c:v libvpx-vp9 -deadline realtime -cpu-used 8 -b:v 300k -g 25 -pix_fmt yuv420p -an || exit 1
mkdir -p "$SRC"
# (hard links: framefs hides symlinks that leave SOURCE_DIR)
ln -f "$slow" "$SRC/slow1080.mp4" 2>/dev/null || cp "$slow" "$SRC/slow1080.mp4"
ln -f "$EXTRA_MEDIA/small.webm" "$SRC/small.webm" 2>/dev/null || cp "$EXTRA_MEDIA/small.webm" "$SRC/small.webm"

oracle=$(oracle_of "$SRC/slow1080.mp4") || exit 1
small_oracle=$(oracle_of "$SRC/small.webm") || exit 1
nframes=$(oracle_header "$oracle" frames)
nkeys=$(awk '!/^#/ && $8 == 1' "$oracle" | wc -l)
if [ "$nkeys" != 1 ]; then
    fail "slow1080.mp4 should have one keyframe, the oracle lists $nkeys (the test's premise)"
    exit 1
fi
# frame_line INDEX: "REL MD5" of the oracle's frame INDEX
frame_line() { awk -v i="$1" '!/^#/ && $1 == i { print $5, $7 }' "$oracle"; }
read -r LAST LAST_MD5 <<<"$(frame_line $((nframes - 1)))"
read -r LAST2 LAST2_MD5 <<<"$(frame_line $((nframes - 10)))"
read -r LAST3 LAST3_MD5 <<<"$(frame_line $((nframes - 20)))"
read -r SMALL_T SMALL_MD5 <<<"$(awk '!/^#/ && $1 == 30 { print $5, $7 }' "$small_oracle")"
note "slow1080.mp4: $nframes frames, one keyframe; slow frames t=$LAST, t=$LAST2, t=$LAST3"


# check_png FILE MD5 LABEL: FILE's pixels are MD5.
check_png() {
    local got
    got=$("$PNG2RAW" "$1" 2>/dev/null | md5sum)
    if [ "${got%% *}" = "$2" ]; then
        pass "$3: the oracle's pixels"
    else
        fail "$3: pixels ${got%% *}, oracle $2"
    fi
}

# start_cat NAME OUT: cat MNT/slow1080.mp4/NAME >OUT in the background (not
# under t: the test signals it itself); sets CAT_PID.  A non-interactive
# shell starts background commands with SIGINT ignored: env gives cat back
# the default action, as a Ctrl-C in a terminal would find it.
start_cat() {
    env --default-signal=INT cat "$MNT/slow1080.mp4/$1" >"$2" 2>"$2.err" &
    CAT_PID=$!
}

# reap_cat LABEL PID: the cancelled cat must end within 3 s, unsuccessfully.
reap_cat() {
    if wait_pid "$2" 3; then
        if [ "$WAIT_STATUS" -ne 0 ]; then
            pass "$1: the cancelled cat ended (status $WAIT_STATUS: $(head -c 100 "$WORK/c.png.err" | tr '\n' ' '))"
        else
            fail "$1: the cancelled cat succeeded?"
        fi
    else
        fail "$1: the cancelled cat is still running 3 s after the signal"
        kill -KILL "$2" 2>/dev/null
    fi
}

# cancel_case LABEL SIGNAL NAME MD5 PID: cat NAME, SIGNAL after 0.3 s,
# measure, check the worker is free and that NAME then succeeds.
cancel_case() {
    local label=$1 sig=$2 name=$3 md5=$4 pid=$5 busy cpu t0 ms
    start_cat "$name" "$WORK/c.png"
    busy=$(cpu_over "$pid" 0.3)
    kill "-$sig" "$CAT_PID"
    sleep 0.1
    cpu=$(cpu_over "$pid" 0.5)
    note "$label: framefs CPU ${busy} s in the 0.3 s before SIG$sig, ${cpu} s in the 0.5 s after a 0.1 s grace"
    if lt "$busy" 0.05; then
        fail "$label: framefs used only ${busy} s CPU while decoding (0.3 s): nothing to cancel, the test proves nothing"
    fi
    if lt "$cpu" "$MAX_CPU"; then
        pass "$label: the decode stopped: ${cpu} s CPU in the 0.5 s after SIG$sig (< $MAX_CPU)"
    else
        fail "$label: framefs kept decoding after SIG$sig: ${cpu} s CPU in 0.5 s (want < $MAX_CPU)"
    fi
    reap_cat "$label" "$CAT_PID"
    # workers=1: a frame of another video needs that one worker
    t0=$(now_ms)
    if t cat "$MNT/small.webm/t=$SMALL_T.png" >"$WORK/small.png" 2>/dev/null; then
        ms=$(($(now_ms) - t0))
        if [ "$ms" -lt 500 ]; then
            pass "$label: the worker is free: a small frame came back in ${ms} ms"
        else
            fail "$label: a small frame took ${ms} ms after the cancel (the worker still busy?)"
        fi
        check_png "$WORK/small.png" "$SMALL_MD5" "$label: small.webm/t=$SMALL_T.png"
    else
        fail "$label: reading a small frame after the cancel failed"
    fi
    t0=$(now_ms)
    if t cat "$MNT/slow1080.mp4/$name" >"$WORK/again.png" 2>"$WORK/again.err"; then
        ms=$(($(now_ms) - t0))
        pass "$label: $name asked again succeeds (${ms} ms)"
        check_png "$WORK/again.png" "$md5" "$label: $name asked again"
        r=$(xattr_get "$MNT/slow1080.mp4/$name" user.result)
        [ "$r" = succeeded ] && pass "$label: user.result = succeeded" || fail "$label: user.result = '$r'"
    else
        fail "$label: $name asked again fails: $(head -c 200 "$WORK/again.err")"
    fi
}

# ---------------------------------------------------------------- 1. cancel

mount_framefs "$SRC" "$MNT" "workers=1" || exit 1
PID=$MOUNT_PID
# index both videos first (opening and indexing is not part of the decode)
xattr_get "$MNT/slow1080.mp4" user.duration >/dev/null || fail "user.duration of slow1080.mp4"
t cat "$MNT/small.webm/t=0.png" >/dev/null 2>&1 || fail "small.webm/t=0.png"
idle=$(cpu_over "$PID" 0.5)
note "idle framefs: ${idle} s CPU in 0.5 s"
lt "$idle" 0.05 || fail "framefs is not idle before the test (${idle} s CPU in 0.5 s)"

# (2>/dev/null: no "Killed" notices from bash for the readers killed on purpose)
cancel_case "SIGINT" INT "t=$LAST.png" "$LAST_MD5" "$PID" 2>/dev/null
mount_alive "$MNT" || exit 1
# (the context now sits at the end: an earlier frame needs the whole decode again)
cancel_case "SIGKILL" KILL "t=$LAST2.png" "$LAST2_MD5" "$PID" 2>/dev/null
mount_alive "$MNT" || exit 1
unmount_framefs "$MNT"

# ---------------------------------------------------------------- 2. uncancelled, timed

mount_framefs "$SRC" "$MNT" "workers=2" || exit 1
PID=$MOUNT_PID
xattr_get "$MNT/slow1080.mp4" user.duration >/dev/null
t0=$(now_ms)
start_cat "t=$LAST.png" "$WORK/d.png"
sleep 0.4
cpu=$(cpu_over "$PID" 0.5)
if wait_pid "$CAT_PID" "$OP_TIMEOUT" && [ "$WAIT_STATUS" = 0 ]; then
    D=$(($(now_ms) - t0))
    note "uncancelled slow frame: ${D} ms; framefs CPU ${cpu} s in the same window (0.4-0.9 s)"
    check_png "$WORK/d.png" "$LAST_MD5" "uncancelled slow frame"
    if lt "$cpu" 0.3; then
        fail "control: a running decode shows only ${cpu} s CPU in 0.5 s: the CPU measurement cannot see decodes"
    else
        pass "control: a running decode uses ${cpu} s CPU in 0.5 s"
    fi
    [ "$D" -ge 1300 ] || note "the slow frame took only ${D} ms: a fast machine makes the cancel checks weaker"
else
    fail "uncancelled slow frame: cat failed (status $WAIT_STATUS): $(head -c 200 "$WORK/d.png.err")"
    D=3000
fi
unmount_framefs "$MNT"

# ---------------------------------------------------------------- 3. one of two readers killed

# two_readers LABEL WHO NAME_A NAME_B MD5: A starts, B 0.1 s later (same frame,
# another spelling); at 0.5 D the reader WHO (A or B) gets SIGKILL; the other
# must get its frame, with the decode running on meanwhile.
two_readers() {
    local label=$1 who=$2 na=$3 nb=$4 md5=$5 t0 pa pb victim survivor sname cpu kill_at ms done_early
    t0=$(now_ms)
    start_cat "$na" "$WORK/a.png"; pa=$CAT_PID
    sleep 0.1
    start_cat "$nb" "$WORK/b.png"; pb=$CAT_PID
    kill_at=$(awk -v d="$D" 'BEGIN { printf "%.2f", d * 0.5 / 1000 - 0.1 }')
    sleep "$kill_at"
    if [ "$who" = A ]; then victim=$pa survivor=$pb sname=$nb; else victim=$pb survivor=$pa sname=$na; fi
    kill -KILL "$victim"
    sleep 0.1
    cpu=$(cpu_over "$PID" 0.5)
    # (the survivor may have got its frame before the window ended: with
    # other load on the machine the two-reader decode can beat D)
    _running "$survivor" && done_early=0 || done_early=1
    note "$label: framefs CPU ${cpu} s in the 0.5 s after the kill (+0.1 s)"
    if wait_pid "$survivor" "$OP_TIMEOUT" && [ "$WAIT_STATUS" = 0 ]; then
        ms=$(($(now_ms) - t0))
        note "$label: the other reader got its frame after ${ms} ms (alone: ${D} ms)"
        # (the window is 0.5 D + 0.1 .. 0.5 D + 0.6 s: inside the decode when D > 1.4 s)
        if [ $((D * 5 / 10 + 700)) -ge "$D" ]; then
            skip "$label: CPU after the kill (the slow frame takes only ${D} ms here)"
        elif [ "$done_early" = 1 ] && lt "$cpu" 0.25; then
            skip "$label: CPU after the kill (the other reader was served by the end of the window, ${cpu} s CPU in it)"
        elif lt "$cpu" 0.25; then
            fail "$label: the decode paused after the kill (${cpu} s CPU in 0.5 s) although $sname still waits"
        else
            pass "$label: the decode went on for the other reader (${cpu} s CPU in 0.5 s after the kill)"
        fi
        if [ "$ms" -le $((D * 13 / 10 + 200)) ]; then
            pass "$label: the other reader's frame came in ${ms} ms, not restarted (alone ${D} ms)"
        else
            fail "$label: the other reader waited ${ms} ms, alone it takes ${D} ms: the decode was restarted?"
        fi
        if [ "$who" = A ]; then check_png "$WORK/b.png" "$md5" "$label: $nb"; else check_png "$WORK/a.png" "$md5" "$label: $na"; fi
    else
        fail "$label: the reader that was not killed failed (status $WAIT_STATUS): $(head -c 200 "$WORK/$([ "$who" = A ] && echo b || echo a).png.err")"
    fi
    wait_pid "$victim" 3 || { fail "$label: the killed reader is still there"; kill -KILL "$victim"; }
}

mount_framefs "$SRC" "$MNT" "workers=2" || exit 1
PID=$MOUNT_PID
xattr_get "$MNT/slow1080.mp4" user.duration >/dev/null
# (a trailing zero: another name, the same frame)
two_readers "producer killed" A "t=$LAST.png" "t=${LAST}0.png" "$LAST_MD5" 2>/dev/null
mount_alive "$MNT" || exit 1
if t cat "$MNT/slow1080.mp4/t=$LAST.png" >"$WORK/a2.png" 2>/dev/null; then
    check_png "$WORK/a2.png" "$LAST_MD5" "producer killed: its name asked again"
else
    fail "producer killed: t=$LAST.png asked again fails"
fi
two_readers "waiter killed" B "t=$LAST3.png" "t=${LAST3}0.png" "$LAST3_MD5" 2>/dev/null
mount_alive "$MNT" || exit 1
unmount_framefs "$MNT"
