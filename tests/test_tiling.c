/*
 * Tiling (nst_engine_set_tiling): the largest tensors kept a band of rows
 * at a time, Winograd's scratch a band of tiles at a time, while the
 * instance norms still take their statistics over the whole frame. Tiled
 * outputs must agree with whole-frame ones (PSNR >= 45 dB; in practice
 * they differ by the order of float sums) on real photos and real models,
 * for bands of any height, and must hold less device memory.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "frames.h"
#include "model_builder.h"
#include "photos.h"
#include "ref/ref_frame.h"

/* Counts the engine's "kept in bands" messages: the plan did tile. */
static void count_tiled(void *opaque, int level, const char *msg)
{
    if (strstr(msg, "kept in bands"))
        (*(int *)opaque)++;
}

/* Processes a copy of `in` with the given tiling; the engine's memory
 * after it in *held and whether the plan tiled in *tiled. */
static int run_tiled(const NstModel *m, const TestFrame *in, int rows, TestFrame *out,
                     uint64_t *held, int *tiled, unsigned *messages)
{
    NstEngineOptions opt = { .log = count_tiled, .log_opaque = tiled,
                             .precision = NST_PRECISION_FP32 };
    NstEngine *e = NULL;
    int ret;

    *tiled = 0;
    tf_copy(out, in, 0, 0);
    if ((ret = nst_engine_create(m, &opt, &e)) < 0)
        return ret;
    if ((ret = nst_engine_set_tiling(e, rows)) >= 0)
        ret = nst_engine_process(e, &out->f, 1.0f);
    nst_engine_memory(e, held, NULL);
    *messages = nst_engine_validation_messages(e);
    nst_engine_free(&e);
    return ret;
}

/* One model and frame, whole against bands of each height in rows[]. */
static void tiling_cases(const char *what, const NstModel *m, const TestFrame *in,
                         const int *rows, int n_rows)
{
    TestFrame whole, tiled;
    uint64_t held_whole, held_tiled;
    unsigned msgs;
    int was_tiled, ret;
    char name[256];

    snprintf(name, sizeof(name), "%s: whole frame", what);
    ret = run_tiled(m, in, -1, &whole, &held_whole, &was_tiled, &msgs);
    if (!check(ret == NST_OK && !was_tiled && !msgs, name, "%s, tiled %d, %u validation "
               "messages", nst_strerror(ret), was_tiled, msgs)) {
        tf_free(&whole);
        return;
    }
    for (int i = 0; i < n_rows; i++) {
        snprintf(name, sizeof(name), "%s: bands of %d rows", what, rows[i]);
        ret = run_tiled(m, in, rows[i], &tiled, &held_tiled, &was_tiled, &msgs);
        if (ret < 0) {
            check(0, name, "%s", nst_strerror(ret));
        } else {
            double psnr = tf_psnr(&tiled, &whole);
            int diff = tf_max_diff(&tiled, &whole);
            printf("# %s: PSNR %.2f dB vs whole, max diff %d, %.1f MiB held vs %.1f\n",
                   name, psnr, diff, held_tiled / 1048576.0, held_whole / 1048576.0);
            /* one band when it is taller than the frame: no memory saved */
            int less = rows[i] >= in->f.height ? held_tiled <= held_whole
                                                : held_tiled < held_whole;
            check(psnr >= 45.0 && diff <= 2 && was_tiled && less && !msgs,
                  name, "PSNR %.2f dB (>= 45), max diff %d (<= 2), tiled %d, %.1f MiB "
                  "held (less than %.1f whole), %u validation messages", psnr, diff, was_tiled,
                  held_tiled / 1048576.0, held_whole / 1048576.0, msgs);
        }
        tf_free(&tiled);
    }
    tf_free(&whole);
}

/* Bands of `rows` rows against the C reference. */
static void reference_case(const char *name, const NstModel *m, const TestFrame *in, int rows)
{
    TestFrame tiled, ref;
    uint64_t held;
    unsigned msgs;
    int was_tiled, ret;

    tf_copy(&ref, in, 0, 0);
    ret = run_tiled(m, in, rows, &tiled, &held, &was_tiled, &msgs);
    if (ret >= 0)
        ret = nst_ref_process(m, &ref.f, 1.0f);
    if (ret < 0) {
        check(0, name, "%s", nst_strerror(ret));
    } else {
        double psnr = tf_psnr(&tiled, &ref);
        printf("# %s: PSNR %.2f dB\n", name, psnr);
        check(psnr >= 45.0 && was_tiled, name, "PSNR %.2f dB (>= 45), tiled %d", psnr,
              was_tiled);
    }
    tf_free(&tiled);
    tf_free(&ref);
}

/* A real network on a real photo, and against the C reference once tiled. */
static void real_model_case(const char *style, const char *photo, int w, int h)
{
    static const int rows[] = { 1, 7, 16, 45, 1000 };
    char name[256];
    NstModel *m;
    TestFrame in;

    snprintf(name, sizeof(name), "%s on %s %dx%d", style, photo, w, h);
    if (open_case(name, style, photo, w, h, &m, &in) < 0)
        return;
    tiling_cases(name, m, &in, rows, (int)(sizeof(rows) / sizeof(rows[0])));

    snprintf(name, sizeof(name), "%s on %s %dx%d: bands of 13 rows vs the C reference",
             style, photo, w, h);
    reference_case(name, m, &in, 13);
    tf_free(&in);
    nst_model_free(&m);
}

