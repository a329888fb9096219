/* Elementwise exp, sigmoid and tanh on `real` that the compiler can vectorise (use them in loops marked
 * `#pragma omp simd`). glibc's expf/tanhf are scalar calls unless the whole program is built with
 * -ffast-math, which would break the NaN/Inf checks, so the float build has its own branch-free versions:
 *  - nd_vexp: x = n ln2 + r, |r| <= ln2/2, e^r by the Cephes expf polynomial, 2^n applied as two exact
 *    power-of-two factors so that results in the subnormal range are right too. Within 2 ulp of expf
 *    (tests/test_vmath.c); exp(+-inf) = inf / 0, overflow gives inf, NaN gives NaN.
 *  - nd_vtanh: odd polynomial (Cephes tanhf) for |x| < 0.625, else sign(x) (1 - 2 / (e^{2|x|} + 1));
 *    tanh(+-inf) = +-1, NaN gives NaN.
 *  - nd_vsigmoid: 1 / (1 + e^{-x}); sigmoid(+inf) = 1, sigmoid(-inf) = 0.
 * The double build (gradient checks) uses libm. */
#ifndef ND_CORE_VMATH_H
#define ND_CORE_VMATH_H
#include "real.h"
#include <stdint.h>

#ifdef ND_REAL_DOUBLE
static inline double nd_vexp(double x) { return exp(x); }
static inline double nd_vtanh(double x) { return tanh(x); }
static inline double nd_vsigmoid(double x) { return 1 / (1 + exp(-x)); }
#else
static inline float nd_pow2i(int32_t n) { /* 2^n for -126 <= n <= 127 */
    union { uint32_t u; float f; } u;
    u.u = (uint32_t)(n + 127) << 23; /* unsigned: lanes whose result is discarded may be out of range */
    return u.f;
}

static inline float nd_vexp(float x) {
    float xc = x < -104.0f ? -104.0f : (x > 89.0f ? 89.0f : x); /* NaN passes through to the select below */
    float n = (xc * 1.44269504088896341f + 12582912.0f) - 12582912.0f; /* round to nearest */
    float r = xc - n * 0.693359375f;
    r = r - n * -2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    float y = p * (r * r) + r + 1.0f;
    int32_t ni = (int32_t)n, n1 = ni / 2, n2 = ni - n1; /* each in [-75, 64]: exact normal scale factors */
    y = y * nd_pow2i(n1) * nd_pow2i(n2);
    return x != x ? x : y;
}

static inline float nd_vtanh(float x) {
    float ax = x < 0 ? -x : x;
    float z = x * x;
    float s = ((((-5.70498872745e-3f * z + 2.06390887954e-2f) * z - 5.37397155531e-2f) * z + 1.33314422036e-1f) * z -
               3.33332819422e-1f) * z * x + x;
    float l = 1.0f - 2.0f / (nd_vexp(2.0f * ax) + 1.0f);
    l = x < 0 ? -l : l;
    return ax < 0.625f ? s : l; /* NaN: the comparison is false and l is NaN */
}

static inline float nd_vsigmoid(float x) { return 1.0f / (1.0f + nd_vexp(-x)); }
#endif

#endif
