#!/usr/bin/env bash
# shellcheck disable=SC2317  # the chk_* functions are called by name
# Generate the hazard corpus: one small video per thing that makes frame
# accuracy hard (codec, container, timestamps, GOP structure, geometry), named
# for it, into OUTDIR.  tests/integration/test_accuracy.sh probes every one.
#
#   tests/media/hazards.sh OUTDIR           make the missing files (cached)
#   tests/media/hazards.sh --check OUTDIR   re-check every file's hazard
#   tests/media/hazards.sh --list           the file names, one per line
#
# Table-driven, like gen.sh: every entry of HAZARDS is
#
#   path | check | recipe
#
# recipe: ffmpeg arguments (split on whitespace, so no argument may contain a
# space) that write the file; "{other.ext}" stands for an earlier entry's
# output (such entries are made after all the others).  "@2pass ARGS" runs a
# two-pass encode (pass 1 to the null muxer).  "@needs=ENCODER" as the first
# word makes the entry optional: it is skipped (with a note on stderr) when
# this ffmpeg lacks ENCODER.
#
# check: a function below and its arguments.  It proves with ffprobe (or a
# trace_headers bitstream filter dump) that the file really has its hazard,
# prints the evidence, and fails otherwise.  Each new file is checked right
# after it is made; a file that fails its check is deleted and the script
# exits 1, so an ffmpeg that silently drops a hazard is noticed, not tested
# around.  The comment above each entry says what the check looks for.
#
# Outputs that exist are kept (cheap to call before every test); files are
# written under a temporary name and renamed.  Up to $(nproc) encodes run at
# once; the whole set takes about 15 s of CPU.  Nothing here is committed:
# OUTDIR is a build directory.
set -euo pipefail

