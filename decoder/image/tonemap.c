/*
 * decoder/image/tonemap — the HDR to SDR chain as a libavfilter graph
 * (tonemap.h): buffer -> TONEMAP_CHAIN_* -> buffersink, one thread.
 *
 * One graph is kept between frames for the whole process, not one per
 * worker: the graph's links pool their float frames, about 120 MB at 1080p
 * and 430 MB at 4K (measured: VmHWM with one worker), and one per worker
 * kept up to 240 MB resident with two workers after a single HLG clip had
 * been read.  Kept up to 4K (freeing a 4K graph after each frame made the
 * next frame's tone mapping cost 450 ms instead of 170: fresh pages for
 * every float frame); a larger frame's graph (up to 3.4 GB at 8192x8192)
 * is freed after its frame.  Freed by tonemap_release() (decoder_free).
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libavfilter/avfilter.h>
#include <libavfilter/buffersink.h>
#include <libavfilter/buffersrc.h>
#include <libavutil/mastering_display_metadata.h>

#include "tonemap.h"

/* The largest frames whose graph a thread keeps: 4K UHD. */
#define KEEP_PIXELS (3840 * 2160)

struct tonemap_state {
    AVFilterGraph *graph;
    AVFilterContext *src, *sink;
    int w, h, format, deep;
};

/* The one graph kept between frames, for the whole process (not one per
 * worker: each kept graph is 120 MB at 1080p, 430 MB at 4K).  A worker takes
 * it for its frame; a worker that finds it taken builds its own, and of the
 * two only one is kept when they are done. */
static pthread_mutex_t kept_lock = PTHREAD_MUTEX_INITIALIZER;
static struct tonemap_state *kept;

static void state_free(struct tonemap_state *s)
{
    if (!s)
        return;
    avfilter_graph_free(&s->graph);
    free(s);
}

static struct tonemap_state *state_get(void)
{
    struct tonemap_state *s;

    pthread_mutex_lock(&kept_lock);
    s = kept;
    kept = NULL;
    pthread_mutex_unlock(&kept_lock);
    return s ? s : calloc(1, sizeof(*s));
}

/* Back into the slot; a graph already kept there is the one kept (it
 * was returned last), ours is freed. */
static void state_put(struct tonemap_state *s)
{
    pthread_mutex_lock(&kept_lock);
    if (!kept && s->graph) {
        kept = s;
        s = NULL;
    }
    pthread_mutex_unlock(&kept_lock);
    state_free(s);
}

void tonemap_release(void)
{
    struct tonemap_state *s;

    pthread_mutex_lock(&kept_lock);
    s = kept;
    kept = NULL;
    pthread_mutex_unlock(&kept_lock);
    state_free(s);
}

/* A new graph for frames of f's size and format. */
static int build(struct tonemap_state *s, const AVFrame *f, int deep)
{
    AVFilterInOut *in = avfilter_inout_alloc(), *out = avfilter_inout_alloc();
    const char *chain;
    char args[128];
    int ret = AVERROR(ENOMEM), odd;

    avfilter_graph_free(&s->graph);
    s->src = s->sink = NULL;
    if (!in || !out || !(s->graph = avfilter_graph_alloc()))
        goto done;
    /* Before any filter exists: their slice threads come from the graph. */
    s->graph->nb_threads = 1;
    snprintf(args, sizeof(args), "video_size=%dx%d:pix_fmt=%d:time_base=1/1:pixel_aspect=1/1",
             f->width, f->height, f->format);
    if ((ret = avfilter_graph_create_filter(&s->src, avfilter_get_by_name("buffer"), "in",
                                            args, NULL, s->graph)) < 0 ||
        (ret = avfilter_graph_create_filter(&s->sink, avfilter_get_by_name("buffersink"),
                                            "out", NULL, NULL, s->graph)) < 0)
        goto done;
    /* The chain's open ends: its input is our source, its output our sink. */
    out->name = av_strdup("in");
    out->filter_ctx = s->src;
    in->name = av_strdup("out");
    in->filter_ctx = s->sink;
    if (!out->name || !in->name) {
        ret = AVERROR(ENOMEM);
        goto done;
    }
    odd = (f->width | f->height) & 1;
    chain = deep ? (odd ? TONEMAP_CHAIN_16_ODD : TONEMAP_CHAIN_16)
                 : (odd ? TONEMAP_CHAIN_8_ODD : TONEMAP_CHAIN_8);
    if ((ret = avfilter_graph_parse_ptr(s->graph, chain, &in, &out, NULL)) < 0 ||
        (ret = avfilter_graph_config(s->graph, NULL)) < 0)
        goto done;
    s->w = f->width;
    s->h = f->height;
    s->format = f->format;
    s->deep = deep;
done:
    avfilter_inout_free(&in);
    avfilter_inout_free(&out);
    if (ret < 0)
        avfilter_graph_free(&s->graph);
    return ret;
}

