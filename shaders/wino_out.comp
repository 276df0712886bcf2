#version 450
#extension GL_GOOGLE_include_directive : require
/*
 * Winograd output transform (see winograd.glsl): invocation (tile x, tile
 * y, channel texel) reads the 36 products of its tile and writes the 4x4
 * output pixels A^T M A (+ bias) that lie inside the tensor.
 */
#include "common.glsl"
#include "winograd.glsl"

layout(constant_id = 0) const int HAS_BIAS = 0;

layout(local_size_x = 8, local_size_y = 8, local_size_z = 1) in;

layout(push_constant) uniform Push {
    int w, h, c4;
    int tiles_x, tiles_y;   /* tiles_y: tile rows from ty0 (wino_in.comp) */
    int b_off;
    int ty0;
} pc;

void main()
{
    int tx = int(gl_GlobalInvocationID.x), ty = int(gl_GlobalInvocationID.y);
    int c = int(gl_GlobalInvocationID.z);
    if (tx >= pc.tiles_x || ty >= pc.tiles_y || c >= pc.c4)
        return;
    int tiles = pc.tiles_x * pc.tiles_y, tile = ty * pc.tiles_x + tx;

    vec4 t[24]; /* A^T applied down each column: 4 rows x 6 columns */
    for (int j = 0; j < 6; j++) {
        vec4 m[6];
        for (int r = 0; r < 6; r++)
            m[r] = texelFetch(src0, ((r * 6 + j) * pc.c4 + c) * tiles + tile);
        wino_at(m);
        for (int r = 0; r < 4; r++)
            t[r * 6 + j] = m[r];
    }
    vec4 b = HAS_BIAS != 0 ? texelFetch(src1, pc.b_off + c) : vec4(0.0);
    for (int r = 0; r < 4; r++) {
        int y = (pc.ty0 + ty) * WINO_T + r;
        vec4 m[6];
        for (int j = 0; j < 6; j++)
            m[j] = t[r * 6 + j];
        wino_at(m);
        for (int j = 0; j < 4; j++) {
            int x = tx * WINO_T + j;
            if (x < pc.w && y < pc.h)
                imageStore(dst, texel_index(c, y, x, pc.h, pc.w), m[j] + b);
        }
    }
}
