#version 450
#extension GL_GOOGLE_include_directive : require
/*
 * The colour model of each network pixel averaged over the (2 R + 1)^2
 * windows around it (clipped to the image), as the guided filter averages
 * its coefficients, and turned into an offset that keeps the pixel's own
 * styled value: from guided_coef.comp's planes (A row c, p[c]) and (I),
 *
 *   A' = mean of A,   b'[c] = p[c] - A'[c] . I
 *
 * so that A' I + b' is p at this pixel's own colour and follows A' away
 * from it. Output: three planes, plane c = (A'[c][0..2], b'[c]).
 */
#include "common.glsl"

layout(constant_id = 0) const int R = 1;

layout(local_size_x = 8, local_size_y = 8, local_size_z = 1) in;

layout(push_constant) uniform Push {
    int w, h;
} pc;

void main()
{
    int x = int(gl_GlobalInvocationID.x), y = int(gl_GlobalInvocationID.y);
    if (x >= pc.w || y >= pc.h)
        return;
    int x0 = max(x - R, 0), x1 = min(x + R, pc.w - 1);
    int y0 = max(y - R, 0), y1 = min(y + R, pc.h - 1);
    vec3 g = texelFetch(src0, texel_index(3, y, x, pc.h, pc.w)).rgb;
    float n = float((x1 - x0 + 1) * (y1 - y0 + 1));
    for (int c = 0; c < 3; c++) {
        vec3 a = vec3(0.0);
        for (int j = y0; j <= y1; j++)
            for (int i = x0; i <= x1; i++)
                a += texelFetch(src0, texel_index(c, j, i, pc.h, pc.w)).xyz;
        a /= n;
        float p = texelFetch(src0, texel_index(c, y, x, pc.h, pc.w)).w;
        imageStore(dst, texel_index(c, y, x, pc.h, pc.w), vec4(a, p - dot(a, g)));
    }
}
