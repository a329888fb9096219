#include "synth.h"
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../core/mem.h"
#include "../core/rng.h"
#include "../io/h5.h"

/* purposes of the random streams nd_rng_stream(seed, purpose, index) */
enum { RS_WEIGHTS = 1, RS_INIT = 2, RS_SPIKES = 3, RS_SPLIT = 4, RS_PULSE = 5, RS_SESSION_SEED = 6, RS_SESSION_NEURONS = 7,
       RS_CALCIUM = 8 };

#define MAX_COUNTS_PER_BIN 1e6

void nd_lorenz_opts_default(nd_lorenz_opts *o) {
    o->conditions = 65;
    o->trials_per_condition = 24;
    o->neurons = 30;
    o->bins = 50;
    o->bin_ms = 20;
    o->base_rate_hz = 10;
    o->valid_fraction = 0.2;
    o->seed = 0;
}

void nd_crnn_opts_default(nd_crnn_opts *o) {
    o->conditions = 400;
    o->trials_per_condition = 10;
    o->neurons = 50;
    o->bins = 100;
    o->gain = 1.5;
    o->tau_s = 0.025;
    o->dt_s = 0.01;
    o->max_rate_hz = 30;
    o->input_pulses = 0;
    o->pulse_magnitude = 20;
    o->valid_fraction = 0.2;
    o->seed = 0;
}

void nd_synth_free(nd_synth *s) {
    if (!s) return;
    nd_lfads_data_free(&s->data);
    nd_free(s->train_latents);
    nd_free(s->valid_latents);
    nd_free(s->train_inputs);
    nd_free(s->valid_inputs);
    nd_free(s->train_condition);
    nd_free(s->valid_condition);
    nd_free(s->readout);
    nd_free(s->train_spikes);
    nd_free(s->valid_spikes);
    memset(s, 0, sizeof *s);
}

void nd_calcium_opts_default(nd_calcium_opts *o) {
    o->tau_ms = 300;
    o->amplitude = 1;
    o->noise = 0.5;
    o->threshold = 0.1;
}

/* traces of n trials [n][T][N] from their spikes, in place; trial k is trial inds[k] of the set */
static void calcium_trials(float *x, const int *inds, int n, int T, int N, double g, const nd_calcium_opts *o,
                           uint64_t seed) {
    for (int k = 0; k < n; k++) {
        nd_rng r;
        nd_rng_stream(&r, seed, RS_CALCIUM, (uint64_t)(inds ? inds[k] : k));
        for (int j = 0; j < N; j++) {
            double c = 0, fprev = 0;
            for (int t = 0; t < T; t++) {
                float *v = x + ((size_t)k * T + t) * N + j;
                c = g * c + *v;
                double f = o->amplitude * c + o->noise * nd_rng_normal(&r);
                double d = f - g * fprev;
                fprev = f;
                *v = d >= o->threshold ? (float)d : 0.0f;
            }
        }
    }
}

nd_status nd_synth_calcium(nd_synth *s, const nd_calcium_opts *o, uint64_t seed, nd_error *err) {
    if (!(o->tau_ms > 0) || !(o->amplitude > 0) || !(o->noise >= 0) || !(o->threshold >= 0) || !isfinite(o->tau_ms) ||
        !isfinite(o->amplitude) || !isfinite(o->noise) || !isfinite(o->threshold))
        return nd_fail(err, ND_ERR_ARG, "calcium: tau_ms and amplitude must be > 0, noise and threshold >= 0");
    nd_lfads_data *d = &s->data;
    nd_lfads_split *tr = &d->split[ND_TRAIN], *va = &d->split[ND_VALID];
    size_t nt = (size_t)tr->n * d->T * d->N, nv = (size_t)va->n * d->T * d->N;
    s->train_spikes = nd_alloc(sizeof(float) * (nt ? nt : 1));
    s->valid_spikes = nd_alloc(sizeof(float) * (nv ? nv : 1));
    if (!s->train_spikes || !s->valid_spikes) return nd_fail(err, ND_ERR_NOMEM, "calcium: out of memory");
    memcpy(s->train_spikes, tr->counts, sizeof(float) * nt);
    memcpy(s->valid_spikes, va->counts, sizeof(float) * nv);
    double bin_ms = s->bin_ms > 0 ? s->bin_ms : 20, g = exp(-bin_ms / o->tau_ms);
    calcium_trials(tr->counts, tr->inds, tr->n, d->T, d->N, g, o, seed);
    calcium_trials(va->counts, va->inds, va->n, d->T, d->N, g, o, seed);
    s->calcium = 1;
    s->ca = *o;
    return ND_OK;
}

