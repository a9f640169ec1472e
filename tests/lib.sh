# shellcheck shell=bash
# shellcheck disable=SC2034  # FSQ, MOUNT_PID are for the tests that source this
# Helpers for framefs integration tests.  Source it first thing:
#
#   . "$(dirname "$0")/../lib.sh"
#
# Environment: FRAMEFS (the binary), BUILD (build dir with tests/tools),
# optional MEDIA_DIR, ORACLE_CACHE, FRAMEFS_LOGDIR (set by run-all.sh),
# OP_TIMEOUT (seconds allowed for one operation on a mount, default 30),
# SANITIZED=1 (framefs is an ASan/UBSan build).
#
# Gives: pass/fail/skip (print "PASS: ", "FAIL: ", "SKIP: " lines), $WORK (a
# temporary directory removed at exit), t (run a command under a timeout),
# mount_framefs / unmount_framefs / unmount_all (every mount is undone and its
# process reaped at exit, even on failure or Ctrl-C), ensure_media, oracle_of,
# xattr helpers.  The test's exit status is 1 when any FAIL was printed.

set -u
set -o pipefail
export LC_ALL=C

TESTS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(dirname "$TESTS_DIR")
TEST_NAME=$(basename "$0" .sh)
: "${BUILD:=$REPO_DIR/build}"
: "${FRAMEFS:=$REPO_DIR/framefs}"
: "${OP_TIMEOUT:=30}"
: "${MEDIA_DIR:=$BUILD/tests/media}"
: "${ORACLE_CACHE:=$BUILD/tests/oracle}"
export BUILD FRAMEFS ORACLE_CACHE
TOOLS=$BUILD/tests/tools
PNG2RAW=$TOOLS/png2raw
FSQ=$TOOLS/fsq

WORK=$(mktemp -d "${TMPDIR:-/tmp}/framefs-$TEST_NAME.XXXXXX") || {
    echo "FAIL: $TEST_NAME: cannot create a temporary directory"
    exit 1
}
chmod 755 "$WORK"           # other users may need to reach mount points in it
FAIL_FILE=$WORK/.failures   # a file, so that fail() also counts in subshells
: >"$FAIL_FILE"
LOGDIR=${FRAMEFS_LOGDIR:-$WORK/logs}
mkdir -p "$LOGDIR"

exec {LIB_STDOUT}>&1        # the test's output, for reports from deep inside $(...)
pass() { printf 'PASS: %s\n' "$*"; }
fail() { printf 'FAIL: %s\n' "$*"; echo x >>"$FAIL_FILE"; }
skip() { printf 'SKIP: %s\n' "$*"; }
note() { printf '  %s\n' "$*"; }
# check COND_STATUS MESSAGE...: pass when the previous command succeeded.
check() { if [ "$1" -eq 0 ]; then shift; pass "$*"; else shift; fail "$*"; fi; }
failures() { wc -l <"$FAIL_FILE"; }

# sleep_builtin SECS: sleep without a child process (so killing the shell
# that sleeps leaves nothing behind).
sleep_builtin() { read -rt "$1" <> <(:) || :; }

