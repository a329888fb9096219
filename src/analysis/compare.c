/* CCA, SVCCA, PWCCA, CKA and the shape metric (see compare.h). */
#include "compare.h"
#include "pca.h"
#include "../core/mem.h"
#include <cblas.h>
#include <lapacke.h>
#include <math.h>
#include <string.h>

#define FREE_ALL(...)                                                   \
    do {                                                                \
        void *ptrs_[] = {__VA_ARGS__};                                  \
        for (size_t i_ = 0; i_ < sizeof ptrs_ / sizeof *ptrs_; i_++)    \
            nd_free(ptrs_[i_]);                                         \
    } while (0)

static nd_status check_pair(const char *what, const double *X, const double *Y, int n, int p, int q, int nmin,
                            nd_error *err) {
    if (!X || !Y) return nd_fail(err, ND_ERR_ARG, "%s: missing input matrix", what);
    if (n < nmin) return nd_fail(err, ND_ERR_ARG, "%s: needs at least %d samples (got %d)", what, nmin, n);
    if (p < 1 || q < 1) return nd_fail(err, ND_ERR_ARG, "%s: needs at least 1 feature per side (got %d and %d)", what, p, q);
    char buf[96];
    snprintf(buf, sizeof buf, "%s: first representation", what);
    nd_status st = nd_check_finite(X, (size_t)n * p, p, buf, err);
    if (st) return st;
    snprintf(buf, sizeof buf, "%s: second representation", what);
    return nd_check_finite(Y, (size_t)n * q, q, buf, err);
}

static double max_diag(const double *S, int p) {
    double m = 0;
    for (int i = 0; i < p; i++)
        if (S[(size_t)i * p + i] > m) m = S[(size_t)i * p + i];
    return m;
}

/* ======================= CCA ======================= */
void nd_cca_free(nd_cca_result *r) {
    if (!r) return;
    FREE_ALL(r->rho, r->a, r->b, r->u, r->v);
    memset(r, 0, sizeof *r);
}

/* whitening matrix W = (S + eps maxdiag I)^(-1/2) of the covariance of centred A [n x p] */
static nd_status whitener(const double *Ac, int n, int p, double eps, const char *side, double *S, double *W,
                          nd_error *err) {
    nd_gram_cols(Ac, n, p, 1.0 / (n - 1), S);
    double md = max_diag(S, p);
    if (!(md > 0)) return nd_fail(err, ND_ERR_NUMERIC, "cca: the %s representation is constant (zero variance)", side);
    double shift = eps * md, floor = shift > 0 ? shift : 1e-15 * md;
    return nd_sym_pow(S, p, shift, floor, -0.5, W, err);
}

