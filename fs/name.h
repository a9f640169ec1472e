/*
 * fs/name — pure parsers for frame file names and option values.
 * No allocation, no global state, thread-safe; unit-tested in tests/unit.
 *
 * Grammar (SPEC "Frame names"):
 *   name   := param ( "," param )* "." ext
 *   param  := key "=" value          key in { t, tol, before, after }
 *   ext    := "png"
 *   t      := seconds | clock           (required, at most once)
 *   seconds:= digits [ "." digits ] | "." digits      (no sign, no exponent)
 *   clock  := [HH ":"] MM ":" SS [ "." frac ]          (ffmpeg's syntax: MM,SS < 60
 *             when preceded by a larger field; HH any number of digits)
 *   tol, before, after := seconds | "inf"              (each at most once)
 * Anything else (unknown key, repeated key, empty value, sign, exponent, nan,
 * whitespace, unknown extension, a value out of double range) is invalid.
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

#include "../decoder/decoder.h"

/* Parse a frame file name.  Tolerances the name does not give default to
 * default_tol (seconds, >= 0, may be INFINITY); `before`/`after` override
 * `tol` on their side.  Returns 0 and fills *out (fields the name cannot set
 * are zeroed), or -1 when the name is invalid. */
int name_parse_frame(const char *name, double default_tol, struct frame_request *out);

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
