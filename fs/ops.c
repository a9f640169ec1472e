/*
 * The FUSE low-level handlers: the fs_ops table.  Each handler finds the node
 * and hands the request to the file that serves the node's kind (ops.h):
 * dir.c, frame.c, passthrough.c.  What every kind shares is here: forget,
 * getattr, statfs, and the answer to everything that would write.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/statvfs.h>

#include "ops.h"
#include "xattr.h"

/* ---- session ------------------------------------------------------------ */

/* Lookups in one directory in parallel: without it the kernel lets one
 * lookup per directory reach us at a time, so readers of one video wait in
 * line for each other's decodes (and a cancel-all can answer only the one
 * that reached us).  Handlers are safe for it: the inode table is locked,
 * and the first reply for a new name wins (frame.c).  libfuse 3.14 (Debian
 * 12) accepts the flag but never passes it on to the kernel: handshake.c
 * sets it in the INIT reply itself. */
static void op_init(void *userdata, struct fuse_conn_info *conn)
{
    struct fs *fs = userdata;

    if (conn->capable & FUSE_CAP_PARALLEL_DIROPS) {
        conn->want |= FUSE_CAP_PARALLEL_DIROPS;
        fs->parallel_dirops = 1;
    }
}

/* ---- lookup / forget / getattr ------------------------------------------ */

static void op_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
    struct fs *fs = fs_of(req);
    struct node *dir = inode_get(fs->inodes, parent);

    if (strlen(name) > 255)
        return (void)fuse_reply_err(req, ENAMETOOLONG);
    switch (dir->kind) {
    case NODE_VIDEO:
        if (strcmp(name, "info.json") == 0)
            return info_lookup(req, fs, dir);
        if (view_is_name(name))
            return view_lookup(req, fs, dir, name);
        return frame_lookup(req, fs, dir, name);
    case NODE_VIEW:
        return frame_lookup(req, fs, dir, name);
    case NODE_DIR:
        return dir_lookup(req, fs, dir, name);
    default:
        fuse_reply_err(req, ENOTDIR);
    }
}

static void op_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
    struct fs *fs = fs_of(req);

    inode_forget(fs->inodes, inode_get(fs->inodes, ino), nlookup);
    fuse_reply_none(req);
}

static void op_forget_multi(fuse_req_t req, size_t count, struct fuse_forget_data *forgets)
{
    struct fs *fs = fs_of(req);

    for (size_t i = 0; i < count; i++)
        inode_forget(fs->inodes, inode_get(fs->inodes, forgets[i].ino), forgets[i].nlookup);
    fuse_reply_none(req);
}

static void op_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
    struct fs *fs = fs_of(req);
    struct node *n = inode_get(fs->inodes, ino);
    struct stat src, attr;
    int ret;

    if (fi && n->kind == NODE_FILE && fstat((int)fi->fh, &src) == 0) {
        /* an open passthrough file: the file it has open, even if deleted */
    } else if ((ret = source_stat(fs, n->path, &src)) < 0) {
        /* A frame outlives its deleted source: it is a snapshot, and an fd
         * open on it must keep working.  Owner and mode otherwise follow the
         * source as it is now (a chmod takes effect on its frames). */
        if (!n->frame)
            return (void)fuse_reply_err(req, -ret);
        src = n->frame->src;
    }
    source_attr(n, &src, &attr);
    fuse_reply_attr(req, &attr, fs->timeout);
}

/* ---- files -------------------------------------------------------------- */

static void op_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
    struct fs *fs = fs_of(req);
    struct node *n = inode_get(fs->inodes, ino);

    if ((fi->flags & O_ACCMODE) != O_RDONLY || (fi->flags & O_TRUNC))
        return (void)fuse_reply_err(req, EROFS);
    switch (n->kind) {
    case NODE_FILE:
        return file_open(req, fs, n, fi);
    case NODE_FRAME:
        return frame_open(req, fs, n, fi);
    case NODE_INFO:
        return info_open(req, n, fi);
    default:
        fuse_reply_err(req, EISDIR);
    }
}

