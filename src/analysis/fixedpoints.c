/* Fixed points of discrete-time maps: see fixedpoints.h for the method and the rules. */
#include "fixedpoints.h"
#include "../core/mem.h"
#include <cblas.h>
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

void nd_fp_opts_default(nd_fp_opts *o) {
    o->max_iters = 200;
    o->tol_q = 1e-12;
    o->dedup_tol = 1e-3;
    o->outlier_scale = 10;
    o->slow_q = 0;
}

void nd_fp_result_free(nd_fp_result *r) {
    if (!r) return;
    nd_free(r->x); nd_free(r->q); nd_free(r->count); nd_free(r->jac); nd_free(r->eig_re); nd_free(r->eig_im);
    nd_free(r->max_abs_eig); nd_free(r->n_unstable_modes); nd_free(r->stable); nd_free(r->slow); nd_free(r->start_q);
    nd_free(r->start_iters);
    memset(r, 0, sizeof *r);
}

static double half_sq(const double *Fx, const double *x, int n, double *res) {
    double s = 0;
    for (int i = 0; i < n; i++) {
        double d = Fx[i] - x[i];
        if (res) res[i] = d;
        s += d * d;
    }
    return 0.5 * s;
}

nd_status nd_fp_minimize(nd_fp_map F, void *ctx, int n, double *x, const nd_fp_opts *opt, double *q_out,
                         int *iters_out, nd_error *err) {
    nd_fp_opts o;
    if (opt) o = *opt; else nd_fp_opts_default(&o);
    size_t nn = (size_t)n * n;
    double *Fx = nd_alloc(sizeof(double) * n), *res = nd_alloc(sizeof(double) * n), *J = nd_alloc(sizeof(double) * nn);
    double *A = nd_alloc(sizeof(double) * nn), *Am = nd_alloc(sizeof(double) * nn), *g = nd_alloc(sizeof(double) * n);
    double *d = nd_alloc(sizeof(double) * n), *xn = nd_alloc(sizeof(double) * n);
    lapack_int *ipiv = nd_alloc(sizeof(lapack_int) * n);
    nd_status st = ND_OK;
    int it = 0;
    double q = INFINITY;
    if (!Fx || !res || !J || !A || !Am || !g || !d || !xn || !ipiv) { st = nd_fail(err, ND_ERR_NOMEM, "fixed points: out of memory"); goto done; }
    double mu = -1;
    for (it = 0; it < o.max_iters; it++) {
        F(ctx, x, Fx, J);
        q = half_sq(Fx, x, n, res);
        if (!isfinite(q)) { st = nd_fail(err, ND_ERR_NUMERIC, "fixed points: the map returned NaN/Inf"); goto done; }
        if (q <= o.tol_q) break;
        for (int i = 0; i < n; i++) J[(size_t)i * n + i] -= 1; /* J - I */
        /* A = (J - I)^T (J - I), g = (J - I)^T r */
        cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, n, n, n, 1.0, J, n, J, n, 0.0, A, n);
        cblas_dgemv(CblasRowMajor, CblasTrans, n, n, 1.0, J, n, res, 1, 0.0, g, 1);
        if (mu < 0) {
            double mx = 0;
            for (int i = 0; i < n; i++) if (A[(size_t)i * n + i] > mx) mx = A[(size_t)i * n + i];
            mu = 1e-3 * (mx > 0 ? mx : 1);
        }
        int accepted = 0, stalled = 0;
        while (!accepted) {
            memcpy(Am, A, sizeof(double) * nn);
            for (int i = 0; i < n; i++) { Am[(size_t)i * n + i] += mu; d[i] = -g[i]; }
            lapack_int info = LAPACKE_dgesv(LAPACK_ROW_MAJOR, n, 1, Am, n, ipiv, d, 1);
            if (info == 0) {
                double dn = 0, xnorm = 0;
                for (int i = 0; i < n; i++) { xn[i] = x[i] + d[i]; dn += d[i] * d[i]; xnorm += x[i] * x[i]; }
                if (sqrt(dn) <= 1e-15 * (1 + sqrt(xnorm))) { stalled = 1; break; }
                F(ctx, xn, Fx, NULL);
                double qn = half_sq(Fx, xn, n, NULL);
                if (isfinite(qn) && qn < q) {
                    memcpy(x, xn, sizeof(double) * n);
                    q = qn;
                    accepted = 1;
                    mu = mu / 3 > 1e-300 ? mu / 3 : 1e-300;
                    break;
                }
            }
            mu *= 10;
            if (mu > 1e16) { stalled = 1; break; }
        }
        if (stalled) break;
    }
    if (it == o.max_iters || q > o.tol_q) { /* final q at the returned x */
        F(ctx, x, Fx, NULL);
        q = half_sq(Fx, x, n, NULL);
    }
