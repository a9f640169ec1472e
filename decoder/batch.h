/*
 * decoder/batch — the frames a listing names, produced ahead of the reader in
 * listing order (AVAssetImageGenerator's generateCGImagesAsynchronously: one
 * list of times, results streamed back).
 *
 * A batch is registered when a directory is listed and produces nothing
 * until the reader is served one of its entries.  From then on, runs claim
 * the entries after the reader's, a GOP at a time: one forward decode per
 * GOP (no run ever enters a GOP another run is decoding, nor leaves its
 * own), the encodes handed to whichever worker is free.  A run takes the
 * first GOP after the reader's that no other run is decoding, so runs decode
 * GOPs side by side.  Bounds:
 *  - window: entries claimed ahead of the reader, at most a quarter of the
 *    cache at the size of the last image served (at least 2 x workers), so
 *    the batch never evicts its own output before it is read;
 *  - in flight: claimed but not yet produced (decoded images waiting for an
 *    encoder), at most 2 x workers;
 *  - runs: at most one per worker.
 * A batch claims nothing once the reader has been idle for BATCH_IDLE_MS, and
 * ends when stopped (cancel-all) or when its listing's handle was closed and
 * the reader went idle (`cp -r` closes a directory before copying it, so the
 * handle alone cannot decide).
 *
 * Bookkeeping only, no FFmpeg: batch_job.c resolves the entries against the
 * video and does the work.  Locking: one mutex inside; every call returns
 * promptly (batch_resolve() runs its callback under it, once per entry).
 * Refcounted: the decoder's list, the listing and every running job hold one.
 */
#ifndef FRAMEFS_BATCH_H
#define FRAMEFS_BATCH_H

#include <stddef.h>
#include <stdint.h>

#include "decoder.h"

#define BATCH_IDLE_MS 1000
#define BATCH_NONE ((size_t)-1)

struct batch_entry {
    struct frame_request req;
    /* Set by batch_resolve(): */
    size_t frame;                /* index frame, or BATCH_NONE (no such frame) */
    size_t gop;                  /* decode-order position of its seek keyframe */
    struct output_plan plan;
};

struct batch;

/* A batch of n requests (copied) of the video at `path`.  NULL on ENOMEM. */
struct batch *batch_new(const char *path, const struct frame_request *reqs, size_t n,
                        int workers, size_t cache_bytes);
struct batch *batch_ref(struct batch *b);
void batch_unref(struct batch *b);
const char *batch_path(const struct batch *b);

/* Resolve every entry against `video` (an identity, never dereferenced here)
 * with resolve(arg, entry), unless they already are for that video; a new
 * version resets the batch's progress. */
void batch_resolve(struct batch *b, const void *video,
                   void (*resolve)(void *arg, struct batch_entry *e), void *arg);

/*
 * The reader was served `frame` of `video`, made as `plan`, image_bytes long,
 * at now_ms.  When that is one of the batch's entries the batch (re)starts
 * after it.  Returns BATCH_NOTE_OTHER (not an entry of this batch),
 * BATCH_NOTE_ENTRY (an entry; no run to start), or BATCH_NOTE_RUN + slot: an
 * entry, and the caller must start a run in `slot` now (a job that calls
 * batch_claim() with the slot until it returns 0, then batch_run_end()).
 */
#define BATCH_NOTE_OTHER 0
#define BATCH_NOTE_ENTRY 1
#define BATCH_NOTE_RUN 2
int batch_note(struct batch *b, const void *video, size_t frame, const struct output_plan *plan,
               size_t image_bytes, uint64_t now_ms);

/* How many runs are active now. */
int batch_runs_active(struct batch *b);

/* Claim the next entries for run `slot`: [*first, *first + return), all in
 * one GOP, in listing order; 0 when nothing may be claimed now (then the run
 * ends with batch_run_end()).  *out receives the entries (at most max). */
size_t batch_claim(struct batch *b, int slot, uint64_t now_ms, size_t *first,
                   struct batch_entry *out, size_t max);

/* A claimed entry was produced, failed or skipped.  Returns -1, or the slot
 * of a run the caller must start now. */
int batch_done(struct batch *b, uint64_t now_ms);

/* Run `slot` ended (its claims are all done or given back by batch_done()). */
void batch_run_end(struct batch *b, int slot);

/* Cancel: nothing more is claimed, and batch_stopped() tells running
 * decodes to stop. */
void batch_stop(struct batch *b);
int batch_stopped(struct batch *b);

/* The listing's handle was closed at now_ms. */
void batch_release(struct batch *b, uint64_t now_ms);

/* May the decoder drop it?  Stopped or released, with nothing in flight, no
 * run, and the reader idle. */
int batch_finished(struct batch *b, uint64_t now_ms);

/* How many claims a run may take at once (its buffer size). */
size_t batch_max_claim(const struct batch *b);

#endif
