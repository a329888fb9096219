/* Neural Latents Benchmark metrics (shared/spec/nlb-metrics.md; the conventions of nlb_tools'
 * evaluation.py and make_tensors.py), as plain functions on flat row-major float arrays.
 * All sums are accumulated in double. None of these functions returns NaN/Inf in a result: inputs for
 * which a metric is undefined give a non-OK status and a one-line reason. */
#ifndef ND_EVAL_NLB_H
#define ND_EVAL_NLB_H
#include <stddef.h>
#include "../core/status.h"

/* How an R^2 over several output columns is averaged (sklearn.metrics.r2_score's multioutput). */
typedef enum { ND_R2_UNIFORM = 0, ND_R2_VARIANCE_WEIGHTED = 1 } nd_r2_average;

/* sklearn r2_score(truth, pred, multioutput=avg) with force_finite=True on [rows][cols] doubles.
 * A column whose truth is constant (all values equal) scores 1 if predicted exactly, else 0; with
 * variance weighting such columns weigh 0 (all constant: uniform average of those 1/0 scores).
 * Returns NAN when rows < 2 or cols < 1 (sklearn: undefined). */
double nd_r2_score_d(const double *pred, const double *truth, size_t rows, int cols, nd_r2_average avg);

/* Poisson bits per spike of rates against counts, over the block bins [t0, t1) x neurons [j0, j1)
 * of [n][T][N] arrays (rates and spikes have the same layout):
 *   NLL(r) = sum (r - k ln r + lgamma(k + 1)), with r <= 0 replaced by 1e-9;
 *   null rate of a neuron = its mean count per bin over the block (all n trials);
 *   bps = (NLL_null - NLL_model) / (total spikes in the block) / ln 2.
 * co-bps: bins [0, T_obs), held-out neurons; fp-bps: forward bins [T_obs, T), all neurons.
 * Errors: a NaN/Inf rate (ND_ERR_NUMERIC, naming trial/bin/neuron); an empty block or a block without
 * spikes (ND_ERR_ARG). */
typedef struct {
    double bps;
    double nll_model, nll_null; /* nats, including the lgamma terms */
    double spikes;              /* total spike count in the block */
    size_t clamped;             /* model rates <= 0 that were replaced by 1e-9 */
} nd_nlb_bps;
nd_status nd_nlb_bits_per_spike(const float *rates, const float *spikes, int n, int T, int N, int t0, int t1, int j0,
                                int j1, nd_nlb_bps *out, nd_error *err);

/* Ridge regression with an intercept (sklearn Ridge(alpha), fit_intercept=True: X and Y centred on the
 * fit rows, (Xc'Xc + alpha I) W = Xc'Yc solved by Cholesky, LAPACKE_dposv), alpha chosen by K-fold
 * cross-validation on the fit rows (sklearn GridSearchCV(Ridge(), {'alpha': alphas}, cv=K): KFold without
 * shuffling, contiguous folds, the first n % K folds one row longer; score = mean over folds of the R^2 on
 * the held-out fold, averaged over outputs by `avg`; ties go to the first alpha), refit on all fit rows and
 * scored (R^2, `avg`) on the test rows. X: [rows][p], Y: [rows][q].
 * Errors (ND_ERR_ARG): fewer than 2 rows per fold, fewer than 2 test rows; the test outputs constant (R^2
 * undefined). cv_scores (may be NULL) receives the mean CV score of each alpha. */
typedef struct {
    double r2;         /* on the test rows */
    double alpha;      /* chosen */
    int best;          /* index of the chosen alpha */
} nd_nlb_ridge;
nd_status nd_nlb_ridge_cv(const float *Xfit, const float *Yfit, size_t nfit, const float *Xtest, const float *Ytest,
                          size_t ntest, int p, int q, const double *alphas, int n_alpha, int folds, nd_r2_average avg,
                          nd_nlb_ridge *out, double *cv_scores, nd_error *err);

/* NLB's alpha grid, logspace(-4, 0, 9). */
void nd_nlb_alpha_grid(double alphas[9]);

/* Velocity decoding (NLB vel R2). rates: [n][Tr][N], of which the first T bins are used; beh: [n][Tb][B]
 * with Tb >= T, of which the first T bins are used. The behaviour of bin t + lag is paired with the rates of
 * bin t (lag in bins, either sign; bins whose partner falls outside [0, T) are dropped); rows whose behaviour
 * has a NaN are dropped (nlb_tools). Rows are flattened trial-major (trial 0's bins, then trial 1's, ...)
 * before the 5-fold CV over logspace(-4, 0, 9) of nd_nlb_ridge_cv: fit on the train trials, scored on the
 * eval trials. */
nd_status nd_nlb_vel_r2(const float *train_rates, const float *train_beh, int n_train, const float *eval_rates,
                        const float *eval_beh, int n_eval, int Tr, int Tb, int T, int N, int B, int lag,
                        nd_r2_average avg, nd_nlb_ridge *out, nd_error *err);

/* PSTH R^2 (NLB psth R2). True PSTHs: for every condition id c >= 0 among the psth trials, the mean over its
 * trials of the Gaussian-smoothed counts (nd_smooth_gaussian's kernel and edge renormalisation, SD
 * sigma_bins, over all Ts bins of each trial; smoothing is linear, so the mean is smoothed). Predicted
 * PSTHs: the mean over the eval trials of condition c of their rates. For every condition (ascending id)
 * with at least one eval trial, bins [0, T) of both are stacked as rows ([conditions x T][N]) and scored
 * with r2_score (uniform average over the N neurons).
 * eval_rates: [n_eval][Tr][N]; spikes: [n_psth][Ts][N]; T <= Tr, T <= Ts. Condition ids < 0 are ignored.
 * Errors: no condition with both eval and psth trials, or fewer than 2 rows (ND_ERR_ARG). */
nd_status nd_nlb_psth_r2(const float *eval_rates, const int *eval_cond, int n_eval, int Tr, const float *spikes,
                         const int *psth_cond, int n_psth, int Ts, int T, int N, double sigma_bins, double *r2,
                         int *n_conditions, nd_error *err);

#endif
