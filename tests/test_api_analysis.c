/* The public API's analyses on arrays and runs and nd_rates (the second issue-17 block of include/neurodyn.h):
 * results against direct computations (an RDM by hand, the condition means of jPCA, rates reordered by hand),
 * the nd_result accessors, and the error paths (NULL out-handles, one-line messages). Only the public header is
 * included. Tiny data: well under a second; meant to run under valgrind/ASan too. */
#include <neurodyn.h>
#include "test.h"
#include <math.h>

static float *pattern(int n, int T, int U, unsigned seed) {
    float *x = malloc(sizeof(float) * (size_t)n * T * U);
    unsigned s = seed;
    for (size_t i = 0; i < (size_t)n * T * U; i++) {
        s = s * 1103515245u + 12345u;
        x[i] = (float)((s >> 16) % 1000) / 250.0f;
    }
    return x;
}

static void test_result_and_rdm(nd_test_ctx *t) {
    nd_context *ctx = NULL;
    nd_context_create(&ctx);
    const int n = 6, T = 2, U = 3;
    float *x = pattern(n, T, U, 1);
    nd_rsa_options o;
    nd_rsa_options_default(&o);
    o.distance = "euclidean";
    nd_result *r = NULL;
    CHECK(t, nd_rsa_rdm(ctx, x, n, T, U, NULL, &o, &r) == ND_OK, "%s", nd_errmsg(ctx));
    size_t dims[3];
    int rank = -1;
    const double *v = r ? nd_result_get(r, "rdm", dims, &rank) : NULL;
    CHECK(t, v && rank == 1 && dims[0] == 15, "rdm shape");
    if (v) { /* squared Euclidean distance / channels of the flattened trials, upper triangle row by row */
        double worst = 0;
        for (int i = 0, k = 0; i < n; i++)
            for (int j = i + 1; j < n; j++, k++) {
                double s = 0;
                for (int c = 0; c < T * U; c++) {
                    double d = (double)x[i * T * U + c] - x[j * T * U + c];
                    s += d * d;
                }
                worst = fmax(worst, fabs(v[k] - s / (T * U)));
            }
        CHECK(t, worst < 1e-12, "rdm vs direct: %g", worst);
    }
    const double *p = r ? nd_result_get(r, "patterns", NULL, &rank) : NULL;
    CHECK(t, p && rank == 0 && *p == n, "patterns scalar");
    int names = 0;
    for (int i = 0; r && i < nd_result_count(r); i++) names += nd_result_get(r, nd_result_name(r, i), NULL, NULL) != NULL;
    CHECK(t, r && names == nd_result_count(r) && nd_result_name(r, -1) == NULL && !nd_result_get(r, "nope", NULL, NULL),
          "names");
    nd_result_free(r);
    /* condition averaging: 3 conditions of 2 trials */
    int cond[6] = {5, 1, 5, 9, 1, 9};
    o.condition_average = 1;
    r = NULL;
    CHECK(t, nd_rsa_rdm(ctx, x, n, T, U, cond, &o, &r) == ND_OK, "%s", nd_errmsg(ctx));
    v = r ? nd_result_get(r, "condition_ids", dims, &rank) : NULL;
    CHECK(t, v && dims[0] == 3 && v[0] == 1 && v[1] == 5 && v[2] == 9, "condition ids ascending");
    nd_result_free(r);
    /* errors: the out-handle is NULL, the message one line naming the problem */
    o.distance = "manhattan";
    r = (nd_result *)1;
    CHECK(t, nd_rsa_rdm(ctx, x, n, T, U, NULL, &o, &r) == ND_ERR_ARG && r == NULL, "unknown distance");
    CHECK(t, strstr(nd_errmsg(ctx), "manhattan") && !strchr(nd_errmsg(ctx), '\n'), "%s", nd_errmsg(ctx));
    o.distance = "crossnobis";
    o.condition_average = 0;
    CHECK(t, nd_rsa_rdm(ctx, x, n, T, U, NULL, &o, &r) == ND_ERR_ARG && r == NULL, "crossnobis without conditions");
    nd_result_free(NULL);
    free(x);
    nd_context_free(ctx);
}

