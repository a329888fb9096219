#include "tcn.h"
#include "../core/blas.h"
#include "../core/mem.h"
#include "../core/rng.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

size_t nd_tcn_bind(const nd_tcn_config *c, real *base, nd_tcn_layer *L, real **ws, real **bs, real **wv, real **bv) {
    size_t off = 0;
    for (int l = 0; l < c->depth; l++) {
        int K = l ? c->kernel : c->first_kernel, Cin = l ? c->width : c->syn;
        size_t nW = (size_t)K * Cin * c->width;
        if (L) {
            L[l].W = base + off;
            L[l].b = base + off + nW;
            L[l].g = base + off + nW + c->width;
            L[l].beta = base + off + nW + 2 * (size_t)c->width;
        }
        off += nW + 3 * (size_t)c->width;
    }
    if (ws) { *ws = base + off; *bs = base + off + c->width; *wv = base + off + c->width + 1; *bv = base + off + 2 * c->width + 1; }
    return off + 2 * (size_t)c->width + 2;
}

nd_status nd_tcn_config_check(const nd_tcn_config *c, nd_error *err) {
    if (c->syn < 1 || c->syn > 10000000) return nd_fail(err, ND_ERR_ARG, "TCN: %d input synapses", c->syn);
    if (c->depth < 1 || c->depth > ND_TCN_MAX_DEPTH)
        return nd_fail(err, ND_ERR_ARG, "TCN: --depth %d must be in 1..%d", c->depth, ND_TCN_MAX_DEPTH);
    if (c->width < 1 || c->width > 4096) return nd_fail(err, ND_ERR_ARG, "TCN: --width %d must be in 1..4096", c->width);
    if (c->first_kernel < 1 || c->first_kernel > 2000)
        return nd_fail(err, ND_ERR_ARG, "TCN: --first-kernel %d must be in 1..2000", c->first_kernel);
    if (c->kernel < 1 || c->kernel > 2000) return nd_fail(err, ND_ERR_ARG, "TCN: --kernel %d must be in 1..2000", c->kernel);
    if ((double)c->first_kernel * c->syn * c->width > 2e9)
        return nd_fail(err, ND_ERR_ARG, "TCN: first layer of %d x %d x %d weights is too large", c->first_kernel,
                       c->syn, c->width);
    return ND_OK;
}

int nd_tcn_receptive_field(const nd_tcn_config *c) { return c->first_kernel + (c->depth - 1) * (c->kernel - 1); }

nd_status nd_tcn_create(nd_tcn_model *m, const nd_tcn_config *c, nd_error *err) {
    memset(m, 0, sizeof *m);
    nd_status st = nd_tcn_config_check(c, err);
    if (st) return st;
    m->cfg = *c;
    m->n_params = nd_tcn_bind(c, NULL, NULL, NULL, NULL, NULL, NULL);
    m->params = nd_alloc(sizeof(real) * m->n_params);
    m->bn_stats = nd_alloc(sizeof(real) * 2 * (size_t)c->depth * c->width);
    if (!m->params || !m->bn_stats) {
        nd_tcn_free(m);
        return nd_fail(err, ND_ERR_NOMEM, "TCN: out of memory for %zu parameters", m->n_params);
    }
    memset(m->params, 0, sizeof(real) * m->n_params);
    for (int l = 0; l < c->depth; l++)
        for (int j = 0; j < c->width; j++) {
            m->bn_stats[(size_t)2 * l * c->width + j] = 0;
            m->bn_stats[(size_t)(2 * l + 1) * c->width + j] = 1;
        }
    nd_tcn_bind(c, m->params, m->L, &m->w_spike, &m->b_spike, &m->w_volt, &m->b_volt);
    return ND_OK;
}

void nd_tcn_free(nd_tcn_model *m) {
    nd_free(m->params);
    nd_free(m->bn_stats);
    memset(m, 0, sizeof *m);
}

