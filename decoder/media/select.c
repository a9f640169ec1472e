/*
 * decoder/media/select — SPEC's selection rule (see select.h).
 *
 * A request touches a contiguous run of acceptable frames around the frame
 * that contains t, so the work is two binary searches for the ends of that
 * run and a walk outward from t to the nearest keyframe on each side, which
 * stops at the first keyframe met: O(log n + GOP) rather than O(n).
 *
 * Ticks are int64_t, and t - before or t + after overflow for large
 * tolerances (INT64_MAX means unbounded), so the window saturates; distances
 * are taken as uint64_t, which holds any difference of two int64_t.
 */
#include "select.h"

static int64_t sat_sub(int64_t a, int64_t b)    /* b >= 0 */
{
    return a < INT64_MIN + b ? INT64_MIN : a - b;
}

static int64_t sat_add(int64_t a, int64_t b)    /* b >= 0 */
{
    return a > INT64_MAX - b ? INT64_MAX : a + b;
}

/* Ticks between t and the nearest tick frame f covers, [pts, next_pts - 1]. */
static uint64_t distance(const struct select_frame *f, int64_t t)
{
    if (t < f->pts)
        return (uint64_t)f->pts - (uint64_t)t;
    if (t < f->next_pts)
        return 0;
    return (uint64_t)t - (uint64_t)(f->next_pts - 1);
}

/* Number of leading frames whose pts (or, with by_end, next_pts) is <= x;
 * both increase along the array. */
static size_t count_at_or_before(const struct select_frame *frames, size_t n,
                                 int64_t x, int by_end)
{
    size_t lo = 0, hi = n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if ((by_end ? frames[mid].next_pts : frames[mid].pts) <= x)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static size_t count_pts_at_or_before(const struct select_frame *frames, size_t n, int64_t x)
{
    return count_at_or_before(frames, n, x, 0);
}

/* First frame whose interval reaches past x (next_pts > x), or n. */
static size_t first_ending_after(const struct select_frame *frames, size_t n, int64_t x)
{
    return count_at_or_before(frames, n, x, 1);
}

ptrdiff_t select_frame(const struct select_frame *frames, size_t n,
                       int64_t t, int64_t before, int64_t after)
{
    if (n == 0 || t >= frames[n - 1].next_pts)
        return SELECT_NONE;                     /* past the end */
    if (t < frames[0].pts)
        return 0;                               /* before the first frame */
    if (before < 0)
        before = 0;
    if (after < 0)
        after = 0;

    /* at: the frame shown at t, the last with pts <= t (exists: t >= pts[0]).
     * Acceptable frames are first..last: those meeting the window. */
    size_t at = count_pts_at_or_before(frames, n, t) - 1;
    size_t first = first_ending_after(frames, n, sat_sub(t, before));
    size_t last = count_pts_at_or_before(frames, n, sat_add(t, after));
    if (first >= last)
        return (ptrdiff_t)at;       /* only if the list has gaps: be a player */
    last--;

    /* The nearest acceptable keyframe at or before `at`, and after it.
     * Distances only grow walking away from t, so stop at the first. */
    ptrdiff_t back = SELECT_NONE, ahead = SELECT_NONE;
    for (size_t i = at + 1; i-- > first;)
        if (frames[i].keyframe) {
            back = (ptrdiff_t)i;
            break;
        }
    for (size_t i = at + 1; i <= last; i++)
        if (frames[i].keyframe) {
            ahead = (ptrdiff_t)i;
            break;
        }

    if (back != SELECT_NONE && ahead != SELECT_NONE)    /* tie: the earlier */
        return distance(&frames[back], t) <= distance(&frames[ahead], t) ? back : ahead;
    if (back != SELECT_NONE)
        return back;
    if (ahead != SELECT_NONE)
        return ahead;
    return (ptrdiff_t)first;        /* no keyframe: least decoding */
}
