/*
 * decoder/readahead — see readahead.h.  A few slots, one per recently read
 * video, recycled least recently used first.
 */
#include <pthread.h>
#include <stdlib.h>

#include "readahead.h"

#define SLOTS 16

struct reader {
    const void *video;          /* NULL: free */
    size_t last;                /* the last frame asked for */
    size_t queued_until;        /* frames up to here were queued ahead */
    uint64_t at_ms;             /* when the last frame was asked for */
    int sequential;
};

struct readahead {
    pthread_mutex_t lock;
    size_t max_frames, max_bytes;
    struct reader r[SLOTS];
};

struct readahead *readahead_new(int workers, size_t cache_bytes)
{
    struct readahead *ra = calloc(1, sizeof(*ra));

    if (!ra)
        return NULL;
    pthread_mutex_init(&ra->lock, NULL);
    ra->max_frames = workers > 0 ? 2 * (size_t)workers : 2;
    ra->max_bytes = cache_bytes / 4;
    return ra;
}

void readahead_free(struct readahead *ra)
{
    if (!ra)
        return;
    pthread_mutex_destroy(&ra->lock);
    free(ra);
}

/* The slot of `video`; with create, else a free or the least recently used
 * one, emptied (lock held). */
static struct reader *slot_of(struct readahead *ra, const void *video, int create)
{
    struct reader *pick = NULL;

    for (int i = 0; i < SLOTS; i++)
        if (ra->r[i].video == video)
            return &ra->r[i];
    if (!create)
        return NULL;
    for (int i = 0; i < SLOTS; i++) {
        struct reader *r = &ra->r[i];

        if (!r->video) {
            pick = r;
            break;
        }
        if (!pick || r->at_ms < pick->at_ms)
            pick = r;
    }
    *pick = (struct reader){.video = video};
    return pick;
}

size_t readahead_note(struct readahead *ra, const void *video, size_t f, size_t frame_bytes,
                      uint64_t now_ms, size_t *first)
{
    struct reader *r;
    size_t window, until, n = 0;

    pthread_mutex_lock(&ra->lock);
    r = slot_of(ra, video, 1);
    /* Sequential: the next frame, or the one after (a viewer skipping one). */
    r->sequential = r->at_ms && now_ms - r->at_ms < READAHEAD_IDLE_MS &&
                    f > r->last && f - r->last <= 2;
    if (!r->sequential || f > r->queued_until)
        r->queued_until = f;
    r->last = f;
    r->at_ms = now_ms;
    if (r->sequential) {
        window = ra->max_frames;
        if (frame_bytes && ra->max_bytes / frame_bytes < window)
            window = ra->max_bytes / frame_bytes;
        until = f + window;
        if (until > r->queued_until) {
            *first = r->queued_until + 1;
            n = until - r->queued_until;
            r->queued_until = until;
        }
    }
    pthread_mutex_unlock(&ra->lock);
    return n;
}

int readahead_wanted(struct readahead *ra, const void *video, size_t f, uint64_t now_ms)
{
    struct reader *r;
    int wanted;

    pthread_mutex_lock(&ra->lock);
    r = slot_of(ra, video, 0);
    wanted = r && r->sequential && now_ms - r->at_ms < READAHEAD_IDLE_MS &&
             f > r->last && f <= r->queued_until;
    pthread_mutex_unlock(&ra->lock);
    return wanted;
}

void readahead_forget(struct readahead *ra, const void *video)
{
    struct reader *r;

    pthread_mutex_lock(&ra->lock);
    if ((r = slot_of(ra, video, 0)))
        *r = (struct reader){0};
    pthread_mutex_unlock(&ra->lock);
}
