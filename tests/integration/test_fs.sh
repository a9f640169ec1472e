#!/usr/bin/env bash
# The filesystem contract (SPEC "The tree", "Frame names", "Frame files",
# "Extended attributes", "Command line"): tree mirroring and passthrough
# files, EROFS everywhere, readdir per list_interval, xattr semantics (size
# query, ERANGE, ENODATA, listxattr = getxattr), malformed names, a broken
# "video", permissions and ownership (with -o allow_other and another user),
# stable bytes through read/pread/mmap, parallel readers, a changed source,
# and bad command lines.  Frame contents are checked against the oracle.
. "$(dirname "$0")/../lib.sh"

require_framefs
ensure_media

SRC=$WORK/src
MNT=$WORK/mnt

# ---------------------------------------------------------------- helpers

# expect_err LABEL WANT CMD...: CMD fails with the strerror text WANT
# (e.g. "Read-only file system"), or succeeds when WANT is "ok".
expect_err() {
    local label=$1 want=$2 got
    shift 2
    got=$(errno_of "$@")
    if [ "$got" = "$want" ]; then
        pass "$label: ${want}"
    else
        fail "$label: got '$got', want '$want' ($*)"
    fi
}

# fsq_q ARGS...: run the fsq tool, print its one-line answer ("ok ...",
# "err ENAME").
fsq_q() { t "$FSQ" "$@" 2>&1 >/dev/null | tail -n 1; }

# frame_md5_ok VIDEO_IN_MEDIA PNG T LABEL: PNG holds the frame SPEC's rule
# picks at T (zero tolerance) in the oracle of MEDIA_DIR/VIDEO_IN_MEDIA.
frame_md5_ok() {
    local video=$1 png=$2 tt=$3 label=$4 oracle exp want got
    oracle=$(oracle_of "$MEDIA_DIR/$video") || return 1
    exp=$(echo "x x $tt 0 0" | oracle_expect "$oracle" | cut -d' ' -f4)
    want=$(awk -v i="$exp" '!/^#/ && $1 == i { print $7 }' "$oracle")
    got=$(raw_md5 "$png")
    if [ -n "$want" ] && [ "${got%% *}" = "$want" ]; then
        pass "$label: pixels are oracle frame #$exp of $video"
    else
        fail "$label: pixels '${got}' are not oracle frame #$exp ($want) of $video"
    fi
}

# Expected readdir of a video dir: t=K*I for K*I < END, shortest decimals.
expected_listing() {   # END_TIME INTERVAL
    awk -v e="$1" -v iv="$2" 'BEGIN {
        if (iv + 0 <= 0) exit
        for (k = 0; k * iv < e - 1e-9; k++) {
            s = sprintf("%.6f", k * iv); sub(/0+$/, "", s); sub(/\.$/, "", s)
            print "t=" s ".png"
        }
    }' | sort
}

# alive MNT: stop the test when the framefs serving MNT is gone (a crash,
# e.g. a sanitizer abort): everything after would fail with ENOTCONN.
alive() { mount_alive "$1" || exit 1; }

snapshot() {   # DIR: everything about the tree that a write could change
    (cd "$1" && find . -printf '%p %y %s %m %U %G %T@\n' | sort &&
        find . -type f -exec md5sum {} + | sort)
}

# ---------------------------------------------------------------- source tree

mkdir -p "$SRC/sub/deeper" "$SRC/emptydir"
cp "$MEDIA_DIR/h264_bframes.mp4" "$SRC/clip.mp4"
cp "$MEDIA_DIR/h264_bframes.mp4" "$SRC/private.mp4"
cp "$MEDIA_DIR/h264_bframes.mp4" "$SRC/owner_only.mp4"
cp "$MEDIA_DIR/h264_bframes.mp4" "$SRC/changing.mp4"
cp "$MEDIA_DIR/rotated90.mp4" "$SRC/rot.mp4"
cp "$MEDIA_DIR/vp9.webm" "$SRC/sub/inner.webm"
cp "$MEDIA_DIR/sub/mpeg4.mkv" "$SRC/sub/deeper/deep.mkv"
cp "$MEDIA_DIR/notes.txt" "$SRC/notes.txt"
cp "$MEDIA_DIR/sub/deeper/data.bin" "$SRC/sub/data.bin"
head -c 6000 /dev/urandom >"$SRC/bad.mp4"
: >"$SRC/empty.mkv"
ln -s /etc "$SRC/escape"
chmod 0644 "$SRC/clip.mp4" "$SRC/rot.mp4" "$SRC/notes.txt" "$SRC/bad.mp4" "$SRC/changing.mp4"
chmod 0640 "$SRC/private.mp4"
chmod 0600 "$SRC/owner_only.mp4"
chmod 0755 "$SRC" "$SRC/sub" "$SRC/sub/deeper" "$SRC/emptydir"
chown 1234:2345 "$SRC/clip.mp4" "$SRC/private.mp4" "$SRC/owner_only.mp4"
touch -d '2020-01-02 03:04:05' "$SRC/clip.mp4"
snapshot "$SRC" >"$WORK/snapshot.before"

