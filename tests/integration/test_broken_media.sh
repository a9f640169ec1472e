#!/usr/bin/env bash
# Broken media (SPEC "Frame files": a frame that cannot be produced still
# exists, size 0, EIO, and its attributes tell why).  Files damaged at test
# time, in the ways real files get damaged:
#   - cut in half: an MP4 with its index (moov) at the front (faststart) and an
#     MKV: the frames before the cut decode and match the oracle of the cut
#     file itself; times after the cut fail;
#   - cut before the index: an MP4 whose moov is at the end;
#   - random bytes (fixed seed) named .avi and .ts; a zero-length .webm; an
#     audio-only file named .mkv;
#   - a zeroed range in the middle of an MP4: frames outside the damaged GOPs
#     still match the oracle, the ones inside give a picture or a clean failure;
#   - headers claiming absurd dimensions: Y4M 60000x60000 and 60000x60 (with
#     a short frame), AVI (rawvideo) patched to 16000x16000 and 60000x60000;
#   - an MP4 whose track matrix (tkhd) is all zeros: a display matrix with no
#     rotation angle (NaN), which the CLI ignores; frames are served unrotated.
# For each: the mount survives; failures carry user.result=failed and a
# specific user.error (printed; never empty or a placeholder); a video
# directory that opens reports sane attributes; ls -l of every broken
# directory returns; parallel readers of broken files get answers; a good
# video on the same mount still matches the oracle.  Then the real broken
# files in ../shared/media (invalid VP9 bitstream, MP4 without moov, a 0-byte
# TS, audio-only MP4), mounted as they are.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../lib_robust.sh"

require_framefs
ensure_media

SRC=$WORK/src
GEN=$WORK/gen
MNT=$WORK/mnt
SHARED_MEDIA=${SHARED_MEDIA:-$REPO_DIR/../shared/media}
mkdir -p "$SRC" "$GEN"

# still_up: after each broken file, the mount must still be served; when it
# is not (a crash: mount_alive prints the FAIL), mount again so that one
# crash does not hide what the other files do.
still_up() {
    mount_alive "$MNT" && return 0
    unmount_framefs "$MNT" >/dev/null 2>&1
    mount_framefs "$CUR_SRC" "$MNT" || exit 1
    note "(mounted $CUR_SRC again after the crash)"
}

gen() {   # OUT FFMPEG_ARGS...: make OUT (fail and exit if ffmpeg cannot)
    local out=$1
    shift
    if ! ffmpeg -nostdin -hide_banner -loglevel error -y "$@" "$out" </dev/null 2>"$WORK/ffmpeg.err"; then
        fail "ffmpeg could not make $(basename "$out"): $(head -c 300 "$WORK/ffmpeg.err" | tr '\n' ' ')"
        exit 1
    fi
}

# put_le32 FILE OFFSET VALUE: overwrite 4 bytes of FILE, little-endian.
put_le32() {
    local v=$3
    # shellcheck disable=SC2059  # the format is built on purpose
    printf "$(printf '\\x%02x\\x%02x\\x%02x\\x%02x' $((v & 255)) $((v >> 8 & 255)) $((v >> 16 & 255)) $((v >> 24 & 255)))" |
        dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}

# offset_of FILE STRING: byte offset of the first STRING in FILE.
offset_of() { LC_ALL=C grep -obUa -m 1 -- "$2" "$1" | head -n 1 | cut -d: -f1; }

# ---------------------------------------------------------------- media

