#!/usr/bin/env bash
# The worked examples in scripts/ (contact-sheet, thumbnails, extract-dataset,
# example.py), run on a mount of videos this test generates in $WORK:
#
#   black.mp4      160x120, 10 fps: 1 s of black, then 3 s of testsrc2
#   sub/bars.mp4   160x90, 10 fps, 3 s of testsrc2 (in a subdirectory)
#   x.mp4          random bytes (framefs shows it as a failed video)
#
#  1. every script is executable, and --help exits 0 naming its arguments;
#  2. contact-sheet: clear errors (unmounted path, plain file, not a video
#     directory, unreadable video); the sheet is COLS*tile_w x ROWS*tile_h
#     (ffprobe); each printed tile's actual time is the user.actual_time of
#     the frame it names; without labels every tile is pixel-identical to
#     that frame (the PPM of the same name) and the cells after the last are
#     black; with labels every tile differs from it, only in its lower half
#     (where the label is drawn); the labels show the actual time (tiles of
#     one actual time asked at other times are identical, identical black
#     frames of other actual times are not); the default --every;
#  3. thumbnails: one JPEG per readable video (recursive, x.mp4 reported and
#     skipped, not fatal), fitted inside --size; with --at 10%: black.mp4's 0%
#     and 10% frames are black (signalstats mean luma) but its thumbnail is
#     not, and is the frame the report names; by shot (the default): the
#     middle of black.mp4's longest shot; a directory not on a mount is an
#     error; contact-sheet --scenes: one tile per shot;
#  4. extract-dataset: ceil(duration / every) files per video, each within
#     --size, manifest.csv with its header and one row per file whose times
#     are the frame's user.requested_time / user.actual_time; no progress bar
#     (no \r) when not on a terminal; a tqdm progress line under script(1);
#  5. example.py prints the frame's actual time and writes its bytes, and
#     fails with user.error on a failed frame.
. "$(dirname "$0")/../lib.sh"

require_framefs
SCRIPTS=$REPO_DIR/scripts
SRC=$WORK/src
MNT=$WORK/mnt
OUT=$WORK/out
mkdir -p "$SRC/sub" "$OUT"

# ---------------------------------------------------------------- media

X264=(-c:v libx264 -preset veryfast -g 10 -pix_fmt yuv420p -an)
gen_ok=1
ensure_video "$SRC/black.mp4" -f lavfi -i color=black:size=160x120:rate=10:duration=1 \
    -f lavfi -i testsrc2=size=160x120:rate=10:duration=3 \
    -filter_complex "[0:v][1:v]concat=n=2:v=1" "${X264[@]}" || gen_ok=0
ensure_video "$SRC/sub/bars.mp4" -f lavfi -i testsrc2=size=160x90:rate=10:duration=3 "${X264[@]}" || gen_ok=0
head -c 30000 /dev/urandom >"$SRC/x.mp4" || gen_ok=0
echo "not a video" >"$SRC/notes.txt"
[ "$gen_ok" = 1 ] || exit 1

mount_framefs "$SRC" "$MNT" || exit 1

# ---------------------------------------------------------------- helpers

