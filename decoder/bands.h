/*
 * decoder/bands — a lone keyframe (tol=inf) converted and PNG-encoded band
 * by band while it decodes, on an idle worker: the decode of one H.264
 * keyframe runs on one core, and its PNG, half the request's time before,
 * then mostly runs on the other at the same time (README "tol=inf").
 *
 * The file is the one the frame's ordinary path makes (convert_frame(),
 * encode_png()): the rows converted are checked, once the frame is out, to
 * be its own (the same buffer, its pixels unchanged since their band, its
 * plan), else the caller takes the ordinary path.
 *
 * Ownership: struct bands is the caller's, from bands_start() to
 * bands_free(); it borrows the decoder context, its conversion state and
 * the plan until bands_end().  Locking: its own mutex, between the
 * decoder's thread (bands), the worker (conversion, encoding) and the
 * caller.  bands_end() and bands_png() wait for the worker; the rest
 * returns promptly.
 */
#ifndef FRAMEFS_BANDS_H
#define FRAMEFS_BANDS_H

#include <stddef.h>

#include "image/image.h"
#include "media/media.h"

struct bands;

/* Before dec_ctx_get(c, f): starts the worker and arms c's bands when it
 * can help (f decodes alone, the plan is a plain 8-bit PNG at level 1,
 * `off` has an idle worker); else NULL, and nothing changed. */
struct bands *bands_start(struct dec_ctx *c, size_t f, const struct output_plan *plan,
                          const struct video_color *vc, int png_level,
                          const struct encode_offload *off);

/* After dec_ctx_get(): frame is what it gave (NULL when it failed), plan
 * the plan made for it.  Disarms c; on return the worker is done with c
 * and its conversion state.  1 when every row converted is the frame's
 * own (then bands_png() makes its file), else 0. */
int bands_end(struct bands *b, const AVFrame *frame, const struct output_plan *plan);

/* The frame's PNG, after bands_end() said 1: a new blob (*width, *height:
 * its size), or NULL with err set. */
struct blob *bands_png(struct bands *b, const struct encode_offload *off, int *width,
                       int *height, char *err, size_t errlen);

/* Waits for the worker to leave, then frees; NULL is fine. */
void bands_free(struct bands *b);

#endif
