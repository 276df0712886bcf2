/* Direct convolutions, plain and transposed (shaders/conv*.comp). */
#include <string.h>

#include "net/ops.h"

/* conv.comp's and conv_transpose.comp's push-constant block. */
typedef struct ConvPush {
    int32_t in_w, in_h, in_c4;
    int32_t out_w, out_h, out_c4;
    int32_t pad_t, pad_l;
    int32_t w_off, b_off;
    int32_t ab_off;
    int32_t y0, y1, src_y0, src_h, dst_y0, dst_h;
} ConvPush;
_Static_assert(sizeof(ConvPush) == 17 * 4, "conv.comp's push block");

int nst_conv_ocb(const NstLayer *L)
{
    return nst_c4(L->out_ch) % 2 == 0 ? 2 : 1;
}

/* Pixels per conv invocation: with one output texel per invocation, more
 * pixels share each weight fetch; with two, four keep the accumulators
 * (2 x 4 texels) within a CPU's vector registers. */
int nst_conv_px(int ocb)
{
    return ocb == 1 ? 8 : 4;
}

size_t nst_conv_texels(const NstLayer *L)
{
    size_t k = (size_t)L->kernel, bias = L->bias ? (size_t)nst_c4(L->out_ch) : 0;

    if (nst_wino_applies(L))
        return nst_wino_texels(L) + bias;
    return (size_t)nst_c4(L->out_ch) * (size_t)nst_c4(L->in_ch) * k * k * 4 + bias;
}

/* Packs a conv or transposed conv as conv.comp reads it (see there). */
static void pack_direct(const NstLayer *L, float *dst)
{
    int K = L->kernel, ocb = nst_conv_ocb(L);
    int ci4 = nst_c4(L->in_ch), co4 = nst_c4(L->out_ch);
    int transposed = L->op == NST_OP_CONV_TRANSPOSE;

    for (int og = 0; og < co4 / ocb; og++)
        for (int ic = 0; ic < ci4; ic++)
            for (int ky = 0; ky < K; ky++)
                for (int kx = 0; kx < K; kx++)
                    for (int t = 0; t < ocb; t++)
                        for (int ci = 0; ci < 4; ci++)
                            for (int j = 0; j < 4; j++) {
                                int o = 4 * (og * ocb + t) + j, c = 4 * ic + ci;
                                size_t tap = (size_t)(ky * K + kx);
                                float v = 0.0f;
                                if (o < L->out_ch && c < L->in_ch)
                                    v = transposed
                                        ? L->weight[(tap * L->out_ch + o) * L->in_ch + c]
                                        : L->weight[(tap * L->in_ch + c) * L->out_ch + o];
                                *dst++ = v;
                            }
}

size_t nst_conv_pack(NstExec *x, const NstLayer *L, float *p, int w_off)
{
    size_t n;

    x->ocb = nst_conv_ocb(L);
    x->wino = nst_wino_applies(L);
    x->w_off = w_off;
    if (x->wino) {
        nst_wino_pack(L, x->ocb, p);
        n = nst_wino_texels(L) * 4;
    } else {
        pack_direct(L, p);
        n = (size_t)nst_c4(L->out_ch) * nst_c4(L->in_ch) * L->kernel * L->kernel * 16;
    }
    if (L->bias) {
        x->b_off = w_off + (int)(n / 4);
        memset(p + n, 0, (size_t)nst_c4(L->out_ch) * 4 * sizeof(*p));
        memcpy(p + n, L->bias, (size_t)L->out_ch * sizeof(*p));
        n += (size_t)nst_c4(L->out_ch) * 4;
    }
    return n;
}

int nst_conv_pipelines(NstNet *net, NstExec *x)
{
    const NstLayer *L = nst_exec_layer(net, x);
    int32_t spec[7] = { L->kernel, L->stride, L->padding == NST_PAD_REFLECT,
                        x->ocb, x->b_off >= 0, nst_conv_px(x->ocb), x->norm_in };
    int r;

    if (x->wino)
        return nst_wino_pipelines(net, x);
    r = nst_net_pipeline(net, L->op == NST_OP_CONV ? "conv" : "conv_transpose", 1, 1,
                         spec, 7);
    if (r >= 0)
        x->pipeline[0] = r;
    return r;
}

int nst_conv_pad(const NstLayer *L, int in, int out)
{
    int total;

    if (L->op == NST_OP_CONV_TRANSPOSE)
        total = L->kernel > L->stride ? L->kernel - L->stride : 0;
    else if (L->padding == NST_PAD_SAME)
        total = (out - 1) * L->stride + L->kernel - in;
    else
        return L->kernel / 2;
    return total > 0 ? total / 2 : 0;
}

int nst_conv_norm_in_off(const NstNet *net, const NstExec *x)
{
    return x->norm_in ? net->exec[x->input[0]].ab_off : 0;
}

int nst_conv_step(NstNet *net, const NstExec *x, const NstBuffer *src,
                  const NstBuffer *dst, NstRows r)
{
    const NstLayer *L = nst_exec_layer(net, x);
    NstBinds b = { src, &net->weights, dst, NULL, x->norm_in ? &net->factors : NULL };
    ConvPush p = {
        x->in_w, x->in_h, x->in_c4, x->out_w, x->out_h, x->out_c4,
        nst_conv_pad(L, x->in_h, x->out_h), nst_conv_pad(L, x->in_w, x->out_w),
        x->w_off, x->b_off, nst_conv_norm_in_off(net, x),
        r.y0, r.y1, r.src_y0, r.src_h, r.dst_y0, r.dst_h,
    };
    /* a transposed conv's invocations each take one phase of x */
    int phases = L->op == NST_OP_CONV_TRANSPOSE ? L->stride : 1;
    int blocks = (int)nst_groups((int)nst_groups(x->out_w, phases), nst_conv_px(x->ocb));

    return nst_net_add_step(net, x->pipeline[0], b, &p, sizeof(p),
                            nst_groups(blocks, 64), (uint32_t)(r.y1 - r.y0),
                            (uint32_t)(x->out_c4 / x->ocb * phases));
}

int nst_conv_plan(NstNet *net, NstExec *x)
{
    if (x->wino)
        return nst_wino_plan(net, x);
    return nst_conv_step(net, x, nst_net_value_buffer(net, x->input[0]),
                         &net->buffers[x->buffer],
                         (NstRows){ 0, x->out_h, 0, x->in_h, 0, x->out_h });
}

static int mirror(int i, int n)
{
    i = i < 0 ? -i : i;
    return i >= n ? 2 * n - 2 - i : i;
}

void nst_conv_rows_read(const NstNet *net, const NstExec *x, int y0, int y1,
                        int *lo, int *hi)
{
    const NstLayer *L = nst_exec_layer(net, x);
    int pad = nst_conv_pad(L, x->in_h, x->out_h);

    *lo = x->in_h;
    *hi = 0;
    for (int y = y0; y < y1; y++)
        for (int k = 0; k < L->kernel; k++) {
            int iy;
            if (L->op == NST_OP_CONV_TRANSPOSE) {
                int t = y + pad - k;
                if (t < 0 || t % L->stride)
                    continue;
                iy = t / L->stride;
            } else {
                iy = y * L->stride + k - pad;
                if (L->padding == NST_PAD_REFLECT)
                    iy = mirror(iy, x->in_h);
            }
            if (iy < 0 || iy >= x->in_h)
                continue;
            *lo = iy < *lo ? iy : *lo;
            *hi = iy + 1 > *hi ? iy + 1 : *hi;
        }
    if (*hi <= *lo)
        *lo = *hi = 0;
}
