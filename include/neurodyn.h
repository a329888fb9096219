/* neurodyn.h — the public C API of libneurodyn (LFADS and baselines for neural population data).
 *
 * This header is the whole contract: it is standalone (no other neurodyn header), declares only
 * nd_ / ND_ names, uses no macros or attributes to declare anything and passes only float, double,
 * int, size_t and char arrays (the library's float build; the double build is internal), plus the progress
 * callback's function pointer and its void * user pointer.
 * Link with:  cc app.c $(pkg-config --cflags --libs neurodyn)
 *
 * Conventions (as SQLite's):
 *  - Every call that can fail takes an nd_context first and returns an nd_status (ND_OK == 0). On
 *    failure nd_errmsg(ctx) is one human-readable line naming the file, field and problem; the
 *    message belongs to the context and stays valid until the next call on it. The library never
 *    exits or aborts the process and never prints unless progress output is switched on.
 *  - Handles are opaque. Each nd_X_create / nd_X_open / producing call has one nd_X_free, which
 *    accepts NULL. On failure the out-handle is set to NULL: there is nothing to free.
 *  - Option structs are plain values: always initialise them with nd_X_options_default(), then
 *    change the fields you need (new fields may be appended in a later version with a new soname).
 *  - Arrays are row-major float [trials][bins][dims], rates in counts per bin. A pointer returned
 *    by an accessor belongs to the handle it came from and lives until that handle is freed.
 *  - One context must not be used by two threads at once; separate contexts are independent.
 */
#ifndef NEURODYN_H
#define NEURODYN_H
#include <stddef.h>

/* ---------------------------------------------------------------- status, version, context */

typedef enum nd_status {
    ND_OK = 0,
    ND_ERR_ARG = 1,        /* bad argument or option value */
    ND_ERR_IO = 2,         /* cannot open/read/write a file */
    ND_ERR_FORMAT = 3,     /* file content is not what is expected */
    ND_ERR_NOMEM = 4,      /* allocation failed */
    ND_ERR_NUMERIC = 5,    /* NaN/Inf or divergence */
    ND_ERR_CHECKPOINT = 6, /* checkpoint missing, truncated or corrupt */
    ND_ERR_INTERNAL = 7,
    ND_INTERRUPTED = 8     /* a progress callback asked to stop (nd_set_progress_callback); nothing is lost */
} nd_status;

/* "0.1.0"; static storage */
const char *nd_version(void);
/* major * 10000 + minor * 100 + patch (0.1.0 -> 100) */
int nd_version_number(void);
/* The OpenBLAS kernels in use ("SkylakeX", "Haswell", "Prescott", ...); static storage. */
const char *nd_blas_core(void);
/* The OpenBLAS core type this CPU should use, when OpenBLAS did not recognise the CPU and fell back to its generic
 * "Prescott" kernels (Debian 12's OpenBLAS 0.3.21 on recent Xeons: matrix products 4-5 times slower); else NULL,
 * and NULL whenever OPENBLAS_CORETYPE is set. OpenBLAS reads OPENBLAS_CORETYPE only when it is loaded, so it must
 * be in the environment before the process starts: the neurodyn CLI restarts itself with it; for a C program or
 * Python, `eval "$(neurodyn --blas-env)"` in the shell first. Static storage. */
const char *nd_blas_suggested_core(void);
/* a short English name of a status code ("bad argument", ...); static storage */
const char *nd_status_string(nd_status status);

typedef struct nd_context nd_context;

/* A context holds the last error, the thread count and the progress setting. *out is NULL on
 * failure (ND_ERR_NOMEM). Free with nd_context_free. */
nd_status nd_context_create(nd_context **out);
void nd_context_free(nd_context *ctx);
/* the message of the last failed call on ctx ("" after a successful one); owned by ctx */
const char *nd_errmsg(const nd_context *ctx);
/* the status of the last call on ctx */
nd_status nd_errcode(const nd_context *ctx);
/* OpenMP / BLAS threads of later calls: 1..1024, or 0 for all cores (the default) */
nd_status nd_set_threads(nd_context *ctx, int threads);
int nd_get_threads(const nd_context *ctx);
/* 1: training, inference and baselines print one progress line per epoch/step on stderr; 0 (default): quiet */
void nd_set_progress(nd_context *ctx, int on);

