#include "poisson_glm.h"
#include "../core/mem.h"
#include <cblas.h>
#include <lapacke.h>
#include <math.h>
#include <omp.h>
#include <string.h>

void nd_glm_opts_default(nd_glm_opts *o) {
    o->alpha = 0.01;
    o->max_iter = 100;
    o->tol = 1e-10;
    o->warm = 0;
}

/* objective at theta = [w; b]; eta and mu of every row into eta[] (mu = exp(eta)) */
static double objective(const double *X, const double *y, size_t n, int p, double alpha, const double *th,
                        double *eta) {
    double s = 0, pen = 0;
    for (size_t i = 0; i < n; i++) {
        const double *x = X + i * (size_t)p;
        double e = th[p];
        for (int j = 0; j < p; j++) e += x[j] * th[j];
        eta[i] = e;
        s += exp(e) - y[i] * e;
    }
    for (int j = 0; j < p; j++) pen += th[j] * th[j];
    return s / (double)n + 0.5 * alpha * pen;
}

double nd_poisson_glm_rate(const double *x, const double *w, double b, int p) {
    double e = b;
    for (int j = 0; j < p; j++) e += x[j] * w[j];
    if (e > 46.0) e = 46.0; /* exp(46) ~ 1e20 */
    double r = exp(e);
    return r < 1e-9 ? 1e-9 : r;
}

nd_status nd_poisson_glm_fit(const double *X, const double *y, size_t n, int p, const nd_glm_opts *o, double *w,
                             double *b, int *iters, nd_error *err) {
    if (iters) *iters = 0;
    if (n < 1 || p < 0 || !(o->alpha >= 0) || o->max_iter < 1)
        return nd_fail(err, ND_ERR_ARG, "Poisson GLM: bad arguments (n %zu, p %d, alpha %g)", n, p, o->alpha);
    double ysum = 0;
    for (size_t i = 0; i < n; i++) {
        if (!(y[i] >= 0) || !isfinite(y[i]))
            return nd_fail(err, ND_ERR_ARG, "Poisson GLM: count %zu is %g (must be finite and >= 0)", i, y[i]);
        for (int j = 0; j < p; j++)
            if (!isfinite(X[i * (size_t)p + j]))
                return nd_fail(err, ND_ERR_ARG, "Poisson GLM: regressor (%zu, %d) is not finite", i, j);
        ysum += y[i];
    }
    if (ysum == 0) { memset(w, 0, sizeof(double) * (size_t)p); *b = log(1e-9); return ND_OK; }
    int P = p + 1;
    double *th = NULL, *th2 = NULL, *g = NULL, *H = NULL, *dl = NULL, *eta = NULL, *eta2 = NULL, *Xw = NULL;
    nd_status st = ND_ALLOC(th, P, "GLM parameters", err);
    if (!st) st = ND_ALLOC(Xw, n * (size_t)p + 1, "GLM weighted regressors", err);
    if (!st) st = ND_ALLOC(th2, P, "GLM parameters", err);
    if (!st) st = ND_ALLOC(g, P, "GLM gradient", err);
    if (!st) st = ND_ALLOC(dl, P, "GLM step", err);
    if (!st) st = ND_ALLOC(H, (size_t)P * P, "GLM Hessian", err);
    if (!st) st = ND_ALLOC(eta, n, "GLM linear predictor", err);
    if (!st) st = ND_ALLOC(eta2, n, "GLM linear predictor", err);
    if (st) goto done;
    if (o->warm && isfinite(*b)) {
        memcpy(th, w, sizeof(double) * (size_t)p);
        th[p] = *b;
        for (int j = 0; j < P; j++) if (!isfinite(th[j])) { memset(th, 0, sizeof(double) * P); th[p] = log(ysum / (double)n); break; }
    } else th[p] = log(ysum / (double)n);
    double f = objective(X, y, n, p, o->alpha, th, eta);
    int it;
    for (it = 0; it < o->max_iter; it++) {
        /* gradient and Hessian (lower triangle, then mirrored) */
        memset(g, 0, sizeof(double) * P);
        memset(H, 0, sizeof(double) * (size_t)P * P);
        /* the weights' block X' diag(mu) X by a rank-n update of sqrt(mu) x (BLAS); the rest row by row */
        for (size_t i = 0; i < n; i++) {
            const double *x = X + i * (size_t)p;
            double mu = exp(eta[i]), r = mu - y[i], sm = sqrt(mu), *xw = Xw + i * (size_t)p;
            double *h = H + (size_t)p * P;
            for (int j = 0; j < p; j++) {
                g[j] += r * x[j];
                h[j] += mu * x[j];
                xw[j] = sm * x[j];
            }
            g[p] += r;
            h[p] += mu;
        }
        if (p > 0) cblas_dsyrk(CblasRowMajor, CblasLower, CblasTrans, p, (int)n, 1.0, Xw, p, 0.0, H, P);
        double gmax = 0;
        for (int j = 0; j < P; j++) {
            g[j] /= (double)n;
            if (j < p) g[j] += o->alpha * th[j];
            if (fabs(g[j]) > gmax) gmax = fabs(g[j]);
        }
        if (gmax < o->tol) break;
        for (int j = 0; j < P; j++) {
            for (int k = 0; k <= j; k++) {
                H[(size_t)j * P + k] /= (double)n;
                H[(size_t)k * P + j] = H[(size_t)j * P + k];
            }
            if (j < p) H[(size_t)j * P + j] += o->alpha;
        }
        for (int j = 0; j < P; j++) dl[j] = -g[j];
        lapack_int info = LAPACKE_dposv(LAPACK_ROW_MAJOR, 'L', P, 1, H, P, dl, 1);
        if (info != 0) {
            st = nd_fail(err, ND_ERR_NUMERIC,
                         "Poisson GLM: the Hessian is singular (collinear regressors; use a penalty alpha > 0)");
            goto done;
        }
        double slope = 0;
        for (int j = 0; j < P; j++) slope += g[j] * dl[j];
        /* Newton decrement -slope = g' H^-1 g: once it is at the level of rounding in f, the full Newton step
         * is taken without a line search (f can no longer resolve the decrease) and the fit has converged */
        if (-slope < 1e-13 * (fabs(f) > 1 ? fabs(f) : 1)) {
            for (int j = 0; j < P; j++) th[j] += dl[j];
            it++;
            break;
        }
        double s = 1, f2 = f;
        int accepted = 0;
        for (int ls = 0; ls < 60; ls++, s *= 0.5) {
            for (int j = 0; j < P; j++) th2[j] = th[j] + s * dl[j];
            f2 = objective(X, y, n, p, o->alpha, th2, eta2);
            if (f2 < f + 1e-4 * s * slope) { accepted = 1; break; }
        }
        if (!accepted) break; /* no decrease representable: converged to rounding */
        memcpy(th, th2, sizeof(double) * P);
        double *tmp = eta; eta = eta2; eta2 = tmp;
        f = f2;
    }
    if (iters) *iters = it;
    memcpy(w, th, sizeof(double) * (size_t)p);
    *b = th[p];
done:
    nd_free(th); nd_free(th2); nd_free(g); nd_free(H); nd_free(dl); nd_free(eta); nd_free(eta2); nd_free(Xw);
    return st;
}

