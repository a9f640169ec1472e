#!/usr/bin/env bash
# Read-only and containment (SPEC "The tree": paths never reach outside
# SOURCE_DIR; everything is read-only, EROFS).
#
# Write matrix: every write-type system call (open O_WRONLY / O_RDWR /
# O_TRUNC / O_APPEND / O_CREAT / O_EXCL / O_TMPFILE, creat, mkdir, rmdir,
# unlink, rename away / onto / into, link, symlink, mknod fifo and regular,
# chmod, chown, truncate, utime, setxattr, removexattr) on every kind of node
# (root, directory, empty directory, passthrough file, a file reached through
# a symlink, video directory, failed video directory, frame, failed frame):
#   1. as root on the normal (ro) mount: the kernel answers;
#   2. as root after "mount -o remount,rw": now framefs itself answers, and
#      must still refuse everything (it may not rely on the ro flag);
#   3. as another user (nobody) on an allow_other mount.
# The answer must be EROFS, or the errno the kernel gives before asking the
# filesystem (EISDIR for a directory opened for writing, EEXIST for creating
# an existing name, EBUSY/EXDEV for the mount root, EPERM for a hard link to
# a directory, ENOTDIR, EOPNOTSUPP for O_TMPFILE; EACCES/EPERM for another
# user); never success, never ENOSYS.  Which errno each combination got is
# printed.  The source tree and the files outside it are byte-for-byte
# unchanged afterwards.
#
# Containment: symlinks in the source that point outside it (relative,
# absolute, to a directory, to a video, to /, /etc, /proc/self/root, ..,
# /dev/null, through a chain, from a subdirectory) are ENOENT and not listed;
# loops and dangling links are ENOENT (or ELOOP); symlinks that stay inside
# are followed; a fifo named like a video is hidden without hanging; a
# directory named like a video is a plain directory; ".." at and below the
# mount root goes to the mount's parent, never to SOURCE_DIR's; a symlink or
# a directory swapped for an escaping symlink while mounted is not followed
# (after the 1 s entry timeout); find over the whole mount (with a symlink to
# "." inside) terminates and shows nothing from outside.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../lib_robust.sh"

require_framefs
ensure_media

TOP=$WORK/top             # SOURCE_DIR's parent: holds a secret next to it
SRC=$TOP/src
OUT=$WORK/outside
MNTP=$WORK/m              # the mount point's parent
MNT=$MNTP/mnt
mkdir -p "$SRC/sub/deeper" "$SRC/emptydir" "$SRC/dir.mp4" "$SRC/swapdir" "$OUT/odir" "$OUT/swapdir" "$MNTP"
echo "SECRET-NEXT-TO-SOURCE" >"$TOP/secret.txt"
echo "SECRET-OUTSIDE" >"$OUT/o.txt"
echo "SECRET-OUTSIDE-DIR" >"$OUT/odir/x.txt"
echo "SECRET-SWAPPED-IN" >"$OUT/swapdir/f.txt"
echo "SECRET-SWAPPED-FILE" >"$OUT/swap_target.txt"
cp "$MEDIA_DIR/h264_bframes.mp4" "$OUT/ov.mp4"
if ! ffmpeg -nostdin -hide_banner -loglevel error -f lavfi -i testsrc=size=160x120:rate=25:duration=3 \
    -pix_fmt yuv420p "$OUT/other160.mp4" </dev/null; then
    fail "ffmpeg could not make other160.mp4"
    exit 1