/* Only nodes that open() accepted get here. */
static void op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                    struct fuse_file_info *fi)
{
    struct fs *fs = fs_of(req);
    struct node *n = inode_get(fs->inodes, ino);

    switch (n->kind) {
    case NODE_FILE:
        return file_read(req, size, off, fi);
    case NODE_FRAME:
    case NODE_INFO:                   /* both serve a blob (frame.c) */
        return frame_read(req, size, off, fi);
    default:
        fuse_reply_err(req, EISDIR);
    }
}

static void op_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
    struct fs *fs = fs_of(req);
    struct node *n = inode_get(fs->inodes, ino);

    switch (n->kind) {
    case NODE_FILE:
        file_release(fi);
        break;
    case NODE_FRAME:
    case NODE_INFO:
        frame_release(fi);
        break;
    default:
        break;
    }
    fuse_reply_err(req, 0);
}

/* ---- directories (readdir and releasedir: dir.c, any listing) ----------- */

static void op_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
    struct fs *fs = fs_of(req);
    struct node *n = inode_get(fs->inodes, ino);

    switch (n->kind) {
    case NODE_VIDEO:
    case NODE_VIEW:
        return video_opendir(req, n, fi);
    case NODE_DIR:
        return dir_opendir(req, fs, n, fi);
    default:
        fuse_reply_err(req, ENOTDIR);
    }
}

/* ---- extended attributes ------------------------------------------------ */

static void op_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name, size_t size)
{
    struct fs *fs = fs_of(req);
    struct node *n = inode_get(fs->inodes, ino);

    struct decoder_stats st;
    struct xattr_set set;

    if (ino == FUSE_ROOT_ID) {             /* user.stats */
        decoder_stats(fs->dec, &st);
        xattr_of_root(&st, &set);
        return reply_xattr_value(req, &set, name, size);
    }
    switch (n->kind) {
    case NODE_FRAME:
        return frame_getxattr(req, n, name, size);
    case NODE_VIDEO:
        return video_getxattr(req, n, name, size);
    default:
        fuse_reply_err(req, ENODATA);
    }
}

static void op_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size)
{
    struct fs *fs = fs_of(req);
    struct node *n = inode_get(fs->inodes, ino);
    struct xattr_set none = {0};
    struct decoder_stats st;

    if (ino == FUSE_ROOT_ID) {
        decoder_stats(fs->dec, &st);
        xattr_of_root(&st, &none);
        return reply_xattr_list(req, &none, size);
    }
    switch (n->kind) {
    case NODE_FRAME:
        return frame_listxattr(req, n, size);
    case NODE_VIDEO:
        return video_listxattr(req, n, size);
    default:
        reply_xattr_list(req, &none, size);   /* other nodes have none */
    }
}

/* ---- everything that would write ---------------------------------------- */

static void op_statfs(fuse_req_t req, fuse_ino_t ino)
{
    struct statvfs sv;

    (void)ino;
    if (fstatvfs(fs_of(req)->rootfd, &sv) < 0)
        return (void)fuse_reply_err(req, errno);
    sv.f_flag |= ST_RDONLY;
    fuse_reply_statfs(req, &sv);
}

static void erofs(fuse_req_t req)
{
    fuse_reply_err(req, EROFS);
}

static void op_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *a, int set,
                       struct fuse_file_info *fi)
{
    (void)ino, (void)a, (void)set, (void)fi;
    erofs(req);
}

static void op_mknod(fuse_req_t req, fuse_ino_t p, const char *n, mode_t m, dev_t r)
{
    (void)p, (void)n, (void)m, (void)r;
    erofs(req);
}

static void op_mkdir(fuse_req_t req, fuse_ino_t p, const char *n, mode_t m)
{
    (void)p, (void)n, (void)m;
    erofs(req);
}

static void op_unlink(fuse_req_t req, fuse_ino_t p, const char *n)
{
    (void)p, (void)n;
    erofs(req);
}

static void op_symlink(fuse_req_t req, const char *l, fuse_ino_t p, const char *n)
{
    (void)l, (void)p, (void)n;
    erofs(req);
}

static void op_rename(fuse_req_t req, fuse_ino_t p, const char *n, fuse_ino_t np,
                      const char *nn, unsigned int f)
{
    (void)p, (void)n, (void)np, (void)nn, (void)f;
    erofs(req);
}

