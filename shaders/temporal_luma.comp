#version 450
#extension GL_GOOGLE_include_directive : require
/*
 * Network input tensor -> luma, at full resolution and as the mean of each
 * scale x scale block. One invocation owns one block, so the reduced value
 * needs no second pass. Runs before the network reuses the input's buffer.
 */
#include "common.glsl"
/* The temporal state: floats at offsets given in the push constants (see
 * engine/frame/temporal.c for the layout); luma in levels 0..255. */
layout(set = 0, binding = 3) buffer State { float v[]; } st;

layout(local_size_x = 8, local_size_y = 8, local_size_z = 1) in;

layout(push_constant) uniform Push {
    int w, h, sw, sh, scale, bgr, off_l, off_s;
    float in_mul, in_add; /* tensor = pixel * in_mul + in_add */
} pc;

void main()
{
    int bx = int(gl_GlobalInvocationID.x), by = int(gl_GlobalInvocationID.y);
    if (bx >= pc.sw || by >= pc.sh)
        return;
    float sum = 0.0, n = 0.0;
    for (int dy = 0; dy < pc.scale; dy++)
        for (int dx = 0; dx < pc.scale; dx++) {
            int x = bx * pc.scale + dx, y = by * pc.scale + dy;
            if (x >= pc.w || y >= pc.h)
                continue;
            vec3 v = (texelFetch(src0, y * pc.w + x).rgb - pc.in_add) / pc.in_mul;
            if (pc.bgr != 0)
                v = v.bgr;
            float l = dot(v, vec3(0.299, 0.587, 0.114));
            st.v[pc.off_l + y * pc.w + x] = l;
            sum += l;
            n += 1.0;
        }
    st.v[pc.off_s + by * pc.sw + bx] = sum / n;
}
