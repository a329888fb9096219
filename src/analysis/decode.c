/* Cross-validated ridge decoding. Every ridge fit goes through one SVD of the centred
 * training block, after which each alpha costs only a k x q scaling:
 * W(alpha) = V diag(s / (s^2 + alpha)) U^T Yc. */
#include "decode.h"
#include "../core/mem.h"
#include "../core/rng.h"
#include <cblas.h>
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* One centred training block, factorised. */
typedef struct {
    int n, p, q, k;
    double *xmean, *ymean; /* [p], [q] */
    double *s;             /* [k] singular values */
    double *Vt;            /* [k x p] */
    double *UtY;           /* [k x q] U^T (Y - ymean) */
} ridge_svd;

static void ridge_svd_free(ridge_svd *f) {
    nd_free(f->xmean); nd_free(f->ymean); nd_free(f->s); nd_free(f->Vt); nd_free(f->UtY);
    memset(f, 0, sizeof *f);
}

static nd_status ridge_svd_fit(const double *X, const double *Y, int n, int p, int q, ridge_svd *f, nd_error *err) {
    memset(f, 0, sizeof *f);
    int k = n < p ? n : p;
    f->n = n; f->p = p; f->q = q; f->k = k;
    f->xmean = nd_alloc(sizeof(double) * p);
    f->ymean = nd_alloc(sizeof(double) * q);
    f->s = nd_alloc(sizeof(double) * k);
    f->Vt = nd_alloc(sizeof(double) * (size_t)k * p);
    f->UtY = nd_alloc(sizeof(double) * (size_t)k * q);
    double *Xc = nd_alloc(sizeof(double) * (size_t)n * p), *Yc = nd_alloc(sizeof(double) * (size_t)n * q);
    double *U = nd_alloc(sizeof(double) * (size_t)n * k);
    nd_status st = ND_OK;
    if (!f->xmean || !f->ymean || !f->s || !f->Vt || !f->UtY || !Xc || !Yc || !U) {
        st = nd_fail(err, ND_ERR_NOMEM, "decode: out of memory (%d x %d training block)", n, p);
        goto done;
    }
    for (int i = 0; i < n; i++)
        for (int j = 0; j < p; j++) f->xmean[j] += X[(size_t)i * p + j];
    for (int j = 0; j < p; j++) f->xmean[j] /= n;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < q; j++) f->ymean[j] += Y[(size_t)i * q + j];
    for (int j = 0; j < q; j++) f->ymean[j] /= n;
    for (int i = 0; i < n; i++) {
        for (int j = 0; j < p; j++) Xc[(size_t)i * p + j] = X[(size_t)i * p + j] - f->xmean[j];
        for (int j = 0; j < q; j++) Yc[(size_t)i * q + j] = Y[(size_t)i * q + j] - f->ymean[j];
    }
    lapack_int info = LAPACKE_dgesdd(LAPACK_ROW_MAJOR, 'S', n, p, Xc, p, f->s, U, k, f->Vt, p);
    if (info) {
        st = nd_fail(err, ND_ERR_NUMERIC, "decode: SVD of the %d x %d training block failed (info %d)", n, p, (int)info);
        goto done;
    }
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, k, q, n, 1.0, U, k, Yc, q, 0.0, f->UtY, q);
done:
    nd_free(Xc); nd_free(Yc); nd_free(U);
    if (st) ridge_svd_free(f);
    return st;
}

/* Z [m x k] = (X - xmean) V: the held-out samples in the singular basis */
static nd_status ridge_project(const ridge_svd *f, const double *X, int m, double *Z, nd_error *err) {
    double *Xc = nd_alloc(sizeof(double) * (size_t)m * f->p);
    if (!Xc) return nd_fail(err, ND_ERR_NOMEM, "decode: out of memory");
    for (int i = 0; i < m; i++)
        for (int j = 0; j < f->p; j++) Xc[(size_t)i * f->p + j] = X[(size_t)i * f->p + j] - f->xmean[j];
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, f->k, f->p, 1.0, Xc, f->p, f->Vt, f->p, 0.0, Z, f->k);
    nd_free(Xc);
    return ND_OK;
}

