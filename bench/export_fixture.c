/* Writes a fixed LFADS model, a fixed batch, and neurodyn's loss and gradient on it, for
 * bench/torch_lfads.py --check (which must compute the same loss with the same weights).
 * Dropout and posterior sampling are off, so the forward pass has no random draws.
 * Usage: export_fixture DIR T N B [THREADS] (OpenMP threads; BLAS single-threaded, as in training). Writes DIR/manifest.txt (sizes, loss terms, and the offset and
 * length of every named parameter view), DIR/params.f64, DIR/x.f64 ([T][B][N]) and DIR/grad.f64,
 * all float64 little-endian whatever the precision of the build. */
#include "../src/neurodyn_internal.h"
#include "../src/core/blas.h"
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int write_f64(const char *dir, const char *name, const real *a, size_t n) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f) { perror(path); return 1; }
    for (size_t i = 0; i < n; i++) {
        double v = a[i];
        if (fwrite(&v, sizeof v, 1, f) != 1) { perror(path); fclose(f); return 1; }
    }
    return fclose(f) != 0;
}

static void view(FILE *f, const char *name, const real *p, const real *base, size_t n) {
    if (p) fprintf(f, "view %s %zu %zu\n", name, (size_t)(p - base), n);
}

static void gru_views(FILE *f, const char *name, const gru_params *g, const real *base, int I, int H) {
    char s[64];
    snprintf(s, sizeof s, "%s.Wx", name); view(f, s, g->Wx, base, (size_t)I * 3 * H);
    snprintf(s, sizeof s, "%s.bx", name); view(f, s, g->bx, base, (size_t)3 * H);
    snprintf(s, sizeof s, "%s.Uzr", name); view(f, s, g->Uzr, base, (size_t)H * 2 * H);
    snprintf(s, sizeof s, "%s.Un", name); view(f, s, g->Un, base, (size_t)H * H);
}

