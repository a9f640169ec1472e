/*
 * decoder/pool — a fixed set of worker threads running queued jobs in FIFO
 * order.  The queue is protected by the pool's mutex; jobs run without it.
 * pool_free() stops accepting jobs, lets the workers run every job still
 * queued with `shutting_down` set (so each job still completes exactly once)
 * and joins them.
 */
#ifndef FRAMEFS_POOL_H
#define FRAMEFS_POOL_H

#include <stddef.h>

struct pool;

typedef void (*pool_fn)(void *arg, int shutting_down);
/* Run by each worker thread before it takes any job (the sandbox); 0, or a
 * negative errno with err filled. */
typedef int (*pool_init_fn)(char *err, size_t errlen);

/* Start `workers` threads named "framefs-worker", each running init first.
 * NULL with err filled when a thread cannot start or its init fails. */
struct pool *pool_new(int workers, pool_init_fn init, char *err, size_t errlen);
/* 0, or -ENOMEM / -ESHUTDOWN (the job will not run). */
int pool_submit(struct pool *p, pool_fn fn, void *arg);
/* The same, only when a worker is waiting with no job queued for it, so
 * the job starts at once: a worker may hand part of its own work to an
 * idle one and wait for it without ever waiting behind other jobs (or for
 * itself).  0, or -EBUSY (no idle worker), -ENOMEM, -ESHUTDOWN. */
int pool_submit_idle(struct pool *p, pool_fn fn, void *arg);
void pool_free(struct pool *p);

#endif
