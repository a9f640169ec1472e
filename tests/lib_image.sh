# shellcheck shell=bash
# Helpers for tests that read frames as image files and compare them with the
# ffmpeg CLI (test_output, test_color).  Source it after lib.sh; the test
# sets TMPF, a scratch directory of its own.
#
#   . "$(dirname "$0")/../lib.sh"
#   . "$(dirname "$0")/../lib_image.sh"

# frame_attrs FILE: sets A_result A_actual A_requested A_error A_has_error
# A_width A_height from the file's user.* attributes; returns 1 on error.
frame_attrs() {
    local dump line key val
    A_result="" A_actual="" A_requested="" A_error="" A_has_error=0 A_width="" A_height=""
    dump=$(t getfattr --absolute-names -d -- "$1" 2>&1) || { A_dump=$dump; return 1; }
    while IFS= read -r line; do
        case $line in user.*=*) ;; *) continue ;; esac
        key=${line%%=*}; val=${line#*=}; val=${val#\"}; val=${val%\"}
        case $key in
        user.result) A_result=$val ;;
        user.actual_time) A_actual=$val ;;
        user.requested_time) A_requested=$val ;;
        user.error) A_error=$val; A_has_error=1 ;;
        user.width) A_width=$val ;;
        user.height) A_height=$val ;;
        esac
    done <<<"$dump"
    return 0
}

# fetch FILE OUT: copy a frame out of the mount; prints the error on failure.
fetch() {
    local err
    rm -f "$2"
    err=$(t cat -- "$1" 2>&1 >"$2") || { echo "cat failed: ${err:-status $?}"; return 1; }
}

# png_ihdr FILE: "W H BITDEPTH COLORTYPE" of a PNG, or "not a PNG".
png_ihdr() {
    od -An -tu1 -N26 -v -- "$1" 2>/dev/null | tr -s ' \n' ' ' | awk '{
        if (NF < 26 || $1 != 137 || $2 != 80 || $3 != 78 || $4 != 71 || $13 != 73 || $14 != 72 || $15 != 68 || $16 != 82) { print "not a PNG"; exit }
        printf "%d %d %d %d\n", (($17 * 256 + $18) * 256 + $19) * 256 + $20, (($21 * 256 + $22) * 256 + $23) * 256 + $24, $25, $26 }'
}

# ppm_header FILE: "W H MAXVAL OFFSET" of a binary P6 PPM (OFFSET: where the
# pixels start), or "not a P6 PPM".
ppm_header() {
    local hdr
    hdr=$(head -c 40 -- "$1" 2>/dev/null | tr -c 'P0-9' ' ')
    if [[ $hdr =~ ^(P6[\ ]+([0-9]+)[\ ]+([0-9]+)[\ ]+([0-9]+))\  ]]; then
        echo "${BASH_REMATCH[2]} ${BASH_REMATCH[3]} ${BASH_REMATCH[4]} $((${#BASH_REMATCH[1]} + 1))"
    else
        echo "not a P6 PPM"
    fi
}

# ppm_pixels FILE OUT: the pixel bytes of a P6 PPM.
ppm_pixels() {
    local hd
    hd=$(ppm_header "$1")
    [ "$hd" != "not a P6 PPM" ] || return 1
    tail -c +"$(( ${hd##* } + 1 ))" -- "$1" >"$2"
}

# jpeg_dims FILE: "WxH" of a JPEG (ffprobe), or "not a JPEG".
jpeg_dims() {
    local magic
    magic=$(od -An -tx1 -N3 -- "$1" | tr -d ' \n')
    [ "$magic" = ffd8ff ] || { echo "not a JPEG (starts $magic)"; return 1; }
    ffprobe -v error -show_entries stream=codec_name,width,height -of csv=p=0 -- "$1" |
        awk -F, '$1 == "mjpeg" { print $2 "x" $3; found = 1 } END { if (!found) print "not a JPEG" }'
}

# cli_raw VIDEO INDEX VF PIXFMT OUT [INPUT_OPTS...]: frame INDEX (decoder
# output order) of VIDEO as the ffmpeg CLI gives it through the filter VF
# (may be empty), as raw PIXFMT.
cli_raw() {
    local video=$1 idx=$2 vf=$3 pf=$4 out=$5
    shift 5
    ffmpeg -nostdin -hide_banner -v error -y "$@" -i "$video" -map 0:v:0 -an \
        -vf "select=eq(n\\,$idx)${vf:+,$vf}" -fps_mode passthrough -frames:v 1 \
        -pix_fmt "$pf" -f rawvideo "$out" 2>"$TMPF/cli.err"
}

