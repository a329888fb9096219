/* PBT logic (src/models/pbt.c): the AutoLFADS space, initial sampling (uniform vs log-uniform), explore
 * within bounds, the binary tournament, the stop rule, the loss-scale mapping, determinism; and the search's
 * options given as text (nd_pbt_search_configure, src/models/pbt_search.c). */
#include "test.h"
#include "../src/models/pbt.h"
#include "../src/models/pbt_search.h"
#include <stdlib.h>
#include <unistd.h>

static void test_default_space(nd_test_ctx *ctx) {
    nd_pbt_space s;
    nd_pbt_space_default(&s);
    struct { const char *name; double lo, hi, w; int log; } want[] = {
        {"lr_init", 1e-5, 5e-3, .3, -1},     {"dropout_rate", 0, .6, .3, 0}, {"cd_rate", .01, .7, .3, -1},
        {"l2_gen_scale", 1e-4, 1, .8, 1},    {"l2_con_scale", 1e-4, 1, .8, 1},
        {"kl_co_scale", 1e-6, 1e-4, .8, 1},  {"kl_ic_scale", 1e-6, 1e-3, .8, 1},
    };
    CHECK(ctx, s.n == 7, "7 searched hyperparameters, got %d", s.n);
    for (int i = 0; i < 7 && i < s.n; i++) {
        int k = nd_pbt_space_find(&s, want[i].name);
        CHECK(ctx, k >= 0, "%s searched", want[i].name);
        if (k < 0) continue;
        CHECK(ctx, s.p[k].min == want[i].lo && s.p[k].max == want[i].hi && s.p[k].weight == want[i].w,
              "%s: [%g, %g] w %g", want[i].name, s.p[k].min, s.p[k].max, s.p[k].weight);
        if (want[i].log >= 0)
            CHECK(ctx, (int)s.p[k].sample == want[i].log && isnan(s.p[k].init), "%s sampling", want[i].name);
    }
    CHECK(ctx, s.p[nd_pbt_space_find(&s, "lr_init")].init == 4e-3, "lr starts at 4e-3 (AutoLFADS)");
    CHECK(ctx, s.p[nd_pbt_space_find(&s, "cd_rate")].init == 0.5, "cd_rate starts at 0.5 (AutoLFADS)");
}

static void test_init_sampling(nd_test_ctx *ctx) {
    nd_pbt_space s;
    nd_pbt_space_default(&s);
    enum { W = 20000 };
    double *hp = malloc(sizeof(double) * W * s.n), *hp2 = malloc(sizeof(double) * W * s.n);
    nd_pbt_init(&s, 11, W, hp);
    nd_pbt_init(&s, 11, W, hp2);
    CHECK(ctx, !memcmp(hp, hp2, sizeof(double) * W * s.n), "same seed, same population");
    nd_pbt_init(&s, 12, W, hp2);
    CHECK(ctx, hp[1] != hp2[1], "another seed, another population");
    int inside = 1;
    for (int i = 0; i < W; i++)
        for (int k = 0; k < s.n; k++) {
            double v = hp[i * s.n + k];
            inside &= v >= s.p[k].min && v <= s.p[k].max;
        }
    CHECK(ctx, inside, "every initial value within its bounds");
    int kic = nd_pbt_space_find(&s, "kl_ic_scale"), kdr = nd_pbt_space_find(&s, "dropout_rate");
    int klr = nd_pbt_space_find(&s, "lr_init");
    /* log-uniform on [1e-6, 1e-3]: P(v < 5e-4) = log10(500) / 3 = 0.8997 (uniform would give 0.5);
     * mean of log10 v = -4.5. Uniform dropout on [0, .6]: mean .3, P(v < .3) = .5 */
    int below = 0, dbelow = 0, lrfixed = 1;
    double mlog = 0, md = 0;
    for (int i = 0; i < W; i++) {
        below += hp[i * s.n + kic] < 5e-4;
        mlog += log10(hp[i * s.n + kic]);
        dbelow += hp[i * s.n + kdr] < 0.3;
        md += hp[i * s.n + kdr];
        lrfixed &= hp[i * s.n + klr] == 4e-3;
    }
    mlog /= W;
    md /= W;
    CHECK(ctx, fabs((double)below / W - 0.8997) < 0.01, "kl_ic log-uniform: P(v < 5e-4) = %.4f, want 0.8997",
          (double)below / W);
    CHECK(ctx, fabs(mlog + 4.5) < 0.02, "kl_ic mean log10 %.4f, want -4.5", mlog);
    CHECK(ctx, fabs((double)dbelow / W - 0.5) < 0.01 && fabs(md - 0.3) < 0.005, "dropout uniform: P %.4f mean %.4f",
          (double)dbelow / W, md);
    CHECK(ctx, lrfixed, "lr_init fixed at its initial value");
    free(hp);
    free(hp2);
}