nd_status nd_cca(const double *X, const double *Y, int n, int p, int q, double eps, int flags, nd_cca_result *out,
                 nd_error *err) {
    memset(out, 0, sizeof *out);
    nd_status st = check_pair("cca", X, Y, n, p, q, 2, err);
    if (st) return st;
    if (!(eps >= 0) || !isfinite(eps)) return nd_fail(err, ND_ERR_ARG, "cca: eps must be >= 0 (got %g)", eps);
    int k = p < q ? p : q;
    double *Xc = NULL, *Yc = NULL, *Sxx = NULL, *Syy = NULL, *Sxy = NULL, *Wx = NULL, *Wy = NULL, *M = NULL, *T = NULL,
           *U = NULL, *VT = NULL, *V = NULL;
    if ((st = ND_ALLOC(Xc, (size_t)n * p, "cca: centred X", err)) || (st = ND_ALLOC(Yc, (size_t)n * q, "cca: centred Y", err)) ||
        (st = ND_ALLOC(Sxx, (size_t)p * p, "cca: Sxx", err)) || (st = ND_ALLOC(Syy, (size_t)q * q, "cca: Syy", err)) ||
        (st = ND_ALLOC(Sxy, (size_t)p * q, "cca: Sxy", err)) || (st = ND_ALLOC(Wx, (size_t)p * p, "cca: Sxx^-1/2", err)) ||
        (st = ND_ALLOC(Wy, (size_t)q * q, "cca: Syy^-1/2", err)) || (st = ND_ALLOC(M, (size_t)p * q, "cca: whitened Sxy", err)) ||
        (st = ND_ALLOC(T, (size_t)p * q, "cca: workspace", err)) || (st = ND_ALLOC(U, (size_t)p * k, "cca: U", err)) ||
        (st = ND_ALLOC(VT, (size_t)k * q, "cca: V^T", err)) || (st = ND_ALLOC(out->rho, k, "cca: correlations", err)))
        goto done;
    nd_center_columns(X, n, p, Xc, NULL);
    nd_center_columns(Y, n, q, Yc, NULL);
    if ((st = whitener(Xc, n, p, eps, "first", Sxx, Wx, err)) || (st = whitener(Yc, n, q, eps, "second", Syy, Wy, err)))
        goto done;
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, p, q, n, 1.0 / (n - 1), Xc, p, Yc, q, 0.0, Sxy, q);
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, p, q, p, 1.0, Wx, p, Sxy, q, 0.0, T, q);
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, p, q, q, 1.0, T, q, Wy, q, 0.0, M, q);
    lapack_int info = LAPACKE_dgesdd(LAPACK_ROW_MAJOR, 'S', p, q, M, q, out->rho, U, k, VT, q);
    if (info != 0) {
        st = nd_fail(err, info < 0 ? ND_ERR_INTERNAL : ND_ERR_NUMERIC, "cca: SVD (dgesdd, %d x %d) did not converge (info %d)",
                     p, q, (int)info);
        goto done;
    }
    out->n = n; out->p = p; out->q = q; out->k = k; out->kx = p; out->ky = q;
    double s = 0;
    for (int i = 0; i < k; i++) s += out->rho[i];
    out->mean = s / k;
    if (flags & (ND_CCA_DIRECTIONS | ND_CCA_VARIATES)) {
        if ((st = ND_ALLOC(out->a, (size_t)p * k, "cca: directions", err)) ||
            (st = ND_ALLOC(out->b, (size_t)q * k, "cca: directions", err)) || (st = ND_ALLOC(V, (size_t)q * k, "cca: V", err)))
            goto done;
        for (int i = 0; i < k; i++)
            for (int j = 0; j < q; j++) V[(size_t)j * k + i] = VT[(size_t)i * q + j];
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, p, k, p, 1.0, Wx, p, U, k, 0.0, out->a, k);
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, q, k, q, 1.0, Wy, q, V, k, 0.0, out->b, k);
    }
    if (flags & ND_CCA_VARIATES) {
        if ((st = ND_ALLOC(out->u, (size_t)n * k, "cca: variates", err)) || (st = ND_ALLOC(out->v, (size_t)n * k, "cca: variates", err)))
            goto done;
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, k, p, 1.0, Xc, p, out->a, k, 0.0, out->u, k);
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, k, q, 1.0, Yc, q, out->b, k, 0.0, out->v, k);
    }
    if (!(flags & ND_CCA_DIRECTIONS)) {
        nd_free(out->a); nd_free(out->b);
        out->a = out->b = NULL;
    }
done:
    FREE_ALL(Xc, Yc, Sxx, Syy, Sxy, Wx, Wy, M, T, U, VT, V);
    if (st) nd_cca_free(out);
    return st;
}

