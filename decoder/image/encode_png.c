/*
 * PNG encoding into a memory buffer.  libpng writes the signature, IHDR and
 * IEND; the image data is filtered here (one filter for the whole image,
 * chosen by compressing sampled rows) and compressed by libdeflate, about
 * twice as fast as zlib at the same level and smaller (issue 9's
 * measurements; scripts/bench), or by zrle, a large image's in pieces that
 * two threads make (struct pieces), then written as IDAT chunks.  A PNG
 * can also be made while its rows come (png_progress, at the end).  libpng
 * reports errors by longjmp: only write_file() calls it, after the
 * compression, and what it must free lives in `struct sink`.
 *
 * Each thread keeps its compressors and its two work buffers (filtered rows,
 * compressed stream) between calls while they stay under SCRATCH_KEEP, so
 * a worker encoding frame after frame touches no fresh pages but the
 * result's: a fixed cost per worker, freed when the thread ends.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libdeflate.h>
#include <png.h>

#include "encode.h"
#include "pieces.h"
#include "zrle.h"

#define IDAT_CHUNK (1u << 30)   /* well under PNG's 2^31 - 1 chunk limit */

struct sink {
    unsigned char *data;
    size_t size, cap;
    int failed;
};

#define SCRATCH_KEEP (16u << 20)   /* a 1080p frame at 16 bits: 12.4 MB */

/* A thread's compressors and work buffers (see the top of the file). */
struct scratch {
    struct libdeflate_compressor *z[10];    /* by level */
    uint8_t *filtered, *packed, *tail;      /* tail: a split stream's second half */
    size_t filtered_cap, packed_cap, tail_cap;
    uint16_t *tokens, *tail_tokens;         /* ZRLE_BLOCK of them each */
    size_t *sizes, sizes_cap;               /* a large image's pieces' sizes */
    size_t single;                          /* a small image's stream's size */
};

static __thread struct scratch *tls_scratch;
static pthread_key_t scratch_key;
static pthread_once_t scratch_once = PTHREAD_ONCE_INIT;

static void scratch_free(void *arg)
{
    struct scratch *w = arg;

    if (!w)
        return;
    if (w == tls_scratch)
        tls_scratch = NULL;
    for (int i = 0; i < 10; i++)
        libdeflate_free_compressor(w->z[i]);
    free(w->filtered);
    free(w->packed);
    free(w->tail);
    free(w->tokens);
    free(w->tail_tokens);
    free(w->sizes);
    free(w);
}

static void scratch_key_create(void)
{
    /* Freed at the thread's end; the main thread's stays reachable. */
    if (pthread_key_create(&scratch_key, scratch_free) != 0)
        abort();
}

static struct scratch *scratch_get(void)
{
    if (!tls_scratch && (tls_scratch = calloc(1, sizeof(*tls_scratch)))) {
        pthread_once(&scratch_once, scratch_key_create);
        pthread_setspecific(scratch_key, tls_scratch);
    }
    return tls_scratch;
}

/* *buf holds at least n bytes (old contents not kept); 0 or -1. */
static int reserve(uint8_t **buf, size_t *cap, size_t n)
{
    if (*cap >= n)
        return 0;
    free(*buf);
    *cap = 0;
    if (!(*buf = malloc(n)))
        return -1;
    *cap = n;
    return 0;
}

/* Give back the buffers of an image too large to keep them for (the packed
 * buffer's bound is a little larger than the image: judged by the image). */
static void scratch_trim(struct scratch *w)
{
    if (w->filtered_cap > SCRATCH_KEEP) {
        free(w->filtered);
        free(w->packed);
        free(w->tail);
        w->filtered = w->packed = w->tail = NULL;
        w->filtered_cap = w->packed_cap = w->tail_cap = 0;
    }
}

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
 * PNG's scanline filters on rows y0 .. y0+n-1: each output row is the filter
 * type byte, then the row's bytes minus the prediction (mod 256).  bpp:
 * bytes per pixel.  Only NONE, SUB and UP (see choose_coding()).
 */
