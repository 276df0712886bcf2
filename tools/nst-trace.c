/*
 * nst-trace: what the engine does to frames, as text to compare across
 * a change that must not alter it (a restructuring, a new compiler).
 *
 *   nst-trace MODEL.bin WxH FRAME.rgb [FRAME.rgb ...]
 *
 * The frames are raw rgb24 of WxH. For each precision the device offers
 * (fp32, fp16) and each way through the frame path (the network at the
 * frame's size; temporal smoothing over the frames in turn; the network
 * at half the size; tiled; preserve_color), it prints the dispatches of
 * the first frame (shader and model layer, from nst_engine_profile) and
 * a hash of every restyled frame. tools/trace.sh makes the frames from
 * the test photos; two runs' outputs are identical or the change altered
 * what the engine computes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nst.h"

typedef struct Way {
    const char *name;
    float temporal;
    float scale;
    int tiling, preserve;
} Way;

static const Way ways[] = {
    { "plain",    0.0f, 1.0f, -1, 0 },
    { "temporal", 0.8f, 1.0f, -1, 0 },
    { "scale0.5", 0.8f, 0.5f, -1, 0 },
    { "tiled",    0.0f, 1.0f, 32, 0 },
    { "preserve", 0.0f, 1.0f, -1, 1 },
};

static uint64_t fnv1a(const uint8_t *p, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ull;

    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 0x100000001b3ull;
    return h;
}

static int read_frame(const char *path, uint8_t *dst, size_t size)
{
    FILE *f = fopen(path, "rb");
    size_t got;

    if (!f)
        return -1;
    got = fread(dst, 1, size, f);
    fclose(f);
    return got == size ? 0 : -1;
}

static int trace_way(const NstModel *m, int precision, const Way *w, int width,
                     int height, uint8_t *const *frames, int n_frames, uint8_t *work)
{
    NstEngineOptions o = { .precision = precision };
    NstEngine *e = NULL;
    NstProfileEntry *ent = NULL;
    size_t size = (size_t)width * height * 3;
    int ret, n;

    if ((ret = nst_engine_create(m, &o, &e)) < 0) {
        if (ret == NST_ERR_UNSUPPORTED) {
            printf("precision %d: not on this device\n", precision);
            return 0;
        }
        return ret;
    }
    if ((ret = nst_engine_set_temporal(e, w->temporal)) < 0 ||
        (w->scale < 1.0f && (ret = nst_engine_set_network_scale(e, w->scale)) < 0) ||
        (w->tiling >= 0 && (ret = nst_engine_set_tiling(e, w->tiling)) < 0) ||
        (ret = nst_engine_set_preserve_color(e, w->preserve)) < 0 ||
        (ret = nst_engine_set_profiling(e, 1)) < 0)
        goto end;
    printf("== precision %d, %s, %dx%d\n", nst_engine_precision(e), w->name, width, height);
    for (int i = 0; i < n_frames; i++) {
        NstFrame f = { .format = NST_PIX_RGB24, .width = width, .height = height,
                       .data = { work }, .linesize = { width * 3 } };
        memcpy(work, frames[i], size);
        if ((ret = nst_engine_process(e, &f, 1.0f)) < 0)
            goto end;
        printf("frame %d: %016llx\n", i, (unsigned long long)fnv1a(work, size));
        if (i)
            continue;
        ent = calloc(8192, sizeof(*ent));
        if (!ent) {
            ret = NST_ERR_NOMEM;
            goto end;
        }
        if ((ret = n = nst_engine_profile(e, ent, 8192)) < 0)
            goto end;
        printf("dispatches: %d\n", n);
        for (int k = 0; k < n && k < 8192; k++)
            printf("  %s %d\n", ent[k].name, ent[k].layer);
        if ((ret = nst_engine_set_profiling(e, 0)) < 0)
            goto end;
    }
    ret = 0;
end:
    free(ent);
    nst_engine_free(&e);
    return ret;
}

int main(int argc, char **argv)
{
    static const int precisions[] = { NST_PRECISION_FP32, NST_PRECISION_FP16 };
    char err[256] = "";
    NstModel *m = NULL;
    uint8_t **frames = NULL, *work = NULL;
    int width, height, n_frames = argc - 3, ret = 1;
    size_t size;

    if (argc < 4 || sscanf(argv[2], "%dx%d", &width, &height) != 2 || width < 1 ||
        height < 1 || width > 8192 || height > 8192) {
        fprintf(stderr, "usage: nst-trace MODEL.bin WxH FRAME.rgb [FRAME.rgb ...]\n");
        return 2;
    }
    if (nst_model_load_file(argv[1], &m, err, sizeof(err)) < 0) {
        fprintf(stderr, "nst-trace: %s\n", err);
        return 1;
    }
    size = (size_t)width * height * 3;
    frames = calloc((size_t)n_frames, sizeof(*frames));
    work = malloc(size);
    if (!frames || !work)
        goto end;
    for (int i = 0; i < n_frames; i++)
        if (!(frames[i] = malloc(size)) || read_frame(argv[3 + i], frames[i], size) < 0) {
            fprintf(stderr, "nst-trace: cannot read %zu bytes from %s\n", size, argv[3 + i]);
            goto end;
        }
    for (size_t p = 0; p < sizeof(precisions) / sizeof(*precisions); p++)
        for (size_t w = 0; w < sizeof(ways) / sizeof(*ways); w++)
            if ((ret = trace_way(m, precisions[p], &ways[w], width, height, frames,
                                 n_frames, work)) < 0) {
                fprintf(stderr, "nst-trace: %s: %s\n", ways[w].name, nst_strerror(ret));
                ret = 1;
                goto end;
            }
    ret = 0;
end:
    for (int i = 0; frames && i < n_frames; i++)
        free(frames[i]);
    free(frames);
    free(work);
    nst_model_free(&m);
    return ret;
}
