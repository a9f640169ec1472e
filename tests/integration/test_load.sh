#!/usr/bin/env bash
# Load: many concurrent readers against a tiny cache (-o cache_size=4M, so
# frames are evicted all the time and produced again at open).
#
# LOAD_READERS (default 16) readers run at once, each through its own list of
# operations over four generated videos (a 640x480 H.264 with B-frames and
# noise, whose PNGs are ~650 KB; an 800x600 MPEG-4 in Matroska, ~800 KB PNGs;
# a small VP9 WebM; an MPEG-2 TS):
#   R  stat a valid frame, read it with fsq in chunks of 7..1048576 bytes: the
#      byte count must be st_size, the pixels (png2raw | md5sum) the oracle's
#      frame the selection rule picks, user.actual_time that frame's time;
#   D  the same frame read concurrently through two descriptors (dualread,
#      two threads, two chunk sizes): both complete, identical, st_size bytes;
#   N  a malformed name (fresh each time, so no negative dentry hides it):
#      ENOENT;
#   P  a time past the end: read fails with EIO, user.result is "failed",
#      st_size 0.
# The valid names come from a small pool per video, so readers collide on
# the same frames (single-flight) while others are evicted.
#
# Memory (skipped under sanitizers, SANITIZED=1):
#  - a fresh mount reads all 100 frames of big.mp4 in order (64 MB of PNG,
#    16 times the cache), then runs one round of the load; framefs's peak RSS
#    (VmHWM) must stay within cache_size + workers * W + B, W = LOAD_W_KB and
#    B = LOAD_B_KB chosen from measurements (below);
#  - control: the same sweep with a 256M cache leaves RSS higher by at least
#    half the PNGs' bytes (so the RSS measurement does see the cache);
#  - a warm-up round then LOAD_ROUNDS (3) identical rounds, each followed by
#    a reset (see there): RSS must not grow by more than LOAD_GROWTH_KB.
. "$(dirname "$0")/../lib.sh"

require_framefs
[ -x "$TOOLS/dualread" ] || { fail "test tool missing: $TOOLS/dualread (make tools)"; exit 1; }

READERS=${LOAD_READERS:-16}
ROUNDS=${LOAD_ROUNDS:-3}
WORKERS=${LOAD_WORKERS:-4}
OPS=${LOAD_OPS:-12}              # operations per reader per round
SEED=${SEED:-4242}
CACHE=4M
CACHE_KB=4096
# Memory bound, calibrated on Debian 12 (FFmpeg 5.1, libfuse 3.14, glibc
# 2.36, x86_64, 2 CPUs), normal -O2 build as of d1a6b8c (2 malloc arenas, at
# most `workers` idle decoders), VmHWM after the sweep and one round:
#   workers=1: 64.5 MB   workers=2: 78.8 MB   workers=4: 92.2-92.6 MB   workers=8: 110.4 MB
# (idle after mounting: 27 MB, mostly the shared libraries' pages).  A line
# through these: 6.6 MB per worker (its decoder context and an idle one, with
# their frame pools; the RGB and PNG buffers of an 800x600 frame) and 54 MB
# fixed besides the 4 MB cache (libraries, FUSE thread buffers, the PNGs that
# open files keep past their eviction: up to 16 x 0.8 MB).  The bound adds
# head room: W = 10 MB, B = 72 MB, so 4 + 4 x 10 + 72 = 116 MB at 4 workers.
# (Before d1a6b8c the same load peaked at 95-135 MB at 4 workers.)  A cache
# that ignored its bound would hold every PNG read: the 256M control.
W_KB=${LOAD_W_KB:-10240}
B_KB=${LOAD_B_KB:-73728}
# Growth across rounds (below): RSS after a round wanders by up to 20 MB
# with no leak (66888, 84224, 86248 kB on 2026-12-04 with 5e4da4c; the next
# run 89248, 85584, 90940), as each worker thread keeps its PNG scratch
# buffers once it has encoded a large frame.  A leak shows as more: a PNG
# per read is ~50 MB a round, a decoder context per video version ~20 MB.
GROWTH_KB=${LOAD_GROWTH_KB:-24576}
READER_TIMEOUT=${LOAD_READER_TIMEOUT:-120}

