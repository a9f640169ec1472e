#!/usr/bin/env bash
# The shared cache (-o shared_cache=HOST:PORT): two mounts stand for two
# hosts, over two source directories that hold the same video under other
# paths and names, sharing one memcached (Debian's, started here on a random
# loopback port and stopped by its pid).  Frames made on A are served by B
# without decoding, byte for byte; a 1080p frame over 1 MB goes in chunks;
# memcached killed mid-run and restarted on its port; every stored item
# overwritten with garbage; a closed port.  Reads must always succeed.
# Then: two servers (ketama), one of them killed; shared_cache_ttl; single
# flight across hosts (one decode for two hosts asking at once); a lease
# left by a host that died; one corrupt chunk of a chunked value.
. "$(dirname "$0")/../lib.sh"

require_framefs
MEMCACHED=$(command -v memcached || echo /usr/bin/memcached)
[ -x "$MEMCACHED" ] || { fail "memcached not installed (scripts/install-deps)"; exit 1; }

MC_PID=""
MC_PORT=""
free_port() {
    /usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
mc_start() {   # on $MC_PORT, waits until it answers
    "$MEMCACHED" -u nobody -l 127.0.0.1 -p "$MC_PORT" -U 0 -m 64 >"$WORK/memcached.log" 2>&1 &
    MC_PID=$!
    for _ in $(seq 50); do mc_cmd "version" | grep -q VERSION && return 0; sleep 0.1; done
    fail "memcached did not start on port $MC_PORT: $(cat "$WORK/memcached.log")"
    return 1
}
mc_stop() {
    [ -n "$MC_PID" ] || return 0
    kill "$MC_PID" 2>/dev/null
    wait "$MC_PID" 2>/dev/null
    MC_PID=""
}
# mc_cmd TEXT [PORT]: one text-protocol exchange with our memcached (or the
# one on PORT)
mc_cmd() {
    /usr/bin/python3 - "${2:-$MC_PORT}" "$1" <<'PY'
import socket, sys
cmd = sys.argv[2]
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=2)
s.sendall(cmd.encode() + b"\r\n")
multi = cmd.startswith(("get ", "lru_crawler"))     # answers that end with END
out = b""
try:
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        out += chunk
        if out.endswith(b"END\r\n") or (not multi and out.endswith(b"\r\n")):
            break
except socket.timeout:
    pass
sys.stdout.write(out.decode(errors="replace"))
PY
}
# More servers, for the sections with several: mc_start_on PORT starts one
# (its pid in MC_LAST, and in MC_MORE for the cleanup), mc_kill PID stops one.
MC_MORE=()
MC_LAST=""
mc_start_on() {
    "$MEMCACHED" -u nobody -l 127.0.0.1 -p "$1" -U 0 -m 64 >"$WORK/memcached-$1.log" 2>&1 &
    MC_LAST=$!
    MC_MORE+=("$MC_LAST")
    for _ in $(seq 50); do mc_cmd "version" "$1" | grep -q VERSION && return 0; sleep 0.1; done
    fail "memcached did not start on port $1: $(cat "$WORK/memcached-$1.log")"
    return 1
}
mc_kill() {
    local i
    for i in "${!MC_MORE[@]}"; do
        [ "${MC_MORE[$i]}" = "$1" ] || continue
        kill "$1" 2>/dev/null
        wait "$1" 2>/dev/null
        unset 'MC_MORE[i]'
    done
    return 0
}
mc_stop_more() {
    local p
    for p in ${MC_MORE[@]+"${MC_MORE[@]}"}; do mc_kill "$p"; done
    return 0
}
trap 'mc_stop; mc_stop_more; _lib_exit' EXIT

