/* Cross-validated ridge decoding against sklearn (tests/fixtures/make_decode_fixtures.py). */
#include "test.h"
#include "fixtures/decode_fixtures.h"
#include "../src/analysis/decode.h"
#include "../src/core/rng.h"
#include <stdlib.h>

#define TOL 1e-6

static int close_to(double got, double want, double tol) { return fabs(got - want) <= tol * (1 + fabs(want)); }

static void check_case(nd_test_ctx *ctx, const char *name, const double *X, int p, const double *Y, int q, int classify,
                       double ref_alpha, const double *ref_cv, const double *ref_pred, double ref_score) {
    nd_decode_opts o = {fx_alphas, FX_NA, 5, classify, 0, 0};
    nd_decode_result r;
    nd_error err;
    const double *Xte = X + (size_t)FX_NTR * p, *Yte = Y + (size_t)FX_NTR * q;
    CHECK(ctx, nd_decode(X, Y, FX_NTR, Xte, Yte, FX_NTE, p, q, &o, &r, &err) == ND_OK, "%s: %s", name, err.msg);
    if (ctx->failed_checks) return;
    CHECK(ctx, r.best_alpha == ref_alpha, "%s: alpha %g, sklearn %g", name, r.best_alpha, ref_alpha);
    for (int a = 0; a < FX_NA; a++)
        CHECK(ctx, close_to(r.cv_score[a], ref_cv[a], TOL), "%s: cv[%d] %.10g, sklearn %.10g", name, a, r.cv_score[a],
              ref_cv[a]);
    int m = FX_NTE * (classify ? 1 : q);
    for (int i = 0; i < m; i++)
        CHECK(ctx, close_to(r.pred[i], ref_pred[i], TOL), "%s: pred[%d] %.10g, sklearn %.10g", name, i, r.pred[i],
              ref_pred[i]);
    CHECK(ctx, close_to(r.test_score, ref_score, TOL), "%s: score %.10g, sklearn %.10g", name, r.test_score, ref_score);
    nd_decode_result_free(&r);
}

static void test_ridge_regression_reference(nd_test_ctx *ctx) {
    check_case(ctx, "one target", fx_X, FX_P, fx_y, 1, 0, ref_reg_alpha, ref_reg_cv, ref_reg_pred, ref_reg_score);
    check_case(ctx, "two targets", fx_X, FX_P, fx_Y2, 2, 0, ref_reg2_alpha, ref_reg2_cv, ref_reg2_pred, ref_reg2_score);
    check_case(ctx, "p > n", fx_XW, FX_PW, fx_yw, 1, 0, ref_wide_alpha, ref_wide_cv, ref_wide_pred, ref_wide_score);
}

static void test_ridge_classifier_reference(nd_test_ctx *ctx) {
    check_case(ctx, "three classes", fx_Xc, FX_P, fx_labels3, 1, 1, ref_cls3_alpha, ref_cls3_cv, ref_cls3_pred,
               ref_cls3_score);
    /* two classes (labels 2 and 7): one +-1 column; CV ties between alphas go to the first, as in sklearn */
    check_case(ctx, "two classes", fx_Xc, FX_P, fx_labels2, 1, 1, ref_cls2_alpha, ref_cls2_cv, ref_cls2_pred,
               ref_cls2_score);
}

