#include "rnn_rules.h"
#include "../core/mem.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *rnn_rule_names[ND_RNN_RULE_COUNT] = {"bptt", "rflo"};
int nd_rnn_rule_parse(const char *name) {
    for (int r = 0; r < ND_RNN_RULE_COUNT; r++)
        if (!strcmp(name, rnn_rule_names[r])) return r;
    return -1;
}
const char *nd_rnn_rule_name(nd_rnn_rule r) { return r >= 0 && r < ND_RNN_RULE_COUNT ? rnn_rule_names[r] : "?"; }

void nd_rnn_bind(const nd_rnn *r, real *base, real **W, real **U, real **b, real **V, real **c) {
    const size_t N = r->N, I = r->I, O = r->O;
    *W = base;
    *U = *W + N * N;
    *b = *U + N * I;
    *V = *b + N;
    *c = *V + O * N;
}

nd_status nd_rnn_create(nd_rnn *r, int N, int I, int O, double alpha, uint64_t seed, nd_error *err) {
    memset(r, 0, sizeof *r);
    if (N < 1 || N > 4096 || I < 1 || O < 1 || !(alpha > 0 && alpha <= 1))
        return nd_fail(err, ND_ERR_ARG, "rnn: %d units (1..4096), %d inputs, %d outputs, alpha %g (0..1]", N, I, O, alpha);
    r->N = N; r->I = I; r->O = O; r->alpha = alpha;
    r->n_params = (size_t)N * N + (size_t)N * I + N + (size_t)O * N + O;
    r->params = nd_alloc(sizeof(real) * r->n_params);
    r->fb = nd_alloc(sizeof(real) * (size_t)N * O);
    if (!r->params || !r->fb) { nd_rnn_free(r); return nd_fail(err, ND_ERR_NOMEM, "rnn: out of memory"); }
    nd_rnn_bind(r, r->params, &r->W, &r->U, &r->b, &r->V, &r->c);
    nd_rng g;
    nd_rng_seed(&g, seed);
    for (size_t i = 0; i < (size_t)N * N; i++) r->W[i] = (real)(0.9 / sqrt(N) * nd_rng_normal(&g));
    for (size_t i = 0; i < (size_t)N * I; i++) r->U[i] = (real)(nd_rng_normal(&g) / sqrt(I));
    for (size_t i = 0; i < (size_t)O * N; i++) r->V[i] = (real)(nd_rng_normal(&g) / sqrt(N));
    memset(r->b, 0, sizeof(real) * N);
    memset(r->c, 0, sizeof(real) * O);
    for (size_t i = 0; i < (size_t)N * O; i++) r->fb[i] = (real)(nd_rng_normal(&g) / sqrt(N));
    return ND_OK;
}

void nd_rnn_free(nd_rnn *r) {
    nd_free(r->params);
    nd_free(r->fb);
    memset(r, 0, sizeof *r);
}

nd_status nd_rnn_acts_create(nd_rnn_acts *a, const nd_rnn *r, int B, int T, nd_error *err) {
    memset(a, 0, sizeof *a);
    size_t n = (size_t)B * (T + 1) * r->N + (size_t)B * T * r->N + (size_t)B * T * r->O + 2 * (size_t)r->N;
    real *p = nd_alloc(sizeof(real) * n);
    if (!p) return nd_fail(err, ND_ERR_NOMEM, "rnn: out of memory for a batch of %d x %d steps", B, T);
    a->B = B; a->T = T;
    a->h = p;
    a->r = a->h + (size_t)B * (T + 1) * r->N;
    a->y = a->r + (size_t)B * T * r->N;
    a->work = a->y + (size_t)B * T * r->O;
    return ND_OK;
}
void nd_rnn_acts_free(nd_rnn_acts *a) {
    nd_free(a->h);
    memset(a, 0, sizeof *a);
}

double nd_rnn_forward(const nd_rnn *r, nd_rnn_acts *a, const real *x, const real *target) {
    const int N = r->N, I = r->I, O = r->O, B = a->B, T = a->T;
    const double al = r->alpha;
    double loss = 0;
    for (int bi = 0; bi < B; bi++) {
        real *h = a->h + (size_t)bi * (T + 1) * N;
        memset(h, 0, sizeof(real) * N);
        for (int t = 0; t < T; t++) {
            const real *hp = h + (size_t)t * N, *xt = x + ((size_t)bi * T + t) * I;
            real *hn = h + (size_t)(t + 1) * N, *rt = a->r + ((size_t)bi * T + t) * N;
            real *yt = a->y + ((size_t)bi * T + t) * O;
            for (int i = 0; i < N; i++) {
                double u = r->b[i];
                const real *w = r->W + (size_t)i * N, *uu = r->U + (size_t)i * I;
                for (int j = 0; j < N; j++) u += (double)w[j] * hp[j];
                for (int j = 0; j < I; j++) u += (double)uu[j] * xt[j];
                rt[i] = (real)tanh(u);
                hn[i] = (real)((1 - al) * hp[i] + al * rt[i]);
            }
            for (int k = 0; k < O; k++) {
                double y = r->c[k];
                for (int j = 0; j < N; j++) y += (double)r->V[(size_t)k * N + j] * hn[j];
                yt[k] = (real)y;
                if (target) {
                    double e = y - target[((size_t)bi * T + t) * O + k];
                    loss += 0.5 * e * e;
                }
            }
        }
    }
    return loss / ((double)B * T);
}

