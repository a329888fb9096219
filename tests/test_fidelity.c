/* Issue 16, finding 4: the departures from lfads-torch that were closed, each against an independent
 * computation, with the legacy behaviour still reachable by its key, and checkpoints written before the change
 * still loading (a Gaussian-prior model without the learned prior mean keeps its parameter layout). */
#include "test.h"
#include "../src/neurodyn_internal.h"
#include <stdlib.h>

static char dir[256];

static void small_cfg(nd_lfads_config *c, int ctrl) {
    nd_lfads_config_default(c);
    c->gen_dim = 9; c->ic_enc_dim = 6; c->ic_dim = 4; c->fac_dim = 5;
    c->con_dim = ctrl ? 7 : 0; c->co_dim = ctrl ? 3 : 0; c->ci_enc_dim = ctrl ? 4 : 0;
}

/* variance of n values about 0 */
static double var0(const real *w, size_t n) {
    double s = 0;
    for (size_t i = 0; i < n; i++) s += (double)w[i] * w[i];
    return s / (double)n;
}

/* encoder GRUs: N(0, 1/(I+H)) for both kernels (lfads-torch); generator / controller N(0, 1/fan_in) */
static void test_encoder_init(nd_test_ctx *ctx) {
    nd_lfads_config c;
    small_cfg(&c, 1);
    c.ic_enc_dim = 60; c.ci_enc_dim = 50; c.gen_dim = 70;
    const int N = 40;
    for (int leg = 0; leg <= 1; leg++) {
        c.enc_init_legacy = leg;
        nd_lfads_model m;
        nd_error err;
        CHECK(ctx, nd_lfads_create(&m, &c, N, 0, &err) == ND_OK, "%s", err.msg);
        nd_lfads_init(&m, 3, NULL);
        const nd_lfads_views *v = &m.p;
        double wx = var0(v->ic_f.Wx, (size_t)N * 3 * 60), u = var0(v->ic_b.Un, 60 * 60);
        double cwx = var0(v->ci_b.Wx, (size_t)N * 3 * 50), cu = var0(v->ci_f.Uzr, 50 * 100);
        double ewx = leg ? 1.0 / N : 1.0 / (N + 60), eu = leg ? 1.0 / 60 : 1.0 / (N + 60);
        double ecwx = leg ? 1.0 / N : 1.0 / (N + 50), ecu = leg ? 1.0 / 50 : 1.0 / (N + 50);
        /* 7200 / 3600 / 6000 / 5000 draws: relative SD of a variance estimate <= 2.4%; allow 10% */
        CHECK(ctx, fabs(wx / ewx - 1) < 0.1 && fabs(u / eu - 1) < 0.1, "legacy %d: IC encoder var %.4g %.4g, want %.4g "
              "%.4g", leg, wx, u, ewx, eu);
        CHECK(ctx, fabs(cwx / ecwx - 1) < 0.1 && fabs(cu / ecu - 1) < 0.1, "legacy %d: CI encoder var %.4g %.4g, want "
              "%.4g %.4g", leg, cwx, cu, ecwx, ecu);
        double gu = var0(v->gen.Uzr, 70 * 140);
        CHECK(ctx, fabs(gu * 70 - 1) < 0.1, "generator recurrent var %.4g, want %.4g", gu, 1.0 / 70);
        nd_lfads_free(&m);
    }
}

typedef struct {
    nd_lfads_model m;
    nd_lfads_work *w;
    real *X, *EXT, *SV;
    int T, B, N, E;
} fixture;

static int fx_make(nd_test_ctx *ctx, fixture *f, const nd_lfads_config *c, int E, int with_sv) {
    memset(f, 0, sizeof *f);
    f->T = 8; f->B = 5; f->N = 6; f->E = E;
    nd_error err;
    if (nd_lfads_create(&f->m, c, f->N, E, &err)) { CHECK(ctx, 0, "%s", err.msg); return 0; }
    nd_lfads_init(&f->m, 11, NULL);
    nd_rng r;
    nd_rng_seed(&r, 5);
    for (size_t i = 0; i < f->m.n_params; i++) f->m.params[i] += (real)(0.1 * nd_rng_normal(&r));
    if (nd_lfads_work_create(&f->w, &f->m, f->B, f->T, &err)) { CHECK(ctx, 0, "%s", err.msg); return 0; }
    size_t n = (size_t)f->T * f->B * f->N;
    f->X = calloc(n, sizeof(real));
    f->SV = calloc(n, sizeof(real));
    f->EXT = calloc((size_t)f->T * f->B * (E + 1), sizeof(real));
    for (size_t i = 0; i < n; i++) {
        f->X[i] = (real)nd_rng_poisson(&r, 1.3);
        f->SV[i] = with_sv && nd_rng_uniform(&r) < 0.25;
    }
    for (size_t i = 0; i < (size_t)f->T * f->B * E; i++) f->EXT[i] = (real)(1 + nd_rng_uniform(&r));
    return 1;
}