/* ======================= SVCCA ======================= */
/* reduce centred A [n x p] to its top-k scores U_k S_k; *R allocated [n x k] */
static nd_status svd_reduce(const double *A, int n, int p, double keep, double **R, int *kout, const char *side,
                            nd_error *err) {
    int r = n < p ? n : p;
    double *C = NULL, *s = NULL, *U = NULL, *VT = NULL;
    nd_status st;
    *R = NULL;
    if ((st = ND_ALLOC(C, (size_t)n * p, "svcca: centred data", err)) || (st = ND_ALLOC(s, r, "svcca: singular values", err)) ||
        (st = ND_ALLOC(U, (size_t)n * r, "svcca: U", err)) || (st = ND_ALLOC(VT, (size_t)r * p, "svcca: V^T", err)))
        goto done;
    nd_center_columns(A, n, p, C, NULL);
    lapack_int info = LAPACKE_dgesdd(LAPACK_ROW_MAJOR, 'S', n, p, C, p, s, U, r, VT, p);
    if (info != 0) {
        st = nd_fail(err, info < 0 ? ND_ERR_INTERNAL : ND_ERR_NUMERIC, "svcca: SVD of the %s representation did not converge (info %d)",
                     side, (int)info);
        goto done;
    }
    double tot = 0, cum = 0;
    for (int i = 0; i < r; i++) tot += s[i] * s[i];
    if (!(tot > 0)) { st = nd_fail(err, ND_ERR_NUMERIC, "svcca: the %s representation is constant (zero variance)", side); goto done; }
    int k = r;
    for (int i = 0; i < r; i++) {
        cum += s[i] * s[i];
        if (cum / tot >= keep) { k = i + 1; break; }
    }
    if ((st = ND_ALLOC(*R, (size_t)n * k, "svcca: reduced data", err))) goto done;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < k; j++) (*R)[(size_t)i * k + j] = U[(size_t)i * r + j] * s[j];
    *kout = k;
done:
    FREE_ALL(C, s, U, VT);
    return st;
}

nd_status nd_svcca(const double *X, const double *Y, int n, int p, int q, double keep, double eps, int flags,
                   nd_cca_result *out, nd_error *err) {
    memset(out, 0, sizeof *out);
    nd_status st = check_pair("svcca", X, Y, n, p, q, 2, err);
    if (st) return st;
    if (!(keep > 0 && keep <= 1)) return nd_fail(err, ND_ERR_ARG, "svcca: variance fraction to keep must be in (0, 1] (got %g)", keep);
    double *Rx = NULL, *Ry = NULL;
    int kx = 0, ky = 0;
    if ((st = svd_reduce(X, n, p, keep, &Rx, &kx, "first", err)) || (st = svd_reduce(Y, n, q, keep, &Ry, &ky, "second", err)))
        goto done;
    if ((st = nd_cca(Rx, Ry, n, kx, ky, eps, flags, out, err))) goto done;
    out->kx = kx; out->ky = ky;
done:
    nd_free(Rx); nd_free(Ry);
    return st;
}

/* ======================= PWCCA ======================= */
void nd_pwcca_free(nd_pwcca_result *r) {
    if (!r) return;
    nd_free(r->rho); nd_free(r->weights);
    memset(r, 0, sizeof *r);
}

nd_status nd_pwcca(const double *X, const double *Y, int n, int p, int q, double eps, nd_pwcca_weighting weighting,
                   nd_pwcca_result *out, nd_error *err) {
    memset(out, 0, sizeof *out);
    nd_cca_result c;
    nd_status st = nd_cca(X, Y, n, p, q, eps, ND_CCA_VARIATES, &c, err);
    if (st) return st; /* the message already names "cca: ..." */
    int side = p <= q ? 0 : 1, k = c.k, m = side ? q : p;
    const double *A = side ? Y : X, *H = side ? c.v : c.u;
    double *Ac = NULL, *G = NULL, *hn = NULL, *an = NULL;
    if ((st = ND_ALLOC(Ac, (size_t)n * m, "pwcca: centred data", err)) || (st = ND_ALLOC(G, (size_t)k * m, "pwcca: projections", err)) ||
        (st = ND_ALLOC(hn, k, "pwcca: norms", err)) || (st = ND_ALLOC(an, m, "pwcca: norms", err)) ||
        (st = ND_ALLOC(out->weights, k, "pwcca: weights", err)) || (st = ND_ALLOC(out->rho, k, "pwcca: correlations", err)))
        goto done;
    nd_center_columns(A, n, m, Ac, NULL);
    /* G = H^T Ac: <h_i, x_j> */
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, k, m, n, 1.0, H, k, Ac, m, 0.0, G, m);
    for (int i = 0; i < k; i++) {
        double s = 0;
        for (int t = 0; t < n; t++) s += H[(size_t)t * k + i] * H[(size_t)t * k + i];
        hn[i] = sqrt(s);
    }
    for (int j = 0; j < m; j++) {
        double s = 0;
        for (int t = 0; t < n; t++) s += Ac[(size_t)t * m + j] * Ac[(size_t)t * m + j];
        an[j] = sqrt(s);
    }
    double tot = 0;
    for (int i = 0; i < k; i++) {
        double w = 0;
        for (int j = 0; j < m; j++) {
            double g = fabs(G[(size_t)i * m + j]);
            if (!(hn[i] > 0)) continue;
            if (weighting == ND_PWCCA_CORR) {
                if (an[j] > 0) w += g / (hn[i] * an[j]);
            } else w += g / hn[i];
        }
        out->weights[i] = w;
        tot += w;
    }
    if (!(tot > 0)) { st = nd_fail(err, ND_ERR_NUMERIC, "pwcca: all projection weights are 0"); goto done; }
    out->pwcca = 0;
    for (int i = 0; i < k; i++) {
        out->weights[i] /= tot;
        out->rho[i] = c.rho[i];
        out->pwcca += out->weights[i] * c.rho[i];
    }
    out->mean_cca = c.mean;
    out->k = k;
    out->side = side;