# t CMD...: run CMD (a command or function; stdin is /dev/null) with a
# watchdog, so that a hung mount becomes a failure, not a stuck suite.  After
# OP_TIMEOUT seconds CMD gets SIGTERM, then SIGKILL.  A process blocked on a
# FUSE request that framefs never answers cannot be killed, though: then the
# watchdog prints a FAIL and kills every framefs this test started, which
# aborts their connections and releases CMD (status 124 or 137 or the error
# the aborted request gave).
t() {
    local pid wpid st
    "$@" &
    pid=$!
    (
        trap - EXIT INT TERM
        sleep_builtin "$OP_TIMEOUT"
        kill -TERM "$pid" 2>/dev/null || exit 0
        sleep_builtin 3
        kill -KILL "$pid" 2>/dev/null || exit 0
        sleep_builtin 1
        kill -0 "$pid" 2>/dev/null || exit 0
        fail "operation on the mount hung for ${OP_TIMEOUT}s and could not be killed: $*; killing framefs (${MOUNT_PIDS[*]-}) to release it" >&"$LIB_STDOUT"
        for i in ${MOUNT_PIDS[@]+"${!MOUNT_PIDS[@]}"}; do
            [ "${MOUNT_PIDS[$i]}" != "done" ] && _is_our_framefs "${MOUNT_PIDS[$i]}" "${MOUNT_POINTS[$i]}" &&
                kill -KILL "${MOUNT_PIDS[$i]}" 2>/dev/null
        done
    ) &
    wpid=$!
    wait "$pid"
    st=$?
    # SIGKILL: no trap of any kind may run in the watchdog
    kill -KILL "$wpid" 2>/dev/null
    wait "$wpid" 2>/dev/null
    return $st
}

