/*
 * Unit tests of decoder/output: the output plan (size bound, rotation,
 * square pixels, depth and quality per format) and the canonical cache key.
 */
#include <string.h>

#include "../../decoder/decoder.h"
#include "unit.h"

static struct output_spec spec(enum frame_format f, int w, int h, int rotate, int square,
                               int depth, int q)
{
    return (struct output_spec){f, w, h, rotate, square, depth, q, 0};
}

static struct output_source source(int w, int h, int sn, int sd, int t, int x, int y)
{
    return (struct output_source){w, h, sn, sd, {t, x, y}, HDR_NONE};
}

static struct output_spec keep(struct output_spec s)
{
    s.keep_hdr = 1;
    return s;
}

static struct output_source hdr(struct output_source s, enum hdr_kind h)
{
    s.hdr = h;
    return s;
}

/* Plan of (spec, source) has size ew x eh. */
static void size_is(struct output_spec s, struct output_source src, int ew, int eh,
                    const char *what)
{
    struct output_plan p;

    output_plan_make(&s, &src, &p);
    CHECK(p.width == ew && p.height == eh, "%s: %dx%d (got %dx%d)", what, ew, eh,
          p.width, p.height);
}

static void test_sizes(void)
{
    struct output_source plain = source(352, 288, 1, 1, 0, 0, 0);
    struct output_source turned = source(352, 288, 1, 1, 1, 0, 1);    /* 90 degrees */
    struct output_source wide = source(352, 288, 2, 1, 0, 0, 0);      /* SAR 2:1 */
    struct output_source odd = source(321, 241, 0, 1, 0, 0, 0);

    size_is(spec(FORMAT_PNG, 0, 0, 1, 0, 8, 90), plain, 352, 288, "no bound");
    size_is(spec(FORMAT_PNG, 176, 0, 1, 0, 8, 90), plain, 176, 144, "w=176");
    size_is(spec(FORMAT_PNG, 0, 144, 1, 0, 8, 90), plain, 176, 144, "h=144");
    size_is(spec(FORMAT_PNG, 176, 100, 1, 0, 8, 90), plain, 122, 100, "w=176,h=100: h limits");
    size_is(spec(FORMAT_PNG, 100, 144, 1, 0, 8, 90), plain, 100, 82, "w=100,h=144: w limits");
    size_is(spec(FORMAT_PNG, 1000, 1000, 1, 0, 8, 90), plain, 352, 288, "never upscale");
    size_is(spec(FORMAT_PNG, 352, 0, 1, 0, 8, 90), plain, 352, 288, "bound equal to size");
    size_is(spec(FORMAT_PNG, 1, 0, 1, 0, 8, 90), plain, 1, 1, "w=1: at least one pixel");
    size_is(spec(FORMAT_PNG, 0, 0, 1, 0, 8, 90), turned, 288, 352, "rotate=auto turns");
    size_is(spec(FORMAT_PNG, 0, 0, 0, 0, 8, 90), turned, 352, 288, "rotate=0 keeps coded");
    size_is(spec(FORMAT_PNG, 144, 0, 1, 0, 8, 90), turned, 144, 176, "w bounds as displayed");
    size_is(spec(FORMAT_PNG, 144, 0, 0, 0, 8, 90), turned, 144, 118, "w bounds coded too");
    size_is(spec(FORMAT_PNG, 0, 0, 1, 1, 8, 90), wide, 704, 288, "aspect=display: SAR 2:1");
    size_is(spec(FORMAT_PNG, 0, 0, 1, 0, 8, 90), wide, 352, 288, "aspect=coded");
    size_is(spec(FORMAT_PNG, 352, 0, 1, 1, 8, 90), wide, 352, 144, "display, then bound");
    size_is(spec(FORMAT_PNG, 0, 0, 1, 1, 8, 90),
            source(352, 288, 2, 1, 1, 0, 1), 288, 704, "SAR stretches coded width, then turn");
    size_is(spec(FORMAT_PNG, 0, 0, 1, 1, 8, 90), source(720, 576, 16, 15, 0, 0, 0), 768, 576,
            "SAR 16:15");
    size_is(spec(FORMAT_PNG, 0, 0, 1, 1, 8, 90), source(720, 480, 10, 11, 0, 0, 0), 655, 480,
            "SAR 10:11 rounds to nearest (654.5 -> 655)");
    size_is(spec(FORMAT_PNG, 0, 0, 1, 1, 8, 90), odd, 321, 241, "unknown SAR: square");
    size_is(spec(FORMAT_PNG, 160, 0, 1, 0, 8, 90), odd, 160, 120, "321x241 -> w=160: 120.1");
    size_is(spec(FORMAT_PNG, 0, 121, 1, 0, 8, 90), odd, 161, 121, "321x241 -> h=121: 161.2");
    size_is(spec(FORMAT_PNG, 3, 0, 1, 0, 8, 90), source(4, 2, 1, 1, 0, 0, 0), 3, 2,
            "4x2 -> w=3: 1.5 rounds up");
}

