#version 450
#extension GL_GOOGLE_include_directive : require
/*
 * Transposed convolution with TensorFlow SAME alignment:
 * out[y] = sum of in[i] * W[ky] over S*i + ky - pad_t = y.
 * By sub-pixel decomposition: an invocation computes PX outputs of one
 * row that share their phase x mod S (x = phase + S * (block * PX + p)),
 * so they all take the same taps, from PX neighbouring input texels, and
 * no tap meets a zero of a dilated input: S*S times fewer fetches and
 * multiplies than visiting every tap. Weights packed as for conv.comp.
 */
#include "common.glsl"
#include "arith.glsl"

layout(constant_id = 0) const int K = 3;
layout(constant_id = 1) const int S = 2;
layout(constant_id = 3) const int OCB = 2;
layout(constant_id = 4) const int HAS_BIAS = 0;
layout(constant_id = 5) const int PX = 4;
layout(constant_id = 6) const int NORM_IN = 0;
#include "norm_in.glsl"

layout(local_size_x = 64, local_size_y = 1, local_size_z = 1) in;

/* Rows y0..y1-1 of the output, as in conv.comp: a tiled plan (engine/net/tiling.c) keeps a
 * band of a tensor: rows src_y0.. of the input in a buffer of src_h rows,
 * output rows from dst_y0 in one of dst_h rows; in_h and out_h are the
 * whole tensors' heights, which is where padding starts. */
layout(push_constant) uniform Push {
    int in_w, in_h, in_c4;
    int out_w, out_h, out_c4;
    int pad_t, pad_l;
    int w_off, b_off;
    int ab_off;
    int y0, y1, src_y0, src_h, dst_y0, dst_h;
} pc;

/* floor(a / S) for any sign of a */
int floor_div(int a)
{
    return a >= 0 ? a / S : -((-a + S - 1) / S);
}

void main()
{
    /* the phase comes from z so that a workgroup's invocations all take
     * the same taps (on a SIMD device divergent taps would cost both) */
    int phase = int(gl_GlobalInvocationID.z) % S;
    int og = int(gl_GlobalInvocationID.z) / S;
    int xs = phase + S * int(gl_GlobalInvocationID.x) * PX; /* the first output */
    int y = int(gl_GlobalInvocationID.y) + pc.y0;
    if (xs >= pc.out_w || y >= pc.y1 || og * OCB >= pc.out_c4)
        return;

    vec4 acc[OCB * PX];
    for (int t = 0; t < OCB; t++) {
        vec4 b = HAS_BIAS != 0 ? texelFetch(src1, pc.b_off + og * OCB + t) : vec4(0.0);
        for (int p = 0; p < PX; p++)
            acc[t * PX + p] = b;
    }

    int plane = pc.src_h * pc.in_w;
    for (int ky = 0; ky < K; ky++) {
        int ty = y + pc.pad_t - ky;
        if (ty < 0 || ty % S != 0 || ty / S >= pc.in_h)
            continue;
        int iy = ty / S;
        for (int kx = 0; kx < K; kx++) {
            int tx = xs + pc.pad_l - kx;
            if (floor_div(tx) * S != tx)
                continue; /* this tap lands between input pixels here */
            int ix0 = floor_div(tx);
            for (int ic = 0; ic < pc.in_c4; ic++) {
                Norm nf = norm_of(pc.ab_off, ic);
                int row = ic * plane + (iy - pc.src_y0) * pc.in_w;
                vec4 v[PX];
                for (int p = 0; p < PX; p++) {
                    int ix = ix0 + p;
                    v[p] = ix >= 0 && ix < pc.in_w ? norm_in(texelFetch(src0, row + ix), nf)
                                                   : vec4(0.0);
                }
                int wb = pc.w_off + (((og * pc.in_c4 + ic) * K + ky) * K + kx) * OCB * 4;
                for (int t = 0; t < OCB; t++) {
                    amat4 m = load_w4(wb + 4 * t);
                    for (int p = 0; p < PX; p++)
                        acc[t * PX + p] += amul(m, v[p]);
                }
            }
        }
    }

    for (int t = 0; t < OCB; t++)
        for (int p = 0; p < PX; p++) {
            int x = xs + S * p;
            if (x < pc.out_w)
                imageStore(dst, texel_index(og * OCB + t, y - pc.dst_y0, x, pc.dst_h, pc.out_w),
                           acc[t * PX + p]);
        }
}
