#include "gpfa.h"
#include "../core/mem.h"
#include "../core/progress.h"
#include <cblas.h>
#include <lapacke.h>
#include <math.h>
#include <string.h>

nd_status nd_gpfa_params_alloc(nd_gpfa_params *m, int q, int p, nd_error *err) {
    memset(m, 0, sizeof *m);
    if (q < 1 || p < 1) return nd_fail(err, ND_ERR_ARG, "GPFA: %d neurons and %d latents (need >= 1 each)", q, p);
    m->q = q;
    m->p = p;
    m->eps = 1e-3;
    nd_status st = ND_ALLOC(m->C, (size_t)q * p, "GPFA loadings", err);
    if (!st) st = ND_ALLOC(m->d, q, "GPFA offsets", err);
    if (!st) st = ND_ALLOC(m->R, q, "GPFA noise variances", err);
    if (!st) st = ND_ALLOC(m->tau, p, "GPFA timescales", err);
    if (st) nd_gpfa_params_free(m);
    return st;
}

void nd_gpfa_params_free(nd_gpfa_params *m) {
    nd_free(m->C); nd_free(m->d); nd_free(m->R); nd_free(m->tau);
    memset(m, 0, sizeof *m);
}

void nd_gpfa_stats_free(nd_gpfa_stats *s) {
    nd_free(s->Sxx); nd_free(s->Sx); nd_free(s->Syx); nd_free(s->Sy); nd_free(s->Syy); nd_free(s->Stt);
    memset(s, 0, sizeof *s);
}

void nd_gpfa_opts_default(nd_gpfa_opts *o) {
    o->latents = 20;
    o->max_iters = 100;
    o->tol = 1e-7;
    o->tau_init_ms = 100;
    o->bin_ms = 20;
    o->eps = 1e-3;
    o->min_var_frac = 0.01;
    o->progress = NULL;
}

/* K [T][T] of timescale tau (bins) and noise variance eps; dK (may be NULL) = dK / d log tau */
static void gp_kernel(int T, double tau, double eps, double *K, double *dK) {
    for (int t = 0; t < T; t++)
        for (int s = 0; s < T; s++) {
            double dt = t - s, e = exp(-dt * dt / (2 * tau * tau));
            K[(size_t)t * T + s] = (1 - eps) * e + (t == s ? eps : 0);
            if (dK) dK[(size_t)t * T + s] = (1 - eps) * e * dt * dt / (tau * tau);
        }
}

/* in-place inverse of a symmetric positive-definite A [n][n] (full matrix on return); log|A| to *logdet */
static nd_status spd_inverse(double *A, int n, double *logdet, const char *what, nd_error *err) {
    lapack_int info = LAPACKE_dpotrf(LAPACK_ROW_MAJOR, 'L', n, A, n);
    if (info != 0) return nd_fail(err, ND_ERR_NUMERIC, "GPFA: %s is not positive definite (Cholesky info %d)", what, (int)info);
    double ld = 0;
    for (int i = 0; i < n; i++) ld += 2 * log(A[(size_t)i * n + i]);
    if (logdet) *logdet = ld;
    info = LAPACKE_dpotri(LAPACK_ROW_MAJOR, 'L', n, A, n);
    if (info != 0) return nd_fail(err, ND_ERR_NUMERIC, "GPFA: cannot invert %s (info %d)", what, (int)info);
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++) A[(size_t)i * n + j] = A[(size_t)j * n + i];
    return ND_OK;
}