LOAD_MEDIA=$EXTRA_MEDIA
SRC=$WORK/src
MNT=$WORK/mnt

ensure_video "$LOAD_MEDIA/big.mp4" -f lavfi -i testsrc2=size=640x480:rate=25:duration=4 \
    -vf noise=alls=20:allf=t -c:v libx264 -preset veryfast \
    -x264-params keyint=25:min-keyint=25:scenecut=0:bframes=2 -pix_fmt yuv420p -an || exit 1
ensure_video "$LOAD_MEDIA/wide.mkv" -f lavfi -i testsrc2=size=800x600:rate=20:duration=3 \
    -vf noise=alls=8:allf=t -c:v mpeg4 -q:v 4 -g 20 -an || exit 1
ensure_video "$LOAD_MEDIA/small.webm" -f lavfi -i testsrc2=size=320x240:rate=25:duration=3 \
    -c:v libvpx-vp9 -deadline realtime -cpu-used 8 -b:v 300k -g 25 -pix_fmt yuv420p -an || exit 1
ensure_video "$LOAD_MEDIA/mid.ts" -f lavfi -i testsrc2=size=480x360:rate=25:duration=3 \
    -c:v mpeg2video -q:v 4 -bf 2 -g 12 -an -f mpegts || exit 1
VIDEOS=(big.mp4 wide.mkv small.webm mid.ts)
mkdir -p "$SRC"
for v in "${VIDEOS[@]}"; do
    cp "$LOAD_MEDIA/$v" "$SRC/$v"   # (copies: reset() touches them)
done

# ---------------------------------------------------------------- the operations

# Pool of valid names per video: "VIDEO NAME MD5 REL_US" (the frame SPEC's
# rule picks, from the oracle), 10 per video: t=0, the last frame's own time,
# and random times (3 decimals); AMBIG ones are dropped.
: >"$WORK/pool"
: >"$WORK/ends"
for v in "${VIDEOS[@]}"; do
    oracle=$(oracle_of "$SRC/$v") || exit 1
    end=$(oracle_header "$oracle" end_time)
    echo "$v $end" >>"$WORK/ends"
    awk -v seed="$SEED" -v end="$end" -v v="$v" '
        function rnd() { seed = (seed * 16807) % 2147483647; return seed / 2147483647 }
        !/^#/ { last = $5 }
        END {
            for (i = 1; i <= length(v); i++) seed = (seed * 31 + i) % 2147483647
            print "t=0.png x 0 0 0"
            print "t=" last ".png x " last " 0 0"
            for (k = 0; k < 8; k++) { tt = sprintf("%.3f", rnd() * end); print "t=" tt ".png x " tt " 0 0" }
        }' "$oracle" | oracle_expect "$oracle" |
        awk -v v="$v" 'FILENAME == ARGV[1] { if (!/^#/) md5[$1] = $7; next }
            $4 ~ /^[0-9]+$/ && !seen[$1]++ { print v, $1, md5[$4], $5 }' "$oracle" - >>"$WORK/pool"
done
npool=$(wc -l <"$WORK/pool")
[ "$npool" -ge 30 ] || { fail "only $npool valid probe names for the load (oracle problem?)"; exit 1; }

