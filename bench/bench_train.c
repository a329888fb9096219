/* Training-step throughput of the full LFADS model against this machine's large-sgemm FLOP/s,
 * measured in the same run. Shapes: (a) Lorenz-sized 50 bins x 30 neurons, (b) NLB MC_Maze-sized
 * 140 bins x 182 neurons; model gen 100, con 80, co 4, ic_enc 100, ci_enc 80, ic 100, fac 40,
 * batch 128, coordinated dropout 0.3. FLOPs are the GEMMs' (forward + two backward products),
 * counted analytically; elementwise work is not counted. Usage: bench_train [threads]. */
#include "../include/neurodyn.h"
#include "../src/core/blas.h"
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

static double sgemm_peak(void) {
    int n = 2048;
    real *a = nd_alloc(sizeof(real) * n * n), *b = nd_alloc(sizeof(real) * n * n), *c = nd_alloc(sizeof(real) * n * n);
    for (long i = 0; i < (long)n * n; i++) { a[i] = (real)(i % 7) * 0.1f; b[i] = (real)(i % 5) * 0.1f; }
    nd_gemm(0, 0, n, n, n, 1, a, n, b, n, 0, c, n); /* warm up */
    double best = 0;
    for (int r = 0; r < 3; r++) {
        double t = now();
        nd_gemm(0, 0, n, n, n, 1, a, n, b, n, 0, c, n);
        double g = 2.0 * n * n * (double)n / (now() - t);
        if (g > best) best = g;
    }
    nd_free(a); nd_free(b); nd_free(c);
    return best;
}

static double forward_flops(const nd_lfads_config *c, int T, int B, int N) {
    double Hic = c->ic_enc_dim, Hci = c->ci_enc_dim, C = c->con_dim, K = c->co_dim, G = c->gen_dim, F = c->fac_dim;
    double icd = c->ic_dim, TB = (double)T * B;
    double f = 2 * TB * (2 * N * 3 * Hic + 2 * Hic * 2 * Hic + 2 * Hic * Hic);
    f += 2 * TB * (2 * N * 3 * Hci + 2 * Hci * 2 * Hci + 2 * Hci * Hci);
    f += TB * (2 * (2 * Hci + F) * 3 * C + 2 * C * 2 * C + 2 * C * C + 2 * C * 2 * K);
    f += TB * (2 * K * 3 * G + 2 * G * 2 * G + 2 * G * G + 2 * G * F);
    f += TB * 2 * F * N + B * (2 * 2 * Hic * 2 * icd + 2 * icd * G);
    return f;
}

static void run(const char *name, int T, int N, int trials, double peak) {
    nd_lfads_config c;
    nd_lfads_config_default(&c);
    int B = c.batch_size;
    nd_lfads_model m;
    nd_error err;
    if (nd_lfads_create(&m, &c, N, 0, &err)) { fprintf(stderr, "%s\n", err.msg); exit(1); }
    nd_lfads_init(&m, 1, NULL);
    nd_lfads_work *w;
    if (nd_lfads_work_create(&w, &m, B, T, &err)) { fprintf(stderr, "%s\n", err.msg); exit(1); }
    real *X = nd_alloc(sizeof(real) * T * B * N), *g = nd_alloc(sizeof(real) * m.n_params);
    nd_rng r;
    nd_rng_seed(&r, 2);
    for (long i = 0; i < (long)T * B * N; i++) X[i] = (real)nd_rng_poisson(&r, 0.3);
    nd_lfads_mode mode = {1, 1, 1, 1};
    nd_lfads_loss L;
    nd_lfads_forward(&m, w, X, NULL, NULL, B, &mode, &r, &L); /* warm up */
    nd_lfads_backward(&m, w, g);
    int steps = 0;
    double t0 = now(), t;
    do {
        nd_lfads_forward(&m, w, X, NULL, NULL, B, &mode, &r, &L);
        nd_lfads_backward(&m, w, g);
        steps++;
    } while ((t = now() - t0) < 3.0);
    double step = t / steps, flops = 3 * forward_flops(&c, T, B, N);
    int batches = (trials + B - 1) / B;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("%-34s %8.1f ms/step %8.2f s/epoch (%d trials) %7.1f GFLOP/s = %5.1f%% of sgemm  peak RSS %.0f MB\n", name,
           1e3 * step, step * batches, trials, flops / step / 1e9, 100 * flops / step / peak, ru.ru_maxrss / 1024.0);
    nd_free(X); nd_free(g);
    nd_lfads_work_free(w);
    nd_lfads_free(&m);
}

int main(int argc, char **argv) {
    int threads = argc > 1 ? atoi(argv[1]) : 2;
    omp_set_num_threads(threads);
    nd_blas_set_threads(threads);
    double peak = sgemm_peak();
    printf("threads %d, large sgemm (2048^3): %.1f GFLOP/s\n", threads, peak / 1e9);
    run("(a) Lorenz-sized 50 x 30", 50, 30, 1248, peak);
    run("(b) MC_Maze-sized 140 x 182", 140, 182, 2295, peak);
    return 0;
}
