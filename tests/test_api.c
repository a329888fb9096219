/* The public API (include/neurodyn.h) on its own terms: errors and messages, NULL handling, option set/get,
 * simulate -> train -> infer -> eval in memory, exact resume through the API, the baselines, array ownership
 * and shapes. Only the public header is included. */
#include <neurodyn.h>
#include "test.h"
#include <math.h>

static nd_data *small_lorenz(nd_context *ctx) {
    nd_lorenz_options lo;
    nd_lorenz_options_default(&lo);
    lo.conditions = 4;
    lo.trials_per_condition = 10;
    lo.neurons = 10;
    lo.bins = 16;
    lo.seed = 3;
    nd_data *d = NULL;
    return nd_simulate_lorenz(ctx, &lo, &d) == ND_OK ? d : NULL;
}

static nd_train_options *small_opts(nd_context *ctx, int epochs) {
    static const char *const kv[][2] = {{"gen_dim", "12"}, {"ic_enc_dim", "8"}, {"ic_dim", "6"}, {"fac_dim", "4"},
                                        {"co_dim", "0"}, {"batch_size", "8"}, {"kl_increase_epoch", "1"},
                                        {"l2_increase_epoch", "1"}};
    nd_train_options *o = NULL;
    if (nd_train_options_create(ctx, &o)) return NULL;
    char ep[16];
    snprintf(ep, sizeof ep, "%d", epochs);
    for (size_t i = 0; i < sizeof kv / sizeof kv[0]; i++) nd_train_options_set(ctx, o, kv[i][0], kv[i][1]);
    nd_train_options_set(ctx, o, "max_epochs", ep);
    return o;
}

static void test_errors(nd_test_ctx *t) {
    CHECK(t, nd_version_number() == 100 && !strcmp(nd_version(), "0.1.0"), "version %s", nd_version());
    CHECK(t, nd_set_threads(NULL, 1) == ND_ERR_ARG, "NULL context");
    nd_context *ctx = NULL;
    CHECK(t, nd_context_create(&ctx) == ND_OK && ctx, "context");
    if (!ctx) return;
    CHECK(t, nd_errcode(ctx) == ND_OK && !strcmp(nd_errmsg(ctx), ""), "fresh context: no error");
    CHECK(t, nd_set_threads(ctx, -1) == ND_ERR_ARG && strstr(nd_errmsg(ctx), "-1"), "bad threads: %s", nd_errmsg(ctx));
    CHECK(t, nd_get_threads(ctx) >= 1, "threads default: all cores (%d)", nd_get_threads(ctx));
    CHECK(t, nd_set_threads(ctx, 2) == ND_OK && nd_get_threads(ctx) == 2 && nd_errmsg(ctx)[0] == 0, "threads 2");
    nd_data *d = (nd_data *)1;
    CHECK(t, nd_data_open(ctx, "/nonexistent/x.h5", 0, 0.2, &d) == ND_ERR_IO && d == NULL, "missing file");
    CHECK(t, strstr(nd_errmsg(ctx), "/nonexistent/x.h5") != NULL, "message names the file: %s", nd_errmsg(ctx));
    CHECK(t, nd_errcode(ctx) == ND_ERR_IO, "errcode");
    CHECK(t, !strcmp(nd_status_string(ND_ERR_IO), "i/o error"), "status string");
    nd_train_options *o = NULL;
    CHECK(t, nd_train_options_create(ctx, &o) == ND_OK, "options");
    CHECK(t, nd_train_options_set(ctx, o, "gen_dimm", "3") == ND_ERR_ARG && strstr(nd_errmsg(ctx), "did you mean 'gen_dim'"),
          "unknown key: %s", nd_errmsg(ctx));
    CHECK(t, nd_train_options_set(ctx, o, "gen_dim", "abc") == ND_ERR_ARG, "bad value");
    char buf[64];
    CHECK(t, nd_train_options_set(ctx, o, "lr_init", "0.0125") == ND_OK &&
             nd_train_options_get(ctx, o, "lr_init", buf, sizeof buf) == ND_OK && atof(buf) == 0.0125, "get %s", buf);
    CHECK(t, nd_train_options_get(ctx, o, "lr_init", buf, 3) == ND_ERR_ARG, "small buffer");
    CHECK(t, nd_train(ctx, NULL, o, "/tmp/x", 0, NULL) == ND_ERR_ARG, "NULL data");
    nd_model *m = (nd_model *)1;
    CHECK(t, nd_model_open(ctx, "/nonexistent_run", &m) != ND_OK && m == NULL, "missing run");
    nd_lorenz_options lo;
    nd_lorenz_options_default(&lo);
    lo.neurons = 0;
    CHECK(t, nd_simulate_lorenz(ctx, &lo, &d) == ND_ERR_ARG && d == NULL && strstr(nd_errmsg(ctx), "neurons"),
          "bad lorenz option: %s", nd_errmsg(ctx));
    nd_train_options_free(o);
    nd_data_free(NULL);
    nd_model_free(NULL);
    nd_outputs_free(NULL);
    nd_train_options_free(NULL);
    nd_context_free(ctx);
}

