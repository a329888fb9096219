#define _GNU_SOURCE
#include "cli.h"
#include "../models/lfads_infer.h"
#include "../models/lfads_train.h"
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void infer_usage(FILE *f) {
    fprintf(f,
            "usage: neurodyn infer RUN_DIR|CKPT --data DATA.h5 --out OUT.h5 [options]\n\n"
            "Runs a trained model (RUN_DIR/best.ckpt, else last.ckpt) on the train and valid trials of DATA.h5\n"
            "and writes, per split (train_, valid_), under the lfads-torch names:\n"
            "  *_output_params [trials x bins x neurons] firing rates in counts per bin\n"
            "                  (recon=gaussian|gamma|zig models: the distribution's mean in data units, and\n"
            "  *_recon_params  [trials x bins x neurons x P] the read-out's raw values; see docs/model.md)\n"
            "  *_factors, *_gen_states, *_gen_inputs, *_con_states, *_co_means, *_co_stds [trials x bins x dim]\n"
            "  *_gen_init, *_ic_mean, *_ic_std [trials x dim]; train_inds / valid_inds when known.\n"
            "Dropout is off. The valid split is the one the model was trained with when the same seed is used.\n\n"
            "options:\n"
            "  --data FILE          data file (required)\n"
            "  --out FILE           output HDF5 (required; written atomically)\n"
            "  --samples N          posterior samples to average (default 50)\n"
            "  --posterior-mean     one deterministic pass with posterior means instead of sampling\n"
            "  --seed N             seed of the posterior samples (default 0). When DATA.h5 has no valid_data,\n"
            "                       the train/valid split is the model's (its training seed and valid_fraction)\n"
            "  --threads N          threads (default 2)\n"
            "  --batch-size N       trials per batch (default: the model's)\n"
            "  --session K          stitched models (train S1.h5 S2.h5 ...): DATA.h5 is session K (1-based);\n"
            "                       by default the session whose training file has DATA.h5's name\n"
            "  --allow-data-mismatch  run on data that are not the training data (the checkpoint's data\n"
            "                       fingerprint: trials, split indices, encoder-data hash), e.g. new trials of\n"
            "                       the same session; bins, neurons and neuron ids must still match\n"
            "  --quiet              no progress output\n"
            "The checkpoint's data fingerprint is checked against DATA.h5 (refused when they differ); OUT.h5\n"
            "gets DATA.h5's fingerprint as its root attribute data_fingerprint, which eval checks.\n");
}

int cmd_infer(int argc, char **argv) {
    static const struct option opts[] = {
        {"data", required_argument, 0, 'd'},    {"out", required_argument, 0, 'o'},
        {"samples", required_argument, 0, 'n'}, {"posterior-mean", no_argument, 0, 'p'},
        {"seed", required_argument, 0, 's'},    {"threads", required_argument, 0, 't'},
        {"batch-size", required_argument, 0, 'b'}, {"quiet", no_argument, 0, 'q'},
        {"session", required_argument, 0, 'k'}, {"allow-data-mismatch", no_argument, 0, 'A'},
        {"help", no_argument, 0, 'h'},          {0, 0, 0, 0}};
    const char *data = NULL, *out = NULL;
    long samples = 50, threads = 2, batch = 0, session = 0;
    long long seed = -1;
    int pmean = 0, quiet = 0, allow = 0, c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        char *end = NULL;
        switch (c) {
        case 'd': data = optarg; break;
        case 'o': out = optarg; break;
        case 'n': samples = strtol(optarg, &end, 10); if (*end || samples < 1 || samples > 100000) goto bad; break;
        case 'p': pmean = 1; break;
        case 's': seed = strtoll(optarg, &end, 10); if (*end || seed < 0) goto bad; break;
        case 't': threads = strtol(optarg, &end, 10); if (*end || threads < 1 || threads > 1024) goto bad; break;
        case 'b': batch = strtol(optarg, &end, 10); if (*end || batch < 1) goto bad; break;
        case 'q': quiet = 1; break;
        case 'A': allow = 1; break;
        case 'k': session = strtol(optarg, &end, 10); if (*end || session < 1 || session > 100000) goto bad; break;
        case 'h': infer_usage(stdout); return 0;
        default: cli_bad_option("infer", argv); return 2;
        }
        continue;
    bad:
        fprintf(stderr, "neurodyn infer: bad value '%s' for an option (see --help)\n", optarg);
        return 2;
    }
    if (optind != argc - 1 || !data || !out) {
        fprintf(stderr, "neurodyn infer: expected RUN_DIR, --data FILE and --out FILE (see --help)\n");
        return 2;
    }
    nd_error err;
    char ckpt[4096];
    if (nd_lfads_resolve_ckpt(argv[optind], ckpt, sizeof ckpt, &err)) {
        fprintf(stderr, "neurodyn infer: %s\n", err.msg);
        return 1;
    }
    /* split seed and valid fraction: those the model was trained with */
    nd_lfads_model m;
    int dims[3];
    if (nd_lfads_load(ckpt, &m, dims, &err)) {
        fprintf(stderr, "neurodyn infer: %s\n", err.msg);
        return 1;
    }
    uint64_t split_seed = (uint64_t)m.cfg.seed;
    double vf = m.cfg.valid_fraction;
    int S = m.S, ses = 0;
    int values = cli_data_values(m.cfg.recon);
    nd_lfads_free(&m);
    nd_lfads_data d;
    if (nd_lfads_data_read_values(data, split_seed, vf, values, &d, &err)) {
        fprintf(stderr, "neurodyn infer: %s\n", err.msg);
        return 1;
    }
    if ((S > 1 && nd_lfads_ckpt_find_session(ckpt, data, (int)session, S, &ses, &err)) ||
        nd_lfads_check_data(ckpt, ses, S, &d, allow, stderr, &err)) {
        fprintf(stderr, "neurodyn infer: %s\n", err.msg);
        nd_lfads_data_free(&d);
        return 1;
    }
    nd_infer_opts o = {pmean ? 0 : (int)samples, (int)threads, (int)batch, seed < 0 ? 0 : (uint64_t)seed,
                       quiet ? NULL : stdout, (int)session};
    nd_status st = nd_lfads_infer_file(ckpt, &d, out, &o, &err);
    nd_lfads_data_free(&d);
    if (st) {
        fprintf(stderr, "neurodyn infer: %s\n", err.msg);
        return 1;
    }
    if (!quiet) printf("wrote %s\n", out);
    return 0;
}
