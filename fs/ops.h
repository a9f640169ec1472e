/*
 * fs/ops — what the FUSE handlers share, private to fs/.  ops.c holds the
 * fuse_lowlevel_ops table and dispatches each request on the node's kind to
 * the file that serves that kind: dir.c (source and video directories),
 * frame.c (frames), passthrough.c (plain files).  request.c holds requests
 * waiting on the decoder and the replies they share.  A new node kind adds
 * its case to ops.c's dispatch and its handlers in a file of its own.
 *
 * Ownership
 *   A handler answers its request exactly once, at once or from a
 *   completion.  It gets the node from ops.c; the kernel holds a lookup on it
 *   (for lookup, on the parent) until the request is answered.
 *   struct pending: the handler's until submit_frame()/submit_info(), then
 *   the completion's, which calls pending_finish() first and pending_free()
 *   last; when the decoder refuses the job, submit_*() replies and frees.
 *   fi->fh of an open node belongs to its kind and is released by it: a
 *   struct listing for every directory (dir.c), a blob reference for a frame
 *   (frame.c), an fd for a plain file (passthrough.c).
 *
 * Locking
 *   None here.  Nodes are immutable but for what the inode table locks
 *   (inode.h); a pending's cancel flag is atomic; a listing is immutable once
 *   built and its reference count is atomic.
 *
 * Blocking
 *   Handlers run on FUSE threads and never wait for a decode: they stat and
 *   open sources (fs.h), submit and return.  Completions run on decoder
 *   worker threads (decoder.h).  on_interrupt runs under libfuse's request
 *   lock and only sets a flag.
 */
#ifndef FRAMEFS_OPS_H
#define FRAMEFS_OPS_H

#include <stdatomic.h>
#include <stddef.h>
#include <sys/stat.h>

#include "fs.h"

struct xattr_set;

static inline struct fs *fs_of(fuse_req_t req)
{
    return fuse_req_userdata(req);
}

/* ---- request.c: requests waiting on the decoder, shared replies ---- */

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

/* ---- dir.c: source directories, video directories, listings ---- */

/* A name in a source directory: a directory, a plain file or a video. */
void dir_lookup(fuse_req_t req, struct fs *fs, struct node *dir, const char *name);
/* Listings are built whole at opendir and served by offset. */
void dir_opendir(fuse_req_t req, struct fs *fs, struct node *dir, struct fuse_file_info *fi);
void video_opendir(fuse_req_t req, struct node *video, struct fuse_file_info *fi);
void dir_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                 struct fuse_file_info *fi);
void dir_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
/* A video directory's attributes: its video's info (xattr.h). */
void video_getxattr(fuse_req_t req, struct node *video, const char *name, size_t size);
void video_listxattr(fuse_req_t req, struct node *video, size_t size);

/* ---- frame.c: frames ---- */

/* A name in a video directory or a view: a frame name, produced at lookup. */
void frame_lookup(fuse_req_t req, struct fs *fs, struct node *video, const char *name);
/* Answer a pending frame lookup with a `cancelled` entry (cancel-all). */
void frame_reply_cancelled(struct pending *p);
void frame_open(fuse_req_t req, struct fs *fs, struct node *n, struct fuse_file_info *fi);
void frame_read(fuse_req_t req, size_t size, off_t off, struct fuse_file_info *fi);
void frame_release(struct fuse_file_info *fi);
void frame_getxattr(fuse_req_t req, const struct node *n, const char *name, size_t size);
void frame_listxattr(fuse_req_t req, const struct node *n, size_t size);

/* ---- view.c: view directories inside a video's ---- */

/* Is name a view of a video directory: "every=SECONDS", "keyframes",
 * "frames"? */
int view_is_name(const char *name);
void view_lookup(fuse_req_t req, struct fs *fs, struct node *video, const char *name);
/* The names the video directory or view n lists, in timeline order, for its
 * video's info: add(arg, name) each (it returns 0, or -ENOMEM to stop).
 * 0 or -ENOMEM. */
int view_names(const struct fs *fs, const struct node *n, const struct video_info *info,
               int (*add)(void *arg, const char *name), void *arg);

/* ---- info.c: a video's info.json ---- */

void info_lookup(fuse_req_t req, struct fs *fs, struct node *video);
void info_open(fuse_req_t req, struct node *n, struct fuse_file_info *fi);

/* ---- passthrough.c: plain files of SOURCE_DIR ---- */

void file_open(fuse_req_t req, struct fs *fs, struct node *n, struct fuse_file_info *fi);
void file_read(fuse_req_t req, size_t size, off_t off, struct fuse_file_info *fi);
void file_release(struct fuse_file_info *fi);

#endif
