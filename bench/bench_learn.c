/* bench_learn THREADS STEPS: backprop on the learning-rules MLP 784-256-256-10 (tanh), batch 64, plain SGD, as
 * `learn train --task fashion-mnist --rule bp` runs it: median ms per step (forward + backward + update) over
 * STEPS timed steps after 3 warm-up steps; epoch_s = step x 937 (60,000 / 64). Random inputs of Fashion-MNIST's
 * shape (the time does not depend on the pixels). Prints "RESULT ms_per_step=.. epoch_s=.. cpu_ms_per_step=..". */
#define _POSIX_C_SOURCE 200809L
#include "../src/core/blas.h"
#include "../src/core/mem.h"
#include "../src/models/mlp_rules.h"
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(clockid_t c) {
    struct timespec t;
    clock_gettime(c, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}
static int cmpd(const void *a, const void *b) { double x = *(const double *)a, y = *(const double *)b; return (x > y) - (x < y); }

int main(int argc, char **argv) {
    if (argc != 3) { fprintf(stderr, "usage: bench_learn THREADS STEPS\n"); return 2; }
    int threads = atoi(argv[1]), steps = atoi(argv[2]);
    if (threads < 1 || steps < 1) return 2;
    nd_blas_set_threads(threads);
    enum { B = 64, NB = 16 };
    int w[4] = {784, 256, 256, 10};
    nd_mlp m;
    nd_mlp_acts a;
    nd_rule_ctx c;
    nd_error err;
    nd_rng r;
    nd_rng_seed(&r, 1);
    if (nd_mlp_create(&m, 3, w, ND_LOSS_XENT, 1, &err) || nd_mlp_acts_create(&a, &m, B, &err) ||
        nd_rule_ctx_create(&c, &m, B, 1e-3, &r, &err)) { fprintf(stderr, "%s\n", err.msg); return 1; }
    real *x = nd_alloc(sizeof(real) * NB * B * 784), *g = nd_alloc(sizeof(real) * m.n_params);
    int *lab = malloc(sizeof(int) * NB * B);
    for (int i = 0; i < NB * B * 784; i++) x[i] = (real)nd_rng_normal(&r);
    for (int i = 0; i < NB * B; i++) lab[i] = (int)nd_rng_below(&r, 10);
    double *t = malloc(sizeof(double) * steps), cpu = 0;
    for (int s = -3; s < steps; s++) {
        const real *xb = x + (size_t)((s + 3) % NB) * B * 784;
        const int *lb = lab + ((s + 3) % NB) * B;
        double t0 = now(CLOCK_MONOTONIC), c0 = now(CLOCK_PROCESS_CPUTIME_ID);
        nd_mlp_forward(&m, &a, xb, B, lb, NULL, NULL);
        nd_rule_estimate(ND_RULE_BP, &m, &a, xb, B, lb, NULL, &c, g);
        for (size_t p = 0; p < m.n_params; p++) m.params[p] -= (real)0.05 * g[p];
        if (s >= 0) { t[s] = 1e3 * (now(CLOCK_MONOTONIC) - t0); cpu += 1e3 * (now(CLOCK_PROCESS_CPUTIME_ID) - c0) / steps; }
    }
    qsort(t, steps, sizeof(double), cmpd);
    double ms = t[steps / 2];
    printf("RESULT ms_per_step=%.4f epoch_s=%.3f cpu_ms_per_step=%.4f\n", ms, ms * 937 / 1e3, cpu);
    free(t); free(lab); nd_free(x); nd_free(g);
    nd_rule_ctx_free(&c);
    nd_mlp_acts_free(&a);
    nd_mlp_free(&m);
    return 0;
}
