/*
 * The network on the device: weights packed once per model, and per input
 * size a plan of steps (pipeline, descriptor set, push constants, groups)
 * over tensors whose buffers are shared by liveness. It knows nothing of
 * frames: frame/path.c writes its input tensor, records it among the
 * frame's steps and reads its output.
 */
#ifndef NST_NET_H
#define NST_NET_H

#include "gpu/dispatch.h"
#include "model/model.h"
#include "model/tensor.h"

/* One executed layer: a model layer, with the norm tail fused in. */
typedef struct NstExec {
    int layer;          /* model layer index */
    int last;           /* the last model layer fused into it */
    int input[2];       /* values read: -1 = network input, else exec index */
    int fuse_relu;      /* instance norm: ReLU fused into its tail */
    int deferred;       /* instance norm: no pass of its own; the conv
                         * after it applies the factors as it reads */
    int norm_in;        /* conv: 0, or 1 + ReLU when it applies the
                         * deferred instance norm before it to its input */
    int pipeline[3];    /* the op's | norm: stats, reduce, apply */
    int w_off, b_off;   /* weight texel offsets (-1 none) */
    int norm_index;     /* instance norm: the how-manieth, from 0 */
    int hist_off;       /* instance norm: its statistics' history, texels
                         * into NstNet.factors */
    int ab_off;         /* instance norm: its factors y = a*x + b, texels
                         * into NstNet.factors */
    int n_chunks;       /* instance norm: statistics partials per channel */
    int ocb;            /* output texels per conv invocation */
    int wino;           /* conv by Winograd: pipeline[] = in, gemm, out */
    /* per size */
    int in_w, in_h, in_c4, out_w, out_h, out_c4;
    int buffer;         /* index into NstNet.buffers */
    int tiles_x, tiles_y;   /* Winograd: output tiles */
    int buf_v, buf_m;       /* Winograd: its transformed input and products */
    /* A tiled plan keeps a full-resolution conv's result a band of rows at
     * a time: the conv runs band by band for the statistics of the
     * deferred norm after it, then again for each band of the conv after
     * that, which reads it through the norm (net/tiling.c). */
    int band;           /* its result is kept in bands */
    int band_rows;      /* rows its band buffer holds; Winograd: tile rows
                         * per pass in a tiled plan (0: all), which sizes
                         * its scratch */
    int band_out;       /* rows of the next conv's result per band */
    int last_use;       /* exec index of the last reader */
    int step_end;       /* index after its last step */
} NstExec;

typedef struct NstNet {
    NstDispatch *gpu;
    NstVk *vk;
    NstPipelines *pipes;
    NstLayer output;            /* the output layer (weights not kept) */
    NstLayer *exec_layers;      /* layer of each exec, weights not kept */
    int input_bgr;
    float input_min, input_max;
    NstExec *exec;
    int n_exec;
    int final_value;            /* exec whose result the output layer reads */
    NstBuffer weights;
    int cur_layer;              /* while planning: layer of the steps added */
    int fp16;                   /* activations stored as fp16 (8-byte texels) */
    int fp16_arith;             /* convolutions multiply in fp16 */

    /* Tiling: asked for (0: when the whole plan would not fit the device,
     * -1: never, n: bands of n rows), and what the plan did */
    int tile_req, tile_planned;
    int tiled;                  /* bands of the current plan's tiled convs */
    /* the last smooth_last instance norms take their statistics through
     * the gate (texel norm_gate of factors, closed by nst_net_close_gate
     * and opened by whoever smooths them: frame/temporal.c) */
    int smooth_last;

    /* per plan */
    int in_w, in_h;             /* the input's size; 0 when no plan */
    VkDeviceSize side_texels;   /* of the caller's tensor in the arena; 0 none */
    int side_buffer;            /* its view, -1 none */
    unsigned plan_id;           /* changes with every plan (never 0) */
    int input_buffer;           /* buffer of the input tensor */
    /* Every tensor (the input, each exec's result, Winograd's scratch) is
     * a view of one arena at an offset planned by lifetime (net/arena.c),
     * so tensors that are never alive together share memory. */
    NstBuffer arena;
    NstBuffer *buffers;         /* the views */
    VkDeviceSize *buffer_size, *buffer_offset;
    int *buffer_texel;          /* bytes per texel of each view: 8 or 16 */
    int n_buffers;
    /* factors: the a, b texels of the instance norm being applied, then
     * the gate and each instance norm's last statistics */
    NstBuffer partials, factors;
    int norm_gate, n_norms;     /* texel of the gate; instance norms */
    NstBuffer io;               /* host tensors of nst_net_run_tensor */
    VkDescriptorPool pool;
    NstStep *steps;
    int n_steps;
} NstNet;

/* fp16: store activations as fp16 (Winograd's scratch stays fp32);
 * fp16_arith: the convolutions multiply in fp16 (the .a16 shaders). */
int  nst_net_init(NstNet *net, NstDispatch *gpu, const NstModel *m, int fp16,
                  int fp16_arith);
void nst_net_free(NstNet *net);

/* Whether the network can restyle frames: run at a nominal 256x256, every
 * layer takes its input and the output is not smaller than it (single-op
 * networks of the tests need not be). */
int  nst_net_check_frames(NstNet *net);

/* Plans for an in_w x in_h input unless planned so. side_texels > 0:
 * the arena also holds a tensor of that many texels for the caller
 * (nst_net_side), alive from before the network to after it, and keeps
 * the input tensor as long: frame/resize.c reads both after the network. */
int  nst_net_plan(NstNet *net, int in_w, int in_h, VkDeviceSize side_texels);
int  nst_net_planned(const NstNet *net, int in_w, int in_h, VkDeviceSize side_texels);
/* Frees the plan (and what it holds on the device). */
void nst_net_free_plan(NstNet *net);
/* The current plan's output must not be smaller than its input. */
int  nst_net_check_output(const NstNet *net);

/* The input tensor of the plan (3 channels, in_w x in_h texels, in the
 * activations' format), and the output layer's input, *width texels wide. */
const NstBuffer *nst_net_input(const NstNet *net);
const NstBuffer *nst_net_output(const NstNet *net, int *width);
/* The caller's tensor of nst_net_plan, or NULL. */
const NstBuffer *nst_net_side(const NstNet *net);

/* Records, into the begun vk->cmd: the gate closed (per-frame statistics
 * unless opened again before the network), and every step of the plan. */
void nst_net_close_gate(NstNet *net);
void nst_net_record(NstNet *net);

/* Test entry: runs the network proper on a CHW tensor of 3 x h x w
 * (network units) up to model layer `layer` (-1: all but the output layer)
 * and returns that layer's result as CHW. A layer fused into the one
 * after it cannot be read. */
int nst_net_run_tensor(NstNet *net, const NstTensor *in, int layer, NstTensor *out);

#endif
