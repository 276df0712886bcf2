#version 450
#extension GL_GOOGLE_include_directive : require
/*
 * Mean over the (2 R + 1)^2 window around each pixel, clipped to the
 * image, of a tensor of c4 texel planes: the guided filter averages the
 * coefficients of every window that covers a pixel.
 */
#include "common.glsl"

layout(constant_id = 0) const int R = 2;

layout(local_size_x = 8, local_size_y = 8, local_size_z = 1) in;

layout(push_constant) uniform Push {
    int w, h, c4;
} pc;

void main()
{
    int x = int(gl_GlobalInvocationID.x), y = int(gl_GlobalInvocationID.y);
    int c = int(gl_GlobalInvocationID.z);
    if (x >= pc.w || y >= pc.h || c >= pc.c4)
        return;
    int x0 = max(x - R, 0), x1 = min(x + R, pc.w - 1);
    int y0 = max(y - R, 0), y1 = min(y + R, pc.h - 1);
    vec4 sum = vec4(0.0);
    for (int j = y0; j <= y1; j++)
        for (int i = x0; i <= x1; i++)
            sum += texelFetch(src0, texel_index(c, j, i, pc.h, pc.w));
    imageStore(dst, texel_index(c, y, x, pc.h, pc.w), sum / float((x1 - x0 + 1) * (y1 - y0 + 1)));
}
