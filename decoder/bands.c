/*
 * A lone keyframe converted and encoded band by band as it decodes
 * (bands.h).  Three threads meet here: the decoder's, which says which rows
 * are final (on_band); the worker, which converts them (convert_rows) and
 * hands them to the PNG (png_progress_rows); and the caller, which ends it
 * once the frame is out (bands_end) and makes the file (bands_png).
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <libavutil/imgutils.h>
#include <xxhash.h>

#include "bands.h"

/* The fewest rows the worker converts at once (H.264 gives 16 at a time):
 * fewer wake-ups, and still well ahead of the decode. */
#define BAND_MIN_ROWS 32

struct bands {
    struct dec_ctx *c;
    struct dec_bands sink;       /* what c calls (on_band, this) */
    struct output_plan plan;
    const struct video_color *vc;
    int level;

    pthread_mutex_t lock;
    pthread_cond_t cond;
    /* Under lock. */
    const AVFrame *src;          /* the frame whose bands these are (the first's) */
    AVFrame *shell;              /* its pixels and description, without references */
    int latched;                 /* src and shell are set */
    int decoded;                 /* rows of src final */
    int ending;                  /* 1: the frame is out and is src; -1: stop */
    int converted;               /* rows converted (by the worker) */
    int failed, left;            /* the worker gave up; it returned */

    /* The worker's until converted == height, then the caller's too. */
    struct image img;
    struct png_progress *png;
    uint64_t digest;             /* of the source rows converted */
};

/* Rows y0 .. y1-1 of f, each plane's (chroma rows rounded up), hashed into
 * a sum: the same whatever bands the rows came in. */
static uint64_t rows_digest(const AVFrame *f, int y0, int y1)
{
    const AVPixFmtDescriptor *d = av_pix_fmt_desc_get(f->format);
    uint64_t sum = 0;

    for (int i = 0; i < 4 && f->data[i]; i++) {
        int sh = (i == 1 || i == 2) ? d->log2_chroma_h : 0;
        int n = av_image_get_linesize(f->format, f->width, i);

        for (int y = (y0 + (1 << sh) - 1) >> sh; n > 0 && y < (y1 + (1 << sh) - 1) >> sh; y++)
            sum += XXH3_64bits_withSeed(f->data[i] + (ptrdiff_t)y * f->linesize[i], (size_t)n,
                                        (uint64_t)i << 32 | (uint64_t)y);
    }
    return sum;
}

/* What the worker converts by: the pixels' place and what they are. */
static void describe_frame(AVFrame *dst, const AVFrame *src)
{
    for (int i = 0; i < 4; i++) {
        dst->data[i] = src->data[i];
        dst->linesize[i] = src->linesize[i];
    }
    dst->width = src->width;
    dst->height = src->height;
    dst->format = src->format;
    dst->sample_aspect_ratio = src->sample_aspect_ratio;
    dst->color_range = src->color_range;
    dst->colorspace = src->colorspace;
    dst->color_primaries = src->color_primaries;
    dst->color_trc = src->color_trc;
    dst->chroma_location = src->chroma_location;
}

/* The frame out of the decoder is the one the bands described. */
static int same_frame(const AVFrame *a, const AVFrame *b)
{
    for (int i = 0; i < 4; i++)
        if (a->data[i] != b->data[i] || a->linesize[i] != b->linesize[i])
            return 0;
    return a->width == b->width && a->height == b->height && a->format == b->format &&
           a->color_range == b->color_range && a->colorspace == b->colorspace &&
           a->color_primaries == b->color_primaries && a->color_trc == b->color_trc &&
           a->chroma_location == b->chroma_location;
}

static int same_plan(const struct output_plan *a, const struct output_plan *b)
{
    return a->format == b->format && a->width == b->width && a->height == b->height &&
           a->depth == b->depth && a->quality == b->quality && a->color == b->color &&
           !memcmp(a->rotation, b->rotation, sizeof(a->rotation));
}

/* dec_ctx's on_band, on the decoder's thread. */
static void on_band(void *arg, const AVFrame *src, int y, int h)
{
    struct bands *b = arg;

    pthread_mutex_lock(&b->lock);
    /* A frame being decoded has its coded size (H.264: whole macroblocks);
     * the one that comes out is cropped to the plan's, from the bottom and
     * the right when its pixels stay where they are (same_frame()). */
    if (!b->latched && y == 0 && src->width >= b->plan.width && src->height >= b->plan.height) {
        describe_frame(b->shell, src);
        b->shell->width = b->plan.width;
        b->shell->height = b->plan.height;
        b->src = src;
        b->latched = 1;
    }
    if (b->latched && src == b->src && y + h > b->decoded) {
        b->decoded = y + h < b->shell->height ? y + h : b->shell->height;
        if (b->decoded - b->converted >= BAND_MIN_ROWS || b->decoded == b->shell->height)
            pthread_cond_broadcast(&b->cond);
    }
    pthread_mutex_unlock(&b->lock);
}

/* Rows converted .. rows-1 into the image and on to the PNG (the first
 * time: both set up).  0, or -1. */
static int convert_band(struct bands *b, int y, int rows)
{
    if (!b->png) {
        if (convert_rows_begin(&b->c->convert, b->shell, &b->plan, b->vc, &b->img) < 0)
            return -1;
        if (!(b->png = png_progress_start(&b->img, b->level)))
            return -1;
    }
    if (convert_rows(&b->c->convert, b->shell, y, rows - y, &b->img) < 0)
        return -1;
    b->digest += rows_digest(b->shell, y, rows);
    return 0;
}

