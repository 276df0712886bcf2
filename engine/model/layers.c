/* style.bin parser: the layer table, each record checked against its op. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/model.h"
#include "model/parser.h"

static const char *op_name(uint32_t op)
{
    static const char *const names[] = {
        [NST_OP_CONV]           = "conv",
        [NST_OP_CONV_TRANSPOSE] = "conv_transpose",
        [NST_OP_UPSAMPLE]       = "upsample",
        [NST_OP_INSTANCE_NORM]  = "instance_norm",
        [NST_OP_RELU]           = "relu",
        [NST_OP_ADD]            = "add",
        [NST_OP_OUTPUT]         = "output",
    };

    return op >= 1 && op <= NST_OP_OUTPUT ? names[op] : "unknown";
}

/* ---- layer table ----------------------------------------------------------- */

static void read_layer(const uint8_t *r, LayerRecord *l)
{
    int k;

    l->op       = rd_u32(r + 0);
    l->flags    = rd_u32(r + 4);
    l->input[0] = rd_i32(r + 8);
    l->input[1] = rd_i32(r + 12);
    l->tensor[0] = rd_u32(r + 16);
    l->tensor[1] = rd_u32(r + 20);
    l->in_ch    = rd_u32(r + 24);
    l->out_ch   = rd_u32(r + 28);
    l->kernel   = rd_u32(r + 32);
    l->stride   = rd_u32(r + 36);
    l->padding  = rd_u32(r + 40);
    l->reserved = rd_u32(r + 44);
    for (k = 0; k < 4; k++)
        l->f[k] = rd_f32(r + 48 + 4 * k);
}

/* Which fields each op reads; the others must hold their "unused" value. */
enum {
    USE_INPUT1  = 1 << 0,
    USE_TENSOR0 = 1 << 1,
    USE_TENSOR1 = 1 << 2,
    USE_KERNEL  = 1 << 3,
    USE_STRIDE  = 1 << 4,
    USE_PADDING = 1 << 5,
    USE_FLAGS   = 1 << 6,
};

static const struct {
    unsigned uses;
    int n_floats;   /* f[0 .. n_floats-1] are parameters */
} op_fields[] = {
    [NST_OP_CONV]           = { USE_TENSOR0 | USE_TENSOR1 | USE_KERNEL |
                                USE_STRIDE | USE_PADDING, 0 },
    [NST_OP_CONV_TRANSPOSE] = { USE_TENSOR0 | USE_TENSOR1 | USE_KERNEL |
                                USE_STRIDE | USE_PADDING, 0 },
    [NST_OP_UPSAMPLE]       = { USE_STRIDE, 0 },
    [NST_OP_INSTANCE_NORM]  = { USE_TENSOR0 | USE_TENSOR1, 1 },
    [NST_OP_RELU]           = { 0, 0 },
    [NST_OP_ADD]            = { USE_INPUT1, 0 },
    [NST_OP_OUTPUT]         = { USE_FLAGS, 4 },
};

typedef struct LayerCtx {
    Parser *p;
    uint32_t index;
    const LayerRecord *l;
    const int *channels;  /* out channels of the layers before this one */
} LayerCtx;

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static int layer_fail(const LayerCtx *c, const char *fmt, ...)
{
    char msg[256];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return fail(c->p, NST_ERR_FORMAT, "layer %u (%s): %s", c->index,
                op_name(c->l->op), msg);
}

static int check_unused_fields(const LayerCtx *c)
{
    const LayerRecord *l = c->l;
    unsigned uses = op_fields[l->op].uses;
    int k;

    if (!(uses & USE_FLAGS) && l->flags)
        return layer_fail(c, "flags is 0x%x, must be 0", l->flags);
    if (!(uses & USE_INPUT1) && l->input[1] != -1)
        return layer_fail(c, "input1 is %d, must be -1", (int)l->input[1]);
    if (!(uses & USE_TENSOR0) && l->tensor[0] != NST_TENSOR_NONE)
        return layer_fail(c, "tensor0 is %u, must be 0xFFFFFFFF (none)",
                          l->tensor[0]);
    if (!(uses & USE_TENSOR1) && l->tensor[1] != NST_TENSOR_NONE)
        return layer_fail(c, "tensor1 is %u, must be 0xFFFFFFFF (none)",
                          l->tensor[1]);
    if (!(uses & USE_KERNEL) && l->kernel)
        return layer_fail(c, "kernel is %u, must be 0", l->kernel);
    if (!(uses & USE_STRIDE) && l->stride)
        return layer_fail(c, "stride is %u, must be 0", l->stride);
    if (!(uses & USE_PADDING) && l->padding)
        return layer_fail(c, "padding is %u, must be 0", l->padding);
    if (l->reserved)
        return layer_fail(c, "reserved is 0x%x, must be 0", l->reserved);
    for (k = 0; k < 4; k++) {
        if (k >= op_fields[l->op].n_floats && l->f[k] != 0.0f)
            return layer_fail(c, "f[%d] is %g, must be 0", k, l->f[k]);
        if (!isfinite(l->f[k]))
            return layer_fail(c, "f[%d] is %g, must be finite", k, l->f[k]);
    }
    return NST_OK;
}

