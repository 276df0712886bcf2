/*
 * Plain C reference of the temporal smoothing's frame passes
 * (engine/frame/temporal.c, shaders/temporal_*.comp, flow_block.comp):
 * luma, flow, the frame's statistics, the input stabiliser, the changed
 * blocks and the output blend, with the engine's constants. The norms'
 * smoothing is nst_ref_forward_smoothed (ref.h). The tests hold the
 * shaders against it.
 */
#ifndef NST_REF_TEMPORAL_H
#define NST_REF_TEMPORAL_H

#include "model/model.h"
#include "ref/ref.h"

typedef struct NstRefTemporal {
    unsigned mechanisms;    /* NST_TEMPORAL_* */
    float strength;         /* temporal, 0..1 */
    int valid, parity, w, h, sw, sh;
    float cut, sigma;       /* this frame's statistics */
    float *l, *s, *lp, *sp; /* luma and reduced luma, this frame and the last */
    float *flow;            /* 2 sw sh, reduced pixels */
    float *changed;         /* sw sh */
    float *prev_in;         /* 3 w h: the network's last input (CHW) */
    float *mean[2];         /* 4 w h each: running mean (RGB order of the tensor), state */
    float *prev_out;        /* 3 w h: the last output, pixel values, RGB, CHW */
} NstRefTemporal;

/* Before the network: in (3 x h x w, network units) becomes what the
 * network sees (the stabiliser's output with NST_TEMPORAL_INPUT). A size
 * change starts afresh. */
int nst_ref_temporal_input(NstRefTemporal *t, const NstModel *m, NstTensor *in);

/* After it: y (the network's output, the output layer's input) -> out
 * (3 x h x w pixel values in the network's channel order, for
 * nst_ref_pixels_to_frame), blended with NST_TEMPORAL_WARP; keeps this
 * frame for the next. */
int nst_ref_temporal_output(NstRefTemporal *t, const NstModel *m, const NstTensor *y,
                            NstTensor *out);

void nst_ref_temporal_free(NstRefTemporal *t);

#endif
