/*
 * The network below the frame's size (issue #4), so that a weak device can
 * keep up: the frame's input tensor is reduced to the network's size by
 * area averaging (shaders/downscale.comp), the network runs there, and its
 * output is brought back to the frame's size by a guided filter (He, Sun
 * and Tang, "Guided Image Filtering", colour guide, in the "fast guided
 * filter" arrangement): fitted at the network's size on the pair (network
 * input, network output) as a local affine map of colours
 * (guided_coef.comp), the coefficients averaged (box_mean.comp), then
 * interpolated to the frame's size and applied to the full-resolution
 * input (guided_apply.comp), so that edges and fine detail follow the
 * frame instead of the network's coarser grid. All of it runs in the
 * frame's command buffer, between the frame's conversion and the network,
 * and between the network and the output steps.
 *
 * Why a guided filter rather than joint bilateral upsampling: on 15
 * photo-and-style pairs, 640x360 frames and a 320x180 network, it came
 * closer to the full-size network's output (+0.8 dB over bilinear on
 * average, never worse; joint bilateral +0.4 dB), and at the frame's size
 * it costs one bilinear fetch of coefficients and a 3x3 product per pixel,
 * where joint bilateral upsampling weighs a window of network pixels
 * (docs/size.md).
 */
#ifndef NST_RESIZE_H
#define NST_RESIZE_H

#include "model.h"
#include "pipelines.h"
#include "vk.h"

/* Chosen on the measurements above (docs/size.md). */
#define NST_GUIDED_RADIUS      4     /* fitting window radius, network pixels */
#define NST_GUIDED_MEAN_RADIUS 2     /* averaging of the coefficients */
#define NST_GUIDED_EPS         1e-3f /* regularisation of A, colours in 0..1 */

typedef struct NstResize {
    /* what the caller asked for: a size, or a scale of the frame's; none
     * (0, 0, 0) runs the network at the frame's size */
    int req_w, req_h;
    float req_scale;
    int req_new;            /* set with a request: say once if it is clamped */
    int pipe[4];            /* downscale, guided_coef, box_mean, guided_apply */

    /* per plan of the network */
    int active;             /* the network runs below the frame's size */
    NstLayer identity;      /* the output transform left for out: a clamp */
    NstBuffer coef, mean;   /* A | b at the network's size, 3 planes; averaged */
    NstBuffer out;          /* the styled frame-size tensor, pixel values */
    NstStep down, fit, avg, apply;
} NstResize;

/* Steps nst_resize_plan takes from the network's descriptor pool. */
#define NST_RESIZE_STEPS 4

struct NstNet;

/* Creates the pipelines (at nst_net_init, before they are warmed up). */
int  nst_resize_init(NstResize *r, NstPipelines *p);

/* The network's size for a frame of w x h under the request: at most the
 * frame's in each dimension. Returns 1 when the request was clamped. */
int  nst_resize_net_size(const NstResize *r, int w, int h, int *net_w, int *net_h);

/* Buffers and steps for the network's current plan, which has the
 * frame's input tensor (NstNet.frame_buffer) apart from the network's
 * (NstNet.input_buffer), the latter kept until after the network. */
int  nst_resize_plan(NstResize *r, struct NstNet *net);
/* Recorded after the frame's conversion: frame tensor -> network input. */
void nst_resize_record_down(const NstResize *r, struct NstNet *net);
/* Recorded after the network: network output -> out. */
void nst_resize_record_up(const NstResize *r, struct NstNet *net);
/* Frees what nst_resize_plan made (the request stays). */
void nst_resize_free(NstResize *r, NstVk *vk);

#endif
