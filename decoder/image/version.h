/*
 * decoder/image/version — the pipeline version: a hash of what makes a
 * frame's bytes from a file's bytes (framefs's value format, the FFmpeg
 * libraries, zimg, the tone-mapping chain, the encoders, libpng, libdeflate,
 * the PNG level, the byte order).  Keys of the shared cache name it, so
 * hosts that differ in any of it never share a value.  Owned here because
 * this floor owns ENCODE_VERSION and TONEMAP_VERSION.  Pure; never blocks.
 */
#ifndef FRAMEFS_IMAGE_VERSION_H
#define FRAMEFS_IMAGE_VERSION_H

#define PIPELINE_VERSION_LEN 17      /* 16 hex digits and the NUL */

void pipeline_version(char out[PIPELINE_VERSION_LEN], int png_level);

#endif
