/*
 * decoder/image/encode — RGB(A) pixels -> image file bytes in memory: PNG (libpng
 * and libdeflate), JPEG (libturbojpeg) and binary PPM.  Each encoder is a pure
 * function of its inputs (same pixels and settings, same bytes) and
 * thread-safe; none opens anything.
 */
#ifndef FRAMEFS_ENCODE_H
#define FRAMEFS_ENCODE_H

#include "../../cache/cache.h"
#include "convert.h"
#include "plan.h"

/* Bumped whenever the same pixels and settings come out as other bytes
 * (the shared cache's keys carry it: hosts of two versions never swap
 * values).  2: PNG filter and coder chosen on a sample, zrle; 3: color
 * chunks (sRGB, cICP, mDCV, cLLI); 4: a large zrle image in pieces of
 * 256 KiB (png_progress). */
#define ENCODE_VERSION 4

/*
 * Where an encoder may run an independent piece of its work while it does
 * the rest: run(ctx, fn, arg) returns 1 when fn(arg, 0) will run at once on
 * another thread (an idle worker: pool_submit_idle()), 0 when the caller
 * must run it itself.  The bytes never depend on which.  NULL: all on the
 * caller's thread.
 */
struct encode_offload {
    int (*run)(void *ctx, void (*fn)(void *arg, int unused), void *arg);
    void *ctx;
};

/* The image in plan's format (depth and quality from the plan too).  A new
 * blob, or NULL with err set. */
struct blob *encode_image(const struct image *img, const struct output_plan *plan,
                          int png_level, const struct encode_offload *off, char *err,
                          size_t errlen);

/* PNG at zlib level 0..9; 8 or 16 bits per sample, RGB or RGBA.  An image
 * of PNG_SPLIT_BYTES or more coded by zrle is compressed in pieces of
 * 256 KiB (zrle.h), shared with an idle worker of `off` when it has one. */
#define PNG_SPLIT_BYTES (1u << 20)
struct blob *encode_png(const struct image *img, int level, const struct encode_offload *off,
                        char *err, size_t errlen);
/*
 * A PNG encoded while its image is being filled, top to bottom (a frame
 * converted band by band as it decodes), with encode_png()'s bytes:
 *   png_progress_start(img, level): img's size and depth are set and its
 *     pixels allocated; NULL when this image would gain nothing (not level
 *     1, 16 bits, under PNG_SPLIT_BYTES) or out of memory;
 *   png_progress_rows(p, rows): rows 0..rows-1 of img are final; filters
 *     them (the filler's thread);
 *   png_progress_piece(p, finisher): compresses the next piece of the
 *     rows filtered, if they hold it, on the filler's thread or (finisher
 *     1) the finisher's: 1 when it did, 0 when the rows do not hold it yet,
 *     -1 when no piece is left;
 *   png_progress_finish(p, off, err): every row is in; makes the file, with
 *     the filler still making pieces if it does (the choice of filter and coder
 *     is encode_png()'s: when the rows were filtered another way, this
 *     encodes img afresh).  A new blob, or NULL with err set;
 *   png_progress_free(p): once neither thread is in a call on it.
 * One filler thread, one finisher thread; img outlives p.
 */
struct png_progress;
struct png_progress *png_progress_start(const struct image *img, int level);
void png_progress_rows(struct png_progress *p, int rows);
int png_progress_piece(struct png_progress *p, int finisher);
struct blob *png_progress_finish(struct png_progress *p, const struct encode_offload *off,
                                 char *err, size_t errlen);
void png_progress_free(struct png_progress *p);

/* Baseline JPEG, 4:2:0, of 8-bit RGB (alpha is ignored); quality 1..100. */
struct blob *encode_jpeg(const struct image *img, int quality, char *err, size_t errlen);
/* P6, maxval 255 or (16 bits) 65535; alpha is dropped. */
struct blob *encode_ppm(const struct image *img, char *err, size_t errlen);

#endif
