/*
 * The style.bin reader: the five converted ml5 models load with the layers,
 * channels, metadata and weights the converter means, and every kind of
 * broken file (built here in memory from the udnie bytes, or by hand) is
 * refused with the right code and a message naming the field.
 *
 * Environment: NST_BUILD (build), NST_SHARED (../shared).
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "fuzz/fuzz_alloc.h"
#include "model/model.h"

#define HEADER_SIZE 96
#define TREC        80  /* tensor record */
#define LREC        64  /* layer record */
#define NONE        0xFFFFFFFFu

static const char *const styles[] = {
    "udnie", "wave", "la_muse", "rain_princess", "scream",
};

static const char *env_or(const char *name, const char *fallback)
{
    const char *v = getenv(name);

    return v && *v ? v : fallback;
}

/* ---- bytes ----------------------------------------------------------------- */

typedef struct Blob {
    uint8_t *data;
    size_t size;
} Blob;

static uint32_t get_u32(const uint8_t *b, size_t off)
{
    return (uint32_t)b[off] | (uint32_t)b[off + 1] << 8 |
           (uint32_t)b[off + 2] << 16 | (uint32_t)b[off + 3] << 24;
}

static uint64_t get_u64(const uint8_t *b, size_t off)
{
    return get_u32(b, off) | (uint64_t)get_u32(b, off + 4) << 32;
}

static void put_u32(uint8_t *b, size_t off, uint32_t v)
{
    int i;

    for (i = 0; i < 4; i++)
        b[off + i] = (uint8_t)(v >> 8 * i);
}

static void put_u64(uint8_t *b, size_t off, uint64_t v)
{
    put_u32(b, off, (uint32_t)v);
    put_u32(b, off + 4, (uint32_t)(v >> 32));
}

static void put_f32(uint8_t *b, size_t off, float f)
{
    uint32_t u;

    memcpy(&u, &f, 4);
    put_u32(b, off, u);
}

static int read_file(const char *path, Blob *b)
{
    FILE *f = fopen(path, "rb");
    long n;

    memset(b, 0, sizeof(*b));
    if (!f)
        return -1;
    if (fseek(f, 0, SEEK_END) || (n = ftell(f)) <= 0 || fseek(f, 0, SEEK_SET) ||
        !(b->data = malloc(n)) || fread(b->data, 1, n, f) != (size_t)n) {
        free(b->data);
        b->data = NULL;
        fclose(f);
        return -1;
    }
    b->size = (size_t)n;
    fclose(f);
    return 0;
}

static Blob blob_copy(const Blob *src)
{
    Blob b = { malloc(src->size ? src->size : 1), src->size };

    if (!b.data) {
        fprintf(stderr, "out of memory\n");
        exit(2);
    }
    memcpy(b.data, src->data, src->size);
    return b;
}

/* Where the sections of a (good) file are. */
typedef struct Layout {
    size_t meta, tensors, layers, data, data_size;
    uint32_t n_meta, n_tensors, n_layers;
    size_t tables_end;   /* end of the last table, before the data */
} Layout;

static Layout layout_of(const Blob *b)
{
    Layout l;

    l.n_meta = get_u32(b->data, 16);
    l.n_tensors = get_u32(b->data, 20);
    l.n_layers = get_u32(b->data, 24);
    l.meta = get_u64(b->data, 32);
    l.tensors = get_u64(b->data, 40);
    l.layers = get_u64(b->data, 48);
    l.data = get_u64(b->data, 56);
    l.data_size = get_u64(b->data, 64);
    l.tables_end = l.layers + (size_t)l.n_layers * LREC;
    return l;
}

static size_t tensor_at(const Layout *l, int i) { return l->tensors + (size_t)i * TREC; }
static size_t layer_at(const Layout *l, int i)  { return l->layers + (size_t)i * LREC; }

/* Loads from an exactly sized copy, so that ASan sees any over-read. */
static int load_exact(const uint8_t *data, size_t size, NstModel **m,
                      char *err, size_t err_size)
{
    uint8_t *copy = malloc(size ? size : 1);
    int ret;

    if (!copy) {
        fprintf(stderr, "out of memory\n");
        exit(2);
    }
    memcpy(copy, data, size);
    ret = nst_model_load_memory(size ? copy : NULL, size, m, err, err_size);
    free(copy);
    return ret;
}

/* Loading must fail with code and a message containing expect. */
static void expect_failure(const char *name, const Blob *b, int code,
                           const char *expect)
{
    NstModel *m = (NstModel *)&m; /* must come back NULL */
    char err[512] = "";
    int ret = load_exact(b->data, b->size, &m, err, sizeof(err));

    check(ret == code && m == NULL && strstr(err, expect), name,
          "code %d (want %d), model %p, message \"%s\" (want \"%s\")",
          ret, code, (void *)m, err, expect);
    nst_model_free(&m);
}

/* ---- the five converted models --------------------------------------------- */

typedef struct ExpectedLayer {
    NstOp op;
    int in0, in1, in_ch, out_ch, kernel, stride;
} ExpectedLayer;

/* The layer list tools/nst-convert writes for the ml5 network. */
static int ml5_layers(ExpectedLayer *e)
{
    static const ExpectedLayer head[] = {
        { NST_OP_CONV,          -1, -1,   3,  32, 9, 1 }, /* 0 */
        { NST_OP_INSTANCE_NORM,  0, -1,  32,  32, 0, 0 },
        { NST_OP_RELU,           1, -1,  32,  32, 0, 0 },
        { NST_OP_CONV,           2, -1,  32,  64, 3, 2 }, /* 3 */
        { NST_OP_INSTANCE_NORM,  3, -1,  64,  64, 0, 0 },
        { NST_OP_RELU,           4, -1,  64,  64, 0, 0 },
        { NST_OP_CONV,           5, -1,  64, 128, 3, 2 }, /* 6 */
        { NST_OP_INSTANCE_NORM,  6, -1, 128, 128, 0, 0 },
        { NST_OP_RELU,           7, -1, 128, 128, 0, 0 },
    };
    static const ExpectedLayer tail[] = {
        { NST_OP_CONV_TRANSPOSE, 38, -1, 128, 64, 3, 2 }, /* 39 */
        { NST_OP_INSTANCE_NORM,  39, -1,  64, 64, 0, 0 },
        { NST_OP_RELU,           40, -1,  64, 64, 0, 0 },
        { NST_OP_CONV_TRANSPOSE, 41, -1,  64, 32, 3, 2 }, /* 42 */
        { NST_OP_INSTANCE_NORM,  42, -1,  32, 32, 0, 0 },
        { NST_OP_RELU,           43, -1,  32, 32, 0, 0 },
        { NST_OP_CONV,           44, -1,  32,  3, 9, 1 }, /* 45 */
        { NST_OP_INSTANCE_NORM,  45, -1,   3,  3, 0, 0 },
        { NST_OP_OUTPUT,         46, -1,   3,  3, 0, 0 }, /* 47 */
    };
    int n = 0, b;
    size_t i;

    for (i = 0; i < sizeof(head) / sizeof(head[0]); i++)
        e[n++] = head[i];
    /* 5 residual blocks: conv, IN, relu, conv, IN, add(that, block input) */
    for (b = 0; b < 5; b++) {
        int s = 9 + 6 * b, x = s - 1;
        ExpectedLayer block[6] = {
            { NST_OP_CONV,          x,     -1, 128, 128, 3, 1 },
            { NST_OP_INSTANCE_NORM, s,     -1, 128, 128, 0, 0 },
            { NST_OP_RELU,          s + 1, -1, 128, 128, 0, 0 },
            { NST_OP_CONV,          s + 2, -1, 128, 128, 3, 1 },
            { NST_OP_INSTANCE_NORM, s + 3, -1, 128, 128, 0, 0 },
            { NST_OP_ADD,           s + 4,  x, 128, 128, 0, 0 },
        };
        memcpy(e + n, block, sizeof(block));
        n += 6;
    }
    for (i = 0; i < sizeof(tail) / sizeof(tail[0]); i++)
        e[n++] = tail[i];
    return n;
}

