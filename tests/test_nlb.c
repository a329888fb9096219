/* NLB metrics (src/eval/nlb.c) against the independent numpy/scipy/sklearn implementation in
 * tests/fixtures/nlb_reference.py, whose values are in tests/fixtures/nlb_fixture.h; plus degenerate inputs. */
#include "test.h"
#include "../src/eval/nlb.h"
#include "../src/io/h5.h"
#include "../src/io/lfads_data.h"
#include "fixtures/nlb_fixture.h"
#include <stdlib.h>
#include <unistd.h>

#define NEAR(a, b, tol) (fabs((a) - (b)) <= (tol) * (1.0 + fabs(b)))

static void test_r2_conventions(nd_test_ctx *c) {
    double p[21], t[21];
    for (int i = 0; i < 21; i++) p[i] = r2_pred[i], t[i] = r2_truth[i];
    double u = nd_r2_score_d(p, t, 7, 3, ND_R2_UNIFORM), v = nd_r2_score_d(p, t, 7, 3, ND_R2_VARIANCE_WEIGHTED);
    CHECK(c, NEAR(u, r2_uniform_ref, 1e-9), "uniform %.12g vs sklearn %.12g", u, r2_uniform_ref);
    CHECK(c, NEAR(v, r2_variance_ref, 1e-9), "variance-weighted %.12g vs sklearn %.12g", v, r2_variance_ref);
    CHECK(c, isnan(nd_r2_score_d(p, t, 1, 3, ND_R2_UNIFORM)), "one row must be undefined");
    /* all columns constant and predicted exactly: 1 in both modes (sklearn force_finite) */
    double k[4] = {1, 2, 1, 2};
    CHECK(c, nd_r2_score_d(k, k, 2, 2, ND_R2_VARIANCE_WEIGHTED) == 1.0, "exact constant prediction");
}

static void test_bits_per_spike(nd_test_ctx *c) {
    nd_nlb_bps co, fp;
    nd_error e;
    CHECK(c, nd_nlb_bits_per_spike(bps_rates, bps_spikes, BPS_N, BPS_T, BPS_NN, 0, BPS_TOBS, BPS_NIN, BPS_NN, &co, &e) ==
                 ND_OK, "%s", e.msg);
    CHECK(c, NEAR(co.bps, bps_co_ref, 1e-9), "co-bps %.12g vs reference %.12g", co.bps, bps_co_ref);
    CHECK(c, co.spikes == bps_co_spikes_ref, "held-out spikes %g vs %g", co.spikes, bps_co_spikes_ref);
    CHECK(c, co.clamped == 2, "two zero rates clamped to 1e-9, got %zu", co.clamped);
    CHECK(c, NEAR((co.nll_null - co.nll_model) / co.spikes / log(2.0), co.bps, 1e-9), "NLLs consistent with bps");
    CHECK(c, nd_nlb_bits_per_spike(bps_rates, bps_spikes, BPS_N, BPS_T, BPS_NN, BPS_TOBS, BPS_T, 0, BPS_NN, &fp, &e) ==
                 ND_OK, "%s", e.msg);
    CHECK(c, NEAR(fp.bps, bps_fp_ref, 1e-9), "fp-bps %.12g vs reference %.12g", fp.bps, bps_fp_ref);
    /* the null model scores 0 bits per spike */
    size_t n = (size_t)BPS_N * BPS_T * BPS_NN;
    float *null = malloc(n * sizeof *null);
    for (int j = 0; j < BPS_NN; j++) {
        double m = 0;
        for (int i = 0; i < BPS_N; i++)
            for (int t = 0; t < BPS_TOBS; t++) m += bps_spikes[((size_t)i * BPS_T + t) * BPS_NN + j];
        m /= BPS_N * BPS_TOBS;
        for (int i = 0; i < BPS_N; i++)
            for (int t = 0; t < BPS_T; t++) null[((size_t)i * BPS_T + t) * BPS_NN + j] = (float)m;
    }
    nd_nlb_bps z;
    nd_nlb_bits_per_spike(null, bps_spikes, BPS_N, BPS_T, BPS_NN, 0, BPS_TOBS, BPS_NIN, BPS_NN, &z, &e);
    CHECK(c, fabs(z.bps) < 1e-6, "null model scores %g, expected 0", z.bps);
    /* NaN rate: a clear error naming the element */
    null[(size_t)(1 * BPS_T + 2) * BPS_NN + 5] = NAN;
    nd_status st = nd_nlb_bits_per_spike(null, bps_spikes, BPS_N, BPS_T, BPS_NN, 0, BPS_TOBS, BPS_NIN, BPS_NN, &z, &e);
    CHECK(c, st == ND_ERR_NUMERIC && strstr(e.msg, "trial 1, bin 2, neuron 5"), "NaN rate: %s", e.msg);
    free(null);
}

