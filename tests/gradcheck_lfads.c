/* Whole-model gradient check (double precision build): the analytic gradient of
 * the LFADS objective w.r.t. every parameter agrees with central differences. */
#include "test.h"
#include "../src/models/lfads.h"
#include "../src/core/mem.h"
#include <stdlib.h>

typedef struct {
    const char *name;
    int ctrl, E, ar1, lag, sv;
    double cd, dropout, clip;
    int extra_neurons, extra_bins; /* held-out neurons, forward-prediction bins */
    int stitched;                  /* 3 sessions of 5, 3 and 6 neurons, read-in width 4; the batch from session 2 */
    int ci_through_fp;             /* ci_zero_pad = 0: CI encoders through the forward-prediction bins (legacy) */
    int recon;                     /* reconstruction model (ND_RECON_*; 0 = Poisson) */
} gc_case;

static double objective(const nd_lfads_model *m, nd_lfads_work *w, const real *X, const real *XR,
                        const real *EXT, const real *SV, int B, const nd_lfads_mode *mode) {
    nd_rng r;
    nd_rng_seed(&r, 1234); /* same masks and posterior samples every evaluation */
    nd_lfads_loss L;
    nd_lfads_forward_recon(m, w, X, XR, EXT, SV, B, mode, &r, &L);
    return L.objective;
}

