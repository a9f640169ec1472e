/*
 * decoder/image/zrle — run-length + Huffman zlib streams (zrle.h).
 *
 * Per block of ZRLE_BLOCK input bytes: tokenize (literals, and runs of
 * 3..258 copies of the previous byte as matches at distance 1) while
 * counting symbols; build length-limited Huffman codes; then write the
 * block as dynamic Huffman, or stored when that would be smaller.  The
 * distance alphabet always has codes 0 and 1 of one bit each (only 0 is
 * used), which every inflater accepts.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <libdeflate.h>

#include "zrle.h"

#define LITLEN_SYMS 286
#define DIST_SYMS 2
#define CL_SYMS 19
#define MAX_BITS 15
#define MAX_CL_BITS 7
#define EOB 256
#define STORED_MAX 65535u

/* Length 3..258 -> its length code (0..28, for symbols 257..285). */
static uint8_t len_code[259];
static const uint16_t len_base[29] = {3,  4,  5,  6,  7,  8,  9,  10, 11,  13,  15,  17,  19,  23, 27,
                                      31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258};
static const uint8_t len_extra[29] = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2,
                                      2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0};
static const uint8_t cl_order[CL_SYMS] = {16, 17, 18, 0, 8,  7, 9,  6, 10, 5,
                                          11, 4,  12, 3, 13, 2, 14, 1, 15};
static pthread_once_t tables_once = PTHREAD_ONCE_INIT;

static void make_tables(void)
{
    for (int k = 0; k < 28; k++)
        for (int l = len_base[k]; l < len_base[k] + (1 << len_extra[k]) && l <= 258; l++)
            len_code[l] = (uint8_t)k;
    len_code[258] = 28;      /* 258 has its own code; 284 stops at 257 */
}

/* ---- Huffman code lengths --------------------------------------------- */

struct leaf {
    uint32_t freq;
    uint16_t sym;
};

static int leaf_cmp(const void *a, const void *b)
{
    const struct leaf *x = a, *y = b;

    if (x->freq != y->freq)
        return x->freq < y->freq ? -1 : 1;
    return x->sym < y->sym ? -1 : x->sym > y->sym;
}

/* Huffman depths of m >= 2 leaves sorted by frequency (two queues: leaves,
 * then internal nodes, both in nondecreasing weight).  The deepest. */
static int tree_depths(const struct leaf *leaves, int m, uint8_t *depth)
{
    uint64_t weight[2 * LITLEN_SYMS];
    int parent[2 * LITLEN_SYMS], d[2 * LITLEN_SYMS];
    int li = 0, ni = m, max = 0;

    for (int i = 0; i < m; i++)
        weight[i] = leaves[i].freq;
    for (int k = m; k < 2 * m - 1; k++) {
        int pick[2];

        for (int t = 0; t < 2; t++)
            pick[t] = li < m && (ni >= k || weight[li] <= weight[ni]) ? li++ : ni++;
        weight[k] = weight[pick[0]] + weight[pick[1]];
        parent[pick[0]] = parent[pick[1]] = k;
    }
    d[2 * m - 2] = 0;
    for (int k = 2 * m - 3; k >= 0; k--)
        d[k] = d[parent[k]] + 1;        /* a parent comes after its children */
    for (int i = 0; i < m; i++) {
        depth[i] = (uint8_t)(d[i] > 255 ? 255 : d[i]);
        if (d[i] > max)
            max = d[i];
    }
    return max;
}

/* Code lengths (at most `limit`) for freq[0..n); symbols of frequency 0
 * get 0.  At least two symbols must be used.  Too deep a tree is rebuilt
 * from flattened frequencies: still a Huffman tree, so the code stays
 * complete, as inflaters require. */
static void huff_lengths(const uint32_t *freq, int n, int limit, uint8_t *len)
{
    struct leaf leaves[LITLEN_SYMS];
    uint8_t depth[LITLEN_SYMS];
    int m = 0;

    for (int s = 0; s < n; s++) {
        len[s] = 0;
        if (freq[s])
            leaves[m++] = (struct leaf){freq[s], (uint16_t)s};
    }
    for (;;) {
        qsort(leaves, (size_t)m, sizeof(*leaves), leaf_cmp);
        if (tree_depths(leaves, m, depth) <= limit)
            break;
        for (int i = 0; i < m; i++)
            leaves[i].freq = (leaves[i].freq >> 1) | 1;
    }
    for (int i = 0; i < m; i++)
        len[leaves[i].sym] = depth[i];
}

static uint16_t reverse_bits(uint16_t code, int bits)
{
    uint16_t r = 0;

    for (int i = 0; i < bits; i++, code >>= 1)
        r = (uint16_t)((r << 1) | (code & 1));
    return r;
}

