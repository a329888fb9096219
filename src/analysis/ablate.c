/* Read-out ablation of LFADS factors: see ablate.h. */
#include "ablate.h"
#include "../core/mem.h"
#include "../core/rng.h"
#include "../eval/metrics.h"
#include "../models/lfads_infer.h"
#include <math.h>
#include <string.h>

enum { STREAM_ABLATE = 0xAB1A7E };

void nd_ablate_opts_default(nd_ablate_opts *o) {
    o->orders = 10;
    o->mode = ND_ABLATE_ZERO;
    o->seed = 0;
    o->threads = 1;
}

void nd_ablate_result_free(nd_ablate_result *r) {
    if (!r) return;
    nd_free(r->nll); nd_free(r->nll_sd); nd_free(r->r2); nd_free(r->r2_sd); nd_free(r->single_dnll);
    nd_free(r->clamp); nd_free(r->perm);
    memset(r, 0, sizeof *r);
}

/* sum over entries of exp(lr) - x lr (the lgamma term is added by the caller) */
static double nll_core(const double *lr, const float *x, size_t m) {
    double s = 0;
    for (size_t i = 0; i < m; i++) s += exp(lr[i]) - (double)x[i] * lr[i];
    return s;
}

/* lr[(row), :] += (v - f[row][j]) W[j][:] for every row */
static void silence(double *lr, const float *f, size_t rows, int F, int N, int j, double v, const double *W) {
    const double *w = W + (size_t)j * N;
    for (size_t i = 0; i < rows; i++) {
        double d = v - (double)f[i * F + j];
        if (d == 0) continue;
        double *l = lr + i * N;
        for (int c = 0; c < N; c++) l[c] += d * w[c];
    }
}

static double r2_of(const double *lr, float *buf, const float *truth, int n, int T, int N) {
    size_t m = (size_t)n * T * N;
    for (size_t i = 0; i < m; i++) buf[i] = (float)exp(lr[i]);
    return nd_r2_score_3d(buf, truth, n, T, N);
}

