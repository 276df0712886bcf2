#version 450
#extension GL_GOOGLE_include_directive : require
/*
 * Scene-cut statistic: the mean absolute difference of the reduced luma of
 * this frame and the previous one, in levels. One workgroup; it runs before
 * the network and sets the gate of the instance-norm statistics'
 * smoothing (norm_reduce.comp), and the blend pass compares the statistic
 * with the same threshold, so no round trip to the host is needed.
 */
#include "common.glsl"
/* The temporal state: floats at offsets given in the push constants (see
 * engine/frame/temporal.c for the layout); luma in levels 0..255. */
layout(set = 0, binding = 3) buffer State { float v[]; } st;

layout(set = 0, binding = 4) buffer Factors { vec4 ab[]; };

layout(local_size_x = 256, local_size_y = 1, local_size_z = 1) in;

layout(push_constant) uniform Push {
    int n, off_s, off_sp, off_stat;
    int gate_off, valid;
    float norm_k, cut;  /* the gate when the frame follows the previous one */
} pc;

shared float part[256];

void main()
{
    uint i = gl_LocalInvocationID.x;
    float s = 0.0;
    if (pc.n == 0)
        return; /* warm-up */
    for (int k = int(i); k < pc.n; k += 256)
        s += abs(st.v[pc.off_s + k] - st.v[pc.off_sp + k]);
    part[i] = s;
    barrier();
    for (uint half_n = 128u; half_n > 0u; half_n >>= 1) {
        if (i < half_n)
            part[i] += part[i + half_n];
        barrier();
    }
    if (i == 0u) {
        float stat = part[0] / float(pc.n);
        st.v[pc.off_stat] = stat;
        ab[pc.gate_off] = vec4(pc.valid != 0 && stat <= pc.cut ? pc.norm_k : 0.0);
    }
}
