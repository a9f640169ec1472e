/*
 * decoder/media/index — see index.h.  Arrays grow geometrically; the frame list is
 * sorted once at the end, so a scan costs O(n log n) however the file orders
 * its timestamps.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "index.h"

int64_t index_sat_add(int64_t a, int64_t b)
{
    if (b > 0 && a > INT64_MAX - b)
        return INT64_MAX;
    if (b < 0 && a < INT64_MIN + 1 - b)
        return INT64_MIN + 1;
    return a + b;
}

int64_t index_sat_sub(int64_t a, int64_t b)
{
    if (b < 0 && a > INT64_MAX + b)
        return INT64_MAX;
    if (b > 0 && a < INT64_MIN + 1 + b)
        return INT64_MIN + 1;
    return a - b;
}

/* Make room for one more element of `size` bytes in *arr (n used, *cap). */
static int grow(void **arr, size_t n, size_t *cap, size_t size)
{
    size_t ncap;
    void *p;

    if (n < *cap)
        return 0;
    ncap = *cap ? *cap * 2 : 1024;
    if (ncap > SIZE_MAX / size || !(p = realloc(*arr, ncap * size)))
        return -ENOMEM;
    *arr = p;
    *cap = ncap;
    return 0;
}

int index_add_packet(struct index *ix, int64_t pts, int64_t dts, int64_t pos, int key)
{
    if (grow((void **)&ix->packets, ix->n_packets, &ix->cap_packets, sizeof(*ix->packets)) < 0)
        return -ENOMEM;
    ix->packets[ix->n_packets++] = (struct index_packet){pts, dts, pos < 0 ? -1 : pos, !!key};
    return 0;
}

int index_add_frame(struct index *ix, int64_t pts, size_t packet, int key, int64_t duration)
{
    if (grow((void **)&ix->entries, ix->n_entries, &ix->cap_entries, sizeof(*ix->entries)) < 0)
        return -ENOMEM;
    ix->entries[ix->n_entries++] = (struct index_entry){
        .pts = pts == INDEX_NOPTS ? INDEX_NOPTS + 1 : pts,
        .duration = duration, .packet = packet, .key = !!key,
    };
    return 0;
}

void index_reset_frames(struct index *ix)
{
    ix->n_entries = 0;
}

static int cmp_entry(const void *a, const void *b)
{
    const struct index_entry *x = a, *y = b;

    if (x->pts != y->pts)
        return x->pts < y->pts ? -1 : 1;
    return x->packet < y->packet ? -1 : x->packet > y->packet;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

    return x < y ? -1 : x > y;
}

/* The median gap between consecutive frames (entries sorted, deduplicated,
 * n >= 2), or 0 when memory runs out. */
static int64_t median_interval(const struct index_entry *e, size_t n)
{
    int64_t *gap = malloc((n - 1) * sizeof(*gap)), m;

    if (!gap)
        return 0;
    for (size_t i = 0; i + 1 < n; i++)
        gap[i] = index_sat_sub(e[i + 1].pts, e[i].pts);
    qsort(gap, n - 1, sizeof(*gap), cmp_i64);
    m = gap[(n - 1) / 2];
    free(gap);
    return m;
}

int index_finish(struct index *ix, int64_t default_dur)
{
    struct index_entry *e = ix->entries;
    size_t n = 0, cap = ix->n_entries ? ix->n_entries : 1;
    struct select_frame *frames = malloc(cap * sizeof(*frames));
    size_t *frame_packet = malloc(cap * sizeof(*frame_packet));
    int64_t last_dur, median;

    if (!frames || !frame_packet) {
        free(frames);
        free(frame_packet);
        return -ENOMEM;
    }
    if (!ix->n_packets)
        ix->n_entries = 0;           /* frames need a packet to decode from */
    for (size_t i = 0; i < ix->n_entries; i++)
        /* A decode to index may count packets a second demuxer gave that the
         * scan never saw: every frame's packet stays inside the index. */
        if (e[i].packet >= ix->n_packets)
            e[i].packet = ix->n_packets - 1;
    if (ix->n_entries)
        qsort(e, ix->n_entries, sizeof(*e), cmp_entry);
    for (size_t i = 0; i < ix->n_entries; i++)
        if (!n || e[i].pts != e[n - 1].pts)
            e[n++] = e[i];
    for (size_t i = 0; i < n; i++) {
        frames[i] = (struct select_frame){.pts = e[i].pts, .keyframe = e[i].key};
        frame_packet[i] = e[i].packet;
        if (i)
            frames[i - 1].next_pts = e[i].pts;
    }
    if (n) {
        median = n >= 2 ? median_interval(e, n) : 0;
        last_dur = e[n - 1].duration;
        if (median > 0 && (last_dur <= 0 || last_dur < median / 2))
            last_dur = median;
        else if (last_dur <= 0)
            last_dur = default_dur > 0 ? default_dur : 1;
        frames[n - 1].next_pts = index_sat_add(e[n - 1].pts, last_dur);
    }
    free(ix->frames);
    free(ix->frame_packet);
    ix->frames = frames;
    ix->frame_packet = frame_packet;
    ix->n_frames = n;
    free(ix->entries);
    ix->entries = NULL;
    ix->n_entries = ix->cap_entries = 0;
    /* The packets grew by doubling: give back what they will never use. */
    if (ix->n_packets && ix->cap_packets > ix->n_packets) {
        struct index_packet *p = realloc(ix->packets, ix->n_packets * sizeof(*p));

        if (p) {
            ix->packets = p;
            ix->cap_packets = ix->n_packets;
        }
    }
    return 0;
}

