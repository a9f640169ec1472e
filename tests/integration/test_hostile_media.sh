#!/usr/bin/env bash
# Hostile media stays inside SOURCE_DIR (SPEC "The tree": paths can never
# reach outside SOURCE_DIR), and hostile timestamps get answers.
#
#   1. Reference files named like videos: HLS playlists (#EXTM3U) whose
#      segment is an absolute path, a relative ../ path, a file:// URL, or an
#      in-source symlink leading outside; DASH manifests (a real ffmpeg -f dash
#      output in an outside directory, its BaseURL or its SegmentTemplate made
#      absolute); ffconcat scripts (an absolute path, and an in-source symlink
#      leading outside); an image2 sequence pattern (a file literally named
#      img%03d.png, on a mount with video_ext=png, its siblings img001.png...
#      links to outside images).  Each: the video directory says
#      user.result=failed with a user.error matching /refers to other files/,
#      has no user.codec / user.duration / size of the outside video, its
#      t=0.png fails (EIO), ls of it returns promptly, and an inotify watch
#      (tests/tools/openwatch) on the outside directories sees no open at all.
#   2. A video already indexed and read, then replaced by a symlink to an
#      outside video: its frames are ENOENT or fail, never the outside
#      video's pixels, and nothing outside is opened.  Symlinks that stay
#      inside (relative, absolute) serve the oracle's frames.
#   3. Symlinks to /dev/zero and /dev/null, a FIFO inside SOURCE_DIR, a link
#      to it and a link to an outside FIFO, all named like videos: every
#      lookup answers ENOENT or a failed result within 2 s; nothing hangs; the
#      mount stays up.  A race: a video swapped for a FIFO right after a frame
#      lookup started: the lookup ends, either way.
#   4. Hostile timestamps made with the ffmpeg CLI (tiny H.264 and MPEG-4 in
#      MP4, MKV, TS, NUT): pts scaled by 1e9, negative, duplicated,
#      non-monotonic, zero/negative durations, -output_ts_offset 9e9 and -5,
#      time scales 1 and 2e9, pts near 2^62 and INT64_MAX.  Each: the mount
#      survives, the directory answers (succeeded with sane attributes, or
#      failed with a specific user.error), t=0, 0.5, 1e18 and a t past the end
#      give a readable PNG or a clean failure within the op timeout (a t at or
#      past user.duration must fail), and where the CLI oracle is unambiguous
#      (strictly increasing pts) one frame is compared with it.
#   5. ../shared/media/ax__sample.flv (30 frames at 30 fps whose packets
#      claim 1 ms durations): user.duration 1.000000, t=0.99 is the last frame.
# With a sanitizer build, a "runtime error:" in the mount's log is a failure
# (lib.sh / run-all.sh scan it; this test names the file that caused it).
: "${OP_TIMEOUT:=15}"
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../lib_robust.sh"

require_framefs

OUT=$WORK/outside
SRC=$WORK/src
SRCI=$WORK/src_img2
MNT=$WORK/mnt
MNTI=$WORK/mnt_img2
HM=$EXTRA_MEDIA/hostile-v1          # generated media, cached across runs
SHARED_MEDIA=${SHARED_MEDIA:-$REPO_DIR/../shared/media}
: "${HM_PROMPT_MS:=2000}"           # "promptly"
mkdir -p "$OUT/dash" "$SRC/sub" "$SRC/hostile" "$SRCI" "$HM"
OUT=$(cd "$OUT" && pwd -P)
SRC=$(cd "$SRC" && pwd -P)

# ---------------------------------------------------------------- cleanup

# The inotify watcher (openwatch running a waiting shell) and any reader
# framefs may have left blocked on a FIFO must not outlive the test: stop the
# watcher and give every FIFO a writer (which releases a blocked open or
# read) before lib.sh unmounts.
WATCH_PID=""
WATCH_STOP=""
release_fifos() {
    local f fd
    while IFS= read -r -d '' f; do
        # O_RDWR on a FIFO never blocks (Linux); closing it gives readers EOF
        { exec {fd}<>"$f"; } 2>/dev/null && exec {fd}>&-
    done < <(find "$SRC" "$SRCI" "$OUT" -type p -print0 2>/dev/null)
}
hm_cleanup() {
    if [ -n "$WATCH_PID" ]; then
        : >"$WATCH_STOP"
        wait_pid "$WATCH_PID" 3 || kill -KILL "$WATCH_PID" 2>/dev/null
        WATCH_PID=""
    fi
    if [ -n "${ORACLE_JOB:-}" ]; then
        wait_pid "$ORACLE_JOB" 10 || kill -KILL "$ORACLE_JOB" 2>/dev/null
        ORACLE_JOB=""
    fi
    release_fifos
}
ORACLE_JOB=""
# shellcheck disable=SC2154  # hm_st is assigned in the trap itself
trap 'hm_st=$?; if [ "$BASHPID" = "$$" ]; then hm_cleanup; fi; (exit $hm_st); _lib_exit' EXIT

