/*
 * decoder/media/video — one source video: identity, metadata and frame index.
 *
 * A struct video is created by video_open() from an fd (probed and indexed by
 * one packet scan, nothing decoded), finished by video_finish() and
 * immutable afterwards, so any thread may read it without a lock.  It is
 * refcounted: the video table holds one reference, every decoder context and
 * running job another.
 * Opening never leaves a half-built video: on failure `ok` is 0 and `error`
 * says why, and the video is still returned (so the failure is cached too).
 */
#ifndef FRAMEFS_VIDEO_H
#define FRAMEFS_VIDEO_H

#include <stdatomic.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/types.h>

#include <libavcodec/codec_par.h>
#include <libavutil/rational.h>

#include "color.h"
#include "content.h"
#include "info.h"
#include "index.h"

/* What identifies one version of a source file. */
struct video_id {
    dev_t dev;
    ino_t ino;
    off_t size;
    int64_t mtime_ns;
};

struct video {
    atomic_int refs;
    int fd;                       /* this version, opened by the checking thread */
    char *name;                   /* the file's name, for probing (never opened) */
    struct video_id id;
    char key_prefix[96];          /* cache keys of this version start with it */

    int ok;                       /* loaded and indexed, frames can be served */
    int stopped;                  /* loading was stopped: not a result to keep */
    char error[256];              /* why not ok ("" while loading goes well) */

    int stream;                   /* index of the video stream in the file */
    AVRational time_base;         /* both > 0 */
    AVCodecParameters *codecpar;  /* the stream's, as probed: decoders open from it */
    int64_t start_pts;            /* container start time, in time_base ticks */
    int64_t default_dur;          /* one frame at the average rate, ticks (>= 1) */
    int seek_by_bytes;            /* MPEG-TS/PS: seek by position, not time */
    int index_by_decoding;        /* packets lack pts: decode to index (load.c) */
    int synthetic_pts;            /* some frames timed by counting: never seek */
    int frames_whole;             /* progressive: a packet holds whole frames */
    char content_id[CONTENT_ID_LEN];   /* content.h; "" without a shared cache */
    int index_stored;             /* the index came from the shared cache */
    int rotation[3];              /* transpose, reverse x, reverse y (convert.h) */
    AVRational sar;               /* sample aspect ratio; 0/1 when unknown */
    struct video_color color;     /* as tagged or assumed (color.h) */
    struct video_info info;
    struct index index;

    /* Each frame's scene-change score, or NULL (scenes.h): set once, by
     * whoever holds scenes_lock (which only serializes making them), and
     * read without it. */
    pthread_mutex_t scenes_lock;
    float *_Atomic scenes;
};

/* The version an fd is: fstat into *id.  0, -errno, or -EINVAL when it is
 * not a regular file. */
int video_fstat(int fd, struct video_id *id);

/*
 * Probe the version `fd` is (*id, from video_fstat()) and scan its packets
 * into v->index, checking stop(arg) at every packet (then v->stopped).  No
 * decoding.  Takes ownership of fd, which closes with the last reference.
 * NULL only on ENOMEM (fd closed).  The video is not usable before
 * video_finish(); load.c runs both (and decodes to index in between when
 * v->index_by_decoding).
 */
struct video *video_open(int fd, const char *name, const struct video_id *id,
                         int (*stop)(void *), void *arg);
/* The same, with a hook run after probing, before the scan: when it
 * returns 1 it filled v->index (finished) and the scan is skipped. */
struct video *video_open_hooked(int fd, const char *name, const struct video_id *id,
                                int (*before_scan)(struct video *v, void *arg), void *hook_arg,
                                int (*stop)(void *), void *arg);
/* Finish the index and set ok, info and error.  After this the video is
 * immutable. */
void video_finish(struct video *v);
struct video *video_ref(struct video *v);
void video_unref(struct video *v);
/* The bytes v holds in memory: itself, its index, its scene scores. */
size_t video_memory(const struct video *v);
/* Whether only one reference is left (the table's: nobody uses v now). */
static inline int video_idle(struct video *v)
{
    return atomic_load(&v->refs) == 1;
}

/* Seconds from the start of the file -> stream ticks (rounded to nearest,
 * saturating), a span of seconds -> ticks, and ticks -> seconds. */
int64_t video_ticks(const struct video *v, double seconds);
int64_t video_span_ticks(const struct video *v, double seconds);
double video_seconds(const struct video *v, int64_t pts);

#endif
