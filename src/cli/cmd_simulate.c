/* neurodyn simulate {lorenz|chaotic-rnn} -o FILE [options]: parse, nd_synth_lorenz / nd_synth_chaotic_rnn (+
 * nd_synth_calcium) and nd_synth_write, or nd_synth_lorenz_sessions_write for --sessions (src/models/synth*.c). */
#include "cli.h"
#include "opt.h"
#include "../models/synth.h"
#include <math.h>
#include <stdio.h>
#include <string.h>

#define SESSION_NEURONS_MIN 20 /* defaults of the multi-session neuron range */
#define SESSION_NEURONS_MAX 40
#define IND "\n                             "

static const char ABOUT[] =
    "Generate a synthetic spiking dataset with known true rates and latents, written in LFADS HDF5 format\n"
    "(train_data, valid_data, train_truth, ..., train_latents, ...). lorenz only: --bin-ms, --base-rate,\n"
    "--sessions, --neurons-min, --neurons-max; chaotic-rnn only: --gain, --tau, --dt, --max-rate,\n"
    "--input-pulses, --pulse-magnitude. --calcium (lorenz or chaotic-rnn, not with --sessions) writes\n"
    "deconvolved-like calcium traces instead of spike counts: spikes s -> calcium c_t = g c_{t-1} + s_t,\n"
    "g = exp(-bin / tau) -> fluorescence f = amplitude c + N(0, noise^2) -> deconvolved d_t = f_t - g f_{t-1},\n"
    "set to 0 below the threshold. train_data / valid_data become float traces; the spikes are kept as\n"
    "train_spikes / valid_spikes, the true rates and latents as usual. Train them with --set recon=zig (or gamma,\n"
    "gaussian).\n";

/* "--NAME" of a given option that does not apply (NULL: none) */
static const char *misplaced(int lorenz, const long *li, const double *ld, int pulses) {
    if (lorenz) return !isnan(ld[2]) ? "gain" : !isnan(ld[3]) ? "tau" : !isnan(ld[4]) ? "dt" : !isnan(ld[5]) ? "max-rate"
                     : pulses ? "input-pulses" : !isnan(ld[6]) ? "pulse-magnitude" : NULL;
    return !isnan(ld[0]) ? "bin-ms" : !isnan(ld[1]) ? "base-rate" : li[4] >= 0 ? "sessions" : li[5] >= 0 ? "neurons-min"
           : li[6] >= 0 ? "neurons-max" : NULL;
}