static void test_bps_degenerate(nd_test_ctx *c) {
    nd_nlb_bps r;
    nd_error e;
    /* a held-out neuron that never fires: defined (its null rate 0 is replaced by 1e-9) */
    CHECK(c, nd_nlb_bits_per_spike(bps_rates, bps_silent, BPS_N, BPS_T, BPS_NN, 0, BPS_TOBS, BPS_NIN, BPS_NN, &r, &e) ==
                 ND_OK, "%s", e.msg);
    CHECK(c, NEAR(r.bps, bps_co_silent_ref, 1e-9), "silent neuron co-bps %.12g vs reference %.12g", r.bps,
          bps_co_silent_ref);
    /* no spikes at all in the block: an error, not NaN */
    nd_status st = nd_nlb_bits_per_spike(bps_rates, bps_silent, BPS_N, BPS_T, BPS_NN, 0, BPS_TOBS, 6, 7, &r, &e);
    CHECK(c, st == ND_ERR_ARG && strstr(e.msg, "no spikes"), "all-silent block: %s", e.msg);
    st = nd_nlb_bits_per_spike(bps_rates, bps_spikes, BPS_N, BPS_T, BPS_NN, BPS_T, BPS_T, 0, BPS_NN, &r, &e);
    CHECK(c, st == ND_ERR_ARG, "empty block must be an error");
}

/* rows (rates bin t, behaviour bin t + lag), trial-major, NaN behaviour rows dropped: as nlb_reference.py */
static size_t rows(const float *rates, const float *beh, int i0, int n, int lag, float *X, float *Y) {
    size_t r = 0;
    for (int i = i0; i < i0 + n; i++)
        for (int t = 0; t < VEL_T; t++) {
            if (t + lag < 0 || t + lag >= VEL_T) continue;
            const float *y = beh + ((size_t)i * VEL_TB + t + lag) * VEL_B;
            if (isnan(y[0]) || isnan(y[1])) continue;
            memcpy(X + r * VEL_N, rates + ((size_t)i * VEL_TR + t) * VEL_N, sizeof(float) * VEL_N);
            memcpy(Y + r * VEL_B, y, sizeof(float) * VEL_B);
            r++;
        }
    return r;
}

static void vel_case(nd_test_ctx *c, const char *name, const float *beh, int lag, nd_r2_average avg, double r2_ref,
                     double alpha_ref, const double *cv_ref) {
    nd_nlb_ridge r;
    nd_error e;
    const size_t ntr = (size_t)VEL_NTR * VEL_T, nev = (size_t)VEL_NEV * VEL_T;
    nd_status st = nd_nlb_vel_r2(vel_rates, beh, VEL_NTR, vel_rates + (size_t)VEL_NTR * VEL_TR * VEL_N,
                                 beh + (size_t)VEL_NTR * VEL_TB * VEL_B, VEL_NEV, VEL_TR, VEL_TB, VEL_T, VEL_N, VEL_B,
                                 lag, avg, &r, &e);
    CHECK(c, st == ND_OK, "%s: %s", name, e.msg);
    CHECK(c, NEAR(r.r2, r2_ref, 1e-9), "%s: vel R2 %.12g vs sklearn %.12g", name, r.r2, r2_ref);
    CHECK(c, NEAR(r.alpha, alpha_ref, 1e-12), "%s: alpha %g vs sklearn %g", name, r.alpha, alpha_ref);
    /* the CV scores of every alpha, through the ridge entry point on the same rows */
    float *Xf = malloc(ntr * VEL_N * sizeof(float)), *Yf = malloc(ntr * VEL_B * sizeof(float));
    float *Xe = malloc(nev * VEL_N * sizeof(float)), *Ye = malloc(nev * VEL_B * sizeof(float));
    size_t nf = rows(vel_rates, beh, 0, VEL_NTR, lag, Xf, Yf), ne = rows(vel_rates, beh, VEL_NTR, VEL_NEV, lag, Xe, Ye);
    double alphas[9], cv[9];
    nd_nlb_alpha_grid(alphas);
    nd_nlb_ridge r2;
    st = nd_nlb_ridge_cv(Xf, Yf, nf, Xe, Ye, ne, VEL_N, VEL_B, alphas, 9, 5, avg, &r2, cv, &e);
    CHECK(c, st == ND_OK && r2.r2 == r.r2, "%s: ridge entry point differs (%s)", name, e.msg);
    for (int k = 0; k < 9; k++)
        CHECK(c, NEAR(cv[k], cv_ref[k], 1e-9), "%s: CV score of alpha %g: %.12g vs sklearn %.12g", name, alphas[k],
              cv[k], cv_ref[k]);
    free(Xf); free(Yf); free(Xe); free(Ye);
}

