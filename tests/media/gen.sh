#!/usr/bin/env bash
# Generate the small test videos (and a few non-video files) into OUTDIR.
#
#   tests/media/gen.sh OUTDIR
#
# Table-driven: every entry of MEDIA below is "path | recipe".  A recipe is
# either ffmpeg arguments (split on whitespace, so no argument may contain a
# space) that produce the file, or one of the special recipes "@text" /
# "@random:BYTES".  In ffmpeg arguments "{other/path}" stands for an earlier
# entry's output (e.g. to remux it).  Outputs that already exist are kept, so
# the script is idempotent and cheap to call before every test; a file is
# written under a temporary name and renamed, so an interrupted run leaves no
# half-written video behind.  Each entry is one ffmpeg call of well under a
# second on 2 cores.
set -euo pipefail

if [ $# -ne 1 ]; then
    echo "usage: $0 OUTDIR" >&2
    exit 2
fi
OUT=$1

# The hazard each file exercises is noted after "#".
MEDIA='
# H.264 with B-frames and a B-pyramid (pts != dts, reordering), closed GOPs of 24
h264_bframes.mp4 | -f lavfi -i testsrc2=size=320x240:rate=24:duration=4 -c:v libx264 -preset veryfast -x264-params bframes=3:b-pyramid=normal:keyint=24:min-keyint=24:scenecut=0 -pix_fmt yuv420p -an
# VP9 in WebM: millisecond time base, so 0.4 ms moves t to the next tick
vp9.webm | -f lavfi -i testsrc2=size=320x240:rate=25:duration=3 -c:v libvpx-vp9 -deadline realtime -cpu-used 8 -b:v 300k -g 25 -pix_fmt yuv420p -an
# MPEG-2 in MPEG-TS whose timestamps start at ~1001 s (t is relative to the container start)
mpeg2_offset.ts | -f lavfi -i testsrc2=size=320x240:rate=25:duration=3 -c:v mpeg2video -q:v 4 -bf 2 -g 12 -output_ts_offset 1000 -an -f mpegts
# Display matrix (rotate 90) on a stream-copied H.264: frames are 240x320 as the CLI shows them
rotated90.mp4 | -i {h264_bframes.mp4} -map 0:v:0 -c copy -metadata:s:v:0 rotate=90
# Alpha channel (argb QuickTime RLE with varying alpha): frames are RGBA PNGs
alpha_qtrle.mov | -f lavfi -i testsrc2=size=128x96:rate=10:duration=1.5 -vf format=rgba,geq=r=r(X\,Y):g=g(X\,Y):b=b(X\,Y):a=mod(X+2*Y+N*8\,256) -c:v qtrle -pix_fmt argb -an
# A video in a subdirectory: MPEG-4 part 2 in Matroska
sub/mpeg4.mkv | -f lavfi -i testsrc2=size=176x144:rate=15:duration=2 -c:v mpeg4 -q:v 5 -g 15 -an
# Not videos
notes.txt | @text
sub/deeper/data.bin | @random:3000
'

mkdir -p "$OUT"

make_one() {
    local path=$1 recipe=$2 dst="$OUT/$1" tmp
    [ -e "$dst" ] && return 0
    mkdir -p "$(dirname "$dst")"
    # keep the extension: ffmpeg picks the muxer from it
    tmp="$(dirname "$dst")/.tmp.$$.$(basename "$dst")"
    case $recipe in
    @text)
        printf 'framefs test media\nThis file is not a video; framefs shows it as itself.\n' >"$tmp" ;;
    @random:*)
        head -c "${recipe#@random:}" /dev/urandom >"$tmp" ;;
    *)
        local -a args=() word ref
        # shellcheck disable=SC2086  # the recipe is split on purpose
        set -f; for word in $recipe; do
            while [[ $word == *\{*\}* ]]; do
                ref=${word#*\{}; ref=${ref%%\}*}
                [ -e "$OUT/$ref" ] || { echo "gen.sh: $path needs $ref (list it earlier)" >&2; return 1; }
                word=${word/\{$ref\}/$OUT/$ref}
            done
            args+=("$word")
        done; set +f
        if ! ffmpeg -nostdin -hide_banner -loglevel error -y "${args[@]}" "$tmp"; then
            rm -f "$tmp"
            echo "gen.sh: ffmpeg failed for $path" >&2
            return 1
        fi ;;
    esac
    mv -f "$tmp" "$dst"
}

trim() {
    local s=$1
    s=${s#"${s%%[![:space:]]*}"}
    printf '%s' "${s%"${s##*[![:space:]]}"}"
}

while IFS= read -r line; do
    case $line in ''|'#'*) continue ;; esac
    path=${line%%|*}; recipe=${line#*|}
    path=$(trim "$path"); recipe=$(trim "$recipe")
    make_one "$path" "$recipe"
done <<<"$MEDIA"