/* ---------------------------------------------------------------- data */

typedef enum nd_split { ND_SPLIT_TRAIN = 0, ND_SPLIT_VALID = 1, ND_SPLIT_TEST = 2 } nd_split;

typedef struct nd_data nd_data;

/* Read an LFADS-format HDF5 file (train_data / valid_data, or lfads-torch *_encod_data / *_recon_data;
 * see docs/formats). When the file has no valid_data, round(n * valid_fraction) trials chosen by a
 * shuffle seeded with split_seed become the validation split (a model's own split: nd_model_open_data). */
nd_status nd_data_open(nd_context *ctx, const char *path, unsigned long long split_seed, double valid_fraction,
                       nd_data **out);
void nd_data_free(nd_data *data);
/* trials of a split (0 when the file has none) */
int nd_data_trials(const nd_data *data, nd_split split);
/* observed bins and neurons (what the encoder sees) */
int nd_data_bins(const nd_data *data);
int nd_data_neurons(const nd_data *data);
/* reconstructed bins and neurons (>= the observed ones: forward-prediction bins, held-out neurons) */
int nd_data_recon_bins(const nd_data *data);
int nd_data_recon_neurons(const nd_data *data);
/* external input dimensions (0 if none) */
int nd_data_ext_dims(const nd_data *data);
/* spike counts of a split, [trials][bins][neurons]; NULL if the split is empty. Owned by data. */
const float *nd_data_counts(const nd_data *data, nd_split split);

/* Synthetic Lorenz data with ground truth (neurodyn simulate lorenz). Defaults: 65 conditions x 24 trials,
 * 30 neurons, 50 bins of 20 ms, 10 Hz base rate, 20% of each condition's trials in valid, seed 0. */
typedef struct nd_lorenz_options {
    int conditions;
    int trials_per_condition;
    int neurons;
    int bins;
    double bin_ms;
    double base_rate_hz;
    double valid_fraction;
    unsigned long long seed;
} nd_lorenz_options;
void nd_lorenz_options_default(nd_lorenz_options *opts);
nd_status nd_simulate_lorenz(nd_context *ctx, const nd_lorenz_options *opts, nd_data **out);
/* Write simulated data as an LFADS file (what neurodyn simulate writes; atomically). ND_ERR_ARG for data
 * that was read from a file. */
nd_status nd_data_write(nd_context *ctx, const nd_data *data, const char *path);

/* ---------------------------------------------------------------- training */

typedef struct nd_train_options nd_train_options;

/* Hyperparameters at their defaults (names as lfads-torch; `neurodyn train --help` lists them). */
nd_status nd_train_options_create(nd_context *ctx, nd_train_options **out);
void nd_train_options_free(nd_train_options *opts);
/* Set one hyperparameter from text, as `neurodyn train --set key=value`: e.g. ("gen_dim", "64"),
 * ("seed", "3"), ("max_epochs", "20"). An unknown key or a bad value is ND_ERR_ARG naming it. */
nd_status nd_train_options_set(nd_context *ctx, nd_train_options *opts, const char *key, const char *value);
/* Read "key = value" lines (e.g. a run's config.txt), as `neurodyn train --config FILE` */
nd_status nd_train_options_load(nd_context *ctx, nd_train_options *opts, const char *path);
/* The value of one hyperparameter as text into buf (cap bytes) */
nd_status nd_train_options_get(nd_context *ctx, const nd_train_options *opts, const char *key, char *buf, size_t cap);

typedef struct nd_train_report {
    int epochs_run;          /* epochs completed in total, including those before a resume */
    int best_epoch;          /* -1 if no best checkpoint yet */
    double best_valid_recon; /* smoothed validation reconstruction NLL per trial at the best epoch */
    double seconds;
} nd_train_report;