mount_framefs "$SRC" "$MNT" || exit 1

# ---------------------------------------------------------------- tree

# Listing a parent (names, or ls -l which stats every entry) never opens the
# videos in it (inotify watches the source files).
videos_src=("$SRC/clip.mp4" "$SRC/private.mp4" "$SRC/rot.mp4" "$SRC/bad.mp4" "$SRC/sub/inner.webm" "$SRC/sub/deeper/deep.mkv")
for cmd in "ls $MNT" "ls -l $MNT" "ls -la $MNT/sub $MNT/sub/deeper"; do
    # shellcheck disable=SC2086
    got=$(t "$TOOLS/openwatch" "${videos_src[@]}" -- $cmd 2>&1 >/dev/null)
    case $? in
    0) pass "'${cmd//$MNT/MNT}' opens no source video" ;;
    1) fail "'${cmd//$MNT/MNT}' opened source videos: $(echo "$got" | sed -n 's|^opened ||p' | tr '\n' ' ')" ;;
    *) fail "'${cmd//$MNT/MNT}' failed: $got" ;;
    esac
done
# (control: reading a frame does open its video)
t "$TOOLS/openwatch" "$SRC/rot.mp4" -- cat "$MNT/rot.mp4/t=0.5.png" >/dev/null 2>&1
[ $? = 1 ] && pass "openwatch sees framefs open a video for a frame (control)" ||
    fail "openwatch did not see rot.mp4 opened for a frame: the no-open checks above prove nothing"

want=$(cd "$SRC" && ls -A | grep -vx escape)
got=$(t ls -A "$MNT" 2>&1 | grep -vx escape)
[ "$got" = "$want" ] && pass "ls of the root lists the source's names" ||
    fail "ls of the root: got [$(echo $got)], want [$(echo $want)]"
got=$(t ls -A "$MNT/sub" 2>&1)
[ "$got" = "$(cd "$SRC/sub" && ls -A)" ] && pass "ls of a subdirectory lists the source's names" ||
    fail "ls sub: got [$(echo $got)]"
got=$(t ls -A "$MNT/sub/deeper" 2>&1)
[ "$got" = "deep.mkv" ] && pass "ls of a nested subdirectory" || fail "ls sub/deeper: got [$(echo $got)]"
got=$(t ls -A "$MNT/emptydir" 2>&1)
[ -z "$got" ] && pass "an empty directory is empty" || fail "ls emptydir: got [$got]"

for p in clip.mp4 private.mp4 rot.mp4 bad.mp4 empty.mkv sub/inner.webm sub/deeper/deep.mkv; do
    ty=$(t stat -c %F "$MNT/$p" 2>&1)
    [ "$ty" = directory ] && pass "video $p appears as a directory" || fail "video $p appears as '$ty'"
done
for p in sub sub/deeper emptydir; do
    ty=$(t stat -c %F "$MNT/$p" 2>&1)
    [ "$ty" = directory ] && pass "directory $p is a directory" || fail "directory $p appears as '$ty'"
done
for p in notes.txt sub/data.bin; do
    ty=$(t stat -c %F "$MNT/$p" 2>&1)
    case $ty in regular*) pass "file $p is a regular file" ;; *) fail "file $p appears as '$ty'" ;; esac
    [ "$(t stat -c %s "$MNT/$p")" = "$(stat -c %s "$SRC/$p")" ] && pass "file $p has the source's size" ||
        fail "file $p: size $(t stat -c %s "$MNT/$p"), source $(stat -c %s "$SRC/$p")"
    if t cmp -s "$MNT/$p" "$SRC/$p"; then pass "file $p has the source's contents (cmp)"; else fail "file $p differs from the source (cmp)"; fi
    if [ "$(t "$FSQ" mmap "$MNT/$p" 2>/dev/null | md5sum)" = "$(md5sum <"$SRC/$p")" ]; then
        pass "file $p reads the same through mmap"
    else
        fail "file $p: mmap gives other bytes"
    fi
done
ty=$(t stat -c %F "$MNT/escape" 2>&1)
case $ty in
directory) fail "a symlink to /etc is served as a directory: paths reach outside SOURCE_DIR" ;;
*) pass "a symlink to outside SOURCE_DIR is not followed by framefs ($ty)" ;;
esac
expect_err "lookup of a missing name" "No such file or directory" stat "$MNT/nonexistent"
expect_err "lookup of .. stays in the mount" ok test "$(t stat -c %i "$MNT/sub/..")" = "$(t stat -c %i "$MNT")"

# ---------------------------------------------------------------- read-only

alive "$MNT"