nd_status nd_gpfa_estep(const nd_gpfa_params *m, const double *Y, int n, int T_obs, int T, double *loglik,
                        double *means, nd_gpfa_stats *stats, nd_error *err) {
    const int q = m->q, p = m->p;
    if (stats) memset(stats, 0, sizeof *stats);
    if (n < 1 || T_obs < 1 || T < T_obs)
        return nd_fail(err, ND_ERR_ARG, "GPFA E-step: %d trials, %d observed of %d bins", n, T_obs, T);
    if (stats && T != T_obs) return nd_fail(err, ND_ERR_ARG, "GPFA E-step: statistics need every bin observed");
    for (int k = 0; k < q; k++)
        if (!(m->R[k] > 0)) return nd_fail(err, ND_ERR_NUMERIC, "GPFA: noise variance of neuron %d is %g", k, m->R[k]);
    const size_t D = (size_t)p * T, nTo = (size_t)n * T_obs;
    double *M = NULL, *K = NULL, *CRC = NULL, *Z = NULL, *Bm = NULL, *X = NULL, *Yc = NULL;
    nd_status st = ND_ALLOC(M, D * D, "GPFA posterior precision", err);
    if (!st) st = ND_ALLOC(K, (size_t)T * T, "GPFA kernel", err);
    if (!st) st = ND_ALLOC(CRC, (size_t)p * p, "GPFA C'R^-1C", err);
    if (!st) st = ND_ALLOC(Z, nTo * p, "GPFA projections", err);
    if (!st) st = ND_ALLOC(Yc, nTo * q, "GPFA centred data", err);
    if (!st) st = ND_ALLOC(Bm, D * n, "GPFA right-hand sides", err);
    if (!st) st = ND_ALLOC(X, D * n, "GPFA posterior means", err);
    if (st) goto done;
    /* prior precision blocks */
    double logdetK = 0;
    for (int i = 0; i < p; i++) {
        double ld;
        gp_kernel(T, m->tau[i], m->eps, K, NULL);
        st = spd_inverse(K, T, &ld, "the GP kernel", err);
        if (st) goto done;
        logdetK += ld;
        for (int t = 0; t < T; t++)
            memcpy(M + ((size_t)i * T + t) * D + (size_t)i * T, K + (size_t)t * T, sizeof(double) * T);
    }
    for (int i = 0; i < p; i++)
        for (int j = 0; j < p; j++) {
            double s = 0;
            for (int k = 0; k < q; k++) s += m->C[(size_t)k * p + i] * m->C[(size_t)k * p + j] / m->R[k];
            CRC[(size_t)i * p + j] = s;
        }
    for (int i = 0; i < p; i++)
        for (int j = 0; j < p; j++)
            for (int t = 0; t < T_obs; t++) M[((size_t)i * T + t) * D + (size_t)j * T + t] += CRC[(size_t)i * p + j];
    lapack_int info = LAPACKE_dpotrf(LAPACK_ROW_MAJOR, 'L', (lapack_int)D, M, (lapack_int)D);
    if (info != 0) {
        st = nd_fail(err, ND_ERR_NUMERIC, "GPFA: posterior precision is not positive definite (info %d)", (int)info);
        goto done;
    }
    double logdetM = 0;
    for (size_t a = 0; a < D; a++) logdetM += 2 * log(M[a * D + a]);
    /* right-hand sides b = C' R^-1 (y - d) per observed bin */
    double yRy = 0;
    for (size_t r = 0; r < nTo; r++)
        for (int k = 0; k < q; k++) {
            double v = Y[r * q + k] - m->d[k];
            yRy += v * v / m->R[k];
            Yc[r * q + k] = v / m->R[k];
        }
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)nTo, p, q, 1.0, Yc, q, m->C, p, 0.0, Z, p);
    for (int r = 0; r < n; r++)
        for (int t = 0; t < T_obs; t++)
            for (int i = 0; i < p; i++) Bm[((size_t)i * T + t) * n + r] = Z[((size_t)r * T_obs + t) * p + i];
    memcpy(X, Bm, sizeof(double) * D * n);
    info = LAPACKE_dpotrs(LAPACK_ROW_MAJOR, 'L', (lapack_int)D, n, M, (lapack_int)D, X, n);
    if (info != 0) { st = nd_fail(err, ND_ERR_NUMERIC, "GPFA: posterior solve failed (info %d)", (int)info); goto done; }
    if (loglik) {
        double bmu = 0, logR = 0;
        for (size_t a = 0; a < D * n; a++) bmu += Bm[a] * X[a];
        for (int k = 0; k < q; k++) logR += log(m->R[k]);
        *loglik = -0.5 * ((double)nTo * q * 1.8378770664093454836 + (double)nTo * logR + n * (logdetK + logdetM) + yRy - bmu);
    }
    if (means)
        for (int r = 0; r < n; r++)
            for (int t = 0; t < T; t++)
                for (int i = 0; i < p; i++) means[((size_t)r * T + t) * p + i] = X[((size_t)i * T + t) * n + r];
    if (stats) {
        nd_gpfa_stats *s = stats;
        s->q = q; s->p = p; s->T = T; s->n = n; s->N = (double)nTo;
        st = ND_ALLOC(s->Sxx, (size_t)p * p, "GPFA statistics", err);
        if (!st) st = ND_ALLOC(s->Sx, p, "GPFA statistics", err);
        if (!st) st = ND_ALLOC(s->Syx, (size_t)q * p, "GPFA statistics", err);
        if (!st) st = ND_ALLOC(s->Sy, q, "GPFA statistics", err);
        if (!st) st = ND_ALLOC(s->Syy, q, "GPFA statistics", err);
        if (!st) st = ND_ALLOC(s->Stt, (size_t)p * T * T, "GPFA statistics", err);
        if (st) { nd_gpfa_stats_free(s); goto done; }
        /* posterior covariance = M^-1 (the Cholesky factor is in M's lower triangle) */
        info = LAPACKE_dpotri(LAPACK_ROW_MAJOR, 'L', (lapack_int)D, M, (lapack_int)D);
        if (info != 0) {
            nd_gpfa_stats_free(s);
            st = nd_fail(err, ND_ERR_NUMERIC, "GPFA: cannot invert the posterior precision (info %d)", (int)info);
            goto done;
        }
#define SIG(a, b) ((a) >= (b) ? M[(size_t)(a) * D + (b)] : M[(size_t)(b) * D + (a)])
        /* Z now holds the means in [n*T][p] layout */
        for (int r = 0; r < n; r++)
            for (int t = 0; t < T; t++)
                for (int i = 0; i < p; i++) Z[((size_t)r * T + t) * p + i] = X[((size_t)i * T + t) * n + r];
        cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, p, p, (int)nTo, 1.0, Z, p, Z, p, 0.0, s->Sxx, p);
        for (int i = 0; i < p; i++)
            for (int j = 0; j < p; j++) {
                double c = 0;
                for (int t = 0; t < T; t++) c += SIG((size_t)i * T + t, (size_t)j * T + t);
                s->Sxx[(size_t)i * p + j] += n * c;
            }
        for (size_t r = 0; r < nTo; r++)
            for (int i = 0; i < p; i++) s->Sx[i] += Z[r * p + i];
        cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, q, p, (int)nTo, 1.0, Y, q, Z, p, 0.0, s->Syx, p);
        for (size_t r = 0; r < nTo; r++)
            for (int k = 0; k < q; k++) {
                double y = Y[r * q + k];
                s->Sy[k] += y;
                s->Syy[k] += y * y;
            }
        for (int i = 0; i < p; i++) {
            double *S = s->Stt + (size_t)i * T * T;
            cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, T, T, n, 1.0, X + (size_t)i * T * n, n,
                        X + (size_t)i * T * n, n, 0.0, S, T);
            for (int t = 0; t < T; t++)
                for (int u = 0; u < T; u++) S[(size_t)t * T + u] += n * SIG((size_t)i * T + t, (size_t)i * T + u);
        }
