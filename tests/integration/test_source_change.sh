#!/usr/bin/env bash
# Sources that change while mounted (SPEC "The tree": a changed source's
# cached frames are dropped and later requests see the new content; README:
# the frame gets a new inode, entries may be served from the kernel's cache
# for up to 1 s).  For each change:
#   - replaced by rename (new inode, other size, other dimensions);
#   - rewritten in place, slowly (truncate, then four chunks), other content
#     and size;
#   - appended to (an MPEG-TS growing like a recording: cut at a packet
#     boundary, then the rest appended): the new frames appear, old ones stay;
#   - deleted, then recreated with other content;
#   - replaced six times in a row, 0.1 s apart, while being read;
# we check: frames read 1.1 s after the change match the oracle of the new
# file (never the old bytes) or are ENOENT once deleted; the directory's
# attributes follow; the frame's inode changed; an fd opened before the
# change and read across it (page cache dropped in between) returns one
# complete version, byte for byte; and every read made during the change by a
# concurrent reader is the old complete file or the new complete file (or,
# while a file is half rewritten, a clean EIO or some other complete PNG),
# never a mix.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../lib_robust.sh"

require_framefs
ensure_media

SRC=$WORK/src
GEN=$WORK/gen
MNT=$WORK/mnt
mkdir -p "$SRC" "$GEN"

gen() {
    local out=$1
    shift
    if ! ffmpeg -nostdin -hide_banner -loglevel error -y "$@" "$out" </dev/null 2>"$WORK/ffmpeg.err"; then
        fail "ffmpeg could not make $(basename "$out"): $(head -c 300 "$WORK/ffmpeg.err" | tr '\n' ' ')"
        exit 1
    fi
}
ms() { local t=${EPOCHREALTIME/[.,]/}; echo $((10#$t / 1000)); }

A=$MEDIA_DIR/h264_bframes.mp4   # 320x240, 4 s
gen "$GEN/b.mp4" -f lavfi -i testsrc=size=160x120:rate=25:duration=3 -c:v libx264 -preset veryfast -pix_fmt yuv420p -an
gen "$GEN/c.mp4" -f lavfi -i smptebars=size=200x150:rate=20:duration=2.5 -c:v mpeg4 -q:v 4 -g 10 -an
gen "$GEN/full.ts" -f lavfi -i testsrc2=size=320x240:rate=25:duration=4 -c:v libx264 -preset veryfast \
    -x264-params keyint=25:min-keyint=25:scenecut=0 -pix_fmt yuv420p -an -f mpegts
size=$(stat -c %s "$GEN/full.ts")
half=$((size / 2 / 188 * 188))
head -c "$half" "$GEN/full.ts" >"$GEN/first.ts"
tail -c +$((half + 1)) "$GEN/full.ts" >"$GEN/rest.ts"

cp "$A" "$SRC/rep.mp4"
cp "$A" "$SRC/inplace.mp4"
cp "$A" "$SRC/del.mp4"
cp "$A" "$SRC/churn.mp4"
cp "$GEN/first.ts" "$SRC/grow.ts"

oA=$(oracle_of "$A") || exit 1
oB=$(oracle_of "$GEN/b.mp4") || exit 1
oC=$(oracle_of "$GEN/c.mp4") || exit 1
oT1=$(oracle_of "$GEN/first.ts") || exit 1
oT2=$(oracle_of "$GEN/full.ts") || exit 1

mount_framefs "$SRC" "$MNT" || exit 1
alive() { mount_alive "$MNT" || exit 1; }

# expect_frame LABEL VIDEO T ORACLE: VIDEO/t=T.png is the oracle's frame.
expect_frame() {
    local idx
    idx=$(echo "x x $3 0 0" | oracle_expect "$4" | cut -d' ' -f4)
    case $idx in
    FAIL) frame_fails "$1" "$MNT/$2/t=$3.png" 'end|past' ;;
    AMBIG) skip "$1: t=$3 is ambiguous in the oracle" ;;
    *) frame_is "$1" "$MNT/$2/t=$3.png" "$4" "$idx" ;;
    esac
}

# reader PATH PREFIX MILLISECONDS: read PATH again and again for that long
# (in the background); each read's bytes go to PREFIX.N, "N STATUS ERROR"
# lines to PREFIX.status.
reader() {
    local end=$(($(ms) + $3)) k=0 st
    : >"$2.status"
    while [ "$(ms)" -lt "$end" ]; do
        t cat "$1" >"$2.$k" 2>"$2.err"
        st=$?
        echo "$k $st $(tail -n 1 "$2.err" | sed 's/.*: //')" >>"$2.status"
        k=$((k + 1))
    done
}

