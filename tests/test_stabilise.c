/*
 * The input stabiliser and the second-generation blend (issue #16):
 * through a model that is the identity, what the network sees, on
 * synthetic sequences with known noise (a still background: constant after
 * the first frame; a moving square: nothing of where it was is held; a
 * slow brightness ramp: followed within a bounded lag); the frame's noise
 * estimate; and the whole temporal path (stabiliser, changed blocks,
 * blend, with a real network between) against the C reference
 * (engine/ref/ref_temporal.c), frame after frame.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "check.h"
#include "engine_internal.h"
#include "frames.h"
#include "model_builder.h"
#include "ref/ref_frame.h"
#include "ref/ref_temporal.h"

#define W 96
#define H 64

/* A model whose output is its input: one 1x1 convolution, the identity. */
static NstModel *identity_model(void)
{
    ModelBuilder b = { .seed = 1 };
    int c = mb_conv(&b, -1, 3, 3, 1, 1, 0, 0);
    MbTensor *w = &b.t[b.l[c].t0];

    for (int i = 0; i < 3; i++)
        for (int o = 0; o < 3; o++)
            w->data[i * 3 + o] = i == o ? 1.0f : 0.0f;
    mb_output(&b, c, 0, 1.0f, 0.0f, 0.0f, 255.0f);
    return mb_load(&b);
}

static unsigned rng = 12345u;

/* Gaussian, deviation 1 (Box-Muller on a small LCG: the same every run). */
static double gauss(void)
{
    double u, v;
    rng = rng * 1103515245u + 12345u;
    u = ((rng >> 8) & 0xffffff) / 16777216.0 + 1e-9;
    rng = rng * 1103515245u + 12345u;
    v = ((rng >> 8) & 0xffffff) / 16777216.0;
    return sqrt(-2.0 * log(u)) * cos(6.283185307179586 * v);
}

static uint8_t px(double v)
{
    return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : lround(v));
}

/* A smooth texture + gain, Gaussian noise of deviation sigma on each
 * channel, and a square of side sq at (sx, sy) (none when sq is 0). */
static void scene(TestFrame *t, double gain, double sigma, int sx, int sy, int sq)
{
    tf_alloc(t, NST_PIX_RGB24, W, H, 0, 0);
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            uint8_t *p = tf_row(t, 0, y) + 3 * x;
            double a = 120 + 50 * sin(x * 0.21 + y * 0.13) + 25 * cos(y * 0.37 - x * 0.11) + gain;
            int in = sq && x >= sx && x < sx + sq && y >= sy && y < sy + sq;
            for (int c = 0; c < 3; c++)
                p[c] = px((in ? 235.0 : a * (1.0 - 0.15 * c)) + sigma * gauss());
        }
}

static int run(NstEngine *e, const TestFrame *in, TestFrame *out)
{
    tf_copy(out, in, 0, 0);
    return nst_engine_process(e, &out->f, 1.0f);
}

/* Pixels (of W x H) where a and b differ at all. */
static double changed_fraction(const TestFrame *a, const TestFrame *b)
{
    int n = 0;
    for (int y = 0; y < H; y++)
        for (int x = 0; x < 3 * W; x += 3)
            n += tf_row(a, 0, y)[x] != tf_row(b, 0, y)[x] ||
                 tf_row(a, 0, y)[x + 1] != tf_row(b, 0, y)[x + 1] ||
                 tf_row(a, 0, y)[x + 2] != tf_row(b, 0, y)[x + 2];
    return (double)n / (W * H);
}

static int setup(NstEngine *e, unsigned mechanisms, float temporal)
{
    int ret = nst_engine_set_temporal_mechanisms(e, mechanisms);
    ret |= nst_engine_set_temporal(e, temporal);
    nst_engine_reset(e);
    return ret;
}

/* A still background under noise of 2 levels a channel: what the network
 * sees stops changing after the first frame (a renewal of a slow drift
 * aside, the first frames only), while the input changes everywhere. */
static void test_still(NstEngine *e)
{
    enum { N = 12 };
    TestFrame in[N], out[N];
    double worst = 0, last = 0, input = 0;
    int ret = setup(e, NST_TEMPORAL_INPUT, 0.5f);

    for (int i = 0; i < N; i++) {
        scene(&in[i], 0, 2.0, 0, 0, 0);
        ret |= run(e, &in[i], &out[i]);
    }
    for (int i = 2; i < N; i++) {
        double f = changed_fraction(&out[i], &out[i - 1]);
        worst = f > worst ? f : worst;
        if (i >= N - 4)
            last = f > last ? f : last;
        input += changed_fraction(&in[i], &in[i - 1]) / (N - 2);
    }
    printf("# still under noise: at most %.3f%% of the pixels change after the first "
           "frame, %.3f%% in the last four (the input: %.1f%%); noise %.2f levels\n",
           100 * worst, 100 * last, 100 * input, e->temporal.last_sigma);
    check(ret == 0 && worst <= 0.01 && last == 0.0 && input > 0.9,
          "stabiliser: a still background's network input is constant",
          "ret %d, %.3f%% change, %.3f%% in the last frames", ret, 100 * worst, 100 * last);
    check(e->temporal.last_sigma >= 1.0f && e->temporal.last_sigma <= 2.5f,
          "stabiliser: the noise estimate is near the truth",
          "%.2f levels of luma for a deviation of 2 a channel (1.34 in luma)",
          e->temporal.last_sigma);
    for (int i = 0; i < N; i++) {
        tf_free(&in[i]);
        tf_free(&out[i]);
    }
}

