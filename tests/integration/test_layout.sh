#!/usr/bin/env bash
# The house's floors (README, "How the code is laid out"; scripts/layout
# states the order): the tree as it is has no include from a floor above, no
# FFmpeg or FUSE in cache/, no FUSE in decoder/, and (from nm of this build's
# objects) no call circle between files and no call up a floor.  Then the
# check itself is shown to fail on a copy of the tree with each kind of fault
# planted in it.
. "$(dirname "$0")/../lib.sh"

LAYOUT=$REPO_DIR/scripts/layout

"$LAYOUT" "$REPO_DIR" "$BUILD" >"$WORK/layout.out" 2>&1
st=$?
while read -r line; do note "$line"; done <"$WORK/layout.out"
[ "$st" = 0 ] && grep -q '^layout: ok$' "$WORK/layout.out" && grep -q 'circles: none' "$WORK/layout.out" &&
    pass "the tree keeps its floors: no include or call up a floor, no call circle" ||
    fail "scripts/layout finds faults in the tree (exit $st): $(grep -v '^layout: floors' "$WORK/layout.out" | head -c 600)"

# ---- the check fails on planted faults
T=$WORK/tree
mkdir -p "$T/scripts" "$T/build"
cp -r "$REPO_DIR/fs" "$REPO_DIR/decoder" "$REPO_DIR/cache" "$T/"
cp "$LAYOUT" "$T/scripts/"
printf '#include <libavcodec/avcodec.h>\nint planted_a;\n' >"$T/cache/planted_ffmpeg.c"
printf '#include <fuse_lowlevel.h>\nint planted_b;\n' >"$T/cache/planted_fuse.c"
printf '#include <fuse_lowlevel.h>\nint planted_c;\n' >"$T/decoder/image/planted_fuse.c"
printf '#include "../image/plan.h"\n' >"$T/decoder/media/planted_up.h"
printf '#include "../decoder/decoder.h"\nint planted_d;\n' >"$T/cache/planted_up.c"
# Calls: a circle inside decoder/ (x <-> y) and a call from media/ up to
# image/, as objects of the planted sources only.
printf 'void planted_y(void);\nvoid planted_x(void) { planted_y(); }\n' >"$T/decoder/planted_x.c"
printf 'void planted_x(void);\nvoid planted_y(void) { planted_x(); }\n' >"$T/decoder/planted_y.c"
printf 'void planted_z(void) { }\n' >"$T/decoder/image/planted_z.c"
printf 'void planted_z(void);\nvoid planted_w(void) { planted_z(); }\n' >"$T/decoder/media/planted_w.c"
for f in decoder/planted_x decoder/planted_y decoder/image/planted_z decoder/media/planted_w; do
    mkdir -p "$T/build/${f%/*}"
    cc -c -o "$T/build/$f.o" "$T/$f.c" || fail "cc $f.c"
done
"$T/scripts/layout" "$T" "$T/build" >"$WORK/planted.out" 2>/dev/null
st=$?
[ "$st" = 1 ] && pass "with planted faults, scripts/layout exits 1" || fail "with planted faults, scripts/layout exits $st"
expect_fault() {   # ERE DESCRIPTION
    if grep -qE -- "$1" "$WORK/planted.out"; then
        pass "it names $2"
    else
        fail "it does not name $2 (/$1/): $(head -c 800 "$WORK/planted.out")"
    fi
}
expect_fault '^layout: cache/planted_ffmpeg.c includes <libavcodec/avcodec.h>' "FFmpeg in cache/"
expect_fault '^layout: cache/planted_fuse.c includes <fuse_lowlevel.h>' "FUSE in cache/"
expect_fault '^layout: decoder/image/planted_fuse.c includes <fuse_lowlevel.h>' "FUSE in decoder/"
expect_fault '^layout: decoder/media/planted_up.h includes "../image/plan.h", from decoder/image/, a floor above' "an include up a floor inside decoder/"
expect_fault '^layout: cache/planted_up.c includes "../decoder/decoder.h", from decoder/, a floor above' "an include from cache/ up to decoder/"
expect_fault '^layout: call circles between files, through: decoder/planted_x.c decoder/planted_y.c$' "a call circle between two files"
expect_fault '^layout: decoder/media/planted_w.c calls decoder/image/planted_z.c, a floor above' "a call up a floor"
n=$(grep -cE '^layout: ([a-z/_.]+ (includes [<"]|calls )|call circles)' "$WORK/planted.out")
[ "$n" = 7 ] && pass "and nothing else: 7 faults for the 7 planted" ||
    fail "$n faults for the 7 planted: $(head -c 800 "$WORK/planted.out")"

[ "$(failures)" -eq 0 ]
