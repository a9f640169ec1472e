/*
 * decoder/convert — decoded AVFrame -> 8-bit RGB or RGBA pixels, converted the
 * way `ffmpeg -i FILE -pix_fmt rgb24` converts them (libswscale with the CLI's
 * default flags, the frame's own colorspace and range) and turned upright
 * the way the CLI's autorotate does (transpose/flip on the decoded planes,
 * before conversion).
 *
 * The conversion state (a cached SwsContext) belongs to one decoder context
 * and is used by one thread at a time.  struct image owns its pixels.
 */
#ifndef FRAMEFS_CONVERT_H
#define FRAMEFS_CONVERT_H

#include <stddef.h>
#include <stdint.h>

#include <libavutil/frame.h>

struct image {
    int width, height;
    int channels;            /* 3 (RGB) or 4 (RGBA) */
    size_t stride;           /* bytes per row */
    uint8_t *pixels;         /* av_malloc'd */
};

/* rotation: {transpose, reverse x, reverse y} as in struct video.
 * 0, or a negative AVERROR with err set. */
int convert_frame(void **state, const AVFrame *frame, const int rotation[3],
                  struct image *out, char *err, size_t errlen);
void convert_free(void **state);
void image_free(struct image *img);

#endif
