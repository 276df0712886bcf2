/*
 * The C reference of the ops, against cases small enough to work out by
 * hand (docs/style-bin.md, "Shapes and padding"), against independent
 * naive formulas on random multi-channel data, and the whole udnie
 * network on small inputs.
 *
 * Environment: NST_BUILD (build).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "ref/ref.h"

static NstTensor tensor(int c, int h, int w, const float *values)
{
    NstTensor t;

    if (nst_tensor_alloc(&t, c, h, w) < 0) {
        fprintf(stderr, "out of memory\n");
        exit(2);
    }
    if (values)
        memcpy(t.data, values, (size_t)c * h * w * sizeof(float));
    return t;
}

static float at(const NstTensor *t, int c, int y, int x)
{
    return t->data[((size_t)c * t->h + y) * t->w + x];
}

/* in[y][x] = y * w + x + 1, one channel */
static NstTensor ramp(int h, int w)
{
    NstTensor t = tensor(1, h, w, NULL);
    int i;

    for (i = 0; i < h * w; i++)
        t.data[i] = (float)(i + 1);
    return t;
}

static NstLayer conv_layer(NstOp op, int in_ch, int out_ch, int kernel,
                           int stride, NstPadding padding,
                           const float *weight, const float *bias)
{
    NstLayer l;

    memset(&l, 0, sizeof(l));
    l.op = op;
    l.input[0] = -1;
    l.input[1] = -1;
    l.in_ch = in_ch;
    l.out_ch = out_ch;
    l.kernel = kernel;
    l.stride = stride;
    l.padding = padding;
    l.weight = weight;
    l.bias = bias;
    return l;
}

static NstLayer simple_layer(NstOp op, int ch)
{
    NstLayer l;

    memset(&l, 0, sizeof(l));
    l.op = op;
    l.input[0] = -1;
    l.input[1] = -1;
    l.in_ch = ch;
    l.out_ch = ch;
    return l;
}

/* Runs l on in0 (and in1); out must come back c x h x w. */
static int run(const char *name, const NstLayer *l, const NstTensor *in0,
               const NstTensor *in1, NstTensor *out, int c, int h, int w)
{
    int ret = nst_ref_layer(l, in0, in1, out);
    char what[160];

    snprintf(what, sizeof(what), "%s: output %dx%dx%d", name, c, h, w);
    return check(ret == NST_OK && out->c == c && out->h == h && out->w == w,
                 what, "code %d, got %dx%dx%d", ret, out->c, out->h, out->w);
}

/* Every listed value of channel 0 (y, x, value). */
static void expect_values(const char *name, const NstTensor *t,
                          const float (*cases)[3], int n)
{
    int i;

    for (i = 0; i < n; i++) {
        int y = (int)cases[i][0], x = (int)cases[i][1];
        float got = at(t, 0, y, x);

        if (fabsf(got - cases[i][2]) > 1e-4f * (1.0f + fabsf(cases[i][2]))) {
            check(0, name, "out[%d][%d] is %g, expected %g", y, x, got,
                  cases[i][2]);
            return;
        }
    }
    check(1, name, "-");
}

/* ---- convolutions by hand ----------------------------------------------------- */

static const float ones3x3[9] = { 1, 1, 1, 1, 1, 1, 1, 1, 1 };
static const float tap00[9]   = { 1, 0, 0, 0, 0, 0, 0, 0, 0 }; /* W[0][0] */
static const float tap22[9]   = { 0, 0, 0, 0, 0, 0, 0, 0, 1 }; /* W[2][2] */

/* Input 5 rows x 4 columns:
 *    1  2  3  4
 *    5  6  7  8
 *    9 10 11 12
 *   13 14 15 16
 *   17 18 19 20 */