/* Attach vc's HDR metadata to f where f has none of its own (a frame
 * without the SEI of its keyframe, a container that carries it). */
static int attach_metadata(AVFrame *f, const struct video_color *vc)
{
    AVFrameSideData *sd;

    if (vc->has_mastering && !av_frame_get_side_data(f, AV_FRAME_DATA_MASTERING_DISPLAY_METADATA)) {
        if (!(sd = av_frame_new_side_data(f, AV_FRAME_DATA_MASTERING_DISPLAY_METADATA,
                                          sizeof(vc->mastering))))
            return AVERROR(ENOMEM);
        memcpy(sd->data, &vc->mastering, sizeof(vc->mastering));
    }
    if (vc->has_light && !av_frame_get_side_data(f, AV_FRAME_DATA_CONTENT_LIGHT_LEVEL)) {
        if (!(sd = av_frame_new_side_data(f, AV_FRAME_DATA_CONTENT_LIGHT_LEVEL,
                                          sizeof(vc->light))))
            return AVERROR(ENOMEM);
        memcpy(sd->data, &vc->light, sizeof(vc->light));
    }
    return 0;
}

int tonemap_frame(const AVFrame *in, const struct video_color *vc, int deep, AVFrame **out,
                  char *err, size_t errlen)
{
    struct tonemap_state *s = state_get();
    AVFrame *f = NULL, *res = NULL;
    int matrix, range, primaries, transfer, ret;

    *out = NULL;
    if (!s) {
        snprintf(err, errlen, "cannot tone-map the frame to SDR: out of memory");
        return AVERROR(ENOMEM);
    }
    if ((!s->graph || s->w != in->width || s->h != in->height || s->format != in->format ||
         s->deep != deep) &&
        (ret = build(s, in, deep)) < 0) {
        snprintf(err, errlen, "cannot build the tone-mapping filters: %s", av_err2str(ret));
        state_put(s);
        return ret;
    }
    if (!(f = av_frame_clone(in)) || !(res = av_frame_alloc())) {
        ret = AVERROR(ENOMEM);
        goto fail;
    }
    color_frame_props(in, vc, &matrix, &range, &primaries, &transfer);
    f->colorspace = matrix;
    f->color_range = range;
    f->color_primaries = primaries;
    f->color_trc = transfer;
    f->pts = 0;
    if ((ret = attach_metadata(f, vc)) < 0 ||
        (ret = av_buffersrc_add_frame(s->src, f)) < 0 ||
        (ret = av_buffersink_get_frame(s->sink, res)) < 0)
        goto fail;
    av_frame_free(&f);
    if ((int64_t)in->width * in->height > KEEP_PIXELS)
        avfilter_graph_free(&s->graph);
    state_put(s);
    *out = res;
    return 0;
fail:
    av_frame_free(&f);
    av_frame_free(&res);
    /* A graph that failed midway may hold a frame: start afresh next time. */
    avfilter_graph_free(&s->graph);
    state_put(s);
    snprintf(err, errlen, "cannot tone-map the frame to SDR: %s", av_err2str(ret));
    return ret;
}
