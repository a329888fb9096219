#include "triplets.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../core/mem.h"

static void join(char *out, size_t cap, const char *g, const char *name) {
    if (!strcmp(g, "/")) snprintf(out, cap, "/%s", name);
    else snprintf(out, cap, "%s%s/%s", g[0] == '/' ? "" : "/", g, name);
}

static int has_triplets(nd_h5r *r, const char *g) {
    char p[600];
    static const char *const names[3] = {"time_ms", "neuron", "trial"};
    if (nd_h5r_kind(r, g) != ND_H5R_GROUP) return 0;
    for (int i = 0; i < 3; i++) {
        join(p, sizeof p, g, names[i]);
        if (nd_h5r_kind(r, p) != ND_H5R_DATASET) return 0;
    }
    return 1;
}

int nd_triplets_detect(nd_h5r *r, const char *group, char *out, size_t cap) {
    const char *cands[2] = {"spike_times", "/"};
    if (group) {
        if (!has_triplets(r, group)) return 0;
        snprintf(out, cap, "%s", group);
        return 1;
    }
    for (int i = 0; i < 2; i++)
        if (has_triplets(r, cands[i])) {
            snprintf(out, cap, "%s", cands[i]);
            return 1;
        }
    return 0;
}

nd_status nd_binned_read_condition(nd_h5r *r, const char *path, const char *group, const char *name, nd_binned *b,
                                   nd_error *err) {
    char pc[600];
    int n = b->n;
    char **keys = NULL;
    nd_status st = ND_OK;
    join(pc, sizeof pc, group, name);
    if (nd_h5r_kind(r, pc) != ND_H5R_DATASET) join(pc, sizeof pc, "/", name);
    if (nd_h5r_kind(r, pc) != ND_H5R_DATASET)
        return nd_fail(err, ND_ERR_FORMAT, "%s: %s: missing condition dataset (one value per trial)", path, pc);
    nd_h5r_info ic;
    if ((st = nd_h5r_info_of(r, pc, &ic, err))) return st;
    if (ic.rank != 1 || ic.numel != (size_t)n)
        return nd_fail(err, ND_ERR_FORMAT, "%s: %s: has %zu elements, there are %d trials", path, pc, ic.numel, n);
    size_t m = 0;
    if (ic.cls == ND_H5R_STRING) {
        if ((st = nd_h5r_read_strings(r, pc, &keys, &m, err))) return st;
    } else {
        double *x;
        if ((st = nd_h5r_read_f64(r, pc, &x, &ic, err))) return st;
        keys = calloc((size_t)n, sizeof *keys);
        for (int i = 0; keys && i < n; i++) {
            char v[64];
            snprintf(v, sizeof v, "%.15g", x[i]);
            keys[i] = strdup(v);
        }
        nd_free(x);
        if (!keys) return nd_fail(err, ND_ERR_NOMEM, "%s: out of memory", path);
        for (int i = 0; i < n; i++)
            if (!keys[i]) {
                st = nd_fail(err, ND_ERR_NOMEM, "%s: out of memory", path);
                goto done;
            }
    }
    if ((st = nd_binned_set_conditions(b, keys, err))) goto done;
    snprintf(b->condition_source, sizeof b->condition_source, "%s", pc);
done:
    nd_h5r_free_strings(keys, (size_t)n);
    return st;
}

