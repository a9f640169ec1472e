/*
 * Listing batches (batch.h): the decoder's list of them, noting the frames
 * served so they start, and their work: runs that decode the claimed entries
 * a GOP at a time, and the encodes the runs hand to the other workers.
 * batch.c is the bookkeeping; this is the doing.
 *
 * Locking: d->batch_lock protects the list (batch_resolve()'s callback runs
 * under it and under the batch's own lock); neither is held while decoding
 * or encoding.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batch.h"
#include "decoder.h"
#include "image/image.h"
#include "jobs.h"
#include "media/media.h"
#include "pool.h"

/* batch_resolve()'s callback: the entry's frame, GOP and plan in v. */
static void resolve_entry(void *arg, struct batch_entry *e)
{
    const struct video *v = arg;
    struct frame_result scratch;
    struct output_source src = video_source(v);
    ptrdiff_t f = resolve_request(v, &e->req, &scratch);

    e->frame = f == SELECT_NONE ? BATCH_NONE : (size_t)f;
    e->gop = f == SELECT_NONE ? 0 : index_seek_packet(&v->index, (size_t)f);
    output_plan_make(&e->req.out, &src, &e->plan);
}

static void run_batch(void *arg, int shutting_down);

/* Start a run of b on v in `slot` (batch_note()/batch_done() asked for it). */
static void start_run(struct decoder *d, struct batch *b, struct video *v, int slot)
{
    struct job *j = calloc(1, sizeof(*j));

    if (!j) {
        batch_run_end(b, slot);
        return;
    }
    *j = (struct job){.d = d, .fd = -1, .run = run_batch, .batch = batch_ref(b),
                      .video = video_ref(v), .slot = slot};
    if (pool_submit(d->pool, run_batch, j) < 0) {
        batch_run_end(b, slot);
        job_free(j);
    }
}

/* Frame f of v, made as plan, was served: tell the batches of this path.
 * 1 when it was an entry of one (the batch reads ahead, not readahead.c). */
int note_batches(struct decoder *d, const char *path, struct video *v, size_t f,
                 const struct output_plan *plan, size_t bytes)
{
    uint64_t now = now_ms();
    int matched = 0;

    pthread_mutex_lock(&d->batch_lock);
    for (size_t i = 0; i < d->n_batches;) {
        struct batch *b = d->batches[i];
        int r;

        if (batch_finished(b, now)) {
            d->batches[i] = d->batches[--d->n_batches];
            batch_unref(b);
            continue;
        }
        i++;
        if (strcmp(batch_path(b), path) != 0)
            continue;
        batch_resolve(b, v, resolve_entry, v);
        r = batch_note(b, v, f, plan, bytes, now);
        matched |= r >= BATCH_NOTE_ENTRY;
        if (r >= BATCH_NOTE_RUN)
            start_run(d, b, v, r - BATCH_NOTE_RUN);
    }
    pthread_mutex_unlock(&d->batch_lock);
    return matched;
}

static int batch_should_stop(void *arg)
{
    struct job *j = arg;

    return atomic_load(&j->d->stopping) || batch_stopped(j->batch);
}

/* An image a run decoded, encoded on whichever worker is free. */
static void run_encode(void *arg, int shutting_down)
{
    struct job *j = arg;
    struct blob *b = NULL;
    struct encode_offload off;
    char err[256];
    int slot;

    encode_offload_of(j->d, &off);
    if (!shutting_down && !batch_should_stop(j))
        b = encode_image(&j->img, &j->plan, j->d->cfg.png_level, &off, err, sizeof(err));
    if (b) {
        b->tag = j->pts;
        b->width = j->img.width;
        b->height = j->img.height;
        lru_put(j->d->cache, j->key, b);
        if (j->d->tiers)
            offer_frame(j->d, j->video, j->frame, &j->plan, b);
        blob_unref(b);
    } else {
        lru_abandon(j->d->cache, j->key);
    }
    if ((slot = batch_done(j->batch, now_ms())) >= 0)
        start_run(j->d, j->batch, j->video, slot);
    job_free(j);
}

/* Decode and convert one claimed entry with *c (borrowed on first use), then
 * queue its encode.  The key is pending and ours. */