/* a - b in each of the 8 bytes, without borrows between them (SWAR). */
static inline uint64_t sub_bytes(uint64_t a, uint64_t b)
{
    const uint64_t high = 0x8080808080808080ull;

    return ((a | high) - (b & ~high)) ^ ((a ^ ~b) & high);
}

/* o[x] = cur[x] - prev[x] for x < n, 8 bytes at a time: prev is the row
 * above (UP) or cur - bpp (SUB); o is another buffer. */
static void subtract_bytes(uint8_t *o, const uint8_t *cur, const uint8_t *prev, size_t n)
{
    size_t x = 0;

    for (; x + 8 <= n; x += 8) {
        uint64_t a, b, d;

        memcpy(&a, cur + x, 8);
        memcpy(&b, prev + x, 8);
        d = sub_bytes(a, b);
        memcpy(o + x, &d, 8);
    }
    for (; x < n; x++)
        o[x] = (uint8_t)(cur[x] - prev[x]);
}

static void filter_rows(const struct image *img, int filter, int y0, int n, uint8_t *out)
{
    size_t bpp = image_pixel_bytes(img);
    size_t row = (size_t)img->width * bpp;

    for (int y = y0; y < y0 + n; y++) {
        const uint8_t *cur = img->pixels + (size_t)y * img->stride;
        uint8_t *o = out + (size_t)(y - y0) * (row + 1);

        *o++ = (uint8_t)filter;
        if (filter == PNG_FILTER_VALUE_SUB && row > bpp) {
            memcpy(o, cur, bpp);
            subtract_bytes(o + bpp, cur + bpp, cur, row - bpp);
        } else if (filter == PNG_FILTER_VALUE_UP && y > 0) {
            subtract_bytes(o, cur, cur - img->stride, row);
        } else {
            memcpy(o, cur, row);       /* NONE, and UP on the first row */
        }
    }
}

/* Work for an idle worker while this thread does its own part: run by
 * whichever thread gets it (side_start() runs it here when `off` has no
 * idle worker), waited for by side_wait() (its buffers are the caller's). */
struct side_job {
    void (*fn)(void *arg);
    void *arg;
    int done;
    pthread_mutex_t lock;
    pthread_cond_t cond;
};

static void run_side(void *arg, int unused)
{
    struct side_job *j = arg;

    (void)unused;
    j->fn(j->arg);
    pthread_mutex_lock(&j->lock);
    j->done = 1;
    pthread_cond_signal(&j->cond);
    pthread_mutex_unlock(&j->lock);
}

static void side_start(struct side_job *j, void (*fn)(void *), void *arg,
                       const struct encode_offload *off)
{
    j->fn = fn;
    j->arg = arg;
    j->done = 0;
    pthread_mutex_init(&j->lock, NULL);
    pthread_cond_init(&j->cond, NULL);
    if (!off || !off->run(off->ctx, run_side, j))
        run_side(j, 0);
}

static void side_wait(struct side_job *j)
{
    pthread_mutex_lock(&j->lock);
    while (!j->done)
        pthread_cond_wait(&j->cond, &j->lock);
    pthread_mutex_unlock(&j->lock);
    pthread_mutex_destroy(&j->lock);
    pthread_cond_destroy(&j->cond);
}

/* How the filtered rows become the zlib stream. */
enum coder { CODER_LZ, CODER_RLE };

/* The zlib stream of w->filtered[0..n) into w->packed; its size or 0. */
static size_t zlib_stream(struct scratch *w, struct libdeflate_compressor *z, enum coder coder,
                       size_t n)
{
    if (coder == CODER_RLE)
        return zrle_compress(w->filtered, n, w->packed, w->packed_cap, w->tokens);
    return libdeflate_zlib_compress(z, w->filtered, n, w->packed, w->packed_cap);
}

#define TRIAL_ROWS 8
#define TRIAL_EVERY 256

/* The LZ trials of choose_coding(), on another thread while zrle's run. */
struct lz_trials {
    struct libdeflate_compressor *z;
    const uint8_t *in;           /* count samples of n bytes, one after another */
    size_t n, cap, size[3];
    int count;
    uint8_t *out;
};