static void test_conv_same(void)
{
    static const float sum_s1[][3] = {
        { 0, 0, 1 + 2 + 5 + 6 },
        { 2, 1, 5 + 6 + 7 + 9 + 10 + 11 + 13 + 14 + 15 },
        { 4, 3, 15 + 16 + 19 + 20 },
        { 0, 3, 3 + 4 + 7 + 8 },
    };
    static const float tap_s1[][3] = {     /* out[y][x] = in[y-1][x-1] */
        { 0, 0, 0 }, { 1, 1, 1 }, { 4, 3, 15 }, { 1, 0, 0 }, { 2, 3, 7 },
    };
    /* stride 2: rows 5 -> 3, total pad 2, 1 before; columns 4 -> 2,
     * total pad 1, 0 before (TF pads the extra one after). */
    static const float sum_s2[][3] = {
        { 0, 0, (1 + 2 + 3) + (5 + 6 + 7) },
        { 0, 1, (3 + 4) + (7 + 8) },
        { 1, 0, (5 + 6 + 7) + (9 + 10 + 11) + (13 + 14 + 15) },
        { 2, 1, (15 + 16) + (19 + 20) },
    };
    static const float tap_s2[][3] = {     /* out[y][x] = in[2y-1][2x] */
        { 0, 0, 0 }, { 0, 1, 0 }, { 1, 0, 5 }, { 1, 1, 7 }, { 2, 1, 15 },
    };
    NstTensor in = ramp(5, 4), out;
    NstLayer l = conv_layer(NST_OP_CONV, 1, 1, 3, 1, NST_PAD_SAME, ones3x3, NULL);

    if (run("conv SAME stride 1, 5x4", &l, &in, NULL, &out, 1, 5, 4))
        expect_values("conv SAME stride 1: 3x3 sums with zero padding", &out,
                      sum_s1, 4);
    nst_tensor_free(&out);
    l.weight = tap00;
    if (run("conv SAME stride 1, one tap", &l, &in, NULL, &out, 1, 5, 4))
        expect_values("conv is a correlation: W[0][0] reads in[y-1][x-1]",
                      &out, tap_s1, 5);
    nst_tensor_free(&out);

    l.stride = 2;
    l.weight = ones3x3;
    if (run("conv SAME stride 2, 5x4", &l, &in, NULL, &out, 1, 3, 2))
        expect_values("conv SAME stride 2: pad_before 1 on 5 rows, 0 on 4 "
                      "columns", &out, sum_s2, 4);
    nst_tensor_free(&out);
    l.weight = tap00;
    if (run("conv SAME stride 2, one tap", &l, &in, NULL, &out, 1, 3, 2))
        expect_values("conv SAME stride 2: W[0][0] reads in[2y-1][2x]", &out,
                      tap_s2, 5);
    nst_tensor_free(&out);
    nst_tensor_free(&in);
}

static void test_conv_padding_modes(void)
{
    /* reflect, W[0][0]: out[y][x] = in[|y-1| mirrored][|x-1| mirrored] */
    static const float reflect00[][3] = {
        { 0, 0, 6 }, { 0, 1, 5 }, { 0, 3, 7 }, { 1, 0, 2 }, { 4, 3, 15 },
    };
    /* reflect, W[2][2]: out[y][x] = in[y+1][x+1], mirrored at the far edge */
    static const float reflect22[][3] = {
        { 4, 3, 15 }, { 3, 3, 19 }, { 4, 0, 14 }, { 0, 0, 6 },
    };
    static const float symmetric00[][3] = {
        { 0, 0, 0 }, { 1, 1, 1 }, { 4, 3, 15 },
    };
    NstTensor in = ramp(5, 4), out;
    NstLayer l = conv_layer(NST_OP_CONV, 1, 1, 3, 1, NST_PAD_REFLECT, tap00,
                            NULL);
    float w5[25] = { 0 };
    int oh, ow;

    if (run("conv reflect", &l, &in, NULL, &out, 1, 5, 4))
        expect_values("reflect padding mirrors without repeating the edge "
                      "(top-left)", &out, reflect00, 5);
    nst_tensor_free(&out);
    l.weight = tap22;
    if (run("conv reflect, far tap", &l, &in, NULL, &out, 1, 5, 4))
        expect_values("reflect padding at the bottom-right", &out, reflect22, 4);
    nst_tensor_free(&out);
    l.weight = tap00;
    l.padding = NST_PAD_SYMMETRIC;
    if (run("conv symmetric", &l, &in, NULL, &out, 1, 5, 4))
        expect_values("symmetric zero padding", &out, symmetric00, 3);
    nst_tensor_free(&out);

    l.padding = NST_PAD_REFLECT;
    l.kernel = 5;
    l.weight = w5;
    check(nst_layer_out_size(&l, 2, 8, &oh, &ow) == NST_ERR_INVALID,
          "reflect 5x5 on 2 rows is refused (kernel/2 must be < size)", "-");
    check(nst_layer_out_size(&l, 3, 8, &oh, &ow) == NST_OK && oh == 3 &&
          ow == 8, "reflect 5x5 on 3 rows keeps the size", "%dx%d", oh, ow);
    l.stride = 2;
    check(nst_layer_out_size(&l, 7, 8, &oh, &ow) == NST_OK && oh == 4 &&
          ow == 4, "reflect 5x5 stride 2: 7x8 -> 4x4", "%dx%d", oh, ow);
    nst_tensor_free(&in);
}

