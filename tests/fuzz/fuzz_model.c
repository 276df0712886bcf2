/*
 * libFuzzer harness for the style.bin reader (engine/model/) and for what
 * a model it accepts goes on to feed.
 *
 * Every input is loaded twice, from memory and from a file (a memfd), and
 * both must agree: the same code and, on failure, the same message after
 * the file's "path: " prefix. A crash, a sanitizer report or a leak is a
 * bug, and so is (abort() with a line saying which):
 *   - a load that allocates more than NST_MODEL_ALLOC_LIMIT of the input's
 *     size, all allocations added up (tests/fuzz/fuzz_alloc.h);
 *   - a rejection with a code other than FORMAT or UNSUPPORTED, or without
 *     a message;
 *   - an accepted model that breaks what the engine relies on without
 *     checking again (inputs of earlier layers, channels, weights inside
 *     the block and finite, the output op last, the metadata).
 * An accepted model then goes through what the host does with it before
 * any device is involved, Winograd's weight transform (winograd.c), and
 * runs through the C reference (engine/ref/ref.c, ref_frame.c, ref_resize.c:
 * the network on a small frame, below the frame's size, and the temporal
 * path's smoothed instance norms) when what it would compute is small,
 * which stands in for the Vulkan engine's planning without a device.
 *
 * tests/test_fuzz_corpus.c runs this same code over the corpus in
 * `make check`, built by gcc, as a regression test; FUZZ_ENTRY names the
 * entry point there.
 */
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz_alloc.h"
#include "model/model.h"
#include "ref/ref.h"
#include "ref/ref_frame.h"
#include "ref/ref_resize.h"
#include "net/winograd.h"

#ifndef FUZZ_ENTRY
#define FUZZ_ENTRY LLVMFuzzerTestOneInput
#endif

/* What the reference may compute per input: multiply-adds, and floats in
 * one tensor. Enough for every op at a few pixels, small enough that a
 * slow input costs milliseconds, not the run. */
#define FM_MAX_MACS     (1 << 21)
#define FM_MAX_ELEMENTS (1 << 18)

#if defined(__GNUC__)
__attribute__((format(printf, 1, 2), noreturn))
#endif
static void fm_bug(const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "fuzz_model: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n");
    abort();
}

/* ---- the loaded model -------------------------------------------------------- */

static void fm_check_span(const NstModel *m, int layer, const char *what,
                          const float *p, size_t n)
{
    size_t k;

    if (!p || p < m->weights || (size_t)(p - m->weights) > m->n_weights ||
        n > m->n_weights - (size_t)(p - m->weights))
        fm_bug("layer %d: %s (%zu floats) is not inside the %zu weights",
               layer, what, n, m->n_weights);
    for (k = 0; k < n; k++)
        if (!isfinite(p[k]))
            fm_bug("layer %d: %s[%zu] is %g", layer, what, k, p[k]);
}

