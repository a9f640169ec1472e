/*
 * The pipeline version: what makes a frame's bytes from a file's bytes.
 * Pure (the libraries' own version calls); no lock, never blocks.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <libavcodec/avcodec.h>
#include <libavfilter/avfilter.h>
#include <libavformat/avformat.h>
#include <libavutil/version.h>
#include <libdeflate.h>
#include <libswscale/swscale.h>
#include <png.h>
#include <xxhash.h>
#include <zimg.h>

#include "encode.h"
#include "plan.h"
#include "version.h"

/*
 * What makes the bytes of a frame, for the shared cache's keys: framefs's
 * own format, the FFmpeg libraries, the tone-mapping chain, the encoders and
 * their settings, and the byte order.  Hosts that differ in any of it never share a value.
 */
void pipeline_version(char out[PIPELINE_VERSION_LEN], int png_level)
{
    char text[512];
    const uint16_t one = 1;
    unsigned zmaj = 0, zmin = 0, zmic = 0;

    zimg_get_version_info(&zmaj, &zmin, &zmic);     /* zscale's arithmetic */

    snprintf(text, sizeof(text),
             "framefs-values-1 encoders %d lavf %u lavc %u lavu %u sws %u lavfi %u zimg %u.%u.%u "
             "tonemap %d png %s deflate %s turbojpeg png_level %d %s",
             ENCODE_VERSION, avformat_version(), avcodec_version(), avutil_version(),
             swscale_version(), avfilter_version(), zmaj, zmin, zmic, TONEMAP_VERSION,
             png_get_libpng_ver(NULL),
             LIBDEFLATE_VERSION_STRING,
             png_level,
             *(const uint8_t *)&one ? "le" : "be");
    snprintf(out, PIPELINE_VERSION_LEN, "%016llx",
             (unsigned long long)XXH3_64bits(text, strlen(text)));
}
