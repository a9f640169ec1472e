/*
 * decoder/media/table — the open videos, one version per path, each loaded once.
 *
 * A request for a video that another request is loading does not wait on a
 * thread: it is parked on the slot and resumed (its resume callback runs)
 * when the load ends, so waiters for a big file's index hold no worker.  The
 * load itself polls, at every packet, whether anybody still wants it: parked
 * waiters whose request was cancelled are resumed at once (they then
 * complete as cancelled), and when the loader's own request and every parked
 * one are cancelled, or the table is stopping, the load stops and nothing is
 * kept of it.
 *
 * Locking: the table's mutex protects the slots and the parked lists; it is
 * never held while loading, nor while a callback runs.  Callbacks run on the
 * loading thread.
 */
#ifndef FRAMEFS_TABLE_H
#define FRAMEFS_TABLE_H

#include "load.h"
#include "video.h"

/* A request that may wait for a load; embedded in the caller's job. */
struct table_waiter {
    int (*cancelled)(struct table_waiter *w);
    void (*resume)(struct table_waiter *w);   /* try table_get() again */
    struct table_waiter *next;
};

/* Called (without the lock) for each video version the table lets go of:
 * the caller drops what it keeps for it (cached frames, idle decoders). */
typedef void (*table_evict_fn)(void *arg, struct video *v);

/* tiers: the cache tiers below memory for loads (load.h), or NULL; kept,
 * not owned.  max_bytes: what the loaded videos may hold (video_memory())
 * before the least recently used idle ones are let go of, checked after
 * each load (a video that scene scores grow counts from the next one); they
 * are loaded again when asked for, from the disk tier when there is one. */
struct table *table_new(table_evict_fn evict, void *arg, const struct load_tiers *tiers,
                        size_t max_bytes);
/* Let go of every video.  No load may be running. */
void table_free(struct table *t);
/* Loads stop at their next packet; table_get() then fails with -ESHUTDOWN. */
void table_stop(struct table *t);

struct table_stats {
    size_t bytes, max_bytes, videos;     /* as counted after the last load */
    unsigned long evictions;             /* let go of for room (a slot, or
                                          * the byte bound) */
    unsigned long loads, scans;          /* videos loaded; of them, indexed by
                                          * reading the file (not from a tier) */
};
void table_stats(struct table *t, struct table_stats *out);

#define TABLE_PARKED 1

/*
 * The loaded version `fd` is of `path`, in *out (one reference): 0.  Takes
 * ownership of fd whatever the outcome but TABLE_PARKED.  Loads it on this
 * thread when nobody has (a changed file replaces the old version).
 * TABLE_PARKED: another request is loading it; w was parked, keeps fd, and
 * w->resume will run.  Negative errno: fd is not a regular file (-EINVAL),
 * the load was stopped (-ECANCELED, -ESHUTDOWN) or memory ran out.
 */
int table_get(struct table *t, const char *path, int fd, struct table_waiter *w,
              struct video **out);

#endif
