/* Backprop in the learning-rules network (src/models/mlp_rules.c) against central differences of the batch loss,
 * for both losses (double build). */
#include "test.h"
#include "../src/models/mlp_rules.h"
#include "../src/core/mem.h"

static void check(nd_test_ctx *ctx, nd_mlp_loss loss) {
    int widths[4] = {5, 7, 6, 3};
    nd_mlp m;
    nd_error err;
    CHECK(ctx, nd_mlp_create(&m, 3, widths, loss, 3, &err) == ND_OK, "%s", err.msg);
    nd_rng r;
    nd_rng_seed(&r, 4);
    for (size_t i = 0; i < m.n_params; i++) m.params[i] += (real)(0.2 * nd_rng_normal(&r));
    enum { B = 4 };
    real x[B * 5], y[B * 3];
    int labels[B] = {0, 2, 1, 2};
    for (int i = 0; i < B * 5; i++) x[i] = (real)nd_rng_normal(&r);
    for (int i = 0; i < B * 3; i++) y[i] = (real)nd_rng_normal(&r);
    nd_mlp_acts a;
    nd_rule_ctx c;
    nd_mlp_acts_create(&a, &m, B, &err);
    nd_rule_ctx_create(&c, &m, B, 0.01, &r, &err);
    real *g = nd_alloc(sizeof(real) * m.n_params);
    nd_mlp_forward(&m, &a, x, B, labels, y, NULL);
    nd_rule_estimate(ND_RULE_BP, &m, &a, x, B, labels, y, &c, g);
    double worst = 0, h = 1e-6;
    for (size_t i = 0; i < m.n_params; i++) {
        real k = m.params[i];
        m.params[i] = k + h;
        double fp = nd_mlp_forward(&m, &a, x, B, labels, y, NULL);
        m.params[i] = k - h;
        double fm = nd_mlp_forward(&m, &a, x, B, labels, y, NULL);
        m.params[i] = k;
        double num = (fp - fm) / (2 * h);
        worst = fmax(worst, fabs(num - g[i]) / fmax(1, fmax(fabs(num), fabs(g[i]))));
    }
    printf("    %s: %zu params, max err %.1e\n", loss == ND_LOSS_XENT ? "cross-entropy" : "squared error", m.n_params, worst);
    CHECK(ctx, worst < 1e-8, "backprop vs finite differences: %.3g", worst);
    nd_free(g);
    nd_rule_ctx_free(&c);
    nd_mlp_acts_free(&a);
    nd_mlp_free(&m);
}

static void test_bp_xent(nd_test_ctx *ctx) { check(ctx, ND_LOSS_XENT); }
static void test_bp_mse(nd_test_ctx *ctx) { check(ctx, ND_LOSS_MSE); }

int main(void) {
    RUN(test_bp_xent);
    RUN(test_bp_mse);
    TEST_MAIN_END();
}