/* pred [m x q] = Z diag(s / (s^2 + alpha)) U^T Yc + ymean; tmp [k x q] */
static void ridge_predict(const ridge_svd *f, const double *Z, int m, double alpha, double *tmp, double *pred) {
    for (int i = 0; i < f->k; i++) {
        double d = f->s[i] / (f->s[i] * f->s[i] + alpha);
        for (int j = 0; j < f->q; j++) tmp[(size_t)i * f->q + j] = d * f->UtY[(size_t)i * f->q + j];
    }
    for (int i = 0; i < m; i++)
        for (int j = 0; j < f->q; j++) pred[(size_t)i * f->q + j] = f->ymean[j];
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, f->q, f->k, 1.0, Z, f->k, tmp, f->q, 1.0, pred, f->q);
}

/* sklearn r2_score, multioutput='uniform_average' (a constant column scores 1 if predicted exactly, else 0) */
static double r2_uniform(const double *y, const double *pred, int m, int q) {
    double total = 0;
    for (int j = 0; j < q; j++) {
        double mean = 0, ss_res = 0, ss_tot = 0;
        for (int i = 0; i < m; i++) mean += y[(size_t)i * q + j];
        mean /= m;
        for (int i = 0; i < m; i++) {
            double e = y[(size_t)i * q + j] - pred[(size_t)i * q + j], c = y[(size_t)i * q + j] - mean;
            ss_res += e * e;
            ss_tot += c * c;
        }
        total += ss_tot > 0 ? 1 - ss_res / ss_tot : (ss_res == 0 ? 1.0 : 0.0);
    }
    return total / q;
}

/* ---------- classification as sklearn's RidgeClassifier ---------- */
static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* sorted distinct labels of y[0..n) into classes (capacity n); returns their count */
static int distinct_labels(const double *y, int n, double *classes) {
    memcpy(classes, y, sizeof(double) * n);
    qsort(classes, n, sizeof(double), cmp_double);
    int c = 0;
    for (int i = 0; i < n; i++)
        if (i == 0 || classes[i] != classes[c - 1]) classes[c++] = classes[i];
    return c;
}

static int class_columns(int nc) { return nc == 2 ? 1 : nc; }

/* +1 / -1 coding: column j is class j (two classes: one column, +1 = classes[1]) */
static void code_labels(const double *y, int n, const double *classes, int nc, double *Y) {
    int q = class_columns(nc);
    for (int i = 0; i < n; i++)
        for (int j = 0; j < q; j++) {
            double cls = nc == 2 ? classes[1] : classes[j];
            Y[(size_t)i * q + j] = y[i] == cls ? 1.0 : -1.0;
        }
}

static void decide_labels(const double *dec, int m, const double *classes, int nc, double *labels) {
    int q = class_columns(nc);
    for (int i = 0; i < m; i++) {
        if (nc == 2) { labels[i] = dec[i] > 0 ? classes[1] : classes[0]; continue; }
        int best = 0;
        for (int j = 1; j < q; j++)
            if (dec[(size_t)i * q + j] > dec[(size_t)i * q + best]) best = j;
        labels[i] = classes[best];
    }
}

static double accuracy(const double *y, const double *pred, int m) {
    int hit = 0;
    for (int i = 0; i < m; i++) hit += y[i] == pred[i];
    return (double)hit / m;
}

typedef struct {
    const nd_decode_opts *o;
    int p, q;
} decode_ctx;

/* Fit on na samples, predict nb samples for every alpha. pred_all [n_alphas x nb x qout]
 * (qout = q for regression, 1 for classification). */