# ---------------------------------------------------------------- helpers

# watch_start: from now on, record every open of anything in the outside
# directories ($OUT, $OUT/dash): openwatch runs a shell that waits for
# watch_stop (and ends by itself when this test is gone).
WATCH_SEQ=0
watch_start() {
    local ready i
    WATCH_SEQ=$((WATCH_SEQ + 1))
    ready=$WORK/.watch.$WATCH_SEQ.ready
    WATCH_STOP=$WORK/.watch.$WATCH_SEQ.stop
    WATCH_ERR=$WORK/.watch.$WATCH_SEQ.err
    # shellcheck disable=SC2016  # the script gets its values as arguments
    "$TOOLS/openwatch" -w 300 "$OUT" "$OUT/dash" -- bash -c '
        : >"$1"
        for ((i = 0; i < 1200; i++)); do
            [ -e "$2" ] && exit 0
            kill -0 "$3" 2>/dev/null || exit 0
            sleep 0.1
        done' sh "$ready" "$WATCH_STOP" "$$" </dev/null >/dev/null 2>"$WATCH_ERR" {LIB_STDOUT}>&- &
    WATCH_PID=$!
    for ((i = 0; i < 100; i++)); do
        [ -e "$ready" ] && return 0
        _running "$WATCH_PID" || break
        sleep 0.05
    done
    fail "openwatch did not start: $(tr '\n' ' ' <"$WATCH_ERR")"
    hm_cleanup
    return 1
}

# watch_stop LABEL: stop watching; PASS when nothing outside was opened.
watch_stop() {
    [ -n "$WATCH_PID" ] || return 1
    : >"$WATCH_STOP"
    wait_pid "$WATCH_PID" 5
    WATCH_PID=""
    case $WAIT_STATUS in
    0) pass "$1: nothing in the outside directory was opened (inotify)" ;;
    1) fail "$1: files outside SOURCE_DIR were opened: $(grep '^opened' "$WATCH_ERR" | sed "s|$WORK/||" | tr '\n' ' ')" ;;
    *) fail "$1: openwatch failed (status $WAIT_STATUS): $(tr '\n' ' ' <"$WATCH_ERR")" ;;
    esac
}

# still_up MNT SRC [OPTS]: the mount is still served; after a crash
# (mount_alive prints the FAIL) mount again so that one crash does not hide
# what the other files do.
still_up() {
    mount_alive "$1" && return 0
    unmount_framefs "$1" >/dev/null 2>&1
    mount_framefs "$2" "$1" "${3-}" || exit 1
    note "(mounted $2 again after the crash)"
}

# san_note LABEL: a sanitizer report appeared in a mount log since the last
# call: name the file that caused it.  (With SANITIZED=1 lib.sh or run-all.sh
# count it as a failure; otherwise nobody would, so it fails here.)
SAN_SEEN=0
san_note() {
    local n
    n=$(cat "$LOGDIR/$TEST_NAME.$$".*.log 2>/dev/null | grep -cE 'runtime error:|ERROR: [A-Za-z]*Sanitizer')
    if [ "$n" -gt "$SAN_SEEN" ]; then
        if [ "${SANITIZED:-0}" = 1 ]; then
            note "sanitizer report after $1: $(cat "$LOGDIR/$TEST_NAME.$$".*.log | grep -m 1 -E 'runtime error:|ERROR: [A-Za-z]*Sanitizer')"
        else
            fail "sanitizer report after $1: $(cat "$LOGDIR/$TEST_NAME.$$".*.log | grep -m 1 -E 'runtime error:|ERROR: [A-Za-z]*Sanitizer')"
        fi
        SAN_SEEN=$n
    fi
}

# elapsed_since MS: milliseconds since now_ms gave MS.
elapsed_since() { echo $(($(now_ms) - $1)); }

# exact_rel ORACLE INDEX: the frame's time from the container start with 6
# decimals, computed from its ticks in integers (the oracle's own column
# loses microseconds when the start is 9e9 s); the oracle's column when the
# numbers are too big for shell arithmetic.
exact_rel() {
    local o=$1 i=$2 pts num den st d
    read -r pts num den < <(awk -v i="$i" '!/^#/ && $1 == i { print $2, $3, $4 }' "$o")
    st=$(oracle_header "$o" start_ticks)
    d=$((pts - st))
    if [ "$d" -ge 0 ] && [ "$d" -lt 4000000000000 ] && [ "$num" -lt 1000 ] &&
        [ $((d * num)) -lt 4000000000000 ]; then
        d=$(((d * num * 2000000 + den) / (2 * den)))
        printf '%d.%06d\n' $((d / 1000000)) $((d % 1000000))
    else
        awk -v i="$i" '!/^#/ && $1 == i { print $5 }' "$o"
    fi
}

# ---------------------------------------------------------------- media