# _is_our_framefs PID MNT: PID is still running the framefs we started on MNT
# (its last argument).  Pids wrap quickly with this many processes, so a bare
# kill -0 could be about somebody else's process.
_is_our_framefs() {
    local -a argv=()
    { mapfile -d '' -t argv <"/proc/$1/cmdline"; } 2>/dev/null
    [ ${#argv[@]} -gt 0 ] && [ "${argv[${#argv[@]} - 1]}" = "$2" ]
}

# mount_alive MNT: the framefs serving MNT is still running.  When it is not,
# prints a FAIL (crash, or killed by the watchdog) and returns 1.
mount_alive() {
    local mnt i
    mnt=$(cd "$1" 2>/dev/null && pwd -P) || mnt=$1
    for i in "${!MOUNT_POINTS[@]}"; do
        [ "${MOUNT_POINTS[$i]}" = "$mnt" ] || continue
        [ "${MOUNT_PIDS[$i]}" != "done" ] || continue
        _is_our_framefs "${MOUNT_PIDS[$i]}" "$mnt" && return 0
        fail "framefs serving $mnt is gone (crashed, or killed after a hang); log ${MOUNT_LOGS[$i]}: $(grep -v '^#' "${MOUNT_LOGS[$i]}" | tail -n 3 | tr '\n' ' ')"
        return 1
    done
    fail "no framefs mount at $mnt"
    return 1
}

# ---------------------------------------------------------------- mounts

MOUNT_PIDS=()
MOUNT_POINTS=()
MOUNT_LOGS=()
MOUNT_SEQ=0

is_mounted() {   # MNT (absolute): listed in /proc/self/mountinfo (no stat)
    awk -v m="$1" '$5 == m { found = 1 } END { exit !found }' /proc/self/mountinfo
}

# mount_framefs SRC MNT [OPTS]: run "$FRAMEFS -f [-o OPTS] SRC MNT" in the
# background, stderr and stdout to a log; wait up to 10 s for the mount.
# Returns 0 when mounted, else prints a FAIL and returns 1.  Sets MOUNT_LOG and
# MOUNT_PID.  Must not be called in a subshell (it records the mount for
# cleanup).  Extra framefs arguments can be given in the array FRAMEFS_ARGS.
mount_framefs() {
    mount_framefs_wait 10 "$@"
}

# Unmount entry I of the mount table and reap its process.  Returns non-zero
# (after printing a FAIL) when framefs had to be killed or exited non-zero.
_unmount_index() {
    local i=$1 pid=${MOUNT_PIDS[$1]} mnt=${MOUNT_POINTS[$1]} log=${MOUNT_LOGS[$1]} n st=0
    [ "$pid" = "done" ] && return 0
    MOUNT_PIDS[i]="done"
    if is_mounted "$mnt"; then
        if ! timeout -k 2 10 fusermount3 -u "$mnt" 2>/dev/null; then
            timeout -k 2 10 fusermount3 -uz "$mnt" 2>/dev/null ||
                timeout -k 2 10 umount -l "$mnt" 2>/dev/null
        fi
    fi
    # A sanitizer build's exit includes LeakSanitizer's scan of the whole
    # heap (hundreds of MB after the load test): give it longer.
    local grace=50
    [ "${SANITIZED:-0}" = 1 ] && grace=300
    for ((n = 0; n < grace; n++)); do
        _is_our_framefs "$pid" "$mnt" || break
        sleep 0.1
    done
    if _is_our_framefs "$pid" "$mnt"; then
        kill -TERM "$pid" 2>/dev/null
        sleep 1
        _is_our_framefs "$pid" "$mnt" && kill -KILL "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
        fail "framefs (pid $pid, $mnt) did not exit within $((grace / 10)) s of unmounting; killed it (log $log)"
        st=1
    else
        wait "$pid" 2>/dev/null
        n=$?
        if [ "$n" -ne 0 ]; then
            fail "framefs (pid $pid, $mnt) exited with status $n after unmount (log $log): $(grep -m 3 -E 'ERROR|runtime error|fatal|abort' "$log" | tr '\n' ' ')"
            st=1
        fi
    fi
    if is_mounted "$mnt"; then
        timeout -k 2 10 umount -l "$mnt" 2>/dev/null
        fail "$mnt was still mounted after framefs exited"
        st=1
    fi
    return $st
}

# unmount_framefs MNT: unmount one mount made by mount_framefs, reap framefs.
unmount_framefs() {
    local mnt i st=0
    mnt=$(cd "$1" 2>/dev/null && pwd -P) || mnt=$1
    for i in "${!MOUNT_POINTS[@]}"; do
        if [ "${MOUNT_POINTS[$i]}" = "$mnt" ] && [ "${MOUNT_PIDS[$i]}" != "done" ]; then
            _unmount_index "$i" || st=1
        fi
    done
    return $st
}

unmount_all() {
    local i
    for i in "${!MOUNT_PIDS[@]}"; do
        _unmount_index "$i"
    done
}

# With SANITIZED=1 and no run-all.sh to do it, report sanitizer reports in
# this test's framefs logs.
_scan_sanitizer_logs() {
    [ "${SANITIZED:-0}" = 1 ] && [ -z "${FRAMEFS_LOGDIR:-}" ] || return 0
    local log
    for log in ${MOUNT_LOGS[@]+"${MOUNT_LOGS[@]}"}; do
        if grep -qE 'ERROR: [A-Za-z]*Sanitizer|runtime error:' "$log" 2>/dev/null; then
            fail "sanitizer report in $log: $(grep -m 2 -E 'ERROR: [A-Za-z]*Sanitizer|runtime error:' "$log" | tr '\n' ' ')"
        fi
    done
}

_lib_exit() {
    local st=$?
    # Only the test's own shell cleans up.  A subshell (t's command or
    # watchdog, a pipeline element) can catch a signal before bash has reset
    # the inherited traps in it; it must then just go.
    if [ "$BASHPID" != "$$" ]; then
        trap - EXIT
        exit "$st"
    fi
    trap - EXIT INT TERM
    trap '' PIPE    # the reader of our output may be gone: clean up anyway
    unmount_all
    _scan_sanitizer_logs
    if [ -s "$FAIL_FILE" ] && [ "$st" -eq 0 ]; then
        st=1
    fi
    if [ -n "${KEEP_WORK:-}" ]; then
        echo "# work directory kept: $WORK" >&2
    else
        rm -rf "$WORK"
    fi
    exit "$st"
}
trap _lib_exit EXIT
trap '[ "$BASHPID" = "$$" ] && echo "FAIL: $TEST_NAME interrupted"; exit 130' INT
trap '[ "$BASHPID" = "$$" ] && echo "FAIL: $TEST_NAME terminated"; exit 143' TERM
trap 'exit 141' PIPE   # (e.g. "test.sh | head"): exit through the cleanup

# ---------------------------------------------------------------- setup

# mount_stat MNT KEY: one counter of the mount root's user.stats (JSON).
mount_stat() {
    getfattr --absolute-names --only-values -n user.stats "$1" 2>/dev/null |
        /usr/bin/python3 -c "import json, sys; print(json.load(sys.stdin)['$2'])"
}

# require_framefs: the binary and the test tools exist, else FAIL and exit.
require_framefs() {
    if [ ! -x "$FRAMEFS" ]; then
        fail "$TEST_NAME: framefs binary not found or not executable: $FRAMEFS"
        exit 1
    fi
    require_tools
}
require_tools() {
    local tool
    for tool in png2raw fsq pixfmt openwatch; do
        if [ ! -x "$TOOLS/$tool" ]; then
            fail "$TEST_NAME: test tool missing: $TOOLS/$tool (make tools)"
            exit 1
        fi
    done
    local cmd
    for cmd in ffmpeg ffprobe getfattr fusermount3 mountpoint timeout md5sum; do
        command -v "$cmd" >/dev/null || { fail "$TEST_NAME: $cmd not installed"; exit 1; }
    done
}

# ensure_media: generate the test media into $MEDIA_DIR (idempotent).
ensure_media() {
    if ! "$TESTS_DIR/media/gen.sh" "$MEDIA_DIR"; then
        fail "$TEST_NAME: tests/media/gen.sh $MEDIA_DIR failed"
        exit 1
    fi
}

# The videos gen.sh makes (relative paths), one per line.
media_videos() {
    (cd "$MEDIA_DIR" && find . -type f \( -name '*.mp4' -o -name '*.webm' -o -name '*.ts' \
        -o -name '*.mov' -o -name '*.mkv' \) ! -name '.tmp.*' | sed 's|^\./||' | sort)
}

# oracle_of VIDEO: prints the path of VIDEO's oracle table (see oracle.sh),
# computed once (cached in $ORACLE_CACHE by content, copied to $WORK/oracle).
oracle_of() {
    local video=$1 out
    out="$WORK/oracle/$(echo "$video" | tr '/' '_').oracle"
    if [ ! -s "$out" ]; then
        mkdir -p "$WORK/oracle"
        if ! "$TESTS_DIR/oracle.sh" "$video" >"$out.tmp" 2>"$out.err"; then
            fail "oracle for $video: $(head -c 300 "$out.err" | tr '\n' ' ')"
            rm -f "$out.tmp"
            return 1
        fi
        mv "$out.tmp" "$out"
    fi
    echo "$out"
}

# oracle_header ORACLE KEY: a value from the oracle's "# key=value" lines.
oracle_header() {
    awk -v k="$2" '/^#/ { for (i = 2; i <= NF; i++) if (index($i, k "=") == 1) { print substr($i, length(k) + 2); exit } }' "$1"
}

# ---------------------------------------------------------------- files

# xattr_get FILE NAME: print the value (no newline); status 1 if absent/error.
xattr_get() {
    t getfattr --absolute-names --only-values -n "$2" -- "$1" 2>/dev/null
}

# xattr_names FILE: the user.* names listxattr gives, one per line, sorted.
xattr_names() {
    t getfattr --absolute-names -d -- "$1" 2>/dev/null | sed -n 's/^\(user\.[^=]*\)=.*/\1/p' | sort
}

# errno_of CMD...: run CMD (under the timeout), print the strerror text it
# reported on stderr ("Read-only file system", ...) or "ok" when it succeeded.
errno_of() {
    local err st
    err=$(t "$@" 2>&1 >/dev/null)
    st=$?
    if [ $st -eq 0 ]; then
        echo ok
    elif [ $st -eq 124 ] || [ $st -eq 137 ] || [ $st -eq 143 ]; then
        echo "timeout"
    else
        err=$(printf '%s\n' "$err" | tail -n 1)
        case $err in
        "err "*) strerror "${err#err }" ;;   # from the fsq tool
        *) printf '%s\n' "$err" | sed 's/.*: //' ;;
        esac
    fi
}