static void test_vel_r2(nd_test_ctx *c) {
    vel_case(c, "lag 2, uniform", vel_beh, 2, ND_R2_UNIFORM, vel_lag2_uniform_r2, vel_lag2_uniform_alpha,
             vel_lag2_uniform_cv);
    vel_case(c, "lag 2, variance-weighted", vel_beh, 2, ND_R2_VARIANCE_WEIGHTED, vel_lag2_variance_r2,
             vel_lag2_variance_alpha, vel_lag2_variance_cv);
    vel_case(c, "lag -1, NaN rows, variance-weighted", vel_beh_nan, -1, ND_R2_VARIANCE_WEIGHTED,
             vel_lagm1_nan_variance_r2, vel_lagm1_nan_variance_alpha, vel_lagm1_nan_variance_cv);
    vel_case(c, "lag 0, uniform", vel_beh, 0, ND_R2_UNIFORM, vel_lag0_uniform_r2, vel_lag0_uniform_alpha,
             vel_lag0_uniform_cv);
    /* the alpha grid is numpy's logspace(-4, 0, 9) */
    double a[9];
    nd_nlb_alpha_grid(a);
    CHECK(c, a[0] == 1e-4 && a[8] == 1.0 && NEAR(a[3], pow(10, -2.5), 1e-15), "alpha grid");
}

static void test_vel_degenerate(nd_test_ctx *c) {
    nd_nlb_ridge r;
    nd_error e;
    const float *ev_rates = vel_rates + (size_t)VEL_NTR * VEL_TR * VEL_N;
    /* constant (zero) behaviour on the train trials: defined, every alpha predicts 0 */
    float *zero = calloc((size_t)VEL_NTR * VEL_TB * VEL_B, sizeof(float));
    nd_status st = nd_nlb_vel_r2(vel_rates, zero, VEL_NTR, ev_rates, vel_beh + (size_t)VEL_NTR * VEL_TB * VEL_B, VEL_NEV,
                                 VEL_TR, VEL_TB, VEL_T, VEL_N, VEL_B, 0, ND_R2_VARIANCE_WEIGHTED, &r, &e);
    CHECK(c, st == ND_OK && NEAR(r.r2, vel_const_train_r2, 1e-9), "constant train behaviour: %.12g vs sklearn %.12g (%s)",
          r.r2, vel_const_train_r2, st ? e.msg : "");
    /* constant behaviour on the eval trials: R^2 undefined -> a clear error */
    st = nd_nlb_vel_r2(vel_rates, vel_beh, VEL_NTR, ev_rates, zero, VEL_NEV, VEL_TR, VEL_TB, VEL_T, VEL_N, VEL_B, 0,
                       ND_R2_UNIFORM, &r, &e);
    CHECK(c, st == ND_ERR_ARG && strstr(e.msg, "constant"), "constant eval behaviour: %s", e.msg);
    /* a lag that leaves no bins, too few rows for 5 folds */
    st = nd_nlb_vel_r2(vel_rates, vel_beh, VEL_NTR, ev_rates, vel_beh, VEL_NEV, VEL_TR, VEL_TB, VEL_T, VEL_N, VEL_B,
                       VEL_T, ND_R2_UNIFORM, &r, &e);
    CHECK(c, st == ND_ERR_ARG && strstr(e.msg, "lag"), "lag too long: %s", e.msg);
    st = nd_nlb_vel_r2(vel_rates, vel_beh, 1, ev_rates, vel_beh, VEL_NEV, VEL_TR, VEL_TB, VEL_T, VEL_N, VEL_B, 2,
                       ND_R2_UNIFORM, &r, &e);
    CHECK(c, st == ND_ERR_ARG && strstr(e.msg, "too few"), "8 rows for 5 folds: %s", e.msg);
    free(zero);
}