done:
    if (q_out) *q_out = q;
    if (iters_out) *iters_out = it;
    nd_free(Fx); nd_free(res); nd_free(J); nd_free(A); nd_free(Am); nd_free(g); nd_free(d); nd_free(xn); nd_free(ipiv);
    return st;
}

static double dist(const double *a, const double *b, int n) {
    double s = 0;
    for (int i = 0; i < n; i++) s += (a[i] - b[i]) * (a[i] - b[i]);
    return sqrt(s);
}

typedef struct { double q; int i; } qi;
static int cmp_qi(const void *a, const void *b) {
    const qi *x = a, *y = b;
    return x->q < y->q ? -1 : x->q > y->q ? 1 : x->i - y->i;
}

nd_status nd_fixed_points(nd_fp_map F, void *ctx, int n, const double *starts, int n_starts, const nd_fp_opts *opt,
                          nd_fp_result *r, nd_error *err) {
    memset(r, 0, sizeof *r);
    nd_fp_opts o;
    if (opt) o = *opt; else nd_fp_opts_default(&o);
    if (n < 1 || n_starts < 1) return nd_fail(err, ND_ERR_ARG, "fixed points: need n >= 1 and at least one start (got %d, %d)", n, n_starts);
    if (o.max_iters < 1 || !(o.tol_q > 0) || !(o.dedup_tol >= 0))
        return nd_fail(err, ND_ERR_ARG, "fixed points: bad options (max_iters %d, tol_q %g, dedup_tol %g)", o.max_iters, o.tol_q, o.dedup_tol);
    for (size_t i = 0; i < (size_t)n * n_starts; i++)
        if (!isfinite(starts[i])) return nd_fail(err, ND_ERR_ARG, "fixed points: initial state %zu has NaN/Inf", i / n);
    r->n = n; r->n_starts = n_starts;
    size_t nn = (size_t)n * n;
    double *ends = NULL, *cent = NULL, *Fx = NULL, *Jc = NULL, *wr = NULL, *wi = NULL;
    qi *ord = NULL;
    int *keep = NULL;
    nd_status st = ND_OK;
#define AL(p, cnt, what) if (!st) st = ND_ALLOC(p, (cnt), what, err)
    AL(ends, (size_t)n * n_starts, "fixed points"); AL(cent, (size_t)n, "fixed points"); AL(Fx, (size_t)n, "fixed points");
    AL(Jc, nn, "fixed points"); AL(wr, (size_t)n, "fixed points"); AL(wi, (size_t)n, "fixed points");
    AL(ord, (size_t)n_starts, "fixed points"); AL(keep, (size_t)n_starts, "fixed points");
    AL(r->start_q, (size_t)n_starts, "fixed points"); AL(r->start_iters, (size_t)n_starts, "fixed points");
    if (st) goto done;
    memcpy(ends, starts, sizeof(double) * (size_t)n * n_starts);
    for (int s = 0; s < n_starts; s++) {
        st = nd_fp_minimize(F, ctx, n, ends + (size_t)s * n, &o, &r->start_q[s], &r->start_iters[s], err);
        if (st) goto done;
    }
    /* outlier scale: mean distance of the starts from their centroid */
    for (int s = 0; s < n_starts; s++)
        for (int i = 0; i < n; i++) cent[i] += starts[(size_t)s * n + i] / n_starts;
    double dmean = 0;
    for (int s = 0; s < n_starts; s++) dmean += dist(starts + (size_t)s * n, cent, n) / n_starts;
    int m = 0;
    for (int s = 0; s < n_starts; s++) {
        if (!(r->start_q[s] <= o.tol_q)) {
            r->n_unconverged++;
            if (!(o.slow_q > o.tol_q && r->start_q[s] <= o.slow_q)) continue;
        } else r->n_converged++;
        if (o.outlier_scale > 0 && dmean > 0 && dist(ends + (size_t)s * n, cent, n) > o.outlier_scale * dmean) {
            r->n_outliers++;
            continue;
        }
        ord[m].q = r->start_q[s];
        ord[m].i = s;
        m++;
    }
    qsort(ord, (size_t)m, sizeof *ord, cmp_qi);
    int nk = 0;
    for (int a = 0; a < m; a++) {
        const double *xa = ends + (size_t)ord[a].i * n;
        int dup = -1;
        double best = INFINITY;
        for (int b = 0; b < nk; b++) {
            double dd = dist(xa, ends + (size_t)keep[b] * n, n);
            if (dd <= o.dedup_tol && dd < best) { best = dd; dup = b; }
        }
        if (dup >= 0) { r->n_duplicates++; ord[a].i = -1 - dup; continue; }
        keep[nk++] = ord[a].i;
    }
    r->n_fp = nk;
    int K = nk ? nk : 1;
    AL(r->x, (size_t)K * n, "fixed points"); AL(r->q, (size_t)K, "fixed points"); AL(r->count, (size_t)K, "fixed points");
    AL(r->jac, (size_t)K * nn, "fixed points"); AL(r->eig_re, (size_t)K * n, "fixed points");
    AL(r->eig_im, (size_t)K * n, "fixed points"); AL(r->max_abs_eig, (size_t)K, "fixed points");
    AL(r->n_unstable_modes, (size_t)K, "fixed points"); AL(r->stable, (size_t)K, "fixed points");
    AL(r->slow, (size_t)K, "fixed points");
#undef AL
    if (st) goto done;
    for (int a = 0; a < m; a++) if (ord[a].i < 0) r->count[-1 - ord[a].i]++;
    for (int b = 0; b < nk; b++) {
        r->count[b] += 1;
        memcpy(r->x + (size_t)b * n, ends + (size_t)keep[b] * n, sizeof(double) * n);
        r->q[b] = r->start_q[keep[b]];
        double *J = r->jac + (size_t)b * nn;
        F(ctx, r->x + (size_t)b * n, Fx, J);
        memcpy(Jc, J, sizeof(double) * nn);
        lapack_int info = LAPACKE_dgeev(LAPACK_ROW_MAJOR, 'N', 'N', n, Jc, n, wr, wi, NULL, 1, NULL, 1);
        if (info != 0) { st = nd_fail(err, ND_ERR_NUMERIC, "fixed points: eigenvalues (dgeev) failed (info %d)", (int)info); goto done; }
        /* sort by |lambda| descending (insertion sort; n is small) */
        double *er = r->eig_re + (size_t)b * n, *ei = r->eig_im + (size_t)b * n;
        for (int i = 0; i < n; i++) {
            double ab = hypot(wr[i], wi[i]);
            int j = i - 1;
            while (j >= 0 && hypot(er[j], ei[j]) < ab) { er[j + 1] = er[j]; ei[j + 1] = ei[j]; j--; }
            er[j + 1] = wr[i];
            ei[j + 1] = wi[i];
        }
        r->max_abs_eig[b] = hypot(er[0], ei[0]);
        for (int i = 0; i < n; i++) r->n_unstable_modes[b] += hypot(er[i], ei[i]) >= 1;
        r->stable[b] = r->max_abs_eig[b] < 1;
        r->slow[b] = r->q[b] > o.tol_q;
        if (r->slow[b]) r->n_slow++;
        else if (r->stable[b]) r->n_stable++;
        else r->n_unstable++;
    }
done:
    nd_free(ends); nd_free(cent); nd_free(Fx); nd_free(Jc); nd_free(wr); nd_free(wi); nd_free(ord); nd_free(keep);
    if (st) nd_fp_result_free(r);
    return st;
}

