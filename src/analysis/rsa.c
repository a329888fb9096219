/* RDMs and RDM comparisons (see rsa.h). */
#include "rsa.h"
#include "pca.h"
#include "../core/mem.h"
#include <cblas.h>
#include <lapacke.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const char *dist_names[] = {"euclidean", "correlation", "mahalanobis"};
static const char *cmp_names[] = {"cosine", "pearson", "spearman", "tau-a", "tau-b", "rho-a"};

int nd_rdm_distance_from_name(const char *s) {
    for (int i = 0; i < 3; i++)
        if (!strcmp(s, dist_names[i])) return i;
    return -1;
}
int nd_rdm_compare_from_name(const char *s) {
    for (int i = 0; i < 6; i++)
        if (!strcmp(s, cmp_names[i])) return i;
    return -1;
}
const char *nd_rdm_compare_name(nd_rdm_compare_method m) {
    return (unsigned)m < 6 ? cmp_names[m] : "?";
}

void nd_rdm_to_square(const double *rdm, int n, double *sq) {
    size_t w = 0;
    for (int i = 0; i < n; i++) {
        sq[(size_t)i * n + i] = 0;
        for (int j = i + 1; j < n; j++, w++) sq[(size_t)i * n + j] = sq[(size_t)j * n + i] = rdm[w];
    }
}

/* W := W L^-T where noise_cov = L L^T (so that W W^T = P Sigma^-1 P^T); rows of W are patterns */
static nd_status whiten_noise(double *W, int rows, int c, const double *noise_cov, nd_error *err) {
    if (!noise_cov) return ND_OK;
    double *L = NULL;
    nd_status st = ND_ALLOC(L, (size_t)c * c, "rdm: noise covariance", err);
    if (st) return st;
    memcpy(L, noise_cov, sizeof(double) * c * c);
    if ((st = nd_check_finite(L, (size_t)c * c, c, "rdm: noise covariance", err))) { nd_free(L); return st; }
    lapack_int info = LAPACKE_dpotrf(LAPACK_ROW_MAJOR, 'L', c, L, c);
    if (info != 0) {
        nd_free(L);
        return nd_fail(err, ND_ERR_NUMERIC, "rdm: the noise covariance (%d x %d) is not positive definite (Cholesky failed at %d)",
                       c, c, (int)info);
    }
    cblas_dtrsm(CblasRowMajor, CblasRight, CblasLower, CblasTrans, CblasNonUnit, rows, c, 1.0, L, c, W, c);
    nd_free(L);
    return ND_OK;
}

nd_status nd_rdm(const double *P, int n, int c, nd_rdm_distance dist, const double *noise_cov, double *rdm, nd_error *err) {
    if (!P || !rdm) return nd_fail(err, ND_ERR_ARG, "rdm: missing patterns or output");
    if (n < 2 || c < 1) return nd_fail(err, ND_ERR_ARG, "rdm: needs at least 2 conditions and 1 channel (got %d x %d)", n, c);
    if ((unsigned)dist > ND_RDM_MAHALANOBIS) return nd_fail(err, ND_ERR_ARG, "rdm: unknown distance %d", (int)dist);
    nd_status st = nd_check_finite(P, (size_t)n * c, c, "rdm: patterns", err);
    if (st) return st;
    double *W = NULL, *G = NULL;
    if ((st = ND_ALLOC(W, (size_t)n * c, "rdm: patterns", err)) || (st = ND_ALLOC(G, (size_t)n * n, "rdm: Gram matrix", err)))
        goto done;
    memcpy(W, P, sizeof(double) * n * c);
    if (dist == ND_RDM_CORRELATION) {
        for (int i = 0; i < n; i++) {
            double *r = W + (size_t)i * c, m = 0, s = 0;
            for (int j = 0; j < c; j++) m += r[j];
            m /= c;
            for (int j = 0; j < c; j++) { r[j] -= m; s += r[j] * r[j]; }
            if (!(s > 0)) { st = nd_fail(err, ND_ERR_NUMERIC, "rdm: correlation distance is undefined: pattern %d is constant", i); goto done; }
            s = 1 / sqrt(s);
            for (int j = 0; j < c; j++) r[j] *= s;
        }
        nd_gram_rows(W, n, c, G);
        size_t w = 0;
        for (int i = 0; i < n; i++)
            for (int j = i + 1; j < n; j++) rdm[w++] = 1 - G[(size_t)i * n + j];
        goto done;
    }
    if (dist == ND_RDM_MAHALANOBIS && (st = whiten_noise(W, n, c, noise_cov, err))) goto done;
    nd_gram_rows(W, n, c, G);
    size_t w = 0;
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++) {
            double d = G[(size_t)i * n + i] + G[(size_t)j * n + j] - 2 * G[(size_t)i * n + j];
            rdm[w++] = (d > 0 ? d : 0) / c;
        }
