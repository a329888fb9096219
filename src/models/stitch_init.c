#include "stitch_init.h"
#include "../core/mem.h"
#include "../core/smooth.h"
#include <cblas.h>
#include <float.h>
#include <lapacke.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static int cmp_int(const void *a, const void *b) {
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

/* sorted unique non-negative ids of one session into ids (capacity n); returns their count */
static int session_conditions(const nd_stitch_session *s, int *ids) {
    int m = 0;
    for (int i = 0; i < s->n; i++)
        if (s->cond[i] >= 0) ids[m++] = s->cond[i];
    qsort(ids, (size_t)m, sizeof *ids, cmp_int);
    int u = 0;
    for (int i = 0; i < m; i++)
        if (u == 0 || ids[i] != ids[u - 1]) ids[u++] = ids[i];
    return u;
}

/* the condition ids present in every session, sorted; *shared has room for s[0].n ids */
static nd_status shared_conditions(const nd_stitch_session *s, int S, int *shared, int *C, nd_error *err) {
    int maxn = 0;
    for (int k = 0; k < S; k++)
        if (s[k].n > maxn) maxn = s[k].n;
    int *ids = NULL;
    nd_status st = ND_ALLOC(ids, maxn, "stitch init: condition ids", err);
    if (st) return st;
    int c = session_conditions(&s[0], shared);
    if (c == 0) {
        nd_free(ids);
        return nd_fail(err, ND_ERR_ARG, "stitch init: session 0: cond has no non-negative condition id");
    }
    for (int k = 1; k < S; k++) {
        int m = session_conditions(&s[k], ids), kept = 0, j = 0;
        for (int i = 0; i < c; i++) { /* intersect two sorted lists */
            while (j < m && ids[j] < shared[i]) j++;
            if (j < m && ids[j] == shared[i]) shared[kept++] = shared[i];
        }
        c = kept;
        if (c == 0) {
            nd_free(ids);
            return nd_fail(err, ND_ERR_ARG,
                           "stitch init: session %d: cond shares no condition id with all of sessions 0..%d "
                           "(PCR needs conditions present in every session)", k, k - 1);
        }
    }
    nd_free(ids);
    *C = c;
    return ND_OK;
}

static nd_status check_args(const nd_stitch_session *s, int S, int D, double kernel_bins, double alpha,
                            float *const *readin_W, float *const *readin_b, float *const *readout_W,
                            nd_error *err) {
    if (!s || S < 1) return nd_fail(err, ND_ERR_ARG, "stitch init: need at least 1 session (got %d)", S);
    if (D < 1) return nd_fail(err, ND_ERR_ARG, "stitch init: read-in dimension D = %d (need >= 1)", D);
    if (!(kernel_bins >= 0) || !isfinite(kernel_bins))
        return nd_fail(err, ND_ERR_ARG, "stitch init: kernel_bins = %g (need a finite value >= 0)", kernel_bins);
    if (!(alpha >= 0) || !isfinite(alpha))
        return nd_fail(err, ND_ERR_ARG, "stitch init: alpha = %g (need a finite value >= 0)", alpha);
    if (!readin_W) return nd_fail(err, ND_ERR_ARG, "stitch init: readin_W is NULL");
    long long ntot = 0;
    for (int k = 0; k < S; k++) {
        const nd_stitch_session *q = &s[k];
        if (q->n < 1 || q->T < 1 || q->N < 1)
            return nd_fail(err, ND_ERR_ARG, "stitch init: session %d: n = %d trials, T = %d bins, N = %d neurons "
                           "(need >= 1 each)", k, q->n, q->T, q->N);
        if (q->T != s[0].T)
            return nd_fail(err, ND_ERR_ARG, "stitch init: session %d: T = %d bins but session 0 has %d "
                           "(PSTHs are concatenated, so T must agree)", k, q->T, s[0].T);
        if (!q->counts || !q->cond)
            return nd_fail(err, ND_ERR_ARG, "stitch init: session %d: %s is NULL", k, q->counts ? "cond" : "counts");
        if (!readin_W[k] || (readin_b && !readin_b[k]) || (readout_W && !readout_W[k]))
            return nd_fail(err, ND_ERR_ARG, "stitch init: session %d: output %s is NULL", k,
                           !readin_W[k] ? "readin_W" : (readin_b && !readin_b[k]) ? "readin_b" : "readout_W");
        size_t cnt = (size_t)q->n * q->T * q->N;
        for (size_t i = 0; i < cnt; i++)
            if (!isfinite(q->counts[i]))
                return nd_fail(err, ND_ERR_ARG, "stitch init: session %d: counts[trial %zu][bin %zu][neuron %zu] "
                               "is not finite", k, i / ((size_t)q->T * q->N), i / q->N % q->T, i % q->N);
        ntot += q->N;
    }
    if (ntot > INT_MAX || (long long)s[0].T * s[0].n > INT_MAX)
        return nd_fail(err, ND_ERR_ARG, "stitch init: %lld neurons in all / %d bins: too large", ntot, s[0].T);
    return ND_OK;
}

