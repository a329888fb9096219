/* Synthetic benchmarks: shapes, ground-truth properties, determinism, and the written
 * LFADS file reading back identically. */
#include "test.h"
#include "../src/core/mem.h"
#include "../src/io/h5.h"
#include "../src/io/lfads_data.h"
#include "../src/models/synth.h"
#include <stdlib.h>
#include <unistd.h>

static char dir[256];

static size_t numel(int n, int T, int N) { return (size_t)n * T * N; }

static void small_lorenz(nd_lorenz_opts *o) {
    nd_lorenz_opts_default(o);
    o->conditions = 8;
    o->trials_per_condition = 10;
    o->neurons = 20;
    o->bins = 40;
}

static void small_crnn(nd_crnn_opts *o) {
    nd_crnn_opts_default(o);
    o->conditions = 12;
    o->trials_per_condition = 5;
    o->neurons = 30;
    o->bins = 60;
}

static int same_f(const float *a, const float *b, size_t n) { return a && b && memcmp(a, b, n * sizeof(float)) == 0; }

static void test_lorenz(nd_test_ctx *ctx) {
    nd_lorenz_opts o;
    small_lorenz(&o);
    nd_synth s;
    nd_error err = {0};
    CHECK(ctx, nd_synth_lorenz(&o, &s, &err) == ND_OK, "%s", err.msg);
    if (err.code) return;
    const nd_lfads_data *d = &s.data;
    CHECK(ctx, d->split[ND_TRAIN].n == 64 && d->split[ND_VALID].n == 16 && d->T == 40 && d->N == 20 && d->E == 0, "shape %d %d %d %d",
          d->split[ND_TRAIN].n, d->split[ND_VALID].n, d->T, d->N);
    CHECK(ctx, s.L == 3 && s.U == 0 && !s.train_inputs && s.kind == ND_SYNTH_LORENZ && s.bin_ms == 20, "meta");
    size_t nt = numel(d->split[ND_TRAIN].n, d->T, d->N), nv = numel(d->split[ND_VALID].n, d->T, d->N);
    double sum_x = 0, sum_r = 0;
    int pos = 1, integral = 1;
    for (size_t i = 0; i < nt; i++) {
        pos &= d->split[ND_TRAIN].truth[i] > 0;
        integral &= d->split[ND_TRAIN].counts[i] >= 0 && d->split[ND_TRAIN].counts[i] == floorf(d->split[ND_TRAIN].counts[i]);
        sum_x += d->split[ND_TRAIN].counts[i];
        sum_r += d->split[ND_TRAIN].truth[i];
    }
    for (size_t i = 0; i < nv; i++) {
        pos &= d->split[ND_VALID].truth[i] > 0;
        sum_x += d->split[ND_VALID].counts[i];
        sum_r += d->split[ND_VALID].truth[i];
    }
    CHECK(ctx, pos, "truth rates must be positive");
    CHECK(ctx, integral, "counts must be non-negative integers");
    /* total count ~ Poisson(total rate): within 5 standard errors */
    CHECK(ctx, fabs(sum_x - sum_r) < 5 * sqrt(sum_r), "spikes %g vs rate %g (se %g)", sum_x, sum_r, sqrt(sum_r));
    /* expected mean rate: base * E[exp(W z)] is >= base (Jensen); sanity range */
    double mean_hz = nd_synth_mean_rate_hz(&s);
    CHECK(ctx, mean_hz > 5 && mean_hz < 200, "mean rate %g Hz", mean_hz);
    /* latents: each condition's trajectory is centred with max |z| = 1 */
    for (int i = 0; i < d->split[ND_TRAIN].n; i++) {
        const float *z = s.train_latents + (size_t)i * d->T * 3;
        double mx = 0, mean0 = 0;
        for (int t = 0; t < d->T; t++) {
            for (int j = 0; j < 3; j++) mx = fmax(mx, fabs(z[t * 3 + j]));
            mean0 += z[t * 3];
        }
        CHECK(ctx, fabs(mx - 1) < 1e-6 && fabs(mean0 / d->T) < 1e-5, "trial %d: max |z| %g, mean %g", i, mx,
              mean0 / d->T);
    }
    /* trials of a condition share truth, conditions differ, spikes differ between trials */
    CHECK(ctx, s.train_condition[0] == 0 && s.train_condition[1] == 0, "conditions");
    size_t tn = (size_t)d->T * d->N;
    CHECK(ctx, same_f(d->split[ND_TRAIN].truth, d->split[ND_TRAIN].truth + tn, tn), "same condition, same truth");
    CHECK(ctx, memcmp(d->split[ND_TRAIN].counts, d->split[ND_TRAIN].counts + tn, tn * sizeof(float)) != 0, "trials' spikes must differ");
    CHECK(ctx, s.train_condition[d->split[ND_TRAIN].n - 1] == 7 &&
                   !same_f(d->split[ND_TRAIN].truth, d->split[ND_TRAIN].truth + (size_t)(d->split[ND_TRAIN].n - 1) * tn, tn),
          "different conditions differ");
    /* per-condition split: 2 valid of 10 per condition, inds complete and disjoint */
    int seen[80] = {0}, per_cond[8] = {0};
    for (int i = 0; i < d->split[ND_TRAIN].n; i++) seen[d->split[ND_TRAIN].inds[i]]++;
    for (int i = 0; i < d->split[ND_VALID].n; i++) {
        seen[d->split[ND_VALID].inds[i]]++;
        per_cond[s.valid_condition[i]]++;
        CHECK(ctx, s.valid_condition[i] == d->split[ND_VALID].inds[i] / 10, "condition of valid trial");
    }
    for (int i = 0; i < 80; i++) CHECK(ctx, seen[i] == 1, "trial %d seen %d times", i, seen[i]);
    for (int c = 0; c < 8; c++) CHECK(ctx, per_cond[c] == 2, "condition %d has %d valid trials", c, per_cond[c]);

    /* determinism */
    nd_synth s2, s3;
    CHECK(ctx, nd_synth_lorenz(&o, &s2, &err) == ND_OK, "%s", err.msg);
    CHECK(ctx, same_f(d->split[ND_TRAIN].counts, s2.data.split[ND_TRAIN].counts, nt) && same_f(d->split[ND_VALID].counts, s2.data.split[ND_VALID].counts, nv) &&
                   same_f(d->split[ND_TRAIN].truth, s2.data.split[ND_TRAIN].truth, nt) &&
                   same_f(s.train_latents, s2.train_latents, (size_t)d->split[ND_TRAIN].n * d->T * 3) &&
                   memcmp(d->split[ND_VALID].inds, s2.data.split[ND_VALID].inds, (size_t)d->split[ND_VALID].n * sizeof(int)) == 0,
          "same seed must give identical arrays");
    o.seed = 1;
    CHECK(ctx, nd_synth_lorenz(&o, &s3, &err) == ND_OK, "%s", err.msg);
    CHECK(ctx, !same_f(d->split[ND_TRAIN].counts, s3.data.split[ND_TRAIN].counts, nt) && !same_f(d->split[ND_TRAIN].truth, s3.data.split[ND_TRAIN].truth, nt),
          "different seed must differ");
    nd_synth_free(&s);
    nd_synth_free(&s2);
    nd_synth_free(&s3);
    CHECK(ctx, s.data.split[ND_TRAIN].counts == NULL && s.train_latents == NULL, "free zeroes");
}

