/* Representational similarity analysis (RSA): representational dissimilarity matrices
 * (RDMs) and their comparison, with rsatoolbox's definitions (rdm/calc.py, rdm/compare.py).
 *
 * Patterns are row-major double [n_cond x n_chan] (conditions x channels / neurons).
 * An RDM is stored as its upper triangle, row-major, without the diagonal:
 *   rdm[idx(i, j)] = d(i, j) for i < j, idx(i, j) = i n - i (i + 1) / 2 + (j - i - 1),
 * i.e. (0,1), (0,2), ..., (0,n-1), (1,2), ... : n (n - 1) / 2 entries (scipy's
 * squareform / rsatoolbox's dissimilarity vector order). Conventions as in pca.h. */
#ifndef ND_ANALYSIS_RSA_H
#define ND_ANALYSIS_RSA_H
#include <stddef.h>
#include "../core/status.h"

typedef enum {
    ND_RDM_EUCLIDEAN,   /* squared Euclidean distance / n_chan */
    ND_RDM_CORRELATION, /* 1 - Pearson r between the two patterns (across channels) */
    ND_RDM_MAHALANOBIS  /* (a - b)^T Sigma^-1 (a - b) / n_chan (Sigma = noise covariance; identity if NULL) */
} nd_rdm_distance;

static inline size_t nd_rdm_len(int n_cond) { return n_cond > 1 ? (size_t)n_cond * (size_t)(n_cond - 1) / 2 : 0; }

/* RDM of patterns [n_cond x n_chan] into rdm [nd_rdm_len(n_cond)]. noise_cov
 * [n_chan x n_chan] (symmetric positive definite) is used by ND_RDM_MAHALANOBIS only; NULL
 * means the identity (then Mahalanobis = Euclidean). Needs n_cond >= 2. Correlation
 * distance of a constant pattern is ND_ERR_NUMERIC. */
nd_status nd_rdm(const double *patterns, int n_cond, int n_chan, nd_rdm_distance dist, const double *noise_cov,
                 double *rdm, nd_error *err);

/* Cross-validated Mahalanobis ("crossnobis", rsatoolbox calc_rdm_crossnobis) from
 * patterns [n_folds x n_cond x n_chan] (fold f, condition c: the mean pattern of c's
 * measurements in fold f). Leave-one-fold-out:
 *   d(i, j) = 1/F sum_f (a_i - a_j)^T Sigma^-1 (b_i - b_j) / n_chan,
 * a = the patterns of fold f, b = the mean of the patterns over the other F - 1 folds.
 * Unbiased (expected 0 for identical conditions), so it can be negative. noise_cov as for
 * nd_rdm (NULL = identity). Needs n_folds >= 2. */
nd_status nd_rdm_crossnobis(const double *patterns, int n_folds, int n_cond, int n_chan, const double *noise_cov,
                            double *rdm, nd_error *err);

/* square [n x n] symmetric matrix (zero diagonal) from an upper-triangle RDM */
void nd_rdm_to_square(const double *rdm, int n_cond, double *square);

typedef enum {
    ND_RDMCMP_COSINE,   /* a.b / (|a| |b|) */
    ND_RDMCMP_PEARSON,  /* Pearson r */
    ND_RDMCMP_SPEARMAN, /* Pearson r of the ranks (ties get their average rank) */
    ND_RDMCMP_TAU_A,    /* Kendall tau-a: (C - D) / (m (m - 1) / 2); tied pairs count in neither C nor D */
    ND_RDMCMP_TAU_B,    /* Kendall tau-b: (C - D) / sqrt((m0 - Tx)(m0 - Ty)) (scipy.stats.kendalltau) */
    ND_RDMCMP_RHO_A     /* Spearman rho-a: 12 sum_k (ra_k - mean)(rb_k - mean) / (m^3 - m), no tie correction */
} nd_rdm_compare_method;

/* Compare two RDM vectors a, b of length m (m >= 2; any vectors of equal length).
 * ND_ERR_NUMERIC when the method is undefined (e.g. a constant vector for Pearson).
 * Kendall's tau runs in O(m log m) (Knight's algorithm). */
nd_status nd_rdm_compare(const double *a, const double *b, size_t m, nd_rdm_compare_method method, double *out,
                         nd_error *err);

/* Ranks 1..m of x with ties given their average rank (scipy.stats.rankdata 'average'). */
nd_status nd_rankdata(const double *x, size_t m, double *ranks, nd_error *err);

/* name <-> enum ("euclidean", "correlation", "mahalanobis"; "cosine", "pearson",
 * "spearman", "tau-a", "tau-b", "rho-a"); -1 if unknown */
int nd_rdm_distance_from_name(const char *name);
int nd_rdm_compare_from_name(const char *name);
const char *nd_rdm_compare_name(nd_rdm_compare_method m);

#endif