/* HWIO for conv and [k][k][out][in] for conv_transpose, with 1x1 kernels. */
static void test_weight_layouts(void)
{
    static const float in_values[2 * 1 * 2] = { 10, 20, 100, 200 }; /* 2ch, 1x2 */
    static const float hwio[2 * 3] = { 1, 2, 3, 4, 5, 6 };  /* [c][o] */
    static const float bias[3] = { 0.5f, -0.5f, 1 };
    static const float oi[3 * 2] = { 1, 2, 3, 4, 5, 6 };    /* [o][c] */
    NstTensor in = tensor(2, 1, 2, in_values), out;
    NstLayer l = conv_layer(NST_OP_CONV, 2, 3, 1, 1, NST_PAD_SAME, hwio, bias);

    /* out[o] = sum_c in[c] * W[c][o] + bias[o] */
    if (run("conv 1x1 2->3", &l, &in, NULL, &out, 3, 1, 2))
        check(at(&out, 0, 0, 0) == 10 * 1 + 100 * 4 + 0.5f &&
              at(&out, 1, 0, 0) == 10 * 2 + 100 * 5 - 0.5f &&
              at(&out, 2, 0, 1) == 20 * 3 + 200 * 6 + 1,
              "conv weights are HWIO, bias added", "%g %g %g",
              at(&out, 0, 0, 0), at(&out, 1, 0, 0), at(&out, 2, 0, 1));
    nst_tensor_free(&out);

    /* out[o] = sum_c in[c] * W[o][c] */
    l = conv_layer(NST_OP_CONV_TRANSPOSE, 2, 3, 1, 1, NST_PAD_SAME, oi, NULL);
    if (run("conv_transpose 1x1 2->3", &l, &in, NULL, &out, 3, 1, 2))
        check(at(&out, 0, 0, 0) == 10 * 1 + 100 * 2 &&
              at(&out, 1, 0, 0) == 10 * 3 + 100 * 4 &&
              at(&out, 2, 0, 1) == 20 * 5 + 200 * 6,
              "conv_transpose weights are [k][k][out][in]", "%g %g %g",
              at(&out, 0, 0, 0), at(&out, 1, 0, 0), at(&out, 2, 0, 1));
    nst_tensor_free(&out);
    nst_tensor_free(&in);
}

/* 2x2 input a=1 b=10 / c=100 d=1000, W[ky][kx] = 10 ky + kx + 1; the
 * output is 4x4 with out[y][x] = sum of in[i][j] W[y-2i][x-2j]. */