ROFS="Read-only file system"
frame="$MNT/clip.mp4/t=1.png"
t cat "$frame" >/dev/null 2>&1   # make sure it exists
for d in "$MNT" "$MNT/sub" "$MNT/clip.mp4"; do
    rel=${d#"$MNT"}; rel=${rel:-/}
    expect_err "touch a new file in $rel" "$ROFS" touch "$d/newfile.txt"
    expect_err "create (O_CREAT) a frame-like name in $rel" "$ROFS" "$FSQ" open "$d/t=9.png" creat
    expect_err "mkdir in $rel" "$ROFS" mkdir "$d/newdir"
    expect_err "symlink in $rel" "$ROFS" ln -s notes.txt "$d/newlink"
    expect_err "mknod (fifo) in $rel" "$ROFS" mkfifo "$d/newfifo"
done
expect_err "rmdir an empty directory" "$ROFS" rmdir "$MNT/emptydir"
expect_err "rmdir a video directory" "$ROFS" rmdir "$MNT/clip.mp4"
expect_err "rm -r a video directory" "$ROFS" rm -rf "$MNT/rot.mp4"
expect_err "rename a video directory" "$ROFS" mv "$MNT/clip.mp4" "$MNT/renamed.mp4"
expect_err "rename a directory" "$ROFS" mv "$MNT/sub" "$MNT/sub2"
expect_err "chmod a directory" "$ROFS" chmod 0700 "$MNT/sub"
expect_err "chmod a video directory" "$ROFS" chmod 0700 "$MNT/clip.mp4"
expect_err "touch a video directory" "$ROFS" touch "$MNT/clip.mp4"
for f in "$frame" "$MNT/notes.txt"; do
    rel=${f#"$MNT/"}
    expect_err "open $rel for writing" "$ROFS" "$FSQ" open "$f" w
    expect_err "open $rel read-write" "$ROFS" "$FSQ" open "$f" rw
    expect_err "open $rel with O_TRUNC" "$ROFS" "$FSQ" open "$f" trunc
    expect_err "append to $rel (shell >>)" "$ROFS" sh -c 'echo x >>"$1"' sh "$f"
    expect_err "truncate $rel" "$ROFS" truncate -s 0 "$f"
    expect_err "rm $rel" "$ROFS" rm -f "$f"
    expect_err "rename $rel" "$ROFS" mv "$f" "$f.moved"
    expect_err "hard link $rel" "$ROFS" ln "$f" "$MNT/hardlink"
    expect_err "touch $rel" "$ROFS" touch "$f"
    expect_err "chmod $rel" "$ROFS" chmod 0666 "$f"
    expect_err "chown $rel" "$ROFS" chown 0:0 "$f"
    expect_err "setfattr on $rel" "$ROFS" setfattr -n user.x -v 1 "$f"
done
expect_err "removexattr user.result of a frame" "$ROFS" setfattr -x user.result "$frame"
expect_err "setfattr on a video directory" "$ROFS" setfattr -n user.x -v 1 "$MNT/clip.mp4"
expect_err "cp onto a passthrough file" "$ROFS" cp "$SRC/sub/data.bin" "$MNT/notes.txt"
snapshot "$SRC" >"$WORK/snapshot.after"
if cmp -s "$WORK/snapshot.before" "$WORK/snapshot.after"; then
    pass "the source tree is unmodified after all write attempts"
else
    fail "the source tree changed: $(diff "$WORK/snapshot.before" "$WORK/snapshot.after" | head -n 6 | tr '\n' ' ')"
fi

# ---------------------------------------------------------------- readdir

alive "$MNT"

clip_oracle=$(oracle_of "$MEDIA_DIR/h264_bframes.mp4")
clip_end=$(oracle_header "$clip_oracle" end_time)
webm_oracle=$(oracle_of "$MEDIA_DIR/vp9.webm")
mkv_oracle=$(oracle_of "$MEDIA_DIR/sub/mpeg4.mkv")

check_listing() {   # LABEL DIR END INTERVAL
    local got want
    got=$(t ls -A "$2" 2>&1 | sort)
    want=$(expected_listing "$3" "$4")
    if [ "$got" = "$want" ]; then
        pass "$1: lists [$(echo $want)]"
    else
        fail "$1: lists [$(echo $got)], want [$(echo $want)] (t = k*$4 < end $3)"
    fi
}
check_listing "readdir of clip.mp4 (list_interval=1)" "$MNT/clip.mp4" "$clip_end" 1
check_listing "readdir of sub/inner.webm" "$MNT/sub/inner.webm" "$(oracle_header "$webm_oracle" end_time)" 1
check_listing "readdir of sub/deeper/deep.mkv" "$MNT/sub/deeper/deep.mkv" "$(oracle_header "$mkv_oracle" end_time)" 1
# ls -l produces every listed frame: all must succeed with a real size.
bad=$(t ls -l "$MNT/clip.mp4" 2>&1 | awk 'NR > 1 && ($5 + 0 == 0) { print }')
[ -z "$bad" ] && pass "ls -l of a video dir: every listed frame has a size" || fail "ls -l: entries with size 0: $bad"
got=$(t ls -A "$MNT/bad.mp4" 2>&1)
st=$?
[ "$st" -ne 124 ] && [ "$st" -ne 137 ] && pass "readdir of a non-video .mp4 returns (status $st, [$(echo $got)])" ||
    fail "readdir of a non-video .mp4 hangs"

# ---------------------------------------------------------------- xattrs

alive "$MNT"

# check_xattr_consistency LABEL PATH: listxattr lists exactly the user.*
# names getxattr answers (among the names SPEC defines and the listed ones),
# size queries and ERANGE behave.
check_xattr_consistency() {
    local label=$1 f=$2 line names n total name r size val
    line=$(fsq_q listxattr "$f" 0)
    case $line in "ok "*) total=${line#ok } ;; *) fail "$label: listxattr size query: $line"; return ;; esac
    line=$(fsq_q listxattr "$f" 65536)
    case $line in "ok "*) ;; *) fail "$label: listxattr: $line"; return ;; esac
    names=${line#ok * }
    [ "$line" = "ok $total" ] && names=""
    n=0
    for name in $names; do n=$((n + ${#name} + 1)); done
    [ "$n" = "$total" ] && pass "$label: listxattr size query ($total) matches the list" ||
        fail "$label: listxattr size query says $total, the list takes $n bytes"
    if [ "$total" -gt 0 ]; then
        r=$(fsq_q listxattr "$f" 1)
        [ "$r" = "err ERANGE" ] && pass "$label: listxattr with a 1-byte buffer gives ERANGE" ||
            fail "$label: listxattr with a 1-byte buffer: $r"
    fi
    for name in $names; do
        r=$(fsq_q getxattr "$f" "$name" 0)
        case $r in
        "ok "*)
            size=${r#ok }
            val=$(fsq_q getxattr "$f" "$name" "$size")
            [ "$val" = "ok $size ${val#ok "$size" }" ] || fail "$label: $name: full read: $val"
            # (a 1-byte value: a 0-byte buffer asks for the size instead)
            if [ "$size" -gt 1 ]; then
                r=$(fsq_q getxattr "$f" "$name" $((size - 1)))
                [ "$r" = "err ERANGE" ] || fail "$label: $name with a buffer 1 byte short: $r, want ERANGE"
            fi
            ;;
        *) fail "$label: $name is listed but getxattr says $r" ;;
        esac
    done
    for name in user.requested_time user.actual_time user.result user.error user.duration \
        user.width user.height user.frame_rate user.codec; do
        case " $names " in *" $name "*) continue ;; esac
        r=$(fsq_q getxattr "$f" "$name" 256)
        [ "$r" = "err ENODATA" ] || fail "$label: $name is not listed but getxattr says '$r' (want ENODATA)"
    done
    r=$(fsq_q getxattr "$f" user.no_such_attribute 256)
    [ "$r" = "err ENODATA" ] && pass "$label: an unknown name gives ENODATA" || fail "$label: unknown name: $r"
    pass "$label: listed names [$names] all answered, the others ENODATA"
}

# exact xattr value (no NUL, no newline)
expect_xattr() {   # LABEL PATH NAME VALUE
    local got
    got=$(xattr_get "$2" "$3" | od -An -c | tr -s ' ' | sed 's/^ //; s/ $//')
    local want
    want=$(printf '%s' "$4" | od -An -c | tr -s ' ' | sed 's/^ //; s/ $//')
    [ "$got" = "$want" ] && pass "$1: $3 = '$4'" || fail "$1: $3 is [$got], want [$want]"
}

check_xattr_consistency "frame xattrs (success)" "$frame"
expect_xattr "succeeded frame" "$frame" user.result succeeded
r=$(fsq_q getxattr "$frame" user.result 0)
[ "$r" = "ok 9" ] && pass "size query of user.result gives 9" || fail "size query of user.result: $r"
r=$(fsq_q getxattr "$frame" user.result 9)
[ "$r" = "ok 9 succeeded" ] && pass "getxattr with an exact-size buffer" || fail "getxattr with an exact buffer: $r"
r=$(fsq_q getxattr "$frame" user.result 3)
[ "$r" = "err ERANGE" ] && pass "getxattr with a small buffer gives ERANGE" || fail "getxattr small buffer: $r"
r=$(fsq_q getxattr "$frame" user.error 256)
[ "$r" = "err ENODATA" ] && pass "user.error is absent (ENODATA) on success" || fail "user.error on success: $r"
names=$(xattr_names "$frame" | tr '\n' ' ')
for name in user.actual_time user.requested_time user.result; do
    case " $names" in *" $name "*) pass "getfattr -d of a frame shows $name" ;; *) fail "getfattr -d of a frame lacks $name: [$names]" ;; esac
