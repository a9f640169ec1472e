/*
 * decoder/media/content — a version's content id: XXH3-128 of all its bytes, in
 * hex.  It names the video across hosts (decoder/shared.h), where paths,
 * inodes and mtimes mean nothing.  Computed in one sequential pass over the
 * fd before the packet scan, since a host must know it to find an index
 * another host stored, before scanning; at memory speed the pass costs
 * little next to the scan (figures in README "Many hosts").
 * Blocks on I/O for the whole file; stop(arg) is polled per MiB.
 */
#ifndef FRAMEFS_CONTENT_H
#define FRAMEFS_CONTENT_H

#include <stdint.h>

#define CONTENT_ID_LEN 33        /* 32 hex digits and the NUL */

/* 0 and id filled; -errno on a read error; -ECANCELED when stopped. */
int content_id(int fd, int64_t size, char id[CONTENT_ID_LEN], int (*stop)(void *), void *arg);

#endif
