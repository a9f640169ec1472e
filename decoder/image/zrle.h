/*
 * decoder/image/zrle — a zlib stream (RFC 1950/1951) made by run-length and
 * Huffman coding only: each byte is a literal, or a run of copies of the
 * byte before it (a match at distance 1), in dynamic-Huffman blocks.  This
 * is zlib's Z_RLE strategy.  On filtered video frames it is both faster
 * than libdeflate's level 1 and smaller: noise leaves few long matches for
 * an LZ search to find, while the residuals' skewed histogram is what
 * Huffman coding pays for (scripts/bench, README "PNG encoding").  On
 * synthetic pictures with repeats an LZ search does better; encode_png
 * tries both on a sample.
 *
 * Pure functions of their input (same bytes in, same bytes out); no
 * allocation, no locking; the caller owns every buffer.
 */
#ifndef FRAMEFS_ZRLE_H
#define FRAMEFS_ZRLE_H

#include <stddef.h>
#include <stdint.h>

/* Input bytes per block, and the size of the token buffer callers pass. */
#define ZRLE_BLOCK (64u * 1024)

/* At least the largest stream zrle_compress() makes of n bytes. */
size_t zrle_bound(size_t n);

/* The zlib stream of in[0..n) into out (cap bytes, at least zrle_bound(n));
 * tokens: ZRLE_BLOCK entries of scratch.  Its size, or 0 when cap is too
 * small. */
size_t zrle_compress(const uint8_t *in, size_t n, uint8_t *out, size_t cap, uint16_t *tokens);

/*
 * The same stream in two pieces that two threads can make at once, cut at
 * `mid` (a multiple of ZRLE_BLOCK, 0 < mid < n, so the blocks are
 * zrle_compress()'s): zrle_head() writes the header and the blocks of
 * in[0..mid), then an empty stored block that ends byte-aligned;
 * zrle_tail() the blocks of in[mid..n) (the last final) and the checksum of
 * in[0..n).  head followed by tail is a zlib stream of in[0..n): the bytes
 * of zrle_compress() but for that 5-byte empty block and the final bit.
 * Each needs its own tokens; cap as zrle_bound() of its part (+ 5 for the
 * head).  Their sizes, or 0 when cap is too small or mid is not a cut.
 */
size_t zrle_head(const uint8_t *in, size_t mid, uint8_t *out, size_t cap, uint16_t *tokens);
size_t zrle_tail(const uint8_t *in, size_t mid, size_t n, uint8_t *out, size_t cap,
                 uint16_t *tokens);

#endif
