#version 450
#extension GL_GOOGLE_include_directive : require
/*
 * Winograd products (see winograd.glsl): for each of the 36 positions,
 * M = U V over the input channels, a matrix product. Register-blocked as
 * conv.comp is: an invocation computes PX tiles for OCB output texels, so
 * each weight texel fetched serves PX tiles and each input texel OCB*4
 * output channels. U: texel w_off + ((pos * n_og + og) * in_c4 + ic) *
 * OCB*4 + t*4 + ci holds the 4 output channels of texel og*OCB+t for
 * input channel 4*ic+ci.
 */
#include "common.glsl"
#include "arith.glsl"

layout(constant_id = 0) const int OCB = 2;
layout(constant_id = 1) const int PX = 4;

layout(local_size_x = 64, local_size_y = 1, local_size_z = 1) in;

layout(push_constant) uniform Push {
    int tiles, in_c4, out_c4, w_off;
} pc;

void main()
{
    int tile0 = int(gl_GlobalInvocationID.x) * PX;
    int og = int(gl_GlobalInvocationID.y);
    int pos = int(gl_GlobalInvocationID.z);
    int n_og = pc.out_c4 / OCB;
    if (tile0 >= pc.tiles || og >= n_og)
        return;

    vec4 acc[OCB * PX];
    for (int i = 0; i < OCB * PX; i++)
        acc[i] = vec4(0.0);

    /* tiles past the end read the last one: in bounds, never stored */
    int src[PX];
    for (int p = 0; p < PX; p++)
        src[p] = pos * pc.in_c4 * pc.tiles + min(tile0 + p, pc.tiles - 1);
    int wb = pc.w_off + (pos * n_og + og) * pc.in_c4 * OCB * 4;
    for (int ic = 0; ic < pc.in_c4; ic++) {
        vec4 v[PX];
        for (int p = 0; p < PX; p++)
            v[p] = texelFetch(src0, src[p] + ic * pc.tiles);
        for (int t = 0; t < OCB; t++) {
            int w = wb + (ic * OCB + t) * 4;
            amat4 m = load_w4(w);
            for (int p = 0; p < PX; p++)
                acc[t * PX + p] += amul(m, v[p]);
        }
    }

    for (int t = 0; t < OCB; t++)
        for (int p = 0; p < PX; p++)
            if (tile0 + p < pc.tiles)
                imageStore(dst, (pos * pc.out_c4 + og * OCB + t) * pc.tiles + tile0 + p,
                           acc[t * PX + p]);
}
