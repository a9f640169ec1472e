/*
 * The FUSE low-level handlers.  Cheap requests (directories, passthrough
 * files, frames already produced) are answered in the handler.  Requests that
 * need the decoder become jobs: the handler copies what the reply needs into a
 * `struct pending`, registers the interrupt callback, submits, and returns;
 * the worker's completion callback replies.  The FUSE loop never waits for a
 * decode.
 */
#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "fs.h"
#include "name.h"
#include "xattr.h"

static struct fs *fs_of(fuse_req_t req)
{
    return fuse_req_userdata(req);
}

/* ---- requests waiting on the decoder ------------------------------------ */

enum pending_kind { P_LOOKUP, P_OPEN, P_OPENDIR, P_GETXATTR, P_LISTXATTR };

struct pending {
    enum pending_kind kind;
    fuse_req_t req;
    struct fs *fs;
    atomic_int cancel;            /* set by the interrupt callback */
    struct node *node;            /* lookup: the parent; others: the node */
    char *name;                   /* lookup: the child; getxattr: the attr */
    size_t size;                  /* getxattr/listxattr buffer size */
    struct stat src;              /* lookup: the video's stat at request time */
    struct fuse_file_info fi;     /* open/opendir */
};

/* Runs under libfuse's request lock: only set the flag. */
static void on_interrupt(fuse_req_t req, void *data)
{
    struct pending *p = data;

    (void)req;
    atomic_store(&p->cancel, 1);
}

static struct pending *pending_new(fuse_req_t req, enum pending_kind kind, struct node *n)
{
    struct pending *p = calloc(1, sizeof(*p));

    if (!p)
        return NULL;
    p->kind = kind;
    p->req = req;
    p->fs = fs_of(req);
    p->node = n;
    atomic_init(&p->cancel, 0);
    return p;
}

static void pending_free(struct pending *p)
{
    free(p->name);
    free(p);
}

/* Called first by every completion: after it, no interrupt callback runs. */
static void pending_finish(struct pending *p)
{
    fuse_req_interrupt_func(p->req, NULL, NULL);
}

/* ---- replies ------------------------------------------------------------ */

static void reply_entry(fuse_req_t req, struct fs *fs, struct node *n, const struct stat *src)
{
    struct fuse_entry_param e;

    memset(&e, 0, sizeof(e));
    e.ino = inode_number(n);
    e.attr_timeout = fs->timeout;
    e.entry_timeout = fs->timeout;
    source_attr(n, src, &e.attr);
    if (fuse_reply_entry(req, &e) != 0)
        inode_forget(fs->inodes, n, 1);   /* the kernel never got it */
}

static void reply_negative(fuse_req_t req, struct fs *fs)
{
    struct fuse_entry_param e;

    memset(&e, 0, sizeof(e));
    e.entry_timeout = fs->timeout;
    fuse_reply_entry(req, &e);
}

static void reply_xattr_value(fuse_req_t req, const struct xattr_set *s, const char *name,
                              size_t size)
{
    const char *value;
    size_t len;
    int ret = xattr_get(s, name, size, &value, &len);

    if (ret < 0)
        fuse_reply_err(req, -ret);
    else if (size == 0)
        fuse_reply_xattr(req, len);
    else
        fuse_reply_buf(req, value, len);
}

static void reply_xattr_list(fuse_req_t req, const struct xattr_set *s, size_t size)
{
    char buf[XATTR_MAX * 32];
    size_t len;
    int ret = xattr_list(s, buf, size < sizeof(buf) ? size : sizeof(buf), &len);

    if (ret < 0)
        fuse_reply_err(req, -ret);
    else if (size == 0)
        fuse_reply_xattr(req, len);
    else
        fuse_reply_buf(req, buf, len);
}

/* ---- directory listings: built whole at opendir, served by offset -------- */

struct listing {
    atomic_int refs;              /* the open handle + replies in progress */
    char *buf;
    size_t size, cap;
    size_t *ends;                 /* end offset of each entry */
    size_t n, ends_cap;
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
        free(l->buf);
        free(l->ends);
        free(l);
    }
}

