/*
 * The arithmetic type of the heavy kernels (conv, conv_transpose,
 * wino_gemm). By default fp32. The build compiles those kernels a second
 * time with NST_ARITH_FP16 (the ".a16" variants), which multiply in fp16:
 * a weight block is converted to f16mat4 once and used for PX inputs, and
 * amul() computes the four 4-term sums of one input texel in fp16 (packed
 * f16 arithmetic where the device has it) and adds them into the fp32
 * accumulator, so that rounding does not grow with the number of input
 * channels. A separate compile, not a specialization constant: a module
 * that declares the Float16 capability is invalid on a device without
 * shaderFloat16 even where its fp16 code is never taken.
 * Needs src1 (common.glsl) declared first.
 */
#ifdef NST_ARITH_FP16
#extension GL_EXT_shader_explicit_arithmetic_types_float16 : require
#define amat4 f16mat4

/* the 4x4 weight block of texels w .. w+3 of src1, one column each */
amat4 load_w4(int w)
{
    return f16mat4(f16vec4(texelFetch(src1, w)), f16vec4(texelFetch(src1, w + 1)),
                   f16vec4(texelFetch(src1, w + 2)), f16vec4(texelFetch(src1, w + 3)));
}

/* m * v: products and 4-term sums in fp16, the result fp32 for the
 * accumulator (|inputs| and |weights| stay far below 65504 in the models;
 * a sum of four of their products too) */
vec4 amul(amat4 m, vec4 v)
{
    return vec4(m * f16vec4(v));
}
#else
#define amat4 mat4

amat4 load_w4(int w)
{
    return mat4(texelFetch(src1, w), texelFetch(src1, w + 1),
                texelFetch(src1, w + 2), texelFetch(src1, w + 3));
}

vec4 amul(amat4 m, vec4 v)
{
    return m * v;
}
#endif
