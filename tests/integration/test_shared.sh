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

wait_stores() {   # wait_stores MNT N: until MNT's shared_stores reach N (10 s, SLOW times)
    for _ in $(seq $((100 * SLOW))); do [ "$(mount_stat "$1" shared_stores)" -ge "$2" ] && return 0; sleep 0.1; done
    return 1
}
settle() {   # settle MNT: until MNT's decodes stay the same for 0.5 s (SLOW times; 20 s at most)
    local a b
    for _ in $(seq 40); do
        a=$(mount_stat "$1" decodes)
        sleep "$(awk -v s="$SLOW" 'BEGIN { print 0.5 * s }')"
        b=$(mount_stat "$1" decodes)
        [ "$a" = "$b" ] && return 0
    done
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
for _ in $(seq 100); do [ "$(mount_stat "$A" shared_stores)" -ge 7 ] && break; sleep 0.1; done
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
decodes=$(mount_stat "$B" decodes)
hits=$(mount_stat "$B" shared_hits)
[ "$decodes" = 0 ] && [ "$hits" -ge $(( ${#FRAMES[@]} + 1 )) ] &&
    pass "B decoded nothing: user.stats decodes=$decodes shared_hits=$hits (2 indexes included), $b_cpu CPU ticks for 5 frames" ||
    fail "B: decodes=$decodes shared_hits=$hits ($(getfattr --absolute-names --only-values -n user.stats "$B"))"
[ "$b_cpu" -le 30 ] && pass "B's CPU time for the 5 frames: $b_cpu ticks (<= 0.3 s)" ||
    fail "B used $b_cpu CPU ticks for 5 shared frames"
a_decodes=$(mount_stat "$A" decodes)
[ "$a_decodes" -ge 5 ] && pass "A decoded them ($a_decodes decodes)" || fail "A: decodes=$a_decodes"

# ---- scene scores: A's pass, B's listing without one ----
stores0=$(mount_stat "$A" shared_stores)
a_sc=$(t ls "$A/clip.mp4/scenes" | tr '\n' ' ')
wait_stores "$A" $((stores0 + 1)) || fail "A stored no scene scores (shared_stores $(mount_stat "$A" shared_stores))"
d0=$(mount_stat "$B" decodes)
b_sc=$(t ls "$B/deeper/same-clip.mkv.mp4/scenes,min=0" | tr '\n' ' ')
b_sc2=$(t ls "$B/deeper/same-clip.mkv.mp4/scenes" | tr '\n' ' ')
d1=$(mount_stat "$B" decodes)
[ -n "$a_sc" ] && [ "$b_sc2" = "$a_sc" ] && [ "$d1" = "$d0" ] &&
    pass "B lists the shots A found ($a_sc; min=0: $b_sc) from the shared scores, decoding nothing" ||
    fail "scenes: A '$a_sc', B '$b_sc2', B decodes $d0 -> $d1"

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
[ "$(mount_stat "$A" shared_errors)" -gt 0 ] && pass "user.stats counts shared-cache errors ($(mount_stat "$A" shared_errors))" ||
    fail "no shared_errors counted: $(getfattr --absolute-names --only-values -n user.stats "$A")"

# ---- restarted on the same port: used again without a remount ----
mc_start || exit 1
sleep 2.2       # the client's retry interval: 1 to 2 s (libmemcached counts whole seconds)
stores0=$(mount_stat "$A" shared_stores)
errors0=$(( $(mount_stat "$A" shared_errors) + $(mount_stat "$B" shared_errors) ))
t cp "$A/clip.mp4/t=1.9,w=120.jpg" "$WORK/re-A.jpg"
t cp "$A/clip.mp4/t=2.2,w=120.jpg" "$WORK/re-A2.jpg"
# A's puts are asynchronous (and slow under the sanitizers): wait for them.
for _ in $(seq 100); do
    [ "$(mount_stat "$A" shared_stores)" -ge $((stores0 + 2)) ] && break
    sleep 0.1
done
d0=$(mount_stat "$B" decodes)
t cp "$B/deeper/same-clip.mkv.mp4/t=1.9,w=120.jpg" "$WORK/re-B.jpg"
t cp "$B/deeper/same-clip.mkv.mp4/t=2.2,w=120.jpg" "$WORK/re-B2.jpg"
d1=$(mount_stat "$B" decodes)
errors1=$(( $(mount_stat "$A" shared_errors) + $(mount_stat "$B" shared_errors) ))
cmp -s "$WORK/re-A.jpg" "$WORK/re-B.jpg" && cmp -s "$WORK/re-A2.jpg" "$WORK/re-B2.jpg" && [ "$d1" = "$d0" ] &&
    pass "memcached restarted on its port: A stores again, B serves 2 frames from it (decodes stay $d0)" ||
    fail "after restart: identical $(cmp -s "$WORK/re-A.jpg" "$WORK/re-B.jpg" && echo yes || echo no), B decodes $d0 -> $d1"
[ "$errors1" = "$errors0" ] &&
    pass "after the restart no I/O thread fails on a connection the kill left dead (shared_errors stay $errors0)" ||
    fail "after the restart: shared_errors $errors0 -> $errors1 (a dead connection was used)"
grep -q 'shared cache 127.0.0.1:[0-9]*: reachable' <(sed -n '/unreachable/,$p' "$A_LOG") &&
    pass "reconnection logged: $(sed -n '/unreachable/,$p' "$A_LOG" | grep -m1 ': reachable')" ||
    fail "no 'reachable' line after the restart: $(grep 'shared cache' "$A_LOG")"

# ---- restarted while both hosts were idle: no op saw it go down ----
# Every I/O thread holds a socket to the old process; the first call on one
# fails, and is made once more on a fresh connection instead of counting as
# an error (and a miss).
sa=$(mount_stat "$A" shared_stores)
sb=$(mount_stat "$B" shared_stores)
pids=""
for d in 1 2 3 4 5 6; do
    cat "$A/clip.mp4/t=2.$d,w=72.jpg" >/dev/null & pids="$pids $!"
    cat "$B/deeper/same-clip.mkv.mp4/t=0.$d,w=72.jpg" >/dev/null & pids="$pids $!"
done
wait $pids
# their puts are done before the restart (none counts among A's 4 below)
wait_stores "$A" $((sa + 6)) && wait_stores "$B" $((sb + 6)) ||
    fail "restarted while idle: the 12 reads before it were not all stored"
mc_stop
mc_start || exit 1
errors0=$(( $(mount_stat "$A" shared_errors) + $(mount_stat "$B" shared_errors) ))
stores0=$(mount_stat "$A" shared_stores)
# frames in 4 GOPs, far apart: B's reads start no readahead (local decodes)
IDLE_T="0.45 1.45 2.45 2.95"
pids=""
for d in $IDLE_T; do
    cp "$A/clip.mp4/t=$d,w=88.jpg" "$WORK/idle-A-$d.jpg" & pids="$pids $!"
done
wait $pids
wait_stores "$A" $((stores0 + 4))
# The 6 consecutive frames B read before the restart started readahead (4
# frames ahead): wait until it is done, so that only this step's decodes count.
settle "$B"
d0=$(mount_stat "$B" decodes)
b_timeouts0=$(grep -c 'TIMEOUT' "$B_LOG")
same=0
for d in $IDLE_T; do
    t cp "$B/deeper/same-clip.mkv.mp4/t=$d,w=88.jpg" "$WORK/idle-B-$d.jpg" &&
        cmp -s "$WORK/idle-A-$d.jpg" "$WORK/idle-B-$d.jpg" && same=$((same + 1))
done
d1=$(mount_stat "$B" decodes)
errors1=$(( $(mount_stat "$A" shared_errors) + $(mount_stat "$B" shared_errors) ))
# B decodes nothing: a worker waits for a get an I/O thread has taken until
# memcached answers (cache/shared.h), so a loaded machine (ASan) costs time,
# not a local decode.  Only a memcached call that ran out of its own 50 ms
# timeout during this step (B's log says so; possible under ThreadSanitizer)
# marks the server down and lets B decode.  The dead sockets would show as
# shared errors, which the old code had.
b_timeouts=$(( $(grep -c 'TIMEOUT' "$B_LOG") - b_timeouts0 ))
if [ "$d1" != "$d0" ] && [ "$b_timeouts" -gt 0 ]; then
    note "(B decoded $((d1 - d0)) frames: $b_timeouts memcached calls timed out on B: $(grep 'TIMEOUT' "$B_LOG" | tail -n 1))"
    d1=$d0
fi
[ "$same" = 4 ] && [ "$errors1" = "$errors0" ] && [ "$d1" = "$d0" ] &&
    pass "memcached restarted while both hosts were idle: A stores 4 frames, B reads them (decodes $d0 -> $d1), no shared error" ||
    fail "restarted while idle: $same of 4 identical, B decodes $d0 -> $d1, shared_errors $errors0 -> $errors1, A stored $(( $(mount_stat "$A" shared_stores) - stores0 )) of 4; B: $(getfattr --absolute-names --only-values -n user.stats "$B"); memcached: $(mc_cmd stats | grep -aE 'get_(hits|misses)|curr_items|cmd_set' | tr -d '\r' | tr '\n' ' ')"

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
corrupt=$(mount_stat "$C" shared_corrupt)
[ "$corrupt" -ge 2 ] && pass "the garbage is ignored and counted: shared_corrupt=$corrupt, decodes=$(mount_stat "$C" decodes)" ||
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

# ---- two servers (ketama): values spread over both; one killed ----
# 15 values (14 frames, the index): all on one server once in 16000 runs.
P1=$(free_port)
mc_start_on "$P1" || exit 1
MC1_PID=$MC_LAST
P2=$(free_port)
mc_start_on "$P2" || exit 1
MC2_PID=$MC_LAST
TWO="shared_cache=127.0.0.1:$P1+127.0.0.1:$P2"
A2=$WORK/a2
B2=$WORK/b2
mount_framefs "$A_SRC" "$A2" "$TWO" || exit 1
A2_LOG=$MOUNT_LOG
mount_framefs "$B_SRC" "$B2" "$TWO" || exit 1
B2_LOG=$MOUNT_LOG
TWO_FRAMES=("t=0.3.png" "t=0.9,w=160.jpg" "n=33.ppm" "t=1.5,w=120.png" "t=2.3.jpg" "n=70,w=200.jpg")
for n in 3 9 17 29 44 52 61 66; do TWO_FRAMES+=("n=$n,w=64.jpg"); done
for f in "${TWO_FRAMES[@]}"; do t cp "$A2/clip.mp4/$f" "$WORK/A2-$f" || fail "A2: cp $f"; done
wait_stores "$A2" $(( ${#TWO_FRAMES[@]} + 1 )) || fail "A2 stored $(mount_stat "$A2" shared_stores) values, not ${#TWO_FRAMES[@]} frames and the index"
n1=$(mc_keys "$P1" | grep -vc '^L:')
n2=$(mc_keys "$P2" | grep -vc '^L:')
[ "$n1" -gt 0 ] && [ "$n2" -gt 0 ] && [ $((n1 + n2)) -eq $(( ${#TWO_FRAMES[@]} + 1 )) ] &&
    pass "two servers: A's $((n1 + n2)) values (${#TWO_FRAMES[@]} frames, 1 index) spread over both, $n1 + $n2" ||
    fail "two servers: $n1 values on the first, $n2 on the second, $(( ${#TWO_FRAMES[@]} + 1 )) stored"
same=0
for f in "${TWO_FRAMES[@]}"; do
    t cp "$B2/deeper/same-clip.mkv.mp4/$f" "$WORK/B2-$f" && cmp -s "$WORK/A2-$f" "$WORK/B2-$f" && same=$((same + 1))
done
decodes=$(mount_stat "$B2" decodes)
[ "$same" -eq "${#TWO_FRAMES[@]}" ] && [ "$decodes" = 0 ] &&
    pass "two servers: B serves A's ${#TWO_FRAMES[@]} frames byte-identical from both, decodes=0 (shared_hits=$(mount_stat "$B2" shared_hits))" ||
    fail "two servers: $same of ${#TWO_FRAMES[@]} identical, B decodes=$decodes"
mc_kill "$MC2_PID"
ok=0 slow=0
for t_ in 0.1 1.1 2.1 2.7; do
    s0=$(now_ms)
    t cp "$A2/clip.mp4/t=$t_,w=96.jpg" "$WORK/one-A-$t_.jpg" && t cp "$B2/deeper/same-clip.mkv.mp4/t=$t_,w=96.jpg" "$WORK/one-B-$t_.jpg" &&
        cmp -s "$WORK/one-A-$t_.jpg" "$WORK/one-B-$t_.jpg" && ok=$((ok + 1))
    [ $(( $(now_ms) - s0 )) -gt $((3000 * SLOW)) ] && slow=$((slow + 1))
done
[ "$ok" -eq 4 ] && [ "$slow" -eq 0 ] && mount_alive "$A2" && mount_alive "$B2" &&
    pass "one of the two servers killed: 4 new frames on both mounts succeed, identical, none slow" ||
    fail "one of two servers killed: $ok of 4 identical, $slow slower than $((3 * SLOW)) s"
# A fresh mount reads A's 14 frames: some were on the dead server (checked
# above), so it must log that server's change, once; and no mount logs the
# pool's state flipping back ("reachable") at an op to the live server.
C2=$WORK/c2
mount_framefs "$A_SRC" "$C2" "$TWO" || exit 1
C2_LOG=$MOUNT_LOG
same=0
for f in "${TWO_FRAMES[@]}"; do
    t cp "$C2/clip.mp4/$f" "$WORK/C2-$f" && cmp -s "$WORK/A2-$f" "$WORK/C2-$f" && same=$((same + 1))
done
log_ok=1
for log in "$A2_LOG" "$B2_LOG" "$C2_LOG"; do
    n=$(grep -c "shared cache 127.0.0.1:$P2: unreachable" "$log")
    [ "$n" -le 1 ] || log_ok=0
    sed -n "/127.0.0.1:$P2: unreachable/,\$p" "$log" | grep -q "127.0.0.1:$P2: reachable" && log_ok=0
done
[ "$same" -eq "${#TWO_FRAMES[@]}" ] && [ "$log_ok" = 1 ] &&
    [ "$(grep -c "shared cache 127.0.0.1:$P2: unreachable" "$C2_LOG")" -eq 1 ] &&
    pass "one of two servers dead: a fresh mount serves A's ${#TWO_FRAMES[@]} frames, identical, and logs the dead server once: $(grep -m1 ': unreachable' "$C2_LOG"); no mount flips back" ||
    fail "one of two servers dead: $same of ${#TWO_FRAMES[@]} identical on a fresh mount; logs: $(grep -h 'shared cache' "$A2_LOG" "$B2_LOG" "$C2_LOG" | tr '\n' '|')"
unmount_framefs "$C2"
unmount_framefs "$A2"
unmount_framefs "$B2"

# ---- shared_cache_ttl: served before it expires, made again after ----
TTL=2
A3=$WORK/a3
B3=$WORK/b3
mount_framefs "$A_SRC" "$A3" "shared_cache=127.0.0.1:$P1,shared_cache_ttl=$TTL" || exit 1
mount_framefs "$B_SRC" "$B3" "shared_cache=127.0.0.1:$P1,shared_cache_ttl=$TTL" || exit 1
t cp "$B3/deeper/same-clip.mkv.mp4/t=0.2,w=80.jpg" "$WORK/ttl-warm.jpg"   # B has the video open
stores=$(mount_stat "$A3" shared_stores)
t cp "$A3/clip.mp4/t=0.4,w=110.jpg" "$WORK/ttl-A1.jpg"
wait_stores "$A3" $((stores + 1))
d0=$(mount_stat "$B3" decodes)
s0=$(now_ms)
t cp "$B3/deeper/same-clip.mkv.mp4/t=0.4,w=110.jpg" "$WORK/ttl-B1.jpg"
ms=$(( $(now_ms) - s0 ))
d1=$(mount_stat "$B3" decodes)
cmp -s "$WORK/ttl-A1.jpg" "$WORK/ttl-B1.jpg" && [ "$d1" = "$d0" ] &&
    pass "shared_cache_ttl=$TTL: before it expires, B serves A's frame (identical, decodes stay $d0, read in $ms ms)" ||
    fail "shared_cache_ttl=$TTL, before expiry: identical $(cmp -s "$WORK/ttl-A1.jpg" "$WORK/ttl-B1.jpg" && echo yes || echo no), B decodes $d0 -> $d1"
stores=$(mount_stat "$A3" shared_stores)
t cp "$A3/clip.mp4/t=1.4,w=110.jpg" "$WORK/ttl-A2.jpg"
wait_stores "$A3" $((stores + 1)) || fail "shared_cache_ttl: A did not store t=1.4"
sleep $((TTL + 2))                          # memcached counts whole seconds
d0=$(mount_stat "$B3" decodes)
t cp "$B3/deeper/same-clip.mkv.mp4/t=1.4,w=110.jpg" "$WORK/ttl-B2.jpg"
d1=$(mount_stat "$B3" decodes)
cmp -s "$WORK/ttl-A2.jpg" "$WORK/ttl-B2.jpg" && [ "$d1" = $((d0 + 1)) ] &&
    pass "shared_cache_ttl=$TTL: after $((TTL + 2)) s the value expired, B decodes it itself ($d0 -> $d1), identical" ||
    fail "shared_cache_ttl=$TTL, after expiry: identical $(cmp -s "$WORK/ttl-A2.jpg" "$WORK/ttl-B2.jpg" && echo yes || echo no), B decodes $d0 -> $d1"
unmount_framefs "$A3"
unmount_framefs "$B3"

# ---- single flight: two hosts ask for a slow frame at once, one decodes ----
# 1080p noisy H.264, keyframes every 20 frames: n=32 decodes 13 frames.  A
# host that finds the lease taken waits 1.5 times its own mean time to make a
# frame (0.1 to 3 s; decoder/shared_key.c, the mean from frame_job.c): each mount first
# makes a deeper frame (n=16, n=17: 17 and 18 frames decoded), so that its
# wait covers the other's decode.
ffmpeg -nostdin -loglevel error -f lavfi -i "testsrc2=s=1920x1080:r=25:d=1.6,noise=alls=12:allf=t" \
    -c:v libx264 -preset ultrafast -qp 24 -g 20 -keyint_min 20 -sc_threshold 0 -pix_fmt yuv420p \
    "$A_SRC/flight.mp4" || { fail "cannot make flight.mp4"; exit 1; }
cp "$A_SRC/flight.mp4" "$B_SRC/deeper/flight-copy.mp4"
A4=$WORK/a4
B4=$WORK/b4
mount_framefs "$A_SRC" "$A4" "shared_cache=127.0.0.1:$P1" || exit 1
mount_framefs "$B_SRC" "$B4" "shared_cache=127.0.0.1:$P1" || exit 1
s0=$(now_ms)
t cp "$A4/flight.mp4/n=16,w=480.jpg" "$WORK/warm-A.jpg" || fail "A: warm-up frame"
warm_a=$(( $(now_ms) - s0 ))
s0=$(now_ms)
t cp "$B4/deeper/flight-copy.mp4/n=17,w=480.jpg" "$WORK/warm-B.jpg" || fail "B: warm-up frame"
warm_b=$(( $(now_ms) - s0 ))
d0=$(( $(mount_stat "$A4" decodes) + $(mount_stat "$B4" decodes) ))
s0=$(now_ms)
t cp "$A4/flight.mp4/n=32,w=480.jpg" "$WORK/flight-A.jpg" & pa=$!
t cp "$B4/deeper/flight-copy.mp4/n=32,w=480.jpg" "$WORK/flight-B.jpg" & pb=$!
wait "$pa"; sa=$?
wait "$pb"; sb=$?
ms=$(( $(now_ms) - s0 ))
da=$(mount_stat "$A4" decodes)
db=$(mount_stat "$B4" decodes)
d1=$((da + db))
[ "$sa" = 0 ] && [ "$sb" = 0 ] && [ -s "$WORK/flight-A.jpg" ] && cmp -s "$WORK/flight-A.jpg" "$WORK/flight-B.jpg" &&
    [ $((d1 - d0)) = 1 ] &&
    pass "single flight: A and B ask for a slow 1080p frame at once, one decode between them ($d0 -> $d1), identical, $ms ms (warm-ups $warm_a, $warm_b ms)" ||
    fail "single flight: status $sa $sb, identical $(cmp -s "$WORK/flight-A.jpg" "$WORK/flight-B.jpg" && echo yes || echo no), decodes $d0 -> $d1 (A $da, B $db), $ms ms (warm-ups $warm_a, $warm_b ms)"
unmount_framefs "$A4"
unmount_framefs "$B4"
mc_kill "$MC1_PID"

# ---- a host that died holding a lease: the others wait a bounded time ----
# A makes a frame; its key is the new value memcached lists.  The value is
# deleted and its lease (L:KEY, as cache/shared.c takes it) planted for a minute,
# as a host leaves it that died while decoding: B still reads the frame,
# within the wait's bound (3 s at most) and its own decode.
mc_keys >"$WORK/keys-lease"
stores=$(mount_stat "$A" shared_stores)
t cp "$A/clip.mp4/t=2.6,w=150.jpg" "$WORK/lease-A.jpg"
wait_stores "$A" $((stores + 1))
mapfile -t new < <(new_values "$WORK/keys-lease")
if [ "${#new[@]}" -ne 1 ]; then
    fail "dead lease: ${#new[@]} new values after A's frame, not 1: ${new[*]}"
else
    K=${new[0]}
    s0=$(now_ms)
    t cp "$B/deeper/same-clip.mkv.mp4/t=2.3,w=150.jpg" "$WORK/lease-ref.jpg"   # a decode on B, for the bound
    dec=$(( $(now_ms) - s0 ))
    planted=$(mc_cmd "delete $K" | tr -d '\r')/$(mc_cmd "set L:$K 0 60 4"$'\r\n'"dead" | tr -d '\r')
    d0=$(mount_stat "$B" decodes)
    stores=$(mount_stat "$B" shared_stores)
    s0=$(now_ms)
    t cp "$B/deeper/same-clip.mkv.mp4/t=2.6,w=150.jpg" "$WORK/lease-B.jpg"; st=$?
    ms=$(( $(now_ms) - s0 ))
    d1=$(mount_stat "$B" decodes)
    wait_stores "$B" $((stores + 1))
    # the lease B found is still there, and B's value went under the same key
    lease=$(mc_cmd "get L:$K" | sed -n 2p | tr -d '\r')
    value=$(mc_cmd "get $K" | head -n 1 | cut -d " " -f 1)
    bound=$(( 3000 + dec + 1000 * SLOW ))
    [ "$planted" = "DELETED/STORED" ] && [ "$lease" = dead ] && [ "$value" = VALUE ] ||
        fail "dead lease: planted '$planted', lease afterwards '$lease', B's value under $K: '$value'"
    [ "$st" = 0 ] && cmp -s "$WORK/lease-A.jpg" "$WORK/lease-B.jpg" && [ "$d1" = $((d0 + 1)) ] &&
        [ "$ms" -ge 100 ] && [ "$ms" -lt "$bound" ] &&
        pass "a lease left by a dead host: B waits, then decodes it itself ($ms ms, >= the 100 ms wait, < $bound ms: 3 s + a decode's $dec ms + margin), identical" ||
        fail "dead lease: status $st, identical $(cmp -s "$WORK/lease-A.jpg" "$WORK/lease-B.jpg" && echo yes || echo no), B decodes $d0 -> $d1, $ms ms (bound 100 to $bound)"
fi

# ---- one corrupt chunk of a chunked value ----
# A 1080p PNG over 1 MB is stored in chunks (KEY:c0, KEY:c1, ...) behind a
# header with its length and checksum.  Chunk 0 spoiled with bytes of the
# same length, the header kept: B, asking for the frame under its own name,
# must notice, count it, and make the frame itself.
SHARED_CHUNK_BYTES=1000000                  # SHARED_CHUNK (shared.h)
mc_keys >"$WORK/keys-chunk"
stores=$(mount_stat "$A" shared_stores)
t cp "$A/big.mp4/t=0.7.png" "$WORK/chunk-A.png"
wait_stores "$A" $((stores + 1))
mapfile -t new < <(new_values "$WORK/keys-chunk")
size=$(stat -c %s "$WORK/chunk-A.png")
if [ "${#new[@]}" -ne 1 ] || [ "$size" -le 1048576 ]; then
    fail "corrupt chunk: ${#new[@]} new values after A's $size-byte frame, not 1: ${new[*]}"
else
    K=${new[0]}
    chunks=$(mc_keys | grep -cF "$K:c")
    spoiled=$(mc_spoil "$K:c0")
    header=$(mc_cmd "get $K" | head -n 1 | cut -d " " -f 1)
    c0=$(mount_stat "$B" shared_corrupt)
    d0=$(mount_stat "$B" decodes)
    t cp "$B/renamed.mp4/t=0.7.png" "$WORK/chunk-B.png"
    c1=$(mount_stat "$B" shared_corrupt)
    d1=$(mount_stat "$B" decodes)
    [ "$chunks" -ge 2 ] && [ "$spoiled" = "$SHARED_CHUNK_BYTES" ] && [ "$header" = VALUE ] ||
        fail "corrupt chunk: $chunks chunks, chunk 0 spoiled: '$spoiled' bytes, header kept: '$header'"
    cmp -s "$WORK/chunk-A.png" "$WORK/chunk-B.png" && [ "$c1" -ge $((c0 + 1)) ] && [ "$d1" = $((d0 + 1)) ] &&
        pass "one corrupt chunk (of $chunks, $spoiled bytes, same length): B serves correct bytes ($size), shared_corrupt $c0 -> $c1, decodes $d0 -> $d1" ||
        fail "corrupt chunk: identical $(cmp -s "$WORK/chunk-A.png" "$WORK/chunk-B.png" && echo yes || echo no), shared_corrupt $c0 -> $c1, decodes $d0 -> $d1"
fi

unmount_all
mc_stop
mc_stop_more
[ "$(failures)" -eq 0 ]
