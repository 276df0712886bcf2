/*
 * Faults injected into a real engine on the real device (NST_FAULT,
 * engine/gpu/fault.h), and survived: a driver or device that cannot be
 * created, a device without a compute queue, every device memory
 * allocation of an engine's creation and of its first frame failing in
 * turn (synchronous and pipelined), a frame too large for the device, a
 * device lost at submission and a device that never finishes a frame.
 *
 * Each must give its error code and a message that says what failed, and
 * leave nothing behind: after a failed frame the engine restyles the next
 * one exactly as a fresh engine does and holds the device memory a fresh
 * engine holds; no validation message (NST_VALIDATION=1); and in the
 * sanitizer build LeakSanitizer finds no leak, a Vulkan object left
 * undestroyed included (lavapipe's memory for it stays unreachable).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "frames.h"
#include "photos.h"

#define W 64
#define H 48

typedef struct Log {
    int injected;     /* "injected fault" messages */
    int validation;   /* validation-layer messages */
    char first[512];  /* the first other error */
    char error[512];  /* the last other error */
} Log;

static void on_log(void *opaque, int level, const char *msg)
{
    Log *l = opaque;

    if (level != NST_LOG_ERROR)
        return;
    if (strstr(msg, "injected fault"))
        l->injected++;
    else if (strstr(msg, "Vulkan validation"))
        l->validation++;
    else {
        if (!l->first[0])
            snprintf(l->first, sizeof(l->first), "%s", msg);
        snprintf(l->error, sizeof(l->error), "%s", msg);
    }
}

/* An engine created with NST_FAULT=spec (NULL: none); l is reset. */
static int create(const NstModel *m, const char *spec, Log *l, NstEngine **e)
{
    NstEngineOptions o = { .log = on_log, .log_opaque = l };
    int ret;

    memset(l, 0, sizeof(*l));
    if (spec)
        setenv("NST_FAULT", spec, 1);
    ret = nst_engine_create(m, &o, e);
    unsetenv("NST_FAULT");
    return ret;
}

/* Creation must fail with want and an error message containing words. */
static void create_fails(const NstModel *m, const char *spec, int want, const char *words)
{
    NstEngine *e = NULL;
    char name[128];
    Log l;
    int ret = create(m, spec, &l, &e);

    snprintf(name, sizeof(name), "NST_FAULT=%s: creation fails with %s, saying '%s'",
             spec, nst_strerror(want), words);
    check(ret == want && !e && strstr(l.error, words), name,
          "returned %d (%s), message '%s'", ret, nst_strerror(ret), l.error);
    nst_engine_free(&e);
}

/* One frame through e, synchronously or submitted and received. */
static int run_frame(NstEngine *e, NstFrame *f, int pipelined)
{
    NstFrame *back;
    int ret;

    if (!pipelined)
        return nst_engine_process(e, f, 1.0f);
    if ((ret = nst_engine_submit(e, f, 1.0f)) < 0)
        return ret;
    ret = nst_engine_receive(e, &back);
    return ret < 0 ? ret : back == f ? NST_OK : NST_ERR_INVALID;
}

static int same_pixels(const TestFrame *a, const TestFrame *b)
{
    return tf_max_diff(a, b) == 0;
}

/*
 * Every device memory allocation of creating an engine and restyling a
 * first frame, failed in turn: alloc@1, alloc@2, ... until one is never
 * reached. Each failure must be NST_ERR_NOMEM naming vkAllocateMemory, at
 * creation or at the frame; after a failed frame the same engine must
 * restyle the frame as the fresh engine did, bit for bit, holding as much
 * device memory as it.
 */
