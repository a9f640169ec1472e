/*
 * cache/tiers — the tiers below the memory LRU, in lookup order: the disk
 * (disk.h, -o cache_dir) then the hosts' shared cache (shared.h, -o
 * shared_cache); either may be absent.  A value found in the shared cache
 * is written to the disk on its way up; a value made here goes to both.
 * The keys are the caller's (decoder/tier_key.c).
 *
 * Locking: none of its own; every call may come from any thread but a
 * FUSE one.  Blocking: tiers_get() and tiers_lease() wait as disk_get()
 * and shared_get() do, one after the other; tiers_put() only queues.
 */
#ifndef FRAMEFS_TIERS_H
#define FRAMEFS_TIERS_H

#include <stdint.h>

#include "cache.h"
#include "disk.h"
#include "shared.h"

struct tiers_config {
    const char *disk_dir;        /* NULL: no disk tier */
    uint64_t disk_bytes;
    const char *shared_servers;  /* NULL: no shared tier ("HOST:PORT[+...]") */
    int shared_ttl;
};

struct tiers_stats {
    struct disk_stats disk;
    struct shared_stats shared;
    _Bool has_disk, has_shared;
};

/* NULL with err set when a configured tier cannot start (see disk_new(),
 * shared_new()); the caller makes none when neither is configured. */
struct tiers *tiers_new(const struct tiers_config *cfg, cache_log_fn log, char *err,
                        size_t errlen);
void tiers_free(struct tiers *t);

/* The value of key from the first tier that has it, with its meta, or NULL;
 * *corrupt (when given) says whether the shared cache's was corrupt. */
struct blob *tiers_get(struct tiers *t, const char *key, struct cache_meta *meta,
                       int *corrupt, int (*stop)(void *), void *arg);
/* shared_lease() when there is a shared tier, else 1 (this host makes it). */
int tiers_lease(struct tiers *t, const char *key, int (*stop)(void *), void *arg);
/* Store b under key in every tier, later. */
void tiers_put(struct tiers *t, const char *key, struct blob *b, const struct cache_meta *meta);
void tiers_stats(struct tiers *t, struct tiers_stats *out);
/* The same on the disk tier only (NULL / nothing without one): for values
 * that mean nothing on another host, such as those keyed by inode. */
struct blob *tiers_get_local(struct tiers *t, const char *key, struct cache_meta *meta,
                             int (*stop)(void *), void *arg);
void tiers_put_local(struct tiers *t, const char *key, struct blob *b,
                     const struct cache_meta *meta);
/* Is there a shared tier (whose lease is worth waiting for)? */
int tiers_shared(const struct tiers *t);

#endif