static void test_jpca_predict_decode(nd_test_ctx *t) {
    nd_context *ctx = NULL;
    nd_context_create(&ctx);
    const int n = 12, T = 10, U = 4;
    float *x = pattern(n, T, U, 2);
    int cond[12];
    for (int i = 0; i < n; i++) cond[i] = i % 4;
    nd_jpca_options jo;
    nd_jpca_options_default(&jo);
    jo.dims = 2;
    nd_result *r = NULL;
    CHECK(t, nd_jpca_arrays(ctx, x, n, T, U, cond, &jo, &r) == ND_OK, "%s", nd_errmsg(ctx));
    size_t dims[3];
    int rank;
    const double *m = r ? nd_result_get(r, "condition_mean", dims, &rank) : NULL;
    CHECK(t, m && rank == 3 && dims[0] == 4 && dims[1] == (size_t)T && dims[2] == (size_t)U, "condition_mean shape");
    if (m) { /* the mean of condition 2's trials 2, 6, 10 at bin 3, unit 1 */
        double ref = ((double)x[(2 * T + 3) * U + 1] + x[(6 * T + 3) * U + 1] + x[(10 * T + 3) * U + 1]) / 3;
        CHECK(t, fabs(m[(2 * T + 3) * U + 1] - ref) < 1e-12, "%g vs %g", m[(2 * T + 3) * U + 1], ref);
    }
    const double *proj = r ? nd_result_get(r, "proj", dims, &rank) : NULL;
    CHECK(t, proj && dims[2] == 2, "proj");
    nd_result_free(r);
    jo.dims = 6;
    r = (nd_result *)1;
    CHECK(t, nd_jpca_arrays(ctx, x, n, T, U, cond, &jo, &r) == ND_ERR_ARG && !r, "dims > units");
    CHECK(t, strstr(nd_errmsg(ctx), "exceeds the 4 units"), "%s", nd_errmsg(ctx));

    /* predictivity: y = a copy of two of x's units predicts them almost perfectly */
    float *y = malloc(sizeof(float) * n * T * 2);
    for (int i = 0; i < n * T; i++) y[i * 2] = x[i * U], y[i * 2 + 1] = x[i * U + 2];
    nd_predict_options po;
    nd_predict_options_default(&po);
    po.pls_components = 0, po.ridge_alpha = 1e-6;
    r = NULL;
    CHECK(t, nd_predict_arrays(ctx, x, y, n, T, U, 2, NULL, &po, &r) == ND_OK, "%s", nd_errmsg(ctx));
    const double *rr = r ? nd_result_get(r, "r", dims, &rank) : NULL;
    CHECK(t, rr && dims[0] == 2 && rr[0] > 0.999 && rr[1] > 0.999, "r %g %g", rr ? rr[0] : NAN, rr ? rr[1] : NAN);
    nd_result_free(r);
    po.folds = 100;
    CHECK(t, nd_predict_arrays(ctx, x, y, n, T, U, 2, NULL, &po, &r) == ND_ERR_ARG && !r, "too many folds");

    /* decoding: the label is the sign of unit 0's mean, so a linear read-out finds it */
    float lab[12];
    for (int i = 0; i < n; i++) {
        double s = 0;
        for (int b = 0; b < T; b++) s += x[(i * T + b) * U];
        lab[i] = (float)(s / T > 2.0);
    }
    nd_decode_options dopt;
    nd_decode_options_default(&dopt);
    dopt.classify = 1, dopt.folds = 3, dopt.time_bins = 1, dopt.alpha_log10_lo = -6, dopt.alpha_log10_hi = -3,
    dopt.n_alphas = 2;
    r = NULL;
    CHECK(t, nd_decode_arrays(ctx, x, lab, n, x, lab, n, T, U, 1, &dopt, &r) == ND_OK, "%s", nd_errmsg(ctx));
    const double *acc = r ? nd_result_get(r, "accuracy", NULL, &rank) : NULL;
    const double *nf = r ? nd_result_get(r, "n_features", NULL, NULL) : NULL;
    CHECK(t, acc && *acc >= 0.9 && nf && *nf == U, "accuracy %g", acc ? *acc : NAN);
    nd_result_free(r);
    dopt.folds = 13;
    CHECK(t, nd_decode_arrays(ctx, x, lab, n, x, lab, n, T, U, 1, &dopt, &r) == ND_ERR_ARG && !r, "folds > trials");
    free(y);
    free(x);
    nd_context_free(ctx);
}

