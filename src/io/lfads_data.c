/* Reading an LFADS / lfads-torch HDF5 file (lfads_data.h): one open nd_h5r handle, small steps, each a loop over
 * the splits: encoder data, reconstruction targets, conversion factor, truth, external inputs, trial indices,
 * behaviour and conditions; then, when the file has no validation trials, a seeded split of the train ones. */
#include "lfads_data.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../core/mem.h"
#include "../core/rng.h"
#include "h5x.h"

static const char *const SPLIT_NAME[ND_NSPLITS] = {"train", "valid", "test"};
static const char *const DIM_LABELS[3] = {"trials", "bins", "neurons"};
static const char *const EXT_LABELS[3] = {"trials", "bins", "input dimensions"};

/* the float arrays of a split (every one [n][..]) and its int arrays */
enum { F_COUNTS, F_RECON, F_TRUTH, F_EXT, F_BEH, NF };
static float **ffield(nd_lfads_split *s, int k) {
    float **f[NF] = {&s->counts, &s->recon, &s->truth, &s->ext, &s->beh};
    return f[k];
}
enum { I_INDS, I_COND, NI };
static int **ifield(nd_lfads_split *s, int k) { return k == I_INDS ? &s->inds : &s->cond; }

/* elements per trial of float array k */
static size_t finner(const nd_lfads_data *d, int k) {
    switch (k) {
    case F_COUNTS: return (size_t)d->T * (size_t)d->N;
    case F_EXT: return (size_t)d->Tr * (size_t)d->E;
    case F_BEH: return (size_t)d->Tb * (size_t)d->B;
    default: return (size_t)d->Tr * (size_t)d->Nr;
    }
}

static void split_free(nd_lfads_split *s) {
    for (int k = 0; k < NF; k++) nd_free(*ffield(s, k));
    for (int k = 0; k < NI; k++) nd_free(*ifield(s, k));
    memset(s, 0, sizeof *s);
}

void nd_lfads_data_free(nd_lfads_data *d) {
    if (!d) return;
    for (int s = 0; s < ND_NSPLITS; s++) split_free(&d->split[s]);
    memset(d, 0, sizeof *d);
    d->conversion_factor = 1.0;
}

const float *nd_lfads_recon(const nd_lfads_data *d, int split) { /* NULL recon: the targets are the data */
    if (split < 0 || split >= ND_NSPLITS) return NULL;
    const nd_lfads_split *s = &d->split[split];
    return s->recon || split == ND_TEST ? s->recon : s->counts;
}

/* ---------------------------------------------------------------- messages and value checks */
static void shape_str(char *buf, size_t cap, int rank, const size_t *dims) {
    size_t o = 0;
    o += (size_t)snprintf(buf + o, cap - o, "(");
    for (int i = 0; i < rank && o < cap; i++)
        o += (size_t)snprintf(buf + o, cap - o, i ? ", %zu" : "%zu", dims[i]);
    if (rank == 1 && o < cap) o += (size_t)snprintf(buf + o, cap - o, ",");
    if (o < cap) snprintf(buf + o, cap - o, ")");
}

/* "shape (..) does not match 'ref' (..) in X" where X lists the differing dims among those in mask */
static nd_status shape_mismatch(const char *path, const char *name, const size_t *dims, int rank, const char *ref,
                                const size_t *rdims, int mask, const char *const labels[3], nd_error *err) {
    char s1[256], s2[256], what[128] = "";
    shape_str(s1, sizeof s1, rank, dims);
    shape_str(s2, sizeof s2, 3, rdims);
    int k = 0;
    for (int i = 0; i < 3; i++) {
        if (!(mask & (1 << i)) || (i < rank && dims[i] == rdims[i])) continue;
        strncat(what, k ? " and " : "", sizeof what - strlen(what) - 1);
        strncat(what, labels[i], sizeof what - strlen(what) - 1);
        k++;
    }
    return nd_fail(err, ND_ERR_FORMAT, "%s: dataset '%s': shape %s does not match '%s' %s%s%s", path, name, s1, ref,
                   s2, k ? " in " : "", what);
}

