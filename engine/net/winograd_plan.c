/* The steps of a Winograd conv: input transform, GEMM, output transform. */
#include "net/ops.h"

/* wino_in.comp's push-constant block. */
typedef struct WinoInPush {
    int32_t w, h, c4;
    int32_t tiles_x, tiles_y;  /* tile rows from ty0 */
    int32_t ab_off;            /* of the deferred norm's factors */
    int32_t ty0;
} WinoInPush;
_Static_assert(sizeof(WinoInPush) == 7 * 4, "wino_in.comp's push block");

/* wino_gemm.comp's push-constant block. */
typedef struct WinoGemmPush {
    int32_t tiles, in_c4, out_c4, w_off;
} WinoGemmPush;
_Static_assert(sizeof(WinoGemmPush) == 4 * 4, "wino_gemm.comp's push block");

/* wino_out.comp's push-constant block. */
typedef struct WinoOutPush {
    int32_t w, h, c4;
    int32_t tiles_x, tiles_y;
    int32_t b_off;
    int32_t ty0;
} WinoOutPush;
_Static_assert(sizeof(WinoOutPush) == 7 * 4, "wino_out.comp's push block");

int nst_wino_pipelines(NstNet *net, NstExec *x)
{
    const NstLayer *L = nst_exec_layer(net, x);
    int32_t in_spec[2] = { L->padding == NST_PAD_REFLECT, x->norm_in };
    int32_t gemm_spec[2] = { x->ocb, nst_conv_px(x->ocb) };
    int32_t out_spec[1] = { x->b_off >= 0 };
    int r;

    if ((r = nst_pipeline_get(net->pipes, "wino_in", in_spec, 2)) < 0)
        return r;
    x->pipeline[0] = r;
    if ((r = nst_net_pipeline(net, "wino_gemm", 0, 1, gemm_spec, 2)) < 0)
        return r;
    x->pipeline[1] = r;
    if ((r = nst_net_pipeline(net, "wino_out", 1, 0, out_spec, 1)) < 0)
        return r;
    x->pipeline[2] = r;
    return NST_OK;
}

/* A band of tile rows at a time in a tiled plan. */
int nst_wino_plan(NstNet *net, NstExec *x)
{
    const NstBuffer *src = nst_net_value_buffer(net, x->input[0]);
    const NstBuffer *dst = &net->buffers[x->buffer];
    const NstBuffer *v = &net->buffers[x->buf_v], *m = &net->buffers[x->buf_m];
    const NstBuffer *norm = x->norm_in ? &net->factors : NULL;
    NstBinds in = { src, NULL, v, NULL, norm };
    NstBinds gemm = { v, &net->weights, m, NULL, NULL };
    NstBinds out = { m, &net->weights, dst, NULL, NULL };
    int band = x->band_rows ? x->band_rows : x->tiles_y, ret;

    for (int ty = 0; ty < x->tiles_y; ty += band) {
        int rows = x->tiles_y - ty < band ? x->tiles_y - ty : band;
        int tiles = x->tiles_x * rows;
        WinoInPush pi = { x->in_w, x->in_h, x->in_c4, x->tiles_x, rows,
                          nst_conv_norm_in_off(net, x), ty };
        WinoGemmPush pg = { tiles, x->in_c4, x->out_c4, x->w_off };
        WinoOutPush po = { x->out_w, x->out_h, x->out_c4, x->tiles_x, rows, x->b_off, ty };
        if ((ret = nst_net_add_step(net, x->pipeline[0], in, &pi, sizeof(pi),
                                    nst_groups(x->tiles_x, 8), nst_groups(rows, 8),
                                    (uint32_t)x->in_c4)) < 0 ||
            (ret = nst_net_add_step(net, x->pipeline[1], gemm, &pg, sizeof(pg),
                                    nst_groups((int)nst_groups(tiles, nst_conv_px(x->ocb)), 64),
                                    (uint32_t)(x->out_c4 / x->ocb), NST_WINO_POS)) < 0 ||
            (ret = nst_net_add_step(net, x->pipeline[2], out, &po, sizeof(po),
                                    nst_groups(x->tiles_x, 8), nst_groups(rows, 8),
                                    (uint32_t)x->out_c4)) < 0)
            return ret;
    }
    return NST_OK;
}