/* A bright square moving 3 pixels a frame: where it was, the network sees
 * the background that came back, not the square held; just ahead of it
 * (within NST_TEMPORAL_RENEW pixels of the blocks it entered), the input
 * as it came, noise and all (temporal_renew.comp). */
static void test_square(NstEngine *e)
{
    enum { N = 8, STEP = 3, SY = 20, SQ = 12 };
    double worst_mean = 0;
    int ret = setup(e, NST_TEMPORAL_INPUT, 0.5f), worst = 0, ahead = 0, ahead_n = 0;

    for (int i = 0; i < N; i++) {
        TestFrame in, out;
        double sum = 0;
        int n = 0;
        scene(&in, 0, 1.5, 10 + STEP * i, SY, SQ);
        ret |= run(e, &in, &out);
        for (int y = SY; i && y < SY + SQ; y++)
            for (int x = 10 + STEP * (i - 1); x < 10 + STEP * i; x++)
                for (int c = 0; c < 3; c++) {
                    int d = abs(tf_row(&out, 0, y)[3 * x + c] - tf_row(&in, 0, y)[3 * x + c]);
                    sum += d;
                    worst = d > worst ? d : worst;
                    n++;
                }
        if (n && sum / n > worst_mean)
            worst_mean = sum / n;
        for (int y = SY; i && y < SY + SQ; y++)
            for (int x = 10 + STEP * i + SQ; x < 10 + STEP * i + SQ + NST_TEMPORAL_RENEW; x++)
                for (int c = 0; c < 3; c++) {
                    int d = abs(tf_row(&out, 0, y)[3 * x + c] - tf_row(&in, 0, y)[3 * x + c]);
                    ahead = d > ahead ? d : ahead;
                    ahead_n++;
                }
        tf_free(&in);
        tf_free(&out);
    }
    printf("# moving square: ahead of it, %d values, %d levels from the input at most\n",
           ahead_n, ahead);
    check(ret == 0 && ahead_n > 0 && ahead == 0, "stabiliser: beside a real change, the "
          "input as it came", "ret %d, %d levels off", ret, ahead);
    /* the square is 235, the background 45..195: a held pixel differs by
     * 40 or more; noise and a renewed pixel's mean by a few levels */
    printf("# moving square: where it was, %.2f levels from the input on average, "
           "%d at most\n", worst_mean, worst);
    check(ret == 0 && worst_mean <= 2.0 && worst < 40, "stabiliser: nothing of a moving "
          "square is held", "ret %d, mean %.2f, max %d", ret, worst_mean, worst);
}

/* Brightness rising by half a level a frame, under noise of 1: the network
 * follows it with a bounded lag instead of freezing the first frame. */
static void test_ramp(NstEngine *e)
{
    enum { N = 40 };
    const double step = 0.5;
    double lag_max = 0, lag_end = 0, first = 0, end = 0;
    int ret = setup(e, NST_TEMPORAL_INPUT, 0.5f);

    for (int i = 0; i < N; i++) {
        TestFrame in, out;
        double lag = 0, mo = 0;
        scene(&in, step * i, 1.0, 0, 0, 0);
        ret |= run(e, &in, &out);
        for (int y = 0; y < H; y++)
            for (int x = 0; x < 3 * W; x++) {
                lag += tf_row(&in, 0, y)[x] - tf_row(&out, 0, y)[x];
                mo += tf_row(&out, 0, y)[x];
            }
        lag /= 3.0 * W * H;
        mo /= 3.0 * W * H;
        if (i == 0)
            first = mo;
        end = mo;
        lag_max = lag > lag_max ? lag : lag_max;
        if (i >= N - 10)
            lag_end = lag > lag_end ? lag : lag_end;
        tf_free(&in);
        tf_free(&out);
    }
    /* the bound: K_DRIFT sigma before a renewal, and the running mean's
     * own lag, step (1 - ALPHA) / ALPHA; frozen, the lag would reach 19.5 */
    double bound = NST_TEMPORAL_K_DRIFT * 1.5 + step * (1 - NST_TEMPORAL_ALPHA) / NST_TEMPORAL_ALPHA;
    printf("# ramp of %.1f levels a frame: lag at most %.2f levels (%.2f in the last ten "
           "frames; bound %.1f), the output rose %.1f\n", step, lag_max, lag_end, bound,
           end - first);
    check(ret == 0 && lag_max <= bound && lag_end <= bound && end - first >= 0.7 * step * (N - 1),
          "stabiliser: a slow brightness ramp is followed", "ret %d, lag %.2f, rose %.1f",
          ret, lag_max, end - first);
}

