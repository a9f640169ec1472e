/*
 * Open a source video once: pick its video stream, read its metadata and build
 * the frame index from one pass over the packets (no decoding), the way
 * torchcodec and FFMS2 index a file.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/display.h>

#include "avlog.h"
#include "seek.h"
#include "video.h"

int video_stat(const char *path, struct video_id *id)
{
    struct stat st;

    if (stat(path, &st) < 0)
        return -errno;
    id->dev = st.st_dev;
    id->ino = st.st_ino;
    id->size = st.st_size;
    id->mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
    return 0;
}

static void fail(struct video *v, const char *what, int averr)
{
    v->ok = 0;
    if (averr)
        avlog_explain(v->error, sizeof(v->error), what, averr);
    else
        snprintf(v->error, sizeof(v->error), "%s", what);
}

/*
 * Map the stream's display matrix to the transform the ffmpeg CLI applies by
 * default (fftools autorotate): transpose and/or mirror, as (transpose,
 * reverse x, reverse y) read by convert.c.  Arbitrary angles are not rotated.
 */
static void read_rotation(struct video *v, AVStream *st)
{
    const int32_t *m = (const int32_t *)av_stream_get_side_data(
        st, AV_PKT_DATA_DISPLAYMATRIX, NULL);
    double theta;

    memset(v->rotation, 0, sizeof(v->rotation));
    if (!m)
        return;
    theta = -round(av_display_rotation_get(m));
    theta -= 360 * floor(theta / 360 + 0.9 / 360);
    if (fabs(theta - 90) < 1.0) {          /* transpose=clock, or cclock_flip */
        v->rotation[0] = 1;
        v->rotation[2] = !(m[3] > 0);
    } else if (fabs(theta - 180) < 1.0) {  /* hflip and/or vflip */
        v->rotation[1] = m[0] < 0;
        v->rotation[2] = m[4] < 0;
    } else if (fabs(theta - 270) < 1.0) {  /* transpose=cclock, or clock_flip */
        v->rotation[0] = 1;
        v->rotation[1] = 1;
        v->rotation[2] = m[3] < 0;
    } else if (fabs(theta) < 1.0) {
        v->rotation[2] = m[4] < 0;
    }
}

static int cmp_frame_pts(const void *a, const void *b)
{
    const struct select_frame *x = a, *y = b;

    if (x->pts != y->pts)
        return x->pts < y->pts ? -1 : 1;
    /* Equal pts: keep decode order (stashed in next_pts while sorting). */
    return x->next_pts < y->next_pts ? -1 : x->next_pts > y->next_pts;
}

/* Append one packet to the index, growing the array geometrically. */
static int add_packet(struct video *v, size_t *cap, const AVPacket *pkt)
{
    if (v->n_packets == *cap) {
        size_t ncap = *cap ? *cap * 2 : 1024;
        struct index_packet *p = realloc(v->packets, ncap * sizeof(*p));

        if (!p)
            return AVERROR(ENOMEM);
        v->packets = p;
        *cap = ncap;
    }
    v->packets[v->n_packets++] = (struct index_packet){
        .pts = pkt->pts, .dts = pkt->dts, .pos = pkt->pos,
        .key = !!(pkt->flags & AV_PKT_FLAG_KEY),
    };
    return 0;
}

/* Packets whose frames are shown: not discarded (edit lists) and with a
 * timestamp.  A packet without pts takes its dts when the stream has no
 * reordering. */
static int64_t shown_pts(const struct index_packet *p, const AVPacket *pkt, int reorders)
{
    if (pkt && (pkt->flags & AV_PKT_FLAG_DISCARD))
        return AV_NOPTS_VALUE;
    if (p->pts != AV_NOPTS_VALUE)
        return p->pts;
    return reorders ? AV_NOPTS_VALUE : p->dts;
}

/*
 * One pass over the file's packets.  A read error ends the scan: what was read
 * before it stays usable (a truncated file still serves its first frames).
 */
