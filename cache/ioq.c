/*
 * cache/ioq — see ioq.h.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ioq.h"

#define IOQ_MAX_THREADS 8

struct ioq {
    pthread_t thread[IOQ_MAX_THREADS];
    int n_threads;
    struct ioq_worker w;
    pthread_mutex_t lock;
    pthread_cond_t work, finished;    /* finished: CLOCK_MONOTONIC */
    struct ioq_op *head, *tail;
    int posts, max_posts;
};

void ioq_op_init(struct ioq_op *op, void (*free_fn)(struct ioq_op *op))
{
    atomic_init(&op->refs, 1);
    op->free = free_fn;
    op->taken = op->done = 0;
    op->next = NULL;
    op->post = op->stop = 0;
}

void ioq_op_unref(struct ioq_op *op)
{
    if (atomic_fetch_sub(&op->refs, 1) == 1)
        op->free(op);
}

static void free_stop(struct ioq_op *op)
{
    free(op);
}

static void *io_main(void *arg)
{
    struct ioq *q = arg;
    void *state = q->w.start ? q->w.start(q->w.ctx) : NULL;

    for (;;) {
        struct ioq_op *op;

        pthread_mutex_lock(&q->lock);
        while (!q->head)
            pthread_cond_wait(&q->work, &q->lock);
        op = q->head;
        op->taken = 1;
        q->head = op->next;
        if (!q->head)
            q->tail = NULL;
        if (op->post)
            q->posts--;
        pthread_mutex_unlock(&q->lock);
        if (op->stop) {
            ioq_op_unref(op);
            if (q->w.end)
                q->w.end(q->w.ctx, state);
            return NULL;
        }
        q->w.run(q->w.ctx, state, op);
        pthread_mutex_lock(&q->lock);
        op->done = 1;
        pthread_cond_broadcast(&q->finished);
        pthread_mutex_unlock(&q->lock);
        ioq_op_unref(op);
    }
}

/* Queue op (front or back); 0, or -1 when a post finds the queue full. */
static int enqueue(struct ioq *q, struct ioq_op *op, int front)
{
    pthread_mutex_lock(&q->lock);
    if (op->post && !op->stop) {
        if (q->posts >= q->max_posts) {
            pthread_mutex_unlock(&q->lock);
            return -1;
        }
    }
    if (op->post)
        q->posts++;
    if (front) {
        op->next = q->head;
        q->head = op;
        if (!q->tail)
            q->tail = op;
    } else {
        op->next = NULL;
        if (q->tail)
            q->tail->next = op;
        else
            q->head = op;
        q->tail = op;
    }
    pthread_cond_signal(&q->work);
    pthread_mutex_unlock(&q->lock);
    return 0;
}

/* now + ms on CLOCK_MONOTONIC (the clock q->finished waits on). */
static struct timespec after_ms(long ms)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    t.tv_sec += ms / 1000;
    t.tv_nsec += (ms % 1000) * 1000000L;
    t.tv_sec += t.tv_nsec / 1000000000L;
    t.tv_nsec %= 1000000000L;
    return t;
}

static int passed(const struct timespec *t)
{
    struct timespec now;

    clock_gettime(CLOCK_MONOTONIC, &now);
    return now.tv_sec != t->tv_sec ? now.tv_sec > t->tv_sec : now.tv_nsec >= t->tv_nsec;
}

int ioq_call(struct ioq *q, struct ioq_op *op, long queued_ms, long answer_ms,
             int (*stop)(void *), void *arg, int *stopped_out)
{
    struct timespec queued_until = after_ms(queued_ms), answer_until = after_ms(answer_ms);
    int done, stopped = 0;

    atomic_fetch_add(&op->refs, 1);      /* the thread's */
    enqueue(q, op, 1);
    pthread_mutex_lock(&q->lock);
    while (!op->done) {
        struct timespec slice = after_ms(IOQ_STOP_POLL_MS);

        if (passed(op->taken ? &answer_until : &queued_until))
            break;
        pthread_cond_timedwait(&q->finished, &q->lock, &slice);
        if (!op->done && stop) {  /* outside the lock: stop may take others */
            pthread_mutex_unlock(&q->lock);
            stopped = stop(arg);
            pthread_mutex_lock(&q->lock);
            if (stopped)
                break;
        }
    }
    done = op->done;
    pthread_mutex_unlock(&q->lock);
    if (stopped_out)
        *stopped_out = stopped;
    if (!done)
        ioq_op_unref(op);        /* the thread frees it */
    return done;
}

int ioq_post(struct ioq *q, struct ioq_op *op)
{
    op->post = 1;
    if (enqueue(q, op, 0) < 0) {
        ioq_op_unref(op);
        return -1;
    }
    return 0;
}

struct ioq *ioq_new(int threads, const char *name, const struct ioq_worker *w, int max_posts)
{
    struct ioq *q = calloc(1, sizeof(*q));
    pthread_condattr_t ca;

    if (!q)
        return NULL;
    q->w = *w;
    q->max_posts = max_posts;
    pthread_mutex_init(&q->lock, NULL);
    pthread_cond_init(&q->work, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&q->finished, &ca);
    pthread_condattr_destroy(&ca);
    for (int i = 0; i < threads && i < IOQ_MAX_THREADS; i++) {
        if (pthread_create(&q->thread[i], NULL, io_main, q) != 0)
            break;
        pthread_setname_np(q->thread[i], name);
        q->n_threads++;
    }
    if (!q->n_threads) {
        ioq_free(q);
        return NULL;
    }
    return q;
}

void ioq_free(struct ioq *q)
{
    if (!q)
        return;
    /* Behind every queued op, one stop per thread: what is queued still
     * runs, then the threads end. */
    for (int i = 0; i < q->n_threads; i++) {
        struct ioq_op *stop = malloc(sizeof(*stop));

        if (stop) {
            ioq_op_init(stop, free_stop);
            stop->post = stop->stop = 1;
            enqueue(q, stop, 0);
        }
    }
    for (int i = 0; i < q->n_threads; i++)
        pthread_join(q->thread[i], NULL);
    while (q->head) {
        struct ioq_op *op = q->head;

        q->head = op->next;
        ioq_op_unref(op);
    }
    pthread_mutex_destroy(&q->lock);
    pthread_cond_destroy(&q->work);
    pthread_cond_destroy(&q->finished);
    free(q);
}
