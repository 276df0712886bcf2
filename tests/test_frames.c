/*
 * The frame shaders (pixels <-> tensor, output transform, crop, colour
 * conversion, blend) against engine/ref_frame.c, in every pixel format,
 * matrix and range, odd sizes, padded and bottom-up rows.
 */
#include <stdio.h>
#include <stdlib.h>

#include "check.h"
#include "frames.h"
#include "model_builder.h"
#include "ref_frame.h"

static void frame_case(NstEngine *e, const NstModel *m, NstPixelFormat fmt, int w, int h,
                       NstColorMatrix matrix, NstColorRange range, float strength,
                       int pad, int bottom_up)
{
    TestFrame src, gpu, ref;
    char name[160];
    int ret, diff;

    snprintf(name, sizeof(name), "%s %dx%d matrix %d %s strength %.2f%s%s",
             pix_names[fmt], w, h, (int)matrix, range == NST_RANGE_FULL ? "full" : "limited",
             strength, pad ? " padded" : "", bottom_up ? " bottom-up" : "");
    tf_alloc(&src, fmt, w, h, 0, 0);
    src.f.matrix = matrix;
    src.f.range = range;
    tf_fill_random(&src, (unsigned)(w * 7919 + h * 31 + fmt));
    tf_copy(&gpu, &src, pad, bottom_up);
    tf_copy(&ref, &src, 0, 0);

    ret = nst_engine_process(e, &gpu.f, strength);
    if (ret < 0) {
        check(0, name, "engine: %s", nst_strerror(ret));
    } else if ((ret = nst_ref_process(m, &ref.f, strength)) < 0) {
        check(0, name, "reference: %s", nst_strerror(ret));
    } else {
        diff = tf_max_diff(&gpu, &ref);
        /* 1: the float sums may round a .5 the other way */
        check(diff <= 1 && tf_padding_intact(&gpu, pad) &&
              !nst_engine_validation_messages(e), name,
              "max byte difference %d, padding %s, %u validation messages", diff,
              tf_padding_intact(&gpu, pad) ? "intact" : "overwritten",
              nst_engine_validation_messages(e));
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
        frame_case(e, m, fmt, 13, 11, NST_MATRIX_BT601, NST_RANGE_LIMITED, 1.0f, 0, 0);
        frame_case(e, m, fmt, 8, 6, NST_MATRIX_BT709, NST_RANGE_FULL, 0.5f, 5, 0);
        frame_case(e, m, fmt, 17, 9, NST_MATRIX_BT2020, NST_RANGE_LIMITED, 0.25f, 3, 1);
        frame_case(e, m, fmt, 1, 1, NST_MATRIX_BT601, NST_RANGE_FULL, 1.0f, 0, 0);
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
