/* `neurodyn decode` end to end (decode_file.h). */
#include "decode_file.h"
#include "data.h"
#include "../core/mem.h"
#include "../io/h5.h"
#include <math.h>
#include <stdio.h>
#include <string.h>

void nd_decode_file_opts_default(nd_decode_file_opts *o) {
    memset(o, 0, sizeof *o);
    o->dataset = "output_params";
    o->classify = -1;
    o->alpha_log10_lo = -2, o->alpha_log10_hi = 6, o->n_alphas = 17;
    o->folds = 5;
    o->shuffle = 1;
}

void nd_decode_file_result_free(nd_decode_file_result *r) {
    nd_free(r->alphas);
    nd_decode_result_free(&r->r);
    memset(r, 0, sizeof *r);
}

/* reads {split}_name of path as trials x features (rank 1, 2 or 3; rank 3 optionally averaged into K time chunks
 * by nd_decode_features); n, p out */
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
    size_t K = (size_t)nd_decode_chunks((int)T, chunks);
    *X = nd_alloc(sizeof(double) * trials * K * U);
    if (!*X) {
        nd_free(a);
        return nd_fail(err, ND_ERR_NOMEM, "%s: dataset '%s': out of memory", path, ds);
    }
    *p = nd_decode_features(a, (int)trials, (int)T, (int)U, chunks, *X);
    *n = (int)trials;
    nd_free(a);
    return ND_OK;
}

/* a FILE:DATASET target: one value (or row) per original trial, picked with the output's {split}_inds; *label gets
 * the spec */
static nd_status read_target_orig(const char *spec, const char *out, const char *data, const char *split, int n,
                                  double **Y, int *q, nd_error *err) {
    char file[1024], ds[256], name[300];
    nd_status st;
    if ((st = nd_split_spec(spec, file, sizeof file, ds, sizeof ds, err))) return st;
    snprintf(name, sizeof name, "%s_inds", split);
    const char *src = nd_h5_exists(out, name) ? out : data && nd_h5_exists(data, name) ? data : NULL;
    if (!src)
        return nd_fail(err, ND_ERR_FORMAT, "%s: dataset '%s': missing; a FILE:DATASET target needs the original "
                                           "trial indices", out, name);
    int *inds = NULL, ir = 0, rank = 0;
    size_t id[ND_H5_MAX_RANK], d[ND_H5_MAX_RANK];
    float *a = NULL;
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
    nd_free(a);
    return st;
}

