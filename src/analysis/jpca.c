/* jPCA: see jpca.h for the method, the conventions and the outputs. */
#include "jpca.h"
#include "../core/mem.h"
#include <cblas.h>
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

void nd_jpca_opts_default(nd_jpca_opts *o) {
    o->k = 6;
    o->normalize = 1;
    o->soft_norm = 10;
    o->subtract_mean = 1;
    o->t_start = 0;
    o->t_end = 0;
}

void nd_jpca_result_free(nd_jpca_result *r) {
    if (!r) return;
    double **a[] = {&r->pcs, &r->pc_var_frac, &r->M_skew, &r->M_best, &r->eig_re, &r->eig_im, &r->omega,
                    &r->plane_basis, &r->jpcs, &r->proj, &r->plane_var_frac, &r->r2_skew_plane,
                    &r->r2_best_plane, &r->norm_scale};
    for (size_t i = 0; i < sizeof a / sizeof a[0]; i++) { nd_free(*a[i]); *a[i] = NULL; }
}

nd_status nd_jpca_fit_best(const double *X, const double *dX, int n, int k, double *M, nd_error *err) {
    if (n < k || k < 1) return nd_fail(err, ND_ERR_ARG, "jPCA: M_best needs at least k = %d samples (got %d)", k, n);
    double *A = nd_alloc(sizeof(double) * (size_t)n * k), *B = nd_alloc(sizeof(double) * (size_t)n * k);
    double *s = nd_alloc(sizeof(double) * (size_t)k);
    nd_status st = ND_OK;
    if (!A || !B || !s) { st = nd_fail(err, ND_ERR_NOMEM, "jPCA: out of memory"); goto done; }
    memcpy(A, X, sizeof(double) * (size_t)n * k);
    memcpy(B, dX, sizeof(double) * (size_t)n * k);
    lapack_int rank = 0;
    lapack_int info = LAPACKE_dgelsd(LAPACK_ROW_MAJOR, n, k, k, A, k, B, k, s, -1.0, &rank);
    if (info != 0) { st = nd_fail(err, ND_ERR_NUMERIC, "jPCA: least squares (dgelsd) failed (info %d)", (int)info); goto done; }
    memcpy(M, B, sizeof(double) * (size_t)k * k);
done:
    nd_free(A); nd_free(B); nd_free(s);
    return st;
}

nd_status nd_jpca_fit_skew(const double *X, const double *dX, int n, int k, double *M, nd_error *err) {
    if (k < 1 || n < 1) return nd_fail(err, ND_ERR_ARG, "jPCA: M_skew needs k >= 1 and samples (got k %d, n %d)", k, n);
    size_t kk = (size_t)k * k;
    double *S = nd_alloc(sizeof(double) * kk), *Cm = nd_alloc(sizeof(double) * kk);
    double *D = nd_alloc(sizeof(double) * kk), *T1 = nd_alloc(sizeof(double) * kk), *l = nd_alloc(sizeof(double) * k);
    nd_status st = ND_OK;
    if (!S || !Cm || !D || !T1 || !l) { st = nd_fail(err, ND_ERR_NOMEM, "jPCA: out of memory"); goto done; }
    /* S = X^T X, C = X^T dX */
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, k, k, n, 1.0, X, k, X, k, 0.0, S, k);
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, k, k, n, 1.0, X, k, dX, k, 0.0, Cm, k);
    for (int i = 0; i < k; i++)
        for (int j = 0; j < i; j++) S[(size_t)i * k + j] = S[(size_t)j * k + i] = 0.5 * (S[(size_t)i * k + j] + S[(size_t)j * k + i]);
    /* S = U diag(l) U^T (eigenvectors in the columns of S after dsyevd) */
    lapack_int info = LAPACKE_dsyevd(LAPACK_ROW_MAJOR, 'V', 'U', k, S, k, l);
    if (info != 0) { st = nd_fail(err, ND_ERR_NUMERIC, "jPCA: eigendecomposition of X^T X (dsyevd) failed (info %d)", (int)info); goto done; }
    /* Row convention dX = X M: the normal equations of the skew-constrained problem are
     * S M + M S = C - C^T (minimising over the k(k-1)/2 free entries of M = -M^T). */
    for (int i = 0; i < k; i++)
        for (int j = 0; j < k; j++) D[(size_t)i * k + j] = Cm[(size_t)i * k + j] - Cm[(size_t)j * k + i];
    /* T1 = U^T D U */
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, k, k, k, 1.0, S, k, D, k, 0.0, Cm, k);
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, k, k, k, 1.0, Cm, k, S, k, 0.0, T1, k);
    double lmax = 0;
    for (int i = 0; i < k; i++) if (l[i] > lmax) lmax = l[i];
    double floor = lmax * 1e-13 * k;
    for (int i = 0; i < k; i++)
        for (int j = 0; j < k; j++) {
            double den = l[i] + l[j];
            T1[(size_t)i * k + j] = den > floor && den > 0 ? T1[(size_t)i * k + j] / den : 0;
        }
    /* M = U T1 U^T, then symmetrise the rounding away: M = (M - M^T) / 2 */
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, k, k, k, 1.0, S, k, T1, k, 0.0, Cm, k);
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, k, k, k, 1.0, Cm, k, S, k, 0.0, D, k);
    for (int i = 0; i < k; i++)
        for (int j = 0; j < k; j++) M[(size_t)i * k + j] = 0.5 * (D[(size_t)i * k + j] - D[(size_t)j * k + i]);
