#include "nlb.h"
#include "metrics.h"
#include "../core/mem.h"
#include <cblas.h>
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

double nd_r2_score_d(const double *pred, const double *truth, size_t rows, int cols, nd_r2_average avg) {
    if (rows < 2 || cols < 1 || !pred || !truth) return NAN;
    const size_t C = (size_t)cols;
    double uni = 0, num_w = 0, den_w = 0;
    int any_var = 0;
    for (size_t j = 0; j < C; j++) {
        double mean = 0;
        int constant = 1;
        for (size_t i = 0; i < rows; i++) {
            mean += truth[i * C + j];
            if (truth[i * C + j] != truth[j]) constant = 0;
        }
        mean /= (double)rows;
        double ss_res = 0, ss_tot = 0;
        for (size_t i = 0; i < rows; i++) {
            double e = truth[i * C + j] - pred[i * C + j], dy = truth[i * C + j] - mean;
            ss_res += e * e;
            ss_tot += dy * dy;
        }
        if (constant) ss_tot = 0;
        double r2 = ss_tot > 0 ? (ss_res > 0 ? 1.0 - ss_res / ss_tot : 1.0) : (ss_res > 0 ? 0.0 : 1.0);
        uni += r2;
        if (ss_tot > 0) { /* weight = ss_tot: r2 * w = ss_tot - ss_res */
            any_var = 1;
            num_w += ss_tot * r2;
            den_w += ss_tot;
        }
    }
    if (avg == ND_R2_VARIANCE_WEIGHTED && any_var) return num_w / den_w;
    return uni / (double)C;
}

nd_status nd_nlb_bits_per_spike(const float *rates, const float *spikes, int n, int T, int N, int t0, int t1, int j0,
                                int j1, nd_nlb_bps *out, nd_error *err) {
    memset(out, 0, sizeof *out);
    if (!rates || !spikes || n <= 0 || T <= 0 || N <= 0 || t0 < 0 || t1 > T || t0 >= t1 || j0 < 0 || j1 > N || j0 >= j1)
        return nd_fail(err, ND_ERR_ARG, "bits per spike: empty block (%d trials, bins %d-%d of %d, neurons %d-%d of %d)",
                       n, t0, t1, T, j0, j1, N);
    const int J = j1 - j0;
    double *mean = calloc((size_t)J, sizeof *mean);
    if (!mean) return nd_fail(err, ND_ERR_NOMEM, "bits per spike: out of memory");
    for (int i = 0; i < n; i++)
        for (int t = t0; t < t1; t++) {
            const float *k = spikes + ((size_t)i * T + t) * N + j0;
            for (int j = 0; j < J; j++) mean[j] += k[j];
        }
    double total = 0;
    for (int j = 0; j < J; j++) {
        total += mean[j];
        mean[j] /= (double)n * (double)(t1 - t0);
    }
    if (!(total > 0)) {
        free(mean);
        return nd_fail(err, ND_ERR_ARG, "bits per spike: no spikes in the scored block (%d trials x %d bins x %d "
                       "neurons): undefined", n, t1 - t0, J);
    }
    double nll_m = 0, nll_0 = 0, diff = 0;
    size_t clamped = 0;
    for (int i = 0; i < n; i++)
        for (int t = t0; t < t1; t++) {
            size_t o = ((size_t)i * T + t) * N + j0;
            for (int j = 0; j < J; j++) {
                double r = rates[o + j], k = spikes[o + j], r0 = mean[j] > 0 ? mean[j] : 1e-9;
                if (!isfinite(r)) {
                    free(mean);
                    return nd_fail(err, ND_ERR_NUMERIC, "bits per spike: rate of trial %d, bin %d, neuron %d is %s", i,
                                   t, j0 + j, isnan(r) ? "NaN" : "infinite");
                }
                if (r <= 0) {
                    r = 1e-9;
                    clamped++;
                }
                double lm = r - k * log(r), l0 = r0 - k * log(r0), lg = lgamma(k + 1.0);
                nll_m += lm + lg;
                nll_0 += l0 + lg;
                diff += l0 - lm; /* the lgamma terms cancel exactly */
            }
        }
    free(mean);
    out->bps = diff / total / log(2.0);
    out->nll_model = nll_m;
    out->nll_null = nll_0;
    out->spikes = total;
    out->clamped = clamped;
    return ND_OK;
}

