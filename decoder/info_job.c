/*
 * Info jobs: a probe of a video (its info and, once indexed, its frames'
 * times; for a scenes job their scene scores too), and the accessors of the
 * frames it hands out.  Locking: none of
 * its own; a job waiting for a load is parked by the table.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "decoder.h"
#include "jobs.h"
#include "media/media.h"

/* A struct video_frames is the video itself, seen through these two. */
double video_frames_time(const struct video_frames *vf, size_t i)
{
    const struct video *v = (const struct video *)vf;

    return i < v->index.n_frames ? video_seconds(v, v->index.frames[i].pts) : NAN;
}

int video_frames_is_key(const struct video_frames *vf, size_t i)
{
    const struct video *v = (const struct video *)vf;

    return i < v->index.n_frames && v->index.frames[i].keyframe;
}

double video_frames_scene_score(const struct video_frames *vf, size_t i)
{
    const struct video *v = (const struct video *)vf;
    const float *sc = scenes_of(v);

    return sc && i < v->index.n_frames ? sc[i] : 0;
}

/* v's scene scores known: the video's, another host's, or made here.  0,
 * or with info->error set (then info->ok is 0: the listing fails). */
static void know_scenes(struct job *j, struct video *v, struct video_info *info)
{
    char err[256] = "";
    int ret;

    if (scenes_of(v) || (j->d->tiers && tier_scenes(j, v))) {
        info->scenes_known = 1;
        return;
    }
    atomic_fetch_add(&j->d->decodes, 1);
    ret = scenes_compute(v, j->d->cfg.decode_threads, job_cancelled, j, err, sizeof(err));
    if (ret >= 0) {
        info->scenes_known = 1;
        if (j->d->tiers)
            offer_scenes(j->d, v);
        return;
    }
    info->ok = 0;
    info->frames = NULL;
    snprintf(info->error, sizeof(info->error), "%s",
             ret == AVERROR_EXIT ? "cancelled" : err[0] ? err : "scene scores failed");
}

/* An info job, or with want_scenes a scenes job. */
static void run(struct job *j, int shutting_down, int want_scenes)
{
    struct video_info info = {0};
    struct video *v = NULL;
    int err = 0;

    if (shutting_down || job_cancelled(j))
        snprintf(info.error, sizeof(info.error), "cancelled");
    else if ((v = job_video(j, &err))) {
        info = v->info;
        info.frames = v->ok ? (const struct video_frames *)v : NULL;
        if (v->ok && want_scenes)
            know_scenes(j, v, &info);
        else
            info.scenes_known = v->ok && scenes_of(v);
    }
    else if (err == TABLE_PARKED)
        return;                       /* runs again once the video is loaded */
    else if (err == -ECANCELED || err == -ESHUTDOWN)
        snprintf(info.error, sizeof(info.error), "cancelled");
    else
        snprintf(info.error, sizeof(info.error), "cannot open: %s", strerror(-err));
    video_unref(v);
    j->info_done(j->arg, &info);
    job_free(j);
}

void run_info(void *arg, int shutting_down)
{
    run(arg, shutting_down, 0);
}

void run_scenes(void *arg, int shutting_down)
{
    run(arg, shutting_down, 1);
}