F="ffmpeg -nostdin -hide_banner -loglevel error -y"
# the outside video the references point at: 96x72 MPEG-2 TS, 2 s
ensure_video "$HM/seg.ts" -f lavfi -i testsrc2=size=96x72:rate=10:duration=2 -c:v mpeg2video -an || exit 1
# another outside video (80x60): the target of the swapped symlink
ensure_video "$HM/other.mp4" -f lavfi -i testsrc=size=80x60:rate=10:duration=2 \
    -c:v libx264 -preset ultrafast -pix_fmt yuv420p -an || exit 1
ensure_video "$HM/a.mp4" -f lavfi -i testsrc2=size=64x48:rate=10:duration=2 \
    -c:v libx264 -preset veryfast -g 5 -pix_fmt yuv420p -an || exit 1
ensure_video "$HM/b.mp4" -f lavfi -i testsrc=size=64x48:rate=10:duration=1 -c:v mpeg4 -q:v 5 -g 5 -an || exit 1
ensure_video "$HM/f001.png" -f lavfi -i testsrc=size=32x24:rate=1 -frames:v 1 || exit 1
ensure_video "$HM/f002.png" -f lavfi -i testsrc2=size=32x24:rate=1 -frames:v 1 || exit 1
ensure_video "$HM/red.png" -f lavfi -i color=red:size=32x24:rate=1 -frames:v 1 || exit 1
if [ ! -s "$HM/dash/manifest.mpd" ]; then
    rm -rf "$HM/dash.tmp" && mkdir -p "$HM/dash.tmp" &&
        $F -f lavfi -i testsrc2=size=96x72:rate=10:duration=2 -c:v libx264 -preset ultrafast \
            -pix_fmt yuv420p -an -f dash "$HM/dash.tmp/manifest.mpd" </dev/null 2>"$WORK/dash.err" &&
        rm -rf "$HM/dash" && mv "$HM/dash.tmp" "$HM/dash" ||
        { fail "ffmpeg -f dash: $(head -c 300 "$WORK/dash.err" | tr '\n' ' ')"; exit 1; }