nd_status nd_poisson_glm_fit_many(const double *X, const float *Y, size_t ldy, size_t n, int p, int q,
                                  const nd_glm_opts *o, double *W, double *B, nd_error *err) {
    nd_status st = ND_OK;
    int failed = -1;
    nd_error first;
    memset(&first, 0, sizeof first);
#pragma omp parallel
    {
        double *y = nd_alloc(sizeof(double) * (n ? n : 1));
#pragma omp for schedule(dynamic, 1)
        for (int j = 0; j < q; j++) {
            nd_error e;
            nd_status s;
            if (!y) s = nd_fail(&e, ND_ERR_NOMEM, "Poisson GLM: out of memory");
            else {
                for (size_t i = 0; i < n; i++) y[i] = Y[i * ldy + (size_t)j];
                s = nd_poisson_glm_fit(X, y, n, p, o, W + (size_t)j * p, B + j, NULL, &e);
            }
            if (s) {
#pragma omp critical(nd_glm_fail)
                if (failed < 0 || j < failed) { failed = j; st = s; first = e; }
            }
        }
        nd_free(y);
    }
    if (st && err) *err = first;
    return st;
}

/* ---------------- read-out on standardised regressors ---------------- */

int nd_glm_default_alphas(double *alphas) {
    for (int i = 0; i < 5; i++) alphas[i] = pow(10.0, -4 + i);
    return 5;
}

