/*
 * fs/ops — what the FUSE handlers share, private to fs/.  ops.c holds the
 * fuse_lowlevel_ops table and dispatches each request on the node's kind to
 * the file that serves that kind: dir.c (source and video directories),
 * frame.c (frames), passthrough.c (plain files).  request.h holds requests
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
#include "request.h"

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
void frame_open(fuse_req_t req, struct fs *fs, struct node *n, struct fuse_file_info *fi);
void frame_read(fuse_req_t req, size_t size, off_t off, struct fuse_file_info *fi);
void frame_release(struct fuse_file_info *fi);
void frame_getxattr(fuse_req_t req, const struct node *n, const char *name, size_t size);
void frame_listxattr(fuse_req_t req, const struct node *n, size_t size);

/* ---- view.c: view directories inside a video's ---- */

/* Is name a view of a video directory: "every=SECONDS", "keyframes",
 * "frames", "scenes[,threshold=X][,min=SECONDS]"? */
int view_is_name(const char *name);
/* Does the view list from the frames' scene scores (submit_scenes())? */
int view_needs_scenes(const char *name);
/* The start of each shot at the default threshold and shot length, to
 * at(arg, t) (it returns 0, or -ENOMEM to stop), when info->scenes_known.
 * 0 or -ENOMEM. */
int view_scene_times(const struct video_info *info, int (*at)(void *arg, double t), void *arg);
/* A shot starts at a frame scoring above the threshold (0..1, the score of
 * FFmpeg's select filter on small grey frames), at least MIN_SHOT seconds
 * after the last shot's start. */
#define SCENES_DEFAULT_THRESHOLD 0.3
#define SCENES_DEFAULT_MIN_SHOT 0.5
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
