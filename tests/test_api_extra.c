/* The public API's additions for the Python package and export (the last block of include/neurodyn.h): data from
 * arrays (split, trial indices, bad counts), nd_compare against a direct computation, the progress callback's stop
 * and exact resume, nd_model_export / nd_export_nlb errors. Only the public header is included. */
#include <neurodyn.h>
#include "test.h"
#include <math.h>

static nd_train_options *small_opts(nd_context *ctx, int epochs) {
    static const char *const kv[][2] = {{"gen_dim", "12"}, {"ic_enc_dim", "8"}, {"ic_dim", "6"}, {"fac_dim", "4"},
                                        {"co_dim", "1"}, {"con_dim", "4"}, {"ci_enc_dim", "4"}, {"batch_size", "8"},
                                        {"kl_increase_epoch", "1"}, {"l2_increase_epoch", "1"}};
    nd_train_options *o = NULL;
    if (nd_train_options_create(ctx, &o)) return NULL;
    char ep[16];
    snprintf(ep, sizeof ep, "%d", epochs);
    for (size_t i = 0; i < sizeof kv / sizeof kv[0]; i++) nd_train_options_set(ctx, o, kv[i][0], kv[i][1]);
    nd_train_options_set(ctx, o, "max_epochs", ep);
    return o;
}

/* [n][T][N] Poisson-like counts from a fixed pattern */
static float *counts(int n, int T, int N) {
    float *x = malloc(sizeof(float) * (size_t)n * T * N);
    for (int i = 0; i < n; i++)
        for (int t = 0; t < T; t++)
            for (int j = 0; j < N; j++) x[((size_t)i * T + t) * N + j] = (float)((i * 7 + t * 3 + j * 5) % 4 == 0);
    return x;
}

static void test_from_arrays(nd_test_ctx *t) {
    nd_context *ctx = NULL;
    nd_context_create(&ctx);
    const int n = 20, T = 8, N = 5;
    float *x = counts(n, T, N);
    nd_data *d = NULL;
    CHECK(t, nd_data_from_arrays(ctx, x, n, NULL, 0, T, N, 25, 7, 0.25, &d) == ND_OK, "%s", nd_errmsg(ctx));
    CHECK(t, d && nd_data_trials(d, ND_SPLIT_TRAIN) == 15 && nd_data_trials(d, ND_SPLIT_VALID) == 5, "split");
    CHECK(t, d && nd_data_bin_ms(d) == 25 && nd_data_path(d)[0] == 0, "bin_ms, path");
    if (d) { /* every trial once, in its split, with its own counts */
        int seen[20] = {0};
        for (int s = 0; s < 2; s++) {
            const int *ind = nd_data_trial_inds(d, (nd_split)s);
            const float *c = nd_data_counts(d, (nd_split)s);
            for (int i = 0; i < nd_data_trials(d, (nd_split)s); i++) {
                seen[ind[i]]++;
                CHECK(t, !memcmp(c + (size_t)i * T * N, x + (size_t)ind[i] * T * N, sizeof(float) * T * N),
                      "trial %d's counts", ind[i]);
            }
        }
        for (int i = 0; i < n; i++) CHECK(t, seen[i] == 1, "trial %d seen %d times", i, seen[i]);
        int ids[8];
        CHECK(t, nd_data_neuron_ids(ctx, d, ids, 8) == ND_OK && ids[0] == 0 && ids[4] == 4, "ids");
        CHECK(t, nd_data_neuron_ids(ctx, d, ids, 4) == ND_ERR_ARG && strstr(nd_errmsg(ctx), "cap 4"), "small cap");
    }
    nd_data_free(d);
    x[3 * T * N + 2] = 1.5f;
    CHECK(t, nd_data_from_arrays(ctx, x, n, NULL, 0, T, N, 25, 7, 0.25, &d) == ND_ERR_FORMAT && !d, "1.5");
    CHECK(t, strstr(nd_errmsg(ctx), "train[3][2]") != NULL, "message names the element: %s", nd_errmsg(ctx));
    CHECK(t, nd_data_from_arrays(ctx, x, 1, NULL, 0, T, N, 25, 7, 0.25, &d) == ND_ERR_ARG, "1 trial, no valid");
    free(x);
    nd_context_free(ctx);
}

