/* Winograd F(4x4, 3x3): where it applies, and U = G g G^T for each filter. */
#include <stdlib.h>
#include <string.h>

#include "net/winograd.h"

#define MIN_CHANNELS 16 /* below this the transforms cost more than they save */

int nst_wino_applies(const NstLayer *L)
{
    const char *env = getenv("NST_WINOGRAD");

    if (env && !strcmp(env, "0"))
        return 0;
    return L->op == NST_OP_CONV && L->kernel == 3 && L->stride == 1 &&
           L->in_ch >= MIN_CHANNELS && L->out_ch >= MIN_CHANNELS;
}

size_t nst_wino_texels(const NstLayer *L)
{
    return (size_t)NST_WINO_POS * ((L->out_ch + 3) / 4) * ((L->in_ch + 3) / 4) * 4;
}

/* The 6x3 matrix G of F(4, 3); in double so that U is exact to fp32. */
static const double G[6][3] = {
    {  1.0 / 4,  0.0,       0.0     },
    { -1.0 / 6, -1.0 / 6,  -1.0 / 6 },
    { -1.0 / 6,  1.0 / 6,  -1.0 / 6 },
    {  1.0 / 24, 1.0 / 12,  1.0 / 6 },
    {  1.0 / 24, -1.0 / 12, 1.0 / 6 },
    {  0.0,      0.0,       1.0     },
};

/* U for output channel o and input channel c: u[6][6] = G g G^T */
static void transform(const NstLayer *L, int o, int c, double u[6][6])
{
    double gt[6][3]; /* G g */

    for (int i = 0; i < 6; i++)
        for (int kx = 0; kx < 3; kx++) {
            double s = 0;
            for (int ky = 0; ky < 3; ky++)
                s += G[i][ky] * L->weight[((size_t)(ky * 3 + kx) * L->in_ch + c) * L->out_ch + o];
            gt[i][kx] = s;
        }
    for (int i = 0; i < 6; i++)
        for (int j = 0; j < 6; j++) {
            double s = 0;
            for (int kx = 0; kx < 3; kx++)
                s += gt[i][kx] * G[j][kx];
            u[i][j] = s;
        }
}

void nst_wino_pack(const NstLayer *L, int ocb, float *dst)
{
    int ci4 = (L->in_ch + 3) / 4, co4 = (L->out_ch + 3) / 4, n_og = co4 / ocb;
    size_t per_pos = (size_t)co4 * ci4 * 16;
    double u[6][6];

    memset(dst, 0, NST_WINO_POS * per_pos * sizeof(*dst));
    for (int o = 0; o < L->out_ch; o++)
        for (int c = 0; c < L->in_ch; c++) {
            int og = o / 4 / ocb, t = o / 4 % ocb, ic = c / 4;
            transform(L, o, c, u);
            for (int pos = 0; pos < NST_WINO_POS; pos++) {
                size_t texel = (((size_t)pos * n_og + og) * ci4 + ic) * ocb + t;
                dst[(texel * 4 + c % 4) * 4 + o % 4] = (float)u[pos / 6][pos % 6];
            }
        }
}
