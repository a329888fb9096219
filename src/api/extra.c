/* The additions for the Python package and export (issue 17): progress callback, data from arrays and its
 * metadata, compare on arrays, model and NLB export. */
#include "api.h"
#include "../analysis/compare.h"
#include "../core/mem.h"
#include "../io/h5.h"
#include "../io/h5x.h"
#include "../io/nlb_submit.h"
#include "../models/lfads_export.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

ND_API void nd_set_progress_callback(nd_context *ctx, nd_progress_fn fn, void *user) {
    if (!ctx) return;
    ctx->progress_fn = fn;
    ctx->progress_user = fn ? user : NULL;
}

/* copy of n x TN counts, checked: whole numbers >= 0 */
static nd_status copy_counts(nd_context *ctx, const float *src, int n, size_t TN, const char *what, float **dst) {
    *dst = nd_alloc(sizeof(float) * ((size_t)n * TN + 1));
    if (!*dst) return api_fail(ctx, ND_ERR_NOMEM, "nd_data_from_arrays: out of memory");
    for (size_t i = 0; i < (size_t)n * TN; i++) {
        float v = src[i];
        if (!isfinite(v) || v < 0 || v != floorf(v))
            return api_fail(ctx, ND_ERR_FORMAT, "nd_data_from_arrays: %s[%zu][%zu]: %g is not a spike count (a whole "
                            "number >= 0)", what, i / TN, i % TN, (double)v);
        (*dst)[i] = v;
    }
    return ND_OK;
}

ND_API nd_status nd_data_from_arrays(nd_context *ctx, const float *train, int n_train, const float *valid, int n_valid,
                                     int bins, int neurons, double bin_ms, unsigned long long split_seed,
                                     double valid_fraction, nd_data **out) {
    if (out) *out = NULL;
    if (api_begin(ctx)) return ND_ERR_ARG;
    if (!out || !train || n_train < 1 || bins < 1 || neurons < 1 || n_valid < 0 || (n_valid > 0 && !valid) ||
        !(bin_ms >= 0) || !isfinite(bin_ms))
        return api_fail(ctx, ND_ERR_ARG, "nd_data_from_arrays: need train with >= 1 trial, bins and neurons >= 1, "
                        "valid with n_valid trials (or NULL and 0), bin_ms >= 0, out");
    if (n_valid == 0 && (n_train < 2 || !(valid_fraction > 0 && valid_fraction < 1)))
        return api_fail(ctx, ND_ERR_ARG, "nd_data_from_arrays: without valid trials, need >= 2 train trials and "
                        "valid_fraction in (0, 1) (got %d, %g)", n_train, valid_fraction);
    const size_t TN = (size_t)bins * neurons;
    nd_data *d = calloc(1, sizeof *d);
    if (!d) return api_fail(ctx, ND_ERR_NOMEM, "nd_data_from_arrays: out of memory");
    nd_lfads_data *l = &d->own;
    l->T = bins, l->N = neurons, l->conversion_factor = 1;
    float *all = NULL;
    unsigned char *isv = NULL;
    nd_status st = copy_counts(ctx, train, n_train, TN, "train", &all);
    if (!st && n_valid > 0) {
        st = copy_counts(ctx, valid, n_valid, TN, "valid", &l->split[ND_VALID].counts);
        if (!st) {
            l->split[ND_TRAIN].counts = all, all = NULL;
            l->split[ND_TRAIN].n = n_train, l->split[ND_VALID].n = n_valid, l->valid_from_file = 1;
        }
    } else if (!st) { /* the seeded split of nd_lfads_data_read */
        isv = nd_alloc((size_t)n_train);
        int nv = isv ? nd_lfads_valid_mask(n_train, (uint64_t)split_seed, valid_fraction, isv) : -1;
        if (nv < 1) st = api_fail(ctx, isv ? ND_ERR_ARG : ND_ERR_NOMEM, "nd_data_from_arrays: cannot split %d trials",
                                  n_train);
        else {
            l->split[ND_VALID].n = nv, l->split[ND_TRAIN].n = n_train - nv;
            for (int s = ND_TRAIN; s <= ND_VALID && !st; s++) {
                nd_lfads_split *sp = &l->split[s];
                sp->counts = nd_alloc(sizeof(float) * ((size_t)sp->n * TN + 1));
                sp->inds = nd_alloc(sizeof(int) * ((size_t)sp->n + 1));
                if (!sp->counts || !sp->inds) st = api_fail(ctx, ND_ERR_NOMEM, "nd_data_from_arrays: out of memory");
            }
            int k[2] = {0, 0}; /* trials placed in train, valid */
            for (int i = 0; !st && i < n_train; i++) {
                nd_lfads_split *sp = &l->split[isv[i] ? ND_VALID : ND_TRAIN];
                int *at = &k[isv[i] ? 1 : 0];
                memcpy(sp->counts + (size_t)*at * TN, all + (size_t)i * TN, sizeof(float) * TN);
                sp->inds[(*at)++] = i;
            }
        }
    }
    nd_free(all);
    nd_free(isv);
    if (st) {
        nd_data_free(d);
        return api_end(ctx, st);
    }
    d->split_seed = (double)split_seed;
    d->valid_fraction = valid_fraction;
    d->bin_ms = bin_ms;
    *out = d;
    return api_end(ctx, ND_OK);
}

