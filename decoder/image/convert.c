/*
 * Pixel conversion matching the ffmpeg CLI.  With `-pix_fmt rgb24` the CLI's
 * filter graph is: buffersrc -> [transpose/hflip/vflip] -> scale (auto-inserted,
 * sws flags "bicubic") -> sink.  We do the same steps: move the decoded
 * planes first, then set up swscale as libavfilter's scale filter does.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libavutil/imgutils.h>
#include <libavutil/opt.h>
#include <libavutil/pixdesc.h>
#include <libswscale/swscale.h>

#include "convert.h"
#include "plan.h"
#include "tonemap.h"

/* 16384 x 8192: 512 MiB of RGBA at most per worker. */
#define CONVERT_MAX_PIXELS (16384LL * 8192)

struct convert_state {
    struct SwsContext *sws;
    int w, h, src_fmt, dst_fmt, dst_w, dst_h;
};

size_t image_pixel_bytes(const struct image *img)
{
    return (size_t)img->channels * (img->depth == 16 ? 2 : 1);
}

void image_free(struct image *img)
{
    av_freep(&img->pixels);
}

void convert_free(void **state)
{
    struct convert_state *s = *state;

    if (s) {
        sws_freeContext(s->sws);
        free(s);
    }
    *state = NULL;
}

/* Bytes one element of a plane takes (all components stored in it). */
static int plane_step(const AVPixFmtDescriptor *d, int plane)
{
    int step = 0;

    for (int i = 0; i < d->nb_components; i++)
        if (d->comp[i].plane == plane && d->comp[i].step > step)
            step = d->comp[i].step;
    return step;
}

static int can_move_planes(const AVPixFmtDescriptor *d, int transpose)
{
    if (d->flags & (AV_PIX_FMT_FLAG_BITSTREAM | AV_PIX_FMT_FLAG_HWACCEL))
        return 0;
    /* Transposing 4:2:2 would need 4:4:0; the CLI converts first there. */
    return !transpose || d->log2_chroma_w == d->log2_chroma_h;
}

/*
 * Move the pixels of every plane: output (x, y) takes input (ix, iy) with
 * ix = x or y (transposed), possibly reversed, likewise iy.  This is what
 * libavfilter's transpose, hflip and vflip do, plane by plane.
 */
static void move_plane(const uint8_t *src, int sls, uint8_t *dst, int dls,
                       int ow, int oh, int iw, int ih, int step, const int rot[3])
{
    for (int y = 0; y < oh; y++) {
        uint8_t *d = dst + (size_t)y * dls;

        for (int x = 0; x < ow; x++) {
            int ix = rot[0] ? y : x, iy = rot[0] ? x : y;

            if (rot[1])
                ix = iw - 1 - ix;
            if (rot[2])
                iy = ih - 1 - iy;
            memcpy(d + (size_t)x * step, src + (size_t)iy * sls + (size_t)ix * step, step);
        }
    }
}

static int rotate_frame(const AVFrame *in, const int rot[3], AVFrame **outp)
{
    const AVPixFmtDescriptor *d = av_pix_fmt_desc_get(in->format);
    AVFrame *out = av_frame_alloc();
    int ret, planes = av_pix_fmt_count_planes(in->format);

    if (!out)
        return AVERROR(ENOMEM);
    out->format = in->format;
    out->width = rot[0] ? in->height : in->width;
    out->height = rot[0] ? in->width : in->height;
    if ((ret = av_frame_get_buffer(out, 0)) < 0 || (ret = av_frame_copy_props(out, in)) < 0) {
        av_frame_free(&out);
        return ret;
    }
    for (int p = 0; p < planes; p++) {
        int chroma = (p == 1 || p == 2) && !(d->flags & AV_PIX_FMT_FLAG_RGB);
        int sw = chroma ? -((-in->width) >> d->log2_chroma_w) : in->width;
        int sh = chroma ? -((-in->height) >> d->log2_chroma_h) : in->height;
        int ow = rot[0] ? sh : sw, oh = rot[0] ? sw : sh;

        if ((d->flags & AV_PIX_FMT_FLAG_PAL) && p == 1) {
            memcpy(out->data[1], in->data[1], AVPALETTE_SIZE);
            continue;
        }
        move_plane(in->data[p], in->linesize[p], out->data[p], out->linesize[p],
                   ow, oh, sw, sh, plane_step(d, p), rot);
    }
    *outp = out;
    return 0;
}

