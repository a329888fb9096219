/* NLB submission files (see nlb_submit.h). */
#include "nlb_submit.h"
#include "../core/mem.h"
#include "h5.h"
#include "h5x.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* the rates of split k from an open outputs file (h NULL: none), checked against the data's reconstruction
 * shape; *r NULL when the file has none */
static nd_status read_rates(nd_h5r *h, const nd_lfads_data *d, int k, float **r, nd_error *err) {
    static const char *const names[3] = {"train_output_params", "valid_output_params", "test_output_params"};
    const int n = d->split[k].n;
    const int Tr = d->Tr > 0 ? d->Tr : d->T, Nr = d->Nr > 0 ? d->Nr : d->N;
    *r = NULL;
    if (!h || nd_h5r_kind(h, names[k]) != ND_H5R_DATASET) return ND_OK;
    int rank;
    size_t dims[ND_H5R_MAX_RANK];
    nd_status st = nd_h5r_read_float(h, names[k], r, &rank, dims, err);
    if (st) return st;
    if (rank != 3 || (int)dims[0] != n || (int)dims[1] != Tr || (int)dims[2] != Nr) {
        nd_free(*r);
        *r = NULL;
        return nd_fail(err, ND_ERR_FORMAT, "%s: dataset '%s': shape does not match the data %s [%d x %d x %d]",
                       nd_h5r_file(h), names[k], d->path, n, Tr, Nr);
    }
    return ND_OK;
}

/* [n][t1 - t0][j1 - j0] block of rates [n][Tr][Nr] */
static float *block(const float *r, int n, int Tr, int Nr, int t0, int t1, int j0, int j1) {
    const int nt = t1 - t0, nj = j1 - j0;
    float *o = nd_alloc(sizeof(float) * ((size_t)n * nt * nj + 1));
    if (!o) return NULL;
    for (int i = 0; i < n; i++)
        for (int t = 0; t < nt; t++)
            memcpy(o + ((size_t)i * nt + t) * nj, r + ((size_t)i * Tr + t0 + t) * Nr + j0, sizeof(float) * nj);
    return o;
}

static nd_status put_block(nd_h5file *f, const char *dataset, const char *name, const float *r, int n, int Tr, int Nr,
                           int t0, int t1, int j0, int j1, nd_error *err) {
    if (t1 <= t0 || j1 <= j0) return ND_OK;
    float *b = block(r, n, Tr, Nr, t0, t1, j0, j1);
    if (!b) return nd_fail(err, ND_ERR_NOMEM, "out of memory for the NLB submission");
    char full[512];
    snprintf(full, sizeof full, "%s/%s", dataset, name);
    size_t dims[3] = {(size_t)n, (size_t)(t1 - t0), (size_t)(j1 - j0)};
    nd_status st = nd_h5_write_float(f, full, b, 3, dims, err);
    nd_free(b);
    return st;
}

typedef struct { int ind, pos; } ind_pos;
static int by_ind(const void *a, const void *b) {
    const ind_pos *x = a, *y = b;
    return x->ind < y->ind ? -1 : x->ind > y->ind ? 1 : x->pos - y->pos;
}

