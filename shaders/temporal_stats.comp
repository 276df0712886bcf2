#version 450
#extension GL_GOOGLE_include_directive : require
/*
 * The frame's temporal statistics, in one workgroup, before the network:
 *
 *   cut    the mean absolute difference of the reduced luma of this frame
 *          and the previous one, in levels; above pc.cut the previous
 *          frame is forgotten. It sets the gate of the instance-norm
 *          statistics' smoothing (norm_reduce.comp), and the later passes
 *          compare it with the same threshold, so no round trip to the
 *          host is needed.
 *   sigma  the input's noise, in levels: each scale x scale block's mean
 *          |luma - previous luma moved by the block's flow| is the
 *          temporal difference the flow does not explain; a quarter of the
 *          blocks (flat and still ones: noise alone) are below the lower
 *          quartile q of these, and for Gaussian noise of deviation s on
 *          both frames a block's mean is about 1.13 s, its lower quartile
 *          about s (hence sigma = q), clamped to sigma_min..sigma_max.
 */
#include "common.glsl"
#include "temporal.glsl"

layout(set = 0, binding = 4) buffer Factors { vec4 ab[]; };

layout(local_size_x = 256, local_size_y = 1, local_size_z = 1) in;

layout(push_constant) uniform Push {
    int n, off_s, off_sp, off_stat;
    int gate_off, valid;
    float norm_k, cut;  /* the gate when the frame follows the previous one */
    int w, h, sw, sh, scale, off_l, off_lp, off_f;
    float sigma_min, sigma_max;
} pc;

#define BINS 256
#define BIN  0.0625     /* levels a bin: up to 16 levels */

shared float part[256];
shared uint hist[BINS];

void main()
{
    TGeom g = TGeom(pc.w, pc.h, pc.sw, pc.sh, pc.scale, pc.off_l, pc.off_lp, pc.off_f);
    uint i = gl_LocalInvocationID.x;
    float s = 0.0;
    if (pc.n == 0)
        return; /* warm-up */
    hist[i] = 0u;
    barrier();
    for (int k = int(i); k < pc.n; k += 256) {
        s += abs(st.v[pc.off_s + k] - st.v[pc.off_sp + k]);
        int bx = k % pc.sw, by = k / pc.sw;
        vec2 f = vec2(st.v[pc.off_f + 2 * k], st.v[pc.off_f + 2 * k + 1]) * float(pc.scale);
        float r = 0.0, m = 0.0;
        for (int dy = 0; dy < pc.scale; dy++)
            for (int dx = 0; dx < pc.scale; dx++) {
                int x = bx * pc.scale + dx, y = by * pc.scale + dy;
                if (x >= pc.w || y >= pc.h)
                    continue;
                r += abs(t_prev_luma(g, vec2(x, y) + f) - st.v[pc.off_l + y * pc.w + x]);
                m += 1.0;
            }
        atomicAdd(hist[min(uint(r / m / BIN), uint(BINS - 1))], 1u);
    }
    part[i] = s;
    barrier();
    for (uint half_n = 128u; half_n > 0u; half_n >>= 1) {
        if (i < half_n)
            part[i] += part[i + half_n];
        barrier();
    }
    if (i == 0u) {
        float stat = part[0] / float(pc.n);
        uint want = uint(pc.n + 3) / 4u, seen = 0u;
        int b = 0;
        for (; b < BINS - 1; b++) {
            seen += hist[b];
            if (seen >= want)
                break;
        }
        st.v[pc.off_stat] = stat;
        st.v[pc.off_stat + 1] = clamp((float(b) + 0.5) * BIN, pc.sigma_min, pc.sigma_max);
        ab[pc.gate_off] = vec4(pc.valid != 0 && stat <= pc.cut ? pc.norm_k : 0.0);
    }
}