enum { VAL_COUNTS, VAL_RATES, VAL_REAL, VAL_NONNEG };

/* Finite everywhere; counts: whole numbers >= 0; rates, non-negative data: >= 0. x has shape [d0][d1][d2]. */
static nd_status check_values(const char *path, const char *name, const float *x, const size_t *dims, int kind,
                              nd_error *err) {
    size_t n = dims[0] * dims[1] * dims[2];
    for (size_t i = 0; i < n; i++) {
        float v = x[i];
        const char *bad = NULL;
        if (isnan(v)) bad = "is NaN";
        else if (isinf(v)) bad = "is infinite (or beyond float range)";
        else if (kind == VAL_COUNTS && v < 0) bad = "is negative (spike counts must be >= 0)";
        else if (kind == VAL_COUNTS && v != floorf(v)) bad = "is not an integer (spike counts must be whole numbers)";
        else if (kind == VAL_RATES && v < 0) bad = "is a negative rate";
        else if (kind == VAL_NONNEG && v < 0) bad = "is negative (the data must be >= 0)";
        if (bad) {
            size_t a = i / (dims[1] * dims[2]), b = (i / dims[2]) % dims[1], c = i % dims[2];
            if (!isfinite(v))
                return nd_fail(err, ND_ERR_FORMAT, "%s: dataset '%s': element (%zu, %zu, %zu) %s", path, name, a, b,
                               c, bad);
            return nd_fail(err, ND_ERR_FORMAT, "%s: dataset '%s': element (%zu, %zu, %zu) = %g %s", path, name, a,
                           b, c, (double)v, bad);
        }
    }
    return ND_OK;
}

/* ---------------------------------------------------------------- the reader */
typedef struct {
    nd_h5r *h;
    const char *path;
    nd_lfads_data *d;
    nd_error *err;
    int torch;                     /* lfads-torch names (*_encod_data, *_recon_data, a test split) */
    const char *enc[ND_NSPLITS];   /* each split's encoder data dataset (test: NULL unless torch) */
    const char *rec[ND_NSPLITS];   /* each split's reconstruction targets dataset, when read */
    size_t n[ND_NSPLITS];          /* trials per split in the file (0: split absent) */
} reader;

/* "<split>_<what>" into buf */
static const char *dsname(char *buf, size_t cap, int s, const char *what) {
    snprintf(buf, cap, "%s_%s", SPLIT_NAME[s], what);
    return buf;
}

static int has(reader *r, const char *name) { return nd_h5r_kind(r->h, name) == ND_H5R_DATASET; }

/* a rank-3 float dataset; on failure *x is NULL */
typedef struct {
    float *x;
    int rank;
    size_t dims[ND_H5R_MAX_RANK];
} farr;

static nd_status read3(reader *r, const char *name, farr *a) {
    nd_status st = nd_h5r_read_float(r->h, name, &a->x, &a->rank, a->dims, r->err);
    if (!st && a->rank != 3) {
        char s[256];
        shape_str(s, sizeof s, a->rank, a->dims);
        st = nd_fail(r->err, ND_ERR_FORMAT, "%s: dataset '%s': shape %s has rank %d, expected 3 (trials x time x %s)",
                     r->path, name, s, a->rank, strstr(name, "ext_input") ? "inputs" : "neurons");
    }
    if (st) {
        nd_free(a->x);
        a->x = NULL;
    }
    return st;
}

