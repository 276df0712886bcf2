/*
 * What the engine reports about itself and how it is configured: the
 * per-dispatch timings (nst_engine_set_profiling, nst_engine_profile), the
 * device memory it holds (nst_engine_memory), and the choice of storage
 * precision (NstEngineOptions.precision, NST_PRECISION).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "frames.h"
#include "model_builder.h"

static void profiling(NstModel *m)
{
    NstEngine *e = NULL;
    NstProfileEntry ent[64];
    TestFrame f;
    uint64_t held = 0, peak = 0, held2 = 0;
    int n = -1, ret, named = 1, layers = 1, convs = 0;
    double total = 0;

    if ((ret = nst_engine_create(m, NULL, &e)) < 0) {
        check(0, "profiling: engine", "%s", nst_strerror(ret));
        return;
    }
    tf_alloc(&f, NST_PIX_RGB24, 37, 21, 0, 0);
    memset(f.f.data[0], 90, (size_t)37 * 21 * 3);
    check(nst_engine_profile(e, ent, 64) == 0, "no timings before profiling is on",
          "got some");
    ret = nst_engine_set_profiling(e, 1);
    if (ret >= 0)
        ret = nst_engine_process(e, &f.f, 1.0f);
    if (ret >= 0)
        n = nst_engine_profile(e, ent, 64);
    for (int i = 0; i < n && i < 64; i++) {
        total += ent[i].ms;
        named &= ent[i].name[0] != 0 && ent[i].ms >= 0;
        layers &= ent[i].layer >= -1 && ent[i].layer < 4;
        convs += !strcmp(ent[i].name, "conv") || !strcmp(ent[i].name, "conv_transpose");
    }
    /* the small model: conv, IN (+ReLU, applied in the next conv's reads),
     * transposed conv; plus the frame's conversions in and out */
    check(n >= 5 && n <= 64 && named && layers && convs == 2 && total > 0,
          "one frame's dispatches are timed, named and tied to their layers",
          "%d entries (%s), %d convs, %.3f ms in all", n, nst_strerror(ret), convs, total);
    check(nst_engine_profile(e, NULL, 0) == n, "the count alone, without entries",
          "%d", nst_engine_profile(e, NULL, 0));
    check(nst_engine_profile(e, NULL, 3) == NST_ERR_INVALID && nst_engine_profile(NULL, ent, 1) ==
          NST_ERR_INVALID, "no entries to fill, or no engine, is refused", "accepted");

    nst_engine_memory(e, &held, &peak);
    check(held > (uint64_t)37 * 21 * 16 && peak >= held, "device memory held and its peak",
          "held %llu, peak %llu", (unsigned long long)held, (unsigned long long)peak);
    tf_free(&f);
    tf_alloc(&f, NST_PIX_RGB24, 5, 3, 0, 0);
    memset(f.f.data[0], 90, 15);
    ret = nst_engine_set_profiling(e, 0);
    if (ret >= 0)
        ret = nst_engine_process(e, &f.f, 1.0f);
    nst_engine_memory(e, &held2, NULL);
    check(ret >= 0 && held2 < held && nst_engine_profile(e, ent, 64) == 0,
          "a smaller frame holds less; profiling off reports nothing",
          "%s, held %llu then %llu", nst_strerror(ret), (unsigned long long)held,
          (unsigned long long)held2);
    tf_free(&f);
    nst_engine_free(&e);
}

static void precision(NstModel *m)
{
    NstEngineOptions opt = { .precision = 7 };
    NstEngine *e = NULL;
    int ret;

    ret = nst_engine_create(m, &opt, &e);
    check(ret == NST_ERR_INVALID && !e, "precision 7 is refused", "%s", nst_strerror(ret));
    nst_engine_free(&e);

    /* lavapipe is a CPU device: auto is fp32 there; fp16 when asked */
    opt.precision = NST_PRECISION_AUTO;
    if ((ret = nst_engine_create(m, &opt, &e)) >= 0)
        check(nst_engine_precision(e) == NST_PRECISION_FP32, "auto keeps fp32 on a CPU device",
              "chose %d on %s", nst_engine_precision(e), nst_engine_device_name(e));
    nst_engine_free(&e);
    opt.precision = NST_PRECISION_FP16;
    ret = nst_engine_create(m, &opt, &e);
    check(ret >= 0 && nst_engine_precision(e) == NST_PRECISION_FP16, "fp16 when asked for",
          "%s", nst_strerror(ret));
    nst_engine_free(&e);

    /* lavapipe has shaderFloat16: fp16 multiplies when asked, never by itself */
    opt.precision = NST_PRECISION_FP16_ARITH;
    ret = nst_engine_create(m, &opt, &e);
    check(ret >= 0 && nst_engine_precision(e) == NST_PRECISION_FP16_ARITH,
          "fp16 multiplies when asked for", "%s", nst_strerror(ret));
    nst_engine_free(&e);
    setenv("NST_PRECISION", "fp16a", 1);
    opt.precision = NST_PRECISION_AUTO;
    ret = nst_engine_create(m, &opt, &e);
    check(ret >= 0 && nst_engine_precision(e) == NST_PRECISION_FP16_ARITH,
          "NST_PRECISION=fp16a overrides auto", "%s", nst_strerror(ret));
    nst_engine_free(&e);

    setenv("NST_PRECISION", "fp16", 1);
    opt.precision = NST_PRECISION_AUTO;
    ret = nst_engine_create(m, &opt, &e);
    check(ret >= 0 && nst_engine_precision(e) == NST_PRECISION_FP16,
          "NST_PRECISION=fp16 overrides auto", "%s", nst_strerror(ret));
    nst_engine_free(&e);
    opt.precision = NST_PRECISION_FP32;
    ret = nst_engine_create(m, &opt, &e);
    check(ret >= 0 && nst_engine_precision(e) == NST_PRECISION_FP32,
          "but not an explicit fp32", "%s", nst_strerror(ret));
    nst_engine_free(&e);
    setenv("NST_PRECISION", "fp8", 1);
    opt.precision = NST_PRECISION_AUTO;
    ret = nst_engine_create(m, &opt, &e);
    check(ret == NST_ERR_INVALID && !e, "NST_PRECISION=fp8 is refused", "%s",
          nst_strerror(ret));
    nst_engine_free(&e);
    unsetenv("NST_PRECISION");
}

int main(void)
{
    NstModel *m = mb_small_model_norm(21, 1);

    if (!m) {
        check(0, "small model loads", "rejected");
        return check_status();
    }
    unsetenv("NST_PRECISION"); /* the tests choose */
    profiling(m);
    precision(m);
    nst_model_free(&m);
    return check_status();
}
