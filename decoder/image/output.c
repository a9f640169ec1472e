/*
 * decoder/image/output — the output plan of a frame request and its cache key.
 * Pure functions: no allocation, no FFmpeg, no locks (decoder.h).
 *
 * Geometry, in the order the pixels go through it:
 *  1. aspect=display: the coded width times the SAR, rounded to nearest (the
 *     CLI's scale=iw*sar:ih truncates instead);
 *  2. rotate=auto: the display matrix's turn (width and height swap on a
 *     transpose);
 *  3. the bound: the largest size inside max_width x max_height with the same
 *     aspect ratio, rounded to nearest, never larger than step 2's result.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "plan.h"

static const char *const format_ext[FORMAT_COUNT] = {
    [FORMAT_PNG] = "png",
    [FORMAT_JPEG] = "jpg",
    [FORMAT_PPM] = "ppm",
};

const char *output_format_ext(enum frame_format f)
{
    return f >= 0 && f < FORMAT_COUNT ? format_ext[f] : "?";
}

/* round(a * b / c) for positive values, in 64 bits, at least 1, at most
 * INT32_MAX (sizes are bounded long before: max_pixels). */
static int scaled(int64_t a, int64_t b, int64_t c)
{
    __int128 v = ((__int128)a * b * 2 + c) / (2 * (__int128)c);

    return v < 1 ? 1 : v > INT32_MAX ? INT32_MAX : (int)v;
}

void output_plan_make(const struct output_spec *spec, const struct output_source *src,
                      struct output_plan *plan)
{
    int64_t w = src->width > 0 ? src->width : 1, h = src->height > 0 ? src->height : 1;
    int turn = spec->rotate && (src->rotation[0] || src->rotation[1] || src->rotation[2]);

    memset(plan, 0, sizeof(*plan));
    plan->format = spec->format;
    plan->depth = spec->format == FORMAT_JPEG ? 8 : spec->depth == 16 ? 16 : 8;
    plan->quality = spec->format == FORMAT_JPEG ? spec->quality : 0;
    /* A PQ/HLG source: tone-mapped, or kept at 16 bits where the format can
     * hold it (a JPEG is always tone-mapped). */
    if (src->hdr != HDR_NONE)
        plan->color = spec->keep_hdr && spec->format != FORMAT_JPEG ? PLAN_COLOR_KEEP
                                                                    : PLAN_COLOR_TONEMAP;
    if (plan->color == PLAN_COLOR_KEEP)
        plan->depth = 16;
    if (turn)
        memcpy(plan->rotation, src->rotation, sizeof(plan->rotation));

    if (spec->square_pixels && src->sar_num > 0 && src->sar_den > 0 &&
        src->sar_num != src->sar_den)
        w = scaled(w, src->sar_num, src->sar_den);
    if (plan->rotation[0]) {
        int64_t t = w;

        w = h;
        h = t;
    }
    /* The bound: whichever side limits more sets the scale. */
    int64_t bw = spec->max_width > 0 ? spec->max_width : 0;
    int64_t bh = spec->max_height > 0 ? spec->max_height : 0;
    int by_width = bw && w > bw && (!bh || bw * h <= bh * w);
    int by_height = bh && h > bh && !by_width && (!bw || bh * w < bw * h);

    if (by_width) {
        h = scaled(h, bw, w);
        w = bw;
    } else if (by_height) {
        w = scaled(w, bh, h);
        h = bh;
    }
    plan->width = (int)w;
    plan->height = (int)h;
}

int frame_request_key(char *key, size_t len, const char *prefix, int64_t pts,
                      const struct output_plan *plan)
{
    /* Colors: as is, tone-mapped by chain version N ("t" N) or kept. */
    int n = snprintf(key, len, "%sf=%lld:%s:%dx%d:r%d%d%d:d%d:q%d:c%s%d", prefix, (long long)pts,
                     output_format_ext(plan->format), plan->width, plan->height,
                     plan->rotation[0], plan->rotation[1], plan->rotation[2], plan->depth,
                     plan->quality,
                     plan->color == PLAN_COLOR_TONEMAP ? "t" :
                     plan->color == PLAN_COLOR_KEEP ? "k" : "s",
                     plan->color == PLAN_COLOR_TONEMAP ? TONEMAP_VERSION : 0);

    if (n < 0 || (size_t)n >= len) {
        if (len)
            key[0] = 0;
        return -1;
    }
    return n;
}
