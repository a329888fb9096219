/* Likelihood, KL and L2 terms. Sums are accumulated in double. */
#include "layers.h"
#include "../core/vmath.h"
#include <math.h>

void poisson_nll_sums(double *out, int K, const real *const *w, const real *lr, const real *x, size_t n,
                      const double *lgam, int nlgam) {
    double s[3] = {0, 0, 0};
    for (size_t i = 0; i < n; i++) {
        real wk[3] = {0, 0, 0};
        int any = 0;
        for (int k = 0; k < K; k++) {
            wk[k] = w[k] ? w[k][i] : 1;
            any |= wk[k] != 0;
        }
        if (!any) continue;
        real xi = x[i], li = lr[i];
        double lg = (lgam && xi >= 0 && xi < nlgam && (real)(int)xi == xi) ? lgam[(int)xi] : lgamma((double)xi + 1);
        double v = (double)nd_vexp(li) - (double)xi * li + lg;
        for (int k = 0; k < K; k++)
            if (wk[k] != 0) s[k] += wk[k] * v;
    }
    for (int k = 0; k < K; k++) out[k] = s[k];
}

double poisson_nll_forward(const real *lr, const real *x, const real *w, size_t n) {
    double s;
    poisson_nll_sums(&s, 1, &w, lr, x, n, NULL, 0);
    return s;
}

void poisson_nll_backward(real *dlr, const real *lr, const real *x, const real *gmask, real scale, size_t n) {
    if (!gmask) {
        #pragma omp simd
        for (size_t i = 0; i < n; i++) dlr[i] = scale * (nd_vexp(lr[i]) - x[i]);
        return;
    }
    #pragma omp simd
    for (size_t i = 0; i < n; i++) {
        real e = nd_vexp(lr[i]);
        dlr[i] = gmask[i] != 0 ? scale * gmask[i] * (e - x[i]) : 0;
    }
}

double kl_gauss_forward(const real *mu, const real *lv, const real *pm, real pv, real vmin, int B, int D) {
    double s = 0, lpv = log((double)pv);
    for (int b = 0; b < B; b++)
        for (int d = 0; d < D; d++) {
            double vq = exp((double)lv[(size_t)b * D + d]) + vmin;
            double dm = (double)mu[(size_t)b * D + d] - pm[d];
            s += 0.5 * (lpv - log(vq) + (vq + dm * dm) / pv - 1);
        }
    return s;
}

void kl_gauss_backward(real *dmu, real *dlv, real *dpm, const real *mu, const real *lv, const real *pm, real pv,
                       real vmin, real scale, int B, int D) {
    for (int b = 0; b < B; b++)
        for (int d = 0; d < D; d++) {
            size_t i = (size_t)b * D + d;
            double e = exp((double)lv[i]), vq = e + vmin, dm = (double)mu[i] - pm[d];
            if (dmu) dmu[i] += (real)(scale * dm / pv);
            if (dpm) dpm[d] -= (real)(scale * dm / pv);
            /* d/dlv of 0.5(-log vq + vq/pv) = 0.5 e (1/pv - 1/vq) */
            if (dlv) dlv[i] += (real)(scale * 0.5 * e * (1 / (double)pv - 1 / vq));
        }
}

/* log N(u; m, v) without the 2pi term (it cancels in the KL) */
static inline double half_logn(double u, double m, double lv) {
    double d = u - m;
    return -0.5 * (lv + d * d * exp(-lv));
}

double kl_ar1_forward(const real *u, const real *mu, const real *lv, const real *logtau, const real *lognvar,
                      int T, int B, int K) {
    double s = 0;
    for (int k = 0; k < K; k++) {
        double alpha = exp(-exp(-(double)logtau[k])), lnv = lognvar[k];
        double lpv0 = lnv - log1p(-alpha * alpha); /* log stationary variance */
        for (int b = 0; b < B; b++)
            for (int t = 0; t < T; t++) {
                size_t i = ((size_t)t * B + b) * K + k;
                double lq = half_logn(u[i], mu[i], lv[i]);
                double lp = t == 0 ? half_logn(u[i], 0, lpv0)
                                   : half_logn(u[i], alpha * u[((size_t)(t - 1) * B + b) * K + k], lnv);
                s += lq - lp;
            }
    }
    return s;
}