static void fx_free(fixture *f) {
    nd_lfads_work_free(f->w);
    nd_lfads_free(&f->m);
    free(f->X); free(f->EXT); free(f->SV);
}

static void fx_forward(fixture *f, int dropout, int with_sv, nd_lfads_loss *L) {
    nd_rng r;
    nd_rng_seed(&r, 77);
    nd_lfads_mode mode = {1, dropout, 1, 1, 0};
    nd_lfads_forward(&f->m, f->w, f->X, f->E ? f->EXT : NULL, with_sv ? f->SV : NULL, f->B, &mode, &r, L);
}

/* lfads-torch pools the L2 normalisation over the penalised kernels: (s_g 0.5|U_g|^2 + s_c 0.5|U_c|^2) / (n_g + n_c) */
static void test_l2_pooled(nd_test_ctx *ctx) {
    nd_lfads_config c;
    small_cfg(&c, 1);
    c.l2_gen_scale = 3; c.l2_con_scale = 2;
    for (int pooled = 1; pooled >= 0; pooled--) {
        c.l2_pooled = pooled;
        fixture f;
        if (!fx_make(ctx, &f, &c, 0, 0)) return;
        nd_lfads_loss L;
        fx_forward(&f, 0, 0, &L);
        size_t ng = 3 * 9 * 9, nc = 3 * 7 * 7;
        double sg = 0, sc = 0;
        for (size_t i = 0; i < ng; i++) sg += (double)f.m.p.gen.Uzr[i] * f.m.p.gen.Uzr[i];
        for (size_t i = 0; i < nc; i++) sc += (double)f.m.p.con.Uzr[i] * f.m.p.con.Uzr[i];
        double want = pooled ? (3 * 0.5 * sg + 2 * 0.5 * sc) / (double)(ng + nc) : 3 * 0.5 * sg / ng + 2 * 0.5 * sc / nc;
        CHECK(ctx, fabs(L.l2 - want) < 1e-5 * want, "l2_pooled %d: l2 %.8g, want %.8g", pooled, L.l2, want);
        fx_free(&f);
    }
    /* only the generator penalised: pooling changes nothing */
    c.l2_con_scale = 0;
    double l2[2];
    for (int pooled = 0; pooled <= 1; pooled++) {
        c.l2_pooled = pooled;
        fixture f;
        if (!fx_make(ctx, &f, &c, 0, 0)) return;
        nd_lfads_loss L;
        fx_forward(&f, 0, 0, &L);
        l2[pooled] = L.l2;
        fx_free(&f);
    }
    CHECK(ctx, l2[0] == l2[1], "generator only: %.9g vs %.9g", l2[0], l2[1]);
}

/* Gaussian inferred-input prior: KL = sum over steps and dims of KL(N(mu, e^lv) || N(m_p, v_p)) with a learned
 * m_p; the legacy key keeps the sampled KL against N(0, v_p) and the old parameter count */
