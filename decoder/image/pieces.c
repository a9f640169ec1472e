/*
 * A zrle stream in pieces (pieces.h): claims by compare-and-swap on `next`,
 * completions counted under the lock, which the waits sleep on.
 */
#include "pieces.h"

size_t pieces_count(size_t n)
{
    return (n + PNG_PIECE - 1) / PNG_PIECE;
}

size_t pieces_slot(void)
{
    return zrle_piece_bound(PNG_PIECE) + 2;   /* + the first's zlib header */
}

void pieces_init(struct pieces *p, const uint8_t *in, size_t n, uint8_t *out, size_t *size,
                 size_t ready)
{
    p->in = in;
    p->n = n;
    p->count = pieces_count(n);
    p->slot = pieces_slot();
    p->out = out;
    p->size = size;
    atomic_init(&p->ready, ready);
    atomic_init(&p->next, 0);
    atomic_init(&p->stop, 0);
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->cond, NULL);
    p->done = 0;
}

void pieces_destroy(struct pieces *p)
{
    pthread_mutex_destroy(&p->lock);
    pthread_cond_destroy(&p->cond);
}

/* Piece k is unclaimed and its input ready (the last piece's checksum
 * covers all of in). */
static int piece_ready(struct pieces *p, size_t k)
{
    size_t end = (k + 1) * PNG_PIECE < p->n ? (k + 1) * PNG_PIECE : p->n;

    return k < p->count && !atomic_load(&p->stop) && end <= atomic_load(&p->ready);
}

int pieces_run_one(struct pieces *p, uint16_t *tokens)
{
    for (;;) {
        size_t k = atomic_load(&p->next);
        size_t end = (k + 1) * PNG_PIECE < p->n ? (k + 1) * PNG_PIECE : p->n;

        if (k >= p->count || atomic_load(&p->stop))
            return -1;
        if (!piece_ready(p, k))
            return 0;
        if (!atomic_compare_exchange_weak(&p->next, &k, k + 1))
            continue;
        p->size[k] = zrle_piece(p->in, k * PNG_PIECE, end, p->n, p->out + k * p->slot, p->slot,
                                tokens);
        pthread_mutex_lock(&p->lock);
        p->done++;
        pthread_cond_broadcast(&p->cond);
        pthread_mutex_unlock(&p->lock);
        return 1;
    }
}

void pieces_run(struct pieces *p, uint16_t *tokens)
{
    while (pieces_run_one(p, tokens) == 1)
        ;
}

void pieces_ready(struct pieces *p, size_t ready)
{
    atomic_store(&p->ready, ready);
    pthread_mutex_lock(&p->lock);
    pthread_cond_broadcast(&p->cond);
    pthread_mutex_unlock(&p->lock);
}

int pieces_share(struct pieces *p, uint16_t *tokens)
{
    int ok = 1;

    for (;;) {
        pieces_run(p, tokens);
        pthread_mutex_lock(&p->lock);
        if (p->done == p->count) {
            pthread_mutex_unlock(&p->lock);
            break;
        }
        if (!piece_ready(p, atomic_load(&p->next)))
            pthread_cond_wait(&p->cond, &p->lock);
        pthread_mutex_unlock(&p->lock);
    }
    for (size_t k = 0; k < p->count; k++)
        ok &= p->size[k] != 0;
    return ok;
}

int pieces_wait(struct pieces *p)
{
    int ok = 1;

    pthread_mutex_lock(&p->lock);
    while (p->done < atomic_load(&p->next))
        pthread_cond_wait(&p->cond, &p->lock);
    pthread_mutex_unlock(&p->lock);
    if (atomic_load(&p->next) < p->count)
        return 0;
    for (size_t k = 0; k < p->count; k++)
        ok &= p->size[k] != 0;
    return ok;
}

void pieces_wait_ready(struct pieces *p, size_t ready)
{
    pthread_mutex_lock(&p->lock);
    while (atomic_load(&p->ready) < ready)
        pthread_cond_wait(&p->cond, &p->lock);
    pthread_mutex_unlock(&p->lock);
}

void pieces_stop(struct pieces *p)
{
    atomic_store(&p->stop, 1);
    pieces_wait(p);
}