/* e_t = dE/dy_t of example bi at step t into e [O] */
static void out_err(const nd_rnn *r, const nd_rnn_acts *a, const real *target, int bi, int t, double *e) {
    const int O = r->O;
    const double s = 1.0 / ((double)a->B * a->T);
    for (int k = 0; k < O; k++) {
        size_t o = ((size_t)bi * a->T + t) * O + k;
        e[k] = s * ((double)a->y[o] - target[o]);
    }
}

/* the read-out's exact gradient, shared by both rules */
static void readout_grad(const nd_rnn *r, const real *ht, const double *e, real *gV, real *gc) {
    for (int k = 0; k < r->O; k++) {
        gc[k] += (real)e[k];
        for (int j = 0; j < r->N; j++) gV[(size_t)k * r->N + j] += (real)(e[k] * ht[j]);
    }
}

void nd_rnn_bptt(const nd_rnn *r, const nd_rnn_acts *a, const real *x, const real *target, real *g) {
    const int N = r->N, I = r->I, O = r->O, B = a->B, T = a->T;
    const double al = r->alpha;
    real *gW, *gU, *gb, *gV, *gc;
    nd_rnn_bind(r, g, &gW, &gU, &gb, &gV, &gc);
    memset(g, 0, sizeof(real) * r->n_params);
    double *dh = malloc(sizeof(double) * (2 * N + O)), *du = dh + N, *e = du + N;
    if (!dh) return;
    for (int bi = 0; bi < B; bi++) {
        const real *h = a->h + (size_t)bi * (T + 1) * N;
        for (int i = 0; i < N; i++) dh[i] = 0;
        for (int t = T - 1; t >= 0; t--) {
            const real *hn = h + (size_t)(t + 1) * N, *hp = h + (size_t)t * N;
            const real *rt = a->r + ((size_t)bi * T + t) * N, *xt = x + ((size_t)bi * T + t) * I;
            out_err(r, a, target, bi, t, e);
            readout_grad(r, hn, e, gV, gc);
            for (int k = 0; k < O; k++)
                for (int j = 0; j < N; j++) dh[j] += r->V[(size_t)k * N + j] * e[k];
            for (int i = 0; i < N; i++) du[i] = dh[i] * al * (1 - (double)rt[i] * rt[i]);
            for (int i = 0; i < N; i++) {
                gb[i] += (real)du[i];
                for (int j = 0; j < N; j++) gW[(size_t)i * N + j] += (real)(du[i] * hp[j]);
                for (int j = 0; j < I; j++) gU[(size_t)i * I + j] += (real)(du[i] * xt[j]);
            }
            /* dh_{t-1} = (1 - alpha) dh_t + W^T du_t */
            for (int j = 0; j < N; j++) dh[j] *= 1 - al;
            for (int i = 0; i < N; i++)
                for (int j = 0; j < N; j++) dh[j] += r->W[(size_t)i * N + j] * du[i];
        }
    }
    free(dh);
}

void nd_rnn_rflo(const nd_rnn *r, const nd_rnn_acts *a, const real *x, const real *target, const real *fb, real *g,
                 real *work) {
    const int N = r->N, I = r->I, O = r->O, B = a->B, T = a->T;
    const double al = r->alpha;
    if (!fb) fb = r->fb;
    real *gW, *gU, *gb, *gV, *gc;
    nd_rnn_bind(r, g, &gW, &gU, &gb, &gV, &gc);
    memset(g, 0, sizeof(real) * r->n_params);
    real *PW = work, *PU = PW + (size_t)N * N, *Pb = PU + (size_t)N * I;
    double *e = malloc(sizeof(double) * (O + N)), *d = e + O;
    if (!e) return;
    for (int bi = 0; bi < B; bi++) {
        const real *h = a->h + (size_t)bi * (T + 1) * N;
        memset(work, 0, sizeof(real) * (size_t)N * (N + I + 1));
        for (int t = 0; t < T; t++) {
            const real *hn = h + (size_t)(t + 1) * N, *hp = h + (size_t)t * N;
            const real *rt = a->r + ((size_t)bi * T + t) * N, *xt = x + ((size_t)bi * T + t) * I;
            out_err(r, a, target, bi, t, e);
            readout_grad(r, hn, e, gV, gc);
            for (int i = 0; i < N; i++) { /* d = fb e_t: the error each unit receives */
                double s = 0;
                for (int k = 0; k < O; k++) s += (double)fb[(size_t)i * O + k] * e[k];
                d[i] = s;
            }
            for (int i = 0; i < N; i++) {
                const double fp = al * (1 - (double)rt[i] * rt[i]);
                real *pw = PW + (size_t)i * N, *pu = PU + (size_t)i * I;
                for (int j = 0; j < N; j++) {
                    pw[j] = (real)((1 - al) * pw[j] + fp * hp[j]);
                    gW[(size_t)i * N + j] += (real)(d[i] * pw[j]);
                }
                for (int j = 0; j < I; j++) {
                    pu[j] = (real)((1 - al) * pu[j] + fp * xt[j]);
                    gU[(size_t)i * I + j] += (real)(d[i] * pu[j]);
                }
                Pb[i] = (real)((1 - al) * Pb[i] + fp);
                gb[i] += (real)(d[i] * Pb[i]);
            }
        }
    }
    free(e);
}

void nd_flipflop(int B, int T, double p, nd_rng *rng, real *x, real *target) {
    for (int bi = 0; bi < B; bi++)
        for (int k = 0; k < 3; k++) {
            real held = 0;
            for (int t = 0; t < T; t++) {
                size_t o = ((size_t)bi * T + t) * 3 + k;
                x[o] = 0;
                if (t == 0 || nd_rng_uniform(rng) < p) {
                    x[o] = nd_rng_uniform(rng) < 0.5 ? -1 : 1;
                    held = x[o];
                }
                target[o] = held;
            }
        }
}