/* tweak (may be NULL) adjusts the config after the case's settings */
static void run_case_with(nd_test_ctx *ctx, const gc_case *gc, void (*tweak)(nd_lfads_config *)) {
    nd_lfads_config c;
    nd_lfads_config_default(&c);
    c.gen_dim = 7; c.ic_enc_dim = 4; c.ic_dim = 3; c.fac_dim = 4;
    c.con_dim = gc->ctrl ? 5 : 0; c.co_dim = gc->ctrl ? 2 : 0; c.ci_enc_dim = gc->ctrl ? 3 : 0;
    c.ci_lag = gc->lag; c.co_prior_ar1 = gc->ar1; c.cd_rate = gc->cd; c.dropout_rate = gc->dropout;
    c.sv_rate = gc->sv ? 0.2 : 0; c.cell_clip = gc->clip; c.l2_con_scale = 3; c.l2_gen_scale = 5;
    c.kl_ic_scale = 0.7; c.kl_co_scale = 1.3; c.ci_zero_pad = !gc->ci_through_fp;
    c.recon = gc->recon; c.zig_loc = 0.15;
    if (tweak) tweak(&c);
    const int S = gc->stitched ? 3 : 1, sess = gc->stitched ? 1 : 0;
    int Ns[3] = {5, 3, 6}, Nrs[3];
    for (int k = 0; k < 3; k++) Nrs[k] = Ns[k] + gc->extra_neurons;
    const int N = Ns[sess], T = 6, B = 3, Nr = N + gc->extra_neurons, Tr = T + gc->extra_bins;
    nd_lfads_model m;
    nd_error err;
    CHECK(ctx, nd_lfads_create_sessions(&m, &c, S, Ns, Nrs, gc->stitched ? 4 : 0, gc->E, &err) == ND_OK, "%s",
          err.msg);
    float rate[32] = {0.5f, 1.0f, 2.0f, 0.2f, 1.5f, 0.7f, 1.1f, 0.3f, 0.5f, 1.0f, 2.0f, 0.2f, 1.5f, 0.7f, 1.1f, 0.3f,
                      0.5f, 1.0f, 2.0f, 0.2f, 1.5f, 0.7f, 1.1f, 0.3f, 0.5f, 1.0f, 2.0f, 0.2f, 1.5f, 0.7f, 1.1f, 0.3f};
    nd_lfads_init(&m, 7, rate);
    /* perturb so that no parameter sits at a special value (zero biases, priors) */
    nd_rng r;
    nd_rng_seed(&r, 99);
    for (size_t i = 0; i < m.n_params; i++) m.params[i] += (real)(0.1 * nd_rng_normal(&r));
    nd_lfads_work *w;
    CHECK(ctx, nd_lfads_work_create2(&w, &m, B, T, Tr, &err) == ND_OK, "%s", err.msg);
    real *X = nd_alloc(sizeof(real) * T * B * N), *EXT = nd_alloc(sizeof(real) * Tr * B * (gc->E + 1));
    real *XR = nd_alloc(sizeof(real) * Tr * B * Nr);
    real *SV = nd_alloc(sizeof(real) * T * B * N);
    for (int i = 0; i < Tr * B * Nr; i++) {
        double u = nd_rng_uniform(&r);
        switch (gc->recon) { /* non-count targets: traces (zig: zeros and values above zig_loc) */
        case ND_RECON_GAUSSIAN: XR[i] = (real)(2.5 * u - 0.3); break;
        case ND_RECON_GAMMA: XR[i] = (real)(0.05 + 2 * u); break;
        case ND_RECON_ZIG: XR[i] = u < 0.4 ? 0 : (real)(0.2 + 2 * u); break;
        default: XR[i] = (real)nd_rng_poisson(&r, 1.2);
        }
    }
    for (int t = 0; t < T; t++) /* the encoder input is the held-in, observed part of the target */
        for (int b = 0; b < B; b++)
            for (int n = 0; n < N; n++) X[((size_t)t * B + b) * N + n] = XR[((size_t)t * B + b) * Nr + n];
    for (int i = 0; i < T * B * N; i++) SV[i] = gc->sv && nd_rng_uniform(&r) < 0.2;
    for (int i = 0; i < Tr * B * gc->E; i++) EXT[i] = (real)nd_rng_normal(&r);
    nd_lfads_mode mode = {1, 1, 0.7, 0.6, sess};
    real *grad = nd_alloc(sizeof(real) * m.n_params);
    objective(&m, w, X, XR, EXT, gc->sv ? SV : NULL, B, &mode);
    nd_lfads_backward(&m, w, grad);
    double maxerr = 0, h = 1e-5;
    size_t worst = 0, nonzero = 0;
    for (size_t i = 0; i < m.n_params; i++) {
        real keep = m.params[i];
        m.params[i] = keep + h;
        double fp = objective(&m, w, X, XR, EXT, gc->sv ? SV : NULL, B, &mode);
        m.params[i] = keep - h;
        double fm = objective(&m, w, X, XR, EXT, gc->sv ? SV : NULL, B, &mode);
        m.params[i] = keep;
        double num = (fp - fm) / (2 * h), a = grad[i];
        double e = fabs(a - num) / fmax(1.0, fmax(fabs(a), fabs(num)));
        if (fabs(a) > 1e-8) nonzero++;
        if (e > maxerr) { maxerr = e; worst = i; }
    }
    printf("    %s: %zu params (%zu nonzero grads), max err %.2e (param %zu)\n", gc->name, m.n_params, nonzero,
           maxerr, worst);
    CHECK(ctx, maxerr < 1e-6, "max err %.3e at param %zu", maxerr, worst);
    CHECK(ctx, nonzero > m.n_params / 2, "too few non-zero gradients: %zu of %zu", nonzero, m.n_params);
    if (gc->stitched) { /* the other sessions' read-ins and read-outs get exactly no gradient; this one's do */
        size_t own0 = m.soff[sess], own1 = m.soff[sess + 1], foreign = 0, own = 0;
        for (size_t i = m.soff[0]; i < m.n_params; i++) {
            if (i >= own0 && i < own1) own += grad[i] != 0;
            else foreign += grad[i] != 0;
        }
        CHECK(ctx, foreign == 0, "%zu non-zero gradients in other sessions' blocks", foreign);
        CHECK(ctx, own > (own1 - own0) / 2, "only %zu of %zu read-in/read-out gradients non-zero", own, own1 - own0);
    }
    nd_free(grad); nd_free(X); nd_free(XR); nd_free(EXT); nd_free(SV);
    nd_lfads_work_free(w);
    nd_lfads_free(&m);
}

static void run_case(nd_test_ctx *ctx, const gc_case *gc) { run_case_with(ctx, gc, NULL); }

