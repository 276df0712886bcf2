/*
 * The whole network through the engine against the C reference, on real
 * photos (../shared/media/photos, decoded and scaled by the patched ffmpeg)
 * with real models (build/models/STYLE.bin, from ../shared/models/ml5):
 * PSNR >= 45 dB and no byte off by more than 2.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "frames.h"
#include "photos.h"
#include "ref/ref_frame.h"
#include "frame/temporal.h"

/* precision: NST_PRECISION_FP32 (>= 45 dB), _FP16 storage or _FP16_ARITH,
 * fp16 storage and multiplies (>= 38 dB) */
static void network_case(const char *style, const char *photo, int w, int h, int precision)
{
    char name[256];
    NstModel *m;
    NstEngine *e = NULL;
    NstEngineOptions opt = { .precision = precision };
    double need = precision == NST_PRECISION_FP32 ? 45.0 : 38.0;
    TestFrame in, gpu, ref;
    int ret;

    snprintf(name, sizeof(name), "%s on %s %dx%d%s", style, photo, w, h,
             precision == NST_PRECISION_FP16 ? ", fp16 tensors" :
             precision == NST_PRECISION_FP16_ARITH ? ", fp16 tensors and multiplies" : "");
    if (open_case(name, style, photo, w, h, &m, &in) < 0)
        return;
    tf_copy(&gpu, &in, 0, 0);
    tf_copy(&ref, &in, 0, 0);
    if ((ret = nst_engine_create(m, &opt, &e)) < 0) {
        if (ret == NST_ERR_UNSUPPORTED && precision == NST_PRECISION_FP16_ARITH)
            printf("# %s: skipped, the device has no fp16 arithmetic\n", name);
        else
            check(0, name, "engine: %s", nst_strerror(ret));
    } else if ((ret = nst_engine_process(e, &gpu.f, 1.0f)) < 0) {
        check(0, name, "process: %s", nst_strerror(ret));
    } else if ((ret = nst_ref_process(m, &ref.f, 1.0f)) < 0) {
        check(0, name, "reference: %s", nst_strerror(ret));
    } else {
        double psnr = tf_psnr(&gpu, &ref), restyled = tf_psnr(&gpu, &in);
        int diff = tf_max_diff(&gpu, &ref);
        printf("# %s: PSNR %.2f dB vs reference, max diff %d, PSNR %.2f dB vs input\n",
               name, psnr, diff, restyled);
        check(psnr >= need && (diff <= 2 || precision != NST_PRECISION_FP32) &&
              restyled < 25.0 && nst_engine_precision(e) == precision &&
              !nst_engine_validation_messages(e), name,
              "PSNR %.2f dB (>= %.0f), max diff %d (<= 2 in fp32), %.2f dB from the input "
              "(< 25: restyled at all), precision %d, %u validation messages", psnr, need,
              diff, restyled, nst_engine_precision(e), nst_engine_validation_messages(e));
    }
    nst_engine_free(&e);
    nst_model_free(&m);
    tf_free(&in);
    tf_free(&gpu);
    tf_free(&ref);
}

/* Temporal smoothing of the instance-norm statistics through a real
 * model: a photo, then the photo with a white square on it (no scene cut),
 * the second frame's smoothed statistics mixed with the first's by 0.8. */
