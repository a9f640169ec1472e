#!/usr/bin/env bash
# Lifecycle of a framefs process.
#  - SIGTERM and SIGINT to a foreground framefs (after it served frames,
#    attributes, listings and failures): the mount point leaves
#    /proc/self/mountinfo and the process exits with status 0, each within
#    1 s.  (With SANITIZED=1, the exit runs LeakSanitizer: a leak report
#    changes the status and run-all.sh finds it in the log.)  SIGTERM again
#    while a slow decode runs (a reader waiting): same limits, and the reader
#    gets an error instead of hanging.
#  - kill -9: the mount point is dead ("Transport endpoint is not
#    connected"); fusermount3 -u recovers it and a new framefs mounts there
#    and serves the oracle's frame.
#  - valgrind --leak-check=full on the normal build (-o no_sandbox: valgrind
#    cannot run seccomp filters), a short session on a
#    tiny video: no "definitely lost" block with framefs code in its stack,
#    no memory error in framefs code.  Skipped for sanitizer builds.
. "$(dirname "$0")/../lib.sh"

require_framefs

SRC=$WORK/src
MNT=$WORK/mnt
MAX_MS=${LIFECYCLE_MAX_MS:-1000}
tiny=$(ensure_tiny_video) || exit 1
mkdir -p "$SRC/sub"
cp "$tiny" "$SRC/tiny.mp4"
cp "$tiny" "$SRC/sub/tiny2.mp4"
echo "not a video" >"$SRC/notes.txt"
oracle=$(oracle_of "$SRC/tiny.mp4") || exit 1
read -r T5 MD5_5 <<<"$(awk '!/^#/ && $1 == 5 { print $5, $7 }' "$oracle")"
END=$(oracle_header "$oracle" end_time)

# exercise LABEL: use the mount a little (frames, attributes, listings,
# failures), checking the answers; leaves state to free at exit.
exercise() {
    local label=$1 got
    if t cat "$MNT/tiny.mp4/t=$T5.png" >"$WORK/ex.png" 2>/dev/null; then
        got=$("$PNG2RAW" "$WORK/ex.png" 2>/dev/null | md5sum)
        [ "${got%% *}" = "$MD5_5" ] || fail "$label: t=$T5.png is not the oracle's frame"
    else
        fail "$label: cannot read tiny.mp4/t=$T5.png"
    fi
    t cat "$MNT/sub/tiny2.mp4/t=0.png" "$MNT/tiny.mp4/t=0.95,tol=inf.png" >/dev/null 2>&1 ||
        fail "$label: cannot read more frames"
    [ "$(xattr_get "$MNT/tiny.mp4/t=$T5.png" user.result)" = succeeded ] || fail "$label: user.result of a frame"
    [ -n "$(xattr_get "$MNT/tiny.mp4" user.duration)" ] || fail "$label: user.duration"
    t getfattr -d "$MNT/sub/tiny2.mp4" >/dev/null 2>&1 || fail "$label: getfattr -d of a video directory"
    t ls -l "$MNT" "$MNT/sub" "$MNT/tiny.mp4" >/dev/null 2>&1 || fail "$label: ls -l"
    t cat "$MNT/notes.txt" >/dev/null 2>&1 || fail "$label: a passthrough file"
    [ "$(errno_of cat "$MNT/tiny.mp4/t=$END.png")" = "Input/output error" ] || fail "$label: past-the-end frame is not EIO"
    [ "$(xattr_get "$MNT/tiny.mp4/t=$END.png" user.result)" = failed ] || fail "$label: user.result of a failed frame"
    [ "$(errno_of stat "$MNT/tiny.mp4/t=x.png")" = "No such file or directory" ] || fail "$label: malformed name is not ENOENT"
}

# stop_and_time PID MNT SIG: send SIG, poll every 10 ms for up to 10 s; sets
# GONE_MS (mount point left mountinfo; -1 never), EXIT_MS (-1 never) and
# EXIT_STATUS.
stop_and_time() {
    local pid=$1 mnt=$2 sig=$3 t0 now
    GONE_MS=-1 EXIT_MS=-1 EXIT_STATUS=running
    mount_forget "$pid"
    t0=$(now_ms)
    kill "-$sig" "$pid"
    while :; do
        now=$(($(now_ms) - t0))
        [ "$GONE_MS" = -1 ] && ! is_mounted "$mnt" && GONE_MS=$now
        if [ "$EXIT_MS" = -1 ] && ! _running "$pid"; then
            EXIT_MS=$now
            wait "$pid"
            EXIT_STATUS=$?
        fi
        [ "$GONE_MS" != -1 ] && [ "$EXIT_MS" != -1 ] && break
        [ "$now" -gt 10000 ] && break
        sleep 0.01
    done
    mount_reap "$pid" "$mnt"
}

