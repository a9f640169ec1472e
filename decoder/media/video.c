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
#include <unistd.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/display.h>
#include <libavutil/pixdesc.h>

#include "avlog.h"
#include "fdio.h"
#include "video.h"

int video_fstat(int fd, struct video_id *id)
{
    struct stat st;

    if (fstat(fd, &st) < 0)
        return -errno;
    if (!S_ISREG(st.st_mode))
        return -EINVAL;
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

/* The stream's side data of a type (at least `size` bytes), or NULL.
 * FFmpeg 6.1 moved stream side data into codecpar (av_stream_get_side_data
 * is deprecated there). */
static const void *stream_side_data(const AVStream *st, enum AVPacketSideDataType type,
                                    size_t size)
{
#if LIBAVFORMAT_VERSION_INT >= AV_VERSION_INT(60, 15, 100)
    const AVPacketSideData *sd = av_packet_side_data_get(st->codecpar->coded_side_data,
                                                         st->codecpar->nb_coded_side_data, type);

    return sd && sd->size >= size ? sd->data : NULL;
#else
    size_t have = 0;
    const uint8_t *m = av_stream_get_side_data(st, type, &have);

    return m && have >= size ? m : NULL;
#endif
}

/* The stream's display matrix, or NULL. */
static const int32_t *display_matrix(const AVStream *st)
{
    return stream_side_data(st, AV_PKT_DATA_DISPLAYMATRIX, 9 * sizeof(int32_t));
}

/*
 * Map the stream's display matrix to the transform the ffmpeg CLI applies by
 * default (fftools autorotate): transpose and/or mirror, as (transpose,
 * reverse x, reverse y) read by convert.c.  Arbitrary angles are not rotated.
 */
static void read_rotation(struct video *v, AVStream *st)
{
    const int32_t *m = display_matrix(st);
    double theta;

    memset(v->rotation, 0, sizeof(v->rotation));
    if (!m)
        return;
    /* A degenerate matrix (zero scale) gives NaN: casting that to int is
     * undefined, so such a matrix means no rotation. */
    theta = -round(av_display_rotation_get(m));
    if (!isfinite(theta))
        return;
    theta -= 360 * floor(theta / 360 + 0.9 / 360);
    v->info.rotation = (int)theta;
    if (v->info.rotation != 90 && v->info.rotation != 180 && v->info.rotation != 270)
        v->info.rotation = 0;
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

/* Packets whose frames are shown: not discarded (edit lists) and with a
 * timestamp.  A packet without pts takes its dts when the stream has no
 * reordering. */
static int64_t shown_pts(const AVPacket *pkt, int reorders)
{
    if (pkt->flags & AV_PKT_FLAG_DISCARD)
        return AV_NOPTS_VALUE;
    if (pkt->pts != AV_NOPTS_VALUE)
        return pkt->pts;
    return reorders ? AV_NOPTS_VALUE : pkt->dts;
}

/*
 * One pass over the file's packets, checking stop() at every packet.  A read
 * error ends the scan: what was read before it stays usable (a truncated
 * file still serves its first frames).  *missing counts shown packets
 * without a timestamp.
 */
static int scan_packets(struct video *v, AVFormatContext *fmt, int reorders, size_t *missing,
                        int (*stop)(void *), void *arg)
{
    AVPacket *pkt = av_packet_alloc();
    int ret = 0;

    if (!pkt)
        return AVERROR(ENOMEM);
    for (;;) {
        if (stop && stop(arg)) {
            ret = AVERROR_EXIT;
            break;
        }
        if ((ret = av_read_frame(fmt, pkt)) < 0)
            break;
        if (pkt->stream_index == v->stream) {
            int64_t pts = shown_pts(pkt, reorders);

            ret = index_add_packet(&v->index, pkt->pts, pkt->dts, pkt->pos,
                                   pkt->flags & AV_PKT_FLAG_KEY);
            if (ret >= 0 && pts == AV_NOPTS_VALUE && !(pkt->flags & AV_PKT_FLAG_DISCARD))
                (*missing)++;
            if (ret >= 0 && pts != AV_NOPTS_VALUE)
                ret = index_add_frame(&v->index, pts, v->index.n_packets - 1,
                                      pkt->flags & AV_PKT_FLAG_KEY, pkt->duration);
        }
        av_packet_unref(pkt);
        if (ret < 0)
            break;
    }
    av_packet_free(&pkt);
    return ret == AVERROR_EOF || ret >= 0 ? 0 : ret;
}

/* FFmpeg's name for an enum value, or "unknown". */
static void name_or_unknown(char *out, size_t len, const char *name)
{
    snprintf(out, len, "%s", name ? name : "unknown");
}

/* The stream's colorimetry (color.h) and its names in the info. */
static void fill_color(struct video *v, const AVStream *st)
{
    static const struct { unsigned bit; const char *name; } assumed[] = {
        {COLOR_ASSUMED_MATRIX, "color_space"}, {COLOR_ASSUMED_RANGE, "color_range"},
        {COLOR_ASSUMED_PRIMARIES, "color_primaries"}, {COLOR_ASSUMED_TRANSFER, "color_transfer"},
    };
    struct video_color *c = &v->color;
    char *list = v->info.color_assumed;
    size_t len = sizeof(v->info.color_assumed), n = 0;

    color_resolve(st->codecpar,
                  stream_side_data(st, AV_PKT_DATA_MASTERING_DISPLAY_METADATA,
                                   sizeof(AVMasteringDisplayMetadata)),
                  stream_side_data(st, AV_PKT_DATA_CONTENT_LIGHT_LEVEL,
                                   sizeof(AVContentLightMetadata)), c);
    name_or_unknown(v->info.color_space, sizeof(v->info.color_space),
                    av_color_space_name(c->matrix));
    name_or_unknown(v->info.color_range, sizeof(v->info.color_range),
                    av_color_range_name(c->range));
    name_or_unknown(v->info.color_primaries, sizeof(v->info.color_primaries),
                    av_color_primaries_name(c->primaries));
    name_or_unknown(v->info.color_transfer, sizeof(v->info.color_transfer),
                    av_color_transfer_name(c->transfer));
    snprintf(v->info.hdr, sizeof(v->info.hdr), "%s", color_hdr_name(c->hdr));
    list[0] = 0;
    for (size_t i = 0; i < sizeof(assumed) / sizeof(assumed[0]); i++)
        if (c->assumed & assumed[i].bit)
            n += (size_t)snprintf(list + n, n < len ? len - n : 0, "%s%s", n ? "," : "",
                                  assumed[i].name);
    if (!n)
        snprintf(list, len, "none");
}

static void fill_info(struct video *v, AVFormatContext *fmt, AVStream *st)
{
    const AVCodecParameters *par = st->codecpar;
    AVRational rate = st->avg_frame_rate.num ? st->avg_frame_rate : st->r_frame_rate;
    const AVPixFmtDescriptor *pd = av_pix_fmt_desc_get(par->format);
    const char *profile = avcodec_profile_name(par->codec_id, par->profile);
    int w = par->width, h = par->height, dw;

    v->info.width = v->rotation[0] ? h : w;
    v->info.height = v->rotation[0] ? w : h;
    /* The CLI's choice: the stream's SAR, else the codec's. */
    v->sar = av_guess_sample_aspect_ratio(fmt, st, NULL);
    v->info.coded_width = w;
    v->info.coded_height = h;
    v->info.sar_num = v->sar.num > 0 && v->sar.den > 0 ? v->sar.num : 0;
    v->info.sar_den = v->info.sar_num ? v->sar.den : 1;
    dw = v->info.sar_num ? (int)av_rescale(w, v->sar.num, v->sar.den) : w;
    v->info.display_width = v->rotation[0] ? h : dw;
    v->info.display_height = v->rotation[0] ? dw : h;
    v->info.frame_rate = rate.den && rate.num > 0 ? av_q2d(rate) : 0;
    v->info.real_frame_rate = st->r_frame_rate.den && st->r_frame_rate.num > 0
                                  ? av_q2d(st->r_frame_rate) : 0;
    snprintf(v->info.codec, sizeof(v->info.codec), "%s", avcodec_get_name(par->codec_id));
    snprintf(v->info.profile, sizeof(v->info.profile), "%s", profile ? profile : "");
    name_or_unknown(v->info.pix_fmt, sizeof(v->info.pix_fmt), pd ? pd->name : NULL);
    v->info.bit_depth = pd ? pd->comp[0].depth : 0;
    fill_color(v, st);
    snprintf(v->info.format, sizeof(v->info.format), "%s", fmt->iformat->name);
    v->info.bit_rate = fmt->bit_rate > 0 ? fmt->bit_rate : 0;
    if (fmt->start_time != AV_NOPTS_VALUE)
        v->info.start_time = fmt->start_time / (double)AV_TIME_BASE;
    if (fmt->duration != AV_NOPTS_VALUE && fmt->duration > 0)
        v->info.duration = fmt->duration / (double)AV_TIME_BASE;
}

/* Probe the header and pick the stream; "" in v->error, or why not. */
static void probe(struct video *v, AVFormatContext *fmt)
{
    AVStream *st;
    int ret;

    if ((ret = fdio_find_stream_info(fmt)) < 0)
        return fail(v, "cannot read stream info", ret);
    ret = av_find_best_stream(fmt, AVMEDIA_TYPE_VIDEO, -1, -1, NULL, 0);
    if (ret < 0 || (fmt->streams[ret]->disposition & AV_DISPOSITION_ATTACHED_PIC))
        return fail(v, "no video stream", 0);
    v->stream = ret;
    st = fmt->streams[ret];
    if (st->codecpar->format == AV_PIX_FMT_NONE)
        /* Probing decoded nothing: every packet is bad (or the codec is
         * unsupported in a way only decoding shows). */
        return fail(v, "undecodable video stream", AVERROR_INVALIDDATA);
    if (st->codecpar->width <= 0 || st->codecpar->height <= 0)
        /* The header's size was rejected (absurd dimensions) or is absent. */
        return fail(v, "invalid video header", AVERROR_INVALIDDATA);
    if ((int64_t)st->codecpar->width * st->codecpar->height > FDIO_MAX_PIXELS)
        return fail(v, "picture too large to serve", AVERROR(ERANGE));
    if (!avcodec_find_decoder(st->codecpar->codec_id)) {
        snprintf(v->error, sizeof(v->error), "no decoder for codec %s",
                 avcodec_get_name(st->codecpar->codec_id));
        return;
    }
    if (st->time_base.num <= 0 || st->time_base.den <= 0)
        return fail(v, "invalid time base", AVERROR_INVALIDDATA);
    for (unsigned i = 0; i < fmt->nb_streams; i++)
        if ((int)i != v->stream)
            fmt->streams[i]->discard = AVDISCARD_ALL;
    v->time_base = st->time_base;
    if (!(v->codecpar = avcodec_parameters_alloc()) ||
        (ret = avcodec_parameters_copy(v->codecpar, st->codecpar)) < 0)
        return fail(v, "cannot open", AVERROR(ENOMEM));
    if (fmt->start_time != AV_NOPTS_VALUE)
        v->start_pts = av_rescale_q(fmt->start_time, AV_TIME_BASE_Q, st->time_base);
    else if (st->start_time != AV_NOPTS_VALUE)
        v->start_pts = st->start_time;
    if (v->start_pts == AV_NOPTS_VALUE)
        v->start_pts = 0;
    v->seek_by_bytes = !!(fmt->iformat->flags & AVFMT_TS_DISCONT);
    /* Interlaced streams may carry a frame's two fields in two packets. */
    v->frames_whole = st->codecpar->field_order == AV_FIELD_PROGRESSIVE ||
                      st->codecpar->codec_id == AV_CODEC_ID_VP8 ||
                      st->codecpar->codec_id == AV_CODEC_ID_VP9 ||
                      st->codecpar->codec_id == AV_CODEC_ID_AV1;
    v->default_dur = 1;
    if (st->avg_frame_rate.num > 0 && st->avg_frame_rate.den > 0)
        v->default_dur = FFMAX(1, av_rescale_q(1, av_inv_q(st->avg_frame_rate), st->time_base));
    read_rotation(v, st);
    fill_info(v, fmt, st);
}

static void load(struct video *v, int (*before_scan)(struct video *, void *), void *hook_arg,
                 int (*stop)(void *), void *arg)
{
    AVFormatContext *fmt = NULL;
    size_t missing = 0;
    int ret;

    avlog_clear();
    if (v->id.size == 0)
        return fail(v, "empty file", 0);
    if (fdio_open_input(v->fd, v->id.size, v->name, &fmt, v->error, sizeof(v->error)) < 0)
        return;
    probe(v, fmt);
    if (!v->error[0] && before_scan && before_scan(v, hook_arg) == 1) {
        v->index_stored = 1;
    } else if (!v->error[0]) {
        ret = scan_packets(v, fmt, fmt->streams[v->stream]->codecpar->video_delay > 0,
                           &missing, stop, arg);
        if (ret == AVERROR_EXIT)
            v->stopped = 1;
        else if (ret < 0 && !v->index.n_entries && !missing)
            fail(v, "cannot read packets", ret);
        else if (ret < 0 && ret != AVERROR(ENOMEM))
            ; /* a truncated file: keep what was read */
        else if (ret < 0)
            fail(v, "cannot index", ret);
        v->index_by_decoding = missing > 0;
    }
    fdio_close_input(&fmt);
}

struct video *video_open(int fd, const char *name, const struct video_id *id,
                         int (*stop)(void *), void *arg)
{
    return video_open_hooked(fd, name, id, NULL, NULL, stop, arg);
}

struct video *video_open_hooked(int fd, const char *name, const struct video_id *id,
                                int (*before_scan)(struct video *v, void *arg), void *hook_arg,
                                int (*stop)(void *), void *arg)
{
    struct video *v = calloc(1, sizeof(*v));

    if (!v || !(v->name = strdup(name))) {
        free(v);
        close(fd);
        return NULL;
    }
    atomic_init(&v->refs, 1);
    pthread_mutex_init(&v->scenes_lock, NULL);
    v->fd = fd;
    v->id = *id;
    snprintf(v->key_prefix, sizeof(v->key_prefix), "%ju:%ju:%jd:%" PRId64 ":",
             (uintmax_t)id->dev, (uintmax_t)id->ino, (intmax_t)id->size, id->mtime_ns);
    load(v, before_scan, hook_arg, stop, arg);
    return v;
}

void video_finish(struct video *v)
{
    int ret;

    if (!v->error[0] && !v->stopped && !v->index_stored &&
        (ret = index_finish(&v->index, v->default_dur)) < 0)
        fail(v, "cannot index", ret);
    if (!v->error[0] && !v->stopped && !v->index.n_frames)
        fail(v, "no video frames", 0);
    v->ok = !v->error[0] && !v->stopped;
    v->info.ok = v->ok;
    if (v->ok) {
        /* From the frames when there are any: the end of the last one. */
        v->info.duration = video_seconds(v, v->index.frames[v->index.n_frames - 1].next_pts);
        v->info.frame_count = v->index.n_frames;
        v->info.keyframe_count = index_keyframe_count(&v->index);
        v->info.error[0] = 0;
    } else {
        snprintf(v->info.error, sizeof(v->info.error), "%s",
                 v->stopped ? "cancelled" : v->error[0] ? v->error : "not a video");
    }
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
    index_free(&v->index);
    free(atomic_load(&v->scenes));
    pthread_mutex_destroy(&v->scenes_lock);
    avcodec_parameters_free(&v->codecpar);
    free(v->name);
    close(v->fd);
    free(v);
}

size_t video_memory(const struct video *v)
{
    size_t n = sizeof(*v) + index_memory(&v->index) + (v->name ? strlen(v->name) + 1 : 0);

    if (atomic_load(&v->scenes))
        n += v->index.n_frames * sizeof(float);
    if (v->codecpar)
        n += sizeof(*v->codecpar) + (size_t)v->codecpar->extradata_size;
    return n;
}

int64_t video_ticks(const struct video *v, double seconds)
{
    return index_sat_add(video_span_ticks(v, seconds), v->start_pts);
}

int64_t video_span_ticks(const struct video *v, double seconds)
{
    double ticks = seconds * v->time_base.den / v->time_base.num;

    /* Far past any real stream (or infinite): saturate, never overflow. */
    if (!(ticks < 4e18))
        return ticks < 0 ? -(INT64_MAX / 2) : INT64_MAX / 2;
    if (ticks < -4e18)
        return -(INT64_MAX / 2);
    return llround(ticks);
}

double video_seconds(const struct video *v, int64_t pts)
{
    return ((double)pts - (double)v->start_pts) * v->time_base.num / v->time_base.den;
}