static int same_floats(const float *a, const float *b, size_t n) { return a && b && !memcmp(a, b, n * sizeof *a); }

static void test_train_infer_resume(nd_test_ctx *t) {
    char dir[256], run4[512], run2[512];
    if (!nd_test_scratch(dir, sizeof dir, "nd_api_")) SKIP(t, "no scratch directory");
    snprintf(run4, sizeof run4, "%s/run4", dir);
    snprintf(run2, sizeof run2, "%s/run2", dir);
    nd_context *ctx = NULL;
    nd_context_create(&ctx);
    nd_set_threads(ctx, 2);
    nd_data *d = small_lorenz(ctx);
    CHECK(t, d != NULL, "simulate: %s", nd_errmsg(ctx));
    nd_train_options *o4 = small_opts(ctx, 4), *o2 = small_opts(ctx, 2);
    nd_train_report r4, r2;
    nd_model *m4 = NULL, *m2 = NULL;
    nd_outputs *x4 = NULL, *x2 = NULL;
    if (!d || !o4 || !o2) goto done;
    CHECK(t, nd_data_trials(d, ND_SPLIT_TRAIN) == 32 && nd_data_trials(d, ND_SPLIT_VALID) == 8 &&
             nd_data_trials(d, ND_SPLIT_TEST) == 0 && nd_data_bins(d) == 16 && nd_data_neurons(d) == 10 &&
             nd_data_recon_bins(d) == 16 && nd_data_recon_neurons(d) == 10 && nd_data_ext_dims(d) == 0 &&
             nd_data_counts(d, ND_SPLIT_TRAIN) && !nd_data_counts(d, ND_SPLIT_TEST), "shapes");
    CHECK(t, nd_train(ctx, d, o4, run4, 0, &r4) == ND_OK && r4.epochs_run == 4, "train 4: %s", nd_errmsg(ctx));
    /* 2 epochs, then resumed to 4: the same model as 4 in one go */
    CHECK(t, nd_train(ctx, d, o2, run2, 0, &r2) == ND_OK && r2.epochs_run == 2, "train 2: %s", nd_errmsg(ctx));
    CHECK(t, nd_train(ctx, d, o4, run2, 1, &r2) == ND_OK && r2.epochs_run == 4, "resume to 4: %s", nd_errmsg(ctx));
    nd_infer_options io;
    nd_infer_options_default(&io);
    io.samples = 0;
    CHECK(t, nd_model_open(ctx, run4, &m4) == ND_OK && nd_model_open(ctx, run2, &m2) == ND_OK, "open: %s",
          nd_errmsg(ctx));
    if (!m4 || !m2) goto done;
    CHECK(t, nd_model_factors(m4) == 4 && nd_model_neurons(m4) == 10, "model dims");
    CHECK(t, nd_infer(ctx, m4, d, &io, &x4) == ND_OK && nd_infer(ctx, m2, d, &io, &x2) == ND_OK, "infer: %s",
          nd_errmsg(ctx));
    if (!x4 || !x2) goto done;
    size_t dims[3] = {0, 0, 0}, d2[3];
    int rank = 0;
    const float *a = nd_outputs_array(x4, "valid_output_params", dims, &rank);
    const float *b = nd_outputs_array(x2, "valid_output_params", d2, NULL);
    CHECK(t, a && rank == 3 && dims[0] == 8 && dims[1] == 16 && dims[2] == 10, "rates shape");
    CHECK(t, same_floats(a, b, 8 * 16 * 10), "resumed run: the same rates bit for bit");
    const float *ic = nd_outputs_array(x4, "train_ic_mean", dims, &rank);
    CHECK(t, ic && rank == 2 && dims[0] == 32 && dims[1] == 6, "ic_mean [32 x 6]: rank %d %zu %zu", rank, dims[0],
          dims[1]);
    CHECK(t, !nd_outputs_array(x4, "test_output_params", NULL, NULL) && !nd_outputs_array(x4, "valid_nope", NULL, NULL)
             && !nd_outputs_array(x4, "valid_co_means", NULL, NULL), "absent arrays are NULL");
    nd_metrics mt;
    CHECK(t, nd_eval(ctx, d, x4, NULL, &mt) == ND_OK, "eval: %s", nd_errmsg(ctx));
    CHECK(t, (mt.computed & ND_METRIC_RATE_R2) && isfinite(mt.rate_r2) && mt.eval_trials == 8, "rate_r2 %g",
          mt.rate_r2);
    CHECK(t, (mt.computed & ND_METRIC_PSTH_R2) && isfinite(mt.psth_r2), "psth_r2 from the simulated conditions");
    CHECK(t, !(mt.computed & ND_METRIC_CO_BPS) && isnan(mt.co_bps) && isnan(mt.vel_r2) && isnan(mt.fp_bps),
          "not computed: NaN and no bit");
    /* a data file with another neuron count is refused with the sizes */
    nd_lorenz_options lo;
    nd_lorenz_options_default(&lo);
    lo.conditions = 2, lo.trials_per_condition = 5, lo.neurons = 7, lo.bins = 16;
    nd_data *other = NULL;
    nd_outputs *bad = NULL;
    if (nd_simulate_lorenz(ctx, &lo, &other) == ND_OK) {
        CHECK(t, nd_infer(ctx, m4, other, &io, &bad) == ND_ERR_ARG && !bad && strstr(nd_errmsg(ctx), "10 input neurons"),
              "mismatch: %s", nd_errmsg(ctx));
        CHECK(t, nd_data_write(ctx, other, "/nonexistent_dir/x.h5") != ND_OK, "write to a missing directory");
    }
    nd_data_free(other);
done:
    nd_outputs_free(x4);
    nd_outputs_free(x2);
    nd_model_free(m4);
    nd_model_free(m2);
    nd_train_options_free(o4);
    nd_train_options_free(o2);
    nd_data_free(d);
    nd_context_free(ctx);
    nd_test_scratch_remove(dir);
}

