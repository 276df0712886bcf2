#version 450
#extension GL_GOOGLE_include_directive : require
/*
 * Where the input really changed, per scale x scale block, after the input
 * stabiliser: 1 where at least `least` of the block's pixels were renewed
 * for a real change (temporal_stabilise.comp's state 0), else 0. A few
 * pixels renewed alone are noise; temporal_blend.comp keeps its weight of
 * the past low within a few blocks of a changed one, where the network's
 * strokes follow the change (its receptive field reaches that far).
 */
#include "common.glsl"
#include "temporal.glsl"

layout(set = 0, binding = 4) buffer Mean { vec4 m[]; } ms;

layout(local_size_x = 8, local_size_y = 8, local_size_z = 1) in;

layout(push_constant) uniform Push {
    int w, h, sw, sh, scale, off_c, m_cur, least;
} pc;

void main()
{
    int bx = int(gl_GlobalInvocationID.x), by = int(gl_GlobalInvocationID.y);
    if (bx >= pc.sw || by >= pc.sh)
        return;
    int n = 0;
    for (int dy = 0; dy < pc.scale; dy++)
        for (int dx = 0; dx < pc.scale; dx++) {
            int x = bx * pc.scale + dx, y = by * pc.scale + dy;
            if (x < pc.w && y < pc.h && ms.m[pc.m_cur + y * pc.w + x].w == 0.0)
                n++;
        }
    st.v[pc.off_c + by * pc.sw + bx] = n >= pc.least ? 1.0 : 0.0;
}
