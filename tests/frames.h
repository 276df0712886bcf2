/*
 * Host frames for the tests: allocation with padded, optionally bottom-up
 * rows, and comparison of the pixels (not the padding).
 */
#ifndef NST_TEST_FRAMES_H
#define NST_TEST_FRAMES_H

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nst.h"

typedef struct TestFrame {
    NstFrame f;
    uint8_t *mem[3];
    int row_bytes[3], rows[3], n_planes;
} TestFrame;

static const char *const pix_names[NST_PIX_NB] = {
    "rgb24", "rgba", "bgra", "yuv420p", "yuv444p", "nv12",
};

static inline void tf_plane_dims(NstPixelFormat fmt, int w, int h, int *n, int rb[3], int rows[3])
{
    int cw = (w + 1) / 2, ch = (h + 1) / 2;

    switch (fmt) {
    case NST_PIX_RGB24: *n = 1; rb[0] = 3 * w; rows[0] = h; break;
    case NST_PIX_RGBA:
    case NST_PIX_BGRA:  *n = 1; rb[0] = 4 * w; rows[0] = h; break;
    case NST_PIX_YUV444P:
        *n = 3; rb[0] = rb[1] = rb[2] = w; rows[0] = rows[1] = rows[2] = h; break;
    case NST_PIX_YUV420P:
        *n = 3; rb[0] = w; rows[0] = h; rb[1] = rb[2] = cw; rows[1] = rows[2] = ch; break;
    default: /* NV12 */
        *n = 2; rb[0] = w; rows[0] = h; rb[1] = 2 * cw; rows[1] = ch; break;
    }
}

/* Rows padded by `pad` bytes filled with 0xA5; bottom_up stores the rows
 * in reverse with a negative line size, as FFmpeg allows. */
static inline void tf_alloc(TestFrame *t, NstPixelFormat fmt, int w, int h, int pad, int bottom_up)
{
    memset(t, 0, sizeof(*t));
    t->f.format = fmt;
    t->f.width = w;
    t->f.height = h;
    tf_plane_dims(fmt, w, h, &t->n_planes, t->row_bytes, t->rows);
    for (int p = 0; p < t->n_planes; p++) {
        int ls = t->row_bytes[p] + pad;
        t->mem[p] = malloc((size_t)ls * t->rows[p]);
        memset(t->mem[p], 0xA5, (size_t)ls * t->rows[p]);
        if (bottom_up) {
            t->f.data[p] = t->mem[p] + (size_t)ls * (t->rows[p] - 1);
            t->f.linesize[p] = -ls;
        } else {
            t->f.data[p] = t->mem[p];
            t->f.linesize[p] = ls;
        }
    }
}

static inline uint8_t *tf_row(const TestFrame *t, int p, int y)
{
    return t->f.data[p] + (ptrdiff_t)y * t->f.linesize[p];
}

static inline void tf_fill_random(TestFrame *t, unsigned seed)
{
    for (int p = 0; p < t->n_planes; p++)
        for (int y = 0; y < t->rows[p]; y++)
            for (int x = 0; x < t->row_bytes[p]; x++) {
                seed = seed * 1664525u + 1013904223u;
                tf_row(t, p, y)[x] = (uint8_t)(seed >> 24);
            }
}

static inline void tf_copy(TestFrame *dst, const TestFrame *src, int pad, int bottom_up)
{
    tf_alloc(dst, src->f.format, src->f.width, src->f.height, pad, bottom_up);
    dst->f.matrix = src->f.matrix;
    dst->f.range = src->f.range;
    for (int p = 0; p < src->n_planes; p++)
        for (int y = 0; y < src->rows[p]; y++)
            memcpy(tf_row(dst, p, y), tf_row(src, p, y), (size_t)src->row_bytes[p]);
}

static inline void tf_free(TestFrame *t)
{
    for (int p = 0; p < 3; p++)
        free(t->mem[p]);
    memset(t, 0, sizeof(*t));
}

/* Largest byte difference over the pixels of all planes. */
static inline int tf_max_diff(const TestFrame *a, const TestFrame *b)
{
    int m = 0;

    for (int p = 0; p < a->n_planes; p++)
        for (int y = 0; y < a->rows[p]; y++)
            for (int x = 0; x < a->row_bytes[p]; x++) {
                int d = abs(tf_row(a, p, y)[x] - tf_row(b, p, y)[x]);
                m = d > m ? d : m;
            }
    return m;
}

/* PSNR in dB over the pixels of all planes (99 for identical). */
static inline double tf_psnr(const TestFrame *a, const TestFrame *b)
{
    double se = 0, n = 0;

    for (int p = 0; p < a->n_planes; p++)
        for (int y = 0; y < a->rows[p]; y++)
            for (int x = 0; x < a->row_bytes[p]; x++) {
                double d = tf_row(a, p, y)[x] - tf_row(b, p, y)[x];
                se += d * d;
                n++;
            }
    return se == 0 ? 99.0 : 10.0 * log10(255.0 * 255.0 / (se / n));
}

/* 1 when every padding byte still holds 0xA5. */
static inline int tf_padding_intact(const TestFrame *t, int pad)
{
    for (int p = 0; p < t->n_planes; p++)
        for (int y = 0; y < t->rows[p]; y++)
            for (int x = 0; x < pad; x++)
                if (tf_row(t, p, y)[t->row_bytes[p] + x] != 0xA5)
                    return 0;
    return 1;
}

#endif
