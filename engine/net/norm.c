/* Instance norm: statistics in two passes, then the norm's tail applied
 * (shaders/norm_stats.comp, norm_reduce.comp; norm_apply.comp by
 * net/eltwise.c), or deferred to the conv after it. */
#include <string.h>

#include "net/ops.h"

/* norm_stats.comp's push-constant block. */
typedef struct NormStatsPush {
    int32_t npix, c4, chunk, n_chunks;
    int32_t plane, k0;
} NormStatsPush;
_Static_assert(sizeof(NormStatsPush) == 6 * 4, "norm_stats.comp's push block");

/* norm_reduce.comp's push-constant block. */
typedef struct NormReducePush {
    int32_t n_chunks, c4;
    int32_t scale_off, shift_off;
    float eps;
    int32_t gate_off, hist_off;
    int32_t smoothed;
    int32_t ab_off;
} NormReducePush;
_Static_assert(sizeof(NormReducePush) == 9 * 4, "norm_reduce.comp's push block");

size_t nst_norm_texels(const NstLayer *L)
{
    return 2 * (size_t)nst_c4(L->out_ch);
}

static size_t pack_vector(const float *src, int n, float *dst)
{
    memset(dst, 0, (size_t)nst_c4(n) * 4 * sizeof(*dst));
    memcpy(dst, src, (size_t)n * sizeof(*dst));
    return (size_t)nst_c4(n) * 4;
}

size_t nst_norm_pack(NstExec *x, const NstLayer *L, float *p, int w_off)
{
    size_t n = pack_vector(L->scale, L->out_ch, p);

    x->w_off = w_off;
    x->b_off = w_off + (int)(n / 4);
    return n + pack_vector(L->shift, L->out_ch, p + n);
}

int nst_norm_pipelines(NstNet *net, NstExec *x)
{
    int r;

    if ((r = nst_pipeline_get(net->pipes, "norm_stats", NULL, 0)) < 0)
        return r;
    x->pipeline[0] = r;
    if ((r = nst_pipeline_get(net->pipes, "norm_reduce", NULL, 0)) < 0)
        return r;
    x->pipeline[1] = r;
    if (x->deferred) {
        x->pipeline[2] = -1;
        return NST_OK;
    }
    if ((r = nst_apply_pipeline(net, x)) < 0)
        return r;
    x->pipeline[2] = r;
    return NST_OK;
}

int nst_norm_stats_step(NstNet *net, const NstExec *x, const NstBuffer *src, int plane,
                        int npix, int k0)
{
    NstBinds b = { src, NULL, NULL, &net->partials, NULL };
    NormStatsPush p = { npix, x->out_c4, NST_STATS_CHUNK, x->n_chunks, plane, k0 };

    return nst_net_add_step(net, x->pipeline[0], b, &p, sizeof(p),
                            nst_groups(npix, NST_STATS_CHUNK), (uint32_t)x->out_c4, 1);
}

int nst_norm_reduce_step(NstNet *net, const NstExec *x)
{
    NstBinds b = { NULL, &net->weights, NULL, &net->partials, &net->factors };
    NormReducePush p = {
        x->n_chunks, x->out_c4, x->w_off, x->b_off, nst_exec_layer(net, x)->eps,
        net->norm_gate, x->hist_off, x->norm_index >= net->n_norms - net->smooth_last,
        x->ab_off,
    };

    return nst_net_add_step(net, x->pipeline[1], b, &p, sizeof(p),
                            nst_groups(x->out_c4, 64), 1, 1);
}

int nst_norm_plan(NstNet *net, NstExec *x)
{
    int npix = x->in_w * x->in_h, ret;

    if ((ret = nst_norm_stats_step(net, x, nst_net_value_buffer(net, x->input[0]),
                                   npix, npix, 0)) < 0 ||
        (ret = nst_norm_reduce_step(net, x)) < 0)
        return ret;
    return x->deferred ? NST_OK : nst_apply_step(net, x, x->pipeline[2], &net->factors,
                                                 x->ab_off);
}

/* An instance norm (+ ReLU) whose only reader is the conv right after it
 * needs no pass of its own: the conv applies y = a*x + b (and the ReLU)
 * to each texel it reads, which saves writing and reading a tensor and
 * keeping it in memory. The factors stay valid until the next norm. */
void nst_norm_defer(NstNet *net)
{
    for (int e = 0; e + 1 < net->n_exec; e++) {
        NstExec *x = &net->exec[e], *next = &net->exec[e + 1];
        NstOp op = net->exec_layers[e + 1].op;
        int readers = net->final_value == e;

        for (int r = 0; r < net->n_exec; r++)
            readers += (net->exec[r].input[0] == e) + (net->exec[r].input[1] == e);
        if (net->exec_layers[e].op == NST_OP_INSTANCE_NORM && x->input[1] == -2 &&
            readers == 1 && next->input[0] == e &&
            (op == NST_OP_CONV || op == NST_OP_CONV_TRANSPOSE)) {
            x->deferred = 1;
            next->norm_in = 1 + x->fuse_relu;
        }
    }
}
