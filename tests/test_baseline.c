/* Baselines beside LFADS: Poisson GLM, nlb smoothing filter, GPFA (EM), their drivers and the CLI.
 * Reference values: tests/fixtures/make_baseline_fixtures.py (sklearn / scipy / dense numpy GPFA). */
#include "test.h"
#include "../src/neurodyn_internal.h"
#include "../src/models/baseline.h"
#include "../src/models/gpfa.h"
#include "../src/models/poisson_glm.h"
#include "fixtures/baseline_fixtures.h"
#include <lapacke.h>
#include <stdlib.h>
#include <unistd.h>

static double maxdiff(const double *a, const double *b, size_t n) {
    double m = 0;
    for (size_t i = 0; i < n; i++) if (fabs(a[i] - b[i]) > m) m = fabs(a[i] - b[i]);
    return m;
}

static void test_glm_matches_sklearn(nd_test_ctx *ctx) {
    const double *w_ref[3] = {glm_w_a001, glm_w_a0, glm_w_a1}, b_ref[3] = {glm_b_a001, glm_b_a0, glm_b_a1};
    const double alpha[3] = {glm_alpha_a001, glm_alpha_a0, glm_alpha_a1};
    for (int c = 0; c < 3; c++) {
        nd_glm_opts o;
        nd_glm_opts_default(&o);
        o.alpha = alpha[c];
        double w[GLM_P], b;
        int it;
        nd_error err;
        CHECK(ctx, nd_poisson_glm_fit(glm_X, glm_y, GLM_N, GLM_P, &o, w, &b, &it, &err) == ND_OK, "%s", err.msg);
        double e = maxdiff(w, w_ref[c], GLM_P);
        if (fabs(b - b_ref[c]) > e) e = fabs(b - b_ref[c]);
        CHECK(ctx, e < 1e-7, "alpha %g: max |diff| vs sklearn %.3g", alpha[c], e);
        CHECK(ctx, it > 0 && it < 30, "alpha %g: %d Newton iterations", alpha[c], it);
    }
}

static void test_glm_recovers_weights(nd_test_ctx *ctx) {
    enum { n = 20000, p = 4, q = 3 };
    const double W[q][p] = {{0.6, -0.4, 0.2, 0.0}, {-0.3, 0.5, 0.0, 0.7}, {0.0, 0.0, 0.0, 0.0}};
    const double B[q] = {0.1, -0.5, -1.0};
    double *X = malloc(sizeof(double) * n * p);
    float *Y = malloc(sizeof(float) * n * q);
    nd_rng r;
    nd_rng_seed(&r, 7);
    for (int i = 0; i < n; i++) {
        for (int j = 0; j < p; j++) X[i * p + j] = nd_rng_normal(&r);
        for (int k = 0; k < q; k++) {
            double e = B[k];
            for (int j = 0; j < p; j++) e += W[k][j] * X[i * p + j];
            Y[i * q + k] = (float)nd_rng_poisson(&r, exp(e));
        }
    }
    double Wh[q * p], Bh[q];
    nd_glm_opts o;
    nd_glm_opts_default(&o);
    o.alpha = 0;
    nd_error err;
    CHECK(ctx, nd_poisson_glm_fit_many(X, Y, q, n, p, q, &o, Wh, Bh, &err) == ND_OK, "%s", err.msg);
    for (int k = 0; k < q; k++) {
        CHECK(ctx, maxdiff(Wh + k * p, W[k], p) < 0.05, "neuron %d weights off by %.3f", k, maxdiff(Wh + k * p, W[k], p));
        CHECK(ctx, fabs(Bh[k] - B[k]) < 0.05, "neuron %d intercept %.3f vs %.3f", k, Bh[k], B[k]);
    }
    /* a silent neuron: rate 1e-9, no error; a negative count is refused */
    double y0[5] = {0, 0, 0, 0, 0}, w0[1], b0;
    CHECK(ctx, nd_poisson_glm_fit(X, y0, 5, 1, &o, w0, &b0, NULL, &err) == ND_OK && fabs(exp(b0) - 1e-9) < 1e-15, "silent");
    y0[2] = -1;
    CHECK(ctx, nd_poisson_glm_fit(X, y0, 5, 1, &o, w0, &b0, NULL, &err) == ND_ERR_ARG, "negative count accepted");
    free(X);
    free(Y);
}

static void test_smoothing_matches_nlb_filter(nd_test_ctx *ctx) {
    float c[SM_N * SM_T * SM_NN], out[SM_N * SM_T * SM_NN];
    for (int i = 0; i < SM_N * SM_T * SM_NN; i++) c[i] = (float)sm_counts[i];
    nd_error err;
    CHECK(ctx, nd_smooth_nlb(out, c, SM_N, SM_T, SM_NN, sm_sd, &err) == ND_OK, "%s", err.msg);
    double e = 0;
    for (int i = 0; i < SM_N * SM_T * SM_NN; i++) if (fabs(out[i] - sm_out[i]) > e) e = fabs(out[i] - sm_out[i]);
    CHECK(ctx, e < 1e-6, "max |diff| vs scipy gaussian + np.convolve 'same': %.3g", e);
}