# run NAME CMD...: run CMD under the watchdog, stdout to $OUT/NAME.out,
# stderr to $OUT/NAME.err; returns its status.
run() {
    local name=$1
    shift
    t "$@" >"$OUT/$name.out" 2>"$OUT/$name.err"
}
snip() { head -c 300 "$1" | tr '\n' ' '; }
# ppm_of FILE OUT: FILE (any image) as a binary 8-bit PPM.
ppm_of() { ffmpeg -nostdin -v error -y -i "$1" -pix_fmt rgb24 -f image2 -c:v ppm "$2"; }
# yavg FILE: mean luma of an image (ffmpeg signalstats), e.g. "123.613".
yavg() {
    ffmpeg -nostdin -v error -i "$1" -vf "signalstats,metadata=mode=print:key=lavfi.signalstats.YAVG:file=-" \
        -f null - | sed -n 's/^lavfi\.signalstats\.YAVG=//p' | head -n 1
}
# dims FILE: "WxH" of an image (ffprobe).
dims() { ffprobe -v error -select_streams v:0 -show_entries stream=width,height -of csv=s=x:p=0 "$1"; }
# tile_sums SHEET COLS TW TH: for each cell of a contact sheet, in reading
# order, "INDEX MD5_OF_ITS_PIXELS MD5_OF_ITS_UPPER_HALF ALL_BLACK(0|1)".
tile_sums() {
    ppm_of "$1" "$OUT/.sheet.ppm" || return 1
    /usr/bin/python3 - "$OUT/.sheet.ppm" "$2" "$3" "$4" <<'EOF'
import hashlib, re, sys
d = open(sys.argv[1], "rb").read()
m = re.match(rb"P6\s+(\d+)\s+(\d+)\s+255\s", d)
W, H, px = int(m.group(1)), int(m.group(2)), d[m.end():]
cols, tw, th = map(int, sys.argv[2:5])
for i in range(cols * (H // th)):
    x, y = i % cols * tw, i // cols * th
    rows = [px[((y + r) * W + x) * 3:((y + r) * W + x + tw) * 3] for r in range(th)]
    full = b"".join(rows)
    print(i, hashlib.md5(full).hexdigest(), hashlib.md5(b"".join(rows[:th // 2])).hexdigest(),
          int(full.count(0) == len(full)))
EOF
}
# ceil_div A B: ceil(A / B) for decimals.
ceil_div() { awk -v a="$1" -v b="$2" 'BEGIN { q = a / b; n = int(q); if (n < q - 1e-9) n++; print n }'; }

# ---------------------------------------------------------------- 1. --help

for s in contact-sheet:VIDEO:OUT.png:--every:--scenes:--cols:--width \
    thumbnails:DIR:OUTDIR:--at:--size \
    extract-dataset:VIDEO_DIR:OUTDIR:--every:--size:--format \
    example.py:FRAME; do
    IFS=: read -r -a words <<<"$s"
    script=${words[0]}
    if [ ! -x "$SCRIPTS/$script" ]; then
        fail "scripts/$script is not an executable file"
        continue
    fi
    if ! run "help-$script" "$SCRIPTS/$script" --help; then
        fail "scripts/$script --help exits non-zero: $(snip "$OUT/help-$script.err")"
        continue
    fi
    missing=""
    for word in "${words[@]:1}"; do
        grep -qF -- "$word" "$OUT/help-$script.out" || missing+=" $word"
    done
    [ -z "$missing" ] && pass "scripts/$script --help exits 0 and names ${words[*]:1}" ||
        fail "scripts/$script --help does not mention:$missing"
done

# ---------------------------------------------------------------- 2. contact-sheet

CS=$SCRIPTS/contact-sheet
mkdir -p "$WORK/unmounted"
for bad in "$WORK/unmounted/black.mp4:is framefs mounted" "$SRC/black.mp4:not a directory" \
    "$MNT:not a framefs video directory" "$MNT/sub:not a framefs video directory" \
    "$MNT/x.mp4:cannot read"; do
    path=${bad%%:*} msg=${bad#*:}
    if run cs-bad "$CS" "$path" "$OUT/bad.png"; then
        fail "contact-sheet $path succeeded (expected an error: $msg)"
    elif grep -qF "$msg" "$OUT/cs-bad.err" && [ ! -e "$OUT/bad.png" ]; then
        pass "contact-sheet $path fails with '$(snip "$OUT/cs-bad.err")'"
    else
        fail "contact-sheet $path: expected an error with '$msg', got: $(snip "$OUT/cs-bad.err")"
    fi
done

# black.mp4 (4 s) every 0.25 s: 16 frames, 5 columns, 80-px tiles -> 4 rows
COLS=5 TW=80 EVERY=0.25
dur=$(xattr_get "$MNT/black.mp4" user.duration)
n_tiles=$(ceil_div "$dur" "$EVERY")
rows=$(((n_tiles + COLS - 1) / COLS))
th=$(xattr_get "$MNT/black.mp4/t=0,w=$TW.png" user.height)
if run cs "$CS" "$MNT/black.mp4" "$OUT/sheet.png" --every "$EVERY" --cols "$COLS" --width "$TW" &&
    run cs-plain "$CS" "$MNT/black.mp4" "$OUT/plain.png" --every "$EVERY" --cols "$COLS" --width "$TW" --no-labels; then
    pass "contact-sheet black.mp4 --every $EVERY --cols $COLS --width $TW (and --no-labels) succeeded"
    want="$((COLS * TW))x$((rows * th))"
    got=$(dims "$OUT/sheet.png")
    [ "$got" = "$want" ] && [ "$(dims "$OUT/plain.png")" = "$want" ] &&
        pass "contact-sheet: the sheet is $got = $COLS x ${TW} by $rows x $th ($n_tiles tiles of a ${dur} s video)" ||
        fail "contact-sheet: the sheet is $got (no labels: $(dims "$OUT/plain.png")), expected $want"
    codec=$(ffprobe -v error -show_entries stream=codec_name -of csv=p=0 "$OUT/sheet.png")
    [ "$codec" = png ] && pass "contact-sheet writes a PNG" || fail "contact-sheet wrote '$codec', not a PNG"

    # the printed tiles: times 0, 0.25, ...; actual time = the frame's user.actual_time
    mapfile -t tiles < <(grep '^tile ' "$OUT/cs.out")
    bad="" differ=0 frames=()
    for i in "${!tiles[@]}"; do
        read -r _ _ req act name <<<"${tiles[$i]}"
        req=${req#t=} act=${act#actual_time=}
        frames+=("$name")
        want_req=$(awk -v i="$i" -v e="$EVERY" 'BEGIN { printf "%.6f", i * e }')
        [ "$(awk -v r="$req" 'BEGIN { printf "%.6f", r }')" = "$want_req" ] || bad+=" tile $i asks t=$req (expected $want_req);"
        x=$(xattr_get "$MNT/black.mp4/$name" user.actual_time)
        [ "$act" = "$x" ] || bad+=" tile $i ($name) printed actual_time $act, user.actual_time is $x;"
        [ "$(us "$act")" -ne "$(us "$req")" ] && differ=$((differ + 1))
    done
    if [ "${#tiles[@]}" -eq "$n_tiles" ] && [ -z "$bad" ] && [ "$differ" -gt 0 ]; then
        pass "contact-sheet: $n_tiles tiles at t=0, $EVERY, ...; each printed actual time is its frame's user.actual_time ($differ differ from the requested time)"
    else
        fail "contact-sheet: ${#tiles[@]} tiles (expected $n_tiles), $differ with actual != requested:$bad"
    fi

    # pixels: tile i of the unlabelled sheet against the mount's PPM of its frame
    mapfile -t plain < <(tile_sums "$OUT/plain.png" "$COLS" "$TW" "$th")
    mapfile -t lab < <(tile_sums "$OUT/sheet.png" "$COLS" "$TW" "$th")
    nf=${#frames[@]} same=0 black=0 labelled=0 top=0
    for i in "${!frames[@]}"; do
        t cat "$MNT/black.mp4/${frames[$i]%.png}.ppm" >"$OUT/frame.ppm" || fail "cannot read ${frames[$i]%.png}.ppm"
        sum=$(tail -c $((TW * th * 3)) "$OUT/frame.ppm" | md5sum | cut -d' ' -f1)
        read -r _ pfull ptop _ <<<"${plain[$i]-}"
        read -r _ lfull ltop _ <<<"${lab[$i]-}"
        [ "$pfull" = "$sum" ] && same=$((same + 1))
        [ "$lfull" != "$pfull" ] && labelled=$((labelled + 1))
        [ "$ltop" = "$ptop" ] && top=$((top + 1))
    done
    for ((i = nf; i < ${#plain[@]}; i++)); do
        read -r _ _ _ b <<<"${plain[$i]}"
        [ "$b" = 1 ] && black=$((black + 1))
    done
    empty=$((${#plain[@]} - nf))
    [ "$same" = "$nf" ] && pass "contact-sheet --no-labels: all $nf tiles are pixel-identical to the frames they name (PPM from the mount)" ||
        fail "contact-sheet --no-labels: $same of $nf tiles equal their frame"
    [ "$black" = "$empty" ] && [ "$empty" -eq $((rows * COLS - nf)) ] && pass "contact-sheet: the $empty cells after the last frame are black" ||
        fail "contact-sheet: $black of the $empty cells after the last frame are black (expected $((rows * COLS - nf)))"
    [ "$labelled" = "$nf" ] && [ "$top" = "$nf" ] &&
        pass "contact-sheet: every tile carries a label (all $nf differ from the unlabelled tile, each only in its lower half)" ||
        fail "contact-sheet: $labelled of $nf tiles differ from the unlabelled sheet, $top have an unchanged upper half"

    # The label is the actual time: black.mp4's first second is black, so
    # tiles there differ only by their labels.  Another sheet, every 0.2 s,
    # asks t=0.2 where this one asked t=0.25 (and so on): both get the frame
    # at 0.2 s.  Labelled tiles of one actual time must be identical whatever
    # was requested; tiles of one picture but other actual times must not.
    if run cs-b "$CS" "$MNT/black.mp4" "$OUT/sheet-b.png" --every 0.2 --cols "$COLS" --width "$TW"; then
        mapfile -t labb < <(tile_sums "$OUT/sheet-b.png" "$COLS" "$TW" "$th")
        mapfile -t tiles_b < <(grep '^tile ' "$OUT/cs-b.out")
        eq=0 ne=0 bad=""
        for i in "${!tiles[@]}"; do
            read -r _ _ ri ai _ <<<"${tiles[$i]}"
            read -r _ pfi _ <<<"${plain[$i]-}"
            read -r _ lfi _ <<<"${lab[$i]-}"
            for j in "${!tiles_b[@]}"; do   # one actual time, other requests
                read -r _ _ rj aj _ <<<"${tiles_b[$j]}"
                read -r _ lfj _ <<<"${labb[$j]-}"
                [ "${ai#*=}" = "${aj#*=}" ] && [ "${ri#*=}" != "${rj#*=}" ] || continue
                if [ "$lfi" = "$lfj" ]; then eq=$((eq + 1)); else bad+=" $ri and $rj (both ${ai#*=}) differ;"; fi
            done
            for ((j = i + 1; j < nf; j++)); do   # one picture, other actual times
                read -r _ pfj _ <<<"${plain[$j]-}"
                read -r _ lfj _ <<<"${lab[$j]-}"
                [ "$pfi" = "$pfj" ] || continue
                if [ "$lfi" != "$lfj" ]; then ne=$((ne + 1)); else bad+=" tiles $i and $j are identical;"; fi
            done
        done
        [ -z "$bad" ] && [ "$eq" -ge 2 ] && [ "$ne" -ge 3 ] &&
            pass "contact-sheet labels show user.actual_time: $eq tile pairs of one actual time asked at other times are identical, $ne pairs of identical black frames with other actual times are not" ||
            fail "contact-sheet labels: $eq identical pairs (want >= 2), $ne distinct pairs (want >= 3):$bad"
    else
        fail "contact-sheet black.mp4 --every 0.2: $(snip "$OUT/cs-b.err")"
    fi
else
    fail "contact-sheet black.mp4: $(snip "$OUT/cs.err") $(snip "$OUT/cs-plain.err")"
fi

# default --every: duration/16 rounded up to a nice step (3 s -> 0.1875 -> 0.2: 15 tiles, 4x4)
if run cs-default "$CS" "$MNT/sub/bars.mp4" "$OUT/default.png" --width 64; then
    ntile=$(grep -c '^tile ' "$OUT/cs-default.out")
    got=$(dims "$OUT/default.png")
    th2=$(xattr_get "$MNT/sub/bars.mp4/t=0,w=64.png" user.height)
    grep -q "every 0.2 s" "$OUT/cs-default.out" && [ "$ntile" -eq 15 ] && [ "$got" = "256x$((4 * th2))" ] &&
        pass "contact-sheet defaults on a 3 s video: every 0.2 s, 15 tiles, --cols 4: $got" ||
        fail "contact-sheet defaults: $ntile tiles, $got (expected every 0.2 s, 15 tiles, 256x$((4 * th2))): $(tail -n 1 "$OUT/cs-default.out")"
else
    fail "contact-sheet sub/bars.mp4 with defaults: $(snip "$OUT/cs-default.err")"
fi

# --scenes: one tile per shot; black.mp4 has two (the black second, then
# testsrc2), at t=0 and t=1.
if run cs-sc "$CS" "$MNT/black.mp4" "$OUT/scenes.png" --scenes --width 64 --cols 2; then
    tiles=$(awk '/^tile / { print $3 }' "$OUT/cs-sc.out" | tr '\n' ' ')
    got=$(dims "$OUT/scenes.png")
    th3=$(xattr_get "$MNT/black.mp4/t=0,w=64.png" user.height)
    [ "$tiles" = "t=0 t=1 " ] && [ "$got" = "128x$th3" ] && grep -q "one per shot" "$OUT/cs-sc.out" &&
        pass "contact-sheet --scenes: one tile per shot ($tiles), $got" ||
        fail "contact-sheet --scenes: tiles '$tiles', $got (want t=0 t=1, 128x$th3): $(tail -n 1 "$OUT/cs-sc.out")"
else
    fail "contact-sheet --scenes: $(snip "$OUT/cs-sc.err")"
fi
if run cs-sc-bad "$CS" "$MNT/black.mp4" "$OUT/x.png" --scenes --every 1; then
    fail "contact-sheet --scenes --every 1 succeeded"
else
    pass "contact-sheet --scenes --every 1 is refused: $(snip "$OUT/cs-sc-bad.err")"
fi

# ---------------------------------------------------------------- 3. thumbnails

SIZE=100
if run th "$SCRIPTS/thumbnails" "$MNT" "$OUT/thumbs" --size "$SIZE" --at 10%; then
    pass "thumbnails $MNT --at 10% exits 0 with an unreadable video in it"
else
    fail "thumbnails exited non-zero: $(snip "$OUT/th.err")"
fi
got=$(cd "$OUT/thumbs" 2>/dev/null && find . -type f | sort | tr '\n' ' ')
[ "$got" = "./black.mp4.jpg ./sub/bars.mp4.jpg " ] &&
    pass "thumbnails: one JPEG per readable video, recursively: $got" ||
    fail "thumbnails wrote: '$got' (expected ./black.mp4.jpg ./sub/bars.mp4.jpg)"
grep -q 'x\.mp4.*skipped' "$OUT/th.err" && ! grep -q 'x\.mp4' "$OUT/th.out" &&
    pass "thumbnails reports x.mp4 as skipped: $(grep 'x\.mp4' "$OUT/th.err")" ||
    fail "thumbnails does not report x.mp4 as skipped: $(snip "$OUT/th.err")"
bad=""
for v in black.mp4 sub/bars.mp4; do
    f=$OUT/thumbs/$v.jpg
    [ -s "$f" ] || { bad+=" $v: no thumbnail;"; continue; }
    codec=$(ffprobe -v error -show_entries stream=codec_name -of csv=p=0 "$f")
    d=$(dims "$f")
    [ "$codec" = mjpeg ] || bad+=" $v: $codec, not a JPEG;"
    [ "${d%x*}" -le "$SIZE" ] && [ "${d#*x}" -le "$SIZE" ] || bad+=" $v: $d exceeds $SIZE;"
    name=$(awk -v v="$v:" '$1 == v { print $2 }' "$OUT/th.out")
    if [ -z "$name" ]; then
        bad+=" $v: not in the report;"
    elif ! t cmp -s "$f" "$MNT/$v/$name"; then
        bad+=" $v: the thumbnail is not $name;"
    fi
done
[ -z "$bad" ] && pass "thumbnails: each is a JPEG within ${SIZE}x$SIZE, the frame the report names" ||
    fail "thumbnails:$bad"
name=$(awk '$1 == "black.mp4:" { print $2 }' "$OUT/th.out")
t cat "$MNT/black.mp4/t=0%,w=$SIZE,h=$SIZE.jpg" >"$OUT/black0.jpg"
t cat "$MNT/black.mp4/t=10%,w=$SIZE,h=$SIZE.jpg" >"$OUT/black10.jpg"
y0=$(yavg "$OUT/black0.jpg") y10=$(yavg "$OUT/black10.jpg") yt=$(yavg "$OUT/thumbs/black.mp4.jpg")
act=$(xattr_get "$MNT/black.mp4/$name" user.actual_time)
if lt "${y0:-999}" 16 && lt "${y10:-999}" 16 && lt 40 "${yt:-0}" && [ "$(us "${act:-0}")" -ge 1000000 ]; then
    pass "thumbnails skips black frames: black.mp4 at 0% and 10% has luma $y0 and $y10, its thumbnail ($name, actual time $act) $yt"
else
    fail "thumbnails: black.mp4 luma at 0% $y0, 10% $y10 (expected < 16), thumbnail $name (actual $act) $yt (expected > 40)"
fi
grep -q '^black\.mp4:.*skipped: t=10% black' "$OUT/th.out" && grep -q '^sub/bars\.mp4: t=10%,' "$OUT/th.out" &&
    pass "thumbnails reports the positions: $(grep '^black' "$OUT/th.out")" ||
    fail "thumbnails' report does not say 10% of black.mp4 was black and 10% of bars.mp4 used: $(snip "$OUT/th.out")"
if run th-bad "$SCRIPTS/thumbnails" "$SRC" "$OUT/thumbs-bad"; then
    fail "thumbnails on $SRC (not a mount) succeeded"
else
    grep -q "not on a framefs mount" "$OUT/th-bad.err" && pass "thumbnails on a directory not on a mount fails: $(snip "$OUT/th-bad.err")" ||
        fail "thumbnails on $SRC: unclear error: $(snip "$OUT/th-bad.err")"
fi
# By shot (the default): black.mp4's shots are its black second and the 3 s
# of testsrc2 after it; the thumbnail is the middle of the longer, t=2.5.
if run th-sc "$SCRIPTS/thumbnails" "$MNT" "$OUT/thumbs-sc" --size "$SIZE"; then
    name=$(awk '$1 == "black.mp4:" { print $2 }' "$OUT/th-sc.out")
    yt=$(yavg "$OUT/thumbs-sc/black.mp4.jpg")
    if [ "$name" = "t=2.5,w=$SIZE,h=$SIZE.jpg" ] && grep -q '^black\.mp4: .*(the middle of shot \[1, 4) s, the longest of 2)' "$OUT/th-sc.out" &&
        lt 40 "${yt:-0}" && t cmp -s "$OUT/thumbs-sc/black.mp4.jpg" "$MNT/black.mp4/$name"; then
        pass "thumbnails by shot: black.mp4's is the middle of its longest shot, luma $yt: $(grep '^black' "$OUT/th-sc.out")"
    else
        fail "thumbnails by shot: black.mp4 got '$name' (luma $yt), want t=2.5 from shot [1, 4): $(snip "$OUT/th-sc.out")"
    fi
else
    fail "thumbnails (by shot) exited non-zero: $(snip "$OUT/th-sc.err")"
fi

# ---------------------------------------------------------------- 4. extract-dataset

EX=$SCRIPTS/extract-dataset
EVERY=0.8 SIZE=50 DS=$OUT/ds
if run ds "$EX" "$MNT" "$DS" --every "$EVERY" --size "$SIZE" --format jpg; then
    pass "extract-dataset --every $EVERY --size $SIZE --format jpg exits 0: $(tail -n 1 "$OUT/ds.out")"
else
    fail "extract-dataset exited non-zero: $(snip "$OUT/ds.err")"
fi
bad="" total=0
for v in black.mp4 sub/bars.mp4; do
    d=$(xattr_get "$MNT/$v" user.duration)
    want=$(ceil_div "$d" "$EVERY")
    n=$(find "$DS/$v" -maxdepth 1 -type f -name '*.jpg' 2>/dev/null | wc -l)
    total=$((total + n))
    [ "$n" -eq "$want" ] || bad+=" $v: $n files, expected ceil($d / $EVERY) = $want;"
done
[ -e "$DS/x.mp4" ] && bad+=" x.mp4 has a directory;"
[ -z "$bad" ] && pass "extract-dataset: ceil(duration / $EVERY) files per video ($total), none for x.mp4" ||
    fail "extract-dataset:$bad"
bad=""
while IFS= read -r f; do
    d=$(dims "$f")
    [ "${d%x*}" -ge 1 ] && [ "${d%x*}" -le "$SIZE" ] && [ "${d#*x}" -ge 1 ] && [ "${d#*x}" -le "$SIZE" ] || bad+=" ${f#"$DS"/}: $d;"
    [ "$(ffprobe -v error -show_entries stream=codec_name -of csv=p=0 "$f")" = mjpeg ] || bad+=" ${f#"$DS"/}: not a JPEG;"
done < <(find "$DS" -type f -name '*.jpg')
[ -z "$bad" ] && pass "extract-dataset: every file is a JPEG within ${SIZE}x$SIZE" || fail "extract-dataset: too big or not JPEG:$bad"

# the manifest: header, one row per file, times from the frame's attributes
if [ -s "$DS/manifest.csv" ]; then
    [ "$(head -n 1 "$DS/manifest.csv")" = "video,requested_time,actual_time,file" ] &&
        pass "extract-dataset: manifest.csv has the header video,requested_time,actual_time,file" ||
        fail "extract-dataset: manifest header is '$(head -n 1 "$DS/manifest.csv")'"
    /usr/bin/python3 -c '
import csv, sys
for r in list(csv.reader(open(sys.argv[1])))[1:]:
    print("\t".join(r))' "$DS/manifest.csv" >"$OUT/manifest.tsv"
    bad="" rows=0 k=0 prev=""
    while IFS=$'\t' read -r video req act file; do
        rows=$((rows + 1))
        [ "$video" = "$prev" ] || k=0
        prev=$video
        [ -f "$DS/$file" ] || bad+=" row $rows: $file missing;"
        [ "$(dirname "$file")" = "$video" ] || bad+=" row $rows: $file not under $video/;"
        frame=$MNT/$video/$(basename "$file")
        x=$(xattr_get "$frame" user.actual_time)
        [ "$act" = "$x" ] || bad+=" row $rows: actual_time $act, user.actual_time $x;"
        x=$(xattr_get "$frame" user.requested_time)
        w=$(awk -v k="$k" -v e="$EVERY" 'BEGIN { printf "%.6f", k * e }')
        [ "$req" = "$x" ] && [ "$req" = "$w" ] || bad+=" row $rows: requested_time $req, user.requested_time $x, expected $w;"
        k=$((k + 1))
    done <"$OUT/manifest.tsv"
    nfiles=$(find "$DS" -type f -name '*.jpg' | wc -l)
    uniq=$(cut -f4 "$OUT/manifest.tsv" | sort -u | wc -l)
    [ "$rows" -eq "$nfiles" ] && [ "$uniq" -eq "$rows" ] && [ -z "$bad" ] &&
        pass "extract-dataset: manifest has one row per file ($rows), requested_time k*$EVERY and actual_time equal to the frame's user.* attributes" ||
        fail "extract-dataset: manifest has $rows rows ($uniq distinct files) for $nfiles files:$bad"
else
    fail "extract-dataset wrote no manifest.csv"
fi
if grep -q $'\r' "$OUT/ds.out" "$OUT/ds.err"; then
    fail "extract-dataset draws a progress bar (\\r) with stdout/stderr not a terminal: $(snip "$OUT/ds.err")"
else
    pass "extract-dataset: no progress bar when not on a terminal ($(wc -l <"$OUT/ds.out") line on stdout, $(wc -l <"$OUT/ds.err") on stderr)"
fi
grep -q 'x\.mp4.*skipped' "$OUT/ds.err" && pass "extract-dataset reports x.mp4 as skipped" ||
    fail "extract-dataset does not report x.mp4: $(snip "$OUT/ds.err")"
if command -v script >/dev/null; then
    # script(1) gives the command a pty: tqdm draws "NN% | n/N [00:00<00:00, R frame/s]"
    run ds-tty script -qec "$(printf '%q ' "$EX" "$MNT" "$OUT/ds-tty" --every 0.25 --size 32)" /dev/null
    st=$?
    if [ "$st" -eq 0 ] && grep -qE $'\r'' *[0-9]+%.*[0-9]+/[0-9]+ \[[0-9:]+<[0-9:?]+, *[0-9.?]+ ?frame/s\]' "$OUT/ds-tty.out"; then
        pass "extract-dataset on a terminal shows a progress bar: $(tr '\r' '\n' <"$OUT/ds-tty.out" | grep -E '[0-9]+/[0-9]+ \[' | tail -n 1)"
    else
        fail "extract-dataset under script -qc (status $st) shows no tqdm progress line: $(tr '\r' '|' <"$OUT/ds-tty.out" | head -c 300)"
    fi
else
    skip "extract-dataset progress bar: util-linux script is not installed"
fi
if run ds-bad "$EX" "$WORK/unmounted" "$OUT/ds-bad"; then
    fail "extract-dataset on an empty directory not on a mount succeeded"
else
    grep -q "not on a framefs mount" "$OUT/ds-bad.err" && pass "extract-dataset on a directory not on a mount fails: $(snip "$OUT/ds-bad.err")" ||
        fail "extract-dataset on $WORK/unmounted: unclear error: $(snip "$OUT/ds-bad.err")"
fi

# ---------------------------------------------------------------- 5. example.py

frame="$MNT/black.mp4/t=1.25.png"
act=$(xattr_get "$frame" user.actual_time)
if run py "$SCRIPTS/example.py" "$frame" "$OUT/example.png"; then
    grep -qF "$act" "$OUT/py.out" && [ "$act" = 1.200000 ] && t cmp -s "$frame" "$OUT/example.png" &&
        pass "example.py prints the actual time ($(cat "$OUT/py.out")) and writes the frame" ||
        fail "example.py: printed '$(snip "$OUT/py.out")' (user.actual_time $act), or wrote other bytes"
else
    fail "example.py $frame: $(snip "$OUT/py.err")"
fi
if run py-bad "$SCRIPTS/example.py" "$MNT/black.mp4/t=99.png" "$OUT/none.png"; then
    fail "example.py on a frame past the end succeeded"
else
    grep -q "past the end" "$OUT/py-bad.err" && [ ! -e "$OUT/none.png" ] &&
        pass "example.py on a failed frame exits non-zero with user.error: $(snip "$OUT/py-bad.err")" ||
        fail "example.py on a failed frame: $(snip "$OUT/py-bad.err")"
fi

mount_alive "$MNT" >/dev/null && pass "framefs is still serving $MNT"
unmount_framefs "$MNT"
[ "$(failures)" -eq 0 ]
