/*
 * A video's info.json: its metadata as one JSON object, made on the worker
 * that probes the video (nothing is decoded) and kept in its node, so its
 * st_size is exact.  A changed source gives a new node, as for frames.  The
 * key names are stable and documented in README ("info.json").
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops.h"

/* A growing text; on ENOMEM `failed` is set and later appends do nothing. */
struct text {
    char *s;
    size_t len, cap;
    int failed;
};

static void append(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void append(struct text *t, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (t->failed)
        return;
    va_start(ap, fmt);
    n = vsnprintf(t->s ? t->s + t->len : NULL, t->s ? t->cap - t->len : 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
        t->failed = 1;
        return;
    }
    if (t->len + (size_t)n + 1 > t->cap) {
        size_t cap = t->cap ? t->cap : 1024;
        char *s;

        while (cap < t->len + (size_t)n + 1)
            cap *= 2;
        if (!(s = realloc(t->s, cap))) {
            t->failed = 1;
            return;
        }
        t->s = s;
        t->cap = cap;
        va_start(ap, fmt);
        vsnprintf(t->s + t->len, t->cap - t->len, fmt, ap);
        va_end(ap);
    }
    t->len += (size_t)n;
}

/* "key": "value" with JSON escapes. */
static void string(struct text *t, const char *key, const char *v, int last)
{
    append(t, "  \"%s\": \"", key);
    for (const unsigned char *p = (const unsigned char *)v; *p; p++) {
        if (*p == '"' || *p == '\\')
            append(t, "\\%c", *p);
        else if (*p < 0x20)
            append(t, "\\u%04x", *p);
        else
            append(t, "%c", *p);
    }
    append(t, "\"%s\n", last ? "" : ",");
}

static void number(struct text *t, const char *key, double v)
{
    append(t, "  \"%s\": %.6f,\n", key, v);
}

static void integer(struct text *t, const char *key, long long v)
{
    append(t, "  \"%s\": %lld,\n", key, v);
}

/* view_scene_times()'s at: one number of the "scenes" array. */
static int scene_time(void *arg, double t)
{
    struct text *t_ = arg;

    append(t_, "%s%.6f", t_->s && t_->s[t_->len - 1] == '[' ? "" : ", ", t);
    return t_->failed ? -ENOMEM : 0;
}

/* The JSON of info, in a new blob; NULL on ENOMEM. */
static struct blob *info_json(const struct video_info *info)
{
    struct text t = {0};
    struct blob *b = NULL;

    append(&t, "{\n");
    if (!info->ok) {
        string(&t, "result", "failed", 0);
        string(&t, "error", info->error[0] ? info->error : "not a video", 1);
    } else {
        string(&t, "result", "succeeded", 0);
        number(&t, "duration", info->duration);
        number(&t, "start_time", info->start_time);
        integer(&t, "width", info->width);
        integer(&t, "height", info->height);
        integer(&t, "coded_width", info->coded_width);
        integer(&t, "coded_height", info->coded_height);
        integer(&t, "display_width", info->display_width);
        integer(&t, "display_height", info->display_height);
        integer(&t, "rotation", info->rotation);
        append(&t, "  \"sample_aspect_ratio\": \"%d:%d\",\n", info->sar_num, info->sar_den);
        number(&t, "frame_rate", info->frame_rate);
        number(&t, "real_frame_rate", info->real_frame_rate);
        string(&t, "codec", info->codec, 0);
        string(&t, "profile", info->profile, 0);
        string(&t, "pix_fmt", info->pix_fmt, 0);
        integer(&t, "bit_depth", info->bit_depth);
        string(&t, "color_space", info->color_space, 0);
        string(&t, "color_range", info->color_range, 0);
        string(&t, "color_primaries", info->color_primaries, 0);
        string(&t, "color_transfer", info->color_transfer, 0);
        string(&t, "color_assumed", info->color_assumed, 0);
        string(&t, "hdr", info->hdr, 0);
        integer(&t, "frame_count", (long long)info->frame_count);
        integer(&t, "keyframe_count", (long long)info->keyframe_count);
        if (info->scenes_known) {     /* once a scenes/ view was listed */
            append(&t, "  \"scenes\": [");
            view_scene_times(info, scene_time, &t);
            append(&t, "],\n");
        }
        string(&t, "format", info->format, 0);
        append(&t, "  \"bit_rate\": %lld\n", (long long)info->bit_rate);
    }
    append(&t, "}\n");
    if (!t.failed)
        b = blob_from(t.s, t.len);
    free(t.s);
    return b;
}

/* The node of info.json for this outcome m; NULL on ENOMEM. */
static struct node *info_node(struct pending *p, const struct frame_meta *m)
{
    struct node *n = inode_find(p->fs->inodes, p->node, "info.json");

    if (n && (n->frame->size != m->size || !source_same_version(&n->frame->source, &m->source))) {
        inode_forget(p->fs->inodes, n, 1);
        n = NULL;
    }
    if (!n)
        n = inode_insert(p->fs->inodes, p->node, "info.json", NODE_INFO, p->node->path, m);
    return n;
}

static void info_lookup_done(void *arg, const struct video_info *info)
{
    struct pending *p = arg;
    struct frame_meta m = {.status = FRAME_SUCCEEDED, .src = p->src,
                           .source = source_version_of(&p->src)};
    struct node *n;

    if (!pending_finish(p)) {
        /* cancel-all answered it already */
    } else if (atomic_load(&p->cancel) && !info->ok) {
        fuse_reply_err(p->req, EINTR);
    } else if (!(m.content = info_json(info))) {
        fuse_reply_err(p->req, ENOMEM);
    } else {
        m.size = m.content->size;
        if ((n = info_node(p, &m)))
            reply_entry(p->req, p->fs, n, &p->src);
        else
            fuse_reply_err(p->req, ENOMEM);
        blob_unref(m.content);
    }
    pending_free(p);
}

void info_lookup(fuse_req_t req, struct fs *fs, struct node *video)
{
    struct pending *p;
    struct stat st;
    struct node *n;
    int ret;

    if ((ret = source_stat(fs, video->path, &st)) < 0)
        return (void)fuse_reply_err(req, -ret);
    if ((n = inode_find(fs->inodes, video, "info.json"))) {
        struct source_version now = source_version_of(&st);

        if (source_same_version(&n->frame->source, &now))
            return reply_entry(req, fs, n, &st);
        inode_forget(fs->inodes, n, 1);
    }
    if (!(p = pending_new(req, P_LOOKUP, video)) || !(p->name = strdup("info.json"))) {
        free(p);
        return (void)fuse_reply_err(req, ENOMEM);
    }
    p->src = st;
    submit_info(p, info_lookup_done);
}

void info_open(fuse_req_t req, struct node *n, struct fuse_file_info *fi)
{
    fi->fh = (uint64_t)(uintptr_t)blob_ref(n->frame->content);
    fi->keep_cache = 1;
    if (fuse_reply_open(req, fi) != 0)
        blob_unref(n->frame->content);
}
