/*
 * Info jobs: a probe of a video (its info and, once indexed, its frames'
 * times), and the accessors of the frames it hands out.  Locking: none of
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

void run_info(void *arg, int shutting_down)
{
    struct job *j = arg;
    struct video_info info = {0};
    struct video *v = NULL;
    int err = 0;

    if (shutting_down || job_cancelled(j))
        snprintf(info.error, sizeof(info.error), "cancelled");
    else if ((v = job_video(j, &err))) {
        info = v->info;
        info.frames = v->ok ? (const struct video_frames *)v : NULL;
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