static void produce_entry(struct job *run, struct dec_ctx **c, const struct batch_entry *e,
                          const char *key)
{
    struct decoder *d = run->d;
    struct video *v = run->video;
    struct job *enc = NULL;
    struct output_plan plan;
    AVFrame *frame;
    char err[256];
    int ret = -1, slot;

    /* Runs side by side each decode on one thread: the runs are the
     * parallelism (frame threads on top: 7% more CPU, 6% more time for cp -r
     * every=0.5/ of the 720p bench file);
     * a run alone gets the frame threads. */
    int threads = batch_runs_active(run->batch) > 1 ? 1 : d->cfg.decode_threads;

    if (!batch_should_stop(run) &&
        (*c || (*c = borrow_ctx(d, v, e->frame, threads, batch_should_stop, run, err,
                                  sizeof(err)))) &&
        (enc = calloc(1, sizeof(*enc)))) {
        ctx_heading_to(d, *c, e->frame);
        if (dec_ctx_get(*c, e->frame, batch_should_stop, run, &frame, err, sizeof(err)) >= 0) {
            run->req = e->req;
            run->plan = e->plan;
            frame_plan(run, v, frame, &plan);
            ret = convert_frame(&(*c)->convert, frame, &plan, &v->color, plan.format == FORMAT_PNG,
                                &enc->img, err, sizeof(err));
            enc->pts = dec_frame_pts(frame);
        }
    }
    if (ret < 0) {
        lru_abandon(d->cache, key);
        free(enc);
        if ((slot = batch_done(run->batch, now_ms())) >= 0)
            start_run(d, run->batch, v, slot);
        return;
    }
    enc->d = d;
    enc->fd = -1;
    enc->run = run_encode;
    enc->batch = batch_ref(run->batch);
    enc->video = video_ref(v);
    enc->plan = plan;
    enc->frame = e->frame;
    snprintf(enc->key, sizeof(enc->key), "%s", key);
    if (pool_submit(d->pool, run_encode, enc) < 0)
        run_encode(enc, 1);
}

/* A run: claim the next entries (one GOP at a time), mark them pending so a
 * reader waits for them instead of decoding them again, decode in order. */
static void run_batch(void *arg, int shutting_down)
{
    struct job *j = arg;
    struct batch *b = j->batch;
    size_t max = batch_max_claim(b), first, n;
    struct batch_entry *claim = calloc(max, sizeof(*claim));
    char (*keys)[DECODER_KEY_MAX] = calloc(max, sizeof(*keys));
    unsigned char *ours = calloc(max, 1);
    struct dec_ctx *c = NULL;

    while (claim && keys && ours && !shutting_down && !batch_should_stop(j) &&
           (n = batch_claim(b, j->slot, now_ms(), &first, claim, max))) {
        for (size_t k = 0; k < n; k++) {
            struct blob *hit = NULL;

            frame_key(keys[k], j->video, claim[k].frame, &claim[k].plan);
            /* Produced already, or being produced by a reader: not ours. */
            ours[k] = lru_get(j->d->cache, keys[k], &hit, never_wait, NULL) == LRU_PRODUCE;
            blob_unref(hit);
            /* On disk or on another host already: taken, not decoded. */
            if (ours[k] && j->d->tiers &&
                (hit = tier_peek(j->d, j->video, claim[k].frame, &claim[k].plan,
                                 batch_should_stop, j))) {
                lru_put(j->d->cache, keys[k], hit);
                blob_unref(hit);
                ours[k] = 0;
            }
        }
        for (size_t k = 0; k < n; k++) {
            int slot;

            if (ours[k]) {
                produce_entry(j, &c, &claim[k], keys[k]);
            } else if ((slot = batch_done(b, now_ms())) >= 0) {
                start_run(j->d, b, j->video, slot);
            }
        }
    }
    if (c)
        return_ctx(j->d, c);
    batch_run_end(b, j->slot);
    free(claim);
    free(keys);
    free(ours);
    job_free(j);
}

struct decoder_batch *decoder_batch_new(struct decoder *d, const char *path,
                                        const struct frame_request *reqs, size_t n)
{
    struct batch *b = batch_new(path, reqs, n, d->cfg.workers, d->cfg.cache_bytes);
    struct batch **grown;

    if (!b)
        return NULL;
    pthread_mutex_lock(&d->batch_lock);
    if (d->n_batches == d->cap_batches) {
        size_t cap = d->cap_batches ? 2 * d->cap_batches : 8;

        if (!(grown = realloc(d->batches, cap * sizeof(*grown)))) {
            pthread_mutex_unlock(&d->batch_lock);
            batch_unref(b);
            return NULL;
        }
        d->batches = grown;
        d->cap_batches = cap;
    }
    d->batches[d->n_batches++] = batch_ref(b);
    pthread_mutex_unlock(&d->batch_lock);
    return (struct decoder_batch *)b;
}

void decoder_batch_release(struct decoder *d, struct decoder_batch *db)
{
    struct batch *b = (struct batch *)db;

    (void)d;
    if (!b)
        return;
    batch_release(b, now_ms());
    batch_unref(b);
}

void decoder_cancel_batches(struct decoder *d, const char *path)
{
    pthread_mutex_lock(&d->batch_lock);
    for (size_t i = 0; i < d->n_batches; i++)
        if (!path || strcmp(batch_path(d->batches[i]), path) == 0)
            batch_stop(d->batches[i]);
    pthread_mutex_unlock(&d->batch_lock);
}