/* Stable, non-zero inode numbers for names the kernel has not looked up. */
static ino_t name_ino(const char *name)
{
    uint64_t h = 1469598103934665603ull;

    for (; *name; name++)
        h = (h ^ (unsigned char)*name) * 1099511628211ull;
    return (ino_t)(h | 1);
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

/* A video's frames, one every list_interval seconds of its duration. */
static int list_frames(fuse_req_t req, struct fs *fs, struct node *n,
                       const struct video_info *info, struct listing *l)
{
    char name[64], secs[32];

    if (listing_add(req, l, ".", inode_number(n), S_IFDIR) < 0 ||
        listing_add(req, l, "..", inode_number(n->parent), S_IFDIR) < 0)
        return -ENOMEM;
    if (!info->ok || fs->list_interval <= 0)
        return 0;
    for (long k = 0; k < FS_MAX_LISTED; k++) {
        double t = k * fs->list_interval;

        if (t >= info->duration)
            break;
        snprintf(name, sizeof(name), "t=%s.%s", name_format_seconds(t, secs, sizeof(secs)),
                 output_format_ext(fs->list_format));
        if (listing_add(req, l, name, name_ino(name), S_IFREG) < 0)
            return -ENOMEM;
    }
    return 0;
}

static struct source_version id_of(const struct stat *st)
{
    return (struct source_version){st->st_dev, st->st_ino, st->st_size,
                                   (int64_t)st->st_mtim.tv_sec * 1000000000 +
                                       st->st_mtim.tv_nsec};
}

static int same_source(const struct source_version *a, const struct source_version *b)
{
    return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
           a->mtime_ns == b->mtime_ns;
}

/* ---- completions (worker threads) --------------------------------------- */

static void frame_done(void *arg, struct frame_result *res)
{
    struct pending *p = arg;
    struct fs *fs = p->fs;

    pending_finish(p);
    if (res->status == FRAME_CANCELLED) {
        fuse_reply_err(p->req, EINTR);
    } else if (p->kind == P_LOOKUP) {
        struct frame_meta m;
        struct node *n;

        memset(&m, 0, sizeof(m));
        name_parse_frame(p->name, &fs->defaults, &m.req);
        m.status = res->status;
        m.requested_time = res->requested_time;
        m.actual_time = res->actual_time;
        snprintf(m.error, sizeof(m.error), "%s", res->error);
        m.size = res->image ? res->image->size : 0;
        m.width = res->width;
        m.height = res->height;
        /* The version actually decoded (the file may change meanwhile). */
        m.source = res->version.size || res->version.ino ? res->version : id_of(&p->src);
        snprintf(m.key, sizeof(m.key), "%s", res->key);
        m.src = p->src;
        /* Concurrent lookups of one new name: the first reply's node wins,
         * so the kernel sees one inode per name and version. */
        n = inode_find(fs->inodes, p->node, p->name);
        if (n && (n->frame.status != m.status || n->frame.size != m.size ||
                  !same_source(&n->frame.source, &m.source))) {
            inode_forget(fs->inodes, n, 1);
            n = NULL;
        }
        if (!n)
            n = inode_insert(fs->inodes, p->node, p->name, NODE_FRAME, p->node->path, &m);
        if (n)
            reply_entry(p->req, fs, n, &p->src);
        else
            fuse_reply_err(p->req, ENOMEM);
    } else if (res->status == FRAME_SUCCEEDED &&
               !same_source(&res->version, &p->node->frame.source)) {
        /* P_OPEN of a name whose source changed since its lookup: ESTALE
         * makes the kernel look the name up again (a new inode), so old and
         * new bytes never mix. */
        fuse_reply_err(p->req, ESTALE);
    } else if (res->status != FRAME_SUCCEEDED || res->image->size != p->node->frame.size) {
        /* P_OPEN: produced again (evicted from the cache) and failed now. */
        fuse_reply_err(p->req, EIO);
    } else {
        p->fi.fh = (uint64_t)(uintptr_t)blob_ref(res->image);
        p->fi.keep_cache = 1;
        if (fuse_reply_open(p->req, &p->fi) != 0)
            blob_unref(res->image);
    }
    blob_unref(res->image);
    pending_free(p);
}

static void info_done(void *arg, const struct video_info *info)
{
    struct pending *p = arg;
    struct xattr_set set;
    struct listing *l;

    pending_finish(p);
    if (atomic_load(&p->cancel) && !info->ok) {
        fuse_reply_err(p->req, EINTR);
    } else if (p->kind == P_OPENDIR) {
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

/* Register for interrupts, then queue; on failure reply at once. */
static void submit(struct pending *p, const struct frame_request *fr)
{
    /* The decoder reads only this fd, opened here where it is checked: it
     * never opens anything by name (and its threads cannot). */
    int fd = source_open_video(p->fs, p->node->path), ret = fd;

    fuse_req_interrupt_func(p->req, on_interrupt, p);
    if (fd >= 0 && fr)
        ret = decoder_submit_frame(p->fs->dec, fd, p->node->path, fr, &p->cancel, frame_done, p);
    else if (fd >= 0)
        ret = decoder_submit_info(p->fs->dec, fd, p->node->path, &p->cancel, info_done, p);
    if (ret < 0) {
        pending_finish(p);
        fuse_reply_err(p->req, -ret);
        pending_free(p);
    }
}

/* ---- lookup / forget / getattr ------------------------------------------ */

/* Frames of a video whose source is not `id` (changed or deleted): ask the
 * kernel to drop their cached entries now rather than at their timeout. */
struct stale_scan {
    struct fs *fs;
    struct node *video;
    const struct source_version *id;   /* NULL: the video is gone */
    const char *skip;                  /* the name being looked up */
};

static void queue_if_stale(void *arg, struct node *child)
{
    struct stale_scan *s = arg;

    if (child->kind == NODE_FRAME && strcmp(child->name, s->skip) != 0 &&
        (!s->id || !same_source(&child->frame.source, s->id)))
        inval_entry(s->fs->inval, inode_number(s->video), child->name);
}

static void drop_stale_frames(struct fs *fs, struct node *video,
                              const struct source_version *id, const char *skip)
{
    struct stale_scan s = {fs, video, id, skip};

    inode_each_child(fs->inodes, video, queue_if_stale, &s);
}

static void lookup_frame(fuse_req_t req, struct fs *fs, struct node *video, const char *name)
{
    struct frame_request fr;
    struct pending *p;
    struct stat st;
    struct node *n;

    if (name_parse_frame(name, &fs->defaults, &fr) < 0)
        return reply_negative(req, fs);
    if (source_stat(fs, video->path, &st) < 0) {
        drop_stale_frames(fs, video, NULL, name);
        return (void)fuse_reply_err(req, ENOENT);
    }
    if ((n = inode_find(fs->inodes, video, name))) {
        struct source_version id = id_of(&st);

        if (n->frame.status != FRAME_CANCELLED && same_source(&n->frame.source, &id))
            return reply_entry(req, fs, n, &st);
        inode_forget(fs->inodes, n, 1);   /* stale: produce it afresh */
        drop_stale_frames(fs, video, &id, name);
    }
    if (!(p = pending_new(req, P_LOOKUP, video)) || !(p->name = strdup(name))) {
        free(p);
        return (void)fuse_reply_err(req, ENOMEM);
    }
    p->src = st;
    submit(p, &fr);
}

static void lookup_source(fuse_req_t req, struct fs *fs, struct node *dir, const char *name)
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

static void op_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
    struct fs *fs = fs_of(req);
    struct node *dir = inode_get(fs->inodes, parent);

    if (strlen(name) > 255)
        return (void)fuse_reply_err(req, ENAMETOOLONG);
    if (dir->kind == NODE_VIDEO)
        return lookup_frame(req, fs, dir, name);
    if (dir->kind == NODE_DIR)
        return lookup_source(req, fs, dir, name);
    fuse_reply_err(req, ENOTDIR);
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
        if (n->kind != NODE_FRAME)
            return (void)fuse_reply_err(req, -ret);
        src = n->frame.src;
    }
    source_attr(n, &src, &attr);
    fuse_reply_attr(req, &attr, fs->timeout);
}

/* ---- files -------------------------------------------------------------- */

/*
 * Open a frame whose image is still cached, here on the FUSE thread: no queue,
 * no worker.  Only when the source is still the version the frame came from
 * (else the worker's open answers ESTALE).  0 with fi->fh holding a reference
 * to the image, or -1: take the slow path.
 */
static int open_cached(struct fs *fs, const struct node *n, struct fuse_file_info *fi)
{
    struct source_version now;
    struct stat st;
    struct blob *b;

    if (source_stat(fs, n->path, &st) < 0 || !S_ISREG(st.st_mode))
        return -1;
    now = id_of(&st);
    if (!same_source(&now, &n->frame.source) || !(b = decoder_cached(fs->dec, n->frame.key)))
        return -1;
    if (b->size != n->frame.size) {
        blob_unref(b);
        return -1;
    }
    fi->fh = (uint64_t)(uintptr_t)b;
    fi->keep_cache = 1;
    return 0;
}

static void op_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
    struct fs *fs = fs_of(req);
    struct node *n = inode_get(fs->inodes, ino);
    struct pending *p;
    int fd;

    if ((fi->flags & O_ACCMODE) != O_RDONLY || (fi->flags & O_TRUNC))
        return (void)fuse_reply_err(req, EROFS);
    switch (n->kind) {
    case NODE_FILE:
        if ((fd = source_open(fs, n->path, O_RDONLY)) < 0)
            return (void)fuse_reply_err(req, -fd);
        fi->fh = (uint64_t)fd;
        fuse_reply_open(req, fi);
        return;
    case NODE_FRAME:
        if (n->frame.status != FRAME_SUCCEEDED)
            return (void)fuse_reply_err(req, EIO);
        if (open_cached(fs, n, fi) == 0) {
            if (fuse_reply_open(req, fi) != 0)
                blob_unref((struct blob *)(uintptr_t)fi->fh);
            return;
        }
        if (!(p = pending_new(req, P_OPEN, n)))
            return (void)fuse_reply_err(req, ENOMEM);
        p->fi = *fi;
        submit(p, &n->frame.req);
        return;
    default:
        fuse_reply_err(req, EISDIR);
    }
}