void nd_tcn_init(nd_tcn_model *m, uint64_t seed) {
    const nd_tcn_config *c = &m->cfg;
    nd_rng r;
    nd_rng_seed(&r, seed);
    for (int l = 0; l < c->depth; l++) {
        int K = l ? c->kernel : c->first_kernel, Cin = l ? c->width : c->syn;
        size_t nW = (size_t)K * Cin * c->width;
        double sd = sqrt(2.0 / ((double)K * Cin));
        for (size_t i = 0; i < nW; i++) m->L[l].W[i] = (real)(sd * nd_rng_normal(&r));
        for (int j = 0; j < c->width; j++) { m->L[l].b[j] = 0; m->L[l].g[j] = 1; m->L[l].beta[j] = 0; }
    }
    double sd = 0.01 / sqrt((double)c->width);
    for (int j = 0; j < c->width; j++) {
        m->w_spike[j] = (real)(sd * nd_rng_normal(&r));
        m->w_volt[j] = (real)(sd * nd_rng_normal(&r));
    }
    *m->b_spike = -2;
    *m->b_volt = 0;
}

struct nd_tcn_work {
    int T, Bmax, B, depth, W;
    real *Z[ND_TCN_MAX_DEPTH], *A[ND_TCN_MAX_DEPTH], *H[ND_TCN_MAX_DEPTH]; /* conv out, relu, norm out [T][B][W] */
    real *mean[ND_TCN_MAX_DEPTH], *rstd[ND_TCN_MAX_DEPTH];               /* batch statistics [W] */
    real *logit, *volt, *dlogit, *dvolt;                                  /* [T][B] */
    real *dH, *dZ;                                                        /* [T][B][W] scratch */
    const nd_spike_events *ev;
    nd_tcn_targets tg;
    double wsum;
    real *buf;
};

nd_status nd_tcn_work_create(nd_tcn_work **out, const nd_tcn_model *m, int T, int Bmax, nd_error *err) {
    if (T < 1 || Bmax < 1) return nd_fail(err, ND_ERR_ARG, "TCN: work of %d steps x %d sequences", T, Bmax);
    nd_tcn_work *w = calloc(1, sizeof *w);
    if (!w) return nd_fail(err, ND_ERR_NOMEM, "TCN: out of memory");
    const int D = m->cfg.depth, W = m->cfg.width;
    const size_t big = (size_t)T * Bmax * W, small = (size_t)T * Bmax;
    size_t total = (3 * (size_t)D + 2) * big + (2 * (size_t)D + 4) * small;
    w->buf = nd_alloc(sizeof(real) * total);
    if (!w->buf) { free(w); return nd_fail(err, ND_ERR_NOMEM, "TCN: out of memory for activations of %d x %d", T, Bmax); }
    real *p = w->buf;
    for (int l = 0; l < D; l++) {
        w->Z[l] = p; p += big;
        w->A[l] = p; p += big;
        w->H[l] = p; p += big;
        w->mean[l] = p; p += small;
        w->rstd[l] = p; p += small;
    }
    w->dH = p; p += big;
    w->dZ = p; p += big;
    w->logit = p; p += small;
    w->volt = p; p += small;
    w->dlogit = p; p += small;
    w->dvolt = p;
    w->T = T;
    w->Bmax = Bmax;
    w->depth = D;
    w->W = W;
    *out = w;
    return ND_OK;
}

void nd_tcn_work_free(nd_tcn_work *w) {
    if (!w) return;
    nd_free(w->buf);
    free(w);
}

/* out[r] = X[r] . v + b for r < rows: one GEMV as a GEMM */
static void head_forward(real *out, const real *X, const real *v, real b, size_t rows, int W) {
    for (size_t r = 0; r < rows; r++) out[r] = b;
    nd_gemm(0, 0, (int)rows, 1, W, 1, X, W, v, 1, 1, out, 1);
}

