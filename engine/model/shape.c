/* Layer output sizes (docs/style-bin.md, "Shapes and padding"). */
#include <limits.h>

#include "model/shape.h"

static int conv_out(const NstLayer *l, int n, int *out)
{
    if (l->padding == NST_PAD_SAME) {
        *out = (n - 1) / l->stride + 1;
        return NST_OK;
    }
    if (l->padding == NST_PAD_REFLECT && l->kernel / 2 >= n)
        return NST_ERR_INVALID; /* mirroring needs kernel/2 < n */
    *out = (n + 2 * (l->kernel / 2) - l->kernel) / l->stride + 1;
    return NST_OK;
}

static int scaled(int n, int factor, int *out)
{
    if (n > INT_MAX / factor)
        return NST_ERR_INVALID;
    *out = n * factor;
    return NST_OK;
}

/* Guards against layers built by hand with fields the parser would refuse. */
static int layer_params_ok(const NstLayer *l)
{
    switch (l->op) {
    case NST_OP_CONV:
        return l->kernel >= 1 && (l->kernel & 1) && l->stride >= 1 &&
               l->padding >= NST_PAD_SAME && l->padding <= NST_PAD_REFLECT;
    case NST_OP_CONV_TRANSPOSE:
        return l->kernel >= 1 && l->stride >= 1;
    case NST_OP_UPSAMPLE:
        return l->stride >= 1;
    case NST_OP_INSTANCE_NORM:
    case NST_OP_RELU:
    case NST_OP_ADD:
    case NST_OP_OUTPUT:
        return 1;
    }
    return 0;
}

int nst_layer_out_size(const NstLayer *l, int h, int w, int *oh, int *ow)
{
    int ret;

    if (!l || h < 1 || w < 1 || !layer_params_ok(l))
        return NST_ERR_INVALID;
    switch (l->op) {
    case NST_OP_CONV:
        if ((ret = conv_out(l, h, oh)) < 0)
            return ret;
        return conv_out(l, w, ow);
    case NST_OP_CONV_TRANSPOSE:
    case NST_OP_UPSAMPLE:
        if ((ret = scaled(h, l->stride, oh)) < 0)
            return ret;
        return scaled(w, l->stride, ow);
    default:
        *oh = h;
        *ow = w;
        return NST_OK;
    }
}