static void test_perturb(nd_test_ctx *ctx) {
    nd_pbt_param p = {"lr_init", 1e-5, 5e-3, 0.3, ND_PBT_LINEAR, NAN};
    nd_rng r;
    nd_rng_seed(&r, 3);
    int inside = 1, factor_ok = 1, up = 0, down = 0;
    double mabs = 0;
    const int n = 100000;
    for (int i = 0; i < n; i++) { /* far from the bounds: every draw is accepted */
        double v = nd_pbt_perturb(&p, 1e-3, &r), f = v / 1e-3 - 1;
        factor_ok &= fabs(f) >= 0.002 * 0.3 * (1 - 1e-12) && fabs(f) <= 0.3 * (1 + 1e-12);
        up += f > 0;
        down += f < 0;
        mabs += fabs(f);
    }
    mabs /= n;
    CHECK(ctx, factor_ok, "factor 1 +/- U(0.002w, w)");
    CHECK(ctx, fabs((double)up / n - 0.5) < 0.01, "both directions equally likely: %d up %d down", up, down);
    CHECK(ctx, fabs(mabs - (0.0006 + 0.3) / 2) < 0.002, "mean |factor - 1| = %.4f, want %.4f", mabs, (0.0006 + 0.3) / 2);
    /* at and near the bounds, and with w .8 on a log parameter: always inside */
    nd_pbt_param q = {"kl_co_scale", 1e-6, 1e-4, 0.8, ND_PBT_LOG, NAN};
    double starts[] = {1e-6, 1.01e-6, 5e-6, 9.9e-5, 1e-4};
    for (int s = 0; s < 5; s++)
        for (int i = 0; i < 20000; i++) {
            double v = nd_pbt_perturb(&q, starts[s], &r);
            inside &= v >= q.min && v <= q.max;
        }
    for (int i = 0; i < 20000; i++) {
        double v = nd_pbt_perturb(&p, 5e-3, &r);
        inside &= v >= p.min && v <= p.max && v < 5e-3; /* at the upper bound it can only go down */
    }
    CHECK(ctx, inside, "explore stays within the bounds");
    /* a value the factor can never bring inside is clipped (after 100 tries) */
    nd_pbt_param t = {"x", 1.0, 1.1, 0.01, ND_PBT_LINEAR, NAN};
    double v = nd_pbt_perturb(&t, 10.0, &r);
    CHECK(ctx, v == 1.1, "out-of-reach value clipped to the bound: %g", v);
}

