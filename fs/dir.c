/*
 * Directories: source directories (lookup of their entries, listings read
 * from SOURCE_DIR) and video directories (listings of frame names, and the
 * video's attributes, from its info).  Every open directory's handle is a
 * listing, built whole at opendir and served by offset.
 */
#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "name.h"
#include "ops.h"
#include "xattr.h"

/* ---- directory listings: built whole at opendir, served by offset -------- */

struct listing {
    atomic_int refs;              /* the open handle + replies in progress */
    char *buf;
    size_t size, cap;
    size_t *ends;                 /* end offset of each entry */
    size_t n, ends_cap;
    struct decoder *dec;          /* a video's or a view's: its frames' batch */
    struct decoder_batch *batch;
};

static int listing_add(fuse_req_t req, struct listing *l, const char *name, ino_t ino,
                       mode_t type)
{
    struct stat st = {.st_ino = ino, .st_mode = type};
    size_t need = fuse_add_direntry(req, NULL, 0, name, NULL, 0);

    if (l->size + need > l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 4096;
        char *b;

        while (cap < l->size + need)
            cap *= 2;
        if (!(b = realloc(l->buf, cap)))
            return -ENOMEM;
        l->buf = b;
        l->cap = cap;
    }
    if (l->n == l->ends_cap) {
        size_t cap = l->ends_cap ? l->ends_cap * 2 : 64;
        size_t *e = realloc(l->ends, cap * sizeof(*e));

        if (!e)
            return -ENOMEM;
        l->ends = e;
        l->ends_cap = cap;
    }
    fuse_add_direntry(req, l->buf + l->size, need, name, &st, (off_t)(l->size + need));
    l->size += need;
    l->ends[l->n++] = l->size;
    return 0;
}

static struct listing *listing_new(void)
{
    struct listing *l = calloc(1, sizeof(*l));

    if (l)
        atomic_init(&l->refs, 1);
    return l;
}

/* Drop a reference.  Replies hold one too: a sanitizer checks the buffer of
 * a writev() after it returned, by when the caller may have closed the
 * directory. */
static void listing_free(struct listing *l)
{
    if (l && atomic_fetch_sub(&l->refs, 1) == 1) {
        if (l->batch)
            decoder_batch_release(l->dec, l->batch);
        free(l->buf);
        free(l->ends);
        free(l);
    }
}

static int list_source_dir(fuse_req_t req, struct fs *fs, struct node *n, struct listing *l)
{
    int fd = source_open(fs, n->path, O_RDONLY | O_DIRECTORY);
    struct dirent *de;
    DIR *dir;
    int ret = 0;

    if (fd < 0)
        return fd;
    if (!(dir = fdopendir(fd))) {
        close(fd);
        return -errno;
    }
    if (listing_add(req, l, ".", inode_number(n), S_IFDIR) < 0 ||
        listing_add(req, l, "..", 1, S_IFDIR) < 0)
        ret = -ENOMEM;
    while (!ret && (de = readdir(dir))) {
        struct stat st;
        char *rel;
        int kind;

        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        /* Classify by name and type only: listing never opens a video. */
        if (!(rel = source_join(n->path, de->d_name))) {
            ret = -ENOMEM;
            break;
        }
        kind = source_stat(fs, rel, &st) < 0 ? -1 : source_kind(fs, de->d_name, &st);
        free(rel);
        if (kind < 0)
            continue;
        ret = listing_add(req, l, de->d_name, de->d_ino,
                          kind == NODE_FILE ? S_IFREG : S_IFDIR);
    }
    closedir(dir);
    return ret;
}

/* Building a video's or a view's listing: the names, and the requests they
 * make, for the batch. */
struct frame_list {
    fuse_req_t req;
    struct fs *fs;
    struct listing *l;
    struct frame_request *reqs;
    size_t n, cap;                /* cap 0: too many for a batch */
};

/* Listed frames get inode numbers that grow in listing (timeline) order:
 * GNU cp and fts read a directory in d_ino order, to be quick on disks, and
 * a batch is quickest when read in its own order.  d_ino is advisory (the
 * inode a lookup gives is the node's), so these need only be non-zero. */