/* Adds session q's condition-averaged smoothed counts into X [C*T][ld] at column offset col. */
static nd_status session_psth(const nd_stitch_session *q, const int *ids, int C, double kernel_bins, double *X,
                              int ld, int col, nd_error *err) {
    int T = q->T, N = q->N;
    double *in = NULL, *tmp = NULL;
    int *cnt = NULL;
    nd_status st;
    if ((st = ND_ALLOC(in, (size_t)T * N, "stitch init: trial", err)) ||
        (st = ND_ALLOC(tmp, (size_t)T * N, "stitch init: smoothed trial", err)) ||
        (st = ND_ALLOC(cnt, C, "stitch init: trials per condition", err)))
        goto done;
    for (int i = 0; i < q->n; i++) {
        const int *hit = q->cond[i] >= 0 ? bsearch(&q->cond[i], ids, (size_t)C, sizeof *ids, cmp_int) : NULL;
        if (!hit) continue;
        int c = (int)(hit - ids);
        cnt[c]++;
        const float *x = q->counts + (size_t)i * T * N;
        for (size_t k = 0; k < (size_t)T * N; k++) in[k] = x[k];
        nd_smooth_gaussian_d(tmp, in, 1, T, N, kernel_bins); /* kernel_bins 0: a copy */
        for (int t = 0; t < T; t++)
            for (int j = 0; j < N; j++) X[((size_t)c * T + t) * ld + col + j] += tmp[(size_t)t * N + j];
    }
    for (int c = 0; c < C; c++) /* cnt[c] >= 1: every shared condition occurs in this session */
        for (int t = 0; t < T; t++)
            for (int j = 0; j < N; j++) X[((size_t)c * T + t) * ld + col + j] /= cnt[c];
done:
    nd_free(in); nd_free(tmp); nd_free(cnt);
    return st;
}

/* Thin SVD of A [m][n] (overwritten): s [min], U [m][min], Vt [min][n]. */
static nd_status thin_svd(double *A, int m, int n, double *s, double *U, double *Vt, const char *what, nd_error *err) {
    int r = m < n ? m : n;
    lapack_int info = LAPACKE_dgesdd(LAPACK_ROW_MAJOR, 'S', m, n, A, n, s, U, r, Vt, n);
    if (info != 0)
        return nd_fail(err, info < 0 ? ND_ERR_INTERNAL : ND_ERR_NUMERIC,
                       "stitch init: SVD of the %s (dgesdd, %d x %d) did not converge (info %d)", what, m, n, (int)info);
    return ND_OK;
}

/* Ridge with intercept from Xs [M][Ns] to P [M][D]: W [Ns][D], c [D]. Through the SVD of the centred Xs,
 * W = V diag(s / (s^2 + alpha)) U' Pc, which for alpha = 0 is the minimum-norm least-squares solution
 * (singular values under the rank tolerance dropped). */
