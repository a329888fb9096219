#include "binning.h"
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../core/mem.h"

void nd_bin_opts_default(nd_bin_opts *o) {
    memset(o, 0, sizeof *o);
    o->bin_ms = 0;
}

nd_status nd_binned_alloc(nd_binned *b, int n, int T, int fp, int N, int B, nd_error *err) {
    if (n < 0 || T < 0 || fp < 0 || N < 0 || B < 0)
        return nd_fail(err, ND_ERR_INTERNAL, "nd_binned_alloc: negative size");
    size_t tb = (size_t)T + (size_t)fp;
    /* refuse what the sizes in a (maybe corrupt) file would make us allocate beyond nd_alloc_limit()
     * (8 GiB, ND_MAX_ALLOC_MB): fuzz/FINDINGS.md, bug 9 */
    double bytes = (double)n * (double)tb * (double)N * (double)sizeof(float);
    double bbytes = (double)n * (double)T * (double)B * (double)sizeof(float);
    double limit = (double)nd_alloc_limit();
    if (bytes > limit)
        return nd_fail(err, ND_ERR_NOMEM,
                       "%s: %d trials x %zu bins x %d units need %.0f bytes, more than the limit of %.0f bytes (set "
                       "ND_MAX_ALLOC_MB to raise it)", b->source, n, tb, N, bytes, limit);
    if (bbytes > limit)
        return nd_fail(err, ND_ERR_NOMEM,
                       "%s: %d trials x %d bins x %d behaviour dimensions need %.0f bytes, more than the limit of %.0f "
                       "bytes (set ND_MAX_ALLOC_MB to raise it)", b->source, n, T, B, bbytes, limit);
    b->n = n;
    b->T = T;
    b->fp = fp;
    b->N = N;
    b->B = B;
    size_t cells = (size_t)n * tb * (size_t)N;
    b->counts = nd_alloc((cells ? cells : 1) * sizeof(float));
    b->trial_ids = nd_alloc((size_t)(n ? n : 1) * sizeof(int));
    if (B > 0) b->behavior = nd_alloc((size_t)(n ? n : 1) * (size_t)T * (size_t)B * sizeof(float) + sizeof(float));
    if (!b->counts || !b->trial_ids || (B > 0 && !b->behavior))
        return nd_fail(err, ND_ERR_NOMEM, "%s: out of memory for %d trials x %zu bins x %d units", b->source, n, tb,
                       N);
    return ND_OK;
}

void nd_binned_free(nd_binned *b) {
    if (!b) return;
    nd_free(b->counts);
    nd_free(b->behavior);
    nd_free(b->trial_ids);
    nd_free(b->condition);
    for (int i = 0; i < b->n_conditions; i++) free(b->condition_names[i]);
    free(b->condition_names);
    nd_free(b->split);
    nd_free(b->heldout);
    nd_free(b->unit_ids);
    for (int i = 0; i < b->n_warnings; i++) free(b->warnings[i]);
    free(b->warnings);
    memset(b, 0, sizeof *b);
}

void nd_binned_warn(nd_binned *b, const char *fmt, ...) {
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    char **w = realloc(b->warnings, (size_t)(b->n_warnings + 1) * sizeof *w);
    if (!w) return;
    b->warnings = w;
    w[b->n_warnings] = strdup(buf);
    if (w[b->n_warnings]) b->n_warnings++;
}

nd_status nd_binned_set_conditions(nd_binned *b, char *const *keys, nd_error *err) {
    b->condition = nd_alloc((size_t)(b->n ? b->n : 1) * sizeof(int));
    b->condition_names = calloc((size_t)(b->n ? b->n : 1), sizeof(char *));
    if (!b->condition || !b->condition_names) return nd_fail(err, ND_ERR_NOMEM, "%s: out of memory", b->source);
    b->n_conditions = 0;
    for (int i = 0; i < b->n; i++) {
        int id = -1;
        for (int c = 0; c < b->n_conditions && id < 0; c++)
            if (strcmp(b->condition_names[c], keys[i]) == 0) id = c;
        if (id < 0) {
            id = b->n_conditions;
            b->condition_names[id] = strdup(keys[i]);
            if (!b->condition_names[id]) return nd_fail(err, ND_ERR_NOMEM, "%s: out of memory", b->source);
            b->n_conditions++;
        }
        b->condition[i] = id;
    }
    return ND_OK;
}

