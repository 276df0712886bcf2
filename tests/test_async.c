/*
 * The pipelined path (nst_engine_submit / nst_engine_receive, engine/
 * async.c) against nst_engine_process on real frames of a clip: the same
 * pixels, bit for bit, in the same order, with temporal smoothing off and
 * on, across a size change, a frame at strength 0 and a frame refused
 * mid-stream; the frames held at the end come back; the pipeline's bounds
 * (NST_ERR_AGAIN, no synchronous frame while some are pending); and the
 * upload in a submission of its own (NST_TRANSFER=1), whose semaphore and
 * barriers run under the validation layer when NST_VALIDATION=1.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "frames.h"
#include "photos.h"

#define N 6 /* frames of the clip */

static NstEngine *engine(const NstModel *m, float temporal)
{
    NstEngine *e = NULL;
    int ret = nst_engine_create(m, NULL, &e);

    if (ret < 0) {
        check(0, "engine", "%s", nst_strerror(ret));
        return NULL;
    }
    nst_engine_set_temporal(e, temporal);
    return e;
}

/* Runs in[] through one engine synchronously and through another
 * pipelined, with strength[i] per frame, and compares. Frame `bad`
 * (or -1) is submitted with a width of 0, refused; the pipelined run
 * must go on around it. */
static void compare(const char *what, const NstModel *m, float temporal,
                    TestFrame *in, int n, const float *strength, int bad)
{
    NstEngine *se = engine(m, temporal), *pe = engine(m, temporal);
    TestFrame sync[N], pipe[N];
    NstFrame *back[N], *got;
    int nback = 0, ret = 0, order = 1, worst = 0, refused = 0, r;
    char name[160];

    if (!se || !pe) {
        nst_engine_free(&se);
        nst_engine_free(&pe);
        return;
    }
    for (int i = 0; i < n; i++) {
        tf_copy(&sync[i], &in[i], 0, 0);
        tf_copy(&pipe[i], &in[i], 3, i & 1); /* padded and bottom-up rows too */
        if (i != bad)
            ret |= nst_engine_process(se, &sync[i].f, strength[i]);
    }
    for (int i = 0; i < n; i++) {
        if (i == bad) {
            NstFrame broken = pipe[i].f;
            broken.width = 0;
            refused = nst_engine_submit(pe, &broken, strength[i]) == NST_ERR_INVALID;
            continue;
        }
        if ((r = nst_engine_submit(pe, &pipe[i].f, strength[i])) < 0)
            ret |= r;
        if (nst_engine_pending(pe) == NST_ENGINE_DEPTH) {
            ret |= nst_engine_receive(pe, &got);
            back[nback++] = got;
        }
    }
    /* the end of the stream: what is held comes back */
    while ((r = nst_engine_receive(pe, &got)) == NST_OK)
        back[nback++] = got;
    for (int i = 0, k = 0; i < n; i++) {
        if (i == bad)
            continue;
        order &= k < nback && back[k++] == &pipe[i].f;
        int d = tf_max_diff(&sync[i], &pipe[i]);
        worst = d > worst ? d : worst;
    }
    snprintf(name, sizeof(name), "pipelined = synchronous: %s", what);
    check(ret == 0 && r == NST_ERR_AGAIN && order && nback == n - (bad >= 0) &&
          worst == 0 && (bad < 0 || refused),
          name, "ret %d, last receive %d, %d frames back of %d, order %s, max diff %d%s",
          ret, r, nback, n - (bad >= 0), order ? "kept" : "broken", worst,
          bad >= 0 && !refused ? ", the bad frame was not refused" : "");
    if (getenv("NST_VALIDATION") && *getenv("NST_VALIDATION") == '1') {
        unsigned v = nst_engine_validation_messages(pe);
        snprintf(name, sizeof(name), "no validation messages: %s", what);
        check(v == 0, name, "%u message(s)", v);
    }
    for (int i = 0; i < n; i++) {
        tf_free(&sync[i]);
        tf_free(&pipe[i]);
    }
    nst_engine_free(&se);
    nst_engine_free(&pe);
}