static nd_status ridge(const double *Xs, int M, int Ns, const double *P, int D, double alpha, double *W, double *c,
                       nd_error *err) {
    int r = M < Ns ? M : Ns;
    double *A = NULL, *xm = NULL, *pm = NULL, *Pc = NULL, *s = NULL, *U = NULL, *Vt = NULL, *G = NULL;
    nd_status st;
    if ((st = ND_ALLOC(A, (size_t)M * Ns, "stitch init: centred PSTH", err)) ||
        (st = ND_ALLOC(xm, Ns, "stitch init: PSTH mean", err)) || (st = ND_ALLOC(pm, D, "stitch init: score mean", err)) ||
        (st = ND_ALLOC(Pc, (size_t)M * D, "stitch init: centred scores", err)) ||
        (st = ND_ALLOC(s, r, "stitch init: singular values", err)) ||
        (st = ND_ALLOC(U, (size_t)M * r, "stitch init: left singular vectors", err)) ||
        (st = ND_ALLOC(Vt, (size_t)r * Ns, "stitch init: right singular vectors", err)) ||
        (st = ND_ALLOC(G, (size_t)r * D, "stitch init: projected scores", err)))
        goto done;
    for (int i = 0; i < M; i++) {
        for (int j = 0; j < Ns; j++) xm[j] += Xs[(size_t)i * Ns + j] / M;
        for (int d = 0; d < D; d++) pm[d] += P[(size_t)i * D + d] / M;
    }
    for (int i = 0; i < M; i++) {
        for (int j = 0; j < Ns; j++) A[(size_t)i * Ns + j] = Xs[(size_t)i * Ns + j] - xm[j];
        for (int d = 0; d < D; d++) Pc[(size_t)i * D + d] = P[(size_t)i * D + d] - pm[d];
    }
    if ((st = thin_svd(A, M, Ns, s, U, Vt, "centred session PSTH", err))) goto done;
    double tol = (M > Ns ? M : Ns) * DBL_EPSILON * s[0];
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, r, D, M, 1.0, U, r, Pc, D, 0.0, G, D); /* U' Pc */
    for (int i = 0; i < r; i++) {
        double f = (alpha > 0 ? s[i] > 0 : s[i] > tol) ? s[i] / (s[i] * s[i] + alpha) : 0;
        for (int d = 0; d < D; d++) G[(size_t)i * D + d] *= f;
    }
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Ns, D, r, 1.0, Vt, Ns, G, D, 0.0, W, D); /* V G */
    for (int d = 0; d < D; d++) {
        double v = pm[d];
        for (int j = 0; j < Ns; j++) v -= xm[j] * W[(size_t)j * D + d];
        c[d] = v;
    }
done:
    nd_free(A); nd_free(xm); nd_free(pm); nd_free(Pc); nd_free(s); nd_free(U); nd_free(Vt); nd_free(G);
    return st;
}

/* pinv [D][Ns] of W [Ns][D], singular values <= 1e-15 x largest dropped (numpy.linalg.pinv's default) */
static nd_status pseudo_inverse(const double *W, int Ns, int D, double *pinv, nd_error *err) {
    int r = Ns < D ? Ns : D;
    double *A = NULL, *s = NULL, *U = NULL, *Vt = NULL;
    nd_status st;
    if ((st = ND_ALLOC(A, (size_t)Ns * D, "stitch init: read-in copy", err)) ||
        (st = ND_ALLOC(s, r, "stitch init: singular values", err)) ||
        (st = ND_ALLOC(U, (size_t)Ns * r, "stitch init: left singular vectors", err)) ||
        (st = ND_ALLOC(Vt, (size_t)r * D, "stitch init: right singular vectors", err)))
        goto done;
    memcpy(A, W, (size_t)Ns * D * sizeof *A);
    if ((st = thin_svd(A, Ns, D, s, U, Vt, "read-in matrix", err))) goto done;
    double cut = 1e-15 * s[0];
    memset(pinv, 0, (size_t)D * Ns * sizeof *pinv);
    for (int i = 0; i < r; i++) {
        if (!(s[i] > cut)) continue;
        for (int a = 0; a < D; a++) {
            double v = Vt[(size_t)i * D + a] / s[i];
            for (int j = 0; j < Ns; j++) pinv[(size_t)a * Ns + j] += v * U[(size_t)j * r + i];
        }
    }
done:
    nd_free(A); nd_free(s); nd_free(U); nd_free(Vt);
    return st;
}

