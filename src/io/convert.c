#include "convert.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../core/mem.h"
#include "../core/rng.h"
#include "h5.h"
#include "h5x.h"
#include "mat.h"
#include "nwb.h"
#include "triplets.h"
#include "counts.h"
#include "nlb.h"

const char *nd_format_name(nd_format f) {
    switch (f) {
    case ND_FMT_NWB: return "NWB";
    case ND_FMT_MAT73: return "MATLAB v7.3";
    case ND_FMT_MAT5: return "MATLAB v5";
    case ND_FMT_TRIPLETS: return "spike-time triplets";
    case ND_FMT_COUNTS: return "binned counts";
    case ND_FMT_NLB: return "nlb_tools";
    case ND_FMT_LFADS_TORCH: return "lfads-torch";
    case ND_FMT_LFADS: return "LFADS";
    case ND_FMT_HDF5: return "HDF5";
    default: return "unknown";
    }
}

/* a root-level object carrying MATLAB_class: a v7.3 file written without MATLAB's header */
static int has_matlab_class(nd_h5r *r) {
    char **names = NULL;
    size_t n = 0;
    nd_error e;
    int found = 0;
    if (nd_h5r_children(r, "/", &names, &n, &e) != ND_OK) return 0;
    for (size_t i = 0; i < n && !found; i++) {
        char p[1100], cls[64];
        snprintf(p, sizeof p, "/%s", names[i]);
        found = nd_h5r_attr_string(r, p, "MATLAB_class", cls, sizeof cls);
    }
    nd_h5r_free_strings(names, n);
    return found;
}

nd_format nd_detect_format(const char *path, const char *group, nd_error *err) {
    int v = nd_mat_version(path);
    if (v == 0) {
        nd_h5r *r;
        nd_h5r_open(path, &r, err); /* fills err: missing / unreadable / empty */
        if (r) nd_h5r_close(r);
        else return ND_FMT_UNKNOWN;
        nd_fail(err, ND_ERR_FORMAT, "%s: empty file", path);
        return ND_FMT_UNKNOWN;
    }
    if (v == 5) return ND_FMT_MAT5;
    nd_h5r *r = NULL;
    if (nd_h5r_open(path, &r, err) != ND_OK) {
        if (err && err->code == ND_ERR_FORMAT)
            nd_fail(err, ND_ERR_FORMAT, "%s: neither HDF5 (NWB, MATLAB v7.3, LFADS, triplets) nor a MATLAB v5 MAT-file",
                    path);
        return ND_FMT_UNKNOWN;
    }
    nd_format f = ND_FMT_HDF5;
    char g[512];
    FILE *fp = fopen(path, "rb");
    char head[20] = "";
    if (fp) {
        if (fread(head, 1, 19, fp) != 19) head[0] = 0;
        fclose(fp);
    }
    if (!memcmp(head, "MATLAB 7.3 MAT-file", 19) || has_matlab_class(r)) f = ND_FMT_MAT73;
    else if (nd_nwb_detect(r)) f = ND_FMT_NWB;
    else if (nd_triplets_detect(r, group, g, sizeof g)) f = ND_FMT_TRIPLETS;
    else if (nd_h5r_kind(r, "/train_encod_data") == ND_H5R_DATASET) f = ND_FMT_LFADS_TORCH;
    else if (nd_nlb_detect(r)) f = ND_FMT_NLB;
    else if (nd_h5r_kind(r, "/train_data") == ND_H5R_DATASET) f = ND_FMT_LFADS;
    else if (nd_counts_detect(r, group, g, sizeof g)) f = ND_FMT_COUNTS;
    nd_h5r_close(r);
    return f;
}

