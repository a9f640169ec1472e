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
 * chunks (sRGB, cICP, mDCV, cLLI). */
#define ENCODE_VERSION 3

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
 * of PNG_SPLIT_BYTES or more coded by zrle is compressed as two halves
 * (zrle.h), the second on `off` when it has an idle worker. */
#define PNG_SPLIT_BYTES (1u << 20)
struct blob *encode_png(const struct image *img, int level, const struct encode_offload *off,
                        char *err, size_t errlen);
/* Baseline JPEG, 4:2:0, of 8-bit RGB (alpha is ignored); quality 1..100. */
struct blob *encode_jpeg(const struct image *img, int quality, char *err, size_t errlen);
/* P6, maxval 255 or (16 bits) 65535; alpha is dropped. */
struct blob *encode_ppm(const struct image *img, char *err, size_t errlen);

#endif
