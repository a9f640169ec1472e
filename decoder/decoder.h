/*
 * decoder/ — turns (video file, frame request) into an encoded image, on a
 * pool of worker threads.  Uses FFmpeg, libpng and cache/; never FUSE, and
 * this header exposes no libav* type.
 *
 * Map: three floors.  This folder's own files are the top: decoder.c (this
 * header's front), the jobs (frame_job.c, batch_job.c, info_job.c) and what
 * they share (jobs.h: request.c, shared_key.c, job.c), over batch.c,
 * readahead.c and pool.c.  Under it image/ (image.h: plan, convert, encode)
 * and, under that, media/ (media.h: open, index, position, decode).  Start at
 * run_frame() in frame_job.c.
 *
 * Ownership
 *   struct decoder owns the worker threads, the open videos (their indexes and
 *   idle decoder contexts) and the frame cache.  decoder_free() stops the
 *   workers (queued jobs complete with FRAME_CANCELLED) and frees everything.
 *   Strings and requests passed to decoder_submit_*() are copied; the fd
 *   becomes the decoder's.  The decoder opens nothing by name.
 *   A done callback runs on a worker thread exactly once per accepted job;
 *   it receives one reference to res->image (NULL unless succeeded) and must
 *   blob_unref() it or keep it.  The result struct itself lives only for the
 *   duration of the callback.
 *
 * Cancellation
 *   `cancel` points at an atomic flag owned by the caller that must stay valid
 *   until the done callback has returned.  Once it is non-zero the job stops
 *   at the next packet boundary, unless another job waits for the same frame,
 *   and completes with FRAME_CANCELLED.
 *
 * Blocking
 *   decoder_submit_*() never blocks on decoding (it only queues); decoder_new()
 *   and decoder_free() may block briefly (thread start/join).  A job waiting
 *   for another job's index is parked and holds no worker (media/table.h).
 *
 * Sandbox
 *   Worker threads, and the codec threads they start, run under a seccomp
 *   filter that refuses opening files, sockets, exec and more (media/sandbox.h).
 *
 * Errors (the one convention inside decoder/)
 *   Functions that can fail return 0 (or a count) on success and a negative
 *   AVERROR on failure (AVERROR(e) is -e, so errno values are the same
 *   convention), and fill a caller's `char *err, size_t errlen` with a
 *   readable reason, in FFmpeg's own words where it gave any (media/avlog.h).
 *   Constructors return NULL only when memory runs out.
 */
#ifndef FRAMEFS_DECODER_H
#define FRAMEFS_DECODER_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "../cache/cache.h"
#include "image/plan.h"
#include "media/info.h"
#include "media/log.h"       /* fs/ logs through the same lines */

/* How a frame name gives its position. */
enum time_kind {
    TIME_SECONDS,                /* t: seconds from the start of the file */
    TIME_PERCENT,                /* t: percent of the duration */
    TIME_INDEX,                  /* n: 0-based frame in presentation order */
};

/* What a frame name asks for.  Times in seconds from the start of the file
 * (container start time); before/after >= 0, INFINITY allowed (ignored for
 * TIME_INDEX). */
struct frame_request {
    enum time_kind kind;
    double t;                    /* seconds, or percent (TIME_PERCENT) */
    int64_t n;                   /* TIME_INDEX */
    double before;
    double after;
    struct output_spec out;
};

enum frame_status { FRAME_SUCCEEDED, FRAME_FAILED, FRAME_CANCELLED };

/* Which version of the source a result came from (all 0 when unknown). */
struct source_version {
    uint64_t dev, ino;
    int64_t size, mtime_ns;
};

#define DECODER_KEY_MAX 192

/* Where a produced frame's time went, in milliseconds (all 0 for a frame
 * that came from the cache). */
struct frame_timing {
    double index;            /* loading the video, when this request did it */
    double seek, decode, convert, encode;
    int produced;            /* 1: made by this request, not from the cache */
};

struct frame_result {
    enum frame_status status;
    struct frame_timing timing;
    struct source_version version;
    double requested_time;   /* t rounded to the stream's time base */
    double actual_time;      /* pts of the frame returned; NAN when none */
    char error[256];         /* "" on success */
    int width, height;       /* of the image, on success */
    struct blob *image;      /* the encoded image on success, else NULL */
    char key[DECODER_KEY_MAX];   /* its cache key on success (decoder_cached()) */
};

/* Frame i (presentation order, < info->frame_count) of a probed video: its
 * time in seconds from the start of the file, and whether it is a keyframe.
 * Only during the info callback. */
double video_frames_time(const struct video_frames *vf, size_t i);
int video_frames_is_key(const struct video_frames *vf, size_t i);
/* Frame i's scene-change score (0..1: media/scenes.h), when
 * info->scenes_known; 0 otherwise. */
double video_frames_scene_score(const struct video_frames *vf, size_t i);