static void test_conv_transpose_by_hand(void)
{
    static const float in_values[4] = { 1, 10, 100, 1000 };
    static const float w[9] = { 1, 2, 3, 11, 12, 13, 21, 22, 23 };
    static const float expect[4][4] = {
        { 1 * 1,  1 * 2,  1 * 3 + 10 * 1,  10 * 2 },
        { 1 * 11, 1 * 12, 1 * 13 + 10 * 11, 10 * 12 },
        { 1 * 21 + 100 * 1, 1 * 22 + 100 * 2,
          1 * 23 + 10 * 21 + 100 * 3 + 1000 * 1, 10 * 22 + 1000 * 2 },
        { 100 * 11, 100 * 12, 100 * 13 + 1000 * 11, 1000 * 12 },
    };
    NstTensor in = tensor(1, 2, 2, in_values), out;
    NstLayer l = conv_layer(NST_OP_CONV_TRANSPOSE, 1, 1, 3, 2, NST_PAD_SAME,
                            w, NULL);
    int y, x, bad = -1;

    if (run("conv_transpose 3x3 stride 2 on 2x2", &l, &in, NULL, &out, 1, 4, 4)) {
        check(at(&out, 0, 0, 0) == in_values[0] * w[0],
              "conv_transpose: out[0][0] = in[0][0] * W[0][0]", "%g",
              at(&out, 0, 0, 0));
        for (y = 0; y < 4; y++)
            for (x = 0; x < 4; x++)
                if (at(&out, 0, y, x) != expect[y][x] && bad < 0)
                    bad = y * 4 + x;
        check(bad < 0, "conv_transpose: all of 4x4 aligned as 2i + ky = y "
              "(the full 5x5 loses its last row and column)",
              "out[%d][%d] is %g, expected %g", bad / 4, bad % 4,
              bad < 0 ? 0 : at(&out, 0, bad / 4, bad % 4),
              bad < 0 ? 0 : expect[bad / 4][bad % 4]);
    }
    nst_tensor_free(&out);
    nst_tensor_free(&in);
}

/* ---- convolutions against naive formulas on random data ------------------------- */

static unsigned rng_state = 12345;

static float frand(void)
{
    rng_state = rng_state * 1103515245u + 12345u;
    return (float)((rng_state >> 8) & 0xffff) / 32768.0f - 1.0f;
}

static void fill_random(float *v, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        v[i] = frand();
}

static int mirror(int i, int n)
{
    return i < 0 ? -i : i >= n ? 2 * (n - 1) - i : i;
}

/* Straight from the spec: explicit padding amounts, direct sum. */
static double naive_conv(const NstLayer *l, const NstTensor *in, int o,
                         int y, int x, int pad_top, int pad_left)
{
    double sum = l->bias ? l->bias[o] : 0.0;
    int ky, kx, c;

    for (ky = 0; ky < l->kernel; ky++)
        for (kx = 0; kx < l->kernel; kx++)
            for (c = 0; c < l->in_ch; c++) {
                int iy = y * l->stride + ky - pad_top;
                int ix = x * l->stride + kx - pad_left;

                if (l->padding == NST_PAD_REFLECT) {
                    iy = mirror(iy, in->h);
                    ix = mirror(ix, in->w);
                } else if (iy < 0 || iy >= in->h || ix < 0 || ix >= in->w) {
                    continue;
                }
                sum += (double)at(in, c, iy, ix) *
                       l->weight[((ky * l->kernel + kx) * l->in_ch + c) *
                                 l->out_ch + o];
            }
    return sum;
}

static void check_conv_random(const char *name, int in_ch, int out_ch, int k,
                              int stride, NstPadding pad, int h, int w)
{
    size_t nw = (size_t)k * k * in_ch * out_ch;
    float *weight = malloc(nw * sizeof(float)), bias[16];
    NstTensor in = tensor(in_ch, h, w, NULL), out;
    NstLayer l = conv_layer(NST_OP_CONV, in_ch, out_ch, k, stride, pad,
                            weight, bias);
    int oh = pad == NST_PAD_SAME ? (h + stride - 1) / stride
                                 : (h - 1) / stride + 1;
    int ow = pad == NST_PAD_SAME ? (w + stride - 1) / stride
                                 : (w - 1) / stride + 1;
    int top = pad == NST_PAD_SAME ? ((oh - 1) * stride + k - h > 0 ?
                                     ((oh - 1) * stride + k - h) / 2 : 0) : k / 2;
    int left = pad == NST_PAD_SAME ? ((ow - 1) * stride + k - w > 0 ?
                                      ((ow - 1) * stride + k - w) / 2 : 0) : k / 2;
    double worst = 0;
    int o, y, x;

    fill_random(weight, nw);
    fill_random(bias, (size_t)out_ch);
    fill_random(in.data, (size_t)in_ch * h * w);
    if (run(name, &l, &in, NULL, &out, out_ch, oh, ow)) {
        for (o = 0; o < out_ch; o++)
            for (y = 0; y < oh; y++)
                for (x = 0; x < ow; x++) {
                    double d = fabs(at(&out, o, y, x) -
                                    naive_conv(&l, &in, o, y, x, top, left));
                    worst = d > worst ? d : worst;
                }
        check(worst < 1e-4, name, "differs from the direct sum by %g", worst);
    }
    nst_tensor_free(&out);
    nst_tensor_free(&in);
    free(weight);
}

