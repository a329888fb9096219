/* neurodyn neuron: its subcommands (cmd_neuron_*.c, dispatched by cmd_neuron.c) and the network and fit options
 * that `neuron fit` and `neuron sweep` share (neuron_fitopts.c). */
#ifndef ND_CLI_CMD_NEURON_H
#define ND_CLI_CMD_NEURON_H
#include "opt.h"
#include "../models/tcn_train.h"

int neuron_simulate(int argc, char **argv);
int neuron_fit(int argc, char **argv);
int neuron_eval(int argc, char **argv);
int neuron_sweep(int argc, char **argv);
int neuron_filters(int argc, char **argv);
int neuron_compare(int argc, char **argv);

/* the shared options' values (defaults: nd_tcn_fit_opts_default, --threads all cores) */
#define NEURON_FIT_NOPTS 14
typedef struct {
    long depth, width, first_kernel, kernel, epochs, batch, window_ms, lr_step, seed, threads;
    double lr, lr_decay, valid_fraction;
    int quiet;
    char def[12][32]; /* the defaults as text, for --help */
} neuron_fit_args;
/* Writes the NEURON_FIT_NOPTS shared entries into t (depth, width, ..., threads, quiet) pointing into a. */
void neuron_fit_table(cli_opt *t, neuron_fit_args *a);
/* a's values into o (progress: stdout unless --quiet) */
void neuron_fit_apply(const neuron_fit_args *a, nd_tcn_fit_opts *o);
#endif
