/* The recurrent learning rules (src/models/rnn_rules.c), double build:
 * - BPTT against central differences of the loss, for a leaky (alpha 0.5) and a vanilla (alpha 1) network;
 * - RFLO: with its feedback set to V^T and W = 0 its eligibility traces are the exact sensitivities, so it must
 *   equal BPTT; with W != 0 it is a truncation (it must differ for W), and its read-out gradient is always exact. */
#include "test.h"
#include "../src/models/rnn_rules.h"
#include "../src/core/mem.h"

enum { N = 6, I = 3, O = 3, B = 3, T = 9 };

static void setup(nd_rnn *r, double alpha, real *x, real *y) {
    nd_error err;
    nd_rnn_create(r, N, I, O, alpha, 5, &err);
    nd_rng g;
    nd_rng_seed(&g, 6);
    for (size_t i = 0; i < r->n_params; i++) r->params[i] += (real)(0.3 * nd_rng_normal(&g));
    nd_flipflop(B, T, 0.3, &g, x, y);
    for (int i = 0; i < B * T * I; i++) x[i] += (real)(0.1 * nd_rng_normal(&g));
}

static void bptt(nd_test_ctx *ctx, double alpha) {
    nd_rnn r;
    nd_rnn_acts a;
    nd_error err;
    real x[B * T * I], y[B * T * O];
    setup(&r, alpha, x, y);
    CHECK(ctx, nd_rnn_acts_create(&a, &r, B, T, &err) == ND_OK, "%s", err.msg);
    real *g = nd_alloc(sizeof(real) * r.n_params);
    nd_rnn_forward(&r, &a, x, y);
    nd_rnn_bptt(&r, &a, x, y, g);
    double worst = 0, h = 1e-6, gmax = 0;
    for (size_t i = 0; i < r.n_params; i++) {
        real k = r.params[i];
        r.params[i] = k + h;
        double fp = nd_rnn_forward(&r, &a, x, y);
        r.params[i] = k - h;
        double fm = nd_rnn_forward(&r, &a, x, y);
        r.params[i] = k;
        double num = (fp - fm) / (2 * h);
        worst = fmax(worst, fabs(num - g[i]) / fmax(1e-2, fmax(fabs(num), fabs(g[i]))));
        gmax = fmax(gmax, fabs(g[i]));
    }
    printf("    alpha %.1f: %zu params, max relative err %.1e (max |g| %.2g)\n", alpha, r.n_params, worst, gmax);
    CHECK(ctx, gmax > 1e-3, "degenerate gradient");
    CHECK(ctx, worst < 1e-6, "BPTT vs finite differences: %.3g", worst);
    nd_free(g);
    nd_rnn_acts_free(&a);
    nd_rnn_free(&r);
}
static void test_bptt_leaky(nd_test_ctx *ctx) { bptt(ctx, 0.5); }
static void test_bptt_vanilla(nd_test_ctx *ctx) { bptt(ctx, 1.0); }

/* max |a - b| / max |b| over [from, to) */
static double rel(const real *a, const real *b, size_t from, size_t to) {
    double d = 0, m = 0;
    for (size_t i = from; i < to; i++) { d = fmax(d, fabs(a[i] - b[i])); m = fmax(m, fabs(b[i])); }
    return d / m;
}

static void test_rflo_exact_without_recurrence(nd_test_ctx *ctx) {
    nd_rnn r;
    nd_rnn_acts a;
    nd_error err;
    real x[B * T * I], y[B * T * O], fbT[N * O];
    setup(&r, 0.4, x, y);
    nd_rnn_acts_create(&a, &r, B, T, &err);
    real *g = nd_alloc(sizeof(real) * r.n_params), *gr = nd_alloc(sizeof(real) * r.n_params);
    real *work = nd_alloc(sizeof(real) * N * (N + I + 1));
    for (int i = 0; i < N; i++)
        for (int k = 0; k < O; k++) fbT[i * O + k] = r.V[k * N + i];
    size_t nW = (size_t)N * N, nWUb = nW + (size_t)N * I + N;
    /* with recurrence: the read-out is exact, W's update is not */
    nd_rnn_forward(&r, &a, x, y);
    nd_rnn_bptt(&r, &a, x, y, g);
    nd_rnn_rflo(&r, &a, x, y, fbT, gr, work);
    double e_read = rel(gr, g, nWUb, r.n_params), e_rec = rel(gr, g, 0, nW);
    /* without: exact everywhere */
    memset(r.W, 0, sizeof(real) * nW);
    nd_rnn_forward(&r, &a, x, y);
    nd_rnn_bptt(&r, &a, x, y, g);
    nd_rnn_rflo(&r, &a, x, y, fbT, gr, work);
    double e_all = rel(gr, g, 0, r.n_params);
    printf("    RFLO (fb = V^T) vs BPTT: read-out %.1e, W %.2f with recurrence; everything %.1e at W = 0\n", e_read,
           e_rec, e_all);
    CHECK(ctx, e_read < 1e-12, "read-out gradient %.3g", e_read);
    CHECK(ctx, e_all < 1e-12, "RFLO at W = 0 with fb = V^T: %.3g", e_all);
    CHECK(ctx, e_rec > 1e-3, "RFLO should truncate the recurrent path: %.3g", e_rec);
    nd_free(g); nd_free(gr); nd_free(work);
    nd_rnn_acts_free(&a);
    nd_rnn_free(&r);
}

int main(void) {
    RUN(test_bptt_leaky);
    RUN(test_bptt_vanilla);
    RUN(test_rflo_exact_without_recurrence);
    TEST_MAIN_END();
}
