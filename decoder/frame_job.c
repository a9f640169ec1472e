/*
 * Frame jobs: a request resolved against the video's index, then the frame
 * found in the cache, parked on while another job produces it, fetched from
 * the shared cache or produced here (decode, convert, encode); and readahead
 * jobs, the frames a sequential reader will ask for next, into the cache
 * only.
 *
 * Locking: none of its own (the cache, the table and readahead.c lock
 * inside).  A job waiting for a frame another job produces is parked on the
 * cache and holds no worker.
 */
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bands.h"
#include "decoder.h"
#include "image/image.h"
#include "jobs.h"
#include "media/media.h"
#include "pool.h"
#include "readahead.h"

/* A producer stops only when its own reader left and nobody else waits. */
static int producer_should_stop(void *arg)
{
    struct job *j = arg;

    return atomic_load(&j->d->stopping) ||
           (job_cancelled(j) && lru_waiters(j->d->cache, j->key) == 0);
}

/* The decode time's running mean, mean += (sample - mean) / 8, seeded with
 * the first sample: from 0, a fresh host's mean would stay a fraction of
 * its decode time for dozens of frames, and its wait for another host's
 * lease (shared_frame) would end long before that host's decode does. */
static void note_decode_ms(struct decoder *d, const struct frame_timing *tm)
{
    long ms = (long)(tm->seek + tm->decode + tm->convert + tm->encode);
    long mean = atomic_load(&d->decode_ms);

    atomic_store(&d->decode_ms, mean ? mean + (ms - mean) / 8 : ms);
}

/* Decode, convert and encode frame f as the job's plan says, into a new
 * blob. */
static struct blob *produce(struct job *j, struct video *v, size_t f,
                            char *err, size_t errlen, int *cancelled)
{
    struct dec_ctx *c = borrow_ctx(j->d, v, f, j->d->cfg.decode_threads, producer_should_stop, j,
                                   err, errlen);
    struct output_plan plan;
    struct image img;
    struct blob *b = NULL;
    AVFrame *frame;
    int64_t pts = 0;
    int ret;
    struct frame_timing *tm = &j->res.timing;
    double t0;
    struct encode_offload off;
    struct bands *bands;

    if (!c) {
        *cancelled = producer_should_stop(j);
        return NULL;
    }
    atomic_fetch_add(&j->d->decodes, 1);
    encode_offload_of(j->d, &off);
    /* A lone keyframe: converted and encoded on another core as it decodes. */
    bands = bands_start(c, f, &j->plan, &v->color, j->d->cfg.png_level, &off);
    ret = dec_ctx_get(c, f, producer_should_stop, j, &frame, err, errlen);
    tm->produced = 1;
    tm->seek = c->seek_ms;
    tm->decode = c->decode_ms;
    if (ret == AVERROR_EXIT)
        *cancelled = 1;
    t0 = log_clock_ms();
    if (ret >= 0)
        frame_plan(j, v, frame, &plan);
    if (bands && bands_end(bands, ret >= 0 ? frame : NULL, &plan)) {
        tm->convert = log_clock_ms() - t0;
        pts = dec_frame_pts(frame);
        return_ctx(j->d, c);
        t0 = log_clock_ms();
        if ((b = bands_png(bands, &off, &img.width, &img.height, err, errlen))) {
            atomic_fetch_add(&j->d->band_frames, 1);
            b->tag = pts;
            b->width = img.width;
            b->height = img.height;
        }
        tm->encode = log_clock_ms() - t0;
        bands_free(bands);
        note_decode_ms(j->d, tm);
        return b;
    }
    bands_free(bands);
    if (ret >= 0)
        ret = convert_frame(&c->convert, frame, &plan, &v->color, plan.format == FORMAT_PNG, &img,
                            err, errlen);
    tm->convert = log_clock_ms() - t0;
    if (ret >= 0)
        pts = dec_frame_pts(frame);
    /* Encoding is the slow part at HD sizes: give the decoder back first so
     * the next frame's decode overlaps it on another worker. */
    return_ctx(j->d, c);
    if (ret >= 0) {
        t0 = log_clock_ms();
        b = encode_image(&img, &plan, j->d->cfg.png_level, &off, err, errlen);
        tm->encode = log_clock_ms() - t0;
        note_decode_ms(j->d, tm);
        if (b) {
            b->tag = pts;
            b->width = img.width;
            b->height = img.height;
        }
        image_free(&img);
    }
    return b;
}

