/*
 * decoder/video — one source video: identity, metadata and frame index.
 *
 * A struct video is created by video_open() from a path, fully loaded (probed
 * and indexed by one packet scan, nothing decoded) and immutable afterwards,
 * so any thread may read it without a lock.  It is refcounted: the video
 * table holds one reference, every decoder context and running job another.
 * Opening never leaves a half-built video: on failure `ok` is 0 and `error`
 * says why, and the video is still returned (so the failure is cached too).
 */
#ifndef FRAMEFS_VIDEO_H
#define FRAMEFS_VIDEO_H

#include <stdatomic.h>
#include <stdint.h>
#include <sys/types.h>

#include <libavutil/rational.h>

#include "decoder.h"
#include "select.h"

/* What identifies one version of a source file. */
struct video_id {
    dev_t dev;
    ino_t ino;
    off_t size;
    int64_t mtime_ns;
};

/* One packet of the video stream, in decode (file) order. */
struct index_packet {
    int64_t pts, dts, pos;
    int key;
};

struct video {
    atomic_int refs;
    char *path;
    struct video_id id;
    char key_prefix[96];          /* cache keys of this version start with it */

    int ok;
    char error[256];

    int stream;                   /* index of the video stream in the file */
    AVRational time_base;
    int64_t start_pts;            /* container start time, in time_base ticks */
    int seek_by_bytes;            /* MPEG-TS/PS: seek by position, not time */
    int rotation[3];              /* transpose, reverse x, reverse y (convert.h) */
    struct video_info info;

    /* Frames in presentation order (the selection rule's input) and, for
     * each, the position of its packet in decode order. */
    struct select_frame *frames;
    size_t *frame_packet;
    size_t n_frames;
    struct index_packet *packets; /* decode order */
    size_t n_packets;
};

/* Stat `path` into *id.  0 or -errno. */
int video_stat(const char *path, struct video_id *id);

/* Open, probe and index.  NULL only on ENOMEM. */
struct video *video_open(const char *path, const struct video_id *id);
struct video *video_ref(struct video *v);
void video_unref(struct video *v);

/* Seconds from the start of the file <-> stream ticks (rounded to nearest). */
int64_t video_ticks(const struct video *v, double seconds);
double video_seconds(const struct video *v, int64_t pts);

/* Position in decode order of the keyframe to start decoding at to reach
 * frame `f` (a keyframe at or before it in decode order whose pts is at or
 * before the frame's pts). */
size_t video_seek_packet(const struct video *v, size_t f);

/* Position in decode order of the packet with this dts (and pos, when known),
 * or SIZE_MAX. */
size_t video_find_packet(const struct video *v, int64_t dts, int64_t pos);

#endif