static void fixture_params(nd_gpfa_params *m) {
    nd_gpfa_params_alloc(m, GP_Q, GP_P, NULL);
    memcpy(m->C, gp_C, sizeof gp_C);
    memcpy(m->d, gp_d, sizeof gp_d);
    memcpy(m->R, gp_R, sizeof gp_R);
    memcpy(m->tau, gp_tau, sizeof gp_tau);
    m->eps = gp_eps;
}

static void test_gpfa_em_step_matches_numpy(nd_test_ctx *ctx) {
    nd_gpfa_params m;
    fixture_params(&m);
    double ll, means[GP_N * GP_T * GP_P], means_fp[GP_N * (GP_T + 2) * GP_P], Y4[GP_N * 4 * GP_Q];
    nd_gpfa_stats s;
    nd_error err;
    CHECK(ctx, nd_gpfa_estep(&m, gp_Y, GP_N, GP_T, GP_T, &ll, means, &s, &err) == ND_OK, "%s", err.msg);
    CHECK(ctx, fabs(ll - gp_ll) < 1e-9 * fabs(gp_ll), "log-likelihood %.12g vs %.12g", ll, gp_ll);
    CHECK(ctx, maxdiff(means, gp_means, GP_N * GP_T * GP_P) < 1e-10, "posterior means off by %.3g",
          maxdiff(means, gp_means, GP_N * GP_T * GP_P));
    /* forward prediction: 4 observed bins, posterior over 6 + 2 bins */
    for (int r = 0; r < GP_N; r++) memcpy(Y4 + r * 4 * GP_Q, gp_Y + r * GP_T * GP_Q, sizeof(double) * 4 * GP_Q);
    CHECK(ctx, nd_gpfa_estep(&m, Y4, GP_N, 4, GP_T + 2, NULL, means_fp, NULL, &err) == ND_OK, "%s", err.msg);
    CHECK(ctx, maxdiff(means_fp, gp_means_fp, sizeof means_fp / sizeof(double)) < 1e-10, "forward means off by %.3g",
          maxdiff(means_fp, gp_means_fp, sizeof means_fp / sizeof(double)));
    for (int i = 0; i < GP_P; i++) {
        double g, f = nd_gpfa_tau_objective(GP_T, log(gp_tau[i]), gp_eps, s.Stt + i * GP_T * GP_T, GP_N, &g, &err);
        CHECK(ctx, fabs(f - gp_f_tau[i]) < 1e-9 * (1 + fabs(f)), "latent %d: timescale objective %.12g vs %.12g", i, f,
              gp_f_tau[i]);
        CHECK(ctx, fabs(g - gp_g_tau[i]) < 1e-6 * (1 + fabs(g)), "latent %d: gradient %.9g vs finite difference %.9g",
              i, g, gp_g_tau[i]);
    }
    double floor0[GP_Q] = {0};
    CHECK(ctx, nd_gpfa_mstep(&m, &s, floor0, 0, &err) == ND_OK, "%s", err.msg);
    CHECK(ctx, maxdiff(m.C, gp_C_new, GP_Q * GP_P) < 1e-10, "C off by %.3g", maxdiff(m.C, gp_C_new, GP_Q * GP_P));
    CHECK(ctx, maxdiff(m.d, gp_d_new, GP_Q) < 1e-10, "d off by %.3g", maxdiff(m.d, gp_d_new, GP_Q));
    CHECK(ctx, maxdiff(m.R, gp_R_new, GP_Q) < 1e-10, "R off by %.3g", maxdiff(m.R, gp_R_new, GP_Q));
    CHECK(ctx, m.tau[0] == gp_tau[0] && m.tau[1] == gp_tau[1], "timescales changed with learn_tau = 0");
    nd_gpfa_stats_free(&s);
    nd_gpfa_params_free(&m);
}

/* GP latents with known timescales -> linear-Gaussian observations; EM must raise the likelihood every
 * iteration and recover the latent subspace and the timescales. */
