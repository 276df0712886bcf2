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

/* pix_to_tensor.comp's push-constant block. */
typedef struct NstPixInPush {
    int32_t w, h, format, bgr;
    int32_t off[3];
    int32_t stride[3];
    float in_mul, in_add;
    float m[3][4];      /* rgb = (m[0].xyz . yuv + m[0].w, ...) */
} NstPixInPush;
_Static_assert(sizeof(NstPixInPush) == 24 * 4, "pix_to_tensor.comp's push block");

/* tensor_to_pix.comp's push-constant block. */
typedef struct NstPixOutPush {
    int32_t w, h, format, bgr;
    int32_t plane, off, stride, row_bytes, rows;
    int32_t t_w, out_tanh;
    float strength, out_mul, out_add, out_min, out_max;
    float m[3][4];      /* yuv = (m[0].xyz . rgb + m[0].w, ...) */
    int32_t preserve;
} NstPixOutPush;
_Static_assert(sizeof(NstPixOutPush) == 29 * 4, "tensor_to_pix.comp's push block");

/* The constants of pix_to_tensor.comp and of tensor_to_pix.comp for one
 * plane; tensor_width is the width of the tensor it reads; preserve keeps
 * the input's colours (nst_engine_set_preserve_color). */
void nst_frame_push_in(const NstFrameLayout *l, const NstFrame *f, int input_bgr,
                       float input_min, float input_max, NstPixInPush *push);
void nst_frame_push_out(const NstFrameLayout *l, const NstFrame *f,
                        const NstLayer *output, int input_bgr, int plane,
                        int tensor_width, float strength, int preserve,
                        NstPixOutPush *push);

#endif