static void test_psth_r2(nd_test_ctx *c) {
    double r2;
    int nc;
    nd_error e;
    nd_status st = nd_nlb_psth_r2(psth_rates, psth_ev_cond, PSTH_NE, PSTH_TR, psth_spikes, psth_cond, PSTH_NP, PSTH_TS,
                                  PSTH_T, PSTH_N, psth_sigma, &r2, &nc, &e);
    CHECK(c, st == ND_OK, "%s", e.msg);
    CHECK(c, NEAR(r2, psth_ref, 1e-9), "psth R2 %.12g vs reference %.12g", r2, psth_ref);
    CHECK(c, nc == PSTH_NC, "%d conditions scored, expected %d", nc, PSTH_NC);
    /* the silent neuron predicted exactly (constant true PSTH): scores 1 for that neuron, as sklearn */
    st = nd_nlb_psth_r2(psth_rates_zero3, psth_ev_cond, PSTH_NE, PSTH_TR, psth_spikes, psth_cond, PSTH_NP, PSTH_TS,
                        PSTH_T, PSTH_N, psth_sigma, &r2, &nc, &e);
    CHECK(c, st == ND_OK && NEAR(r2, psth_zero3_ref, 1e-9), "silent neuron predicted exactly: %.12g vs %.12g", r2,
          psth_zero3_ref);
    /* one condition: defined */
    int one_ev[PSTH_NE] = {0}, one_p[PSTH_NP] = {0};
    st = nd_nlb_psth_r2(psth_rates, one_ev, PSTH_NE, PSTH_TR, psth_spikes, one_p, PSTH_NP, PSTH_TS, PSTH_T, PSTH_N,
                        psth_sigma, &r2, &nc, &e);
    CHECK(c, st == ND_OK && nc == 1 && NEAR(r2, psth_one_ref, 1e-9), "one condition: %.12g vs %.12g", r2, psth_one_ref);
    /* no condition shared by eval and psth trials: a clear error */
    int none[PSTH_NE];
    for (int i = 0; i < PSTH_NE; i++) none[i] = -1;
    st = nd_nlb_psth_r2(psth_rates, none, PSTH_NE, PSTH_TR, psth_spikes, psth_cond, PSTH_NP, PSTH_TS, PSTH_T, PSTH_N,
                        psth_sigma, &r2, &nc, &e);
    CHECK(c, st == ND_ERR_ARG && strstr(e.msg, "no condition"), "no shared condition: %s", e.msg);
}

/* What eval reads from an lfads-torch file besides the counts: the test split with its targets, behaviour and
 * condition ids, carried through the seeded train/valid split; and clear errors for inconsistent files. */
enum { LN = 10, LT = 4, LTR = 5, LNI = 2, LNR = 3, LNT = 3, LB = 2 };
static void write_file(const char *path, int variant) {
    float rec[LN * LTR * LNR], enc[LN * LT * LNI], trec[LNT * LTR * LNR], tenc[LNT * LT * LNI], beh[LN * LT * LB];
    int cond[LN];
    for (int i = 0; i < LN * LTR * LNR; i++) rec[i] = (float)((i * 7) % 5);
    for (int i = 0; i < LNT * LTR * LNR; i++) trec[i] = (float)((i * 3) % 4);
    for (int i = 0; i < LN; i++)
        for (int t = 0; t < LT; t++)
            for (int j = 0; j < LNI; j++) enc[(i * LT + t) * LNI + j] = rec[(i * LTR + t) * LNR + j];
    for (int i = 0; i < LNT; i++)
        for (int t = 0; t < LT; t++)
            for (int j = 0; j < LNI; j++) tenc[(i * LT + t) * LNI + j] = trec[(i * LTR + t) * LNR + j];
    for (int i = 0; i < LN * LT * LB; i++) beh[i] = (float)i / 8;
    for (int i = 0; i < LN; i++) cond[i] = 100 + i;
    nd_h5file *f;
    nd_error e;
    nd_h5_create(&f, path, &e);
    size_t dr[3] = {LN, LTR, LNR}, de[3] = {LN, LT, LNI}, dtr[3] = {LNT, LTR, LNR}, dte[3] = {LNT, LT, variant == 1 ? 1 : LNI},
           db[3] = {variant == 2 ? LN - 1 : LN, LT, LB}, dc = LN, dtb[3] = {LNT, LT, LB};
    nd_h5_write_float(f, "train_recon_data", rec, 3, dr, &e);
    nd_h5_write_float(f, "train_encod_data", enc, 3, de, &e);
    nd_h5_write_float(f, "test_recon_data_eval", trec, 3, dtr, &e);
    nd_h5_write_float(f, "test_encod_data", tenc, 3, dte, &e);
    if (variant != 3) nd_h5_write_float(f, "train_behavior", beh, 3, db, &e);
    if (variant != 4) nd_h5_write_float(f, "test_behavior", beh, 3, dtb, &e); /* 4: hidden test targets */
    nd_h5_write_int(f, "train_condition", cond, 1, &dc, &e);
    nd_h5_close(f, 1, &e);
}

