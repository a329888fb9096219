/* neurodyn decode: decode a per-trial variable (behaviour, stimulus) from a model's single-trial
 * outputs with cross-validated ridge regression / classification. */
#define _GNU_SOURCE
#include "cli.h"
#include "opt.h"
#include "../analysis/data.h"
#include "../analysis/decode.h"
#include "../core/mem.h"
#include "../io/h5.h"
#include <math.h>
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

/* reads {split}_name of path as trials x features (rank 1, 2 or 3; rank 3 optionally averaged
 * into K time chunks); n, p out */
static nd_status read_features(const char *path, const char *split, const char *name, int chunks, double **X, int *n,
                               int *p, nd_error *err) {
    char ds[256];
    snprintf(ds, sizeof ds, "%s_%s", split, name);
    if (!nd_h5_exists(path, ds))
        return nd_fail(err, ND_ERR_FORMAT, "%s: dataset '%s': missing (write it with 'neurodyn infer' or 'neurodyn "
                                           "baseline')", path, ds);
    float *a = NULL;
    int rank = 0;
    size_t d[ND_H5_MAX_RANK];
    nd_status st = nd_h5_read_float(path, ds, &a, &rank, d, err);
    if (st) return st;
    size_t trials = d[0], T = rank == 3 ? d[1] : 1, U = rank == 1 ? 1 : d[rank - 1];
    if (rank > 3 || trials < 1 || T < 1 || U < 1) {
        nd_free(a);
        return nd_fail(err, ND_ERR_FORMAT, "%s: dataset '%s': expected trials x [bins x] units, got rank %d", path, ds,
                       rank);
    }
    size_t K = rank == 3 && chunks > 0 ? (size_t)chunks : T;
    if (K > T) K = T;
    *X = nd_alloc(sizeof(double) * trials * K * U);
    if (!*X) {
        nd_free(a);
        return nd_fail(err, ND_ERR_NOMEM, "%s: dataset '%s': out of memory", path, ds);
    }
    for (size_t i = 0; i < trials; i++)
        for (size_t c = 0; c < K; c++) {
            size_t t0 = c * T / K, t1 = (c + 1) * T / K;
            for (size_t u = 0; u < U; u++) {
                double s = 0;
                for (size_t t = t0; t < t1; t++) s += a[(i * T + t) * U + u];
                (*X)[(i * K + c) * U + u] = s / (double)(t1 - t0);
            }
        }
    nd_free(a);
    *n = (int)trials;
    *p = (int)(K * U);
    return ND_OK;
}

/* the target of one split: n rows of q values */
static nd_status read_target(const char *spec, const char *out, const char *data, const char *split, int n, double **Y,
                             int *q, nd_error *err) {
    char file[1024], ds[256], name[300];
    const char *colon = strrchr(spec, ':');
    int rank = 0;
    size_t d[ND_H5_MAX_RANK];
    float *a = NULL;
    nd_status st;
    if (colon) {
        /* one value per original trial, picked with the output's {split}_inds */
        if ((st = nd_split_spec(spec, file, sizeof file, ds, sizeof ds, err))) return st;
        snprintf(name, sizeof name, "%s_inds", split);
        const char *src = nd_h5_exists(out, name) ? out : data && nd_h5_exists(data, name) ? data : NULL;
        if (!src)
            return nd_fail(err, ND_ERR_FORMAT, "%s: dataset '%s': missing; a FILE:DATASET target needs the original "
                                               "trial indices", out, name);
        int *inds = NULL, ir = 0;
        size_t id[ND_H5_MAX_RANK];
        if ((st = nd_h5_read_int(src, name, &inds, &ir, id, err))) return st;
        if ((st = nd_h5_read_float(file, ds, &a, &rank, d, err))) { nd_free(inds); return st; }
        if ((size_t)n != id[0] || rank < 1 || rank > 2) {
            st = nd_fail(err, ND_ERR_FORMAT, "%s: dataset '%s': %zu entries for %d trials, or rank %d (want 1 or 2)", src,
                         name, id[0], n, rank);
        } else {
            *q = rank == 2 ? (int)d[1] : 1;
            *Y = nd_alloc(sizeof(double) * (size_t)n * *q);
            if (!*Y) st = nd_fail(err, ND_ERR_NOMEM, "out of memory");
            for (int i = 0; !st && i < n; i++) {
                if (inds[i] < 0 || (size_t)inds[i] >= d[0]) {
                    st = nd_fail(err, ND_ERR_FORMAT, "%s: dataset '%s': trial index %d outside %s:%s (%zu trials)", src,
                                 name, inds[i], file, ds, d[0]);
                    break;
                }
                for (int j = 0; j < *q; j++) (*Y)[(size_t)i * *q + j] = a[(size_t)inds[i] * *q + j];
            }
        }
        nd_free(inds);
        snprintf(file, sizeof file, "%s", spec);
    } else {
        snprintf(name, sizeof name, "%s_%s", split, spec);
        const char *src = data && nd_h5_exists(data, name) ? data : nd_h5_exists(out, name) ? out : NULL;
        if (!src)
            return nd_fail(err, ND_ERR_FORMAT, "%s: dataset '%s': missing (give --data DATA.h5 holding it)",
                           data ? data : out, name);
        if ((st = nd_h5_read_float(src, name, &a, &rank, d, err))) return st;
        snprintf(file, sizeof file, "%s:%s", src, name);
        if (rank < 1 || rank > 2 || d[0] != (size_t)n) {
            st = nd_fail(err, ND_ERR_FORMAT, "%s: dataset '%s': shape has %zu trials (rank %d), but the features have %d",
                         src, name, d[0], rank, n);
        } else {
            *q = rank == 2 ? (int)d[1] : 1;
            *Y = nd_alloc(sizeof(double) * (size_t)n * *q);
            if (!*Y) st = nd_fail(err, ND_ERR_NOMEM, "out of memory");
            for (size_t i = 0; !st && i < (size_t)n * *q; i++) (*Y)[i] = a[i];
        }
    }
    nd_free(a);
    if (st) return st;
    for (size_t i = 0; i < (size_t)n * *q; i++)
        if (!isfinite((*Y)[i])) {
            nd_free(*Y);
            *Y = NULL;
            return nd_fail(err, ND_ERR_FORMAT, "%s: target value %zu is not finite", file, i);
        }
    return ND_OK;
}

