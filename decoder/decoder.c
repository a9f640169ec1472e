/*
 * The decoder module's front: decoder_new/free and the submission of frame
 * and info jobs.  The jobs themselves are frame_job.c's, batch_job.c's and
 * info_job.c's, what they share is job.c's (jobs.h); the open videos are
 * media/table.c's.
 *
 * Locking: d->lock (job.c's lists) is taken here only to drop an evicted
 * video's idle contexts.  A job that needs a video another job is loading is
 * parked by the table and queued again when the load ends.
 */
#include <errno.h>
#include <stddef.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../cache/tiers.h"
#include "batch.h"
#include "decoder.h"
#include "image/image.h"
#include "jobs.h"
#include "media/media.h"
#include "pool.h"
#include "readahead.h"

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

/* ---- submission -------------------------------------------------------- */

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

int decoder_submit_scenes(struct decoder *d, int fd, const char *path,
                          const atomic_int *cancel, info_done_fn done, void *arg)
{
    struct job proto = {.info_done = done};

    return submit(d, fd, path, cancel, arg, &proto, run_scenes);
}

/* ---- lifecycle --------------------------------------------------------- */

int decoder_check_shared(const char *servers, char *err, size_t errlen)
{
    return shared_check_servers(servers, err, errlen);
}

void decoder_stats(struct decoder *d, struct decoder_stats *out)
{
    struct tiers_stats t = {0};
    struct table_stats v = {0};

    if (d->tiers)
        tiers_stats(d->tiers, &t);
    if (d->videos)
        table_stats(d->videos, &v);
    *out = (struct decoder_stats){
        atomic_load(&d->local_hits), t.shared.hits, atomic_load(&d->misses),
        atomic_load(&d->decodes), t.shared.errors, t.shared.corrupt, t.shared.stores,
        t.has_shared,
        t.disk.hits, t.disk.misses, t.disk.evictions, t.disk.corrupt, t.disk.stores,
        t.disk.bytes, t.disk.max_bytes,
        !t.has_disk ? "none" : t.disk.state == DISK_ON ? "on"
                             : t.disk.state == DISK_READ_ONLY ? "read-only" : "off",
        v.bytes, v.max_bytes, v.videos, v.evictions, v.loads, v.scans,
        atomic_load(&d->band_frames)};
}

/* Each worker's first act: the seccomp filter (media/sandbox.h). */
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
    d->note_served = note_batches;
    pipeline_version(d->load_tiers.pipeline, cfg->png_level);
    if (cfg->shared_cache || cfg->cache_dir) {
        struct tiers_config tc = {cfg->cache_dir, cfg->disk_bytes, cfg->shared_cache,
                                  cfg->shared_ttl};

        if (!(d->tiers = tiers_new(&tc, log_msg, err, errlen))) {
            decoder_free(d);
            return NULL;
        }
    }
    d->load_tiers.tiers = d->tiers;
    if (!(d->cache = lru_new(cfg->cache_bytes)) ||
        !(d->ra = readahead_new(cfg->workers, cfg->cache_bytes)) ||
        !(d->videos = table_new(evict_video, d, d->tiers ? &d->load_tiers : NULL,
                                    cfg->index_bytes)) ||
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
    tonemap_release();             /* the graph kept between HDR frames */
    tiers_free(d->tiers);          /* after the workers: nobody asks it now */
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
