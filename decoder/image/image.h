/*
 * decoder/image — pixels to bytes: the floor above decoder/media/ and below
 * decoder/'s jobs.  plan resolves a name's output spec against a video (size,
 * rotation, aspect, depth, color) and keys the result; convert turns a
 * decoded frame into RGB(A) pixels as the ffmpeg CLI's scale filter would,
 * through tonemap (libavfilter) for PQ and HLG; encode writes them as PNG
 * (libpng's framing over libdeflate or zrle, the zlib coder that can cut a
 * large image in two for an idle worker), JPEG (libturbojpeg) or PPM;
 * version hashes everything that makes the bytes.  Start at plan.h, then
 * convert.h and encode.h.
 *
 * This header is the floor's interface for decoder/'s top floor (each file's
 * own header states its ownership, locking and blocking).  plan.h has no
 * libav* type, so decoder.h (and through it fs/) takes it alone.
 */
#ifndef FRAMEFS_IMAGE_H
#define FRAMEFS_IMAGE_H

#include "convert.h"
#include "encode.h"
#include "plan.h"
#include "tonemap.h"
#include "version.h"

#endif
