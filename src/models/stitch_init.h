/* Initial per-session read-in / read-out matrices for multi-session LFADS ("stitching",
 * shared/spec/lfads.md "Multi-session stitching"), by principal-component regression:
 *
 *   1. smooth each trial's counts over time with a Gaussian (SD kernel_bins bins, taps |k| <= ceil(3 SD),
 *      the taps inside [0, T) renormalised to sum to 1, so edges stay in counts/bin; kernel_bins = 0: none);
 *   2. per session, average the smoothed trials of each condition -> PSTH_s [C*T][N_s] (row c*T + t), over
 *      the C conditions present in EVERY session, sorted by id (trials with other or negative ids are unused);
 *   3. concatenate over neurons -> [C*T][sum N_s], centre the columns, and take the top D principal
 *      components: raw scores P [C*T][D] = centred data x loadings (SVD). Sign convention: each loading
 *      vector's entry of largest |.| (first such) is positive. Components beyond the rank (singular value
 *      <= max(rows, cols) * DBL_EPSILON * largest, numpy.linalg.matrix_rank's rule) are zero columns;
 *   4. per session, ridge regression with intercept from PSTH_s to P: minimise
 *      ||PSTH_s W_s + 1 c_s - P||^2 + alpha ||W_s||^2 (intercept not penalised). alpha = 0 gives the
 *      minimum-norm least-squares solution;
 *   5. read-out = Moore-Penrose pseudo-inverse of W_s (singular values <= 1e-15 x largest dropped,
 *      numpy.linalg.pinv's default rcond).
 *
 * The scores are not rescaled: P has the scale of the centred smoothed rates (counts/bin). pinv(W_s) maps
 * factor-space vectors back to neuron space, i.e. PSTH_s - mean ~= (P - c_s) readout_W_s; it is a linear map
 * of rates, not of log-rates. All arithmetic is in double; only the outputs are float. */
#ifndef ND_MODELS_STITCH_INIT_H
#define ND_MODELS_STITCH_INIT_H
#include "../core/status.h"

typedef struct {
    int n, T, N;         /* trials, time bins, neurons of this session (T must agree across sessions) */
    const float *counts; /* [n][T][N] spike counts */
    const int *cond;     /* [n] condition ids; negative = the trial has no condition */
} nd_stitch_session;

/* For S sessions and read-in dimension D, fills per session s (each array allocated by the caller):
 *   readin_W[s]  [N_s][D]  ridge weights W_s,
 *   readin_b[s]  [D]       ridge intercept c_s          (readin_b may be NULL: not returned),
 *   readout_W[s] [D][N_s]  pinv(W_s)                    (readout_W may be NULL: not returned).
 * Errors (ND_ERR_ARG, one line naming the session / field): S < 1, D < 1, sizes < 1, T differing between
 * sessions, NULL arrays, non-finite counts, kernel_bins or alpha negative or not finite, no condition id
 * shared by all sessions. ND_ERR_NOMEM / ND_ERR_NUMERIC (SVD did not converge) otherwise. */
nd_status nd_stitch_pcr_init(const nd_stitch_session *s, int S, int D, double kernel_bins, double alpha,
                             float *const *readin_W, float *const *readin_b, float *const *readout_W,
                             nd_error *err);

#endif