nd_status nd_triplets_read(const char *path, const nd_bin_opts *o, nd_binned *b, nd_error *err) {
    memset(b, 0, sizeof *b);
    snprintf(b->source, sizeof b->source, "%s", path);
    snprintf(b->format, sizeof b->format, "triplets");
    if (!(o->bin_ms > 0) || !isfinite(o->bin_ms)) return nd_fail(err, ND_ERR_ARG, "bin width must be > 0 ms");
    const int64_t bin_ns = llround(o->bin_ms * 1e6);
    if (bin_ns < 1) return nd_fail(err, ND_ERR_ARG, "bin width %g ms is below 1 ns", o->bin_ms);
    if (o->align)
        return nd_fail(err, ND_ERR_ARG, "--align does not apply to spike-time triplets (times are from trial start; "
                                        "use --window)");
    if (o->fp_bins < 0) return nd_fail(err, ND_ERR_ARG, "forward-prediction bins must be >= 0");
    nd_h5r *r = NULL;
    nd_status st = nd_h5r_open(path, &r, err);
    if (st) return st;
    double *t = NULL;
    int64_t *nu = NULL, *tr = NULL;
    int n = 0;
    char g[512], pt[600], pn[600], ptr[600];
    if (!nd_triplets_detect(r, o->group, g, sizeof g)) {
        const char *gg = o->group ? o->group : "spike_times";
        char shown[520];
        snprintf(shown, sizeof shown, "%s%s", gg[0] == '/' ? "" : "/", gg);
        if (nd_h5r_kind(r, gg) != ND_H5R_GROUP)
            st = nd_fail(err, ND_ERR_FORMAT, "%s: %s: missing group (spike-time triplets: time_ms, neuron, trial)", path,
                         shown);
        else {
            join(pt, sizeof pt, gg, "time_ms");
            join(pn, sizeof pn, gg, "neuron");
            join(ptr, sizeof ptr, gg, "trial");
            const char *miss = nd_h5r_kind(r, pt) != ND_H5R_DATASET ? pt : nd_h5r_kind(r, pn) != ND_H5R_DATASET ? pn : ptr;
            st = nd_fail(err, ND_ERR_FORMAT, "%s: %s: missing dataset (spike-time triplets need time_ms, neuron, trial)",
                         path, miss);
        }
        goto done;
    }
    join(pt, sizeof pt, g, "time_ms");
    join(pn, sizeof pn, g, "neuron");
    join(ptr, sizeof ptr, g, "trial");
    nd_h5r_info it, in, itr;
    if ((st = nd_h5r_read_f64(r, pt, &t, &it, err))) goto done;
    if ((st = nd_h5r_read_i64(r, pn, &nu, &in, err))) goto done;
    if ((st = nd_h5r_read_i64(r, ptr, &tr, &itr, err))) goto done;
    if (it.rank != 1) {
        st = nd_fail(err, ND_ERR_FORMAT, "%s: %s: has rank %d, expected 1-D", path, pt, it.rank);
        goto done;
    }
    if (in.rank != 1 || in.numel != it.numel || itr.rank != 1 || itr.numel != it.numel) {
        int bad_n = in.rank != 1 || in.numel != it.numel;
        st = nd_fail(err, ND_ERR_FORMAT, "%s: %s: has %zu elements (rank %d), %s has %zu", path, bad_n ? pn : ptr,
                     bad_n ? in.numel : itr.numel, bad_n ? in.rank : itr.rank, pt, it.numel);
        goto done;
    }
    size_t ns = it.numel;
    int64_t maxn = -1, maxtr = -1;
    double maxt = -INFINITY, mint = INFINITY;
    for (size_t i = 0; i < ns; i++) {
        if (!isfinite(t[i])) {
            st = nd_fail(err, ND_ERR_FORMAT, "%s: %s: element %zu is %s", path, pt, i, isnan(t[i]) ? "NaN" : "infinite");
            goto done;
        }
        if (nu[i] < 0 || nu[i] > 10000000) {
            st = nd_fail(err, ND_ERR_FORMAT, "%s: %s: element %zu = %lld is not a unit index in [0, 1e7]", path, pn, i,
                         (long long)nu[i]);
            goto done;
        }
        if (tr[i] < 0 || tr[i] > 100000000) {
            st = nd_fail(err, ND_ERR_FORMAT, "%s: %s: element %zu = %lld is not a trial index in [0, 1e8]", path, ptr,
                         i, (long long)tr[i]);
            goto done;
        }
        if (nu[i] > maxn) maxn = nu[i];
        if (tr[i] > maxtr) maxtr = tr[i];
        if (t[i] > maxt) maxt = t[i];
        if (t[i] < mint) mint = t[i];
    }
    if (ns == 0 && o->n_trials <= 0) {
        st = nd_fail(err, ND_ERR_FORMAT, "%s: %s: no spikes (and no --trials given)", path, pt);
        goto done;
    }
    n = o->n_trials > 0 ? o->n_trials : (int)(maxtr + 1);
    if (maxtr >= n) {
        st = nd_fail(err, ND_ERR_FORMAT, "%s: %s: trial index %lld is beyond --trials %d", path, ptr, (long long)maxtr, n);
        goto done;
    }
    const int N = (int)(maxn + 1 > 0 ? maxn + 1 : 1);
    /* trial extent [0, D) */
    int64_t D_ns;
    if (o->trial_ms > 0) D_ns = llround(o->trial_ms * 1e6);
    else D_ns = ns ? (nd_floor_div64(nd_time_ns(maxt, 1e6), bin_ns) + 1) * bin_ns : bin_ns;
    if (D_ns < bin_ns) D_ns = bin_ns;
    int64_t w0 = 0, w1 = D_ns;
    if (o->has_window) {
        w0 = llround(o->win_start_ms * 1e6);
        w1 = llround(o->win_end_ms * 1e6);
    } else if (o->fp_bins) {
        w1 = D_ns - (int64_t)o->fp_bins * bin_ns; /* without a window the forward bins are the trial's last */
        if (w1 <= 0) {
            st = nd_fail(err, ND_ERR_ARG, "--fp-bins %d: trials of %g ms leave no observed bins", o->fp_bins,
                         (double)D_ns / 1e6);
            goto done;
        }
    }
    if (!(w1 > w0) || (w1 - w0) % bin_ns != 0) {
        st = nd_fail(err, ND_ERR_ARG, "window %g:%g ms is not a whole, positive number of %g ms bins", (double)w0 / 1e6,
                     (double)w1 / 1e6, o->bin_ms);
        goto done;
    }
    const int T = (int)((w1 - w0) / bin_ns), TB = T + o->fp_bins;
    int64_t wend = w1 + (int64_t)o->fp_bins * bin_ns;
    if (w0 < 0 || wend > D_ns) {
        st = nd_fail(err, ND_ERR_FORMAT,
                     "%s: %s: window %g:%g ms + %d forward bins is outside the trials' extent [0, %g) ms (%s)", path, pt,
                     (double)w0 / 1e6, (double)w1 / 1e6, o->fp_bins, (double)D_ns / 1e6,
                     o->trial_ms > 0 ? "--trial-ms" : "the latest spike rounded up to a bin; pass --trial-ms to extend");
        goto done;
    }
    if ((st = nd_binned_alloc(b, n, T, o->fp_bins, N, 0, err))) goto done;
    b->n_source_trials = n;
    b->window_start_ms = (double)w0 / 1e6;
    b->window_end_ms = (double)w1 / 1e6;
    for (int i = 0; i < n; i++) b->trial_ids[i] = i;
    size_t before = 0;
    for (size_t i = 0; i < ns; i++) {
        int64_t k = nd_bin_index(t[i], 1e6, w0, bin_ns);
        if (nd_time_ns(t[i], 1e6) < 0) before++;
        if (k < 0 || k >= TB) continue;
        b->counts[((size_t)tr[i] * (size_t)TB + (size_t)k) * (size_t)N + (size_t)nu[i]] += 1.0f;
    }
    if (before && !o->has_window)
        nd_binned_warn(b, "%s: %s: %zu spikes before 0 ms are outside the window and not counted (earliest %g ms)", path,
                       pt, before, mint);
    {
        int *per = calloc((size_t)N, sizeof(int));
        if (per) {
            for (size_t i = 0; i < ns; i++) per[nu[i]] = 1;
            int empty = 0, first = -1;
            for (int k = 0; k < N; k++)
                if (!per[k] && empty++ == 0) first = k;
            if (empty)
                nd_binned_warn(b, "%s: %s: %d of %d units have no spikes (first: unit %d); kept", path, pn, empty, N,
                               first);
            free(per);
        }
    }
    if (o->condition && *o->condition && (st = nd_binned_read_condition(r, path, g, o->condition, b, err))) goto done;
done:
    nd_free(t);
    nd_free(nu);
    nd_free(tr);
    nd_h5r_close(r);
    if (st) nd_binned_free(b);
    return st;
}