/* The transposed conv as the spec writes it, scattering each input pixel:
 * out[s*i + ky - before][s*j + kx - before] += in[i][j] * W[ky][kx][o][c]. */
static void check_conv_transpose_random(int in_ch, int out_ch, int k,
                                        int stride, int h, int w)
{
    size_t nw = (size_t)k * k * in_ch * out_ch;
    float *weight = malloc(nw * sizeof(float)), bias[16];
    NstTensor in = tensor(in_ch, h, w, NULL), out;
    NstTensor expect = tensor(out_ch, h * stride, w * stride, NULL);
    NstLayer l = conv_layer(NST_OP_CONV_TRANSPOSE, in_ch, out_ch, k, stride,
                            NST_PAD_SAME, weight, bias);
    int before = k > stride ? (k - stride) / 2 : 0;
    int i, j, ky, kx, c, o, y, x;
    double worst = 0;
    char name[128];

    fill_random(weight, nw);
    fill_random(bias, (size_t)out_ch);
    fill_random(in.data, (size_t)in_ch * h * w);
    for (o = 0; o < out_ch; o++)
        for (i = 0; i < h * stride * w * stride; i++)
            expect.data[o * h * stride * w * stride + i] = bias[o];
    for (i = 0; i < h; i++)
        for (j = 0; j < w; j++)
            for (ky = 0; ky < k; ky++)
                for (kx = 0; kx < k; kx++) {
                    y = stride * i + ky - before;
                    x = stride * j + kx - before;
                    if (y < 0 || y >= h * stride || x < 0 || x >= w * stride)
                        continue;
                    for (o = 0; o < out_ch; o++)
                        for (c = 0; c < in_ch; c++)
                            expect.data[((size_t)o * expect.h + y) * expect.w + x] +=
                                at(&in, c, i, j) *
                                weight[((ky * k + kx) * out_ch + o) * in_ch + c];
                }
    snprintf(name, sizeof(name), "conv_transpose %dx%d stride %d, %d->%d "
             "channels, %dx%d, against the scatter form", k, k, stride, in_ch,
             out_ch, h, w);
    if (run(name, &l, &in, NULL, &out, out_ch, h * stride, w * stride)) {
        for (i = 0; i < out_ch * out.h * out.w; i++) {
            double d = fabs(out.data[i] - expect.data[i]);
            worst = d > worst ? d : worst;
        }
        check(worst < 1e-4, name, "differs by %g", worst);
    }
    nst_tensor_free(&out);
    nst_tensor_free(&expect);
    nst_tensor_free(&in);
    free(weight);
}

static void test_random_convs(void)
{
    check_conv_random("conv 3x3 SAME stride 1, 3->5 channels, 6x7", 3, 5, 3, 1,
                      NST_PAD_SAME, 6, 7);
    check_conv_random("conv 3x3 SAME stride 2, 4->9 channels, 7x6", 4, 9, 3, 2,
                      NST_PAD_SAME, 7, 6);
    check_conv_random("conv 9x9 SAME stride 1, 3->16 channels, 10x11", 3, 16,
                      9, 1, NST_PAD_SAME, 10, 11);
    check_conv_random("conv 5x5 reflect stride 2, 2->11 channels, 6x7", 2, 11,
                      5, 2, NST_PAD_REFLECT, 6, 7);
    check_conv_random("conv 3x3 symmetric stride 3, 5->3 channels, 8x7", 5, 3,
                      3, 3, NST_PAD_SYMMETRIC, 8, 7);
    check_conv_transpose_random(5, 3, 3, 2, 3, 4);
    check_conv_transpose_random(3, 9, 4, 2, 2, 3);
    check_conv_transpose_random(2, 4, 5, 3, 3, 2);
    check_conv_transpose_random(2, 2, 1, 2, 3, 3);
}

/* ---- the other ops -------------------------------------------------------------- */

