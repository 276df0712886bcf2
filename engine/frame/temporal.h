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
#include "frame/temporal_params.h"
#include "gpu/dispatch.h"

typedef struct NstTemporal {
    float strength;         /* 0..1; 0: off, nothing runs */
    unsigned mechanisms;    /* NST_TEMPORAL_WARP | _NORM | _INPUT */
    int valid;              /* the state holds the previous frame */
    int parity;             /* which half of `mean` the next frame recorded writes */
    float last_cut, last_sigma; /* statistics of the last frame (debug log) */
    int pipe[7];            /* temporal_luma, _stats, flow_block, temporal_blend,
                             * _stabilise, _changed, _renew */

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
    NstStep luma, stats, flow, stabilise, changed, renew, blend, pix_out[3];
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
 * path's own output steps: the blend and the output. */
void nst_temporal_record_output(NstTemporal *t, NstDispatch *d, const NstTemporalIo *io,
                                const NstFrame *f, float strength);
/* Recorded last: this frame's state kept for the next one. */
void nst_temporal_record_end(NstTemporal *t, NstDispatch *d);
/* After the command buffer completed: the state now holds this frame. */
void nst_temporal_done(NstTemporal *t, NstVk *vk);
void nst_temporal_free(NstTemporal *t, NstVk *vk);

#endif
