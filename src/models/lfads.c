/* LFADS forward and backward over a mini-batch. See lfads.h and docs/model.md.
 * Time-major layout: a [T][B][D] array holds step t at offset t*B*D.
 * Arrays with T+1 slots (generator states, factors, controller states) keep the
 * initial value in slot 0 and step t's value in slot t+1. */
#include "lfads.h"
#include "../core/blas.h"
#include "../core/mem.h"
#include <string.h>

struct nd_lfads_work {
    int Bmax, T, Tr, B;   /* T: encoder bins; Tr >= T: generator / reconstruction bins */
    nd_lfads_mode mode;
    const real *X, *XR, *EXT, *SV;
    nd_lfads_loss loss;
    /* encoder input mask [T][B][N]; encoder input [Tr][B][N] (zero past T, seen by the CI encoder);
     * loss weights / gradient mask / sample-validation entries over the reconstruction [Tr][B][Nr] */
    real *m_in, *Xenc, *gmask, *wmask, *svw;
    /* IC encoder */
    gru_seq_acts icf, icb;
    real *hic, *m_hic, *hic_d, *icp, *IC_MU, *IC_LV, *eps_ic, *z0;
    /* CI encoder and controller */
    gru_seq_acts cif, cib;
    real *CI, *m_ci, *CId, *CXP;
    real *Cs, *Zc, *Rc, *Nc, *m_fc, *FCd, *co, *UMU, *ULV, *eps_u, *U;
    /* generator, factors, rates */
    real *GI, *Gs, *Zg, *Rg, *Ng, *m_g, *Gd, *F, *LR, *Wn, *norms, *xp;
    /* backward */
    real *dLR, *dF, *dU, *dUMU, *dULV, *dWn, *dg, *dgp, *dc, *dcp, *dgxp, *dGI, *dCXP, *dFCd, *dco;
    real *dz0, *dICMU, *dICLV, *dicp, *dhic, *dhic_d, *dHs1, *dHs2, *dCI, *tmpBG;
    real *scratch;
    real *block;
};

/* Counts in size_t (a config or checkpoint can make F * G exceed INT_MAX: fuzz/FINDINGS.md, bug 4);
 * the sums of sizes passed to gru_* as int stay small because nd_lfads_config_check bounds every
 * layer size by ND_LFADS_MAX_DIM and the loaders bound N, Nr, E. */
size_t nd_lfads_bind(nd_lfads_views *v, real *base, const nd_lfads_config *c, int N, int Nr, int E) {
    real *p = base;
    size_t n = 0;
#define TAKE(ptr, count) do { (ptr) = p ? p + n : NULL; n += (size_t)(count); } while (0)
#define TAKE_GRU(g, I, H) do { if (p) gru_bind(&(g), p + n, I, H); else memset(&(g), 0, sizeof(g)); \
                               n += gru_num_params(I, H); } while (0)
    int ctrl = nd_lfads_controller_on(c);
    int Hic = c->ic_enc_dim, icd = c->ic_dim, G = c->gen_dim, F = c->fac_dim;
    int Hci = ctrl ? c->ci_enc_dim : 0, C = ctrl ? c->con_dim : 0, K = ctrl ? c->co_dim : 0;
    memset(v, 0, sizeof *v);
    TAKE_GRU(v->ic_f, N, Hic);
    TAKE_GRU(v->ic_b, N, Hic);
    TAKE(v->ic_h0_f, Hic);
    TAKE(v->ic_h0_b, Hic);
    TAKE(v->ic_W, (size_t)2 * Hic * 2 * icd);
    TAKE(v->ic_bias, (size_t)2 * icd);
    TAKE(v->ic_prior_mean, icd);
    TAKE(v->g0_W, (size_t)icd * G);
    TAKE(v->g0_bias, G);
    if (ctrl) {
        TAKE_GRU(v->ci_f, N, Hci);
        TAKE_GRU(v->ci_b, N, Hci);
        TAKE(v->ci_h0_f, Hci);
        TAKE(v->ci_h0_b, Hci);
        TAKE_GRU(v->con, 2 * Hci + F, C);
        TAKE(v->con_h0, C);
        TAKE(v->co_W, (size_t)C * 2 * K);
        TAKE(v->co_bias, (size_t)2 * K);
        TAKE(v->ar_logtau, K);
        TAKE(v->ar_lognvar, K);
    }
    TAKE_GRU(v->gen, K + E, G);
    TAKE(v->fac_W, (size_t)F * G);
    TAKE(v->ro_W, (size_t)F * Nr);
    TAKE(v->ro_bias, Nr);
#undef TAKE
#undef TAKE_GRU
    return n;
}