static void test_chance_and_errors(nd_test_ctx *ctx) {
    nd_decode_opts o = {fx_alphas, FX_NA, 5, 1, 0, 0};
    nd_decode_result r;
    nd_error err;
    const double *Xte = fx_Xc + (size_t)FX_NTR * FX_P;
    CHECK(ctx, nd_decode(fx_Xc, fx_labels3, FX_NTR, Xte, fx_labels3 + FX_NTR, FX_NTE, FX_P, 1, &o, &r, &err) == ND_OK,
          "%s", err.msg);
    /* chance: the most frequent training label, scored on the test labels */
    int cnt[3] = {0, 0, 0}, best = 0, hit = 0;
    for (int i = 0; i < FX_NTR; i++) cnt[(int)fx_labels3[i]]++;
    for (int c = 1; c < 3; c++)
        if (cnt[c] > cnt[best]) best = c;
    for (int i = 0; i < FX_NTE; i++) hit += (int)fx_labels3[FX_NTR + i] == best;
    CHECK(ctx, close_to(r.chance, (double)hit / FX_NTE, 1e-12), "chance %g", r.chance);
    CHECK(ctx, r.n_classes == 3, "classes %d", r.n_classes);
    nd_decode_result_free(&r);
    /* one class only: a clear error */
    double same[FX_NTR];
    for (int i = 0; i < FX_NTR; i++) same[i] = 4;
    CHECK(ctx, nd_decode(fx_Xc, same, FX_NTR, Xte, fx_labels3, FX_NTE, FX_P, 1, &o, &r, &err) == ND_ERR_ARG,
          "single class rejected");
    CHECK(ctx, strstr(err.msg, "one class") != NULL, "message: %s", err.msg);
    double bad = -1;
    nd_decode_opts ob = {&bad, 1, 5, 0, 0, 0};
    CHECK(ctx, nd_decode(fx_X, fx_y, FX_NTR, fx_X, fx_y, 3, FX_P, 1, &ob, &r, &err) == ND_ERR_ARG, "alpha <= 0 rejected");
    nd_decode_opts of = {fx_alphas, FX_NA, FX_NTR + 1, 0, 0, 0};
    CHECK(ctx, nd_decode(fx_X, fx_y, FX_NTR, fx_X, fx_y, 3, FX_P, 1, &of, &r, &err) == ND_ERR_ARG, "folds > n rejected");
    /* a constant regression target: R^2 is defined (1 when predicted exactly), never NaN */
    double cst[FX_NTR + FX_NTE];
    for (int i = 0; i < FX_NTR + FX_NTE; i++) cst[i] = 2.5;
    nd_decode_opts oc = {fx_alphas, FX_NA, 5, 0, 0, 0};
    CHECK(ctx, nd_decode(fx_X, cst, FX_NTR, fx_X + (size_t)FX_NTR * FX_P, cst + FX_NTR, FX_NTE, FX_P, 1, &oc, &r, &err) ==
                   ND_OK, "%s", err.msg);
    CHECK(ctx, !isnan(r.test_score), "constant target gives %g", r.test_score);
    nd_decode_result_free(&r);
}

/* shuffled folds = contiguous folds over the same permutation of the training rows */
static void test_shuffled_folds(nd_test_ctx *ctx) {
    int n = FX_NTR, p = FX_P, perm[FX_NTR];
    for (int i = 0; i < n; i++) perm[i] = i;
    nd_rng rng;
    nd_rng_seed(&rng, 7);
    nd_rng_shuffle(&rng, perm, n);
    double Xp[FX_NTR * FX_P], yp[FX_NTR];
    for (int i = 0; i < n; i++) {
        memcpy(Xp + (size_t)i * p, fx_X + (size_t)perm[i] * p, sizeof(double) * p);
        yp[i] = fx_y[perm[i]];
    }
    nd_decode_opts os = {fx_alphas, FX_NA, 5, 0, 1, 7}, oc = {fx_alphas, FX_NA, 5, 0, 0, 0};
    nd_decode_result a, b;
    nd_error err;
    const double *Xte = fx_X + (size_t)n * p;
    CHECK(ctx, nd_decode(fx_X, fx_y, n, Xte, fx_y + n, FX_NTE, p, 1, &os, &a, &err) == ND_OK, "%s", err.msg);
    CHECK(ctx, nd_decode(Xp, yp, n, Xte, fx_y + n, FX_NTE, p, 1, &oc, &b, &err) == ND_OK, "%s", err.msg);
    if (ctx->failed_checks) return;
    for (int k = 0; k < FX_NA; k++)
        CHECK(ctx, close_to(a.cv_score[k], b.cv_score[k], 1e-8), "cv[%d] %.12g vs %.12g", k, a.cv_score[k], b.cv_score[k]);
    CHECK(ctx, a.best_alpha == b.best_alpha && close_to(a.test_score, b.test_score, 1e-8), "alpha %g/%g score %g/%g",
          a.best_alpha, b.best_alpha, a.test_score, b.test_score);
    /* and they differ from contiguous folds on the unpermuted rows */
    nd_decode_result c;
    CHECK(ctx, nd_decode(fx_X, fx_y, n, Xte, fx_y + n, FX_NTE, p, 1, &oc, &c, &err) == ND_OK, "%s", err.msg);
    CHECK(ctx, fabs(c.cv_score[0] - a.cv_score[0]) > 1e-6, "shuffling changed nothing");
    nd_decode_result_free(&a); nd_decode_result_free(&b); nd_decode_result_free(&c);
}

int main(void) {
    RUN(test_ridge_regression_reference);
    RUN(test_ridge_classifier_reference);
    RUN(test_chance_and_errors);
    RUN(test_shuffled_folds);
    TEST_MAIN_END();
}
