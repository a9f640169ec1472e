/*
 * libFuzzer target for the whole media path: load (probe, packet scan,
 * decode-to-index), frame selection, seek + decode, conversion to RGB(A) and
 * PNG encoding.  Built and run by `make fuzz-media` (clang
 * -fsanitize=fuzzer,address,undefined); seeds come from
 * tests/fuzz/media-seeds.sh.
 *
 * Input layout
 *   byte 0, bits 0-3   the file name's extension (ext[] below), so that
 *                      extension-dependent probing is covered
 *   byte 0, bits 4-5   number of frame requests (0 means 3)
 *   byte 0, bit 6      PNG level 0 (set) or 1 (clear)
 *   byte 0, bit 7      requests carry a tolerance (set) or are exact (clear)
 *   bytes 1..          the file, byte for byte.  Its last bytes also give
 *                      the requests' times and tolerances (so a mutation of
 *                      the tail moves the requests; a seed is just
 *                      prefix + a real file).
 *
 * The file is written to a memfd: the decoder reads only fds, through
 * decoder/media/fdio.c's pread AVIOContext, so this is exactly the production
 * path (fs/source.c opens the file, the decoder never opens anything).
 *
 * Every input gets a budget: the stop callback the decoder polls at every
 * packet says stop after a fixed number of packets per phase or after
 * BUDGET_NS of wall time for the whole input, so hostile inputs terminate
 * the way a cancelled FUSE request does.  A hang that the callback cannot
 * stop (a loop inside one FFmpeg call, or one of ours without a poll) is
 * what libFuzzer's -timeout reports.
 *
 * Invariants of index.h, select.h, convert.h, encode_png.h and scenes.h (with
 * bit 4 of the first byte, the scene pass over the stream) are checked;
 * a violation calls abort(), which libFuzzer reports as a crash and saves
 * the input.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <libavcodec/avcodec.h>
#include <libavutil/frame.h>
#include <png.h>

#include "../../cache/cache.h"
#include "../../decoder/media/avlog.h"
#include "../../decoder/image/convert.h"
#include "../../decoder/image/encode.h"
#include "../../decoder/media/log.h"
#include "../../decoder/media/fdio.h"
#include "../../decoder/media/index.h"
#include "../../decoder/media/load.h"
#include "../../decoder/media/scenes.h"
#include "../../decoder/media/seek.h"
#include "../../decoder/media/select.h"
#include "../../decoder/media/video.h"

#define CHECK(cond) do { if (!(cond)) { \
        fprintf(stderr, "fuzz_media: invariant broken: %s (%s:%d)\n", #cond, __FILE__, __LINE__); \
        abort(); } } while (0)

/* FUZZ_MEDIA_VERBOSE=1 in the environment: say what happened to each input
 * on stderr (for reproducing one input by hand; never while fuzzing); 2: and
 * dump the index. */
static int verbose;
#define SAY(...) do { if (verbose) fprintf(stderr, __VA_ARGS__); } while (0)

/* Byte 0's low nibble -> the name the decoder probes with.  The seed
 * script uses the same positions (keep media-seeds.sh in step). */
static const char *const ext[16] = {
    "f.mp4", "f.mkv", "f.ts", "f.avi", "f.flv", "f.h264", "f.webm", "f.y4m",
    "f.mpg", "f.mov", "f.ivf", "f.gif", "f.hevc", "f.nut", "f.ogv", "f.3gp",
};

/* Per-input budget.  Packets: the scan of a 1 MiB file of tiny packets
 * stays well under LOAD_PACKETS; a frame request decodes at most a few
 * GOPs.  Wall time: the backstop for slow packets, far under -timeout. */
#define LOAD_PACKETS 50000
#define GET_PACKETS  5000
#define BUDGET_NS    (2LL * 1000000000)

/* Images up to this many pixels are decoded back from the PNG and
 * compared with the pixels that were encoded. */
#define ROUNDTRIP_MAX_PIXELS (1 << 20)

struct budget {
    long polls, max_polls;
    int64_t deadline;
};

static int64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int budget_stop(void *arg)
{
    struct budget *b = arg;

    return ++b->polls > b->max_polls || now_ns() > b->deadline;
}

/* index.h: frames in presentation order with strictly increasing pts, each
 * ending where the next begins, the last one ending after it starts (unless
 * saturated); every frame's packet exists, and the keyframe to seek to for
 * it comes at or before its packet in decode order. */