# ops_for READER ROUND: the reader's operations, one per line:
#   R VIDEO NAME MD5 REL_US BS      D VIDEO NAME MD5 REL_US BS1 BS2
#   N VIDEO NAME                    P VIDEO NAME
# The same list every round (a leak shows as growth between rounds); N and P
# names embed the round so no dentry cached by the kernel answers them.
ops_for() {
    awk -v seed="$((SEED + $1 * 7919))" -v r="$2" -v id="$1" -v ops="$OPS" '
        function rnd() { seed = (seed * 16807) % 2147483647; return seed / 2147483647 }
        function pick(n) { return 1 + int(rnd() * n) }
        FILENAME == ARGV[1] { ends[$1] = $2; vids[++nv] = $1; next }
        { n++; V[n] = $1; NM[n] = $2; M[n] = $3; REL[n] = $4 }
        END {
            nb = split("513 4096 65536 131072 1048576", bss, " ")
            bad[1] = "t=%d.%dx.png"; bad[2] = "t=%d,foo=%d.png"; bad[3] = "x=%d.%d.png"
            bad[4] = "t=%d.%d.gif"; bad[5] = "t=-%d.%d.png"; bad[6] = "t=%d,tol=-%d.png"
            for (k = 0; k < ops; k++) {
                x = rnd()
                if (x < 0.65) {
                    i = pick(n)
                    bs = bss[pick(nb)]
                    if (V[i] == "small.webm" && rnd() < 0.5) bs = 7
                    if (x < 0.35) print "R", V[i], NM[i], M[i], REL[i], bs
                    else print "D", V[i], NM[i], M[i], REL[i], bs, bss[pick(nb)]
                } else if (x < 0.82) {
                    v = vids[pick(nv)]
                    printf "N %s " bad[pick(6)] "\n", v, 1000 * id + r, k
                } else {
                    v = vids[pick(nv)]
                    printf "P %s t=%.3f.png\n", v, ends[v] + 0.5 + id + r / 10 + k / 1000
                }
            }
        }' "$WORK/ends" "$WORK/pool"
}

# reader ID ROUND: run the reader's operations, FAIL on anything wrong; writes
# "OPS BAD" to $WORK/count.ROUND.ID.
reader() {
    local id=$1 round=$2 kind v name md5 rel bs bs2 path size r got at res n=0 bad=0
    local tag="round $round reader $id" f="$WORK/frame.$1.png" what
    while read -r kind v name md5 rel bs bs2; do
        n=$((n + 1))
        path="$MNT/$v/$name"
        case $kind in
        R|D)
            if ! size=$(stat -c %s -- "$path" 2>&1); then
                fail "$tag: stat $v/$name: $size"; bad=$((bad + 1)); continue
            fi
            if [ "$kind" = R ]; then
                r=$("$FSQ" read "$path" "$bs" 2>&1 >"$f" | tail -n 1)
                what="read in $bs-byte chunks"
            else
                r=$("$TOOLS/dualread" "$path" "$bs" "$bs2" 2>&1 >"$f" | tail -n 1)
                what="read through two descriptors at once ($bs and $bs2-byte chunks)"
            fi
            if [ "$r" != "ok $size" ] || [ "$(stat -c %s "$f")" != "$size" ]; then
                fail "$tag: $v/$name $what: '$r', $(stat -c %s "$f") bytes, st_size $size"
                bad=$((bad + 1)); continue
            fi
            got=$("$PNG2RAW" "$f" 2>/dev/null | md5sum) || got="png2raw-error"
            if [ "${got%% *}" != "$md5" ]; then
                fail "$tag: $v/$name ($what): pixels ${got%% *} are not the oracle's $md5"
                bad=$((bad + 1)); continue
            fi
            if [ "$kind" = R ]; then
                at=$(getfattr --absolute-names --only-values -n user.actual_time -- "$path" 2>&1)
                if [ "$(us "$at")" != "$rel" ]; then
                    fail "$tag: $v/$name: user.actual_time '$at', want ${rel} us"
                    bad=$((bad + 1)); continue
                fi
            fi
            ;;
        N)
            r=$("$FSQ" open "$path" r 2>&1 | tail -n 1)
            if [ "$r" != "err ENOENT" ]; then
                fail "$tag: malformed $v/$name: open gave '$r', want ENOENT"; bad=$((bad + 1))
            fi
            ;;
        P)
            r=$("$FSQ" read "$path" 2>&1 >/dev/null | tail -n 1)
            res=$(getfattr --absolute-names --only-values -n user.result -- "$path" 2>&1)
            size=$(stat -c %s -- "$path" 2>&1)
            if [ "$r" != "err EIO" ] || [ "$res" != failed ] || [ "$size" != 0 ]; then
                fail "$tag: past-the-end $v/$name: read '$r' (want EIO), user.result '$res' (want failed), size '$size' (want 0)"
                bad=$((bad + 1))
            fi
            ;;
        esac
    done < <(ops_for "$id" "$round")
    echo "$n $bad" >"$WORK/count.$round.$id"
}

