#version 450
#extension GL_GOOGLE_include_directive : require
/*
 * Dense flow from this frame to the previous one on the reduced luma, by
 * exhaustive patch matching: for each reduced pixel p, the displacement d
 * within +-radius that minimises the mean absolute difference between the
 * (2 patch + 1)^2 patch around p now and around p + d before, plus
 * penalty * (|dx| + |dy|) so that flat or noisy areas keep d = 0. The
 * integer optimum is refined to a fraction of a pixel by fitting a V to the
 * costs of its neighbours in x and in y (the fit that suits absolute
 * differences), except where the match is already exact. Output: the
 * previous frame's position is p + F(p), in reduced pixels.
 */
#include "common.glsl"
/* The temporal state: floats at offsets given in the push constants (see
 * engine/frame/temporal.c for the layout); luma in levels 0..255. */
layout(set = 0, binding = 3) buffer State { float v[]; } st;

layout(local_size_x = 8, local_size_y = 8, local_size_z = 1) in;

layout(push_constant) uniform Push {
    int sw, sh, off_s, off_sp, off_f, radius, patch_r;
    float penalty;
} pc;

float cur(int x, int y)
{
    return st.v[pc.off_s + clamp(y, 0, pc.sh - 1) * pc.sw + clamp(x, 0, pc.sw - 1)];
}

float prev(int x, int y)
{
    return st.v[pc.off_sp + clamp(y, 0, pc.sh - 1) * pc.sw + clamp(x, 0, pc.sw - 1)];
}

float sad(int px, int py, int dx, int dy)
{
    float s = 0.0;
    for (int qy = -pc.patch_r; qy <= pc.patch_r; qy++)
        for (int qx = -pc.patch_r; qx <= pc.patch_r; qx++)
            s += abs(cur(px + qx, py + qy) - prev(px + qx + dx, py + qy + dy));
    float n = float(2 * pc.patch_r + 1);
    return s / (n * n);
}

/* Sub-pixel offset of the minimum from costs left, centre, right. */
float v_fit(float cm, float c0, float cp)
{
    float d = max(cm, cp) - c0;
    return d > 1e-6 ? clamp(0.5 * (cm - cp) / d, -0.5, 0.5) : 0.0;
}

void main()
{
    int px = int(gl_GlobalInvocationID.x), py = int(gl_GlobalInvocationID.y);
    if (px >= pc.sw || py >= pc.sh)
        return;
    int bx = 0, by = 0;
    float best = sad(px, py, 0, 0), raw = best;
    for (int dy = -pc.radius; dy <= pc.radius; dy++)
        for (int dx = -pc.radius; dx <= pc.radius; dx++) {
            float c = sad(px, py, dx, dy);
            float cost = c + pc.penalty * float(abs(dx) + abs(dy));
            if (cost < best) {
                best = cost;
                raw = c;
                bx = dx;
                by = dy;
            }
        }
    vec2 f = vec2(bx, by);
    if (raw > 1e-3) {
        f.x += v_fit(sad(px, py, bx - 1, by), raw, sad(px, py, bx + 1, by));
        f.y += v_fit(sad(px, py, bx, by - 1), raw, sad(px, py, bx, by + 1));
    }
    int i = pc.off_f + 2 * (py * pc.sw + px);
    st.v[i] = f.x;
    st.v[i + 1] = f.y;
}
