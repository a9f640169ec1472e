/*
 * What every job uses: a decoder context to borrow (the idle and busy lists),
 * its video from the table, whether it should stop, an idle worker for half
 * an encode, and its end (job_free).  The jobs are frame_job.c's,
 * batch_job.c's and info_job.c's; the decoder's front (decoder.c) queues them.
 *
 * Locking: d->lock protects the idle and busy lists.  It is never held while
 * opening, indexing or decoding a file; borrow_ctx() waits on it (bounded)
 * for a busy context that will reach the frame it wants.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "batch.h"
#include "image/image.h"
#include "jobs.h"
#include "media/media.h"
#include "pool.h"

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

/* now + ms on CLOCK_MONOTONIC (the clock ctx_back waits on). */
static struct timespec after_ms(long ms)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    t.tv_sec += ms / 1000;
    t.tv_nsec += (ms % 1000) * 1000000;
    if (t.tv_nsec >= 1000000000) {
        t.tv_sec++;
        t.tv_nsec -= 1000000000;
    }
    return t;
}

static int later(const struct timespec *a, const struct timespec *b)
{
    return a->tv_sec != b->tv_sec ? a->tv_sec > b->tv_sec : a->tv_nsec > b->tv_nsec;
}

struct dec_ctx *borrow_ctx(struct decoder *d, struct video *v, size_t f, int threads,
                           int (*stop)(void *), void *stop_arg, char *err, size_t errlen)
{
    struct dec_ctx **pp, **best, *c = NULL;
    struct timespec deadline = {0}, slice;
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
        if (stop(stop_arg)) {           /* checked at least every slice */
            pthread_mutex_unlock(&d->lock);
            snprintf(err, errlen, "cancelled while waiting for a decoder");
            return NULL;
        }
        if (!deadline.tv_sec)
            deadline = after_ms(BORROW_WAIT_MS);
        slice = after_ms(BORROW_STOP_POLL_MS);
        if (later(&slice, &deadline))
            slice = deadline;
        if (pthread_cond_timedwait(&d->ctx_back, &d->lock, &slice) == ETIMEDOUT)
            timed_out = !later(&deadline, &slice);
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
        c->free_convert = convert_free;
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

/* ---- the job's life ------------------------------------------------------ */

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

/* encode_offload's run: an idle worker takes the piece at once, or none. */
static int offload_idle(void *pool, void (*fn)(void *arg, int unused), void *arg)
{
    return pool_submit_idle(pool, fn, arg) == 0;
}

void encode_offload_of(struct decoder *d, struct encode_offload *off)
{
    *off = (struct encode_offload){.run = offload_idle, .ctx = d->pool};
}
