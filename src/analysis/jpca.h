/* jPCA (Churchland, Cunningham et al., Nature 2012): rotational structure in
 * condition-averaged population activity (shared/spec/analysis.md "Low-dimensional dynamics").
 *
 * Input: condition-averaged data [C conditions][T bins][N units], row-major doubles.
 * Steps:
 *   1. soft normalisation of each unit: x / (max - min + soft_norm) over all conditions and
 *      bins (soft_norm 10, for rates in Hz; skipped when normalize = 0);
 *   2. subtraction of the cross-condition mean at every bin;
 *   3. PCA (thin SVD, LAPACK dgesdd) of the samples (condition, bin) of the window
 *      [t_start, t_end), centred on their mean (zero after step 2; with subtract_mean = 0 this
 *      is a plain PCA centring), to k dims (k even, default 6); every bin is projected;
 *   4. in PC coordinates, X = the states x(t) and dX = x(t+1) - x(t) for t = t_start ..
 *      t_end - 2 of every condition, stacked: n = C (Tw - 1) rows of k columns;
 *   5. M_best = argmin ||dX - X M||_F (LAPACK dgelsd), M_skew = the same over skew-
 *      symmetric M, in closed form (see nd_jpca_fit_skew);
 *   6. planes from the conjugate eigenvector pairs of M_skew (LAPACK dgeev), sorted by
 *      |Im lambda| descending.
 *
 * Orientation convention (important): the analysis layer works with row vectors, samples x
 * features, so every M here acts on the right, dX = X M. The spec's closed form
 * M = U [(U^T (C^T - C) U)_ij / (l_i + l_j)] U^T (C = X^T dX) is the column-vector matrix of
 * dx = M x, i.e. the transpose (= the negative) of ours; nd_jpca_fit_skew returns the
 * minimiser of ||dX - X M|| over skew-symmetric M, which is U [(U^T (C - C^T) U)_ij /
 * (l_i + l_j)] U^T. The eigenvalues (+-i omega) and planes are the same either way.
 *
 * Rotation rate: omega = |Im lambda| of a plane's eigenvalue pair, in radians per bin (the
 * continuous-time rate of dx/dt = x M with dt = 1 bin); frequency = omega / (2 pi) cycles per
 * bin; divide by the bin width in seconds for Hz.
 *
 * R^2: 1 - ||dX - X M||^2 / ||dX||^2. The cross-condition mean was subtracted, so the
 * columns of X and dX have zero mean and this is the usual (centred) R^2. "In plane p" means
 * the same with dX and X M projected onto the plane: dX B_p and X M B_p (B_p: k x 2 basis).
 *
 * Plane bases: for plane p, jpc[2p], jpc[2p+1] are orthonormal (in PC space, then mapped to
 * units) with the rotation counter-clockwise from the first axis to the second
 * (b1^T M_skew b2 > 0); within the plane, the first axis is rotated to the direction of the
 * largest spread of the states at t_start (the initial conditions), and its largest-magnitude
 * PC coordinate is made positive. */
#ifndef ND_ANALYSIS_JPCA_H
#define ND_ANALYSIS_JPCA_H
#include "../core/status.h"

typedef struct {
    int k;             /* dims kept by PCA, even, >= 2 (default 6) */
    int normalize;     /* 1 (default): x / (range + soft_norm) per unit */
    double soft_norm;  /* 10 */
    int subtract_mean; /* 1 (default): subtract the cross-condition mean at every bin */
    int t_start;       /* first bin of the analysis window (default 0) */
    int t_end;         /* one past the last bin; <= 0 means T (default 0) */
} nd_jpca_opts;
void nd_jpca_opts_default(nd_jpca_opts *o);

typedef struct {
    int C, T, N, k, nplanes;
    int t_start, t_end;       /* the window used */
    double *pcs;              /* [N x k] PCA axes (column j = PC j) in normalised-unit space */
    double *pc_var_frac;      /* [k] fraction of the window's variance captured by each PC */
    double *M_skew, *M_best;  /* [k x k], row convention dX = X M */
    double *eig_re, *eig_im;  /* [k] eigenvalues of M_skew: pair p is (2p, 2p+1) with Im >= 0 first */
    double *omega;            /* [nplanes] rotation rate |Im lambda|, radians per bin */
    double *plane_basis;      /* [k x k] column 2p, 2p+1 = orthonormal basis of plane p in PC space */
    double *jpcs;             /* [N x k] = pcs plane_basis: the jPC axes in normalised-unit space */
    double *proj;             /* [C][T][k] all bins of the (normalised, mean-subtracted) data projected onto
                                 the jPCs: columns 2p, 2p+1 are plane p */
    double *plane_var_frac;   /* [nplanes] fraction of the window's total variance in each plane */
    double *r2_skew_plane, *r2_best_plane; /* [nplanes] R^2 of M_skew / M_best restricted to each plane */
    double r2_skew, r2_best;  /* R^2 in the k dims */
    double pca_var_frac;      /* fraction of the window's variance in the k PCs */
    double *norm_scale;       /* [N] the factor each unit was multiplied by (1 / (range + soft_norm), or 1) */
} nd_jpca_result;

/* Full jPCA of data [C][T][N]. Needs C >= 2 (for the mean subtraction; C >= 1 when
 * subtract_mean = 0), a window of >= 2 bins, k <= N and k <= the number of samples. */
nd_status nd_jpca(const double *data, int C, int T, int N, const nd_jpca_opts *o, nd_jpca_result *r, nd_error *err);
void nd_jpca_result_free(nd_jpca_result *r);

/* Least-squares fits of dX [n x k] = X [n x k] M, M [k x k] out. */
nd_status nd_jpca_fit_best(const double *X, const double *dX, int n, int k, double *M, nd_error *err);
/* Skew-symmetric minimiser, closed form: S = X^T X = U diag(l) U^T (dsyevd), C = X^T dX,
 * M = U [(U^T (C - C^T) U)_ij / (l_i + l_j)] U^T (entries with l_i + l_j <= 0 are 0). */
nd_status nd_jpca_fit_skew(const double *X, const double *dX, int n, int k, double *M, nd_error *err);
/* R^2 = 1 - ||(dX - X M) B||^2 / ||dX B||^2 with B [k x q] (B = NULL: the identity, q = k). */
double nd_jpca_r2(const double *X, const double *dX, int n, int k, const double *M, const double *B, int q);

#endif
