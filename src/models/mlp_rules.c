#include "mlp_rules.h"
#include "../core/blas.h"
#include "../core/mem.h"
#include "../nn/layers.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *rule_names[ND_RULE_COUNT] = {"bp", "fa", "dfa", "sign", "np", "wp"};

int nd_rule_parse(const char *name) {
    for (int r = 0; r < ND_RULE_COUNT; r++)
        if (!strcmp(name, rule_names[r])) return r;
    return -1;
}
const char *nd_rule_name(nd_rule r) { return r >= 0 && r < ND_RULE_COUNT ? rule_names[r] : "?"; }

void nd_mlp_bind(const nd_mlp *m, real *base, real **W, real **b) {
    size_t off = 0;
    for (int l = 1; l <= m->L; l++) {
        W[l - 1] = base + off;
        off += (size_t)m->n[l - 1] * m->n[l];
        b[l - 1] = base + off;
        off += (size_t)m->n[l];
    }
}

nd_status nd_mlp_create(nd_mlp *m, int L, const int *widths, nd_mlp_loss loss, uint64_t seed, nd_error *err) {
    memset(m, 0, sizeof *m);
    if (L < 1 || L > ND_MLP_MAX_LAYERS) return nd_fail(err, ND_ERR_ARG, "network: %d layers (1..%d)", L, ND_MLP_MAX_LAYERS);
    for (int l = 0; l <= L; l++)
        if (widths[l] < 1 || widths[l] > 100000) return nd_fail(err, ND_ERR_ARG, "network: layer %d has width %d", l, widths[l]);
    m->L = L;
    m->loss = loss;
    memcpy(m->n, widths, sizeof(int) * (L + 1));
    size_t np = 0, nf = 0;
    for (int l = 1; l <= L; l++) {
        np += (size_t)widths[l - 1] * widths[l] + widths[l];
        if (l >= 2) nf += (size_t)widths[l] * widths[l - 1];       /* FA */
        if (l < L) nf += (size_t)widths[L] * widths[l];            /* DFA */
    }
    m->n_params = np;
    m->params = nd_alloc(sizeof(real) * np);
    m->feedback = nd_alloc(sizeof(real) * (nf ? nf : 1));
    if (!m->params || !m->feedback) { nd_mlp_free(m); return nd_fail(err, ND_ERR_NOMEM, "network: out of memory"); }
    nd_mlp_bind(m, m->params, m->W, m->b);
    nd_rng r;
    nd_rng_seed(&r, seed);
    for (int l = 1; l <= L; l++) {
        double sd = 1 / sqrt((double)widths[l - 1]);
        for (size_t i = 0; i < (size_t)widths[l - 1] * widths[l]; i++) m->W[l - 1][i] = (real)(sd * nd_rng_normal(&r));
        memset(m->b[l - 1], 0, sizeof(real) * widths[l]);
    }
    real *f = m->feedback;
    for (int l = 2; l <= L; l++) { /* B_l replaces W_l^T: [n_l][n_{l-1}], scaled as W_l */
        m->B_fa[l - 1] = f;
        double sd = 1 / sqrt((double)widths[l - 1]);
        for (size_t i = 0; i < (size_t)widths[l] * widths[l - 1]; i++) f[i] = (real)(sd * nd_rng_normal(&r));
        f += (size_t)widths[l] * widths[l - 1];
    }
    for (int l = 1; l < L; l++) { /* D_l carries the output error to layer l: [n_L][n_l] */
        m->D_dfa[l - 1] = f;
        double sd = 1 / sqrt((double)widths[L]);
        for (size_t i = 0; i < (size_t)widths[L] * widths[l]; i++) f[i] = (real)(sd * nd_rng_normal(&r));
        f += (size_t)widths[L] * widths[l];
    }
    return ND_OK;
}

void nd_mlp_free(nd_mlp *m) {
    nd_free(m->params);
    nd_free(m->feedback);
    memset(m, 0, sizeof *m);
}

