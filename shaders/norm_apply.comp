#version 450
#extension GL_GOOGLE_include_directive : require
/*
 * Element-wise tail of a layer: instance-norm factors (y = a*x + b), then
 * ReLU, then a residual add, each switched by a constant so that the common
 * IN+ReLU and IN+add pairs cost one pass, and a lone ReLU or add uses the
 * same shader.
 */
#include "common.glsl"

layout(constant_id = 0) const int HAS_NORM = 1;
layout(constant_id = 1) const int RELU = 0;
layout(constant_id = 2) const int HAS_ADD = 0;

layout(local_size_x = 8, local_size_y = 8, local_size_z = 1) in;

layout(set = 0, binding = 4) readonly buffer Factors { vec4 ab[]; };

layout(push_constant) uniform Push {
    int w, h, c4;
    int ab_off;     /* of the norm's factors */
} pc;

void main()
{
    int x = int(gl_GlobalInvocationID.x), y = int(gl_GlobalInvocationID.y);
    int c = int(gl_GlobalInvocationID.z);
    if (x >= pc.w || y >= pc.h || c >= pc.c4)
        return;
    int i = texel_index(c, y, x, pc.h, pc.w);
    vec4 v = texelFetch(src0, i);
    if (HAS_NORM != 0)
        v = ab[pc.ab_off + 2 * c] * v + ab[pc.ab_off + 2 * c + 1];
    if (RELU != 0)
        v = max(v, vec4(0.0));
    if (HAS_ADD != 0)
        v += texelFetch(src1, i);
    imageStore(dst, i, v);
}
