/*
 * decoder/encode_png — RGB(A) pixels -> PNG bytes in memory, with libpng.
 * Pure function of its inputs (same pixels and level, same bytes); thread-safe.
 */
#ifndef FRAMEFS_ENCODE_PNG_H
#define FRAMEFS_ENCODE_PNG_H

#include "../cache/cache.h"
#include "convert.h"

/* A new blob holding the PNG, or NULL with err set. */
struct blob *encode_png(const struct image *img, int level, char *err, size_t errlen);

#endif
