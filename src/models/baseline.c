#include "baseline.h"
#include "poisson_glm.h"
#include "../core/blas.h"
#include "../core/mem.h"
#include "../io/fingerprint.h"
#include "../io/h5.h"
#include <lapacke.h>
#include <math.h>
#include <omp.h>
#include <string.h>

void nd_baseline_opts_default(nd_baseline_opts *o) {
    memset(o, 0, sizeof *o);
    o->kernel_ms = 50;
    o->bin_ms = 20;
    o->alpha = 0.01;
    o->log_offset = 1e-4;
    nd_gpfa_opts_default(&o->gpfa);
    o->threads = 1;
}

void nd_baseline_result_free(nd_baseline_result *r) {
    for (int s = 0; s < ND_BASELINE_SPLITS; s++) { nd_free(r->rates[s]); nd_free(r->factors[s]); }
    nd_gpfa_params_free(&r->gpfa);
    nd_free(r->gpfa_neurons);
    nd_free(r->loglik);
    memset(r, 0, sizeof *r);
}

nd_status nd_smooth_nlb(float *out, const float *counts, int n, int T, int N, double sd_bins, nd_error *err) {
    size_t total = (size_t)n * T * N;
    if (!(sd_bins >= 0) || !(sd_bins < 1e7))
        return nd_fail(err, ND_ERR_ARG, "smoothing: kernel SD of %g bins is out of range", sd_bins);
    int M = (int)(6 * sd_bins);
    if (M < 1) { memcpy(out, counts, total * sizeof *out); return ND_OK; }
    double *w = NULL, ws = 0, c = (M - 1) / 2.0;
    nd_status st = ND_ALLOC(w, M, "smoothing window", err);
    if (st) return st;
    for (int j = 0; j < M; j++) { w[j] = exp(-0.5 * ((j - c) / sd_bins) * ((j - c) / sd_bins)); ws += w[j]; }
    for (int j = 0; j < M; j++) w[j] /= ws;
    int off = (M - 1) / 2;
    for (int b = 0; b < n; b++)
        for (int t = 0; t < T; t++)
            for (int k = 0; k < N; k++) {
                double s = 0;
                for (int j = 0; j < M; j++) {
                    int u = t + off - j;
                    if (u >= 0 && u < T) s += w[j] * counts[((size_t)b * T + u) * N + k];
                }
                out[((size_t)b * T + t) * N + k] = (float)s;
            }
    nd_free(w);
    return ND_OK;
}

static nd_status alloc_rates(const nd_lfads_data *d, nd_baseline_result *r, const char *method, nd_error *err) {
    memset(r, 0, sizeof *r);
    r->method = method;
    r->n[0] = d->n_train; r->n[1] = d->n_valid; r->n[2] = d->n_test;
    r->T = d->T; r->N = d->N;
    r->Tr = d->Tr > 0 ? d->Tr : d->T;
    r->Nr = d->Nr > 0 ? d->Nr : d->N;
    nd_status st = ND_OK;
    for (int s = 0; s < ND_BASELINE_SPLITS && !st; s++) st = ND_ALLOC(r->rates[s], (size_t)r->n[s] * r->Tr * r->Nr + 1, "rates", err);
    return st;
}

static const float *split_counts(const nd_lfads_data *d, int s) { return s == 0 ? d->train : s == 1 ? d->valid : d->test; }

/* Held-out neurons: Poisson GLM per neuron from regressors X[s] [n_s][Tx][p], fitted on the train trials'
 * observed bins, written for bins t < Tx of every split. */