#undef SIG
    }
done:
    nd_free(M); nd_free(K); nd_free(CRC); nd_free(Z); nd_free(Bm); nd_free(X); nd_free(Yc);
    return st;
}

double nd_gpfa_tau_objective(int T, double log_tau, double eps, const double *S, double n, double *grad,
                             nd_error *err) {
    size_t TT = (size_t)T * T;
    double *K = nd_alloc(sizeof(double) * TT * 4);
    if (!K) { nd_fail(err, ND_ERR_NOMEM, "GPFA: out of memory (timescale update)"); return NAN; }
    double *dK = K + TT, *Z = dK + TT, *W = Z + TT;
    gp_kernel(T, exp(log_tau), eps, K, dK);
    double logdet, f = NAN;
    if (spd_inverse(K, T, &logdet, "the GP kernel", err) == ND_OK) {
        /* Z = K^-1 S */
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, T, T, T, 1.0, K, T, S, T, 0.0, Z, T);
        double tr = 0;
        for (int t = 0; t < T; t++) tr += Z[(size_t)t * T + t];
        f = -0.5 * (n * logdet + tr);
        if (grad) {
            /* d f / d log tau = 1/2 tr((K^-1 S K^-1 - n K^-1) dK) */
            cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, T, T, T, 1.0, Z, T, K, T, 0.0, W, T);
            double g = 0;
            for (size_t a = 0; a < TT; a++) g += (W[a] - n * K[a]) * dK[a];
            *grad = 0.5 * g;
        }
    }
    nd_free(K);
    return f;
}

