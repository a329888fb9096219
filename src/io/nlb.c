#include "nlb.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../core/mem.h"

int nd_nlb_detect(nd_h5r *r) { return nd_h5r_kind(r, "/train_spikes_heldin") == ND_H5R_DATASET; }

/* where dataset `name` is: the root, or the one group below it that holds it; "" if nowhere */
static void locate(nd_h5r *r, const char *name, char *out, size_t cap) {
    out[0] = 0;
    snprintf(out, cap, "/%s", name);
    if (nd_h5r_kind(r, out) == ND_H5R_DATASET) return;
    out[0] = 0;
    char **kids = NULL;
    size_t n = 0;
    nd_error e;
    if (nd_h5r_children(r, "/", &kids, &n, &e) != ND_OK) return;
    for (size_t i = 0; i < n && !out[0]; i++) {
        char p[1200];
        snprintf(p, sizeof p, "/%s/%s", kids[i], name);
        if (nd_h5r_kind(r, p) == ND_H5R_DATASET) snprintf(out, cap, "%s", p);
    }
    nd_h5r_free_strings(kids, n);
}

typedef struct {
    double *x;
    size_t n, T, N; /* dims; x NULL when absent */
    char path[1200];
} arr3;

/* read `name` (if present, at the root or one group down) as a rank-3 array */
static nd_status read3(nd_h5r *r, const char *file, const char *name, arr3 *a, nd_error *err) {
    memset(a, 0, sizeof *a);
    locate(r, name, a->path, sizeof a->path);
    if (!a->path[0]) return ND_OK;
    nd_h5r_info in;
    nd_status st = nd_h5r_read_f64(r, a->path, &a->x, &in, err);
    if (st) return st;
    if (in.rank != 3) {
        nd_free(a->x);
        a->x = NULL;
        return nd_fail(err, ND_ERR_FORMAT, "%s: %s: rank %d, expected [trials][bins][neurons]", file, a->path, in.rank);
    }
    a->n = in.dims[0];
    a->T = in.dims[1];
    a->N = in.dims[2];
    return ND_OK;
}

static nd_status need(const arr3 *a, const char *file, size_t n, size_t T, size_t N, nd_error *err) {
    if (!a->x) return ND_OK;
    if ((n && a->n != n) || (T && a->T != T) || (N && a->N != N))
        return nd_fail(err, ND_ERR_FORMAT, "%s: %s: shape [%zu][%zu][%zu] does not match the other arrays "
                       "([%zu][%zu][%zu] expected, 0 = any)", file, a->path, a->n, a->T, a->N, n, T, N);
    return ND_OK;
}

/* copy src [n][Ts][Ns] into b->counts rows [row0, row0 + n), bins [t0, t0 + Ts), units [u0, u0 + Ns) */
static nd_status put(nd_binned *b, const arr3 *a, const char *file, int row0, int t0, int u0, nd_error *err) {
    if (!a->x) return ND_OK;
    const int TB = b->T + b->fp;
    for (size_t i = 0; i < a->n; i++)
        for (size_t t = 0; t < a->T; t++)
            for (size_t k = 0; k < a->N; k++) {
                double v = a->x[(i * a->T + t) * a->N + k];
                if (!isfinite(v) || v < 0 || v != floor(v))
                    return nd_fail(err, ND_ERR_FORMAT, "%s: %s: [%zu][%zu][%zu] = %g is not a spike count", file, a->path,
                                   i, t, k, v);
                b->counts[(((size_t)row0 + i) * TB + t0 + t) * b->N + u0 + k] = (float)v;
            }
    return ND_OK;
}

