/* Options of a learning-rules run (see learn_opts.h). */
#include "learn_opts.h"
#include <string.h>

static const char *task_names[] = {"fashion-mnist", "teacher", "orientation", "flipflop"};
int nd_learn_task_parse(const char *name) {
    for (int t = 0; t < 4; t++)
        if (!strcmp(name, task_names[t])) return t;
    return -1;
}
const char *nd_learn_task_name(nd_learn_task t) { return t >= 0 && t < 4 ? task_names[t] : "?"; }

void nd_learn_opts_default(nd_learn_opts *o) {
    memset(o, 0, sizeof *o);
    o->task = ND_TASK_FASHION_MNIST;
    o->rule = ND_RULE_BP;
    o->L = 3;
    o->widths[0] = 784; o->widths[1] = 256; o->widths[2] = 256; o->widths[3] = 10;
    o->epochs = 10;
    o->batch = 64;
    o->lr = 0.05;
    o->sigma = 1e-3;
    o->data_dir = "/usr/share/datasets/fashion-mnist";
    o->threads = 1;
    o->ori_size = 16;
    o->ori_angle = 10;
    o->ori_noise = 1;
}
