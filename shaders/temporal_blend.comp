#version 450
#extension GL_GOOGLE_include_directive : require
/*
 * The smoothed output, in pixel units (0..255, RGB), for tensor_to_pix to
 * read with an identity transform:
 *
 *   styled = the model's output transform of the network output (src0)
 *   f      = this pixel's motion (temporal.glsl's t_motion: zero where
 *            that explains the pixel as well), q = (x, y) + f
 *   warped = the previous smoothed output (src1) at q: that texel itself
 *            where f is zero, else Catmull-Rom (t_resample), so that
 *            repeated warps do not blur the strokes
 *   c      = confidence from the luma error of the warp: 1 below lo
 *            levels, 0 above hi (occlusions, disocclusions, changed input,
 *            a wrong flow), 0 where q leaves the frame or a scene cut was
 *            seen
 *   k      = c strength; when the input stabiliser runs (its states in
 *            buf1, temporal_stabilise.comp): hold where it held this
 *            pixel's input, having found its error within the noise, c move
 *            where it found the pixel moving with the flow, and in every
 *            case times the distance in pixels to the nearest block that
 *            changed (temporal_changed.comp) over near_px, at most 1
 *   out    = styled + k (warped - styled)
 *
 * The output is recursive (the previous output is the smoothed one). Where
 * the network saw the same pixels as before, what still changes in its
 * output comes from elsewhere in the frame (the instance norms' statistics,
 * the receptive field of something moving), so hold is close to 1 there.
 */
#include "common.glsl"
#include "temporal.glsl"

layout(set = 0, binding = 4) buffer Mean { vec4 m[]; } ms;

layout(local_size_x = 8, local_size_y = 8, local_size_z = 1) in;

layout(push_constant) uniform Push {
    int w, h, t_w, out_tanh, bgr, sw, sh, scale;
    int off_l, off_lp, off_f, off_c, off_stat, valid, m_cur, near;
    float out_mul, out_add, out_min, out_max;
    float strength, hold, move, cut, lo, hi, k_still;
    int near_px;        /* the weight's ramp, pixels from a changed block */
} pc;

vec3 styled_rgb(int x, int y)
{
    vec3 v = texelFetch(src0, y * pc.t_w + x).rgb;
    if (pc.out_tanh != 0)
        v = tanh(clamp(v, -15.0, 15.0));
    v = clamp(v * pc.out_mul + pc.out_add, pc.out_min, pc.out_max);
    return pc.bgr != 0 ? v.bgr : v;
}

void main()
{
    TGeom g = TGeom(pc.w, pc.h, pc.sw, pc.sh, pc.scale, pc.off_l, pc.off_lp, pc.off_f);
    int x = int(gl_GlobalInvocationID.x), y = int(gl_GlobalInvocationID.y);
    if (x >= pc.w || y >= pc.h)
        return;
    vec3 out_rgb = styled_rgb(x, y);
    if (pc.valid != 0 && st.v[pc.off_stat] <= pc.cut) {
        float e;
        vec2 f = t_motion(g, x, y, pc.k_still * st.v[pc.off_stat + 1], e);
        vec2 q = vec2(x, y) + f;
        if (t_inside(g, q)) {
            float c = clamp((pc.hi - e) / (pc.hi - pc.lo), 0.0, 1.0), k = c * pc.strength;
            if (pc.m_cur >= 0) {
                /* the stabiliser has already found a held pixel's error
                 * within the noise; near a real change the network's
                 * strokes follow the change (its receptive field), and
                 * the output with them: the weight grows from 0 in a
                 * changed block to all of it near_px pixels away */
                float state = ms.m[pc.m_cur + y * pc.w + x].w;
                if (state == 1.0)
                    k = pc.hold;
                else if (state == 0.25)
                    k = c * pc.move;
                ivec2 b = ivec2(x, y) / pc.scale;
                int dist = pc.near * pc.scale + 1;
                for (int dy = -pc.near; dy <= pc.near; dy++)
                    for (int dx = -pc.near; dx <= pc.near; dx++) {
                        ivec2 nb = b + ivec2(dx, dy);
                        if (all(greaterThanEqual(nb, ivec2(0))) && nb.x < pc.sw && nb.y < pc.sh &&
                            st.v[pc.off_c + nb.y * pc.sw + nb.x] != 0.0)
                            dist = min(dist, t_block_distance(ivec2(x, y), nb, pc.scale));
                    }
                k *= min(float(dist) / float(pc.near_px), 1.0);
            }
            if (k > 0.0)
                out_rgb += k * (t_resample(src1, g, q) - out_rgb);
        }
    }
    imageStore(dst, y * pc.w + x, vec4(out_rgb, 0.0));
}
