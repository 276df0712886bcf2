/*
 * Writes small style.bin models in memory (docs/style-bin.md), so that the
 * tests can run any op alone, or any shape, through the real loader and
 * engine. Header-only; for tests.
 */
#ifndef NST_TEST_MODEL_BUILDER_H
#define NST_TEST_MODEL_BUILDER_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nst.h"

#define MB_MAX_TENSORS 64
#define MB_MAX_LAYERS  64
#define MB_NONE        0xFFFFFFFFu

typedef struct MbLayer {
    uint32_t op, flags;
    int32_t in0, in1;
    uint32_t t0, t1;
    uint32_t in_ch, out_ch, kernel, stride, padding;
    float f[4];
} MbLayer;

typedef struct MbTensor {
    char name[40];
    uint32_t ndim, shape[4];
    float *data;
    size_t n;
} MbTensor;

typedef struct ModelBuilder {
    MbTensor t[MB_MAX_TENSORS];
    int n_t;
    MbLayer l[MB_MAX_LAYERS];
    int n_l;
    unsigned seed;
} ModelBuilder;

static inline float mb_rand(ModelBuilder *b, float lo, float hi)
{
    b->seed = b->seed * 1103515245u + 12345u;
    return lo + (hi - lo) * (float)((b->seed >> 8) & 0xffffff) / 16777216.0f;
}

/* A tensor of random values in lo..hi; returns its index. */
static inline uint32_t mb_tensor(ModelBuilder *b, const char *name, float lo, float hi,
                          uint32_t ndim, uint32_t d0, uint32_t d1, uint32_t d2, uint32_t d3)
{
    MbTensor *t = &b->t[b->n_t];
    uint32_t dims[4] = { d0, d1, d2, d3 };

    memset(t, 0, sizeof(*t));
    snprintf(t->name, sizeof(t->name), "%s", name);
    t->ndim = ndim;
    t->n = 1;
    for (uint32_t i = 0; i < 4; i++) {
        t->shape[i] = i < ndim ? dims[i] : 1;
        t->n *= t->shape[i];
    }
    t->data = malloc(t->n * sizeof(float));
    for (size_t i = 0; i < t->n; i++)
        t->data[i] = mb_rand(b, lo, hi);
    return (uint32_t)b->n_t++;
}

/* Layers return their index, to be used as a later layer's input. */
static inline int mb_layer(ModelBuilder *b, MbLayer l)
{
    b->l[b->n_l] = l;
    return b->n_l++;
}

static inline int mb_conv(ModelBuilder *b, int in, int cin, int cout, int k, int stride,
                   int padding, int bias)
{
    char name[40];
    float s = 1.0f / (float)(k * k * cin);
    uint32_t w, bt = MB_NONE;

    snprintf(name, sizeof(name), "l%d.weight", b->n_l);
    w = mb_tensor(b, name, -2 * s, 2 * s + 0.5f * s, 4, (uint32_t)k, (uint32_t)k,
                  (uint32_t)cin, (uint32_t)cout);
    if (bias) {
        snprintf(name, sizeof(name), "l%d.bias", b->n_l);
        bt = mb_tensor(b, name, -0.5f, 0.5f, 1, (uint32_t)cout, 0, 0, 0);
    }
    return mb_layer(b, (MbLayer){ .op = 1, .in0 = in, .in1 = -1, .t0 = w, .t1 = bt,
                                  .in_ch = (uint32_t)cin, .out_ch = (uint32_t)cout,
                                  .kernel = (uint32_t)k, .stride = (uint32_t)stride,
                                  .padding = (uint32_t)padding });
}

static inline int mb_conv_transpose(ModelBuilder *b, int in, int cin, int cout, int k, int stride)
{
    char name[40];
    float s = 1.0f / (float)(k * k * cin);
    uint32_t w;

    snprintf(name, sizeof(name), "l%d.weight", b->n_l);
    w = mb_tensor(b, name, -2 * s, 2.5f * s, 4, (uint32_t)k, (uint32_t)k,
                  (uint32_t)cout, (uint32_t)cin);
    return mb_layer(b, (MbLayer){ .op = 2, .in0 = in, .in1 = -1, .t0 = w, .t1 = MB_NONE,
                                  .in_ch = (uint32_t)cin, .out_ch = (uint32_t)cout,
                                  .kernel = (uint32_t)k, .stride = (uint32_t)stride });
}

