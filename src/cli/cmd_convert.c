/* neurodyn convert INPUT -o OUT.h5 --bin-ms MS [options]: parse, nd_read_binned / nd_convert_assign /
 * nd_convert_write (src/io/binning.c, convert.c), print one line. */
#include "cli.h"
#include "opt.h"
#include "../io/binning.h"
#include "../io/convert.h"
#include <math.h>
#include <stdio.h>
#include <string.h>

static const char ABOUT[] =
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
            "(times compared on an integer nanosecond clock, as nlb_tools does).\\n";

static void extra_help(FILE *f) {
    fprintf(f, "\nDropped trials and units without spikes are reported as warning lines on stderr.\n");
}

int cmd_convert(int argc, char **argv) {
    nd_bin_opts bo;
    nd_bin_opts_default(&bo);
    nd_convert_opts co;
    nd_convert_opts_default(&co);
    const char *out = NULL, *window = NULL, *beh_at = NULL;
    long fp = 0, trials = 0, seed = 0;
    int grid = 0, outside = 0, strict = 0;
    const cli_opt opts[] = {
        {"out", 'o', CLI_STR, NULL, "output file (required; written atomically)", &out, 0, 0, NULL, "FILE"},
        {"bin-ms", 0, CLI_REAL, NULL, "bin width in ms (required; a whole number for MATLAB data)", &bo.bin_ms, 1e-300,
         1e7, NULL, "MS"},
        {"align", 0, CLI_STR, NULL, "NWB: align trials to this event column of /intervals/trials (default: none,\n"
         "                             windows start at start_time); needs --window", &bo.align, 0, 0, NULL, "COLUMN"},
        {"window", 0, CLI_STR, NULL, "window in ms relative to the event (NWB), or to the trial's start (default: the\n"
         "                             whole trial; NWB/MATLAB trials must then all have the same length; triplets:\n"
         "                             [0, latest spike rounded up to a bin))", &window, 0, 0, NULL, "START:END"},
        {"fp-bins", 0, CLI_INT, "0", "forward-prediction bins after the window; without --window they are the\n"
         "                             trial's last N bins", &fp, 0, 1e6, NULL, NULL},
        {"behavior", 0, CLI_STR, NULL, "NWB TimeSeries under /processing/behavior, or an absolute path (default:\n"
         "                             hand_vel if present)", &bo.behavior, 0, 0, NULL, "NAME|none"},
        {"behavior-lag-ms", 0, CLI_REAL, "0", "take the behaviour of each bin MS later", &bo.behavior_lag_ms, -1e7, 1e7,
         NULL, "MS"},
        {"behavior-at", 0, CLI_CHOICE, "start", "behaviour value at each bin's start (as nlb_tools) or centre; linear\n"
         "                             interpolation between samples", &beh_at, 0, 0, "start|centre|center", NULL},
        {"condition", 0, CLI_STR, NULL, "NWB: trials column(s), comma-separated (default: none); MATLAB: struct field\n"
         "                             (default: condition, if present); triplets and binned counts: a dataset with\n"
         "                             one value per trial (default: none)", &bo.condition, 0, 0, NULL, "NAME"},
        {"group", 0, CLI_STR, NULL, "triplets: group with time_ms/neuron/trial (default spike_times, then /);\n"
         "                             MATLAB: the struct-array variable (default D, then dat); binned counts: the\n"
         "                             3-D dataset (default spikes)", &bo.group, 0, 0, NULL, "NAME"},
        {"trials", 0, CLI_INT, NULL, "triplets: number of trials (default: largest trial index + 1)", &trials, 1, 1e8,
         NULL, NULL},
        {"trial-ms", 0, CLI_REAL, NULL, "triplets: trial length (default: latest spike rounded up to a bin)",
         &bo.trial_ms, 1e-300, 1e10, NULL, "MS"},
        {"heldout-fraction", 0, CLI_REAL, "0", "share of neurons held out, drawn with --seed, when the input has no\n"
         "                             heldout column", &co.heldout_fraction, 0, 0.999999, NULL, "F"},
        {"valid-fraction", 0, CLI_REAL, "0.2", "share of validation trials when the input has no split column",
         &co.valid_fraction, 0, 0.999999, NULL, "F"},
        {"test-fraction", 0, CLI_REAL, "0", "share of test trials when the input has no split column", &co.test_fraction,
         0, 0.999999, NULL, "F"},
        {"seed", 0, CLI_INT, "0", "seed of the random held-out and split selections", &seed, 0, 9.2e18, NULL, NULL},
        {"ignore-file-split", 0, CLI_FLAG, NULL, "use the fractions even if the input has a split column",
         &co.ignore_file_split, 0, 0, NULL, NULL},
        {"ignore-file-heldout", 0, CLI_FLAG, NULL, "use --heldout-fraction even if the input has a heldout column",
         &co.ignore_file_heldout, 0, 0, NULL, NULL},
        {"keep-test-targets", 0, CLI_FLAG, NULL, "also write test_recon_data_eval (held-out neurons / forward bins of\n"
         "                             test trials, for scoring; lfads-torch itself gives test trials encod_data only)",
         &co.keep_test_targets, 0, 0, NULL, NULL},
        {"grid-align", 0, CLI_FLAG, NULL, "NWB: move each window start up to the next multiple of --bin-ms on the\n"
         "                             recording clock, as nlb_tools' make_trial_data does", &grid, 0, 0, NULL, NULL},
        {"allow-outside-trial", 0, CLI_FLAG, NULL, "NWB: keep windows that reach beyond [start_time, stop_time]",
         &outside, 0, 0, NULL, NULL},
        {"strict", 0, CLI_FLAG, NULL, "stop with an error instead of dropping a trial (NaN event, window outside the\n"
         "                             trial or obs_intervals, behaviour missing, split 'none', too short)", &strict,
         0, 0, NULL, NULL},
        {0}};
    const cli_spec spec = {"convert", "INPUT -o OUT.h5 --bin-ms MS [options]", ABOUT,
                           "session.nwb -o data.h5 --bin-ms 5 --align move_onset_time --window -250:450 --fp-bins 40\n"
                           "DataHigh.mat -o data.h5 --bin-ms 20 --window 0:600", opts, 1, 1, "one INPUT file",
                           extra_help};
    char *pos[argc > 0 ? argc : 1];
    int npos, rc = cli_parse(&spec, argc, argv, pos, &npos);
    if (rc) return rc < 0 ? 0 : rc;
    const char *bad = NULL;
    if (window && nd_parse_window(window, &bo.win_start_ms, &bo.win_end_ms))
        fprintf(stderr, "neurodyn convert: --window: '%s' is not START:END in ms with END > START (e.g. -250:450)\n",
                bad = window);
    else if (!out || !*out) fprintf(stderr, "neurodyn convert: %s\n", bad = "missing --out OUT.h5");
    else if (!(bo.bin_ms > 0)) fprintf(stderr, "neurodyn convert: %s\n", bad = "missing --bin-ms MS (the bin width)");
    else if (bo.align && !window)
        fprintf(stderr, "neurodyn convert: --align %s needs --window START:END (ms around the event)\n", bad = bo.align);
    if (bad) return 2;
    bo.has_window = window != NULL;
    bo.fp_bins = (int)fp;
    bo.n_trials = (int)trials;
    bo.behavior_center = strcmp(beh_at, "start") != 0;
    bo.grid_align = grid;
    bo.allow_outside_trial = outside;
    bo.strict = strict;
    co.seed = (uint64_t)seed;
    const char *in = pos[0];
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
