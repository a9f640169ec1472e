/*
 * decoder/media/scenes — how much each frame of a video differs from the one
 * shown before it: the scene-change score of FFmpeg's select filter
 * (`select='gt(scene,X)'`), computed on small grey frames (SCENES_WIDTH
 * wide) by one decoding pass over the whole stream.  A frame whose score
 * passes a threshold starts a new shot (fs/view.c makes the scenes/ view of
 * them).
 *
 * The score of frame i (presentation order) is, with mafd_i the mean
 * absolute difference of its pixels from frame i-1's (0..255):
 * min(mafd_i, |mafd_i - mafd_{i-1}|) / 100, clipped to [0, 1]: a cut is a
 * large difference that the frame before did not have; a fade spreads its
 * difference over many frames, each like the one before, and scores low.
 *
 * Ownership: the scores are the video's (struct video), set once; whoever
 * holds a reference to the video may read them once scenes_of() returned
 * them.  Locking: v->scenes_lock serializes the computation (a second
 * caller waits for the first).  Blocking: scenes_compute() decodes the
 * whole video (seconds to minutes); stop(arg) is polled between packets.
 */
#ifndef FRAMEFS_MEDIA_SCENES_H
#define FRAMEFS_MEDIA_SCENES_H

#include <stddef.h>
#include <stdint.h>

#include "video.h"

#define SCENES_WIDTH 160         /* the grey frames' width (height keeps the aspect) */
#define SCENES_VERSION 1         /* bumped when the score changes (shared keys) */

/* v's scores (v->index.n_frames floats), or NULL when not computed yet.
 * Never blocks (the pointer is set once, atomically). */
const float *scenes_of(const struct video *v);

/* Compute v's scores unless they are (then 0 at once): one decode, on
 * `threads` threads, from the first packet to the last.  0, AVERROR_EXIT
 * when stop said stop (nothing kept), or a negative AVERROR with err set. */
int scenes_compute(struct video *v, int threads, int (*stop)(void *), void *arg, char *err,
                   size_t errlen);

/* Adopt scores made elsewhere (the shared cache): n must be
 * v->index.n_frames; 0, or -1 (wrong size, v has its own already, or a
 * pass is making them now).  Never waits. */
int scenes_adopt(struct video *v, const float *scores, size_t n);

#endif
