/*
 * decoder/batch — listing-order production bookkeeping (batch.h).
 *
 * `pos` is the entry after the reader's last; `next` the first entry not
 * yet claimed.  A run's claim is the longest stretch of unclaimed entries
 * of its GOP, in listing order, inside the window and the in-flight bound;
 * a new run takes the first GOP no other run is decoding.  A GOP another
 * run is decoding is left to that run, which continues it without seeking.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "batch.h"

#define MAX_RUNS 8
#define MAX_WINDOW 512

struct batch {
    atomic_int refs;
    pthread_mutex_t mu;
    char *path;
    struct batch_entry *e;
    size_t n;
    const void *video;           /* resolved for; NULL: not yet */
    int started, stopped, released;
    size_t pos, next;            /* next: the first entry not claimed */
    unsigned char *claimed;      /* per entry */
    size_t in_flight, max_in_flight;
    size_t window, min_window;
    size_t cache_quarter;
    int max_runs;
    size_t run_gop[MAX_RUNS];    /* the GOP each run is in; BATCH_NONE: free slot */
    int run_active[MAX_RUNS];
    uint64_t last_ms;            /* the reader's last entry, or the release */
};

struct batch *batch_new(const char *path, const struct frame_request *reqs, size_t n,
                        int workers, size_t cache_bytes)
{
    struct batch *b = calloc(1, sizeof(*b));

    if (!b || !(b->path = strdup(path)) || !(b->e = calloc(n ? n : 1, sizeof(*b->e))) ||
        !(b->claimed = calloc(n ? n : 1, 1))) {
        if (b) {
            free(b->path);
            free(b->e);
        }
        free(b);
        return NULL;
    }
    atomic_init(&b->refs, 1);
    pthread_mutex_init(&b->mu, NULL);
    for (size_t i = 0; i < n; i++)
        b->e[i] = (struct batch_entry){.req = reqs[i], .frame = BATCH_NONE};
    b->n = n;
    b->max_in_flight = 2 * (size_t)(workers > 0 ? workers : 1);
    b->min_window = b->window = b->max_in_flight;
    b->cache_quarter = cache_bytes / 4;
    b->max_runs = workers > 1 ? workers : 1;
    if (b->max_runs > MAX_RUNS)
        b->max_runs = MAX_RUNS;
    return b;
}

struct batch *batch_ref(struct batch *b)
{
    atomic_fetch_add(&b->refs, 1);
    return b;
}

void batch_unref(struct batch *b)
{
    if (!b || atomic_fetch_sub(&b->refs, 1) != 1)
        return;
    pthread_mutex_destroy(&b->mu);
    free(b->claimed);
    free(b->e);
    free(b->path);
    free(b);
}

const char *batch_path(const struct batch *b)
{
    return b->path;
}

size_t batch_max_claim(const struct batch *b)
{
    return b->max_in_flight;
}

void batch_resolve(struct batch *b, const void *video,
                   void (*resolve)(void *arg, struct batch_entry *e), void *arg)
{
    pthread_mutex_lock(&b->mu);
    if (b->video != video) {
        for (size_t i = 0; i < b->n; i++)
            resolve(arg, &b->e[i]);
        b->video = video;
        b->started = 0;
        b->pos = b->next = 0;
        memset(b->claimed, 0, b->n);
    }
    pthread_mutex_unlock(&b->mu);
}

static int same_plan(const struct output_plan *a, const struct output_plan *b)
{
    return memcmp(a, b, sizeof(*a)) == 0;
}

/* The entry for (frame, plan) nearest after the reader, or BATCH_NONE. */
static size_t find_entry(const struct batch *b, size_t frame, const struct output_plan *plan)
{
    size_t start = b->pos ? b->pos - 1 : 0;

    for (size_t k = 0; k < b->n; k++) {
        size_t i = (start + k) % b->n;

        if (b->e[i].frame == frame && same_plan(&b->e[i].plan, plan))
            return i;
    }
    return BATCH_NONE;
}

static int reader_idle(const struct batch *b, uint64_t now_ms)
{
    return now_ms > b->last_ms + BATCH_IDLE_MS;
}

static int gop_busy(const struct batch *b, size_t gop, int slot)
{
    for (int s = 0; s < b->max_runs; s++)
        if (s != slot && b->run_active[s] && b->run_gop[s] == gop)
            return 1;
    return 0;
}

/* The first entry run `slot` may claim now, or BATCH_NONE: unclaimed, with a
 * frame, inside the window, in `own` (the GOP the run decodes; BATCH_NONE
 * for a new run: then any GOP no other run is decoding, a later one when
 * the next is busy, so that runs decode GOPs side by side).  A run never
 * moves on to another GOP: its decoder would seek and decode that GOP's
 * start again, which the run there already did. */
