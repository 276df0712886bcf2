/* YUV <-> RGB coefficients (ITU-R BT.601, BT.709, BT.2020 non-constant). */
#include "frame/color.h"

static void luma_weights(NstColorMatrix matrix, double *kr, double *kb)
{
    switch (matrix) {
    case NST_MATRIX_BT709:  *kr = 0.2126; *kb = 0.0722; break;
    case NST_MATRIX_BT2020: *kr = 0.2627; *kb = 0.0593; break;
    default:                *kr = 0.299;  *kb = 0.114;  break;
    }
}

/* Scale of Y and of U/V relative to 0..255, and the black level. */
static void range_scale(NstColorRange range, double *ys, double *cs, double *y0)
{
    if (range == NST_RANGE_FULL) {
        *ys = 1.0; *cs = 1.0; *y0 = 0.0;
    } else {
        *ys = 219.0 / 255.0; *cs = 224.0 / 255.0; *y0 = 16.0;
    }
}

void nst_color_rgb_to_yuv(NstColorMatrix matrix, NstColorRange range, float m[3][4])
{
    double kr, kb, kg, ys, cs, y0;
    double rgb2ypbpr[3][3];

    luma_weights(matrix, &kr, &kb);
    kg = 1.0 - kr - kb;
    range_scale(range, &ys, &cs, &y0);
    /* Y' and the colour differences Pb, Pr (-0.5..0.5) of R'G'B' 0..1 */
    rgb2ypbpr[0][0] = kr;  rgb2ypbpr[0][1] = kg;  rgb2ypbpr[0][2] = kb;
    rgb2ypbpr[1][0] = -kr / (2 * (1 - kb)); rgb2ypbpr[1][1] = -kg / (2 * (1 - kb));
    rgb2ypbpr[1][2] = 0.5;
    rgb2ypbpr[2][0] = 0.5; rgb2ypbpr[2][1] = -kg / (2 * (1 - kr));
    rgb2ypbpr[2][2] = -kb / (2 * (1 - kr));
    for (int i = 0; i < 3; i++) {
        double s = i ? cs : ys;
        for (int j = 0; j < 3; j++)
            m[i][j] = (float)(rgb2ypbpr[i][j] * s);
        m[i][3] = (float)(i ? 128.0 : y0);
    }
}

void nst_color_yuv_to_rgb(NstColorMatrix matrix, NstColorRange range, float m[3][4])
{
    double kr, kb, kg, ys, cs, y0;
    double a[3][3]; /* R'G'B' (0..1) from Y' (0..1), Pb, Pr */

    luma_weights(matrix, &kr, &kb);
    kg = 1.0 - kr - kb;
    range_scale(range, &ys, &cs, &y0);
    a[0][0] = 1; a[0][1] = 0;                          a[0][2] = 2 * (1 - kr);
    a[1][0] = 1; a[1][1] = -2 * kb * (1 - kb) / kg;    a[1][2] = -2 * kr * (1 - kr) / kg;
    a[2][0] = 1; a[2][1] = 2 * (1 - kb);               a[2][2] = 0;
    /* In 0..255 units: Y' = (Y - y0) / ys, Pb = (U - 128) / cs, ... */
    for (int i = 0; i < 3; i++) {
        m[i][0] = (float)(a[i][0] / ys);
        m[i][1] = (float)(a[i][1] / cs);
        m[i][2] = (float)(a[i][2] / cs);
        m[i][3] = (float)(-a[i][0] * y0 / ys - (a[i][1] + a[i][2]) * 128.0 / cs);
    }
}
