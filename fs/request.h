/*
 * fs/request — requests that wait on the decoder (struct pending: registered
 * for interrupts and for cancel-all, submitted as jobs, answered by their
 * completion) and the replies the handlers share.  Below the handlers
 * (ops.h): it calls none of them; a handler that answers cancel-all its own
 * way sets p->reply_cancelled.
 *
 * Ownership and blocking as in ops.h.  Locking: fs->pending_lock guards the
 * registry of submitted requests (pending_cancel_all() replies under it).
 */
#ifndef FRAMEFS_REQUEST_H
#define FRAMEFS_REQUEST_H

#include <stdatomic.h>
#include <stddef.h>
#include <sys/stat.h>

#include "fs.h"

struct xattr_set;

static inline struct fs *fs_of(fuse_req_t req)
{
    return fuse_req_userdata(req);
}

enum pending_kind { P_LOOKUP, P_OPEN, P_OPENDIR, P_GETXATTR, P_LISTXATTR };

struct pending {
    enum pending_kind kind;
    fuse_req_t req;
    struct fs *fs;
    atomic_int cancel;            /* set by the interrupt callback, or cancel-all */
    atomic_int replied;           /* the reply is taken: by the completion or
                                     by cancel-all, whichever comes first */
    struct pending *prev, *next;  /* fs->pending, while submitted */
    struct node *node;            /* lookup: the parent; others: the node */
    char *name;                   /* lookup: the child; getxattr: the attr */
    size_t size;                  /* getxattr/listxattr buffer size */
    struct stat src;              /* lookup: the video's stat at request time */
    struct fuse_file_info fi;     /* open/opendir */
    /* How cancel-all answers it, when not with ECANCELED (set by the handler
     * that made it: a frame lookup replies with a cancelled frame). */
    void (*reply_cancelled)(struct pending *p);
};

/* A pending request on node n; NULL on ENOMEM. */
struct pending *pending_new(fuse_req_t req, enum pending_kind kind, struct node *n);
void pending_free(struct pending *p);
/* Called first by every completion: after it, no interrupt callback and no
 * cancel-all touches p.  Returns 1 when the completion replies, 0 when
 * cancel-all already did (then the completion only frees). */
int pending_finish(struct pending *p);

/* Cancel-all (setfattr -n user.cancel -v all): every request waiting on the
 * decoder for the video at `path` (every video when NULL) is answered now,
 * lookups of frames with a `cancelled` entry, the others with ECANCELED, and
 * its job and the video's batches are told to stop.  Returns how many were
 * answered.  Never blocks on the decoder. */
int pending_cancel_all(struct fs *fs, const char *path);

/* Open p->node's video, register for interrupts and queue a job that `done`
 * completes on a worker; when that fails, reply the error at once. */
void submit_frame(struct pending *p, const struct frame_request *fr, frame_done_fn done);
void submit_info(struct pending *p, info_done_fn done);
/* submit_info() with the frames' scene scores (decoder_submit_scenes()). */
void submit_scenes(struct pending *p, info_done_fn done);

/* Reply the entry of n (one lookup, given back if the reply fails).  A
 * frame that did not succeed has no entry timeout: the next lookup asks
 * again (and a cancelled one is produced afresh). */
void reply_entry(fuse_req_t req, struct fs *fs, struct node *n, const struct stat *src);
/* Reply "no such name", cached for the entry timeout. */
void reply_negative(fuse_req_t req, struct fs *fs);
/* getxattr and listxattr replies from a set, by xattr.h's size rules. */
void reply_xattr_value(fuse_req_t req, const struct xattr_set *s, const char *name,
                       size_t size);
void reply_xattr_list(fuse_req_t req, const struct xattr_set *s, size_t size);

#endif
