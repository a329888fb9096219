/* Synthetic benchmarks with ground truth (shared/spec/lfads.md "Synthetic benchmarks").
 *
 * Lorenz: per condition a random initial state (x, y ~ U(-15, 15), z ~ U(10, 40)) is
 *   burnt in onto the attractor (1000 RK4 steps of 0.005), then integrated with RK4
 *   (sigma 10, rho 28, beta 8/3), one sample per bin, 0.02 time units per bin (4 sub-steps
 *   of 0.005). Each condition's trajectory is centred per dimension over time and divided
 *   by its max |value|, giving z [T][3]. log-rate = W z + log(base_rate_hz * bin_ms / 1000),
 *   W [N][3] with entries of magnitude U(1, 2) and random sign: base_rate_hz is the rate
 *   (in Hz) of a neuron when W z = 0, i.e. at the trajectory's centre. Truth in counts/bin.
 *   Poisson spikes drawn independently for every trial.
 * Chaotic RNN: x_t = (1 - dt/tau) x_{t-1} + (dt/tau) (g W tanh(x_{t-1}) + Bin u_t),
 *   W ~ N(0, 1/N), Bin ~ N(0, 1), x_{-1} = x0 ~ N(0, 1) per condition; bins t = 0..T-1
 *   record tanh(x_t) (the latents). With input pulses, each TRIAL gets one pulse
 *   u_t = pulse_magnitude at a random bin in [T/4, T/4 + T/2) (within [T/4, 3T/4)), zero
 *   elsewhere, so trials of a condition differ; without, all trials of a condition share
 *   one trajectory. rates = (tanh(x) - min) / (max - min) over the whole dataset, times
 *   max_rate_hz * dt = counts per bin. Bin duration = dt. Poisson spikes.
 *
 * Train/valid split: within each condition, round(trials_per_condition * valid_fraction)
 * trials (seeded shuffle) go to valid. Trials are numbered g = condition * tpc + k; the
 * train/valid arrays hold them in increasing g and train_inds/valid_inds hold g.
 *
 * Random streams are nd_rng_stream(seed, purpose, index), so e.g. the spikes of trial g do
 * not depend on how many conditions were generated.
 *
 * Multi-session Lorenz (for LFADS stitching, shared/spec/lfads.md "Multi-session stitching"):
 * every session shares the conditions, i.e. the initial states and latent trajectories (stream
 * (seed, RS_INIT, c) as above), trials_per_condition and bins, but has its own neuron count
 * (uniform in [neurons_min, neurons_max], stream (seed, RS_SESSION_NEURONS, k)), read-out W,
 * train/valid split and spikes: those are drawn exactly like the single-session generator's,
 * from a session seed taken from stream (seed, RS_SESSION_SEED, k); k = session - 1. A session
 * therefore does not depend on how many sessions are generated. */
#ifndef ND_MODELS_SYNTH_H
#define ND_MODELS_SYNTH_H
#include <stdint.h>
#include <stdio.h>
#include "../core/status.h"
#include "../io/lfads_data.h"

typedef struct {
    int conditions;           /* 65 */
    int trials_per_condition; /* 24 */
    int neurons;              /* 30 */
    int bins;                 /* 50 */
    double bin_ms;            /* 20 */
    double base_rate_hz;      /* 10: rate at W z = 0 */
    double valid_fraction;    /* 0.2 */
    uint64_t seed;            /* 0 */
} nd_lorenz_opts;

/* Calcium imaging made from the spikes (nd_synth_calcium), per trial and neuron, bins t = 0..T-1:
 *   calcium     c_t = g c_{t-1} + s_t, c_{-1} = 0, g = exp(-bin_ms / tau_ms)   (AR(1) kernel, s_t the spike count)
 *   fluorescence f_t = amplitude c_t + noise e_t, e_t ~ N(0, noise^2)          (f_{-1} = 0)
 *   deconvolved  d_t = f_t - g f_{t-1} = amplitude s_t + e_t - g e_{t-1}      (the kernel inverted exactly)
 *   data         x_t = d_t if d_t >= threshold, else 0                        (a deconvolution's sparsity)
 * so x is non-negative, exactly 0 in most bins without a spike, and its mean tracks amplitude * rate. The noise of
 * trial g comes from stream (seed, RS_CALCIUM, g). The true rates (counts/bin), latents and the spikes are kept. */
typedef struct {
    double tau_ms;    /* 300: decay time constant of the calcium kernel */
    double amplitude; /* 1: fluorescence per spike (data units) */
    double noise;     /* 0.5: SD of the fluorescence noise */
    double threshold; /* 0.1: deconvolved values below it become 0 (choose zig_loc <= it) */
} nd_calcium_opts;

typedef struct {
    int conditions;           /* 400 */
    int trials_per_condition; /* 10 */
    int neurons;              /* 50: network size = observed neurons */
    int bins;                 /* 100 */
    double gain;              /* 1.5 */
    double tau_s;             /* 0.025 */
    double dt_s;              /* 0.01 (= bin duration) */
    double max_rate_hz;       /* 30 */
    int input_pulses;         /* 0 */
    double pulse_magnitude;   /* 20 */
    double valid_fraction;    /* 0.2 */
    uint64_t seed;            /* 0 */
} nd_crnn_opts;

