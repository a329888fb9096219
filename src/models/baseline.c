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
    o->kernel_ms = 0; /* auto */
    o->bin_ms = 20;
    o->alpha = -1;    /* auto */
    o->log_offset = 1e-4;
    nd_gpfa_opts_default(&o->gpfa);
    o->gpfa.latents = 0; /* auto */
    o->max_latents = 20;
    o->search_iters = 30;
    o->cv_folds = 3;
    o->threads = 1;
}

int nd_baseline_kernel_grid(double *kernel_ms) {
    static const double g[] = {20, 30, 40, 50, 60, 80, 100, 150, 200};
    int n = (int)(sizeof g / sizeof g[0]);
    for (int i = 0; i < n; i++) kernel_ms[i] = g[i];
    return n;
}

int nd_baseline_latent_grid(int max_latents, int *cand) {
    static const int g[] = {2, 3, 4, 5, 6, 8, 10, 12, 16, 20};
    int n = 0;
    for (int i = 0; i < (int)(sizeof g / sizeof g[0]); i++)
        if (g[i] <= max_latents) cand[n++] = g[i];
    if (n == 0) cand[n++] = max_latents >= 1 ? max_latents : 1;
    return n;
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
    for (int s = 0; s < ND_NSPLITS; s++) r->n[s] = d->split[s].n;
    r->T = d->T; r->N = d->N;
    r->Tr = d->Tr > 0 ? d->Tr : d->T;
    r->Nr = d->Nr > 0 ? d->Nr : d->N;
    nd_status st = ND_OK;
    for (int s = 0; s < ND_BASELINE_SPLITS && !st; s++) st = ND_ALLOC(r->rates[s], (size_t)r->n[s] * r->Tr * r->Nr + 1, "rates", err);
    return st;
}

static const float *split_counts(const nd_lfads_data *d, int s) { return d->split[s].counts; }

/* The train trials' observed bins: regressors X0 [n0][Tx][p] (bins t < T) into Xf [n0*T][p], held-out counts into
 * Yf [n0*T][H]. */
static nd_status gather_train(const nd_lfads_data *d, const nd_baseline_result *r, const double *X0, int Tx, int p,
                              double **Xf, float **Yf, nd_error *err) {
    const int T = r->T, N = r->N, Nr = r->Nr, Tr = r->Tr, H = Nr - N, n0 = r->n[0];
    const float *rec = nd_lfads_recon(d, 0);
    size_t rows = (size_t)n0 * T;
    *Xf = NULL; *Yf = NULL;
    nd_status st = ND_ALLOC(*Xf, rows * p + 1, "GLM regressors", err);
    if (!st) st = ND_ALLOC(*Yf, rows * H + 1, "held-out counts", err);
    if (st) { nd_free(*Xf); nd_free(*Yf); *Xf = NULL; *Yf = NULL; return st; }
    for (int b = 0; b < n0; b++)
        for (int t = 0; t < T; t++) {
            size_t row = (size_t)b * T + t;
            memcpy(*Xf + row * p, X0 + ((size_t)b * Tx + t) * p, sizeof(double) * p);
            memcpy(*Yf + row * H, rec + ((size_t)b * Tr + t) * Nr + N, sizeof(float) * H);
        }
    return ND_OK;
}

static int cv_folds(const nd_baseline_opts *o, int trials) {
    int k = o->cv_folds >= 2 ? o->cv_folds : 3;
    return k <= trials ? k : trials;
}

/* CV co-bps of the held-out GLM read-out for every alpha of r->alphas (scores into row[]), regressors X0 of the
 * train trials [n0][Tx][p]; *best = the best alpha's index. */
static nd_status heldout_cv(const nd_lfads_data *d, const nd_baseline_opts *o, const double *X0, int Tx, int p,
                            nd_baseline_result *r, double *row, int *best, nd_error *err) {
    const int H = r->Nr - r->N;
    double *Xf;
    float *Yf;
    nd_status st = gather_train(d, r, X0, Tx, p, &Xf, &Yf, err);
    if (st) return st;
    st = nd_glm_readout_cv(Xf, Yf, H, r->n[0], r->T, p, H, r->alphas, r->n_alpha, cv_folds(o, r->n[0]), row, best, err);
    nd_free(Xf);
    nd_free(Yf);
    return st;
}

