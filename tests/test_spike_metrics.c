/* Spike and voltage metrics against scikit-learn (tests/fixtures/make_spike_metrics_fixtures.py): ROC AUC with
 * tied scores, TPR at a false-positive rate, explained variance, RMSE, MAE; and the edge cases. */
#include "test.h"
#include "../src/eval/spike_metrics.h"
#include "fixtures/spike_metrics_fixtures.h"

static void test_against_sklearn(nd_test_ctx *ctx) {
    double auc, t1, t2, thr;
    nd_error err;
    CHECK(ctx, nd_roc_auc(spk_score, spk_label, SPK_N, &auc, &err) == ND_OK, "%s", err.msg);
    CHECK(ctx, fabs(auc - spk_auc) < 1e-12, "AUC %.15f vs sklearn %.15f", auc, spk_auc);
    CHECK(ctx, nd_tpr_at_fpr(spk_score, spk_label, SPK_N, 0.0025, &t1, &thr, &err) == ND_OK, "%s", err.msg);
    CHECK(ctx, nd_tpr_at_fpr(spk_score, spk_label, SPK_N, 0.05, &t2, NULL, &err) == ND_OK, "%s", err.msg);
    CHECK(ctx, fabs(t1 - spk_tpr_0025) < 1e-12 && fabs(t2 - spk_tpr_05) < 1e-12, "TPR %.6f %.6f vs %.6f %.6f", t1,
          t2, spk_tpr_0025, spk_tpr_05);
    nd_voltage_metrics m;
    nd_voltage_metrics_compute(spk_pred, spk_truth, SPK_N, &m);
    CHECK(ctx, fabs(m.explained_variance - spk_ev) < 1e-6 && fabs(m.rmse - spk_rmse) < 1e-9 &&
                   fabs(m.mae - spk_mae) < 1e-9, "EV %.8f RMSE %.8f MAE %.8f", m.explained_variance, m.rmse, m.mae);
}

static void test_edges(nd_test_ctx *ctx) {
    float s[4] = {0.1f, 0.4f, 0.35f, 0.8f}, tied[4] = {0.5f, 0.5f, 0.5f, 0.5f};
    unsigned char y[4] = {0, 0, 1, 1}, none[4] = {0, 0, 0, 0};
    double auc, tpr;
    nd_error err;
    nd_roc_auc(s, y, 4, &auc, &err);
    CHECK(ctx, fabs(auc - 0.75) < 1e-15, "sklearn's doc example: AUC %.4f (0.75)", auc);
    nd_roc_auc(tied, y, 4, &auc, &err);
    CHECK(ctx, auc == 0.5, "all tied: AUC %.4f", auc);
    nd_roc_auc(s, none, 4, &auc, &err);
    CHECK(ctx, isnan(auc), "one class only: AUC must be NaN");
    nd_tpr_at_fpr(s, y, 4, 0.0, &tpr, NULL, &err);
    CHECK(ctx, tpr == 0.5, "TPR at FPR 0: %.3f (0.5: the 0.8 score is above every negative)", tpr);
    float bad[2] = {NAN, 1};
    unsigned char yy[2] = {0, 1};
    CHECK(ctx, nd_roc_auc(bad, yy, 2, &auc, &err) == ND_ERR_NUMERIC, "NaN scores must be refused");
}

int main(void) {
    RUN(test_against_sklearn);
    RUN(test_edges);
    TEST_MAIN_END();
}
