/* Ground-truth neurons: the integrate-and-fire recursion equals the spec's kernel model computed by brute-force
 * convolution; with NMDA the soma responds supralinearly to clustered input on a thin distal branch (a local
 * NMDA spike) while AMPA alone sums sublinearly; runs are the same for any thread count; the HDF5 file holds what h5py and
 * MATLAB users read. */
#include "test.h"
#include "../src/models/neuron_sim.h"
#include "../src/io/h5.h"
#include "../src/core/mem.h"

/* the spec's kernel model, literally: V = -75 + 2 sum_s w_s (k * x_s)(t), k(u) = exp(-u / 20) for u >= 0; after a
 * spike at t (V(t) > -55), (V(t+1) + 75) times the kernel is subtracted from t+1 on */
static void iaf_reference(const nd_neuron_sims *s, int sim, double *v, unsigned char *sp) {
    const int T = s->ms;
    double *drive = calloc((size_t)T, sizeof(double));
    for (size_t e = 0; e < s->n_in; e++)
        if (s->in_sim[e] == sim) drive[s->in_time_ms[e]] += s->syn_type[s->in_syn[e]] ? -1 : 1;
    for (int t = 0; t < T; t++) {
        double acc = 0;
        for (int u = 0; u <= t; u++) acc += drive[u] * exp(-(t - u) / 20.0);
        v[t] = -75 + 2 * acc;
    }
    for (int t = 0; t < T; t++) {
        sp[t] = v[t] > -55 && t + 1 < T;
        if (sp[t]) {
            double c = v[t + 1] + 75;
            for (int u = t + 1; u < T; u++) v[u] -= c * exp(-(u - t - 1) / 20.0);
        }
    }
    free(drive);
}

static void test_iaf_matches_kernel_model(nd_test_ctx *ctx) {
    nd_neuron_sim_opts o;
    nd_neuron_sim_opts_default(&o);
    o.kind = ND_NEURON_IAF;
    o.sims = 3;
    o.seconds = 2;
    o.exc_rate_hz = 6;
    o.seed = 4;
    nd_neuron_sims s;
    nd_error err;
    CHECK(ctx, nd_neuron_simulate(&o, &s, &err) == ND_OK, "%s", err.msg);
    if (ctx->failed_checks) return;
    double *v = malloc(sizeof(double) * s.ms), maxd = 0;
    unsigned char *sp = malloc((size_t)s.ms);
    int spikes = 0, mismatch = 0;
    for (int k = 0; k < s.sims; k++) {
        iaf_reference(&s, k, v, sp);
        for (int t = 0; t < s.ms; t++) {
            maxd = fmax(maxd, fabs(v[t] - s.soma_v[(size_t)k * s.ms + t]));
            mismatch += sp[t] != s.spikes[(size_t)k * s.ms + t];
            spikes += sp[t];
        }
    }
    printf("    iaf: %d spikes in %d x 2 s; max |V - reference| %.2e mV\n", spikes, s.sims, maxd);
    CHECK(ctx, spikes > 5, "the reference fired only %d times: the test would not test the reset", spikes);
    CHECK(ctx, maxd < 1e-3 && mismatch == 0, "max difference %.3g mV, %d spike mismatches", maxd, mismatch);
    free(v);
    free(sp);
    nd_neuron_sims_free(&s);
}

/* peak somatic depolarisation (above rest) after k simultaneous excitatory events on the most distal compartment */
static double distal_peak(int k, int nmda) {
    nd_cell c;
    nd_error err;
    if (nd_neuron_branched_tree(&c, &err)) return NAN;
    c.soma_gna = c.soma_gk = 0; /* the dendrite alone: no somatic spike in the way */
    int far = 0;
    for (int i = 0; i < c.n; i++)
        if (c.dist_um[i] > c.dist_um[far]) far = i;
    nd_cable_sim s;
    nd_cable_sim_create(&s, &c, 0.025, &err);
    for (int j = 0; j < k; j++) {
        nd_cable_sim_event(&s, ND_SYN_AMPA, far, ND_NEURON_W_AMPA);
        if (nmda) nd_cable_sim_event(&s, ND_SYN_NMDA, far, ND_NEURON_W_NMDA);
    }
    double peak = -1e9;
    for (int step = 0; step < 8000; step++) {
        nd_cable_sim_step(&s);
        peak = fmax(peak, s.v[0]);
    }
    nd_cable_sim_free(&s);
    double rest = c.E_L;
    nd_cell_free(&c);
    return peak - rest;
}

static void test_nmda_spike(nd_test_ctx *ctx) {
    double a1 = distal_peak(1, 0), a8 = distal_peak(8, 0), n1 = distal_peak(1, 1), n8 = distal_peak(8, 1);
    printf("    somatic EPSP of distal tuft input, 1 vs 8 synapses: AMPA %.2f / %.2f mV, AMPA+NMDA %.2f / %.2f mV\n", a1, a8,
           n1, n8);
    CHECK(ctx, a8 < 8 * a1, "AMPA alone must sum sublinearly (driving force): %.2f vs 8 x %.2f", a8, a1);
    CHECK(ctx, n8 > 8 * n1, "with NMDA, clustered input must be supralinear (a local NMDA spike): %.2f vs 8 x %.2f",
          n8, n1);
    CHECK(ctx, n8 > 2 * a8, "NMDA must add a large component at 8 synapses: %.2f vs %.2f", n8, a8);
}

