#!/usr/bin/env bash
# Keyframes encoded band by band while they decode (README "tol=inf",
# decoder/bands.h): a lone H.264 keyframe's PNG is made on an idle worker as
# its rows come out of the decoder.  Checked on videos made here:
#
#  1. the pixels of t=T,tol=inf.png equal the ffmpeg CLI's decode of that
#     keyframe (rgb24), for 1280x720, an odd size cropped from whole
#     macroblocks (1282x722), 4 slices per frame, full range (yuvj420p),
#     interlaced (MBAFF: made the ordinary way) and an untagged HD video
#     (BT.709 assumed);
#  2. the bytes equal those of a mount with one worker (no idle worker:
#     the ordinary path, convert then encode), so the file never depends on
#     the path it took;
#  3. user.stats band_frames counts each of them on the two-worker mount,
#     none on the other (the band path was really taken, and only there);
#  4. a keyframe damaged in its middle (error concealment rewrites rows
#     after their band): the same bytes and result as the ordinary path;
#  5. a cancel during band encodes: every read ends, the mount stays up.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../lib_image.sh"

require_framefs
SRC=$WORK/src
TMPF=$WORK/tmp
mkdir -p "$SRC" "$TMPF"

# 24 fps, a keyframe every 12 frames (0, 0.5, 1.0 s), noise so the PNG is
# big and the decode slow enough for bands to matter.
X264=(-c:v libx264 -preset veryfast -b:v 6M -an)
KEYS=bframes=2:keyint=12:min-keyint=12:scenecut=0
TAG=(-colorspace bt709 -color_primaries bt709 -color_trc bt709)
src() { echo "testsrc2=size=$1:rate=24:duration=1.5,noise=alls=10:allf=t"; }
gen_ok=1
ensure_video "$SRC/hd.mp4" -f lavfi -i "$(src 1280x720)" "${X264[@]}" -x264-params "$KEYS" \
    -pix_fmt yuv420p "${TAG[@]}" || gen_ok=0
ensure_video "$SRC/odd.mp4" -f lavfi -i "$(src 1282x722)" "${X264[@]}" -x264-params "$KEYS" \
    -pix_fmt yuv420p "${TAG[@]}" || gen_ok=0
ensure_video "$SRC/slices.mp4" -f lavfi -i "$(src 1280x720)" "${X264[@]}" \
    -x264-params "$KEYS:slices=4" -pix_fmt yuv420p "${TAG[@]}" || gen_ok=0
ensure_video "$SRC/full.mp4" -f lavfi -i "$(src 1280x720)" "${X264[@]}" -x264-params "$KEYS" \
    -pix_fmt yuvj420p "${TAG[@]}" || gen_ok=0
ensure_video "$SRC/mbaff.mp4" -f lavfi -i "$(src 1280x720)" "${X264[@]}" \
    -x264-params "$KEYS:interlaced=1" -pix_fmt yuv420p "${TAG[@]}" || gen_ok=0
ensure_video "$SRC/untagged.mp4" -f lavfi -i "$(src 1280x720)" "${X264[@]}" -x264-params "$KEYS" \
    -pix_fmt yuv420p || gen_ok=0
[ "$gen_ok" = 1 ] || exit 1
VIDEOS=(hd.mp4 odd.mp4 slices.mp4 full.mp4 mbaff.mp4 untagged.mp4)

# damaged.mp4: hd.mp4 with 64 bytes in the middle of its second keyframe's
# packet overwritten (the demuxer still finds every packet).
cp "$SRC/hd.mp4" "$SRC/damaged.mp4"
read -r pos size < <(ffprobe -v error -select_streams v -show_entries packet=pos,size,flags \
    -of csv=p=0 "$SRC/hd.mp4" | awk -F, 'index($3, "K") { if (++k == 2) { print $2, $1; exit } }')
if [ -n "${pos:-}" ] && [ "${size:-0}" -gt 1000 ]; then
    head -c 64 /dev/urandom | dd of="$SRC/damaged.mp4" bs=1 seek=$((pos + size / 2)) conv=notrunc \
        status=none
else
    fail "cannot find hd.mp4's second keyframe packet"
fi

# Two mounts of the same files: A with two workers (one decodes, one is
# idle for the bands), B with one (never an idle worker: the ordinary path).
A=$WORK/a
B=$WORK/b
mount_framefs "$SRC" "$A" workers=2 || exit 1
mount_framefs "$SRC" "$B" workers=1 || exit 1

