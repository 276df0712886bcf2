#version 450
#extension GL_GOOGLE_include_directive : require
/*
 * The smoothed output, in pixel units (0..255, RGB), for tensor_to_pix to
 * read with an identity transform:
 *
 *   styled = the model's output transform of the network output (src0)
 *   q      = this pixel + the flow (bilinear from the reduced field, scaled,
 *            or none where none explains the pixel better)
 *   warped = the previous smoothed output (src1) at q, bilinear
 *   c      = confidence from the luma error of the warp (warp_error): 1
 *            below lo levels, 0 above hi (occlusions, disocclusions,
 *            changed input, a wrong flow),
 *            0 where q leaves the frame or a scene cut was seen
 *   out    = mix(styled, warped, c * strength)
 *
 * The output is recursive (the previous output is the smoothed one), so
 * still areas converge to the styled frame's average over time.
 */
#include "common.glsl"
/* The temporal state: floats at offsets given in the push constants (see
 * engine/frame/temporal.c for the layout); luma in levels 0..255. */
layout(set = 0, binding = 3) buffer State { float v[]; } st;

layout(local_size_x = 8, local_size_y = 8, local_size_z = 1) in;

layout(push_constant) uniform Push {
    int w, h, t_w, out_tanh, bgr, sw, sh, scale;
    int off_l, off_lp, off_f, off_stat, valid;
    float out_mul, out_add, out_min, out_max;
    float strength, cut, lo, hi;
} pc;

vec3 styled_rgb(int x, int y)
{
    vec3 v = texelFetch(src0, y * pc.t_w + x).rgb;
    if (pc.out_tanh != 0)
        v = tanh(clamp(v, -15.0, 15.0));
    v = clamp(v * pc.out_mul + pc.out_add, pc.out_min, pc.out_max);
    return pc.bgr != 0 ? v.bgr : v;
}

vec2 flow_at(int x, int y)
{
    vec2 u = (vec2(x, y) + 0.5) / float(pc.scale) - 0.5;
    u = clamp(u, vec2(0.0), vec2(pc.sw - 1, pc.sh - 1));
    ivec2 a = ivec2(floor(u));
    ivec2 b = min(a + 1, ivec2(pc.sw - 1, pc.sh - 1));
    vec2 t = u - vec2(a);
    int f = pc.off_f;
    vec2 f00 = vec2(st.v[f + 2 * (a.y * pc.sw + a.x)], st.v[f + 2 * (a.y * pc.sw + a.x) + 1]);
    vec2 f10 = vec2(st.v[f + 2 * (a.y * pc.sw + b.x)], st.v[f + 2 * (a.y * pc.sw + b.x) + 1]);
    vec2 f01 = vec2(st.v[f + 2 * (b.y * pc.sw + a.x)], st.v[f + 2 * (b.y * pc.sw + a.x) + 1]);
    vec2 f11 = vec2(st.v[f + 2 * (b.y * pc.sw + b.x)], st.v[f + 2 * (b.y * pc.sw + b.x) + 1]);
    return mix(mix(f00, f10, t.x), mix(f01, f11, t.x), t.y) * float(pc.scale);
}

/* Bilinear at q (inside the frame) of the previous output. */
vec3 prev_rgb(vec2 q)
{
    ivec2 a = ivec2(floor(q)), b = min(a + 1, ivec2(pc.w - 1, pc.h - 1));
    vec2 t = q - vec2(a);
    vec3 s00 = texelFetch(src1, a.y * pc.w + a.x).rgb, s10 = texelFetch(src1, a.y * pc.w + b.x).rgb;
    vec3 s01 = texelFetch(src1, b.y * pc.w + a.x).rgb, s11 = texelFetch(src1, b.y * pc.w + b.x).rgb;
    return mix(mix(s00, s10, t.x), mix(s01, s11, t.x), t.y);
}

/* Bilinear at q of the previous luma, q clamped to the frame. */
float prev_luma(vec2 q)
{
    q = clamp(q, vec2(0.0), vec2(pc.w - 1, pc.h - 1));
    ivec2 a = ivec2(floor(q)), b = min(a + 1, ivec2(pc.w - 1, pc.h - 1));
    vec2 t = q - vec2(a);
    float s00 = st.v[pc.off_lp + a.y * pc.w + a.x], s10 = st.v[pc.off_lp + a.y * pc.w + b.x];
    float s01 = st.v[pc.off_lp + b.y * pc.w + a.x], s11 = st.v[pc.off_lp + b.y * pc.w + b.x];
    return mix(mix(s00, s10, t.x), mix(s01, s11, t.x), t.y);
}

/* Mean |previous luma warped - luma| over the 3x3 pixels around (x, y),
 * all moved by this pixel's flow: noise averages out, a misplaced texture
 * (a wrong flow) does not. */
float warp_error(int x, int y, vec2 f)
{
    float e = 0.0;
    for (int dy = -1; dy <= 1; dy++)
        for (int dx = -1; dx <= 1; dx++) {
            ivec2 p = clamp(ivec2(x + dx, y + dy), ivec2(0), ivec2(pc.w - 1, pc.h - 1));
            e += abs(prev_luma(vec2(p) + f) - st.v[pc.off_l + p.y * pc.w + p.x]);
        }
    return e / 9.0;
}

void main()
{
    int x = int(gl_GlobalInvocationID.x), y = int(gl_GlobalInvocationID.y);
    if (x >= pc.w || y >= pc.h)
        return;
    vec3 out_rgb = styled_rgb(x, y);
    if (pc.valid != 0 && st.v[pc.off_stat] <= pc.cut) {
        /* The coarse field blurs motion boundaries (a moving object's
         * motion spills onto the still background around it): where no
         * motion explains this pixel as well, take none. */
        vec2 f = flow_at(x, y);
        float e = warp_error(x, y, f), e0 = warp_error(x, y, vec2(0.0));
        if (e0 <= e) {
            f = vec2(0.0);
            e = e0;
        }
        vec2 q = vec2(x, y) + f;
        if (q.x >= 0.0 && q.y >= 0.0 && q.x <= float(pc.w - 1) && q.y <= float(pc.h - 1)) {
            float k = clamp((pc.hi - e) / (pc.hi - pc.lo), 0.0, 1.0) * pc.strength;
            if (k > 0.0)
                out_rgb = mix(out_rgb, prev_rgb(q), k);
        }
    }
    imageStore(dst, y * pc.w + x, vec4(out_rgb, 0.0));
}