static int layer_matches(const NstLayer *l, const ExpectedLayer *e)
{
    int conv = e->op == NST_OP_CONV || e->op == NST_OP_CONV_TRANSPOSE;

    if (l->op != e->op || l->input[0] != e->in0 || l->input[1] != e->in1 ||
        l->in_ch != e->in_ch || l->out_ch != e->out_ch)
        return 0;
    if (conv)
        return l->kernel == e->kernel && l->stride == e->stride &&
               l->padding == NST_PAD_SAME && l->weight && !l->bias;
    if (e->op == NST_OP_INSTANCE_NORM)
        return l->scale && l->shift && l->eps == 1e-3f;
    if (e->op == NST_OP_OUTPUT)
        return l->out_tanh && l->out_mul == 150.0f && l->out_add == 127.5f &&
               l->out_min == 0.0f && l->out_max == 255.0f;
    return 1;
}

static int weights_inside(const NstModel *m, const float *p, size_t n)
{
    return !p || (p >= m->weights && p + n <= m->weights + m->n_weights);
}

static void check_graph(const char *style, const NstModel *m)
{
    ExpectedLayer e[64];
    int n = ml5_layers(e), i, bad = -1;
    size_t expected_weights = 0;
    char name[128];

    snprintf(name, sizeof(name), "%s: %d layers", style, n);
    if (!check(m->n_layers == n, name, "has %d", m->n_layers))
        return;
    for (i = 0; i < n && bad < 0; i++) {
        const NstLayer *l = &m->layers[i];
        size_t k2 = (size_t)l->kernel * l->kernel;

        if (!layer_matches(l, &e[i]))
            bad = i;
        if (l->op == NST_OP_CONV || l->op == NST_OP_CONV_TRANSPOSE) {
            expected_weights += k2 * l->in_ch * l->out_ch;
            if (!weights_inside(m, l->weight, k2 * l->in_ch * l->out_ch))
                bad = i;
        } else if (l->op == NST_OP_INSTANCE_NORM) {
            expected_weights += 2 * (size_t)l->in_ch;
            if (!weights_inside(m, l->scale, l->in_ch) ||
                !weights_inside(m, l->shift, l->in_ch))
                bad = i;
        }
    }
    snprintf(name, sizeof(name), "%s: ops, inputs, channels, kernels", style);
    check(bad < 0, name, "layer %d: op %d inputs %d,%d channels %d->%d "
          "kernel %d stride %d", bad, bad < 0 ? 0 : m->layers[bad].op,
          bad < 0 ? 0 : m->layers[bad].input[0],
          bad < 0 ? 0 : m->layers[bad].input[1],
          bad < 0 ? 0 : m->layers[bad].in_ch,
          bad < 0 ? 0 : m->layers[bad].out_ch,
          bad < 0 ? 0 : m->layers[bad].kernel,
          bad < 0 ? 0 : m->layers[bad].stride);
    snprintf(name, sizeof(name), "%s: %zu weights, all used", style,
             expected_weights);
    check(m->n_weights == expected_weights, name, "n_weights %zu",
          m->n_weights);
    snprintf(name, sizeof(name), "%s: input RGB 0..255", style);
    check(!m->input_bgr && m->input_min == 0.0f && m->input_max == 255.0f,
          name, "bgr %d, range %g..%g", m->input_bgr, m->input_min,
          m->input_max);
}

static void check_metadata(const char *style, const NstModel *m)
{
    const char *name = nst_model_meta(m, "name");
    const char *source = nst_model_meta(m, "source");
    const char *license = nst_model_meta(m, "license");
    const char *converter = nst_model_meta(m, "converter");
    char test[128];

    snprintf(test, sizeof(test), "%s: metadata", style);
    check(name && !strcmp(name, style) && source && strstr(source, style) &&
          strstr(source, "ml5") && license && !strcmp(license, "MIT") &&
          converter && !strncmp(converter, "nst-convert ", 12) &&
          !nst_model_meta(m, "no-such-key") && !nst_model_meta(m, ""),
          test, "name '%s' source '%s' license '%s' converter '%s'",
          name ? name : "(null)", source ? source : "(null)",
          license ? license : "(null)", converter ? converter : "(null)");
}

/* The converter's variable mapping, checked against the checkpoint files:
 * instance norm ids k+1, k+2 are shift, scale. */
static void check_variables(const char *style, const NstModel *m)
{
    static const struct { int layer; int field; int var; } map[] = {
        { 0, 0, 0 },  { 1, 1, 2 },  { 1, 2, 1 },   /* conv1, in1 scale, shift */
        { 6, 0, 6 },  { 9, 0, 9 },  { 10, 1, 11 }, /* conv3, res1 */
        { 36, 0, 36 },                                /* res5.conv2 */
        { 39, 0, 39 }, { 40, 1, 41 }, { 40, 2, 40 }, /* deconv1, in4 */
        { 45, 0, 45 }, { 46, 1, 47 }, { 46, 2, 46 }, /* conv4, in6 */
    };
    const char *shared = env_or("NST_SHARED", "../shared");
    char path[1024], name[128];
    size_t i, bad = SIZE_MAX;
    const char *why = "";

    for (i = 0; i < sizeof(map) / sizeof(map[0]) && bad == SIZE_MAX; i++) {
        const NstLayer *l = &m->layers[map[i].layer];
        const float *w = map[i].field == 0 ? l->weight :
                         map[i].field == 1 ? l->scale : l->shift;
        size_t n = map[i].field ? (size_t)l->in_ch :
                   (size_t)l->kernel * l->kernel * l->in_ch * l->out_ch;
        Blob var;

        if (map[i].var)
            snprintf(path, sizeof(path), "%s/models/ml5/%s/Variable_%d",
                     shared, style, map[i].var);
        else
            snprintf(path, sizeof(path), "%s/models/ml5/%s/Variable", shared,
                     style);
        if (read_file(path, &var) < 0) {
            printf("# skip %s: variables (cannot read %s)\n", style, path);
            return;
        }
        if (var.size != n * 4)
            bad = i, why = "size";
        else if (memcmp(var.data, w, var.size))
            bad = i, why = "values";
        free(var.data);
    }
    snprintf(name, sizeof(name), "%s: weights equal the checkpoint's "
             "variables (IN shift = k+1, scale = k+2)", style);
    check(bad == SIZE_MAX, name, "layer %d field %d vs variable %d: %s differ",
          bad == SIZE_MAX ? 0 : map[bad].layer,
          bad == SIZE_MAX ? 0 : map[bad].field,
          bad == SIZE_MAX ? 0 : map[bad].var, why);
}

static void test_converted_models(void)
{
    const char *build = env_or("NST_BUILD", "build");
    size_t s;

    for (s = 0; s < sizeof(styles) / sizeof(styles[0]); s++) {
        char path[1024], err[512] = "", name[128];
        NstModel *m = NULL;
        int ret;

        snprintf(path, sizeof(path), "%s/models/%s.bin", build, styles[s]);
        snprintf(name, sizeof(name), "%s: loads", styles[s]);
        ret = nst_model_load_file(path, &m, err, sizeof(err));
        if (!check(ret == NST_OK && m, name, "%s (run make models)", err))
            continue;
        check_graph(styles[s], m);
        check_metadata(styles[s], m);
        check_variables(styles[s], m);
        nst_model_free(&m);
        snprintf(name, sizeof(name), "%s: nst_model_free clears the pointer",
                 styles[s]);
        check(m == NULL, name, "not NULL");
    }
}

