#version 450
#extension GL_GOOGLE_include_directive : require
/*
 * After the input stabiliser and the changed blocks: within `radius`
 * pixels of a block that changed (temporal_changed.comp), the network sees
 * this frame's input (src0, the copy taken before the stabiliser) and the
 * pixel counts as renewed (state 0, its mean the input). Held pixels there
 * differ from the input by up to the noise; beside something moving, the
 * network turns that into strokes unlike those of the frame itself, which
 * is what a trail looks like. Farther away the hold stays.
 */
#include "common.glsl"
#include "temporal.glsl"

layout(set = 0, binding = 4) buffer Mean { vec4 m[]; } ms;

layout(local_size_x = 8, local_size_y = 8, local_size_z = 1) in;

layout(push_constant) uniform Push {
    int w, h, sw, sh, scale, off_c, m_cur, near;
    int radius;         /* pixels, Chebyshev; near = the blocks it spans */
} pc;

void main()
{
    int x = int(gl_GlobalInvocationID.x), y = int(gl_GlobalInvocationID.y);
    if (x >= pc.w || y >= pc.h)
        return;
    int i = y * pc.w + x;
    if (ms.m[pc.m_cur + i].w == 0.0)
        return;
    ivec2 p = ivec2(x, y), b = p / pc.scale;
    for (int dy = -pc.near; dy <= pc.near; dy++)
        for (int dx = -pc.near; dx <= pc.near; dx++) {
            ivec2 nb = b + ivec2(dx, dy);
            if (all(greaterThanEqual(nb, ivec2(0))) && nb.x < pc.sw && nb.y < pc.sh &&
                t_block_distance(p, nb, pc.scale) <= pc.radius && st.v[pc.off_c + nb.y * pc.sw + nb.x] != 0.0) {
                vec3 c = texelFetch(src0, i).rgb;
                imageStore(dst, i, vec4(c, 0.0));
                ms.m[pc.m_cur + i] = vec4(c, 0.0);
                return;
            }
        }
}
