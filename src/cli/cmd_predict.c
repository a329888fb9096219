/* neurodyn predict MODEL.h5:DATASET NEURONS.h5:DATASET: parse, nd_predict_files (src/analysis/predict_file.c),
 * print the result or its JSON. */
#include "cli.h"
#include "opt.h"
#include "../analysis/predict_file.h"
#include <stdio.h>

static const char ABOUT[] =
            "Neural predictivity (brain-score style): a linear map from model units (MODEL) to recorded\n"
            "neurons (NEURONS), fit on K-1 folds and scored on the held-out fold. Reports the Pearson r of\n"
            "every neuron between its responses and its pooled held-out predictions (each sample is\n"
            "predicted once), the median over neurons, and the mean over folds of the per-fold median.\n"
            "Datasets: 2-D samples x units or 3-D trials x time x units (flattened to (trials*time) x units);\n"
            "both must hold the same samples.\\n";

int cmd_predict(int argc, char **argv) {
    nd_predict_file_opts o;
    nd_predict_file_opts_default(&o);
    long pls = 0, folds = 0, seed = -1;
    int no_scale = 0;
    cli_optreal ridge = {0, 1};
    cli_json json = {0, NULL};
    const cli_opt opts[] = {
        {"pls", 0, CLI_INT, NULL, "PLS regression with N components, columns standardised (sklearn PLSRegression,\n"
         "                             scale=True); the default, N = 25 (capped at the unit count)", &pls, 1, 100000,
         NULL, "N"},
        {"ridge", 0, CLI_OPTREAL, NULL, "ridge regression with intercept instead (default ALPHA 1; 0 = least squares)",
         &ridge, 0, 1e300, NULL, "ALPHA"},
        {"no-scale", 0, CLI_FLAG, NULL, "PLS without standardising the columns", &no_scale, 0, 0, NULL, NULL},
        {"folds", 0, CLI_INT, "5", "number of folds; contiguous blocks of samples, as sklearn KFold without\n"
         "                             shuffling, so whole trials stay together", &folds, 2, 1000000, NULL, "K"},
        {"seed", 0, CLI_INT, NULL, "shuffle the samples into folds with this seed instead", &seed, 0, 9.2e18, NULL, "S"},
        {"ceiling", 0, CLI_STR, NULL, "a second repeat of the neurons' responses (same shape as NEURONS): adds the\n"
         "                             split-half noise ceiling, per neuron Spearman-Brown 2r/(1+r) of the repeats,\n"
         "                             its median, and median r / ceiling", &o.ceiling, 0, 0, NULL, "F:PATH"},
        {"condition-average", 0, CLI_FLAG, NULL, "average the trials of each condition first (needs --conditions)",
         &o.average, 0, 0, NULL, NULL},
        {"conditions", 0, CLI_STR, NULL, "1-D integer condition id per trial, for all inputs", &o.conditions, 0, 0, NULL,
         "FILE:PATH"},
        {"json", 0, CLI_JSON, NULL, "the result as JSON (per-neuron values included): to stdout instead of the text,\n"
         "                             or to FILE (atomically)", &json, 0, 0, NULL, NULL},
        {0}};
    const cli_spec spec = {"predict", "MODEL.h5:DATASET NEURONS.h5:DATASET [--pls N | --ridge [ALPHA]] [--folds K]\n"
                           "                        [--seed S] [--ceiling REPEAT.h5:DATASET] [--condition-average\n"
                           "                        --conditions F:PATH] [--json[=FILE]]", ABOUT,
                           "out.h5:valid_factors lorenz.h5:valid_truth --pls 10\n"
                           "out.h5:valid_factors lorenz.h5:valid_truth --ridge 0.1 --folds 5 --json", opts, 2, 2,
                           "MODEL.h5:DATASET and NEURONS.h5:DATASET", NULL};
    char *pos[argc > 0 ? argc : 1];
    int npos, rc = cli_parse(&spec, argc, argv, pos, &npos);
    if (rc) return rc < 0 ? 0 : rc;
    if (pls && ridge.on) { fprintf(stderr, "neurodyn predict: choose one of --pls and --ridge\n"); return 2; }
    if (pls) o.map.ncomp = (int)pls;
    if (ridge.on) { o.map.kind = ND_MAP_RIDGE; o.map.alpha = ridge.v; }
    if (no_scale) o.map.scale = 0;
    o.map.folds = (int)folds;
    if (seed >= 0) { o.map.seed = (uint64_t)seed; o.map.shuffle = 1; }
    nd_compare_file_result r;
    nd_error err;
    nd_status st = nd_predict_files(pos[0], pos[1], &o, &r, &err);
    if (st) {
        fprintf(stderr, "neurodyn predict: %s\n", err.msg);
        return st == ND_ERR_ARG ? 2 : 1;
    }
    if (!json.on || json.path) fputs(r.text, stdout);
    rc = json.on && cli_write_json("predict", r.json, json.path) ? 1 : 0;
    nd_compare_file_result_free(&r);
    return rc;
}