#define LISTED_INO_BASE (1ull << 48)

static int add_frame_name(void *arg, const char *name)
{
    struct frame_list *fl = arg;

    if (listing_add(fl->req, fl->l, name, (ino_t)(LISTED_INO_BASE + fl->l->n), S_IFREG) < 0)
        return -ENOMEM;
    if (fl->n == fl->cap && fl->cap) {
        size_t cap = 2 * fl->cap;
        struct frame_request *r = cap <= FS_MAX_BATCH ? realloc(fl->reqs, cap * sizeof(*r)) : NULL;

        if (!r) {                     /* no batch then, the listing still works */
            free(fl->reqs);
            fl->reqs = NULL;
            fl->cap = 0;
        } else {
            fl->reqs = r;
            fl->cap = cap;
        }
    }
    if (fl->cap && name_parse_frame(name, &fl->fs->defaults, &fl->reqs[fl->n]) == 0)
        fl->n++;
    return 0;
}

/* A video's frame names (view.c), registered as a batch (decoder.h): when
 * the reader reads one, the rest are produced ahead of it. */
static int list_frames(fuse_req_t req, struct fs *fs, struct node *n,
                       const struct video_info *info, struct listing *l)
{
    struct frame_list fl = {req, fs, l, malloc(64 * sizeof(*fl.reqs)), 0, 64};
    int ret;

    if (!fl.reqs)
        fl.cap = 0;
    if (listing_add(req, l, ".", inode_number(n), S_IFDIR) < 0 ||
        listing_add(req, l, "..", inode_number(n->parent), S_IFDIR) < 0)
        ret = -ENOMEM;
    else
        ret = view_names(fs, n, info, add_frame_name, &fl);
    if (ret == 0 && fl.n) {
        l->dec = fs->dec;
        l->batch = decoder_batch_new(fs->dec, n->path, fl.reqs, fl.n);
    }
    free(fl.reqs);
    return ret;
}

/* ---- completion of a video directory's info (worker thread) ------------- */

/* The video's scene scores are known now: its info.json, made without
 * them, is made again at its next lookup (and the kernel told so). */
static void scenes_known(struct fs *fs, struct node *video)
{
    struct node *n = inode_find(fs->inodes, video, "info.json");

    if (!n)
        return;
    inode_unhash(fs->inodes, n);
    inode_forget(fs->inodes, n, 1);      /* inode_find()'s lookup */
    inval_entry(fs->inval, inode_number(video), "info.json");
}

static void info_done(void *arg, const struct video_info *info)
{
    struct pending *p = arg;
    struct xattr_set set;
    struct listing *l;

    if (!pending_finish(p)) {
        /* cancel-all answered it already */
    } else if (atomic_load(&p->cancel) && !info->ok) {
        fuse_reply_err(p->req, EINTR);
    } else if (p->kind == P_OPENDIR) {
        if (!info->ok)
            log_msg(LOG_ERR, "%s: %s", p->node->path, info->error);
        if (info->scenes_known && p->node->kind == NODE_VIEW)
            scenes_known(p->fs, p->node->parent);
        if (!(l = listing_new()) || list_frames(p->req, p->fs, p->node, info, l) < 0) {
            listing_free(l);
            fuse_reply_err(p->req, ENOMEM);
        } else {
            p->fi.fh = (uint64_t)(uintptr_t)l;
            if (fuse_reply_open(p->req, &p->fi) != 0)
                listing_free(l);
        }
    } else {
        xattr_of_video(info, &set);
        if (p->kind == P_GETXATTR)
            reply_xattr_value(p->req, &set, p->name, p->size);
        else
            reply_xattr_list(p->req, &set, p->size);
    }
    pending_free(p);
}

/* ---- lookup ------------------------------------------------------------- */

