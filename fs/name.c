/*
 * fs/name — frame file names and option values (see name.h for the grammar).
 *
 * Everything is validated by hand, byte by byte, against the grammar: sscanf
 * and strtod accept far more than we want (signs, blanks, exponents, hex,
 * "nan", "infinity", the locale's radix character).  The only libc number
 * conversion used is strtod on a string this file built itself from
 * validated digits, so that the result is the correctly rounded double.
 *
 * Values inside a name are not NUL-terminated, so the helpers work on
 * (pointer, length) slices.
 */
#include "name.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Longest file name a Linux filesystem accepts (NAME_MAX). */
#define NAME_LEN_MAX 255
/* Longest number text accepted.  Longer than any name, so that an option
 * value (which has no length limit of its own) that overflows to infinity is
 * rejected for that, not for its length. */
#define NUMBER_LEN_MAX 1024

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Is s[0..len) one or more ASCII digits? */
static int all_digits(const char *s, size_t len)
{
    if (len == 0)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (!is_digit(s[i]))
            return 0;
    return 1;
}

static int slice_is(const char *s, size_t len, const char *word)
{
    return strlen(word) == len && memcmp(s, word, len) == 0;
}

/*
 * Split s[0..len) as  DIGITS | DIGITS "." DIGITS | "." DIGITS  into its
 * integer digits s[0..*ni) and fraction digits (*frac)[0..*nf).
 * "1." is rejected: the grammar wants digits on both sides of a dot.
 */
static int split_decimal(const char *s, size_t len, size_t *ni,
                         const char **frac, size_t *nf)
{
    const char *dot = memchr(s, '.', len);

    *ni = dot ? (size_t)(dot - s) : len;
    *frac = dot ? dot + 1 : s + len;
    *nf = dot ? len - *ni - 1 : 0;
    if (*ni && !all_digits(s, *ni))
        return -1;
    if (dot && !all_digits(*frac, *nf))
        return -1;                  /* "1.", "1.x", "1.2.3" */
    return *ni || *nf ? 0 : -1;     /* "" */
}

/* Value of a clock field after the first: one or two digits, below 60. */
static int sexagesimal(const char *s, size_t len, unsigned *out)
{
    if (len < 1 || len > 2 || !all_digits(s, len))
        return -1;
    *out = len == 1 ? (unsigned)(s[0] - '0')
                    : (unsigned)(s[0] - '0') * 10 + (unsigned)(s[1] - '0');
    return *out < 60 ? 0 : -1;
}

/*
 * A non-negative decimal number under construction: the digit string
 * d[0..n), of which the last nf digits are the fraction.  The spare room
 * holds the exponent suffix and lets the clock arithmetic grow the integer.
 */
struct decimal {
    char d[NUMBER_LEN_MAX + 32];
    size_t n, nf;
};

static int decimal_append(struct decimal *x, const char *s, size_t len)
{
    if (x->n + len > NUMBER_LEN_MAX)
        return -1;
    memcpy(x->d + x->n, s, len);
    x->n += len;
    return 0;
}

/* Integer := integer * mul + add, before any fraction digit is appended.
 * Schoolbook arithmetic on the digits, so any number of hours is exact. */
static void decimal_muladd(struct decimal *x, unsigned mul, unsigned add)
{
    unsigned carry = add;

    for (size_t i = x->n; i-- > 0;) {
        unsigned v = (unsigned)(x->d[i] - '0') * mul + carry;
        x->d[i] = (char)('0' + v % 10);
        carry = v / 10;
    }
    /* Prepend what is left, least significant digit first. */
    for (; carry; carry /= 10) {
        memmove(x->d + 1, x->d, x->n);
        x->d[0] = (char)('0' + carry % 10);
        x->n++;
    }
}

/*
 * The double nearest to the decimal.  Written as "DIGITSe-NF" the text has no
 * radix character, so strtod's locale dependence cannot bite, and strtod
 * rounds correctly (which dividing by 10^nf by hand would not).
 */