int main(int argc, char **argv) {
    if (argc != 5 && argc != 6) { fprintf(stderr, "usage: export_fixture DIR T N B [THREADS]\n"); return 2; }
    omp_set_num_threads(argc == 6 ? atoi(argv[5]) : 1);
    nd_blas_set_threads(1);
    const char *dir = argv[1];
    int T = atoi(argv[2]), N = atoi(argv[3]), B = atoi(argv[4]);
    nd_lfads_config c;
    nd_lfads_config_default(&c);
    c.l2_con_scale = 3; /* exercise both L2 terms */
    nd_lfads_model m;
    nd_error err;
    if (nd_lfads_create(&m, &c, N, 0, &err)) { fprintf(stderr, "%s\n", err.msg); return 1; }
    nd_lfads_init(&m, 7, NULL);
    nd_rng r;
    nd_rng_seed(&r, 11);
    /* move every parameter off its initial value (biases, prior means, AR(1) parameters included) */
    for (size_t i = 0; i < m.n_params; i++) m.params[i] += (real)(0.05 * nd_rng_normal(&r));
    nd_lfads_work *w;
    if (nd_lfads_work_create(&w, &m, B, T, &err)) { fprintf(stderr, "%s\n", err.msg); return 1; }
    real *X = nd_alloc(sizeof(real) * T * B * N), *g = nd_alloc(sizeof(real) * m.n_params);
    for (size_t i = 0; i < (size_t)T * B * N; i++) X[i] = (real)nd_rng_poisson(&r, 0.4);
    nd_lfads_mode mode = {0, 0, 1, 1, 0};
    nd_lfads_loss L;
    nd_lfads_forward(&m, w, X, NULL, NULL, B, &mode, &r, &L);
    nd_lfads_backward(&m, w, g);

    char path[4096];
    snprintf(path, sizeof path, "%s/manifest.txt", dir);
    FILE *f = fopen(path, "w");
    if (!f) { perror(path); return 1; }
    fprintf(f, "real_bytes %zu\nT %d\nN %d\nB %d\nn_params %zu\n", sizeof(real), T, N, B, m.n_params);
    int I;
    const char *ik[] = {"gen_dim", "con_dim", "co_dim", "ic_enc_dim", "ci_enc_dim", "ci_lag", "ic_dim", "fac_dim"};
    const int iv[] = {c.gen_dim, c.con_dim, c.co_dim, c.ic_enc_dim, c.ci_enc_dim, c.ci_lag, c.ic_dim, c.fac_dim};
    for (I = 0; I < 8; I++) fprintf(f, "%s %d\n", ik[I], iv[I]);
    fprintf(f, "cell_clip %.17g\nic_post_var_min %.17g\nic_prior_var %.17g\nl2_gen_scale %.17g\n"
               "l2_con_scale %.17g\nkl_ic_scale %.17g\nkl_co_scale %.17g\n",
            c.cell_clip, c.ic_post_var_min, c.ic_prior_var, c.l2_gen_scale, c.l2_con_scale, c.kl_ic_scale,
            c.kl_co_scale);
    fprintf(f, "loss_recon %.17g\nloss_kl_ic %.17g\nloss_kl_co %.17g\nloss_l2 %.17g\nloss_total %.17g\n", L.recon,
            L.kl_ic, L.kl_co, L.l2, L.total);
    const nd_lfads_views *v = &m.p;
    const real *b0 = m.params;
    int Hic = c.ic_enc_dim, Hci = c.ci_enc_dim, C = c.con_dim, K = c.co_dim, G = c.gen_dim, F = c.fac_dim;
    int icd = c.ic_dim;
    gru_views(f, "ic_f", &v->ic_f, b0, N, Hic);
    gru_views(f, "ic_b", &v->ic_b, b0, N, Hic);
    view(f, "ic_h0_f", v->ic_h0_f, b0, Hic);
    view(f, "ic_h0_b", v->ic_h0_b, b0, Hic);
    view(f, "ic_W", v->ic_W, b0, (size_t)2 * Hic * 2 * icd);
    view(f, "ic_bias", v->ic_bias, b0, 2 * icd);
    view(f, "ic_prior_mean", v->ic_prior_mean, b0, icd);
    view(f, "g0_W", v->g0_W, b0, (size_t)icd * G);
    view(f, "g0_bias", v->g0_bias, b0, G);
    gru_views(f, "ci_f", &v->ci_f, b0, N, Hci);
    gru_views(f, "ci_b", &v->ci_b, b0, N, Hci);
    view(f, "ci_h0_f", v->ci_h0_f, b0, Hci);
    view(f, "ci_h0_b", v->ci_h0_b, b0, Hci);
    gru_views(f, "con", &v->con, b0, 2 * Hci + F, C);
    view(f, "con_h0", v->con_h0, b0, C);
    view(f, "co_W", v->co_W, b0, (size_t)C * 2 * K);
    view(f, "co_bias", v->co_bias, b0, 2 * K);
    view(f, "ar_logtau", v->ar_logtau, b0, K);
    view(f, "ar_lognvar", v->ar_lognvar, b0, K);
    gru_views(f, "gen", &v->gen, b0, K, G);
    view(f, "fac_W", v->fac_W, b0, (size_t)F * G);
    view(f, "ro_W", v->ro_W, b0, (size_t)F * N);
    view(f, "ro_bias", v->ro_bias, b0, N);
    int bad = fclose(f) != 0;
    bad |= write_f64(dir, "params.f64", m.params, m.n_params);
    bad |= write_f64(dir, "x.f64", X, (size_t)T * B * N);
    bad |= write_f64(dir, "grad.f64", g, m.n_params);
    printf("export_fixture: %s (%zu-byte reals): T %d N %d B %d, total loss %.10g\n", dir, sizeof(real), T, N, B,
           L.total);
    nd_free(X); nd_free(g);
    nd_lfads_work_free(w);
    nd_lfads_free(&m);
    return bad;
}