/* ---------- shared: sizes, split and allocation ---------- */
typedef struct {
    int C, K, T, N, n;   /* conditions, trials per condition, bins, neurons, total trials */
    unsigned char *valid; /* [n] */
    int *slot;            /* [n] index within its split */
} layout;

static nd_status check_sizes(const char *gen, int C, int K, int T, int N, double vf, nd_error *err) {
    if (C < 1) return nd_fail(err, ND_ERR_ARG, "%s: conditions must be >= 1 (got %d)", gen, C);
    if (K < 1) return nd_fail(err, ND_ERR_ARG, "%s: trials_per_condition must be >= 1 (got %d)", gen, K);
    if (T < 1) return nd_fail(err, ND_ERR_ARG, "%s: bins must be >= 1 (got %d)", gen, T);
    if (N < 1) return nd_fail(err, ND_ERR_ARG, "%s: neurons must be >= 1 (got %d)", gen, N);
    if (!(vf > 0 && vf < 1)) return nd_fail(err, ND_ERR_ARG, "%s: valid_fraction must be in (0, 1) (got %g)", gen, vf);
    double total = (double)C * K * T * (N > 3 ? N : 3);
    if ((double)C * K > INT_MAX / 2 || total > (double)((size_t)1 << 31))
        return nd_fail(err, ND_ERR_ARG, "%s: %d conditions x %d trials x %d bins x %d neurons is too large", gen, C, K,
                       T, N);
    return ND_OK;
}

static nd_status make_layout(const char *gen, layout *L, int C, int K, int T, int N, double vf, uint64_t seed,
                             nd_synth *s, int latent_dims, int input_dims, nd_error *err) {
    memset(L, 0, sizeof *L);
    L->C = C;
    L->K = K;
    L->T = T;
    L->N = N;
    L->n = C * K;
    L->valid = malloc((size_t)L->n);
    L->slot = malloc((size_t)L->n * sizeof(int));
    int *perm = malloc((size_t)K * sizeof(int));
    if (!L->valid || !L->slot || !perm) {
        free(perm);
        return nd_fail(err, ND_ERR_NOMEM, "%s: out of memory", gen);
    }
    int nv_c = (int)lround(K * vf);
    if (nv_c < 1 || nv_c >= K) {
        free(perm);
        return nd_fail(err, ND_ERR_ARG,
                       "%s: valid_fraction %g of %d trials per condition leaves %s (need at least 1 train and 1 "
                       "valid trial per condition)",
                       gen, vf, K, nv_c < 1 ? "no validation trials" : "no training trials");
    }
    int nt = 0, nv = 0;
    for (int c = 0; c < C; c++) {
        nd_rng r;
        nd_rng_stream(&r, seed, RS_SPLIT, (uint64_t)c);
        for (int k = 0; k < K; k++) perm[k] = k;
        nd_rng_shuffle(&r, perm, K);
        for (int k = 0; k < K; k++) L->valid[c * K + k] = 0;
        for (int k = 0; k < nv_c; k++) L->valid[c * K + perm[k]] = 1;
        for (int k = 0; k < K; k++) {
            int g = c * K + k;
            L->slot[g] = L->valid[g] ? nv++ : nt++;
        }
    }
    free(perm);
    nd_lfads_data *d = &s->data;
    nd_lfads_split *tr = &d->split[ND_TRAIN], *va = &d->split[ND_VALID];
    tr->n = nt;
    va->n = nv;
    d->T = T;
    d->N = N;
    d->Nr = N;
    d->Tr = T;
    d->E = 0;
    d->conversion_factor = 1.0;
    d->valid_from_file = 1;
    s->n_conditions = C;
    s->L = latent_dims;
    s->U = input_dims;
    size_t tn = (size_t)T * N, tl = (size_t)T * latent_dims, tu = (size_t)T * input_dims;
    int ok = !ND_ALLOC(tr->counts, nt * tn, "", NULL) && !ND_ALLOC(va->counts, nv * tn, "", NULL) &&
             !ND_ALLOC(tr->truth, nt * tn, "", NULL) && !ND_ALLOC(va->truth, nv * tn, "", NULL) &&
             !ND_ALLOC(tr->inds, nt, "", NULL) && !ND_ALLOC(va->inds, nv, "", NULL) &&
             !ND_ALLOC(s->train_latents, nt * tl, "", NULL) && !ND_ALLOC(s->valid_latents, nv * tl, "", NULL) &&
             !ND_ALLOC(s->train_condition, nt, "", NULL) && !ND_ALLOC(s->valid_condition, nv, "", NULL);
    if (ok && input_dims > 0)
        ok = !ND_ALLOC(s->train_inputs, nt * tu, "", NULL) && !ND_ALLOC(s->valid_inputs, nv * tu, "", NULL);
    if (!ok) return nd_fail(err, ND_ERR_NOMEM, "%s: out of memory for %d trials x %d bins x %d neurons", gen, L->n, T, N);
    for (int g = 0; g < L->n; g++) {
        if (L->valid[g]) {
            va->inds[L->slot[g]] = g;
            s->valid_condition[L->slot[g]] = g / K;
        } else {
            tr->inds[L->slot[g]] = g;
            s->train_condition[L->slot[g]] = g / K;
        }
    }
    return ND_OK;
}

