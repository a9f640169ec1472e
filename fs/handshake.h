/*
 * fs/handshake — the FUSE INIT exchange, run by main.c before any thread
 * that talks to the kernel starts, with one correction: libfuse 3.14 (Debian
 * 12) accepts FUSE_CAP_PARALLEL_DIROPS in conn->want but never sets
 * FUSE_PARALLEL_DIROPS in its INIT reply, so the kernel lets one lookup per
 * directory reach us at a time.  Readers of one video then wait in line for
 * each other's decodes, and a cancel-all sees only the lookup at the head of
 * each line.  handshake_init() lets libfuse answer INIT into a socket pair
 * instead of /dev/fuse, sets the flag in that reply when the kernel offered
 * it and the filesystem asked for it (ops.c's init), and writes the reply to
 * the kernel.  A libfuse that sets the flag itself is left as it is.
 *
 * Blocks until the kernel sends INIT (right after the mount).  Not
 * thread-safe: the session's fd is swapped for the exchange.
 */
#ifndef FRAMEFS_HANDSHAKE_H
#define FRAMEFS_HANDSHAKE_H

#include "fs.h"

/* Receive and answer INIT.  want_parallel: the filesystem asked for
 * parallel directory operations and the kernel offered them (op_init).
 * 0, or -1 with a log line (the session cannot go on). */
int handshake_init(struct fuse_session *se, const int *want_parallel);

#endif