/* Train LFADS on data into run_dir (created if missing): config.txt, last.ckpt (every epoch), best.ckpt,
 * train_log.tsv, as `neurodyn train`. resume = 1 continues run_dir/last.ckpt exactly where it stopped (the
 * same bits as an uninterrupted run; the data must be the run's: ND_ERR_ARG names what differs). Without resume,
 * a run_dir that already holds a run is refused (ND_ERR_ARG): delete its files first. report may be NULL. */
nd_status nd_train(nd_context *ctx, const nd_data *data, const nd_train_options *opts, const char *run_dir,
                   int resume, nd_train_report *report);

/* ---------------------------------------------------------------- trained models, inference */

typedef struct nd_model nd_model;

/* Load a trained model: a run directory (its best.ckpt, else last.ckpt) or a checkpoint file. */
nd_status nd_model_open(nd_context *ctx, const char *run, nd_model **out);
void nd_model_free(nd_model *model);
/* Open a data file with the train/valid split the model was trained with (its seed and valid_fraction). */
nd_status nd_model_open_data(nd_context *ctx, const nd_model *model, const char *path, nd_data **out);
/* the model's factor count, or its reconstructed neuron count (of session 1 for a stitched model) */
int nd_model_factors(const nd_model *model);
int nd_model_neurons(const nd_model *model);

typedef struct nd_infer_options {
    int samples;             /* posterior samples to average (50); 0 = one pass with posterior means */
    int batch_size;          /* trials per batch; 0 = the model's */
    unsigned long long seed; /* seed of the posterior samples (0) */
    int session;             /* stitched models: the data's session, 1-based; 0 = by the data file's name */
} nd_infer_options;
void nd_infer_options_default(nd_infer_options *opts);

typedef struct nd_outputs nd_outputs;

/* Run the model on the train, valid and (if any) test trials of data: what `neurodyn infer` computes.
 * opts may be NULL (defaults). Free *out with nd_outputs_free. */
nd_status nd_infer(nd_context *ctx, const nd_model *model, const nd_data *data, const nd_infer_options *opts,
                   nd_outputs **out);
void nd_outputs_free(nd_outputs *outputs);
/* Write the outputs as HDF5 (atomically), the layout of `neurodyn infer` / `neurodyn baseline`. */
nd_status nd_outputs_write(nd_context *ctx, const nd_outputs *outputs, const char *path);
/* A named output array under the lfads-torch names: "{train,valid,test}_output_params" (rates, counts per
 * bin), "_factors", "_gen_states", "_gen_inputs", "_con_states", "_co_means", "_co_stds" ([trials][bins][dim])
 * and "_gen_init", "_ic_mean", "_ic_std" ([trials][dim]). Fills dims[0..rank-1] and *rank (2 or 3; either
 * may be NULL). NULL when the outputs have no such array. The pointer is owned by outputs. */
const float *nd_outputs_array(const nd_outputs *outputs, const char *name, size_t dims[3], int *rank);

/* ---------------------------------------------------------------- baselines */

typedef enum nd_baseline_method { ND_BASELINE_SMOOTHING = 0, ND_BASELINE_GPFA = 1 } nd_baseline_method;

typedef struct nd_baseline_options {
    double kernel_ms;  /* smoothing: Gaussian SD in ms; <= 0 (default): chosen by CV on the train trials */
    double bin_ms;     /* bin width (20) */
    double alpha;      /* Poisson GLM L2 penalty (on z-scored regressors); < 0 (default): chosen by CV */
    double log_offset; /* smoothing: added before the log (1e-4) */
    int gpfa_latents;  /* GPFA latents; <= 0 (default): chosen by CV, 2..min(20, held-in neurons) */
    int gpfa_iters;    /* GPFA EM iterations (100) */
} nd_baseline_options;
void nd_baseline_options_default(nd_baseline_options *opts);
/* Spike smoothing + Poisson GLM, or GPFA (`neurodyn baseline`): rates in the layout of nd_infer's outputs
 * ("{split}_output_params"; GPFA also "{split}_factors"). opts may be NULL (defaults). */
nd_status nd_baseline(nd_context *ctx, const nd_data *data, nd_baseline_method method,
                      const nd_baseline_options *opts, nd_outputs **out);

/* ---------------------------------------------------------------- evaluation */

