#!/usr/bin/env bash
# Output controls (README "Frame names": w, h, rotate, aspect, depth, q, n=,
# t=P%, .png/.jpg/.jpeg/.ppm; mount-wide defaults and list_ext), checked on
# videos this test generates in $WORK with the ffmpeg CLI:
#
#  1. the output size of every w/h x rotate x aspect combination on a plain,
#     a rotated 90, a rotated 270 + SAR 2:1, a SAR 2:1 and an odd-sized
#     (321x241, SAR 3:2) video, expected from the rule (computed here in
#     awk), checked in the PNG header and in user.width/user.height;
#  2. scaled pixels against `ffmpeg -vf scale=W:H:flags=lanczos` (PSNR, or
#     identical), rotated and not, and full-size rotate=0 against the CLI's
#     -noautorotate decode;
#  3. n=N against the oracle's frame list (B-frames; variable frame rate);
#  4. t=P% against user.duration;
#  5. depth=16 PNG and PPM of a 10-bit video against `-pix_fmt rgb48be`;
#  6. JPEG quality, size ordering, .jpeg alias;
#  7. PPM pixels against the oracle;
#  8. mount-wide defaults (-o w=,q=,list_ext=, ...), overrides, bad values;
#  9. equivalent spellings give identical bytes;
# 10. malformed names are ENOENT and never listed;
# 11. PNG sizes against ffmpeg -compression_level 1 of the same pixels.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../lib_image.sh"

require_framefs

SRC=$WORK/src
MNT=$WORK/mnt
TMPF=$WORK/tmp
mkdir -p "$SRC" "$TMPF"

# ---------------------------------------------------------------- media

NOISE=noise=alls=8:allf=t
X264=(-c:v libx264 -preset veryfast -x264-params bframes=3:keyint=12:min-keyint=12:scenecut=0 -an)
gen_ok=1
ensure_video "$SRC/plain.mp4" -f lavfi -i testsrc2=size=352x288:rate=24:duration=2 \
    -vf "$NOISE" "${X264[@]}" -pix_fmt yuv420p || gen_ok=0
ensure_video "$SRC/sar2.mp4" -f lavfi -i testsrc2=size=352x288:rate=24:duration=2 \
    -vf "$NOISE,setsar=2/1" "${X264[@]}" -pix_fmt yuv420p || gen_ok=0
# ffmpeg 5 has no -display_rotation: the mp4 muxer writes the rotate tag as
# a display matrix (as tests/media/gen.sh does for rotated90.mp4)
ensure_video "$SRC/rot90.mp4" -i "$SRC/plain.mp4" -map 0:v:0 -c copy -metadata:s:v:0 rotate=90 || gen_ok=0
ensure_video "$SRC/rot270.mp4" -i "$SRC/sar2.mp4" -map 0:v:0 -c copy -metadata:s:v:0 rotate=270 || gen_ok=0
# odd sizes need 4:4:4 (crop in 4:2:0 would round to even)
ensure_video "$SRC/odd.mp4" -f lavfi -i testsrc2=size=322x242:rate=24:duration=2 \
    -vf "format=yuv444p,crop=321:241:0:0,$NOISE,setsar=3/2" "${X264[@]}" -pix_fmt yuv444p || gen_ok=0
# 10-bit 4:2:0 H.264 (High 10)
ensure_video "$SRC/ten.mp4" -f lavfi -i testsrc2=size=320x240:rate=24:duration=1 \
    -vf "$NOISE" "${X264[@]}" -pix_fmt yuv420p10le || gen_ok=0
# variable frame rate: 1 s at 12 fps then 1 s at 30 fps, ms time base,
# B-frames (bitexact: no random segment UID, so the oracle cache hits)
ensure_video "$SRC/vfr.mkv" -f lavfi -i testsrc2=size=320x240:rate=12:duration=1 \
    -f lavfi -i testsrc2=size=320x240:rate=30:duration=1 \
    -filter_complex "[0:v]settb=1/1000[a];[1:v]settb=1/1000[b];[a][b]concat=n=2:v=1,$NOISE" \
    -fps_mode vfr "${X264[@]}" -pix_fmt yuv420p -fflags +bitexact || gen_ok=0
# ProRes 4444 with a varying alpha plane (decodes as yuva444p12le): depth=16
# PNG is RGBA64 (section 5)
ensure_video "$SRC/alpha12.mov" -f lavfi -i testsrc2=size=160x120:rate=24:duration=1 \
    -vf "$NOISE,format=yuva444p10le,geq=lum=lum(X\,Y):cb=cb(X\,Y):cr=cr(X\,Y):a=mod(X*37+Y*11+N*97\,1024)" \
    -c:v prores_ks -profile:v 4444 -pix_fmt yuva444p10le -an || gen_ok=0
# no noise: repeats an LZ search finds (the PNG coder choice, section 11)
ensure_video "$SRC/clean.mp4" -f lavfi -i testsrc2=size=352x288:rate=24:duration=1 \
    "${X264[@]}" -pix_fmt yuv420p || gen_ok=0
[ "$gen_ok" = 1 ] || exit 1

# What the dimension rule needs of each video: coded W H, SAR, display
# rotation (0, 90 or 270).  Checked against ffprobe below, so a change of
# ffmpeg's behaviour shows up as a setup failure, not as a framefs bug.
VIDEOS="plain.mp4 352 288 1 1 0
rot90.mp4 352 288 1 1 90
rot270.mp4 352 288 2 1 270
sar2.mp4 352 288 2 1 0
odd.mp4 321 241 3 2 0"

while read -r v w h sn sd rot; do
    got=$(ffprobe -v error -select_streams v:0 -show_entries stream=width,height,sample_aspect_ratio:stream_side_data=rotation \
        -of default=nw=1 "$SRC/$v" | awk -F= '{ a[$1] = $2 } END {
            r = a["rotation"] + 0; if (r < 0) r += 360
            printf "%s %s %s %d", a["width"], a["height"], a["sample_aspect_ratio"], r }')
    if [ "$got" = "$w $h $sn:$sd $rot" ]; then
        pass "setup: $v is ${w}x$h SAR $sn:$sd rotation $rot"
    else
        fail "setup: $v: ffprobe says '$got' (W H SAR rotation), the test expects '$w $h $sn:$sd $rot'"
    fi
done <<<"$VIDEOS"
hasb=$(ffprobe -v error -select_streams v:0 -show_entries stream=has_b_frames -of default=nw=1:nk=1 "$SRC/plain.mp4")
[ "${hasb:-0}" -gt 0 ] && pass "setup: plain.mp4 has B-frames (has_b_frames=$hasb)" ||
    fail "setup: plain.mp4 has no B-frames (has_b_frames=$hasb)"

mount_framefs "$SRC" "$MNT" || exit 1

# ---------------------------------------------------------------- helpers

