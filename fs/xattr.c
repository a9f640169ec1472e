#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "xattr.h"

static const char *const status_names[] = {
    [FRAME_SUCCEEDED] = "succeeded",
    [FRAME_FAILED] = "failed",
    [FRAME_CANCELLED] = "cancelled",
};

static void add(struct xattr_set *s, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void add(struct xattr_set *s, const char *name, const char *fmt, ...)
{
    va_list ap;

    if (s->n >= XATTR_MAX)
        return;
    s->attr[s->n].name = name;
    va_start(ap, fmt);
    vsnprintf(s->attr[s->n].value, sizeof(s->attr[s->n].value), fmt, ap);
    va_end(ap);
    s->n++;
}

void xattr_of_frame(const struct frame_meta *m, struct xattr_set *out)
{
    out->n = 0;
    /* Unknown when a percentage or frame index could not be resolved. */
    if (!isnan(m->requested_time))
        add(out, "user.requested_time", "%.6f", m->requested_time);
    if (m->status == FRAME_SUCCEEDED) {
        add(out, "user.actual_time", "%.6f", m->actual_time);
        add(out, "user.width", "%d", m->width);
        add(out, "user.height", "%d", m->height);
    }
    add(out, "user.result", "%s", status_names[m->status]);
    if (m->status != FRAME_SUCCEEDED)
        add(out, "user.error", "%s", m->error[0] ? m->error : "unknown error");
}

void xattr_of_video(const struct video_info *info, struct xattr_set *out)
{
    out->n = 0;
    if (!info->ok) {
        add(out, "user.result", "failed");
        add(out, "user.error", "%s", info->error[0] ? info->error : "not a video");
        return;
    }
    add(out, "user.duration", "%.6f", info->duration);
    add(out, "user.width", "%d", info->width);
    add(out, "user.height", "%d", info->height);
    add(out, "user.frame_rate", "%.6f", info->frame_rate);
    add(out, "user.codec", "%s", info->codec);
    add(out, "user.frame_count", "%zu", info->frame_count);
    add(out, "user.keyframe_count", "%zu", info->keyframe_count);
    add(out, "user.rotation", "%d", info->rotation);
    add(out, "user.color_primaries", "%s", info->color_primaries);
    add(out, "user.color_transfer", "%s", info->color_transfer);
    add(out, "user.color_space", "%s", info->color_space);
    add(out, "user.color_range", "%s", info->color_range);
    add(out, "user.color_assumed", "%s", info->color_assumed);
    add(out, "user.hdr", "%s", info->hdr);
    add(out, "user.result", "succeeded");
}

void xattr_of_root(const struct decoder_stats *st, struct xattr_set *out)
{
    out->n = 0;
    add(out, "user.stats",
        "{\"local_hits\": %lu, \"shared_hits\": %lu, \"misses\": %lu, \"decodes\": %lu, "
        "\"shared_errors\": %lu, \"shared_corrupt\": %lu, \"shared_stores\": %lu, "
        "\"shared_cache\": %s, \"disk_hits\": %lu, \"disk_misses\": %lu, "
        "\"disk_bytes\": %llu, \"disk_max_bytes\": %llu, \"disk_evictions\": %lu, "
        "\"disk_corrupt\": %lu, \"disk_stores\": %lu, \"disk_cache\": \"%s\", "
        "\"index_bytes\": %zu, \"index_max_bytes\": %zu, \"index_videos\": %zu, "
        "\"index_evictions\": %lu, \"index_loads\": %lu, \"index_scans\": %lu, "
        "\"band_frames\": %lu}",
        st->local_hits, st->shared_hits, st->misses, st->decodes, st->shared_errors,
        st->shared_corrupt, st->shared_stores, st->shared ? "true" : "false", st->disk_hits,
        st->disk_misses, (unsigned long long)st->disk_bytes,
        (unsigned long long)st->disk_max_bytes, st->disk_evictions, st->disk_corrupt,
        st->disk_stores, st->disk_state ? st->disk_state : "none", st->index_bytes,
        st->index_max_bytes, st->index_videos, st->index_evictions, st->index_loads,
        st->index_scans, st->band_frames);
}

int xattr_get(const struct xattr_set *s, const char *name, size_t size,
              const char **value, size_t *len)
{
    for (int i = 0; i < s->n; i++) {
        if (strcmp(s->attr[i].name, name) != 0)
            continue;
        *value = s->attr[i].value;
        *len = strlen(s->attr[i].value);
        return size && size < *len ? -ERANGE : 0;
    }
    return -ENODATA;
}

int xattr_list(const struct xattr_set *s, char *buf, size_t size, size_t *len)
{
    size_t total = 0;

    for (int i = 0; i < s->n; i++)
        total += strlen(s->attr[i].name) + 1;
    *len = total;
    if (!size)
        return 0;
    if (size < total)
        return -ERANGE;
    for (int i = 0; i < s->n; i++) {
        size_t l = strlen(s->attr[i].name) + 1;

        memcpy(buf, s->attr[i].name, l);
        buf += l;
    }
    return 0;
}
