/* Training an MLP with any learning rule (mlp_rules.h) on a task, and measuring the rules' gradient estimates on
 * the trained and initial networks (docs/learning.md). */
#ifndef ND_MODELS_LEARN_TRAIN_H
#define ND_MODELS_LEARN_TRAIN_H
#include <stdio.h>
#include "mlp_rules.h"

typedef enum { ND_TASK_FASHION_MNIST, ND_TASK_TEACHER } nd_learn_task;

typedef struct {
    nd_learn_task task;
    nd_rule rule;
    int L, widths[ND_MLP_MAX_LAYERS + 1];
    int epochs, batch;
    double lr, sigma;          /* SGD step; perturbation SD (np, wp) */
    uint64_t seed;
    const char *out_dir;
    const char *data_dir;      /* Fashion-MNIST IDX files (default /usr/share/datasets/fashion-mnist) */
    int resume, force, threads;
    FILE *progress;
} nd_learn_opts;
void nd_learn_opts_default(nd_learn_opts *o);

/* Examples of a task: x [n][n_0], labels [n] (classification) or y [n][n_L] (regression). */
typedef struct {
    int n_train, n_test, in, out;
    real *x_train, *x_test, *y_train, *y_test;
    int *l_train, *l_test;
} nd_learn_data;
nd_status nd_learn_data_load(const nd_learn_opts *o, nd_learn_data *d, nd_error *err);
void nd_learn_data_free(nd_learn_data *d);

/* Trains; OUT/curves.tsv (epoch, train loss, test loss, test accuracy), OUT/last.ckpt every epoch (atomic,
 * --resume exact), OUT/model.h5 at the end: weights W1..WL, b1..bL, the initial ones (W1_init ...), the curves,
 * and layerK_activity [examples][n_K] of the first 1000 test examples for every layer K >= 1 (also
 * layerK_activity_init), readable by `neurodyn compare`. */
typedef struct { double test_loss, test_accuracy; int epochs_run; } nd_learn_result;
nd_status nd_learn_train(const nd_learn_opts *o, nd_learn_result *res, nd_error *err);

/* Bias and variance of each rule in `rules` (n_rules entries) at the run's initial and final weights, on the
 * first `batch` test examples: OUT/gradients.h5 (angle_deg, rel_norm, variance [rule][stage][layer + 1]) and the
 * table in *s ([rule][stage], stage 0 initial, 1 final). */
nd_status nd_learn_gradients(const char *run_dir, const nd_rule *rules, int n_rules, int samples, double sigma,
                             int batch, nd_rule_stats *s, int *L, nd_error *err);
#endif
