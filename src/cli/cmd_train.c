#define _GNU_SOURCE
#include "cli.h"
#include "../models/lfads_train.h"
#include "../models/lfads_yaml.h"
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void train_usage(FILE *f) {
    fprintf(f,
            "usage: neurodyn train DATA.h5 --out RUN_DIR [options]\n"
            "       neurodyn train S1.h5 S2.h5 ... --out RUN_DIR [options]   (one model stitched across sessions)\n\n"
            "Trains LFADS on an LFADS-format HDF5 file (train_data / valid_data [trials x bins x neurons],\n"
            "optional *_ext_input). Without valid_data, a seeded split holds out valid_fraction of the trials.\n"
            "With several files (recording sessions of the same task: same bins, any neurons), one model is\n"
            "stitched across them: shared encoders, generator and factors; a read-in (width readin_dim, default\n"
            "fac_dim) and a read-out per session. The read-ins start from principal-component regression on\n"
            "the sessions' condition-averaged PSTHs when the files share condition ids ({split}_condition).\n"
            "Run infer once per session (infer finds the session by the file name; --session K otherwise).\n"
            "RUN_DIR receives config.txt (the effective configuration), last.ckpt (every epoch, atomic),\n"
            "best.ckpt (best smoothed validation reconstruction once the KL/L2 ramps are done; the last epoch\n"
            "when they never finish), train_log.tsv and train_time.txt. The checkpoints hold a fingerprint of\n"
            "the data (shapes, neuron ids, split indices, a hash of the encoder data, the file name): infer and\n"
            "eval refuse other data. A RUN_DIR that already holds a run is refused unless --resume or --force.\n\n"
            "options:\n"
            "  --out DIR            run directory (required)\n"
            "  --seed N             random seed (default 0; same as --set seed=N)\n"
            "  --threads N          threads (default 2)\n"
            "  --max-epochs N       stop after N epochs in total (also extends a resumed run)\n"
            "  --set KEY=VALUE      set a hyperparameter (repeatable); names as in lfads-torch\n"
            "  --config FILE        read 'key = value' lines (e.g. a saved config.txt); --set wins.\n"
            "                       FILE.yaml / .yml: an lfads-torch model config (its model: section); scales\n"
            "                       stay in lfads-torch's units (recon_reduce_mean, loss_scale; docs/model.md)\n"
            "                       and the keys it cannot use are listed\n"
            "  --resume             continue RUN_DIR/last.ckpt exactly where it stopped (same data required)\n"
            "  --force              RUN_DIR holds a run: delete its files (the checkpoints, config.txt,\n"
            "                       train_log.tsv, train_time.txt; nothing else) and start a new one\n"
            "  --quiet              no per-epoch progress lines\n\n"
            "hyperparameters (--set KEY=VALUE; default in brackets):\n");
    int n;
    const nd_cfg_key *k = nd_lfads_config_keys(&n);
    for (int i = 0; i < n; i++) fprintf(f, "  %-18s [%s] %s\n", k[i].name, k[i].def, k[i].help);
}

