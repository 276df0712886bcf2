/* The size of a layer's output, for the C reference and the network. */
#ifndef NST_MODEL_SHAPE_H
#define NST_MODEL_SHAPE_H

#include "model/model.h"

/* Output size of a layer for an input of h x w (h, w >= 1). Returns
 * NST_ERR_INVALID where the layer cannot take that size (reflect padding
 * wider than the input, mismatched add). */
int nst_layer_out_size(const NstLayer *l, int h, int w, int *oh, int *ow);

#endif /* NST_MODEL_SHAPE_H */