static void print_scores(FILE *f, const char *what, const nd_baseline_result *r, const double *row) {
    if (!f) return;
    fprintf(f, "  %s: CV co-bps by alpha:", what);
    for (int a = 0; a < r->n_alpha; a++) fprintf(f, " %g:%.4f", r->alphas[a], row[a]);
    fprintf(f, "\n");
    fflush(f);
}

static void set_alpha_grid(const nd_baseline_opts *o, nd_baseline_result *r) {
    r->alpha_auto = !(o->alpha >= 0);
    if (r->alpha_auto) r->n_alpha = nd_glm_default_alphas(r->alphas);
    else { r->n_alpha = 1; r->alphas[0] = o->alpha; }
    r->cv_folds = cv_folds(o, r->n[0]);
}

/* Held-out neurons: Poisson GLM per neuron (standardised regressors, penalty r->alpha) from regressors
 * X[s] [n_s][Tx][p], fitted on the train trials' observed bins, written for bins t < Tx of every split. */
static nd_status heldout_glm(const nd_lfads_data *d, const nd_baseline_opts *o, double *const X[ND_BASELINE_SPLITS], int Tx, int p,
                             nd_baseline_result *r, nd_error *err) {
    const int T = r->T, N = r->N, Nr = r->Nr, Tr = r->Tr, H = Nr - N, n0 = r->n[0];
    if (H <= 0) return ND_OK;
    double *Xf;
    float *Yf;
    nd_status st = gather_train(d, r, X[0], Tx, p, &Xf, &Yf, err);
    if (st) return st;
    if (o->progress) {
        fprintf(o->progress, "  Poisson GLM for %d held-out neurons on %d standardised regressors, alpha %g\n", H, p, r->alpha);
        fflush(o->progress);
    }
    nd_glm_readout ro;
    st = nd_glm_readout_fit(Xf, Yf, H, (size_t)n0 * T, p, H, r->alpha, &ro, err);
    nd_free(Xf);
    nd_free(Yf);
    if (st) return st;
    for (int s = 0; s < ND_BASELINE_SPLITS; s++)
        for (int b = 0; b < r->n[s]; b++)
            for (int t = 0; t < Tx; t++) {
                const double *x = X[s] + ((size_t)b * Tx + t) * p;
                float *out = r->rates[s] + ((size_t)b * Tr + t) * Nr + N;
                for (int j = 0; j < H; j++) out[j] = (float)nd_glm_readout_rate(&ro, x, j);
            }
    nd_glm_readout_free(&ro);
    return ND_OK;
}

/* smoothed held-in counts of split s with a kernel of sd bins: into sm (may be NULL) and log(sm + offset) into X */
static nd_status smooth_split(const nd_lfads_data *d, const nd_baseline_opts *o, const nd_baseline_result *r, int s,
                              double sd, float *sm, double *X, nd_error *err) {
    size_t nTN = (size_t)r->n[s] * r->T * r->N;
    float *buf = sm ? sm : nd_alloc(sizeof(float) * (nTN + 1));
    if (!buf) return nd_fail(err, ND_ERR_NOMEM, "smoothing baseline: out of memory");
    nd_status st = nd_smooth_nlb(buf, split_counts(d, s), r->n[s], r->T, r->N, sd, err);
    if (!st)
        for (size_t i = 0; i < nTN; i++) X[i] = log(buf[i] + o->log_offset);
    if (!sm) nd_free(buf);
    return st;
}