nd_status nd_stitch_pcr_init(const nd_stitch_session *s, int S, int D, double kernel_bins, double alpha,
                             float *const *readin_W, float *const *readin_b, float *const *readout_W,
                             nd_error *err) {
    nd_status st = check_args(s, S, D, kernel_bins, alpha, readin_W, readin_b, readout_W, err);
    if (st) return st;
    int T = s[0].T, C = 0, Ntot = 0, Nmax = 0;
    for (int k = 0; k < S; k++) {
        Ntot += s[k].N;
        if (s[k].N > Nmax) Nmax = s[k].N;
    }
    int *ids = NULL;
    double *X = NULL, *A = NULL, *mean = NULL, *sv = NULL, *U = NULL, *Vt = NULL, *P = NULL, *Xs = NULL, *W = NULL,
           *c = NULL, *pinv = NULL;
    if ((st = ND_ALLOC(ids, s[0].n, "stitch init: shared condition ids", err)) ||
        (st = shared_conditions(s, S, ids, &C, err)))
        goto done;
    if ((long long)C * T > INT_MAX) {
        st = nd_fail(err, ND_ERR_ARG, "stitch init: %d conditions x %d bins: too many PSTH rows", C, T);
        goto done;
    }
    int M = C * T, r = M < Ntot ? M : Ntot;
    if ((st = ND_ALLOC(X, (size_t)M * Ntot, "stitch init: PSTHs", err)) ||
        (st = ND_ALLOC(A, (size_t)M * Ntot, "stitch init: centred PSTHs", err)) ||
        (st = ND_ALLOC(mean, Ntot, "stitch init: PSTH means", err)) ||
        (st = ND_ALLOC(sv, r, "stitch init: singular values", err)) ||
        (st = ND_ALLOC(U, (size_t)M * r, "stitch init: left singular vectors", err)) ||
        (st = ND_ALLOC(Vt, (size_t)r * Ntot, "stitch init: loadings", err)) ||
        (st = ND_ALLOC(P, (size_t)M * D, "stitch init: scores", err)) ||
        (st = ND_ALLOC(Xs, (size_t)M * Nmax, "stitch init: session PSTH", err)) ||
        (st = ND_ALLOC(W, (size_t)Nmax * D, "stitch init: read-in", err)) ||
        (st = ND_ALLOC(c, D, "stitch init: intercept", err)) ||
        (st = ND_ALLOC(pinv, (size_t)D * Nmax, "stitch init: read-out", err)))
        goto done;
    for (int k = 0, col = 0; k < S; col += s[k].N, k++)
        if ((st = session_psth(&s[k], ids, C, kernel_bins, X, Ntot, col, err))) goto done;

    /* PCA of the concatenated PSTHs */
    for (int i = 0; i < M; i++)
        for (int j = 0; j < Ntot; j++) mean[j] += X[(size_t)i * Ntot + j] / M;
    for (int i = 0; i < M; i++)
        for (int j = 0; j < Ntot; j++) A[(size_t)i * Ntot + j] = X[(size_t)i * Ntot + j] - mean[j];
    if ((st = thin_svd(A, M, Ntot, sv, U, Vt, "concatenated PSTHs", err))) goto done;
    double tol = (M > Ntot ? M : Ntot) * DBL_EPSILON * sv[0];
    int rank = 0;
    while (rank < r && sv[rank] > tol) rank++;
    if (rank == 0) {
        st = nd_fail(err, ND_ERR_ARG, "stitch init: the condition-averaged PSTHs of the %d shared conditions are "
                     "constant over conditions and time (no principal component)", C);
        goto done;
    }
    for (int d = 0; d < D && d < rank; d++) {
        const double *v = Vt + (size_t)d * Ntot;
        int arg = 0;
        for (int j = 1; j < Ntot; j++)
            if (fabs(v[j]) > fabs(v[arg])) arg = j;
        double sg = v[arg] < 0 ? -1 : 1;
        for (int i = 0; i < M; i++) P[(size_t)i * D + d] = sg * sv[d] * U[(size_t)i * r + d];
    }

    /* per-session ridge regression to the scores, and its pseudo-inverse */
    for (int k = 0, col = 0; k < S; col += s[k].N, k++) {
        int Ns = s[k].N;
        for (int i = 0; i < M; i++) memcpy(Xs + (size_t)i * Ns, X + (size_t)i * Ntot + col, (size_t)Ns * sizeof *Xs);
        if ((st = ridge(Xs, M, Ns, P, D, alpha, W, c, err))) goto done;
        for (size_t i = 0; i < (size_t)Ns * D; i++) readin_W[k][i] = (float)W[i];
        if (readin_b)
            for (int d = 0; d < D; d++) readin_b[k][d] = (float)c[d];
        if (readout_W) {
            if ((st = pseudo_inverse(W, Ns, D, pinv, err))) goto done;
            for (size_t i = 0; i < (size_t)D * Ns; i++) readout_W[k][i] = (float)pinv[i];
        }
    }
done:
    nd_free(ids); nd_free(X); nd_free(A); nd_free(mean); nd_free(sv); nd_free(U); nd_free(Vt); nd_free(P);
    nd_free(Xs); nd_free(W); nd_free(c); nd_free(pinv);
    return st;
}