# Most sources: testsrc2 (every frame differs: a moving pattern and a clock).
HAZARDS='
# H.264, 3 B-frames with a B-pyramid (B-frames used as references), closed GOPs
# of 24. check: has_b_frames >= 2 and packets with pts != dts.
h264_bframes_pyramid.mp4 | bframes 2 | -f lavfi -i testsrc2=size=320x240:rate=24:duration=3 -c:v libx264 -preset veryfast -x264-params bframes=3:b-pyramid=normal:keyint=24:min-keyint=24:scenecut=0 -pix_fmt yuv420p
# H.264 with a single keyframe in 4 s (100 frames, B-frames): every frame
# needs a decode from frame 0. check: exactly 1 packet flagged K.
h264_one_keyframe.mp4 | keyframes 1 | -f lavfi -i testsrc2=size=320x240:rate=25:duration=4 -c:v libx264 -preset veryfast -x264-params keyint=infinite:min-keyint=1000:scenecut=0:bframes=2 -pix_fmt yuv420p
# H.264 all-intra. check: every packet flagged K.
h264_all_intra.mp4 | keyframes all | -f lavfi -i testsrc2=size=320x240:rate=24:duration=2 -c:v libx264 -preset veryfast -x264-params keyint=1 -pix_fmt yuv420p
# H.264 open GOP: non-IDR I-frames (recovery point) flagged key, followed in
# decode order by B-frames shown before them that reference the previous GOP.
# check: a key packet whose slice NAL is type 1 (not 5, IDR), followed by a
# packet with a smaller pts.
h264_open_gop.mp4 | h264_open_gop | -f lavfi -i testsrc2=size=320x240:rate=30:duration=3 -c:v libx264 -preset veryfast -x264-params keyint=30:min-keyint=30:scenecut=0:open-gop=1:bframes=3 -pix_fmt yuv420p
# H.264 with B-frames in MPEG-TS (90 kHz, starts at 1.4 s, keyframes found by
# the parser). check: format mpegts, has_b_frames >= 1, start_time > 1.
h264_in_mpegts.ts | stream format_name=mpegts codec_name=h264 has_b_frames>=1 start_time>1 | -f lavfi -i testsrc2=size=320x240:rate=24:duration=3 -c:v libx264 -preset veryfast -x264-params bframes=2:keyint=24 -pix_fmt yuv420p
# H.264 MP4 written without an edit list: the first pts is the B-frame delay
# (2 frames), so pts != dts and the container starts after 0.
# check: start_time > 0 and pts != dts.
h264_no_editlist.mp4 | stream start_time>0 has_b_frames>=1 | -f lavfi -i testsrc2=size=320x240:rate=24:duration=3 -c:v libx264 -preset veryfast -x264-params bframes=3:keyint=24 -pix_fmt yuv420p -use_editlist 0
# H.264 at 30000/1001 fps with B-frames in Matroska: timestamps rounded to
# milliseconds (deltas 33 and 34 ms). check: time_base 1/1000, irregular deltas.
h264_ms_rounded.mkv | irregular 1/1000 | -f lavfi -i testsrc2=size=320x240:rate=30000/1001:duration=3 -c:v libx264 -preset veryfast -x264-params bframes=3:keyint=30 -pix_fmt yuv420p
# HEVC open GOP: CRA pictures (NAL 21) with leading RASL pictures (NAL 8/9)
# that reference the previous GOP and are dropped when decoding starts at the
# CRA. check: slice NAL types 21 and 8 or 9 present.
hevc_open_gop_cra_rasl.mp4 | hevc_cra_rasl | -f lavfi -i testsrc2=size=320x240:rate=24:duration=3 -c:v libx265 -preset ultrafast -x265-params keyint=24:min-keyint=24:scenecut=0:open-gop=1:bframes=4:log-level=error -pix_fmt yuv420p
# HEVC Main 10 in Matroska. check: pix_fmt yuv420p10le.
hevc_10bit.mkv | stream codec_name=hevc pix_fmt=yuv420p10le | -f lavfi -i testsrc2=size=320x240:rate=24:duration=2 -c:v libx265 -preset ultrafast -x265-params keyint=24:log-level=error -pix_fmt yuv420p10le
# VP8 in WebM (alt-ref enabled). check: codec vp8.
vp8.webm | stream codec_name=vp8 | -f lavfi -i testsrc2=size=320x240:rate=24:duration=3 -c:v libvpx -deadline good -cpu-used 5 -auto-alt-ref 1 -lag-in-frames 16 -b:v 400k -g 48
# VP9, two-pass with alt-ref: hidden frames packed in superframes with the next
# shown frame. check: a trace_headers dump shows frames with show_frame=0.
vp9_hidden_altref.webm | hidden_frames | @2pass -f lavfi -i testsrc2=size=240x180:rate=24:duration=3 -c:v libvpx-vp9 -deadline good -cpu-used 8 -auto-alt-ref 1 -lag-in-frames 16 -b:v 250k -g 48
# AV1 (libaom): hidden alt-ref frames and show_existing_frame temporal units.
# check: show_frame=0 in the OBU trace.
av1_libaom_hidden.mkv | hidden_frames | @needs=libaom-av1 -f lavfi -i testsrc2=size=160x120:rate=24:duration=2 -c:v libaom-av1 -cpu-used 8 -b:v 200k -g 24 -lag-in-frames 16
# AV1 (SVT-AV1) in MP4, mini-GOPs of 16 with hidden frames. check: codec av1.
av1_svt.mp4 | stream codec_name=av1 | @needs=libsvtav1 -f lavfi -i testsrc2=size=320x240:rate=24:duration=2 -c:v libsvtav1 -preset 12 -g 24 -svtav1-params lp=1
# MPEG-2 with B-frames in MPEG-TS starting at ~10001 s: t counts from the
# container start. check: start_time > 10000.
mpeg2_ts_large_offset.ts | stream codec_name=mpeg2video start_time>10000 | -f lavfi -i testsrc2=size=320x240:rate=25:duration=3 -c:v mpeg2video -q:v 4 -bf 2 -g 12 -output_ts_offset 10000
# MPEG-2 in MPEG-TS whose 33-bit pts wraps 1 s into the file (starts at
# 95442.7 s; 2^33/90000 = 95443.72 s); libavformat unwraps it (start_time < 0).
# check: with -correct_ts_overflow 0 the raw pts span more than 2^32.
mpeg2_ts_pts_wrap.ts | ts_wrap | -f lavfi -i testsrc2=size=320x240:rate=25:duration=3 -c:v mpeg2video -q:v 4 -bf 2 -g 12 -output_ts_offset 95441.3
# MPEG-2 open GOPs (the encoder default) in MPEG-PS: the leading B-frames of
# each GOP reference the previous GOP. check: GOP headers with closed_gop=0,
# has_b_frames >= 1.
mpeg2_open_gop.mpg | mpeg2_open_gop | -f lavfi -i testsrc2=size=320x240:rate=25:duration=3 -c:v mpeg2video -q:v 4 -bf 2 -g 12
# MPEG-4 part 2 with B-frames in AVI: AVI stores no pts (dts only), pts are
# guessed. check: packets without pts, has_b_frames >= 1.
mpeg4_bframes.avi | no_packet_pts | -f lavfi -i testsrc2=size=320x240:rate=25:duration=3 -c:v mpeg4 -q:v 4 -bf 2 -g 25
# Motion JPEG, full range (yuvj422p) in QuickTime. check: pix_fmt yuvj422p,
# color_range pc.
mjpeg_fullrange.mov | stream codec_name=mjpeg pix_fmt=yuvj422p color_range=pc | -f lavfi -i testsrc2=size=320x240:rate=25:duration=2 -c:v mjpeg -q:v 3 -pix_fmt yuvj422p
# ProRes 422 (10-bit 4:2:2). check: codec prores, pix_fmt yuv422p10le.
prores422.mov | stream codec_name=prores pix_fmt=yuv422p10le | -f lavfi -i testsrc2=size=320x240:rate=25:duration=2 -c:v prores_ks -profile:v 2 -pix_fmt yuv422p10le
# ProRes 4444 with a varying alpha channel: frames are RGBA.
# check: pix_fmt yuva444p12le (the decoder output with alpha).
prores4444_alpha.mov | stream codec_name=prores pix_fmt=yuva444p12le | -f lavfi -i testsrc2=size=160x120:rate=25:duration=1 -vf format=rgba,geq=r=r(X\,Y):g=g(X\,Y):b=b(X\,Y):a=mod(X+2*Y+N*8\,256) -c:v prores_ks -profile:v 4 -pix_fmt yuva444p10le
# FFV1 version 3 with slices in Matroska (lossless, intra, GOP 12 in MKV).
# check: codec ffv1.
ffv1.mkv | stream codec_name=ffv1 | -f lavfi -i testsrc2=size=320x240:rate=24:duration=2 -c:v ffv1 -level 3 -slices 4 -g 12
# Theora in Ogg: timestamps come from granule positions. check: codec theora,
# format ogg.
theora.ogv | stream codec_name=theora format_name=ogg | -f lavfi -i testsrc2=size=320x240:rate=24:duration=3 -c:v libtheora -q:v 6 -g 24
# QuickTime RLE (argb) with varying alpha: delta frames between keyframes
# every 10, frames are RGBA. check: pix_fmt argb, 2 keyframes.
qtrle_alpha.mov | stream codec_name=qtrle pix_fmt=argb key_packets=2 | -f lavfi -i testsrc2=size=160x120:rate=10:duration=2 -vf format=rgba,geq=r=r(X\,Y):g=g(X\,Y):b=b(X\,Y):a=mod(X+2*Y+N*8\,256) -c:v qtrle -pix_fmt argb -g 10
# Variable frame rate: 60 fps source thinned by a pseudo-random select (gaps of
# 1 to 5 frames), written as is (-fps_mode vfr), with B-frames.
# check: at least 3 distinct pts deltas.
vfr.mkv | irregular | -f lavfi -i testsrc2=size=320x240:rate=60:duration=3 -vf select=lt(mod(n*n\,17)\,7)+between(n\,100\,104) -fps_mode vfr -c:v libx264 -preset veryfast -x264-params bframes=2:keyint=30 -pix_fmt yuv420p
vfr.mp4 | irregular | -f lavfi -i testsrc2=size=320x240:rate=60:duration=3 -vf select=lt(mod(n*n\,17)\,7)+between(n\,100\,104) -fps_mode vfr -c:v libx264 -preset veryfast -x264-params bframes=2:keyint=30 -pix_fmt yuv420p
# MP4 cut by stream copy at 1.3 s, mid-GOP (keyframes every 1 s): the edit
# list hides the frames of the GOP before 1.3 s; they are decoded but dropped.
# check: more packets than decoded frames, and the moov has an edit list.
editlist_cut_mid_gop.mp4 | editlist | -ss 1.3 -i {h264_bframes_pyramid.mp4} -c copy
# Display matrix: 90, 180 and 270 degrees (stream copies of the B-pyramid file).
# check: ffprobe side_data rotation (its sign convention: 90, -180, -90).
rotate90.mp4 | rotation 90 | -i {h264_bframes_pyramid.mp4} -c copy -metadata:s:v:0 rotate=90
rotate180.mp4 | rotation -180 | -i {h264_bframes_pyramid.mp4} -c copy -metadata:s:v:0 rotate=180
rotate270.mp4 | rotation -90 | -i {h264_bframes_pyramid.mp4} -c copy -metadata:s:v:0 rotate=270
# Odd dimensions: H.264 4:4:4, and VP9 4:2:0 (chroma planes of 161x122).
# (testsrc2 itself rounds sizes to even: crop a 4:4:4 picture.)
# check: 321x243.
odd_321x243_yuv444.mp4 | stream width=321 height=243 pix_fmt=yuv444p | -f lavfi -i testsrc2=size=322x244:rate=24:duration=2 -vf format=yuv444p,crop=321:243:0:0 -c:v libx264 -preset veryfast -pix_fmt yuv444p
odd_321x243_yuv420.webm | stream width=321 height=243 pix_fmt=yuv420p | -f lavfi -i testsrc2=size=322x244:rate=24:duration=2 -vf format=yuv444p,crop=321:243:0:0,format=yuv420p -c:v libvpx-vp9 -deadline realtime -cpu-used 8 -b:v 300k -g 24 -pix_fmt yuv420p
# Non-square pixels: SAR 2:1 (frames stay 320x240, as the CLI decodes them).
# check: sample_aspect_ratio 2:1.
sar_2_1.mp4 | stream sample_aspect_ratio=2:1 | -f lavfi -i testsrc2=size=320x240:rate=24:duration=2 -vf setsar=2/1 -c:v libx264 -preset veryfast -pix_fmt yuv420p
# BT.709-tagged HD (1280x720, 1 s): the YUV->RGB matrix must follow the tags
# as the CLI does. check: color_space/primaries/transfer bt709, 1280x720.
bt709_hd.mp4 | stream width=1280 height=720 color_space=bt709 color_primaries=bt709 color_transfer=bt709 | -f lavfi -i testsrc2=size=1280x720:rate=25:duration=1 -vf scale=out_color_matrix=bt709:out_range=tv -c:v libx264 -preset veryfast -pix_fmt yuv420p -colorspace bt709 -color_primaries bt709 -color_trc bt709 -color_range tv
# A file with one frame. check: one decoded frame.
one_frame.mp4 | stream frames=1 | -f lavfi -i testsrc2=size=320x240:rate=24:duration=1 -frames:v 1 -c:v libx264 -pix_fmt yuv420p
# Video starting 0.5 s after the audio (t=0 is the container start, before the
# first frame: t < 0.5 gets the first frame). check: video start_time 0.5,
# format start_time 0.
video_after_audio.mp4 | video_late 0.4 | -f lavfi -i sine=frequency=440:duration=3 -itsoffset 0.5 -f lavfi -i testsrc2=size=320x240:rate=24:duration=2.5 -map 0:a -map 1:v -c:v libx264 -preset veryfast -pix_fmt yuv420p -c:a aac -fps_mode:v passthrough
# Raw H.264 Annex B elementary stream with B-frames: no timestamps at all (the
# oracle has none either: ambiguous, documented by the test). check: no frame
# has a pts.
h264_raw_no_timestamps.h264 | no_frame_pts | -f lavfi -i testsrc2=size=320x240:rate=25:duration=2 -c:v libx264 -preset veryfast -x264-params bframes=2:keyint=25 -pix_fmt yuv420p
# Raw MPEG-2 elementary stream: timestamps only from the parser (dts of a
# nominal frame rate), some frames without one. check: packets without pts.
mpeg2_raw_elementary.m2v | no_packet_pts | -f lavfi -i testsrc2=size=320x240:rate=25:duration=2 -c:v mpeg2video -q:v 4 -bf 2 -g 12
'