done:
    FREE_ALL(Ac, G, hn, an);
    nd_cca_free(&c);
    if (st) nd_pwcca_free(out);
    return st;
}

/* ======================= CKA ======================= */
static double frob2_sym(const double *S, int p) {
    double s = 0;
    for (size_t i = 0; i < (size_t)p * p; i++) s += S[i] * S[i];
    return s;
}

/* unbiased HSIC (Song et al. 2012) from the pieces: t = sum_{i!=j} K_ij L_ij,
 * rK, rL = row sums of K~, L~ */
static double hsic_u_parts(double t, const double *rK, const double *rL, int n) {
    double sK = 0, sL = 0, rr = 0;
    for (int i = 0; i < n; i++) { sK += rK[i]; sL += rL[i]; rr += rK[i] * rL[i]; }
    double nn = n;
    return (t + sK * sL / ((nn - 1) * (nn - 2)) - 2.0 / (nn - 2) * rr) / (nn * (nn - 3));
}

/* CKA from Grams; K and L are overwritten (centred) when !debiased. */
static nd_status cka_gram_inplace(double *K, double *L, int n, int debiased, double *cka, nd_error *err) {
    size_t N = (size_t)n;
    if (debiased) {
        if (n < 4) return nd_fail(err, ND_ERR_ARG, "debiased CKA needs at least 4 samples (got %d)", n);
        double *rK = NULL, *rL = NULL;
        nd_status st;
        if ((st = ND_ALLOC(rK, n, "cka: row sums", err)) || (st = ND_ALLOC(rL, n, "cka: row sums", err))) {
            nd_free(rK);
            return st;
        }
        double tkl = 0, tkk = 0, tll = 0;
#pragma omp parallel for reduction(+ : tkl, tkk, tll) schedule(static)
        for (int i = 0; i < n; i++) {
            const double *ki = K + (size_t)i * N, *li = L + (size_t)i * N;
            double a = 0, b = 0, c = 0, sk = 0, sl = 0;
            for (int j = 0; j < n; j++) {
                if (j == i) continue;
                a += ki[j] * li[j]; b += ki[j] * ki[j]; c += li[j] * li[j];
                sk += ki[j]; sl += li[j];
            }
            rK[i] = sk; rL[i] = sl;
            tkl += a; tkk += b; tll += c;
        }
        double hkl = hsic_u_parts(tkl, rK, rL, n), hkk = hsic_u_parts(tkk, rK, rK, n), hll = hsic_u_parts(tll, rL, rL, n);
        nd_free(rK); nd_free(rL);
        if (!(hkk > 0) || !(hll > 0))
            return nd_fail(err, ND_ERR_NUMERIC, "debiased CKA: a representation has non-positive unbiased HSIC with itself "
                                                "(%g, %g): degenerate data", hkk, hll);
        *cka = hkl / sqrt(hkk * hll);
        return ND_OK;
    }
    double *mats[2] = {K, L};
    for (int m = 0; m < 2; m++) {
        double *A = mats[m], *rm = NULL, g = 0;
        nd_status st = ND_ALLOC(rm, n, "cka: row means", err);
        if (st) return st;
#pragma omp parallel for schedule(static)
        for (int i = 0; i < n; i++) {
            double s = 0;
            for (int j = 0; j < n; j++) s += A[(size_t)i * N + j];
            rm[i] = s / n;
        }
        for (int i = 0; i < n; i++) g += rm[i];
        g /= n;
#pragma omp parallel for schedule(static)
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++) A[(size_t)i * N + j] += g - rm[i] - rm[j];
        nd_free(rm);
    }
    double kl = 0, kk = 0, ll = 0;
