/*
 * The network below the frame's size (nst_engine_set_network_size and
 * _scale): the engine against the C reference (engine/ref/ref_resize.c) on
 * random frames through a small model, in every pixel format and down to a
 * 1x1 network, and on real photos with real models; the guided upsampling
 * against bilinear upsampling: as close to the full-size network's output,
 * with more detail; the size's checks, clamping and the temporal smoothing
 * on top of it.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "frames.h"
#include "model_builder.h"
#include "photos.h"
#include "ref/ref_frame.h"
#include "ref/ref_resize.h"
#include "frame/resize.h"

/* Network size for the engine: scale when nonzero, else w x h. */
static int set_size(NstEngine *e, int w, int h, float scale)
{
    return scale > 0.0f ? nst_engine_set_network_scale(e, scale)
                        : nst_engine_set_network_size(e, w, h);
}

/* src through the engine at network size net_w x net_h (or scale) and
 * through the reference at ref_w x ref_h: the largest byte difference and
 * the PSNR between them, or a failed check. */
static int compare(const char *name, NstEngine *e, const NstModel *m, const TestFrame *src,
                   int net_w, int net_h, float scale, int ref_w, int ref_h, float strength,
                   int *diff, double *psnr, TestFrame *gpu)
{
    TestFrame ref;
    int ret;

    tf_copy(gpu, src, 3, 0);
    tf_copy(&ref, src, 0, 0);
    if ((ret = set_size(e, net_w, net_h, scale)) < 0 ||
        (ret = nst_engine_process(e, &gpu->f, strength)) < 0) {
        check(0, name, "engine: %s", nst_strerror(ret));
    } else if ((ret = nst_ref_process_sized(m, &ref.f, strength, ref_w, ref_h)) < 0) {
        check(0, name, "reference: %s", nst_strerror(ret));
    } else {
        *diff = tf_max_diff(gpu, &ref);
        *psnr = tf_psnr(gpu, &ref);
    }
    tf_free(&ref);
    if (ret < 0)
        tf_free(gpu);
    return ret;
}

/* The small model on a random frame: every op at once, odd ratios. */
static void small_case(NstEngine *e, const NstModel *m, NstPixelFormat fmt, int w, int h,
                       int net_w, int net_h, float scale, int ref_w, int ref_h, float strength)
{
    TestFrame src, gpu;
    char name[160];
    double psnr;
    int diff;

    snprintf(name, sizeof(name), "%s %dx%d, network %dx%d%s, strength %.2f", pix_names[fmt],
             w, h, ref_w, ref_h, scale > 0.0f ? " (by scale)" : "", strength);
    tf_alloc(&src, fmt, w, h, 0, 0);
    tf_fill_random(&src, (unsigned)(w * 613 + h * 7 + fmt));
    if (compare(name, e, m, &src, net_w, net_h, scale, ref_w, ref_h, strength, &diff,
                &psnr, &gpu) >= 0) {
        /* 1: float sums may round a .5 the other way */
        check(diff <= 1 && tf_padding_intact(&gpu, 3) && !nst_engine_validation_messages(e),
              name, "max byte difference %d (PSNR %.1f dB), padding %s, %u validation "
              "messages", diff, psnr, tf_padding_intact(&gpu, 3) ? "intact" : "overwritten",
              nst_engine_validation_messages(e));
        tf_free(&gpu);
    }
    tf_free(&src);
}

