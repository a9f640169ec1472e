/*
 * Unit tests of decoder/batch: claims a GOP at a time, runs side by side in
 * different GOPs, the window and in-flight bounds, idleness, stopping and
 * when a batch is done.
 * Entries are synthetic: entry i is frame 10 i, and GOPs are 50 frames long,
 * so entries 0-4 are GOP 0, 5-9 GOP 50, ...
 */
#include <string.h>

#include "../../decoder/batch.h"
#include "unit.h"

#define N 40
static const int VIDEO = 1;       /* an identity */

static void resolve(void *arg, struct batch_entry *e)
{
    (void)arg;
    e->frame = (size_t)e->req.n * 10;
    e->gop = e->frame / 50 * 50;
    e->plan = (struct output_plan){.format = FORMAT_PNG, .width = 64, .height = 48, .depth = 8};
    if (e->req.n == 7)
        e->frame = BATCH_NONE;     /* a name past the end: nothing to make */
}

static struct batch *make(int workers, size_t cache)
{
    struct frame_request reqs[N];

    for (int i = 0; i < N; i++)
        reqs[i] = (struct frame_request){.kind = TIME_INDEX, .n = i};
    struct batch *b = batch_new("clip.mp4", reqs, N, workers, cache);
    batch_resolve(b, &VIDEO, resolve, NULL);
    return b;
}

static const struct output_plan *plan_of(void)
{
    static struct output_plan p = {.format = FORMAT_PNG, .width = 64, .height = 48, .depth = 8};
    return &p;
}

static void test_claims(void)
{
    struct batch *b = make(2, 16000);      /* 1000-byte images: a window of 4 */
    struct batch_entry got[16];
    size_t first, n;
    int r;

    CHECK(strcmp(batch_path(b), "clip.mp4") == 0, "path kept");
    CHECK(batch_claim(b, 0, 0, &first, got, 16) == 0, "nothing claimed before the reader starts");
    CHECK(batch_note(b, &VIDEO, 15, plan_of(), 1000, 0) == BATCH_NOTE_OTHER,
          "a frame that is no entry is not ours");
    struct output_plan other = *plan_of();
    other.width = 32;
    CHECK(batch_note(b, &VIDEO, 10, &other, 1000, 0) == BATCH_NOTE_OTHER,
          "the right frame made another way is not ours");
    CHECK(batch_note(b, &(int){2}, 10, plan_of(), 1000, 0) == BATCH_NOTE_OTHER,
          "another video's frame is not ours");
    r = batch_note(b, &VIDEO, 10, plan_of(), 1000, 0);    /* entry 1 */
    CHECK(r == BATCH_NOTE_RUN + 0, "the reader at entry 1 starts a run in slot 0 (%d)", r);
    CHECK(batch_runs_active(b) == 1, "one run active");
    n = batch_claim(b, 0, 1, &first, got, 16);
    CHECK(n == 3 && first == 2 && got[0].frame == 20 && got[2].frame == 40,
          "claim: entries 2-4, the rest of GOP 0 (n=%zu first=%zu)", n, first);
    CHECK(batch_claim(b, 0, 1, &first, got, 16) == 0,
          "a run never leaves its GOP: nothing more for slot 0");
    r = batch_note(b, &VIDEO, 10, plan_of(), 1000, 1);
    CHECK(r == BATCH_NOTE_RUN + 1, "a second run, for the next GOP, in slot 1 (%d)", r);
    n = batch_claim(b, 1, 1, &first, got, 16);
    CHECK(n == 1 && first == 5 && got[0].frame == 50,
          "slot 1: GOP 50, up to the in-flight bound of 4 (n=%zu first=%zu)", n, first);
    CHECK(batch_claim(b, 1, 1, &first, got, 16) == 0, "in flight full: nothing more");
    CHECK(batch_runs_active(b) == 2, "two runs active");
    CHECK(batch_done(b, 2) == -1, "a done entry starts no run while both slots are active");
    n = batch_claim(b, 1, 2, &first, got, 16);
    CHECK(n == 0, "window: reader at 2, claimed to 5 of 4 allowed past it (n=%zu)", n);
    CHECK(batch_note(b, &VIDEO, 20, plan_of(), 1000, 3) == BATCH_NOTE_ENTRY, "reader at entry 2");
    n = batch_claim(b, 1, 3, &first, got, 16);
    CHECK(n == 1 && first == 6, "window moved: entry 6 (n=%zu first=%zu)", n, first);
    batch_done(b, 3);
    batch_done(b, 3);
    CHECK(batch_note(b, &VIDEO, 40, plan_of(), 1000, 4) == BATCH_NOTE_ENTRY, "reader at entry 4");
    n = batch_claim(b, 1, 4, &first, got, 16);
    CHECK(n == 1 && first == 8 && got[0].frame == 80,
          "entry 7 has no frame: skipped; 8 claimed, the window ends before 9 (n=%zu first=%zu)",
          n, first);
    batch_run_end(b, 0);
    CHECK(batch_done(b, 5) == -1, "slot 0 free, but every entry in the window is claimed");
    r = batch_note(b, &VIDEO, 60, plan_of(), 1000, 5);      /* entry 6 */
    CHECK(r == BATCH_NOTE_RUN + 0, "reader at entry 6: GOP 100 in the window, slot 0 again (%d)",
          r);
    n = batch_claim(b, 0, 5, &first, got, 16);
    CHECK(n == 1 && first == 10 && got[0].frame == 100,
          "slot 0: entry 10 of GOP 100, the in-flight bound again (n=%zu first=%zu)", n, first);

    /* The reader idle: nothing claimed, no run started. */
    batch_done(b, 6);
    CHECK(batch_claim(b, 0, 6 + BATCH_IDLE_MS, &first, got, 16) == 0,
          "an idle reader: nothing claimed");
    batch_run_end(b, 0);
    batch_run_end(b, 1);
    CHECK(!batch_finished(b, 4 + BATCH_IDLE_MS + 1), "not finished while the listing is open");
    batch_release(b, 4 + BATCH_IDLE_MS + 1);
    CHECK(!batch_finished(b, 4 + BATCH_IDLE_MS + 2), "released, but things are in flight");
    for (int k = 0; k < 2; k++)           /* late: the reader is idle, no run starts */
        CHECK(batch_done(b, 4 + 2 * BATCH_IDLE_MS + 10) == -1, "no run for an idle reader");
    CHECK(batch_finished(b, 4 + 2 * BATCH_IDLE_MS + 10), "released, idle, nothing in flight: done");
    batch_unref(b);
}