H264=(-c:v libx264 -preset veryfast -x264-params keyint=24:min-keyint=24:scenecut=0:bframes=2 -pix_fmt yuv420p -an)
gen "$GEN/faststart.mp4" -f lavfi -i testsrc2=size=320x240:rate=24:duration=4 "${H264[@]}" -movflags +faststart
gen "$GEN/moov_at_end.mp4" -f lavfi -i testsrc2=size=320x240:rate=24:duration=4 "${H264[@]}"
gen "$GEN/whole.mkv" -f lavfi -i testsrc2=size=176x144:rate=15:duration=4 -c:v mpeg4 -q:v 5 -g 15 -an
gen "$GEN/noise.raw" -f lavfi -i anoisesrc=d=1:c=white:seed=42:a=1:r=20000 -ac 1 -f u8
gen "$GEN/raw.avi" -f lavfi -i testsrc2=size=64x48:rate=10:duration=2 -c:v rawvideo -pix_fmt yuv420p
gen "$SRC/audio_only.mkv" -f lavfi -i sine=frequency=440:duration=2 -c:a aac

cp "$MEDIA_DIR/h264_bframes.mp4" "$SRC/good.mp4"

size=$(stat -c %s "$GEN/faststart.mp4")
head -c $((size / 2)) "$GEN/faststart.mp4" >"$SRC/trunc_faststart.mp4"
size=$(stat -c %s "$GEN/whole.mkv")
head -c $((size / 2)) "$GEN/whole.mkv" >"$SRC/trunc_half.mkv"

moov=$(offset_of "$GEN/moov_at_end.mp4" moov)
mdat=$(offset_of "$GEN/moov_at_end.mp4" mdat)
if [ -n "$moov" ] && [ -n "$mdat" ] && [ "$moov" -gt "$mdat" ]; then
    head -c $(((mdat + moov) / 2)) "$GEN/moov_at_end.mp4" >"$SRC/trunc_before_moov.mp4"
else
    fail "moov_at_end.mp4: moov ($moov) is not after mdat ($mdat); cannot cut before the index"
fi

cp "$GEN/noise.raw" "$SRC/random.avi"
cp "$GEN/noise.raw" "$SRC/random.ts"
: >"$SRC/empty.webm"

# A zeroed range in the middle (the index, at the front, is intact).
cp "$GEN/faststart.mp4" "$SRC/zeroed.mp4"
size=$(stat -c %s "$SRC/zeroed.mp4")
Z0=$((size * 40 / 100))
Z1=$((size * 52 / 100))
dd if=/dev/zero of="$SRC/zeroed.mp4" bs=1 seek=$Z0 count=$((Z1 - Z0)) conv=notrunc status=none