/* ---------- tanh map ---------- */
void nd_fp_tanh_fn(void *ctx, const double *x, double *Fx, double *J) {
    const nd_fp_tanh_map *m = ctx;
    int n = m->n;
    for (int i = 0; i < n; i++) {
        double a = m->b ? m->b[i] : 0;
        for (int j = 0; j < n; j++) a += m->W[(size_t)i * n + j] * x[j];
        Fx[i] = tanh(a);
    }
    if (J)
        for (int i = 0; i < n; i++) {
            double dt = 1 - Fx[i] * Fx[i];
            for (int j = 0; j < n; j++) J[(size_t)i * n + j] = dt * m->W[(size_t)i * n + j];
        }
}

void nd_fp_leaky_tanh_fn(void *ctx, const double *x, double *Fx, double *J) {
    const nd_fp_leaky_tanh_map *m = ctx;
    const int n = m->n;
    const double al = m->alpha;
    nd_fp_tanh_map t = {n, m->W, m->b};
    nd_fp_tanh_fn(&t, x, Fx, J); /* Fx = tanh(W x + b), J = diag(1 - Fx^2) W */
    if (J)
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) J[(size_t)i * n + j] *= al;
            J[(size_t)i * n + i] += 1 - al;
        }
    for (int i = 0; i < n; i++) Fx[i] = (1 - al) * x[i] + al * Fx[i];
}

