/*
 * Frames on their way to and from the GPU: how each pixel format's planes
 * are packed into the staging buffer the frame shaders read and write, and
 * the push constants of those shaders.
 */
#ifndef NST_FRAME_H
#define NST_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "model/model.h"
#include "gpu/pipelines.h"

typedef struct NstFrameLayout {
    NstPixelFormat format;
    int width, height;
    int n_planes;
    int row_bytes[3];  /* bytes of pixels in a row */
    int rows[3];
    int stride[3];     /* row_bytes rounded up to 4 */
    size_t offset[3];  /* multiple of 4 */
    size_t size;
} NstFrameLayout;

int  nst_frame_layout(NstPixelFormat format, int width, int height,
                      NstFrameLayout *layout);
void nst_frame_pack(const NstFrameLayout *l, const NstFrame *f, uint8_t *dst);
void nst_frame_unpack(const NstFrameLayout *l, const uint8_t *src, const NstFrame *f);

/* Push constants of pix_to_tensor.comp and of tensor_to_pix.comp for one
 * plane; tensor_width is the width of the network's output tensor;
 * preserve keeps the input's colours (nst_engine_set_preserve_color). */
void nst_frame_push_in(const NstFrameLayout *l, const NstFrame *f, int input_bgr,
                       float input_min, float input_max, uint32_t push[NST_PUSH_WORDS]);
void nst_frame_push_out(const NstFrameLayout *l, const NstFrame *f,
                        const NstLayer *output, int input_bgr, int plane,
                        int tensor_width, float strength, int preserve,
                        uint32_t push[NST_PUSH_WORDS]);

#endif