static void test_lorenz_bad_options(nd_test_ctx *ctx) {
    nd_lorenz_opts o;
    nd_synth s;
    nd_error err = {0};
    small_lorenz(&o);
    o.neurons = 0;
    CHECK(ctx, nd_synth_lorenz(&o, &s, &err) == ND_ERR_ARG && strstr(err.msg, "neurons"), "%s", err.msg);
    small_lorenz(&o);
    o.valid_fraction = 1.0;
    CHECK(ctx, nd_synth_lorenz(&o, &s, &err) == ND_ERR_ARG && strstr(err.msg, "valid_fraction"), "%s", err.msg);
    small_lorenz(&o);
    o.trials_per_condition = 1; /* nothing left for one side */
    CHECK(ctx, nd_synth_lorenz(&o, &s, &err) == ND_ERR_ARG && strstr(err.msg, "valid_fraction"), "%s", err.msg);
    small_lorenz(&o);
    o.base_rate_hz = -1;
    CHECK(ctx, nd_synth_lorenz(&o, &s, &err) == ND_ERR_ARG && strstr(err.msg, "base_rate"), "%s", err.msg);
    small_lorenz(&o);
    o.bin_ms = 0;
    CHECK(ctx, nd_synth_lorenz(&o, &s, &err) == ND_ERR_ARG && strstr(err.msg, "bin_ms"), "%s", err.msg);
    CHECK(ctx, s.data.split[ND_TRAIN].counts == NULL, "zeroed on failure");
}