#pragma omp parallel for reduction(+ : kl, kk, ll) schedule(static)
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) {
            double a = K[(size_t)i * N + j], b = L[(size_t)i * N + j];
            kl += a * b; kk += a * a; ll += b * b;
        }
    if (!(kk > 0) || !(ll > 0)) return nd_fail(err, ND_ERR_NUMERIC, "cka: a centred kernel matrix is zero (constant representation)");
    *cka = kl / sqrt(kk * ll);
    return ND_OK;
}

nd_status nd_cka_gram(const double *K, const double *L, int n, int debiased, double *cka, nd_error *err) {
    if (!K || !L || n < 2) return nd_fail(err, ND_ERR_ARG, "cka: needs two n x n kernel matrices with n >= 2");
    double *Kc = NULL, *Lc = NULL;
    nd_status st;
    if ((st = ND_ALLOC(Kc, (size_t)n * n, "cka: kernel copy", err)) || (st = ND_ALLOC(Lc, (size_t)n * n, "cka: kernel copy", err))) {
        nd_free(Kc);
        return st;
    }
    memcpy(Kc, K, sizeof(double) * n * n);
    memcpy(Lc, L, sizeof(double) * n * n);
    st = cka_gram_inplace(Kc, Lc, n, debiased, cka, err);
    nd_free(Kc); nd_free(Lc);
    return st;
}