static void alloc_sweep(const NstModel *m, const TestFrame *photo, int pipelined)
{
    const char *mode = pipelined ? "pipelined" : "synchronous";
    TestFrame ref, f;
    NstEngine *e = NULL;
    uint64_t ref_mem = 0, mem;
    int at_create = 0, at_frame = 0, bad = 0, k, ret;
    char name[128], spec[32], why[600] = "";
    Log l;

    snprintf(name, sizeof(name), "alloc faults (%s)", mode);
    if ((ret = create(m, NULL, &l, &e)) < 0) {
        check(0, name, "no engine: %s", nst_strerror(ret));
        return;
    }
    nst_engine_set_temporal(e, 0.5f); /* its buffers are allocated too */
    tf_copy(&ref, photo, 0, 0);
    ret = run_frame(e, &ref.f, pipelined);
    nst_engine_memory(e, &ref_mem, NULL);
    nst_engine_free(&e);
    if (ret < 0) {
        check(0, name, "the fault-free frame failed: %s", nst_strerror(ret));
        tf_free(&ref);
        return;
    }

    for (k = 1; k < 1000 && !bad; k++) {
        snprintf(spec, sizeof(spec), "alloc@%d", k);
        ret = create(m, spec, &l, &e);
        if (ret < 0) {
            at_create++;
            if (ret != NST_ERR_NOMEM || l.injected != 1 || !strstr(l.error, "vkAllocateMemory"))
                bad = snprintf(why, sizeof(why), "%s at creation: %s, %d injected, '%s'",
                               spec, nst_strerror(ret), l.injected, l.error);
            continue;
        }
        nst_engine_set_temporal(e, 0.5f);
        tf_copy(&f, photo, 0, 0);
        ret = run_frame(e, &f.f, pipelined);
        if (ret >= 0 && !l.injected) { /* past the last allocation */
            bad = !same_pixels(&f, &ref) &&
                  snprintf(why, sizeof(why), "no fault, yet not the reference frame");
            tf_free(&f);
            nst_engine_free(&e);
            break;
        }
        if (ret != NST_ERR_NOMEM || l.injected != 1 || !strstr(l.error, "vkAllocateMemory")) {
            bad = snprintf(why, sizeof(why), "%s at the frame: %s, %d injected, '%s'",
                           spec, nst_strerror(ret), l.injected, l.error);
        } else if (!same_pixels(&f, photo)) {
            bad = snprintf(why, sizeof(why), "%s: the failed frame's pixels changed", spec);
        } else {
            at_frame++;
            tf_free(&f);
            tf_copy(&f, photo, 0, 0);
            ret = run_frame(e, &f.f, pipelined); /* the fault was one-shot */
            nst_engine_memory(e, &mem, NULL);
            if (ret < 0)
                bad = snprintf(why, sizeof(why), "%s: the frame after the failed one "
                               "failed too: %s", spec, nst_strerror(ret));
            else if (!same_pixels(&f, &ref))
                bad = snprintf(why, sizeof(why), "%s: the frame after the failed one "
                               "differs from a fresh engine's (max diff %d)", spec,
                               tf_max_diff(&f, &ref));
            else if (mem != ref_mem)
                bad = snprintf(why, sizeof(why), "%s: %llu bytes of device memory held "
                               "after recovering, a fresh engine holds %llu", spec,
                               (unsigned long long)mem, (unsigned long long)ref_mem);
        }
        tf_free(&f);
        nst_engine_free(&e);
        if (l.validation)
            bad = snprintf(why, sizeof(why), "%s: %d validation message(s)", spec, l.validation);
    }
    if (!bad && k >= 1000)
        bad = snprintf(why, sizeof(why), "still failing after 1000 allocations");
    check(!bad && at_create > 0 && at_frame > 0, name, "%s (%d failed at creation, %d at "
          "the frame)", why, at_create, at_frame);
    if (!bad)
        printf("# %s: %d allocations, %d at creation, %d at the first frame, each "
               "failed cleanly and recovered from\n", mode, at_create + at_frame,
               at_create, at_frame);
    tf_free(&ref);
}

/*
 * The device lost at frame 3's submission (submit@3) or never finishing
 * it (hang@3): frames 1 and 2 are restyled; frame 3 fails with
 * NST_ERR_DEVICE at once (no wait for a timeout) with its pixels as they
 * were; every later frame is refused as the device is lost; freeing is
 * clean.
 */
