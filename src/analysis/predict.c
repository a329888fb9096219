/* Ridge / PLS maps, cross-validated predictivity, noise ceilings, class selectivity (see predict.h). */
#include "predict.h"
#include "pca.h"
#include "../core/mem.h"
#include "../core/rng.h"
#include <cblas.h>
#include <float.h>
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define FREE_ALL(...)                                                   \
    do {                                                                \
        void *ptrs_[] = {__VA_ARGS__};                                  \
        for (size_t i_ = 0; i_ < sizeof ptrs_ / sizeof *ptrs_; i_++)    \
            nd_free(ptrs_[i_]);                                         \
    } while (0)

static nd_status check_xy(const char *what, const double *X, const double *Y, int n, int p, int q, nd_error *err) {
    if (!X || !Y) return nd_fail(err, ND_ERR_ARG, "%s: missing input matrix", what);
    if (n < 2 || p < 1 || q < 1)
        return nd_fail(err, ND_ERR_ARG, "%s: needs at least 2 samples, 1 predictor and 1 target (got n %d, p %d, q %d)", what, n, p, q);
    char b[96];
    snprintf(b, sizeof b, "%s: predictors", what);
    nd_status st = nd_check_finite(X, (size_t)n * p, p, b, err);
    if (st) return st;
    snprintf(b, sizeof b, "%s: targets", what);
    return nd_check_finite(Y, (size_t)n * q, q, b, err);
}

/* b = ym - xm W */
static void intercept(const double *xm, const double *ym, int p, int q, const double *W, double *b) {
    for (int j = 0; j < q; j++) {
        double s = ym[j];
        for (int i = 0; i < p; i++) s -= xm[i] * W[(size_t)i * q + j];
        b[j] = s;
    }
}

nd_status nd_ridge_fit(const double *X, const double *Y, int n, int p, int q, double alpha, double *W, double *b,
                       nd_error *err) {
    nd_status st = check_xy("ridge", X, Y, n, p, q, err);
    if (st) return st;
    if (!(alpha >= 0) || !isfinite(alpha)) return nd_fail(err, ND_ERR_ARG, "ridge: alpha must be >= 0 (got %g)", alpha);
    double *xm = NULL, *ym = NULL, *Xc = NULL, *Yc = NULL, *A = NULL, *B = NULL, *s = NULL;
    if ((st = ND_ALLOC(xm, p, "ridge: means", err)) || (st = ND_ALLOC(ym, q, "ridge: means", err)) ||
        (st = ND_ALLOC(Xc, (size_t)n * p, "ridge: centred X", err)) || (st = ND_ALLOC(Yc, (size_t)n * q, "ridge: centred Y", err)))
        goto done;
    nd_center_columns(X, n, p, Xc, xm);
    nd_center_columns(Y, n, q, Yc, ym);
    lapack_int info;
    if (alpha == 0) {
        int mx = n > p ? n : p, r = n < p ? n : p;
        lapack_int rank;
        if ((st = ND_ALLOC(B, (size_t)mx * q, "ridge: rhs", err)) || (st = ND_ALLOC(s, r, "ridge: singular values", err))) goto done;
        memcpy(B, Yc, sizeof(double) * n * q);
        info = LAPACKE_dgelsd(LAPACK_ROW_MAJOR, n, p, q, Xc, p, B, q, s, -1.0, &rank);
        if (info != 0) { st = nd_fail(err, ND_ERR_NUMERIC, "least squares (dgelsd) failed: info %d", (int)info); goto done; }
        memcpy(W, B, sizeof(double) * p * q);
    } else if (p <= n) {
        if ((st = ND_ALLOC(A, (size_t)p * p, "ridge: normal matrix", err))) goto done;
        nd_gram_cols(Xc, n, p, 1.0, A);
        for (int i = 0; i < p; i++) A[(size_t)i * p + i] += alpha;
        cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, p, q, n, 1.0, Xc, p, Yc, q, 0.0, W, q);
        info = LAPACKE_dposv(LAPACK_ROW_MAJOR, 'U', p, q, A, p, W, q);
        if (info != 0) { st = nd_fail(err, ND_ERR_NUMERIC, "ridge: Cholesky solve failed (info %d)", (int)info); goto done; }
    } else {
        if ((st = ND_ALLOC(A, (size_t)n * n, "ridge: kernel matrix", err))) goto done;
        nd_gram_rows(Xc, n, p, A);
        for (int i = 0; i < n; i++) A[(size_t)i * n + i] += alpha;
        info = LAPACKE_dposv(LAPACK_ROW_MAJOR, 'U', n, q, A, n, Yc, q);
        if (info != 0) { st = nd_fail(err, ND_ERR_NUMERIC, "ridge: Cholesky solve failed (info %d)", (int)info); goto done; }
        cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, p, q, n, 1.0, Xc, p, Yc, q, 0.0, W, q);
    }
    intercept(xm, ym, p, q, W, b);