int cmd_simulate(int argc, char **argv) {
    nd_lorenz_opts l;
    nd_crnn_opts c;
    nd_calcium_opts ca, ca0;
    nd_lorenz_opts_default(&l);
    nd_crnn_opts_default(&c);
    nd_calcium_opts_default(&ca);
    ca0 = ca;
    const char *out = NULL;
    /* -1 / NaN: not given. li: conditions, trials per condition, neurons, bins, sessions, neurons-min, -max, seed;
     * ld: bin-ms, base-rate, gain, tau, dt, max-rate, pulse-magnitude, valid-fraction */
    long li[8] = {-1, -1, -1, -1, -1, -1, -1, -1};
    double ld[8] = {NAN, NAN, NAN, NAN, NAN, NAN, NAN, NAN};
    int pulses = 0, calcium = 0;
    char h[12][256];
    snprintf(h[0], sizeof h[0], "initial conditions (lorenz %d, chaotic-rnn %d)", l.conditions, c.conditions);
    snprintf(h[1], sizeof h[1], "trials per condition (lorenz %d, chaotic-rnn %d)", l.trials_per_condition,
             c.trials_per_condition);
    snprintf(h[2], sizeof h[2], "neurons (lorenz %d, chaotic-rnn %d = network size)", l.neurons, c.neurons);
    snprintf(h[3], sizeof h[3], "time bins per trial (lorenz %d, chaotic-rnn %d)", l.bins, c.bins);
    snprintf(h[4], sizeof h[4], "random seed (%llu)", (unsigned long long)l.seed);
    snprintf(h[5], sizeof h[5], "validation share of each condition's trials (%g)", l.valid_fraction);
    snprintf(h[6], sizeof h[6], "lorenz: bin width in ms (%g)", l.bin_ms);
    snprintf(h[7], sizeof h[7], "lorenz: rate of a neuron at the attractor's centre, W z = 0 (%g Hz)", l.base_rate_hz);
    snprintf(h[8], sizeof h[8], "chaotic-rnn: recurrent gain g (%g; 2.5 is more chaotic)", c.gain);
    snprintf(h[9], sizeof h[9], "chaotic-rnn: unit time constant in seconds (%g); --dt S: time step = bin width (%g)",
             c.tau_s, c.dt_s);
    snprintf(h[10], sizeof h[10], "chaotic-rnn: rate at the network's maximum activity (%g Hz); --pulse-magnitude: "
             "pulse size (%g)", c.max_rate_hz, c.pulse_magnitude);
    snprintf(h[11], sizeof h[11], "--calcium: kernel decay (%g ms), fluorescence per spike (%g), noise SD (%g),"
             IND "threshold below which deconvolved values become 0 (%g; use zig_loc <= V)", ca.tau_ms, ca.amplitude,
             ca.noise, ca.threshold);
    const cli_opt opts[] = {
        {"out", 'o', CLI_STR, NULL, "output file (required; written atomically; a directory with --sessions)", &out, 0,
         0, NULL, "FILE"},
        {"conditions", 0, CLI_INT, NULL, h[0], &li[0], 1, 1e9, NULL, NULL},
        {"trials-per-condition", 0, CLI_INT, NULL, h[1], &li[1], 1, 1e9, NULL, NULL},
        {"neurons", 0, CLI_INT, NULL, h[2], &li[2], 1, 1e9, NULL, NULL},
        {"bins", 0, CLI_INT, NULL, h[3], &li[3], 1, 1e9, NULL, NULL},
        {"seed", 0, CLI_INT, NULL, h[4], &li[7], 0, 9.2e18, NULL, NULL},
        {"valid-fraction", 0, CLI_REAL, NULL, h[5], &ld[7], 1e-300, 1 - 1e-16, NULL, "F"},
        {"bin-ms", 0, CLI_REAL, NULL, h[6], &ld[0], 1e-300, 1e300, NULL, "MS"},
        {"base-rate", 0, CLI_REAL, NULL, h[7], &ld[1], 1e-300, 1e300, NULL, "HZ"},
        {"sessions", 0, CLI_INT, NULL, "lorenz: multi-session set for stitching: --out is a directory, created if"
         IND "missing, that gets s1.h5 .. sS.h5. All sessions share the conditions and latent"
         IND "trajectories; each has its own neurons, read-out (also written as 'readout'), split"
         IND "and spikes", &li[4], 1, ND_SYNTH_MAX_SESSIONS, NULL, "S"},
        {"neurons-min", 0, CLI_INT, NULL, "fewest neurons of a session, with --sessions (20)", &li[5], 1, 1e9, NULL, NULL},
        {"neurons-max", 0, CLI_INT, NULL, "most neurons of a session, with --sessions (40); each session's count is"
         IND "drawn uniformly in [min, max]", &li[6], 1, 1e9, NULL, NULL},
        {"gain", 0, CLI_REAL, NULL, h[8], &ld[2], 0, 1e300, NULL, "G"},
        {"tau", 0, CLI_REAL, NULL, h[9], &ld[3], 1e-300, 1e300, NULL, "S"},
        {"dt", 0, CLI_REAL, NULL, "chaotic-rnn: time step = bin width in seconds", &ld[4], 1e-300, 1e300, NULL, "S"},
        {"max-rate", 0, CLI_REAL, NULL, h[10], &ld[5], 1e-300, 1e300, NULL, "HZ"},
        {"input-pulses", 0, CLI_FLAG, NULL, "chaotic-rnn: one input pulse per trial at a random bin in [T/4, 3T/4)",
         &pulses, 0, 0, NULL, NULL},
        {"pulse-magnitude", 0, CLI_REAL, NULL, "chaotic-rnn: pulse size", &ld[6], 0, 1e300, NULL, "U"},
        {"calcium", 0, CLI_FLAG, NULL, "write deconvolved-like calcium traces instead of spike counts (above)", &calcium,
         0, 0, NULL, NULL},
        {"calcium-tau-ms", 0, CLI_REAL, NULL, h[11], &ca.tau_ms, 1e-300, 1e300, NULL, "MS"},
        {"calcium-amplitude", 0, CLI_REAL, NULL, "--calcium: fluorescence per spike", &ca.amplitude, 1e-300, 1e300, NULL,
         "A"},
        {"calcium-noise", 0, CLI_REAL, NULL, "--calcium: SD of the fluorescence noise", &ca.noise, 0, 1e300, NULL, "S"},
        {"calcium-threshold", 0, CLI_REAL, NULL, "--calcium: deconvolved values below V become 0", &ca.threshold, 0,
         1e300, NULL, "V"},
        {0}};
    const cli_spec spec = {"simulate", "lorenz -o FILE [options]\n"
                           "       neurodyn simulate lorenz --sessions S -o DIR [--neurons-min N --neurons-max N]\n"
                           "       neurodyn simulate chaotic-rnn -o FILE [--input-pulses] [options]", ABOUT,
                           "lorenz -o lorenz.h5\nchaotic-rnn --input-pulses -o crnn.h5", opts, 1, 1,
                           "one generator: lorenz or chaotic-rnn", NULL};
    char *pos[argc > 0 ? argc : 1];
    int npos, rc = cli_parse(&spec, argc, argv, pos, &npos);
    if (rc) return rc < 0 ? 0 : rc;
    int lorenz = !strcmp(pos[0], "lorenz"), calcium_opt = memcmp(&ca, &ca0, sizeof ca) != 0;
    const char *bad = misplaced(lorenz, li, ld, pulses);
    if (!lorenz && strcmp(pos[0], "chaotic-rnn"))
        fprintf(stderr, "neurodyn simulate: unknown generator '%s' (choose lorenz or chaotic-rnn)\n", pos[0]);
    else if (!out || !*out) fprintf(stderr, "neurodyn simulate: missing --out FILE\n");
    else if (bad)
        fprintf(stderr, "neurodyn simulate: option --%s does not apply to %s\n", bad, lorenz ? "lorenz" : "chaotic-rnn");
    else if (li[4] >= 0 && li[2] >= 0)
        fprintf(stderr, "neurodyn simulate: --neurons does not apply with --sessions (each session draws its count "
                        "from --neurons-min/--neurons-max)\n");
    else if (li[4] < 0 && (li[5] >= 0 || li[6] >= 0))
        fprintf(stderr, "neurodyn simulate: --%s needs --sessions\n", li[5] >= 0 ? "neurons-min" : "neurons-max");
    else if (calcium && li[4] >= 0) fprintf(stderr, "neurodyn simulate: --calcium does not apply with --sessions\n");
    else if (calcium_opt && !calcium) fprintf(stderr, "neurodyn simulate: the --calcium-* options need --calcium\n");
    else if ((li[5] < 0 ? SESSION_NEURONS_MIN : li[5]) > (li[6] < 0 ? SESSION_NEURONS_MAX : li[6]))
        fprintf(stderr, "neurodyn simulate: --neurons-min (%ld) must not exceed --neurons-max (%ld)\n",
                li[5] < 0 ? SESSION_NEURONS_MIN : li[5], li[6] < 0 ? SESSION_NEURONS_MAX : li[6]);
    else bad = "";
    if (!bad || *bad) return 2;
    int *common[2][4] = {{&l.conditions, &l.trials_per_condition, &l.neurons, &l.bins},
                         {&c.conditions, &c.trials_per_condition, &c.neurons, &c.bins}};
    for (int k = 0; k < 4; k++)
        if (li[k] >= 0) *common[!lorenz][k] = (int)li[k];
    if (li[7] >= 0) l.seed = c.seed = (uint64_t)li[7];
    if (!isnan(ld[7])) l.valid_fraction = c.valid_fraction = ld[7];
    double *real[7] = {&l.bin_ms, &l.base_rate_hz, &c.gain, &c.tau_s, &c.dt_s, &c.max_rate_hz, &c.pulse_magnitude};
    for (int k = 0; k < 7; k++)
        if (!isnan(ld[k])) *real[k] = ld[k];
    c.input_pulses = pulses;
    nd_synth s;
    nd_error err = {0};
    nd_status st;
    if (li[4] >= 0) {
        st = nd_synth_lorenz_sessions_write(&l, (int)li[4], li[5] < 0 ? SESSION_NEURONS_MIN : (int)li[5],
                                            li[6] < 0 ? SESSION_NEURONS_MAX : (int)li[6], out, stdout, &err);
        if (st) fprintf(stderr, "neurodyn simulate: %s\n", err.msg);
        return st == ND_ERR_ARG ? 2 : st ? 1 : 0;
    }
    st = lorenz ? nd_synth_lorenz(&l, &s, &err) : nd_synth_chaotic_rnn(&c, &s, &err);
    if (!st && calcium && (st = nd_synth_calcium(&s, &ca, li[7] < 0 ? 0 : (uint64_t)li[7], &err))) nd_synth_free(&s);
    if (st) {
        fprintf(stderr, "neurodyn simulate: %s\n", err.msg);
        return st == ND_ERR_ARG ? 2 : 1;
    }
    if ((st = nd_synth_write(&s, out, &err))) {
        fprintf(stderr, "neurodyn simulate: %s\n", err.msg);
        nd_synth_free(&s);
        return 1;
    }
    const nd_lfads_data *d = &s.data;
    printf("neurodyn simulate: %s: %d trials (%d train, %d valid) x %d bins of %g ms x %d neurons, "
           "mean rate %.2f Hz%s%s -> wrote %s\n",
           lorenz ? "lorenz" : "chaotic-rnn", d->split[ND_TRAIN].n + d->split[ND_VALID].n, d->split[ND_TRAIN].n,
           d->split[ND_VALID].n, d->T, s.bin_ms, d->N,
           nd_synth_mean_rate_hz(&s), s.U ? ", with input pulses" : "", s.calcium ? ", as calcium traces" : "", out);
    nd_synth_free(&s);
    return 0;
}