static void op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                    struct fuse_file_info *fi)
{
    struct fs *fs = fs_of(req);
    struct node *n = inode_get(fs->inodes, ino);

    if (n->kind == NODE_FRAME) {
        struct blob *b = (struct blob *)(uintptr_t)fi->fh;

        if (off < 0 || (size_t)off >= b->size)
            return (void)fuse_reply_buf(req, NULL, 0);
        if (size > b->size - (size_t)off)
            size = b->size - (size_t)off;
        blob_ref(b);              /* see listing_free() */
        fuse_reply_buf(req, (const char *)b->data + off, size);
        blob_unref(b);
    } else {
        struct fuse_bufvec buf = FUSE_BUFVEC_INIT(size);

        buf.buf[0].flags = FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK;
        buf.buf[0].fd = (int)fi->fh;
        buf.buf[0].pos = off;
        fuse_reply_data(req, &buf, FUSE_BUF_SPLICE_MOVE);
    }
}

static void op_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
    struct fs *fs = fs_of(req);
    struct node *n = inode_get(fs->inodes, ino);

    if (n->kind == NODE_FRAME)
        blob_unref((struct blob *)(uintptr_t)fi->fh);
    else
        close((int)fi->fh);
    fuse_reply_err(req, 0);
}

/* ---- directories -------------------------------------------------------- */