static void dump_index(const struct index *ix)
{
    for (size_t k = 0; k < ix->n_packets; k++)
        SAY("    packet %zu: pts %" PRId64 " dts %" PRId64 " pos %" PRId64 "%s\n", k,
            ix->packets[k].pts, ix->packets[k].dts, ix->packets[k].pos,
            ix->packets[k].key ? " key" : "");
    for (size_t i = 0; i < ix->n_frames; i++)
        SAY("    frame %zu: pts %" PRId64 " next %" PRId64 " packet %zu%s\n", i,
            ix->frames[i].pts, ix->frames[i].next_pts, ix->frame_packet[i],
            ix->frames[i].keyframe ? " key" : "");
}

/* index.h: what a finished index promises. */
static void check_index(const struct video *v)
{
    const struct index *ix = &v->index;

    if (verbose > 1)
        dump_index(ix);

    CHECK(ix->n_frames > 0 && ix->frames && ix->frame_packet);
    CHECK(ix->n_packets > 0 && ix->packets);
    CHECK(ix->n_packets <= ix->cap_packets);
    CHECK(!ix->entries && ix->n_entries == 0);
    for (size_t i = 0; i < ix->n_frames; i++) {
        const struct select_frame *fr = &ix->frames[i];

        CHECK(fr->pts != INDEX_NOPTS);
        if (i + 1 < ix->n_frames) {
            CHECK(fr->pts < ix->frames[i + 1].pts);
            CHECK(fr->next_pts == ix->frames[i + 1].pts);
        } else {
            CHECK(fr->next_pts > fr->pts || fr->next_pts == INT64_MAX);
        }
        CHECK(ix->frame_packet[i] < ix->n_packets);
        CHECK(index_seek_packet(ix, i) <= ix->frame_packet[i]);
    }
    CHECK(index_keyframe_count(ix) <= ix->n_frames);
}

/* video.h: what a loaded video promises. */
static void check_video(const struct video *v)
{
    CHECK(v->ok == v->info.ok);
    if (!v->ok) {
        CHECK(v->stopped || v->error[0]);
        CHECK(v->info.error[0]);
        return;
    }
    CHECK(!v->error[0] && !v->stopped);
    CHECK(v->time_base.num > 0 && v->time_base.den > 0);
    CHECK(v->default_dur >= 1);
    CHECK(v->info.width > 0 && v->info.height > 0);
    CHECK((int64_t)v->info.width * v->info.height <= FDIO_MAX_PIXELS);
    CHECK(!isnan(v->info.duration));
    for (int i = 0; i < 3; i++)
        CHECK(v->rotation[i] == 0 || v->rotation[i] == 1);
    check_index(v);
}

/* select.h's contract for one request. */
static void check_select(const struct index *ix, int64_t t, int64_t before, int64_t after,
                         ptrdiff_t f)
{
    const struct select_frame *fr = ix->frames;
    size_t n = ix->n_frames;

    if (t >= fr[n - 1].next_pts) {
        CHECK(f == SELECT_NONE);
        return;
    }
    CHECK(f >= 0 && (size_t)f < n);
    if (t < fr[0].pts) {
        CHECK(f == 0);
        return;
    }
    /* The frame's interval meets the window [t - before, t + after]. */
    CHECK(fr[f].pts <= index_sat_add(t, after));
    CHECK(fr[f].next_pts > index_sat_sub(t, before));
    if (before == 0 && after == 0)
        CHECK(fr[f].pts <= t && t < fr[f].next_pts);
}

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* encode.h: a PNG of the image's size and kind, holding its pixels. */
static void check_png(const struct blob *b, const struct image *img)
{
    static const unsigned char sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    png_image pi;
    unsigned char *back;

    CHECK(b && b->size > 33 && b->data);
    CHECK(memcmp(b->data, sig, 8) == 0);
    CHECK(memcmp(b->data + 12, "IHDR", 4) == 0);
    CHECK(be32(b->data + 16) == (uint32_t)img->width);
    CHECK(be32(b->data + 20) == (uint32_t)img->height);
    CHECK(b->data[24] == 8);
    CHECK(b->data[25] == (img->channels == 4 ? 6 : 2));

    if ((int64_t)img->width * img->height > ROUNDTRIP_MAX_PIXELS)
        return;
    memset(&pi, 0, sizeof(pi));
    pi.version = PNG_IMAGE_VERSION;
    CHECK(png_image_begin_read_from_memory(&pi, b->data, b->size));
    CHECK(pi.width == (png_uint_32)img->width && pi.height == (png_uint_32)img->height);
    pi.format = img->channels == 4 ? PNG_FORMAT_RGBA : PNG_FORMAT_RGB;
    back = malloc(PNG_IMAGE_SIZE(pi));
    if (!back) {
        png_image_free(&pi);
        return;
    }
    CHECK(png_image_finish_read(&pi, NULL, back, 0, NULL));
    for (int y = 0; y < img->height; y++)
        CHECK(memcmp(back + (size_t)y * img->width * img->channels,
                     img->pixels + (size_t)y * img->stride,
                     (size_t)img->width * img->channels) == 0);
    free(back);
    png_image_free(&pi);
}

