/*
 * Plain C reference of every op and of the whole network. Slow and simple
 * on purpose: the tests hold the Vulkan shaders against it.
 * Tensors are float32, CHW (channel-major, then rows, then columns).
 */
#ifndef NST_REF_H
#define NST_REF_H

#include "model/model.h"
#include "model/shape.h"  /* nst_layer_out_size */
#include "model/tensor.h" /* NstTensor, nst_tensor_alloc, nst_tensor_free */

/* Run one layer. in1 is the second operand of add, else NULL.
 * out is allocated here. The output op is applied as written in the spec
 * (activation, scale, offset, clamp). */
int nst_ref_layer(const NstLayer *l, const NstTensor *in0,
                  const NstTensor *in1, NstTensor *out);

/* Run layers 0..n_layers-2 (everything but the output op) on a network
 * input tensor (3 x h x w, already in the network's range and channel
 * order). out receives the input of the output layer. */
int nst_ref_forward(const NstModel *m, const NstTensor *in, NstTensor *out);

/* The instance-norm statistics carried from one frame to the next by the
 * temporal smoothing of the statistics (NST_TEMPORAL_NORM): each of the
 * last `last` instance norms of the model uses mean = mix(its own, the
 * carried one, k) and likewise the variance, then carries what it used;
 * the others use their own. Zeroed, with k 0 on the first frame; freed by
 * nst_ref_norm_state_free. */
typedef struct NstRefNormState {
    double *mean, *var; /* per channel of the smoothed instance norms, in order
                         * (sized for all of them) */
    size_t n;           /* allocated entries */
} NstRefNormState;

int  nst_ref_forward_smoothed(const NstModel *m, const NstTensor *in, NstTensor *out,
                              NstRefNormState *state, int last, float k);
void nst_ref_norm_state_free(NstRefNormState *state);

#endif /* NST_REF_H */