# strerror ENAME: the C library's message for an errno name.
strerror() {
    case $1 in
    EPERM) echo "Operation not permitted" ;;
    ENOENT) echo "No such file or directory" ;;
    EIO) echo "Input/output error" ;;
    EACCES) echo "Permission denied" ;;
    EEXIST) echo "File exists" ;;
    ENOTDIR) echo "Not a directory" ;;
    EISDIR) echo "Is a directory" ;;
    EINVAL) echo "Invalid argument" ;;
    EROFS) echo "Read-only file system" ;;
    ERANGE) echo "Numerical result out of range" ;;
    ENODATA) echo "No data available" ;;
    ENOTSUP) echo "Operation not supported" ;;
    ENOTCONN) echo "Transport endpoint is not connected" ;;
    EINTR) echo "Interrupted system call" ;;
    ECANCELED) echo "Operation canceled" ;;
    *) echo "$1" ;;
    esac
}

# raw_md5 PNG: md5 of the PNG's pixels (png2raw) and "W H C" of it, one line:
# "MD5 W H C", or "error: ..." when png2raw rejects it.
raw_md5() {
    local sum dims
    # pipefail: the status is png2raw's when it fails
    if ! sum=$("$PNG2RAW" "$1" 2>"$WORK/.png2raw.err" | md5sum | cut -d' ' -f1); then
        echo "error: $(tr '\n' ' ' <"$WORK/.png2raw.err")"
        return 1
    fi
    dims=$(tail -n 1 "$WORK/.png2raw.err")
    echo "$sum $dims"
}

