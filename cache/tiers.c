/*
 * cache/tiers — see tiers.h.
 */
#include <stdio.h>
#include <stdlib.h>

#include "tiers.h"

struct tiers {
    struct disk *disk;
    struct shared *shared;
};

struct tiers *tiers_new(const struct tiers_config *cfg, cache_log_fn log, char *err,
                        size_t errlen)
{
    struct tiers *t = calloc(1, sizeof(*t));

    if (!t) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if ((cfg->disk_dir && !(t->disk = disk_new(cfg->disk_dir, cfg->disk_bytes, log, err, errlen))) ||
        (cfg->shared_servers &&
         !(t->shared = shared_new(cfg->shared_servers, cfg->shared_ttl, log, err, errlen)))) {
        tiers_free(t);
        return NULL;
    }
    return t;
}

void tiers_free(struct tiers *t)
{
    if (!t)
        return;
    shared_free(t->shared);
    disk_free(t->disk);
    free(t);
}

struct blob *tiers_get(struct tiers *t, const char *key, struct cache_meta *meta,
                       int *corrupt, int (*stop)(void *), void *arg)
{
    struct blob *b = NULL;

    if (corrupt)
        *corrupt = 0;
    if (t->disk && (b = disk_get(t->disk, key, meta, stop, arg)))
        return b;
    if (t->shared && (b = shared_get(t->shared, key, meta, corrupt, stop, arg)) && t->disk)
        disk_put(t->disk, key, b, meta);        /* up a tier on its way */
    return b;
}

int tiers_lease(struct tiers *t, const char *key, int (*stop)(void *), void *arg)
{
    return t->shared ? shared_lease(t->shared, key, stop, arg) : 1;
}

void tiers_put(struct tiers *t, const char *key, struct blob *b, const struct cache_meta *meta)
{
    if (t->disk)
        disk_put(t->disk, key, b, meta);
    if (t->shared)
        shared_put(t->shared, key, b, meta);
}

void tiers_stats(struct tiers *t, struct tiers_stats *out)
{
    *out = (struct tiers_stats){0};
    if (t->disk) {
        disk_stats(t->disk, &out->disk);
        out->has_disk = 1;
    }
    if (t->shared) {
        shared_stats(t->shared, &out->shared);
        out->has_shared = 1;
    }
}

struct blob *tiers_get_local(struct tiers *t, const char *key, struct cache_meta *meta,
                             int (*stop)(void *), void *arg)
{
    return t->disk ? disk_get(t->disk, key, meta, stop, arg) : NULL;
}

void tiers_put_local(struct tiers *t, const char *key, struct blob *b,
                     const struct cache_meta *meta)
{
    if (t->disk)
        disk_put(t->disk, key, b, meta);
}

int tiers_shared(const struct tiers *t)
{
    return t->shared != NULL;
}