static void test_instance_norm(void)
{
    static const float scale[2] = { 1, 2 }, shift[2] = { 0, 3 };
    NstTensor in = tensor(2, 7, 5, NULL), out;
    NstLayer l = simple_layer(NST_OP_INSTANCE_NORM, 2);
    int c, i, n = 35;

    l.scale = scale;
    l.shift = shift;
    l.eps = 1e-3f;
    for (i = 0; i < 2 * n; i++)
        in.data[i] = 5 * frand() + (i < n ? 100 : -7);
    if (run("instance norm", &l, &in, NULL, &out, 2, 7, 5)) {
        for (c = 0; c < 2; c++) {
            double mean = 0, var = 0, in_mean = 0, in_var = 0, want_var;
            char name[96];

            for (i = 0; i < n; i++) {
                mean += out.data[c * n + i];
                in_mean += in.data[c * n + i];
            }
            mean /= n;
            in_mean /= n;
            for (i = 0; i < n; i++) {
                var += (out.data[c * n + i] - mean) * (out.data[c * n + i] - mean);
                in_var += (in.data[c * n + i] - in_mean) *
                          (in.data[c * n + i] - in_mean);
            }
            var /= n;
            in_var /= n; /* biased, as the op uses */
            want_var = scale[c] * scale[c] * in_var / (in_var + 1e-3);
            snprintf(name, sizeof(name), "instance norm channel %d: mean %g, "
                     "variance scale^2 var/(var+eps)", c, shift[c]);
            check(fabs(mean - shift[c]) < 1e-5 && fabs(var - want_var) < 1e-5,
                  name, "mean %.8f variance %.8f (want %.8f)", mean, var,
                  want_var);
        }
    }
    nst_tensor_free(&out);

    /* constant input: variance 0, the result is the shift */
    for (i = 0; i < 2 * n; i++)
        in.data[i] = 4.0f;
    if (run("instance norm of a constant", &l, &in, NULL, &out, 2, 7, 5))
        check(at(&out, 0, 3, 3) == 0.0f && at(&out, 1, 6, 4) == 3.0f,
              "instance norm of a constant is the shift", "%g %g",
              at(&out, 0, 3, 3), at(&out, 1, 6, 4));
    nst_tensor_free(&out);
    nst_tensor_free(&in);
}

static void test_output_op(void)
{
    static const float x[6] = { 0, 10, -10, 0.5f, -0.25f, 1e30f };
    NstTensor in = tensor(3, 1, 2, x), out;
    NstLayer l = simple_layer(NST_OP_OUTPUT, 3);

    l.out_tanh = 1;
    l.out_mul = 150;
    l.out_add = 127.5f;
    l.out_min = 0;
    l.out_max = 255;
    if (run("output op", &l, &in, NULL, &out, 3, 1, 2))
        check(out.data[0] == 127.5f && out.data[1] == 255.0f &&
              out.data[2] == 0.0f &&
              fabsf(out.data[3] - (float)(tanh(0.5) * 150 + 127.5)) < 1e-4f &&
              fabsf(out.data[4] - (float)(tanh(-0.25) * 150 + 127.5)) < 1e-4f &&
              out.data[5] == 255.0f,
              "output: clamp(tanh(x) * 150 + 127.5, 0, 255)",
              "%g %g %g %g %g %g", out.data[0], out.data[1], out.data[2],
              out.data[3], out.data[4], out.data[5]);
    nst_tensor_free(&out);

    l.out_tanh = 0;
    l.out_mul = 2;
    l.out_add = 1;
    l.out_min = -1;
    l.out_max = 2;
    if (run("output op without tanh", &l, &in, NULL, &out, 3, 1, 2))
        check(out.data[0] == 1.0f && out.data[1] == 2.0f &&
              out.data[2] == -1.0f && out.data[3] == 2.0f &&
              out.data[4] == 0.5f, "output without tanh: clamp(2x + 1, -1, 2)",
              "%g %g %g %g %g", out.data[0], out.data[1], out.data[2],
              out.data[3], out.data[4]);
    nst_tensor_free(&out);
    nst_tensor_free(&in);
}