# ---------------------------------------------------------------- checks
# Each check F ARGS... prints one line of evidence and returns 0 when F has
# the hazard.  (They are called by name, as chk_NAME.)

ffv() {   # F ENTRIES: ffprobe's values for the video stream, one key=value a line
    ffprobe -v error -select_streams v:0 -show_entries "$2" -of default=nw=1 "$1" | awk -F= '!seen[$1]++'
}
val() { awk -F= -v k="$1" '$1 == k { print substr($0, length(k) + 2); exit }'; }
# packets F: "pts,dts,flags" of every video packet (decode order)
packets() { ffprobe -v error -select_streams v:0 -show_entries packet=pts,dts,flags -of csv=p=0 "$1"; }
# trace F: the trace_headers dump of the video bitstream
trace() { ffmpeg -nostdin -hide_banner -i "$1" -map 0:v:0 -c copy -bsf:v trace_headers -f null - 2>&1; }

# stream F KEY=VALUE|KEY>N|KEY>=N...: stream or format fields, "frames" (the
# number of decoded frames) or "key_packets" (packets flagged K).
chk_stream() {
    local f=$1 cond key want got ok=0 out=""
    shift
    for cond in "$@"; do
        case $cond in
        *'>='*) key=${cond%%>=*}; want=${cond#*>=} ;;
        *'>'*) key=${cond%%>*}; want=${cond#*>} ;;
        *) key=${cond%%=*}; want=${cond#*=} ;;
        esac
        case $key in
        frames) got=$(ffprobe -v error -count_frames -select_streams v:0 -show_entries stream=nb_read_frames -of default=nw=1:nk=1 "$f" | head -n 1) ;;
        key_packets) got=$(packets "$f" | grep -c ',K') ;;
        format_name) got=$(ffprobe -v error -show_entries format=format_name -of default=nw=1:nk=1 "$f") ;;
        start_time) got=$(ffprobe -v error -show_entries format=start_time -of default=nw=1:nk=1 "$f") ;;
        *) got=$(ffv "$f" "stream=$key" | val "$key") ;;
        esac
        out+="$key=$got "
        case $cond in
        *'>='*) awk -v a="$got" -v b="$want" 'BEGIN { exit !(a + 0 >= b + 0) }' || ok=1 ;;
        *'>'*) awk -v a="$got" -v b="$want" 'BEGIN { exit !(a + 0 > b + 0) }' || ok=1 ;;
        *) [ "$got" = "$want" ] || ok=1 ;;
        esac
    done
    echo "$out"
    return "$ok"
}

