/*
 * fs/ — the top floor: FUSE's low-level API over decoder.h, never libav*.
 * main.c parses options and runs the session; ops.c is the operations table
 * and dispatches on a node's kind to dir.c (source and video directories),
 * frame.c (frames), view.c (views), info.c (info.json) and passthrough.c
 * (plain files), each of which calls down to request.c (requests waiting on
 * the decoder, cancel-all, shared replies); under those: xattr.c, name.c (the
 * frame-name grammar), source.c (SOURCE_DIR, opened safely), inode.c (the
 * inode table), inval.c and watch.c (inotify, kernel invalidation).  Start
 * at ops.c, then frame.c.
 *
 * fs/fs — the mounted filesystem's state, shared by main.c (which builds it
 * and tears it down), the FUSE handlers (ops.h) and source.c (the read-only
 * view of SOURCE_DIR).
 *
 * Everything in struct fs is set before the session starts and read-only
 * afterwards, except what the inode table and the decoder protect themselves.
 */
#ifndef FRAMEFS_FS_H
#define FRAMEFS_FS_H

#define FUSE_USE_VERSION 314
#include <fuse_lowlevel.h>
#include <pthread.h>
#include <sys/stat.h>

#include "../decoder/decoder.h"
#include "inode.h"
#include "inval.h"
#include "watch.h"

#define FS_MAX_EXTS 128
#define FS_MAX_LISTED 100000      /* frames one video directory lists at most */
#define FS_MAX_VIEW_LISTED 1000000    /* frames a view lists at most */
#define FS_MAX_BATCH 100000       /* longest listing produced as a batch */

struct fs {
    char *root;                   /* realpath of SOURCE_DIR */
    int rootfd;
    struct decoder *dec;
    struct inode_table *inodes;
    struct frame_request defaults;   /* what a name leaves out (-o tol=, w=, ...) */
    double list_interval;         /* seconds; 0 lists none */
    enum frame_format list_format;   /* the extension listed names carry */
    int n_exts;
    char *exts[FS_MAX_EXTS];      /* lower case, without the dot */
    double timeout;               /* entry and attribute timeout, seconds */
    struct inval *inval;          /* entry invalidation thread */
    pthread_mutex_t pending_lock; /* the requests waiting on the decoder */
    int parallel_dirops;          /* asked for and offered at INIT (ops.c, handshake.h) */
    struct pending *pending;      /* (request.c), for cancel-all */
    struct watch *watch;          /* inotify on the source directories */
};

extern const struct fuse_lowlevel_ops fs_ops;

/* ---- source.c: the read-only view of SOURCE_DIR ---- */

/* "dir/name" relative to the root ("name" when dir is "."); NULL on ENOMEM. */
char *source_join(const char *dir, const char *name);
/* Absolute path of a relative one; NULL on ENOMEM. */
char *source_abs(const struct fs *fs, const char *rel);
/* stat a relative path.  Symlinks are followed only while their target stays
 * inside SOURCE_DIR.  0 or -errno. */
int source_stat(const struct fs *fs, const char *rel, struct stat *st);
/* Absolute path with every symlink resolved, or NULL when it leads outside
 * SOURCE_DIR (or does not exist, or ENOMEM).  Free it. */
char *source_resolve(const struct fs *fs, const char *rel);
/* Open a relative path with openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS)
 * from the root fd, O_NONBLOCK | O_CLOEXEC added: symlinks that stay inside
 * SOURCE_DIR work, none can lead out (-ENOENT), and a FIFO never blocks.  An
 * fd or -errno. */
int source_open(const struct fs *fs, const char *rel, int flags);
/* A video's one fd for the decoder: source_open() read-only, and a regular
 * file (else -ENOENT). */
int source_open_video(const struct fs *fs, const char *rel);
/* Is this file name one of the video extensions? */
int source_is_video(const struct fs *fs, const char *name);
/* The node kind a source entry appears as, or -1 when it is hidden. */
int source_kind(const struct fs *fs, const char *name, const struct stat *st);
/* Attributes a node shows, from its source's stat. */
void source_attr(const struct node *n, const struct stat *src, struct stat *out);
/* The version of a source a stat shows, and whether two are the same. */
struct source_version source_version_of(const struct stat *st);
int source_same_version(const struct source_version *a, const struct source_version *b);
/* Parse the video_ext option into fs->exts.  0 or -1. */
int source_set_exts(struct fs *fs, const char *list);

#endif
