/*
 * The frame cache's link to the tiers below it (cache/tiers.h: the disk,
 * then the hosts' memcached): the content-addressed key of a frame,
 * offering a frame made here, taking one an earlier mount or another host
 * made (waiting for it while that host holds the lease).  Keys name the
 * pipeline version (image/version.h), so a changed source or another
 * framefs never meets these values.  Frames go through here only with
 * -o cache_dir or -o shared_cache.
 *
 * Locking: none of its own (tiers.h's calls may come from any worker).
 * Blocking: offer_frame() only queues; tier_frame() waits for the disk and
 * memcached (DISK_WAIT_MS, SHARED_WAIT_MS a call) and, while another host
 * holds the lease, up to about a decode's time (100 ms to 3 s).
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "../cache/tiers.h"
#include "decoder.h"
#include "image/image.h"
#include "jobs.h"
#include "media/media.h"

/* The tier key of frame f of v made as plan: content-addressed, so equal
 * on every host that has the same bytes under any path, and naming the
 * pipeline, so a host with other libraries never serves other bytes. */
static int tier_frame_key(char *key, size_t len, const struct decoder *d,
                            const struct video *v, size_t f, const struct output_plan *plan)
{
    char spec[DECODER_KEY_MAX];

    if (!d->tiers || !v->content_id[0] ||
        frame_request_key(spec, sizeof(spec), "", v->index.frames[f].pts, plan) < 0)
        return -1;
    snprintf(key, len, "F:%s:%d:%s:%s", v->content_id, v->stream, spec,
             d->load_tiers.pipeline);
    return 0;
}

/* Offer a frame made here to the tiers below memory. */
void offer_frame(struct decoder *d, const struct video *v, size_t f,
                 const struct output_plan *plan, struct blob *b)
{
    char key[2 * DECODER_KEY_MAX];
    struct cache_meta meta = {b->tag, b->width, b->height};

    if (tier_frame_key(key, sizeof(key), d, v, f, plan) == 0)
        tiers_put(d->tiers, key, b, &meta);
}

/* Frame f of v made as plan, if a tier has it (one reference), else NULL:
 * one lookup, no waiting for another host's lease. */
struct blob *tier_peek(struct decoder *d, const struct video *v, size_t f,
                       const struct output_plan *plan, int (*stop)(void *), void *arg)
{
    char key[2 * DECODER_KEY_MAX];
    struct cache_meta meta;
    struct blob *b;

    if (tier_frame_key(key, sizeof(key), d, v, f, plan) < 0 ||
        !(b = tiers_get(d->tiers, key, &meta, NULL, stop, arg)))
        return NULL;
    b->tag = meta.tag;
    b->width = meta.width;
    b->height = meta.height;
    return b;
}

/*
 * A frame an earlier mount or another host may have made: its image from a
 * tier, or NULL (then this host makes it).  When another host holds the lease on it,
 * wait for its value up to about a decode's time, then give up on it.
 */
struct blob *tier_frame(struct job *j, const struct video *v, size_t f)
{
    struct decoder *d = j->d;
    char key[2 * DECODER_KEY_MAX];
    struct cache_meta meta;
    struct blob *b;
    int corrupt;
    long wait_ms;
    double until;

    if (tier_frame_key(key, sizeof(key), d, v, f, &j->plan) < 0)
        return NULL;
    /* A corrupt value will not mend itself: make it here, now. */
    if ((b = tiers_get(d->tiers, key, &meta, &corrupt, job_cancelled, j)) || corrupt ||
        job_cancelled(j) || tiers_lease(d->tiers, key, job_cancelled, j))
        goto found;
    wait_ms = atomic_load(&d->decode_ms) * 3 / 2;
    wait_ms = wait_ms < 100 ? 100 : wait_ms > 3000 ? 3000 : wait_ms;
    for (until = log_clock_ms() + (double)wait_ms; !b && log_clock_ms() < until;) {
        struct timespec nap = {0, 25 * 1000 * 1000};

        if (job_cancelled(j))
            break;
        nanosleep(&nap, NULL);
        if (!(b = tiers_get(d->tiers, key, &meta, &corrupt, job_cancelled, j)) && corrupt)
            break;
    }
found:
    if (b) {
        b->tag = meta.tag;
        b->width = meta.width;
        b->height = meta.height;
    }
    return b;
}

/* The tier key of v's scene scores: its content, stream, the score's
 * version and the pipeline (which names the byte order of the floats). */
static int tier_scenes_key(char *key, size_t len, const struct decoder *d,
                             const struct video *v)
{
    if (!d->tiers || !v->content_id[0])
        return -1;
    snprintf(key, len, "S:%s:%d:%d:%s", v->content_id, v->stream, SCENES_VERSION,
             d->load_tiers.pipeline);
    return 0;
}

int tier_scenes(struct job *j, struct video *v)
{
    char key[2 * DECODER_KEY_MAX];
    struct cache_meta meta;
    struct blob *b;
    int got = 0;

    if (tier_scenes_key(key, sizeof(key), j->d, v) < 0 ||
        !(b = tiers_get(j->d->tiers, key, &meta, NULL, job_cancelled, j)))
        return 0;
    if (b->size % sizeof(float) == 0 &&
        scenes_adopt(v, (const float *)(const void *)b->data, b->size / sizeof(float)) == 0)
        got = 1;
    blob_unref(b);
    return got;
}

void offer_scenes(struct decoder *d, struct video *v)
{
    char key[2 * DECODER_KEY_MAX];
    struct cache_meta meta = {0};
    const float *s = scenes_of(v);
    struct blob *b;

    if (!s || tier_scenes_key(key, sizeof(key), d, v) < 0 ||
        !(b = blob_from(s, v->index.n_frames * sizeof(float))))
        return;
    tiers_put(d->tiers, key, b, &meta);
    blob_unref(b);
}
