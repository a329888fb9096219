/* neurodyn neuron simulate: ground-truth neurons for "a single neuron as a deep network" (docs/neuron.md). */
#define _GNU_SOURCE
#include "cli.h"
#include "../models/neuron_sim.h"
#include "../models/l5pc.h"
#include "../eval/neuron_eval.h"
#include <math.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void neuron_usage(FILE *f) {
    fprintf(f,
            "usage: neurodyn neuron simulate --cell CELL --out sims.h5 [options]\n"
            "       neurodyn neuron fit sims.h5 --out RUN_DIR [options]    (neurodyn neuron fit --help)\n"
            "       neurodyn neuron eval RUN_DIR --data test_sims.h5 [--json[=FILE]]\n"
            "       neurodyn neuron sweep sims.h5 --test test_sims.h5 --out DIR [--depths 1,2,3,5,7] [--widths 32,128]\n"
            "       neurodyn neuron filters RUN_DIR --out filters.h5 [--svg filters.svg]\n"
            "       neurodyn neuron compare SWEEP_DIR... --out DIR   (several sweeps in one figure)\n\n"
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
            "so that the cell fires at --target-hz.\n\n"
            "options:\n"
            "  --cell CELL          iaf | branched | branched-ampa | l5pc | l5pc-ampa (required)\n"
            "  --out FILE           output HDF5 file (required; written atomically)\n"
            "  --sims K             simulations (default 10)\n"
            "  --seconds S          length of each simulation (default 6)\n"
            "  --seed N             random seed (default 0); same seed = same file, whatever --threads\n"
            "  --threads N          simulations in parallel (default: all cores)\n"
            "  --dt MS              integration step of the branched cells (default 0.025; must divide 1 ms)\n"
            "  --exc-rate-hz R      mean rate per excitatory input (default: calibrated)\n"
            "  --inh-ratio X        inhibitory / excitatory input rate (default 1.5; iaf 1)\n"
            "  --inputs MODEL       shared (default: one population gain, inhibition tracks excitation) | paper\n"
            "                       (Beniaguev et al. 2021: independent basal/apical drives, decorrelated E/I, a\n"
            "                       per-compartment factor redrawn every interval, smoothing SD 25-600 ms)\n"
            "  --target-hz R        output rate the calibration aims at (default 3)\n"
            "  --quiet              no progress lines\n\n"
            "examples:\n"
            "  neurodyn neuron simulate --cell branched --sims 200 --seconds 6 --out train_sims.h5\n"
            "  neurodyn neuron simulate --cell branched --sims 40 --seconds 6 --seed 1 --out test_sims.h5\n"
            "  neurodyn neuron simulate --cell branched --inputs paper --sims 100 --out paper_sims.h5\n");
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
        {"inputs", required_argument, 0, 'I'},
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
        case 'I': {
            int v = nd_neuron_inputs_parse(optarg);
            if (v < 0) {
                fprintf(stderr, "neurodyn neuron simulate: unknown --inputs '%s' (shared, paper)\n", optarg);
                return 2;
            }
            o.inputs = (nd_neuron_inputs)v;
            break;
        }
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
    if (nd_l5pc_is_cell(cell)) {
        nd_l5pc_opts lo;
        nd_l5pc_opts_default(&lo);
        lo.cell = cell;
        lo.sims = o.sims;
        lo.seconds = o.seconds;
        lo.seed = o.seed;
        lo.dt_ms = o.dt_ms;
        lo.out = out;
        lo.progress = quiet ? NULL : stderr;
        nd_l5pc_result r;
        nd_error err;
        nd_status st = nd_l5pc_simulate(&lo, &r, &err);
        if (st) {
            fprintf(stderr, "neurodyn %s\n", err.msg);
            return st == ND_ERR_ARG ? 2 : 1;
        }
        printf("neurodyn neuron simulate: %s: %d x %.1f s, %d inputs (%.2f / %.2f Hz exc / inh), output %.2f Hz, %ld "
               "input spikes -> wrote %s (NEURON, %.0f s)\n", cell, r.sims, o.seconds, r.synapses, r.exc_rate_hz,
               r.inh_rate_hz, r.output_rate_hz, r.input_spikes, out, r.seconds);
        return 0;
    }
    int kind = nd_neuron_kind_parse(cell);
    if (kind < 0) {
        fprintf(stderr, "neurodyn neuron simulate: unknown --cell '%s' (iaf, branched, branched-ampa, l5pc, "
                        "l5pc-ampa)\n", cell);
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


static void fit_usage(FILE *f) {
    fprintf(f,
            "usage: neurodyn neuron fit sims.h5 --out RUN_DIR [options]\n\n"
            "Fits a temporally convolutional network (causal conv -> ReLU -> batch norm per layer; the first layer\n"
            "is computed from the input spikes directly) to the cell's spikes (sigmoid, cross-entropy) and somatic\n"
            "voltage (clipped at -55 mV, standardised; squared error). The last --valid-fraction of the simulations\n"
            "choose best.ckpt (lowest loss). RUN_DIR gets config.txt, train_log.tsv, last.ckpt (every epoch,\n"
            "atomic) and best.ckpt; --resume continues last.ckpt exactly.\n\n"
            "options:\n"
            "  --out DIR            run directory (required)\n"
            "  --depth N            layers (default 7)\n"
            "  --width N            channels per layer (default 128)\n"
            "  --first-kernel MS    first layer's temporal extent (default 35)\n"
            "  --kernel MS          later layers' kernel (default 5)\n"
            "  --epochs N           epochs (default 20; an epoch = windows covering the training simulations once)\n"
            "  --batch N            windows per step (default 16)\n"
            "  --window-ms N        loss bins per window (default 400; plus the receptive field as context)\n"
            "  --lr X               Adam learning rate (default 1e-3, halved every 8 epochs: --lr-decay, --lr-step)\n"
            "  --valid-fraction X   simulations held out for best.ckpt (default 0.1)\n"
            "  --seed N             random seed (default 0)\n"
            "  --threads N          BLAS threads (default: all cores)\n"
            "  --resume | --force   continue RUN_DIR, or replace the run in it\n"
            "  --quiet              no progress lines\n\n"
            "examples:\n"
            "  neurodyn neuron fit train_sims.h5 --out tcn_run/ --depth 7 --width 128\n"
            "  neurodyn neuron fit train_sims.h5 --out fcn_run/ --depth 1 --width 128 --first-kernel 43\n");
}

static int int_opt(const char *cmd, const char *opt, const char *v, long lo, long hi, int *out) {
    char *end;
    long x = strtol(v, &end, 10);
    if (end == v || *end || x < lo || x > hi) {
        fprintf(stderr, "neurodyn %s: %s '%s' must be an integer in %ld..%ld\n", cmd, opt, v, lo, hi);
        return 0;
    }
    *out = (int)x;
    return 1;
}

/* the fit options shared by fit and sweep: 1 handled, 0 bad value (message printed), -1 not a fit option */
static int fit_option(const char *cmd, int c, const char *arg, nd_tcn_fit_opts *o, int *seed) {
    double x;
    switch (c) {
    case 'D': return int_opt(cmd, "--depth", arg, 1, ND_TCN_MAX_DEPTH, &o->net.depth);
    case 'W': return int_opt(cmd, "--width", arg, 1, 4096, &o->net.width);
    case 'F': return int_opt(cmd, "--first-kernel", arg, 1, 2000, &o->net.first_kernel);
    case 'K': return int_opt(cmd, "--kernel", arg, 1, 2000, &o->net.kernel);
    case 'E': return int_opt(cmd, "--epochs", arg, 1, 100000, &o->epochs);
    case 'B': return int_opt(cmd, "--batch", arg, 1, 100000, &o->batch);
    case 'w': return int_opt(cmd, "--window-ms", arg, 1, 1000000, &o->window_ms);
    case 'Y': return int_opt(cmd, "--lr-step", arg, 1, 100000, &o->lr_step);
    case 't': return int_opt(cmd, "--threads", arg, 1, 1024, &o->threads);
    case 's': if (!int_opt(cmd, "--seed", arg, 0, 2147483647, seed)) return 0; o->seed = (uint64_t)*seed; return 1;
    case 'l': if (!parse_num("--lr", arg, 1e-9, 10, &x)) return 0; o->lr = x; return 1;
    case 'y': if (!parse_num("--lr-decay", arg, 1e-6, 1, &x)) return 0; o->lr_decay = x; return 1;
    case 'v': if (!parse_num("--valid-fraction", arg, 1e-6, 0.9, &x)) return 0; o->valid_fraction = x; return 1;
    default: return -1;
    }
}

#define FIT_LONG_OPTS                                                                                              \
    {"depth", required_argument, 0, 'D'}, {"width", required_argument, 0, 'W'},                                   \
    {"first-kernel", required_argument, 0, 'F'}, {"kernel", required_argument, 0, 'K'},                           \
    {"epochs", required_argument, 0, 'E'}, {"batch", required_argument, 0, 'B'},                                  \
    {"window-ms", required_argument, 0, 'w'}, {"lr", required_argument, 0, 'l'},                                  \
    {"lr-decay", required_argument, 0, 'y'}, {"lr-step", required_argument, 0, 'Y'},                              \
    {"valid-fraction", required_argument, 0, 'v'}, {"seed", required_argument, 0, 's'},                           \
    {"threads", required_argument, 0, 't'}

static void fit_defaults(nd_tcn_fit_opts *o) {
    nd_tcn_fit_opts_default(o);
    long nproc = sysconf(_SC_NPROCESSORS_ONLN);
    o->threads = nproc > 0 ? (int)nproc : 1;
}

static int neuron_fit(int argc, char **argv) {
    static const struct option opts[] = {
        {"out", required_argument, 0, 'o'}, FIT_LONG_OPTS, {"resume", no_argument, 0, 'r'},
        {"force", no_argument, 0, 'f'}, {"quiet", no_argument, 0, 'q'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    nd_tcn_fit_opts o;
    fit_defaults(&o);
    int quiet = 0, c, seed = 0;
    const char *cmd = "neuron fit";
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "ho:", opts, NULL)) != -1) {
        int r = fit_option(cmd, c, optarg, &o, &seed);
        if (r == 0) return 2;
        if (r == 1) continue;
        switch (c) {
        case 'o': o.run_dir = optarg; break;
        case 'r': o.resume = 1; break;
        case 'f': o.force = 1; break;
        case 'q': quiet = 1; break;
        case 'h': fit_usage(stdout); return 0;
        default: cli_bad_option(cmd, argv); return 2;
        }
    }
    if (optind != argc - 1 || !o.run_dir) {
        fprintf(stderr, "neurodyn neuron fit: expected one sims.h5 and --out RUN_DIR (see --help)\n");
        return 2;
    }
    o.progress = quiet ? NULL : stdout;
    nd_neuron_data d;
    nd_tcn_fit_result res;
    nd_error err;
    if (nd_neuron_data_read(argv[optind], &d, &err)) {
        fprintf(stderr, "neurodyn neuron fit: %s\n", err.msg);
        return 1;
    }
    nd_status st = nd_tcn_fit(&d, argv[optind], &o, &res, &err);
    nd_neuron_data_free(&d);
    if (st) {
        fprintf(stderr, "neurodyn neuron fit: %s\n", err.msg);
        return st == ND_ERR_ARG ? 2 : 1;
    }
    if (!quiet) printf("done: best epoch %d, validation loss %.4f -> %s/best.ckpt (score it: neurodyn neuron eval)\n",
                       res.best_epoch + 1, res.best_valid_loss, o.run_dir);
    return 0;
}