done
expect_xattr "frame t=1" "$frame" user.requested_time 1.000000
expect_xattr "frame t=1" "$frame" user.actual_time 1.000000

past="$MNT/clip.mp4/t=50.png"
check_xattr_consistency "frame xattrs (past the end)" "$past"
expect_xattr "past-the-end frame" "$past" user.result failed
expect_xattr "past-the-end frame" "$past" user.requested_time 50.000000
e=$(xattr_get "$past" user.error)
[ -n "$e" ] && pass "past-the-end frame has a user.error ('$e')" || fail "past-the-end frame: no user.error"
[ "$(t stat -c %s "$past")" = 0 ] && pass "past-the-end frame has size 0" || fail "past-the-end frame size $(t stat -c %s "$past")"
expect_err "open of a past-the-end frame" "Input/output error" "$FSQ" open "$past" r
expect_err "cat of a past-the-end frame" "Input/output error" cat "$past"

# video directories
check_video_dir() {   # LABEL PATH ORACLE
    local label=$1 d=$2 oracle=$3 v want afr
    check_xattr_consistency "$label" "$d"
    v=$(xattr_get "$d" user.duration)
    want=$(oracle_header "$oracle" end_time)
    if [ -n "$v" ] && [ "$(us "$v")" -ge $(($(us "$want") - 1)) ] && [ "$(us "$v")" -le $(($(us "$want") + 1)) ]; then
        pass "$label: user.duration = $v"
    else
        fail "$label: user.duration = '$v', want $want (end of the last frame)"
    fi
    expect_xattr "$label" "$d" user.width "$(oracle_header "$oracle" width)"
    expect_xattr "$label" "$d" user.height "$(oracle_header "$oracle" height)"
    expect_xattr "$label" "$d" user.codec "$(oracle_header "$oracle" codec)"
    v=$(xattr_get "$d" user.frame_rate)
    afr=$(oracle_header "$oracle" avg_frame_rate)
    if awk -v v="$v" -v f="$afr" 'BEGIN { split(f, a, "/"); exit !(v != "" && a[2] > 0 && (v - a[1] / a[2])^2 < 1e-6) }'; then
        pass "$label: user.frame_rate = $v ($afr)"
    else
        fail "$label: user.frame_rate = '$v', want $afr"
    fi
    v=$(xattr_get "$d" user.result)
    [ -z "$v" ] || [ "$v" = succeeded ] && pass "$label: no failure reported" || fail "$label: user.result = '$v'"
    r=$(fsq_q getxattr "$d" user.error 256)
    [ "$r" = "err ENODATA" ] && pass "$label: user.error absent" || fail "$label: user.error: $r"
}
check_video_dir "video dir clip.mp4" "$MNT/clip.mp4" "$clip_oracle"
check_video_dir "video dir rot.mp4 (rotated: width/height as displayed)" "$MNT/rot.mp4" "$(oracle_of "$MEDIA_DIR/rotated90.mp4")"
check_video_dir "video dir sub/inner.webm" "$MNT/sub/inner.webm" "$webm_oracle"
check_video_dir "video dir sub/deeper/deep.mkv" "$MNT/sub/deeper/deep.mkv" "$mkv_oracle"