nd_status nd_lfads_create_heldout(nd_lfads_model *m, const nd_lfads_config *c, int N, int Nr, int E,
                                  nd_error *err) {
    memset(m, 0, sizeof *m);
    nd_status st = nd_lfads_config_check(c, err);
    if (st) return st;
    if (N <= 0) return nd_fail(err, ND_ERR_ARG, "model needs at least one neuron");
    if (Nr < N) return nd_fail(err, ND_ERR_ARG, "model reconstructs %d neurons, fewer than its %d inputs", Nr, N);
    if (E < 0) return nd_fail(err, ND_ERR_ARG, "negative external-input dimension");
    m->cfg = *c;
    m->N = N;
    m->Nr = Nr;
    m->E = E;
    m->ctrl = nd_lfads_controller_on(c);
    nd_lfads_views tmp;
    m->n_params = nd_lfads_bind(&tmp, NULL, c, N, Nr, E);
    st = ND_ALLOC(m->params, m->n_params, "model parameters", err);
    if (st) return st;
    nd_lfads_bind(&m->p, m->params, c, N, Nr, E);
    return ND_OK;
}

nd_status nd_lfads_create(nd_lfads_model *m, const nd_lfads_config *c, int N, int E, nd_error *err) {
    return nd_lfads_create_heldout(m, c, N, N, E, err);
}

void nd_lfads_free(nd_lfads_model *m) {
    nd_free(m->params);
    m->params = NULL;
}

size_t nd_lfads_num_params(const nd_lfads_model *m) { return m->n_params; }

static void init_normal(real *w, size_t n, double std, nd_rng *r) {
    for (size_t i = 0; i < n; i++) w[i] = (real)(std * nd_rng_normal(r));
}

void nd_lfads_init(nd_lfads_model *m, uint64_t seed, const float *mean_rate) {
    const nd_lfads_config *c = &m->cfg;
    const nd_lfads_views *v = &m->p;
    nd_rng r;
    nd_rng_stream(&r, seed, 0x1a1d5, 0);
    memset(m->params, 0, sizeof(real) * m->n_params);
    int N = m->N, E = m->E, Hic = c->ic_enc_dim, icd = c->ic_dim, G = c->gen_dim, F = c->fac_dim;
    gru_init(&v->ic_f, N, Hic, &r);
    gru_init(&v->ic_b, N, Hic, &r);
    init_normal(v->ic_W, (size_t)2 * Hic * 2 * icd, 1 / sqrt(2.0 * Hic), &r);
    init_normal(v->g0_W, (size_t)icd * G, 1 / sqrt((double)icd), &r);
    if (m->ctrl) {
        int Hci = c->ci_enc_dim, C = c->con_dim, K = c->co_dim;
        gru_init(&v->ci_f, N, Hci, &r);
        gru_init(&v->ci_b, N, Hci, &r);
        gru_init(&v->con, 2 * Hci + F, C, &r);
        init_normal(v->co_W, (size_t)C * 2 * K, 1 / sqrt((double)C), &r);
        for (int k = 0; k < K; k++) {
            v->ar_logtau[k] = (real)log(c->ar_tau_init);
            v->ar_lognvar[k] = (real)log(c->ar_nvar_init);
        }
    }
    gru_init(&v->gen, (m->ctrl ? c->co_dim : 0) + E, G, &r);
    init_normal(v->fac_W, (size_t)F * G, 1 / sqrt((double)G), &r);
    init_normal(v->ro_W, (size_t)F * m->Nr, 1 / sqrt((double)F), &r);
    for (int n = 0; n < m->Nr; n++) {
        double mr = mean_rate ? mean_rate[n] : 1.0;
        v->ro_bias[n] = (real)log(mr > 1e-3 ? mr : 1e-3);
    }
}

/* ---------------- workspace ---------------- */

