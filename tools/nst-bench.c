/*
 * nst-bench: time the engine on frames of given sizes.
 *
 *   nst-bench MODEL.bin [WxH ...] [-n FRAMES] [-t TEMPORAL] [-s NETSIZE] [-p]
 *             [-f fp32|fp16|fp16a] [-d DEVICE]
 *
 * Prints one row per size: median milliseconds per frame after one warm-up
 * frame, the effective GFLOP/s from the model's MAC count per pixel, and
 * the device memory the engine holds for that size against the largest
 * activation of the network. -t and -s replace the memory columns: the
 * same frames through a second engine that smooths, or runs the network at
 * NETSIZE (WxH, or a scale such as 0.5). -p adds, per size, where one
 * frame's device time goes, layer by layer, from Vulkan timestamp queries.
 * -f forces the precision (default: the engine's choice): fp32, fp16
 * tensors, or fp16 tensors and fp16 multiplies in the convolutions.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "model/model.h"
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

/* Multiply-accumulates of the network for one w x h frame: in total, or
 * of layer `only` (>= 0); *largest gets the largest activation in bytes
 * (fp32). */
static double layer_macs(const NstModel *m, int w, int h, int only, double *largest)
{
    double macs = 0, big = 0;
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
            if (only < 0 || only == l)
                macs += (double)oh * ow * L->out_ch * L->in_ch * L->kernel * L->kernel;
        } else if (L->op == NST_OP_CONV_TRANSPOSE) {
            oh = ih * L->stride;
            ow = iw * L->stride;
            if (only < 0 || only == l)
                macs += (double)ih * iw * L->out_ch * L->in_ch * L->kernel * L->kernel;
        } else if (L->op == NST_OP_UPSAMPLE) {
            oh = ih * L->stride;
            ow = iw * L->stride;
        }
        if ((double)oh * ow * L->out_ch * 4 > big)
            big = (double)oh * ow * L->out_ch * 4;
        hs[l] = oh;
        ws[l] = ow;
    }
    free(hs);
    free(ws);
    if (largest)
        *largest = big;
    return macs;
}

static double model_macs(const NstModel *m, int w, int h)
{
    return layer_macs(m, w, h, -1, NULL);
}

/* "warp+norm", "input", "all", ...: the mechanisms, or 0 if unknown. */
static unsigned parse_mechanisms(const char *s)
{
    static const struct { const char *name; unsigned bits; } names[] = {
        { "warp", NST_TEMPORAL_WARP }, { "norm", NST_TEMPORAL_NORM },
        { "input", NST_TEMPORAL_INPUT }, { "all", NST_TEMPORAL_ALL },
    };
    unsigned bits = 0;

    while (*s) {
        size_t n = strcspn(s, "+"), k;
        for (k = 0; k < sizeof(names) / sizeof(names[0]); k++)
            if (strlen(names[k].name) == n && !strncmp(s, names[k].name, n))
                break;
        if (k == sizeof(names) / sizeof(names[0]))
            return 0;
        bits |= names[k].bits;
        s += n + (s[n] == '+');
    }
    return bits;
}

static const char *const op_names[] = {
    "?", "conv", "conv_transpose", "upsample", "instance_norm", "relu", "add", "output",
};

/* One frame with timestamps: device ms per layer, in network order. */
static int print_profile(NstEngine *e, const NstModel *m, NstFrame *f)
{
    NstProfileEntry *ent;
    double *ms, total = 0, frame_path = 0;
    int n, ret;

    ent = calloc(4096, sizeof(*ent));
    ms = calloc((size_t)m->n_layers, sizeof(*ms));
    if (!ent || !ms) {
        free(ent);
        free(ms);
        return NST_ERR_NOMEM;
    }
    if ((ret = nst_engine_set_profiling(e, 1)) < 0 ||
        (ret = nst_engine_process(e, f, 1.0f)) < 0 ||
        (ret = n = nst_engine_profile(e, ent, 4096)) < 0)
        goto end;
    n = n > 4096 ? 4096 : n;
    for (int i = 0; i < n; i++) {
        total += ent[i].ms;
        if (ent[i].layer >= 0 && ent[i].layer < m->n_layers)
            ms[ent[i].layer] += ent[i].ms;
        else
            frame_path += ent[i].ms;
    }
    printf("\n%dx%d, one frame on the device: %.1f ms in %d dispatches\n\n"
           "| layer | op | kernel | channels | ms | share | GFLOP/s |\n"
           "|---|---|---|---|---|---|---|\n", f->width, f->height, total, n);
    for (int l = 0; l < m->n_layers; l++) {
        const NstLayer *L = &m->layers[l];
        double macs = layer_macs(m, f->width, f->height, l, NULL);
        if (ms[l] <= 0)
            continue; /* fused into the layer before it */
        printf("| %d | %s | ", l, op_names[L->op <= NST_OP_OUTPUT ? L->op : 0]);
        if (macs > 0)
            printf("%dx%d s%d | %d->%d | %.1f | %.1f%% | %.1f |\n", L->kernel, L->kernel,
                   L->stride, L->in_ch, L->out_ch, ms[l], 100 * ms[l] / total,
                   2 * macs / (ms[l] * 1e6));
        else
            printf(" | %d | %.1f | %.1f%% | |\n", L->out_ch, ms[l], 100 * ms[l] / total);
    }
    printf("| | frame path (conversions, resizing, smoothing) | | | %.1f | %.1f%% | |\n",
           frame_path, 100 * frame_path / total);
    ret = nst_engine_set_profiling(e, 0);
end:
    free(ent);
    free(ms);
    return ret;
}

