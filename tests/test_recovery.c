/* Library-level end to end through the public header: a small LFADS trained on
 * small Lorenz data recovers the true rates better than Gaussian smoothing. */
#include "test.h"
#include "../src/neurodyn_internal.h"
#include <stdlib.h>
#include <unistd.h>

static void test_small_lorenz_recovery(nd_test_ctx *ctx) {
    nd_lorenz_opts lo;
    nd_lorenz_opts_default(&lo);
    lo.conditions = 20; lo.trials_per_condition = 12; lo.neurons = 20; lo.bins = 30; lo.seed = 3;
    nd_synth s;
    nd_error err;
    CHECK(ctx, nd_synth_lorenz(&lo, &s, &err) == ND_OK, "%s", err.msg);
    nd_lfads_data *d = &s.data;
    nd_lfads_config c;
    nd_lfads_config_default(&c);
    c.gen_dim = 32; c.ic_enc_dim = 32; c.ic_dim = 16; c.fac_dim = 10; c.co_dim = 0; c.batch_size = 32;
    c.lr_init = 0.01; c.kl_increase_epoch = 20; c.l2_increase_epoch = 20; c.max_epochs = 150; c.es_patience = 1000;
    char dir[] = "/tmp/nd_recovery_XXXXXX";
    CHECK(ctx, mkdtemp(dir) != NULL, "mkdtemp");
    nd_train_opts o = {dir, 2, 0, -1, NULL, 0, 0};
    nd_train_result res;
    CHECK(ctx, nd_lfads_train(d, &c, &o, &res, &err) == ND_OK, "%s", err.msg);
    char ck[256];
    snprintf(ck, sizeof ck, "%s/best.ckpt", dir);
    nd_lfads_model m;
    int dims[3];
    CHECK(ctx, nd_lfads_load(ck, &m, dims, &err) == ND_OK, "%s", err.msg);
    nd_infer_opts io = {20, 2, 0, 0, NULL, 0};
    nd_lfads_result r;
    CHECK(ctx, nd_lfads_infer_split(&m, d->split[ND_VALID].counts, NULL, d->split[ND_VALID].n, d->T, &io, 1, &r, &err) == ND_OK, "%s", err.msg);
    double r2 = nd_r2_score_3d(r.rates, d->split[ND_VALID].truth, d->split[ND_VALID].n, d->T, d->N);
    size_t n = (size_t)d->split[ND_VALID].n * d->T * d->N;
    float *sm = malloc(sizeof(float) * n);
    double best_smooth = -1e9;
    for (double sig = 1; sig <= 4; sig += 0.5) { /* the best smoothing kernel, chosen with the truth */
        nd_smooth_gaussian(sm, d->split[ND_VALID].counts, d->split[ND_VALID].n, d->T, d->N, sig);
        double v = nd_r2_score_3d(sm, d->split[ND_VALID].truth, d->split[ND_VALID].n, d->T, d->N);
        if (v > best_smooth) best_smooth = v;
    }
    printf("    valid rate R^2: LFADS %.3f, best Gaussian smoothing %.3f (%d epochs, best %d)\n", r2, best_smooth,
           res.epochs_run, res.best_epoch + 1);
    CHECK(ctx, r2 > best_smooth + 0.1, "LFADS R^2 %.3f does not beat smoothing %.3f by 0.1", r2, best_smooth);
    CHECK(ctx, r2 > 0.6, "LFADS R^2 %.3f", r2);
    free(sm);
    nd_lfads_result_free(&r);
    nd_lfads_free(&m);
    nd_synth_free(&s);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0) printf("    note: could not remove %s\n", dir);
}

int main(void) {
    RUN(test_small_lorenz_recovery);
    TEST_MAIN_END();
}
