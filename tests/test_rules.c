/* The learning rules' gradient estimates measured against backprop (src/models/mlp_rules.c):
 * - backprop is the gradient (angle 0, no variance); FA, DFA and sign symmetry give the output layer's exact
 *   gradient (they differ only in how the error reaches hidden layers);
 * - node and weight perturbation are unbiased for small noise (their mean over many draws points along the
 *   gradient) and their variance scales as the theory says: weight perturbation's relative variance is about the
 *   number of parameters (Gaussian noise: E|xi xi^T g|^2 = (N + 2)|g|^2 sigma^4), node perturbation's is far lower
 *   because it perturbs units, not weights;
 * - feedback alignment aligns: after training on a teacher-student task its hidden-layer update is within 90
 *   degrees of the gradient (it starts near 90: a random feedback is orthogonal to it on average). */
#include "test.h"
#include "../src/models/mlp_rules.h"
#include "../src/core/mem.h"

/* a teacher-student batch: inputs N(0, 1), targets from a random teacher with the student's shape */
static void teacher_batch(const int *widths, int L, int B, uint64_t seed, real *x, real *y) {
    nd_mlp t;
    nd_error err;
    nd_mlp_create(&t, L, widths, ND_LOSS_MSE, seed + 100, &err);
    nd_rng r;
    nd_rng_seed(&r, seed);
    for (int i = 0; i < B * widths[0]; i++) x[i] = (real)nd_rng_normal(&r);
    nd_mlp_acts a;
    nd_mlp_acts_create(&a, &t, B, &err);
    nd_mlp_forward(&t, &a, x, B, NULL, y, NULL); /* y unused by the forward's output */
    memcpy(y, a.a[L], sizeof(real) * B * widths[L]);
    nd_mlp_acts_free(&a);
    nd_mlp_free(&t);
}

static void stats(nd_test_ctx *ctx, nd_rule rule, const int *w, int L, int samples, double sigma, nd_rule_stats *s) {
    enum { B = 32 };
    real *x = malloc(sizeof(real) * B * w[0]), *y = malloc(sizeof(real) * B * w[L]);
    real *y0 = calloc((size_t)B * w[L], sizeof(real));
    teacher_batch(w, L, B, 1, x, y0);
    memcpy(y, y0, sizeof(real) * B * w[L]);
    nd_mlp m;
    nd_error err;
    CHECK(ctx, nd_mlp_create(&m, L, w, ND_LOSS_MSE, 7, &err) == ND_OK, "%s", err.msg);
    CHECK(ctx, nd_rule_bias_variance(rule, &m, x, B, NULL, y, samples, sigma, 11, s, &err) == ND_OK, "%s", err.msg);
    nd_mlp_free(&m);
    free(x); free(y); free(y0);
}

static void test_deterministic_rules(nd_test_ctx *ctx) {
    int w[4] = {12, 16, 16, 4};
    nd_rule_stats s;
    stats(ctx, ND_RULE_BP, w, 3, 1, 0, &s);
    CHECK(ctx, s.angle_deg[3] < 1e-2 && fabs(s.rel_norm[3] - 1) < 1e-6 && s.variance[3] == 0, "bp: %.3g deg", s.angle_deg[3]);
    for (int r = ND_RULE_FA; r <= ND_RULE_SIGN; r++) {
        stats(ctx, (nd_rule)r, w, 3, 1, 0, &s);
        printf("    %-4s angle to the gradient per layer: %.1f %.1f %.1f deg (output layer exact), variance %.0f\n",
               nd_rule_name((nd_rule)r), s.angle_deg[0], s.angle_deg[1], s.angle_deg[2], s.variance[3]);
        CHECK(ctx, s.angle_deg[2] < 1e-2, "%s: output layer angle %.3g", nd_rule_name((nd_rule)r), s.angle_deg[2]);
        CHECK(ctx, s.angle_deg[0] > 1, "%s: a random feedback cannot be the gradient at initialisation",
              nd_rule_name((nd_rule)r));
        CHECK(ctx, s.variance[3] == 0, "deterministic rule with variance");
    }
}

