/* neurodyn simulate {lorenz|chaotic-rnn} --out FILE [options]: synthetic benchmarks
 * with ground truth, written in LFADS HDF5 format (see src/models/synth.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../models/synth.h"

int cmd_simulate(int argc, char **argv);

enum {
    OPT_OUT = 'o',
    OPT_HELP = 'h',
    OPT_CONDITIONS = 1000,
    OPT_TPC,
    OPT_NEURONS,
    OPT_BINS,
    OPT_SEED,
    OPT_VALID_FRACTION,
    OPT_BIN_MS,
    OPT_BASE_RATE,
    OPT_GAIN,
    OPT_TAU,
    OPT_DT,
    OPT_MAX_RATE,
    OPT_INPUT_PULSES,
    OPT_PULSE_MAGNITUDE,
};

static void usage(FILE *fp) {
    nd_lorenz_opts l;
    nd_crnn_opts c;
    nd_lorenz_opts_default(&l);
    nd_crnn_opts_default(&c);
    fprintf(fp,
            "usage: neurodyn simulate lorenz --out FILE [options]\n"
            "       neurodyn simulate chaotic-rnn --out FILE [--input-pulses] [options]\n"
            "\n"
            "Generate a synthetic spiking dataset with known true rates and latents, written in\n"
            "LFADS HDF5 format (train_data, valid_data, train_truth, ..., train_latents, ...).\n"
            "\n"
            "common options:\n"
            "  -o, --out FILE                 output file (required; written atomically)\n"
            "      --conditions N             initial conditions          (lorenz %d, chaotic-rnn %d)\n"
            "      --trials-per-condition N   trials per condition        (lorenz %d, chaotic-rnn %d)\n"
            "      --neurons N                neurons                     (lorenz %d, chaotic-rnn %d = network size)\n"
            "      --bins N                   time bins per trial         (lorenz %d, chaotic-rnn %d)\n"
            "      --seed N                   random seed                 (%llu)\n"
            "      --valid-fraction F         validation share of each condition's trials (%g)\n"
            "  -h, --help                     show this help\n"
            "\n"
            "lorenz options:\n"
            "      --bin-ms MS                bin width in ms (%g)\n"
            "      --base-rate HZ             rate of a neuron at the attractor's centre, W z = 0 (%g Hz)\n"
            "\n"
            "chaotic-rnn options:\n"
            "      --gain G                   recurrent gain g (%g; 2.5 is more chaotic)\n"
            "      --tau S                    unit time constant in seconds (%g)\n"
            "      --dt S                     time step = bin width in seconds (%g)\n"
            "      --max-rate HZ              rate at the network's maximum activity (%g Hz)\n"
            "      --input-pulses             one input pulse per trial at a random bin in [T/4, 3T/4) (off)\n"
            "      --pulse-magnitude U        pulse size (%g)\n",
            l.conditions, c.conditions, l.trials_per_condition, c.trials_per_condition, l.neurons, c.neurons, l.bins,
            c.bins, (unsigned long long)l.seed, l.valid_fraction, l.bin_ms, l.base_rate_hz, c.gain, c.tau_s, c.dt_s,
            c.max_rate_hz, c.pulse_magnitude);
}

#define FAIL(...)                                                                                                      \
    do {                                                                                                               \
        fprintf(stderr, "neurodyn simulate: " __VA_ARGS__);                                                            \
        fputc('\n', stderr);                                                                                           \
        return 2;                                                                                                      \
    } while (0)

static int parse_int(const char *opt, const char *s, int min, int *out) {
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < min || v > 1000000000) {
        fprintf(stderr, "neurodyn simulate: --%s: '%s' is not an integer >= %d\n", opt, s, min);
        return 0;
    }
    *out = (int)v;
    return 1;
}

static int parse_u64(const char *opt, const char *s, uint64_t *out) {
    char *end;
    errno = 0;
    if (*s == '-' || *s == '+' || *s == ' ' || !*s) goto bad;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end) goto bad;
    *out = (uint64_t)v;
    return 1;
bad:
    fprintf(stderr, "neurodyn simulate: --%s: '%s' is not a non-negative integer\n", opt, s);
    return 0;
}

/* positive: 1 -> > 0, 0 -> >= 0 */
static int parse_double(const char *opt, const char *s, int positive, double *out) {
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !isfinite(v) || (positive ? !(v > 0) : !(v >= 0))) {
        fprintf(stderr, "neurodyn simulate: --%s: '%s' is not a number %s 0\n", opt, s, positive ? ">" : ">=");
        return 0;
    }
    *out = v;
    return 1;
}