# to_raw IMAGE PIXFMT OUT: decode an image file with ffmpeg to raw PIXFMT.
to_raw() {
    ffmpeg -nostdin -hide_banner -v error -y -i "$1" -f rawvideo -pix_fmt "$2" "$3" 2>"$TMPF/toraw.err"
}

# psnr A B WxH PIXFMT: average PSNR (dB, "inf" when identical) of two raw
# images of the same size, by ffmpeg's psnr filter.
psnr() {
    ffmpeg -nostdin -hide_banner -f rawvideo -pix_fmt "$4" -s "$3" -i "$1" \
        -f rawvideo -pix_fmt "$4" -s "$3" -i "$2" -lavfi psnr -f null - 2>&1 |
        sed -n 's/.*PSNR.* average:\([^ ]*\).*/\1/p' | tail -n 1
}

# oracle_index_at ORACLE T: the index of the frame on screen at T seconds.
oracle_index_at() {
    awk -v t="$2" '!/^#/ && $5 + 0 <= t + 1e-7 { i = $1 } END { print i }' "$1"
}
oracle_field() {   # ORACLE INDEX COLUMN
    awk -v i="$2" -v c="$3" '!/^#/ && $1 == i { print $c }' "$1"
}

# expect_fail FILE LABEL: FILE exists, user.result=failed with a user.error,
# size 0, reading fails with EIO.
expect_fail() {
    local f=$1 label=$2 problems=() st got
    st=$(t stat -c %s -- "$f" 2>&1) || problems+=("stat failed: $st")
    if frame_attrs "$f"; then
        [ "$A_result" = failed ] || problems+=("user.result='$A_result', want failed")
        [ "$A_has_error" = 1 ] && [ -n "$A_error" ] || problems+=("no user.error")
        [ -z "$A_width$A_height" ] || problems+=("user.width/height '$A_width'/'$A_height' on failure")
    else
        problems+=("getfattr failed: $A_dump")
    fi
    [ "$st" = 0 ] || problems+=("size '$st', want 0")
    got=$(errno_of cat -- "$f")
    [ "$got" = "Input/output error" ] || problems+=("cat: '$got', want EIO")
    if [ ${#problems[@]} -eq 0 ]; then
        pass "$label: exists, fails (user.error='$A_error'), read gives EIO"
    else
        local IFS=';'
        fail "$label: ${problems[*]}"
    fi
}


# png_chunks FILE: the chunks of a PNG, parsed (signature, lengths and every
# CRC checked), one line each: "TYPE LENGTH HEXDATA" (IDAT's data left
# out), or one line "error: ..." and status 1.
png_chunks() {
    /usr/bin/python3 - "$1" <<'PY'
import struct, sys, zlib
d = open(sys.argv[1], "rb").read()
if d[:8] != b"\x89PNG\r\n\x1a\n":
    print("error: no PNG signature"); sys.exit(1)
i = 8
while i < len(d):
    if i + 12 > len(d):
        print("error: truncated chunk at %d" % i); sys.exit(1)
    n, = struct.unpack(">I", d[i:i + 4])
    kind, body = d[i + 4:i + 8], d[i + 8:i + 8 + n]
    crc, = struct.unpack(">I", d[i + 8 + n:i + 12 + n])
    if len(body) != n or zlib.crc32(kind + body) != crc:
        print("error: bad chunk %r at %d" % (kind, i)); sys.exit(1)
    print(kind.decode("latin-1"), n, "" if kind == b"IDAT" else body.hex())
    i += 12 + n
    if kind == b"IEND":
        break
if i != len(d):
    print("error: %d bytes after IEND" % (len(d) - i)); sys.exit(1)
PY
}

# jpeg_markers FILE: the markers of a JPEG up to its first scan, parsed, one
# line each: "FFxx LENGTH IDENT" (IDENT: the first bytes of an APPn's data up
# to a NUL, e.g. JFIF, Exif, ICC_PROFILE), or "error: ..." and status 1.
jpeg_markers() {
    /usr/bin/python3 - "$1" <<'PY'
import struct, sys
d = open(sys.argv[1], "rb").read()
if d[:2] != b"\xff\xd8":
    print("error: no SOI"); sys.exit(1)
print("FFD8 0 -")
i = 2
while i + 4 <= len(d):
    if d[i] != 0xFF:
        print("error: no marker at %d" % i); sys.exit(1)
    m = d[i + 1]
    n, = struct.unpack(">H", d[i + 2:i + 4])
    body = d[i + 4:i + 2 + n]
    ident = body.split(b"\0")[0][:16].decode("latin-1") if 0xE0 <= m <= 0xEF else "-"
    print("FF%02X %d %s" % (m, n, ident or "-"))
    if m == 0xDA:
        break
    i += 2 + n
else:
    print("error: no scan"); sys.exit(1)
PY
}