static int scan_packets(struct video *v, AVFormatContext *fmt, int reorders,
                        int64_t **durations_out, size_t *missing)
{
    AVPacket *pkt = av_packet_alloc();
    size_t cap = 0, fcap = 0;
    int64_t *dur = NULL;
    int ret = 0;

    if (!pkt)
        return AVERROR(ENOMEM);
    v->n_frames = 0;
    while ((ret = av_read_frame(fmt, pkt)) >= 0) {
        if (pkt->stream_index == v->stream) {
            int64_t pts;

            ret = add_packet(v, &cap, pkt);
            pts = ret < 0 ? AV_NOPTS_VALUE :
                  shown_pts(&v->packets[v->n_packets - 1], pkt, reorders);
            if (ret >= 0 && pts == AV_NOPTS_VALUE && !(pkt->flags & AV_PKT_FLAG_DISCARD))
                (*missing)++;
            if (ret >= 0 && pts != AV_NOPTS_VALUE && v->n_frames == fcap) {
                size_t ncap = fcap ? fcap * 2 : 1024;
                struct select_frame *f = realloc(v->frames, ncap * sizeof(*f));
                int64_t *d = f ? realloc(dur, ncap * sizeof(*d)) : NULL;

                if (f)
                    v->frames = f;
                if (d)
                    dur = d;
                if (!f || !d)
                    ret = AVERROR(ENOMEM);
                else
                    fcap = ncap;
            }
            if (ret >= 0 && pts != AV_NOPTS_VALUE) {
                /* next_pts temporarily holds the packet position. */
                v->frames[v->n_frames] = (struct select_frame){
                    .pts = pts, .next_pts = (int64_t)v->n_packets - 1,
                    .keyframe = !!(pkt->flags & AV_PKT_FLAG_KEY),
                };
                dur[v->n_frames++] = pkt->duration;
            }
        }
        av_packet_unref(pkt);
        if (ret < 0)
            break;
    }
    av_packet_free(&pkt);
    *durations_out = dur;
    return ret == AVERROR_EOF || ret >= 0 ? 0 : ret;
}

/* Sort frames by pts, drop duplicate pts, and compute each frame's end. */
static int finish_index(struct video *v, const int64_t *dur, int64_t default_dur)
{
    size_t i, n = 0;
    int64_t *last_dur = NULL;

    /* Durations travel with the frames: sort (pts, packet) pairs first. */
    v->frame_packet = malloc((v->n_frames ? v->n_frames : 1) * sizeof(size_t));
    last_dur = malloc((v->n_packets ? v->n_packets : 1) * sizeof(int64_t));
    if (!v->frame_packet || !last_dur) {
        free(last_dur);
        return AVERROR(ENOMEM);
    }
    for (i = 0; i < v->n_frames; i++)
        last_dur[v->frames[i].next_pts] = dur[i];
    if (v->n_frames)
        qsort(v->frames, v->n_frames, sizeof(*v->frames), cmp_frame_pts);
    for (i = 0; i < v->n_frames; i++) {
        if (n && v->frames[i].pts == v->frames[n - 1].pts)
            continue;
        v->frame_packet[n] = (size_t)v->frames[i].next_pts;
        v->frames[n++] = v->frames[i];
    }
    v->n_frames = n;
    for (i = 0; i < n; i++) {
        if (i + 1 < n) {
            v->frames[i].next_pts = v->frames[i + 1].pts;
        } else {
            int64_t d = last_dur[v->frame_packet[i]];
            v->frames[i].next_pts = v->frames[i].pts + (d > 0 ? d : default_dur);
        }
    }
    free(last_dur);
    return 0;
}

static void fill_info(struct video *v, AVFormatContext *fmt, AVStream *st)
{
    AVRational rate = st->avg_frame_rate.num ? st->avg_frame_rate : st->r_frame_rate;
    int w = st->codecpar->width, h = st->codecpar->height;

    v->info.ok = 1;
    v->info.width = v->rotation[0] ? h : w;
    v->info.height = v->rotation[0] ? w : h;
    v->info.frame_rate = rate.den ? av_q2d(rate) : 0;
    snprintf(v->info.codec, sizeof(v->info.codec), "%s",
             avcodec_get_name(st->codecpar->codec_id));
    if (v->n_frames)
        v->info.duration = video_seconds(v, v->frames[v->n_frames - 1].next_pts);
    else if (fmt->duration != AV_NOPTS_VALUE)
        v->info.duration = fmt->duration / (double)AV_TIME_BASE;
}