nd_status nd_mlp_acts_create(nd_mlp_acts *a, const nd_mlp *m, int Bmax, nd_error *err) {
    memset(a, 0, sizeof *a);
    size_t total = (size_t)Bmax;
    for (int l = 0; l <= m->L; l++) total += 3 * (size_t)Bmax * m->n[l];
    a->buf = nd_alloc(sizeof(real) * total);
    if (!a->buf) return nd_fail(err, ND_ERR_NOMEM, "network: out of memory for a batch of %d", Bmax);
    real *p = a->buf;
    for (int l = 0; l <= m->L; l++) {
        a->a[l] = p; p += (size_t)Bmax * m->n[l];
        a->h[l] = p; p += (size_t)Bmax * m->n[l];
        a->d[l] = p; p += (size_t)Bmax * m->n[l];
    }
    a->loss_each = p;
    a->Bmax = Bmax;
    return ND_OK;
}

void nd_mlp_acts_free(nd_mlp_acts *a) {
    nd_free(a->buf);
    memset(a, 0, sizeof *a);
}

double nd_mlp_forward(const nd_mlp *m, nd_mlp_acts *a, const real *x, int B, const int *labels, const real *y,
                      const real *noise) {
    const int L = m->L, K = m->n[L];
    a->B = B;
    memcpy(a->h[0], x, sizeof(real) * B * m->n[0]);
    const real *nz = noise;
    for (int l = 1; l <= L; l++) {
        size_t n = (size_t)B * m->n[l];
        linear_forward(a->a[l], a->h[l - 1], m->W[l - 1], m->b[l - 1], B, m->n[l - 1], m->n[l]);
        if (nz) {
            for (size_t i = 0; i < n; i++) a->a[l][i] += nz[i];
            nz += n;
        }
        for (size_t i = 0; i < n; i++) a->h[l][i] = l < L ? RTANH(a->a[l][i]) : a->a[l][i];
    }
    /* loss per example and the output delta dE/da_L of the batch-mean loss */
    double total = 0;
    for (int i = 0; i < B; i++) {
        const real *o = a->a[L] + (size_t)i * K;
        real *d = a->d[L] + (size_t)i * K;
        double li;
        if (m->loss == ND_LOSS_XENT) {
            double mx = o[0], s = 0;
            for (int k = 1; k < K; k++) mx = fmax(mx, o[k]);
            for (int k = 0; k < K; k++) s += exp(o[k] - mx);
            li = mx + log(s) - o[labels[i]];
            for (int k = 0; k < K; k++) d[k] = (real)((exp(o[k] - mx) / s - (k == labels[i])) / B);
        } else {
            li = 0;
            for (int k = 0; k < K; k++) {
                double e = (double)o[k] - y[(size_t)i * K + k];
                li += 0.5 * e * e;
                d[k] = (real)(e / B);
            }
        }
        a->loss_each[i] = (real)li;
        total += li;
    }
    return total / B;
}

/* dW = h_{l-1}^T d_l, db = colsum(d_l) for layer l (1-based), overwriting */
static void layer_grad(const nd_mlp *m, const nd_mlp_acts *a, int l, real **gW, real **gb) {
    const int I = m->n[l - 1], O = m->n[l], B = a->B;
    memset(gW[l - 1], 0, sizeof(real) * I * O);
    memset(gb[l - 1], 0, sizeof(real) * O);
    linear_backward(NULL, gW[l - 1], gb[l - 1], a->d[l], a->h[l - 1], m->W[l - 1], B, I, O);
}

/* d_{l-1} *= tanh'(a_{l-1}) = 1 - h^2 */
static void times_fprime(nd_mlp_acts *a, int l, int n) {
    for (size_t i = 0; i < (size_t)a->B * n; i++) a->d[l][i] *= 1 - a->h[l][i] * a->h[l][i];
}