/* linear CKA, biased or debiased; feature space or Gram, whichever needs less memory */
static nd_status cka_linear_impl(const double *X, const double *Y, int n, int p, int q, int debiased, double *cka,
                                 nd_error *err) {
    const char *what = debiased ? "debiased cka" : "cka";
    nd_status st = check_pair(what, X, Y, n, p, q, debiased ? 4 : 2, err);
    if (st) return st;
    double *Xc = NULL, *Yc = NULL, *A = NULL, *B = NULL, *C = NULL, *kx = NULL, *ky = NULL, *rK = NULL, *rL = NULL,
           *sx = NULL, *sy = NULL;
    if ((st = ND_ALLOC(Xc, (size_t)n * p, "cka: centred X", err)) || (st = ND_ALLOC(Yc, (size_t)n * q, "cka: centred Y", err)))
        goto done;
    nd_center_columns(X, n, p, Xc, NULL);
    nd_center_columns(Y, n, q, Yc, NULL);
    double feat = (double)p * q + (double)p * p + (double)q * q, gram = 2.0 * n * n;
    if (gram < feat) {
        if ((st = ND_ALLOC(A, (size_t)n * n, "cka: Gram matrix", err)) || (st = ND_ALLOC(B, (size_t)n * n, "cka: Gram matrix", err)))
            goto done;
        nd_gram_rows(Xc, n, p, A);
        nd_gram_rows(Yc, n, q, B);
        st = cka_gram_inplace(A, B, n, debiased, cka, err);
        goto done;
    }
    if ((st = ND_ALLOC(A, (size_t)p * q, "cka: X^T Y", err)) || (st = ND_ALLOC(B, (size_t)p * p, "cka: X^T X", err)) ||
        (st = ND_ALLOC(C, (size_t)q * q, "cka: Y^T Y", err)))
        goto done;
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, p, q, n, 1.0, Xc, p, Yc, q, 0.0, A, q);
    nd_gram_cols(Xc, n, p, 1.0, B);
    nd_gram_cols(Yc, n, q, 1.0, C);
    double xy = 0, xx = frob2_sym(B, p), yy = frob2_sym(C, q);
    for (size_t i = 0; i < (size_t)p * q; i++) xy += A[i] * A[i];
    if (!debiased) {
        if (!(xx > 0) || !(yy > 0)) { st = nd_fail(err, ND_ERR_NUMERIC, "cka: a representation is constant (zero variance)"); goto done; }
        *cka = xy / sqrt(xx * yy);
        goto done;
    }
    /* K = Xc Xc^T: diagonal kx_i = |xc_i|^2, row sums of K~: xc_i . s_x - kx_i */
    if ((st = ND_ALLOC(kx, n, "cka: norms", err)) || (st = ND_ALLOC(ky, n, "cka: norms", err)) || (st = ND_ALLOC(rK, n, "cka: sums", err)) ||
        (st = ND_ALLOC(rL, n, "cka: sums", err)) || (st = ND_ALLOC(sx, p, "cka: sums", err)) || (st = ND_ALLOC(sy, q, "cka: sums", err)))
        goto done;
    for (int i = 0; i < n; i++) {
        const double *xi = Xc + (size_t)i * p, *yi = Yc + (size_t)i * q;
        double a = 0, b = 0;
        for (int j = 0; j < p; j++) { a += xi[j] * xi[j]; sx[j] += xi[j]; }
        for (int j = 0; j < q; j++) { b += yi[j] * yi[j]; sy[j] += yi[j]; }
        kx[i] = a; ky[i] = b;
    }
    cblas_dgemv(CblasRowMajor, CblasNoTrans, n, p, 1.0, Xc, p, sx, 1, 0.0, rK, 1);
    cblas_dgemv(CblasRowMajor, CblasNoTrans, n, q, 1.0, Yc, q, sy, 1, 0.0, rL, 1);
    double dkl = 0, dkk = 0, dll = 0;
    for (int i = 0; i < n; i++) {
        rK[i] -= kx[i]; rL[i] -= ky[i];
        dkl += kx[i] * ky[i]; dkk += kx[i] * kx[i]; dll += ky[i] * ky[i];
    }
    double hkl = hsic_u_parts(xy - dkl, rK, rL, n), hkk = hsic_u_parts(xx - dkk, rK, rK, n), hll = hsic_u_parts(yy - dll, rL, rL, n);
    if (!(hkk > 0) || !(hll > 0)) {
        st = nd_fail(err, ND_ERR_NUMERIC, "debiased cka: a representation has non-positive unbiased HSIC with itself (%g, %g): "
                                          "degenerate data", hkk, hll);
        goto done;
    }
    *cka = hkl / sqrt(hkk * hll);
done:
    FREE_ALL(Xc, Yc, A, B, C, kx, ky, rK, rL, sx, sy);
    return st;
}

nd_status nd_cka_linear(const double *X, const double *Y, int n, int p, int q, double *cka, nd_error *err) {
    return cka_linear_impl(X, Y, n, p, q, 0, cka, err);
}
nd_status nd_cka_linear_debiased(const double *X, const double *Y, int n, int p, int q, double *cka, nd_error *err) {
    return cka_linear_impl(X, Y, n, p, q, 1, cka, err);
}

/* --- RBF kernels --- */
static void swapd(double *a, double *b) { double t = *a; *a = *b; *b = t; }

/* k-th smallest of a[0..m-1] (a is reordered: a[k] is the value, a[<k] <= a[k] <= a[>k]) */
static double nth_element(double *a, size_t m, size_t k) {
    size_t lo = 0, hi = m - 1;
    while (hi > lo) {
        size_t mid = lo + (hi - lo) / 2;
        if (a[mid] < a[lo]) swapd(&a[mid], &a[lo]);
        if (a[hi] < a[lo]) swapd(&a[hi], &a[lo]);
        if (a[hi] < a[mid]) swapd(&a[hi], &a[mid]);
        double piv = a[mid];
        size_t i = lo, j = hi;
        while (i <= j) {
            while (a[i] < piv) i++;
            while (a[j] > piv) j--;
            if (i <= j) {
                swapd(&a[i], &a[j]);
                i++;
                if (j == 0) break;
                j--;
            }
        }
        if (k <= j) hi = j;
        else if (k >= i) lo = i;
        else return a[k];
    }
    return a[k];
}

