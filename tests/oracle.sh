#!/usr/bin/env bash
# The test oracle: what a full decode of VIDEO by the ffmpeg CLI says.
#
#   tests/oracle.sh VIDEO            print the table on stdout
#   ORACLE_CACHE=DIR tests/oracle.sh VIDEO
#                                    same, cached in DIR by content checksum
#
# Output: comment lines "# key=value ..." with stream facts, then one line per
# decoded frame, in decoder output (= presentation) order:
#
#   index pts_ticks time_base_num time_base_den pts_time_rel duration_ticks md5 key_frame packet_key frame_key
#
# pts_ticks is ffprobe's best_effort_timestamp, pts_time_rel is
# pts * time_base - format start_time with 6 decimals, duration_ticks is the
# frame's (packet) duration (missing ones are filled from the next frame's pts,
# or the previous frame's duration for the last one; header dur_guessed=1),
# md5 is the checksum of the frame as `ffmpeg -f framemd5 -pix_fmt rgb24|rgba
# -fps_mode passthrough` writes it (rgba when the stream's pixel format has
# alpha; rotation applied, as the CLI does by default; colors as README
# "Color" says: an untagged HD picture (coded width >= 1280 or height > 576)
# through `scale=in_color_matrix=bt709`, a PQ or HLG one through the
# documented tone-mapping chain on one filter thread), key_frame is 1 when
# the frame is decodable on its own: its packet is flagged key by the demuxer
# (packet_key: 1, 0, or NA when no packet has the frame's pts) and the decoder
# flags the frame key too (frame_key, ffprobe's key_frame).  The header line with "start_ticks=" also gives out_pix_fmt, width and
# height (as displayed), frames, end_ticks (last pts + its duration; a last
# duration missing or under half the median frame interval is the median),
# end_time (relative, 6 decimals), monotonic (1 when pts strictly increase),
# codec and avg_frame_rate.
#
# Exits non-zero (and prints nothing on stdout) when the two decodes disagree
# on the number of frames, or the file is not a video.
set -euo pipefail

ORACLE_VERSION=4
if [ $# -ne 1 ]; then
    echo "usage: [ORACLE_CACHE=DIR] $0 VIDEO" >&2
    exit 2
fi
video=$1
[ -f "$video" ] || { echo "oracle: $video: no such file" >&2; exit 1; }

cache=""
if [ -n "${ORACLE_CACHE:-}" ]; then
    mkdir -p "$ORACLE_CACHE"
    sum=$(md5sum <"$video" | cut -d' ' -f1)
    cache="$ORACLE_CACHE/$(basename "$video").$sum.v$ORACLE_VERSION"
    if [ -s "$cache" ]; then
        cat "$cache"
        exit 0
    fi
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/oracle.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# Stream facts (an MPEG-TS lists the stream twice: keep the first of each key).
ffprobe -v error -select_streams v:0 \
    -show_entries stream=codec_name,pix_fmt,time_base,avg_frame_rate,width,height,color_space,color_transfer \
    -of default=nw=1 "$video" >"$tmp/stream"
get() { awk -F= -v k="$1" '$1 == k && !seen++ { print substr($0, length(k) + 2) }' "$tmp/stream"; }
tb=$(get time_base)
pix_fmt=$(get pix_fmt)
codec=$(get codec_name)
afr=$(get avg_frame_rate)
if [ -z "$tb" ] || [ -z "$pix_fmt" ]; then
    echo "oracle: $video: no video stream" >&2
    exit 1
fi
start=$(ffprobe -v error -show_entries format=start_time -of default=nw=1:nk=1 "$video" | awk 'NR == 1')
case $start in ''|N/A) start=0 ;; esac

# Output pixel format: rgba when the source format has alpha.
PIXFMT_TOOL=${PIXFMT_TOOL:-${BUILD:-build}/tests/tools/pixfmt}
if [ -x "$PIXFMT_TOOL" ]; then
    out_fmt=$("$PIXFMT_TOOL" "$pix_fmt")
else
    case $pix_fmt in
    yuva*|rgba*|bgra*|argb|abgr|gbrap*|ya8|ya16*|pal8|ayuv*) out_fmt=rgba ;;
    *) out_fmt=rgb24 ;;
    esac