/* the credit-assignment rules: how d_{l-1} is formed from d_l (or d_L) */
static void deltas(nd_rule rule, const nd_mlp *m, nd_mlp_acts *a, real *scratch) {
    const int L = m->L, B = a->B;
    for (int l = L; l >= 2; l--) {
        const int I = m->n[l - 1], O = m->n[l];
        real *dp = a->d[l - 1];
        switch (rule) {
        case ND_RULE_BP: /* W_l^T */
            nd_gemm(0, 1, B, I, O, 1, a->d[l], O, m->W[l - 1], O, 0, dp, I);
            break;
        case ND_RULE_FA: /* fixed random B_l in place of W_l^T */
            nd_gemm(0, 0, B, I, O, 1, a->d[l], O, m->B_fa[l - 1], I, 0, dp, I);
            break;
        case ND_RULE_SIGN: /* sign(W_l)^T */
            for (size_t i = 0; i < (size_t)I * O; i++) scratch[i] = (real)((m->W[l - 1][i] > 0) - (m->W[l - 1][i] < 0));
            nd_gemm(0, 1, B, I, O, 1, a->d[l], O, scratch, O, 0, dp, I);
            break;
        case ND_RULE_DFA: /* the output error straight to layer l-1 through D_{l-1} */
            nd_gemm(0, 0, B, I, m->n[L], 1, a->d[L], m->n[L], m->D_dfa[l - 2], I, 0, dp, I);
            break;
        default: break;
        }
        times_fprime(a, l - 1, I);
    }
}

nd_status nd_rule_ctx_create(nd_rule_ctx *c, const nd_mlp *m, int Bmax, double sigma, nd_rng *rng, nd_error *err) {
    memset(c, 0, sizeof *c);
    c->sigma = sigma;
    c->rng = rng;
    c->baseline_rate = 0.05;
    size_t units = 0, wmax = 0;
    for (int l = 1; l <= m->L; l++) {
        units += (size_t)m->n[l];
        if ((size_t)m->n[l - 1] * m->n[l] > wmax) wmax = (size_t)m->n[l - 1] * m->n[l];
    }
    c->scratch = nd_alloc(sizeof(real) * (m->n_params > wmax ? m->n_params : wmax));
    c->noise = nd_alloc(sizeof(real) * units * Bmax);
    c->acts2 = calloc(1, sizeof *c->acts2);
    if (!c->scratch || !c->noise || !c->acts2) { nd_rule_ctx_free(c); return nd_fail(err, ND_ERR_NOMEM, "rules: out of memory"); }
    nd_status st = nd_mlp_acts_create(c->acts2, m, Bmax, err);
    if (st) nd_rule_ctx_free(c);
    return st;
}

void nd_rule_ctx_free(nd_rule_ctx *c) {
    nd_free(c->scratch);
    nd_free(c->noise);
    if (c->acts2) { nd_mlp_acts_free(c->acts2); free(c->acts2); }
    memset(c, 0, sizeof *c);
}

/* node perturbation: noise on every pre-activation of every example; g_l = mean_b (dE_b / s^2) h_{l-1,b} xi_{l,b} */
static void node_perturbation(const nd_mlp *m, nd_mlp_acts *a, const real *x, int B, const int *labels, const real *y,
                              nd_rule_ctx *c, real **gW, real **gb) {
    size_t units = 0;
    for (int l = 1; l <= m->L; l++) units += (size_t)m->n[l];
    for (size_t i = 0; i < units * B; i++) c->noise[i] = (real)(c->sigma * nd_rng_normal(c->rng));
    double e1 = nd_mlp_forward(m, c->acts2, x, B, labels, y, c->noise);
    const double s2 = c->sigma * c->sigma;
    if (c->running_baseline && !c->baseline_set) {
        double e0 = 0;
        for (int b = 0; b < B; b++) e0 += a->loss_each[b];
        c->baseline = e0 / B;
        c->baseline_set = 1;
    }
    /* reuse a->d[l] as (dE_b / s^2) xi_{l,b} / B: then the layer gradient is h_{l-1}^T d_l, as for backprop */
    const real *nz = c->noise;
    for (int l = 1; l <= m->L; l++) {
        const int n = m->n[l];
        for (int b = 0; b < B; b++) {
            double ref = c->running_baseline ? c->baseline : (double)a->loss_each[b];
            double f = ((double)c->acts2->loss_each[b] - ref) / s2 / B;
            for (int j = 0; j < n; j++) a->d[l][(size_t)b * n + j] = (real)(f * nz[(size_t)b * n + j]);
        }
        nz += (size_t)B * n;
        layer_grad(m, a, l, gW, gb);
    }
    if (c->running_baseline) c->baseline += c->baseline_rate * (e1 - c->baseline);
}