static void test_gpfa_recovers_gp_latents(nd_test_ctx *ctx) {
    enum { n = 80, T = 25, q = 12, p = 3 };
    const double taus[p] = {2.0, 4.0, 8.0};
    double *K = calloc(T * T, sizeof(double)), *x = malloc(sizeof(double) * n * T * p);
    double *Y = malloc(sizeof(double) * n * T * q), C[q * p], d[q];
    nd_rng r;
    nd_rng_seed(&r, 11);
    for (int i = 0; i < q * p; i++) C[i] = nd_rng_normal(&r);
    for (int k = 0; k < q; k++) d[k] = 1 + nd_rng_uniform(&r);
    for (int i = 0; i < p; i++) {
        for (int t = 0; t < T; t++)
            for (int u = 0; u < T; u++)
                K[t * T + u] = 0.999 * exp(-(t - u) * (t - u) / (2 * taus[i] * taus[i])) + (t == u ? 1e-3 : 0);
        LAPACKE_dpotrf(LAPACK_ROW_MAJOR, 'L', T, K, T);
        for (int b = 0; b < n; b++) {
            double z[T];
            for (int t = 0; t < T; t++) z[t] = nd_rng_normal(&r);
            for (int t = 0; t < T; t++) {
                double v = 0;
                for (int u = 0; u <= t; u++) v += K[t * T + u] * z[u];
                x[(b * T + t) * p + i] = v;
            }
        }
    }
    for (int b = 0; b < n * T; b++)
        for (int k = 0; k < q; k++) {
            double v = d[k] + 0.5 * nd_rng_normal(&r);
            for (int i = 0; i < p; i++) v += C[k * p + i] * x[b * p + i];
            Y[b * q + k] = v;
        }
    nd_gpfa_opts o;
    nd_gpfa_opts_default(&o);
    o.latents = p; o.max_iters = 60; o.tol = 0; o.bin_ms = 10; o.tau_init_ms = 50;
    nd_gpfa_params m;
    double *ll = NULL;
    int iters = 0;
    nd_error err;
    CHECK(ctx, nd_gpfa_fit(Y, n, T, q, &o, &m, &ll, &iters, &err) == ND_OK, "%s", err.msg);
    if (ctx->failed_checks) return;
    CHECK(ctx, iters == 60, "%d iterations", iters);
    int drops = 0;
    for (int i = 1; i < iters; i++) if (ll[i] < ll[i - 1] - 1e-10 * fabs(ll[i - 1])) drops++;
    CHECK(ctx, drops == 0, "log-likelihood fell in %d of %d iterations", drops, iters - 1);
    CHECK(ctx, ll[iters - 1] > ll[0] + 1, "EM did not improve: %.6g -> %.6g", ll[0], ll[iters - 1]);
    double *mu = malloc(sizeof(double) * n * T * p);
    float *fm = malloc(sizeof(float) * n * T * p), *fx = malloc(sizeof(float) * n * T * p);
    CHECK(ctx, nd_gpfa_estep(&m, Y, n, T, T, NULL, mu, NULL, &err) == ND_OK, "%s", err.msg);
    for (int i = 0; i < n * T * p; i++) { fm[i] = (float)mu[i]; fx[i] = (float)x[i]; }
    double r2;
    /* fit the map on the first half of the trials, score on the second */
    size_t h = (size_t)(n / 2) * T;
    CHECK(ctx, nd_lstsq_r2(fm, fx, h, fm + h * p, fx + h * p, h, p, p, &r2, &err) == ND_OK, "%s", err.msg);
    double ts[p];
    memcpy(ts, m.tau, sizeof ts);
    for (int i = 0; i < p; i++)
        for (int j = i + 1; j < p; j++) if (ts[j] < ts[i]) { double t = ts[i]; ts[i] = ts[j]; ts[j] = t; }
    printf("    latent R^2 %.3f; timescales %.2f %.2f %.2f bins (true 2 4 8); LL %.1f -> %.1f\n", r2, ts[0], ts[1], ts[2],
           ll[0], ll[iters - 1]);
    CHECK(ctx, r2 > 0.9, "latent subspace R^2 %.3f", r2);
    for (int i = 0; i < p; i++) CHECK(ctx, fabs(ts[i] / taus[i] - 1) < 0.35, "timescale %.2f vs %.2f", ts[i], taus[i]);
    free(mu); free(fm); free(fx);
    nd_free(ll);
    nd_gpfa_params_free(&m);
    free(K); free(x); free(Y);
}

/* copy [n][T][N] block of src [n][Ts][Ns] starting at (t0, n0) */
static float *block(const float *src, int n, int Ts, int Ns, int t0, int T, int n0, int N) {
    float *o = nd_alloc(sizeof(float) * (size_t)n * T * N + 1);
    for (int i = 0; i < n; i++)
        for (int t = 0; t < T; t++)
            memcpy(o + ((size_t)i * T + t) * N, src + ((size_t)i * Ts + t0 + t) * Ns + n0, sizeof(float) * N);
    return o;
}