static void run_lz_trials(void *arg)
{
    struct lz_trials *t = arg;

    for (int i = 0; i < t->count; i++)
        t->size[i] = libdeflate_zlib_compress(t->z, t->in + (size_t)i * t->n, t->n, t->out, t->cap);
}

/* Rows y % TRIAL_EVERY < TRIAL_ROWS of img filtered by `filter` into out;
 * their byte count. */
static size_t filter_sample(const struct image *img, int filter, uint8_t *out)
{
    size_t row = (size_t)img->width * image_pixel_bytes(img) + 1, n = 0;

    for (int y = 0; y < img->height; y += TRIAL_EVERY) {
        int rows = img->height - y < TRIAL_ROWS ? img->height - y : TRIAL_ROWS;

        filter_rows(img, filter, y, rows, out + n);
        n += (size_t)rows * row;
    }
    return n;
}

/*
 * The filter and coder for the whole image: at level 0 NONE, stored; else
 * the pair among NONE, SUB and UP, with libdeflate (LZ) or, at level 1,
 * zrle, that makes a sample smallest: TRIAL_ROWS rows out of every
 * TRIAL_EVERY, about 3% of the image per pair (a fifth of one full
 * compression for the six).  Estimates do not predict
 * deflate: order-0 entropy misses the matches, and on a noisy decoded
 * keyframe UP has the lower entropy yet NONE compresses 4-5% smaller under
 * LZ (UP there would be larger than ffmpeg's unfiltered PNG).  Measured on
 * scripts/bench's frames, the sample chose the smallest pair every time:
 * zrle with UP on the decoded frames, keyframes included; LZ with UP on a
 * clean testsrc2 frame (12.0 KB, zrle 13.5 KB).  PAETH compresses 2% better than
 * UP there but filters 3x slower than the compression it saves.  The
 * choice depends on the pixels only: the bytes stay deterministic.  `w` has
 * room for the whole image.  A large image's LZ trials run on an idle
 * worker (`off`) while its zrle trials run here: the same sizes, so the
 * same choice, sooner.
 */
static void choose_coding(const struct image *img, int level, struct libdeflate_compressor *z,
                          struct scratch *w, const struct encode_offload *off, int *filter,
                          enum coder *coder)
{
    static const int filters[] = {PNG_FILTER_VALUE_NONE, PNG_FILTER_VALUE_SUB,
                                  PNG_FILTER_VALUE_UP};
    enum { N_FILTERS = sizeof(filters) / sizeof(filters[0]) };
    size_t size[N_FILTERS][2] = {{0}}, best = SIZE_MAX, n;
    int coders = level == 1 ? 2 : 1;

    *filter = PNG_FILTER_VALUE_NONE;
    *coder = CODER_LZ;
    if (level == 0)
        return;
    n = filter_sample(img, filters[0], w->filtered);
    if (coders == 2 && off && N_FILTERS * n <= w->filtered_cap &&
        w->tail && libdeflate_zlib_compress_bound(z, n) <= w->tail_cap) {
        /* The LZ trials on an idle worker, zrle's here: the same sizes as
         * one after the other, so the same choice. */
        struct lz_trials t = {.z = z, .in = w->filtered, .n = n, .cap = w->tail_cap,
                              .count = N_FILTERS, .out = w->tail};
        struct side_job side;

        for (int f = 1; f < N_FILTERS; f++)
            filter_sample(img, filters[f], w->filtered + (size_t)f * n);
        side_start(&side, run_lz_trials, &t, off);
        for (int f = 0; f < N_FILTERS; f++)
            size[f][CODER_RLE] = zrle_compress(w->filtered + (size_t)f * n, n, w->packed,
                                               w->packed_cap, w->tokens);
        side_wait(&side);
        for (int f = 0; f < N_FILTERS; f++)
            size[f][CODER_LZ] = t.size[f];
    } else {
        for (int f = 0; f < N_FILTERS; f++) {
            if (f)
                filter_sample(img, filters[f], w->filtered);
            for (int c = 0; c < coders; c++)
                size[f][c] = zlib_stream(w, z, (enum coder)c, n);
        }
    }
    for (int f = 0; f < N_FILTERS; f++)
        for (int c = 0; c < coders; c++)
            if (size[f][c] && size[f][c] < best) {
                best = size[f][c];
                *filter = filters[f];
                *coder = (enum coder)c;
            }
}

