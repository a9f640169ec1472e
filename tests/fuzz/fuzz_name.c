/*
 * libFuzzer target for fs/name: the frame-name parser, the time/clock parser,
 * the seconds/tolerance parser and the size parser.  Built and run by
 * `make fuzz` (clang -fsanitize=fuzzer,address,undefined).
 *
 * The input is copied into a NUL-terminated buffer, so an embedded NUL simply
 * ends the string, as it would in a path.  Beyond the sanitizers' checks, the
 * invariants of name.h are asserted; a violation calls abort(), which
 * libFuzzer reports as a crash and saves the input.
 */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../fs/name.h"

#define CHECK(cond) do { if (!(cond)) abort(); } while (0)

/* A value no parser produces, to see whether *out was written. */
#define SENTINEL (-12345.0)

static int ends_with(const char *s, size_t len, const char *ext)
{
    size_t n = strlen(ext);

    return len >= n && memcmp(s + len - n, ext, n) == 0;
}

/* name.h's promises about a parsed name, under mount defaults d. */
static void check_frame(const char *s, size_t len, const struct frame_request *d)
{
    struct frame_request r = { .t = SENTINEL, .before = SENTINEL, .after = SENTINEL };

    if (name_parse_frame(s, d, &r) != 0) {
        /* On failure *out is left untouched. */
        CHECK(r.t == SENTINEL && r.before == SENTINEL && r.after == SENTINEL);
        return;
    }
    CHECK(isfinite(r.t) && r.t >= 0);
    CHECK(!isnan(r.before) && r.before >= 0);
    CHECK(!isnan(r.after) && r.after >= 0);
    CHECK(r.n >= 0);
    CHECK(r.kind == TIME_SECONDS || r.kind == TIME_PERCENT || r.kind == TIME_INDEX);
    CHECK(r.kind == TIME_INDEX ? r.t == 0 && strstr(s, "n=") : r.n == 0);
    CHECK(r.kind != TIME_PERCENT || memchr(s, '%', len));
    CHECK(r.out.max_width >= 0 && r.out.max_width <= 65535);
    CHECK(r.out.max_height >= 0 && r.out.max_height <= 65535);
    CHECK(r.out.rotate == 0 || r.out.rotate == 1);
    CHECK(r.out.square_pixels == 0 || r.out.square_pixels == 1);
    CHECK(r.out.depth == 8 || r.out.depth == 16);
    CHECK(r.out.quality >= 1 && r.out.quality <= 100);
    CHECK(len <= 255);
    switch (r.out.format) {
    case FORMAT_PNG:
        CHECK(ends_with(s, len, ".png") && !strstr(s, "q="));
        break;
    case FORMAT_JPEG:
        CHECK((ends_with(s, len, ".jpg") || ends_with(s, len, ".jpeg")) &&
              !strstr(s, "depth="));
        break;
    case FORMAT_PPM:
        CHECK(ends_with(s, len, ".ppm") && !strstr(s, "q="));
        break;
    default:
        CHECK(0);
    }
    /* A key the name gives wins over the default (mount w=224 below). */
    if (!strstr(s, "w="))
        CHECK(r.out.max_width == d->out.max_width);
}

/* Mount-wide defaults from the same text: must never crash, and a value
 * taken is in range. */
static void check_default(const char *s)
{
    struct frame_request d;

    name_default_request(&d);
    int r = name_set_default(s, &d);
    CHECK(r == -1 || r == 0 || r == 1);
    CHECK(d.out.depth == 8 || d.out.depth == 16);
    CHECK(d.out.quality >= 1 && d.out.quality <= 100);
    CHECK(!isnan(d.before) && d.before >= 0);
}

static void check_time(const char *s)
{
    double t = SENTINEL;

    if (name_parse_time(s, &t) != 0) {
        CHECK(t == SENTINEL);
        return;
    }
    CHECK(isfinite(t) && t >= 0);

    /* Without a colon, a time is plain seconds: same acceptance, same value. */
    if (!strchr(s, ':')) {
        double u = SENTINEL;
        CHECK(name_parse_seconds(s, 0, &u) == 0 && u == t);
    }

    /* Round trip through the formatter, which prints 6 decimals: only
     * meaningful while the double still resolves microseconds. */
    if (t < 1e15) {
        char buf[64];
        double back = SENTINEL;

        name_format_seconds(t, buf, sizeof buf);
        CHECK(name_parse_time(buf, &back) == 0);
        CHECK(fabs(back - t) <= 1e-6 * fmax(1.0, t));
    }
}

static void check_seconds(const char *s)
{
    double v0 = SENTINEL, v1 = SENTINEL;
    int r0 = name_parse_seconds(s, 0, &v0);
    int r1 = name_parse_seconds(s, 1, &v1);

    if (r0 == 0)
        CHECK(isfinite(v0) && v0 >= 0);
    else
        CHECK(v0 == SENTINEL);
    if (r1 == 0)
        CHECK(!isnan(v1) && v1 >= 0);
    else
        CHECK(v1 == SENTINEL);
    /* allow_inf only adds "inf": whatever parses without it parses the same
     * with it, and the only extra value is +INFINITY from exactly "inf". */
    if (r0 == 0)
        CHECK(r1 == 0 && v1 == v0);
    if (r1 == 0 && r0 != 0)
        CHECK(strcmp(s, "inf") == 0 && isinf(v1));
}

static void check_size(const char *s)
{
    size_t v = (size_t)0x5a5a5a5a;

    if (name_parse_size(s, &v) != 0) {
        CHECK(v == (size_t)0x5a5a5a5a);
        return;
    }
    /* The result is a size_t, so it fits by construction; the text must
     * start with a digit. */
    CHECK(s[0] >= '0' && s[0] <= '9');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);

    if (!s)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    size_t len = strlen(s);     /* an embedded NUL ends the string */

    struct frame_request d;
    name_default_request(&d);
    check_frame(s, len, &d);
    d.before = d.after = INFINITY;
    d.out.max_width = 224;
    d.out.quality = 70;
    d.out.depth = 16;
    check_frame(s, len, &d);
    check_default(s);
    check_time(s);
    check_seconds(s);
    check_size(s);

    free(s);
    return 0;
}