/* Canonical codes (RFC 1951 3.2.2), bit-reversed for LSB-first output. */
static void make_codes(const uint8_t *len, int n, uint16_t *code)
{
    uint16_t count[MAX_BITS + 1] = {0}, next[MAX_BITS + 1];
    uint16_t c = 0;

    for (int s = 0; s < n; s++)
        count[len[s]]++;
    count[0] = 0;
    for (int bits = 1; bits <= MAX_BITS; bits++) {
        c = (uint16_t)((c + count[bits - 1]) << 1);
        next[bits] = c;
    }
    for (int s = 0; s < n; s++)
        code[s] = len[s] ? reverse_bits(next[len[s]]++, len[s]) : 0;
}

/* ---- bit output -------------------------------------------------------- */

/* LSB-first bits in a 64-bit buffer, written out a whole word at a time:
 * after flush_whole() at most 7 bits wait, so two puts of up to 28 bits
 * may follow before the next flush.  The writes run up to 8 bytes past the
 * stream's end: zrle_bound() leaves room. */
struct bitwriter {
    uint64_t buf;
    int count;
    uint8_t *p;
};

static inline void put_bits(struct bitwriter *w, uint32_t bits, int n)
{
    w->buf |= (uint64_t)bits << w->count;
    w->count += n;
}

static inline void flush_whole(struct bitwriter *w)
{
    int bytes = w->count >> 3;            /* at most 7: count < 64 */
    uint64_t le = w->buf;

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
    le = __builtin_bswap64(le);
#endif
    memcpy(w->p, &le, 8);
    w->p += bytes;
    w->buf >>= 8 * bytes;
    w->count &= 7;
}

/* put_bits() then flush_whole(), for callers that need not count. */
static void put_flush(struct bitwriter *w, uint32_t bits, int n)
{
    put_bits(w, bits, n);
    flush_whole(w);
}

/* Pad to a byte boundary and write out everything buffered. */
static void flush_bits(struct bitwriter *w)
{
    flush_whole(w);
    if (w->count)
        w->p++;
    w->buf = 0;
    w->count = 0;
}

/* ---- blocks ------------------------------------------------------------ */

struct block {
    uint32_t freq[LITLEN_SYMS], cl_freq[CL_SYMS];
    uint8_t len[LITLEN_SYMS + DIST_SYMS], cl_len[CL_SYMS];
    uint16_t code[LITLEN_SYMS], cl_code[CL_SYMS];
    uint8_t cl_tok[LITLEN_SYMS + DIST_SYMS], cl_extra[LITLEN_SYMS + DIST_SYMS];
    int n_cl, hlit, hclen;
    size_t n_tok, matches;
};

/* The length of the run of c at in[i..), at most max (>= 1). */
static inline size_t run_length(const uint8_t *in, size_t i, size_t max, uint8_t c)
{
    uint64_t pattern = c * 0x0101010101010101ull;
    size_t r = 0;

    for (; r + 8 <= max; r += 8) {
        uint64_t v, diff;

        memcpy(&v, in + i + r, 8);
        if ((diff = v ^ pattern)) {
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
            return r + ((size_t)__builtin_ctzll(diff) >> 3);
#else
            return r + ((size_t)__builtin_clzll(diff) >> 3);
#endif
        }
    }
    while (r < max && in[i + r] == c)
        r++;
    return r;
}

/* Tokens of in[start..end) (the byte before start may start a run).
 * Literals are counted in four histograms in turn, summed at the end: a
 * filtered frame repeats a few values, and one counter incremented at
 * every byte makes each increment wait for the one before. */
static void tokenize(const uint8_t *in, size_t start, size_t end, uint16_t *tok,
                     struct block *b)
{
    uint32_t lanes[4][256];
    size_t i = start, nt = 0;

    memset(lanes, 0, sizeof(lanes));
    while (i < end) {
        uint8_t c = in[i];

        /* A run: three or more copies of the byte before. */
        if (i > 0 && i + 2 < end && c == in[i - 1] && in[i + 1] == c && in[i + 2] == c) {
            size_t r = 3 + run_length(in, i + 3, (end - i < 258 ? end - i : 258) - 3, c);

            tok[nt++] = (uint16_t)(256 + r);
            b->freq[257 + len_code[r]]++;
            b->matches++;
            i += r;
            continue;
        }
        tok[nt] = c;
        lanes[nt & 3][c]++;
        nt++;
        i++;
    }
    for (int c = 0; c < 256; c++)
        b->freq[c] += lanes[0][c] + lanes[1][c] + lanes[2][c] + lanes[3][c];
    b->n_tok = nt;
}

