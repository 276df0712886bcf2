/* C reference of the downscale and the guided upsampling. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ref/ref_frame.h"
#include "ref/ref_resize.h"
#include "frame/resize_params.h"

static float *at(const NstTensor *t, int c, int y, int x)
{
    return &t->data[((size_t)c * t->h + y) * t->w + x];
}

int nst_ref_downscale(const NstTensor *in, int w, int h, NstTensor *out)
{
    double sx, sy;
    int ret;

    if (w > in->w || h > in->h)
        return NST_ERR_INVALID;
    if ((ret = nst_tensor_alloc(out, in->c, h, w)) < 0)
        return ret;
    sx = (double)in->w / w;
    sy = (double)in->h / h;
    for (int c = 0; c < in->c; c++)
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) {
                double x0 = x * sx, x1 = fmin((x + 1) * sx, in->w);
                double y0 = y * sy, y1 = fmin((y + 1) * sy, in->h);
                double sum = 0.0, total = 0.0;
                for (int j = (int)y0; j < in->h && j < y1; j++)
                    for (int i = (int)x0; i < in->w && i < x1; i++) {
                        double wt = (fmin(i + 1, x1) - fmax(i, x0)) *
                                    (fmin(j + 1, y1) - fmax(j, y0));
                        sum += wt * *at(in, c, j, i);
                        total += wt;
                    }
                *at(out, c, y, x) = (float)(sum / total);
            }
    return NST_OK;
}

/* Inverse of a symmetric positive definite 3x3 matrix. */
static void inverse3(const double m[3][3], double inv[3][3])
{
    double det;

    inv[0][0] = m[1][1] * m[2][2] - m[1][2] * m[2][1];
    inv[0][1] = m[0][2] * m[2][1] - m[0][1] * m[2][2];
    inv[0][2] = m[0][1] * m[1][2] - m[0][2] * m[1][1];
    inv[1][0] = m[1][2] * m[2][0] - m[1][0] * m[2][2];
    inv[1][1] = m[0][0] * m[2][2] - m[0][2] * m[2][0];
    inv[1][2] = m[0][2] * m[1][0] - m[0][0] * m[1][2];
    inv[2][0] = m[1][0] * m[2][1] - m[1][1] * m[2][0];
    inv[2][1] = m[0][1] * m[2][0] - m[0][0] * m[2][1];
    inv[2][2] = m[0][0] * m[1][1] - m[0][1] * m[1][0];
    det = m[0][0] * inv[0][0] + m[0][1] * inv[1][0] + m[0][2] * inv[2][0];
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++)
            inv[i][j] /= det;
}

/* The colour model of each pixel: coef (9 x h x w), plane 3c + i = A[c][i]
 * of the fit p ~ A g + b over the window of radius r. */
static void fit(const NstTensor *g, const NstTensor *p, int r, float eps, NstTensor *coef)
{
    for (int y = 0; y < g->h; y++)
        for (int x = 0; x < g->w; x++) {
            double n = 0, mi[3] = { 0 }, mp[3] = { 0 }, ii[3][3] = { { 0 } };
            double ip[3][3] = { { 0 } }, cov[3][3], inv[3][3];
            for (int j = y - r; j <= y + r; j++)
                for (int i = x - r; i <= x + r; i++) {
                    if (i < 0 || j < 0 || i >= g->w || j >= g->h)
                        continue;
                    for (int a = 0; a < 3; a++) {
                        mi[a] += *at(g, a, j, i);
                        mp[a] += *at(p, a, j, i);
                        for (int b = 0; b < 3; b++) {
                            ii[a][b] += (double)*at(g, a, j, i) * *at(g, b, j, i);
                            ip[a][b] += (double)*at(p, a, j, i) * *at(g, b, j, i);
                        }
                    }
                    n++;
                }
            for (int a = 0; a < 3; a++) {
                mi[a] /= n;
                mp[a] /= n;
            }
            for (int a = 0; a < 3; a++)
                for (int b = 0; b < 3; b++) {
                    cov[a][b] = ii[a][b] / n - mi[a] * mi[b] + (a == b ? eps : 0.0);
                    ip[a][b] = ip[a][b] / n - mp[a] * mi[b]; /* cov(p[a], g[b]) */
                }
            inverse3(cov, inv);
            for (int c = 0; c < 3; c++)
                for (int i = 0; i < 3; i++) {
                    double a = 0;
                    for (int k = 0; k < 3; k++)
                        a += ip[c][k] * inv[k][i];
                    *at(coef, 3 * c + i, y, x) = (float)a;
                }
        }
}

static void box_mean(const NstTensor *in, int r, NstTensor *out)
{
    for (int c = 0; c < in->c; c++)
        for (int y = 0; y < in->h; y++)
            for (int x = 0; x < in->w; x++) {
                double sum = 0;
                int n = 0;
                for (int j = y - r; j <= y + r; j++)
                    for (int i = x - r; i <= x + r; i++)
                        if (i >= 0 && j >= 0 && i < in->w && j < in->h) {
                            sum += *at(in, c, j, i);
                            n++;
                        }
                *at(out, c, y, x) = (float)(sum / n);
            }
}