static nd_status heldout_glm(const nd_lfads_data *d, const nd_baseline_opts *o, double *const X[ND_BASELINE_SPLITS], int Tx, int p,
                             nd_baseline_result *r, nd_error *err) {
    const int T = r->T, N = r->N, Nr = r->Nr, Tr = r->Tr, H = Nr - N, n0 = r->n[0];
    if (H <= 0) return ND_OK;
    const float *rec = nd_lfads_recon(d, 0);
    size_t rows = (size_t)n0 * T;
    double *Xf = NULL, *W = NULL, *B = NULL;
    float *Yf = NULL;
    nd_status st = ND_ALLOC(Xf, rows * p, "GLM regressors", err);
    if (!st) st = ND_ALLOC(Yf, rows * H, "held-out counts", err);
    if (!st) st = ND_ALLOC(W, (size_t)H * p, "GLM weights", err);
    if (!st) st = ND_ALLOC(B, H, "GLM intercepts", err);
    if (st) goto done;
    for (int b = 0; b < n0; b++)
        for (int t = 0; t < T; t++) {
            size_t row = (size_t)b * T + t;
            memcpy(Xf + row * p, X[0] + ((size_t)b * Tx + t) * p, sizeof(double) * p);
            memcpy(Yf + row * H, rec + ((size_t)b * Tr + t) * Nr + N, sizeof(float) * H);
        }
    if (o->progress) { fprintf(o->progress, "  Poisson GLM for %d held-out neurons on %d regressors\n", H, p); fflush(o->progress); }
    nd_glm_opts go;
    nd_glm_opts_default(&go);
    go.alpha = o->alpha;
    st = nd_poisson_glm_fit_many(Xf, Yf, H, rows, p, H, &go, W, B, err);
    if (st) goto done;
    for (int s = 0; s < ND_BASELINE_SPLITS; s++)
        for (int b = 0; b < r->n[s]; b++)
            for (int t = 0; t < Tx; t++) {
                const double *x = X[s] + ((size_t)b * Tx + t) * p;
                float *out = r->rates[s] + ((size_t)b * Tr + t) * Nr + N;
                for (int j = 0; j < H; j++) out[j] = (float)nd_poisson_glm_rate(x, W + (size_t)j * p, B[j], p);
            }
done:
    nd_free(Xf); nd_free(Yf); nd_free(W); nd_free(B);
    return st;
}

nd_status nd_baseline_smoothing(const nd_lfads_data *d, const nd_baseline_opts *o, nd_baseline_result *r,
                                nd_error *err) {
    if (!(o->kernel_ms > 0) || !(o->bin_ms > 0) || !(o->alpha >= 0) || !(o->log_offset > 0))
        return nd_fail(err, ND_ERR_ARG, "smoothing baseline: kernel %g ms, bin %g ms, alpha %g, log offset %g "
                       "(kernel, bin and offset must be > 0, alpha >= 0)", o->kernel_ms, o->bin_ms, o->alpha, o->log_offset);
    omp_set_num_threads(o->threads > 0 ? o->threads : 1);
    nd_status st = alloc_rates(d, r, "smoothing", err);
    if (st) { nd_baseline_result_free(r); return st; }
    const int T = r->T, N = r->N, Tr = r->Tr, Nr = r->Nr;
    const double sd = o->kernel_ms / o->bin_ms;
    float *sm[ND_BASELINE_SPLITS] = {NULL, NULL, NULL};
    double *X[ND_BASELINE_SPLITS] = {NULL, NULL, NULL};
    for (int s = 0; s < ND_BASELINE_SPLITS && !st; s++) {
        size_t nTN = (size_t)r->n[s] * T * N;
        st = ND_ALLOC(sm[s], nTN + 1, "smoothed spikes", err);
        if (!st) st = ND_ALLOC(X[s], nTN + 1, "log smoothed spikes", err);
        if (st) break;
        st = nd_smooth_nlb(sm[s], split_counts(d, s), r->n[s], T, N, sd, err);
        if (st) break;
        for (size_t i = 0; i < nTN; i++) X[s][i] = log(sm[s][i] + o->log_offset);
        for (int b = 0; b < r->n[s]; b++)
            for (int t = 0; t < T; t++)
                memcpy(r->rates[s] + ((size_t)b * Tr + t) * Nr, sm[s] + ((size_t)b * T + t) * N, sizeof(float) * N);
    }
    if (!st) st = heldout_glm(d, o, X, T, N, r, err);
    /* forward-prediction bins: the train trials' PSTH, smoothed over the forward bins */
    int Tf = Tr - T;
    if (!st && Tf > 0) {
        double *ps = nd_alloc(sizeof(double) * (size_t)Tf * Nr * 2);
        if (!ps) st = nd_fail(err, ND_ERR_NOMEM, "smoothing baseline: out of memory");
        else {
            double *pss = ps + (size_t)Tf * Nr;
            const float *rec = nd_lfads_recon(d, 0);
            for (int b = 0; b < r->n[0]; b++)
                for (int t = 0; t < Tf; t++)
                    for (int k = 0; k < Nr; k++) ps[(size_t)t * Nr + k] += rec[((size_t)b * Tr + T + t) * Nr + k];
            for (size_t i = 0; i < (size_t)Tf * Nr; i++) ps[i] /= r->n[0];
            int half = (int)ceil(3 * sd);
            for (int t = 0; t < Tf; t++)
                for (int k = 0; k < Nr; k++) {
                    double a = 0, ws = 0;
                    for (int u = t - half; u <= t + half; u++) {
                        if (u < 0 || u >= Tf) continue;
                        double w = exp(-0.5 * (u - t) * (u - t) / (sd * sd));
                        a += w * ps[(size_t)u * Nr + k];
                        ws += w;
                    }
                    double v = a / ws;
                    pss[(size_t)t * Nr + k] = v < 1e-9 ? 1e-9 : v;
                }
            for (int s = 0; s < ND_BASELINE_SPLITS; s++)
                for (int b = 0; b < r->n[s]; b++)
                    for (int t = 0; t < Tf; t++)
                        for (int k = 0; k < Nr; k++)
                            r->rates[s][((size_t)b * Tr + T + t) * Nr + k] = (float)pss[(size_t)t * Nr + k];
            nd_free(ps);
        }
    }
    for (int s = 0; s < ND_BASELINE_SPLITS; s++) { nd_free(sm[s]); nd_free(X[s]); }
    if (st) nd_baseline_result_free(r);
    return st;
}

