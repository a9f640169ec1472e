/* decoder/media/scenes — see scenes.h. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libavutil/imgutils.h>
#include <libavutil/pixdesc.h>
#include <libswscale/swscale.h>

#include "avlog.h"
#include "scenes.h"
#include "seek.h"

/* One pass: the grey frame before, and the previous frame's mafd. */
struct pass {
    struct video *v;
    float *scores;
    struct SwsContext *sws;
    int w, h, src_w, src_h, src_fmt;
    uint8_t *prev, *cur;
    int have_prev;
    double prev_mafd;
    int failed;
};

const float *scenes_of(const struct video *v)
{
    return atomic_load(&v->scenes);
}

/* The index position of the frame shown at pts (frames are in pts order),
 * or -1. */
static ptrdiff_t frame_at(const struct index *ix, int64_t pts)
{
    size_t lo = 0, hi = ix->n_frames;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (ix->frames[mid].pts < pts)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < ix->n_frames && ix->frames[lo].pts == pts ? (ptrdiff_t)lo : -1;
}

/* (Re)make the scaler for frames of f's size and format. */
static int scaler_for(struct pass *p, const AVFrame *f)
{
    if (p->sws && f->width == p->src_w && f->height == p->src_h && f->format == p->src_fmt)
        return 0;
    sws_freeContext(p->sws);
    free(p->prev);
    free(p->cur);
    p->src_w = f->width;
    p->src_h = f->height;
    p->src_fmt = f->format;
    p->w = SCENES_WIDTH;
    p->h = (int)((int64_t)f->height * SCENES_WIDTH / (f->width > 0 ? f->width : 1));
    if (p->h < 1)
        p->h = 1;
    p->have_prev = 0;            /* a size change compares with nothing */
    p->prev = malloc((size_t)p->w * p->h);
    p->cur = malloc((size_t)p->w * p->h);
    p->sws = sws_getContext(f->width, f->height, f->format, p->w, p->h, AV_PIX_FMT_GRAY8,
                            SWS_AREA, NULL, NULL, NULL);
    return p->sws && p->prev && p->cur ? 0 : -1;
}

static void on_frame(void *arg, const AVFrame *f, size_t last_packet)
{
    struct pass *p = arg;
    ptrdiff_t i = frame_at(&p->v->index, dec_frame_pts(f));
    uint8_t *dst[4] = {0};
    int dst_stride[4] = {0};
    uint64_t sad = 0;

    (void)last_packet;
    if (p->failed || f->width <= 0 || f->height <= 0)
        return;
    if (scaler_for(p, f) < 0) {
        p->failed = 1;
        return;
    }
    dst[0] = p->cur;
    dst_stride[0] = p->w;
    sws_scale(p->sws, (const uint8_t *const *)f->data, f->linesize, 0, f->height, dst, dst_stride);
    if (p->have_prev) {
        double mafd, diff;

        for (size_t k = 0; k < (size_t)p->w * p->h; k++)
            sad += (uint64_t)abs((int)p->cur[k] - (int)p->prev[k]);
        mafd = (double)sad / ((double)p->w * p->h);
        diff = fabs(mafd - p->prev_mafd);
        p->prev_mafd = mafd;
        if (i >= 0)
            p->scores[i] = (float)fmin(fmax(fmin(mafd, diff) / 100.0, 0), 1);
    } else {
        p->prev_mafd = 0;
        if (i >= 0)
            p->scores[i] = 0;
    }
    memcpy(p->prev, p->cur, (size_t)p->w * p->h);
    p->have_prev = 1;
}

int scenes_compute(struct video *v, int threads, int (*stop)(void *), void *arg, char *err,
                   size_t errlen)
{
    struct pass p = {.v = v};
    struct dec_ctx *c = NULL;
    int ret;

    /* Another job may be computing them: wait for it, as cancellable as the
     * pass itself. */
    while (pthread_mutex_trylock(&v->scenes_lock) != 0) {
        struct timespec nap = {0, 20 * 1000 * 1000};

        if (stop && stop(arg))
            return AVERROR_EXIT;
        nanosleep(&nap, NULL);
    }
    if (atomic_load(&v->scenes)) {
        pthread_mutex_unlock(&v->scenes_lock);
        return 0;
    }
    if (!(p.scores = malloc((v->index.n_frames ? v->index.n_frames : 1) * sizeof(float)))) {
        ret = AVERROR(ENOMEM);
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < v->index.n_frames; i++)
        p.scores[i] = 0;         /* a frame that never decodes starts no shot */
    if ((ret = dec_ctx_open(v, threads, &c, err, errlen)) < 0)
        goto out;
    if ((ret = dec_ctx_decode_all(c, on_frame, &p, stop, arg)) < 0 && ret != AVERROR_EXIT)
        avlog_explain(err, errlen, "decoding for scene scores", ret);
    if (ret >= 0 && p.failed) {
        const char *fmt = av_get_pix_fmt_name(p.src_fmt);

        ret = AVERROR(EINVAL);
        snprintf(err, errlen, "cannot scale %dx%d %s frames for scene scores", p.src_w, p.src_h,
                 fmt ? fmt : "unknown");
    }
    if (ret >= 0) {
        atomic_store(&v->scenes, p.scores);
        p.scores = NULL;
    }
out:
    pthread_mutex_unlock(&v->scenes_lock);
    dec_ctx_close(c);
    sws_freeContext(p.sws);
    free(p.prev);
    free(p.cur);
    free(p.scores);
    return ret;
}

int scenes_adopt(struct video *v, const float *scores, size_t n)
{
    float *copy;
    int ret = -1;

    if (n != v->index.n_frames || !(copy = malloc((n ? n : 1) * sizeof(float))))
        return -1;
    memcpy(copy, scores, n * sizeof(float));
    /* A pass running now makes its own: never wait for it here. */
    if (pthread_mutex_trylock(&v->scenes_lock) == 0) {
        if (!atomic_load(&v->scenes)) {
            atomic_store(&v->scenes, copy);
            copy = NULL;
            ret = 0;
        }
        pthread_mutex_unlock(&v->scenes_lock);
    }
    free(copy);
    return ret;
}