void dir_lookup(fuse_req_t req, struct fs *fs, struct node *dir, const char *name)
{
    struct stat st;
    struct node *n;
    char *rel;
    int kind, ret;

    if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0 || strchr(name, '/'))
        return (void)fuse_reply_err(req, ENOENT);
    if (!(rel = source_join(dir->path, name)))
        return (void)fuse_reply_err(req, ENOMEM);
    ret = source_stat(fs, rel, &st);
    kind = ret < 0 ? -1 : source_kind(fs, name, &st);
    if (kind < 0) {
        free(rel);
        return (void)fuse_reply_err(req, ret < 0 && ret != -ENOENT ? -ret : ENOENT);
    }
    n = inode_find(fs->inodes, dir, name);
    if (n && (int)n->kind != kind) {
        inode_forget(fs->inodes, n, 1);
        n = NULL;
    }
    if (!n) {
        n = inode_insert(fs->inodes, dir, name, kind, rel, NULL);
        if (n && kind == NODE_DIR) {
            char *abs = source_abs(fs, rel);

            if (abs)
                watch_dir(fs->watch, abs, inode_number(n));
            free(abs);
        }
    }
    free(rel);
    if (!n)
        return (void)fuse_reply_err(req, ENOMEM);
    reply_entry(req, fs, n, &st);
}

/* ---- opendir / readdir / releasedir ------------------------------------- */

void video_opendir(fuse_req_t req, struct node *video, struct fuse_file_info *fi)
{
    struct pending *p;

    if (!(p = pending_new(req, P_OPENDIR, video)))
        return (void)fuse_reply_err(req, ENOMEM);
    p->fi = *fi;
    if (video->kind == NODE_VIEW && view_needs_scenes(video->name))
        submit_scenes(p, info_done);
    else
        submit_info(p, info_done);
}

void dir_opendir(fuse_req_t req, struct fs *fs, struct node *dir, struct fuse_file_info *fi)
{
    struct listing *l;
    int ret;

    if (!(l = listing_new()))
        return (void)fuse_reply_err(req, ENOMEM);
    if ((ret = list_source_dir(req, fs, dir, l)) < 0) {
        listing_free(l);
        return (void)fuse_reply_err(req, -ret);
    }
    fi->fh = (uint64_t)(uintptr_t)l;
    if (fuse_reply_open(req, fi) != 0)
        listing_free(l);
}

void dir_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                 struct fuse_file_info *fi)
{
    struct listing *l = (struct listing *)(uintptr_t)fi->fh;
    size_t start = off < 0 ? 0 : (size_t)off;

    (void)ino;
    if (start >= l->size)
        return (void)fuse_reply_buf(req, NULL, 0);
    /* Reply whole entries only: cut at the last end offset that fits. */
    {
        size_t end = start;

        size_t lo = 0, hi = l->n;

        while (lo < hi) {             /* first entry ending after start */
            size_t mid = lo + (hi - lo) / 2;

            if (l->ends[mid] <= start)
                lo = mid + 1;
            else
                hi = mid;
        }
        for (; lo < l->n && l->ends[lo] - start <= size; lo++)
            end = l->ends[lo];
        size = end - start;
    }
    atomic_fetch_add(&l->refs, 1);
    fuse_reply_buf(req, l->buf + start, size);
    listing_free(l);
}

void dir_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
    (void)ino;
    listing_free((struct listing *)(uintptr_t)fi->fh);
    fuse_reply_err(req, 0);
}

/* ---- a video directory's extended attributes ---------------------------- */

void video_getxattr(fuse_req_t req, struct node *video, const char *name, size_t size)
{
    struct pending *p;

    if (strncmp(name, "user.", 5) != 0)
        return (void)fuse_reply_err(req, ENODATA);
    if (!(p = pending_new(req, P_GETXATTR, video)) || !(p->name = strdup(name))) {
        free(p);
        return (void)fuse_reply_err(req, ENOMEM);
    }
    p->size = size;
    submit_info(p, info_done);
}

void video_listxattr(fuse_req_t req, struct node *video, size_t size)
{
    struct pending *p;

    if (!(p = pending_new(req, P_LISTXATTR, video)))
        return (void)fuse_reply_err(req, ENOMEM);
    p->size = size;
    submit_info(p, info_done);
}
