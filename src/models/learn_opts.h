/* The options and result of a learning-rules run (docs/learning.md), shared by the MLP trainer (learn_train.h)
 * and the recurrent one (learn_rnn.h). */
#ifndef ND_MODELS_LEARN_OPTS_H
#define ND_MODELS_LEARN_OPTS_H
#include <stdio.h>
#include "mlp_rules.h"

typedef enum { ND_TASK_FASHION_MNIST, ND_TASK_TEACHER, ND_TASK_ORIENTATION, ND_TASK_FLIPFLOP } nd_learn_task;
/* "fashion-mnist", "teacher", "orientation", "flipflop" -> task; -1 if unknown */
int nd_learn_task_parse(const char *name);
const char *nd_learn_task_name(nd_learn_task t);

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
    int running_baseline;      /* np, wp on supervised tasks: 1 = running loss baseline, 0 = two-point (default) */
    /* orientation: gratings ori_size x ori_size pixels, orientation ND_ORI_REF_DEG +- an offset uniform in
     * [ori_angle / 10, ori_angle] degrees, additive pixel noise of SD ori_noise */
    int ori_size;
    double ori_angle, ori_noise;
    /* recurrent networks (--rnn N): flip-flop with a leaky tanh RNN of rnn_units units (rnn.h) */
    int rnn_units, rnn_rule;   /* nd_rnn_rule */
} nd_learn_opts;
void nd_learn_opts_default(nd_learn_opts *o);
/* what a run reached: the test set's loss and accuracy, epochs completed */
typedef struct { double test_loss, test_accuracy; int epochs_run; } nd_learn_result;

#endif
