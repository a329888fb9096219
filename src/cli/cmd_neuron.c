/* neurodyn neuron simulate: ground-truth neurons for "a single neuron as a deep network" (docs/neuron.md). */
#define _GNU_SOURCE
#include "cli.h"
#include "../models/neuron_sim.h"
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void neuron_usage(FILE *f) {
    fprintf(f,
            "usage: neurodyn neuron simulate --cell CELL --out sims.h5 [options]\n\n"
            "Simulates a ground-truth neuron driven by inhomogeneous Poisson inputs and writes, per 1 ms bin,\n"
            "the somatic voltage and output spikes with the input spike trains (HDF5; layout in docs/neuron.md).\n"
            "  iaf            integrate-and-fire: 80 excitatory + 20 inhibitory inputs, exponential kernel 20 ms\n"
            "  branched       Hodgkin-Huxley soma + 82-compartment passive dendritic tree, AMPA + NMDA (Mg block)\n"
            "                 and GABA_A conductance synapses (328 excitatory, 90 inhibitory inputs)\n"
            "  branched-ampa  the same tree without NMDA\n"
            "Unless --exc-rate-hz is given, the input rate is first calibrated (bisection on short simulations)\n"
            "so that the cell fires at --target-hz.\n\n"
            "options:\n"
            "  --cell CELL          iaf | branched | branched-ampa (required)\n"
            "  --out FILE           output HDF5 file (required; written atomically)\n"
            "  --sims K             simulations (default 10)\n"
            "  --seconds S          length of each simulation (default 6)\n"
            "  --seed N             random seed (default 0); same seed = same file, whatever --threads\n"
            "  --threads N          simulations in parallel (default: all cores)\n"
            "  --dt MS              integration step of the branched cells (default 0.025; must divide 1 ms)\n"
            "  --exc-rate-hz R      mean rate per excitatory input (default: calibrated)\n"
            "  --inh-ratio X        inhibitory / excitatory input rate (default 1.5; iaf 1)\n"
            "  --target-hz R        output rate the calibration aims at (default 3)\n"
            "  --quiet              no progress lines\n\n"
            "examples:\n"
            "  neurodyn neuron simulate --cell branched --sims 200 --seconds 6 --out train_sims.h5\n"
            "  neurodyn neuron simulate --cell branched --sims 40 --seconds 6 --seed 1 --out test_sims.h5\n");
}

static int parse_num(const char *opt, const char *v, double lo, double hi, double *out) {
    char *end;
    double x = strtod(v, &end);
    if (end == v || *end || !(x >= lo && x <= hi)) {
        fprintf(stderr, "neurodyn neuron simulate: %s '%s' must be a number in %g..%g\n", opt, v, lo, hi);
        return 0;
    }
    *out = x;
    return 1;
}

static int neuron_simulate(int argc, char **argv) {
    static const struct option opts[] = {
        {"cell", required_argument, 0, 'c'},  {"out", required_argument, 0, 'o'},
        {"sims", required_argument, 0, 'k'},  {"seconds", required_argument, 0, 's'},
        {"seed", required_argument, 0, 'S'},  {"threads", required_argument, 0, 't'},
        {"dt", required_argument, 0, 'd'},    {"exc-rate-hz", required_argument, 0, 'e'},
        {"inh-ratio", required_argument, 0, 'i'}, {"target-hz", required_argument, 0, 'T'},
        {"quiet", no_argument, 0, 'q'},       {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0}};
    nd_neuron_sim_opts o;
    nd_neuron_sim_opts_default(&o);
    long nproc = sysconf(_SC_NPROCESSORS_ONLN);
    o.threads = nproc > 0 ? (int)nproc : 1;
    const char *cell = NULL, *out = NULL;
    int quiet = 0, c;
    double x;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "ho:", opts, NULL)) != -1) {
        switch (c) {
        case 'c': cell = optarg; break;
        case 'o': out = optarg; break;
        case 'k': if (!parse_num("--sims", optarg, 1, 1e7, &x)) return 2; o.sims = (int)x; break;
        case 's': if (!parse_num("--seconds", optarg, 0.6, 3600, &x)) return 2; o.seconds = x; break;
        case 'S': if (!parse_num("--seed", optarg, 0, 9e15, &x)) return 2; o.seed = (uint64_t)x; break;
        case 't': if (!parse_num("--threads", optarg, 1, 1024, &x)) return 2; o.threads = (int)x; break;
        case 'd': if (!parse_num("--dt", optarg, 1e-4, 0.1, &x)) return 2; o.dt_ms = x; break;
        case 'e': if (!parse_num("--exc-rate-hz", optarg, 1e-6, 1000, &x)) return 2; o.exc_rate_hz = x; break;
        case 'i': if (!parse_num("--inh-ratio", optarg, 1e-6, 100, &x)) return 2; o.inh_ratio = x; break;
        case 'T': if (!parse_num("--target-hz", optarg, 0.01, 200, &x)) return 2; o.target_hz = x; break;
        case 'q': quiet = 1; break;
        case 'h': neuron_usage(stdout); return 0;
        default: cli_bad_option("neuron simulate", argv); return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "neurodyn neuron simulate: unexpected argument '%s' (see --help)\n", argv[optind]);
        return 2;
    }
    if (!cell || !out) {
        fprintf(stderr, "neurodyn neuron simulate: --cell and --out are required (see --help)\n");
        return 2;
    }
    if (!strcmp(cell, "l5pc") || !strcmp(cell, "l5pc-ampa")) {
        fprintf(stderr, "neurodyn neuron simulate: --cell %s (the L5PC in NEURON) is not implemented yet; use iaf, "
                        "branched or branched-ampa\n", cell);
        return 2;
    }
    int kind = nd_neuron_kind_parse(cell);
    if (kind < 0) {
        fprintf(stderr, "neurodyn neuron simulate: unknown --cell '%s' (iaf, branched, branched-ampa)\n", cell);
        return 2;
    }
    o.kind = (nd_neuron_kind)kind;
    o.progress = quiet ? NULL : stderr;
    nd_neuron_sims s;
    nd_error err;
    if (nd_neuron_simulate(&o, &s, &err) || nd_neuron_sims_write(out, &s, &err)) {
        fprintf(stderr, "neurodyn neuron simulate: %s\n", err.msg);
        if (s.sims) nd_neuron_sims_free(&s);
        return 1;
    }
    printf("neurodyn neuron simulate: %s: %d x %.1f s, %d inputs (%.2f / %.2f Hz exc / inh), output %.2f Hz, %zu "
           "input spikes -> wrote %s\n", cell, s.sims, s.ms / 1000.0, s.syn, s.exc_rate_hz, s.inh_rate_hz,
           s.mean_rate_hz, s.n_in, out);
    nd_neuron_sims_free(&s);
    return 0;
}

int cmd_neuron(int argc, char **argv) {
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        neuron_usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (!strcmp(argv[1], "simulate")) return neuron_simulate(argc - 1, argv + 1);
    fprintf(stderr, "neurodyn neuron: unknown subcommand '%s' (available: simulate)\n", argv[1]);
    return 2;
}
