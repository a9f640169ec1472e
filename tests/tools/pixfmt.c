/*
 * pixfmt NAME — does FFmpeg pixel format NAME (as ffprobe prints it, e.g.
 * "yuv420p", "argb", "pal8") carry alpha?  Prints "rgba" when the format has
 * an alpha channel (AV_PIX_FMT_FLAG_ALPHA; framefs then writes RGBA PNGs) and
 * "rgb24" otherwise: the -pix_fmt the oracle must use.  Exit 2 if unknown.
 */
#include <libavutil/pixdesc.h>
#include <stdio.h>

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: pixfmt NAME\n");
        return 2;
    }
    enum AVPixelFormat f = av_get_pix_fmt(argv[1]);
    const AVPixFmtDescriptor *d = f == AV_PIX_FMT_NONE ? NULL : av_pix_fmt_desc_get(f);
    if (!d) {
        fprintf(stderr, "pixfmt: unknown pixel format '%s'\n", argv[1]);
        return 2;
    }
    puts(d->flags & AV_PIX_FMT_FLAG_ALPHA ? "rgba" : "rgb24");
    return 0;
}