done:
    FREE_ALL(xm, ym, Xc, Yc, A, B, s);
    return st;
}

/* pinv of a small K x K matrix (scipy.linalg.pinv: cutoff K * eps * s_max) into out */
static nd_status pinv_small(const double *M, int K, double *out, nd_error *err) {
    double *A = NULL, *s = NULL, *U = NULL, *VT = NULL;
    nd_status st;
    if ((st = ND_ALLOC(A, (size_t)K * K, "pinv", err)) || (st = ND_ALLOC(s, K, "pinv", err)) || (st = ND_ALLOC(U, (size_t)K * K, "pinv", err)) ||
        (st = ND_ALLOC(VT, (size_t)K * K, "pinv", err)))
        goto done;
    memcpy(A, M, sizeof(double) * K * K);
    lapack_int info = LAPACKE_dgesdd(LAPACK_ROW_MAJOR, 'S', K, K, A, K, s, U, K, VT, K);
    if (info != 0) { st = nd_fail(err, ND_ERR_NUMERIC, "pls: SVD for the pseudo-inverse failed (info %d)", (int)info); goto done; }
    double cut = K * DBL_EPSILON * s[0];
    /* out = V diag(1/s) U^T */
    for (int i = 0; i < K; i++)
        for (int j = 0; j < K; j++) {
            double v = 0;
            for (int t = 0; t < K; t++)
                if (s[t] > cut) v += VT[(size_t)t * K + i] * U[(size_t)j * K + t] / s[t];
            out[(size_t)i * K + j] = v;
        }
done:
    FREE_ALL(A, s, U, VT);
    return st;
}

