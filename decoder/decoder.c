/*
 * The decoder module's front: the table of open videos, the idle decoder
 * contexts, the frame cache, and the two kinds of job run on the pool.
 *
 * Locking: d->lock protects the video table and the idle list.  It is never
 * held while opening, indexing or decoding a file.  A video slot being loaded
 * is marked `loading`; other jobs for it wait on d->loaded.
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libavutil/log.h>

#include "avlog.h"
#include "convert.h"
#include "decoder.h"
#include "encode_png.h"
#include "pool.h"
#include "seek.h"
#include "select.h"
#include "video.h"

#define MAX_VIDEOS 64

struct slot {
    char *path;
    struct video *video;       /* NULL while loading */
    unsigned long used;        /* recency stamp */
};

struct decoder {
    struct decoder_config cfg;
    struct pool *pool;
    struct lru *cache;

    pthread_mutex_t lock;
    pthread_cond_t loaded;
    struct slot slots[MAX_VIDEOS];
    unsigned long clock;
    struct dec_ctx *idle;      /* most recently used first */
    int n_idle, max_idle;
    atomic_int stopping;       /* decoder_free(): running decodes stop too */
};

const char decoder_default_video_ext[] =
    "mp4,m4v,mov,qt,mkv,webm,avi,wmv,asf,flv,f4v,mpg,mpeg,mpe,m2v,m1v,vob,ts,m2ts,"
    "mts,m2t,3gp,3g2,ogv,ogg,ogm,mxf,dv,nut,y4m,h264,264,h265,265,hevc,ivf,"
    "rm,rmvb,divx,xvid,gif,apng,mjpeg,mjpg";

/* ---- video table ------------------------------------------------------- */

static void drop_idle_of(struct decoder *d, const struct video *v)
{
    struct dec_ctx **pp = &d->idle;

    while (*pp) {
        struct dec_ctx *c = *pp;

        if (c->video == v) {
            *pp = c->next;
            d->n_idle--;
            dec_ctx_close(c);
        } else {
            pp = &c->next;
        }
    }
}

/* Forget a slot's video: its cached frames and idle decoders go with it. */
static void clear_slot(struct decoder *d, struct slot *s)
{
    if (s->video) {
        lru_drop_prefix(d->cache, s->video->key_prefix);
        drop_idle_of(d, s->video);
        video_unref(s->video);
    }
    free(s->path);
    memset(s, 0, sizeof(*s));
}

/* A free slot, evicting the least recently used loaded one if needed. */
static struct slot *free_slot(struct decoder *d)
{
    struct slot *victim = NULL;

    for (int i = 0; i < MAX_VIDEOS; i++) {
        struct slot *s = &d->slots[i];

        if (!s->path)
            return s;
        if (s->video && (!victim || s->used < victim->used))
            victim = s;
    }
    if (victim)
        clear_slot(d, victim);
    return victim;
}

static struct slot *find_slot(struct decoder *d, const char *path)
{
    for (int i = 0; i < MAX_VIDEOS; i++)
        if (d->slots[i].path && strcmp(d->slots[i].path, path) == 0)
            return &d->slots[i];
    return NULL;
}

static int same_id(const struct video_id *a, const struct video_id *b)
{
    return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
           a->mtime_ns == b->mtime_ns;
}

/*
 * The loaded video for `path` as it is now on disk (one reference), opening it
 * if needed; a changed file (size or mtime) replaces the old version.  NULL
 * with *err set when the file cannot be stat'ed or memory runs out.
 */
static struct video *get_video(struct decoder *d, const char *path, int *err)
{
    struct video_id id;
    struct video *v;
    struct slot *s;