/* ---- broken variants of udnie ------------------------------------------------ */

enum { HDR, TENSOR, LAYER };

/* One field of the header, a tensor record or a layer record set to a
 * value. Tensor and layer numbers refer to the converter's layout: tensor
 * 0 conv1.weight, 1 in1.scale, 3 conv2.weight; layer 1 in1, 2 relu, 3 conv2,
 * 14 the first add, 47 output. */
typedef struct FieldPatch {
    const char *name;
    int table, index, offset;
    char type;       /* 'u' u32, 'q' u64, 'f' f32 */
    uint64_t u;
    float f;
    int code;
    const char *expect;
} FieldPatch;

#define FMT NST_ERR_FORMAT
static const FieldPatch field_patches[] = {
    { "wrong-version",       HDR, 0,  8, 'u', 7, 0, NST_ERR_UNSUPPORTED,
      "unsupported style.bin version 7 (this build reads version 1)" },
    { "version 0",           HDR, 0,  8, 'u', 0, 0, FMT, "version 0" },
    { "header_size",         HDR, 0, 12, 'u', 128, 0, FMT, "header_size is 128" },
    { "n_meta 65",           HDR, 0, 16, 'u', 65, 0, FMT, "n_meta is 65" },
    { "n_tensors 0",         HDR, 0, 20, 'u', 0, 0, FMT, "n_tensors is 0" },
    { "n_tensors 5000",      HDR, 0, 20, 'u', 5000, 0, FMT, "n_tensors is 5000" },
    { "n_layers 1",          HDR, 0, 24, 'u', 1, 0, FMT, "n_layers is 1" },
    { "n_layers 2^32-1",     HDR, 0, 24, 'u', 0xFFFFFFFF, 0, FMT, "n_layers is 4294967295" },
    { "alignment 48",        HDR, 0, 28, 'u', 48, 0, FMT, "alignment 48 is not a power of two" },
    { "alignment 8",         HDR, 0, 28, 'u', 8, 0, FMT, "alignment is 8" },
    { "alignment 128",       HDR, 0, 28, 'u', 128, 0, FMT, "not a multiple of the alignment 128" },
    { "meta_offset in header", HDR, 0, 32, 'q', 10, 0, FMT, "metadata offset 10" },
    { "meta_offset past end", HDR, 0, 32, 'q', UINT64_MAX, 0, FMT, "metadata section" },
    { "tensor table overlaps layers", HDR, 0, 40, 'q', 4224 - 80, 0, FMT,
      "tensor table [4144, 7984) and layer table [4224, 7296) overlap" },
    { "tensor table overlaps metadata", HDR, 0, 40, 'q', 104, 0, FMT,
      "metadata [96, 372) and tensor table [104, 3944) overlap" },
    { "layer_offset past end", HDR, 0, 48, 'q', 1ull << 40, 0, FMT, "layer table section" },
    { "data_size past end",  HDR, 0, 64, 'q', 1ull << 62, 0, FMT, "data section" },
    { "data_size 2^64-1",    HDR, 0, 64, 'q', UINT64_MAX, 0, FMT, "data section" },
    { "input_order 2",       HDR, 0, 72, 'u', 2, 0, FMT, "input_order is 2" },
    { "input range empty",   HDR, 0, 80, 'f', 0, 0.0f, FMT, "input range 0..0" },
    { "input range NaN",     HDR, 0, 76, 'f', 0, NAN, FMT, "input range" },
    { "reserved header byte", HDR, 0, 92, 'u', 1, 0, FMT, "reserved byte 92" },
    { "dtype 2",             TENSOR, 3, 40, 'u', 2, 0, FMT, "tensor 3 ('conv2.weight'): dtype is 2" },
    { "ndim 0",              TENSOR, 3, 44, 'u', 0, 0, FMT, "ndim is 0" },
    { "ndim 5",              TENSOR, 3, 44, 'u', 5, 0, FMT, "ndim is 5" },
    { "shape 0",             TENSOR, 3, 48, 'u', 0, 0, FMT, "shape[0] is 0" },
    { "shape 65537",         TENSOR, 3, 48, 'u', 65537, 0, FMT, "shape[0] is 65537" },
    { "shape past ndim",     TENSOR, 1, 52, 'u', 2, 0, FMT, "tensor 1 ('in1.scale'): shape[1] is 2, must be 1" },
    { "nbytes off by 4",     TENSOR, 3, 72, 'q', 73728 + 4, 0, FMT, "nbytes is 73732, shape [3,3,32,64] of float32 needs 73728" },
    { "float16 size mismatch", TENSOR, 3, 40, 'u', 1, 0, FMT, "float16 needs 36864" },
    { "offset misaligned",   TENSOR, 3, 64, 'q', 31360 + 4, 0, FMT, "offset 31364 is not a multiple of the alignment 64" },
    { "bad-offset",          TENSOR, 3, 64, 'q', 6710656, 0, FMT, "tensor 3 ('conv2.weight'): offset 6710656 + nbytes 73728 runs past the end" },
    { "offset 2^64-64",      TENSOR, 3, 64, 'q', UINT64_MAX - 63, 0, FMT, "runs past the end of the data section" },
    { "tensors overlap",     TENSOR, 2, 64, 'q', 31104, 0, FMT, "overlap" },
    { "bad-op",              LAYER, 2, 0, 'u', 99, 0, FMT, "layer 2: op is 99" },
    { "op 0",                LAYER, 2, 0, 'u', 0, 0, FMT, "layer 2: op is 0" },
    { "bad-layer-input",     LAYER, 3, 8, 'u', 5, 0, FMT, "layer 3 (conv): input0 is 5" },
    { "input0 self",         LAYER, 3, 8, 'u', 3, 0, FMT, "input0 is 3" },
    { "input0 -2",           LAYER, 3, 8, 'u', (uint32_t)-2, 0, FMT, "input0 is -2" },
    { "input1 on conv",      LAYER, 3, 12, 'u', 0, 0, FMT, "layer 3 (conv): input1 is 0, must be -1" },
    { "input1 forward",      LAYER, 14, 12, 'u', 20, 0, FMT, "layer 14 (add): input1 is 20" },
    { "add channels",        LAYER, 14, 12, 'u', 3, 0, FMT, "layer 14 (add): in_channels is 128, but input1 (layer 3) has 64 channels" },
    { "tensor0 out of range", LAYER, 3, 16, 'u', 4000, 0, FMT, "tensor0 (weight) is 4000" },
    { "weight missing",      LAYER, 3, 16, 'u', NONE, 0, FMT, "tensor0 (weight) is none" },
    { "wrong weight",        LAYER, 3, 16, 'u', 0, 0, FMT, "layer 3 (conv): weight tensor 'conv1.weight' has shape [9,9,3,32], expected [3,3,32,64]" },
    { "bias of wrong shape", LAYER, 3, 20, 'u', 1, 0, FMT, "bias tensor 'in1.scale' has shape [32], expected [64]" },
    { "scale of wrong shape", LAYER, 4, 16, 'u', 1, 0, FMT, "layer 4 (instance_norm): scale tensor 'in1.scale' has shape [32], expected [64]" },
    { "shift missing",       LAYER, 4, 20, 'u', NONE, 0, FMT, "tensor1 (shift) is none" },
    { "tensor on relu",      LAYER, 2, 16, 'u', 0, 0, FMT, "layer 2 (relu): tensor0 is 0, must be 0xFFFFFFFF" },
    { "in_channels",         LAYER, 3, 24, 'u', 31, 0, FMT, "layer 3 (conv): in_channels is 31, but input0 (layer 2) has 32 channels" },
    { "out_channels 0",      LAYER, 3, 28, 'u', 0, 0, FMT, "out_channels is 0" },
    { "out_channels 2000",   LAYER, 3, 28, 'u', 2000, 0, FMT, "out_channels is 2000" },
    { "relu changes channels", LAYER, 2, 28, 'u', 16, 0, FMT, "layer 2 (relu): out_channels is 16, must equal in_channels 32" },
    { "even conv kernel",    LAYER, 3, 32, 'u', 4, 0, FMT, "layer 3 (conv): kernel is 4" },
    { "kernel 17",           LAYER, 39, 32, 'u', 17, 0, FMT, "layer 39 (conv_transpose): kernel is 17" },
    { "stride 5",            LAYER, 3, 36, 'u', 5, 0, FMT, "stride is 5" },
    { "stride 0",            LAYER, 3, 36, 'u', 0, 0, FMT, "stride is 0" },
    { "padding 3",           LAYER, 3, 40, 'u', 3, 0, FMT, "padding is 3" },
    { "transpose padding 1", LAYER, 39, 40, 'u', 1, 0, FMT, "layer 39 (conv_transpose): padding is 1" },
    { "kernel on relu",      LAYER, 2, 32, 'u', 3, 0, FMT, "layer 2 (relu): kernel is 3, must be 0" },
    { "flags on conv",       LAYER, 3, 4, 'u', 1, 0, FMT, "layer 3 (conv): flags is 0x1" },
    { "output flags",        LAYER, 47, 4, 'u', 3, 0, FMT, "layer 47 (output): flags is 0x3" },
    { "layer reserved",      LAYER, 3, 44, 'u', 9, 0, FMT, "reserved is 0x9" },
    { "eps 0",               LAYER, 1, 48, 'f', 0, 0.0f, FMT, "layer 1 (instance_norm): eps f[0] is 0" },
    { "eps negative",        LAYER, 1, 48, 'f', 0, -1e-3f, FMT, "eps f[0] is -0.001" },
    { "eps NaN",             LAYER, 1, 48, 'f', 0, NAN, FMT, "f[0] is nan" },
    { "unused float",        LAYER, 1, 52, 'f', 0, 1.0f, FMT, "layer 1 (instance_norm): f[1] is 1, must be 0" },
    { "clamp min >= max",    LAYER, 47, 56, 'f', 0, 300.0f, FMT, "clamp range f[2]..f[3] is 300..255" },
    { "output mul inf",      LAYER, 47, 48, 'f', 0, INFINITY, FMT, "layer 47 (output): f[0] is inf" },
    { "output in_channels",  LAYER, 47, 24, 'u', 4, 0, FMT, "layer 47 (output): in_channels is 4" },
    { "last layer not output", LAYER, 47, 0, 'u', 5, 0, FMT, "layer 47 (relu): the last layer must be the output op" },
    { "output before the end", LAYER, 2, 0, 'u', 7, 0, FMT, "layer 2 (output): only the last layer may be the output op" },
    { "unused layer",        LAYER, 3, 8, 'u', 1, 0, FMT, "layer 2 (relu): its output is not used by any later layer" },
};