done:
    nd_free(S); nd_free(Cm); nd_free(D); nd_free(T1); nd_free(l);
    return st;
}

double nd_jpca_r2(const double *X, const double *dX, int n, int k, const double *M, const double *B, int q) {
    if (!B) q = k;
    double *pred = malloc(sizeof(double) * (size_t)k), *e = malloc(sizeof(double) * (size_t)k);
    if (!pred || !e) { free(pred); free(e); return NAN; }
    double sse = 0, sst = 0;
    for (int i = 0; i < n; i++) {
        const double *x = X + (size_t)i * k, *d = dX + (size_t)i * k;
        for (int j = 0; j < k; j++) {
            double s = 0;
            for (int m = 0; m < k; m++) s += x[m] * M[(size_t)m * k + j];
            pred[j] = s;
            e[j] = d[j] - s;
        }
        for (int c = 0; c < q; c++) {
            double pe, pd;
            if (B) {
                pe = pd = 0;
                for (int j = 0; j < k; j++) { pe += e[j] * B[(size_t)j * q + c]; pd += d[j] * B[(size_t)j * q + c]; }
            } else { pe = e[c]; pd = d[c]; }
            sse += pe * pe;
            sst += pd * pd;
        }
    }
    free(pred); free(e);
    return sst > 0 ? 1 - sse / sst : NAN;
}

/* v -= sum_j (v . b_j) b_j over the nb columns b_j of basis [k x k]; returns ||v|| after */
static double orth_against(double *v, const double *basis, int k, int nb) {
    for (int pass = 0; pass < 2; pass++)
        for (int j = 0; j < nb; j++) {
            double d = 0;
            for (int i = 0; i < k; i++) d += v[i] * basis[(size_t)i * k + j];
            for (int i = 0; i < k; i++) v[i] -= d * basis[(size_t)i * k + j];
        }
    double s = 0;
    for (int i = 0; i < k; i++) s += v[i] * v[i];
    return sqrt(s);
}

/* append v (normalised) as column nb of basis if it is independent of columns 0..nb-1 */
static int try_append(double *basis, int k, int nb, const double *v0, double *tmp) {
    double n0 = 0;
    for (int i = 0; i < k; i++) { tmp[i] = v0[i]; n0 += v0[i] * v0[i]; }
    n0 = sqrt(n0);
    if (!(n0 > 0)) return 0;
    double n1 = orth_against(tmp, basis, k, nb);
    if (!(n1 > 1e-8 * n0)) return 0;
    for (int i = 0; i < k; i++) basis[(size_t)i * k + nb] = tmp[i] / n1;
    return 1;
}

