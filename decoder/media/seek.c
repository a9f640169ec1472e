/*
 * Position a decoder at or before a frame and decode up to it, following what
 * FFMS2 and torchcodec converge on: seek to a keyframe found in decode order,
 * verify where the demuxer actually landed, identify frames by their pts
 * (never by counting decoder output) and flush at end of stream.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "avlog.h"
#include "fdio.h"
#include "log.h"
#include "seek.h"

#define MAX_SEEK_RETRIES 4
#define MAX_BAD_PACKETS 64

int64_t dec_frame_pts(const AVFrame *f)
{
    return f->pts != AV_NOPTS_VALUE ? f->pts : f->best_effort_timestamp;
}

/* H.264's draw_horiz_band, on the decoder's thread: to the caller's on_band
 * while a lone frame decodes (seek.h). */
static void forward_band(AVCodecContext *avctx, const AVFrame *src, int offset[AV_NUM_DATA_POINTERS],
                         int y, int type, int height)
{
    struct dec_ctx *c = avctx->opaque;
    const struct dec_bands *bands = atomic_load(&c->bands);

    (void)offset;
    (void)type;
    if (atomic_load(&c->bands_on) && bands && height > 0)
        bands->on_band(bands->arg, src, y, height);
}

/* (Re)create the codec context from the stream's parameters. */
static int reopen_codec(struct dec_ctx *c)
{
    const AVCodecParameters *par = c->video->codecpar;
    const AVCodec *codec = avcodec_find_decoder(par->codec_id);
    int ret;

    avcodec_free_context(&c->codec);
    if (!codec)
        return AVERROR_DECODER_NOT_FOUND;
    if (!(c->codec = avcodec_alloc_context3(codec)))
        return AVERROR(ENOMEM);
    if ((ret = avcodec_parameters_to_context(c->codec, par)) < 0)
        return ret;
    c->codec->pkt_timebase = c->video->time_base;
    /* Frame threads: a lone random-access request decodes a GOP's worth of
     * frames, which two threads do in ~60% of the time (scripts/bench);
     * the count is fixed, so memory per worker stays fixed too. */
    c->codec->thread_count = c->threads;
    c->codec->max_pixels = FDIO_MAX_PIXELS;
    if (par->codec_id == AV_CODEC_ID_H264) {
        c->codec->opaque = c;
        c->codec->draw_horiz_band = forward_band;
    }
    c->open_threads = c->threads;
    return avcodec_open2(c->codec, codec, NULL);
}

void dec_ctx_set_threads(struct dec_ctx *c, int threads)
{
    c->threads = threads > 0 ? threads : 1;
}

int dec_ctx_open(struct video *v, int threads, struct dec_ctx **out, char *err, size_t errlen)
{
    struct dec_ctx *c = calloc(1, sizeof(*c));
    int ret = AVERROR(ENOMEM);

    *out = NULL;
    if (!c)
        goto fail;
    c->video = video_ref(v);
    if ((ret = fdio_open_input(v->fd, v->id.size, v->name, &c->fmt, err, errlen)) < 0) {
        dec_ctx_close(c);
        return ret;
    }
    /* The codec is opened from the parameters the load probed (v->codecpar),
     * so probing again (it decodes frames) is needed only where the header
     * does not give the streams as the load saw them (MPEG-TS/PS, raw). */
    if (((c->fmt->ctx_flags & AVFMTCTX_NOHEADER) || v->stream >= (int)c->fmt->nb_streams ||
         av_cmp_q(c->fmt->streams[v->stream]->time_base, v->time_base) != 0) &&
        (ret = fdio_find_stream_info(c->fmt)) < 0)
        goto fail;
    ret = AVERROR_INVALIDDATA;
    if (v->stream >= (int)c->fmt->nb_streams ||
        av_cmp_q(c->fmt->streams[v->stream]->time_base, v->time_base) != 0)
        goto fail;
    for (unsigned i = 0; i < c->fmt->nb_streams; i++)
        if ((int)i != v->stream)
            c->fmt->streams[i]->discard = AVDISCARD_ALL;
    c->threads = threads;
    c->skip_before = INT64_MIN;
    ret = AVERROR(ENOMEM);
    if (!(c->pkt = av_packet_alloc()) || !(c->frame = av_frame_alloc()) ||
        !(c->cand = av_frame_alloc()) || !(c->out = av_frame_alloc()))
        goto fail;
    if ((ret = reopen_codec(c)) < 0)
        goto fail;
    *out = c;
    return 0;
fail:
    avlog_explain(err, errlen, "cannot open decoder", ret);
    dec_ctx_close(c);
    return ret;
}