typedef struct nd_eval_options {
    int use_test;            /* 1 (default): score the test split too when the data has its targets */
    double bin_ms;           /* 0 (default): the data file's bin_ms attribute, else 20 */
    double psth_kernel_ms;   /* SD of the PSTH smoothing kernel (70) */
    int behaviour_lag_bins;  /* extra shift of the behaviour after the rates, in bins (0) */
    int vel_r2_uniform;      /* 0 (default): variance-weighted R^2 over behaviour dims; 1: uniform */
} nd_eval_options;
void nd_eval_options_default(nd_eval_options *opts);

/* bits of nd_metrics.computed */
typedef enum nd_metric {
    ND_METRIC_CO_BPS = 1,
    ND_METRIC_FP_BPS = 2,
    ND_METRIC_VEL_R2 = 4,
    ND_METRIC_PSTH_R2 = 8,
    ND_METRIC_RATE_R2 = 16
} nd_metric;

/* Scores of the eval trials (valid, plus test when scored), as `neurodyn eval`. A metric the data cannot
 * support (no held-out neurons, no behaviour, no condition ids, no true rates, ...) is NaN and its bit in
 * computed is 0. */
typedef struct nd_metrics {
    double co_bps;   /* bits per spike of the held-out neurons */
    double fp_bps;   /* bits per spike of the forward-prediction bins */
    double vel_r2;   /* ridge decoding of behaviour from rates */
    double psth_r2;  /* condition-averaged rates vs smoothed PSTHs */
    double rate_r2;  /* rates vs the true rates (synthetic data) */
    int computed;    /* bitwise or of nd_metric */
    int eval_trials;
} nd_metrics;

/* Score outputs (of nd_infer or nd_baseline on the same data) against data. opts may be NULL (defaults). */
nd_status nd_eval(nd_context *ctx, const nd_data *data, const nd_outputs *outputs, const nd_eval_options *opts,
                  nd_metrics *metrics);

/* ---------------------------------------------------------------- report */

typedef struct nd_report_options {
    const char *data;        /* LFADS runs: the data file (required); neuron runs: test simulations (optional) */
    const char *outputs;     /* LFADS: infer/baseline-layout outputs of the run; NULL: posterior means are inferred */
    const char *const *baselines; /* LFADS: n_baselines outputs of `neurodyn baseline` on the same data, scored beside */
    int n_baselines;
    const char *jpca;        /* LFADS: the HDF5 of `neurodyn jpca --out` (NULL: no jPCA panel) */
    const char *fixedpoints; /* LFADS: the HDF5 of `neurodyn fixedpoints --out` (NULL: no fixed-point panel) */
    const char *sweep;       /* neuron runs: a `neurodyn neuron sweep` directory (AUC vs depth) */
    int example_trials;      /* LFADS: example trials drawn (3) */
    const char *title;       /* page title; NULL: "neurodyn report: RUN" */
} nd_report_options;
void nd_report_options_default(nd_report_options *opts);

/* Write one self-contained HTML page (inline SVG figures, no scripts, nothing loaded from anywhere) describing
 * the run directory `run`, atomically to html_path. The run type is detected from its files: an LFADS run
 * (train_log.tsv, best.ckpt/last.ckpt: training curves, example trials, factors on their top PCs per condition,
 * inferred inputs, PSTHs data vs model, the eval table with baselines, jPCA and fixed points when given), a
 * `neuron fit` run (learning curves; with opts->data, test simulations: scores and traces true vs predicted; with
 * opts->sweep, AUC vs depth) or a `learn train` run (learning curves, the bias-variance plane of gradients.h5). Errors name the file and
 * the problem (ND_ERR_IO, ND_ERR_FORMAT, ND_ERR_ARG). opts may be NULL only for runs that need no data file. */
nd_status nd_report(nd_context *ctx, const char *run, const nd_report_options *opts, const char *html_path);

/* ================================================================ additions for the Python package and export
 * (issue 17). Everything above is unchanged except the ND_INTERRUPTED status. */

