/* Scoring model outputs against their data: the one implementation behind 'neurodyn eval' and the public nd_eval.
 * Which trials (valid, test or both), the NLB metrics (co-bps, fp-bps, vel R^2, PSTH R^2), the log-likelihood of
 * another reconstruction model, rate R^2 against the truth beside a smoothing baseline, latent R^2 (linear map from
 * factors to true latents) and inferred-input pulse timing. A metric the data cannot support is NaN with the reason.
 * README "Scores (eval)" documents every metric. */
#ifndef ND_EVAL_SCORE_H
#define ND_EVAL_SCORE_H
#include "../core/status.h"
#include "../io/lfads_data.h"
#include "nlb.h"

typedef enum { ND_EVAL_SPLIT_DEFAULT = 0, ND_EVAL_SPLIT_VALID, ND_EVAL_SPLIT_TEST, ND_EVAL_SPLIT_ALL } nd_eval_split;

typedef struct {
    nd_eval_split split;   /* default: test when the data hold its targets (and the outputs its rates), else valid */
    double bin_ms;         /* <= 0: the data file's bin_ms attribute, else 20 */
    double psth_kernel_ms; /* 70 */
    double kernel_ms;      /* smoothing baseline's kernel SD (50) */
    double lag_ms;         /* behaviour lag; NaN: the data file's behavior_lag_ms (no extra shift) */
    nd_r2_average vel_avg; /* variance-weighted (default) or uniform */
    int allow_mismatch;    /* nd_eval_file: score outputs of other trials of the same session */
} nd_eval_opts;
void nd_eval_opts_default(nd_eval_opts *o);

/* The outputs to score, in memory: any pointer may be NULL (absent). */
typedef struct {
    const float *rates[3];  /* {train,valid,test}_output_params [n][Tr][Nr] */
    const float *params[2]; /* {valid,test}_recon_params [n][Tr][Nr][P] (recon other than Poisson) */
    int recon;              /* ND_RECON_* of the outputs */
    double zig_loc;
    const int *cond[3];     /* condition ids per split, instead of the data's (NULL: the data's) */
    /* latent R^2: factors [rows][F] and true latents [rows][L] of the train and valid trials */
    const float *factors[2], *latents[2];
    size_t fac_rows[2], lat_rows[2];
    int F, L;
    /* input pulses: the valid trials' true inputs [n_valid][Tr][U] and inferred co_means [n_valid][Tr][K] */
    const float *inputs, *co_means;
    int U, K;
    double file_lag_ms;     /* the data's behavior_lag_ms */
} nd_eval_inputs;

typedef struct {
    double v;      /* NaN when not computed */
    char why[512]; /* why not ("" when computed) */
    char brief[64];/* a shorter reason for a table, when there is one */
} nd_eval_value;

typedef struct {
    int nv, ns, ne;           /* eval trials: valid, test, both */
    const char *splits;       /* "valid", "test" or "valid+test" */
    char split_reason[160];   /* why the default split ("" when one was asked for) */
    char test_not_scored[160];/* why the test split was left out ("" when it was not) */
    double bin_ms;
    int recon;
    nd_eval_value co_bps, fp_bps;
    int co_heldout, fp_bins, fp_neurons;
    double co_spikes, fp_spikes;
    long co_clamped;
    int has_recon_ll;         /* recon != Poisson: recon_ll[0..2] (all, held-out observed, forward bins) */
    nd_eval_value recon_ll[3];
    nd_eval_value vel_r2;
    double vel_alpha, lag_ms;
    int lag_extra_bins, n_behaviour;
    nd_eval_value psth_r2;
    int psth_conditions, psth_trials;
    int has_truth;            /* rate_r2 and the smoothing baseline were computed */
    nd_eval_value rate_r2, smoothing_rate_r2, rate_r2_affine, smoothing_rate_r2_affine;
    nd_eval_value latent_r2;
    int latent_dims;
    int pulse_trials;         /* > 0: pulse timing below */
    double pulse_median, pulse_frac, pulse_mean;
    char note[2048];          /* nd_eval_file: a data-mismatch note allowed by allow_mismatch ("" none) */
} nd_eval_result;

/* Score in-memory outputs against d (read as the outputs were made: same split seed). ND_ERR_ARG: the split asked
 * for cannot be scored (--split test without test targets); ND_ERR_FORMAT: no valid rates, or shapes that are not
 * the data's; ND_ERR_NOMEM. */
nd_status nd_eval_score(const nd_lfads_data *d, const nd_eval_inputs *in, const nd_eval_opts *o, nd_eval_result *r,
                        nd_error *err);
/* Score an output file (of infer or baseline) against a data file: reads the outputs' split seed, valid fraction,
 * recon and data fingerprint (outputs of other data are refused, ND_ERR_ARG, unless allow_mismatch and only trials
 * differ), the arrays, and the data's latents and inputs when present; then nd_eval_score. */
nd_status nd_eval_file(const char *out, const char *data, const nd_eval_opts *o, nd_eval_result *r, nd_error *err);

#endif