static void test_window_and_stop(void)
{
    /* A cache of 64 KB and 1000-byte images: a quarter is 16 images. */
    struct batch *b = make(4, 64000);
    struct batch_entry got[64];
    size_t first, n, total = 0;
    int r = batch_note(b, &VIDEO, 0, plan_of(), 1000, 0), s2, s3;

    CHECK(r >= BATCH_NOTE_RUN, "started at entry 0 (%d)", r);
    CHECK(batch_max_claim(b) == 8, "in flight: 2 x 4 workers");
    while ((n = batch_claim(b, r - BATCH_NOTE_RUN, 0, &first, got, 64))) {
        total += n;
        for (size_t k = 0; k < n; k++) {
            int slot = batch_done(b, 0);

            if (slot >= 0)                /* a run we do not run here */
                batch_run_end(b, slot);
        }
    }
    CHECK(total == 4, "a run stays in its GOP: entries 1-4 (%zu)", total);
    s2 = batch_note(b, &VIDEO, 160, plan_of(), 1000, 0);    /* entry 16 */
    CHECK(s2 >= BATCH_NOTE_RUN, "reader at entry 16: a run for GOP 150 (%d)", s2);
    n = batch_claim(b, s2 - BATCH_NOTE_RUN, 0, &first, got, 2);
    CHECK(n == 2 && first == 17, "it claims 17 and 18 (asked for 2; n=%zu first=%zu)", n, first);
    s3 = batch_note(b, &VIDEO, 160, plan_of(), 1000, 0);
    CHECK(s3 >= BATCH_NOTE_RUN && s3 != s2, "a third run (%d)", s3);
    n = batch_claim(b, s3 - BATCH_NOTE_RUN, 0, &first, got, 64);
    CHECK(n == 5 && first == 20 && got[0].frame == 200,
          "it skips entry 19, in the GOP another run is decoding: 20-24 (n=%zu first=%zu)", n,
          first);
    CHECK(batch_claim(b, s2 - BATCH_NOTE_RUN, 0, &first, got, 64) == 1 && first == 19,
          "entry 19 is left to the run in its GOP");
    batch_stop(b);
    CHECK(batch_stopped(b), "stopped");
    CHECK(batch_claim(b, 0, 0, &first, got, 64) == 0, "a stopped batch claims nothing");
    CHECK(batch_note(b, &VIDEO, 170, plan_of(), 1000, 0) == BATCH_NOTE_OTHER,
          "a stopped batch takes no reader");
    batch_run_end(b, r - BATCH_NOTE_RUN);
    batch_run_end(b, s2 - BATCH_NOTE_RUN);
    batch_run_end(b, s3 - BATCH_NOTE_RUN);
    CHECK(!batch_finished(b, 0), "stopped, but 8 entries in flight");
    for (int k = 0; k < 8; k++)
        batch_done(b, 0);
    CHECK(batch_finished(b, 0), "stopped, nothing in flight, no run: done at once");
    batch_unref(b);
}

static void test_new_version(void)
{
    struct batch *b = make(2, 1 << 30);
    struct batch_entry got[8];
    size_t first;
    static const int OTHER = 2;

    int r = batch_note(b, &VIDEO, 100, plan_of(), 1000, 0);
    CHECK(r >= BATCH_NOTE_RUN, "started (%d)", r);
    batch_run_end(b, r - BATCH_NOTE_RUN);
    batch_resolve(b, &OTHER, resolve, NULL);
    CHECK(batch_claim(b, 0, 0, &first, got, 8) == 0, "a new version resets progress");
    CHECK(batch_note(b, &VIDEO, 100, plan_of(), 1000, 0) == BATCH_NOTE_OTHER,
          "the old version's frames are no longer ours");
    CHECK(batch_note(b, &OTHER, 0, plan_of(), 1000, 0) >= BATCH_NOTE_RUN,
          "the new one's are, from its start");
    batch_unref(b);
}

int main(void)
{
    test_claims();
    test_window_and_stop();
    test_new_version();
    return unit_done();
}