/* a data dataset (*_data, *_encod_data, *_recon_data): rank 3, non-empty, values as d->value_kind allows */
static nd_status read_counts(reader *r, const char *name, farr *a) {
    nd_status st = read3(r, name, a);
    if (st) return st;
    char s[256];
    shape_str(s, sizeof s, 3, a->dims);
    const char *path = r->path;
    if (a->dims[0] == 0)
        st = nd_fail(r->err, ND_ERR_FORMAT, "%s: dataset '%s': shape %s has zero trials", path, name, s);
    else if (a->dims[1] == 0 || a->dims[2] == 0)
        st = nd_fail(r->err, ND_ERR_FORMAT, "%s: dataset '%s': shape %s has zero %s", path, name, s,
                     a->dims[1] == 0 ? "time bins" : "neurons");
    else if (a->dims[0] > (size_t)1 << 30 || a->dims[1] > (size_t)1 << 30 || a->dims[2] > (size_t)1 << 30)
        st = nd_fail(r->err, ND_ERR_FORMAT, "%s: dataset '%s': shape %s is too large", path, name, s);
    else st = check_values(path, name, a->x, a->dims, r->d->value_kind, r->err);
    if (st) {
        nd_free(a->x);
        a->x = NULL;
    }
    return st;
}

/* 1-D integers (or [1][n] / [n][1]) of length n, e.g. trial indices or condition ids */
static nd_status read_ivec(reader *r, const char *name, const char *dname, size_t n, const char *what, int **out) {
    int rank;
    size_t dims[ND_H5R_MAX_RANK];
    int *x = NULL;
    nd_status st = nd_h5r_read_int(r->h, name, &x, &rank, dims, r->err);
    if (st) return st;
    size_t len = 1;
    for (int i = 0; i < rank; i++) len *= dims[i];
    int vector_like = rank == 1 || (rank == 2 && (dims[0] == 1 || dims[1] == 1));
    if (!vector_like || len != n) {
        char s[256];
        shape_str(s, sizeof s, rank, dims);
        nd_free(x);
        if (!vector_like)
            return nd_fail(r->err, ND_ERR_FORMAT, "%s: dataset '%s': shape %s, expected a 1-D array of %zu %s",
                           r->path, name, s, n, what);
        return nd_fail(r->err, ND_ERR_FORMAT, "%s: dataset '%s': length %zu does not match %zu trials in '%s'",
                       r->path, name, len, n, dname);
    }
    *out = x;
    return ND_OK;
}

/* the splits whose optional datasets are read: train, valid when the file has it, test when it has one */
static int present(const reader *r, int s) { return r->n[s] > 0; }

/* --- step 1: which names, and each split's encoder data --- */
static nd_status read_encoders(reader *r) {
    nd_lfads_data *d = r->d;
    if (has(r, "train_data")) {
        r->enc[ND_TRAIN] = "train_data";
        r->enc[ND_VALID] = "valid_data";
    } else if (has(r, "train_encod_data")) {
        r->torch = 1;
        r->enc[ND_TRAIN] = "train_encod_data";
        r->enc[ND_VALID] = "valid_encod_data";
        r->enc[ND_TEST] = "test_encod_data";
    } else {
        return nd_fail(r->err, ND_ERR_FORMAT,
                       "%s: dataset 'train_data': missing (neither 'train_data' nor lfads-torch 'train_encod_data' is "
                       "in the file)",
                       r->path);
    }
    for (int s = 0; s < ND_NSPLITS; s++) {
        const char *name = r->enc[s];
        if (!name || (s > ND_TRAIN && !has(r, name))) continue;
        farr a = {0};
        nd_status st = read_counts(r, name, &a);
        if (st) return st;
        d->split[s].counts = a.x;
        if (s == ND_TRAIN) {
            d->T = (int)a.dims[1];
            d->N = (int)a.dims[2];
        } else if (a.dims[1] != (size_t)d->T || a.dims[2] != (size_t)d->N) {
            size_t train[3] = {r->n[ND_TRAIN], (size_t)d->T, (size_t)d->N};
            return shape_mismatch(r->path, name, a.dims, 3, r->enc[ND_TRAIN], train, 6, DIM_LABELS, r->err);
        }
        r->n[s] = a.dims[0];
        d->split[s].n = (int)a.dims[0];
    }
    d->valid_from_file = present(r, ND_VALID);
    d->Tr = d->T;
    d->Nr = d->N;
    return ND_OK;
}