static void put16(uint8_t *p, unsigned v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
    put16(p, v >> 16);
    put16(p + 2, v & 0xffff);
}

/* A rational in units of 1/scale, rounded, clamped to [0, max]. */
static uint32_t units(AVRational q, double scale, uint32_t max)
{
    double v = q.den ? (double)q.num / q.den * scale + 0.5 : 0;

    return v <= 0 ? 0 : v >= max ? max : (uint32_t)v;
}

/* cd/m2 in units of 0.0001, clamped (Matroska's values are unbounded). */
static uint32_t nits(unsigned v)
{
    return v >= UINT32_MAX / 10000u ? UINT32_MAX : v * 10000u;
}

/*
 * What the pixels are, before the image data.  SDR: sRGB (rendering intent
 * perceptual), which every viewer honours and which shows the values as a
 * player shows video on an sRGB screen.  Kept HDR: the PNG Third Edition's
 * cICP (primaries, transfer, matrix 0 = RGB, full range), with mDCV and cLLI
 * (the Recommendation's names; drafts spelled them mDCv and cLLi) when the
 * source has that metadata.
 */
static void write_color_chunks(png_structp png, const struct image_color *c)
{
    uint8_t b[24];

    if (!c->cicp) {
        b[0] = 0;
        png_write_chunk(png, (png_const_bytep)"sRGB", b, 1);
        return;
    }
    b[0] = (uint8_t)c->primaries;
    b[1] = (uint8_t)c->transfer;
    b[2] = 0;
    b[3] = 1;
    png_write_chunk(png, (png_const_bytep)"cICP", b, 4);
    if (c->has_mastering) {
        /* Chromaticities in 0.00002, red, green, blue then white;
         * luminances in 0.0001 cd/m2. */
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 2; j++)
                put16(b + 4 * i + 2 * j, units(c->mastering.display_primaries[i][j], 50000, 65535));
        put16(b + 12, units(c->mastering.white_point[0], 50000, 65535));
        put16(b + 14, units(c->mastering.white_point[1], 50000, 65535));
        put32(b + 16, units(c->mastering.max_luminance, 10000, UINT32_MAX));
        put32(b + 20, units(c->mastering.min_luminance, 10000, UINT32_MAX));
        png_write_chunk(png, (png_const_bytep)"mDCV", b, 24);
    }
    if (c->has_light) {
        put32(b, nits(c->light.MaxCLL));
        put32(b + 4, nits(c->light.MaxFALL));
        png_write_chunk(png, (png_const_bytep)"cLLI", b, 8);
    }
}

struct pieces_job {
    struct pieces *p;
    uint16_t *tokens;
};

static void run_pieces(void *arg)
{
    struct pieces_job *j = arg;

    pieces_run(j->p, j->tokens);
}

/* The zlib stream of `total` bytes, pieces of size[k] bytes at base + k * slot, as
 * IDAT chunks of at most IDAT_CHUNK bytes straight into the sink, which has
 * room for them.  libpng's png_write_chunk() would compute the CRCs with
 * zlib's crc32: 1.1 ms for a noisy 1080p keyframe's 2.5 MB, libdeflate's
 * 0.15 ms (the same CRC). */