# us_diff A B: |A - B| in microseconds (A, B decimal seconds).
us_diff() { awk -v a="$1" -v b="$2" 'BEGIN { d = (a - b) * 1e6; if (d < 0) d = -d; printf "%.0f", d }'; }

# ---------------------------------------------------------------- 1. dimensions

# expected_dims W H SARN SARD ROT ROTATE ASPECT BW BH: "WxH" by the rule:
# aspect=display widens the coded width by the SAR (rounded half up), then
# rotate=auto swaps for 90/270, then fit inside BW x BH (0 = unbounded),
# never upscaling, the side that limits more wins, the other side rounded
# half up (at least 1).
expected_dims() {
    awk -v w="$1" -v h="$2" -v sn="$3" -v sd="$4" -v rot="$5" -v rotate="$6" -v aspect="$7" \
        -v bw="$8" -v bh="$9" '
    function rnd(num, den) { return int((2 * num + den) / (2 * den)) }   # num/den half up, positive ints
    BEGIN {
        W = w; H = h
        if (aspect == "display") W = rnd(w * sn, sd)
        if (rotate == "auto" && (rot == 90 || rot == 270)) { x = W; W = H; H = x }
        if ((bw > 0 && W > bw) || (bh > 0 && H > bh)) {
            if (bw > 0 && (bh == 0 || bw * H <= bh * W)) { ow = bw; oh = rnd(H * bw, W) }
            else { oh = bh; ow = rnd(W * bh, H) }
            if (ow < 1) ow = 1
            if (oh < 1) oh = 1
            W = ow; H = oh
        }
        printf "%dx%d\n", W, H
    }'
}