/* maximise the timescale objective of one latent: monotone steps along the gradient's sign */
static nd_status update_tau(int T, double eps, const double *S, double n, double *tau, nd_error *err) {
    const double lo = log(1e-2), hi = log(1e3 * T);
    double l = log(*tau), g, f = nd_gpfa_tau_objective(T, l, eps, S, n, &g, err);
    if (isnan(f)) return err ? err->code : ND_ERR_NUMERIC;
    double step = 0.5;
    for (int it = 0; it < 30 && step > 1e-6; it++) {
        if (g == 0) break;
        double dir = g > 0 ? 1 : -1;
        int moved = 0;
        while (step > 1e-6) {
            double l2 = l + dir * step;
            if (l2 < lo) l2 = lo;
            if (l2 > hi) l2 = hi;
            double g2 = g, f2 = l2 == l ? f : nd_gpfa_tau_objective(T, l2, eps, S, n, &g2, err);
            if (isnan(f2)) return err ? err->code : ND_ERR_NUMERIC;
            if (f2 > f) { l = l2; f = f2; g = g2; moved = 1; step *= 2; if (step > 2) step = 2; break; }
            step *= 0.5;
        }
        if (!moved) break;
    }
    *tau = exp(l);
    return ND_OK;
}

nd_status nd_gpfa_mstep(nd_gpfa_params *m, const nd_gpfa_stats *s, const double *var_floor, int learn_tau,
                        nd_error *err) {
    const int q = m->q, p = m->p, P = p + 1;
    double *A = nd_alloc(sizeof(double) * (size_t)P * P), *B = nd_alloc(sizeof(double) * (size_t)P * q);
    nd_status st = ND_OK;
    if (!A || !B) { st = nd_fail(err, ND_ERR_NOMEM, "GPFA: out of memory (M-step)"); goto done; }
    for (int i = 0; i < p; i++) {
        for (int j = 0; j < p; j++) A[(size_t)i * P + j] = s->Sxx[(size_t)i * p + j];
        A[(size_t)i * P + p] = A[(size_t)p * P + i] = s->Sx[i];
    }
    A[(size_t)p * P + p] = s->N;
    for (int k = 0; k < q; k++) {
        for (int i = 0; i < p; i++) B[(size_t)i * q + k] = s->Syx[(size_t)k * p + i];
        B[(size_t)p * q + k] = s->Sy[k];
    }
    lapack_int info = LAPACKE_dposv(LAPACK_ROW_MAJOR, 'L', P, q, A, P, B, q);
    if (info != 0) { st = nd_fail(err, ND_ERR_NUMERIC, "GPFA: M-step system is singular (info %d)", (int)info); goto done; }
    for (int k = 0; k < q; k++) {
        double r = s->Syy[k];
        for (int i = 0; i < p; i++) {
            m->C[(size_t)k * p + i] = B[(size_t)i * q + k];
            r -= m->C[(size_t)k * p + i] * s->Syx[(size_t)k * p + i];
        }
        m->d[k] = B[(size_t)p * q + k];
        r -= m->d[k] * s->Sy[k];
        r /= s->N;
        m->R[k] = r > var_floor[k] ? r : var_floor[k];
    }
    if (learn_tau)
        for (int i = 0; i < p && !st; i++)
            st = update_tau(s->T, m->eps, s->Stt + (size_t)i * s->T * s->T, s->n, &m->tau[i], err);
done:
    nd_free(A);
    nd_free(B);
    return st;
}

