/* The floating-point type of model arithmetic. The library is built with float;
 * the gradient-check build defines ND_REAL_DOUBLE so finite differences are exact
 * enough to assert tight tolerances. */
#ifndef ND_CORE_REAL_H
#define ND_CORE_REAL_H
#include <math.h>

#ifdef ND_REAL_DOUBLE
typedef double real;
#define RSQRT sqrt
#define REXP exp
#define RLOG log
#define RTANH tanh
#define RFABS fabs
#else
typedef float real;
#define RSQRT sqrtf
#define REXP expf
#define RLOG logf
#define RTANH tanhf
#define RFABS fabsf
#endif

static inline real nd_sigmoid(real x) { return (real)1 / ((real)1 + REXP(-x)); }

#endif