/* the arguments of nd_jpca, checked; one line naming the problem */
static nd_status jpca_check(const double *data, int C, int T, int N, const nd_jpca_opts *o, int t0, int t1,
                            nd_error *err) {
    int k = o->k;
    if (k < 2 || k % 2) return nd_fail(err, ND_ERR_ARG, "jPCA: dims must be even and >= 2 (got %d)", k);
    if (C < (o->subtract_mean ? 2 : 1))
        return nd_fail(err, ND_ERR_ARG, "jPCA: needs at least %d conditions (got %d)", o->subtract_mean ? 2 : 1, C);
    if (T < 2 || N < 1) return nd_fail(err, ND_ERR_ARG, "jPCA: needs >= 2 bins and >= 1 unit (got %d bins, %d units)", T, N);
    if (t0 < 0 || t1 > T || t1 - t0 < 2)
        return nd_fail(err, ND_ERR_ARG, "jPCA: time window [%d, %d) must lie in [0, %d) and hold >= 2 bins", t0, t1, T);
    if (k > N) return nd_fail(err, ND_ERR_ARG, "jPCA: dims %d exceed the %d units", k, N);
    int n = C * (t1 - t0 - 1);
    if (n < k)
        return nd_fail(err, ND_ERR_ARG, "jPCA: %d conditions x %d transitions = %d samples, fewer than dims %d", C,
                       t1 - t0 - 1, n, k);
    if (o->normalize && !(o->soft_norm >= 0)) return nd_fail(err, ND_ERR_ARG, "jPCA: soft_norm must be >= 0 (got %g)", o->soft_norm);
    size_t total = (size_t)C * T * N;
    for (size_t i = 0; i < total; i++)
        if (!isfinite(data[i]))
            return nd_fail(err, ND_ERR_NUMERIC, "jPCA: data contain NaN/Inf (condition %zu, bin %zu, unit %zu)",
                           i / ((size_t)T * N), (i / N) % T, i % N);
    return ND_OK;
}

/* steps 1-2 on A [C][T][N] in place: soft normalisation (each unit's scale into norm_scale) and the
 * cross-condition mean at every bin subtracted */
static void jpca_prepare(double *A, int C, int T, int N, const nd_jpca_opts *o, double *norm_scale) {
    size_t total = (size_t)C * T * N;
    for (int u = 0; u < N; u++) {
        double lo = INFINITY, hi = -INFINITY;
        for (size_t i = u; i < total; i += N) { if (A[i] < lo) lo = A[i]; if (A[i] > hi) hi = A[i]; }
        double den = hi - lo + o->soft_norm;
        norm_scale[u] = o->normalize && den > 0 ? 1 / den : 1;
        for (size_t i = u; i < total; i += N) A[i] *= norm_scale[u];
    }
    if (o->subtract_mean)
        for (int t = 0; t < T; t++)
            for (int u = 0; u < N; u++) {
                double m = 0;
                for (int c = 0; c < C; c++) m += A[((size_t)c * T + t) * N + u];
                m /= C;
                for (int c = 0; c < C; c++) A[((size_t)c * T + t) * N + u] -= m;
            }
}

/* scratch of the window PCA */
typedef struct { double *W, *s, *U, *VT, *wmean; } jpca_pca_work;

/* step 3: PCA of the window samples [t0, t1) of A (centred on the window mean: zero after step 2): the top k
 * components into r->pcs (largest-magnitude loading positive) and their variance fractions; P = all bins of
 * A projected (A is centred on the window mean in place); *ss the window's total variance */
static nd_status jpca_pca(double *A, int C, int T, int N, int t0, int t1, int k, const jpca_pca_work *w,
                          nd_jpca_result *r, double *P, double *ss_out, nd_error *err) {
    int Tw = t1 - t0, nw = C * Tw, mn = nw < N ? nw : N;
    double *W = w->W, *s = w->s, *VT = w->VT, *wmean = w->wmean;
    for (int c = 0; c < C; c++)
        memcpy(W + (size_t)c * Tw * N, A + ((size_t)c * T + t0) * N, sizeof(double) * (size_t)Tw * N);
    for (int u = 0; u < N; u++) {
        double m = 0;
        for (int i = 0; i < nw; i++) m += W[(size_t)i * N + u];
        wmean[u] = m / nw;
        for (int i = 0; i < nw; i++) W[(size_t)i * N + u] -= wmean[u];
    }
    lapack_int info = LAPACKE_dgesdd(LAPACK_ROW_MAJOR, 'S', nw, N, W, N, s, w->U, mn, VT, N);
    if (info != 0) return nd_fail(err, ND_ERR_NUMERIC, "jPCA: SVD (dgesdd) failed (info %d)", (int)info);
    double ss = 0;
    for (int j = 0; j < mn; j++) ss += s[j] * s[j];
    if (!(ss > 0)) return nd_fail(err, ND_ERR_NUMERIC, "jPCA: the (normalised, mean-subtracted) data have zero variance in the window");
    r->pca_var_frac = 0;
    for (int j = 0; j < k; j++) {
        double sj = j < mn ? s[j] : 0;
        r->pc_var_frac[j] = sj * sj / ss;
        r->pca_var_frac += r->pc_var_frac[j];
        int am = 0;
        for (int u = 0; u < N; u++) if (fabs(VT[(size_t)j * N + u]) > fabs(VT[(size_t)j * N + am])) am = u;
        double sg = j < mn && VT[(size_t)j * N + am] < 0 ? -1 : 1;
        for (int u = 0; u < N; u++) r->pcs[(size_t)u * k + j] = j < mn ? sg * VT[(size_t)j * N + u] : 0;
    }
    for (size_t i = 0; i < (size_t)C * T; i++)
        for (int u = 0; u < N; u++) A[i * N + u] -= wmean[u];
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, C * T, k, N, 1.0, A, N, r->pcs, k, 0.0, P, k);
    *ss_out = ss;
    return ND_OK;
}

