/*
 * What a frame request becomes for one video: the frame it names (by time,
 * percentage or index, within its tolerances), the plan its image is made
 * by, and that image's cache key.  Shared by frame_job.c and batch_job.c.
 *
 * Pure functions of the video's index and stream: no lock, never blocks.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "jobs.h"
#include "media/media.h"

static int64_t tol_ticks(const struct video *v, double s)
{
    if (isinf(s))
        return INT64_MAX;
    return video_span_ticks(v, s);
}

/* What the output plan of v's frames works from (the video's own size). */
struct output_source video_source(const struct video *v)
{
    struct output_source src = {.width = v->codecpar->width, .height = v->codecpar->height,
                                .sar_num = v->sar.num, .sar_den = v->sar.den,
                                .hdr = v->color.hdr};

    memcpy(src.rotation, v->rotation, sizeof(src.rotation));
    return src;
}

/* The plan for a decoded frame: the job's, unless this frame's size or SAR
 * differs from the stream's (a mid-stream change): then made for it. */
void frame_plan(const struct job *j, const struct video *v, const AVFrame *frame,
                struct output_plan *plan)
{
    struct output_source src = video_source(v);

    *plan = j->plan;
    if (frame->width == src.width && frame->height == src.height &&
        (!frame->sample_aspect_ratio.num ||
         av_cmp_q(frame->sample_aspect_ratio, v->sar) == 0))
        return;
    src.width = frame->width;
    src.height = frame->height;
    if (frame->sample_aspect_ratio.num)
        src = (struct output_source){src.width, src.height, frame->sample_aspect_ratio.num,
                                     frame->sample_aspect_ratio.den,
                                     {src.rotation[0], src.rotation[1], src.rotation[2]},
                                     src.hdr};
    output_plan_make(&j->req.out, &src, plan);
}

/* The cache key of frame f's image as the job's plan makes it. */
void frame_key(char key[DECODER_KEY_MAX], const struct video *v, size_t f,
               const struct output_plan *plan)
{
    frame_request_key(key, DECODER_KEY_MAX, v->key_prefix, v->index.frames[f].pts, plan);
}

/* The frame req names in v, by time, percentage or index; SELECT_NONE with
 * res->error set when there is none.  Sets res->requested_time. */
ptrdiff_t resolve_request(const struct video *v, const struct frame_request *req,
                          struct frame_result *res)
{
    const struct index *ix = &v->index;
    double seconds = req->t;
    ptrdiff_t f;
    int64_t t;

    if (req->kind == TIME_INDEX) {
        if (req->n < 0 || (uint64_t)req->n >= ix->n_frames) {
            snprintf(res->error, sizeof(res->error),
                     "frame %lld is past the last frame (the video has %zu frames)",
                     (long long)req->n, ix->n_frames);
            return SELECT_NONE;
        }
        res->requested_time = video_seconds(v, ix->frames[req->n].pts);
        return (ptrdiff_t)req->n;
    }
    if (req->kind == TIME_PERCENT)
        seconds = req->t / 100 * v->info.duration;
    t = video_ticks(v, seconds);
    res->requested_time = video_seconds(v, t);
    f = select_frame(ix->frames, ix->n_frames, t, tol_ticks(v, req->before),
                     tol_ticks(v, req->after));
    if (f == SELECT_NONE)
        snprintf(res->error, sizeof(res->error),
                 "time %.6f is past the end of the video (%.6f s)",
                 res->requested_time, v->info.duration);
    return f;
}