/* NLB co-bps on a block: rates and counts [rows][cols] */
static double bits_per_spike(const float *rate, const float *cnt, size_t rows, int cols) {
    double nll = 0, nll0 = 0, spikes = 0;
    for (int j = 0; j < cols; j++) {
        double mean = 0;
        for (size_t i = 0; i < rows; i++) mean += cnt[i * cols + j];
        mean /= (double)rows;
        for (size_t i = 0; i < rows; i++) {
            double y = cnt[i * cols + j], r = rate[i * cols + j] > 0 ? rate[i * cols + j] : 1e-9;
            nll += r - y * log(r);
            nll0 += mean - y * log(mean > 0 ? mean : 1e-9);
            spikes += y;
        }
    }
    return (nll0 - nll) / spikes / log(2.0);
}


/* The read-out (z-scored regressors) against sklearn: PoissonRegressor on numpy-standardised regressors, and
 * the K-fold CV scores over trials for every penalty of the grid. */
static void test_readout_matches_sklearn(nd_test_ctx *ctx) {
    enum { rows = RD_TRIALS * RD_R };
    float Y[rows * RD_Q];
    for (int i = 0; i < rows * RD_Q; i++) Y[i] = (float)rd_Y[i];
    nd_glm_readout r;
    nd_error err;
    CHECK(ctx, nd_glm_readout_fit(rd_X, Y, RD_Q, rows, RD_P, RD_Q, 0.01, &r, &err) == ND_OK, "%s", err.msg);
    if (ctx->failed_checks) return;
    double e = 0;
    for (int i = 0; i < rows; i++)
        for (int j = 0; j < RD_Q; j++) {
            double d = fabs(nd_glm_readout_rate(&r, rd_X + i * RD_P, j) / rd_rate[i * RD_Q + j] - 1);
            if (d > e) e = d;
        }
    CHECK(ctx, e < 1e-7, "predictions vs sklearn on standardised regressors: max relative diff %.3g", e);
    nd_glm_readout_free(&r);
    double alphas[ND_GLM_MAX_ALPHAS], score[ND_GLM_MAX_ALPHAS];
    int na = nd_glm_default_alphas(alphas), best;
    CHECK(ctx, na == RD_NA && maxdiff(alphas, rd_alphas, na) < 1e-15, "default alpha grid");
    CHECK(ctx, nd_glm_readout_cv(rd_X, Y, RD_Q, RD_TRIALS, RD_R, RD_P, RD_Q, alphas, na, RD_K, score, &best, &err) == ND_OK,
          "%s", err.msg);
    CHECK(ctx, maxdiff(score, rd_score, na) < 1e-7, "CV co-bps vs sklearn off by %.3g", maxdiff(score, rd_score, na));
    int ref = 0;
    for (int a = 1; a < na; a++) if (rd_score[a] > rd_score[ref]) ref = a;
    CHECK(ctx, best == ref, "best alpha %d vs %d", best, ref);
    CHECK(ctx, nd_glm_readout_cv(rd_X, Y, RD_Q, RD_TRIALS, RD_R, RD_P, RD_Q, alphas, na, 1, score, &best, &err) == ND_ERR_ARG,
          "1 fold accepted");
}

/* Held-out predictions must not depend on the regressors' scales: latents with SDs 0.3 and 0.01 (as GPFA's
 * orthonormalised latents on the auditory recording), multiplied by constants, give the same rates.
 * A GLM with a fixed penalty on unscaled regressors fails this (it cannot use the small latents). */
