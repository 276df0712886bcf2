/*
 * nst-bench: time the engine on frames of given sizes.
 *
 *   nst-bench MODEL.bin [WxH ...] [-n FRAMES] [-t TEMPORAL] [-d DEVICE]
 *
 * Prints one row per size: median milliseconds per frame after one warm-up
 * frame, and the effective GFLOP/s from the model's MAC count per pixel.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "model.h"
#include "nst.h"

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Multiply-accumulates of the network for one w x h frame. */
static double model_macs(const NstModel *m, int w, int h)
{
    double macs = 0;
    int *hs = calloc((size_t)m->n_layers, sizeof(int));
    int *ws = calloc((size_t)m->n_layers, sizeof(int));

    for (int l = 0; hs && ws && l < m->n_layers; l++) {
        const NstLayer *L = &m->layers[l];
        int ih = L->input[0] < 0 ? h : hs[L->input[0]];
        int iw = L->input[0] < 0 ? w : ws[L->input[0]];
        int oh = ih, ow = iw;
        if (L->op == NST_OP_CONV) {
            oh = (ih + L->stride - 1) / L->stride;
            ow = (iw + L->stride - 1) / L->stride;
            macs += (double)oh * ow * L->out_ch * L->in_ch * L->kernel * L->kernel;
        } else if (L->op == NST_OP_CONV_TRANSPOSE) {
            oh = ih * L->stride;
            ow = iw * L->stride;
            macs += (double)ih * iw * L->out_ch * L->in_ch * L->kernel * L->kernel;
        } else if (L->op == NST_OP_UPSAMPLE) {
            oh = ih * L->stride;
            ow = iw * L->stride;
        }
        hs[l] = oh;
        ws[l] = ow;
    }
    free(hs);
    free(ws);
    return macs;
}

int main(int argc, char **argv)
{
    const char *model_path = NULL, *device = NULL;
    int sizes[16][2], n_sizes = 0, frames = 3;
    float temporal = 0.0f;
    char err[512];
    NstModel *m = NULL;
    NstEngine *e = NULL;
    NstEngineOptions opt = { 0 };
    int ret;

    for (int i = 1; i < argc; i++) {
        int w, h;
        if (!strcmp(argv[i], "-n") && i + 1 < argc)
            frames = atoi(argv[++i]);
        else if (!strcmp(argv[i], "-t") && i + 1 < argc)
            temporal = (float)atof(argv[++i]);
        else if (!strcmp(argv[i], "-d") && i + 1 < argc)
            device = argv[++i];
        else if (sscanf(argv[i], "%dx%d", &w, &h) == 2 && n_sizes < 16) {
            sizes[n_sizes][0] = w;
            sizes[n_sizes++][1] = h;
        } else if (!model_path)
            model_path = argv[i];
        else {
            fprintf(stderr, "usage: nst-bench MODEL.bin [WxH ...] [-n FRAMES] [-t TEMPORAL] [-d DEVICE]\n");
            return 2;
        }
    }
    if (!model_path || frames < 1) {
        fprintf(stderr, "usage: nst-bench MODEL.bin [WxH ...] [-n FRAMES] [-t TEMPORAL] [-d DEVICE]\n");
        return 2;
    }
    if (!n_sizes) {
        sizes[0][0] = 640;
        sizes[0][1] = 360;
        n_sizes = 1;
    }
    if ((ret = nst_model_load_file(model_path, &m, err, sizeof(err))) < 0) {
        fprintf(stderr, "nst-bench: %s\n", err);
        return 1;
    }
    opt.device = device;
    double t0 = now_ms();
    if ((ret = nst_engine_create(m, &opt, &e)) < 0) {
        fprintf(stderr, "nst-bench: cannot create the engine: %s\n", nst_strerror(ret));
        nst_model_free(&m);
        return 1;
    }
    printf("device: %s; engine created (pipelines warmed) in %.0f ms\n",
           nst_engine_device_name(e), now_ms() - t0);
    if ((ret = nst_engine_set_temporal(e, temporal)) < 0) {
        fprintf(stderr, "nst-bench: temporal %g: %s\n", temporal, nst_strerror(ret));
        nst_engine_free(&e);
        nst_model_free(&m);
        return 2;
    }
    if (temporal > 0.0f)
        printf("temporal smoothing %.2f\n", temporal);
    printf("| size | ms per frame (median of %d) | GFLOP/s |\n|---|---|---|\n", frames);
    for (int s = 0; s < n_sizes && ret >= 0; s++) {
        int w = sizes[s][0], h = sizes[s][1];
        NstFrame f = { .format = NST_PIX_RGB24, .width = w, .height = h,
                       .linesize = { 3 * w } };
        double *ms = calloc((size_t)frames, sizeof(*ms));
        f.data[0] = malloc((size_t)3 * w * h);
        if (!ms || !f.data[0]) {
            free(ms);
            free(f.data[0]);
            ret = NST_ERR_NOMEM;
            break;
        }
        for (size_t i = 0; i < (size_t)3 * w * h; i++)
            f.data[0][i] = (uint8_t)(i * 2654435761u >> 24);
        ret = nst_engine_process(e, &f, 1.0f); /* plans and allocates */
        for (int i = 0; i < frames && ret >= 0; i++) {
            double t = now_ms();
            ret = nst_engine_process(e, &f, 1.0f);
            ms[i] = now_ms() - t;
        }
        if (ret >= 0) {
            qsort(ms, (size_t)frames, sizeof(*ms), cmp_double);
            printf("| %dx%d | %.1f | %.1f |\n", w, h, ms[frames / 2],
                   2 * model_macs(m, w, h) / (ms[frames / 2] * 1e6));
        } else {
            fprintf(stderr, "nst-bench: %dx%d: %s\n", w, h, nst_strerror(ret));
        }
        free(ms);
        free(f.data[0]);
    }
    nst_engine_free(&e);
    nst_model_free(&m);
    return ret < 0;
}