void nd_nlb_alpha_grid(double alphas[9]) {
    for (int k = 0; k < 9; k++) alphas[k] = pow(10.0, -4.0 + 0.5 * k);
}

/* Solve (A + alpha I) W = B for the p x p SPD A (untouched) and p x q B into W; work: p*p doubles. */
static nd_status ridge_solve(const double *A, const double *B, int p, int q, double alpha, double *W, double *work,
                             nd_error *err) {
    memcpy(work, A, sizeof(double) * (size_t)p * p);
    for (int i = 0; i < p; i++) work[(size_t)i * p + i] += alpha;
    memcpy(W, B, sizeof(double) * (size_t)p * q);
    lapack_int info = LAPACKE_dposv(LAPACK_ROW_MAJOR, 'U', p, q, work, p, W, q);
    if (info != 0)
        return nd_fail(err, ND_ERR_NUMERIC, "ridge regression: the regularised Gram matrix is not positive definite "
                       "(alpha %g, LAPACK dposv info %d)", alpha, (int)info);
    return ND_OK;
}

/* sums over rows [r0, r1) of the (globally centred) X, Y: G = X'X, C = X'Y, sx, sy */
static void fold_sums(const double *X, const double *Y, int p, int q, size_t r0, size_t r1, double *G, double *C,
                      double *sx, double *sy) {
    size_t m = r1 - r0;
    const double *Xf = X + r0 * p, *Yf = Y + r0 * q;
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, p, p, (int)m, 1.0, Xf, p, Xf, p, 0.0, G, p);
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, p, q, (int)m, 1.0, Xf, p, Yf, q, 0.0, C, q);
    memset(sx, 0, sizeof(double) * p);
    memset(sy, 0, sizeof(double) * q);
    for (size_t i = 0; i < m; i++) {
        for (int a = 0; a < p; a++) sx[a] += Xf[i * p + a];
        for (int b = 0; b < q; b++) sy[b] += Yf[i * q + b];
    }
}

/* centred normal equations of a subset with n rows from its raw sums (in place): A = G - n m m',
 * B = C - n m my', where m = sx / n, my = sy / n (returned in sx, sy) */
static void centre_sums(double *G, double *C, double *sx, double *sy, int p, int q, double n) {
    for (int a = 0; a < p; a++) sx[a] /= n;
    for (int b = 0; b < q; b++) sy[b] /= n;
    for (int a = 0; a < p; a++) {
        for (int c = 0; c < p; c++) G[(size_t)a * p + c] -= n * sx[a] * sx[c];
        for (int b = 0; b < q; b++) C[(size_t)a * q + b] -= n * sx[a] * sy[b];
    }
}

/* pred[i] = (X[i] - mx) W + my for rows of X */
static void ridge_predict(const double *X, size_t rows, int p, int q, const double *mx, const double *my,
                          const double *W, double *pred) {
    for (size_t i = 0; i < rows; i++) {
        double *y = pred + i * q;
        for (int b = 0; b < q; b++) y[b] = my[b];
        for (int a = 0; a < p; a++) {
            double x = X[i * p + a] - mx[a];
            if (x == 0) continue;
            for (int b = 0; b < q; b++) y[b] += x * W[(size_t)a * q + b];
        }
    }
}

