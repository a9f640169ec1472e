/*
 * JPEG encoding with libturbojpeg (libjpeg-turbo's SIMD codec): baseline,
 * 4:2:0 chroma as ffmpeg's mjpeg, PIL and cameras write by default, and the
 * default (fast integer) DCT.  One compressor handle per call: tjInitCompress
 * costs microseconds against milliseconds of encoding.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <turbojpeg.h>

#include "encode.h"

struct blob *encode_jpeg(const struct image *img, int quality, char *err, size_t errlen)
{
    tjhandle tj;
    unsigned char *jpeg = NULL;
    unsigned long size = 0;
    struct blob *b = NULL;

    if (img->depth != 8) {
        snprintf(err, errlen, "cannot encode JPEG: %d-bit samples", img->depth);
        return NULL;
    }
    if (!(tj = tjInitCompress())) {
        snprintf(err, errlen, "cannot encode JPEG: %s", tjGetErrorStr2(NULL));
        return NULL;
    }
    if (tjCompress2(tj, img->pixels, img->width, (int)img->stride, img->height,
                    img->channels == 4 ? TJPF_RGBX : TJPF_RGB, &jpeg, &size, TJSAMP_420,
                    quality, 0) != 0) {
        snprintf(err, errlen, "cannot encode JPEG: %s", tjGetErrorStr2(tj));
    } else if ((b = blob_new(size))) {
        memcpy(b->data, jpeg, size);
    } else {
        snprintf(err, errlen, "cannot encode JPEG: out of memory");
    }
    tjFree(jpeg);
    tjDestroy(tj);
    return b;
}