BOUNDS="none w=100 h=100 w=200,h=100 w=100,h=200 w=0,h=150 w=5000,h=5000 w=99 h=99 w=101"
while read -r v w h sn sd rot; do
    for rotate in auto 0; do
        for aspect in coded display; do
            bad=() good=()
            for b in $BOUNDS; do
                bw=0 bh=0
                case $b in none) ;; *)
                    for kv in ${b//,/ }; do
                        case $kv in w=*) bw=${kv#w=} ;; h=*) bh=${kv#h=} ;; esac
                    done ;;
                esac
                name="t=1"
                [ "$b" != none ] && name+=",$b"
                # the defaults (rotate=auto, aspect=coded) are left out of the name
                [ "$rotate" = 0 ] && name+=",rotate=0"
                [ "$aspect" = display ] && name+=",aspect=display"
                name+=".png"
                want=$(expected_dims "$w" "$h" "$sn" "$sd" "$rot" "$rotate" "$aspect" "$bw" "$bh")
                f="$MNT/$v/$name"
                if ! frame_attrs "$f"; then
                    bad+=("$name: getfattr failed: $A_dump")
                    continue
                fi
                if [ "$A_result" != succeeded ]; then
                    bad+=("$name: user.result='$A_result' ($A_error)")
                    continue
                fi
                if ! err=$(fetch "$f" "$TMPF/d.png"); then
                    bad+=("$name: $err")
                    continue
                fi
                hdr=$(png_ihdr "$TMPF/d.png")
                got_png=$(echo "$hdr" | awk 'NF == 4 { print $1 "x" $2 }')
                got_x="${A_width}x$A_height"
                if [ "$got_png" != "$want" ] || [ "$got_x" != "$want" ]; then
                    bad+=("$name: want $want, PNG header '$hdr' (w h depth type), user.width x height $got_x")
                elif [ "$(echo "$hdr" | cut -d' ' -f3-)" != "8 2" ]; then
                    bad+=("$name: PNG depth/colour type '$(echo "$hdr" | cut -d' ' -f3-)', want 8-bit RGB (8 2)")
                else
                    good+=("${b}->$want")
                fi
            done
            label="dims $v (${w}x$h SAR $sn:$sd rot $rot) rotate=$rotate aspect=$aspect"
            if [ ${#bad[@]} -eq 0 ]; then
                pass "$label: ${good[*]}"
            else
                fail "$label: $(IFS=';'; echo "${bad[*]}")"
            fi
        done
    done
done <<<"$VIDEOS"

# The other formats carry the same size: .jpg (SOF) and .ppm (header).
# "VIDEO NAME_BASE BW BH ROTATE ASPECT"
for spec in "rot270.mp4 t=1,w=100,aspect=display 100 0 auto display" "odd.mp4 t=1,w=101,aspect=display 101 0 auto display" \
    "rot90.mp4 t=1,h=99 0 99 auto coded" "odd.mp4 t=1 0 0 auto coded" "rot270.mp4 t=1,h=99,rotate=0,aspect=display 0 99 0 display"; do
    read -r v base bw bh rotate aspect <<<"$spec"
    # shellcheck disable=SC2046  # the table's fields
    want_rule=$(expected_dims $(awk -v v="$v" '$1 == v { print $2, $3, $4, $5, $6 }' <<<"$VIDEOS") "$rotate" "$aspect" "$bw" "$bh")
    problems=()
    if ! err=$(fetch "$MNT/$v/$base.jpg" "$TMPF/d.jpg"); then
        problems+=("jpg: $err")
    else
        got=$(jpeg_dims "$TMPF/d.jpg")
        [ "$got" = "$want_rule" ] || problems+=("$base.jpg is $got")
    fi
    frame_attrs "$MNT/$v/$base.jpg" && [ "${A_width}x$A_height" = "$want_rule" ] ||
        problems+=("$base.jpg user.width x height ${A_width}x$A_height")
    if ! err=$(fetch "$MNT/$v/$base.ppm" "$TMPF/d.ppm"); then
        problems+=("ppm: $err")
    else
        got=$(ppm_header "$TMPF/d.ppm")
        [ "$got" != "not a P6 PPM" ] && [ "$(echo "$got" | awk '{ print $1 "x" $2 " " $3 }')" = "$want_rule 255" ] ||
            problems+=("$base.ppm header '$got' (w h maxval offset), want $want_rule maxval 255")
        sz=$(stat -c %s "$TMPF/d.ppm")
        [ "$sz" -eq "$(( ${got##* } + ${want_rule%x*} * ${want_rule#*x} * 3 ))" ] 2>/dev/null ||
            problems+=("$base.ppm is $sz bytes, header + ${want_rule} x 3 is not")
    fi
    if [ ${#problems[@]} -eq 0 ]; then
        pass "dims in other formats: $v $base.jpg and .ppm are $want_rule"
    else
        fail "dims in other formats: $v $base (want $want_rule): $(IFS=';'; echo "${problems[*]}")"
    fi
done

# ---------------------------------------------------------------- 2. scaled pixels

# scaled_check VIDEO NAME INDEX VF WxH LABEL [INPUT_OPTS...]: the PNG NAME has
# PSNR >= 40 dB against the CLI's frame INDEX through VF.
scaled_check() {
    local v=$1 name=$2 idx=$3 vf=$4 dims=$5 label=$6 got p
    shift 6
    if ! got=$(fetch "$MNT/$v/$name" "$TMPF/s.png"); then
        fail "$label: $v/$name: $got"; return
    fi
    if ! "$PNG2RAW" "$TMPF/s.png" >"$TMPF/s.raw" 2>"$TMPF/s.err"; then
        fail "$label: $v/$name: $(tr '\n' ' ' <"$TMPF/s.err")"; return
    fi
    got=$(tail -n 1 "$TMPF/s.err")
    if [ "$got" != "${dims%x*} ${dims#*x} 3" ]; then
        fail "$label: $v/$name is '$got' (w h channels), want $dims RGB"; return
    fi
    if ! cli_raw "$SRC/$v" "$idx" "$vf" rgb24 "$TMPF/c.raw" "$@"; then
        fail "$label: ffmpeg failed: $(head -c 300 "$TMPF/cli.err")"; return
    fi
    if cmp -s "$TMPF/s.raw" "$TMPF/c.raw"; then
        pass "$label: $v/$name ($dims) is identical to ffmpeg CLI ${*:+$* }-vf $vf of frame #$idx"
        return
    fi
    p=$(psnr "$TMPF/s.raw" "$TMPF/c.raw" "$dims" rgb24)
    if [ -n "$p" ] && ! lt "$p" 40; then
        pass "$label: $v/$name ($dims) vs ffmpeg CLI ${*:+$* }-vf $vf of frame #$idx: PSNR $p dB (>= 40, not identical)"
    else
        fail "$label: $v/$name ($dims) vs ffmpeg CLI ${*:+$* }-vf $vf of frame #$idx: PSNR '${p}' dB, want >= 40"
    fi
}

ORA_PLAIN=$(oracle_of "$SRC/plain.mp4") || exit 1
ORA_ODD=$(oracle_of "$SRC/odd.mp4") || exit 1
I1=$(oracle_index_at "$ORA_PLAIN" 1)       # the frame on screen at 1 s (same in every 24 fps file)
I1_ODD=$(oracle_index_at "$ORA_ODD" 1)
scaled_check plain.mp4 "t=1,w=176.png" "$I1" scale=176:144:flags=lanczos 176x144 "scaled pixels"
scaled_check plain.mp4 "t=1,w=100.png" "$I1" scale=100:82:flags=lanczos 100x82 "scaled pixels (uneven factor)"
scaled_check rot90.mp4 "t=1,w=100.png" "$I1" scale=100:122:flags=lanczos 100x122 "scaled pixels, autorotated (CLI rotates, then scales)"
scaled_check rot270.mp4 "t=1,h=100,rotate=0.png" "$I1" scale=122:100:flags=lanczos 122x100 "scaled pixels, rotate=0" -noautorotate
scaled_check odd.mp4 "t=1,w=200,aspect=display.png" "$I1_ODD" scale=200:100:flags=lanczos 200x100 "scaled pixels, aspect=display on 321x241 SAR 3:2 (one pass)"
scaled_check sar2.mp4 "t=1,aspect=display.png" "$I1" scale=704:288:flags=lanczos 704x288 "aspect=display at full height (SAR 2:1, width doubled)"

# Full size with rotate=0: pixel-identical to the CLI's -noautorotate decode.
if got=$(fetch "$MNT/rot90.mp4/t=1,rotate=0.png" "$TMPF/r0.png") &&
    "$PNG2RAW" "$TMPF/r0.png" >"$TMPF/r0.raw" 2>"$TMPF/r0.err" &&
    cli_raw "$SRC/rot90.mp4" "$I1" "" rgb24 "$TMPF/r0c.raw" -noautorotate; then
    if cmp -s "$TMPF/r0.raw" "$TMPF/r0c.raw"; then
        pass "rotate=0 full size: rot90.mp4 t=1,rotate=0.png ($(tail -n 1 "$TMPF/r0.err")) is identical to ffmpeg -noautorotate -pix_fmt rgb24"
    else
        fail "rotate=0 full size: rot90.mp4 t=1,rotate=0.png ($(tail -n 1 "$TMPF/r0.err")) differs from ffmpeg -noautorotate -pix_fmt rgb24 frame #$I1 (PSNR $(psnr "$TMPF/r0.raw" "$TMPF/r0c.raw" 352x288 rgb24) dB)"
    fi
else
    fail "rotate=0 full size: ${got:-$(tr '\n' ' ' <"$TMPF/r0.err") $(head -c 200 "$TMPF/cli.err")}"
fi
# ...and rotate=auto at full size is the oracle's (autorotated) frame.
got=$(fetch "$MNT/rot90.mp4/t=1.png" "$TMPF/ra.png" && raw_md5 "$TMPF/ra.png")
ORA_ROT90=$(oracle_of "$SRC/rot90.mp4") || exit 1
want=$(oracle_field "$ORA_ROT90" "$I1" 7)
[ "$got" = "$want 288 352 3" ] && pass "rotate=auto full size: rot90.mp4 t=1.png is oracle frame #$I1 (288x352)" ||
    fail "rotate=auto full size: rot90.mp4 t=1.png: '$got' (md5 w h c), want '$want 288 352 3'"

# ---------------------------------------------------------------- 3. n=

# n_check VIDEO ORACLE N LABEL: n=N.png is oracle frame N: pixels, actual
# time, requested time (the frame's own), size.
n_check() {
    local v=$1 ora=$2 n=$3 label=$4 rel want_md5 got problems=() dims
    rel=$(oracle_field "$ora" "$n" 5)
    want_md5=$(oracle_field "$ora" "$n" 7)
    dims="$(oracle_header "$ora" width) $(oracle_header "$ora" height) 3"
    if ! frame_attrs "$MNT/$v/n=$n.png"; then
        fail "$label: getfattr n=$n.png failed: $A_dump"; return
    fi
    [ "$A_result" = succeeded ] || problems+=("user.result='$A_result' ($A_error)")
    [ -n "$A_actual" ] && [ "$(us_diff "$A_actual" "$rel")" -le 1 ] || problems+=("user.actual_time='$A_actual', want $rel")
    [ -n "$A_requested" ] && [ "$(us_diff "$A_requested" "$rel")" -le 1 ] || problems+=("user.requested_time='$A_requested', want $rel")
    [ "$A_width $A_height 3" = "$dims" ] || problems+=("user.width/height $A_width/$A_height")
    if ! got=$(fetch "$MNT/$v/n=$n.png" "$TMPF/n.png"); then
        problems+=("$got")
    else
        got=$(raw_md5 "$TMPF/n.png")
        if [ "$got" != "$want_md5 $dims" ]; then
            local other
            other=$(awk -v m="${got%% *}" '!/^#/ && $7 == m { print $1; exit }' "$ora")
            problems+=("pixels '$got' are ${other:+oracle frame #$other, }not oracle frame #$n ($want_md5 $dims)")
        fi
    fi
    if [ ${#problems[@]} -eq 0 ]; then
        pass "$label: $v n=$n.png is oracle frame #$n at $rel s"
    else
        fail "$label: $v n=$n.png: $(IFS=';'; echo "${problems[*]}")"
    fi
}

ORA_VFR=$(oracle_of "$SRC/vfr.mkv") || exit 1
durs=$(awk '!/^#/ { d[$6] = 1 } END { for (k in d) n++; print n }' "$ORA_VFR")
[ "$durs" -ge 2 ] && pass "setup: vfr.mkv has $durs distinct frame durations" ||
    fail "setup: vfr.mkv has $durs distinct frame durations (not variable)"
for spec in "plain.mp4 $ORA_PLAIN B-frames" "vfr.mkv $ORA_VFR VFR"; do
    read -r v ora kind <<<"$spec"
    count=$(oracle_header "$ora" frames)
    for n in 0 1 2 3 $((count / 2)) $((count / 2 + 1)) $((count - 2)) $((count - 1)); do
        n_check "$v" "$ora" "$n" "n= ($kind)"
    done
    expect_fail "$MNT/$v/n=$count.png" "n= ($kind): $v n=$count.png (= the frame count)"
    expect_fail "$MNT/$v/n=1000000.png" "n= ($kind): $v n=1000000.png"
done

# ---------------------------------------------------------------- 4. t=P%

for spec in "plain.mp4 $ORA_PLAIN" "vfr.mkv $ORA_VFR"; do
    read -r v ora <<<"$spec"
    dur=$(xattr_get "$MNT/$v" user.duration)
    tb=$(oracle_header "$ora" time_base)
    tick_us=$(awk -v tb="$tb" 'BEGIN { split(tb, a, "/"); printf "%d", a[1] / a[2] * 1e6 + 0.999999 }')
    endt=$(oracle_header "$ora" end_time)
    [ -n "$dur" ] && [ "$(us_diff "$dur" "$endt")" -le "$tick_us" ] &&
        pass "t=P%: $v user.duration=$dur is the oracle's end $endt" ||
        fail "t=P%: $v user.duration='$dur', oracle end_time $endt"
    for p in 0 25 50 99.9; do
        name="t=$p%.png"
        want_t=$(awk -v p="$p" -v d="$dur" 'BEGIN { printf "%.6f", p / 100 * d }')
        problems=()
        if ! frame_attrs "$MNT/$v/$name"; then
            fail "t=P%: $v $name: getfattr failed: $A_dump"; continue
        fi
        [ "$A_result" = succeeded ] || problems+=("user.result='$A_result' ($A_error)")
        [ -n "$A_requested" ] && [ "$(us_diff "$A_requested" "$want_t")" -le $((tick_us + 1)) ] ||
            problems+=("user.requested_time='$A_requested', want $p% of $dur = $want_t (+- one tick, ${tick_us} us)")
        if [ -n "$A_requested" ]; then
            if ! got=$(fetch "$MNT/$v/$name" "$TMPF/p.png"); then
                problems+=("$got")
            elif ! got=$(fetch "$MNT/$v/t=$A_requested.png" "$TMPF/p2.png"); then
                problems+=("t=$A_requested.png: $got")
            elif ! cmp -s "$TMPF/p.png" "$TMPF/p2.png"; then
                problems+=("bytes differ from t=$A_requested.png")
            fi
            # and that is the oracle's frame on screen at that time
            idx=$(echo "x x $want_t 0 0" | oracle_expect "$ora" | cut -d' ' -f4)
            if [[ $idx =~ ^[0-9]+$ ]]; then
                got=$(raw_md5 "$TMPF/p.png")
                [ "${got%% *}" = "$(oracle_field "$ora" "$idx" 7)" ] || problems+=("pixels are not oracle frame #$idx (on screen at $want_t)")
            fi
        fi
        if [ ${#problems[@]} -eq 0 ]; then
            pass "t=P%: $v $name: requested_time $A_requested (= $p% of $dur), actual $A_actual, same bytes as t=$A_requested.png"
        else
            fail "t=P%: $v $name: $(IFS=';'; echo "${problems[*]}")"
        fi
    done
    for p in 100 150; do
        expect_fail "$MNT/$v/t=$p%.png" "t=P%: $v t=$p%.png (at or past the end)"
    done
done

# ---------------------------------------------------------------- 5. depth=16

ORA_TEN=$(oracle_of "$SRC/ten.mp4") || exit 1
tpf=$(oracle_header "$ORA_TEN" pix_fmt)
I_TEN=$(oracle_index_at "$ORA_TEN" 0.5)
if cli_raw "$SRC/ten.mp4" "$I_TEN" "" rgb48be "$TMPF/t16c.raw"; then
    # PNG
    problems=()
    if ! got=$(fetch "$MNT/ten.mp4/t=0.5,depth=16.png" "$TMPF/t16.png"); then
        problems+=("$got")
    else
        hdr=$(png_ihdr "$TMPF/t16.png")
        [ "$hdr" = "320 240 16 2" ] || problems+=("PNG header '$hdr' (w h depth type), want '320 240 16 2'")
        if ! to_raw "$TMPF/t16.png" rgb48be "$TMPF/t16.raw"; then
            problems+=("ffmpeg cannot decode it: $(head -c 200 "$TMPF/toraw.err")")
        elif ! cmp -s "$TMPF/t16.raw" "$TMPF/t16c.raw"; then
            problems+=("pixels differ from ffmpeg -pix_fmt rgb48be of frame #$I_TEN ($(cmp "$TMPF/t16.raw" "$TMPF/t16c.raw" 2>&1 | head -c 100)); PSNR $(psnr "$TMPF/t16.raw" "$TMPF/t16c.raw" 320x240 rgb48be) dB")
        fi
    fi
    frame_attrs "$MNT/ten.mp4/t=0.5,depth=16.png"
    [ "${A_width}x$A_height" = 320x240 ] || problems+=("user.width x height ${A_width}x$A_height")
    if [ ${#problems[@]} -eq 0 ]; then
        pass "depth=16 PNG: ten.mp4 ($tpf) t=0.5,depth=16.png is 16-bit RGB, identical to ffmpeg -pix_fmt rgb48be of frame #$I_TEN"
    else
        fail "depth=16 PNG: ten.mp4 ($tpf) t=0.5,depth=16.png: $(IFS=';'; echo "${problems[*]}")"
    fi
    # PPM
    problems=()
    if ! got=$(fetch "$MNT/ten.mp4/t=0.5,depth=16.ppm" "$TMPF/t16.ppm"); then
        problems+=("$got")
    else
        hdr=$(ppm_header "$TMPF/t16.ppm")
        [ "${hdr% *}" = "320 240 65535" ] || problems+=("PPM header '$hdr' (w h maxval offset), want 320 240 65535")
        if ppm_pixels "$TMPF/t16.ppm" "$TMPF/t16p.raw"; then
            cmp -s "$TMPF/t16p.raw" "$TMPF/t16c.raw" ||
                problems+=("pixels ($(stat -c %s "$TMPF/t16p.raw") bytes) differ from ffmpeg -pix_fmt rgb48be of frame #$I_TEN ($(stat -c %s "$TMPF/t16c.raw") bytes)")
        fi
    fi
    if [ ${#problems[@]} -eq 0 ]; then
        pass "depth=16 PPM: ten.mp4 t=0.5,depth=16.ppm has maxval 65535, pixels identical to ffmpeg -pix_fmt rgb48be"
    else
        fail "depth=16 PPM: ten.mp4 t=0.5,depth=16.ppm: $(IFS=';'; echo "${problems[*]}")"
    fi
else
    fail "depth=16: ffmpeg -pix_fmt rgb48be failed: $(head -c 300 "$TMPF/cli.err")"
fi
# depth=16 of an 8-bit source and rotated: the CLI's rgb48be too.
if cli_raw "$SRC/rot90.mp4" "$I1" "" rgb48be "$TMPF/r16c.raw" &&
    got=$(fetch "$MNT/rot90.mp4/t=1,depth=16.ppm" "$TMPF/r16.ppm") && ppm_pixels "$TMPF/r16.ppm" "$TMPF/r16.raw"; then
    cmp -s "$TMPF/r16.raw" "$TMPF/r16c.raw" &&
        pass "depth=16 PPM of an 8-bit rotated video: rot90.mp4 t=1,depth=16.ppm ($(ppm_header "$TMPF/r16.ppm")) is ffmpeg's rgb48be" ||
        fail "depth=16 PPM of an 8-bit rotated video: rot90.mp4 t=1,depth=16.ppm ($(ppm_header "$TMPF/r16.ppm")) differs from ffmpeg -pix_fmt rgb48be of frame #$I1"
else
    fail "depth=16 PPM of an 8-bit rotated video: ${got:-} $(head -c 200 "$TMPF/cli.err")"
fi
# 16 bits with alpha: RGBA64 PNG, the CLI's rgba64be; the PPM drops alpha (rgb48be).
ORA_ALPHA=$(oracle_of "$SRC/alpha12.mov") || exit 1
I_A=$(oracle_index_at "$ORA_ALPHA" 0.5)
problems=()
if ! cli_raw "$SRC/alpha12.mov" "$I_A" "" rgba64be "$TMPF/a16c.raw" ||
    ! cli_raw "$SRC/alpha12.mov" "$I_A" "" rgb48be "$TMPF/a48c.raw"; then
    problems+=("ffmpeg: $(head -c 200 "$TMPF/cli.err")")
elif ! got=$(fetch "$MNT/alpha12.mov/t=0.5,depth=16.png" "$TMPF/a16.png"); then
    problems+=("$got")
else
    hdr=$(png_ihdr "$TMPF/a16.png")
    [ "$hdr" = "160 120 16 6" ] || problems+=("PNG header '$hdr' (w h depth type), want '160 120 16 6' (RGBA, 16 bits)")
    if ! to_raw "$TMPF/a16.png" rgba64be "$TMPF/a16.raw"; then
        problems+=("ffmpeg cannot decode it: $(head -c 200 "$TMPF/toraw.err")")
    elif ! cmp -s "$TMPF/a16.raw" "$TMPF/a16c.raw"; then
        problems+=("pixels differ from ffmpeg -pix_fmt rgba64be of frame #$I_A")
    fi
    if ! got=$(fetch "$MNT/alpha12.mov/t=0.5,depth=16.ppm" "$TMPF/a16.ppm") || ! ppm_pixels "$TMPF/a16.ppm" "$TMPF/a16p.raw"; then
        problems+=("the PPM: ${got:-no pixels}")
    elif ! cmp -s "$TMPF/a16p.raw" "$TMPF/a48c.raw"; then
        problems+=("the PPM's pixels differ from ffmpeg -pix_fmt rgb48be")
    fi
fi
if [ ${#problems[@]} -eq 0 ]; then
    pass "depth=16 with alpha: alpha12.mov ($(oracle_header "$ORA_ALPHA" pix_fmt)) t=0.5,depth=16.png is RGBA64, identical to ffmpeg -pix_fmt rgba64be; the PPM is its rgb48be"
else
    fail "depth=16 with alpha: alpha12.mov t=0.5: $(IFS=';'; echo "${problems[*]}")"
fi
# the 16-bit PNG holds the 16-bit PPM's pixels
if to_raw "$TMPF/t16.png" rgb48be "$TMPF/t16.raw" 2>/dev/null && [ -s "$TMPF/t16p.raw" ] && cmp -s "$TMPF/t16.raw" "$TMPF/t16p.raw"; then
    pass "depth=16: the PNG's and the PPM's pixels are the same"
else
    fail "depth=16: the PNG's and the PPM's pixels differ (or one is missing)"
fi

# ---------------------------------------------------------------- 6. JPEG

problems=()
fetch "$MNT/plain.mp4/t=1.png" "$TMPF/j.png" >/dev/null && "$PNG2RAW" "$TMPF/j.png" >"$TMPF/j.raw" 2>/dev/null ||
    problems+=("t=1.png unreadable")
sizes=""
for q in 90 50 10; do
    if got=$(fetch "$MNT/plain.mp4/t=1,q=$q.jpg" "$TMPF/q$q.jpg"); then
        sizes+="q=$q:$(stat -c %s "$TMPF/q$q.jpg") "
    else
        problems+=("q=$q: $got")
    fi
done
if [ ${#problems[@]} -eq 0 ]; then
    d=$(jpeg_dims "$TMPF/q90.jpg")
    if [ "$d" = 352x288 ] && to_raw "$TMPF/q90.jpg" rgb24 "$TMPF/q90.raw"; then
        p=$(psnr "$TMPF/q90.raw" "$TMPF/j.raw" 352x288 rgb24)
        [ -n "$p" ] && ! lt "$p" 30 && pass "JPEG q=90: plain.mp4 t=1,q=90.jpg (352x288) vs t=1.png: PSNR $p dB (>= 30)" ||
            fail "JPEG q=90: plain.mp4 t=1,q=90.jpg vs t=1.png: PSNR '$p' dB, want >= 30"
    else
        fail "JPEG q=90: t=1,q=90.jpg is '$d' (want a 352x288 JPEG) $(head -c 200 "$TMPF/toraw.err")"
    fi
    read -r s90 s50 s10 <<<"$(stat -c %s "$TMPF/q90.jpg" "$TMPF/q50.jpg" "$TMPF/q10.jpg" | tr '\n' ' ')"
    [ "$s90" -gt "$s50" ] && [ "$s50" -gt "$s10" ] && pass "JPEG sizes strictly decrease with q: $sizes" ||
        fail "JPEG sizes do not strictly decrease with q: $sizes"
else
    fail "JPEG: $(IFS=';'; echo "${problems[*]}")"
fi
for pair in "t=1.jpg t=1.jpeg" "t=1.jpg t=1,q=90.jpg" "t=1,q=50.jpg q=50,t=1.jpeg"; do
    read -r a b <<<"$pair"
    if fetch "$MNT/plain.mp4/$a" "$TMPF/ja" >/dev/null && fetch "$MNT/plain.mp4/$b" "$TMPF/jb" >/dev/null &&
        [ -s "$TMPF/ja" ] && cmp -s "$TMPF/ja" "$TMPF/jb"; then
        pass "JPEG: $b gives the same bytes as $a ($(stat -c %s "$TMPF/ja") bytes)"
    else
        fail "JPEG: $b and $a differ (or cannot be read)"
    fi
done
# Odd size in a 4:2:0 JPEG, and a scaled one.  Their fine, saturated colour
# detail is what 4:2:0 cannot keep (the PNG's own round trip through
# yuvj420p is below 30 dB): the bar is 30 dB or 1.5 dB under that ceiling.
for spec in "odd.mp4 t=1.jpg 321x241 t=1.png" "plain.mp4 t=1,w=176.jpg 176x144 t=1,w=176.png"; do
    read -r v jn dims pn <<<"$spec"
    if fetch "$MNT/$v/$jn" "$TMPF/o.jpg" >/dev/null && fetch "$MNT/$v/$pn" "$TMPF/o.png" >/dev/null &&
        [ "$(jpeg_dims "$TMPF/o.jpg")" = "$dims" ] && to_raw "$TMPF/o.jpg" rgb24 "$TMPF/o.raw" &&
        "$PNG2RAW" "$TMPF/o.png" >"$TMPF/op.raw" 2>/dev/null; then
        p=$(psnr "$TMPF/o.raw" "$TMPF/op.raw" "$dims" rgb24)
        ffmpeg -nostdin -hide_banner -v error -y -i "$TMPF/o.png" -vf format=yuvj420p,format=rgb24 \
            -f rawvideo "$TMPF/o420.raw" 2>/dev/null
        ceil=$(psnr "$TMPF/o420.raw" "$TMPF/op.raw" "$dims" rgb24)
        bar=$(awk -v c="$ceil" 'BEGIN { b = (c == "inf") ? 30 : c - 1.5; if (b > 30) b = 30; printf "%.2f", b }')
        [ -n "$p" ] && [ -n "$ceil" ] && ! lt "$p" "$bar" &&
            pass "JPEG $v $jn ($dims) vs $pn: PSNR $p dB (>= $bar; 4:2:0 alone gives $ceil dB)" ||
            fail "JPEG $v $jn ($dims) vs $pn: PSNR '$p' dB, want >= $bar (4:2:0 alone gives '$ceil' dB)"
    else
        fail "JPEG $v $jn: not a $dims JPEG ($(jpeg_dims "$TMPF/o.jpg" 2>&1)) or unreadable"
    fi
done

# ---------------------------------------------------------------- 7. PPM

ORA_SAR2=$(oracle_of "$SRC/sar2.mp4") || exit 1
for spec in "plain.mp4 $ORA_PLAIN $I1 352x288" "odd.mp4 $ORA_ODD $I1_ODD 321x241" "rot90.mp4 $ORA_ROT90 $I1 288x352" \
    "sar2.mp4 $ORA_SAR2 $I1 352x288"; do
    read -r v ora idx dims <<<"$spec"
    problems=()
    if ! got=$(fetch "$MNT/$v/t=1.ppm" "$TMPF/p.ppm"); then
        problems+=("$got")
    else
        hdr=$(ppm_header "$TMPF/p.ppm")
        [ "${hdr% *}" = "${dims%x*} ${dims#*x} 255" ] || problems+=("header '$hdr' (w h maxval offset), want $dims maxval 255")
        if ppm_pixels "$TMPF/p.ppm" "$TMPF/p.raw"; then
            m=$(md5sum <"$TMPF/p.raw" | cut -d' ' -f1)
            [ "$m" = "$(oracle_field "$ora" "$idx" 7)" ] || problems+=("pixel md5 $m is not oracle frame #$idx's $(oracle_field "$ora" "$idx" 7)")
            if fetch "$MNT/$v/t=1.png" "$TMPF/pp.png" >/dev/null && "$PNG2RAW" "$TMPF/pp.png" >"$TMPF/pp.raw" 2>/dev/null; then
                cmp -s "$TMPF/p.raw" "$TMPF/pp.raw" || problems+=("pixels differ from t=1.png's")
            else
                problems+=("t=1.png unreadable")
            fi
        fi
    fi
    if [ ${#problems[@]} -eq 0 ]; then
        pass "PPM: $v t=1.ppm (P6 $dims 255) pixels are oracle frame #$idx and t=1.png's"
    else
        fail "PPM: $v t=1.ppm: $(IFS=';'; echo "${problems[*]}")"
    fi
done

# ---------------------------------------------------------------- 8. mount-wide defaults

MNT2=$WORK/mnt-defaults
if mount_framefs "$SRC" "$MNT2" "w=100,q=70,list_ext=jpg"; then
    got=$(t ls "$MNT2/plain.mp4" 2>&1 | tr '\n' ' ')
    [ "$got" = "t=0.jpg t=1.jpg " ] && pass "-o list_ext=jpg: ls plain.mp4 lists: $got" ||
        fail "-o list_ext=jpg: ls plain.mp4 lists '$got', want 't=0.jpg t=1.jpg'"
    got=$(t ls "$MNT2/odd.mp4" 2>&1 | grep -vc '\.jpg$')
    [ "$got" = 0 ] && pass "-o list_ext=jpg: odd.mp4 lists only .jpg names" || fail "-o list_ext=jpg: odd.mp4 lists $got non-.jpg names"
    if got=$(fetch "$MNT2/plain.mp4/t=0.jpg" "$TMPF/m0.jpg"); then
        d=$(jpeg_dims "$TMPF/m0.jpg")
        frame_attrs "$MNT2/plain.mp4/t=0.jpg"
        [ "$d" = 100x82 ] && [ "${A_width}x$A_height" = 100x82 ] &&
            pass "-o w=100: listed t=0.jpg is a 100x82 JPEG (user.width x height ${A_width}x$A_height)" ||
            fail "-o w=100: listed t=0.jpg is '$d', user.width x height ${A_width}x$A_height, want a 100x82 JPEG"
    else
        fail "-o w=100: t=0.jpg: $got"
    fi
    if got=$(fetch "$MNT2/plain.mp4/t=1,w=0.png" "$TMPF/mw0.png"); then
        hdr=$(png_ihdr "$TMPF/mw0.png")
        [ "$hdr" = "352 288 8 2" ] && pass "a name's w=0 overrides -o w=100: t=1,w=0.png is full size ($hdr)" ||
            fail "a name's w=0 overrides -o w=100: t=1,w=0.png header '$hdr', want 352 288 8 2"
        fetch "$MNT/plain.mp4/t=1.png" "$TMPF/m1.png" >/dev/null
        cmp -s "$TMPF/mw0.png" "$TMPF/m1.png" && pass "t=1,w=0.png on the -o w=100 mount = t=1.png on the plain mount" ||
            fail "t=1,w=0.png on the -o w=100 mount differs from t=1.png on the plain mount"
    else
        fail "a name's w=0 overrides -o w=100: $got"
    fi
    if fetch "$MNT2/plain.mp4/t=1.jpg" "$TMPF/md.jpg" >/dev/null && fetch "$MNT2/plain.mp4/t=1,q=95.jpg" "$TMPF/m95.jpg" >/dev/null; then
        ! cmp -s "$TMPF/md.jpg" "$TMPF/m95.jpg" &&
            pass "a name's q=95 overrides -o q=70: t=1,q=95.jpg ($(stat -c %s "$TMPF/m95.jpg") bytes) differs from t=1.jpg ($(stat -c %s "$TMPF/md.jpg") bytes)" ||
            fail "a name's q=95 overrides -o q=70: t=1,q=95.jpg and t=1.jpg are identical"
        fetch "$MNT/plain.mp4/t=1,w=100,q=70.jpg" "$TMPF/me.jpg" >/dev/null
        cmp -s "$TMPF/md.jpg" "$TMPF/me.jpg" &&
            pass "-o w=100,q=70: t=1.jpg = t=1,w=100,q=70.jpg of the plain mount" ||
            fail "-o w=100,q=70: t=1.jpg differs from t=1,w=100,q=70.jpg of the plain mount"
        fetch "$MNT2/plain.mp4/t=1,q=70,w=100.jpg" "$TMPF/mf.jpg" >/dev/null
        cmp -s "$TMPF/md.jpg" "$TMPF/mf.jpg" && pass "-o w=100,q=70: naming the defaults gives the same bytes" ||
            fail "-o w=100,q=70: t=1,q=70,w=100.jpg differs from t=1.jpg"
    else
        fail "-o q=70: t=1.jpg or t=1,q=95.jpg unreadable"
    fi
    mount_alive "$MNT2"
    unmount_framefs "$MNT2"
fi

MNT3=$WORK/mnt-defaults3
if mount_framefs "$SRC" "$MNT3" "rotate=0,aspect=display,depth=16,h=200"; then
    # rot270.mp4: 352x288 SAR 2:1; rotate=0 + display = 704x288; h=200 -> 489x200
    want=$(expected_dims 352 288 2 1 270 0 display 0 200)
    if fetch "$MNT3/rot270.mp4/t=1.png" "$TMPF/d3.png" >/dev/null; then
        hdr=$(png_ihdr "$TMPF/d3.png")
        frame_attrs "$MNT3/rot270.mp4/t=1.png"
        [ "$hdr" = "${want%x*} ${want#*x} 16 2" ] && [ "${A_width}x$A_height" = "$want" ] &&
            pass "-o rotate=0,aspect=display,depth=16,h=200: rot270.mp4 t=1.png is 16-bit $want" ||
            fail "-o rotate=0,aspect=display,depth=16,h=200: rot270.mp4 t=1.png header '$hdr', user.width x height ${A_width}x$A_height, want $want 16-bit RGB"
    else
        fail "-o rotate=0,aspect=display,depth=16,h=200: rot270.mp4 t=1.png unreadable"
    fi
    name="t=1,rotate=auto,aspect=coded,depth=8,h=0.png"
    if fetch "$MNT3/rot270.mp4/$name" "$TMPF/d4.png" >/dev/null && fetch "$MNT/rot270.mp4/t=1.png" "$TMPF/d5.png" >/dev/null; then
        hdr=$(png_ihdr "$TMPF/d4.png")
        [ "$hdr" = "288 352 8 2" ] && cmp -s "$TMPF/d4.png" "$TMPF/d5.png" &&
            pass "every default overridden in the name: rot270.mp4 $name = t=1.png of the plain mount ($hdr)" ||
            fail "every default overridden in the name: rot270.mp4 $name: header '$hdr' (want 288 352 8 2), same bytes as plain t=1.png: $(cmp -s "$TMPF/d4.png" "$TMPF/d5.png" && echo yes || echo no)"
    else
        fail "every default overridden in the name: rot270.mp4 $name unreadable"
    fi
    # (what a .jpg name does under -o depth=16 is not specified: only noted)
    note "-o depth=16 mount, t=1.jpg: stat $(errno_of stat "$MNT3/plain.mp4/t=1.jpg"), user.result=$(xattr_get "$MNT3/plain.mp4/t=1.jpg" user.result)"
    mount_alive "$MNT3"
    unmount_framefs "$MNT3"
fi

# Bad mount-wide values: framefs refuses to start, one line on stderr.
BADMNT=$WORK/badmnt
mkdir -p "$BADMNT"
for opt in q=0 q=101 w=abc w=-1 w=65536 h=1.5 rotate=45 aspect=square depth=12 hdr=hdr10 tol=abc list_ext=gif; do
    timeout -k 2 10 "$FRAMEFS" -f -o "$opt" "$SRC" "$BADMNT" </dev/null >"$TMPF/bad.out" 2>"$TMPF/bad.err"
    st=$?
    lines=$(grep -c . "$TMPF/bad.err")
    if is_mounted "$BADMNT"; then
        timeout -k 2 10 fusermount3 -uz "$BADMNT" 2>/dev/null
        fail "bad mount-wide value -o $opt: framefs mounted anyway"
    elif [ "$st" -eq 124 ] || [ "$st" -eq 137 ]; then
        fail "bad mount-wide value -o $opt: framefs did not exit within 10 s (it ran: the value was accepted)"
    elif [ "$st" -eq 0 ]; then
        fail "bad mount-wide value -o $opt: exit status 0"
    elif [ "$lines" -ne 1 ]; then
        fail "bad mount-wide value -o $opt: exit $st but $lines lines on stderr: $(head -c 300 "$TMPF/bad.err" | tr '\n' '|')"
    else
        pass "bad mount-wide value -o $opt: exit $st, nothing mounted, '$(cat "$TMPF/bad.err")'"
    fi
done

# ---------------------------------------------------------------- 9. equivalent spellings

N1=$(oracle_index_at "$ORA_PLAIN" 1)
ref="t=1,w=176.png"
names="w=176,t=1.000.png t=0:01,w=176.png t=00:00:01.000,w=176.png t=1,h=144.png t=1,w=176,h=144.png t=1,w=176,h=0.png
t=1,w=176,h=1000.png t=1,w=176,rotate=auto,aspect=coded,depth=8.png t=1,w=176,rotate=0.png t=.99999999,w=176.png t=50%,w=176.png n=$N1,w=176.png
n=$N1,h=144.png aspect=display,w=176,t=1.png"
if fetch "$MNT/plain.mp4/$ref" "$TMPF/e0.png" >/dev/null && [ -s "$TMPF/e0.png" ]; then
    decodes0=$(mount_stat "$MNT" decodes)
    for n in $names; do
        if got=$(fetch "$MNT/plain.mp4/$n" "$TMPF/e1.png") && cmp -s "$TMPF/e0.png" "$TMPF/e1.png"; then
            pass "same bytes: plain.mp4 $n = $ref"
        else
            fail "same bytes: plain.mp4 $n differs from $ref (${got:-$(png_ihdr "$TMPF/e1.png") vs $(png_ihdr "$TMPF/e0.png")})"
        fi
    done
    decodes1=$(mount_stat "$MNT" decodes)
    [ -n "$decodes0" ] && [ "$decodes1" = "$decodes0" ] &&
        pass "one cache entry: the $(echo $names | wc -w) other spellings decoded nothing (user.stats decodes stay $decodes0)" ||
        fail "one cache entry: user.stats decodes went $decodes0 -> $decodes1 over the other spellings of $ref"
else
    fail "same bytes: plain.mp4 $ref unreadable"
fi
# A 16-bit, full-size spelling and a .ppm one.
for pair in "t=1.ppm n=$N1.ppm" "t=1,depth=16.png depth=16,t=0:01.000.png" "t=1,depth=8.ppm t=1.ppm" "t=1,w=352.png t=1.png"; do
    read -r a b <<<"$pair"
    if fetch "$MNT/plain.mp4/$a" "$TMPF/ea" >/dev/null && fetch "$MNT/plain.mp4/$b" "$TMPF/eb" >/dev/null &&
        [ -s "$TMPF/ea" ] && cmp -s "$TMPF/ea" "$TMPF/eb"; then
        pass "same bytes: plain.mp4 $b = $a"
    else
        fail "same bytes: plain.mp4 $b differs from $a (or cannot be read)"
    fi
done

# ---------------------------------------------------------------- 10. malformed names

listing=$(t ls -a "$MNT/plain.mp4" 2>&1)
BAD_NAMES='t=1,w=-1.png t=1,w=abc.png t=1,q=0.jpg t=1,q=101.jpg t=1,q=90.png t=1,depth=12.png
t=1,depth=16.jpg t=1,rotate=45.png n=1.5.png n=1,t=1.png t=abc%.png n=1,tol=1.png t=1,aspect=square.png
t=1.gif t=1,w=65536.png t=1,h=70000.png t=1,w=.png t=1,w=1.5.png t=1,w=100,w=100.png t=1,q=50.ppm
t=1,depth=16.jpeg t=1,rotate=90.png t=1,rotate=auto0.png n=-1.png n=.png n=1,before=0.png n=1,after=0.png
t=-5%.png t=50%%.png t=%.png t=1,q=-5.jpg t=1,q=90.0.jpg t=1,depth=8.0.png t=1.jpg.png n=1e3.png
t=1,W=100.png'
for n in $BAD_NAMES; do
    got=$(errno_of stat -- "$MNT/plain.mp4/$n")
    listed=$(printf '%s\n' "$listing" | grep -cxF -- "$n")
    if [ "$got" = "No such file or directory" ] && [ "$listed" = 0 ]; then
        pass "malformed name $n: ENOENT, not listed"
    else
        fail "malformed name $n: stat gives '$got' (want ENOENT), listed $listed times"
    fi
done
# Their neighbours that are valid do exist (so ENOENT above is about the value).
for n in t=1,q=1.jpg t=1,q=100.jpg t=1,w=65535.png t=1,h=0.png t=1,depth=8.ppm t=1,depth=16.ppm t=1.jpeg n=0.ppm \
    t=1,rotate=0.jpg t=1,aspect=display.ppm t=0%.png n=1,w=50.jpg; do
    got=$(errno_of stat -- "$MNT/plain.mp4/$n")
    r=$(xattr_get "$MNT/plain.mp4/$n" user.result)
    [ "$got" = ok ] && [ "$r" = succeeded ] && pass "valid name $n exists and succeeds" ||
        fail "valid name $n: stat '$got', user.result '$r'"
done

# ---------------------------------------------------------------- 11. PNG size

# Each PNG is no larger than ffmpeg's -compression_level 1 PNG of the same
# pixels (the PPM of the same name, pixel-identical to the PNG: section 7),
# on noisy keyframes (t=0, t=0.5: keyint 12 at 24 fps) and the frames between
# them, on a clean synthetic picture and at 16 bits; and it decodes to those
# pixels.
for spec in "plain.mp4 t=0" "plain.mp4 t=0.5" "plain.mp4 t=0.3" "plain.mp4 t=1.7" \
    "clean.mp4 t=0" "clean.mp4 t=0.6" "ten.mp4 t=0.4,depth=16" "odd.mp4 t=1.1"; do
    read -r v n <<<"$spec"
    pix=rgb24
    case $n in *depth=16*) pix=rgb48be ;; esac
    if ! cp "$MNT/$v/$n.png" "$TMPF/s.png" 2>"$TMPF/s.err" ||
        ! cp "$MNT/$v/$n.ppm" "$TMPF/s.ppm" 2>>"$TMPF/s.err"; then
        fail "PNG size $v/$n: cannot read ($(head -c 200 "$TMPF/s.err"))"
        continue
    fi
    ffmpeg -v error -y -i "$TMPF/s.ppm" -pix_fmt "$pix" -compression_level 1 "$TMPF/ref.png" 2>"$TMPF/s.err"
    ffmpeg -v error -y -i "$TMPF/s.png" -f rawvideo -pix_fmt "$pix" "$TMPF/s.png.raw" 2>>"$TMPF/s.err"
    ffmpeg -v error -y -i "$TMPF/s.ppm" -f rawvideo -pix_fmt "$pix" "$TMPF/s.ppm.raw" 2>>"$TMPF/s.err"
    ours=$(stat -c %s "$TMPF/s.png")
    ref=$(stat -c %s "$TMPF/ref.png" 2>/dev/null || echo 0)
    if [ "$ref" -gt 0 ] && [ "$ours" -le "$ref" ] && cmp -s "$TMPF/s.png.raw" "$TMPF/s.ppm.raw"; then
        pass "PNG size $v/$n.png: $ours bytes <= $ref of ffmpeg -compression_level 1 ($pix), same pixels as the PPM"
    else
        fail "PNG size $v/$n.png: $ours bytes against $ref of ffmpeg -compression_level 1, pixels $(cmp -s "$TMPF/s.png.raw" "$TMPF/s.ppm.raw" && echo same || echo differ) ($(head -c 200 "$TMPF/s.err"))"
    fi
done

mount_alive "$MNT"
[ "$(failures)" -eq 0 ]
