/*
 * decoder/image/tonemap — a PQ or HLG frame to BT.709 SDR, by one fixed
 * libavfilter chain (zimg's zscale and FFmpeg's tonemap), the same as
 *
 *   ffmpeg -i HDR -filter_threads 1 -vf TONEMAP_CHAIN_8 -pix_fmt rgb24 ...
 *
 * linearize with a nominal peak of 100 nits, convert the primaries to BT.709
 * in float, tone-map (hable, no desaturation; the peak from the frame's
 * content-light level, else its mastering display's maximum, else tonemap's
 * default, 10x reference white: the frame it sees is already linear), then
 * the BT.709
 * transfer and matrix, limited range, 4:2:0.  The result is an ordinary
 * BT.709 frame for convert.c.  One thread: zscale's output depends on its
 * slice count, and the same request must give the same bytes on every host.
 *
 * Each thread keeps one graph (a fixed cost per worker: about 120 MB at
 * 1080p, 430 MB at 4K; a larger frame's graph is freed after it; freed
 * when the thread ends), built at its first HDR frame and rebuilt only when
 * the input's size or pixel format changes.
 * Thread-safe; may block (CPU only).
 */
#ifndef FRAMEFS_TONEMAP_H
#define FRAMEFS_TONEMAP_H

#include <stddef.h>

#include <libavutil/frame.h>

#include "../media/color.h"
#include "plan.h"           /* TONEMAP_VERSION */

#define TONEMAP_CHAIN_HEAD "zscale=t=linear:npl=100,format=gbrpf32le,zscale=p=bt709," \
                           "tonemap=tonemap=hable:desat=0,zscale=t=bt709:m=bt709:r=tv,format="
/* The chain for 8-bit images, and for 16-bit ones (10 bits kept); a frame
 * of odd width or height ends in 4:4:4 instead (4:2:0 needs even sizes:
 * zscale refuses the chain there). */
#define TONEMAP_CHAIN_8  TONEMAP_CHAIN_HEAD "yuv420p"
#define TONEMAP_CHAIN_16 TONEMAP_CHAIN_HEAD "yuv420p10le"
#define TONEMAP_CHAIN_8_ODD  TONEMAP_CHAIN_HEAD "yuv444p"
#define TONEMAP_CHAIN_16_ODD TONEMAP_CHAIN_HEAD "yuv444p10le"

/* in (untagged properties taken from vc, and vc's HDR metadata attached
 * where the frame has none) through the chain into a new frame *out (the
 * caller frees it).  0, or a negative AVERROR with err set. */
int tonemap_frame(const AVFrame *in, const struct video_color *vc, int deep, AVFrame **out,
                  char *err, size_t errlen);
/* Free the tone-mapping graph kept between frames (at the decoder's end). */
void tonemap_release(void);

#endif
