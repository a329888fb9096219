/* Analyses of networks trained by `neurodyn learn train` (docs/learning.md):
 * - tuning: per-layer orientation tuning of an orientation run before vs after learning (seed Fig. 4);
 * - compare: accuracy curves and per-layer representation change (linear CKA) across runs. */
#ifndef ND_ANALYSIS_LEARN_ANALYSIS_H
#define ND_ANALYSIS_LEARN_ANALYSIS_H
#include "../models/learn_train.h"
#include <cjson/cJSON.h>

#define ND_TUNING_ORIENTS 36 /* 0, 5, ..., 175 degrees */

/* For every layer l = 1..L (stage 0: initial weights, 1: trained):
 *   a unit's response is |h| (tanh units are signed and, with zero biases, odd in the stimulus: the mean of h over
 *   phases is 0 whatever the orientation; |h| is its rate-like magnitude, as a rectified neuron's);
 *   tuning curve of each unit: its mean response over 16 phases to noise-free gratings (contrast 0.75) at each
 *     orientation; slope at the trained reference orientation (central difference over +-2 deg, per degree);
 *   slope[s][l]: mean |slope| over units; fisher[s][l]: mean single-unit Fisher information at the reference,
 *     slope^2 / var, var the unit's response variance over 500 task stimuli at the reference (random phase and
 *     contrast, the run's pixel noise), per deg^2; fisher_pop[s][l]: the layer's linear Fisher information
 *     f'^T (Sigma + 1e-6 tr(Sigma)/n I)^-1 f';
 *   change[l]: sum over units and orientations of (after - before)^2 / the same sum of before^2. */
typedef struct {
    int L, units[ND_MLP_MAX_LAYERS + 1];
    double slope[2][ND_MLP_MAX_LAYERS + 1], fisher[2][ND_MLP_MAX_LAYERS + 1], fisher_pop[2][ND_MLP_MAX_LAYERS + 1];
    double change[ND_MLP_MAX_LAYERS + 1];
    double accuracy; /* test accuracy of the trained network */
} nd_learn_tuning_result;
/* out_h5 (may be NULL): layerK_tuning[_init] [units][36], orientations, slope, fisher, fisher_pop [2][L],
 * change [L]. An error names the run when it is not an orientation run. */
nd_status nd_learn_tuning(const char *run_dir, const char *out_h5, nd_learn_tuning_result *r, nd_error *err);

#define ND_COMPARE_MAX_RUNS 16
typedef struct {
    int n_runs, L;                                /* L: layers common to every run */
    int epochs[ND_COMPARE_MAX_RUNS];
    double *curves[ND_COMPARE_MAX_RUNS];          /* [epochs][4]: epoch, train loss, test loss, test accuracy */
    double cka_init[ND_COMPARE_MAX_RUNS][ND_MLP_MAX_LAYERS]; /* layer l after vs before learning */
    double cka_ref[ND_COMPARE_MAX_RUNS][ND_MLP_MAX_LAYERS];  /* layer l of run k vs of run 0 (trained) */
} nd_learn_compare_result;
/* Reads RUN/model.h5 of each run (layerK_activity[_init] on the same test examples; feed-forward or recurrent
 * runs). svg_path (may be NULL): test accuracy curves of every run. result: nd_learn_compare_free. */
nd_status nd_learn_compare(const char *const *runs, int n_runs, const char *svg_path, nd_learn_compare_result *r,
                           nd_error *err);
void nd_learn_compare_free(nd_learn_compare_result *r);

/* `neurodyn learn gradients`: nd_learn_gradients for the rules named in a list, and the bias-variance plane. */
typedef struct {
    const char *rules;     /* comma-separated ("bp,fa,np,wp"; empty entries skipped); NULL: every rule */
    int samples, batch;    /* perturbation samples per estimate; test examples per estimate */
    double sigma;          /* perturbation SD of np and wp */
    const char *svg;       /* nd_learn_gradients_svg into this file (NULL: none) */
} nd_learn_gradients_opts;
/* every rule, 200 samples, batch 100, sigma 1e-3, no SVG */
void nd_learn_gradients_opts_default(nd_learn_gradients_opts *o);
typedef struct {
    int n_rules, L;                    /* L: the network's layers */
    nd_rule rules[ND_RULE_COUNT];
    nd_rule_stats s[2 * ND_RULE_COUNT]; /* [rule][stage]: stage 0 initial weights, 1 trained */
} nd_learn_gradients_result;
/* ND_ERR_ARG naming --rules for an unknown rule or an empty or too long list; else nd_learn_gradients' errors */
nd_status nd_learn_gradients_run(const char *run_dir, const nd_learn_gradients_opts *o, nd_learn_gradients_result *r,
                                 nd_error *err);
/* {"estimates": [{rule, weights: initial|final, angle_deg, rel_norm, variance (whole network),
 *  angle_deg_per_layer: [...]}, ...]} (caller: cJSON_Delete; NULL when out of memory) */
cJSON *nd_learn_gradients_json(const nd_learn_gradients_result *r);
#endif
