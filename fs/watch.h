/*
 * fs/watch — notices changes in SOURCE_DIR (inotify) and has the kernel drop
 * the cached entries they affect, so a replaced, appended or deleted video is
 * seen at once instead of after the entry timeout.
 *
 * Every directory that gets looked up or listed is watched; an event on a
 * name queues inval_entry(dir, name) (fs/inval), whose thread tells the
 * kernel.  Only inode numbers are kept, never node pointers: a stale number
 * just makes the kernel answer ENOENT.  watch_dir() may be called from any
 * handler; the table is under the watcher's mutex.
 */
#ifndef FRAMEFS_WATCH_H
#define FRAMEFS_WATCH_H

#define FUSE_USE_VERSION 314
#include <fuse_lowlevel.h>

#include "inval.h"

struct watch;

/* NULL when inotify is unavailable: framefs then relies on the timeouts. */
struct watch *watch_start(struct inval *iv);
void watch_stop(struct watch *w);
/* Watch the source directory `abs_path`, shown as inode `ino`. */
void watch_dir(struct watch *w, const char *abs_path, fuse_ino_t ino);

#endif