/* the target of one split: n rows of q values */
static nd_status read_target(const char *spec, const char *out, const char *data, const char *split, int n, double **Y,
                             int *q, nd_error *err) {
    char label[1024], name[300];
    nd_status st;
    if (strrchr(spec, ':')) {
        st = read_target_orig(spec, out, data, split, n, Y, q, err);
        snprintf(label, sizeof label, "%s", spec);
    } else {
        snprintf(name, sizeof name, "%s_%s", split, spec);
        const char *src = data && nd_h5_exists(data, name) ? data : nd_h5_exists(out, name) ? out : NULL;
        if (!src)
            return nd_fail(err, ND_ERR_FORMAT, "%s: dataset '%s': missing (give --data DATA.h5 holding it)",
                           data ? data : out, name);
        int rank = 0;
        size_t d[ND_H5_MAX_RANK];
        float *a = NULL;
        if ((st = nd_h5_read_float(src, name, &a, &rank, d, err))) return st;
        snprintf(label, sizeof label, "%s:%s", src, name);
        if (rank < 1 || rank > 2 || d[0] != (size_t)n) {
            st = nd_fail(err, ND_ERR_FORMAT, "%s: dataset '%s': shape has %zu trials (rank %d), but the features have %d",
                         src, name, d[0], rank, n);
        } else {
            *q = rank == 2 ? (int)d[1] : 1;
            *Y = nd_alloc(sizeof(double) * (size_t)n * *q);
            if (!*Y) st = nd_fail(err, ND_ERR_NOMEM, "out of memory");
            for (size_t i = 0; !st && i < (size_t)n * *q; i++) (*Y)[i] = a[i];
        }
        nd_free(a);
    }
    if (st) return st;
    for (size_t i = 0; i < (size_t)n * *q; i++)
        if (!isfinite((*Y)[i])) {
            nd_free(*Y);
            *Y = NULL;
            return nd_fail(err, ND_ERR_FORMAT, "%s: target value %zu is not finite", label, i);
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

nd_status nd_decode_file(const nd_decode_file_opts *o, nd_decode_file_result *r, nd_error *err) {
    memset(r, 0, sizeof *r);
    const char *out = o->out, *data = o->data, *split = o->split, *ds = o->dataset;
    if (!out || !o->target || !*o->target || !ds || !*ds || strlen(ds) > 200 || o->time_bins < 0 ||
        (split && strcmp(split, "valid") && strcmp(split, "test")))
        return nd_fail(err, ND_ERR_ARG, "decode: need OUT.h5, a target, a dataset name (at most 200 characters), "
                                        "time bins >= 0 and split valid or test");
    if (nd_decode_alpha_grid(o->alpha_log10_lo, o->alpha_log10_hi, o->n_alphas, NULL))
        return nd_fail(err, ND_ERR_ARG, "decode: alphas 10^lo .. 10^hi need lo <= hi within +-300 and 1..1000 values");
    r->classify = o->classify < 0 ? !strcmp(o->target, "condition") : o->classify != 0;
    if (!split) {
        split = has_test_split(out, data, ds, o->target) ? "test" : "valid";
        r->split_why = split[0] == 't' ? "default: the test trials have features and targets"
                                       : "default: no test features or targets";
    }
    snprintf(r->split, sizeof r->split, "%s", split);
    int ntr = 0, nte = 0, p = 0, p2 = 0, q = 0, q2 = 0;
    double *Xtr = NULL, *Xte = NULL, *Ytr = NULL, *Yte = NULL;
    nd_status st = ND_OK;
    r->n_alphas = o->n_alphas;
    r->alphas = nd_alloc(sizeof(double) * o->n_alphas);
    if (!r->alphas) { st = nd_fail(err, ND_ERR_NOMEM, "out of memory"); goto done; }
    nd_decode_alpha_grid(o->alpha_log10_lo, o->alpha_log10_hi, o->n_alphas, r->alphas);
    if ((st = nd_h5_check_file(out, err)) || (data && (st = nd_h5_check_file(data, err))) ||
        (st = read_features(out, "train", ds, o->time_bins, &Xtr, &ntr, &p, err)) ||
        (st = read_features(out, split, ds, o->time_bins, &Xte, &nte, &p2, err)) ||
        (st = read_target(o->target, out, data, "train", ntr, &Ytr, &q, err)) ||
        (st = read_target(o->target, out, data, split, nte, &Yte, &q2, err)))
        goto done;
    if (p != p2 || q != q2) {
        st = nd_fail(err, ND_ERR_FORMAT, "%s: train and %s splits differ in features (%d, %d) or targets (%d, %d)", out,
                     split, p, p2, q, q2);
        goto done;
    }
    if (r->classify && q != 1) {
        st = nd_fail(err, ND_ERR_FORMAT, "%s: a classification needs one label per trial, the target has %d columns",
                     o->target, q);
        goto done;
    }
    if (o->folds > ntr) {
        st = nd_fail(err, ND_ERR_ARG, "%s: --folds %d is more than the %d train trials", out, o->folds, ntr);
        goto done;
    }
    nd_decode_opts d = {r->alphas, o->n_alphas, o->folds, r->classify, o->shuffle ? 1 : 0, o->seed};
    if ((st = nd_decode(Xtr, Ytr, ntr, Xte, Yte, nte, p, q, &d, &r->r, err))) {
        nd_fail_prefix(err, st, out);
        goto done;
    }
    r->n_train = ntr, r->n_test = nte, r->n_features = p, r->q = q;
    r->best_cv = r->r.cv_score[0];
    for (int a = 1; a < o->n_alphas; a++)
        if (r->r.cv_score[a] > r->best_cv) r->best_cv = r->r.cv_score[a];
    r->alpha_at_edge = r->r.best_alpha == r->alphas[0] || r->r.best_alpha == r->alphas[o->n_alphas - 1];
done:
    nd_free(Xtr); nd_free(Xte); nd_free(Ytr); nd_free(Yte);
    if (st) nd_decode_file_result_free(r);
    return st;
}