static void test_readout_scale_invariant(nd_test_ctx *ctx) {
    enum { trials = 40, R = 25, p = 4, q = 3, rows = trials * R };
    const double sdv[p] = {0.29, 0.012, 0.01, 0.008};
    const double Wt[q][p] = {{0.5, 0.4, -0.3, 0.0}, {-0.2, 0.0, 0.6, 0.4}, {0.0, 0.5, 0.0, -0.5}};
    double *X = malloc(sizeof(double) * rows * p), *Xs = malloc(sizeof(double) * rows * p);
    float *Y = malloc(sizeof(float) * rows * q);
    nd_rng g;
    nd_rng_seed(&g, 3);
    for (int i = 0; i < rows; i++) {
        double z[p];
        for (int j = 0; j < p; j++) { z[j] = nd_rng_normal(&g); X[i * p + j] = sdv[j] * z[j]; }
        for (int k = 0; k < q; k++) {
            double e = -0.3;
            for (int j = 0; j < p; j++) e += Wt[k][j] * z[j];
            Y[i * q + k] = (float)nd_rng_poisson(&g, exp(e));
        }
    }
    nd_error err;
    nd_glm_readout r0;
    CHECK(ctx, nd_glm_readout_fit(X, Y, q, rows, p, q, 0.01, &r0, &err) == ND_OK, "%s", err.msg);
    if (ctx->failed_checks) { free(X); free(Xs); free(Y); return; }
    double alphas[ND_GLM_MAX_ALPHAS], s0[ND_GLM_MAX_ALPHAS], s1[ND_GLM_MAX_ALPHAS];
    int na = nd_glm_default_alphas(alphas), b0, b1;
    CHECK(ctx, nd_glm_readout_cv(X, Y, q, trials, R, p, q, alphas, na, 3, s0, &b0, &err) == ND_OK, "%s", err.msg);
    const double scale[3][p] = {{1e-3, 1e-3, 1e-3, 1e-3}, {100, 100, 100, 100}, {30, 1, 0.02, 500}};
    for (int c = 0; c < 3; c++) {
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < p; j++) Xs[i * p + j] = scale[c][j] * X[i * p + j];
        nd_glm_readout r1;
        CHECK(ctx, nd_glm_readout_fit(Xs, Y, q, rows, p, q, 0.01, &r1, &err) == ND_OK, "%s", err.msg);
        if (ctx->failed_checks) break;
        double e = 0;
        for (int i = 0; i < rows; i++)
            for (int k = 0; k < q; k++) {
                double d = fabs(nd_glm_readout_rate(&r1, Xs + i * p, k) / nd_glm_readout_rate(&r0, X + i * p, k) - 1);
                if (d > e) e = d;
            }
        CHECK(ctx, e < 1e-6, "scales %g %g %g %g: held-out predictions change by %.3g (relative)", scale[c][0], scale[c][1],
              scale[c][2], scale[c][3], e);
        nd_glm_readout_free(&r1);
        CHECK(ctx, nd_glm_readout_cv(Xs, Y, q, trials, R, p, q, alphas, na, 3, s1, &b1, &err) == ND_OK, "%s", err.msg);
        CHECK(ctx, b1 == b0 && maxdiff(s0, s1, na) < 1e-6, "scaled set %d: CV scores change by %.3g", c, maxdiff(s0, s1, na));
    }
    nd_glm_readout_free(&r0);
    free(X); free(Xs); free(Y);
}

/* Data drawn from GPFA's own model: 3 GP latents (timescales 60, 120, 240 ms in 20 ms bins) drive 24 held-in
 * and 8 held-out neurons, counts Poisson with rate (d + C x)^2, so that square-root counts are GPFA's linear-
 * Gaussian observations. --latents auto must find 3, the timescales within 20%, and GPFA must out-predict the
 * held-out neurons of the valid trials better than smoothing (both with CV-chosen settings). */
