#include "lfads_data.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../core/mem.h"
#include "../core/rng.h"
#include "h5.h"

typedef struct {
    float *x;
    int rank;
    size_t dims[ND_H5_MAX_RANK];
} farr;

static void shape_str(char *buf, size_t cap, int rank, const size_t *dims) {
    size_t o = 0;
    o += (size_t)snprintf(buf + o, cap - o, "(");
    for (int i = 0; i < rank && o < cap; i++)
        o += (size_t)snprintf(buf + o, cap - o, i ? ", %zu" : "%zu", dims[i]);
    if (rank == 1 && o < cap) o += (size_t)snprintf(buf + o, cap - o, ",");
    if (o < cap) snprintf(buf + o, cap - o, ")");
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

static nd_status read3(const char *path, const char *name, farr *a, nd_error *err) {
    nd_status st = nd_h5_read_float(path, name, &a->x, &a->rank, a->dims, err);
    if (st) return st;
    if (a->rank != 3) {
        char s[256];
        shape_str(s, sizeof s, a->rank, a->dims);
        return nd_fail(err, ND_ERR_FORMAT, "%s: dataset '%s': shape %s has rank %d, expected 3 (trials x time x %s)",
                       path, name, s, a->rank, strstr(name, "ext_input") ? "inputs" : "neurons");
    }
    return ND_OK;
}

/* `data` dataset (counts): rank 3, non-empty, valid counts (kind VAL_COUNTS), or non-negative reals
 * (VAL_NONNEG) or any finite reals (VAL_REAL) for a reconstruction model other than Poisson */
static nd_status read_counts(const char *path, const char *name, farr *a, int kind, nd_error *err) {
    nd_status st = read3(path, name, a, err);
    if (st) return st;
    char s[256];
    shape_str(s, sizeof s, 3, a->dims);
    if (a->dims[0] == 0) return nd_fail(err, ND_ERR_FORMAT, "%s: dataset '%s': shape %s has zero trials", path, name, s);
    if (a->dims[1] == 0 || a->dims[2] == 0)
        return nd_fail(err, ND_ERR_FORMAT, "%s: dataset '%s': shape %s has zero %s", path, name, s,
                       a->dims[1] == 0 ? "time bins" : "neurons");
    if (a->dims[0] > (size_t)1 << 30 || a->dims[1] > (size_t)1 << 30 || a->dims[2] > (size_t)1 << 30)
        return nd_fail(err, ND_ERR_FORMAT, "%s: dataset '%s': shape %s is too large", path, name, s);
    return check_values(path, name, a->x, a->dims, kind, err);
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

static const char *const DIM_LABELS[3] = {"trials", "bins", "neurons"};

int nd_lfads_split(int n, uint64_t seed, double valid_fraction, unsigned char *is_valid) {
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

/* rows of src ([n][inner]) whose mask == want, in order, into a new array */
static float *gather_f(const float *src, size_t inner, const unsigned char *mask, int n, int want, int count) {
    float *out = nd_alloc((size_t)count * inner * sizeof(float));
    if (!out) return NULL;
    size_t k = 0;
    for (int i = 0; i < n; i++)
        if (mask[i] == want) memcpy(out + (k++) * inner, src + (size_t)i * inner, inner * sizeof(float));
    return out;
}

void nd_lfads_data_free(nd_lfads_data *d) {
    if (!d) return;
    nd_free(d->train);
    nd_free(d->valid);
    nd_free(d->train_truth);
    nd_free(d->valid_truth);
    nd_free(d->train_ext);
    nd_free(d->valid_ext);
    nd_free(d->train_inds);
    nd_free(d->valid_inds);
    nd_free(d->train_recon);
    nd_free(d->valid_recon);
    nd_free(d->test);
    nd_free(d->test_recon);
    nd_free(d->test_truth);
    nd_free(d->test_ext);
    nd_free(d->test_inds);
    nd_free(d->train_beh);
    nd_free(d->valid_beh);
    nd_free(d->test_beh);
    nd_free(d->train_cond);
    nd_free(d->valid_cond);
    nd_free(d->test_cond);
    memset(d, 0, sizeof *d);
    d->conversion_factor = 1.0;
}

/* read one optional 'truth' dataset for a split; divides by cf */
static nd_status read_truth(const char *path, const char *name, const char *dname, const size_t *ddims, double cf,
                            float **out, nd_error *err) {
    farr a = {0};
    nd_status st = read3(path, name, &a, err);
    if (!st && (a.dims[0] != ddims[0] || a.dims[1] != ddims[1] || a.dims[2] != ddims[2]))
        st = shape_mismatch(path, name, a.dims, 3, dname, ddims, 7, DIM_LABELS, err);
    if (!st) st = check_values(path, name, a.x, a.dims, VAL_RATES, err);
    if (st) {
        nd_free(a.x);
        return st;
    }
    if (cf != 1.0) {
        size_t n = a.dims[0] * a.dims[1] * a.dims[2];
        for (size_t i = 0; i < n; i++) a.x[i] = (float)(a.x[i] / cf);
    }
    *out = a.x;
    return ND_OK;
}

static const char *const EXT_LABELS[3] = {"trials", "bins", "input dimensions"};

static nd_status read_ext(const char *path, const char *name, const char *dname, const size_t *ddims, float **out,
                          int *E, nd_error *err) {
    farr a = {0};
    nd_status st = read3(path, name, &a, err);
    if (!st && (a.dims[0] != ddims[0] || a.dims[1] != ddims[1]))
        st = shape_mismatch(path, name, a.dims, 3, dname, ddims, 3, EXT_LABELS, err);
    if (!st) st = check_values(path, name, a.x, a.dims, VAL_REAL, err);
    if (st) {
        nd_free(a.x);
        return st;
    }
    *out = a.x;
    *E = (int)a.dims[2];
    return ND_OK;
}

static nd_status read_ivec(const char *path, const char *name, const char *dname, size_t n, const char *what,
                           int **out, nd_error *err) {
    int rank;
    size_t dims[ND_H5_MAX_RANK];
    int *x = NULL;
    nd_status st = nd_h5_read_int(path, name, &x, &rank, dims, err);
    if (st) return st;
    size_t len = 1;
    for (int i = 0; i < rank; i++) len *= dims[i];
    int vector_like = rank == 1 || (rank == 2 && (dims[0] == 1 || dims[1] == 1));
    if (!vector_like || len != n) {
        char s[256];
        shape_str(s, sizeof s, rank, dims);
        nd_free(x);
        if (!vector_like)
            return nd_fail(err, ND_ERR_FORMAT, "%s: dataset '%s': shape %s, expected a 1-D array of %zu %s", path,
                           name, s, n, what);
        return nd_fail(err, ND_ERR_FORMAT, "%s: dataset '%s': length %zu does not match %zu trials in '%s'", path,
                       name, len, n, dname);
    }
    *out = x;
    return ND_OK;
}

static nd_status read_inds(const char *path, const char *name, const char *dname, size_t n, int **out,
                           nd_error *err) {
    return read_ivec(path, name, dname, n, "trial indices", out, err);
}

/* {split}_behavior: [n][T or Tr][B], finite; B must agree with what was read before (*B > 0) */
static nd_status read_beh(const char *path, const char *name, const char *dname, size_t n, int T, int Tr,
                          float **out, int *B, int *Tb, nd_error *err) {
    farr a = {0};
    nd_status st = read3(path, name, &a, err);
    char s[256];
    if (!st) shape_str(s, sizeof s, 3, a.dims);
    if (!st && a.dims[0] != n)
        st = nd_fail(err, ND_ERR_FORMAT, "%s: dataset '%s': shape %s has %zu trials but '%s' has %zu", path, name, s,
                     a.dims[0], dname, n);
    else if (!st && a.dims[1] != (size_t)T && a.dims[1] != (size_t)Tr)
        st = nd_fail(err, ND_ERR_FORMAT, "%s: dataset '%s': shape %s has %zu bins, expected %d (the observed bins)%s",
                     path, name, s, a.dims[1], T, Tr != T ? " or the reconstruction's bins" : "");
    else if (!st && a.dims[2] == 0)
        st = nd_fail(err, ND_ERR_FORMAT, "%s: dataset '%s': shape %s has no behaviour dimensions", path, name, s);
    else if (!st && *B > 0 && (a.dims[2] != (size_t)*B || a.dims[1] != (size_t)*Tb))
        st = nd_fail(err, ND_ERR_FORMAT, "%s: dataset '%s': shape %s does not match the train split's (%d bins, %d "
                     "dimensions)", path, name, s, *Tb, *B);
    if (!st) st = check_values(path, name, a.x, a.dims, VAL_REAL, err);
    if (st) {
        nd_free(a.x);
        return st;
    }
    *out = a.x;
    *B = (int)a.dims[2];
    *Tb = (int)a.dims[1];
    return ND_OK;
}

static nd_status read_test(const char *path, nd_lfads_data *d, nd_error *err) {
    const char *en = "test_encod_data";
    farr te = {0};
    nd_status st = read_counts(path, en, &te, d->value_kind, err);
    d->test = te.x;
    if (st) return st;
    if (te.dims[1] != (size_t)d->T || te.dims[2] != (size_t)d->N) {
        size_t ref[3] = {te.dims[0], (size_t)d->T, (size_t)d->N};
        return shape_mismatch(path, en, te.dims, 3, "train_encod_data", ref, 6, DIM_LABELS, err);
    }
    d->n_test = (int)te.dims[0];
    size_t rd[3] = {te.dims[0], (size_t)d->Tr, (size_t)d->Nr};
    const char *rn = nd_h5_exists(path, "test_recon_data") ? "test_recon_data"
                     : nd_h5_exists(path, "test_recon_data_eval") ? "test_recon_data_eval" : NULL;
    if (rn) {
        farr r = {0};
        st = read_counts(path, rn, &r, d->value_kind, err);
        d->test_recon = r.x;
        if (st) return st;
        if (r.dims[0] != rd[0] || r.dims[1] != rd[1] || r.dims[2] != rd[2])
            return shape_mismatch(path, rn, r.dims, 3, "train_recon_data (bins, neurons) / test_encod_data (trials)",
                                  rd, 7, DIM_LABELS, err);
        for (size_t i = 0; i < rd[0]; i++)
            for (size_t t = 0; t < (size_t)d->T; t++)
                for (size_t n = 0; n < (size_t)d->N; n++)
                    if (r.x[(i * rd[1] + t) * rd[2] + n] != d->test[(i * d->T + t) * d->N + n])
                        return nd_fail(err, ND_ERR_FORMAT,
                                       "%s: dataset '%s': element (%zu, %zu, %zu) differs from '%s': the first bins "
                                       "and neurons of the reconstruction must be the encoder data",
                                       path, rn, i, t, n, en);
    }
    if (nd_h5_exists(path, "test_truth")) {
        st = read_truth(path, "test_truth", rn ? rn : en, rd, d->conversion_factor, &d->test_truth, err);
        if (st) return st;
    }
    int has_e = nd_h5_exists(path, "test_ext_input");
    if (d->E > 0 && !has_e)
        return nd_fail(err, ND_ERR_FORMAT, "%s: dataset 'test_ext_input': missing although 'train_ext_input' is present",
                       path);
    if (has_e) {
        int E = 0;
        if (!nd_h5_exists(path, "train_ext_input"))
            return nd_fail(err, ND_ERR_FORMAT, "%s: dataset 'test_ext_input': present but 'train_ext_input' is missing",
                           path);
        size_t ed[3] = {te.dims[0], (size_t)d->Tr, 0};
        st = read_ext(path, "test_ext_input", en, ed, &d->test_ext, &E, err);
        if (st) return st;
        if (E != d->E) {
            size_t a[3] = {te.dims[0], (size_t)d->Tr, (size_t)E}, b[3] = {te.dims[0], (size_t)d->Tr, (size_t)d->E};
            return shape_mismatch(path, "test_ext_input", a, 3, "train_ext_input", b, 4, EXT_LABELS, err);
        }
        if (E == 0) { nd_free(d->test_ext); d->test_ext = NULL; }
    }
    if (nd_h5_exists(path, "test_inds")) {
        st = read_inds(path, "test_inds", en, te.dims[0], &d->test_inds, err);
        if (st) return st;
    }
    return ND_OK;
}

/* behaviour and condition ids of every split present */
static nd_status read_beh_cond(const char *path, const char *const dnames[3], nd_lfads_data *d, nd_error *err) {
    static const char *const bn[3] = {"train_behavior", "valid_behavior", "test_behavior"};
    static const char *const cn[3] = {"train_condition", "valid_condition", "test_condition"};
    const int n[3] = {d->n_train, d->valid_from_file ? d->n_valid : 0, d->n_test};
    float **beh[3] = {&d->train_beh, &d->valid_beh, &d->test_beh};
    int **cond[3] = {&d->train_cond, &d->valid_cond, &d->test_cond};
    for (int s = 0; s < 3; s++) {
        if (n[s] == 0) continue;
        if (nd_h5_exists(path, bn[s])) {
            if (s > 0 && !d->train_beh)
                return nd_fail(err, ND_ERR_FORMAT, "%s: dataset '%s': present but 'train_behavior' is missing", path,
                               bn[s]);
            nd_status st = read_beh(path, bn[s], dnames[s], (size_t)n[s], d->T, d->Tr, beh[s], &d->B, &d->Tb, err);
            if (st) return st;
        } else if (s == 1 && d->train_beh) /* a missing test_behavior is hidden test targets (NLB's test phase) */
            return nd_fail(err, ND_ERR_FORMAT, "%s: dataset '%s': missing although 'train_behavior' is present", path,
                           bn[s]);
        if (nd_h5_exists(path, cn[s])) {
            nd_status st = read_ivec(path, cn[s], dnames[s], (size_t)n[s], "condition ids", cond[s], err);
            if (st) return st;
        }
    }
    return ND_OK;
}

static nd_status read_all(const char *path, uint64_t split_seed, double valid_fraction, nd_lfads_data *d,
                          nd_error *err) {
    nd_status st = nd_h5_check_file(path, err);
    if (st) return st;

    /* --- which names: LFADS or lfads-torch --- */
    const char *tn = "train_data", *vn = "valid_data";
    int torch = 0;
    if (!nd_h5_exists(path, tn)) {
        if (nd_h5_exists(path, "train_encod_data")) {
            torch = 1;
            tn = "train_encod_data";
            vn = "valid_encod_data";
        } else {
            return nd_fail(err, ND_ERR_FORMAT,
                           "%s: dataset 'train_data': missing (neither 'train_data' nor lfads-torch "
                           "'train_encod_data' is in the file)",
                           path);
        }
    }

    farr tr = {0};
    st = read_counts(path, tn, &tr, d->value_kind, err);
    d->train = tr.x;
    if (st) return st;
    d->n_train = (int)tr.dims[0];
    d->T = (int)tr.dims[1];
    d->N = (int)tr.dims[2];

    size_t vdims[3] = {0, 0, 0};
    if (nd_h5_exists(path, vn)) {
        farr va = {0};
        st = read_counts(path, vn, &va, d->value_kind, err);
        d->valid = va.x;
        if (st) return st;
        if (va.dims[1] != tr.dims[1] || va.dims[2] != tr.dims[2])
            return shape_mismatch(path, vn, va.dims, 3, tn, tr.dims, 6, DIM_LABELS, err);
        d->n_valid = (int)va.dims[0];
        memcpy(vdims, va.dims, sizeof vdims);
        d->valid_from_file = 1;
    }

    d->Nr = d->N;
    d->Tr = d->T;
    if (torch) {
        static const char *const enc[2] = {"train_encod_data", "valid_encod_data"};
        static const char *const rec[2] = {"train_recon_data", "valid_recon_data"};
        int have[2] = {nd_h5_exists(path, rec[0]), d->valid_from_file && nd_h5_exists(path, rec[1])};
        if (d->valid_from_file && have[0] != have[1])
            return nd_fail(err, ND_ERR_FORMAT, "%s: dataset '%s': missing although '%s' is present", path,
                           rec[have[0] ? 1 : 0], rec[have[0] ? 0 : 1]);
        for (int s = 0; s < 2 && have[s]; s++) {
            farr r = {0};
            st = read_counts(path, rec[s], &r, d->value_kind, err);
            if (st) { nd_free(r.x); return st; }
            const size_t *ed = s == 0 ? tr.dims : vdims;
            const char *problem = NULL;
            if (r.dims[0] != ed[0]) problem = "a different number of trials than";
            else if (r.dims[1] < ed[1]) problem = "fewer bins than";
            else if (r.dims[2] < ed[2]) problem = "fewer neurons than";
            else if (s == 1 && (r.dims[1] != (size_t)d->Tr || r.dims[2] != (size_t)d->Nr))
                problem = "a different number of bins or neurons than 'train_recon_data' while matching";
            if (problem) {
                char s1[256], s2[256];
                shape_str(s1, sizeof s1, 3, r.dims);
                shape_str(s2, sizeof s2, 3, ed);
                nd_free(r.x);
                return nd_fail(err, ND_ERR_FORMAT, "%s: dataset '%s': shape %s has %s '%s' %s", path, rec[s], s1,
                               problem, enc[s], s2);
            }
            /* the held-in, observed part of the target must be the encoder input */
            const float *e = s == 0 ? d->train : d->valid;
            for (size_t i = 0; i < ed[0] && !problem; i++)
                for (size_t t = 0; t < ed[1] && !problem; t++)
                    for (size_t n = 0; n < ed[2]; n++)
                        if (r.x[(i * r.dims[1] + t) * r.dims[2] + n] != e[(i * ed[1] + t) * ed[2] + n]) {
                            nd_free(r.x);
                            return nd_fail(err, ND_ERR_FORMAT,
                                           "%s: dataset '%s': element (%zu, %zu, %zu) differs from '%s': the first "
                                           "bins and neurons of the reconstruction must be the encoder data",
                                           path, rec[s], i, t, n, enc[s]);
                        }
            if (s == 0) { d->Tr = (int)r.dims[1]; d->Nr = (int)r.dims[2]; }
            if (d->Tr == d->T && d->Nr == d->N) nd_free(r.x); /* same as the encoder data */
            else if (s == 0) d->train_recon = r.x;
            else d->valid_recon = r.x;
        }
    }
    /* truth and external inputs follow the reconstruction's shape */
    size_t trd[3] = {tr.dims[0], (size_t)d->Tr, (size_t)d->Nr}, vrd[3] = {vdims[0], (size_t)d->Tr, (size_t)d->Nr};
    const char *trn = d->train_recon ? "train_recon_data" : tn, *vrn = d->valid_recon ? "valid_recon_data" : vn;

    /* --- conversion factor --- */
    d->conversion_factor = 1.0;
    if (nd_h5_exists(path, "conversion_factor")) {
        float *cf = NULL;
        int r;
        size_t cd[ND_H5_MAX_RANK];
        st = nd_h5_read_float(path, "conversion_factor", &cf, &r, cd, err);
        if (st) return st;
        size_t n = 1;
        for (int i = 0; i < r; i++) n *= cd[i];
        double v = n == 1 ? cf[0] : NAN;
        nd_free(cf);
        if (n != 1)
            return nd_fail(err, ND_ERR_FORMAT, "%s: dataset 'conversion_factor': has %zu elements, expected one number",
                           path, n);
        if (!(isfinite(v) && v > 0))
            return nd_fail(err, ND_ERR_FORMAT, "%s: dataset 'conversion_factor': %g is not a positive finite number",
                           path, v);
        d->conversion_factor = v;
    }

    /* --- optional per-split datasets --- */
    const char *truth[2] = {"train_truth", "valid_truth"};
    const char *ext[2] = {"train_ext_input", "valid_ext_input"};
    const char *inds[2] = {"train_inds", "valid_inds"};
    if (!d->valid_from_file) {
        const char *orphans[5] = {truth[1], ext[1], inds[1], "valid_behavior", "valid_condition"};
        for (int i = 0; i < 5; i++)
            if (nd_h5_exists(path, orphans[i]))
                return nd_fail(err, ND_ERR_FORMAT, "%s: dataset '%s': present but '%s' is missing", path, orphans[i],
                               vn);
    }
    if (nd_h5_exists(path, truth[0])) {
        st = read_truth(path, truth[0], trn, trd, d->conversion_factor, &d->train_truth, err);
        if (st) return st;
    }
    if (d->valid_from_file && nd_h5_exists(path, truth[1])) {
        st = read_truth(path, truth[1], vrn, vrd, d->conversion_factor, &d->valid_truth, err);
        if (st) return st;
    }
    int has_e0 = nd_h5_exists(path, ext[0]), has_e1 = d->valid_from_file && nd_h5_exists(path, ext[1]);
    if (d->valid_from_file && has_e0 != has_e1)
        return nd_fail(err, ND_ERR_FORMAT, "%s: dataset '%s': missing although '%s' is present", path,
                       ext[has_e0 ? 1 : 0], ext[has_e0 ? 0 : 1]);
    if (has_e0) {
        st = read_ext(path, ext[0], trn, trd, &d->train_ext, &d->E, err);
        if (st) return st;
    }
    if (has_e1) {
        int E1 = 0;
        st = read_ext(path, ext[1], vrn, vrd, &d->valid_ext, &E1, err);
        if (st) return st;
        if (E1 != d->E) {
            size_t a[3] = {vdims[0], vdims[1], (size_t)E1}, b[3] = {tr.dims[0], tr.dims[1], (size_t)d->E};
            return shape_mismatch(path, ext[1], a, 3, ext[0], b, 4, EXT_LABELS, err);
        }
    }
    if (d->E == 0) { /* an (n, T, 0) ext input is no input */
        nd_free(d->train_ext);
        nd_free(d->valid_ext);
        d->train_ext = d->valid_ext = NULL;
    }
    if (nd_h5_exists(path, inds[0])) {
        st = read_inds(path, inds[0], tn, tr.dims[0], &d->train_inds, err);
        if (st) return st;
    }
    if (d->valid_from_file && nd_h5_exists(path, inds[1])) {
        st = read_inds(path, inds[1], vn, vdims[0], &d->valid_inds, err);
        if (st) return st;
    }
    if (torch && nd_h5_exists(path, "test_encod_data")) {
        st = read_test(path, d, err);
        if (st) return st;
    }
    {
        const char *dn[3] = {tn, vn, "test_encod_data"};
        st = read_beh_cond(path, dn, d, err);
        if (st) return st;
    }
    if (d->valid_from_file) return ND_OK;

    /* --- no validation data in the file: seeded split of train --- */
    int n = d->n_train;
    if (!(valid_fraction > 0 && valid_fraction < 1))
        return nd_fail(err, ND_ERR_ARG,
                       "%s: no dataset '%s' and valid_fraction %g is not in (0, 1): cannot make a validation split",
                       path, vn, valid_fraction);
    if (n < 2)
        return nd_fail(err, ND_ERR_FORMAT,
                       "%s: dataset '%s': only %d trial and no '%s': cannot make a validation split", path, tn, n, vn);
    unsigned char *mask = malloc((size_t)n);
    if (!mask) return nd_fail(err, ND_ERR_NOMEM, "%s: out of memory splitting trials", path);
    int nv = nd_lfads_split(n, split_seed, valid_fraction, mask);
    int nt = n - nv;
    size_t dinner = (size_t)d->T * (size_t)d->N, einner = (size_t)d->Tr * (size_t)d->E;
    size_t rinner = (size_t)d->Tr * (size_t)d->Nr;
    nd_lfads_data s = {0};
    int ok = nv > 0;
    if (ok) {
        ok = (s.train = gather_f(d->train, dinner, mask, n, 0, nt)) && (s.valid = gather_f(d->train, dinner, mask, n, 1, nv));
        if (ok && d->train_truth)
            ok = (s.train_truth = gather_f(d->train_truth, rinner, mask, n, 0, nt)) &&
                 (s.valid_truth = gather_f(d->train_truth, rinner, mask, n, 1, nv));
        if (ok && d->train_recon)
            ok = (s.train_recon = gather_f(d->train_recon, rinner, mask, n, 0, nt)) &&
                 (s.valid_recon = gather_f(d->train_recon, rinner, mask, n, 1, nv));
        if (ok && d->train_ext)
            ok = (s.train_ext = gather_f(d->train_ext, einner, mask, n, 0, nt)) &&
                 (s.valid_ext = gather_f(d->train_ext, einner, mask, n, 1, nv));
        if (ok && d->train_beh) {
            size_t binner = (size_t)d->Tb * (size_t)d->B;
            ok = (s.train_beh = gather_f(d->train_beh, binner, mask, n, 0, nt)) &&
                 (s.valid_beh = gather_f(d->train_beh, binner, mask, n, 1, nv));
        }
        if (ok) ok = (s.train_inds = nd_alloc((size_t)nt * sizeof(int))) && (s.valid_inds = nd_alloc((size_t)nv * sizeof(int)));
        if (ok && d->train_cond)
            ok = (s.train_cond = nd_alloc((size_t)nt * sizeof(int))) && (s.valid_cond = nd_alloc((size_t)nv * sizeof(int)));
    }
    if (!ok) {
        free(mask);
        nd_lfads_data_free(&s);
        return nd_fail(err, ND_ERR_NOMEM, "%s: out of memory splitting trials", path);
    }
    int kt = 0, kv = 0;
    for (int i = 0; i < n; i++) {
        int orig = d->train_inds ? d->train_inds[i] : i;
        if (mask[i]) {
            if (d->train_cond) s.valid_cond[kv] = d->train_cond[i];
            s.valid_inds[kv++] = orig;
        } else {
            if (d->train_cond) s.train_cond[kt] = d->train_cond[i];
            s.train_inds[kt++] = orig;
        }
    }
    free(mask);
    s.n_train = nt;
    s.n_valid = nv;
    s.T = d->T;
    s.N = d->N;
    s.E = d->E;
    s.Nr = d->Nr;
    s.Tr = d->Tr;
    s.valid_from_file = 0;
    s.conversion_factor = d->conversion_factor;
    s.value_kind = d->value_kind;
    s.B = d->B;
    s.Tb = d->Tb;
    /* the test split is not part of the train/valid split: move it over */
    s.n_test = d->n_test;
    s.test = d->test; s.test_recon = d->test_recon; s.test_truth = d->test_truth; s.test_ext = d->test_ext;
    s.test_inds = d->test_inds; s.test_beh = d->test_beh; s.test_cond = d->test_cond;
    d->test = d->test_recon = d->test_truth = d->test_ext = d->test_beh = NULL;
    d->test_inds = d->test_cond = NULL;
    memcpy(s.path, d->path, sizeof s.path);
    nd_lfads_data_free(d);
    *d = s;
    return ND_OK;
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
    nd_status st = read_all(path, split_seed, valid_fraction, d, err);
    if (st) nd_lfads_data_free(d);
    return st;
}

const float *nd_lfads_recon(const nd_lfads_data *d, int split) { /* NULL recon: the targets are the data */
    if (split == 0) return d->train_recon ? d->train_recon : d->train;
    if (split == 2) return d->test_recon;
    return d->valid_recon ? d->valid_recon : d->valid;
}
