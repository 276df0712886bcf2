#version 450
#extension GL_GOOGLE_include_directive : require
/*
 * Area downscaling of a tensor of c4 texel planes: each output pixel is
 * the mean of the input area it covers, pixels at the area's edges
 * weighted by how much of them it covers. Output pixel x covers input
 * [x * in_w / out_w, (x + 1) * in_w / out_w), the mapping the guided
 * upsampling inverts (guided_apply.comp).
 */
#include "common.glsl"

layout(local_size_x = 8, local_size_y = 8, local_size_z = 1) in;

layout(push_constant) uniform Push {
    int in_w, in_h, out_w, out_h, c4;
} pc;

void main()
{
    int x = int(gl_GlobalInvocationID.x), y = int(gl_GlobalInvocationID.y);
    int c = int(gl_GlobalInvocationID.z);
    if (x >= pc.out_w || y >= pc.out_h || c >= pc.c4)
        return;
    float sx = float(pc.in_w) / float(pc.out_w), sy = float(pc.in_h) / float(pc.out_h);
    float x0 = float(x) * sx, x1 = min(float(x + 1) * sx, float(pc.in_w));
    float y0 = float(y) * sy, y1 = min(float(y + 1) * sy, float(pc.in_h));
    vec4 sum = vec4(0.0);
    float total = 0.0;
    for (int j = int(y0); j < pc.in_h && float(j) < y1; j++) {
        float wy = min(float(j + 1), y1) - max(float(j), y0);
        for (int i = int(x0); i < pc.in_w && float(i) < x1; i++) {
            float wt = (min(float(i + 1), x1) - max(float(i), x0)) * wy;
            sum += wt * texelFetch(src0, texel_index(c, j, i, pc.in_h, pc.in_w));
            total += wt;
        }
    }
    imageStore(dst, texel_index(c, y, x, pc.out_h, pc.out_w), sum / total);
}
