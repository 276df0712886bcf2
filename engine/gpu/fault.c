/* Injected faults (NST_FAULT): parsing and counting. */
#include <stdlib.h>
#include <string.h>

#include "gpu/fault.h"

static const char *const point_names[NST_FAULT_NB] = {
    [NST_FAULT_INSTANCE] = "instance",
    [NST_FAULT_DEVICE]   = "device",
    [NST_FAULT_COMPUTE]  = "compute",
    [NST_FAULT_ALLOC]    = "alloc",
    [NST_FAULT_SUBMIT]   = "submit",
    [NST_FAULT_HANG]     = "hang",
};

/* One POINT[@N[+]] of len bytes at s. */
static int parse_one(NstFaults *f, const char *s, size_t len, const NstLog *log)
{
    size_t name_len = len;
    const char *at = memchr(s, '@', len);
    unsigned long long n = 1;
    int onward = 0, p;

    if (at) {
        const char *end = s + len, *d = at + 1;
        name_len = (size_t)(at - s);
        n = 0;
        for (; d < end && *d >= '0' && *d <= '9'; d++) {
            if (n > (~0ull - 9) / 10)
                break; /* too long: reported below */
            n = n * 10 + (unsigned)(*d - '0');
        }
        if (d < end && *d == '+') {
            onward = 1;
            d++;
        }
        if (d != end || d == at + 1 || n == 0) {
            nst_log(log, NST_LOG_ERROR, "NST_FAULT: '%.*s': give POINT@N or POINT@N+ "
                    "with N from 1", (int)len, s);
            return NST_ERR_INVALID;
        }
    }
    for (p = 0; p < NST_FAULT_NB; p++)
        if (strlen(point_names[p]) == name_len && !strncmp(s, point_names[p], name_len))
            break;
    if (p == NST_FAULT_NB) {
        nst_log(log, NST_LOG_ERROR, "NST_FAULT: no fault point '%.*s' (instance, "
                "device, compute, alloc, submit, hang)", (int)name_len, s);
        return NST_ERR_INVALID;
    }
    f->at[p] = n;
    f->onward[p] = (unsigned char)onward;
    f->any = 1;
    return NST_OK;
}

int nst_faults_init(NstFaults *f, const char *spec, const NstLog *log)
{
    memset(f, 0, sizeof(*f));
    while (spec && *spec) {
        size_t len = strcspn(spec, ",");
        int ret = parse_one(f, spec, len, log);
        if (ret < 0) {
            memset(f, 0, sizeof(*f));
            return ret;
        }
        spec += len + (spec[len] == ',');
    }
    if (f->any)
        nst_log(log, NST_LOG_WARNING, "NST_FAULT is set: faults will be injected");
    return NST_OK;
}

int nst_fault(NstFaults *f, NstFaultPoint point, const NstLog *log)
{
    unsigned long long n;

    if (!f->any)
        return 0;
    n = ++f->seen[point];
    if (!f->at[point] || n < f->at[point] || (n > f->at[point] && !f->onward[point]))
        return 0;
    nst_log(log, NST_LOG_ERROR, "injected fault: %s #%llu (NST_FAULT)",
            point_names[point], n);
    return 1;
}