static void layout_free(layout *L) {
    free(L->valid);
    free(L->slot);
}

/* pointer to trial g's block (inner elements per trial) in the split arrays */
static float *trial_ptr(const layout *L, float *tr, float *va, size_t inner, int g) {
    return (L->valid[g] ? va : tr) + (size_t)L->slot[g] * inner;
}

/* Poisson spikes for every trial from its truth; stream (seed, RS_SPIKES, g) */
static void draw_spikes(const layout *L, nd_synth *s, uint64_t seed) {
    size_t tn = (size_t)L->T * L->N;
    nd_lfads_split *tr = &s->data.split[ND_TRAIN], *va = &s->data.split[ND_VALID];
    for (int g = 0; g < L->n; g++) {
        const float *rate = trial_ptr(L, tr->truth, va->truth, tn, g);
        float *x = trial_ptr(L, tr->counts, va->counts, tn, g);
        nd_rng r;
        nd_rng_stream(&r, seed, RS_SPIKES, (uint64_t)g);
        for (size_t i = 0; i < tn; i++) x[i] = (float)nd_rng_poisson(&r, rate[i]);
    }
}

/* ---------- Lorenz ---------- */
static void lorenz_f(const double *v, double *dv) {
    const double sigma = 10.0, rho = 28.0, beta = 8.0 / 3.0;
    dv[0] = sigma * (v[1] - v[0]);
    dv[1] = v[0] * (rho - v[2]) - v[1];
    dv[2] = v[0] * v[1] - beta * v[2];
}

static void rk4_step(double *v, double h) {
    double k1[3], k2[3], k3[3], k4[3], t[3];
    lorenz_f(v, k1);
    for (int i = 0; i < 3; i++) t[i] = v[i] + 0.5 * h * k1[i];
    lorenz_f(t, k2);
    for (int i = 0; i < 3; i++) t[i] = v[i] + 0.5 * h * k2[i];
    lorenz_f(t, k3);
    for (int i = 0; i < 3; i++) t[i] = v[i] + h * k3[i];
    lorenz_f(t, k4);
    for (int i = 0; i < 3; i++) v[i] += h / 6.0 * (k1[i] + 2 * k2[i] + 2 * k3[i] + k4[i]);
}

/* The conditions (initial states, trajectories) come from o->seed; the read-out, split and spikes
 * from own_seed, which is o->seed for a single session and a per-session seed for stitching sets. */
