/* decoder/media/log — see log.h. */
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static atomic_int to_syslog, verbose, silent;
static atomic_long ffmpeg_second, ffmpeg_count, ffmpeg_dropped;

static const char *level_name(int level)
{
    switch (level) {
    case LOG_ERR:
        return "error";
    case LOG_WARNING:
        return "warning";
    case LOG_INFO:
        return "info";
    default:
        return "debug";
    }
}

void log_init(int use_syslog, int v)
{
    atomic_store(&verbose, v);
    if (use_syslog)
        log_to_syslog();
}

void log_silence(void)
{
    atomic_store(&silent, 1);
}

void log_to_syslog(void)
{
    /* LOG_NDELAY: connect now, while this thread may still open sockets. */
    openlog("framefs", LOG_PID | LOG_NDELAY, LOG_DAEMON);
    atomic_store(&to_syslog, 1);
}

int log_verbose(void)
{
    return atomic_load(&verbose);
}

double log_clock_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void emit(int level, const char *text)
{
    char line[1200];
    int n;

    if (atomic_load(&silent))
        return;
    if (atomic_load(&to_syslog)) {
        syslog(level, "%s", text);
        return;
    }
    n = snprintf(line, sizeof(line), "framefs: %s: %s\n", level_name(level), text);
    if (n > (int)sizeof(line) - 1) {
        n = (int)sizeof(line) - 1;
        line[n - 1] = '\n';
    }
    /* One write per line: lines of several threads never interleave. */
    if (write(STDERR_FILENO, line, (size_t)n) < 0)
        return;
}

void log_msg(int level, const char *fmt, ...)
{
    char text[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    emit(level, text);
}

void log_ffmpeg(int level, const char *line)
{
    long now = (long)time(NULL), dropped;

    if (atomic_exchange(&ffmpeg_second, now) != now) {
        atomic_store(&ffmpeg_count, 0);
        if ((dropped = atomic_exchange(&ffmpeg_dropped, 0)) > 0)
            log_msg(LOG_WARNING, "ffmpeg: %ld more messages in the last second not shown",
                    dropped);
    }
    if (atomic_fetch_add(&ffmpeg_count, 1) >= LOG_FFMPEG_PER_SEC) {
        atomic_fetch_add(&ffmpeg_dropped, 1);
        return;
    }
    log_msg(level, "ffmpeg: %s", line);
}
