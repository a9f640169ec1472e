/*
 * fs/inval — tells the kernel to forget cached entries, from a thread of its
 * own.  fuse_lowlevel_notify_inval_entry() must not run inside a handler for
 * the same directory (the kernel holds the directory's lock while it waits
 * for that handler: deadlock), so handlers only queue names here and this
 * thread sends them.  inval_entry() never blocks; the queue has its own mutex.
 */
#ifndef FRAMEFS_INVAL_H
#define FRAMEFS_INVAL_H

#define FUSE_USE_VERSION 314
#include <fuse_lowlevel.h>

struct inval;

struct inval *inval_start(struct fuse_session *se);
/* Sends what is queued, then stops and frees. */
void inval_stop(struct inval *iv);
/* Queue "forget the entry `name` in directory `parent`" (copied). */
void inval_entry(struct inval *iv, fuse_ino_t parent, const char *name);

#endif
