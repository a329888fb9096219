/* neurodyn simulate {lorenz|chaotic-rnn} --out FILE [options]: synthetic benchmarks
 * with ground truth, written in LFADS HDF5 format (see src/models/synth.h).
 * neurodyn simulate lorenz --sessions S --out DIR: a multi-session set for stitching,
 * DIR/s1.h5 .. DIR/sS.h5, generated and written one session at a time. */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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
    OPT_SESSIONS,
    OPT_NEURONS_MIN,
    OPT_NEURONS_MAX,
    OPT_CALCIUM,
    OPT_CA_TAU,
    OPT_CA_AMP,
    OPT_CA_NOISE,
    OPT_CA_THRESHOLD,
    OPT_LAST, /* size of set[] */
};

/* defaults of the multi-session neuron range */
#define SESSION_NEURONS_MIN 20
#define SESSION_NEURONS_MAX 40

static void usage(FILE *fp) {
    nd_lorenz_opts l;
    nd_crnn_opts c;
    nd_calcium_opts ca;
    nd_lorenz_opts_default(&l);
    nd_crnn_opts_default(&c);
    nd_calcium_opts_default(&ca);
    fprintf(fp,
            "usage: neurodyn simulate lorenz --out FILE [options]\n"
            "       neurodyn simulate lorenz --sessions S --out DIR [--neurons-min N --neurons-max N] [options]\n"
            "       neurodyn simulate chaotic-rnn --out FILE [--input-pulses] [options]\n"
            "\n"
            "Generate a synthetic spiking dataset with known true rates and latents, written in\n"
            "LFADS HDF5 format (train_data, valid_data, train_truth, ..., train_latents, ...).\n"
            "\n"
            "common options:\n"
            "  -o, --out FILE                 output file (required; written atomically; a directory with --sessions)\n"
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
            "      --sessions S               multi-session set for stitching (1..%d): --out is a directory,\n"
            "                                 created if missing, that gets s1.h5 .. sS.h5. All sessions share\n"
            "                                 the conditions and latent trajectories; each has its own neurons,\n"
            "                                 read-out (also written as 'readout'), split and spikes\n"
            "      --neurons-min N            fewest neurons of a session, with --sessions (%d)\n"
            "      --neurons-max N            most neurons of a session, with --sessions (%d); each session's\n"
            "                                 count is drawn uniformly in [min, max]\n"
            "\n"
            "chaotic-rnn options:\n"
            "      --gain G                   recurrent gain g (%g; 2.5 is more chaotic)\n"
            "      --tau S                    unit time constant in seconds (%g)\n"
            "      --dt S                     time step = bin width in seconds (%g)\n"
            "      --max-rate HZ              rate at the network's maximum activity (%g Hz)\n"
            "      --input-pulses             one input pulse per trial at a random bin in [T/4, 3T/4) (off)\n"
            "      --pulse-magnitude U        pulse size (%g)\n"
            "\n"
            "calcium imaging (lorenz or chaotic-rnn, not with --sessions):\n"
            "      --calcium                  write deconvolved-like calcium traces instead of spike counts:\n"
            "                                 spikes s -> calcium c_t = g c_{t-1} + s_t, g = exp(-bin / tau) ->\n"
            "                                 fluorescence f = amplitude c + N(0, noise^2) -> deconvolved\n"
            "                                 d_t = f_t - g f_{t-1}, set to 0 below the threshold. train_data /\n"
            "                                 valid_data become float traces; the spikes are kept as\n"
            "                                 train_spikes / valid_spikes, the true rates and latents as usual.\n"
            "                                 Train them with --set recon=zig (or gamma, gaussian)\n"
            "      --calcium-tau-ms MS        decay time constant of the calcium kernel (%g ms)\n"
            "      --calcium-amplitude A      fluorescence per spike (%g)\n"
            "      --calcium-noise S          SD of the fluorescence noise (%g)\n"
            "      --calcium-threshold V      deconvolved values below V become 0 (%g; use zig_loc <= V)\n",
            l.conditions, c.conditions, l.trials_per_condition, c.trials_per_condition, l.neurons, c.neurons, l.bins,
            c.bins, (unsigned long long)l.seed, l.valid_fraction, l.bin_ms, l.base_rate_hz, ND_SYNTH_MAX_SESSIONS,
            SESSION_NEURONS_MIN, SESSION_NEURONS_MAX, c.gain, c.tau_s, c.dt_s, c.max_rate_hz, c.pulse_magnitude,
            ca.tau_ms, ca.amplitude, ca.noise, ca.threshold);
}