# run_round ROUND LABEL: all readers at once; PASS/FAIL summary.
run_round() {
    local round=$1 label=$2 k pids=() t0 ms total=0 bad=0 c b
    t0=$(now_ms)
    for ((k = 1; k <= READERS; k++)); do
        OP_TIMEOUT=$READER_TIMEOUT t reader "$k" "$round" &
        pids+=($!)
    done
    for k in "${pids[@]}"; do
        wait "$k"
    done
    ms=$(($(now_ms) - t0))
    for ((k = 1; k <= READERS; k++)); do
        if [ -s "$WORK/count.$round.$k" ]; then
            read -r c b <"$WORK/count.$round.$k"
            total=$((total + c)) bad=$((bad + b))
        else
            fail "$label: reader $k did not finish (timed out or killed)"
            bad=$((bad + 1))
        fi
    done
    if [ "$bad" -eq 0 ] && [ "$total" -eq $((READERS * OPS)) ]; then
        pass "$label: $READERS concurrent readers, $total operations (valid frames checked against the oracle, ENOENT, EIO) all right in ${ms} ms"
    else
        fail "$label: $bad of $total operations wrong (want $((READERS * OPS)) operations)"
    fi
}

# sweep LABEL: read every frame of big.mp4 in order (one reader): each read
# gives st_size bytes, every 10th is checked against the oracle.  Sets
# SWEEP_BYTES to the total.
sweep() {
    local label=$1 oracle idx rel md5 size r got bad=0 n=0
    oracle=$(oracle_of "$SRC/big.mp4") || return 1
    SWEEP_BYTES=0
    while read -r idx rel md5; do
        n=$((n + 1))
        if ! size=$(t stat -c %s -- "$MNT/big.mp4/t=$rel.png" 2>&1); then
            fail "$label: stat t=$rel.png: $size"; bad=$((bad + 1)); continue
        fi
        r=$(t "$FSQ" read "$MNT/big.mp4/t=$rel.png" 2>&1 >"$WORK/sweep.png" | tail -n 1)
        if [ "$r" != "ok $size" ]; then
            fail "$label: t=$rel.png: read '$r', st_size $size"; bad=$((bad + 1)); continue
        fi
        SWEEP_BYTES=$((SWEEP_BYTES + size))
        if [ $((idx % 10)) = 0 ]; then
            got=$("$PNG2RAW" "$WORK/sweep.png" 2>/dev/null | md5sum)
            [ "${got%% *}" = "$md5" ] || { fail "$label: t=$rel.png is not oracle frame #$idx"; bad=$((bad + 1)); }
        fi
    done < <(awk '!/^#/ { print $1, $5, $7 }' "$oracle")
    [ "$bad" = 0 ] && pass "$label: all $n frames of big.mp4 read in order ($((SWEEP_BYTES / 1024)) kB of PNG)"
}

SAN=${SANITIZED:-0}
bound=$((CACHE_KB + WORKERS * W_KB + B_KB))

# ---------------------------------------------------------------- peak RSS (glibc defaults)

# A fresh mount: first a sweep of all 100 frames of big.mp4 (far more than
# the cache holds), then one round of the concurrent load.
mount_framefs "$SRC" "$MNT" "cache_size=$CACHE,workers=$WORKERS" || exit 1
PID=$MOUNT_PID
idle_kb=$(proc_kb "$PID" VmRSS)
sweep "sweep (cache_size=$CACHE)"
sweep_kb=$(proc_kb "$PID" VmRSS)
run_round 1 "load (cache_size=$CACHE, workers=$WORKERS)"
mount_alive "$MNT" || exit 1
hwm=$(proc_kb "$PID" VmHWM)
note "framefs RSS (cache_size=$CACHE, workers=$WORKERS): idle ${idle_kb} kB, after the sweep ${sweep_kb} kB, peak (VmHWM) after the load ${hwm} kB; bound ${bound} kB"
if [ "$SAN" = 1 ]; then
    skip "peak RSS bound (sanitizer build: shadow memory and quarantine)"
elif [ "$hwm" -le "$bound" ]; then
    pass "peak RSS ${hwm} kB <= cache_size ${CACHE_KB} + workers $WORKERS x ${W_KB} + ${B_KB} = ${bound} kB"
