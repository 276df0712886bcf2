#version 450
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require
/*
 * Convolution, any odd kernel, any stride, zero or reflect padding.
 * One invocation computes PX neighbouring pixels of one row for OCB output
 * texels (4 channels each): every weight texel fetched is used PX times and
 * every input texel OCB*4 times, which is what makes it fast on devices
 * where memory reads are the cost (lavapipe above all).
 * Weights: texel w_off + (((og * in_c4 + ic) * K + ky) * K + kx) * OCB*4
 * + t*4 + ci holds the 4 output channels of texel og*OCB+t for input
 * channel 4*ic+ci, so a mat4 of four such texels maps an input texel to an
 * output texel.
 */
#include "common.glsl"
#include "arith.glsl"

layout(constant_id = 0) const int K = 3;
layout(constant_id = 1) const int S = 1;
layout(constant_id = 2) const int REFLECT = 0;
layout(constant_id = 3) const int OCB = 2;
layout(constant_id = 4) const int HAS_BIAS = 0;
layout(constant_id = 5) const int PX = 4;
layout(constant_id = 6) const int NORM_IN = 0;
#include "norm_in.glsl"

layout(local_size_x = 64, local_size_y = 1, local_size_z = 1) in;

/* Rows y0..y1-1 of the output. A tiled plan (engine/net/tiling.c) keeps a
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

int mirror(int i, int n)
{
    i = i < 0 ? -i : i;
    return i >= n ? 2 * n - 2 - i : i;
}

void main()
{
    int x0 = int(gl_GlobalInvocationID.x) * PX;
    int y = int(gl_GlobalInvocationID.y) + pc.y0;
    int og = int(gl_GlobalInvocationID.z);
    if (x0 >= pc.out_w || y >= pc.y1 || og * OCB >= pc.out_c4)
        return;

    vec4 acc[OCB * PX];
    for (int t = 0; t < OCB; t++) {
        vec4 b = HAS_BIAS != 0 ? texelFetch(src1, pc.b_off + og * OCB + t) : vec4(0.0);
        for (int p = 0; p < PX; p++)
            acc[t * PX + p] = b;
    }

    /* The PX outputs of a row read one window of WIN input texels per
     * kernel row: fetched once, used by all K taps. */
    const int WIN = (PX - 1) * S + K;
    int plane = pc.src_h * pc.in_w;
    int ix0 = x0 * S - pc.pad_l;
    for (int ic = 0; ic < pc.in_c4; ic++) {
        Norm nf = norm_of(pc.ab_off, ic);
        for (int ky = 0; ky < K; ky++) {
            int iy = y * S + ky - pc.pad_t;
            if (REFLECT != 0)
                iy = mirror(iy, pc.in_h);
            if (iy < 0 || iy >= pc.in_h)
                continue;
            int row = ic * plane + (iy - pc.src_y0) * pc.in_w;
            vec4 win[WIN];
            [[unroll]] for (int i = 0; i < WIN; i++) {
                int ix = ix0 + i;
                if (REFLECT != 0)
                    ix = mirror(ix, pc.in_w);
                win[i] = ix >= 0 && ix < pc.in_w ? norm_in(texelFetch(src0, row + ix), nf)
                                                 : vec4(0.0);
            }
            int wb = pc.w_off + ((og * pc.in_c4 + ic) * K + ky) * K * OCB * 4;
            [[unroll]] for (int kx = 0; kx < K; kx++) {
                [[unroll]] for (int t = 0; t < OCB; t++) {
                    int w = wb + (kx * OCB + t) * 4;
                    amat4 m = load_w4(w);
                    [[unroll]] for (int p = 0; p < PX; p++)
                        acc[t * PX + p] += amul(m, win[p * S + kx]);
                }
            }
        }
    }

    for (int t = 0; t < OCB; t++)
        for (int p = 0; p < PX; p++)
            if (x0 + p < pc.out_w)
                imageStore(dst, texel_index(og * OCB + t, y - pc.dst_y0, x0 + p, pc.dst_h, pc.out_w),
                           acc[t * PX + p]);
}