/* Progress callback, called on the calling thread after every training epoch once its checkpoints are on disk:
 * step = epochs completed, total = max_epochs, value = the smoothed validation reconstruction per trial. Return 0
 * to go on; non-zero stops training there: nd_train returns ND_INTERRUPTED ("training interrupted after epoch
 * K ...") and nd_train(..., resume = 1) later continues exactly as if never stopped. fn NULL removes the
 * callback. Independent of nd_set_progress (the printed lines). user is passed through, never freed. */
typedef int (*nd_progress_fn)(void *user, int step, int total, double value);
void nd_set_progress_callback(nd_context *ctx, nd_progress_fn fn, void *user);

/* Data built from arrays: spike counts of the train and valid trials, [trials][bins][neurons] row-major, copied.
 * valid may be NULL with n_valid = 0: then round(n * valid_fraction) trials chosen by a shuffle seeded with
 * split_seed go to valid (their positions in train are their trial indices), as nd_data_open does for a file
 * without valid_data. bin_ms >= 0 (0: unknown, 20 where one is needed). The data behaves as a file's (nd_train,
 * nd_infer, nd_eval). Errors: ND_ERR_ARG (sizes, NULL), ND_ERR_FORMAT (NaN/Inf, negative or non-integer counts:
 * the message names the array and the element). */
nd_status nd_data_from_arrays(nd_context *ctx, const float *train, int n_train, const float *valid, int n_valid,
                              int bins, int neurons, double bin_ms, unsigned long long split_seed,
                              double valid_fraction, nd_data **out);
/* the file (or "" for simulated data / arrays); owned by data */
const char *nd_data_path(const nd_data *data);
/* bin width in ms: the file's root attribute bin_ms, the simulation's or the arrays'; 0 when unknown */
double nd_data_bin_ms(const nd_data *data);
/* the original trial index of each trial of a split ([nd_data_trials] ints, owned by data): the file's *_inds, or
 * the positions in the file when the split was drawn from train_data; NULL when the data gives none */
const int *nd_data_trial_inds(const nd_data *data, nd_split split);
/* the original neuron ids of the nd_data_recon_neurons() reconstructed neurons, into ids[0..cap-1]: a converted
 * file's heldin_neurons then heldout_neurons, else 0, 1, ... ND_ERR_ARG if cap is too small; ND_ERR_FORMAT when
 * the file's id lists do not match the data's neuron counts. */
nd_status nd_data_neuron_ids(nd_context *ctx, const nd_data *data, int *ids, int cap);

/* Representational similarity of X [n][p] and Y [n][q] (row-major float, the same n samples in both), as
 * `neurodyn compare` with its default options: method "cca" (mean canonical correlation), "svcca", "pwcca", "cka"
 * (linear), "cka-rbf", "cka-debiased" (linear kernel) or "procrustes" (angular shape distance, alpha 1). The
 * arrays are read, not kept. ND_ERR_ARG for an unknown method or bad sizes (the message lists the methods);
 * ND_ERR_NUMERIC for degenerate data (a constant side, ...). */
nd_status nd_compare(nd_context *ctx, const float *x, const float *y, int n, int p, int q, const char *method,
                     double *value);

/* Write a trained model's weights as HDF5 under lfads-torch's `LFADS` module state_dict names and shapes (one
 * dataset per parameter, e.g. "decoder.rnn.cell.gen_cell.weight_hh"; root attributes give the constructor's
 * sizes): what `neurodyn export RUN --format lfads-torch` writes. docs/python.md shows how to load it. */
nd_status nd_model_export(nd_context *ctx, const nd_model *model, const char *path);
/* Write the Neural Latents Benchmark submission layout ({dataset}/train_rates_heldin, eval_rates_heldin,
 * eval_rates_heldout, eval_rates_heldin_forward, eval_rates_heldout_forward, ...; counts per bin) from an outputs
 * file of `neurodyn infer` / `baseline` (or nd_outputs_write) on data. eval_split: ND_SPLIT_VALID, ND_SPLIT_TEST,
 * or ND_SPLIT_TRAIN to mean "test when the outputs have test rates, else valid". dataset NULL: the data file's
 * base name without extension. */
