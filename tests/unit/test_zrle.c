/*
 * decoder/zrle: every stream inflates (libdeflate's decompressor, an
 * independent inflater) to its input, stays within zrle_bound(), and the
 * same input gives the same bytes.  Inputs cover the block machinery: empty,
 * one byte, runs across block ends, incompressible data (stored blocks),
 * one-symbol alphabets and frequencies that make Huffman trees deeper than
 * 15 bits (the length limit).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <libdeflate.h>

#include "../../decoder/image/zrle.h"
#include "unit.h"

static uint64_t rng = 88172645463325252ull;

static uint32_t next_random(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 16);
}

/* Compress, inflate, compare; 1 when all held.  *size: the stream's. */
static int round_trip(const uint8_t *in, size_t n, size_t *size)
{
    size_t cap = zrle_bound(n), out_n = 0;
    uint8_t *z = malloc(cap), *z2 = malloc(cap), *back = malloc(n ? n : 1);
    uint16_t *tokens = malloc(ZRLE_BLOCK * sizeof(*tokens));
    struct libdeflate_decompressor *d = libdeflate_alloc_decompressor();
    size_t zn = 0, zn2 = 0;
    int ok = 0;

    if (z && z2 && back && tokens && d) {
        zn = zrle_compress(in, n, z, cap, tokens);
        zn2 = zrle_compress(in, n, z2, cap, tokens);
        ok = zn > 0 && zn <= cap && zn == zn2 && memcmp(z, z2, zn) == 0 &&
             libdeflate_zlib_decompress(d, z, zn, back, n, &out_n) == LIBDEFLATE_SUCCESS &&
             out_n == n && memcmp(back, in, n) == 0;
    }
    *size = zn;
    libdeflate_free_decompressor(d);
    free(z);
    free(z2);
    free(back);
    free(tokens);
    return ok;
}

/* Pieces of `piece` bytes, made last first (any order gives the same
 * bytes), concatenated: a zlib stream that inflates to in; the whole
 * stream's bytes but for 5 bytes per cut (checked by size). */
static void check_split(const char *what, const uint8_t *in, size_t n, size_t piece)
{
    size_t cuts = (n - 1) / piece, cap = zrle_bound(n) + 5 * (cuts + 1), out_n = 0, total = 0;
    size_t whole = 0, slot = zrle_piece_bound(piece), count = cuts + 1;
    uint8_t *z = malloc(cap), *t = malloc(slot * count), *back = malloc(n);
    size_t *sizes = calloc(count, sizeof(*sizes));
    uint16_t *tok = malloc(ZRLE_BLOCK * sizeof(*tok));
    struct libdeflate_decompressor *d = libdeflate_alloc_decompressor();
    int ok = 0;

    if (z && t && back && tok && d && sizes) {
        whole = zrle_compress(in, n, z, cap, tok);
        ok = 1;
        for (size_t k = count; k-- > 0;) {
            size_t end = (k + 1) * piece < n ? (k + 1) * piece : n;

            sizes[k] = zrle_piece(in, k * piece, end, n, t + k * slot, slot, tok);
            ok &= sizes[k] > 0;
        }
        for (size_t k = 0; ok && k < count; k++) {
            memcpy(z + total, t + k * slot, sizes[k]);
            total += sizes[k];
        }
        ok = ok && libdeflate_zlib_decompress(d, z, total, back, n, &out_n) == LIBDEFLATE_SUCCESS &&
             out_n == n && memcmp(back, in, n) == 0 && total <= whole + 6 * cuts;
    }
    CHECK(ok, "%s: %zu pieces of %zu bytes (%zu in all) inflate to the %zu bytes; whole stream %zu",
          what, count, piece, total, n, whole);
    CHECK(zrle_piece(in, 1, piece, n, t ? t : back, slot, tok) == 0 &&
              zrle_piece(in, 0, piece + 1, n, t ? t : back, slot, tok) == 0 &&
              zrle_piece(in, n, n, n, t ? t : back, slot, tok) == 0 &&
              zrle_piece(in, 0, piece, n, t ? t : back, slot - 1 - 5, tok) == 0,
          "%s: a piece off a block boundary, empty, or with too small a cap gives 0", what);
    libdeflate_free_decompressor(d);
    free(z);
    free(t);
    free(back);
    free(sizes);
    free(tok);
}