/* ---------- primitives ---------- */
int64_t nd_time_ns(double t, double ns_per_unit) {
    /* clamped to +-2^61 ns (73 years), so that differences and sums of a few clock values never
     * overflow int64 (a huge trial time did: fuzz/FINDINGS.md, bug 10); NaN gives 0 (readers
     * reject NaN times before binning) */
    const double lim = (double)ND_TIME_NS_MAX;
    double x = t * ns_per_unit;
    if (x != x) return 0;
    if (x >= lim) return ND_TIME_NS_MAX;
    if (x <= -lim) return -ND_TIME_NS_MAX;
    return llround(x);
}

int64_t nd_floor_div64(int64_t a, int64_t b) {
    int64_t q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0))) q--;
    return q;
}

int64_t nd_bin_index(double t, double ns_per_unit, int64_t t0_ns, int64_t bin_ns) {
    return nd_floor_div64(nd_time_ns(t, ns_per_unit) - t0_ns, bin_ns);
}

size_t nd_bin_sorted(const double *t, size_t n, double ns_per_unit, int64_t t0_ns, int64_t bin_ns, int nbins,
                     float *out, size_t stride) {
    if (n == 0 || nbins <= 0) return 0;
    /* first spike whose time is at or after t0 - 1 us (a margin for rounding; bins are checked exactly below) */
    double lo_t = ((double)t0_ns - 1000.0) / ns_per_unit;
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (t[mid] < lo_t) lo = mid + 1;
        else hi = mid;
    }
    size_t counted = 0;
    for (size_t i = lo; i < n; i++) {
        int64_t k = nd_bin_index(t[i], ns_per_unit, t0_ns, bin_ns);
        if (k < 0) continue;
        if (k >= nbins) break;
        out[(size_t)k * stride] += 1.0f;
        counted++;
    }
    return counted;
}

int nd_interp_linear(const double *ts, const double *x, size_t n, int B, double t, float *out) {
    if (n == 0 || !(t >= ts[0]) || !(t <= ts[n - 1])) return -1;
    /* last sample with ts <= t */
    size_t lo = 0, hi = n; /* invariant: ts[lo] <= t */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (ts[mid] <= t) lo = mid;
        else hi = mid;
    }
    for (int j = 0; j < B; j++) {
        double v;
        if (lo + 1 >= n || ts[lo] == t || ts[lo + 1] == ts[lo]) v = x[lo * (size_t)B + (size_t)j];
        else {
            double w = (t - ts[lo]) / (ts[lo + 1] - ts[lo]);
            v = (1 - w) * x[lo * (size_t)B + (size_t)j] + w * x[(lo + 1) * (size_t)B + (size_t)j];
        }
        if (!isfinite(v) || fabs(v) > FLT_MAX) return -1; /* would be inf as a float (fuzz/FINDINGS.md, bug 6) */
        out[j] = (float)v;
    }
    return 0;
}

int nd_parse_window(const char *s, double *start, double *end) {
    if (!s) return -1;
    const char *colon = strchr(s, ':');
    if (!colon || colon == s) return -1;
    char a[64];
    size_t la = (size_t)(colon - s);
    if (la >= sizeof a) return -1;
    memcpy(a, s, la);
    a[la] = 0;
    char *e1, *e2;
    double x = strtod(a, &e1), y = strtod(colon + 1, &e2);
    if (*e1 || *e2 || e1 == a || e2 == colon + 1 || !isfinite(x) || !isfinite(y) || !(y > x)) return -1;
    *start = x;
    *end = y;
    return 0;
}
