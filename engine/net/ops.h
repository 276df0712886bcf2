/*
 * Inside the network: what its planner (net/net.c, net/arena.c,
 * net/tiling.c) and its ops share. Each op's file packs its weights,
 * picks its pipelines and adds its steps; the planner's switches over the
 * ops make one call into them each. Fusion crosses op boundaries (a
 * deferred norm applied by the conv after it, a residual add done by
 * norm_apply), which is why there is no op table.
 */
#ifndef NST_NET_OPS_H
#define NST_NET_OPS_H

#include "net/net.h"
#include "net/winograd.h"

static inline int nst_c4(int channels)
{
    return (channels + 3) / 4;
}

static inline const NstLayer *nst_exec_layer(const NstNet *net, const NstExec *e)
{
    return &net->exec_layers[e - net->exec];
}

/* The tensor of value v: -1 the input, else an exec's; -2 none. */
const NstBuffer *nst_net_value_buffer(const NstNet *net, int v);
void nst_net_value_size(const NstNet *net, int v, int *w, int *h, int *c4);

/* Each exec's sizes for the plan's input size. */
int  nst_net_infer_shapes(NstNet *net);

/* Appends a step to the plan, for the layer being planned. */
int nst_net_add_step(NstNet *net, int pipeline, NstBinds b, const void *push,
                     size_t push_size, uint32_t gx, uint32_t gy, uint32_t gz);

/* A shader in its variant: for the format of the activation it writes
 * (writer), and multiplying in fp16 where the net does and it has such
 * a variant (arith: the ARITH16 shaders of the Makefile). */
int nst_net_pipeline(NstNet *net, const char *name, int writer, int arith,
                     const int32_t *spec, int n_spec);

/* ---- net/conv.c: direct convolutions, plain and transposed ------------- */

/* Rows of a conv: y0..y1-1 of its result, read from a buffer that holds
 * its input's rows from src_y0 (src_h rows), written into one that holds
 * its result's rows from dst_y0 (dst_h rows). A whole tensor is a band
 * from 0 of all its rows. */
typedef struct NstRows {
    int y0, y1, src_y0, src_h, dst_y0, dst_h;
} NstRows;

int    nst_conv_ocb(const NstLayer *L);
/* Pixels per invocation of a conv with ocb output texels per invocation. */
int    nst_conv_px(int ocb);
size_t nst_conv_texels(const NstLayer *L);   /* weights and bias */
/* Packs x's weights and bias at p (texel w_off of the weights); returns
 * the floats written. */
size_t nst_conv_pack(NstExec *x, const NstLayer *L, float *p, int w_off);
int    nst_conv_pipelines(NstNet *net, NstExec *x);
int    nst_conv_pad(const NstLayer *L, int in, int out);
int    nst_conv_step(NstNet *net, const NstExec *x, const NstBuffer *src,
                     const NstBuffer *dst, NstRows r);
int    nst_conv_plan(NstNet *net, NstExec *x);
/* The rows of conv x's input that its result's rows y0..y1-1 read,
 * mirrored ones included: lo..hi-1 (empty when it reads none). */
void   nst_conv_rows_read(const NstNet *net, const NstExec *x, int y0, int y1,
                          int *lo, int *hi);
/* The factors of the norm a conv applies to its input, if it does. */
int    nst_conv_norm_in_off(const NstNet *net, const NstExec *x);

/* ---- net/winograd_plan.c: 3x3 convs as F(4x4, 3x3) ---------------------------- */

/* net/winograd.h: which convs, and their weights' packing; their steps: */
int    nst_wino_pipelines(NstNet *net, NstExec *x);
int    nst_wino_plan(NstNet *net, NstExec *x);

/* ---- net/norm.c: instance norm, its statistics and their tail ------------ */

#define NST_STATS_CHUNK 4096 /* pixels reduced by one workgroup of norm_stats */
#define NST_STATS_PART  48   /* bytes of a chunk's partials: mean, M2, count */

size_t nst_norm_texels(const NstLayer *L);
size_t nst_norm_pack(NstExec *x, const NstLayer *L, float *p, int w_off);
int    nst_norm_pipelines(NstNet *net, NstExec *x);
/* The first statistics pass of norm x over npix pixels of src, in planes
 * of `plane` texels, into its partials from chunk k0; and the second. */
int    nst_norm_stats_step(NstNet *net, const NstExec *x, const NstBuffer *src,
                           int plane, int npix, int k0);
int    nst_norm_reduce_step(NstNet *net, const NstExec *x);
int    nst_norm_plan(NstNet *net, NstExec *x);
/* A deferred norm's reader applies its factors: the fusion of norms into
 * the conv after them (net/net.c decides which). */
void   nst_norm_defer(NstNet *net);

/* ---- net/eltwise.c: ReLU, add, nearest upsampling ------------------------- */

int nst_eltwise_pipelines(NstNet *net, NstExec *x);
int nst_eltwise_plan(NstNet *net, NstExec *x);
/* norm_apply.comp, which is also an instance norm's tail: a*x + b with
 * factors from ab_off (if factors), then ReLU and the add as x fuses them. */
int nst_apply_pipeline(NstNet *net, const NstExec *x);
int nst_apply_step(NstNet *net, const NstExec *x, int pipeline, const NstBuffer *factors,
                   int ab_off);

/* ---- net/arena.c: tensors placed by lifetime ------------------------------ */

/* Gives every tensor a view and the views their offsets in an arena of
 * *arena bytes (not yet made); frees what it made on failure. */
int  nst_arena_assign(NstNet *net, VkDeviceSize *arena);
void nst_arena_free_plan(NstNet *net);
int  nst_arena_check_texels(const NstNet *net, VkDeviceSize texels);

/* ---- net/tiling.c: big inputs in bands ------------------------------------ */

/* The buffers of the whole plan, or of one that keeps the largest
 * tensors in bands where that does not fit or tiling is asked for. */
int nst_tiling_plan_buffers(NstNet *net, VkDeviceSize *arena);
/* Statistics chunks of each norm: a banded tensor's bands each end in a
 * partial one. */
void nst_tiling_count_chunks(NstNet *net);
/* The steps of banded exec e, its deferred norm and its reader. */
int nst_tiling_plan_bands(NstNet *net, int e);
/* Steps of the plan: three per exec at most, more for banded ones. */
int nst_tiling_count_steps(const NstNet *net);

#endif