fi
printf 'framefs notes\n' >"$SRC/notes.txt"
printf 'other file\n' >"$SRC/other.txt"
printf 'in sub\n' >"$SRC/sub/data.txt"
printf 'in a dir named like a video\n' >"$SRC/dir.mp4/f.txt"
printf 'inside swapdir\n' >"$SRC/swapdir/f.txt"
cp "$MEDIA_DIR/h264_bframes.mp4" "$SRC/clip.mp4"
cp "$MEDIA_DIR/h264_bframes.mp4" "$SRC/vswap.mp4"
: >"$SRC/broken.mkv"
# escaping symlinks
ln -s ../secret.txt "$SRC/esc_up.txt"
ln -s "$OUT/o.txt" "$SRC/esc_abs.txt"
ln -s ../../outside/ov.mp4 "$SRC/esc_video.mp4"
ln -s "$OUT/odir" "$SRC/esc_dir"
ln -s /etc "$SRC/esc_etc"
ln -s / "$SRC/esc_root"
ln -s .. "$SRC/esc_parent"
ln -s /proc/self/root "$SRC/esc_proc"
ln -s esc_up.txt "$SRC/esc_chain.txt"
ln -s /dev/null "$SRC/esc_devnull.mp4"
ln -s ../../secret.txt "$SRC/sub/esc_deep.txt"
ln -s ../.. "$SRC/sub/esc_deep_dir"
# symlinks that stay inside
ln -s notes.txt "$SRC/in.txt"
ln -s "$SRC/notes.txt" "$SRC/in_abs.txt"
ln -s clip.mp4 "$SRC/in_video.mp4"
ln -s sub "$SRC/in_dir"
ln -s in.txt "$SRC/in_chain.txt"
ln -s ../notes.txt "$SRC/sub/in_up.txt"
ln -s . "$SRC/self"
ln -s notes.txt "$SRC/swap.txt"
# odd ones
ln -s loop2 "$SRC/loop1"
ln -s loop1 "$SRC/loop2"
ln -s missing.mp4 "$SRC/dangling.mp4"
mkfifo "$SRC/fifo.mp4"
ln -s fifo.mp4 "$SRC/to_fifo.mkv"
chmod -R go+rX "$TOP" "$OUT"

snap_before() { tree_snapshot "$TOP" >"$WORK/snap.top.before"; tree_snapshot "$OUT" >"$WORK/snap.out.before"; }
snap_check() {   # LABEL
    tree_snapshot "$TOP" >"$WORK/snap.top.after"
    tree_snapshot "$OUT" >"$WORK/snap.out.after"
    if cmp -s "$WORK/snap.top.before" "$WORK/snap.top.after" && cmp -s "$WORK/snap.out.before" "$WORK/snap.out.after"; then
        pass "$1: the source tree and the files outside it are unchanged (names, modes, owners, mtimes, contents)"
    else
        fail "$1: changed: $(diff "$WORK/snap.top.before" "$WORK/snap.top.after"; diff "$WORK/snap.out.before" "$WORK/snap.out.after" | head -n 8 | tr '\n' ' ')"
    fi
}
snap_before

# ---------------------------------------------------------------- write matrix

cat >"$WORK/matrix.py" <<'PY'
import errno, os, stat, sys

mnt, mode = sys.argv[1], sys.argv[2]     # mode: ro | rw | other
NODES = [("root", ""), ("dir", "sub"), ("emptydir", "emptydir"), ("file", "notes.txt"),
         ("linkedfile", "in.txt"), ("video", "clip.mp4"), ("brokenvideo", "broken.mkv"),
         ("frame", "clip.mp4/t=1.png"), ("failedframe", "clip.mp4/t=99.png"),
         ("brokenframe", "broken.mkv/t=0.png")]
OTHER = os.path.join(mnt, "other.txt")

def opener(flags):
    def f(p, d):
        fd = os.open(p, flags, 0o644)
        os.close(fd)
    return f

