/*
 * The network below the frame's size (issue #4), so that a weak device can
 * keep up: the frame's input tensor is reduced to the network's size by
 * area averaging (shaders/downscale.comp), the network runs there, and its
 * output is brought back to the frame's size by a guided upsampling, in
 * three passes:
 *
 *   guided_coef.comp  at the network's size, the colour model of the
 *                     guided filter (He, Sun and Tang, "Guided Image
 *                     Filtering", colour guide): over the window around
 *                     each pixel, the output as an affine function of the
 *                     input colour, p ~ A I + b;
 *   guided_mean.comp  A averaged over the windows around each pixel, as
 *                     the guided filter does, and b set so that the model
 *                     passes through the pixel's own output: b = p - A I;
 *   guided_apply.comp at the frame's size, A and b interpolated bilinearly
 *                     and applied to the full-resolution input colour.
 *
 * So each frame pixel is the bilinear blend, over the four nearest network
 * pixels k, of p_k + A_k (I - I_k): the network's output as bilinear
 * upsampling gives it, plus the frame's detail that the network's grid
 * lacks, I - I_k, turned into the output's local colours by A.
 *
 * Why not the guided filter itself (out = A I + b, b averaged too): it
 * replaces the output by its colour model of the input, and what the
 * input's colours do not explain is the network's brush strokes, which it
 * smooths away. That comes closer to the full-size output by PSNR (+0.7
 * dB over bilinear on six photo-and-style pairs; strokes at half size are
 * not where the full-size ones are, and a stroke in the wrong place costs
 * more than none) but keeps less texture than bilinear (36% of the
 * full-size output's, bilinear 44%); this keeps bilinear's PSNR and adds
 * detail (49%). Joint bilateral upsampling (Kopf et al. 2007) averages
 * network pixels: no detail either (33%), and a window of them per frame
 * pixel. docs/size.md has the measurements.
 *
 * All of it runs in the frame's command buffer, between the frame's
 * conversion and the network, and between the network and the output
 * (frame/path.c).
 */
#ifndef NST_RESIZE_H
#define NST_RESIZE_H

#include "frame/resize_params.h"
#include "gpu/dispatch.h"
#include "model/model.h"

typedef struct NstResize {
    /* what the caller asked for: a size, or a scale of the frame's; none
     * (0, 0, 0) runs the network at the frame's size */
    int req_w, req_h;
    float req_scale;
    int req_new;            /* set with a request: say once if it is clamped */
    int pipe[4];            /* downscale, guided_coef, guided_mean, guided_apply */

    /* per plan of the network */
    int active;             /* the network runs below the frame's size */
    NstLayer identity;      /* the output transform left for out: a clamp */
    NstBuffer coef, mean;   /* colour models at the network's size, 4 planes;
                             * averaged, 3 planes (guided_*.comp) */
    NstBuffer out;          /* the styled frame-size tensor, pixel values */
    NstStep down, fit, avg, apply;
} NstResize;

/* Steps nst_resize_plan takes from the pool it is given. */
#define NST_RESIZE_STEPS 4

/* Creates the pipelines (at the engine's creation, before they are warmed
 * up); fp16: the network's input is stored as fp16. */
int  nst_resize_init(NstResize *r, NstPipelines *p, int fp16);

/* The network's size for a frame of w x h under the request: at most the
 * frame's in each dimension. Returns 1 when the request was clamped. */
int  nst_resize_net_size(const NstResize *r, int w, int h, int *net_w, int *net_h);

/* What the upsampling reads and how: the frame's input tensor at the
 * frame's size, the network's input and output tensors (the latter
 * out_w texels wide), the output layer's transform and the model's input
 * range. */
typedef struct NstResizeIo {
    const NstBuffer *full, *small, *styled;
    int w, h, lw, lh, out_w;
    const NstLayer *output;
    float input_min, input_max;
} NstResizeIo;

/* Buffers and steps (sets from pool) for a plan. */
int  nst_resize_plan(NstResize *r, NstDispatch *d, VkDescriptorPool pool,
                     const NstResizeIo *io);
/* Recorded after the frame's conversion: frame tensor -> network input. */
void nst_resize_record_down(const NstResize *r, NstDispatch *d);
/* Recorded after the network: network output -> out. */
void nst_resize_record_up(const NstResize *r, NstDispatch *d);
/* Frees what nst_resize_plan made (the request stays). */
void nst_resize_free(NstResize *r, NstVk *vk);

#endif
