/* Plain C reference of the temporal passes; see ref_temporal.h. Each
 * function mirrors the shader it is named after. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "frame/temporal_params.h"
#include "nst.h"
#include "ref/ref_temporal.h"

#define SC NST_TEMPORAL_SCALE

static float clampf(float v, float lo, float hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

static int clampi(int v, int lo, int hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

/* GLSL's mix, as the specification writes it */
static float mixf(float a, float b, float t)
{
    return a * (1.0f - t) + b * t;
}

void nst_ref_temporal_free(NstRefTemporal *t)
{
    free(t->l);
    free(t->s);
    free(t->lp);
    free(t->sp);
    free(t->flow);
    free(t->changed);
    free(t->prev_in);
    free(t->mean[0]);
    free(t->mean[1]);
    free(t->prev_out);
    t->l = t->s = t->lp = t->sp = t->flow = t->changed = NULL;
    t->prev_in = t->mean[0] = t->mean[1] = t->prev_out = NULL;
    t->w = t->h = 0;
    t->valid = 0;
}

static int alloc_state(NstRefTemporal *t, int w, int h)
{
    size_t n = (size_t)w * h, ns;

    nst_ref_temporal_free(t);
    t->w = w;
    t->h = h;
    t->sw = (w + SC - 1) / SC;
    t->sh = (h + SC - 1) / SC;
    ns = (size_t)t->sw * t->sh;
    t->l = calloc(n, sizeof(float));
    t->s = calloc(ns, sizeof(float));
    t->lp = calloc(n, sizeof(float));
    t->sp = calloc(ns, sizeof(float));
    t->flow = calloc(2 * ns, sizeof(float));
    t->changed = calloc(ns, sizeof(float));
    t->prev_in = calloc(3 * n, sizeof(float));
    t->mean[0] = calloc(4 * n, sizeof(float));
    t->mean[1] = calloc(4 * n, sizeof(float));
    t->prev_out = calloc(3 * n, sizeof(float));
    if (!t->l || !t->s || !t->lp || !t->sp || !t->flow || !t->changed || !t->prev_in ||
        !t->mean[0] || !t->mean[1] || !t->prev_out) {
        nst_ref_temporal_free(t);
        return NST_ERR_NOMEM;
    }
    return NST_OK;
}

/* ---- temporal_luma.comp ------------------------------------------------ */

static void luma(NstRefTemporal *t, const NstModel *m, const NstTensor *in)
{
    float mul = (m->input_max - m->input_min) / 255.0f;
    size_t plane = (size_t)t->w * t->h;

    for (int by = 0; by < t->sh; by++)
        for (int bx = 0; bx < t->sw; bx++) {
            float sum = 0.0f, n = 0.0f;
            for (int dy = 0; dy < SC; dy++)
                for (int dx = 0; dx < SC; dx++) {
                    int x = bx * SC + dx, y = by * SC + dy;
                    float v[3];
                    if (x >= t->w || y >= t->h)
                        continue;
                    for (int c = 0; c < 3; c++)
                        v[m->input_bgr ? 2 - c : c] =
                            (in->data[c * plane + (size_t)y * t->w + x] - m->input_min) / mul;
                    float l = 0.299f * v[0] + 0.587f * v[1] + 0.114f * v[2];
                    t->l[(size_t)y * t->w + x] = l;
                    sum += l;
                    n += 1.0f;
                }
            t->s[by * t->sw + bx] = sum / n;
        }
}

/* ---- flow_block.comp ------------------------------------------------------ */

static float sad(const NstRefTemporal *t, int px, int py, int dx, int dy)
{
    const int r = NST_TEMPORAL_PATCH;
    float s = 0.0f, n = (float)(2 * r + 1);

    for (int qy = -r; qy <= r; qy++)
        for (int qx = -r; qx <= r; qx++) {
            int cx = clampi(px + qx, 0, t->sw - 1), cy = clampi(py + qy, 0, t->sh - 1);
            int ox = clampi(px + qx + dx, 0, t->sw - 1), oy = clampi(py + qy + dy, 0, t->sh - 1);
            s += fabsf(t->s[cy * t->sw + cx] - t->sp[oy * t->sw + ox]);
        }
    return s / (n * n);
}

static float v_fit(float cm, float c0, float cp)
{
    float d = (cm > cp ? cm : cp) - c0;
    return d > 1e-6f ? clampf(0.5f * (cm - cp) / d, -0.5f, 0.5f) : 0.0f;
}