static void test_gpfa_synthetic_dimension(nd_test_ctx *ctx) {
    enum { ntr = 200, nva = 60, T = 40, N = 24, Nr = 32, p = 3 };
    const double taus[p] = {3, 6, 12};
    nd_lfads_data d;
    memset(&d, 0, sizeof d);
    snprintf(d.path, sizeof d.path, "synthetic GPFA data");
    d.split[ND_TRAIN].n = ntr; d.split[ND_VALID].n = nva; d.T = d.Tr = T; d.N = N; d.Nr = Nr; d.conversion_factor = 1;
    float *rec[2], *enc[2], *truth[2];
    double C[Nr * p], dd[Nr], *K = calloc(T * T, sizeof(double)), *L = calloc(p * T * T, sizeof(double));
    nd_rng g;
    nd_rng_seed(&g, 21);
    for (int i = 0; i < Nr * p; i++) C[i] = 0.3 * nd_rng_normal(&g);
    for (int k = 0; k < Nr; k++) dd[k] = 1.0 + 0.6 * nd_rng_uniform(&g);
    for (int i = 0; i < p; i++) {
        for (int t = 0; t < T; t++)
            for (int u = 0; u < T; u++) K[t * T + u] = 0.999 * exp(-(t - u) * (t - u) / (2 * taus[i] * taus[i])) + (t == u ? 1e-3 : 0);
        LAPACKE_dpotrf(LAPACK_ROW_MAJOR, 'L', T, K, T);
        memcpy(L + i * T * T, K, sizeof(double) * T * T);
    }
    for (int s = 0; s < 2; s++) {
        int n = s ? nva : ntr;
        rec[s] = malloc(sizeof(float) * n * T * Nr);
        enc[s] = malloc(sizeof(float) * n * T * N);
        truth[s] = malloc(sizeof(float) * n * T * Nr);
        for (int b = 0; b < n; b++) {
            double x[T][p], z[T];
            for (int i = 0; i < p; i++) {
                for (int t = 0; t < T; t++) z[t] = nd_rng_normal(&g);
                for (int t = 0; t < T; t++) {
                    double v = 0;
                    for (int u = 0; u <= t; u++) v += L[i * T * T + t * T + u] * z[u];
                    x[t][i] = v;
                }
            }
            for (int t = 0; t < T; t++)
                for (int k = 0; k < Nr; k++) {
                    double a = dd[k];
                    for (int i = 0; i < p; i++) a += C[k * p + i] * x[t][i];
                    double lam = (a > 0.05 ? a : 0.05) * (a > 0.05 ? a : 0.05);
                    float c = (float)nd_rng_poisson(&g, lam);
                    rec[s][((size_t)b * T + t) * Nr + k] = c;
                    truth[s][((size_t)b * T + t) * Nr + k] = (float)lam;
                    if (k < N) enc[s][((size_t)b * T + t) * N + k] = c;
                }
        }
    }
    d.split[ND_TRAIN].counts = enc[0]; d.split[ND_VALID].counts = enc[1]; d.split[ND_TRAIN].recon = rec[0]; d.split[ND_VALID].recon = rec[1];
    d.split[ND_TRAIN].truth = truth[0]; d.split[ND_VALID].truth = truth[1];
    nd_baseline_opts o;
    nd_baseline_opts_default(&o);
    o.bin_ms = 20;
    o.max_latents = 8;
    o.gpfa.max_iters = 100;
    o.threads = 2;
    nd_baseline_result rg, rs;
    nd_error err;
    CHECK(ctx, nd_baseline_gpfa(&d, &o, &rg, &err) == ND_OK, "%s", err.msg);
    CHECK(ctx, nd_baseline_smoothing(&d, &o, &rs, &err) == ND_OK, "%s", err.msg);
    if (!ctx->failed_checks) {
        printf("    CV co-bps by latents:");
        for (int c = 0; c < rg.n_cand; c++) {
            double m = -1e9;
            for (int a = 0; a < rg.n_alpha; a++) if (rg.cv_score[c][a] > m) m = rg.cv_score[c][a];
            printf(" %g:%.4f", rg.cand[c], m);
        }
        double ts[8];
        int P = rg.gpfa.p;
        for (int i = 0; i < P && i < 8; i++) ts[i] = rg.gpfa.tau[i];
        for (int i = 0; i < P && i < 8; i++)
            for (int j = i + 1; j < P && j < 8; j++) if (ts[j] < ts[i]) { double t = ts[i]; ts[i] = ts[j]; ts[j] = t; }
        printf("\n    chosen %d latents; timescales (bins):", P);
        for (int i = 0; i < P && i < 8; i++) printf(" %.2f", ts[i]);
        printf(" (true 3 6 12); smoothing kernel %g ms\n", rs.kernel_ms);
        CHECK(ctx, rg.latents_auto && P == p, "CV chose %d latents (true %d)", P, p);
        if (P == p)
            for (int i = 0; i < p; i++) CHECK(ctx, fabs(ts[i] / taus[i] - 1) < 0.2, "timescale %.2f vs %.2f bins", ts[i], taus[i]);
        float *pg = block(rg.rates[1], nva, T, Nr, 0, T, N, Nr - N), *ps = block(rs.rates[1], nva, T, Nr, 0, T, N, Nr - N);
        float *c = block(rec[1], nva, T, Nr, 0, T, N, Nr - N);
        double bg = bits_per_spike(pg, c, (size_t)nva * T, Nr - N), bs = bits_per_spike(ps, c, (size_t)nva * T, Nr - N);
        printf("    valid co-bps: GPFA %.4f, smoothing %.4f\n", bg, bs);
        CHECK(ctx, bg > bs, "GPFA co-bps %.4f <= smoothing %.4f", bg, bs);
        nd_free(pg); nd_free(ps); nd_free(c);
    }
    nd_baseline_result_free(&rg);
    nd_baseline_result_free(&rs);
    for (int s = 0; s < 2; s++) { free(rec[s]); free(enc[s]); free(truth[s]); }
    free(K); free(L);
}

/* Lorenz data in the lfads-torch layout: 18 of 24 neurons and 30 of 36 bins observed. */
typedef struct { nd_synth s; nd_lfads_data d; } torch_data;

static int make_torch(torch_data *td, nd_error *err) {
    nd_lorenz_opts lo;
    nd_lorenz_opts_default(&lo);
    lo.conditions = 20; lo.trials_per_condition = 12; lo.neurons = 24; lo.bins = 36; lo.seed = 4;
    if (nd_synth_lorenz(&lo, &td->s, err) != ND_OK) return -1;
    const nd_lfads_data *full = &td->s.data;
    td->d = *full;
    td->d.N = 18; td->d.T = 30; td->d.Nr = full->N; td->d.Tr = full->T;
    td->d.split[ND_TRAIN].counts = block(full->split[ND_TRAIN].counts, full->split[ND_TRAIN].n, full->T, full->N, 0, 30, 0, 18);
    td->d.split[ND_VALID].counts = block(full->split[ND_VALID].counts, full->split[ND_VALID].n, full->T, full->N, 0, 30, 0, 18);
    td->d.split[ND_TRAIN].recon = full->split[ND_TRAIN].counts;
    td->d.split[ND_VALID].recon = full->split[ND_VALID].counts;
    return 0;
}