/* A real model on a photo, as test_network does at full size. */
static void photo_case(const char *style, const char *photo, int w, int h, int net_w,
                       int net_h, float scale, int ref_w, int ref_h)
{
    char name[256];
    NstModel *m;
    NstEngine *e = NULL;
    TestFrame in, gpu;
    double psnr;
    int diff, ret;

    snprintf(name, sizeof(name), "%s on %s %dx%d, network %dx%d", style, photo, w, h,
             ref_w, ref_h);
    if (open_case(name, style, photo, w, h, &m, &in) < 0)
        return;
    if ((ret = nst_engine_create(m, NULL, &e)) < 0) {
        check(0, name, "engine: %s", nst_strerror(ret));
    } else if (compare(name, e, m, &in, net_w, net_h, scale, ref_w, ref_h, 1.0f, &diff,
                       &psnr, &gpu) >= 0) {
        double restyled = tf_psnr(&gpu, &in);
        printf("# %s: PSNR %.2f dB vs reference, max diff %d, PSNR %.2f dB vs input\n",
               name, psnr, diff, restyled);
        check(psnr >= 45.0 && diff <= 2 && restyled < 25.0 &&
              !nst_engine_validation_messages(e), name,
              "PSNR %.2f dB (>= 45), max diff %d (<= 2), %.2f dB from the input "
              "(< 25: restyled at all), %u validation messages", psnr, diff, restyled,
              nst_engine_validation_messages(e));
        tf_free(&gpu);
    }
    nst_engine_free(&e);
    nst_model_free(&m);
    tf_free(&in);
}

/* The baseline: the reference network at w x h, its output upsampled
 * bilinearly (pixel centres aligned as the guided filter aligns them). */
static int bilinear_baseline(const NstModel *m, const TestFrame *src, int w, int h,
                             TestFrame *out)
{
    NstTensor in = { 0 }, small = { 0 }, y = { 0 }, p = { 0 }, up = { 0 };
    int W = src->f.width, H = src->f.height, ret;

    tf_copy(out, src, 0, 0);
    if ((ret = nst_ref_frame_to_tensor(m, &src->f, &in)) < 0 ||
        (ret = nst_ref_downscale(&in, w, h, &small)) < 0 ||
        (ret = nst_ref_forward(m, &small, &y)) < 0 ||
        (ret = nst_ref_layer(&m->layers[m->n_layers - 1], &y, NULL, &p)) < 0 ||
        (ret = nst_tensor_alloc(&up, 3, H, W)) < 0)
        goto end;
    for (int c = 0; c < 3; c++)
        for (int j = 0; j < H; j++)
            for (int i = 0; i < W; i++) {
                double ux = fmin(fmax((i + 0.5) * w / W - 0.5, 0), w - 1);
                double uy = fmin(fmax((j + 0.5) * h / H - 0.5, 0), h - 1);
                int x0 = (int)ux, y0 = (int)uy;
                int x1 = x0 + 1 < w ? x0 + 1 : x0, y1 = y0 + 1 < h ? y0 + 1 : y0;
                double tx = ux - x0, ty = uy - y0;
                const float *q = p.data + (size_t)c * p.h * p.w;
                up.data[((size_t)c * H + j) * W + i] = (float)(
                    (q[y0 * p.w + x0] * (1 - tx) + q[y0 * p.w + x1] * tx) * (1 - ty) +
                    (q[y1 * p.w + x0] * (1 - tx) + q[y1 * p.w + x1] * tx) * ty);
            }
    nst_ref_pixels_to_frame(m, &up, &out->f, 1.0f);
end:
    nst_tensor_free(&in);
    nst_tensor_free(&small);
    nst_tensor_free(&y);
    nst_tensor_free(&p);
    nst_tensor_free(&up);
    if (ret < 0)
        tf_free(out);
    return ret;
}

/* RMS of the differences between horizontal and vertical neighbours: how
 * much texture and edge a frame has. */
static double texture(const TestFrame *t)
{
    double se = 0;
    size_t n = 0;

    for (int y = 0; y < t->f.height; y++)
        for (int x = 0; x < 3 * t->f.width; x++) {
            int v = tf_row(t, 0, y)[x];
            if (x >= 3) {
                se += (double)(v - tf_row(t, 0, y)[x - 3]) * (v - tf_row(t, 0, y)[x - 3]);
                n++;
            }
            if (y >= 1) {
                se += (double)(v - tf_row(t, 0, y - 1)[x]) * (v - tf_row(t, 0, y - 1)[x]);
                n++;
            }
        }
    return n ? sqrt(se / n) : 0;
}

/* What the guided upsampling is for: at half size, it keeps what bilinear
 * upsampling keeps of the network's output (as close to the full-size
 * output) and adds the frame's detail (more texture). */