static void apply_patch(Blob *b, const Layout *l, const FieldPatch *p)
{
    size_t off = p->table == HDR    ? 0 :
                 p->table == TENSOR ? tensor_at(l, p->index) :
                                      layer_at(l, p->index);

    off += p->offset;
    if (p->type == 'u')
        put_u32(b->data, off, (uint32_t)p->u);
    else if (p->type == 'q')
        put_u64(b->data, off, p->u);
    else
        put_f32(b->data, off, p->f);
}

static void test_field_patches(const Blob *good, const Layout *l)
{
    size_t i;

    for (i = 0; i < sizeof(field_patches) / sizeof(field_patches[0]); i++) {
        const FieldPatch *p = &field_patches[i];
        Blob b = blob_copy(good);
        char name[128];

        apply_patch(&b, l, p);
        snprintf(name, sizeof(name), "refuses %s", p->name);
        expect_failure(name, &b, p->code, p->expect);
        free(b.data);
    }
}

/* Rewrites the metadata section with the given key/value pairs (which
 * must fit before the tensor table). */
static void set_meta(Blob *b, const Layout *l, const char *const *kv, int n)
{
    size_t pos = l->meta;
    int i;

    memset(b->data + l->meta, 0, l->tensors - l->meta);
    for (i = 0; i < n; i++) {
        size_t k = strlen(kv[2 * i]), v = strlen(kv[2 * i + 1]);

        put_u32(b->data, pos, (uint32_t)k);
        memcpy(b->data + pos + 4, kv[2 * i], k);
        put_u32(b->data, pos + 4 + k, (uint32_t)v);
        memcpy(b->data + pos + 8 + k, kv[2 * i + 1], v);
        pos += 8 + k + v;
    }
    put_u32(b->data, 16, (uint32_t)n);
}

static void test_metadata_errors(const Blob *good, const Layout *l)
{
    static const char *const minimal[] = { "name", "x", "source", "", "license", "MIT" };
    static const char *const twice[] = { "name", "a", "source", "b", "license", "c", "name", "d" };
    static const char *const no_license[] = { "name", "a", "source", "b", "other", "c" };
    static const char *const bad_utf8[] = { "name", "a\xff", "source", "b", "license", "c" };
    static const char *const overlong[] = { "name", "\xc0\xaf", "source", "b", "license", "c" };
    static const char *const surrogate[] = { "name", "\xed\xa0\x80", "source", "b", "license", "c" };
    static const char *const utf8_ok[] = { "name", "Udnie \xc3\xa9\xe2\x82\xac\xf0\x9f\x8e\xa8", "source", "b", "license", "c" };
    NstModel *m = NULL;
    char err[512] = "";
    Blob b = blob_copy(good);
    int ret;

    set_meta(&b, l, minimal, 3);
    ret = load_exact(b.data, b.size, &m, err, sizeof(err));
    check(ret == NST_OK && m && !strcmp(nst_model_meta(m, "name"), "x") &&
          !strcmp(nst_model_meta(m, "source"), "") &&
          !nst_model_meta(m, "converter"),
          "loads with only the required metadata (empty value)", "%d %s", ret, err);
    nst_model_free(&m);
    set_meta(&b, l, utf8_ok, 3);
    ret = load_exact(b.data, b.size, &m, err, sizeof(err));
    check(ret == NST_OK && m && !strcmp(nst_model_meta(m, "name"), utf8_ok[1]),
          "loads multi-byte UTF-8 metadata", "%d %s", ret, err);
    nst_model_free(&m);

    set_meta(&b, l, twice, 4);
    expect_failure("refuses a duplicate metadata key", &b, FMT,
                   "metadata key 'name' appears twice (records 0 and 3)");
    set_meta(&b, l, no_license, 3);
    expect_failure("refuses missing license", &b, FMT,
                   "required key 'license' is missing");
    set_meta(&b, l, bad_utf8, 3);
    expect_failure("refuses invalid UTF-8 in a value", &b, FMT,
                   "value of 'name' is not valid UTF-8 (byte 1)");
    set_meta(&b, l, overlong, 3);
    expect_failure("refuses overlong UTF-8", &b, FMT, "not valid UTF-8");
    set_meta(&b, l, surrogate, 3);
    expect_failure("refuses a UTF-16 surrogate in UTF-8", &b, FMT,
                   "not valid UTF-8");
    free(b.data);

    b = blob_copy(good);
    put_u32(b.data, l->meta, 0);
    expect_failure("refuses key_len 0", &b, FMT,
                   "metadata record 0: key_len is 0, must be 1..64");
    put_u32(b.data, l->meta, 65);
    expect_failure("refuses key_len 65", &b, FMT, "key_len is 65");
    put_u32(b.data, l->meta, 4);
    b.data[l->meta + 5] = 0;
    expect_failure("refuses a NUL in a key", &b, FMT,
                   "metadata record 0: key contains a NUL byte (byte 1)");
    free(b.data);

    b = blob_copy(good);
    put_u32(b.data, l->meta + 8, 4097); /* "name" record's value_len */
    expect_failure("refuses value_len 4097", &b, FMT,
                   "metadata record 0 ('name'): value_len is 4097");
    put_u32(b.data, l->meta + 8, 4000);
    expect_failure("refuses a NUL in a value", &b, FMT,
                   "metadata record 0: value of 'name' contains a NUL byte");
    free(b.data);
}

