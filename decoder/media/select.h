/*
 * decoder/media/select — SPEC's selection rule as a pure function over a frame list.
 * No allocation, no locks, no FFmpeg: unit-tested with synthetic lists.
 *
 * Frames are given in presentation order (pts strictly increasing).  Frame i
 * covers [pts[i], next_pts[i]) where next_pts[i] = pts[i+1], and for the last
 * frame pts + its duration.  All values are integer ticks of one time base.
 */
#ifndef FRAMEFS_SELECT_H
#define FRAMEFS_SELECT_H

#include <stdint.h>
#include <stddef.h>

struct select_frame {
    int64_t pts;
    int64_t next_pts;
    int keyframe;      /* decodable on its own: preferred under tolerance */
};

#define SELECT_NONE ((ptrdiff_t)-1)

/*
 * Pick the frame for a request at tick t with window [t - before, t + after]
 * (before/after >= 0, a negative one counts as 0; INT64_MAX means unbounded:
 * the window saturates, nothing overflows).
 *  - t >= next_pts of the last frame: SELECT_NONE (past the end; fails).
 *  - t before the first frame's pts: the first frame, whatever the tolerance.
 *  - Else, among frames whose interval meets the window (pts <= t + after
 *    and next_pts > t - before):
 *      the acceptable keyframe nearest to t (distance 0 when its interval
 *      contains t, else the gap in ticks between t and the nearest tick the
 *      interval covers: pts - t, or t - (next_pts - 1); earlier on a tie),
 *      otherwise the earliest acceptable frame.
 *    With before = after = 0 this is the frame with pts <= t < next_pts.
 * O(log n) plus the walk from t to the nearest keyframe on each side.
 * Returns the frame's position in the array, or SELECT_NONE (also for n == 0).
 */
ptrdiff_t select_frame(const struct select_frame *frames, size_t n,
                       int64_t t, int64_t before, int64_t after);

#endif