/* 1 when OUT has test_DATASET and the target exists for the test trials */
static int has_test_split(const char *out, const char *data, const char *dsname, const char *spec) {
    char name[300], file[1024], ds[256];
    nd_error err;
    snprintf(name, sizeof name, "test_%s", dsname);
    if (!nd_h5_exists(out, name)) return 0;
    if (strrchr(spec, ':')) {
        if (nd_split_spec(spec, file, sizeof file, ds, sizeof ds, &err)) return 0;
        return nd_h5_exists(out, "test_inds") || (data && nd_h5_exists(data, "test_inds"));
    }
    snprintf(name, sizeof name, "test_%s", spec);
    return (data && nd_h5_exists(data, name)) || nd_h5_exists(out, name);
}

static int parse_alphas(const char *s, double *lo, double *hi, int *n) {
    char *end;
    *lo = strtod(s, &end);
    if (*end != ':') return -1;
    *hi = strtod(end + 1, &end);
    if (*end != ':') return -1;
    long v = strtol(end + 1, &end, 10);
    if (*end || v < 1 || v > 1000 || !isfinite(*lo) || !isfinite(*hi) || *hi < *lo || fabs(*lo) > 300 || fabs(*hi) > 300)
        return -1;
    *n = (int)v;
    return 0;
}