nd_status nd_pls_fit(const double *X, const double *Y, int n, int p, int q, int ncomp, int scale, double *Wout,
                     double *bout, nd_error *err) {
    nd_status st = check_xy("pls", X, Y, n, p, q, err);
    if (st) return st;
    if (ncomp < 1 || ncomp > p)
        return nd_fail(err, ND_ERR_ARG, "pls: number of components must be in [1, %d] (the number of predictors); got %d", p, ncomp);
    const double eps = DBL_EPSILON;
    double *xm = NULL, *ym = NULL, *xs = NULL, *ysd = NULL, *Xk = NULL, *Yk = NULL, *Wt = NULL, *Pl = NULL, *Ql = NULL,
           *xw = NULL, *xwo = NULL, *yw = NULL, *xsc = NULL, *ysc = NULL, *M = NULL, *Mi = NULL, *R = NULL, *C = NULL;
    if ((st = ND_ALLOC(xm, p, "pls", err)) || (st = ND_ALLOC(ym, q, "pls", err)) || (st = ND_ALLOC(xs, p, "pls", err)) ||
        (st = ND_ALLOC(ysd, q, "pls", err)) || (st = ND_ALLOC(Xk, (size_t)n * p, "pls: X", err)) ||
        (st = ND_ALLOC(Yk, (size_t)n * q, "pls: Y", err)) || (st = ND_ALLOC(Wt, (size_t)p * ncomp, "pls: weights", err)) ||
        (st = ND_ALLOC(Pl, (size_t)p * ncomp, "pls: loadings", err)) || (st = ND_ALLOC(Ql, (size_t)q * ncomp, "pls: loadings", err)) ||
        (st = ND_ALLOC(xw, p, "pls", err)) || (st = ND_ALLOC(xwo, p, "pls", err)) || (st = ND_ALLOC(yw, q, "pls", err)) ||
        (st = ND_ALLOC(xsc, n, "pls", err)) || (st = ND_ALLOC(ysc, n, "pls", err)))
        goto done;
    nd_center_columns(X, n, p, Xk, xm);
    nd_center_columns(Y, n, q, Yk, ym);
    double *sds[2] = {xs, ysd}, *mats[2] = {Xk, Yk};
    int dims[2] = {p, q};
    for (int m = 0; m < 2; m++)
        for (int j = 0; j < dims[m]; j++) {
            double s = 1;
            if (scale) {
                double ss = 0;
                for (int i = 0; i < n; i++) ss += mats[m][(size_t)i * dims[m] + j] * mats[m][(size_t)i * dims[m] + j];
                s = sqrt(ss / (n - 1));
                if (s == 0) s = 1;
                for (int i = 0; i < n; i++) mats[m][(size_t)i * dims[m] + j] /= s;
            }
            sds[m][j] = s;
        }
    int K = 0;
    for (int k = 0; k < ncomp; k++) {
        /* zero Y columns that are all ~0, then start from the first column with an entry > eps */
        int first = -1;
        for (int j = 0; j < q; j++) {
            int small = 1, big = 0;
            for (int i = 0; i < n; i++) {
                double v = fabs(Yk[(size_t)i * q + j]);
                if (v >= 10 * eps) small = 0;
            }
            if (small)
                for (int i = 0; i < n; i++) Yk[(size_t)i * q + j] = 0;
            for (int i = 0; i < n && !big; i++) big = fabs(Yk[(size_t)i * q + j]) > eps;
            if (big && first < 0) first = j;
        }
        if (first < 0) break; /* Y residual is constant */
        for (int i = 0; i < n; i++) ysc[i] = Yk[(size_t)i * q + first];
        for (int it = 0; it < 500; it++) {
            double yy = cblas_ddot(n, ysc, 1, ysc, 1);
            cblas_dgemv(CblasRowMajor, CblasTrans, n, p, 1.0 / yy, Xk, p, ysc, 1, 0.0, xw, 1);
            double nw = sqrt(cblas_ddot(p, xw, 1, xw, 1)) + eps;
            for (int j = 0; j < p; j++) xw[j] /= nw;
            cblas_dgemv(CblasRowMajor, CblasNoTrans, n, p, 1.0, Xk, p, xw, 1, 0.0, xsc, 1);
            double xx = cblas_ddot(n, xsc, 1, xsc, 1);
            cblas_dgemv(CblasRowMajor, CblasTrans, n, q, 1.0 / xx, Yk, q, xsc, 1, 0.0, yw, 1);
            double ww = cblas_ddot(q, yw, 1, yw, 1) + eps;
            cblas_dgemv(CblasRowMajor, CblasNoTrans, n, q, 1.0 / ww, Yk, q, yw, 1, 0.0, ysc, 1);
            double d = 0;
            for (int j = 0; j < p; j++) {
                double e = xw[j] - (it == 0 ? 100.0 : xwo[j]);
                d += e * e;
            }
            if (d < 1e-6 || q == 1) break;
            memcpy(xwo, xw, sizeof(double) * p);
        }
        int am = 0;
        for (int j = 1; j < p; j++)
            if (fabs(xw[j]) > fabs(xw[am])) am = j;
        double sg = xw[am] > 0 ? 1 : xw[am] < 0 ? -1 : 0;
        for (int j = 0; j < p; j++) xw[j] *= sg;
        for (int j = 0; j < q; j++) yw[j] *= sg;
        cblas_dgemv(CblasRowMajor, CblasNoTrans, n, p, 1.0, Xk, p, xw, 1, 0.0, xsc, 1);
        double xx = cblas_ddot(n, xsc, 1, xsc, 1);
        double *xl = xwo, *yl = yw; /* reuse buffers: xwo is free now, yw no longer needed */
        cblas_dgemv(CblasRowMajor, CblasTrans, n, p, 1.0 / xx, Xk, p, xsc, 1, 0.0, xl, 1);
        cblas_dger(CblasRowMajor, n, p, -1.0, xsc, 1, xl, 1, Xk, p);
        cblas_dgemv(CblasRowMajor, CblasTrans, n, q, 1.0 / xx, Yk, q, xsc, 1, 0.0, yl, 1);
        cblas_dger(CblasRowMajor, n, q, -1.0, xsc, 1, yl, 1, Yk, q);
        for (int j = 0; j < p; j++) { Wt[(size_t)j * ncomp + k] = xw[j]; Pl[(size_t)j * ncomp + k] = xl[j]; }
        for (int j = 0; j < q; j++) Ql[(size_t)j * ncomp + k] = yl[j];
        K = k + 1;
    }
    if (K == 0) {
        /* Y constant: the prediction is its mean */
        memset(Wout, 0, sizeof(double) * p * q);
        memcpy(bout, ym, sizeof(double) * q);
        goto done;
    }
    if ((st = ND_ALLOC(M, (size_t)K * K, "pls", err)) || (st = ND_ALLOC(Mi, (size_t)K * K, "pls", err)) ||
        (st = ND_ALLOC(R, (size_t)p * K, "pls", err)) || (st = ND_ALLOC(C, (size_t)p * q, "pls", err)))
        goto done;
    /* M = Pl^T Wt (first K columns; lda ncomp) */
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, K, K, p, 1.0, Pl, ncomp, Wt, ncomp, 0.0, M, K);
    if ((st = pinv_small(M, K, Mi, err))) goto done;
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, p, K, K, 1.0, Wt, ncomp, Mi, K, 0.0, R, K);
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, p, q, K, 1.0, R, K, Ql, ncomp, 0.0, C, q);
    for (int i = 0; i < p; i++)
        for (int j = 0; j < q; j++) Wout[(size_t)i * q + j] = C[(size_t)i * q + j] * ysd[j] / xs[i];
    intercept(xm, ym, p, q, Wout, bout);
