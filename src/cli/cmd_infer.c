/* neurodyn infer RUN --data DATA.h5 -o OUT.h5: parse, nd_lfads_infer_run (src/models/infer_run.c), print. */
#include "cli.h"
#include "opt.h"
#include "../models/infer_run.h"
#include <stdio.h>

static const char ABOUT[] =
    "Runs a trained model (RUN_DIR/best.ckpt, else last.ckpt) on the train and valid trials of DATA.h5\n"
    "and writes, per split (train_, valid_), under the lfads-torch names:\n"
    "  *_output_params [trials x bins x neurons] firing rates in counts per bin\n"
    "                  (recon=gaussian|gamma|zig models: the distribution's mean in data units, and\n"
    "  *_recon_params  [trials x bins x neurons x P] the read-out's raw values; see docs/model.md)\n"
    "  *_factors, *_gen_states, *_gen_inputs, *_con_states, *_co_means, *_co_stds [trials x bins x dim]\n"
    "  *_gen_init, *_ic_mean, *_ic_std [trials x dim]; train_inds / valid_inds when known.\n"
    "Dropout is off. The valid split is the one the model was trained with when the same seed is used.\n"
    "The checkpoint's data fingerprint is checked against DATA.h5 (refused when they differ); OUT.h5\n"
    "gets DATA.h5's fingerprint as its root attribute data_fingerprint, which eval checks.\n";

int cmd_infer(int argc, char **argv) {
    const char *data = NULL, *out = NULL;
    long samples = 0, threads = 0, batch = 0, session = 0, seed = 0;
    int pmean = 0, quiet = 0, allow = 0;
    const cli_opt opts[] = {
        {"data", 'd', CLI_STR, NULL, "data file (required)", &data, 0, 0, NULL, "FILE"},
        {"out", 'o', CLI_STR, NULL, "output HDF5 (required; written atomically)", &out, 0, 0, NULL, "FILE"},
        {"samples", 0, CLI_INT, "50", "posterior samples to average", &samples, 1, 100000, NULL, NULL},
        {"posterior-mean", 0, CLI_FLAG, NULL, "one deterministic pass with posterior means instead of sampling", &pmean,
         0, 0, NULL, NULL},
        {"seed", 0, CLI_INT, "0", "seed of the posterior samples. When DATA.h5 has no valid_data, the train/valid\n"
         "                             split is the model's (its training seed and valid_fraction)", &seed, 0, 9.2e18,
         NULL, NULL},
        {"threads", 't', CLI_THREADS, NULL, "threads", &threads, 0, 0, NULL, NULL},
        {"batch-size", 0, CLI_INT, NULL, "trials per batch (default: the model's)", &batch, 1, 1e9, NULL, NULL},
        {"session", 0, CLI_INT, NULL, "stitched models (train S1.h5 S2.h5 ...): DATA.h5 is session K (1-based);\n"
         "                             by default the session whose training file has DATA.h5's name", &session, 1,
         100000, NULL, "K"},
        {"allow-data-mismatch", 0, CLI_FLAG, NULL, "run on data that are not the training data (the checkpoint's data\n"
         "                             fingerprint: trials, split indices, encoder-data hash), e.g. new trials of the\n"
         "                             same session; bins, neurons and neuron ids must still match", &allow, 0, 0, NULL,
         NULL},
        {"quiet", 'q', CLI_FLAG, NULL, "no progress output", &quiet, 0, 0, NULL, NULL},
        {0}};
    const cli_spec spec = {"infer", "RUN_DIR|CKPT --data DATA.h5 -o OUT.h5 [options]", ABOUT,
                           "run/ --data lorenz.h5 -o lorenz_out.h5\n"
                           "run/ --data lorenz.h5 -o lorenz_pm.h5 --posterior-mean --threads 1",
                           opts, 1, 1, "RUN_DIR, --data FILE and --out FILE", NULL};
    char *pos[argc > 0 ? argc : 1];
    int npos, rc = cli_parse(&spec, argc, argv, pos, &npos);
    if (rc) return rc < 0 ? 0 : rc;
    if (!data || !out) {
        fprintf(stderr, "neurodyn infer: expected RUN_DIR, --data FILE and --out FILE (see --help)\n");
        return 2;
    }
    nd_infer_opts o = {pmean ? 0 : (int)samples, (int)threads, (int)batch, (uint64_t)seed, quiet ? NULL : stdout,
                       (int)session};
    nd_error err;
    if (nd_lfads_infer_run(pos[0], data, out, &o, allow, stderr, &err)) {
        fprintf(stderr, "neurodyn infer: %s\n", err.msg);
        return 1;
    }
    if (!quiet) printf("wrote %s\n", out);
    return 0;
}