fi

# Colors (README "Color"): the tone-mapping chain for PQ and HLG, BT.709 for
# an untagged HD picture (the CLI itself assumes BT.601).
TONEMAP_CHAIN="zscale=t=linear:npl=100,format=gbrpf32le,zscale=p=bt709,tonemap=tonemap=hable:desat=0,zscale=t=bt709:m=bt709:r=tv,format=yuv420p"
color_args=()
case $(get color_transfer) in
smpte2084|arib-std-b67)
    # (odd sizes end in 4:4:4: 4:2:0 needs even ones)
    [ $(( ($(get width) | $(get height)) & 1 )) = 1 ] && TONEMAP_CHAIN=${TONEMAP_CHAIN%yuv420p}yuv444p
    color_args=(-filter_threads 1 -vf "$TONEMAP_CHAIN")
    out_fmt=rgb24 ;;        # tone-mapped frames have no alpha
*)
    w=$(get width); h=$(get height)
    # A frame's own tag wins over the stream's silence (VP8 frames say
    # bt470bg in a stream that says nothing).
    frame_cs=$(ffprobe -v error -select_streams v:0 -read_intervals %+#1 \
        -show_entries frame=color_space -of default=nw=1:nk=1 "$video" 2>/dev/null | head -n 1)
    case $(get color_space)/${frame_cs:-unknown} in
    unknown/unknown|/unknown|/)
        if [ "${w:-0}" -ge 1280 ] || [ "${h:-0}" -gt 576 ]; then
            color_args=(-vf scale=in_color_matrix=bt709)
        fi ;;
    esac ;;
esac

# Timestamps, durations and key flags of every decoded frame.
# (pkt_duration is ffmpeg 5's name, duration later versions'.)
ffprobe -v error -select_streams v:0 \
    -show_entries frame=best_effort_timestamp,pkt_duration,duration,key_frame \
    -of csv=p=0:nk=0 "$video" >"$tmp/frames"

# Key flags of the packets (by pts): a frame is a keyframe (decodable on its
# own) when its packet is flagged key by the demuxer and the decoder agrees.
# (Some decoders flag every frame, e.g. qtrle's delta frames.)
ffprobe -v error -select_streams v:0 -show_entries packet=pts,flags \
    -of csv=p=0 "$video" >"$tmp/packets"

# Pixels of every decoded frame, in the same order.
ffmpeg -nostdin -v error -i "$video" -map 0:v:0 -an -sn -dn \
    "${color_args[@]}" -f framemd5 -pix_fmt "$out_fmt" -fps_mode passthrough - >"$tmp/md5"

awk -v tb="$tb" -v start="$start" -v out_fmt="$out_fmt" -v pix_fmt="$pix_fmt" \
    -v codec="$codec" -v afr="$afr" -v name="$(basename "$video")" '