/* Set up swscale as libavfilter's scale filter (FFmpeg 5.1) does for the
 * CLI: a format-only conversion with its default flags (bicubic), a resize
 * with flags=lanczos (convert.h says why). */
static struct SwsContext *make_sws(const AVFrame *f, enum AVPixelFormat dst, int dw, int dh)
{
    struct SwsContext *s = sws_alloc_context();
    int resize = dw != f->width || dh != f->height;

    if (!s)
        return NULL;
    av_opt_set_int(s, "sws_flags", resize ? SWS_LANCZOS : SWS_BICUBIC, 0);
    av_opt_set_int(s, "srcw", f->width, 0);
    av_opt_set_int(s, "srch", f->height, 0);
    av_opt_set_int(s, "src_format", f->format, 0);
    av_opt_set_int(s, "dstw", dw, 0);
    av_opt_set_int(s, "dsth", dh, 0);
    av_opt_set_int(s, "dst_format", dst, 0);
    av_opt_set_int(s, "threads", 1, 0);
    /* The scale filter's default: MPEG-2 chroma siting for plain yuv420p. */
    if (f->format == AV_PIX_FMT_YUV420P)
        av_opt_set_int(s, "src_v_chr_pos", 128, 0);
    if (sws_init_context(s, NULL, NULL) < 0) {
        sws_freeContext(s);
        return NULL;
    }
    return s;
}

/* The scale filter's in_color_matrix=auto: the frame's own matrix, else
 * the one assumed for the video (color.h; the CLI assumes BT.601), BT.601
 * when unsupported. */
static const int *frame_coefficients(const AVFrame *f, const struct video_color *vc)
{
    int cs, range, primaries, transfer;

    color_frame_props(f, vc, &cs, &range, &primaries, &transfer);
    if (cs < 1 || cs > 10 || cs == 8)
        cs = AVCOL_SPC_BT470BG;
    return sws_getCoefficients(cs);
}

/* The swscale context for f -> dst at dw x dh with f's colors, and out's
 * size and buffer (no pixels yet).  0 or AVERROR. */
static int scale_setup(struct convert_state *s, const AVFrame *f, const struct video_color *vc,
                       enum AVPixelFormat dst, int dw, int dh, struct image *out)
{
    int *inv, *table, in_full, out_full, bri, con, sat;
    const int *coeffs;

    if (!s->sws || s->w != f->width || s->h != f->height || s->src_fmt != f->format ||
        s->dst_fmt != (int)dst || s->dst_w != dw || s->dst_h != dh) {
        sws_freeContext(s->sws);
        if (!(s->sws = make_sws(f, dst, dw, dh)))
            return AVERROR(EINVAL);
        s->w = f->width;
        s->h = f->height;
        s->src_fmt = f->format;
        s->dst_fmt = dst;
        s->dst_w = dw;
        s->dst_h = dh;
    }
    sws_getColorspaceDetails(s->sws, &inv, &in_full, &table, &out_full, &bri, &con, &sat);
    coeffs = frame_coefficients(f, vc);
    if (f->color_range != AVCOL_RANGE_UNSPECIFIED)
        in_full = f->color_range == AVCOL_RANGE_JPEG;
    sws_setColorspaceDetails(s->sws, coeffs, in_full, coeffs, out_full, bri, con, sat);

    out->width = dw;
    out->height = dh;
    out->channels = dst == AV_PIX_FMT_RGBA || dst == AV_PIX_FMT_RGBA64BE ? 4 : 3;
    out->depth = dst == AV_PIX_FMT_RGB48BE || dst == AV_PIX_FMT_RGBA64BE ? 16 : 8;
    /* Rows as wide as libavfilter's frames (width rounded up): swscale's
     * SIMD converters work in blocks of pixels and, on a row too short for
     * the last whole block, finish it another way; a 3026-pixel-wide video
     * then differed from the ffmpeg CLI in its last two columns. */
    out->stride = FFALIGN((size_t)FFALIGN(dw, 64) * image_pixel_bytes(out), 64);
    if (!(out->pixels = av_malloc(out->stride * dh + 64)))
        return AVERROR(ENOMEM);
    return 0;
}

/* Source rows y .. y+h-1 of f (y a multiple of its chroma subsampling, as
 * every slice but the last is) into out, in order from the top: the frame's
 * first call has y 0.  swscale's slice interface keeps what the rows
 * after need, so the pixels are those of one whole-frame call.  The output
 * rows swscale wrote, or AVERROR. */