chk_bframes() {
    local f=$1 min=$2 hb reord
    hb=$(ffv "$f" stream=has_b_frames | val has_b_frames)
    reord=$(packets "$f" | awk -F, '$1 != $2 { n++ } END { print n + 0 }')
    echo "has_b_frames=$hb packets_with_pts!=dts=$reord"
    [ "$hb" -ge "$min" ] && [ "$reord" -gt 0 ]
}

chk_keyframes() {
    local f=$1 want=$2 k n
    n=$(packets "$f" | wc -l)
    k=$(packets "$f" | grep -c ',K')
    echo "packets=$n key_packets=$k"
    if [ "$want" = all ]; then [ "$k" -eq "$n" ]; else [ "$k" -eq "$want" ]; fi
}

chk_h264_open_gop() {
    # decode order: a key packet whose first slice NAL is 1 (non-IDR), then
    # a packet with a smaller pts (a leading picture)
    trace "$1" | awk '
        /Packet:/ { key = /key frame/; p = $0; sub(/.*pts /, "", p); sub(/,.*/, "", p); pts = p + 0
                    if (lastkey_nonidr && pts < keypts) leading++
                    lastkey_nonidr = 0; slice_seen = 0; next }
        /nal_unit_type/ && !slice_seen && ($NF == 1 || $NF == 5) {
            slice_seen = 1
            if (key && $NF == 1) { nonidr++; lastkey_nonidr = 1; keypts = pts }
            if (key && $NF == 5) idr++
        }
        END { printf "key IDR=%d key non-IDR=%d leading pictures after them=%d\n", idr, nonidr, leading
              exit !(nonidr > 0 && leading > 0) }'
}