static void test_baselines(nd_test_ctx *t) {
    nd_context *ctx = NULL;
    nd_context_create(&ctx);
    nd_set_threads(ctx, 1);
    nd_data *d = small_lorenz(ctx);
    nd_outputs *s = NULL, *g = NULL;
    nd_baseline_options bo;
    nd_baseline_options_default(&bo);
    CHECK(t, bo.kernel_ms <= 0 && bo.alpha < 0 && bo.gpfa_latents <= 0, "defaults: chosen by cross-validation");
    bo.gpfa_latents = 3;
    bo.gpfa_iters = 20;
    CHECK(t, nd_baseline(ctx, d, ND_BASELINE_SMOOTHING, NULL, &s) == ND_OK, "smoothing: %s", nd_errmsg(ctx));
    CHECK(t, nd_baseline(ctx, d, ND_BASELINE_GPFA, &bo, &g) == ND_OK, "gpfa: %s", nd_errmsg(ctx));
    nd_outputs *none = (nd_outputs *)1;
    CHECK(t, nd_baseline(ctx, d, (nd_baseline_method)7, NULL, &none) == ND_ERR_ARG && !none, "bad method");
    nd_metrics ms, mg;
    if (s && g) {
        size_t dims[3];
        CHECK(t, nd_outputs_array(g, "valid_factors", dims, NULL) && dims[2] == 3, "GPFA factors");
        CHECK(t, !nd_outputs_array(s, "valid_factors", NULL, NULL), "smoothing: no factors");
        CHECK(t, nd_eval(ctx, d, s, NULL, &ms) == ND_OK && nd_eval(ctx, d, g, NULL, &mg) == ND_OK, "eval: %s",
              nd_errmsg(ctx));
        CHECK(t, isfinite(ms.rate_r2) && isfinite(mg.rate_r2) && mg.rate_r2 > 0, "rate_r2 smoothing %g gpfa %g",
              ms.rate_r2, mg.rate_r2);
    }
    nd_outputs_free(s);
    nd_outputs_free(g);
    nd_data_free(d);
    nd_context_free(ctx);
}

int main(void) {
    RUN(test_errors);
    RUN(test_train_infer_resume);
    RUN(test_baselines);
    TEST_MAIN_END();
}