/* hdr=: tone-mapped by default, kept (16 bits) on request where the
 * format can hold it; SDR sources are as they were. */
static void test_plan_colors(void)
{
    struct output_source sdr = source(64, 48, 1, 1, 0, 0, 0);
    struct output_source pq = hdr(sdr, HDR_PQ), hlg = hdr(sdr, HDR_HLG);
    struct output_spec png8 = spec(FORMAT_PNG, 0, 0, 1, 0, 8, 90);
    struct output_spec jpg = spec(FORMAT_JPEG, 0, 0, 1, 0, 8, 90);
    struct output_spec ppm = spec(FORMAT_PPM, 0, 0, 1, 0, 8, 90);
    struct output_plan p;

    output_plan_make(&png8, &sdr, &p);
    CHECK(p.color == PLAN_COLOR_AS_IS && p.depth == 8, "SDR: as is");
    output_plan_make(&png8, &pq, &p);
    CHECK(p.color == PLAN_COLOR_TONEMAP && p.depth == 8, "PQ: tone-mapped, 8 bits");
    output_plan_make(&png8, &hlg, &p);
    CHECK(p.color == PLAN_COLOR_TONEMAP, "HLG: tone-mapped");
    struct output_spec k = keep(png8);
    output_plan_make(&k, &pq, &p);
    CHECK(p.color == PLAN_COLOR_KEEP && p.depth == 16, "PQ, hdr=keep: kept, 16 bits");
    k = keep(ppm);
    output_plan_make(&k, &hlg, &p);
    CHECK(p.color == PLAN_COLOR_KEEP && p.depth == 16, "HLG PPM, hdr=keep: 16 bits");
    k = keep(jpg);
    output_plan_make(&k, &pq, &p);
    CHECK(p.color == PLAN_COLOR_TONEMAP && p.depth == 8, "a JPEG is always tone-mapped");
    k = keep(png8);
    output_plan_make(&k, &sdr, &p);
    CHECK(p.color == PLAN_COLOR_AS_IS, "hdr=keep on SDR: as is");
}

static void test_plan_fields(void)
{
    struct output_source turned = source(64, 48, 1, 1, 1, 1, 0);
    struct output_spec s = spec(FORMAT_JPEG, 0, 0, 1, 0, 16, 75);
    struct output_plan p;

    output_plan_make(&s, &turned, &p);
    CHECK(p.format == FORMAT_JPEG && p.depth == 8 && p.quality == 75, "JPEG: 8 bits, q kept");
    CHECK(p.rotation[0] == 1 && p.rotation[1] == 1 && p.rotation[2] == 0, "rotation copied");
    s = spec(FORMAT_PNG, 0, 0, 0, 0, 16, 75);
    output_plan_make(&s, &turned, &p);
    CHECK(p.depth == 16 && p.quality == 0, "PNG: depth kept, no quality");
    CHECK(!p.rotation[0] && !p.rotation[1] && !p.rotation[2], "rotate=0: no rotation");
    s = spec(FORMAT_PPM, 0, 0, 1, 0, 8, 75);
    output_plan_make(&s, &turned, &p);
    CHECK(p.format == FORMAT_PPM && p.depth == 8 && p.quality == 0, "PPM: no quality");
}

/* Key of (spec, source) at pts. */
static void key_of(struct output_spec s, struct output_source src, int64_t pts, char *key)
{
    struct output_plan p;

    output_plan_make(&s, &src, &p);
    CHECK(frame_request_key(key, DECODER_KEY_MAX, "v1:", pts, &p) > 0, "key fits");
}

