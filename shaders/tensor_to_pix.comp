#version 450
#extension GL_GOOGLE_include_directive : require
/*
 * Network output -> frame bytes, in place over the original pixels of one
 * plane: applies the model's output transform, crops to the frame (the
 * tensor may be larger), converts to YUV where the frame is YUV (4:2:0
 * chroma as the mean of its 2x2 pixels), and blends with the original by
 * strength. One invocation owns one 32-bit word so that no two write the
 * same memory; bytes past a row's end (the padding) are kept.
 */
#include "common.glsl"
#include "pixels.glsl"

layout(local_size_x = 8, local_size_y = 8, local_size_z = 1) in;

layout(push_constant) uniform Push {
    int w, h, format, bgr;
    int plane, off, stride, row_bytes, rows;
    int t_w, out_tanh;
    float strength, out_mul, out_add, out_min, out_max;
    vec4 m0, m1, m2; /* yuv = (m0.xyz . rgb + m0.w, ...) */
} pc;

vec3 styled_rgb(int x, int y)
{
    vec3 v = texelFetch(src0, y * pc.t_w + x).rgb;
    if (pc.out_tanh != 0)
        v = tanh(clamp(v, -15.0, 15.0)); /* tanh's exp() overflows past that */
    v = clamp(v * pc.out_mul + pc.out_add, pc.out_min, pc.out_max);
    return pc.bgr != 0 ? v.bgr : v;
}

float yuv_of(vec3 rgb, int comp)
{
    vec4 m = comp == 0 ? pc.m0 : comp == 1 ? pc.m1 : pc.m2;
    return dot(m.xyz, rgb) + m.w;
}

/* Chroma component comp (1: U, 2: V) of the 2x2 block at (cx, cy). */
float chroma_420(int cx, int cy, int comp)
{
    float s = 0.0, n = 0.0;
    for (int dy = 0; dy < 2; dy++)
        for (int dx = 0; dx < 2; dx++) {
            int x = 2 * cx + dx, y = 2 * cy + dy;
            if (x < pc.w && y < pc.h) {
                s += yuv_of(styled_rgb(x, y), comp);
                n += 1.0;
            }
        }
    return s / n;
}

/* The styled value of byte b of row r of this plane, or -1 to keep it. */
float styled_byte(int b, int r)
{
    switch (pc.format) {
    case FMT_RGB24:
        return styled_rgb(b / 3, r)[b % 3];
    case FMT_RGBA:
        return b % 4 == 3 ? -1.0 : styled_rgb(b / 4, r)[b % 4];
    case FMT_BGRA:
        return b % 4 == 3 ? -1.0 : styled_rgb(b / 4, r)[2 - b % 4];
    case FMT_YUV444P:
        return yuv_of(styled_rgb(b, r), pc.plane);
    case FMT_YUV420P:
        return pc.plane == 0 ? yuv_of(styled_rgb(b, r), 0) : chroma_420(b, r, pc.plane);
    default: /* NV12 */
        return pc.plane == 0 ? yuv_of(styled_rgb(b, r), 0) : chroma_420(b / 2, r, 1 + b % 2);
    }
}

void main()
{
    int wx = int(gl_GlobalInvocationID.x), r = int(gl_GlobalInvocationID.y);
    if (wx * 4 >= pc.row_bytes || r >= pc.rows)
        return;
    int wi = (pc.off + r * pc.stride) / 4 + wx;
    uint word = frame.words[wi];
    for (int k = 0; k < 4; k++) {
        int b = wx * 4 + k;
        if (b >= pc.row_bytes)
            break;
        float s = styled_byte(b, r);
        if (s < 0.0)
            continue;
        float orig = float((word >> (8 * k)) & 0xffu);
        float v = clamp(floor(orig + pc.strength * (s - orig) + 0.5), 0.0, 255.0);
        word = (word & ~(0xffu << (8 * k))) | (uint(v) << (8 * k));
    }
    frame.words[wi] = word;
}
