#include "counts.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../core/mem.h"
#include "triplets.h"

int nd_counts_detect(nd_h5r *r, const char *name, char *out, size_t cap) {
    char p[600];
    snprintf(p, sizeof p, "%s%s", name && name[0] == '/' ? "" : "/", name ? name : "spikes");
    if (nd_h5r_kind(r, p) != ND_H5R_DATASET) return 0;
    nd_h5r_info in;
    if (nd_h5r_info_of(r, p, &in, NULL) || in.rank != 3 || (in.cls != ND_H5R_INT && in.cls != ND_H5R_FLOAT)) return 0;
    snprintf(out, cap, "%s", p);
    return 1;
}

/* the directory part of a dataset path, "/" at the root */
static void parent_of(const char *p, char *out, size_t cap) {
    snprintf(out, cap, "%s", p);
    char *s = strrchr(out, '/');
    if (!s || s == out) snprintf(out, cap, "/");
    else *s = 0;
}

static nd_status read_split(nd_h5r *r, const char *path, const char *grp, int n, nd_binned *b, int *dropped,
                            nd_error *err) {
    char p[700];
    snprintf(p, sizeof p, "%s/split", strcmp(grp, "/") ? grp : "");
    if (nd_h5r_kind(r, p) != ND_H5R_DATASET) return ND_OK;
    char **s = NULL;
    size_t m = 0;
    nd_status st = nd_h5r_read_strings(r, p, &s, &m, err);
    if (st) return st;
    if (m != (size_t)n) {
        nd_h5r_free_strings(s, m);
        return nd_fail(err, ND_ERR_FORMAT, "%s: %s: has %zu elements, there are %d trials", path, p, m, n);
    }
    b->split = nd_alloc((size_t)n);
    if (!b->split) st = nd_fail(err, ND_ERR_NOMEM, "%s: out of memory", path);
    for (int i = 0; !st && i < n; i++) {
        const char *v = s[i];
        if (!strcmp(v, "train")) b->split[i] = 0;
        else if (!strcmp(v, "val") || !strcmp(v, "valid") || !strcmp(v, "validation")) b->split[i] = 1;
        else if (!strcmp(v, "test")) b->split[i] = 2;
        else if (!strcmp(v, "none") || !*v) { b->split[i] = -1; (*dropped)++; }
        else st = nd_fail(err, ND_ERR_FORMAT, "%s: %s: trial %d: unknown split '%s' (expected train, val, test or none)",
                          path, p, i, v);
    }
    nd_h5r_free_strings(s, m);
    if (!st) snprintf(b->split_source, sizeof b->split_source, "%s", p);
    return st;
}

static nd_status read_heldout(nd_h5r *r, const char *path, const char *grp, int N, nd_binned *b, nd_error *err) {
    char p[700];
    snprintf(p, sizeof p, "%s/heldout", strcmp(grp, "/") ? grp : "");
    if (nd_h5r_kind(r, p) != ND_H5R_DATASET) return ND_OK;
    double *x = NULL;
    nd_h5r_info in;
    nd_status st = nd_h5r_read_f64(r, p, &x, &in, err);
    if (st) return st;
    if (in.numel != (size_t)N) st = nd_fail(err, ND_ERR_FORMAT, "%s: %s: has %zu elements, there are %d units", path, p, in.numel, N);
    if (!st && !(b->heldout = nd_alloc((size_t)N))) st = nd_fail(err, ND_ERR_NOMEM, "%s: out of memory", path);
    for (int k = 0; !st && k < N; k++) {
        if (x[k] != 0 && x[k] != 1) st = nd_fail(err, ND_ERR_FORMAT, "%s: %s: unit %d: %g is not 0 or 1", path, p, k, x[k]);
        else b->heldout[k] = x[k] != 0;
    }
    nd_free(x);
    if (!st) snprintf(b->heldout_source, sizeof b->heldout_source, "%s", p);
    return st;
}

/* Keeps the trials whose split is not 'none' (b->split[i] == -1), in order. */
static void drop_none_trials(nd_binned *b, size_t per_trial) {
    int k = 0;
    for (int i = 0; i < b->n; i++) {
        if (b->split[i] < 0) continue;
        if (k != i) {
            memmove(b->counts + (size_t)k * per_trial, b->counts + (size_t)i * per_trial, sizeof(float) * per_trial);
            b->split[k] = b->split[i];
            b->trial_ids[k] = b->trial_ids[i];
            if (b->condition) b->condition[k] = b->condition[i];
        }
        k++;
    }
    b->n = k;
}