void nd_tcn_forward(nd_tcn_model *m, nd_tcn_work *w, const nd_spike_events *ev, int B, int train,
                    const nd_tcn_targets *tg, nd_tcn_loss *loss, const real **logit, const real **volt) {
    const nd_tcn_config *c = &m->cfg;
    const int T = w->T, W = c->width;
    const size_t rows = (size_t)T * B;
    w->B = B;
    w->ev = ev;
    for (int l = 0; l < c->depth; l++) {
        if (l == 0) spikeconv_forward(w->Z[0], ev, m->L[0].W, m->L[0].b, T, B, c->syn, W, c->first_kernel);
        else conv1d_forward(w->Z[l], w->H[l - 1], m->L[l].W, m->L[l].b, T, B, W, W, c->kernel);
        real *run_mean = m->bn_stats + (size_t)2 * l * W, *run_var = run_mean + W;
        if (!train) {
            relu_forward(w->A[l], w->Z[l], rows * W);
            batchnorm_forward_eval(w->H[l], w->A[l], m->L[l].g, m->L[l].beta, run_mean, run_var, rows, W);
            continue;
        }
        relu_batchnorm_forward_train(w->A[l], w->H[l], w->mean[l], w->rstd[l], w->Z[l], m->L[l].g, m->L[l].beta,
                                     rows, W);
        const real mom = (real)ND_TCN_BN_MOMENTUM;
        for (int j = 0; j < W; j++) {
            real var = 1 / (w->rstd[l][j] * w->rstd[l][j]) - (real)ND_BATCHNORM_EPS;
            run_mean[j] = (1 - mom) * run_mean[j] + mom * w->mean[l][j];
            run_var[j] = (1 - mom) * run_var[j] + mom * (var > 0 ? var : 0);
        }
    }
    const real *Hl = w->H[c->depth - 1];
    head_forward(w->logit, Hl, m->w_spike, *m->b_spike, rows, W);
    head_forward(w->volt, Hl, m->w_volt, *m->b_volt, rows, W);
    if (logit) *logit = w->logit;
    if (volt) *volt = w->volt;
    if (!tg) return;
    w->tg = *tg;
    double ws = 0;
    for (size_t r = 0; r < rows; r++) ws += tg->weight ? tg->weight[r] : 1;
    w->wsum = ws > 0 ? ws : 1;
    double bce = bce_logits_forward(w->logit, tg->spike, tg->weight, rows) / w->wsum;
    double mse = sqerr_forward(w->volt, tg->volt, tg->weight, rows) / w->wsum;
    if (loss) { loss->bce = bce; loss->mse = mse; loss->total = tg->spike_weight * bce + mse; }
}

void nd_tcn_backward(const nd_tcn_model *m, nd_tcn_work *w, real *grads) {
    const nd_tcn_config *c = &m->cfg;
    const int T = w->T, B = w->B, W = c->width;
    const size_t rows = (size_t)T * B, n = rows * W;
    nd_tcn_layer G[ND_TCN_MAX_DEPTH];
    real *gws, *gbs, *gwv, *gbv;
    nd_tcn_bind(c, grads, G, &gws, &gbs, &gwv, &gbv);
    memset(w->dlogit, 0, sizeof(real) * rows);
    memset(w->dvolt, 0, sizeof(real) * rows);
    bce_logits_backward(w->dlogit, w->logit, w->tg.spike, w->tg.weight, (real)(w->tg.spike_weight / w->wsum), rows);
    sqerr_backward(w->dvolt, w->volt, w->tg.volt, w->tg.weight, (real)(1 / w->wsum), rows);
    const real *Hl = w->H[c->depth - 1];
    /* heads: dw += H^T d, db += sum d, dH = d w^T (both heads) */
    nd_gemm(1, 0, W, 1, (int)rows, 1, Hl, W, w->dlogit, 1, 1, gws, 1);
    nd_gemm(1, 0, W, 1, (int)rows, 1, Hl, W, w->dvolt, 1, 1, gwv, 1);
    double sb = 0, sv = 0;
    for (size_t r = 0; r < rows; r++) { sb += w->dlogit[r]; sv += w->dvolt[r]; }
    *gbs += (real)sb;
    *gbv += (real)sv;
    nd_gemm(0, 1, (int)rows, W, 1, 1, w->dlogit, 1, m->w_spike, 1, 0, w->dH, W);
    nd_gemm(0, 1, (int)rows, W, 1, 1, w->dvolt, 1, m->w_volt, 1, 1, w->dH, W);
    for (int l = c->depth - 1; l >= 0; l--) {
        batchnorm_relu_backward(w->dZ, G[l].g, G[l].beta, w->dH, w->A[l], w->mean[l], w->rstd[l], m->L[l].g, rows, W);
        if (l == 0) {
            spikeconv_backward(G[0].W, G[0].b, w->dZ, w->ev, T, B, c->syn, W, c->first_kernel);
        } else {
            memset(w->dH, 0, sizeof(real) * n); /* becomes d loss / d H[l-1] */
            conv1d_backward(w->dH, G[l].W, G[l].b, w->dZ, w->H[l - 1], m->L[l].W, T, B, W, W, c->kernel);
        }
    }
}