static void write_idats(struct sink *s, const uint8_t *base, size_t slot, const size_t *size,
                        size_t total)
{
    static const uint8_t type[4] = {'I', 'D', 'A', 'T'};
    size_t k = 0, at = 0;         /* the next byte: piece k, offset at */

    while (total > 0) {
        size_t chunk = total < IDAT_CHUNK ? total : IDAT_CHUNK, need = chunk;
        uint32_t crc = libdeflate_crc32(0, type, 4);

        put32(s->data + s->size, (uint32_t)chunk);
        memcpy(s->data + s->size + 4, type, 4);
        s->size += 8;
        while (need > 0) {
            const uint8_t *from = base + k * slot + at;
            size_t take = size[k] - at < need ? size[k] - at : need;

            memcpy(s->data + s->size, from, take);
            crc = libdeflate_crc32(crc, from, take);
            s->size += take;
            need -= take;
            if ((at += take) == size[k]) {
                k++;
                at = 0;
            }
        }
        put32(s->data + s->size, crc);
        s->size += 4;
        total -= chunk;
    }
}

/* The file around a compressed image (write_idats() says how it lies):
 * libpng's signature, IHDR and IEND, our color chunks and IDATs.  0, or -1
 * after a libpng error. */
static int write_file(png_structp png, png_infop info, const struct image *img,
                      const uint8_t *base, size_t slot, const size_t *size, size_t packed,
                      struct sink *s)
{
    size_t total;

    if (setjmp(png_jmpbuf(png)))
        return -1;
    png_set_write_fn(png, s, sink_write, sink_flush);
    png_set_IHDR(png, info, (png_uint_32)img->width, (png_uint_32)img->height,
                 img->depth == 16 ? 16 : 8,
                 img->channels == 4 ? PNG_COLOR_TYPE_RGB_ALPHA : PNG_COLOR_TYPE_RGB,
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_BASE, PNG_FILTER_TYPE_BASE);
    png_write_info(png, info);
    write_color_chunks(png, &img->color);
    /* The whole file in one allocation: the chunks' 12 bytes each, IEND. */
    total = s->size + packed + 12 * (packed / IDAT_CHUNK + 1) + 12;
    if (total > s->cap) {
        unsigned char *p = realloc(s->data, total);

        if (!p)
            png_error(png, "out of memory");
        s->data = p;
        s->cap = total;
    }
    write_idats(s, base, slot, size, packed);
    png_write_chunk(png, (png_const_bytep)"IEND", NULL, 0);
    return 0;
}

/* The zlib stream of a large zrle image's filtered rows, w->filtered[0..n),
 * in pieces in w->packed (w->sizes[k]): this thread and, when `off` has
 * one, an idle worker take them in turn.  0, or -1. */
static int compress_pieces(struct scratch *w, size_t n, const struct encode_offload *off)
{
    struct pieces p;
    struct pieces_job side_args;
    struct side_job side;
    int ok;

    pieces_init(&p, w->filtered, n, w->packed, w->sizes, n);
    side_args = (struct pieces_job){&p, w->tail_tokens};
    side_start(&side, run_pieces, &side_args, off);
    pieces_run(&p, w->tokens);
    side_wait(&side);
    ok = pieces_wait(&p);
    pieces_destroy(&p);
    return ok ? 0 : -1;
}

/* The buffers compress_image() needs for n filtered bytes at `level`. */
static int reserve_for(struct scratch *w, size_t n, int level)
{
    size_t bound, count = pieces_count(n);

    if (!w->z[level] && !(w->z[level] = libdeflate_alloc_compressor(level)))
        return -1;
    bound = libdeflate_zlib_compress_bound(w->z[level], n);
    if (zrle_bound(n) > bound)
        bound = zrle_bound(n);
    if (n >= PNG_SPLIT_BYTES && level == 1 && count * pieces_slot() > bound)
        bound = count * pieces_slot();
    if (reserve(&w->filtered, &w->filtered_cap, n) < 0 ||
        reserve(&w->packed, &w->packed_cap, bound) < 0 ||
        (!w->tokens && !(w->tokens = malloc(ZRLE_BLOCK * sizeof(*w->tokens)))))
        return -1;
    /* A large image is coded on two threads: the second's tokens, and the
     * LZ trials' output (the tail buffer); its pieces' sizes. */
    if (n >= PNG_SPLIT_BYTES && level == 1) {
        if (reserve(&w->tail, &w->tail_cap, libdeflate_zlib_compress_bound(w->z[level], n / 8)) < 0 ||
            (!w->tail_tokens && !(w->tail_tokens = malloc(ZRLE_BLOCK * sizeof(*w->tail_tokens)))))
            return -1;
        if (w->sizes_cap < count) {
            free(w->sizes);
            w->sizes_cap = 0;
            if (!(w->sizes = malloc(count * sizeof(*w->sizes))))
                return -1;
            w->sizes_cap = count;
        }
    }
    return 0;
}