# judge_reads LABEL PREFIX OLD NEW MODE: every read is OLD's bytes or NEW's
# (MODE strict); MODE partial also allows a failure (EIO) or any other
# complete PNG (a half-written source is a legitimate source); MODE deleted
# allows ENOENT (or EIO: the frame can no longer be produced) instead of NEW.
judge_reads() {
    local label=$1 prefix=$2 old=$3 new=$4 mode=$5 k st err n_old=0 n_new=0 n_other=0 n_err=0 bad=""
    while read -r k st err; do
        if [ "$st" = 0 ] && cmp -s "$prefix.$k" "$old"; then
            n_old=$((n_old + 1))
        elif [ "$st" = 0 ] && [ -n "$new" ] && cmp -s "$prefix.$k" "$new"; then
            n_new=$((n_new + 1))
        elif [ "$st" != 0 ] && [ "$mode" = partial ] && [ "$err" = "Input/output error" ]; then
            n_err=$((n_err + 1))
        elif [ "$st" != 0 ] && [ "$mode" = deleted ] &&
            { [ "$err" = "No such file or directory" ] || [ "$err" = "Input/output error" ]; }; then
            n_err=$((n_err + 1))   # (EIO: the frame could no longer be produced)
        elif [ "$st" = 0 ] && [ "$mode" = partial ] && raw_md5 "$prefix.$k" >/dev/null; then
            n_other=$((n_other + 1))
        else
            bad+=" read $k: status $st ${err:+($err) }$(stat -c %s "$prefix.$k") bytes, $(raw_md5 "$prefix.$k");"
        fi
    done <"$prefix.status"
    local summary="$n_old old, $n_new new, $n_other other complete PNGs, $n_err errors"
    if [ -z "$bad" ] && [ $((n_old + n_new + n_other + n_err)) -gt 0 ]; then
        pass "$label: every concurrent read was one complete version ($summary)"
    else
        fail "$label: reads that are neither version ($summary):${bad:0:600}"
    fi
}

# held_fd_open PATH: open PATH on fd HELD and read its first 1000 bytes into
# $WORK/held.1.  held_fd_finish LABEL OLD NEW (called more than 1.1 s after
# the change, when the kernel's entry and attribute caches have expired):
# fstat works, then drop the page cache of the file, read the rest, close;
# the whole is OLD's or NEW's bytes.
# (t runs its command in the background, where stdin is /dev/null: the
# command itself redirects from the inherited fd.)
held_fd_open() {
    exec {HELD}<"$1"
    t bash -c 'exec dd bs=1000 count=1 status=none <&"$1"' sh "$HELD" >"$WORK/held.1"
}
held_fd_finish() {
    local label=$1 old=$2 new=$3 size
    # fstat through the fd (attributes outlive the entry timeout)
    size=$(t bash -c 'exec stat -L -c %s "/proc/self/fd/$1"' sh "$HELD" 2>&1)
    if [ "$size" = "$(stat -c %s "$old")" ] || { [ -n "$new" ] && [ "$size" = "$(stat -c %s "$new")" ]; }; then
        pass "$label: fstat of an fd opened before the change still works (size $size)"
    else
        fail "$label: fstat of an fd opened before the change: '$size' (want the old size $(stat -c %s "$old"))"
    fi
    # (the rest must come from framefs, not from the page cache)
    t bash -c 'exec dd iflag=nocache count=0 status=none <&"$1"' sh "$HELD" 2>/dev/null
    t bash -c 'exec cat <&"$1"' sh "$HELD" >"$WORK/held.2" 2>"$WORK/held.err"
    local st=$?
    exec {HELD}<&-
    cat "$WORK/held.1" "$WORK/held.2" >"$WORK/held.png"
    if [ "$st" = 0 ] && cmp -s "$WORK/held.png" "$old"; then
        pass "$label: an fd opened before the change reads the old version to the end, intact"
    elif [ "$st" = 0 ] && [ -n "$new" ] && cmp -s "$WORK/held.png" "$new"; then
        pass "$label: an fd opened before the change reads the new version, whole"
    else
        fail "$label: an fd opened before the change read $(stat -c %s "$WORK/held.png") bytes (status $st $(cat "$WORK/held.err")), neither version: $(raw_md5 "$WORK/held.png")"
    fi
}

# ---------------------------------------------------------------- replaced by rename

