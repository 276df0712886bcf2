/*
 * Declarations every shader shares; see engine/gpu/pipelines.h for the binding
 * table. Tensors are "C4HW": texel ((c4 * h) + y) * w + x holds channels
 * 4*c4 .. 4*c4+3 of pixel (x, y), so one texel fetch brings four channels.
 */
layout(set = 0, binding = 0) uniform samplerBuffer src0;
layout(set = 0, binding = 1) uniform samplerBuffer src1;
/* the build compiles every shader for either format of the tensor written */
#ifdef NST_DST_FP16
layout(set = 0, binding = 2, rgba16f) uniform writeonly imageBuffer dst;
#else
layout(set = 0, binding = 2, rgba32f) uniform writeonly imageBuffer dst;
#endif

int texel_index(int c4, int y, int x, int h, int w)
{
    return (c4 * h + y) * w + x;
}