static void fm_check_model(const NstModel *m)
{
    static const char *const required[] = { "name", "source", "license" };
    int channels[256], i, k;

    if (m->n_layers < 2 || m->n_layers > 256)
        fm_bug("%d layers", m->n_layers);
    if (!isfinite(m->input_min) || !isfinite(m->input_max) ||
        m->input_min == m->input_max)
        fm_bug("input range %g..%g", m->input_min, m->input_max);
    for (i = 0; i < m->n_layers; i++) {
        const NstLayer *l = &m->layers[i];
        size_t k2 = (size_t)l->kernel * (size_t)l->kernel;
        int n_in = l->op == NST_OP_ADD ? 2 : 1;

        if ((l->op == NST_OP_OUTPUT) != (i == m->n_layers - 1))
            fm_bug("layer %d: op %d, the output op must be last and only there",
                   i, (int)l->op);
        for (k = 0; k < 2; k++) {
            int in = l->input[k];

            if (k >= n_in) {
                if (in != -1)
                    fm_bug("layer %d: unused input%d is %d", i, k, in);
                continue;
            }
            if (in < -1 || in >= i)
                fm_bug("layer %d: input%d is %d", i, k, in);
            if (l->in_ch != (in < 0 ? 3 : channels[in]))
                fm_bug("layer %d: in_ch %d, input%d has other channels", i,
                       l->in_ch, k);
        }
        if (l->in_ch < 1 || l->in_ch > 1024 || l->out_ch < 1 || l->out_ch > 1024)
            fm_bug("layer %d: channels %d -> %d", i, l->in_ch, l->out_ch);
        channels[i] = l->out_ch;
        switch (l->op) {
        case NST_OP_CONV:
        case NST_OP_CONV_TRANSPOSE:
            if (l->kernel < 1 || l->kernel > 15 || l->stride < 1 || l->stride > 4)
                fm_bug("layer %d: kernel %d stride %d", i, l->kernel, l->stride);
            fm_check_span(m, i, "weight", l->weight, k2 * l->in_ch * l->out_ch);
            if (l->bias)
                fm_check_span(m, i, "bias", l->bias, (size_t)l->out_ch);
            break;
        case NST_OP_INSTANCE_NORM:
            fm_check_span(m, i, "scale", l->scale, (size_t)l->in_ch);
            fm_check_span(m, i, "shift", l->shift, (size_t)l->in_ch);
            if (!(l->eps > 0.0f) || !isfinite(l->eps))
                fm_bug("layer %d: eps %g", i, l->eps);
            break;
        case NST_OP_UPSAMPLE:
            if (l->stride < 2 || l->stride > 4)
                fm_bug("layer %d: upsample factor %d", i, l->stride);
            break;
        case NST_OP_OUTPUT:
            if (l->in_ch != 3 || !(l->out_min < l->out_max) ||
                !isfinite(l->out_mul) || !isfinite(l->out_add))
                fm_bug("output layer: in_ch %d, mul %g add %g range %g..%g",
                       l->in_ch, l->out_mul, l->out_add, l->out_min, l->out_max);
            break;
        case NST_OP_RELU:
        case NST_OP_ADD:
            break;
        default:
            fm_bug("layer %d: op %d", i, (int)l->op);
        }
    }

    if (m->n_meta < 3 || m->n_meta > 64)
        fm_bug("%d metadata records", m->n_meta);
    for (i = 0; i < m->n_meta; i++) {
        size_t len = strlen(m->meta[i].key);

        if (len < 1 || len > 64 || strlen(m->meta[i].value) > 4096)
            fm_bug("metadata %d: key of %zu bytes", i, len);
        /* keys are unique, so the lookup finds this very record */
        if (nst_model_meta(m, m->meta[i].key) != m->meta[i].value)
            fm_bug("metadata %d: lookup of '%s' finds another value", i,
                   m->meta[i].key);
    }
    for (k = 0; k < 3; k++)
        if (!nst_model_meta(m, required[k]))
            fm_bug("required metadata '%s' missing", required[k]);
    if (nst_model_meta(m, "") || nst_model_meta(m, NULL) || nst_model_meta(NULL, "name"))
        fm_bug("lookup of an empty or NULL key finds something");
}

/* ---- the reference on a small frame -------------------------------------------- */

/* Whether the reference can run the model at w x h cheaply: the shape of
 * every layer's result, as the engine plans them, adding up the work. A
 * layer that cannot take its input is fine (the reference refuses it). */
static int fm_cheap(const NstModel *m, int w, int h, uint64_t *macs)
{
    int hs[256], ws[256], i;

    *macs = 0;
    for (i = 0; i < m->n_layers; i++) {
        const NstLayer *l = &m->layers[i];
        int ih = l->input[0] < 0 ? h : hs[l->input[0]];
        int iw = l->input[0] < 0 ? w : ws[l->input[0]];
        uint64_t out, per = 1;

        if (nst_layer_out_size(l, ih, iw, &hs[i], &ws[i]) < 0)
            return 1;
        out = (uint64_t)hs[i] * (uint64_t)ws[i] * (uint64_t)l->out_ch;
        if (out > FM_MAX_ELEMENTS)
            return 0;
        if (l->op == NST_OP_CONV || l->op == NST_OP_CONV_TRANSPOSE)
            per = (uint64_t)l->kernel * l->kernel * l->in_ch;
        *macs += out * per;
        if (*macs > FM_MAX_MACS)
            return 0;
    }
    return 1;
}

