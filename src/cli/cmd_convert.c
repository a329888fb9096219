/* neurodyn convert INPUT --out OUT.h5 --bin-ms MS [options]: a recording (NWB, MATLAB v7.3 / v5,
 * spike-time triplets in HDF5) -> the lfads-torch HDF5 layout (see src/io/convert.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "../io/binning.h"
#include "../io/convert.h"

static void convert_usage(FILE *f) {
    fprintf(f,
            "usage: neurodyn convert INPUT --out OUT.h5 --bin-ms MS [options]\n\n"
            "Bins a recording into trials and writes the lfads-torch layout, which 'neurodyn train' reads:\n"
            "{train,valid,test}_encod_data (held-in neurons, observed bins), {train,valid}_recon_data (held-in then\n"
            "held-out neurons; observed then forward-prediction bins), {split}_behavior, {split}_inds,\n"
            "{split}_condition, heldin_neurons, heldout_neurons, and root attributes (bin_ms, align_event,\n"
            "window_ms, fp_bins, seed, source_file, ...).\n\n"
            "INPUT formats (detected from the content):\n"
            "  NWB 2.x        /units spike_times + spike_times_index (+ obs_intervals, heldout),\n"
            "                 /intervals/trials (start_time, stop_time, event columns, split),\n"
            "                 behaviour TimeSeries under /processing/behavior\n"
            "  MATLAB v7.3/v5 struct array D(i).data (neurons x 1-ms bins; GPFA: dat(i).spikes), D(i).condition\n"
            "  triplets       HDF5 datasets time_ms, neuron, trial under a group (default spike_times/)\n"
            "  binned counts  HDF5 3-D dataset spikes (trials x bins x units; --group names another) with a\n"
            "                 bin_ms attribute; optional split (train/val/test/none strings) and heldout (0/1)\n"
            "                 beside it; --bin-ms must be a whole multiple of bin_ms (bins are summed)\n"
            "  nlb_tools      make_train_input_tensors / save_to_h5 output: train_spikes_heldin, _heldout,\n"
            "                 eval_spikes_heldin (+ eval_spikes_heldout from the eval targets, at the root or in\n"
            "                 one group), *_forward, train_behavior, eval_behavior; --bin-ms is their bin\n"
            "                 width (not stored); eval trials become test, --valid-fraction of the train ones\n"
            "                 valid; hidden eval targets give a test split of encoder data only\n\n"
            "Binning: bin k of a trial counts spikes in [t0 + k*bin, t0 + (k+1)*bin), t0 = event + window start\n"
            "(times compared on an integer nanosecond clock, as nlb_tools does).\n\n"
            "options:\n"
            "  -o, --out FILE             output file (required; written atomically)\n"
            "      --bin-ms MS            bin width in ms (required; a whole number for MATLAB data)\n"
            "      --align COLUMN         NWB: align trials to this event column of /intervals/trials (default:\n"
            "                             none, windows start at start_time); needs --window\n"
            "      --window START:END     window in ms relative to the event (NWB), or to the trial's start\n"
            "                             (default: the whole trial; NWB/MATLAB trials must then all have the same\n"
            "                             length; triplets: [0, latest spike rounded up to a bin))\n"
            "      --fp-bins N            forward-prediction bins after the window (0); without --window they are\n"
            "                             the trial's last N bins\n"
            "      --behavior NAME|none   NWB TimeSeries under /processing/behavior, or an absolute path\n"
            "                             (default: hand_vel if present)\n"
            "      --behavior-lag-ms MS   take the behaviour of each bin MS later (0)\n"
            "      --behavior-at start|centre  behaviour value at each bin's start (default, as nlb_tools) or centre;\n"
            "                             linear interpolation between samples\n"
            "      --condition NAME       NWB: trials column(s), comma-separated (default: none); MATLAB: struct\n"
            "                             field (default: condition, if present); triplets and binned counts:\n"
            "                             a dataset with one value per trial (default: none)\n"
            "      --group NAME           triplets: group with time_ms/neuron/trial (default spike_times, then /);\n"
            "                             MATLAB: the struct-array variable (default D, then dat); binned\n"
            "                             counts: the 3-D dataset (default spikes)\n"
            "      --trials N             triplets: number of trials (default: largest trial index + 1)\n"
            "      --trial-ms MS          triplets: trial length (default: latest spike rounded up to a bin)\n"
            "      --heldout-fraction F   share of neurons held out, drawn with --seed, when the input has no\n"
            "                             heldout column (0)\n"
            "      --valid-fraction F     share of validation trials when the input has no split column (0.2)\n"
            "      --test-fraction F      share of test trials when the input has no split column (0)\n"
            "      --seed N               seed of the random held-out and split selections (0)\n"
            "      --ignore-file-split    use the fractions even if the input has a split column\n"
            "      --ignore-file-heldout  use --heldout-fraction even if the input has a heldout column\n"
            "      --keep-test-targets    also write test_recon_data_eval (held-out neurons / forward bins of test\n"
            "                             trials, for scoring; lfads-torch itself gives test trials encod_data only)\n"
            "      --grid-align           NWB: move each window start up to the next multiple of --bin-ms on the\n"
            "                             recording clock, as nlb_tools' make_trial_data does\n"
            "      --allow-outside-trial  NWB: keep windows that reach beyond [start_time, stop_time]\n"
            "      --strict               stop with an error instead of dropping a trial (NaN event, window outside\n"
            "                             the trial or obs_intervals, behaviour missing, split 'none', too short)\n"
            "  -h, --help                 show this help\n\n"
            "Dropped trials and units without spikes are reported as warning lines on stderr.\n");
}

#define CFAIL(...)                                                                                                     \
    do {                                                                                                               \
        fprintf(stderr, "neurodyn convert: " __VA_ARGS__);                                                             \
        fputc('\n', stderr);                                                                                           \
        return 2;                                                                                                      \
    } while (0)

enum {
    O_BIN = 1000,
    O_ALIGN,
    O_WINDOW,
    O_FP,
    O_BEH,
    O_LAG,
    O_BEH_AT,
    O_COND,
    O_GROUP,
    O_TRIALS,
    O_TRIAL_MS,
    O_HO,
    O_VF,
    O_TF,
    O_SEED,
    O_IGN_SPLIT,
    O_IGN_HO,
    O_KEEP_TEST,
    O_GRID,
    O_OUTSIDE,
    O_STRICT
};

static int num(const char *opt, const char *s, double lo, double hi, int lo_open, double *out) {
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !isfinite(v) || v < lo || (lo_open && v == lo) || v > hi) {
        fprintf(stderr, "neurodyn convert: --%s: '%s' is not a number in %s%g, %g]\n", opt, s, lo_open ? "(" : "[", lo,
                hi);
        return 0;
    }
    *out = v;
    return 1;
}

int cmd_convert(int argc, char **argv) {
    static const struct option opts[] = {
        {"out", required_argument, 0, 'o'},
        {"help", no_argument, 0, 'h'},
        {"bin-ms", required_argument, 0, O_BIN},
        {"align", required_argument, 0, O_ALIGN},
        {"window", required_argument, 0, O_WINDOW},
        {"fp-bins", required_argument, 0, O_FP},
        {"behavior", required_argument, 0, O_BEH},
        {"behavior-lag-ms", required_argument, 0, O_LAG},
        {"behavior-at", required_argument, 0, O_BEH_AT},
        {"condition", required_argument, 0, O_COND},
        {"group", required_argument, 0, O_GROUP},
        {"trials", required_argument, 0, O_TRIALS},
        {"trial-ms", required_argument, 0, O_TRIAL_MS},
        {"heldout-fraction", required_argument, 0, O_HO},
        {"valid-fraction", required_argument, 0, O_VF},
        {"test-fraction", required_argument, 0, O_TF},
        {"seed", required_argument, 0, O_SEED},
        {"ignore-file-split", no_argument, 0, O_IGN_SPLIT},
        {"ignore-file-heldout", no_argument, 0, O_IGN_HO},
        {"keep-test-targets", no_argument, 0, O_KEEP_TEST},
        {"grid-align", no_argument, 0, O_GRID},
        {"allow-outside-trial", no_argument, 0, O_OUTSIDE},
        {"strict", no_argument, 0, O_STRICT},
        {0, 0, 0, 0}};
    nd_bin_opts bo;
    nd_bin_opts_default(&bo);
    nd_convert_opts co;
    nd_convert_opts_default(&co);
    const char *out = NULL;
    double v;
    int c;
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "ho:", opts, NULL)) != -1) {
        switch (c) {
        case 'h': convert_usage(stdout); return 0;
        case 'o': out = optarg; break;
        case O_BIN:
            if (!num("bin-ms", optarg, 0, 1e7, 1, &bo.bin_ms)) return 2;
            break;
        case O_ALIGN: bo.align = optarg; break;
        case O_WINDOW:
            if (nd_parse_window(optarg, &bo.win_start_ms, &bo.win_end_ms))
                CFAIL("--window: '%s' is not START:END in ms with END > START (e.g. -250:450)", optarg);
            bo.has_window = 1;
            break;
        case O_FP:
            if (!num("fp-bins", optarg, 0, 1e6, 0, &v)) return 2;
            if (v != floor(v)) CFAIL("--fp-bins: '%s' is not a whole number", optarg);
            bo.fp_bins = (int)v;
            break;
        case O_BEH: bo.behavior = optarg; break;
        case O_LAG:
            if (!num("behavior-lag-ms", optarg, -1e7, 1e7, 0, &bo.behavior_lag_ms)) return 2;
            break;
        case O_BEH_AT:
            if (!strcmp(optarg, "start")) bo.behavior_center = 0;
            else if (!strcmp(optarg, "centre") || !strcmp(optarg, "center")) bo.behavior_center = 1;
            else CFAIL("--behavior-at: '%s' is not start or centre", optarg);
            break;
        case O_COND: bo.condition = optarg; break;
        case O_GROUP: bo.group = optarg; break;
        case O_TRIALS:
            if (!num("trials", optarg, 1, 1e8, 0, &v)) return 2;
            if (v != floor(v)) CFAIL("--trials: '%s' is not a whole number", optarg);
            bo.n_trials = (int)v;
            break;
        case O_TRIAL_MS:
            if (!num("trial-ms", optarg, 0, 1e10, 1, &bo.trial_ms)) return 2;
            break;
        case O_HO:
            if (!num("heldout-fraction", optarg, 0, 0.999999, 0, &co.heldout_fraction)) return 2;
            break;
        case O_VF:
            if (!num("valid-fraction", optarg, 0, 0.999999, 0, &co.valid_fraction)) return 2;
            break;
        case O_TF:
            if (!num("test-fraction", optarg, 0, 0.999999, 0, &co.test_fraction)) return 2;
            break;
        case O_SEED: {
            char *end;
            errno = 0;
            unsigned long long s = strtoull(optarg, &end, 10);
            if (errno || end == optarg || *end || optarg[0] == '-')
                CFAIL("--seed: '%s' is not a non-negative integer", optarg);
            co.seed = (uint64_t)s;
            break;
        }
        case O_IGN_SPLIT: co.ignore_file_split = 1; break;
        case O_IGN_HO: co.ignore_file_heldout = 1; break;
        case O_KEEP_TEST: co.keep_test_targets = 1; break;
        case O_GRID: bo.grid_align = 1; break;
        case O_OUTSIDE: bo.allow_outside_trial = 1; break;
        case O_STRICT: bo.strict = 1; break;
        default: cli_bad_option("convert", argv); return 2;
        }
    }
    if (optind >= argc) CFAIL("missing INPUT file (see 'neurodyn convert --help')");
    if (optind + 1 < argc) CFAIL("unexpected argument '%s'", argv[optind + 1]);
    if (!out || !*out) CFAIL("missing --out OUT.h5");
    if (!(bo.bin_ms > 0)) CFAIL("missing --bin-ms MS (the bin width)");
    if (bo.align && !bo.has_window) CFAIL("--align %s needs --window START:END (ms around the event)", bo.align);
    const char *in = argv[optind];

    nd_error err = {0};
    nd_binned b;
    nd_status st = nd_read_binned(in, &bo, &b, &err);
    if (st) {
        fprintf(stderr, "neurodyn convert: %s\n", err.msg);
        return st == ND_ERR_ARG ? 2 : 1;
    }
    for (int i = 0; i < b.n_warnings; i++) fprintf(stderr, "neurodyn convert: warning: %s\n", b.warnings[i]);
    nd_assignment a;
    st = nd_convert_assign(&b, &co, &a, &err);
    if (st) {
        fprintf(stderr, "neurodyn convert: %s\n", err.msg);
        nd_binned_free(&b);
        return st == ND_ERR_ARG ? 2 : 1;
    }
    st = nd_convert_write(&b, &a, &bo, &co, out, &err);
    if (st) {
        fprintf(stderr, "neurodyn convert: %s\n", err.msg);
    } else {
        printf("neurodyn convert: %s (%s): %d trials (%d train, %d valid, %d test", in, b.format, b.n, a.count[0],
               a.count[1], a.count[2]);
        if (b.n_source_trials > b.n) printf("; %d dropped", b.n_source_trials - b.n);
        printf(") x %d bins", b.T);
        if (b.fp) printf(" + %d forward", b.fp);
        printf(" of %g ms x %d neurons (%d held-in, %d held-out)", bo.bin_ms, b.N, a.n_heldin, a.n_heldout);
        if (b.B) printf(", behaviour %s (%d)", b.behavior_name, b.B);
        if (b.condition) printf(", %d conditions", b.n_conditions);
        printf(" -> wrote %s\n", out);
    }
    nd_assignment_free(&a);
    nd_binned_free(&b);
    return st ? 1 : 0;
}
