/*
 * Frames: the files of a video directory.  A frame is produced at lookup (on
 * a worker), and its node records the outcome and the source version it came
 * from; a later lookup that finds the source changed produces it afresh.
 * Open takes a reference to the cached image (on the FUSE thread when it is
 * still cached, else on a worker), read serves from it, release drops it.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "name.h"
#include "ops.h"
#include "xattr.h"

/* ---- completion (worker threads) ---------------------------------------- */

/* The node a lookup's outcome m makes, replacing a different one of the same
 * name; NULL on ENOMEM. */
static struct node *frame_node(struct pending *p, const struct frame_meta *m)
{
    struct fs *fs = p->fs;
    struct node *n;

    /* Concurrent lookups of one new name: the first reply's node wins, so
     * the kernel sees one inode per name and version. */
    n = inode_find(fs->inodes, p->node, p->name);
    if (n && (n->frame->status != m->status || n->frame->size != m->size ||
              !source_same_version(&n->frame->source, &m->source))) {
        inode_forget(fs->inodes, n, 1);
        n = NULL;
    }
    if (!n)
        n = inode_insert(fs->inodes, p->node, p->name, NODE_FRAME, p->node->path, m);
    return n;
}

/* Answer a pending frame lookup with a `cancelled` entry (cancel-all). */
static void frame_reply_cancelled(struct pending *p)
{
    struct frame_meta m;
    struct node *n;

    memset(&m, 0, sizeof(m));
    name_parse_frame(p->name, &p->fs->defaults, &m.req);
    m.status = FRAME_CANCELLED;
    m.requested_time = m.req.kind == TIME_SECONDS ? m.req.t : NAN;
    snprintf(m.error, sizeof(m.error), "cancelled by user.cancel before it was produced");
    m.source = source_version_of(&p->src);
    m.src = p->src;
    if ((n = frame_node(p, &m)))
        reply_entry(p->req, p->fs, n, &p->src);
    else
        fuse_reply_err(p->req, ENOMEM);
}

/* One line per failed request; with -o verbose, one per produced frame. */
static void log_result(const struct pending *p, const struct frame_result *res)
{
    const char *name = p->kind == P_LOOKUP ? p->name : p->node->name;
    const struct frame_timing *tm = &res->timing;

    if (res->status == FRAME_FAILED)
        log_msg(LOG_ERR, "%s/%s: %s", p->node->path, name, res->error);
    else if (res->status == FRAME_SUCCEEDED && tm->produced && log_verbose())
        log_msg(LOG_INFO, "%s/%s: frame at %.6f, %dx%d, %zu bytes: index %.1f ms, "
                "seek %.1f ms, decode %.1f ms, convert %.1f ms, encode %.1f ms",
                p->node->path, name, res->actual_time, res->width, res->height,
                res->image->size, tm->index, tm->seek, tm->decode, tm->convert, tm->encode);
}

static void frame_done(void *arg, struct frame_result *res)
{
    struct pending *p = arg;
    struct fs *fs = p->fs;

    log_result(p, res);
    if (!pending_finish(p)) {
        /* cancel-all answered it already */
    } else if (res->status == FRAME_CANCELLED) {
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
        m.source = res->version.size || res->version.ino ? res->version : source_version_of(&p->src);
        snprintf(m.key, sizeof(m.key), "%s", res->key);
        m.src = p->src;
        if ((n = frame_node(p, &m)))
            reply_entry(p->req, fs, n, &p->src);
        else
            fuse_reply_err(p->req, ENOMEM);
    } else if (res->status == FRAME_SUCCEEDED &&
               !source_same_version(&res->version, &p->node->frame->source)) {
        /* P_OPEN of a name whose source changed since its lookup: ESTALE
         * makes the kernel look the name up again (a new inode), so old and
         * new bytes never mix. */
        fuse_reply_err(p->req, ESTALE);
    } else if (res->status != FRAME_SUCCEEDED || res->image->size != p->node->frame->size) {
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

/* ---- lookup ------------------------------------------------------------- */

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
        (!s->id || !source_same_version(&child->frame->source, s->id)))
        inval_entry(s->fs->inval, inode_number(s->video), child->name);
}

static void drop_stale_frames(struct fs *fs, struct node *video,
                              const struct source_version *id, const char *skip)
{
    struct stale_scan s = {fs, video, id, skip};

    inode_each_child(fs->inodes, video, queue_if_stale, &s);
}

void frame_lookup(fuse_req_t req, struct fs *fs, struct node *video, const char *name)
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
        struct source_version id = source_version_of(&st);

        if (n->frame->status != FRAME_CANCELLED && source_same_version(&n->frame->source, &id))
            return reply_entry(req, fs, n, &st);
        inode_forget(fs->inodes, n, 1);   /* stale: produce it afresh */
        drop_stale_frames(fs, video, &id, name);
    }
    if (!(p = pending_new(req, P_LOOKUP, video)) || !(p->name = strdup(name))) {
        free(p);
        return (void)fuse_reply_err(req, ENOMEM);
    }
    p->src = st;
    p->reply_cancelled = frame_reply_cancelled;
    submit_frame(p, &fr, frame_done);
}

/* ---- open / read / release ---------------------------------------------- */

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
    now = source_version_of(&st);
    if (!source_same_version(&now, &n->frame->source) || !(b = decoder_cached(fs->dec, n->frame->key)))
        return -1;
    if (b->size != n->frame->size) {
        blob_unref(b);
        return -1;
    }
    fi->fh = (uint64_t)(uintptr_t)b;
    fi->keep_cache = 1;
    return 0;
}

void frame_open(fuse_req_t req, struct fs *fs, struct node *n, struct fuse_file_info *fi)
{
    struct pending *p;

    if (n->frame->status == FRAME_CANCELLED)
        return (void)fuse_reply_err(req, ECANCELED);
    if (n->frame->status != FRAME_SUCCEEDED)
        return (void)fuse_reply_err(req, EIO);
    if (open_cached(fs, n, fi) == 0) {
        if (fuse_reply_open(req, fi) != 0)
            blob_unref((struct blob *)(uintptr_t)fi->fh);
        return;
    }
    if (!(p = pending_new(req, P_OPEN, n)))
        return (void)fuse_reply_err(req, ENOMEM);
    p->fi = *fi;
    submit_frame(p, &n->frame->req, frame_done);
}

void frame_read(fuse_req_t req, size_t size, off_t off, struct fuse_file_info *fi)
{
    struct blob *b = (struct blob *)(uintptr_t)fi->fh;

    if (off < 0 || (size_t)off >= b->size)
        return (void)fuse_reply_buf(req, NULL, 0);
    if (size > b->size - (size_t)off)
        size = b->size - (size_t)off;
    blob_ref(b);              /* see listing_free() in dir.c */
    fuse_reply_buf(req, (const char *)b->data + off, size);
    blob_unref(b);
}

void frame_release(struct fuse_file_info *fi)
{
    blob_unref((struct blob *)(uintptr_t)fi->fh);
}

/* ---- extended attributes ------------------------------------------------ */

void frame_getxattr(fuse_req_t req, const struct node *n, const char *name, size_t size)
{
    struct xattr_set set;

    xattr_of_frame(n->frame, &set);
    reply_xattr_value(req, &set, name, size);
}

void frame_listxattr(fuse_req_t req, const struct node *n, size_t size)
{
    struct xattr_set set;

    xattr_of_frame(n->frame, &set);
    reply_xattr_list(req, &set, size);
}
