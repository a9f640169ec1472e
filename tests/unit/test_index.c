/*
 * Unit tests of decoder/index: building from synthetic packet streams
 * (reordered, duplicated, hostile timestamps), the end of the last frame,
 * and the seek-point lookups.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "../../decoder/media/index.h"
#include "unit.h"

#define NOPTS INDEX_NOPTS

/* A B-frame GOP in decode order: I0 P3 B1 B2 | I4 P7 B5 B6 (pts in 10s). */
static void build_bframes(struct index *ix)
{
    static const int64_t pts[] = {0, 30, 10, 20, 40, 70, 50, 60};
    static const int key[] = {1, 0, 0, 0, 1, 0, 0, 0};

    memset(ix, 0, sizeof(*ix));
    for (size_t i = 0; i < 8; i++) {
        index_add_packet(ix, pts[i], (int64_t)i * 10 - 20, (int64_t)i * 100, key[i]);
        index_add_frame(ix, pts[i], i, key[i], 10);
    }
}

static void test_order(void)
{
    struct index ix;

    build_bframes(&ix);
    CHECK(index_finish(&ix, 1) == 0, "finish a B-frame stream");
    CHECK(ix.n_frames == 8 && ix.n_packets == 8, "8 frames, 8 packets");
    for (size_t i = 0; i < ix.n_frames; i++)
        CHECK(ix.frames[i].pts == (int64_t)i * 10 && ix.frames[i].next_pts == (int64_t)i * 10 + 10,
              "frame %zu in presentation order, [%zu0, %zu0)", i, i, i + 1);
    CHECK(ix.frame_packet[1] == 2 && ix.frame_packet[3] == 1 && ix.frame_packet[7] == 5,
          "each frame knows its packet in decode order");
    CHECK(index_keyframe_count(&ix) == 2, "2 keyframes");
    CHECK(index_seek_packet(&ix, 3) == 0, "frame 3 decodes from packet 0");
    CHECK(index_seek_packet(&ix, 6) == 4, "frame 6 decodes from packet 4");
    CHECK(index_seek_packet(&ix, 4) == 4, "a keyframe decodes from itself");
    CHECK(index_earlier_key(&ix, 4) == 0 && index_earlier_key(&ix, 0) == 0,
          "earlier keyframe of 4 is 0; of 0 is 0");
    CHECK(index_find_packet(&ix, 30, 500) == 5, "find packet by dts and pos");
    CHECK(index_find_packet(&ix, 30, -1) == 5, "find packet by dts alone");
    CHECK(index_find_packet(&ix, 30, 501) == SIZE_MAX, "wrong pos: not found");
    CHECK(index_find_packet(&ix, 31, -1) == SIZE_MAX, "unknown dts: not found");
    index_free(&ix);
}

/* Last frame's end: duration, median, default. */
static int64_t last_end(const int64_t *pts, size_t n, int64_t last_dur, int64_t def)
{
    struct index ix;
    int64_t end;

    memset(&ix, 0, sizeof(ix));
    for (size_t i = 0; i < n; i++) {
        index_add_packet(&ix, pts[i], pts[i], -1, i == 0);
        index_add_frame(&ix, pts[i], i, i == 0, i + 1 == n ? last_dur : 1);
    }
    if (index_finish(&ix, def) < 0 || !ix.n_frames)
        end = NOPTS;
    else
        end = ix.frames[ix.n_frames - 1].next_pts;
    index_free(&ix);
    return end;
}