nd_status nd_counts_read(const char *path, const nd_bin_opts *o, nd_binned *b, nd_error *err) {
    memset(b, 0, sizeof *b);
    snprintf(b->source, sizeof b->source, "%s", path);
    snprintf(b->format, sizeof b->format, "binned counts");
    if (!(o->bin_ms > 0) || !isfinite(o->bin_ms)) return nd_fail(err, ND_ERR_ARG, "bin width must be > 0 ms");
    if (o->align)
        return nd_fail(err, ND_ERR_ARG, "--align does not apply to binned counts (bins are from trial start; use --window)");
    if (o->fp_bins < 0) return nd_fail(err, ND_ERR_ARG, "forward-prediction bins must be >= 0");
    nd_h5r *r = NULL;
    nd_status st = nd_h5r_open(path, &r, err);
    if (st) return st;
    double *x = NULL;
    char p[600], grp[600];
    int dropped = 0;
    if (!nd_counts_detect(r, o->group, p, sizeof p)) {
        st = nd_fail(err, ND_ERR_FORMAT, "%s: /%s: missing, or not a 3-D numeric dataset (trials x bins x units)", path,
                     o->group ? o->group : "spikes");
        goto done;
    }
    parent_of(p, grp, sizeof grp);
    double src_ms = 0;
    if (!nd_h5r_attr_f64(r, p, "bin_ms", &src_ms) && !nd_h5r_attr_f64(r, "/", "bin_ms", &src_ms)) {
        st = nd_fail(err, ND_ERR_FORMAT, "%s: %s: no bin_ms attribute (on the dataset or the root): the bin width of the "
                                         "counts is unknown", path, p);
        goto done;
    }
    double ratio = o->bin_ms / src_ms;
    long k = lround(ratio);
    if (!(src_ms > 0) || !isfinite(src_ms) || k < 1 || fabs(ratio - (double)k) > 1e-9 * ratio) {
        st = nd_fail(err, ND_ERR_ARG, "%s: %s: --bin-ms %g is not a whole multiple of the file's %g ms bins", path, p,
                     o->bin_ms, src_ms);
        goto done;
    }
    nd_h5r_info in;
    if ((st = nd_h5r_read_f64(r, p, &x, &in, err))) goto done;
    size_t n = in.dims[0], S = in.dims[1], N = in.dims[2], Sk = S / (size_t)k;
    if (n < 1 || Sk < 1 || N < 1 || n > 100000000 || N > 10000000) {
        st = nd_fail(err, ND_ERR_FORMAT, "%s: %s: shape (%zu, %zu, %zu) leaves no trial, %g-ms bin or unit", path, p, n, S,
                     N, o->bin_ms);
        goto done;
    }
    for (size_t i = 0; i < in.numel; i++)
        if (!isfinite(x[i]) || x[i] < 0 || x[i] != floor(x[i]) || x[i] > 16777216) {
            size_t t = i / N % S;
            st = nd_fail(err, ND_ERR_FORMAT, "%s: %s: element (%zu, %zu, %zu) = %g is not a spike count (whole, >= 0)", path,
                         p, i / (N * S), t, i % N, x[i]);
            goto done;
        }
    /* window in output bins */
    long w0 = 0, w1 = (long)Sk - o->fp_bins;
    if (o->has_window) {
        double a = o->win_start_ms / o->bin_ms, e = o->win_end_ms / o->bin_ms;
        if (fabs(a - round(a)) > 1e-9 || fabs(e - round(e)) > 1e-9) {
            st = nd_fail(err, ND_ERR_ARG, "%s: --window %g:%g ms is not on the %g-ms bin grid", path, o->win_start_ms,
                         o->win_end_ms, o->bin_ms);
            goto done;
        }
        w0 = lround(a);
        w1 = lround(e);
    }
    if (w0 < 0 || w1 <= w0 || w1 + o->fp_bins > (long)Sk) {
        st = nd_fail(err, ND_ERR_ARG, "%s: %s: window of bins [%ld, %ld) + %d forward bins is outside the trials' %zu bins "
                                      "of %g ms", path, p, w0, w1, o->fp_bins, Sk, o->bin_ms);
        goto done;
    }
    int T = (int)(w1 - w0), TB = T + o->fp_bins;
    if ((st = nd_binned_alloc(b, (int)n, T, o->fp_bins, (int)N, 0, err))) goto done;
    b->n_source_trials = (int)n;
    b->window_start_ms = (double)w0 * o->bin_ms;
    b->window_end_ms = (double)w1 * o->bin_ms;
    for (size_t i = 0; i < n; i++) {
        b->trial_ids[i] = (int)i;
        for (int t = 0; t < TB; t++)
            for (size_t j = 0; j < (size_t)k; j++) {
                const double *src = x + (i * S + (size_t)(w0 + t) * (size_t)k + j) * N;
                float *dst = b->counts + (i * (size_t)TB + (size_t)t) * N;
                for (size_t u = 0; u < N; u++) dst[u] += (float)src[u];
            }
    }
    if (S % (size_t)k)
        nd_binned_warn(b, "%s: %s: the last %zu of %zu bins do not fill a %g-ms bin and are not used", path, p,
                       S % (size_t)k, S, o->bin_ms);
    if ((st = read_heldout(r, path, grp, (int)N, b, err))) goto done;
    if (o->condition && *o->condition && (st = nd_binned_read_condition(r, path, grp, o->condition, b, err))) goto done;
    if ((st = read_split(r, path, grp, (int)n, b, &dropped, err))) goto done;
    if (dropped) {
        if (o->strict) {
            st = nd_fail(err, ND_ERR_FORMAT, "%s: %s/split: %d trials have split 'none' (--strict)", path,
                         strcmp(grp, "/") ? grp : "", dropped);
            goto done;
        }
        drop_none_trials(b, (size_t)TB * N);
        nd_binned_warn(b, "%s: dropped %d of %zu trials whose split is 'none'", path, dropped, n);
    }
done:
    nd_free(x);
    nd_h5r_close(r);
    if (st) nd_binned_free(b);
    return st;
}