void nd_lorenz_opts_default(nd_lorenz_opts *o);
void nd_crnn_opts_default(nd_crnn_opts *o);

#define ND_SYNTH_MAX_SESSIONS 256

typedef enum { ND_SYNTH_LORENZ = 1, ND_SYNTH_CHAOTIC_RNN = 2 } nd_synth_kind;

typedef struct {
    nd_synth_kind kind;
    nd_lorenz_opts lorenz;                  /* options used (kind == ND_SYNTH_LORENZ) */
    nd_crnn_opts crnn;                      /* options used (kind == ND_SYNTH_CHAOTIC_RNN) */
    nd_lfads_data data;                     /* counts, truth (counts/bin), inds; E = 0, conversion_factor 1 */
    double bin_ms;
    int n_conditions;
    int L;                                  /* latent dims: 3 (Lorenz) or neurons (chaotic RNN) */
    float *train_latents, *valid_latents;   /* [n][T][L] */
    int U;                                  /* true input dims: 1 with pulses, else 0 */
    float *train_inputs, *valid_inputs;     /* [n][T][U] or NULL */
    int *train_condition, *valid_condition; /* [n] */
    float *readout;                         /* Lorenz: the true read-out W [N][3]; NULL for chaotic RNN */
    /* multi-session sets (nd_synth_lorenz_sessions): session 1..sessions and the neuron range; all 0 otherwise */
    int session, sessions, neurons_min, neurons_max;
    /* calcium (nd_synth_calcium): data then holds deconvolved-like traces; the spikes they came from */
    int calcium;
    nd_calcium_opts ca;
    float *train_spikes, *valid_spikes; /* [n][T][N] or NULL */
} nd_synth;

/* Generate. Errors: ND_ERR_ARG with a message naming the bad option. *s is zeroed on failure. */
nd_status nd_synth_lorenz(const nd_lorenz_opts *o, nd_synth *s, nd_error *err);
nd_status nd_synth_chaotic_rnn(const nd_crnn_opts *o, nd_synth *s, nd_error *err);
/* Lorenz sessions out[0..sessions-1] (see above); o->neurons is ignored. Each out[k] is a complete
 * dataset (free each with nd_synth_free). 1 <= sessions <= ND_SYNTH_MAX_SESSIONS and
 * 1 <= neurons_min <= neurons_max, else ND_ERR_ARG. On failure every out[k] is zeroed (out is left
 * untouched when sessions itself is out of range). */
nd_status nd_synth_lorenz_sessions(const nd_lorenz_opts *o, int sessions, int neurons_min, int neurons_max,
                                   nd_synth *out, nd_error *err);
/* One session (1 <= session <= sessions) of that set, identical to out[session - 1] above; lets a
 * caller write large sets one session at a time. *s is zeroed on failure. */
nd_status nd_synth_lorenz_session(const nd_lorenz_opts *o, int session, int sessions, int neurons_min,
                                  int neurons_max, nd_synth *s, nd_error *err);
void nd_synth_free(nd_synth *s);
void nd_calcium_opts_default(nd_calcium_opts *o);
/* Turn a generated set's spike counts into calcium-like traces (see nd_calcium_opts); the spikes move to
 * train_spikes / valid_spikes. ND_ERR_ARG on a bad option (tau_ms, amplitude > 0; noise, threshold >= 0). */
nd_status nd_synth_calcium(nd_synth *s, const nd_calcium_opts *o, uint64_t seed, nd_error *err);

/* Mean firing rate over all trials, bins and neurons, in Hz (from the spike counts; of a calcium set too). */
double nd_synth_mean_rate_hz(const nd_synth *s);

/* Write in LFADS format, atomically (<path>.tmp renamed on success):
 *   train_data, valid_data (int32 counts), train_truth, valid_truth (float32, counts/bin),
 *   train_inds, valid_inds, train_condition, valid_condition (int32),
 *   train_latents, valid_latents (float32), train_inputs, valid_inputs (float32, if U > 0),
 *   conversion_factor = 1 (float64 scalar);
 * root attributes: generator ("lorenz" | "chaotic_rnn"), bin_ms, seed and every option.
 * Calcium sets (nd_synth_calcium) write train_data / valid_data as float32 traces, train_spikes / valid_spikes
 * (int32) and the root attributes calcium = 1, calcium_tau_ms, calcium_amplitude, calcium_noise, calcium_threshold.
 * A session of a multi-session set also gets readout (float32 [N][3], its true W) and the root
 * attributes session, sessions, neurons_min, neurons_max (single-session files are unchanged). */
nd_status nd_synth_write(const nd_synth *s, const char *path, nd_error *err);

/* What `neurodyn simulate lorenz --sessions S --out DIR` writes: sessions 1..S (nd_synth_lorenz_session), generated
 * and written one at a time as DIR/s1.h5 .. DIR/sS.h5 (each atomically), so memory holds one session. DIR is
 * created (if missing) after session 1 is generated, so bad options leave nothing behind. progress (may be NULL)
 * gets one line per session. */
nd_status nd_synth_lorenz_sessions_write(const nd_lorenz_opts *o, int sessions, int neurons_min, int neurons_max,
                                         const char *dir, FILE *progress, nd_error *err);

#endif
