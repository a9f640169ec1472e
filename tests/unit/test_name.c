/*
 * Unit tests of fs/name: frame file names, times, tolerances, sizes and the
 * seconds formatter.  Doubles are compared exactly: the parser promises the
 * correctly rounded value, which is what the C literal compiles to.
 */
#include <locale.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "../../fs/name.h"
#include "unit.h"

/* Printable form of a test input (control and high bytes as \xNN). */
static const char *show(const char *s)
{
    static char buf[4 * 300 + 1];
    char *o = buf;

    for (; *s && o < buf + sizeof buf - 5; s++) {
        unsigned char c = (unsigned char)*s;
        if (c < 0x20 || c >= 0x7f)
            o += sprintf(o, "\\x%02x", c);
        else
            *o++ = (char)c;
    }
    *o = '\0';
    return buf;
}

/* The mount defaults with tolerance dtol. */
static struct frame_request defaults_tol(double dtol)
{
    struct frame_request d;

    name_default_request(&d);
    d.before = d.after = dtol;
    return d;
}

/* Does `name` parse, with default tolerance dtol, to exactly (t, b, a)? */
static int parses(const char *name, double dtol, double t, double b, double a)
{
    struct frame_request r, d = defaults_tol(dtol);

    return name_parse_frame(name, &d, &r) == 0 && r.kind == TIME_SECONDS &&
           r.t == t && r.before == b && r.after == a;
}

static void valid(const char *name, double dtol, double t, double b, double a)
{
    CHECK(parses(name, dtol, t, b, a), "valid %s (default tol %g) -> t=%.9g before=%g after=%g",
          show(name), dtol, t, b, a);
}

static void invalid(const char *name)
{
    struct frame_request r = { .t = -42 }, d = defaults_tol(0);

    CHECK(name_parse_frame(name, &d, &r) == -1 && r.t == -42,
          "invalid \"%s\" rejected, output untouched", show(name));
}

static void test_valid_names(void)
{
    valid("t=12.5.png", 0, 12.5, 0, 0);
    valid("t=0.png", 0, 0, 0, 0);
    valid("t=0.0.png", 0, 0, 0, 0);
    valid("t=.5.png", 0, 0.5, 0, 0);
    valid("t=007.png", 0, 7, 0, 0);
    valid("t=0.1.png", 0, 0.1, 0, 0);
    valid("t=123456.789.png", 0, 123456.789, 0, 0);
    valid("t=1.000000000000000000001.png", 0, 1, 0, 0);
    valid("t=0.333333.png", 0, 0.333333, 0, 0);
    valid("t=12.5,tol=0.1.png", 0, 12.5, 0.1, 0.1);
    valid("t=30,tol=inf.png", 0, 30, INFINITY, INFINITY);
    valid("t=30,before=0,after=2.png", 0, 30, 0, 2);
    valid("t=30,before=inf.png", 0, 30, INFINITY, 0);
    valid("t=30,after=inf.png", 0, 30, 0, INFINITY);
    valid("tol=1,t=2.png", 0, 2, 1, 1);                  /* any order */
    valid("after=3,before=2,tol=1,t=4.png", 0, 4, 2, 3);
    valid("t=4,before=2,tol=1.png", 0, 4, 2, 1);         /* before overrides tol */
    valid("t=4,tol=1,after=0.png", 0, 4, 1, 0);          /* after overrides tol */
    valid("t=4,tol=0.png", 5, 4, 0, 0);                  /* tol overrides default */
    /* The caller's default applies only to the sides the name leaves open. */
    valid("t=4.png", 0.25, 4, 0.25, 0.25);
    valid("t=4.png", INFINITY, 4, INFINITY, INFINITY);
    valid("t=4,before=1.png", 0.25, 4, 1, 0.25);
    valid("t=4,after=1.png", 0.25, 4, 0.25, 1);
    valid("t=4,before=0,after=0.png", INFINITY, 4, 0, 0);
    /* Clock syntax, as ffmpeg's duration: [HH:]MM:SS[.frac]. */
    valid("t=00:01:02.250.png", 0, 62.25, 0, 0);
    valid("t=01:02.5.png", 0, 62.5, 0, 0);
    valid("t=1:02.png", 0, 62, 0, 0);
    valid("t=1:2.png", 0, 62, 0, 0);
    valid("t=1:2:3.png", 0, 3723, 0, 0);
    valid("t=0:00.png", 0, 0, 0, 0);
    valid("t=0:59.999.png", 0, 59.999, 0, 0);
    valid("t=1:59:59.png", 0, 7199, 0, 0);
    valid("t=100:00.png", 0, 6000, 0, 0);                /* leading MM is unbounded */
    valid("t=123:00:00.png", 0, 442800, 0, 0);           /* so is HH */
    valid("t=1:00:00.1.png", 0, 3600.1, 0, 0);           /* rounded once, correctly */
    valid("t=00:00:00.000001.png", 0, 0.000001, 0, 0);
    valid("t=0:01.1234567.png", 0, 1.1234567, 0, 0);     /* all fraction digits count */
    valid("t=1:02,tol=0.5.png", 0, 62, 0.5, 0.5);
    valid("t=1.5.png", 0, 1.5, 0, 0);

    /* Exactly 255 bytes is the longest name. */
    char name[300];
    strcpy(name, "t=");
    memset(name + 2, '0', 248);
    strcpy(name + 250, "1.png");
    CHECK(strlen(name) == 255 && parses(name, 0, 1, 0, 0), "valid 255-byte name");
}