/* ---------- clipped GRU ---------- */
nd_status nd_fp_gru_map_init(nd_fp_gru_map *m, const gru_params *p, int n_in, int H, double clip, const double *u,
                             nd_error *err) {
    memset(m, 0, sizeof *m);
    if (H < 1 || n_in < 0 || !(clip > 0)) return nd_fail(err, ND_ERR_ARG, "GRU map: bad sizes (inputs %d, H %d, clip %g)", n_in, H, clip);
    m->H = H; m->n_in = n_in; m->clip = clip;
    nd_status st = ND_ALLOC(m->xp, (size_t)3 * H, "GRU map", err);
    if (!st) st = ND_ALLOC(m->Uzr, (size_t)H * 2 * H, "GRU map", err);
    if (!st) st = ND_ALLOC(m->Un, (size_t)H * H, "GRU map", err);
    /* work: z, r, n, g, rh [H] each + Ug, Q [H][H] */
    if (!st) st = ND_ALLOC(m->work, (size_t)5 * H + (size_t)2 * H * H, "GRU map", err);
    if (st) { nd_fp_gru_map_free(m); return st; }
    for (int j = 0; j < 3 * H; j++) {
        double s = (double)p->bx[j];
        if (u)
            for (int i = 0; i < n_in; i++) s += u[i] * (double)p->Wx[(size_t)i * 3 * H + j];
        m->xp[j] = s;
    }
    for (size_t i = 0; i < (size_t)H * 2 * H; i++) m->Uzr[i] = (double)p->Uzr[i];
    for (size_t i = 0; i < (size_t)H * H; i++) m->Un[i] = (double)p->Un[i];
    return ND_OK;
}

void nd_fp_gru_map_free(nd_fp_gru_map *m) {
    if (!m) return;
    nd_free(m->xp); nd_free(m->Uzr); nd_free(m->Un); nd_free(m->work);
    memset(m, 0, sizeof *m);
}

static double sigm(double a) { return 1 / (1 + exp(-a)); }

void nd_fp_gru_fn(void *ctx, const double *h, double *Fh, double *J) {
    nd_fp_gru_map *m = ctx;
    int H = m->H;
    double *z = m->work, *r = z + H, *nv = r + H, *g = nv + H, *rh = g + H, *Ug = rh + H, *Q = Ug + (size_t)H * H;
    const double *Uzr = m->Uzr, *Un = m->Un, *xp = m->xp;
    for (int j = 0; j < H; j++) { z[j] = xp[j]; r[j] = xp[H + j]; }
    for (int i = 0; i < H; i++) {
        const double *row = Uzr + (size_t)i * 2 * H;
        double hi = h[i];
        for (int j = 0; j < H; j++) { z[j] += hi * row[j]; r[j] += hi * row[H + j]; }
    }
    for (int j = 0; j < H; j++) { z[j] = sigm(z[j]); r[j] = sigm(r[j]); rh[j] = r[j] * h[j]; nv[j] = xp[2 * H + j]; }
    for (int i = 0; i < H; i++) {
        const double *row = Un + (size_t)i * H;
        for (int j = 0; j < H; j++) nv[j] += rh[i] * row[j];
    }
    for (int j = 0; j < H; j++) {
        nv[j] = tanh(nv[j]);
        double v = z[j] * h[j] + (1 - z[j]) * nv[j];
        Fh[j] = v > m->clip ? m->clip : (v < -m->clip ? -m->clip : v);
    }
    if (!J) return;
    /* d a_n_j / d h_k = Un[k][j] r_k + sum_i Ur[k][i] h_i r_i (1 - r_i) Un[i][j] = Un[k][j] r_k + Q[k][j],
     * Q = Ur diag(g) Un with g = h r (1 - r) and Ur[k][i] = Uzr[k][H + i] */
    for (int i = 0; i < H; i++) g[i] = h[i] * r[i] * (1 - r[i]);
    for (int k = 0; k < H; k++)
        for (int i = 0; i < H; i++) Ug[(size_t)k * H + i] = Uzr[(size_t)k * 2 * H + H + i] * g[i];
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, H, H, H, 1.0, Ug, H, Un, H, 0.0, Q, H);
    for (int j = 0; j < H; j++) {
        double *Jr = J + (size_t)j * H;
        double v = z[j] * h[j] + (1 - z[j]) * nv[j];
        if (v > m->clip || v < -m->clip) { memset(Jr, 0, sizeof(double) * H); continue; }
        double cz = (h[j] - nv[j]) * z[j] * (1 - z[j]);   /* dh'/da_z */
        double cn = (1 - z[j]) * (1 - nv[j] * nv[j]);     /* dh'/da_n */
        for (int k = 0; k < H; k++)
            Jr[k] = cz * Uzr[(size_t)k * 2 * H + j] + cn * (Un[(size_t)k * H + j] * r[k] + Q[(size_t)k * H + j]);
        Jr[j] += z[j];
    }
}