static nd_status fit_predict_all(const decode_ctx *c, const double *Xa, const double *ya, int na, const double *Xb, int nb,
                                 double *pred_all, int *n_classes, nd_error *err) {
    const nd_decode_opts *o = c->o;
    int p = c->p, q = c->q, nc = 0, qc = q;
    double *classes = NULL, *Ya = (double *)ya, *Z = NULL, *tmp = NULL, *dec = NULL;
    ridge_svd f = {0};
    nd_status st = ND_OK;
    if (o->classify) {
        classes = nd_alloc(sizeof(double) * na);
        if (!classes) return nd_fail(err, ND_ERR_NOMEM, "decode: out of memory");
        nc = distinct_labels(ya, na, classes);
        if (nc < 2) {
            st = nd_fail(err, ND_ERR_ARG, "decode: a training block has only one class (%g); need at least two",
                         classes[0]);
            goto done;
        }
        qc = class_columns(nc);
        Ya = nd_alloc(sizeof(double) * (size_t)na * qc);
        if (!Ya) { st = nd_fail(err, ND_ERR_NOMEM, "decode: out of memory"); goto done; }
        code_labels(ya, na, classes, nc, Ya);
    }
    if ((st = ridge_svd_fit(Xa, Ya, na, p, qc, &f, err))) goto done;
    Z = nd_alloc(sizeof(double) * (size_t)nb * f.k);
    tmp = nd_alloc(sizeof(double) * (size_t)f.k * qc);
    dec = nd_alloc(sizeof(double) * (size_t)nb * qc);
    if (!Z || !tmp || !dec) { st = nd_fail(err, ND_ERR_NOMEM, "decode: out of memory"); goto done; }
    if ((st = ridge_project(&f, Xb, nb, Z, err))) goto done;
    for (int a = 0; a < o->n_alphas; a++) {
        if (o->classify) {
            ridge_predict(&f, Z, nb, o->alphas[a], tmp, dec);
            decide_labels(dec, nb, classes, nc, pred_all + (size_t)a * nb);
        } else {
            ridge_predict(&f, Z, nb, o->alphas[a], tmp, pred_all + (size_t)a * nb * q);
        }
    }
    if (n_classes) *n_classes = nc;
done:
    ridge_svd_free(&f);
    if (Ya != ya) nd_free(Ya);
    nd_free(classes); nd_free(Z); nd_free(tmp); nd_free(dec);
    return st;
}

static double score_of(const nd_decode_opts *o, const double *y, const double *pred, int m, int q) {
    return o->classify ? accuracy(y, pred, m) : r2_uniform(y, pred, m, q);
}

/* mean K-fold CV score of every alpha on the training block */
static nd_status cross_validate(const decode_ctx *c, const double *X, const double *Y, int n, double *cv,
                                nd_error *err) {
    const nd_decode_opts *o = c->o;
    int p = c->p, q = c->q, qo = o->classify ? 1 : q, K = o->folds;
    double *Xa = nd_alloc(sizeof(double) * (size_t)n * p), *Ya = nd_alloc(sizeof(double) * (size_t)n * q);
    double *Xb = nd_alloc(sizeof(double) * (size_t)(n / K + 1) * p), *Yb = nd_alloc(sizeof(double) * (size_t)(n / K + 1) * q);
    double *pred = nd_alloc(sizeof(double) * (size_t)o->n_alphas * n * qo);
    int *perm = nd_alloc(sizeof(int) * n);
    nd_status st = ND_OK;
    if (!Xa || !Ya || !Xb || !Yb || !pred || !perm) { st = nd_fail(err, ND_ERR_NOMEM, "decode: out of memory"); goto done; }
    for (int i = 0; i < n; i++) perm[i] = i;
    if (o->shuffle) {
        nd_rng rng;
        nd_rng_seed(&rng, o->seed);
        nd_rng_shuffle(&rng, perm, n);
    }
    for (int a = 0; a < o->n_alphas; a++) cv[a] = 0;
    for (int f = 0, start = 0; f < K; f++) {
        int size = n / K + (f < n % K), na = 0, nb = 0;
        for (int t = 0; t < n; t++) {
            int i = perm[t], held = t >= start && t < start + size;
            double *xd = held ? Xb + (size_t)nb * p : Xa + (size_t)na * p;
            double *yd = held ? Yb + (size_t)nb * q : Ya + (size_t)na * q;
            memcpy(xd, X + (size_t)i * p, sizeof(double) * p);
            memcpy(yd, Y + (size_t)i * q, sizeof(double) * q);
            if (held) nb++; else na++;
        }
        if ((st = fit_predict_all(c, Xa, Ya, na, Xb, size, pred, NULL, err))) goto done;
        for (int a = 0; a < o->n_alphas; a++) cv[a] += score_of(o, Yb, pred + (size_t)a * size * qo, size, q);
        start += size;
    }
    for (int a = 0; a < o->n_alphas; a++) cv[a] /= K; /* sum, then divide: numpy's mean, so ties break alike */
done:
    nd_free(Xa); nd_free(Ya); nd_free(Xb); nd_free(Yb); nd_free(pred); nd_free(perm);
    return st;
}

