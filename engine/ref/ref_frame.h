/*
 * Plain C reference of the whole frame path of nst_engine_process: pixels
 * to network input, the network, output transform, crop, back to the
 * frame's format, blend. The tests hold the frame shaders against it.
 */
#ifndef NST_REF_FRAME_H
#define NST_REF_FRAME_H

#include "model/model.h"
#include "ref/ref.h"

/* Frame -> network input tensor (3 x h x w, network units and order). */
int nst_ref_frame_to_tensor(const NstModel *m, const NstFrame *f, NstTensor *out);

/* Network output (the output layer's input, at least f's size) -> f. */
void nst_ref_tensor_to_frame(const NstModel *m, const NstTensor *t, NstFrame *f,
                             float strength);

/* The same keeping f's colours where preserve (nst_engine_set_preserve_color). */
void nst_ref_tensor_to_frame_color(const NstModel *m, const NstTensor *t, NstFrame *f,
                                   float strength, int preserve);

/* The same for a tensor of pixel values (the output transform applied
 * already, but for its clamp), in the network's channel order. */
void nst_ref_pixels_to_frame(const NstModel *m, const NstTensor *t, NstFrame *f,
                             float strength);

/* Both, with nst_ref_forward between: what nst_engine_process does. */
int nst_ref_process(const NstModel *m, NstFrame *f, float strength);
int nst_ref_process_color(const NstModel *m, NstFrame *f, float strength, int preserve);

#endif
