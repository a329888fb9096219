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
} nd_glm_opts;

void nd_glm_opts_default(nd_glm_opts *o); /* alpha 0.01, max_iter 100, tol 1e-10 */

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

#endif