#define USAGE "usage: nst-bench MODEL.bin [WxH ...] [-n FRAMES] [-t TEMPORAL " \
              "[-m warp+norm+input|all]] [-s WxH|SCALE] [-p] [-f fp32|fp16|fp16a] [-d DEVICE]\n"

int main(int argc, char **argv)
{
    const char *model_path = NULL, *device = NULL;
    int sizes[16][2], n_sizes = 0, frames = 3, net_w = 0, net_h = 0;
    float temporal = 0.0f, net_scale = 0.0f;
    char variant[64] = "";
    int profile = 0;
    unsigned mechanisms = NST_TEMPORAL_ALL;
    const char *mech_name = "all";
    char err[512];
    NstModel *m = NULL;
    NstEngine *e = NULL, *et = NULL;
    NstEngineOptions opt = { 0 };
    int ret;

    for (int i = 1; i < argc; i++) {
        int w, h;
        if (!strcmp(argv[i], "-n") && i + 1 < argc)
            frames = atoi(argv[++i]);
        else if (!strcmp(argv[i], "-p"))
            profile = 1;
        else if (!strcmp(argv[i], "-f") && i + 1 < argc) {
            const char *v = argv[++i];
            opt.precision = !strcmp(v, "fp16") ? NST_PRECISION_FP16 :
                            !strcmp(v, "fp16a") ? NST_PRECISION_FP16_ARITH :
                            !strcmp(v, "fp32") ? NST_PRECISION_FP32 : -1;
        }
        else if (!strcmp(argv[i], "-t") && i + 1 < argc)
            temporal = (float)atof(argv[++i]);
        else if (!strcmp(argv[i], "-m") && i + 1 < argc) {
            mech_name = argv[++i];
            mechanisms = parse_mechanisms(mech_name);
        } else if (!strcmp(argv[i], "-d") && i + 1 < argc)
            device = argv[++i];
        else if (!strcmp(argv[i], "-s") && i + 1 < argc) {
            if (sscanf(argv[++i], "%dx%d", &net_w, &net_h) != 2)
                net_scale = (float)atof(argv[i]);
            if ((net_w < 1 || net_h < 1) && !(net_scale > 0.0f)) {
                fprintf(stderr, "nst-bench: -s %s: give WxH or a scale\n", argv[i]);
                return 2;
            }
        } else if (sscanf(argv[i], "%dx%d", &w, &h) == 2 && n_sizes < 16) {
            sizes[n_sizes][0] = w;
            sizes[n_sizes++][1] = h;
        } else if (!model_path)
            model_path = argv[i];
        else {
            fprintf(stderr, USAGE);
            return 2;
        }
    }
    if (!model_path || frames < 1 || !mechanisms || opt.precision < 0) {
        fprintf(stderr, USAGE);
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
    printf("device: %s; %s; engine created (pipelines warmed) in %.0f ms\n",
           nst_engine_device_name(e),
           nst_engine_precision(e) == NST_PRECISION_FP16_ARITH ? "fp16 tensors and multiplies" :
           nst_engine_precision(e) == NST_PRECISION_FP16 ? "fp16 tensors" : "fp32 tensors",
           now_ms() - t0);
    /* The smoothing's cost, or the network size's saving: a second engine
     * smooths or runs the network at that size, frames alternate between
     * the two so that both see the same machine load, and the difference
     * of the medians is reported. */
    if ((temporal != 0.0f || net_w || net_scale != 0.0f) &&
        ((ret = nst_engine_create(m, &opt, &et)) < 0 ||
         (ret = nst_engine_set_temporal(et, temporal)) < 0 ||
         (ret = nst_engine_set_temporal_mechanisms(et, mechanisms)) < 0 ||
         (ret = net_scale != 0.0f ? nst_engine_set_network_scale(et, net_scale)
                                  : nst_engine_set_network_size(et, net_w, net_h)) < 0)) {
        fprintf(stderr, "nst-bench: temporal %g, network size: %s\n", temporal,
                nst_strerror(ret));
        nst_engine_free(&et);
        nst_engine_free(&e);
        nst_model_free(&m);
        return 2;
    }
    if (temporal != 0.0f)
        snprintf(variant, sizeof(variant), "smoothed %.2f (%s)", temporal, mech_name);
    if (net_w)
        snprintf(variant + strlen(variant), sizeof(variant) - strlen(variant),
                 "%snetwork at %dx%d", *variant ? ", " : "", net_w, net_h);
    else if (net_scale != 0.0f)
        snprintf(variant + strlen(variant), sizeof(variant) - strlen(variant),
                 "%snetwork at scale %g", *variant ? ", " : "", net_scale);
    if (et)
        printf("| size | ms per frame (median of %d) | GFLOP/s | %s, ms | "
               "difference |\n|---|---|---|---|---|\n", frames, variant);
    else
        printf("| size | ms per frame (median of %d) | GFLOP/s | device MiB | "
               "x largest activation |\n|---|---|---|---|---|\n", frames);
    for (int s = 0; s < n_sizes && ret >= 0; s++) {
        int w = sizes[s][0], h = sizes[s][1];
        NstFrame f = { .format = NST_PIX_RGB24, .width = w, .height = h,
                       .linesize = { 3 * w } };
        double *ms = calloc((size_t)frames, sizeof(*ms));
        double *mt = calloc((size_t)frames, sizeof(*mt));
        f.data[0] = malloc((size_t)3 * w * h);
        if (!ms || !mt || !f.data[0]) {
            free(ms);
            free(mt);
            free(f.data[0]);
            ret = NST_ERR_NOMEM;
            break;
        }
        for (size_t i = 0; i < (size_t)3 * w * h; i++)
            f.data[0][i] = (uint8_t)(i * 2654435761u >> 24);
        ret = nst_engine_process(e, &f, 1.0f); /* plans and allocates */
        if (et && ret >= 0)
            ret = nst_engine_process(et, &f, 1.0f);
        for (int i = 0; i < frames && ret >= 0; i++) {
            double t = now_ms();
            ret = nst_engine_process(e, &f, 1.0f);
            ms[i] = now_ms() - t;
            if (et && ret >= 0) {
                t = now_ms();
                ret = nst_engine_process(et, &f, 1.0f);
                mt[i] = now_ms() - t;
            }
        }
        if (ret >= 0) {
            double med, medt;
            qsort(ms, (size_t)frames, sizeof(*ms), cmp_double);
            qsort(mt, (size_t)frames, sizeof(*mt), cmp_double);
            med = ms[frames / 2];
            medt = mt[frames / 2];
            printf("| %dx%d | %.1f | %.1f |", w, h, med, 2 * model_macs(m, w, h) / (med * 1e6));
            if (!et) {
                uint64_t held;
                double largest;
                layer_macs(m, w, h, -1, &largest);
                nst_engine_memory(e, &held, NULL);
                printf(" %.1f | %.2f |", held / 1048576.0, held / largest);
            }
            if (et)
                printf(" %.1f | %+.1f ms (%+.1f%%) |", medt, medt - med, 100 * (medt - med) / med);
            printf("\n");
            /* the smoothed engine where there is one: its frame path holds the smoothing */
            if (profile && (ret = print_profile(et ? et : e, m, &f)) < 0)
                fprintf(stderr, "nst-bench: profiling: %s\n", nst_strerror(ret));
            if (profile && s + 1 < n_sizes)
                printf("\n| size | ms per frame (median of %d) | GFLOP/s | device MiB | "
                       "x largest activation |\n|---|---|---|---|---|\n", frames);
        } else {
            fprintf(stderr, "nst-bench: %dx%d: %s\n", w, h, nst_strerror(ret));
        }
        free(ms);
        free(mt);
        free(f.data[0]);
    }
    nst_engine_free(&et);
    nst_engine_free(&e);
    nst_model_free(&m);
    return ret < 0;
}