fi
cp "$HM/seg.ts" "$HM/other.mp4" "$HM/f001.png" "$HM/f002.png" "$OUT/"
cp "$HM"/dash/* "$OUT/dash/"
mkfifo "$OUT/p.fifo"

# 1. references
hls() {   # OUT_FILE SEGMENT_URI
    printf '#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:0\n#EXTINF:2.0,\n%s\n#EXT-X-ENDLIST\n' "$2" >"$1"
}
hls "$SRC/evil.mp4" "$OUT/seg.ts"
hls "$SRC/evil_rel.mkv" "../outside/seg.ts"
hls "$SRC/evil_url.ts" "file://$OUT/seg.ts"
ln -s "$OUT/seg.ts" "$SRC/esc_seg.ts"          # hidden by framefs, not by FFmpeg
hls "$SRC/evil_link.mov" "esc_seg.ts"
sed "s|<Period |<BaseURL>$OUT/dash/</BaseURL>\n\t<Period |" "$HM/dash/manifest.mpd" >"$SRC/dash.mp4"
sed "s|initialization=\"|initialization=\"$OUT/dash/|; s|media=\"|media=\"$OUT/dash/|" \
    "$HM/dash/manifest.mpd" >"$SRC/dash_tpl.webm"
grep -q "$OUT/dash/" "$SRC/dash.mp4" && grep -q "initialization=\"$OUT/dash/" "$SRC/dash_tpl.webm" ||
    { fail "could not point the DASH manifests at $OUT/dash"; exit 1; }
printf 'ffconcat version 1.0\nfile %s\n' "$OUT/seg.ts" >"$SRC/concat.mkv"
printf 'ffconcat version 1.0\nfile esc_seg.ts\n' >"$SRC/concat_link.mkv"
REFS="evil.mp4 evil_rel.mkv evil_url.ts evil_link.mov dash.mp4 dash_tpl.webm concat.mkv concat_link.mkv"
# the image2 pattern (FFmpeg probes a name as image2 only when its extension
# is an image's: a mount with video_ext=png shows it as a video directory)
cp "$HM/red.png" "$SRCI/img%03d.png"
ln -s "$OUT/f001.png" "$SRCI/img001.png"
ln -s "$OUT/f002.png" "$SRCI/img002.png"

# 2. swap and inside links
cp "$HM/a.mp4" "$SRC/a.mp4"
cp "$HM/b.mp4" "$SRC/sub/b.mp4"
ln -s sub/b.mp4 "$SRC/link.mp4"
ln -s "$SRC/sub/b.mp4" "$SRC/abs.mp4"

# 3. devices and FIFOs
ln -s /dev/zero "$SRC/zero.mp4"
ln -s /dev/null "$SRC/dev.mp4"
mkfifo "$SRC/fifo.mp4"
ln -s fifo.mp4 "$SRC/fifolink.mp4"
ln -s "$OUT/p.fifo" "$SRC/outfifo.mkv"
cp "$HM/a.mp4" "$SRC/race.mp4"

# 4. hostile timestamps: tiny clips (64x48, 10 frames at 10 fps)
HIN=(-f lavfi -i testsrc2=size=64x48:rate=10:duration=1)
H264=(-c:v libx264 -preset ultrafast -g 5 -pix_fmt yuv420p -an)
H264B=(-c:v libx264 -preset veryfast -x264-params keyint=5:min-keyint=5:scenecut=0:bframes=2 -pix_fmt yuv420p -an)
MP4V=(-c:v mpeg4 -q:v 5 -g 5 -an)
HOSTILE=()
mkh() {   # NAME CODEC(h264|h264b|mpeg4) ARGS...: make $HM/NAME, link it into SRC/hostile
    local name=$1 kind=$2
    local -a codec
    shift 2
    case $kind in
    h264) codec=("${H264[@]}") ;;
    h264b) codec=("${H264B[@]}") ;;
    *) codec=("${MP4V[@]}") ;;
    esac
    ensure_video "$HM/$name" "${HIN[@]}" "${codec[@]}" "$@" || return 1
    cp "$HM/$name" "$SRC/hostile/$name"
    HOSTILE+=("$name")
}
mkh pts1e9.mkv mpeg4 -bsf:v 'setts=ts=TS*1000000000'
mkh pts1e9.mp4 h264 -bsf:v 'setts=pts=PTS*1000000000:dts=DTS*1000000000'
mkh pts1e9.ts h264 -bsf:v 'setts=pts=PTS*1000000000:dts=DTS*1000000000'
mkh negts.mkv mpeg4 -avoid_negative_ts disabled -bsf:v 'setts=ts=TS-100000'
mkh negts.mp4 h264 -avoid_negative_ts disabled -bsf:v 'setts=ts=TS-100000'
mkh dup.mkv mpeg4 -bsf:v 'setts=pts=trunc(N/2)*200+100:dts=N*100'
mkh dup.mp4 h264 -bsf:v 'setts=pts=trunc(N/2)*2048+1024:dts=N*1024'
mkh nonmono.mp4 h264 -bsf:v 'setts=pts=if(eq(N\,3)\,PTS+100000\,PTS)'
mkh nonmono.ts mpeg4 -bsf:v 'setts=pts=if(eq(N\,3)\,PTS+1000\,PTS)'
mkh dur0.mp4 h264 -bsf:v 'setts=duration=0'
mkh durneg.mkv mpeg4 -bsf:v 'setts=duration=-1'
mkh off9e9.mp4 h264b -output_ts_offset 9000000000
mkh off9e9.mkv mpeg4 -output_ts_offset 9000000000
mkh offneg.mp4 h264 -output_ts_offset -5
mkh tb1.mp4 h264b -video_track_timescale 1
mkh tb2e9.mp4 mpeg4 -video_track_timescale 2000000000
mkh tb2e9b.mp4 h264b -video_track_timescale 2000000000
mkh big.mp4 h264b -bsf:v 'setts=ts=TS+4611686018427387904'
mkh max.mkv mpeg4 -bsf:v 'setts=ts=TS+9223372036854000000'
mkh big.nut mpeg4 -bsf:v 'setts=ts=TS+9000000000000000000'

# 5. the FLV whose packets claim 1 ms durations
HAVE_FLV=0
if [ -s "$SHARED_MEDIA/ax__sample.flv" ]; then
    cp "$SHARED_MEDIA/ax__sample.flv" "$SRC/sample.flv"
    HAVE_FLV=1
fi
chmod -R go+rX "$SRC" "$SRCI" "$OUT"

# Oracles (before any watch: the files they read are copies, never $OUT's).
# The hostile files' oracles are computed in the background meanwhile (each
# is four runs of the CLI; parts 1-3 mostly wait); hostile_oracle waits.
mkdir -p "$WORK/oracle"
(
    trap - EXIT INT TERM
    for v in "${HOSTILE[@]}"; do
        kill -0 "$$" 2>/dev/null || exit 0
        o=$WORK/oracle/hostile_$v.oracle
        "$TESTS_DIR/oracle.sh" "$SRC/hostile/$v" >"$o" 2>"$o.err"
        echo $? >"$o.status"
    done
) </dev/null >/dev/null 2>&1 {LIB_STDOUT}>&- &
ORACLE_JOB=$!
oracle_a=$(oracle_of "$HM/a.mp4") || exit 1
oracle_b=$(oracle_of "$HM/b.mp4") || exit 1
oracle_other=$(oracle_of "$HM/other.mp4") || exit 1

mount_framefs "$SRC" "$MNT" || exit 1

# ---------------------------------------------------------------- 1. references

# reference_fails MNT NAME: the checks of part 1 on MNT/NAME (under a watch).
reference_fails() {
    local m=$1 v=$2 p=$1/$2 t0 ms st res err attrs="" a val
    watch_start || return
    t0=$(now_ms)
    t ls "$p" >/dev/null 2>"$WORK/ls.err"
    st=$?
    ms=$(elapsed_since "$t0")
    if [ "$st" -le 2 ] && [ "$ms" -lt "$HM_PROMPT_MS" ]; then
        pass "$v: ls of the directory returns in $ms ms (status $st)"
    else
        fail "$v: ls of the directory: status $st after $ms ms (want < $HM_PROMPT_MS ms): $(head -c 200 "$WORK/ls.err")"
    fi
    res=$(xattr_get "$p" user.result)
    err=$(xattr_get "$p" user.error)
    if [ "$res" = failed ] && printf '%s' "$err" | grep -qiE 'refers to other files'; then
        pass "$v dir: failed, user.error '$err'"
    else
        fail "$v dir: user.result '$res', user.error '$err' (want failed, /refers to other files/)"
    fi
    for a in user.codec user.duration user.width user.height user.frame_rate; do
        if val=$(xattr_get "$p" "$a") && [ -n "$val" ]; then
            attrs+=" $a=$val"
        fi
    done
    [ -z "$attrs" ] && pass "$v dir: no codec, duration, size or frame rate (none of the outside video's)" ||
        fail "$v dir: shows stream attributes (the outside video's?):$attrs"
    frame_fails "$v/t=0.png" "$p/t=0.png"
    watch_stop "$v"
    still_up "$m" "${3:-$SRC}" "${4-}"
    san_note "$v"
}

# timed_result PATH LABEL: res = PATH's user.result, asked with a 3 s limit;
# adds "LABELuser.result ... (ms)" to what and sets slow when it was slow.
timed_result() {
    local t0 ms
    t0=$(now_ms)
    res=$(OP_TIMEOUT=3 xattr_get "$1" user.result)
    ms=$(elapsed_since "$t0")
    [ "$ms" -lt "$HM_PROMPT_MS" ] || slow=1
    what+="; $2user.result '$res' ($ms ms)"
}

for v in $REFS; do
    reference_fails "$MNT" "$v"
done

if mount_framefs "$SRCI" "$MNTI" video_ext=png; then
    if [ "$(t stat -c %F "$MNTI/img%03d.png" 2>&1)" = directory ]; then
        reference_fails "$MNTI" "img%03d.png" "$SRCI" video_ext=png
    else
        skip "img%03d.png: not shown as a video directory with video_ext=png ($(t stat -c %F "$MNTI/img%03d.png" 2>&1))"
    fi
    unmount_framefs "$MNTI"
fi

# ---------------------------------------------------------------- 2. swapped and inside symlinks

watch_start
idx=$(echo "x x 0.5 0 0" | oracle_expect "$oracle_a" | cut -d' ' -f4)
frame_is "a.mp4/t=0.5.png before the swap" "$MNT/a.mp4/t=0.5.png" "$oracle_a" "$idx" "$(exact_rel "$oracle_a" "$idx")"
ln -s "$OUT/other.mp4" "$SRC/.swap.tmp" && mv -Tf "$SRC/.swap.tmp" "$SRC/a.mp4"
# right after the swap (within the kernel's entry timeout the old a.mp4 may
# still answer): never the outside video
other_md5s=$(awk '!/^#/ { print $7 }' "$oracle_other")
for n in t=0.5.png t=1.png; do
    f=$MNT/a.mp4/$n
    if t cat "$f" >"$WORK/swap.png" 2>"$WORK/swap.err"; then
        got=$(raw_md5 "$WORK/swap.png")
        read -r sum w h _ <<<"$got"
        if [ "$w $h" = "80 60" ] || grep -qx -- "$sum" <<<"$other_md5s"; then
            fail "a.mp4/$n right after the swap for a link outside: the outside video's pixels ($got)"
        elif grep -q " $sum " <(awk '!/^#/ { print " " $7 " " }' "$oracle_a"); then
            pass "a.mp4/$n right after the swap: still the old a.mp4's frame (within the entry timeout), not the outside video's"
        else
            fail "a.mp4/$n right after the swap: pixels of neither video ($got)"
        fi
    else
        pass "a.mp4/$n right after the swap: not readable ($(tail -n 1 "$WORK/swap.err" | sed 's/.*: //')), nothing from outside"
    fi
done
w=$(xattr_get "$MNT/a.mp4" user.width)
[ "$w" != 80 ] && pass "a.mp4 right after the swap: user.width '$w', not the outside video's" ||
    fail "a.mp4 right after the swap: user.width 80, the outside video's"
sleep_builtin 1.1
# after the entry timeout: ENOENT, or a failed frame; never a picture
for n in t=0.5.png t=1.5.png t=0,tol=inf.png; do
    f=$MNT/a.mp4/$n
    got=$(errno_of stat -- "$f")
    case $got in
    "No such file or directory" | "Not a directory") pass "a.mp4/$n after the swap: $got" ;;
    ok)
        res=$(xattr_get "$f" user.result)
        op=$(t "$FSQ" open "$f" r 2>&1 >/dev/null | tail -n 1)
        if [ "$res" = failed ] && [ "$op" = "err EIO" ]; then
            pass "a.mp4/$n after the swap: failed ($(xattr_get "$f" user.error)), open EIO"
        else
            fail "a.mp4/$n after the swap for a link to an outside video: exists with user.result '$res' (actual_time '$(xattr_get "$f" user.actual_time)'), open '$op'; want ENOENT or a failed frame"
        fi ;;
    *) fail "a.mp4/$n after the swap: stat gives '$got', want ENOENT or a failed frame" ;;
    esac
done
watch_stop "a.mp4 swapped for a link to an outside video"
still_up "$MNT" "$SRC"

watch_start
idx=$(echo "x x 0.5 0 0" | oracle_expect "$oracle_b" | cut -d' ' -f4)
frame_is "link.mp4 -> sub/b.mp4 (relative, inside): t=0.5.png" "$MNT/link.mp4/t=0.5.png" "$oracle_b" "$idx" "$(exact_rel "$oracle_b" "$idx")"
frame_is "abs.mp4 -> SRC/sub/b.mp4 (absolute, inside): t=0.5.png" "$MNT/abs.mp4/t=0.5.png" "$oracle_b" "$idx" "$(exact_rel "$oracle_b" "$idx")"
watch_stop "symlinks that stay inside"
san_note "the symlink checks"

# ---------------------------------------------------------------- 3. devices and FIFOs

# special_ok NAME: every lookup of NAME (stat, user.result, its t=0.png)
# answers within HM_PROMPT_MS with ENOENT, or a failed result.
special_ok() {
    local v=$1 p=$MNT/$1 t0 ms got res why="" slow=0 what
    t0=$(now_ms)
    got=$(OP_TIMEOUT=3 errno_of stat -- "$p")
    ms=$(elapsed_since "$t0")
    [ "$ms" -lt "$HM_PROMPT_MS" ] || slow=1
    what="stat: $got ($ms ms)"
    case $got in
    "No such file or directory") ;;
    ok)
        timed_result "$p" ""
        [ "$res" = failed ] || why+=" shown, with user.result '$res';"
        timed_result "$p/t=0.png" "t=0.png "
        [ "$res" = failed ] || why+=" t=0.png user.result '$res';"
        ;;
    *) why+=" stat gives '$got';" ;;
    esac
    [ "$slow" = 0 ] || why+=" slower than $HM_PROMPT_MS ms;"
    release_fifos
    if [ -z "$why" ]; then
        pass "$v: $what"
    else
        fail "$v:$why ($what)"
    fi
}

for v in zero.mp4 dev.mp4 fifo.mp4 fifolink.mp4 outfifo.mkv; do
    special_ok "$v"
    still_up "$MNT" "$SRC"
done
t0=$(now_ms)
listing=$(OP_TIMEOUT=3 t ls -l "$MNT" 2>/dev/null)
st=$?
ms=$(elapsed_since "$t0")
shown=""
for v in zero.mp4 dev.mp4 fifo.mp4 fifolink.mp4 outfifo.mkv esc_seg.ts; do
    grep -q " $v\( \|$\)" <<<"$listing" && shown+=" $v"
done
if [ "$st" -eq 0 ] && [ "$ms" -lt "$HM_PROMPT_MS" ] && [ -z "$shown" ]; then
    pass "ls -l of SOURCE_DIR returns in $ms ms and lists none of the devices, FIFOs or escaping links"
else
    fail "ls -l of SOURCE_DIR: status $st after $ms ms; listed:${shown:- none}"
fi
release_fifos
still_up "$MNT" "$SRC"

# The race: race.mp4 is a video when a frame lookup starts and a FIFO a
# moment later (at once, or after a few ms: framefs has looked the name up
# and is about to open it).  The lookup must end (a frame or an error, either
# is fine).  Up to 8 tries, stopping at the first that hangs.
hung=0 tries=0
for d in 0 0 0.002 0 0.005 0 0.02 0.1; do
    tries=$((tries + 1))
    cp "$HM/a.mp4" "$SRC/.race.tmp" && mv -Tf "$SRC/.race.tmp" "$SRC/race.mp4"
    OP_TIMEOUT=8 t cat "$MNT/race.mp4/t=0.$tries.png" >/dev/null 2>&1 &
    rpid=$!
    [ "$d" = 0 ] || sleep "$d"
    mkfifo "$SRC/.race.fifo$tries" && mv -Tf "$SRC/.race.fifo$tries" "$SRC/race.mp4"
    wait_pid "$rpid" 3 || hung=1
    release_fifos
    wait_pid "$rpid" 4 || kill -KILL "$rpid" 2>/dev/null
    # keep each FIFO reachable (release_fifos finds it) until the end
    mv -f "$SRC/race.mp4" "$SRC/race_fifo$tries.old"
    [ "$hung" = 0 ] || break
done
[ "$hung" = 0 ] && pass "race: $tries frame lookups of a video swapped for a FIFO right after they started all ended" ||
    fail "race: frame lookup $tries of a video swapped for a FIFO $d s after it started hung (3 s, until the FIFO got a writer; framefs blocked opening it?)"
mkfifo "$SRC/race.mp4"
special_ok race.mp4
still_up "$MNT" "$SRC"
san_note "the devices and FIFOs"

# ---------------------------------------------------------------- 4. hostile timestamps

got=$(errno_of stat -- "$MNT/a.mp4/t=-0.png")
[ "$got" = "No such file or directory" ] && pass "t=-0.png (a sign): ENOENT" ||
    fail "t=-0.png: stat gives '$got', want ENOENT (numbers have no sign)"
cp "$HM/a.mp4" "$SRC/hostile/plain.mp4"
got=$(errno_of stat -- "$MNT/hostile/plain.mp4/t=1e18.png")
[ "$got" = "No such file or directory" ] && pass "t=1e18.png (an exponent): ENOENT" ||
    fail "t=1e18.png: stat gives '$got', want ENOENT (numbers have no exponent)"

# failure_reasons F: why the failed frame F is not a clean failure (SPEC:
# user.result failed, a specific user.error, size 0, open EIO, no
# user.actual_time); empty when it is.  (frame_fails without its FAIL line.)
failure_reasons() {
    local f=$1 err size op act why=""
    err=$(xattr_get "$f" user.error)
    size=$(t stat -c %s -- "$f" 2>&1)
    op=$(t "$FSQ" open "$f" r 2>&1 >/dev/null | tail -n 1)
    act=$(t "$FSQ" getxattr "$f" user.actual_time 64 2>&1 >/dev/null | tail -n 1)
    error_is_specific "$err" || why+=" user.error '$err' is not specific;"
    [ "$size" = 0 ] || why+=" size '$size';"
    [ "$op" = "err EIO" ] || why+=" open gives '$op', want EIO;"
    [ "$act" = "err ENODATA" ] || why+=" user.actual_time: '$act', want ENODATA;"
    printf '%s' "$why"
}

# frame_answers F DUR: F gives a readable 64x48 PNG with an actual_time, or
# fails cleanly (frame_fails); a t at or past DUR (when numeric) must fail.
# Prints a short description; status 1 (and the reason) when wrong.
frame_answers() {
    local f=$1 dur=$2 tt res act got why
    tt=${f##*/t=}
    tt=${tt%.png}
    res=$(xattr_get "$f" user.result)
    case $res in
    succeeded)
        act=$(xattr_get "$f" user.actual_time)
        if [[ $dur =~ ^[0-9]+\.[0-9]+$ ]] && awk -v t="$tt" -v d="$dur" 'BEGIN { exit !(t + 0 >= d + 0) }'; then
            echo "succeeded (actual_time '$act') although t is past user.duration $dur"
            return 1
        fi
        if ! t cat "$f" >"$WORK/h.png" 2>"$WORK/h.err"; then
            echo "succeeded but cannot be read: $(tail -n 1 "$WORK/h.err")"
            return 1
        fi
        got=$(raw_md5 "$WORK/h.png")
        case $got in
        *" 64 48 "[34]) ;;
        *) echo "succeeded but the PNG is '$got' (want 64x48)"; return 1 ;;
        esac
        if ! [[ $act =~ ^-?[0-9]+\.[0-9]{6}$ ]]; then
            echo "succeeded with user.actual_time '$act'"
            return 1
        fi
        echo "frame at $act" ;;
    failed)
        why=$(failure_reasons "$f")
        if [ -z "$why" ]; then
            echo "failed: $(xattr_get "$f" user.error | head -c 90)"
        else
            echo "failed, but not cleanly:$why"
            return 1
        fi ;;
    *) echo "user.result '$res' (lookup: $(errno_of stat -- "$f"))"; return 1 ;;
    esac
}

