/* RNG: determinism, stream independence, and the moments of every distribution. */
#include "test.h"
#include "../src/core/rng.h"

static void test_determinism(nd_test_ctx *ctx) {
    nd_rng a, b, c;
    nd_rng_seed(&a, 42);
    nd_rng_seed(&b, 42);
    nd_rng_seed(&c, 43);
    int same = 1, diff = 0;
    for (int i = 0; i < 1000; i++) {
        uint64_t x = nd_rng_u64(&a), y = nd_rng_u64(&b), z = nd_rng_u64(&c);
        same &= x == y;
        diff += x != z;
    }
    CHECK(ctx, same, "same seed must give the same sequence");
    CHECK(ctx, diff > 990, "different seeds must differ");
    nd_rng s1, s2;
    nd_rng_stream(&s1, 7, 1, 2);
    nd_rng_stream(&s2, 7, 2, 1);
    CHECK(ctx, nd_rng_u64(&s1) != nd_rng_u64(&s2), "streams (1,2) and (2,1) must differ");
}

static void moments(double *m, double *v, double *samples, int n) {
    double s = 0, ss = 0;
    for (int i = 0; i < n; i++) s += samples[i];
    *m = s / n;
    for (int i = 0; i < n; i++) ss += (samples[i] - *m) * (samples[i] - *m);
    *v = ss / (n - 1);
}

static double buf[200000];

static void test_distributions(nd_test_ctx *ctx) {
    const int n = 200000;
    nd_rng r;
    nd_rng_seed(&r, 1);
    double m, v;
    for (int i = 0; i < n; i++) buf[i] = nd_rng_uniform(&r);
    moments(&m, &v, buf, n);
    CHECK(ctx, fabs(m - 0.5) < 5 * sqrt(1.0 / 12 / n) && fabs(v - 1.0 / 12) < 0.002, "uniform m %g v %g", m, v);
    for (int i = 0; i < n; i++) buf[i] = nd_rng_normal(&r);
    moments(&m, &v, buf, n);
    CHECK(ctx, fabs(m) < 5 / sqrt(n) && fabs(v - 1) < 0.02, "normal m %g v %g", m, v);
    const double lams[] = {0.05, 0.7, 3, 29.5, 30.5, 250};
    for (size_t k = 0; k < sizeof lams / sizeof lams[0]; k++) {
        double lam = lams[k];
        for (int i = 0; i < n; i++) buf[i] = nd_rng_poisson(&r, lam);
        moments(&m, &v, buf, n);
        CHECK(ctx, fabs(m - lam) < 5 * sqrt(lam / n) && fabs(v / lam - 1) < 0.03, "poisson(%g): m %g v %g", lam, m, v);
    }
    /* P(X = 0) for lambda 0.7 */
    int zeros = 0;
    for (int i = 0; i < n; i++) zeros += nd_rng_poisson(&r, 0.7) == 0;
    CHECK(ctx, fabs((double)zeros / n - exp(-0.7)) < 0.005, "poisson P(0) %g", (double)zeros / n);
    int ones = 0;
    for (int i = 0; i < n; i++) ones += nd_rng_bernoulli(&r, 0.3);
    CHECK(ctx, fabs((double)ones / n - 0.3) < 0.005, "bernoulli %g", (double)ones / n);
    CHECK(ctx, nd_rng_poisson(&r, 0) == 0 && nd_rng_poisson(&r, -1) == 0, "poisson of lambda <= 0");
}

static void test_shuffle(nd_test_ctx *ctx) {
    nd_rng r;
    nd_rng_seed(&r, 5);
    int a[50], seen[50] = {0};
    for (int i = 0; i < 50; i++) a[i] = i;
    nd_rng_shuffle(&r, a, 50);
    int moved = 0;
    for (int i = 0; i < 50; i++) { seen[a[i]]++; moved += a[i] != i; }
    int perm = 1;
    for (int i = 0; i < 50; i++) perm &= seen[i] == 1;
    CHECK(ctx, perm && moved > 40, "shuffle is a permutation that moves most items (%d moved)", moved);
}

int main(void) {
    RUN(test_determinism);
    RUN(test_distributions);
    RUN(test_shuffle);
    TEST_MAIN_END();
}