/* least squares with intercept: Y [rows][q] (row stride ldy) ~ X [rows][p] W + b; W [p][q], b [q] */
static nd_status linreg(const double *X, const float *Y, size_t ldy, size_t rows, int p, int q, double *W, double *b,
                        nd_error *err) {
    int P = p + 1;
    double *A = nd_alloc(sizeof(double) * (size_t)P * P), *Bm = nd_alloc(sizeof(double) * (size_t)P * q);
    if (!A || !Bm) { nd_free(A); nd_free(Bm); return nd_fail(err, ND_ERR_NOMEM, "linear read-out: out of memory"); }
    for (size_t i = 0; i < rows; i++) {
        const double *x = X + i * p;
        const float *y = Y + i * ldy;
        for (int j = 0; j < P; j++) {
            double xj = j < p ? x[j] : 1.0;
            for (int k = 0; k <= j; k++) A[(size_t)j * P + k] += xj * (k < p ? x[k] : 1.0);
            for (int k = 0; k < q; k++) Bm[(size_t)j * q + k] += xj * y[k];
        }
    }
    double tr = 0;
    for (int j = 0; j < P; j++) tr += A[(size_t)j * P + j];
    for (int j = 0; j < p; j++) A[(size_t)j * P + j] += 1e-10 * tr / P; /* guards exact collinearity only */
    lapack_int info = LAPACKE_dposv(LAPACK_ROW_MAJOR, 'L', P, q, A, P, Bm, q);
    nd_status st = ND_OK;
    if (info != 0) st = nd_fail(err, ND_ERR_NUMERIC, "linear read-out: singular normal equations (info %d)", (int)info);
    else {
        memcpy(W, Bm, sizeof(double) * (size_t)p * q);
        memcpy(b, Bm + (size_t)p * q, sizeof(double) * q);
    }
    nd_free(A);
    nd_free(Bm);
    return st;
}

/* GPFA forward-prediction bins: one Poisson GLM per neuron (all Nr) from the GP-extrapolated latents, fitted
 * on the forward bins of the train trials (their targets), applied to every split's forward bins. */
