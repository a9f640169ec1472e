/*
 * decoder/media/log — where framefs's messages go: stderr in the foreground,
 * syslog (LOG_DAEMON, tagged "framefs") once daemonized.  One line per
 * message, written in one call, so lines from several threads never mix.
 * FFmpeg's own messages come here too (avlog.c), with their level, at most
 * LOG_FFMPEG_PER_SEC a second (a broken stream can print thousands).
 *
 * log_init() once, before any thread starts (it opens the syslog socket
 * then, so sandboxed workers never need to open one); log_msg() from any
 * thread, never blocks for long (a local write or syslog send).
 */
#ifndef FRAMEFS_LOG_H
#define FRAMEFS_LOG_H

#include <syslog.h>

#define LOG_FFMPEG_PER_SEC 20

/* use_syslog: 0 stderr, 1 syslog.  verbose: log_verbose() says so. */
void log_init(int use_syslog, int verbose);
/* Drop every message from now on (the fuzzers: FFmpeg's errors are what
 * they feed it). */
void log_silence(void);
/* Switch to syslog (after daemonizing); the rest as log_init() set it. */
void log_to_syslog(void);
/* level: LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG. */
void log_msg(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* An FFmpeg message (rate-limited); `line` needs no newline. */
void log_ffmpeg(int level, const char *line);
/* -o verbose: log every produced frame with its timings. */
int log_verbose(void);
/* A monotonic clock in milliseconds, for those timings. */
double log_clock_ms(void);

#endif
