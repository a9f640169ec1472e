/*
 * Unit tests of decoder/select: SPEC's selection rule on synthetic frame
 * lists, by hand-picked cases and against a brute-force reference.
 */
#include <stdint.h>
#include <string.h>

#include "../../decoder/media/select.h"
#include "unit.h"

#define NONE SELECT_NONE
#define MAX INT64_MAX

/* Build a contiguous list: frame i at pts[i], the last one ending at end. */
static void build(struct select_frame *f, size_t n, const int64_t *pts,
                  int64_t end, const int *key)
{
    for (size_t i = 0; i < n; i++) {
        f[i].pts = pts[i];
        f[i].next_pts = i + 1 < n ? pts[i + 1] : end;
        f[i].keyframe = key[i];
    }
}

/* A: 10 frames of 10 ticks, [0,100), keyframes 0 and 5. */
static struct select_frame A[10];

static void check_pick(const struct select_frame *f, size_t n, int64_t t,
                       int64_t before, int64_t after, ptrdiff_t want, const char *what)
{
    ptrdiff_t got = select_frame(f, n, t, before, after);

    CHECK(got == want, "%s: t=%lld before=%lld after=%lld -> %td (got %td)", what,
          (long long)t, (long long)before, (long long)after, want, got);
}

static void test_exact(void)
{
    check_pick(A, 10, 0, 0, 0, 0, "exact on first pts");
    check_pick(A, 10, 9, 0, 0, 0, "exact one tick before the next pts");
    check_pick(A, 10, 10, 0, 0, 1, "exact on a pts");
    check_pick(A, 10, 19, 0, 0, 1, "exact one tick before a pts");
    check_pick(A, 10, 55, 0, 0, 5, "exact inside a keyframe");
    check_pick(A, 10, 72, 0, 0, 7, "exact inside a non-keyframe");
    check_pick(A, 10, 90, 0, 0, 9, "exact on the last pts");
    check_pick(A, 10, 99, 0, 0, 9, "exact last tick of the last frame");
    check_pick(A, 10, 100, 0, 0, NONE, "t == end fails");
    check_pick(A, 10, 101, 0, 0, NONE, "t past end fails");
    check_pick(A, 10, 100, MAX, MAX, NONE, "t == end fails even with unbounded tolerance");
    check_pick(A, 10, MAX, MAX, MAX, NONE, "t = INT64_MAX fails");
    check_pick(A, 10, -1, 0, 0, 0, "one tick before the first frame -> first");
    check_pick(A, 10, INT64_MIN, 0, 0, 0, "t = INT64_MIN -> first");
    check_pick(A, 10, INT64_MIN, MAX, MAX, 0, "t = INT64_MIN, unbounded -> first");

    int ok = 1;
    for (int64_t t = 0; t < 100; t++)
        ok &= select_frame(A, 10, t, 0, 0) == t / 10;
    CHECK(ok, "exact: every t in [0,100) picks pts <= t < next");
}

static void test_first_frame_offset(void)
{
    /* Timestamps not starting at 0: before the first frame means the first. */
    static const int64_t pts[] = { 1000, 1040, 1080 };
    static const int key[] = { 0, 1, 0 };
    struct select_frame f[3];

    build(f, 3, pts, 1120, key);
    check_pick(f, 3, 0, 0, 0, 0, "before a late first frame -> first");
    check_pick(f, 3, 999, 0, 0, 0, "one tick before a late first frame -> first");
    check_pick(f, 3, 999, 0, 100, 0, "before first, keyframe in reach -> still first");
    check_pick(f, 3, 1000, 0, 0, 0, "on the late first frame");
    check_pick(f, 3, 1119, 0, 0, 2, "last tick");
    check_pick(f, 3, 1120, 0, 0, NONE, "end");
}