/* Frames collected from a full decode (index_by_decoding). */
struct collected {
    struct video *v;
    int64_t step;                 /* one frame, in ticks */
    int64_t *dur;
    size_t cap;
    int err;
};

static void collect_frame(void *arg, const AVFrame *f, size_t last_packet)
{
    struct collected *c = arg;
    struct video *v = c->v;
    int64_t pts = dec_frame_pts(f);

    if (c->err)
        return;
    if (pts == AV_NOPTS_VALUE) {
        /* No timestamp at all (raw streams): one frame after the previous,
         * as the ffmpeg CLI numbers them; the first at the start. */
        pts = v->n_frames ? v->frames[v->n_frames - 1].pts + c->step : v->start_pts;
    }
    if (v->n_frames == c->cap) {
        size_t ncap = c->cap ? c->cap * 2 : 1024;
        struct select_frame *fr = realloc(v->frames, ncap * sizeof(*fr));
        int64_t *d = fr ? realloc(c->dur, ncap * sizeof(*d)) : NULL;

        if (fr)
            v->frames = fr;
        if (d)
            c->dur = d;
        if (!fr || !d) {
            c->err = AVERROR(ENOMEM);
            return;
        }
        c->cap = ncap;
    }
    /* As in scan_packets, next_pts holds the packet position until sorted. */
    v->frames[v->n_frames] = (struct select_frame){
        .pts = pts, .next_pts = (int64_t)last_packet,
        .keyframe = f->key_frame || f->pict_type == AV_PICTURE_TYPE_I,
    };
    c->dur[v->n_frames++] = f->pkt_duration;
}

/*
 * Some packets carry no pts (MPEG-PS/ES, some AVI): only decoding tells the
 * frames' times, so decode the whole stream once and index what comes out,
 * named as a full decode names them.  Costs one decode of the file, once.
 */
static int index_by_decoding(struct video *v, int64_t **dur, int64_t default_dur)
{
    struct collected c = {.v = v, .step = default_dur};
    struct dec_ctx *ctx;
    char err[256];
    int ret;

    v->n_frames = 0;
    free(*dur);
    *dur = NULL;
    if ((ret = dec_ctx_open(v, 1, &ctx, err, sizeof(err))) < 0)
        return ret;
    ret = dec_ctx_decode_all(ctx, collect_frame, &c);
    dec_ctx_close(ctx);
    *dur = c.dur;
    return ret < 0 ? ret : c.err;
}

