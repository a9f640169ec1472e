#!/usr/bin/env bash
# Run every framefs test and count the results.
#
#   FRAMEFS=/abs/framefs BUILD=/abs/build tests/run-all.sh [unit]
#
# Runs each unit test binary $BUILD/tests/unit/test_*, then (unless "unit" is
# given) each tests/integration/*.sh.  Tests print lines starting "PASS: ",
# "FAIL: " or "SKIP: "; a test that exits non-zero without printing a FAIL,
# crashes (killed by a signal) or times out counts as one more failure.  With
# SANITIZED=1, every sanitizer report ("ERROR: AddressSanitizer", "runtime
# error:", ...) in a framefs log (each mount's stderr, in $BUILD/tests/logs)
# is a failure too.  Failures are repeated at the end; the very last line is
# "N passed, N failed, N skipped"; the exit status is 1 when anything failed.
#
# TEST_TIMEOUT (seconds per test program, default 600) and TESTS (a space
# separated list of integration test names to run, e.g. "test_fs") help when
# debugging.
set -u
export LC_ALL=C

cd "$(dirname "$0")/.." || exit 1
# Every test's work directory (and mount) goes under this run's own folder.
RUN_TMP=$(mktemp -d "${TMPDIR:-/tmp}/framefs-run.XXXXXX") || exit 1
chmod 755 "$RUN_TMP"          # tests run some commands as other users
export TMPDIR=$RUN_TMP
ROOT=$PWD
: "${BUILD:=$ROOT/build}"
: "${FRAMEFS:=$ROOT/framefs}"
: "${TEST_TIMEOUT:=600}"
export BUILD FRAMEFS
mode=${1:-all}
case $mode in
all|unit) ;;
*) echo "usage: $0 [unit]" >&2; exit 2 ;;
esac

LOGS=$BUILD/tests/logs
rm -rf "$LOGS"
mkdir -p "$LOGS" || exit 1
export FRAMEFS_LOGDIR=$LOGS
# Every test that reports its own sanitizer output must not do it twice.
# (ThreadSanitizer reports start "WARNING: ThreadSanitizer: data race ...".)
SAN_RE='ERROR: [A-Za-z]*Sanitizer|runtime error:|SUMMARY: [A-Za-z]*Sanitizer|WARNING: ThreadSanitizer'
# A sanitizer runtime given log_path=$BUILD/tests/logs/san-report (make
# check-tsan) writes each process's reports to san-report.PID: after each
# test they become $name.san-report.PID.log and are scanned with its logs.

passed=0 failed=0 skipped=0
failures=()

# Ctrl-C or a TERM stops the running test through its own traps (they unmount
# and reap framefs), then the summary is printed.  The test runs under
# `timeout`, in its own process group, so it only sees the TERM forwarded here.
CHILD=""
interrupted=0
on_signal() {
    interrupted=1
    [ -n "$CHILD" ] && kill -TERM "$CHILD" 2>/dev/null
}
trap on_signal INT TERM

# run_test NAME CMD...: run one test program, stream its output, count.
run_test() {
    local name=$1 out rc p f s line tfd teepid n
    shift
    out="$LOGS/$name.out"
    echo "=== $name"
    exec {tfd}> >(trap '' INT TERM; exec tee "$out")
    teepid=$!
    timeout -k 10 "$TEST_TIMEOUT" "$@" </dev/null >&"$tfd" 2>&1 &
    CHILD=$!
    exec {tfd}>&-
    while :; do
        wait "$CHILD"
        rc=$?
        kill -0 "$CHILD" 2>/dev/null || break   # else wait was cut short by a signal
    done
    CHILD=""
    # tee ends when every writer is gone; do not hang on a leftover one
    for ((n = 0; n < 50; n++)); do
        kill -0 "$teepid" 2>/dev/null || break
        sleep 0.1
    done
    [ "$n" -lt 50 ] || kill "$teepid" 2>/dev/null
    wait "$teepid" 2>/dev/null
    p=$(grep -c '^PASS: ' "$out")
    f=$(grep -c '^FAIL: ' "$out")
    s=$(grep -c '^SKIP: ' "$out")
    passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
    while IFS= read -r line; do
        failures+=("[$name] $line")
    done < <(grep '^FAIL: ' "$out")
    if [ "$interrupted" = 1 ]; then
        line=""   # counted below
    elif [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
        line="FAIL: $name timed out after ${TEST_TIMEOUT}s"
    elif [ "$rc" -gt 128 ]; then
        line="FAIL: $name was killed by signal $((rc - 128))"
    elif [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
        line="FAIL: $name exited with status $rc without reporting a failure"
    else
        line=""
    fi
    if [ -n "$line" ]; then
        echo "$line"
        failed=$((failed + 1))
        failures+=("[$name] $line")
    fi
    if [ "${SANITIZED:-0}" = 1 ]; then
        local log
        for log in "$LOGS"/san-report.*; do
            [ -f "$log" ] && mv -f "$log" "$LOGS/$name.san-report.${log##*.}.log"
        done
        for log in "$LOGS/$name".*.log; do
            [ -e "$log" ] || continue
            if grep -qE "$SAN_RE" "$log"; then
                line="FAIL: sanitizer report in $log: $(grep -m 2 -E "$SAN_RE" "$log" | tr '\n' ' ')"
                echo "$line"
                failed=$((failed + 1))
                failures+=("[$name] $line")
            fi
        done
    fi
    echo "--- $name: $p passed, $f failed, $s skipped (exit $rc)"
    if [ "$interrupted" = 1 ]; then
        failed=$((failed + 1))
        failures+=("[run-all] FAIL: interrupted during $name")
    fi
}

# Unit tests: every built test_* binary; a source without a binary is a failure.
shopt -s nullglob
for src in tests/unit/test_*.c; do
    bin=$BUILD/tests/unit/$(basename "$src" .c)
    if [ ! -x "$bin" ]; then
        echo "FAIL: unit test $src is not built ($bin missing; make units)"
        failed=$((failed + 1))
        failures+=("[unit] FAIL: $bin missing")
    fi
done
for bin in "$BUILD"/tests/unit/test_*; do
    [ -f "$bin" ] && [ -x "$bin" ] || continue
    case $bin in *.o|*.d) continue ;; esac
    [ "$interrupted" = 1 ] && break
    run_test "$(basename "$bin")" "$bin"
done

if [ "$mode" = all ]; then
    for script in tests/integration/*.sh; do
        name=$(basename "$script" .sh)
        if [ -n "${TESTS:-}" ] && [[ " $TESTS " != *" $name "* ]]; then
            continue
        fi
        [ "$interrupted" = 1 ] && break
        run_test "$name" bash "$script"
    done
fi

# Leftovers (under this run's work directories, see lib.sh) would mean a
# test's cleanup failed: report and clean them.  Only this run's: another
# run may be going on at the same time.
while read -r mnt; do
    echo "FAIL: a framefs mount was left behind: $mnt"
    failed=$((failed + 1))
    failures+=("[run-all] FAIL: mount left behind: $mnt")
    fusermount3 -uz "$mnt" 2>/dev/null
done < <(awk -v run="$RUN_TMP/" 'index($5, run) == 1 { for (i = 7; i < NF; i++) if ($i == "-") { if ($(i + 1) ~ /^fuse/) print $5; break } }' /proc/self/mountinfo)
rmdir "$RUN_TMP" 2>/dev/null || true

echo
if [ ${#failures[@]} -gt 0 ]; then
    echo "Failures:"
    printf '  %s\n' "${failures[@]}"
    echo
fi
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