static void quality_case(const char *style, const char *photo, int w, int h)
{
    char name[256];
    NstModel *m;
    NstEngine *e = NULL;
    TestFrame in, full, guided, bilinear;
    int ret;

    snprintf(name, sizeof(name), "%s on %s %dx%d at half size: guided adds detail to "
             "bilinear", style, photo, w, h);
    if (open_case(name, style, photo, w, h, &m, &in) < 0)
        return;
    tf_copy(&full, &in, 0, 0);
    tf_copy(&guided, &in, 0, 0);
    if ((ret = nst_engine_create(m, NULL, &e)) < 0 ||
        (ret = nst_engine_process(e, &full.f, 1.0f)) < 0 ||
        (ret = nst_engine_set_network_scale(e, 0.5f)) < 0 ||
        (ret = nst_engine_process(e, &guided.f, 1.0f)) < 0) {
        check(0, name, "engine: %s", nst_strerror(ret));
    } else if ((ret = bilinear_baseline(m, &in, w / 2, h / 2, &bilinear)) < 0) {
        check(0, name, "reference: %s", nst_strerror(ret));
    } else {
        double g = tf_psnr(&guided, &full), b = tf_psnr(&bilinear, &full);
        double tg = texture(&guided), tb = texture(&bilinear), tf = texture(&full);
        printf("# %s: PSNR against the full-size output %.2f dB guided, %.2f dB bilinear; "
               "texture %.2f guided, %.2f bilinear, %.2f full size\n", name, g, b, tg, tb, tf);
        check(g > b - 0.1 && tg > 1.03 * tb, name, "guided %.2f dB, bilinear %.2f dB from the "
              "full-size output (guided no worse); texture %.2f guided, %.2f bilinear (guided "
              "> 1.03 x)", g, b, tg, tb);
        tf_free(&bilinear);
    }
    nst_engine_free(&e);
    nst_model_free(&m);
    tf_free(&in);
    tf_free(&full);
    tf_free(&guided);
}

/* Sizes the API refuses, and what it does with sizes it takes. */
static void api_case(NstEngine *e, const NstModel *m)
{
    static const int bad[][2] = { { -1, 10 }, { 10, -1 }, { 0, 10 }, { 10, 0 },
                                  { 40000, 10 }, { 10, 40000 } };
    static const float bad_scale[] = { 0.0f, -0.5f, 1.5f, NAN, INFINITY };
    TestFrame src, plain, big, back, gpu;
    double psnr;
    int ok = 1, diff, ret;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        ok &= nst_engine_set_network_size(e, bad[i][0], bad[i][1]) == NST_ERR_INVALID;
    check(ok, "bad network sizes are refused", "one was taken");
    ok = 1;
    for (size_t i = 0; i < sizeof(bad_scale) / sizeof(bad_scale[0]); i++)
        ok &= nst_engine_set_network_scale(e, bad_scale[i]) == NST_ERR_INVALID;
    check(ok, "bad network scales are refused", "one was taken");
    check(nst_engine_set_network_size(NULL, 1, 1) == NST_ERR_INVALID &&
          nst_engine_set_network_scale(NULL, 0.5f) == NST_ERR_INVALID,
          "no engine is refused", "taken");

    /* the frame's size, however it is asked for, is the default path */
    tf_alloc(&src, NST_PIX_RGB24, 21, 13, 0, 0);
    tf_fill_random(&src, 5);
    tf_copy(&plain, &src, 0, 0);
    tf_copy(&big, &src, 0, 0);
    ret = nst_engine_set_network_size(e, 0, 0) | nst_engine_process(e, &plain.f, 1.0f) |
          nst_engine_set_network_size(e, 640, 360) | nst_engine_process(e, &big.f, 1.0f);
    check(ret == 0 && tf_max_diff(&plain, &big) == 0,
          "a network size larger than the frame runs at the frame's size",
          "ret %d, max diff %d from the default", ret, tf_max_diff(&plain, &big));
    tf_free(&big);
    tf_copy(&big, &src, 0, 0);
    ret = nst_engine_set_network_scale(e, 1.0f) | nst_engine_process(e, &big.f, 1.0f);
    check(ret == 0 && tf_max_diff(&plain, &big) == 0, "scale 1 is the default path",
          "ret %d, max diff %d", ret, tf_max_diff(&plain, &big));
    tf_free(&big);
    tf_copy(&big, &src, 0, 0);
    ret = nst_engine_set_network_size(e, 11, 7) | nst_engine_process(e, &big.f, 1.0f) |
          nst_engine_set_network_size(e, 0, 0);
    tf_copy(&back, &src, 0, 0);
    ret |= nst_engine_process(e, &back.f, 1.0f);
    check(ret == 0 && tf_max_diff(&plain, &back) == 0 && tf_max_diff(&plain, &big) > 0,
          "0x0 returns to the frame's size", "ret %d, max diff %d", ret,
          tf_max_diff(&plain, &back));
    tf_free(&big);
    tf_free(&back);
    /* one dimension larger than the frame: clamped there only */
    if (compare("network 11x100 on a 21x13 frame: 11x13", e, m, &src, 11, 100, 0.0f, 11, 13,
                1.0f, &diff, &psnr, &gpu) >= 0) {
        check(diff <= 1, "network 11x100 on a 21x13 frame: 11x13", "max diff %d", diff);
        tf_free(&gpu);
    }
    nst_engine_set_network_size(e, 0, 0);
    tf_free(&src);
    tf_free(&plain);
}