/* The engine against the reference over a sequence: a still, noisy
 * background with a square moving across it, then a cut. */
static void against_reference(const char *name, NstEngine *e, const NstModel *m,
                              unsigned mechanisms, double max_mean, double max_off)
{
    enum { N = 8 };
    NstRefTemporal ref = { .mechanisms = mechanisms, .strength = 0.5f };
    double worst_mean = 0, worst_off = 0;
    int ret = setup(e, mechanisms, 0.5f), worst = 0;

    for (int i = 0; i < N; i++) {
        TestFrame in, out, want;
        NstTensor t = { 0 }, y = { 0 }, pix = { 0 };
        double sum = 0;
        int off = 0;
        scene(&in, i == N - 1 ? 60 : 0, getenv("REF_NOISE") ? atof(getenv("REF_NOISE")) : 2.0, 8 + 4 * i, 24, 14);
        if (i == N - 1) /* a cut: another picture */
            tf_fill_random(&in, 99);
        ret |= run(e, &in, &out);
        tf_copy(&want, &in, 0, 0);
        if (!ret)
            ret = nst_ref_frame_to_tensor(m, &want.f, &t);
        if (!ret)
            ret = nst_ref_temporal_input(&ref, m, &t);
        if (!ret)
            ret = nst_ref_forward(m, &t, &y);
        if (!ret)
            ret = nst_ref_temporal_output(&ref, m, &y, &pix);
        if (!ret)
            nst_ref_pixels_to_frame(m, &pix, &want.f, 1.0f);
        for (int r = 0; !ret && r < H; r++)
            for (int x = 0; x < 3 * W; x++) {
                int d = abs(tf_row(&out, 0, r)[x] - tf_row(&want, 0, r)[x]);
                sum += d;
                off += d > 1;
                if (d > 1 && getenv("REF_DEBUG") && off <= 4)
                    printf("#     (%d, %d) c%d: %d vs %d (input %d)\n", x / 3, r, x % 3,
                           tf_row(&out, 0, r)[x], tf_row(&want, 0, r)[x], tf_row(&in, 0, r)[x]);
                worst = d > worst ? d : worst;
            }
        sum /= 3.0 * W * H;
        if (getenv("REF_DEBUG"))
            printf("#   frame %d: mean %.4f, %d off\n", i, sum, off);
        worst_mean = sum > worst_mean ? sum : worst_mean;
        worst_off = off / (3.0 * W * H) > worst_off ? off / (3.0 * W * H) : worst_off;
        nst_tensor_free(&t);
        nst_tensor_free(&y);
        nst_tensor_free(&pix);
        tf_free(&in);
        tf_free(&out);
        tf_free(&want);
    }
    printf("# %s: against the reference, %.4f levels on average at most, %.3f%% of the "
           "values more than 1 level off, %d at most\n", name, worst_mean, 100 * worst_off, worst);
    check(ret == 0 && worst_mean <= max_mean && worst_off <= max_off, name,
          "ret %d, mean %.4f, %.3f%% off by more than 1, max %d", ret, worst_mean,
          100 * worst_off, worst);
    nst_ref_temporal_free(&ref);
}

int main(void)
{
    NstModel *id = identity_model(), *small = mb_small_model(5);
    NstEngine *e = NULL, *es = NULL;

    if (!id || !small || nst_engine_create(id, NULL, &e) < 0 ||
        nst_engine_create(small, NULL, &es) < 0) {
        printf("not ok - engines on the identity and a small model\n");
        nst_engine_free(&e);
        nst_model_free(&id);
        nst_model_free(&small);
        return 1;
    }
    test_still(e);
    test_square(e);
    test_ramp(e);
    /* float sums in another order may put a pixel on the other side of a
     * threshold: a few values, never the frame */
    against_reference("stabiliser against the reference (identity network)", e, id,
                      NST_TEMPORAL_INPUT, 0.05, 0.005);
    against_reference("stabiliser, changed blocks and blend against the reference "
                      "(identity network)", e, id, NST_TEMPORAL_INPUT | NST_TEMPORAL_WARP,
                      0.1, 0.005);
    against_reference("blend alone against the reference (identity network)", e, id,
                      NST_TEMPORAL_WARP, 0.1, 0.005);
    /* a network between: the two differ by a level here and there, which
     * the recursion carries on, at a weight near 1 where the input is held */
    against_reference("the whole temporal path against the reference (a small network)", es,
                      small, NST_TEMPORAL_INPUT | NST_TEMPORAL_WARP, 0.1, 0.01);
    check(!nst_engine_validation_messages(e) && !nst_engine_validation_messages(es),
          "no validation messages", "%u, %u", nst_engine_validation_messages(e),
          nst_engine_validation_messages(es));
    nst_engine_free(&e);
    nst_engine_free(&es);
    nst_model_free(&id);
    nst_model_free(&small);
    return check_status();
}
