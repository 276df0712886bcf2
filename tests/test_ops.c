/*
 * Every shader op against the C reference: small models built here, run
 * through the real loader and the Vulkan engine, each op's result read
 * back and compared with engine/ref/ref.c on random inputs, odd sizes and
 * stride-2 edges included.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "check.h"
#include "engine_internal.h"
#include "model_builder.h"
#include "ref/ref.h"

static void fill_random(NstTensor *t, unsigned seed, float lo, float hi)
{
    for (size_t i = 0; i < (size_t)t->c * t->h * t->w; i++) {
        seed = seed * 1664525u + 1013904223u;
        t->data[i] = lo + (hi - lo) * (float)(seed >> 8) / 16777216.0f;
    }
}

/* Runs layers 0..upto of m in the reference, returning upto's result. */
static int ref_upto(const NstModel *m, const NstTensor *in, int upto, NstTensor *out)
{
    NstTensor t[MB_MAX_LAYERS] = { { 0 } };
    int ret = NST_OK;

    for (int l = 0; l <= upto && ret >= 0; l++) {
        const NstLayer *L = &m->layers[l];
        const NstTensor *a = L->input[0] < 0 ? in : &t[L->input[0]];
        const NstTensor *b = L->op == NST_OP_ADD ? (L->input[1] < 0 ? in : &t[L->input[1]]) : NULL;
        ret = nst_ref_layer(L, a, b, &t[l]);
    }
    if (ret >= 0) {
        *out = t[upto];
        t[upto].data = NULL;
    }
    for (int l = 0; l <= upto; l++)
        nst_tensor_free(&t[l]);
    return ret;
}

/* Builds the model, runs it to layer `probe` on both sides, compares:
 * with fp32 tensors to 1e-4 of the largest value, again with fp16
 * tensors (the shaders' .f16 variants) to 1e-2, and again with fp16
 * tensors and fp16 multiplies (the convolutions' .a16 variants) to 1e-2,
 * where the device has fp16 arithmetic. */
static void run_case_at(const char *name, const uint8_t *bytes, size_t size, int probe,
                        int w, int h, int precision);
static void run_case(const char *name, ModelBuilder *b, int probe, int w, int h)
{
    uint8_t *bytes;
    size_t size = mb_finish(b, &bytes);
    char name16[256], name16a[256];

    snprintf(name16, sizeof(name16), "%s, fp16 tensors", name);
    snprintf(name16a, sizeof(name16a), "%s, fp16 tensors and multiplies", name);
    run_case_at(name, bytes, size, probe, w, h, NST_PRECISION_FP32);
    run_case_at(name16, bytes, size, probe, w, h, NST_PRECISION_FP16);
    run_case_at(name16a, bytes, size, probe, w, h, NST_PRECISION_FP16_ARITH);
    free(bytes);
}

