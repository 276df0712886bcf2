/*
 * The in-memory form of a validated style.bin (docs/style-bin.md).
 * Internal to libnst: the parser fills it, the reference and the Vulkan
 * network read it.
 */
#ifndef NST_MODEL_H
#define NST_MODEL_H

#include <stdint.h>

#include "nst.h"

#define NST_FORMAT_VERSION 1
#define NST_HEADER_SIZE    96
#define NST_TENSOR_RECORD  80
#define NST_LAYER_RECORD   64
#define NST_TENSOR_NONE    0xFFFFFFFFu

/* The most a style.bin of size bytes makes nst_model_load_memory allocate,
 * all allocations of one load added up (freed or not): the tables it copies
 * take at most 2.4 times their bytes (NstLayer and a LayerRecord per 64-byte
 * layer record), the weights twice theirs (float16 widened to float32), the
 * metadata its bytes and a little. nst_model_load_file adds the file's bytes
 * once more for the read buffer, and 64 KiB (tests/test_model.c and
 * tests/fuzz/fuzz_model.c hold the reader to this). */
#define NST_MODEL_ALLOC_LIMIT(size) (4 * (uint64_t)(size) + 16384)

typedef enum NstOp {
    NST_OP_CONV           = 1,
    NST_OP_CONV_TRANSPOSE = 2,
    NST_OP_UPSAMPLE       = 3,
    NST_OP_INSTANCE_NORM  = 4,
    NST_OP_RELU           = 5,
    NST_OP_ADD            = 6,
    NST_OP_OUTPUT         = 7,
} NstOp;

typedef enum NstPadding {
    NST_PAD_SAME      = 0, /* TensorFlow SAME, zero fill */
    NST_PAD_SYMMETRIC = 1, /* kernel/2 each side, zero fill */
    NST_PAD_REFLECT   = 2, /* kernel/2 each side, mirrored */
} NstPadding;

typedef struct NstLayer {
    NstOp op;
    int input[2];        /* producer layer index, -1 = network input */
    int in_ch, out_ch;
    int kernel, stride;  /* stride is the factor for upsample */
    NstPadding padding;
    /* Weights in float32, pointing into NstModel.weights:
     * conv:           weight [k][k][in_ch][out_ch], bias [out_ch] or NULL
     * conv_transpose: weight [k][k][out_ch][in_ch], bias [out_ch] or NULL
     * instance_norm:  scale [ch], shift [ch] */
    const float *weight, *bias;
    const float *scale, *shift;
    float eps;
    /* output: pixel = clamp(act(x) * out_mul + out_add, out_min, out_max) */
    int out_tanh;
    float out_mul, out_add, out_min, out_max;
} NstLayer;

typedef struct NstMeta {
    char *key, *value;
} NstMeta;

struct NstModel {
    int input_bgr;            /* 1: the network takes BGR */
    float input_min, input_max;
    int n_meta;
    NstMeta *meta;
    int n_layers;
    NstLayer *layers;         /* layers[n_layers - 1].op == NST_OP_OUTPUT */
    float *weights;           /* one block for every tensor, as float32 */
    size_t n_weights;
};

#endif /* NST_MODEL_H */