void nd_glm_readout_free(nd_glm_readout *r) {
    nd_free(r->mean); nd_free(r->sd); nd_free(r->W); nd_free(r->B);
    memset(r, 0, sizeof *r);
}

/* column means and SDs of X [rows][p]; a (numerically) constant column gets SD 1 */
static void column_stats(const double *X, size_t rows, int p, double *mean, double *sd) {
    for (int j = 0; j < p; j++) { mean[j] = 0; sd[j] = 0; }
    for (size_t i = 0; i < rows; i++)
        for (int j = 0; j < p; j++) mean[j] += X[i * p + j];
    for (int j = 0; j < p; j++) mean[j] /= (double)(rows ? rows : 1);
    for (size_t i = 0; i < rows; i++)
        for (int j = 0; j < p; j++) { double v = X[i * p + j] - mean[j]; sd[j] += v * v; }
    for (int j = 0; j < p; j++) {
        double s = sqrt(sd[j] / (double)(rows ? rows : 1));
        sd[j] = s > 1e-12 * (1 + fabs(mean[j])) ? s : 1.0;
    }
}

nd_status nd_glm_readout_fit(const double *X, const float *Y, size_t ldy, size_t rows, int p, int q, double alpha,
                             nd_glm_readout *r, nd_error *err) {
    memset(r, 0, sizeof *r);
    if (rows < 1 || p < 0 || q < 1 || !(alpha >= 0))
        return nd_fail(err, ND_ERR_ARG, "GLM read-out: bad arguments (rows %zu, p %d, q %d, alpha %g)", rows, p, q, alpha);
    r->p = p; r->q = q; r->alpha = alpha;
    double *Z = NULL;
    nd_status st = ND_ALLOC(r->mean, (size_t)p + 1, "GLM read-out means", err);
    if (!st) st = ND_ALLOC(r->sd, (size_t)p + 1, "GLM read-out SDs", err);
    if (!st) st = ND_ALLOC(r->W, (size_t)q * p + 1, "GLM read-out weights", err);
    if (!st) st = ND_ALLOC(r->B, q, "GLM read-out intercepts", err);
    if (!st) st = ND_ALLOC(Z, rows * p + 1, "GLM read-out regressors", err);
    if (!st) {
        column_stats(X, rows, p, r->mean, r->sd);
        for (size_t i = 0; i < rows; i++)
            for (int j = 0; j < p; j++) Z[i * p + j] = (X[i * p + j] - r->mean[j]) / r->sd[j];
        nd_glm_opts go;
        nd_glm_opts_default(&go);
        go.alpha = alpha;
        st = nd_poisson_glm_fit_many(Z, Y, ldy, rows, p, q, &go, r->W, r->B, err);
    }
    nd_free(Z);
    if (st) nd_glm_readout_free(r);
    return st;
}

double nd_glm_readout_rate(const nd_glm_readout *r, const double *x, int j) {
    const int p = r->p;
    const double *w = r->W + (size_t)j * p;
    double e = r->B[j];
    for (int k = 0; k < p; k++) e += (x[k] - r->mean[k]) / r->sd[k] * w[k];
    if (e > 46.0) e = 46.0;
    double v = exp(e);
    return v < 1e-9 ? 1e-9 : v;
}

/* z-score X [rows][p] in place with mean / sd */
static void apply_stats(double *X, size_t rows, int p, const double *mean, const double *sd) {
    for (size_t i = 0; i < rows; i++)
        for (int j = 0; j < p; j++) X[i * p + j] = (X[i * p + j] - mean[j]) / sd[j];
}

