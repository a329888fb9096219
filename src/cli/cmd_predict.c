/* neurodyn predict MODEL.h5:DATASET NEURONS.h5:DATASET : cross-validated neural predictivity
 * (src/analysis/predict.h). */
#define _GNU_SOURCE
#include "cli.h"
#include "../analysis/data.h"
#include "../analysis/pca.h"
#include "../analysis/predict.h"
#include "../core/mem.h"
#include <cjson/cJSON.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void predict_usage(FILE *f) {
    fprintf(f,
            "usage: neurodyn predict MODEL.h5:DATASET NEURONS.h5:DATASET [--pls N | --ridge [ALPHA]] [--folds K]\n"
            "                        [--seed S] [--ceiling REPEAT.h5:DATASET] [--condition-average\n"
            "                        --conditions F:PATH] [--json]\n\n"
            "Neural predictivity (brain-score style): a linear map from model units (MODEL) to recorded\n"
            "neurons (NEURONS), fit on K-1 folds and scored on the held-out fold. Reports the Pearson r of\n"
            "every neuron between its responses and its pooled held-out predictions (each sample is\n"
            "predicted once), the median over neurons, and the mean over folds of the per-fold median.\n"
            "Datasets: 2-D samples x units or 3-D trials x time x units (flattened to (trials*time) x units);\n"
            "both must hold the same samples.\n\n"
            "options:\n"
            "  --pls N               PLS regression with N components, columns standardised (sklearn\n"
            "                        PLSRegression, scale=True); the default, N = 25 (capped at the unit count)\n"
            "  --ridge [ALPHA]       ridge regression with intercept instead (default ALPHA 1; 0 = least squares)\n"
            "  --no-scale            PLS without standardising the columns\n"
            "  --folds K             number of folds (default 5); contiguous blocks of samples, as sklearn\n"
            "                        KFold without shuffling, so whole trials stay together\n"
            "  --seed S              shuffle the samples into folds with this seed instead\n"
            "  --ceiling F:PATH      a second repeat of the neurons' responses (same shape as NEURONS): adds\n"
            "                        the split-half noise ceiling, per neuron Spearman-Brown 2r/(1+r) of the\n"
            "                        repeats, its median, and median r / ceiling\n"
            "  --condition-average   average the trials of each condition first (needs --conditions)\n"
            "  --conditions F:PATH   1-D integer condition id per trial, for all inputs\n"
            "  --json                print the result as JSON on stdout (per-neuron values included)\n");
}

static cJSON *json_array(const double *v, int n) {
    cJSON *a = cJSON_CreateArray();
    for (int i = 0; i < n; i++) cJSON_AddItemToArray(a, isnan(v[i]) ? cJSON_CreateNull() : cJSON_CreateNumber(v[i]));
    return a;
}

static int parse_num(const char *s, double *v) {
    char *end = NULL;
    *v = strtod(s, &end);
    return end != s && !*end && isfinite(*v);
}