void kl_ar1_backward(real *du, real *dmu, real *dlv, real *dlogtau, real *dlognvar, const real *u,
                     const real *mu, const real *lv, const real *logtau, const real *lognvar, real scale, int T,
                     int B, int K) {
    for (int k = 0; k < K; k++) {
        double tau = exp((double)logtau[k]);
        double alpha = exp(-1 / tau), lnv = lognvar[k], nvar = exp(lnv);
        double one_m_a2 = 1 - alpha * alpha;
        double pv0 = nvar / one_m_a2;
        double dalpha_dlogtau = alpha / tau; /* d/dlogtau exp(-exp(-logtau)) */
        double g_alpha = 0, g_lnv = 0;
        for (int b = 0; b < B; b++)
            for (int t = 0; t < T; t++) {
                size_t i = ((size_t)t * B + b) * K + k;
                double ui = u[i], vq = exp((double)lv[i]), dq = ui - mu[i];
                /* + log q */
                double gu = -dq / vq;
                if (dmu) dmu[i] += (real)(scale * dq / vq);
                if (dlv) dlv[i] += (real)(scale * (-0.5 + 0.5 * dq * dq / vq));
                /* - log p */
                if (t == 0) {
                    gu += ui / pv0;
                    /* -log p = 0.5 (log pv0 + u^2/pv0); d/dlog pv0 = 0.5 (1 - u^2/pv0) */
                    double dlpv0 = 0.5 * (1 - ui * ui / pv0);
                    g_lnv += dlpv0;
                    /* log pv0 = lnv - log(1-a^2): d/dalpha = 2a/(1-a^2) */
                    g_alpha += dlpv0 * 2 * alpha / one_m_a2;
                } else {
                    size_t ip = ((size_t)(t - 1) * B + b) * K + k;
                    double e = ui - alpha * u[ip];
                    gu += e / nvar;
                    if (du) du[ip] += (real)(scale * (-alpha * e / nvar));
                    g_alpha += -e * u[ip] / nvar;
                    g_lnv += 0.5 * (1 - e * e / nvar);
                }
                if (du) du[i] += (real)(scale * gu);
            }
        if (dlogtau) dlogtau[k] += (real)(scale * g_alpha * dalpha_dlogtau);
        if (dlognvar) dlognvar[k] += (real)(scale * g_lnv);
    }
}

double kl_gauss_sampled_forward(const real *u, const real *mu, const real *lv, real pv, size_t n) {
    double s = 0, lpv = log((double)pv);
    for (size_t i = 0; i < n; i++) s += half_logn(u[i], mu[i], lv[i]) - half_logn(u[i], 0, lpv);
    return s;
}

void kl_gauss_sampled_backward(real *du, real *dmu, real *dlv, const real *u, const real *mu, const real *lv,
                               real pv, real scale, size_t n) {
    for (size_t i = 0; i < n; i++) {
        double vq = exp((double)lv[i]), dq = (double)u[i] - mu[i];
        if (du) du[i] += (real)(scale * (-dq / vq + u[i] / (double)pv));
        if (dmu) dmu[i] += (real)(scale * dq / vq);
        if (dlv) dlv[i] += (real)(scale * (-0.5 + 0.5 * dq * dq / vq));
    }
}

double l2_forward(const real *U, size_t n, real scale, size_t numel) {
    double s = 0;
    for (size_t i = 0; i < n; i++) s += (double)U[i] * U[i];
    return 0.5 * scale * s / (double)numel;
}

void l2_backward(real *dU, const real *U, size_t n, real scale, size_t numel) {
    real c = scale / (real)numel;
    for (size_t i = 0; i < n; i++) dU[i] += c * U[i];
}
