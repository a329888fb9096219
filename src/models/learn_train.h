/* Training an MLP with any learning rule (mlp_rules.h) on a task, and measuring the rules' gradient estimates on
 * the trained and initial networks (docs/learning.md). */
#ifndef ND_MODELS_LEARN_TRAIN_H
#define ND_MODELS_LEARN_TRAIN_H
#include "learn_opts.h"

/* the task's default network (o->task, o->ori_size set): teacher 20-50-5, orientation (size^2)-64-64-64-2,
 * fashion-mnist 784-256-256-10 */
void nd_learn_default_arch(nd_learn_opts *o);
/* What `neurodyn learn train` gives by name, into o (NULL: not given): the task ("teacher"), the rule ("fa"; "bptt"
 * or "rflo" with o->rnn_units > 0) and the layer widths ("784-256-256-10"; default: the task's). o->lr <= 0 and
 * o->batch <= 0 take the network's defaults (SGD 0.05 and 64; with o->rnn_units, Adam 3e-3 and 32). ND_ERR_ARG
 * naming --task, --rule, --arch or --rnn when a name is unknown or the choices do not go together. */
nd_status nd_learn_opts_choose(nd_learn_opts *o, const char *task, const char *rule, const char *arch, nd_error *err);

/* the orientation task's reference orientation (degrees): label 1 when the grating is rotated clockwise of it */
#define ND_ORI_REF_DEG 45.0
/* One grating into img [size * size]: contrast * cos(2 pi f (x cos theta + y sin theta) + phase) under a
 * Gaussian window (SD size / 4), f = 0.15 cycles per pixel, plus N(0, noise^2) per pixel when noise > 0 (r). */
void nd_grating(real *img, int size, double theta_deg, double phase, double contrast, double noise, nd_rng *r);

/* Examples of a task: x [n][n_0], labels [n] (classification) or y [n][n_L] (regression). */
typedef struct {
    int n_train, n_test, in, out;
    real *x_train, *x_test, *y_train, *y_test;
    int *l_train, *l_test;
} nd_learn_data;
nd_status nd_learn_data_load(const nd_learn_opts *o, nd_learn_data *d, nd_error *err);
void nd_learn_data_free(nd_learn_data *d);
/* before epoch `epoch` of training: the orientation task draws a fresh training set every epoch after the first
 * (new gratings and noise, as in perceptual learning: no example is seen twice); other tasks keep theirs */
void nd_learn_data_epoch(const nd_learn_opts *o, nd_learn_data *d, int epoch);

/* Trains; OUT/curves.tsv (epoch, train loss, test loss, test accuracy), OUT/last.ckpt every epoch (atomic,
 * --resume exact), OUT/model.h5 at the end: weights W1..WL, b1..bL, the initial ones (W1_init ...), the curves,
 * and layerK_activity [examples][n_K] of the first 1000 test examples for every layer K >= 1 (also
 * layerK_activity_init), readable by `neurodyn compare`. */
nd_status nd_learn_train(const nd_learn_opts *o, nd_learn_result *res, nd_error *err);

/* A run's options and network at its final weights; with init != NULL also the initial weights (*init,
 * nd_free). dd [4096] receives the data directory (o->data_dir points at it). m: nd_mlp_free. */
nd_status nd_learn_run_load(const char *run_dir, nd_learn_opts *o, char *dd, nd_mlp *m, real **init, nd_error *err);

/* Bias and variance of each rule in `rules` (n_rules entries) at the run's initial and final weights, on the
 * first `batch` test examples: OUT/gradients.h5 (angle_deg, rel_norm, variance [rule][stage][layer + 1]) and the
 * table in *s ([rule][stage], stage 0 initial, 1 final). */
nd_status nd_learn_gradients(const char *run_dir, const nd_rule *rules, int n_rules, int samples, double sigma,
                             int batch, nd_rule_stats *s, int *L, nd_error *err);
/* the bias-variance plane (seed Fig. 2) of nd_learn_gradients' table as an SVG: per rule, the whole network's
 * angle to the gradient (x) and log10(1 + relative variance) (y), at the initial and the trained weights */
nd_status nd_learn_gradients_svg(const char *path, const nd_rule *rules, int n_rules, const nd_rule_stats *s, int L,
                                 nd_error *err);
#endif