/* "1,2,3" -> list; 0 with a message on a bad list */
static int int_list(const char *opt, const char *v, int lo, int hi, int *out, int *n) {
    *n = 0;
    const char *p = v;
    while (*p) {
        char *end;
        long x = strtol(p, &end, 10);
        if (end == p || x < lo || x > hi || *n >= ND_TCN_SWEEP_MAX || (*end && *end != ',')) {
            fprintf(stderr, "neurodyn neuron sweep: %s '%s': expected up to %d comma-separated integers in %d..%d\n",
                    opt, v, ND_TCN_SWEEP_MAX, lo, hi);
            return 0;
        }
        out[(*n)++] = (int)x;
        p = *end ? end + 1 : end;
    }
    if (!*n) fprintf(stderr, "neurodyn neuron sweep: %s is empty\n", opt);
    return *n > 0;
}

static int neuron_sweep(int argc, char **argv) {
    static const struct option opts[] = {
        {"out", required_argument, 0, 'o'}, {"test", required_argument, 0, 'T'}, {"depths", required_argument, 0, 'P'},
        {"widths", required_argument, 0, 'Q'}, {"receptive-field", required_argument, 0, 'R'}, FIT_LONG_OPTS, {"quiet", no_argument, 0, 'q'},
        {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    nd_tcn_sweep_opts o;
    memset(&o, 0, sizeof o);
    fit_defaults(&o.fit);
    o.depths[0] = 1; o.depths[1] = 2; o.depths[2] = 3; o.depths[3] = 5; o.depths[4] = 7; o.n_depths = 5;
    o.widths[0] = 32; o.widths[1] = 128; o.n_widths = 2;
    const char *test = NULL, *cmd = "neuron sweep";
    int quiet = 0, c, seed = 0;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "ho:", opts, NULL)) != -1) {
        int r = fit_option(cmd, c, optarg, &o.fit, &seed);
        if (r == 0) return 2;
        if (r == 1) continue;
        switch (c) {
        case 'o': o.out_dir = optarg; break;
        case 'T': test = optarg; break;
        case 'P': if (!int_list("--depths", optarg, 1, ND_TCN_MAX_DEPTH, o.depths, &o.n_depths)) return 2; break;
        case 'Q': if (!int_list("--widths", optarg, 1, 4096, o.widths, &o.n_widths)) return 2; break;
        case 'R': if (!int_opt(cmd, "--receptive-field", optarg, 1, 100000, &o.receptive_field_ms)) return 2; break;
        case 'q': quiet = 1; break;
        case 'h':
            printf("usage: neurodyn neuron sweep sims.h5 --test test_sims.h5 --out DIR [--depths 1,2,3,5,7]\n"
                   "                             [--widths 32,128] [--receptive-field MS] [neuron fit options]\n\n"
                   "Fits one network per depth and width (DIR/dD_wW, each as 'neuron fit' would; finished ones are\n"
                   "reused and interrupted ones resumed, so the sweep can be restarted) and scores each on the test\n"
                   "simulations: DIR/sweep.tsv, DIR/sweep.json, DIR/auc_vs_depth.svg, DIR/ev_vs_depth.svg.\n"
                   "--receptive-field MS gives every depth the same temporal extent (the first kernel shrinks as\n"
                   "layers are added), so that depth is not confounded with the time window.\n\n"
                   "example:\n  neurodyn neuron sweep train_sims.h5 --test test_sims.h5 --depths 1,2,3,5,7 --widths 32,128 "
                   "--out sweep/\n");
            return 0;
        default: cli_bad_option(cmd, argv); return 2;
        }
    }
    if (optind != argc - 1 || !o.out_dir || !test) {
        fprintf(stderr, "neurodyn neuron sweep: expected sims.h5, --test FILE and --out DIR (see --help)\n");
        return 2;
    }
    o.fit.progress = quiet ? NULL : stdout;
    nd_neuron_data tr, te;
    nd_error err;
    if (nd_neuron_data_read(argv[optind], &tr, &err)) {
        fprintf(stderr, "neurodyn neuron sweep: %s\n", err.msg);
        return 1;
    }
    if (nd_neuron_data_read(test, &te, &err)) {
        nd_neuron_data_free(&tr);
        fprintf(stderr, "neurodyn neuron sweep: %s\n", err.msg);
        return 1;
    }
    nd_tcn_sweep_row *rows;
    nd_status st = nd_tcn_sweep(&tr, argv[optind], &te, &o, &rows, &err);
    nd_neuron_data_free(&tr);
    nd_neuron_data_free(&te);
    if (st) {
        fprintf(stderr, "neurodyn neuron sweep: %s\n", err.msg);
        return st == ND_ERR_ARG ? 2 : 1;
    }
    printf("depth  width  RF ms  params     spike AUC  TPR@0.25%%  voltage EV\n");
    for (int k = 0; k < o.n_depths * o.n_widths; k++)
        printf("%5d  %5d  %5d  %9zu  %9.4f  %9.4f  %10.4f\n", rows[k].depth, rows[k].width,
               rows[k].receptive_field_ms, rows[k].params, rows[k].test.auc, rows[k].test.tpr_at_fpr, rows[k].test.v_ev);
    printf("-> %s/sweep.tsv, sweep.json, auc_vs_depth.svg, ev_vs_depth.svg\n", o.out_dir);
    free(rows);
    return 0;
}