static void check(const char *what, const uint8_t *in, size_t n)
{
    size_t size;
    int ok = round_trip(in, n, &size);

    CHECK(ok, "%s (%zu bytes): inflates back, deterministic, %zu bytes <= bound %zu", what, n,
          size, zrle_bound(n));
}

int main(void)
{
    size_t big = 3 * ZRLE_BLOCK + 12345;
    uint8_t *buf = calloc(big, 1);
    uint16_t tokens[1];
    uint8_t small[16];
    size_t size;

    if (!buf)
        return 1;
    check("empty input", buf, 0);
    buf[0] = 7;
    check("one byte", buf, 1);
    memset(buf, 0, big);
    check("all zeros (runs of 258 over block ends)", buf, big);
    check_split("all zeros (a run reaches back over the cut)", buf, big, ZRLE_BLOCK);
    check_split("all zeros, pieces of 2 blocks", buf, big, 2 * ZRLE_BLOCK);
    {
        int ok = round_trip(buf, big, &size);

        CHECK(ok && size < big / 100, "all zeros compress 100:1 (%zu bytes of %zu)", size, big);
    }
    for (size_t i = 0; i < big; i++)
        buf[i] = (uint8_t)next_random();
    check("uniform random bytes (stored blocks)", buf, big);
    check_split("uniform random bytes, pieces of 2 blocks", buf, big, 2 * ZRLE_BLOCK);
    {
        int ok = round_trip(buf, big, &size);

        CHECK(ok && size <= big + big / 1000 + 64,
              "uniform random bytes cost at most 0.1%% more than their size (%zu of %zu)",
              size, big);
    }
    /* Residual-like: mostly small values around 0 (mod 256), some runs. */
    for (size_t i = 0; i < big; i++) {
        uint32_t r = next_random();
        int v = (int)(r % 7) - 3;

        buf[i] = (r >> 20) % 9 == 0 && i ? buf[i - 1] : (uint8_t)v;
    }
    check("skewed residuals with runs", buf, big);
    check_split("skewed residuals, pieces of 2 blocks", buf, big, 2 * ZRLE_BLOCK);
    check_split("skewed residuals, pieces of 1 block", buf, big, ZRLE_BLOCK);
    {
        int ok = round_trip(buf, big, &size);

        CHECK(ok && size < big / 2, "skewed residuals compress below half (%zu of %zu)", size,
              big);
    }
    /* Fibonacci-like frequencies: an unlimited Huffman tree is ~25 deep. */
    {
        size_t at = 0, f0 = 1, f1 = 1;

        for (int sym = 0; sym < 26 && at < big; sym++) {
            for (size_t k = 0; k < f1 && at < big; k++)
                buf[at++] = (uint8_t)(sym * 2);
            size_t f2 = f0 + f1;

            f0 = f1;
            f1 = f2;
        }
        /* Break the runs up with a second stream of 50 values. */
        for (size_t i = 1; i < at; i += 2)
            buf[i] = (uint8_t)(100 + (i % 50));
        check("Fibonacci frequencies (code lengths limited to 15)", buf, at);
    }
    for (size_t n = ZRLE_BLOCK - 2; n <= ZRLE_BLOCK + 2; n++) {
        for (size_t i = 0; i < n; i++)
            buf[i] = (uint8_t)(i % 3 ? next_random() % 4 : 9);
        check("around one block", buf, n);
    }
    memset(buf, 42, 1000);
    check("one byte value (runs only after the first literal)", buf, 1000);
    for (size_t i = 0; i < 1000; i++)
        buf[i] = (uint8_t)(i & 1);
    check("two alternating values (no runs)", buf, 1000);
    CHECK(zrle_compress(small, sizeof(small), small, sizeof(small), tokens) == 0,
          "a too-small output buffer gives 0");
    free(buf);
    return unit_done();
}
