/* HDF5 "FILE:DATASET" inputs as analysis matrices (see data.h). */
#include "data.h"
#include "../core/mem.h"
#include "../io/h5.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

nd_status nd_split_spec(const char *spec, char *file, size_t fcap, char *dset, size_t dcap, nd_error *err) {
    const char *c = spec ? strrchr(spec, ':') : NULL;
    if (!c || c == spec || !c[1])
        return nd_fail(err, ND_ERR_ARG, "'%s': expected FILE:DATASET (e.g. out.h5:valid_factors)", spec ? spec : "(null)");
    size_t fl = (size_t)(c - spec);
    if (fl >= fcap || strlen(c + 1) >= dcap) return nd_fail(err, ND_ERR_ARG, "'%s': path too long", spec);
    memcpy(file, spec, fl);
    file[fl] = 0;
    strcpy(dset, c + 1);
    return ND_OK;
}

void nd_amatrix_free(nd_amatrix *m) {
    if (!m) return;
    nd_free(m->x); nd_free(m->cond_ids); nd_free(m->cond_count); nd_free(m->trial_cond);
    memset(m, 0, sizeof *m);
}

static int cmp_int(const void *a, const void *b) {
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

nd_status nd_amatrix_from_floats(const float *a, int rank, const size_t *dims, const char *what,
                                 const int *trial_cond, int average, nd_layout layout, nd_amatrix *m, nd_error *err) {
    memset(m, 0, sizeof *m);
    if (average && !trial_cond) return nd_fail(err, ND_ERR_ARG, "condition averaging needs the condition ids");
    nd_status st;
    if (rank < 1 || rank > 3)
        return nd_fail(err, ND_ERR_FORMAT, "%s: rank %d; expected 1-D, 2-D (samples x units) or 3-D (trials x time x "
                       "units)", what, rank);
    size_t total = 1;
    for (int i = 0; i < rank; i++) total *= dims[i];
    if (total == 0) return nd_fail(err, ND_ERR_FORMAT, "%s: empty", what);
    if (total > (size_t)2147483647) return nd_fail(err, ND_ERR_FORMAT, "%s: too large for analysis", what);
    for (size_t i = 0; i < total; i++)
        if (!isfinite(a[i])) return nd_fail(err, ND_ERR_FORMAT, "%s: non-finite value %g at element %zu", what, (double)a[i], i);
    m->rank = rank;
    m->trials = (int)dims[0];
    m->T = rank == 3 ? (int)dims[1] : 1;
    m->units = rank == 1 ? 1 : (int)dims[rank - 1];
    int T = m->T, U = m->units, N = m->trials;
    if (trial_cond) {
        if ((st = ND_ALLOC(m->trial_cond, N, "condition ids", err))) goto fail;
        memcpy(m->trial_cond, trial_cond, sizeof(int) * N);
    }
    int per_row = T * U; /* values per trial */
    if (average) {
        int *u = NULL, C = 0;
        if ((st = ND_ALLOC(u, N, "condition ids", err))) goto fail;
        memcpy(u, m->trial_cond, sizeof(int) * N);
        qsort(u, N, sizeof *u, cmp_int);
        for (int i = 0; i < N; i++)
            if (i == 0 || u[i] != u[i - 1]) u[C++] = u[i];
        m->cond_ids = u;
        m->n_cond = C;
        double *acc = NULL;
        if ((st = ND_ALLOC(m->cond_count, C, "condition counts", err)) || (st = ND_ALLOC(acc, (size_t)C * per_row, "condition means", err)))
            goto fail;
        for (int i = 0; i < N; i++) {
            int c = (int)((int *)bsearch(&m->trial_cond[i], u, C, sizeof *u, cmp_int) - u);
            m->cond_count[c]++;
            for (int k = 0; k < per_row; k++) acc[(size_t)c * per_row + k] += a[(size_t)i * per_row + k];
        }
        for (int c = 0; c < C; c++)
            for (int k = 0; k < per_row; k++) acc[(size_t)c * per_row + k] /= m->cond_count[c];
        m->x = acc;
        N = C;
    } else {
        if ((st = ND_ALLOC(m->x, total, "analysis matrix", err))) goto fail;
        for (size_t i = 0; i < total; i++) m->x[i] = a[i];
    }
    /* trials x T x U in memory: SAMPLES reads it as (N*T) x U, PATTERNS as N x (T*U) */
    if (layout == ND_LAYOUT_SAMPLES) { m->rows = N * T; m->cols = U; }
    else { m->rows = N; m->cols = per_row; }
    return ND_OK;
fail:
    nd_amatrix_free(m);
    return st;
}

nd_status nd_load_matrix(const char *spec, const char *cond_spec, int average, nd_layout layout, nd_amatrix *m,
                         nd_error *err) {
    memset(m, 0, sizeof *m);
    char file[4096], dset[1024], cfile[4096], cdset[1024], what[5200];
    nd_status st = nd_split_spec(spec, file, sizeof file, dset, sizeof dset, err);
    if (st) return st;
    if (average && !cond_spec) return nd_fail(err, ND_ERR_ARG, "condition averaging needs the condition ids (FILE:DATASET)");
    float *a = NULL;
    int rank = 0, *cid = NULL;
    size_t dims[ND_H5_MAX_RANK];
    if ((st = nd_h5_read_float(file, dset, &a, &rank, dims, err))) return st;
    snprintf(what, sizeof what, "%s: dataset '%s'", file, dset);
    if (cond_spec && rank >= 1 && rank <= 3) {
        int crank = 0;
        size_t cd[ND_H5_MAX_RANK];
        if ((st = nd_split_spec(cond_spec, cfile, sizeof cfile, cdset, sizeof cdset, err))) goto done;
        if ((st = nd_h5_read_int(cfile, cdset, &cid, &crank, cd, err))) goto done;
        size_t cn = 1;
        for (int i = 0; i < crank; i++) cn *= cd[i];
        if (crank > 2 || (crank == 2 && cd[1] != 1) || cn != dims[0]) {
            st = nd_fail(err, ND_ERR_FORMAT, "%s: dataset '%s': expected one condition id per trial (%zu, the first axis of "
                                             "%s:%s); got %zu values", cfile, cdset, dims[0], file, dset, cn);
            goto done;
        }
    }
    st = nd_amatrix_from_floats(a, rank, dims, what, cid, average, layout, m, err);
done:
    nd_free(a);
    nd_free(cid);
    return st;
}

void nd_amatrix_take_rows(nd_amatrix *m, const int *idx, int k) {
    /* idx ascending lets us compact in place; otherwise go through a copy */
    int asc = 1;
    for (int i = 1; i < k; i++)
        if (idx[i] <= idx[i - 1]) asc = 0;
    size_t c = (size_t)m->cols;
    if (asc) {
        for (int i = 0; i < k; i++)
            if (idx[i] != i) memmove(m->x + (size_t)i * c, m->x + (size_t)idx[i] * c, sizeof(double) * c);
    } else {
        double *y = nd_alloc(sizeof(double) * c * (size_t)k);
        if (!y) return;
        for (int i = 0; i < k; i++) memcpy(y + (size_t)i * c, m->x + (size_t)idx[i] * c, sizeof(double) * c);
        nd_free(m->x);
        m->x = y;
    }
    m->rows = k;
}

nd_status nd_fold_patterns(const nd_amatrix *m, int n_folds, double **out, int *Fout, int *n_cond, int **ids,
                           nd_error *err) {
    *out = NULL;
    *ids = NULL;
    if (!m->trial_cond || m->n_cond || m->rows != m->trials)
        return nd_fail(err, ND_ERR_ARG, "crossnobis needs one pattern per trial and the condition id of every trial");
    int N = m->trials, c = m->cols, C = 0, *u = NULL, *cnt = NULL, *seen = NULL;
    nd_status st;
    if ((st = ND_ALLOC(u, N, "condition ids", err))) return st;
    memcpy(u, m->trial_cond, sizeof(int) * N);
    qsort(u, N, sizeof *u, cmp_int);
    for (int i = 0; i < N; i++)
        if (i == 0 || u[i] != u[i - 1]) u[C++] = u[i];
    double *P = NULL;
    int *fc = NULL;
    if ((st = ND_ALLOC(cnt, C, "condition counts", err)) || (st = ND_ALLOC(seen, C, "condition counts", err))) goto fail;
    for (int i = 0; i < N; i++) cnt[(int *)bsearch(&m->trial_cond[i], u, C, sizeof *u, cmp_int) - u]++;
    int minc = N, argmin = 0;
    for (int k = 0; k < C; k++)
        if (cnt[k] < minc) { minc = cnt[k]; argmin = k; }
    int F = n_folds > 0 ? n_folds : minc;
    if (C < 2) { st = nd_fail(err, ND_ERR_ARG, "crossnobis needs at least 2 conditions (got %d)", C); goto fail; }
    if (F < 2 || minc < F) {
        st = nd_fail(err, ND_ERR_ARG, "crossnobis needs >= %d trials of every condition (condition %d has %d)", F < 2 ? 2 : F,
                     u[argmin], minc);
        goto fail;
    }
    if ((st = ND_ALLOC(P, (size_t)F * C * c, "fold patterns", err)) || (st = ND_ALLOC(fc, (size_t)F * C, "fold counts", err))) goto fail;
    for (int i = 0; i < N; i++) {
        int k = (int)((int *)bsearch(&m->trial_cond[i], u, C, sizeof *u, cmp_int) - u), f = seen[k]++ % F;
        double *dst = P + ((size_t)f * C + k) * c;
        const double *src = m->x + (size_t)i * c;
        for (int j = 0; j < c; j++) dst[j] += src[j];
        fc[f * C + k]++;
    }
    for (int f = 0; f < F; f++)
        for (int k = 0; k < C; k++)
            for (int j = 0; j < c; j++) P[((size_t)f * C + k) * c + j] /= fc[f * C + k];
    nd_free(cnt); nd_free(seen); nd_free(fc);
    *out = P; *Fout = F; *n_cond = C; *ids = u;
    return ND_OK;
fail:
    nd_free(u); nd_free(cnt); nd_free(seen); nd_free(P); nd_free(fc);
    return st;
}
