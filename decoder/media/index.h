/*
 * decoder/media/index — a video stream's packet and frame index, as a pure module:
 * no FFmpeg, no locks, no I/O.  Unit-tested with synthetic streams.
 *
 * Built by one thread (video.c's packet scan, or the decode-to-index pass)
 * with index_add_packet() / index_add_frame(), then index_finish(); after
 * that it is immutable and any thread may read it.  Timestamps are int64_t
 * ticks of the stream's time base and come from the file, so nothing here
 * assumes they are sane: every sum and difference saturates.
 */
#ifndef FRAMEFS_INDEX_H
#define FRAMEFS_INDEX_H

#include <stddef.h>
#include <stdint.h>

#include "select.h"

#define INDEX_NOPTS INT64_MIN       /* no timestamp (FFmpeg's AV_NOPTS_VALUE) */

/* One packet of the stream, in decode (file) order. */
struct index_packet {
    int64_t pts, dts, pos;          /* pos < 0: unknown */
    int key;
};

/* A shown frame while building: its pts, the packet it came from. */
struct index_entry {
    int64_t pts, duration;          /* duration <= 0: unknown */
    size_t packet;
    int key;
};

struct index {
    struct index_packet *packets;   /* decode order */
    size_t n_packets, cap_packets;

    /* After index_finish(): frames in presentation order (pts strictly
     * increasing; the selection rule's input) and, for each, the position
     * of its packet in decode order. */
    struct select_frame *frames;
    size_t *frame_packet;
    size_t n_frames;

    struct index_entry *entries;    /* while building */
    size_t n_entries, cap_entries;
};

/* Append a packet / a shown frame.  0 or -ENOMEM. */
int index_add_packet(struct index *ix, int64_t pts, int64_t dts, int64_t pos, int key);
int index_add_frame(struct index *ix, int64_t pts, size_t packet, int key, int64_t duration);
/* Forget the frames added so far (the packets stay). */
void index_reset_frames(struct index *ix);

/*
 * Sort the frames by pts (decode order among equal pts), keep the first of
 * each pts, and give each frame its end: the next frame's pts, and for the
 * last one its own duration unless that is missing or shorter than half the
 * median frame interval (a muxer's placeholder, such as FLV's 1 ms): then
 * the median interval; with a single frame and no duration, default_dur.
 * A frame's packet past the last one is taken as the last (a decode may see
 * packets the scan did not); without packets there are no frames.
 * 0 or -ENOMEM (then the index is unchanged but for the packets).
 */
int index_finish(struct index *ix, int64_t default_dur);
void index_free(struct index *ix);

/* Position in decode order of the keyframe to start decoding at to reach
 * frame f: the last keyframe at or before its packet whose timestamp (pts,
 * else dts) is at or before the frame's pts; 0 if none. */
size_t index_seek_packet(const struct index *ix, size_t f);
/* The previous keyframe before packet k in decode order (0 if none). */
size_t index_earlier_key(const struct index *ix, size_t k);
/* Position of the packet with this dts (and pos, when both are known), or
 * SIZE_MAX. */
size_t index_find_packet(const struct index *ix, int64_t dts, int64_t pos);
/* The bytes the index holds in memory (its arrays). */
size_t index_memory(const struct index *ix);
/* Number of keyframes among the frames. */
size_t index_keyframe_count(const struct index *ix);

/*
 * A finished index as bytes, to share it (decoder/shared.h): a new malloc'd
 * buffer in *out, its length in *len.  0 or -ENOMEM.  index_deserialize()
 * fills an empty index from such bytes, trusting nothing in them: counts
 * must match the length, frames must be in strictly increasing pts order
 * with ends after their starts, and every frame's packet must exist; else
 * -EINVAL and the index stays empty.  -ENOMEM too.
 */
int index_serialize(const struct index *ix, unsigned char **out, size_t *len);
int index_deserialize(struct index *ix, const unsigned char *buf, size_t len);

/* a + b and a - b, saturated to [INT64_MIN + 1, INT64_MAX] (never NOPTS). */
int64_t index_sat_add(int64_t a, int64_t b);
int64_t index_sat_sub(int64_t a, int64_t b);

#endif
