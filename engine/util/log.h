/* Logging inside libnst: one callback per engine, set by the caller. */
#ifndef NST_LOG_H
#define NST_LOG_H

#include "nst.h"

typedef struct NstLog {
    NstLogFn fn;
    void *opaque;
} NstLog;

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
void nst_log(const NstLog *log, int level, const char *fmt, ...);

/* snprintf into a caller's error buffer, which may be NULL. */
#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
void nst_set_error(char *err, size_t err_size, const char *fmt, ...);

#endif
