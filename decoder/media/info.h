/*
 * decoder/media/info — what a probe tells of a video (struct video_info,
 * filled by video.c when the video loads, read by fs/ through decoder.h) and
 * the HDR kind of a source.  No libav* type: decoder.h exposes these as they
 * are.
 */
#ifndef FRAMEFS_MEDIA_INFO_H
#define FRAMEFS_MEDIA_INFO_H

#include <stddef.h>
#include <stdint.h>

/* The HDR transfer of a source (color.h, from the transfer). */
enum hdr_kind { HDR_NONE, HDR_PQ, HDR_HLG };

/* The frames of a probed video (opaque): valid only during the info
 * callback whose video_info points at it. */
struct video_frames;

struct video_info {
    int ok;                  /* 0: could not be opened as a video */
    char error[256];
    double duration;         /* seconds, end of last frame - start of file */
    double start_time;       /* the container's start, seconds (pts of t=0) */
    int width, height;       /* as displayed (after rotation) */
    int coded_width, coded_height;
    int display_width, display_height;   /* after rotation and the SAR */
    int rotation;            /* display matrix, degrees clockwise: 0, 90, 180, 270 */
    int sar_num, sar_den;    /* sample aspect ratio; 0:1 when unknown */
    double frame_rate;       /* average, frames per second */
    double real_frame_rate;  /* FFmpeg's r_frame_rate: the lowest rate that
                              * times every frame */
    char codec[32];
    char profile[48];        /* "" when none */
    char pix_fmt[32];
    int bit_depth;           /* bits per sample of the decoded pixels */
    /* Colorimetry as framefs takes it (color.h): FFmpeg's names, as tagged
     * or, where untagged, as assumed (color_assumed names those, comma-
     * separated: "color_space,color_range", or "none"). */
    char color_space[32], color_range[16], color_primaries[32], color_transfer[32];
    char color_assumed[64];
    char hdr[8];             /* "pq", "hlg" or "none" */
    size_t frame_count, keyframe_count;  /* from the index */
    char format[64];         /* the container, FFmpeg's demuxer name(s) */
    int64_t bit_rate;        /* the container's, bits per second; 0 unknown */
    const struct video_frames *frames;   /* during the callback; NULL unless ok */
    int scenes_known;        /* the frames' scene scores are known (scenes.h) */
};

#endif
