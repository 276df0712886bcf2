/*
 * What the temporal passes share: the state buffer (floats at offsets the
 * push constants give; see engine/frame/temporal.c for the layout; luma in
 * levels 0..255), the flow at full size, the luma error of a warp, and
 * the resampling of a previous tensor along the flow.
 */
layout(set = 0, binding = 3) buffer State { float v[]; } st;

/* The frame's geometry and where the state keeps what these functions read. */
struct TGeom {
    int w, h, sw, sh, scale;
    int off_l, off_lp, off_f;
};

/* The flow at full-size pixel (x, y), in full-size pixels: bilinear from
 * the reduced field. The previous frame's position is (x, y) + flow. */
vec2 t_flow_at(TGeom g, int x, int y)
{
    vec2 u = (vec2(x, y) + 0.5) / float(g.scale) - 0.5;
    u = clamp(u, vec2(0.0), vec2(g.sw - 1, g.sh - 1));
    ivec2 a = ivec2(floor(u));
    ivec2 b = min(a + 1, ivec2(g.sw - 1, g.sh - 1));
    vec2 t = u - vec2(a);
    int f = g.off_f;
    vec2 f00 = vec2(st.v[f + 2 * (a.y * g.sw + a.x)], st.v[f + 2 * (a.y * g.sw + a.x) + 1]);
    vec2 f10 = vec2(st.v[f + 2 * (a.y * g.sw + b.x)], st.v[f + 2 * (a.y * g.sw + b.x) + 1]);
    vec2 f01 = vec2(st.v[f + 2 * (b.y * g.sw + a.x)], st.v[f + 2 * (b.y * g.sw + a.x) + 1]);
    vec2 f11 = vec2(st.v[f + 2 * (b.y * g.sw + b.x)], st.v[f + 2 * (b.y * g.sw + b.x) + 1]);
    return mix(mix(f00, f10, t.x), mix(f01, f11, t.x), t.y) * float(g.scale);
}

/* Bilinear at q of the previous luma, q clamped to the frame. */
float t_prev_luma(TGeom g, vec2 q)
{
    q = clamp(q, vec2(0.0), vec2(g.w - 1, g.h - 1));
    ivec2 a = ivec2(floor(q)), b = min(a + 1, ivec2(g.w - 1, g.h - 1));
    vec2 t = q - vec2(a);
    float s00 = st.v[g.off_lp + a.y * g.w + a.x], s10 = st.v[g.off_lp + a.y * g.w + b.x];
    float s01 = st.v[g.off_lp + b.y * g.w + a.x], s11 = st.v[g.off_lp + b.y * g.w + b.x];
    return mix(mix(s00, s10, t.x), mix(s01, s11, t.x), t.y);
}

/* Mean |previous luma warped - luma| over the 3x3 pixels around (x, y),
 * all moved by f: noise averages out, a misplaced texture (a wrong flow)
 * does not. */
float t_warp_error(TGeom g, int x, int y, vec2 f)
{
    float e = 0.0;
    for (int dy = -1; dy <= 1; dy++)
        for (int dx = -1; dx <= 1; dx++) {
            ivec2 p = clamp(ivec2(x + dx, y + dy), ivec2(0), ivec2(g.w - 1, g.h - 1));
            e += abs(t_prev_luma(g, vec2(p) + f) - st.v[g.off_l + p.y * g.w + p.x]);
        }
    return e / 9.0;
}

/* The motion of pixel (x, y) and the luma error it leaves (*e): the
 * coarse field blurs motion boundaries (a moving object's motion spills
 * onto the still background around it), and on noise the sub-pixel fit
 * finds motion that a bilinear warp's smoothing of the noise seems to
 * confirm, so where no motion explains the pixel within bias levels as
 * well, none. */
vec2 t_motion(TGeom g, int x, int y, float bias, out float e)
{
    vec2 f = t_flow_at(g, x, y);
    float e0 = t_warp_error(g, x, y, vec2(0.0));
    e = t_warp_error(g, x, y, f);
    if (e0 <= e + bias) {
        e = e0;
        return vec2(0.0);
    }
    return f;
}

/* Pixels from p to the nearest pixel of block b (Chebyshev): 0 inside. */
int t_block_distance(ivec2 p, ivec2 b, int scale)
{
    ivec2 lo = b * scale, d = max(max(lo - p, p - (lo + scale - 1)), ivec2(0));
    return max(d.x, d.y);
}

bool t_inside(TGeom g, vec2 q)
{
    return q.x >= 0.0 && q.y >= 0.0 && q.x <= float(g.w - 1) && q.y <= float(g.h - 1);
}

float t_cubic(float t, int k)
{
    /* Catmull-Rom weights of taps -1, 0, 1, 2 */
    float t2 = t * t, t3 = t2 * t;
    return k == 0 ? 0.5 * (-t3 + 2.0 * t2 - t) :
           k == 1 ? 0.5 * (3.0 * t3 - 5.0 * t2 + 2.0) :
           k == 2 ? 0.5 * (-3.0 * t3 + 4.0 * t2 + t) : 0.5 * (t3 - t2);
}

/* The first three channels of a frame-size tensor at q (inside the frame):
 * the texel itself where q is one, else Catmull-Rom, which keeps detail
 * that bilinear resampling would blur away over repeated warps, clamped to
 * the four nearest texels so that it cannot ring. */
vec3 t_resample(samplerBuffer s, TGeom g, vec2 q)
{
    ivec2 a = ivec2(floor(q));
    vec2 t = q - vec2(a);
    if (t == vec2(0.0))
        return texelFetch(s, a.y * g.w + a.x).rgb;
    vec3 sum = vec3(0.0), lo = vec3(1e30), hi = vec3(-1e30);
    for (int j = 0; j < 4; j++) {
        int y = clamp(a.y + j - 1, 0, g.h - 1);
        vec3 row = vec3(0.0);
        for (int i = 0; i < 4; i++) {
            int x = clamp(a.x + i - 1, 0, g.w - 1);
            vec3 v = texelFetch(s, y * g.w + x).rgb;
            row += t_cubic(t.x, i) * v;
            if ((i == 1 || i == 2) && (j == 1 || j == 2)) {
                lo = min(lo, v);
                hi = max(hi, v);
            }
        }
        sum += t_cubic(t.y, j) * row;
    }
    return clamp(sum, lo, hi);
}