/* --- step 2 (lfads-torch): reconstruction targets; the train split's set Tr and Nr --- */
static nd_status recon_shape(reader *r, int s, const char *name, const size_t *dims) {
    const nd_lfads_data *d = r->d;
    size_t ed[3] = {r->n[s], (size_t)d->T, (size_t)d->N};
    if (s == ND_TEST) {
        size_t want[3] = {r->n[s], (size_t)d->Tr, (size_t)d->Nr};
        if (dims[0] != want[0] || dims[1] != want[1] || dims[2] != want[2])
            return shape_mismatch(r->path, name, dims, 3, "train_recon_data (bins, neurons) / test_encod_data (trials)",
                                  want, 7, DIM_LABELS, r->err);
        return ND_OK;
    }
    const char *problem = NULL;
    if (dims[0] != ed[0]) problem = "a different number of trials than";
    else if (dims[1] < ed[1]) problem = "fewer bins than";
    else if (dims[2] < ed[2]) problem = "fewer neurons than";
    else if (s == ND_VALID && (dims[1] != (size_t)d->Tr || dims[2] != (size_t)d->Nr))
        problem = "a different number of bins or neurons than 'train_recon_data' while matching";
    if (!problem) return ND_OK;
    char s1[256], s2[256];
    shape_str(s1, sizeof s1, 3, dims);
    shape_str(s2, sizeof s2, 3, ed);
    return nd_fail(r->err, ND_ERR_FORMAT, "%s: dataset '%s': shape %s has %s '%s' %s", r->path, name, s1, problem,
                   r->enc[s], s2);
}

/* the held-in, observed part of the targets must be the encoder input */
static nd_status recon_prefix(reader *r, int s, const char *name, const float *x) {
    const nd_lfads_data *d = r->d;
    const float *e = d->split[s].counts;
    size_t Tr = (size_t)d->Tr, Nr = (size_t)d->Nr, T = (size_t)d->T, N = (size_t)d->N;
    for (size_t i = 0; i < r->n[s]; i++)
        for (size_t t = 0; t < T; t++)
            for (size_t n = 0; n < N; n++)
                if (x[(i * Tr + t) * Nr + n] != e[(i * T + t) * N + n])
                    return nd_fail(r->err, ND_ERR_FORMAT,
                                   "%s: dataset '%s': element (%zu, %zu, %zu) differs from '%s': the first bins and "
                                   "neurons of the reconstruction must be the encoder data",
                                   r->path, name, i, t, n, r->enc[s]);
    return ND_OK;
}

static nd_status read_recons(reader *r) {
    nd_lfads_data *d = r->d;
    if (!r->torch) return ND_OK;
    int have[ND_NSPLITS] = {has(r, "train_recon_data"), present(r, ND_VALID) && has(r, "valid_recon_data"), 0};
    if (present(r, ND_VALID) && have[ND_TRAIN] != have[ND_VALID])
        return nd_fail(r->err, ND_ERR_FORMAT, "%s: dataset '%s': missing although '%s' is present", r->path,
                       have[ND_TRAIN] ? "valid_recon_data" : "train_recon_data",
                       have[ND_TRAIN] ? "train_recon_data" : "valid_recon_data");
    const char *test_rn = !present(r, ND_TEST)               ? NULL
                          : has(r, "test_recon_data")        ? "test_recon_data"
                          : has(r, "test_recon_data_eval")   ? "test_recon_data_eval" : NULL;
    const char *names[ND_NSPLITS] = {"train_recon_data", "valid_recon_data", test_rn};
    have[ND_TEST] = test_rn != NULL;
    for (int s = 0; s < ND_NSPLITS; s++) {
        if (!have[s]) continue;
        farr a = {0};
        nd_status st = read_counts(r, names[s], &a);
        if (!st) st = recon_shape(r, s, names[s], a.dims);
        if (!st && s == ND_TRAIN) {
            d->Tr = (int)a.dims[1];
            d->Nr = (int)a.dims[2];
        }
        if (!st) st = recon_prefix(r, s, names[s], a.x);
        if (st) {
            nd_free(a.x);
            return st;
        }
        /* train/valid targets equal to the encoder data are not kept; a test split's always are */
        if (s != ND_TEST && d->Tr == d->T && d->Nr == d->N) {
            nd_free(a.x);
        } else {
            d->split[s].recon = a.x;
            r->rec[s] = names[s];
        }
    }
    return ND_OK;
}

