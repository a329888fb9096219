/* Baselines beside LFADS (shared/spec/nlb-metrics.md "Baselines"), producing the same outputs as inference:
 * {train,valid}_output_params [trials x Tr bins x Nr neurons], rates in counts per bin, for the held-in
 * neurons followed by the held-out ones, over the observed bins followed by the forward-prediction bins.
 *
 * Spike smoothing (as nlb_tools' smoothing baseline):
 *   held-in rates  = held-in counts convolved with a Gaussian window (nd_smooth_nlb);
 *   held-out rates = one Poisson GLM per held-out neuron (nd_poisson_glm_fit, sklearn PoissonRegressor's
 *                    objective, L2 penalty alpha) from log(smoothed held-in + log_offset), fitted on the
 *                    observed bins of the train trials and applied to every split.
 *   forward-prediction bins (all neurons): the train trials' mean count in that bin (their PSTH),
 *                    smoothed over the forward bins with the same Gaussian (edge-renormalised), >= 1e-9.
 *                    Smoothing cannot look ahead, so the condition-free PSTH is the honest prediction.
 * GPFA (Yu et al. 2009, gpfa.h) on square-root held-in counts of the train trials (neurons silent in every
 *   train trial are left out of the model, as elephant does). Latents: posterior means for every trial,
 *   orthonormalised (x_orth = S V' x); in forward-prediction bins they are the GP's prediction given the
 *   observed bins. As in nlb_tools' GPFA baseline, held-in rates are a least-squares linear read-out of the
 *   latents to held-in counts (fitted on train trials' observed bins; clipped >= 1e-9), and held-out rates a
 *   Poisson GLM per held-out neuron (nlb_tools regresses on the held-in rates, an affine function of the
 *   latents; here the latents themselves are the regressors). Forward-prediction bins (all neurons): a Poisson
 *   GLM per neuron from the extrapolated latents, fitted on the forward bins of the train trials (which are
 *   training targets, as for LFADS). */
#ifndef ND_MODELS_BASELINE_H
#define ND_MODELS_BASELINE_H
#include <stdio.h>
#include "../core/status.h"
#include "../io/lfads_data.h"
#include "gpfa.h"
#include "poisson_glm.h"

typedef struct {
    double kernel_ms;  /* smoothing: Gaussian SD in ms; <= 0: chosen by CV from kernel_grid_ms (default) */
    double bin_ms;     /* bin width (20) */
    double alpha;      /* GLM L2 penalty; < 0: chosen by CV from nd_glm_default_alphas (default) */
    double log_offset; /* smoothing: added before the log (1e-4, as nlb_tools) */
    nd_gpfa_opts gpfa; /* GPFA: latents (<= 0: chosen by CV, default), EM iterations, ... (bin_ms from bin_ms) */
    int max_latents;   /* GPFA latents search: largest candidate (20; also capped by the held-in neurons) */
    int search_iters;  /* GPFA latents search: EM iterations per candidate (30; the winner is refitted) */
    int cv_folds;      /* K of the K-fold CV over train trials (3) */
    int threads;       /* OpenMP / BLAS threads (1) */
    FILE *progress;    /* NULL = quiet */
} nd_baseline_opts;
/* Candidates of the searches (the defaults above). */
#define ND_BASELINE_MAX_CAND 16
int nd_baseline_kernel_grid(double *kernel_ms);         /* 20 30 40 50 60 80 100 150 200 ms */
int nd_baseline_latent_grid(int max_latents, int *cand); /* 2 3 4 5 6 8 10 12 16 20, up to max_latents */
void nd_baseline_opts_default(nd_baseline_opts *o);

#define ND_BASELINE_SPLITS 3 /* train, valid, test */
typedef struct {
    const char *method; /* "smoothing" or "gpfa" */
    int n[ND_BASELINE_SPLITS], T, N, Tr, Nr, F;
    float *rates[ND_BASELINE_SPLITS];   /* [n][Tr][Nr] per split (0 train, 1 valid, 2 test; n = 0: none) */
    float *factors[ND_BASELINE_SPLITS]; /* [n][Tr][F] (GPFA latents), NULL for smoothing */
    /* GPFA only */
    nd_gpfa_params gpfa;
    int *gpfa_neurons;  /* [gpfa.q] which held-in neurons the model uses */
    double *loglik;     /* [em_iters] */
    int em_iters;
    /* choices (written to the output and printed): */
    double kernel_ms;    /* smoothing kernel used */
    double alpha;        /* held-out GLM penalty used */
    double alpha_fp;     /* forward-bin GLM penalty used (GPFA with forward bins; else 0) */
    int latents_auto, kernel_auto, alpha_auto, cv_folds;
    /* the search: candidates (kernel ms or latent counts) x alphas, CV co-bps on train-trial folds */
    int n_cand, n_alpha;
    double cand[ND_BASELINE_MAX_CAND], alphas[ND_GLM_MAX_ALPHAS];
    double cv_score[ND_BASELINE_MAX_CAND][ND_GLM_MAX_ALPHAS];
} nd_baseline_result;

void nd_baseline_result_free(nd_baseline_result *r);

/* The nlb_tools smoothing filter: counts [n][T][N] convolved along time with a Gaussian window of
 * M = floor(6 sd) taps, w_j = exp(-(j - (M-1)/2)^2 / (2 sd^2)) normalised to sum 1, in numpy's
 * convolve(x, w, 'same') alignment: out[t] = sum_j w_j x[t + (M-1)/2 - j] (integer division), zero outside
 * the trial (so rates fall off near the edges, as in nlb_tools). sd_bins = kernel_ms / bin_ms (nlb_tools
 * truncates this to an integer; here it is used as is, the same when kernel_ms is a multiple of bin_ms).
 * M < 1 copies the input. Errors: ND_ERR_ARG (sd_bins negative, NaN or >= 1e7), ND_ERR_NOMEM. */
nd_status nd_smooth_nlb(float *out, const float *counts, int n, int T, int N, double sd_bins, nd_error *err);

nd_status nd_baseline_smoothing(const nd_lfads_data *d, const nd_baseline_opts *o, nd_baseline_result *r,
                                nd_error *err);
nd_status nd_baseline_gpfa(const nd_lfads_data *d, const nd_baseline_opts *o, nd_baseline_result *r,
                           nd_error *err);

/* Write the result atomically: {train,valid}_output_params, {train,valid}_factors (GPFA), train_inds /
 * valid_inds when known; GPFA: gpfa/C, gpfa/d, gpfa/R, gpfa/timescales_ms, gpfa/neurons, gpfa/loglik.
 * Root attributes: method, data, rate_units, bin_ms, alpha, kernel_ms or latents/em_iters, and
 * split_seed / valid_fraction (so eval rebuilds the same split when the data file has no valid_data). */
nd_status nd_baseline_write(const char *path, const nd_lfads_data *d, const nd_baseline_result *r,
                            const nd_baseline_opts *o, double split_seed, double valid_fraction, nd_error *err);

#endif