# ---------------------------------------------------------------- selection

# oracle_expect ORACLE: the frame SPEC's selection rule picks, computed from
# the oracle.  Reads lines "NAME KIND T BEFORE AFTER" on stdin (T, BEFORE and
# AFTER in seconds; BEFORE/AFTER may be "inf"), writes lines
#   NAME KIND T EXPECTED REL_US HALF_TICK_US BEFORE AFTER
# EXPECTED is the oracle index of the frame (0-based), "FAIL" (t at or past
# the end: the request must fail), or "AMBIG" when the answer depends on a
# detail SPEC leaves open (t within 2% of a tick of a rounding tie; a window
# edge within one tick of a frame boundary; how the gap to a keyframe's
# interval is measured): such probes should not be asked.  REL_US is the
# expected actual time in microseconds ("-" for FAIL), HALF_TICK_US half the
# time base, rounded up, in microseconds.
#
# The rule: t is rounded to the nearest tick; frame i covers [pts_i, next_i)
# (next of the last frame = pts + duration); t >= end fails; t < first pts
# gives the first frame; else among the frames whose interval meets
# [t - before, t + after] the keyframe nearest to t (0 inside its interval,
# earlier on a tie), else the earliest.
oracle_expect() {
    awk '
    function round(x) { return x >= 0 ? int(x + 0.5) : -int(-x + 0.5) }
    function sel(T, B, A, g,    i, best, bd, d) {
        if (T >= NX[n]) return "FAIL"
        if (T < P[1]) return 0
        best = 0
        for (i = 1; i <= n; i++) {
            if (P[i] > T + A) break
            if (NX[i] <= T - B || K[i] != 1) continue
            if (P[i] <= T && T < NX[i]) d = 0
            else if (NX[i] <= T) d = T - NX[i] + g
            else d = P[i] - T
            if (!best || d < bd) { best = i; bd = d }
        }
        if (best) return best - 1
        for (i = 1; i <= n; i++)
            if (P[i] <= T + A && NX[i] > T - B) return i - 1
        return "FAIL"
    }
    function ticks(s) { return s == "inf" ? 1e30 : s * den / num }
    FNR == NR {
        if ($0 ~ /^#/) {
            for (i = 2; i <= NF; i++) {
                split($i, kv, "=")
                if (kv[1] == "start_time") start = kv[2] + 0
                if (kv[1] == "start_ticks") start_ticks = kv[2] + 0
            }
            next
        }
        n++; P[n] = $2 + 0; num = $3 + 0; den = $4 + 0; D[n] = $6 + 0; K[n] = $8 + 0
        next
    }
    !prepared {
        for (i = 1; i < n; i++) NX[i] = P[i + 1]
        NX[n] = P[n] + D[n]
        half_us = int(num / den * 500000 + 0.999999)
        prepared = 1
    }
    NF >= 5 {
        name = $1; kind = $2; t = $3; b = $4; a = $5
        x = t * den / num + start * den / num
        T = round(x)
        e = sel(T, ticks(b), ticks(a), 0)
        amb = 0
        fr = x - int(x); if (fr < 0) fr += 1
        if (fr > 0.48 && fr < 0.52) amb = 1
        # t rounded relative to the start instead of absolutely
        if (sel(round(t * den / num) + start_ticks, ticks(b), ticks(a), 0) != e) amb = 1
        # a tolerance rounded to ticks either way; the gap measured to next - 1
        for (vb = -1; vb <= 1; vb++) for (va = -1; va <= 1; va++) {
            B = ticks(b); A = ticks(a)
            if (b != "inf" && B > 0) B += vb
            if (a != "inf" && A > 0) A += va
            if (B < 0) B = 0
            if (A < 0) A = 0
            if (sel(T, B, A, 0) != e || sel(T, B, A, 1) != e) amb = 1
        }
        if (amb) e = "AMBIG"
        rel = (e == "FAIL" || e == "AMBIG") ? "-" : sprintf("%.0f", (P[e + 1] * num / den - start) * 1e6)
        print name, kind, t, e, rel, half_us, b, a
    }' "$1" -
}