/* --- step 3: conversion factor --- */
static nd_status read_conversion_factor(reader *r) {
    r->d->conversion_factor = 1.0;
    if (!has(r, "conversion_factor")) return ND_OK;
    float *cf = NULL;
    int rank;
    size_t dims[ND_H5R_MAX_RANK];
    nd_status st = nd_h5r_read_float(r->h, "conversion_factor", &cf, &rank, dims, r->err);
    if (st) return st;
    size_t n = 1;
    for (int i = 0; i < rank; i++) n *= dims[i];
    double v = n == 1 ? cf[0] : NAN;
    nd_free(cf);
    if (n != 1)
        return nd_fail(r->err, ND_ERR_FORMAT, "%s: dataset 'conversion_factor': has %zu elements, expected one number",
                       r->path, n);
    if (!(isfinite(v) && v > 0))
        return nd_fail(r->err, ND_ERR_FORMAT, "%s: dataset 'conversion_factor': %g is not a positive finite number",
                       r->path, v);
    r->d->conversion_factor = v;
    return ND_OK;
}

/* --- step 4: valid_* datasets without validation data are a mistake, not something to ignore --- */
static nd_status check_valid_orphans(reader *r) {
    static const char *const what[5] = {"truth", "ext_input", "inds", "behavior", "condition"};
    if (present(r, ND_VALID)) return ND_OK;
    for (int i = 0; i < 5; i++) {
        char name[64];
        if (has(r, dsname(name, sizeof name, ND_VALID, what[i])))
            return nd_fail(r->err, ND_ERR_FORMAT, "%s: dataset '%s': present but '%s' is missing", r->path, name,
                           r->enc[ND_VALID]);
    }
    return ND_OK;
}

/* the dataset a split's truth and inputs are checked against: its targets when kept, else its encoder data */
static const char *target_name(const reader *r, int s) { return r->rec[s] ? r->rec[s] : r->enc[s]; }

/* --- step 5: true rates [n][Tr][Nr], >= 0, in counts per bin (stored truth / conversion_factor) --- */
static nd_status read_truths(reader *r) {
    nd_lfads_data *d = r->d;
    for (int s = 0; s < ND_NSPLITS; s++) {
        char name[64];
        if (!present(r, s) || !has(r, dsname(name, sizeof name, s, "truth"))) continue;
        size_t want[3] = {r->n[s], (size_t)d->Tr, (size_t)d->Nr};
        farr a = {0};
        nd_status st = read3(r, name, &a);
        if (!st && (a.dims[0] != want[0] || a.dims[1] != want[1] || a.dims[2] != want[2]))
            st = shape_mismatch(r->path, name, a.dims, 3, target_name(r, s), want, 7, DIM_LABELS, r->err);
        if (!st) st = check_values(r->path, name, a.x, a.dims, VAL_RATES, r->err);
        if (st) {
            nd_free(a.x);
            return st;
        }
        if (d->conversion_factor != 1.0) {
            size_t n = a.dims[0] * a.dims[1] * a.dims[2];
            for (size_t i = 0; i < n; i++) a.x[i] = (float)(a.x[i] / d->conversion_factor);
        }
        d->split[s].truth = a.x;
    }
    return ND_OK;
}

