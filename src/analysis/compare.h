/* Comparing two representations of the same samples: CCA, SVCCA, PWCCA, CKA (linear,
 * RBF, debiased) and the Procrustes / shape metric.
 *
 * Every function takes X [n x p] and Y [n x q]: row-major double, samples x features,
 * the SAME n samples (conditions / time points) in the same order in both, any number of
 * features (neurons / units) on each side. Inputs are not modified. See pca.h for the
 * conventions shared by the analysis layer (status codes, ownership).
 *
 * Cost: the CCA family and linear CKA work with feature-space products (X^T X, X^T Y, via
 * BLAS dsyrk/dgemm), O(n (p + q)^2) time and O((p + q)^2) memory; 10,000 x 500 takes well
 * under a second on a few cores. Linear CKA switches to n x n Grams when that is smaller
 * (2 n^2 < p q + p^2 + q^2). RBF CKA needs the two n x n kernel matrices: 2 n^2 doubles
 * (1.6 GB at n = 10,000); subsample rows above that (the CLI does, see --max-samples). */
#ifndef ND_ANALYSIS_COMPARE_H
#define ND_ANALYSIS_COMPARE_H
#include "../core/status.h"

/* ---------- CCA ---------- */
#define ND_CCA_EPS_DEFAULT 1e-10
enum { ND_CCA_DIRECTIONS = 1, ND_CCA_VARIATES = 2 };

typedef struct {
    int n, p, q;  /* samples and the feature counts that entered the CCA (reduced ones for SVCCA) */
    int k;        /* number of canonical pairs = min(p, q) */
    double *rho;  /* [k] canonical correlations, descending, in [0, 1] up to rounding */
    double mean;  /* mean of rho */
    double *a;    /* [p x k] canonical directions of X: variate i = Xc a[:, i]  (ND_CCA_DIRECTIONS) */
    double *b;    /* [q x k] canonical directions of Y                         (ND_CCA_DIRECTIONS) */
    double *u;    /* [n x k] canonical variates Xc a, unit variance (ddof 1)   (ND_CCA_VARIATES) */
    double *v;    /* [n x k] canonical variates Yc b                           (ND_CCA_VARIATES) */
    int kx, ky;   /* SVCCA: dimensions kept on each side (= p, q for plain CCA) */
} nd_cca_result;

/* Canonical correlation analysis. Both sides are centred; covariances use ddof = 1;
 * each side is whitened with (S + eps * max_i S_ii * I)^(-1/2), computed from the
 * symmetric eigendecomposition (eps is RELATIVE to the largest variance, like
 * google/svcca's cca_core, which divides the covariances by their largest entry before
 * adding epsilon; eigenvalues are clipped below at eps * max_i S_ii, or at 1e-15 * max_i
 * S_ii when eps = 0). The canonical correlations are the singular values of
 * Sxx^-1/2 Sxy Syy^-1/2 = U diag(rho) V^T; directions a = Sxx^-1/2 U, b = Syy^-1/2 V.
 * flags: ND_CCA_DIRECTIONS | ND_CCA_VARIATES (0 for correlations only).
 * Needs n >= 2 and neither side constant. When n - 1 < p or q the data are rank deficient and
 * some correlations are trivially 1 (overfit) or 0: use SVCCA or more samples.
 * Fills *out (owning its arrays; free with nd_cca_free). */
nd_status nd_cca(const double *X, const double *Y, int n, int p, int q, double eps, int flags, nd_cca_result *out,
                 nd_error *err);
void nd_cca_free(nd_cca_result *r);

/* SVCCA (Raghu et al. 2017): each side is centred and reduced to its top-k singular
 * directions, k the smallest number with sum_{i<k} s_i^2 / sum_i s_i^2 >= keep
 * (keep = ND_SVCCA_KEEP_DEFAULT, 0.99: 99% of the variance), i.e. to the scores U_k S_k;
 * then CCA (as nd_cca, with eps) on the reduced data. out->kx, out->ky hold the kept dims. */
#define ND_SVCCA_KEEP_DEFAULT 0.99
nd_status nd_svcca(const double *X, const double *Y, int n, int p, int q, double keep, double eps, int flags,
                   nd_cca_result *out, nd_error *err);

/* PWCCA (Morcos et al. 2018; google/svcca pwcca.py). The side with fewer features
 * (X on ties) supplies the canonical variates h_i = Xc a_i, i < k = min(p, q), and its
 * centred neurons x_j. Weights:
 *   ND_PWCCA_INNER (default; pwcca.py and the paper): alpha_i = sum_j |<h_i / ||h_i||, x_j>|
 *       (pwcca.py orthonormalises the variates by QR; they are orthogonal already, up to
 *       the eps regularisation, so this is the same to O(eps));
 *   ND_PWCCA_CORR: alpha_i = sum_j |corr(h_i, x_j)| (every neuron counts equally; neurons
 *       with zero variance contribute 0).
 * alpha is normalised to sum 1 and pwcca = sum_i alpha_i rho_i. */