static void test_tournament(nd_test_ctx *ctx) {
    nd_pbt_space s;
    nd_pbt_space_default(&s);
    enum { W = 4 };
    double scores[W] = {1.0, 2.0, NAN, 0.5};
    double hp0[W * 7], hp[W * 7], hp2[W * 7];
    int src[W], src2[W];
    nd_pbt_init(&s, 5, W, hp0);
    int best_copied = 0, nan_kept = 0, wrong = 0, copies2 = 0, perturbed_ok = 1, unchanged_ok = 1;
    const int G = 3000;
    for (int g = 0; g < G; g++) {
        memcpy(hp, hp0, sizeof hp);
        int nc = nd_pbt_exploit(&s, 9, g, W, scores, hp, src);
        int cnt = 0;
        for (int i = 0; i < W; i++) {
            if (src[i] < 0) {
                for (int k = 0; k < s.n; k++) unchanged_ok &= hp[i * s.n + k] == hp0[i * s.n + k];
                continue;
            }
            cnt++;
            int j = src[i];
            /* a copy only from a better worker, or from a finite one onto a NaN one */
            if (j == i || isnan(scores[j]) || !(isnan(scores[i]) || scores[j] < scores[i])) wrong++;
            for (int k = 0; k < s.n; k++) {
                double a = hp0[j * s.n + k], b = hp[i * s.n + k], w = s.p[k].weight;
                double f = fabs(b / a - 1);
                int clipped = b == s.p[k].min || b == s.p[k].max;
                perturbed_ok &= b >= s.p[k].min && b <= s.p[k].max &&
                                (clipped || (f >= 0.002 * w * (1 - 1e-9) && f <= w * (1 + 1e-9)));
            }
        }
        CHECK(ctx, nc == cnt, "returned count %d vs %d", nc, cnt);
        best_copied += src[3] >= 0;
        nan_kept += src[2] < 0;
        copies2 += src[1] >= 0;
    }
    CHECK(ctx, !wrong, "%d copies from a worse worker", wrong);
    CHECK(ctx, best_copied == 0, "the best worker never copies (%d)", best_copied);
    CHECK(ctx, nan_kept == 0, "a NaN worker always copies a finite one (%d kept)", nan_kept);
    /* worker 1 (score 2) meets 0 (1.0), 2 (NaN) or 3 (0.5) with probability 1/3 each: copies 2/3 of the time */
    CHECK(ctx, fabs((double)copies2 / G - 2.0 / 3) < 0.03, "worse worker copies in %.3f of generations, want 0.667",
          (double)copies2 / G);
    CHECK(ctx, perturbed_ok, "copied hyperparameters are the winner's times 1 +/- U(0.002w, w), within bounds");
    CHECK(ctx, unchanged_ok, "workers that do not copy keep their hyperparameters");
    /* determinism for a seed and generation */
    memcpy(hp, hp0, sizeof hp);
    memcpy(hp2, hp0, sizeof hp);
    nd_pbt_exploit(&s, 9, 17, W, scores, hp, src);
    nd_pbt_exploit(&s, 9, 17, W, scores, hp2, src2);
    CHECK(ctx, !memcmp(hp, hp2, sizeof hp) && !memcmp(src, src2, sizeof src), "same seed and generation, same step");
    /* two workers: the worse always copies the better; ties copy nothing */
    double two[2] = {3.0, 1.0}, tie[2] = {1.0, 1.0}, h2[2 * 7];
    nd_pbt_init(&s, 1, 2, h2);
    nd_pbt_exploit(&s, 1, 0, 2, two, h2, src);
    CHECK(ctx, src[0] == 1 && src[1] == -1, "worse of two copies the better: %d %d", src[0], src[1]);
    int n = nd_pbt_exploit(&s, 1, 1, 2, tie, h2, src);
    CHECK(ctx, n == 0 && src[0] == -1 && src[1] == -1, "equal scores: no copy");
}

static void test_stop_rule(nd_test_ctx *ctx) {
    double b[] = {100, 90, 89.99, 89.98, 89.97, 89.97};
    double q;
    CHECK(ctx, !nd_pbt_should_stop(b, 3, 4, 5e-4, &q) && isnan(q), "fewer generations than patience: go on");
    CHECK(ctx, !nd_pbt_should_stop(b, 4, 4, 5e-4, &q), "big improvement in the window: go on");
    CHECK(ctx, fabs(q - (100 - 89.98) / ((100 + 90 + 89.99 + 89.98) / 4)) < 1e-12, "ratio %.6g", q);
    CHECK(ctx, nd_pbt_should_stop(b, 5, 4, 5e-4, &q), "improvement 0.03/89.985 = 3.3e-4 < 5e-4 over 4: stop");
    CHECK(ctx, fabs(q - 0.03 / 89.985) < 1e-9, "ratio %.6g, want %.6g", q, 0.03 / 89.985);
    CHECK(ctx, !nd_pbt_should_stop(b, 5, 4, 3e-4, &q), "a smaller threshold goes on");
    double worse[] = {10, 11, 12, 13};
    CHECK(ctx, nd_pbt_should_stop(worse, 4, 4, 5e-4, &q) && q == 0, "no improvement at all: stop");
    CHECK(ctx, !nd_pbt_should_stop(worse, 4, 4, 0, &q), "threshold 0 never stops");
}