nd_status nd_export_nlb(nd_context *ctx, const nd_data *data, const char *outputs_path, const char *dataset,
                        nd_split eval_split, const char *path);

/* ================================================================ analyses on arrays and runs, rates in Hz (issue 17,
 * second block): what the Python package wraps (nd.rates, nd.rdm, nd.jpca, nd.predict, nd.ablate, nd.fixedpoints). */

/* Rates in Hz of every split's *_output_params together, [trials][bins][neurons]: the trials in their original
 * order (by nd_data_trial_inds; a split without indices keeps its running position train, valid, test), the
 * neurons in ascending original id (nd_data_neuron_ids), each rate multiplied by (float)(1000 / bin_ms). bin_ms <= 0:
 * the data's (nd_data_bin_ms); ND_ERR_ARG when that is unknown too. data must be the data the outputs were
 * computed on (for nd_infer: the data it was given, with the model's split): a split whose trial count differs is
 * ND_ERR_ARG naming it. dims (required) receives trials, bins, neurons; with hz, trial_ids and neuron_ids all NULL
 * the call only fills dims (to size the buffers). hz: cap >= trials*bins*neurons floats, or NULL; trial_ids
 * [trials] and neuron_ids [neurons] the ids of the rows and columns, or NULL. The caller owns the buffers. */
nd_status nd_rates(nd_context *ctx, const nd_outputs *outputs, const nd_data *data, double bin_ms, float *hz,
                   size_t cap, int *trial_ids, int *neuron_ids, size_t dims[3]);

/* The result of an analysis: named double arrays (rank 1..3, row-major) and scalars (rank 0), owned by the result
 * and valid until nd_result_free. Integer values (ids, counts, flags) are stored as exact doubles. */
typedef struct nd_result nd_result;
void nd_result_free(nd_result *result);
/* number of named values, and the i-th name (0 <= i < count; NULL otherwise) */
int nd_result_count(const nd_result *result);
const char *nd_result_name(const nd_result *result, int i);
/* the values of name (NULL if the result has none); dims[0..rank-1] and *rank (0 for a scalar) may be NULL */
const double *nd_result_get(const nd_result *result, const char *name, size_t dims[3], int *rank);

/* Arrays in: x is float [trials][bins][units] row-major (bins = 1 for a 2-D [trials][units] array), read, not kept.
 * conditions (may be NULL where optional) is one int condition id per trial. A failed call sets *out to NULL. */

/* Representational dissimilarity matrix, as `neurodyn rdm FILE:DATASET`: one pattern per trial (its bins x units
 * flattened), or per condition (ascending id) with condition_average. distance: "correlation" (default, as
 * the CLI), "euclidean", "mahalanobis" (identity noise covariance, i.e. euclidean; the CLI's --noise is not wrapped) or
 * "crossnobis" (needs conditions: fold j holds the j-th trial of every condition; folds 0 = the fewest trials of a
 * condition). Result: rdm [pairs] (upper triangle, row-major), rdm_square [n][n], condition_ids (averaged or
 * crossnobis), patterns, channels, folds (crossnobis), mean, min, max. ND_ERR_ARG for an unknown distance or
 * options that do not go together, ND_ERR_NUMERIC for a constant pattern with "correlation". */
typedef struct nd_rsa_options {
    const char *distance;
    int condition_average;  /* 1: average the trials of each condition first (needs conditions) */
    int folds;              /* crossnobis folds (0: the fewest trials of any condition) */
} nd_rsa_options;
void nd_rsa_options_default(nd_rsa_options *opts);
nd_status nd_rsa_rdm(nd_context *ctx, const float *x, int trials, int bins, int units, const int *conditions,
                     const nd_rsa_options *opts, nd_result **out);

/* jPCA (Churchland et al. 2012) of the condition means of x (conditions required, >= 2 distinct), as `neurodyn
 * jpca`. Result: proj [conditions][bins][dims], M_skew, M_best [dims][dims], jpcs, pcs [units][dims], eig_re,
 * eig_im [dims], omega (rad/bin), plane_var_frac, r2_skew_plane, r2_best_plane [dims/2], condition_mean
 * [conditions][bins][units], condition_ids, r2_skew, r2_best, pca_var_frac, t_start, t_end, conditions. */