/* weight perturbation: noise on every parameter; g = (E(W + xi) - E(W)) / s^2 xi */
static void weight_perturbation(const nd_mlp *m, nd_mlp_acts *a, const real *x, int B, const int *labels,
                                const real *y, nd_rule_ctx *c, real *g) {
    nd_mlp pert = *m; /* same shapes, perturbed copy of the parameters in scratch */
    for (size_t i = 0; i < m->n_params; i++) {
        g[i] = (real)(c->sigma * nd_rng_normal(c->rng));
        c->scratch[i] = m->params[i] + g[i];
    }
    pert.params = c->scratch;
    nd_mlp_bind(&pert, pert.params, pert.W, pert.b);
    double e1 = nd_mlp_forward(&pert, c->acts2, x, B, labels, y, NULL), e0 = 0;
    for (int b = 0; b < B; b++) e0 += a->loss_each[b];
    e0 /= B;
    if (c->running_baseline) {
        if (!c->baseline_set) { c->baseline = e0; c->baseline_set = 1; }
        e0 = c->baseline;
        c->baseline += c->baseline_rate * (e1 - c->baseline);
    }
    const double f = (e1 - e0) / (c->sigma * c->sigma);
    for (size_t i = 0; i < m->n_params; i++) g[i] = (real)(f * g[i]);
}

/* the class chosen for each example from the output pre-activations o [B][K]: greedy (rng NULL) or drawn from
 * softmax(o); the reward is 1 for the label */
static void act(const real *o, int B, int K, const int *labels, nd_rng *rng, int *choice, double *reward) {
    for (int b = 0; b < B; b++) {
        const real *ob = o + (size_t)b * K;
        int k = 0;
        if (!rng) {
            for (int j = 1; j < K; j++)
                if (ob[j] > ob[k]) k = j;
        } else {
            double mx = ob[0], s = 0;
            for (int j = 1; j < K; j++) mx = fmax(mx, ob[j]);
            for (int j = 0; j < K; j++) s += exp(ob[j] - mx);
            double u = nd_rng_uniform(rng) * s, c = 0;
            for (k = 0; k < K - 1; k++) {
                c += exp(ob[k] - mx);
                if (u < c) break;
            }
        }
        choice[b] = k;
        reward[b] = k == labels[b];
    }
}

