/* PCA via the SVD, participation ratio, and shared dense helpers (see pca.h). */
#include "pca.h"
#include "../core/mem.h"
#include <cblas.h>
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

void nd_center_columns(const double *X, int n, int p, double *Xc, double *mean) {
    double *m = mean ? mean : calloc((size_t)p, sizeof *m);
    double *acc = calloc((size_t)p, sizeof *acc);
    if (!m || !acc) { /* tiny allocation; fall back to a column-by-column pass */
        for (int j = 0; j < p; j++) {
            double s = 0;
            for (int i = 0; i < n; i++) s += X[(size_t)i * p + j];
            s /= n;
            if (mean) mean[j] = s;
            for (int i = 0; i < n; i++) Xc[(size_t)i * p + j] = X[(size_t)i * p + j] - s;
        }
        if (!mean) free(m);
        free(acc);
        return;
    }
    for (int i = 0; i < n; i++) {
        const double *r = X + (size_t)i * p;
        for (int j = 0; j < p; j++) acc[j] += r[j];
    }
    for (int j = 0; j < p; j++) m[j] = acc[j] / n;
    for (int i = 0; i < n; i++) {
        const double *r = X + (size_t)i * p;
        double *o = Xc + (size_t)i * p;
        for (int j = 0; j < p; j++) o[j] = r[j] - m[j];
    }
    if (!mean) free(m);
    free(acc);
}

static void mirror_upper(double *C, int p) {
    for (int i = 0; i < p; i++)
        for (int j = 0; j < i; j++) C[(size_t)i * p + j] = C[(size_t)j * p + i];
}

void nd_gram_cols(const double *A, int n, int p, double alpha, double *C) {
    cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, p, n, alpha, A, p, 0.0, C, p);
    mirror_upper(C, p);
}

void nd_gram_rows(const double *A, int n, int p, double *G) {
    cblas_dsyrk(CblasRowMajor, CblasUpper, CblasNoTrans, n, p, 1.0, A, p, 0.0, G, n);
    mirror_upper(G, n);
}

nd_status nd_sym_eig(double *A, int p, double *w, nd_error *err) {
    lapack_int info = LAPACKE_dsyevd(LAPACK_ROW_MAJOR, 'V', 'U', p, A, p, w);
    if (info != 0)
        return nd_fail(err, info < 0 ? ND_ERR_INTERNAL : ND_ERR_NUMERIC,
                       "symmetric eigendecomposition (dsyevd, %d x %d) failed: info %d", p, p, (int)info);
    return ND_OK;
}

nd_status nd_sym_pow(const double *S, int p, double shift, double floor, double power, double *out,
                     nd_error *err) {
    double *V = NULL, *w = NULL, *T = NULL;
    nd_status st;
    if ((st = ND_ALLOC(V, (size_t)p * p, "eigenvectors", err)) || (st = ND_ALLOC(w, p, "eigenvalues", err)) ||
        (st = ND_ALLOC(T, (size_t)p * p, "matrix power", err)))
        goto done;
    memcpy(V, S, sizeof(double) * (size_t)p * p);
    for (int i = 0; i < p; i++) V[(size_t)i * p + i] += shift;
    if ((st = nd_sym_eig(V, p, w, err))) goto done;
    /* T = V diag(f), out = T V^T */
    for (int j = 0; j < p; j++) {
        double l = w[j] > floor ? w[j] : floor;
        w[j] = pow(l, power);
    }
    for (int i = 0; i < p; i++)
        for (int j = 0; j < p; j++) T[(size_t)i * p + j] = V[(size_t)i * p + j] * w[j];
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, p, p, p, 1.0, T, p, V, p, 0.0, out, p);
    /* symmetrise against rounding */
    for (int i = 0; i < p; i++)
        for (int j = 0; j < i; j++) {
            double a = 0.5 * (out[(size_t)i * p + j] + out[(size_t)j * p + i]);
            out[(size_t)i * p + j] = out[(size_t)j * p + i] = a;
        }
done:
    nd_free(V); nd_free(w); nd_free(T);
    return st;
}

