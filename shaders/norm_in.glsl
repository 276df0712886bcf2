/*
 * A deferred instance norm (engine/net/norm.c: nst_norm_defer) applied as a
 * conv reads its input: y = a*x + b per channel, then ReLU if NORM_IN is
 * 2. Only texels inside the tensor go through it; padding zeros are zeros
 * of the normalised tensor. Needs the constant NORM_IN declared first.
 * The factors of a channel texel are loaded once, outside the tap loops:
 * loads inside them are not hoisted and cost more than the norm saves.
 * Each norm has its factors at a texel offset of its own (off), so that a
 * tiled plan can run a conv again after a later norm's statistics.
 */
layout(set = 0, binding = 4) readonly buffer NormFactors { vec4 norm_ab[]; };

struct Norm {
    vec4 a, b;
};

Norm norm_of(int off, int c4)
{
    Norm n;
    n.a = NORM_IN != 0 ? norm_ab[off + 2 * c4] : vec4(1.0);
    n.b = NORM_IN != 0 ? norm_ab[off + 2 * c4 + 1] : vec4(0.0);
    return n;
}

vec4 norm_in(vec4 v, Norm n)
{
    if (NORM_IN != 0)
        v = n.a * v + n.b;
    if (NORM_IN == 2)
        v = max(v, vec4(0.0));
    return v;
}