static void free_torch(torch_data *td) {
    nd_free(td->d.split[ND_TRAIN].counts);
    nd_free(td->d.split[ND_VALID].counts);
    nd_synth_free(&td->s);
}

static void test_baselines_heldout_and_forward(nd_test_ctx *ctx) {
    torch_data td;
    nd_error err;
    CHECK(ctx, make_torch(&td, &err) == 0, "%s", err.msg);
    if (ctx->failed_checks) return;
    const nd_lfads_data *d = &td.d;
    const int N = d->N, T = d->T, Nr = d->Nr, Tr = d->Tr, nv = d->split[ND_VALID].n;
    nd_baseline_opts o;
    nd_baseline_opts_default(&o);
    o.gpfa.latents = 6; o.gpfa.max_iters = 30;
    for (int g = 0; g < 2; g++) {
        nd_baseline_result r;
        nd_status st = g ? nd_baseline_gpfa(d, &o, &r, &err) : nd_baseline_smoothing(d, &o, &r, &err);
        CHECK(ctx, st == ND_OK, "%s", err.msg);
        if (st) break;
        CHECK(ctx, r.n[1] == nv && r.Tr == Tr && r.Nr == Nr, "shape");
        int bad = 0;
        for (size_t i = 0; i < (size_t)nv * Tr * Nr; i++) bad += !(r.rates[1][i] >= 0) || !isfinite(r.rates[1][i]);
        CHECK(ctx, bad == 0, "%d negative or non-finite rates", bad);
        float *p_ho = block(r.rates[1], nv, Tr, Nr, 0, T, N, Nr - N), *t_ho = block(d->split[ND_VALID].truth, nv, Tr, Nr, 0, T, N, Nr - N);
        float *c_ho = block(d->split[ND_VALID].recon, nv, Tr, Nr, 0, T, N, Nr - N);
        float *p_fp = block(r.rates[1], nv, Tr, Nr, T, Tr - T, 0, Nr), *t_fp = block(d->split[ND_VALID].truth, nv, Tr, Nr, T, Tr - T, 0, Nr);
        double r2_ho = nd_r2_score_3d(p_ho, t_ho, nv, T, Nr - N), r2_fp = nd_r2_score_3d(p_fp, t_fp, nv, Tr - T, Nr);
        double bps = bits_per_spike(p_ho, c_ho, (size_t)nv * T, Nr - N);
        printf("    %s: held-out R^2 %.3f, co-bps %.3f, forward-bin R^2 %.3f\n", g ? "gpfa" : "smoothing", r2_ho, bps, r2_fp);
        CHECK(ctx, r2_ho > 0.3, "held-out R^2 %.3f", r2_ho);
        CHECK(ctx, bps > 0.05, "co-bps %.3f", bps);
        if (g) CHECK(ctx, r2_fp > 0.3, "GPFA forward-bin R^2 %.3f", r2_fp);
        nd_free(p_ho); nd_free(t_ho); nd_free(c_ho); nd_free(p_fp); nd_free(t_fp);
        nd_baseline_result_free(&r);
    }
    free_torch(&td);
}

/* write the torch-layout set as a file the CLI reads */
static int write_torch(const torch_data *td, const char *path, nd_error *err) {
    const nd_lfads_data *d = &td->d;
    nd_h5file *h;
    if (nd_h5_create(&h, path, err)) return -1;
    size_t e0[3] = {(size_t)d->split[ND_TRAIN].n, (size_t)d->T, (size_t)d->N}, e1[3] = {(size_t)d->split[ND_VALID].n, (size_t)d->T, (size_t)d->N};
    size_t r0[3] = {(size_t)d->split[ND_TRAIN].n, (size_t)d->Tr, (size_t)d->Nr}, r1[3] = {(size_t)d->split[ND_VALID].n, (size_t)d->Tr, (size_t)d->Nr};
    nd_status st = nd_h5_write_float(h, "train_encod_data", d->split[ND_TRAIN].counts, 3, e0, err);
    if (!st) st = nd_h5_write_float(h, "valid_encod_data", d->split[ND_VALID].counts, 3, e1, err);
    if (!st) st = nd_h5_write_float(h, "train_recon_data", d->split[ND_TRAIN].recon, 3, r0, err);
    if (!st) st = nd_h5_write_float(h, "valid_recon_data", d->split[ND_VALID].recon, 3, r1, err);
    if (!st) st = nd_h5_write_float(h, "train_truth", d->split[ND_TRAIN].truth, 3, r0, err);
    if (!st) st = nd_h5_write_float(h, "valid_truth", d->split[ND_VALID].truth, 3, r1, err);
    if (!st) st = nd_h5_write_attr_double(h, "/", "bin_ms", 20, err);
    nd_status cs = nd_h5_close(h, st == ND_OK, err);
    return st || cs ? -1 : 0;
}

