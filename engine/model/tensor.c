/* Host tensors (NstTensor, float32 CHW): allocated and freed. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "model/tensor.h"
#include "nst.h"

int nst_tensor_alloc(NstTensor *t, int c, int h, int w)
{
    size_t n;

    memset(t, 0, sizeof(*t));
    if (c < 1 || h < 1 || w < 1)
        return NST_ERR_INVALID;
    n = (size_t)c;
    if ((size_t)h > SIZE_MAX / n || (size_t)w > SIZE_MAX / (n *= h) ||
        (n *= w) > SIZE_MAX / sizeof(float))
        return NST_ERR_NOMEM;
    t->data = calloc(n, sizeof(float));
    if (!t->data)
        return NST_ERR_NOMEM;
    t->c = c;
    t->h = h;
    t->w = w;
    return NST_OK;
}

void nst_tensor_free(NstTensor *t)
{
    if (!t)
        return;
    free(t->data);
    memset(t, 0, sizeof(*t));
}
