/* IEEE 754 binary16 <-> float, for host access to fp16 tensors. */
#ifndef NST_HALF_H
#define NST_HALF_H

#include <stdint.h>
#include <string.h>

/* Rounds to nearest even; overflow gives infinity, NaN stays NaN. */
static inline uint16_t nst_half_from_float(float f)
{
    uint32_t x, sign, mant;
    int exp;

    memcpy(&x, &f, sizeof(x));
    sign = (x >> 16) & 0x8000u;
    exp = (int)((x >> 23) & 0xff) - 127 + 15;
    mant = x & 0x7fffffu;
    if (((x >> 23) & 0xff) == 0xff) /* inf, NaN */
        return (uint16_t)(sign | 0x7c00u | (mant ? 0x200u : 0));
    if (exp >= 31)
        return (uint16_t)(sign | 0x7c00u);
    if (exp <= 0) { /* subnormal or zero */
        if (exp < -10)
            return (uint16_t)sign;
        mant |= 0x800000u;
        uint32_t shift = (uint32_t)(14 - exp), half = mant >> shift;
        uint32_t rest = mant & ((1u << shift) - 1), mid = 1u << (shift - 1);
        if (rest > mid || (rest == mid && (half & 1)))
            half++;
        return (uint16_t)(sign | half);
    }
    uint32_t h = sign | ((uint32_t)exp << 10) | (mant >> 13), rest = mant & 0x1fffu;
    if (rest > 0x1000u || (rest == 0x1000u && (h & 1)))
        h++; /* may carry into the exponent, up to infinity: correct */
    return (uint16_t)h;
}

static inline float nst_half_to_float(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16, exp = (h >> 10) & 0x1f, mant = h & 0x3ffu;
    uint32_t x;
    float f;

    if (exp == 0x1f)
        x = sign | 0x7f800000u | (mant << 13);
    else if (exp)
        x = sign | ((exp + 112) << 23) | (mant << 13);
    else if (!mant)
        x = sign;
    else { /* subnormal: normalise */
        exp = 113;
        while (!(mant & 0x400u)) {
            mant <<= 1;
            exp--;
        }
        x = sign | (exp << 23) | ((mant & 0x3ffu) << 13);
    }
    memcpy(&f, &x, sizeof(f));
    return f;
}

#endif