static inline int mb_norm(ModelBuilder *b, int in, int c, float eps)
{
    char name[40];
    uint32_t sc, sh;

    snprintf(name, sizeof(name), "l%d.scale", b->n_l);
    sc = mb_tensor(b, name, 0.5f, 1.5f, 1, (uint32_t)c, 0, 0, 0);
    snprintf(name, sizeof(name), "l%d.shift", b->n_l);
    sh = mb_tensor(b, name, -0.5f, 0.5f, 1, (uint32_t)c, 0, 0, 0);
    return mb_layer(b, (MbLayer){ .op = 4, .in0 = in, .in1 = -1, .t0 = sc, .t1 = sh,
                                  .in_ch = (uint32_t)c, .out_ch = (uint32_t)c,
                                  .f = { eps } });
}

static inline int mb_simple(ModelBuilder *b, uint32_t op, int in0, int in1, int c, int stride)
{
    return mb_layer(b, (MbLayer){ .op = op, .in0 = in0, .in1 = in1, .t0 = MB_NONE,
                                  .t1 = MB_NONE, .in_ch = (uint32_t)c,
                                  .out_ch = (uint32_t)c, .stride = (uint32_t)stride });
}

/* The output op: tanh or not, then * mul + add, clamped to lo..hi. */
static inline int mb_output(ModelBuilder *b, int in, int use_tanh, float mul, float add,
                     float lo, float hi)
{
    return mb_layer(b, (MbLayer){ .op = 7, .flags = (uint32_t)use_tanh, .in0 = in,
                                  .in1 = -1, .t0 = MB_NONE, .t1 = MB_NONE, .in_ch = 3,
                                  .out_ch = 3, .f = { mul, add, lo, hi } });
}

static inline void mb_put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static inline void mb_put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static inline void mb_putf(uint8_t *p, float f)
{
    uint32_t v;
    memcpy(&v, &f, 4);
    mb_put32(p, v);
}

