/*
 * The frame shaders (pixels <-> tensor, output transform, crop, colour
 * conversion, blend) against engine/ref/ref_frame.c, in every pixel format,
 * matrix and range, odd sizes, padded and bottom-up rows; and keeping the
 * input's colours (nst_engine_set_preserve_color), where a YUV frame's
 * chroma planes must come back bit for bit.
 */
#include <stdio.h>
#include <stdlib.h>

#include "check.h"
#include "frames.h"
#include "model_builder.h"
#include "ref/ref_frame.h"

/* Whether t's chroma planes (none for RGB) equal src's, byte for byte. */
static int same_chroma(const TestFrame *t, const TestFrame *src)
{
    for (int p = 1; p < t->n_planes; p++)
        for (int y = 0; y < t->rows[p]; y++)
            if (memcmp(tf_row(t, p, y), tf_row(src, p, y), (size_t)t->row_bytes[p]))
                return 0;
    return 1;
}

static void frame_case(NstEngine *e, const NstModel *m, NstPixelFormat fmt, int w, int h,
                       NstColorMatrix matrix, NstColorRange range, float strength,
                       int pad, int bottom_up, int preserve)
{
    TestFrame src, gpu, ref;
    char name[160];
    int ret, diff;

    snprintf(name, sizeof(name), "%s %dx%d matrix %d %s strength %.2f%s%s%s",
             pix_names[fmt], w, h, (int)matrix, range == NST_RANGE_FULL ? "full" : "limited",
             strength, pad ? " padded" : "", bottom_up ? " bottom-up" : "",
             preserve ? ", colours kept" : "");
    tf_alloc(&src, fmt, w, h, 0, 0);
    src.f.matrix = matrix;
    src.f.range = range;
    tf_fill_random(&src, (unsigned)(w * 7919 + h * 31 + fmt));
    tf_copy(&gpu, &src, pad, bottom_up);
    tf_copy(&ref, &src, 0, 0);

    nst_engine_set_preserve_color(e, preserve);
    ret = nst_engine_process(e, &gpu.f, strength);
    nst_engine_set_preserve_color(e, 0);
    if (ret < 0) {
        check(0, name, "engine: %s", nst_strerror(ret));
    } else if ((ret = nst_ref_process_color(m, &ref.f, strength, preserve)) < 0) {
        check(0, name, "reference: %s", nst_strerror(ret));
    } else {
        diff = tf_max_diff(&gpu, &ref);
        /* 1: the float sums may round a .5 the other way */
        check(diff <= 1 && tf_padding_intact(&gpu, pad) &&
              !nst_engine_validation_messages(e) && (!preserve || same_chroma(&gpu, &src)) &&
              (strength == 0.0f || tf_max_diff(&gpu, &src) > 0), name,
              "max byte difference %d, padding %s, %u validation messages, chroma %s, "
              "max difference from the input %d", diff,
              tf_padding_intact(&gpu, pad) ? "intact" : "overwritten",
              nst_engine_validation_messages(e),
              same_chroma(&gpu, &src) ? "kept" : "changed", tf_max_diff(&gpu, &src));
    }
    tf_free(&src);
    tf_free(&gpu);
    tf_free(&ref);
}

int main(void)
{
    NstModel *m;
    NstEngine *e;
    int ret;

    if (mb_small_engine(42, &m, &e) < 0)
        return 1;
    for (int fmt = 0; fmt < NST_PIX_NB; fmt++) {
        frame_case(e, m, fmt, 13, 11, NST_MATRIX_BT601, NST_RANGE_LIMITED, 1.0f, 0, 0, 0);
        frame_case(e, m, fmt, 8, 6, NST_MATRIX_BT709, NST_RANGE_FULL, 0.5f, 5, 0, 0);
        frame_case(e, m, fmt, 17, 9, NST_MATRIX_BT2020, NST_RANGE_LIMITED, 0.25f, 3, 1, 0);
        frame_case(e, m, fmt, 1, 1, NST_MATRIX_BT601, NST_RANGE_FULL, 1.0f, 0, 0, 0);
        /* preserve: packed RGB by whole pixels (rgb24: 4 in 3 words; widths
         * that end a row mid-group) */
        frame_case(e, m, fmt, 13, 11, NST_MATRIX_BT601, NST_RANGE_LIMITED, 1.0f, 0, 0, 1);
        frame_case(e, m, fmt, 7, 5, NST_MATRIX_BT709, NST_RANGE_FULL, 0.5f, 5, 1, 1);
        frame_case(e, m, fmt, 6, 3, NST_MATRIX_BT2020, NST_RANGE_LIMITED, 1.0f, 2, 0, 1);
        frame_case(e, m, fmt, 1, 1, NST_MATRIX_BT601, NST_RANGE_FULL, 1.0f, 0, 0, 1);
    }
    /* strength 0 is the input, bit for bit */
    {
        TestFrame a, b;
        tf_alloc(&a, NST_PIX_YUV420P, 31, 17, 0, 0);
        tf_fill_random(&a, 3);
        tf_copy(&b, &a, 0, 0);
        ret = nst_engine_process(e, &b.f, 0.0f);
        check(ret == 0 && tf_max_diff(&a, &b) == 0, "strength 0 is bit-exact",
              "ret %d, diff %d", ret, tf_max_diff(&a, &b));
        ret = nst_engine_process(e, &b.f, 1.5f);
        check(ret == NST_ERR_INVALID, "strength 1.5 is refused", "ret %d", ret);
        tf_free(&a);
        tf_free(&b);
    }
    /* a frame past the device's limits fails cleanly, and the engine goes on */
    {
        TestFrame big, small;
        tf_alloc(&big, NST_PIX_RGB24, 12000, 12000, 0, 0);
        ret = nst_engine_process(e, &big.f, 1.0f);
        check(ret == NST_ERR_LIMITS || ret == NST_ERR_NOMEM, "12000x12000 is refused",
              "ret %d (%s)", ret, nst_strerror(ret));
        tf_free(&big);
        tf_alloc(&small, NST_PIX_RGB24, 9, 5, 0, 0);
        ret = nst_engine_process(e, &small.f, 1.0f);
        check(ret == NST_OK, "the engine runs on after a refused frame", "ret %d", ret);
        tf_free(&small);
    }
    nst_engine_free(&e);
    nst_model_free(&m);
    return check_status();
}
