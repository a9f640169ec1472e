#!/usr/bin/env bash
# The disk tier (-o cache_dir=DIR,disk_cache_size=SIZE): frames and indexes
# kept across mounts.  A remount serves from disk with decodes flat, byte for
# byte, and the PPMs equal the ffmpeg CLI's decode; a changed source gets no
# stale frame; corrupt, truncated and left-over temporary entries; a full
# cache evicted down to its size; a read-only, a full and a deleted
# cache_dir; two mounts sharing one cache_dir reading at once; kill -9 in
# the middle of writes, then a remount serving only correct frames.
. "$(dirname "$0")/../lib.sh"
. "$TESTS_DIR/lib_image.sh"

require_framefs
# the bind and tmpfs mounts below are undone whatever happens
undo_mounts() {
    local st=$?
    if [ "$BASHPID" = "$$" ]; then
        mountpoint -q "$WORK/ro" 2>/dev/null && umount "$WORK/ro"
        mountpoint -q "$WORK/full" 2>/dev/null && umount "$WORK/full"
    fi
    return "$st"
}
trap 'undo_mounts; _lib_exit' EXIT
TMPF=$WORK/tmpf
mkdir -p "$TMPF"

# Timing bounds are SLOW times wider under the sanitizers.
SLOW=1
[ "${SANITIZED:-0}" = 1 ] && SLOW=3

SRC=$WORK/src
mkdir -p "$SRC"
ffmpeg -nostdin -loglevel error -f lavfi -i "testsrc2=s=352x288:r=25:d=4,noise=alls=8:allf=t" \
    -c:v libx264 -pix_fmt yuv420p -g 25 -bf 2 "$SRC/clip.mp4" || { fail "cannot make clip.mp4"; exit 1; }
ffmpeg -nostdin -loglevel error -f lavfi -i "testsrc2=s=1920x1080:r=25:d=1,noise=alls=12:allf=t" \
    -c:v libx264 -preset veryfast -b:v 20M -pix_fmt yuv420p "$SRC/big.mp4" ||
    { fail "cannot make big.mp4"; exit 1; }
FRAMES=("clip.mp4/t=0.5.png" "clip.mp4/t=1.2,w=200.jpg" "clip.mp4/n=40.ppm" "clip.mp4/t=2.9.png"
        "clip.mp4/n=77.ppm" "big.mp4/t=0.5.png" "big.mp4/n=3.ppm")

# entries DIR: the number of entries in a cache_dir (not temporary files)
entries() { find "$1" -mindepth 2 -maxdepth 2 -type f -regextype egrep -regex '.*/[0-9a-f]{32}' | wc -l; }
tmps() { find "$1" -mindepth 2 -maxdepth 2 -type f -name '.tmp.*' | wc -l; }
# entry_bytes DIR: what the entries cost in the bound (sizes rounded up to 4 KiB)
entry_bytes() {
    find "$1" -mindepth 2 -maxdepth 2 -type f -regextype egrep -regex '.*/[0-9a-f]{32}' -printf '%s\n' |
        awk '{ s += int(($1 + 4095) / 4096) * 4096 } END { print s + 0 }'
}
# wait_disk_stores MNT N: until MNT's disk_stores reach N (10 s, SLOW times)
wait_disk_stores() {
    for _ in $(seq $((100 * SLOW))); do [ "$(mount_stat "$1" disk_stores)" -ge "$2" ] && return 0; sleep 0.1; done
    return 1
}
# read_all MNT PREFIX: copy every FRAMES entry of MNT to $WORK/PREFIX-<name>
read_all() {
    local f
    for f in "${FRAMES[@]}"; do
        t cp "$1/$f" "$WORK/$2-$(echo "$f" | tr '/' '_')" || fail "$2: cp $f"
    done
}
# same_as PREFIX REF: how many FRAMES copies under PREFIX equal REF's
same_as() {
    local f n=0 name
    for f in "${FRAMES[@]}"; do
        name=$(echo "$f" | tr '/' '_')
        cmp -s "$WORK/$1-$name" "$WORK/$2-$name" && n=$((n + 1))
    done
    echo "$n"
}
# ppm_truth PREFIX: the PPMs among PREFIX's copies equal the ffmpeg CLI's
# decode of the same frame (rgb24); prints how many of how many
ppm_truth() {
    local f name video idx vf ok=0 all=0
    for f in "${FRAMES[@]}"; do
        case $f in *.ppm) ;; *) continue ;; esac
        all=$((all + 1))
        name=$(echo "$f" | tr '/' '_')
        video=${f%%/*}
        idx=${f#*/n=}
        idx=${idx%.ppm}
        # untagged HD is BT.709 to framefs (README, Color), BT.601 to the CLI
        vf=""
        [ "$video" = big.mp4 ] && vf=scale=in_color_matrix=bt709
        cli_raw "$SRC/$video" "$idx" "$vf" rgb24 "$TMPF/cli.rgb" &&
            ppm_pixels "$WORK/$1-$name" "$TMPF/ours.rgb" && cmp -s "$TMPF/cli.rgb" "$TMPF/ours.rgb" &&
            ok=$((ok + 1))
    done
    echo "$ok of $all"
}