# expect_map KNOWN FULL: read oracle_expect output on stdin (positions in KNOWN,
# the oracle without its NA rows), write it with oracle indices (FULL) and
# with the answers that depend on a frame without pts turned into "NA"
# (test_accuracy, test_soak).
expect_map() {
    awk '
    FILENAME == ARGV[1] { if ($0 !~ /^#/) { pos++; IDX[pos - 1] = $1 } next }
    FILENAME == ARGV[2] { if ($0 !~ /^#/) { n++; NA[$1] = ($2 == "NA"); last = $1; R[$1] = $5 } next }
    {
        e = $4
        if (e != "FAIL" && e != "AMBIG") {
            e = IDX[e]
            # the frame after e has no pts: e is on screen only up to an
            # unknown time (exactly at its own pts it is certain)
            if (((e + 1) in NA) && NA[e + 1] && sprintf("%.0f", $3 * 1e6) != sprintf("%.0f", $5)) e = "NA"
            # frames without pts before the first known one: t before it is open
            if (e != "NA" && e == IDX[0] && e > 0 && $5 + 0 > $3 * 1e6) e = "NA"
        } else if (e == "FAIL" && NA[last] && $3 + 0 < 99999) e = "NA"
        $4 = e
        print
    }' "$1" "$2" -
}

# us S: seconds with up to 6 decimals ("1.5", "-0.041667") as integer µs.
us() {
    local s=$1 sign="" int frac
    case $s in -*) sign=-; s=${s#-} ;; esac
    int=${s%%.*}
    if [ "$int" = "$s" ]; then frac=""; else frac=${s#*.}; fi
    frac="${frac}000000"
    frac=${frac:0:6}
    [[ $int =~ ^[0-9]+$ && $frac =~ ^[0-9]+$ ]] || { echo "NaN"; return 1; }
    echo "$sign$((10#$int * 1000000 + 10#$frac))"
}

# ---------------------------------------------------------------- processes, extra media

# ensure_video OUT FFMPEG_ARGS...: make the video OUT with
# "ffmpeg FFMPEG_ARGS... OUT" unless it exists (written under a temporary
# name, then renamed, so an interrupted run leaves nothing half-written).
# Prints a FAIL and returns 1 when ffmpeg fails.
ensure_video() {
    local out=$1 tmp
    shift
    [ -s "$out" ] && return 0
    mkdir -p "$(dirname "$out")" || return 1
    tmp="$(dirname "$out")/.tmp.$$.$(basename "$out")"
    if ! ffmpeg -nostdin -hide_banner -loglevel error -y "$@" "$tmp" </dev/null 2>"$WORK/.ffmpeg.err"; then
        fail "ffmpeg could not make $out: $(head -c 300 "$WORK/.ffmpeg.err" | tr '\n' ' ')"
        rm -f "$tmp"
        return 1
    fi
    mv -f "$tmp" "$out"
}

# proc_cpu_ticks PID: user + system CPU time of PID (all its threads), in
# clock ticks (getconf CLK_TCK, usually 100 per second).  Empty when PID is gone.
proc_cpu_ticks() {
    # fields after "(comm) ": state is $1, so utime ($14) is $12, stime $13
    awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat" 2>/dev/null
}

# cpu_over PID SECONDS: CPU seconds (decimals) PID uses during the next SECONDS.
cpu_over() {
    local a b
    a=$(proc_cpu_ticks "$1")
    sleep "$2"
    b=$(proc_cpu_ticks "$1")
    awk -v a="$a" -v b="$b" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.2f", (b - a) / hz }'
}

# lt A B: A < B, as decimals.
lt() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a < b) }'; }

# proc_kb PID FIELD: a "FIELD: N kB" value of /proc/PID/status (VmHWM, VmRSS).
proc_kb() {
    awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status" 2>/dev/null
}

# now_ms: wall clock in milliseconds (no child process).
now_ms() {
    local t=${EPOCHREALTIME/[.,]/}
    echo $((10#$t / 1000))
}

# _running PID: PID exists and is not a zombie (an unreaped child is "gone").
_running() {
    local st
    st=$(awk '{ sub(/^.*\) /, ""); print $1 }' "/proc/$1/stat" 2>/dev/null) || return 1
    [ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}

# wait_pid PID TIMEOUT_S: wait up to TIMEOUT_S seconds (decimals ok) for
# the background child PID of this shell to end (not in a subshell: $(...)
# cannot wait for it).  Sets WAIT_STATUS to its exit status, or "running";
# returns 0 when it ended.
wait_pid() {
    local pid=$1 end
    end=$(($(now_ms) + $(awk -v s="$2" 'BEGIN { printf "%d", s * 1000 }')))
    while _running "$pid" && [ "$(now_ms)" -lt "$end" ]; do
        sleep 0.02
    done
    if _running "$pid"; then
        WAIT_STATUS=running
        return 1
    fi
    # (no "Killed" notice from bash for a child the test killed on purpose)
    { wait "$pid"; } 2>/dev/null
    WAIT_STATUS=$?
    return 0
}

# mount_framefs_wait SECS SRC MNT [OPTS]: mount_framefs for a slow start
# (framefs under valgrind): waits up to SECS seconds for the mount.  The
# mount is recorded for cleanup like mount_framefs's; sets MOUNT_PID and
# MOUNT_LOG.  FRAMEFS may be a wrapper that execs framefs (the pid and the
# last argument stay framefs's).
mount_framefs_wait() {
    local secs=$1 src=$2 mnt=$3 opts=${4-} pid i
    mkdir -p "$mnt" || { fail "cannot create mount point $mnt"; return 1; }
    mnt=$(cd "$mnt" && pwd -P)
    MOUNT_SEQ=$((MOUNT_SEQ + 1))
    MOUNT_LOG="$LOGDIR/$TEST_NAME.$$.$MOUNT_SEQ.log"
    local -a args=(-f)
    [ -n "$opts" ] && args+=(-o "$opts")
    args+=(${FRAMEFS_ARGS[@]+"${FRAMEFS_ARGS[@]}"} "$src" "$mnt")
    echo "# $FRAMEFS ${args[*]}" >"$MOUNT_LOG"
    # (framefs must not hold the test's stdout: run-all waits for its end)
    "$FRAMEFS" "${args[@]}" </dev/null >>"$MOUNT_LOG" 2>&1 {LIB_STDOUT}>&- &
    pid=$!
    MOUNT_PID=$pid
    MOUNT_PIDS+=("$pid")
    MOUNT_POINTS+=("$mnt")
    MOUNT_LOGS+=("$MOUNT_LOG")
    for ((i = 0; i < secs * 10; i++)); do
        if is_mounted "$mnt" && t mountpoint -q "$mnt"; then
            return 0
        fi
        if ! kill -0 "$pid" 2>/dev/null; then
            wait "$pid"
            fail "framefs exited (status $?) instead of mounting $src on $mnt${opts:+ with -o $opts}: $(grep -v '^#' "$MOUNT_LOG" | tail -n 3 | tr '\n' ' ')"
            MOUNT_PIDS[${#MOUNT_PIDS[@]} - 1]="done"
            return 1
        fi
        sleep 0.1
    done
    fail "framefs did not mount $mnt within $secs s${opts:+ (-o $opts)}; log: $(grep -v '^#' "$MOUNT_LOG" | tail -n 3 | tr '\n' ' ')"
    _unmount_index $((${#MOUNT_PIDS[@]} - 1)) >/dev/null
    return 1
}

# mount_forget PID: the test ends (signals, reaps) the framefs PID itself;
# the cleanup at exit no longer touches it.  Use mount_reap after.
mount_forget() {
    local i
    for i in "${!MOUNT_PIDS[@]}"; do
        [ "${MOUNT_PIDS[$i]}" = "$1" ] && MOUNT_PIDS[i]="done"
    done
    return 0
}

# mount_reap PID MNT: after a test ended a framefs itself: if PID still runs
# kill it (SIGKILL), and if MNT is still mounted unmount it lazily.  Quiet.
mount_reap() {
    if _is_our_framefs "$1" "$2" 2>/dev/null; then
        kill -KILL "$1" 2>/dev/null
        wait "$1" 2>/dev/null
    fi
    if is_mounted "$2"; then
        timeout -k 2 10 fusermount3 -uz "$2" 2>/dev/null || timeout -k 2 10 umount -l "$2" 2>/dev/null
    fi
    return 0
}

# Extra media generated on demand (not by gen.sh: test_frames probes every
# video there).  EXTRA_MEDIA holds them, cached across runs.
: "${EXTRA_MEDIA:=$BUILD/tests/media-load}"

# ensure_slow_video: $EXTRA_MEDIA/slow1080_30s.mp4, a 1920x1080 H.264 with
# one keyframe (30 s at 30 fps, -g 1000, 44 MB): its last frame takes seconds
# to decode from the start (900 frames).  Prints the path.
ensure_slow_video() {
    ensure_video "$EXTRA_MEDIA/slow1080_30s.mp4" -f lavfi -i testsrc2=size=1920x1080:rate=30:duration=30 \
        -c:v libx264 -preset ultrafast -g 1000 -keyint_min 1000 -sc_threshold 0 -pix_fmt yuv420p -an >&2 &&
        echo "$EXTRA_MEDIA/slow1080_30s.mp4"
}

# ensure_tiny_video: $EXTRA_MEDIA/tiny.mp4, 160x120, 10 frames (for slow
# framefs runs: valgrind).  Prints the path.
ensure_tiny_video() {
    ensure_video "$EXTRA_MEDIA/tiny.mp4" -f lavfi -i testsrc2=size=160x120:rate=10:duration=1 \
        -c:v libx264 -preset veryfast -g 5 -pix_fmt yuv420p -an >&2 &&
        echo "$EXTRA_MEDIA/tiny.mp4"
}