/* The pipeline's bounds, and an engine freed with frames still pending. */
static void bounds(const NstModel *m, TestFrame *in)
{
    NstEngine *e = engine(m, 0.5f);
    TestFrame f[3];
    NstFrame *got = (NstFrame *)1;
    int again, sync, empty, pending;

    if (!e)
        return;
    for (int i = 0; i < 3; i++)
        tf_copy(&f[i], &in[i], 0, 0);
    empty = nst_engine_receive(e, &got) == NST_ERR_AGAIN && !got;
    nst_engine_submit(e, &f[0].f, 1.0f);
    nst_engine_submit(e, &f[1].f, 1.0f);
    again = nst_engine_submit(e, &f[2].f, 1.0f);
    sync = nst_engine_process(e, &f[2].f, 1.0f);
    pending = nst_engine_pending(e);
    check(empty && again == NST_ERR_AGAIN && sync == NST_ERR_INVALID && pending == 2,
          "pipeline bounds", "empty receive %s, third submit %d, process %d, %d pending",
          empty ? "ok" : "wrong", again, sync, pending);
    /* frees with two frames on the device: the sanitizers see no leak */
    nst_engine_free(&e);
    check(e == NULL, "free with frames pending", "engine not freed");
    for (int i = 0; i < 3; i++)
        tf_free(&f[i]);
}

/* Profiling still times every frame when pipelined. */
static void profiled(const NstModel *m, TestFrame *in)
{
    NstEngine *e = engine(m, 0.0f);
    NstProfileEntry ent[8];
    TestFrame f[2];
    NstFrame *got;
    int ret, n;

    if (!e)
        return;
    tf_copy(&f[0], &in[0], 0, 0);
    tf_copy(&f[1], &in[1], 0, 0);
    ret = nst_engine_set_profiling(e, 1);
    if (ret >= 0)
        ret = nst_engine_submit(e, &f[0].f, 1.0f);
    if (ret >= 0)
        ret = nst_engine_submit(e, &f[1].f, 1.0f);
    n = nst_engine_profile(e, ent, 8); /* the first frame's, read before the second ran */
    while (ret >= 0 && nst_engine_receive(e, &got) == NST_OK)
        ;
    check(ret >= 0 && n > 0 && nst_engine_profile(e, ent, 8) == n, "pipelined profiling",
          "ret %d, %d entries", ret, n);
    nst_engine_free(&e);
    tf_free(&f[0]);
    tf_free(&f[1]);
}

int main(void)
{
    char path[512], err[256] = "";
    NstModel *m = NULL;
    TestFrame rgb[N], yuv[N], mixed[N];
    const float full[N] = { 1, 1, 1, 1, 1, 1 };
    const float varied[N] = { 1, 0.7f, 0, 1, 1, 0.4f };

    snprintf(path, sizeof(path), "%s/models/udnie.bin", env_or("NST_BUILD", "build"));
    if (nst_model_load_file(path, &m, err, sizeof(err)) < 0) {
        check(0, "model", "%s (run make models)", err);
        return check_status();
    }
    if (load_clip(NST_PIX_RGB24, 96, 72, N, rgb) < 0) {
        check(0, "clip", "cannot decode vtest.avi with the built ffmpeg");
        nst_model_free(&m);
        return check_status();
    }
    if (load_clip(NST_PIX_YUV420P, 81, 47, N, yuv) < 0) {
        check(0, "clip", "cannot decode vtest.avi with the built ffmpeg");
        for (int i = 0; i < N; i++)
            tf_free(&rgb[i]);
        nst_model_free(&m);
        return check_status();
    }
    /* a size and format change mid-stream: the plan is replaced while a
     * frame of the old one is still on the device */
    for (int i = 0; i < N; i++)
        tf_copy(&mixed[i], i < 3 ? &rgb[i] : &yuv[i], 0, 0);

    compare("rgb24, per frame", m, 0.0f, rgb, N, full, -1);
    compare("rgb24, temporal 0.5", m, 0.5f, rgb, N, full, -1);
    compare("yuv420p 81x47, temporal 0.8, strengths 1 .7 0 1 1 .4", m, 0.8f, yuv, N, varied, -1);
    compare("size and format change, temporal 0.5", m, 0.5f, mixed, N, full, -1);
    compare("a frame refused mid-stream, temporal 0.5", m, 0.5f, rgb, N, full, 3);
    /* the upload in a submission of its own, handed over by a semaphore */
    setenv("NST_TRANSFER", "1", 1);
    compare("two submissions (NST_TRANSFER=1), temporal 0.5", m, 0.5f, rgb, N, varied, -1);
    compare("two submissions (NST_TRANSFER=1), size change", m, 0.0f, mixed, N, full, -1);
    unsetenv("NST_TRANSFER");
    bounds(m, rgb);
    profiled(m, rgb);

    for (int i = 0; i < N; i++) {
        tf_free(&rgb[i]);
        tf_free(&yuv[i]);
        tf_free(&mixed[i]);
    }
    nst_model_free(&m);
    return check_status();
}