ND_API const char *nd_data_path(const nd_data *data) { return data && !data->synth ? data->own.path : ""; }

ND_API double nd_data_bin_ms(const nd_data *data) {
    if (!data) return 0;
    if (data->synth) return data->synth->bin_ms;
    if (data->bin_ms > 0) return data->bin_ms;
    double b = 0;
    if (data->own.path[0] && nd_h5_read_attr_double(data->own.path, "/", "bin_ms", &b, NULL) == ND_OK && b > 0 &&
        isfinite(b))
        return b;
    return 0;
}

ND_API const int *nd_data_trial_inds(const nd_data *data, nd_split split) {
    if (!data || nd_data_trials(data, split) <= 0) return NULL;
    return api_lfd(data)->split[split].inds;
}

ND_API nd_status nd_data_neuron_ids(nd_context *ctx, const nd_data *data, int *ids, int cap) {
    if (api_begin(ctx)) return ND_ERR_ARG;
    if (!data || !ids) return api_fail(ctx, ND_ERR_ARG, "nd_data_neuron_ids: data and ids must not be NULL");
    const int N = nd_data_neurons(data), Nr = nd_data_recon_neurons(data);
    if (cap < Nr)
        return api_fail(ctx, ND_ERR_ARG, "nd_data_neuron_ids: cap %d is less than the %d reconstructed neurons", cap,
                        Nr);
    for (int j = 0; j < Nr; j++) ids[j] = j;
    const char *path = data->synth ? "" : data->own.path;
    nd_h5r *r = NULL;
    if (!path[0] || nd_h5r_open(path, &r, &ctx->err) || nd_h5r_kind(r, "heldin_neurons") != ND_H5R_DATASET) {
        nd_h5r_close(r);
        return api_end(ctx, ND_OK);
    }
    static const char *const names[2] = {"heldin_neurons", "heldout_neurons"};
    const int want[2] = {N, Nr - N};
    nd_status st = ND_OK;
    for (int k = 0, off = 0; k < 2 && !st; off += want[k], k++) {
        if (want[k] == 0 && nd_h5r_kind(r, names[k]) != ND_H5R_DATASET) continue;
        int *v = NULL, rank = 0;
        size_t dims[ND_H5R_MAX_RANK];
        if ((st = nd_h5r_read_int(r, names[k], &v, &rank, dims, &ctx->err))) break;
        size_t n = rank == 0 ? 1 : dims[0];
        if (rank > 1 || (int)n != want[k])
            st = api_fail(ctx, ND_ERR_FORMAT, "%s: dataset '%s': %zu ids for %d neurons", path, names[k], n, want[k]);
        else memcpy(ids + off, v, sizeof(int) * n);
        nd_free(v);
    }
    nd_h5r_close(r);
    return api_end(ctx, st);
}