done:
    nd_free(W); nd_free(G);
    return st;
}

nd_status nd_rdm_crossnobis(const double *P, int F, int n, int c, const double *noise_cov, double *rdm, nd_error *err) {
    if (!P || !rdm) return nd_fail(err, ND_ERR_ARG, "crossnobis: missing patterns or output");
    if (F < 2) return nd_fail(err, ND_ERR_ARG, "crossnobis: needs at least 2 folds (got %d)", F);
    if (n < 2 || c < 1) return nd_fail(err, ND_ERR_ARG, "crossnobis: needs at least 2 conditions and 1 channel (got %d x %d)", n, c);
    size_t fc = (size_t)n * c;
    nd_status st = nd_check_finite(P, (size_t)F * fc, c, "crossnobis: patterns", err);
    if (st) return st;
    double *W = NULL, *A = NULL, *B = NULL, *K = NULL;
    if ((st = ND_ALLOC(W, (size_t)F * fc, "crossnobis: patterns", err)) || (st = ND_ALLOC(B, fc, "crossnobis: patterns", err)) ||
        (st = ND_ALLOC(K, (size_t)n * n, "crossnobis: kernel", err)))
        goto done;
    memcpy(W, P, sizeof(double) * F * fc);
    if ((st = whiten_noise(W, F * n, c, noise_cov, err))) goto done;
    size_t m = nd_rdm_len(n);
    memset(rdm, 0, sizeof(double) * m);
    for (int f = 0; f < F; f++) {
        A = W + (size_t)f * fc;
        memset(B, 0, sizeof(double) * fc);
        for (int g = 0; g < F; g++)
            if (g != f)
                for (size_t t = 0; t < fc; t++) B[t] += W[(size_t)g * fc + t];
        for (size_t t = 0; t < fc; t++) B[t] /= (F - 1);
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, n, c, 1.0, A, c, B, c, 0.0, K, n);
        size_t w = 0;
        for (int i = 0; i < n; i++)
            for (int j = i + 1; j < n; j++)
                rdm[w++] += (K[(size_t)i * n + i] + K[(size_t)j * n + j] - K[(size_t)i * n + j] - K[(size_t)j * n + i]) / c;
    }
    for (size_t t = 0; t < m; t++) rdm[t] /= F;
done:
    nd_free(W); nd_free(B); nd_free(K);
    return st;
}

/* ---------- comparisons ---------- */
typedef struct { double v; size_t i; } vi;
static int cmp_vi(const void *a, const void *b) {
    const vi *x = a, *y = b;
    if (x->v < y->v) return -1;
    if (x->v > y->v) return 1;
    return (x->i > y->i) - (x->i < y->i);
}

nd_status nd_rankdata(const double *x, size_t m, double *ranks, nd_error *err) {
    vi *s = malloc(sizeof *s * (m ? m : 1));
    if (!s) return nd_fail(err, ND_ERR_NOMEM, "rankdata: out of memory (%zu values)", m);
    for (size_t i = 0; i < m; i++) { s[i].v = x[i]; s[i].i = i; }
    qsort(s, m, sizeof *s, cmp_vi);
    for (size_t a = 0; a < m;) {
        size_t b = a + 1;
        while (b < m && s[b].v == s[a].v) b++;
        double r = 0.5 * ((double)a + 1 + (double)b); /* average of ranks a+1 .. b */
        for (size_t t = a; t < b; t++) ranks[s[t].i] = r;
        a = b;
    }
    free(s);
    return ND_OK;
}

typedef struct { double x, y; } xy;
static int cmp_xy(const void *a, const void *b) {
    const xy *p = a, *q = b;
    if (p->x != q->x) return p->x < q->x ? -1 : 1;
    return (p->y > q->y) - (p->y < q->y);
}

/* inversions of y (strict), merge sort with buffer */
static int64_t merge_count(double *y, double *buf, size_t n) {
    int64_t swaps = 0;
    for (size_t width = 1; width < n; width *= 2) {
        for (size_t lo = 0; lo < n; lo += 2 * width) {
            size_t mid = lo + width < n ? lo + width : n, hi = lo + 2 * width < n ? lo + 2 * width : n;
            size_t i = lo, j = mid, k = lo;
            while (i < mid && j < hi) {
                if (y[i] <= y[j]) buf[k++] = y[i++];
                else { buf[k++] = y[j++]; swaps += (int64_t)(mid - i); }
            }
            while (i < mid) buf[k++] = y[i++];
            while (j < hi) buf[k++] = y[j++];
        }
        memcpy(y, buf, sizeof(double) * n);
    }
    return swaps;
}

