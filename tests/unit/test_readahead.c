/*
 * Unit tests of decoder/readahead: when a reader counts as sequential, the
 * window's bounds (frames and bytes), and when queued frames stop being
 * wanted.
 */
#include <stdint.h>

#include "../../decoder/readahead.h"
#include "unit.h"

int main(void)
{
    struct readahead *ra = readahead_new(2, 64u << 20);   /* window: 4 frames, 16 MB */
    int va, vb;
    size_t first = 0, n;

    CHECK(ra != NULL, "readahead_new");
    n = readahead_note(ra, &va, 10, 1000, 1000, &first);
    CHECK(n == 0, "a first request reads nothing ahead (got %zu)", n);
    n = readahead_note(ra, &va, 11, 1000, 1040, &first);
    CHECK(n == 4 && first == 12, "the next frame: 4 frames from 12 (got %zu from %zu)", n, first);
    CHECK(readahead_wanted(ra, &va, 12, 1050) && readahead_wanted(ra, &va, 15, 1050),
          "frames 12..15 are wanted");
    CHECK(!readahead_wanted(ra, &va, 16, 1050), "frame 16 was not queued");
    CHECK(!readahead_wanted(ra, &va, 11, 1050), "frame 11 was asked for already");
    n = readahead_note(ra, &va, 12, 1000, 1080, &first);
    CHECK(n == 1 && first == 16, "one frame further: only frame 16 is new (got %zu from %zu)", n, first);
    n = readahead_note(ra, &va, 14, 1000, 1100, &first);
    CHECK(n == 2 && first == 17, "skipping one frame is still sequential (got %zu from %zu)", n, first);
    CHECK(!readahead_wanted(ra, &va, 15, 1100 + READAHEAD_IDLE_MS),
          "an idle reader wants nothing queued");
    n = readahead_note(ra, &va, 40, 1000, 1200, &first);
    CHECK(n == 0 && !readahead_wanted(ra, &va, 16, 1200), "a jump elsewhere stops it");
    n = readahead_note(ra, &va, 41, 1000, 1200 + READAHEAD_IDLE_MS, &first);
    CHECK(n == 0, "the next frame after an idle second starts afresh (got %zu)", n);

    /* bytes: 16 MB / 6 MB frames -> 2 frames */
    readahead_note(ra, &vb, 0, 6u << 20, 5000, &first);
    n = readahead_note(ra, &vb, 1, 6u << 20, 5010, &first);
    CHECK(n == 2 && first == 2, "big frames: the byte bound (a quarter of the cache) gives 2 (got %zu)", n);
    readahead_forget(ra, &vb);
    CHECK(!readahead_wanted(ra, &vb, 2, 5020), "a forgotten video wants nothing");
    CHECK(readahead_wanted(ra, &va, 42, 1200 + READAHEAD_IDLE_MS) == 0,
          "no window queued for a fresh reader");
    readahead_free(ra);
    return unit_done();
}