/* step 4: the states X and their one-bin differences dX over the window, condition by condition */
static void jpca_states(const double *P, int C, int T, int t0, int t1, int k, double *X, double *dX) {
    for (int c = 0, row = 0; c < C; c++)
        for (int t = t0; t < t1 - 1; t++, row++)
            for (int j = 0; j < k; j++) {
                double a = P[((size_t)c * T + t) * k + j], b = P[((size_t)c * T + t + 1) * k + j];
                X[(size_t)row * k + j] = a;
                dX[(size_t)row * k + j] = b - a;
            }
}

/* the eigenvalue order: by |Im| descending, the member with Im > 0 of each pair first (dgeev: column j = Re,
 * column j+1 = Im of the eigenvector of the eigenvalue with Im > 0, at index j) */
static void order_by_rotation(const double *wi, int k, int *idx) {
    for (int i = 0; i < k; i++) idx[i] = i;
    for (int i = 1; i < k; i++) {
        int v = idx[i], j = i - 1;
        while (j >= 0 && (fabs(wi[idx[j]]) < fabs(wi[v]) || (fabs(wi[idx[j]]) == fabs(wi[v]) && wi[idx[j]] < wi[v]))) {
            idx[j + 1] = idx[j];
            j--;
        }
        idx[j + 1] = v;
    }
}

/* an orthonormal basis B [k x k] of rotation planes from the eigenvectors VR of M_skew, in idx's order; returns
 * the columns built (k on success). Bp [2k] and tmp [k] are scratch. */
static int plane_basis(double *B, int k, const double *VR, const double *wi, const int *idx, double *Bp, double *tmp) {
    int nb = 0;
    memset(B, 0, sizeof(double) * (size_t)k * k);
    for (int i = 0; i < k && nb + 2 <= k; i++) {
        int j = idx[i];
        if (!(wi[j] > 0)) continue;
        double *re = Bp, *im = Bp + k;
        for (int m = 0; m < k; m++) { re[m] = VR[(size_t)m * k + j]; im[m] = VR[(size_t)m * k + j + 1]; }
        int save = nb;
        nb += try_append(B, k, nb, re, tmp);
        nb += try_append(B, k, nb, im, tmp);
        if (nb - save == 1) { /* only half a plane: drop it, the fill below completes the basis */
            for (int m = 0; m < k; m++) B[(size_t)m * k + save] = 0;
            nb = save;
        }
    }
    /* degenerate cases (zero eigenvalues / repeated pairs): complete with real eigenvectors,
     * then with the coordinate axes, two at a time */
    for (int i = 0; i < k && nb < k; i++) {
        int j = idx[i];
        if (wi[j] != 0) continue;
        for (int m = 0; m < k; m++) Bp[m] = VR[(size_t)m * k + j];
        nb += try_append(B, k, nb, Bp, tmp);
    }
    for (int i = 0; i < k && nb < k; i++) {
        for (int m = 0; m < k; m++) Bp[m] = m == i;
        nb += try_append(B, k, nb, Bp, tmp);
    }
    return nb;
}

/* b1^T M b2 for columns c1, c2 of B [k x k] */
static double plane_rotation(const double *B, const double *M, int k, int c1, int c2) {
    double m = 0;
    for (int a = 0; a < k; a++)
        for (int b = 0; b < k; b++) m += B[(size_t)a * k + c1] * M[(size_t)a * k + b] * B[(size_t)b * k + c2];
    return m;
}

