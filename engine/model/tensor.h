/*
 * A tensor in host memory, as the C reference computes on and the network
 * reads and returns (nst_net_run_tensor): float32, CHW (channel-major, then
 * rows, then columns).
 */
#ifndef NST_MODEL_TENSOR_H
#define NST_MODEL_TENSOR_H

typedef struct NstTensor {
    int c, h, w;
    float *data; /* c * h * w floats, owned */
} NstTensor;

int  nst_tensor_alloc(NstTensor *t, int c, int h, int w);
void nst_tensor_free(NstTensor *t);

#endif /* NST_MODEL_TENSOR_H */