ND_API nd_status nd_compare(nd_context *ctx, const float *x, const float *y, int n, int p, int q, const char *method,
                            double *value) {
    if (api_begin(ctx)) return ND_ERR_ARG;
    static const char *const methods = "cca, svcca, pwcca, cka, cka-rbf, cka-debiased, procrustes";
    if (!x || !y || !method || !value || n < 1 || p < 1 || q < 1)
        return api_fail(ctx, ND_ERR_ARG, "nd_compare: x, y, method and value must not be NULL; n, p, q >= 1");
    *value = NAN;
    int m = !strcmp(method, "cca") ? 0 : !strcmp(method, "svcca") ? 1 : !strcmp(method, "pwcca") ? 2
          : !strcmp(method, "cka") ? 3 : !strcmp(method, "cka-rbf") ? 4 : !strcmp(method, "cka-debiased") ? 5
          : !strcmp(method, "procrustes") ? 6 : -1;
    if (m < 0) return api_fail(ctx, ND_ERR_ARG, "nd_compare: unknown method '%s' (one of %s)", method, methods);
    double *X = nd_alloc(sizeof(double) * (size_t)n * p), *Y = nd_alloc(sizeof(double) * (size_t)n * q);
    nd_status st = ND_OK;
    if (!X || !Y) st = api_fail(ctx, ND_ERR_NOMEM, "nd_compare: out of memory");
    for (size_t i = 0; !st && i < (size_t)n * p; i++) X[i] = x[i];
    for (size_t i = 0; !st && i < (size_t)n * q; i++) Y[i] = y[i];
    if (!st) {
        nd_cca_result c;
        nd_pwcca_result pw;
        switch (m) {
        case 0:
        case 1:
            st = m == 0 ? nd_cca(X, Y, n, p, q, ND_CCA_EPS_DEFAULT, 0, &c, &ctx->err)
                        : nd_svcca(X, Y, n, p, q, ND_SVCCA_KEEP_DEFAULT, ND_CCA_EPS_DEFAULT, 0, &c, &ctx->err);
            if (!st) {
                *value = c.mean;
                nd_cca_free(&c);
            }
            break;
        case 2:
            st = nd_pwcca(X, Y, n, p, q, ND_CCA_EPS_DEFAULT, ND_PWCCA_INNER, &pw, &ctx->err);
            if (!st) {
                *value = pw.pwcca;
                nd_pwcca_free(&pw);
            }
            break;
        case 3: st = nd_cka_linear(X, Y, n, p, q, value, &ctx->err); break;
        case 4: st = nd_cka_rbf(X, Y, n, p, q, ND_CKA_RBF_THRESHOLD_DEFAULT, 0, value, &ctx->err); break;
        case 5: st = nd_cka_linear_debiased(X, Y, n, p, q, value, &ctx->err); break;
        default: st = nd_shape_distance(X, Y, n, p, q, 1.0, value, &ctx->err); break;
        }
        if (st) *value = NAN;
    }
    nd_free(X);
    nd_free(Y);
    return api_end(ctx, st);
}

ND_API nd_status nd_model_export(nd_context *ctx, const nd_model *model, const char *path) {
    if (api_begin(ctx)) return ND_ERR_ARG;
    if (!model || !path) return api_fail(ctx, ND_ERR_ARG, "nd_model_export: model and path must not be NULL");
    return api_end(ctx, nd_lfads_export_torch(&model->m, path, &ctx->err));
}

ND_API nd_status nd_export_nlb(nd_context *ctx, const nd_data *data, const char *outputs_path, const char *dataset,
                               nd_split eval_split, const char *path) {
    if (api_begin(ctx)) return ND_ERR_ARG;
    if (!data || !outputs_path || !path)
        return api_fail(ctx, ND_ERR_ARG, "nd_export_nlb: data, outputs_path and path must not be NULL");
    char name[256];
    if (!dataset) { /* the data file's base name without its extension */
        const char *p = nd_data_path(data), *s = strrchr(p, '/');
        snprintf(name, sizeof name, "%s", s ? s + 1 : p);
        char *dot = strrchr(name, '.');
        if (dot && dot != name) *dot = 0;
        if (!name[0]) snprintf(name, sizeof name, "dataset");
        dataset = name;
    }
    int es = eval_split == ND_SPLIT_VALID ? 1 : eval_split == ND_SPLIT_TEST ? 2 : 0;
    return api_end(ctx, nd_nlb_submission_write(api_lfd(data), outputs_path, dataset, es, path, &ctx->err));
}