# cli_keyframe VIDEO K OUT: the CLI's rgb24 of VIDEO's K-th keyframe (0-based).
cli_keyframe() {
    local vf="select=eq(pict_type\,I)"
    [ "$1" = untagged.mp4 ] && vf="$vf,scale=in_color_matrix=bt709"
    ffmpeg -nostdin -v error -i "$SRC/$1" -vf "$vf" -vsync 0 -frames:v $(($2 + 1)) -f rawvideo \
        -pix_fmt rgb24 - |
        tail -c +$(($2 * $4 + 1)) | head -c "$4" >"$3"
}

for v in "${VIDEOS[@]}"; do
    for req in "t=0.2,tol=inf" "t=0.6,tol=inf"; do
        before=$(mount_stat "$A" band_frames)
        fa=$TMPF/a-$v-$req.png fb=$TMPF/b-$v-$req.png
        if ! out=$(fetch "$A/$v/$req.png" "$fa") || ! out=$(fetch "$B/$v/$req.png" "$fb"); then
            fail "$v/$req: $out"
            continue
        fi
        after=$(mount_stat "$A" band_frames)
        # An interlaced stream may carry a frame's fields in two packets: no
        # lone keyframe there, the ordinary path.
        want=$((before + 1)) how="band by band"
        [ "$v" = mbaff.mp4 ] && want=$before how="the ordinary way (interlaced)"
        [ "$after" = "$want" ] && pass "$v/$req: made $how on A (band_frames $before -> $after)" ||
            fail "$v/$req: band_frames $before -> $after on A, want $want"
        cmp -s "$fa" "$fb" && pass "$v/$req: the same bytes as the one-worker mount ($(stat -c %s "$fa") bytes)" ||
            fail "$v/$req: differs from the one-worker mount ($(stat -c %s "$fa") / $(stat -c %s "$fb") bytes)"
        actual=$(xattr_get "$A/$v/$req.png" user.actual_time)
        k=$(awk -v t="$actual" 'BEGIN { printf "%d", t / 0.5 + 0.5 }')
        read -r w h _ <<<"$(png_ihdr "$fa")"
        ffmpeg -nostdin -v error -i "$fa" -f rawvideo -pix_fmt rgb24 - >"$TMPF/ours.rgb"
        cli_keyframe "$v" "$k" "$TMPF/cli.rgb" $((w * h * 3))
        if [ -s "$TMPF/cli.rgb" ] && cmp -s "$TMPF/ours.rgb" "$TMPF/cli.rgb"; then
            pass "$v/$req: ${w}x$h pixels equal the CLI's decode of keyframe $k (t=$actual)"
        else
            fail "$v/$req: ${w}x$h pixels differ from the CLI's decode of keyframe $k (t=$actual)"
        fi
    done
done
n=$(mount_stat "$B" band_frames)
[ "$n" = 0 ] && pass "the one-worker mount made no frame band by band" ||
    fail "the one-worker mount made $n frames band by band"

# 4. The damaged keyframe: whatever the decoder makes of it, both paths agree.
req="damaged.mp4/t=0.6,tol=inf.png"
fetch "$A/$req" "$TMPF/da.png" >/dev/null
fetch "$B/$req" "$TMPF/db.png" >/dev/null
ra=$(xattr_get "$A/$req" user.result) rb=$(xattr_get "$B/$req" user.result)
if [ "$ra" = "$rb" ] && cmp -s "$TMPF/da.png" "$TMPF/db.png"; then
    pass "damaged keyframe: the same result ($ra) and bytes on both mounts"
else
    fail "damaged keyframe: A $ra ($(stat -c %s "$TMPF/da.png" 2>/dev/null) bytes), B $rb ($(stat -c %s "$TMPF/db.png" 2>/dev/null) bytes)"
fi

# 5. Cancel-all while keyframes are being made band by band.
pids=()
for i in 0 1 2 3; do
    cat "$A/hd.mp4/t=1.$i,tol=inf.png" >/dev/null 2>&1 &
    pids+=($!)
done
sleep_builtin 0.02
setfattr -n user.cancel -v 1 "$A" 2>/dev/null
ended=1
for p in "${pids[@]}"; do wait_pid "$p" 5 || ended=0; done
[ "$ended" = 1 ] && mount_alive "$A" && pass "cancel during band encodes: every read ended, the mount is up" ||
    fail "cancel during band encodes: a read hung or the mount died"
fetch "$A/hd.mp4/t=1.1,tol=inf.png" "$TMPF/after.png" >/dev/null &&
    cmp -s "$TMPF/after.png" <(cat "$B/hd.mp4/t=1.1,tol=inf.png") &&
    pass "after the cancel: the keyframe is made again, the same bytes" ||
    fail "after the cancel: the keyframe is wrong or missing"

[ "$(failures)" -eq 0 ]
