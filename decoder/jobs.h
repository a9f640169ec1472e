/*
 * decoder/jobs — private to decoder/: struct decoder, struct job, and what
 * the files that run jobs share.  The public interface is decoder.h.
 *
 *   decoder.c     the front: decoder_new/free, submission
 *   frame_job.c   frame jobs (a request resolved, parked on or produced into
 *                 the cache) and readahead jobs
 *   bands.c       a lone keyframe encoded band by band as it decodes (its
 *                 own header, bands.h)
 *   batch_job.c   listing batches: runs, their encodes, noting served frames
 *   info_job.c    info jobs (probes) and the video_frames_* accessors
 *   tier_key.c    the frame cache's link to the tiers below it (cache/tiers.h)
 *   request.c     what a request becomes for a video: its frame, plan, key
 *   job.c         what every job uses: decoder contexts, its video, whether
 *                 it should stop, an idle worker, its end
 *
 * Each calls only those listed below it (decoder.c sets note_served, so the
 * frame jobs tell the batches without naming them).
 *
 * Ownership
 *   A job is malloc'd by whoever queues it and freed with job_free() by the
 *   run function that completes it: job_free() drops the references it holds
 *   (batch, video, image, fd, path).  Run functions are pool_fn: each runs
 *   exactly once per queued job, with shutting_down set when the pool stops,
 *   unless it parks the job (media/table.h, cache/cache.h), which then runs again.
 *   Blobs passed in are borrowed; blobs returned are one reference.
 *
 * Locking
 *   d->lock protects the idle and busy lists (borrow_ctx(), return_ctx(),
 *   evict_video()); d->batch_lock protects d->batches.  Neither is held while
 *   opening, indexing, decoding or encoding.  The counters are atomics.
 *
 * Blocking
 *   The run functions block on I/O, decoding and encoding; so do
 *   borrow_ctx() (when it opens a context) and job_video() (when it loads
 *   the video on this thread); tier_frame() waits for memcached and for
 *   another host (tier_key.c).  Everything else here returns promptly.
 */
#ifndef FRAMEFS_JOBS_H
#define FRAMEFS_JOBS_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "../cache/cache.h"
#include "decoder.h"
#include "image/image.h"
#include "media/media.h"
#include "pool.h"

struct batch;
struct dec_ctx;
struct readahead;

struct decoder {
    struct decoder_config cfg;
    struct pool *pool;
    struct lru *cache;
    struct table *videos;
    struct readahead *ra;
    struct tiers *tiers;         /* NULL without -o cache_dir or shared_cache */
    struct load_tiers load_tiers;
    atomic_ulong local_hits, misses, decodes;
    atomic_ulong band_frames;    /* PNGs made band by band (bands.h) */
    atomic_long decode_ms;       /* a running mean of produce(), for waits */

    pthread_mutex_t lock;      /* the idle and busy lists */
    struct dec_ctx *idle;      /* most recently used first */
    int n_idle, max_idle;
    struct dec_ctx *busy;      /* borrowed, each with the frame it goes to */
    pthread_cond_t ctx_back;   /* a context was returned */

    pthread_mutex_t batch_lock;   /* the batches (batch.h) */
    struct batch **batches;
    size_t n_batches, cap_batches;
    atomic_int stopping;       /* decoder_free(): running decodes stop too */

    /* Frame f of v, made as plan and `bytes` long, was served for `path`:
     * note_batches() (batch_job.c), set by decoder_new(); 1 when it was an
     * entry of a batch. */
    int (*note_served)(struct decoder *d, const char *path, struct video *v, size_t f,
                       const struct output_plan *plan, size_t bytes);
};

/* One queued request: a frame (frame_done set) or a probe (info_done set). */
struct job {
    struct decoder *d;
    char *path;
    int fd;                      /* the version to serve, until table_get() */
    pool_fn run;                 /* run_frame or run_info */
    struct table_waiter wait;    /* parked while another job loads the video */
    const atomic_int *cancel;
    void *arg;
    frame_done_fn frame_done;
    info_done_fn info_done;
    struct frame_request req;    /* frames and readahead: its output spec too */
    struct output_plan plan;     /* frames: the output for this video, once known */
    struct video *video;         /* readahead only: the video, and frame */
    size_t frame;
    char key[DECODER_KEY_MAX];   /* frames only: the cache key once known */
    struct frame_result res;     /* frames: the result being made */
    struct lru_parked park;      /* frames: waiting for another producer */
    struct batch *batch;         /* batch runs and encodes: the batch */
    int slot;                    /* batch runs: the run's slot */
    struct image img;            /* batch encodes: the pixels, and their time */
    int64_t pts;
};

/* ---- job.c: contexts and the job's life ---------------------------------- */

