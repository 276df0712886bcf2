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
 * Each mechanism can be switched off on its own. One previous frame only;
 * forgotten on a size or format change, a scene cut (decided on the
 * device), a frame at strength 0 and nst_engine_reset.
 */
#ifndef NST_TEMPORAL_H
#define NST_TEMPORAL_H

#include "frame/frame.h"
#include "gpu/dispatch.h"

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
    int pipe[4];            /* temporal_luma, _cut, flow_block, temporal_blend */

    /* per plan of the frame path */
    unsigned plan_id;       /* NstTemporalIo.plan_id the state was made for; 0 none */
    int width, height, sw, sh;
    uint32_t off_l, off_s, off_lp, off_sp, off_f, off_stat; /* in floats */
    NstBuffer state;        /* luma, reduced luma, flow, cut statistic */
    NstBuffer out, prev_out;/* smoothed RGB tensors, this frame and the last */
    NstBuffer stat;         /* host copy of the cut statistic */
    VkDescriptorPool pool;
    NstStep luma, cut, flow, blend, pix_out[3];
} NstTemporal;

/* What smoothing reads and writes of the frame path's plan (frame/path.c
 * fills it in). */
typedef struct NstTemporalIo {
    unsigned plan_id;           /* changes with every plan of the path */
    const NstFrameLayout *layout;
    const NstBuffer *input;     /* the frame as a tensor, at its size */
    const NstBuffer *styled;    /* the styled tensor at the frame's size */
    int styled_w;               /* its width in texels */
    const NstLayer *transform;  /* what it still needs to be pixel values */
    const NstBuffer *gate;      /* the instance norms' gate (net/net.h) */
    int gate_texel;
    const NstBuffer *staging;   /* the packed frame */
    int pix_out;                /* tensor_to_pix's pipeline */
    int input_bgr;
    float input_min, input_max;
    int preserve;               /* nst_engine_set_preserve_color */
} NstTemporalIo;

/* Creates the pipelines (at the engine's creation, before the warm-up). */
int  nst_temporal_init(NstTemporal *t, NstPipelines *p);
/* Makes the state for the path's current plan unless it exists. */
int  nst_temporal_prepare(NstTemporal *t, NstDispatch *d, const NstTemporalIo *io);
/* Recorded right after the frame became a tensor: its luma, and the cut
 * test, which opens the statistics' gate before the network. */
void nst_temporal_record_input(NstTemporal *t, NstDispatch *d);
/* With NST_TEMPORAL_WARP, recorded after the network instead of the
 * path's own output steps: the flow, the blend and the output. */
void nst_temporal_record_output(NstTemporal *t, NstDispatch *d, const NstTemporalIo *io,
                                const NstFrame *f, float strength);
/* Recorded last: this frame's state kept for the next one. */
void nst_temporal_record_end(NstTemporal *t, NstDispatch *d);
/* After the command buffer completed: the state now holds this frame. */
void nst_temporal_done(NstTemporal *t, NstVk *vk);
void nst_temporal_free(NstTemporal *t, NstVk *vk);

#endif