# hostile_oracle NAME: compare one frame with the CLI's oracle when that is
# unambiguous (a note otherwise).
hostile_oracle() {
    local v=$1 o=$WORK/oracle/hostile_$1.oracle res idx rel mid start i
    for ((i = 0; i < 600; i++)); do
        [ -s "$o.status" ] && break
        sleep 0.05
    done
    if [ ! -s "$o.status" ]; then
        fail "$v: the oracle was not computed within 30 s"
        return
    fi
    if [ "$(cat "$o.status")" != 0 ]; then
        note "$v: no oracle (the CLI's two decodes disagree or fail: $(head -c 160 "$o.err" | tr '\n' ' ')): not compared"
        return
    fi
    if [ "$(oracle_header "$o" monotonic)" != 1 ] || [ "$(oracle_header "$o" has_nopts)" != 0 ]; then
        note "$v: oracle ambiguous: pts not strictly increasing ($(awk '!/^#/ { printf "%s ", $2 }' "$o" | cut -c1-120)): which frame is on screen is undefined; not compared"
        return
    fi
    res=$(xattr_get "$MNT/hostile/$v" user.result)
    if [ "$res" != succeeded ]; then
        fail "$v: the CLI decodes $(oracle_header "$o" frames) frames with increasing pts, framefs says '$res': $(xattr_get "$MNT/hostile/$v" user.error)"
        return
    fi
    start=$(ffprobe -v error -show_entries format=start_time -of default=nw=1:nk=1 "$SRC/hostile/$v" 2>/dev/null | head -n 1)
    case $start in
    '' | N/A)
        # no container start time (its microseconds overflow): where t
        # counts from is open; t=0 is the first frame either way
        idx=$(echo "x x 0 0 0" | oracle_expect "$o" | cut -d' ' -f4)
        case $idx in
        FAIL | AMBIG) note "$v: no container start time and t=0 is $idx in the oracle: not compared" ;;
        *) frame_is "$v t=0 vs the oracle (no container start time: pixels only)" "$MNT/hostile/$v/t=0.png" "$o" "$idx" - ;;
        esac
        return ;;
    esac
    mid=$(($(oracle_header "$o" frames) / 2))
    rel=$(exact_rel "$o" "$mid")
    idx=$(echo "x x $rel 0 0" | oracle_expect "$o" | cut -d' ' -f4)
    case $idx in
    FAIL | AMBIG) note "$v: the oracle's frame #$mid at $rel is $idx: not compared" ;;
    *) frame_is "$v t=$rel vs the oracle" "$MNT/hostile/$v/t=$rel.png" "$o" "$idx" "$(exact_rel "$o" "$idx")" ;;
    esac
}

