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

#include "../../cache/shared.h"
#include "video.h"

/* With a shared cache (decoder/shared.h): the content id is computed first,
 * and the index is taken from the shared cache when another host stored it
 * (no scan, no decoding), else made here and stored for the others. */
struct load_shared {
    struct shared *shared;
    char pipeline[17];           /* what made the values (image/version.h) */
};

/* Takes ownership of fd.  sh may be NULL.  NULL only on ENOMEM (fd closed). */
struct video *video_load(int fd, const char *name, const struct video_id *id,
                         const struct load_shared *sh, int (*stop)(void *), void *arg);

#endif