static void test_scale_mapping(nd_test_ctx *ctx) {
    nd_lfads_config c;
    nd_lfads_config_default(&c); /* gen 100, con 80, controller on */
    int64_t elems = 50 * 30;
    CHECK(ctx, nd_pbt_config_factor("kl_ic_scale", &c, elems) == 1500, "KL: x elements per trial");
    CHECK(ctx, nd_pbt_config_factor("lr_init", &c, elems) == 1, "lr unchanged");
    double fg = nd_pbt_config_factor("l2_gen_scale", &c, elems), fc = nd_pbt_config_factor("l2_con_scale", &c, elems);
    CHECK(ctx, fg == 1500 && fc == 1500, "l2_pooled: the model pools, x elements only: %g %g", fg, fc);
    c.l2_pooled = 0; /* per-kernel normalisation: the pooling shares are applied here */
    fg = nd_pbt_config_factor("l2_gen_scale", &c, elems), fc = nd_pbt_config_factor("l2_con_scale", &c, elems);
    CHECK(ctx, fabs(fg - 1500.0 * 30000 / 49200) < 1e-9 && fabs(fc - 1500.0 * 19200 / 49200) < 1e-9,
          "L2 shares %g %g", fg, fc);
    c.l2_pooled = 1;
    nd_pbt_space s;
    nd_pbt_space_default(&s);
    double hp[7];
    for (int k = 0; k < 7; k++) hp[k] = s.p[k].min;
    hp[nd_pbt_space_find(&s, "kl_ic_scale")] = 1.0 / 1500;
    nd_error err;
    CHECK(ctx, nd_pbt_to_config(&s, hp, elems, &c, &err) == ND_OK, "to_config");
    CHECK(ctx, fabs(c.kl_ic_scale - 1.0) < 1e-12, "lfads-torch kl_ic 1/(T N) is neurodyn's ELBO weight 1: %g",
          c.kl_ic_scale);
    CHECK(ctx, c.lr_init == 1e-5 && c.dropout_rate == 0 && c.cd_rate == 0.01, "plain keys copied");
    nd_lfads_config off;
    nd_lfads_config_default(&off);
    off.co_dim = 0;
    CHECK(ctx, nd_pbt_config_factor("l2_gen_scale", &off, elems) == 1500, "controller off: all L2 on the generator");
}

static void test_space_set(nd_test_ctx *ctx) {
    nd_pbt_space s;
    nd_pbt_space_default(&s);
    nd_error err;
    CHECK(ctx, nd_pbt_space_set(&s, "kl_co_scale=off", &err) == ND_OK && s.n == 6 && nd_pbt_space_find(&s, "kl_co_scale") < 0,
          "off removes");
    CHECK(ctx, nd_pbt_space_set(&s, "lr_init=1e-4:1e-2:0.2:log:1e-3", &err) == ND_OK, "%s", err.msg);
    int k = nd_pbt_space_find(&s, "lr_init");
    CHECK(ctx, s.p[k].min == 1e-4 && s.p[k].max == 1e-2 && s.p[k].weight == 0.2 && s.p[k].sample == ND_PBT_LOG &&
               s.p[k].init == 1e-3, "changed in place");
    CHECK(ctx, nd_pbt_space_set(&s, "max_grad_norm=10:500:0.5", &err) == ND_OK && s.n == 7 && isnan(s.p[6].init),
          "adds a key");
    const char *bad[] = {"nope=1:2:0.3", "batch_size=1:2:0.3", "lr_init=2:1:0.3", "lr_init=0:1:0.3:log",
                         "lr_init=1:2:1.5", "lr_init=1:2", "lr_init=1:2:0.3:log:5", "lr_init", "kl_co_scale=off",
                         "lr_init=1:2:0.3:cubic"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err.msg[0] = 0;
        CHECK(ctx, nd_pbt_space_set(&s, bad[i], &err) == ND_ERR_ARG && strstr(err.msg, "--space"), "'%s' rejected: %s",
              bad[i], err.msg);
    }
}

/* --space, --config, --seed, --set in that order (--set wins over the config), a searched key refused in --set,
 * and the jobs at a time: given, 1 per MPI rank, else the cores / threads per job within [1, workers] */
