#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <malloc.h>
#include <stdatomic.h>
#include <time.h>

#include "pool.h"

struct job {
    pool_fn fn;
    void *arg;
    struct job *next;
};

struct pool {
    pthread_mutex_t lock;
    pthread_cond_t wake;
    struct job *head, *tail;
    int queued, waiting;          /* jobs in the queue; workers waiting for one */
    int stopping;
    pool_init_fn init;
    int n_started, init_failed;   /* threads that ran init; how many failed */
    char init_error[256];
    pthread_cond_t started;
    int n_threads;
    pthread_t threads[];
};

/* A worker about to wait with nothing queued gives the heaps' free pages
 * back to the kernel (malloc_trim), at most once a second for the process:
 * frames of every size come and go between the cache's long-lived blobs,
 * and without this the free space between them stays resident (measured:
 * 150-220 MB of a 690 MB RSS on the soak's corpus). */
static void trim_when_idle(void)
{
    static atomic_llong last_ms;
    struct timespec ts;
    long long now, last;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    now = (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    last = atomic_load(&last_ms);
    if (now - last < 1000 || !atomic_compare_exchange_strong(&last_ms, &last, now))
        return;
    malloc_trim(0);
}

static void *worker_main(void *arg)
{
    struct pool *p = arg;
    char err[256] = "";
    int ret;

    pthread_setname_np(pthread_self(), "framefs-worker");
    ret = p->init ? p->init(err, sizeof(err)) : 0;
    pthread_mutex_lock(&p->lock);
    p->n_started++;
    if (ret < 0) {
        p->init_failed++;
        snprintf(p->init_error, sizeof(p->init_error), "%s", err);
    }
    pthread_cond_broadcast(&p->started);
    if (ret < 0) {                   /* runs no job: pool_new() fails */
        pthread_mutex_unlock(&p->lock);
        return NULL;
    }
    for (;;) {
        struct job *j;
        int stopping;

        if (!p->head && !p->stopping) {
            pthread_mutex_unlock(&p->lock);
            trim_when_idle();
            pthread_mutex_lock(&p->lock);
        }
        p->waiting++;
        while (!p->head && !p->stopping)
            pthread_cond_wait(&p->wake, &p->lock);
        p->waiting--;
        if (!(j = p->head))
            break;                      /* stopping and drained */
        p->queued--;
        p->head = j->next;
        if (!p->head)
            p->tail = NULL;
        stopping = p->stopping;
        pthread_mutex_unlock(&p->lock);
        j->fn(j->arg, stopping);
        free(j);
        pthread_mutex_lock(&p->lock);
    }
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

struct pool *pool_new(int workers, pool_init_fn init, char *err, size_t errlen)
{
    struct pool *p = calloc(1, sizeof(*p) + (size_t)workers * sizeof(pthread_t));
    int failed;

    if (!p) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->wake, NULL);
    pthread_cond_init(&p->started, NULL);
    p->init = init;
    for (; p->n_threads < workers; p->n_threads++)
        if (pthread_create(&p->threads[p->n_threads], NULL, worker_main, p) != 0)
            break;
    /* Every worker has run init before any job is accepted. */
    pthread_mutex_lock(&p->lock);
    while (p->n_started < p->n_threads)
        pthread_cond_wait(&p->started, &p->lock);
    failed = p->init_failed;
    pthread_mutex_unlock(&p->lock);
    if (p->n_threads == 0 || failed) {
        snprintf(err, errlen, "%s", failed ? p->init_error : "cannot start threads");
        pool_free(p);
        return NULL;
    }
    return p;
}

/* Queue j (only when a worker waits with nothing queued for it, if
 * idle_only); 0, -ESHUTDOWN, or -EBUSY. */
static int enqueue(struct pool *p, struct job *j, int idle_only)
{
    pthread_mutex_lock(&p->lock);
    if (p->stopping || (idle_only && p->waiting <= p->queued)) {
        int busy = !p->stopping;

        pthread_mutex_unlock(&p->lock);
        free(j);
        return busy ? -EBUSY : -ESHUTDOWN;
    }
    p->queued++;
    if (p->tail)
        p->tail->next = j;
    else
        p->head = j;
    p->tail = j;
    pthread_cond_signal(&p->wake);
    pthread_mutex_unlock(&p->lock);
    return 0;
}

int pool_submit(struct pool *p, pool_fn fn, void *arg)
{
    struct job *j = malloc(sizeof(*j));

    if (!j)
        return -ENOMEM;
    *j = (struct job){.fn = fn, .arg = arg};
    return enqueue(p, j, 0);
}

int pool_submit_idle(struct pool *p, pool_fn fn, void *arg)
{
    struct job *j = malloc(sizeof(*j));

    if (!j)
        return -ENOMEM;
    *j = (struct job){.fn = fn, .arg = arg};
    return enqueue(p, j, 1);
}

void pool_free(struct pool *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->lock);
    p->stopping = 1;
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->lock);
    for (int i = 0; i < p->n_threads; i++)
        pthread_join(p->threads[i], NULL);
    pthread_mutex_destroy(&p->lock);
    pthread_cond_destroy(&p->wake);
    pthread_cond_destroy(&p->started);
    free(p);
}