# mc_keys [PORT]: the keys a memcached holds (lru_crawler metadump), decoded
mc_keys() {
    mc_cmd "lru_crawler metadump all" "${1:-$MC_PORT}" | sed -n 's/^key=\([^ ]*\) .*/\1/p' |
        /usr/bin/python3 -c 'import sys, urllib.parse; [print(urllib.parse.unquote(l.strip())) for l in sys.stdin]'
}
# new_values KEYS_FILE [PORT]: the value keys (not leases L:..., not chunks
# ...:cN) held now that KEYS_FILE (an earlier mc_keys) does not list
new_values() {
    comm -13 <(sort "$1") <(mc_keys "${2:-$MC_PORT}" | sort) | grep -v '^L:' | grep -Ev ':c[0-9]+$'
}
# mc_spoil KEY [PORT]: KEY's value replaced by garbage of the same length (every
# byte flipped), flags and all, through the text protocol; prints the length
mc_spoil() {
    /usr/bin/python3 - "${2:-$MC_PORT}" "$1" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=2)
f = s.makefile("rwb")
key = sys.argv[2].encode()
f.write(b"get " + key + b"\r\n")
f.flush()
head = f.readline().split()
if head[:1] != [b"VALUE"]:
    sys.exit(1)
flags, n = int(head[2]), int(head[3])
value = f.read(n + 2)[:n]
f.readline()                                        # END
f.write(b"set %s %d 0 %d\r\n" % (key, flags, n) + bytes(b ^ 0x5A for b in value) + b"\r\n")
f.flush()
if f.readline() != b"STORED\r\n":
    sys.exit(1)
print(n)
PY
}

stat_of() {   # stat_of MNT KEY: one counter of the mount's user.stats
    getfattr --absolute-names --only-values -n user.stats "$1" 2>/dev/null |
        /usr/bin/python3 -c "import json, sys; print(json.load(sys.stdin)['$2'])"
}
wait_stores() {   # wait_stores MNT N: until MNT's shared_stores reach N (10 s, SLOW times)
    for _ in $(seq $((100 * SLOW))); do [ "$(stat_of "$1" shared_stores)" -ge "$2" ] && return 0; sleep 0.1; done
    return 1
}
# Timing bounds are SLOW times wider under the sanitizers.
SLOW=1
[ "${SANITIZED:-0}" = 1 ] && SLOW=3

# ---- media: the same bytes in two trees, under other names ----
A_SRC=$WORK/host-a
B_SRC=$WORK/host-b
mkdir -p "$A_SRC" "$B_SRC/deeper"
ffmpeg -nostdin -loglevel error -f lavfi -i "testsrc2=s=352x288:r=25:d=3,noise=alls=8:allf=t" \
    -c:v libx264 -pix_fmt yuv420p -g 25 "$A_SRC/clip.mp4" || { fail "cannot make clip.mp4"; exit 1; }
ffmpeg -nostdin -loglevel error -f lavfi -i "testsrc2=s=1920x1080:r=25:d=1,noise=alls=12:allf=t" \
    -c:v libx264 -preset veryfast -b:v 20M -pix_fmt yuv420p "$A_SRC/big.mp4" ||
    { fail "cannot make big.mp4"; exit 1; }
cp "$A_SRC/clip.mp4" "$B_SRC/deeper/same-clip.mkv.mp4"
cp "$A_SRC/big.mp4" "$B_SRC/renamed.mp4"
FRAMES=("t=0.5.png" "t=1.2,w=200.jpg" "n=40.ppm" "t=2.9.png")

MC_PORT=$(free_port)
mc_start || exit 1
A=$WORK/a
B=$WORK/b
mount_framefs "$A_SRC" "$A" "shared_cache=127.0.0.1:$MC_PORT" || exit 1
A_PID=$MOUNT_PID
A_LOG=$MOUNT_LOG
mount_framefs "$B_SRC" "$B" "shared_cache=127.0.0.1:$MC_PORT" || exit 1
B_PID=$MOUNT_PID
B_LOG=$MOUNT_LOG

