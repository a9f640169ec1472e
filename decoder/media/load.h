/*
 * decoder/media/load — load one version of a video: probe and packet scan
 * (video.c), then, for streams whose packets carry no timestamps, one decode
 * of the whole stream to learn the frames' times (seek.c's decoder), then
 * finish the index.  Runs on the calling thread and may block for as long as
 * the file takes to scan or decode; stop(arg) is checked at every packet of
 * both passes, and a stopped load returns a video with `stopped` set.
 */
#ifndef FRAMEFS_LOAD_H
#define FRAMEFS_LOAD_H

#include "../../cache/tiers.h"
#include "video.h"

/* With cache tiers below memory (cache/tiers.h: the disk, the hosts' shared
 * cache): the content id is computed first, and the index is taken from a
 * tier when an earlier mount or another host stored it (no scan, no
 * decoding), else made here and stored in them. */
struct load_tiers {
    struct tiers *tiers;
    char pipeline[17];           /* what made the values (image/version.h) */
};

/* Takes ownership of fd.  sh may be NULL.  NULL only on ENOMEM (fd closed). */
struct video *video_load(int fd, const char *name, const struct video_id *id,
                         const struct load_tiers *sh, int (*stop)(void *), void *arg);

#endif