static void test_controller_on_cd(nd_test_ctx *ctx) {
    gc_case gc = {"controller on, AR(1) prior, coordinated dropout 0.3, dropout 0.1, ext input 2", 1, 2, 1, 1, 0,
                  0.3, 0.1, 5.0, 0, 0, 0, 0, 0};
    run_case(ctx, &gc);
}
static void test_controller_off_cd(nd_test_ctx *ctx) {
    gc_case gc = {"controller off, coordinated dropout 0.3, dropout 0.1", 0, 0, 1, 1, 0, 0.3, 0.1, 5.0, 0, 0, 0, 0, 0};
    run_case(ctx, &gc);
}
static void test_controller_off_ext(nd_test_ctx *ctx) {
    gc_case gc = {"controller off, ext input 2, no dropout", 0, 2, 1, 1, 0, 0.0, 0.0, 5.0, 0, 0, 0, 0, 0};
    run_case(ctx, &gc);
}
static void test_gauss_prior_lag2_sv(nd_test_ctx *ctx) {
    gc_case gc = {"controller on, Gaussian co prior (learned mean, analytic KL), ci_lag 2, sample validation (rescaled)", 1, 0, 0, 2, 1, 0.0, 0.2, 5.0, 0, 0, 0, 0, 0};
    run_case(ctx, &gc);
}
static void test_lag0(nd_test_ctx *ctx) {
    gc_case gc = {"controller on, ci_lag 0, coordinated dropout 0.5", 1, 0, 1, 0, 0, 0.5, 0.0, 5.0, 0, 0, 0, 0, 0};
    run_case(ctx, &gc);
}

static void test_heldout_fp(nd_test_ctx *ctx) {
    gc_case gc = {"held-out neurons 3, forward-prediction bins 2, controller on, CD 0.3, sample validation, ext 1",
                  1, 1, 1, 1, 1, 0.3, 0.1, 5.0, 3, 2, 0, 0, 0};
    run_case(ctx, &gc);
}
static void test_heldout_fp_ci_legacy(nd_test_ctx *ctx) {
    gc_case gc = {"forward-prediction bins 3, controller on, ci_lag 2, CI encoders through the forward bins "
                  "(ci_zero_pad 0)", 1, 1, 1, 2, 0, 0.3, 0.1, 5.0, 2, 3, 0, 1, 0};
    run_case(ctx, &gc);
}
static void test_heldout_fp_lag2(nd_test_ctx *ctx) {
    gc_case gc = {"forward-prediction bins 3, controller on, ci_lag 2, zero controller inputs past the observed bins",
                  1, 0, 0, 2, 0, 0.0, 0.1, 5.0, 1, 3, 0, 0, 0};
    run_case(ctx, &gc);
}
static void test_heldout_ctrl_off(nd_test_ctx *ctx) {
    gc_case gc = {"held-out neurons 2, forward-prediction bins 3, controller off", 0, 0, 1, 1, 0, 0.3, 0.0, 5.0, 2, 3, 0, 0, 0};
    run_case(ctx, &gc);
}

static void test_stitched_ctrl(nd_test_ctx *ctx) {
    gc_case gc = {"stitched: 3 sessions, read-in 4, controller on, CD 0.3, sample validation, ext 1, held-out 2, "
                  "forward-prediction 2", 1, 1, 1, 1, 1, 0.3, 0.1, 5.0, 2, 2, 1, 0, 0};
    run_case(ctx, &gc);
}
static void test_stitched_ctrl_off(nd_test_ctx *ctx) {
    gc_case gc = {"stitched: 3 sessions, read-in 4, controller off, dropout 0.2", 0, 0, 1, 1, 0, 0.0, 0.2, 5.0, 0, 0,
                  1, 0, 0};
    run_case(ctx, &gc);
}

