/*
 * Temporal smoothing (issues #3 and #16), on the device and in the frame's
 * command buffer. Before the network: the luma of each input frame, at
 * full and at 1/scale resolution; a dense flow from this frame to the
 * previous one by patch matching on the reduced luma; the frame's
 * statistics (scene cut, noise level: shaders/temporal_stats.comp); and
 * the input stabiliser, which gives the network the pixels it saw before
 * wherever the input only changed by noise (temporal_stabilise.comp).
 * After it: the previous output, warped along the flow, blended into the
 * styled frame where the warp is trusted, most where the input was held
 * (temporal_blend.comp). The instance-norm statistics are smoothed too
 * (shaders/norm_reduce.comp), gated by the scene-cut test. Each mechanism
 * can be switched off on its own. One previous frame only; forgotten on a
 * size or format change, a scene cut (decided on the device), a frame at
 * strength 0 and nst_engine_reset.
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

/* The input stabiliser (temporal_stabilise.comp), against the frame's
 * noise sigma (levels, measured per frame, clamped to SIGMA_MIN..MAX). */
#define NST_TEMPORAL_SIGMA_MIN 1.0f
#define NST_TEMPORAL_SIGMA_MAX 8.0f
#define NST_TEMPORAL_K_PIX   8.0f  /* a pixel held while |change| <= K_PIX sigma, */
#define NST_TEMPORAL_K_NB    3.0f  /* its 3x3 pixels' mean |change| <= K_NB sigma */
#define NST_TEMPORAL_K_ERR   2.5f  /* and its warp's 3x3 luma error <= K_ERR sigma */
#define NST_TEMPORAL_K_DRIFT 3.0f  /* renewed when its mean moved K_DRIFT sigma */
#define NST_TEMPORAL_ALPHA   0.2f  /* the running mean's step */
/* The output blend's weight where the input was held: temporal + (1 -
 * temporal) HOLD_BOOST, closer to 1 than elsewhere (temporal_blend.comp). */
#define NST_TEMPORAL_HOLD_BOOST 0.9f
/* and where the stabiliser found it moving with the flow: temporal + (1 -
 * temporal) MOVE_BOOST, times the warp's confidence */
#define NST_TEMPORAL_MOVE_BOOST 0.5f
/* A block (NST_TEMPORAL_SCALE pixels square) changed where this many of
 * its pixels were renewed for a real change; the blend's weight grows from
 * 0 there to all of it NEAR blocks away (temporal_changed.comp). */
#define NST_TEMPORAL_CHANGED 4
#define NST_TEMPORAL_NEAR    2

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
    unsigned mechanisms;    /* NST_TEMPORAL_WARP | _NORM | _INPUT */
    int valid;              /* the state holds the previous frame */
    int parity;             /* which half of `mean` holds this frame's */
    float last_cut, last_sigma; /* statistics of the last frame (debug log) */
    int pipe[6];            /* temporal_luma, _stats, flow_block, temporal_blend,
                             * _stabilise, _changed */

    /* per plan of the frame path */
    unsigned plan_id;       /* NstTemporalIo.plan_id the state was made for; 0 none */
    int width, height, sw, sh;
    uint32_t off_l, off_s, off_lp, off_sp, off_f, off_c, off_stat; /* in floats */
    VkDeviceSize input_bytes; /* of the frame's input tensor */
    NstBuffer state;        /* luma, reduced luma, flow, statistics */
    NstBuffer out, prev_out;/* smoothed RGB tensors, this frame and the last */
    NstBuffer raw, prev_in; /* the input as it came, the network's last input */
    NstBuffer mean;         /* running means and stabiliser states, two frames */
    NstBuffer stat;         /* host copy of the statistics */
    VkDescriptorPool pool;
    NstStep luma, stats, flow, stabilise, changed, blend, pix_out[3];
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

/* Creates the pipelines (at the engine's creation, before the warm-up);
 * fp16: the network's input is stored as fp16. */
int  nst_temporal_init(NstTemporal *t, NstPipelines *p, int fp16);
/* Makes the state for the path's current plan unless it exists. */
int  nst_temporal_prepare(NstTemporal *t, NstDispatch *d, const NstTemporalIo *io);
/* Recorded right after the frame became a tensor: its luma, the flow,
 * the statistics (which open the norms' gate) and with
 * NST_TEMPORAL_INPUT the stabiliser, which rewrites the network's input. */
void nst_temporal_record_input(NstTemporal *t, NstDispatch *d, const NstTemporalIo *io);
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
