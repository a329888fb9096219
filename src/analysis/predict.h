/* Neural predictivity (Yamins et al. 2014, brain-score): cross-validated linear maps
 * from model units X [n x p] to recorded neurons Y [n x q], scored per neuron by the
 * Pearson r of held-out predictions; split-half noise ceilings; and the class-
 * selectivity index of units. Row-major doubles, samples x features; conventions as in
 * pca.h. */
#ifndef ND_ANALYSIS_PREDICT_H
#define ND_ANALYSIS_PREDICT_H
#include <stdint.h>
#include "../core/status.h"

/* ---------- linear maps: Yhat = X W + b, W [p x q], b [q] ---------- */
/* Ridge regression with intercept (sklearn Ridge(alpha, fit_intercept=True)): the columns
 * are centred (no scaling), W = (Xc^T Xc + alpha I)^-1 Xc^T Yc (the dual form
 * Xc^T (Xc Xc^T + alpha I)^-1 Yc when p > n), b = mean(Y) - mean(X) W. alpha = 0 is
 * ordinary least squares, minimum-norm when rank deficient (LAPACK dgelsd). alpha >= 0. */
nd_status nd_ridge_fit(const double *X, const double *Y, int n, int p, int q, double alpha, double *W, double *b,
                       nd_error *err);

/* PLS regression, sklearn PLSRegression(n_components=ncomp, scale, algorithm="nipals",
 * max_iter=500, tol=1e-6) semantics: X and Y centred and, when scale != 0, divided by their
 * column standard deviations (ddof 1; 1 for constant columns); for each component, the
 * first singular vectors of Xk^T Yk by the same NIPALS power iteration (started from the
 * first Y column with an entry above machine eps; stop when the squared change of the x
 * weights is < 1e-6 or q == 1), sign fixed so the x weight of largest magnitude is
 * positive; regression-mode deflation of both X and Y on the x scores; stop early if the
 * Y residual is constant. Coefficients R Q^T with rotations R = W pinv(P^T W) are
 * returned in the units of the original data (W absorbs the scaling; b the means).
 * Needs 1 <= ncomp <= p and n >= 2. */
nd_status nd_pls_fit(const double *X, const double *Y, int n, int p, int q, int ncomp, int scale, double *W, double *b,
                     nd_error *err);

/* Yhat [m x q] = X [m x p] W + b */
void nd_linear_predict(const double *X, int m, int p, int q, const double *W, const double *b, double *Yhat);

/* ---------- cross-validated predictivity ---------- */
typedef enum { ND_MAP_RIDGE, ND_MAP_PLS } nd_map_kind;
typedef struct {
    nd_map_kind kind;
    double alpha;   /* ridge penalty (default 1.0) */
    int ncomp;      /* PLS components (default 25, brain-score) */
    int scale;      /* PLS scale=True (default 1) */
    int folds;      /* K (default 5); 2 <= K <= n */
    int shuffle;    /* 0 (default): contiguous folds as sklearn KFold(shuffle=False): fold f holds
                       samples [start_f, start_f + size_f), the first n % K folds one sample larger;
                       1: the same sizes over a permutation of the samples drawn with nd_rng seeded by `seed` */
    uint64_t seed;
} nd_predict_opts;
void nd_predict_opts_default(nd_predict_opts *o); /* PLS 25, scale, 5 contiguous folds */

typedef struct {
    int q;
    double *r;              /* [q] Pearson r per neuron between Y and the pooled held-out predictions
                               (every sample is predicted once, by the fold that held it out); NaN when undefined */
    double median_r;        /* median of r over neurons (NaNs skipped) */
    double fold_median_mean;/* brain-score style: per fold, the median over neurons of the held-out r,
                               then the mean over folds */
    int n_valid;            /* neurons with a defined r */
    double *pred;           /* [n x q] the pooled held-out predictions */
    int n;
} nd_predict_result;
nd_status nd_predictivity(const double *X, const double *Y, int n, int p, int q, const nd_predict_opts *o,
                          nd_predict_result *out, nd_error *err);
void nd_predict_result_free(nd_predict_result *r);

/* Split-half noise ceiling from two repeats Y1, Y2 [n x q] of the same neurons: per neuron
 * r = Pearson(Y1[:, j], Y2[:, j]), corrected by Spearman-Brown 2r / (1 + r); *median is the
 * median over neurons (NaNs — constant neurons — skipped). per_neuron [q] may be NULL.
 * ND_ERR_NUMERIC when no neuron has a defined r. */
nd_status nd_split_half_ceiling(const double *Y1, const double *Y2, int n, int q, double *per_neuron, double *median,
                                nd_error *err);

/* Class-selectivity index (Morcos et al. 2018) of each unit: with mu_c the unit's mean
 * activation over the samples of class c, mu_max = max_c mu_c and mu_rest = the mean of the
 * other classes' mu_c: csi = (mu_max - mu_rest) / (mu_max + mu_rest) (0 when the denominator
 * is 0). act [n x units], labels [n] any ints (>= 2 distinct). csi [units]; pref [units]
 * (may be NULL) receives the label of each unit's preferred class. Meant for non-negative
 * activations (e.g. ReLU), where it lies in [0, 1]. */
nd_status nd_class_selectivity(const double *act, const int *labels, int n, int units, double *csi, int *pref,
                               nd_error *err);

#endif