for v in "${HOSTILE[@]}"; do
    p=$MNT/hostile/$v
    res=$(xattr_get "$p" user.result)
    err=$(xattr_get "$p" user.error)
    dur=$(xattr_get "$p" user.duration)
    case $res in
    succeeded)
        w=$(xattr_get "$p" user.width)
        h=$(xattr_get "$p" user.height)
        c=$(xattr_get "$p" user.codec)
        if [[ $dur =~ ^[0-9]+\.[0-9]{6}$ ]] && [ "$w $h" = "64 48" ] && [ -n "$c" ]; then
            pass "$v dir: succeeded (duration $dur, ${w}x$h $c)"
        else
            fail "$v dir: succeeded with user.duration '$dur', size '${w}x$h', codec '$c'"
        fi ;;
    failed)
        error_is_specific "$err" && pass "$v dir: failed, user.error '$err'" ||
            fail "$v dir: failed with a vague user.error '$err'" ;;
    *) fail "$v dir: user.result '$res' (lookup: $(errno_of stat -- "$p"))" ;;
    esac
    past=""
    [[ $dur =~ ^[0-9]+\.[0-9]+$ ]] && past=$(awk -v d="$dur" 'BEGIN { printf "%.6f", d + 1 }')
    bad="" desc=""
    for tt in 0 0.5 1000000000000000000 $past; do
        t0=$(now_ms)
        if out=$(frame_answers "$p/t=$tt.png" "$dur"); then
            desc+=" t=$tt: $out;"
        else
            bad+=" t=$tt: $out;"
        fi
        ms=$(elapsed_since "$t0")
        [ "$ms" -lt $((OP_TIMEOUT * 1000)) ] || bad+=" t=$tt took $ms ms;"
    done
    [ -z "$bad" ] && pass "$v frames:$desc" || fail "$v frames:$bad (others:${desc:- none})"
    if mount_alive "$MNT"; then
        hostile_oracle "$v"
    fi
    still_up "$MNT" "$SRC"
    san_note "$v"
