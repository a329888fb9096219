#include "regress.h"
#include "metrics.h"
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

nd_status nd_lstsq_r2(const float *Xfit, const float *Yfit, size_t nfit, const float *Xtest, const float *Ytest,
                      size_t ntest, int p, int q, double *r2, nd_error *err) {
    *r2 = NAN;
    if (nfit < (size_t)p + 2) return nd_fail(err, ND_ERR_ARG, "least squares: %zu rows for %d regressors", nfit, p);
    int pc = p + 1;
    double *A = malloc(sizeof(double) * nfit * pc), *B = malloc(sizeof(double) * nfit * q);
    float *pred = malloc(sizeof(float) * (ntest ? ntest : 1) * q);
    nd_status st = ND_OK;
    if (!A || !B || !pred) { st = nd_fail(err, ND_ERR_NOMEM, "least squares: out of memory"); goto done; }
    for (size_t i = 0; i < nfit; i++) {
        for (int j = 0; j < p; j++) A[i * pc + j] = Xfit[i * p + j];
        A[i * pc + p] = 1;
        for (int k = 0; k < q; k++) B[i * q + k] = Yfit[i * q + k];
    }
    lapack_int info = LAPACKE_dgels(LAPACK_ROW_MAJOR, 'N', (lapack_int)nfit, pc, q, A, pc, B, q);
    if (info != 0) { st = nd_fail(err, ND_ERR_NUMERIC, "least squares failed (LAPACK dgels info %d)", (int)info); goto done; }
    for (size_t i = 0; i < ntest; i++)
        for (int k = 0; k < q; k++) {
            double s = B[(size_t)p * q + k];
            for (int j = 0; j < p; j++) s += (double)Xtest[i * p + j] * B[(size_t)j * q + k];
            pred[i * q + k] = (float)s;
        }
    *r2 = nd_r2_score(pred, Ytest, ntest, q);
done:
    free(A);
    free(B);
    free(pred);
    return st;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int nd_pulse_timing(const float *true_u, int U, const float *inferred, int K, int n, int T, int tol, int edge,
                    double *median_abs_offset, double *frac_within, double *mean_signed_offset) {
    double *offs = malloc(sizeof(double) * (n > 0 ? n : 1)), *col = malloc(sizeof(double) * (T > 0 ? T : 1));
    int m = 0;
    double signed_sum = 0;
    if (!offs || !col) { free(offs); free(col); return -1; }
    for (int b = 0; b < n; b++) {
        int tp = -1;
        double best = 0;
        for (int t = 0; t < T; t++)
            for (int k = 0; k < U; k++) {
                double v = fabs(true_u[((size_t)b * T + t) * U + k]);
                if (v > best) { best = v; tp = t; }
            }
        if (tp < 0) continue; /* no pulse in this trial */
        /* deviation of the inferred inputs from their per-trial median, summed over dims */
        double score_best = -1;
        int ti = 0;
        double *dev = calloc((size_t)T, sizeof(double));
        if (!dev) continue;
        for (int k = 0; k < K; k++) {
            for (int t = 0; t < T; t++) col[t] = inferred[((size_t)b * T + t) * K + k];
            qsort(col, (size_t)T, sizeof(double), cmp_double);
            double med = col[T / 2];
            for (int t = 0; t < T; t++) dev[t] += fabs(inferred[((size_t)b * T + t) * K + k] - med);
        }
        int lo = edge < T / 2 ? edge : 0;
        for (int t = lo; t < T - lo; t++)
            if (dev[t] > score_best) { score_best = dev[t]; ti = t; }
        free(dev);
        offs[m++] = (double)(ti - tp);
        signed_sum += ti - tp;
    }
    int within = 0;
    for (int i = 0; i < m; i++) {
        if (fabs(offs[i]) <= tol) within++;
        offs[i] = fabs(offs[i]);
    }
    qsort(offs, (size_t)m, sizeof(double), cmp_double);
    *median_abs_offset = m ? (m % 2 ? offs[m / 2] : 0.5 * (offs[m / 2 - 1] + offs[m / 2])) : NAN;
    *frac_within = m ? (double)within / m : NAN;
    *mean_signed_offset = m ? signed_sum / m : NAN;
    free(offs);
    free(col);
    return m;
}
