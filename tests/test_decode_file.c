/* `neurodyn decode` as a library call (src/analysis/decode_file.c) on small HDF5 files: its features are each trial's
 * bins averaged into time chunks, recomputed here by a loop of their own, and its result is nd_decode's on them to the
 * bit; the split it picks, a FILE:DATASET target picked with {split}_inds, and its one-line errors. */
#include "test.h"
#include "../src/analysis/decode_file.h"
#include "../src/core/rng.h"
#include "../src/io/h5.h"

enum { NTR = 24, NVA = 8, NTE = 8, T = 10, U = 3, NORIG = NTR + NVA + NTE };

typedef struct {
    float x[3][NTR * T * U];  /* train, valid, test features */
    float y[3][NTR * 2];      /* two target columns */
    float c[3][NTR];          /* class labels 0..2 */
    int inds[3][NTR];         /* original trial of each trial */
    float orig[NORIG];        /* one value per original trial */
} fixture;

static const int n_of[3] = {NTR, NVA, NTE};
static const char *split_of[3] = {"train", "valid", "test"};

static void make_fixture(fixture *f) {
    nd_rng rng;
    nd_rng_seed(&rng, 7);
    int perm[NORIG];
    for (int i = 0; i < NORIG; i++) perm[i] = i;
    nd_rng_shuffle(&rng, perm, NORIG);
    for (int i = 0; i < NORIG; i++) f->orig[i] = (float)nd_rng_normal(&rng);
    for (int s = 0, k = 0; s < 3; s++)
        for (int i = 0; i < n_of[s]; i++, k++) {
            int cls = (int)nd_rng_below(&rng, 3);
            f->c[s][i] = (float)cls;
            f->inds[s][i] = perm[k];
            double drive = f->orig[perm[k]];
            for (int t = 0; t < T; t++)
                for (int u = 0; u < U; u++)
                    f->x[s][(i * T + t) * U + u] = (float)((u == cls ? 1.0 : 0.0) + 0.5 * drive * (t < T / 2) +
                                                           0.7 * nd_rng_normal(&rng));
            f->y[s][2 * i] = (float)(drive + 0.1 * nd_rng_normal(&rng));
            f->y[s][2 * i + 1] = (float)(cls - 1 + 0.3 * nd_rng_normal(&rng));
        }
}

/* out.h5: {split}_factors and {split}_inds of the splits in [0, nsplit); data.h5: {split}_y, {split}_label;
 * orig.h5: orig */
static int write_files(const char *dir, const fixture *f, int nsplit, nd_error *err) {
    char path[3][512];
    const char *names[3] = {"out.h5", "data.h5", "orig.h5"};
    for (int k = 0; k < 3; k++) {
        snprintf(path[k], sizeof path[k], "%s/%s", dir, names[k]);
        nd_h5file *h = NULL;
        nd_status st = nd_h5_create(&h, path[k], err);
        for (int s = 0; !st && s < nsplit && k < 2; s++) {
            char name[64];
            size_t d3[3] = {(size_t)n_of[s], T, U}, d2[2] = {(size_t)n_of[s], 2}, d1[1] = {(size_t)n_of[s]};
            snprintf(name, sizeof name, "%s_%s", split_of[s], k ? "y" : "factors");
            st = k ? nd_h5_write_float(h, name, f->y[s], 2, d2, err) : nd_h5_write_float(h, name, f->x[s], 3, d3, err);
            snprintf(name, sizeof name, "%s_%s", split_of[s], k ? "label" : "inds");
            if (!st) st = k ? nd_h5_write_float(h, name, f->c[s], 1, d1, err) : nd_h5_write_int(h, name, f->inds[s], 1, d1, err);
        }
        size_t dn[1] = {NORIG};
        if (!st && k == 2) st = nd_h5_write_float(h, "orig", f->orig, 1, dn, err);
        if (h) {
            nd_status cs = nd_h5_close(h, st == ND_OK, err);
            if (!st) st = cs;
        }
        if (st) return 0;
    }
    return 1;
}