size_t index_memory(const struct index *ix)
{
    return ix->cap_packets * sizeof(*ix->packets) +
           ix->n_frames * (sizeof(*ix->frames) + sizeof(*ix->frame_packet)) +
           ix->cap_entries * sizeof(*ix->entries);
}

void index_free(struct index *ix)
{
    free(ix->packets);
    free(ix->frames);
    free(ix->frame_packet);
    free(ix->entries);
    memset(ix, 0, sizeof(*ix));
}

static int64_t packet_ts(const struct index_packet *p)
{
    return p->pts != INDEX_NOPTS ? p->pts : p->dts;
}

size_t index_seek_packet(const struct index *ix, size_t f)
{
    int64_t target = ix->frames[f].pts;

    for (size_t k = ix->frame_packet[f] + 1; k-- > 0;) {
        const struct index_packet *p = &ix->packets[k];
        int64_t ts = packet_ts(p);

        if (p->key && ts != INDEX_NOPTS && ts <= target)
            return k;
    }
    return 0;
}

size_t index_earlier_key(const struct index *ix, size_t k)
{
    while (k-- > 0)
        if (ix->packets[k].key)
            return k;
    return 0;
}

size_t index_find_packet(const struct index *ix, int64_t dts, int64_t pos)
{
    for (size_t k = 0; k < ix->n_packets; k++)
        if (ix->packets[k].dts == dts &&
            (pos < 0 || ix->packets[k].pos < 0 || ix->packets[k].pos == pos))
            return k;
    return SIZE_MAX;
}

size_t index_keyframe_count(const struct index *ix)
{
    size_t n = 0;

    for (size_t i = 0; i < ix->n_frames; i++)
        n += ix->frames[i].keyframe != 0;
    return n;
}

/* ---- sharing ------------------------------------------------------------- */

/* Layout: "FFIX", u32 version, u64 packets, u64 frames, then per packet
 * pts, dts, pos (i64) and key (i64), per frame pts, next_pts, keyframe and
 * packet (i64): all little-endian 64-bit words after the 24-byte head. */
#define IX_MAGIC "FFIX"
#define IX_VERSION 1u
#define IX_HEAD 24

static void put64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t get64(const unsigned char *p)
{
    uint64_t v = 0;

    for (int i = 0; i < 8; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

int index_serialize(const struct index *ix, unsigned char **out, size_t *len)
{
    size_t n = IX_HEAD + 32 * ix->n_packets + 32 * ix->n_frames;
    unsigned char *b = malloc(n), *p;

    if (!b)
        return -ENOMEM;
    memcpy(b, IX_MAGIC, 4);
    b[4] = IX_VERSION, b[5] = b[6] = b[7] = 0;
    put64(b + 8, ix->n_packets);
    put64(b + 16, ix->n_frames);
    p = b + IX_HEAD;
    for (size_t i = 0; i < ix->n_packets; i++, p += 32) {
        put64(p, (uint64_t)ix->packets[i].pts);
        put64(p + 8, (uint64_t)ix->packets[i].dts);
        put64(p + 16, (uint64_t)ix->packets[i].pos);
        put64(p + 24, (uint64_t)ix->packets[i].key);
    }
    for (size_t i = 0; i < ix->n_frames; i++, p += 32) {
        put64(p, (uint64_t)ix->frames[i].pts);
        put64(p + 8, (uint64_t)ix->frames[i].next_pts);
        put64(p + 16, (uint64_t)ix->frames[i].keyframe);
        put64(p + 24, (uint64_t)ix->frame_packet[i]);
    }
    *out = b;
    *len = n;
    return 0;
}

int index_deserialize(struct index *ix, const unsigned char *buf, size_t len)
{
    uint64_t np, nf;
    const unsigned char *p;

    if (len < IX_HEAD || memcmp(buf, IX_MAGIC, 4) != 0 || buf[4] != IX_VERSION)
        return -EINVAL;
    np = get64(buf + 8);
    nf = get64(buf + 16);
    if (np == 0 || nf == 0 || np > (len - IX_HEAD) / 32 || nf > (len - IX_HEAD) / 32 ||
        IX_HEAD + 32 * (np + nf) != len)
        return -EINVAL;
    memset(ix, 0, sizeof(*ix));
    ix->packets = malloc(np * sizeof(*ix->packets));
    ix->frames = malloc(nf * sizeof(*ix->frames));
    ix->frame_packet = malloc(nf * sizeof(*ix->frame_packet));
    if (!ix->packets || !ix->frames || !ix->frame_packet) {
        index_free(ix);
        return -ENOMEM;
    }
    p = buf + IX_HEAD;
    for (size_t i = 0; i < np; i++, p += 32)
        ix->packets[i] = (struct index_packet){(int64_t)get64(p), (int64_t)get64(p + 8),
                                               (int64_t)get64(p + 16), get64(p + 24) != 0};
    for (size_t i = 0; i < nf; i++, p += 32) {
        struct select_frame f = {(int64_t)get64(p), (int64_t)get64(p + 8), get64(p + 16) != 0};
        uint64_t pk = get64(p + 24);

        if (pk >= np || f.next_pts <= f.pts || f.pts == INDEX_NOPTS ||
            (i && f.pts <= ix->frames[i - 1].pts)) {
            index_free(ix);
            return -EINVAL;
        }
        ix->frames[i] = f;
        ix->frame_packet[i] = (size_t)pk;
    }
    ix->n_packets = ix->cap_packets = np;
    ix->n_frames = nf;
    return 0;
}