static int scale_rows(struct convert_state *s, const AVFrame *f, int y, int h, struct image *out)
{
    const AVPixFmtDescriptor *d = av_pix_fmt_desc_get(f->format);
    const uint8_t *src[4] = {NULL};
    uint8_t *planes[4] = {out->pixels};
    int strides[4] = {(int)out->stride};

    for (int i = 0; i < 4 && f->data[i]; i++)
        src[i] = f->data[i] + (ptrdiff_t)((i == 1 || i == 2) ? y >> d->log2_chroma_h : y) *
                                  f->linesize[i];
    return sws_scale(s->sws, src, f->linesize, y, h, planes, strides);
}

static int scale(struct convert_state *s, const AVFrame *f, const struct video_color *vc,
                 enum AVPixelFormat dst, int dw, int dh, struct image *out)
{
    int ret = scale_setup(s, f, vc, dst, dw, dh, out);

    if (ret < 0)
        return ret;
    if (scale_rows(s, f, 0, f->height, out) != dh) {
        image_free(out);
        return AVERROR(EINVAL);
    }
    return 0;
}

/* Fallback for formats whose planes cannot be moved: rotate RGB pixels. */
static int rotate_image(struct image *img, const int rot[3])
{
    struct image r = *img;
    int ret;

    r.width = rot[0] ? img->height : img->width;
    r.height = rot[0] ? img->width : img->height;
    r.stride = FFALIGN((size_t)r.width * image_pixel_bytes(img), 64);
    if (!(r.pixels = av_malloc(r.stride * r.height + 64)))
        return AVERROR(ENOMEM);
    move_plane(img->pixels, (int)img->stride, r.pixels, (int)r.stride, r.width, r.height,
               img->width, img->height, (int)image_pixel_bytes(img), rot);
    ret = 0;
    image_free(img);
    *img = r;
    return ret;
}

/* What the image's values are: sRGB-like SDR, or the source's own HDR
 * transfer and primaries with its mastering and light metadata (the
 * frame's, else the stream's). */
static void describe(const AVFrame *f, const struct video_color *vc, int kept,
                     struct image_color *c)
{
    const AVFrameSideData *md = av_frame_get_side_data(f, AV_FRAME_DATA_MASTERING_DISPLAY_METADATA);
    const AVFrameSideData *ll = av_frame_get_side_data(f, AV_FRAME_DATA_CONTENT_LIGHT_LEVEL);
    int matrix, range;

    memset(c, 0, sizeof(*c));
    if (!kept)
        return;
    c->cicp = 1;
    color_frame_props(f, vc, &matrix, &range, &c->primaries, &c->transfer);
    if (md && md->size >= sizeof(c->mastering))
        memcpy(&c->mastering, md->data, sizeof(c->mastering));
    else if (vc->has_mastering)
        c->mastering = vc->mastering;
    c->has_mastering = c->mastering.has_primaries && c->mastering.has_luminance;
    if (ll && ll->size >= sizeof(c->light))
        memcpy(&c->light, ll->data, sizeof(c->light));
    else if (vc->has_light)
        c->light = vc->light;
    c->has_light = c->light.MaxCLL || c->light.MaxFALL;
}