static void test_upsample_add_relu(void)
{
    static const float v[4] = { 1, -2, 3, -4 };
    static const float w[4] = { 10, 20, 30, 40 };
    NstTensor a = tensor(1, 2, 2, v), b = tensor(1, 2, 2, w), c3 = tensor(1, 1, 2, v);
    NstTensor out, wrong = tensor(1, 2, 3, NULL);
    NstLayer l = simple_layer(NST_OP_UPSAMPLE, 1);

    l.stride = 2;
    if (run("upsample x2", &l, &a, NULL, &out, 1, 4, 4))
        check(at(&out, 0, 0, 0) == 1 && at(&out, 0, 1, 1) == 1 &&
              at(&out, 0, 0, 2) == -2 && at(&out, 0, 1, 3) == -2 &&
              at(&out, 0, 3, 0) == 3 && at(&out, 0, 3, 3) == -4,
              "upsample x2: nearest neighbour", "-");
    nst_tensor_free(&out);
    l.stride = 3;
    if (run("upsample x3 of 1x2", &l, &c3, NULL, &out, 1, 3, 6))
        check(at(&out, 0, 2, 2) == 1 && at(&out, 0, 0, 3) == -2 &&
              at(&out, 0, 2, 5) == -2, "upsample x3: nearest neighbour", "-");
    nst_tensor_free(&out);

    l = simple_layer(NST_OP_ADD, 1);
    if (run("add", &l, &a, &b, &out, 1, 2, 2))
        check(out.data[0] == 11 && out.data[1] == 18 && out.data[2] == 33 &&
              out.data[3] == 36, "add: elementwise", "-");
    nst_tensor_free(&out);
    check(nst_ref_layer(&l, &a, &wrong, &out) == NST_ERR_INVALID && !out.data,
          "add of different sizes is refused", "-");
    check(nst_ref_layer(&l, &a, NULL, &out) == NST_ERR_INVALID,
          "add without a second input is refused", "-");

    l = simple_layer(NST_OP_RELU, 1);
    if (run("relu", &l, &a, NULL, &out, 1, 2, 2))
        check(out.data[0] == 1 && out.data[1] == 0 && out.data[2] == 3 &&
              out.data[3] == 0, "relu", "-");
    nst_tensor_free(&out);
    l.in_ch = 2;
    check(nst_ref_layer(&l, &a, NULL, &out) == NST_ERR_INVALID,
          "a layer given the wrong channel count refuses", "-");

    nst_tensor_free(&a);
    nst_tensor_free(&b);
    nst_tensor_free(&c3);
    nst_tensor_free(&wrong);
}

static void test_sizes(void)
{
    NstLayer conv = conv_layer(NST_OP_CONV, 3, 3, 3, 2, NST_PAD_SAME, tap00, NULL);
    NstLayer up = simple_layer(NST_OP_UPSAMPLE, 3);
    NstTensor t;
    int oh, ow;

    check(nst_layer_out_size(&conv, 75, 53, &oh, &ow) == NST_OK && oh == 38 &&
          ow == 27, "SAME stride 2: 75x53 -> 38x27", "%dx%d", oh, ow);
    check(nst_layer_out_size(&conv, 1, 1, &oh, &ow) == NST_OK && oh == 1 &&
          ow == 1, "SAME stride 2: 1x1 -> 1x1", "%dx%d", oh, ow);
    check(nst_layer_out_size(&conv, 0, 5, &oh, &ow) == NST_ERR_INVALID,
          "size 0 is refused", "-");
    conv.op = NST_OP_CONV_TRANSPOSE;
    check(nst_layer_out_size(&conv, 19, 14, &oh, &ow) == NST_OK && oh == 38 &&
          ow == 28, "conv_transpose stride 2 doubles", "%dx%d", oh, ow);
    check(nst_layer_out_size(&conv, 1 << 30, 4, &oh, &ow) == NST_ERR_INVALID,
          "a size that would overflow is refused", "-");
    up.stride = 4;
    check(nst_layer_out_size(&up, 3, 5, &oh, &ow) == NST_OK && oh == 12 &&
          ow == 20, "upsample x4", "%dx%d", oh, ow);
    check(nst_tensor_alloc(&t, 0, 4, 4) == NST_ERR_INVALID && !t.data,
          "a tensor with 0 channels is refused", "-");
}

/* ---- whole networks ------------------------------------------------------------- */

