/*
 * decoder/load — load one version of a video: probe and packet scan
 * (video.c), then, for streams whose packets carry no timestamps, one decode
 * of the whole stream to learn the frames' times (seek.c's decoder), then
 * finish the index.  Runs on the calling thread and may block for as long as
 * the file takes to scan or decode; stop(arg) is checked at every packet of
 * both passes, and a stopped load returns a video with `stopped` set.
 */
#ifndef FRAMEFS_LOAD_H
#define FRAMEFS_LOAD_H

#include "video.h"

/* Takes ownership of fd.  NULL only on ENOMEM (fd closed). */
struct video *video_load(int fd, const char *name, const struct video_id *id,
                         int (*stop)(void *), void *arg);

#endif