/* plane p of B (columns 2p, 2p+1) oriented counter-clockwise from axis 1 to axis 2 (b1^T M_skew b2 > 0), then
 * rotated within the plane so that axis 1 lies along the largest spread of the states at t_start (P [C][T][k]),
 * its largest-magnitude entry positive; returns the plane's rotation speed b1^T M_skew b2 */
static double orient_plane(double *B, const double *M, const double *P, int C, int T, int t0, int k, int p,
                           double *b1) {
    int c1 = 2 * p, c2 = 2 * p + 1;
    if (plane_rotation(B, M, k, c1, c2) < 0) for (int a = 0; a < k; a++) B[(size_t)a * k + c2] = -B[(size_t)a * k + c2];
    double spp = 0, sqq = 0, spq = 0, mp = 0, mq = 0;
    for (int c = 0; c < C; c++) {
        double pp = 0, qq = 0;
        for (int a = 0; a < k; a++) {
            double x = P[((size_t)c * T + t0) * k + a];
            pp += x * B[(size_t)a * k + c1];
            qq += x * B[(size_t)a * k + c2];
        }
        mp += pp; mq += qq; spp += pp * pp; sqq += qq * qq; spq += pp * qq;
    }
    mp /= C; mq /= C;
    spp -= C * mp * mp; sqq -= C * mq * mq; spq -= C * mp * mq;
    double th = 0.5 * atan2(2 * spq, spp - sqq), cs = cos(th), sn = sin(th);
    for (int a = 0; a < k; a++) {
        double x1 = B[(size_t)a * k + c1], x2 = B[(size_t)a * k + c2];
        b1[a] = cs * x1 + sn * x2;
        B[(size_t)a * k + c2] = -sn * x1 + cs * x2;
        B[(size_t)a * k + c1] = b1[a];
    }
    int am = 0;
    for (int a = 0; a < k; a++) if (fabs(B[(size_t)a * k + c1]) > fabs(B[(size_t)am * k + c1])) am = a;
    if (B[(size_t)am * k + c1] < 0)
        for (int a = 0; a < k; a++) { B[(size_t)a * k + c1] = -B[(size_t)a * k + c1]; B[(size_t)a * k + c2] = -B[(size_t)a * k + c2]; }
    return plane_rotation(B, M, k, c1, c2);
}