nd_status nd_read_binned(const char *path, const nd_bin_opts *o, nd_binned *b, nd_error *err) {
    memset(b, 0, sizeof *b);
    nd_error e;
    nd_format f = nd_detect_format(path, o->group, &e);
    switch (f) {
    case ND_FMT_NWB: return nd_nwb_read(path, o, b, err);
    case ND_FMT_MAT73:
    case ND_FMT_MAT5: return nd_mat_read(path, o, b, err);
    case ND_FMT_TRIPLETS: return nd_triplets_read(path, o, b, err);
    case ND_FMT_COUNTS: return nd_counts_read(path, o, b, err);
    case ND_FMT_NLB: return nd_nlb_read(path, o, b, err);
    case ND_FMT_LFADS_TORCH:
    case ND_FMT_LFADS:
        return nd_fail(err, ND_ERR_FORMAT, "%s: is already an %s file (train_data / train_encod_data): 'neurodyn train' "
                                           "reads it directly",
                       path, nd_format_name(f));
    case ND_FMT_HDF5:
        if (o->group) return nd_triplets_read(path, o, b, err); /* names the missing dataset */
        return nd_fail(err, ND_ERR_FORMAT,
                       "%s: /: no /units (NWB), MATLAB struct array, spike_times/{time_ms,neuron,trial} group or "
                       "3-D 'spikes' counts found (--group names the triplets group or counts dataset)",
                       path);
    default: return nd_fail(err, e.code ? e.code : ND_ERR_FORMAT, "%s", e.msg);
    }
}

void nd_convert_opts_default(nd_convert_opts *o) {
    memset(o, 0, sizeof *o);
    o->valid_fraction = 0.2;
}

void nd_assignment_free(nd_assignment *a) {
    if (!a) return;
    nd_free(a->heldin);
    nd_free(a->heldout);
    nd_free(a->split);
    memset(a, 0, sizeof *a);
}

static long share(int n, double frac) {
    if (!(frac > 0)) return 0;
    long k = lround((double)n * frac);
    return k < 1 ? 1 : k;
}

