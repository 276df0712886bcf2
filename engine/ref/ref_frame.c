/* C reference of the frame shaders (pix_to_tensor, tensor_to_pix). */
#include <math.h>
#include <string.h>

#include "frame/color.h"
#include "ref/ref_frame.h"

static int is_rgb(NstPixelFormat f)
{
    return f == NST_PIX_RGB24 || f == NST_PIX_RGBA || f == NST_PIX_BGRA;
}

static uint8_t *px(const NstFrame *f, int plane, int x, int y, int bytes)
{
    return f->data[plane] + (ptrdiff_t)y * f->linesize[plane] + (ptrdiff_t)x * bytes;
}

static void chroma_sample(const NstFrame *f, int cx, int cy, float uv[2])
{
    if (f->format == NST_PIX_NV12) {
        uv[0] = px(f, 1, cx, cy, 2)[0];
        uv[1] = px(f, 1, cx, cy, 2)[1];
    } else {
        uv[0] = *px(f, 1, cx, cy, 1);
        uv[1] = *px(f, 2, cx, cy, 1);
    }
}

static int clampi(int v, int lo, int hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

/* Chroma (U, V) at pixel x, y: 4:4:4 as stored; 4:2:0 interpolated
 * bilinearly from samples sited at the centre of their 2x2 pixels. */
static void chroma_at(const NstFrame *f, int x, int y, float *u, float *v)
{
    int cw = (f->width + 1) / 2, ch = (f->height + 1) / 2;
    float cx = (x - 0.5f) * 0.5f, cy = (y - 0.5f) * 0.5f;
    int x0 = (int)floorf(cx), y0 = (int)floorf(cy);
    float fx = cx - x0, fy = cy - y0, s[4][2];

    if (f->format == NST_PIX_YUV444P) {
        *u = *px(f, 1, x, y, 1);
        *v = *px(f, 2, x, y, 1);
        return;
    }
    chroma_sample(f, clampi(x0, 0, cw - 1), clampi(y0, 0, ch - 1), s[0]);
    chroma_sample(f, clampi(x0 + 1, 0, cw - 1), clampi(y0, 0, ch - 1), s[1]);
    chroma_sample(f, clampi(x0, 0, cw - 1), clampi(y0 + 1, 0, ch - 1), s[2]);
    chroma_sample(f, clampi(x0 + 1, 0, cw - 1), clampi(y0 + 1, 0, ch - 1), s[3]);
    for (int c = 0; c < 2; c++) {
        float top = s[0][c] + (s[1][c] - s[0][c]) * fx;
        float bottom = s[2][c] + (s[3][c] - s[2][c]) * fx;
        (c ? v : u)[0] = top + (bottom - top) * fy;
    }
}

int nst_ref_frame_to_tensor(const NstModel *m, const NstFrame *f, NstTensor *out)
{
    float mat[3][4], mul = (m->input_max - m->input_min) / 255.0f;
    size_t plane = (size_t)f->width * (size_t)f->height;
    int ret = nst_tensor_alloc(out, 3, f->height, f->width);

    if (ret < 0)
        return ret;
    nst_color_yuv_to_rgb(f->matrix, f->range, mat);
    for (int y = 0; y < f->height; y++)
        for (int x = 0; x < f->width; x++) {
            float rgb[3];
            if (is_rgb(f->format)) {
                const uint8_t *p = px(f, 0, x, y, f->format == NST_PIX_RGB24 ? 3 : 4);
                for (int c = 0; c < 3; c++)
                    rgb[c] = p[f->format == NST_PIX_BGRA ? 2 - c : c];
            } else {
                float yuv[3] = { *px(f, 0, x, y, 1) };
                chroma_at(f, x, y, &yuv[1], &yuv[2]);
                for (int c = 0; c < 3; c++) {
                    float v = mat[c][0] * yuv[0] + mat[c][1] * yuv[1] +
                              mat[c][2] * yuv[2] + mat[c][3];
                    rgb[c] = v < 0.0f ? 0.0f : v > 255.0f ? 255.0f : v;
                }
            }
            for (int c = 0; c < 3; c++)
                out->data[(size_t)(m->input_bgr ? 2 - c : c) * plane +
                          (size_t)y * f->width + x] = rgb[c] * mul + m->input_min;
        }
    return NST_OK;
}

static void styled_rgb(const NstModel *m, const NstLayer *o, const NstTensor *t, int x, int y,
                       float rgb[3])
{
    for (int c = 0; c < 3; c++) {
        float v = t->data[((size_t)c * t->h + y) * t->w + x];
        if (o->out_tanh)
            v = tanhf(v);
        v = v * o->out_mul + o->out_add;
        v = v < o->out_min ? o->out_min : v > o->out_max ? o->out_max : v;
        rgb[m->input_bgr ? 2 - c : c] = v;
    }
}

static float yuv_of(float mat[3][4], const float rgb[3], int comp)
{
    return mat[comp][0] * rgb[0] + mat[comp][1] * rgb[1] + mat[comp][2] * rgb[2] +
           mat[comp][3];
}

static float chroma_420(const NstModel *m, const NstLayer *o, const NstTensor *t,
                        const NstFrame *f, float mat[3][4], int cx, int cy, int comp)
{
    float s = 0.0f, n = 0.0f, rgb[3];

    for (int dy = 0; dy < 2; dy++)
        for (int dx = 0; dx < 2; dx++)
            if (2 * cx + dx < f->width && 2 * cy + dy < f->height) {
                styled_rgb(m, o, t, 2 * cx + dx, 2 * cy + dy, rgb);
                s += yuv_of(mat, rgb, comp);
                n += 1.0f;
            }
    return s / n;
}

static void blend(uint8_t *p, float styled, float strength)
{
    float v = floorf(*p + strength * (styled - *p) + 0.5f);

    /* Written so that NaN (finite weights can still overflow to inf and
     * then inf - inf) becomes 0: converting NaN to uint8_t is undefined. */
    *p = (uint8_t)(v >= 0.0f ? (v <= 255.0f ? v : 255.0f) : 0.0f);
}

/* preserve: the styled luma moved into the input pixel p (BT.601). */
static void keep_color(const uint8_t *p, int bgra, float rgb[3])
{
    float o[3], d;

    for (int c = 0; c < 3; c++)
        o[c] = p[bgra ? 2 - c : c];
    d = 0.299f * rgb[0] + 0.587f * rgb[1] + 0.114f * rgb[2] -
        (0.299f * o[0] + 0.587f * o[1] + 0.114f * o[2]);
    for (int c = 0; c < 3; c++) {
        float v = o[c] + d;
        rgb[c] = v >= 0.0f ? (v <= 255.0f ? v : 255.0f) : 0.0f; /* NaN: 0 */
    }
}

/* t through the output transform o, cropped, converted and blended into f;
 * preserve: keeping f's colours (nst_engine_set_preserve_color) */
static void to_frame(const NstModel *m, const NstLayer *o, const NstTensor *t, NstFrame *f,
                     float strength, int preserve)
{
    float mat[3][4], rgb[3];
    int cw = (f->width + 1) / 2, ch = (f->height + 1) / 2;

    nst_color_rgb_to_yuv(f->matrix, f->range, mat);
    for (int y = 0; y < f->height; y++)
        for (int x = 0; x < f->width; x++) {
            styled_rgb(m, o, t, x, y, rgb);
            if (is_rgb(f->format)) {
                uint8_t *p = px(f, 0, x, y, f->format == NST_PIX_RGB24 ? 3 : 4);
                if (preserve)
                    keep_color(p, f->format == NST_PIX_BGRA, rgb);
                for (int c = 0; c < 3; c++)
                    blend(&p[f->format == NST_PIX_BGRA ? 2 - c : c], rgb[c], strength);
                continue;
            }
            blend(px(f, 0, x, y, 1), yuv_of(mat, rgb, 0), strength);
            if (preserve)
                continue; /* the chroma planes as they came */
            if (f->format == NST_PIX_YUV444P)
                for (int c = 1; c < 3; c++)
                    blend(px(f, c, x, y, 1), yuv_of(mat, rgb, c), strength);
        }
    if (!preserve && (f->format == NST_PIX_YUV420P || f->format == NST_PIX_NV12))
        for (int cy = 0; cy < ch; cy++)
            for (int cx = 0; cx < cw; cx++)
                for (int c = 1; c < 3; c++) {
                    uint8_t *p = f->format == NST_PIX_NV12 ? &px(f, 1, cx, cy, 2)[c - 1]
                                                           : px(f, c, cx, cy, 1);
                    blend(p, chroma_420(m, o, t, f, mat, cx, cy, c), strength);
                }
}

void nst_ref_tensor_to_frame(const NstModel *m, const NstTensor *t, NstFrame *f,
                             float strength)
{
    to_frame(m, &m->layers[m->n_layers - 1], t, f, strength, 0);
}

void nst_ref_tensor_to_frame_color(const NstModel *m, const NstTensor *t, NstFrame *f,
                                   float strength, int preserve)
{
    to_frame(m, &m->layers[m->n_layers - 1], t, f, strength, preserve);
}

void nst_ref_pixels_to_frame(const NstModel *m, const NstTensor *t, NstFrame *f,
                             float strength)
{
    NstLayer identity = m->layers[m->n_layers - 1];

    identity.out_tanh = 0;
    identity.out_mul = 1.0f;
    identity.out_add = 0.0f;
    to_frame(m, &identity, t, f, strength, 0);
}

int nst_ref_process(const NstModel *m, NstFrame *f, float strength)
{
    return nst_ref_process_color(m, f, strength, 0);
}

int nst_ref_process_color(const NstModel *m, NstFrame *f, float strength, int preserve)
{
    NstTensor in, out;
    int ret;

    if (strength == 0.0f)
        return NST_OK;
    if ((ret = nst_ref_frame_to_tensor(m, f, &in)) < 0)
        return ret;
    ret = nst_ref_forward(m, &in, &out);
    nst_tensor_free(&in);
    if (ret < 0)
        return ret;
    /* The frame is the output's top-left part: a network that shrinks its
     * input (a stride-2 conv without a way back up) has none to give, and
     * the engine refuses it too (nst_net_process). */
    if (out.w < f->width || out.h < f->height) {
        nst_tensor_free(&out);
        return NST_ERR_UNSUPPORTED;
    }
    nst_ref_tensor_to_frame_color(m, &out, f, strength, preserve);
    nst_tensor_free(&out);
    return NST_OK;
}