/* --- step 6: external inputs [n][Tr][E], finite; in every split or in none (an (n, T, 0) one is none) --- */
static nd_status read_exts(reader *r) {
    nd_lfads_data *d = r->d;
    int train_has = has(r, "train_ext_input");
    size_t train_dims[3] = {0, 0, 0};
    for (int s = 0; s < ND_NSPLITS; s++) {
        char name[64];
        if (!present(r, s)) continue;
        int here = has(r, dsname(name, sizeof name, s, "ext_input"));
        /* a test split may lack inputs that the train split has with zero dimensions */
        if (!here && train_has && (s == ND_VALID || d->E > 0))
            return nd_fail(r->err, ND_ERR_FORMAT, "%s: dataset '%s': missing although 'train_ext_input' is present",
                           r->path, name);
        if (here && !train_has)
            return nd_fail(r->err, ND_ERR_FORMAT, "%s: dataset '%s': present but 'train_ext_input' is missing",
                           r->path, name);
        if (!here) continue;
        farr a = {0};
        nd_status st = read3(r, name, &a);
        size_t target[3] = {r->n[s], (size_t)d->Tr, (size_t)d->Nr}; /* the shape of target_name(r, s) */
        if (!st && (a.dims[0] != target[0] || a.dims[1] != target[1]))
            st = shape_mismatch(r->path, name, a.dims, 3, target_name(r, s), target, 3, EXT_LABELS, r->err);
        if (!st) st = check_values(r->path, name, a.x, a.dims, VAL_REAL, r->err);
        if (!st && s > ND_TRAIN && a.dims[2] != (size_t)d->E)
            st = shape_mismatch(r->path, name, a.dims, 3, "train_ext_input", train_dims, 4, EXT_LABELS, r->err);
        if (st) {
            nd_free(a.x);
            return st;
        }
        d->split[s].ext = a.x;
        if (s == ND_TRAIN) {
            d->E = (int)a.dims[2];
            memcpy(train_dims, a.dims, sizeof train_dims);
        }
    }
    for (int s = 0; s < ND_NSPLITS && d->E == 0; s++) { /* an (n, T, 0) input is no input */
        nd_free(d->split[s].ext);
        d->split[s].ext = NULL;
    }
    return ND_OK;
}

/* --- step 7: original trial indices --- */
static nd_status read_inds(reader *r) {
    for (int s = 0; s < ND_NSPLITS; s++) {
        char name[64];
        if (!present(r, s) || !has(r, dsname(name, sizeof name, s, "inds"))) continue;
        nd_status st = read_ivec(r, name, r->enc[s], r->n[s], "trial indices", &r->d->split[s].inds);
        if (st) return st;
    }
    return ND_OK;
}

/* {split}_behavior: [n][T or Tr][B], finite; B and Tb must agree with what an earlier split set (d->B > 0) */
static nd_status read_beh(reader *r, int s, const char *name) {
    nd_lfads_data *d = r->d;
    farr a = {0};
    nd_status st = read3(r, name, &a);
    if (st) return st;
    char sh[256];
    shape_str(sh, sizeof sh, 3, a.dims);
    const char *path = r->path;
    if (a.dims[0] != r->n[s])
        st = nd_fail(r->err, ND_ERR_FORMAT, "%s: dataset '%s': shape %s has %zu trials but '%s' has %zu", path, name,
                     sh, a.dims[0], r->enc[s], r->n[s]);
    else if (a.dims[1] != (size_t)d->T && a.dims[1] != (size_t)d->Tr)
        st = nd_fail(r->err, ND_ERR_FORMAT,
                     "%s: dataset '%s': shape %s has %zu bins, expected %d (the observed bins)%s", path, name, sh,
                     a.dims[1], d->T, d->Tr != d->T ? " or the reconstruction's bins" : "");
    else if (a.dims[2] == 0)
        st = nd_fail(r->err, ND_ERR_FORMAT, "%s: dataset '%s': shape %s has no behaviour dimensions", path, name, sh);
    else if (d->B > 0 && (a.dims[2] != (size_t)d->B || a.dims[1] != (size_t)d->Tb))
        st = nd_fail(r->err, ND_ERR_FORMAT,
                     "%s: dataset '%s': shape %s does not match the train split's (%d bins, %d dimensions)", path, name,
                     sh, d->Tb, d->B);
    if (!st) st = check_values(path, name, a.x, a.dims, VAL_REAL, r->err);
    if (st) {
        nd_free(a.x);
        return st;
    }
    d->split[s].beh = a.x;
    d->B = (int)a.dims[2];
    d->Tb = (int)a.dims[1];
    return ND_OK;
}

