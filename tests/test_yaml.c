/* lfads-torch model configs (YAML) carried over, and the lfads-torch loss units (recon_reduce_mean, loss_scale):
 * keys land where they should, unusable keys are listed, bad files fail with file + line, and the converted
 * objective and gradient equal neurodyn's with the scales multiplied out by hand. */
#define _GNU_SOURCE
#include "test.h"
#include "../src/models/lfads_yaml.h"
#include "../src/models/lfads.h"
#include "../src/core/mem.h"
#include <stdlib.h>

static void write_file(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    if (f) { fputs(text, f); fclose(f); }
}

/* A model config in lfads-torch's schema (values chosen for the test, not taken from any shipped config). */
static const char *model_yaml =
    "_target_: lfads_torch.model.LFADS\n"
    "encod_data_dim: 50\n"
    "encod_seq_len: 40\n"
    "recon_seq_len: 40\n"
    "ext_input_dim: 0\n"
    "ic_enc_seq_len: 0\n"
    "ic_enc_dim: 48\n"
    "ci_enc_dim: 32\n"
    "ci_lag: 2\n"
    "con_dim: 24\n"
    "co_dim: 3\n"
    "ic_dim: 40\n"
    "gen_dim: 96\n"
    "fac_dim: 20\n"
    "readin:\n"
    "  - _target_: torch.nn.Identity\n"
    "readout:\n"
    "  _target_: torch.nn.ModuleList\n"
    "  modules:\n"
    "    - _target_: lfads_torch.modules.readin_readout.FanInLinear\n"
    "      in_features: ${model.fac_dim}\n"
    "      out_features: 50\n"
    "train_aug_stack:\n"
    "  _target_: lfads_torch.modules.augmentations.AugmentationStack\n"
    "  transforms:\n"
    "    - _target_: lfads_torch.modules.augmentations.CoordinatedDropout\n"
    "      cd_rate: 0.25\n"
    "      cd_pass_rate: 0.0\n"
    "      ic_enc_seq_len: ${model.ic_enc_seq_len}\n"
    "  batch_order: [0]\n"
    "  loss_order: [0]\n"
    "infer_aug_stack:\n"
    "  _target_: lfads_torch.modules.augmentations.AugmentationStack\n"
    "reconstruction:\n"
    "  - _target_: lfads_torch.modules.recons.Poisson\n"
    "variational: True\n"
    "co_prior:\n"
    "  _target_: lfads_torch.modules.priors.AutoregressiveMultivariateNormal\n"
    "  tau: 8.0\n"
    "  nvar: 0.05\n"
    "  shape: ${model.co_dim}\n"
    "ic_prior:\n"
    "  _target_: lfads_torch.modules.priors.MultivariateNormal\n"
    "  mean: 0\n"
    "  variance: 0.2\n"
    "  shape: ${model.ic_dim}\n"
    "ic_post_var_min: 2.0e-4\n"
    "dropout_rate: 0.15\n"
    "cell_clip: 4.0\n"
    "loss_scale: 1.0e+4\n"
    "recon_reduce_mean: True\n"
    "lr_init: 3.0e-3\n"
    "lr_stop: 1.0e-5\n"
    "lr_decay: 0.9\n"
    "lr_patience: 5\n"
    "lr_adam_beta1: 0.9\n"
    "lr_adam_beta2: 0.99\n"
    "lr_adam_epsilon: 1.0e-7\n"
    "lr_scheduler: True\n"
    "weight_decay: 0.001\n"
    "l2_start_epoch: 0\n"
    "l2_increase_epoch: 70\n"
    "l2_ic_enc_scale: 0.0\n"
    "l2_ci_enc_scale: 0.0\n"
    "l2_gen_scale: 2.0e-4\n"
    "l2_con_scale: 0.0\n"
    "kl_start_epoch: 0\n"
    "kl_increase_epoch: 70\n"
    "kl_ic_scale: 3.0e-6\n"
    "kl_co_scale: 4.0e-6\n"
    "some_new_key: 3\n";