static void test_search_configure(nd_test_ctx *ctx) {
    char dir[256], cfg[512];
    if (!nd_test_scratch(dir, sizeof dir, "nd_pbt_cfg_")) SKIP(ctx, "no scratch directory");
    snprintf(cfg, sizeof cfg, "%s/c.txt", dir);
    FILE *f = fopen(cfg, "w");
    if (!f) { nd_test_scratch_remove(dir); SKIP(ctx, "cannot write the config file"); }
    fputs("gen_dim = 64\nfac_dim = 5\nseed = 3\n", f);
    fclose(f);
    const char *sets[] = {"gen_dim=32", "con_dim = 16"}, *spaces[] = {"cd_rate=off", "lr_init=1e-4:1e-2:0.2:log"};
    nd_pbt_search_opts o;
    nd_pbt_search_opts_default(&o);
    o.workers = 3, o.threads = 2;
    nd_pbt_search_args a = {cfg, "7", sets, 2, spaces, 2, 0, 0};
    nd_error err;
    CHECK(ctx, nd_pbt_search_configure(&o, &a, &err) == ND_OK, "%s", err.msg);
    CHECK(ctx, o.base.gen_dim == 32 && o.base.fac_dim == 5 && o.base.con_dim == 16 && o.base.seed == 7,
          "gen_dim %d (--set wins), fac_dim %d (config), con_dim %d, seed %lld (--seed wins)", o.base.gen_dim,
          o.base.fac_dim, o.base.con_dim, (long long)o.base.seed);
    int k = nd_pbt_space_find(&o.space, "lr_init");
    CHECK(ctx, nd_pbt_space_find(&o.space, "cd_rate") < 0 && k >= 0 && o.space.p[k].max == 1e-2, "spaces applied");
    long cores = sysconf(_SC_NPROCESSORS_ONLN), want = (cores > 0 ? cores : 1) / 2;
    want = want < 1 ? 1 : want > 3 ? 3 : want;
    CHECK(ctx, o.parallel == want, "default jobs at a time %d, want %ld (%ld cores, 2 threads, 3 workers)", o.parallel,
          want, cores);
    nd_pbt_search_opts_default(&o);
    nd_pbt_search_args b = {NULL, NULL, NULL, 0, NULL, 0, 5, 0};
    CHECK(ctx, nd_pbt_search_configure(&o, &b, &err) == ND_OK && o.parallel == 5, "--parallel 5: %d", o.parallel);
    b.parallel = 0, b.mpi = 1;
    CHECK(ctx, nd_pbt_search_configure(&o, &b, &err) == ND_OK && o.parallel == 1, "MPI: %d", o.parallel);
    const char *searched[] = {"kl_ic_scale =1"};
    nd_pbt_search_args c = {NULL, NULL, searched, 1, NULL, 0, 0, 0};
    nd_pbt_search_opts_default(&o);
    CHECK(ctx, nd_pbt_search_configure(&o, &c, &err) == ND_ERR_ARG && strstr(err.msg, "is searched") &&
               strstr(err.msg, "--space kl_ic_scale=off"), "a searched key in --set: %s", err.msg);
    c.nsets = 0, c.spaces = spaces, c.nspaces = 1;
    const char *again[] = {"cd_rate=0.2"};
    c.sets = again, c.nsets = 1;
    nd_pbt_search_opts_default(&o);
    CHECK(ctx, nd_pbt_search_configure(&o, &c, &err) == ND_OK && o.base.cd_rate == 0.2, "--set of a key no longer "
          "searched: %s", err.msg);
    nd_pbt_search_args d = {NULL, "-1", NULL, 0, NULL, 0, 0, 0};
    CHECK(ctx, nd_pbt_search_configure(&o, &d, &err) == ND_ERR_ARG && strstr(err.msg, "--seed"), "seed -1: %s", err.msg);
    nd_test_scratch_remove(dir);
}

int main(void) {
    RUN(test_default_space);
    RUN(test_init_sampling);
    RUN(test_perturb);
    RUN(test_tournament);
    RUN(test_stop_rule);
    RUN(test_scale_mapping);
    RUN(test_space_set);
    RUN(test_search_configure);
    TEST_MAIN_END();
}
