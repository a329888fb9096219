/* neurodyn decode: decode a per-trial variable (behaviour, stimulus) from a model's single-trial outputs with
 * cross-validated ridge regression / classification. Parses, runs nd_decode_file (src/analysis/decode_file.c),
 * prints the result or its JSON. */
#include "cli.h"
#include "opt.h"
#include "../analysis/decode_file.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char ABOUT[] =
    "Decodes one value per trial (a behaviour such as a tap time, or a stimulus identity) from the\n"
    "single-trial outputs of a model: {split}_DATASET of OUT.h5 (from 'neurodyn infer' or\n"
    "'neurodyn baseline'; rates by default), flattened to one feature vector per trial. A ridge\n"
    "regression (or, for labels, a ridge classifier: +1/-1 targets per class, argmax) is fitted on\n"
    "the train trials with its penalty chosen by K-fold cross-validation (contiguous folds), then\n"
    "scored on the test-split trials: R^2 for a regression, accuracy for a classification, beside\n"
    "the chance level (the most frequent training label; 0 for R^2). Conventions are sklearn's\n"
    "GridSearchCV(Ridge() | RidgeClassifier(), cv=KFold(K, shuffle)).\n\n"
    "TARGET:\n"
    "  condition         {split}_condition of DATA.h5 (or of OUT.h5); a classification\n"
    "  NAME              {split}_NAME of DATA.h5 (or of OUT.h5): one value (or row) per trial\n"
    "  FILE:DATASET      one value per trial of the ORIGINAL recording (e.g. the file 'neurodyn\n"
    "                    convert' read), picked with OUT.h5's {split}_inds (original trial indices)\n";

static int parse_alphas(const char *s, double *lo, double *hi, int *n) {
    char *end;
    *lo = strtod(s, &end);
    if (*end != ':') return -1;
    *hi = strtod(end + 1, &end);
    if (*end != ':') return -1;
    long v = strtol(end + 1, &end, 10);
    if (*end || v < 1 || v > 1000) return -1;
    *n = (int)v;
    return nd_decode_alpha_grid(*lo, *hi, *n, NULL);
}

