/* neurodyn rdm DATA.h5:DATASET --distance ... -o RDM.h5: parse, nd_rdm_file (src/analysis/rdm_file.c), print. */
#include "cli.h"
#include "opt.h"
#include "../analysis/rdm_file.h"
#include <stdio.h>

static const char ABOUT[] =
            "Computes the representational dissimilarity matrix (RDM) between patterns, with rsatoolbox's\n"
            "definitions. A 2-D dataset gives one pattern per row (conditions x channels); a 3-D dataset\n"
            "(trials x time x units) one pattern per trial with time*units channels, or per condition with\n"
            "--condition-average.\n\n"
            "distances (--distance, default correlation):\n"
            "  euclidean     squared Euclidean distance / number of channels\n"
            "  correlation   1 - Pearson r between the two patterns\n"
            "  mahalanobis   (a-b)^T S^-1 (a-b) / channels, S = --noise covariance (identity if none)\n"
            "  crossnobis    cross-validated Mahalanobis, leave one fold out: the mean over folds f of\n"
            "                (a_i - a_j)^T S^-1 (b_i - b_j) / channels, a = fold f's condition means, b = the\n"
            "                other folds' means. Needs --conditions; the k-th trial of every condition goes\n"
            "                to fold k mod K. Unbiased: can be negative.\n\n"
            "The output file holds 'rdm' (the upper triangle, row-major: (0,1), (0,2), ..., (1,2), ...),\n"
            "'rdm_square' (n x n), 'condition_ids' when patterns are conditions, and the attributes\n"
            "distance, source and n_patterns.\\n";

int cmd_rdm(int argc, char **argv) {
    nd_rdm_file_opts o;
    nd_rdm_file_opts_default(&o);
    const char *out = NULL;
    long folds = 0;
    cli_json json = {0, NULL};
    const cli_opt opts[] = {
        {"out", 'o', CLI_STR, NULL, "output HDF5 file (required; written atomically)", &out, 0, 0, NULL, "FILE"},
        {"distance", 0, CLI_CHOICE, "correlation", "the dissimilarity (above)", &o.distance, 0, 0,
         "euclidean|correlation|mahalanobis|crossnobis", "D"},
        {"condition-average", 0, CLI_FLAG, NULL, "one pattern per condition: the mean of its trials (needs --conditions)",
         &o.average, 0, 0, NULL, NULL},
        {"conditions", 0, CLI_STR, NULL, "1-D integer condition id per trial (e.g. data.h5:valid_condition)",
         &o.conditions, 0, 0, NULL, "FILE:PATH"},
        {"noise", 0, CLI_STR, NULL, "channels x channels noise covariance for mahalanobis / crossnobis (default\n"
         "                             identity)", &o.noise, 0, 0, NULL, "FILE:PATH"},
        {"folds", 0, CLI_INT, NULL, "crossnobis folds (default: the smallest trial count of a condition)", &folds, 2,
         1000000, NULL, "K"},
        {"json", 0, CLI_JSON, NULL, "a JSON summary: to stdout instead of the text, or to FILE (atomically)", &json, 0,
         0, NULL, NULL},
        {0}};
    const cli_spec spec = {"rdm", "DATA.h5:DATASET -o RDM.h5 [--distance D] [--condition-average]\n"
                           "                    [--conditions F:PATH] [--noise F:PATH] [--folds K] [--json[=FILE]]",
                           ABOUT, "lorenz.h5:valid_truth --conditions lorenz.h5:valid_condition --condition-average "
                           "-o rdm.h5\nlorenz.h5:valid_truth --distance crossnobis --conditions lorenz.h5:valid_condition "
                           "-o xnobis.h5 --json", opts, 1, 1, "DATA.h5:DATASET and --out RDM.h5", NULL};
    char *pos[argc > 0 ? argc : 1];
    int npos, rc = cli_parse(&spec, argc, argv, pos, &npos);
    if (rc) return rc < 0 ? 0 : rc;
    if (!out) {
        fprintf(stderr, "neurodyn rdm: expected DATA.h5:DATASET and --out RDM.h5 (see --help)\n");
        return 2;
    }
    o.folds = (int)folds;
    nd_rdm_file_result r;
    nd_error err;
    nd_status st = nd_rdm_file(pos[0], out, &o, &r, &err);
    if (st) {
        fprintf(stderr, "neurodyn rdm: %s\n", err.msg);
        return st == ND_ERR_ARG ? 2 : 1;
    }
    if (!json.on || json.path) {
        printf("wrote %s: %s RDM of %d %s (%d channels", out, o.distance, r.patterns,
               r.conditions ? "conditions" : "patterns", r.channels);
        if (r.folds) printf(", %d folds", r.folds);
        printf(")\n");
        printf("dissimilarity: mean %.6g, min %.6g, max %.6g over %zu pairs\n", r.mean, r.min, r.max, r.pairs);
    }
    if (!json.on) return 0;
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "source", pos[0]);
    cJSON_AddStringToObject(root, "out", out);
    cJSON_AddStringToObject(root, "distance", o.distance);
    cJSON_AddNumberToObject(root, "patterns", r.patterns);
    cJSON_AddNumberToObject(root, "channels", r.channels);
    if (r.folds) cJSON_AddNumberToObject(root, "folds", r.folds);
    cJSON_AddNumberToObject(root, "mean", r.mean);
    cJSON_AddNumberToObject(root, "min", r.min);
    cJSON_AddNumberToObject(root, "max", r.max);
    rc = cli_write_json("rdm", root, json.path) ? 1 : 0;
    cJSON_Delete(root);
    return rc;
}