static void test_compare(nd_test_ctx *t) {
    nd_context *ctx = NULL;
    nd_context_create(&ctx);
    enum { n = 40, p = 3, q = 4 };
    float x[n * p], y[n * q];
    for (int i = 0; i < n; i++) {
        for (int j = 0; j < p; j++) x[i * p + j] = (float)sin(0.3 * (j + 1) * i + j); /* full rank */
        for (int j = 0; j < q; j++) y[i * q + j] = (float)cos(0.2 * i * (j + 1)) + x[i * p + j % p];
    }
    /* linear CKA directly: ||Yc^T Xc||^2 / (||Xc^T Xc|| ||Yc^T Yc||) */
    double X[n * p], Y[n * q], mx[p] = {0}, my[q] = {0};
    for (int i = 0; i < n; i++) {
        for (int j = 0; j < p; j++) mx[j] += x[i * p + j] / (double)n;
        for (int j = 0; j < q; j++) my[j] += y[i * q + j] / (double)n;
    }
    for (int i = 0; i < n; i++) {
        for (int j = 0; j < p; j++) X[i * p + j] = x[i * p + j] - mx[j];
        for (int j = 0; j < q; j++) Y[i * q + j] = y[i * q + j] - my[j];
    }
    double yx = 0, xx = 0, yy = 0;
    for (int a = 0; a < q; a++)
        for (int b = 0; b < p; b++) {
            double s = 0;
            for (int i = 0; i < n; i++) s += Y[i * q + a] * X[i * p + b];
            yx += s * s;
        }
    for (int a = 0; a < p; a++)
        for (int b = 0; b < p; b++) {
            double s = 0;
            for (int i = 0; i < n; i++) s += X[i * p + a] * X[i * p + b];
            xx += s * s;
        }
    for (int a = 0; a < q; a++)
        for (int b = 0; b < q; b++) {
            double s = 0;
            for (int i = 0; i < n; i++) s += Y[i * q + a] * Y[i * q + b];
            yy += s * s;
        }
    double v = 0, ref = yx / sqrt(xx * yy);
    CHECK(t, nd_compare(ctx, x, y, n, p, q, "cka", &v) == ND_OK && fabs(v - ref) < 1e-9, "cka %.12f vs %.12f", v, ref);
    CHECK(t, nd_compare(ctx, x, x, n, p, p, "procrustes", &v) == ND_OK && fabs(v) < 1e-3, "self distance %g", v);
    CHECK(t, nd_compare(ctx, x, x, n, p, p, "cca", &v) == ND_OK && fabs(v - 1) < 1e-6, "self cca %g", v);
    CHECK(t, nd_compare(ctx, x, y, n, p, q, "nope", &v) == ND_ERR_ARG && strstr(nd_errmsg(ctx), "cka-debiased"),
          "unknown method lists the methods: %s", nd_errmsg(ctx));
    nd_context_free(ctx);
}

typedef struct { int calls, stop_at; } cb_state;
static int on_epoch(void *user, int step, int total, double value) {
    cb_state *s = user;
    s->calls++;
    (void)total;
    (void)value;
    return step == s->stop_at;
}

static int same_file(const char *a, const char *b) {
    FILE *fa = fopen(a, "rb"), *fb = fopen(b, "rb");
    int same = fa && fb;
    while (same) {
        int ca = fgetc(fa), cb = fgetc(fb);
        if (ca != cb) same = 0;
        if (ca == EOF || cb == EOF) break;
    }
    if (fa) fclose(fa);
    if (fb) fclose(fb);
    return same;
}