static nd_status forward_glm(const nd_lfads_data *d, const nd_baseline_opts *o, double *const X[ND_BASELINE_SPLITS], int p,
                             nd_baseline_result *r, nd_error *err) {
    const int T = r->T, Nr = r->Nr, Tr = r->Tr, Tf = Tr - T, n0 = r->n[0];
    const float *rec = nd_lfads_recon(d, 0);
    size_t rows = (size_t)n0 * Tf;
    double *Xf = NULL, *W = NULL, *B = NULL;
    float *Yf = NULL;
    nd_status st = ND_ALLOC(Xf, rows * p + 1, "GLM regressors", err);
    if (!st) st = ND_ALLOC(Yf, rows * Nr + 1, "forward-bin counts", err);
    if (!st) st = ND_ALLOC(W, (size_t)Nr * p, "GLM weights", err);
    if (!st) st = ND_ALLOC(B, Nr, "GLM intercepts", err);
    if (st) goto done;
    for (int b = 0; b < n0; b++)
        for (int t = 0; t < Tf; t++) {
            size_t row = (size_t)b * Tf + t;
            memcpy(Xf + row * p, X[0] + ((size_t)b * Tr + T + t) * p, sizeof(double) * p);
            memcpy(Yf + row * Nr, rec + ((size_t)b * Tr + T + t) * Nr, sizeof(float) * Nr);
        }
    if (o->progress) { fprintf(o->progress, "  Poisson GLM for %d neurons in %d forward bins\n", Nr, Tf); fflush(o->progress); }
    nd_glm_opts go;
    nd_glm_opts_default(&go);
    go.alpha = o->alpha;
    st = nd_poisson_glm_fit_many(Xf, Yf, Nr, rows, p, Nr, &go, W, B, err);
    if (st) goto done;
    for (int s = 0; s < ND_BASELINE_SPLITS; s++)
        for (int b = 0; b < r->n[s]; b++)
            for (int t = T; t < Tr; t++) {
                const double *x = X[s] + ((size_t)b * Tr + t) * p;
                float *out = r->rates[s] + ((size_t)b * Tr + t) * Nr;
                for (int j = 0; j < Nr; j++) out[j] = (float)nd_poisson_glm_rate(x, W + (size_t)j * p, B[j], p);
            }
done:
    nd_free(Xf); nd_free(Yf); nd_free(W); nd_free(B);
    return st;
}

