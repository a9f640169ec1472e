/*
 * decoder/image/convert — decoded AVFrame -> RGB or RGBA pixels, 8 or 16 bits per
 * sample, converted the way `ffmpeg -i FILE -pix_fmt rgb24` (or rgb48be)
 * converts them (libswscale with the CLI's default flags, the frame's own
 * colorspace and range) and turned upright the way the CLI's autorotate does
 * (transpose/flip on the decoded planes, before conversion).
 *
 * When the output plan asks for another size, the same swscale pass scales
 * with SWS_LANCZOS, as `-vf scale=W:H:flags=lanczos` does: a windowed sinc
 * that swscale widens by the downscaling factor, so a 1080p frame shrunk to
 * 224 px is low-passed over every source pixel it covers (no aliasing) and
 * stays sharper than bicubic or area averaging.
 *
 * The conversion state (a cached SwsContext) belongs to one decoder context
 * and is used by one thread at a time; the tone-mapping graph is the
 * thread's (tonemap.h).  struct image owns its pixels.
 */
#ifndef FRAMEFS_CONVERT_H
#define FRAMEFS_CONVERT_H

#include <stddef.h>
#include <stdint.h>

#include <libavutil/frame.h>
#include <libavutil/mastering_display_metadata.h>

#include "../media/color.h"

/* What an image's values mean, for the color chunks of its file. */
struct image_color {
    int cicp;                /* 0: SDR, shown as sRGB; 1: the fields below */
    int primaries, transfer; /* H.273 code points (FFmpeg's enum values) */
    int has_mastering, has_light;
    AVMasteringDisplayMetadata mastering;
    AVContentLightMetadata light;
};

struct image {
    int width, height;
    int channels;            /* 3 (RGB) or 4 (RGBA) */
    int depth;               /* bits per sample: 8, or 16 (big-endian) */
    size_t stride;           /* bytes per row */
    uint8_t *pixels;         /* av_malloc'd */
    struct image_color color;
};

/* The frame as plan says (its size, rotation, depth and colors), with vc
 * the video's colorimetry for what the frame leaves untagged (color.h):
 * SDR as decoded, PQ/HLG tone-mapped (tonemap.h) unless the plan keeps
 * them.  Alpha is kept when keep_alpha and the (not tone-mapped) frame has
 * any.  0, or a negative AVERROR with err set (a transfer that cannot be
 * shown among the reasons). */
struct output_plan;
int convert_frame(void **state, const AVFrame *frame, const struct output_plan *plan,
                  const struct video_color *vc, int keep_alpha, struct image *out,
                  char *err, size_t errlen);
/*
 * The same conversion band by band, for a frame still decoding: only where
 * it is plain (8-bit YUV without alpha, to RGB at its own size: no turn, no
 * tone mapping; else AVERROR(ENOTSUP)).  convert_rows_begin() reads the
 * frame's size, format and colors and allocates out; convert_rows() then
 * converts rows y .. y+h-1, in order from 0, y a multiple of the chroma
 * subsampling but for the last band.  The pixels are convert_frame()'s.
 * The state is the caller's until the last band.  0 or AVERROR.
 */
int convert_rows_begin(void **state, const AVFrame *frame, const struct output_plan *plan,
                       const struct video_color *vc, struct image *out);
int convert_rows(void **state, const AVFrame *frame, int y, int h, struct image *out);
/* Bytes per pixel of an image. */
size_t image_pixel_bytes(const struct image *img);
void convert_free(void **state);
void image_free(struct image *img);

#endif
