#!/usr/bin/env bash
# The scenes/ view (README, "Views"): one frame per shot, from the scene
# scores of one decoding pass.  Sources made here by the ffmpeg CLI, with
# grain over them (noise=alls=6, changing every frame):
#   - shots4.mp4: four shots of different content (testsrc2, smptebars,
#     mandelbrot, cellauto), 2 s each, joined by hard cuts at 2, 4 and 6 s
#     (concat, re-encoded H.264, GOP 48, so cuts fall mid-GOP);
#   - fade.mp4: testsrc2 cross-fading into smptebars over 2 s (xfade);
#   - long.mp4: one 6 s shot of a moving pattern.
# Checks: shots4 lists exactly 4 entries, each within one frame of its cut,
# and each entry's pixels are the oracle's first frame of its shot; fade and
# long list 1; threshold= and min= change the list as they say; malformed
# scenes names are ENOENT; the pass is one decode, made once (a second
# listing with other keys decodes nothing); info.json lists the times once
# known; a listing of a slow 1080p video is cancelled by user.cancel within
# the limit and the pass stops (framefs's CPU falls idle).
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../lib_robust.sh"

require_framefs
command -v setfattr >/dev/null || { fail "$TEST_NAME: setfattr not installed"; exit 1; }

SRC=$WORK/src
MNT=$WORK/mnt
mkdir -p "$SRC"
: "${CANCEL_LIMIT_MS:=500}"

gen() {   # OUT FFMPEG_ARGS...
    local out=$1
    shift
    if ! ffmpeg -nostdin -hide_banner -loglevel error -y "$@" "$out" </dev/null 2>"$WORK/ffmpeg.err"; then
        fail "ffmpeg could not make $(basename "$out"): $(head -c 300 "$WORK/ffmpeg.err" | tr '\n' ' ')"
        exit 1
    fi
}
H264=(-c:v libx264 -preset veryfast -g 48 -pix_fmt yuv420p -an)
GRAIN=noise=alls=6:allf=t
gen "$SRC/shots4.mp4" -f lavfi -i testsrc2=size=320x240:rate=25:duration=2 \
    -f lavfi -i smptebars=size=320x240:rate=25:duration=2 \
    -f lavfi -i mandelbrot=size=320x240:rate=25 -f lavfi -i cellauto=size=320x240:rate=25 \
    -filter_complex "[2]trim=duration=2,setpts=PTS-STARTPTS[m];[3]trim=duration=2,setpts=PTS-STARTPTS[c];[0][1][m][c]concat=n=4:v=1:a=0,format=yuv420p,$GRAIN" \
    "${H264[@]}"
gen "$SRC/fade.mp4" -f lavfi -i testsrc2=size=320x240:rate=25:duration=4 \
    -f lavfi -i smptebars=size=320x240:rate=25:duration=4 \
    -filter_complex "[0][1]xfade=transition=fade:duration=2:offset=1,format=yuv420p,$GRAIN" "${H264[@]}"
gen "$SRC/long.mp4" -f lavfi -i testsrc2=size=320x240:rate=25:duration=6 -vf "$GRAIN" "${H264[@]}"
slow=$(ensure_slow_video) || exit 1
ln -f "$slow" "$SRC/slow.mp4" 2>/dev/null || cp "$slow" "$SRC/slow.mp4"

mount_framefs "$SRC" "$MNT" || exit 1
PID=$MOUNT_PID

# listed DIR: the entries of DIR, one line.
listed() { t ls "$1" 2>"$WORK/ls.err" | tr '\n' ' ' | sed 's/ $//'; }

# ---- four shots
d0=$(mount_stat "$MNT" decodes)
got=$(listed "$MNT/shots4.mp4/scenes")
d1=$(mount_stat "$MNT" decodes)
mapfile -t names < <(t ls "$MNT/shots4.mp4/scenes")
[ "${#names[@]}" = 4 ] && pass "shots4.mp4/scenes/ lists 4 entries: $got" ||
    fail "shots4.mp4/scenes/ lists ${#names[@]} entries, want 4: '$got' $(head -c 200 "$WORK/ls.err")"
oracle=$(oracle_of "$SRC/shots4.mp4") || exit 1
start=$(oracle_header "$oracle" start_time)
k=0
for cut in 0 2 4 6; do
    name=${names[$k]:-none}
    tt=${name#t=}
    tt=${tt%.png}
    if [[ $tt =~ ^[0-9.]+$ ]] && awk -v a="$tt" -v b="$cut" 'BEGIN { d = a - b; exit !(d < 0.04 + 1e-6 && d > -0.04 - 1e-6) }'; then
        pass "shot $((k + 1)): $name, within one frame (40 ms) of its cut at $cut s"
    else
        fail "shot $((k + 1)): '$name', want within 40 ms of $cut s"
    fi
    # The entry's frame is the first of its shot: the oracle's frame at the cut.
    idx=$(echo "x x $cut 0 0" | oracle_expect "$oracle" | cut -d' ' -f4)
    case $idx in
    FAIL | AMBIG | "") fail "shot $((k + 1)): the oracle has no frame at $cut s ($idx)" ;;
    *) frame_is "shot $((k + 1)): scenes/$name" "$MNT/shots4.mp4/scenes/$name" "$oracle" "$idx" ;;
    esac
    k=$((k + 1))