# check_stop LABEL: judge what stop_and_time measured.
check_stop() {
    local label=$1
    note "$label: unmounted after ${GONE_MS} ms, exited after ${EXIT_MS} ms with status $EXIT_STATUS"
    if [ "$GONE_MS" -ge 0 ] && [ "$GONE_MS" -le "$MAX_MS" ]; then
        pass "$label: the mount point is gone after ${GONE_MS} ms"
    else
        fail "$label: the mount point is still mounted ${GONE_MS/#-1/10000+} ms after the signal (limit ${MAX_MS})"
    fi
    if [ "$EXIT_MS" -ge 0 ] && [ "$EXIT_MS" -le "$MAX_MS" ]; then
        pass "$label: framefs exited after ${EXIT_MS} ms"
    else
        fail "$label: framefs still running ${EXIT_MS/#-1/10000+} ms after the signal (limit ${MAX_MS})"
    fi
    if [ "$EXIT_STATUS" = 0 ]; then
        pass "$label: exit status 0"
    else
        fail "$label: exit status $EXIT_STATUS (log $MOUNT_LOG: $(grep -m 3 -E 'ERROR|WARNING|SUMMARY|runtime error' "$MOUNT_LOG" | tr '\n' ' '))"
    fi
}

# ---------------------------------------------------------------- SIGTERM / SIGINT

# A non-interactive shell starts background commands with SIGINT ignored, and
# libfuse leaves an ignored signal alone (as under nohup): this wrapper gives
# framefs the default SIGINT a terminal's Ctrl-C finds (exec: same pid).
cat >"$WORK/intdefault" <<EOF
#!/bin/sh
exec env --default-signal=INT "$FRAMEFS" "\$@"
EOF
chmod +x "$WORK/intdefault"
REAL_FRAMEFS=$FRAMEFS
for sig in TERM INT; do
    FRAMEFS=$WORK/intdefault
    mount_framefs "$SRC" "$MNT" "workers=2" || { FRAMEFS=$REAL_FRAMEFS; continue; }
    FRAMEFS=$REAL_FRAMEFS
    pid=$MOUNT_PID
    exercise "SIG$sig"
    mount_alive "$MNT" || continue
    stop_and_time "$pid" "$MNT" "$sig"
    check_stop "SIG$sig to an idle framefs"
done

# SIGTERM while a reader waits for a slow decode.
if slow=$(ensure_slow_video); then
    ln -f "$slow" "$SRC/slow1080.mp4" 2>/dev/null || cp "$slow" "$SRC/slow1080.mp4"
    slow_oracle=$(oracle_of "$SRC/slow1080.mp4")
    last=$(awk '!/^#/ { t = $5 } END { print t }' "$slow_oracle")
    if mount_framefs "$SRC" "$MNT" "workers=2"; then
        pid=$MOUNT_PID
        xattr_get "$MNT/slow1080.mp4" user.duration >/dev/null
        cat "$MNT/slow1080.mp4/t=$last.png" >/dev/null 2>"$WORK/slowcat.err" &
        cpid=$!
        sleep 0.3
        stop_and_time "$pid" "$MNT" TERM
        check_stop "SIGTERM during a slow decode"
        if wait_pid "$cpid" 2; then
            [ "$WAIT_STATUS" != 0 ] && pass "SIGTERM during a slow decode: the waiting reader got an error ($(tr '\n' ' ' <"$WORK/slowcat.err"))" ||
                note "SIGTERM during a slow decode: the waiting reader got its frame"
        else
            fail "SIGTERM during a slow decode: the waiting reader still hangs 2 s after framefs ended"
            kill -KILL "$cpid" 2>/dev/null
        fi
    fi
    rm -f "$SRC/slow1080.mp4"
fi

# ---------------------------------------------------------------- kill -9

if mount_framefs "$SRC" "$MNT" "workers=2"; then
    pid=$MOUNT_PID
    exercise "kill -9"
    mount_forget "$pid"
    # (2>/dev/null: no "Killed" notice from bash)
    { kill -KILL "$pid"; wait_pid "$pid" 5; sleep 0.1; } 2>/dev/null
    [ "$WAIT_STATUS" = 137 ] && pass "kill -9: framefs died (status 137)" || fail "kill -9: status $WAIT_STATUS"
    e=$(errno_of stat "$MNT")
    [ "$e" = "Transport endpoint is not connected" ] && pass "kill -9: the mount point is dead ($e)" ||
        fail "kill -9: stat of the mount point gives '$e', want 'Transport endpoint is not connected'"
    e=$(errno_of cat "$MNT/tiny.mp4/t=0.png")
    [ "$e" = "Transport endpoint is not connected" ] && pass "kill -9: reading a frame gives ENOTCONN" ||
        fail "kill -9: reading a frame gives '$e'"
    is_mounted "$MNT" && pass "kill -9: the dead mount is still listed in mountinfo" ||
        note "kill -9: the mount point left mountinfo by itself"
    if timeout -k 2 10 fusermount3 -u "$MNT" 2>"$WORK/fu.err"; then
        pass "kill -9: fusermount3 -u recovers the mount point"
    else
        fail "kill -9: fusermount3 -u failed: $(tr '\n' ' ' <"$WORK/fu.err")"
        timeout -k 2 10 fusermount3 -uz "$MNT" 2>/dev/null && note "fusermount3 -uz did"
    fi
    ! is_mounted "$MNT" && [ "$(errno_of stat "$MNT")" = ok ] &&
        pass "kill -9: after fusermount3 -u the mount point is a plain directory again" ||
        fail "kill -9: the mount point is not usable after fusermount3 -u"
    mount_reap "$pid" "$MNT"
    if mount_framefs "$SRC" "$MNT" "workers=2"; then
        exercise "a new mount after kill -9"
        mount_alive "$MNT" && pass "a new framefs mounts on the recovered mount point and serves frames"
        unmount_framefs "$MNT" && pass "the new mount unmounts cleanly"
    fi