f=$MNT/rep.mp4/t=1.5.png
expect_frame "rep.mp4 before" rep.mp4 1.5 "$oA"
t cat "$f" >"$WORK/rep.old.png"
ino_old=$(t stat -c %i "$f")
held_fd_open "$f"
reader "$f" "$WORK/rep.rd" 1500 &
rpid=$!
sleep 0.3
cp "$GEN/b.mp4" "$SRC/.rep.tmp.mp4"
mv -f "$SRC/.rep.tmp.mp4" "$SRC/rep.mp4"
changed=$(ms)
wait "$rpid"
sleep_builtin "$(awk -v w=$((1100 - ($(ms) - changed))) 'BEGIN { printf "%.3f", (w > 0 ? w : 0) / 1000 }')"
held_fd_finish "rep.mp4 (rename)" "$WORK/rep.old.png" ""
expect_frame "rep.mp4 1.1 s after a rename over it: the new file's frame" rep.mp4 1.5 "$oB"
t cat "$f" >"$WORK/rep.new.png"
cmp -s "$WORK/rep.new.png" "$WORK/rep.old.png" && fail "rep.mp4: still the old bytes after the rename" ||
    pass "rep.mp4: not the old bytes after the rename"
judge_reads "rep.mp4 (rename)" "$WORK/rep.rd" "$WORK/rep.old.png" "$WORK/rep.new.png" strict
ino_new=$(t stat -c %i "$f")
[ "$ino_new" != "$ino_old" ] && pass "rep.mp4: the frame has a new inode" || fail "rep.mp4: same inode $ino_new after the change"
w=$(xattr_get "$MNT/rep.mp4" user.width)
d=$(xattr_get "$MNT/rep.mp4" user.duration)
[ "$w" = 160 ] && [ "$(us "$d")" = "$(us "$(oracle_header "$oB" end_time)")" ] &&
    pass "rep.mp4: user.width/duration follow ($w, $d)" || fail "rep.mp4: user.width '$w', user.duration '$d' after the rename (want 160, $(oracle_header "$oB" end_time))"
alive

# ---------------------------------------------------------------- rewritten in place

f=$MNT/inplace.mp4/t=1.5.png
expect_frame "inplace.mp4 before" inplace.mp4 1.5 "$oA"
t cat "$f" >"$WORK/inp.old.png"
ino_old=$(t stat -c %i "$f")
held_fd_open "$f"
reader "$f" "$WORK/inp.rd" 1500 &
rpid=$!
sleep 0.3
csize=$(stat -c %s "$GEN/c.mp4")
chunk=$(((csize + 3) / 4))
: >"$SRC/inplace.mp4"    # same inode, truncated, then written in 4 chunks
for k in 0 1 2 3; do
    dd if="$GEN/c.mp4" of="$SRC/inplace.mp4" bs="$chunk" skip=$k seek=$k count=1 conv=notrunc status=none
    sleep 0.05
done
changed=$(ms)
wait "$rpid"
sleep_builtin "$(awk -v w=$((1100 - ($(ms) - changed))) 'BEGIN { printf "%.3f", (w > 0 ? w : 0) / 1000 }')"
held_fd_finish "inplace.mp4 (rewrite)" "$WORK/inp.old.png" ""
expect_frame "inplace.mp4 1.1 s after a rewrite in place: the new content's frame" inplace.mp4 1.5 "$oC"
t cat "$f" >"$WORK/inp.new.png"
cmp -s "$WORK/inp.new.png" "$WORK/inp.old.png" && fail "inplace.mp4: still the old bytes after the rewrite" ||
    pass "inplace.mp4: not the old bytes after the rewrite"
judge_reads "inplace.mp4 (rewrite)" "$WORK/inp.rd" "$WORK/inp.old.png" "$WORK/inp.new.png" partial
ino_new=$(t stat -c %i "$f")
[ "$ino_new" != "$ino_old" ] && pass "inplace.mp4: the frame has a new inode" || fail "inplace.mp4: same inode $ino_new after the change"
w=$(xattr_get "$MNT/inplace.mp4" user.width)
c=$(xattr_get "$MNT/inplace.mp4" user.codec)
[ "$w" = 200 ] && [ "$c" = mpeg4 ] && pass "inplace.mp4: user.width/codec follow ($w, $c)" ||
    fail "inplace.mp4: user.width '$w', user.codec '$c' after the rewrite (want 200, mpeg4)"
# the frame the new content does not have any more
expect_frame "inplace.mp4: t=3.5 is past the new end" inplace.mp4 3.5 "$oC"
alive

# ---------------------------------------------------------------- appended to

t_last=$(awk '!/^#/ { r = $5 } END { print r }' "$oT1")
expect_frame "grow.ts before: t=0.5" grow.ts 0.5 "$oT1"
# (its last frame is cut: how a decoder conceals that is not defined, the
# ffmpeg CLI itself gives other pixels with other thread counts)
f=$MNT/grow.ts/t=$t_last.png
case $(xattr_get "$f" user.result) in
succeeded) t cat "$f" >"$WORK/grow.last.png" && raw_md5 "$WORK/grow.last.png" >/dev/null
    check $? "grow.ts before: its cut last frame (t=$t_last) gives a readable PNG" ;;