# not a video, though named like one
for b in bad.mp4 empty.mkv; do
    check_xattr_consistency "$b dir" "$MNT/$b"
    expect_xattr "$b dir" "$MNT/$b" user.result failed
    e=$(xattr_get "$MNT/$b" user.error)
    [ -n "$e" ] && pass "$b dir: user.error = '$e'" || fail "$b dir: no user.error"
    f="$MNT/$b/t=0.png"
    v=$(xattr_get "$f" user.result)
    [ "$v" = failed ] && pass "$b/t=0.png: user.result = failed" || fail "$b/t=0.png: user.result = '$v'"
    e=$(xattr_get "$f" user.error)
    [ -n "$e" ] && pass "$b/t=0.png: user.error = '$e'" || fail "$b/t=0.png: no user.error"
    [ "$(t stat -c %s "$f" 2>&1)" = 0 ] && pass "$b/t=0.png has size 0" || fail "$b/t=0.png: size $(t stat -c %s "$f" 2>&1)"
    expect_err "cat $b/t=0.png" "Input/output error" cat "$f"
done

# ---------------------------------------------------------------- names

alive "$MNT"

for name in 't=abc.png' 'x=1.png' 't=1.gif' 't=-1.png' 'tol=1.png' 't=1,tol=-1.png' \
    't=1,t=2.png' 't=.png' 't=1,foo=2.png' 't=nan.png' 't=inf.png' 't=1e3.png' 't=+1.png' \
    't=1 .png' 't= 1.png' 't=1.png.png' 't=1,.png' 't=1,tol=.png' 't=1,before=-0.1.png' \
    't=1,after=x.png' 't=00:61.png' 't=1' '.png' 't=1.' 'T=1.png' 't=1,tol=1,tol=2.png' \
    't=0x10.png' 't=1..5.png' 't=1:2:3:4.png' 't==1.png'; do
    expect_err "malformed name '$name'" "No such file or directory" stat "$MNT/clip.mp4/$name"
done
for name in 't=1.png' 't=1.0.png' 't=.5.png' 't=01.500.png' 't=00:00:01.png' 't=0:01.5.png' \
    't=1,tol=inf.png' 't=1,before=0,after=0.png' 't=1,tol=0.1,after=0.png' 't=2,before=inf.png'; do
    expect_err "valid name '$name' exists" ok stat "$MNT/clip.mp4/$name"
done
expect_err "a frame name at the root" "No such file or directory" stat "$MNT/t=1.png"
expect_err "a frame name in a plain directory" "No such file or directory" stat "$MNT/sub/t=1.png"
expect_err "a frame name under a passthrough file" "Not a directory" stat "$MNT/notes.txt/t=1.png"
# Same frame, different spellings: same pixels, checked against the oracle.
for name in 't=1.5.png' 't=01.500000.png' 't=00:00:01.5.png'; do
    if t cat "$MNT/clip.mp4/$name" >"$WORK/spell.png" 2>/dev/null; then
        frame_md5_ok h264_bframes.mp4 "$WORK/spell.png" 1.5 "spelling '$name'"
    else
        fail "spelling '$name': cannot read"
    fi
