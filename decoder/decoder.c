/*
 * The decoder module's front: the idle decoder contexts, the frame cache, and
 * the two kinds of job run on the pool; the open videos are table.c's.
 *
 * Locking: d->lock protects the idle list.  It is never held while opening,
 * indexing or decoding a file.  A job that needs a video another job is
 * loading is parked by the table and queued again when the load ends.
 */
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libavcodec/version.h>
#include <libavformat/version.h>
#include <libavutil/log.h>
#include <libavutil/version.h>
#include <libdeflate.h>
#include <libswscale/swscale.h>
#include <png.h>
#include <xxhash.h>

#include "avlog.h"
#include "batch.h"
#include "log.h"
#include "convert.h"
#include "decoder.h"
#include "encode.h"
#include "pool.h"
#include "seek.h"
#include "readahead.h"
#include "sandbox.h"
#include "select.h"
#include "shared.h"
#include "table.h"
#include "video.h"

struct decoder {
    struct decoder_config cfg;
    struct pool *pool;
    struct lru *cache;
    struct table *videos;
    struct readahead *ra;
    struct shared *shared;       /* NULL without -o shared_cache */
    struct load_shared load_shared;
    atomic_ulong local_hits, misses, decodes;
    atomic_long decode_ms;       /* a running mean of produce(), for waits */

    pthread_mutex_t lock;      /* the idle list */
    struct dec_ctx *idle;      /* most recently used first */
    int n_idle, max_idle;

    pthread_mutex_t batch_lock;   /* the batches (batch.h) */
    struct batch **batches;
    size_t n_batches, cap_batches;
    atomic_int stopping;       /* decoder_free(): running decodes stop too */
};

const char decoder_default_video_ext[] =
    "mp4,m4v,mov,qt,mkv,webm,avi,wmv,asf,flv,f4v,mpg,mpeg,mpe,m2v,m1v,vob,ts,m2ts,"
    "mts,m2t,3gp,3g2,ogv,ogg,ogm,mxf,dv,nut,y4m,h264,264,h265,265,hevc,ivf,"
    "rm,rmvb,divx,xvid,gif,apng,mjpeg,mjpg";

/* A version the video table let go of: its cached frames and idle decoders
 * go with it. */
static void evict_video(void *arg, struct video *v)
{
    struct decoder *d = arg;
    struct dec_ctx **pp, *gone = NULL;

    lru_drop_prefix(d->cache, v->key_prefix);
    readahead_forget(d->ra, v);
    pthread_mutex_lock(&d->lock);
    for (pp = &d->idle; *pp;) {
        struct dec_ctx *c = *pp;

        if (c->video == v) {
            *pp = c->next;
            d->n_idle--;
            c->next = gone;
            gone = c;
        } else {
            pp = &c->next;
        }
    }
    pthread_mutex_unlock(&d->lock);
    while (gone) {
        struct dec_ctx *c = gone;

        gone = c->next;
        dec_ctx_close(c);
    }
}

/* ---- decoder contexts -------------------------------------------------- */

/* An idle context on v, preferring one that reaches frame f without seeking. */
static struct dec_ctx *borrow_ctx(struct decoder *d, struct video *v, size_t f,
                                  char *err, size_t errlen)
{
    struct dec_ctx **pp, **best = NULL, *c = NULL;

    pthread_mutex_lock(&d->lock);
    for (pp = &d->idle; *pp; pp = &(*pp)->next) {
        if ((*pp)->video != v)
            continue;
        if (dec_ctx_can_continue(*pp, f)) {
            best = pp;
            break;
        }
        if (!best)
            best = pp;
    }
    if (best) {
        c = *best;
        *best = c->next;
        c->next = NULL;
        d->n_idle--;
    }
    pthread_mutex_unlock(&d->lock);
    if (!c && dec_ctx_open(v, d->cfg.decode_threads, &c, err, errlen) < 0)
        return NULL;
    c->skip_nonref = !d->cfg.decode_all;
    return c;
}

/* Keep a context for reuse; close the least recently used beyond the bound. */
static void return_ctx(struct decoder *d, struct dec_ctx *c)
{
    struct dec_ctx *victim = NULL, **pp;

    pthread_mutex_lock(&d->lock);
    c->next = d->idle;
    d->idle = c;
    if (++d->n_idle > d->max_idle) {
        for (pp = &d->idle; (*pp)->next; pp = &(*pp)->next)
            ;
        victim = *pp;
        *pp = NULL;
        d->n_idle--;
    }
    pthread_mutex_unlock(&d->lock);
    if (victim) {
        dec_ctx_close(victim);
    }
}