chk_hevc_cra_rasl() {
    trace "$1" | awk '
        /nal_unit_type/ { if ($NF == 21) cra++; if ($NF == 8 || $NF == 9) rasl++; if ($NF == 19 || $NF == 20) idr++ }
        END { printf "IDR=%d CRA=%d RASL=%d slices\n", idr, cra, rasl; exit !(cra > 0 && rasl > 0) }'
}

chk_mpeg2_open_gop() {
    local hb
    hb=$(ffv "$1" stream=has_b_frames | val has_b_frames)
    trace "$1" | awk -v hb="$hb" '
        / closed_gop / { if ($NF == 0) open++; else closed++ }
        END { printf "GOP headers closed_gop=0: %d, closed_gop=1: %d, has_b_frames=%s\n", open, closed, hb
              exit !(open > 0 && hb >= 1) }'
}

chk_hidden_frames() {
    trace "$1" | awk '
        / show_frame / { if ($NF == 0) hidden++; else shown++ }
        / show_existing_frame / && $NF == 1 { existing++ }
        END { printf "frames show_frame=0: %d, show_frame=1: %d, show_existing_frame=1: %d\n", hidden, shown, existing
              exit !(hidden > 0) }'
}

chk_no_packet_pts() {
    local hb
    hb=$(ffv "$1" stream=has_b_frames | val has_b_frames)
    packets "$1" | awk -F, -v hb="$hb" '
        { n++; if ($1 == "N/A") nopts++ }
        END { printf "packets=%d without pts=%d has_b_frames=%s\n", n, nopts, hb; exit !(nopts > 0 && hb >= 1) }'
}

