/* jPCA of an output file, end to end (jpca_file.h). */
#define _GNU_SOURCE
#include "jpca_file.h"
#include "../core/mem.h"
#include "../io/h5.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void nd_jpca_file_opts_default(nd_jpca_file_opts *o) {
    memset(o, 0, sizeof *o);
    o->split = "valid";
    o->dataset = "factors";
    o->bin_ms = -1;
    nd_jpca_opts_default(&o->jpca);
}

void nd_jpca_file_result_free(nd_jpca_file_result *r) {
    free(r->ids);
    nd_free(r->avg);
    nd_jpca_result_free(&r->r);
    memset(r, 0, sizeof *r);
}

static int cmp_int(const void *a, const void *b) {
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

nd_status nd_jpca_average_run(const float *fac, int n, int T, int F, const int *cond, const nd_jpca_opts *jo,
                              const char *lab_nan, const char *lab_spec, const char *lab_cond, nd_jpca_file_result *x,
                              nd_error *err) {
    memset(x, 0, sizeof *x);
    nd_status st = ND_OK;
    int *cnt = NULL, C = 0;
    x->n = n, x->T = T, x->F = F;
    for (size_t i = 0; i < (size_t)n * T * F; i++)
        if (!isfinite(fac[i])) {
            st = nd_fail(err, ND_ERR_FORMAT, "%s: NaN/Inf at trial %zu", lab_nan, i / ((size_t)T * F));
            goto done;
        }
    /* distinct condition ids, ascending */
    if (!(x->ids = malloc(sizeof(int) * (n ? n : 1)))) { st = nd_fail(err, ND_ERR_NOMEM, "out of memory"); goto done; }
    memcpy(x->ids, cond, sizeof(int) * n);
    qsort(x->ids, (size_t)n, sizeof(int), cmp_int);
    for (int i = 0; i < n; i++) if (i == 0 || x->ids[i] != x->ids[i - 1]) x->ids[C++] = x->ids[i];
    x->C = C;
    if (C < 2) {
        st = nd_fail(err, ND_ERR_FORMAT, "%s: jPCA needs at least 2 conditions (got %d)", lab_cond, C);
        goto done;
    }
    x->avg = nd_alloc(sizeof(double) * (size_t)C * T * F);
    cnt = nd_alloc(sizeof(int) * (size_t)C);
    if (!x->avg || !cnt) { st = nd_fail(err, ND_ERR_NOMEM, "out of memory"); goto done; }
    for (int i = 0; i < n; i++) {
        int *p = bsearch(&cond[i], x->ids, (size_t)C, sizeof(int), cmp_int);
        int ci = (int)(p - x->ids);
        cnt[ci]++;
        for (size_t j = 0; j < (size_t)T * F; j++) x->avg[(size_t)ci * T * F + j] += fac[(size_t)i * T * F + j];
    }
    x->cmin = n, x->cmax = 0;
    for (int ci = 0; ci < C; ci++) {
        for (size_t j = 0; j < (size_t)T * F; j++) x->avg[(size_t)ci * T * F + j] /= cnt[ci];
        if (cnt[ci] < x->cmin) x->cmin = cnt[ci];
        if (cnt[ci] > x->cmax) x->cmax = cnt[ci];
    }
    if (jo->t_end > T || jo->t_start > T - 2 || (jo->t_end > 0 && jo->t_end - jo->t_start < 2)) {
        st = nd_fail(err, ND_ERR_ARG, "window [%d, %d) must hold >= 2 bins within the %d bins of %s", jo->t_start,
                     jo->t_end > 0 ? jo->t_end : T, T, lab_spec);
        goto done;
    }
    if (jo->k > F) {
        st = nd_fail(err, ND_ERR_ARG, "--dims %d exceeds the %d units of %s", jo->k, F, lab_spec);
        goto done;
    }
    if ((st = nd_jpca(x->avg, C, T, F, jo, &x->r, err))) {
        nd_fail_prefix(err, st, lab_spec);
        goto done;
    }
done:
    nd_free(cnt);
    if (st) nd_jpca_file_result_free(x);
    return st;
}

nd_status nd_jpca_file(const nd_jpca_file_opts *o, nd_jpca_file_result *x, nd_error *err) {
    memset(x, 0, sizeof *x);
    const char *out = o->out, *data = o->data;
    char cfile[1024], cname[256];
    snprintf(x->name, sizeof x->name, "%s_%s", o->split, o->dataset);
    if (o->conditions) {
        const char *colon = strrchr(o->conditions, ':');
        if (!colon || colon == o->conditions || !colon[1])
            return nd_fail(err, ND_ERR_ARG, "--conditions '%s': expected FILE:PATH", o->conditions);
        snprintf(cfile, sizeof cfile, "%.*s", (int)(colon - o->conditions), o->conditions);
        snprintf(cname, sizeof cname, "%s", colon + 1);
    } else {
        snprintf(cfile, sizeof cfile, "%s", data);
        snprintf(cname, sizeof cname, "%s_condition", o->split);
    }
    const char *fname = x->name;
    nd_status st;
    if ((st = nd_h5_check_file(out, err)) || (st = nd_h5_check_file(cfile, err))) return st;
    if (!nd_h5_exists(out, fname))
        return nd_fail(err, ND_ERR_FORMAT, "%s: dataset '%s': missing (run 'neurodyn infer' to get factors)", out, fname);
    if (!nd_h5_exists(cfile, cname))
        return nd_fail(err, ND_ERR_FORMAT, "%s: dataset '%s': missing (jPCA needs a condition id per trial to average "
                       "trials; 'neurodyn simulate' writes them)", cfile, cname);
    float *fac = NULL;
    int *cond = NULL, *cnt = NULL, rank = 0, crank = 0;
    size_t dims[ND_H5_MAX_RANK], cdims[ND_H5_MAX_RANK];
    if ((st = nd_h5_read_float(out, fname, &fac, &rank, dims, err)) ||
        (st = nd_h5_read_int(cfile, cname, &cond, &crank, cdims, err)))
        goto done;
    if (rank != 3) {
        st = nd_fail(err, ND_ERR_FORMAT, "%s: dataset '%s': expected rank 3 (trials, bins, units), got rank %d", out,
                     fname, rank);
        goto done;
    }
    if (crank != 1 || cdims[0] != dims[0]) {
        st = nd_fail(err, ND_ERR_FORMAT, "%s: dataset '%s': expected %zu condition ids (one per trial of %s:%s), got "
                     "shape %s%zu", cfile, cname, dims[0], out, fname, crank == 1 ? "" : "rank != 1, first dim ",
                     crank ? cdims[0] : 0);
        goto done;
    }
    {
        char lab_nan[1400], lab_spec[1400], lab_cond[1400];
        snprintf(lab_nan, sizeof lab_nan, "%s: dataset '%s'", out, fname);
        snprintf(lab_spec, sizeof lab_spec, "%s:%s", out, fname);
        snprintf(lab_cond, sizeof lab_cond, "%s: dataset '%s'", cfile, cname);
        char keep[256];
        snprintf(keep, sizeof keep, "%s", x->name);
        st = nd_jpca_average_run(fac, (int)dims[0], (int)dims[1], (int)dims[2], cond, &o->jpca, lab_nan, lab_spec,
                                 lab_cond, x, err);
        snprintf(x->name, sizeof x->name, "%s", keep);
        if (st) goto done;
    }
    x->bin_ms = o->bin_ms;
    if (x->bin_ms <= 0 && nd_h5_read_attr_double(data, "/", "bin_ms", &x->bin_ms, NULL) != ND_OK) x->bin_ms = -1;
done:
    nd_free(fac);
    nd_free(cond);
    nd_free(cnt);
    if (st) nd_jpca_file_result_free(x);
    return st;
}

nd_status nd_jpca_file_write(const char *path, const nd_jpca_file_result *x, const char *src, nd_error *err) {
    const nd_jpca_result *r = &x->r;
    const double *avg = x->avg;
    const int *ids = x->ids, F = x->F;
    const char *dsname = x->name;
    nd_h5file *h = NULL;
    nd_status st = nd_h5_create(&h, path, err);
    size_t k = (size_t)r->k, np = (size_t)r->nplanes, C = (size_t)r->C, T = (size_t)r->T, Fz = (size_t)F;
    size_t dproj[3] = {C, T, k}, dkk[2] = {k, k}, dfk[2] = {Fz, k}, d1k[1] = {k}, d1p[1] = {np}, d1c[1] = {C},
           davg[3] = {C, T, Fz}, d1f[1] = {Fz};
    if (!st) st = nd_h5_write_double(h, "proj", r->proj, 3, dproj, err);
    if (!st) st = nd_h5_write_double(h, "M_skew", r->M_skew, 2, dkk, err);
    if (!st) st = nd_h5_write_double(h, "M_best", r->M_best, 2, dkk, err);
    if (!st) st = nd_h5_write_double(h, "jpcs", r->jpcs, 2, dfk, err);
    if (!st) st = nd_h5_write_double(h, "pcs", r->pcs, 2, dfk, err);
    if (!st) st = nd_h5_write_double(h, "plane_basis", r->plane_basis, 2, dkk, err);
    if (!st) st = nd_h5_write_double(h, "eig_re", r->eig_re, 1, d1k, err);
    if (!st) st = nd_h5_write_double(h, "eig_im", r->eig_im, 1, d1k, err);
    if (!st) st = nd_h5_write_double(h, "pc_var_frac", r->pc_var_frac, 1, d1k, err);
    if (!st) st = nd_h5_write_double(h, "omega", r->omega, 1, d1p, err);
    if (!st) st = nd_h5_write_double(h, "plane_var_frac", r->plane_var_frac, 1, d1p, err);
    if (!st) st = nd_h5_write_double(h, "r2_skew_plane", r->r2_skew_plane, 1, d1p, err);
    if (!st) st = nd_h5_write_double(h, "r2_best_plane", r->r2_best_plane, 1, d1p, err);
    if (!st) st = nd_h5_write_double(h, "norm_scale", r->norm_scale, 1, d1f, err);
    if (!st) st = nd_h5_write_double(h, "condition_mean", avg, 3, davg, err);
    if (!st) st = nd_h5_write_int(h, "condition_ids", ids, 1, d1c, err);
    if (!st) st = nd_h5_write_attr_double(h, "/", "r2_skew", r->r2_skew, err);
    if (!st) st = nd_h5_write_attr_double(h, "/", "r2_best", r->r2_best, err);
    if (!st) st = nd_h5_write_attr_double(h, "/", "pca_var_frac", r->pca_var_frac, err);
    if (!st) st = nd_h5_write_attr_int(h, "/", "t_start", r->t_start, err);
    if (!st) st = nd_h5_write_attr_int(h, "/", "t_end", r->t_end, err);
    if (!st) st = nd_h5_write_attr_string(h, "/", "source", src, err);
    if (!st) st = nd_h5_write_attr_string(h, "/", "dataset", dsname, err);
    if (!st) st = nd_h5_write_attr_string(h, "/", "convention",
                                          "row vectors: dX = X M; omega = |Im lambda| of M_skew in radians per bin", err);
    if (h) {
        nd_error e2;
        nd_status cs = nd_h5_close(h, st == ND_OK, st ? &e2 : err);
        if (!st) st = cs;
    }
    return st;
}

