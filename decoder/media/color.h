/*
 * decoder/media/color — what colors a video's pixels are in, and what framefs
 * assumes where the file does not say.
 *
 * A video's colorimetry is resolved once, when it is probed, from its
 * stream's tags (FFmpeg's AVColor* values):
 *   matrix     tagged (VP8: BT.601, as its decoder tags every frame), else
 *              BT.2020 NCL for PQ/HLG, else BT.709 for an HD
 *              picture (coded width >= 1280 or height > 576, mpv's rule and
 *              what browsers do), else BT.601 (smpte170m);
 *   range      tagged, else full for JPEG-style (yuvj) and RGB formats,
 *              limited otherwise (swscale's own default);
 *   primaries, transfer  tagged, else BT.2020 primaries for PQ/HLG and,
 *              for SDR, BT.709 (HD) or smpte170m (SD) as the matrix.
 * Frames carry their own tags; a tagged frame's win, an untagged one takes
 * the video's (color_frame_props()).  SDR frames are shown as decoded, as
 * players show them on an sRGB display: primaries and transfer are only
 * reported.  A PQ or HLG frame is tone-mapped (tonemap.h) unless the request
 * keeps it.  A transfer that is neither SDR-like nor PQ/HLG (linear, log,
 * SMPTE 428) cannot be shown without a guess: such frames fail.
 *
 * Pure functions over plain values; no allocation, no locks.
 */
#ifndef FRAMEFS_COLOR_H
#define FRAMEFS_COLOR_H

#include <stddef.h>
#include <stdint.h>

#include <libavcodec/codec_par.h>
#include <libavutil/frame.h>
#include <libavutil/mastering_display_metadata.h>

#include "info.h"           /* enum hdr_kind */

/* Which of struct video_color's values were assumed, not tagged. */
#define COLOR_ASSUMED_MATRIX    1u
#define COLOR_ASSUMED_RANGE     2u
#define COLOR_ASSUMED_PRIMARIES 4u
#define COLOR_ASSUMED_TRANSFER  8u

struct video_color {
    /* enum AVColorSpace, AVColorRange, AVColorPrimaries,
     * AVColorTransferCharacteristic: as tagged, else as assumed. */
    int matrix, range, primaries, transfer;
    unsigned assumed;            /* COLOR_ASSUMED_* */
    enum hdr_kind hdr;
    int showable;                /* the transfer is SDR-like, PQ or HLG */
    /* The stream's HDR metadata, when its container gives it. */
    int has_mastering, has_light;
    AVMasteringDisplayMetadata mastering;
    AVContentLightMetadata light;
};

/* Resolve the colorimetry of a stream (its parameters and, when the
 * container has them, its mastering-display and content-light metadata;
 * either may be NULL). */
void color_resolve(const AVCodecParameters *par, const AVMasteringDisplayMetadata *mastering,
                   const AVContentLightMetadata *light, struct video_color *out);

/* The HDR kind of a transfer (enum AVColorTransferCharacteristic). */
enum hdr_kind color_hdr_kind(int transfer);

/* The matrix, range, primaries and transfer a frame is in: its own tags
 * where it has them, the video's elsewhere. */
void color_frame_props(const AVFrame *f, const struct video_color *vc, int *matrix,
                       int *range, int *primaries, int *transfer);

/* Why a frame of transfer `transfer` cannot be shown ("" when it can):
 * into err. 0 when showable, -1 with err set otherwise. */
int color_check_transfer(int transfer, char *err, size_t errlen);

/* "pq", "hlg" or "none". */
const char *color_hdr_name(enum hdr_kind h);

#endif