chk_no_frame_pts() {
    ffprobe -v error -select_streams v:0 -show_entries frame=best_effort_timestamp -of csv=p=0 "$1" |
        awk -F, 'NF { n++; if ($1 == "N/A") na++ }
            END { printf "frames=%d without a timestamp=%d\n", n, na; exit !(n > 0 && na == n) }'
}

chk_irregular() {   # F [TIME_BASE]
    local f=$1 tb
    tb=$(ffv "$f" stream=time_base | val time_base)
    ffprobe -v error -select_streams v:0 -show_entries frame=best_effort_timestamp -of csv=p=0 "$f" |
        awk -F, -v tb="$tb" -v want="${2-}" '
        NF && $1 != "N/A" { if (n++) d[$1 - p]++; p = $1 }
        END { for (k in d) { nd++; s = s " " k "x" d[k] }
              printf "time_base=%s pts deltas (ticks x count):%s\n", tb, s
              exit !(nd >= 2 && (want == "" || want == tb) && (want != "" || nd >= 3)) }'
}

chk_editlist() {
    local f=$1 np nf el
    np=$(ffprobe -v error -count_packets -count_frames -select_streams v:0 -show_entries stream=nb_read_packets,nb_read_frames -of default=nw=1 "$f")
    nf=$(echo "$np" | val nb_read_frames)
    np=$(echo "$np" | val nb_read_packets)
    el=$(ffprobe -v trace "$f" 2>&1 | grep -m 1 -o 'Processing st: 0, edit list 0 - media time: [0-9-]*' || true)
    echo "packets=$np decoded frames=$nf; $el"
    [ "$np" -gt "$nf" ] && [ -n "$el" ]
}