static void flow(NstRefTemporal *t)
{
    const int rad = NST_TEMPORAL_RADIUS;

    for (int py = 0; py < t->sh; py++)
        for (int px = 0; px < t->sw; px++) {
            int bx = 0, by = 0;
            float best = sad(t, px, py, 0, 0), raw = best;
            for (int dy = -rad; dy <= rad; dy++)
                for (int dx = -rad; dx <= rad; dx++) {
                    float c = sad(t, px, py, dx, dy);
                    float cost = c + NST_TEMPORAL_PENALTY * (float)(abs(dx) + abs(dy));
                    if (cost < best) {
                        best = cost;
                        raw = c;
                        bx = dx;
                        by = dy;
                    }
                }
            float fx = (float)bx, fy = (float)by;
            if (raw > 1e-3f) {
                fx += v_fit(sad(t, px, py, bx - 1, by), raw, sad(t, px, py, bx + 1, by));
                fy += v_fit(sad(t, px, py, bx, by - 1), raw, sad(t, px, py, bx, by + 1));
            }
            t->flow[2 * (py * t->sw + px)] = fx;
            t->flow[2 * (py * t->sw + px) + 1] = fy;
        }
}

/* ---- temporal.glsl ------------------------------------------------------ */

static void flow_at(const NstRefTemporal *t, int x, int y, float f[2])
{
    float ux = clampf(((float)x + 0.5f) / SC - 0.5f, 0.0f, (float)(t->sw - 1));
    float uy = clampf(((float)y + 0.5f) / SC - 0.5f, 0.0f, (float)(t->sh - 1));
    int ax = (int)floorf(ux), ay = (int)floorf(uy);
    int bx = ax + 1 < t->sw ? ax + 1 : t->sw - 1, by = ay + 1 < t->sh ? ay + 1 : t->sh - 1;
    float tx = ux - (float)ax, ty = uy - (float)ay;

    for (int k = 0; k < 2; k++) {
        float f00 = t->flow[2 * (ay * t->sw + ax) + k], f10 = t->flow[2 * (ay * t->sw + bx) + k];
        float f01 = t->flow[2 * (by * t->sw + ax) + k], f11 = t->flow[2 * (by * t->sw + bx) + k];
        f[k] = mixf(mixf(f00, f10, tx), mixf(f01, f11, tx), ty) * SC;
    }
}

/* Bilinear at (qx, qy), clamped to the frame, of a w x h plane. */
static float bilinear(const float *p, int w, int h, float qx, float qy)
{
    qx = clampf(qx, 0.0f, (float)(w - 1));
    qy = clampf(qy, 0.0f, (float)(h - 1));
    int ax = (int)floorf(qx), ay = (int)floorf(qy);
    int bx = ax + 1 < w ? ax + 1 : w - 1, by = ay + 1 < h ? ay + 1 : h - 1;
    float tx = qx - (float)ax, ty = qy - (float)ay;
    return mixf(mixf(p[ay * w + ax], p[ay * w + bx], tx),
                mixf(p[by * w + ax], p[by * w + bx], tx), ty);
}

static float warp_error(const NstRefTemporal *t, int x, int y, const float f[2])
{
    float e = 0.0f;

    for (int dy = -1; dy <= 1; dy++)
        for (int dx = -1; dx <= 1; dx++) {
            int px = clampi(x + dx, 0, t->w - 1), py = clampi(y + dy, 0, t->h - 1);
            e += fabsf(bilinear(t->lp, t->w, t->h, (float)px + f[0], (float)py + f[1]) -
                       t->l[py * t->w + px]);
        }
    return e / 9.0f;
}

/* t_motion: the flow, or none where none explains the pixel within bias
 * levels as well. */
static float motion(const NstRefTemporal *t, int x, int y, float bias, float f[2])
{
    float zero[2] = { 0.0f, 0.0f }, e0, e;

    flow_at(t, x, y, f);
    e0 = warp_error(t, x, y, zero);
    e = warp_error(t, x, y, f);
    if (e0 <= e + bias) {
        f[0] = f[1] = 0.0f;
        return e0;
    }
    return e;
}

static int inside(const NstRefTemporal *t, float qx, float qy)
{
    return qx >= 0.0f && qy >= 0.0f && qx <= (float)(t->w - 1) && qy <= (float)(t->h - 1);
}

static float cubic(float t, int k)
{
    float t2 = t * t, t3 = t2 * t;
    return k == 0 ? 0.5f * (-t3 + 2.0f * t2 - t) :
           k == 1 ? 0.5f * (3.0f * t3 - 5.0f * t2 + 2.0f) :
           k == 2 ? 0.5f * (-3.0f * t3 + 4.0f * t2 + t) : 0.5f * (t3 - t2);
}