/* --- step 8: behaviour and condition ids of every split present --- */
static nd_status read_beh_cond(reader *r) {
    nd_lfads_data *d = r->d;
    for (int s = 0; s < ND_NSPLITS; s++) {
        char name[64];
        if (!present(r, s)) continue;
        if (has(r, dsname(name, sizeof name, s, "behavior"))) {
            if (s > ND_TRAIN && !d->split[ND_TRAIN].beh)
                return nd_fail(r->err, ND_ERR_FORMAT, "%s: dataset '%s': present but 'train_behavior' is missing",
                               r->path, name);
            nd_status st = read_beh(r, s, name);
            if (st) return st;
        } else if (s == ND_VALID && d->split[ND_TRAIN].beh) { /* a missing test_behavior: hidden test targets */
            return nd_fail(r->err, ND_ERR_FORMAT, "%s: dataset '%s': missing although 'train_behavior' is present",
                           r->path, name);
        }
        if (has(r, dsname(name, sizeof name, s, "condition"))) {
            nd_status st = read_ivec(r, name, r->enc[s], r->n[s], "condition ids", &d->split[s].cond);
            if (st) return st;
        }
    }
    return ND_OK;
}

/* ---------------------------------------------------------------- the seeded split of train */
int nd_lfads_valid_mask(int n, uint64_t seed, double valid_fraction, unsigned char *is_valid) {
    if (n < 2 || !(valid_fraction > 0 && valid_fraction < 1)) return -1;
    long nv = lround((double)n * valid_fraction);
    if (nv < 1) nv = 1;
    if (nv > n - 1) nv = n - 1;
    int *perm = malloc((size_t)n * sizeof *perm);
    if (!perm) return -1;
    for (int i = 0; i < n; i++) perm[i] = i;
    nd_rng r;
    nd_rng_seed(&r, seed);
    nd_rng_shuffle(&r, perm, n);
    memset(is_valid, 0, (size_t)n);
    for (long i = 0; i < nv; i++) is_valid[perm[i]] = 1;
    free(perm);
    return (int)nv;
}

/* rows of src ([n][inner]) whose mask == want, in order, into a new array (elsize bytes per element) */
static void *gather(const void *src, size_t inner, size_t elsize, const unsigned char *mask, int n, int want,
                    int count) {
    size_t row = inner * elsize;
    char *out = nd_alloc((size_t)count * row);
    if (!out) return NULL;
    size_t k = 0;
    for (int i = 0; i < n; i++)
        if (mask[i] == want) memcpy(out + (k++) * row, (const char *)src + (size_t)i * row, row);
    return out;
}