/* A frame produced ahead of a sequential reader, into the cache only.
 * Skipped once the reader went idle or elsewhere. */
static void run_readahead(void *arg, int shutting_down)
{
    struct job *j = arg;
    struct video *v = j->video;
    struct blob *b = NULL;
    char err[256];
    int cancelled = 0;

    if (!shutting_down && !job_cancelled(j) &&
        readahead_wanted(j->d->ra, v, j->frame, now_ms())) {
        frame_key(j->key, v, j->frame, &j->plan);
        /* Being produced by someone else already: nothing to do. */
        switch (lru_get(j->d->cache, j->key, &b, never_wait, NULL)) {
        case LRU_HIT:
        case LRU_STOPPED:
        case LRU_PARKED:
            break;
        case LRU_PRODUCE:
            /* On disk or on another host already: no decode (after a
             * remount a sequential reader's next frames are there). */
            if (j->d->tiers &&
                (b = tier_peek(j->d, v, j->frame, &j->plan, producer_should_stop, j))) {
                lru_put(j->d->cache, j->key, b);
            } else if ((b = produce(j, v, j->frame, err, sizeof(err), &cancelled))) {
                lru_put(j->d->cache, j->key, b);
                if (j->d->tiers)
                    offer_frame(j->d, v, j->frame, &j->plan, b);
            } else {
                lru_abandon(j->d->cache, j->key);
            }
            break;
        }
        blob_unref(b);
    }
    job_free(j);
}

/* After frame f of v was served as `reader` asked: queue the frames a
 * sequential reader will ask for next (readahead.h), made the same way. */
static void read_ahead(struct decoder *d, const struct job *reader, struct video *v,
                       size_t f, size_t bytes)
{
    size_t first = 0, n = readahead_note(d->ra, v, f, bytes, now_ms(), &first);

    for (size_t k = first; k < first + n && k < v->index.n_frames; k++) {
        struct job *j = calloc(1, sizeof(*j));

        if (!j)
            return;
        *j = (struct job){.d = d, .fd = -1, .run = run_readahead, .req = reader->req,
                          .plan = reader->plan, .video = video_ref(v), .frame = k};
        if (pool_submit(d->pool, run_readahead, j) < 0) {
            job_free(j);
            return;
        }
    }
}

/* The job's result, completed: the callback, then the job goes. */
static void frame_finish(struct job *j)
{
    struct frame_result *res = &j->res;

    if (res->status == FRAME_FAILED && !res->error[0])
        snprintf(res->error, sizeof(res->error), "cannot produce frame");
    j->frame_done(j->arg, res);
    job_free(j);
}

static void frame_cancelled(struct job *j)
{
    j->res.status = FRAME_CANCELLED;
    snprintf(j->res.error, sizeof(j->res.error), "cancelled");
    frame_finish(j);
}

/* Frame j->frame of j->video, once the cache said `st` about its key (b: a
 * reference when LRU_HIT): produced here when it is ours, then served. */
