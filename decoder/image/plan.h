/*
 * decoder/image/plan — what an image is to be: a name's output spec, the plan
 * it resolves to for one video (output.c), and the plan's cache key.  Pure
 * functions, no libav* type and no lock: fs/ parses names into these through
 * decoder.h, and image/ makes images from them.
 */
#ifndef FRAMEFS_IMAGE_PLAN_H
#define FRAMEFS_IMAGE_PLAN_H

#include <stddef.h>
#include <stdint.h>

#include "../media/info.h"

/* The image formats a frame can be written in. */
enum frame_format { FORMAT_PNG, FORMAT_JPEG, FORMAT_PPM, FORMAT_COUNT };

/* How the image is made: a name's output keys after the mount's defaults. */
struct output_spec {
    enum frame_format format;
    int max_width, max_height;   /* fit inside, never upscale; 0: no bound */
    int rotate;                  /* 1: apply the display matrix; 0: as coded */
    int square_pixels;           /* 1: stretch the width by the SAR */
    int depth;                   /* bits per sample, 8 or 16 (PNG, PPM) */
    int quality;                 /* JPEG quality 1..100 */
    int keep_hdr;                /* hdr=keep: a PQ/HLG source's own values,
                                  * 16-bit PNG or PPM; else tone-mapped */
};

/* What becomes of the source's colors (output_plan.color). */
enum plan_color {
    PLAN_COLOR_AS_IS,            /* SDR: converted as decoded */
    PLAN_COLOR_TONEMAP,          /* PQ/HLG to BT.709 SDR (tonemap.h) */
    PLAN_COLOR_KEEP,             /* PQ/HLG values kept, 16 bits, cICP-tagged */
};

/* Bumped whenever the tone-mapping chain (tonemap.h) changes: keys of
 * tone-mapped frames and the shared cache's pipeline version carry it. */
#define TONEMAP_VERSION 1

/*
 * The output as it will be made for one video: the spec resolved against the
 * video's coded size, sample aspect ratio and display matrix.  Two requests
 * whose plans are equal get the same pixels, so the plan (with the frame's
 * pts) is the cache key.
 */
struct output_plan {
    enum frame_format format;
    int width, height;           /* of the image written */
    int rotation[3];             /* transpose, reverse x, reverse y; 0s when none */
    int depth;                   /* 8 or 16; 8 for JPEG */
    int quality;                 /* JPEG only; 0 for the others */
    enum plan_color color;
};

/* What the plan works from: the frame's coded size, its sample aspect ratio
 * (0/x or x/0 when unknown: square) and the display matrix's turn
 * (struct video's rotation). */
struct output_source {
    int width, height;
    int sar_num, sar_den;
    int rotation[3];
    enum hdr_kind hdr;
};

/* Resolve spec against src into *plan (pure; unit-tested). */
void output_plan_make(const struct output_spec *spec, const struct output_source *src,
                      struct output_plan *plan);

/* The cache key of the frame at `pts` (stream ticks) of the video whose keys
 * start with `prefix`, made as `plan`: equal inputs, equal keys; any
 * difference in the plan, a different key.  Returns its length, or -1 when
 * it does not fit in len bytes (then key is "").  Pure; unit-tested. */
int frame_request_key(char *key, size_t len, const char *prefix, int64_t pts,
                      const struct output_plan *plan);

/* File name extension of a format, without the dot ("png", "jpg", "ppm"). */
const char *output_format_ext(enum frame_format f);

#endif
