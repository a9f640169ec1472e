/*
 * PNG encoding into a growing memory buffer.  libpng writes the signature,
 * IHDR and IEND; the image data is filtered here (one filter for every row)
 * and compressed in one call by libdeflate, about twice as fast as zlib at
 * the same level and smaller (issue 9's measurements; scripts/bench), then
 * written as IDAT chunks through png_write_chunk().  libpng reports errors by
 * longjmp; everything that must be freed after one lives in `struct sink`,
 * `struct work` or is volatile-safe.
 */
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libdeflate.h>
#include <png.h>

#include "encode.h"

#define IDAT_CHUNK (1u << 30)   /* well under PNG's 2^31 - 1 chunk limit */

struct sink {
    unsigned char *data;
    size_t size, cap;
    int failed;
};

/* What the encoder allocates besides the sink: freed after a longjmp too. */
struct work {
    uint8_t *filtered, *packed;
    struct libdeflate_compressor *z;
};

static void sink_write(png_structp png, png_bytep bytes, png_size_t len)
{
    struct sink *s = png_get_io_ptr(png);

    if (s->failed)
        return;
    if (s->size + len > s->cap) {
        size_t cap = s->cap ? s->cap : 64 * 1024;
        unsigned char *p;

        while (cap < s->size + len)
            cap *= 2;
        if (!(p = realloc(s->data, cap))) {
            s->failed = 1;
            png_error(png, "out of memory");
        }
        s->data = p;
        s->cap = cap;
    }
    memcpy(s->data + s->size, bytes, len);
    s->size += len;
}

static void sink_flush(png_structp png)
{
    (void)png;
}

static void on_warning(png_structp png, png_const_charp msg)
{
    (void)png;
    (void)msg;
}

/*
 * PNG's scanline filters on whole rows: each output row is the filter type
 * byte, then the row's bytes minus the prediction (mod 256).  bpp: bytes per
 * pixel.  NONE at level 0 (stored: filtering cannot help), else one filter
 * chosen by measurement (filter_for()).
 */
static void filter_rows(const struct image *img, int filter, uint8_t *out)
{
    size_t bpp = image_pixel_bytes(img);
    size_t row = (size_t)img->width * bpp;

    for (int y = 0; y < img->height; y++) {
        const uint8_t *cur = img->pixels + (size_t)y * img->stride;
        const uint8_t *up = y ? cur - img->stride : NULL;
        uint8_t *o = out + (size_t)y * (row + 1);

        *o++ = (uint8_t)filter;
        if (filter == PNG_FILTER_VALUE_SUB) {
            memcpy(o, cur, bpp < row ? bpp : row);
            for (size_t x = bpp; x < row; x++)
                o[x] = (uint8_t)(cur[x] - cur[x - bpp]);
        } else if (filter == PNG_FILTER_VALUE_UP && up) {
            for (size_t x = 0; x < row; x++)
                o[x] = (uint8_t)(cur[x] - up[x]);
        } else {
            memcpy(o, cur, row);       /* NONE, and UP on the first row */
        }
    }
}

static int filter_for(int level)
{
    return level == 0 ? PNG_FILTER_VALUE_NONE : PNG_FILTER_VALUE_UP;
}

/* Runs the libpng calls; returns 0, or -1 after a libpng error. */
static int write_png(png_structp png, png_infop info, const struct image *img,
                     int level, struct sink *s, struct work *w)
{
    size_t row = (size_t)img->width * image_pixel_bytes(img) + 1;
    size_t raw = row * (size_t)img->height, bound, packed;

    if (setjmp(png_jmpbuf(png)))
        return -1;
    png_set_write_fn(png, s, sink_write, sink_flush);
    png_set_IHDR(png, info, (png_uint_32)img->width, (png_uint_32)img->height,
                 img->depth == 16 ? 16 : 8,
                 img->channels == 4 ? PNG_COLOR_TYPE_RGB_ALPHA : PNG_COLOR_TYPE_RGB,
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_BASE, PNG_FILTER_TYPE_BASE);
    png_write_info(png, info);

    if (!(w->z = libdeflate_alloc_compressor(level)) || !(w->filtered = malloc(raw)))
        png_error(png, "out of memory");
    filter_rows(img, filter_for(level), w->filtered);
    bound = libdeflate_zlib_compress_bound(w->z, raw);
    if (!(w->packed = malloc(bound)))
        png_error(png, "out of memory");
    if (!(packed = libdeflate_zlib_compress(w->z, w->filtered, raw, w->packed, bound)))
        png_error(png, "compression failed");
    for (size_t off = 0; off < packed; off += IDAT_CHUNK)
        png_write_chunk(png, (png_const_bytep)"IDAT", w->packed + off,
                        packed - off < IDAT_CHUNK ? packed - off : IDAT_CHUNK);
    png_write_chunk(png, (png_const_bytep)"IEND", NULL, 0);
    return 0;
}

struct blob *encode_png(const struct image *img, int level, char *err, size_t errlen)
{
    struct sink s = {0};
    struct work w = {0};
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, on_warning);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    struct blob *b = NULL;

    if (info && write_png(png, info, img, level, &s, &w) == 0 && !s.failed) {
        b = blob_adopt(s.data, s.size);
        if (b)
            s.data = NULL;
    }
    if (!b)
        snprintf(err, errlen, "cannot encode PNG%s", s.failed ? ": out of memory" : "");
    png_destroy_write_struct(&png, info ? &info : NULL);
    libdeflate_free_compressor(w.z);
    free(w.filtered);
    free(w.packed);
    free(s.data);
    return b;
}
