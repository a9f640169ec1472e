#!/usr/bin/env bash
# Seeds for tests/fuzz/fuzz_media.c: small videos (< 200 KB each) of many
# codecs and containers made with the ffmpeg CLI, plus the files of
# /work/shared/media (SHARED_MEDIA) under 1 MiB.  Each seed is one prefix
# byte + the file: the prefix's low nibble picks the name's extension (the
# table ext[] in fuzz_media.c; keep the two in step), its high nibble the
# number of requests, the PNG level and tolerant requests.
#
#   tests/fuzz/media-seeds.sh OUTDIR
#
# OUTDIR is built in a temporary directory and renamed at the end, so it
# exists only when complete.  A seed whose encoder is missing is skipped
# with a warning.  Takes ~15-30 s on one core.
set -u

out=${1:?usage: $0 OUTDIR}
shared=${SHARED_MEDIA:-/work/shared/media}
max_seed=$((200 * 1024))
max_shared=$((1048576 - 1))            # the fuzzer's -max_len, with the prefix

command -v ffmpeg >/dev/null || { echo "media-seeds: ffmpeg not found" >&2; exit 1; }

mkdir -p "$(dirname "$out")" || exit 1
tmp=$(mktemp -d "${out%/}.tmp.XXXXXX") || exit 1
work=$tmp/.work
mkdir -p "$work"
trap 'rm -rf "$tmp"' EXIT

# Extension -> position in fuzz_media.c's ext[].
ext_index() {
    case "${1,,}" in
    mp4|m4v) echo 0 ;; mkv) echo 1 ;; ts|m2ts) echo 2 ;; avi) echo 3 ;; flv) echo 4 ;;
    h264|264) echo 5 ;; webm) echo 6 ;; y4m) echo 7 ;; mpg|mpeg|vob) echo 8 ;;
    mov|qt) echo 9 ;; ivf) echo 10 ;; gif) echo 11 ;; hevc|h265|265) echo 12 ;;
    nut) echo 13 ;; ogv|ogg) echo 14 ;; 3gp|3g2) echo 15 ;; *) echo 0 ;;
    esac
}