int cmd_decode(int argc, char **argv) {
    const char *target = NULL, *data = NULL, *dsname = NULL, *split = NULL, *alpha_s = NULL;
    int contiguous = 0, classify = 0, regress = 0, kind = -1, n_alphas = 17;
    long chunks = 0, folds = 0, seed = 0;
    double lo = -2, hi = 6;
    cli_json json = {0, NULL};
    const cli_opt opts[] = {
        {"target", 0, CLI_STR, NULL, "what to decode: condition, NAME or FILE:DATASET (see above; required)", &target,
         0, 0, NULL, "TARGET"},
        {"data", 'd', CLI_STR, NULL, "data file for 'condition' / NAME targets", &data, 0, 0, NULL, "FILE"},
        {"dataset", 0, CLI_STR, "output_params", "features: {split}_NAME of OUT.h5 (rates; e.g. factors, ic_mean;\n"
         "                             with OUT.h5 = a data file, recon_data / encod_data decode from the counts)",
         &dsname, 0, 0, NULL, "NAME"},
        {"classify", 0, CLI_FLAG, NULL, "treat the target as class labels (default for 'condition')", &classify, 0, 0,
         NULL, NULL},
        {"regress", 0, CLI_FLAG, NULL, "treat the target as a continuous value (default otherwise)", &regress, 0, 0,
         NULL, NULL},
        {"split|test-split", 0, CLI_CHOICE, NULL, "trials to score. Default test when OUT.h5 has test_DATASET and the\n"
         "                             target exists for the test trials, else valid (which chose best.ckpt); the\n"
         "                             split used is printed", &split, 0, 0, "valid|test", NULL},
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
    if (!target || !*target) {
        fprintf(stderr, "neurodyn decode: expected OUT.h5 and --target TARGET (see --help)\n");
        return 2;
    }
    if (alpha_s && parse_alphas(alpha_s, &lo, &hi, &n_alphas)) {
        fprintf(stderr, "neurodyn decode: bad value '%s' for --alphas (LO:HI:N; see --help)\n", alpha_s);
        return 2;
    }
    if (!*dsname || strlen(dsname) > 200) { fprintf(stderr, "neurodyn decode: bad --dataset\n"); return 2; }
    if (classify) kind = 1;
    if (regress) kind = 0;
    const int json_stdout = json.on && !json.path;
    const char *json_path = json.path;
    const char *out = pos[0];
    if (kind < 0) kind = !strcmp(target, "condition");
    const char *split_why = NULL;
    if (!split) {
        split = has_test_split(out, data, dsname, target) ? "test" : "valid";
        split_why = split[0] == 't' ? "default: the test trials have features and targets"
                                    : "default: no test features or targets";
    }
    nd_error err;
    int rc = 1, ntr = 0, nte = 0, p = 0, p2 = 0, q = 0, q2 = 0;
    double *Xtr = NULL, *Xte = NULL, *Ytr = NULL, *Yte = NULL;
    double *alphas = nd_alloc(sizeof(double) * n_alphas);
    nd_decode_result r;
    memset(&r, 0, sizeof r);
    cJSON *root = NULL;
    if (!alphas) { fprintf(stderr, "neurodyn decode: out of memory\n"); goto done; }
    for (int a = 0; a < n_alphas; a++) alphas[a] = pow(10.0, n_alphas > 1 ? lo + (hi - lo) * a / (n_alphas - 1) : lo);
    if (nd_h5_check_file(out, &err) || (data && nd_h5_check_file(data, &err)) ||
        read_features(out, "train", dsname, (int)chunks, &Xtr, &ntr, &p, &err) ||
        read_features(out, split, dsname, (int)chunks, &Xte, &nte, &p2, &err) ||
        read_target(target, out, data, "train", ntr, &Ytr, &q, &err) ||
        read_target(target, out, data, split, nte, &Yte, &q2, &err)) {
        fprintf(stderr, "neurodyn decode: %s\n", err.msg);
        goto done;
    }
    if (p != p2 || q != q2) {
        fprintf(stderr, "neurodyn decode: %s: train and %s splits differ in features (%d, %d) or targets (%d, %d)\n", out,
                split, p, p2, q, q2);
        goto done;
    }
    if (kind && q != 1) {
        fprintf(stderr, "neurodyn decode: %s: a classification needs one label per trial, the target has %d columns\n",
                target, q);
        goto done;
    }
    if (folds > ntr) {
        fprintf(stderr, "neurodyn decode: %s: --folds %d is more than the %d train trials\n", out, (int)folds, ntr);
        goto done;
    }
    nd_decode_opts o = {alphas, n_alphas, (int)folds, kind, !contiguous, (uint64_t)seed};
    if (nd_decode(Xtr, Ytr, ntr, Xte, Yte, nte, p, q, &o, &r, &err)) {
        fprintf(stderr, "neurodyn decode: %s: %s\n", out, err.msg);
        goto done;
    }
    const char *metric = kind ? "accuracy" : "r2";
    int edge = r.best_alpha == alphas[0] || r.best_alpha == alphas[n_alphas - 1];
    if (!json_stdout) {
        printf("decode %s from %s_%s of %s (%s; %d train / %d %s trials, %d features)\n", target, split, dsname, out,
               kind ? "ridge classifier" : "ridge regression", ntr, nte, split, p);
        if (split_why) printf("test split %s (%s)\n", split, split_why);
        if (kind) printf("%-10s %.4f   (chance %.4f, %d classes)\n", metric, r.test_score, r.chance, r.n_classes);
        else printf("%-10s %.4f\n", metric, r.test_score);
        double best_cv = r.cv_score[0];
        for (int a = 1; a < n_alphas; a++) if (r.cv_score[a] > best_cv) best_cv = r.cv_score[a];
        printf("alpha      %.4g (best of %d by %d-fold CV on train; CV %s %.4f)%s\n", r.best_alpha, n_alphas, (int)folds, metric,
               best_cv, edge ? "  note: at the edge of --alphas" : "");
    }
    root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "outputs", out);
    cJSON_AddStringToObject(root, "target", target);
    cJSON_AddStringToObject(root, "features", dsname);
    cJSON_AddStringToObject(root, "kind", kind ? "classification" : "regression");
    cJSON_AddStringToObject(root, "test_split", split);
    if (split_why) cJSON_AddStringToObject(root, "test_split_reason", split_why);
    cJSON_AddNumberToObject(root, "train_trials", ntr);
    cJSON_AddNumberToObject(root, "test_trials", nte);
    cJSON_AddNumberToObject(root, "n_features", p);
    cJSON_AddNumberToObject(root, metric, r.test_score);
    cJSON_AddNumberToObject(root, "chance", r.chance);
    if (kind) cJSON_AddNumberToObject(root, "n_classes", r.n_classes);
    cJSON_AddNumberToObject(root, "alpha", r.best_alpha);
    cJSON_AddNumberToObject(root, "folds", folds);
    cJSON_AddStringToObject(root, "fold_order", contiguous ? "contiguous" : "shuffled");
    cJSON_AddNumberToObject(root, "seed", (double)seed);
    cJSON_AddItemToObject(root, "alphas", cJSON_CreateDoubleArray(alphas, n_alphas));
    cJSON_AddItemToObject(root, "cv_score", cJSON_CreateDoubleArray(r.cv_score, n_alphas));
    rc = 0;
    if ((json_stdout || json_path) && cli_write_json("decode", root, json_path)) rc = 1;
done:
    cJSON_Delete(root);
    nd_decode_result_free(&r);
    nd_free(alphas); nd_free(Xtr); nd_free(Xte); nd_free(Ytr); nd_free(Yte);
    return rc;
}
