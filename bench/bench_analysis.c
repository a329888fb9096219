/* Timing of the representation-comparison methods on random data.
 *   bench_analysis [n] [p] [q]      (default 10000 500 500)
 * Y = X M / sqrt(p) + noise, so the scores are not trivial. Prints one line per method:
 * name, seconds (wall clock), value. RBF CKA needs two n x n matrices, so it runs on the
 * first min(n, 5000) samples. Threads: OMP_NUM_THREADS / OPENBLAS_NUM_THREADS. */
#include "../src/analysis/compare.h"
#include "../src/core/mem.h"
#include "../src/core/rng.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

int main(int argc, char **argv) {
    int n = argc > 1 ? atoi(argv[1]) : 10000, p = argc > 2 ? atoi(argv[2]) : 500, q = argc > 3 ? atoi(argv[3]) : 500;
    if (n < 4 || p < 1 || q < 1) { fprintf(stderr, "usage: bench_analysis [n] [p] [q]\n"); return 2; }
    double *X = nd_alloc(sizeof(double) * n * p), *Y = nd_alloc(sizeof(double) * n * q), *M = nd_alloc(sizeof(double) * p * q);
    if (!X || !Y || !M) { fprintf(stderr, "bench_analysis: out of memory\n"); return 1; }
    nd_rng r;
    nd_rng_seed(&r, 1);
    for (size_t i = 0; i < (size_t)n * p; i++) X[i] = nd_rng_normal(&r);
    for (size_t i = 0; i < (size_t)p * q; i++) M[i] = nd_rng_normal(&r) / sqrt(p);
    for (int i = 0; i < n; i++)
        for (int j = 0; j < q; j++) {
            double s = 0;
            for (int k = 0; k < p; k++) s += X[(size_t)i * p + k] * M[(size_t)k * q + j];
            Y[(size_t)i * q + j] = s + nd_rng_normal(&r);
        }
    printf("data: n %d samples, p %d, q %d units (double)\n", n, p, q);
    nd_error err;
    double v, t;
    nd_cca_result c;
    nd_pwcca_result w;
#define TIME(name, call, val)                                                                     \
    do {                                                                                         \
        t = now();                                                                               \
        if ((call) != ND_OK) { fprintf(stderr, "%s: %s\n", name, err.msg); return 1; }          \
        printf("%-22s %8.3f s   value %.6f\n", name, now() - t, (val));                         \
        fflush(stdout);                                                                          \
    } while (0)
    TIME("cka linear", nd_cka_linear(X, Y, n, p, q, &v, &err), v);
    TIME("cka linear debiased", nd_cka_linear_debiased(X, Y, n, p, q, &v, &err), v);
    TIME("cca", nd_cca(X, Y, n, p, q, ND_CCA_EPS_DEFAULT, 0, &c, &err), c.mean);
    nd_cca_free(&c);
    TIME("svcca", nd_svcca(X, Y, n, p, q, ND_SVCCA_KEEP_DEFAULT, ND_CCA_EPS_DEFAULT, 0, &c, &err), c.mean);
    nd_cca_free(&c);
    TIME("pwcca", nd_pwcca(X, Y, n, p, q, ND_CCA_EPS_DEFAULT, ND_PWCCA_INNER, &w, &err), w.pwcca);
    nd_pwcca_free(&w);
    TIME("procrustes alpha 1", nd_shape_distance(X, Y, n, p, q, 1.0, &v, &err), v);
    TIME("procrustes alpha 0.5", nd_shape_distance(X, Y, n, p, q, 0.5, &v, &err), v);
    int m = n < 5000 ? n : 5000;
    char name[64];
    snprintf(name, sizeof name, "cka rbf (n %d)", m);
    TIME(name, nd_cka_rbf(X, Y, m, p, q, 1.0, 0, &v, &err), v);
    nd_free(X); nd_free(Y); nd_free(M);
    return 0;
}