/* Serialises the model; the caller frees *out. Frees the tensors' data. */
static inline size_t mb_finish(ModelBuilder *b, uint8_t **out)
{
    static const char *meta[][2] = {
        { "name", "test" }, { "source", "tests/model_builder.h" }, { "license", "MIT" },
    };
    size_t meta_size = 0, off, data_off, data_size = 0, size;
    uint8_t *p;

    for (int i = 0; i < 3; i++)
        meta_size += 8 + strlen(meta[i][0]) + strlen(meta[i][1]);
    for (int i = 0; i < b->n_t; i++)
        data_size += (b->t[i].n * 4 + 63) & ~(size_t)63;
    data_off = (96 + meta_size + 80 * (size_t)b->n_t + 64 * (size_t)b->n_l + 63) & ~(size_t)63;
    size = data_off + data_size;
    p = calloc(1, size);
    memcpy(p, "NSTSTYLE", 8);
    mb_put32(p + 8, 1);
    mb_put32(p + 12, 96);
    mb_put32(p + 16, 3);
    mb_put32(p + 20, (uint32_t)b->n_t);
    mb_put32(p + 24, (uint32_t)b->n_l);
    mb_put32(p + 28, 64);
    mb_put64(p + 32, 96);
    mb_put64(p + 40, 96 + meta_size);
    mb_put64(p + 48, 96 + meta_size + 80 * (size_t)b->n_t);
    mb_put64(p + 56, data_off);
    mb_put64(p + 64, data_size);
    mb_put32(p + 72, 0);
    mb_putf(p + 76, 0.0f);
    mb_putf(p + 80, 255.0f);
    off = 96;
    for (int i = 0; i < 3; i++) {
        size_t kl = strlen(meta[i][0]), vl = strlen(meta[i][1]);
        mb_put32(p + off, (uint32_t)kl);
        memcpy(p + off + 4, meta[i][0], kl);
        mb_put32(p + off + 4 + kl, (uint32_t)vl);
        memcpy(p + off + 8 + kl, meta[i][1], vl);
        off += 8 + kl + vl;
    }
    size_t toff = 0;
    for (int i = 0; i < b->n_t; i++, off += 80) {
        MbTensor *t = &b->t[i];
        memcpy(p + off, t->name, strlen(t->name));
        mb_put32(p + off + 40, 0);
        mb_put32(p + off + 44, t->ndim);
        for (int d = 0; d < 4; d++)
            mb_put32(p + off + 48 + 4 * d, t->shape[d]);
        mb_put64(p + off + 64, toff);
        mb_put64(p + off + 72, t->n * 4);
        for (size_t k = 0; k < t->n; k++)
            mb_putf(p + data_off + toff + 4 * k, t->data[k]);
        toff += (t->n * 4 + 63) & ~(size_t)63;
        free(t->data);
        t->data = NULL;
    }
    for (int i = 0; i < b->n_l; i++, off += 64) {
        MbLayer *l = &b->l[i];
        mb_put32(p + off, l->op);
        mb_put32(p + off + 4, l->flags);
        mb_put32(p + off + 8, (uint32_t)l->in0);
        mb_put32(p + off + 12, (uint32_t)l->in1);
        mb_put32(p + off + 16, l->t0);
        mb_put32(p + off + 20, l->t1);
        mb_put32(p + off + 24, l->in_ch);
        mb_put32(p + off + 28, l->out_ch);
        mb_put32(p + off + 32, l->kernel);
        mb_put32(p + off + 36, l->stride);
        mb_put32(p + off + 40, l->padding);
        for (int k = 0; k < 4; k++)
            mb_putf(p + off + 48 + 4 * k, l->f[k]);
    }
    *out = p;
    return size;
}

/* A small network that grows odd sizes (stride 2 down, transposed up) and
 * ends in the ml5 output transform, loaded through the real loader: enough
 * to exercise the frame path, crop and tanh in a few milliseconds. */
/* Finishes b and loads what it built; NULL, with a note, if rejected. */
static inline NstModel *mb_load(ModelBuilder *b)
{
    uint8_t *bytes;
    size_t size = mb_finish(b, &bytes);
    NstModel *m = NULL;
    char err[256];

    if (nst_model_load_memory(bytes, size, &m, err, sizeof(err)) < 0)
        printf("# model rejected: %s\n", err);
    free(bytes);
    return m;
}

/* A stride-2 conv (with an instance norm and its ReLU when norm is set)
 * and a transposed conv back, tanh output. */
static inline NstModel *mb_small_model_norm(unsigned seed, int norm)
{
    ModelBuilder b = { .seed = seed };
    int c = mb_conv(&b, -1, 3, 8, 3, 2, 0, 1);

    if (norm)
        c = mb_simple(&b, 5, mb_norm(&b, c, 8, 1e-5f), -1, 8, 0);
    mb_output(&b, mb_conv_transpose(&b, c, 8, 3, 3, 2), 1, 150.0f, 127.5f, 0.0f, 255.0f);
    return mb_load(&b);
}

static inline NstModel *mb_small_model(unsigned seed)
{
    return mb_small_model_norm(seed, 0);
}

/* mb_small_model and an engine on it; 0 when both are there, else a failed
 * check has said why and nothing is left allocated. */
static inline int mb_small_engine(unsigned seed, NstModel **m, NstEngine **e)
{
    int ret;

    *e = NULL;
    *m = mb_small_model(seed);
    if (!*m) {
        printf("not ok - small model loads: rejected\n");
        return -1;
    }
    if ((ret = nst_engine_create(*m, NULL, e)) < 0) {
        printf("not ok - engine: %s\n", nst_strerror(ret));
        nst_model_free(m);
        return -1;
    }
    return 0;
}

#endif