nd_status nd_decode(const double *Xtr, const double *Ytr, int ntr, const double *Xte, const double *Yte, int nte, int p,
                    int q, const nd_decode_opts *o, nd_decode_result *r, nd_error *err) {
    memset(r, 0, sizeof *r);
    if (ntr < 2 || nte < 1 || p < 1 || q < 1 || (o->classify && q != 1))
        return nd_fail(err, ND_ERR_ARG, "decode: need >= 2 training and >= 1 test samples, >= 1 feature, one label column "
                                        "(got %d, %d, %d, %d)", ntr, nte, p, q);
    if (o->n_alphas < 1 || o->folds < 2 || o->folds > ntr)
        return nd_fail(err, ND_ERR_ARG, "decode: need >= 1 alpha and 2 <= folds (%d) <= training samples (%d)", o->folds,
                       ntr);
    for (int a = 0; a < o->n_alphas; a++)
        if (!(o->alphas[a] > 0) || !isfinite(o->alphas[a]))
            return nd_fail(err, ND_ERR_ARG, "decode: alpha %g must be positive and finite", o->alphas[a]);
    decode_ctx c = {o, p, q};
    int qo = o->classify ? 1 : q;
    r->n_test = nte;
    r->q = q;
    r->cv_score = nd_alloc(sizeof(double) * o->n_alphas);
    double *pred_all = nd_alloc(sizeof(double) * (size_t)o->n_alphas * nte * qo);
    r->pred = nd_alloc(sizeof(double) * (size_t)nte * qo);
    nd_status st = ND_OK;
    if (!r->cv_score || !pred_all || !r->pred) { st = nd_fail(err, ND_ERR_NOMEM, "decode: out of memory"); goto done; }
    if ((st = cross_validate(&c, Xtr, Ytr, ntr, r->cv_score, err))) goto done;
    int best = 0;
    for (int a = 1; a < o->n_alphas; a++)
        if (r->cv_score[a] > r->cv_score[best]) best = a;
    r->best_alpha = o->alphas[best];
    /* refit on all training samples; only the chosen alpha's predictions are kept */
    nd_decode_opts one = *o;
    one.alphas = &o->alphas[best];
    one.n_alphas = 1;
    decode_ctx c1 = {&one, p, q};
    if ((st = fit_predict_all(&c1, Xtr, Ytr, ntr, Xte, nte, r->pred, &r->n_classes, err))) goto done;
    r->test_score = score_of(o, Yte, r->pred, nte, q);
    r->chance = 0;
    if (o->classify) {
        /* most frequent training label (the smallest on ties), scored on the test trials */
        double *cls = nd_alloc(sizeof(double) * ntr);
        if (!cls) { st = nd_fail(err, ND_ERR_NOMEM, "decode: out of memory"); goto done; }
        memcpy(cls, Ytr, sizeof(double) * ntr);
        qsort(cls, ntr, sizeof(double), cmp_double);
        double mode = cls[0];
        for (int i = 0, best_run = 0; i < ntr;) {
            int j = i;
            while (j < ntr && cls[j] == cls[i]) j++;
            if (j - i > best_run) { best_run = j - i; mode = cls[i]; }
            i = j;
        }
        nd_free(cls);
        int hit = 0;
        for (int i = 0; i < nte; i++) hit += Yte[i] == mode;
        r->chance = (double)hit / nte;
    }
done:
    nd_free(pred_all);
    if (st) nd_decode_result_free(r);
    return st;
}

void nd_decode_result_free(nd_decode_result *r) {
    nd_free(r->cv_score);
    nd_free(r->pred);
    memset(r, 0, sizeof *r);
}

int nd_decode_chunks(int T, int chunks) { return chunks > 0 && chunks < T ? chunks : T; }

int nd_decode_features(const float *a, int trials, int T, int U, int chunks, double *X) {
    size_t Tz = (size_t)T, Uz = (size_t)U, K = (size_t)nd_decode_chunks(T, chunks);
    for (size_t i = 0; i < (size_t)trials; i++)
        for (size_t c = 0; c < K; c++) {
            size_t t0 = c * Tz / K, t1 = (c + 1) * Tz / K;
            for (size_t u = 0; u < Uz; u++) {
                double s = 0;
                for (size_t t = t0; t < t1; t++) s += a[(i * Tz + t) * Uz + u];
                X[(i * K + c) * Uz + u] = s / (double)(t1 - t0);
            }
        }
    return (int)(K * Uz);
}

int nd_decode_alpha_grid(double lo, double hi, int n, double *alphas) {
    if (n < 1 || n > 1000 || !isfinite(lo) || !isfinite(hi) || hi < lo || fabs(lo) > 300 || fabs(hi) > 300) return -1;
    for (int a = 0; alphas && a < n; a++) alphas[a] = pow(10.0, n > 1 ? lo + (hi - lo) * a / (n - 1) : lo);
    return 0;
}