/* ---- frame jobs -------------------------------------------------------- */

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

static void job_free(struct job *j)
{
    batch_unref(j->batch);
    image_free(&j->img);
    video_unref(j->video);
    if (j->fd >= 0)
        close(j->fd);
    free(j->path);
    free(j);
}

static int job_cancelled(void *arg)
{
    struct job *j = arg;

    return atomic_load(&j->d->stopping) || (j->cancel && atomic_load(j->cancel));
}

static int waiter_cancelled(struct table_waiter *w)
{
    return job_cancelled((char *)w - offsetof(struct job, wait));
}

/* A parked job runs again, on a worker; when the pool is stopping, here and
 * now as cancelled. */
static void waiter_resume(struct table_waiter *w)
{
    struct job *j = (struct job *)((char *)w - offsetof(struct job, wait));

    if (pool_submit(j->d->pool, j->run, j) < 0)
        j->run(j, 1);
}

/* Copy the request and queue it; 0, or -errno and the job is not run.  The
 * fd is the job's (closed with it) either way. */
static int submit(struct decoder *d, int fd, const char *path, const atomic_int *cancel,
                  void *arg, struct job *proto, pool_fn run)
{
    struct job *j = malloc(sizeof(*j));
    int ret;

    if (!j || !(proto->path = strdup(path))) {
        free(j);
        close(fd);
        return -ENOMEM;
    }
    proto->fd = fd;
    proto->run = run;
    proto->d = d;
    proto->cancel = cancel;
    proto->arg = arg;
    *j = *proto;
    j->wait = (struct table_waiter){.cancelled = waiter_cancelled, .resume = waiter_resume};
    if ((ret = pool_submit(d->pool, run, j)) < 0)
        job_free(j);
    return ret;
}

/*
 * The job's video, or NULL: then *err < 0, or *err == TABLE_PARKED and the
 * job is parked (it runs again when the load it waits for ends, and must
 * return at once without completing).
 */
static struct video *job_video(struct job *j, int *err)
{
    struct video *v;

    *err = table_get(j->d->videos, j->path, j->fd, &j->wait, &v);
    if (*err != TABLE_PARKED)
        j->fd = -1;
    return v;
}

/* A producer stops only when its own reader left and nobody else waits. */
static int producer_should_stop(void *arg)
{
    struct job *j = arg;

    return atomic_load(&j->d->stopping) ||
           (job_cancelled(j) && lru_waiters(j->d->cache, j->key) == 0);
}

static int64_t tol_ticks(const struct video *v, double s)
{
    if (isinf(s))
        return INT64_MAX;
    return video_span_ticks(v, s);
}

/* What the output plan of v's frames works from (the video's own size). */
static struct output_source video_source(const struct video *v)
{
    struct output_source src = {.width = v->codecpar->width, .height = v->codecpar->height,
                                .sar_num = v->sar.num, .sar_den = v->sar.den};

    memcpy(src.rotation, v->rotation, sizeof(src.rotation));
    return src;
}

/* The plan for a decoded frame: the job's, unless this frame's size or SAR
 * differs from the stream's (a mid-stream change): then made for it. */
static void frame_plan(const struct job *j, const struct video *v, const AVFrame *frame,
                       struct output_plan *plan)
{
    struct output_source src = video_source(v);

    *plan = j->plan;
    if (frame->width == src.width && frame->height == src.height &&
        (!frame->sample_aspect_ratio.num ||
         av_cmp_q(frame->sample_aspect_ratio, v->sar) == 0))
        return;
    src.width = frame->width;
    src.height = frame->height;
    if (frame->sample_aspect_ratio.num)
        src = (struct output_source){src.width, src.height, frame->sample_aspect_ratio.num,
                                     frame->sample_aspect_ratio.den,
                                     {src.rotation[0], src.rotation[1], src.rotation[2]}};
    output_plan_make(&j->req.out, &src, plan);
}

/* Decode, convert and encode frame f as the job's plan says, into a new
 * blob. */