typedef struct nd_jpca_options {
    int dims;          /* jPCA dimensions, even (6) */
    int normalize;     /* 1 (default): soft normalisation x / (range + soft_norm) per unit */
    double soft_norm;  /* 10 */
    int t_start;       /* first bin of the analysis window (0) */
    int t_end;         /* one past its last bin; 0 (default): all bins */
} nd_jpca_options;
void nd_jpca_options_default(nd_jpca_options *opts);
nd_status nd_jpca_arrays(nd_context *ctx, const float *x, int trials, int bins, int units, const int *conditions,
                         const nd_jpca_options *opts, nd_result **out);

/* Neural predictivity, as `neurodyn predict X Y`: cross-validated linear maps from x [trials][bins][p] to y
 * [trials][bins][q] (one sample per trial and bin; per condition and bin with condition_average), scored per
 * neuron by the Pearson r of the held-out predictions. Result: r [q], pred [samples][q], median_r,
 * fold_median_mean, n_valid, samples, components (PLS components used, capped at p; 0 for ridge). */
typedef struct nd_predict_options {
    int pls_components;      /* PLS components (25); 0: ridge regression */
    double ridge_alpha;      /* ridge penalty (1), used when pls_components is 0 */
    int scale;               /* PLS scales the columns (1) */
    int folds;               /* contiguous folds (5) */
    int shuffle;             /* 1: folds over a permutation seeded by seed (as --seed) */
    unsigned long long seed;
    int condition_average;   /* 1: average the trials of each condition first (needs conditions) */
} nd_predict_options;
void nd_predict_options_default(nd_predict_options *opts);
nd_status nd_predict_arrays(nd_context *ctx, const float *x, const float *y, int trials, int bins, int p, int q,
                            const int *conditions, const nd_predict_options *opts, nd_result **out);

/* Ablation of a single-session Poisson model's factors at the read-out on a split of data (open it with
 * nd_model_open_data), as `neurodyn ablate`. Result: nll, nll_sd, nll_increase [factors+1] (k = 0..factors
 * silenced; mean and SD over the random orders), rate_r2, rate_r2_sd [factors+1] (data with true rates),
 * single_factor_nll_increase, clamp [factors], orders [orders][factors], factors, trials. Uses the context's
 * threads. ND_ERR_ARG for a stitched or non-Poisson model or data of another shape. */
typedef struct nd_ablate_options {
    int orders;              /* random silencing orders averaged (10) */
    int mode_mean;           /* 0 (default): clamp silenced factors to 0; 1: to their mean */
    unsigned long long seed; /* seed of the orders (0) */
    nd_split split;          /* ND_SPLIT_VALID (default) or ND_SPLIT_TRAIN */
} nd_ablate_options;
void nd_ablate_options_default(nd_ablate_options *opts);
nd_status nd_ablate(nd_context *ctx, const nd_model *model, const nd_data *data, const nd_ablate_options *opts,
                    nd_result **out);

/* Fixed points of an LFADS model's generator under a constant input, as `neurodyn fixedpoints RUN`. Result: x
 * [points][gen_dim] (ascending q), q, max_abs_eig, stable, slow, count [points], jacobian [points][gen][gen],
 * eig_re, eig_im [points][gen_dim], dist_to_states [points] (starts sampled from outputs), u [inputs], start_q
 * [starts], n_fixed_points (points kept, slow ones included), n_stable, n_unstable, n_slow, n_converged,
 * n_unconverged, n_outliers, n_duplicates, spread. Uses the context's threads. */