# ---- A makes, B serves without decoding ----
for f in "${FRAMES[@]}"; do t cp "$A/clip.mp4/$f" "$WORK/A-$f" || fail "A: cp $f"; done
t cp "$A/big.mp4/t=0.5.png" "$WORK/A-big.png" || fail "A: cp big t=0.5.png"
# the puts are asynchronous: 2 indexes and 5 frames
for _ in $(seq 100); do [ "$(stat_of "$A" shared_stores)" -ge 7 ] && break; sleep 0.1; done
b_cpu0=$(proc_cpu_ticks "$B_PID")
same=0
for f in "${FRAMES[@]}"; do
    t cp "$B/deeper/same-clip.mkv.mp4/$f" "$WORK/B-$f" && cmp -s "$WORK/A-$f" "$WORK/B-$f" &&
        same=$((same + 1))
done
[ "$same" -eq "${#FRAMES[@]}" ] && pass "B serves A's ${#FRAMES[@]} frames (png, jpg, ppm) under another path, byte-identical" ||
    fail "B: $same of ${#FRAMES[@]} frames identical to A's"
size=$(stat -c %s "$WORK/A-big.png")
t cp "$B/renamed.mp4/t=0.5.png" "$WORK/B-big.png"
[ "$size" -gt 1048576 ] && cmp -s "$WORK/A-big.png" "$WORK/B-big.png" &&
    pass "a 1080p noisy PNG of $size bytes (over 1 MiB: chunked) round-trips, identical" ||
    fail "1080p PNG: $size bytes, identical: $(cmp "$WORK/A-big.png" "$WORK/B-big.png" 2>&1)"
