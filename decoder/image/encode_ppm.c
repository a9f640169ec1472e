/*
 * Binary PPM (netpbm P6): a text header, then the samples as they are, row
 * after row; 16-bit samples are big-endian, as our RGB48BE pixels already
 * are.  No compression: the fastest format for a pipeline that decodes the
 * image anyway.
 */
#include <stdio.h>
#include <string.h>

#include "encode.h"

struct blob *encode_ppm(const struct image *img, char *err, size_t errlen)
{
    size_t sample = img->depth == 16 ? 2 : 1;
    size_t in_px = image_pixel_bytes(img), out_px = 3 * sample;
    size_t row = (size_t)img->width * out_px;
    char head[64];
    int n = snprintf(head, sizeof head, "P6\n%d %d\n%d\n", img->width, img->height,
                     img->depth == 16 ? 65535 : 255);
    struct blob *b = blob_new((size_t)n + row * (size_t)img->height);

    if (!b) {
        snprintf(err, errlen, "cannot encode PPM: out of memory");
        return NULL;
    }
    memcpy(b->data, head, (size_t)n);
    for (int y = 0; y < img->height; y++) {
        const unsigned char *src = img->pixels + (size_t)y * img->stride;
        unsigned char *dst = b->data + n + (size_t)y * row;

        if (in_px == out_px) {
            memcpy(dst, src, row);
            continue;
        }
        for (int x = 0; x < img->width; x++)     /* RGBA: drop the alpha */
            memcpy(dst + (size_t)x * out_px, src + (size_t)x * in_px, out_px);
    }
    return b;
}