static void test_model_yaml(nd_test_ctx *ctx) {
    char dir[256], path[320];
    if (!nd_test_scratch(dir, sizeof dir, "nd_yaml")) SKIP(ctx, "no scratch dir");
    snprintf(path, sizeof path, "%s/model.yaml", dir);
    write_file(path, model_yaml);
    nd_lfads_config c;
    nd_lfads_config_default(&c);
    char *notes = NULL;
    nd_error err;
    nd_status st = nd_lfads_config_load_torch_yaml(&c, path, &notes, &err);
    CHECK(ctx, st == ND_OK, "%s", err.msg);
    CHECK(ctx, c.gen_dim == 96 && c.con_dim == 24 && c.co_dim == 3 && c.ic_dim == 40 && c.fac_dim == 20 &&
                   c.ic_enc_dim == 48 && c.ci_enc_dim == 32 && c.ci_lag == 2, "architecture not carried over");
    CHECK(ctx, c.cd_rate == 0.25 && c.dropout_rate == 0.15 && c.cell_clip == 4.0 && c.ic_post_var_min == 2e-4,
          "cd %g dropout %g clip %g", c.cd_rate, c.dropout_rate, c.cell_clip);
    CHECK(ctx, c.co_prior_ar1 == 1 && c.ar_tau_init == 8.0 && c.ar_nvar_init == 0.05 && c.ic_prior_var == 0.2,
          "priors: ar1 %d tau %g nvar %g ic var %g", c.co_prior_ar1, c.ar_tau_init, c.ar_nvar_init, c.ic_prior_var);
    CHECK(ctx, c.recon_reduce_mean == 1 && c.loss_scale == 1e4, "reduce_mean %d loss_scale %g", c.recon_reduce_mean,
          c.loss_scale);
    CHECK(ctx, c.kl_ic_scale == 3e-6 && c.kl_co_scale == 4e-6 && c.l2_gen_scale == 2e-4 && c.l2_con_scale == 0,
          "scales must stay in lfads-torch units: kl_ic %g", c.kl_ic_scale);
    CHECK(ctx, c.lr_init == 3e-3 && c.lr_decay == 0.9 && c.lr_patience == 5 && c.adam_beta2 == 0.99 &&
                   c.adam_epsilon == 1e-7 && c.kl_increase_epoch == 70 && c.l2_increase_epoch == 70,
          "optimiser keys not carried over");
    CHECK(ctx, notes && strstr(notes, "weight_decay") && strstr(notes, "some_new_key"), "notes: %s",
          notes ? notes : "(none)");
    CHECK(ctx, notes && !strstr(notes, "encod_data_dim") && !strstr(notes, "readout") && !strstr(notes, "gen_dim"),
          "keys taken from the data or carried over must not be listed: %s", notes ? notes : "");
    free(notes);
    nd_test_scratch_remove(dir);
}

static void test_composed_and_scheduler(nd_test_ctx *ctx) {
    char dir[256], path[320];
    if (!nd_test_scratch(dir, sizeof dir, "nd_yaml")) SKIP(ctx, "no scratch dir");
    snprintf(path, sizeof path, "%s/run.yml", dir);
    write_file(path, "datamodule:\n  batch_size: 64\nmodel:\n  gen_dim: 33\n  lr_scheduler: False\n"
                     "  co_prior:\n    _target_: lfads_torch.modules.priors.MultivariateNormal\n    mean: 0\n"
                     "    variance: 0.3\n    shape: 4\n");
    nd_lfads_config c;
    nd_lfads_config_default(&c);
    c.con_dim = 17; /* keys absent from the file keep what was there */
    char *notes = NULL;
    nd_error err;
    CHECK(ctx, nd_lfads_config_is_yaml(path) && !nd_lfads_config_is_yaml("config.txt"), "extension test");
    CHECK(ctx, nd_lfads_config_load_torch_yaml(&c, path, &notes, &err) == ND_OK, "%s", err.msg);
    CHECK(ctx, c.gen_dim == 33 && c.con_dim == 17, "gen %d con %d", c.gen_dim, c.con_dim);
    CHECK(ctx, c.lr_decay == 1.0, "lr_scheduler False must keep the learning rate constant (lr_decay %g)", c.lr_decay);
    CHECK(ctx, c.co_prior_ar1 == 0 && c.co_prior_var == 0.3, "Gaussian co prior: ar1 %d var %g", c.co_prior_ar1,
          c.co_prior_var);
    free(notes);
    nd_test_scratch_remove(dir);
}

