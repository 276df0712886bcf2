/*
 * Plain C reference of the network below the frame's size (engine/frame/resize.h):
 * area downscaling, the guided filter's fit, averaging and application,
 * and the frame path with them. The tests hold the shaders against it.
 * Tensors as in ref.h (CHW, float).
 */
#ifndef NST_REF_RESIZE_H
#define NST_REF_RESIZE_H

#include "ref/ref.h"

/* in (c x H x W) -> out (c x h x w), h <= H, w <= W: each output pixel the
 * coverage-weighted mean of the input area it covers. */
int nst_ref_downscale(const NstTensor *in, int w, int h, NstTensor *out);

/* The guided upsampling: guide (3 x H x W) and guide_lo (3 x h x w, its
 * downscaling) in colours 0..1, styled (3 x h x w, pixel values) -> out
 * (3 x H x W): per window of radius r the affine fit styled ~ A guide_lo +
 * b, regularised by eps; A averaged over windows of radius mean_r (A'),
 * b' = styled - A' guide_lo at each pixel; A' and b' interpolated
 * bilinearly to H x W, applied to guide, clamped to lo..hi. */
int nst_ref_guided_upsample(const NstTensor *guide, const NstTensor *guide_lo,
                            const NstTensor *styled, int r, int mean_r, float eps,
                            float lo, float hi, NstTensor *out);

/* What nst_engine_process does with the network at w x h (w <= the
 * frame's width, h <= its height), with the engine's constants. */
int nst_ref_process_sized(const NstModel *m, NstFrame *f, float strength, int w, int h);

#endif