static void test_lfads_data_nlb_fields(nd_test_ctx *c) {
    char path[] = "/tmp/nd_nlb_data_XXXXXX";
    int fd = mkstemp(path);
    CHECK(c, fd >= 0, "mkstemp");
    close(fd);
    write_file(path, 0);
    nd_lfads_data d;
    nd_error e;
    nd_status st = nd_lfads_data_read(path, 7, 0.3, &d, &e);
    CHECK(c, st == ND_OK, "%s", e.msg);
    if (st == ND_OK) {
        CHECK(c, d.split[ND_TRAIN].n + d.split[ND_VALID].n == LN && d.split[ND_TEST].n == LNT && d.Tr == LTR && d.Nr == LNR, "shapes");
        CHECK(c, d.split[ND_TEST].recon && d.split[ND_TEST].recon[LTR * LNR + 1] == (float)(((LTR * LNR + 1) * 3) % 4), "test targets");
        CHECK(c, d.B == LB && d.Tb == LT && d.split[ND_TRAIN].beh && d.split[ND_VALID].beh && d.split[ND_TEST].beh, "behaviour read");
        CHECK(c, d.split[ND_TRAIN].cond && d.split[ND_VALID].cond && !d.split[ND_TEST].cond, "conditions read");
        int okc = 1, okb = 1;
        for (int k = 0; k < d.split[ND_VALID].n; k++) {
            int i = d.split[ND_VALID].inds[k];
            okc &= d.split[ND_VALID].cond[k] == 100 + i;
            okb &= d.split[ND_VALID].beh[(size_t)k * LT * LB + 3] == (float)(i * LT * LB + 3) / 8;
        }
        for (int k = 0; k < d.split[ND_TRAIN].n; k++) okc &= d.split[ND_TRAIN].cond[k] == 100 + d.split[ND_TRAIN].inds[k];
        CHECK(c, okc && okb, "conditions and behaviour follow the seeded split");
        CHECK(c, nd_lfads_recon(&d, 2) == d.split[ND_TEST].recon, "nd_lfads_recon(test)");
        nd_lfads_data_free(&d);
    }
    write_file(path, 1);
    st = nd_lfads_data_read(path, 7, 0.3, &d, &e);
    CHECK(c, st == ND_ERR_FORMAT && strstr(e.msg, "'test_encod_data'") && strstr(e.msg, "neurons"), "test N: %s", e.msg);
    write_file(path, 2);
    st = nd_lfads_data_read(path, 7, 0.3, &d, &e);
    CHECK(c, st == ND_ERR_FORMAT && strstr(e.msg, "'train_behavior'") && strstr(e.msg, "trials"), "beh n: %s", e.msg);
    write_file(path, 3);
    st = nd_lfads_data_read(path, 7, 0.3, &d, &e);
    CHECK(c, st == ND_ERR_FORMAT && strstr(e.msg, "'test_behavior'") && strstr(e.msg, "train_behavior"),
          "orphan test behaviour: %s", e.msg);
    /* train_behavior without test_behavior: the layout of a benchmark's test phase (issue 16, finding 8) */
    write_file(path, 4);
    st = nd_lfads_data_read(path, 7, 0.3, &d, &e);
    CHECK(c, st == ND_OK, "hidden test behaviour refused: %s", e.msg);
    if (st == ND_OK) {
        CHECK(c, d.split[ND_TRAIN].beh && d.split[ND_VALID].beh && !d.split[ND_TEST].beh && d.B == LB && d.split[ND_TEST].n == LNT, "behaviour of train/valid");
        nd_lfads_data_free(&d);
    }
    unlink(path);
}

int main(void) {
    RUN(test_r2_conventions);
    RUN(test_bits_per_spike);
    RUN(test_bps_degenerate);
    RUN(test_vel_r2);
    RUN(test_vel_degenerate);
    RUN(test_psth_r2);
    RUN(test_lfads_data_nlb_fields);
    TEST_MAIN_END();
}