static int neuron_eval(int argc, char **argv) {
    static const struct option opts[] = {{"data", required_argument, 0, 'd'}, {"json", optional_argument, 0, 'j'},
                                         {"fpr", required_argument, 0, 'p'}, {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char *data = NULL, *json = NULL;
    int want_json = 0, c;
    double fpr = 0.0025;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'd': data = optarg; break;
        case 'j': want_json = 1; json = optarg; break;
        case 'p': if (!parse_num("--fpr", optarg, 0, 1, &fpr)) return 2; break;
        case 'h':
            printf("usage: neurodyn neuron eval RUN_DIR --data test_sims.h5 [--json[=FILE]] [--fpr 0.0025]\n\n"
                   "Scores a fitted network (RUN_DIR/best.ckpt) on simulations it never saw, the first 500 ms of each\n"
                   "left out: spike ROC AUC over 1 ms bins, the true-positive rate at --fpr false positives, and\n"
                   "the voltage's explained variance, RMSE and MAE against the truth clipped at -55 mV.\n\n"
                   "example:\n  neurodyn neuron eval tcn_run/ --data test_sims.h5 --json=scores.json\n");
            return 0;
        default: cli_bad_option("neuron eval", argv); return 2;
        }
    }
    if (optind != argc - 1 || !data) {
        fprintf(stderr, "neurodyn neuron eval: expected RUN_DIR and --data FILE (see --help)\n");
        return 2;
    }
    nd_tcn_run r;
    nd_neuron_data d;
    nd_tcn_scores s;
    nd_error err;
    if (nd_tcn_run_load(argv[optind], &r, &err)) {
        fprintf(stderr, "neurodyn neuron eval: %s\n", err.msg);
        return 1;
    }
    nd_status st = nd_neuron_data_read(data, &d, &err);
    if (!st) {
        st = nd_tcn_evaluate(&r, &d, fpr, &s, &err);
        nd_neuron_data_free(&d);
    }
    nd_tcn_run_free(&r);
    if (st) {
        fprintf(stderr, "neurodyn neuron eval: %s: %s\n", data, err.msg);
        return 1;
    }
    if (want_json) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "spike_auc", s.auc);
        cJSON_AddNumberToObject(o, "tpr_at_fpr", s.tpr_at_fpr);
        cJSON_AddNumberToObject(o, "fpr", s.fpr);
        cJSON_AddNumberToObject(o, "voltage_explained_variance", s.v_ev);
        cJSON_AddNumberToObject(o, "voltage_rmse_mv", s.v_rmse);
        cJSON_AddNumberToObject(o, "voltage_mae_mv", s.v_mae);
        cJSON_AddNumberToObject(o, "simulations", s.sims);
        cJSON_AddNumberToObject(o, "bins", (double)s.bins);
        int rc = cli_write_json("neuron eval", o, json);
        cJSON_Delete(o);
        if (rc || !json) return rc;
    }
    printf("%d simulations, %ld bins (first 500 ms of each left out)\n", s.sims, s.bins);
    printf("spike AUC          %.4f\nTPR at %.2f%% FPR   %.4f\nvoltage EV         %.4f\nvoltage RMSE       %.3f mV\n"
           "voltage MAE        %.3f mV\n", s.auc, 100 * s.fpr, s.tpr_at_fpr, s.v_ev, s.v_rmse, s.v_mae);
    return 0;
}