static int decimal_value(struct decimal *x, double *out)
{
    char *end;

    if (x->n == 0)
        return -1;
    snprintf(x->d + x->n, sizeof x->d - x->n, "e-%zu", x->nf);
    double v = strtod(x->d, &end);
    if (*end != '\0' || !isfinite(v))   /* overflowed to infinity */
        return -1;
    *out = v;
    return 0;
}

/* seconds := DIGITS [ "." DIGITS ] | "." DIGITS, or "inf" when allowed. */
static int parse_seconds(const char *s, size_t len, int allow_inf, double *out)
{
    struct decimal x = { .n = 0 };
    const char *frac;
    size_t ni, nf;

    if (allow_inf && slice_is(s, len, "inf")) {
        *out = INFINITY;
        return 0;
    }
    if (split_decimal(s, len, &ni, &frac, &nf) ||
        decimal_append(&x, s, ni) || decimal_append(&x, frac, nf))
        return -1;
    x.nf = nf;
    return decimal_value(&x, out);
}

/*
 * clock := [HH ":"] MM ":" SS [ "." frac ], fields[0..nfields) being the
 * colon-separated parts.  The leading field is any number of digits (ffmpeg:
 * hours unbounded); each later field is one or two digits below 60.  Unlike
 * ffmpeg, which keeps 6 fraction digits, every fraction digit counts.
 */
static int parse_clock(const char *s, size_t len, double *out)
{
    const char *field[3], *frac;
    size_t flen[3], nfields = 0, ni, nf;
    struct decimal x = { .n = 0 };
    unsigned v;

    for (const char *p = s, *end = s + len;; ) {
        const char *colon = memchr(p, ':', (size_t)(end - p));
        if (nfields == 3)
            return -1;
        field[nfields] = p;
        flen[nfields++] = (size_t)((colon ? colon : end) - p);
        if (!colon)
            break;
        p = colon + 1;
    }
    if (!all_digits(field[0], flen[0]) || decimal_append(&x, field[0], flen[0]))
        return -1;
    if (nfields == 3) {                         /* MM after HH */
        if (sexagesimal(field[1], flen[1], &v))
            return -1;
        decimal_muladd(&x, 60, v);
    }
    /* SS [. frac] */
    const char *ss = field[nfields - 1];
    if (split_decimal(ss, flen[nfields - 1], &ni, &frac, &nf) ||
        sexagesimal(ss, ni, &v))
        return -1;
    decimal_muladd(&x, 60, v);
    if (decimal_append(&x, frac, nf))
        return -1;
    x.nf = nf;
    return decimal_value(&x, out);
}

static int parse_time(const char *s, size_t len, double *out)
{
    if (memchr(s, ':', len))
        return parse_clock(s, len, out);
    return parse_seconds(s, len, 0, out);
}

int name_parse_time(const char *s, double *out)
{
    return parse_time(s, strlen(s), out);
}

int name_parse_seconds(const char *s, int allow_inf, double *out)
{
    return parse_seconds(s, strlen(s), allow_inf, out);
}

/* ---- frame names --------------------------------------------------------- */

#define FMT_ALL ((1u << FORMAT_PNG) | (1u << FORMAT_JPEG) | (1u << FORMAT_PPM))
#define FMT_PNG_PPM ((1u << FORMAT_PNG) | (1u << FORMAT_PPM))
#define FMT_JPEG (1u << FORMAT_JPEG)

/* The one table of frame name keys: the parser, name_set_default() and
 * --help (name_print_keys()) all read it; test_docs checks README and the
 * man page against --help. */