/* Temporal smoothing reads the upsampled frame: on a still it settles on
 * what the per-frame path gives. */
static void temporal_case(NstEngine *e)
{
    const char *name = "temporal smoothing at network 20x12 on a still 41x23 frame";
    TestFrame src, once, smoothed;
    int ret;

    tf_alloc(&src, NST_PIX_YUV420P, 41, 23, 0, 0);
    tf_fill_random(&src, 9);
    tf_copy(&once, &src, 0, 0);
    ret = nst_engine_set_network_size(e, 20, 12) | nst_engine_set_temporal(e, 0.0f) |
          nst_engine_process(e, &once.f, 1.0f) | nst_engine_set_temporal(e, 0.8f);
    for (int i = 0; i < 3 && ret == 0; i++) {
        tf_copy(&smoothed, &src, 0, 0);
        ret = nst_engine_process(e, &smoothed.f, 1.0f);
        if (i < 2)
            tf_free(&smoothed);
    }
    if (ret == 0) {
        double psnr = tf_psnr(&smoothed, &once);
        check(psnr >= 45.0 && !nst_engine_validation_messages(e), name,
              "PSNR %.2f dB from the per-frame output (>= 45), %u validation messages",
              psnr, nst_engine_validation_messages(e));
        tf_free(&smoothed);
    } else {
        check(0, name, "ret %d", ret);
    }
    nst_engine_set_temporal(e, 0.0f);
    nst_engine_set_network_size(e, 0, 0);
    tf_free(&src);
    tf_free(&once);
}

int main(void)
{
    NstModel *m;
    NstEngine *e;

    if (mb_small_engine(7, &m, &e) < 0)
        return 1;
    for (int fmt = 0; fmt < NST_PIX_NB; fmt++)
        small_case(e, m, fmt, 37, 23, 18, 11, 0.0f, 18, 11, 1.0f);
    small_case(e, m, NST_PIX_RGB24, 9, 7, 1, 1, 0.0f, 1, 1, 1.0f);
    small_case(e, m, NST_PIX_RGB24, 40, 30, 40, 15, 0.0f, 40, 15, 1.0f);
    small_case(e, m, NST_PIX_NV12, 64, 36, 63, 35, 0.0f, 63, 35, 0.5f);
    small_case(e, m, NST_PIX_RGBA, 50, 31, 0, 0, 0.3f, 15, 9, 1.0f);
    api_case(e, m);
    temporal_case(e);
    nst_engine_free(&e);
    nst_model_free(&m);

    photo_case("udnie", "chelsea.png", 203, 135, 101, 67, 0.0f, 101, 67);
    photo_case("la_muse", "rocket.jpg", 161, 107, 0, 0, 0.5f, 81, 54);
    photo_case("scream", "astronaut.png", 128, 128, 128, 50, 0.0f, 128, 50);
    quality_case("wave", "coffee.png", 240, 160);
    quality_case("udnie", "chelsea.png", 240, 160);
    return check_status();
}