*) frame_fails "grow.ts before: its cut last frame (t=$t_last)" "$f" ;;
esac
expect_frame "grow.ts before: t=3 is past its end" grow.ts 3 "$oT1"
f=$MNT/grow.ts/t=0.5.png
t cat "$f" >"$WORK/grow.old.png"
held_fd_open "$f"
reader "$f" "$WORK/grow.rd" 1200 &
rpid=$!
sleep 0.3
cat "$GEN/rest.ts" >>"$SRC/grow.ts"
changed=$(ms)
wait "$rpid"
sleep_builtin "$(awk -v w=$((1100 - ($(ms) - changed))) 'BEGIN { printf "%.3f", (w > 0 ? w : 0) / 1000 }')"
t cat "$f" >"$WORK/grow.new.png"
held_fd_finish "grow.ts (append)" "$WORK/grow.old.png" "$WORK/grow.new.png"
judge_reads "grow.ts (append)" "$WORK/grow.rd" "$WORK/grow.old.png" "$WORK/grow.new.png" strict
expect_frame "grow.ts after the append: t=0.5" grow.ts 0.5 "$oT2"
expect_frame "grow.ts after the append: the old last frame (t=$t_last)" grow.ts "$t_last" "$oT2"
expect_frame "grow.ts after the append: t=3 now exists" grow.ts 3 "$oT2"
d=$(xattr_get "$MNT/grow.ts" user.duration)
[ "$(us "$d")" = "$(us "$(oracle_header "$oT2" end_time)")" ] && pass "grow.ts: user.duration grew to $d" ||
    fail "grow.ts: user.duration '$d' after the append, want $(oracle_header "$oT2" end_time)"
alive

# ---------------------------------------------------------------- deleted, recreated

f=$MNT/del.mp4/t=1.5.png
expect_frame "del.mp4 before" del.mp4 1.5 "$oA"
t cat "$f" >"$WORK/del.old.png"
held_fd_open "$f"
reader "$f" "$WORK/del.rd" 1200 &
rpid=$!
sleep 0.3
rm -f "$SRC/del.mp4"
changed=$(ms)
wait "$rpid"
judge_reads "del.mp4 (deleted)" "$WORK/del.rd" "$WORK/del.old.png" "" deleted
sleep_builtin "$(awk -v w=$((1100 - ($(ms) - changed))) 'BEGIN { printf "%.3f", (w > 0 ? w : 0) / 1000 }')"
held_fd_finish "del.mp4 (deleted)" "$WORK/del.old.png" ""
for p in del.mp4 del.mp4/t=1.5.png del.mp4/t=0.png; do
    got=$(errno_of stat "$MNT/$p")
    [ "$got" = "No such file or directory" ] && pass "deleted: $p is ENOENT" || fail "deleted: stat $p: '$got', want ENOENT"
done
t ls "$MNT" | grep -qx del.mp4 && fail "deleted: del.mp4 is still listed" || pass "deleted: del.mp4 is no longer listed"
cp "$GEN/b.mp4" "$SRC/del.mp4"
sleep_builtin 1.1
expect_frame "del.mp4 recreated with other content" del.mp4 1.5 "$oB"
alive

# ---------------------------------------------------------------- churn

f=$MNT/churn.mp4/t=1.png
t cat "$f" >"$WORK/churn.A.png"
reader "$f" "$WORK/churn.rd" 1500 &
rpid=$!
for k in 1 2 3 4 5 6; do
    if [ $((k % 2)) = 1 ]; then cp "$GEN/b.mp4" "$SRC/.churn.tmp.mp4"; else cp "$A" "$SRC/.churn.tmp.mp4"; fi
    mv -f "$SRC/.churn.tmp.mp4" "$SRC/churn.mp4"
    sleep 0.1
done
changed=$(ms)
wait "$rpid"
sleep_builtin "$(awk -v w=$((1100 - ($(ms) - changed))) 'BEGIN { printf "%.3f", (w > 0 ? w : 0) / 1000 }')"
expect_frame "churn.mp4 after 6 replacements: the last content's frame" churn.mp4 1 "$oA"
t cat "$f" >"$WORK/churn.final.png"
# reads during the churn: A's bytes or B's (the frame of B read at the end)
cp "$GEN/b.mp4" "$SRC/.churn.tmp.mp4" && mv -f "$SRC/.churn.tmp.mp4" "$SRC/churn.mp4"
sleep_builtin 1.1
t cat "$f" >"$WORK/churn.B.png"
expect_frame "churn.mp4 once more replaced" churn.mp4 1 "$oB"
judge_reads "churn.mp4 (6 renames)" "$WORK/churn.rd" "$WORK/churn.A.png" "$WORK/churn.B.png" strict
alive

unmount_framefs "$MNT" && pass "unmount: framefs exited 0 after the source changes"