#define FAIL(...)                                                                                                      \
    do {                                                                                                               \
        fprintf(stderr, "neurodyn simulate: " __VA_ARGS__);                                                            \
        fputc('\n', stderr);                                                                                           \
        return 2;                                                                                                      \
    } while (0)

#define INT_OPT_MAX 1000000000

/* integer in [min, max]; the message names the range (only the lower bound when max is INT_OPT_MAX) */
static int parse_int_range(const char *opt, const char *s, int min, int max, int *out) {
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < min || v > max) {
        if (max == INT_OPT_MAX)
            fprintf(stderr, "neurodyn simulate: --%s: '%s' is not an integer >= %d\n", opt, s, min);
        else
            fprintf(stderr, "neurodyn simulate: --%s: '%s' is not an integer in [%d, %d]\n", opt, s, min, max);
        return 0;
    }
    *out = (int)v;
    return 1;
}

static int parse_int(const char *opt, const char *s, int min, int *out) {
    return parse_int_range(opt, s, min, INT_OPT_MAX, out);
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

static int ensure_dir(const char *dir) {
    struct stat sb;
    if (mkdir(dir, 0755) != 0 && errno != EEXIST)
        FAIL("cannot create directory '%s': %s", dir, strerror(errno));
    if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) FAIL("--out '%s' is not a directory (needed with --sessions)", dir);
    return 0;
}

/* Session by session, so that memory holds one session at a time; each file is written atomically.
 * The directory is made after session 1 is generated, so bad options leave nothing behind. */