void dec_ctx_close(struct dec_ctx *c)
{
    if (!c)
        return;
    if (c->free_convert)
        c->free_convert(&c->convert);
    av_frame_free(&c->frame);
    av_frame_free(&c->cand);
    av_frame_free(&c->out);
    av_packet_free(&c->pkt);
    avcodec_free_context(&c->codec);
    fdio_close_input(&c->fmt);
    video_unref(c->video);
    free(c);
}

/* Where decoding for frame f starts: its GOP's keyframe, or the very start
 * for streams whose frames are timed only by counting them (no seeking). */
static size_t start_packet_for(const struct video *v, size_t f)
{
    return v->synthetic_pts ? 0 : index_seek_packet(&v->index, f);
}

/* A keyframe target reached from its own packet decodes alone (tol=inf: one
 * frame), unless a field of it could sit in the next packet. */
static int decodes_alone(const struct video *v, size_t key, size_t f)
{
    return key == v->index.frame_packet[f] && v->index.frames[f].keyframe && v->frames_whole;
}

int dec_ctx_decodes_alone(const struct dec_ctx *c, size_t f)
{
    return !dec_ctx_can_continue(c, f) && decodes_alone(c->video, start_packet_for(c->video, f), f);
}

int dec_ctx_can_continue(const struct dec_ctx *c, size_t f)
{
    size_t key = start_packet_for(c->video, f);

    return c->positioned && c->last_pts < c->video->index.frames[f].pts &&
           key >= c->start_packet && key <= c->next_packet;
}

static int seek_to(struct dec_ctx *c, size_t key)
{
    const struct index_packet *p = &c->video->index.packets[key];
    /* By the keyframe's pts: MP4 and Matroska match seeks against pts, and
     * a keyframe's dts (earlier, with B-frames) lands a whole GOP early.  A
     * demuxer that lands late instead is caught by position_at(). */
    int64_t ts = p->pts != AV_NOPTS_VALUE ? p->pts : p->dts;
    int ret;

    if (c->video->seek_by_bytes && p->pos >= 0)
        return av_seek_frame(c->fmt, c->video->stream, p->pos, AVSEEK_FLAG_BYTE);
    if (ts == AV_NOPTS_VALUE && key != 0)
        return AVERROR(EINVAL);
    ret = ts == AV_NOPTS_VALUE ? AVERROR(EINVAL) :
          av_seek_frame(c->fmt, c->video->stream, ts, AVSEEK_FLAG_BACKWARD);
    if (ret < 0 && key == 0 && ts == AV_NOPTS_VALUE)
        ts = 0;
    if (ret < 0 && key == 0)      /* the very start: any way that works */
        ret = avformat_seek_file(c->fmt, c->video->stream, INT64_MIN, ts, ts, 0);
    if (ret < 0 && key == 0)
        ret = av_seek_frame(c->fmt, -1, 0, AVSEEK_FLAG_BYTE);
    return ret;
}

/* Read the next packet of our stream into c->pkt.  0, AVERROR_EOF or error. */
static int read_packet(struct dec_ctx *c)
{
    int ret;

    for (;;) {
        if ((ret = av_read_frame(c->fmt, c->pkt)) < 0)
            return ret;
        if (c->pkt->stream_index == c->video->stream)
            return 0;
        av_packet_unref(c->pkt);
    }
}

/*
 * Seek so that the next packet fed is the keyframe `key` or one before it.
 * The demuxer may land past the requested point (bad index, a format that
 * seeks by time): then back off to earlier keyframes, and finally the start.
 */
static int position_at(struct dec_ctx *c, size_t key)
{
    const struct video *v = c->video;

    /* A fresh codec for every seek, as `ffmpeg -ss` has: a flush does not
     * reset everything (H.264 parameter sets parsed from a damaged packet,
     * seen by a frame thread) and a frame must decode the same whatever was
     * decoded before it.  Measured cost: well under a millisecond. */
    c->positioned = 0;
    if (c->used || c->open_threads != c->threads) {
        int ret = reopen_codec(c);

        if (ret < 0)
            return ret;             /* no codec to flush; reopened next time */
        c->used = 0;
    } else {
        avcodec_flush_buffers(c->codec);
    }
    c->have_pending = 0;
    c->last_pts = INT64_MIN;
    av_packet_unref(c->pkt);
    for (int attempt = 0; attempt <= MAX_SEEK_RETRIES + 1; attempt++) {
        size_t at;
        int ret = seek_to(c, key);

        if (ret >= 0)
            ret = read_packet(c);
        if (ret < 0 && key == 0)
            return ret;
        if (ret >= 0) {
            at = index_find_packet(&v->index, c->pkt->dts, c->pkt->pos);
            if (at != SIZE_MAX && at <= key) {
                c->have_pending = 1;
                c->start_packet = at;
                c->next_packet = at;
                c->positioned = 1;
                c->last_pts = INT64_MIN;
                return 0;
            }
            if (key == 0 && at == SIZE_MAX) {
                /* At the start, but the packet is not in the index (the
                 * demuxer changed its mind): decode from here unpositioned;
                 * frames are told apart by pts anyway. */
                c->have_pending = 1;
                return 0;
            }
            av_packet_unref(c->pkt);
        }
        key = attempt >= MAX_SEEK_RETRIES ? 0 : index_earlier_key(&v->index, key);
    }
    return AVERROR(ESPIPE);
}

