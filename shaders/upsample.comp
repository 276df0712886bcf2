#version 450
#extension GL_GOOGLE_include_directive : require
/* Nearest-neighbour upsampling by an integer factor. */
#include "common.glsl"

layout(local_size_x = 8, local_size_y = 8, local_size_z = 1) in;

layout(push_constant) uniform Push {
    int in_w, in_h, out_w, out_h, c4, factor;
} pc;

void main()
{
    int x = int(gl_GlobalInvocationID.x), y = int(gl_GlobalInvocationID.y);
    int c = int(gl_GlobalInvocationID.z);
    if (x >= pc.out_w || y >= pc.out_h || c >= pc.c4)
        return;
    vec4 v = texelFetch(src0, texel_index(c, y / pc.factor, x / pc.factor, pc.in_h, pc.in_w));
    imageStore(dst, texel_index(c, y, x, pc.out_h, pc.out_w), v);
}