static int input_channels(const LayerCtx *c, int input)
{
    return input < 0 ? INPUT_CHANNELS : c->channels[input];
}

static int check_inputs(const LayerCtx *c)
{
    const LayerRecord *l = c->l;
    int n = l->op == NST_OP_ADD ? 2 : 1, k;

    for (k = 0; k < n; k++) {
        int32_t in = l->input[k];

        if (in < -1 || in >= (int32_t)c->index) {
            if (c->index == 0)
                return layer_fail(c, "input%d is %d, must be -1 (network "
                                  "input)", k, (int)in);
            return layer_fail(c, "input%d is %d, must be -1 (network input) or "
                              "an earlier layer 0..%u", k, (int)in,
                              c->index - 1);
        }
        if ((int64_t)l->in_ch != input_channels(c, in))
            return layer_fail(c, "in_channels is %u, but input%d (%s %d) has "
                              "%d channels", l->in_ch, k,
                              in < 0 ? "network input" : "layer", (int)in,
                              input_channels(c, in));
    }
    if (l->out_ch < 1 || l->out_ch > MAX_CHANNELS)
        return layer_fail(c, "out_channels is %u, must be 1..%d", l->out_ch,
                          MAX_CHANNELS);
    if (l->op != NST_OP_CONV && l->op != NST_OP_CONV_TRANSPOSE &&
        l->out_ch != l->in_ch)
        return layer_fail(c, "out_channels is %u, must equal in_channels %u",
                          l->out_ch, l->in_ch);
    return NST_OK;
}

/* Tensor slot k holds a tensor of exactly the given shape, or may be none. */
static int check_tensor_ref(const LayerCtx *c, int k, const char *role,
                            int optional, uint32_t ndim, const uint32_t *shape)
{
    uint32_t index = c->l->tensor[k];
    const TensorInfo *t;
    char have[64], want[64];

    if (index == NST_TENSOR_NONE) {
        if (optional)
            return NST_OK;
        return layer_fail(c, "tensor%d (%s) is none, a %s tensor is required",
                          k, role, role);
    }
    if (index >= c->p->h.n_tensors)
        return layer_fail(c, "tensor%d (%s) is %u, must be below n_tensors %u",
                          k, role, index, c->p->h.n_tensors);
    t = &c->p->tensors[index];
    if (t->ndim != ndim || memcmp(t->shape, shape, ndim * sizeof(*shape)))
        return layer_fail(c, "%s tensor '%s' has shape %s, expected %s", role,
                          t->name,
                          nst_model_format_shape(have, sizeof(have), t->ndim,
                                                 t->shape),
                          nst_model_format_shape(want, sizeof(want), ndim,
                                                 shape));
    return NST_OK;
}