/* The other shapes a band meets: mirrored padding at the frame's edges
 * (a 9x9 kernel reaches 4 rows past them), transposed convs as the banded
 * conv, odd sizes, and a Winograd conv between; every conv with a bias. */
static void reflect_model_case(void)
{
    static const int rows[] = { 1, 5, 9, 16 };
    ModelBuilder b = { .seed = 7 };
    TestFrame in;
    NstModel *m;
    int x;
    const char *name = "reflect-padded model 61x37: bands of 5 rows vs the C reference";

    x = mb_conv(&b, -1, 3, 16, 9, 1, NST_PAD_REFLECT, 1);
    x = mb_simple(&b, 5, mb_norm(&b, x, 16, 1e-5f), -1, 16, 0);
    x = mb_conv(&b, x, 16, 32, 3, 2, NST_PAD_REFLECT, 1);
    x = mb_simple(&b, 5, mb_norm(&b, x, 32, 1e-5f), -1, 32, 0);
    x = mb_conv(&b, x, 32, 32, 3, 1, NST_PAD_REFLECT, 1);
    x = mb_simple(&b, 5, mb_norm(&b, x, 32, 1e-5f), -1, 32, 0);
    x = mb_conv_transpose(&b, x, 32, 16, 3, 2);
    x = mb_simple(&b, 5, mb_norm(&b, x, 16, 1e-5f), -1, 16, 0);
    x = mb_conv(&b, x, 16, 3, 9, 1, NST_PAD_REFLECT, 1);
    mb_output(&b, x, 1, 150.0f, 127.5f, 0.0f, 255.0f);
    if (!(m = mb_load(&b))) {
        check(0, "reflect-padded model loads", "rejected");
        return;
    }
    tf_alloc(&in, NST_PIX_RGB24, 61, 37, 0, 0);
    tf_fill_random(&in, 3);
    tiling_cases("reflect-padded model 61x37", m, &in, rows,
                 (int)(sizeof(rows) / sizeof(rows[0])));

    reference_case(name, m, &in, 5);
    tf_free(&in);
    nst_model_free(&m);
}

#ifndef __SANITIZE_ADDRESS__
/* 3840x2160 tiles by itself on lavapipe (its whole-frame plan, 1.9 GiB in
 * fp32, is past half of the device's 2 GiB heap) and is restyled. */
static void big_frame_case(const char *style, const char *photo)
{
    char name[256];
    NstModel *m;
    NstEngine *e = NULL;
    NstEngineOptions opt = { .precision = NST_PRECISION_FP32 };
    TestFrame in, gpu;
    uint64_t held;
    int tiled = 0, ret;

    snprintf(name, sizeof(name), "%s on %s 3840x2160, tiled where needed", style, photo);
    if (open_case(name, style, photo, 3840, 2160, &m, &in) < 0)
        return;
    tf_copy(&gpu, &in, 0, 0);
    opt.log = count_tiled;
    opt.log_opaque = &tiled;
    if ((ret = nst_engine_create(m, &opt, &e)) < 0) {
        check(0, name, "engine: %s", nst_strerror(ret));
    } else {
        ret = nst_engine_process(e, &gpu.f, 1.0f);
        nst_engine_memory(e, &held, NULL);
        double restyled = tf_psnr(&gpu, &in);
        printf("# %s: %s, %.1f MiB held, %.2f dB from the input\n", name,
               nst_strerror(ret), held / 1048576.0, restyled);
        check(ret == NST_OK && (tiled || !strstr(nst_engine_device_name(e), "llvmpipe")) &&
              restyled < 25.0 && !nst_engine_validation_messages(e), name,
              "%s, tiled %d, %.2f dB from the input, %u validation messages",
              nst_strerror(ret), tiled, restyled, nst_engine_validation_messages(e));
    }
    nst_engine_free(&e);
    nst_model_free(&m);
    tf_free(&in);
    tf_free(&gpu);
}
#endif

static void bad_request_case(void)
{
    NstModel *m;
    NstEngine *e;
    int bad[3];

    if (mb_small_engine(1, &m, &e) < 0)
        return;
    bad[0] = nst_engine_set_tiling(e, -2);
    bad[1] = nst_engine_set_tiling(e, 32769);
    bad[2] = nst_engine_set_tiling(NULL, 8);
    check(bad[0] == NST_ERR_INVALID && bad[1] == NST_ERR_INVALID &&
          bad[2] == NST_ERR_INVALID && nst_engine_set_tiling(e, 0) == NST_OK,
          "tiling requests out of range are refused", "%d %d %d", bad[0], bad[1], bad[2]);
    nst_engine_free(&e);
    nst_model_free(&m);
}

int main(void)
{
    bad_request_case();
    reflect_model_case();
    real_model_case("udnie", "chelsea.png", 203, 135);
    real_model_case("wave", "rocket.jpg", 320, 180);
#ifndef __SANITIZE_ADDRESS__ /* a minute of device time; the same host code as above */
    big_frame_case("la_muse", "forensics_IMG_1054.jpg");
#endif
    return check_status();
}
