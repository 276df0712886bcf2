/* Error strings and the log plumbing shared by the whole library. */
#include <stdarg.h>
#include <stdio.h>

#include "log.h"

const char *nst_strerror(int err)
{
    switch (err) {
    case NST_OK:              return "success";
    case NST_ERR_INVALID:     return "invalid argument";
    case NST_ERR_IO:          return "cannot read file";
    case NST_ERR_FORMAT:      return "malformed model file";
    case NST_ERR_UNSUPPORTED: return "unsupported model";
    case NST_ERR_NOMEM:       return "out of memory";
    case NST_ERR_DEVICE:      return "Vulkan device error";
    case NST_ERR_LIMITS:      return "frame exceeds the device's limits";
    case NST_ERR_AGAIN:       return "try again after receiving or submitting a frame";
    }
    return "unknown error";
}

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