/* Bilinear at network position u (clamped to the grid), plane c. */
static double lerp2(const NstTensor *t, int c, double ux, double uy)
{
    int x0, y0, x1, y1;
    double tx, ty;

    ux = fmin(fmax(ux, 0.0), t->w - 1);
    uy = fmin(fmax(uy, 0.0), t->h - 1);
    x0 = (int)ux;
    y0 = (int)uy;
    x1 = x0 + 1 < t->w ? x0 + 1 : x0;
    y1 = y0 + 1 < t->h ? y0 + 1 : y0;
    tx = ux - x0;
    ty = uy - y0;
    return (*at(t, c, y0, x0) * (1 - tx) + *at(t, c, y0, x1) * tx) * (1 - ty) +
           (*at(t, c, y1, x0) * (1 - tx) + *at(t, c, y1, x1) * tx) * ty;
}

int nst_ref_guided_upsample(const NstTensor *guide, const NstTensor *guide_lo,
                            const NstTensor *styled, int r, int mean_r, float eps,
                            float lo, float hi, NstTensor *out)
{
    NstTensor coef = { 0 }, mean = { 0 }, model = { 0 };
    int w = guide_lo->w, h = guide_lo->h, ret;

    if (guide->c != 3 || guide_lo->c != 3 || styled->c != 3 || styled->w != w ||
        styled->h != h || w > guide->w || h > guide->h)
        return NST_ERR_INVALID;
    if ((ret = nst_tensor_alloc(&coef, 9, h, w)) < 0 ||
        (ret = nst_tensor_alloc(&mean, 9, h, w)) < 0 ||
        (ret = nst_tensor_alloc(&model, 12, h, w)) < 0 ||
        (ret = nst_tensor_alloc(out, 3, guide->h, guide->w)) < 0)
        goto end;
    fit(guide_lo, styled, r, eps, &coef);
    box_mean(&coef, mean_r, &mean);
    /* model: plane 4c + i = A'[c][i], plane 4c + 3 = b'[c] = p[c] - A'[c] . g,
     * the averaged model moved to pass through this pixel's own output */
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int c = 0; c < 3; c++) {
                double b = *at(styled, c, y, x);
                for (int i = 0; i < 3; i++) {
                    float a = *at(&mean, 3 * c + i, y, x);
                    *at(&model, 4 * c + i, y, x) = a;
                    b -= (double)a * *at(guide_lo, i, y, x);
                }
                *at(&model, 4 * c + 3, y, x) = (float)b;
            }
    for (int y = 0; y < guide->h; y++)
        for (int x = 0; x < guide->w; x++) {
            /* pixel centres, as downscale maps them */
            double ux = (x + 0.5) * w / guide->w - 0.5, uy = (y + 0.5) * h / guide->h - 0.5;
            for (int c = 0; c < 3; c++) {
                double q = lerp2(&model, 4 * c + 3, ux, uy);
                for (int i = 0; i < 3; i++)
                    q += lerp2(&model, 4 * c + i, ux, uy) * *at(guide, i, y, x);
                *at(out, c, y, x) = (float)fmin(fmax(q, lo), hi);
            }
        }
end:
    nst_tensor_free(&coef);
    nst_tensor_free(&mean);
    nst_tensor_free(&model);
    return ret;
}

/* network units -> colours in 0..1, in place */
static void to_unit(const NstModel *m, NstTensor *t)
{
    for (size_t i = 0; i < (size_t)t->c * t->h * t->w; i++)
        t->data[i] = (t->data[i] - m->input_min) / (m->input_max - m->input_min);
}

int nst_ref_process_sized(const NstModel *m, NstFrame *f, float strength, int w, int h)
{
    const NstLayer *o = &m->layers[m->n_layers - 1];
    NstTensor in = { 0 }, small = { 0 }, y = { 0 }, p = { 0 }, crop = { 0 }, out = { 0 };
    int ret;

    if (w == f->width && h == f->height)
        return nst_ref_process(m, f, strength);
    if (strength == 0.0f)
        return NST_OK;
    if ((ret = nst_ref_frame_to_tensor(m, f, &in)) < 0 ||
        (ret = nst_ref_downscale(&in, w, h, &small)) < 0 ||
        (ret = nst_ref_forward(m, &small, &y)) < 0 ||
        (ret = nst_ref_layer(o, &y, NULL, &p)) < 0 ||
        (ret = nst_tensor_alloc(&crop, 3, h, w)) < 0)
        goto end;
    if (p.w < w || p.h < h) { /* a network that shrinks: as nst_ref_process */
        ret = NST_ERR_UNSUPPORTED;
        goto end;
    }
    /* the network's output may be larger: its top-left w x h is aligned */
    for (int c = 0; c < 3; c++)
        for (int j = 0; j < h; j++)
            memcpy(at(&crop, c, j, 0), at(&p, c, j, 0), (size_t)w * sizeof(float));
    to_unit(m, &in);
    to_unit(m, &small);
    if ((ret = nst_ref_guided_upsample(&in, &small, &crop, NST_GUIDED_RADIUS,
                                       NST_GUIDED_MEAN_RADIUS, NST_GUIDED_EPS,
                                       o->out_min, o->out_max, &out)) < 0)
        goto end;
    nst_ref_pixels_to_frame(m, &out, f, strength);
end:
    nst_tensor_free(&in);
    nst_tensor_free(&small);
    nst_tensor_free(&y);
    nst_tensor_free(&p);
    nst_tensor_free(&crop);
    nst_tensor_free(&out);
    return ret;
}