else
    fail "peak RSS ${hwm} kB exceeds cache_size ${CACHE_KB} + workers $WORKERS x ${W_KB} + ${B_KB} = ${bound} kB"
fi
unmount_framefs "$MNT" && pass "unmount after the load: framefs exited 0"

# Control: the same sweep with a cache that holds every frame.  Its RSS is
# higher by about the PNGs' bytes, so the check above does see the cache.
if [ "$SAN" != 1 ] && mount_framefs "$SRC" "$MNT" "cache_size=256M,workers=$WORKERS"; then
    sweep "control sweep (cache_size=256M)"
    big_kb=$(proc_kb "$MOUNT_PID" VmRSS)
    want=$((SWEEP_BYTES / 1024 / 2))
    note "control: RSS after the sweep with cache_size=256M ${big_kb} kB, with $CACHE ${sweep_kb} kB (PNGs: $((SWEEP_BYTES / 1024)) kB)"
    if [ $((big_kb - sweep_kb)) -ge "$want" ]; then
        pass "control: with a 256M cache RSS is +$((big_kb - sweep_kb)) kB higher after the sweep (>= half the $((SWEEP_BYTES / 1024)) kB of PNGs): the 4M cache really bounds memory"
    else
        fail "control: RSS with a 256M cache (${big_kb} kB) is not clearly above the 4M cache's (${sweep_kb} kB) after reading $((SWEEP_BYTES / 1024)) kB of PNGs"
    fi
    mount_alive "$MNT"
    unmount_framefs "$MNT"
fi

# ---------------------------------------------------------------- growth across rounds

# RSS after a round depends on what happens to be kept: which decoder
# contexts are idle (up to `workers`, of any video), which frames are cached,
# and glibc's free lists (a dynamic mmap threshold keeps freed frame buffers
# in the heap); it wanders by several MB with no leak (heaptrack showed a
# flat heap, and nothing leaked at exit).  So:
#  - after each round, reset(): every source gets a new mtime and is looked
#    at once, so framefs drops its cached frames, idle decoders and index and
#    re-indexes it (SPEC: a changed source);
#  - this mount pins glibc's mmap threshold (blocks of 64 KB and more are
#    mmapped and unmapped at free; framefs itself sets two arenas), so RSS
#    follows the live heap.
# A warm-up round, then ROUNDS identical rounds: RSS after the last reset may
# exceed RSS after the first by at most GROWTH_KB (above says why so much).
MTIME=1600000000
reset() {
    local v
    MTIME=$((MTIME + 1))
    for v in "${VIDEOS[@]}"; do
        touch -d "@$MTIME" "$SRC/$v"
        xattr_get "$MNT/$v" user.duration >/dev/null || fail "reset: user.duration of $v"
    done
    sleep 0.2
}
MALLOC_MMAP_THRESHOLD_=65536 MALLOC_ARENA_MAX=2 mount_framefs "$SRC" "$MNT" "cache_size=$CACHE,workers=$WORKERS" || exit 1
PID=$MOUNT_PID
run_round 0 "warm-up load"
reset
rss=()
for ((round = 1; round <= ROUNDS; round++)); do
    run_round "$round" "load round $round/$ROUNDS (cache_size=$CACHE, workers=$WORKERS)"
    mount_alive "$MNT" || exit 1
    reset
    rss+=("$(proc_kb "$PID" VmRSS)")
done
hwm2=$(proc_kb "$PID" VmHWM)
note "framefs RSS after each round and reset (pinned allocator): ${rss[*]} kB; peak ${hwm2} kB"
if [ "$SAN" = 1 ]; then
    skip "RSS growth across rounds (sanitizer build)"
elif [ "$ROUNDS" -ge 2 ]; then
    growth=$((rss[ROUNDS - 1] - rss[0]))
    if [ "$growth" -le "$GROWTH_KB" ]; then
        pass "RSS does not grow across $ROUNDS rounds of the load: ${rss[*]} kB (+${growth} kB <= ${GROWTH_KB})"
    else
        fail "RSS grew by ${growth} kB over $ROUNDS identical rounds (${rss[*]} kB): a leak?"
    fi
fi
unmount_framefs "$MNT" && pass "unmount after $ROUNDS rounds: framefs exited 0"
