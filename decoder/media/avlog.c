#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <libavutil/error.h>
#include <libavutil/log.h>

#include "avlog.h"
#include "log.h"

static _Thread_local char last[200];

/* FFmpeg's messages: errors are kept (the last one per thread, for the
 * reason a request failed) and logged; warnings too with -o verbose. */
static void capture(void *avcl, int level, const char *fmt, va_list ap)
{
    char line[200];
    size_t n;

    if (level > (log_verbose() ? AV_LOG_WARNING : AV_LOG_ERROR))
        return;
    vsnprintf(line, sizeof(line), fmt, ap);
    n = strlen(line);
    while (n && (line[n - 1] == '\n' || line[n - 1] == '.' || line[n - 1] == ' '))
        line[--n] = 0;
    if (level <= AV_LOG_ERROR)
        memcpy(last, line, n + 1);
    {
        const AVClass *cls = avcl ? *(const AVClass **)avcl : NULL;
        char tagged[260];

        snprintf(tagged, sizeof(tagged), "[%s] %s", cls ? cls->item_name(avcl) : "lavu", line);
        log_ffmpeg(level <= AV_LOG_ERROR ? LOG_ERR : LOG_WARNING, tagged);
    }
}

void avlog_install(void)
{
    av_log_set_level(log_verbose() ? AV_LOG_WARNING : AV_LOG_ERROR);
    av_log_set_callback(capture);
}

void avlog_clear(void)
{
    last[0] = 0;
}

const char *avlog_last(void)
{
    return last;
}

void avlog_explain(char *buf, size_t len, const char *what, int averr)
{
    if (last[0])
        snprintf(buf, len, "%s: %s", what, last);
    else
        snprintf(buf, len, "%s: %s", what, av_err2str(averr));
}