static void frame_complete(struct job *j, enum lru_status st, struct blob *b,
                           int shutting_down)
{
    struct video *v = j->video;
    struct frame_result *res = &j->res;
    int cancelled = st == LRU_STOPPED;

    if (st == LRU_PRODUCE && shutting_down) {
        lru_abandon(j->d->cache, j->key);
        cancelled = 1;
    } else if (st == LRU_PRODUCE && j->d->tiers && (b = tier_frame(j, v, j->frame))) {
        lru_put(j->d->cache, j->key, b);     /* made by another host */
    } else if (st == LRU_PRODUCE) {
        atomic_fetch_add(&j->d->misses, 1);
        b = produce(j, v, j->frame, res->error, sizeof(res->error), &cancelled);
        if (b) {
            lru_put(j->d->cache, j->key, b);
            if (j->d->tiers)
                offer_frame(j->d, v, j->frame, &j->plan, b);
        } else {
            lru_abandon(j->d->cache, j->key);
        }
    } else if (st == LRU_HIT) {
        atomic_fetch_add(&j->d->local_hits, 1);
    }
    if (cancelled) {
        blob_unref(b);
        frame_cancelled(j);
        return;
    }
    if (b) {
        res->status = FRAME_SUCCEEDED;
        res->error[0] = 0;
        res->actual_time = video_seconds(v, b->tag);
        res->width = b->width;
        res->height = b->height;
        res->image = b;
        snprintf(res->key, sizeof(res->key), "%s", j->key);
        if (!j->d->note_served(j->d, j->path, v, j->frame, &j->plan, b->size))
            read_ahead(j->d, j, v, j->frame, b->size);
    }
    frame_finish(j);
}

/* A parked job's key was resolved: continue on a worker (the thread that
 * resolved it is busy), or here as cancelled when the pool is stopping. */
static void frame_continue(void *arg, int shutting_down)
{
    struct job *j = arg;

    frame_complete(j, j->park.status, j->park.blob, shutting_down);
}

static void frame_resume(struct lru_parked *p)
{
    struct job *j = (struct job *)((char *)p - offsetof(struct job, park));

    if (pool_submit(j->d->pool, frame_continue, j) < 0)
        frame_continue(j, 1);
}

void run_frame(void *arg, int shutting_down)
{
    struct job *j = arg;
    struct frame_result *res = &j->res;
    struct output_source src;
    struct blob *b = NULL;
    enum lru_status st;
    struct video *v;
    int err = 0;
    ptrdiff_t f;
    double t0, index_ms = res->timing.index;   /* kept across a parked load */

    *res = (struct frame_result){.status = FRAME_FAILED, .actual_time = NAN};
    res->timing.index = index_ms;
    res->requested_time = j->req.kind == TIME_SECONDS ? j->req.t : NAN;
    if (shutting_down || job_cancelled(j))
        return frame_cancelled(j);
    t0 = log_clock_ms();
    v = job_video(j, &err);
    if (err != TABLE_PARKED)
        res->timing.index = log_clock_ms() - t0;
    if (!v) {
        if (err == TABLE_PARKED)
            return;                   /* runs again once the video is loaded */
        if (err == -ECANCELED || err == -ESHUTDOWN)
            return frame_cancelled(j);
        snprintf(res->error, sizeof(res->error), "cannot open: %s", strerror(-err));
        return frame_finish(j);
    }
    j->video = v;                     /* the job's reference from now on */
    res->version = (struct source_version){v->id.dev, v->id.ino, v->id.size, v->id.mtime_ns};
    if (!v->ok) {
        snprintf(res->error, sizeof(res->error), "%s", v->error);
        return frame_finish(j);
    }
    if ((f = resolve_request(v, &j->req, res)) == SELECT_NONE)
        return frame_finish(j);
    src = video_source(v);
    output_plan_make(&j->req.out, &src, &j->plan);
    j->frame = (size_t)f;
    frame_key(j->key, v, j->frame, &j->plan);
    /* A frame another job is producing: parked, holding no worker (the
     * producer may be a batch whose encodes need the workers). */
    j->park.resume = frame_resume;
    if ((st = lru_get_or_park(j->d->cache, j->key, &b, &j->park)) == LRU_PARKED)
        return;
    frame_complete(j, st, b, 0);
}