typedef enum { ND_PWCCA_INNER = 0, ND_PWCCA_CORR = 1 } nd_pwcca_weighting;
typedef struct {
    double pwcca;     /* projection-weighted mean canonical correlation */
    double mean_cca;  /* unweighted mean canonical correlation */
    int k;
    double *rho;      /* [k] canonical correlations */
    double *weights;  /* [k] normalised weights alpha_i */
    int side;         /* 0: weights from X's variates, 1: from Y's */
} nd_pwcca_result;
nd_status nd_pwcca(const double *X, const double *Y, int n, int p, int q, double eps, nd_pwcca_weighting weighting,
                   nd_pwcca_result *out, nd_error *err);
void nd_pwcca_free(nd_pwcca_result *r);

/* ---------- CKA (Kornblith et al. 2019) ---------- */
/* Linear CKA = ||Yc^T Xc||_F^2 / (||Xc^T Xc||_F ||Yc^T Yc||_F) on column-centred data.
 * Invariant to orthogonal transforms, isotropic scaling and translation of either side. */
nd_status nd_cka_linear(const double *X, const double *Y, int n, int p, int q, double *cka, nd_error *err);

/* Debiased linear CKA: HSIC replaced by the unbiased U-statistic of Song et al. (2012),
 *   HSIC_u(K, L) = [ tr(K~ L~) + (1^T K~ 1)(1^T L~ 1) / ((n-1)(n-2)) - 2/(n-2) 1^T K~ L~ 1 ] / (n (n-3)),
 * K~, L~ the Gram matrices with their diagonals set to 0, K = Xc Xc^T, L = Yc Yc^T;
 * CKA_u = HSIC_u(K, L) / sqrt(HSIC_u(K, K) HSIC_u(L, L)). Equals Kornblith et al.'s
 * "debiased" CKA (unbiased Gram centring). Computed in feature space without n x n
 * matrices. Needs n >= 4; may be slightly negative; ND_ERR_NUMERIC if HSIC_u(K,K) or
 * HSIC_u(L,L) <= 0 (degenerate data). */
nd_status nd_cka_linear_debiased(const double *X, const double *Y, int n, int p, int q, double *cka, nd_error *err);

/* RBF-kernel CKA. K_ij = exp(-d_ij / (2 sigma^2)), d_ij = ||x_i - x_j||^2, sigma^2 =
 * threshold^2 * median(d) where the median runs over ALL n^2 entries of the squared-distance
 * matrix, its zero diagonal included (as the CKA demo of Kornblith et al.; sigma =
 * threshold x the median pairwise distance). Each side has its own bandwidth.
 * threshold: ND_CKA_RBF_THRESHOLD_DEFAULT (1.0). debiased = 0: CKA from centred kernels,
 * <HKH, HLH> / (||HKH|| ||HLH||); debiased = 1: the HSIC_u U-statistic above.
 * Memory: 2 n^2 doubles (ND_ERR_NOMEM if not available). Negative squared distances from
 * rounding are clipped to 0. ND_ERR_NUMERIC if the median distance is 0. */
#define ND_CKA_RBF_THRESHOLD_DEFAULT 1.0
nd_status nd_cka_rbf(const double *X, const double *Y, int n, int p, int q, double threshold, int debiased,
                     double *cka, nd_error *err);

/* CKA from two n x n kernel (Gram) matrices, not modified (copies them: 2 n^2 doubles). */
nd_status nd_cka_gram(const double *K, const double *L, int n, int debiased, double *cka, nd_error *err);

/* ---------- Procrustes / shape metric (Williams et al. 2021, netrep LinearMetric) ---------- */
/* Angular shape distance with partial whitening, alpha in [0, 1]:
 *   Xn = Xc / ||Xc||_F (centred, unit Frobenius norm), Cx = Xn^T Xn,
 *   Xw = Xn ((1 - alpha) Cx + alpha I)^(-1/2)   (Xw = Xn when alpha = 1),
 *   and Yw likewise; distance = arccos( ||Xw^T Yw||_* / (||Xw||_F ||Yw||_F) ) in [0, pi/2],
 *   ||.||_* the nuclear norm (sum of singular values).
 * alpha = 1: Procrustes angular distance (rotations only); alpha = 0: CCA-based, and for
 * p = q full-rank data cos(distance) = the mean canonical correlation. The whitening is
 * netrep's (1 - alpha) X^T X + alpha I applied to the norm-1 data, which makes the metric
 * invariant to isotropic scaling for every alpha; eigenvalues are clipped below at 1e-10.
 * p != q is handled as netrep's zero padding would (no padding is needed). It is a metric
 * (symmetric, triangle inequality) on representations of the same n samples. */
nd_status nd_shape_distance(const double *X, const double *Y, int n, int p, int q, double alpha, double *dist,
                            nd_error *err);

#endif
