/*
 * The decoder module's front: decoder_new/free, the submission of frame and
 * info jobs, the idle decoder contexts, and the job's own life (waiting for
 * its video, freeing).  The jobs themselves are frame_job.c's, batch_job.c's
 * and info_job.c's (jobs.h); the open videos are table.c's.
 *
 * Locking: d->lock protects the idle and busy lists.  It is never held while
 * opening, indexing or decoding a file; borrow_ctx() waits on it (bounded)
 * for a busy context that will reach the frame it wants.  A job that needs a video another job is
 * loading is parked by the table and queued again when the load ends.
 */
#include <errno.h>
#include <stddef.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "avlog.h"
#include "batch.h"
#include "decoder.h"
#include "index.h"
#include "jobs.h"
#include "pool.h"
#include "seek.h"
#include "readahead.h"
#include "sandbox.h"
#include "shared.h"
#include "table.h"
#include "video.h"

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

/* Is a borrowed context on v on its way to a frame before f, in f's GOP?
 * Then it can go on to f once it is back.  Under d->lock. */
static int busy_ahead_of(const struct decoder *d, const struct video *v, size_t f)
{
    size_t key = index_seek_packet(&v->index, f);

    for (const struct dec_ctx *c = d->busy; c; c = c->next)
        if (c->video == v && c->borrowed_for < v->index.n_frames &&
            index_seek_packet(&v->index, c->borrowed_for) == key &&
            v->index.frames[c->borrowed_for].pts < v->index.frames[f].pts)
            return 1;
    return 0;
}

struct dec_ctx *borrow_ctx(struct decoder *d, struct video *v, size_t f, int threads,
                           char *err, size_t errlen)
{
    struct dec_ctx **pp, **best, *c = NULL;
    struct timespec deadline = {0};
    int continues, timed_out = 0;

    pthread_mutex_lock(&d->lock);
    for (;;) {
        best = NULL;
        continues = 0;
        for (pp = &d->idle; *pp; pp = &(*pp)->next) {
            if ((*pp)->video != v)
                continue;
            if (dec_ctx_can_continue(*pp, f)) {
                best = pp;
                continues = 1;
                break;
            }
            if (!best)
                best = pp;
        }
        if (continues || timed_out || !busy_ahead_of(d, v, f))
            break;
        if (!deadline.tv_sec) {
            clock_gettime(CLOCK_MONOTONIC, &deadline);
            deadline.tv_sec += BORROW_WAIT_MS / 1000;
            deadline.tv_nsec += (long)(BORROW_WAIT_MS % 1000) * 1000000;
            if (deadline.tv_nsec >= 1000000000) {
                deadline.tv_sec++;
                deadline.tv_nsec -= 1000000000;
            }
        }
        timed_out = pthread_cond_timedwait(&d->ctx_back, &d->lock, &deadline) == ETIMEDOUT;
    }
    if (best) {
        c = *best;
        *best = c->next;
        d->n_idle--;
        c->borrowed_for = f;
        c->next = d->busy;
        d->busy = c;
    }
    pthread_mutex_unlock(&d->lock);
    if (!c) {
        if (dec_ctx_open(v, threads, &c, err, errlen) < 0)
            return NULL;
        pthread_mutex_lock(&d->lock);
        c->borrowed_for = f;
        c->next = d->busy;
        d->busy = c;
        pthread_mutex_unlock(&d->lock);
    }
    dec_ctx_set_threads(c, threads);
    c->skip_nonref = !d->cfg.decode_all;
    return c;
}

void ctx_heading_to(struct decoder *d, struct dec_ctx *c, size_t f)
{
    pthread_mutex_lock(&d->lock);
    c->borrowed_for = f;
    pthread_mutex_unlock(&d->lock);
}

/* Keep a context for reuse; close the least recently used beyond the bound. */
void return_ctx(struct decoder *d, struct dec_ctx *c)
{
    struct dec_ctx *victim = NULL, **pp;

    pthread_mutex_lock(&d->lock);
    for (pp = &d->busy; *pp; pp = &(*pp)->next)
        if (*pp == c) {
            *pp = c->next;
            break;
        }
    c->next = d->idle;
    d->idle = c;
    if (++d->n_idle > d->max_idle) {
        for (pp = &d->idle; (*pp)->next; pp = &(*pp)->next)
            ;
        victim = *pp;
        *pp = NULL;
        d->n_idle--;
    }
    pthread_cond_broadcast(&d->ctx_back);
    pthread_mutex_unlock(&d->lock);
    if (victim) {
        dec_ctx_close(victim);
    }
}

/* ---- jobs -------------------------------------------------------------- */

void job_free(struct job *j)
{
    batch_unref(j->batch);
    image_free(&j->img);
    video_unref(j->video);
    if (j->fd >= 0)
        close(j->fd);
    free(j->path);
    free(j);
}

int job_cancelled(void *arg)
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
struct video *job_video(struct job *j, int *err)
{
    struct video *v;

    *err = table_get(j->d->videos, j->path, j->fd, &j->wait, &v);
    if (*err != TABLE_PARKED)
        j->fd = -1;
    return v;
}

uint64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int never_wait(void *arg)
{
    (void)arg;
    return 1;
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

int decoder_submit_info(struct decoder *d, int fd, const char *path,
                        const atomic_int *cancel, info_done_fn done, void *arg)
{
    struct job proto = {.info_done = done};

    return submit(d, fd, path, cancel, arg, &proto, run_info);
}

/* ---- lifecycle --------------------------------------------------------- */

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
    {
        pthread_condattr_t attr;

        pthread_condattr_init(&attr);
        pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
        pthread_cond_init(&d->ctx_back, &attr);
        pthread_condattr_destroy(&attr);
    }
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
    pthread_cond_destroy(&d->ctx_back);
    pthread_mutex_destroy(&d->batch_lock);
    free(d);
}