/* Feed one packet (or the end-of-stream flush).  0 or error. */
static int feed(struct dec_ctx *c, int *eof)
{
    int ret = 0;

    if (!c->have_pending)
        ret = read_packet(c);
    c->have_pending = 0;
    if (ret < 0) {
        /* End of file, or a read error (truncated file): flush what we have. */
        *eof = 1;
        c->positioned = 0;
        ret = avcodec_send_packet(c->codec, NULL);
        return ret == AVERROR_EOF ? 0 : ret;
    }
    c->next_packet++;
    c->last_pos = c->pkt->pos;
    /* Read per packet by the decoder (and by frame threads at submit). */
    c->codec->skip_frame = c->pkt->pts != AV_NOPTS_VALUE && c->pkt->pts < c->skip_before &&
                                   !(c->pkt->flags & AV_PKT_FLAG_KEY)
                               ? AVDISCARD_NONREF : AVDISCARD_DEFAULT;
    ret = avcodec_send_packet(c->codec, c->pkt);
    av_packet_unref(c->pkt);
    c->used = 1;
    return ret;
}

static void keep(AVFrame *dst, AVFrame *src)
{
    av_frame_unref(dst);
    av_frame_move_ref(dst, src);
}

#define OVERSHOT 1
#define PREVIOUS 2
/* How many GOPs further back to look for a frame the decode did not give. */
#define MAX_MISSING_BACKOFF 2

/*
 * Decode from the current position until the frame with pts `target` comes
 * out.  0: c->out is that frame.  PREVIOUS: the target never came out and
 * c->out is the frame before it (the frame on screen at target, if the
 * stream really lost it).  OVERSHOT: the first frame out was already past
 * target (c->out holds it).  Else a negative AVERROR.
 */
static int decode_until(struct dec_ctx *c, int64_t target, int skip, size_t alone,
                        int (*stop)(void *), void *arg, char *err, size_t errlen)
{
    int eof = 0, bad = 0, ret;

    av_frame_unref(c->cand);
    c->skip_before = skip ? target : INT64_MIN;
    for (;;) {
        if (stop && stop(arg))
            return AVERROR_EXIT;
        while ((ret = avcodec_receive_frame(c->codec, c->frame)) >= 0) {
            int64_t pts = dec_frame_pts(c->frame);

            if (pts == AV_NOPTS_VALUE && c->video->synthetic_pts)
                /* Named as the decode to index named it (load.c): one
                 * frame after the previous, the first at the start. */
                pts = c->frame->pts = c->last_pts == INT64_MIN ? c->video->start_pts :
                      index_sat_add(c->last_pts, c->video->default_dur);
            if (pts == AV_NOPTS_VALUE) {
                av_frame_unref(c->frame);
                continue;
            }
            if (pts < target) {
                keep(c->cand, c->frame);
                c->last_pts = pts;         /* consumed: reuse starts after it */
                continue;
            }
            if (pts > target && c->cand->buf[0]) {
                /* Lost frame: the one on screen at target is the previous;
                 * the frame in hand is consumed, so reuse is off. */
                keep(c->out, c->cand);
                av_frame_unref(c->frame);
                c->positioned = 0;
                return PREVIOUS;
            }
            keep(c->out, c->frame);
            c->last_pts = pts;
            return pts > target ? OVERSHOT : 0;
        }
        if (ret == AVERROR_EOF) {
            c->positioned = 0;
            if (c->cand->buf[0]) {
                keep(c->out, c->cand);
                return PREVIOUS;
            }
            avlog_explain(err, errlen, "frame not found in the decoded stream", ret);
            return AVERROR_STREAM_NOT_FOUND;
        }
        if (ret != AVERROR(EAGAIN)) {
            avlog_explain(err, errlen, "decode error", ret);
            c->positioned = 0;
            return ret;
        }
        if (eof) {
            snprintf(err, errlen, "decoder stalled at end of stream");
            c->positioned = 0;
            return AVERROR_BUG;
        }
        if (alone != SIZE_MAX && c->next_packet == alone && atomic_load(&c->bands))
            atomic_store(&c->bands_on, 1);
        ret = feed(c, &eof);
        if (!eof && alone != SIZE_MAX && c->next_packet == alone + 1) {
            /* The target is the keyframe just fed: drain it out now rather
             * than decoding the frames the reorder delay would ask for.  The
             * codec is then spent: reopened at the next seek. */
            avcodec_send_packet(c->codec, NULL);
            eof = 1;
            c->positioned = 0;
        }
        if (ret < 0 && ret != AVERROR(EAGAIN) && ++bad > MAX_BAD_PACKETS) {
            c->positioned = 0;
{
                char what[64];

                snprintf(what, sizeof(what), "invalid data at %lld bytes", (long long)c->last_pos);
                avlog_explain(err, errlen, what, ret);
            }
            return ret;
        }
    }
}

