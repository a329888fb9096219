/* Ablation of LFADS factors at the read-out (shared/spec/analysis.md "Causal and unit-level
 * analyses").
 *
 * The factors f [n][T][F] of a split (inferred once, posterior-mean mode, no retraining) are
 * passed through the model's read-out, log r = f ro_W + ro_bias (ro_W [F][N], rates in counts
 * per bin), with a growing random subset of the factors silenced: k = 0..F factors clamped to
 * 0 (ND_ABLATE_ZERO) or to their mean over the split's trials and bins (ND_ABLATE_MEAN). For
 * each of R random orders (nd_rng streams of the seed) the k-th row silences the first k
 * factors of that order. Scores, averaged over the orders:
 *   - the Poisson negative log-likelihood per trial, sum over bins and neurons of
 *     r - x log r + lgamma(x + 1), averaged over trials (as the model's reconstruction cost);
 *   - when the true rates are given, the rate R^2 (nd_r2_score_3d, mean over neurons).
 * Silencing acts on the read-out only: the generator is not re-run (with the controller on,
 * the model also feeds the factors back to the controller; that path is not ablated).
 * k = 0 reproduces the un-ablated model; k = F in zero mode gives rates exp(ro_bias).
 *
 * The class-selectivity index lives in predict.h (nd_class_selectivity). */
#ifndef ND_ANALYSIS_ABLATE_H
#define ND_ANALYSIS_ABLATE_H
#include <stdint.h>
#include "../core/status.h"
#include "../models/lfads.h"

typedef enum { ND_ABLATE_ZERO = 0, ND_ABLATE_MEAN = 1 } nd_ablate_mode;

typedef struct {
    int orders;          /* random orders averaged (default 10) */
    nd_ablate_mode mode; /* ND_ABLATE_ZERO (default) */
    uint64_t seed;       /* 0 */
    int threads;         /* inference threads for nd_ablate_lfads (default 1) */
} nd_ablate_opts;
void nd_ablate_opts_default(nd_ablate_opts *o);

typedef struct {
    int F, N, n, T, orders;
    double *nll;         /* [F+1] NLL per trial with k factors silenced, mean over orders */
    double *nll_sd;      /* [F+1] its standard deviation over orders (ddof 1; 0 with one order) */
    double *r2, *r2_sd;  /* [F+1] rate R^2 vs truth, mean and SD over orders; NULL without truth */
    double *single_dnll; /* [F] NLL increase per trial when only factor j is silenced */
    double *clamp;       /* [F] the value each factor is clamped to (0, or its mean) */
    int *perm;           /* [orders][F] the silencing orders */
} nd_ablate_result;
void nd_ablate_result_free(nd_ablate_result *r);

/* factors [n][T][F]; counts, truth (may be NULL) [n][T][N] in counts per bin. */
nd_status nd_ablate_readout(const float *factors, int n, int T, int F, const double *ro_W, const double *ro_bias,
                            int N, const float *counts, const float *truth, const nd_ablate_opts *o,
                            nd_ablate_result *r, nd_error *err);

/* Infers the factors of one split with m (nd_lfads_infer_split2, posterior means, samples = 0),
 * then runs nd_ablate_readout with the model's read-out. x [n][Te][m->N] encoder input, ext
 * [n][T][E] or NULL, counts / truth [n][T][m->Nr] (truth may be NULL). split_id: 0 train,
 * 1 valid (only names the inference stream). */
nd_status nd_ablate_lfads(const nd_lfads_model *m, const float *x, const float *ext, const float *counts,
                          const float *truth, int n, int Te, int T, int split_id, const nd_ablate_opts *o,
                          nd_ablate_result *r, nd_error *err);

#endif