nd_status nd_nlb_ridge_cv(const float *Xfit, const float *Yfit, size_t nfit, const float *Xtest, const float *Ytest,
                          size_t ntest, int p, int q, const double *alphas, int n_alpha, int folds, nd_r2_average avg,
                          nd_nlb_ridge *out, double *cv_scores, nd_error *err) {
    memset(out, 0, sizeof *out);
    if (p < 1 || q < 1 || n_alpha < 1 || folds < 2 || folds > 64)
        return nd_fail(err, ND_ERR_ARG, "ridge regression: bad sizes (%d inputs, %d outputs, %d alphas, %d folds)", p, q,
                       n_alpha, folds);
    if (nfit < (size_t)2 * folds)
        return nd_fail(err, ND_ERR_ARG, "ridge regression: %zu fit rows are too few for %d-fold cross-validation "
                       "(need at least 2 per fold)", nfit, folds);
    if (ntest < 2) return nd_fail(err, ND_ERR_ARG, "ridge regression: %zu test rows, need at least 2", ntest);
    for (int b = 0; b < q; b++) {
        int constant = 1;
        for (size_t i = 1; i < ntest && constant; i++)
            if (Ytest[i * q + b] != Ytest[b]) constant = 0;
        if (!constant) break;
        if (b == q - 1)
            return nd_fail(err, ND_ERR_ARG, "ridge regression: every output is constant on the test rows: R^2 "
                           "undefined");
    }
    const size_t P = (size_t)p, Q = (size_t)q, PP = P * P, PQ = P * Q;
    double *X = NULL, *Y = NULL, *Gf = NULL, *Cf = NULL, *sxf = NULL, *syf = NULL, *A = NULL, *B = NULL, *sx = NULL,
           *sy = NULL, *W = NULL, *work = NULL, *pred = NULL, *mx = NULL, *my = NULL, *scores = NULL, *tru = NULL;
    nd_status st = ND_OK;
    size_t maxf = nfit / folds + 1, maxrows = (maxf > ntest ? maxf : ntest);
    if (ND_ALLOC(X, nfit * P, "ridge", err) || ND_ALLOC(Y, nfit * Q, "ridge", err) ||
        ND_ALLOC(Gf, (size_t)folds * PP, "ridge", err) || ND_ALLOC(Cf, (size_t)folds * PQ, "ridge", err) ||
        ND_ALLOC(sxf, (size_t)folds * P, "ridge", err) || ND_ALLOC(syf, (size_t)folds * Q, "ridge", err) ||
        ND_ALLOC(A, PP, "ridge", err) || ND_ALLOC(B, PQ, "ridge", err) || ND_ALLOC(sx, P, "ridge", err) ||
        ND_ALLOC(sy, Q, "ridge", err) || ND_ALLOC(W, PQ, "ridge", err) || ND_ALLOC(work, PP, "ridge", err) ||
        ND_ALLOC(pred, maxrows * Q, "ridge", err) || ND_ALLOC(tru, maxrows * Q, "ridge", err) ||
        ND_ALLOC(mx, P, "ridge", err) || ND_ALLOC(my, Q, "ridge", err) ||
        ND_ALLOC(scores, (size_t)n_alpha, "ridge", err)) {
        st = ND_ERR_NOMEM;
        goto done;
    }
    /* centre on the global fit means first: the per-subset centring below then subtracts small numbers */
    for (size_t i = 0; i < nfit; i++) {
        for (int a = 0; a < p; a++) mx[a] += Xfit[i * P + a];
        for (int b = 0; b < q; b++) my[b] += Yfit[i * Q + b];
    }
    for (int a = 0; a < p; a++) mx[a] /= (double)nfit;
    for (int b = 0; b < q; b++) my[b] /= (double)nfit;
    for (size_t i = 0; i < nfit; i++) {
        for (int a = 0; a < p; a++) {
            if (!isfinite(Xfit[i * P + a])) {
                st = nd_fail(err, ND_ERR_NUMERIC, "ridge regression: input row %zu, column %d is not finite", i, a);
                goto done;
            }
            X[i * P + a] = Xfit[i * P + a] - mx[a];
        }
        for (int b = 0; b < q; b++) Y[i * Q + b] = Yfit[i * Q + b] - my[b];
    }
    /* sklearn KFold: the first nfit % folds folds have one extra row */
    size_t bounds[65];
    const int K = folds;
    bounds[0] = 0;
    for (int f = 0; f < K; f++) bounds[f + 1] = bounds[f] + nfit / K + ((size_t)f < nfit % K ? 1 : 0);
    for (int f = 0; f < K; f++)
        fold_sums(X, Y, p, q, bounds[f], bounds[f + 1], Gf + f * PP, Cf + f * PQ, sxf + f * P, syf + f * Q);
    for (int k = 0; k < n_alpha; k++) scores[k] = 0;
    for (int f = 0; f < K; f++) {
        /* the complement's sums = total - fold */
        memset(A, 0, PP * sizeof *A);
        memset(B, 0, PQ * sizeof *B);
        memset(sx, 0, P * sizeof *sx);
        memset(sy, 0, Q * sizeof *sy);
        for (int g = 0; g < K; g++) {
            if (g == f) continue;
            for (size_t e = 0; e < PP; e++) A[e] += Gf[g * PP + e];
            for (size_t e = 0; e < PQ; e++) B[e] += Cf[g * PQ + e];
            for (size_t e = 0; e < P; e++) sx[e] += sxf[g * P + e];
            for (size_t e = 0; e < Q; e++) sy[e] += syf[g * Q + e];
        }
        size_t nf = bounds[f + 1] - bounds[f];
        centre_sums(A, B, sx, sy, p, q, (double)(nfit - nf));
        const double *Xf = X + bounds[f] * P, *Yf = Y + bounds[f] * Q;
        for (int k = 0; k < n_alpha; k++) {
            st = ridge_solve(A, B, p, q, alphas[k], W, work, err);
            if (st) goto done;
            ridge_predict(Xf, nf, p, q, sx, sy, W, pred);
            scores[k] += nd_r2_score_d(pred, Yf, nf, q, avg) / K;
        }
    }
    int best = 0;
    for (int k = 1; k < n_alpha; k++)
        if (scores[k] > scores[best]) best = k;
    /* refit on all fit rows (already centred: mean 0) */
    memset(A, 0, PP * sizeof *A);
    memset(B, 0, PQ * sizeof *B);
    for (int g = 0; g < K; g++) {
        for (size_t e = 0; e < PP; e++) A[e] += Gf[g * PP + e];
        for (size_t e = 0; e < PQ; e++) B[e] += Cf[g * PQ + e];
    }
    memset(sx, 0, P * sizeof *sx);
    memset(sy, 0, Q * sizeof *sy);
    for (int g = 0; g < K; g++) {
        for (size_t e = 0; e < P; e++) sx[e] += sxf[g * P + e];
        for (size_t e = 0; e < Q; e++) sy[e] += syf[g * Q + e];
    }
    centre_sums(A, B, sx, sy, p, q, (double)nfit);
    st = ridge_solve(A, B, p, q, alphas[best], W, work, err);
    if (st) goto done;
    /* test rows in the same coordinates: x - mx - sx, prediction + my + sy */
    {
        double *xrow = work; /* p doubles suffice (p*p >= p) */
        for (size_t i = 0; i < ntest; i++) {
            for (int a = 0; a < p; a++) {
                if (!isfinite(Xtest[i * P + a])) {
                    st = nd_fail(err, ND_ERR_NUMERIC, "ridge regression: test row %zu, column %d is not finite", i, a);
                    goto done;
                }
                xrow[a] = (double)Xtest[i * P + a] - mx[a];
            }
            ridge_predict(xrow, 1, p, q, sx, sy, W, pred + i * Q);
            for (int b = 0; b < q; b++) {
                pred[i * Q + b] += my[b];
                tru[i * Q + b] = Ytest[i * Q + b];
            }
        }
    }
    out->r2 = nd_r2_score_d(pred, tru, ntest, q, avg);
    out->alpha = alphas[best];
    out->best = best;
    if (cv_scores) memcpy(cv_scores, scores, sizeof(double) * (size_t)n_alpha);
    if (!isfinite(out->r2)) st = nd_fail(err, ND_ERR_NUMERIC, "ridge regression: test R^2 is not finite");
done:
    nd_free(X); nd_free(Y); nd_free(Gf); nd_free(Cf); nd_free(sxf); nd_free(syf); nd_free(A); nd_free(B);
    nd_free(sx); nd_free(sy); nd_free(W); nd_free(work); nd_free(pred); nd_free(tru); nd_free(mx); nd_free(my);
    nd_free(scores);
    return st;
}

