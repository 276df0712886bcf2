/*
 * Winograd F(4x4, 3x3) for the 3x3 stride-1 convolutions (73% of the MACs
 * of the fast style networks): 4x fewer multiplies than direct, run as an
 * input transform, a GEMM per tile position and an output transform
 * (shaders/winograd.glsl). This part decides where it applies and
 * transforms the weights on the host.
 */
#ifndef NST_WINOGRAD_H
#define NST_WINOGRAD_H

#include <stddef.h>

#include "model/model.h"

#define NST_WINO_TILE 4 /* output pixels per tile side */
#define NST_WINO_POS  36 /* positions of a 6x6 transformed tile */

/* Whether layer L runs by Winograd: a 3x3 stride-1 conv that keeps the
 * size, with enough channels on both sides for the transforms to pay
 * (NST_WINOGRAD=0 in the environment turns it off, to compare). */
int nst_wino_applies(const NstLayer *L);

/* Texels of the transformed weights packed for wino_gemm.comp with ocb
 * output texels per invocation, and the packing itself. */
size_t nst_wino_texels(const NstLayer *L);
void nst_wino_pack(const NstLayer *L, int ocb, float *dst);

#endif