/* t_resample of a 3-plane CHW image (channel stride w h). */
static void resample(const float *img, int w, int h, float qx, float qy, float out[3])
{
    size_t plane = (size_t)w * h;
    int ax = (int)floorf(qx), ay = (int)floorf(qy);
    float tx = qx - (float)ax, ty = qy - (float)ay;

    for (int c = 0; c < 3; c++) {
        const float *p = img + c * plane;
        float sum = 0.0f, lo = 1e30f, hi = -1e30f;
        if (tx == 0.0f && ty == 0.0f) {
            out[c] = p[ay * w + ax];
            continue;
        }
        for (int j = 0; j < 4; j++) {
            int y = clampi(ay + j - 1, 0, h - 1);
            float row = 0.0f;
            for (int i = 0; i < 4; i++) {
                int x = clampi(ax + i - 1, 0, w - 1);
                float v = p[y * w + x];
                row += cubic(tx, i) * v;
                if ((i == 1 || i == 2) && (j == 1 || j == 2)) {
                    lo = v < lo ? v : lo;
                    hi = v > hi ? v : hi;
                }
            }
            sum += cubic(ty, j) * row;
        }
        out[c] = clampf(sum, lo, hi);
    }
}

/* ---- temporal_stats.comp ------------------------------------------------- */

static void stats(NstRefTemporal *t)
{
    enum { BINS = 256 };
    const float bin = 0.0625f;
    unsigned hist[BINS] = { 0 }, want, seen = 0;
    int n = t->sw * t->sh, b;
    float s = 0.0f;

    for (int k = 0; k < n; k++) {
        int bx = k % t->sw, by = k / t->sw;
        float fx = t->flow[2 * k] * SC, fy = t->flow[2 * k + 1] * SC, r = 0.0f, cnt = 0.0f;
        s += fabsf(t->s[k] - t->sp[k]);
        for (int dy = 0; dy < SC; dy++)
            for (int dx = 0; dx < SC; dx++) {
                int x = bx * SC + dx, y = by * SC + dy;
                if (x >= t->w || y >= t->h)
                    continue;
                r += fabsf(bilinear(t->lp, t->w, t->h, (float)x + fx, (float)y + fy) -
                           t->l[y * t->w + x]);
                cnt += 1.0f;
            }
        unsigned i = (unsigned)(r / cnt / bin);
        hist[i < BINS - 1 ? i : BINS - 1]++;
    }
    want = (unsigned)(n + 3) / 4u;
    for (b = 0; b < BINS - 1; b++) {
        seen += hist[b];
        if (seen >= want)
            break;
    }
    t->cut = s / (float)n;
    t->sigma = clampf(((float)b + 0.5f) * bin, NST_TEMPORAL_SIGMA_MIN, NST_TEMPORAL_SIGMA_MAX);
}

/* ---- temporal_stabilise.comp --------------------------------------------- */

static float luma_of(const NstModel *m, const float v[3])
{
    return m->input_bgr ? 0.114f * v[0] + 0.587f * v[1] + 0.299f * v[2]
                        : 0.299f * v[0] + 0.587f * v[1] + 0.114f * v[2];
}

static float change_at(const NstRefTemporal *t, const NstModel *m, const float *raw, int x,
                       int y)
{
    size_t plane = (size_t)t->w * t->h, i;
    float d[3];

    x = clampi(x, 0, t->w - 1);
    y = clampi(y, 0, t->h - 1);
    i = (size_t)y * t->w + x;
    for (int c = 0; c < 3; c++)
        d[c] = raw[c * plane + i] - t->prev_in[c * plane + i];
    return fabsf(luma_of(m, d));
}