static void run_case_at(const char *name, const uint8_t *bytes, size_t size, int probe,
                        int w, int h, int precision)
{
    NstModel *m = NULL;
    NstEngine *e = NULL;
    NstTensor in = { 0 }, gpu = { 0 }, ref = { 0 };
    char err[256] = "";
    int ret;

    ret = nst_model_load_memory(bytes, size, &m, err, sizeof(err));
    if (ret < 0) {
        check(0, name, "model rejected: %s", err);
        return;
    }
    NstEngineOptions opt = { .precision = precision };
    double tolerance = precision == NST_PRECISION_FP32 ? 1e-4 : 1e-2;
    if ((ret = nst_engine_open(m, &opt, NULL, 0, &e)) < 0) { /* single ops may shrink */
        if (ret == NST_ERR_UNSUPPORTED && precision == NST_PRECISION_FP16_ARITH)
            printf("# %s: skipped, the device has no fp16 arithmetic\n", name);
        else
            check(0, name, "engine: %s", nst_strerror(ret));
        goto end;
    }
    nst_tensor_alloc(&in, 3, h, w);
    fill_random(&in, (unsigned)(w * 131 + h), 0.0f, 255.0f);
    if ((ret = nst_net_run_tensor(&e->net, &in, probe, &gpu)) < 0) {
        check(0, name, "run: %s", nst_strerror(ret));
        goto end;
    }
    if ((ret = ref_upto(m, &in, probe, &ref)) < 0) {
        check(0, name, "reference: %s", nst_strerror(ret));
        goto end;
    }
    if (gpu.c != ref.c || gpu.h != ref.h || gpu.w != ref.w) {
        check(0, name, "shape %dx%dx%d, reference %dx%dx%d", gpu.c, gpu.h, gpu.w,
              ref.c, ref.h, ref.w);
        goto end;
    }
    double max_diff = 0, max_ref = 0;
    size_t worst = 0;
    for (size_t i = 0; i < (size_t)ref.c * ref.h * ref.w; i++) {
        double d = fabs((double)gpu.data[i] - ref.data[i]);
        if (!(d <= max_diff)) { /* NaN counts as worst */
            max_diff = isnan(d) ? INFINITY : d;
            worst = i;
        }
        max_ref = fmax(max_ref, fabs(ref.data[i]));
    }
    unsigned messages = nst_engine_validation_messages(e);
    printf("# %s: max |gpu - ref| / (1 + max |ref|) = %.2g\n", name,
           max_diff / (1.0 + max_ref));
    check(max_diff <= tolerance * (1.0 + max_ref) && !messages, name,
          "max |gpu - ref| = %g at %zu (gpu %g, ref %g), max |ref| = %g; "
          "%u validation messages", max_diff, worst, gpu.data[worst], ref.data[worst],
          max_ref, messages);
end:
    nst_tensor_free(&in);
    nst_tensor_free(&gpu);
    nst_tensor_free(&ref);
    nst_engine_free(&e);
    nst_model_free(&m);
}

/* A 3-channel tail so that every test model is a valid style.bin. */
static void finish_model(ModelBuilder *b, int last, int channels)
{
    int t = channels == 3 ? last : mb_conv(b, last, channels, 3, 1, 1, 0, 0);
    mb_output(b, t, 0, 1.0f, 0.0f, -1e30f, 1e30f);
}

static void conv_case(const char *name, int cin, int cout, int k, int stride,
                      int padding, int bias, int w, int h)
{
    ModelBuilder b = { .seed = (unsigned)(cin * 7 + cout * 13 + k + stride * 3 + w) };
    int first = cin == 3 ? -1 : mb_conv(&b, -1, 3, cin, 3, 1, 0, 1);
    int l = mb_conv(&b, first, cin, cout, k, stride, padding, bias);

    finish_model(&b, l, cout);
    run_case(name, &b, l, w, h);
}

static void transpose_case(const char *name, int cin, int cout, int k, int w, int h)
{
    ModelBuilder b = { .seed = (unsigned)(cin + cout + w) };
    int first = mb_conv(&b, -1, 3, cin, 3, 1, 0, 0);
    int l = mb_conv_transpose(&b, first, cin, cout, k, 2);

    finish_model(&b, l, cout);
    run_case(name, &b, l, w, h);
}