b_cpu=$(( $(proc_cpu_ticks "$B_PID") - b_cpu0 ))
decodes=$(stat_of "$B" decodes)
hits=$(stat_of "$B" shared_hits)
[ "$decodes" = 0 ] && [ "$hits" -ge $(( ${#FRAMES[@]} + 1 )) ] &&
    pass "B decoded nothing: user.stats decodes=$decodes shared_hits=$hits (2 indexes included), $b_cpu CPU ticks for 5 frames" ||
    fail "B: decodes=$decodes shared_hits=$hits ($(getfattr --absolute-names --only-values -n user.stats "$B"))"
[ "$b_cpu" -le 30 ] && pass "B's CPU time for the 5 frames: $b_cpu ticks (<= 0.3 s)" ||
    fail "B used $b_cpu CPU ticks for 5 shared frames"
a_decodes=$(stat_of "$A" decodes)
[ "$a_decodes" -ge 5 ] && pass "A decoded them ($a_decodes decodes)" || fail "A: decodes=$a_decodes"

# ---- memcached killed mid-run: reads still succeed, made locally ----
# First, readers in parallel, so that every I/O thread of both mounts holds
# a connection that the kill leaves dead.
pids=""
for d in 1 2 3 4 5 6; do
    cat "$A/clip.mp4/t=0.$d,w=64.jpg" >/dev/null & pids="$pids $!"
    cat "$B/deeper/same-clip.mkv.mp4/t=1.$d,w=64.jpg" >/dev/null & pids="$pids $!"
done
warm=0
for p in $pids; do wait "$p" && warm=$((warm + 1)); done
[ "$warm" -eq 12 ] || fail "12 parallel reads before the kill: $warm succeeded"
mc_stop
slow=0 ok=0
for t_ in 0.3 0.7 1.7 2.1; do
    s0=$(now_ms)
    t cp "$A/clip.mp4/t=$t_,w=100.jpg" "$WORK/down-A-$t_.jpg" && t cp "$B/deeper/same-clip.mkv.mp4/t=$t_,w=100.jpg" "$WORK/down-B-$t_.jpg" &&
        cmp -s "$WORK/down-A-$t_.jpg" "$WORK/down-B-$t_.jpg" && ok=$((ok + 1))
    [ $(( $(now_ms) - s0 )) -gt 3000 ] && slow=$((slow + 1))
done
[ "$ok" -eq 4 ] && [ "$slow" -eq 0 ] &&
    pass "memcached killed: 4 new frames on both mounts succeed, made locally, identical, none slow" ||
    fail "memcached killed: $ok of 4 identical, $slow slower than 3 s"
sleep 0.2
grep -q 'shared cache 127.0.0.1:[0-9]*: unreachable' "$A_LOG" &&
    [ "$(grep -c 'unreachable' "$A_LOG")" -eq 1 ] &&
    pass "one log line for the state change: $(grep -m1 unreachable "$A_LOG")" ||
    fail "A's log: $(grep 'shared cache' "$A_LOG" | head -5)"
[ "$(stat_of "$A" shared_errors)" -gt 0 ] && pass "user.stats counts shared-cache errors ($(stat_of "$A" shared_errors))" ||
    fail "no shared_errors counted: $(getfattr --absolute-names --only-values -n user.stats "$A")"

# ---- restarted on the same port: used again without a remount ----
mc_start || exit 1
sleep 2.2       # the client's retry interval: 1 to 2 s (libmemcached counts whole seconds)
stores0=$(stat_of "$A" shared_stores)
errors0=$(( $(stat_of "$A" shared_errors) + $(stat_of "$B" shared_errors) ))
t cp "$A/clip.mp4/t=1.9,w=120.jpg" "$WORK/re-A.jpg"
t cp "$A/clip.mp4/t=2.2,w=120.jpg" "$WORK/re-A2.jpg"
# A's puts are asynchronous (and slow under the sanitizers): wait for them.
for _ in $(seq 100); do
    [ "$(stat_of "$A" shared_stores)" -ge $((stores0 + 2)) ] && break
    sleep 0.1
done
d0=$(stat_of "$B" decodes)
t cp "$B/deeper/same-clip.mkv.mp4/t=1.9,w=120.jpg" "$WORK/re-B.jpg"
t cp "$B/deeper/same-clip.mkv.mp4/t=2.2,w=120.jpg" "$WORK/re-B2.jpg"
d1=$(stat_of "$B" decodes)
errors1=$(( $(stat_of "$A" shared_errors) + $(stat_of "$B" shared_errors) ))
cmp -s "$WORK/re-A.jpg" "$WORK/re-B.jpg" && cmp -s "$WORK/re-A2.jpg" "$WORK/re-B2.jpg" && [ "$d1" = "$d0" ] &&
    pass "memcached restarted on its port: A stores again, B serves 2 frames from it (decodes stay $d0)" ||
    fail "after restart: identical $(cmp -s "$WORK/re-A.jpg" "$WORK/re-B.jpg" && echo yes || echo no), B decodes $d0 -> $d1"
[ "$errors1" = "$errors0" ] &&
    pass "after the restart no I/O thread fails on a connection the kill left dead (shared_errors stay $errors0)" ||
    fail "after the restart: shared_errors $errors0 -> $errors1 (a dead connection was used)"
grep -q 'shared cache 127.0.0.1:[0-9]*: reachable' <(sed -n '/unreachable/,$p' "$A_LOG") &&
    pass "reconnection logged: $(sed -n '/unreachable/,$p' "$A_LOG" | grep -m1 ': reachable')" ||
    fail "no 'reachable' line after the restart: $(grep 'shared cache' "$A_LOG")"

# ---- memcached slow (stopped: connections open, nothing answers) ----
kill -STOP "$MC_PID"
ok=0 worst=0
for t_ in 0.15 0.45 2.45; do
    s0=$(now_ms)
    t cp "$B/deeper/same-clip.mkv.mp4/t=$t_,w=90.jpg" "$WORK/slow-B-$t_.jpg" && [ -s "$WORK/slow-B-$t_.jpg" ] &&
        ok=$((ok + 1))
    ms=$(( $(now_ms) - s0 ))
    [ "$ms" -gt "$worst" ] && worst=$ms
done
kill -CONT "$MC_PID"
[ "$ok" -eq 3 ] && [ "$worst" -lt 3000 ] &&
    pass "memcached stopped (SIGSTOP): 3 new frames served, made locally, the slowest in $worst ms (timeouts bound the wait)" ||
    fail "memcached stopped: $ok of 3 served, the slowest in $worst ms"
sleep 1.5                                   # the retry interval, after the timeouts

# ---- every stored item overwritten with garbage ----
# A fresh mount of A's tree stores the indexes and frames again (the
# restarted memcached is empty), then everything stored is spoiled.
E=$WORK/e
mount_framefs "$A_SRC" "$E" "shared_cache=127.0.0.1:$MC_PORT" || exit 1
t cp "$E/clip.mp4/t=0.5.png" "$WORK/keep.png"
t cp "$E/big.mp4/t=0.5.png" "$WORK/keep-big.png"
sleep 0.5
unmount_framefs "$E"
cmp -s "$WORK/keep.png" "$WORK/A-t=0.5.png" || fail "a fresh mount of A gives other bytes for t=0.5.png"
mapfile -t keys < <(mc_cmd "lru_crawler metadump all" | sed -n 's/^key=\([^ ]*\) .*/\1/p' |
    /usr/bin/python3 -c 'import sys, urllib.parse; [print(urllib.parse.unquote(l.strip())) for l in sys.stdin]')
for k in "${keys[@]}"; do mc_cmd "set $k 0 0 7"$'\r\n'"garbage" >/dev/null; done
[ "${#keys[@]}" -ge 5 ] && [ "$(mc_cmd "get ${keys[0]}" | sed -n 2p | tr -d '\r')" = garbage ] &&
    pass "${#keys[@]} stored items overwritten with garbage through the text protocol" ||
    fail "overwriting: ${#keys[@]} keys listed (lru_crawler metadump)"
C=$WORK/c
mount_framefs "$B_SRC" "$C" "shared_cache=127.0.0.1:$MC_PORT" || exit 1
t cp "$C/deeper/same-clip.mkv.mp4/t=0.5.png" "$WORK/C.png" && cmp -s "$WORK/C.png" "$WORK/keep.png" &&
    t cp "$C/renamed.mp4/t=0.5.png" "$WORK/C-big.png" && cmp -s "$WORK/C-big.png" "$WORK/A-big.png" &&
    pass "a fresh mount serves correct frames over garbage values (the 1080p one too)" ||
    fail "fresh mount over garbage: frames differ or fail"
corrupt=$(stat_of "$C" shared_corrupt)
[ "$corrupt" -ge 2 ] && pass "the garbage is ignored and counted: shared_corrupt=$corrupt, decodes=$(stat_of "$C" decodes)" ||
    fail "shared_corrupt=$corrupt ($(getfattr --absolute-names --only-values -n user.stats "$C"))"
unmount_framefs "$C"

# ---- a closed port: works normally ----
CLOSED=$(free_port)
D=$WORK/d
mount_framefs "$A_SRC" "$D" "shared_cache=127.0.0.1:$CLOSED" || exit 1
s0=$(now_ms)
t cp "$D/clip.mp4/t=0.5.png" "$WORK/D.png" && cmp -s "$WORK/D.png" "$WORK/keep.png" &&
    t cp "$D/clip.mp4/t=1.2,w=200.jpg" "$WORK/D.jpg" && cmp -s "$WORK/D.jpg" "$WORK/A-t=1.2,w=200.jpg" &&
    pass "shared_cache on a closed port: frames served normally ($(( $(now_ms) - s0 )) ms for 2)" ||
    fail "closed port: frames differ or fail"
unmount_framefs "$D"
if "$FRAMEFS" -f -o shared_cache=nohost "$A_SRC" "$D" 2>"$WORK/bad.err"; then
    fail "-o shared_cache=nohost mounted"
    fusermount3 -u "$D"
else
    grep -q "invalid shared_cache 'nohost'" "$WORK/bad.err" &&
        pass "-o shared_cache=nohost is refused before mounting: $(cat "$WORK/bad.err")" ||
        fail "-o shared_cache=nohost: $(cat "$WORK/bad.err")"
fi

unmount_all
mc_stop
[ "$(failures)" -eq 0 ]