/* Rows the worker may convert now (0: none): at least BAND_MIN_ROWS, or
 * the rest once the frame is complete or out; whole chroma rows but for
 * the last band.  Under lock. */
static int rows_to_convert(const struct bands *b)
{
    int height = b->shell->height, rows = b->ending > 0 ? height : b->decoded;

    if (!b->latched || b->ending < 0 || rows <= b->converted ||
        (rows < height && rows - b->converted < BAND_MIN_ROWS))
        return 0;
    if (rows < height)
        rows &= ~((1 << av_pix_fmt_desc_get(b->shell->format)->log2_chroma_h) - 1);
    return rows > b->converted ? rows : 0;
}

/* The worker: converts rows as they are final, and compresses pieces of
 * them while none are; until the frame is converted and every piece taken
 * (the caller takes some too), or it is not wanted. */
static void work(void *arg, int shutting_down)
{
    struct bands *b = arg;

    pthread_mutex_lock(&b->lock);
    while (!shutting_down && b->ending >= 0) {
        int rows = rows_to_convert(b), made;

        if (rows) {
            int y = b->converted;

            pthread_mutex_unlock(&b->lock);
            if (convert_band(b, y, rows) < 0) {
                pthread_mutex_lock(&b->lock);
                b->failed = 1;
                break;
            }
            pthread_mutex_lock(&b->lock);
            b->converted = rows;
            pthread_cond_broadcast(&b->cond);
            pthread_mutex_unlock(&b->lock);
            png_progress_rows(b->png, rows);     /* filtered: pieces ready */
            pthread_mutex_lock(&b->lock);
            continue;
        }
        if (b->png) {
            pthread_mutex_unlock(&b->lock);
            made = png_progress_piece(b->png, 0);
            pthread_mutex_lock(&b->lock);
            if (made > 0)
                continue;
            if (made < 0)
                break;             /* converted, and every piece taken */
            if (rows_to_convert(b))
                continue;          /* bands came meanwhile */
        }
        if (b->ending > 0 && !b->latched)
            break;
        pthread_cond_wait(&b->cond, &b->lock);
    }
    b->left = 1;
    pthread_cond_broadcast(&b->cond);
    pthread_mutex_unlock(&b->lock);
}

struct bands *bands_start(struct dec_ctx *c, size_t f, const struct output_plan *plan,
                          const struct video_color *vc, int png_level,
                          const struct encode_offload *off)
{
    struct bands *b;

    if (!off || !c->codec->draw_horiz_band || plan->format != FORMAT_PNG || plan->depth != 8 ||
        plan->color != PLAN_COLOR_AS_IS || png_level != 1 || !dec_ctx_decodes_alone(c, f) ||
        (size_t)plan->width * plan->height * 3 < PNG_SPLIT_BYTES ||
        !(b = calloc(1, sizeof(*b))))
        return NULL;
    *b = (struct bands){.c = c, .plan = *plan, .vc = vc, .level = png_level};
    if (!(b->shell = av_frame_alloc())) {
        free(b);
        return NULL;
    }
    pthread_mutex_init(&b->lock, NULL);
    pthread_cond_init(&b->cond, NULL);
    if (!off->run(off->ctx, work, b)) {
        b->left = 1;        /* nobody idle: it never started */
        bands_free(b);
        return NULL;
    }
    b->sink = (struct dec_bands){on_band, b};
    atomic_store(&c->bands, &b->sink);
    return b;
}

int bands_end(struct bands *b, const AVFrame *frame, const struct output_plan *plan)
{
    int ok;

    atomic_store(&b->c->bands, NULL);      /* dec_ctx_get() disarmed it already */
    pthread_mutex_lock(&b->lock);
    ok = frame && b->latched && same_frame(b->shell, frame) && same_plan(plan, &b->plan);
    b->ending = ok ? 1 : -1;
    pthread_cond_broadcast(&b->cond);
    /* Until the last rows are converted, compress pieces with the worker. */
    while (!b->left && !(ok && b->converted == b->shell->height)) {
        if (ok && b->converted > 0) {      /* the PNG is set up */
            pthread_mutex_unlock(&b->lock);
            int made = png_progress_piece(b->png, 1);
            pthread_mutex_lock(&b->lock);
            if (made > 0)
                continue;
        }
        pthread_cond_wait(&b->cond, &b->lock);
    }
    ok = ok && !b->failed && b->converted == b->shell->height;
    pthread_mutex_unlock(&b->lock);
    /* Rows that changed after their band (error concealment at the end of a
     * damaged frame) are not the frame's: the ordinary path then. */
    return ok && rows_digest(frame, 0, frame->height) == b->digest;
}

struct blob *bands_png(struct bands *b, const struct encode_offload *off, int *width,
                       int *height, char *err, size_t errlen)
{
    *width = b->img.width;
    *height = b->img.height;
    return png_progress_finish(b->png, off, err, errlen);
}

void bands_free(struct bands *b)
{
    if (!b)
        return;
    pthread_mutex_lock(&b->lock);
    if (b->ending == 0)
        b->ending = -1;
    pthread_cond_broadcast(&b->cond);
    while (!b->left)
        pthread_cond_wait(&b->cond, &b->lock);
    pthread_mutex_unlock(&b->lock);
    png_progress_free(b->png);
    image_free(&b->img);
    av_frame_free(&b->shell);
    pthread_mutex_destroy(&b->lock);
    pthread_cond_destroy(&b->cond);
    free(b);
}