static void test_perturbation_unbiased_and_variance(nd_test_ctx *ctx) {
    int small[3] = {8, 10, 3}, wide[3] = {8, 40, 3};
    nd_rule_stats np, wp, wpw;
    stats(ctx, ND_RULE_NP, small, 2, 4000, 1e-2, &np);
    stats(ctx, ND_RULE_WP, small, 2, 4000, 1e-2, &wp);
    stats(ctx, ND_RULE_WP, wide, 2, 4000, 1e-2, &wpw);
    const double n_small = 8 * 10 + 10 + 10 * 3 + 3, n_wide = 8 * 40 + 40 + 40 * 3 + 3;
    printf("    NP (8-10-3): angle %.1f deg, |mean|/|g| %.2f, variance %.1f\n", np.angle_deg[2], np.rel_norm[2],
           np.variance[2]);
    printf("    WP (8-10-3, %d params): angle %.1f deg, |mean|/|g| %.2f, variance %.1f\n", (int)n_small,
           wp.angle_deg[2], wp.rel_norm[2], wp.variance[2]);
    printf("    WP (8-40-3, %d params): angle %.1f deg, variance %.1f\n", (int)n_wide, wpw.angle_deg[2], wpw.variance[2]);
    CHECK(ctx, np.angle_deg[2] < 10 && fabs(np.rel_norm[2] - 1) < 0.2, "NP biased: %.2f deg, norm %.2f",
          np.angle_deg[2], np.rel_norm[2]);
    CHECK(ctx, wp.angle_deg[2] < 20, "WP biased: %.2f deg", wp.angle_deg[2]);
    CHECK(ctx, wp.variance[2] > 0.5 * n_small && wp.variance[2] < 2 * n_small, "WP variance %.1f vs %g parameters",
          wp.variance[2], n_small);
    CHECK(ctx, wpw.variance[2] / wp.variance[2] > 0.5 * n_wide / n_small &&
                   wpw.variance[2] / wp.variance[2] < 2 * n_wide / n_small,
          "WP variance must grow with the parameters: %.1f -> %.1f", wp.variance[2], wpw.variance[2]);
    CHECK(ctx, np.variance[2] < wp.variance[2] / 4, "NP variance %.1f not far below WP's %.1f", np.variance[2],
          wp.variance[2]);
}

/* train with FA on a teacher-student task; the hidden layer's FA update aligns with the gradient */
static void test_feedback_alignment_aligns(nd_test_ctx *ctx) {
    int w[3] = {10, 30, 4};
    enum { B = 64 };
    real x[B * 10], y[B * 4];
    teacher_batch(w, 2, B, 3, x, y);
    nd_mlp m;
    nd_error err;
    nd_mlp_create(&m, 2, w, ND_LOSS_MSE, 5, &err);
    nd_rule_stats s0, s1;
    nd_rule_bias_variance(ND_RULE_FA, &m, x, B, NULL, y, 1, 0, 1, &s0, &err);
    nd_mlp_acts a;
    nd_rule_ctx c;
    nd_rng r;
    nd_rng_seed(&r, 2);
    nd_mlp_acts_create(&a, &m, B, &err);
    nd_rule_ctx_create(&c, &m, B, 0, &r, &err);
    real *g = nd_alloc(sizeof(real) * m.n_params);
    double e0 = nd_mlp_forward(&m, &a, x, B, NULL, y, NULL), e = e0;
    for (int step = 0; step < 3000; step++) {
        e = nd_mlp_forward(&m, &a, x, B, NULL, y, NULL);
        nd_rule_estimate(ND_RULE_FA, &m, &a, x, B, NULL, y, &c, g);
        for (size_t i = 0; i < m.n_params; i++) m.params[i] -= (real)0.05 * g[i];
    }
    nd_rule_bias_variance(ND_RULE_FA, &m, x, B, NULL, y, 1, 0, 1, &s1, &err);
    printf("    FA hidden-layer angle to the gradient: %.1f deg at start, %.1f deg after 3000 steps (loss %.3f -> %.3f)\n",
           s0.angle_deg[0], s1.angle_deg[0], e0, e);
    /* the spec's claim: the angle falls below 90 degrees during learning (here ~93 -> ~77 within 250 steps, ~73 at
     * the end; the weight updates of a small full-batch teacher-student task, not the error signals) */
    CHECK(ctx, s1.angle_deg[0] < 85 && s1.angle_deg[0] < s0.angle_deg[0] - 10, "FA did not align: %.1f -> %.1f deg",
          s0.angle_deg[0], s1.angle_deg[0]);
    CHECK(ctx, e < 0.5 * e0, "FA did not learn: loss %.3f -> %.3f", e0, e);
    nd_free(g);
    nd_rule_ctx_free(&c);
    nd_mlp_acts_free(&a);
    nd_mlp_free(&m);
}

int main(void) {
    RUN(test_deterministic_rules);
    RUN(test_perturbation_unbiased_and_variance);
    RUN(test_feedback_alignment_aligns);
    TEST_MAIN_END();
}