/* the features written the long way: bin t belongs to chunk c when c T / K <= t < (c + 1) T / K */
static int chunk_features(const float *x, int n, int K, double *X) {
    if (K <= 0 || K > T) K = T;
    for (int i = 0; i < n; i++)
        for (int c = 0; c < K; c++)
            for (int u = 0; u < U; u++) {
                double s = 0;
                int cnt = 0;
                for (int t = 0; t < T; t++)
                    if (t >= c * T / K && t < (c + 1) * T / K) { s += x[(i * T + t) * U + u]; cnt++; }
                X[(size_t)i * K * U + c * U + u] = s / cnt;
            }
    return K * U;
}

/* nd_decode_file against nd_decode on chunk_features: every score bit for bit */
static void check_same(nd_test_ctx *ctx, const char *what, const nd_decode_file_opts *o, const fixture *f, int te,
                       const float *ytr, const float *yte, int q) {
    nd_decode_file_result r;
    nd_error err;
    CHECK(ctx, nd_decode_file(o, &r, &err) == ND_OK, "%s: %s", what, err.msg);
    if (ctx->failed_checks) return;
    static double Xtr[NTR * T * U], Xte[NTR * T * U], Ytr[NTR * 2], Yte[NTR * 2], alphas[64];
    int p = chunk_features(f->x[0], NTR, o->time_bins, Xtr);
    chunk_features(f->x[te], n_of[te], o->time_bins, Xte);
    for (int i = 0; i < NTR * q; i++) Ytr[i] = ytr[i];
    for (int i = 0; i < n_of[te] * q; i++) Yte[i] = yte[i];
    for (int a = 0; a < o->n_alphas; a++)
        alphas[a] = pow(10.0, o->alpha_log10_lo + (o->alpha_log10_hi - o->alpha_log10_lo) * a / (o->n_alphas - 1));
    int classify = o->classify < 0 ? !strcmp(o->target, "condition") : o->classify;
    nd_decode_opts d = {alphas, o->n_alphas, o->folds, classify, o->shuffle, o->seed};
    nd_decode_result want;
    CHECK(ctx, nd_decode(Xtr, Ytr, NTR, Xte, Yte, n_of[te], p, q, &d, &want, &err) == ND_OK, "%s: %s", what, err.msg);
    if (ctx->failed_checks) { nd_decode_file_result_free(&r); return; }
    CHECK(ctx, !strcmp(r.split, split_of[te]), "%s: split %s, want %s", what, r.split, split_of[te]);
    CHECK(ctx, r.n_features == p && r.n_train == NTR && r.n_test == n_of[te] && r.q == q && r.classify == classify,
          "%s: %d features, %d/%d trials, q %d, classify %d", what, r.n_features, r.n_train, r.n_test, r.q, r.classify);
    CHECK(ctx, r.r.test_score == want.test_score && r.r.best_alpha == want.best_alpha && r.r.chance == want.chance,
          "%s: score %.17g alpha %g chance %g, want %.17g %g %g", what, r.r.test_score, r.r.best_alpha, r.r.chance,
          want.test_score, want.best_alpha, want.chance);
    for (int a = 0; a < o->n_alphas; a++)
        CHECK(ctx, r.alphas[a] == alphas[a] && r.r.cv_score[a] == want.cv_score[a], "%s: alpha %d: %g %.17g, want %g "
              "%.17g", what, a, r.alphas[a], r.r.cv_score[a], alphas[a], want.cv_score[a]);
    CHECK(ctx, !classify || r.r.test_score > r.r.chance + 0.1, "%s: accuracy %.3f not above chance %.3f", what,
          r.r.test_score, r.r.chance);
    nd_decode_result_free(&want);
    nd_decode_file_result_free(&r);
}

