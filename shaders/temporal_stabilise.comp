#version 450
#extension GL_GOOGLE_include_directive : require
/*
 * What the network sees, held still where the input only changed by noise
 * (NST_TEMPORAL_INPUT), before the network, in tensor units:
 *
 *   c     this frame's input (src0, a copy of the network's input)
 *   f     its motion (temporal.glsl's t_motion: none unless it explains
 *         the pixel by k_still sigma more than no motion) and e the luma
 *         error it leaves
 *   held' the input the network saw there on the previous frame (src1)
 *   m'    the previous running mean of the input there (buf1)
 *
 * and with sigma the frame's noise in luma (temporal_stats.comp), d the
 * |luma change| from held' to c, nb its mean over the 3x3 pixels around:
 *
 *   no previous frame, a cut, e > k_err sigma or (x, y) + f outside
 *         (motion the flow does not explain, occlusion): held = m = c,
 *         state 0 (renewed);
 *   f not zero (moving with the flow): held = m = c, state 0.25; a held
 *         input resampled every frame would blur, and mix the noise of
 *         different frames into the network's view;
 *   still, d > k_pix sigma or nb > k_nb sigma (a real change; an isolated
 *         outlier is noise): renewed, state 0;
 *   still otherwise: m = m' + alpha (c - m'); where the mean has moved
 *         from held' by more than k_drift sigma (a light dimming: followed
 *         with a bounded lag rather than frozen) held = m, state 0.5;
 *         else held = held', state 1.
 *
 * So a still region feeds the network bit-identical pixels frame after
 * frame, with no averaging; the network's input becomes held (dst), m and
 * the state (which temporal_changed.comp and temporal_blend.comp read) are
 * kept in buf1.
 */
#include "common.glsl"
#include "temporal.glsl"

layout(set = 0, binding = 4) buffer Mean { vec4 m[]; } ms;

layout(local_size_x = 8, local_size_y = 8, local_size_z = 1) in;

layout(push_constant) uniform Push {
    int w, h, sw, sh, scale, off_l, off_lp, off_f;
    int off_stat, valid, m_cur, m_prev, bgr;
    float in_mul;       /* tensor units a level */
    float cut, alpha, k_pix, k_nb, k_err, k_drift, k_still;
} pc;

/* Luma of a tensor value, in tensor units. */
float luma(vec3 v)
{
    return dot(v, pc.bgr != 0 ? vec3(0.114, 0.587, 0.299) : vec3(0.299, 0.587, 0.114));
}

/* |luma of c - luma of the previous input| at pixel p, in tensor units. */
float change_at(ivec2 p)
{
    p = clamp(p, ivec2(0), ivec2(pc.w - 1, pc.h - 1));
    int i = p.y * pc.w + p.x;
    return abs(luma(texelFetch(src0, i).rgb - texelFetch(src1, i).rgb));
}

void main()
{
    TGeom g = TGeom(pc.w, pc.h, pc.sw, pc.sh, pc.scale, pc.off_l, pc.off_lp, pc.off_f);
    int x = int(gl_GlobalInvocationID.x), y = int(gl_GlobalInvocationID.y);
    if (x >= pc.w || y >= pc.h)
        return;
    int i = y * pc.w + x;
    vec3 c = texelFetch(src0, i).rgb, held = c, m = c;
    float state = 0.0, sigma = st.v[pc.off_stat + 1] * pc.in_mul;
    if (pc.valid != 0 && st.v[pc.off_stat] <= pc.cut) {
        float e;
        vec2 f = t_motion(g, x, y, pc.k_still * st.v[pc.off_stat + 1], e);
        if (e * pc.in_mul > pc.k_err * sigma || !t_inside(g, vec2(x, y) + f)) {
            /* motion the flow does not explain, occlusion: renewed */
        } else if (f != vec2(0.0)) {
            state = 0.25; /* moving with the flow: passed on */
        } else {
            vec3 hp = texelFetch(src1, i).rgb;
            float d = abs(luma(c - hp)), nb = d;
            for (int dy = -1; dy <= 1; dy++)
                for (int dx = -1; dx <= 1; dx++)
                    if (dx != 0 || dy != 0)
                        nb += change_at(ivec2(x + dx, y + dy));
            if (d <= pc.k_pix * sigma && nb / 9.0 <= pc.k_nb * sigma) {
                vec3 mp = ms.m[pc.m_prev + i].rgb;
                m = mp + pc.alpha * (c - mp);
                if (abs(luma(m - hp)) > pc.k_drift * sigma) {
                    held = m;
                    state = 0.5;
                } else {
                    held = hp;
                    state = 1.0;
                }
            }
        }
    }
    imageStore(dst, i, vec4(held, 0.0));
    ms.m[pc.m_cur + i] = vec4(m, state);
}
