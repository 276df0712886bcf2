#version 450
#extension GL_GOOGLE_include_directive : require
/*
 * Winograd input transform (see winograd.glsl): invocation (tile x, tile
 * y, channel texel) reads its 6x6 input tile, padded by one pixel with
 * zeros or mirrored, and writes the 36 texels of B^T d B.
 */
#include "common.glsl"
#include "winograd.glsl"

layout(constant_id = 0) const int REFLECT = 0;
layout(constant_id = 1) const int NORM_IN = 0;
#include "norm_in.glsl"

layout(local_size_x = 8, local_size_y = 8, local_size_z = 1) in;

layout(push_constant) uniform Push {
    int w, h, c4;
    int tiles_x, tiles_y;   /* tiles_y: tile rows from ty0, a band of them
                             * in a tiled plan (engine/net/tiling.c) */
    int ab_off;     /* of the deferred norm's factors */
    int ty0;
} pc;

/* Source index of coordinate i in 0..n-1, or -1 for a zero. Mirroring
 * reaches only one pixel out for the outputs that exist; partial tiles
 * read further, and are clamped there to stay in the tensor. */
int source(int i, int n)
{
    if (REFLECT != 0) {
        i = i < 0 ? -i : i >= n ? 2 * n - 2 - i : i;
        return clamp(i, 0, n - 1);
    }
    return i >= 0 && i < n ? i : -1;
}

void main()
{
    int tx = int(gl_GlobalInvocationID.x), ty = int(gl_GlobalInvocationID.y);
    int c = int(gl_GlobalInvocationID.z);
    if (tx >= pc.tiles_x || ty >= pc.tiles_y || c >= pc.c4)
        return;
    int x0 = tx * WINO_T - 1, y0 = (pc.ty0 + ty) * WINO_T - 1;
    Norm nf = norm_of(pc.ab_off, c);
    int ix[6];
    for (int j = 0; j < 6; j++)
        ix[j] = source(x0 + j, pc.w);

    vec4 t[36]; /* B^T applied along x, row by row */
    for (int r = 0; r < 6; r++) {
        int iy = source(y0 + r, pc.h);
        vec4 d[6];
        for (int j = 0; j < 6; j++)
            d[j] = iy >= 0 && ix[j] >= 0
                   ? norm_in(texelFetch(src0, texel_index(c, iy, ix[j], pc.h, pc.w)), nf)
                   : vec4(0.0);
        wino_bt(d);
        for (int j = 0; j < 6; j++)
            t[r * 6 + j] = d[j];
    }
    int tiles = pc.tiles_x * pc.tiles_y, tile = ty * pc.tiles_x + tx;
    for (int j = 0; j < 6; j++) {
        vec4 d[6];
        for (int r = 0; r < 6; r++)
            d[r] = t[r * 6 + j];
        wino_bt(d);
        for (int r = 0; r < 6; r++)
            imageStore(dst, ((r * 6 + j) * pc.c4 + c) * tiles + tile, d[r]);
    }
}
