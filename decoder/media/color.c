/* decoder/media/color — a video's colorimetry, tagged or assumed (color.h). */
#include <stdio.h>
#include <string.h>

#include <libavutil/pixdesc.h>

#include "color.h"

enum hdr_kind color_hdr_kind(int transfer)
{
    return transfer == AVCOL_TRC_SMPTE2084 ? HDR_PQ :
           transfer == AVCOL_TRC_ARIB_STD_B67 ? HDR_HLG : HDR_NONE;
}

const char *color_hdr_name(enum hdr_kind h)
{
    return h == HDR_PQ ? "pq" : h == HDR_HLG ? "hlg" : "none";
}

/* Transfers shown as decoded: the gamma-like curves of SDR video and sRGB,
 * which a player puts on the screen unchanged. */
static int sdr_like(int transfer)
{
    switch (transfer) {
    case AVCOL_TRC_BT709:
    case AVCOL_TRC_UNSPECIFIED:
    case AVCOL_TRC_GAMMA22:
    case AVCOL_TRC_GAMMA28:
    case AVCOL_TRC_SMPTE170M:
    case AVCOL_TRC_SMPTE240M:
    case AVCOL_TRC_IEC61966_2_4:
    case AVCOL_TRC_BT1361_ECG:
    case AVCOL_TRC_IEC61966_2_1:
    case AVCOL_TRC_BT2020_10:
    case AVCOL_TRC_BT2020_12:
        return 1;
    default:
        return 0;
    }
}

int color_check_transfer(int transfer, char *err, size_t errlen)
{
    const char *name = av_color_transfer_name(transfer);

    if (sdr_like(transfer) || color_hdr_kind(transfer) != HDR_NONE) {
        if (errlen)
            err[0] = 0;
        return 0;
    }
    snprintf(err, errlen, "color transfer %s cannot be shown as SDR (only SDR, PQ and HLG can)",
             name ? name : "(reserved)");
    return -1;
}

/* A tag that says something (not unspecified, not a reserved value). */
static int tagged_matrix(int v)
{
    return v != AVCOL_SPC_UNSPECIFIED && v != AVCOL_SPC_RESERVED && av_color_space_name(v);
}

static int tagged_primaries(int v)
{
    return v != AVCOL_PRI_UNSPECIFIED && v != AVCOL_PRI_RESERVED && v != AVCOL_PRI_RESERVED0 &&
           av_color_primaries_name(v);
}

static int tagged_transfer(int v)
{
    return v != AVCOL_TRC_UNSPECIFIED && v != AVCOL_TRC_RESERVED && v != AVCOL_TRC_RESERVED0 &&
           av_color_transfer_name(v);
}

void color_resolve(const AVCodecParameters *par, const AVMasteringDisplayMetadata *mastering,
                   const AVContentLightMetadata *light, struct video_color *out)
{
    const AVPixFmtDescriptor *d = av_pix_fmt_desc_get(par->format);
    int rgb = d && (d->flags & AV_PIX_FMT_FLAG_RGB);
    int jpeg = d && strncmp(d->name, "yuvj", 4) == 0;
    int hd = par->width >= 1280 || par->height > 576;

    memset(out, 0, sizeof(*out));
    out->transfer = par->color_trc;
    if (!tagged_transfer(out->transfer)) {
        out->transfer = hd ? AVCOL_TRC_BT709 : AVCOL_TRC_SMPTE170M;
        out->assumed |= COLOR_ASSUMED_TRANSFER;
    }
    out->hdr = color_hdr_kind(out->transfer);
    out->showable = color_check_transfer(out->transfer, NULL, 0) == 0;

    out->matrix = par->color_space;
    /* VP8 is BT.601 by its specification: its decoder tags every frame so,
     * while the stream says nothing. */
    if (!tagged_matrix(out->matrix) && par->codec_id == AV_CODEC_ID_VP8)
        out->matrix = AVCOL_SPC_BT470BG;
    if (!tagged_matrix(out->matrix)) {
        out->matrix = rgb ? AVCOL_SPC_RGB : out->hdr != HDR_NONE ? AVCOL_SPC_BT2020_NCL :
                      hd ? AVCOL_SPC_BT709 : AVCOL_SPC_SMPTE170M;
        out->assumed |= COLOR_ASSUMED_MATRIX;
    }
    out->range = par->color_range;
    if (out->range != AVCOL_RANGE_MPEG && out->range != AVCOL_RANGE_JPEG) {
        out->range = rgb || jpeg ? AVCOL_RANGE_JPEG : AVCOL_RANGE_MPEG;
        out->assumed |= COLOR_ASSUMED_RANGE;
    }
    out->primaries = par->color_primaries;
    if (!tagged_primaries(out->primaries)) {
        out->primaries = out->hdr != HDR_NONE ? AVCOL_PRI_BT2020 :
                         hd ? AVCOL_PRI_BT709 : AVCOL_PRI_SMPTE170M;
        out->assumed |= COLOR_ASSUMED_PRIMARIES;
    }
    if (mastering && (mastering->has_primaries || mastering->has_luminance)) {
        out->has_mastering = 1;
        out->mastering = *mastering;
    }
    if (light && (light->MaxCLL || light->MaxFALL)) {
        out->has_light = 1;
        out->light = *light;
    }
}

void color_frame_props(const AVFrame *f, const struct video_color *vc, int *matrix,
                       int *range, int *primaries, int *transfer)
{
    *matrix = tagged_matrix(f->colorspace) ? (int)f->colorspace : vc->matrix;
    *range = f->color_range == AVCOL_RANGE_MPEG || f->color_range == AVCOL_RANGE_JPEG
                 ? (int)f->color_range : vc->range;
    *primaries = tagged_primaries(f->color_primaries) ? (int)f->color_primaries : vc->primaries;
    *transfer = tagged_transfer(f->color_trc) ? (int)f->color_trc : vc->transfer;
}
