/* Principal component analysis, the participation ratio, and the small dense
 * linear-algebra helpers that the other analysis modules share.
 *
 * Conventions of the whole analysis layer (src/analysis):
 *   - matrices are row-major double arrays; a data matrix is samples x features
 *     (conditions / time points x neurons / units): X[i*p + j] is sample i, feature j;
 *   - functions never exit; they return an nd_status and, on failure, fill the nd_error
 *     (may be NULL) with one line naming the argument and the problem;
 *   - inputs are never modified; outputs are caller-provided buffers unless a result
 *     struct says it owns memory (free it with its *_free function; the free functions
 *     accept a zeroed or already-freed struct).
 * Linear algebra goes through CBLAS (dgemm/dsyrk) and LAPACKE (dsyevd/dgesdd/dposv/...). */
#ifndef ND_ANALYSIS_PCA_H
#define ND_ANALYSIS_PCA_H
#include <stddef.h>
#include "../core/status.h"

/* ---------- PCA ---------- */
typedef struct {
    int n, p;                  /* samples, features of the fitted data */
    int k;                     /* components kept */
    double *mean;              /* [p] column means that were subtracted */
    double *components;        /* [k x p] principal axes (unit rows), by decreasing variance */
    double *singular_values;   /* [k] singular values of the centred data */
    double *explained_variance;       /* [k] s^2 / (n - 1): eigenvalues of the covariance (ddof 1) */
    double *explained_variance_ratio; /* [k] explained_variance / total_variance */
    double total_variance;     /* sum of all min(n, p) eigenvalues = trace of the covariance */
    double participation_ratio;/* (sum lambda)^2 / sum lambda^2 over ALL eigenvalues (not only k) */
} nd_pca_result;

/* PCA by the thin SVD (LAPACK dgesdd) of the column-centred data X [n x p].
 * k = number of components to keep (0 or > min(n, p): keep min(n, p)).
 * Sign convention: each component's entry of largest magnitude is positive (the first
 * such entry on ties), so results are deterministic; sklearn's svd_flip may differ by sign.
 * Needs n >= 2. Fills *out (owning its arrays; free with nd_pca_free). */
nd_status nd_pca(const double *X, int n, int p, int k, nd_pca_result *out, nd_error *err);
void nd_pca_free(nd_pca_result *r);
/* scores[m x k] = (X[m x p] - mean) components^T */
void nd_pca_transform(const nd_pca_result *r, const double *X, int m, double *scores);

/* Participation ratio (sum l)^2 / sum l^2 of non-negative eigenvalues l[0..k-1]
 * (negative values, from rounding, count as 0). 0 when all are 0. */
double nd_participation_ratio(const double *eigenvalues, int k);

/* ---------- helpers shared by the analysis modules ---------- */
/* Xc = X - column means (Xc may equal X for in place); mean[p] may be NULL. */
void nd_center_columns(const double *X, int n, int p, double *Xc, double *mean);
/* C[p x p] = alpha * A^T A for A [n x p] (dsyrk; both triangles filled). */
void nd_gram_cols(const double *A, int n, int p, double alpha, double *C);
/* G[n x n] = A A^T for A [n x p] (dsyrk; both triangles filled). */
void nd_gram_rows(const double *A, int n, int p, double *G);
/* Eigendecomposition of a symmetric matrix (LAPACK dsyevd): A [p x p] is overwritten by
 * the eigenvectors (column j of the row-major array = eigenvector j), w[p] receives the
 * eigenvalues in ascending order. */
nd_status nd_sym_eig(double *A, int p, double *w, nd_error *err);
/* out = V diag(f(lambda)) V^T with f(l) = max(l, floor)^power, for the eigen-
 * decomposition of the symmetric S + shift I. S [p x p] is not modified. Used for
 * the inverse square roots of covariances (power = -0.5). */
nd_status nd_sym_pow(const double *S, int p, double shift, double floor, double power, double *out,
                     nd_error *err);
/* NaN/Inf check; fails with ND_ERR_NUMERIC naming `what` and the element. */
nd_status nd_check_finite(const double *x, size_t n, int cols, const char *what, nd_error *err);
/* Median of x[0..n-1] (average of the two middle values when n is even); x is not modified.
 * NaN entries are skipped; returns NaN when none are left. */
double nd_median(const double *x, size_t n);
/* Pearson correlation of a[i*sa] and b[i*sb], i < n; NaN when either is constant. */
double nd_pearson_strided(const double *a, size_t sa, const double *b, size_t sb, size_t n);

#endif