/* An idle context on v (the caller's until return_ctx()), preferring one that
 * reaches frame f without seeking, else a new one, decoding on `threads`
 * threads from its next seek; NULL with err filled.  When a borrowed context
 * is on its way to a frame before f in f's GOP, waits (up to
 * BORROW_WAIT_MS) for it rather than seeking to the GOP's start again: a
 * sequential reader's readahead jobs then share one decoder.  The wait
 * polls stop(stop_arg) every BORROW_STOP_POLL_MS: when it says stop, NULL
 * with err "cancelled ...".  May block. */
#define BORROW_WAIT_MS 1000
#define BORROW_STOP_POLL_MS 20
struct dec_ctx *borrow_ctx(struct decoder *d, struct video *v, size_t f, int threads,
                           int (*stop)(void *), void *stop_arg, char *err, size_t errlen);
/* A borrowed context kept for several frames goes on to frame f now (what
 * borrow_ctx()'s waiters judge it by). */
void ctx_heading_to(struct decoder *d, struct dec_ctx *c, size_t f);
/* Give c back (it becomes the idle list's; the least recently used beyond
 * the bound is closed). */
void return_ctx(struct decoder *d, struct dec_ctx *c);

/* Free j and drop everything it holds. */
void job_free(struct job *j);
/* Should j stop?  (The decoder is stopping or j's reader cancelled.)  arg: a
 * struct job. */
int job_cancelled(void *arg);
/* The job's video from the table (one reference), or NULL with *err < 0 or
 * TABLE_PARKED: then the job is parked and must return at once. */
struct video *job_video(struct job *j, int *err);

/* CLOCK_MONOTONIC in milliseconds. */
uint64_t now_ms(void);
/* An lru_get() should_stop that never waits for another producer. */
int never_wait(void *arg);
/* Where an encoder hands half a large PNG: an idle worker of d's pool. */
struct encode_offload;
void encode_offload_of(struct decoder *d, struct encode_offload *off);

/* ---- frame_job.c --------------------------------------------------------- */

/* Run a frame job: resolve, find or produce, call frame_done, free. */
void run_frame(void *arg, int shutting_down);

/* ---- request.c ----------------------------------------------------------- */

/* The output source (size, SAR, rotation) of v's stream. */
struct output_source video_source(const struct video *v);
/* The plan for a decoded frame of v: j->plan, or made for the frame's own
 * size or SAR when it differs from the stream's. */
void frame_plan(const struct job *j, const struct video *v, const AVFrame *frame,
                struct output_plan *plan);
/* The local cache key of frame f of v made as plan. */
void frame_key(char key[DECODER_KEY_MAX], const struct video *v, size_t f,
               const struct output_plan *plan);
/* The frame req names in v, or SELECT_NONE with res->error set; sets
 * res->requested_time. */
ptrdiff_t resolve_request(const struct video *v, const struct frame_request *req,
                          struct frame_result *res);

/* ---- batch_job.c --------------------------------------------------------- */

/* Frame f of v, made as plan and `bytes` long, was served for `path`: tell
 * the batches of that path, starting runs they ask for; 1 when it was an
 * entry of one.  Takes d->batch_lock. */
int note_batches(struct decoder *d, const char *path, struct video *v, size_t f,
                 const struct output_plan *plan, size_t bytes);

/* ---- info_job.c ---------------------------------------------------------- */

/* Run an info job: the video's info to info_done, then free. */
void run_info(void *arg, int shutting_down);
/* The same, with the scene scores known (made here when nobody has them). */
void run_scenes(void *arg, int shutting_down);

/* ---- tier_key.c (only when d->tiers) ------------------------------------- */

/* Offer b, frame f of v made as plan here, to the tiers below memory (the
 * disk, the other hosts; b borrowed). */
void offer_frame(struct decoder *d, const struct video *v, size_t f,
                 const struct output_plan *plan, struct blob *b);
/* Frame f of v made as j->plan by an earlier mount or another host (one
 * reference), or NULL: then this host makes it.  May wait for a host that
 * holds its lease. */
struct blob *tier_frame(struct job *j, const struct video *v, size_t f);
/* v's scene scores from a tier into v (1), or not there (0); offer v's own
 * to the tiers.  Waits as tiers_get(). */
int tier_scenes(struct job *j, struct video *v);
/* Frame f of v made as plan, when a tier has it (one reference), or NULL;
 * one lookup (readahead and batches: they never wait for a lease).  Waits
 * as tiers_get(). */
struct blob *tier_peek(struct decoder *d, const struct video *v, size_t f,
                       const struct output_plan *plan, int (*stop)(void *), void *arg);
void offer_scenes(struct decoder *d, struct video *v);

#endif
