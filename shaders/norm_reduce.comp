#version 450
#extension GL_GOOGLE_include_directive : require
/*
 * Instance-norm statistics, second pass: merges the chunks of each channel
 * texel (Chan et al.'s pairwise update) and folds mean, variance, scale and
 * shift into y = a * x + b, written as two texels per channel texel.
 *
 * Temporal smoothing of the statistics (engine/frame/temporal.h): the factors
 * buffer also holds, per instance norm, the mean and variance this layer
 * used on the previous frame, and a gate k that temporal_cut.comp sets
 * (0: no previous frame, a scene cut, smoothing off). The statistics used
 * are mix(this frame's, the previous ones, k), and are kept for the next
 * frame, so that colours do not pulse with what moves in the frame.
 */
#include "common.glsl"

layout(local_size_x = 64, local_size_y = 1, local_size_z = 1) in;

layout(set = 0, binding = 3) readonly buffer Partials { vec4 part[]; };
layout(set = 0, binding = 4) buffer Factors { vec4 ab[]; };

layout(push_constant) uniform Push {
    int n_chunks, c4;
    int scale_off, shift_off;
    float eps;
    int gate_off, hist_off; /* texel of k, first texel of this layer's history */
    int smoothed;           /* this layer's statistics are smoothed */
    int ab_off;             /* where its factors go */
} pc;

void main()
{
    int c = int(gl_GlobalInvocationID.x);
    if (c >= pc.c4)
        return;
    float n = 0.0;
    vec4 mean = vec4(0.0), m2 = vec4(0.0);
    for (int k = 0; k < pc.n_chunks; k++) {
        int i = 3 * (c * pc.n_chunks + k);
        vec4 mk = part[i], m2k = part[i + 1];
        float nk = part[i + 2].x;
        float nn = n + nk;
        vec4 d = mk - mean;
        mean += d * (nk / nn);
        m2 += m2k + d * d * (n * nk / nn);
        n = nn;
    }
    vec4 var = m2 / n;
    float k = pc.smoothed != 0 ? ab[pc.gate_off].x : 0.0;
    if (k > 0.0) {
        mean = mix(mean, ab[pc.hist_off + 2 * c], k);
        var = mix(var, ab[pc.hist_off + 2 * c + 1], k);
    }
    ab[pc.hist_off + 2 * c] = mean;
    ab[pc.hist_off + 2 * c + 1] = var;
    vec4 a = texelFetch(src1, pc.scale_off + c) * inversesqrt(var + pc.eps);
    ab[pc.ab_off + 2 * c] = a;
    ab[pc.ab_off + 2 * c + 1] = texelFetch(src1, pc.shift_off + c) - mean * a;
}
