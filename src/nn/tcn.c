#include "tcn.h"
#include "../core/blas.h"
#include <math.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

/* Threads split work by output channels (or rows where every element is independent), never inside a sum: each
 * element is accumulated in the same order for any thread count, so results are the same bits. */
enum { SLICE = 16, PAR_MIN = 1 << 15 }; /* channels per slice unit; below PAR_MIN elements, one thread */

/* the channels [*c0, *c1) of C that the calling OpenMP thread owns */
static void thread_channels(int C, int *c0, int *c1) {
#ifdef _OPENMP
    int nt = omp_get_num_threads(), id = omp_get_thread_num();
#else
    int nt = 1, id = 0;
#endif
    int units = (C + SLICE - 1) / SLICE, per = (units + nt - 1) / nt;
    long a = (long)id * per * SLICE, b = a + (long)per * SLICE;
    *c0 = (int)(a < C ? a : C);
    *c1 = (int)(b < C ? b : C);
}

/* the rows [*r0, *r1) of n that the calling OpenMP thread owns */
static void thread_rows(size_t n, size_t *r0, size_t *r1) {
#ifdef _OPENMP
    size_t nt = (size_t)omp_get_num_threads(), id = (size_t)omp_get_thread_num();
#else
    size_t nt = 1, id = 0;
#endif
    size_t per = (n + nt - 1) / nt, a = id * per;
    *r0 = a < n ? a : n;
    *r1 = a + per < n ? a + per : n;
}

static void fill_bias(real *Y, const real *b, size_t rows, int C) {
    #pragma omp parallel for schedule(static) if (rows * C >= PAR_MIN)
    for (size_t r = 0; r < rows; r++) {
        real *y = Y + r * C;
        if (b) memcpy(y, b, sizeof(real) * C);
        else memset(y, 0, sizeof(real) * C);
    }
}

static void add_colsum(real *db, const real *dY, size_t rows, int C) {
    #pragma omp parallel if (rows * C >= PAR_MIN)
    {
        int c0, c1;
        thread_channels(C, &c0, &c1);
        for (size_t r = 0; r < rows; r++)
            for (int c = c0; c < c1; c++) db[c] += dY[r * C + c];
    }
}

/* Threads take blocks of rows of Y (and of dX), and slices of output channels of dW; each calls a single-threaded
 * GEMM per tap on its block (the callers set OpenBLAS to one thread), so OpenBLAS's and OpenMP's thread pools do
 * not compete for the cores. With one thread the calls are the whole-matrix products. */
void conv1d_forward(real *Y, const real *X, const real *W, const real *b, int T, int B, int Cin, int Cout, int K) {
    const size_t rows = (size_t)T * B;
    fill_bias(Y, b, rows, Cout);
    #pragma omp parallel if (rows * Cout >= PAR_MIN)
    {
        size_t r0, r1;
        thread_rows(rows, &r0, &r1);
        for (int k = 0; k < K && k < T; k++) { /* tap k: rows t >= k of Y from rows t - k of X */
            size_t shift = (size_t)k * B, lo = r0 > shift ? r0 : shift;
            if (lo < r1)
                nd_gemm(0, 0, (int)(r1 - lo), Cout, Cin, 1, X + (lo - shift) * Cin, Cin, W + (size_t)k * Cin * Cout,
                        Cout, 1, Y + lo * Cout, Cout);
        }
    }
}

void conv1d_backward(real *dX, real *dW, real *db, const real *dY, const real *X, const real *W, int T, int B,
                     int Cin, int Cout, int K) {
    const size_t rows = (size_t)T * B;
    if (db) add_colsum(db, dY, rows, Cout);
    #pragma omp parallel if (rows * Cout >= PAR_MIN)
    {
        int c0, c1;
        size_t r0, r1;
        thread_channels(Cout, &c0, &c1);
        thread_rows(rows, &r0, &r1);
        for (int k = 0; k < K && k < T; k++) {
            const size_t shift = (size_t)k * B, m = rows - shift; /* rows of dY_k = rows t >= k of dY */
            const real *dYk = dY + shift * Cout, *Wk = W + (size_t)k * Cin * Cout;
            if (c0 < c1)
                nd_gemm(1, 0, Cin, c1 - c0, (int)m, 1, X, Cin, dYk + c0, Cout, 1, dW + (size_t)k * Cin * Cout + c0, Cout);
            size_t hi = r1 < m ? r1 : m;
            if (dX && r0 < hi)
                nd_gemm(0, 1, (int)(hi - r0), Cin, Cout, 1, dYk + r0 * Cout, Cout, Wk, Cout, 1, dX + r0 * Cin, Cin);
        }
    }
}