/* tau-a and tau-b by Knight's algorithm */
static nd_status kendall(const double *a, const double *b, size_t m, double *tau_a, double *tau_b, nd_error *err) {
    xy *p = malloc(sizeof *p * m);
    double *y = malloc(sizeof *y * m), *buf = malloc(sizeof *buf * m);
    if (!p || !y || !buf) { free(p); free(y); free(buf); return nd_fail(err, ND_ERR_NOMEM, "kendall tau: out of memory"); }
    for (size_t i = 0; i < m; i++) { p[i].x = a[i]; p[i].y = b[i]; }
    qsort(p, m, sizeof *p, cmp_xy);
    double n1 = 0, n3 = 0, n2 = 0;
    for (size_t s = 0; s < m;) { /* ties in x, and joint ties */
        size_t e = s + 1;
        while (e < m && p[e].x == p[s].x) e++;
        n1 += 0.5 * (double)(e - s) * (double)(e - s - 1);
        for (size_t t = s; t < e;) {
            size_t u = t + 1;
            while (u < e && p[u].y == p[t].y) u++;
            n3 += 0.5 * (double)(u - t) * (double)(u - t - 1);
            t = u;
        }
        s = e;
    }
    for (size_t i = 0; i < m; i++) y[i] = p[i].y;
    double swaps = (double)merge_count(y, buf, m);
    for (size_t s = 0; s < m;) {
        size_t e = s + 1;
        while (e < m && y[e] == y[s]) e++;
        n2 += 0.5 * (double)(e - s) * (double)(e - s - 1);
        s = e;
    }
    double n0 = 0.5 * (double)m * (double)(m - 1);
    double cmd = n0 - n1 - n2 + n3 - 2 * swaps;
    *tau_a = cmd / n0;
    *tau_b = (n0 - n1 > 0 && n0 - n2 > 0) ? cmd / sqrt(n0 - n1) / sqrt(n0 - n2) : NAN;
    free(p); free(y); free(buf);
    return ND_OK;
}

nd_status nd_rdm_compare(const double *a, const double *b, size_t m, nd_rdm_compare_method method, double *out,
                         nd_error *err) {
    if (!a || !b || m < 2) return nd_fail(err, ND_ERR_ARG, "rdm compare: needs two vectors of at least 2 entries (got %zu)", m);
    nd_status st;
    if ((st = nd_check_finite(a, m, 0, "rdm compare: first RDM", err)) || (st = nd_check_finite(b, m, 0, "rdm compare: second RDM", err)))
        return st;
    const char *name = nd_rdm_compare_name(method);
    double r = NAN;
    switch (method) {
    case ND_RDMCMP_COSINE: {
        double ab = 0, aa = 0, bb = 0;
        for (size_t i = 0; i < m; i++) { ab += a[i] * b[i]; aa += a[i] * a[i]; bb += b[i] * b[i]; }
        if (aa > 0 && bb > 0) r = ab / sqrt(aa * bb);
        break;
    }
    case ND_RDMCMP_PEARSON: r = nd_pearson_strided(a, 1, b, 1, m); break;
    case ND_RDMCMP_SPEARMAN:
    case ND_RDMCMP_RHO_A: {
        double *ra = malloc(sizeof *ra * m), *rb = malloc(sizeof *rb * m);
        if (!ra || !rb) { free(ra); free(rb); return nd_fail(err, ND_ERR_NOMEM, "rdm compare: out of memory"); }
        if (!(st = nd_rankdata(a, m, ra, err)) && !(st = nd_rankdata(b, m, rb, err))) {
            if (method == ND_RDMCMP_SPEARMAN) r = nd_pearson_strided(ra, 1, rb, 1, m);
            else {
                double mean = 0.5 * ((double)m + 1), s = 0, md = (double)m;
                for (size_t i = 0; i < m; i++) s += (ra[i] - mean) * (rb[i] - mean);
                r = 12 * s / (md * md * md - md);
            }
        }
        free(ra); free(rb);
        if (st) return st;
        break;
    }
    case ND_RDMCMP_TAU_A:
    case ND_RDMCMP_TAU_B: {
        double ta = NAN, tb = NAN;
        if ((st = kendall(a, b, m, &ta, &tb, err))) return st;
        r = method == ND_RDMCMP_TAU_A ? ta : tb;
        break;
    }
    default: return nd_fail(err, ND_ERR_ARG, "rdm compare: unknown method %d", (int)method);
    }
    if (isnan(r)) return nd_fail(err, ND_ERR_NUMERIC, "rdm compare (%s): undefined for a constant RDM", name);
    *out = r;
    return ND_OK;
}