static void test_co_prior_analytic(nd_test_ctx *ctx) {
    nd_lfads_config c;
    small_cfg(&c, 1);
    c.co_prior_ar1 = 0; c.co_prior_var = 0.3;
    fixture f;
    if (!fx_make(ctx, &f, &c, 0, 0)) return;
    const nd_lfads_views *v = &f.m.p;
    CHECK(ctx, v->co_prior_mean != NULL, "no prior-mean slot");
    if (!v->co_prior_mean) { fx_free(&f); return; }
    for (int k = 0; k < 3; k++) v->co_prior_mean[k] = (real)(0.2 * k - 0.1);
    nd_lfads_loss L;
    fx_forward(&f, 0, 0, &L);
    nd_lfads_outputs o;
    nd_lfads_outputs_get(&f.m, f.w, &o);
    double kl = 0;
    for (int i = 0; i < f.T * f.B; i++)
        for (int k = 0; k < 3; k++) {
            double mu = o.co_mean[(size_t)i * 3 + k], var = exp((double)o.co_logvar[(size_t)i * 3 + k]);
            double d = mu - v->co_prior_mean[k];
            kl += 0.5 * (log(0.3 / var) + (var + d * d) / 0.3 - 1);
        }
    kl /= f.B;
    CHECK(ctx, fabs(L.kl_co - kl) < 1e-5 * fabs(kl), "analytic KL %.8g, want %.8g", L.kl_co, kl);
    size_t n_new = f.m.n_params;
    fx_free(&f);
    c.co_prior_analytic = 0;
    if (!fx_make(ctx, &f, &c, 0, 0)) return;
    CHECK(ctx, f.m.p.co_prior_mean == NULL && f.m.n_params == n_new - 3, "legacy: %zu params (new %zu)",
          f.m.n_params, n_new);
    fx_forward(&f, 0, 0, &L);
    nd_lfads_outputs_get(&f.m, f.w, &o);
    /* the legacy KL is the one-sample estimate at u = mu + sd eps (eps drawn: mode.sample = 1), which differs from
     * the analytic value against the fixed mean 0 at the same posterior */
    kl = 0;
    for (int i = 0; i < f.T * f.B; i++)
        for (int k = 0; k < 3; k++) {
            double mu = o.co_mean[(size_t)i * 3 + k], var = exp((double)o.co_logvar[(size_t)i * 3 + k]);
            kl += 0.5 * (log(0.3 / var) + (var + mu * mu) / 0.3 - 1);
        }
    kl /= f.B;
    CHECK(ctx, fabs(L.kl_co - kl) > 1e-3 * fabs(kl), "legacy KL %.8g equals the analytic %.8g", L.kl_co, kl);
    fx_free(&f);
}

/* sample validation: kept entries' loss x 1/(1 - sv_rate), held-out entries' x 1/sv_rate (lfads-torch) */
static void test_sv_rescale(nd_test_ctx *ctx) {
    nd_lfads_config c;
    small_cfg(&c, 0);
    c.sv_rate = 0.25;
    nd_lfads_loss L[2];
    for (int on = 0; on <= 1; on++) {
        c.sv_rescale = on;
        fixture f;
        if (!fx_make(ctx, &f, &c, 0, 1)) return;
        fx_forward(&f, 0, 1, &L[on]);
        fx_free(&f);
    }
    CHECK(ctx, L[0].recon > 0 && L[0].recon_sv > 0, "recon %g sv %g", L[0].recon, L[0].recon_sv);
    CHECK(ctx, fabs(L[1].recon - L[0].recon / 0.75) < 1e-5 * L[1].recon, "kept: %.8g vs %.8g / 0.75", L[1].recon,
          L[0].recon);
    CHECK(ctx, fabs(L[1].recon_sv - L[0].recon_sv / 0.25) < 1e-5 * L[1].recon_sv, "held out: %.8g vs %.8g / 0.25",
          L[1].recon_sv, L[0].recon_sv);
}

/* external inputs get dropout (lfads-torch): the generator's ext inputs are 0 or ext / (1 - p) */
static void test_ext_dropout(nd_test_ctx *ctx) {
    nd_lfads_config c;
    small_cfg(&c, 0);
    c.dropout_rate = 0.4;
    for (int on = 0; on <= 1; on++) {
        c.ext_input_dropout = on;
        fixture f;
        if (!fx_make(ctx, &f, &c, 2, 0)) return;
        nd_lfads_loss L;
        fx_forward(&f, 1, 0, &L);
        nd_lfads_outputs o;
        nd_lfads_outputs_get(&f.m, f.w, &o);
        size_t n = (size_t)f.T * f.B * 2, zeros = 0, bad = 0;
        for (size_t i = 0; i < n; i++) {
            double g = o.gen_inputs[i], e = f.EXT[i];
            if (g == 0) zeros++;
            else if (fabs(g - (on ? e / 0.6 : e)) > 1e-5) bad++;
        }
        CHECK(ctx, bad == 0, "ext_input_dropout %d: %zu inputs neither dropped nor scaled", on, bad);
        if (on) CHECK(ctx, zeros > n / 4 && zeros < n * 11 / 20, "%zu of %zu dropped (p = 0.4)", zeros, n);
        else CHECK(ctx, zeros == 0, "%zu dropped without ext_input_dropout", zeros);
        /* inference (dropout off): inputs untouched */
        fx_forward(&f, 0, 0, &L);
        nd_lfads_outputs_get(&f.m, f.w, &o);
        bad = 0;
        for (size_t i = 0; i < n; i++) bad += o.gen_inputs[i] != f.EXT[i];
        CHECK(ctx, bad == 0, "%zu inputs changed with dropout off", bad);
        fx_free(&f);
    }
}