nd_status nd_nlb_submission_write(const nd_lfads_data *d, const char *outputs_path, const char *dataset,
                                  int eval_split, const char *out_path, nd_error *err) {
    if (!dataset || !*dataset || strchr(dataset, '/'))
        return nd_fail(err, ND_ERR_ARG, "NLB submission: dataset name '%s' must be non-empty without '/'",
                       dataset ? dataset : "");
    if (eval_split < 0 || eval_split > 2)
        return nd_fail(err, ND_ERR_ARG, "NLB submission: eval split %d: must be 0 (auto), 1 (valid) or 2 (test)",
                       eval_split);
    const int T = d->T, N = d->N, Tr = d->Tr > 0 ? d->Tr : d->T, Nr = d->Nr > 0 ? d->Nr : d->N;
    const size_t TN = (size_t)Tr * Nr;
    float *r[3] = {NULL, NULL, NULL}, *train = NULL;
    ind_pos *ord = NULL;
    nd_h5file *f = NULL;
    nd_status st = ND_OK;
    nd_h5r *h = NULL; /* NULL when not an HDF5 file: it then has none of the rates */
    nd_error oe;
    if (nd_h5r_open(outputs_path, &h, &oe)) h = NULL;
    for (int k = 0; k < 3 && !st; k++) st = read_rates(h, d, k, &r[k], err);
    nd_h5r_close(h);
    if (st) goto done;
    const nd_lfads_split *tr = &d->split[ND_TRAIN], *va = &d->split[ND_VALID];
    if (eval_split == 0) eval_split = r[2] && d->split[ND_TEST].n > 0 ? 2 : 1;
    if (!r[eval_split]) {
        st = nd_fail(err, ND_ERR_FORMAT, "%s: no %s_output_params (the eval split of the submission)", outputs_path,
                     eval_split == 2 ? "test" : "valid");
        goto done;
    }
    if (!r[0] || (eval_split == 2 && va->n > 0 && !r[1])) {
        st = nd_fail(err, ND_ERR_FORMAT, "%s: no %s_output_params (the submission's train rates)", outputs_path,
                     !r[0] ? "train" : "valid");
        goto done;
    }
    /* train rates: train trials, plus the valid ones in the test phase, in original trial order */
    int ntr = tr->n + (eval_split == 2 ? va->n : 0);
    train = nd_alloc(sizeof(float) * ((size_t)ntr * TN + 1));
    ord = nd_alloc(sizeof(ind_pos) * ((size_t)ntr + 1));
    if (!train || !ord) { st = nd_fail(err, ND_ERR_NOMEM, "out of memory for the NLB submission"); goto done; }
    for (int i = 0; i < ntr; i++) {
        const int *inds = i < tr->n ? tr->inds : va->inds;
        int li = i < tr->n ? i : i - tr->n;
        ord[i].ind = inds ? inds[li] : i;
        ord[i].pos = i;
    }
    qsort(ord, (size_t)ntr, sizeof *ord, by_ind);
    for (int i = 0; i < ntr; i++) {
        int p = ord[i].pos;
        const float *src = p < tr->n ? r[0] + (size_t)p * TN : r[1] + (size_t)(p - tr->n) * TN;
        memcpy(train + (size_t)i * TN, src, sizeof(float) * TN);
    }
    const int ne = d->split[eval_split].n;
    if ((st = nd_h5_create(&f, out_path, err))) goto done;
    if (!(st = put_block(f, dataset, "train_rates_heldin", train, ntr, Tr, Nr, 0, T, 0, N, err)) &&
        !(st = put_block(f, dataset, "train_rates_heldout", train, ntr, Tr, Nr, 0, T, N, Nr, err)) &&
        !(st = put_block(f, dataset, "eval_rates_heldin", r[eval_split], ne, Tr, Nr, 0, T, 0, N, err)) &&
        !(st = put_block(f, dataset, "eval_rates_heldout", r[eval_split], ne, Tr, Nr, 0, T, N, Nr, err)) &&
        !(st = put_block(f, dataset, "eval_rates_heldin_forward", r[eval_split], ne, Tr, Nr, T, Tr, 0, N, err)))
        st = put_block(f, dataset, "eval_rates_heldout_forward", r[eval_split], ne, Tr, Nr, T, Tr, N, Nr, err);
    if (!st) st = nd_h5_write_attr_string(f, "/", "eval_split", eval_split == 2 ? "test" : "valid", err);
    {
        nd_status cs = nd_h5_close(f, st == ND_OK, st ? NULL : err);
        if (!st) st = cs;
    }
done:
    for (int k = 0; k < 3; k++) nd_free(r[k]);
    nd_free(train);
    nd_free(ord);
    return st;
}