static void test_decode_file(nd_test_ctx *ctx) {
    static fixture f;
    make_fixture(&f);
    char dir[256], out[512], data[512], spec[600];
    nd_error err;
    if (!nd_test_scratch(dir, sizeof dir, "nd_decode_file_")) SKIP(ctx, "no scratch directory");
    CHECK(ctx, write_files(dir, &f, 3, &err), "%s", err.msg);
    snprintf(out, sizeof out, "%s/out.h5", dir);
    snprintf(data, sizeof data, "%s/data.h5", dir);
    nd_decode_file_opts o;
    nd_decode_file_opts_default(&o);
    o.out = out, o.data = data, o.dataset = "factors", o.folds = 4;
    /* a regression of two columns on 4 time chunks of 10 bins (2, 3, 2, 3 bins): the test split by default */
    o.target = "y", o.time_bins = 4;
    check_same(ctx, "y, 4 chunks", &o, &f, 2, f.y[0], f.y[2], 2);
    /* labels on every bin, scored on the valid trials, contiguous folds, a grid of its own */
    o.target = "label", o.classify = 1, o.time_bins = 0, o.split = "valid", o.shuffle = 0;
    o.alpha_log10_lo = -1, o.alpha_log10_hi = 3, o.n_alphas = 5;
    check_same(ctx, "labels, valid", &o, &f, 1, f.c[0], f.c[1], 1);
    /* more chunks than bins: every bin */
    o.time_bins = 50;
    check_same(ctx, "labels, 50 chunks", &o, &f, 1, f.c[0], f.c[1], 1);
    /* one value per original trial, picked with out.h5's {split}_inds */
    static float otr[NTR], ote[NTE];
    for (int i = 0; i < NTR; i++) otr[i] = f.orig[f.inds[0][i]];
    for (int i = 0; i < NTE; i++) ote[i] = f.orig[f.inds[2][i]];
    snprintf(spec, sizeof spec, "%s/orig.h5:orig", dir);
    nd_decode_file_opts_default(&o);
    o.out = out, o.dataset = "factors", o.target = spec, o.time_bins = 2, o.folds = 3;
    check_same(ctx, "FILE:DATASET", &o, &f, 2, otr, ote, 1);
    /* errors name the file and the dataset */
    nd_decode_file_result r;
    o.folds = 30;
    CHECK(ctx, nd_decode_file(&o, &r, &err) != ND_OK && strstr(err.msg, "--folds 30") && strstr(err.msg, out),
          "folds over the train trials: %s", err.msg);
    o.folds = 3, o.target = "nosuch", o.data = data;
    CHECK(ctx, nd_decode_file(&o, &r, &err) == ND_ERR_FORMAT && strstr(err.msg, "train_nosuch") && strstr(err.msg, data),
          "missing target: %s", err.msg);
    o.target = "y", o.dataset = "nosuch";
    CHECK(ctx, nd_decode_file(&o, &r, &err) == ND_ERR_FORMAT && strstr(err.msg, "train_nosuch") && strstr(err.msg, out),
          "missing features: %s", err.msg);
    o.dataset = "factors", o.classify = 1;
    CHECK(ctx, nd_decode_file(&o, &r, &err) != ND_OK && strstr(err.msg, "2 columns"), "2-column labels: %s", err.msg);
    o.classify = -1, o.n_alphas = 0;
    CHECK(ctx, nd_decode_file(&o, &r, &err) == ND_ERR_ARG, "no alphas accepted");
    /* without test trials the default is valid */
    CHECK(ctx, write_files(dir, &f, 2, &err), "%s", err.msg);
    nd_decode_file_opts_default(&o);
    o.out = out, o.data = data, o.dataset = "factors", o.target = "y", o.folds = 4, o.time_bins = 3;
    check_same(ctx, "y, no test split", &o, &f, 1, f.y[0], f.y[1], 2);
    nd_test_scratch_remove(dir);
}

int main(void) {
    RUN(test_decode_file);
    TEST_MAIN_END();
}