int cmd_simulate(int argc, char **argv) {
    static const struct option longopts[] = {
        {"out", required_argument, NULL, OPT_OUT},
        {"help", no_argument, NULL, OPT_HELP},
        {"conditions", required_argument, NULL, OPT_CONDITIONS},
        {"trials-per-condition", required_argument, NULL, OPT_TPC},
        {"neurons", required_argument, NULL, OPT_NEURONS},
        {"bins", required_argument, NULL, OPT_BINS},
        {"seed", required_argument, NULL, OPT_SEED},
        {"valid-fraction", required_argument, NULL, OPT_VALID_FRACTION},
        {"bin-ms", required_argument, NULL, OPT_BIN_MS},
        {"base-rate", required_argument, NULL, OPT_BASE_RATE},
        {"gain", required_argument, NULL, OPT_GAIN},
        {"tau", required_argument, NULL, OPT_TAU},
        {"dt", required_argument, NULL, OPT_DT},
        {"max-rate", required_argument, NULL, OPT_MAX_RATE},
        {"input-pulses", no_argument, NULL, OPT_INPUT_PULSES},
        {"pulse-magnitude", required_argument, NULL, OPT_PULSE_MAGNITUDE},
        {NULL, 0, NULL, 0},
    };
    /* values given on the command line (set[] marks which) */
    int set[OPT_PULSE_MAGNITUDE + 1] = {0};
    const char *out = NULL;
    int conditions = 0, tpc = 0, neurons = 0, bins = 0;
    uint64_t seed = 0;
    double vf = 0, bin_ms = 0, base_rate = 0, gain = 0, tau = 0, dt = 0, max_rate = 0, pulse_mag = 0;

    optind = 0; /* full re-initialisation of GNU getopt (we may be called more than once) */
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":ho:", longopts, NULL)) != -1) {
        const char *name = NULL;
        for (const struct option *o = longopts; o->name; o++)
            if (o->val == c) name = o->name;
        int ok = 1;
        switch (c) {
        case OPT_HELP: usage(stdout); return 0;
        case OPT_OUT: out = optarg; break;
        case OPT_CONDITIONS: ok = parse_int(name, optarg, 1, &conditions); break;
        case OPT_TPC: ok = parse_int(name, optarg, 1, &tpc); break;
        case OPT_NEURONS: ok = parse_int(name, optarg, 1, &neurons); break;
        case OPT_BINS: ok = parse_int(name, optarg, 1, &bins); break;
        case OPT_SEED: ok = parse_u64(name, optarg, &seed); break;
        case OPT_VALID_FRACTION:
            ok = parse_double(name, optarg, 1, &vf);
            if (ok && !(vf < 1)) FAIL("--valid-fraction: '%s' is not in (0, 1)", optarg);
            break;
        case OPT_BIN_MS: ok = parse_double(name, optarg, 1, &bin_ms); break;
        case OPT_BASE_RATE: ok = parse_double(name, optarg, 1, &base_rate); break;
        case OPT_GAIN: ok = parse_double(name, optarg, 0, &gain); break;
        case OPT_TAU: ok = parse_double(name, optarg, 1, &tau); break;
        case OPT_DT: ok = parse_double(name, optarg, 1, &dt); break;
        case OPT_MAX_RATE: ok = parse_double(name, optarg, 1, &max_rate); break;
        case OPT_INPUT_PULSES: break;
        case OPT_PULSE_MAGNITUDE: ok = parse_double(name, optarg, 0, &pulse_mag); break;
        case ':': FAIL("option '%s' needs a value", argv[optind - 1]);
        case '?':
        default:
            if (optopt && optopt < 256) FAIL("unknown option '-%c' (see neurodyn simulate --help)", optopt);
            FAIL("unknown option '%s' (see neurodyn simulate --help)", argv[optind - 1]);
        }
        if (!ok) return 2;
        if (c >= 0 && c <= OPT_PULSE_MAGNITUDE) set[c] = 1;
    }
    if (optind >= argc) FAIL("missing generator: lorenz or chaotic-rnn (see neurodyn simulate --help)");
    const char *gen = argv[optind];
    if (optind + 1 < argc) FAIL("unexpected argument '%s'", argv[optind + 1]);
    int lorenz = strcmp(gen, "lorenz") == 0;
    int crnn = strcmp(gen, "chaotic-rnn") == 0 || strcmp(gen, "chaotic_rnn") == 0;
    if (!lorenz && !crnn) FAIL("unknown generator '%s' (choose lorenz or chaotic-rnn)", gen);
    if (!out || !*out) FAIL("missing --out FILE");

    static const int lorenz_only[] = {OPT_BIN_MS, OPT_BASE_RATE};
    static const int crnn_only[] = {OPT_GAIN, OPT_TAU, OPT_DT, OPT_MAX_RATE, OPT_INPUT_PULSES, OPT_PULSE_MAGNITUDE};
    const int *bad = lorenz ? crnn_only : lorenz_only;
    int nbad = lorenz ? (int)(sizeof crnn_only / sizeof *crnn_only) : (int)(sizeof lorenz_only / sizeof *lorenz_only);
    for (int i = 0; i < nbad; i++)
        if (set[bad[i]]) {
            const char *name = "?";
            for (const struct option *o = longopts; o->name; o++)
                if (o->val == bad[i]) name = o->name;
            FAIL("option --%s does not apply to %s", name, lorenz ? "lorenz" : "chaotic-rnn");
        }

    nd_synth s;
    nd_error err = {0};
    nd_status st;
    if (lorenz) {
        nd_lorenz_opts o;
        nd_lorenz_opts_default(&o);
        if (set[OPT_CONDITIONS]) o.conditions = conditions;
        if (set[OPT_TPC]) o.trials_per_condition = tpc;
        if (set[OPT_NEURONS]) o.neurons = neurons;
        if (set[OPT_BINS]) o.bins = bins;
        if (set[OPT_SEED]) o.seed = seed;
        if (set[OPT_VALID_FRACTION]) o.valid_fraction = vf;
        if (set[OPT_BIN_MS]) o.bin_ms = bin_ms;
        if (set[OPT_BASE_RATE]) o.base_rate_hz = base_rate;
        st = nd_synth_lorenz(&o, &s, &err);
    } else {
        nd_crnn_opts o;
        nd_crnn_opts_default(&o);
        if (set[OPT_CONDITIONS]) o.conditions = conditions;
        if (set[OPT_TPC]) o.trials_per_condition = tpc;
        if (set[OPT_NEURONS]) o.neurons = neurons;
        if (set[OPT_BINS]) o.bins = bins;
        if (set[OPT_SEED]) o.seed = seed;
        if (set[OPT_VALID_FRACTION]) o.valid_fraction = vf;
        if (set[OPT_GAIN]) o.gain = gain;
        if (set[OPT_TAU]) o.tau_s = tau;
        if (set[OPT_DT]) o.dt_s = dt;
        if (set[OPT_MAX_RATE]) o.max_rate_hz = max_rate;
        if (set[OPT_INPUT_PULSES]) o.input_pulses = 1;
        if (set[OPT_PULSE_MAGNITUDE]) o.pulse_magnitude = pulse_mag;
        st = nd_synth_chaotic_rnn(&o, &s, &err);
    }
    if (st) {
        fprintf(stderr, "neurodyn simulate: %s\n", err.msg);
        return st == ND_ERR_ARG ? 2 : 1;
    }
    st = nd_synth_write(&s, out, &err);
    if (st) {
        fprintf(stderr, "neurodyn simulate: %s\n", err.msg);
        nd_synth_free(&s);
        return 1;
    }
    const nd_lfads_data *d = &s.data;
    printf("neurodyn simulate: %s: %d trials (%d train, %d valid) x %d bins of %g ms x %d neurons, "
           "mean rate %.2f Hz%s -> wrote %s\n",
           lorenz ? "lorenz" : "chaotic-rnn", d->n_train + d->n_valid, d->n_train, d->n_valid, d->T, s.bin_ms, d->N,
           nd_synth_mean_rate_hz(&s), s.U ? ", with input pulses" : "", out);
    nd_synth_free(&s);
    return 0;
}