W = os.O_WRONLY
OPS = [  # name, for directories only, function(path, parent_dir)
    ("open_wronly", False, opener(W)),
    ("open_rdwr", False, opener(os.O_RDWR)),
    ("open_trunc", False, opener(os.O_RDONLY | os.O_TRUNC)),
    ("open_append", False, opener(W | os.O_APPEND)),
    ("open_creat", False, opener(W | os.O_CREAT)),
    ("open_excl", False, opener(W | os.O_CREAT | os.O_EXCL)),
    ("open_tmpfile", True, lambda p, d: opener(os.O_TMPFILE | W)(p, d)),
    ("creat_new", True, lambda p, d: opener(W | os.O_CREAT | os.O_TRUNC)(os.path.join(p, "zz_new"), d)),
    ("mkdir_new", True, lambda p, d: os.mkdir(os.path.join(p, "zz_dir"))),
    ("mkdir_existing", False, lambda p, d: os.mkdir(p)),
    ("rmdir", False, lambda p, d: os.rmdir(p)),
    ("unlink", False, lambda p, d: os.unlink(p)),
    ("rename_away", False, lambda p, d: os.rename(p, os.path.join(d, "zz_renamed"))),
    ("rename_onto", False, lambda p, d: os.rename(OTHER, p)),
    ("rename_into", True, lambda p, d: os.rename(OTHER, os.path.join(p, "zz_moved"))),
    ("link_away", False, lambda p, d: os.link(p, os.path.join(mnt, "zz_link"))),
    ("link_into", True, lambda p, d: os.link(OTHER, os.path.join(p, "zz_link"))),
    ("link_onto", False, lambda p, d: os.link(OTHER, p)),
    ("symlink_new", True, lambda p, d: os.symlink("notes.txt", os.path.join(p, "zz_sym"))),
    ("symlink_onto", False, lambda p, d: os.symlink("notes.txt", p)),
    ("mkfifo_new", True, lambda p, d: os.mkfifo(os.path.join(p, "zz_fifo"))),
    ("mknod_reg_new", True, lambda p, d: os.mknod(os.path.join(p, "zz_reg"), 0o644 | stat.S_IFREG)),
    ("mkfifo_onto", False, lambda p, d: os.mkfifo(p)),
    ("chmod", False, lambda p, d: os.chmod(p, 0o777)),
    ("chown", False, lambda p, d: os.chown(p, 0, 0)),
    ("chown_other", False, lambda p, d: os.chown(p, 1234, 1234)),
    ("truncate", False, lambda p, d: os.truncate(p, 0)),
    ("truncate_grow", False, lambda p, d: os.truncate(p, 1 << 20)),
    ("utime", False, lambda p, d: os.utime(p, (0, 0))),
    ("utime_now", False, lambda p, d: os.utime(p)),
    ("setxattr_new", False, lambda p, d: os.setxattr(p, "user.x", b"1")),
    ("setxattr_result", False, lambda p, d: os.setxattr(p, "user.result", b"succeeded")),
    ("removexattr", False, lambda p, d: os.removexattr(p, "user.result")),
    ("removexattr_absent", False, lambda p, d: os.removexattr(p, "user.absent")),
]

def allowed(kind, isdir, op):
    a = {"EROFS"}
    if isdir and op in ("open_wronly", "open_rdwr", "open_trunc", "open_append", "open_creat",
                        "truncate", "truncate_grow", "unlink", "rename_onto"):
        a.add("EISDIR")
    if op in ("open_excl", "mkdir_existing", "link_onto", "symlink_onto", "mkfifo_onto"):
        a.add("EEXIST")
    if op == "rmdir" and not isdir:
        a.add("ENOTDIR")
    if op == "unlink" and isdir:
        a.add("EPERM")
    if op == "link_away" and isdir:
        a.add("EPERM")
    if op == "open_tmpfile":
        a.update({"EOPNOTSUPP", "ENOTSUP", "EISDIR"})   # (the same number on Linux)
    if op == "removexattr_absent":
        a.add("ENODATA")
    if kind == "root" and op in ("rmdir", "unlink", "rename_away", "rename_onto"):
        a.update({"EBUSY", "EXDEV"})
    if kind in ("failedframe", "brokenframe") and op.startswith("open_"):
        a.add("EIO")           # a failed frame cannot be opened at all
    if mode == "other":
        a.update({"EACCES", "EPERM"})
    return a

by_errno = {}
bad = []
n = 0
for kind, rel in NODES:
    p = os.path.join(mnt, rel) if rel else mnt
    try:
        isdir = stat.S_ISDIR(os.stat(p).st_mode)
    except OSError as e:
        bad.append("%s (%s): cannot stat: %s" % (kind, rel, e.strerror))
        continue
    parent = os.path.dirname(p.rstrip("/"))
    for op, dirs_only, fn in OPS:
        if dirs_only and not isdir:
            continue
        try:
            fn(p, parent)
            got = "ok"
        except OSError as e:
            got = errno.errorcode.get(e.errno, str(e.errno))
        n += 1
        by_errno.setdefault(got, []).append("%s:%s" % (kind, op))
        if got not in allowed(kind, isdir, op):
            bad.append("%s %s on %s (/%s): %s, want %s" % (mode, op, kind, rel, got,
                                                        " or ".join(sorted(allowed(kind, isdir, op)))))
print("  %s: %d calls: %s" % (mode, n, ", ".join("%s=%d" % (e, len(v)) for e, v in sorted(by_errno.items()))))
# which calls got what, compactly: "op(all)" or "op(kind,kind)"
kinds_of = {}
for e, v in by_errno.items():
    for kv in v:
        kind, op = kv.split(":")
        kinds_of.setdefault(op, []).append(kind)