const struct name_key name_keys[] = {
    [KEY_T] = {"t", "SECONDS|[HH:]MM:SS[.fff]|P%", "the time, or a percentage of the duration",
               KT_TIME, 0, 0, {{0}}, FMT_ALL, 0},
    [KEY_N] = {"n", "N", "the N-th frame (0-based, presentation order), instead of t",
               KT_INT, 0, INT64_MAX, {{0}}, FMT_ALL, 0},
    [KEY_TOL] = {"tol", "SECONDS|inf", "tolerance on both sides (default 0)",
                 KT_SECONDS, 0, 0, {{0}}, FMT_ALL, 1},
    [KEY_BEFORE] = {"before", "SECONDS|inf", "tolerance before t (overrides tol)",
                    KT_SECONDS, 0, 0, {{0}}, FMT_ALL, 1},
    [KEY_AFTER] = {"after", "SECONDS|inf", "tolerance after t (overrides tol)",
                   KT_SECONDS, 0, 0, {{0}}, FMT_ALL, 1},
    [KEY_W] = {"w", "W", "fit inside W pixels wide, never upscale (0: no bound)",
               KT_INT, 0, 65535, {{0}}, FMT_ALL, 1},
    [KEY_H] = {"h", "H", "fit inside H pixels high, never upscale (0: no bound)",
               KT_INT, 0, 65535, {{0}}, FMT_ALL, 1},
    [KEY_ROTATE] = {"rotate", "auto|0", "apply the display matrix (auto, default) or not",
                    KT_WORD, 0, 0, {{"auto", 1}, {"0", 0}}, FMT_ALL, 1},
    [KEY_ASPECT] = {"aspect", "coded|display", "display: stretch the width to square pixels",
                    KT_WORD, 0, 0, {{"coded", 0}, {"display", 1}}, FMT_ALL, 1},
    [KEY_DEPTH] = {"depth", "8|16", "bits per sample, .png and .ppm (default 8)",
                   KT_WORD, 0, 0, {{"8", 8}, {"16", 16}}, FMT_PNG_PPM, 1},
    [KEY_Q] = {"q", "1..100", "JPEG quality, .jpg only (default 90)",
               KT_INT, 1, 100, {{0}}, FMT_JPEG, 1},
    [KEY_HDR] = {"hdr", "sdr|keep", "PQ/HLG: tone-map to SDR, or keep as 16-bit (default sdr)",
                 KT_WORD, 0, 0, {{"sdr", 0}, {"keep", 1}}, FMT_ALL, 1},
};

/* Extensions and the formats they name. */
static const struct {
    const char *ext;
    enum frame_format format;
} extensions[] = {
    {"png", FORMAT_PNG}, {"jpg", FORMAT_JPEG}, {"jpeg", FORMAT_JPEG}, {"ppm", FORMAT_PPM},
};

/* One parsed value, of the key's type. */
union value {
    double seconds;              /* KT_SECONDS, KT_TIME */
    int64_t integer;             /* KT_INT, KT_WORD */
};

struct params {
    union value value[KEY_COUNT];
    int seen[KEY_COUNT];
    int percent;                 /* t was given as P% */
};