static struct blob *produce(struct job *j, struct video *v, size_t f,
                            char *err, size_t errlen, int *cancelled)
{
    struct dec_ctx *c = borrow_ctx(j->d, v, f, err, errlen);
    struct output_plan plan;
    struct image img;
    struct blob *b = NULL;
    AVFrame *frame;
    int64_t pts = 0;
    int ret;
    struct frame_timing *tm = &j->res.timing;
    double t0;

    if (!c)
        return NULL;
    atomic_fetch_add(&j->d->decodes, 1);
    ret = dec_ctx_get(c, f, producer_should_stop, j, &frame, err, errlen);
    tm->produced = 1;
    tm->seek = c->seek_ms;
    tm->decode = c->decode_ms;
    if (ret == AVERROR_EXIT)
        *cancelled = 1;
    t0 = log_clock_ms();
    if (ret >= 0) {
        frame_plan(j, v, frame, &plan);
        ret = convert_frame(&c->convert, frame, &plan, plan.format == FORMAT_PNG, &img,
                            err, errlen);
    }
    tm->convert = log_clock_ms() - t0;
    if (ret >= 0)
        pts = dec_frame_pts(frame);
    /* Encoding is the slow part at HD sizes: give the decoder back first so
     * the next frame's decode overlaps it on another worker. */
    return_ctx(j->d, c);
    if (ret >= 0) {
        t0 = log_clock_ms();
        b = encode_image(&img, &plan, j->d->cfg.png_level, err, errlen);
        tm->encode = log_clock_ms() - t0;
        /* mean += (sample - mean) / 8 */
        {
            long ms = (long)(tm->seek + tm->decode + tm->convert + tm->encode);
            long mean = atomic_load(&j->d->decode_ms);

            atomic_store(&j->d->decode_ms, mean + (ms - mean) / 8);
        }
        if (b) {
            b->tag = pts;
            b->width = img.width;
            b->height = img.height;
        }
        image_free(&img);
    }
    return b;
}

/* ---- the shared cache (shared.h) ----------------------------------------- */

/* The shared key of frame f of v made as plan: content-addressed, so equal
 * on every host that has the same bytes under any path, and naming the
 * pipeline, so a host with other libraries never serves other bytes. */
static int shared_frame_key(char *key, size_t len, const struct decoder *d,
                            const struct video *v, size_t f, const struct output_plan *plan)
{
    char spec[DECODER_KEY_MAX];

    if (!d->shared || !v->content_id[0] ||
        frame_request_key(spec, sizeof(spec), "", v->index.frames[f].pts, plan) < 0)
        return -1;
    snprintf(key, len, "F:%s:%d:%s:%s", v->content_id, v->stream, spec,
             d->load_shared.pipeline);
    return 0;
}

/* Offer a frame made here to the other hosts. */
static void share_frame(struct decoder *d, const struct video *v, size_t f,
                        const struct output_plan *plan, struct blob *b)
{
    char key[2 * DECODER_KEY_MAX];
    struct shared_meta meta = {b->tag, b->width, b->height};

    if (shared_frame_key(key, sizeof(key), d, v, f, plan) == 0)
        shared_put(d->shared, key, b, &meta);
}

/*
 * A frame another host may have made: its image from the shared cache, or
 * NULL (then this host makes it).  When another host holds the lease on it,
 * wait for its value up to about a decode's time, then give up on it.
 */
static struct blob *shared_frame(struct job *j, const struct video *v, size_t f)
{
    struct decoder *d = j->d;
    char key[2 * DECODER_KEY_MAX];
    struct shared_meta meta;
    struct blob *b;
    int corrupt;
    long wait_ms;
    double until;

    if (shared_frame_key(key, sizeof(key), d, v, f, &j->plan) < 0)
        return NULL;
    /* A corrupt value will not mend itself: make it here, now. */
    if ((b = shared_get(d->shared, key, &meta, &corrupt)) || corrupt ||
        shared_lease(d->shared, key))
        goto found;
    wait_ms = atomic_load(&d->decode_ms) * 3 / 2;
    wait_ms = wait_ms < 100 ? 100 : wait_ms > 3000 ? 3000 : wait_ms;
    for (until = log_clock_ms() + (double)wait_ms; !b && log_clock_ms() < until;) {
        struct timespec nap = {0, 25 * 1000 * 1000};

        if (job_cancelled(j))
            break;
        nanosleep(&nap, NULL);
        if (!(b = shared_get(d->shared, key, &meta, &corrupt)) && corrupt)
            break;
    }
found:
    if (b) {
        b->tag = meta.tag;
        b->width = meta.width;
        b->height = meta.height;
    }
    return b;
}

