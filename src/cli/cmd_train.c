/* neurodyn train: parse, call nd_lfads_train_sessions, print. Ctrl-C stops after the epoch's checkpoint. */
#define _GNU_SOURCE
#include "cli.h"
#include "opt.h"
#include "../models/lfads_train.h"
#include "../models/lfads_yaml.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char ABOUT[] =
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
    "eval refuse other data. A RUN_DIR that already holds a run is refused unless --resume or --force.\n"
    "Ctrl-C (or SIGTERM) stops at the end of the current epoch, after its checkpoint, and prints the\n"
    "--resume command that continues exactly there; a second Ctrl-C aborts at once (the previous epoch's\n"
    "checkpoint still resumes).\n";

static void keys_help(FILE *f) {
    fprintf(f, "\nhyperparameters (--set KEY=VALUE; default in brackets):\n");
    int n;
    const nd_cfg_key *k = nd_lfads_config_keys(&n);
    for (int i = 0; i < n; i++) fprintf(f, "  %-18s [%s] %s\n", k[i].name, k[i].def, k[i].help);
}

/* the command line that continues this run: the same arguments, --resume instead of --force */
static void print_resume(int argc, char **argv) {
    fprintf(stderr, "interrupted: %s", "continue with: neurodyn train");
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--force") || !strcmp(argv[i], "--resume")) continue;
        fprintf(stderr, strpbrk(argv[i], " \t'\"$") ? " '%s'" : " %s", argv[i]);
    }
    fprintf(stderr, " --resume\n");
}

int cmd_train(int argc, char **argv) {
    const char *out = NULL, *config = NULL, *seed = NULL;
    long threads = 0, max_epochs = -1;
    int resume = 0, quiet = 0, force = 0;
    cli_list sets = {NULL, 0};
    const cli_opt opts[] = {
        {"out", 'o', CLI_STR, NULL, "run directory (required)", &out, 0, 0, NULL, "DIR"},
        {"seed", 0, CLI_STR, NULL, "random seed (default 0; same as --set seed=N)", &seed, 0, 0, NULL, "N"},
        {"threads", 't', CLI_THREADS, NULL, "threads", &threads, 0, 0, NULL, NULL},
        {"max-epochs", 0, CLI_INT, NULL, "stop after N epochs in total (also extends a resumed run)", &max_epochs, 0,
         2147483647, NULL, NULL},
        {"set", 0, CLI_LIST, NULL, "set a hyperparameter (repeatable); names as in lfads-torch", &sets, 0, 0, NULL,
         "KEY=VALUE"},
        {"config", 'c', CLI_STR, NULL, "read 'key = value' lines (e.g. a saved config.txt); --set wins.\n"
         "                             FILE.yaml / .yml: an lfads-torch model config (its model: section); scales\n"
         "                             stay in lfads-torch's units (recon_reduce_mean, loss_scale; docs/model.md)\n"
         "                             and the keys it cannot use are listed", &config, 0, 0, NULL, "FILE"},
        {"resume", 0, CLI_FLAG, NULL, "continue RUN_DIR/last.ckpt exactly where it stopped (same data required)",
         &resume, 0, 0, NULL, NULL},
        {"force", 0, CLI_FLAG, NULL, "RUN_DIR holds a run: delete its files (the checkpoints, config.txt,\n"
         "                             train_log.tsv, train_time.txt; nothing else) and start a new one", &force, 0, 0,
         NULL, NULL},
        {"quiet", 'q', CLI_FLAG, NULL, "no per-epoch progress lines", &quiet, 0, 0, NULL, NULL},
        {0}};
    const cli_spec spec = {"train", "DATA.h5 --out RUN_DIR [options]\n"
                           "       neurodyn train S1.h5 S2.h5 ... --out RUN_DIR [options]   (one model stitched across sessions)",
                           ABOUT, "lorenz.h5 --out run/ --max-epochs 200 --set gen_dim=64\n"
                           "lorenz.h5 --out run/ --max-epochs 400 --resume",
                           opts, 1, -1, "DATA.h5 (or several session files) and --out RUN_DIR", keys_help};
    char *pos[argc > 0 ? argc : 1];
    int S, rc = cli_parse(&spec, argc, argv, pos, &S);
    if (rc) { cli_list_free(&sets); return rc < 0 ? 0 : rc; }
    rc = 2;
    nd_error err;
    if (!out) {
        fprintf(stderr, "neurodyn train: expected DATA.h5 (or several session files) and --out RUN_DIR (see --help)\n");
        goto done;
    }
    if (resume && force) {
        fprintf(stderr, "neurodyn train: --resume continues the run in RUN_DIR, --force deletes it: give one\n");
        goto done;
    }
    if (S > ND_LFADS_MAX_SESSIONS) {
        fprintf(stderr, "neurodyn train: %d data files; a stitched model takes at most %d sessions\n", S,
                ND_LFADS_MAX_SESSIONS);
        goto done;
    }
    nd_lfads_config cfg;
    nd_lfads_config_default(&cfg);
    if (config && nd_lfads_config_is_yaml(config)) {
        char *notes = NULL;
        if (nd_lfads_config_load_torch_yaml(&cfg, config, &notes, &err) != ND_OK) goto usage_err;
        if (notes) fprintf(stderr, "neurodyn train: %s: keys not carried over:\n%s", config, notes);
        free(notes);
    } else if (config && nd_lfads_config_load(&cfg, config, &err) != ND_OK) goto usage_err;
    if (seed && nd_lfads_config_set(&cfg, "seed", seed, &err) != ND_OK) goto usage_err;
    for (int i = 0; i < sets.n; i++)
        if (nd_lfads_config_set_kv(&cfg, sets.v[i], &err) != ND_OK) goto usage_err;
    if (nd_lfads_config_check(&cfg, &err) != ND_OK) goto usage_err;
    rc = 1;
    nd_lfads_data *d = calloc((size_t)S, sizeof *d);
    if (!d) goto done;
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
        st = nd_lfads_data_read_values(pos[k], (uint64_t)cfg.seed, cfg.valid_fraction, values, &d[k], &err);
    nd_train_result res;
    memset(&res, 0, sizeof res);
    if (!st) {
        nd_train_opts o = {out, (int)threads, resume, (int)max_epochs, quiet ? NULL : stdout, 0, force,
                           cli_catch_interrupt(), NULL, NULL};
        st = nd_lfads_train_sessions(d, S, &cfg, &o, &res, &err);
    }
    for (int k = 0; k < S; k++) nd_lfads_data_free(&d[k]);
    free(d);
    if (st) fprintf(stderr, "neurodyn train: %s\n", err.msg);
    else if (res.interrupted) {
        fprintf(stderr, "neurodyn train: stopped after epoch %d; %s/last.ckpt holds it\n", res.epochs_run, out);
        print_resume(argc, argv);
        rc = 130;
    } else rc = 0;
    goto done;
usage_err:
    fprintf(stderr, "neurodyn train: %s\n", err.msg);
done:
    cli_list_free(&sets);
    return rc;
}