static void lost_device(const NstModel *m, const TestFrame *photo, const char *spec,
                        int pipelined, const char *words)
{
    NstEngine *e = NULL;
    TestFrame f[5];
    int ret[5], styled = 1, failed_clean, refused = 1;
    char name[128];
    Log l;

    snprintf(name, sizeof(name), "NST_FAULT=%s (%s)", spec,
             pipelined ? "pipelined" : "synchronous");
    if (create(m, spec, &l, &e) < 0) {
        check(0, name, "no engine: %s", l.error);
        return;
    }
    for (int i = 0; i < 5; i++) {
        tf_copy(&f[i], photo, 0, 0);
        ret[i] = run_frame(e, &f[i].f, pipelined);
    }
    for (int i = 0; i < 2; i++)
        styled &= ret[i] == NST_OK && !same_pixels(&f[i], photo);
    failed_clean = ret[2] == NST_ERR_DEVICE && same_pixels(&f[2], photo) && l.injected == 1;
    for (int i = 3; i < 5; i++)
        refused &= ret[i] == NST_ERR_DEVICE && same_pixels(&f[i], photo);
    check(styled && failed_clean && refused && strstr(l.first, words) &&
          strstr(l.error, "lost"), name,
          "frames returned %d %d %d %d %d (expected 0 0 %d %d %d), %d injected; first "
          "message '%s' (should say '%s'), last '%s' (should say lost)", ret[0], ret[1],
          ret[2], ret[3], ret[4], NST_ERR_DEVICE, NST_ERR_DEVICE, NST_ERR_DEVICE,
          l.injected, l.first, words, l.error);
    nst_engine_free(&e);
    snprintf(name, sizeof(name), "NST_FAULT=%s (%s): freed cleanly", spec,
             pipelined ? "pipelined" : "synchronous");
    check(l.validation == 0, name, "%d validation message(s)", l.validation);
    for (int i = 0; i < 5; i++)
        tf_free(&f[i]);
}

/* A frame whose tensors pass the device's limits, untiled: refused with
 * a message, and the engine restyles the next frame as before. */
static void too_large(const NstModel *m, const TestFrame *photo)
{
    NstEngine *e = NULL;
    TestFrame big, f, ref;
    int ret, ret2;
    Log l;

    if (create(m, NULL, &l, &e) < 0) {
        check(0, "frame too large", "no engine: %s", l.error);
        return;
    }
    tf_copy(&ref, photo, 0, 0);
    nst_engine_process(e, &ref.f, 1.0f);
    nst_engine_set_tiling(e, -1);
    tf_alloc(&big, NST_PIX_RGB24, 16384, 8192, 0, 0);
    ret = nst_engine_process(e, &big.f, 1.0f);
    tf_copy(&f, photo, 0, 0);
    ret2 = nst_engine_process(e, &f.f, 1.0f);
    if (check(ret == NST_ERR_LIMITS || ret == NST_ERR_NOMEM, "frame too large: refused",
              "16384x8192 untiled returned %d (%s)", ret, nst_strerror(ret)))
        printf("# 16384x8192 untiled: %s: %s\n", nst_strerror(ret), l.error);
    check(ret2 == NST_OK && same_pixels(&f, &ref), "frame too large: the next frame",
          "returned %d, max diff %d from before", ret2, tf_max_diff(&f, &ref));
    nst_engine_free(&e);
    check(l.validation == 0, "frame too large: no validation message", "%d", l.validation);
    tf_free(&big);
    tf_free(&f);
    tf_free(&ref);
}

int main(void)
{
    NstModel *m;
    TestFrame photo;

    if (open_case("faults", "udnie", "chelsea.png", W, H, &m, &photo) < 0)
        return check_status();

    /* NST_FAULT itself: a bad spec is refused, naming the bad part */
    create_fails(m, "bogus", NST_ERR_INVALID, "bogus");
    create_fails(m, "alloc@0", NST_ERR_INVALID, "alloc@0");
    create_fails(m, "alloc@x", NST_ERR_INVALID, "alloc@x");
    create_fails(m, "alloc@2++", NST_ERR_INVALID, "alloc@2++");

    /* no driver, a device that cannot be created, no compute queue */
    create_fails(m, "instance", NST_ERR_DEVICE, "no Vulkan driver");
    create_fails(m, "device", NST_ERR_DEVICE, "vkCreateDevice");
    create_fails(m, "compute", NST_ERR_DEVICE, "compute queue");
    create_fails(m, "alloc@1+", NST_ERR_NOMEM, "vkAllocateMemory");

    alloc_sweep(m, &photo, 0);
    alloc_sweep(m, &photo, 1);
    too_large(m, &photo);

    lost_device(m, &photo, "submit@3", 0, "vkQueueSubmit");
    lost_device(m, &photo, "submit@3", 1, "vkQueueSubmit");
    lost_device(m, &photo, "hang@3", 0, "did not finish");
    lost_device(m, &photo, "hang@3", 1, "did not finish");

    tf_free(&photo);
    nst_model_free(&m);
    return check_status();
}
