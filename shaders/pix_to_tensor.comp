#version 450
#extension GL_GOOGLE_include_directive : require
/*
 * Frame pixels -> network input tensor (3 channels in one texel): YUV is
 * converted with the frame's matrix and range (given as an affine map of
 * 0..255 values), 4:2:0 chroma interpolated bilinearly from samples sited
 * at the centre of their 2x2 pixels (the mirror of tensor_to_pix's 2x2
 * mean), and values are mapped to the model's input range and channel order.
 */
#include "common.glsl"
#include "pixels.glsl"

layout(local_size_x = 8, local_size_y = 8, local_size_z = 1) in;

layout(push_constant) uniform Push {
    int w, h, format, bgr;
    int off0, off1, off2;
    int stride0, stride1, stride2;
    float in_mul, in_add;
    vec4 m0, m1, m2; /* rgb = (m0.xyz . yuv + m0.w, ...) */
} pc;

/* Chroma sample (cx, cy) of a 4:2:0 frame: (U, V). */
vec2 chroma_sample(int cx, int cy)
{
    if (pc.format == FMT_NV12) {
        int o = pc.off1 + cy * pc.stride1 + cx * 2;
        return vec2(frame_byte(o), frame_byte(o + 1));
    }
    return vec2(frame_byte(pc.off1 + cy * pc.stride1 + cx),
                frame_byte(pc.off2 + cy * pc.stride2 + cx));
}

vec2 chroma_420(int x, int y)
{
    int cw = (pc.w + 1) / 2, ch = (pc.h + 1) / 2;
    vec2 c = (vec2(x, y) - 0.5) * 0.5;
    ivec2 c0 = ivec2(floor(c));
    vec2 f = c - vec2(c0);
    int xa = clamp(c0.x, 0, cw - 1), xb = clamp(c0.x + 1, 0, cw - 1);
    int ya = clamp(c0.y, 0, ch - 1), yb = clamp(c0.y + 1, 0, ch - 1);
    vec2 top = mix(chroma_sample(xa, ya), chroma_sample(xb, ya), f.x);
    vec2 bottom = mix(chroma_sample(xa, yb), chroma_sample(xb, yb), f.x);
    return mix(top, bottom, f.y);
}

void main()
{
    int x = int(gl_GlobalInvocationID.x), y = int(gl_GlobalInvocationID.y);
    if (x >= pc.w || y >= pc.h)
        return;
    vec3 rgb;
    if (pc.format == FMT_RGB24 || pc.format == FMT_RGBA || pc.format == FMT_BGRA) {
        int bpp = pc.format == FMT_RGB24 ? 3 : 4;
        int o = pc.off0 + y * pc.stride0 + x * bpp;
        rgb = vec3(frame_byte(o), frame_byte(o + 1), frame_byte(o + 2));
        if (pc.format == FMT_BGRA)
            rgb = rgb.bgr;
    } else {
        vec3 yuv;
        yuv.x = float(frame_byte(pc.off0 + y * pc.stride0 + x));
        if (pc.format == FMT_YUV444P) {
            yuv.y = float(frame_byte(pc.off1 + y * pc.stride1 + x));
            yuv.z = float(frame_byte(pc.off2 + y * pc.stride2 + x));
        } else {
            yuv.yz = chroma_420(x, y);
        }
        rgb = clamp(vec3(dot(pc.m0.xyz, yuv), dot(pc.m1.xyz, yuv), dot(pc.m2.xyz, yuv)) +
                    vec3(pc.m0.w, pc.m1.w, pc.m2.w), 0.0, 255.0);
    }
    vec3 v = rgb * pc.in_mul + pc.in_add;
    if (pc.bgr != 0)
        v = v.bgr;
    imageStore(dst, y * pc.w + x, vec4(v, 0.0));
}
