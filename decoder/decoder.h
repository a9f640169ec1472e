/*
 * decoder/ — turns (video file, frame request) into an encoded image, on a
 * pool of worker threads.  Uses FFmpeg, libpng and cache/; never FUSE, and
 * this header exposes no libav* type.
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
 *   for another job's index is parked and holds no worker (table.h).
 *
 * Sandbox
 *   Worker threads, and the codec threads they start, run under a seccomp
 *   filter that refuses opening files, sockets, exec and more (sandbox.h).
 *
 * Errors (the one convention inside decoder/)
 *   Functions that can fail return 0 (or a count) on success and a negative
 *   AVERROR on failure (AVERROR(e) is -e, so errno values are the same
 *   convention), and fill a caller's `char *err, size_t errlen` with a
 *   readable reason, in FFmpeg's own words where it gave any (avlog.h).
 *   Constructors return NULL only when memory runs out.
 */
#ifndef FRAMEFS_DECODER_H
#define FRAMEFS_DECODER_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "../cache/cache.h"

/* The image formats a frame can be written in. */
enum frame_format { FORMAT_PNG, FORMAT_JPEG, FORMAT_PPM, FORMAT_COUNT };

/* How the image is made: a name's output keys after the mount's defaults. */
struct output_spec {
    enum frame_format format;
    int max_width, max_height;   /* fit inside, never upscale; 0: no bound */
    int rotate;                  /* 1: apply the display matrix; 0: as coded */
    int square_pixels;           /* 1: stretch the width by the SAR */
    int depth;                   /* bits per sample, 8 or 16 (PNG, PPM) */
    int quality;                 /* JPEG quality 1..100 */
    int keep_hdr;                /* hdr=keep: a PQ/HLG source's own values,
                                  * 16-bit PNG or PPM; else tone-mapped */
};

/* The HDR transfer of a source (color.h). */
enum hdr_kind { HDR_NONE, HDR_PQ, HDR_HLG };

/* What becomes of the source's colors (output_plan.color). */
enum plan_color {
    PLAN_COLOR_AS_IS,            /* SDR: converted as decoded */
    PLAN_COLOR_TONEMAP,          /* PQ/HLG to BT.709 SDR (tonemap.h) */
    PLAN_COLOR_KEEP,             /* PQ/HLG values kept, 16 bits, cICP-tagged */
};

/* Bumped whenever the tone-mapping chain (tonemap.h) changes: keys of
 * tone-mapped frames and the shared cache's pipeline version carry it. */
#define TONEMAP_VERSION 1

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

/*
 * The output as it will be made for one video: the spec resolved against the
 * video's coded size, sample aspect ratio and display matrix.  Two requests
 * whose plans are equal get the same pixels, so the plan (with the frame's
 * pts) is the cache key.
 */
struct output_plan {
    enum frame_format format;
    int width, height;           /* of the image written */
    int rotation[3];             /* transpose, reverse x, reverse y; 0s when none */
    int depth;                   /* 8 or 16; 8 for JPEG */
    int quality;                 /* JPEG only; 0 for the others */
    enum plan_color color;
};

/* What the plan works from: the frame's coded size, its sample aspect ratio
 * (0/x or x/0 when unknown: square) and the display matrix's turn
 * (struct video's rotation). */
struct output_source {
    int width, height;
    int sar_num, sar_den;
    int rotation[3];
    enum hdr_kind hdr;
};

/* Resolve spec against src into *plan (pure; unit-tested). */
void output_plan_make(const struct output_spec *spec, const struct output_source *src,
                      struct output_plan *plan);

/* The cache key of the frame at `pts` (stream ticks) of the video whose keys
 * start with `prefix`, made as `plan`: equal inputs, equal keys; any
 * difference in the plan, a different key.  Returns its length, or -1 when
 * it does not fit in len bytes (then key is "").  Pure; unit-tested. */
int frame_request_key(char *key, size_t len, const char *prefix, int64_t pts,
                      const struct output_plan *plan);

/* File name extension of a format, without the dot ("png", "jpg", "ppm"). */
const char *output_format_ext(enum frame_format f);

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

/* The frames of a probed video (opaque): valid only during the info
 * callback whose video_info points at it. */
struct video_frames;

struct video_info {
    int ok;                  /* 0: could not be opened as a video */
    char error[256];
    double duration;         /* seconds, end of last frame - start of file */
    double start_time;       /* the container's start, seconds (pts of t=0) */
    int width, height;       /* as displayed (after rotation) */
    int coded_width, coded_height;
    int display_width, display_height;   /* after rotation and the SAR */
    int rotation;            /* display matrix, degrees clockwise: 0, 90, 180, 270 */
    int sar_num, sar_den;    /* sample aspect ratio; 0:1 when unknown */
    double frame_rate;       /* average, frames per second */
    double real_frame_rate;  /* FFmpeg's r_frame_rate: the lowest rate that
                              * times every frame */
    char codec[32];
    char profile[48];        /* "" when none */
    char pix_fmt[32];
    int bit_depth;           /* bits per sample of the decoded pixels */
    /* Colorimetry as framefs takes it (color.h): FFmpeg's names, as tagged
     * or, where untagged, as assumed (color_assumed names those, comma-
     * separated: "color_space,color_range", or "none"). */
    char color_space[32], color_range[16], color_primaries[32], color_transfer[32];
    char color_assumed[64];
    char hdr[8];             /* "pq", "hlg" or "none" */
    size_t frame_count, keyframe_count;  /* from the index */
    char format[64];         /* the container, FFmpeg's demuxer name(s) */
    int64_t bit_rate;        /* the container's, bits per second; 0 unknown */
    const struct video_frames *frames;   /* during the callback; NULL unless ok */
};

/* Frame i (presentation order, < info->frame_count) of a probed video: its
 * time in seconds from the start of the file, and whether it is a keyframe.
 * Only during the info callback. */
double video_frames_time(const struct video_frames *vf, size_t i);
int video_frames_is_key(const struct video_frames *vf, size_t i);

struct decoder_config {
    size_t cache_bytes;      /* byte bound of the encoded-frame cache */
    int workers;             /* worker threads, >= 1 */
    int decode_threads;      /* threads per decoder context, >= 1 */
    int png_level;           /* zlib level 0..9 */
    int sandbox;             /* workers run under the seccomp filter (sandbox.h) */
    int decode_all;          /* decode unreferenced frames before a target too
                              * (seek.h; for measuring what skipping saves) */
    const char *shared_cache;    /* "HOST:PORT[+...]" (shared.h), or NULL */
    int shared_ttl;          /* seconds values live there */
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
};
void decoder_stats(struct decoder *d, struct decoder_stats *out);
/* Does a shared_cache server list parse?  0, or -1 with err set. */
int decoder_check_shared(const char *servers, char *err, size_t errlen);

/* Default list of video file name extensions, comma-separated. */
extern const char decoder_default_video_ext[];

#endif