/* rows (rates of bin t, behaviour of bin t + lag) of every trial, trial-major; rows with NaN behaviour dropped */
static size_t lagged_rows(const float *rates, const float *beh, int n, int Tr, int Tb, int T, int N, int B, int lag,
                          float *X, float *Y) {
    size_t r = 0;
    int ta = lag < 0 ? -lag : 0, tb = lag > 0 ? T - lag : T;
    for (int i = 0; i < n; i++)
        for (int t = ta; t < tb; t++) {
            const float *y = beh + ((size_t)i * Tb + t + lag) * B;
            int ok = 1;
            for (int b = 0; b < B; b++)
                if (isnan(y[b])) ok = 0;
            if (!ok) continue;
            if (X) {
                memcpy(X + r * N, rates + ((size_t)i * Tr + t) * N, sizeof(float) * N);
                memcpy(Y + r * B, y, sizeof(float) * B);
            }
            r++;
        }
    return r;
}

nd_status nd_nlb_vel_r2(const float *train_rates, const float *train_beh, int n_train, const float *eval_rates,
                        const float *eval_beh, int n_eval, int Tr, int Tb, int T, int N, int B, int lag,
                        nd_r2_average avg, nd_nlb_ridge *out, nd_error *err) {
    memset(out, 0, sizeof *out);
    if (n_train < 1 || n_eval < 1 || T < 1 || Tr < T || Tb < T || N < 1 || B < 1)
        return nd_fail(err, ND_ERR_ARG, "velocity decoding: bad sizes (%d train / %d eval trials, %d bins, %d rate "
                       "bins, %d behaviour bins, %d neurons, %d behaviour dims)", n_train, n_eval, T, Tr, Tb, N, B);
    if (lag <= -T || lag >= T)
        return nd_fail(err, ND_ERR_ARG, "velocity decoding: a behaviour lag of %d bins leaves no bins of the %d-bin "
                       "trials", lag, T);
    size_t nf = lagged_rows(train_rates, train_beh, n_train, Tr, Tb, T, N, B, lag, NULL, NULL);
    size_t ne = lagged_rows(eval_rates, eval_beh, n_eval, Tr, Tb, T, N, B, lag, NULL, NULL);
    float *Xf = NULL, *Yf = NULL, *Xe = NULL, *Ye = NULL;
    nd_status st = ND_OK;
    if (ND_ALLOC(Xf, nf * N + 1, "velocity decoding", err) || ND_ALLOC(Yf, nf * B + 1, "velocity decoding", err) ||
        ND_ALLOC(Xe, ne * N + 1, "velocity decoding", err) || ND_ALLOC(Ye, ne * B + 1, "velocity decoding", err)) {
        st = ND_ERR_NOMEM;
        goto done;
    }
    lagged_rows(train_rates, train_beh, n_train, Tr, Tb, T, N, B, lag, Xf, Yf);
    lagged_rows(eval_rates, eval_beh, n_eval, Tr, Tb, T, N, B, lag, Xe, Ye);
    double alphas[9];
    nd_nlb_alpha_grid(alphas);
    st = nd_nlb_ridge_cv(Xf, Yf, nf, Xe, Ye, ne, N, B, alphas, 9, 5, avg, out, NULL, err);
done:
    nd_free(Xf); nd_free(Yf); nd_free(Xe); nd_free(Ye);
    return st;
}