static int simulate_sessions(const nd_lorenz_opts *o, int sessions, int neurons_min, int neurons_max, const char *dir) {
    size_t dlen = strlen(dir), cap = dlen + 32;
    while (dlen > 1 && dir[dlen - 1] == '/') dlen--; /* DIR/ -> DIR/s1.h5, not DIR//s1.h5 */
    char *path = malloc(cap);
    if (!path) FAIL("out of memory");
    for (int k = 1; k <= sessions; k++) {
        nd_synth s;
        nd_error err = {0};
        nd_status st = nd_synth_lorenz_session(o, k, sessions, neurons_min, neurons_max, &s, &err);
        if (!st && k == 1 && ensure_dir(dir) != 0) {
            nd_synth_free(&s);
            free(path);
            return 2;
        }
        if (!st) {
            snprintf(path, cap, "%.*s/s%d.h5", (int)dlen, dir, k);
            st = nd_synth_write(&s, path, &err);
        }
        if (st) {
            fprintf(stderr, "neurodyn simulate: %s\n", err.msg);
            nd_synth_free(&s);
            free(path);
            return st == ND_ERR_ARG ? 2 : 1;
        }
        const nd_lfads_data *d = &s.data;
        printf("neurodyn simulate: lorenz session %d/%d: %d neurons, %d trials (%d train, %d valid) x %d bins of %g ms, "
               "mean rate %.2f Hz -> wrote %s\n",
               k, sessions, d->N, d->n_train + d->n_valid, d->n_train, d->n_valid, d->T, s.bin_ms,
               nd_synth_mean_rate_hz(&s), path);
        nd_synth_free(&s);
    }
    free(path);
    return 0;
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
        {"sessions", required_argument, NULL, OPT_SESSIONS},
        {"neurons-min", required_argument, NULL, OPT_NEURONS_MIN},
        {"neurons-max", required_argument, NULL, OPT_NEURONS_MAX},
        {"calcium", no_argument, NULL, OPT_CALCIUM},
        {"calcium-tau-ms", required_argument, NULL, OPT_CA_TAU},
        {"calcium-amplitude", required_argument, NULL, OPT_CA_AMP},
        {"calcium-noise", required_argument, NULL, OPT_CA_NOISE},
        {"calcium-threshold", required_argument, NULL, OPT_CA_THRESHOLD},
        {NULL, 0, NULL, 0},
    };
    /* values given on the command line (set[] marks which) */
    int set[OPT_LAST] = {0};
    const char *out = NULL;
    int conditions = 0, tpc = 0, neurons = 0, bins = 0;
    int sessions = 0, neurons_min = SESSION_NEURONS_MIN, neurons_max = SESSION_NEURONS_MAX;
    uint64_t seed = 0;
    double vf = 0, bin_ms = 0, base_rate = 0, gain = 0, tau = 0, dt = 0, max_rate = 0, pulse_mag = 0;
    nd_calcium_opts ca;
    nd_calcium_opts_default(&ca);

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
        case OPT_SESSIONS: ok = parse_int_range(name, optarg, 1, ND_SYNTH_MAX_SESSIONS, &sessions); break;
        case OPT_NEURONS_MIN: ok = parse_int(name, optarg, 1, &neurons_min); break;
        case OPT_NEURONS_MAX: ok = parse_int(name, optarg, 1, &neurons_max); break;
        case OPT_CALCIUM: break;
        case OPT_CA_TAU: ok = parse_double(name, optarg, 1, &ca.tau_ms); break;
        case OPT_CA_AMP: ok = parse_double(name, optarg, 1, &ca.amplitude); break;
        case OPT_CA_NOISE: ok = parse_double(name, optarg, 0, &ca.noise); break;
        case OPT_CA_THRESHOLD: ok = parse_double(name, optarg, 0, &ca.threshold); break;
        case ':': FAIL("option '%s' needs a value", argv[optind - 1]);
        case '?':
        default:
            if (optopt && optopt < 256) FAIL("unknown option '-%c' (see neurodyn simulate --help)", optopt);
            FAIL("unknown option '%s' (see neurodyn simulate --help)", argv[optind - 1]);
        }
        if (!ok) return 2;
        if (c >= 0 && c < OPT_LAST) set[c] = 1;
    }
    if (optind >= argc) FAIL("missing generator: lorenz or chaotic-rnn (see neurodyn simulate --help)");
    const char *gen = argv[optind];
    if (optind + 1 < argc) FAIL("unexpected argument '%s'", argv[optind + 1]);
    int lorenz = strcmp(gen, "lorenz") == 0;
    int crnn = strcmp(gen, "chaotic-rnn") == 0 || strcmp(gen, "chaotic_rnn") == 0;
    if (!lorenz && !crnn) FAIL("unknown generator '%s' (choose lorenz or chaotic-rnn)", gen);
    if (!out || !*out) FAIL("missing --out FILE");

    static const int lorenz_only[] = {OPT_BIN_MS, OPT_BASE_RATE, OPT_SESSIONS, OPT_NEURONS_MIN, OPT_NEURONS_MAX};
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
    if (set[OPT_SESSIONS] && set[OPT_NEURONS])
        FAIL("--neurons does not apply with --sessions (each session draws its count from --neurons-min/--neurons-max)");
    if (!set[OPT_SESSIONS] && (set[OPT_NEURONS_MIN] || set[OPT_NEURONS_MAX]))
        FAIL("--%s needs --sessions", set[OPT_NEURONS_MIN] ? "neurons-min" : "neurons-max");
    if (set[OPT_CALCIUM] && set[OPT_SESSIONS]) FAIL("--calcium does not apply with --sessions");
    for (int k = OPT_CA_TAU; k <= OPT_CA_THRESHOLD; k++)
        if (set[k] && !set[OPT_CALCIUM]) {
            const char *name = "?";
            for (const struct option *o = longopts; o->name; o++)
                if (o->val == k) name = o->name;
            FAIL("--%s needs --calcium", name);
        }
    if (neurons_min > neurons_max)
        FAIL("--neurons-min (%d) must not exceed --neurons-max (%d)", neurons_min, neurons_max);

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
        if (set[OPT_SESSIONS]) return simulate_sessions(&o, sessions, neurons_min, neurons_max, out);
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
    if (!st && set[OPT_CALCIUM]) {
        st = nd_synth_calcium(&s, &ca, seed, &err);
        if (st) nd_synth_free(&s);
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
           "mean rate %.2f Hz%s%s -> wrote %s\n",
           lorenz ? "lorenz" : "chaotic-rnn", d->n_train + d->n_valid, d->n_train, d->n_valid, d->T, s.bin_ms, d->N,
           nd_synth_mean_rate_hz(&s), s.U ? ", with input pulses" : "",
           s.calcium ? ", as calcium traces" : "", out);
    nd_synth_free(&s);
    return 0;
}