done:
    FREE_ALL(xm, ym, xs, ysd, Xk, Yk, Wt, Pl, Ql, xw, xwo, yw, xsc, ysc, M, Mi, R, C);
    return st;
}

void nd_linear_predict(const double *X, int m, int p, int q, const double *W, const double *b, double *Yhat) {
    for (int i = 0; i < m; i++) memcpy(Yhat + (size_t)i * q, b, sizeof(double) * q);
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, q, p, 1.0, X, p, W, q, 1.0, Yhat, q);
}

void nd_predict_opts_default(nd_predict_opts *o) {
    memset(o, 0, sizeof *o);
    o->kind = ND_MAP_PLS;
    o->alpha = 1.0;
    o->ncomp = 25;
    o->scale = 1;
    o->folds = 5;
}

void nd_predict_result_free(nd_predict_result *r) {
    if (!r) return;
    nd_free(r->r); nd_free(r->pred);
    memset(r, 0, sizeof *r);
}

nd_status nd_predictivity(const double *X, const double *Y, int n, int p, int q, const nd_predict_opts *o,
                          nd_predict_result *out, nd_error *err) {
    memset(out, 0, sizeof *out);
    nd_status st = check_xy("predictivity", X, Y, n, p, q, err);
    if (st) return st;
    int K = o->folds;
    if (K < 2 || K > n) return nd_fail(err, ND_ERR_ARG, "predictivity: folds must be in [2, %d] (the number of samples); got %d", n, K);
    if (n / K < 2) return nd_fail(err, ND_ERR_ARG, "predictivity: %d samples are too few for %d folds (need >= 2 held out per fold)", n, K);
    if (o->kind == ND_MAP_PLS && (o->ncomp < 1 || o->ncomp > p))
        return nd_fail(err, ND_ERR_ARG, "predictivity: PLS components must be in [1, %d] (the number of model units); got %d", p, o->ncomp);
    if (o->kind == ND_MAP_RIDGE && !(o->alpha >= 0)) return nd_fail(err, ND_ERR_ARG, "predictivity: ridge alpha must be >= 0 (got %g)", o->alpha);
    int *perm = NULL, maxte = n / K + 1;
    double *Xtr = NULL, *Ytr = NULL, *Xte = NULL, *Yte = NULL, *Pte = NULL, *W = NULL, *b = NULL, *rf = NULL;
    if ((st = ND_ALLOC(perm, n, "predictivity: permutation", err)) || (st = ND_ALLOC(Xtr, (size_t)n * p, "predictivity: train X", err)) ||
        (st = ND_ALLOC(Ytr, (size_t)n * q, "predictivity: train Y", err)) || (st = ND_ALLOC(Xte, (size_t)maxte * p, "predictivity: test X", err)) ||
        (st = ND_ALLOC(Yte, (size_t)maxte * q, "predictivity: test Y", err)) || (st = ND_ALLOC(Pte, (size_t)maxte * q, "predictivity: predictions", err)) ||
        (st = ND_ALLOC(W, (size_t)p * q, "predictivity: weights", err)) || (st = ND_ALLOC(b, q, "predictivity: intercepts", err)) ||
        (st = ND_ALLOC(rf, q, "predictivity: fold r", err)) || (st = ND_ALLOC(out->r, q, "predictivity: r", err)) ||
        (st = ND_ALLOC(out->pred, (size_t)n * q, "predictivity: predictions", err)))
        goto done;
    for (int i = 0; i < n; i++) perm[i] = i;
    if (o->shuffle) {
        nd_rng rng;
        nd_rng_seed(&rng, o->seed);
        nd_rng_shuffle(&rng, perm, n);
    }
    double fsum = 0;
    int fcount = 0, start = 0;
    for (int f = 0; f < K; f++) {
        int size = n / K + (f < n % K), ntr = 0;
        for (int t = 0; t < n; t++) {
            int i = perm[t];
            if (t >= start && t < start + size) {
                int r = t - start;
                memcpy(Xte + (size_t)r * p, X + (size_t)i * p, sizeof(double) * p);
                memcpy(Yte + (size_t)r * q, Y + (size_t)i * q, sizeof(double) * q);
            } else {
                memcpy(Xtr + (size_t)ntr * p, X + (size_t)i * p, sizeof(double) * p);
                memcpy(Ytr + (size_t)ntr * q, Y + (size_t)i * q, sizeof(double) * q);
                ntr++;
            }
        }
        st = o->kind == ND_MAP_RIDGE ? nd_ridge_fit(Xtr, Ytr, ntr, p, q, o->alpha, W, b, err)
                                     : nd_pls_fit(Xtr, Ytr, ntr, p, q, o->ncomp, o->scale, W, b, err);
        if (st) goto done;
        nd_linear_predict(Xte, size, p, q, W, b, Pte);
        for (int r = 0; r < size; r++) memcpy(out->pred + (size_t)perm[start + r] * q, Pte + (size_t)r * q, sizeof(double) * q);
        for (int j = 0; j < q; j++) rf[j] = nd_pearson_strided(Yte + j, q, Pte + j, q, size);
        double md = nd_median(rf, q);
        if (!isnan(md)) { fsum += md; fcount++; }
        start += size;
    }
    out->n = n; out->q = q;
    out->n_valid = 0;
    for (int j = 0; j < q; j++) {
        out->r[j] = nd_pearson_strided(Y + j, q, out->pred + j, q, n);
        if (!isnan(out->r[j])) out->n_valid++;
    }
    out->median_r = nd_median(out->r, q);
    out->fold_median_mean = fcount ? fsum / fcount : NAN;
done:
    FREE_ALL(perm, Xtr, Ytr, Xte, Yte, Pte, W, b, rf);
    if (st) nd_predict_result_free(out);
    return st;
}

