/* Gaussian-process factor analysis (Yu, Cunningham, Santhanam, Ryu, Shenoy & Sahani, J Neurophysiol 2009),
 * fitted by expectation-maximisation.
 *
 * Model, per trial (T bins, q neurons, p latents):
 *   latent i over time: x_i ~ N(0, K_i),  K_i(t, s) = (1 - eps) exp(-(t - s)^2 / (2 tau_i^2)) + eps [t == s]
 *   (t, s, tau_i in bins; eps = the GP noise variance, fixed at 1e-3 as in the paper),
 *   observations: y_t = C x_t + d + e_t,  e_t ~ N(0, R),  R diagonal.
 * The baseline fits it to square-root spike counts (Yu et al.'s default).
 *
 * E-step: the posterior of a trial's p*T latents has precision M = blockdiag(K_i^-1) + (C' R^-1 C) (x) I over
 * the observed bins; every trial of the same length shares M, so one Cholesky per EM iteration serves all
 * trials. M-step: C, d (jointly) and R in closed form, R floored at min_var_frac * var(y) per neuron; each
 * tau_i by a monotone line search on log tau_i of the expected complete-data log-likelihood (the paper
 * uses gradient steps on log timescale). Each M-step part maximises its term of the expected complete-data
 * log-likelihood, so the data log-likelihood never decreases (tests/test_baseline.c checks this).
 *
 * Arrays: Y and latent means are [n][T][dim] row-major double, like the data files. */
#ifndef ND_MODELS_GPFA_H
#define ND_MODELS_GPFA_H
#include <stdio.h>
#include "../core/status.h"

typedef struct {
    int q, p;
    double *C;   /* [q][p] loadings */
    double *d;   /* [q] offsets */
    double *R;   /* [q] private (diagonal) noise variances */
    double *tau; /* [p] GP timescales, in bins */
    double eps;  /* GP noise variance (1e-3) */
} nd_gpfa_params;

nd_status nd_gpfa_params_alloc(nd_gpfa_params *m, int q, int p, nd_error *err);
void nd_gpfa_params_free(nd_gpfa_params *m);

/* Expected sufficient statistics of the E-step, summed over trials and bins. */
typedef struct {
    int q, p, T, n;
    double N;    /* n * T */
    double *Sxx; /* [p][p]  sum E[x_t x_t'] */
    double *Sx;  /* [p]     sum E[x_t] */
    double *Syx; /* [q][p]  sum y_t E[x_t]' */
    double *Sy;  /* [q]     sum y_t */
    double *Syy; /* [q]     sum y_t^2 (elementwise) */
    double *Stt; /* [p][T][T] per latent: sum over trials of E[x_i x_i'] */
} nd_gpfa_stats;

void nd_gpfa_stats_free(nd_gpfa_stats *s);

/* Posterior of n trials whose first T_obs bins are observed, over T >= T_obs bins (bins after T_obs are
 * predicted by the GP prior given the observed ones). Y [n][T_obs][q].
 * loglik (may be NULL): log p(Y) under the model (sum over trials).
 * means (may be NULL): posterior means [n][T][p].
 * stats (may be NULL; needs T == T_obs): allocated and filled (free with nd_gpfa_stats_free). */
nd_status nd_gpfa_estep(const nd_gpfa_params *m, const double *Y, int n, int T_obs, int T, double *loglik,
                        double *means, nd_gpfa_stats *stats, nd_error *err);

/* Expected complete-data log-likelihood of latent timescale log_tau (in log bins), up to a constant:
 * -1/2 (n log|K| + tr(K^-1 S)), S [T][T] = sum over n trials of E[x_i x_i']. grad (may be NULL): d/d log_tau. */
double nd_gpfa_tau_objective(int T, double log_tau, double eps, const double *S, double n, double *grad,
                             nd_error *err);

/* M-step: updates C, d, R (R_k >= var_floor[k]) and, when learn_tau, every tau_i. */
nd_status nd_gpfa_mstep(nd_gpfa_params *m, const nd_gpfa_stats *s, const double *var_floor, int learn_tau,
                        nd_error *err);

typedef struct {
    int latents;         /* p (default 20; the caller caps it to the neuron count) */
    int max_iters;       /* EM iterations (default 100) */
    double tol;          /* stop when the log-likelihood gains less than tol * |LL| in an iteration (1e-7) */
    double tau_init_ms;  /* initial timescale (100 ms, as Yu et al.) */
    double bin_ms;       /* bin width (to convert tau_init_ms to bins) */
    double eps;          /* GP noise variance (1e-3) */
    double min_var_frac; /* private-variance floor, fraction of each neuron's variance (0.01) */
    FILE *progress;      /* one updating line per EM iteration; NULL = quiet */
} nd_gpfa_opts;

void nd_gpfa_opts_default(nd_gpfa_opts *o);

/* Initialise (PCA of Y: d = mean, C = top-p eigenvectors of the covariance scaled by sqrt(eigenvalue),
 * R = diag(cov) - diag(C C') floored at min_var_frac * var) and run EM. Y [n][T][q]; every neuron must vary (var > 0), else
 * ND_ERR_ARG naming it. ll receives a newly allocated trace of the log-likelihood at each E-step
 * (*iters entries); free with nd_free. */
nd_status nd_gpfa_fit(const double *Y, int n, int T, int q, const nd_gpfa_opts *o, nd_gpfa_params *m, double **ll,
                      int *iters, nd_error *err);

/* The orthonormalising transform of Yu et al.: with C = U S V' (thin SVD), x_orth = S V' x, so that
 * C x = U x_orth with orthonormal U and x_orth ordered by variance explained. Out: Tr [p][p] (x_orth = Tr x). */
nd_status nd_gpfa_orth_transform(const nd_gpfa_params *m, double *Tr, nd_error *err);

#endif