static void test_last_duration(void)
{
    /* FLV at 30 fps in milliseconds, each packet claiming 1 ms. */
    int64_t flv[30];
    static const int64_t cfr[] = {0, 10, 20, 30};
    static const int64_t one[] = {5};

    for (int i = 0; i < 30; i++)
        flv[i] = (i * 1000 + 15) / 30;
    CHECK(last_end(flv, 30, 1, 33) == 1000, "FLV 1 ms placeholder: the last frame lasts the median interval (ends at %lld)",
          (long long)last_end(flv, 30, 1, 33));
    CHECK(last_end(cfr, 4, 10, 1) == 40, "a real duration is kept");
    CHECK(last_end(cfr, 4, 25, 1) == 55, "a longer last duration is kept (VFR)");
    CHECK(last_end(cfr, 4, 5, 1) == 35, "half the median is still a duration");
    CHECK(last_end(cfr, 4, 4, 1) == 40, "under half the median: the median");
    CHECK(last_end(cfr, 4, 0, 1) == 40, "missing duration: the median");
    CHECK(last_end(cfr, 4, -7, 1) == 40, "negative duration: the median");
    CHECK(last_end(one, 1, 0, 3) == 8, "one frame, no duration: the default");
    CHECK(last_end(one, 1, 2, 3) == 7, "one frame with a duration keeps it");
}

static void test_hostile(void)
{
    struct index ix;
    static const int64_t big[] = {INT64_MAX - 5, INT64_MIN + 1, 0, INT64_MAX, INT64_MAX};
    int sorted = 1;

    CHECK(index_sat_add(INT64_MAX, 1) == INT64_MAX, "sat_add saturates up");
    CHECK(index_sat_add(INT64_MIN + 1, -5) == INT64_MIN + 1, "sat_add saturates down, never NOPTS");
    CHECK(index_sat_sub(INT64_MIN + 1, 1) == INT64_MIN + 1, "sat_sub saturates down");
    CHECK(index_sat_sub(INT64_MAX, -1) == INT64_MAX, "sat_sub saturates up");
    CHECK(index_sat_sub(INT64_MAX, INT64_MIN + 1) == INT64_MAX, "extreme difference saturates");
    CHECK(index_sat_add(3, -5) == -2 && index_sat_sub(3, 5) == -2, "ordinary sums");

    memset(&ix, 0, sizeof(ix));
    for (size_t i = 0; i < 5; i++) {
        index_add_packet(&ix, big[i], NOPTS, -1, 1);
        index_add_frame(&ix, big[i], i, 1, INT64_MAX);
    }
    index_add_frame(&ix, NOPTS, 0, 1, 0);   /* never kept as NOPTS */
    CHECK(index_finish(&ix, 1) == 0, "finish extreme timestamps");
    CHECK(ix.n_frames == 4, "duplicate pts dropped (4 distinct of 6), got %zu", ix.n_frames);
    for (size_t i = 0; i + 1 < ix.n_frames; i++)
        sorted &= ix.frames[i].pts < ix.frames[i + 1].pts && ix.frames[i].next_pts == ix.frames[i + 1].pts;
    CHECK(sorted, "strictly increasing, contiguous");
    CHECK(ix.frames[0].pts != NOPTS, "no frame is NOPTS");
    CHECK(ix.frames[ix.n_frames - 1].next_pts == INT64_MAX,
          "the last end saturates at INT64_MAX");
    CHECK(index_seek_packet(&ix, 2) <= ix.frame_packet[2], "a seek point at or before its packet");
    index_free(&ix);

    memset(&ix, 0, sizeof(ix));
    CHECK(index_finish(&ix, 1) == 0 && ix.n_frames == 0, "an empty stream finishes with no frames");
    index_free(&ix);
    /* Packets without pts: the seek point falls back to dts, then packet 0. */
    memset(&ix, 0, sizeof(ix));
    index_add_packet(&ix, NOPTS, NOPTS, -1, 1);
    index_add_packet(&ix, NOPTS, 100, -1, 1);
    index_add_packet(&ix, NOPTS, 200, -1, 0);
    index_add_frame(&ix, 0, 0, 1, 0);
    index_add_frame(&ix, 100, 1, 1, 0);
    index_add_frame(&ix, 200, 2, 0, 0);
    index_finish(&ix, 100);
    CHECK(index_seek_packet(&ix, 2) == 1, "seek by dts when pts is missing");
    CHECK(index_seek_packet(&ix, 0) == 0, "no timestamp at all: packet 0");
    index_free(&ix);
}