/* each bad file: the error names the file and the line (where there is one) */
static void test_bad_files(nd_test_ctx *ctx) {
    static const struct { const char *text, *want; } cases[] = {
        {"gen_dim: 64\nfac_dim: [1, 2\n", "line"},
        {"gen_dim: sixty\n", "line 1"},
        {"kl_ic_scale: 1e-6\ngen_dim: ${model.other}\n", "line 2"},
        {"gen_dim: 0\n", "gen_dim"},
        {"- a\n- b\n", "mapping"},
        {"reconstruction:\n  - _target_: lfads_torch.modules.recons.Bernoulli\n", "Bernoulli"},
    };
    char dir[256], path[320];
    if (!nd_test_scratch(dir, sizeof dir, "nd_yaml")) SKIP(ctx, "no scratch dir");
    snprintf(path, sizeof path, "%s/bad.yaml", dir);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        write_file(path, cases[i].text);
        nd_lfads_config c;
        nd_lfads_config_default(&c);
        nd_error err = {0};
        char *notes = NULL;
        nd_status st = nd_lfads_config_load_torch_yaml(&c, path, &notes, &err);
        CHECK(ctx, st != ND_OK, "case %zu accepted", i);
        CHECK(ctx, strstr(err.msg, "bad.yaml") && strstr(err.msg, cases[i].want), "case %zu: '%s' lacks '%s'", i,
              err.msg, cases[i].want);
        CHECK(ctx, !strchr(err.msg, '\n'), "case %zu: message is not one line", i);
        free(notes);
    }
    nd_lfads_config c;
    nd_lfads_config_default(&c);
    nd_error err;
    CHECK(ctx, nd_lfads_config_load_torch_yaml(&c, "/nonexistent.yaml", NULL, &err) == ND_ERR_IO, "missing file");
    nd_test_scratch_remove(dir);
}

/* The lfads-torch objective (recon_reduce_mean = 1) is neurodyn's with kl x E and l2 x E x n_gen / n_pooled:
 * forward losses and gradients agree with a config where those factors were applied by hand (l2_pooled = 0). */