static void test_tolerance(void)
{
    check_pick(A, 10, 72, 5, 5, 6, "no keyframe in window -> earliest acceptable");
    check_pick(A, 10, 72, 0, 5, 7, "no keyframe, window starts in t's frame");
    check_pick(A, 10, 72, 25, 25, 5, "keyframe in window wins");
    check_pick(A, 10, 72, 12, 0, 6, "keyframe ends at 60 == t - before: out");
    check_pick(A, 10, 72, 13, 0, 5, "keyframe's last tick 59 == t - before: in");
    check_pick(A, 10, 40, 0, 10, 5, "keyframe reached by after (pts 50 <= 50)");
    check_pick(A, 10, 40, 0, 9, 4, "keyframe one tick out of after");
    check_pick(A, 10, 60, 1, 0, 5, "keyframe reached by before (last tick 59)");
    check_pick(A, 10, 60, 0, 0, 6, "keyframe just behind, zero tolerance");
    check_pick(A, 10, 55, 50, 50, 5, "t inside a keyframe: distance 0");
    check_pick(A, 10, 20, MAX, MAX, 0, "unbounded: nearest keyframe (behind)");
    check_pick(A, 10, 95, MAX, MAX, 5, "unbounded: nearest keyframe (behind, late)");
    check_pick(A, 10, 35, MAX, MAX, 5, "unbounded: nearest keyframe (ahead)");
    check_pick(A, 10, 30, MAX, MAX, 5, "unbounded: 30 is 21 from 9, 20 from 50 -> ahead");
    check_pick(A, 10, 29, MAX, MAX, 0, "unbounded: 29 is 20 from 9, 21 from 50 -> behind");
    check_pick(A, 10, 35, MAX, 0, 0, "unbounded before only: keyframe behind");
    check_pick(A, 10, 35, 0, MAX, 5, "unbounded after only: keyframe ahead");
    check_pick(A, 10, 35, -5, -5, 3, "negative tolerance treated as 0");
}

static void test_tie_and_edges(void)
{
    /* Keyframes [10,20) and [31,40): t=25 is 6 ticks from both (19 and 31). */
    static const int64_t pts[] = { 0, 10, 20, 31, 40 };
    static const int key[] = { 0, 1, 0, 1, 0 };
    struct select_frame f[5];

    build(f, 5, pts, 50, key);
    check_pick(f, 5, 25, 10, 10, 1, "tie between two keyframes -> earlier");
    check_pick(f, 5, 26, 10, 10, 3, "one tick later -> the later keyframe");
    check_pick(f, 5, 24, 10, 10, 1, "one tick earlier -> the earlier keyframe");
    check_pick(f, 5, 25, 10, 0, 1, "only the earlier keyframe in window");
    check_pick(f, 5, 25, 0, 10, 3, "only the later keyframe in window");
    /* Window edges: [pts, next) meets [t - before, t + after]. */
    check_pick(f, 5, 25, 5, 0, 2, "lo == next_pts of the keyframe: not acceptable");
    check_pick(f, 5, 25, 6, 0, 1, "lo one tick inside the keyframe: acceptable");
    check_pick(f, 5, 25, 0, 6, 3, "hi == pts of the keyframe: acceptable");
    check_pick(f, 5, 25, 0, 5, 2, "hi one tick short of the keyframe");
    check_pick(f, 5, 45, 5, 5, 4, "no keyframe within 5 of 45");
    check_pick(f, 5, 45, 6, 0, 3, "keyframe ending at 40 reached with before=6");
}

static void test_no_keyframes(void)
{
    static const int64_t pts[] = { 0, 10, 20, 30, 40, 50, 60 };
    static const int key[7] = { 0 };
    struct select_frame f[7];

    build(f, 7, pts, 70, key);
    check_pick(f, 7, 55, 20, 20, 3, "no keyframes: earliest acceptable");
    check_pick(f, 7, 55, 0, 20, 5, "no keyframes, after only: t's own frame");
    check_pick(f, 7, 55, MAX, MAX, 0, "no keyframes, unbounded: first frame");
    check_pick(f, 7, 55, 0, 0, 5, "no keyframes, exact");
}

static void test_small_lists(void)
{
    static const int64_t pts[] = { 0 };
    static const int key[] = { 1 };
    struct select_frame f[1];

    check_pick(NULL, 0, 0, 0, 0, NONE, "n == 0");
    check_pick(NULL, 0, 5, MAX, MAX, NONE, "n == 0, unbounded");
    build(f, 1, pts, 1, key);
    check_pick(f, 1, 0, 0, 0, 0, "single one-tick frame");
    check_pick(f, 1, 1, 0, 0, NONE, "single one-tick frame: end");
    check_pick(f, 1, -1, 0, 0, 0, "single one-tick frame: before");
}

