/*
 * Motion-compensated smoothing of the styled output (issue #3), on the
 * device and in the frame's command buffer: the luma of each input frame
 * is kept, at full and at 1/scale resolution, next to the previous
 * smoothed output; a dense flow from this frame to the previous one is
 * found by patch matching on the reduced luma, and the previous output,
 * warped along it, is blended into the styled frame where the warped
 * previous luma agrees with this frame's (see shaders/temporal_blend.comp).
 * The instance-norm statistics are smoothed too (shaders/norm_reduce.comp),
 * gated by the scene-cut test, which therefore runs before the network.
 * Each mechanism can be switched off on its own. One previous frame only; forgotten on a size or format change, a scene
 * cut (decided on the device), a frame at strength 0 and nst_engine_reset.
 */
#ifndef NST_TEMPORAL_H
#define NST_TEMPORAL_H

#include "net/net.h"

/* Tuning, in luma levels (0..255) unless said otherwise; see temporal.c. */
#define NST_TEMPORAL_SCALE   4     /* reduction of the flow's luma */
#define NST_TEMPORAL_RADIUS  4     /* search radius, reduced pixels */
#define NST_TEMPORAL_PATCH   1     /* patch half-size, reduced pixels */
#define NST_TEMPORAL_PENALTY 0.25f /* per reduced pixel of |dx| + |dy| */
#define NST_TEMPORAL_CUT     12.0f /* mean |luma change| that is a cut */
#define NST_TEMPORAL_LO      3.0f  /* full confidence below this error */
#define NST_TEMPORAL_HI      10.0f /* none above this error */

/* Temporal smoothing of the statistics is applied to the last instance
 * norms only. An instance norm cancels any offset and gain its input
 * carries; one with smoothed statistics does not, and the convolutions
 * after it multiply what is left by the sums of their weights, frame after
 * frame. Smoothing all 15 of udnie with weight 0.5 took vtest's static
 * flicker from 1.8 to 4.9 levels; the last two, which set the colours of
 * the final convolution, leave it at 1.8 (docs/temporal.md). */
#define NST_TEMPORAL_NORM_LAST 2

typedef struct NstTemporal {
    float strength;         /* 0..1; 0: off, nothing runs */
    unsigned mechanisms;    /* NST_TEMPORAL_WARP | NST_TEMPORAL_NORM */
    int valid;              /* the state holds the previous frame */
    float last_cut;         /* cut statistic of the last frame (debug log) */

    /* per plan of the network */
    unsigned plan_id;       /* NstNet.plan_id the state was made for; 0 none */
    int width, height, sw, sh;
    uint32_t off_l, off_s, off_lp, off_sp, off_f, off_stat; /* in floats */
    NstBuffer state;        /* luma, reduced luma, flow, cut statistic */
    NstBuffer out, prev_out;/* smoothed RGB tensors, this frame and the last */
    NstBuffer stat;         /* host copy of the cut statistic */
    VkDescriptorPool pool;
    NstStep luma, cut, flow, blend, pix_out[3];
} NstTemporal;

/* Makes the state for the network's current plan unless it exists. */
int  nst_temporal_prepare(NstTemporal *t, NstNet *net);
/* Recorded right after the frame became the network input tensor. */
void nst_temporal_record_input(NstTemporal *t, NstNet *net);
/* Recorded after the network instead of its own output steps. */
void nst_temporal_record_output(NstTemporal *t, NstNet *net, const NstFrame *f,
                                float strength);
/* After the command buffer completed: the state now holds this frame. */
void nst_temporal_done(NstTemporal *t, NstNet *net);
void nst_temporal_free(NstTemporal *t, NstVk *vk);

#endif