nd_status nd_convert_assign(const nd_binned *b, const nd_convert_opts *o, nd_assignment *a, nd_error *err) {
    memset(a, 0, sizeof *a);
    if (!(o->valid_fraction >= 0 && o->valid_fraction < 1) || !(o->test_fraction >= 0 && o->test_fraction < 1) ||
        !(o->heldout_fraction >= 0 && o->heldout_fraction < 1))
        return nd_fail(err, ND_ERR_ARG, "fractions must be in [0, 1)");
    const int n = b->n, N = b->N;
    a->split = nd_alloc((size_t)(n ? n : 1));
    a->heldin = nd_alloc((size_t)(N ? N : 1) * sizeof(int));
    a->heldout = nd_alloc((size_t)(N ? N : 1) * sizeof(int));
    int *perm = nd_alloc((size_t)((n > N ? n : N) + 1) * sizeof(int));
    unsigned char *ho = nd_alloc((size_t)(N ? N : 1));
    nd_status st = ND_OK;
    if (!a->split || !a->heldin || !a->heldout || !perm || !ho) {
        st = nd_fail(err, ND_ERR_NOMEM, "out of memory");
        goto done;
    }
    /* held-out neurons */
    if (b->heldout && !o->ignore_file_heldout) {
        memcpy(ho, b->heldout, (size_t)N);
        snprintf(a->heldout_source, sizeof a->heldout_source, "%s", b->heldout_source);
    } else if (o->heldout_fraction > 0) {
        long k = share(N, o->heldout_fraction);
        if (k > N - 1) {
            st = nd_fail(err, ND_ERR_ARG, "--heldout-fraction %g of %d units leaves no held-in unit", o->heldout_fraction,
                         N);
            goto done;
        }
        for (int i = 0; i < N; i++) perm[i] = i;
        nd_rng r;
        nd_rng_stream(&r, o->seed, 2, 0);
        nd_rng_shuffle(&r, perm, N);
        for (long i = 0; i < k; i++) ho[perm[i]] = 1;
        snprintf(a->heldout_source, sizeof a->heldout_source, "random: %ld of %d units (--heldout-fraction %g, seed %llu)",
                 k, N, o->heldout_fraction, (unsigned long long)o->seed);
    } else snprintf(a->heldout_source, sizeof a->heldout_source, "none");
    for (int i = 0; i < N; i++) {
        if (ho[i]) a->heldout[a->n_heldout++] = i;
        else a->heldin[a->n_heldin++] = i;
    }
    if (a->n_heldin == 0) {
        st = nd_fail(err, ND_ERR_FORMAT, "%s: %s: every unit is held out; nothing is left for the encoder", b->source,
                     a->heldout_source);
        goto done;
    }
    /* splits */
    if (b->split && !o->ignore_file_split) {
        int np = 0;
        for (int i = 0; i < n; i++) {
            a->split[i] = b->split[i] < 0 ? 0 : b->split[i];
            if (b->split[i] == -2) perm[np++] = i;
        }
        snprintf(a->split_source, sizeof a->split_source, "%s", b->split_source);
        if (np > 0) { /* a pool of train trials: draw the valid ones (the pool keeps its order in perm) */
            long nv = share(np, o->valid_fraction);
            if (nv > np - 1) {
                st = nd_fail(err, ND_ERR_ARG, "%d train trials: --valid-fraction %g leaves no training trial", np,
                             o->valid_fraction);
                goto done;
            }
            nd_rng r;
            nd_rng_stream(&r, o->seed, 1, 0);
            nd_rng_shuffle(&r, perm, np);
            for (long i = 0; i < nv; i++) a->split[perm[i]] = 1;
            size_t l = strlen(a->split_source);
            snprintf(a->split_source + l, sizeof a->split_source - l, "; valid: %ld of %d (--valid-fraction %g, seed %llu)",
                     nv, np, o->valid_fraction, (unsigned long long)o->seed);
        }
    } else {
        long nt = share(n, o->test_fraction), nv = share(n, o->valid_fraction);
        if (nt + nv > n - 1) {
            st = nd_fail(err, ND_ERR_ARG,
                         "%d trials: --valid-fraction %g and --test-fraction %g leave no training trial", n,
                         o->valid_fraction, o->test_fraction);
            goto done;
        }
        for (int i = 0; i < n; i++) perm[i] = i;
        nd_rng r;
        nd_rng_stream(&r, o->seed, 1, 0);
        nd_rng_shuffle(&r, perm, n);
        memset(a->split, 0, (size_t)n);
        for (long i = 0; i < nt; i++) a->split[perm[i]] = 2;
        for (long i = nt; i < nt + nv; i++) a->split[perm[i]] = 1;
        snprintf(a->split_source, sizeof a->split_source,
                 "random: --valid-fraction %g, --test-fraction %g, seed %llu", o->valid_fraction, o->test_fraction,
                 (unsigned long long)o->seed);
    }
    for (int i = 0; i < n; i++) a->count[(int)a->split[i]]++;
    if (a->count[0] == 0) {
        st = nd_fail(err, ND_ERR_FORMAT, "%s: %s: no training trials", b->source, a->split_source);
        goto done;
    }
done:
    nd_free(perm);
    nd_free(ho);
    if (st) nd_assignment_free(a);
    return st;
}

/* [n_s][bins][units] gathered from b: trials of split s, bins [0, nb), units heldin (+ heldout) */
static float *gather(const nd_binned *b, const nd_assignment *a, int s, int nb, int with_heldout) {
    const int TB = b->T + b->fp, nu = a->n_heldin + (with_heldout ? a->n_heldout : 0);
    float *x = nd_alloc(((size_t)a->count[s] * (size_t)nb * (size_t)nu + 1) * sizeof(float));
    if (!x) return NULL;
    size_t o = 0;
    for (int i = 0; i < b->n; i++) {
        if (a->split[i] != s) continue;
        for (int t = 0; t < nb; t++) {
            const float *row = b->counts + ((size_t)i * (size_t)TB + (size_t)t) * (size_t)b->N;
            for (int j = 0; j < a->n_heldin; j++) x[o++] = row[a->heldin[j]];
            if (with_heldout)
                for (int j = 0; j < a->n_heldout; j++) x[o++] = row[a->heldout[j]];
        }
    }
    return x;
}

