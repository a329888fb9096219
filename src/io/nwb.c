#include "nwb.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../core/mem.h"

#define UNITS "/units"
#define TRIALS "/intervals/trials"

int nd_nwb_detect(nd_h5r *r) {
    char buf[64];
    double v;
    if (nd_h5r_attr_string(r, "/", "nwb_version", buf, sizeof buf)) return 1;
    if (nd_h5r_attr_string(r, "/", "neurodata_type", buf, sizeof buf) && strcmp(buf, "NWBFile") == 0) return 1;
    (void)v;
    return nd_h5r_kind(r, UNITS) == ND_H5R_GROUP;
}

void nd_nwb_units_free(nd_nwb_units *u) {
    if (!u) return;
    nd_free(u->times);
    nd_free(u->end);
    nd_free(u->ids);
    nd_free(u->heldout);
    nd_free(u->obs);
    nd_free(u->obs_end);
    memset(u, 0, sizeof *u);
}

void nd_nwb_trials_free(nd_nwb_trials *t) {
    if (!t) return;
    nd_free(t->start);
    nd_free(t->stop);
    nd_h5r_free_strings(t->columns, (size_t)t->n_columns);
    memset(t, 0, sizeof *t);
}

static nd_status need_rank1(nd_h5r *r, const char *obj, const nd_h5r_info *in, nd_error *err) {
    if (in->rank == 1) return ND_OK;
    return nd_fail(err, ND_ERR_FORMAT, "%s: %s: has rank %d, expected a 1-D column", nd_h5r_file(r), obj, in->rank);
}

/* END-offset index (VectorIndex): non-negative, non-decreasing, last == total */
static nd_status check_index(nd_h5r *r, const char *obj, const int64_t *idx, size_t n, size_t total,
                             const char *target, nd_error *err) {
    const char *f = nd_h5r_file(r);
    int64_t prev = 0;
    for (size_t i = 0; i < n; i++) {
        if (idx[i] < 0)
            return nd_fail(err, ND_ERR_FORMAT, "%s: %s: element %zu = %lld is negative", f, obj, i, (long long)idx[i]);
        if (idx[i] < prev)
            return nd_fail(err, ND_ERR_FORMAT,
                           "%s: %s: decreasing at element %zu (%lld after %lld); end offsets must not decrease", f, obj,
                           i, (long long)idx[i], (long long)prev);
        if ((uint64_t)idx[i] > total)
            return nd_fail(err, ND_ERR_FORMAT, "%s: %s: element %zu = %lld points past the %zu elements of %s", f,
                           obj, i, (long long)idx[i], total, target);
        prev = idx[i];
    }
    if (n > 0 && (uint64_t)idx[n - 1] != total)
        return nd_fail(err, ND_ERR_FORMAT, "%s: %s: ragged: the last end offset is %lld but %s has %zu elements", f,
                       obj, (long long)idx[n - 1], target, total);
    return ND_OK;
}