/* choose kernel and alpha by CV on the train trials (each candidate kernel x alpha) */
static nd_status smoothing_search(const nd_lfads_data *d, const nd_baseline_opts *o, nd_baseline_result *r, nd_error *err) {
    const int H = r->Nr - r->N;
    r->kernel_auto = !(o->kernel_ms > 0);
    if (r->kernel_auto) r->n_cand = nd_baseline_kernel_grid(r->cand);
    else { r->n_cand = 1; r->cand[0] = o->kernel_ms; }
    r->kernel_ms = r->kernel_auto ? 50 : o->kernel_ms; /* 50: when there is nothing to choose it by */
    r->alpha = r->alpha_auto ? 0.01 : o->alpha;
    if (H <= 0 || (r->n_cand == 1 && r->n_alpha == 1)) { r->n_cand = 0; return ND_OK; }
    if (r->n[0] < 2) return nd_fail(err, ND_ERR_ARG, "%s: cross-validation needs at least 2 train trials (give --kernel-ms and --alpha)", d->path);
    double *X0 = NULL;
    nd_status st = ND_ALLOC(X0, (size_t)r->n[0] * r->T * r->N + 1, "log smoothed spikes", err);
    double bestv = -INFINITY;
    for (int c = 0; c < r->n_cand && !st; c++) {
        int best;
        st = smooth_split(d, o, r, 0, r->cand[c] / o->bin_ms, NULL, X0, err);
        if (!st) st = heldout_cv(d, o, X0, r->T, r->N, r, r->cv_score[c], &best, err);
        if (st) break;
        char what[64];
        snprintf(what, sizeof what, "kernel %g ms", r->cand[c]);
        print_scores(o->progress, what, r, r->cv_score[c]);
        if (r->cv_score[c][best] > bestv) { bestv = r->cv_score[c][best]; r->kernel_ms = r->cand[c]; r->alpha = r->alphas[best]; }
    }
    nd_free(X0);
    return st;
}