CD=$WORK/cache
M=$WORK/m

# ---- a cold mount makes and stores; a remount serves from disk ----
mount_framefs "$SRC" "$M" "cache_dir=$CD" || exit 1
read_all "$M" cold
# 2 content ids (load.c), 2 indexes and 7 frames, stored asynchronously
wait_disk_stores "$M" 11 || fail "disk_stores $(mount_stat "$M" disk_stores), want 11"
[ "$(mount_stat "$M" disk_cache)" = on ] && pass "disk_cache is on" || fail "disk_cache $(mount_stat "$M" disk_cache)"
n=$(entries "$CD")
[ "$n" -eq 11 ] && pass "11 entries on disk (2 content ids, 2 indexes, 7 frames), $(entry_bytes "$CD") bytes" ||
    fail "$n entries on disk, want 11"
[ "$(mount_stat "$M" disk_bytes)" = "$(entry_bytes "$CD")" ] && pass "disk_bytes = the entries' size" ||
    fail "disk_bytes $(mount_stat "$M" disk_bytes), entries $(entry_bytes "$CD")"
[ "$(tmps "$CD")" -eq 0 ] && pass "no temporary file left" || fail "$(tmps "$CD") temporary files left"
unmount_framefs "$M"

mount_framefs "$SRC" "$M" "cache_dir=$CD" || exit 1
read_all "$M" warm
n=$(same_as warm cold)
[ "$n" -eq ${#FRAMES[@]} ] && pass "after a remount the ${#FRAMES[@]} frames (png, jpg, ppm, 1080p) are byte-identical" ||
    fail "after a remount $n of ${#FRAMES[@]} frames identical"
d=$(mount_stat "$M" decodes); h=$(mount_stat "$M" disk_hits)
s=$(mount_stat "$M" index_scans)
[ "$d" = 0 ] && [ "$h" -ge 11 ] && [ "$s" = 0 ] &&
    pass "served from disk: decodes=$d index_scans=$s disk_hits=$h (2 content ids, 2 indexes, 7 frames)" ||
    fail "remount: decodes=$d disk_hits=$h ($(getfattr --absolute-names --only-values -n user.stats "$M"))"
r=$(ppm_truth warm)
[ "$r" = "3 of 3" ] && pass "the PPMs from disk equal the ffmpeg CLI's decode ($r)" || fail "PPMs from disk equal the CLI's: $r"
unmount_framefs "$M"

# ---- after a remount, readahead and batches take from disk too ----
SQ=$WORK/seqcache
mount_framefs "$SRC" "$M" "cache_dir=$SQ" || exit 1
for i in $(seq 0 29); do t cp "$M/clip.mp4/n=$i.png" "$WORK/seq-$i.png" || fail "seq: n=$i"; done
t cp -r "$M/clip.mp4/every=0.5" "$WORK/seq-batch" || fail "seq: cp -r every=0.5"
settle_stores() {   # settle_stores MNT: until disk_stores stays the same for 1 s
    local a b
    for _ in $(seq $((20 * SLOW))); do
        a=$(mount_stat "$1" disk_stores); sleep 1; b=$(mount_stat "$1" disk_stores)
        [ "$a" = "$b" ] && return 0
    done
    return 1
}
settle_stores "$M" || fail "seq: the stores did not settle"
unmount_framefs "$M"
mount_framefs "$SRC" "$M" "cache_dir=$SQ" || exit 1
bad=0
for i in $(seq 0 29); do
    t cp "$M/clip.mp4/n=$i.png" "$WORK/seq-again-$i.png"
    cmp -s "$WORK/seq-$i.png" "$WORK/seq-again-$i.png" || bad=$((bad + 1))
done
t cp -r "$M/clip.mp4/every=0.5" "$WORK/seq-batch-again" || fail "seq: cp -r every=0.5 again"
diff -r "$WORK/seq-batch" "$WORK/seq-batch-again" >/dev/null || bad=$((bad + 1))
sleep 0.5
d=$(mount_stat "$M" decodes); h=$(mount_stat "$M" disk_hits)
[ "$bad" = 0 ] && [ "$d" = 0 ] &&
    pass "after a remount, 30 consecutive frames (readahead) and cp -r every=0.5/ (a batch) all from disk: decodes $d, disk_hits $h" ||
    fail "after a remount, sequential and batch reads: $bad differ, decodes $d, disk_hits $h"
unmount_framefs "$M"

# ---- a changed source gets no stale frame ----
cp "$SRC/clip.mp4" "$WORK/clip.orig.mp4"
ffmpeg -nostdin -loglevel error -y -f lavfi -i "smptebars=s=352x288:r=25:d=4,noise=alls=8:allf=t" \
    -c:v libx264 -pix_fmt yuv420p -g 25 -bf 2 "$WORK/clip.new.mp4"
mv -f "$WORK/clip.new.mp4" "$SRC/clip.mp4"
mount_framefs "$SRC" "$M" "cache_dir=$CD" || exit 1
t cp "$M/clip.mp4/n=40.ppm" "$WORK/changed-40.ppm"
cli_raw "$SRC/clip.mp4" 40 "" rgb24 "$TMPF/cli.rgb"
ppm_pixels "$WORK/changed-40.ppm" "$TMPF/ours.rgb"
cmp -s "$TMPF/cli.rgb" "$TMPF/ours.rgb" && ! cmp -s "$WORK/changed-40.ppm" "$WORK/cold-clip.mp4_n=40.ppm" &&
    pass "a changed clip.mp4 (same name, other content) gives the new frame, as the CLI decodes it" ||
    fail "changed source: frame 40 is not the new one"
# changed while mounted too
cp "$WORK/clip.orig.mp4" "$SRC/clip.mp4.new" && mv -f "$SRC/clip.mp4.new" "$SRC/clip.mp4"
sleep 1.1
t cp "$M/clip.mp4/n=40.ppm" "$WORK/changed-back-40.ppm"
cmp -s "$WORK/changed-back-40.ppm" "$WORK/cold-clip.mp4_n=40.ppm" &&
    pass "changed back while mounted: the original frame again (from disk, disk_hits $(mount_stat "$M" disk_hits))" ||
    fail "changed back while mounted: not the original frame"
unmount_framefs "$M"

# ---- corrupt, truncated and left-over temporary entries ----
# every entry's middle byte flipped: each read is a corrupt entry, deleted,
# and the frame made again, right
spoil() {   # spoil FILE: flip the byte in the middle
    /usr/bin/python3 -c '
import sys
p = sys.argv[1]
d = bytearray(open(p, "rb").read())
d[len(d) // 2] ^= 0x5A
open(p, "wb").write(bytes(d))' "$1"
}
n_entries=$(entries "$CD")
while read -r e; do spoil "$e"; done < <(find "$CD" -mindepth 2 -type f -regextype egrep -regex '.*/[0-9a-f]{32}')
mount_framefs "$SRC" "$M" "cache_dir=$CD" || exit 1
M_LOG=$MOUNT_LOG
read_all "$M" spoilt
n=$(same_as spoilt cold)
c=$(mount_stat "$M" disk_corrupt); h=$(mount_stat "$M" disk_hits)
[ "$n" -eq ${#FRAMES[@]} ] && pass "$n_entries entries with a flipped byte: the ${#FRAMES[@]} frames still right" ||
    fail "flipped entries: $n of ${#FRAMES[@]} frames right"
[ "$c" -ge 11 ] && [ "$h" = 0 ] && pass "each counted corrupt (disk_corrupt=$c), none served (disk_hits=$h)" ||
    fail "flipped entries: disk_corrupt=$c disk_hits=$h"
lines=$(grep -c "disk cache .* is corrupt" "$M_LOG")
[ "$lines" -eq "$c" ] && pass "one log line per corrupt entry ($lines): $(grep -m1 'disk cache' "$M_LOG")" ||
    fail "$lines log lines for $c corrupt entries"
wait_disk_stores "$M" 11 || fail "the remade values were not stored again (disk_stores $(mount_stat "$M" disk_stores))"
unmount_framefs "$M"

# truncated to half, and a leftover temporary file of a dead process, one
# of this pid's that a crashed earlier process left, and a file of
# somebody else's
while read -r e; do truncate -s $(( $(stat -c %s "$e") / 2 )) "$e"; done \
    < <(find "$CD" -mindepth 2 -type f -regextype egrep -regex '.*/[0-9a-f]{32}')
mkdir -p "$CD/00"
head -c 5000 /dev/urandom >"$CD/00/.tmp.2147483600.1234.0"
echo "not ours" >"$CD/00/notes.txt"
mount_framefs "$SRC" "$M" "cache_dir=$CD" || exit 1
read_all "$M" truncated
n=$(same_as truncated cold)
c=$(mount_stat "$M" disk_corrupt); h=$(mount_stat "$M" disk_hits)
[ "$n" -eq ${#FRAMES[@]} ] && [ "$c" -ge 11 ] && [ "$h" = 0 ] &&
    pass "entries truncated to half: frames right, disk_corrupt=$c, disk_hits=$h" ||
    fail "truncated entries: $n of ${#FRAMES[@]} right, disk_corrupt=$c disk_hits=$h"
[ ! -e "$CD/00/.tmp.2147483600.1234.0" ] && pass "a temporary file of a process that is gone is deleted" ||
    fail "the left-over temporary file is still there"
[ -e "$CD/00/notes.txt" ] && pass "a file framefs did not name is left alone" || fail "notes.txt was deleted"
rm -f "$CD/00/notes.txt"
unmount_framefs "$M"

# ---- a full cache: eviction down to its size ----
SMALL=$WORK/small
mount_framefs "$SRC" "$M" "cache_dir=$SMALL,disk_cache_size=1M" || exit 1
for i in $(seq 0 4 99); do t cp "$M/clip.mp4/n=$i.png" "$WORK/small-$i.png" || fail "small: n=$i"; done
# the last stores land
for _ in $(seq $((50 * SLOW))); do
    [ "$(mount_stat "$M" disk_stores)" -ge 20 ] && break; sleep 0.1
done
sleep 0.5
b=$(entry_bytes "$SMALL"); ev=$(mount_stat "$M" disk_evictions); st=$(mount_stat "$M" disk_stores)
[ "$b" -le 1048576 ] && [ "$ev" -gt 0 ] &&
    pass "disk_cache_size=1M: $st stores, $ev evictions, $b bytes on disk (<= 1 MiB)" ||
    fail "disk_cache_size=1M: $b bytes on disk, $ev evictions, $st stores"
unmount_framefs "$M"
mount_framefs "$SRC" "$M" "cache_dir=$SMALL,disk_cache_size=1M" || exit 1
t cp "$M/clip.mp4/n=96.png" "$WORK/small-again-96.png"
h=$(mount_stat "$M" disk_hits); d=$(mount_stat "$M" decodes)
# (the index, the oldest entry, may have gone: a packet scan, no decode)
cmp -s "$WORK/small-again-96.png" "$WORK/small-96.png" && [ "$h" -ge 1 ] && [ "$d" = 0 ] &&
    pass "the most recent frame is still there after a remount (disk_hits $h, decodes $d)" ||
    fail "most recent frame after a remount: disk_hits $h, decodes $d"
t cp "$M/clip.mp4/n=0.png" "$WORK/small-again-0.png"
cmp -s "$WORK/small-again-0.png" "$WORK/small-0.png" && pass "the evicted oldest frame is made again, right" ||
    fail "the oldest frame after eviction differs"
unmount_framefs "$M"

# ---- read-only, full and deleted cache_dir: frames keep coming ----
RO=$WORK/ro
mkdir -p "$RO"
if mount --bind "$CD" "$RO" 2>/dev/null && mount -o remount,ro,bind "$RO" 2>/dev/null; then
    mount_framefs "$SRC" "$M" "cache_dir=$RO" || exit 1
    M_LOG=$MOUNT_LOG
    read_all "$M" ro
    t cp "$M/clip.mp4/n=60.png" "$WORK/ro-60.png" || fail "read-only: a new frame"
    n=$(same_as ro cold)
    [ "$n" -eq ${#FRAMES[@]} ] && [ -s "$WORK/ro-60.png" ] && [ "$(mount_stat "$M" disk_cache)" = read-only ] &&
        pass "a read-only cache_dir: what it holds is served (disk_hits $(mount_stat "$M" disk_hits)), new frames are made" ||
        fail "read-only cache_dir: $n of ${#FRAMES[@]} right, disk_cache $(mount_stat "$M" disk_cache)"
    lines=$(grep -c "disk cache" "$M_LOG")
    [ "$lines" -eq 1 ] && pass "one log line: $(grep 'disk cache' "$M_LOG")" || fail "$lines log lines for a read-only cache_dir"
    unmount_framefs "$M"
    umount "$RO"
else
    umount "$RO" 2>/dev/null
    skip "read-only cache_dir: bind mounts are not allowed here"
fi
FULL=$WORK/full
mkdir -p "$FULL"
if mount -t tmpfs -o size=256k tmpfs "$FULL" 2>/dev/null; then
    mount_framefs "$SRC" "$M" "cache_dir=$FULL,disk_cache_size=64M" || exit 1
    M_LOG=$MOUNT_LOG
    for i in $(seq 0 5 60); do t cp "$M/clip.mp4/n=$i.png" "$WORK/full-$i.png" || fail "full disk: n=$i"; done
    sleep 0.5
    t cp "$M/big.mp4/n=3.ppm" "$WORK/full-big.ppm"
    lines=$(grep -c "disk cache" "$M_LOG")
    cmp -s "$WORK/full-big.ppm" "$WORK/cold-big.mp4_n=3.ppm" && [ "$lines" -eq 1 ] &&
        [ "$(mount_stat "$M" disk_cache)" = read-only ] &&
        pass "a cache_dir on a full disk (256 KiB tmpfs): frames keep coming, storing stops, one log line: $(grep 'disk cache' "$M_LOG")" ||
        fail "full disk: $lines log lines, disk_cache $(mount_stat "$M" disk_cache)"
    [ "$(tmps "$FULL")" -eq 0 ] && pass "no temporary file left on the full disk" || fail "$(tmps "$FULL") temporary files on the full disk"
    unmount_framefs "$M"
    umount "$FULL"
else
    skip "full cache_dir: tmpfs mounts are not allowed here"
fi
GONE=$WORK/gone
mount_framefs "$SRC" "$M" "cache_dir=$GONE" || exit 1
M_LOG=$MOUNT_LOG
t cp "$M/clip.mp4/n=10.png" "$WORK/gone-10.png"
rm -rf "$GONE"
for i in 11 12 13; do t cp "$M/clip.mp4/n=$i.png" "$WORK/gone-$i.png" || fail "deleted cache_dir: n=$i"; done
sleep 0.5
lines=$(grep -c "disk cache" "$M_LOG")
[ -s "$WORK/gone-13.png" ] && [ "$lines" -eq 1 ] &&
    pass "a cache_dir deleted while mounted: frames keep coming, one log line: $(grep 'disk cache' "$M_LOG")" ||
    fail "deleted cache_dir: $lines log lines"
unmount_framefs "$M"
mkdir -p "$WORK/notadir-parent"
echo x >"$WORK/notadir-parent/file"
mount_framefs "$SRC" "$M" "cache_dir=$WORK/notadir-parent/file" || exit 1
M_LOG=$MOUNT_LOG
t cp "$M/clip.mp4/n=10.png" "$WORK/notadir-10.png"
cmp -s "$WORK/notadir-10.png" "$WORK/gone-10.png" && [ "$(mount_stat "$M" disk_cache)" = off ] &&
    [ "$(grep -c 'disk cache' "$M_LOG")" -eq 1 ] &&
    pass "a cache_dir that is a file: the tier is off, frames come, one log line: $(grep 'disk cache' "$M_LOG")" ||
    fail "cache_dir a file: disk_cache $(mount_stat "$M" disk_cache)"
unmount_framefs "$M"

# ---- two mounts sharing one cache_dir, reading at once ----
SH=$WORK/sharedcd
A=$WORK/a
B=$WORK/b
mount_framefs "$SRC" "$A" "cache_dir=$SH" || exit 1
mount_framefs "$SRC" "$B" "cache_dir=$SH" || exit 1
reader() {   # reader MNT PREFIX ORDER...: frames n=ORDER.png
    local i
    for i in "${@:3}"; do cp "$1/clip.mp4/n=$i.png" "$WORK/$2-$i.png" 2>/dev/null || echo "$i" >>"$WORK/$2.failed"; done
}
ORDER=$(seq 0 3 99)
t reader "$A" two-a $ORDER &
pa=$!
t reader "$B" two-b $(echo "$ORDER" | tac) &
pb=$!
wait "$pa" "$pb"
mount_framefs "$SRC" "$M" || exit 1      # no cache: the reference
bad=0
for i in $ORDER; do
    t cp "$M/clip.mp4/n=$i.png" "$WORK/two-ref-$i.png"
    cmp -s "$WORK/two-a-$i.png" "$WORK/two-ref-$i.png" && cmp -s "$WORK/two-b-$i.png" "$WORK/two-ref-$i.png" ||
        bad=$((bad + 1))
done
unmount_framefs "$M"
[ "$bad" = 0 ] && [ ! -e "$WORK/two-a.failed" ] && [ ! -e "$WORK/two-b.failed" ] &&
    pass "two mounts on one cache_dir read 34 frames each at once, in opposite orders: all right" ||
    fail "two mounts on one cache_dir: $bad frames wrong"
sleep 0.5
unmount_framefs "$A"
unmount_framefs "$B"
mount_framefs "$SRC" "$M" "cache_dir=$SH" || exit 1
bad=0
for i in $ORDER; do
    t cp "$M/clip.mp4/n=$i.png" "$WORK/two-c-$i.png"
    cmp -s "$WORK/two-c-$i.png" "$WORK/two-ref-$i.png" || bad=$((bad + 1))
done
d=$(mount_stat "$M" decodes); c=$(mount_stat "$M" disk_corrupt)
[ "$bad" = 0 ] && [ "$d" = 0 ] && [ "$c" = 0 ] && [ "$(tmps "$SH")" -eq 0 ] &&
    pass "a third mount serves all 34 from the shared cache_dir: decodes 0, disk_corrupt 0, no temporary file" ||
    fail "third mount on the shared cache_dir: $bad wrong, decodes $d, disk_corrupt $c, $(tmps "$SH") temporary files"
unmount_framefs "$M"

# ---- kill -9 in the middle of writes ----
KD=$WORK/killed
mount_framefs "$SRC" "$M" "cache_dir=$KD" || exit 1
K_PID=$MOUNT_PID
mount_forget "$K_PID"
( for i in $(seq 0 99); do cp "$M/clip.mp4/n=$i.png" /dev/null 2>/dev/null || exit 0; done ) &
cp_pid=$!
big_pid=""
( cp "$M/big.mp4/n=5.ppm" /dev/null 2>/dev/null ) &
big_pid=$!
for _ in $(seq 100); do
    [ "$(mount_stat "$M" disk_stores 2>/dev/null || echo 0)" -ge 8 ] && break; sleep 0.05
done
stored=$(mount_stat "$M" disk_stores 2>/dev/null)
kill -KILL "$K_PID"
wait "$K_PID" 2>/dev/null
mount_reap "$K_PID" "$M"
wait "$cp_pid" "$big_pid" 2>/dev/null
left=$(tmps "$KD")
mount_framefs "$SRC" "$M" "cache_dir=$KD" || exit 1
bad=0
for i in $(seq 0 99); do
    t cp "$M/clip.mp4/n=$i.png" "$WORK/killed-$i.png"
done
mount_framefs "$SRC" "$WORK/ref" || exit 1
for i in $(seq 0 99); do
    t cp "$WORK/ref/clip.mp4/n=$i.png" "$WORK/killed-ref-$i.png"
    cmp -s "$WORK/killed-$i.png" "$WORK/killed-ref-$i.png" || bad=$((bad + 1))
done
unmount_framefs "$WORK/ref"
h=$(mount_stat "$M" disk_hits); c=$(mount_stat "$M" disk_corrupt)
[ "$bad" = 0 ] && [ "$h" -ge 2 ] && [ "$c" = 0 ] &&
    pass "framefs killed (-9) after $stored stores, $left temporary files left: a remount serves all 100 frames right ($h from disk, disk_corrupt $c)" ||
    fail "after kill -9: $bad of 100 wrong, disk_hits $h, disk_corrupt $c"
sleep 0.5
[ "$(tmps "$KD")" -eq 0 ] && pass "the killed process's temporary files are gone after the remount's scan" ||
    fail "$(tmps "$KD") temporary files still there"
unmount_framefs "$M"

# ---- a raw .h264 (indexed by decoding all of it) is not indexed again ----
RAW=$WORK/raw
mkdir -p "$RAW"
ffmpeg -nostdin -loglevel error -f lavfi -i "testsrc2=s=352x288:r=25:d=4,noise=alls=8:allf=t" \
    -c:v libx264 -pix_fmt yuv420p -g 25 -bf 2 -f h264 "$RAW/stream.h264" || fail "cannot make stream.h264"
RC=$WORK/rawcache
mount_framefs "$RAW" "$M" "cache_dir=$RC" || exit 1
t cp "$M/stream.h264/n=30.ppm" "$WORK/raw-30.ppm"
s1=$(mount_stat "$M" index_scans)
unmount_framefs "$M"
mount_framefs "$RAW" "$M" "cache_dir=$RC" || exit 1
t cp "$M/stream.h264/n=30.ppm" "$WORK/raw-again-30.ppm"
t cp "$M/stream.h264/n=61.ppm" "$WORK/raw-61.ppm"
s2=$(mount_stat "$M" index_scans); l2=$(mount_stat "$M" index_loads)
ok=1
for i in 30 61; do
    f=$WORK/raw-$i.ppm
    [ "$i" = 30 ] && f=$WORK/raw-again-30.ppm
    cli_raw "$RAW/stream.h264" "$i" "" rgb24 "$TMPF/cli.rgb" && ppm_pixels "$f" "$TMPF/ours.rgb" &&
        cmp -s "$TMPF/cli.rgb" "$TMPF/ours.rgb" || ok=0
done
[ "$s1" = 1 ] && [ "$s2" = 0 ] && [ "$l2" = 1 ] && [ "$ok" = 1 ] && cmp -s "$WORK/raw-30.ppm" "$WORK/raw-again-30.ppm" &&
    pass "a raw .h264 after a remount: its index from disk (index_scans $s1 -> $s2), frames 30 (cached) and 61 (decoded) equal the CLI's" ||
    fail "raw .h264 after a remount: index_scans $s1 -> $s2, loads $l2, frames equal the CLI's: $ok"
unmount_framefs "$M"

# ---- the index bound: many videos, memory bounded, evicted ones back from disk ----
MANY=$WORK/many
mkdir -p "$MANY"
ffmpeg -nostdin -loglevel error -f lavfi -i "testsrc2=s=160x120:r=30:d=60" -c:v libx264 -preset ultrafast \
    -g 60 "$MANY/v000.mp4" || fail "cannot make v000.mp4"
for i in $(seq 1 299); do cp "$MANY/v000.mp4" "$MANY/v$(printf %03d "$i").mp4"; done
MC=$WORK/manycache
mount_framefs "$MANY" "$M" "cache_dir=$MC,index_cache_size=4M" || exit 1
M_PID=$MOUNT_PID
open_range() {   # open_range FIRST LAST: index videos FIRST..LAST (user.duration)
    local i
    for i in $(seq "$1" "$2"); do
        getfattr --absolute-names --only-values -n user.duration "$M/v$(printf %03d "$i").mp4" >/dev/null 2>&1 ||
            echo "$i" >>"$WORK/many.failed"
    done
}
t open_range 0 49
rss50=$(proc_kb "$M_PID" VmRSS)
t open_range 50 299
rss300=$(proc_kb "$M_PID" VmRSS)
ib=$(mount_stat "$M" index_bytes); iv=$(mount_stat "$M" index_videos); ie=$(mount_stat "$M" index_evictions)
[ "$ib" -le 4194304 ] && [ "$iv" -lt 100 ] && [ "$ie" -ge 200 ] && [ ! -e "$WORK/many.failed" ] &&
    pass "300 videos (1800 frames each) under index_cache_size=4M: $iv kept, $ib bytes, $ie let go of" ||
    fail "index bound: $iv videos kept, $ib bytes, $ie evictions, failed: $(cat "$WORK/many.failed" 2>/dev/null | wc -l)"
grow=$(( rss300 - rss50 ))
if [ "${SANITIZED:-0}" = 1 ]; then
    # ASan keeps freed memory in quarantine (256 MB): RSS says nothing there
    skip "RSS under the sanitizers (grew $grow KiB from the 50th video to the 300th; index_bytes is checked above)"
elif [ "$grow" -lt $((12 * 1024)) ]; then
    pass "RSS grew $grow KiB from the 50th video to the 300th (${rss50} -> ${rss300} KiB)"
else
    fail "RSS grew $grow KiB from the 50th video to the 300th (${rss50} -> ${rss300} KiB)"
fi
sc=$(mount_stat "$M" index_scans); dh=$(mount_stat "$M" disk_hits)
t open_range 0 19
sc2=$(mount_stat "$M" index_scans); dh2=$(mount_stat "$M" disk_hits)
t cp "$M/v005.mp4/n=100.ppm" "$WORK/many-5.ppm"
cli_raw "$MANY/v005.mp4" 100 "" rgb24 "$TMPF/cli.rgb" && ppm_pixels "$WORK/many-5.ppm" "$TMPF/ours.rgb" &&
    cmp -s "$TMPF/cli.rgb" "$TMPF/ours.rgb" && [ "$sc2" = "$sc" ] && [ "$dh2" -ge $((dh + 20)) ] &&
    pass "20 evicted indexes reopened from disk without a scan (index_scans $sc -> $sc2, disk_hits $dh -> $dh2); a frame of one equals the CLI's" ||
    fail "evicted indexes reopened: index_scans $sc -> $sc2, disk_hits $dh -> $dh2"
unmount_framefs "$M"

# ---- a cache_dir inside the mount point: refused at once (it would wait for itself) ----
IN=$WORK/inmnt
mkdir -p "$IN"
out=$(timeout -s KILL 20 "$FRAMEFS" -f -o "cache_dir=$IN/cache" "$SRC" "$IN" 2>&1 </dev/null)
st=$?
if is_mounted "$IN"; then
    timeout -k 2 10 fusermount3 -uz "$IN" 2>/dev/null
    fail "cache_dir inside MOUNTPOINT: framefs mounted (status $st), unmounted lazily"
elif [ "$st" = 1 ] && grep -q "is inside MOUNTPOINT" <<<"$out"; then
    pass "cache_dir inside MOUNTPOINT: status 1 before mounting: $out"
else
    fail "cache_dir inside MOUNTPOINT: status $st, '$out'"
fi

[ "$(failures)" -eq 0 ]