static void test_rates_ablate_fixedpoints(nd_test_ctx *t) {
    nd_context *ctx = NULL;
    nd_context_create(&ctx);
    nd_set_threads(ctx, 1);
    nd_lorenz_options lo;
    nd_lorenz_options_default(&lo);
    lo.conditions = 3, lo.trials_per_condition = 5, lo.neurons = 6, lo.bins = 8;
    nd_data *d = NULL;
    CHECK(t, nd_simulate_lorenz(ctx, &lo, &d) == ND_OK, "%s", nd_errmsg(ctx));
    char dir[256], run[300];
    if (!d || !nd_test_scratch(dir, sizeof dir, "nd_apian_")) {
        nd_data_free(d);
        nd_context_free(ctx);
        return;
    }
    snprintf(run, sizeof run, "%s/run", dir);
    nd_train_options *o = NULL;
    nd_train_options_create(ctx, &o);
    static const char *const kv[][2] = {{"gen_dim", "6"}, {"ic_enc_dim", "4"}, {"ic_dim", "4"}, {"fac_dim", "3"},
                                        {"co_dim", "0"}, {"batch_size", "4"}, {"max_epochs", "1"}};
    for (size_t i = 0; i < sizeof kv / sizeof kv[0]; i++) nd_train_options_set(ctx, o, kv[i][0], kv[i][1]);
    nd_model *m = NULL;
    nd_outputs *out = NULL;
    CHECK(t, nd_train(ctx, d, o, run, 0, NULL) == ND_OK, "%s", nd_errmsg(ctx));
    CHECK(t, nd_model_open(ctx, run, &m) == ND_OK, "%s", nd_errmsg(ctx));
    nd_infer_options io;
    nd_infer_options_default(&io);
    io.samples = 0;
    if (m) CHECK(t, nd_infer(ctx, m, d, &io, &out) == ND_OK, "%s", nd_errmsg(ctx));
    if (out) {
        size_t dims[3];
        CHECK(t, nd_rates(ctx, out, d, 0, NULL, 0, NULL, NULL, dims) == ND_OK, "%s", nd_errmsg(ctx));
        const int ntr = nd_data_trials(d, ND_SPLIT_TRAIN), nva = nd_data_trials(d, ND_SPLIT_VALID);
        CHECK(t, dims[0] == (size_t)(ntr + nva) && dims[1] == 8 && dims[2] == 6, "dims");
        float *hz = malloc(sizeof(float) * dims[0] * 8 * 6);
        int *tid = malloc(sizeof(int) * dims[0]), nid[6];
        CHECK(t, nd_rates(ctx, out, d, 0, hz, dims[0] * 48, tid, nid, dims) == ND_OK, "%s", nd_errmsg(ctx));
        /* every valid trial's rates, times 1000 / 20 ms, sit at the row of its original index */
        const int *vi = nd_data_trial_inds(d, ND_SPLIT_VALID);
        const float *vr = nd_outputs_array(out, "valid_output_params", NULL, NULL);
        int bad = 0;
        for (int i = 0; vi && vr && i < nva; i++)
            for (int k = 0; k < 48; k++) bad += hz[(size_t)vi[i] * 48 + k] != vr[(size_t)i * 48 + k] * (float)(1000.0 / 20);
        for (size_t i = 0; i < dims[0]; i++) bad += tid[i] != (int)i;
        for (int j = 0; j < 6; j++) bad += nid[j] != j;
        CHECK(t, vi && vr && bad == 0, "%d values misplaced", bad);
        CHECK(t, nd_rates(ctx, out, d, 0, hz, 10, NULL, NULL, dims) == ND_ERR_ARG && strstr(nd_errmsg(ctx), "cap 10"),
              "%s", nd_errmsg(ctx));
        free(hz);
        free(tid);
        nd_data *other = NULL;
        lo.conditions = 2;
        nd_simulate_lorenz(ctx, &lo, &other);
        CHECK(t, other && nd_rates(ctx, out, other, 0, NULL, 0, NULL, NULL, dims) == ND_ERR_ARG &&
                     strstr(nd_errmsg(ctx), "outputs of other data"), "%s", nd_errmsg(ctx));
        nd_data_free(other);
    }
    if (m) {
        nd_ablate_options ao;
        nd_ablate_options_default(&ao);
        ao.orders = 2;
        nd_result *r = NULL;
        CHECK(t, nd_ablate(ctx, m, d, &ao, &r) == ND_OK, "%s", nd_errmsg(ctx));
        size_t dims[3];
        const double *nll = r ? nd_result_get(r, "nll", dims, NULL) : NULL;
        const double *inc = r ? nd_result_get(r, "nll_increase", NULL, NULL) : NULL;
        const double *ord = r ? nd_result_get(r, "orders", dims, NULL) : NULL;
        CHECK(t, nll && inc && dims[0] == 2 && dims[1] == 3 && inc[0] == 0 && inc[3] == nll[3] - nll[0], "ablate");
        CHECK(t, ord && ord[0] + ord[1] + ord[2] == 3, "an order is a permutation of 0, 1, 2");
        nd_result_free(r);
        ao.orders = 0;
        CHECK(t, nd_ablate(ctx, m, d, &ao, &r) == ND_ERR_ARG && !r, "orders 0");

        nd_fixedpoints_options fo;
        nd_fixedpoints_options_default(&fo);
        fo.starts = 8;
        r = NULL;
        CHECK(t, nd_fixedpoints(ctx, m, &fo, &r) == ND_OK, "%s", nd_errmsg(ctx));
        const double *sq = r ? nd_result_get(r, "start_q", dims, NULL) : NULL;
        const double *nfp = r ? nd_result_get(r, "n_fixed_points", NULL, NULL) : NULL;
        CHECK(t, sq && dims[0] == 8 && nfp && *nfp >= 0, "fixed points");
        nd_result_free(r);
        fo.outputs = "/nonexistent/out.h5";
        CHECK(t, nd_fixedpoints(ctx, m, &fo, &r) != ND_OK && !r && strstr(nd_errmsg(ctx), "/nonexistent/out.h5"),
              "%s", nd_errmsg(ctx));
    }
    nd_outputs_free(out);
    nd_model_free(m);
    nd_train_options_free(o);
    nd_data_free(d);
    nd_test_scratch_remove(dir);
    nd_context_free(ctx);
}

int main(void) {
    RUN(test_result_and_rdm);
    RUN(test_jpca_predict_decode);
    RUN(test_rates_ablate_fixedpoints);
    TEST_MAIN_END();
}
