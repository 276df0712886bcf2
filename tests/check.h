/*
 * Minimal test reporting shared by the C tests. Each check prints
 * "ok - name" or "not ok - name: why"; tests/run.sh adds them up.
 */
#ifndef NST_TEST_CHECK_H
#define NST_TEST_CHECK_H

#include <stdarg.h>
#include <stdio.h>

static int check_failures;

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static int check(int cond, const char *name, const char *fmt, ...)
{
    va_list ap;
    if (cond) {
        printf("ok - %s\n", name);
    } else {
        printf("not ok - %s: ", name);
        va_start(ap, fmt);
        vprintf(fmt, ap);
        va_end(ap);
        printf("\n");
        check_failures++;
    }
    fflush(stdout);
    return cond;
}

/* Exit status of a test program: non-zero when any check failed. */
static inline int check_status(void)
{
    return check_failures ? 1 : 0;
}

#endif
