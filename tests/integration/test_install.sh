#!/usr/bin/env bash
# Installing and mounting as a system tool: `make install`/`uninstall` with
# DESTDIR and PREFIX; fuse3's mount helper mounting framefs with
# `mount -t fuse.framefs` and from an fstab line with `mount -T FILE` (the
# helper finds framefs only in /usr/local/bin or /usr/bin, so the test links
# the built binary there for its duration, unless another framefs is there).
. "$(dirname "$0")/../lib.sh"

require_framefs
ensure_media

# ---- make install / uninstall into a staging tree ----
DEST=$WORK/dest
# -o: install the binary under test as it is, never rebuild it
if t make -s -C "$REPO_DIR" -o "$FRAMEFS" install BIN="$FRAMEFS" DESTDIR="$DEST" PREFIX=/opt/ffs >"$WORK/install.log" 2>&1 &&
    [ -x "$DEST/opt/ffs/bin/framefs" ] && [ -f "$DEST/opt/ffs/share/man/man1/framefs.1" ]; then
    pass "make install DESTDIR=… PREFIX=/opt/ffs: bin/framefs and share/man/man1/framefs.1"
else
    fail "make install: $(head -c 300 "$WORK/install.log"; find "$DEST" -type f | head)"
fi
cmp -s "$DEST/opt/ffs/share/man/man1/framefs.1" "$REPO_DIR/fs/framefs.1" &&
    "$DEST/opt/ffs/bin/framefs" --version | grep -q '^framefs' &&
    pass "installed binary runs (--version) and the man page is fs/framefs.1" ||
    fail "installed files differ or do not run"
t make -s -C "$REPO_DIR" uninstall DESTDIR="$DEST" PREFIX=/opt/ffs >/dev/null 2>&1
[ -z "$(find "$DEST" -type f)" ] && pass "make uninstall removes both" ||
    fail "make uninstall left: $(find "$DEST" -type f)"

# ---- the mount helper ----
if [ "$(id -u)" -ne 0 ]; then
    skip "mount helper: needs root"
    [ "$(failures)" -eq 0 ]
    exit
fi
if ! command -v mount.fuse3 >/dev/null && ! [ -x /sbin/mount.fuse3 ]; then
    skip "mount helper: fuse3's mount.fuse3 not installed"
    [ "$(failures)" -eq 0 ]
    exit
fi
LINK=/usr/local/bin/framefs
LINKED=0
if [ -e "$LINK" ] || [ -L "$LINK" ]; then
    if [ "$(readlink -f "$LINK")" != "$(readlink -f "$FRAMEFS")" ]; then
        skip "mount helper: $LINK is another framefs; not replacing it"
        [ "$(failures)" -eq 0 ]
        exit
    fi
else
    mkdir -p /usr/local/bin && ln -s "$(readlink -f "$FRAMEFS")" "$LINK" && LINKED=1
fi
MNT=$WORK/mnt
mkdir -p "$MNT"
# The helper daemonizes framefs: find it by the mount point it serves, to
# stop exactly that process.
helper_pid() {
    local p
    for p in $(pgrep -x framefs); do
        tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | grep -qF " $MNT" && { echo "$p"; return; }
    done
}
helper_umount() {
    local pid
    pid=$(helper_pid)
    is_mounted "$MNT" && timeout 10 fusermount3 -u "$MNT" 2>/dev/null
    for _ in $(seq 50); do [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && kill "$pid"
}
cleanup_install() {
    helper_umount
    [ "$LINKED" = 1 ] && rm -f "$LINK"
}
trap 'cleanup_install; _lib_exit' EXIT

VIDEO=h264_bframes.mp4
[ -f "$MEDIA_DIR/$VIDEO" ] || VIDEO=$(media_videos | head -n1)
serves() {   # the mount serves a frame of $VIDEO
    local size
    size=$(t stat -c %s "$MNT/$VIDEO/t=0.png" 2>/dev/null)
    [ -n "$size" ] && [ "$size" -gt 0 ] &&
        [ "$(t getfattr --only-values -n user.result "$MNT/$VIDEO/t=0.png" 2>/dev/null)" = succeeded ] &&
        [ "$(t cat "$MNT/$VIDEO/t=0.png" | wc -c)" = "$size" ]
}

if t mount -t fuse.framefs "$MEDIA_DIR" "$MNT" -o ro,cache_size=64M 2>"$WORK/mount.err" &&
    is_mounted "$MNT" && serves; then
    opts=$(awk -v m="$MNT" '$5 == m { print $6, $NF }' /proc/self/mountinfo)
    pass "mount -t fuse.framefs SRC MNT -o ro,cache_size=64M mounts and serves ($VIDEO/t=0.png; $opts)"
else
    fail "mount -t fuse.framefs: $(head -c 300 "$WORK/mount.err")"
fi
helper_umount
! is_mounted "$MNT" && [ -z "$(helper_pid)" ] && pass "unmounted, framefs exited" ||
    fail "after fusermount3 -u: still mounted or framefs still running"

FSTAB=$WORK/fstab
printf '# a test fstab\n%s  %s  fuse.framefs  ro,allow_other,cache_size=64M  0 0\n' "$MEDIA_DIR" "$MNT" >"$FSTAB"
if t mount -T "$FSTAB" "$MNT" 2>"$WORK/mount.err" && is_mounted "$MNT" && serves; then
    grep -q allow_other <(awk -v m="$MNT" '$5 == m { print $NF }' /proc/self/mountinfo) &&
        pass "mount -T FSTAB MNT with the README's line mounts and serves, allow_other in effect" ||
        fail "fstab mount lacks allow_other: $(awk -v m="$MNT" '$5 == m' /proc/self/mountinfo)"
else
    fail "mount -T $FSTAB: $(head -c 300 "$WORK/mount.err")"
fi
helper_umount
! is_mounted "$MNT" && pass "fstab mount unmounted" || fail "fstab mount still mounted"

[ "$(failures)" -eq 0 ]
