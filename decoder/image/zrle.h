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
 * The same stream in pieces that threads can make at once, each as soon as
 * its input is final: zrle_piece() makes the blocks of in[start..end) of a
 * stream of in[0..n), with start a multiple of ZRLE_BLOCK and end too
 * unless it is n (so the blocks are zrle_compress()'s).  The first piece
 * starts with the header; a piece before the last ends with an empty
 * stored block, byte-aligned (the cut); the last ends with the final block
 * and the checksum of in[0..n), so it needs all of in.  The pieces in order
 * are a zlib stream of in[0..n): zrle_compress()'s bytes but for a 5-byte
 * empty block per cut.  A piece reads in[start - 1] (a run may continue
 * the byte before).  Each thread needs its own tokens; cap at least
 * zrle_piece_bound(end - start).  Its size, or 0 when cap is too small or
 * the bounds are not a piece.
 */
size_t zrle_piece_bound(size_t n);
size_t zrle_piece(const uint8_t *in, size_t start, size_t end, size_t n, uint8_t *out,
                  size_t cap, uint16_t *tokens);

#endif