static int neuron_filters(int argc, char **argv) {
    static const struct option opts[] = {{"out", required_argument, 0, 'o'}, {"svg", required_argument, 0, 'g'},
                                         {"distance-bins", required_argument, 0, 'b'}, {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char *out = NULL, *svg = NULL;
    int bins = 10, c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "ho:", opts, NULL)) != -1) {
        switch (c) {
        case 'o': out = optarg; break;
        case 'g': svg = optarg; break;
        case 'b': if (!int_opt("neuron filters", "--distance-bins", optarg, 1, 1000, &bins)) return 2; break;
        case 'h':
            printf("usage: neurodyn neuron filters RUN_DIR --out filters.h5 [--svg filters.svg] [--distance-bins 10]\n\n"
                   "Writes the first layer's spatio-temporal templates: the weights [unit][synapse][lag ms], and per\n"
                   "unit the mean template of the excitatory and of the inhibitory synapses in equal bins of distance\n"
                   "from the soma; --svg draws the strongest unit's templates as a heat map.\n\n"
                   "example:\n  neurodyn neuron filters tcn_run/ --out filters.h5 --svg filters.svg\n");
            return 0;
        default: cli_bad_option("neuron filters", argv); return 2;
        }
    }
    if (optind != argc - 1 || !out) {
        fprintf(stderr, "neurodyn neuron filters: expected RUN_DIR and --out FILE (see --help)\n");
        return 2;
    }
    nd_tcn_run r;
    nd_error err;
    if (nd_tcn_run_load(argv[optind], &r, &err) || nd_tcn_filters_write(&r, bins, out, svg, &err)) {
        fprintf(stderr, "neurodyn neuron filters: %s\n", err.msg);
        return 1;
    }
    printf("neurodyn neuron filters: %d units x %d synapses x %d ms -> %s%s%s\n", r.m.cfg.width, r.m.cfg.syn,
           r.m.cfg.first_kernel, out, svg ? ", " : "", svg ? svg : "");
    nd_tcn_run_free(&r);
    return 0;
}

