/* Scoring the neuron TCN on held-out simulations, and the accuracy-vs-complexity sweep (docs/neuron.md). */
#ifndef ND_EVAL_NEURON_EVAL_H
#define ND_EVAL_NEURON_EVAL_H
#include "../models/tcn_train.h"
#include <cjson/cJSON.h>

typedef struct {
    double auc, tpr_at_fpr, fpr, v_ev, v_rmse, v_mae;
    int sims; long bins;
} nd_tcn_scores;
/* scores on every simulation of d, first 500 ms of each left out; voltage against the truth clipped at -55 mV */
nd_status nd_tcn_evaluate(const nd_tcn_run *r, const nd_neuron_data *d, double max_fpr, nd_tcn_scores *s,
                          nd_error *err);
/* `neurodyn neuron eval`: loads RUN (a run directory or checkpoint), reads the sims file `data` and scores; every
 * error names the run or the data file */
nd_status nd_tcn_evaluate_file(const char *run, const char *data, double max_fpr, nd_tcn_scores *s, nd_error *err);
/* the scores as JSON: spike_auc, tpr_at_fpr, fpr, voltage_explained_variance, voltage_rmse_mv, voltage_mae_mv,
 * simulations, bins (caller: cJSON_Delete; NULL when out of memory) */
cJSON *nd_tcn_scores_json(const nd_tcn_scores *s);

/* Accuracy vs complexity: one network per (depth, width), fitted on train and scored on test. Each network's
 * run is OUT/dD_wW (a finished one is reused, an interrupted one resumed); OUT/sweep.tsv and sweep.json hold
 * the table, OUT/auc_vs_depth.svg and ev_vs_depth.svg the curves (one per width). */
#define ND_TCN_SWEEP_MAX 16
typedef struct {
    const char *out_dir;
    int depths[ND_TCN_SWEEP_MAX], n_depths, widths[ND_TCN_SWEEP_MAX], n_widths;
    nd_tcn_fit_opts fit; /* everything but run_dir, depth and width */
    int receptive_field_ms; /* > 0: every depth gets this receptive field (first kernel = it - (depth - 1) x
                             * (kernel - 1)), so that depth is compared at equal temporal extent; 0: fit's */
} nd_tcn_sweep_opts;
typedef struct { int depth, width, receptive_field_ms; size_t params; nd_tcn_scores test; double seconds; } nd_tcn_sweep_row;
/* depths 1,2,3,5,7, widths 32,128, fit: nd_tcn_fit_opts_default, no fixed receptive field, out_dir NULL */
void nd_tcn_sweep_opts_default(nd_tcn_sweep_opts *o);
/* depths and widths from comma-separated lists ("1,2,3,5,7"; NULL: keep o's); ND_ERR_ARG naming --depths or
 * --widths for an empty list, more than ND_TCN_SWEEP_MAX entries or one out of range (depth 1..ND_TCN_MAX_DEPTH,
 * width 1..4096); o is unchanged then */
nd_status nd_tcn_sweep_set_lists(nd_tcn_sweep_opts *o, const char *depths, const char *widths, nd_error *err);
/* rows: n_depths x n_widths entries (malloc'd, caller frees) */
nd_status nd_tcn_sweep(const nd_neuron_data *train, const char *train_path, const nd_neuron_data *test,
                       const nd_tcn_sweep_opts *o, nd_tcn_sweep_row **rows, nd_error *err);
/* `neurodyn neuron sweep`: reads the training and test sims files, then nd_tcn_sweep */
nd_status nd_tcn_sweep_files(const char *train_path, const char *test_path, const nd_tcn_sweep_opts *o,
                             nd_tcn_sweep_row **rows, nd_error *err);

/* Several sweeps (e.g. one per cell) in one figure: reads DIR/sweep.json of each of the n sweep directories and
 * writes OUT/compare.tsv (cell, depth, width, scores) and OUT/auc_vs_depth.svg, OUT/ev_vs_depth.svg with one curve
 * per sweep and width, labelled by cell. */
nd_status nd_tcn_sweep_compare(const char *const *dirs, int n, const char *out_dir, nd_error *err);

#endif