/* Digits only, at most 18 of them (leading zeros aside), within [min, max]. */
static int parse_integer(const char *s, size_t len, int64_t min, int64_t max, int64_t *out)
{
    int64_t v = 0;

    if (!all_digits(s, len))
        return -1;
    for (size_t i = 0; i < len; i++) {
        if (v > (INT64_MAX - 9) / 10)
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    if (v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

/* The value s[0..len) of key k into p. */
static int parse_value(enum name_key_id k, const char *s, size_t len, struct params *p)
{
    const struct name_key *key = &name_keys[k];
    union value *v = &p->value[k];

    switch (key->type) {
    case KT_TIME:
        if (len > 0 && s[len - 1] == '%') {
            p->percent = 1;
            return parse_seconds(s, len - 1, 0, &v->seconds);
        }
        return parse_time(s, len, &v->seconds);
    case KT_SECONDS:
        return parse_seconds(s, len, 1, &v->seconds);
    case KT_INT:
        return parse_integer(s, len, key->min, key->max, &v->integer);
    case KT_WORD:
        for (size_t i = 0; i < sizeof key->words / sizeof key->words[0]; i++)
            if (key->words[i].word && slice_is(s, len, key->words[i].word)) {
                v->integer = key->words[i].value;
                return 0;
            }
        return -1;
    }
    return -1;
}

static int find_key(const char *s, size_t len)
{
    for (int k = 0; k < KEY_COUNT; k++)
        if (slice_is(s, len, name_keys[k].name))
            return k;
    return -1;
}

/* One "key=value" of s[0..len), for a name of format fmt. */
static int parse_param(const char *s, size_t len, enum frame_format fmt, struct params *p)
{
    const char *eq = memchr(s, '=', len);
    int k;

    if (!eq || (k = find_key(s, (size_t)(eq - s))) < 0)
        return -1;                              /* unknown key */
    if (p->seen[k] || !(name_keys[k].formats & (1u << fmt)))
        return -1;                              /* repeated, or not for this format */
    p->seen[k] = 1;
    return parse_value(k, eq + 1, len - (size_t)(eq - s) - 1, p);
}

/* Store key k's value into r. */
static void apply(enum name_key_id k, const union value *v, struct frame_request *r)
{
    switch (k) {
    case KEY_T:
        r->t = v->seconds;
        break;
    case KEY_N:
        r->n = v->integer;
        break;
    case KEY_TOL:
        r->before = r->after = v->seconds;
        break;
    case KEY_BEFORE:
        r->before = v->seconds;
        break;
    case KEY_AFTER:
        r->after = v->seconds;
        break;
    case KEY_W:
        r->out.max_width = (int)v->integer;
        break;
    case KEY_H:
        r->out.max_height = (int)v->integer;
        break;
    case KEY_ROTATE:
        r->out.rotate = (int)v->integer;
        break;
    case KEY_ASPECT:
        r->out.square_pixels = (int)v->integer;
        break;
    case KEY_DEPTH:
        r->out.depth = (int)v->integer;
        break;
    case KEY_Q:
        r->out.quality = (int)v->integer;
        break;
    case KEY_HDR:
        r->out.keep_hdr = (int)v->integer;
        break;
    case KEY_COUNT:
        break;
    }
}

void name_default_request(struct frame_request *out)
{
    *out = (struct frame_request){
        .out = {.format = FORMAT_PNG, .rotate = 1, .depth = 8, .quality = 90},
    };
}

int name_parse_format(const char *s, size_t len, enum frame_format *out)
{
    for (size_t i = 0; i < sizeof extensions / sizeof extensions[0]; i++)
        if (slice_is(s, len, extensions[i].ext)) {
            *out = extensions[i].format;
            return 0;
        }
    return -1;
}

int name_parse_frame(const char *name, const struct frame_request *defaults,
                     struct frame_request *out)
{
    size_t len = strnlen(name, NAME_LEN_MAX + 1);
    struct params p = { .seen = { 0 } };
    enum frame_format fmt;
    const char *dot;

    if (len > NAME_LEN_MAX || !(dot = memrchr(name, '.', len)) || dot == name ||
        name_parse_format(dot + 1, len - (size_t)(dot - name) - 1, &fmt) < 0)
        return -1;
    len = (size_t)(dot - name);

    /* Comma-separated parameters; an empty one ("t=1,.png") is invalid. */
    for (const char *s = name, *end = name + len;; ) {
        const char *comma = memchr(s, ',', (size_t)(end - s));
        if (parse_param(s, (size_t)((comma ? comma : end) - s), fmt, &p))
            return -1;
        if (!comma)
            break;
        s = comma + 1;
    }
    /* Exactly one position; a frame index has no tolerance. */
    if (p.seen[KEY_T] == p.seen[KEY_N] ||
        (p.seen[KEY_N] && (p.seen[KEY_TOL] || p.seen[KEY_BEFORE] || p.seen[KEY_AFTER])))
        return -1;

    struct frame_request r = *defaults;
    /* tol first, so that before/after override it on their side. */
    static const enum name_key_id order[] = {KEY_T, KEY_N, KEY_TOL, KEY_BEFORE, KEY_AFTER,
                                             KEY_W, KEY_H, KEY_ROTATE, KEY_ASPECT,
                                             KEY_DEPTH, KEY_Q, KEY_HDR};
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++)
        if (p.seen[order[i]])
            apply(order[i], &p.value[order[i]], &r);
    r.out.format = fmt;
    /* hdr=keep is 16 bits, never a JPEG: malformed when the name asks for
     * both; a mount-wide keep yields to the name's format or depth=8. */
    if (r.out.keep_hdr) {
        if (fmt == FORMAT_JPEG || (p.seen[KEY_DEPTH] && r.out.depth == 8)) {
            if (p.seen[KEY_HDR])
                return -1;
            r.out.keep_hdr = 0;
        } else {
            r.out.depth = 16;
        }
    }
    r.kind = p.seen[KEY_N] ? TIME_INDEX : p.percent ? TIME_PERCENT : TIME_SECONDS;
    if (r.kind == TIME_INDEX)
        r.t = 0;
    else
        r.n = 0;
    *out = r;
    return 0;
}

int name_set_default(const char *option, struct frame_request *defaults)
{
    const char *eq = strchr(option, '=');
    struct params p = { .seen = { 0 } };
    int k;

    if (!eq || (k = find_key(option, (size_t)(eq - option))) < 0 || !name_keys[k].mount_wide)
        return 1;
    if (strlen(eq + 1) > NUMBER_LEN_MAX || parse_value(k, eq + 1, strlen(eq + 1), &p) < 0)
        return -1;
    apply(k, &p.value[k], defaults);
    return 0;
}

void name_print_keys(FILE *f)
{
    for (int k = 0; k < KEY_COUNT; k++) {
        char head[64];

        snprintf(head, sizeof head, "%s=%s", name_keys[k].name, name_keys[k].syntax);
        fprintf(f, "    %-30s %s%s\n", head, name_keys[k].help,
                name_keys[k].mount_wide ? " *" : "");
    }
}

/* Multiplier letter of a size: its power of 1024, or 0 when c is none. */
static int size_power(char c)
{
    static const char upper[] = "KMGT", lower[] = "kmgt";

    for (int i = 0; i < 4; i++)
        if (c == upper[i] || c == lower[i])
            return i + 1;
    return 0;
}

int name_parse_size(const char *s, size_t *out)
{
    size_t v = 0, i = 0;

    if (!is_digit(s[0]))
        return -1;
    for (; is_digit(s[i]); i++) {
        unsigned d = (unsigned)(s[i] - '0');
        if (v > (SIZE_MAX - d) / 10)
            return -1;                          /* overflow */
        v = v * 10 + d;
    }
    int power = size_power(s[i]);
    if (power)
        i++;
    /* "B" may follow any size, "iB" only a multiplier ("2GiB", not "2iB"). */
    if (!(s[i] == '\0' || strcmp(s + i, "B") == 0 ||
          (power && strcmp(s + i, "iB") == 0)))
        return -1;
    for (; power > 0; power--) {
        if (v > SIZE_MAX / 1024)
            return -1;
        v *= 1024;
    }
    *out = v;
    return 0;
}

char *name_format_seconds(double s, char *buf, size_t len)
{
    if (len == 0)
        return buf;
    snprintf(buf, len, "%.6f", s);
    /* Strip trailing zeros of the fraction, then a bare dot.  Without a dot
     * ("inf", or a truncated buffer) there is no fraction to strip. */
    char *dot = strchr(buf, '.');
    if (dot) {
        char *e = buf + strlen(buf);
        while (e > dot + 1 && e[-1] == '0')
            *--e = '\0';
        if (e == dot + 1)
            *dot = '\0';
    }
    /* A tiny negative value prints as "-0.000000": say "0". */
    if (strcmp(buf, "-0") == 0)
        memmove(buf, buf + 1, 2);
    return buf;
}
