/*
 * Plain C reference of every op (docs/style-bin.md, "Shapes and padding").
 *
 * Written to be checked by eye first and fast enough second. Both kinds of
 * convolution are one gather: for every output pixel and kernel tap, the
 * input pixel that tap reads is looked up in per-row and per-column tables
 * (so padding and the transposed conv's alignment live in one place each),
 * and the products are summed over the input channels for a block of
 * output channels at a time.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ref/ref.h"

static size_t tensor_size(const NstTensor *t)
{
    return (size_t)t->c * t->h * t->w;
}

/* ---- convolutions ----------------------------------------------------------- */

/* TF SAME: ceil(n / stride) outputs, pad_before = total / 2. */
static int same_pad_before(int n, int out, int kernel, int stride)
{
    int total = (out - 1) * stride + kernel - n;

    return total > 0 ? total / 2 : 0;
}

/* For each output position o and tap t: taps[o * kernel + t] is the input
 * position that tap reads, or -1 where it reads a zero. */
static void conv_taps(const NstLayer *l, int n, int out, int *taps)
{
    int k = l->kernel, s = l->stride, o, t;
    int before = l->padding == NST_PAD_SAME ? same_pad_before(n, out, k, s)
                                            : k / 2;

    for (o = 0; o < out; o++) {
        for (t = 0; t < k; t++) {
            int i = o * s + t - before;

            if (l->padding == NST_PAD_REFLECT) /* mirror, edge not repeated */
                i = i < 0 ? -i : i >= n ? 2 * (n - 1) - i : i;
            else if (i < 0 || i >= n)
                i = -1;
            taps[o * k + t] = i;
        }
    }
}

/* The transposed conv: out[o] = sum of in[i] * W[t] over s*i + t - before
 * = o, with before = max(kernel - stride, 0) / 2 (TF SAME). Each output
 * gathers at most one input per tap. */
static void conv_transpose_taps(const NstLayer *l, int n, int out, int *taps)
{
    int k = l->kernel, s = l->stride, o, t;
    int before = k > s ? (k - s) / 2 : 0;

    for (o = 0; o < out; o++) {
        for (t = 0; t < k; t++) {
            int d = o + before - t;

            taps[o * k + t] = d >= 0 && d % s == 0 && d / s < n ? d / s : -1;
        }
    }
}

/* Output channels are computed BLOCK at a time: the weights of a block are
 * packed contiguously ([ky][kx][in][BLOCK], zero past out_ch) and summed
 * into a fixed-size accumulator that gcc keeps in registers and vectorises
 * at -O2, while the block's weights stay in cache for every pixel. */
#define BLOCK 8

/* UBSan's checks of every load (null, alignment, pointer overflow) make
 * the innermost loop several times slower under the sanitizer build and
 * cannot fire there: indices are size_t and the pointers come from checked
 * allocations. ASan still checks every access. */
#if defined(__has_attribute)
#if __has_attribute(no_sanitize)
#define NO_UBSAN __attribute__((no_sanitize("undefined")))
#endif
#endif
#ifndef NO_UBSAN
#define NO_UBSAN
#endif

typedef struct ConvPlan {
    int kernel, in_ch, in_w;
    const float *in;       /* HWC */
    const int *rows, *cols;
} ConvPlan;

/* CHW -> HWC, so that a pixel's channels are contiguous. */
static float *to_hwc(const NstTensor *t)
{
    float *hwc = malloc(tensor_size(t) * sizeof(float));
    size_t hw = (size_t)t->h * t->w, i;
    int c;

    if (!hwc)
        return NULL;
    for (c = 0; c < t->c; c++)
        for (i = 0; i < hw; i++)
            hwc[i * t->c + c] = t->data[c * hw + i];
    return hwc;
}

/* Both weight layouts (conv [k][k][in][out], conv_transpose
 * [k][k][out][in]) regrouped as [out / BLOCK][k][k][in][BLOCK]. */
