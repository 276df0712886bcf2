/*
 * YUV <-> RGB as affine maps of 0..255 values, for a matrix and range.
 * Shared by the frame shaders' host side and the C reference.
 */
#ifndef NST_COLOR_H
#define NST_COLOR_H

#include "nst.h"

/* rgb[i] = m[i][0]*Y + m[i][1]*U + m[i][2]*V + m[i][3] */
void nst_color_yuv_to_rgb(NstColorMatrix matrix, NstColorRange range, float m[3][4]);
/* yuv[i] = m[i][0]*R + m[i][1]*G + m[i][2]*B + m[i][3] */
void nst_color_rgb_to_yuv(NstColorMatrix matrix, NstColorRange range, float m[3][4]);

#endif