double nd_rule_estimate_reward(nd_rule rule, const nd_mlp *m, nd_mlp_acts *a, const real *x, int B,
                               const int *labels, nd_rule_ctx *c, real *g) {
    real *gW[ND_MLP_MAX_LAYERS], *gb[ND_MLP_MAX_LAYERS];
    nd_mlp_bind(m, g, gW, gb);
    const int L = m->L, K = m->n[L];
    int *choice = malloc(sizeof(int) * B);
    double *R = malloc(sizeof(double) * B), Rm = 0;
    if (!R || !choice) { free(R); free(choice); memset(g, 0, sizeof(real) * m->n_params); return NAN; }
    if (!c->baseline_set) { c->baseline = 0.5; c->baseline_set = 1; } /* chance for two classes: a neutral start */
    const double rb = c->baseline, s2 = c->sigma * c->sigma;
    if (rule == ND_RULE_NP) {
        size_t units = 0;
        for (int l = 1; l <= L; l++) units += (size_t)m->n[l];
        for (size_t i = 0; i < units * B; i++) c->noise[i] = (real)(c->sigma * nd_rng_normal(c->rng));
        nd_mlp_forward(m, c->acts2, x, B, labels, NULL, c->noise);
        act(c->acts2->a[L], B, K, labels, NULL, choice, R);
        const real *nz = c->noise;
        for (int l = 1; l <= L; l++) {
            const int n = m->n[l];
            for (int b = 0; b < B; b++) {
                double f = -(R[b] - rb) / s2 / B;
                for (int j = 0; j < n; j++) a->d[l][(size_t)b * n + j] = (real)(f * nz[(size_t)b * n + j]);
            }
            nz += (size_t)B * n;
            layer_grad(m, a, l, gW, gb);
        }
    } else if (rule == ND_RULE_WP) {
        nd_mlp pert = *m;
        for (size_t i = 0; i < m->n_params; i++) {
            g[i] = (real)(c->sigma * nd_rng_normal(c->rng));
            c->scratch[i] = m->params[i] + g[i];
        }
        pert.params = c->scratch;
        nd_mlp_bind(&pert, pert.params, pert.W, pert.b);
        nd_mlp_forward(&pert, c->acts2, x, B, labels, NULL, NULL);
        act(c->acts2->a[L], B, K, labels, NULL, choice, R);
        double rm = 0;
        for (int b = 0; b < B; b++) rm += R[b] / B;
        const double f = -(rm - rb) / s2;
        for (size_t i = 0; i < m->n_params; i++) g[i] = (real)(f * g[i]);
    } else {
        act(a->a[L], B, K, labels, c->rng, choice, R);
        for (int b = 0; b < B; b++) { /* d log pi(k) / d a_L = onehot(k) - pi */
            const real *o = a->a[L] + (size_t)b * K;
            real *d = a->d[L] + (size_t)b * K;
            double mx = o[0], s = 0;
            for (int j = 1; j < K; j++) mx = fmax(mx, o[j]);
            for (int j = 0; j < K; j++) s += exp(o[j] - mx);
            for (int j = 0; j < K; j++) d[j] = (real)(-(R[b] - rb) * ((j == choice[b]) - exp(o[j] - mx) / s) / B);
        }
        deltas(rule, m, a, c->scratch);
        for (int l = 1; l <= L; l++) layer_grad(m, a, l, gW, gb);
    }
    for (int b = 0; b < B; b++) Rm += R[b] / B;
    c->baseline += c->baseline_rate * (Rm - c->baseline);
    free(R);
    free(choice);
    return Rm;
}

void nd_rule_estimate(nd_rule rule, const nd_mlp *m, nd_mlp_acts *a, const real *x, int B, const int *labels,
                      const real *y, nd_rule_ctx *ctx, real *g) {
    real *gW[ND_MLP_MAX_LAYERS], *gb[ND_MLP_MAX_LAYERS];
    nd_mlp_bind(m, g, gW, gb);
    if (rule == ND_RULE_WP) { weight_perturbation(m, a, x, B, labels, y, ctx, g); return; }
    if (rule == ND_RULE_NP) { node_perturbation(m, a, x, B, labels, y, ctx, gW, gb); return; }
    /* the deterministic rules need only the output delta of the forward already done */
    deltas(rule, m, a, ctx->scratch);
    for (int l = 1; l <= m->L; l++) layer_grad(m, a, l, gW, gb);
}