static void fm_run_reference(const NstModel *m, size_t size)
{
    /* The frame's format and size come from the input's length, so that
     * the model's bytes are all the fuzzer's and trailing padding (which
     * the format allows) picks another frame. */
    NstPixelFormat format = (NstPixelFormat)(size % NST_PIX_NB);
    int w = 1 + (int)(size / NST_PIX_NB % 7), h = 1 + (int)(size / 42 % 5);
    NstFrame f = { .format = format, .width = w, .height = h,
                   .matrix = (NstColorMatrix)(size % 3),
                   .range = (NstColorRange)(size / 3 % 2) };
    int cw = (w + 1) / 2, ch = (h + 1) / 2, bytes[4] = { 0 }, rows[4] = { 0 };
    NstRefNormState state = { 0 };
    NstTensor in, out;
    uint64_t macs;
    int p, ret;

    if (!fm_cheap(m, w, h, &macs))
        return;
    switch (format) {
    case NST_PIX_RGB24:   bytes[0] = 3 * w; rows[0] = h; break;
    case NST_PIX_RGBA:
    case NST_PIX_BGRA:    bytes[0] = 4 * w; rows[0] = h; break;
    case NST_PIX_YUV444P: bytes[0] = bytes[1] = bytes[2] = w;
                          rows[0] = rows[1] = rows[2] = h; break;
    case NST_PIX_YUV420P: bytes[0] = w; rows[0] = h;
                          bytes[1] = bytes[2] = cw; rows[1] = rows[2] = ch; break;
    default:              bytes[0] = w; rows[0] = h;
                          bytes[1] = 2 * cw; rows[1] = ch; break;
    }
    /* Planes of exactly their size, so that ASan sees any stray access. */
    for (p = 0; p < 3 && bytes[p]; p++) {
        size_t n = (size_t)bytes[p] * rows[p], k;

        f.data[p] = malloc(n);
        if (!f.data[p])
            goto end;
        for (k = 0; k < n; k++)
            f.data[p][k] = (uint8_t)(k * 37 + p * 101);
        f.linesize[p] = bytes[p];
    }
    ret = nst_ref_process(m, &f, 0.75f);
    if (ret < 0 && ret != NST_ERR_INVALID && ret != NST_ERR_UNSUPPORTED)
        fm_bug("nst_ref_process: %d", ret);
    /* the network below the frame's size: downscale, guided upsampling */
    if (w > 1 || h > 1) {
        ret = nst_ref_process_sized(m, &f, 1.0f, w - (w > 1), h - (h > 1 && w == 1));
        if (ret < 0 && ret != NST_ERR_INVALID && ret != NST_ERR_UNSUPPORTED)
            fm_bug("nst_ref_process_sized: %d", ret);
    }

    /* The temporal path: the last two instance norms' statistics carried
     * from one frame to the next, twice so that the state is reused. */
    if (macs <= FM_MAX_MACS / 4 && nst_ref_frame_to_tensor(m, &f, &in) == NST_OK) {
        for (p = 0; p < 2; p++) {
            if (nst_ref_forward_smoothed(m, &in, &out, &state, 2, 0.5f) < 0)
                break;
            nst_tensor_free(&out);
        }
        nst_tensor_free(&in);
        nst_ref_norm_state_free(&state);
    }
end:
    for (p = 0; p < 3; p++)
        free(f.data[p]);
}

/* ---- the host's weight transforms ------------------------------------------------ */

/* Winograd's transformed weights, packed as the engine uploads them (its
 * choice of output texels per invocation, net/conv.c's nst_conv_ocb), into a
 * block of exactly nst_wino_texels: ASan sees a write past it. */
static void fm_winograd(const NstModel *m)
{
    for (int i = 0; i < m->n_layers; i++) {
        const NstLayer *l = &m->layers[i];
        int ocb = (l->out_ch + 3) / 4 % 2 == 0 ? 2 : 1;
        size_t n;
        float *dst;

        if (!nst_wino_applies(l))
            continue;
        n = nst_wino_texels(l) * 4;
        if (n > FM_MAX_ELEMENTS * 4 || !(dst = malloc(n * sizeof(*dst))))
            continue;
        nst_wino_pack(l, ocb, dst);
        free(dst);
    }
}