static float *pack_weights(const NstLayer *l, size_t *block_size)
{
    size_t taps = (size_t)l->kernel * l->kernel, in_ch = l->in_ch;
    size_t out_ch = l->out_ch, n_blocks = (out_ch + BLOCK - 1) / BLOCK;
    size_t bs = taps * in_ch * BLOCK, t, c, o;
    float *packed = calloc(n_blocks * bs, sizeof(float));

    if (!packed)
        return NULL;
    for (t = 0; t < taps; t++)
        for (c = 0; c < in_ch; c++)
            for (o = 0; o < out_ch; o++)
                packed[o / BLOCK * bs + (t * in_ch + c) * BLOCK + o % BLOCK] =
                    l->op == NST_OP_CONV_TRANSPOSE
                        ? l->weight[(t * out_ch + o) * in_ch + c]
                        : l->weight[(t * in_ch + c) * out_ch + o];
    *block_size = bs;
    return packed;
}

/* sum[j]: output channel j of the block at pixel (y, x), summed over every
 * tap and input channel; taps that read the zero padding are skipped. */
NO_UBSAN
static void conv_pixel(const ConvPlan *p, const float *w, int y, int x,
                       float sum[BLOCK])
{
    size_t k = p->kernel, in_ch = p->in_ch, ky, kx, c, j;
    float a[BLOCK] = { 0 };

    for (ky = 0; ky < k; ky++) {
        int sy = p->rows[y * k + ky];

        if (sy < 0)
            continue;
        for (kx = 0; kx < k; kx++) {
            int sx = p->cols[x * k + kx];
            const float *src, *tap;

            if (sx < 0)
                continue;
            src = p->in + ((size_t)sy * p->in_w + sx) * in_ch;
            tap = w + (ky * k + kx) * in_ch * BLOCK;
            for (c = 0; c < in_ch; c++, tap += BLOCK)
                for (j = 0; j < BLOCK; j++)
                    a[j] += src[c] * tap[j];
        }
    }
    memcpy(sum, a, sizeof(a));
}

static int conv_layer(const NstLayer *l, const NstTensor *in, NstTensor *out)
{
    size_t plane = (size_t)out->h * out->w, block_size = 0, o0, j;
    int *rows = malloc((size_t)out->h * l->kernel * sizeof(int));
    int *cols = malloc((size_t)out->w * l->kernel * sizeof(int));
    float *hwc = to_hwc(in);
    float *packed = pack_weights(l, &block_size);
    ConvPlan p = { l->kernel, l->in_ch, in->w, hwc, rows, cols };
    int ret = NST_ERR_NOMEM, y, x;

    if (!rows || !cols || !hwc || !packed)
        goto end;
    if (l->op == NST_OP_CONV_TRANSPOSE) {
        conv_transpose_taps(l, in->h, out->h, rows);
        conv_transpose_taps(l, in->w, out->w, cols);
    } else {
        conv_taps(l, in->h, out->h, rows);
        conv_taps(l, in->w, out->w, cols);
    }
    for (o0 = 0; o0 < (size_t)l->out_ch; o0 += BLOCK) {
        size_t n = l->out_ch - o0 < BLOCK ? l->out_ch - o0 : BLOCK;
        const float *w = packed + o0 / BLOCK * block_size;

        for (y = 0; y < out->h; y++) {
            for (x = 0; x < out->w; x++) {
                float *dst = out->data + (size_t)y * out->w + x;
                float sum[BLOCK];

                conv_pixel(&p, w, y, x, sum);
                for (j = 0; j < n; j++)
                    dst[(o0 + j) * plane] = sum[j] +
                                            (l->bias ? l->bias[o0 + j] : 0.0f);
            }
        }
    }
    ret = NST_OK;
end:
    free(rows);
    free(cols);
    free(hwc);
    free(packed);
    return ret;
}

/* ---- the other ops ------------------------------------------------------------- */

static void upsample(const NstLayer *l, const NstTensor *in, NstTensor *out)
{
    int c, y, x, f = l->stride;

    for (c = 0; c < out->c; c++)
        for (y = 0; y < out->h; y++)
            for (x = 0; x < out->w; x++)
                out->data[((size_t)c * out->h + y) * out->w + x] =
                    in->data[((size_t)c * in->h + y / f) * in->w + x / f];
}

/* Per channel over H*W, biased variance, in double. */
/* carry (NULL: none): the statistics of the previous frame, mixed in by k
 * and replaced by those used (nst_ref_forward_smoothed). */