static void load(struct video *v)
{
    AVFormatContext *fmt = NULL;
    AVStream *st;
    int64_t *dur = NULL, default_dur;
    size_t missing = 0;
    int ret, reorders;

    avlog_clear();
    if (v->id.size == 0)
        return fail(v, "empty file", 0);
    if ((ret = avformat_open_input(&fmt, v->path, NULL, NULL)) < 0)
        return fail(v, "not a readable video", ret);
    if ((ret = avformat_find_stream_info(fmt, NULL)) < 0) {
        fail(v, "cannot read stream info", ret);
        goto out;
    }
    ret = av_find_best_stream(fmt, AVMEDIA_TYPE_VIDEO, -1, -1, NULL, 0);
    if (ret < 0 || (fmt->streams[ret]->disposition & AV_DISPOSITION_ATTACHED_PIC)) {
        fail(v, "no video stream", 0);
        goto out;
    }
    v->stream = ret;
    st = fmt->streams[ret];
    if (st->codecpar->format == AV_PIX_FMT_NONE) {
        /* Probing decoded nothing: every packet is bad (or the codec is
         * unsupported in a way only decoding shows). */
        fail(v, "undecodable video stream", AVERROR_INVALIDDATA);
        goto out;
    }
    if (st->codecpar->width <= 0 || st->codecpar->height <= 0) {
        /* The header's size was rejected (absurd dimensions) or is absent. */
        fail(v, "invalid video header", AVERROR_INVALIDDATA);
        goto out;
    }
    if (!avcodec_find_decoder(st->codecpar->codec_id)) {
        snprintf(v->error, sizeof(v->error), "no decoder for codec %s",
                 avcodec_get_name(st->codecpar->codec_id));
        goto out;
    }
    for (unsigned i = 0; i < fmt->nb_streams; i++)
        if ((int)i != v->stream)
            fmt->streams[i]->discard = AVDISCARD_ALL;
    v->time_base = st->time_base;
    if (fmt->start_time != AV_NOPTS_VALUE)
        v->start_pts = av_rescale_q(fmt->start_time, AV_TIME_BASE_Q, st->time_base);
    else if (st->start_time != AV_NOPTS_VALUE)
        v->start_pts = st->start_time;
    v->seek_by_bytes = !!(fmt->iformat->flags & AVFMT_TS_DISCONT);
    read_rotation(v, st);

    reorders = st->codecpar->video_delay > 0;
    if ((ret = scan_packets(v, fmt, reorders, &dur, &missing)) < 0 && !v->n_frames &&
        !missing) {
        fail(v, "cannot read packets", ret);
        goto out;
    }
    default_dur = 1;
    if (st->avg_frame_rate.num > 0)
        default_dur = FFMAX(1, av_rescale_q(1, av_inv_q(st->avg_frame_rate), st->time_base));
    if (missing && (ret = index_by_decoding(v, &dur, default_dur)) < 0) {
        fail(v, "cannot index by decoding", ret);
        goto out;
    }
    if ((ret = finish_index(v, dur, default_dur)) < 0) {
        fail(v, "cannot index", ret);
        goto out;
    }
    if (!v->n_frames) {
        fail(v, "no video frames", 0);
        goto out;
    }
    v->ok = 1;
    fill_info(v, fmt, st);
out:
    free(dur);
    avformat_close_input(&fmt);
}

struct video *video_open(const char *path, const struct video_id *id)
{
    struct video *v = calloc(1, sizeof(*v));

    if (!v || !(v->path = strdup(path))) {
        free(v);
        return NULL;
    }
    atomic_init(&v->refs, 1);
    v->id = *id;
    snprintf(v->key_prefix, sizeof(v->key_prefix), "%ju:%ju:%jd:%" PRId64 ":",
             (uintmax_t)id->dev, (uintmax_t)id->ino, (intmax_t)id->size, id->mtime_ns);
    load(v);
    if (!v->ok) {
        v->info.ok = 0;
        snprintf(v->info.error, sizeof(v->info.error), "%s", v->error[0] ? v->error : "not a video");
    }
    return v;
}

struct video *video_ref(struct video *v)
{
    atomic_fetch_add(&v->refs, 1);
    return v;
}

void video_unref(struct video *v)
{
    if (!v || atomic_fetch_sub(&v->refs, 1) != 1)
        return;
    free(v->frames);
    free(v->frame_packet);
    free(v->packets);
    free(v->path);
    free(v);
}

int64_t video_ticks(const struct video *v, double seconds)
{
    double ticks = seconds * v->time_base.den / v->time_base.num;

    /* Far past any real stream: saturate instead of overflowing. */
    if (!(ticks < 4e18))
        return INT64_MAX / 2;
    return llround(ticks) + v->start_pts;
}

double video_seconds(const struct video *v, int64_t pts)
{
    return (double)(pts - v->start_pts) * v->time_base.num / v->time_base.den;
}

size_t video_seek_packet(const struct video *v, size_t f)
{
    int64_t target = v->frames[f].pts;

    for (size_t k = v->frame_packet[f] + 1; k-- > 0;) {
        const struct index_packet *p = &v->packets[k];
        int64_t ts = p->pts != AV_NOPTS_VALUE ? p->pts : p->dts;

        if (p->key && ts != AV_NOPTS_VALUE && ts <= target)
            return k;
    }
    return 0;
}

size_t video_find_packet(const struct video *v, int64_t dts, int64_t pos)
{
    for (size_t k = 0; k < v->n_packets; k++)
        if (v->packets[k].dts == dts && (pos < 0 || v->packets[k].pos < 0 ||
                                         v->packets[k].pos == pos))
            return k;
    return SIZE_MAX;
}