static void op_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
    struct fs *fs = fs_of(req);
    struct node *n = inode_get(fs->inodes, ino);
    struct listing *l;
    struct pending *p;
    int ret;

    if (n->kind == NODE_VIDEO) {
        if (!(p = pending_new(req, P_OPENDIR, n)))
            return (void)fuse_reply_err(req, ENOMEM);
        p->fi = *fi;
        return submit(p, NULL);
    }
    if (n->kind != NODE_DIR)
        return (void)fuse_reply_err(req, ENOTDIR);
    if (!(l = listing_new()))
        return (void)fuse_reply_err(req, ENOMEM);
    if ((ret = list_source_dir(req, fs, n, l)) < 0) {
        listing_free(l);
        return (void)fuse_reply_err(req, -ret);
    }
    fi->fh = (uint64_t)(uintptr_t)l;
    if (fuse_reply_open(req, fi) != 0)
        listing_free(l);
}

static void op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
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

static void op_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
    (void)ino;
    listing_free((struct listing *)(uintptr_t)fi->fh);
    fuse_reply_err(req, 0);
}

/* ---- extended attributes ------------------------------------------------ */

static void op_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name, size_t size)
{
    struct fs *fs = fs_of(req);
    struct node *n = inode_get(fs->inodes, ino);
    struct xattr_set set;
    struct pending *p;

    if (n->kind == NODE_FRAME) {
        xattr_of_frame(&n->frame, &set);
        return reply_xattr_value(req, &set, name, size);
    }
    if (n->kind != NODE_VIDEO)
        return (void)fuse_reply_err(req, ENODATA);
    if (strncmp(name, "user.", 5) != 0)
        return (void)fuse_reply_err(req, ENODATA);
    if (!(p = pending_new(req, P_GETXATTR, n)) || !(p->name = strdup(name))) {
        free(p);
        return (void)fuse_reply_err(req, ENOMEM);
    }
    p->size = size;
    submit(p, NULL);
}

static void op_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size)
{
    struct fs *fs = fs_of(req);
    struct node *n = inode_get(fs->inodes, ino);
    struct xattr_set set = {0};
    struct pending *p;

    if (n->kind == NODE_FRAME)
        xattr_of_frame(&n->frame, &set);
    if (n->kind != NODE_VIDEO)
        return reply_xattr_list(req, &set, size);
    if (!(p = pending_new(req, P_LISTXATTR, n)))
        return (void)fuse_reply_err(req, ENOMEM);
    p->size = size;
    submit(p, NULL);
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

static void op_setxattr(fuse_req_t req, fuse_ino_t ino, const char *n, const char *v,
                        size_t s, int f)
{
    (void)ino, (void)n, (void)v, (void)s, (void)f;
    erofs(req);
}

static void op_removexattr(fuse_req_t req, fuse_ino_t ino, const char *n)
{
    (void)ino, (void)n;
    erofs(req);
}

const struct fuse_lowlevel_ops fs_ops = {
    .lookup = op_lookup,
    .forget = op_forget,
    .forget_multi = op_forget_multi,
    .getattr = op_getattr,
    .open = op_open,
    .read = op_read,
    .release = op_release,
    .opendir = op_opendir,
    .readdir = op_readdir,
    .releasedir = op_releasedir,
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