/* ---- the two ways in ----------------------------------------------------------- */

/* Loads the bytes as a file, through a memfd: the reader's read loop and
 * its size hint, and its messages with the path in front. -1 when the
 * system has no memfd (the check is then skipped). */
static int fm_load_file(const uint8_t *data, size_t size, char *path,
                        size_t path_size, NstModel **m, char *err,
                        size_t err_size, AllocCount *count)
{
    int fd = memfd_create("style.bin", MFD_CLOEXEC), ret;
    size_t done = 0;

    if (fd < 0)
        return -1;
    while (done < size) {
        ssize_t n = write(fd, data + done, size - done);

        if (n <= 0) {
            close(fd);
            return -1;
        }
        done += (size_t)n;
    }
    snprintf(path, path_size, "/proc/self/fd/%d", fd);
    alloc_count_begin();
    ret = nst_model_load_file(path, m, err, err_size);
    *count = alloc_count_end();
    close(fd);
    return ret;
}

static int fm_same_model(const NstModel *a, const NstModel *b)
{
    return a->n_layers == b->n_layers && a->n_meta == b->n_meta &&
           a->n_weights == b->n_weights && a->input_bgr == b->input_bgr &&
           !memcmp(a->weights, b->weights, a->n_weights * sizeof(float));
}

int FUZZ_ENTRY(const uint8_t *data, size_t size);
int FUZZ_ENTRY(const uint8_t *data, size_t size)
{
    char err[1024], err_file[1024 + 64], path[64];
    NstModel *m = NULL, *mf = NULL;
    AllocCount count, count_file;
    uint64_t limit = NST_MODEL_ALLOC_LIMIT(size);
    int ret, ret_file;

    err[0] = '\0';
    alloc_count_begin();
    ret = nst_model_load_memory(data, size, &m, err, sizeof(err));
    count = alloc_count_end();
    if (ALLOC_COUNTING && count.total > limit)
        fm_bug("a %zu-byte input made the reader allocate %llu bytes in %llu "
               "allocations (largest %llu), over its limit of %llu", size,
               (unsigned long long)count.total, (unsigned long long)count.n,
               (unsigned long long)count.largest, (unsigned long long)limit);
    if (ret == NST_OK) {
        if (!m)
            fm_bug("success without a model");
        fm_check_model(m);
    } else {
        if (m)
            fm_bug("code %d with a model", ret);
        if (ret != NST_ERR_FORMAT && ret != NST_ERR_UNSUPPORTED)
            fm_bug("code %d (%s) for file bytes: \"%s\"", ret,
                   nst_strerror(ret), err);
        if (!err[0])
            fm_bug("code %d without a message", ret);
    }

    err_file[0] = '\0';
    ret_file = fm_load_file(data, size, path, sizeof(path), &mf, err_file,
                            sizeof(err_file), &count_file);
    if (ret_file != -1) {
        size_t plen = strlen(path);

        /* the read buffer, once, and stdio's own */
        if (ALLOC_COUNTING && count_file.total > limit + size + 2 * 65536)
            fm_bug("loading the %zu-byte file allocated %llu bytes", size,
                   (unsigned long long)count_file.total);
        if (ret_file != ret)
            fm_bug("from memory: code %d \"%s\"; from a file: code %d \"%s\"",
                   ret, err, ret_file, err_file);
        if (ret < 0 && (strncmp(err_file, path, plen) ||
                        strncmp(err_file + plen, ": ", 2) ||
                        strcmp(err_file + plen + 2, err)))
            fm_bug("messages differ: \"%s\" from memory, \"%s\" from a file",
                   err, err_file);
        if (ret == NST_OK && !fm_same_model(m, mf))
            fm_bug("the file's model differs from the memory's");
        nst_model_free(&mf);
    }

    if (m) {
        fm_winograd(m);
        fm_run_reference(m, size);
    }
    nst_model_free(&m);
    if (m)
        fm_bug("nst_model_free left the pointer set");
    return 0;
}