/* relu(x) + x through a residual add on the network input, then output. */
static void test_forward_plumbing(void)
{
    static const float x[6] = { -1, 2, -3, 4, 5, -6 };
    NstLayer layers[3];
    NstModel m;
    NstTensor in = tensor(3, 1, 2, x), out;
    int ret;

    memset(&m, 0, sizeof(m));
    layers[0] = simple_layer(NST_OP_RELU, 3);
    layers[1] = simple_layer(NST_OP_ADD, 3);
    layers[1].input[0] = 0;
    layers[1].input[1] = -1;
    layers[2] = simple_layer(NST_OP_OUTPUT, 3);
    layers[2].input[0] = 1;
    m.layers = layers;
    m.n_layers = 3;
    ret = nst_ref_forward(&m, &in, &out);
    check(ret == NST_OK && out.c == 3 && out.h == 1 && out.w == 2 &&
          out.data[0] == -1 && out.data[1] == 4 && out.data[3] == 8 &&
          out.data[5] == -6, "forward: residual add of the network input, "
          "the output op left out", "%d", ret);
    nst_tensor_free(&out);
    nst_tensor_free(&in);
}

static int all_finite(const NstTensor *t)
{
    size_t i, n = (size_t)t->c * t->h * t->w;

    for (i = 0; i < n; i++)
        if (!isfinite(t->data[i]))
            return 0;
    return 1;
}

static void test_udnie(void)
{
    const char *build = getenv("NST_BUILD");
    char path[1024], err[512] = "";
    NstModel *m = NULL;
    NstTensor in, out, pixels;
    int i, ret;

    snprintf(path, sizeof(path), "%s/models/udnie.bin",
             build && *build ? build : "build");
    ret = nst_model_load_file(path, &m, err, sizeof(err));
    if (!check(ret == NST_OK, "udnie loads", "%s (run make models)", err))
        return;

    in = tensor(3, 16, 20, NULL);
    for (i = 0; i < 3 * 16 * 20; i++)
        in.data[i] = 127.5f + 127.5f * frand();
    ret = nst_ref_forward(m, &in, &out);
    check(ret == NST_OK && out.c == 3 && out.h == 16 && out.w == 20 &&
          all_finite(&out), "udnie forward on 20x16: 3x16x20, finite",
          "code %d, %dx%dx%d", ret, out.c, out.h, out.w);
    if (ret == NST_OK) {
        ret = nst_ref_layer(&m->layers[m->n_layers - 1], &out, NULL, &pixels);
        check(ret == NST_OK && all_finite(&pixels), "udnie output op: pixels",
              "%d", ret);
        for (i = 0; ret == NST_OK && i < 3 * 16 * 20; i++)
            if (pixels.data[i] < 0 || pixels.data[i] > 255)
                break;
        check(ret == NST_OK && i == 3 * 16 * 20, "udnie pixels in 0..255",
              "pixel %d is %g", i,
              ret == NST_OK && i < 3 * 16 * 20 ? pixels.data[i] : 0.0f);
        nst_tensor_free(&pixels);
    }
    nst_tensor_free(&out);
    nst_tensor_free(&in);

    /* sizes not a multiple of 4 grow (spec: 75x53 comes out 76x56) */
    in = tensor(3, 53, 75, NULL);
    for (i = 0; i < 3 * 53 * 75; i++)
        in.data[i] = 127.5f + 127.5f * frand();
    ret = nst_ref_forward(m, &in, &out);
    check(ret == NST_OK && out.c == 3 && out.h == 56 && out.w == 76 &&
          all_finite(&out), "udnie forward on 75x53 returns 76x56",
          "code %d, %dx%dx%d", ret, out.c, out.h, out.w);
    nst_tensor_free(&out);
    nst_tensor_free(&in);

    in = tensor(2, 16, 16, NULL);
    check(nst_ref_forward(m, &in, &out) == NST_ERR_INVALID && !out.data,
          "forward refuses a 2-channel input", "-");
    nst_tensor_free(&in);
    nst_model_free(&m);
}

int main(void)
{
    test_conv_same();
    test_conv_padding_modes();
    test_weight_layouts();
    test_conv_transpose_by_hand();
    test_random_convs();
    test_instance_norm();
    test_output_op();
    test_upsample_add_relu();
    test_sizes();
    test_forward_plumbing();
    test_udnie();
    return check_status();
}