int dec_ctx_get(struct dec_ctx *c, size_t f, int (*stop)(void *), void *arg,
                AVFrame **out, char *err, size_t errlen)
{
    int64_t target = c->video->index.frames[f].pts;
    size_t key = start_packet_for(c->video, f);
    int continuing = dec_ctx_can_continue(c, f), missing = 0, ret;
    /* Frames timed by counting must all come out: never skip there. */
    int skip = c->skip_nonref && !c->video->synthetic_pts;

    avlog_clear();
    c->seek_ms = c->decode_ms = 0;

    for (int attempt = 0;; attempt++) {
        double t0 = log_clock_ms();

        if (!continuing && (ret = position_at(c, key)) < 0) {
            snprintf(err, errlen, "cannot seek: %s", av_err2str(ret));
            return ret;
        }
        c->seek_ms += log_clock_ms() - t0;
        t0 = log_clock_ms();
        size_t alone = !continuing && decodes_alone(c->video, key, f) ? key : SIZE_MAX;

        ret = decode_until(c, target, skip, alone, stop, arg, err, errlen);
        atomic_store(&c->bands_on, 0);
        c->decode_ms += log_clock_ms() - t0;
        if ((ret == PREVIOUS || ret == AVERROR_STREAM_NOT_FOUND) && skip) {
            /* The target did not come out: whatever is shown instead must
             * not depend on what was skipped.  Once more, decoding all. */
            skip = 0;
            c->positioned = 0;
            continuing = 0;
            continue;
        }
        if ((ret == PREVIOUS || ret == AVERROR_STREAM_NOT_FOUND) && key > 0 &&
            missing++ < MAX_MISSING_BACKOFF) {
            /* The target did not come out: some decoders (H.264 with
             * non-IDR I-frames) drop frames after a seek that a decode from
             * an earlier GOP gives.  Try from further back, a little. */
            c->positioned = 0;
            continuing = 0;
            key = index_earlier_key(&c->video->index, key);
            continue;
        }
        if (ret != OVERSHOT || (!continuing && key == 0))
            break;
        /*
         * The first frame out is past the target: the decoder started too
         * late (a "keyframe" that is not one, open-GOP leading frames that
         * need the previous GOP) or, when reusing, the target went by.
         * Start again from an earlier keyframe; from the very start, the
         * first frame the stream can give is the answer.
         */
        c->positioned = 0;
        key = continuing ? key : attempt >= MAX_SEEK_RETRIES ? 0 : index_earlier_key(&c->video->index, key);
        continuing = 0;
    }
    if (ret < 0)
        return ret;
    err[0] = 0;                   /* a retry may have left a message */
    *out = c->out;
    return 0;
}

int dec_ctx_decode_all(struct dec_ctx *c,
                       void (*on_frame)(void *arg, const AVFrame *f, size_t last_packet),
                       void *arg, int (*stop)(void *), void *stop_arg)
{
    int eof = 0, ret;

    c->skip_before = INT64_MIN;
    if ((ret = position_at(c, 0)) < 0)
        return ret;
    for (;;) {
        if (stop && stop(stop_arg))
            return AVERROR_EXIT;
        while ((ret = avcodec_receive_frame(c->codec, c->frame)) >= 0) {
            on_frame(arg, c->frame, c->next_packet ? c->next_packet - 1 : 0);
            av_frame_unref(c->frame);
        }
        if (ret == AVERROR_EOF || eof)
            break;
        if (ret != AVERROR(EAGAIN))
            return ret;
        feed(c, &eof);          /* bad packets are skipped, as the CLI does */
    }
    c->positioned = 0;
    return 0;
}
