/* Multi-session Lorenz (stitching): shared conditions and latents, per-session neurons,
 * read-outs, splits and spikes; determinism and independence of the session count; the
 * written files read back as complete LFADS datasets. */
#include "test.h"
#include "../src/core/mem.h"
#include "../src/io/h5.h"
#include "../src/io/lfads_data.h"
#include "../src/models/synth.h"
#include <stdlib.h>
#include <unistd.h>

#define NMIN 10
#define NMAX 30

static char dir[256];

static void small_opts(nd_lorenz_opts *o) {
    nd_lorenz_opts_default(o);
    o->conditions = 6;
    o->trials_per_condition = 10;
    o->bins = 30;
    o->seed = 3;
}

static int same_f(const float *a, const float *b, size_t n) { return a && b && memcmp(a, b, n * sizeof(float)) == 0; }
static int same_i(const int *a, const int *b, size_t n) { return a && b && memcmp(a, b, n * sizeof(int)) == 0; }

/* every array of two sessions bit for bit */
static int same_session(const nd_synth *a, const nd_synth *b) {
    const nd_lfads_data *x = &a->data, *y = &b->data;
    if (x->split[ND_TRAIN].n != y->split[ND_TRAIN].n || x->split[ND_VALID].n != y->split[ND_VALID].n || x->T != y->T || x->N != y->N) return 0;
    size_t nt = (size_t)x->split[ND_TRAIN].n * x->T * x->N, nv = (size_t)x->split[ND_VALID].n * x->T * x->N;
    size_t lt = (size_t)x->split[ND_TRAIN].n * x->T * 3, lv = (size_t)x->split[ND_VALID].n * x->T * 3;
    return same_f(x->split[ND_TRAIN].counts, y->split[ND_TRAIN].counts, nt) && same_f(x->split[ND_VALID].counts, y->split[ND_VALID].counts, nv) &&
           same_f(x->split[ND_TRAIN].truth, y->split[ND_TRAIN].truth, nt) && same_f(x->split[ND_VALID].truth, y->split[ND_VALID].truth, nv) &&
           same_f(a->train_latents, b->train_latents, lt) && same_f(a->valid_latents, b->valid_latents, lv) &&
           same_i(x->split[ND_TRAIN].inds, y->split[ND_TRAIN].inds, (size_t)x->split[ND_TRAIN].n) &&
           same_i(x->split[ND_VALID].inds, y->split[ND_VALID].inds, (size_t)x->split[ND_VALID].n) &&
           same_i(a->train_condition, b->train_condition, (size_t)x->split[ND_TRAIN].n) &&
           same_i(a->valid_condition, b->valid_condition, (size_t)x->split[ND_VALID].n) &&
           same_f(a->readout, b->readout, (size_t)x->N * 3);
}

/* latent trajectory [T][3] and truth [T][N] of the trial with global index g, wherever it was split */
static const float *latent_of(const nd_synth *s, int g) {
    const nd_lfads_data *d = &s->data;
    for (int i = 0; i < d->split[ND_TRAIN].n; i++)
        if (d->split[ND_TRAIN].inds[i] == g) return s->train_latents + (size_t)i * d->T * 3;
    for (int i = 0; i < d->split[ND_VALID].n; i++)
        if (d->split[ND_VALID].inds[i] == g) return s->valid_latents + (size_t)i * d->T * 3;
    return NULL;
}