nd_status nd_glm_readout_cv(const double *X, const float *Y, size_t ldy, int trials, int rows_per_trial, int p, int q,
                            const double *alphas, int n_alphas, int folds, double *score, int *best, nd_error *err) {
    if (folds < 2 || folds > trials || rows_per_trial < 1 || n_alphas < 1 || n_alphas > ND_GLM_MAX_ALPHAS || q < 1 || p < 0)
        return nd_fail(err, ND_ERR_ARG, "GLM cross-validation: %d folds over %d trials (need 2..trials), %d penalties",
                       folds, trials, n_alphas);
    for (int a = 0; a < n_alphas; a++)
        if (!(alphas[a] >= 0)) return nd_fail(err, ND_ERR_ARG, "GLM cross-validation: penalty %g (need >= 0)", alphas[a]);
    const size_t R = (size_t)rows_per_trial, nmax = (size_t)trials * R;
    double *Xt = NULL, *Xv = NULL, *ll = NULL, *mean = NULL, *mu = NULL, *sd = NULL, *W = NULL, *B = NULL;
    float *Yt = NULL, *Yv = NULL;
    int order[ND_GLM_MAX_ALPHAS];
    nd_status st = ND_ALLOC(Xt, nmax * p + 1, "CV regressors", err);
    if (!st) st = ND_ALLOC(Xv, nmax * p + 1, "CV regressors", err);
    if (!st) st = ND_ALLOC(Yt, nmax * q + 1, "CV counts", err);
    if (!st) st = ND_ALLOC(Yv, nmax * q + 1, "CV counts", err);
    if (!st) st = ND_ALLOC(ll, n_alphas, "CV scores", err);
    if (!st) st = ND_ALLOC(mean, q, "CV mean rates", err);
    if (!st) st = ND_ALLOC(mu, (size_t)p + 1, "CV regressor means", err);
    if (!st) st = ND_ALLOC(sd, (size_t)p + 1, "CV regressor SDs", err);
    if (!st) st = ND_ALLOC(W, (size_t)q * p + 1, "CV weights", err);
    if (!st) st = ND_ALLOC(B, q, "CV intercepts", err);
    /* penalties from the largest down, each fit warm-started from the previous one (the path is smooth) */
    for (int a = 0; a < n_alphas; a++) order[a] = a;
    for (int a = 1; a < n_alphas; a++)
        for (int c = a; c > 0 && alphas[order[c]] > alphas[order[c - 1]]; c--) { int t = order[c]; order[c] = order[c - 1]; order[c - 1] = t; }
    double ll0 = 0, spikes = 0;
    for (int f = 0; f < folds && !st; f++) {
        size_t nt = 0, nv = 0;
        for (int b = 0; b < trials; b++) {
            int val = b % folds == f;
            double *xd = val ? Xv + nv * p : Xt + nt * p;
            float *yd = val ? Yv + nv * q : Yt + nt * q;
            memcpy(xd, X + (size_t)b * R * p, sizeof(double) * R * p);
            for (size_t t = 0; t < R; t++) memcpy(yd + t * q, Y + ((size_t)b * R + t) * ldy, sizeof(float) * q);
            if (val) nv += R; else nt += R;
        }
        column_stats(Xt, nt, p, mu, sd);
        apply_stats(Xt, nt, p, mu, sd);
        apply_stats(Xv, nv, p, mu, sd);
        for (int j = 0; j < q; j++) mean[j] = 0;
        for (size_t i = 0; i < nt; i++)
            for (int j = 0; j < q; j++) mean[j] += Yt[i * q + j];
        for (int j = 0; j < q; j++) { mean[j] /= (double)nt; if (mean[j] < 1e-9) mean[j] = 1e-9; }
        for (size_t i = 0; i < nv; i++)
            for (int j = 0; j < q; j++) {
                double y = Yv[i * q + j];
                ll0 += y * log(mean[j]) - mean[j];
                spikes += y;
            }
        for (int k = 0; k < n_alphas && !st; k++) {
            int a = order[k];
            nd_glm_opts go;
            nd_glm_opts_default(&go);
            go.alpha = alphas[a];
            go.warm = k > 0;
            st = nd_poisson_glm_fit_many(Xt, Yt, q, nt, p, q, &go, W, B, err);
            if (st) break;
            double s = 0;
            for (size_t i = 0; i < nv; i++)
                for (int j = 0; j < q; j++) {
                    double m = nd_poisson_glm_rate(Xv + i * p, W + (size_t)j * p, B[j], p);
                    s += Yv[i * q + j] * log(m) - m;
                }
            ll[a] += s;
        }
    }
    if (!st) {
        *best = 0;
        for (int a = 0; a < n_alphas; a++) {
            score[a] = spikes > 0 ? (ll[a] - ll0) / (spikes * log(2.0)) : 0;
            if (score[a] > score[*best] || (score[a] == score[*best] && alphas[a] < alphas[*best])) *best = a;
        }
    }
    nd_free(Xt); nd_free(Xv); nd_free(Yt); nd_free(Yv); nd_free(ll); nd_free(mean); nd_free(mu); nd_free(sd);
    nd_free(W); nd_free(B);
    return st;
}
