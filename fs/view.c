/*
 * View directories inside a video's: `every=SECONDS/` (a frame every so many
 * seconds), `keyframes/` (every keyframe, from the index), `frames/` (every
 * frame as n=N) and `scenes[,threshold=X][,min=S]/` (the first frame of
 * every shot, from the frames' scene scores: decoder/media/scenes.h).  They are resolved by lookup, never listed in the
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

enum view { VIEW_EVERY, VIEW_KEYFRAMES, VIEW_FRAMES, VIEW_SCENES };

/* What a view lists: its kind and its numbers. */
struct view_spec {
    enum view kind;
    double every;                /* every=: seconds between names */
    double threshold;            /* scenes: a frame scoring above it starts a shot */
    double min_shot;             /* scenes: seconds a shot lasts at least */
};

/* "scenes" then ",threshold=X" (0..1) and ",min=SECONDS", each at most
 * once, in any order.  0 or -1. */
static int scenes_parse(const char *keys, struct view_spec *vs)
{
    int have_t = 0, have_m = 0;

    vs->kind = VIEW_SCENES;
    vs->threshold = SCENES_DEFAULT_THRESHOLD;
    vs->min_shot = SCENES_DEFAULT_MIN_SHOT;
    while (*keys) {
        char val[64];
        const char *end;
        size_t len;

        if (*keys++ != ',')
            return -1;
        end = strchr(keys, ',');
        len = end ? (size_t)(end - keys) : strlen(keys);
        if (len > 10 && strncmp(keys, "threshold=", 10) == 0 && !have_t && len - 10 < sizeof(val)) {
            memcpy(val, keys + 10, len - 10);
            val[len - 10] = 0;
            if (name_parse_seconds(val, 0, &vs->threshold) < 0 || vs->threshold > 1)
                return -1;
            have_t = 1;
        } else if (len > 4 && strncmp(keys, "min=", 4) == 0 && !have_m && len - 4 < sizeof(val)) {
            memcpy(val, keys + 4, len - 4);
            val[len - 4] = 0;
            if (name_parse_seconds(val, 0, &vs->min_shot) < 0)
                return -1;
            have_m = 1;
        } else {
            return -1;
        }
        keys += len;
    }
    return 0;
}

/* Which view a name is; 0, or -1 when it is none.  every= takes seconds > 0. */
static int view_parse(const char *name, struct view_spec *vs)
{
    if (strcmp(name, "keyframes") == 0) {
        vs->kind = VIEW_KEYFRAMES;
        return 0;
    }
    if (strcmp(name, "frames") == 0) {
        vs->kind = VIEW_FRAMES;
        return 0;
    }
    if (strncmp(name, "scenes", 6) == 0)
        return scenes_parse(name + 6, vs);
    if (strncmp(name, "every=", 6) == 0 && name_parse_seconds(name + 6, 0, &vs->every) == 0 &&
        vs->every > 0) {
        vs->kind = VIEW_EVERY;
        return 0;
    }
    return -1;
}

int view_needs_scenes(const char *name)
{
    struct view_spec vs;

    return view_parse(name, &vs) == 0 && vs.kind == VIEW_SCENES;
}

/* The shots of a video: the time of the first frame of each (the first
 * frame shown at or after 0, then each scoring above the threshold at least
 * min_shot seconds after the last shot's start), to at(arg, t), at most max. */
static int shots(const struct view_spec *vs, const struct video_info *info, size_t max,
                 int (*at)(void *arg, double t), void *arg)
{
    double last = -INFINITY;
    size_t listed = 0;

    for (size_t i = 0; i < info->frame_count && listed < max; i++) {
        double t = video_frames_time(info->frames, i);

        if (!(t >= 0))
            continue;                 /* before the start: no name */
        if (listed && (video_frames_scene_score(info->frames, i) <= vs->threshold ||
                       t - last < vs->min_shot))
            continue;
        if (at(arg, t) < 0)
            return -ENOMEM;
        last = t;
        listed++;
    }
    return 0;
}

int view_scene_times(const struct video_info *info, int (*at)(void *arg, double t), void *arg)
{
    struct view_spec vs;

    if (!info->ok || !info->scenes_known)
        return 0;
    scenes_parse("", &vs);
    return shots(&vs, info, FS_MAX_VIEW_LISTED, at, arg);
}

/* shots()'s at for a listing: the name, as every=/ names are (shortest
 * decimal), rounded up to the microsecond so that it never falls before the
 * frame it names. */
struct shot_names {
    const char *ext;
    int (*add)(void *arg, const char *name);
    void *arg;
};

static int add_shot(void *arg, double t)
{
    struct shot_names *sn = arg;
    char name[64], secs[32];

    snprintf(name, sizeof(name), "t=%s.%s", name_format_seconds(ceil(t * 1e6) / 1e6, secs, sizeof(secs)),
             sn->ext);
    return sn->add(sn->arg, name);
}

int view_is_name(const char *name)
{
    struct view_spec vs;

    return view_parse(name, &vs) == 0;
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
    struct view_spec vs = {.kind = VIEW_EVERY, .every = fs->list_interval};
    double every;
    char name[64], secs[32];
    size_t max = n->kind == NODE_VIEW ? FS_MAX_VIEW_LISTED : FS_MAX_LISTED;

    if (!info->ok || (n->kind == NODE_VIEW && view_parse(n->name, &vs) < 0))
        return 0;
    every = vs.every;
    switch (vs.kind) {
    case VIEW_SCENES: {
        struct shot_names sn = {ext, add, arg};

        return info->scenes_known ? shots(&vs, info, max, add_shot, &sn) : 0;
    }
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