static void op_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t np, const char *nn)
{
    (void)ino, (void)np, (void)nn;
    erofs(req);
}

static void op_write(fuse_req_t req, fuse_ino_t ino, const char *b, size_t s, off_t o,
                     struct fuse_file_info *fi)
{
    (void)ino, (void)b, (void)s, (void)o, (void)fi;
    erofs(req);
}

static void op_create(fuse_req_t req, fuse_ino_t p, const char *n, mode_t m,
                      struct fuse_file_info *fi)
{
    (void)p, (void)n, (void)m, (void)fi;
    erofs(req);
}

/* A video's path as given to cancel-all on the root ("clip.mp4",
 * "/sub/clip.mp4/"): into buf, relative to SOURCE_DIR, when it is a video.
 * 0 or -1. */
static int cancel_path(struct fs *fs, const char *value, size_t size, char *buf, size_t len)
{
    struct stat st;
    size_t n;

    while (size && *value == '/')
        value++, size--;
    while (size && value[size - 1] == '/')
        size--;
    if (!size || size >= len || memchr(value, 0, size))
        return -1;
    memcpy(buf, value, size);
    buf[size] = 0;
    n = strlen(buf);
    if (strstr(buf, "/../") || strncmp(buf, "../", 3) == 0 || strcmp(buf, "..") == 0 ||
        (n >= 3 && strcmp(buf + n - 3, "/..") == 0))
        return -1;
    return source_stat(fs, buf, &st) == 0 &&
                   source_kind(fs, strrchr(buf, '/') ? strrchr(buf, '/') + 1 : buf, &st) ==
                       NODE_VIDEO
               ? 0 : -1;
}

/*
 * The one attribute that may be set: user.cancel (cancel-all).
 *   on the mount root:  "all" (every video), or a video's path under the
 *                       root ("clip.mp4", "sub/clip.mp4");
 *   on a video or view directory:  "all" (that video).
 * The kernel runs setxattr on a directory only once the lookups in progress
 * in it are answered (it takes the directory's inode lock, which each lookup
 * holds shared), so frames waiting in clip.mp4/ itself are cancelled from
 * the root; the directory form reaches what waits in its views, opens and
 * listings.  The mount is not `ro` because the kernel refuses setxattr on
 * read-only mounts before asking; every other write is EROFS here.
 */
static void op_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name, const char *value,
                        size_t size, int flags)
{
    struct fs *fs = fs_of(req);
    struct node *n = inode_get(fs->inodes, ino);
    int video = n->kind == NODE_VIDEO || n->kind == NODE_VIEW, all;
    char path[PATH_MAX];

    (void)flags;
    if (strcmp(name, "user.cancel") != 0 || !(video || ino == FUSE_ROOT_ID))
        return erofs(req);
    all = size == 3 && memcmp(value, "all", 3) == 0;
    if (video && all)
        pending_cancel_all(fs, n->path);
    else if (!video && all)
        pending_cancel_all(fs, NULL);
    else if (!video && cancel_path(fs, value, size, path, sizeof(path)) == 0)
        pending_cancel_all(fs, path);
    else
        return (void)fuse_reply_err(req, EINVAL);
    fuse_reply_err(req, 0);
}

static void op_removexattr(fuse_req_t req, fuse_ino_t ino, const char *n)
{
    (void)ino, (void)n;
    erofs(req);
}

const struct fuse_lowlevel_ops fs_ops = {
    .init = op_init,
    .lookup = op_lookup,
    .forget = op_forget,
    .forget_multi = op_forget_multi,
    .getattr = op_getattr,
    .open = op_open,
    .read = op_read,
    .release = op_release,
    .opendir = op_opendir,
    .readdir = dir_readdir,
    .releasedir = dir_releasedir,
    .getxattr = op_getxattr,
    .listxattr = op_listxattr,
    .statfs = op_statfs,
    .setattr = op_setattr,
    .mknod = op_mknod,
    .mkdir = op_mkdir,
    .unlink = op_unlink,
    .rmdir = op_unlink,
    .symlink = op_symlink,
    .rename = op_rename,
    .link = op_link,
    .write = op_write,
    .create = op_create,
    .setxattr = op_setxattr,
    .removexattr = op_removexattr,
};