/* The row kernels below are also compiled for AVX2 and AVX-512 (chosen at load time, like OpenBLAS's kernels), so
 * the portable build runs them at the CPU's vector width. They are element-wise or sum each channel over rows in
 * order, and C11 mode contracts no multiply-adds: every variant gives the same bits. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__) && !defined(__SANITIZE_ADDRESS__)
#define ROW_KERNEL __attribute__((target_clones("avx512f", "avx2", "default"), noinline))
#else
#define ROW_KERNEL
#endif

/* Y rows += the taps of W for every event, channels [o0, o1) */
ROW_KERNEL static void events_scatter(real *Y, const real *W, const nd_spike_events *ev, int T, int B, int Cin,
                                      int Cout, int K, int o0, int o1) {
    for (size_t e = 0; e < ev->n; e++) {
        int te = ev->t[e], t0 = te < 0 ? 0 : te, t1 = te + K < T ? te + K : T;
        const real *Wc = W + (size_t)ev->c[e] * Cout;
        for (int t = t0; t < t1; t++) { /* tap t - te of channel c */
            const real *w = Wc + (size_t)(t - te) * Cin * Cout;
            real *y = Y + ((size_t)t * B + ev->b[e]) * Cout;
            for (int o = o0; o < o1; o++) y[o] += w[o];
        }
    }
}

/* the taps of dW += the rows of dY every event reaches, channels [o0, o1) */
ROW_KERNEL static void events_gather(real *dW, const real *dY, const nd_spike_events *ev, int T, int B, int Cin,
                                     int Cout, int K, int o0, int o1) {
    for (size_t e = 0; e < ev->n; e++) {
        int te = ev->t[e], t0 = te < 0 ? 0 : te, t1 = te + K < T ? te + K : T;
        real *dWc = dW + (size_t)ev->c[e] * Cout;
        for (int t = t0; t < t1; t++) {
            real *dw = dWc + (size_t)(t - te) * Cin * Cout;
            const real *dy = dY + ((size_t)t * B + ev->b[e]) * Cout;
            for (int o = o0; o < o1; o++) dw[o] += dy[o];
        }
    }
}

void spikeconv_forward(real *Y, const nd_spike_events *ev, const real *W, const real *b, int T, int B, int Cin,
                       int Cout, int K) {
    fill_bias(Y, b, (size_t)T * B, Cout);
    #pragma omp parallel if (ev->n * (size_t)K * Cout >= PAR_MIN)
    {
        int o0, o1;
        thread_channels(Cout, &o0, &o1);
        if (o0 < o1) events_scatter(Y, W, ev, T, B, Cin, Cout, K, o0, o1);
    }
}

void spikeconv_backward(real *dW, real *db, const real *dY, const nd_spike_events *ev, int T, int B, int Cin,
                        int Cout, int K) {
    if (db) add_colsum(db, dY, (size_t)T * B, Cout);
    #pragma omp parallel if (ev->n * (size_t)K * Cout >= PAR_MIN)
    {
        int o0, o1;
        thread_channels(Cout, &o0, &o1);
        if (o0 < o1) events_gather(dW, dY, ev, T, B, Cin, Cout, K, o0, o1);
    }
}

