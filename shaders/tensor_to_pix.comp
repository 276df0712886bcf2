#version 450
#extension GL_GOOGLE_include_directive : require
/*
 * Network output -> frame bytes, in place over the original pixels of one
 * plane: applies the model's output transform, crops to the frame (the
 * tensor may be larger), converts to YUV where the frame is YUV (4:2:0
 * chroma as the mean of its 2x2 pixels), and blends with the original by
 * strength. One invocation owns one 32-bit word so that no two write the
 * same memory; bytes past a row's end (the padding) are kept.
 *
 * preserve: the input's colours kept, the styled frame's luminance taken
 * (Gatys et al. 2016, luminance-only transfer): YUV chroma planes are left
 * as they came; an RGB pixel moves by the luma difference of styled and
 * input (BT.601 weights), which is the YUV recombination in RGB. That needs
 * each pixel whole: a packed-RGB invocation then owns the words of whole
 * pixels (three words, four rgb24 pixels; one rgba word).
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
    int preserve;
} pc;

const vec3 LUMA = vec3(0.299, 0.587, 0.114);

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
    if (pc.preserve != 0 && pc.plane > 0)
        return -1.0; /* the input's chroma */
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

uint blend_byte(uint orig, float s)
{
    float o = float(orig);
    return uint(clamp(floor(o + pc.strength * (s - o) + 0.5), 0.0, 255.0));
}

/* preserve, packed RGB: the words of pixels [g * n, g * n + n) of row r,
 * n = 4 rgb24 pixels in 3 words or 1 rgba/bgra pixel in 1 word. */
void preserve_rgb(int g, int r)
{
    int bpp = pc.format == FMT_RGB24 ? 3 : 4, n = bpp == 3 ? 4 : 1;
    int nw = bpp == 3 ? 3 : 1, b0 = g * 4 * nw;
    int wi = (pc.off + r * pc.stride) / 4 + g * nw;
    int words = min(nw, (pc.row_bytes - b0 + 3) / 4); /* the row's own words only */
    uint w[3];

    if (b0 >= pc.row_bytes)
        return;
    for (int i = 0; i < words; i++)
        w[i] = frame.words[wi + i];
    for (int p = 0; p < n; p++) {
        int x = g * n + p;
        if (x >= pc.w)
            break;
        vec3 o, s = styled_rgb(x, r);
        for (int c = 0; c < 3; c++) {
            int b = p * bpp + (pc.format == FMT_BGRA ? 2 - c : c);
            o[c] = float((w[b / 4] >> (8 * (b % 4))) & 0xffu);
        }
        vec3 moved = clamp(o + dot(LUMA, s) - dot(LUMA, o), 0.0, 255.0);
        for (int c = 0; c < 3; c++) {
            int b = p * bpp + (pc.format == FMT_BGRA ? 2 - c : c);
            uint v = blend_byte(uint(o[c]), moved[c]);
            w[b / 4] = (w[b / 4] & ~(0xffu << (8 * (b % 4)))) | (v << (8 * (b % 4)));
        }
    }
    for (int i = 0; i < words; i++)
        frame.words[wi + i] = w[i];
}

void main()
{
    int wx = int(gl_GlobalInvocationID.x), r = int(gl_GlobalInvocationID.y);
    if (wx * 4 >= pc.row_bytes || r >= pc.rows)
        return;
    if (pc.preserve != 0 && pc.format <= FMT_BGRA) {
        preserve_rgb(wx, r); /* fewer groups than words: the rest return */
        return;
    }
    int wi = (pc.off + r * pc.stride) / 4 + wx;
    uint word = frame.words[wi];
    for (int k = 0; k < 4; k++) {
        int b = wx * 4 + k;
        if (b >= pc.row_bytes)
            break;
        float s = styled_byte(b, r);
        if (s < 0.0)
            continue;
        uint v = blend_byte((word >> (8 * k)) & 0xffu, s);
        word = (word & ~(0xffu << (8 * k))) | (v << (8 * k));
    }
    frame.words[wi] = word;
}
