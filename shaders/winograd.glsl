/*
 * Winograd F(4x4, 3x3) (Lavin & Gray 2015): a 3x3 stride-1 convolution of
 * a 6x6 input tile gives a 4x4 output tile through 36 element-wise
 * products, 4x fewer multiplies than direct. V = B^T d B per input tile,
 * U = G g G^T per filter (on the host, engine/net/winograd.c), M = sum over
 * input channels of U V, a GEMM per position, and Y = A^T M A. Both
 * transforms below apply the matrix to six (or four) values at once.
 * Transformed tensors are texel ((pos * c4 + c) * tiles + tile), pos =
 * 6 * row + column of the 6x6 position.
 */
const int WINO_T = 4; /* output tile */
const int WINO_N = 6; /* input tile */

void wino_bt(inout vec4 d[6])
{
    vec4 r0 = 4.0 * d[0] - 5.0 * d[2] + d[4];
    vec4 r1 = -4.0 * (d[1] + d[2]) + d[3] + d[4];
    vec4 r2 = 4.0 * (d[1] - d[2]) - d[3] + d[4];
    vec4 r3 = 2.0 * (d[3] - d[1]) - d[2] + d[4];
    vec4 r4 = 2.0 * (d[1] - d[3]) - d[2] + d[4];
    vec4 r5 = 4.0 * d[1] - 5.0 * d[3] + d[5];
    d[0] = r0; d[1] = r1; d[2] = r2; d[3] = r3; d[4] = r4; d[5] = r5;
}

/* A^T m: six values in, four out (in m[0..3]) */
void wino_at(inout vec4 m[6])
{
    vec4 a = m[1] + m[2], b = m[1] - m[2], c = m[3] + m[4], d = m[3] - m[4];
    vec4 o0 = m[0] + a + c;
    vec4 o1 = b + 2.0 * d;
    vec4 o2 = a + 4.0 * c;
    vec4 o3 = b + 8.0 * d + m[5];
    m[0] = o0; m[1] = o1; m[2] = o2; m[3] = o3;
}
