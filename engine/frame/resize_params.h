/* The guided upsampling's tuning (frame/resize.h), shared with the C
 * reference (ref/ref_resize.c). */
#ifndef NST_RESIZE_PARAMS_H
#define NST_RESIZE_PARAMS_H

/* Larger windows and other regularisations measured the same (within
 * 0.05 dB and 3% of texture, docs/size.md): the cheapest. */
#define NST_GUIDED_RADIUS      2     /* fitting window radius, network pixels */
#define NST_GUIDED_MEAN_RADIUS 1     /* averaging of the colour models */
#define NST_GUIDED_EPS         1e-3f /* regularisation of A, colours in 0..1 */

#endif