static void instance_norm(const NstLayer *l, const NstTensor *in,
                          NstTensor *out, double *carry_mean, double *carry_var,
                          float k)
{
    size_t hw = (size_t)in->h * in->w, i;
    int c;

    for (c = 0; c < in->c; c++) {
        const float *x = in->data + c * hw;
        float *y = out->data + c * hw;
        double sum = 0.0, sq = 0.0, mean, var, inv_std;

        for (i = 0; i < hw; i++)
            sum += x[i];
        mean = sum / hw;
        for (i = 0; i < hw; i++)
            sq += (x[i] - mean) * (x[i] - mean);
        var = sq / hw;
        if (carry_mean) {
            if (k > 0.0f) {
                mean += k * (carry_mean[c] - mean);
                var += k * (carry_var[c] - var);
            }
            carry_mean[c] = mean;
            carry_var[c] = var;
        }
        inv_std = 1.0 / sqrt(var + l->eps);
        for (i = 0; i < hw; i++)
            y[i] = (float)(l->scale[c] * ((x[i] - mean) * inv_std) +
                           l->shift[c]);
    }
}

static void relu(const NstTensor *in, NstTensor *out)
{
    size_t n = tensor_size(in), i;

    for (i = 0; i < n; i++)
        out->data[i] = in->data[i] > 0.0f ? in->data[i] : 0.0f;
}

static void add(const NstTensor *a, const NstTensor *b, NstTensor *out)
{
    size_t n = tensor_size(a), i;

    for (i = 0; i < n; i++)
        out->data[i] = a->data[i] + b->data[i];
}

/* pixel = clamp(act(x) * mul + add, min, max) */
static void output(const NstLayer *l, const NstTensor *in, NstTensor *out)
{
    size_t n = tensor_size(in), i;

    for (i = 0; i < n; i++) {
        double v = l->out_tanh ? tanh(in->data[i]) : in->data[i];

        v = v * l->out_mul + l->out_add;
        v = v < l->out_min ? l->out_min : v > l->out_max ? l->out_max : v;
        out->data[i] = (float)v;
    }
}

static int same_shape(const NstTensor *a, const NstTensor *b)
{
    return a->c == b->c && a->h == b->h && a->w == b->w;
}

static int ref_layer(const NstLayer *l, const NstTensor *in0, const NstTensor *in1,
                     NstTensor *out, double *carry_mean, double *carry_var, float k);

int nst_ref_layer(const NstLayer *l, const NstTensor *in0,
                  const NstTensor *in1, NstTensor *out)
{
    return ref_layer(l, in0, in1, out, NULL, NULL, 0.0f);
}

static int ref_layer(const NstLayer *l, const NstTensor *in0, const NstTensor *in1,
                     NstTensor *out, double *carry_mean, double *carry_var, float k)
{
    int oh, ow, ret;

    if (!out)
        return NST_ERR_INVALID;
    memset(out, 0, sizeof(*out));
    if (!l || !in0 || !in0->data || in0->c != l->in_ch)
        return NST_ERR_INVALID;
    if (l->op == NST_OP_ADD && (!in1 || !in1->data || !same_shape(in0, in1)))
        return NST_ERR_INVALID;
    if ((ret = nst_layer_out_size(l, in0->h, in0->w, &oh, &ow)) < 0)
        return ret;
    if ((ret = nst_tensor_alloc(out, l->out_ch, oh, ow)) < 0)
        return ret;
    switch (l->op) {
    case NST_OP_CONV:
    case NST_OP_CONV_TRANSPOSE:
        ret = conv_layer(l, in0, out);
        break;
    case NST_OP_UPSAMPLE:       upsample(l, in0, out);      break;
    case NST_OP_INSTANCE_NORM:
        instance_norm(l, in0, out, carry_mean, carry_var, k);
        break;
    case NST_OP_RELU:           relu(in0, out);             break;
    case NST_OP_ADD:            add(in0, in1, out);         break;
    case NST_OP_OUTPUT:         output(l, in0, out);        break;
    }
    if (ret < 0)
        nst_tensor_free(out);
    return ret;
}

/* ---- the network --------------------------------------------------------------- */

static int copy_tensor(const NstTensor *src, NstTensor *dst)
{
    int ret = nst_tensor_alloc(dst, src->c, src->h, src->w);

    if (ret >= 0)
        memcpy(dst->data, src->data, tensor_size(src) * sizeof(float));
    return ret;
}