static void test_threads_same_bits(nd_test_ctx *ctx) {
    nd_neuron_sim_opts o;
    nd_neuron_sim_opts_default(&o);
    o.kind = ND_NEURON_BRANCHED;
    o.sims = 3;
    o.seconds = 0.8;
    o.exc_rate_hz = 4;
    o.seed = 11;
    nd_neuron_sims a, b;
    nd_error err;
    o.threads = 1;
    CHECK(ctx, nd_neuron_simulate(&o, &a, &err) == ND_OK, "%s", err.msg);
    o.threads = 2;
    CHECK(ctx, nd_neuron_simulate(&o, &b, &err) == ND_OK, "%s", err.msg);
    if (ctx->failed_checks) return;
    CHECK(ctx, a.n_in == b.n_in && !memcmp(a.in_time_ms, b.in_time_ms, sizeof(int) * a.n_in) &&
                   !memcmp(a.soma_v, b.soma_v, sizeof(float) * a.sims * a.ms) &&
                   !memcmp(a.spikes, b.spikes, (size_t)a.sims * a.ms), "1 and 2 threads differ");
    nd_neuron_sims_free(&a);
    nd_neuron_sims_free(&b);
}

static void test_file_layout(nd_test_ctx *ctx) {
    char dir[256], path[320];
    if (!nd_test_scratch(dir, sizeof dir, "nd_neuron")) SKIP(ctx, "no scratch dir");
    snprintf(path, sizeof path, "%s/sims.h5", dir);
    nd_neuron_sim_opts o;
    nd_neuron_sim_opts_default(&o);
    o.kind = ND_NEURON_IAF;
    o.sims = 2;
    o.seconds = 1;
    o.exc_rate_hz = 5;
    nd_neuron_sims s;
    nd_error err;
    CHECK(ctx, nd_neuron_simulate(&o, &s, &err) == ND_OK && nd_neuron_sims_write(path, &s, &err) == ND_OK, "%s",
          err.msg);
    if (ctx->failed_checks) { nd_test_scratch_remove(dir); return; }
    float *v;
    int *times, rank;
    size_t dims[ND_H5_MAX_RANK];
    CHECK(ctx, nd_h5_read_float(path, "soma_v", &v, &rank, dims, &err) == ND_OK, "%s", err.msg);
    CHECK(ctx, rank == 2 && dims[0] == 2 && dims[1] == 1000 && v[5] == s.soma_v[5], "soma_v shape/values");
    nd_free(v);
    CHECK(ctx, nd_h5_read_int(path, "spike_times_ms", &times, &rank, dims, &err) == ND_OK, "%s", err.msg);
    CHECK(ctx, rank == 1 && dims[0] == s.n_in, "spike_times_ms has %zu of %zu entries", dims[0], s.n_in);
    nd_free(times);
    float *spk;
    CHECK(ctx, nd_h5_read_float(path, "spikes", &spk, &rank, dims, &err) == ND_OK, "%s", err.msg);
    nd_free(spk);
    char cell[32] = "";
    CHECK(ctx, nd_h5_read_attr_string(path, "/", "cell", cell, sizeof cell, &err) == ND_OK && !strcmp(cell, "iaf"),
          "cell attribute '%s'", cell);
    double seed = -1;
    CHECK(ctx, nd_h5_read_attr_double(path, "/", "seed", &seed, &err) == ND_OK && seed == 0, "seed attribute");
    nd_neuron_sims_free(&s);
    nd_test_scratch_remove(dir);
}

static void test_bad_options(nd_test_ctx *ctx) {
    nd_neuron_sim_opts o;
    nd_neuron_sim_opts_default(&o);
    nd_neuron_sims s;
    nd_error err;
    o.seconds = 0.2;
    CHECK(ctx, nd_neuron_simulate(&o, &s, &err) == ND_ERR_ARG && strstr(err.msg, "--seconds"), "%s", err.msg);
    nd_neuron_sim_opts_default(&o);
    o.dt_ms = 0.03;
    CHECK(ctx, nd_neuron_simulate(&o, &s, &err) == ND_ERR_ARG && strstr(err.msg, "dt"), "%s", err.msg);
    CHECK(ctx, nd_neuron_kind_parse("branched-ampa") == ND_NEURON_BRANCHED_AMPA && nd_neuron_kind_parse("x") < 0,
          "kind names");
}

int main(void) {
    RUN(test_iaf_matches_kernel_model);
    RUN(test_nmda_spike);
    RUN(test_threads_same_bits);
    RUN(test_file_layout);
    RUN(test_bad_options);
    TEST_MAIN_END();
}