nd_status nd_rule_bias_variance(nd_rule rule, const nd_mlp *m, const real *x, int B, const int *labels, const real *y,
                                int samples, double sigma, uint64_t seed, nd_rule_stats *s, nd_error *err) {
    memset(s, 0, sizeof *s);
    const int L = m->L;
    const int S = rule == ND_RULE_NP || rule == ND_RULE_WP ? samples : 1;
    if (S < 1) return nd_fail(err, ND_ERR_ARG, "rules: --samples %d must be >= 1", samples);
    nd_mlp_acts a;
    nd_rule_ctx c;
    nd_rng r;
    nd_rng_seed(&r, seed);
    nd_status st = nd_mlp_acts_create(&a, m, B, err);
    if (st) return st;
    if ((st = nd_rule_ctx_create(&c, m, B, sigma, &r, err))) { nd_mlp_acts_free(&a); return st; }
    const size_t np = m->n_params;
    real *g = nd_alloc(sizeof(real) * np), *gt = nd_alloc(sizeof(real) * np);
    double *mean = calloc(np, sizeof(double)), sq[ND_MLP_MAX_LAYERS + 1] = {0};
    if (!g || !gt || !mean) st = nd_fail(err, ND_ERR_NOMEM, "rules: out of memory");
    real *tW[ND_MLP_MAX_LAYERS], *tb[ND_MLP_MAX_LAYERS];
    if (!st) {
        nd_mlp_forward(m, &a, x, B, labels, y, NULL);
        nd_rule_estimate(ND_RULE_BP, m, &a, x, B, labels, y, &c, gt);
        nd_mlp_bind(m, gt, tW, tb);
    }
    for (int k = 0; k < S && !st; k++) {
        nd_mlp_forward(m, &a, x, B, labels, y, NULL); /* the rules overwrite the deltas */
        nd_rule_estimate(rule, m, &a, x, B, labels, y, &c, g);
        real *gW[ND_MLP_MAX_LAYERS], *gb[ND_MLP_MAX_LAYERS];
        nd_mlp_bind(m, g, gW, gb);
        for (int l = 0; l < L; l++) {
            size_t off = (size_t)(gW[l] - g), n = (size_t)m->n[l] * m->n[l + 1];
            for (size_t i = 0; i < n; i++) {
                mean[off + i] += (double)gW[l][i] / S;
                sq[l] += (double)gW[l][i] * gW[l][i] / S;
            }
        }
    }
    if (!st) {
        double dot_all = 0, mm_all = 0, tt_all = 0, sq_all = 0;
        for (int l = 0; l < L; l++) {
            size_t off = (size_t)(tW[l] - gt), n = (size_t)m->n[l] * m->n[l + 1];
            double dot = 0, mm = 0, tt = 0;
            for (size_t i = 0; i < n; i++) {
                dot += mean[off + i] * tW[l][i];
                mm += mean[off + i] * mean[off + i];
                tt += (double)tW[l][i] * tW[l][i];
            }
            double cosv = mm > 0 && tt > 0 ? dot / sqrt(mm * tt) : 0;
            s->angle_deg[l] = acos(fmax(-1, fmin(1, cosv))) * 180 / 3.14159265358979323846;
            s->rel_norm[l] = tt > 0 ? sqrt(mm / tt) : NAN;
            s->variance[l] = tt > 0 ? fmax(0, sq[l] - mm) / tt : NAN;
            dot_all += dot; mm_all += mm; tt_all += tt; sq_all += sq[l];
        }
        double cosv = mm_all > 0 && tt_all > 0 ? dot_all / sqrt(mm_all * tt_all) : 0;
        s->angle_deg[L] = acos(fmax(-1, fmin(1, cosv))) * 180 / 3.14159265358979323846;
        s->rel_norm[L] = tt_all > 0 ? sqrt(mm_all / tt_all) : NAN;
        s->variance[L] = tt_all > 0 ? fmax(0, sq_all - mm_all) / tt_all : NAN;
    }
    nd_free(g); nd_free(gt); free(mean);
    nd_rule_ctx_free(&c);
    nd_mlp_acts_free(&a);
    return st;
}
