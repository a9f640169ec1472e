#!/usr/bin/env bash
# Sandboxed decoding: every decoder worker thread, and every FFmpeg frame
# thread the workers start, runs under the seccomp filter (decoder/media/sandbox.h):
# /proc/PID/task/*/status shows "Seccomp: 2" for each of them while a slow
# frame decodes on frame threads.  The FUSE, inotify and invalidation threads
# stay unfiltered (they open files for the workers).  That a filtered
# thread's open() fails is tests/unit/test_sandbox's job; here: a mount whose
# workers are filtered still serves exact frames, and no_sandbox turns it off.
. "$(dirname "$0")/../lib.sh"

require_framefs

SRC=$WORK/src
MNT=$WORK/mnt
mkdir -p "$SRC"
slow=$(ensure_slow_video) || exit 1
ln -f "$slow" "$SRC/slow1080.mp4" 2>/dev/null || cp "$slow" "$SRC/slow1080.mp4"
oracle=$(oracle_of "$SRC/slow1080.mp4") || exit 1
read -r LAST LAST_MD5 <<<"$(awk '!/^#/ { t = $5; m = $7 } END { print t, m }' "$oracle")"

# threads PID: "comm seccomp-mode" per thread of PID
threads() {
    local t
    for t in /proc/"$1"/task/*; do
        printf '%s %s\n' "$(cat "$t/comm" 2>/dev/null)" \
            "$(awk '$1 == "Seccomp:" { print $2 }' "$t/status" 2>/dev/null)"
    done
}

mount_framefs "$SRC" "$MNT" "workers=2" || exit 1
PID=$MOUNT_PID
xattr_get "$MNT/slow1080.mp4" user.duration >/dev/null
cat "$MNT/slow1080.mp4/t=$LAST.png" >"$WORK/last.png" 2>"$WORK/last.err" &
cpid=$!
sleep 0.5
threads "$PID" >"$WORK/threads"
nworker=$(awk '$1 == "framefs-worker"' "$WORK/threads" | wc -l)
nfiltered=$(awk '$1 == "framefs-worker" && $2 == 2' "$WORK/threads" | wc -l)
nother=$(awk '$1 != "framefs-worker"' "$WORK/threads" | wc -l)
note "threads while decoding: $(sort "$WORK/threads" | uniq -c | tr -s ' \n' ' ')"
# 2 workers, plus the decoding worker's frame threads (they inherit the name)
if [ "$nworker" -gt 2 ]; then
    pass "2 workers and $((nworker - 2)) frame threads they started are running"
else
    fail "only $nworker decoder threads while a frame decodes on frame threads (want > 2)"
fi
[ "$nfiltered" = "$nworker" ] && pass "all $nworker decoder threads show Seccomp: 2" ||
    fail "$((nworker - nfiltered)) of $nworker decoder threads are not filtered: $(grep framefs-worker "$WORK/threads" | sort | uniq -c | tr -s ' \n' ' ')"
awk '$1 != "framefs-worker" && $2 != 0 { bad = 1 } END { exit bad }' "$WORK/threads" &&
    pass "the $nother other threads (FUSE, inotify, invalidation) are not filtered" ||
    fail "a non-decoder thread is filtered: it could not open sources for the workers"
if wait_pid "$cpid" "$OP_TIMEOUT" && [ "$WAIT_STATUS" = 0 ]; then
    got=$("$PNG2RAW" "$WORK/last.png" | md5sum | cut -d' ' -f1)
    [ "$got" = "$LAST_MD5" ] && pass "sandboxed workers decode t=$LAST.png exactly" ||
        fail "t=$LAST.png from sandboxed workers: pixels $got, oracle $LAST_MD5"
else
    fail "t=$LAST.png failed under the sandbox: $(head -c 200 "$WORK/last.err")"
fi
threads "$PID" >"$WORK/threads2"
awk '$1 == "framefs-worker" && $2 != 2 { bad = 1 } END { exit bad }' "$WORK/threads2" &&
    pass "still filtered after the decode" || fail "a decoder thread lost its filter"
unmount_framefs "$MNT"

mount_framefs "$SRC" "$MNT" "workers=2,no_sandbox" || exit 1
t cat "$MNT/slow1080.mp4/t=0.png" >/dev/null 2>&1 || fail "no_sandbox: t=0.png"
threads "$MOUNT_PID" >"$WORK/threads3"
awk '$2 != 0 { bad = 1 } END { exit bad }' "$WORK/threads3" &&
    pass "no_sandbox: no thread is filtered" || fail "no_sandbox: some thread is filtered"
unmount_framefs "$MNT"

[ "$(failures)" -eq 0 ]