static int sh(const char *fmt, const char *a, const char *b) {
    char cmd[2048];
    snprintf(cmd, sizeof cmd, fmt, a, b, a, b, a, b);
    return system(cmd);
}

static void test_cli(nd_test_ctx *ctx) {
    const char *nd = getenv("NEURODYN") ? getenv("NEURODYN") : "bin/neurodyn";
    if (access(nd, X_OK) != 0) SKIP(ctx, "no neurodyn binary at %s (set NEURODYN)", nd);
    char dir[] = "/tmp/nd_baseline_XXXXXX";
    CHECK(ctx, mkdtemp(dir) != NULL, "mkdtemp");
    torch_data td;
    nd_error err;
    char path[256];
    snprintf(path, sizeof path, "%s/torch.h5", dir);
    CHECK(ctx, make_torch(&td, &err) == 0 && write_torch(&td, path, &err) == 0, "%s", err.msg);
    free_torch(&td);
    /* LFADS layout from the simulator, and the torch layout with held-out neurons and forward bins */
    CHECK(ctx, sh("%s simulate lorenz --out %s/l.h5 --conditions 8 --trials-per-condition 10 --neurons 12 --bins 20 "
                  "--seed 1 >/dev/null", nd, dir) == 0, "simulate");
    const char *files[2] = {"l", "torch"};
    for (int f = 0; f < 2; f++) {
        char cmd[2048];
        snprintf(cmd, sizeof cmd,
                 "%s baseline smoothing %s/%s.h5 --out %s/s.h5 --kernel-ms 40 --quiet && "
                 "%s eval %s/s.h5 --data %s/%s.h5 | grep -q '^rate_r2 ' && "
                 "%s baseline gpfa %s/%s.h5 --out %s/g.h5 --latents 3 --em-iters 15 --threads 1 >%s/gpfa.log && "
                 "grep -q 'EM iteration 15/15' %s/gpfa.log && "
                 "%s eval %s/g.h5 --data %s/%s.h5 --json %s/m.json >/dev/null && grep -q latent_r2 %s/m.json",
                 nd, dir, files[f], dir, nd, dir, dir, files[f], nd, dir, files[f], dir, dir, dir, nd, dir, dir, files[f],
                 dir, dir);
        CHECK(ctx, system(cmd) == 0, "baselines + eval on %s.h5 failed", files[f]);
    }
    /* --latents / --kernel-ms / --alpha auto (the defaults): the choice is printed */
    {
        static const char *const runs[3][2] = {
            {"gpfa --max-latents 3 --search-iters 5 --em-iters 5", "latents [23] (CV), held-out GLM alpha .* (CV)"},
            {"smoothing", "kernel [0-9]* ms (CV), held-out GLM alpha .* (CV)"},
            {"gpfa --latents 2 --alpha 0.01 --em-iters 5", "latents 2 (given), held-out GLM alpha 0.01 (given)"}};
        for (int i = 0; i < 3; i++) {
            char cmd[1024];
            snprintf(cmd, sizeof cmd, "%s baseline %s %s/torch.h5 --out %s/auto.h5 --threads 1 | grep -q '^chosen: %s'", nd,
                     runs[i][0], dir, dir, runs[i][1]);
            CHECK(ctx, system(cmd) == 0, "'baseline %s' did not print 'chosen: %s'", runs[i][0], runs[i][1]);
        }
    }
    /* usage errors: exit status 2 and one line */
    CHECK(ctx, sh("%s baseline pca %s/l.h5 --out /dev/null 2>/dev/null; test $? -eq 2", nd, dir) == 0, "unknown baseline");
    CHECK(ctx, sh("%s baseline gpfa %s/l.h5 --out x.h5 --kernel-ms 5 2>/dev/null; test $? -eq 2", nd, dir) == 0,
          "--kernel-ms with gpfa");
    CHECK(ctx, sh("%s baseline smoothing %s/missing.h5 --out x.h5 2>&1 | grep -q missing.h5", nd, dir) == 0,
          "missing file named");
    CHECK(ctx, sh("%s baseline --help | grep -q 'baseline gpfa' && test -z \"$(ls %s/*.tmp 2>/dev/null)\"", nd, dir) == 0,
          "help / no temp files left");
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0) printf("    note: could not remove %s\n", dir);
}

int main(void) {
    RUN(test_glm_matches_sklearn);
    RUN(test_glm_recovers_weights);
    RUN(test_smoothing_matches_nlb_filter);
    RUN(test_gpfa_em_step_matches_numpy);
    RUN(test_gpfa_recovers_gp_latents);
    RUN(test_baselines_heldout_and_forward);
    RUN(test_readout_matches_sklearn);
    RUN(test_readout_scale_invariant);
    RUN(test_gpfa_synthetic_dimension);
    RUN(test_cli);
    TEST_MAIN_END();
}