int main(void)
{
    /* convolutions: TF SAME (0), symmetric zero (1), reflect (2) */
    conv_case("conv 3x3 s1 same 3->8 13x11", 3, 8, 3, 1, 0, 0, 13, 11);
    conv_case("conv 3x3 s2 same 8->16 odd 13x11", 8, 16, 3, 2, 0, 0, 13, 11);
    conv_case("conv 3x3 s2 same 8->16 even 16x10", 8, 16, 3, 2, 0, 0, 16, 10);
    conv_case("conv 9x9 s1 same 3->32 17x9", 3, 32, 9, 1, 0, 0, 17, 9);
    conv_case("conv 9x9 s1 same 32->3 19x7", 32, 3, 9, 1, 0, 0, 19, 7);
    conv_case("conv 3x3 s1 reflect bias 3->12 9x6", 3, 12, 3, 1, 2, 1, 9, 6);
    conv_case("conv 9x9 s1 reflect 3->8 12x10", 3, 8, 9, 1, 2, 0, 12, 10);
    conv_case("conv 5x5 s1 symmetric bias 6->5 7x5", 6, 5, 5, 1, 1, 1, 7, 5);
    conv_case("conv 3x3 s2 symmetric 20->36 11x9", 20, 36, 3, 2, 1, 1, 11, 9);
    conv_case("conv 3x3 s1 128->128 21x14", 128, 128, 3, 1, 0, 0, 21, 14);
    /* 3x3 stride 1 with >= 16 channels runs by Winograd F(4x4, 3x3): whole
     * and partial tiles, each padding, the smallest sizes */
    conv_case("winograd reflect 16->16 16x8", 16, 16, 3, 1, 2, 0, 16, 8);
    conv_case("winograd reflect bias 16->24 13x6", 16, 24, 3, 1, 2, 1, 13, 6);
    conv_case("winograd same 32->20 9x11", 32, 20, 3, 1, 0, 0, 9, 11);
    conv_case("winograd symmetric bias 20->36 5x3", 20, 36, 3, 1, 1, 1, 5, 3);
    conv_case("winograd reflect 16->16 2x2", 16, 16, 3, 1, 2, 0, 2, 2);
    conv_case("winograd same 16->16 1x1", 16, 16, 3, 1, 0, 1, 1, 1);
    conv_case("winograd reflect 128->128 70x3", 128, 128, 3, 1, 2, 0, 70, 3);
    conv_case("conv 1x1 s1 5->7 1x1", 5, 7, 1, 1, 0, 1, 1, 1);
    /* wider than one workgroup's rows, taller than one of its columns */
    conv_case("conv 3x3 s1 same 3->8 300x3", 3, 8, 3, 1, 0, 1, 300, 3);
    conv_case("conv 3x3 s2 same 8->8 3x70", 8, 8, 3, 2, 0, 0, 3, 70);

    /* transposed convolutions, TF SAME alignment */
    transpose_case("conv_transpose 3x3 s2 16->8 7x5", 16, 8, 3, 7, 5);
    transpose_case("conv_transpose 3x3 s2 128->64 6x4", 128, 64, 3, 6, 4);
    transpose_case("conv_transpose 3x3 s2 8->3 1x1", 8, 3, 3, 1, 1);
    transpose_case("conv_transpose 4x4 s2 8->4 5x3", 8, 4, 4, 5, 3);
    transpose_case("conv_transpose 3x3 s2 8->8 150x2", 8, 8, 3, 150, 2);
    transpose_case("conv_transpose 3x3 s2 8->8 2x40", 8, 8, 3, 2, 40);

    /* nearest upsampling */
    {
        ModelBuilder b = { .seed = 5 };
        int c = mb_conv(&b, -1, 3, 8, 3, 1, 0, 1);
        int u = mb_simple(&b, NST_OP_UPSAMPLE, c, -1, 8, 2);
        finish_model(&b, u, 8);
        run_case("upsample x2 8ch 9x7", &b, u, 9, 7);
    }
    {
        ModelBuilder b = { .seed = 11 };
        int c = mb_conv(&b, -1, 3, 8, 3, 1, 0, 1);
        int u = mb_simple(&b, NST_OP_UPSAMPLE, c, -1, 8, 2);
        finish_model(&b, u, 8);
        run_case("upsample x2 8ch 70x33", &b, u, 70, 33);
    }
    /* An instance norm read only by the conv after it is applied by that
     * conv as it reads (direct, transposed or Winograd), so it is seen
     * through that conv's result; read by two, it has a pass of its own. */
    {
        ModelBuilder b = { .seed = 6 };
        int c = mb_conv(&b, -1, 3, 8, 3, 1, 0, 1);
        int n = mb_norm(&b, c, 8, 1e-3f);
        finish_model(&b, n, 8); /* + conv 3x3 8->3, layer n + 1 */
        run_case("instance_norm 8ch 97x61 (2 chunks) in a conv's reads", &b, n + 1, 97, 61);
    }
    {
        ModelBuilder b = { .seed = 7 };
        int c = mb_conv(&b, -1, 3, 12, 3, 1, 0, 0);
        int n = mb_norm(&b, c, 12, 1e-5f);
        int r = mb_simple(&b, NST_OP_RELU, n, -1, 12, 0);
        finish_model(&b, r, 12);
        run_case("instance_norm+relu 12ch 33x17 in a conv's reads", &b, r + 1, 33, 17);
    }
    {
        ModelBuilder b = { .seed = 12 };
        int c = mb_conv(&b, -1, 3, 16, 3, 1, 0, 0);
        int n = mb_norm(&b, c, 16, 1e-3f);
        int r = mb_simple(&b, NST_OP_RELU, n, -1, 16, 0);
        int w = mb_conv(&b, r, 16, 20, 3, 1, 2, 0);
        finish_model(&b, w, 20);
        run_case("instance_norm+relu 16ch in a Winograd conv's reads (reflect) 14x9", &b, w, 14, 9);
    }
    {
        ModelBuilder b = { .seed = 13 };
        int c = mb_conv(&b, -1, 3, 8, 3, 1, 0, 0);
        int n = mb_norm(&b, c, 8, 1e-3f);
        int r = mb_simple(&b, NST_OP_RELU, n, -1, 8, 0);
        int t = mb_conv_transpose(&b, r, 8, 4, 3, 2);
        finish_model(&b, t, 4);
        run_case("instance_norm+relu 8ch in a transposed conv's reads 11x6", &b, t, 11, 6);
    }
    {
        ModelBuilder b = { .seed = 14 };
        int c = mb_conv(&b, -1, 3, 8, 3, 1, 0, 0);
        int n = mb_norm(&b, c, 8, 1e-3f);
        int r = mb_simple(&b, NST_OP_RELU, n, -1, 8, 0);
        int c2 = mb_conv(&b, r, 8, 8, 3, 1, 0, 0);
        int a = mb_simple(&b, NST_OP_ADD, c2, r, 8, 0);
        finish_model(&b, a, 8);
        run_case("instance_norm+relu 8ch read twice: a pass of its own 19x7", &b, r, 19, 7);
    }
    /* a residual block tail: conv, IN, add (fused) */
    {
        ModelBuilder b = { .seed = 8 };
        int c = mb_conv(&b, -1, 3, 16, 3, 1, 0, 0);
        int c2 = mb_conv(&b, c, 16, 16, 3, 1, 0, 0);
        int n = mb_norm(&b, c2, 16, 1e-3f);
        int a = mb_simple(&b, NST_OP_ADD, c, n, 16, 0);
        finish_model(&b, a, 16);
        run_case("instance_norm+add residual 16ch 15x13", &b, a, 15, 13);
    }
    /* lone ReLU and lone add */
    {
        ModelBuilder b = { .seed = 9 };
        int c = mb_conv(&b, -1, 3, 4, 3, 1, 0, 1);
        int r = mb_simple(&b, NST_OP_RELU, c, -1, 4, 0);
        int c2 = mb_conv(&b, r, 4, 4, 3, 1, 0, 1);
        int a = mb_simple(&b, NST_OP_ADD, c2, r, 4, 0);
        finish_model(&b, a, 4);
        run_case("relu 4ch 10x3", &b, r, 10, 3);
    }
    {
        ModelBuilder b = { .seed = 10 };
        int c = mb_conv(&b, -1, 3, 4, 3, 1, 0, 1);
        int r = mb_simple(&b, NST_OP_RELU, c, -1, 4, 0);
        int c2 = mb_conv(&b, r, 4, 4, 3, 1, 0, 1);
        int a = mb_simple(&b, NST_OP_ADD, c2, r, 4, 0);
        finish_model(&b, a, 4);
        run_case("add 4ch 10x3", &b, a, 10, 3);
    }
    return check_status();
}