static void stabilise(NstRefTemporal *t, const NstModel *m, const float *raw, float *in)
{
    float in_mul = fabsf((m->input_max - m->input_min) / 255.0f);
    float sigma = t->sigma * in_mul, *mc = t->mean[t->parity], *mp = t->mean[!t->parity];
    size_t plane = (size_t)t->w * t->h;

    for (int y = 0; y < t->h; y++)
        for (int x = 0; x < t->w; x++) {
            size_t i = (size_t)y * t->w + x;
            float c[3], held[3], mean[3], state = 0.0f, f[2];
            for (int k = 0; k < 3; k++)
                c[k] = held[k] = mean[k] = raw[k * plane + i];
            if (t->valid && t->cut <= NST_TEMPORAL_CUT) {
                float e = motion(t, x, y, NST_TEMPORAL_K_STILL * t->sigma, f);
                if (e * in_mul > NST_TEMPORAL_K_ERR * sigma ||
                    !inside(t, (float)x + f[0], (float)y + f[1])) {
                    /* renewed */
                } else if (f[0] != 0.0f || f[1] != 0.0f) {
                    state = 0.25f;
                } else {
                    float hp[3], dv[3], d, nb;
                    for (int k = 0; k < 3; k++) {
                        hp[k] = t->prev_in[k * plane + i];
                        dv[k] = c[k] - hp[k];
                    }
                    d = fabsf(luma_of(m, dv));
                    nb = d;
                    for (int dy = -1; dy <= 1; dy++)
                        for (int dx = -1; dx <= 1; dx++)
                            if (dx || dy)
                                nb += change_at(t, m, raw, x + dx, y + dy);
                    if (d <= NST_TEMPORAL_K_PIX * sigma && nb / 9.0f <= NST_TEMPORAL_K_NB * sigma) {
                        for (int k = 0; k < 3; k++) {
                            mean[k] = mp[4 * i + k] + NST_TEMPORAL_ALPHA * (c[k] - mp[4 * i + k]);
                            dv[k] = mean[k] - hp[k];
                        }
                        if (fabsf(luma_of(m, dv)) > NST_TEMPORAL_K_DRIFT * sigma) {
                            memcpy(held, mean, sizeof(held));
                            state = 0.5f;
                        } else {
                            memcpy(held, hp, sizeof(held));
                            state = 1.0f;
                        }
                    }
                }
            }
            for (int k = 0; k < 3; k++) {
                in[k * plane + i] = held[k];
                mc[4 * i + k] = mean[k];
            }
            mc[4 * i + 3] = state;
        }
}

/* ---- temporal_changed.comp ----------------------------------------------- */

static void changed(NstRefTemporal *t)
{
    const float *mc = t->mean[t->parity];

    for (int by = 0; by < t->sh; by++)
        for (int bx = 0; bx < t->sw; bx++) {
            int n = 0;
            for (int dy = 0; dy < SC; dy++)
                for (int dx = 0; dx < SC; dx++) {
                    int x = bx * SC + dx, y = by * SC + dy;
                    if (x < t->w && y < t->h && mc[4 * ((size_t)y * t->w + x) + 3] == 0.0f)
                        n++;
                }
            t->changed[by * t->sw + bx] = n >= NST_TEMPORAL_CHANGED ? 1.0f : 0.0f;
        }
}

/* Pixels from (px, py) to the nearest pixel of block (bx, by), Chebyshev. */
static int block_distance(int px, int py, int bx, int by)
{
    int dx = bx * SC - px, dy = by * SC - py;
    if (px - (bx * SC + SC - 1) > dx)
        dx = px - (bx * SC + SC - 1);
    if (py - (by * SC + SC - 1) > dy)
        dy = py - (by * SC + SC - 1);
    dx = dx > 0 ? dx : 0;
    dy = dy > 0 ? dy : 0;
    return dx > dy ? dx : dy;
}

/* ---- temporal_renew.comp ------------------------------------------------- */

static void renew(NstRefTemporal *t, const float *raw, float *in)
{
    const int r = NST_TEMPORAL_RENEW, near = (r + SC - 1) / SC;
    size_t plane = (size_t)t->w * t->h;
    float *mc = t->mean[t->parity];

    for (int y = 0; y < t->h; y++)
        for (int x = 0; x < t->w; x++) {
            size_t i = (size_t)y * t->w + x;
            int hit = 0;
            if (mc[4 * i + 3] == 0.0f)
                continue;
            for (int dy = -near; dy <= near && !hit; dy++)
                for (int dx = -near; dx <= near && !hit; dx++) {
                    int cx = x / SC + dx, cy = y / SC + dy;
                    hit = cx >= 0 && cy >= 0 && cx < t->sw && cy < t->sh &&
                          block_distance(x, y, cx, cy) <= r &&
                          t->changed[cy * t->sw + cx] != 0.0f;
                }
            if (!hit)
                continue;
            for (int k = 0; k < 3; k++)
                in[k * plane + i] = mc[4 * i + k] = raw[k * plane + i];
            mc[4 * i + 3] = 0.0f;
        }
}