nd_status nd_nlb_read(const char *path, const nd_bin_opts *o, nd_binned *b, nd_error *err) {
    memset(b, 0, sizeof *b);
    if (!(o->bin_ms > 0) || !isfinite(o->bin_ms))
        return nd_fail(err, ND_ERR_ARG, "%s: nlb_tools files do not store the bin width: give --bin-ms (5 for the "
                       "benchmark's 5-ms tensors)", path);
    nd_h5r *r;
    nd_status st = nd_h5r_open(path, &r, err);
    if (st) return st;
    enum { TRI, TRO, EVI, EVO, TRIF, TROF, EVIF, EVOF, TRB, EVB, NA };
    static const char *nm[NA] = {"train_spikes_heldin", "train_spikes_heldout", "eval_spikes_heldin",
                                 "eval_spikes_heldout", "train_spikes_heldin_forward", "train_spikes_heldout_forward",
                                 "eval_spikes_heldin_forward", "eval_spikes_heldout_forward", "train_behavior",
                                 "eval_behavior"};
    arr3 a[NA];
    memset(a, 0, sizeof a);
    for (int k = 0; k < NA && !st; k++) st = read3(r, path, nm[k], &a[k], err);
    nd_h5r_close(r);
    if (!st && !a[TRI].x) st = nd_fail(err, ND_ERR_FORMAT, "%s: train_spikes_heldin missing", path);
    size_t n1 = a[TRI].n, T = a[TRI].T, Nin = a[TRI].N, n2 = a[EVI].x ? a[EVI].n : 0;
    size_t Nout = a[TRO].x ? a[TRO].N : 0, fp = a[TRIF].x ? a[TRIF].T : 0;
    size_t B = a[TRB].x ? a[TRB].N : 0;
    if (!st) st = need(&a[TRO], path, n1, T, 0, err);
    if (!st) st = need(&a[EVI], path, 0, T, Nin, err);
    if (!st) st = need(&a[EVO], path, n2, T, Nout, err);
    if (!st && a[EVO].x && !a[EVI].x) st = nd_fail(err, ND_ERR_FORMAT, "%s: eval_spikes_heldout without eval_spikes_heldin", path);
    if (!st && a[EVO].x && !a[TRO].x) st = nd_fail(err, ND_ERR_FORMAT, "%s: eval_spikes_heldout without train_spikes_heldout", path);
    if (!st) st = need(&a[TRIF], path, n1, 0, Nin, err);
    if (!st) st = need(&a[TROF], path, n1, fp, Nout, err);
    if (!st) st = need(&a[EVIF], path, n2, fp, Nin, err);
    if (!st) st = need(&a[EVOF], path, n2, fp, Nout, err);
    if (!st && !fp && (a[TROF].x || a[EVIF].x || a[EVOF].x))
        st = nd_fail(err, ND_ERR_FORMAT, "%s: forward-prediction arrays without train_spikes_heldin_forward", path);
    if (!st && fp && Nout && !a[TROF].x)
        st = nd_fail(err, ND_ERR_FORMAT, "%s: train_spikes_heldout_forward missing beside train_spikes_heldin_forward", path);
    if (!st) st = need(&a[TRB], path, n1, T, 0, err);
    if (!st) st = need(&a[EVB], path, n2, T, B, err);
    if (!st && a[EVB].x && !a[TRB].x) st = nd_fail(err, ND_ERR_FORMAT, "%s: eval_behavior without train_behavior", path);
    if (!st && (n1 + n2 > 1u << 30 || T + fp > 1u << 24 || Nin + Nout > 1u << 24))
        st = nd_fail(err, ND_ERR_FORMAT, "%s: impossible sizes", path);
    if (!st) st = nd_binned_alloc(b, (int)(n1 + n2), (int)T, (int)fp, (int)(Nin + Nout), (int)B, err);
    if (!st && !(b->split = nd_alloc(n1 + n2 + 1))) st = nd_fail(err, ND_ERR_NOMEM, "%s: out of memory", path);
    if (!st && !(b->heldout = nd_alloc(Nin + Nout + 1))) st = nd_fail(err, ND_ERR_NOMEM, "%s: out of memory", path);
    if (!st) {
        snprintf(b->source, sizeof b->source, "%s", path);
        snprintf(b->format, sizeof b->format, "nlb_tools");
        b->n_source_trials = (int)(n1 + n2);
        for (size_t i = 0; i < n1 + n2; i++) {
            b->trial_ids[i] = (int)i;
            b->split[i] = i < n1 ? -2 : 2;
        }
        for (size_t k = 0; k < Nin + Nout; k++) b->heldout[k] = k >= Nin;
        snprintf(b->split_source, sizeof b->split_source, "%s: train_* trials (valid drawn from them), eval_* trials "
                 "as test", path);
        snprintf(b->heldout_source, sizeof b->heldout_source, "%s: *_spikes_heldout (%zu held-in, %zu held-out)", path,
                 Nin, Nout);
        b->window_start_ms = 0;
        b->window_end_ms = (double)T * o->bin_ms;
        b->no_test_targets = n2 > 0 && ((Nout && !a[EVO].x) || (fp && (!a[EVIF].x || (Nout && !a[EVOF].x))));
        b->no_test_behavior = n2 > 0 && B > 0 && !a[EVB].x;
        if (B) snprintf(b->behavior_name, sizeof b->behavior_name, "%.1000s", a[TRB].path);
    }
    if (!st) st = put(b, &a[TRI], path, 0, 0, 0, err);
    if (!st) st = put(b, &a[TRO], path, 0, 0, (int)Nin, err);
    if (!st) st = put(b, &a[TRIF], path, 0, (int)T, 0, err);
    if (!st) st = put(b, &a[TROF], path, 0, (int)T, (int)Nin, err);
    if (!st) st = put(b, &a[EVI], path, (int)n1, 0, 0, err);
    if (!st) st = put(b, &a[EVO], path, (int)n1, 0, (int)Nin, err);
    if (!st) st = put(b, &a[EVIF], path, (int)n1, (int)T, 0, err);
    if (!st) st = put(b, &a[EVOF], path, (int)n1, (int)T, (int)Nin, err);
    for (int s = 0; s < 2 && !st && B; s++) {
        const arr3 *x = &a[s ? EVB : TRB];
        if (!x->x) continue;
        size_t off = s ? n1 * T * B : 0;
        for (size_t i = 0; i < x->n * T * B; i++) {
            if (!isfinite(x->x[i])) { st = nd_fail(err, ND_ERR_FORMAT, "%s: %s: NaN/Inf", path, x->path); break; }
            b->behavior[off + i] = (float)x->x[i];
        }
    }
    if (!st && b->no_test_targets)
        nd_binned_warn(b, "%s: the eval trials' held-out neurons / forward bins are not in the file (hidden test "
                       "targets): the test split carries encoder data only", path);
    for (int k = 0; k < NA; k++) nd_free(a[k].x);
    if (st) nd_binned_free(b);
    return st;
}