static void test_reduce_mean_equivalence(nd_test_ctx *ctx) {
    const int N = 5, Nr = 7, T = 6, Tr = 8, B = 4;
    nd_lfads_config a;
    nd_lfads_config_default(&a);
    a.gen_dim = 9; a.ic_enc_dim = 6; a.ic_dim = 5; a.fac_dim = 4; a.con_dim = 5; a.co_dim = 2; a.ci_enc_dim = 4;
    a.recon_reduce_mean = 1; a.kl_ic_scale = 1e-3; a.kl_co_scale = 2e-3; a.l2_gen_scale = 0.5; a.l2_con_scale = 0.25;
    nd_lfads_config b = a;
    const double E = (double)Tr * Nr, ng = 3.0 * 9 * 9, nc = 3.0 * 5 * 5;
    b.recon_reduce_mean = 0; b.kl_ic_scale *= E; b.kl_co_scale *= E;
    b.l2_pooled = 0; /* the pooling factors applied by hand below */
    b.l2_gen_scale *= E * ng / (ng + nc); b.l2_con_scale *= E * nc / (ng + nc);
    nd_lfads_scales s;
    nd_lfads_effective_scales(&a, 1, (int64_t)E, &s);
    CHECK(ctx, fabs(s.grad_scale - 1.0 / E) < 1e-15 && fabs(s.kl_ic - b.kl_ic_scale) < 1e-12,
          "grad scale %g kl_ic %g", s.grad_scale, s.kl_ic);
    nd_lfads_effective_scales(&b, 1, (int64_t)E, &s);
    CHECK(ctx, s.kl_ic == b.kl_ic_scale && s.l2_gen == b.l2_gen_scale && s.grad_scale == 1.0,
          "recon_reduce_mean = 0 must leave the scales as they are");
    nd_lfads_model ma, mb;
    nd_error err;
    CHECK(ctx, nd_lfads_create_heldout(&ma, &a, N, Nr, 0, &err) == ND_OK, "%s", err.msg);
    CHECK(ctx, nd_lfads_create_heldout(&mb, &b, N, Nr, 0, &err) == ND_OK, "%s", err.msg);
    float rate[7] = {0.5f, 1, 2, 0.2f, 1.5f, 0.7f, 1.1f};
    nd_lfads_init(&ma, 3, rate);
    nd_lfads_init(&mb, 3, rate);
    nd_lfads_work *wa, *wb;
    CHECK(ctx, nd_lfads_work_create2(&wa, &ma, B, T, Tr, &err) == ND_OK, "%s", err.msg);
    CHECK(ctx, nd_lfads_work_create2(&wb, &mb, B, T, Tr, &err) == ND_OK, "%s", err.msg);
    real *XR = nd_alloc(sizeof(real) * Tr * B * Nr), *X = nd_alloc(sizeof(real) * T * B * N);
    nd_rng r;
    nd_rng_seed(&r, 5);
    for (int i = 0; i < Tr * B * Nr; i++) XR[i] = (real)nd_rng_poisson(&r, 1.0);
    for (int t = 0; t < T; t++)
        for (int k = 0; k < B; k++)
            for (int n = 0; n < N; n++) X[((size_t)t * B + k) * N + n] = XR[((size_t)t * B + k) * Nr + n];
    nd_lfads_mode mode = {1, 1, 0.6, 0.8, 0};
    nd_lfads_loss La, Lb;
    nd_rng ra, rb;
    nd_rng_seed(&ra, 9);
    nd_rng_seed(&rb, 9);
    nd_lfads_forward_recon(&ma, wa, X, XR, NULL, NULL, B, &mode, &ra, &La);
    nd_lfads_forward_recon(&mb, wb, X, XR, NULL, NULL, B, &mode, &rb, &Lb);
    CHECK(ctx, fabs(La.total - Lb.total) < 1e-5 * fabs(Lb.total), "total %.9g vs %.9g", La.total, Lb.total);
    CHECK(ctx, fabs(La.l2 - Lb.l2) < 1e-5 * fabs(Lb.l2) && Lb.l2 > 0, "l2 %.9g vs %.9g", La.l2, Lb.l2);
    real *ga = nd_alloc(sizeof(real) * ma.n_params), *gb = nd_alloc(sizeof(real) * mb.n_params);
    memset(ga, 0, sizeof(real) * ma.n_params);
    memset(gb, 0, sizeof(real) * mb.n_params);
    nd_lfads_backward(&ma, wa, ga);
    nd_lfads_backward(&mb, wb, gb);
    double maxd = 0, maxg = 0;
    for (size_t i = 0; i < ma.n_params; i++) {
        maxd = fmax(maxd, fabs((double)ga[i] - gb[i]));
        maxg = fmax(maxg, fabs((double)gb[i]));
    }
    CHECK(ctx, maxd <= 1e-5 * maxg, "gradients differ by %.3g (max %.3g)", maxd, maxg);
    nd_free(ga); nd_free(gb); nd_free(XR); nd_free(X);
    nd_lfads_work_free(wa); nd_lfads_work_free(wb);
    nd_lfads_free(&ma); nd_lfads_free(&mb);
}

int main(void) {
    RUN(test_model_yaml);
    RUN(test_composed_and_scheduler);
    RUN(test_bad_files);
    RUN(test_reduce_mean_equivalence);
    TEST_MAIN_END();
}