for e, v in sorted(by_errno.items()):
    if e == "EROFS":
        continue
    ops = {}
    for kv in v:
        kind, op = kv.split(":")
        ops.setdefault(op, []).append(kind)
    print("    %s: %s" % (e, " ".join(
        "%s(%s)" % (op, "all" if len(ks) == len(kinds_of[op]) else ",".join(ks)) for op, ks in ops.items())))
for b in bad:
    print("  wrong: " + b)
sys.exit(1 if bad else 0)
PY
chmod 0644 "$WORK/matrix.py"

# run_matrix LABEL MNT MODE [RUNNER...]
run_matrix() {
    local label=$1 mnt=$2 mode=$3 out st
    shift 3
    out=$(OP_TIMEOUT=60 t "$@" "$PYTHON" "$WORK/matrix.py" "$mnt" "$mode" 2>&1)
    st=$?
    printf '%s\n' "$out" | grep -v '^  wrong: '
    case $st in
    0) pass "$label: every write-type call refused (EROFS, or the kernel's own errno listed above)" ;;
    1) printf '%s\n' "$out" | grep '^  wrong: ' | head -n 20
       fail "$label: $(printf '%s\n' "$out" | grep -c '^  wrong: ') calls were not refused as they should be (above)" ;;
    *) fail "$label: the matrix did not finish (status $st): $(printf '%s' "$out" | tail -n 3 | tr '\n' ' ')" ;;
    esac
}

mount_framefs "$SRC" "$MNT" list_interval=0 || exit 1
alive() { mount_alive "$MNT" || exit 1; }
t cat "$MNT/clip.mp4/t=1.png" >/dev/null 2>&1

if find_python; then
    run_matrix "write matrix as root, ro mount" "$MNT" ro
    alive
    snap_check "after the write matrix (ro mount)"
    # Remount read-write: the calls now reach framefs.
    if timeout -k 2 10 mount -i -o remount,rw "$MNT" 2>"$WORK/remount.err" &&
        awk -v m="$MNT" '$5 == m && $6 ~ /(^|,)rw(,|$)/ { f = 1 } END { exit !f }' /proc/self/mountinfo; then
        run_matrix "write matrix as root after remount,rw (framefs answers itself)" "$MNT" rw
        alive
        snap_check "after the write matrix (remounted rw)"
        timeout -k 2 10 mount -i -o remount,ro "$MNT" 2>/dev/null
    else
        skip "remount,rw of the mount not possible here: $(head -c 200 "$WORK/remount.err")"
    fi
    if command -v setpriv >/dev/null &&
        setpriv --reuid=65534 --regid=65534 --clear-groups "$PYTHON" -c pass 2>/dev/null; then
        MNTO=$WORK/mo/mnt
        mkdir -p "$WORK/mo"
        chmod 755 "$WORK/mo"
        if mount_framefs "$SRC" "$MNTO" allow_other,list_interval=0; then
            run_matrix "write matrix as nobody (allow_other)" "$MNTO" other \
                setpriv --reuid=65534 --regid=65534 --clear-groups
            mount_alive "$MNTO"
            unmount_framefs "$MNTO"
            snap_check "after the write matrix as nobody"
        fi
    else
        skip "write matrix as another user: no setpriv, or $PYTHON cannot be run by nobody"
    fi
else
    skip "write matrix: no python3"
fi

# ---------------------------------------------------------------- containment

# gone LABEL PATH: stat is ENOENT (ELOOP too when LOOP=1).
gone() {
    local got
    got=$(errno_of stat -- "$2")
    if [ "$got" = "No such file or directory" ] || { [ "${LOOP:-0}" = 1 ] && [ "$got" = "Too many levels of symbolic links" ]; }; then
        pass "$1: $got"
    else
        fail "$1: stat gives '$got', want ENOENT"
    fi
}
# same_content LABEL MNT_PATH SRC_FILE
same_content() {
    if t cmp -s "$2" "$3"; then pass "$1: followed, same contents as ${3#"$TOP/"}"; else fail "$1: not followed or other contents ($(errno_of cat "$2"))"; fi
}

for p in esc_up.txt esc_abs.txt esc_video.mp4 esc_dir esc_etc esc_root esc_parent esc_proc esc_chain.txt \
    esc_devnull.mp4 sub/esc_deep.txt sub/esc_deep_dir dangling.mp4 fifo.mp4 to_fifo.mkv; do
    gone "symlink/special $p (target outside, missing or not a file)" "$MNT/$p"
