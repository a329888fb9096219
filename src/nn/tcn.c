#include "tcn.h"
#include "../core/blas.h"
#include <math.h>
#include <string.h>

static void fill_bias(real *Y, const real *b, size_t rows, int C) {
    for (size_t r = 0; r < rows; r++) {
        real *y = Y + r * C;
        if (b) memcpy(y, b, sizeof(real) * C);
        else memset(y, 0, sizeof(real) * C);
    }
}

static void add_colsum(real *db, const real *dY, size_t rows, int C) {
    for (size_t r = 0; r < rows; r++)
        for (int c = 0; c < C; c++) db[c] += dY[r * C + c];
}

void conv1d_forward(real *Y, const real *X, const real *W, const real *b, int T, int B, int Cin, int Cout, int K) {
    fill_bias(Y, b, (size_t)T * B, Cout);
    for (int k = 0; k < K && k < T; k++) /* tap k: steps k..T-1 of Y from steps 0..T-1-k of X, one GEMM */
        nd_gemm(0, 0, (T - k) * B, Cout, Cin, 1, X, Cin, W + (size_t)k * Cin * Cout, Cout, 1,
                Y + (size_t)k * B * Cout, Cout);
}

void conv1d_backward(real *dX, real *dW, real *db, const real *dY, const real *X, const real *W, int T, int B,
                     int Cin, int Cout, int K) {
    if (db) add_colsum(db, dY, (size_t)T * B, Cout);
    for (int k = 0; k < K && k < T; k++) {
        const real *dYk = dY + (size_t)k * B * Cout;
        nd_gemm(1, 0, Cin, Cout, (T - k) * B, 1, X, Cin, dYk, Cout, 1, dW + (size_t)k * Cin * Cout, Cout);
        if (dX) nd_gemm(0, 1, (T - k) * B, Cin, Cout, 1, dYk, Cout, W + (size_t)k * Cin * Cout, Cout, 1, dX, Cin);
    }
}

void spikeconv_forward(real *Y, const nd_spike_events *ev, const real *W, const real *b, int T, int B, int Cin,
                       int Cout, int K) {
    fill_bias(Y, b, (size_t)T * B, Cout);
    for (size_t e = 0; e < ev->n; e++) {
        int te = ev->t[e], t0 = te < 0 ? 0 : te, t1 = te + K < T ? te + K : T;
        const real *Wc = W + (size_t)ev->c[e] * Cout;
        for (int t = t0; t < t1; t++) { /* tap t - te of channel c */
            const real *w = Wc + (size_t)(t - te) * Cin * Cout;
            real *y = Y + ((size_t)t * B + ev->b[e]) * Cout;
            for (int o = 0; o < Cout; o++) y[o] += w[o];
        }
    }
}

void spikeconv_backward(real *dW, real *db, const real *dY, const nd_spike_events *ev, int T, int B, int Cin,
                        int Cout, int K) {
    if (db) add_colsum(db, dY, (size_t)T * B, Cout);
    for (size_t e = 0; e < ev->n; e++) {
        int te = ev->t[e], t0 = te < 0 ? 0 : te, t1 = te + K < T ? te + K : T;
        real *dWc = dW + (size_t)ev->c[e] * Cout;
        for (int t = t0; t < t1; t++) {
            real *dw = dWc + (size_t)(t - te) * Cin * Cout;
            const real *dy = dY + ((size_t)t * B + ev->b[e]) * Cout;
            for (int o = 0; o < Cout; o++) dw[o] += dy[o];
        }
    }
}

void relu_forward(real *Y, const real *X, size_t n) {
    for (size_t i = 0; i < n; i++) Y[i] = X[i] > 0 ? X[i] : 0;
}

void relu_backward(real *dX, const real *dY, const real *Y, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (Y[i] > 0) dX[i] += dY[i];
}

void layernorm_forward(real *Y, real *mean, real *rstd, const real *X, const real *g, const real *beta, int T, int C) {
    for (int t = 0; t < T; t++) {
        const real *x = X + (size_t)t * C;
        real *y = Y + (size_t)t * C;
        double m = 0, v = 0;
        for (int c = 0; c < C; c++) m += x[c];
        m /= C;
        for (int c = 0; c < C; c++) v += (x[c] - m) * (x[c] - m);
        v /= C;
        real rs = (real)(1 / sqrt(v + ND_LAYERNORM_EPS));
        mean[t] = (real)m;
        rstd[t] = rs;
        for (int c = 0; c < C; c++) y[c] = g[c] * (x[c] - (real)m) * rs + beta[c];
    }
}

void layernorm_backward(real *dX, real *dg, real *dbeta, const real *dY, const real *X, const real *mean,
                        const real *rstd, const real *g, int T, int C) {
    for (int t = 0; t < T; t++) {
        const real *x = X + (size_t)t * C, *dy = dY + (size_t)t * C;
        real *dx = dX + (size_t)t * C;
        const real m = mean[t], rs = rstd[t];
        double s1 = 0, s2 = 0; /* mean of dxhat and of dxhat * xhat */
        for (int c = 0; c < C; c++) {
            real xh = (x[c] - m) * rs, dxh = dy[c] * g[c];
            dg[c] += dy[c] * xh;
            dbeta[c] += dy[c];
            s1 += dxh;
            s2 += dxh * xh;
        }
        s1 /= C;
        s2 /= C;
        for (int c = 0; c < C; c++) {
            real xh = (x[c] - m) * rs;
            dx[c] += rs * (dy[c] * g[c] - (real)s1 - xh * (real)s2);
        }
    }
}

/* softplus(z) = log(1 + exp(z)), computed without overflow */
static double softplus(double z) { return z > 0 ? z + log1p(exp(-z)) : log1p(exp(z)); }

double bce_logits_forward(const real *z, const real *y, const real *w, size_t n) {
    double s = 0;
    for (size_t i = 0; i < n; i++) s += (w ? w[i] : 1) * (softplus(z[i]) - (double)y[i] * z[i]);
    return s;
}

void bce_logits_backward(real *dz, const real *z, const real *y, const real *w, real scale, size_t n) {
    for (size_t i = 0; i < n; i++) dz[i] += scale * (w ? w[i] : 1) * (nd_sigmoid(z[i]) - y[i]);
}

double sqerr_forward(const real *p, const real *y, const real *w, size_t n) {
    double s = 0;
    for (size_t i = 0; i < n; i++) {
        double d = (double)p[i] - y[i];
        s += (w ? w[i] : 1) * d * d;
    }
    return s;
}

void sqerr_backward(real *dp, const real *p, const real *y, const real *w, real scale, size_t n) {
    for (size_t i = 0; i < n; i++) dp[i] += scale * 2 * (w ? w[i] : 1) * (p[i] - y[i]);
}