static size_t carve(nd_lfads_work *w, const nd_lfads_model *m, real *base) {
    const nd_lfads_config *c = &m->cfg;
    size_t n = 0;
    int B = w->Bmax, T = w->T, Tr = w->Tr, N = m->N, Nr = m->Nr, E = m->E;
    int Hic = c->ic_enc_dim, icd = c->ic_dim, G = c->gen_dim, F = c->fac_dim;
    int Hci = m->ctrl ? c->ci_enc_dim : 0, C = m->ctrl ? c->con_dim : 0, K = m->ctrl ? c->co_dim : 0;
    size_t TB = (size_t)Tr * B, TeB = (size_t)T * B, T1B = (size_t)(Tr + 1) * B;
#define TAKE(ptr, count) do { (ptr) = base ? base + n : NULL; n += ((size_t)(count) + 15) & ~(size_t)15; } while (0)
#define TAKE_SEQ(a, I, H) do { TAKE((a).XP, TB * 3 * (H)); TAKE((a).Z, TB * (H)); TAKE((a).R, TB * (H)); \
                               TAKE((a).N, TB * (H)); TAKE((a).Hs, TB * (H)); } while (0)
    TAKE(w->m_in, TeB * N); TAKE(w->Xenc, TB * N);
    TAKE(w->gmask, TB * Nr); TAKE(w->wmask, TB * Nr); TAKE(w->svw, TB * Nr);
    TAKE_SEQ(w->icf, N, Hic); TAKE_SEQ(w->icb, N, Hic);
    TAKE(w->hic, B * 2 * Hic); TAKE(w->m_hic, B * 2 * Hic); TAKE(w->hic_d, B * 2 * Hic);
    TAKE(w->icp, B * 2 * icd); TAKE(w->IC_MU, B * icd); TAKE(w->IC_LV, B * icd);
    TAKE(w->eps_ic, B * icd); TAKE(w->z0, B * icd);
    if (m->ctrl) {
        TAKE_SEQ(w->cif, N, Hci); TAKE_SEQ(w->cib, N, Hci);
        TAKE(w->CI, TB * 2 * Hci); TAKE(w->m_ci, TB * 2 * Hci); TAKE(w->CId, TB * 2 * Hci);
        TAKE(w->CXP, TB * 3 * C);
        TAKE(w->Cs, T1B * C); TAKE(w->Zc, TB * C); TAKE(w->Rc, TB * C); TAKE(w->Nc, TB * C);
        TAKE(w->m_fc, TB * F); TAKE(w->FCd, TB * F); TAKE(w->co, B * 2 * K);
        TAKE(w->UMU, TB * K); TAKE(w->ULV, TB * K); TAKE(w->eps_u, TB * K); TAKE(w->U, TB * K);
        TAKE(w->dU, TB * K); TAKE(w->dUMU, TB * K); TAKE(w->dULV, TB * K);
        TAKE(w->dc, B * C); TAKE(w->dcp, B * C); TAKE(w->dCXP, TB * 3 * C); TAKE(w->dFCd, B * F);
        TAKE(w->dco, B * 2 * K); TAKE(w->dCI, TB * 2 * Hci);
    }
    TAKE(w->GI, TB * (K + E)); TAKE(w->Gs, T1B * G); TAKE(w->Zg, TB * G); TAKE(w->Rg, TB * G);
    TAKE(w->Ng, TB * G); TAKE(w->m_g, T1B * G); TAKE(w->Gd, T1B * G); TAKE(w->F, T1B * F);
    TAKE(w->LR, TB * Nr); TAKE(w->Wn, F * G); TAKE(w->norms, F);
    int H3 = 3 * (G > C ? G : C);
    TAKE(w->xp, B * H3);
    TAKE(w->dLR, TB * Nr); TAKE(w->dF, T1B * F); TAKE(w->dWn, F * G);
    TAKE(w->dg, B * G); TAKE(w->dgp, B * G); TAKE(w->dgxp, B * 3 * G); TAKE(w->dGI, B * (K + E + 1));
    TAKE(w->dz0, B * icd); TAKE(w->dICMU, B * icd); TAKE(w->dICLV, B * icd); TAKE(w->dicp, B * 2 * icd);
    TAKE(w->dhic, B * 2 * Hic); TAKE(w->dhic_d, B * 2 * Hic); TAKE(w->tmpBG, B * (G > F ? G : F));
    int Hmax = Hic > Hci ? Hic : Hci;
    TAKE(w->dHs1, TB * Hmax); TAKE(w->dHs2, TB * Hmax);
    size_t sc = gru_seq_scratch(B, Hic);
    if (gru_seq_scratch(B, G) > sc) sc = gru_seq_scratch(B, G);
    if (m->ctrl && gru_seq_scratch(B, Hci) > sc) sc = gru_seq_scratch(B, Hci);
    if (m->ctrl && gru_seq_scratch(B, C) > sc) sc = gru_seq_scratch(B, C);
    TAKE(w->scratch, sc);
#undef TAKE
#undef TAKE_SEQ
    return n;
}

nd_status nd_lfads_work_create2(nd_lfads_work **out, const nd_lfads_model *m, int Bmax, int T, int Tr,
                                nd_error *err) {
    *out = NULL;
    if (Bmax <= 0 || T <= 0) return nd_fail(err, ND_ERR_ARG, "workspace needs B > 0 and T > 0");
    if (Tr < T) return nd_fail(err, ND_ERR_ARG, "reconstruction bins (%d) fewer than encoder bins (%d)", Tr, T);
    nd_lfads_work *w = nd_alloc(sizeof *w);
    if (!w) return nd_fail(err, ND_ERR_NOMEM, "out of memory allocating the LFADS workspace");
    w->Bmax = Bmax;
    w->T = T;
    w->Tr = Tr;
    size_t n = carve(w, m, NULL);
    nd_status st = ND_ALLOC(w->block, n, "LFADS activations (reduce batch_size)", err);
    if (st) { nd_free(w); return st; }
    carve(w, m, w->block);
    *out = w;
    return ND_OK;
}