/* img's zlib stream, as write_idats() lays it out (*base, *slot, *size,
 * *count: in w).  0, or -1. */
static int compress_image(const struct image *img, int level, const struct encode_offload *off,
                          struct scratch *w, const uint8_t **base, size_t *slot,
                          const size_t **size, size_t *count)
{
    size_t row = (size_t)img->width * image_pixel_bytes(img) + 1;
    size_t raw = row * (size_t)img->height;
    enum coder coder;
    int filter;

    if (reserve_for(w, raw, level) < 0)
        return -1;
    choose_coding(img, level, w->z[level], w, raw >= PNG_SPLIT_BYTES ? off : NULL, &filter,
                  &coder);
    filter_rows(img, filter, 0, img->height, w->filtered);
    *base = w->packed;
    if (coder == CODER_RLE && raw >= PNG_SPLIT_BYTES) {
        *slot = pieces_slot();
        *size = w->sizes;
        *count = pieces_count(raw);
        return compress_pieces(w, raw, off);
    }
    w->single = zlib_stream(w, w->z[level], coder, raw);
    *slot = 0;
    *size = &w->single;
    *count = 1;
    return w->single ? 0 : -1;
}

/* The file of img made of its compressed stream, as a new blob; NULL with
 * err set. */
static struct blob *png_blob(const struct image *img, const uint8_t *base, size_t slot,
                             const size_t *size, size_t count, char *err, size_t errlen)
{
    struct sink s = {0};
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, on_warning);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    struct blob *b = NULL;
    size_t packed = 0;

    for (size_t k = 0; k < count; k++)
        packed += size[k];
    if (info && write_file(png, info, img, base, slot, size, packed, &s) == 0 && !s.failed) {
        b = blob_adopt(s.data, s.size);
        if (b)
            s.data = NULL;
    }
    if (!b)
        snprintf(err, errlen, "cannot encode PNG%s", s.failed || !info ? ": out of memory" : "");
    png_destroy_write_struct(&png, info ? &info : NULL);
    free(s.data);
    return b;
}

struct blob *encode_png(const struct image *img, int level, const struct encode_offload *off,
                        char *err, size_t errlen)
{
    struct scratch *w = level >= 0 && level <= 9 ? scratch_get() : NULL;
    const uint8_t *base;
    const size_t *size;
    size_t slot, count;
    struct blob *b = NULL;

    if (!w || compress_image(img, level, off, w, &base, &slot, &size, &count) < 0)
        snprintf(err, errlen, "cannot encode PNG: %s", w ? "compression failed" : "out of memory");
    else
        b = png_blob(img, base, slot, size, count, err, errlen);
    if (w)
        scratch_trim(w);
    return b;
}

/*
 * A PNG made while its image is filled (encode.h).  The filler filters each
 * new row with UP into p->filtered and makes the zrle pieces whose rows are
 * all in: the pair choose_coding() picks for decoded video frames.  The
 * finisher then chooses on the whole image as encode_png() does; when the
 * choice is that pair (the bytes are then encode_png()'s), it makes the
 * pieces left, sharing them with the filler, else it encodes the image
 * afresh.
 */
struct png_progress {
    const struct image *img;
    int level;
    size_t row;                   /* bytes of a filtered row */
    int rows;                     /* rows filtered (the filler's) */
    int filter;                   /* theirs; -1 before the first */
    uint8_t *filtered, *out;
    size_t *size;
    uint16_t *tokens[2];          /* the filler's, the finisher's */
    struct pieces pieces;
};

struct png_progress *png_progress_start(const struct image *img, int level)
{
    struct png_progress *p;
    size_t row = (size_t)img->width * image_pixel_bytes(img) + 1, raw = row * (size_t)img->height;

