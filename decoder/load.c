/*
 * decoder/load — see load.h.  Decoding to index is the FFMS2 way for streams
 * without pts (MPEG-PS/ES, some AVI): frames are named as a full decode
 * names them.  It costs one decode of the file, once per version.
 */
#include <libavutil/avutil.h>
#include <libavutil/version.h>

#include "load.h"
#include "seek.h"

/* FFmpeg 6.1 flags keyframes in AVFrame.flags (key_frame is deprecated);
 * 5.1 only has key_frame. */
static int frame_is_key(const AVFrame *f)
{
#ifdef AV_FRAME_FLAG_KEY
    return !!(f->flags & AV_FRAME_FLAG_KEY);
#else
    return f->key_frame;
#endif
}

/* AVFrame.duration replaced pkt_duration (lavu 57.30, FFmpeg 6.0). */
static int64_t frame_duration(const AVFrame *f)
{
#if LIBAVUTIL_VERSION_INT >= AV_VERSION_INT(57, 30, 100)
    return f->duration;
#else
    return f->pkt_duration;
#endif
}

struct collected {
    struct video *v;
    int64_t last_pts;
    int err;
};

static void collect_frame(void *arg, const AVFrame *f, size_t last_packet)
{
    struct collected *c = arg;
    int64_t pts = dec_frame_pts(f);
    int ret;

    if (c->err)
        return;
    if (pts == AV_NOPTS_VALUE) {
        /* No timestamp at all (raw streams): one frame after the previous,
         * as the ffmpeg CLI numbers them; the first at the start.  Such
         * frames are found again only by decoding from the start (seek.c). */
        pts = c->v->index.n_entries ? index_sat_add(c->last_pts, c->v->default_dur)
                                    : c->v->start_pts;
        c->v->synthetic_pts = 1;
    }
    c->last_pts = pts;
    ret = index_add_frame(&c->v->index, pts, last_packet,
                          frame_is_key(f) || f->pict_type == AV_PICTURE_TYPE_I,
                          frame_duration(f));
    if (ret < 0)
        c->err = ret;
}

static void index_by_decoding(struct video *v, int (*stop)(void *), void *arg)
{
    struct collected c = {.v = v};
    struct dec_ctx *ctx;
    int ret;

    index_reset_frames(&v->index);
    if (dec_ctx_open(v, 1, &ctx, v->error, sizeof(v->error)) < 0)
        return;
    ret = dec_ctx_decode_all(ctx, collect_frame, &c, stop, arg);
    dec_ctx_close(ctx);
    if (ret == AVERROR_EXIT)
        v->stopped = 1;
    else if (ret < 0 || c.err < 0)
        snprintf(v->error, sizeof(v->error), "cannot index by decoding: %s",
                 av_err2str(ret < 0 ? ret : c.err));
}

struct video *video_load(int fd, const char *name, const struct video_id *id,
                         int (*stop)(void *), void *arg)
{
    struct video *v = video_open(fd, name, id, stop, arg);

    if (v && !v->error[0] && !v->stopped && v->index_by_decoding)
        index_by_decoding(v, stop, arg);
    if (v)
        video_finish(v);
    return v;
}
