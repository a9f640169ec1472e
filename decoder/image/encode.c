/* decoder/image/encode — the format dispatch (encode.h). */
#include <stdio.h>

#include "encode.h"

struct blob *encode_image(const struct image *img, const struct output_plan *plan,
                          int png_level, const struct encode_offload *off, char *err,
                          size_t errlen)
{
    switch (plan->format) {
    case FORMAT_PNG:
        return encode_png(img, png_level, off, err, errlen);
    case FORMAT_JPEG:
        return encode_jpeg(img, plan->quality, err, errlen);
    case FORMAT_PPM:
        return encode_ppm(img, err, errlen);
    case FORMAT_COUNT:
        break;
    }
    snprintf(err, errlen, "unknown image format");
    return NULL;
}