static void check_image(const struct image *img, const AVFrame *frame, const int rot[3])
{
    CHECK(img->width > 0 && img->height > 0 && img->pixels);
    CHECK(img->channels == 3 || img->channels == 4);
    CHECK(img->depth == 8);
    CHECK(img->stride >= (size_t)img->width * img->channels);
    /* Turned upright: a transpose swaps the frame's sides. */
    CHECK(img->width == (rot[0] ? frame->height : frame->width));
    CHECK(img->height == (rot[0] ? frame->width : frame->height));
}

/* The plan frame_job.c makes for a full-size 8-bit PNG of this frame (PQ
 * and HLG tone-mapped). */
static void full_size_plan(const struct video *v, const AVFrame *frame, struct output_plan *plan)
{
    struct output_spec spec = {.format = FORMAT_PNG, .rotate = 1, .depth = 8};
    struct output_source src = {.width = frame->width, .height = frame->height,
                                .rotation = {v->rotation[0], v->rotation[1], v->rotation[2]},
                                .hdr = v->color.hdr};

    output_plan_make(&spec, &src, plan);
}

/* Tolerance in ticks as frame_job.c computes it. */
static int64_t tol_ticks(const struct video *v, double s)
{
    return isinf(s) ? INT64_MAX : video_span_ticks(v, s);
}