done
LOOP=1 gone "symlink loop loop1" "$MNT/loop1"
gone "a file inside an escaping directory link" "$MNT/esc_dir/x.txt"
gone "a frame of an escaping video link" "$MNT/esc_video.mp4/t=0.png"
gone "secret through sub/esc_deep_dir" "$MNT/sub/esc_deep_dir/secret.txt"
listing=$(t ls -A "$MNT" 2>&1 | tr '\n' ' ')
leaked=""
for n in esc_up.txt esc_abs.txt esc_video.mp4 esc_dir esc_etc esc_root esc_parent esc_proc esc_chain.txt \
    esc_devnull.mp4 dangling.mp4 fifo.mp4 to_fifo.mkv loop1 loop2; do
    case " $listing" in *" $n "*) leaked+=" $n" ;; esac
done
[ -z "$leaked" ] && pass "escaping, dangling, looping links and the fifo are not listed" ||
    fail "listed although they do not exist:$leaked"
case " $listing" in *" in.txt "*" self "*) pass "links that stay inside are listed" ;; *) fail "inside links not listed: $listing" ;; esac

same_content "in.txt -> notes.txt" "$MNT/in.txt" "$SRC/notes.txt"
same_content "in_abs.txt -> SRC/notes.txt (absolute)" "$MNT/in_abs.txt" "$SRC/notes.txt"
same_content "in_chain.txt -> in.txt -> notes.txt" "$MNT/in_chain.txt" "$SRC/notes.txt"
same_content "sub/in_up.txt -> ../notes.txt" "$MNT/sub/in_up.txt" "$SRC/notes.txt"
same_content "in_dir/data.txt (in_dir -> sub)" "$MNT/in_dir/data.txt" "$SRC/sub/data.txt"
same_content "self/self/notes.txt (self -> .)" "$MNT/self/self/notes.txt" "$SRC/notes.txt"
same_content "dir.mp4/f.txt (a directory named like a video is a directory)" "$MNT/dir.mp4/f.txt" "$SRC/dir.mp4/f.txt"
ty=$(t stat -c %F "$MNT/in_video.mp4" 2>&1)
[ "$ty" = directory ] && pass "in_video.mp4 -> clip.mp4 is a video directory" || fail "in_video.mp4 is '$ty'"
oracle=$(oracle_of "$MEDIA_DIR/h264_bframes.mp4") || exit 1
idx=$(echo "x x 1 0 0" | oracle_expect "$oracle" | cut -d' ' -f4)
frame_is "in_video.mp4/t=1.png (through an inside link)" "$MNT/in_video.mp4/t=1.png" "$oracle" "$idx"
alive

# ".." at the mount root is the mount point's parent, not SOURCE_DIR's.
ino_parent=$(stat -c %i "$MNTP")
for p in "$MNT/.." "$MNT/sub/../.." "$MNT/clip.mp4/../.." "$MNT/self/../.." "$MNT/in_dir/../.."; do
    got=$(t stat -c %i "$p" 2>&1)
    [ "$got" = "$ino_parent" ] && pass "${p#"$WORK/"} is the mount point's parent" ||
        fail "${p#"$WORK/"}: inode '$got', want $ino_parent (the mount point's parent)"
done
got=$(t stat -c %i "$MNT/self/.." 2>&1)
[ "$got" = "$(stat -c %i "$MNT")" ] && pass "mnt/self/.. (self -> .) is the mount root" ||
    fail "mnt/self/..: inode '$got', want the mount root's $(stat -c %i "$MNT")"
for p in "$MNT/../secret.txt" "$MNT/sub/../../secret.txt" "$MNT/clip.mp4/../../secret.txt" "$MNT/../src/notes.txt"; do
    gone "${p#"$WORK/"} does not reach SOURCE_DIR's parent" "$p"
done
# names that look like paths are just (missing) names
for n in '..%2fsecret.txt' '..\secret.txt' '...' '.. ' ' ..'; do
    gone "name '$n'" "$MNT/$n"
done

# find over the whole mount terminates (self -> . makes a cycle) and shows
# nothing from outside; grep finds no secret in any file.
t find "$MNT" >"$WORK/find.out" 2>"$WORK/find.err"
st=$?
case $st in
0 | 1) pass "find over the mount terminates (status $st, $(wc -l <"$WORK/find.out") names)" ;;
*) fail "find over the mount: status $st (hung?)" ;;
esac
if grep -qE '(^|/)(secret\.txt|o\.txt|x\.txt|ov\.mp4|passwd|hostname)$' "$WORK/find.out"; then
    fail "find shows names from outside SOURCE_DIR: $(grep -E '(secret|o|x)\.txt$|ov\.mp4$|passwd$|hostname$' "$WORK/find.out" | head -n 3 | tr '\n' ' ')"