/* acc[c - c0] += sum over rows of X (or of relu(Z), then also stored in X) for channels [c0, c1) */
ROW_KERNEL static void rows_sum(double *acc, real *X, const real *Z, size_t rows, int C, int c0, int c1) {
    for (size_t r = 0; r < rows; r++) {
        real *x = X + r * C;
        if (Z) {
            const real *z = Z + r * C;
            for (int c = c0; c < c1; c++) x[c] = z[c] > 0 ? z[c] : 0;
        }
        for (int c = c0; c < c1; c++) acc[c - c0] += x[c];
    }
}

ROW_KERNEL static void rows_sqdev(double *acc, const real *X, const double *mu, size_t rows, int C, int c0, int c1) {
    for (size_t r = 0; r < rows; r++)
        for (int c = c0; c < c1; c++) {
            double d = X[r * C + c] - mu[c - c0];
            acc[c - c0] += d * d;
        }
}

/* Y = g (X - mean) rstd + beta for rows [r0, r1) */
ROW_KERNEL static void rows_normalise(real *Y, const real *X, const real *g, const real *beta, const real *mean,
                                      const real *rstd, size_t r0, size_t r1, int C) {
    for (size_t r = r0; r < r1; r++)
        for (int c = 0; c < C; c++) Y[r * C + c] = g[c] * (X[r * C + c] - mean[c]) * rstd[c] + beta[c];
}

/* the backward's sums for channels [c0, c1): s1 = sum dY, s2 = sum dY xhat (dbeta and dg; times g, the sums of
 * dxhat and dxhat xhat) */
ROW_KERNEL static void rows_bn_sums(double *s1, double *s2, const real *dY, const real *X, const real *mean,
                                   const real *rstd, size_t rows, int C, int c0, int c1) {
    for (size_t r = 0; r < rows; r++)
        for (int c = c0; c < c1; c++) {
            real xh = (X[r * C + c] - mean[c]) * rstd[c], dy = dY[r * C + c];
            s1[c - c0] += dy;
            s2[c - c0] += dy * xh;
        }
}

/* dX (+)= rstd (dY g - m1 - xhat m2) for rows [r0, r1); relu_mask: dX = that where X > 0, else 0 (overwrites) */
ROW_KERNEL static void rows_bn_dx(real *dX, const real *dY, const real *X, const real *mean, const real *rstd,
                                  const real *g, const real *m1, const real *m2, int relu_mask, size_t r0, size_t r1,
                                  int C) {
    for (size_t r = r0; r < r1; r++)
        for (int c = 0; c < C; c++) {
            size_t i = r * C + c;
            real xh = (X[i] - mean[c]) * rstd[c], v = rstd[c] * (dY[i] * g[c] - m1[c] - xh * m2[c]);
            if (relu_mask) dX[i] = X[i] > 0 ? v : 0;
            else dX[i] += v;
        }
}

ROW_KERNEL static void rows_relu(real *Y, const real *X, size_t n) {
    for (size_t i = 0; i < n; i++) Y[i] = X[i] > 0 ? X[i] : 0;
}

ROW_KERNEL static void rows_relu_backward(real *dX, const real *dY, const real *Y, size_t n) {
    for (size_t i = 0; i < n; i++) dX[i] += Y[i] > 0 ? dY[i] : 0; /* branch-free, so it vectorises */
}

void relu_forward(real *Y, const real *X, size_t n) {
    #pragma omp parallel if (n >= PAR_MIN)
    {
        size_t i0, i1;
        thread_rows(n, &i0, &i1);
        rows_relu(Y + i0, X + i0, i1 - i0);
    }
}

void relu_backward(real *dX, const real *dY, const real *Y, size_t n) {
    #pragma omp parallel if (n >= PAR_MIN)
    {
        size_t i0, i1;
        thread_rows(n, &i0, &i1);
        rows_relu_backward(dX + i0, dY + i0, Y + i0, i1 - i0);
    }
}

/* The batch-norm passes run along rows with one accumulator per channel, so memory is read in order (a pass per
 * channel strides by C and re-reads the whole activation C times); threads own slices of channels for the sums and
 * rows for the element-wise passes. Each channel's sums still add the rows in order: the same bits for any thread
 * count, and as the per-channel loops gave. With Z, X = relu(Z) is computed in the first pass. */
