/* Linear read-outs used to score latent recovery. */
#ifndef ND_EVAL_REGRESS_H
#define ND_EVAL_REGRESS_H
#include <stddef.h>
#include "../core/status.h"

/* Fit Y = [X 1] W by least squares (LAPACK dgels) on the fit rows, then return the R^2
 * (nd_r2_score, uniform average over the q outputs) of the prediction on the test rows.
 * X: [rows][p], Y: [rows][q] row-major. */
nd_status nd_lstsq_r2(const float *Xfit, const float *Yfit, size_t nfit, const float *Xtest, const float *Ytest,
                      size_t ntest, int p, int q, double *r2, nd_error *err);

/* Timing of inferred inputs against known input pulses. For each trial with a pulse
 * (true input u [n][T][U], pulse = argmax_t max_k |u|), the inferred peak is argmax_t of
 * sum_k |inferred - its per-trial median| over the inferred input dims [n][T][K].
 * The first and last `edge` bins are not searched: inferred inputs carry a start-of-trial transient
 * (the controller also corrects the initial state) that would otherwise dominate the argmax.
 * Outputs the median absolute offset in bins and the fraction of trials within `tol` bins. */
int nd_pulse_timing(const float *true_u, int U, const float *inferred, int K, int n, int T, int tol, int edge,
                    double *median_abs_offset, double *frac_within, double *mean_signed_offset);

#endif