int nst_ref_temporal_input(NstRefTemporal *t, const NstModel *m, NstTensor *in)
{
    size_t n = (size_t)in->w * in->h;
    float *raw;
    int ret;

    if (t->w != in->w || t->h != in->h) {
        if ((ret = alloc_state(t, in->w, in->h)) < 0)
            return ret;
    }
    luma(t, m, in);
    if (t->mechanisms & (NST_TEMPORAL_WARP | NST_TEMPORAL_INPUT))
        flow(t);
    stats(t);
    if (!(t->mechanisms & NST_TEMPORAL_INPUT))
        return NST_OK;
    if (!(raw = malloc(3 * n * sizeof(float))))
        return NST_ERR_NOMEM;
    memcpy(raw, in->data, 3 * n * sizeof(float));
    stabilise(t, m, raw, in->data);
    changed(t);
    renew(t, raw, in->data);
    free(raw);
    memcpy(t->prev_in, in->data, 3 * n * sizeof(float));
    return NST_OK;
}

/* ---- temporal_blend.comp ------------------------------------------------- */

int nst_ref_temporal_output(NstRefTemporal *t, const NstModel *m, const NstTensor *y,
                            NstTensor *out)
{
    const NstLayer *o = &m->layers[m->n_layers - 1];
    const float *mc = t->mean[t->parity];
    const int use_state = (t->mechanisms & NST_TEMPORAL_INPUT) != 0, near = NST_TEMPORAL_NEAR_BLOCKS;
    float hold = t->strength + (1.0f - t->strength) * NST_TEMPORAL_HOLD_BOOST;
    float move = t->strength + (1.0f - t->strength) * NST_TEMPORAL_MOVE_BOOST;
    size_t plane = (size_t)t->w * t->h;
    int ret;

    if ((ret = nst_tensor_alloc(out, 3, t->h, t->w)) < 0)
        return ret;
    for (int py = 0; py < t->h; py++)
        for (int px = 0; px < t->w; px++) {
            size_t i = (size_t)py * t->w + px;
            float rgb[3], f[2];
            for (int c = 0; c < 3; c++) {
                float v = y->data[((size_t)c * y->h + py) * y->w + px];
                if (o->out_tanh)
                    v = tanhf(clampf(v, -15.0f, 15.0f));
                rgb[m->input_bgr ? 2 - c : c] = clampf(v * o->out_mul + o->out_add,
                                                       o->out_min, o->out_max);
            }
            if ((t->mechanisms & NST_TEMPORAL_WARP) && t->valid &&
                t->cut <= NST_TEMPORAL_CUT) {
                float e = motion(t, px, py, NST_TEMPORAL_K_STILL * t->sigma, f), qx = (float)px + f[0], qy = (float)py + f[1];
                if (inside(t, qx, qy)) {
                    float c = clampf((NST_TEMPORAL_HI - e) / (NST_TEMPORAL_HI - NST_TEMPORAL_LO),
                                     0.0f, 1.0f), k = c * t->strength, w[3];
                    if (use_state) {
                        float state = mc[4 * i + 3];
                        int bx = px / SC, by = py / SC, dist = near * SC + 1;
                        if (state == 1.0f)
                            k = hold;
                        else if (state == 0.25f)
                            k = c * move;
                        for (int dy = -near; dy <= near; dy++)
                            for (int dx = -near; dx <= near; dx++) {
                                int cx = bx + dx, cy = by + dy, dd;
                                if (cx < 0 || cy < 0 || cx >= t->sw || cy >= t->sh ||
                                    t->changed[cy * t->sw + cx] == 0.0f)
                                    continue;
                                dd = block_distance(px, py, cx, cy);
                                if (dd < dist)
                                    dist = dd;
                            }
                        k *= dist < NST_TEMPORAL_NEAR ? (float)dist / (float)NST_TEMPORAL_NEAR : 1.0f;
                    }
                    if (k > 0.0f) {
                        resample(t->prev_out, t->w, t->h, qx, qy, w);
                        for (int c3 = 0; c3 < 3; c3++)
                            rgb[c3] += k * (w[c3] - rgb[c3]);
                    }
                }
            }
            for (int c = 0; c < 3; c++) {
                t->prev_out[c * plane + i] = rgb[c];
                out->data[(m->input_bgr ? 2 - c : c) * plane + i] = rgb[c];
            }
        }
    /* record_end and nst_temporal_done */
    memcpy(t->lp, t->l, plane * sizeof(float));
    memcpy(t->sp, t->s, (size_t)t->sw * t->sh * sizeof(float));
    t->valid = 1;
    t->parity ^= 1;
    return NST_OK;
}