static void test_sessions(nd_test_ctx *ctx) {
    nd_lorenz_opts o;
    small_opts(&o);
    nd_synth five[5], three[3], again[5], single;
    nd_error err = {0};
    CHECK(ctx, nd_synth_lorenz_sessions(&o, 5, NMIN, NMAX, five, &err) == ND_OK, "%s", err.msg);
    CHECK(ctx, nd_synth_lorenz_sessions(&o, 3, NMIN, NMAX, three, &err) == ND_OK, "%s", err.msg);
    CHECK(ctx, nd_synth_lorenz_sessions(&o, 5, NMIN, NMAX, again, &err) == ND_OK, "%s", err.msg);
    CHECK(ctx, nd_synth_lorenz(&o, &single, &err) == ND_OK, "%s", err.msg);
    if (ctx->failed_checks) return;
    const int C = o.conditions, K = o.trials_per_condition, T = o.bins;

    /* neuron counts: within range, not all equal; metadata */
    int all_equal = 1;
    for (int k = 0; k < 5; k++) {
        const nd_synth *s = &five[k];
        CHECK(ctx, s->data.N >= NMIN && s->data.N <= NMAX, "session %d: %d neurons", k + 1, s->data.N);
        CHECK(ctx, s->data.Nr == s->data.N && s->lorenz.neurons == s->data.N, "session %d: neuron fields", k + 1);
        CHECK(ctx, s->session == k + 1 && s->sessions == 5 && s->neurons_min == NMIN && s->neurons_max == NMAX,
              "session %d: metadata %d/%d [%d, %d]", k + 1, s->session, s->sessions, s->neurons_min, s->neurons_max);
        CHECK(ctx, s->data.T == T && s->data.split[ND_TRAIN].n + s->data.split[ND_VALID].n == C * K && s->n_conditions == C && s->L == 3,
              "session %d: shape", k + 1);
        if (s->data.N != five[0].data.N) all_equal = 0;
    }
    CHECK(ctx, !all_equal, "all 5 sessions have %d neurons", five[0].data.N);

    /* determinism, and sessions 1..3 do not depend on how many sessions were generated */
    for (int k = 0; k < 5; k++) CHECK(ctx, same_session(&five[k], &again[k]), "session %d not deterministic", k + 1);
    for (int k = 0; k < 3; k++) CHECK(ctx, same_session(&five[k], &three[k]), "session %d changed with S", k + 1);
    nd_synth one;
    CHECK(ctx, nd_synth_lorenz_session(&o, 4, 5, NMIN, NMAX, &one, &err) == ND_OK && same_session(&one, &five[3]),
          "nd_synth_lorenz_session(4) differs from out[3] %s", err.msg);
    nd_synth_free(&one);

    /* shared latents: every trial's trajectory is that of its condition in the single-session generator
     * (same seed, same initial states), bit for bit, in every session */
    for (int k = 0; k < 5; k++) {
        int ok = 1;
        for (int g = 0; g < C * K; g++) {
            const float *z = latent_of(&five[k], g), *ref = latent_of(&single, (g / K) * K);
            ok &= z && ref && same_f(z, ref, (size_t)T * 3);
        }
        CHECK(ctx, ok, "session %d: latents differ from the shared condition trajectories", k + 1);
    }

    /* condition ids: g / K in every split of every session, every condition present in train and valid */
    for (int k = 0; k < 5; k++) {
        const nd_synth *s = &five[k];
        int per_valid[64] = {0}, per_train[64] = {0}, ok = 1;
        for (int i = 0; i < s->data.split[ND_TRAIN].n; i++) {
            ok &= s->train_condition[i] == s->data.split[ND_TRAIN].inds[i] / K;
            per_train[s->train_condition[i]]++;
        }
        for (int i = 0; i < s->data.split[ND_VALID].n; i++) {
            ok &= s->valid_condition[i] == s->data.split[ND_VALID].inds[i] / K;
            per_valid[s->valid_condition[i]]++;
        }
        for (int c = 0; c < C; c++) ok &= per_valid[c] == 2 && per_train[c] == K - 2;
        CHECK(ctx, ok, "session %d: condition ids / per-condition split", k + 1);
    }

    /* read-outs: magnitudes in [1, 2], truth = exp(W z + log base) with the session's own W, and W differs
     * between sessions (compared on the rows both have) */
    const double logbase = log(o.base_rate_hz * o.bin_ms / 1000.0);
    for (int k = 0; k < 5; k++) {
        const nd_synth *s = &five[k];
        const int N = s->data.N;
        int mag_ok = 1;
        for (int i = 0; i < N * 3; i++) mag_ok &= fabsf(s->readout[i]) >= 1.0f && fabsf(s->readout[i]) <= 2.0f;
        CHECK(ctx, mag_ok, "session %d: read-out magnitudes outside [1, 2]", k + 1);
        double worst = 0;
        for (int i = 0; i < s->data.split[ND_TRAIN].n; i++)
            for (int t = 0; t < T; t++) {
                const float *z = s->train_latents + ((size_t)i * T + t) * 3;
                for (int n = 0; n < N; n++) {
                    const float *w = s->readout + n * 3;
                    double lr = (double)w[0] * z[0] + (double)w[1] * z[1] + (double)w[2] * z[2] + logbase;
                    double tr = s->data.split[ND_TRAIN].truth[((size_t)i * T + t) * N + n];
                    worst = fmax(worst, fabs(log(tr) - lr));
                }
            }
        CHECK(ctx, worst < 1e-5, "session %d: log truth vs W z + log base: max error %g", k + 1, worst);
        for (int j = 0; j < k; j++) {
            int rows = N < five[j].data.N ? N : five[j].data.N;
            CHECK(ctx, !same_f(s->readout, five[j].readout, (size_t)rows * 3), "sessions %d and %d share a read-out",
                  j + 1, k + 1);
        }
    }
    CHECK(ctx, !(five[0].data.N == single.data.N && same_f(five[0].readout, single.readout, (size_t)single.data.N * 3)),
          "session 1 reuses the single-session read-out");

    /* own splits and spikes: not every session has the same validation trials; counts match rates */
    int split_differs = 0;
    for (int k = 1; k < 5; k++)
        if (!same_i(five[k].data.split[ND_VALID].inds, five[0].data.split[ND_VALID].inds, (size_t)five[0].data.split[ND_VALID].n)) split_differs = 1;
    CHECK(ctx, split_differs, "all sessions have the same train/valid split");
    for (int k = 0; k < 5; k++) {
        const nd_lfads_data *d = &five[k].data;
        size_t nt = (size_t)d->split[ND_TRAIN].n * T * d->N;
        double sx = 0, sr = 0;
        for (size_t i = 0; i < nt; i++) sx += d->split[ND_TRAIN].counts[i], sr += d->split[ND_TRAIN].truth[i];
        CHECK(ctx, fabs(sx - sr) < 5 * sqrt(sr), "session %d: spikes %g vs rate %g", k + 1, sx, sr);
    }

    /* a different seed changes the sessions */
    nd_synth other[2];
    o.seed = 4;
    CHECK(ctx, nd_synth_lorenz_sessions(&o, 2, NMIN, NMAX, other, &err) == ND_OK, "%s", err.msg);
    CHECK(ctx, !same_session(&other[0], &five[0]), "another seed gives the same session 1");
    for (int k = 0; k < 2; k++) nd_synth_free(&other[k]);

    for (int k = 0; k < 5; k++) nd_synth_free(&five[k]), nd_synth_free(&again[k]);
    for (int k = 0; k < 3; k++) nd_synth_free(&three[k]);
    nd_synth_free(&single);
}