static void test_tensor_names(const Blob *good, const Layout *l)
{
    Blob b = blob_copy(good);
    size_t t3 = tensor_at(l, 3);

    memset(b.data + t3, 'a', 40);
    expect_failure("refuses a tensor name without NUL", &b, FMT,
                   "tensor 3: name is not NUL-terminated within its 40 bytes");
    memset(b.data + t3, 0, 40);
    expect_failure("refuses an empty tensor name", &b, FMT,
                   "tensor 3: name is empty");
    memcpy(b.data + t3, "in1.shift", 10);
    expect_failure("refuses a duplicate tensor name", &b, FMT,
                   "tensor 3: name 'in1.shift' is already used by tensor 2");
    memcpy(b.data + t3, "bad\xfe", 5);
    expect_failure("refuses a tensor name that is not UTF-8", &b, FMT,
                   "tensor 3: name is not valid UTF-8 (byte 3)");
    free(b.data);
}

/* The named categories of tests/bad_models.py, and more that need
 * several fields changed together. */
static void test_structural(const Blob *good, const Layout *l)
{
    Blob b = blob_copy(good);
    size_t t3 = tensor_at(l, 3), t0 = tensor_at(l, 0);

    b.size = 0;
    expect_failure("refuses an empty file", &b, FMT, "empty file");
    b.size = 50;
    expect_failure("refuses a truncated header", &b, FMT,
                   "truncated header: the file is 50 bytes");
    b.size = 5;
    expect_failure("refuses 5 bytes of magic", &b, FMT, "truncated header");
    b.size = l->data + l->data_size / 2;
    expect_failure("refuses truncated data", &b, FMT,
                   "data section (offset 7296, 6710604 bytes) runs past the end");
    b.size = good->size - 1;
    expect_failure("refuses a file one byte short", &b, FMT, "data section");
    b.size = good->size;

    memcpy(b.data, "NOTSTYLE", 8);
    expect_failure("refuses wrong magic, saying what the file starts with",
                   &b, FMT, "bad magic: not a style.bin (the file starts with "
                   "4e 4f 54 53 54 59 4c 45, not \"NSTSTYLE\")");
    b.size = 3;
    expect_failure("refuses 3 bytes of wrong magic", &b, FMT,
                   "the file starts with 4e 4f 54, not");
    b.size = good->size;
    memcpy(b.data, "NSTSTYLE", 8);

    put_u64(b.data, 56, l->data + 16);
    put_u64(b.data, 64, l->data_size - 16);
    expect_failure("refuses a misaligned data_offset", &b, FMT,
                   "header: data_offset 7312 is not a multiple of the "
                   "alignment 64");
    put_u64(b.data, 56, l->data);
    put_u64(b.data, 64, l->data_size);

    /* a weight shape that disagrees with its layer, nbytes consistent */
    put_u32(b.data, t3 + 60, 60);
    put_u64(b.data, t3 + 72, 3 * 3 * 32 * 60 * 4);
    expect_failure("refuses inconsistent-shape", &b, FMT,
                   "layer 3 (conv): weight tensor 'conv2.weight' has shape "
                   "[3,3,32,60], expected [3,3,32,64]");
    free(b.data);

    /* shapes that claim 2^63 bytes, and more than 2^64 */
    b = blob_copy(good);
    put_u32(b.data, t0 + 48, 65536);
    put_u32(b.data, t0 + 52, 65536);
    put_u32(b.data, t0 + 56, 65536);
    put_u32(b.data, t0 + 60, 8192);
    put_u64(b.data, t0 + 72, 1ull << 63);
    expect_failure("refuses absurd-size (nbytes 2^63)", &b, FMT,
                   "offset 0 + nbytes 9223372036854775808 runs past the end "
                   "of the data section");
    put_u32(b.data, t0 + 60, 65536);
    expect_failure("refuses a shape of more than 2^64 bytes", &b, FMT,
                   "shape [65536,65536,65536,65536] holds more than 2^64 bytes");
    free(b.data);

    /* values */
    b = blob_copy(good);
    put_f32(b.data, l->data + 4 * 100, NAN);
    expect_failure("refuses nan-weight", &b, FMT,
                   "tensor 0 ('conv1.weight'): value 100 is nan, must be finite");
    put_f32(b.data, l->data + 4 * 100, -INFINITY);
    expect_failure("refuses an infinite weight", &b, FMT, "value 100 is -inf");
    put_f32(b.data, l->data + 4 * 100, 1e-42f);
    {
        NstModel *m = NULL;
        int ret = load_exact(b.data, b.size, &m, NULL, 0);

        check(ret == NST_OK && m && m->weights[100] == 1e-42f,
              "a subnormal float32 weight is finite and kept", "%d", ret);
        nst_model_free(&m);
    }
    free(b.data);
}

static void test_tiny_absurd(void)
{
    uint8_t h[100] = "NSTSTYLE";
    Blob b = { h, sizeof(h) };

    put_u32(h, 8, 1);
    put_u32(h, 12, HEADER_SIZE);
    put_u32(h, 16, 0xFFFFFFFF);
    put_u32(h, 20, 0xFFFFFFFF);
    put_u32(h, 24, 0xFFFFFFFF);
    put_u32(h, 28, 64);
    put_f32(h, 80, 255.0f);
    expect_failure("refuses tiny-absurd (counts of 2^32-1)", &b, FMT,
                   "n_meta is 4294967295");

    /* counts in range, every table claimed far past the 100 bytes */
    put_u32(h, 16, 0);
    put_u32(h, 20, 1024);
    put_u32(h, 24, 256);
    put_u64(h, 32, 96);
    put_u64(h, 40, 96);
    put_u64(h, 48, 96 + 1024 * 80);
    put_u64(h, 56, 1ull << 62);
    put_u64(h, 64, 1ull << 62);
    expect_failure("refuses tiny-absurd (tables past the end)", &b, FMT,
                   "tensor table section (offset 96, 81920 bytes) runs past "
                   "the end of the file (100 bytes)");

    put_u32(h, 16, 64);
    put_u32(h, 96, 64); /* first key_len, its key not in the file */
    expect_failure("refuses tiny-absurd (metadata past the end)", &b, FMT,
                   "metadata record 0: key (key_len 64 at offset 100) runs "
                   "past the end of the file (100 bytes)");

    /* the first record's value_len, then its value, cut off by the end
     * (the header's metadata count is still 64, its offset 96) */
    {
        uint8_t v[110];

        memcpy(v, h, 100);
        put_u32(v, 96, 1);
        memcpy(v + 100, "k\x20\0\0\0abcde", 10);
        b.data = v;
        b.size = 103;
        expect_failure("refuses a value_len cut off by the end", &b, FMT,
                       "metadata record 0 ('k'): value_len at offset 101 is "
                       "past the end of the file (103 bytes)");
        b.size = sizeof(v);
        expect_failure("refuses a value cut off by the end", &b, FMT,
                       "metadata record 0 ('k'): value (value_len 32 at "
                       "offset 105) runs past the end of the file (110 bytes)");
        b.data = h;
        b.size = sizeof(h);
    }

    put_u32(h, 16, 0);
    put_u64(h, 40, UINT64_MAX - 10);
    expect_failure("refuses a tensor_offset near 2^64", &b, FMT,
                   "tensor table section");
}

