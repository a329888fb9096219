/* LFADS forward and backward over a mini-batch. See lfads.h and docs/model.md.
 * Time-major layout: a [T][B][D] array holds step t at offset t*B*D.
 * Arrays with T+1 slots (generator states, factors, controller states) keep the
 * initial value in slot 0 and step t's value in slot t+1. */
#include "lfads.h"
#include "../core/blas.h"
#include "../core/mem.h"
#include "../core/vmath.h"
#include <omp.h>
#include <stddef.h>
#include <string.h>

struct nd_lfads_work {
    int Bmax, T, Tr, B;   /* T: encoder bins; Tr >= T: generator / reconstruction bins */
    int ses, N, Nr;       /* the current batch's session, its input and reconstructed neurons */
    int P;                /* read-out values per reconstructed neuron (1: Poisson log-rates) */
    nd_lfads_session_views sv;
    nd_lfads_mode mode;
    const real *X, *XR, *EXT, *SV;
    nd_lfads_loss loss;
    /* encoder input mask [T][B][N]; encoder input [Tr][B][N] (zero past T, seen by the CI encoder);
     * loss weights / gradient mask / sample-validation entries over the reconstruction [Tr][B][Nr] */
    real *m_in, *Xenc, *gmask, *wmask, *svw;
    /* what the encoders see [Tr][B][Din]: Xenc itself, or (stitched) its read-in Xri (zero past T); dXri [T][B][Din]
     * is the gradient on the read-in's output */
    const real *Xin;
    real *Xri, *dXri;
    /* IC encoder (Hs of every encoder has one extra slot before and after, holding the initial state of the
     * forward / reverse direction, so that "the previous state" of every step is one strided matrix) */
    gru_seq_acts icf, icb;
    real *RHicf, *RHicb;
    real *hic, *m_hic, *hic_d, *icp, *IC_MU, *IC_LV, *eps_ic, *z0;
    /* CI encoder and controller */
    gru_seq_acts cif, cib;
    real *RHcif, *RHcib;
    real *CI, *m_ci, *CId, *CXP;
    real *Cs, *Zc, *Rc, *Nc, *RHc, *m_fc, *FCd, *co, *UMU, *ULV, *eps_u, *U;
    /* generator, factors, rates */
    /* LR: the read-out [Tr][B][P*Nr] (log-rates for Poisson); MEAN [Tr][B][Nr] the distribution's mean (P > 1) */
    real *m_ext; /* dropout mask of the external inputs [Tr][B][E] (ext_input_dropout) */
    real *GI, *Gs, *Zg, *Rg, *Ng, *RHg, *m_g, *Gd, *F, *LR, *MEAN, *Wn, *norms;
    /* backward */
    real *dLR, *dF, *dU, *dUMU, *dULV, *dWn, *dg, *dgp, *dc, *dcp, *dGXP, *dGI, *dCXP, *dCO;
    real *dz0, *dICMU, *dICLV, *dicp, *dhic, *dhic_d, *dHs1, *dHs2, *dHs3, *dHs4, *dCI, *dh0;
    /* per-chunk scratch (chunks of batch rows run in parallel), partial loss sums */
    real *cscr;
    size_t cscr_n;
    int Hm; /* widest layer (row stride of dh0) */
    double nll_part[16][3];
    double lgam[256]; /* lgamma(k + 1), k = 0..255 */
    real *block;
};

/* Counts in size_t (a config or checkpoint can make F * G exceed INT_MAX: fuzz/FINDINGS.md, bug 4);
 * the sums of sizes passed to gru_* as int stay small because nd_lfads_config_check bounds every
 * layer size by ND_LFADS_MAX_DIM and the loaders bound N, Nr, E. */
#define TAKE(ptr, count) do { (ptr) = p ? p + n : NULL; n += (size_t)(count); } while (0)
#define TAKE_GRU(g, I, H) do { if (p) gru_bind(&(g), p + n, I, H); else memset(&(g), 0, sizeof(g)); \
                               n += gru_num_params(I, H); } while (0)
/* the parameters every session shares; the encoders see Din inputs */
static size_t bind_shared(nd_lfads_views *v, real *base, const nd_lfads_config *c, int Din, int E) {
    real *p = base;
    size_t n = 0;
    int ctrl = nd_lfads_controller_on(c);
    int Hic = c->ic_enc_dim, icd = c->ic_dim, G = c->gen_dim, F = c->fac_dim;
    int Hci = ctrl ? c->ci_enc_dim : 0, C = ctrl ? c->con_dim : 0, K = ctrl ? c->co_dim : 0;
    memset(v, 0, sizeof *v);
    TAKE_GRU(v->ic_f, Din, Hic);
    TAKE_GRU(v->ic_b, Din, Hic);
    TAKE(v->ic_h0_f, Hic);
    TAKE(v->ic_h0_b, Hic);
    TAKE(v->ic_W, (size_t)2 * Hic * 2 * icd);
    TAKE(v->ic_bias, (size_t)2 * icd);
    TAKE(v->ic_prior_mean, icd);
    TAKE(v->g0_W, (size_t)icd * G);
    TAKE(v->g0_bias, G);
    if (ctrl) {
        TAKE_GRU(v->ci_f, Din, Hci);
        TAKE_GRU(v->ci_b, Din, Hci);
        TAKE(v->ci_h0_f, Hci);
        TAKE(v->ci_h0_b, Hci);
        TAKE_GRU(v->con, 2 * Hci + F, C);
        TAKE(v->con_h0, C);
        TAKE(v->co_W, (size_t)C * 2 * K);
        TAKE(v->co_bias, (size_t)2 * K);
        TAKE(v->ar_logtau, K);
        TAKE(v->ar_lognvar, K);
        if (!c->co_prior_ar1 && c->co_prior_analytic) TAKE(v->co_prior_mean, K);
    }
    TAKE_GRU(v->gen, K + E, G);
    TAKE(v->fac_W, (size_t)F * G);
    return n;
}

/* one session's block at base (NULL: sizes only) */
static size_t bind_session(nd_lfads_session_views *v, real *base, int F, int Din, int N, int Nr, int P) {
    real *p = base;
    size_t n = 0;
    memset(v, 0, sizeof *v);
    v->N = N;
    v->Nr = Nr;
    v->P = P;
    if (Din > 0) {
        TAKE(v->ri_W, (size_t)N * Din);
        TAKE(v->ri_bias, Din);
    }
    TAKE(v->ro_W, (size_t)F * P * Nr);
    TAKE(v->ro_bias, (size_t)P * Nr);
    return n;
}
#undef TAKE
#undef TAKE_GRU

size_t nd_lfads_bind(nd_lfads_views *v, real *base, const nd_lfads_config *c, int N, int Nr, int E) {
    size_t n = bind_shared(v, base, c, N, E);
    nd_lfads_session_views sv;
    n += bind_session(&sv, base ? base + n : NULL, c->fac_dim, 0, N, Nr, nd_recon_nparams(c->recon));
    v->ro_W = sv.ro_W;
    v->ro_bias = sv.ro_bias;
    return n;
}

void nd_lfads_session_bind(const nd_lfads_model *m, real *base, int s, nd_lfads_session_views *v) {
    bind_session(v, base + m->soff[s], m->cfg.fac_dim, m->readin ? m->Din : 0, m->sN[s], m->sNr[s],
                 nd_recon_nparams(m->cfg.recon));
}

size_t nd_lfads_sessions_num_params(const nd_lfads_config *c, int S, const int *N, const int *Nr, int Din, int E) {
    nd_lfads_views tmp;
    size_t n = bind_shared(&tmp, NULL, c, Din > 0 ? Din : N[0], E);
    for (int s = 0; s < S; s++) {
        nd_lfads_session_views sv;
        n += bind_session(&sv, NULL, c->fac_dim, Din, N[s], Nr[s], nd_recon_nparams(c->recon));
    }
    return n;
}