static nd_status gpfa_init(const double *Y, size_t rows, int q, const nd_gpfa_opts *o, nd_gpfa_params *m,
                           double *var_floor, nd_error *err) {
    const int p = m->p;
    double *S = nd_alloc(sizeof(double) * (size_t)q * q), *w = nd_alloc(sizeof(double) * q);
    double *Yc = nd_alloc(sizeof(double) * rows * q);
    nd_status st = ND_OK;
    if (!S || !w || !Yc) { st = nd_fail(err, ND_ERR_NOMEM, "GPFA: out of memory (initialisation)"); goto done; }
    for (int k = 0; k < q; k++) m->d[k] = 0;
    for (size_t r = 0; r < rows; r++)
        for (int k = 0; k < q; k++) m->d[k] += Y[r * q + k];
    for (int k = 0; k < q; k++) m->d[k] /= (double)rows;
    for (size_t r = 0; r < rows; r++)
        for (int k = 0; k < q; k++) Yc[r * q + k] = Y[r * q + k] - m->d[k];
    cblas_dsyrk(CblasRowMajor, CblasLower, CblasTrans, q, (int)rows, 1.0 / (double)rows, Yc, q, 0.0, S, q);
    for (int k = 0; k < q; k++) {
        double v = S[(size_t)k * q + k];
        if (!(v > 0)) { st = nd_fail(err, ND_ERR_ARG, "GPFA: neuron %d never varies in the training data", k); goto done; }
        var_floor[k] = o->min_var_frac * v;
    }
    double *diag = Yc; /* reuse: keep the variances */
    for (int k = 0; k < q; k++) diag[k] = S[(size_t)k * q + k];
    lapack_int info = LAPACKE_dsyev(LAPACK_ROW_MAJOR, 'V', 'L', q, S, q, w); /* ascending; vectors in columns */
    if (info != 0) { st = nd_fail(err, ND_ERR_NUMERIC, "GPFA: eigendecomposition failed (info %d)", (int)info); goto done; }
    /* PCA loadings C = U_p sqrt(lambda); R = what C C' leaves of each variance (floored). Subtracting the
     * PPCA noise level from lambda would start latents of a flat spectrum at ~0 loadings, where EM stalls. */
    for (int i = 0; i < p; i++) {
        int col = q - 1 - i;
        double lam = w[col] > 1e-12 * w[q - 1] ? w[col] : 1e-12 * w[q - 1];
        for (int k = 0; k < q; k++) m->C[(size_t)k * p + i] = S[(size_t)k * q + col] * sqrt(lam);
    }
    for (int k = 0; k < q; k++) {
        double cc = 0;
        for (int i = 0; i < p; i++) cc += m->C[(size_t)k * p + i] * m->C[(size_t)k * p + i];
        double r = diag[k] - cc;
        m->R[k] = r > var_floor[k] ? r : var_floor[k];
    }
    double tau0 = o->tau_init_ms / o->bin_ms;
    for (int i = 0; i < p; i++) m->tau[i] = tau0;
    m->eps = o->eps;
done:
    nd_free(S); nd_free(w); nd_free(Yc);
    return st;
}

