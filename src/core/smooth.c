#include "smooth.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

void nd_smooth_gaussian(float *out, const float *counts, int n, int T, int N, double sigma_bins) {
    if (n <= 0 || T <= 0 || N <= 0) return;
    size_t total = (size_t)n * T * N;
    if (!(sigma_bins > 0) || !isfinite(sigma_bins)) {
        memcpy(out, counts, total * sizeof *out);
        return;
    }
    int half = (int)ceil(3.0 * sigma_bins);
    if (half > T - 1) half = T - 1; /* taps beyond the trial never contribute */
    double *w = malloc((size_t)(half + 1) * sizeof *w);
    double *acc = malloc((size_t)N * sizeof *acc);
    if (!w || !acc) { /* cannot fail loudly here: fall back to an exact (slower) path */
        free(w);
        free(acc);
        for (int b = 0; b < n; b++)
            for (int t = 0; t < T; t++)
                for (int j = 0; j < N; j++) {
                    double s = 0, ws = 0;
                    for (int k = -half; k <= half; k++) {
                        int u = t + k;
                        if (u < 0 || u >= T) continue;
                        double wk = exp(-(double)k * k / (2 * sigma_bins * sigma_bins));
                        s += wk * counts[((size_t)b * T + u) * N + j];
                        ws += wk;
                    }
                    out[((size_t)b * T + t) * N + j] = (float)(s / ws);
                }
        return;
    }
    for (int k = 0; k <= half; k++) w[k] = exp(-(double)k * k / (2 * sigma_bins * sigma_bins));
    for (int b = 0; b < n; b++) {
        const float *x = counts + (size_t)b * T * N;
        float *y = out + (size_t)b * T * N;
        for (int t = 0; t < T; t++) {
            int k0 = t - half < 0 ? -t : -half, k1 = t + half >= T ? T - 1 - t : half;
            double ws = 0;
            for (int j = 0; j < N; j++) acc[j] = 0;
            for (int k = k0; k <= k1; k++) {
                double wk = w[k < 0 ? -k : k];
                const float *xr = x + (size_t)(t + k) * N;
                ws += wk;
                for (int j = 0; j < N; j++) acc[j] += wk * xr[j];
            }
            for (int j = 0; j < N; j++) y[(size_t)t * N + j] = (float)(acc[j] / ws);
        }
    }
    free(w);
    free(acc);
}

void nd_smooth_gaussian_d(double *out, const double *x, int n, int T, int N, double sigma_bins) {
    if (n <= 0 || T <= 0 || N <= 0) return;
    if (!(sigma_bins > 0) || !isfinite(sigma_bins)) {
        memcpy(out, x, (size_t)n * T * N * sizeof *out);
        return;
    }
    int half = (int)ceil(3.0 * sigma_bins);
    if (half > T - 1) half = T - 1;
    for (int b = 0; b < n; b++)
        for (int t = 0; t < T; t++) {
            double *y = out + ((size_t)b * T + t) * N, ws = 0;
            for (int j = 0; j < N; j++) y[j] = 0;
            for (int k = -half; k <= half; k++) {
                int u = t + k;
                if (u < 0 || u >= T) continue;
                double wk = exp(-(double)k * k / (2 * sigma_bins * sigma_bins));
                const double *xr = x + ((size_t)b * T + u) * N;
                ws += wk;
                for (int j = 0; j < N; j++) y[j] += wk * xr[j];
            }
            for (int j = 0; j < N; j++) y[j] /= ws;
        }
}