static void test_crnn(nd_test_ctx *ctx) {
    nd_crnn_opts o;
    small_crnn(&o);
    nd_synth s;
    nd_error err = {0};
    CHECK(ctx, nd_synth_chaotic_rnn(&o, &s, &err) == ND_OK, "%s", err.msg);
    if (err.code) return;
    const nd_lfads_data *d = &s.data;
    CHECK(ctx, d->split[ND_TRAIN].n == 48 && d->split[ND_VALID].n == 12 && d->T == 60 && d->N == 30, "shape");
    CHECK(ctx, s.L == 30 && s.U == 0 && !s.train_inputs && fabs(s.bin_ms - 10) < 1e-12, "meta");
    const float top = (float)(o.max_rate_hz * o.dt_s);
    size_t nt = numel(d->split[ND_TRAIN].n, d->T, d->N), nv = numel(d->split[ND_VALID].n, d->T, d->N);
    float mn = 1e30f, mx = -1e30f;
    double sum_x = 0, sum_r = 0;
    int lat_ok = 1;
    for (size_t i = 0; i < nt; i++) {
        mn = fminf(mn, d->split[ND_TRAIN].truth[i]);
        mx = fmaxf(mx, d->split[ND_TRAIN].truth[i]);
        sum_x += d->split[ND_TRAIN].counts[i];
        sum_r += d->split[ND_TRAIN].truth[i];
        lat_ok &= fabsf(s.train_latents[i]) <= 1.0f;
    }
    for (size_t i = 0; i < nv; i++) {
        mn = fminf(mn, d->split[ND_VALID].truth[i]);
        mx = fmaxf(mx, d->split[ND_VALID].truth[i]);
        sum_x += d->split[ND_VALID].counts[i];
        sum_r += d->split[ND_VALID].truth[i];
    }
    CHECK(ctx, mn >= 0 && mx <= top * (1 + 1e-6f), "rates in [0, %g]: got [%g, %g]", top, mn, mx);
    CHECK(ctx, mn < 1e-6f && mx > top * (1 - 1e-6f), "min-max normalised over the dataset: [%g, %g]", mn, mx);
    CHECK(ctx, lat_ok, "latents are tanh values");
    CHECK(ctx, fabs(sum_x - sum_r) < 5 * sqrt(sum_r), "spikes %g vs rate %g", sum_x, sum_r);
    /* truth = (latent - min) / (max - min) * top, min/max over all trials */
    float lmn = 1e30f, lmx = -1e30f;
    for (size_t i = 0; i < nt; i++) lmn = fminf(lmn, s.train_latents[i]), lmx = fmaxf(lmx, s.train_latents[i]);
    for (size_t i = 0; i < nv; i++) lmn = fminf(lmn, s.valid_latents[i]), lmx = fmaxf(lmx, s.valid_latents[i]);
    double worst = 0;
    for (size_t i = 0; i < nt; i++) {
        double want = ((double)s.train_latents[i] - lmn) / ((double)lmx - lmn) * top;
        worst = fmax(worst, fabs(want - d->split[ND_TRAIN].truth[i]));
    }
    CHECK(ctx, worst < 1e-6, "truth is not the min-max normalised latents (max error %g)", worst);
    /* same seed identical */
    nd_synth s2;
    CHECK(ctx, nd_synth_chaotic_rnn(&o, &s2, &err) == ND_OK, "%s", err.msg);
    CHECK(ctx, same_f(d->split[ND_TRAIN].counts, s2.data.split[ND_TRAIN].counts, nt) && same_f(s.valid_latents, s2.valid_latents, nv), "deterministic");
    nd_synth_free(&s2);
    nd_synth_free(&s);
}