done

# ---------------------------------------------------------------- permissions

alive "$MNT"

check_mode() {   # LABEL PATH MODE UID GID
    local got
    got=$(t stat -c '%a %u %g' "$2" 2>&1)
    [ "$got" = "$3 $4 $5" ] && pass "$1: mode/uid/gid $got" || fail "$1: mode/uid/gid '$got', want '$3 $4 $5'"
}
check_mode "frame of a 0644 video" "$MNT/clip.mp4/t=1.png" 444 1234 2345
check_mode "dir of a 0644 video" "$MNT/clip.mp4" 555 1234 2345
check_mode "frame of a 0640 video" "$MNT/private.mp4/t=1.png" 440 1234 2345
check_mode "dir of a 0640 video" "$MNT/private.mp4" 550 1234 2345
check_mode "frame of a 0600 video" "$MNT/owner_only.mp4/t=1.png" 400 1234 2345
check_mode "dir of a 0600 video" "$MNT/owner_only.mp4" 500 1234 2345
check_mode "failed frame of a 0644 video" "$MNT/clip.mp4/t=50.png" 444 1234 2345
m=$(t stat -c %Y "$MNT/clip.mp4/t=1.png")
[ "$m" = "$(stat -c %Y "$SRC/clip.mp4")" ] && pass "frame mtime = source mtime" ||
    fail "frame mtime $m, source $(stat -c %Y "$SRC/clip.mp4")"
m=$(t stat -c %Y "$MNT/clip.mp4")
[ "$m" = "$(stat -c %Y "$SRC/clip.mp4")" ] && pass "video dir mtime = source mtime" ||
    fail "video dir mtime $m, source $(stat -c %Y "$SRC/clip.mp4")"