else
    pass "find shows no name from outside SOURCE_DIR"
fi
t grep -rl SECRET "$MNT" >"$WORK/grep.out" 2>/dev/null
[ ! -s "$WORK/grep.out" ] && pass "no file on the mount holds outside contents (grep -r)" ||
    fail "outside contents readable at: $(head -n 3 "$WORK/grep.out" | tr '\n' ' ')"
alive

snap_check "after the containment checks"

# Swapped while mounted: a link re-pointed outside, a directory replaced by
# a link to an outside directory (after the entry timeout, nothing is served
# from outside even though the names were looked up before).
same_content "swap.txt before the swap" "$MNT/swap.txt" "$SRC/notes.txt"
same_content "swapdir/f.txt before the swap" "$MNT/swapdir/f.txt" "$SRC/swapdir/f.txt"
t cat "$MNT/vswap.mp4/t=0.png" >/dev/null 2>&1
w=$(xattr_get "$MNT/vswap.mp4" user.width)
[ "$w" = 320 ] && pass "vswap.mp4 before the swap: user.width 320" || fail "vswap.mp4 before the swap: user.width '$w'"
exec {SWAPFD}<"$MNT/swapdir"   # keep the directory's inode alive across the swap
ln -sfn "$OUT/swap_target.txt" "$SRC/.swap.tmp" && mv -Tf "$SRC/.swap.tmp" "$SRC/swap.txt"
mv "$SRC/swapdir" "$TOP/swapdir.old" && ln -s "$OUT/swapdir" "$SRC/swapdir"
ln -sfn "$OUT/other160.mp4" "$SRC/.swap.tmp" && mv -Tf "$SRC/.swap.tmp" "$SRC/vswap.mp4"
# at once (within the entry timeout): the old contents or ENOENT, never outside
for p in swap.txt swapdir/f.txt; do
    got=$(t cat "$MNT/$p" 2>&1)
    case $got in
    *SECRET*) fail "$p read right after the swap gives outside contents: '$got'" ;;
    *) pass "$p read right after the swap: not outside contents ('${got##*: }')" ;;
    esac
done
w=$(xattr_get "$MNT/vswap.mp4" user.width)
[ "$w" != 160 ] && pass "vswap.mp4 right after its swap for a link to an outside video: user.width '$w', not the outside video's" ||
    fail "vswap.mp4 right after its swap for a link to an outside video: user.width 160, the outside video's metadata"
if t cat "$MNT/vswap.mp4/t=0.7.png" >"$WORK/vswap.png" 2>/dev/null; then
    dims=$(raw_md5 "$WORK/vswap.png" | cut -d' ' -f2,3)
    [ "$dims" != "160 120" ] && pass "vswap.mp4/t=0.7.png right after the swap: not from the outside video ($dims)" ||
        fail "vswap.mp4/t=0.7.png right after the swap: decoded from the outside video (160x120)"
else
    pass "vswap.mp4/t=0.7.png right after the swap: not readable, nothing from outside"
fi
sleep_builtin 1.1
gone "vswap.mp4 re-pointed outside" "$MNT/vswap.mp4"
gone "swap.txt re-pointed outside" "$MNT/swap.txt"
gone "swapdir replaced by a link outside: swapdir/f.txt" "$MNT/swapdir/f.txt"
got=$(t bash -c 'cat "/proc/self/fd/$1/f.txt"' sh "$SWAPFD" 2>&1)
case $got in
*SECRET*) fail "a directory fd opened before the swap reaches outside: '$got'" ;;
*) pass "a directory fd opened before the swap does not reach outside ('${got##*: }')" ;;
esac
exec {SWAPFD}<&-
rm -f "$SRC/swapdir" && mv "$TOP/swapdir.old" "$SRC/swapdir"
ln -sfn notes.txt "$SRC/.swap.tmp" && mv -Tf "$SRC/.swap.tmp" "$SRC/swap.txt"
rm -f "$SRC/vswap.mp4" && cp "$MEDIA_DIR/h264_bframes.mp4" "$SRC/vswap.mp4"
alive
unmount_framefs "$MNT" && pass "unmount: framefs exited 0"