static void test_crnn_pulses(nd_test_ctx *ctx) {
    nd_crnn_opts o;
    small_crnn(&o);
    o.input_pulses = 1;
    nd_synth s;
    nd_error err = {0};
    CHECK(ctx, nd_synth_chaotic_rnn(&o, &s, &err) == ND_OK, "%s", err.msg);
    if (err.code) return;
    const nd_lfads_data *d = &s.data;
    const int T = d->T;
    CHECK(ctx, s.U == 1 && s.train_inputs && s.valid_inputs, "inputs present");
    if (!s.train_inputs) return;
    int lo = T, hi = -1, distinct = 0, prev = -1;
    for (int i = 0; i < d->split[ND_TRAIN].n + d->split[ND_VALID].n; i++) {
        const float *u = i < d->split[ND_TRAIN].n ? s.train_inputs + (size_t)i * T : s.valid_inputs + (size_t)(i - d->split[ND_TRAIN].n) * T;
        int nz = 0, at = -1;
        for (int t = 0; t < T; t++)
            if (u[t] != 0) {
                nz++;
                at = t;
                CHECK(ctx, u[t] == (float)o.pulse_magnitude, "pulse value %g", u[t]);
            }
        CHECK(ctx, nz == 1, "trial %d has %d pulses", i, nz);
        CHECK(ctx, at >= T / 4 && at < 3 * T / 4, "pulse at %d outside [%d, %d)", at, T / 4, 3 * T / 4);
        if (at < lo) lo = at;
        if (at > hi) hi = at;
        if (prev >= 0 && at != prev) distinct = 1;
        prev = at;
    }
    CHECK(ctx, distinct && hi - lo > T / 4, "pulse times spread: [%d, %d]", lo, hi);
    /* a pulse perturbs the trajectory: two trials of condition 0 share x0 but differ after the earlier pulse */
    const size_t tn = (size_t)T * d->N;
    CHECK(ctx, s.train_condition[0] == s.train_condition[1], "two trials of one condition");
    const float *u0 = s.train_inputs, *u1 = s.train_inputs + T;
    int p0 = 0, p1 = 0;
    for (int t = 0; t < T; t++) {
        if (u0[t] != 0) p0 = t;
        if (u1[t] != 0) p1 = t;
    }
    int first = p0 < p1 ? p0 : p1;
    CHECK(ctx, memcmp(s.train_latents, s.train_latents + tn, (size_t)first * d->N * sizeof(float)) == 0,
          "identical before the first pulse");
    if (p0 != p1)
        CHECK(ctx, memcmp(s.train_latents + (size_t)first * d->N, s.train_latents + tn + (size_t)first * d->N,
                          (size_t)d->N * sizeof(float)) != 0,
              "differ at the pulse");
    float mx = 0;
    for (size_t i = 0; i < (size_t)d->split[ND_TRAIN].n * tn; i++) mx = fmaxf(mx, d->split[ND_TRAIN].truth[i]);
    CHECK(ctx, mx <= (float)(o.max_rate_hz * o.dt_s) * (1 + 1e-6f), "max rate %g", mx);
    nd_synth_free(&s);

    small_crnn(&o);
    o.tau_s = 0;
    CHECK(ctx, nd_synth_chaotic_rnn(&o, &s, &err) == ND_ERR_ARG && strstr(err.msg, "tau"), "%s", err.msg);
    small_crnn(&o);
    o.max_rate_hz = 0;
    CHECK(ctx, nd_synth_chaotic_rnn(&o, &s, &err) == ND_ERR_ARG && strstr(err.msg, "max_rate"), "%s", err.msg);
}

static int file_same_f(nd_test_ctx *ctx, const char *p, const char *name, const float *x, size_t n) {
    float *y = NULL;
    int rank;
    size_t dims[ND_H5_MAX_RANK];
    nd_error err = {0};
    int ok = nd_h5_read_float(p, name, &y, &rank, dims, &err) == ND_OK && rank == 3 &&
             dims[0] * dims[1] * dims[2] == n && same_f(x, y, n);
    CHECK(ctx, ok, "%s differs after write/read (%s)", name, err.msg);
    nd_free(y);
    return ok;
}