nd_status nd_lfads_create_sessions(nd_lfads_model *m, const nd_lfads_config *c, int S, const int *N, const int *Nr,
                                   int Din, int E, nd_error *err) {
    memset(m, 0, sizeof *m);
    nd_status st = nd_lfads_config_check(c, err);
    if (st) return st;
    if (S < 1 || S > ND_LFADS_MAX_SESSIONS)
        return nd_fail(err, ND_ERR_ARG, "%d sessions: a model takes 1 to %d", S, ND_LFADS_MAX_SESSIONS);
    if (Din < 0 || Din > ND_LFADS_MAX_DIM) return nd_fail(err, ND_ERR_ARG, "read-in dimension %d out of range", Din);
    if (S > 1 && Din == 0) return nd_fail(err, ND_ERR_ARG, "a model over %d sessions needs a read-in dimension", S);
    if (E < 0) return nd_fail(err, ND_ERR_ARG, "negative external-input dimension");
    for (int s = 0; s < S; s++) {
        if (N[s] <= 0) return nd_fail(err, ND_ERR_ARG, "model needs at least one neuron (session %d has none)", s + 1);
        if (Nr[s] < N[s])
            return nd_fail(err, ND_ERR_ARG, "model reconstructs %d neurons, fewer than its %d inputs", Nr[s], N[s]);
    }
    m->cfg = *c;
    m->E = E;
    m->S = S;
    m->readin = Din > 0;
    m->Din = Din > 0 ? Din : N[0];
    m->ctrl = nd_lfads_controller_on(c);
    nd_lfads_views tmp;
    size_t n = bind_shared(&tmp, NULL, c, m->Din, E);
    for (int s = 0; s < S; s++) {
        m->sN[s] = N[s];
        m->sNr[s] = Nr[s];
        m->N = N[s] > m->N ? N[s] : m->N;
        m->Nr = Nr[s] > m->Nr ? Nr[s] : m->Nr;
        m->soff[s] = n;
        nd_lfads_session_views sv;
        n += bind_session(&sv, NULL, c->fac_dim, Din, N[s], Nr[s], nd_recon_nparams(c->recon));
    }
    m->n_params = n;
    st = ND_ALLOC(m->params, m->n_params, "model parameters", err);
    if (st) return st;
    bind_shared(&m->p, m->params, c, m->Din, E);
    nd_lfads_session_views sv;
    nd_lfads_session_bind(m, m->params, 0, &sv);
    m->p.ro_W = sv.ro_W;
    m->p.ro_bias = sv.ro_bias;
    return ND_OK;
}

