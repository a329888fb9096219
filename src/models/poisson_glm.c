#include "poisson_glm.h"
#include "../core/mem.h"
#include <lapacke.h>
#include <math.h>
#include <omp.h>
#include <string.h>

void nd_glm_opts_default(nd_glm_opts *o) {
    o->alpha = 0.01;
    o->max_iter = 100;
    o->tol = 1e-10;
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
    memset(w, 0, sizeof(double) * (size_t)p);
    if (ysum == 0) { *b = log(1e-9); return ND_OK; }
    int P = p + 1;
    double *th = NULL, *th2 = NULL, *g = NULL, *H = NULL, *dl = NULL, *eta = NULL, *eta2 = NULL;
    nd_status st = ND_ALLOC(th, P, "GLM parameters", err);
    if (!st) st = ND_ALLOC(th2, P, "GLM parameters", err);
    if (!st) st = ND_ALLOC(g, P, "GLM gradient", err);
    if (!st) st = ND_ALLOC(dl, P, "GLM step", err);
    if (!st) st = ND_ALLOC(H, (size_t)P * P, "GLM Hessian", err);
    if (!st) st = ND_ALLOC(eta, n, "GLM linear predictor", err);
    if (!st) st = ND_ALLOC(eta2, n, "GLM linear predictor", err);
    if (st) goto done;
    th[p] = log(ysum / (double)n);
    double f = objective(X, y, n, p, o->alpha, th, eta);
    int it;
    for (it = 0; it < o->max_iter; it++) {
        /* gradient and Hessian (lower triangle, then mirrored) */
        memset(g, 0, sizeof(double) * P);
        memset(H, 0, sizeof(double) * (size_t)P * P);
        for (size_t i = 0; i < n; i++) {
            const double *x = X + i * (size_t)p;
            double mu = exp(eta[i]), r = mu - y[i];
            for (int j = 0; j < p; j++) {
                g[j] += r * x[j];
                double mx = mu * x[j];
                double *h = H + (size_t)j * P;
                for (int k = 0; k <= j; k++) h[k] += mx * x[k];
            }
            g[p] += r;
            double *h = H + (size_t)p * P;
            for (int k = 0; k < p; k++) h[k] += mu * x[k];
            h[p] += mu;
        }
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
    nd_free(th); nd_free(th2); nd_free(g); nd_free(H); nd_free(dl); nd_free(eta); nd_free(eta2);
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