struct decoder_config {
    size_t cache_bytes;      /* byte bound of the encoded-frame cache */
    int workers;             /* worker threads, >= 1 */
    int decode_threads;      /* threads per decoder context, >= 1 */
    int png_level;           /* zlib level 0..9 */
    int sandbox;             /* workers run under the seccomp filter (media/sandbox.h) */
    int decode_all;          /* decode unreferenced frames before a target too
                              * (media/seek.h; for measuring what skipping saves) */
    const char *shared_cache;    /* "HOST:PORT[+...]" (cache/shared.h), or NULL */
    int shared_ttl;          /* seconds values live there */
    const char *cache_dir;   /* the disk tier's directory (cache/disk.h), or NULL */
    uint64_t disk_bytes;     /* its byte bound */
    size_t index_bytes;      /* what the open videos' indexes may hold (media/table.h) */
};

typedef void (*frame_done_fn)(void *arg, struct frame_result *res);
typedef void (*info_done_fn)(void *arg, const struct video_info *info);

/* Start the workers (each enters the sandbox first when cfg->sandbox).  NULL
 * with err filled when they cannot start. */
struct decoder *decoder_new(const struct decoder_config *cfg, char *err, size_t errlen);
void decoder_free(struct decoder *d);

/*
 * Queue the production of one frame of the video open as `fd`: a regular file
 * opened read-only by the caller, after it checked where the file lies.  The
 * decoder never opens anything by name: fstat(fd) is the version served and
 * every read goes through this fd.  `path` names the video (a version of the
 * same path replaces the previous one) and its extension guides probing.
 * The decoder owns fd from the call on, whatever it returns.  0, or
 * -ENOMEM / -ESHUTDOWN when the job was not accepted (then the callback
 * never runs).
 */
int decoder_submit_frame(struct decoder *d, int fd, const char *path,
                         const struct frame_request *req,
                         const atomic_int *cancel, frame_done_fn done, void *arg);

/* Queue a probe of a video's metadata (indexes it, decodes nothing); fd and
 * path as above. */
int decoder_submit_info(struct decoder *d, int fd, const char *path,
                        const atomic_int *cancel, info_done_fn done, void *arg);
/* The same, with every frame's scene-change score (info->scenes_known):
 * from the video when known, else from the shared cache, else made by one
 * decoding pass over the whole video (seconds to minutes; cancellable like
 * a frame; counted in decodes) and kept with the video. */
int decoder_submit_scenes(struct decoder *d, int fd, const char *path,
                          const atomic_int *cancel, info_done_fn done, void *arg);

/*
 * Batches: the frames a listing names, produced ahead of its reader in
 * listing order (decoder/batch.h).  decoder_batch_new() registers the
 * requests (copied) of the video at `path`; nothing is produced until a
 * frame of the list is served through decoder_submit_frame(), then the ones
 * after it are produced into the cache, one forward decode per GOP, within
 * a window inside the cache, while the reader keeps reading.  The handle is
 * the caller's until decoder_batch_release() (the listing was closed; the
 * batch ends once its reader goes idle).  decoder_cancel_batches() stops the
 * batches of `path` (all when NULL) for good.  None of these blocks.
 */
struct decoder_batch;
struct decoder_batch *decoder_batch_new(struct decoder *d, const char *path,
                                        const struct frame_request *reqs, size_t n);
void decoder_batch_release(struct decoder *d, struct decoder_batch *b);
void decoder_cancel_batches(struct decoder *d, const char *path);

/* The cached image of a frame produced earlier (res->key), with one
 * reference for the caller, or NULL when it was evicted.  Never blocks on
 * decoding: a cache lookup under the cache's lock. */
struct blob *decoder_cached(struct decoder *d, const char *key);

/* What the caches did since the start: frame requests answered from the
 * local cache, from the shared cache, and neither; frames decoded here (for
 * requests, readahead and batches); shared-cache errors and corrupt values
 * ignored. */
struct decoder_stats {
    unsigned long local_hits, shared_hits, misses, decodes, shared_errors, shared_corrupt,
        shared_stores;
    int shared;              /* a shared cache is configured */
    /* The disk tier (-o cache_dir): frames and indexes read from it, looked
     * for and missing, deleted for room, found corrupt (deleted), stored;
     * the bytes it holds and may hold; "none" (not configured), "on",
     * "read-only" or "off" (cache/disk.h). */
    unsigned long disk_hits, disk_misses, disk_evictions, disk_corrupt, disk_stores;
    uint64_t disk_bytes, disk_max_bytes;
    const char *disk_state;
    /* The open videos (media/table.h): the bytes their indexes hold, the
     * bound, how many, how many were let go of for room (MAX_VIDEOS slots
     * or the bound); videos
     * loaded, and of them indexed by reading the file (a packet scan, or a
     * decode for streams without timestamps) rather than from a tier. */
    size_t index_bytes, index_max_bytes, index_videos;
    unsigned long index_evictions, index_loads, index_scans;
    /* Frames whose PNG was made band by band as they decoded (bands.h). */
    unsigned long band_frames;
};
void decoder_stats(struct decoder *d, struct decoder_stats *out);
/* Does a shared_cache server list parse?  0, or -1 with err set. */
int decoder_check_shared(const char *servers, char *err, size_t errlen);

/* Default list of video file name extensions, comma-separated. */
extern const char decoder_default_video_ext[];

#endif
