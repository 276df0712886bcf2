/*
 * libFuzzer harness for the frame descriptions a caller hands the engine
 * (NstFrame: pixel format, size, line sizes, colour matrix and range) and
 * what reads them without a device: the staging layout (engine/frame/frame.c,
 * nst_frame_layout, pack, unpack and the shaders' push constants), the
 * colour matrices (color.c) and the C reference's conversions
 * (ref_frame.c).
 *
 * Input: byte 0 the format (any value, most of them invalid), bytes 1..4
 * and 5..8 width and height (int32, any value), 9 the matrix and 10 the
 * range (any value), 11 the strength (0..255 as 0..1), 12 flags (bit 0:
 * bottom-up planes, negative line sizes; bit 1: line sizes padded past the
 * row), then pixel bytes, repeated as needed.
 *
 * A bug (abort() with a line saying which) is a crash or sanitizer report,
 * a layout that breaks its own rules (strides multiples of 4 and at least
 * the row, planes in order without overlap, the size their sum), a frame
 * that does not come back from pack and unpack byte for byte, or RGB that
 * does not come back through the reference's conversions at strength 1.
 * Frames above 64x64 pixels get the layout only.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frame/frame.h"
#include "model/model.h"
#include "ref/ref.h"
#include "ref/ref_frame.h"

#ifndef FUZZ_ENTRY
#define FUZZ_ENTRY LLVMFuzzerTestOneInput
#endif

#define FF_HEADER     13
#define FF_MAX_PIXELS (64 * 64)

#if defined(__GNUC__)
__attribute__((format(printf, 1, 2), noreturn))
#endif
static void ff_bug(const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "fuzz_frame: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n");
    abort();
}

static int32_t ff_i32(const uint8_t *b)
{
    uint32_t u = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
                 (uint32_t)b[3] << 24;
    int32_t i;

    memcpy(&i, &u, sizeof(i));
    return i;
}

static void ff_check_layout(const NstFrameLayout *l, NstPixelFormat format,
                            int width, int height)
{
    static const int planes[NST_PIX_NB] = {
        [NST_PIX_RGB24] = 1, [NST_PIX_RGBA] = 1, [NST_PIX_BGRA] = 1,
        [NST_PIX_YUV420P] = 3, [NST_PIX_YUV444P] = 3, [NST_PIX_NV12] = 2,
    };
    size_t end = 0;
    int p;

    if ((unsigned)format >= NST_PIX_NB || width < 1 || height < 1 ||
        width > 32768 || height > 32768)
        ff_bug("format %d at %dx%d accepted", (int)format, width, height);
    if (l->format != format || l->width != width || l->height != height ||
        l->n_planes != planes[format])
        ff_bug("format %d %dx%d: layout says format %d %dx%d, %d planes",
               (int)format, width, height, (int)l->format, l->width,
               l->height, l->n_planes);
    for (p = 0; p < l->n_planes; p++) {
        if (l->row_bytes[p] < 1 || l->rows[p] < 1 || l->rows[p] > height ||
            l->stride[p] < l->row_bytes[p] || l->stride[p] % 4 ||
            l->stride[p] - l->row_bytes[p] > 3 || l->offset[p] % 4 ||
            l->offset[p] != end)
            ff_bug("format %d %dx%d plane %d: %d rows of %d bytes, stride %d, "
                   "offset %zu (expected %zu)", (int)format, width, height, p,
                   l->rows[p], l->row_bytes[p], l->stride[p], l->offset[p], end);
        end += (size_t)l->stride[p] * (size_t)l->rows[p];
    }
    if (l->size != end)
        ff_bug("format %d %dx%d: size %zu, planes end at %zu", (int)format,
               width, height, l->size, end);
}

/* The planes of a frame with layout l, each allocated to exactly what
 * its line size reaches, so that ASan sees any stray access. */
static int ff_alloc(const NstFrameLayout *l, NstFrame *f, uint8_t **blocks,
                    int flags, const uint8_t *fill, size_t fill_size)
{
    for (int p = 0; p < l->n_planes; p++) {
        size_t line = (size_t)l->row_bytes[p] + (flags & 2 ? 5 : 0);
        size_t n = line * (size_t)l->rows[p], k;

        blocks[p] = malloc(n);
        if (!blocks[p])
            return -1;
        for (k = 0; k < n; k++)
            blocks[p][k] = fill_size ? fill[(k + 7 * p) % fill_size] : (uint8_t)k;
        if (flags & 1) {
            f->data[p] = blocks[p] + line * (size_t)(l->rows[p] - 1);
            f->linesize[p] = -(ptrdiff_t)line;
        } else {
            f->data[p] = blocks[p];
            f->linesize[p] = (ptrdiff_t)line;
        }
    }
    return 0;
}