/* A checkpoint written before these keys existed (its config lacks them): loads, with the legacy behaviour, and a
 * Gaussian-prior model keeps its layout without a prior-mean slot. */
static void test_old_checkpoint(nd_test_ctx *ctx) {
    nd_lfads_config c;
    small_cfg(&c, 1);
    c.co_prior_ar1 = 0;
    c.co_prior_analytic = 0; /* the old layout */
    nd_lfads_model m;
    nd_error err;
    if (nd_lfads_create(&m, &c, 6, 0, &err)) { CHECK(ctx, 0, "%s", err.msg); return; }
    nd_lfads_init(&m, 1, NULL);
    char *full = nd_lfads_config_to_text(&c), *old = calloc(strlen(full) + 1, 1);
    static const char *gone[] = {"co_prior_analytic", "enc_init_legacy", "ext_input_dropout", "l2_pooled", "sv_rescale"};
    for (const char *p = full; *p;) {
        size_t len = strcspn(p, "\n") + (p[strcspn(p, "\n")] ? 1 : 0);
        int drop = 0;
        for (int k = 0; k < 5; k++) drop |= !strncmp(p, gone[k], strlen(gone[k]));
        if (!drop) strncat(old, p, len);
        p += len;
    }
    CHECK(ctx, !strstr(old, "l2_pooled") && strstr(old, "co_prior_ar1"), "config filter");
    float *pf = malloc(sizeof(float) * m.n_params);
    for (size_t i = 0; i < m.n_params; i++) pf[i] = (float)m.params[i];
    int32_t d[7] = {6, 8, 0, 10, 4, 6, 8};
    nd_ckpt_section s[] = {{"config", old, strlen(old) + 1}, {"dims", d, sizeof d},
                           {"params", pf, sizeof(float) * m.n_params}};
    char path[300], path2[300];
    snprintf(path, sizeof path, "%s/old.ckpt", dir);
    CHECK(ctx, nd_ckpt_write(path, s, 3, &err) == ND_OK, "%s", err.msg);
    nd_lfads_model l;
    int dims[3];
    memset(&l, 0, sizeof l);
    CHECK(ctx, nd_lfads_load(path, &l, dims, &err) == ND_OK, "old checkpoint not read: %s", err.msg);
    if (l.params) {
        CHECK(ctx, l.n_params == m.n_params && !l.p.co_prior_mean, "%zu params, want %zu", l.n_params, m.n_params);
        CHECK(ctx, !l.cfg.co_prior_analytic && l.cfg.enc_init_legacy && !l.cfg.ext_input_dropout && !l.cfg.l2_pooled &&
              !l.cfg.sv_rescale, "legacy behaviour: %d %d %d %d %d", l.cfg.co_prior_analytic, l.cfg.enc_init_legacy,
              l.cfg.ext_input_dropout, l.cfg.l2_pooled, l.cfg.sv_rescale);
        CHECK(ctx, l.params[l.n_params - 1] == (real)pf[m.n_params - 1], "parameters");
        nd_lfads_free(&l);
    }
    /* the same parameters under a config that asks for the learned mean: refused with a one-line message */
    snprintf(path2, sizeof path2, "%s/mismatch.ckpt", dir);
    nd_lfads_config c2 = c;
    c2.co_prior_analytic = 1;
    char *newer = nd_lfads_config_to_text(&c2);
    s[0] = (nd_ckpt_section){"config", newer, strlen(newer) + 1};
    CHECK(ctx, nd_ckpt_write(path2, s, 3, &err) == ND_OK, "%s", err.msg);
    memset(&l, 0, sizeof l);
    nd_status st = nd_lfads_load(path2, &l, dims, &err);
    CHECK(ctx, st != ND_OK && strstr(err.msg, "params") && !strchr(err.msg, '\n'), "status %d: %s", st, err.msg);
    if (!st) nd_lfads_free(&l);
    free(newer); free(full); free(old); free(pf);
    nd_lfads_free(&m);
}

int main(void) {
    if (!nd_test_scratch(dir, sizeof dir, "nd_fid_")) return 1;
    RUN(test_encoder_init);
    RUN(test_l2_pooled);
    RUN(test_co_prior_analytic);
    RUN(test_sv_rescale);
    RUN(test_ext_dropout);
    RUN(test_old_checkpoint);
    nd_test_scratch_remove(dir);
    TEST_MAIN_END();
}
