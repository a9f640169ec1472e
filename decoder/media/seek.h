/*
 * decoder/media/seek — a decoder context: one demuxer + codec positioned somewhere
 * in one video, able to hand out the decoded frame for an index entry.
 *
 * A dec_ctx is used by one thread at a time (the pool lends it out under its
 * own lock); nothing in it is shared.  It holds a reference to its video.
 * The frame returned by dec_ctx_get() belongs to the context and stays valid
 * until the next call on it.  Everything here may block (I/O, decoding).
 */
#ifndef FRAMEFS_SEEK_H
#define FRAMEFS_SEEK_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>

#include "video.h"

struct dec_bands {
    void (*on_band)(void *arg, const AVFrame *frame, int y, int h);
    void *arg;
};

struct dec_ctx {
    struct video *video;
    AVFormatContext *fmt;
    AVCodecContext *codec;
    AVPacket *pkt;
    AVFrame *frame, *cand, *out;
    int have_pending;        /* pkt holds a packet read but not yet sent */
    int64_t last_pos;        /* byte position of the last packet fed */
    int threads;             /* decoding threads from the next (re)open */
    int open_threads;        /* the codec's, as opened */
    int skip_nonref;         /* may skip unreferenced frames before a target */
    int64_t skip_before;     /* while decoding: skip those with pts below it */
    int used;                /* fed since opened: reopen the codec to seek */

    /* Position: valid while the decoder has been fed every packet from
     * start_packet to next_packet - 1 (decode order) and handed out frames up
     * to last_pts. */
    int positioned;
    size_t start_packet, next_packet;
    int64_t last_pts;

    double seek_ms, decode_ms;   /* the last dec_ctx_get(): time seeking, decoding */
    struct dec_ctx *next;    /* idle or busy list (decoder.c) */
    size_t borrowed_for;     /* while busy: the frame it was borrowed for */
    /* The conversion state the jobs keep with the context (image/convert.c),
     * and what frees it at dec_ctx_close() (set by whoever opened it: this
     * floor knows nothing of conversions). */
    void *convert;
    void (*free_convert)(void **state);

    /* Set by the caller before dec_ctx_get() and cleared after (atomic:
     * the decoder's own threads read it): while a frame decodes alone
     * (dec_ctx_decodes_alone()), bands->on_band(bands->arg, frame, y, h)
     * says rows y .. y+h-1 of the frame being decoded are final, from the
     * decoder's thread (H.264 only: its draw_horiz_band).  Called only
     * while bands_on; the frame's pixels are the decoder's until it comes
     * out. */
    _Atomic(const struct dec_bands *) bands;
    atomic_int bands_on;
};

/*
 * A decoded frame's presentation time: the pts its packet carried, else
 * FFmpeg's best-effort guess.  Not best_effort_timestamp first: after a seek
 * into a GOP its heuristic counts the broken leading frames as pts faults and
 * switches to dts, naming frames differently from a full decode.
 */
int64_t dec_frame_pts(const AVFrame *f);

/* Open a decoder for a loaded video, decoding on `threads` threads.  0, or a
 * negative AVERROR with err set. */
int dec_ctx_open(struct video *v, int threads, struct dec_ctx **out, char *err, size_t errlen);
void dec_ctx_close(struct dec_ctx *c);

/* Decode on `threads` threads from the next seek on (the codec is reopened
 * there); a positioned decoder keeps its threads until then. */
void dec_ctx_set_threads(struct dec_ctx *c, int threads);

/* Will dec_ctx_get(c, f) decode frame f alone (a keyframe reached by a
 * seek, whose packet holds all of it: tol=inf), giving its bands? */
int dec_ctx_decodes_alone(const struct dec_ctx *c, size_t f);

/* Would reaching frame f from here avoid a seek?  (Same GOP, ahead of us.) */
int dec_ctx_can_continue(const struct dec_ctx *c, size_t f);

/*
 * Decode index frame f.  With c->skip_nonref, packets before the target whose
 * pts is lower than the target's are decoded with skip_frame = NONREF: a
 * frame no other frame references (H.264 nal_ref_idc 0, HEVC sub-layer
 * non-reference pictures, MPEG B-frames) is not decoded when it will not be
 * shown, as players do for precise seeks.  The target itself, and anything
 * at or after it, is always decoded; when the target does not come out, the
 * decode is done again without skipping.  stop(arg) is polled between packets; when it returns
 * non-zero, dec_ctx_get() returns AVERROR_EXIT.  On success *out is the frame
 * (its dec_frame_pts() may differ from the index when the stream lost
 * the exact frame; the caller reports the frame's own time).
 */
int dec_ctx_get(struct dec_ctx *c, size_t f, int (*stop)(void *), void *arg,
                AVFrame **out, char *err, size_t errlen);

/* Decode the whole stream from the start, calling on_frame for every frame
 * with the decode-order position of the last packet fed before it came out;
 * stop(stop_arg) is polled between packets (then AVERROR_EXIT).  For
 * indexing streams whose packets lack timestamps.  0 or AVERROR. */
int dec_ctx_decode_all(struct dec_ctx *c,
                       void (*on_frame)(void *arg, const AVFrame *f, size_t last_packet),
                       void *arg, int (*stop)(void *), void *stop_arg);

#endif
