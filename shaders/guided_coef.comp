#version 450
#extension GL_GOOGLE_include_directive : require
/*
 * The guided upsampling's colour model (He et al., "Guided Image
 * Filtering", colour guide), at the network's size: over the window of
 * (2 R + 1)^2 pixels around each pixel (clipped to the image), the styled
 * output p is fitted as an affine function of the input colour I,
 * p ~ A I + b, by least squares with A regularised by eps:
 *
 *   A = cov(p, I) (cov(I, I) + eps Id)^-1
 *
 * I is the network's input in 0..1 (src0, mapped back by g_mul, g_add),
 * p the network's output after the model's output transform, in pixel
 * values (src1, a tensor t_w wide). Output, four texel planes: plane c
 * = (A[c][0], A[c][1], A[c][2], p[c]) for c < 3, in the network's channel
 * order, and plane 3 = (I, 0), both of this pixel, which guided_mean.comp
 * needs. Sums are taken relative to this pixel, which keeps the variances
 * from cancelling in float.
 */
#include "common.glsl"

layout(constant_id = 0) const int R = 2;

layout(local_size_x = 8, local_size_y = 8, local_size_z = 1) in;

layout(push_constant) uniform Push {
    int w, h, t_w, out_tanh;
    float eps, g_mul, g_add, out_mul, out_add, out_min, out_max;
} pc;

vec3 guide(int x, int y)
{
    return texelFetch(src0, y * pc.w + x).rgb * pc.g_mul + pc.g_add;
}

vec3 styled(int x, int y)
{
    vec3 v = texelFetch(src1, y * pc.t_w + x).rgb;
    if (pc.out_tanh != 0)
        v = tanh(clamp(v, -15.0, 15.0)); /* as tensor_to_pix.comp */
    return clamp(v * pc.out_mul + pc.out_add, pc.out_min, pc.out_max);
}

void main()
{
    int x = int(gl_GlobalInvocationID.x), y = int(gl_GlobalInvocationID.y);
    if (x >= pc.w || y >= pc.h)
        return;
    vec3 g0 = guide(x, y), p0 = styled(x, y);
    vec3 si = vec3(0.0), sp = vec3(0.0);
    mat3 sii = mat3(0.0), spi = mat3(0.0);
    float n = 0.0;
    for (int j = max(y - R, 0); j <= min(y + R, pc.h - 1); j++)
        for (int i = max(x - R, 0); i <= min(x + R, pc.w - 1); i++) {
            vec3 di = guide(i, j) - g0, dp = styled(i, j) - p0;
            si += di;
            sp += dp;
            sii += outerProduct(di, di);
            spi += outerProduct(di, dp); /* column c: dp[c] * di */
            n += 1.0;
        }
    vec3 mi = si / n, mp = sp / n;
    mat3 cov = sii / n - outerProduct(mi, mi) + mat3(pc.eps);
    mat3 cross = spi / n - outerProduct(mi, mp); /* column c: cov(p[c], I) */
    mat3 at = inverse(cov) * cross;              /* column c: row c of A */
    for (int c = 0; c < 3; c++)
        imageStore(dst, texel_index(c, y, x, pc.h, pc.w), vec4(at[c], p0[c]));
    imageStore(dst, texel_index(3, y, x, pc.h, pc.w), vec4(g0, 0.0));
}