int cmd_decode(int argc, char **argv) {
    const char *alpha_s = NULL;
    int contiguous = 0, classify = 0, regress = 0;
    long chunks = 0, folds = 0, seed = 0;
    cli_json json = {0, NULL};
    nd_decode_file_opts o;
    nd_decode_file_opts_default(&o);
    const cli_opt opts[] = {
        {"target", 0, CLI_STR, NULL, "what to decode: condition, NAME or FILE:DATASET (see above; required)", &o.target,
         0, 0, NULL, "TARGET"},
        {"data", 'd', CLI_STR, NULL, "data file for 'condition' / NAME targets", &o.data, 0, 0, NULL, "FILE"},
        {"dataset", 0, CLI_STR, "output_params", "features: {split}_NAME of OUT.h5 (rates; e.g. factors, ic_mean;\n"
         "                             with OUT.h5 = a data file, recon_data / encod_data decode from the counts)",
         &o.dataset, 0, 0, NULL, "NAME"},
        {"classify", 0, CLI_FLAG, NULL, "treat the target as class labels (default for 'condition')", &classify, 0, 0,
         NULL, NULL},
        {"regress", 0, CLI_FLAG, NULL, "treat the target as a continuous value (default otherwise)", &regress, 0, 0,
         NULL, NULL},
        {"split|test-split", 0, CLI_CHOICE, NULL, "trials to score. Default test when OUT.h5 has test_DATASET and the\n"
         "                             target exists for the test trials, else valid (which chose best.ckpt); the\n"
         "                             split used is printed", &o.split, 0, 0, "valid|test", NULL},
        {"time-bins", 0, CLI_INT, NULL, "average the bins of each trial into K equal chunks first (default: keep\n"
         "                             every bin)", &chunks, 1, 100000, NULL, "K"},
        {"alphas", 0, CLI_STR, NULL, "penalties 10^LO .. 10^HI, N values log-spaced (default -2:6:17)", &alpha_s, 0, 0,
         NULL, "LO:HI:N"},
        {"folds", 0, CLI_INT, "5", "cross-validation folds on the train trials, drawn at random with --seed: trials\n"
         "                             are often stored sorted, and contiguous folds would then extrapolate", &folds, 2,
         1000, NULL, "K"},
        {"seed", 0, CLI_INT, "0", "seed of the folds", &seed, 0, 2147483647, NULL, NULL},
        {"contiguous-folds", 0, CLI_FLAG, NULL, "contiguous folds instead (sklearn KFold without shuffling)",
         &contiguous, 0, 0, NULL, NULL},
        {"json", 0, CLI_JSON, NULL, "the result as JSON on stdout, or written to FILE", &json, 0, 0, NULL, NULL},
        {0}};
    const cli_spec spec = {"decode", "OUT.h5 --target TARGET [--data DATA.h5] [--dataset output_params]\n"
                           "                       [--classify | --regress] [--split valid|test] [--time-bins K]\n"
                           "                       [--alphas LO:HI:N] [--folds 5] [--seed 0] [--json[=FILE]]", ABOUT,
                           "lorenz_out.h5 --target condition --data lorenz.h5\n"
                           "out.h5 --target session.nwb:trials/tap_time --dataset factors --time-bins 4 --json=dec.json",
                           opts, 1, 1, "OUT.h5 and --target TARGET", NULL};
    char *pos[argc > 0 ? argc : 1];
    int npos, prc = cli_parse(&spec, argc, argv, pos, &npos);
    if (prc) return prc < 0 ? 0 : prc;
    if (!o.target || !*o.target) {
        fprintf(stderr, "neurodyn decode: expected OUT.h5 and --target TARGET (see --help)\n");
        return 2;
    }
    if (alpha_s && parse_alphas(alpha_s, &o.alpha_log10_lo, &o.alpha_log10_hi, &o.n_alphas)) {
        fprintf(stderr, "neurodyn decode: bad value '%s' for --alphas (LO:HI:N; see --help)\n", alpha_s);
        return 2;
    }
    if (!*o.dataset || strlen(o.dataset) > 200) { fprintf(stderr, "neurodyn decode: bad --dataset\n"); return 2; }
    if (classify) o.classify = 1;
    if (regress) o.classify = 0;
    o.out = pos[0], o.time_bins = (int)chunks, o.folds = (int)folds, o.shuffle = !contiguous, o.seed = (uint64_t)seed;
    nd_decode_file_result x;
    nd_error err;
    if (nd_decode_file(&o, &x, &err)) {
        fprintf(stderr, "neurodyn decode: %s\n", err.msg);
        return 1;
    }
    const nd_decode_result *r = &x.r;
    const char *metric = x.classify ? "accuracy" : "r2", *split = x.split;
    if (!json.on || json.path) {
        printf("decode %s from %s_%s of %s (%s; %d train / %d %s trials, %d features)\n", o.target, split, o.dataset,
               o.out, x.classify ? "ridge classifier" : "ridge regression", x.n_train, x.n_test, split, x.n_features);
        if (x.split_why) printf("test split %s (%s)\n", split, x.split_why);
        if (x.classify) printf("%-10s %.4f   (chance %.4f, %d classes)\n", metric, r->test_score, r->chance, r->n_classes);
        else printf("%-10s %.4f\n", metric, r->test_score);
        printf("alpha      %.4g (best of %d by %d-fold CV on train; CV %s %.4f)%s\n", r->best_alpha, x.n_alphas, o.folds,
               metric, x.best_cv, x.alpha_at_edge ? "  note: at the edge of --alphas" : "");
    }
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "outputs", o.out);
    cJSON_AddStringToObject(root, "target", o.target);
    cJSON_AddStringToObject(root, "features", o.dataset);
    cJSON_AddStringToObject(root, "kind", x.classify ? "classification" : "regression");
    cJSON_AddStringToObject(root, "test_split", split);
    if (x.split_why) cJSON_AddStringToObject(root, "test_split_reason", x.split_why);
    cJSON_AddNumberToObject(root, "train_trials", x.n_train);
    cJSON_AddNumberToObject(root, "test_trials", x.n_test);
    cJSON_AddNumberToObject(root, "n_features", x.n_features);
    cJSON_AddNumberToObject(root, metric, r->test_score);
    cJSON_AddNumberToObject(root, "chance", r->chance);
    if (x.classify) cJSON_AddNumberToObject(root, "n_classes", r->n_classes);
    cJSON_AddNumberToObject(root, "alpha", r->best_alpha);
    cJSON_AddNumberToObject(root, "folds", o.folds);
    cJSON_AddStringToObject(root, "fold_order", contiguous ? "contiguous" : "shuffled");
    cJSON_AddNumberToObject(root, "seed", (double)seed);
    cJSON_AddItemToObject(root, "alphas", cJSON_CreateDoubleArray(x.alphas, x.n_alphas));
    cJSON_AddItemToObject(root, "cv_score", cJSON_CreateDoubleArray(r->cv_score, x.n_alphas));
    int rc = json.on && cli_write_json("decode", root, json.path) ? 1 : 0;
    cJSON_Delete(root);
    nd_decode_file_result_free(&x);
    return rc;
}
