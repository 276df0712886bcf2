/* The log plumbing shared by the whole library. */
#include <stdarg.h>
#include <stdio.h>

#include "util/log.h"

void nst_log(const NstLog *log, int level, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (log && log->fn)
        log->fn(log->opaque, level, msg);
    else if (level <= NST_LOG_WARNING)
        fprintf(stderr, "nst: %s\n", msg);
}

void nst_set_error(char *err, size_t err_size, const char *fmt, ...)
{
    va_list ap;

    if (!err || !err_size)
        return;
    va_start(ap, fmt);
    vsnprintf(err, err_size, fmt, ap);
    va_end(ap);
}