nd_status nd_lfads_work_create(nd_lfads_work **out, const nd_lfads_model *m, int Bmax, int T, nd_error *err) {
    return nd_lfads_work_create2(out, m, Bmax, T, T, err);
}

void nd_lfads_work_free(nd_lfads_work *w) {
    if (!w) return;
    nd_free(w->block);
    nd_free(w);
}

/* ---------------- forward ---------------- */

static void mask_fill(real *mask, size_t n, double p, int active, nd_rng *rng) {
    dropout_mask(mask, n, active ? (real)p : 0, rng);
}

void nd_lfads_forward_recon(const nd_lfads_model *m, nd_lfads_work *w, const real *X, const real *XR,
                            const real *EXT, const real *SV, int B, const nd_lfads_mode *mode, nd_rng *rng,
                            nd_lfads_loss *loss) {
    const nd_lfads_config *c = &m->cfg;
    const nd_lfads_views *p = &m->p;
    const int T = w->T, Tr = w->Tr, N = m->N, Nr = m->Nr, E = m->E, Hic = c->ic_enc_dim, icd = c->ic_dim;
    const int G = c->gen_dim;
    const int F = c->fac_dim, ctrl = m->ctrl;
    const int Hci = ctrl ? c->ci_enc_dim : 0, C = ctrl ? c->con_dim : 0, K = ctrl ? c->co_dim : 0;
    const int KE = K + E, lag = c->ci_lag;
    const real clip = (real)c->cell_clip;
    const size_t TBNr = (size_t)Tr * B * Nr;
    w->B = B;
    w->mode = *mode;
    w->X = X;
    w->XR = XR;
    w->EXT = E ? EXT : NULL;
    w->SV = SV;

    /* input masks: sample validation, coordinated dropout, dropout */
    int drop = mode->dropout;
    double cd = drop ? c->cd_rate : 0, sv_keep = SV && c->sv_rate > 0 ? 1 / (1 - c->sv_rate) : 1;
    double pd = drop ? c->dropout_rate : 0;
    /* reconstruction entries that are never input (held-out neurons, forward-prediction bins) are always
     * scored and always back-propagated */
    for (size_t i = 0; i < TBNr; i++) { w->wmask[i] = 1; w->gmask[i] = 1; w->svw[i] = 0; }
    for (int t = 0; t < T; t++)
        for (int b = 0; b < B; b++)
            for (int n = 0; n < N; n++) {
                size_t i = ((size_t)t * B + b) * N + n, ir = ((size_t)t * B + b) * Nr + n;
                int is_sv = SV && SV[i] != 0;
                double keep_cd = 1;
                if (cd > 0) keep_cd = nd_rng_uniform(rng) < cd ? 0 : 1 / (1 - cd);
                double keep_d = 1;
                if (pd > 0) keep_d = nd_rng_uniform(rng) < pd ? 0 : 1 / (1 - pd);
                w->m_in[i] = is_sv ? 0 : (real)(keep_cd * sv_keep * keep_d);
                w->wmask[ir] = is_sv ? 0 : 1;
                w->svw[ir] = is_sv ? 1 : 0;
                w->gmask[ir] = is_sv ? 0 : (cd > 0 ? (keep_cd == 0) : 1);
                w->Xenc[i] = X[i] * w->m_in[i];
            }
    memset(w->Xenc + (size_t)T * B * N, 0, sizeof(real) * (size_t)(Tr - T) * B * N);

    /* IC encoder -> posterior over g0 */
    gru_seq_forward(&w->icf, w->Xenc, p->ic_h0_f, &p->ic_f, T, B, N, Hic, 0, clip, w->scratch);
    gru_seq_forward(&w->icb, w->Xenc, p->ic_h0_b, &p->ic_b, T, B, N, Hic, 1, clip, w->scratch);
    for (int b = 0; b < B; b++) {
        memcpy(w->hic + (size_t)b * 2 * Hic, w->icf.Hs + ((size_t)(T - 1) * B + b) * Hic, sizeof(real) * Hic);
        memcpy(w->hic + (size_t)b * 2 * Hic + Hic, w->icb.Hs + (size_t)b * Hic, sizeof(real) * Hic);
    }
    mask_fill(w->m_hic, (size_t)B * 2 * Hic, pd, drop, rng);
    dropout_apply(w->hic_d, w->hic, w->m_hic, (size_t)B * 2 * Hic);
    linear_forward(w->icp, w->hic_d, p->ic_W, p->ic_bias, B, 2 * Hic, 2 * icd);
    for (int b = 0; b < B; b++)
        for (int i = 0; i < icd; i++) {
            size_t k = (size_t)b * icd + i;
            real mu = w->icp[(size_t)b * 2 * icd + i], lv = w->icp[(size_t)b * 2 * icd + icd + i];
            w->IC_MU[k] = mu;
            w->IC_LV[k] = lv;
            w->eps_ic[k] = mode->sample ? (real)nd_rng_normal(rng) : 0;
            w->z0[k] = mu + RSQRT(REXP(lv) + (real)c->ic_post_var_min) * w->eps_ic[k];
        }
    linear_forward(w->Gs, w->z0, p->g0_W, p->g0_bias, B, icd, G); /* slot 0 = g0 */

    factor_normalize(w->Wn, w->norms, p->fac_W, F, G);
    mask_fill(w->m_g, (size_t)B * G, pd, drop, rng);
    dropout_apply(w->Gd, w->Gs, w->m_g, (size_t)B * G);
    nd_gemm(0, 1, B, F, G, 1, w->Gd, G, w->Wn, G, 0, w->F, F); /* slot 0 = f0 */

    /* CI encoder: controller inputs [fwd(t - lag), bwd(t + lag)] */
    if (ctrl) {
        gru_seq_forward(&w->cif, w->Xenc, p->ci_h0_f, &p->ci_f, Tr, B, N, Hci, 0, clip, w->scratch);
        gru_seq_forward(&w->cib, w->Xenc, p->ci_h0_b, &p->ci_b, Tr, B, N, Hci, 1, clip, w->scratch);
        for (int t = 0; t < Tr; t++)
            for (int b = 0; b < B; b++) {
                real *dst = w->CI + ((size_t)t * B + b) * 2 * Hci;
                if (t - lag >= 0) memcpy(dst, w->cif.Hs + ((size_t)(t - lag) * B + b) * Hci, sizeof(real) * Hci);
                else memset(dst, 0, sizeof(real) * Hci);
                if (t + lag < Tr)
                    memcpy(dst + Hci, w->cib.Hs + ((size_t)(t + lag) * B + b) * Hci, sizeof(real) * Hci);
                else memset(dst + Hci, 0, sizeof(real) * Hci);
            }
        mask_fill(w->m_ci, (size_t)Tr * B * 2 * Hci, pd, drop, rng);
        dropout_apply(w->CId, w->CI, w->m_ci, (size_t)Tr * B * 2 * Hci);
        linear_forward(w->CXP, w->CId, p->con.Wx, p->con.bx, Tr * B, 2 * Hci, 3 * C);
        for (int b = 0; b < B; b++) memcpy(w->Cs + (size_t)b * C, p->con_h0, sizeof(real) * C);
    }

    /* decoder loop */
    const real *Wx_f = ctrl ? p->con.Wx + (size_t)2 * Hci * 3 * C : NULL;
    for (int t = 0; t < Tr; t++) {
        size_t tB = (size_t)t * B;
        if (ctrl) {
            real *fc = w->FCd + tB * F;
            mask_fill(w->m_fc + tB * F, (size_t)B * F, pd, drop, rng);
            dropout_apply(fc, w->F + tB * F, w->m_fc + tB * F, (size_t)B * F);
            memcpy(w->xp, w->CXP + tB * 3 * C, sizeof(real) * B * 3 * C);
            nd_gemm(0, 0, B, 3 * C, F, 1, fc, F, Wx_f, 3 * C, 1, w->xp, 3 * C);
            gru_step_forward(w->Cs + (tB + B) * C, w->Zc + tB * C, w->Rc + tB * C, w->Nc + tB * C, w->xp,
                             w->Cs + tB * C, &p->con, B, C, clip, w->scratch);
            linear_forward(w->co, w->Cs + (tB + B) * C, p->co_W, p->co_bias, B, C, 2 * K);
            for (int b = 0; b < B; b++)
                for (int k = 0; k < K; k++) {
                    size_t i = (tB + b) * K + k;
                    real mu = w->co[(size_t)b * 2 * K + k], lv = w->co[(size_t)b * 2 * K + K + k];
                    w->UMU[i] = mu;
                    w->ULV[i] = lv;
                    w->eps_u[i] = mode->sample ? (real)nd_rng_normal(rng) : 0;
                    w->U[i] = mu + REXP((real)0.5 * lv) * w->eps_u[i];
                }
        }
        for (int b = 0; b < B; b++) {
            real *gi = w->GI + (tB + b) * KE;
            if (K) memcpy(gi, w->U + (tB + b) * K, sizeof(real) * K);
            if (E) memcpy(gi + K, EXT + (tB + b) * E, sizeof(real) * E);
        }
        linear_forward(w->xp, w->GI + tB * KE, p->gen.Wx, p->gen.bx, B, KE, 3 * G);
        gru_step_forward(w->Gs + (tB + B) * G, w->Zg + tB * G, w->Rg + tB * G, w->Ng + tB * G, w->xp,
                         w->Gs + tB * G, &p->gen, B, G, clip, w->scratch);
        mask_fill(w->m_g + (tB + B) * G, (size_t)B * G, pd, drop, rng);
        dropout_apply(w->Gd + (tB + B) * G, w->Gs + (tB + B) * G, w->m_g + (tB + B) * G, (size_t)B * G);
        nd_gemm(0, 1, B, F, G, 1, w->Gd + (tB + B) * G, G, w->Wn, G, 0, w->F + (tB + B) * F, F);
    }
    /* read-out: log-rates of all steps in one GEMM */
    linear_forward(w->LR, w->F + (size_t)B * F, p->ro_W, p->ro_bias, Tr * B, F, Nr);

    /* losses, per trial */
    nd_lfads_loss L;
    memset(&L, 0, sizeof L);
    double recon_grad = 0;
    if (XR) {
        L.recon = poisson_nll_forward(w->LR, XR, w->wmask, TBNr) / B;
        if (SV) L.recon_sv = poisson_nll_forward(w->LR, XR, w->svw, TBNr) / B;
        recon_grad = cd > 0 ? poisson_nll_forward(w->LR, XR, w->gmask, TBNr) / B : L.recon;
    }
    L.kl_ic = kl_gauss_forward(w->IC_MU, w->IC_LV, p->ic_prior_mean, (real)c->ic_prior_var,
                               (real)c->ic_post_var_min, B, icd) / B;
    if (ctrl) {
        if (c->co_prior_ar1) L.kl_co = kl_ar1_forward(w->U, w->UMU, w->ULV, p->ar_logtau, p->ar_lognvar, Tr, B, K) / B;
        else L.kl_co = kl_gauss_sampled_forward(w->U, w->UMU, w->ULV, (real)c->co_prior_var, (size_t)Tr * B * K) / B;
        L.l2 += l2_forward(p->con.Uzr, gru_num_recurrent(C), (real)c->l2_con_scale, gru_num_recurrent(C));
    }
    L.l2 += l2_forward(p->gen.Uzr, gru_num_recurrent(G), (real)c->l2_gen_scale, gru_num_recurrent(G));
    double reg = mode->ramp_kl * (c->kl_ic_scale * L.kl_ic + c->kl_co_scale * L.kl_co) + mode->ramp_l2 * L.l2;
    L.total = L.recon + reg;
    L.objective = recon_grad + reg;
    w->loss = L;
    if (loss) *loss = L;
}

