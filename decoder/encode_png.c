/*
 * PNG encoding into a growing memory buffer.  libpng reports errors by
 * longjmp; everything that must be freed after one lives in `struct sink`
 * or is volatile-safe.
 */
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <png.h>

#include "encode_png.h"

struct sink {
    unsigned char *data;
    size_t size, cap;
    int failed;
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

/* Runs the libpng calls; returns 0, or -1 after a libpng error. */
static int write_png(png_structp png, png_infop info, const struct image *img,
                     int level, struct sink *s)
{
    if (setjmp(png_jmpbuf(png)))
        return -1;
    png_set_write_fn(png, s, sink_write, sink_flush);
    png_set_compression_level(png, level);
    /* Level 0 stores; no filter is then the fastest and smallest choice. */
    if (level <= 1)
        png_set_filter(png, PNG_FILTER_TYPE_BASE, level == 0 ? PNG_FILTER_NONE : PNG_FILTER_SUB);
    png_set_IHDR(png, info, (png_uint_32)img->width, (png_uint_32)img->height, 8,
                 img->channels == 4 ? PNG_COLOR_TYPE_RGB_ALPHA : PNG_COLOR_TYPE_RGB,
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_BASE, PNG_FILTER_TYPE_BASE);
    png_write_info(png, info);
    for (int y = 0; y < img->height; y++)
        png_write_row(png, img->pixels + (size_t)y * img->stride);
    png_write_end(png, info);
    return 0;
}

struct blob *encode_png(const struct image *img, int level, char *err, size_t errlen)
{
    struct sink s = {0};
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, on_warning);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    struct blob *b = NULL;

    if (info && write_png(png, info, img, level, &s) == 0 && !s.failed) {
        b = blob_adopt(s.data, s.size);
        if (b)
            s.data = NULL;
    }
    if (!b)
        snprintf(err, errlen, "cannot encode PNG%s", s.failed ? ": out of memory" : "");
    png_destroy_write_struct(&png, info ? &info : NULL);
    free(s.data);
    return b;
}