/* The cache key of frame f's image as the job's plan makes it. */
static void frame_key(char key[DECODER_KEY_MAX], const struct video *v, size_t f,
                      const struct output_plan *plan)
{
    frame_request_key(key, DECODER_KEY_MAX, v->key_prefix, v->index.frames[f].pts, plan);
}

static uint64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int never_wait(void *arg)
{
    (void)arg;
    return 1;
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
            if ((b = produce(j, v, j->frame, err, sizeof(err), &cancelled))) {
                lru_put(j->d->cache, j->key, b);
                if (j->d->shared)
                    share_frame(j->d, v, j->frame, &j->plan, b);
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
    size_t first, n = readahead_note(d->ra, v, f, bytes, now_ms(), &first);

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

/* The frame req names in v, by time, percentage or index; SELECT_NONE with
 * res->error set when there is none.  Sets res->requested_time. */
static ptrdiff_t resolve_request(const struct video *v, const struct frame_request *req,
                                 struct frame_result *res)
{
    const struct index *ix = &v->index;
    double seconds = req->t;
    ptrdiff_t f;
    int64_t t;

    if (req->kind == TIME_INDEX) {
        if (req->n < 0 || (uint64_t)req->n >= ix->n_frames) {
            snprintf(res->error, sizeof(res->error),
                     "frame %lld is past the last frame (the video has %zu frames)",
                     (long long)req->n, ix->n_frames);
            return SELECT_NONE;
        }
        res->requested_time = video_seconds(v, ix->frames[req->n].pts);
        return (ptrdiff_t)req->n;
    }
    if (req->kind == TIME_PERCENT)
        seconds = req->t / 100 * v->info.duration;
    t = video_ticks(v, seconds);
    res->requested_time = video_seconds(v, t);
    f = select_frame(ix->frames, ix->n_frames, t, tol_ticks(v, req->before),
                     tol_ticks(v, req->after));
    if (f == SELECT_NONE)
        snprintf(res->error, sizeof(res->error),
                 "time %.6f is past the end of the video (%.6f s)",
                 res->requested_time, v->info.duration);
    return f;
}

/* ---- batches (batch.h) -------------------------------------------------- */

/* batch_resolve()'s callback: the entry's frame, GOP and plan in v. */
static void resolve_entry(void *arg, struct batch_entry *e)
{
    const struct video *v = arg;
    struct frame_result scratch;
    struct output_source src = video_source(v);
    ptrdiff_t f = resolve_request(v, &e->req, &scratch);

    e->frame = f == SELECT_NONE ? BATCH_NONE : (size_t)f;
    e->gop = f == SELECT_NONE ? 0 : index_seek_packet(&v->index, (size_t)f);
    output_plan_make(&e->req.out, &src, &e->plan);
}

static void run_batch(void *arg, int shutting_down);

/* Start a run of b on v in `slot` (batch_note()/batch_done() asked for it). */
static void start_run(struct decoder *d, struct batch *b, struct video *v, int slot)
{
    struct job *j = calloc(1, sizeof(*j));

    if (!j) {
        batch_run_end(b, slot);
        return;
    }
    *j = (struct job){.d = d, .fd = -1, .run = run_batch, .batch = batch_ref(b),
                      .video = video_ref(v), .slot = slot};
    if (pool_submit(d->pool, run_batch, j) < 0) {
        batch_run_end(b, slot);
        job_free(j);
    }
}

/* Frame f of v, made as plan, was served: tell the batches of this path.
 * 1 when it was an entry of one (the batch reads ahead, not readahead.c). */
static int note_batches(struct decoder *d, const char *path, struct video *v, size_t f,
                        const struct output_plan *plan, size_t bytes)
{
    uint64_t now = now_ms();
    int matched = 0;

    pthread_mutex_lock(&d->batch_lock);
    for (size_t i = 0; i < d->n_batches;) {
        struct batch *b = d->batches[i];
        int r;

        if (batch_finished(b, now)) {
            d->batches[i] = d->batches[--d->n_batches];
            batch_unref(b);
            continue;
        }
        i++;
        if (strcmp(batch_path(b), path) != 0)
            continue;
        batch_resolve(b, v, resolve_entry, v);
        r = batch_note(b, v, f, plan, bytes, now);
        matched |= r >= BATCH_NOTE_ENTRY;
        if (r >= BATCH_NOTE_RUN)
            start_run(d, b, v, r - BATCH_NOTE_RUN);
    }
    pthread_mutex_unlock(&d->batch_lock);
    return matched;
}

static int batch_should_stop(void *arg)
{
    struct job *j = arg;

    return atomic_load(&j->d->stopping) || batch_stopped(j->batch);
}

/* An image a run decoded, encoded on whichever worker is free. */
static void run_encode(void *arg, int shutting_down)
{
    struct job *j = arg;
    struct blob *b = NULL;
    char err[256];
    int slot;

    if (!shutting_down && !batch_should_stop(j))
        b = encode_image(&j->img, &j->plan, j->d->cfg.png_level, err, sizeof(err));
    if (b) {
        b->tag = j->pts;
        b->width = j->img.width;
        b->height = j->img.height;
        lru_put(j->d->cache, j->key, b);
        if (j->d->shared)
            share_frame(j->d, j->video, j->frame, &j->plan, b);
        blob_unref(b);
    } else {
        lru_abandon(j->d->cache, j->key);
    }
    if ((slot = batch_done(j->batch, now_ms())) >= 0)
        start_run(j->d, j->batch, j->video, slot);
    job_free(j);
}

/* Decode and convert one claimed entry with *c (borrowed on first use), then
 * queue its encode.  The key is pending and ours. */
static void produce_entry(struct job *run, struct dec_ctx **c, const struct batch_entry *e,
                          const char *key)
{
    struct decoder *d = run->d;
    struct video *v = run->video;
    struct job *enc = NULL;
    struct output_plan plan;
    AVFrame *frame;
    char err[256];
    int ret = -1, slot;

    if (!batch_should_stop(run) && (*c || (*c = borrow_ctx(d, v, e->frame, err, sizeof(err)))) &&
        (enc = calloc(1, sizeof(*enc))) &&
        dec_ctx_get(*c, e->frame, batch_should_stop, run, &frame, err, sizeof(err)) >= 0) {
        run->req = e->req;
        run->plan = e->plan;
        frame_plan(run, v, frame, &plan);
        ret = convert_frame(&(*c)->convert, frame, &plan, plan.format == FORMAT_PNG, &enc->img,
                            err, sizeof(err));
        enc->pts = dec_frame_pts(frame);
    }
    if (ret < 0) {
        lru_abandon(d->cache, key);
        free(enc);
        if ((slot = batch_done(run->batch, now_ms())) >= 0)
            start_run(d, run->batch, v, slot);
        return;
    }
    enc->d = d;
    enc->fd = -1;
    enc->run = run_encode;
    enc->batch = batch_ref(run->batch);
    enc->video = video_ref(v);
    enc->plan = plan;
    enc->frame = e->frame;
    snprintf(enc->key, sizeof(enc->key), "%s", key);
    if (pool_submit(d->pool, run_encode, enc) < 0)
        run_encode(enc, 1);
}

/* A run: claim the next entries (one GOP at a time), mark them pending so a
 * reader waits for them instead of decoding them again, decode in order. */
static void run_batch(void *arg, int shutting_down)
{
    struct job *j = arg;
    struct batch *b = j->batch;
    size_t max = batch_max_claim(b), first, n;
    struct batch_entry *claim = calloc(max, sizeof(*claim));
    char (*keys)[DECODER_KEY_MAX] = calloc(max, sizeof(*keys));
    unsigned char *ours = calloc(max, 1);
    struct dec_ctx *c = NULL;

    while (claim && keys && ours && !shutting_down && !batch_should_stop(j) &&
           (n = batch_claim(b, j->slot, now_ms(), &first, claim, max))) {
        for (size_t k = 0; k < n; k++) {
            struct blob *hit = NULL;

            frame_key(keys[k], j->video, claim[k].frame, &claim[k].plan);
            /* Produced already, or being produced by a reader: not ours. */
            ours[k] = lru_get(j->d->cache, keys[k], &hit, never_wait, NULL) == LRU_PRODUCE;
            blob_unref(hit);
        }
        for (size_t k = 0; k < n; k++) {
            int slot;

            if (ours[k]) {
                produce_entry(j, &c, &claim[k], keys[k]);
            } else if ((slot = batch_done(b, now_ms())) >= 0) {
                start_run(j->d, b, j->video, slot);
            }
        }
    }
    if (c)
        return_ctx(j->d, c);
    batch_run_end(b, j->slot);
    free(claim);
    free(keys);
    free(ours);
    job_free(j);
}

struct decoder_batch *decoder_batch_new(struct decoder *d, const char *path,
                                        const struct frame_request *reqs, size_t n)
{
    struct batch *b = batch_new(path, reqs, n, d->cfg.workers, d->cfg.cache_bytes);
    struct batch **grown;

    if (!b)
        return NULL;
    pthread_mutex_lock(&d->batch_lock);
    if (d->n_batches == d->cap_batches) {
        size_t cap = d->cap_batches ? 2 * d->cap_batches : 8;

        if (!(grown = realloc(d->batches, cap * sizeof(*grown)))) {
            pthread_mutex_unlock(&d->batch_lock);
            batch_unref(b);
            return NULL;
        }
        d->batches = grown;
        d->cap_batches = cap;
    }
    d->batches[d->n_batches++] = batch_ref(b);
    pthread_mutex_unlock(&d->batch_lock);
    return (struct decoder_batch *)b;
}

void decoder_batch_release(struct decoder *d, struct decoder_batch *db)
{
    struct batch *b = (struct batch *)db;

    (void)d;
    if (!b)
        return;
    batch_release(b, now_ms());
    batch_unref(b);
}

void decoder_cancel_batches(struct decoder *d, const char *path)
{
    pthread_mutex_lock(&d->batch_lock);
    for (size_t i = 0; i < d->n_batches; i++)
        if (!path || strcmp(batch_path(d->batches[i]), path) == 0)
            batch_stop(d->batches[i]);
    pthread_mutex_unlock(&d->batch_lock);
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
    } else if (st == LRU_PRODUCE && j->d->shared && (b = shared_frame(j, v, j->frame))) {
        lru_put(j->d->cache, j->key, b);     /* made by another host */
    } else if (st == LRU_PRODUCE) {
        atomic_fetch_add(&j->d->misses, 1);
        b = produce(j, v, j->frame, res->error, sizeof(res->error), &cancelled);
        if (b) {
            lru_put(j->d->cache, j->key, b);
            if (j->d->shared)
                share_frame(j->d, v, j->frame, &j->plan, b);
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
        if (!note_batches(j->d, j->path, v, j->frame, &j->plan, b->size))
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

static void run_frame(void *arg, int shutting_down)
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

int decoder_submit_frame(struct decoder *d, int fd, const char *path,
                         const struct frame_request *req, const atomic_int *cancel,
                         frame_done_fn done, void *arg)
{
    struct job proto = {.frame_done = done, .req = *req};

    return submit(d, fd, path, cancel, arg, &proto, run_frame);
}

struct blob *decoder_cached(struct decoder *d, const char *key)
{
    return key[0] ? lru_peek(d->cache, key) : NULL;
}

/* ---- info jobs --------------------------------------------------------- */

/* A struct video_frames is the video itself, seen through these two. */
double video_frames_time(const struct video_frames *vf, size_t i)
{
    const struct video *v = (const struct video *)vf;

    return i < v->index.n_frames ? video_seconds(v, v->index.frames[i].pts) : NAN;
}

int video_frames_is_key(const struct video_frames *vf, size_t i)
{
    const struct video *v = (const struct video *)vf;

    return i < v->index.n_frames && v->index.frames[i].keyframe;
}

static void run_info(void *arg, int shutting_down)
{
    struct job *j = arg;
    struct video_info info = {0};
    struct video *v = NULL;
    int err = 0;

    if (shutting_down || job_cancelled(j))
        snprintf(info.error, sizeof(info.error), "cancelled");
    else if ((v = job_video(j, &err))) {
        info = v->info;
        info.frames = v->ok ? (const struct video_frames *)v : NULL;
    }
    else if (err == TABLE_PARKED)
        return;                       /* runs again once the video is loaded */
    else if (err == -ECANCELED || err == -ESHUTDOWN)
        snprintf(info.error, sizeof(info.error), "cancelled");
    else
        snprintf(info.error, sizeof(info.error), "cannot open: %s", strerror(-err));
    video_unref(v);
    j->info_done(j->arg, &info);
    job_free(j);
}

int decoder_submit_info(struct decoder *d, int fd, const char *path,
                        const atomic_int *cancel, info_done_fn done, void *arg)
{
    struct job proto = {.info_done = done};

    return submit(d, fd, path, cancel, arg, &proto, run_info);
}

/* ---- lifecycle --------------------------------------------------------- */

/*
 * What makes the bytes of a frame, for the shared cache's keys: framefs's
 * own format, the FFmpeg libraries, the encoders and their settings, and the
 * byte order.  Hosts that differ in any of it never share a value.
 */
static void pipeline_version(struct decoder *d)
{
    char text[512];
    const uint16_t one = 1;

    snprintf(text, sizeof(text),
             "framefs-values-1 lavf %u lavc %u lavu %u sws %u png %s deflate %s turbojpeg "
             "png_level %d %s",
             avformat_version(), avcodec_version(), avutil_version(), swscale_version(),
             png_get_libpng_ver(NULL), LIBDEFLATE_VERSION_STRING, d->cfg.png_level,
             *(const uint8_t *)&one ? "le" : "be");
    snprintf(d->load_shared.pipeline, sizeof(d->load_shared.pipeline), "%016llx",
             (unsigned long long)XXH3_64bits(text, strlen(text)));
}

int decoder_check_shared(const char *servers, char *err, size_t errlen)
{
    return shared_check_servers(servers, err, errlen);
}

void decoder_stats(struct decoder *d, struct decoder_stats *out)
{
    struct shared_stats s = {0};

    if (d->shared)
        shared_stats(d->shared, &s);
    *out = (struct decoder_stats){atomic_load(&d->local_hits), s.hits, atomic_load(&d->misses),
                                  atomic_load(&d->decodes), s.errors, s.corrupt, s.stores,
                                  d->shared != NULL};
}

/* Each worker's first act: the seccomp filter (sandbox.h). */
static int enter_sandbox(char *err, size_t errlen)
{
    return sandbox_enter(err, errlen);
}

struct decoder *decoder_new(const struct decoder_config *cfg, char *err, size_t errlen)
{
    struct decoder *d = calloc(1, sizeof(*d));

    snprintf(err, errlen, "out of memory");
    if (!d)
        return NULL;
    d->cfg = *cfg;
    atomic_init(&d->stopping, 0);
    /* Idle decoders cost memory (frame pools): as many as there are workers,
     * so a worker can always find its last position, and no more. */
    d->max_idle = cfg->workers;
    pthread_mutex_init(&d->lock, NULL);
    pthread_mutex_init(&d->batch_lock, NULL);
    avlog_install();
    pipeline_version(d);
    if (cfg->shared_cache && !(d->shared = shared_new(cfg->shared_cache, cfg->shared_ttl,
                                                      err, errlen))) {
        decoder_free(d);
        return NULL;
    }
    d->load_shared.shared = d->shared;
    if (!(d->cache = lru_new(cfg->cache_bytes)) ||
        !(d->ra = readahead_new(cfg->workers, cfg->cache_bytes)) ||
        !(d->videos = table_new(evict_video, d, d->shared ? &d->load_shared : NULL)) ||
        !(d->pool = pool_new(cfg->workers, cfg->sandbox ? enter_sandbox : NULL, err, errlen))) {
        decoder_free(d);
        return NULL;
    }
    return d;
}

void decoder_free(struct decoder *d)
{
    if (!d)
        return;
    atomic_store(&d->stopping, 1);  /* running decodes stop at a packet */
    if (d->videos)
        table_stop(d->videos);     /* and loads */
    pool_free(d->pool);            /* runs what is queued as cancelled, joins */
    shared_free(d->shared);        /* after the workers: nobody asks it now */
    if (d->videos)
        table_free(d->videos);
    while (d->idle) {
        struct dec_ctx *c = d->idle;

        d->idle = c->next;
        dec_ctx_close(c);
    }
    for (size_t i = 0; i < d->n_batches; i++)
        batch_unref(d->batches[i]);
    free(d->batches);
    lru_free(d->cache);
    readahead_free(d->ra);
    pthread_mutex_destroy(&d->lock);
    pthread_mutex_destroy(&d->batch_lock);
    free(d);
}