function fmt6(x,   s) { s = sprintf("%.6f", x); if (s == "-0.000000") s = "0.000000"; return s }
FILENAME == ARGV[1] {
    # 1024,K_
    split($0, a, ",")
    if (a[1] != "N/A" && a[1] != "") pkey[a[1]] = (a[2] ~ /K/) ? 1 : 0
    next
}
FILENAME == ARGV[2] {
    # key_frame=1,best_effort_timestamp=0,pkt_duration=512 (side data
    # subsections print extra lines: skip them)
    if ($0 !~ /best_effort_timestamp=/) next
    n = split($0, kv, ",")
    k = ""; p = "NA"; d = ""
    for (i = 1; i <= n; i++) {
        split(kv[i], a, "=")
        if (a[1] == "key_frame") k = a[2]
        else if (a[1] == "best_effort_timestamp") p = a[2]
        else if ((a[1] == "pkt_duration" || a[1] == "duration") && a[2] != "N/A" && a[2] != "") d = a[2]
    }
    if (p == "N/A" || p == "") p = "NA"
    nf++; pts[nf] = p; dur[nf] = d; fkey[nf] = k
    pk[nf] = (p in pkey) ? pkey[p] : "NA"
    key[nf] = (k == 1 && pk[nf] != 0) ? 1 : 0
    next
}
/^#dimensions 0:/ { split($3, wh, "x"); w = wh[1]; h = wh[2]; next }
/^#/ { next }
{ nm++; gsub(/ /, ""); split($0, f, ","); md5[nm] = f[6] }
END {
    if (nf != nm) {
        printf "oracle: %s: ffprobe decoded %d frames, ffmpeg framemd5 %d\n", name, nf, nm > "/dev/stderr"
        exit 1
    }
    if (nf == 0) { printf "oracle: %s: no frames decoded\n", name > "/dev/stderr"; exit 1 }
    split(tb, t, "/"); num = t[1]; den = t[2]
    start_ticks = start * den / num
    start_ticks = (start_ticks >= 0) ? int(start_ticks + 0.5) : -int(-start_ticks + 0.5)
    mono = 1; guessed = 0; nopts = 0
    for (i = 1; i <= nf; i++) {
        if (pts[i] == "NA") { nopts = 1; mono = 0; continue }
        if (i > 1 && pts[i - 1] != "NA" && pts[i] + 0 <= pts[i - 1] + 0) mono = 0
    }
    # The last frame lasts its packet duration, unless that is missing or
    # shorter than half the median interval between frames (a muxer
    # placeholder, FLV 1 ms): then the median (the upper one of an even count).
    last_dur = (dur[nf] == "") ? 0 : dur[nf] + 0
    m = 0; nd = 0
    for (i = 1; i < nf; i++) {
        if (pts[i] == "NA" || pts[i + 1] == "NA" || pts[i + 1] + 0 <= pts[i] + 0) continue
        g = pts[i + 1] - pts[i]; m++
        if (!(g in cnt)) { nd++; dv[nd] = g }
        cnt[g]++
    }
    median = 0
    if (m > 0) {
        for (i = 2; i <= nd; i++) { v = dv[i]; for (j = i - 1; j >= 1 && dv[j] > v; j--) dv[j + 1] = dv[j]; dv[j + 1] = v }
        want = int(m / 2); seen = 0
        for (i = 1; i <= nd; i++) { seen += cnt[dv[i]]; if (seen > want) { median = dv[i]; break } }
    }
    for (i = 1; i <= nf; i++) {
        if (dur[i] == "" || dur[i] + 0 <= 0) {
            guessed = 1
            if (i < nf && pts[i] != "NA" && pts[i + 1] != "NA" && pts[i + 1] + 0 > pts[i] + 0) dur[i] = pts[i + 1] - pts[i]
            else if (i > 1 && dur[i - 1] != "") dur[i] = dur[i - 1]
            else dur[i] = 0
        }
    }
    if (median > 0 && (last_dur <= 0 || last_dur < median / 2)) dur[nf] = median
    end_ticks = (pts[nf] == "NA") ? "NA" : pts[nf] + dur[nf]
    end_time = (end_ticks == "NA") ? "NA" : fmt6(end_ticks * num / den - start)
    printf "# oracle file=%s codec=%s pix_fmt=%s avg_frame_rate=%s\n", name, codec, pix_fmt, afr
    printf "# time_base=%s start_time=%s start_ticks=%.0f out_pix_fmt=%s width=%s height=%s frames=%d end_ticks=%s end_time=%s monotonic=%d dur_guessed=%d has_nopts=%d\n", \
        tb, start, start_ticks, out_fmt, w, h, nf, \
        (end_ticks == "NA") ? "NA" : sprintf("%.0f", end_ticks), end_time, mono, guessed, nopts
    print "# index pts_ticks time_base_num time_base_den pts_time_rel duration_ticks md5 key_frame packet_key frame_key"
    for (i = 1; i <= nf; i++) {
        rel = (pts[i] == "NA") ? "NA" : fmt6(pts[i] * num / den - start)
        printf "%d %s %s %s %s %.0f %s %s %s %s\n", i - 1, pts[i], num, den, rel, dur[i], md5[i], key[i], pk[i], fkey[i]
    }
}' "$tmp/packets" "$tmp/frames" "$tmp/md5" >"$tmp/out"

if [ -n "$cache" ]; then
    mv -f "$tmp/out" "$cache"
    cat "$cache"
else
    cat "$tmp/out"
fi