nd_status nd_gpfa_fit(const double *Y, int n, int T, int q, const nd_gpfa_opts *o, nd_gpfa_params *m, double **ll,
                      int *iters, nd_error *err) {
    *ll = NULL;
    *iters = 0;
    if (o->latents < 1 || o->latents > q)
        return nd_fail(err, ND_ERR_ARG, "GPFA: %d latents for %d neurons (need 1..%d)", o->latents, q, q);
    if (o->max_iters < 1 || !(o->bin_ms > 0) || !(o->tau_init_ms > 0) || !(o->eps > 0 && o->eps < 1))
        return nd_fail(err, ND_ERR_ARG, "GPFA: bad options (iterations %d, bin %g ms, tau %g ms, eps %g)",
                       o->max_iters, o->bin_ms, o->tau_init_ms, o->eps);
    nd_status st = nd_gpfa_params_alloc(m, q, o->latents, err);
    if (st) return st;
    double *floor_ = NULL, *trace = NULL;
    st = ND_ALLOC(floor_, q, "GPFA variance floor", err);
    if (!st) st = ND_ALLOC(trace, o->max_iters, "GPFA log-likelihood trace", err);
    if (!st) st = gpfa_init(Y, (size_t)n * T, q, o, m, floor_, err);
    int it = 0;
    for (; !st && it < o->max_iters; it++) {
        nd_gpfa_stats s;
        double L;
        st = nd_gpfa_estep(m, Y, n, T, T, &L, NULL, &s, err);
        if (st) break;
        trace[it] = L;
        if (o->progress && nd_progress_tty(o->progress)) { /* a pipe or file gets the last iteration only */
            fprintf(o->progress, "\r  EM iteration %d/%d: log-likelihood %.6e", it + 1, o->max_iters, L);
            fflush(o->progress);
        }
        int converged = it > 0 && L - trace[it - 1] < o->tol * fabs(L);
        if (!converged) st = nd_gpfa_mstep(m, &s, floor_, 1, err);
        nd_gpfa_stats_free(&s);
        if (converged) { it++; break; }
    }
    if (o->progress && it > 0 && !nd_progress_tty(o->progress))
        fprintf(o->progress, "  EM iteration %d/%d: log-likelihood %.6e", it, o->max_iters, trace[it - 1]);
    if (o->progress && it > 0) fprintf(o->progress, "\n");
    nd_free(floor_);
    if (st) { nd_free(trace); nd_gpfa_params_free(m); return st; }
    *ll = trace;
    *iters = it;
    return ND_OK;
}

nd_status nd_gpfa_orth_transform(const nd_gpfa_params *m, double *Tr, nd_error *err) {
    const int q = m->q, p = m->p;
    double *A = nd_alloc(sizeof(double) * (size_t)q * p), *S = nd_alloc(sizeof(double) * p);
    double *U = nd_alloc(sizeof(double) * (size_t)q * p), *Vt = nd_alloc(sizeof(double) * (size_t)p * p);
    double *sup = nd_alloc(sizeof(double) * p);
    nd_status st = ND_OK;
    if (!A || !S || !U || !Vt || !sup) { st = nd_fail(err, ND_ERR_NOMEM, "GPFA: out of memory (orthonormalisation)"); goto done; }
    memcpy(A, m->C, sizeof(double) * (size_t)q * p);
    lapack_int info = LAPACKE_dgesvd(LAPACK_ROW_MAJOR, 'S', 'S', q, p, A, p, S, U, p, Vt, p, sup);
    if (info != 0) { st = nd_fail(err, ND_ERR_NUMERIC, "GPFA: SVD of the loadings failed (info %d)", (int)info); goto done; }
    for (int i = 0; i < p; i++)
        for (int j = 0; j < p; j++) Tr[(size_t)i * p + j] = S[i] * Vt[(size_t)i * p + j];
done:
    nd_free(A); nd_free(S); nd_free(U); nd_free(Vt); nd_free(sup);
    return st;
}