chk_rotation() {
    local r
    r=$(ffprobe -v error -select_streams v:0 -show_entries stream_side_data=rotation -of default=nw=1:nk=1 "$1" | head -n 1)
    echo "rotation=$r"
    [ "$r" = "$2" ]
}

chk_ts_wrap() {
    ffprobe -v error -correct_ts_overflow 0 -select_streams v:0 -show_entries packet=pts -of csv=p=0 "$1" |
        awk -F, '$1 != "N/A" { if (!n++ || $1 < lo) lo = $1; if ($1 > hi) hi = $1 }
            END { printf "raw pts from %.0f to %.0f (2^33 = 8589934592)\n", lo, hi; exit !(hi - lo > 4294967296) }'
}

chk_video_late() {   # F MIN: video stream starts at least MIN s after the format
    local f=$1 vs fs
    vs=$(ffv "$f" stream=start_time | val start_time)
    fs=$(ffprobe -v error -show_entries format=start_time -of default=nw=1:nk=1 "$f")
    echo "video start_time=$vs format start_time=$fs"
    awk -v a="$vs" -v b="$fs" -v m="$2" 'BEGIN { exit !(a - b >= m) }'
}

# ---------------------------------------------------------------- driver

usage() { echo "usage: $0 OUTDIR | --check OUTDIR | --list" >&2; exit 2; }
mode="make"
case ${1-} in
--check) mode=check; shift ;;
--list) mode=list; shift ;;
esac
if [ "$mode" = list ]; then
    [ $# -eq 0 ] || usage
else
    [ $# -eq 1 ] || usage
    OUT=$1
fi

trim() {
    local s=$1
    s=${s#"${s%%[![:space:]]*}"}
    printf '%s' "${s%"${s##*[![:space:]]}"}"
}

ENTRIES=()   # "path|check|recipe", trimmed
while IFS= read -r line; do
    case $line in ''|'#'*) continue ;; esac
    IFS='|' read -r p c r <<<"$line"
    ENTRIES+=("$(trim "$p")|$(trim "$c")|$(trim "$r")")
done <<<"$HAZARDS"

if [ "$mode" = list ]; then
    for e in "${ENTRIES[@]}"; do echo "${e%%|*}"; done
    exit 0
fi

mkdir -p "$OUT"
ENCODERS=""
have_encoder() {
    [ -n "$ENCODERS" ] || ENCODERS=$(ffmpeg -hide_banner -encoders 2>/dev/null | awk '{ print $2 }')
    grep -qx -- "$1" <<<"$ENCODERS"
}

# run_check PATH CHECK: run the check on OUT/PATH, print "PATH: evidence".
run_check() {
    local path=$1 check=$2 fn ev st
    read -r fn rest <<<"$check"
    # shellcheck disable=SC2086  # the check's arguments are split on purpose
    ev=$(set -f; "chk_$fn" "$OUT/$path" $rest 2>&1) && st=0 || st=$?
    printf '%s: %s%s\n' "$path" "$(echo "$ev" | tr '\n' ' ')" "$([ $st -eq 0 ] || echo ' -- HAZARD MISSING')"
    return $st
}

make_one() {
    local path=$1 check=$2 recipe=$3 dst="$OUT/$1" tmp word ref twopass=0
    [ -e "$dst" ] && return 0
    mkdir -p "$(dirname "$dst")"
    case $recipe in
    @needs=*)
        word=${recipe%% *}; recipe=${recipe#* }
        if ! have_encoder "${word#@needs=}"; then
            echo "hazards.sh: $path skipped: this ffmpeg has no ${word#@needs=} encoder" >&2
            return 0
        fi ;;
    esac
    case $recipe in @2pass\ *) twopass=1; recipe=${recipe#@2pass } ;; esac
    tmp="$(dirname "$dst")/.tmp.$$.$(basename "$dst")"
    local -a args=()
    set -f
    for word in $recipe; do
        while [[ $word == *\{*\}* ]]; do
            ref=${word#*\{}; ref=${ref%%\}*}
            [ -e "$OUT/$ref" ] || { set +f; echo "hazards.sh: $path needs $ref" >&2; return 1; }
            word=${word/\{$ref\}/$OUT/$ref}
        done
        args+=("$word")
    done
    set +f
    local ff=(ffmpeg -nostdin -hide_banner -loglevel error -y)
    if [ "$twopass" = 1 ]; then
        if ! "${ff[@]}" "${args[@]}" -pass 1 -passlogfile "$tmp.log" -f null /dev/null ||
            ! "${ff[@]}" "${args[@]}" -pass 2 -passlogfile "$tmp.log" "$tmp"; then
            rm -f "$tmp" "$tmp.log"*
            echo "hazards.sh: ffmpeg failed for $path" >&2
            return 1
        fi
        rm -f "$tmp.log"*
        : >"$tmp.err"
    elif ! "${ff[@]}" "${args[@]}" "$tmp" 2>"$tmp.err"; then
        grep -v '^Svt\[' "$tmp.err" >&2
        rm -f "$tmp" "$tmp.err"
        echo "hazards.sh: ffmpeg failed for $path" >&2
        return 1
    fi
    # (SVT-AV1 prints its banner whatever the log level)
    grep -v '^Svt\[' "$tmp.err" >&2 || :
    rm -f "$tmp.err"
    mv -f "$tmp" "$dst"
    if ! run_check "$path" "$check" >"$tmp.check"; then
        echo "hazards.sh: $(cat "$tmp.check")" >&2
        rm -f "$dst" "$tmp.check"
        return 1
    fi
    rm -f "$tmp.check"
}

if [ "$mode" = check ]; then
    st=0
    for e in "${ENTRIES[@]}"; do
        IFS='|' read -r p c r <<<"$e"
        if [ -e "$OUT/$p" ]; then run_check "$p" "$c" || st=1; else echo "$p: not made"; fi
    done
    exit $st
fi

# Two rounds (entries that use another entry's output come second), up to
# JOBS encodes at a time.
JOBS=${JOBS:-$(nproc 2>/dev/null || echo 2)}
status=0
for round in 1 2; do
    running=0
    for e in "${ENTRIES[@]}"; do
        IFS='|' read -r p c r <<<"$e"
        case $r in *\{*\}*) [ $round = 2 ] || continue ;; *) [ $round = 1 ] || continue ;; esac
        [ -e "$OUT/$p" ] && continue
        if [ "$running" -ge "$JOBS" ]; then
            wait -n || status=1
            running=$((running - 1))
        fi
        make_one "$p" "$c" "$r" &
        running=$((running + 1))
    done
    while [ "$running" -gt 0 ]; do
        wait -n || status=1
        running=$((running - 1))
    done
done
exit $status