static nd_status lorenz_build(const nd_lorenz_opts *o, uint64_t own_seed, nd_synth *s, nd_error *err) {
    memset(s, 0, sizeof *s);
    const char *gen = "lorenz";
    nd_status st = check_sizes(gen, o->conditions, o->trials_per_condition, o->bins, o->neurons, o->valid_fraction, err);
    if (st) return st;
    if (!(o->bin_ms > 0 && isfinite(o->bin_ms)))
        return nd_fail(err, ND_ERR_ARG, "lorenz: bin_ms must be > 0 (got %g)", o->bin_ms);
    if (!(o->base_rate_hz > 0 && isfinite(o->base_rate_hz)))
        return nd_fail(err, ND_ERR_ARG, "lorenz: base_rate_hz must be > 0 (got %g)", o->base_rate_hz);
    double base = o->base_rate_hz * o->bin_ms / 1000.0; /* counts/bin at W z = 0; |W z| <= 6 */
    if (base * exp(6.0) > MAX_COUNTS_PER_BIN)
        return nd_fail(err, ND_ERR_ARG, "lorenz: base_rate_hz %g x bin_ms %g gives rates above %g counts per bin",
                       o->base_rate_hz, o->bin_ms, MAX_COUNTS_PER_BIN);
    s->kind = ND_SYNTH_LORENZ;
    s->lorenz = *o;
    s->bin_ms = o->bin_ms;
    layout L;
    st = make_layout(gen, &L, o->conditions, o->trials_per_condition, o->bins, o->neurons, o->valid_fraction, own_seed,
                     s, 3, 0, err);
    const int T = o->bins, N = o->neurons, K = o->trials_per_condition;
    double *W = NULL, *z = NULL;
    if (!st && (!(W = malloc((size_t)N * 3 * sizeof *W)) || !(z = malloc((size_t)T * 3 * sizeof *z)) ||
                !(s->readout = nd_alloc((size_t)N * 3 * sizeof *s->readout))))
        st = nd_fail(err, ND_ERR_NOMEM, "lorenz: out of memory");
    if (st) goto fail;

    nd_rng r;
    nd_rng_stream(&r, own_seed, RS_WEIGHTS, 0);
    for (int i = 0; i < N * 3; i++) {
        double mag = 1.0 + nd_rng_uniform(&r);
        W[i] = nd_rng_uniform(&r) < 0.5 ? -mag : mag;
        s->readout[i] = (float)W[i];
    }
    const double h = 0.005;
    const int substeps = 4; /* 0.02 time units per bin */
    const double logbase = log(base);
    for (int c = 0; c < o->conditions; c++) {
        nd_rng_stream(&r, o->seed, RS_INIT, (uint64_t)c);
        double v[3] = {-15 + 30 * nd_rng_uniform(&r), -15 + 30 * nd_rng_uniform(&r), 10 + 30 * nd_rng_uniform(&r)};
        for (int i = 0; i < 1000; i++) rk4_step(v, h);
        for (int t = 0; t < T; t++) {
            for (int j = 0; j < 3; j++) z[t * 3 + j] = v[j];
            for (int i = 0; i < substeps; i++) rk4_step(v, h);
        }
        double maxabs = 0;
        for (int j = 0; j < 3; j++) {
            double m = 0;
            for (int t = 0; t < T; t++) m += z[t * 3 + j];
            m /= T;
            for (int t = 0; t < T; t++) {
                z[t * 3 + j] -= m;
                if (fabs(z[t * 3 + j]) > maxabs) maxabs = fabs(z[t * 3 + j]);
            }
        }
        if (maxabs > 0)
            for (int i = 0; i < T * 3; i++) z[i] /= maxabs;
        for (int k = 0; k < K; k++) {
            int g = c * K + k;
            float *lat = trial_ptr(&L, s->train_latents, s->valid_latents, (size_t)T * 3, g);
            float *rate = trial_ptr(&L, s->data.split[ND_TRAIN].truth, s->data.split[ND_VALID].truth, (size_t)T * N,
                                    g);
            for (int t = 0; t < T; t++) {
                for (int j = 0; j < 3; j++) lat[t * 3 + j] = (float)z[t * 3 + j];
                for (int n = 0; n < N; n++) {
                    const double *w = W + n * 3;
                    double lr = w[0] * z[t * 3] + w[1] * z[t * 3 + 1] + w[2] * z[t * 3 + 2] + logbase;
                    rate[t * N + n] = (float)exp(lr);
                }
            }
        }
    }
    draw_spikes(&L, s, own_seed);
    free(W);
    free(z);
    layout_free(&L);
    return ND_OK;
fail:
    free(W);
    free(z);
    layout_free(&L);
    nd_synth_free(s);
    return st;
}

nd_status nd_synth_lorenz(const nd_lorenz_opts *o, nd_synth *s, nd_error *err) {
    if (!o || !s) return nd_fail(err, ND_ERR_ARG, "lorenz: NULL argument");
    return lorenz_build(o, o->seed, s, err);
}

nd_status nd_synth_lorenz_session(const nd_lorenz_opts *o, int session, int sessions, int neurons_min,
                                  int neurons_max, nd_synth *s, nd_error *err) {
    if (!o || !s) return nd_fail(err, ND_ERR_ARG, "lorenz sessions: NULL argument");
    memset(s, 0, sizeof *s);
    if (sessions < 1 || sessions > ND_SYNTH_MAX_SESSIONS)
        return nd_fail(err, ND_ERR_ARG, "lorenz sessions: sessions must be in [1, %d] (got %d)", ND_SYNTH_MAX_SESSIONS,
                       sessions);
    if (session < 1 || session > sessions)
        return nd_fail(err, ND_ERR_ARG, "lorenz sessions: session must be in [1, %d] (got %d)", sessions, session);
    if (neurons_min < 1) return nd_fail(err, ND_ERR_ARG, "lorenz sessions: neurons_min must be >= 1 (got %d)", neurons_min);
    if (neurons_max < neurons_min)
        return nd_fail(err, ND_ERR_ARG, "lorenz sessions: neurons_max (%d) must be >= neurons_min (%d)", neurons_max,
                       neurons_min);
    const uint64_t k = (uint64_t)(session - 1);
    nd_rng r;
    nd_rng_stream(&r, o->seed, RS_SESSION_NEURONS, k);
    nd_lorenz_opts so = *o;
    so.neurons = neurons_min + (int)nd_rng_below(&r, (uint64_t)neurons_max - (uint64_t)neurons_min + 1);
    nd_rng_stream(&r, o->seed, RS_SESSION_SEED, k);
    const uint64_t own_seed = nd_rng_u64(&r);
    nd_error e = {0};
    nd_status st = lorenz_build(&so, own_seed, s, &e);
    if (st) return nd_fail(err, st, "session %d: %s", session, e.msg);
    s->session = session;
    s->sessions = sessions;
    s->neurons_min = neurons_min;
    s->neurons_max = neurons_max;
    return ND_OK;
}