nd_status nd_jpca(const double *data, int C, int T, int N, const nd_jpca_opts *opt, nd_jpca_result *r, nd_error *err) {
    memset(r, 0, sizeof *r);
    nd_jpca_opts o;
    if (opt) o = *opt; else nd_jpca_opts_default(&o);
    int k = o.k, t0 = o.t_start, t1 = o.t_end > 0 ? o.t_end : T;
    nd_status st = jpca_check(data, C, T, N, &o, t0, t1, err);
    if (st) return st;
    int Tw = t1 - t0, nw = C * Tw, n = C * (Tw - 1);
    size_t total = (size_t)C * T * N;
    r->C = C; r->T = T; r->N = N; r->k = k; r->nplanes = k / 2; r->t_start = t0; r->t_end = t1;
    int np = k / 2, mn = nw < N ? nw : N;
    size_t kk = (size_t)k * k;
    double *A = NULL, *P = NULL, *X = NULL, *dX = NULL;
    double *wr = NULL, *wi = NULL, *VR = NULL, *tmp = NULL, *Mc = NULL, *Bp = NULL;
    jpca_pca_work pw = {0};
    int *idx = NULL;
#define AL(p, cnt, what) if (!st) st = ND_ALLOC(p, (cnt), what, err)
    AL(A, total, "jPCA data"); AL(pw.W, (size_t)nw * N, "jPCA window"); AL(pw.s, (size_t)mn, "jPCA");
    AL(pw.U, (size_t)nw * mn, "jPCA"); AL(pw.VT, (size_t)mn * N, "jPCA"); AL(P, (size_t)C * T * k, "jPCA projections");
    AL(X, (size_t)n * k, "jPCA states"); AL(dX, (size_t)n * k, "jPCA"); AL(pw.wmean, (size_t)N, "jPCA");
    AL(wr, (size_t)k, "jPCA"); AL(wi, (size_t)k, "jPCA"); AL(VR, kk, "jPCA"); AL(tmp, (size_t)k, "jPCA");
    AL(Mc, kk, "jPCA"); AL(Bp, (size_t)k * 2, "jPCA"); AL(idx, (size_t)k, "jPCA");
    AL(r->pcs, (size_t)N * k, "jPCA"); AL(r->pc_var_frac, (size_t)k, "jPCA"); AL(r->M_skew, kk, "jPCA");
    AL(r->M_best, kk, "jPCA"); AL(r->eig_re, (size_t)k, "jPCA"); AL(r->eig_im, (size_t)k, "jPCA");
    AL(r->omega, (size_t)np, "jPCA"); AL(r->plane_basis, kk, "jPCA"); AL(r->jpcs, (size_t)N * k, "jPCA");
    AL(r->proj, (size_t)C * T * k, "jPCA"); AL(r->plane_var_frac, (size_t)np, "jPCA");
    AL(r->r2_skew_plane, (size_t)np, "jPCA"); AL(r->r2_best_plane, (size_t)np, "jPCA");
    AL(r->norm_scale, (size_t)N, "jPCA");
#undef AL
    if (st) goto done;
    memcpy(A, data, sizeof(double) * total);
    jpca_prepare(A, C, T, N, &o, r->norm_scale);                              /* 1-2 */
    double ss = 0;
    if ((st = jpca_pca(A, C, T, N, t0, t1, k, &pw, r, P, &ss, err))) goto done; /* 3 */
    jpca_states(P, C, T, t0, t1, k, X, dX);                                    /* 4 */
    /* 5. fits */
    if ((st = nd_jpca_fit_best(X, dX, n, k, r->M_best, err))) goto done;
    if ((st = nd_jpca_fit_skew(X, dX, n, k, r->M_skew, err))) goto done;
    r->r2_best = nd_jpca_r2(X, dX, n, k, r->M_best, NULL, k);
    r->r2_skew = nd_jpca_r2(X, dX, n, k, r->M_skew, NULL, k);
    /* 6. eigenvalues and planes */
    memcpy(Mc, r->M_skew, sizeof(double) * kk);
    lapack_int info = LAPACKE_dgeev(LAPACK_ROW_MAJOR, 'N', 'V', k, Mc, k, wr, wi, NULL, 1, VR, k);
    if (info != 0) { st = nd_fail(err, ND_ERR_NUMERIC, "jPCA: eigendecomposition of M_skew (dgeev) failed (info %d)", (int)info); goto done; }
    order_by_rotation(wi, k, idx);
    for (int i = 0; i < k; i++) { r->eig_re[i] = wr[idx[i]]; r->eig_im[i] = wi[idx[i]]; }
    double *B = r->plane_basis;
    if (plane_basis(B, k, VR, wi, idx, Bp, tmp) != k) {
        st = nd_fail(err, ND_ERR_INTERNAL, "jPCA: could not build an orthonormal plane basis");
        goto done;
    }
    for (int p = 0; p < np; p++) {
        r->omega[p] = orient_plane(B, r->M_skew, P, C, T, t0, k, p, tmp);
        for (int a = 0; a < k; a++) { Bp[(size_t)a * 2] = B[(size_t)a * k + 2 * p]; Bp[(size_t)a * 2 + 1] = B[(size_t)a * k + 2 * p + 1]; }
        r->r2_skew_plane[p] = nd_jpca_r2(X, dX, n, k, r->M_skew, Bp, 2);
        r->r2_best_plane[p] = nd_jpca_r2(X, dX, n, k, r->M_best, Bp, 2);
    }
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, N, k, k, 1.0, r->pcs, k, B, k, 0.0, r->jpcs, k);
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, C * T, k, k, 1.0, P, k, B, k, 0.0, r->proj, k);
    for (int p = 0; p < np; p++) {
        double v = 0;
        for (int c = 0; c < C; c++)
            for (int t = t0; t < t1; t++)
                for (int a = 2 * p; a < 2 * p + 2; a++) {
                    double x = r->proj[((size_t)c * T + t) * k + a];
                    v += x * x;
                }
        r->plane_var_frac[p] = v / ss;
    }
done:
    nd_free(A); nd_free(pw.W); nd_free(pw.s); nd_free(pw.U); nd_free(pw.VT); nd_free(P); nd_free(X); nd_free(dX);
    nd_free(pw.wmean); nd_free(wr); nd_free(wi); nd_free(VR); nd_free(tmp); nd_free(Mc); nd_free(Bp); nd_free(idx);
    if (st) nd_jpca_result_free(r);
    return st;
}