static int ff_same_pixels(const NstFrameLayout *l, const NstFrame *a,
                          const NstFrame *b, int *plane, int *row)
{
    for (int p = 0; p < l->n_planes; p++)
        for (int y = 0; y < l->rows[p]; y++)
            if (memcmp(a->data[p] + (ptrdiff_t)y * a->linesize[p],
                       b->data[p] + (ptrdiff_t)y * b->linesize[p],
                       (size_t)l->row_bytes[p])) {
                *plane = p;
                *row = y;
                return 0;
            }
    return 1;
}

/* A model of nothing but the output op, identity: enough for the
 * reference's conversions, which read the input range, the channel order
 * and the output transform. */
static void ff_identity_model(NstModel *m, NstLayer *layer, int bgr)
{
    memset(m, 0, sizeof(*m));
    memset(layer, 0, sizeof(*layer));
    layer->op = NST_OP_OUTPUT;
    layer->input[0] = layer->input[1] = -1;
    layer->in_ch = layer->out_ch = 3;
    layer->out_mul = 1.0f;
    layer->out_max = 255.0f;
    m->input_bgr = bgr;
    m->input_max = 255.0f;
    m->n_layers = 1;
    m->layers = layer;
}

int FUZZ_ENTRY(const uint8_t *data, size_t size);
int FUZZ_ENTRY(const uint8_t *data, size_t size)
{
    NstPixelFormat format;
    NstFrameLayout l;
    NstFrame f = { 0 }, g = { 0 };
    uint8_t *fb[3] = { 0 }, *gb[3] = { 0 }, *packed = NULL;
    NstPixInPush push_in;
    NstPixOutPush push_out;
    NstModel model;
    NstLayer out_layer;
    NstTensor t;
    int width, height, flags, p, row, ret;
    float strength;

    if (size < FF_HEADER)
        return 0;
    format = (NstPixelFormat)(int8_t)data[0];
    width = ff_i32(data + 1);
    height = ff_i32(data + 5);
    flags = data[12];
    strength = data[11] / 255.0f;

    ret = nst_frame_layout(format, width, height, &l);
    if (ret < 0) {
        if (ret != NST_ERR_INVALID)
            ff_bug("format %d %dx%d: code %d", (int)format, width, height, ret);
        if ((unsigned)format < NST_PIX_NB && width >= 1 && height >= 1 &&
            width <= 32768 && height <= 32768)
            ff_bug("format %d %dx%d refused", (int)format, width, height);
        return 0;
    }
    ff_check_layout(&l, format, width, height);
    if ((int64_t)width * height > FF_MAX_PIXELS)
        return 0;

    f.format = g.format = format;
    f.width = g.width = width;
    f.height = g.height = height;
    f.matrix = g.matrix = (NstColorMatrix)data[9];
    f.range = g.range = (NstColorRange)data[10];
    packed = malloc(l.size);
    if (!packed || ff_alloc(&l, &f, fb, flags, data + FF_HEADER, size - FF_HEADER) < 0 ||
        ff_alloc(&l, &g, gb, flags ^ 1, NULL, 0) < 0)
        goto end;

    /* staging: what the upload writes and the download reads */
    nst_frame_pack(&l, &f, packed);
    nst_frame_unpack(&l, packed, &g);
    if (!ff_same_pixels(&l, &f, &g, &p, &row))
        ff_bug("format %d %dx%d: plane %d row %d differs after pack and "
               "unpack", (int)format, width, height, p, row);

    ff_identity_model(&model, &out_layer, flags >> 2 & 1);
    nst_frame_push_in(&l, &f, model.input_bgr, model.input_min,
                      model.input_max, &push_in);
    for (p = 0; p < l.n_planes; p++)
        nst_frame_push_out(&l, &f, &out_layer, model.input_bgr, p, width,
                           strength, flags >> 3 & 1, &push_out);

    /* the reference's conversions; RGB must come back exactly through
     * pixels in 0..255 and an identity output at strength 1 */
    if (nst_ref_frame_to_tensor(&model, &f, &t) == NST_OK) {
        nst_ref_pixels_to_frame(&model, &t, &g, 1.0f);
        if ((format == NST_PIX_RGB24 || format == NST_PIX_RGBA ||
             format == NST_PIX_BGRA) && !ff_same_pixels(&l, &f, &g, &p, &row)) {
            /* RGBA's and BGRA's fourth byte is not written back */
            int x, y, bpp = format == NST_PIX_RGB24 ? 3 : 4;

            for (y = 0; y < height; y++)
                for (x = 0; x < width * bpp; x++)
                    if (x % bpp < 3 && f.data[0][(ptrdiff_t)y * f.linesize[0] + x] !=
                                       g.data[0][(ptrdiff_t)y * g.linesize[0] + x])
                        ff_bug("format %d %dx%d: pixel %d,%d byte %d does not "
                               "come back through the reference", (int)format,
                               width, height, x / bpp, y, x % bpp);
        }
        nst_ref_tensor_to_frame(&model, &t, &g, strength);
        nst_ref_tensor_to_frame_color(&model, &t, &g, strength, 1);
        nst_tensor_free(&t);
    }
end:
    free(packed);
    for (p = 0; p < 3; p++) {
        free(fb[p]);
        free(gb[p]);
    }
    return 0;
}
