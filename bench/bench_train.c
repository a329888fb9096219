/* neurodyn's side of `make bench` (bench/run_bench.py runs it interleaved with bench/torch_lfads.py).
 * Every command prints one `RESULT key=value ...` line.
 *
 *   bench_train sgemm THREADS                     large-sgemm (2048^3) FLOP/s, the reference for efficiency
 *   bench_train data PATH T N n                   synthetic spike counts, uint8 [n][T][N], for both sides
 *   bench_train train PATH T N n THREADS STEPS [B GEN]
 *                                                 training steps (forward + backward + Adam) of the full LFADS
 *                                                 model; PATH "-" makes the data in memory. Reports the median
 *                                                 step, the epoch time it implies, the analytic FLOPs per step
 *                                                 and the peak resident memory.
 *   bench_train infer PATH T N n THREADS SAMPLES  posterior sample-and-average throughput (trials/s)
 *
 * Model: gen 100, con 80, co 4, ic_enc 100, ci_enc 80, ic 100, fac 40, batch 128, coordinated dropout 0.3,
 * dropout 0.05, posterior sampling on (the defaults of nd_lfads_config_default). */
#include "../src/neurodyn_internal.h"
#include "../src/core/blas.h"
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

static double cpu_now(void) { /* CPU time of the whole process (all threads) */
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

static double peak_rss_mb(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss / 1024.0;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n) {
    qsort(v, n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* as the trainer does: OpenMP threads over batch rows, single-threaded BLAS inside them */
static void set_threads(int threads) {
    omp_set_num_threads(threads);
    nd_blas_set_threads(1);
}

static int sgemm(int threads) {
    nd_blas_set_threads(threads);
    int n = 2048;
    real *a = nd_alloc(sizeof(real) * n * n), *b = nd_alloc(sizeof(real) * n * n), *c = nd_alloc(sizeof(real) * n * n);
    for (long i = 0; i < (long)n * n; i++) { a[i] = (real)(i % 7) * 0.1f; b[i] = (real)(i % 5) * 0.1f; }
    nd_gemm(0, 0, n, n, n, 1, a, n, b, n, 0, c, n); /* warm up */
    double best = 0;
    for (int r = 0; r < 5; r++) {
        double t = now();
        nd_gemm(0, 0, n, n, n, 1, a, n, b, n, 0, c, n);
        double g = 2.0 * n * n * (double)n / (now() - t);
        if (g > best) best = g;
    }
    nd_free(a); nd_free(b); nd_free(c);
    printf("RESULT kind=sgemm threads=%d gflops=%.2f\n", threads, best / 1e9);
    return 0;
}

/* Poisson counts with a per-neuron rate between 0.05 and 0.55 per bin */
static void make_counts(unsigned char *d, int T, int N, int n) {
    nd_rng r;
    nd_rng_seed(&r, 2024);
    for (size_t i = 0; i < (size_t)n * T * N; i++) {
        unsigned k = nd_rng_poisson(&r, 0.05 + 0.5 * (double)((i % N) * 37 % N) / N);
        d[i] = (unsigned char)(k > 255 ? 255 : k);
    }
}

static float *load_counts(const char *path, int T, int N, int n) {
    size_t len = (size_t)n * T * N;
    unsigned char *d = malloc(len);
    float *x = nd_alloc(sizeof(float) * len); /* held as float, like the trainer holds a dataset */
    if (!d || !x) { fprintf(stderr, "bench_train: out of memory\n"); exit(1); }
    if (strcmp(path, "-") == 0) make_counts(d, T, N, n);
    else {
        FILE *f = fopen(path, "rb");
        if (!f || fread(d, 1, len, f) != len) { fprintf(stderr, "bench_train: cannot read %zu bytes from %s\n", len, path); exit(1); }
        fclose(f);
    }
    for (size_t i = 0; i < len; i++) x[i] = d[i];
    free(d);
    return x;
}

static int write_data(const char *path, int T, int N, int n) {
    size_t len = (size_t)n * T * N;
    unsigned char *d = malloc(len);
    if (!d) return 1;
    make_counts(d, T, N, n);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(d, 1, len, f) != len || fclose(f) != 0) { perror(path); free(d); return 1; }
    free(d);
    printf("RESULT kind=data path=%s T=%d N=%d n=%d\n", path, T, N, n);
    return 0;
}

/* Analytic FLOPs of one training step (forward + backward). GEMMs: 2 M N K per product; the backward of
 * every product is two products of the same size (input and weight gradients). Elementwise: one FLOP per
 * add, multiply, compare or transcendental, counted per GRU unit and step (forward 14, backward 22) and per
 * read-out entry (Poisson NLL and its gradient 8, coordinated-dropout masks 3). */
static double step_flops(const nd_lfads_config *c, int T, int B, int N) {
    double Hic = c->ic_enc_dim, Hci = c->ci_enc_dim, C = c->con_dim, K = c->co_dim, G = c->gen_dim, F = c->fac_dim;
    double icd = c->ic_dim, TB = (double)T * B;
    double f = 2 * TB * (2 * N * 3 * Hic + 2 * Hic * 2 * Hic + 2 * Hic * Hic);
    f += 2 * TB * (2 * N * 3 * Hci + 2 * Hci * 2 * Hci + 2 * Hci * Hci);
    f += TB * (2 * (2 * Hci + F) * 3 * C + 2 * C * 2 * C + 2 * C * C + 2 * C * 2 * K);
    f += TB * (2 * K * 3 * G + 2 * G * 2 * G + 2 * G * G + 2 * G * F);
    f += TB * 2 * F * N + B * (2 * 2 * Hic * 2 * icd + 2 * icd * G);
    double gemm = 3 * f;
    double units = TB * (2 * Hic + 2 * Hci + C + G);
    double elem = units * (14 + 22) + TB * N * (8 + 3);
    return gemm + elem;
}

typedef struct {
    nd_lfads_model m;
    nd_lfads_config c;
    float *data;
    int T, N, n;
} bench_model;

static void setup(bench_model *bm, const char *path, int T, int N, int n, int B, int G) {
    nd_lfads_config_default(&bm->c);
    if (B > 0) bm->c.batch_size = B;
    if (G > 0) bm->c.gen_dim = G;
    nd_error err;
    if (nd_lfads_create(&bm->m, &bm->c, N, 0, &err)) { fprintf(stderr, "%s\n", err.msg); exit(1); }
    nd_lfads_init(&bm->m, 1, NULL);
    bm->data = load_counts(path, T, N, n);
    bm->T = T; bm->N = N; bm->n = n;
}

static void gather(real *X, const bench_model *bm, const int *idx, int B) {
    int T = bm->T, N = bm->N;
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++) {
            const float *s = bm->data + ((size_t)idx[b] * T + t) * N;
            real *d = X + ((size_t)t * B + b) * N;
            for (int i = 0; i < N; i++) d[i] = s[i];
        }
}

static int train(const char *path, int T, int N, int n, int threads, int steps, int Bopt, int Gopt) {
    set_threads(threads);
    bench_model bm;
    setup(&bm, path, T, N, n, Bopt, Gopt);
    nd_lfads_model *m = &bm.m;
    int B = bm.c.batch_size;
    nd_lfads_work *w;
    nd_error err;
    if (nd_lfads_work_create(&w, m, B, T, &err)) { fprintf(stderr, "%s\n", err.msg); return 1; }
    size_t np = m->n_params;
    real *X = nd_alloc(sizeof(real) * T * B * N), *g = nd_alloc(sizeof(real) * np);
    real *am = nd_alloc(sizeof(real) * np), *av = nd_alloc(sizeof(real) * np);
    int *idx = malloc(sizeof(int) * n);
    nd_rng r;
    nd_rng_seed(&r, 3);
    for (int i = 0; i < n; i++) idx[i] = i;
    nd_rng_shuffle(&r, idx, n);
    int nb = (n + B - 1) / B;
    double *times = malloc(sizeof(double) * steps);
    nd_lfads_mode mode = {1, 1, 1, 1, 0};
    double cpu0 = 0;
    for (int k = -1; k < steps; k++) { /* step -1 warms up */
        if (k == 0) cpu0 = cpu_now();
        int kb = (k < 0 ? 0 : k) % nb, Bk = n - kb * B < B ? n - kb * B : B;
        double t0 = now();
        gather(X, &bm, idx + (size_t)kb * B, Bk);
        nd_lfads_loss L;
        memset(g, 0, sizeof(real) * np);
        nd_lfads_forward(m, w, X, NULL, NULL, Bk, &mode, &r, &L);
        nd_lfads_backward(m, w, g);
        /* Adam with a global-norm clip, as the trainer does */
        double ss = 0;
        for (size_t i = 0; i < np; i++) ss += (double)g[i] * g[i];
        real cf = (real)(sqrt(ss) > 200 ? 200 / sqrt(ss) : 1), lr = (real)0.004;
        #pragma omp parallel for schedule(static)
        for (size_t i = 0; i < np; i++) {
            real gi = g[i] * cf;
            am[i] = (real)0.9 * am[i] + (real)0.1 * gi;
            av[i] = (real)0.999 * av[i] + (real)0.001 * gi * gi;
            m->params[i] -= lr * am[i] / (RSQRT(av[i]) + (real)1e-8);
        }
        if (k >= 0) times[k] = now() - t0;
    }
    double cpu = (cpu_now() - cpu0) / steps;
    double step = median(times, steps);
    printf("RESULT kind=train impl=neurodyn T=%d N=%d B=%d gen=%d threads=%d ms_per_step=%.2f epoch_s=%.3f "
           "cpu_ms_per_step=%.2f gflop_per_step=%.4f rss_mb=%.0f\n",
           T, N, B, bm.c.gen_dim, threads, 1e3 * step, step * nb, 1e3 * cpu, step_flops(&bm.c, T, B, N) / 1e9, peak_rss_mb());
    free(times); free(idx);
    nd_free(X); nd_free(g); nd_free(am); nd_free(av); nd_free(bm.data);
    nd_lfads_work_free(w);
    nd_lfads_free(m);
    return 0;
}

static int infer(const char *path, int T, int N, int n, int threads, int samples) {
    set_threads(threads);
    bench_model bm;
    setup(&bm, path, T, N, n, 0, 0);
    nd_infer_opts o = {samples, threads, 0, 5, NULL, 0};
    nd_lfads_result res;
    nd_error err;
    double t0 = now();
    if (nd_lfads_infer_split(&bm.m, bm.data, NULL, n, T, &o, 0, &res, &err)) { fprintf(stderr, "%s\n", err.msg); return 1; }
    double dt = now() - t0;
    printf("RESULT kind=infer impl=neurodyn T=%d N=%d n=%d threads=%d samples=%d trials_per_s=%.2f rss_mb=%.0f\n", T,
           N, n, threads, samples, n / dt, peak_rss_mb());
    nd_lfads_result_free(&res);
    nd_free(bm.data);
    nd_lfads_free(&bm.m);
    return 0;
}

int main(int argc, char **argv) {
    const char *cmd = argc > 1 ? argv[1] : "";
    if (!strcmp(cmd, "sgemm") && argc == 3) return sgemm(atoi(argv[2]));
    if (!strcmp(cmd, "data") && argc == 6) return write_data(argv[2], atoi(argv[3]), atoi(argv[4]), atoi(argv[5]));
    if (!strcmp(cmd, "train") && (argc == 8 || argc == 10))
        return train(argv[2], atoi(argv[3]), atoi(argv[4]), atoi(argv[5]), atoi(argv[6]), atoi(argv[7]),
                     argc == 10 ? atoi(argv[8]) : 0, argc == 10 ? atoi(argv[9]) : 0);
    if (!strcmp(cmd, "infer") && argc == 8)
        return infer(argv[2], atoi(argv[3]), atoi(argv[4]), atoi(argv[5]), atoi(argv[6]), atoi(argv[7]));
    fprintf(stderr, "usage: bench_train sgemm THREADS | data PATH T N n | train PATH T N n THREADS STEPS [B GEN] |\n"
                    "                   infer PATH T N n THREADS SAMPLES\n");
    return 2;
}
