/* The temporal smoothing's tuning (frame/temporal.h), shared with the C
 * reference (ref/ref_temporal.c). */
#ifndef NST_TEMPORAL_PARAMS_H
#define NST_TEMPORAL_PARAMS_H

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
#define NST_TEMPORAL_K_STILL 0.75f  /* no motion unless it explains K_STILL sigma more */
/* The output blend's weight where the input was held: temporal + (1 -
 * temporal) HOLD_BOOST, closer to 1 than elsewhere (temporal_blend.comp). */
#define NST_TEMPORAL_HOLD_BOOST 0.98f
/* and where the stabiliser found it moving with the flow: temporal + (1 -
 * temporal) MOVE_BOOST, times the warp's confidence */
#define NST_TEMPORAL_MOVE_BOOST 0.5f
/* A block (NST_TEMPORAL_SCALE pixels square) changed where this many of
 * its pixels were renewed for a real change (temporal_changed.comp).
 * Within RENEW pixels of it the network sees the input as it came
 * (temporal_renew.comp), and the blend's weight grows from 0 there to all
 * of it NEAR pixels away, searching NEAR_BLOCKS blocks around. */
#define NST_TEMPORAL_CHANGED 4
#define NST_TEMPORAL_RENEW   4
#define NST_TEMPORAL_NEAR    5
#define NST_TEMPORAL_NEAR_BLOCKS ((NST_TEMPORAL_NEAR + NST_TEMPORAL_SCALE - 1) / NST_TEMPORAL_SCALE)

/* Temporal smoothing of the statistics is applied to the last instance
 * norms only. An instance norm cancels any offset and gain its input
 * carries; one with smoothed statistics does not, and the convolutions
 * after it multiply what is left by the sums of their weights, frame after
 * frame. Smoothing all 15 of udnie with weight 0.5 took vtest's static
 * flicker from 1.8 to 4.9 levels; the last two, which set the colours of
 * the final convolution, leave it at 1.8 (docs/temporal.md). */
#define NST_TEMPORAL_NORM_LAST 2

#endif