    if ((*err = video_stat(path, &id)) < 0)
        return NULL;
    pthread_mutex_lock(&d->lock);
    for (;;) {
        s = find_slot(d, path);
        if (s && !s->video) {                   /* another job is loading it */
            pthread_cond_wait(&d->loaded, &d->lock);
            continue;
        }
        if (s && same_id(&s->video->id, &id)) {
            s->used = ++d->clock;
            v = video_ref(s->video);
            pthread_mutex_unlock(&d->lock);
            return v;
        }
        if (s)
            clear_slot(d, s);                   /* the source changed */
        break;
    }
    s = free_slot(d);
    if (s && !(s->path = strdup(path)))
        s = NULL;
    pthread_mutex_unlock(&d->lock);

    v = video_open(path, &id);

    pthread_mutex_lock(&d->lock);
    if (s) {
        if (v) {
            s->video = video_ref(v);
            s->used = ++d->clock;
        } else {
            free(s->path);
            s->path = NULL;
        }
        pthread_cond_broadcast(&d->loaded);
    }
    pthread_mutex_unlock(&d->lock);
    if (!v)
        *err = -ENOMEM;
    return v;
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
    const atomic_int *cancel;
    void *arg;
    frame_done_fn frame_done;
    info_done_fn info_done;
    struct frame_request req;    /* frames only */
    char key[192];               /* frames only: the cache key once known */
};

static void job_free(struct job *j)
{
    free(j->path);
    free(j);
}

/* Copy the request and queue it; 0, or -errno and the job is not run. */
static int submit(struct decoder *d, const char *path, const atomic_int *cancel,
                  void *arg, struct job *proto, pool_fn run)
{
    struct job *j = malloc(sizeof(*j));
    int ret;

    if (!j || !(proto->path = strdup(path))) {
        free(j);
        return -ENOMEM;
    }
    proto->d = d;
    proto->cancel = cancel;
    proto->arg = arg;
    *j = *proto;
    if ((ret = pool_submit(d->pool, run, j)) < 0)
        job_free(j);
    return ret;
}

static int job_cancelled(void *arg)
{
    struct job *j = arg;

    return atomic_load(&j->d->stopping) || (j->cancel && atomic_load(j->cancel));
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
    return video_ticks(v, s) - v->start_pts;
}

/* Decode, convert and encode frame f into a new blob. */
static struct blob *produce(struct job *j, struct video *v, size_t f,
                            char *err, size_t errlen, int *cancelled)
{
    struct dec_ctx *c = borrow_ctx(j->d, v, f, err, errlen);
    struct image img;
    struct blob *b = NULL;
    AVFrame *frame;
    int64_t pts = 0;
    int ret;

    if (!c)
        return NULL;
    ret = dec_ctx_get(c, f, producer_should_stop, j, &frame, err, errlen);
    if (ret == AVERROR_EXIT)
        *cancelled = 1;
    else if (ret >= 0)
        ret = convert_frame(&c->convert, frame, v->rotation, &img, err, errlen);
    if (ret >= 0)
        pts = dec_frame_pts(frame);
    /* Encoding is the slow part at HD sizes: give the decoder back first so
     * the next frame's decode overlaps it on another worker. */
    return_ctx(j->d, c);
    if (ret >= 0) {
        b = encode_png(&img, j->d->cfg.png_level, err, errlen);
        if (b)
            b->tag = pts;
        image_free(&img);
    }
    return b;
}