nd_status nd_ablate_readout(const float *factors, int n, int T, int F, const double *ro_W, const double *ro_bias,
                            int N, const float *counts, const float *truth, const nd_ablate_opts *opt,
                            nd_ablate_result *r, nd_error *err) {
    memset(r, 0, sizeof *r);
    nd_ablate_opts o;
    if (opt) o = *opt; else nd_ablate_opts_default(&o);
    if (n < 1 || T < 1 || F < 1 || N < 1)
        return nd_fail(err, ND_ERR_ARG, "ablation: empty input (%d trials, %d bins, %d factors, %d neurons)", n, T, F, N);
    if (o.orders < 1) return nd_fail(err, ND_ERR_ARG, "ablation: orders must be >= 1 (got %d)", o.orders);
    if (o.mode != ND_ABLATE_ZERO && o.mode != ND_ABLATE_MEAN) return nd_fail(err, ND_ERR_ARG, "ablation: unknown mode %d", (int)o.mode);
    size_t rows = (size_t)n * T, m = rows * N;
    for (size_t i = 0; i < rows * F; i++)
        if (!isfinite(factors[i])) return nd_fail(err, ND_ERR_NUMERIC, "ablation: factors contain NaN/Inf (trial %zu)", i / ((size_t)T * F));
    for (size_t i = 0; i < m; i++)
        if (!(counts[i] >= 0) || !isfinite(counts[i]))
            return nd_fail(err, ND_ERR_ARG, "ablation: counts must be finite and >= 0 (trial %zu)", i / ((size_t)T * N));
    r->F = F; r->N = N; r->n = n; r->T = T; r->orders = o.orders;
    double *lr0 = NULL, *lr = NULL, *vals = NULL, *vals_r2 = NULL;
    float *buf = NULL;
    nd_status st = ND_OK;
#define AL(p, cnt, what) if (!st) st = ND_ALLOC(p, (cnt), what, err)
    AL(lr0, m, "ablation log-rates"); AL(lr, m, "ablation log-rates"); AL(vals, (size_t)o.orders * (F + 1), "ablation");
    AL(r->nll, (size_t)F + 1, "ablation"); AL(r->nll_sd, (size_t)F + 1, "ablation"); AL(r->single_dnll, (size_t)F, "ablation");
    AL(r->clamp, (size_t)F, "ablation"); AL(r->perm, (size_t)o.orders * F, "ablation");
    if (truth) {
        AL(vals_r2, (size_t)o.orders * (F + 1), "ablation"); AL(buf, m, "ablation rates");
        AL(r->r2, (size_t)F + 1, "ablation"); AL(r->r2_sd, (size_t)F + 1, "ablation");
    }
#undef AL
    if (st) goto done;
    /* full read-out */
    for (size_t i = 0; i < rows; i++) {
        double *l = lr0 + i * N;
        for (int c = 0; c < N; c++) l[c] = ro_bias[c];
        for (int j = 0; j < F; j++) {
            double f = factors[i * F + j];
            const double *w = ro_W + (size_t)j * N;
            for (int c = 0; c < N; c++) l[c] += f * w[c];
        }
    }
    double lg = 0;
    for (size_t i = 0; i < m; i++) lg += lgamma((double)counts[i] + 1);
    for (int j = 0; j < F; j++) {
        double s = 0;
        if (o.mode == ND_ABLATE_MEAN) {
            for (size_t i = 0; i < rows; i++) s += factors[i * F + j];
            s /= (double)rows;
        }
        r->clamp[j] = s;
    }
    double nll0 = (nll_core(lr0, counts, m) + lg) / n;
    double r20 = truth ? r2_of(lr0, buf, truth, n, T, N) : 0;
    for (int j = 0; j < F; j++) {
        memcpy(lr, lr0, sizeof(double) * m);
        silence(lr, factors, rows, F, N, j, r->clamp[j], ro_W);
        r->single_dnll[j] = (nll_core(lr, counts, m) + lg) / n - nll0;
    }
    for (int q = 0; q < o.orders; q++) {
        int *perm = r->perm + (size_t)q * F;
        for (int j = 0; j < F; j++) perm[j] = j;
        nd_rng rng;
        nd_rng_stream(&rng, o.seed, STREAM_ABLATE, (uint64_t)q);
        nd_rng_shuffle(&rng, perm, F);
        memcpy(lr, lr0, sizeof(double) * m);
        vals[(size_t)q * (F + 1)] = nll0;
        if (truth) vals_r2[(size_t)q * (F + 1)] = r20;
        for (int k = 1; k <= F; k++) {
            silence(lr, factors, rows, F, N, perm[k - 1], r->clamp[perm[k - 1]], ro_W);
            vals[(size_t)q * (F + 1) + k] = (nll_core(lr, counts, m) + lg) / n;
            if (truth) vals_r2[(size_t)q * (F + 1) + k] = r2_of(lr, buf, truth, n, T, N);
        }
    }
    for (int k = 0; k <= F; k++)
        for (int pass = 0; pass < (truth ? 2 : 1); pass++) {
            const double *v = pass ? vals_r2 : vals;
            double mean = 0, ss = 0;
            for (int q = 0; q < o.orders; q++) mean += v[(size_t)q * (F + 1) + k];
            mean /= o.orders;
            for (int q = 0; q < o.orders; q++) {
                double d = v[(size_t)q * (F + 1) + k] - mean;
                ss += d * d;
            }
            double sd = o.orders > 1 ? sqrt(ss / (o.orders - 1)) : 0;
            if (pass) { r->r2[k] = mean; r->r2_sd[k] = sd; }
            else { r->nll[k] = mean; r->nll_sd[k] = sd; }
        }
    /* k = 0 and k = F do not depend on the order: report them exactly */
    r->nll[0] = nll0; r->nll_sd[0] = 0;
    if (truth) { r->r2[0] = r20; r->r2_sd[0] = 0; }
done:
    nd_free(lr0); nd_free(lr); nd_free(vals); nd_free(vals_r2); nd_free(buf);
    if (st) nd_ablate_result_free(r);
    return st;
}

nd_status nd_ablate_lfads(const nd_lfads_model *m, const float *x, const float *ext, const float *counts,
                          const float *truth, int n, int Te, int T, int split_id, const nd_ablate_opts *opt,
                          nd_ablate_result *r, nd_error *err) {
    memset(r, 0, sizeof *r);
    nd_ablate_opts o;
    if (opt) o = *opt; else nd_ablate_opts_default(&o);
    int F = m->cfg.fac_dim, N = m->Nr;
    nd_infer_opts io = {0, o.threads > 0 ? o.threads : 1, 0, 0, NULL, 0};
    nd_lfads_result res;
    nd_status st = nd_lfads_infer_split2(m, x, ext, n, Te, T, &io, split_id, &res, err);
    if (st) return st;
    double *W = NULL, *b = NULL;
    st = ND_ALLOC(W, (size_t)F * N, "read-out", err);
    if (!st) st = ND_ALLOC(b, (size_t)N, "read-out", err);
    if (!st) {
        for (size_t i = 0; i < (size_t)F * N; i++) W[i] = (double)m->p.ro_W[i];
        for (int c = 0; c < N; c++) b[c] = (double)m->p.ro_bias[c];
        st = nd_ablate_readout(res.factors, n, T, F, W, b, N, counts, truth, &o, r, err);
    }
    nd_free(W);
    nd_free(b);
    nd_lfads_result_free(&res);
    return st;
}
