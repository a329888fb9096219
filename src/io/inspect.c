/* What a data file holds (`neurodyn inspect`, nd_inspect): NWB, MATLAB v7.3 / v5, spike-time triplets, LFADS and
 * lfads-torch HDF5 (and any other HDF5 file's datasets), as a text report and a JSON tree. */
#define _GNU_SOURCE
#include "inspect.h"
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../core/mem.h"
#include "convert.h"
#include "h5x.h"
#include "mat.h"
#include "nwb.h"
#include "triplets.h"

#define HIGH_RATE_HZ ND_INSPECT_HIGH_RATE_HZ
#define MAX_LISTED 200

/* ---------------------------------------------------------------- report */
typedef struct {
    cJSON *root, *summary, *warnings, *errors, *datasets;
    double bin_ms_opt;
    FILE *out; /* the report's text */
} rep;

static void kv(rep *r, const char *key, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void kv(rep *r, const char *key, const char *fmt, ...) {
    char buf[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    fprintf(r->out, "  %-16s %s\n", key, buf);
    cJSON_DeleteItemFromObject(r->summary, key);
    cJSON_AddStringToObject(r->summary, key, buf);
}
static void num(rep *r, const char *key, double v) {
    cJSON_DeleteItemFromObject(r->summary, key);
    cJSON_AddNumberToObject(r->summary, key, v);
}
/* one formatted line appended to a report's warnings or errors */
static void add_line(cJSON *to, const char *fmt, va_list ap) {
    char buf[2048];
    vsnprintf(buf, sizeof buf, fmt, ap);
    cJSON_AddItemToArray(to, cJSON_CreateString(buf));
}
static void warn(rep *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void warn(rep *r, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    add_line(r->warnings, fmt, ap);
    va_end(ap);
}
static void error(rep *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void error(rep *r, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    add_line(r->errors, fmt, ap);
    va_end(ap);
}

static int cmp_d(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* min / median / max of per-neuron rates; warnings for silent and very active neurons.
 * hz == NULL entries: n neurons' spike totals in tot and observation seconds in secs. */
static void rates_summary(rep *r, const char *what, const double *tot, const double *secs, int n, int unit_is_hz,
                          int one_based, const int *ids) {
    if (n <= 0) return;
    double *hz = malloc((size_t)n * sizeof(double)), *sorted = malloc((size_t)n * sizeof(double));
    if (!hz || !sorted) {
        free(hz);
        free(sorted);
        return;
    }
    int silent = 0, high = 0, hmax = -1;
    char sl[256] = "";
    size_t so = 0;
    for (int i = 0; i < n; i++) {
        hz[i] = secs[i] > 0 ? tot[i] / secs[i] : 0;
        sorted[i] = hz[i];
        if (tot[i] == 0) {
            if (silent < 12 && so < sizeof sl)
                so += (size_t)snprintf(sl + so, sizeof sl - so, "%s%d", silent ? ", " : "", (ids ? ids[i] : i) + one_based);
            silent++;
        }
        if (unit_is_hz && hz[i] > HIGH_RATE_HZ) {
            high++;
            if (hmax < 0 || hz[i] > hz[hmax]) hmax = i;
        }
    }
    qsort(sorted, (size_t)n, sizeof(double), cmp_d);
    double med = n % 2 ? sorted[n / 2] : 0.5 * (sorted[n / 2 - 1] + sorted[n / 2]);
    kv(r, "rates", "min %.3g / median %.3g / max %.3g %s over %d %s", sorted[0], med, sorted[n - 1],
       unit_is_hz ? "Hz" : "spikes/bin (bin size unknown: pass --bin-ms)", n, what);
    num(r, "rate_min", sorted[0]);
    num(r, "rate_median", med);
    num(r, "rate_max", sorted[n - 1]);
    char one[32];
    snprintf(one, sizeof one, "%s", what);
    size_t lw = strlen(one);
    if (lw > 1 && one[lw - 1] == 's') one[lw - 1] = 0; /* "units" -> "unit" */
    if (silent)
        warn(r, "%d of %d %s %s silent (no spikes): %s %s%s", silent, n, what, silent == 1 ? "is" : "are",
             one_based ? (silent == 1 ? "row" : "rows") : (silent == 1 ? one : what), sl, silent > 12 ? ", ..." : "");
    if (high)
        warn(r, "%d of %d %s fire%s above %.0f Hz (highest: %s %d at %.1f Hz)", high, n, what, high == 1 ? "s" : "",
             HIGH_RATE_HZ, one_based ? "row" : one, (ids ? ids[hmax] : hmax) + one_based, hz[hmax]);
    free(hz);
    free(sorted);
}

/* ---------------------------------------------------------------- dataset listing */
typedef struct {
    rep *r;
    int n;
} list_ud;

static void shape_str(char *b, size_t cap, int rank, const size_t *d) {
    size_t o = (size_t)snprintf(b, cap, "(");
    for (int i = 0; i < rank && o < cap; i++) o += (size_t)snprintf(b + o, cap - o, i ? ", %zu" : "%zu", d[i]);
    if (rank == 1 && o < cap) o += (size_t)snprintf(b + o, cap - o, ",");
    if (o < cap) snprintf(b + o, cap - o, ")");
}

static int list_cb(const char *path, const nd_h5r_info *in, void *p) {
    list_ud *u = p;
    char s[256];
    shape_str(s, sizeof s, in->rank, in->dims);
    if (u->n < MAX_LISTED) fprintf(u->r->out, "  %-44s %-12s %s\n", path, in->dtype, s);
    u->n++;
    cJSON *d = cJSON_CreateObject();
    cJSON_AddStringToObject(d, "path", path);
    cJSON_AddStringToObject(d, "dtype", in->dtype);
    cJSON *sh = cJSON_AddArrayToObject(d, "shape");
    for (int i = 0; i < in->rank; i++) cJSON_AddItemToArray(sh, cJSON_CreateNumber((double)in->dims[i]));
    cJSON_AddItemToArray(u->r->datasets, d);
    return 0;
}

static void list_h5(rep *r, nd_h5r *h) {
    fprintf(r->out, "datasets:\n");
    list_ud u = {r, 0};
    nd_error e;
    if (nd_h5r_visit(h, list_cb, &u, &e) != ND_OK) error(r, "%s", e.msg);
    if (u.n > MAX_LISTED) fprintf(r->out, "  ... %d more\n", u.n - MAX_LISTED);
    if (u.n == 0) fprintf(r->out, "  (none)\n");
}

/* ---------------------------------------------------------------- binned tensors */
typedef struct {
    int present, n, T, N;
} tshape;

/* Read a [trials][bins][neurons] count tensor; add per-neuron spike totals (first nmax neurons) and
 * bins observed; warn about NaN / negative / non-integer values. */
static int scan_counts(rep *r, nd_h5r *h, const char *name, double *tot, double *bins, int nmax, tshape *s) {
    memset(s, 0, sizeof *s);
    if (nd_h5r_kind(h, name) != ND_H5R_DATASET) return 0;
    nd_h5r_info in;
    double *x;
    nd_error e;
    if (nd_h5r_read_f64(h, name, &x, &in, &e) != ND_OK) {
        error(r, "%s", e.msg);
        return 0;
    }
    if (in.rank != 3) {
        error(r, "%s: %s: has rank %d, expected trials x bins x neurons", nd_h5r_file(h), name, in.rank);
        nd_free(x);
        return 0;
    }
    s->present = 1;
    s->n = (int)in.dims[0];
    s->T = (int)in.dims[1];
    s->N = (int)in.dims[2];
    size_t nan = 0, neg = 0, frac = 0, fnan = 0, fneg = 0, ffrac = 0;
    for (size_t i = 0; i < in.numel; i++) {
        double v = x[i];
        int j = (int)(i % in.dims[2]);
        if (isnan(v) || isinf(v)) {
            if (nan++ == 0) fnan = i;
            continue;
        }
        if (v < 0 && neg++ == 0) fneg = i;
        if (v != floor(v) && frac++ == 0) ffrac = i;
        if (j < nmax) tot[j] += v;
    }
    for (int j = 0; j < s->N && j < nmax; j++) bins[j] += (double)s->n * s->T;
#define AT(i) (i) / (in.dims[1] * in.dims[2]), ((i) / in.dims[2]) % in.dims[1], (i) % in.dims[2]
    if (nan) warn(r, "%s: %zu NaN/Inf values (first at (%zu, %zu, %zu))", name, nan, AT(fnan));
    if (neg) warn(r, "%s: %zu negative counts (first at (%zu, %zu, %zu) = %g)", name, neg, AT(fneg), x[fneg]);
    if (frac) warn(r, "%s: %zu non-integer counts (first at (%zu, %zu, %zu) = %g)", name, frac, AT(ffrac), x[ffrac]);
#undef AT
    nd_free(x);
    return 1;
}

static double bin_ms_of(rep *r, nd_h5r *h, int *known) {
    double b = 0;
    *known = 1;
    if (nd_h5r_attr_f64(h, "/", "bin_ms", &b) && b > 0) return b;
    if (r->bin_ms_opt > 0) return r->bin_ms_opt;
    *known = 0;
    return 0;
}

static void inspect_lfads(rep *r, nd_h5r *h, int torch) {
    static const char *const sp[3] = {"train", "valid", "test"};
    int known;
    double bin_ms = bin_ms_of(r, h, &known);
    tshape enc[3], rec[3];
    char name[64];
    int nmax = 0;
    for (int s = 0; s < 3; s++) {
        nd_h5r_info in;
        nd_error e;
        snprintf(name, sizeof name, torch ? "/%s_recon_data" : "/%s_data", sp[s]);
        if (nd_h5r_kind(h, name) == ND_H5R_DATASET && nd_h5r_info_of(h, name, &in, &e) == ND_OK && in.rank == 3 &&
            (int)in.dims[2] > nmax)
            nmax = (int)in.dims[2];
        snprintf(name, sizeof name, torch ? "/%s_encod_data" : "/%s_data", sp[s]);
        if (nd_h5r_kind(h, name) == ND_H5R_DATASET && nd_h5r_info_of(h, name, &in, &e) == ND_OK && in.rank == 3 &&
            (int)in.dims[2] > nmax)
            nmax = (int)in.dims[2];
    }
    double *tot = calloc((size_t)nmax + 1, sizeof(double)), *bins = calloc((size_t)nmax + 1, sizeof(double));
    if (!tot || !bins) {
        error(r, "out of memory");
        free(tot);
        free(bins);
        return;
    }
    int N = 0, Nr = 0, T = 0, Tr = 0, counts[3] = {0, 0, 0};
    for (int s = 0; s < 3; s++) {
        double *dt = calloc((size_t)nmax + 1, sizeof(double)), *db = calloc((size_t)nmax + 1, sizeof(double));
        if (!dt || !db) {
            free(dt);
            free(db);
            break;
        }
        snprintf(name, sizeof name, torch ? "/%s_encod_data" : "/%s_data", sp[s]);
        scan_counts(r, h, name, dt, db, nmax, &enc[s]);
        rec[s].present = 0;
        if (torch) {
            snprintf(name, sizeof name, "/%s_recon_data", sp[s]);
            double *rt = calloc((size_t)nmax + 1, sizeof(double)), *rb = calloc((size_t)nmax + 1, sizeof(double));
            if (rt && rb && scan_counts(r, h, name, rt, rb, nmax, &rec[s])) {
                memcpy(dt, rt, (size_t)nmax * sizeof(double)); /* recon_data covers every neuron and bin */
                memcpy(db, rb, (size_t)nmax * sizeof(double));
            }
            free(rt);
            free(rb);
        }
        for (int j = 0; j < nmax; j++) {
            tot[j] += dt[j];
            bins[j] += db[j];
        }
        free(dt);
        free(db);
        if (enc[s].present) {
            counts[s] = enc[s].n;
            if (!N) N = enc[s].N, T = enc[s].T;
            else if (enc[s].N != N || enc[s].T != T)
                warn(r, "%s_%s: %d bins x %d neurons differ from the train split's %d x %d", sp[s],
                     torch ? "encod_data" : "data", enc[s].T, enc[s].N, T, N);
        }
        if (rec[s].present) {
            if (!Nr) Nr = rec[s].N, Tr = rec[s].T;
            if (rec[s].n != enc[s].n)
                error(r, "%s_recon_data has %d trials, %s_encod_data %d", sp[s], rec[s].n, sp[s], enc[s].n);
            if (rec[s].N < enc[s].N || rec[s].T < enc[s].T)
                error(r, "%s_recon_data (%d bins x %d neurons) is smaller than %s_encod_data (%d x %d)", sp[s],
                      rec[s].T, rec[s].N, sp[s], enc[s].T, enc[s].N);
        }
    }
    if (!Nr) Nr = N, Tr = T;
    if (!enc[0].present) error(r, "%s: no %s dataset", nd_h5r_file(h), torch ? "train_encod_data" : "train_data");
    kv(r, "splits", "%d train, %d valid, %d test trials", counts[0], counts[1], counts[2]);
    num(r, "train_trials", counts[0]);
    num(r, "valid_trials", counts[1]);
    num(r, "test_trials", counts[2]);
    kv(r, "neurons", "%d (%d held-in, %d held-out)", Nr, N, Nr - N);
    num(r, "neurons_heldin", N);
    num(r, "neurons_heldout", Nr - N);
    if (known) kv(r, "bins", "%d observed + %d forward-prediction, %g ms each", T, Tr - T, bin_ms);
    else kv(r, "bins", "%d observed + %d forward-prediction, bin size unknown (no bin_ms attribute)", T, Tr - T);
    num(r, "bins_observed", T);
    num(r, "bins_forward", Tr - T);
    if (known) num(r, "bin_ms", bin_ms);
    char a[1024];
    if (nd_h5r_attr_string(h, "/", "align_event", a, sizeof a) && a[0]) kv(r, "align", "%s", a);
    if (nd_h5r_attr_string(h, "/", "window_ms", a, sizeof a)) kv(r, "window", "%s ms", a);
    if (nd_h5r_attr_string(h, "/", "source_file", a, sizeof a)) kv(r, "source", "%s", a);
    if (nd_h5r_attr_string(h, "/", "heldout_source", a, sizeof a)) kv(r, "held-out from", "%s", a);
    if (nd_h5r_attr_string(h, "/", "split_source", a, sizeof a)) kv(r, "splits from", "%s", a);
    nd_h5r_info in;
    nd_error e;
    if (nd_h5r_kind(h, "/train_behavior") == ND_H5R_DATASET && nd_h5r_info_of(h, "/train_behavior", &in, &e) == ND_OK)
        kv(r, "behaviour", "%zu dims per bin (train_behavior)", in.rank == 3 ? in.dims[2] : 0);
    int *cond;
    int64_t *cv;
    (void)cond;
    if (nd_h5r_kind(h, "/train_condition") == ND_H5R_DATASET && nd_h5r_read_i64(h, "/train_condition", &cv, &in, &e) == ND_OK) {
        int64_t mx = -1;
        for (size_t i = 0; i < in.numel; i++)
            if (cv[i] > mx) mx = cv[i];
        kv(r, "conditions", "%lld (ids in train_condition)", (long long)(mx + 1));
        nd_free(cv);
    }
    if (nd_h5r_kind(h, "/train_truth") == ND_H5R_DATASET) kv(r, "truth", "train_truth present (true rates)");
    /* recon_data columns are held-in then held-out units: name them by their original unit index */
    int *ids = NULL;
    int64_t *hi = NULL, *ho = NULL;
    nd_h5r_info ihi, iho;
    if (nd_h5r_kind(h, "/heldin_neurons") == ND_H5R_DATASET && nd_h5r_kind(h, "/heldout_neurons") == ND_H5R_DATASET &&
        nd_h5r_read_i64(h, "/heldin_neurons", &hi, &ihi, &e) == ND_OK &&
        nd_h5r_read_i64(h, "/heldout_neurons", &ho, &iho, &e) == ND_OK && (int)(ihi.numel + iho.numel) == Nr &&
        (int)ihi.numel == N && (ids = malloc((size_t)Nr * sizeof(int))) != NULL) {
        for (int j = 0; j < Nr; j++) ids[j] = (int)(j < N ? hi[j] : ho[j - N]);
    }
    nd_free(hi);
    nd_free(ho);
    if (nmax > 0) {
        double *secs = malloc((size_t)nmax * sizeof(double));
        if (secs) {
            for (int j = 0; j < nmax; j++) secs[j] = known ? bins[j] * bin_ms / 1000.0 : bins[j];
            rates_summary(r, ids ? "units" : "neurons", tot, secs, Nr > 0 ? Nr : nmax, known, 0, ids);
            free(secs);
        }
    }
    free(ids);
    free(tot);
    free(bins);
}

static void inspect_generic(rep *r, nd_h5r *h) {
    if (nd_h5r_kind(h, "/spikes") != ND_H5R_DATASET) {
        kv(r, "note", "no NWB units, MATLAB struct, triplets, LFADS or lfads-torch datasets found");
        return;
    }
    nd_h5r_info in;
    nd_error e;
    if (nd_h5r_info_of(h, "/spikes", &in, &e) != ND_OK || in.rank != 3) return;
    int known;
    double bin_ms = bin_ms_of(r, h, &known);
    int N = (int)in.dims[2];
    double *tot = calloc((size_t)N + 1, sizeof(double)), *bins = calloc((size_t)N + 1, sizeof(double));
    tshape s;
    if (tot && bins && scan_counts(r, h, "/spikes", tot, bins, N, &s)) {
        kv(r, "spikes", "%d trials x %d bins x %d neurons (assumed trials, bins, neurons)%s", s.n, s.T, s.N,
           known ? "" : "; bin size unknown");
        if (known) kv(r, "bins", "%d of %g ms", s.T, bin_ms);
        for (int j = 0; j < N; j++) bins[j] = known ? bins[j] * bin_ms / 1000.0 : bins[j];
        rates_summary(r, "neurons", tot, bins, N, known, 0, NULL);
    }
    free(tot);
    free(bins);
}

/* ---------------------------------------------------------------- NWB */
static void inspect_nwb(rep *r, nd_h5r *h) {
    const char *f = nd_h5r_file(h);
    char v[256];
    if (nd_h5r_attr_string(h, "/", "nwb_version", v, sizeof v)) kv(r, "nwb_version", "%s", v);
    nd_nwb_units u;
    nd_nwb_trials t;
    nd_error e;
    int have_u = nd_nwb_units_read(h, &u, &e) == ND_OK;
    if (!have_u) error(r, "%s", e.msg);
    int have_t = nd_nwb_trials_read(h, &t, &e) == ND_OK;
    if (!have_t) error(r, "%s", e.msg);
    if (have_t) {
        double lmin = INFINITY, lmax = -INFINITY;
        for (int i = 0; i < t.n; i++) {
            double l = (t.stop[i] - t.start[i]) * 1e3;
            if (l < lmin) lmin = l;
            if (l > lmax) lmax = l;
        }
        kv(r, "trials", "%d, %.6g to %.6g ms long (start_time .. stop_time)", t.n, lmin, lmax);
        num(r, "trials_n", t.n);
        if (fabs(lmax - lmin) > 1e-6)
            warn(r, "/intervals/trials: trials have different lengths (%.6g to %.6g ms): convert needs --window "
                    "(and usually --align)", lmin, lmax);
        char cols[1536] = "";
        size_t o = 0;
        for (int c = 0; c < t.n_columns; c++) {
            char p[600];
            snprintf(p, sizeof p, "/intervals/trials/%s", t.columns[c]);
            double *x;
            nd_h5r_info in;
            int nan = 0;
            if (nd_h5r_read_f64(h, p, &x, &in, &e) == ND_OK) {
                for (size_t i = 0; i < in.numel; i++) nan += isnan(x[i]) != 0;
                nd_free(x);
            }
            if (o < sizeof cols)
                o += (size_t)snprintf(cols + o, sizeof cols - o, "%s%s", c ? ", " : "", t.columns[c]);
            if (nan && o < sizeof cols) o += (size_t)snprintf(cols + o, sizeof cols - o, " (%d NaN)", nan);
            if (nan) warn(r, "%s: %d of %d values are NaN (convert --align %s drops those trials)", p, nan, t.n, t.columns[c]);
        }
        kv(r, "trial columns", "%s", t.n_columns ? cols : "(none besides start_time, stop_time)");
        if (t.has_split) {
            char **s;
            size_t ns;
            if (nd_h5r_read_strings(h, "/intervals/trials/split", &s, &ns, &e) == ND_OK) {
                int c[5] = {0};
                for (size_t i = 0; i < ns; i++) {
                    if (!strcmp(s[i], "train")) c[0]++;
                    else if (!strcmp(s[i], "val") || !strcmp(s[i], "valid")) c[1]++;
                    else if (!strcmp(s[i], "test")) c[2]++;
                    else if (!strcmp(s[i], "none")) c[3]++;
                    else c[4]++;
                }
                kv(r, "splits", "%d train, %d val, %d test, %d none%s (/intervals/trials/split)", c[0], c[1], c[2],
                   c[3], c[4] ? ", other values too" : "");
                if (c[4]) warn(r, "/intervals/trials/split: %d values are not train/val/test/none", c[4]);
                nd_h5r_free_strings(s, ns);
            } else error(r, "%s", e.msg);
        } else kv(r, "splits", "no split column (convert draws them: --valid-fraction, --test-fraction)");
    }
    if (have_u) {
        int ho = 0;
        if (u.heldout)
            for (int k = 0; k < u.N; k++) ho += u.heldout[k];
        kv(r, "neurons", "%d units, %zu spikes%s", u.N, u.n_spikes, u.heldout ? "" : " (no heldout column)");
        num(r, "neurons_n", u.N);
        if (u.heldout) {
            kv(r, "held-out", "%d held-in, %d held-out (/units/heldout)", u.N - ho, ho);
            num(r, "neurons_heldout", ho);
        }
        /* rates: spikes / observed time (obs_intervals, else the span of the trials, else of the spikes) */
        double t0 = INFINITY, t1 = -INFINITY;
        const char *span = "first to last spike";
        if (have_t) {
            for (int i = 0; i < t.n; i++) {
                if (t.start[i] < t0) t0 = t.start[i];
                if (t.stop[i] > t1) t1 = t.stop[i];
            }
            span = "first trial start to last trial stop";
        } else
            for (size_t i = 0; i < u.n_spikes; i++) {
                if (u.times[i] < t0) t0 = u.times[i];
                if (u.times[i] > t1) t1 = u.times[i];
            }
        double *tot = calloc((size_t)u.N, sizeof(double)), *secs = calloc((size_t)u.N, sizeof(double));
        if (tot && secs) {
            for (int k = 0; k < u.N; k++) {
                size_t a = k ? (size_t)u.end[k - 1] : 0, z = (size_t)u.end[k];
                tot[k] = (double)(z - a);
                if (u.obs_end) {
                    size_t oa = k ? (size_t)u.obs_end[k - 1] : 0, oz = (size_t)u.obs_end[k];
                    for (size_t j = oa; j < oz; j++) secs[k] += u.obs[2 * j + 1] - u.obs[2 * j];
                } else secs[k] = t1 > t0 ? t1 - t0 : 0;
            }
            kv(r, "observed", "%s", u.obs_end ? "per unit, from /units/obs_intervals" : span);
            rates_summary(r, "units", tot, secs, u.N, 1, 0, NULL);
        }
        free(tot);
        free(secs);
    }
    /* behaviour time series */
    char **names = NULL;
    size_t nn = 0;
    if (nd_h5r_kind(h, "/processing/behavior") == ND_H5R_GROUP &&
        nd_h5r_children(h, "/processing/behavior", &names, &nn, &e) == ND_OK) {
        char list[1536] = "";
        size_t o = 0;
        for (size_t i = 0; i < nn; i++) {
            char p[600], d[700];
            snprintf(p, sizeof p, "/processing/behavior/%s", names[i]);
            snprintf(d, sizeof d, "%s/data", p);
            nd_h5r_info in;
            if (nd_h5r_kind(h, d) != ND_H5R_DATASET || nd_h5r_info_of(h, d, &in, &e) != ND_OK) continue;
            char s[128];
            shape_str(s, sizeof s, in.rank, in.dims);
            char ts[700];
            snprintf(ts, sizeof ts, "%s/timestamps", p);
            double rate = 0;
            char sst[700];
            snprintf(sst, sizeof sst, "%s/starting_time", p);
            const char *how = nd_h5r_kind(h, ts) == ND_H5R_DATASET ? "timestamps"
                              : nd_h5r_attr_f64(h, sst, "rate", &rate) ? "starting_time + rate"
                                                                       : "NO timestamps or starting_time";
            if (o < sizeof list)
                o += (size_t)snprintf(list + o, sizeof list - o, "%s%s %s (%s)", o ? "; " : "", names[i], s, how);
            if (how[0] == 'N') warn(r, "%s: has neither timestamps nor starting_time + rate", p);
        }
        kv(r, "behaviour", "%s", o ? list : "(no TimeSeries with data)");
        nd_h5r_free_strings(names, nn);
    } else kv(r, "behaviour", "no /processing/behavior");
    (void)f;
    if (have_u) nd_nwb_units_free(&u);
    if (have_t) nd_nwb_trials_free(&t);
}

/* ---------------------------------------------------------------- MATLAB */
static void inspect_mat(rep *r, const char *path, int v73) {
    nd_mat_trials m;
    nd_error e;
    if ((v73 ? nd_mat73_load(path, NULL, NULL, &m, &e) : nd_mat5_load(path, NULL, NULL, &m, &e)) != ND_OK) {
        error(r, "%s", e.msg);
        return;
    }
    int lmin = m.len[0], lmax = m.len[0];
    double total_ms = 0;
    for (int i = 0; i < m.n; i++) {
        if (m.len[i] < lmin) lmin = m.len[i];
        if (m.len[i] > lmax) lmax = m.len[i];
        total_ms += m.len[i];
    }
    kv(r, "variable", "%s(i).%s: neurons x 1-ms bins%s%s%s", m.var, m.field, m.condfield[0] ? ", " : "",
       m.condfield[0] ? m.var : "", m.condfield[0] ? "(i).condition" : "");
    kv(r, "trials", "%d, %d to %d ms long", m.n, lmin, lmax);
    kv(r, "neurons", "%d", m.N);
    kv(r, "bins", "1 ms (convert --bin-ms sums them)");
    num(r, "trials_n", m.n);
    num(r, "neurons_n", m.N);
    if (lmin != lmax)
        warn(r, "%s.%s: trials have different lengths (%d to %d ms): convert needs --window", m.var, m.field, lmin,
             lmax);
    if (m.cond) {
        int nc = 0;
        for (int i = 0; i < m.n; i++) {
            int seen = 0;
            for (int j = 0; j < i && !seen; j++) seen = !strcmp(m.cond[i], m.cond[j]);
            nc += !seen;
        }
        kv(r, "conditions", "%d distinct in %s(i).%s", nc, m.var, m.condfield);
    }
    double *tot = calloc((size_t)m.N + 1, sizeof(double)), *secs = calloc((size_t)m.N + 1, sizeof(double));
    int bad = 0;
    for (int i = 0; i < m.n && tot; i++)
        for (int t = 0; t < m.len[i]; t++)
            for (int j = 0; j < m.N; j++) {
                double x = m.data[i][(size_t)t * (size_t)m.N + (size_t)j];
                if (!isfinite(x) || x < 0 || x != floor(x)) {
                    if (bad++ == 0)
                        warn(r, "%s(%d).%s(%d,%d) = %g is not a whole spike count >= 0 (convert refuses it)", m.var,
                             i + 1, m.field, j + 1, t + 1, x);
                    continue;
                }
                tot[j] += x;
            }
    if (bad > 1) warn(r, "%s.%s: %d values in all are not whole spike counts >= 0", m.var, m.field, bad);
    if (tot && secs) {
        for (int j = 0; j < m.N; j++) secs[j] = total_ms / 1000.0;
        rates_summary(r, "neurons", tot, secs, m.N, 1, 1, NULL);
    }
    free(tot);
    free(secs);
    nd_mat_trials_free(&m);
}

/* ---------------------------------------------------------------- triplets */
static void inspect_triplets(rep *r, nd_h5r *h, const char *group) {
    char g[512], pt[600], pn[600], ptr[600];
    if (!nd_triplets_detect(h, group, g, sizeof g)) return;
    const char *sep = strcmp(g, "/") ? "/" : "";
    snprintf(pt, sizeof pt, "%s%s%stime_ms", g[0] == '/' ? "" : "/", g, sep);
    snprintf(pn, sizeof pn, "%s%s%sneuron", g[0] == '/' ? "" : "/", g, sep);
    snprintf(ptr, sizeof ptr, "%s%s%strial", g[0] == '/' ? "" : "/", g, sep);
    double *t = NULL;
    int64_t *nu = NULL, *tr = NULL;
    nd_h5r_info a, b, c;
    nd_error e;
    if (nd_h5r_read_f64(h, pt, &t, &a, &e) || nd_h5r_read_i64(h, pn, &nu, &b, &e) || nd_h5r_read_i64(h, ptr, &tr, &c, &e)) {
        error(r, "%s", e.msg);
        goto done;
    }
    if (a.numel != b.numel || a.numel != c.numel) {
        error(r, "%s: %s: time_ms, neuron and trial have %zu, %zu and %zu elements", nd_h5r_file(h), g, a.numel,
              b.numel, c.numel);
        goto done;
    }
    size_t n = a.numel, nanc = 0, neg = 0;
    double tmin = INFINITY, tmax = -INFINITY;
    int64_t maxn = -1, maxt = -1;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(t[i])) {
            nanc++;
            continue;
        }
        if (t[i] < tmin) tmin = t[i];
        if (t[i] > tmax) tmax = t[i];
        if (t[i] < 0) neg++;
        if (nu[i] > maxn) maxn = nu[i];
        if (tr[i] > maxt) maxt = tr[i];
        if (nu[i] < 0 || tr[i] < 0) {
            error(r, "%s: %s: element %zu has a negative neuron or trial index", nd_h5r_file(h), g, i);
            goto done;
        }
    }
    if (nanc) error(r, "%s: %s: %zu spike times are NaN or infinite (convert refuses them)", nd_h5r_file(h), pt, nanc);
    int N = (int)(maxn + 1), nt = (int)(maxt + 1);
    double bin = r->bin_ms_opt > 0 ? r->bin_ms_opt : 1;
    double D = n ? (floor(tmax / bin) + 1) * bin : bin;
    kv(r, "triplets", "%s: %zu spikes", g, n);
    kv(r, "trials", "%d (largest trial index + 1)", nt);
    kv(r, "neurons", "%d (largest neuron index + 1)", N);
    kv(r, "times", "%.6g to %.6g ms; trials span [0, %.6g) ms (latest spike rounded up to a %g ms bin)", tmin, tmax,
       D, bin);
    num(r, "spikes", (double)n);
    num(r, "trials_n", nt);
    num(r, "neurons_n", N);
    if (neg) warn(r, "%s: %zu spike times are negative (before the trial's start)", pt, neg);
    if (N > 0 && nt > 0) {
        double *tot = calloc((size_t)N, sizeof(double)), *secs = calloc((size_t)N, sizeof(double));
        char *has = calloc((size_t)nt, 1);
        if (tot && secs && has) {
            for (size_t i = 0; i < n; i++)
                if (isfinite(t[i])) {
                    tot[nu[i]] += 1;
                    has[tr[i]] = 1;
                }
            int empty = 0;
            for (int i = 0; i < nt; i++) empty += !has[i];
            if (empty) warn(r, "%s: %d of %d trials have no spikes", ptr, empty, nt);
            for (int j = 0; j < N; j++) secs[j] = nt * D / 1000.0;
            rates_summary(r, "neurons", tot, secs, N, 1, 0, NULL);
        }
        free(tot);
        free(secs);
        free(has);
    }
done:
    nd_free(t);
    nd_free(nu);
    nd_free(tr);
}

/* ---------------------------------------------------------------- the whole report */
nd_status nd_inspect_file(const char *path, const char *group, double bin_ms, nd_inspect_report *out, nd_error *err) {
    memset(out, 0, sizeof *out);
    nd_format fmt = nd_detect_format(path, group, err);
    if (fmt == ND_FMT_UNKNOWN) return err->code ? err->code : ND_ERR_FORMAT;
    char *buf = NULL;
    size_t len = 0;
    rep r = {0};
    r.bin_ms_opt = bin_ms;
    r.out = open_memstream(&buf, &len);
    r.root = cJSON_CreateObject();
    if (!r.out || !r.root) {
        if (r.out) fclose(r.out);
        free(buf);
        cJSON_Delete(r.root);
        return nd_fail(err, ND_ERR_NOMEM, "%s: out of memory", path);
    }
    cJSON_AddStringToObject(r.root, "file", path);
    cJSON_AddStringToObject(r.root, "format", nd_format_name(fmt));
    r.datasets = cJSON_AddArrayToObject(r.root, "datasets");
    r.summary = cJSON_AddObjectToObject(r.root, "summary");
    r.warnings = cJSON_AddArrayToObject(r.root, "warnings");
    r.errors = cJSON_AddArrayToObject(r.root, "errors");
    fprintf(r.out, "file: %s\nformat: %s\n", path, nd_format_name(fmt));
    nd_error e = {0};
    if (fmt == ND_FMT_MAT5) {
        char **lines;
        size_t n;
        fprintf(r.out, "variables:\n");
        if (nd_mat5_list(path, &lines, &n, &e) == ND_OK) {
            for (size_t i = 0; i < n; i++) {
                fprintf(r.out, "  %s\n", lines[i]);
                cJSON *d = cJSON_CreateObject();
                cJSON_AddStringToObject(d, "variable", lines[i]);
                cJSON_AddItemToArray(r.datasets, d);
                free(lines[i]);
            }
            free(lines);
        } else error(&r, "%s", e.msg);
        fprintf(r.out, "summary:\n");
        inspect_mat(&r, path, 0);
    } else {
        nd_h5r *h;
        nd_status st = nd_h5r_open(path, &h, err);
        if (st != ND_OK) {
            fclose(r.out);
            free(buf);
            cJSON_Delete(r.root);
            return st;
        }
        list_h5(&r, h);
        fprintf(r.out, "summary:\n");
        switch (fmt) {
        case ND_FMT_NWB: inspect_nwb(&r, h); break;
        case ND_FMT_MAT73: inspect_mat(&r, path, 1); break;
        case ND_FMT_TRIPLETS: inspect_triplets(&r, h, group); break;
        case ND_FMT_LFADS_TORCH: inspect_lfads(&r, h, 1); break;
        case ND_FMT_LFADS: inspect_lfads(&r, h, 0); break;
        default: inspect_generic(&r, h);
        }
        nd_h5r_close(h);
    }
    int nw = cJSON_GetArraySize(r.warnings), ne = cJSON_GetArraySize(r.errors);
    fprintf(r.out, "warnings:%s\n", nw ? "" : " none");
    for (int i = 0; i < nw; i++) fprintf(r.out, "  - %s\n", cJSON_GetArrayItem(r.warnings, i)->valuestring);
    if (ne) {
        fprintf(r.out, "errors:\n");
        for (int i = 0; i < ne; i++) fprintf(r.out, "  - %s\n", cJSON_GetArrayItem(r.errors, i)->valuestring);
    }
    fclose(r.out);
    out->text = buf;
    out->root = r.root;
    out->warnings = r.warnings;
    out->errors = r.errors;
    if (!out->text) {
        nd_inspect_report_free(out);
        return nd_fail(err, ND_ERR_NOMEM, "%s: out of memory", path);
    }
    return ND_OK;
}

void nd_inspect_report_free(nd_inspect_report *r) {
    if (!r) return;
    free(r->text);
    cJSON_Delete(r->root);
    memset(r, 0, sizeof *r);
}