static void test_bad_options(nd_test_ctx *ctx) {
    nd_lorenz_opts o;
    small_opts(&o);
    nd_synth s[3], one;
    nd_error err = {0};
    CHECK(ctx, nd_synth_lorenz_sessions(&o, 0, NMIN, NMAX, s, &err) == ND_ERR_ARG && strstr(err.msg, "sessions"), "%s",
          err.msg);
    CHECK(ctx, nd_synth_lorenz_session(&o, 1, ND_SYNTH_MAX_SESSIONS + 1, NMIN, NMAX, &one, &err) == ND_ERR_ARG &&
                   strstr(err.msg, "sessions"),
          "%s", err.msg);
    CHECK(ctx, nd_synth_lorenz_session(&o, 4, 3, NMIN, NMAX, &one, &err) == ND_ERR_ARG && strstr(err.msg, "session"),
          "%s", err.msg);
    CHECK(ctx, nd_synth_lorenz_sessions(&o, 3, 0, NMAX, s, &err) == ND_ERR_ARG && strstr(err.msg, "neurons_min"), "%s",
          err.msg);
    CHECK(ctx, nd_synth_lorenz_sessions(&o, 3, 20, 19, s, &err) == ND_ERR_ARG && strstr(err.msg, "neurons_max"), "%s",
          err.msg);
    o.conditions = 0;
    CHECK(ctx, nd_synth_lorenz_sessions(&o, 3, NMIN, NMAX, s, &err) == ND_ERR_ARG && strstr(err.msg, "conditions"),
          "%s", err.msg);
    CHECK(ctx, s[0].data.split[ND_TRAIN].counts == NULL && s[2].readout == NULL, "zeroed on failure");
}

