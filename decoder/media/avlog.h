/*
 * decoder/media/avlog — keeps FFmpeg's last error message per thread, so a failure
 * can say why in FFmpeg's own words ("moov atom not found") instead of the
 * generic AVERROR text, and routes FFmpeg's messages to log.h (errors; and
 * warnings with -o verbose).  avlog_install() once, after log_init(), before
 * workers start; the rest is thread-local and lock-free.
 */
#ifndef FRAMEFS_AVLOG_H
#define FRAMEFS_AVLOG_H

#include <stddef.h>

void avlog_install(void);
/* Forget this thread's last message (call before an operation). */
void avlog_clear(void);
/* This thread's last error message since avlog_clear(), or "". */
const char *avlog_last(void);
/* Write "what: detail" into buf: detail is FFmpeg's last message when there
 * is one, else the AVERROR text of averr. */
void avlog_explain(char *buf, size_t len, const char *what, int averr);

#endif