/* The code-length sequence of litlen and distance lengths, run-length coded
 * with 16 (repeat previous 3-6), 17 (zeros 3-10) and 18 (zeros 11-138). */
static void code_length_tokens(struct block *b, const uint8_t *l, int total)
{
    b->n_cl = 0;
    for (int i = 0; i < total;) {
        int run = 1;

        while (i + run < total && l[i + run] == l[i])
            run++;
        if (l[i] == 0 && run >= 3) {
            int r = run > 138 ? 138 : run;

            b->cl_tok[b->n_cl] = r >= 11 ? 18 : 17;
            b->cl_extra[b->n_cl++] = (uint8_t)(r >= 11 ? r - 11 : r - 3);
            i += r;
        } else if (l[i] != 0 && run >= 4) {
            int r = run - 1 > 6 ? 6 : run - 1;

            b->cl_tok[b->n_cl] = l[i];
            b->cl_extra[b->n_cl++] = 0;
            b->cl_tok[b->n_cl] = 16;
            b->cl_extra[b->n_cl++] = (uint8_t)(r - 3);
            i += 1 + r;
        } else {
            b->cl_tok[b->n_cl] = l[i];
            b->cl_extra[b->n_cl++] = 0;
            i++;
        }
    }
    memset(b->cl_freq, 0, sizeof(b->cl_freq));
    for (int k = 0; k < b->n_cl; k++)
        b->cl_freq[b->cl_tok[k]]++;
}

static int cl_extra_bits(int sym)
{
    return sym == 16 ? 2 : sym == 17 ? 3 : sym == 18 ? 7 : 0;
}

/* Build the block's codes; its size in bits as dynamic Huffman. */
static size_t plan_block(struct block *b)
{
    uint8_t seq[LITLEN_SYMS + DIST_SYMS];
    size_t bits = 3 + 5 + 5 + 4;
    int used = 0;

    b->freq[EOB] = 1;
    for (int s = 0; s < LITLEN_SYMS; s++)
        used += b->freq[s] != 0;
    if (used < 2)
        b->freq[b->freq[0] ? 1 : 0] = 1;     /* a complete code needs two */
    huff_lengths(b->freq, LITLEN_SYMS, MAX_BITS, b->len);
    b->len[LITLEN_SYMS] = b->len[LITLEN_SYMS + 1] = 1;   /* distance codes 0, 1 */
    make_codes(b->len, LITLEN_SYMS, b->code);
    for (b->hlit = LITLEN_SYMS; b->hlit > 257 && !b->len[b->hlit - 1]; b->hlit--)
        ;
    /* The distance lengths follow the used litlen lengths directly. */
    memcpy(seq, b->len, (size_t)b->hlit);
    memcpy(seq + b->hlit, b->len + LITLEN_SYMS, DIST_SYMS);
    code_length_tokens(b, seq, b->hlit + DIST_SYMS);
    {
        int cl_used = 0;

        for (int s = 0; s < CL_SYMS; s++)
            cl_used += b->cl_freq[s] != 0;
        if (cl_used < 2)
            b->cl_freq[b->cl_freq[0] ? 1 : 0] = 1;
    }
    huff_lengths(b->cl_freq, CL_SYMS, MAX_CL_BITS, b->cl_len);
    make_codes(b->cl_len, CL_SYMS, b->cl_code);
    for (b->hclen = CL_SYMS; b->hclen > 4 && !b->cl_len[cl_order[b->hclen - 1]]; b->hclen--)
        ;
    bits += 3 * (size_t)b->hclen;
    for (int k = 0; k < b->n_cl; k++)
        bits += b->cl_len[b->cl_tok[k]] + (size_t)cl_extra_bits(b->cl_tok[k]);
    for (int s = 0; s < LITLEN_SYMS; s++)
        bits += (size_t)b->freq[s] * (b->len[s] + (s > 256 ? len_extra[s - 257] : 0));
    return bits + b->matches * 1;               /* distance code 0: one bit */
}

static inline void put_token(struct bitwriter *w, const struct block *b, unsigned t)
{
    if (t < 256) {
        put_bits(w, b->code[t], b->len[t]);
    } else {
        unsigned r = t - 256, lc = len_code[r];

        /* The length's code, its extra bits, then distance code 0: a zero
         * bit, already in place (at most 15 + 5 + 1 bits). */
        put_bits(w, b->code[257 + lc] | ((r - len_base[lc]) << b->len[257 + lc]),
                 b->len[257 + lc] + len_extra[lc] + 1);
    }
}