static void test_write_read(nd_test_ctx *ctx) {
    nd_lorenz_opts o;
    small_opts(&o);
    nd_synth s[2];
    nd_error err = {0};
    CHECK(ctx, nd_synth_lorenz_sessions(&o, 2, NMIN, NMAX, s, &err) == ND_OK, "%s", err.msg);
    if (ctx->failed_checks) return;
    for (int k = 0; k < 2; k++) {
        char p[512];
        snprintf(p, sizeof p, "%s/s%d.h5", dir, k + 1);
        CHECK(ctx, nd_synth_write(&s[k], p, &err) == ND_OK, "%s", err.msg);
        nd_lfads_data r;
        CHECK(ctx, nd_lfads_data_read(p, 0, 0.5, &r, &err) == ND_OK, "%s", err.msg);
        if (err.code) continue;
        const nd_lfads_data *d = &s[k].data;
        size_t nt = (size_t)d->split[ND_TRAIN].n * d->T * d->N;
        CHECK(ctx, r.split[ND_TRAIN].n == d->split[ND_TRAIN].n && r.split[ND_VALID].n == d->split[ND_VALID].n && r.N == d->N && r.T == d->T &&
                       r.valid_from_file,
              "session %d: dims", k + 1);
        CHECK(ctx, same_f(r.split[ND_TRAIN].counts, d->split[ND_TRAIN].counts, nt) && same_f(r.split[ND_TRAIN].truth, d->split[ND_TRAIN].truth, nt), "session %d: data",
              k + 1);
        CHECK(ctx, same_i(r.split[ND_TRAIN].cond, s[k].train_condition, (size_t)d->split[ND_TRAIN].n) &&
                       same_i(r.split[ND_VALID].cond, s[k].valid_condition, (size_t)d->split[ND_VALID].n),
              "session %d: condition ids read back", k + 1);
        nd_lfads_data_free(&r);
        float *w = NULL;
        int rank = 0;
        size_t dims[ND_H5_MAX_RANK];
        CHECK(ctx, nd_h5_read_float(p, "readout", &w, &rank, dims, &err) == ND_OK && rank == 2 &&
                       dims[0] == (size_t)d->N && dims[1] == 3 && same_f(w, s[k].readout, (size_t)d->N * 3),
              "session %d: readout %s", k + 1, err.msg);
        nd_free(w);
        double v = 0;
        CHECK(ctx, nd_h5_read_attr_double(p, "/", "session", &v, &err) == ND_OK && v == k + 1, "session attr");
        CHECK(ctx, nd_h5_read_attr_double(p, "/", "sessions", &v, &err) == ND_OK && v == 2, "sessions attr");
        CHECK(ctx, nd_h5_read_attr_double(p, "/", "neurons", &v, &err) == ND_OK && v == d->N, "neurons attr");
        CHECK(ctx, nd_h5_read_attr_double(p, "/", "seed", &v, &err) == ND_OK && v == 3, "seed attr");
        nd_synth_free(&s[k]);
    }
    /* a single-session file has no session metadata (it stays as before) */
    nd_synth one;
    char p[512];
    snprintf(p, sizeof p, "%s/single.h5", dir);
    CHECK(ctx, nd_synth_lorenz(&o, &one, &err) == ND_OK && nd_synth_write(&one, p, &err) == ND_OK, "%s", err.msg);
    CHECK(ctx, !nd_h5_exists(p, "readout"), "single-session file has a readout dataset");
    double v;
    CHECK(ctx, nd_h5_read_attr_double(p, "/", "session", &v, &err) != ND_OK, "single-session file has a session attr");
    nd_synth_free(&one);
}

int main(void) {
    if (!nd_test_scratch(dir, sizeof dir, "nd_test_synth_sessions_")) return 1;
    RUN(test_sessions);
    RUN(test_bad_options);
    RUN(test_write_read);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
    nd_test_scratch_remove(dir);
    TEST_MAIN_END();
}
