#version 450
#extension GL_GOOGLE_include_directive : require
/*
 * Instance-norm statistics, first pass: workgroup (chunk, c4) reduces
 * up to CHUNK pixels of one channel texel to their mean and sum of squared
 * deviations (M2). Deviations from the chunk's own mean keep fp32 exact
 * enough for 1080p planes; norm_reduce.comp merges the chunks, by the
 * pixel count each writes. A tiled plan computes a tensor band by band:
 * each band's chunks, npix pixels in planes of `plane` texels, take the
 * slots from k0 of the n_chunks of the whole tensor.
 */
#include "common.glsl"

const int WG = 256;
layout(local_size_x = 256, local_size_y = 1, local_size_z = 1) in;

layout(set = 0, binding = 3) buffer Partials { vec4 part[]; };

layout(push_constant) uniform Push {
    int npix, c4, chunk, n_chunks;
    int plane, k0;
} pc;

shared vec4 red[WG];

vec4 reduce_sum(vec4 v)
{
    uint tid = gl_LocalInvocationID.x;
    red[tid] = v;
    barrier();
    for (uint s = WG / 2; s > 0; s >>= 1) {
        if (tid < s)
            red[tid] += red[tid + s];
        barrier();
    }
    vec4 r = red[0];
    barrier();
    return r;
}

void main()
{
    int k = int(gl_WorkGroupID.x), c = int(gl_WorkGroupID.y);
    int tid = int(gl_LocalInvocationID.x);
    int begin = k * pc.chunk, end = min(begin + pc.chunk, pc.npix);
    int base = c * pc.plane;

    vec4 s = vec4(0.0);
    for (int i = begin + tid; i < end; i += WG)
        s += texelFetch(src0, base + i);
    vec4 mean = reduce_sum(s) / float(end - begin);

    vec4 m2 = vec4(0.0);
    for (int i = begin + tid; i < end; i += WG) {
        vec4 d = texelFetch(src0, base + i) - mean;
        m2 += d * d;
    }
    m2 = reduce_sum(m2);
    if (tid == 0) {
        int i = 3 * (c * pc.n_chunks + pc.k0 + k);
        part[i] = mean;
        part[i + 1] = m2;
        part[i + 2] = vec4(float(end - begin));
    }
}
