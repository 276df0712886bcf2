/* Frame packing for the staging buffer and the frame shaders' constants. */
#include <string.h>

#include "frame/color.h"
#include "frame/frame.h"

int nst_frame_layout(NstPixelFormat format, int width, int height,
                     NstFrameLayout *l)
{
    int cw, ch;
    size_t off = 0;

    memset(l, 0, sizeof(*l));
    if (width < 1 || height < 1 || width > 32768 || height > 32768)
        return NST_ERR_INVALID;
    /* only now: width + 1 overflows for a width of INT_MAX */
    cw = (width + 1) / 2;
    ch = (height + 1) / 2;
    l->format = format;
    l->width = width;
    l->height = height;
    switch (format) {
    case NST_PIX_RGB24:
        l->n_planes = 1; l->row_bytes[0] = 3 * width; l->rows[0] = height;
        break;
    case NST_PIX_RGBA:
    case NST_PIX_BGRA:
        l->n_planes = 1; l->row_bytes[0] = 4 * width; l->rows[0] = height;
        break;
    case NST_PIX_YUV444P:
        l->n_planes = 3;
        for (int p = 0; p < 3; p++) {
            l->row_bytes[p] = width;
            l->rows[p] = height;
        }
        break;
    case NST_PIX_YUV420P:
        l->n_planes = 3;
        l->row_bytes[0] = width; l->rows[0] = height;
        for (int p = 1; p < 3; p++) {
            l->row_bytes[p] = cw;
            l->rows[p] = ch;
        }
        break;
    case NST_PIX_NV12:
        l->n_planes = 2;
        l->row_bytes[0] = width; l->rows[0] = height;
        l->row_bytes[1] = 2 * cw; l->rows[1] = ch;
        break;
    default:
        return NST_ERR_INVALID;
    }
    for (int p = 0; p < l->n_planes; p++) {
        l->stride[p] = (l->row_bytes[p] + 3) & ~3;
        l->offset[p] = off;
        off += (size_t)l->stride[p] * (size_t)l->rows[p];
    }
    l->size = off;
    return NST_OK;
}

void nst_frame_pack(const NstFrameLayout *l, const NstFrame *f, uint8_t *dst)
{
    for (int p = 0; p < l->n_planes; p++)
        for (int y = 0; y < l->rows[p]; y++)
            memcpy(dst + l->offset[p] + (size_t)y * (size_t)l->stride[p],
                   f->data[p] + (ptrdiff_t)y * f->linesize[p], (size_t)l->row_bytes[p]);
}

void nst_frame_unpack(const NstFrameLayout *l, const uint8_t *src, const NstFrame *f)
{
    for (int p = 0; p < l->n_planes; p++)
        for (int y = 0; y < l->rows[p]; y++)
            memcpy(f->data[p] + (ptrdiff_t)y * f->linesize[p],
                   src + l->offset[p] + (size_t)y * (size_t)l->stride[p],
                   (size_t)l->row_bytes[p]);
}

/* Layout of pix_to_tensor.comp's push block. */
void nst_frame_push_in(const NstFrameLayout *l, const NstFrame *f, int input_bgr,
                       float input_min, float input_max, NstPixInPush *push)
{
    memset(push, 0, sizeof(*push));
    push->w = l->width;
    push->h = l->height;
    push->format = (int32_t)l->format;
    push->bgr = input_bgr;
    for (int p = 0; p < 3; p++) {
        push->off[p] = (int32_t)l->offset[p];
        push->stride[p] = l->stride[p];
    }
    push->in_mul = (input_max - input_min) / 255.0f;
    push->in_add = input_min;
    nst_color_yuv_to_rgb(f->matrix, f->range, push->m);
}

/* Layout of tensor_to_pix.comp's push block. */
void nst_frame_push_out(const NstFrameLayout *l, const NstFrame *f,
                        const NstLayer *out, int input_bgr, int plane,
                        int tensor_width, float strength, int preserve,
                        NstPixOutPush *push)
{
    memset(push, 0, sizeof(*push));
    push->w = l->width;
    push->h = l->height;
    push->format = (int32_t)l->format;
    push->bgr = input_bgr;
    push->plane = plane;
    push->off = (int32_t)l->offset[plane];
    push->stride = l->stride[plane];
    push->row_bytes = l->row_bytes[plane];
    push->rows = l->rows[plane];
    push->t_w = tensor_width;
    push->out_tanh = out->out_tanh;
    push->strength = strength;
    push->out_mul = out->out_mul;
    push->out_add = out->out_add;
    push->out_min = out->out_min;
    push->out_max = out->out_max;
    nst_color_rgb_to_yuv(f->matrix, f->range, push->m);
    push->preserve = preserve;
}