static void bn_train(real *Y, real *mean, real *rstd, real *X, const real *Z, const real *g, const real *beta,
                     size_t rows, int C) {
    #pragma omp parallel if (rows * C >= PAR_MIN)
    {
        int c0, c1;
        size_t r0, r1;
        thread_channels(C, &c0, &c1);
        thread_rows(rows, &r0, &r1);
        const int nc = c1 > c0 ? c1 - c0 : 1;
        double mu[nc], acc[nc];
        for (int c = c0; c < c1; c++) acc[c - c0] = 0;
        rows_sum(acc, X, Z, rows, C, c0, c1);
        for (int c = c0; c < c1; c++) { mu[c - c0] = acc[c - c0] / rows; acc[c - c0] = 0; }
        rows_sqdev(acc, X, mu, rows, C, c0, c1);
        for (int c = c0; c < c1; c++) {
            mean[c] = (real)mu[c - c0];
            rstd[c] = (real)(1 / sqrt(acc[c - c0] / rows + ND_BATCHNORM_EPS));
        }
        #pragma omp barrier
        rows_normalise(Y, X, g, beta, mean, rstd, r0, r1, C);
    }
}

void batchnorm_forward_train(real *Y, real *mean, real *rstd, const real *X, const real *g, const real *beta,
                             size_t rows, int C) {
    bn_train(Y, mean, rstd, (real *)X, NULL, g, beta, rows, C); /* X is only read without Z */
}

void relu_batchnorm_forward_train(real *A, real *Y, real *mean, real *rstd, const real *Z, const real *g,
                                  const real *beta, size_t rows, int C) {
    bn_train(Y, mean, rstd, A, Z, g, beta, rows, C);
}

void batchnorm_forward_eval(real *Y, const real *X, const real *g, const real *beta, const real *run_mean,
                            const real *run_var, size_t rows, int C) {
    #pragma omp parallel for schedule(static) if (rows * C >= PAR_MIN)
    for (size_t r = 0; r < rows; r++)
        for (int c = 0; c < C; c++)
            Y[r * C + c] = g[c] * (X[r * C + c] - run_mean[c]) / RSQRT(run_var[c] + (real)ND_BATCHNORM_EPS) + beta[c];
}

static void bn_backward(real *dX, real *dg, real *dbeta, const real *dY, const real *X, const real *mean,
                        const real *rstd, const real *g, size_t rows, int C, int relu_mask) {
    real m1[C > 0 ? C : 1], m2[C > 0 ? C : 1]; /* per channel: the means of dxhat and dxhat * xhat */
    #pragma omp parallel if (rows * C >= PAR_MIN)
    {
        int c0, c1;
        size_t r0, r1;
        thread_channels(C, &c0, &c1);
        thread_rows(rows, &r0, &r1);
        const int nc = c1 > c0 ? c1 - c0 : 1;
        double s1[nc], s2[nc];
        for (int c = c0; c < c1; c++) s1[c - c0] = s2[c - c0] = 0;
        rows_bn_sums(s1, s2, dY, X, mean, rstd, rows, C, c0, c1);
        for (int c = c0; c < c1; c++) {
            dbeta[c] += (real)s1[c - c0];
            dg[c] += (real)s2[c - c0];
            m1[c] = (real)(g[c] * s1[c - c0] / rows);
            m2[c] = (real)(g[c] * s2[c - c0] / rows);
        }
        #pragma omp barrier
        rows_bn_dx(dX, dY, X, mean, rstd, g, m1, m2, relu_mask, r0, r1, C);
    }
}

void batchnorm_backward(real *dX, real *dg, real *dbeta, const real *dY, const real *X, const real *mean,
                        const real *rstd, const real *g, size_t rows, int C) {
    bn_backward(dX, dg, dbeta, dY, X, mean, rstd, g, rows, C, 0);
}

void batchnorm_relu_backward(real *dZ, real *dg, real *dbeta, const real *dY, const real *A, const real *mean,
                             const real *rstd, const real *g, size_t rows, int C) {
    bn_backward(dZ, dg, dbeta, dY, A, mean, rstd, g, rows, C, 1);
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