static void test_invalid_names(void)
{
    static const char *const bad[] = {
        "", ".png", "png", "t=1", "t=1.", "t=1.PNG", "t=1.Png", "t=1.JPG", "t=1.gif", "t=1.",
        "t=1.png.png", "t=1.png ", " t=1.png", "t=1.pngx", "t=1..png",
        "t=.png", "t=1,.png", ",t=1.png", "t=1,,tol=1.png", "t.png", "t=.png",
        "=1.png", "t==1.png", "t=1=2.png", "t=1;tol=1.png",
        "T=1.png", "Tol=1,t=1.png", "t=1,TOL=1.png", "t=1,foo=2.png", "x=1.png",
        "t =1.png", "t=1,tol=1,before=1,after=1,x=1.png",
        "tol=1.png", "before=1,after=1.png",                /* missing t */
        "t=1,t=2.png", "t=1,tol=1,tol=2.png", "t=1,before=1,before=1.png",
        "t=1,after=1,after=2.png",                          /* repeated key */
        "t=1,tol=.png", "t=1,before=.png", "t=1,after=.png", "t=1,tol.png",
        "t=1e3.png", "t=1E3.png", "t=1e-3.png", "t=1,tol=1e-3.png",
        "t=0x10.png", "t=0X10.png", "t=0x1p3.png",
        "t=-1.png", "t=+1.png", "t=-0.png", "t=1,tol=-0.1.png",
        "t=1,tol=+1.png", "t=1,before=-1.png", "t=1,after=+0.png",
        "t= 1.png", "t=1 .png", "t =1.png", "t=1, tol=1.png", "t=1,tol =1.png",
        "t=\t1.png", "t=1\n.png", "t=\x01.png", "t=1\x7f.png", "t=1\r.png",
        "t=\xef\xbc\x91.png",                               /* fullwidth 1 */
        "t=1.0.0.png", "t=1.x.png", "t=1/2.png", "t=1,5.png", "t=1_000.png",
        "t=nan.png", "t=NAN.png", "t=1,tol=nan.png", "t=1,before=nan.png",
        "t=inf.png", "t=infinity.png", "t=INF.png",
        "t=1,tol=INF.png", "t=1,tol=Inf.png", "t=1,tol=infinity.png",
        "t=1,tol=-inf.png", "t=1,tol=+inf.png", "t=1,tol=inf.5.png",
        "t=1:60.png", "t=1:60.5.png", "t=1:60:00.png", "t=1:00:60.png",
        "t=1:123.png", "t=1:001:00.png", "t=1:2:3:4.png", "t=:30.png",
        "t=1:.png", "t=1::2.png", "t=1:02..png", "t=1:02.x.png", "t=1:.5.png",
        "t=1:02.png:", "t=-1:02.png", "t=1:-2.png", "t=1:2e1.png", "t=inf:00.png",
        "t=1,tol=1:00.png",                                 /* tolerance is seconds */
    };

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        invalid(bad[i]);

    /* 256 bytes is one too many, even though the value itself is fine. */
    char name[300];
    strcpy(name, "t=");
    memset(name + 2, '0', 249);
    strcpy(name + 251, "1.png");
    CHECK(strlen(name) == 256, "256-byte name built");
    invalid(name);
}