static void test_extreme_ticks(void)
{
    /* Frames spanning all of int64: window and distance arithmetic must not
     * overflow (UBSan would say so). */
    static const int64_t pts[] = { INT64_MIN, -1, 0, INT64_MAX - 10 };
    static const int key[] = { 1, 0, 0, 1 };
    struct select_frame f[4];

    build(f, 4, pts, INT64_MAX, key);
    check_pick(f, 4, INT64_MAX - 5, MAX, MAX, 3, "keyframe containing t near INT64_MAX");
    check_pick(f, 4, 5, MAX, MAX, 0, "nearer keyframe near INT64_MIN");
    check_pick(f, 4, 5, 0, MAX, 3, "after only: keyframe near INT64_MAX");
    check_pick(f, 4, 5, MAX, 0, 0, "before only: keyframe near INT64_MIN");
    check_pick(f, 4, 5, 0, 0, 2, "exact at 5");
    check_pick(f, 4, INT64_MIN, 0, 0, 0, "t = INT64_MIN on the first pts");
    check_pick(f, 4, INT64_MAX - 1, 0, 0, 3, "last tick");
    check_pick(f, 4, INT64_MAX, MAX, MAX, NONE, "t = end = INT64_MAX");
    check_pick(f, 4, -1, MAX - 1, MAX - 1, 0, "large finite tolerances saturate");
}

/* The rule stated literally, over every frame: the reference. */
static ptrdiff_t reference(const struct select_frame *f, size_t n, int64_t t,
                           int64_t before, int64_t after)
{
    if (n == 0 || t >= f[n - 1].next_pts)
        return NONE;
    if (t < f[0].pts)
        return 0;
    ptrdiff_t best = NONE, earliest = NONE;
    int64_t best_d = 0;
    for (size_t i = 0; i < n; i++) {
        /* Acceptable: some tick of [pts, next) lies in [t - before, t + after]. */
        int64_t last = f[i].next_pts - 1;
        int64_t d_ahead = f[i].pts - t, d_behind = t - last;
        if (d_ahead > after || d_behind > before)
            continue;
        if (earliest == NONE)
            earliest = (ptrdiff_t)i;
        int64_t d = d_ahead > 0 ? d_ahead : d_behind > 0 ? d_behind : 0;
        if (f[i].keyframe && (best == NONE || d < best_d)) {
            best = (ptrdiff_t)i;
            best_d = d;
        }
    }
    return best != NONE ? best : earliest;
}

static uint64_t rng = 88172645463325252u;

static uint64_t next_rand(void)         /* xorshift64: reproducible */
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static void test_against_reference(void)
{
    enum { N = 40 };
    struct select_frame f[N];
    int64_t pts[N];
    int key[N];
    long mismatches = 0, runs = 0;

    for (int list = 0; list < 200; list++) {
        size_t n = 1 + next_rand() % N;
        int64_t p = (int64_t)(next_rand() % 50) - 25;
        for (size_t i = 0; i < n; i++) {
            pts[i] = p;
            p += 1 + (int64_t)(next_rand() % 7);         /* durations 1..7 */
            key[i] = next_rand() % 5 == 0;
        }
        build(f, n, pts, p, key);
        for (int64_t t = pts[0] - 3; t <= p + 1; t++)
            for (int64_t b = 0; b <= 12; b += 3)
                for (int64_t a = 0; a <= 12; a += 4) {
                    runs++;
                    mismatches += select_frame(f, n, t, b, a) != reference(f, n, t, b, a);
                }
    }
    CHECK(mismatches == 0, "random lists: %ld of %ld picks differ from the reference",
          mismatches, runs);
}

int main(void)
{
    static const int64_t pts[] = { 0, 10, 20, 30, 40, 50, 60, 70, 80, 90 };
    static const int key[] = { 1, 0, 0, 0, 0, 1, 0, 0, 0, 0 };

    build(A, 10, pts, 100, key);
    test_exact();
    test_first_frame_offset();
    test_tolerance();
    test_tie_and_edges();
    test_no_keyframes();
    test_small_lists();
    test_extreme_ticks();
    test_against_reference();
    return unit_done();
}