static void check_roundtrip(nd_test_ctx *ctx, const nd_synth *s, const char *p, const char *gen) {
    nd_lfads_data r;
    nd_error err = {0};
    CHECK(ctx, nd_lfads_data_read(p, 99, 0.5, &r, &err) == ND_OK, "%s", err.msg);
    if (err.code) return;
    const nd_lfads_data *d = &s->data;
    size_t nt = numel(d->split[ND_TRAIN].n, d->T, d->N), nv = numel(d->split[ND_VALID].n, d->T, d->N);
    CHECK(ctx, r.split[ND_TRAIN].n == d->split[ND_TRAIN].n && r.split[ND_VALID].n == d->split[ND_VALID].n && r.T == d->T && r.N == d->N && r.E == 0 &&
                   r.valid_from_file && r.conversion_factor == 1.0,
          "dims");
    CHECK(ctx, same_f(r.split[ND_TRAIN].counts, d->split[ND_TRAIN].counts, nt) && same_f(r.split[ND_VALID].counts, d->split[ND_VALID].counts, nv), "counts");
    CHECK(ctx, same_f(r.split[ND_TRAIN].truth, d->split[ND_TRAIN].truth, nt) && same_f(r.split[ND_VALID].truth, d->split[ND_VALID].truth, nv), "truth");
    CHECK(ctx, r.split[ND_TRAIN].inds && r.split[ND_VALID].inds &&
                   memcmp(r.split[ND_TRAIN].inds, d->split[ND_TRAIN].inds, (size_t)d->split[ND_TRAIN].n * sizeof(int)) == 0 &&
                   memcmp(r.split[ND_VALID].inds, d->split[ND_VALID].inds, (size_t)d->split[ND_VALID].n * sizeof(int)) == 0,
          "inds");
    nd_lfads_data_free(&r);
    file_same_f(ctx, p, "train_latents", s->train_latents, (size_t)d->split[ND_TRAIN].n * d->T * s->L);
    file_same_f(ctx, p, "valid_latents", s->valid_latents, (size_t)d->split[ND_VALID].n * d->T * s->L);
    if (s->U) {
        file_same_f(ctx, p, "train_inputs", s->train_inputs, (size_t)d->split[ND_TRAIN].n * d->T);
        file_same_f(ctx, p, "valid_inputs", s->valid_inputs, (size_t)d->split[ND_VALID].n * d->T);
    } else {
        CHECK(ctx, !nd_h5_exists(p, "train_inputs"), "no inputs without pulses");
    }
    int *c = NULL, rank;
    size_t dims[ND_H5_MAX_RANK];
    CHECK(ctx, nd_h5_read_int(p, "valid_condition", &c, &rank, dims, &err) == ND_OK && rank == 1 &&
                   dims[0] == (size_t)d->split[ND_VALID].n && memcmp(c, s->valid_condition, dims[0] * sizeof(int)) == 0,
          "conditions %s", err.msg);
    nd_free(c);
    char g[64] = "";
    double bin_ms = 0, seed = -1;
    CHECK(ctx, nd_h5_read_attr_string(p, "/", "generator", g, sizeof g, &err) == ND_OK && !strcmp(g, gen),
          "generator '%s' %s", g, err.msg);
    CHECK(ctx, nd_h5_read_attr_double(p, "/", "bin_ms", &bin_ms, &err) == ND_OK && fabs(bin_ms - s->bin_ms) < 1e-9,
          "bin_ms %g", bin_ms);
    CHECK(ctx, nd_h5_read_attr_double(p, "/", "seed", &seed, &err) == ND_OK, "seed attr %s", err.msg);
    char tmp[600];
    snprintf(tmp, sizeof tmp, "%s.tmp", p);
    CHECK(ctx, access(tmp, F_OK) != 0, "temp file left behind");
}

static void test_write_read(nd_test_ctx *ctx) {
    char p[512];
    nd_error err = {0};
    nd_lorenz_opts lo;
    small_lorenz(&lo);
    lo.seed = 5;
    nd_synth s;
    CHECK(ctx, nd_synth_lorenz(&lo, &s, &err) == ND_OK, "%s", err.msg);
    snprintf(p, sizeof p, "%s/lorenz.h5", dir);
    CHECK(ctx, nd_synth_write(&s, p, &err) == ND_OK, "%s", err.msg);
    check_roundtrip(ctx, &s, p, "lorenz");
    double v = 0;
    CHECK(ctx, nd_h5_read_attr_double(p, "/", "base_rate_hz", &v, &err) == ND_OK && v == 10, "base rate attr");
    CHECK(ctx, nd_h5_read_attr_double(p, "/", "seed", &v, &err) == ND_OK && v == 5, "seed attr");
    /* writing into a missing directory fails cleanly */
    CHECK(ctx, nd_synth_write(&s, "/nonexistent-dir/x.h5", &err) == ND_ERR_IO && strstr(err.msg, "x.h5"), "%s",
          err.msg);
    nd_synth_free(&s);

    nd_crnn_opts co;
    small_crnn(&co);
    co.input_pulses = 1;
    CHECK(ctx, nd_synth_chaotic_rnn(&co, &s, &err) == ND_OK, "%s", err.msg);
    snprintf(p, sizeof p, "%s/crnn.h5", dir);
    CHECK(ctx, nd_synth_write(&s, p, &err) == ND_OK, "%s", err.msg);
    check_roundtrip(ctx, &s, p, "chaotic_rnn");
    CHECK(ctx, nd_h5_read_attr_double(p, "/", "input_pulses", &v, &err) == ND_OK && v == 1, "pulses attr");
    nd_synth_free(&s);
}

int main(void) {
    if (!nd_test_scratch(dir, sizeof dir, "nd_test_synth_")) return 1;
    RUN(test_lorenz);
    RUN(test_lorenz_bad_options);
    RUN(test_crnn);
    RUN(test_crnn_pulses);
    RUN(test_write_read);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
    nd_test_scratch_remove(dir);
    TEST_MAIN_END();
}
