#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <libavutil/error.h>
#include <libavutil/log.h>

#include "avlog.h"

static _Thread_local char last[200];

static void capture(void *avcl, int level, const char *fmt, va_list ap)
{
    size_t n;

    (void)avcl;
    if (level > AV_LOG_ERROR)
        return;
    vsnprintf(last, sizeof(last), fmt, ap);
    n = strlen(last);
    while (n && (last[n - 1] == '\n' || last[n - 1] == '.' || last[n - 1] == ' '))
        last[--n] = 0;
}

void avlog_install(void)
{
    av_log_set_level(AV_LOG_ERROR);
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