fi

# ---------------------------------------------------------------- valgrind

# definite_leaks_in_framefs LOG: print the "definitely lost" records whose
# stack has a frame in framefs's own sources (fs/, decoder/, cache/).
framefs_frames='\((ops|main|inode|inval|name|source|watch|xattr|avlog|convert|decoder|encode_png|pool|seek|select|video|blob|lru)\.c:[0-9]+\)'
records() {   # LOG KIND_REGEX: valgrind records (blank-line separated) matching
    awk -v k="$2" 'BEGIN { RS = "" } { gsub(/==[0-9]+== ?/, "") } $0 ~ k' "$1"
}
if [ "${SANITIZED:-0}" = 1 ] || ldd "$FRAMEFS" 2>/dev/null | grep -qE 'lib(asan|tsan|ubsan)'; then
    skip "valgrind session (needs the normal build, not a sanitizer build)"
elif ! command -v valgrind >/dev/null; then
    skip "valgrind session (valgrind not installed: scripts/install-deps)"
else
    VGLOG=$LOGDIR/$TEST_NAME.$$.valgrind.txt
    cat >"$WORK/vg-framefs" <<EOF
#!/bin/sh
exec valgrind --leak-check=full --errors-for-leak-kinds=definite --error-exitcode=3 \
    --num-callers=40 --log-file="$VGLOG" "$FRAMEFS" "\$@"
EOF
    chmod +x "$WORK/vg-framefs"
    FRAMEFS=$WORK/vg-framefs
    if OP_TIMEOUT=120 mount_framefs_wait 120 "$SRC" "$MNT" "workers=2,no_sandbox"; then
        pid=$MOUNT_PID
        t0=$(now_ms)
        OP_TIMEOUT=120 exercise "valgrind"
        note "valgrind: the session took $(($(now_ms) - t0)) ms"
        mount_forget "$pid"
        timeout -k 5 60 fusermount3 -u "$MNT" || fail "valgrind: fusermount3 -u failed"
        if wait_pid "$pid" 120; then
            note "valgrind: framefs exited with status $WAIT_STATUS; $(grep -E 'definitely lost:|indirectly lost:|possibly lost:|still reachable:|ERROR SUMMARY:' "$VGLOG" | sed 's/==[0-9]*== *//' | tr -s ' ' | tr '\n' ';')"
            bad=$(records "$VGLOG" 'definitely lost in loss record' | grep -cE "$framefs_frames")
            all=$(records "$VGLOG" 'definitely lost in loss record' | grep -c 'definitely lost in loss record')
            if ! grep -q 'LEAK SUMMARY\|All heap blocks were freed' "$VGLOG"; then
                fail "valgrind: no leak summary in $VGLOG"
            elif [ "$bad" = 0 ]; then
                pass "valgrind: no definitely lost block from framefs code ($all definitely lost records in libraries)"
            else
                fail "valgrind: $bad definitely lost records with framefs code in the stack (see $VGLOG): $(records "$VGLOG" 'definitely lost in loss record' | grep -E "$framefs_frames" | head -c 600 | tr '\n' ' ')"
            fi
            errs=$(records "$VGLOG" 'Invalid (read|write|free)|uninitialised|Mismatched|overlap|Syscall param' | grep -E "$framefs_frames" | head -c 800)
            if [ -z "$errs" ]; then
                pass "valgrind: no memory error in framefs code"
            else
                fail "valgrind: memory errors in framefs code: $(echo "$errs" | tr '\n' ' ')"
            fi
            n=$(records "$VGLOG" 'possibly lost in loss record' | grep -c 'possibly lost in loss record')
            [ "$n" = 0 ] || note "valgrind: $n possibly lost records (libraries' threads and pools)"
            if [ "$WAIT_STATUS" != 0 ] && [ "$bad" = 0 ] && [ -z "$errs" ]; then
                note "valgrind: status $WAIT_STATUS comes from errors outside framefs code (see $VGLOG)"
            fi
        else
            fail "valgrind: framefs did not exit within 120 s of fusermount3 -u"
        fi
        mount_reap "$pid" "$MNT"
    fi
    FRAMEFS=$REAL_FRAMEFS
fi