nd_status nd_convert_write(const nd_binned *b, const nd_assignment *a, const nd_bin_opts *bo,
                           const nd_convert_opts *o, const char *out, nd_error *err) {
    static const char *const names[3] = {"train", "valid", "test"};
    nd_h5file *f = NULL;
    nd_status st = nd_h5_create(&f, out, err);
    if (st) return st;
    const int T = b->T, TB = b->T + b->fp;
    char name[64];
    for (int s = 0; s < 3 && !st; s++) {
        const int ns = a->count[s];
        if (ns == 0) continue;
        float *enc = gather(b, a, s, T, 0);
        if (!enc) {
            st = nd_fail(err, ND_ERR_NOMEM, "%s: out of memory", out);
            break;
        }
        size_t de[3] = {(size_t)ns, (size_t)T, (size_t)a->n_heldin};
        snprintf(name, sizeof name, "%s_encod_data", names[s]);
        st = nd_h5_write_float(f, name, enc, 3, de, err);
        nd_free(enc);
        if (!st && s == 2 && o->keep_test_targets && b->no_test_targets)
            st = nd_fail(err, ND_ERR_ARG, "%s: --keep-test-targets: the test trials' held-out neurons / forward bins are "
                         "not in the input", b->source);
        if (!st && (s < 2 || o->keep_test_targets)) {
            float *rec = gather(b, a, s, TB, 1);
            if (!rec) st = nd_fail(err, ND_ERR_NOMEM, "%s: out of memory", out);
            else {
                size_t dr[3] = {(size_t)ns, (size_t)TB, (size_t)(a->n_heldin + a->n_heldout)};
                snprintf(name, sizeof name, s < 2 ? "%s_recon_data" : "%s_recon_data_eval", names[s]);
                st = nd_h5_write_float(f, name, rec, 3, dr, err);
                nd_free(rec);
            }
        }
        int *ids = nd_alloc((size_t)ns * sizeof(int)), *cond = nd_alloc((size_t)ns * sizeof(int));
        const int has_beh = b->B && !(s == 2 && b->no_test_behavior); /* hidden test behaviour: not written */
        float *beh = has_beh ? nd_alloc(((size_t)ns * (size_t)T * (size_t)b->B + 1) * sizeof(float)) : NULL;
        if (!ids || !cond || (has_beh && !beh)) st = st ? st : nd_fail(err, ND_ERR_NOMEM, "%s: out of memory", out);
        if (!st) {
            int k = 0;
            size_t bl = (size_t)T * (size_t)b->B;
            for (int i = 0; i < b->n; i++) {
                if (a->split[i] != s) continue;
                ids[k] = b->trial_ids[i];
                if (b->condition) cond[k] = b->condition[i];
                if (beh) memcpy(beh + (size_t)k * bl, b->behavior + (size_t)i * bl, bl * sizeof(float));
                k++;
            }
            size_t d1 = (size_t)ns;
            snprintf(name, sizeof name, "%s_inds", names[s]);
            st = nd_h5_write_int(f, name, ids, 1, &d1, err);
            if (!st && b->condition) {
                snprintf(name, sizeof name, "%s_condition", names[s]);
                st = nd_h5_write_int(f, name, cond, 1, &d1, err);
            }
            if (!st && beh) {
                size_t db[3] = {(size_t)ns, (size_t)T, (size_t)b->B};
                snprintf(name, sizeof name, "%s_behavior", names[s]);
                st = nd_h5_write_float(f, name, beh, 3, db, err);
            }
        }
        nd_free(ids);
        nd_free(cond);
        nd_free(beh);
    }
    if (!st) {
        size_t d = (size_t)a->n_heldin;
        st = nd_h5_write_int(f, "heldin_neurons", a->heldin, 1, &d, err);
    }
    if (!st) {
        size_t d = (size_t)a->n_heldout;
        st = nd_h5_write_int(f, "heldout_neurons", a->heldout, 1, &d, err);
    }
    if (!st && b->unit_ids) {
        double *ids = nd_alloc((size_t)b->N * sizeof(double));
        if (!ids) st = nd_fail(err, ND_ERR_NOMEM, "%s: out of memory", out);
        else {
            for (int i = 0; i < b->N; i++) ids[i] = (double)b->unit_ids[i];
            size_t d = (size_t)b->N;
            int *iv = nd_alloc((size_t)b->N * sizeof(int));
            int fits = iv != NULL;
            for (int i = 0; fits && i < b->N; i++) {
                if (b->unit_ids[i] < -2147483647LL || b->unit_ids[i] > 2147483647LL) fits = 0;
                else iv[i] = (int)b->unit_ids[i];
            }
            st = fits ? nd_h5_write_int(f, "unit_ids", iv, 1, &d, err) : nd_h5_write_double(f, "unit_ids", ids, 1, &d, err);
            nd_free(iv);
            nd_free(ids);
        }
    }
    /* attributes */
    char buf[2048];
    if (!st) st = nd_h5_write_attr_double(f, "/", "bin_ms", bo->bin_ms, err);
    if (!st) st = nd_h5_write_attr_string(f, "/", "align_event", b->align, err);
    if (!st) st = nd_h5_write_attr_double(f, "/", "window_start_ms", b->window_start_ms, err);
    if (!st) st = nd_h5_write_attr_double(f, "/", "window_end_ms", b->window_end_ms, err);
    snprintf(buf, sizeof buf, "%g:%g", b->window_start_ms, b->window_end_ms);
    if (!st) st = nd_h5_write_attr_string(f, "/", "window_ms", buf, err);
    if (!st) st = nd_h5_write_attr_double(f, "/", "fp_bins", (double)b->fp, err);
    if (!st) st = nd_h5_write_attr_double(f, "/", "seed", (double)o->seed, err);
    if (!st) st = nd_h5_write_attr_string(f, "/", "source_file", b->source, err);
    if (!st) st = nd_h5_write_attr_string(f, "/", "source_format", b->format, err);
    if (!st) st = nd_h5_write_attr_double(f, "/", "valid_fraction", o->valid_fraction, err);
    if (!st) st = nd_h5_write_attr_double(f, "/", "test_fraction", o->test_fraction, err);
    if (!st) st = nd_h5_write_attr_double(f, "/", "heldout_fraction", o->heldout_fraction, err);
    if (!st) st = nd_h5_write_attr_string(f, "/", "split_source", a->split_source, err);
    if (!st) st = nd_h5_write_attr_string(f, "/", "heldout_source", a->heldout_source, err);
    if (!st) st = nd_h5_write_attr_string(f, "/", "behavior", b->B ? b->behavior_name : "", err);
    if (!st && b->B) st = nd_h5_write_attr_string(f, "/", "behavior_at", bo->behavior_center ? "bin centre" : "bin start", err);
    if (!st && b->B) st = nd_h5_write_attr_double(f, "/", "behavior_lag_ms", bo->behavior_lag_ms, err);
    if (!st && b->condition) {
        st = nd_h5_write_attr_string(f, "/", "condition_source", b->condition_source, err);
        size_t len = 1;
        for (int c = 0; c < b->n_conditions; c++) len += strlen(b->condition_names[c]) + 1;
        char *cn = malloc(len);
        if (!cn) st = st ? st : nd_fail(err, ND_ERR_NOMEM, "%s: out of memory", out);
        else {
            cn[0] = 0;
            for (int c = 0; c < b->n_conditions; c++) {
                if (c) strcat(cn, "\n");
                strcat(cn, b->condition_names[c]);
            }
            if (!st) st = nd_h5_write_attr_string(f, "/", "condition_names", cn, err);
            free(cn);
        }
    }
    if (!st) st = nd_h5_write_attr_double(f, "/", "n_source_trials", (double)b->n_source_trials, err);
    if (!st) st = nd_h5_write_attr_double(f, "/", "n_dropped_trials", (double)(b->n_source_trials - b->n), err);
    if (!st) st = nd_h5_write_attr_string(f, "/", "converted_by", "neurodyn convert", err);
    nd_error e2;
    nd_status cs = nd_h5_close(f, st == ND_OK, st ? &e2 : err);
    return st ? st : cs;
}
