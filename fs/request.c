/*
 * Requests that need the decoder become jobs: the handler copies what the
 * reply needs into a `struct pending`, registers the interrupt callback,
 * submits, and returns; the worker's completion callback replies.  The FUSE
 * loop never waits for a decode.  Also the replies the handlers share.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "request.h"
#include "xattr.h"

/* ---- requests waiting on the decoder ------------------------------------ */

/* Runs under libfuse's request lock: only set the flag. */
static void on_interrupt(fuse_req_t req, void *data)
{
    struct pending *p = data;

    (void)req;
    atomic_store(&p->cancel, 1);
}

struct pending *pending_new(fuse_req_t req, enum pending_kind kind, struct node *n)
{
    struct pending *p = calloc(1, sizeof(*p));

    if (!p)
        return NULL;
    p->kind = kind;
    p->req = req;
    p->fs = fs_of(req);
    p->node = n;
    atomic_init(&p->cancel, 0);
    atomic_init(&p->replied, 0);
    return p;
}

static void registry_add(struct pending *p)
{
    struct fs *fs = p->fs;

    pthread_mutex_lock(&fs->pending_lock);
    p->prev = NULL;
    p->next = fs->pending;
    if (p->next)
        p->next->prev = p;
    fs->pending = p;
    pthread_mutex_unlock(&fs->pending_lock);
}

static void registry_remove(struct pending *p)
{
    struct fs *fs = p->fs;

    pthread_mutex_lock(&fs->pending_lock);
    if (p->prev)
        p->prev->next = p->next;
    else
        fs->pending = p->next;
    if (p->next)
        p->next->prev = p->prev;
    pthread_mutex_unlock(&fs->pending_lock);
}

int pending_cancel_all(struct fs *fs, const char *path)
{
    int n = 0;

    decoder_cancel_batches(fs->dec, path);
    pthread_mutex_lock(&fs->pending_lock);
    for (struct pending *p = fs->pending; p; p = p->next) {
        if (path && strcmp(p->node->path, path) != 0)
            continue;
        atomic_store(&p->cancel, 1);          /* the job stops at a packet */
        if (atomic_exchange(&p->replied, 1))
            continue;                         /* its completion is replying */
        fuse_req_interrupt_func(p->req, NULL, NULL);
        if (p->reply_cancelled)
            p->reply_cancelled(p);
        else
            fuse_reply_err(p->req, ECANCELED);
        n++;
    }
    pthread_mutex_unlock(&fs->pending_lock);
    return n;
}

void pending_free(struct pending *p)
{
    free(p->name);
    free(p);
}

int pending_finish(struct pending *p)
{
    registry_remove(p);
    if (atomic_exchange(&p->replied, 1))
        return 0;                /* cancel-all answered it */
    fuse_req_interrupt_func(p->req, NULL, NULL);
    return 1;
}

/* Register for interrupts, then queue; on failure reply at once.  A frame job
 * (fr given) completes with frame_done, an info job (with the scene scores
 * when `scenes`) with info_done. */
static void submit(struct pending *p, const struct frame_request *fr, frame_done_fn frame_done,
                   info_done_fn info_done, int scenes)
{
    /* The decoder reads only this fd, opened here where it is checked: it
     * never opens anything by name (and its threads cannot). */
    int fd = source_open_video(p->fs, p->node->path), ret = fd;

    fuse_req_interrupt_func(p->req, on_interrupt, p);
    registry_add(p);
    if (fd >= 0 && fr)
        ret = decoder_submit_frame(p->fs->dec, fd, p->node->path, fr, &p->cancel, frame_done, p);
    else if (fd >= 0 && scenes)
        ret = decoder_submit_scenes(p->fs->dec, fd, p->node->path, &p->cancel, info_done, p);
    else if (fd >= 0)
        ret = decoder_submit_info(p->fs->dec, fd, p->node->path, &p->cancel, info_done, p);
    if (ret < 0) {
        if (pending_finish(p))
            fuse_reply_err(p->req, -ret);
        pending_free(p);
    }
}

void submit_frame(struct pending *p, const struct frame_request *fr, frame_done_fn done)
{
    submit(p, fr, done, NULL, 0);
}

void submit_info(struct pending *p, info_done_fn done)
{
    submit(p, NULL, NULL, done, 0);
}

void submit_scenes(struct pending *p, info_done_fn done)
{
    submit(p, NULL, NULL, done, 1);
}

/* ---- replies ------------------------------------------------------------ */

void reply_entry(fuse_req_t req, struct fs *fs, struct node *n, const struct stat *src)
{
    struct fuse_entry_param e;

    memset(&e, 0, sizeof(e));
    e.ino = inode_number(n);
    e.attr_timeout = fs->timeout;
    e.entry_timeout = fs->timeout;
    if (n->frame && n->frame->status != FRAME_SUCCEEDED)
        e.entry_timeout = 0;
    source_attr(n, src, &e.attr);
    if (fuse_reply_entry(req, &e) != 0)
        inode_forget(fs->inodes, n, 1);   /* the kernel never got it */
}

void reply_negative(fuse_req_t req, struct fs *fs)
{
    struct fuse_entry_param e;

    memset(&e, 0, sizeof(e));
    e.entry_timeout = fs->timeout;
    fuse_reply_entry(req, &e);
}

/* What xattr_get()/xattr_list() said (ret, the bytes at buf[0..len)) as a
 * getxattr/listxattr reply for a buffer of `size` (0: just the length). */
static void reply_xattr(fuse_req_t req, int ret, size_t size, const char *buf, size_t len)
{
    if (ret < 0)
        fuse_reply_err(req, -ret);
    else if (size == 0)
        fuse_reply_xattr(req, len);
    else
        fuse_reply_buf(req, buf, len);
}

void reply_xattr_value(fuse_req_t req, const struct xattr_set *s, const char *name,
                       size_t size)
{
    const char *value = NULL;
    size_t len = 0;
    int ret = xattr_get(s, name, size, &value, &len);

    reply_xattr(req, ret, size, value, len);
}

void reply_xattr_list(fuse_req_t req, const struct xattr_set *s, size_t size)
{
    char buf[XATTR_MAX * 32];
    size_t len = 0;
    int ret = xattr_list(s, buf, size < sizeof(buf) ? size : sizeof(buf), &len);

    reply_xattr(req, ret, size, buf, len);
}