done

# ---------------------------------------------------------------- 5. the FLV

if [ "$HAVE_FLV" = 1 ]; then
    oracle_flv=$(oracle_of "$SHARED_MEDIA/ax__sample.flv")
    dur=$(xattr_get "$MNT/sample.flv" user.duration)
    if [[ $dur =~ ^[0-9]+\.[0-9]{6}$ ]] && awk -v d="$dur" 'BEGIN { exit !(d >= 0.9995 && d <= 1.0005) }'; then
        pass "ax__sample.flv: user.duration $dur (30 frames at 30 fps, packets claiming 1 ms)"
    else
        fail "ax__sample.flv: user.duration '$dur', want 1.000000 (30 frames at 30 fps; the last packet's 1 ms duration is not its frame's)"
    fi
    if [ -n "$oracle_flv" ]; then
        last=$(awk '!/^#/ { i = $1 } END { print i }' "$oracle_flv")
        frame_is "ax__sample.flv t=0.99 (the last frame, #$last)" "$MNT/sample.flv/t=0.99.png" "$oracle_flv" "$last" \
            "$(exact_rel "$oracle_flv" "$last")"
    fi
    still_up "$MNT" "$SRC"
    san_note "ax__sample.flv"
else
    skip "ax__sample.flv: $SHARED_MEDIA/ax__sample.flv not found (set SHARED_MEDIA)"
fi

# ---------------------------------------------------------------- end

release_fifos
mount_alive "$MNT" && unmount_framefs "$MNT" && pass "unmount: framefs exited 0 after the hostile media"