nd_status nd_baseline_smoothing(const nd_lfads_data *d, const nd_baseline_opts *o, nd_baseline_result *r,
                                nd_error *err) {
    if (!(o->bin_ms > 0) || !(o->log_offset > 0) || !(o->kernel_ms <= 1e6) || !(o->alpha <= 1e12))
        return nd_fail(err, ND_ERR_ARG, "smoothing baseline: kernel %g ms, bin %g ms, alpha %g, log offset %g "
                       "(bin and offset must be > 0; kernel <= 0 and alpha < 0 mean chosen by CV)", o->kernel_ms, o->bin_ms,
                       o->alpha, o->log_offset);
    omp_set_num_threads(o->threads > 0 ? o->threads : 1);
    nd_status st = alloc_rates(d, r, "smoothing", err);
    if (st) { nd_baseline_result_free(r); return st; }
    set_alpha_grid(o, r);
    st = smoothing_search(d, o, r, err);
    if (st) { nd_baseline_result_free(r); return st; }
    if (o->progress) {
        fprintf(o->progress, "smoothing: kernel %g ms%s, alpha %g%s\n", r->kernel_ms, r->kernel_auto ? " (CV)" : "", r->alpha,
                r->alpha_auto ? " (CV)" : "");
        fflush(o->progress);
    }
    const int T = r->T, N = r->N, Tr = r->Tr, Nr = r->Nr;
    const double sd = r->kernel_ms / o->bin_ms;
    float *sm[ND_BASELINE_SPLITS] = {NULL, NULL, NULL};
    double *X[ND_BASELINE_SPLITS] = {NULL, NULL, NULL};
    for (int s = 0; s < ND_BASELINE_SPLITS && !st; s++) {
        size_t nTN = (size_t)r->n[s] * T * N;
        st = ND_ALLOC(sm[s], nTN + 1, "smoothed spikes", err);
        if (!st) st = ND_ALLOC(X[s], nTN + 1, "log smoothed spikes", err);
        if (!st) st = smooth_split(d, o, r, s, sd, sm[s], X[s], err);
        if (st) break;
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

/* GPFA forward-prediction bins: one Poisson GLM per neuron (all Nr; standardised regressors, penalty by CV over
 * train trials unless fixed) from the GP-extrapolated latents, fitted on the forward bins of the train trials
 * (their targets), applied to every split's forward bins. */
static nd_status forward_glm(const nd_lfads_data *d, const nd_baseline_opts *o, double *const X[ND_BASELINE_SPLITS], int p,
                             nd_baseline_result *r, nd_error *err) {
    const int T = r->T, Nr = r->Nr, Tr = r->Tr, Tf = Tr - T, n0 = r->n[0];
    const float *rec = nd_lfads_recon(d, 0);
    size_t rows = (size_t)n0 * Tf;
    double *Xf = NULL, score[ND_GLM_MAX_ALPHAS];
    float *Yf = NULL;
    nd_status st = ND_ALLOC(Xf, rows * p + 1, "GLM regressors", err);
    if (!st) st = ND_ALLOC(Yf, rows * Nr + 1, "forward-bin counts", err);
    if (st) goto done;
    for (int b = 0; b < n0; b++)
        for (int t = 0; t < Tf; t++) {
            size_t row = (size_t)b * Tf + t;
            memcpy(Xf + row * p, X[0] + ((size_t)b * Tr + T + t) * p, sizeof(double) * p);
            memcpy(Yf + row * Nr, rec + ((size_t)b * Tr + T + t) * Nr, sizeof(float) * Nr);
        }
    r->alpha_fp = r->alphas[0];
    if (r->n_alpha > 1 && n0 >= 2) {
        int best;
        st = nd_glm_readout_cv(Xf, Yf, Nr, n0, Tf, p, Nr, r->alphas, r->n_alpha, cv_folds(o, n0), score, &best, err);
        if (st) goto done;
        print_scores(o->progress, "forward bins", r, score);
        r->alpha_fp = r->alphas[best];
    }
    if (o->progress) {
        fprintf(o->progress, "  Poisson GLM for %d neurons in %d forward bins, alpha %g\n", Nr, Tf, r->alpha_fp);
        fflush(o->progress);
    }
    nd_glm_readout ro;
    st = nd_glm_readout_fit(Xf, Yf, Nr, rows, p, Nr, r->alpha_fp, &ro, err);
    if (st) goto done;
    for (int s = 0; s < ND_BASELINE_SPLITS; s++)
        for (int b = 0; b < r->n[s]; b++)
            for (int t = T; t < Tr; t++) {
                const double *x = X[s] + ((size_t)b * Tr + t) * p;
                float *out = r->rates[s] + ((size_t)b * Tr + t) * Nr;
                for (int j = 0; j < Nr; j++) out[j] = (float)nd_glm_readout_rate(&ro, x, j);
            }
    nd_glm_readout_free(&ro);
done:
    nd_free(Xf); nd_free(Yf);
    return st;
}

/* GPFA with `latents` latents and at most `iters` EM iterations on the square-root counts of the neurons act[q]
 * of the train trials; the orthonormalised posterior means of splits 0..nsplits-1 over Tout bins (observed
 * T, then GP prediction) into X[s] [n_s][Tout][latents] (allocated here). */
static nd_status gpfa_latents(const nd_lfads_data *d, const nd_baseline_opts *o, const nd_baseline_result *r,
                              const int *act, int q, int latents, int iters, int nsplits, int Tout, nd_gpfa_params *m,
                              double **ll, int *em_iters, double *X[ND_BASELINE_SPLITS], nd_error *err) {
    const int T = r->T, N = r->N;
    double *Y = NULL, *lat = NULL, *Tm = NULL;
    int nmax = 0;
    for (int s = 0; s < nsplits; s++) if (r->n[s] > nmax) nmax = r->n[s];
    memset(m, 0, sizeof *m);
    *ll = NULL;
    nd_gpfa_opts go = o->gpfa;
    go.bin_ms = o->bin_ms;
    go.progress = o->progress;
    go.latents = latents;
    go.max_iters = iters;
    nd_status st = ND_ALLOC(Y, (size_t)nmax * T * q + 1, "GPFA data", err);
    if (st) return st;
    for (size_t i = 0; i < (size_t)r->n[0] * T; i++)
        for (int k = 0; k < q; k++) Y[i * q + k] = sqrt(d->split[ND_TRAIN].counts[i * N + act[k]]);
    st = nd_gpfa_fit(Y, r->n[0], T, q, &go, m, ll, em_iters, err);
    if (st) goto done;
    const int p = m->p;
    st = ND_ALLOC(Tm, (size_t)p * p, "GPFA transform", err);
    if (!st) st = nd_gpfa_orth_transform(m, Tm, err);
    if (!st) st = ND_ALLOC(lat, (size_t)nmax * Tout * p + 1, "GPFA latents", err);
    for (int s = 0; s < nsplits && !st; s++) {
        size_t rows = (size_t)r->n[s] * Tout;
        st = ND_ALLOC(X[s], rows * p + 1, "GPFA latents", err);
        if (st || r->n[s] == 0) continue;
        const float *c = split_counts(d, s);
        for (size_t i = 0; i < (size_t)r->n[s] * T; i++)
            for (int k = 0; k < q; k++) Y[i * q + k] = sqrt(c[i * N + act[k]]);
        st = nd_gpfa_estep(m, Y, r->n[s], T, Tout, NULL, lat, NULL, err);
        if (st) break;
        for (size_t i = 0; i < rows; i++)
            for (int a = 0; a < p; a++) {
                double v = 0;
                for (int j = 0; j < p; j++) v += Tm[(size_t)a * p + j] * lat[i * p + j];
                X[s][i * p + a] = v;
            }
    }
done:
    nd_free(Y); nd_free(lat); nd_free(Tm);
    if (st) {
        for (int s = 0; s < nsplits; s++) { nd_free(X[s]); X[s] = NULL; }
        nd_gpfa_params_free(m);
        nd_free(*ll);
        *ll = NULL;
    }
    return st;
}

/* --latents auto: every candidate of the grid is fitted with o->search_iters EM iterations on the train trials;
 * its held-out read-out is scored by K-fold CV over the train trials (co-bps of the held-out neurons in the
 * validation folds, best alpha). The winner is the smallest candidate within 1% of the best score. */
static nd_status gpfa_search(const nd_lfads_data *d, const nd_baseline_opts *o, nd_baseline_result *r, const int *act, int q,
                             int *latents, nd_error *err) {
    int cand[ND_BASELINE_MAX_CAND], maxl = o->max_latents > 0 ? o->max_latents : 20;
    if (maxl > q) maxl = q;
    int nc = nd_baseline_latent_grid(maxl, cand);
    r->n_cand = nc;
    double bestv = -INFINITY;
    nd_status st = ND_OK;
    for (int c = 0; c < nc && !st; c++) {
        r->cand[c] = cand[c];
        nd_gpfa_params m;
        double *ll = NULL, *X[ND_BASELINE_SPLITS] = {NULL, NULL, NULL};
        int it, best = 0;
        if (o->progress) { fprintf(o->progress, "GPFA search: %d latents, %d EM iterations\n", cand[c], o->search_iters); fflush(o->progress); }
        nd_baseline_opts oq = *o;
        oq.progress = NULL;
        st = gpfa_latents(d, &oq, r, act, q, cand[c], o->search_iters > 0 ? o->search_iters : 30, 1, r->T, &m, &ll, &it, X, err);
        if (!st) st = heldout_cv(d, o, X[0], r->T, cand[c], r, r->cv_score[c], &best, err);
        if (!st) {
            char what[64];
            snprintf(what, sizeof what, "%d latents", cand[c]);
            print_scores(o->progress, what, r, r->cv_score[c]);
        }
        nd_free(X[0]); nd_free(ll);
        nd_gpfa_params_free(&m);
    }
    if (st) return st;
    /* parsimony: the fewest latents whose CV co-bps is within 1% of the best candidate's (extra latents that
     * add nothing measurable only add EM cost and noise to the read-outs) */
    double cbest[ND_BASELINE_MAX_CAND];
    for (int c = 0; c < nc; c++) {
        cbest[c] = r->cv_score[c][0];
        for (int a = 1; a < r->n_alpha; a++) if (r->cv_score[c][a] > cbest[c]) cbest[c] = r->cv_score[c][a];
        if (cbest[c] > bestv) bestv = cbest[c];
    }
    for (int c = 0; c < nc; c++)
        if (cbest[c] >= bestv - 0.01 * fabs(bestv)) { *latents = cand[c]; break; }
    return ND_OK;
}

/* z-score the columns of X[s] [n_s][Tx][p] with the statistics of the train trials' first T bins */
static void standardise_latents(double *const X[ND_BASELINE_SPLITS], const int *n, int Tx, int T, int p) {
    double *mu = nd_alloc(sizeof(double) * (size_t)p * 2), *sg = mu ? mu + p : NULL;
    if (!mu) return; /* out of memory: leave unscaled (the GLM read-outs standardise again) */
    memset(mu, 0, sizeof(double) * (size_t)p * 2);
    size_t rows = (size_t)n[0] * T;
    for (int b = 0; b < n[0]; b++)
        for (int t = 0; t < T; t++)
            for (int a = 0; a < p; a++) mu[a] += X[0][((size_t)b * Tx + t) * p + a];
    for (int a = 0; a < p; a++) mu[a] /= (double)(rows ? rows : 1);
    for (int b = 0; b < n[0]; b++)
        for (int t = 0; t < T; t++)
            for (int a = 0; a < p; a++) { double v = X[0][((size_t)b * Tx + t) * p + a] - mu[a]; sg[a] += v * v; }
    for (int a = 0; a < p; a++) { sg[a] = sqrt(sg[a] / (double)(rows ? rows : 1)); if (!(sg[a] > 1e-300)) sg[a] = 1; }
    for (int s = 0; s < ND_BASELINE_SPLITS; s++)
        for (size_t i = 0; i < (size_t)n[s] * Tx; i++)
            for (int a = 0; a < p; a++) X[s][i * p + a] = (X[s][i * p + a] - mu[a]) / sg[a];
    nd_free(mu);
}

nd_status nd_baseline_gpfa(const nd_lfads_data *d, const nd_baseline_opts *o, nd_baseline_result *r, nd_error *err) {
    if (!(o->bin_ms > 0) || !(o->alpha <= 1e12))
        return nd_fail(err, ND_ERR_ARG, "GPFA baseline: bin %g ms and alpha %g (need bin > 0; alpha < 0 means chosen by CV)",
                       o->bin_ms, o->alpha);
    int threads = o->threads > 0 ? o->threads : 1;
    omp_set_num_threads(threads);
    nd_blas_set_threads(threads);
    nd_status st = alloc_rates(d, r, "gpfa", err);
    if (st) { nd_baseline_result_free(r); return st; }
    set_alpha_grid(o, r);
    const int T = r->T, N = r->N, Tr = r->Tr, Nr = r->Nr, H = Nr - N;
    double *X[ND_BASELINE_SPLITS] = {NULL, NULL, NULL}, *W = NULL, *bb = NULL;
    int *act = NULL, q = 0;
    st = ND_ALLOC(act, N, "GPFA neuron list", err);
    if (st) goto done;
    /* neurons that spike in some train trial */
    for (int k = 0; k < N; k++) {
        int any = 0;
        const float *x = d->split[ND_TRAIN].counts;
        for (size_t i = 0; i < (size_t)r->n[0] * T && !any; i++) any = x[i * N + k] != x[k];
        if (any) act[q++] = k;
    }
    if (q == 0) { st = nd_fail(err, ND_ERR_ARG, "%s: no held-in neuron varies over the train trials", d->path); goto done; }
    int latents = o->gpfa.latents;
    r->latents_auto = latents <= 0;
    if (r->latents_auto && (H <= 0 || r->n[0] < 2)) {
        st = nd_fail(err, ND_ERR_ARG, "%s: --latents auto needs held-out neurons and >= 2 train trials (give --latents N)", d->path);
        goto done;
    }
    if (r->latents_auto) {
        st = gpfa_search(d, o, r, act, q, &latents, err);
        if (st) goto done;
    }
    if (latents > q) latents = q;
    if (o->progress) {
        fprintf(o->progress, "GPFA: %d latents%s, %d of %d held-in neurons (sqrt counts), %d train trials x %d bins\n",
                latents, r->latents_auto ? " (CV)" : "", q, N, r->n[0], T);
        fflush(o->progress);
    }
    st = gpfa_latents(d, o, r, act, q, latents, o->gpfa.max_iters, ND_BASELINE_SPLITS, Tr, &r->gpfa, &r->loglik, &r->em_iters, X, err);
    if (st) goto done;
    const int p = r->gpfa.p;
    r->F = p;
    r->gpfa_neurons = act;
    act = NULL;
    for (int s = 0; s < ND_BASELINE_SPLITS && !st; s++) {
        size_t n = (size_t)r->n[s] * Tr * p;
        st = ND_ALLOC(r->factors[s], n + 1, "GPFA latents", err);
        for (size_t i = 0; !st && i < n; i++) r->factors[s][i] = (float)X[s][i];
    }
    if (st) goto done;
    /* every read-out works on latents z-scored with the train trials' statistics */
    standardise_latents(X, r->n, Tr, T, p);
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
            st = linreg(Xf, d->split[ND_TRAIN].counts, N, rows, p, N, W, bb, err);
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
    /* held-out penalty: CV on the final latents (unless fixed) */
    r->alpha = r->alphas[0];
    if (H > 0 && r->n_alpha > 1) {
        double row[ND_GLM_MAX_ALPHAS];
        int best;
        st = heldout_cv(d, o, X[0], Tr, p, r, row, &best, err);
        if (st) goto done;
        print_scores(o->progress, "final latents", r, row);
        r->alpha = r->alphas[best];
    }
    st = heldout_glm(d, o, X, Tr, p, r, err);
    if (!st && Tr > T) st = forward_glm(d, o, X, p, r, err);
done:
    nd_free(X[0]); nd_free(X[1]); nd_free(X[2]); nd_free(W); nd_free(bb); nd_free(act);
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
    for (int s = 0; s < ND_NSPLITS && !st; s++) {
        static const char *const inds_name[ND_NSPLITS] = {"train_inds", "valid_inds", "test_inds"};
        size_t n1 = (size_t)d->split[s].n;
        if (d->split[s].inds && n1 > 0) st = nd_h5_write_int(h, inds_name[s], d->split[s].inds, 1, &n1, err);
    }
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
    if (!st) st = nd_h5_write_attr_double(h, "/", "alpha", r->alpha, err);
    if (!st) st = nd_h5_write_attr_int(h, "/", "alpha_auto", r->alpha_auto, err);
    if (!st) st = nd_h5_write_attr_int(h, "/", "cv_folds", r->cv_folds, err);
    if (!st && !gp) st = nd_h5_write_attr_double(h, "/", "kernel_ms", r->kernel_ms, err);
    if (!st && !gp) st = nd_h5_write_attr_int(h, "/", "kernel_auto", r->kernel_auto, err);
    if (!st && gp) st = nd_h5_write_attr_int(h, "/", "latents", r->gpfa.p, err);
    if (!st && gp) st = nd_h5_write_attr_int(h, "/", "latents_auto", r->latents_auto, err);
    if (!st && gp) st = nd_h5_write_attr_int(h, "/", "em_iters", r->em_iters, err);
    if (!st && gp && r->latents_auto) st = nd_h5_write_attr_int(h, "/", "search_iters", o->search_iters, err);
    if (!st && gp && r->Tr > r->T) st = nd_h5_write_attr_double(h, "/", "alpha_forward", r->alpha_fp, err);
    if (!st && r->n_alpha > 0) { size_t na = (size_t)r->n_alpha; st = nd_h5_write_double(h, "cv/alphas", r->alphas, 1, &na, err); }
    if (!st && r->n_cand > 0) {
        size_t nc = (size_t)r->n_cand, dims[2] = {(size_t)r->n_cand, (size_t)r->n_alpha};
        double sc[ND_BASELINE_MAX_CAND * ND_GLM_MAX_ALPHAS];
        for (int c = 0; c < r->n_cand; c++)
            for (int a = 0; a < r->n_alpha; a++) sc[c * r->n_alpha + a] = r->cv_score[c][a];
        if (gp) {
            int ic[ND_BASELINE_MAX_CAND];
            for (int c = 0; c < r->n_cand; c++) ic[c] = (int)r->cand[c];
            st = nd_h5_write_int(h, "cv/latents", ic, 1, &nc, err);
        } else st = nd_h5_write_double(h, "cv/kernel_ms", r->cand, 1, &nc, err);
        if (!st) st = nd_h5_write_double(h, "cv/co_bps", sc, 2, dims, err);
    }
    if (!st) st = nd_h5_write_attr_int(h, "/", "split_seed", (long long)(split_seed), err);
    if (!st) st = nd_h5_write_attr_double(h, "/", "valid_fraction", valid_fraction, err);
    if (!st) st = nd_data_fp_write_attr(h, d, err); /* what eval checks its data against */
    if (h) {
        nd_error e2;
        nd_status cs = nd_h5_close(h, st == ND_OK, st ? &e2 : err);
        if (!st) st = cs;
    }
    return st;
}