nd_status nd_synth_lorenz_sessions(const nd_lorenz_opts *o, int sessions, int neurons_min, int neurons_max,
                                   nd_synth *out, nd_error *err) {
    if (!o || !out) return nd_fail(err, ND_ERR_ARG, "lorenz sessions: NULL argument");
    if (sessions < 1 || sessions > ND_SYNTH_MAX_SESSIONS)
        return nd_fail(err, ND_ERR_ARG, "lorenz sessions: sessions must be in [1, %d] (got %d)", ND_SYNTH_MAX_SESSIONS,
                       sessions);
    memset(out, 0, (size_t)sessions * sizeof *out);
    for (int k = 0; k < sessions; k++) {
        nd_status st = nd_synth_lorenz_session(o, k + 1, sessions, neurons_min, neurons_max, &out[k], err);
        if (st) {
            for (int j = 0; j < k; j++) nd_synth_free(&out[j]);
            return st;
        }
    }
    return ND_OK;
}

/* ---------- chaotic RNN ---------- */
nd_status nd_synth_chaotic_rnn(const nd_crnn_opts *o, nd_synth *s, nd_error *err) {
    if (!o || !s) return nd_fail(err, ND_ERR_ARG, "chaotic_rnn: NULL argument");
    memset(s, 0, sizeof *s);
    const char *gen = "chaotic_rnn";
    nd_status st = check_sizes(gen, o->conditions, o->trials_per_condition, o->bins, o->neurons, o->valid_fraction, err);
    if (st) return st;
    if (!(o->tau_s > 0 && isfinite(o->tau_s))) return nd_fail(err, ND_ERR_ARG, "chaotic_rnn: tau must be > 0 (got %g)", o->tau_s);
    if (!(o->dt_s > 0 && isfinite(o->dt_s))) return nd_fail(err, ND_ERR_ARG, "chaotic_rnn: dt must be > 0 (got %g)", o->dt_s);
    if (!(o->dt_s <= o->tau_s))
        return nd_fail(err, ND_ERR_ARG, "chaotic_rnn: dt (%g) must not exceed tau (%g)", o->dt_s, o->tau_s);
    if (!(o->gain >= 0 && isfinite(o->gain))) return nd_fail(err, ND_ERR_ARG, "chaotic_rnn: gain must be >= 0 (got %g)", o->gain);
    if (!(o->max_rate_hz > 0 && isfinite(o->max_rate_hz)))
        return nd_fail(err, ND_ERR_ARG, "chaotic_rnn: max_rate_hz must be > 0 (got %g)", o->max_rate_hz);
    if (o->max_rate_hz * o->dt_s > MAX_COUNTS_PER_BIN)
        return nd_fail(err, ND_ERR_ARG, "chaotic_rnn: max_rate_hz %g x dt %g exceeds %g counts per bin", o->max_rate_hz,
                       o->dt_s, MAX_COUNTS_PER_BIN);
    if (!isfinite(o->pulse_magnitude))
        return nd_fail(err, ND_ERR_ARG, "chaotic_rnn: pulse_magnitude must be finite");
    if (o->input_pulses && o->bins < 2)
        return nd_fail(err, ND_ERR_ARG, "chaotic_rnn: input pulses need bins >= 2 (got %d)", o->bins);
    s->kind = ND_SYNTH_CHAOTIC_RNN;
    s->crnn = *o;
    s->crnn.input_pulses = o->input_pulses ? 1 : 0;
    s->bin_ms = o->dt_s * 1000.0;
    const int T = o->bins, N = o->neurons, K = o->trials_per_condition, P = o->input_pulses ? 1 : 0;
    layout L;
    st = make_layout(gen, &L, o->conditions, K, T, N, o->valid_fraction, o->seed, s, N, P, err);
    double *W = NULL, *Bin = NULL, *x0 = NULL, *x = NULL, *xn = NULL, *r = NULL;
    float *traj = NULL;
    if (!st) {
        W = malloc((size_t)N * N * sizeof *W);
        Bin = malloc((size_t)N * sizeof *Bin);
        x0 = malloc((size_t)N * sizeof *x0);
        x = malloc((size_t)N * sizeof *x);
        xn = malloc((size_t)N * sizeof *xn);
        r = malloc((size_t)N * sizeof *r);
        traj = malloc((size_t)T * N * sizeof *traj);
        if (!W || !Bin || !x0 || !x || !xn || !r || !traj) st = nd_fail(err, ND_ERR_NOMEM, "chaotic_rnn: out of memory");
    }
    if (st) goto out;

    nd_rng rng;
    nd_rng_stream(&rng, o->seed, RS_WEIGHTS, 0);
    const double wscale = 1.0 / sqrt((double)N);
    for (int i = 0; i < N * N; i++) W[i] = nd_rng_normal(&rng) * wscale;
    for (int i = 0; i < N; i++) Bin[i] = nd_rng_normal(&rng);
    const double a = o->dt_s / o->tau_s, g = o->gain;
    const int lo = T / 4, width = T / 2 > 0 ? T / 2 : 1;
    for (int c = 0; c < o->conditions; c++) {
        nd_rng_stream(&rng, o->seed, RS_INIT, (uint64_t)c);
        for (int i = 0; i < N; i++) x0[i] = nd_rng_normal(&rng);
        for (int k = 0; k < K; k++) {
            int gi = c * K + k;
            int pulse_bin = -1;
            if (P) {
                nd_rng pr;
                nd_rng_stream(&pr, o->seed, RS_PULSE, (uint64_t)gi);
                pulse_bin = lo + (int)nd_rng_below(&pr, (uint64_t)width);
            }
            if (k == 0 || P) { /* without pulses all trials of a condition share one trajectory */
                memcpy(x, x0, (size_t)N * sizeof *x);
                for (int t = 0; t < T; t++) {
                    for (int i = 0; i < N; i++) r[i] = tanh(x[i]);
                    double u = t == pulse_bin ? o->pulse_magnitude : 0.0;
                    for (int i = 0; i < N; i++) {
                        const double *wi = W + (size_t)i * N;
                        double acc = 0;
                        for (int j = 0; j < N; j++) acc += wi[j] * r[j];
                        xn[i] = (1 - a) * x[i] + a * (g * acc + Bin[i] * u);
                    }
                    memcpy(x, xn, (size_t)N * sizeof *x);
                    for (int i = 0; i < N; i++) traj[(size_t)t * N + i] = (float)tanh(x[i]);
                }
            }
            memcpy(trial_ptr(&L, s->train_latents, s->valid_latents, (size_t)T * N, gi), traj,
                   (size_t)T * N * sizeof *traj);
            if (P) {
                float *u = trial_ptr(&L, s->train_inputs, s->valid_inputs, (size_t)T, gi);
                u[pulse_bin] = (float)o->pulse_magnitude;
            }
        }
    }
    /* min-max over the whole dataset, then scale to counts per bin */
    nd_lfads_split *tr = &s->data.split[ND_TRAIN], *va = &s->data.split[ND_VALID];
    size_t ntr = (size_t)tr->n * T * N, nva = (size_t)va->n * T * N;
    float mn = INFINITY, mx = -INFINITY;
    for (size_t i = 0; i < ntr; i++) {
        mn = fminf(mn, s->train_latents[i]);
        mx = fmaxf(mx, s->train_latents[i]);
    }
    for (size_t i = 0; i < nva; i++) {
        mn = fminf(mn, s->valid_latents[i]);
        mx = fmaxf(mx, s->valid_latents[i]);
    }
    const double scale = o->max_rate_hz * o->dt_s, range = (double)mx - (double)mn;
    for (size_t i = 0; i < ntr; i++)
        tr->truth[i] = range > 0 ? (float)(((double)s->train_latents[i] - mn) / range * scale) : 0.0f;
    for (size_t i = 0; i < nva; i++)
        va->truth[i] = range > 0 ? (float)(((double)s->valid_latents[i] - mn) / range * scale) : 0.0f;
    draw_spikes(&L, s, o->seed);
out:
    free(W);
    free(Bin);
    free(x0);
    free(x);
    free(xn);
    free(r);
    free(traj);
    layout_free(&L);
    if (st) nd_synth_free(s);
    return st;
}