void nd_lfads_forward(const nd_lfads_model *m, nd_lfads_work *w, const real *X, const real *EXT, const real *SV,
                      int B, const nd_lfads_mode *mode, nd_rng *rng, nd_lfads_loss *loss) {
    nd_lfads_forward_recon(m, w, X, X, EXT, SV, B, mode, rng, loss);
}

/* ---------------- backward ---------------- */

void nd_lfads_backward(const nd_lfads_model *m, nd_lfads_work *w, real *grads) {
    const nd_lfads_config *c = &m->cfg;
    const nd_lfads_views *p = &m->p;
    nd_lfads_views g;
    nd_lfads_bind(&g, grads, c, m->N, m->Nr, m->E);
    const int B = w->B, Te = w->T, T = w->Tr, N = m->N, Nr = m->Nr, Hic = c->ic_enc_dim, icd = c->ic_dim;
    const int G = c->gen_dim;
    const int F = c->fac_dim, ctrl = m->ctrl;
    const int Hci = ctrl ? c->ci_enc_dim : 0, C = ctrl ? c->con_dim : 0, K = ctrl ? c->co_dim : 0;
    const int KE = K + m->E, lag = c->ci_lag;
    const real clip = (real)c->cell_clip, invB = (real)1 / B;
    const size_t TB = (size_t)T * B, TBNr = TB * Nr, TeB = (size_t)Te * B;
    const real kl_ic_w = (real)(w->mode.ramp_kl * c->kl_ic_scale) * invB;
    const real kl_co_w = (real)(w->mode.ramp_kl * c->kl_co_scale) * invB;

    /* reconstruction -> read-out */
    memset(w->dLR, 0, sizeof(real) * TBNr);
    if (w->XR) poisson_nll_backward(w->dLR, w->LR, w->XR, w->gmask, invB, TBNr);
    memset(w->dF, 0, sizeof(real) * (TB + B) * F);
    linear_backward(w->dF + (size_t)B * F, g.ro_W, g.ro_bias, w->dLR, w->F + (size_t)B * F, p->ro_W, T * B, F, Nr);

    if (ctrl) {
        size_t n = TB * K;
        memset(w->dU, 0, sizeof(real) * n);
        memset(w->dUMU, 0, sizeof(real) * n);
        memset(w->dULV, 0, sizeof(real) * n);
        if (c->co_prior_ar1)
            kl_ar1_backward(w->dU, w->dUMU, w->dULV, g.ar_logtau, g.ar_lognvar, w->U, w->UMU, w->ULV, p->ar_logtau,
                            p->ar_lognvar, kl_co_w, T, B, K);
        else
            kl_gauss_sampled_backward(w->dU, w->dUMU, w->dULV, w->U, w->UMU, w->ULV, (real)c->co_prior_var, kl_co_w, n);
        memset(w->dc, 0, sizeof(real) * B * C);
    }
    memset(w->dWn, 0, sizeof(real) * F * G);
    memset(w->dg, 0, sizeof(real) * B * G);
    const real *Wx_f = ctrl ? p->con.Wx + (size_t)2 * Hci * 3 * C : NULL;
    real *gWx_f = ctrl ? g.con.Wx + (size_t)2 * Hci * 3 * C : NULL;

    for (int t = T - 1; t >= -1; t--) {
        size_t s = (size_t)(t + 1) * B; /* slot of g_t / f_t */
        /* factors f = (g * mask) Wn^T */
        nd_gemm(1, 0, F, G, B, 1, w->dF + s * F, F, w->Gd + s * G, G, 1, w->dWn, G);
        nd_gemm(0, 0, B, G, F, 1, w->dF + s * F, F, w->Wn, G, 0, w->tmpBG, G);
        dropout_backward(w->dg, w->tmpBG, w->m_g + s * G, (size_t)B * G);
        if (t < 0) break; /* dg now holds the gradient w.r.t. g0 */
        size_t tB = (size_t)t * B;
        /* generator step */
        memset(w->dgp, 0, sizeof(real) * B * G);
        gru_step_backward(w->dgxp, w->dgp, w->dg, w->Zg + tB * G, w->Rg + tB * G, w->Ng + tB * G, w->Gs + tB * G,
                          &p->gen, &g.gen, B, G, clip, w->scratch);
        memset(w->dGI, 0, sizeof(real) * B * (KE > 0 ? KE : 1));
        linear_backward(K ? w->dGI : NULL, g.gen.Wx, g.gen.bx, w->dgxp, w->GI + tB * KE, p->gen.Wx, B, KE, 3 * G);
        real *sw = w->dg; w->dg = w->dgp; w->dgp = sw;
        if (!ctrl) continue;
        /* inferred inputs u = mu + exp(lv/2) eps, then the controller */
        for (int b = 0; b < B; b++)
            for (int k = 0; k < K; k++) {
                size_t i = (tB + b) * K + k;
                real du = w->dU[i] + w->dGI[(size_t)b * KE + k];
                w->dco[(size_t)b * 2 * K + k] = w->dUMU[i] + du;
                w->dco[(size_t)b * 2 * K + K + k] = w->dULV[i] + du * (real)0.5 * (w->U[i] - w->UMU[i]);
            }
        linear_backward(w->dc, g.co_W, g.co_bias, w->dco, w->Cs + (tB + B) * C, p->co_W, B, C, 2 * K);
        memset(w->dcp, 0, sizeof(real) * B * C);
        real *dcxp = w->dCXP + tB * 3 * C;
        gru_step_backward(dcxp, w->dcp, w->dc, w->Zc + tB * C, w->Rc + tB * C, w->Nc + tB * C, w->Cs + tB * C,
                          &p->con, &g.con, B, C, clip, w->scratch);
        memset(w->dFCd, 0, sizeof(real) * B * F);
        linear_backward(w->dFCd, gWx_f, NULL, dcxp, w->FCd + tB * F, Wx_f, B, F, 3 * C);
        dropout_backward(w->dF + tB * F, w->dFCd, w->m_fc + tB * F, (size_t)B * F);
        sw = w->dc; w->dc = w->dcp; w->dcp = sw;
    }
    factor_normalize_backward(g.fac_W, w->dWn, w->Wn, w->norms, F, G);

    /* g0 = z0 W + b, z0 = mu + sqrt(exp(lv) + vmin) eps */
    memset(w->dz0, 0, sizeof(real) * B * icd);
    linear_backward(w->dz0, g.g0_W, g.g0_bias, w->dg, w->z0, p->g0_W, B, icd, G);
    for (size_t i = 0; i < (size_t)B * icd; i++) {
        real e = REXP(w->IC_LV[i]), sd = RSQRT(e + (real)c->ic_post_var_min);
        w->dICMU[i] = w->dz0[i];
        w->dICLV[i] = w->dz0[i] * w->eps_ic[i] * (real)0.5 * e / sd;
    }
    kl_gauss_backward(w->dICMU, w->dICLV, g.ic_prior_mean, w->IC_MU, w->IC_LV, p->ic_prior_mean,
                      (real)c->ic_prior_var, (real)c->ic_post_var_min, kl_ic_w, B, icd);
    for (int b = 0; b < B; b++)
        for (int i = 0; i < icd; i++) {
            w->dicp[(size_t)b * 2 * icd + i] = w->dICMU[(size_t)b * icd + i];
            w->dicp[(size_t)b * 2 * icd + icd + i] = w->dICLV[(size_t)b * icd + i];
        }
    memset(w->dhic, 0, sizeof(real) * B * 2 * Hic);
    real *dhic_d = w->dhic_d;
    memset(dhic_d, 0, sizeof(real) * B * 2 * Hic);
    linear_backward(dhic_d, g.ic_W, g.ic_bias, w->dicp, w->hic_d, p->ic_W, B, 2 * Hic, 2 * icd);
    dropout_backward(w->dhic, dhic_d, w->m_hic, (size_t)B * 2 * Hic);

    /* IC encoder: gradient only on the final states */
    memset(w->dHs1, 0, sizeof(real) * TeB * Hic);
    for (int b = 0; b < B; b++)
        memcpy(w->dHs1 + ((size_t)(Te - 1) * B + b) * Hic, w->dhic + (size_t)b * 2 * Hic, sizeof(real) * Hic);
    gru_seq_backward(NULL, g.ic_h0_f, w->dHs1, &w->icf, w->Xenc, p->ic_h0_f, &p->ic_f, &g.ic_f, Te, B, N, Hic, 0,
                     clip, w->scratch);
    memset(w->dHs1, 0, sizeof(real) * TeB * Hic);
    for (int b = 0; b < B; b++)
        memcpy(w->dHs1 + (size_t)b * Hic, w->dhic + (size_t)b * 2 * Hic + Hic, sizeof(real) * Hic);
    gru_seq_backward(NULL, g.ic_h0_b, w->dHs1, &w->icb, w->Xenc, p->ic_h0_b, &p->ic_b, &g.ic_b, Te, B, N, Hic, 1,
                     clip, w->scratch);

    if (ctrl) {
        for (int b = 0; b < B; b++)
            for (int j = 0; j < C; j++) g.con_h0[j] += w->dc[(size_t)b * C + j];
        /* CI part of the controller input projection, all steps at once */
        real *dCId = w->dCI;
        memset(dCId, 0, sizeof(real) * TB * 2 * Hci);
        linear_backward(dCId, g.con.Wx, g.con.bx, w->dCXP, w->CId, p->con.Wx, T * B, 2 * Hci, 3 * C);
        for (size_t i = 0; i < TB * 2 * Hci; i++) dCId[i] *= w->m_ci[i];
        memset(w->dHs1, 0, sizeof(real) * TB * Hci);
        memset(w->dHs2, 0, sizeof(real) * TB * Hci);
        for (int t = 0; t < T; t++)
            for (int b = 0; b < B; b++) {
                const real *src = dCId + ((size_t)t * B + b) * 2 * Hci;
                if (t - lag >= 0) {
                    real *d = w->dHs1 + ((size_t)(t - lag) * B + b) * Hci;
                    for (int j = 0; j < Hci; j++) d[j] += src[j];
                }
                if (t + lag < T) {
                    real *d = w->dHs2 + ((size_t)(t + lag) * B + b) * Hci;
                    for (int j = 0; j < Hci; j++) d[j] += src[Hci + j];
                }
            }
        gru_seq_backward(NULL, g.ci_h0_f, w->dHs1, &w->cif, w->Xenc, p->ci_h0_f, &p->ci_f, &g.ci_f, T, B, N, Hci,
                         0, clip, w->scratch);
        gru_seq_backward(NULL, g.ci_h0_b, w->dHs2, &w->cib, w->Xenc, p->ci_h0_b, &p->ci_b, &g.ci_b, T, B, N, Hci,
                         1, clip, w->scratch);
        l2_backward(g.con.Uzr, p->con.Uzr, gru_num_recurrent(C), (real)(w->mode.ramp_l2 * c->l2_con_scale),
                    gru_num_recurrent(C));
    }
    l2_backward(g.gen.Uzr, p->gen.Uzr, gru_num_recurrent(G), (real)(w->mode.ramp_l2 * c->l2_gen_scale),
                gru_num_recurrent(G));
}

void nd_lfads_outputs_get(const nd_lfads_model *m, const nd_lfads_work *w, nd_lfads_outputs *o) {
    size_t B = (size_t)w->B;
    memset(o, 0, sizeof *o);
    o->T = w->Tr;
    o->B = w->B;
    o->log_rates = w->LR;
    o->factors = w->F + B * m->cfg.fac_dim;
    o->gen_states = w->Gs + B * m->cfg.gen_dim;
    o->gen_init = w->Gs;
    o->gen_inputs = w->GI;
    o->ic_mean = w->IC_MU;
    o->ic_logvar = w->IC_LV;
    if (m->ctrl) {
        o->con_states = w->Cs + B * m->cfg.con_dim;
        o->co_mean = w->UMU;
        o->co_logvar = w->ULV;
    }
}
