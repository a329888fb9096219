/* neurodyn neuron simulate: parse, nd_neuron_simulate_file (src/models/neuron_cell.c), print what was written. */
#include "cli.h"
#include "cmd_neuron.h"
#include "../models/neuron_cell.h"
#include <stdio.h>

static const char ABOUT[] =
    "Simulates a ground-truth neuron driven by inhomogeneous Poisson inputs and writes, per 1 ms bin,\n"
    "the somatic voltage and output spikes with the input spike trains (HDF5; layout in docs/neuron.md).\n"
    "  iaf            integrate-and-fire: 80 excitatory + 20 inhibitory inputs, exponential kernel 20 ms\n"
    "  branched       Hodgkin-Huxley soma + 82-compartment passive dendritic tree, AMPA + NMDA (Mg block)\n"
    "                 and GABA_A conductance synapses (328 excitatory, 90 inhibitory inputs)\n"
    "  branched-ampa  the same tree without NMDA\n"
    "  l5pc           the Hay et al. (2011) layer-5 pyramidal cell in NEURON (Debian packages neuron,\n"
    "                 neuron-dev, python3-neuron), AMPA + NMDA and GABA_A inputs on each of its 639\n"
    "                 dendritic segments, driven with the paper's input statistics; l5pc-ampa: no NMDA\n"
    "                 (--dt and --seed apply; the mechanisms are compiled once into ~/.cache/neurodyn)\n"
    "Unless --exc-rate-hz is given, the input rate is first calibrated (bisection on short simulations)\n"
    "so that the cell fires at --target-hz. The same seed gives the same file, whatever --threads.\n";

int neuron_simulate(int argc, char **argv) {
    nd_neuron_sim_opts o;
    nd_neuron_sim_opts_default(&o);
    const char *cell = NULL, *out = NULL, *inputs = NULL;
    long sims = 0, seed = 0, threads = 0;
    int quiet = 0;
    char d_sims[32], d_sec[32], d_dt[32], d_hz[32];
    snprintf(d_sims, sizeof d_sims, "%d", o.sims);
    snprintf(d_sec, sizeof d_sec, "%g", o.seconds);
    snprintf(d_dt, sizeof d_dt, "%g", o.dt_ms);
    snprintf(d_hz, sizeof d_hz, "%g", o.target_hz);
    const cli_opt opts[] = {
        {"cell", 0, CLI_STR, NULL, "iaf | branched | branched-ampa | l5pc | l5pc-ampa (required)", &cell, 0, 0, NULL,
         "CELL"},
        {"out", 'o', CLI_STR, NULL, "output HDF5 file (required; written atomically)", &out, 0, 0, NULL, "FILE"},
        {"sims", 0, CLI_INT, d_sims, "simulations", &sims, 1, 1e7, NULL, "K"},
        {"seconds", 0, CLI_REAL, d_sec, "length of each simulation", &o.seconds, 0.6, 3600, NULL, "S"},
        {"seed", 0, CLI_INT, "0", "random seed", &seed, 0, 9e15, NULL, "N"},
        {"threads", 't', CLI_THREADS, NULL, "simulations in parallel", &threads, 0, 0, NULL, NULL},
        {"dt", 0, CLI_REAL, d_dt, "integration step of the branched and L5PC cells (must divide 1 ms)", &o.dt_ms, 1e-4,
         0.1, NULL, "MS"},
        {"exc-rate-hz", 0, CLI_REAL, NULL, "mean rate per excitatory input (default: calibrated)", &o.exc_rate_hz, 1e-6,
         1000, NULL, "R"},
        {"inh-ratio", 0, CLI_REAL, NULL, "inhibitory / excitatory input rate (default 1.5; iaf 1)", &o.inh_ratio, 1e-6,
         100, NULL, "X"},
        {"inputs", 0, CLI_STR, NULL, "shared (default: one population gain, inhibition tracks excitation) | paper\n"
         "                             (Beniaguev et al. 2021: independent basal/apical drives, decorrelated E/I, a\n"
         "                             per-compartment factor redrawn every interval, smoothing SD 25-600 ms)", &inputs,
         0, 0, NULL, "MODEL"},
        {"target-hz", 0, CLI_REAL, d_hz, "output rate the calibration aims at", &o.target_hz, 0.01, 200, NULL, "R"},
        {"quiet", 0, CLI_FLAG, NULL, "no progress lines", &quiet, 0, 0, NULL, NULL},
        {0}};
    const cli_spec spec = {"neuron simulate", "--cell CELL --out sims.h5 [--sims K] [--seconds S] [--seed N]\n"
                           "                                [--inputs shared|paper] [--exc-rate-hz R] [--threads N]",
                           ABOUT, "--cell branched --sims 200 --seconds 6 --out train_sims.h5\n"
                           "--cell branched --sims 40 --seconds 6 --seed 1 --out test_sims.h5",
                           opts, 0, 0, "no positional arguments (the cell is --cell)", NULL};
    char *pos[argc > 0 ? argc : 1];
    int npos, rc = cli_parse(&spec, argc, argv, pos, &npos);
    if (rc) return rc < 0 ? 0 : rc;
    if (!cell || !out) {
        fprintf(stderr, "neurodyn neuron simulate: --cell and --out are required (see --help)\n");
        return 2;
    }
    if (inputs) {
        int v = nd_neuron_inputs_parse(inputs);
        if (v < 0) {
            fprintf(stderr, "neurodyn neuron simulate: unknown --inputs '%s' (shared, paper)\n", inputs);
            return 2;
        }
        o.inputs = (nd_neuron_inputs)v;
    }
    o.sims = (int)sims;
    o.seed = (uint64_t)seed;
    o.threads = (int)threads;
    o.progress = quiet ? NULL : stderr;
    nd_neuron_sim_summary r;
    nd_error err;
    nd_status st = nd_neuron_simulate_file(cell, &o, out, &r, &err);
    if (st) {
        fprintf(stderr, "neurodyn %s\n", err.msg);
        return st == ND_ERR_ARG ? 2 : 1;
    }
    printf("neurodyn neuron simulate: %s: %d x %.1f s, %d inputs (%.2f / %.2f Hz exc / inh), output %.2f Hz, %ld input "
           "spikes -> wrote %s", cell, r.sims, r.seconds, r.synapses, r.exc_rate_hz, r.inh_rate_hz, r.output_rate_hz,
           r.input_spikes, out);
    if (r.neuron) printf(" (NEURON, %.0f s)", r.neuron_seconds);
    printf("\n");
    return 0;
}