nd_status nd_baseline_gpfa(const nd_lfads_data *d, const nd_baseline_opts *o, nd_baseline_result *r, nd_error *err) {
    if (!(o->bin_ms > 0) || !(o->alpha >= 0))
        return nd_fail(err, ND_ERR_ARG, "GPFA baseline: bin %g ms and alpha %g (need > 0 and >= 0)", o->bin_ms, o->alpha);
    int threads = o->threads > 0 ? o->threads : 1;
    omp_set_num_threads(threads);
    nd_blas_set_threads(threads);
    nd_status st = alloc_rates(d, r, "gpfa", err);
    if (st) { nd_baseline_result_free(r); return st; }
    const int T = r->T, N = r->N, Tr = r->Tr, Nr = r->Nr;
    double *Y = NULL, *lat = NULL, *Tm = NULL, *X[ND_BASELINE_SPLITS] = {NULL, NULL, NULL}, *W = NULL, *bb = NULL;
    int *act = NULL, q = 0;
    st = ND_ALLOC(act, N, "GPFA neuron list", err);
    if (st) goto done;
    /* neurons that spike in some train trial */
    for (int k = 0; k < N; k++) {
        int any = 0;
        for (size_t i = 0; i < (size_t)r->n[0] * T && !any; i++) any = d->train[i * N + k] != d->train[k];
        if (any) act[q++] = k;
    }
    if (q == 0) { st = nd_fail(err, ND_ERR_ARG, "%s: no held-in neuron varies over the train trials", d->path); goto done; }
    nd_gpfa_opts go = o->gpfa;
    go.bin_ms = o->bin_ms;
    go.progress = o->progress;
    if (go.latents > q) go.latents = q;
    if (o->progress) {
        fprintf(o->progress, "GPFA: %d latents, %d of %d held-in neurons (sqrt counts), %d train trials x %d bins\n",
                go.latents, q, N, r->n[0], T);
        fflush(o->progress);
    }
    st = ND_ALLOC(Y, (size_t)(r->n[0] > r->n[1] ? r->n[0] : r->n[1]) * T * q + 1, "GPFA data", err);
    if (st) goto done;
    for (size_t i = 0; i < (size_t)r->n[0] * T; i++)
        for (int k = 0; k < q; k++) Y[i * q + k] = sqrt(d->train[i * N + act[k]]);
    st = nd_gpfa_fit(Y, r->n[0], T, q, &go, &r->gpfa, &r->loglik, &r->em_iters, err);
    if (st) goto done;
    const int p = r->gpfa.p;
    r->F = p;
    r->gpfa_neurons = act;
    act = NULL;
    st = ND_ALLOC(Tm, (size_t)p * p, "GPFA transform", err);
    if (!st) st = nd_gpfa_orth_transform(&r->gpfa, Tm, err);
    if (!st) st = ND_ALLOC(lat, (size_t)(r->n[0] > r->n[1] ? r->n[0] : r->n[1]) * Tr * p + 1, "GPFA latents", err);
    for (int s = 0; s < ND_BASELINE_SPLITS && !st; s++) {
        size_t rows = (size_t)r->n[s] * Tr;
        st = ND_ALLOC(X[s], rows * p + 1, "GPFA latents", err);
        if (!st) st = ND_ALLOC(r->factors[s], rows * p + 1, "GPFA latents", err);
        if (st || r->n[s] == 0) continue;
        const float *c = split_counts(d, s);
        for (size_t i = 0; i < (size_t)r->n[s] * T; i++)
            for (int k = 0; k < q; k++) Y[i * q + k] = sqrt(c[i * N + r->gpfa_neurons[k]]);
        st = nd_gpfa_estep(&r->gpfa, Y, r->n[s], T, Tr, NULL, lat, NULL, err);
        if (st) break;
        for (size_t i = 0; i < rows; i++)
            for (int a = 0; a < p; a++) {
                double v = 0;
                for (int j = 0; j < p; j++) v += Tm[(size_t)a * p + j] * lat[i * p + j];
                X[s][i * p + a] = v;
                r->factors[s][i * p + a] = (float)v;
            }
    }
    if (st) goto done;
    /* held-in read-out: least squares from latents to counts on the train trials' observed bins */
    {
        size_t rows = (size_t)r->n[0] * T;
        double *Xf = nd_alloc(sizeof(double) * rows * p + 1);
        st = ND_ALLOC(W, (size_t)p * N, "read-out weights", err);
        if (!st) st = ND_ALLOC(bb, N, "read-out offsets", err);
        if (!st && !Xf) st = nd_fail(err, ND_ERR_NOMEM, "GPFA baseline: out of memory");
        if (!st) {
            for (int b = 0; b < r->n[0]; b++)
                memcpy(Xf + (size_t)b * T * p, X[0] + (size_t)b * Tr * p, sizeof(double) * T * p);
            st = linreg(Xf, d->train, N, rows, p, N, W, bb, err);
        }
        nd_free(Xf);
        if (st) goto done;
    }
    for (int s = 0; s < ND_BASELINE_SPLITS; s++)
        for (size_t i = 0; i < (size_t)r->n[s] * Tr; i++) {
            const double *x = X[s] + i * p;
            float *out = r->rates[s] + i * Nr;
            for (int k = 0; k < N; k++) {
                double v = bb[k];
                for (int j = 0; j < p; j++) v += x[j] * W[(size_t)j * N + k];
                out[k] = (float)(v < 1e-9 ? 1e-9 : v);
            }
        }
    st = heldout_glm(d, o, X, Tr, p, r, err);
    if (!st && Tr > T) st = forward_glm(d, o, X, p, r, err);
done:
    nd_free(Y); nd_free(lat); nd_free(Tm); nd_free(X[0]); nd_free(X[1]); nd_free(X[2]); nd_free(W); nd_free(bb); nd_free(act);
    if (st) nd_baseline_result_free(r);
    return st;
}

