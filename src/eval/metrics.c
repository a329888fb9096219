#include "metrics.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

double nd_r2_score(const float *pred, const float *truth, size_t rows, int cols) {
    if (rows < 2 || cols < 1 || !pred || !truth) return NAN;
    const size_t C = (size_t)cols;
    double total = 0;
    for (size_t j = 0; j < C; j++) {
        double mean = 0;
        int constant = 1;
        const float first = truth[j];
        for (size_t i = 0; i < rows; i++) {
            float y = truth[i * C + j];
            mean += y;
            if (y != first) constant = 0;
        }
        mean /= (double)rows;
        double ss_res = 0, ss_tot = 0;
        for (size_t i = 0; i < rows; i++) {
            double y = truth[i * C + j], e = y - pred[i * C + j], dy = y - mean;
            ss_res += e * e;
            ss_tot += dy * dy;
        }
        double r2;
        if (constant || ss_tot == 0) r2 = ss_res == 0 ? 1.0 : 0.0;
        else r2 = 1.0 - ss_res / ss_tot;
        total += r2;
    }
    return total / (double)C;
}

double nd_r2_score_3d(const float *pred, const float *truth, int n, int T, int N) {
    if (n < 0 || T < 0) return NAN;
    return nd_r2_score(pred, truth, (size_t)n * (size_t)T, N);
}

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

double nd_r2_affine_3d(const float *pred, const float *truth, int n, int T, int N) {
    size_t rows = (size_t)n * T;
    double sum = 0;
    int used = 0;
    for (int j = 0; j < N; j++) {
        double mp = 0, mt = 0;
        for (size_t r = 0; r < rows; r++) {
            mp += pred[r * N + j];
            mt += truth[r * N + j];
        }
        if (rows == 0) break;
        mp /= (double)rows;
        mt /= (double)rows;
        double spp = 0, stt = 0, spt = 0;
        for (size_t r = 0; r < rows; r++) {
            double a = pred[r * N + j] - mp, b = truth[r * N + j] - mt;
            spp += a * a;
            stt += b * b;
            spt += a * b;
        }
        if (!(spp > 0) || !(stt > 0)) continue;
        sum += spt * spt / (spp * stt);
        used++;
    }
    return used ? sum / used : NAN;
}
