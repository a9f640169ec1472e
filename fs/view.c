/*
 * View directories inside a video's: `every=SECONDS/` (a frame every so many
 * seconds), `keyframes/` (every keyframe, from the index) and `frames/`
 * (every frame as n=N).  They are resolved by lookup, never listed in the
 * video directory (so `cp -r clip.mp4` does not copy every frame), and hold
 * frame names like the video directory itself: any frame name resolves in
 * any view.  The names each lists are made here, for the video directory
 * too (a view of its own: every list_interval seconds).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "name.h"
#include "ops.h"

enum view { VIEW_EVERY, VIEW_KEYFRAMES, VIEW_FRAMES };

/* Which view a name is; 0, or -1 when it is none.  every= takes seconds > 0. */
static int view_parse(const char *name, enum view *v, double *every)
{
    if (strcmp(name, "keyframes") == 0) {
        *v = VIEW_KEYFRAMES;
        return 0;
    }
    if (strcmp(name, "frames") == 0) {
        *v = VIEW_FRAMES;
        return 0;
    }
    if (strncmp(name, "every=", 6) == 0 && name_parse_seconds(name + 6, 0, every) == 0 &&
        *every > 0) {
        *v = VIEW_EVERY;
        return 0;
    }
    return -1;
}

int view_is_name(const char *name)
{
    enum view v;
    double every;

    return view_parse(name, &v, &every) == 0;
}

void view_lookup(fuse_req_t req, struct fs *fs, struct node *video, const char *name)
{
    struct stat st;
    struct node *n;
    int ret;

    if ((ret = source_stat(fs, video->path, &st)) < 0)
        return (void)fuse_reply_err(req, -ret);
    if (!(n = inode_find(fs->inodes, video, name)) &&
        !(n = inode_insert(fs->inodes, video, name, NODE_VIEW, video->path, NULL)))
        return (void)fuse_reply_err(req, ENOMEM);
    reply_entry(req, fs, n, &st);
}

int view_names(const struct fs *fs, const struct node *n, const struct video_info *info,
               int (*add)(void *arg, const char *name), void *arg)
{
    const char *ext = output_format_ext(fs->list_format);
    double every = fs->list_interval;
    enum view v = VIEW_EVERY;
    char name[64], secs[32];
    size_t max = n->kind == NODE_VIEW ? FS_MAX_VIEW_LISTED : FS_MAX_LISTED;

    if (!info->ok || (n->kind == NODE_VIEW && view_parse(n->name, &v, &every) < 0))
        return 0;
    switch (v) {
    case VIEW_EVERY:
        for (size_t k = 0; every > 0 && k < max; k++) {
            double t = (double)k * every;

            if (t >= info->duration)
                break;
            snprintf(name, sizeof(name), "t=%s.%s", name_format_seconds(t, secs, sizeof(secs)),
                     ext);
            if (add(arg, name) < 0)
                return -ENOMEM;
        }
        break;
    case VIEW_KEYFRAMES:
        for (size_t i = 0, listed = 0; i < info->frame_count && listed < max; i++) {
            double t = video_frames_time(info->frames, i);

            if (!video_frames_is_key(info->frames, i) || !(t >= 0))
                continue;             /* a keyframe before the start has no name */
            snprintf(name, sizeof(name), "t=%.6f.%s", t, ext);
            if (add(arg, name) < 0)
                return -ENOMEM;
            listed++;
        }
        break;
    case VIEW_FRAMES:
        for (size_t i = 0; i < info->frame_count && i < max; i++) {
            snprintf(name, sizeof(name), "n=%zu.%s", i, ext);
            if (add(arg, name) < 0)
                return -ENOMEM;
        }
        break;
    }
    return 0;
}
