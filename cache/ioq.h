/*
 * cache/ioq — the I/O threads of a tier below memory (shared.c's memcached
 * connections, disk.c's directory): a queue of operations run by a few
 * threads of their own, started unsandboxed, so that the decoder's workers,
 * which may open nothing (decoder/media/sandbox.h), only hand work over.
 *
 * An operation is the caller's struct with a struct ioq_op first.  A call
 * (ioq_call) goes to the front of the queue and its caller waits: while it
 * is queued at most `queued_ms`, once a thread runs it until it is done
 * (`answer_ms` at most), or until the caller's stop says so.  A post
 * (ioq_post) goes to the back and its caller goes on; at most `max_posts`
 * of them wait, else the post is refused.  A caller that lets go of a call
 * leaves it to the thread, which frees it when done: an op is refcounted,
 * and its free() runs with the last reference.
 *
 * Locking: one mutex for the queue, never held while an op runs nor while
 * stop() is called.  ioq_call() blocks as above; ioq_post() never blocks;
 * ioq_free() runs what is queued, then joins.
 */
#ifndef FRAMEFS_IOQ_H
#define FRAMEFS_IOQ_H

#include <stdatomic.h>

#define IOQ_STOP_POLL_MS 20

struct ioq_op {
    atomic_int refs;             /* the thread's, and a waiting caller's */
    void (*free)(struct ioq_op *op);
    /* private below */
    int taken, done;
    struct ioq_op *next;
    _Bool post, stop;
};

/* What a queue's threads do.  start() runs first on each thread and
 * returns its state (NULL is allowed: run() then gets NULL); run() does
 * one op with it; end() frees it as the thread ends. */
struct ioq_worker {
    void *(*start)(void *ctx);
    void (*run)(void *ctx, void *state, struct ioq_op *op);
    void (*end)(void *ctx, void *state);
    void *ctx;
};

struct ioq;

/* threads >= 1 named `name` (at most 15 characters).  NULL when no
 * thread starts or memory runs out. */
struct ioq *ioq_new(int threads, const char *name, const struct ioq_worker *w, int max_posts);
/* Run what is queued, then end the threads and free the queue. */
void ioq_free(struct ioq *q);

/* op->refs is set here (the caller gives up nothing until it returns). */
void ioq_op_init(struct ioq_op *op, void (*free_fn)(struct ioq_op *op));
void ioq_op_unref(struct ioq_op *op);

/* Run op and wait, as the header says; stop (NULL: never) is polled every
 * IOQ_STOP_POLL_MS.  1: done, and the caller still holds its reference (to
 * read the result, then ioq_op_unref()); 0: late or stopped, and the
 * caller's reference is gone (*stopped says which, when given). */
int ioq_call(struct ioq *q, struct ioq_op *op, long queued_ms, long answer_ms,
             int (*stop)(void *), void *arg, int *stopped);
/* Queue op for later; the queue takes the caller's reference.  0, or -1
 * when max_posts are waiting (then the op was freed). */
int ioq_post(struct ioq *q, struct ioq_op *op);

#endif
