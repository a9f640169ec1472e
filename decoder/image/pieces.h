/*
 * decoder/image/pieces — a zrle stream (zrle.h) made in pieces of PNG_PIECE
 * bytes by whichever threads take them: each claims the next piece whose
 * input is ready and compresses it into its own slot of `out`.  The cuts
 * are fixed, so the bytes do not depend on who made which piece, nor when.
 * `ready` (the bytes of `in` that are final) only grows: a progressive
 * image (png_progress, encode.h) raises it as its rows come, a whole one
 * starts at n.
 *
 * The caller owns in, out and size; every function may be called from any
 * thread (the claim is atomic; lock guards `done` and the waits), each
 * thread with its own zrle tokens.  pieces_share(), pieces_wait(),
 * pieces_wait_ready() and pieces_stop() block until other threads' pieces
 * are made; the rest return promptly (but for the piece they make).
 */
#ifndef FRAMEFS_PIECES_H
#define FRAMEFS_PIECES_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "zrle.h"

#define PNG_PIECE (4u * ZRLE_BLOCK)

struct pieces {
    const uint8_t *in;
    size_t n, count, slot;
    uint8_t *out;                 /* count slots of `slot` bytes */
    size_t *size;                 /* per piece, once done; 0: it failed */
    atomic_size_t ready, next;    /* next: the first piece nobody claimed */
    atomic_int stop;              /* claim no more (the stream is not wanted) */
    pthread_mutex_t lock;
    pthread_cond_t cond;
    size_t done;                  /* pieces finished (under lock) */
};

/* How many pieces n bytes make, and the bytes of each one's slot in out. */
size_t pieces_count(size_t n);
size_t pieces_slot(void);

/* The pieces of in[0..n) into out (pieces_count(n) slots) and size, with
 * `ready` bytes of in final so far. */
void pieces_init(struct pieces *p, const uint8_t *in, size_t n, uint8_t *out, size_t *size,
                 size_t ready);
void pieces_destroy(struct pieces *p);

/* Make the next piece if its input is ready: 1 when made, 0 when it is
 * not ready yet, -1 when none is left (or stopped). */
int pieces_run_one(struct pieces *p, uint16_t *tokens);
/* Make pieces while one is ready and unclaimed. */
void pieces_run(struct pieces *p, uint16_t *tokens);
/* The first `ready` bytes of in are final (the filler's). */
void pieces_ready(struct pieces *p, size_t ready);
/* Wait until `ready` bytes of in are. */
void pieces_wait_ready(struct pieces *p, size_t ready);
/* Make pieces alongside whoever else does, as their input gets ready,
 * until all are made; 1 when every one was. */
int pieces_share(struct pieces *p, uint16_t *tokens);
/* Wait until every claimed piece is finished; 1 when all are, and made. */
int pieces_wait(struct pieces *p);
/* Claim no more and wait for those claimed: the stream is not wanted. */
void pieces_stop(struct pieces *p);

#endif
