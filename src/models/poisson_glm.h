/* Poisson GLM with a log link, fitted by Newton's method (IRLS) with a backtracking line search.
 *
 * Minimises sklearn.linear_model.PoissonRegressor's objective
 *     (1/n) sum_i (exp(eta_i) - y_i eta_i) + (alpha/2) |w|^2,   eta_i = x_i . w + b,
 * i.e. half the mean Poisson deviance plus an L2 penalty on the weights (the intercept b is not
 * penalised). The objective is convex; with alpha > 0 it is strictly convex and the minimiser unique.
 * Used by the smoothing and GPFA baselines to predict held-out neurons (nlb_tools' tutorials fit one
 * PoissonRegressor per held-out neuron). */
#ifndef ND_MODELS_POISSON_GLM_H
#define ND_MODELS_POISSON_GLM_H
#include <stddef.h>
#include "../core/status.h"

typedef struct {
    double alpha;  /* L2 penalty on the weights (sklearn's alpha) */
    int max_iter;  /* Newton iterations (default 100) */
    double tol;    /* stop when the largest gradient component is below tol (default 1e-10), or when the
                      Newton decrement g'H^-1 g falls to rounding level (1e-13 |f|; one last full step) */
    int warm;      /* 1: start Newton from the w, b passed in (same minimiser; fewer iterations) */
} nd_glm_opts;

void nd_glm_opts_default(nd_glm_opts *o); /* alpha 0.01, max_iter 100, tol 1e-10, warm 0 */

/* One neuron: X [n][p] row-major, y [n] counts (>= 0). Outputs w [p], *b, *iters (may be NULL).
 * A neuron with no spikes gets w = 0 and b = log(1e-9) (its maximum-likelihood rate is 0).
 * Errors: ND_ERR_ARG (n < 1, p < 0, alpha < 0, negative or non-finite y or X),
 * ND_ERR_NUMERIC (the Hessian is singular: alpha = 0 with collinear regressors). */
nd_status nd_poisson_glm_fit(const double *X, const double *y, size_t n, int p, const nd_glm_opts *o, double *w,
                             double *b, int *iters, nd_error *err);

/* Many neurons sharing X: Y [n][q] (column j is neuron j's counts, row stride ldy >= q).
 * W [q][p], B [q]. Neurons are fitted in parallel over OpenMP threads (each fit is independent, so the
 * result does not depend on the thread count). The first failing neuron's error is reported. */
nd_status nd_poisson_glm_fit_many(const double *X, const float *Y, size_t ldy, size_t n, int p, int q,
                                  const nd_glm_opts *o, double *W, double *B, nd_error *err);

/* rate = exp(x . w + b), clipped to [1e-9, 1e20] (as nlb_tools clips its GLM predictions). */
double nd_poisson_glm_rate(const double *x, const double *w, double b, int p);

/* ---- Read-out: Poisson GLMs on standardised regressors, penalty chosen by cross-validation ----
 * Every regressor is z-scored with the statistics of the rows the GLM is fitted on (mean, SD; a constant
 * regressor gets SD 1), so the fit and its predictions do not depend on the regressors' scales (a fixed L2
 * penalty on unscaled regressors otherwise silences the small ones). W holds weights on the standardised
 * regressors. */
typedef struct {
    int p, q;
    double alpha;
    double *mean, *sd; /* [p] */
    double *W, *B;     /* [q][p], [q] */
} nd_glm_readout;
#define ND_GLM_MAX_ALPHAS 16
/* The default penalty grid, logspace(-4, 0, 5) = 1e-4 .. 1; returns the count (<= ND_GLM_MAX_ALPHAS). */
int nd_glm_default_alphas(double *alphas);
/* Fit q neurons on X [rows][p], Y [rows][q] (row stride ldy) with penalty alpha. */
nd_status nd_glm_readout_fit(const double *X, const float *Y, size_t ldy, size_t rows, int p, int q, double alpha,
                             nd_glm_readout *r, nd_error *err);
/* rate of neuron j at regressors x [p] (clipped as nd_poisson_glm_rate) */
double nd_glm_readout_rate(const nd_glm_readout *r, const double *x, int j);
void nd_glm_readout_free(nd_glm_readout *r);
/* K-fold cross-validation over TRIALS: rows are trials x rows_per_trial; trial b is in fold b % folds (the
 * trials are already in random order). For every alpha, the read-out is fitted on the other folds (their own
 * standardisation) and scored on the fold: score[a] = sum over folds and neurons of (log-likelihood of the
 * predictions - log-likelihood of the training folds' mean rate) / (spikes * ln 2), i.e. co-bps on the
 * validation folds. *best = argmax (the smallest alpha on ties). folds >= 2 and <= trials. */
nd_status nd_glm_readout_cv(const double *X, const float *Y, size_t ldy, int trials, int rows_per_trial, int p, int q,
                            const double *alphas, int n_alphas, int folds, double *score, int *best, nd_error *err);
#endif