# Absurd dimensions.
{ printf 'YUV4MPEG2 W60000 H60000 F25:1 Ip A1:1 C420jpeg\nFRAME\n'; head -c 20000 /dev/zero; } >"$SRC/huge.y4m"
{ printf 'YUV4MPEG2 W60000 H60 F25:1 Ip A1:1 C420jpeg\nFRAME\n'; head -c 20000 /dev/zero; } >"$SRC/wide_short.y4m"
avih=$(offset_of "$GEN/raw.avi" avih)
strf=$(offset_of "$GEN/raw.avi" strf)
for wh in 16000x16000 60000x60000; do
    w=${wh%x*} h=${wh#*x}
    f="$SRC/rawvideo_$wh.avi"
    cp "$GEN/raw.avi" "$f"
    # avih: 8 dwords, then dwWidth, dwHeight; strf: biSize, biWidth, biHeight
    put_le32 "$f" $((avih + 8 + 32)) "$w"
    put_le32 "$f" $((avih + 8 + 36)) "$h"
    put_le32 "$f" $((strf + 12)) "$w"
    put_le32 "$f" $((strf + 16)) "$h"
done
# A degenerate track matrix (tkhd, version 0: 40 bytes of fields before the
# 36-byte matrix, after the 4-byte version/flags).
cp "$GEN/faststart.mp4" "$SRC/zero_matrix.mp4"
tkhd=$(offset_of "$SRC/zero_matrix.mp4" tkhd)
dd if=/dev/zero of="$SRC/zero_matrix.mp4" bs=1 seek=$((tkhd + 4 + 4 + 40)) count=36 conv=notrunc status=none
chmod 0644 "$SRC"/*

CUR_SRC=$SRC
mount_framefs "$SRC" "$MNT" || exit 1

# ---------------------------------------------------------------- checks

good_oracle=$(oracle_of "$MEDIA_DIR/h264_bframes.mp4") || exit 1
# good_frame LABEL: good.mp4/t=1.5.png is the oracle's frame (other videos
# on the mount are unaffected by the broken ones).
good_frame() {
    local idx
    idx=$(echo "x x 1.5 0 0" | oracle_expect "$good_oracle" | cut -d' ' -f4)
    frame_is "$1" "$MNT/good.mp4/t=1.5.png" "$good_oracle" "$idx"
}
good_frame "good.mp4 before touching broken files"

# dir_fails NAME ERE: the video directory NAME reports user.result=failed
# with a specific user.error matching ERE, and its frames fail the same way.
dir_fails() {
    local v=$1 re=$2 res err tt
    res=$(xattr_get "$MNT/$v" user.result)
    err=$(xattr_get "$MNT/$v" user.error)
    if [ "$res" = failed ] && error_is_specific "$err" && printf '%s' "$err" | grep -qiE -- "$re"; then
        pass "$v dir: failed, user.error '$err'"
    else
        fail "$v dir: user.result '$res', user.error '$err' (want failed, specific, matching /$re/)"
    fi
    for tt in 0 1 2.5; do
        frame_fails "$v/t=$tt.png" "$MNT/$v/t=$tt.png" "$re"
    done
}

# dir_opens_frames_fail NAME ERE: the file opens as a video or not (either
# is acceptable: finding out means decoding), but when its directory says
# succeeded its attributes are sane (width and height > 0, a codec); its
# frames fail with a specific user.error matching ERE.
dir_opens_frames_fail() {
    local v=$1 re=$2 res err w h c tt
    res=$(xattr_get "$MNT/$v" user.result)
    err=$(xattr_get "$MNT/$v" user.error)
    w=$(xattr_get "$MNT/$v" user.width)
    h=$(xattr_get "$MNT/$v" user.height)
    c=$(xattr_get "$MNT/$v" user.codec)
    case $res in
    failed)
        if error_is_specific "$err"; then
            pass "$v dir: failed, user.error '$err'"
        else
            fail "$v dir: failed with a vague user.error '$err'"
        fi ;;
    succeeded)
        if [[ $w =~ ^[1-9][0-9]*$ && $h =~ ^[1-9][0-9]*$ ]] && [ -n "$c" ]; then
            pass "$v dir: opens (${w}x$h $c), frames decide"
        else
            fail "$v dir: user.result succeeded but user.width '$w', user.height '$h', user.codec '$c' (a succeeded video needs a size; the header's size could not be used: want failed + user.error)"
        fi ;;
    *) fail "$v dir: user.result '$res'" ;;
    esac
    for tt in 0 0.5 1.5; do
        frame_fails "$v/t=$tt.png" "$MNT/$v/t=$tt.png" "$re"
    done
}

# truncated NAME: the frames the ffmpeg CLI decodes from the damaged file
# itself are served exactly, except the one whose packet is the last in the
# file (it may be cut: how a decoder conceals a cut frame is not defined, the
# CLI itself gives other pixels with other thread counts), which must give a
# readable PNG or fail cleanly; times after the cut fail.
truncated() {
    local v=$1 oracle n end dur idx rel start cut last_idx last_rel f
    oracle=$(oracle_of "$SRC/$v") || return
    n=$(oracle_header "$oracle" frames)
    end=$(oracle_header "$oracle" end_time)
    start=$(oracle_header "$oracle" start_time)
    cut=$(ffprobe -v error -select_streams v:0 -show_entries packet=pts_time -of csv=p=0 "$SRC/$v" 2>/dev/null |
        awk -v s="$start" '$1 != "" && $1 != "N/A" { p = $1 } END { printf "%.6f", p - s }')
    note "$v: the oracle decodes $n frames, up to $end s; the last packet in the file is at $cut s"
    local bad=0 total=0
    while read -r idx rel; do
        f="$MNT/$v/t=$rel.png"
        if [ "$rel" = "$cut" ]; then
            case $(xattr_get "$f" user.result) in
            succeeded) t cat "$f" >"$WORK/cut.png" && raw_md5 "$WORK/cut.png" >/dev/null
                check $? "$v: the frame of the last (cut) packet, t=$rel, gives a readable PNG" ;;
            *) frame_fails "$v: the frame of the last (cut) packet, t=$rel" "$f" ;;
            esac
            continue
        fi
        total=$((total + 1))
        frame_is "$v frame #$idx (t=$rel)" "$f" "$oracle" "$idx" >"$WORK/frame.out"
        if grep -q '^FAIL' "$WORK/frame.out"; then
            bad=$((bad + 1))
            [ "$bad" -le 3 ] && cat "$WORK/frame.out"
        fi
    done < <(awk '!/^#/ { print $1, $5 }' "$oracle")
    [ "$bad" = 0 ] && pass "$v: all $total frames before the cut are the oracle's frames" ||
        fail "$v: $bad of $total frames before the cut differ from the oracle (first 3 above)"
    [ "$(xattr_get "$MNT/$v" user.result)" = succeeded ] && pass "$v dir: succeeded (a cut file is still a video)" ||
        fail "$v dir: user.result '$(xattr_get "$MNT/$v" user.result)': $(xattr_get "$MNT/$v" user.error)"
    # user.duration: the end of the last frame.  framefs indexes packets
    # without decoding them, so a cut last packet the CLI drops may still
    # count; it must lie between the decodable end and the uncut file's end.
    dur=$(xattr_get "$MNT/$v" user.duration)
    if [[ $dur =~ ^[0-9]+\.[0-9]{6}$ ]] && [ "$(us "$dur")" -ge "$(us "$end")" ] && [ "$(us "$dur")" -le 4000000 ]; then
        pass "$v dir: user.duration $dur (the CLI decodes up to $end)"
    else
        fail "$v dir: user.duration '$dur', want the end of the last frame, $end (at most the uncut 4 s)"
    fi
    # At the decodable end: a failure, or the last decodable frame (what a
    # player keeps showing when the cut packet cannot be decoded).
    f="$MNT/$v/t=$end.png"
    last_idx=$(awk '!/^#/ { i = $1 } END { print i }' "$oracle")
    last_rel=$(awk '!/^#/ { r = $5 } END { print r }' "$oracle")
    if [ "$(xattr_get "$f" user.result)" = succeeded ]; then
        frame_is "$v: t at the end of the decodable frames ($end) gives the last decodable frame" "$f" "$oracle" "$last_idx" "$last_rel"
    else
        frame_fails "$v: t at the end of the decodable frames ($end)" "$f" 'end|past|truncat|beyond|after'
    fi
    frame_fails "$v: t after the cut (3.5)" "$MNT/$v/t=3.5.png" 'end|past|truncat|beyond|after'
}

truncated trunc_faststart.mp4
still_up
truncated trunc_half.mkv
still_up

dir_fails trunc_before_moov.mp4 'moov'
still_up
dir_fails random.avi '.'
still_up
dir_fails random.ts '.'
still_up
dir_fails empty.webm 'empty|zero|0 bytes|no data'
still_up
dir_fails audio_only.mkv 'video'
still_up
dir_fails huge.y4m '60000|size|dimension|invalid'
still_up
dir_opens_frames_fail wide_short.y4m '.'
still_up
dir_opens_frames_fail rawvideo_16000x16000.avi '.'
still_up
dir_opens_frames_fail rawvideo_60000x60000.avi '.'
still_up

# The zero matrix: no rotation, every frame the oracle's (the CLI ignores a
# matrix it cannot read an angle from).
if zm_oracle=$(oracle_of "$SRC/zero_matrix.mp4"); then
    [ "$(xattr_get "$MNT/zero_matrix.mp4" user.rotation)" = 0 ] && pass "zero_matrix.mp4 dir: user.rotation 0" ||
        fail "zero_matrix.mp4 dir: user.rotation '$(xattr_get "$MNT/zero_matrix.mp4" user.rotation)', want 0"
    for tt in 0 1.5 3.9; do
        idx=$(echo "x x $tt 0 0" | oracle_expect "$zm_oracle" | cut -d' ' -f4)
        frame_is "zero_matrix.mp4 t=$tt" "$MNT/zero_matrix.mp4/t=$tt.png" "$zm_oracle" "$idx"
    done
fi
still_up

# The zeroed range: GOPs (decode order, from one keyframe packet to the
# next) with a packet overlapping [Z0, Z1) are damaged; every other frame of
# the oracle (its pts outside the damaged GOPs' pts span and unique) must be
# served exactly.  Frames inside only need a picture or a clean failure.
zeroed_oracle=$(oracle_of "$SRC/zeroed.mp4")
if [ -n "$zeroed_oracle" ]; then
    # (ffprobe prints the fields in its own order: pts_time,size,pos,flags)
    ffprobe -v error -select_streams v:0 -show_entries packet=pts_time,size,pos,flags \
        -of csv=p=0 "$SRC/zeroed.mp4" >"$WORK/zeroed.packets" 2>/dev/null
    read -r dmg_lo dmg_hi < <(awk -F, -v z0=$Z0 -v z1=$Z1 -v start="$(oracle_header "$zeroed_oracle" start_time)" '
        { if ($4 ~ /K/) g++; p = $1 - start; if (!(g in lo) || p < lo[g]) lo[g] = p
          if ($3 + $2 > z0 && $3 < z1) bad[g] = 1 }
        END { first = ""; last = ""
              for (i = 1; i <= g; i++) if (i in bad) { if (first == "") first = i; last = i }
              if (first == "") { print "none none"; exit }
              printf "%.6f %s\n", lo[first], ((last + 1) in lo) ? sprintf("%.6f", lo[last + 1]) : "inf" }' "$WORK/zeroed.packets")
    note "zeroed.mp4: bytes [$Z0, $Z1) zeroed; damaged GOPs span [$dmg_lo, $dmg_hi) s"
    if [ "$dmg_lo" = none ]; then
        fail "zeroed.mp4: the zeroed range hits no video packet (test setup)"
    else
        ok=0 bad=0 inside=0 inside_failed=0
        while read -r idx rel; do
            if awk -v r="$rel" -v lo="$dmg_lo" -v hi="$dmg_hi" 'BEGIN { exit !(r >= lo && (hi == "inf" || r < hi)) }'; then
                continue
            fi
            frame_is "zeroed.mp4 frame #$idx (t=$rel)" "$MNT/zeroed.mp4/t=$rel.png" "$zeroed_oracle" "$idx" >"$WORK/frame.out"
            if grep -q '^FAIL' "$WORK/frame.out"; then
                bad=$((bad + 1))
                [ "$bad" -le 3 ] && cat "$WORK/frame.out"
            else
                ok=$((ok + 1))
            fi
        done < <(awk '!/^#/ { n[$5]++; line[NR] = $1 " " $5; r[NR] = $5 } END { for (i = 1; i <= NR; i++) if (i in r && n[r[i]] == 1) print line[i] }' "$zeroed_oracle")
        [ "$bad" = 0 ] && [ "$ok" -gt 20 ] && pass "zeroed.mp4: all $ok frames outside the damaged GOPs are the oracle's frames" ||
            fail "zeroed.mp4: $bad frames outside the damage differ from the oracle ($ok match)"
        # inside the damage: every packet time gives a PNG or a clean failure
        while read -r pt; do
            f="$MNT/zeroed.mp4/t=$pt.png"
            inside=$((inside + 1))
            res=$(xattr_get "$f" user.result)
            if [ "$res" = succeeded ]; then
                t cat "$f" >"$WORK/z.png" 2>/dev/null && raw_md5 "$WORK/z.png" >/dev/null ||
                    fail "zeroed.mp4 t=$pt: succeeded but the PNG is unreadable ($(raw_md5 "$WORK/z.png"))"
            else
                inside_failed=$((inside_failed + 1))
                frame_fails "zeroed.mp4 t=$pt (damaged)" "$f" >"$WORK/frame.out"
                grep -q '^FAIL' "$WORK/frame.out" && cat "$WORK/frame.out"
            fi
        done < <(awk -F, -v lo="$dmg_lo" -v hi="$dmg_hi" -v start="$(oracle_header "$zeroed_oracle" start_time)" '
            { p = $1 - start; if (p >= lo && (hi == "inf" || p < hi)) printf "%.6f\n", p }' "$WORK/zeroed.packets" | sort -u)
        pass "zeroed.mp4: $inside times inside the damage answered ($inside_failed failed cleanly, the rest are readable PNGs)"
    fi
fi
still_up

# ls -l produces every listed frame of every broken directory: it returns.
for d in "$SRC"/*; do
    v=$(basename "$d")
    t ls -l "$MNT/$v" >/dev/null 2>"$WORK/ls.err"
    st=$?
    case $st in
    0 | 1 | 2) ;;
    *) fail "ls -l $v: status $st (hung?): $(head -c 200 "$WORK/ls.err")" ;;
    esac
done
pass "ls -l of every broken video directory returns"
still_up

# Parallel readers, all broken files at once (and the good one).
pids=()
k=0
for d in "$SRC"/*; do
    v=$(basename "$d")
    for tt in 0.2 1.1 1.9; do
        t cat "$MNT/$v/t=$tt.png" >"$WORK/par.$k.png" 2>/dev/null &
        pids+=($!)
        k=$((k + 1))
    done
done
hung=0
for p in "${pids[@]}"; do
    wait "$p"
    case $? in 124 | 137 | 143) hung=$((hung + 1)) ;; esac
done
[ "$hung" = 0 ] && pass "$k parallel reads of broken and good files all returned" ||
    fail "$hung of $k parallel reads of broken files hung"
still_up
good_frame "good.mp4 after all broken files"
unmount_framefs "$MNT" && pass "unmount: framefs exited 0 after the broken files"

# ---------------------------------------------------------------- shared media

if [ ! -d "$SHARED_MEDIA" ] || [ ! -e "$SHARED_MEDIA/ax__sample_audio_only.mp4" ]; then
    skip "real broken files: $SHARED_MEDIA not found (set SHARED_MEDIA)"
    exit 0
fi
SHARED_MEDIA=$(cd "$SHARED_MEDIA" && pwd -P)
MNT2=$WORK/mnt2
mount_framefs "$SHARED_MEDIA" "$MNT2" || exit 1
MNT=$MNT2 CUR_SRC=$SHARED_MEDIA   # (dir_fails, still_up and friends read these)
dir_opens_frames_fail ax__invalid-bitstream.webm '.'
still_up
dir_fails ax__sample_malformed_free_box.mp4 'moov'
still_up
dir_fails tsd__test-046.3.ts 'empty|zero|0 bytes|no data'
still_up
dir_fails ax__sample_audio_only.mp4 'video'
still_up
# a good file of the same mount, against its oracle
if shared_oracle=$(oracle_of "$SHARED_MEDIA/ax__sample.mkv"); then
    idx=$(echo "x x 0.5 0 0" | oracle_expect "$shared_oracle" | cut -d' ' -f4)
    case $idx in
    FAIL | AMBIG) skip "ax__sample.mkv: t=0.5 is $idx in the oracle" ;;
    *) frame_is "ax__sample.mkv t=0.5 on the same mount" "$MNT2/ax__sample.mkv/t=0.5.png" "$shared_oracle" "$idx" ;;
    esac
fi
still_up
unmount_framefs "$MNT2" && pass "unmount: framefs exited 0 after the real broken files"