int cmd_train(int argc, char **argv) {
    static const struct option opts[] = {
        {"out", required_argument, 0, 'o'},     {"seed", required_argument, 0, 's'},
        {"threads", required_argument, 0, 't'}, {"max-epochs", required_argument, 0, 'm'},
        {"set", required_argument, 0, 'S'},     {"config", required_argument, 0, 'c'},
        {"resume", no_argument, 0, 'r'},        {"quiet", no_argument, 0, 'q'},
        {"force", no_argument, 0, 'f'},
        {"help", no_argument, 0, 'h'},          {0, 0, 0, 0}};
    const char *out = NULL, *config = NULL, *seed = NULL;
    char **sets = calloc((size_t)argc + 1, sizeof *sets);
    int nsets = 0, threads = 2, max_epochs = -1, resume = 0, quiet = 0, force = 0, c;
    if (!sets) return 1;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        char *end;
        switch (c) {
        case 'o': out = optarg; break;
        case 's': seed = optarg; break;
        case 't':
            threads = (int)strtol(optarg, &end, 10);
            if (*end || threads < 1 || threads > 1024) {
                fprintf(stderr, "neurodyn train: --threads '%s' must be an integer in 1..1024\n", optarg);
                free(sets);
                return 2;
            }
            break;
        case 'm':
            max_epochs = (int)strtol(optarg, &end, 10);
            if (*end || max_epochs < 0) {
                fprintf(stderr, "neurodyn train: --max-epochs '%s' must be a non-negative integer\n", optarg);
                free(sets);
                return 2;
            }
            break;
        case 'S': sets[nsets++] = optarg; break;
        case 'c': config = optarg; break;
        case 'r': resume = 1; break;
        case 'f': force = 1; break;
        case 'q': quiet = 1; break;
        case 'h': train_usage(stdout); free(sets); return 0;
        default: cli_bad_option("train", argv); free(sets); return 2;
        }
    }
    int S = argc - optind;
    if (S < 1 || !out) {
        fprintf(stderr, "neurodyn train: expected DATA.h5 (or several session files) and --out RUN_DIR (see --help)\n");
        free(sets);
        return 2;
    }
    if (resume && force) {
        fprintf(stderr, "neurodyn train: --resume continues the run in RUN_DIR, --force deletes it: give one\n");
        free(sets);
        return 2;
    }
    if (S > ND_LFADS_MAX_SESSIONS) {
        fprintf(stderr, "neurodyn train: %d data files; a stitched model takes at most %d sessions\n", S,
                ND_LFADS_MAX_SESSIONS);
        free(sets);
        return 2;
    }
    nd_lfads_config cfg;
    nd_lfads_config_default(&cfg);
    nd_error err;
    int rc = 2;
    if (config && nd_lfads_config_is_yaml(config)) {
        char *notes = NULL;
        if (nd_lfads_config_load_torch_yaml(&cfg, config, &notes, &err) != ND_OK) goto usage_err;
        if (notes) fprintf(stderr, "neurodyn train: %s: keys not carried over:\n%s", config, notes);
        free(notes);
    } else if (config && nd_lfads_config_load(&cfg, config, &err) != ND_OK) goto usage_err;
    if (seed && nd_lfads_config_set(&cfg, "seed", seed, &err) != ND_OK) goto usage_err;
    for (int i = 0; i < nsets; i++)
        if (nd_lfads_config_set_kv(&cfg, sets[i], &err) != ND_OK) goto usage_err;
    if (nd_lfads_config_check(&cfg, &err) != ND_OK) goto usage_err;
    free(sets);
    nd_lfads_data *d = calloc((size_t)S, sizeof *d);
    if (!d) return 1;
    nd_status st = ND_OK;
    /* non-count data for recon=gaussian|gamma|zig (a resumed run's model is that of its config.txt) */
    int values = cli_data_values(cfg.recon);
    if (resume && cfg.recon == ND_RECON_POISSON) {
        nd_lfads_config prev;
        nd_error e2;
        char cp[4096];
        nd_lfads_config_default(&prev);
        snprintf(cp, sizeof cp, "%s/config.txt", out);
        if (nd_lfads_config_load(&prev, cp, &e2) == ND_OK) values = cli_data_values(prev.recon);
    }
    for (int k = 0; k < S && !st; k++)
        st = nd_lfads_data_read_values(argv[optind + k], (uint64_t)cfg.seed, cfg.valid_fraction, values, &d[k], &err);
    if (!st) {
        nd_train_opts o = {out, threads, resume, max_epochs, quiet ? NULL : stdout, 0, force, NULL, NULL};
        nd_train_result res;
        st = nd_lfads_train_sessions(d, S, &cfg, &o, &res, &err);
    }
    for (int k = 0; k < S; k++) nd_lfads_data_free(&d[k]);
    free(d);
    if (st) {
        fprintf(stderr, "neurodyn train: %s\n", err.msg);
        return 1;
    }
    return 0;
usage_err:
    fprintf(stderr, "neurodyn train: %s\n", err.msg);
    free(sets);
    return rc;
}