# prefixed FLAGS SRC DEST: write the prefix byte (FLAGS | extension of SRC's
# name) and SRC into DEST.
prefixed() {
    local flags=$1 src=$2 dest=$3 e=${2##*.}
    local byte=$(( flags | $(ext_index "$e") ))

    { printf "\\x$(printf %02x "$byte")"; cat "$src"; } > "$dest"
}

ff() {
    ffmpeg -nostdin -hide_banner -loglevel error -y -threads 1 "$@"
}

SRC="testsrc2=s=64x48:r=15:d=1"
made=0

# seed NAME.EXT FLAGS FFMPEG-ARGS...: encode $SRC with the arguments into
# NAME.EXT and keep it as seed NAME.EXT.
seed() {
    local name=$1 flags=$2 f
    shift 2
    f=$work/$name
    if ! ff -f lavfi -i "$SRC" "$@" "$f" 2>"$work/err" || [ ! -s "$f" ]; then
        echo "media-seeds: skipped $name: $(head -c 200 "$work/err")" >&2
        return
    fi
    keep "$name" "$flags" "$f"
}

# keep NAME FLAGS FILE
keep() {
    local size
    size=$(stat -c %s "$3")
    if [ "$size" -ge "$max_seed" ]; then
        echo "media-seeds: skipped $1: $size bytes" >&2
        return
    fi
    prefixed "$2" "$3" "$tmp/$1"
    made=$((made + 1))
}

X264="-c:v libx264 -preset veryfast -pix_fmt yuv420p"

# seed_rotated NAME.EXT FLAGS BYTES: an H.264 MP4/MOV whose track header's
# display matrix starts with BYTES (printf escapes; a, b, u, c, d: 4 bytes
# each, big-endian 16.16).  FFmpeg 5.1's muxer ignores the "rotate" tag, so
# the matrix of the first tkhd is patched in place.
seed_rotated() {
    local name=$1 flags=$2 bytes=$3 f=$work/$1 off
    if ! ff -f lavfi -i "$SRC" $X264 -bf 2 -g 5 "$f" 2>"$work/err" ||
       ! off=$(grep -obUa tkhd "$f" | head -1 | cut -d: -f1) || [ -z "$off" ]; then
        echo "media-seeds: skipped $name: $(head -c 200 "$work/err")" >&2
        return
    fi
    # Version-0 tkhd: the matrix is 40 bytes after the type (44 from its start).
    printf "$bytes" | dd of="$f" bs=1 seek=$((off + 44)) conv=notrunc status=none
    keep "$name" "$flags" "$f"
}

# H.264 with B-frames in the usual containers; one open-GOP without IDRs.
seed h264-bframes.mp4   0x00 $X264 -bf 3 -g 8
seed h264-bframes.mkv   0x80 $X264 -bf 3 -g 8
seed h264-bframes.ts    0x00 $X264 -bf 2 -g 6
seed h264-opengop.ts    0x10 $X264 -bf 2 -x264-params keyint=6:open-gop=1:scenecut=0
seed h264-annexb.h264   0x00 $X264 -bf 2 -g 5 -f h264
seed h264-annexb-tol.h264 0xc0 $X264 -bf 0 -g 4 -f h264
seed h264-flv.flv       0x00 $X264 -bf 2 -g 8
seed h264-444-odd.mkv   0x40 -vf scale=33:17 -c:v libx264 -preset veryfast -pix_fmt yuv444p -g 5
seed h264-10bit.mp4     0x00 -c:v libx264 -preset veryfast -pix_fmt yuv420p10le -bf 2 -g 6
seed_rotated h264-rotated90.mp4  0x00 '\x00\x00\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\xff\xff\x00\x00'
seed_rotated h264-rotated180.mov 0x80 '\xff\xff\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\xff\xff\x00\x00'
seed_rotated h264-flipped.mp4    0x00 '\xff\xff\x00\x00'
# Timestamps mangled by the setts filter: a repeated pts, a jump back, VFR.
seed setts-dup.mkv      0x00 $X264 -bf 0 -g 5 -bsf:v "setts=pts=if(eq(N\,4)\,PREV_INPTS\,PTS)"
seed setts-back.ts      0x80 $X264 -bf 0 -g 5 -bsf:v "setts=ts=if(gte(N\,7)\,TS-30000\,TS)"
seed setts-vfr.mkv      0x00 $X264 -bf 0 -g 4 -bsf:v "setts=ts=TS+N*N*3"
seed setts-jitter.mkv   0x80 $X264 -bf 0 -g 5 -bsf:v "setts=pts=PTS+mod(N*7\,3)*100"

# HEVC, VP8/VP9, AV1-free web formats.
seed hevc.mp4           0x00 -c:v libx265 -preset ultrafast -x265-params log-level=error:bframes=2:keyint=6
seed hevc-annexb.hevc   0x00 -c:v libx265 -preset ultrafast -x265-params log-level=error:keyint=5 -f hevc
# HDR: PQ with mastering metadata and HLG, 10-bit (the tone-mapping path)
seed hevc-pq.mp4        0x00 -c:v libx265 -preset ultrafast -pix_fmt yuv420p10le -color_primaries bt2020 -color_trc smpte2084 -colorspace bt2020nc -x265-params log-level=error:keyint=5:hdr10=1:max-cll=1000,400
seed hevc-hlg.mov       0x80 -c:v libx265 -preset ultrafast -pix_fmt yuv420p10le -color_primaries bt2020 -color_trc arib-std-b67 -colorspace bt2020nc -x265-params log-level=error:keyint=5
seed vp9.webm           0x00 -c:v libvpx-vp9 -deadline realtime -cpu-used 8 -g 6
seed vp9-10bit.webm     0x80 -c:v libvpx-vp9 -deadline realtime -cpu-used 8 -pix_fmt yuv420p10le -g 6
seed vp8.ivf            0x00 -c:v libvpx -deadline realtime -cpu-used 8 -g 6
seed vp8-alpha.webm     0x00 -vf format=yuva420p -c:v libvpx -deadline realtime -cpu-used 8 -auto-alt-ref 0
seed theora.ogv         0x00 -c:v libtheora -g 6

# MPEG-1/2/4 and friends (no pts in PS/ES: index by decoding).
seed mpeg2.ts           0x00 -c:v mpeg2video -bf 2 -g 6
seed mpeg2-ps.mpg       0x80 -c:v mpeg2video -bf 2 -g 6 -f vob
seed mpeg1.mpg          0x00 -r 25 -c:v mpeg1video -bf 1 -g 5 -f mpeg
seed mpeg4-bframes.avi  0x00 -c:v mpeg4 -bf 2 -g 6
seed mpeg4-packed.avi   0x40 -c:v libxvid -bf 2 -g 6
seed h263.3gp           0x00 -vf scale=128:96 -c:v h263 -g 5
seed flv1.flv           0x80 -c:v flv -g 5

# Intra / lossless / alpha codecs.
seed mjpeg.avi          0x00 -c:v mjpeg -q:v 5
seed mjpeg.mov          0x10 -c:v mjpeg -q:v 5
seed ffv1.nut           0x00 -c:v ffv1 -level 3 -g 4
seed ffv1-rgba.nut      0x80 -vf format=rgba -c:v ffv1
seed prores.mov         0x00 -vf scale=64:32 -c:v prores_ks -profile:v 0
seed png-rgba.mov       0x00 -vf format=rgba -c:v png
seed qtrle.mov          0x40 -c:v qtrle
seed utvideo.avi        0x00 -c:v utvideo
seed y4m.y4m            0x00 -pix_fmt yuv420p -f yuv4mpegpipe
seed gif.gif            0x00 -vf "split[a][b];[a]palettegen[p];[b][p]paletteuse" -f gif

# An MP4 with an edit list: cut (stream copy) from the middle of a GOP.
if ff -f lavfi -i "$SRC" $X264 -bf 2 -g 10 "$work/long.mp4" 2>"$work/err" &&
   ff -ss 0.3 -i "$work/long.mp4" -c copy "$work/editlist.mp4" 2>"$work/err"; then
    keep editlist.mp4 0x00 "$work/editlist.mp4"
else
    echo "media-seeds: skipped editlist.mp4: $(head -c 200 "$work/err")" >&2
fi

# Real-world files (broken ones included: a clean failure is a result too).
if [ -d "$shared" ]; then
    for f in "$shared"/*; do
        [ -f "$f" ] || continue
        case "$f" in *.txt|*.md|*.tsv) continue ;; esac
        size=$(stat -c %s "$f")
        [ "$size" -gt 0 ] && [ "$size" -le "$max_shared" ] || continue
        prefixed 0x00 "$f" "$tmp/shared-$(basename "$f")"
        made=$((made + 1))
    done
fi

rm -rf "$work"
[ "$made" -gt 0 ] || { echo "media-seeds: no seeds made" >&2; exit 1; }
rm -rf "$out"
mv "$tmp" "$out" || exit 1
trap - EXIT
echo "media-seeds: $made seeds in $out"
