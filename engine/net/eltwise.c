/* Elementwise ops and nearest upsampling: ReLU and add by norm_apply.comp
 * (an instance norm's tail without the norm), upsample.comp. */
#include "net/ops.h"

/* norm_apply.comp's push-constant block. */
typedef struct ApplyPush {
    int32_t w, h, c4;
    int32_t ab_off;     /* of the norm's factors */
} ApplyPush;
_Static_assert(sizeof(ApplyPush) == 4 * 4, "norm_apply.comp's push block");

/* upsample.comp's push-constant block. */
typedef struct UpsamplePush {
    int32_t in_w, in_h, out_w, out_h, c4, factor;
} UpsamplePush;
_Static_assert(sizeof(UpsamplePush) == 6 * 4, "upsample.comp's push block");

int nst_apply_pipeline(NstNet *net, const NstExec *x)
{
    const NstLayer *L = nst_exec_layer(net, x);
    int32_t tail[3] = { L->op == NST_OP_INSTANCE_NORM, L->op == NST_OP_RELU || x->fuse_relu,
                        x->input[1] != -2 };

    return nst_net_pipeline(net, "norm_apply", 1, 0, tail, 3);
}

int nst_apply_step(NstNet *net, const NstExec *x, int pipeline, const NstBuffer *factors,
                   int ab_off)
{
    NstBinds b = { nst_net_value_buffer(net, x->input[0]),
                   nst_net_value_buffer(net, x->input[1]), &net->buffers[x->buffer], NULL,
                   factors };
    ApplyPush p = { x->out_w, x->out_h, x->out_c4, ab_off };

    return nst_net_add_step(net, pipeline, b, &p, sizeof(p), nst_groups(x->out_w, 8),
                            nst_groups(x->out_h, 8), (uint32_t)x->out_c4);
}

int nst_eltwise_pipelines(NstNet *net, NstExec *x)
{
    int r = nst_exec_layer(net, x)->op == NST_OP_UPSAMPLE
            ? nst_net_pipeline(net, "upsample", 1, 0, NULL, 0)
            : nst_apply_pipeline(net, x);

    if (r >= 0)
        x->pipeline[0] = r;
    return r;
}

int nst_eltwise_plan(NstNet *net, NstExec *x)
{
    const NstLayer *L = nst_exec_layer(net, x);

    if (L->op == NST_OP_UPSAMPLE) {
        NstBinds b = { nst_net_value_buffer(net, x->input[0]), NULL,
                       &net->buffers[x->buffer], NULL, NULL };
        UpsamplePush p = { x->in_w, x->in_h, x->out_w, x->out_h, x->out_c4, L->stride };
        return nst_net_add_step(net, x->pipeline[0], b, &p, sizeof(p),
                                nst_groups(x->out_w, 8), nst_groups(x->out_h, 8),
                                (uint32_t)x->out_c4);
    }
    return nst_apply_step(net, x, x->pipeline[0], NULL, 0); /* relu, add */
}