m=$(t stat -c %a "$MNT/notes.txt")
[ $((8#$m & 8#444)) = $((8#644 & 8#444)) ] && [ $((8#$m & 8#222)) = 0 ] &&
    pass "passthrough file keeps its read bits, no write bits ($m)" || fail "passthrough file mode $m for a 0644 source"

# ---------------------------------------------------------------- stable bytes

alive "$MNT"

f="$MNT/clip.mp4/t=2.5.png"
t cat "$f" >"$WORK/r1.png" 2>/dev/null
frame_md5_ok h264_bframes.mp4 "$WORK/r1.png" 2.5 "t=2.5.png"
size=$(t stat -c %s "$f")
[ "$size" = "$(stat -c %s "$WORK/r1.png")" ] && pass "st_size ($size) is the PNG's size" ||
    fail "st_size $size, read $(stat -c %s "$WORK/r1.png") bytes"
t cat "$f" >"$WORK/r2.png" 2>/dev/null
t cp "$f" "$WORK/r3.png" 2>/dev/null
t "$FSQ" read "$f" 1000 >"$WORK/r4.png" 2>/dev/null
t "$FSQ" read "$f" 7 >"$WORK/r5.png" 2>/dev/null
t "$FSQ" mmap "$f" >"$WORK/r6.png" 2>/dev/null
for k in 2 3 4 5 6; do
    cmp -s "$WORK/r1.png" "$WORK/r$k.png" || break
done
[ "$k" = 6 ] && cmp -s "$WORK/r1.png" "$WORK/r6.png" &&
    pass "repeated reads (cat, cp, 1000- and 7-byte reads, mmap) give identical bytes" ||
    fail "read #$k of $f differs from the first"
bad_slices=""
for off in 0 1 100 $((size / 2)) $((size - 10)); do
    r=$(t "$FSQ" pread "$f" "$off" 37 2>&1 >"$WORK/slice")
    want=$((size - off < 37 ? size - off : 37))
    # (no "tail | head" here: with pipefail, head closing early fails tail)
    if [ "$(stat -c %s "$WORK/slice")" != "$want" ] ||
        ! cmp -s -n "$want" -i "$off:0" "$WORK/r1.png" "$WORK/slice"; then
        bad_slices+=" offset $off ($r, $(stat -c %s "$WORK/slice") bytes)"
    fi
done
r=$(t "$FSQ" pread "$f" $((size + 100)) 10 2>&1 >"$WORK/slice")
[ -s "$WORK/slice" ] && bad_slices+=" past EOF ($r)"
[ -z "$bad_slices" ] && pass "pread at offsets (and past EOF) returns the right slices" ||
    fail "pread of $f (size $size) gives wrong slices at:$bad_slices"

# ---------------------------------------------------------------- source change

alive "$MNT"

cf="$MNT/changing.mp4/t=1.png"
t cat "$cf" >"$WORK/c1.png" 2>/dev/null
frame_md5_ok h264_bframes.mp4 "$WORK/c1.png" 1 "changing.mp4 before the change"
xattr_get "$MNT/changing.mp4" user.width >/dev/null
# Same size (a remux), new contents and mtime, same inode.
cat "$MEDIA_DIR/rotated90.mp4" >"$SRC/changing.mp4"
touch -d '2021-05-06 07:08:09' "$SRC/changing.mp4"
t cat "$cf" >"$WORK/c2.png" 2>/dev/null
frame_md5_ok rotated90.mp4 "$WORK/c2.png" 1 "changing.mp4 rewritten in place (same size, new mtime)"
w=$(xattr_get "$MNT/changing.mp4" user.width)
[ "$w" = 240 ] && pass "changing.mp4: user.width follows the new contents" || fail "changing.mp4: user.width '$w' after the change, want 240"
# Replaced by rename (new inode, other size).
cp "$MEDIA_DIR/vp9.webm" "$SRC/.new"
mv -f "$SRC/.new" "$SRC/changing.mp4"
t cat "$cf" >"$WORK/c3.png" 2>/dev/null
frame_md5_ok vp9.webm "$WORK/c3.png" 1 "changing.mp4 replaced by rename"

# ---------------------------------------------------------------- clean unmount

alive "$MNT"

unmount_framefs "$MNT" && pass "unmount: framefs exited 0"

# ---------------------------------------------------------------- list_interval

# A frame read through a new mount is byte-identical to the first mount's.
MNT2=$WORK/mnt2
if mount_framefs "$SRC" "$MNT2" list_interval=0.5; then
    check_listing "readdir with list_interval=0.5" "$MNT2/clip.mp4" "$clip_end" 0.5
    if t cmp -s "$MNT2/clip.mp4/t=2.5.png" "$WORK/r1.png"; then
        pass "the same name gives the same bytes in a new mount"
    else
        fail "t=2.5.png differs between two mounts of the same source"
    fi
    mount_alive "$MNT2"
    unmount_framefs "$MNT2"
fi
if mount_framefs "$SRC" "$MNT2" list_interval=0; then
    got=$(t ls -A "$MNT2/clip.mp4" 2>&1)
    [ -z "$got" ] && pass "readdir with list_interval=0 lists nothing" || fail "list_interval=0 lists [$(echo $got)]"
    expect_err "frames still exist with list_interval=0" ok stat "$MNT2/clip.mp4/t=1.png"
    mount_alive "$MNT2"
    unmount_framefs "$MNT2"
fi
# (a comma inside an -o value is escaped with a backslash, as libfuse wants)
if mount_framefs "$SRC" "$MNT2" 'list_interval=1.5,video_ext=txt\,mp4'; then
    check_listing "readdir with list_interval=1.5" "$MNT2/clip.mp4" "$clip_end" 1.5
    ty=$(t stat -c %F "$MNT2/notes.txt" 2>&1)
    [ "$ty" = directory ] && pass "video_ext=txt,mp4: notes.txt is a video directory" || fail "video_ext=txt,mp4: notes.txt is '$ty'"
    ty=$(t stat -c %F "$MNT2/sub/inner.webm" 2>&1)
    case $ty in regular*) pass "video_ext=txt,mp4: inner.webm is a plain file" ;; *) fail "video_ext=txt,mp4: inner.webm is '$ty'" ;; esac
    mount_alive "$MNT2"
    unmount_framefs "$MNT2"
fi

# ---------------------------------------------------------------- other users

if command -v setpriv >/dev/null && mount_framefs "$SRC" "$MNT2" allow_other; then
    as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
    expect_err "another user reads a frame of a 0644 video" ok as_nobody cat "$MNT2/clip.mp4/t=1.png"
    expect_err "another user reads a passthrough file" ok as_nobody cat "$MNT2/notes.txt"
    expect_err "another user cannot read a frame of a 0640 video" "Permission denied" as_nobody cat "$MNT2/private.mp4/t=1.png"
    expect_err "another user cannot list a 0640 video" "Permission denied" as_nobody ls "$MNT2/private.mp4"
    expect_err "another user cannot read a frame of a 0600 video" "Permission denied" as_nobody cat "$MNT2/owner_only.mp4/t=1.png"
    expect_err "the owner reads a frame of a 0600 video" ok setpriv --reuid=1234 --regid=2345 --clear-groups cat "$MNT2/owner_only.mp4/t=1.png"
    expect_err "the group reads a frame of a 0640 video" ok setpriv --reuid=4321 --regid=2345 --clear-groups cat "$MNT2/private.mp4/t=1.png"
    mount_alive "$MNT2"
    unmount_framefs "$MNT2"
else
    skip "allow_other / other users (no setpriv or no mount)"
fi

# ---------------------------------------------------------------- parallel readers

# A fresh mount (nothing cached), 16 concurrent cp: 8 different frames of two
# videos and 8 copies of one frame under 3 spellings.
if mount_framefs "$SRC" "$MNT2" workers=2; then
    jobs_list=()
    for tt in 0.3 0.9 1.4 2.05 2.6 3.1 3.7; do jobs_list+=("clip.mp4 h264_bframes.mp4 $tt t=$tt.png"); done
    jobs_list+=("rot.mp4 rotated90.mp4 2.2 t=2.2.png")
    for k in 1 2 3 4 5; do jobs_list+=("rot.mp4 rotated90.mp4 3.3 t=3.3.png"); done
    jobs_list+=("rot.mp4 rotated90.mp4 3.3 t=3.30.png" "rot.mp4 rotated90.mp4 3.3 t=03.300000.png" "rot.mp4 rotated90.mp4 3.3 t=00:03.3.png")
    pids=()
    k=0
    for j in "${jobs_list[@]}"; do
        set -- $j
        t cp "$MNT2/$1/$4" "$WORK/par.$k.png" 2>"$WORK/par.$k.err" &
        pids+=($!)
        k=$((k + 1))
    done
    k=0
    for j in "${jobs_list[@]}"; do
        set -- $j
        if wait "${pids[$k]}"; then
            frame_md5_ok "$2" "$WORK/par.$k.png" "$3" "parallel reader $k ($1/$4)"
        else
            fail "parallel reader $k ($1/$4): cp failed: $(head -c 200 "$WORK/par.$k.err")"
        fi
        k=$((k + 1))
    done
    mount_alive "$MNT2"
    unmount_framefs "$MNT2" && pass "unmount after parallel readers"
fi

# ---------------------------------------------------------------- command line

# bad_cmdline LABEL ARGS...: framefs -f ARGS exits non-zero quickly with
# exactly one line on stderr, and mounts nothing on $BADMNT.
BADMNT=$WORK/badmnt
mkdir -p "$BADMNT"
bad_cmdline() {
    local label=$1 st lines
    shift
    timeout -k 2 10 "$FRAMEFS" -f "$@" </dev/null >"$WORK/bad.out" 2>"$WORK/bad.err"
    st=$?
    lines=$(grep -c . "$WORK/bad.err")
    if is_mounted "$BADMNT"; then
        fusermount3 -uz "$BADMNT" 2>/dev/null
        fail "bad command line ($label): framefs mounted anyway"
    elif [ "$st" -eq 124 ] || [ "$st" -eq 137 ]; then
        fail "bad command line ($label): framefs did not exit within 10 s"
    elif [ "$st" -eq 0 ]; then
        fail "bad command line ($label): exit status 0"
    elif [ "$lines" -ne 1 ]; then
        fail "bad command line ($label): exit $st but $lines lines on stderr: $(head -c 300 "$WORK/bad.err" | tr '\n' '|')"
    else
        pass "bad command line ($label): exit $st, '$(cat "$WORK/bad.err")'"
    fi
}
: >"$WORK/plainfile"
bad_cmdline "no arguments"
bad_cmdline "missing SOURCE_DIR" "$WORK/no-such-dir" "$BADMNT"
bad_cmdline "SOURCE_DIR is a file" "$WORK/plainfile" "$BADMNT"
bad_cmdline "mountpoint is a file" "$SRC" "$WORK/plainfile"
bad_cmdline "mountpoint does not exist" "$SRC" "$WORK/no-such-mnt"
bad_cmdline "workers=0" -o workers=0 "$SRC" "$BADMNT"
bad_cmdline "workers=abc" -o workers=abc "$SRC" "$BADMNT"
bad_cmdline "cache_size=abc" -o cache_size=abc "$SRC" "$BADMNT"
bad_cmdline "cache_size=12Q" -o cache_size=12Q "$SRC" "$BADMNT"
bad_cmdline "png_level=10" -o png_level=10 "$SRC" "$BADMNT"
bad_cmdline "tol=-1" -o tol=-1 "$SRC" "$BADMNT"
bad_cmdline "tol=abc" -o tol=abc "$SRC" "$BADMNT"
bad_cmdline "list_interval=-1" -o list_interval=-1 "$SRC" "$BADMNT"
bad_cmdline "unknown option" -o no_such_option=1 "$SRC" "$BADMNT"
if mount_framefs "$SRC" "$MNT2"; then
    BADMNT_SAVE=$BADMNT
    BADMNT=$WORK/none
    timeout -k 2 10 "$FRAMEFS" -f "$SRC" "$MNT2" </dev/null >"$WORK/bad.out" 2>"$WORK/bad.err"
    st=$?
    lines=$(grep -c . "$WORK/bad.err")
    n=$(awk -v m="$(cd "$MNT2" && pwd -P)" '$5 == m' /proc/self/mountinfo | wc -l)
    if [ "$n" -gt 1 ]; then
        fail "busy mountpoint: a second framefs mounted over the first"
        fusermount3 -u "$MNT2" 2>/dev/null
    elif [ "$st" -eq 0 ] || [ "$st" -eq 124 ] || [ "$lines" -ne 1 ]; then
        fail "busy mountpoint: exit $st, $lines lines on stderr: $(head -c 300 "$WORK/bad.err" | tr '\n' '|')"
    else
        pass "busy mountpoint: exit $st, '$(cat "$WORK/bad.err")'"
    fi
    expect_err "the first mount still works" ok stat "$MNT2/clip.mp4/t=0.png"
    BADMNT=$BADMNT_SAVE
    mount_alive "$MNT2"
    unmount_framefs "$MNT2"
fi