int cmd_predict(int argc, char **argv) {
    static const struct option opts[] = {
        {"pls", required_argument, 0, 'p'},       {"ridge", optional_argument, 0, 'r'},
        {"no-scale", no_argument, 0, 'S'},        {"folds", required_argument, 0, 'f'},
        {"seed", required_argument, 0, 's'},      {"ceiling", required_argument, 0, 'c'},
        {"condition-average", no_argument, 0, 'a'}, {"conditions", required_argument, 0, 'n'},
        {"json", no_argument, 0, 'j'},            {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0}};
    nd_predict_opts o;
    nd_predict_opts_default(&o);
    const char *ceil_spec = NULL, *conds = NULL;
    int json = 0, average = 0, c, li = 0, pls_given = 0, ridge_given = 0;
    double v;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", opts, &li)) != -1) {
        char *end = NULL;
        switch (c) {
        case 'p':
            if (!parse_num(optarg, &v) || v < 1 || v != floor(v) || v > 100000) goto bad;
            o.kind = ND_MAP_PLS; o.ncomp = (int)v; pls_given = 1;
            break;
        case 'r':
            o.kind = ND_MAP_RIDGE;
            ridge_given = 1;
            /* --ridge=A, or --ridge A when the next word is a number */
            if (optarg) {
                if (!parse_num(optarg, &o.alpha) || o.alpha < 0) goto bad;
            } else if (optind < argc && parse_num(argv[optind], &v)) {
                if (v < 0) { optarg = argv[optind]; goto bad; }
                o.alpha = v;
                optind++;
            }
            break;
        case 'S': o.scale = 0; break;
        case 'f': if (!parse_num(optarg, &v) || v < 2 || v != floor(v) || v > 1e6) goto bad; o.folds = (int)v; break;
        case 's':
            o.seed = strtoull(optarg, &end, 10);
            if (!*optarg || *end || *optarg == '-') goto bad;
            o.shuffle = 1;
            break;
        case 'c': ceil_spec = optarg; break;
        case 'a': average = 1; break;
        case 'n': conds = optarg; break;
        case 'j': json = 1; break;
        case 'h': predict_usage(stdout); return 0;
        default: cli_bad_option("predict", argv); return 2;
        }
        continue;
    bad:
        fprintf(stderr, "neurodyn predict: bad value '%s' for --%s (see --help)\n", optarg ? optarg : "", opts[li].name);
        return 2;
    }
    if (pls_given && ridge_given) { fprintf(stderr, "neurodyn predict: choose one of --pls and --ridge\n"); return 2; }
    if (optind != argc - 2) {
        fprintf(stderr, "neurodyn predict: expected MODEL.h5:DATASET and NEURONS.h5:DATASET (see --help)\n");
        return 2;
    }
    if (average && !conds) { fprintf(stderr, "neurodyn predict: --condition-average needs --conditions FILE:DATASET\n"); return 2; }
    const char *sx = argv[optind], *sy = argv[optind + 1];
    nd_error err;
    nd_amatrix X = {0}, Y = {0}, Y2 = {0};
    nd_predict_result res = {0};
    double *ceil = NULL;
    cJSON *root = NULL;
    int rc = 1;
    const char *specs[3] = {sx, sy, ceil_spec};
    nd_amatrix *mats[3] = {&X, &Y, &Y2};
    for (int s = 0; s < 3; s++) {
        if (!specs[s]) continue;
        nd_status st = nd_load_matrix(specs[s], conds, average, ND_LAYOUT_SAMPLES, mats[s], &err);
        if (st) {
            fprintf(stderr, "neurodyn predict: %s\n", err.msg);
            rc = st == ND_ERR_ARG ? 2 : 1;
            goto done;
        }
    }
    if (X.rows != Y.rows) {
        fprintf(stderr, "neurodyn predict: %s has %d samples but %s has %d; both must hold the same samples\n", sx, X.rows, sy, Y.rows);
        goto done;
    }
    if (ceil_spec && (Y2.rows != Y.rows || Y2.cols != Y.cols)) {
        fprintf(stderr, "neurodyn predict: --ceiling %s is %d x %d but %s is %d x %d; the repeat must match\n", ceil_spec, Y2.rows,
                Y2.cols, sy, Y.rows, Y.cols);
        goto done;
    }
    int n = X.rows, p = X.cols, q = Y.cols, capped = 0;
    if (o.kind == ND_MAP_PLS && o.ncomp > p) { capped = o.ncomp; o.ncomp = p; }
    if (o.folds > n / 2) {
        fprintf(stderr, "neurodyn predict: %d samples are too few for %d folds (each fold must hold >= 2 samples)\n", n, o.folds);
        goto done;
    }
    nd_status st = nd_predictivity(X.x, Y.x, n, p, q, &o, &res, &err);
    if (st) { fprintf(stderr, "neurodyn predict: %s -> %s: %s\n", sx, sy, err.msg); goto done; }
    double cmed = NAN;
    if (ceil_spec) {
        ceil = nd_alloc(sizeof(double) * q);
        if (!ceil) { fprintf(stderr, "neurodyn predict: out of memory\n"); goto done; }
        if ((st = nd_split_half_ceiling(Y.x, Y2.x, n, q, ceil, &cmed, &err))) {
            fprintf(stderr, "neurodyn predict: %s vs %s: %s\n", sy, ceil_spec, err.msg);
            goto done;
        }
    }
    char map[128];
    if (o.kind == ND_MAP_PLS) snprintf(map, sizeof map, "PLS, %d components%s", o.ncomp, o.scale ? "" : ", unscaled");
    else snprintf(map, sizeof map, "ridge, alpha %g", o.alpha);
    char folds[128];
    if (o.shuffle) snprintf(folds, sizeof folds, "%d shuffled folds (seed %llu)", o.folds, (unsigned long long)o.seed);
    else snprintf(folds, sizeof folds, "%d contiguous folds", o.folds);
    if (json) {
        root = cJSON_CreateObject();
        cJSON_AddStringToObject(root, "model", sx);
        cJSON_AddStringToObject(root, "neurons", sy);
        cJSON_AddStringToObject(root, "map", o.kind == ND_MAP_PLS ? "pls" : "ridge");
        if (o.kind == ND_MAP_PLS) {
            cJSON_AddNumberToObject(root, "components", o.ncomp);
            cJSON_AddBoolToObject(root, "scale", o.scale);
            if (capped) cJSON_AddNumberToObject(root, "components_requested", capped);
        } else cJSON_AddNumberToObject(root, "alpha", o.alpha);
        cJSON_AddNumberToObject(root, "folds", o.folds);
        cJSON_AddBoolToObject(root, "shuffled", o.shuffle);
        if (o.shuffle) cJSON_AddNumberToObject(root, "seed", (double)o.seed);
        cJSON_AddNumberToObject(root, "samples", n);
        cJSON_AddNumberToObject(root, "n_model_units", p);
        cJSON_AddNumberToObject(root, "n_neurons", q);
        cJSON_AddNumberToObject(root, "median_r", res.median_r);
        cJSON_AddNumberToObject(root, "fold_median_mean_r", res.fold_median_mean);
        cJSON_AddNumberToObject(root, "neurons_with_r", res.n_valid);
        cJSON_AddItemToObject(root, "r", json_array(res.r, q));
        if (ceil_spec) {
            cJSON_AddStringToObject(root, "ceiling_repeat", ceil_spec);
            cJSON_AddNumberToObject(root, "ceiling_median", cmed);
            cJSON_AddNumberToObject(root, "ceiled_median_r", res.median_r / cmed);
            cJSON_AddItemToObject(root, "ceiling", json_array(ceil, q));
        }
        if (cli_write_json("predict", root, NULL)) goto done;
    } else {
        printf("predictivity %s -> %s (%s, %s; %d samples, %d units -> %d neurons)\n", sx, sy, map, folds, n, p, q);
        if (capped) printf("note: --pls %d capped at the %d model units\n", capped, p);
        printf("%-28s %.4f  (Pearson r of pooled held-out predictions; %d of %d neurons defined)\n", "median r", res.median_r,
               res.n_valid, q);
        printf("%-28s %.4f\n", "mean over folds of median r", res.fold_median_mean);
        if (ceil_spec) {
            printf("%-28s %.4f  (split-half, Spearman-Brown)\n", "noise ceiling (median)", cmed);
            printf("%-28s %.4f\n", "median r / ceiling", res.median_r / cmed);
        }
    }
    rc = 0;
done:
    cJSON_Delete(root);
    nd_free(ceil);
    nd_predict_result_free(&res);
    nd_amatrix_free(&X); nd_amatrix_free(&Y); nd_amatrix_free(&Y2);
    return rc;
}