nd_status nd_check_finite(const double *x, size_t n, int cols, const char *what, nd_error *err) {
    for (size_t i = 0; i < n; i++)
        if (!isfinite(x[i])) {
            if (cols > 0)
                return nd_fail(err, ND_ERR_NUMERIC, "%s: non-finite value %g at [%zu, %zu]", what, x[i],
                               i / (size_t)cols, i % (size_t)cols);
            return nd_fail(err, ND_ERR_NUMERIC, "%s: non-finite value %g at element %zu", what, x[i], i);
        }
    return ND_OK;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double nd_median(const double *x, size_t n) {
    double *c = malloc(sizeof *c * (n ? n : 1));
    if (!c) return NAN;
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (!isnan(x[i])) c[m++] = x[i];
    double r = NAN;
    if (m) {
        qsort(c, m, sizeof *c, cmp_double);
        r = (m % 2) ? c[m / 2] : 0.5 * (c[m / 2 - 1] + c[m / 2]);
    }
    free(c);
    return r;
}

double nd_pearson_strided(const double *a, size_t sa, const double *b, size_t sb, size_t n) {
    if (n < 2) return NAN;
    double ma = 0, mb = 0;
    for (size_t i = 0; i < n; i++) { ma += a[i * sa]; mb += b[i * sb]; }
    ma /= (double)n; mb /= (double)n;
    double sab = 0, saa = 0, sbb = 0;
    for (size_t i = 0; i < n; i++) {
        double da = a[i * sa] - ma, db = b[i * sb] - mb;
        sab += da * db; saa += da * da; sbb += db * db;
    }
    if (!(saa > 0) || !(sbb > 0)) return NAN;
    double r = sab / sqrt(saa * sbb);
    return r > 1 ? 1 : r < -1 ? -1 : r;
}

double nd_participation_ratio(const double *l, int k) {
    double s = 0, s2 = 0;
    for (int i = 0; i < k; i++) {
        double v = l[i] > 0 ? l[i] : 0;
        s += v; s2 += v * v;
    }
    return s2 > 0 ? s * s / s2 : 0;
}

void nd_pca_free(nd_pca_result *r) {
    if (!r) return;
    nd_free(r->mean); nd_free(r->components); nd_free(r->singular_values);
    nd_free(r->explained_variance); nd_free(r->explained_variance_ratio);
    memset(r, 0, sizeof *r);
}

nd_status nd_pca(const double *X, int n, int p, int k, nd_pca_result *out, nd_error *err) {
    memset(out, 0, sizeof *out);
    if (!X || n < 2 || p < 1) return nd_fail(err, ND_ERR_ARG, "pca: need at least 2 samples and 1 feature (got %d x %d)", n, p);
    nd_status st = nd_check_finite(X, (size_t)n * p, p, "pca: data", err);
    if (st) return st;
    int r = n < p ? n : p;
    if (k <= 0 || k > r) k = r;
    double *A = NULL, *s = NULL, *VT = NULL, *ev = NULL;
    if ((st = ND_ALLOC(A, (size_t)n * p, "pca: centred data", err)) || (st = ND_ALLOC(s, r, "pca: singular values", err)) ||
        (st = ND_ALLOC(VT, (size_t)r * p, "pca: right singular vectors", err)) || (st = ND_ALLOC(ev, r, "pca: eigenvalues", err)) ||
        (st = ND_ALLOC(out->mean, p, "pca: mean", err)) || (st = ND_ALLOC(out->components, (size_t)k * p, "pca: components", err)) ||
        (st = ND_ALLOC(out->singular_values, k, "pca: singular values", err)) ||
        (st = ND_ALLOC(out->explained_variance, k, "pca: explained variance", err)) ||
        (st = ND_ALLOC(out->explained_variance_ratio, k, "pca: explained variance ratio", err)))
        goto fail;
    nd_center_columns(X, n, p, A, out->mean);
    {
        double *U = NULL;
        if ((st = ND_ALLOC(U, (size_t)n * r, "pca: left singular vectors", err))) goto fail;
        lapack_int info = LAPACKE_dgesdd(LAPACK_ROW_MAJOR, 'S', n, p, A, p, s, U, r, VT, p);
        nd_free(U);
        if (info != 0) {
            st = nd_fail(err, info < 0 ? ND_ERR_INTERNAL : ND_ERR_NUMERIC,
                         "pca: SVD (dgesdd, %d x %d) did not converge (info %d)", n, p, (int)info);
            goto fail;
        }
    }
    double tot = 0;
    for (int i = 0; i < r; i++) { ev[i] = s[i] * s[i] / (n - 1); tot += ev[i]; }
    out->n = n; out->p = p; out->k = k;
    out->total_variance = tot;
    out->participation_ratio = nd_participation_ratio(ev, r);
    for (int c = 0; c < k; c++) {
        const double *v = VT + (size_t)c * p;
        int arg = 0;
        for (int j = 1; j < p; j++)
            if (fabs(v[j]) > fabs(v[arg])) arg = j;
        double sg = v[arg] < 0 ? -1 : 1;
        for (int j = 0; j < p; j++) out->components[(size_t)c * p + j] = sg * v[j];
        out->singular_values[c] = s[c];
        out->explained_variance[c] = ev[c];
        out->explained_variance_ratio[c] = tot > 0 ? ev[c] / tot : 0;
    }
    nd_free(A); nd_free(s); nd_free(VT); nd_free(ev);
    return ND_OK;
fail:
    nd_free(A); nd_free(s); nd_free(VT); nd_free(ev);
    nd_pca_free(out);
    return st;
}

void nd_pca_transform(const nd_pca_result *r, const double *X, int m, double *scores) {
    int p = r->p, k = r->k;
    for (int i = 0; i < m; i++)
        for (int c = 0; c < k; c++) {
            double s = 0;
            for (int j = 0; j < p; j++) s += (X[(size_t)i * p + j] - r->mean[j]) * r->components[(size_t)c * p + j];
            scores[(size_t)i * k + c] = s;
        }
}
