/* The options `neurodyn neuron fit` and `neurodyn neuron sweep` share: the network's shape and the fit's schedule,
 * as cli_parse table entries whose defaults (and --help) come from nd_tcn_fit_opts_default. */
#include "cmd_neuron.h"
#include <stdio.h>

void neuron_fit_table(cli_opt *t, neuron_fit_args *a) {
    nd_tcn_fit_opts d;
    nd_tcn_fit_opts_default(&d);
    const long iv[] = {d.net.depth, d.net.width, d.net.first_kernel, d.net.kernel, d.epochs, d.batch, d.window_ms,
                       d.lr_step, (long)d.seed};
    const double rv[] = {d.lr, d.lr_decay, d.valid_fraction};
    for (int i = 0; i < 9; i++) snprintf(a->def[i], sizeof a->def[i], "%ld", iv[i]);
    for (int i = 0; i < 3; i++) snprintf(a->def[9 + i], sizeof a->def[i], "%g", rv[i]);
    const cli_opt o[NEURON_FIT_NOPTS] = {
        {"depth", 0, CLI_INT, a->def[0], "layers", &a->depth, 1, ND_TCN_MAX_DEPTH, NULL, "N"},
        {"width", 0, CLI_INT, a->def[1], "channels per layer", &a->width, 1, 4096, NULL, "N"},
        {"first-kernel", 0, CLI_INT, a->def[2], "first layer's temporal extent", &a->first_kernel, 1, 2000, NULL, "MS"},
        {"kernel", 0, CLI_INT, a->def[3], "later layers' kernel", &a->kernel, 1, 2000, NULL, "MS"},
        {"epochs", 0, CLI_INT, a->def[4], "epochs (an epoch = windows covering the training simulations once;\n"
         "                             a resumed run continues to N)", &a->epochs, 1, 100000, NULL, "N"},
        {"batch", 0, CLI_INT, a->def[5], "windows per step", &a->batch, 1, 100000, NULL, "N"},
        {"window-ms", 0, CLI_INT, a->def[6], "loss bins per window (plus the receptive field as context)", &a->window_ms,
         1, 1000000, NULL, "N"},
        {"lr", 0, CLI_REAL, a->def[9], "Adam learning rate, times --lr-decay every --lr-step epochs", &a->lr, 1e-9, 10,
         NULL, "X"},
        {"lr-decay", 0, CLI_REAL, a->def[10], "learning-rate factor", &a->lr_decay, 1e-6, 1, NULL, "X"},
        {"lr-step", 0, CLI_INT, a->def[7], "epochs between learning-rate decays", &a->lr_step, 1, 100000, NULL, "N"},
        {"valid-fraction", 0, CLI_REAL, a->def[11], "last simulations held out to choose best.ckpt", &a->valid_fraction,
         1e-6, 0.9, NULL, "X"},
        {"seed", 0, CLI_INT, a->def[8], "random seed", &a->seed, 0, 2147483647, NULL, "N"},
        {"threads", 't', CLI_THREADS, NULL, "BLAS threads", &a->threads, 0, 0, NULL, NULL},
        {"quiet", 0, CLI_FLAG, NULL, "no progress lines", &a->quiet, 0, 0, NULL, NULL},
    };
    for (int i = 0; i < NEURON_FIT_NOPTS; i++) t[i] = o[i];
}

void neuron_fit_apply(const neuron_fit_args *a, nd_tcn_fit_opts *o) {
    o->net.depth = (int)a->depth;
    o->net.width = (int)a->width;
    o->net.first_kernel = (int)a->first_kernel;
    o->net.kernel = (int)a->kernel;
    o->epochs = (int)a->epochs;
    o->batch = (int)a->batch;
    o->window_ms = (int)a->window_ms;
    o->lr_step = (int)a->lr_step;
    o->seed = (uint64_t)a->seed;
    o->threads = (int)a->threads;
    o->lr = a->lr;
    o->lr_decay = a->lr_decay;
    o->valid_fraction = a->valid_fraction;
    o->progress = a->quiet ? NULL : stdout;
}