static void smoothed_case(const char *style, const char *photo, int w, int h)
{
    char name[256];
    NstModel *m;
    NstEngine *e = NULL;
    TestFrame a, b, gpu_a, gpu_b, plain_b, ref_b;
    NstRefNormState state = { 0 };
    NstTensor ta = { 0 }, tb = { 0 }, ya = { 0 }, yb = { 0 };
    int ret;

    snprintf(name, sizeof(name), "%s on %s %dx%d, statistics smoothed", style, photo, w, h);
    if (open_case(name, style, photo, w, h, &m, &a) < 0)
        return;
    tf_copy(&b, &a, 0, 0);
    for (int y = h / 4; y < h / 4 + h / 5; y++) /* 4% of the frame: no cut */
        memset(b.f.data[0] + (size_t)y * b.f.linesize[0] + 3 * (w / 3), 255, (size_t)3 * (w / 5));
    tf_copy(&gpu_a, &a, 0, 0);
    tf_copy(&gpu_b, &b, 0, 0);
    tf_copy(&plain_b, &b, 0, 0);
    tf_copy(&ref_b, &b, 0, 0);
    ret = nst_engine_create(m, NULL, &e);
    if (ret >= 0) {
        ret = nst_engine_process(e, &plain_b.f, 1.0f);
        ret |= nst_engine_set_temporal_mechanisms(e, NST_TEMPORAL_NORM);
        ret |= nst_engine_set_temporal(e, 0.8f);
        ret |= nst_engine_process(e, &gpu_a.f, 1.0f) | nst_engine_process(e, &gpu_b.f, 1.0f);
    }
    if (ret >= 0)
        ret = nst_ref_frame_to_tensor(m, &a.f, &ta) | nst_ref_frame_to_tensor(m, &b.f, &tb) |
              nst_ref_forward_smoothed(m, &ta, &ya, &state, NST_TEMPORAL_NORM_LAST, 0.0f) |
              nst_ref_forward_smoothed(m, &tb, &yb, &state, NST_TEMPORAL_NORM_LAST, 0.8f);
    if (ret < 0) {
        check(0, name, "%s", nst_strerror(ret));
    } else {
        nst_ref_tensor_to_frame(m, &yb, &ref_b.f, 1.0f);
        double psnr = tf_psnr(&gpu_b, &ref_b), moved = tf_psnr(&gpu_b, &plain_b);
        int diff = tf_max_diff(&gpu_b, &ref_b);
        printf("# %s: PSNR %.2f dB vs reference, max diff %d, %.2f dB from per frame\n",
               name, psnr, diff, moved);
        check(psnr >= 45.0 && diff <= 2 && moved < 45.0 && !nst_engine_validation_messages(e),
              name, "PSNR %.2f dB (>= 45), max diff %d (<= 2), %.2f dB from the per-frame "
              "output (< 45: smoothed at all), %u validation messages", psnr, diff, moved,
              nst_engine_validation_messages(e));
    }
    nst_ref_norm_state_free(&state);
    nst_tensor_free(&ta);
    nst_tensor_free(&tb);
    nst_tensor_free(&ya);
    nst_tensor_free(&yb);
    nst_engine_free(&e);
    nst_model_free(&m);
    tf_free(&a);
    tf_free(&b);
    tf_free(&gpu_a);
    tf_free(&gpu_b);
    tf_free(&plain_b);
    tf_free(&ref_b);
}

/* The largest size the issue asks for: 1920x1080 runs within lavapipe's
 * limits (a 32-channel tensor there is 265 MB, past its 128 MiB storage
 * buffer range, hence texel buffers). Too slow for the C reference here,
 * so it checks that the frame is processed cleanly and restyled. */
static void big_frame_case(const char *style, const char *photo)
{
    char name[256];
    NstModel *m;
    NstEngine *e = NULL;
    TestFrame in, gpu;
    int ret;

    snprintf(name, sizeof(name), "%s on %s 1920x1080", style, photo);
    if (open_case(name, style, photo, 1920, 1080, &m, &in) < 0)
        return;
    tf_copy(&gpu, &in, 0, 0);
    if ((ret = nst_engine_create(m, NULL, &e)) < 0) {
        check(0, name, "engine: %s", nst_strerror(ret));
    } else {
        ret = nst_engine_process(e, &gpu.f, 1.0f);
        double restyled = tf_psnr(&gpu, &in);
        check(ret == NST_OK && restyled < 25.0 && !nst_engine_validation_messages(e), name,
              "%s, %.2f dB from the input, %u validation messages", nst_strerror(ret),
              restyled, nst_engine_validation_messages(e));
    }
    nst_engine_free(&e);
    nst_model_free(&m);
    tf_free(&in);
    tf_free(&gpu);
}

int main(void)
{
    /* odd sizes that the network rounds up and the engine crops again */
    network_case("udnie", "chelsea.png", 203, 135, NST_PRECISION_FP32);
    network_case("scream", "astronaut.png", 128, 128, NST_PRECISION_FP32);
    network_case("la_muse", "rocket.jpg", 161, 107, NST_PRECISION_FP32);
    /* fp16 storage: what a GPU runs by default (lavapipe has the format) */
    network_case("udnie", "chelsea.png", 203, 135, NST_PRECISION_FP16);
    network_case("wave", "rocket.jpg", 161, 107, NST_PRECISION_FP16);
    /* fp16 multiplies too: what a GPU with shaderFloat16 runs by default */
    network_case("udnie", "chelsea.png", 203, 135, NST_PRECISION_FP16_ARITH);
    network_case("scream", "astronaut.png", 128, 128, NST_PRECISION_FP16_ARITH);
    network_case("wave", "rocket.jpg", 161, 107, NST_PRECISION_FP16_ARITH);
    smoothed_case("rain_princess", "chelsea.png", 160, 96);
    big_frame_case("wave", "forensics_IMG_1054.jpg");
    return check_status();
}
