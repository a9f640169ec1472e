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

/* The keys of a frame name; a value is remembered per key, once. */
enum key { KEY_T, KEY_TOL, KEY_BEFORE, KEY_AFTER, KEY_COUNT };

static const char *const key_names[KEY_COUNT] = { "t", "tol", "before", "after" };

struct params {
    double value[KEY_COUNT];
    int seen[KEY_COUNT];
};

/* One "key=value" of s[0..len). */
static int parse_param(const char *s, size_t len, struct params *p)
{
    const char *eq = memchr(s, '=', len);
    if (!eq)
        return -1;
    size_t klen = (size_t)(eq - s), vlen = len - klen - 1;
    const char *v = eq + 1;

    for (int k = 0; k < KEY_COUNT; k++) {
        if (!slice_is(s, klen, key_names[k]))
            continue;
        if (p->seen[k])
            return -1;                          /* repeated key */
        p->seen[k] = 1;
        if (k == KEY_T)
            return parse_time(v, vlen, &p->value[k]);
        return parse_seconds(v, vlen, 1, &p->value[k]);
    }
    return -1;                                  /* unknown key */
}

int name_parse_frame(const char *name, double default_tol, struct frame_request *out)
{
    static const char ext[] = ".png";
    const size_t ext_len = sizeof ext - 1;
    size_t len = strnlen(name, NAME_LEN_MAX + 1);
    struct params p = { .seen = { 0 } };

    if (len > NAME_LEN_MAX || len <= ext_len ||
        memcmp(name + len - ext_len, ext, ext_len) != 0)
        return -1;
    len -= ext_len;

    /* Comma-separated parameters; an empty one ("t=1,.png") is invalid. */
    for (const char *s = name, *end = name + len;; ) {
        const char *comma = memchr(s, ',', (size_t)(end - s));
        if (parse_param(s, (size_t)((comma ? comma : end) - s), &p))
            return -1;
        if (!comma)
            break;
        s = comma + 1;
    }
    if (!p.seen[KEY_T])
        return -1;

    double tol = p.seen[KEY_TOL] ? p.value[KEY_TOL] : default_tol;
    /* A compound literal zeroes whatever fields later work adds. */
    *out = (struct frame_request){
        .t = p.value[KEY_T],
        .before = p.seen[KEY_BEFORE] ? p.value[KEY_BEFORE] : tol,
        .after = p.seen[KEY_AFTER] ? p.value[KEY_AFTER] : tol,
    };
    return 0;
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