    if (level != 1 || img->depth != 8 || raw < PNG_SPLIT_BYTES || !(p = calloc(1, sizeof(*p))))
        return NULL;
    p->img = img;
    p->level = level;
    p->row = row;
    p->filter = -1;
    p->filtered = malloc(raw);
    p->out = malloc(pieces_count(raw) * pieces_slot());
    p->size = calloc(pieces_count(raw), sizeof(*p->size));
    p->tokens[0] = malloc(ZRLE_BLOCK * sizeof(*p->tokens[0]));
    p->tokens[1] = malloc(ZRLE_BLOCK * sizeof(*p->tokens[1]));
    pieces_init(&p->pieces, p->filtered, raw, p->out, p->size, 0);
    if (!p->filtered || !p->out || !p->size || !p->tokens[0] || !p->tokens[1]) {
        png_progress_free(p);
        return NULL;
    }
    return p;
}

/* The filter the rows are filtered with before the choice: the one whose
 * first TRIAL_ROWS rows zrle makes smallest (on noisy keyframes SUB, on
 * later frames UP); the choice on the whole image nearly always agrees. */
static int guess_filter(struct png_progress *p, int rows)
{
    static const int filters[] = {PNG_FILTER_VALUE_NONE, PNG_FILTER_VALUE_SUB,
                                  PNG_FILTER_VALUE_UP};
    size_t best = SIZE_MAX;
    int n = rows < TRIAL_ROWS ? rows : TRIAL_ROWS, guess = PNG_FILTER_VALUE_UP;

    /* Nothing is in filtered or out yet: room for the trial. */
    for (size_t f = 0; f < sizeof(filters) / sizeof(filters[0]); f++) {
        size_t size;

        filter_rows(p->img, filters[f], 0, n, p->filtered);
        size = zrle_compress(p->filtered, (size_t)n * p->row, p->out, zrle_bound((size_t)n * p->row),
                             p->tokens[0]);
        if (size && size < best) {
            best = size;
            guess = filters[f];
        }
    }
    return guess;
}

void png_progress_rows(struct png_progress *p, int rows)
{
    if (rows <= p->rows)
        return;
    if (p->filter < 0)
        p->filter = guess_filter(p, rows);
    filter_rows(p->img, p->filter, p->rows, rows - p->rows,
                p->filtered + (size_t)p->rows * p->row);
    p->rows = rows;
    pieces_ready(&p->pieces, (size_t)rows * p->row);
}

int png_progress_piece(struct png_progress *p, int finisher)
{
    return pieces_run_one(&p->pieces, p->tokens[finisher ? 1 : 0]);
}

struct blob *png_progress_finish(struct png_progress *p, const struct encode_offload *off,
                                 char *err, size_t errlen)
{
    struct scratch *w = scratch_get();
    size_t raw = p->row * (size_t)p->img->height;
    struct blob *b = NULL;
    enum coder coder;
    int filter;

    if (!w || reserve_for(w, raw, p->level) < 0) {
        snprintf(err, errlen, "cannot encode PNG: out of memory");
        pieces_stop(&p->pieces);
        return NULL;
    }
    choose_coding(p->img, p->level, w->z[p->level], w, off, &filter, &coder);
    /* The filler's last rows filtered (p->filter is set before any). */
    pieces_wait_ready(&p->pieces, raw);
    if (filter == p->filter && coder == CODER_RLE) {
        if (pieces_share(&p->pieces, p->tokens[1]))
            b = png_blob(p->img, p->out, p->pieces.slot, p->size, p->pieces.count, err, errlen);
        else
            snprintf(err, errlen, "cannot encode PNG: compression failed");
    } else {
        pieces_stop(&p->pieces);
        b = encode_png(p->img, p->level, off, err, errlen);
    }
    scratch_trim(w);
    return b;
}

void png_progress_free(struct png_progress *p)
{
    if (!p)
        return;
    pieces_destroy(&p->pieces);
    free(p->filtered);
    free(p->out);
    free(p->size);
    free(p->tokens[0]);
    free(p->tokens[1]);
    free(p);
}
