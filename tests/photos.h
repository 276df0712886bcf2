/*
 * Real photos and models for the tests: a photo of ../shared/media/photos
 * decoded and scaled by the ffmpeg that make built, a model of
 * build/models. Header-only; needs check.h and frames.h before it.
 */
#ifndef NST_TEST_PHOTOS_H
#define NST_TEST_PHOTOS_H

#include <stdio.h>
#include <stdlib.h>

static inline const char *env_or(const char *name, const char *fallback)
{
    const char *v = getenv(name);
    return v && *v ? v : fallback;
}

/* Decodes a photo to rgb24 at w x h with the ffmpeg that make built. */
static inline int load_photo(const char *photo, int w, int h, TestFrame *t)
{
    char cmd[1024];
    FILE *p;
    size_t need = (size_t)w * h * 3, got;

    snprintf(cmd, sizeof(cmd), "%s/ffmpeg -v error -nostdin -i '%s' -vf scale=%d:%d "
             "-f rawvideo -pix_fmt rgb24 -", env_or("NST_BUILD", "build"), photo, w, h);
    p = popen(cmd, "r");
    if (!p)
        return -1;
    tf_alloc(t, NST_PIX_RGB24, w, h, 0, 0);
    got = fread(t->f.data[0], 1, need, p);
    if (pclose(p) != 0 || got != need) {
        tf_free(t);
        return -1;
    }
    return 0;
}

/* The model build/models/STYLE.bin and the photo at w x h; on failure a
 * failed check named name says why, and nothing is left allocated. */
static inline int open_case(const char *name, const char *style, const char *photo,
                            int w, int h, NstModel **m, TestFrame *in)
{
    char path[512], err[256] = "";

    *m = NULL;
    snprintf(path, sizeof(path), "%s/models/%s.bin", env_or("NST_BUILD", "build"), style);
    if (nst_model_load_file(path, m, err, sizeof(err)) < 0) {
        check(0, name, "%s (run make models)", err);
        return -1;
    }
    snprintf(path, sizeof(path), "%s/media/photos/%s", env_or("NST_SHARED", "../shared"), photo);
    if (load_photo(path, w, h, in) < 0) {
        check(0, name, "cannot decode %s with the built ffmpeg", path);
        nst_model_free(m);
        return -1;
    }
    return 0;
}

/* Frames 0..n-1 of the clip vtest.avi, decoded and scaled by the built
 * ffmpeg, in format fmt. */
static inline int load_clip(NstPixelFormat fmt, int w, int h, int n, TestFrame *t)
{
    char cmd[1024];
    FILE *p;
    int ok = 1, got = 0;

    snprintf(cmd, sizeof(cmd), "%s/ffmpeg -v error -nostdin -i '%s/media/clips/vtest.avi' "
             "-frames:v %d -vf scale=%d:%d -f rawvideo -pix_fmt %s -",
             env_or("NST_BUILD", "build"), env_or("NST_SHARED", "../shared"), n, w, h,
             pix_names[fmt]);
    p = popen(cmd, "r");
    if (!p)
        return -1;
    for (; got < n && ok; got++) {
        tf_alloc(&t[got], fmt, w, h, 0, 0);
        for (int pl = 0; pl < t[got].n_planes && ok; pl++)
            for (int y = 0; y < t[got].rows[pl] && ok; y++)
                ok = fread(tf_row(&t[got], pl, y), 1, (size_t)t[got].row_bytes[pl], p) ==
                     (size_t)t[got].row_bytes[pl];
    }
    if (pclose(p) != 0 || !ok) {
        for (int i = 0; i < got; i++)
            tf_free(&t[i]);
        return -1;
    }
    return 0;
}

#endif
