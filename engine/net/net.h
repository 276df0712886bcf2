/*
 * The network on the device: weights packed once per model, and per frame
 * size a plan of steps (pipeline, descriptor set, push constants, groups)
 * over tensors whose buffers are shared by liveness. A frame is one
 * command buffer: upload, every step with a barrier between, download.
 */
#ifndef NST_NETWORK_H
#define NST_NETWORK_H

#include "frame/frame.h"
#include "model/model.h"
#include "gpu/pipelines.h"
#include "gpu/profile.h"
#include "frame/resize.h"
#include "gpu/vk.h"

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
     * that, which reads it through the norm (plan_bands). */
    int band;           /* its result is kept in bands */
    int band_rows;      /* rows its band buffer holds; Winograd: tile rows
                         * per pass in a tiled plan (0: all), which sizes
                         * its scratch */
    int band_out;       /* rows of the next conv's result per band */
    int last_use;       /* exec index of the last reader */
    int step_end;       /* index after its last step */
} NstExec;

typedef struct NstNet {
    NstVk *vk;
    NstPipelines *pipes;
    const NstModel *model;      /* only during nst_net_init */
    NstLayer output;            /* the output layer (weights not kept) */
    NstLayer *exec_layers;      /* layer of each exec, weights not kept */
    int input_bgr;
    float input_min, input_max;
    NstExec *exec;
    int n_exec;
    int final_value;            /* exec whose result the output layer reads */
    int pipe_pix_in, pipe_pix_out;
    int pipe_temporal[4];       /* temporal_luma, _cut, flow_block, temporal_blend */
    NstBuffer weights, dummy;
    VkDescriptorPool warm_pool;
    NstProfiler prof;
    int cur_layer;              /* while planning: layer of the steps added */

    NstResize resize;           /* the network below the frame's size */

    /* Tiling: asked for (0: when the whole-frame plan would not fit the
     * device, -1: never, n: bands of n rows), and what the plan did */
    int tile_req, tile_planned;
    int preserve_color;            /* nst_engine_set_preserve_color */
    int tiled;                  /* bands of the current plan's tiled convs */

    /* per frame size and format */
    int width, height;          /* the frame's; 0 when no plan */
    int in_w, in_h;             /* the network's input: the frame's size or less */
    unsigned plan_id;           /* changes with every plan (never 0) */
    NstFrameLayout frame;
    int input_buffer;           /* buffer of the network input tensor */
    /* Every tensor of a frame (the input, each exec's result, Winograd's
     * scratch) is a view of one arena at an offset planned by lifetime,
     * so tensors that are never alive together share memory. */
    NstBuffer arena;
    NstBuffer *buffers;         /* the views */
    VkDeviceSize *buffer_size, *buffer_offset;
    int *buffer_texel;          /* bytes per texel of each view: 8 or 16 */
    int fp16;                   /* activations stored as fp16 (8-byte texels) */
    int fp16_arith;             /* convolutions multiply in fp16 */
    int frame_buffer;           /* of the frame's input tensor: input_buffer
                                 * unless resize.active */
    int n_buffers;
    /* factors: the a, b texels of the instance norm being applied, then
     * the gate of the statistics' smoothing (texel norm_gate, 0 unless
     * engine/temporal.c sets it) and each instance norm's last statistics */
    NstBuffer partials, factors, staging;
    /* Frames come in Vulkan images (engine/vkframe.c), copied to and from
     * staging on the device, which then need not be host-visible: asked
     * for by image_frames, planned as staging_images. */
    int image_frames, staging_images;
    int norm_gate, n_norms;     /* texel of the gate; instance norms */
    NstBuffer io;               /* host tensors of nst_net_run_tensor */
    VkDescriptorPool pool;
    NstStep *steps;
    int n_steps;
    int pix_in_step, pix_out_step; /* indices into steps; out has n_planes */
    int net_first, net_end;        /* steps of the network proper */
} NstNet;

/* fp16: store activations as fp16 (Winograd's scratch stays fp32);
 * fp16_arith: the convolutions multiply in fp16 (the .a16 shaders). */
int  nst_net_init(NstNet *net, NstVk *vk, NstPipelines *pipes, const NstModel *m,
                  int fp16, int fp16_arith);
void nst_net_free(NstNet *net);

/* Whether the network can restyle frames: run at a nominal 256x256, every
 * layer takes its input and the output is not smaller than it (single-op
 * networks of the tests need not be). */
int  nst_net_check_frames(NstNet *net);

/* Plans for this frame size and format, and the network size the resize
 * request gives for it, unless already planned. */
int nst_net_prepare(NstNet *net, NstPixelFormat format, int width, int height);

/* Runs the whole frame path on f (in place); with temporal smoothing when
 * t is not NULL (engine/temporal.h). */
struct NstTemporal;
int nst_net_process(NstNet *net, NstFrame *f, float strength, struct NstTemporal *t);
/* The parts of nst_net_process, for the pipelined path (engine/async.c),
 * which packs and unpacks the frame elsewhere and records into a command
 * buffer of its own. nst_net_frame_setup plans for f unless planned and
 * sets the frame steps' push constants; nst_net_frame_record records, into
 * the begun vk->cmd, everything from the packed frame in net->staging to
 * the restyled one there. */
int  nst_net_frame_setup(NstNet *net, const NstFrame *f, float strength,
                         struct NstTemporal *t);
void nst_net_frame_record(NstNet *net, const NstFrame *f, float strength,
                          struct NstTemporal *t);
/* Whether the current plan serves such a frame: if not, the next
 * nst_net_prepare replaces it (and every buffer of it). */
int  nst_net_planned_for(const NstNet *net, NstPixelFormat format, int width, int height);
/* After a frame's fence: reads its timings when profiling. */
int nst_net_profile_done(NstNet *net);

/* For the steps of others (engine/temporal.c): a descriptor pool for
 * n_sets sets, a set of the shared layout (a NULL binding gets a dummy
 * buffer), and recording one step followed by a barrier. */
typedef struct NstBinds {
    const NstBuffer *src0, *src1, *dst, *buf0, *buf1;
} NstBinds;
int  nst_net_pool(NstNet *net, int n_sets, VkDescriptorPool *pool);
int  nst_net_set(NstNet *net, VkDescriptorPool pool, NstBinds b, VkDescriptorSet *set);
void nst_net_record(NstNet *net, const NstStep *s);
/* A step of the plan's pool (sets for NST_RESIZE_STEPS more than the
 * network's), its groups checked against the device's limits. */
int  nst_net_step(NstNet *net, NstStep *s, int pipeline, NstBinds b,
                  const uint32_t *push, int n_push, uint32_t gx, uint32_t gy, uint32_t gz);

/* What the output steps read: the styled tensor at the frame's size (the
 * network's output, or its upsampling), in *buf, *width texels wide; and
 * the transform to pixel values it still needs. */
const NstLayer *nst_net_styled(const NstNet *net, const NstBuffer **buf, int *width);

/* Test entry: runs the network proper on a CHW tensor of 3 x h x w
 * (network units) up to model layer `layer` (-1: all but the output layer)
 * and returns that layer's result as CHW. A layer fused into the one
 * after it cannot be read. */
typedef struct NstTensor NstTensor;
int nst_net_run_tensor(NstNet *net, const NstTensor *in, int layer, NstTensor *out);

#endif