nd_status nd_nwb_units_read(nd_h5r *r, nd_nwb_units *u, nd_error *err) {
    memset(u, 0, sizeof *u);
    const char *f = nd_h5r_file(r);
    nd_status st = nd_h5r_require_group(r, UNITS, "sorted units: spike_times + spike_times_index", err);
    if (st) return st;
    nd_h5r_info in;
    int64_t *ho = NULL;
    if ((st = nd_h5r_read_f64(r, UNITS "/spike_times", &u->times, &in, err))) goto fail;
    if ((st = need_rank1(r, UNITS "/spike_times", &in, err))) goto fail;
    u->n_spikes = in.numel;
    for (size_t i = 0; i < u->n_spikes; i++)
        if (!isfinite(u->times[i])) {
            st = nd_fail(err, ND_ERR_FORMAT, "%s: %s: element %zu is %s", f, UNITS "/spike_times", i,
                         isnan(u->times[i]) ? "NaN" : "infinite");
            goto fail;
        }
    if (nd_h5r_kind(r, UNITS "/spike_times_index") == ND_H5R_MISSING) {
        st = nd_fail(err, ND_ERR_FORMAT, "%s: %s: missing dataset (end offset of each unit's spikes in spike_times)",
                     f, UNITS "/spike_times_index");
        goto fail;
    }
    if ((st = nd_h5r_read_i64(r, UNITS "/spike_times_index", &u->end, &in, err))) goto fail;
    if ((st = need_rank1(r, UNITS "/spike_times_index", &in, err))) goto fail;
    if (in.numel == 0) {
        st = nd_fail(err, ND_ERR_FORMAT, "%s: %s: no units", f, UNITS "/spike_times_index");
        goto fail;
    }
    if (in.numel > 10000000) {
        st = nd_fail(err, ND_ERR_FORMAT, "%s: %s: too many units (%zu)", f, UNITS "/spike_times_index", in.numel);
        goto fail;
    }
    u->N = (int)in.numel;
    if ((st = check_index(r, UNITS "/spike_times_index", u->end, in.numel, u->n_spikes, UNITS "/spike_times", err)))
        goto fail;
    for (int k = 0; k < u->N; k++) {
        size_t a = k ? (size_t)u->end[k - 1] : 0, b = (size_t)u->end[k];
        for (size_t i = a + 1; i < b; i++)
            if (u->times[i] < u->times[i - 1]) {
                st = nd_fail(err, ND_ERR_FORMAT,
                             "%s: %s: unit %d's spike times are not sorted (element %zu = %.9g s after %.9g s)", f,
                             UNITS "/spike_times", k, i, u->times[i], u->times[i - 1]);
                goto fail;
            }
    }
    if (nd_h5r_kind(r, UNITS "/id") == ND_H5R_DATASET) {
        if ((st = nd_h5r_read_i64(r, UNITS "/id", &u->ids, &in, err))) goto fail;
        if (in.numel != (size_t)u->N) {
            st = nd_fail(err, ND_ERR_FORMAT, "%s: %s: has %zu rows, the units table has %d", f, UNITS "/id", in.numel,
                         u->N);
            goto fail;
        }
    }
    if (nd_h5r_kind(r, UNITS "/heldout") == ND_H5R_DATASET) {
        if ((st = nd_h5r_read_i64(r, UNITS "/heldout", &ho, &in, err))) goto fail;
        if (in.numel != (size_t)u->N) {
            st = nd_fail(err, ND_ERR_FORMAT, "%s: %s: has %zu rows, the units table has %d", f, UNITS "/heldout",
                         in.numel, u->N);
            goto fail;
        }
        u->heldout = nd_alloc((size_t)u->N);
        if (!u->heldout) {
            st = nd_fail(err, ND_ERR_NOMEM, "%s: out of memory", f);
            goto fail;
        }
        for (int k = 0; k < u->N; k++) {
            if (ho[k] != 0 && ho[k] != 1) {
                st = nd_fail(err, ND_ERR_FORMAT, "%s: %s: element %d = %lld is not a boolean (0/1)", f,
                             UNITS "/heldout", k, (long long)ho[k]);
                goto fail;
            }
            u->heldout[k] = (unsigned char)ho[k];
        }
        nd_free(ho);
        ho = NULL;
    }
    if (nd_h5r_kind(r, UNITS "/obs_intervals") == ND_H5R_DATASET) {
        if ((st = nd_h5r_read_f64(r, UNITS "/obs_intervals", &u->obs, &in, err))) goto fail;
        if (!(in.rank == 2 && in.dims[1] == 2) && !(in.rank == 1 && in.numel == 0)) {
            st = nd_fail(err, ND_ERR_FORMAT, "%s: %s: has rank %d, expected [intervals][2] (start, stop)", f,
                         UNITS "/obs_intervals", in.rank);
            goto fail;
        }
        u->n_obs = in.rank == 2 ? in.dims[0] : 0;
        for (size_t i = 0; i < u->n_obs; i++)
            if (!isfinite(u->obs[2 * i]) || !isfinite(u->obs[2 * i + 1]) || u->obs[2 * i + 1] < u->obs[2 * i]) {
                st = nd_fail(err, ND_ERR_FORMAT, "%s: %s: interval %zu [%g, %g] is not a finite interval", f,
                             UNITS "/obs_intervals", i, u->obs[2 * i], u->obs[2 * i + 1]);
                goto fail;
            }
        if (nd_h5r_kind(r, UNITS "/obs_intervals_index") != ND_H5R_DATASET) {
            st = nd_fail(err, ND_ERR_FORMAT, "%s: %s: missing dataset (needed with obs_intervals)", f,
                         UNITS "/obs_intervals_index");
            goto fail;
        }
        if ((st = nd_h5r_read_i64(r, UNITS "/obs_intervals_index", &u->obs_end, &in, err))) goto fail;
        if (in.rank != 1 || in.numel != (size_t)u->N) {
            st = nd_fail(err, ND_ERR_FORMAT, "%s: %s: has %zu rows, the units table has %d", f,
                         UNITS "/obs_intervals_index", in.numel, u->N);
            goto fail;
        }
        if ((st = check_index(r, UNITS "/obs_intervals_index", u->obs_end, in.numel, u->n_obs,
                              UNITS "/obs_intervals", err)))
            goto fail;
    }
    return ND_OK;
fail:
    nd_free(ho);
    nd_nwb_units_free(u);
    return st;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

nd_status nd_nwb_trials_read(nd_h5r *r, nd_nwb_trials *t, nd_error *err) {
    memset(t, 0, sizeof *t);
    const char *f = nd_h5r_file(r);
    nd_status st = nd_h5r_require_group(r, TRIALS, "the trials table: start_time, stop_time, event columns", err);
    if (st) return st;
    nd_h5r_info a, b;
    char **names = NULL;
    size_t nn = 0;
    if ((st = nd_h5r_read_f64(r, TRIALS "/start_time", &t->start, &a, err))) goto fail;
    if ((st = need_rank1(r, TRIALS "/start_time", &a, err))) goto fail;
    if ((st = nd_h5r_read_f64(r, TRIALS "/stop_time", &t->stop, &b, err))) goto fail;
    if ((st = need_rank1(r, TRIALS "/stop_time", &b, err))) goto fail;
    if (a.numel != b.numel) {
        st = nd_fail(err, ND_ERR_FORMAT, "%s: %s: has %zu rows but start_time has %zu", f, TRIALS "/stop_time",
                     b.numel, a.numel);
        goto fail;
    }
    if (a.numel == 0 || a.numel > 100000000) {
        st = nd_fail(err, ND_ERR_FORMAT, "%s: %s: %s", f, TRIALS "/start_time", a.numel ? "too many trials" : "no trials");
        goto fail;
    }
    t->n = (int)a.numel;
    for (int i = 0; i < t->n; i++) {
        if (!isfinite(t->start[i]) || !isfinite(t->stop[i])) {
            st = nd_fail(err, ND_ERR_FORMAT, "%s: %s: trial %d is %s", f,
                         isfinite(t->start[i]) ? TRIALS "/stop_time" : TRIALS "/start_time", i,
                         isnan(isfinite(t->start[i]) ? t->stop[i] : t->start[i]) ? "NaN" : "infinite");
            goto fail;
        }
        if (fabs(t->start[i]) > 1e9 || fabs(t->stop[i]) > 1e9) { /* the ns clock of binning.h; 31.7 years */
            st = nd_fail(err, ND_ERR_FORMAT, "%s: %s: trial %d: %.9g s is outside the supported range (|t| <= 1e9 s)",
                         f, fabs(t->start[i]) > 1e9 ? TRIALS "/start_time" : TRIALS "/stop_time", i,
                         fabs(t->start[i]) > 1e9 ? t->start[i] : t->stop[i]);
            goto fail;
        }
        if (t->stop[i] < t->start[i]) {
            st = nd_fail(err, ND_ERR_FORMAT, "%s: %s: trial %d stops (%.9g s) before it starts (%.9g s)", f,
                         TRIALS "/stop_time", i, t->stop[i], t->start[i]);
            goto fail;
        }
    }
    if ((st = nd_h5r_children(r, TRIALS, &names, &nn, err))) goto fail;
    t->columns = calloc(nn ? nn : 1, sizeof(char *));
    if (!t->columns) {
        st = nd_fail(err, ND_ERR_NOMEM, "%s: out of memory", f);
        goto fail;
    }
    for (size_t i = 0; i < nn; i++) {
        const char *nm = names[i];
        size_t len = strlen(nm);
        if (!strcmp(nm, "start_time") || !strcmp(nm, "stop_time") || !strcmp(nm, "id")) continue;
        if (len > 6 && !strcmp(nm + len - 6, "_index")) continue;
        if (!strcmp(nm, "split")) {
            t->has_split = 1;
            continue;
        }
        char p[1024];
        snprintf(p, sizeof p, TRIALS "/%s", nm);
        nd_h5r_info in;
        nd_error e;
        if (nd_h5r_kind(r, p) != ND_H5R_DATASET || nd_h5r_info_of(r, p, &in, &e) != ND_OK) continue;
        if (in.rank != 1 || in.numel != (size_t)t->n || (in.cls != ND_H5R_FLOAT && in.cls != ND_H5R_INT)) continue;
        t->columns[t->n_columns] = strdup(nm);
        if (!t->columns[t->n_columns]) {
            st = nd_fail(err, ND_ERR_NOMEM, "%s: out of memory", f);
            goto fail;
        }
        t->n_columns++;
    }
    qsort(t->columns, (size_t)t->n_columns, sizeof(char *), cmp_str);
    nd_h5r_free_strings(names, nn);
    return ND_OK;
fail:
    nd_h5r_free_strings(names, nn);
    nd_nwb_trials_free(t);
    return st;
}

/* ---------------------------------------------------------------- trial cutting */
enum { DROP_NAN, DROP_TRIAL, DROP_OBS, DROP_BEH, DROP_SPLIT, N_DROP };

typedef struct {
    int count, first, unit;
} drop_t;

typedef struct {
    char path[512];  /* TimeSeries group */
    double *ts;      /* [n] seconds */
    double *x;       /* [n][B] */
    size_t n;
    int B;
} behav_t;

static void behav_free(behav_t *h) {
    nd_free(h->ts);
    nd_free(h->x);
    memset(h, 0, sizeof *h);
}

static nd_status list_behaviour(nd_h5r *r, char *buf, size_t cap) {
    char **names = NULL;
    size_t n = 0;
    nd_error e;
    buf[0] = 0;
    if (nd_h5r_kind(r, "/processing/behavior") != ND_H5R_GROUP ||
        nd_h5r_children(r, "/processing/behavior", &names, &n, &e) != ND_OK) {
        snprintf(buf, cap, "no /processing/behavior group");
        return ND_OK;
    }
    size_t o = (size_t)snprintf(buf, cap, "available: ");
    for (size_t i = 0; i < n && o < cap; i++) o += (size_t)snprintf(buf + o, cap - o, "%s%s", i ? ", " : "", names[i]);
    if (n == 0) snprintf(buf, cap, "/processing/behavior is empty");
    nd_h5r_free_strings(names, n);
    return ND_OK;
}

static nd_status read_behaviour(nd_h5r *r, const char *name, behav_t *h, nd_error *err) {
    memset(h, 0, sizeof *h);
    const char *f = nd_h5r_file(r);
    if (name[0] == '/') snprintf(h->path, sizeof h->path, "%s", name);
    else snprintf(h->path, sizeof h->path, "/processing/behavior/%s", name);
    int k = nd_h5r_kind(r, h->path);
    if (k != ND_H5R_GROUP) {
        char avail[512];
        list_behaviour(r, avail, sizeof avail);
        return nd_fail(err, ND_ERR_FORMAT, "%s: %s: %s (%s)", f, h->path,
                       k == ND_H5R_MISSING ? "missing TimeSeries group" : "is not a TimeSeries group", avail);
    }
    char p[600];
    nd_h5r_info in;
    nd_status st;
    snprintf(p, sizeof p, "%s/data", h->path);
    if ((st = nd_h5r_read_f64(r, p, &h->x, &in, err))) goto fail;
    if (in.rank != 1 && in.rank != 2) {
        st = nd_fail(err, ND_ERR_FORMAT, "%s: %s: has rank %d, expected [samples] or [samples][dims]", f, p, in.rank);
        goto fail;
    }
    h->n = in.dims[0];
    h->B = in.rank == 2 ? (int)in.dims[1] : 1;
    if (h->n == 0 || h->B == 0) {
        st = nd_fail(err, ND_ERR_FORMAT, "%s: %s: is empty", f, p);
        goto fail;
    }
    double conv = 1, off = 0;
    nd_h5r_attr_f64(r, p, "conversion", &conv);
    nd_h5r_attr_f64(r, p, "offset", &off);
    if (conv != 1 || off != 0)
        for (size_t i = 0; i < h->n * (size_t)h->B; i++) h->x[i] = h->x[i] * conv + off;
    char tp[600];
    snprintf(tp, sizeof tp, "%s/timestamps", h->path);
    if (nd_h5r_kind(r, tp) == ND_H5R_DATASET) {
        if ((st = nd_h5r_read_f64(r, tp, &h->ts, &in, err))) goto fail;
        if (in.rank != 1 || in.numel != h->n) {
            st = nd_fail(err, ND_ERR_FORMAT, "%s: %s: has %zu elements, data has %zu samples", f, tp, in.numel, h->n);
            goto fail;
        }
        for (size_t i = 0; i < h->n; i++) {
            if (!isfinite(h->ts[i])) {
                st = nd_fail(err, ND_ERR_FORMAT, "%s: %s: element %zu is not finite", f, tp, i);
                goto fail;
            }
            if (i && h->ts[i] < h->ts[i - 1]) {
                st = nd_fail(err, ND_ERR_FORMAT, "%s: %s: not sorted (element %zu = %.9g s after %.9g s)", f, tp, i,
                             h->ts[i], h->ts[i - 1]);
                goto fail;
            }
        }
    } else {
        snprintf(tp, sizeof tp, "%s/starting_time", h->path);
        if (nd_h5r_kind(r, tp) != ND_H5R_DATASET) {
            st = nd_fail(err, ND_ERR_FORMAT, "%s: %s: has neither timestamps nor starting_time (+ rate)", f, h->path);
            goto fail;
        }
        double *s0 = NULL, rate = 0;
        if ((st = nd_h5r_read_f64(r, tp, &s0, &in, err))) goto fail;
        double t0 = in.numel >= 1 ? s0[0] : NAN;
        nd_free(s0);
        if (!nd_h5r_attr_f64(r, tp, "rate", &rate) || !(rate > 0) || !isfinite(rate) || !isfinite(t0)) {
            st = nd_fail(err, ND_ERR_FORMAT, "%s: %s: needs a finite value and a positive 'rate' attribute (Hz)", f, tp);
            goto fail;
        }
        h->ts = nd_alloc(h->n * sizeof(double));
        if (!h->ts) {
            st = nd_fail(err, ND_ERR_NOMEM, "%s: out of memory", f);
            goto fail;
        }
        for (size_t i = 0; i < h->n; i++) h->ts[i] = t0 + (double)i / rate;
    }
    return ND_OK;
fail:
    behav_free(h);
    return st;
}

/* one string key per trial from a column: strings as they are, numbers with %.15g */
static nd_status column_keys(nd_h5r *r, const char *col, int n, char **keys, nd_error *err) {
    const char *f = nd_h5r_file(r);
    char p[600];
    snprintf(p, sizeof p, TRIALS "/%s", col);
    nd_h5r_info in;
    nd_status st;
    if (nd_h5r_kind(r, p) != ND_H5R_DATASET)
        return nd_fail(err, ND_ERR_FORMAT, "%s: %s: missing condition column", f, p);
    if ((st = nd_h5r_info_of(r, p, &in, err))) return st;
    if (in.rank != 1 || in.numel != (size_t)n)
        return nd_fail(err, ND_ERR_FORMAT, "%s: %s: has %zu elements, the trials table has %d rows", f, p, in.numel, n);
    if (in.cls == ND_H5R_STRING) {
        char **s;
        size_t m;
        if ((st = nd_h5r_read_strings(r, p, &s, &m, err))) return st;
        for (int i = 0; i < n; i++) {
            size_t need = strlen(keys[i]) + strlen(s[i]) + 2;
            char *k = realloc(keys[i], need);
            if (!k) {
                nd_h5r_free_strings(s, m);
                return nd_fail(err, ND_ERR_NOMEM, "%s: out of memory", f);
            }
            if (k[0]) strcat(k, "|");
            strcat(k, s[i]);
            keys[i] = k;
        }
        nd_h5r_free_strings(s, m);
        return ND_OK;
    }
    double *x;
    if ((st = nd_h5r_read_f64(r, p, &x, &in, err))) return st;
    for (int i = 0; i < n; i++) {
        char v[64];
        snprintf(v, sizeof v, "%.15g", x[i]);
        char *k = realloc(keys[i], strlen(keys[i]) + strlen(v) + 2);
        if (!k) {
            nd_free(x);
            return nd_fail(err, ND_ERR_NOMEM, "%s: out of memory", f);
        }
        if (k[0]) strcat(k, "|");
        strcat(k, v);
        keys[i] = k;
    }
    nd_free(x);
    return ND_OK;
}

static int64_t ceil_to(int64_t a, int64_t b) { return -nd_floor_div64(-a, b) * b; }

/* What nd_nwb_read gathers from the open file before it cuts trials (one step each below). */
typedef struct {
    nd_h5r *r;
    const char *f; /* the file, for messages */
    const nd_bin_opts *o;
    int64_t bin_ns, w0_ns; /* bin width; window start relative to the event (with a window) */
    int T, TB;             /* observed bins per trial; with the forward-prediction bins */
    nd_nwb_units u;
    nd_nwb_trials tr;
    behav_t bh;
    double *ev;            /* [tr.n] alignment event times, or NULL (trial start_time) */
    char evpath[600];
    char **split;          /* [nsplit] split column, or NULL */
    size_t nsplit;
    char **keys;           /* [tr.n] condition keys, or NULL */
} nwb_read_t;

/* The trials kept by cut_trials, in file order, and the count and first trial of each reason to drop one. */
typedef struct {
    int nk;
    int64_t *t0s;        /* [nk] window start, ns */
    int *kept;           /* [nk] trial index in the file */
    signed char *ksplit; /* [nk] 0 train, 1 valid, 2 test, -1 none given */
    float *bvals;        /* [nk][T][B] behaviour at the bins, or NULL */
    drop_t drop[N_DROP];
} nwb_cut_t;

static void nwb_read_free(nwb_read_t *c) {
    if (c->keys) {
        for (int i = 0; i < c->tr.n; i++) free(c->keys[i]);
        free(c->keys);
    }
    nd_h5r_free_strings(c->split, c->nsplit);
    nd_free(c->ev);
    behav_free(&c->bh);
    nd_nwb_units_free(&c->u);
    nd_nwb_trials_free(&c->tr);
    nd_h5r_close(c->r);
}

static void nwb_cut_free(nwb_cut_t *k) {
    nd_free(k->t0s);
    nd_free(k->kept);
    nd_free(k->ksplit);
    nd_free(k->bvals);
}

/* the options nd_nwb_read can check before opening the file */
static nd_status check_opts(const nd_bin_opts *o, int64_t *bin_ns, nd_error *err) {
    if (!(o->bin_ms > 0) || !isfinite(o->bin_ms)) return nd_fail(err, ND_ERR_ARG, "bin width must be > 0 ms");
    *bin_ns = llround(o->bin_ms * 1e6);
    if (*bin_ns < 1) return nd_fail(err, ND_ERR_ARG, "bin width %g ms is below 1 ns", o->bin_ms);
    if (o->align && !o->has_window)
        return nd_fail(err, ND_ERR_ARG, "--align %s needs --window START:END (ms around the event)", o->align);
    if (o->fp_bins < 0) return nd_fail(err, ND_ERR_ARG, "forward-prediction bins must be >= 0");
    return ND_OK;
}

/* the bins per trial: the window's, or (without one) the trials' common whole number of bins */
static nd_status trial_window(nwb_read_t *c, nd_binned *b, nd_error *err) {
    const nd_bin_opts *o = c->o;
    if (o->has_window) {
        int64_t wl = llround((o->win_end_ms - o->win_start_ms) * 1e6);
        if (!(o->win_end_ms > o->win_start_ms) || wl % c->bin_ns != 0)
            return nd_fail(err, ND_ERR_ARG, "window %g:%g ms is not a whole, positive number of %g ms bins",
                           o->win_start_ms, o->win_end_ms, o->bin_ms);
        c->T = (int)(wl / c->bin_ns);
        c->w0_ns = llround(o->win_start_ms * 1e6);
        b->window_start_ms = o->win_start_ms;
        b->window_end_ms = o->win_end_ms;
    } else {
        int tmin = 0, tmax = 0, imin = 0, imax = 0;
        for (int i = 0; i < c->tr.n; i++) {
            int64_t len = nd_time_ns(c->tr.stop[i], 1e9) - nd_time_ns(c->tr.start[i], 1e9);
            int ti = (int)nd_floor_div64(len, c->bin_ns);
            if (i == 0 || ti < tmin) tmin = ti, imin = i;
            if (i == 0 || ti > tmax) tmax = ti, imax = i;
        }
        if (tmin != tmax)
            return nd_fail(err, ND_ERR_FORMAT,
                           "%s: %s: trials have different lengths (%d bins of %g ms in trial %d, %d in trial %d); pass "
                           "--window START:END (ms, relative to --align or start_time)",
                           c->f, TRIALS, tmin, o->bin_ms, imin, tmax, imax);
        if (tmin < 1)
            return nd_fail(err, ND_ERR_FORMAT, "%s: %s: trials are shorter than one %g ms bin", c->f, TRIALS,
                           o->bin_ms);
        c->T = tmin - o->fp_bins; /* without a window the forward-prediction bins are the trial's last */
        if (c->T < 1)
            return nd_fail(err, ND_ERR_ARG, "--fp-bins %d: trials of %d bins leave no observed bins", o->fp_bins,
                           tmin);
        b->window_start_ms = 0;
        b->window_end_ms = (double)c->T * o->bin_ms;
    }
    c->TB = c->T + o->fp_bins;
    return ND_OK;
}

/* the --align event column of the trials table */
static nd_status read_event(nwb_read_t *c, nd_binned *b, nd_error *err) {
    const char *align = c->o->align;
    if (!align) return ND_OK;
    snprintf(c->evpath, sizeof c->evpath, TRIALS "/%s", align);
    snprintf(b->align, sizeof b->align, "%s", align);
    if (nd_h5r_kind(c->r, c->evpath) != ND_H5R_DATASET) {
        char cols[700] = "";
        size_t off = 0;
        for (int k = 0; k < c->tr.n_columns && off < sizeof cols; k++)
            off += (size_t)snprintf(cols + off, sizeof cols - off, "%s%s", k ? ", " : "", c->tr.columns[k]);
        return nd_fail(err, ND_ERR_FORMAT, "%s: %s: missing event column (numeric columns: %s)", c->f, c->evpath,
                       c->tr.n_columns ? cols : "none");
    }
    nd_h5r_info in;
    nd_status st = nd_h5r_read_f64(c->r, c->evpath, &c->ev, &in, err);
    if (st) return st;
    if (in.rank != 1 || in.numel != (size_t)c->tr.n)
        return nd_fail(err, ND_ERR_FORMAT, "%s: %s: has %zu elements, the trials table has %d rows", c->f, c->evpath,
                       in.numel, c->tr.n);
    return ND_OK;
}

/* the behaviour TimeSeries: --behavior NAME, else hand_vel when present; "none": no behaviour */
static nd_status read_behaviour_opt(nwb_read_t *c, nd_binned *b, nd_error *err) {
    const char *bname = c->o->behavior;
    if (!bname && nd_h5r_kind(c->r, "/processing/behavior/hand_vel") == ND_H5R_GROUP) bname = "hand_vel";
    if (!bname || strcmp(bname, "none") == 0) return ND_OK;
    nd_status st = read_behaviour(c->r, bname, &c->bh, err);
    if (!st) snprintf(b->behavior_name, sizeof b->behavior_name, "%s", c->bh.path);
    return st;
}

/* the trials table's split column, when it has one */
static nd_status read_split(nwb_read_t *c, nd_error *err) {
    if (!c->tr.has_split) return ND_OK;
    nd_status st = nd_h5r_read_strings(c->r, TRIALS "/split", &c->split, &c->nsplit, err);
    if (st) return st;
    if (c->nsplit != (size_t)c->tr.n)
        return nd_fail(err, ND_ERR_FORMAT, "%s: %s: has %zu elements, the trials table has %d rows", c->f,
                       TRIALS "/split", c->nsplit, c->tr.n);
    return ND_OK;
}

/* one condition key per trial from the --condition columns */
static nd_status read_conditions(nwb_read_t *c, nd_binned *b, nd_error *err) {
    const char *cond = c->o->condition;
    if (!cond || !*cond) return ND_OK;
    const int n = c->tr.n;
    c->keys = calloc((size_t)n, sizeof *c->keys);
    if (!c->keys) return nd_fail(err, ND_ERR_NOMEM, "%s: out of memory", c->f);
    for (int i = 0; i < n; i++)
        if (!(c->keys[i] = calloc(1, 1))) return nd_fail(err, ND_ERR_NOMEM, "%s: out of memory", c->f);
    char cols[512];
    snprintf(cols, sizeof cols, "%s", cond);
    nd_status st;
    for (char *save = NULL, *col = strtok_r(cols, ",", &save); col; col = strtok_r(NULL, ",", &save))
        if ((st = column_keys(c->r, col, n, c->keys, err))) return st;
    snprintf(b->condition_source, sizeof b->condition_source, TRIALS " columns %s", cond);
    return ND_OK;
}

/* trial i's split value: 0 train, 1 valid, 2 test, -2 none (dropped), -1 no split column */
static nd_status split_of(const nwb_read_t *c, int i, signed char *sp, nd_error *err) {
    *sp = -1;
    if (!c->split) return ND_OK;
    const char *s = c->split[i];
    if (!strcmp(s, "train")) *sp = 0;
    else if (!strcmp(s, "val") || !strcmp(s, "valid") || !strcmp(s, "validation")) *sp = 1;
    else if (!strcmp(s, "test")) *sp = 2;
    else if (!strcmp(s, "none") || !*s) *sp = -2;
    else
        return nd_fail(err, ND_ERR_FORMAT, "%s: %s: trial %d: unknown split '%s' (expected train, val, test or none)",
                       c->f, TRIALS "/split", i, s);
    return ND_OK;
}

/* why trial i is dropped (DROP_*), or -1 to keep it: its window [*t0, *t1) ns; *wunit: the unit outside whose
 * observation intervals it lies; behaviour at its bins into bout ([T][B], when there is behaviour) */
static int trial_verdict(const nwb_read_t *c, int i, signed char sp, int64_t *t0, int64_t *t1, int *wunit,
                         float *bout) {
    const nd_bin_opts *o = c->o;
    const nd_nwb_units *u = &c->u;
    *t0 = *t1 = 0;
    *wunit = -1;
    double e = c->ev ? c->ev[i] : c->tr.start[i];
    if (isnan(e)) return DROP_NAN;
    if (!isfinite(e)) return DROP_TRIAL;
    *t0 = nd_time_ns(e, 1e9) + (o->has_window ? c->w0_ns : 0);
    if (o->grid_align) *t0 = ceil_to(*t0, c->bin_ns);
    *t1 = *t0 + (int64_t)c->TB * c->bin_ns;
    if (!o->allow_outside_trial &&
        (*t0 < nd_time_ns(c->tr.start[i], 1e9) || *t1 > nd_time_ns(c->tr.stop[i], 1e9)))
        return DROP_TRIAL;
    for (int k = 0; u->obs_end && k < u->N; k++) {
        size_t a = k ? (size_t)u->obs_end[k - 1] : 0, z = (size_t)u->obs_end[k];
        if (a == z) continue; /* no intervals: not checked */
        int inside = 0;
        for (size_t j = a; j < z && !inside; j++)
            inside = *t0 >= nd_time_ns(u->obs[2 * j], 1e9) && *t1 <= nd_time_ns(u->obs[2 * j + 1], 1e9);
        if (!inside) {
            *wunit = k;
            return DROP_OBS;
        }
    }
    if (sp == -2) return DROP_SPLIT;
    for (int k = 0; c->bh.B && k < c->T; k++) {
        double tb = (double)(*t0 + (int64_t)k * c->bin_ns + (o->behavior_center ? c->bin_ns / 2 : 0)) / 1e9 +
                    o->behavior_lag_ms / 1e3;
        if (nd_interp_linear(c->bh.ts, c->bh.x, c->bh.n, c->bh.B, tb, bout + (size_t)k * (size_t)c->bh.B))
            return DROP_BEH;
    }
    return -1;
}

/* --strict: the error for trial i dropped for reason why */
static nd_status strict_error(const nwb_read_t *c, int why, int i, int64_t t0, int64_t t1, int wunit,
                              nd_error *err) {
    const char *f = c->f;
    switch (why) {
    case DROP_NAN:
        return nd_fail(err, ND_ERR_FORMAT, "%s: %s: trial %d: event time is NaN (--strict)", f, c->evpath, i);
    case DROP_TRIAL:
        return nd_fail(err, ND_ERR_FORMAT,
                       "%s: %s: trial %d: window [%.9g, %.9g) s is not inside [start_time, stop_time] = "
                       "[%.9g, %.9g] s (--strict)",
                       f, TRIALS, i, (double)t0 / 1e9, (double)t1 / 1e9, c->tr.start[i], c->tr.stop[i]);
    case DROP_OBS:
        return nd_fail(err, ND_ERR_FORMAT,
                       "%s: %s: trial %d: window [%.9g, %.9g) s is outside unit %d's observation intervals "
                       "(--strict)",
                       f, UNITS "/obs_intervals", i, (double)t0 / 1e9, (double)t1 / 1e9, wunit);
    case DROP_BEH:
        return nd_fail(err, ND_ERR_FORMAT,
                       "%s: %s: trial %d: behaviour samples do not cover the window (or are NaN) (--strict)", f,
                       c->bh.path, i);
    default:
        return nd_fail(err, ND_ERR_FORMAT, "%s: %s: trial %d: split is 'none' (--strict)", f, TRIALS "/split", i);
    }
}

/* decide which trials to keep (see nwb.h), in file order */
static nd_status cut_trials(const nwb_read_t *c, nwb_cut_t *k, nd_error *err) {
    const int n = c->tr.n, B = c->bh.B;
    memset(k, 0, sizeof *k);
    k->t0s = nd_alloc((size_t)n * sizeof(int64_t));
    k->kept = nd_alloc((size_t)n * sizeof(int));
    k->ksplit = nd_alloc((size_t)n);
    if (!k->t0s || !k->kept || !k->ksplit) return nd_fail(err, ND_ERR_NOMEM, "%s: out of memory", c->f);
    if (B) {
        k->bvals = nd_alloc((size_t)n * (size_t)c->T * (size_t)B * sizeof(float) + sizeof(float));
        if (!k->bvals) return nd_fail(err, ND_ERR_NOMEM, "%s: out of memory", c->f);
    }
    for (int i = 0; i < n; i++) {
        signed char sp;
        int64_t t0, t1;
        int wunit;
        nd_status st = split_of(c, i, &sp, err);
        if (st) return st;
        int why = trial_verdict(c, i, sp, &t0, &t1, &wunit,
                                B ? k->bvals + (size_t)k->nk * (size_t)c->T * (size_t)B : NULL);
        if (why >= 0) {
            if (c->o->strict) return strict_error(c, why, i, t0, t1, wunit, err);
            if (k->drop[why].count++ == 0) k->drop[why].first = i, k->drop[why].unit = wunit;
            continue;
        }
        k->t0s[k->nk] = t0;
        k->kept[k->nk] = i;
        k->ksplit[k->nk] = sp;
        k->nk++;
    }
    return ND_OK;
}

/* one warning line per reason trials were dropped, and for units without spikes; an error if no trial is left */
static nd_status report_drops(const nwb_read_t *c, const nwb_cut_t *k, nd_binned *b, nd_error *err) {
    const char *f = c->f, *evpath = c->evpath;
    const nd_bin_opts *o = c->o;
    const drop_t *drop = k->drop;
    const int n = c->tr.n, N = c->u.N;
    if (drop[DROP_NAN].count)
        nd_binned_warn(b, "%s: %s: dropped %d of %d trials whose event time is NaN (first: trial %d)", f, evpath,
                       drop[DROP_NAN].count, n, drop[DROP_NAN].first);
    if (drop[DROP_TRIAL].count)
        nd_binned_warn(b,
                       "%s: %s: dropped %d of %d trials whose window (%g to %g ms%s%s, + %d forward bins) is not "
                       "inside [start_time, stop_time] (first: trial %d)",
                       f, TRIALS, drop[DROP_TRIAL].count, n, b->window_start_ms, b->window_end_ms,
                       o->align ? " around " : " from start_time", o->align ? o->align : "", o->fp_bins,
                       drop[DROP_TRIAL].first);
    if (drop[DROP_OBS].count)
        nd_binned_warn(b,
                       "%s: %s: dropped %d of %d trials whose window is outside a unit's observation intervals "
                       "(first: trial %d, unit %d)",
                       f, UNITS "/obs_intervals", drop[DROP_OBS].count, n, drop[DROP_OBS].first, drop[DROP_OBS].unit);
    if (drop[DROP_BEH].count)
        nd_binned_warn(b,
                       "%s: %s: dropped %d of %d trials whose behaviour samples do not cover every bin (or are NaN) "
                       "(first: trial %d)",
                       f, c->bh.path, drop[DROP_BEH].count, n, drop[DROP_BEH].first);
    if (drop[DROP_SPLIT].count)
        nd_binned_warn(b, "%s: %s: dropped %d of %d trials whose split is 'none' (first: trial %d)", f,
                       TRIALS "/split", drop[DROP_SPLIT].count, n, drop[DROP_SPLIT].first);
    if (k->nk == 0)
        return nd_fail(err, ND_ERR_FORMAT, "%s: %s: no trials left (%d NaN events, %d windows outside their trial, %d "
                       "outside obs_intervals, %d without behaviour, %d split 'none')",
                       f, o->align ? evpath : TRIALS, drop[DROP_NAN].count, drop[DROP_TRIAL].count,
                       drop[DROP_OBS].count, drop[DROP_BEH].count, drop[DROP_SPLIT].count);
    int empty = 0, first_empty = -1;
    for (int j = 0; j < N; j++)
        if ((j ? c->u.end[j - 1] : 0) == c->u.end[j] && empty++ == 0) first_empty = j;
    if (empty)
        nd_binned_warn(b, "%s: %s: %d of %d units have no spikes (first: unit %d); kept", f, UNITS "/spike_times_index",
                       empty, N, first_empty);
    return ND_OK;
}

/* bin the kept trials' spikes into b and hand over the behaviour, splits, held-out flags, unit ids, conditions */
static nd_status fill_binned(nwb_read_t *c, const nwb_cut_t *k, nd_binned *b, nd_error *err) {
    const int nk = k->nk, N = c->u.N, T = c->T, TB = c->TB, B = c->bh.B;
    nd_status st = nd_binned_alloc(b, nk, T, c->o->fp_bins, N, B, err);
    if (st) return st;
    b->n_source_trials = c->tr.n;
    for (int i = 0; i < nk; i++) {
        b->trial_ids[i] = k->kept[i];
        float *cnt = b->counts + (size_t)i * (size_t)TB * (size_t)N;
        for (int j = 0; j < N; j++) {
            size_t a = j ? (size_t)c->u.end[j - 1] : 0, z = (size_t)c->u.end[j];
            nd_bin_sorted(c->u.times + a, z - a, 1e9, k->t0s[i], c->bin_ns, TB, cnt + j, (size_t)N);
        }
    }
    if (B) memcpy(b->behavior, k->bvals, (size_t)nk * (size_t)T * (size_t)B * sizeof(float));
    if (c->split) {
        b->split = nd_alloc((size_t)nk);
        if (!b->split) return nd_fail(err, ND_ERR_NOMEM, "%s: out of memory", c->f);
        memcpy(b->split, k->ksplit, (size_t)nk);
        snprintf(b->split_source, sizeof b->split_source, "%s", TRIALS "/split");
    }
    if (c->u.heldout) {
        b->heldout = c->u.heldout;
        c->u.heldout = NULL;
        snprintf(b->heldout_source, sizeof b->heldout_source, "%s", UNITS "/heldout");
    }
    if (c->u.ids) {
        b->unit_ids = c->u.ids;
        c->u.ids = NULL;
    }
    if (!c->keys) return ND_OK;
    char **kk = malloc((size_t)nk * sizeof *kk);
    if (!kk) return nd_fail(err, ND_ERR_NOMEM, "%s: out of memory", c->f);
    for (int i = 0; i < nk; i++) kk[i] = c->keys[k->kept[i]];
    st = nd_binned_set_conditions(b, kk, err);
    free(kk);
    return st;
}

nd_status nd_nwb_read(const char *path, const nd_bin_opts *o, nd_binned *b, nd_error *err) {
    memset(b, 0, sizeof *b);
    snprintf(b->source, sizeof b->source, "%s", path);
    snprintf(b->format, sizeof b->format, "nwb");
    nwb_read_t c;
    memset(&c, 0, sizeof c);
    c.f = path;
    c.o = o;
    nd_status st = check_opts(o, &c.bin_ns, err);
    if (st || (st = nd_h5r_open(path, &c.r, err))) return st;
    nwb_cut_t k;
    memset(&k, 0, sizeof k);
    if (!(st = nd_nwb_units_read(c.r, &c.u, err)) && !(st = nd_nwb_trials_read(c.r, &c.tr, err)) &&
        !(st = trial_window(&c, b, err)) && !(st = read_event(&c, b, err)) && !(st = read_behaviour_opt(&c, b, err)) &&
        !(st = read_split(&c, err)) && !(st = read_conditions(&c, b, err)) && !(st = cut_trials(&c, &k, err)) &&
        !(st = report_drops(&c, &k, b, err)))
        st = fill_binned(&c, &k, b, err);
    nwb_cut_free(&k);
    nwb_read_free(&c);
    if (st) nd_binned_free(b);
    return st;
}