static void run_frame(void *arg, int shutting_down)
{
    struct job *j = arg;
    struct frame_result res = {.status = FRAME_FAILED, .actual_time = NAN};
    struct video *v = NULL;
    struct blob *b = NULL;
    int err = 0, cancelled = 0;
    ptrdiff_t f;
    int64_t t;

    res.requested_time = j->req.t;
    if (shutting_down || job_cancelled(j))
        goto cancelled;
    if (!(v = get_video(j->d, j->path, &err))) {
        snprintf(res.error, sizeof(res.error), "cannot open: %s", strerror(-err));
        goto done;
    }
    res.version = (struct source_version){v->id.dev, v->id.ino, v->id.size, v->id.mtime_ns};
    if (!v->ok) {
        snprintf(res.error, sizeof(res.error), "%s", v->error);
        goto done;
    }
    t = video_ticks(v, j->req.t);
    res.requested_time = video_seconds(v, t);
    f = select_frame(v->frames, v->n_frames, t, tol_ticks(v, j->req.before),
                     tol_ticks(v, j->req.after));
    if (f == SELECT_NONE) {
        snprintf(res.error, sizeof(res.error),
                 "time %.6f is past the end of the video (%.6f s)",
                 res.requested_time, v->info.duration);
        goto done;
    }
    snprintf(j->key, sizeof(j->key), "%sf=%lld:png", v->key_prefix,
             (long long)v->frames[f].pts);
    switch (lru_get(j->d->cache, j->key, &b, job_cancelled, j)) {
    case LRU_HIT:
        break;
    case LRU_STOPPED:
        goto cancelled;
    case LRU_PRODUCE:
        b = produce(j, v, (size_t)f, res.error, sizeof(res.error), &cancelled);
        if (b)
            lru_put(j->d->cache, j->key, b);
        else
            lru_abandon(j->d->cache, j->key);
        if (cancelled)
            goto cancelled;
        break;
    }
    if (b) {
        res.status = FRAME_SUCCEEDED;
        res.error[0] = 0;
        res.actual_time = video_seconds(v, b->tag);
        res.image = b;
    }
    goto done;
cancelled:
    res.status = FRAME_CANCELLED;
    snprintf(res.error, sizeof(res.error), "cancelled");
done:
    if (res.status == FRAME_FAILED && !res.error[0])
        snprintf(res.error, sizeof(res.error), "cannot produce frame");
    video_unref(v);
    j->frame_done(j->arg, &res);
    job_free(j);
}

int decoder_submit_frame(struct decoder *d, const char *path, const struct frame_request *req,
                         const atomic_int *cancel, frame_done_fn done, void *arg)
{
    struct job proto = {.frame_done = done, .req = *req};

    return submit(d, path, cancel, arg, &proto, run_frame);
}

/* ---- info jobs --------------------------------------------------------- */

static void run_info(void *arg, int shutting_down)
{
    struct job *j = arg;
    struct video_info info = {0};
    struct video *v = NULL;
    int err = 0;

    if (shutting_down || (j->cancel && atomic_load(j->cancel)))
        snprintf(info.error, sizeof(info.error), "cancelled");
    else if (!(v = get_video(j->d, j->path, &err)))
        snprintf(info.error, sizeof(info.error), "cannot open: %s", strerror(-err));
    else
        info = v->info;
    video_unref(v);
    j->info_done(j->arg, &info);
    job_free(j);
}

int decoder_submit_info(struct decoder *d, const char *path, const atomic_int *cancel,
                        info_done_fn done, void *arg)
{
    struct job proto = {.info_done = done};

    return submit(d, path, cancel, arg, &proto, run_info);
}

/* ---- lifecycle --------------------------------------------------------- */

struct decoder *decoder_new(const struct decoder_config *cfg)
{
    struct decoder *d = calloc(1, sizeof(*d));

    if (!d)
        return NULL;
    d->cfg = *cfg;
    atomic_init(&d->stopping, 0);
    /* Idle decoders cost memory (frame pools): as many as there are workers,
     * so a worker can always find its last position, and no more. */
    d->max_idle = cfg->workers;
    pthread_mutex_init(&d->lock, NULL);
    pthread_cond_init(&d->loaded, NULL);
    avlog_install();
    if (!(d->cache = lru_new(cfg->cache_bytes)) || !(d->pool = pool_new(cfg->workers))) {
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
    pool_free(d->pool);            /* runs what is queued as cancelled, joins */
    for (int i = 0; i < MAX_VIDEOS; i++)
        if (d->slots[i].path)
            clear_slot(d, &d->slots[i]);
    while (d->idle) {
        struct dec_ctx *c = d->idle;

        d->idle = c->next;
        dec_ctx_close(c);
    }
    lru_free(d->cache);
    pthread_mutex_destroy(&d->lock);
    pthread_cond_destroy(&d->loaded);
    free(d);
}