nd_status nd_split_half_ceiling(const double *Y1, const double *Y2, int n, int q, double *per_neuron, double *median,
                                nd_error *err) {
    nd_status st = check_xy("noise ceiling", Y1, Y2, n, q, q, err);
    if (st) return st;
    double *c = NULL;
    if ((st = ND_ALLOC(c, q, "noise ceiling", err))) return st;
    int valid = 0;
    for (int j = 0; j < q; j++) {
        double r = nd_pearson_strided(Y1 + j, q, Y2 + j, q, n);
        c[j] = isnan(r) ? NAN : (1 + r == 0 ? -INFINITY : 2 * r / (1 + r));
        if (!isnan(r)) valid++;
    }
    if (!valid) { nd_free(c); return nd_fail(err, ND_ERR_NUMERIC, "noise ceiling: every neuron is constant in a repeat"); }
    *median = nd_median(c, q);
    if (per_neuron) memcpy(per_neuron, c, sizeof(double) * q);
    nd_free(c);
    return ND_OK;
}

static int cmp_int(const void *a, const void *b) {
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

nd_status nd_class_selectivity(const double *act, const int *labels, int n, int units, double *csi, int *pref,
                               nd_error *err) {
    if (!act || !labels || n < 2 || units < 1) return nd_fail(err, ND_ERR_ARG, "class selectivity: needs activations [n >= 2 x units >= 1] and labels");
    nd_status st = nd_check_finite(act, (size_t)n * units, units, "class selectivity: activations", err);
    if (st) return st;
    int *u = NULL, *cls = NULL, *cnt = NULL, C = 0;
    double *mu = NULL;
    if ((st = ND_ALLOC(u, n, "class selectivity", err)) || (st = ND_ALLOC(cls, n, "class selectivity", err))) goto done;
    memcpy(u, labels, sizeof(int) * n);
    qsort(u, n, sizeof *u, cmp_int);
    for (int i = 0; i < n; i++)
        if (i == 0 || u[i] != u[i - 1]) u[C++] = u[i];
    if (C < 2) { st = nd_fail(err, ND_ERR_ARG, "class selectivity: needs at least 2 classes (got %d)", C); goto done; }
    if ((st = ND_ALLOC(cnt, C, "class selectivity", err)) || (st = ND_ALLOC(mu, (size_t)C * units, "class selectivity", err))) goto done;
    for (int i = 0; i < n; i++) {
        int *hit = bsearch(&labels[i], u, C, sizeof *u, cmp_int);
        int c = (int)(hit - u);
        cls[i] = c;
        cnt[c]++;
        for (int j = 0; j < units; j++) mu[(size_t)c * units + j] += act[(size_t)i * units + j];
    }
    for (int c = 0; c < C; c++)
        for (int j = 0; j < units; j++) mu[(size_t)c * units + j] /= cnt[c];
    for (int j = 0; j < units; j++) {
        int best = 0;
        double tot = 0;
        for (int c = 0; c < C; c++) {
            tot += mu[(size_t)c * units + j];
            if (mu[(size_t)c * units + j] > mu[(size_t)best * units + j]) best = c;
        }
        double mx = mu[(size_t)best * units + j], rest = (tot - mx) / (C - 1), den = mx + rest;
        csi[j] = den != 0 ? (mx - rest) / den : 0;
        if (pref) pref[j] = u[best];
    }
done:
    nd_free(u); nd_free(cls); nd_free(cnt); nd_free(mu);
    return st;
}