static void test_keys(void)
{
    struct output_source plain = source(352, 288, 1, 1, 0, 0, 0);
    struct output_source turned = source(100, 100, 1, 1, 1, 0, 1);
    char a[DECODER_KEY_MAX], b[DECODER_KEY_MAX];

    key_of(spec(FORMAT_PNG, 176, 0, 1, 0, 8, 90), plain, 25, a);
    key_of(spec(FORMAT_PNG, 0, 144, 1, 0, 8, 90), plain, 25, b);
    CHECK(strcmp(a, b) == 0, "w=176 and h=144 make one 176x144 image: one key (%s)", a);
    key_of(spec(FORMAT_PNG, 176, 0, 1, 0, 8, 50), plain, 25, b);
    CHECK(strcmp(a, b) == 0, "q does not matter for PNG");
    key_of(spec(FORMAT_PNG, 0, 0, 0, 0, 8, 90), plain, 25, a);
    key_of(spec(FORMAT_PNG, 0, 0, 1, 1, 8, 90), plain, 25, b);
    CHECK(strcmp(a, b) == 0, "rotate and aspect do not matter on a square-pixel upright video");
    key_of(spec(FORMAT_PNG, 0, 0, 1, 0, 8, 90), plain, 26, b);
    CHECK(strcmp(a, b) != 0, "another pts, another key");
    key_of(spec(FORMAT_PNG, 0, 0, 1, 0, 8, 90), turned, 25, a);
    key_of(spec(FORMAT_PNG, 0, 0, 0, 0, 8, 90), turned, 25, b);
    CHECK(strcmp(a, b) != 0, "square video turned or not: same size, different keys");
    key_of(spec(FORMAT_PNG, 0, 0, 1, 0, 8, 90), plain, 25, a);
    key_of(spec(FORMAT_PPM, 0, 0, 1, 0, 8, 90), plain, 25, b);
    CHECK(strcmp(a, b) != 0, "formats differ");
    key_of(spec(FORMAT_PNG, 0, 0, 1, 0, 16, 90), plain, 25, b);
    CHECK(strcmp(a, b) != 0, "depths differ");
    key_of(spec(FORMAT_JPEG, 0, 0, 1, 0, 8, 90), plain, 25, a);
    key_of(spec(FORMAT_JPEG, 0, 0, 1, 0, 16, 90), plain, 25, b);
    CHECK(strcmp(a, b) == 0, "depth does not matter for JPEG");
    key_of(spec(FORMAT_JPEG, 0, 0, 1, 0, 8, 91), plain, 25, b);
    CHECK(strcmp(a, b) != 0, "JPEG qualities differ");
    CHECK(strncmp(a, "v1:", 3) == 0, "key starts with the video's prefix");
    struct output_source pq = hdr(plain, HDR_PQ);
    key_of(spec(FORMAT_PNG, 0, 0, 1, 0, 16, 90), pq, 25, a);
    key_of(keep(spec(FORMAT_PNG, 0, 0, 1, 0, 16, 90)), pq, 25, b);
    CHECK(strcmp(a, b) != 0, "hdr=sdr and hdr=keep never share a key (%s, %s)", a, b);
    key_of(spec(FORMAT_PNG, 0, 0, 1, 0, 16, 90), plain, 25, b);
    CHECK(strcmp(a, b) != 0, "tone-mapped and SDR keys differ");
    key_of(keep(spec(FORMAT_PNG, 0, 0, 1, 0, 16, 90)), plain, 25, a);
    CHECK(strcmp(a, b) == 0, "hdr=keep on an SDR source: the depth=16 key");

    struct output_plan p;
    struct output_spec s = spec(FORMAT_PNG, 0, 0, 1, 0, 8, 90);
    output_plan_make(&s, &plain, &p);
    char small[16] = "x";
    CHECK(frame_request_key(small, sizeof small, "v1:", 25, &p) == -1 && small[0] == 0,
          "a key that does not fit: -1 and \"\"");
}

int main(void)
{
    test_sizes();
    test_plan_fields();
    test_plan_colors();
    test_keys();
    return unit_done();
}
