/* Vectorisable exp / sigmoid / tanh (src/core/vmath.h) against libm in double precision, over a dense
 * sweep of the float range the model uses, plus the special values (NaN, +-Inf, overflow, subnormals). */
#include "test.h"
#include "../src/core/vmath.h"
#include <float.h>
#include <stdint.h>

/* error in units of the float spacing at the exact value */
static double ulps(float got, double want) {
    if (want == 0) return got == 0 ? 0 : 1e9;
    int e;
    frexp(want, &e);
    double ulp = ldexp(1.0, (e - 24 < -149 ? -149 : e - 24));
    return fabs((double)got - want) / ulp;
}

static void sweep(nd_test_ctx *ctx, const char *name, float (*f)(float), double (*ref)(double), float lo, float hi,
                  double tol) {
    enum { N = 400000 };
    static float x[N], y[N];
    for (int i = 0; i < N; i++) x[i] = lo + (hi - lo) * (float)i / (N - 1);
    #pragma omp simd
    for (int i = 0; i < N; i++) y[i] = f(x[i]);
    double worst = 0;
    float at = 0;
    for (int i = 0; i < N; i++) {
        double u = ulps(y[i], ref(x[i]));
        if (u > worst) { worst = u; at = x[i]; }
    }
    printf("    %s on [%g, %g]: max error %.2f ulp (at %.9g)\n", name, lo, hi, worst, at);
    CHECK(ctx, worst <= tol, "%s: %.2f ulp at x = %.9g", name, worst, at);
}

static float fexp(float x) { return nd_vexp(x); }
static float ftanh(float x) { return nd_vtanh(x); }
static float fsig(float x) { return nd_vsigmoid(x); }
static double rsig(double x) { return 1 / (1 + exp(-x)); }

static void test_accuracy(nd_test_ctx *ctx) {
    sweep(ctx, "exp", fexp, exp, -87.0f, 88.7f, 2.0);
    sweep(ctx, "exp (small)", fexp, exp, -1.0f, 1.0f, 2.0);
    sweep(ctx, "exp (subnormal results)", fexp, exp, -103.0f, -87.5f, 2.0);
    sweep(ctx, "tanh", ftanh, tanh, -12.0f, 12.0f, 3.0);
    sweep(ctx, "tanh (small)", ftanh, tanh, -0.7f, 0.7f, 3.0);
    sweep(ctx, "sigmoid", fsig, rsig, -30.0f, 30.0f, 3.0);
}

static void test_special(nd_test_ctx *ctx) {
    float nan = NAN, inf = INFINITY;
    CHECK(ctx, isnan(nd_vexp(nan)) && isnan(nd_vtanh(nan)) && isnan(nd_vsigmoid(nan)), "NaN must give NaN");
    CHECK(ctx, nd_vexp(inf) == inf && nd_vexp(-inf) == 0, "exp(+-inf)");
    CHECK(ctx, nd_vexp(89.0f) == inf && nd_vexp(1000.0f) == inf, "exp overflow gives inf");
    CHECK(ctx, nd_vexp(-200.0f) == 0, "exp underflow gives 0");
    CHECK(ctx, nd_vexp(0.0f) == 1.0f && nd_vexp(88.7f) < FLT_MAX, "exp(0) = 1, exp(88.7) finite");
    CHECK(ctx, nd_vtanh(inf) == 1 && nd_vtanh(-inf) == -1 && nd_vtanh(0.0f) == 0, "tanh(+-inf), tanh(0)");
    CHECK(ctx, nd_vtanh(-3.0f) == -nd_vtanh(3.0f) && nd_vtanh(-0.3f) == -nd_vtanh(0.3f), "tanh is odd");
    CHECK(ctx, nd_vsigmoid(inf) == 1 && nd_vsigmoid(-inf) == 0 && nd_vsigmoid(0.0f) == 0.5f, "sigmoid limits");
    CHECK(ctx, nd_vsigmoid(-100.0f) >= 0 && nd_vsigmoid(100.0f) == 1, "sigmoid saturates without NaN");
}

int main(void) {
    RUN(test_accuracy);
    RUN(test_special);
    TEST_MAIN_END();
}