static int check_conv(const LayerCtx *c)
{
    const LayerRecord *l = c->l;
    int transpose = l->op == NST_OP_CONV_TRANSPOSE;
    uint32_t weight[4] = { l->kernel, l->kernel,
                           transpose ? l->out_ch : l->in_ch,
                           transpose ? l->in_ch : l->out_ch };
    int ret;

    if (l->kernel < 1 || l->kernel > MAX_KERNEL || (!transpose && !(l->kernel & 1)))
        return layer_fail(c, "kernel is %u, must be %s 1..%d", l->kernel,
                          transpose ? "in" : "odd and in", MAX_KERNEL);
    if (l->stride < 1 || l->stride > MAX_STRIDE)
        return layer_fail(c, "stride is %u, must be 1..%d", l->stride,
                          MAX_STRIDE);
    if (transpose && l->padding != NST_PAD_SAME)
        return layer_fail(c, "padding is %u, must be 0 (SAME)", l->padding);
    if (!transpose && l->padding > NST_PAD_REFLECT)
        return layer_fail(c, "padding is %u, must be 0 (SAME), 1 (symmetric) "
                          "or 2 (reflect)", l->padding);
    if ((ret = check_tensor_ref(c, 0, "weight", 0, 4, weight)) < 0)
        return ret;
    return check_tensor_ref(c, 1, "bias", 1, 1, &l->out_ch);
}

static int check_op_params(const LayerCtx *c)
{
    const LayerRecord *l = c->l;
    int ret;

    switch (l->op) {
    case NST_OP_CONV:
    case NST_OP_CONV_TRANSPOSE:
        return check_conv(c);
    case NST_OP_UPSAMPLE:
        if (l->stride < 2 || l->stride > MAX_STRIDE)
            return layer_fail(c, "stride (factor) is %u, must be 2..%d",
                              l->stride, MAX_STRIDE);
        return NST_OK;
    case NST_OP_INSTANCE_NORM:
        if (!(l->f[0] > 0.0f))
            return layer_fail(c, "eps f[0] is %g, must be > 0", l->f[0]);
        if ((ret = check_tensor_ref(c, 0, "scale", 0, 1, &l->in_ch)) < 0)
            return ret;
        return check_tensor_ref(c, 1, "shift", 0, 1, &l->in_ch);
    case NST_OP_OUTPUT:
        if (l->flags & ~1u)
            return layer_fail(c, "flags is 0x%x, only bit 0 (tanh) is defined",
                              l->flags);
        if (l->in_ch != INPUT_CHANNELS)
            return layer_fail(c, "in_channels is %u, must be 3", l->in_ch);
        if (!(l->f[2] < l->f[3]))
            return layer_fail(c, "clamp range f[2]..f[3] is %g..%g, needs "
                              "f[2] < f[3]", l->f[2], l->f[3]);
        return NST_OK;
    }
    return NST_OK;
}

static int check_layer(Parser *p, uint32_t i, const int *channels)
{
    const LayerRecord *l = &p->layers[i];
    LayerCtx c = { p, i, l, channels };
    int last = i == p->h.n_layers - 1, ret;

    if (l->op < NST_OP_CONV || l->op > NST_OP_OUTPUT)
        return fail(p, NST_ERR_FORMAT, "layer %u: op is %u, must be 1..7 (conv, "
                    "conv_transpose, upsample, instance_norm, relu, add, "
                    "output)", i, l->op);
    if (last && l->op != NST_OP_OUTPUT)
        return layer_fail(&c, "the last layer must be the output op, not %s",
                          op_name(l->op));
    if (!last && l->op == NST_OP_OUTPUT)
        return layer_fail(&c, "only the last layer may be the output op");
    if ((ret = check_unused_fields(&c)) < 0 ||
        (ret = check_inputs(&c)) < 0)
        return ret;
    return check_op_params(&c);
}

int nst_model_parse_layers(Parser *p)
{
    int channels[MAX_LAYERS];
    char used[MAX_LAYERS] = { 0 };
    uint32_t i, n = p->h.n_layers;
    int ret;

    p->layers = calloc(n, sizeof(*p->layers));
    if (!p->layers)
        return fail(p, NST_ERR_NOMEM, "out of memory");
    for (i = 0; i < n; i++) {
        LayerRecord *l = &p->layers[i];

        read_layer(p->data + p->h.layer_offset + (uint64_t)i * NST_LAYER_RECORD, l);
        if ((ret = check_layer(p, i, channels)) < 0)
            return ret;
        channels[i] = (int)l->out_ch;
        if (l->input[0] >= 0)
            used[l->input[0]] = 1;
        if (l->op == NST_OP_ADD && l->input[1] >= 0)
            used[l->input[1]] = 1;
    }
    for (i = 0; i + 1 < n; i++)
        if (!used[i])
            return fail(p, NST_ERR_FORMAT, "layer %u (%s): its output is not "
                        "used by any later layer", i, op_name(p->layers[i].op));
    return NST_OK;
}