nd_status nd_lfads_create_heldout(nd_lfads_model *m, const nd_lfads_config *c, int N, int Nr, int E,
                                  nd_error *err) {
    if (N <= 0) {
        memset(m, 0, sizeof *m);
        return nd_fail(err, ND_ERR_ARG, "model needs at least one neuron");
    }
    return nd_lfads_create_sessions(m, c, 1, &N, &Nr, 0, E, err);
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

/* read-out bias of neuron n (of Nr) so that the distribution's mean starts at the data mean mr */
static void init_readout_bias(real *bias, int n, int Nr, int kind, double mr, double loc) {
    double m = mr > 1e-3 ? mr : 1e-3;
    switch (kind) {
    case ND_RECON_GAUSSIAN: /* mean mr, variance mr (Poisson-like) */
        bias[n] = (real)mr;
        bias[Nr + n] = (real)log(m);
        break;
    case ND_RECON_GAMMA: /* shape 1 (exponential), rate 1/mr */
        bias[n] = 0;
        bias[Nr + n] = (real)-log(m);
        break;
    case ND_RECON_ZIG: { /* q = 1/2, shape 1: q (1/b + loc) = mr */
        double g = 2 * mr - loc;
        bias[n] = 0;
        bias[Nr + n] = (real)-log(g > 1e-3 ? g : 1e-3);
        bias[2 * Nr + n] = 0;
        break;
    }
    default: bias[n] = (real)log(m);
    }
}

void nd_lfads_init(nd_lfads_model *m, uint64_t seed, const float *mean_rate) {
    const nd_lfads_config *c = &m->cfg;
    const nd_lfads_views *v = &m->p;
    nd_rng r;
    nd_rng_stream(&r, seed, 0x1a1d5, 0);
    memset(m->params, 0, sizeof(real) * m->n_params);
    int D = m->Din, E = m->E, Hic = c->ic_enc_dim, icd = c->ic_dim, G = c->gen_dim, F = c->fac_dim;
    /* encoders: lfads-torch's N(0, 1/(I + H)) for both kernels, or N(0, 1/fan_in) (enc_init_legacy) */
    const int leg = c->enc_init_legacy;
    gru_init_fan(&v->ic_f, D, Hic, leg ? D : D + Hic, leg ? Hic : D + Hic, &r);
    gru_init_fan(&v->ic_b, D, Hic, leg ? D : D + Hic, leg ? Hic : D + Hic, &r);
    init_normal(v->ic_W, (size_t)2 * Hic * 2 * icd, 1 / sqrt(2.0 * Hic), &r);
    init_normal(v->g0_W, (size_t)icd * G, 1 / sqrt((double)icd), &r);
    if (m->ctrl) {
        int Hci = c->ci_enc_dim, C = c->con_dim, K = c->co_dim;
        gru_init_fan(&v->ci_f, D, Hci, leg ? D : D + Hci, leg ? Hci : D + Hci, &r);
        gru_init_fan(&v->ci_b, D, Hci, leg ? D : D + Hci, leg ? Hci : D + Hci, &r);
        gru_init(&v->con, 2 * Hci + F, C, &r);
        init_normal(v->co_W, (size_t)C * 2 * K, 1 / sqrt((double)C), &r);
        for (int k = 0; k < K; k++) {
            v->ar_logtau[k] = (real)log(c->ar_tau_init);
            v->ar_lognvar[k] = (real)log(c->ar_nvar_init);
        }
    }
    gru_init(&v->gen, (m->ctrl ? c->co_dim : 0) + E, G, &r);
    init_normal(v->fac_W, (size_t)F * G, 1 / sqrt((double)G), &r);
    for (int s = 0, off = 0; s < m->S; off += m->sNr[s], s++) {
        nd_lfads_session_views sv;
        nd_lfads_session_bind(m, m->params, s, &sv);
        if (sv.ri_W) init_normal(sv.ri_W, (size_t)sv.N * D, 1 / sqrt((double)sv.N), &r);
        init_normal(sv.ro_W, (size_t)F * sv.P * sv.Nr, 1 / sqrt((double)F), &r);
        for (int n = 0; n < sv.Nr; n++) {
            double mr = mean_rate ? mean_rate[off + n] : 1.0;
            init_readout_bias(sv.ro_bias, n, sv.Nr, c->recon, mr, c->zig_loc);
        }
    }
}

/* ---------------- workspace ---------------- */

/* Batch rows are processed in chunks of at most CHUNK_ROWS rows, one chunk per OpenMP task: every
 * recurrence is independent across trials, so a chunk runs its rows through all time steps on its own.
 * The number of chunks depends only on the batch size, never on the thread count, and every reduction over
 * rows (weight gradients, losses) runs in a fixed order, so results do not depend on the number of threads. */
enum { CHUNK_ROWS = 64, ROW_BLOCKS = 8, PIECE_ROWS = 64, MAX_PIECES = 8, LOSS_BLOCKS = 16, MAX_TASKS = 256 };

static int n_chunks(int B) { return (B + CHUNK_ROWS - 1) / CHUNK_ROWS; }
static int chunk_rows(int B, int c, int nch, int *b0) {
    *b0 = (int)((long)B * c / nch);
    return (int)((long)B * (c + 1) / nch) - *b0;
}
/* threads for the parallel regions: OpenBLAS must be single-threaded inside them */
static int region_threads(void) { return nd_blas_get_threads() > 1 ? 1 : omp_get_max_threads(); }

static int widest(const nd_lfads_model *m) {
    const nd_lfads_config *c = &m->cfg;
    int d[6] = {c->ic_enc_dim, m->ctrl ? c->ci_enc_dim : 0, m->ctrl ? c->con_dim : 0, c->gen_dim, c->fac_dim,
                m->ctrl ? 2 * c->co_dim + m->E : 1};
    int h = 1;
    for (int i = 0; i < 6; i++) h = d[i] > h ? d[i] : h;
    return h;
}

static size_t carve(nd_lfads_work *w, const nd_lfads_model *m, real *base) {
    const nd_lfads_config *c = &m->cfg;
    size_t n = 0;
    int B = w->Bmax, T = w->T, Tr = w->Tr, N = m->N, Nr = m->Nr, E = m->E;
    int Hic = c->ic_enc_dim, icd = c->ic_dim, G = c->gen_dim, F = c->fac_dim;
    int Hci = m->ctrl ? c->ci_enc_dim : 0, C = m->ctrl ? c->con_dim : 0, K = m->ctrl ? c->co_dim : 0;
    size_t TB = (size_t)Tr * B, TeB = (size_t)T * B, T1B = (size_t)(Tr + 1) * B, T2B = (size_t)(Tr + 2) * B;
    int Hm = widest(m);
#define TAKE(ptr, count) do { (ptr) = base ? base + n : NULL; n += ((size_t)(count) + 15) & ~(size_t)15; } while (0)
#define TAKE_SEQ(a, RH, H) do { TAKE((a).XP, TB * 3 * (H)); TAKE((a).Z, TB * (H)); TAKE((a).R, TB * (H)); \
                                TAKE((a).N, TB * (H)); TAKE((a).Hs, T2B * (H)); TAKE(RH, TB * (H)); \
                                if (base) (a).Hs += (size_t)B * (H); } while (0)
    TAKE(w->m_in, TeB * N); TAKE(w->Xenc, TB * N);
    if (m->readin) { TAKE(w->Xri, TB * m->Din); TAKE(w->dXri, TeB * m->Din); }
    TAKE(w->gmask, TB * Nr); TAKE(w->wmask, TB * Nr); TAKE(w->svw, TB * Nr);
    TAKE_SEQ(w->icf, w->RHicf, Hic); TAKE_SEQ(w->icb, w->RHicb, Hic);
    TAKE(w->hic, B * 2 * Hic); TAKE(w->m_hic, B * 2 * Hic); TAKE(w->hic_d, B * 2 * Hic);
    TAKE(w->icp, B * 2 * icd); TAKE(w->IC_MU, B * icd); TAKE(w->IC_LV, B * icd);
    TAKE(w->eps_ic, B * icd); TAKE(w->z0, B * icd);
    if (m->ctrl) {
        TAKE_SEQ(w->cif, w->RHcif, Hci); TAKE_SEQ(w->cib, w->RHcib, Hci);
        TAKE(w->CI, TB * 2 * Hci); TAKE(w->m_ci, TB * 2 * Hci); TAKE(w->CId, TB * 2 * Hci);
        TAKE(w->CXP, TB * 3 * C);
        TAKE(w->Cs, T1B * C); TAKE(w->Zc, TB * C); TAKE(w->Rc, TB * C); TAKE(w->Nc, TB * C); TAKE(w->RHc, TB * C);
        TAKE(w->m_fc, TB * F); TAKE(w->FCd, TB * F); TAKE(w->co, B * 2 * K);
        TAKE(w->UMU, TB * K); TAKE(w->ULV, TB * K); TAKE(w->eps_u, TB * K); TAKE(w->U, TB * K);
        TAKE(w->dU, TB * K); TAKE(w->dUMU, TB * K); TAKE(w->dULV, TB * K);
        TAKE(w->dc, B * C); TAKE(w->dcp, B * C); TAKE(w->dCXP, TB * 3 * C); TAKE(w->dCO, TB * 2 * K);
        TAKE(w->dCI, TB * 2 * Hci);
    }
    TAKE(w->m_ext, TB * E); TAKE(w->GI, TB * (K + E)); TAKE(w->Gs, T1B * G); TAKE(w->Zg, TB * G); TAKE(w->Rg, TB * G);
    TAKE(w->Ng, TB * G); TAKE(w->RHg, TB * G); TAKE(w->m_g, T1B * G); TAKE(w->Gd, T1B * G); TAKE(w->F, T1B * F);
    int P = nd_recon_nparams(c->recon);
    TAKE(w->LR, TB * Nr * P); TAKE(w->Wn, F * G); TAKE(w->norms, F);
    if (P > 1) TAKE(w->MEAN, TB * Nr);
    TAKE(w->dLR, TB * Nr * P); TAKE(w->dF, T1B * F); TAKE(w->dWn, F * G);
    TAKE(w->dg, B * G); TAKE(w->dgp, B * G); TAKE(w->dGXP, TB * 3 * G); TAKE(w->dGI, B * (K + E + 1));
    TAKE(w->dz0, B * icd); TAKE(w->dICMU, B * icd); TAKE(w->dICLV, B * icd); TAKE(w->dicp, B * 2 * icd);
    TAKE(w->dhic, B * 2 * Hic); TAKE(w->dhic_d, B * 2 * Hic);
    /* output gradients of the IC (1, 2) and CI (3, 4) encoders: separate, as chunks run both concurrently */
    TAKE(w->dHs1, TeB * Hic); TAKE(w->dHs2, TeB * Hic); TAKE(w->dHs3, TB * Hci); TAKE(w->dHs4, TB * Hci);
    TAKE(w->dh0, (size_t)4 * B * Hm);
    w->Hm = Hm;
    w->cscr_n = ((size_t)CHUNK_ROWS * 8 * Hm + 15) & ~(size_t)15;
    TAKE(w->cscr, (size_t)n_chunks(B) * w->cscr_n);
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
    w->P = nd_recon_nparams(m->cfg.recon);
    size_t n = carve(w, m, NULL);
    nd_status st = ND_ALLOC(w->block, n, "LFADS activations (reduce batch_size)", err);
    if (st) { nd_free(w); return st; }
    carve(w, m, w->block);
    for (int k = 0; k < 256; k++) w->lgam[k] = lgamma(k + 1.0);
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

/* ---------------- parallel building blocks ---------------- */

/* C[M][N] = bias + A op(W) (no bias: C = beta C + A op(W)); the M rows are split into ROW_BLOCKS fixed
 * blocks shared by the threads of the enclosing parallel region (orphaned worksharing loop). */
static void gemm_rows(int transW, int M, int N, int K, const real *A, int lda, const real *W, int ldw,
                      const real *bias, real beta, real *C, int ldc) {
    #pragma omp for schedule(static)
    for (int k = 0; k < ROW_BLOCKS; k++) {
        int r0 = (int)((long)M * k / ROW_BLOCKS), r1 = (int)((long)M * (k + 1) / ROW_BLOCKS);
        if (r1 <= r0) continue;
        if (bias)
            for (int i = r0; i < r1; i++) memcpy(C + (size_t)i * ldc, bias, sizeof(real) * N);
        nd_gemm(0, transW, r1 - r0, N, K, 1, A + (size_t)r0 * lda, lda, W, ldw, bias ? 1 : beta,
                C + (size_t)r0 * ldc, ldc);
    }
}

/* A weight-gradient product C[M][N] += A^T Bm over K rows (A [K][lda], its first M columns), or a bias
 * gradient C[N] += column sums of Bm (colsum). Each task owns its output, so tasks run in any order. */
typedef struct {
    int colsum, M, N, K;
    const real *A, *Bm;
    int lda, ldb, ldc;
    real *C;
} wtask;

static int add_atb(wtask *t, int n, const real *A, int lda, const real *Bm, int ldb, real *C, int ldc, int M, int N,
                   int K) {
    if (M <= 0 || N <= 0 || K <= 0) return n;
    int np = (M + PIECE_ROWS - 1) / PIECE_ROWS;
    if (np > MAX_PIECES) np = MAX_PIECES;
    for (int k = 0; k < np; k++) {
        int i0 = (int)((long)M * k / np), i1 = (int)((long)M * (k + 1) / np);
        t[n++] = (wtask){0, i1 - i0, N, K, A + i0, Bm, lda, ldb, ldc, C + (size_t)i0 * ldc};
    }
    return n;
}

static int add_colsum(wtask *t, int n, const real *Bm, int ldb, real *C, int N, int K) {
    if (N <= 0 || K <= 0) return n;
    t[n++] = (wtask){1, 1, N, K, NULL, Bm, 0, ldb, 0, C};
    return n;
}

static void run_task(const wtask *t) {
    if (!t->colsum) {
        nd_gemm(1, 0, t->M, t->N, t->K, 1, t->A, t->lda, t->Bm, t->ldb, 1, t->C, t->ldc);
        return;
    }
    enum { W = 512 };
    double acc[W];
    for (int j0 = 0; j0 < t->N; j0 += W) {
        int nj = t->N - j0 < W ? t->N - j0 : W;
        for (int j = 0; j < nj; j++) acc[j] = 0;
        for (int r = 0; r < t->K; r++) {
            const real *row = t->Bm + (size_t)r * t->ldb + j0;
            #pragma omp simd
            for (int j = 0; j < nj; j++) acc[j] += row[j];
        }
        for (int j = 0; j < nj; j++) t->C[j0 + j] += (real)acc[j];
    }
}

/* the weight gradients of a GRU whose gate pre-activation gradients (over K rows) are in dXP: the products of
 * gru_weight_grad_tasks (nn/gru.c), each in row pieces, and b_x += colsum dXP */
static int add_gru_tasks(wtask *t, int n, const gru_params *g, const real *Hprev, const real *RH, const real *X,
                         const real *dXP, int I, int H, int K) {
    wgrad_atb p[3];
    const int np = gru_weight_grad_tasks(g, Hprev, RH, X, dXP, I, H, p);
    for (int k = 0; k < np; k++) n = add_atb(t, n, p[k].A, p[k].lda, p[k].B, p[k].ldb, p[k].C, p[k].ldc, p[k].M, p[k].N, K);
    return add_colsum(t, n, dXP, 3 * H, g->bx, 3 * H, K);
}

/* the loss weights of a batch (nd_lfads_effective_scales); lfads-torch's Gaussian inferred-input prior averages
 * its KL over the Tr steps where neurodyn sums it, so in its units (recon_reduce_mean) kl_co is divided by Tr */
static void model_scales(const nd_lfads_model *m, int Tr, int Nr, nd_lfads_scales *sc) {
    const nd_lfads_config *c = &m->cfg;
    nd_lfads_effective_scales(c, m->ctrl, (int64_t)Tr * Nr, sc);
    if (c->recon_reduce_mean && m->ctrl && m->p.co_prior_mean) sc->kl_co /= Tr;
}

/* ---------------- forward ---------------- */

static void mask_fill(real *mask, size_t n, double p, int active, nd_rng *rng) {
    dropout_mask(mask, n, active ? (real)p : 0, rng);
}

/* bins the CI encoders run: the observed T (ci_zero_pad) or all Tr */
static int ci_bins(const nd_lfads_config *c, int T, int Tr) { return c->ci_zero_pad ? T : Tr; }

/* IC encoder, generator initial state, CI encoder for rows [b0, b0 + nb) */
static void encoders_rows(const nd_lfads_model *m, nd_lfads_work *w, int b0, int nb, real *scr) {
    const nd_lfads_config *c = &m->cfg;
    const nd_lfads_views *p = &m->p;
    const int T = w->T, Tr = w->Tr, B = w->B, Hic = c->ic_enc_dim, icd = c->ic_dim, G = c->gen_dim;
    const int F = c->fac_dim, Hci = m->ctrl ? c->ci_enc_dim : 0, C = m->ctrl ? c->con_dim : 0, lag = c->ci_lag;
    const real clip = (real)c->cell_clip;
    gru_seq_forward(&w->icf, w->RHicf, p->ic_h0_f, &p->ic_f, T, B, Hic, 0, clip, b0, nb, scr);
    gru_seq_forward(&w->icb, w->RHicb, p->ic_h0_b, &p->ic_b, T, B, Hic, 1, clip, b0, nb, scr);
    for (int b = b0; b < b0 + nb; b++) {
        memcpy(w->hic + (size_t)b * 2 * Hic, w->icf.Hs + ((size_t)(T - 1) * B + b) * Hic, sizeof(real) * Hic);
        memcpy(w->hic + (size_t)b * 2 * Hic + Hic, w->icb.Hs + (size_t)b * Hic, sizeof(real) * Hic);
    }
    size_t o2 = (size_t)b0 * 2 * Hic;
    dropout_apply(w->hic_d + o2, w->hic + o2, w->m_hic + o2, (size_t)nb * 2 * Hic);
    linear_forward(w->icp + (size_t)b0 * 2 * icd, w->hic_d + o2, p->ic_W, p->ic_bias, nb, 2 * Hic, 2 * icd);
    for (int b = b0; b < b0 + nb; b++)
        for (int i = 0; i < icd; i++) {
            size_t k = (size_t)b * icd + i;
            real mu = w->icp[(size_t)b * 2 * icd + i], lv = w->icp[(size_t)b * 2 * icd + icd + i];
            w->IC_MU[k] = mu;
            w->IC_LV[k] = lv;
            w->z0[k] = mu + RSQRT(REXP(lv) + (real)c->ic_post_var_min) * w->eps_ic[k];
        }
    linear_forward(w->Gs + (size_t)b0 * G, w->z0 + (size_t)b0 * icd, p->g0_W, p->g0_bias, nb, icd, G); /* slot 0 */
    dropout_apply(w->Gd + (size_t)b0 * G, w->Gs + (size_t)b0 * G, w->m_g + (size_t)b0 * G, (size_t)nb * G);
    nd_gemm(0, 1, nb, F, G, 1, w->Gd + (size_t)b0 * G, G, w->Wn, G, 0, w->F + (size_t)b0 * F, F); /* f0 */
    if (!m->ctrl) return;
    /* CI encoder: controller inputs [fwd(t - lag), bwd(t + lag)], over the Tci bins the CI encoders run (the observed
     * ones with ci_zero_pad, as lfads-torch: zero controller inputs past them) */
    const int Tci = ci_bins(c, T, Tr);
    gru_seq_forward(&w->cif, w->RHcif, p->ci_h0_f, &p->ci_f, Tci, B, Hci, 0, clip, b0, nb, scr);
    gru_seq_forward(&w->cib, w->RHcib, p->ci_h0_b, &p->ci_b, Tci, B, Hci, 1, clip, b0, nb, scr);
    for (int t = 0; t < Tr; t++) {
        for (int b = b0; b < b0 + nb; b++) {
            real *dst = w->CI + ((size_t)t * B + b) * 2 * Hci;
            if (t - lag >= 0 && t < Tci) /* lfads-torch: no controller input past the CI bins */
                memcpy(dst, w->cif.Hs + ((size_t)(t - lag) * B + b) * Hci, sizeof(real) * Hci);
            else memset(dst, 0, sizeof(real) * Hci);
            if (t + lag < Tci) memcpy(dst + Hci, w->cib.Hs + ((size_t)(t + lag) * B + b) * Hci, sizeof(real) * Hci);
            else memset(dst + Hci, 0, sizeof(real) * Hci);
        }
        size_t o = ((size_t)t * B + b0) * 2 * Hci;
        dropout_apply(w->CId + o, w->CI + o, w->m_ci + o, (size_t)nb * 2 * Hci);
    }
    for (int b = b0; b < b0 + nb; b++) memcpy(w->Cs + (size_t)b * C, p->con_h0, sizeof(real) * C);
}

/* controller, generator and factors over all steps for rows [b0, b0 + nb) */
static void decoder_rows(const nd_lfads_model *m, nd_lfads_work *w, int b0, int nb, real *scr) {
    const nd_lfads_config *c = &m->cfg;
    const nd_lfads_views *p = &m->p;
    const int Tr = w->Tr, B = w->B, E = m->E, G = c->gen_dim, F = c->fac_dim, ctrl = m->ctrl;
    const int Hci = ctrl ? c->ci_enc_dim : 0, C = ctrl ? c->con_dim : 0, K = ctrl ? c->co_dim : 0, KE = K + E;
    const real clip = (real)c->cell_clip;
    const real *Wx_f = ctrl ? p->con.Wx + (size_t)2 * Hci * 3 * C : NULL;
    real *xpc = scr + (size_t)CHUNK_ROWS * 3 * w->Hm; /* [nb][3H] input projection of one step */
    for (int t = 0; t < Tr; t++) {
        size_t r = (size_t)t * B + b0; /* row of (t, b0); slot t+1 of a (T+1)-slot array is row r + B */
        if (ctrl) {
            real *fc = w->FCd + r * F;
            dropout_apply(fc, w->F + r * F, w->m_fc + r * F, (size_t)nb * F);
            memcpy(xpc, w->CXP + r * 3 * C, sizeof(real) * nb * 3 * C);
            nd_gemm(0, 0, nb, 3 * C, F, 1, fc, F, Wx_f, 3 * C, 1, xpc, 3 * C);
            gru_step_forward_rh(w->Cs + (r + B) * C, w->Zc + r * C, w->Rc + r * C, w->Nc + r * C, w->RHc + r * C, xpc,
                                w->Cs + r * C, &p->con, nb, C, clip, scr);
            real *co = w->co + (size_t)b0 * 2 * K;
            linear_forward(co, w->Cs + (r + B) * C, p->co_W, p->co_bias, nb, C, 2 * K);
            for (int b = 0; b < nb; b++)
                for (int k = 0; k < K; k++) {
                    size_t i = (r + b) * K + k;
                    real mu = co[(size_t)b * 2 * K + k], lv = co[(size_t)b * 2 * K + K + k];
                    w->UMU[i] = mu;
                    w->ULV[i] = lv;
                    w->U[i] = mu + REXP((real)0.5 * lv) * w->eps_u[i];
                }
        }
        for (int b = 0; b < nb; b++) {
            real *gi = w->GI + (r + b) * KE;
            if (K) memcpy(gi, w->U + (r + b) * K, sizeof(real) * K);
            if (E && c->ext_input_dropout) dropout_apply(gi + K, w->EXT + (r + b) * E, w->m_ext + (r + b) * E, E);
            else if (E) memcpy(gi + K, w->EXT + (r + b) * E, sizeof(real) * E);
        }
        linear_forward(xpc, w->GI + r * KE, p->gen.Wx, p->gen.bx, nb, KE, 3 * G);
        gru_step_forward_rh(w->Gs + (r + B) * G, w->Zg + r * G, w->Rg + r * G, w->Ng + r * G, w->RHg + r * G, xpc,
                            w->Gs + r * G, &p->gen, nb, G, clip, scr);
        dropout_apply(w->Gd + (r + B) * G, w->Gs + (r + B) * G, w->m_g + (r + B) * G, (size_t)nb * G);
        nd_gemm(0, 1, nb, F, G, 1, w->Gd + (r + B) * G, G, w->Wn, G, 0, w->F + (r + B) * F, F);
    }
}

/* Poisson NLL of block k of the reconstruction, summed with the three weightings (scored entries,
 * sample-validation entries, back-propagated entries) */
static void nll_block(nd_lfads_work *w, const real *XR, size_t n, int k) {
    size_t i0 = n * k / LOSS_BLOCKS, i1 = n * (k + 1) / LOSS_BLOCKS;
    const real *wts[3] = {w->wmask + i0, w->svw + i0, w->gmask + i0};
    poisson_nll_sums(w->nll_part[k], 3, wts, w->LR + i0, XR + i0, i1 - i0, w->lgam, 256);
}

/* the same for a reconstruction other than Poisson (read-out rows of P*Nr values); also fills MEAN */
static void recon_block(const nd_lfads_model *m, nd_lfads_work *w, const real *XR, size_t n, int k) {
    size_t i0 = n * k / LOSS_BLOCKS, i1 = n * (k + 1) / LOSS_BLOCKS;
    const int kind = m->cfg.recon, Nr = w->Nr;
    const size_t PNr = (size_t)w->P * Nr;
    const double loc = m->cfg.zig_loc;
    double s0 = 0, s1 = 0, s2 = 0;
    for (size_t i = i0; i < i1; i++) {
        const real *l = w->LR + (i / Nr) * PNr + i % Nr;
        w->MEAN[i] = (real)recon_mean1(kind, l, (size_t)Nr, loc);
        if (!XR) continue;
        real wm = w->wmask[i], sv = w->svw[i], gm = w->gmask[i];
        if (wm == 0 && sv == 0 && gm == 0) continue;
        double v = recon_nll1(kind, l, (size_t)Nr, XR[i], loc);
        if (wm != 0) s0 += wm * v;
        if (sv != 0) s1 += sv * v;
        if (gm != 0) s2 += gm * v;
    }
    w->nll_part[k][0] = s0;
    w->nll_part[k][1] = s1;
    w->nll_part[k][2] = s2;
}

/* Masks and posterior noise of step t (t == Tr: the draws made once per batch), from substream (key, t) */
static void draw_step(const nd_lfads_model *m, nd_lfads_work *w, uint64_t key, int t) {
    const nd_lfads_config *c = &m->cfg;
    const nd_lfads_mode *mode = &w->mode;
    const int T = w->T, Tr = w->Tr, B = w->B, N = w->N, Nr = w->Nr, Hic = c->ic_enc_dim, icd = c->ic_dim;
    const int G = c->gen_dim, F = c->fac_dim, ctrl = m->ctrl;
    const int Hci = ctrl ? c->ci_enc_dim : 0, K = ctrl ? c->co_dim : 0;
    const real *X = w->X, *SV = w->SV;
    const int drop = mode->dropout;
    const double cd = drop ? c->cd_rate : 0, pd = drop ? c->dropout_rate : 0;
    const double sv_keep = SV && c->sv_rate > 0 ? 1 / (1 - c->sv_rate) : 1;
    /* lfads-torch rescales the kept entries' loss by 1/(1 - sv_rate) and the held-out ones' by 1/sv_rate, so
     * that both are on the scale of the full reconstruction (sv_rescale) */
    const real sv_lw = SV && c->sv_rate > 0 && c->sv_rescale ? (real)(1 / (1 - c->sv_rate)) : 1;
    const real sv_hw = SV && c->sv_rate > 0 && c->sv_rescale ? (real)(1 / c->sv_rate) : 1;
    nd_rng r;
    nd_rng_stream(&r, key, 0x11fad5, (uint64_t)t);
    size_t tB = (size_t)t * B;
    if (t == Tr) {
        mask_fill(w->m_hic, (size_t)B * 2 * Hic, pd, drop, &r);
        for (size_t k = 0; k < (size_t)B * icd; k++) w->eps_ic[k] = mode->sample ? (real)nd_rng_normal(&r) : 0;
        mask_fill(w->m_g, (size_t)B * G, pd, drop, &r);
        return;
    }
    /* reconstruction entries that are never input (held-out neurons, forward-prediction bins) are always
     * scored and always back-propagated */
    for (size_t i = tB * Nr; i < (tB + B) * Nr; i++) { w->wmask[i] = 1; w->gmask[i] = 1; w->svw[i] = 0; }
    if (t < T) {
        for (int b = 0; b < B; b++)
            for (int n = 0; n < N; n++) {
                size_t i = (tB + b) * N + n, ir = (tB + b) * Nr + n;
                int is_sv = SV && SV[i] != 0;
                double keep_cd = 1;
                if (cd > 0) keep_cd = nd_rng_uniform(&r) < cd ? 0 : 1 / (1 - cd);
                double keep_d = 1;
                if (pd > 0) keep_d = nd_rng_uniform(&r) < pd ? 0 : 1 / (1 - pd);
                w->m_in[i] = is_sv ? 0 : (real)(keep_cd * sv_keep * keep_d);
                w->wmask[ir] = is_sv ? 0 : sv_lw;
                w->svw[ir] = is_sv ? sv_hw : 0;
                w->gmask[ir] = is_sv ? 0 : (cd > 0 ? (keep_cd == 0) : 1) * sv_lw;
                w->Xenc[i] = X[i] * w->m_in[i];
            }
    } else {
        memset(w->Xenc + tB * N, 0, sizeof(real) * B * N);
    }
    if (ctrl) {
        mask_fill(w->m_ci + tB * 2 * Hci, (size_t)B * 2 * Hci, pd, drop, &r);
        mask_fill(w->m_fc + tB * F, (size_t)B * F, pd, drop, &r);
        for (size_t i = tB * K; i < (tB + B) * K; i++) w->eps_u[i] = mode->sample ? (real)nd_rng_normal(&r) : 0;
    }
    mask_fill(w->m_g + (tB + B) * G, (size_t)B * G, pd, drop, &r);
    /* drawn last, so that the other draws do not depend on it */
    if (w->EXT && c->ext_input_dropout) mask_fill(w->m_ext + tB * m->E, (size_t)B * m->E, pd, drop, &r);
}

void nd_lfads_forward_recon(const nd_lfads_model *m, nd_lfads_work *w, const real *X, const real *XR,
                            const real *EXT, const real *SV, int B, const nd_lfads_mode *mode, nd_rng *rng,
                            nd_lfads_loss *loss) {
    const nd_lfads_config *c = &m->cfg;
    const nd_lfads_views *p = &m->p;
    w->ses = mode->session >= 0 && mode->session < m->S ? mode->session : 0;
    nd_lfads_session_bind(m, m->params, w->ses, &w->sv);
    const int T = w->T, Tr = w->Tr, N = w->sv.N, Nr = w->sv.Nr, D = m->Din, E = m->E, Hic = c->ic_enc_dim;
    const int icd = c->ic_dim, G = c->gen_dim;
    const int F = c->fac_dim, ctrl = m->ctrl;
    const int Hci = ctrl ? c->ci_enc_dim : 0, C = ctrl ? c->con_dim : 0, K = ctrl ? c->co_dim : 0;
    const size_t TBNr = (size_t)Tr * B * Nr;
    const nd_lfads_session_views *sp = &w->sv;
    w->B = B;
    w->N = N;
    w->Nr = Nr;
    w->Xin = m->readin ? w->Xri : w->Xenc;
    w->mode = *mode;
    w->X = X;
    w->XR = XR;
    w->EXT = E ? EXT : NULL;
    w->SV = SV;

    /* input masks: sample validation, coordinated dropout, dropout */
    int drop = mode->dropout;
    double cd = drop ? c->cd_rate : 0;
    const int draws = (drop || mode->sample) && rng;
    /* one number from the caller's stream keys a substream per step (draw_step): the masks and samples of
     * different steps are drawn in parallel, the same whatever the number of threads */
    const uint64_t key = draws ? nd_rng_u64(rng) : 0;
    factor_normalize(w->Wn, w->norms, p->fac_W, F, G);
    if (m->readin && Tr > T) memset(w->Xri + (size_t)T * B * D, 0, sizeof(real) * (size_t)(Tr - T) * B * D);

    const int nch = n_chunks(B);
    #pragma omp parallel num_threads(region_threads())
    {
        #pragma omp for schedule(static)
        for (int t = 0; t <= Tr; t++) draw_step(m, w, key, t);
        /* stitched: the session's read-in of the observed bins (the bins past T stay zero, as Xenc's) */
        if (m->readin) gemm_rows(0, T * B, D, N, w->Xenc, N, sp->ri_W, D, sp->ri_bias, 0, w->Xri, D);
        /* input projections of the encoders, all steps at once */
        const real *Xin = w->Xin;
        gemm_rows(0, T * B, 3 * Hic, D, Xin, D, p->ic_f.Wx, 3 * Hic, p->ic_f.bx, 0, w->icf.XP, 3 * Hic);
        gemm_rows(0, T * B, 3 * Hic, D, Xin, D, p->ic_b.Wx, 3 * Hic, p->ic_b.bx, 0, w->icb.XP, 3 * Hic);
        if (ctrl) {
            gemm_rows(0, Tr * B, 3 * Hci, D, Xin, D, p->ci_f.Wx, 3 * Hci, p->ci_f.bx, 0, w->cif.XP, 3 * Hci);
            gemm_rows(0, Tr * B, 3 * Hci, D, Xin, D, p->ci_b.Wx, 3 * Hci, p->ci_b.bx, 0, w->cib.XP, 3 * Hci);
        }
        #pragma omp for schedule(dynamic, 1)
        for (int ci = 0; ci < nch; ci++) {
            int b0, nb = chunk_rows(B, ci, nch, &b0);
            encoders_rows(m, w, b0, nb, w->cscr + (size_t)ci * w->cscr_n);
        }
        /* CI part of the controller input projection, all steps at once */
        if (ctrl) gemm_rows(0, Tr * B, 3 * C, 2 * Hci, w->CId, 2 * Hci, p->con.Wx, 3 * C, p->con.bx, 0, w->CXP, 3 * C);
        #pragma omp for schedule(dynamic, 1)
        for (int ci = 0; ci < nch; ci++) {
            int b0, nb = chunk_rows(B, ci, nch, &b0);
            decoder_rows(m, w, b0, nb, w->cscr + (size_t)ci * w->cscr_n);
        }
        /* read-out: log-rates of all steps in one GEMM */
        const int PNr = w->P * Nr;
        gemm_rows(0, Tr * B, PNr, F, w->F + (size_t)B * F, F, sp->ro_W, PNr, sp->ro_bias, 0, w->LR, PNr);
        if (w->P > 1) {
            #pragma omp for schedule(static)
            for (int k = 0; k < LOSS_BLOCKS; k++) recon_block(m, w, XR, TBNr, k);
        } else if (XR) {
            #pragma omp for schedule(static)
            for (int k = 0; k < LOSS_BLOCKS; k++) nll_block(w, XR, TBNr, k);
        }
    }

    /* losses, per trial */
    nd_lfads_loss L;
    memset(&L, 0, sizeof L);
    nd_lfads_scales sc;
    model_scales(m, Tr, Nr, &sc);
    double recon_grad = 0;
    if (XR) {
        double s[3] = {0, 0, 0};
        for (int k = 0; k < LOSS_BLOCKS; k++)
            for (int j = 0; j < 3; j++) s[j] += w->nll_part[k][j];
        L.recon = s[0] / B;
        if (SV) L.recon_sv = s[1] / B;
        recon_grad = cd > 0 ? s[2] / B : L.recon;
    }
    L.kl_ic = kl_gauss_forward(w->IC_MU, w->IC_LV, p->ic_prior_mean, (real)c->ic_prior_var,
                               (real)c->ic_post_var_min, B, icd) / B;
    if (ctrl) {
        if (c->co_prior_ar1) L.kl_co = kl_ar1_forward(w->U, w->UMU, w->ULV, p->ar_logtau, p->ar_lognvar, Tr, B, K) / B;
        else if (p->co_prior_mean) /* analytic, learned mean (lfads-torch's MultivariateNormal) */
            L.kl_co = kl_gauss_forward(w->UMU, w->ULV, p->co_prior_mean, (real)c->co_prior_var, 0, Tr * B, K) / B;
        else L.kl_co = kl_gauss_sampled_forward(w->U, w->UMU, w->ULV, (real)c->co_prior_var, (size_t)Tr * B * K) / B;
        L.l2 += l2_forward(p->con.Uzr, gru_num_recurrent(C), (real)sc.l2_con, gru_num_recurrent(C));
    }
    L.l2 += l2_forward(p->gen.Uzr, gru_num_recurrent(G), (real)sc.l2_gen, gru_num_recurrent(G));
    double reg = mode->ramp_kl * (sc.kl_ic * L.kl_ic + sc.kl_co * L.kl_co) + mode->ramp_l2 * L.l2;
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

/* gradient on the read-out (non-Poisson) for reconstruction entries [i0, i1): all P values of each entry */
static void recon_grad_rows(const nd_lfads_model *m, nd_lfads_work *w, size_t i0, size_t i1, real invB) {
    const int kind = m->cfg.recon, Nr = w->Nr, P = w->P;
    const size_t PNr = (size_t)P * Nr;
    const double loc = m->cfg.zig_loc;
    for (size_t i = i0; i < i1; i++) {
        size_t o = (i / Nr) * PNr + i % Nr;
        real gm = w->XR ? w->gmask[i] : 0;
        double g[3] = {0, 0, 0};
        if (gm != 0) recon_grad1(kind, g, w->LR + o, (size_t)Nr, w->XR[i], loc, (double)invB * gm);
        for (int p = 0; p < P; p++) w->dLR[o + (size_t)p * Nr] = (real)g[p];
    }
}

/* backward through the decoder (factors, generator, inferred inputs, controller) for rows [b0, b0 + nb).
 * Leaves the gradient on g0 in w->dg and on the controller's initial state in w->dc (these rows). */
static void decoder_back_rows(const nd_lfads_model *m, nd_lfads_work *w, int b0, int nb, real *scr) {
    const nd_lfads_config *c = &m->cfg;
    const nd_lfads_views *p = &m->p;
    const int T = w->Tr, B = w->B, G = c->gen_dim, F = c->fac_dim, ctrl = m->ctrl;
    const int Hci = ctrl ? c->ci_enc_dim : 0, C = ctrl ? c->con_dim : 0, K = ctrl ? c->co_dim : 0, KE = K + m->E;
    const real clip = (real)c->cell_clip;
    const real *Wx_f = ctrl ? p->con.Wx + (size_t)2 * Hci * 3 * C : NULL;
    real *tmp = scr + (size_t)CHUNK_ROWS * 6 * w->Hm; /* [nb][max(G, F)] */
    real *dg = w->dg + (size_t)b0 * G, *dgp = w->dgp + (size_t)b0 * G;
    real *dc = ctrl ? w->dc + (size_t)b0 * C : NULL, *dcp = ctrl ? w->dcp + (size_t)b0 * C : NULL;
    memset(dg, 0, sizeof(real) * nb * G);
    if (ctrl) memset(dc, 0, sizeof(real) * nb * C);
    for (int t = T - 1; t >= -1; t--) {
        size_t s = (size_t)(t + 1) * B + b0; /* row of g_t / f_t (slot t+1) */
        /* factors f = (g * mask) Wn^T */
        nd_gemm(0, 0, nb, G, F, 1, w->dF + s * F, F, w->Wn, G, 0, tmp, G);
        dropout_backward(dg, tmp, w->m_g + s * G, (size_t)nb * G);
        if (t < 0) break; /* dg now holds the gradient w.r.t. g0 */
        size_t r = (size_t)t * B + b0;
        /* generator step */
        memset(dgp, 0, sizeof(real) * nb * G);
        gru_step_backward_data(w->dGXP + r * 3 * G, dgp, dg, w->Zg + r * G, w->Rg + r * G, w->Ng + r * G,
                               w->Gs + r * G, &p->gen, nb, G, clip, scr);
        real *sw = dg; dg = dgp; dgp = sw;
        if (!ctrl) continue;
        /* inferred inputs u = mu + exp(lv/2) eps, then the controller */
        real *dGI = w->dGI + (size_t)b0 * KE;
        nd_gemm(0, 1, nb, KE, 3 * G, 1, w->dGXP + r * 3 * G, 3 * G, p->gen.Wx, 3 * G, 0, dGI, KE);
        real *dco = w->dCO + r * 2 * K;
        for (int b = 0; b < nb; b++)
            for (int k = 0; k < K; k++) {
                size_t i = (r + b) * K + k;
                real du = w->dU[i] + dGI[(size_t)b * KE + k];
                dco[(size_t)b * 2 * K + k] = w->dUMU[i] + du;
                dco[(size_t)b * 2 * K + K + k] = w->dULV[i] + du * (real)0.5 * (w->U[i] - w->UMU[i]);
            }
        nd_gemm(0, 1, nb, C, 2 * K, 1, dco, 2 * K, p->co_W, 2 * K, 1, dc, C);
        memset(dcp, 0, sizeof(real) * nb * C);
        real *dcxp = w->dCXP + r * 3 * C;
        gru_step_backward_data(dcxp, dcp, dc, w->Zc + r * C, w->Rc + r * C, w->Nc + r * C, w->Cs + r * C, &p->con, nb,
                               C, clip, scr);
        nd_gemm(0, 1, nb, F, 3 * C, 1, dcxp, 3 * C, Wx_f, 3 * C, 0, tmp, F);
        dropout_backward(w->dF + r * F, tmp, w->m_fc + r * F, (size_t)nb * F);
        sw = dc; dc = dcp; dcp = sw;
    }
    if (dg != w->dg + (size_t)b0 * G) memcpy(w->dg + (size_t)b0 * G, dg, sizeof(real) * nb * G);
    if (ctrl && dc != w->dc + (size_t)b0 * C) memcpy(w->dc + (size_t)b0 * C, dc, sizeof(real) * nb * C);
}

/* backward through the IC and CI encoders for rows [b0, b0 + nb) */
static void encoders_back_rows(const nd_lfads_model *m, nd_lfads_work *w, int b0, int nb, real *scr) {
    const nd_lfads_config *c = &m->cfg;
    const nd_lfads_views *p = &m->p;
    const int Te = w->T, T = w->Tr, B = w->B, Hic = c->ic_enc_dim, ctrl = m->ctrl, lag = c->ci_lag;
    const int Hci = ctrl ? c->ci_enc_dim : 0;
    const real clip = (real)c->cell_clip;
    const size_t dh0s = (size_t)w->Bmax * w->Hm; /* dh0 holds four [B][H] blocks: icf, icb, cif, cib */
    /* IC encoder: gradient only on the final states */
    for (int t = 0; t < Te; t++) {
        memset(w->dHs1 + ((size_t)t * B + b0) * Hic, 0, sizeof(real) * nb * Hic);
        memset(w->dHs2 + ((size_t)t * B + b0) * Hic, 0, sizeof(real) * nb * Hic);
    }
    for (int b = b0; b < b0 + nb; b++) {
        memcpy(w->dHs1 + ((size_t)(Te - 1) * B + b) * Hic, w->dhic + (size_t)b * 2 * Hic, sizeof(real) * Hic);
        memcpy(w->dHs2 + (size_t)b * Hic, w->dhic + (size_t)b * 2 * Hic + Hic, sizeof(real) * Hic);
    }
    gru_seq_backward_data(&w->icf, w->dHs1, w->dh0, &p->ic_f, Te, B, Hic, 0, clip, b0, nb, scr);
    gru_seq_backward_data(&w->icb, w->dHs2, w->dh0 + dh0s, &p->ic_b, Te, B, Hic, 1, clip, b0, nb, scr);
    if (!ctrl) return;
    for (int t = 0; t < T; t++) {
        size_t o = ((size_t)t * B + b0) * 2 * Hci;
        for (size_t i = 0; i < (size_t)nb * 2 * Hci; i++) w->dCI[o + i] *= w->m_ci[o + i];
        memset(w->dHs3 + ((size_t)t * B + b0) * Hci, 0, sizeof(real) * nb * Hci);
        memset(w->dHs4 + ((size_t)t * B + b0) * Hci, 0, sizeof(real) * nb * Hci);
    }
    const int Tci = ci_bins(c, Te, T);
    for (int t = 0; t < T; t++)
        for (int b = b0; b < b0 + nb; b++) {
            const real *src = w->dCI + ((size_t)t * B + b) * 2 * Hci;
            if (t - lag >= 0 && t < Tci) {
                real *d = w->dHs3 + ((size_t)(t - lag) * B + b) * Hci;
                for (int j = 0; j < Hci; j++) d[j] += src[j];
            }
            if (t + lag < Tci) {
                real *d = w->dHs4 + ((size_t)(t + lag) * B + b) * Hci;
                for (int j = 0; j < Hci; j++) d[j] += src[Hci + j];
            }
        }
    gru_seq_backward_data(&w->cif, w->dHs3, w->dh0 + 2 * dh0s, &p->ci_f, Tci, B, Hci, 0, clip, b0, nb, scr);
    gru_seq_backward_data(&w->cib, w->dHs4, w->dh0 + 3 * dh0s, &p->ci_b, Tci, B, Hci, 1, clip, b0, nb, scr);
}

static void add_colsum_rows(real *dst, const real *src, int B, int H) {
    for (int b = 0; b < B; b++)
        for (int j = 0; j < H; j++) dst[j] += src[(size_t)b * H + j];
}

void nd_lfads_backward(const nd_lfads_model *m, nd_lfads_work *w, real *grads) {
    const nd_lfads_config *c = &m->cfg;
    const nd_lfads_views *p = &m->p;
    nd_lfads_views g;
    bind_shared(&g, grads, c, m->Din, m->E);
    nd_lfads_session_views gs; /* the batch's session block of the gradient */
    nd_lfads_session_bind(m, grads, w->ses, &gs);
    const nd_lfads_session_views *sp = &w->sv;
    const int B = w->B, Te = w->T, T = w->Tr, N = w->N, Nr = w->Nr, D = m->Din, Hic = c->ic_enc_dim;
    const int icd = c->ic_dim;
    const int G = c->gen_dim;
    const int F = c->fac_dim, ctrl = m->ctrl;
    const int Hci = ctrl ? c->ci_enc_dim : 0, C = ctrl ? c->con_dim : 0, K = ctrl ? c->co_dim : 0;
    const int KE = K + m->E, P = w->P;
    const real invB = (real)1 / B;
    const size_t TB = (size_t)T * B, TBNr = TB * Nr, TeB = (size_t)Te * B;
    nd_lfads_scales sc;
    model_scales(m, T, Nr, &sc);
    const real kl_ic_w = (real)(w->mode.ramp_kl * sc.kl_ic) * invB;
    const real kl_co_w = (real)(w->mode.ramp_kl * sc.kl_co) * invB;
    const int nch = n_chunks(B), nt = region_threads();

    if (ctrl) {
        size_t n = TB * K;
        memset(w->dU, 0, sizeof(real) * n);
        memset(w->dUMU, 0, sizeof(real) * n);
        memset(w->dULV, 0, sizeof(real) * n);
        if (c->co_prior_ar1)
            kl_ar1_backward(w->dU, w->dUMU, w->dULV, g.ar_logtau, g.ar_lognvar, w->U, w->UMU, w->ULV, p->ar_logtau,
                            p->ar_lognvar, kl_co_w, T, B, K);
        else if (p->co_prior_mean)
            kl_gauss_backward(w->dUMU, w->dULV, g.co_prior_mean, w->UMU, w->ULV, p->co_prior_mean,
                              (real)c->co_prior_var, 0, kl_co_w, T * B, K);
        else
            kl_gauss_sampled_backward(w->dU, w->dUMU, w->dULV, w->U, w->UMU, w->ULV, (real)c->co_prior_var, kl_co_w, n);
    }
    memset(w->dF, 0, sizeof(real) * B * F);
    memset(w->dWn, 0, sizeof(real) * F * G);
    #pragma omp parallel num_threads(nt)
    {
        /* reconstruction -> read-out */
        #pragma omp for schedule(static)
        for (int k = 0; k < ROW_BLOCKS; k++) {
            size_t i0 = TBNr * k / ROW_BLOCKS, i1 = TBNr * (k + 1) / ROW_BLOCKS;
            const real *lr = w->LR, *x = w->XR, *gm = w->gmask;
            real *d = w->dLR;
            if (P > 1) {
                recon_grad_rows(m, w, i0, i1, invB);
                continue;
            }
            if (!x) { memset(d + i0, 0, sizeof(real) * (i1 - i0)); continue; }
            poisson_nll_backward(d + i0, lr + i0, x + i0, gm + i0, invB, i1 - i0);
        }
        gemm_rows(1, T * B, F, P * Nr, w->dLR, P * Nr, sp->ro_W, P * Nr, NULL, 0, w->dF + (size_t)B * F, F);
        #pragma omp for schedule(dynamic, 1)
        for (int ci = 0; ci < nch; ci++) {
            int b0, nb = chunk_rows(B, ci, nch, &b0);
            decoder_back_rows(m, w, b0, nb, w->cscr + (size_t)ci * w->cscr_n);
        }
    }

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
    memset(w->dhic_d, 0, sizeof(real) * B * 2 * Hic);
    linear_backward(w->dhic_d, g.ic_W, g.ic_bias, w->dicp, w->hic_d, p->ic_W, B, 2 * Hic, 2 * icd);
    dropout_backward(w->dhic, w->dhic_d, w->m_hic, (size_t)B * 2 * Hic);

    /* the weight gradients of every layer that runs over all steps, as products over all rows */
    wtask tk[MAX_TASKS];
    int ntk = 0;
    ntk = add_atb(tk, ntk, w->F + (size_t)B * F, F, w->dLR, P * Nr, gs.ro_W, P * Nr, F, P * Nr, (int)TB);
    ntk = add_colsum(tk, ntk, w->dLR, P * Nr, gs.ro_bias, P * Nr, (int)TB);
    ntk = add_atb(tk, ntk, w->dF, F, w->Gd, G, w->dWn, G, F, G, (int)(TB + B));
    ntk = add_gru_tasks(tk, ntk, &g.gen, w->Gs, w->RHg, w->GI, w->dGXP, KE, G, (int)TB);
    if (ctrl) {
        ntk = add_atb(tk, ntk, w->Cs + (size_t)B * C, C, w->dCO, 2 * K, g.co_W, 2 * K, C, 2 * K, (int)TB);
        ntk = add_colsum(tk, ntk, w->dCO, 2 * K, g.co_bias, 2 * K, (int)TB);
        /* controller input [CI | f]: both parts of Wx, one bias */
        ntk = add_gru_tasks(tk, ntk, &g.con, w->Cs, w->RHc, w->CId, w->dCXP, 2 * Hci, C, (int)TB);
        ntk = add_atb(tk, ntk, w->FCd, F, w->dCXP, 3 * C, g.con.Wx + (size_t)2 * Hci * 3 * C, 3 * C, F, 3 * C, (int)TB);
        /* the CI encoders' rows: the Tci bins they ran (t-major rows, so the first Tci * B) */
        const int TciB = ci_bins(c, Te, T) * B;
        ntk = add_gru_tasks(tk, ntk, &g.ci_f, w->cif.Hs - (size_t)B * Hci, w->RHcif, w->Xin, w->cif.XP, D, Hci, TciB);
        ntk = add_gru_tasks(tk, ntk, &g.ci_b, w->cib.Hs + (size_t)B * Hci, w->RHcib, w->Xin, w->cib.XP, D, Hci, TciB);
    }
    ntk = add_gru_tasks(tk, ntk, &g.ic_f, w->icf.Hs - (size_t)B * Hic, w->RHicf, w->Xin, w->icf.XP, D, Hic,
                        (int)TeB);
    ntk = add_gru_tasks(tk, ntk, &g.ic_b, w->icb.Hs + (size_t)B * Hic, w->RHicb, w->Xin, w->icb.XP, D, Hic,
                        (int)TeB);

    #pragma omp parallel num_threads(nt)
    {
        /* CI part of the controller input: its gradient for all steps at once */
        if (ctrl) gemm_rows(1, T * B, 2 * Hci, 3 * C, w->dCXP, 3 * C, p->con.Wx, 3 * C, NULL, 0, w->dCI, 2 * Hci);
        #pragma omp for schedule(dynamic, 1)
        for (int ci = 0; ci < nch; ci++) {
            int b0, nb = chunk_rows(B, ci, nch, &b0);
            encoders_back_rows(m, w, b0, nb, w->cscr + (size_t)ci * w->cscr_n);
        }
        #pragma omp for schedule(dynamic, 1)
        for (int k = 0; k < ntk; k++) run_task(&tk[k]);
    }

    /* stitched: the read-in's gradient. dXri = the input gradients of the four encoders over the observed bins
     * (the CI encoders' rows past T saw constant zeros); then ri_W += Xenc^T dXri, ri_bias += colsum dXri. */
    if (m->readin) {
        wtask rt[MAX_PIECES + 1];
        int nrt = add_atb(rt, 0, w->Xenc, N, w->dXri, D, gs.ri_W, D, N, D, (int)TeB);
        nrt = add_colsum(rt, nrt, w->dXri, D, gs.ri_bias, D, (int)TeB);
        #pragma omp parallel num_threads(nt)
        {
            gemm_rows(1, Te * B, D, 3 * Hic, w->icf.XP, 3 * Hic, p->ic_f.Wx, 3 * Hic, NULL, 0, w->dXri, D);
            gemm_rows(1, Te * B, D, 3 * Hic, w->icb.XP, 3 * Hic, p->ic_b.Wx, 3 * Hic, NULL, 1, w->dXri, D);
            if (ctrl) {
                gemm_rows(1, Te * B, D, 3 * Hci, w->cif.XP, 3 * Hci, p->ci_f.Wx, 3 * Hci, NULL, 1, w->dXri, D);
                gemm_rows(1, Te * B, D, 3 * Hci, w->cib.XP, 3 * Hci, p->ci_b.Wx, 3 * Hci, NULL, 1, w->dXri, D);
            }
            #pragma omp for schedule(dynamic, 1)
            for (int k = 0; k < nrt; k++) run_task(&rt[k]);
        }
    }
    factor_normalize_backward(g.fac_W, w->dWn, w->Wn, w->norms, F, G);
    const size_t dh0s = (size_t)w->Bmax * w->Hm;
    add_colsum_rows(g.ic_h0_f, w->dh0, B, Hic);
    add_colsum_rows(g.ic_h0_b, w->dh0 + dh0s, B, Hic);
    if (ctrl) {
        add_colsum_rows(g.ci_h0_f, w->dh0 + 2 * dh0s, B, Hci);
        add_colsum_rows(g.ci_h0_b, w->dh0 + 3 * dh0s, B, Hci);
        add_colsum_rows(g.con_h0, w->dc, B, C);
        l2_backward(g.con.Uzr, p->con.Uzr, gru_num_recurrent(C), (real)(w->mode.ramp_l2 * sc.l2_con),
                    gru_num_recurrent(C));
    }
    l2_backward(g.gen.Uzr, p->gen.Uzr, gru_num_recurrent(G), (real)(w->mode.ramp_l2 * sc.l2_gen),
                gru_num_recurrent(G));
}

void nd_lfads_outputs_get(const nd_lfads_model *m, const nd_lfads_work *w, nd_lfads_outputs *o) {
    size_t B = (size_t)w->B;
    memset(o, 0, sizeof *o);
    o->T = w->Tr;
    o->B = w->B;
    o->P = w->P;
    o->recon_params = w->LR;
    o->means = w->MEAN;
    o->log_rates = w->P == 1 ? w->LR : NULL;
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