/* Parse with the plain defaults; 0 and *r, or -1. */
static int parse(const char *name, struct frame_request *r)
{
    struct frame_request d;

    name_default_request(&d);
    return name_parse_frame(name, &d, r);
}

static void test_output_keys(void)
{
    struct frame_request r, d;

    CHECK(parse("t=1.png", &r) == 0 && r.out.format == FORMAT_PNG && r.out.max_width == 0 &&
          r.out.max_height == 0 && r.out.rotate == 1 && r.out.square_pixels == 0 &&
          r.out.depth == 8 && r.out.quality == 90, "defaults: full-size 8-bit PNG, rotate=auto");
    CHECK(parse("t=1,w=176.png", &r) == 0 && r.out.max_width == 176 && r.out.max_height == 0,
          "w=176");
    CHECK(parse("h=99,t=1,w=0.jpg", &r) == 0 && r.out.max_height == 99 &&
          r.out.max_width == 0 && r.out.format == FORMAT_JPEG, "h=99,w=0 on .jpg, any order");
    CHECK(parse("t=1,w=0176.png", &r) == 0 && r.out.max_width == 176, "w=0176");
    CHECK(parse("t=1,rotate=0.png", &r) == 0 && r.out.rotate == 0, "rotate=0");
    CHECK(parse("t=1,rotate=auto.png", &r) == 0 && r.out.rotate == 1, "rotate=auto");
    CHECK(parse("t=1,aspect=display.png", &r) == 0 && r.out.square_pixels == 1, "aspect=display");
    CHECK(parse("t=1,aspect=coded.png", &r) == 0 && r.out.square_pixels == 0, "aspect=coded");
    CHECK(parse("t=1,depth=16.png", &r) == 0 && r.out.depth == 16, "depth=16 on .png");
    CHECK(parse("t=1,depth=16.ppm", &r) == 0 && r.out.depth == 16 && r.out.format == FORMAT_PPM,
          "depth=16 on .ppm");
    CHECK(parse("t=1,q=1.jpg", &r) == 0 && r.out.quality == 1, "q=1");
    CHECK(parse("t=1,q=100.jpeg", &r) == 0 && r.out.quality == 100 &&
          r.out.format == FORMAT_JPEG, "q=100 on .jpeg");
    CHECK(parse("t=50%.png", &r) == 0 && r.kind == TIME_PERCENT && r.t == 50, "t=50%%");
    CHECK(parse("t=0%.png", &r) == 0 && r.kind == TIME_PERCENT && r.t == 0, "t=0%%");
    CHECK(parse("t=12.5%,tol=1.png", &r) == 0 && r.kind == TIME_PERCENT && r.t == 12.5 &&
          r.before == 1, "t=12.5%%,tol=1");
    CHECK(parse("t=150%.png", &r) == 0 && r.kind == TIME_PERCENT && r.t == 150,
          "t=150%% parses (fails later, past the end)");
    CHECK(parse("n=0.png", &r) == 0 && r.kind == TIME_INDEX && r.n == 0, "n=0");
    CHECK(parse("w=64,n=123456789012.jpg", &r) == 0 && r.kind == TIME_INDEX &&
          r.n == 123456789012LL && r.out.max_width == 64, "n=123456789012 with w");

    /* Mount-wide defaults, and a name's key overriding them. */
    name_default_request(&d);
    CHECK(name_set_default("w=224", &d) == 0 && name_set_default("q=80", &d) == 0 &&
          name_set_default("rotate=0", &d) == 0 && name_set_default("depth=16", &d) == 0 &&
          name_set_default("aspect=display", &d) == 0 && name_set_default("tol=0.5", &d) == 0,
          "mount-wide w, q, rotate, depth, aspect, tol");
    CHECK(name_parse_frame("t=1.jpg", &d, &r) == 0 && r.out.max_width == 224 &&
          r.out.quality == 80 && r.out.rotate == 0 && r.out.square_pixels == 1 &&
          r.before == 0.5 && r.after == 0.5, "defaults apply to a bare name");
    CHECK(name_parse_frame("t=1,w=64,q=95,rotate=auto,before=0.png", &d, &r) != 0,
          "q from the name on a .png is still invalid with a mount default");
    CHECK(name_parse_frame("t=1,w=64,rotate=auto,before=0,aspect=coded.png", &d, &r) == 0 &&
          r.out.max_width == 64 && r.out.rotate == 1 && r.out.square_pixels == 0 &&
          r.out.depth == 16 && r.before == 0 && r.after == 0.5, "name keys override defaults");
    CHECK(name_set_default("w=-1", &d) == -1 && name_set_default("q=0", &d) == -1 &&
          name_set_default("depth=12", &d) == -1 && name_set_default("rotate=90", &d) == -1 &&
          name_set_default("tol=x", &d) == -1, "bad mount-wide values rejected");
    CHECK(name_set_default("t=1", &d) == 1 && name_set_default("n=1", &d) == 1 &&
          name_set_default("allow_other", &d) == 1 && name_set_default("ro", &d) == 1 &&
          name_set_default("cache_size=1M", &d) == 1, "not mount-wide keys: not ours");

    /* hdr=: keep is 16 bits and never a JPEG; a mount-wide keep yields. */
    CHECK(parse("t=1,hdr=keep.png", &r) == 0 && r.out.keep_hdr == 1 && r.out.depth == 16,
          "hdr=keep on .png: 16 bits implied");
    CHECK(parse("t=1,hdr=keep.ppm", &r) == 0 && r.out.keep_hdr == 1 && r.out.depth == 16,
          "hdr=keep on .ppm");
    CHECK(parse("t=1,hdr=keep,depth=16.png", &r) == 0 && r.out.keep_hdr == 1,
          "hdr=keep,depth=16");
    CHECK(parse("t=1,hdr=sdr.jpg", &r) == 0 && r.out.keep_hdr == 0, "hdr=sdr on .jpg");
    name_default_request(&d);
    CHECK(name_set_default("hdr=keep", &d) == 0 && name_set_default("hdr=hdr10", &d) == -1,
          "mount-wide hdr=keep; a bad value rejected");
    CHECK(name_parse_frame("t=1.png", &d, &r) == 0 && r.out.keep_hdr == 1 && r.out.depth == 16,
          "mount-wide keep: a .png keeps at 16 bits");
    CHECK(name_parse_frame("t=1.jpg", &d, &r) == 0 && r.out.keep_hdr == 0,
          "mount-wide keep: a .jpg is tone-mapped");
    CHECK(name_parse_frame("t=1,depth=8.png", &d, &r) == 0 && r.out.keep_hdr == 0 &&
          r.out.depth == 8, "mount-wide keep: depth=8 in the name wins");
    CHECK(name_parse_frame("t=1,hdr=sdr.png", &d, &r) == 0 && r.out.keep_hdr == 0 &&
          r.out.depth == 8, "mount-wide keep: hdr=sdr in the name wins");

    static const char *const bad[] = {
        "t=1,hdr=keep.jpg", "t=1,hdr=keep,depth=8.png", "t=1,depth=8,hdr=keep.ppm",
        "t=1,hdr=KEEP.png", "t=1,hdr=.png", "t=1,hdr=keep,hdr=keep.png", "t=1,hdr=pq.png",
        "t=1,w=-1.png", "t=1,w=+1.png", "t=1,w=abc.png", "t=1,w=1.5.png", "t=1,w=.png",
        "t=1,w=65536.png", "t=1,h=-5.png", "t=1,h=1e3.png", "t=1,w=1,w=2.png",
        "t=1,q=0.jpg", "t=1,q=101.jpg", "t=1,q=90.png", "t=1,q=90.ppm", "t=1,q=.jpg",
        "t=1,depth=12.png", "t=1,depth=16.jpg", "t=1,depth=08.png", "t=1,depth=.png",
        "t=1,rotate=45.png", "t=1,rotate=90.png", "t=1,rotate=AUTO.png", "t=1,rotate=.png",
        "t=1,aspect=square.png", "t=1,aspect=.png",
        "n=1.5.png", "n=-1.png", "n=.png", "n=1e3.png", "n=1,t=1.png", "t=1,n=1.png",
        "n=1,tol=1.png", "n=1,before=0.png", "n=1,after=inf.png", "n=1,n=2.png",
        "n=99999999999999999999.png",
        "t=abc%.png", "t=%.png", "t=-1%.png", "t=1:00%.png", "t=50%%.png", "t=%50.png",
        "t=inf%.png", "t=1e2%.png", "t=50 %.png", "w=100.png", "q=50.jpg",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        invalid(bad[i]);

    enum frame_format f;
    CHECK(name_parse_format("jpg", 3, &f) == 0 && f == FORMAT_JPEG &&
          name_parse_format("ppm", 3, &f) == 0 && f == FORMAT_PPM &&
          name_parse_format("png", 3, &f) == 0 && f == FORMAT_PNG &&
          name_parse_format("gif", 3, &f) == -1 && name_parse_format("PNG", 3, &f) == -1,
          "formats by extension");
}

static void test_time_and_seconds(void)
{
    double v = -1;

    CHECK(name_parse_time("12.5", &v) == 0 && v == 12.5, "time 12.5");
    CHECK(name_parse_time("01:02.5", &v) == 0 && v == 62.5, "time 01:02.5");
    CHECK(name_parse_time("00:01:02.250", &v) == 0 && v == 62.25, "time 00:01:02.250");
    CHECK(name_parse_time("inf", &v) == -1, "time inf rejected");
    CHECK(name_parse_time("", &v) == -1, "time empty rejected");
    CHECK(name_parse_seconds("inf", 1, &v) == 0 && isinf(v) && v > 0, "seconds inf allowed");
    CHECK(name_parse_seconds("inf", 0, &v) == -1, "seconds inf not allowed");
    CHECK(name_parse_seconds("0.25", 0, &v) == 0 && v == 0.25, "seconds 0.25");
    CHECK(name_parse_seconds("1:00", 1, &v) == -1, "seconds reject clock syntax");
    CHECK(name_parse_seconds("", 1, &v) == -1, "seconds empty rejected");
    CHECK(name_parse_seconds("5", 1, &v) == 0 && v == 5, "seconds 5");

    /* Out of double range: overflow to infinity is an error, not "inf". */
    char big[400];
    big[0] = '1';
    memset(big + 1, '0', 308);
    big[309] = '\0';
    CHECK(name_parse_seconds(big, 0, &v) == 0 && v == 1e308, "seconds 1e308 (309 digits)");
    big[0] = '2';
    v = -1;
    CHECK(name_parse_seconds(big, 1, &v) == -1 && v == -1, "seconds 2e308 overflows: rejected");
    CHECK(name_parse_time(big, &v) == -1, "time 2e308 overflows: rejected");
    strcpy(big + 309, ":00");
    CHECK(name_parse_time(big, &v) == -1, "clock 2e308 minutes overflows: rejected");
    memset(big, '9', 399);
    big[399] = '\0';
    CHECK(name_parse_seconds(big, 1, &v) == -1, "seconds 399 nines rejected");
}

static void test_size(void)
{
    static const struct { const char *s; size_t v; } good[] = {
        { "0", 0 }, { "1", 1 }, { "1048576", 1048576 }, { "512K", 512u << 10 },
        { "256M", 256u << 20 }, { "2G", (size_t)2 << 30 }, { "1k", 1024 },
        { "3m", 3u << 20 }, { "1KB", 1024 }, { "1KiB", 1024 }, { "256MiB", 256u << 20 },
        { "2GB", (size_t)2 << 30 }, { "100B", 100 }, { "0G", 0 }, { "007K", 7168 },
    };
    static const char *const bad[] = {
        "", "M", "B", "iB", "-1", "+1", " 1", "1 ", "1.5G", "1iB", "1KBB",
        "1X", "1Ki", "1kib", "1Kb", "1KIB", "0x10", "1e3", "1,000", "1M ", "1MM",
    };
    size_t v;

    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        CHECK(name_parse_size(good[i].s, &v) == 0 && v == good[i].v,
              "size \"%s\" = %zu", good[i].s, good[i].v);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK(name_parse_size(bad[i], &v) == -1, "size \"%s\" rejected", bad[i]);

    if (SIZE_MAX == UINT64_MAX) {
        CHECK(name_parse_size("18446744073709551615", &v) == 0 && v == SIZE_MAX, "size SIZE_MAX");
        CHECK(name_parse_size("18446744073709551616", &v) == -1, "size SIZE_MAX+1 rejected");
        CHECK(name_parse_size("99999999999999999999999", &v) == -1, "size huge rejected");
        CHECK(name_parse_size("16777215T", &v) == 0 && v == ((size_t)16777215 << 40),
              "size 16777215T");
        CHECK(name_parse_size("16777216T", &v) == -1, "size 2^64 as 16777216T rejected");
        CHECK(name_parse_size("17179869184G", &v) == -1, "size 2^64 as G rejected");
    }
}

static void formats(double s, const char *want)
{
    char buf[64];

    CHECK(strcmp(name_format_seconds(s, buf, sizeof buf), want) == 0,
          "format %.9g -> \"%s\" (got \"%s\")", s, want, buf);
}

static void test_format(void)
{
    formats(2, "2");
    formats(2.5, "2.5");
    formats(1.0 / 3, "0.333333");
    formats(2.0 / 3, "0.666667");
    formats(0, "0");
    formats(-0.0, "0");
    formats(10, "10");
    formats(100, "100");
    formats(62.25, "62.25");
    formats(0.000001, "0.000001");
    formats(0.0000004, "0");
    formats(1.9999999, "2");
    formats(1234567.125, "1234567.125");
    formats(INFINITY, "inf");

    char small[4];
    CHECK(strcmp(name_format_seconds(2.5, small, sizeof small), "2.5") == 0,
          "format into a 4-byte buffer");
    CHECK(name_format_seconds(2.5, small, 0) == small, "format with len 0 returns buf");

    /* What the formatter prints, the parser reads back (to 6 decimals). */
    static const double vals[] = { 0, 0.04, 1.0 / 3, 12.5, 62.25, 3599.999999, 86400.1 };
    int ok = 1;
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
        char buf[64];
        double back;
        ok &= name_parse_time(name_format_seconds(vals[i], buf, sizeof buf), &back) == 0 &&
              fabs(back - vals[i]) <= 5e-7;
    }
    CHECK(ok, "format then parse round-trips to 6 decimals");
}

/* strtod's radix character follows LC_NUMERIC; ours must not. */
static void test_locale(void)
{
    static const char *const locales[] = { "de_DE.UTF-8", "fr_FR.UTF-8", "de_DE", "fr_FR" };
    const char *got = NULL;

    for (size_t i = 0; i < 4 && !got; i++)
        got = setlocale(LC_NUMERIC, locales[i]);
    if (!got) {
        printf("SKIP: locale with a decimal comma not installed\n");
        return;
    }
    valid("t=12.5,tol=0.25.png", 0, 12.5, 0.25, 0.25);
    valid("t=01:02.5.png", 0, 62.5, 0, 0);
    invalid("t=12,5.png");
    setlocale(LC_NUMERIC, "C");
}

int main(void)
{
    test_valid_names();
    test_invalid_names();
    test_output_keys();
    test_time_and_seconds();
    test_size();
    test_format();
    test_locale();
    return unit_done();
}
