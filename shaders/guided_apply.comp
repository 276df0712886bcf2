#version 450
#extension GL_GOOGLE_include_directive : require
/*
 * The guided upsampling at the frame's size: the colour models (src1,
 * three planes lw x lh of (A', b'), see guided_mean.comp) interpolated
 * bilinearly at this pixel's position in the network's grid and applied
 * to the full-resolution input colour I (src0, the frame's input tensor,
 * in network units mapped to 0..1 by g_mul, g_add): out = A' I + b', in
 * pixel values and the network's channel order, for the output steps to
 * read with an identity transform. As b' keeps each network pixel's own
 * styled value p_k, this is the bilinear blend of the four nearest
 * network pixels' p_k + A'_k (I - I_k): the network's output, strokes and
 * all, plus the detail of the frame that the network's grid lacks, in the
 * output's local colours.
 */
#include "common.glsl"

layout(local_size_x = 8, local_size_y = 8, local_size_z = 1) in;

layout(push_constant) uniform Push {
    int w, h, lw, lh;
    float g_mul, g_add, out_min, out_max;
} pc;

void main()
{
    int x = int(gl_GlobalInvocationID.x), y = int(gl_GlobalInvocationID.y);
    if (x >= pc.w || y >= pc.h)
        return;
    /* pixel centres: frame x + 0.5 lies at network x' + 0.5 = (x + 0.5) lw / w */
    vec2 u = (vec2(x, y) + 0.5) * (vec2(pc.lw, pc.lh) / vec2(pc.w, pc.h)) - 0.5;
    u = clamp(u, vec2(0.0), vec2(pc.lw - 1, pc.lh - 1));
    ivec2 a = ivec2(u), b = min(a + 1, ivec2(pc.lw - 1, pc.lh - 1));
    vec2 t = u - vec2(a);
    vec3 g = texelFetch(src0, y * pc.w + x).rgb * pc.g_mul + pc.g_add, q;
    for (int c = 0; c < 3; c++) {
        vec4 k00 = texelFetch(src1, texel_index(c, a.y, a.x, pc.lh, pc.lw));
        vec4 k10 = texelFetch(src1, texel_index(c, a.y, b.x, pc.lh, pc.lw));
        vec4 k01 = texelFetch(src1, texel_index(c, b.y, a.x, pc.lh, pc.lw));
        vec4 k11 = texelFetch(src1, texel_index(c, b.y, b.x, pc.lh, pc.lw));
        vec4 k = mix(mix(k00, k10, t.x), mix(k01, k11, t.x), t.y);
        q[c] = dot(k.xyz, g) + k.w;
    }
    imageStore(dst, y * pc.w + x, vec4(clamp(q, pc.out_min, pc.out_max), 0.0));
}