static int n_inputs(const NstLayer *l)
{
    return l->op == NST_OP_ADD ? 2 : 1;
}

static size_t norm_channels(const NstModel *m)
{
    size_t n = 0;

    for (int i = 0; i < m->n_layers; i++)
        if (m->layers[i].op == NST_OP_INSTANCE_NORM)
            n += (size_t)m->layers[i].out_ch;
    return n;
}

void nst_ref_norm_state_free(NstRefNormState *state)
{
    if (!state)
        return;
    free(state->mean);
    free(state->var);
    memset(state, 0, sizeof(*state));
}

static int forward(const NstModel *m, const NstTensor *in, NstTensor *out,
                   NstRefNormState *state, int smoothed, float mix_k)
{
    NstTensor *t = NULL;
    int *last_use = NULL;
    int n, last, i, k, src, ret = NST_OK, norm = 0, n_norms = 0;
    size_t carry = 0;

    if (out)
        memset(out, 0, sizeof(*out));
    if (!m || !in || !out || m->n_layers < 1 || in->c != 3 || !in->data)
        return NST_ERR_INVALID;
    if (state && state->n != norm_channels(m)) {
        nst_ref_norm_state_free(state);
        state->n = norm_channels(m);
        state->mean = calloc(state->n ? state->n : 1, sizeof(*state->mean));
        state->var = calloc(state->n ? state->n : 1, sizeof(*state->var));
        if (!state->mean || !state->var) {
            nst_ref_norm_state_free(state);
            return NST_ERR_NOMEM;
        }
    }
    n = m->n_layers;
    last = n - 1;
    t = calloc((size_t)n, sizeof(*t));
    last_use = malloc((size_t)n * sizeof(*last_use));
    for (i = 0; i < n; i++)
        n_norms += m->layers[i].op == NST_OP_INSTANCE_NORM;
    if (!t || !last_use) {
        ret = NST_ERR_NOMEM;
        goto end;
    }
    /* Free each intermediate after the last layer that reads it. */
    for (i = 0; i < n; i++)
        last_use[i] = -1;
    for (i = 0; i < n; i++)
        for (k = 0; k < n_inputs(&m->layers[i]); k++) {
            src = m->layers[i].input[k];
            if (src < -1 || src >= i) {
                ret = NST_ERR_INVALID;
                goto end;
            }
            if (src >= 0)
                last_use[src] = i;
        }
    for (i = 0; i < last; i++) {
        const NstLayer *l = &m->layers[i];
        const NstTensor *x = l->input[0] < 0 ? in : &t[l->input[0]];
        const NstTensor *y = NULL;

        if (l->op == NST_OP_ADD)
            y = l->input[1] < 0 ? in : &t[l->input[1]];
        if (state && l->op == NST_OP_INSTANCE_NORM && norm++ >= n_norms - smoothed) {
            ret = ref_layer(l, x, y, &t[i], state->mean + carry, state->var + carry, mix_k);
            carry += (size_t)l->out_ch;
        } else {
            ret = nst_ref_layer(l, x, y, &t[i]);
        }
        if (ret < 0)
            goto end;
        for (k = 0; k < n_inputs(l); k++)
            if (l->input[k] >= 0 && last_use[l->input[k]] == i)
                nst_tensor_free(&t[l->input[k]]);
    }
    src = m->layers[last].input[0];
    if (src < 0) {
        ret = copy_tensor(in, out);
    } else {
        *out = t[src];
        memset(&t[src], 0, sizeof(t[src]));
    }
end:
    for (i = 0; t && i < n; i++)
        nst_tensor_free(&t[i]);
    free(t);
    free(last_use);
    return ret;
}

int nst_ref_forward(const NstModel *m, const NstTensor *in, NstTensor *out)
{
    return forward(m, in, out, NULL, 0, 0.0f);
}

int nst_ref_forward_smoothed(const NstModel *m, const NstTensor *in, NstTensor *out,
                             NstRefNormState *state, int last, float k)
{
    if (!state) {
        if (out)
            memset(out, 0, sizeof(*out));
        return NST_ERR_INVALID;
    }
    return forward(m, in, out, state, last, k);
}