static void test_stop_resume_export(nd_test_ctx *t) {
    char dir[256], a[320], b[320], f[400], g[400];
    if (!nd_test_scratch(dir, sizeof dir, "nd_apix_")) SKIP(t, "no scratch dir");
    nd_context *ctx = NULL;
    nd_context_create(&ctx);
    nd_set_threads(ctx, 1);
    const int n = 24, T = 8, N = 5;
    float *x = counts(n, T, N);
    nd_data *d = NULL;
    nd_data_from_arrays(ctx, x, n, NULL, 0, T, N, 20, 0, 0.25, &d);
    nd_train_options *o = small_opts(ctx, 4);
    snprintf(a, sizeof a, "%s/a", dir);
    snprintf(b, sizeof b, "%s/b", dir);
    CHECK(t, nd_train(ctx, d, o, a, 0, NULL) == ND_OK, "%s", nd_errmsg(ctx));
    cb_state s = {0, 2};
    nd_set_progress_callback(ctx, on_epoch, &s);
    nd_train_report rep;
    CHECK(t, nd_train(ctx, d, o, b, 0, &rep) == ND_INTERRUPTED && s.calls == 2, "stop: %d calls", s.calls);
    CHECK(t, strstr(nd_errmsg(ctx), "after epoch 2 of 4") != NULL, "message: %s", nd_errmsg(ctx));
    s.stop_at = 4; /* a stop asked after the last epoch changes nothing */
    CHECK(t, nd_train(ctx, d, o, b, 1, &rep) == ND_OK && rep.epochs_run == 4 && s.calls == 4, "resume: %s",
          nd_errmsg(ctx));
    snprintf(f, sizeof f, "%s/best.ckpt", a);
    snprintf(g, sizeof g, "%s/best.ckpt", b);
    CHECK(t, same_file(f, g), "stopped + resumed best.ckpt == uninterrupted");
    nd_set_progress_callback(ctx, NULL, NULL);
    nd_model *m = NULL;
    snprintf(f, sizeof f, "%s/w.h5", dir);
    CHECK(t, nd_model_open(ctx, a, &m) == ND_OK && nd_model_export(ctx, m, f) == ND_OK, "%s", nd_errmsg(ctx));
    CHECK(t, nd_model_export(ctx, m, "/nonexistent/dir/w.h5") == ND_ERR_IO, "bad path: %s", nd_errmsg(ctx));
    snprintf(g, sizeof g, "%s/sub.h5", dir);
    CHECK(t, nd_export_nlb(ctx, d, f, "x", ND_SPLIT_VALID, g) != ND_OK &&
             strstr(nd_errmsg(ctx), "valid_output_params"), "weights are not outputs: %s", nd_errmsg(ctx));
    nd_outputs *out = NULL;
    snprintf(f, sizeof f, "%s/out.h5", dir);
    CHECK(t, nd_infer(ctx, m, d, NULL, &out) == ND_OK && nd_outputs_write(ctx, out, f) == ND_OK, "%s",
          nd_errmsg(ctx));
    CHECK(t, nd_export_nlb(ctx, d, f, NULL, ND_SPLIT_TRAIN, g) == ND_OK, "%s", nd_errmsg(ctx));
    CHECK(t, nd_export_nlb(ctx, d, f, "a/b", ND_SPLIT_TRAIN, g) == ND_ERR_ARG, "slash in the name");
    CHECK(t, nd_export_nlb(ctx, d, f, "x", ND_SPLIT_TEST, g) == ND_ERR_FORMAT && strstr(nd_errmsg(ctx), "test"),
          "no test rates: %s", nd_errmsg(ctx));
    nd_outputs_free(out);
    nd_model_free(m);
    nd_train_options_free(o);
    nd_data_free(d);
    free(x);
    nd_context_free(ctx);
    nd_test_scratch_remove(dir);
}

int main(void) {
    RUN(test_from_arrays);
    RUN(test_compare);
    RUN(test_stop_resume_export);
    TEST_MAIN_END();
}