/* --- step 9: no validation trials in the file: split the train ones (their original indices kept) --- */
static nd_status split_off_valid(reader *r, uint64_t split_seed, double valid_fraction) {
    nd_lfads_data *d = r->d;
    nd_lfads_split *tr = &d->split[ND_TRAIN];
    int n = tr->n;
    if (!(valid_fraction > 0 && valid_fraction < 1))
        return nd_fail(r->err, ND_ERR_ARG,
                       "%s: no dataset '%s' and valid_fraction %g is not in (0, 1): cannot make a validation split",
                       r->path, r->enc[ND_VALID], valid_fraction);
    if (n < 2)
        return nd_fail(r->err, ND_ERR_FORMAT,
                       "%s: dataset '%s': only %d trial and no '%s': cannot make a validation split", r->path,
                       r->enc[ND_TRAIN], n, r->enc[ND_VALID]);
    unsigned char *mask = malloc((size_t)n);
    if (!mask) return nd_fail(r->err, ND_ERR_NOMEM, "%s: out of memory splitting trials", r->path);
    int nv = nd_lfads_valid_mask(n, split_seed, valid_fraction, mask);
    nd_lfads_split side[2] = {{0}, {0}}; /* [0]: the trials that stay in train, [1]: valid */
    side[0].n = n - nv;
    side[1].n = nv;
    int *orig = nd_alloc((size_t)n * sizeof(int)); /* every trial's original index */
    int ok = nv > 0 && orig;
    for (int i = 0; ok && i < n; i++) orig[i] = tr->inds ? tr->inds[i] : i;
    for (int v = 0; ok && v < 2; v++) {
        for (int k = 0; k < NF && ok; k++)
            if (*ffield(tr, k))
                ok = (*ffield(&side[v], k) = gather(*ffield(tr, k), finner(d, k), sizeof(float), mask, n, v,
                                                    side[v].n)) != NULL;
        ok = ok && (side[v].inds = gather(orig, 1, sizeof(int), mask, n, v, side[v].n));
        if (ok && tr->cond) ok = (side[v].cond = gather(tr->cond, 1, sizeof(int), mask, n, v, side[v].n)) != NULL;
    }
    free(mask);
    nd_free(orig);
    if (!ok) {
        split_free(&side[0]);
        split_free(&side[1]);
        return nd_fail(r->err, ND_ERR_NOMEM, "%s: out of memory splitting trials", r->path);
    }
    split_free(tr);
    d->split[ND_TRAIN] = side[0];
    d->split[ND_VALID] = side[1];
    return ND_OK;
}

static nd_status read_all(reader *r, uint64_t split_seed, double valid_fraction) {
    nd_status st = read_encoders(r);
    if (!st) st = read_recons(r);
    if (!st) st = read_conversion_factor(r);
    if (!st) st = check_valid_orphans(r);
    if (!st) st = read_truths(r);
    if (!st) st = read_exts(r);
    if (!st) st = read_inds(r);
    if (!st) st = read_beh_cond(r);
    if (!st && !r->d->valid_from_file) st = split_off_valid(r, split_seed, valid_fraction);
    return st;
}

nd_status nd_lfads_data_read(const char *path, uint64_t split_seed, double valid_fraction, nd_lfads_data *d,
                             nd_error *err) {
    return nd_lfads_data_read_values(path, split_seed, valid_fraction, ND_DATA_COUNTS, d, err);
}

nd_status nd_lfads_data_read_values(const char *path, uint64_t split_seed, double valid_fraction, int values,
                                    nd_lfads_data *d, nd_error *err) {
    if (!d) return nd_fail(err, ND_ERR_ARG, "nd_lfads_data_read: NULL output");
    memset(d, 0, sizeof *d);
    d->conversion_factor = 1.0;
    d->value_kind = values == ND_DATA_REAL ? VAL_REAL : values == ND_DATA_NONNEG ? VAL_NONNEG : VAL_COUNTS;
    if (!path || !*path) return nd_fail(err, ND_ERR_ARG, "nd_lfads_data_read: empty file name");
    if (strlen(path) >= sizeof d->path)
        return nd_fail(err, ND_ERR_ARG, "nd_lfads_data_read: file name longer than %zu characters", sizeof d->path - 1);
    snprintf(d->path, sizeof d->path, "%s", path);
    reader r = {.path = d->path, .d = d, .err = err};
    nd_status st = nd_h5r_open(path, &r.h, err);
    if (!st) st = read_all(&r, split_seed, valid_fraction);
    nd_h5r_close(r.h);
    if (st) nd_lfads_data_free(d);
    return st;
}