typedef struct nd_fixedpoints_options {
    const char *outputs;     /* an outputs file of nd_infer / `neurodyn infer` to sample starts from; NULL: N(0, 1) */
    int input_mean;          /* 0 (default): zero input; 1: the mean of the outputs' {split}_gen_inputs */
    nd_split split;          /* the outputs' split (ND_SPLIT_VALID) */
    int starts;              /* initial states (256) */
    double noise;            /* SD of the noise added to sampled starts (0) */
    unsigned long long seed; /* (0) */
    int max_iters;           /* iterations per start (200) */
    double tol_q;            /* converged when q <= tol_q (1e-12) */
    double dedup_tol;        /* merge points closer than this (1e-3) */
    double outlier_scale;    /* outlier distance scale (10; 0 keeps all) */
    double slow_q;           /* also keep slow points with q <= slow_q (0: off) */
} nd_fixedpoints_options;
void nd_fixedpoints_options_default(nd_fixedpoints_options *opts);
nd_status nd_fixedpoints(nd_context *ctx, const nd_model *model, const nd_fixedpoints_options *opts,
                         nd_result **out);

/* Decoding one value per trial, as `neurodyn decode`: ridge regression (or a ridge classifier of integer labels) from
 * the features of x_train [n_train][bins][units] (each trial's bins averaged into time_bins chunks, or all bins,
 * flattened) to y_train [n_train][q], the penalty chosen by folds-fold CV on the train trials among n_alphas values
 * 10^lo .. 10^hi (log-spaced), scored on x_test/y_test. Result: r2 (regression) or accuracy, n_classes
 * (classification), chance, alpha, alphas [n_alphas], cv_score [n_alphas], pred [n_test][q] (classification:
 * [n_test] labels), n_features. */
typedef struct nd_decode_options {
    int classify;            /* 0 (default): regression; 1: classification (q = 1, integral labels) */
    int time_bins;           /* average each trial's bins into K chunks first; 0 (default): keep every bin */
    double alpha_log10_lo;   /* -2 */
    double alpha_log10_hi;   /* 6 */
    int n_alphas;            /* 17 */
    int folds;               /* 5 */
    int shuffle;             /* 1 (default): folds over a permutation seeded by seed; 0: contiguous folds */
    unsigned long long seed; /* 0 */
} nd_decode_options;
void nd_decode_options_default(nd_decode_options *opts);
nd_status nd_decode_arrays(nd_context *ctx, const float *x_train, const float *y_train, int n_train,
                           const float *x_test, const float *y_test, int n_test, int bins, int units, int q,
                           const nd_decode_options *opts, nd_result **out);

/* ================================================================ inspecting a data file (issue 15) */

typedef struct nd_inspection nd_inspection;
typedef struct nd_inspect_options {
    const char *group; /* the HDF5 group of spike-time triplets; NULL: spike_times, then / */
    double bin_ms;     /* bin size for rates when the file gives none (no bin_ms attribute); 0: unknown */
} nd_inspect_options;
void nd_inspect_options_default(nd_inspect_options *opts);

/* Describe a data file as `neurodyn inspect` does: its format (NWB 2.x, MATLAB v7.3/v5, spike-time triplets,
 * LFADS, lfads-torch, other HDF5), every dataset with shape and type, trials and splits, neurons, bins and the
 * firing rate per neuron, with warnings (silent or very fast neurons, NaN, ragged trials, ...) and errors (what
 * `neurodyn convert` would refuse). Problems found in the file are the report's errors, not a failed call: the call
 * fails only when the file cannot be opened or its format told (ND_ERR_IO, ND_ERR_FORMAT; *out is NULL then).
 * opts may be NULL (the defaults). Free the report with nd_inspection_free. */
nd_status nd_inspect(nd_context *ctx, const char *path, const nd_inspect_options *opts, nd_inspection **out);
void nd_inspection_free(nd_inspection *report);
/* the report as text, as `neurodyn inspect` prints it; owned by report */
const char *nd_inspection_text(const nd_inspection *report);
/* the report as JSON (file, format, datasets, summary, warnings, errors), as `neurodyn inspect --json` writes it;
 * owned by report, NULL only when out of memory */
const char *nd_inspection_json(const nd_inspection *report);
/* the number of warnings / errors, and the i-th one (0-based; NULL when out of range); owned by report */
int nd_inspection_warnings(const nd_inspection *report);
const char *nd_inspection_warning(const nd_inspection *report, int i);
int nd_inspection_errors(const nd_inspection *report);
const char *nd_inspection_error(const nd_inspection *report, int i);

#endif
