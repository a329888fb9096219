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