static size_t claimable(struct batch *b, int slot, size_t own, uint64_t now_ms)
{
    while (b->next < b->n && (b->e[b->next].frame == BATCH_NONE || b->claimed[b->next]))
        b->next++;
    if (!b->started || b->stopped || reader_idle(b, now_ms) || b->in_flight >= b->max_in_flight)
        return BATCH_NONE;
    for (size_t i = b->next; i < b->n && i < b->pos + b->window; i++)
        if (!b->claimed[i] && b->e[i].frame != BATCH_NONE &&
            (own != BATCH_NONE ? b->e[i].gop == own : !gop_busy(b, b->e[i].gop, slot)))
            return i;
    return BATCH_NONE;
}

/* A free slot for a new run when one may claim now, else -1.  Under mu. */
static int start_run(struct batch *b, uint64_t now_ms)
{
    int free_slot = -1;

    for (int s = 0; s < b->max_runs; s++) {
        if (!b->run_active[s] && free_slot < 0)
            free_slot = s;
    }
    if (free_slot < 0 || claimable(b, free_slot, BATCH_NONE, now_ms) == BATCH_NONE)
        return -1;
    b->run_active[free_slot] = 1;
    b->run_gop[free_slot] = BATCH_NONE;
    return free_slot;
}

int batch_note(struct batch *b, const void *video, size_t frame, const struct output_plan *plan,
               size_t image_bytes, uint64_t now_ms)
{
    int ret = BATCH_NOTE_OTHER, slot;
    size_t i;

    pthread_mutex_lock(&b->mu);
    if (b->video == video && !b->stopped && (i = find_entry(b, frame, plan)) != BATCH_NONE) {
        ret = BATCH_NOTE_ENTRY;
        b->started = 1;
        b->pos = i + 1;
        if (b->next < b->pos)
            b->next = b->pos;
        b->last_ms = now_ms;
        if (image_bytes) {
            size_t w = b->cache_quarter / image_bytes;

            b->window = w < b->min_window ? b->min_window : w > MAX_WINDOW ? MAX_WINDOW : w;
        }
        if ((slot = start_run(b, now_ms)) >= 0)
            ret = BATCH_NOTE_RUN + slot;
    }
    pthread_mutex_unlock(&b->mu);
    return ret;
}

size_t batch_claim(struct batch *b, int slot, uint64_t now_ms, size_t *first,
                   struct batch_entry *out, size_t max)
{
    size_t n = 0, i;

    pthread_mutex_lock(&b->mu);
    if ((i = claimable(b, slot, b->run_gop[slot], now_ms)) != BATCH_NONE) {
        size_t gop = b->e[i].gop;

        *first = i;
        b->run_gop[slot] = gop;
        for (; n < max && i < b->n && i < b->pos + b->window &&
               b->in_flight < b->max_in_flight && b->e[i].gop == gop; i++) {
            if (b->e[i].frame != BATCH_NONE && !b->claimed[i]) {
                out[n++] = b->e[i];
                b->claimed[i] = 1;
                b->in_flight++;
            }
        }
    }
    pthread_mutex_unlock(&b->mu);
    return n;
}

int batch_done(struct batch *b, uint64_t now_ms)
{
    int slot;

    pthread_mutex_lock(&b->mu);
    if (b->in_flight)
        b->in_flight--;
    slot = start_run(b, now_ms);
    pthread_mutex_unlock(&b->mu);
    return slot;
}

int batch_runs_active(struct batch *b)
{
    int runs = 0;

    pthread_mutex_lock(&b->mu);
    for (int s = 0; s < b->max_runs; s++)
        runs += b->run_active[s];
    pthread_mutex_unlock(&b->mu);
    return runs;
}

void batch_run_end(struct batch *b, int slot)
{
    pthread_mutex_lock(&b->mu);
    if (slot >= 0 && slot < MAX_RUNS)
        b->run_active[slot] = 0;
    pthread_mutex_unlock(&b->mu);
}

void batch_stop(struct batch *b)
{
    pthread_mutex_lock(&b->mu);
    b->stopped = 1;
    pthread_mutex_unlock(&b->mu);
}

int batch_stopped(struct batch *b)
{
    int s;

    pthread_mutex_lock(&b->mu);
    s = b->stopped;
    pthread_mutex_unlock(&b->mu);
    return s;
}

void batch_release(struct batch *b, uint64_t now_ms)
{
    pthread_mutex_lock(&b->mu);
    b->released = 1;
    if (b->last_ms < now_ms)
        b->last_ms = now_ms;
    pthread_mutex_unlock(&b->mu);
}

int batch_finished(struct batch *b, uint64_t now_ms)
{
    int done, runs = 0;

    pthread_mutex_lock(&b->mu);
    for (int s = 0; s < b->max_runs; s++)
        runs += b->run_active[s];
    done = (b->stopped || b->released) && !b->in_flight && !runs &&
           (b->stopped || reader_idle(b, now_ms));
    pthread_mutex_unlock(&b->mu);
    return done;
}