/* squared distances of the rows of centred Xc into D [n x n] (diagonal exactly 0) */
static void sq_dists(const double *Xc, int n, int p, double *D) {
    size_t N = (size_t)n;
    nd_gram_rows(Xc, n, p, D);
    double *dg = nd_alloc(sizeof(double) * N);
    if (!dg) { /* extremely unlikely; do it without the copy */
        for (size_t i = 0; i < N; i++)
            for (size_t j = 0; j < N; j++)
                if (i != j) D[i * N + j] = D[i * N + i] + D[j * N + j] - 2 * D[i * N + j];
        /* diagonal last */
        for (size_t i = 0; i < N; i++) D[i * N + i] = 0;
        return;
    }
    for (size_t i = 0; i < N; i++) dg[i] = D[i * N + i];
#pragma omp parallel for schedule(static)
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) {
            double d = dg[i] + dg[j] - 2 * D[(size_t)i * N + j];
            D[(size_t)i * N + j] = (i == j || d < 0) ? 0 : d;
        }
    nd_free(dg);
}

/* RBF kernel of the rows of X into K [n x n] (K doubles as workspace) */
static nd_status rbf_kernel(const double *X, int n, int p, double threshold, const char *side, double *K, nd_error *err) {
    double *Xc = NULL;
    nd_status st = ND_ALLOC(Xc, (size_t)n * p, "cka-rbf: centred data", err);
    if (st) return st;
    nd_center_columns(X, n, p, Xc, NULL);
    size_t N = (size_t)n, m = N * (N - 1) / 2;
    /* median of all n^2 squared distances: n zeros (diagonal) + every upper value twice.
     * Pack the strict upper triangle to the front of K (in place, forward) and select. */
    sq_dists(Xc, n, p, K);
    size_t w = 0;
    for (size_t i = 0; i < N; i++)
        for (size_t j = i + 1; j < N; j++) K[w++] = K[i * N + j];
    size_t tot = N * N, t1 = tot % 2 ? tot / 2 : tot / 2 - 1, t2 = tot / 2;
    double v1, v2;
    if (t1 < N) v1 = 0;
    else v1 = nth_element(K, m, (t1 - N) / 2);
    if (t2 < N) v2 = 0;
    else {
        size_t j2 = (t2 - N) / 2;
        if (t1 >= N && j2 == (t1 - N) / 2) v2 = v1;
        else if (t1 >= N && j2 == (t1 - N) / 2 + 1) {
            size_t j1 = (t1 - N) / 2;
            v2 = K[j1 + 1];
            for (size_t i = j1 + 2; i < m; i++)
                if (K[i] < v2) v2 = K[i];
        } else v2 = nth_element(K, m, j2);
    }
    double med = 0.5 * (v1 + v2);
    if (!(med > 0)) {
        nd_free(Xc);
        return nd_fail(err, ND_ERR_NUMERIC, "cka-rbf: the median squared distance of the %s representation is 0 "
                                            "(more than half of the samples coincide)", side);
    }
    double sig2 = threshold * threshold * med;
    sq_dists(Xc, n, p, K);
    nd_free(Xc);
#pragma omp parallel for schedule(static)
    for (int i = 0; i < n; i++)
        for (size_t j = 0; j < N; j++) K[(size_t)i * N + j] = exp(-K[(size_t)i * N + j] / (2 * sig2));
    return ND_OK;
}

nd_status nd_cka_rbf(const double *X, const double *Y, int n, int p, int q, double threshold, int debiased, double *cka,
                     nd_error *err) {
    nd_status st = check_pair("cka-rbf", X, Y, n, p, q, debiased ? 4 : 2, err);
    if (st) return st;
    if (!(threshold > 0) || !isfinite(threshold)) return nd_fail(err, ND_ERR_ARG, "cka-rbf: threshold must be > 0 (got %g)", threshold);
    double *K = NULL, *L = NULL;
    size_t nn = (size_t)n * n;
    K = nd_alloc(sizeof(double) * nn);
    L = K ? nd_alloc(sizeof(double) * nn) : NULL;
    if (!K || !L) {
        nd_free(K);
        return nd_fail(err, ND_ERR_NOMEM, "cka-rbf: cannot allocate two %d x %d kernel matrices (%.2f GB); subsample the samples",
                       n, n, 2.0 * nn * sizeof(double) / 1e9);
    }
    if (!(st = rbf_kernel(X, n, p, threshold, "first", K, err)) && !(st = rbf_kernel(Y, n, q, threshold, "second", L, err)))
        st = cka_gram_inplace(K, L, n, debiased, cka, err);
    nd_free(K); nd_free(L);
    return st;
}