static void write_dynamic(struct bitwriter *w, const struct block *b, const uint16_t *tok,
                          int final)
{
    put_flush(w, (uint32_t)(final | (2 << 1)), 3);
    put_flush(w, (uint32_t)(b->hlit - 257), 5);
    put_flush(w, DIST_SYMS - 1, 5);
    put_flush(w, (uint32_t)(b->hclen - 4), 4);
    for (int k = 0; k < b->hclen; k++)
        put_flush(w, b->cl_len[cl_order[k]], 3);
    for (int k = 0; k < b->n_cl; k++) {
        int s = b->cl_tok[k];

        put_flush(w, b->cl_code[s], b->cl_len[s]);
        put_flush(w, b->cl_extra[k], cl_extra_bits(s));
    }
    /* Two tokens between flushes: each is at most 21 bits (15 for a
     * literal), and at most 7 wait after a flush. */
    for (size_t k = 0; k < b->n_tok; k++) {
        put_token(w, b, tok[k]);
        if (++k < b->n_tok)
            put_token(w, b, tok[k]);
        flush_whole(w);
    }
    put_flush(w, b->code[EOB], b->len[EOB]);
}

static void write_stored(struct bitwriter *w, const uint8_t *in, size_t n, int final)
{
    do {
        size_t piece = n < STORED_MAX ? n : STORED_MAX;

        n -= piece;
        put_flush(w, (uint32_t)(final && !n), 3);
        flush_bits(w);
        w->p[0] = (uint8_t)piece;
        w->p[1] = (uint8_t)(piece >> 8);
        w->p[2] = (uint8_t)~piece;
        w->p[3] = (uint8_t)(~piece >> 8);
        memcpy(w->p + 4, in, piece);
        w->p += 4 + piece;
        in += piece;
    } while (n);
}

/* The stored size of n bytes in bits, as write_stored() makes it (at most:
 * a byte of padding per piece). */
static size_t stored_bits(size_t n)
{
    return (n / STORED_MAX + 1) * (3 + 7 + 32) + 8 * n;
}

size_t zrle_piece_bound(size_t n)
{
    return zrle_bound(n) + 5;        /* + the cut's empty stored block */
}

size_t zrle_bound(size_t n)
{
    /* Never more than stored: per block the pieces' headers and padding;
     * the zlib header and checksum; 8 bytes for the bit buffer. */
    return n + (n / ZRLE_BLOCK + 1) * 2 * 6 + 2 + 4 + 8;
}

/* The blocks of in[start..end), the last one final when `final`. */
static void write_blocks(struct bitwriter *w, const uint8_t *in, size_t start, size_t end,
                         int final, uint16_t *tokens)
{
    struct block b;

    do {
        size_t stop = end - start < ZRLE_BLOCK ? end : start + ZRLE_BLOCK;
        int last = final && stop == end;

        memset(b.freq, 0, sizeof(b.freq));
        b.matches = 0;
        tokenize(in, start, stop, tokens, &b);
        if (plan_block(&b) < stored_bits(stop - start))
            write_dynamic(w, &b, tokens, last);
        else
            write_stored(w, in + start, stop - start, last);
        start = stop;
    } while (start < end);
}

static void write_header(struct bitwriter *w)
{
    *w->p++ = 0x78;         /* deflate, 32K window */
    *w->p++ = 0x01;         /* fastest; (0x78 << 8 | 0x01) % 31 == 0 */
}

static void write_adler(struct bitwriter *w, const uint8_t *in, size_t n)
{
    uint32_t adler = libdeflate_adler32(1, in, n);

    for (int i = 3; i >= 0; i--)
        *w->p++ = (uint8_t)(adler >> (8 * i));
}

size_t zrle_compress(const uint8_t *in, size_t n, uint8_t *out, size_t cap, uint16_t *tokens)
{
    struct bitwriter w = {0, 0, out};

    if (cap < zrle_bound(n))
        return 0;
    pthread_once(&tables_once, make_tables);
    write_header(&w);
    write_blocks(&w, in, 0, n, 1, tokens);
    flush_bits(&w);
    write_adler(&w, in, n);
    return (size_t)(w.p - out);
}

size_t zrle_piece(const uint8_t *in, size_t start, size_t end, size_t n, uint8_t *out,
                  size_t cap, uint16_t *tokens)
{
    struct bitwriter w = {0, 0, out};

    if (start >= end || end > n || start % ZRLE_BLOCK || (end < n && end % ZRLE_BLOCK) ||
        cap < zrle_piece_bound(end - start))
        return 0;
    pthread_once(&tables_once, make_tables);
    if (start == 0)
        write_header(&w);
    write_blocks(&w, in, start, end, end == n, tokens);
    if (end < n)
        write_stored(&w, in, 0, 0);      /* empty, byte-aligned: the cut */
    flush_bits(&w);
    if (end == n)
        write_adler(&w, in, n);
    return (size_t)(w.p - out);
}