double nd_synth_mean_rate_hz(const nd_synth *s) {
    const nd_lfads_data *d = &s->data;
    size_t tn = (size_t)d->T * d->N, ntr = (size_t)d->split[ND_TRAIN].n * tn, nva = (size_t)d->split[ND_VALID].n * tn;
    const float *tr = s->calcium ? s->train_spikes : d->split[ND_TRAIN].counts;
    const float *va = s->calcium ? s->valid_spikes : d->split[ND_VALID].counts;
    double sum = 0;
    for (size_t i = 0; i < ntr; i++) sum += tr[i];
    for (size_t i = 0; i < nva; i++) sum += va[i];
    if (ntr + nva == 0 || !(s->bin_ms > 0)) return 0;
    return sum / (double)(ntr + nva) / (s->bin_ms / 1000.0);
}

/* ---------- writer ---------- */
static nd_status write_counts(nd_h5file *f, const char *name, const float *x, int n, int T, int N, nd_error *err) {
    size_t cnt = (size_t)n * T * N;
    int *tmp = nd_alloc(cnt * sizeof(int));
    if (!tmp) return nd_fail(err, ND_ERR_NOMEM, "out of memory writing '%s'", name);
    for (size_t i = 0; i < cnt; i++) tmp[i] = (int)x[i];
    size_t dims[3] = {(size_t)n, (size_t)T, (size_t)N};
    nd_status st = nd_h5_write_int(f, name, tmp, 3, dims, err);
    nd_free(tmp);
    return st;
}