/* ======================= shape metric ======================= */
/* Xw = (Xc/||Xc||) ((1-alpha) C + alpha I)^-1/2 into W [n x p]; returns ||W||_F^2 in *nrm2 */
static nd_status partial_whiten(const double *X, int n, int p, double alpha, const char *side, double *W, double *nrm2,
                                nd_error *err) {
    double *Xn = NULL, *C = NULL, *Z = NULL;
    nd_status st;
    if ((st = ND_ALLOC(Xn, (size_t)n * p, "shape: normalised data", err))) return st;
    nd_center_columns(X, n, p, Xn, NULL);
    double f = 0;
    for (size_t i = 0; i < (size_t)n * p; i++) f += Xn[i] * Xn[i];
    if (!(f > 0)) { nd_free(Xn); return nd_fail(err, ND_ERR_NUMERIC, "procrustes: the %s representation is constant", side); }
    f = 1 / sqrt(f);
    for (size_t i = 0; i < (size_t)n * p; i++) Xn[i] *= f;
    if (alpha >= 1) {
        memcpy(W, Xn, sizeof(double) * n * p);
    } else {
        if ((st = ND_ALLOC(C, (size_t)p * p, "shape: covariance", err)) || (st = ND_ALLOC(Z, (size_t)p * p, "shape: whitener", err)))
            goto done;
        nd_gram_cols(Xn, n, p, 1 - alpha, C);
        if ((st = nd_sym_pow(C, p, alpha, 1e-10, -0.5, Z, err))) goto done;
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, p, p, 1.0, Xn, p, Z, p, 0.0, W, p);
    }
    double s = 0;
    for (size_t i = 0; i < (size_t)n * p; i++) s += W[i] * W[i];
    *nrm2 = s;
done:
    FREE_ALL(Xn, C, Z);
    return st;
}

nd_status nd_shape_distance(const double *X, const double *Y, int n, int p, int q, double alpha, double *dist,
                            nd_error *err) {
    nd_status st = check_pair("procrustes", X, Y, n, p, q, 2, err);
    if (st) return st;
    if (!(alpha >= 0 && alpha <= 1)) return nd_fail(err, ND_ERR_ARG, "procrustes: alpha must be in [0, 1] (got %g)", alpha);
    int k = p < q ? p : q;
    double *Xw = NULL, *Yw = NULL, *M = NULL, *s = NULL, nx = 0, ny = 0;
    if ((st = ND_ALLOC(Xw, (size_t)n * p, "shape: whitened X", err)) || (st = ND_ALLOC(Yw, (size_t)n * q, "shape: whitened Y", err)) ||
        (st = ND_ALLOC(M, (size_t)p * q, "shape: cross product", err)) || (st = ND_ALLOC(s, k, "shape: singular values", err)))
        goto done;
    if ((st = partial_whiten(X, n, p, alpha, "first", Xw, &nx, err)) || (st = partial_whiten(Y, n, q, alpha, "second", Yw, &ny, err)))
        goto done;
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, p, q, n, 1.0, Xw, p, Yw, q, 0.0, M, q);
    lapack_int info = LAPACKE_dgesdd(LAPACK_ROW_MAJOR, 'N', p, q, M, q, s, NULL, p, NULL, q);
    if (info != 0) {
        st = nd_fail(err, info < 0 ? ND_ERR_INTERNAL : ND_ERR_NUMERIC, "procrustes: SVD did not converge (info %d)", (int)info);
        goto done;
    }
    double nuc = 0;
    for (int i = 0; i < k; i++) nuc += s[i];
    double c = nuc / sqrt(nx * ny);
    if (c > 1) c = 1;
    if (c < 0) c = 0;
    *dist = acos(c);
done:
    FREE_ALL(Xw, Yw, M, s);
    return st;
}