/* One frame request: time and tolerance from two bytes of the input. */
static void request(struct video *v, struct dec_ctx **ctx, unsigned char tb, unsigned char wb,
                    int tolerant, int level, int64_t deadline)
{
    const struct index *ix = &v->index;
    double span = video_seconds(v, ix->frames[ix->n_frames - 1].next_pts);
    double t, before = 0, after = 0;
    int64_t tt, tbefore, tafter;
    ptrdiff_t f;
    struct budget bud = {.max_polls = GET_PACKETS, .deadline = deadline};
    char err[256] = "";
    AVFrame *frame = NULL;
    struct output_plan plan;
    struct image img;
    struct blob *b;
    int ret;

    /* 0..250 spread over the video, above that past the end.  Names never
     * ask for a negative time. */
    if (!isfinite(span) || span < 0)
        span = 0;
    t = tb <= 250 ? span * tb / 250.0 : span * (1 + (tb - 250) / 10.0) + 1e-3;
    if (tolerant) {
        before = (wb & 0x0f) == 0x0f ? INFINITY : span * (wb & 0x0f) / 30.0;
        after = (wb >> 4) == 0x0f ? INFINITY : span * (wb >> 4) / 30.0;
    }
    tt = video_ticks(v, t);
    tbefore = tol_ticks(v, before);
    tafter = tol_ticks(v, after);
    CHECK(tbefore >= 0 && tafter >= 0);
    f = select_frame(ix->frames, ix->n_frames, tt, tbefore, tafter);
    check_select(ix, tt, tbefore, tafter, f);
    SAY("  request t=%.6f -%g +%g: frame %td\n", t, before, after, f);
    if (f == SELECT_NONE)
        return;

    if (!*ctx && dec_ctx_open(v, 1, ctx, err, sizeof(err)) < 0) {
        SAY("  open: %s\n", err);
        CHECK(!*ctx && err[0]);
        return;
    }
    (*ctx)->free_convert = convert_free;
    ret = dec_ctx_get(*ctx, (size_t)f, budget_stop, &bud, &frame, err, sizeof(err));
    SAY("  get: %d %s (%ld packets polled)\n", ret, ret == AVERROR_EXIT ? "stopped" : err,
        bud.polls);
    if (ret < 0) {
        CHECK(ret == AVERROR_EXIT || err[0]);
        return;
    }
    CHECK(frame && frame == (*ctx)->out);
    CHECK(frame->width > 0 && frame->height > 0);
    CHECK((int64_t)frame->width * frame->height <= FDIO_MAX_PIXELS);
    full_size_plan(v, frame, &plan);
    if ((ret = convert_frame(&(*ctx)->convert, frame, &plan, &v->color, 1, &img, err, sizeof(err))) < 0) {
        CHECK(!img.pixels && (err[0] || ret == AVERROR(ENOMEM)));
        return;
    }
    check_image(&img, frame, v->rotation);
    b = encode_png(&img, level, NULL, err, sizeof(err));
    SAY("  %dx%dx%d -> PNG %zu bytes%s\n", img.width, img.height, img.channels,
        b ? b->size : 0, b ? "" : err);
    if (b)
        check_png(b, &img);
    else
        CHECK(err[0]);
    blob_unref(b);
    image_free(&img);
    CHECK(!img.pixels);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    /* As decoder_new() does, but never printed: FFmpeg's errors are what a
     * fuzzer feeds it. */
    log_silence();
    avlog_install();
    verbose = getenv("FUZZ_MEDIA_VERBOSE") ? atoi(getenv("FUZZ_MEDIA_VERBOSE")) : 0;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int64_t deadline = now_ns() + BUDGET_NS;
    struct budget bud = {.max_polls = LOAD_PACKETS, .deadline = deadline};
    const unsigned char *file = data + 1, *tail;
    size_t len, n_req;
    struct video_id id;
    struct video *v;
    struct dec_ctx *ctx = NULL;
    int fd, tolerant, level;

    if (size < 1)
        return 0;
    len = size - 1;
    n_req = (data[0] >> 4) & 3;
    if (!n_req)
        n_req = 3;
    level = data[0] & 0x40 ? 0 : 1;
    tolerant = !!(data[0] & 0x80);

    fd = memfd_create("fuzz_media", MFD_CLOEXEC);
    CHECK(fd >= 0);
    for (size_t off = 0; off < len;) {
        ssize_t n = write(fd, file + off, len - off);

        CHECK(n > 0 || (n < 0 && errno == EINTR));
        if (n > 0)
            off += (size_t)n;
    }
    CHECK(video_fstat(fd, &id) == 0);
    CHECK(id.size == (off_t)len);

    v = video_load(fd, ext[data[0] & 15], &id, NULL, budget_stop, &bud);   /* owns fd */
    CHECK(v);
    SAY("%s, %zu bytes: %s, %zu packets, %zu frames%s (%ld polls)\n", ext[data[0] & 15], len,
        v->ok ? "ok" : v->stopped ? "stopped" : v->error, v->index.n_packets, v->index.n_frames,
        v->index_by_decoding ? ", indexed by decoding" : "", bud.polls);
    check_video(v);
    if (v->ok) {
        /* Times and tolerances from the file's last bytes (zeros if short). */
        unsigned char pad[6] = {0};

        tail = len >= 6 ? file + len - 6 : pad;
        if (len < 6)
            memcpy(pad + 6 - len, file, len);
        for (size_t i = 0; i < n_req && now_ns() < deadline; i++)
            request(v, &ctx, tail[2 * i], tail[2 * i + 1], tolerant, level, deadline);
        /* The scene pass over the whole stream (scenes.h): every score is
         * in 0..1, or the pass failed with a reason, or ran out of budget. */
        if (data[0] & 16) {
            struct budget sb = {.max_polls = LOAD_PACKETS, .deadline = deadline};
            const float *sc;
            char err[256] = "";
            int ret;

            ret = scenes_compute(v, 1, budget_stop, &sb, err, sizeof(err));
            SAY("  scenes: %d %s\n", ret, ret < 0 ? err : "");
            CHECK(ret >= 0 || ret == AVERROR_EXIT || err[0]);
            if (ret >= 0) {
                CHECK((sc = scenes_of(v)) != NULL);
                for (size_t i = 0; i < v->index.n_frames; i++)
                    CHECK(sc[i] >= 0 && sc[i] <= 1);
            }
        }
    }
    dec_ctx_close(ctx);
    video_unref(v);
    return 0;
}