done
[ $((d1 - d0)) = 1 ] && pass "the listing cost one decoding pass (decodes $d0 -> $d1)" ||
    fail "the listing cost $((d1 - d0)) decodes ($d0 -> $d1), want one pass"

# ---- the keys
d1=$(mount_stat "$MNT" decodes)
got=$(listed "$MNT/shots4.mp4/scenes,threshold=1")
[ "$got" = "t=0.png" ] && pass "scenes,threshold=1/: only the first shot ($got): no score passes 1" ||
    fail "scenes,threshold=1/: '$got', want t=0.png"
got=$(listed "$MNT/shots4.mp4/scenes,min=3")
[ "$got" = "${names[0]} ${names[2]}" ] && pass "scenes,min=3/: shots of at least 3 s: $got" ||
    fail "scenes,min=3/: '$got', want '${names[0]} ${names[2]}'"
got=$(listed "$MNT/shots4.mp4/scenes,min=0,threshold=0.3")
[ "$got" = "${names[*]}" ] && pass "scenes,min=0,threshold=0.3/ (keys in any order): the same 4 as the defaults" ||
    fail "scenes,min=0,threshold=0.3/: '$got', want '${names[*]}'"
d2=$(mount_stat "$MNT" decodes)
[ "$d2" = "$d1" ] && pass "three more listings with other keys decoded nothing (the scores are kept with the video)" ||
    fail "the listings with other keys decoded $((d2 - d1)) times"
for bad in "scenes,threshold=2" "scenes,threshold=x" "scenes,threshold=" "scenes,foo=1" "scenes,min=-1" \
    "scenesx" "scenes," "scenes,threshold=0.3,threshold=0.4" "scenes,min=1,min=2"; do
    if [ -e "$MNT/shots4.mp4/$bad" ]; then
        fail "$bad/ exists (a malformed scenes name must be ENOENT)"
    else
        [ "$(errno_of stat "$MNT/shots4.mp4/$bad")" = "No such file or directory" ] &&
            pass "$bad/: ENOENT" || fail "$bad/: $(errno_of stat "$MNT/shots4.mp4/$bad")"
    fi
done

# ---- a fade and one long shot: one entry each
for v in fade long; do
    got=$(listed "$MNT/$v.mp4/scenes")
    [ "$got" = "t=0.png" ] && pass "$v.mp4/scenes/: one shot ($got)" || fail "$v.mp4/scenes/: '$got', want t=0.png"
done

# ---- info.json
sleep 1.1                     # the kernel's entry timeout for info.json (1 s)
if /usr/bin/python3 - "$MNT/shots4.mp4/info.json" "$MNT/long.mp4/info.json" >"$WORK/json.out" 2>&1 <<'EOF'
import json, sys
a = json.load(open(sys.argv[1]))["scenes"]
b = json.load(open(sys.argv[2]))["scenes"]
assert len(a) == 4 and all(abs(x - c) < 0.041 for x, c in zip(a, [0, 2, 4, 6])), a
assert b == [0.0], b
print(a, b)
EOF
then
    pass "info.json lists the shots once known: $(cat "$WORK/json.out")"
else
    fail "info.json scenes: $(head -c 400 "$WORK/json.out")"
fi
grep -q '"scenes"' "$MNT/slow.mp4/info.json" && fail "slow.mp4/info.json has scenes before any scenes/ listing" ||
    pass "slow.mp4/info.json has no scenes before they are known"

# ---- cancelled: a listing of a slow 1080p video (its pass decodes 30 s)
( t ls "$MNT/slow.mp4/scenes" >"$WORK/slow.ls" 2>"$WORK/slow.err"; echo "$? $(now_ms)" >"$WORK/slow.end" ) &
lspid=$!
sleep 1
if [ -e "$WORK/slow.end" ]; then
    fail "the slow listing ended before the cancel: $(cat "$WORK/slow.end") $(head -c 200 "$WORK/slow.err")"
else
    c0=$(now_ms)
    setfattr -n user.cancel -v all "$MNT" || fail "setfattr -n user.cancel -v all: status $?"
    wait "$lspid"
    read -r st end <"$WORK/slow.end"
    ms=$((end - c0))
    [ "$st" != 0 ] && [ "$ms" -le "$CANCEL_LIMIT_MS" ] &&
        pass "ls slow.mp4/scenes/ cancelled after $ms ms (status $st: $(head -c 80 "$WORK/slow.err"))" ||
        fail "ls slow.mp4/scenes/: status $st after $ms ms (want a failure within $CANCEL_LIMIT_MS ms)"
    sleep 0.3
    cpu=$(cpu_over "$PID" 1)
    lt "$cpu" 0.3 && pass "the pass stopped: framefs used $cpu s of CPU in the second after" ||
        fail "framefs used $cpu s of CPU in the second after the cancel (the pass goes on?)"
fi
mount_alive "$MNT" || exit 1
unmount_framefs "$MNT"

[ "$(failures)" -eq 0 ]