nd_status nd_synth_write(const nd_synth *s, const char *path, nd_error *err) {
    if (!s || !s->data.split[ND_TRAIN].counts || !s->data.split[ND_VALID].counts)
        return nd_fail(err, ND_ERR_ARG, "nd_synth_write: nothing generated");
    const nd_lfads_data *d = &s->data;
    const nd_lfads_split *tr = &d->split[ND_TRAIN], *va = &d->split[ND_VALID];
    nd_h5file *f = NULL;
    nd_status st = nd_h5_create(&f, path, err);
    if (st) return st;
    const int T = d->T, N = d->N;
    size_t dt[3] = {(size_t)tr->n, (size_t)T, (size_t)N}, dv[3] = {(size_t)va->n, (size_t)T, (size_t)N};
    size_t lt[3] = {dt[0], dt[1], (size_t)s->L}, lv[3] = {dv[0], dv[1], (size_t)s->L};
    size_t ut[3] = {dt[0], dt[1], (size_t)s->U}, uv[3] = {dv[0], dv[1], (size_t)s->U};
    double one = 1.0;
#define TRY(call)                                                                                                      \
    do {                                                                                                               \
        if ((st = (call)) != ND_OK) goto fail;                                                                         \
    } while (0)
    if (s->calcium) {
        TRY(nd_h5_write_float(f, "train_data", tr->counts, 3, dt, err));
        TRY(nd_h5_write_float(f, "valid_data", va->counts, 3, dv, err));
        TRY(write_counts(f, "train_spikes", s->train_spikes, tr->n, T, N, err));
        TRY(write_counts(f, "valid_spikes", s->valid_spikes, va->n, T, N, err));
        TRY(nd_h5_write_attr_int(f, "/", "calcium", (long long)(1), err));
        TRY(nd_h5_write_attr_double(f, "/", "calcium_tau_ms", s->ca.tau_ms, err));
        TRY(nd_h5_write_attr_double(f, "/", "calcium_amplitude", s->ca.amplitude, err));
        TRY(nd_h5_write_attr_double(f, "/", "calcium_noise", s->ca.noise, err));
        TRY(nd_h5_write_attr_double(f, "/", "calcium_threshold", s->ca.threshold, err));
        TRY(nd_h5_write_attr_string(f, "/", "data_units",
                                    "deconvolved fluorescence (non-negative); *_truth are spike rates in counts per bin",
                                    err));
    } else {
        TRY(write_counts(f, "train_data", tr->counts, tr->n, T, N, err));
        TRY(write_counts(f, "valid_data", va->counts, va->n, T, N, err));
    }
    TRY(nd_h5_write_float(f, "train_truth", tr->truth, 3, dt, err));
    TRY(nd_h5_write_float(f, "valid_truth", va->truth, 3, dv, err));
    TRY(nd_h5_write_int(f, "train_inds", tr->inds, 1, dt, err));
    TRY(nd_h5_write_int(f, "valid_inds", va->inds, 1, dv, err));
    TRY(nd_h5_write_int(f, "train_condition", s->train_condition, 1, dt, err));
    TRY(nd_h5_write_int(f, "valid_condition", s->valid_condition, 1, dv, err));
    TRY(nd_h5_write_float(f, "train_latents", s->train_latents, 3, lt, err));
    TRY(nd_h5_write_float(f, "valid_latents", s->valid_latents, 3, lv, err));
    if (s->U > 0) {
        TRY(nd_h5_write_float(f, "train_inputs", s->train_inputs, 3, ut, err));
        TRY(nd_h5_write_float(f, "valid_inputs", s->valid_inputs, 3, uv, err));
    }
    TRY(nd_h5_write_double(f, "conversion_factor", &one, 0, NULL, err));
    TRY(nd_h5_write_attr_string(f, "/", "rate_units", "counts per bin", err));
    TRY(nd_h5_write_attr_double(f, "/", "bin_ms", s->bin_ms, err));
    TRY(nd_h5_write_attr_int(f, "/", "n_conditions", (long long)(s->n_conditions), err));
    if (s->kind == ND_SYNTH_LORENZ) {
        const nd_lorenz_opts *o = &s->lorenz;
        TRY(nd_h5_write_attr_string(f, "/", "generator", "lorenz", err));
        TRY(nd_h5_write_attr_string(f, "/", "latents",
                                    "normalised Lorenz state z [trials][bins][3]; log-rate = W z + log(base_rate_hz * bin_ms / 1000)",
                                    err));
        TRY(nd_h5_write_attr_int(f, "/", "seed", (long long)(o->seed), err));
        TRY(nd_h5_write_attr_int(f, "/", "conditions", (long long)(o->conditions), err));
        TRY(nd_h5_write_attr_int(f, "/", "trials_per_condition", (long long)(o->trials_per_condition), err));
        TRY(nd_h5_write_attr_int(f, "/", "neurons", (long long)(o->neurons), err));
        TRY(nd_h5_write_attr_int(f, "/", "bins", (long long)(o->bins), err));
        TRY(nd_h5_write_attr_double(f, "/", "base_rate_hz", o->base_rate_hz, err));
        TRY(nd_h5_write_attr_double(f, "/", "valid_fraction", o->valid_fraction, err));
        if (s->session > 0) {
            size_t wd[2] = {(size_t)N, 3};
            TRY(nd_h5_write_float(f, "readout", s->readout, 2, wd, err));
            TRY(nd_h5_write_attr_int(f, "/", "session", (long long)(s->session), err));
            TRY(nd_h5_write_attr_int(f, "/", "sessions", (long long)(s->sessions), err));
            TRY(nd_h5_write_attr_int(f, "/", "neurons_min", (long long)(s->neurons_min), err));
            TRY(nd_h5_write_attr_int(f, "/", "neurons_max", (long long)(s->neurons_max), err));
        }
    } else {
        const nd_crnn_opts *o = &s->crnn;
        TRY(nd_h5_write_attr_string(f, "/", "generator", "chaotic_rnn", err));
        TRY(nd_h5_write_attr_string(f, "/", "latents", "network state tanh(x) [trials][bins][neurons]", err));
        TRY(nd_h5_write_attr_int(f, "/", "seed", (long long)(o->seed), err));
        TRY(nd_h5_write_attr_int(f, "/", "conditions", (long long)(o->conditions), err));
        TRY(nd_h5_write_attr_int(f, "/", "trials_per_condition", (long long)(o->trials_per_condition), err));
        TRY(nd_h5_write_attr_int(f, "/", "neurons", (long long)(o->neurons), err));
        TRY(nd_h5_write_attr_int(f, "/", "bins", (long long)(o->bins), err));
        TRY(nd_h5_write_attr_double(f, "/", "gain", o->gain, err));
        TRY(nd_h5_write_attr_double(f, "/", "tau_s", o->tau_s, err));
        TRY(nd_h5_write_attr_double(f, "/", "dt_s", o->dt_s, err));
        TRY(nd_h5_write_attr_double(f, "/", "max_rate_hz", o->max_rate_hz, err));
        TRY(nd_h5_write_attr_int(f, "/", "input_pulses", (long long)(o->input_pulses), err));
        TRY(nd_h5_write_attr_double(f, "/", "pulse_magnitude", o->pulse_magnitude, err));
        TRY(nd_h5_write_attr_double(f, "/", "valid_fraction", o->valid_fraction, err));
    }
#undef TRY
    return nd_h5_close(f, 1, err);
fail:
    nd_h5_close(f, 0, NULL);
    return st;
}