int convert_frame(void **state, const AVFrame *frame, const struct output_plan *plan,
                  const struct video_color *vc, int keep_alpha, struct image *out,
                  char *err, size_t errlen)
{
    const AVPixFmtDescriptor *d = av_pix_fmt_desc_get(frame->format);
    const int *rotation = plan->rotation;
    struct convert_state *s = *state;
    enum AVPixelFormat dst;
    AVFrame *moved = NULL, *mapped = NULL;
    int rotate = rotation[0] || rotation[1] || rotation[2], late_rotate = 0, ret;
    int alpha, dw = plan->width, dh = plan->height, matrix, range, primaries, transfer;
    int kept = plan->color == PLAN_COLOR_KEEP, tonemap;

    memset(out, 0, sizeof(*out));
    if (!d || frame->width <= 0 || frame->height <= 0) {
        snprintf(err, errlen, "decoded frame has no usable pixel format");
        return AVERROR(EINVAL);
    }
    /* Bound the memory one worker can take: RGBA of the largest frame. */
    if ((int64_t)frame->width * frame->height > CONVERT_MAX_PIXELS ||
        (int64_t)dw * dh > CONVERT_MAX_PIXELS) {
        snprintf(err, errlen, "frame too large (%dx%d)", frame->width, frame->height);
        return AVERROR(ERANGE);
    }
    /* The frame's own transfer decides (a stream tagged SDR whose frames
     * say PQ is tone-mapped all the same): never a silently wrong image. */
    color_frame_props(frame, vc, &matrix, &range, &primaries, &transfer);
    tonemap = !kept && color_hdr_kind(transfer) != HDR_NONE;
    if (color_check_transfer(transfer, err, errlen) < 0)
        return AVERROR(ENOSYS);
    if (!s && !(s = *state = calloc(1, sizeof(*s))))
        return AVERROR(ENOMEM);
    describe(frame, vc, kept, &out->color);
    if (rotate && can_move_planes(d, rotation[0])) {
        if ((ret = rotate_frame(frame, rotation, &moved)) < 0) {
            snprintf(err, errlen, "cannot rotate frame: %s", av_err2str(ret));
            return ret;
        }
        frame = moved;
        rotate = 0;
    }
    /* Tone-mapped after the turn, as the CLI's autorotate filters come
     * before a -vf chain. */
    if (tonemap) {
        ret = tonemap_frame(frame, vc, plan->depth == 16, &mapped, err, errlen);
        av_frame_free(&moved);
        if (ret < 0)
            return ret;
        frame = mapped;
        d = av_pix_fmt_desc_get(frame->format);
        if (rotate && can_move_planes(d, rotation[0])) {
            if ((ret = rotate_frame(frame, rotation, &moved)) < 0) {
                av_frame_free(&mapped);
                snprintf(err, errlen, "cannot rotate frame: %s", av_err2str(ret));
                return ret;
            }
            frame = moved;
            rotate = 0;
        }
    }
    alpha = keep_alpha && (d->flags & AV_PIX_FMT_FLAG_ALPHA);
    if (plan->depth == 16)
        dst = alpha ? AV_PIX_FMT_RGBA64BE : AV_PIX_FMT_RGB48BE;
    else
        dst = alpha ? AV_PIX_FMT_RGBA : AV_PIX_FMT_RGB24;
    if (rotate) {
        /* Planes that cannot be moved: converted (and scaled) as coded,
         * then turned; the size before the turn is the plan's, transposed
         * back. */
        late_rotate = 1;
        if (rotation[0]) {
            dw = plan->height;
            dh = plan->width;
        }
    }
    ret = scale(s, frame, vc, dst, dw, dh, out);
    av_frame_free(&moved);
    av_frame_free(&mapped);
    if (ret >= 0 && late_rotate)
        ret = rotate_image(out, rotation);
    if (ret < 0) {
        image_free(out);
        snprintf(err, errlen, "cannot convert %s frame to RGB: %s",
                 d->name, av_err2str(ret));
    }
    return ret;
}

int convert_rows_begin(void **state, const AVFrame *frame, const struct output_plan *plan,
                       const struct video_color *vc, struct image *out)
{
    const AVPixFmtDescriptor *d = av_pix_fmt_desc_get(frame->format);
    struct convert_state *s = *state;
    int matrix, range, primaries, transfer, ret;

    memset(out, 0, sizeof(*out));
    color_frame_props(frame, vc, &matrix, &range, &primaries, &transfer);
    /* The plain case only: what the rest needs is a whole frame. */
    if (!d || (d->flags & (AV_PIX_FMT_FLAG_ALPHA | AV_PIX_FMT_FLAG_RGB | AV_PIX_FMT_FLAG_PAL |
                           AV_PIX_FMT_FLAG_HWACCEL | AV_PIX_FMT_FLAG_BITSTREAM)) ||
        d->comp[0].depth != 8 || plan->depth != 8 || plan->color != PLAN_COLOR_AS_IS ||
        plan->rotation[0] || plan->rotation[1] || plan->rotation[2] ||
        plan->width != frame->width || plan->height != frame->height ||
        (int64_t)frame->width * frame->height > CONVERT_MAX_PIXELS ||
        color_hdr_kind(transfer) != HDR_NONE || color_check_transfer(transfer, NULL, 0) < 0)
        return AVERROR(ENOTSUP);
    if (!s && !(s = *state = calloc(1, sizeof(*s))))
        return AVERROR(ENOMEM);
    if ((ret = scale_setup(s, frame, vc, AV_PIX_FMT_RGB24, frame->width, frame->height, out)) < 0)
        return ret;
    describe(frame, vc, 0, &out->color);
    return 0;
}

int convert_rows(void **state, const AVFrame *frame, int y, int h, struct image *out)
{
    return scale_rows(*state, frame, y, h, out) < 0 ? AVERROR(EINVAL) : 0;
}
