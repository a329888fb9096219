/* neurodyn <command> [options] — dispatch to the subcommands. */
#include "cli.h"
#include <stdio.h>
#include <string.h>
#include <getopt.h>
#include <stdlib.h>
#include <unistd.h>

static const struct { const char *name; int (*fn)(int, char **); const char *help; } commands[] = {
    {"simulate", cmd_simulate, "make synthetic data with ground truth (lorenz, chaotic-rnn)"},
    {"train", cmd_train, "train an LFADS model on an HDF5 data file"},
    {"search", cmd_search, "hyperparameter search: population-based training (AutoLFADS), local or MPI"},
    {"infer", cmd_infer, "infer rates, factors, initial conditions and inputs with a trained model"},
    {"baseline", cmd_baseline, "spike smoothing + Poisson GLM, or GPFA: rates in infer's layout, for eval"},
    {"eval", cmd_eval, "score inferred rates (R^2 against the true rates; smoothing baseline)"},
    {"convert", cmd_convert, "bin NWB / MATLAB / spike-time files into trials (lfads-torch HDF5 layout)"},
    {"inspect", cmd_inspect, "describe a data file: datasets, trials, splits, neurons, rates, warnings"},
    {"compare", cmd_compare, "compare two representations (CCA, SVCCA, PWCCA, CKA, Procrustes, RSA)"},
    {"rdm", cmd_rdm, "representational dissimilarity matrix of condition patterns (RSA)"},
    {"predict", cmd_predict, "neural predictivity: cross-validated ridge / PLS from model units to neurons"},
    {"jpca", cmd_jpca, "rotational dynamics (jPCA) of condition-averaged factors"},
    {"fixedpoints", cmd_fixedpoints, "fixed points of a trained generator and their stability"},
    {"decode", cmd_decode, "decode a per-trial behaviour or stimulus from model outputs (cross-validated ridge)"},
    {"ablate", cmd_ablate, "silence factors at the read-out: NLL / rate R^2 vs number silenced"},
    {"learn", cmd_learn, "learning rules beyond backprop: train with a rule, measure gradient bias and variance"},
    {"report", cmd_report, "one self-contained HTML page (inline SVG figures) about a run"},
    {"neuron", cmd_neuron, "a neuron as a deep network: simulate cells, fit / score / sweep TCNs, filters"},
    {"export", cmd_export, "export a model's weights under lfads-torch names, or outputs as an NLB submission"},
};

void cli_bad_option(const char *cmd, char **argv) {
    const char *arg = optind > 0 ? argv[optind - 1] : "?";
    if (optopt && optopt < 256 && arg[0] == '-' && arg[1] != '-')
        fprintf(stderr, "neurodyn %s: unknown option '-%c' (see 'neurodyn %s --help')\n", cmd, optopt, cmd);
    else
        fprintf(stderr, "neurodyn %s: unknown option or missing value: '%s' (see 'neurodyn %s --help')\n", cmd, arg,
                cmd);
}

static void usage(FILE *f) {
    fprintf(f, "neurodyn %s — latent dynamics of neural populations (LFADS) in C\n\n"
               "usage: neurodyn <command> [options]    (neurodyn <command> --help for details)\n\ncommands:\n",
            nd_version());
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-12s %s\n", commands[i].name, commands[i].help);
    fprintf(f, "\n  --version    the version and the OpenBLAS kernels in use\n"
               "  --blas-env   the shell line that gives Python or a C program the OpenBLAS kernels the CLI uses, on a\n"
               "               CPU OpenBLAS does not recognise (eval \"$(neurodyn --blas-env)\"; nothing otherwise)\n");
    fprintf(f, "\nexample:\n  neurodyn simulate lorenz --out lorenz.h5\n  neurodyn train lorenz.h5 --out run/\n"
               "  neurodyn infer run/ --data lorenz.h5 --out lorenz_out.h5\n"
               "  neurodyn eval lorenz_out.h5 --data lorenz.h5\n");
}

/* OpenBLAS chooses its kernels once, when it is loaded; on a CPU it does not recognise it falls back to generic ones
 * 4-5 times slower (nd_blas_suggested_core). Restart once with OPENBLAS_CORETYPE set, before any work; if the restart
 * fails, go on with the slow kernels. ND_BLAS_SET marks the variable as neurodyn's (for --version, --blas-env). */
static void restart_with_better_blas(char **argv) {
    const char *core = nd_blas_suggested_core();
    if (!core || setenv("OPENBLAS_CORETYPE", core, 1) || setenv("ND_BLAS_SET", "1", 1)) return;
    execv("/proc/self/exe", argv);
    unsetenv("OPENBLAS_CORETYPE");
    unsetenv("ND_BLAS_SET");
}

static void print_version(void) {
    const char *set = getenv("ND_BLAS_SET");
    printf("neurodyn %s\nOpenBLAS kernels: %s%s\n", nd_version(), nd_blas_core(),
           set ? " (OPENBLAS_CORETYPE set by neurodyn: OpenBLAS alone picks its generic kernels on this CPU)" : "");
}

/* the shell line that gives a C program or Python the kernels the CLI uses (nothing when none is needed) */
static void print_blas_env(void) {
    const char *core = getenv("ND_BLAS_SET") ? getenv("OPENBLAS_CORETYPE") : nd_blas_suggested_core();
    if (core) printf("export OPENBLAS_CORETYPE=%s\n", core);
}

int main(int argc, char **argv) {
    restart_with_better_blas(argv);
    if (argc < 2) { usage(stderr); return 2; }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) { usage(stdout); return 0; }
    if (!strcmp(argv[1], "--version")) { print_version(); return 0; }
    if (!strcmp(argv[1], "--blas-env")) { print_blas_env(); return 0; }
    const size_t n = sizeof commands / sizeof commands[0];
    const char *names[sizeof commands / sizeof commands[0]];
    for (size_t i = 0; i < n; i++) {
        if (!strcmp(argv[1], commands[i].name)) return commands[i].fn(argc - 1, argv + 1);
        names[i] = commands[i].name;
    }
    const char *near = nd_suggest(argv[1], names, (int)n);
    if (near)
        fprintf(stderr, "neurodyn: unknown command '%s'; did you mean '%s'? (try 'neurodyn --help')\n", argv[1], near);
    else
        fprintf(stderr, "neurodyn: unknown command '%s' (try 'neurodyn --help')\n", argv[1]);
    return 2;
}