/* Every prefix of the header and tables, and some of the data, from an
 * exactly sized buffer: each must fail cleanly. */
static void test_truncations(const Blob *good, const Layout *l)
{
    size_t n, bad = SIZE_MAX, step = 65537;
    char err[512];
    int ret = 0;

    for (n = 0; n <= good->size - 1 && bad == SIZE_MAX;
         n += n < l->tables_end + 64 ? 1 : step) {
        NstModel *m = NULL;

        err[0] = '\0';
        ret = load_exact(good->data, n, &m, err, sizeof(err));
        if (ret != NST_ERR_FORMAT || m || !err[0])
            bad = n;
        nst_model_free(&m);
    }
    check(bad == SIZE_MAX, "every truncation fails cleanly (each prefix up "
          "to the end of the tables, then every 65537 bytes)",
          "prefix of %zu bytes: code %d, message \"%s\"", bad, ret, err);
}

static uint32_t xorshift32(uint32_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

/* Random byte changes over the header and tables: load, or fail with a
 * message; never crash, never anything but a format error. */
static void test_random_flips(const Blob *good, const Layout *l)
{
    Blob b = blob_copy(good);
    uint32_t seed = 0x5eed1234;
    int i, loaded = 0, failed = 0, bad = -1, bad_ret = 0;
    char err[512] = "";

    for (i = 0; i < 2000 && bad < 0; i++) {
        size_t pos[4];
        int k, n = 1 + xorshift32(&seed) % 4, ret;
        NstModel *m = NULL;

        for (k = 0; k < n; k++) {
            pos[k] = xorshift32(&seed) % l->tables_end;
            b.data[pos[k]] ^= (uint8_t)(1 + xorshift32(&seed) % 255);
        }
        err[0] = '\0';
        ret = nst_model_load_memory(b.data, b.size, &m, err, sizeof(err));
        if (ret == NST_OK && m)
            loaded++;
        else if ((ret == NST_ERR_FORMAT || ret == NST_ERR_UNSUPPORTED) &&
                 !m && err[0])
            failed++;
        else
            bad = i, bad_ret = ret;
        nst_model_free(&m);
        for (k = 0; k < n; k++)
            b.data[pos[k]] = good->data[pos[k]];
    }
    check(bad < 0, "2000 random byte changes over header and tables: each "
          "loads or fails with a message",
          "iteration %d: code %d, message \"%s\"", bad, bad_ret, err);
    printf("# random changes: %d loaded, %d refused\n", loaded, failed);
    free(b.data);
}

static void test_error_buffer(void)
{
    static const uint8_t header[40] = "NSTSTYLE\1\0\0\0";
    NstModel *m = NULL;
    char small[8];
    int ret;

    ret = nst_model_load_memory(header, 40, &m, NULL, 0);
    check(ret == NST_ERR_FORMAT && !m, "no error buffer: still the code",
          "%d", ret);
    memset(small, 'x', sizeof(small));
    ret = nst_model_load_memory(header, 40, &m, small, sizeof(small));
    check(ret == NST_ERR_FORMAT && small[7] == '\0' && strlen(small) == 7,
          "short error buffer is truncated and terminated", "'%.8s'", small);
    ret = nst_model_load_memory(NULL, 10, &m, small, sizeof(small));
    check(ret == NST_ERR_INVALID && !m, "NULL data with a size: invalid",
          "%d", ret);
    ret = nst_model_load_memory(header, sizeof(header), NULL, NULL, 0);
    check(ret == NST_ERR_INVALID, "NULL model pointer: invalid", "%d", ret);
    nst_model_free(NULL);
    nst_model_free(&m);
    check(nst_model_meta(NULL, "name") == NULL, "meta of NULL model", "-");
}

/* ---- hand-built models: float16 and the other ops ------------------------------ */

typedef struct MiniTensor {
    const char *name;
    uint32_t dtype, ndim, shape[4];
    const void *values;
    size_t nbytes;
} MiniTensor;

typedef struct MiniLayer {
    uint32_t op, flags;
    int32_t in0, in1;
    uint32_t t0, t1, in_ch, out_ch, kernel, stride, padding;
    float f[4];
} MiniLayer;

/* A style.bin from tables, laid out as the converter does. */
static Blob build_mini(const MiniTensor *t, int nt, const MiniLayer *l,
                       int nl, uint32_t input_order)
{
    static const char meta[] = "\4\0\0\0name\4\0\0\0mini"
                               "\6\0\0\0source\4\0\0\0test"
                               "\7\0\0\0license\3\0\0\0MIT";
    size_t meta_size = sizeof(meta) - 1, tensors = HEADER_SIZE + meta_size;
    size_t layers = tensors + (size_t)nt * TREC;
    size_t data = (layers + (size_t)nl * LREC + 63) / 64 * 64, pos = data;
    size_t size = data, i;
    Blob b;
    int k;

    for (k = 0; k < nt; k++)
        size = (size + 63) / 64 * 64 + t[k].nbytes;
    b.size = size;
    b.data = calloc(1, size);
    if (!b.data)
        exit(2);
    memcpy(b.data, "NSTSTYLE", 8);
    put_u32(b.data, 8, 1);
    put_u32(b.data, 12, HEADER_SIZE);
    put_u32(b.data, 16, 3);
    put_u32(b.data, 20, (uint32_t)nt);
    put_u32(b.data, 24, (uint32_t)nl);
    put_u32(b.data, 28, 64);
    put_u64(b.data, 32, HEADER_SIZE);
    put_u64(b.data, 40, tensors);
    put_u64(b.data, 48, layers);
    put_u64(b.data, 56, data);
    put_u64(b.data, 64, size - data);
    put_u32(b.data, 72, input_order);
    put_f32(b.data, 76, -1.0f);
    put_f32(b.data, 80, 1.0f);
    memcpy(b.data + HEADER_SIZE, meta, meta_size);
    for (k = 0; k < nt; k++) {
        size_t r = tensors + (size_t)k * TREC;

        pos = (pos + 63) / 64 * 64;
        strcpy((char *)b.data + r, t[k].name);
        put_u32(b.data, r + 40, t[k].dtype);
        put_u32(b.data, r + 44, t[k].ndim);
        for (i = 0; i < 4; i++)
            put_u32(b.data, r + 48 + 4 * i, t[k].shape[i] ? t[k].shape[i] : 1);
        put_u64(b.data, r + 64, pos - data);
        put_u64(b.data, r + 72, t[k].nbytes);
        memcpy(b.data + pos, t[k].values, t[k].nbytes);
        pos += t[k].nbytes;
    }
    for (k = 0; k < nl; k++) {
        size_t r = layers + (size_t)k * LREC;
        const uint32_t u[12] = { l[k].op, l[k].flags, (uint32_t)l[k].in0,
                                 (uint32_t)l[k].in1, l[k].t0, l[k].t1,
                                 l[k].in_ch, l[k].out_ch, l[k].kernel,
                                 l[k].stride, l[k].padding, 0 };

        for (i = 0; i < 12; i++)
            put_u32(b.data, r + 4 * i, u[i]);
        for (i = 0; i < 4; i++)
            put_f32(b.data, r + 48 + 4 * i, l[k].f[i]);
    }
    return b;
}

static void test_float16(void)
{
    /* little-endian binary16: 1, -2, 0.5, 65504, 2^-24 (smallest
     * subnormal), 1023 * 2^-24 (largest subnormal), 2^-14 (smallest
     * normal), -0, 0x3555 = 0.333251953125 */
    static const uint16_t weight[9] = { 0x3c00, 0xc000, 0x3800, 0x7bff, 0x0001,
                                        0x03ff, 0x0400, 0x8000, 0x3555 };
    static const float expect[9] = { 1.0f, -2.0f, 0.5f, 65504.0f,
                                     5.9604644775390625e-08f,
                                     6.0975551605224609375e-05f,
                                     6.103515625e-05f, -0.0f,
                                     0.333251953125f };
    uint16_t bias[3] = { 0x3c00, 0x0000, 0xbc00 };
    float unused[4] = { 1, 2, 3, 4 };
    MiniTensor t[3] = {
        { "w", 1, 4, { 1, 1, 3, 3 }, weight, sizeof(weight) },
        { "b", 1, 1, { 3 }, bias, sizeof(bias) },
        { "unreferenced", 0, 1, { 4 }, unused, sizeof(unused) },
    };
    MiniLayer l[2] = {
        { NST_OP_CONV, 0, -1, -1, 0, 1, 3, 3, 1, 1, NST_PAD_SAME, { 0 } },
        { NST_OP_OUTPUT, 0, 0, -1, NONE, NONE, 3, 3, 0, 0, 0,
          { 127.5f, 127.5f, 0.0f, 255.0f } },
    };
    NstModel *m = NULL;
    char err[512] = "";
    Blob b = build_mini(t, 3, l, 2, 1);
    int ret = load_exact(b.data, b.size, &m, err, sizeof(err)), i, same = 1;

    if (check(ret == NST_OK && m, "float16 model with an unreferenced "
              "tensor loads", "%d %s", ret, err)) {
        for (i = 0; i < 9; i++)
            same &= memcmp(&m->layers[0].weight[i], &expect[i], 4) == 0;
        check(same && m->layers[0].bias[0] == 1.0f &&
              m->layers[0].bias[2] == -1.0f, "float16 to float32 is exact, "
              "subnormals and -0 included", "weight[4] %g weight[5] %g",
              m->layers[0].weight[4], m->layers[0].weight[5]);
        check(m->input_bgr == 1 && m->input_min == -1.0f &&
              m->input_max == 1.0f && !m->layers[1].out_tanh,
              "BGR, -1..1 input and no tanh are read", "-");
    }
    nst_model_free(&m);
    free(b.data);

    {
        static const uint16_t specials[3] = { 0x7c00, 0xfc00, 0x7e00 };
        static const char *const names[3] = { "inf", "-inf", "nan" };
        uint16_t w2[9];
        char name[64], want[64];

        for (i = 0; i < 3; i++) {
            memcpy(w2, weight, sizeof(w2));
            w2[6] = specials[i];
            t[0].values = w2;
            b = build_mini(t, 3, l, 2, 0);
            snprintf(name, sizeof(name), "refuses a float16 %s", names[i]);
            snprintf(want, sizeof(want), "tensor 0 ('w'): value 6 is %s",
                     names[i]);
            expect_failure(name, &b, FMT, want);
            free(b.data);
        }
    }
}

static void test_other_ops(void)
{
    static const float w[5 * 5 * 3 * 3];
    MiniTensor t[2] = {
        { "w", 0, 4, { 5, 5, 3, 3 }, w, sizeof(w) },
        { "wt", 0, 4, { 3, 3, 3, 3 }, w, 3 * 3 * 3 * 3 * 4 },
    };
    MiniLayer l[6] = {
        { NST_OP_UPSAMPLE, 0, -1, -1, NONE, NONE, 3, 3, 0, 3, 0, { 0 } },
        { NST_OP_CONV, 0, 0, -1, 0, NONE, 3, 3, 5, 2, NST_PAD_REFLECT, { 0 } },
        { NST_OP_CONV_TRANSPOSE, 0, 1, -1, 1, NONE, 3, 3, 3, 2, 0, { 0 } },
        { NST_OP_ADD, 0, 2, -1, NONE, NONE, 3, 3, 0, 0, 0, { 0 } },
        { NST_OP_RELU, 0, 3, -1, NONE, NONE, 3, 3, 0, 0, 0, { 0 } },
        { NST_OP_OUTPUT, 1, 4, -1, NONE, NONE, 3, 3, 0, 0, 0,
          { 1.0f, 0.0f, -1.0f, 1.0f } },
    };
    NstModel *m = NULL;
    char err[512] = "";
    Blob b = build_mini(t, 2, l, 6, 0);
    int ret = load_exact(b.data, b.size, &m, err, sizeof(err));

    check(ret == NST_OK && m && m->layers[0].stride == 3 &&
          m->layers[1].padding == NST_PAD_REFLECT && m->layers[1].kernel == 5 &&
          m->layers[2].kernel == 3 && m->layers[3].input[1] == -1 &&
          m->layers[5].out_tanh, "upsample, reflect conv, conv_transpose, "
          "add of the network input load", "%d %s", ret, err);
    nst_model_free(&m);
    free(b.data);

    l[0].stride = 5;
    b = build_mini(t, 2, l, 6, 0);
    expect_failure("refuses upsample factor 5", &b, FMT,
                   "layer 0 (upsample): stride (factor) is 5, must be 2..4");
    free(b.data);
    l[0].stride = 3;
    l[0].kernel = 1;
    b = build_mini(t, 2, l, 6, 0);
    expect_failure("refuses a kernel on upsample", &b, FMT,
                   "layer 0 (upsample): kernel is 1, must be 0");
    free(b.data);
}

/* ---- allocation bounded by the file's size ------------------------------------ */

/* Loads from memory (path NULL) or from the file path, counting every
 * allocation of the load; checks code and the bound (limit). */
static void check_alloc(const char *name, const Blob *b, const char *path,
                        int code, uint64_t limit)
{
    NstModel *m = NULL;
    char err[512] = "";
    AllocCount c;
    int ret;

    alloc_count_begin();
    ret = path ? nst_model_load_file(path, &m, err, sizeof(err))
               : nst_model_load_memory(b->data, b->size, &m, err, sizeof(err));
    c = alloc_count_end();
    nst_model_free(&m);
    check(ret == code && c.total <= limit, name, "code %d (want %d) \"%s\", "
          "%llu bytes in %llu allocations (largest %llu), limit %llu", ret,
          code, err, (unsigned long long)c.total, (unsigned long long)c.n,
          (unsigned long long)c.largest, (unsigned long long)limit);
    printf("# %s: %llu bytes allocated for a %zu-byte file\n", name,
           (unsigned long long)c.total, b->size);
}

/* NST_MODEL_ALLOC_LIMIT: a file's counts and sizes can make the reader
 * allocate at most a small multiple of the file's own size, however large
 * they claim to be: each is checked against the bytes that are there
 * before anything is allocated for it. Counted through the sanitizer's
 * malloc hooks, so in the tests-san build only. */
static void test_alloc_bound(const Blob *good)
{
    const char *build = env_or("NST_BUILD", "build");
    uint8_t h[100] = "NSTSTYLE";
    Blob tiny = { h, sizeof(h) }, tables;
    char path[1024];
    uint32_t i;
    FILE *f;

    if (!ALLOC_COUNTING) {
        printf("# skip allocation bounds: counting needs AddressSanitizer "
               "(the tests-san build of this test checks them)\n");
        return;
    }
    /* 100 bytes claiming 2^32-1 of everything, then every table at its
     * largest and 2^62 bytes of data */
    put_u32(h, 8, 1);
    put_u32(h, 12, HEADER_SIZE);
    put_u32(h, 16, 0xFFFFFFFF);
    put_u32(h, 20, 0xFFFFFFFF);
    put_u32(h, 24, 0xFFFFFFFF);
    put_u32(h, 28, 64);
    put_f32(h, 80, 255.0f);
    check_alloc("a 100-byte file claiming 2^32-1 records: refused within "
                "NST_MODEL_ALLOC_LIMIT", &tiny, NULL, FMT,
                NST_MODEL_ALLOC_LIMIT(tiny.size));
    put_u32(h, 16, 0);
    put_u32(h, 20, 1024);
    put_u32(h, 24, 256);
    put_u64(h, 32, 96);
    put_u64(h, 40, 96);
    put_u64(h, 48, 96 + 1024 * 80);
    put_u64(h, 56, 1ull << 62);
    put_u64(h, 64, 1ull << 62);
    check_alloc("a 100-byte file claiming the largest tables and 2^62 bytes "
                "of data: refused within NST_MODEL_ALLOC_LIMIT", &tiny, NULL,
                FMT, NST_MODEL_ALLOC_LIMIT(tiny.size));

    /* Tables that are there (1024 tensors, 256 layers: 98 KB) and the
     * required metadata after them, each tensor claiming 2^36 floats: the
     * tensor table is read into memory, nothing is allocated for what it
     * claims. */
    tables.size = 96 + 1024 * 80 + 256 * 64 + 96 + 64; /* data 64-aligned */
    tables.data = calloc(1, tables.size);
    if (!tables.data)
        exit(2);
    memcpy(tables.data, h, 96);
    put_u32(tables.data, 16, 3);
    put_u64(tables.data, 32, 96 + 1024 * 80 + 256 * 64);
    memcpy(tables.data + 96 + 1024 * 80 + 256 * 64, "\4\0\0\0name\1\0\0\0x"
           "\6\0\0\0source\1\0\0\0y\7\0\0\0license\1\0\0\0z", 44);
    put_u64(tables.data, 56, tables.size - 64);
    put_u64(tables.data, 64, 64);
    for (i = 0; i < 1024; i++) {
        size_t r = 96 + (size_t)i * 80;

        snprintf((char *)tables.data + r, 40, "t%u", i);
        put_u32(tables.data, r + 44, 4);
        put_u32(tables.data, r + 48, 65536);
        put_u32(tables.data, r + 52, 65536);
        put_u32(tables.data, r + 56, 16);
        put_u32(tables.data, r + 60, 1);
        put_u64(tables.data, r + 72, 1ull << 38);
    }
    check_alloc("full tables, tensors claiming 2^38 bytes each: refused "
                "within NST_MODEL_ALLOC_LIMIT", &tables, NULL, FMT,
                NST_MODEL_ALLOC_LIMIT(tables.size));
    expect_failure("full tables, tensors claiming 2^38 bytes each: the "
                   "message names the first", &tables, FMT, "tensor 0 ('t0'): "
                   "offset 0 + nbytes 274877906944 runs past the end of the "
                   "data section (data_size 64)");
    free(tables.data);

    /* What a real model costs: its weights once, its tables a few times. */
    check_alloc("udnie.bin from memory: within NST_MODEL_ALLOC_LIMIT", good,
                NULL, NST_OK, NST_MODEL_ALLOC_LIMIT(good->size));
    snprintf(path, sizeof(path), "%s/models/udnie.bin", build);
    check_alloc("udnie.bin from its file: within NST_MODEL_ALLOC_LIMIT, the "
                "file's bytes once and 128 KiB", good, path, NST_OK,
                NST_MODEL_ALLOC_LIMIT(good->size) + good->size + 131072);

    /* the 100-byte file through nst_model_load_file */
    snprintf(path, sizeof(path), "%s/test_model-tiny.tmp", build);
    if ((f = fopen(path, "wb"))) {
        int made = fwrite(h, 1, sizeof(h), f) == sizeof(h);

        if (fclose(f) == 0 && made)
            check_alloc("the 100-byte file from a file: refused within the "
                        "limit and 128 KiB", &tiny, path, FMT,
                        NST_MODEL_ALLOC_LIMIT(tiny.size) + tiny.size + 131072);
        remove(path);
    }
}

/* ---- files --------------------------------------------------------------------- */

static void test_files(void)
{
    const char *build = env_or("NST_BUILD", "build");
    char path[1024], err[512] = "";
    NstModel *m = (NstModel *)&m;
    FILE *f;
    int ret;

    ret = nst_model_load_file("/nonexistent/udnie.bin", &m, err, sizeof(err));
    check(ret == NST_ERR_IO && !m && strstr(err, "/nonexistent/udnie.bin") &&
          strstr(err, "cannot open"), "missing file: I/O error naming it",
          "%d \"%s\"", ret, err);
    ret = nst_model_load_file(build, &m, err, sizeof(err));
    check(ret == NST_ERR_IO && !m && strstr(err, "cannot read"),
          "a directory: I/O error", "%d \"%s\"", ret, err);
    ret = nst_model_load_file(NULL, &m, err, sizeof(err));
    check(ret == NST_ERR_INVALID && !m, "NULL path: invalid", "%d", ret);

    snprintf(path, sizeof(path), "%s/test_model-empty.tmp", build);
    if ((f = fopen(path, "wb"))) {
        fclose(f);
        ret = nst_model_load_file(path, &m, err, sizeof(err));
        check(ret == NST_ERR_FORMAT && !m && strstr(err, path) &&
              strstr(err, "empty file"), "empty file: format error naming it",
              "%d \"%s\"", ret, err);
        remove(path);
    }

    /* A sparse file past 1 GiB is refused without being read. */
    snprintf(path, sizeof(path), "%s/test_model-huge.tmp", build);
    if ((f = fopen(path, "wb"))) {
        int made = fwrite("NSTSTYLE", 1, 8, f) == 8 &&
                   fseek(f, (1L << 30) + 100, SEEK_SET) == 0 &&
                   fputc(0, f) != EOF;

        if (fclose(f) == 0 && made) {
            ret = nst_model_load_file(path, &m, err, sizeof(err));
            check(ret == NST_ERR_UNSUPPORTED && !m && strstr(err, "1 GiB"),
                  "file over 1 GiB refused", "%d \"%s\"", ret, err);
        } else {
            printf("# skip: cannot make a sparse file at %s\n", path);
        }
        remove(path);
    }
}

int main(void)
{
    const char *build = env_or("NST_BUILD", "build");
    char path[1024];
    Blob good;

    test_converted_models();
    test_error_buffer();
    test_files();
    test_float16();
    test_other_ops();
    test_tiny_absurd();

    snprintf(path, sizeof(path), "%s/models/udnie.bin", build);
    if (!check(read_file(path, &good) == 0, "udnie.bin for the broken "
               "variants", "cannot read %s", path))
        return check_status();
    {
        Layout l = layout_of(&good);
        int layout_ok = l.n_tensors == 48 && l.n_layers == 48 &&
                        l.tensors == 384 && l.layers == 4224 &&
                        l.data == 7296 &&
                        !strcmp((char *)good.data + tensor_at(&l, 3),
                                "conv2.weight");

        if (check(layout_ok, "udnie.bin has the converter's layout",
                  "tensor table %zu, layer table %zu, data %zu", l.tensors,
                  l.layers, l.data)) {
            test_structural(&good, &l);
            test_field_patches(&good, &l);
            test_metadata_errors(&good, &l);
            test_tensor_names(&good, &l);
            test_truncations(&good, &l);
            test_random_flips(&good, &l);
        }
        test_alloc_bound(&good);
    }
    free(good.data);
    return check_status();
}