nd_status nd_baseline_write(const char *path, const nd_lfads_data *d, const nd_baseline_result *r,
                            const nd_baseline_opts *o, double split_seed, double valid_fraction, nd_error *err) {
    nd_h5file *h = NULL;
    nd_status st = nd_h5_create(&h, path, err);
    static const char *const split[ND_BASELINE_SPLITS] = {"train", "valid", "test"};
    char name[64];
    for (int s = 0; s < ND_BASELINE_SPLITS && !st; s++) {
        if (s == 2 && r->n[s] == 0) continue; /* no test split */
        size_t d3[3] = {(size_t)r->n[s], (size_t)r->Tr, (size_t)r->Nr};
        snprintf(name, sizeof name, "%s_output_params", split[s]);
        st = nd_h5_write_float(h, name, r->rates[s], 3, d3, err);
        if (!st && r->factors[s]) {
            d3[2] = (size_t)r->F;
            snprintf(name, sizeof name, "%s_factors", split[s]);
            st = nd_h5_write_float(h, name, r->factors[s], 3, d3, err);
        }
    }
    if (!st && d->train_inds) { size_t n1 = (size_t)d->n_train; st = nd_h5_write_int(h, "train_inds", d->train_inds, 1, &n1, err); }
    if (!st && d->valid_inds) { size_t n1 = (size_t)d->n_valid; st = nd_h5_write_int(h, "valid_inds", d->valid_inds, 1, &n1, err); }
    if (!st && d->test_inds && d->n_test > 0) { size_t n1 = (size_t)d->n_test; st = nd_h5_write_int(h, "test_inds", d->test_inds, 1, &n1, err); }
    int gp = r->gpfa.p > 0;
    if (!st && gp) {
        const nd_gpfa_params *m = &r->gpfa;
        size_t qp[2] = {(size_t)m->q, (size_t)m->p}, q1 = (size_t)m->q, p1 = (size_t)m->p, it = (size_t)r->em_iters;
        double *tms = nd_alloc(sizeof(double) * p1);
        if (!tms) st = nd_fail(err, ND_ERR_NOMEM, "%s: out of memory", path);
        else {
            for (size_t i = 0; i < p1; i++) tms[i] = m->tau[i] * o->bin_ms;
            st = nd_h5_write_double(h, "gpfa/C", m->C, 2, qp, err);
            if (!st) st = nd_h5_write_double(h, "gpfa/d", m->d, 1, &q1, err);
            if (!st) st = nd_h5_write_double(h, "gpfa/R", m->R, 1, &q1, err);
            if (!st) st = nd_h5_write_double(h, "gpfa/timescales_ms", tms, 1, &p1, err);
            if (!st) st = nd_h5_write_int(h, "gpfa/neurons", r->gpfa_neurons, 1, &q1, err);
            if (!st) st = nd_h5_write_double(h, "gpfa/loglik", r->loglik, 1, &it, err);
            nd_free(tms);
        }
    }
    if (!st) st = nd_h5_write_attr_string(h, "/", "method", r->method, err);
    if (!st) st = nd_h5_write_attr_string(h, "/", "data", d->path, err);
    if (!st) st = nd_h5_write_attr_string(h, "/", "rate_units", "counts per bin", err);
    if (!st) st = nd_h5_write_attr_double(h, "/", "bin_ms", o->bin_ms, err);
    if (!st) st = nd_h5_write_attr_double(h, "/", "alpha", o->alpha, err);
    if (!st && !gp) st = nd_h5_write_attr_double(h, "/", "kernel_ms", o->kernel_ms, err);
    if (!st && gp) st = nd_h5_write_attr_double(h, "/", "latents", r->gpfa.p, err);
    if (!st && gp) st = nd_h5_write_attr_double(h, "/", "em_iters", r->em_iters, err);
    if (!st) st = nd_h5_write_attr_double(h, "/", "split_seed", split_seed, err);
    if (!st) st = nd_h5_write_attr_double(h, "/", "valid_fraction", valid_fraction, err);
    if (!st) st = nd_data_fp_write_attr(h, d, err); /* what eval checks its data against */
    if (h) {
        nd_error e2;
        nd_status cs = nd_h5_close(h, st == ND_OK, st ? &e2 : err);
        if (!st) st = cs;
    }
    return st;
}
