/* Cross-validated neural predictivity of two HDF5 datasets (`neurodyn predict`; see predict_file.h). */
#define _GNU_SOURCE
#include "predict_file.h"
#include "data.h"
#include "../core/mem.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static cJSON *json_array(const double *v, int n) {
    cJSON *a = cJSON_CreateArray();
    for (int i = 0; i < n; i++) cJSON_AddItemToArray(a, isnan(v[i]) ? cJSON_CreateNull() : cJSON_CreateNumber(v[i]));
    return a;
}

void nd_predict_file_opts_default(nd_predict_file_opts *o) {
    memset(o, 0, sizeof *o);
    nd_predict_opts_default(&o->map);
}

nd_status nd_predict_files(const char *sx, const char *sy, const nd_predict_file_opts *fo, nd_compare_file_result *r,
                           nd_error *err) {
    memset(r, 0, sizeof *r);
    if (fo->average && !fo->conditions)
        return nd_fail(err, ND_ERR_ARG, "--condition-average needs --conditions FILE:DATASET");
    nd_predict_opts ob = fo->map, *o = &ob;
    nd_amatrix X = {0}, Y = {0}, Y2 = {0};
    nd_predict_result res = {0};
    double res_median = NAN;
    double *ceil = NULL;
    char *text = NULL;
    size_t text_len = 0;
    FILE *out = open_memstream(&text, &text_len);
    cJSON *root = cJSON_CreateObject();
    nd_status st = ND_OK;
    if (!out || !root) { st = nd_fail(err, ND_ERR_NOMEM, "out of memory"); goto done; }
    const char *specs[3] = {sx, sy, fo->ceiling};
    nd_amatrix *mats[3] = {&X, &Y, &Y2};
    for (int s = 0; s < 3; s++) {
        if (!specs[s]) continue;
        if ((st = nd_load_matrix(specs[s], fo->conditions, fo->average, ND_LAYOUT_SAMPLES, mats[s], err))) goto done;
    }
    if (X.rows != Y.rows) {
        st = nd_fail(err, ND_ERR_FORMAT, "%s has %d samples but %s has %d; both must hold the same samples", sx, X.rows, sy, Y.rows);
        goto done;
    }
    if (fo->ceiling && (Y2.rows != Y.rows || Y2.cols != Y.cols)) {
        st = nd_fail(err, ND_ERR_FORMAT, "--ceiling %s is %d x %d but %s is %d x %d; the repeat must match", fo->ceiling, Y2.rows,
                Y2.cols, sy, Y.rows, Y.cols);
        goto done;
    }
    int n = X.rows, p = X.cols, q = Y.cols, capped = 0;
    if (o->kind == ND_MAP_PLS && o->ncomp > p) { capped = o->ncomp; o->ncomp = p; }
    if (o->folds > n / 2) {
        st = nd_fail(err, ND_ERR_FORMAT, "%d samples are too few for %d folds (each fold must hold >= 2 samples)", n, o->folds);
        goto done;
    }
    st = nd_predictivity(X.x, Y.x, n, p, q, o, &res, err);
    if (st) { char m[sizeof err->msg]; snprintf(m, sizeof m, "%s", err->msg); nd_fail(err, st, "%s -> %s: %s", sx, sy, m); goto done; }
    double cmed = NAN;
    res_median = res.median_r;
    if (fo->ceiling) {
        ceil = nd_alloc(sizeof(double) * q);
        if (!ceil) { st = nd_fail(err, ND_ERR_NOMEM, "out of memory"); goto done; }
        if ((st = nd_split_half_ceiling(Y.x, Y2.x, n, q, ceil, &cmed, err))) {
            char m[sizeof err->msg];
            snprintf(m, sizeof m, "%s", err->msg);
            nd_fail(err, st, "%s vs %s: %s", sy, fo->ceiling, m);
            goto done;
        }
    }
    char map[128];
    if (o->kind == ND_MAP_PLS) snprintf(map, sizeof map, "PLS, %d components%s", o->ncomp, o->scale ? "" : ", unscaled");
    else snprintf(map, sizeof map, "ridge, alpha %g", o->alpha);
    char folds[128];
    if (o->shuffle) snprintf(folds, sizeof folds, "%d shuffled folds (seed %llu)", o->folds, (unsigned long long)o->seed);
    else snprintf(folds, sizeof folds, "%d contiguous folds", o->folds);
    {
        cJSON_AddStringToObject(root, "model", sx);
        cJSON_AddStringToObject(root, "neurons", sy);
        cJSON_AddStringToObject(root, "map", o->kind == ND_MAP_PLS ? "pls" : "ridge");
        if (o->kind == ND_MAP_PLS) {
            cJSON_AddNumberToObject(root, "components", o->ncomp);
            cJSON_AddBoolToObject(root, "scale", o->scale);
            if (capped) cJSON_AddNumberToObject(root, "components_requested", capped);
        } else cJSON_AddNumberToObject(root, "alpha", o->alpha);
        cJSON_AddNumberToObject(root, "folds", o->folds);
        cJSON_AddBoolToObject(root, "shuffled", o->shuffle);
        if (o->shuffle) cJSON_AddNumberToObject(root, "seed", (double)o->seed);
        cJSON_AddNumberToObject(root, "samples", n);
        cJSON_AddNumberToObject(root, "n_model_units", p);
        cJSON_AddNumberToObject(root, "n_neurons", q);
        cJSON_AddNumberToObject(root, "median_r", res.median_r);
        cJSON_AddNumberToObject(root, "fold_median_mean_r", res.fold_median_mean);
        cJSON_AddNumberToObject(root, "neurons_with_r", res.n_valid);
        cJSON_AddItemToObject(root, "r", json_array(res.r, q));
        if (fo->ceiling) {
            cJSON_AddStringToObject(root, "ceiling_repeat", fo->ceiling);
            cJSON_AddNumberToObject(root, "ceiling_median", cmed);
            cJSON_AddNumberToObject(root, "ceiled_median_r", res.median_r / cmed);
            cJSON_AddItemToObject(root, "ceiling", json_array(ceil, q));
        }
    }
    {
        fprintf(out, "predictivity %s -> %s (%s, %s; %d samples, %d units -> %d neurons)\n", sx, sy, map, folds, n, p, q);
        if (capped) fprintf(out, "note: --pls %d capped at the %d model units\n", capped, p);
        fprintf(out, "%-28s %.4f  (Pearson r of pooled held-out predictions; %d of %d neurons defined)\n", "median r", res.median_r,
               res.n_valid, q);
        fprintf(out, "%-28s %.4f\n", "mean over folds of median r", res.fold_median_mean);
        if (fo->ceiling) {
            fprintf(out, "%-28s %.4f  (split-half, Spearman-Brown)\n", "noise ceiling (median)", cmed);
            fprintf(out, "%-28s %.4f\n", "median r / ceiling", res.median_r / cmed);
        }
    }
done:
    if (out) fclose(out);
    nd_free(ceil);
    nd_predict_result_free(&res);
    nd_amatrix_free(&X);
    nd_amatrix_free(&Y);
    nd_amatrix_free(&Y2);
    if (st || !text) {
        free(text);
        cJSON_Delete(root);
        return st ? st : nd_fail(err, ND_ERR_NOMEM, "out of memory");
    }
    r->json = root;
    r->text = text;
    r->score = res_median;
    return ND_OK;
}
