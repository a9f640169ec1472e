/*
 * The frame cache's link to the shared cache (cache/shared.c, memcached): the
 * content-addressed key of a frame, offering a frame made here, taking one
 * another host made (waiting for it while that host holds the lease).  Keys
 * name the pipeline version (image/version.h).  Frames go through here only with
 * -o shared_cache.
 *
 * Locking: none of its own (shared.h's calls may come from any worker).
 * Blocking: share_frame() only queues; shared_frame() waits for memcached
 * (SHARED_WAIT_MS a call) and, while another host holds the lease, up to
 * about a decode's time (100 ms to 3 s).
 */
#include <stdio.h>
#include <string.h>
#include <time.h>


#include "../cache/shared.h"
#include "decoder.h"
#include "image/image.h"
#include "jobs.h"
#include "media/media.h"

/* The shared key of frame f of v made as plan: content-addressed, so equal
 * on every host that has the same bytes under any path, and naming the
 * pipeline, so a host with other libraries never serves other bytes. */
static int shared_frame_key(char *key, size_t len, const struct decoder *d,
                            const struct video *v, size_t f, const struct output_plan *plan)
{
    char spec[DECODER_KEY_MAX];

    if (!d->shared || !v->content_id[0] ||
        frame_request_key(spec, sizeof(spec), "", v->index.frames[f].pts, plan) < 0)
        return -1;
    snprintf(key, len, "F:%s:%d:%s:%s", v->content_id, v->stream, spec,
             d->load_shared.pipeline);
    return 0;
}

/* Offer a frame made here to the other hosts. */
void share_frame(struct decoder *d, const struct video *v, size_t f,
                 const struct output_plan *plan, struct blob *b)
{
    char key[2 * DECODER_KEY_MAX];
    struct shared_meta meta = {b->tag, b->width, b->height};

    if (shared_frame_key(key, sizeof(key), d, v, f, plan) == 0)
        shared_put(d->shared, key, b, &meta);
}

/*
 * A frame another host may have made: its image from the shared cache, or
 * NULL (then this host makes it).  When another host holds the lease on it,
 * wait for its value up to about a decode's time, then give up on it.
 */
struct blob *shared_frame(struct job *j, const struct video *v, size_t f)
{
    struct decoder *d = j->d;
    char key[2 * DECODER_KEY_MAX];
    struct shared_meta meta;
    struct blob *b;
    int corrupt;
    long wait_ms;
    double until;

    if (shared_frame_key(key, sizeof(key), d, v, f, &j->plan) < 0)
        return NULL;
    /* A corrupt value will not mend itself: make it here, now. */
    if ((b = shared_get(d->shared, key, &meta, &corrupt, job_cancelled, j)) || corrupt ||
        job_cancelled(j) || shared_lease(d->shared, key, job_cancelled, j))
        goto found;
    wait_ms = atomic_load(&d->decode_ms) * 3 / 2;
    wait_ms = wait_ms < 100 ? 100 : wait_ms > 3000 ? 3000 : wait_ms;
    for (until = log_clock_ms() + (double)wait_ms; !b && log_clock_ms() < until;) {
        struct timespec nap = {0, 25 * 1000 * 1000};

        if (job_cancelled(j))
            break;
        nanosleep(&nap, NULL);
        if (!(b = shared_get(d->shared, key, &meta, &corrupt, job_cancelled, j)) && corrupt)
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

/* The shared key of v's scene scores: its content, stream, the score's
 * version and the pipeline (which names the byte order of the floats). */
static int shared_scenes_key(char *key, size_t len, const struct decoder *d,
                             const struct video *v)
{
    if (!d->shared || !v->content_id[0])
        return -1;
    snprintf(key, len, "S:%s:%d:%d:%s", v->content_id, v->stream, SCENES_VERSION,
             d->load_shared.pipeline);
    return 0;
}

int shared_scenes(struct job *j, struct video *v)
{
    char key[2 * DECODER_KEY_MAX];
    struct shared_meta meta;
    struct blob *b;
    int got = 0;

    if (shared_scenes_key(key, sizeof(key), j->d, v) < 0 ||
        !(b = shared_get(j->d->shared, key, &meta, NULL, job_cancelled, j)))
        return 0;
    if (b->size % sizeof(float) == 0 &&
        scenes_adopt(v, (const float *)(const void *)b->data, b->size / sizeof(float)) == 0)
        got = 1;
    blob_unref(b);
    return got;
}

void share_scenes(struct decoder *d, struct video *v)
{
    char key[2 * DECODER_KEY_MAX];
    struct shared_meta meta = {0};
    const float *s = scenes_of(v);
    struct blob *b;

    if (!s || shared_scenes_key(key, sizeof(key), d, v) < 0 ||
        !(b = blob_from(s, v->index.n_frames * sizeof(float))))
        return;
    shared_put(d->shared, key, b, &meta);
    blob_unref(b);
}
