/*
 * fs/name — pure parsers for frame file names and option values.
 * No allocation, no global state, thread-safe; unit-tested in tests/unit.
 *
 * Grammar (SPEC "Frame names", README "Frame names"):
 *   name   := param ( "," param )* "." ext
 *   param  := key "=" value      key in name_keys[] (each at most once, any order)
 *   ext    := "png" | "jpg" | "jpeg" | "ppm"
 *   t      := seconds | clock | seconds "%"   (percent of the duration)
 *   n      := digits                         (frame index; instead of t)
 *   seconds:= digits [ "." digits ] | "." digits      (no sign, no exponent)
 *   clock  := [HH ":"] MM ":" SS [ "." frac ]          (ffmpeg's syntax: MM,SS < 60
 *             when preceded by a larger field; HH any number of digits)
 *   tol, before, after := seconds | "inf"
 *   w, h   := digits, 0..65535;  q := digits, 1..100 (.jpg only)
 *   rotate := "auto" | "0";  aspect := "coded" | "display";
 *   depth  := "8" | "16" (.png and .ppm only)
 *   hdr    := "sdr" | "keep"  (keep: .png and .ppm, 16 bits; with depth=8
 *             or on a .jpg the name is invalid, and a mount-wide keep does
 *             not apply to such names)
 * Exactly one of t and n; n takes no tolerance.  Anything else (unknown key,
 * repeated key, a key its extension does not allow, empty value, sign,
 * exponent, nan, whitespace, unknown extension, a value out of range) is
 * invalid.
 *
 * Details the grammar leaves implicit:
 *  - "1." is invalid (a dot needs digits after it); ".5" and "007" are fine.
 *  - "inf" is lowercase only ("INF", "infinity" are invalid); never for t.
 *  - clock: the leading field (HH, or MM without HH) takes any number of
 *    digits; each later field is 1 or 2 digits below 60 ("1:2" is 62 s,
 *    "100:00" is 6000 s, "1:60" is invalid).  Every fraction digit counts
 *    (ffmpeg keeps only 6).
 *  - Values are the correctly rounded double of the decimal text, whatever
 *    the locale.  Names longer than 255 bytes and number texts longer than
 *    1024 bytes are invalid.
 *  - On failure *out is left untouched.
 */
#ifndef FRAMEFS_NAME_H
#define FRAMEFS_NAME_H

#include <stdio.h>

#include "../decoder/decoder.h"

enum name_key_id {
    KEY_T, KEY_N, KEY_TOL, KEY_BEFORE, KEY_AFTER, KEY_W, KEY_H, KEY_ROTATE, KEY_ASPECT,
    KEY_DEPTH, KEY_Q, KEY_HDR, KEY_COUNT
};

enum name_key_type {
    KT_TIME,                     /* seconds, clock or percent */
    KT_SECONDS,                  /* seconds or inf */
    KT_INT,                      /* digits within [min, max] */
    KT_WORD,                     /* one of words[] */
};

/* A frame name key: everything about it, declared once (name.c). */
struct name_key {
    const char *name;
    const char *syntax;          /* its value, for --help ("W", "auto|0") */
    const char *help;
    enum name_key_type type;
    int64_t min, max;            /* KT_INT */
    struct { const char *word; int value; } words[2];   /* KT_WORD */
    unsigned formats;            /* bit (1 << format) per extension allowing it */
    int mount_wide;              /* -o key=value sets the mount's default */
};

extern const struct name_key name_keys[KEY_COUNT];

/* The defaults before any mount option: PNG, full size, rotate=auto,
 * aspect=coded, depth 8, q 90, hdr=sdr, no tolerance. */
void name_default_request(struct frame_request *out);

/* Parse a frame file name.  What the name does not give comes from
 * *defaults (the mount's); the name's extension sets out->out.format.
 * Returns 0 and fills *out, or -1 when the name is invalid. */
int name_parse_frame(const char *name, const struct frame_request *defaults,
                     struct frame_request *out);

/* A mount option "key=value" for a mount-wide frame name key: 0 and the
 * default set, -1 when the value is invalid, 1 when it is no such key. */
int name_set_default(const char *option, struct frame_request *defaults);

/* The format an extension s[0..len) names (no dot).  0 or -1. */
int name_parse_format(const char *s, size_t len, enum frame_format *out);

/* The key table as --help shows it, a line per key; " *" marks the ones
 * -o key=value may set mount-wide. */
void name_print_keys(FILE *f);

/* Parse a time value: seconds or clock syntax (as for t=).  0 or -1. */
int name_parse_time(const char *s, double *out);

/* Parse a duration/tolerance: seconds, or "inf" when allow_inf.  0 or -1. */
int name_parse_seconds(const char *s, int allow_inf, double *out);

/* Parse a byte size: digits with optional K, M, G, T suffix (powers of 1024,
 * either case, optional trailing "B" or "iB"), e.g. "256M", "2G", "1048576",
 * "2GiB", "100B"; "iB" needs a suffix letter.  0 is accepted (the caller
 * decides); anything that does not fit a size_t is rejected.  0 or -1. */
int name_parse_size(const char *s, size_t *out);

/* Format seconds as the shortest decimal with at most 6 decimals, no trailing
 * zeros ("2", "2.5", "0.333333"), into buf: "%.6f" rounded, then trimmed.
 * For s >= 0 (-0 and tiny negatives print "0"; INFINITY prints "inf").
 * 32 bytes hold any value below 1e24; a shorter buf truncates.  Returns buf. */
char *name_format_seconds(double s, char *buf, size_t len);

#endif