static void test_packet_bounds(void)
{
    struct index ix;
    int inside = 1;

    memset(&ix, 0, sizeof(ix));
    index_add_packet(&ix, NOPTS, 0, 0, 1);
    index_add_packet(&ix, NOPTS, 1, 10, 0);
    index_add_frame(&ix, 0, 0, 1, 1);
    index_add_frame(&ix, 1, 4, 0, 1);          /* a packet the scan never saw */
    index_add_frame(&ix, 2, 9, 0, 1);
    CHECK(index_finish(&ix, 1) == 0 && ix.n_frames == 3, "frames past the packets are kept");
    for (size_t i = 0; i < ix.n_frames; i++)
        inside &= ix.frame_packet[i] < ix.n_packets;
    CHECK(inside, "every frame's packet is inside the index");
    CHECK(index_seek_packet(&ix, 2) == 0, "and seeks from a real keyframe");
    index_free(&ix);
    memset(&ix, 0, sizeof(ix));
    index_add_frame(&ix, 0, 0, 1, 1);
    CHECK(index_finish(&ix, 1) == 0 && ix.n_frames == 0, "no packets: no frames");
    index_free(&ix);
}

/* Field by field: the structs have padding, which memcmp would compare. */
static int same_index(const struct index *a, const struct index *b)
{
    if (a->n_frames != b->n_frames || a->n_packets != b->n_packets)
        return 0;
    for (size_t i = 0; i < a->n_packets; i++)
        if (a->packets[i].pts != b->packets[i].pts || a->packets[i].dts != b->packets[i].dts ||
            a->packets[i].pos != b->packets[i].pos || a->packets[i].key != b->packets[i].key)
            return 0;
    for (size_t i = 0; i < a->n_frames; i++)
        if (a->frames[i].pts != b->frames[i].pts || a->frames[i].next_pts != b->frames[i].next_pts ||
            a->frames[i].keyframe != b->frames[i].keyframe ||
            a->frame_packet[i] != b->frame_packet[i])
            return 0;
    return 1;
}

/* index_serialize / index_deserialize: a round trip, and hostile bytes. */
static void test_sharing(void)
{
    struct index ix = {0}, back = {0};
    unsigned char *b = NULL;
    size_t len = 0;

    for (int i = 0; i < 6; i++)
        index_add_packet(&ix, i * 10, i * 10 - 20, 100 * i, i % 3 == 0);
    for (int i = 0; i < 6; i++)
        index_add_frame(&ix, (i * 37) % 60, (size_t)i, i % 3 == 0, 10);
    CHECK(index_finish(&ix, 10) == 0 && index_serialize(&ix, &b, &len) == 0, "serialize");
    if (!b)
        return;
    CHECK(index_deserialize(&back, b, len) == 0 && same_index(&back, &ix),
          "round trip: the same packets and frames");
    CHECK(index_seek_packet(&back, 4) == index_seek_packet(&ix, 4), "and the same seek points");
    index_free(&back);
    CHECK(index_deserialize(&back, b, len - 1) == -EINVAL && !back.frames, "truncated: refused");
    b[0] = 'X';
    CHECK(index_deserialize(&back, b, len) == -EINVAL, "another magic: refused");
    b[0] = 'F';
    /* frame 1's pts (second frame record, first word) below frame 0's */
    size_t f1 = 24 + 32 * ix.n_packets + 32;
    unsigned char save = b[f1];
    memset(b + f1, 0, 8);
    b[f1 + 7] = 0x80;                       /* INT64_MIN */
    CHECK(index_deserialize(&back, b, len) == -EINVAL && !back.frames,
          "frames out of order (or NOPTS): refused, nothing kept");
    b[f1] = save;
    memset(b + f1 + 1, 0, 7);
    memset(b + 16, 0xff, 8);                /* a frame count far beyond the length */
    CHECK(index_deserialize(&back, b, len) == -EINVAL, "counts that do not match: refused");
    free(b);
    index_free(&ix);
}

int main(void)
{
    test_order();
    test_last_duration();
    test_hostile();
    test_packet_bounds();
    test_sharing();
    return unit_done();
}