static void test_recon_gaussian(nd_test_ctx *ctx) {
    gc_case gc = {"recon gaussian: held-out 2, forward-prediction 2, controller on, CD 0.3, sample validation",
                  1, 0, 1, 1, 1, 0.3, 0.1, 5.0, 2, 2, 0, 0, ND_RECON_GAUSSIAN};
    run_case(ctx, &gc);
}
static void test_recon_gamma(nd_test_ctx *ctx) {
    gc_case gc = {"recon gamma: held-out 2, forward-prediction 2, controller on, CD 0.3, sample validation, ext 1",
                  1, 1, 1, 1, 1, 0.3, 0.1, 5.0, 2, 2, 0, 0, ND_RECON_GAMMA};
    run_case(ctx, &gc);
}
static void test_recon_zig(nd_test_ctx *ctx) {
    gc_case gc = {"recon zig: held-out 2, forward-prediction 2, controller on, CD 0.3, sample validation",
                  1, 0, 1, 1, 1, 0.3, 0.1, 5.0, 2, 2, 0, 0, ND_RECON_ZIG};
    run_case(ctx, &gc);
}
static void test_recon_zig_ctrl_off(nd_test_ctx *ctx) {
    gc_case gc = {"recon zig: controller off, no dropout", 0, 0, 1, 1, 0, 0.0, 0.0, 5.0, 0, 0, 0, 0, ND_RECON_ZIG};
    run_case(ctx, &gc);
}
static void test_recon_zig_stitched(nd_test_ctx *ctx) {
    gc_case gc = {"recon zig, stitched: 3 sessions, read-in 4, controller on, CD 0.3, held-out 2", 1, 0, 1, 1, 0, 0.3,
                  0.1, 5.0, 2, 0, 1, 0, ND_RECON_ZIG};
    run_case(ctx, &gc);
}

static void torch_units(nd_lfads_config *c) {
    c->recon_reduce_mean = 1; c->kl_ic_scale = 0.011; c->kl_co_scale = 0.02; c->l2_gen_scale = 0.3;
}
static void test_reduce_mean(nd_test_ctx *ctx) {
    gc_case gc = {"recon_reduce_mean (lfads-torch scale units), held-out 2, forward-prediction 1, controller on",
                  1, 0, 1, 1, 0, 0.3, 0.1, 5.0, 2, 1, 0, 0, 0};
    run_case_with(ctx, &gc, torch_units);
}

/* issue 16, finding 4: the lfads-torch paths (defaults) and the legacy ones behind keys */
static void legacy_all(nd_lfads_config *c) {
    c->co_prior_analytic = 0; c->ext_input_dropout = 0; c->l2_pooled = 0; c->sv_rescale = 0;
}
static void test_gauss_prior_legacy(nd_test_ctx *ctx) {
    gc_case gc = {"legacy paths: Gaussian co prior sampled KL fixed mean, no ext-input dropout, L2 per kernel, "
                  "unscaled sample validation, ext 2, dropout 0.2", 1, 2, 0, 1, 1, 0.3, 0.2, 5.0, 1, 1, 0, 0, 0};
    run_case_with(ctx, &gc, legacy_all);
}
static void test_ext_dropout(nd_test_ctx *ctx) {
    gc_case gc = {"ext-input dropout 0.3 (lfads-torch), controller off, ext 3, forward-prediction 2", 0, 3, 1, 1, 0,
                  0.0, 0.3, 5.0, 0, 2, 0, 0, 0};
    run_case(ctx, &gc);
}
static void torch_units_gauss(nd_lfads_config *c) {
    torch_units(c);
    c->l2_con_scale = 0.2;
}
static void test_reduce_mean_gauss(nd_test_ctx *ctx) {
    gc_case gc = {"recon_reduce_mean, Gaussian co prior (learned mean, analytic KL / Tr), pooled L2 gen+con, "
                  "sample validation, ext 1", 1, 1, 0, 1, 1, 0.3, 0.1, 5.0, 1, 2, 0, 0, 0};
    run_case_with(ctx, &gc, torch_units_gauss);
}

int main(void) {
    RUN(test_controller_on_cd);
    RUN(test_controller_off_cd);
    RUN(test_controller_off_ext);
    RUN(test_gauss_prior_lag2_sv);
    RUN(test_lag0);
    RUN(test_heldout_fp);
    RUN(test_heldout_fp_ci_legacy);
    RUN(test_heldout_fp_lag2);
    RUN(test_heldout_ctrl_off);
    RUN(test_stitched_ctrl);
    RUN(test_stitched_ctrl_off);
    RUN(test_reduce_mean);
    RUN(test_recon_gaussian);
    RUN(test_recon_gamma);
    RUN(test_recon_zig);
    RUN(test_recon_zig_ctrl_off);
    RUN(test_recon_zig_stitched);
    RUN(test_gauss_prior_legacy);
    RUN(test_ext_dropout);
    RUN(test_reduce_mean_gauss);
    TEST_MAIN_END();
}
