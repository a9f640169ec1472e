/*
 * decoder/media/load — see load.h.  Decoding to index is the FFMS2 way for streams
 * without pts (MPEG-PS/ES, some AVI): frames are named as a full decode
 * names them.  It costs one decode of the file, once per version.
 */
#include <libavutil/avutil.h>
#include <libavutil/version.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "load.h"
#include "seek.h"

/* FFmpeg 6.1 flags keyframes in AVFrame.flags (key_frame is deprecated);
 * 5.1 only has key_frame. */
static int frame_is_key(const AVFrame *f)
{
#ifdef AV_FRAME_FLAG_KEY
    return !!(f->flags & AV_FRAME_FLAG_KEY);
#else
    return f->key_frame;
#endif
}

/* AVFrame.duration replaced pkt_duration (lavu 57.30, FFmpeg 6.0). */
static int64_t frame_duration(const AVFrame *f)
{
#if LIBAVUTIL_VERSION_INT >= AV_VERSION_INT(57, 30, 100)
    return f->duration;
#else
    return f->pkt_duration;
#endif
}

struct collected {
    struct video *v;
    int64_t last_pts;
    int err;
};

static void collect_frame(void *arg, const AVFrame *f, size_t last_packet)
{
    struct collected *c = arg;
    int64_t pts = dec_frame_pts(f);
    int ret;

    if (c->err)
        return;
    if (pts == AV_NOPTS_VALUE) {
        /* No timestamp at all (raw streams): one frame after the previous,
         * as the ffmpeg CLI numbers them; the first at the start.  Such
         * frames are found again only by decoding from the start (seek.c). */
        pts = c->v->index.n_entries ? index_sat_add(c->last_pts, c->v->default_dur)
                                    : c->v->start_pts;
        c->v->synthetic_pts = 1;
    }
    c->last_pts = pts;
    ret = index_add_frame(&c->v->index, pts, last_packet,
                          frame_is_key(f) || f->pict_type == AV_PICTURE_TYPE_I,
                          frame_duration(f));
    if (ret < 0)
        c->err = ret;
}

static void index_by_decoding(struct video *v, int (*stop)(void *), void *arg)
{
    struct collected c = {.v = v};
    struct dec_ctx *ctx;
    int ret;

    index_reset_frames(&v->index);
    if (dec_ctx_open(v, 1, &ctx, v->error, sizeof(v->error)) < 0)
        return;
    ret = dec_ctx_decode_all(ctx, collect_frame, &c, stop, arg);
    dec_ctx_close(ctx);
    if (ret == AVERROR_EXIT)
        v->stopped = 1;
    else if (ret < 0 || c.err < 0)
        snprintf(v->error, sizeof(v->error), "cannot index by decoding: %s",
                 av_err2str(ret < 0 ? ret : c.err));
}

/* ---- the shared index (load.h) ------------------------------------------- */

struct fetch {
    const struct load_tiers *sh;
    int (*stop)(void *);
    void *arg;
};

/* Index flags kept with the shared index, in its meta tag. */
#define SHARED_SYNTHETIC_PTS 1

static void index_key(char *key, size_t len, const struct video *v, const struct load_tiers *sh)
{
    snprintf(key, len, "I:%s:%d:%s", v->content_id, v->stream, sh->pipeline);
}

/*
 * v's content id.  Hashing all of a 10-hour file's bytes costs as much as
 * reading it, so the disk tier remembers the id of each version this host
 * has hashed, under what identifies the version locally: device, inode,
 * size, mtime and ctime (any write changes the ctime, and nobody can set
 * it back).  Never in the shared cache: inode numbers mean nothing on
 * another host.  0, or -1 (then the id is "").
 */
static int know_content_id(struct video *v, const struct fetch *f)
{
    struct cache_meta meta = {0};
    struct stat st;
    struct blob *b;
    char key[160] = "";

    if (fstat(v->fd, &st) == 0 && st.st_size == v->id.size) {
        snprintf(key, sizeof(key), "M1:%llu:%llu:%lld:%lld.%09ld:%lld.%09ld",
                 (unsigned long long)st.st_dev, (unsigned long long)st.st_ino,
                 (long long)st.st_size, (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec,
                 (long long)st.st_ctim.tv_sec, st.st_ctim.tv_nsec);
        if ((b = tiers_get_local(f->sh->tiers, key, &meta, f->stop, f->arg))) {
            int ok = b->size == CONTENT_ID_LEN && b->data[CONTENT_ID_LEN - 1] == 0 &&
                     strspn((const char *)b->data, "0123456789abcdef") == CONTENT_ID_LEN - 1;

            if (ok)
                memcpy(v->content_id, b->data, CONTENT_ID_LEN);
            blob_unref(b);
            if (ok)
                return 0;
        }
    }
    if (content_id(v->fd, v->id.size, v->content_id, f->stop, f->arg) < 0) {
        v->content_id[0] = 0;
        return -1;
    }
    if (key[0] && (b = blob_from(v->content_id, CONTENT_ID_LEN))) {
        tiers_put_local(f->sh->tiers, key, b, &meta);
        blob_unref(b);
    }
    return 0;
}

/* video_open_hooked()'s hook: the content id, then the index an earlier
 * mount or another host stored under it.  1 when v->index was filled. */
static int fetch_index(struct video *v, void *arg)
{
    struct fetch *f = arg;
    struct cache_meta meta;
    struct blob *b;
    char key[SHARED_KEY_MAX];
    int ret = 0;

    if (know_content_id(v, f) < 0)
        return 0;
    index_key(key, sizeof(key), v, f->sh);
    if (!(b = tiers_get(f->sh->tiers, key, &meta, NULL, f->stop, f->arg)))
        return 0;
    if (index_deserialize(&v->index, b->data, b->size) == 0) {
        v->synthetic_pts = !!(meta.tag & SHARED_SYNTHETIC_PTS);
        ret = 1;
    }
    blob_unref(b);
    return ret;
}

/* Store a freshly made index for the other hosts. */
static void store_index(const struct video *v, const struct load_tiers *sh)
{
    struct cache_meta meta = {.tag = v->synthetic_pts ? SHARED_SYNTHETIC_PTS : 0};
    unsigned char *bytes;
    char key[SHARED_KEY_MAX];
    struct blob *b;
    size_t len;

    if (index_serialize(&v->index, &bytes, &len) < 0)
        return;
    if ((b = blob_adopt(bytes, len))) {
        index_key(key, sizeof(key), v, sh);
        tiers_put(sh->tiers, key, b, &meta);
        blob_unref(b);
    } else {
        free(bytes);
    }
}

struct video *video_load(int fd, const char *name, const struct video_id *id,
                         const struct load_tiers *sh, int (*stop)(void *), void *arg)
{
    struct fetch f = {sh, stop, arg};
    struct video *v = sh ? video_open_hooked(fd, name, id, fetch_index, &f, stop, arg)
                         : video_open(fd, name, id, stop, arg);

    if (v && !v->error[0] && !v->stopped && !v->index_stored && v->index_by_decoding)
        index_by_decoding(v, stop, arg);
    if (v)
        video_finish(v);
    if (v && v->ok && sh && v->content_id[0] && !v->index_stored)
        store_index(v, sh);
    return v;
}
