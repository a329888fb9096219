/* neurodyn's side of the neuron-TCN benchmark (bench/run_bench.py runs it beside bench/torch_tcn.py).
 * Every command prints one `RESULT key=value ...` line.
 *
 *   bench_tcn data PATH SYN T B RATE_HZ SEED      binary inputs uint8 [B][T][SYN] (Bernoulli, RATE_HZ per 1 ms
 *                                                 bin) and targets, shared by both sides
 *   bench_tcn train PATH SYN T B DEPTH WIDTH K0 K THREADS STEPS
 *                                                 fit steps (forward + backward + Adam) on that batch; the median
 *                                                 step in ms
 *   bench_tcn infer SYN SECONDS DEPTH WIDTH K0 K THREADS RATE_HZ
 *                                                 prediction of one simulation: ms of compute per simulated s
 *   bench_tcn sim CELL SECONDS                    the simulator (iaf / branched / branched-ampa, one thread):
 *                                                 ms of compute per simulated s */
#include "../src/models/tcn.h"
#include "../src/models/tcn_train.h"
#include "../src/models/neuron_sim.h"
#include "../src/core/blas.h"
#include "../src/core/rng.h"
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n) {
    qsort(v, n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* events of a dense uint8 [B][T][SYN] batch, time-major for the TCN */
static nd_spike_events events_of(const unsigned char *x, int syn, int T, int B, int **bufs) {
    size_t n = 0;
    for (size_t i = 0; i < (size_t)B * T * syn; i++) n += x[i];
    int *t = malloc(sizeof(int) * (n + 1)), *b = malloc(sizeof(int) * (n + 1)), *c = malloc(sizeof(int) * (n + 1));
    size_t k = 0;
    for (int bb = 0; bb < B; bb++)
        for (int tt = 0; tt < T; tt++)
            for (int s = 0; s < syn; s++)
                if (x[((size_t)bb * T + tt) * syn + s]) { t[k] = tt; b[k] = bb; c[k] = s; k++; }
    bufs[0] = t; bufs[1] = b; bufs[2] = c;
    return (nd_spike_events){t, b, c, n};
}

static unsigned char *random_input(int syn, int T, int B, double rate_hz, uint64_t seed) {
    unsigned char *x = malloc((size_t)B * T * syn);
    nd_rng r;
    nd_rng_seed(&r, seed);
    for (size_t i = 0; i < (size_t)B * T * syn; i++) x[i] = nd_rng_uniform(&r) < rate_hz * 1e-3;
    return x;
}

static int cmd_data(char **a) {
    int syn = atoi(a[1]), T = atoi(a[2]), B = atoi(a[3]);
    unsigned char *x = random_input(syn, T, B, atof(a[4]), (uint64_t)atoll(a[5]));
    FILE *f = fopen(a[0], "wb");
    if (!f || fwrite(x, 1, (size_t)B * T * syn, f) != (size_t)B * T * syn) { fprintf(stderr, "cannot write %s\n", a[0]); return 1; }
    fclose(f);
    free(x);
    printf("RESULT bytes=%zu\n", (size_t)B * T * syn);
    return 0;
}

static int cmd_train(char **a) {
    int syn = atoi(a[1]), T = atoi(a[2]), B = atoi(a[3]);
    nd_tcn_config c = {syn, atoi(a[4]), atoi(a[5]), atoi(a[6]), atoi(a[7])};
    int threads = atoi(a[8]), steps = atoi(a[9]);
    nd_blas_set_threads(1); /* as neuron fit: the layers split their products over OpenMP threads */
    omp_set_num_threads(threads);
    unsigned char *x = malloc((size_t)B * T * syn);
    FILE *f = fopen(a[0], "rb");
    if (!f || fread(x, 1, (size_t)B * T * syn, f) != (size_t)B * T * syn) { fprintf(stderr, "cannot read %s\n", a[0]); return 1; }
    fclose(f);
    int *bufs[3];
    nd_spike_events ev = events_of(x, syn, T, B, bufs);
    nd_tcn_model m;
    nd_error err;
    if (nd_tcn_create(&m, &c, &err)) { fprintf(stderr, "%s\n", err.msg); return 1; }
    nd_tcn_init(&m, 1);
    nd_tcn_work *w;
    if (nd_tcn_work_create(&w, &m, T, B, &err)) { fprintf(stderr, "%s\n", err.msg); return 1; }
    real *ys = calloc((size_t)T * B, sizeof(real)), *yv = calloc((size_t)T * B, sizeof(real));
    real *wt = malloc(sizeof(real) * T * B), *g = malloc(sizeof(real) * m.n_params);
    real *am = calloc(m.n_params, sizeof(real)), *av = calloc(m.n_params, sizeof(real));
    for (int i = 0; i < T * B; i++) { wt[i] = 1; ys[i] = i % 97 == 0; yv[i] = (real)((i % 13) - 6) / 6; }
    nd_tcn_targets tg = {ys, yv, wt, 1.0};
    double *dt = malloc(sizeof(double) * (steps + 1));
    for (int s = 0; s <= steps; s++) { /* step 0 warms up */
        double t0 = now();
        nd_tcn_loss L;
        nd_tcn_forward(&m, w, &ev, B, 1, &tg, &L, NULL, NULL);
        memset(g, 0, sizeof(real) * m.n_params);
        nd_tcn_backward(&m, w, g);
        nd_tcn_adam(m.params, am, av, g, m.n_params, 1e-3, s + 1); /* the trainer's Adam */
        dt[s] = now() - t0;
    }
    printf("RESULT ms_per_step=%.3f events=%zu params=%zu\n", 1e3 * median(dt + 1, steps), ev.n, m.n_params);
    free(dt); free(ys); free(yv); free(wt); free(g); free(am); free(av); free(x);
    free(bufs[0]); free(bufs[1]); free(bufs[2]);
    nd_tcn_work_free(w);
    nd_tcn_free(&m);
    return 0;
}

static int cmd_infer(char **a) {
    int syn = atoi(a[0]), T = (int)(atof(a[1]) * 1000);
    nd_tcn_config c = {syn, atoi(a[2]), atoi(a[3]), atoi(a[4]), atoi(a[5])};
    nd_blas_set_threads(1);
    omp_set_num_threads(atoi(a[6]));
    unsigned char *x = random_input(syn, T, 1, atof(a[7]), 3);
    int *bufs[3];
    nd_spike_events ev = events_of(x, syn, T, 1, bufs);
    nd_tcn_model m;
    nd_error err;
    nd_tcn_work *w;
    if (nd_tcn_create(&m, &c, &err) || nd_tcn_work_create(&w, &m, T, 1, &err)) { fprintf(stderr, "%s\n", err.msg); return 1; }
    nd_tcn_init(&m, 1);
    double v[3];
    for (int r = 0; r < 3; r++) {
        double t0 = now();
        nd_tcn_forward(&m, w, &ev, 1, 0, NULL, NULL, NULL, NULL);
        v[r] = now() - t0;
    }
    printf("RESULT ms_per_sim_s=%.3f\n", 1e3 * median(v, 3) / (T / 1000.0));
    free(x); free(bufs[0]); free(bufs[1]); free(bufs[2]);
    nd_tcn_work_free(w);
    nd_tcn_free(&m);
    return 0;
}

static int cmd_sim(char **a) {
    nd_neuron_sim_opts o;
    nd_neuron_sim_opts_default(&o);
    int k = nd_neuron_kind_parse(a[0]);
    if (k < 0) { fprintf(stderr, "unknown cell %s\n", a[0]); return 1; }
    o.kind = (nd_neuron_kind)k;
    o.sims = 2;
    o.seconds = atof(a[1]);
    o.exc_rate_hz = o.kind == ND_NEURON_IAF ? 3.5 : 1.0;
    nd_neuron_sims s;
    nd_error err;
    double t0 = now();
    if (nd_neuron_simulate(&o, &s, &err)) { fprintf(stderr, "%s\n", err.msg); return 1; }
    double dt = now() - t0;
    printf("RESULT ms_per_sim_s=%.3f output_hz=%.2f\n", 1e3 * dt / (o.sims * o.seconds), s.mean_rate_hz);
    nd_neuron_sims_free(&s);
    return 0;
}

int main(int argc, char **argv) {
    if (argc >= 8 && !strcmp(argv[1], "data")) return cmd_data(argv + 2);
    if (argc >= 12 && !strcmp(argv[1], "train")) return cmd_train(argv + 2);
    if (argc >= 10 && !strcmp(argv[1], "infer")) return cmd_infer(argv + 2);
    if (argc >= 4 && !strcmp(argv[1], "sim")) return cmd_sim(argv + 2);
    fprintf(stderr, "usage: see the comment at the top of bench/bench_tcn.c\n");
    return 2;
}