static int cmp_int(const void *a, const void *b) {
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

nd_status nd_nlb_psth_r2(const float *eval_rates, const int *eval_cond, int n_eval, int Tr, const float *spikes,
                         const int *psth_cond, int n_psth, int Ts, int T, int N, double sigma_bins, double *r2,
                         int *n_conditions, nd_error *err) {
    *r2 = 0;
    if (n_conditions) *n_conditions = 0;
    if (n_eval < 1 || n_psth < 1 || T < 1 || Tr < T || Ts < T || N < 1 || !eval_cond || !psth_cond)
        return nd_fail(err, ND_ERR_ARG, "PSTH R^2: bad sizes (%d eval / %d psth trials, %d bins, %d rate bins, %d "
                       "spike bins, %d neurons)", n_eval, n_psth, T, Tr, Ts, N);
    int *ids = malloc(sizeof(int) * (size_t)n_psth);
    if (!ids) return nd_fail(err, ND_ERR_NOMEM, "PSTH R^2: out of memory");
    int nc = 0;
    for (int i = 0; i < n_psth; i++)
        if (psth_cond[i] >= 0) ids[nc++] = psth_cond[i];
    qsort(ids, (size_t)nc, sizeof(int), cmp_int);
    int u = 0;
    for (int i = 0; i < nc; i++)
        if (u == 0 || ids[i] != ids[u - 1]) ids[u++] = ids[i];
    /* keep the conditions that have eval trials */
    int used = 0;
    for (int c = 0; c < u; c++) {
        int has = 0;
        for (int i = 0; i < n_eval && !has; i++) has = eval_cond[i] == ids[c];
        if (has) ids[used++] = ids[c];
    }
    if (used == 0) {
        free(ids);
        return nd_fail(err, ND_ERR_ARG, "PSTH R^2: no condition has both eval trials and trials to build its PSTH");
    }
    if ((size_t)used * T < 2) {
        free(ids);
        return nd_fail(err, ND_ERR_ARG, "PSTH R^2: %d condition x %d bin is a single row: R^2 undefined", used, T);
    }
    size_t TN = (size_t)T * N, TsN = (size_t)Ts * N;
    double *pred = calloc((size_t)used * TN, sizeof *pred), *mean = calloc(TsN, sizeof *mean),
           *sm = calloc(TsN, sizeof *sm), *truth = calloc((size_t)used * TN, sizeof *truth);
    nd_status st = ND_OK;
    if (!pred || !mean || !sm || !truth) {
        st = nd_fail(err, ND_ERR_NOMEM, "PSTH R^2: out of memory");
        goto done;
    }
    for (int c = 0; c < used; c++) {
        int ke = 0, kp = 0;
        double *pc = pred + (size_t)c * TN;
        for (int i = 0; i < n_eval; i++) {
            if (eval_cond[i] != ids[c]) continue;
            ke++;
            for (int t = 0; t < T; t++) {
                const float *r = eval_rates + ((size_t)i * Tr + t) * N;
                for (int j = 0; j < N; j++) {
                    if (!isfinite(r[j])) {
                        st = nd_fail(err, ND_ERR_NUMERIC, "PSTH R^2: rate of eval trial %d, bin %d, neuron %d is not "
                                     "finite", i, t, j);
                        goto done;
                    }
                    pc[(size_t)t * N + j] += r[j];
                }
            }
        }
        for (size_t e = 0; e < TN; e++) pc[e] /= ke;
        memset(mean, 0, TsN * sizeof *mean);
        for (int i = 0; i < n_psth; i++) {
            if (psth_cond[i] != ids[c]) continue;
            kp++;
            const float *s = spikes + (size_t)i * TsN;
            for (size_t e = 0; e < TsN; e++) mean[e] += s[e];
        }
        for (size_t e = 0; e < TsN; e++) mean[e] /= kp;
        nd_smooth_gaussian_d(sm, mean, 1, Ts, N, sigma_bins);
        memcpy(truth + (size_t)c * TN, sm, TN * sizeof *sm); /* the first T bins */
    }
    *r2 = nd_r2_score_d(pred, truth, (size_t)used * T, N, ND_R2_UNIFORM);
    if (n_conditions) *n_conditions = used;
    if (!isfinite(*r2)) st = nd_fail(err, ND_ERR_NUMERIC, "PSTH R^2: not finite");
done:
    free(ids);
    free(pred);
    free(mean);
    free(sm);
    free(truth);
    return st;
}