static int neuron_compare(int argc, char **argv) {
    static const struct option opts[] = {{"out", required_argument, 0, 'o'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    const char *out = NULL;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "ho:", opts, NULL)) != -1) {
        switch (c) {
        case 'o': out = optarg; break;
        case 'h':
            printf("usage: neurodyn neuron compare SWEEP_DIR... --out DIR\n\n"
                   "Draws several sweeps (e.g. one per cell) in one figure: DIR/compare.tsv and DIR/auc_vs_depth.svg,\n"
                   "DIR/ev_vs_depth.svg, one curve per sweep and width.\n\n"
                   "example:\n  neurodyn neuron compare iaf/sweep branched-ampa/sweep branched/sweep --out figures/\n");
            return 0;
        default: cli_bad_option("neuron compare", argv); return 2;
        }
    }
    if (optind >= argc || !out) {
        fprintf(stderr, "neurodyn neuron compare: expected sweep directories and --out DIR (see --help)\n");
        return 2;
    }
    nd_error err;
    if (nd_tcn_sweep_compare((const char *const *)(argv + optind), argc - optind, out, &err)) {
        fprintf(stderr, "neurodyn neuron compare: %s\n", err.msg);
        return 1;
    }
    printf("neurodyn neuron compare: %d sweeps -> %s/compare.tsv, auc_vs_depth.svg, ev_vs_depth.svg\n", argc - optind, out);
    return 0;
}

int cmd_neuron(int argc, char **argv) {
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        neuron_usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (!strcmp(argv[1], "simulate")) return neuron_simulate(argc - 1, argv + 1);
    if (!strcmp(argv[1], "fit")) return neuron_fit(argc - 1, argv + 1);
    if (!strcmp(argv[1], "eval")) return neuron_eval(argc - 1, argv + 1);
    if (!strcmp(argv[1], "sweep")) return neuron_sweep(argc - 1, argv + 1);
    if (!strcmp(argv[1], "filters")) return neuron_filters(argc - 1, argv + 1);
    if (!strcmp(argv[1], "compare")) return neuron_compare(argc - 1, argv + 1);
    fprintf(stderr, "neurodyn neuron: unknown subcommand '%s' (available: simulate, fit, eval, sweep, filters, compare)\n",
            argv[1]);
    return 2;
}
