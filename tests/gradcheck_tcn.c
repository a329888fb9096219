/* Gradient checks of the TCN layers (double build): every *_backward in src/nn/tcn.h against central differences
 * of its forward, with an objective sum(U * Y) for random U; gradient buffers start with random values that are
 * subtracted afterwards, so the documented accumulation (+=) is checked too. The sparse convolution must equal
 * the dense one on the same binary input, forward and backward. */
#include "test.h"
#include "../src/nn/tcn.h"
#include "../src/models/tcn.h"
#include "../src/core/rng.h"
#include <omp.h>

#define H 1e-6
#define TOL 1e-7

static real *rnd(nd_rng *r, size_t n, double sd) {
    real *x = malloc(sizeof(real) * (n ? n : 1));
    for (size_t i = 0; i < n; i++) x[i] = (real)(sd * nd_rng_normal(r));
    return x;
}

static double dot(const real *a, const real *b, size_t n) {
    double s = 0;
    for (size_t i = 0; i < n; i++) s += (double)a[i] * b[i];
    return s;
}

static double relerr(double a, double b) { return fabs(a - b) / fmax(1.0, fmax(fabs(a), fabs(b))); }

/* conv1d: objective sum(U * conv(X)) */
typedef struct { real *X, *W, *b, *Y, *U; int T, B, Ci, Co, K; } conv_ctx;
static double conv_obj(conv_ctx *c) {
    conv1d_forward(c->Y, c->X, c->W, c->b, c->T, c->B, c->Ci, c->Co, c->K);
    return dot(c->Y, c->U, (size_t)c->T * c->B * c->Co);
}

static double fd_worst(conv_ctx *c, real *x, size_t n, const real *an) {
    double worst = 0;
    for (size_t i = 0; i < n; i++) {
        real k = x[i];
        x[i] = k + H;
        double fp = conv_obj(c);
        x[i] = k - H;
        double fm = conv_obj(c);
        x[i] = k;
        worst = fmax(worst, relerr(an[i], (fp - fm) / (2 * H)));
    }
    return worst;
}

static void sub_pre(real *g, const real *pre, size_t n) {
    for (size_t i = 0; i < n; i++) g[i] -= pre[i];
}

static void test_conv1d(nd_test_ctx *ctx) {
    nd_rng r;
    nd_rng_seed(&r, 1);
    conv_ctx c = {0};
    c.T = 9; c.B = 2; c.Ci = 4; c.Co = 3; c.K = 4;
    size_t nX = (size_t)c.T * c.B * c.Ci, nW = (size_t)c.K * c.Ci * c.Co, nY = (size_t)c.T * c.B * c.Co;
    c.X = rnd(&r, nX, 1); c.W = rnd(&r, nW, 1); c.b = rnd(&r, c.Co, 1); c.Y = rnd(&r, nY, 1); c.U = rnd(&r, nY, 1);
    real *dX = rnd(&r, nX, 1), *dW = rnd(&r, nW, 1), *db = rnd(&r, c.Co, 1);
    real *pX = malloc(sizeof(real) * nX), *pW = malloc(sizeof(real) * nW), *pb = malloc(sizeof(real) * c.Co);
    memcpy(pX, dX, sizeof(real) * nX); memcpy(pW, dW, sizeof(real) * nW); memcpy(pb, db, sizeof(real) * c.Co);
    conv_obj(&c);
    conv1d_backward(dX, dW, db, c.U, c.X, c.W, c.T, c.B, c.Ci, c.Co, c.K);
    sub_pre(dX, pX, nX); sub_pre(dW, pW, nW); sub_pre(db, pb, c.Co);
    double eX = fd_worst(&c, c.X, nX, dX), eW = fd_worst(&c, c.W, nW, dW), eb = fd_worst(&c, c.b, c.Co, db);
    printf("    conv1d T 9, B 2, 4 -> 3 channels, K 4: max err X %.1e W %.1e b %.1e\n", eX, eW, eb);
    CHECK(ctx, eX < TOL && eW < TOL && eb < TOL, "errors %.3g %.3g %.3g", eX, eW, eb);
    /* causality: changing X at the last step changes no earlier output (nor the other sequence's) */
    real keep = c.Y[0];
    c.X[nX - 1] += 5;
    conv_obj(&c);
    CHECK(ctx, c.Y[0] == keep, "output at t = 0 depends on the last input");
    free(c.X); free(c.W); free(c.b); free(c.Y); free(c.U); free(dX); free(dW); free(db); free(pX); free(pW); free(pb);
}

static void test_spikeconv_equals_dense(nd_test_ctx *ctx) {
    nd_rng r;
    nd_rng_seed(&r, 2);
    enum { T = 12, B = 2, Ci = 6, Co = 5, K = 4 };
    int et[128], eb[128], ec[128];
    size_t n = 0;
    real X[T * B * Ci];
    memset(X, 0, sizeof X);
    for (int t = -K + 1; t < T; t++) /* events from the context (t < 0) are part of the sparse input only */
        for (int b = 0; b < B; b++)
            for (int c = 0; c < Ci; c++)
                if (nd_rng_uniform(&r) < 0.2 && n < 128) {
                    et[n] = t; eb[n] = b; ec[n] = c; n++;
                    if (t >= 0) X[(t * B + b) * Ci + c] = 1;
                }
    nd_spike_events ev = {et, eb, ec, n};
    real *W = rnd(&r, (size_t)K * Ci * Co, 1), *bias = rnd(&r, Co, 1), *U = rnd(&r, (size_t)T * B * Co, 1);
    real Ys[T * B * Co], Yd[T * B * Co];
    spikeconv_forward(Ys, &ev, W, bias, T, B, Ci, Co, K);
    conv1d_forward(Yd, X, W, bias, T, B, Ci, Co, K);
    for (size_t e = 0; e < n; e++) /* add the context's events to the dense result by hand */
        for (int t = 0; t < T; t++)
            if (et[e] < 0 && t - et[e] < K)
                for (int o = 0; o < Co; o++)
                    Yd[(t * B + eb[e]) * Co + o] += W[((size_t)(t - et[e]) * Ci + ec[e]) * Co + o];
    double e = 0;
    for (int i = 0; i < T * B * Co; i++) e = fmax(e, fabs(Ys[i] - Yd[i]));
    CHECK(ctx, e < 1e-12, "sparse vs dense forward: %.3g", e);
    real *dW = calloc((size_t)K * Ci * Co, sizeof(real)), db[Co];
    memset(db, 0, sizeof db);
    spikeconv_backward(dW, db, U, &ev, T, B, Ci, Co, K);
    double worst = 0;
    const size_t nW = (size_t)K * Ci * Co;
    for (size_t i = 0; i < nW + Co; i++) {
        real *p = i < nW ? &W[i] : &bias[i - nW];
        double an = i < nW ? dW[i] : db[i - nW];
        real k = *p;
        *p = k + H;
        spikeconv_forward(Ys, &ev, W, bias, T, B, Ci, Co, K);
        double fp = dot(Ys, U, (size_t)T * B * Co);
        *p = k - H;
        spikeconv_forward(Ys, &ev, W, bias, T, B, Ci, Co, K);
        double fm = dot(Ys, U, (size_t)T * B * Co);
        *p = k;
        worst = fmax(worst, relerr(an, (fp - fm) / (2 * H)));
    }
    printf("    spikeconv %zu events in 2 sequences (some before the window): max err %.1e\n", n, worst);
    CHECK(ctx, worst < TOL, "spikeconv gradient error %.3g", worst);
    free(W); free(bias); free(U); free(dW);
}

static void test_batchnorm_relu(nd_test_ctx *ctx) {
    nd_rng r;
    nd_rng_seed(&r, 3);
    const int C = 4;
    const size_t rows = 9, n = rows * C;
    real *X = rnd(&r, n, 1.5), *g = rnd(&r, C, 1), *be = rnd(&r, C, 1), *U = rnd(&r, n, 1);
    real *Y = malloc(sizeof(real) * n), *Z = malloc(sizeof(real) * n), mean[4], rstd[4];
    real *dX = rnd(&r, n, 1), *dg = rnd(&r, C, 1), *dbe = rnd(&r, C, 1), *dY = calloc(n, sizeof(real));
    real *pX = malloc(sizeof(real) * n), pg[4], pbe[4];
    memcpy(pX, dX, sizeof(real) * n); memcpy(pg, dg, sizeof pg); memcpy(pbe, dbe, sizeof pbe);
    /* objective: sum(U * relu(batchnorm(X))) */
    batchnorm_forward_train(Y, mean, rstd, X, g, be, rows, C);
    relu_forward(Z, Y, n);
    relu_backward(dY, U, Z, n);
    batchnorm_backward(dX, dg, dbe, dY, X, mean, rstd, g, rows, C);
    sub_pre(dX, pX, n); sub_pre(dg, pg, C); sub_pre(dbe, pbe, C);
    double worst = 0;
    int skipped = 0;
    real *vars[3] = {X, g, be}, *grads[3] = {dX, dg, dbe};
    size_t sizes[3] = {n, (size_t)C, (size_t)C};
    for (int v = 0; v < 3; v++)
        for (size_t i = 0; i < sizes[v]; i++) {
            real k = vars[v][i];
            double f[2];
            int kink = 0;
            for (int s = 0; s < 2; s++) {
                vars[v][i] = k + (s ? -H : H);
                batchnorm_forward_train(Y, mean, rstd, X, g, be, rows, C);
                for (size_t j = 0; j < n; j++) kink |= fabs(Y[j]) < 1e-5; /* the ReLU kink is not differentiable */
                relu_forward(Z, Y, n);
                f[s] = dot(Z, U, n);
            }
            vars[v][i] = k;
            if (kink) { skipped++; continue; }
            worst = fmax(worst, relerr(grads[v][i], (f[0] - f[1]) / (2 * H)));
        }
    printf("    batchnorm + relu 9 rows, C 4: max err %.1e (%d entries next to the kink skipped)\n", worst, skipped);
    CHECK(ctx, worst < TOL, "error %.3g", worst);
    /* inference with the batch's own statistics as running ones reproduces the training output */
    real var[4], Ye[36];
    for (int c = 0; c < C; c++) var[c] = 1 / (rstd[c] * rstd[c]) - (real)ND_BATCHNORM_EPS;
    batchnorm_forward_train(Y, mean, rstd, X, g, be, rows, C);
    batchnorm_forward_eval(Ye, X, g, be, mean, var, rows, C);
    double e = 0;
    for (size_t j = 0; j < n; j++) e = fmax(e, fabs(Ye[j] - Y[j]));
    CHECK(ctx, e < 1e-9, "eval vs train mode with the same statistics: %.3g", e);
    free(X); free(g); free(be); free(U); free(Y); free(Z); free(dX); free(dg); free(dbe); free(dY); free(pX);
}

static void test_losses(nd_test_ctx *ctx) {
    nd_rng r;
    nd_rng_seed(&r, 4);
    const size_t n = 20;
    real *z = rnd(&r, n, 3), *y = malloc(sizeof(real) * n), *w = malloc(sizeof(real) * n), *p = rnd(&r, n, 1);
    for (size_t i = 0; i < n; i++) { y[i] = nd_rng_uniform(&r) < 0.3; w[i] = (real)(0.5 + nd_rng_uniform(&r)); }
    z[0] = 40; z[1] = -40; /* far tails: softplus must not overflow */
    real *dz = calloc(n, sizeof(real)), *dp = calloc(n, sizeof(real));
    bce_logits_backward(dz, z, y, w, 0.7, n);
    sqerr_backward(dp, p, y, w, 0.7, n);
    double worst = 0;
    for (size_t i = 0; i < n; i++) {
        real k = z[i];
        z[i] = k + H; double fp = bce_logits_forward(z, y, w, n);
        z[i] = k - H; double fm = bce_logits_forward(z, y, w, n);
        z[i] = k;
        worst = fmax(worst, relerr(dz[i], 0.7 * (fp - fm) / (2 * H)));
        k = p[i];
        p[i] = k + H; fp = sqerr_forward(p, y, w, n);
        p[i] = k - H; fm = sqerr_forward(p, y, w, n);
        p[i] = k;
        worst = fmax(worst, relerr(dp[i], 0.7 * (fp - fm) / (2 * H)));
    }
    CHECK(ctx, worst < TOL && isfinite(bce_logits_forward(z, y, w, n)), "loss gradient error %.3g", worst);
    free(z); free(y); free(w); free(p); free(dz); free(dp);
}


/* The whole model: loss gradient w.r.t. every parameter against central differences. Entries where the two
 * one-sided differences disagree (a ReLU kink within +-h) are skipped and counted. */
static double model_loss(nd_tcn_model *m, nd_tcn_work *w, const nd_spike_events *ev, int B,
                         const nd_tcn_targets *tg) {
    nd_tcn_loss L;
    nd_tcn_forward(m, w, ev, B, 1, tg, &L, NULL, NULL);
    return L.total;
}

static void test_model(nd_test_ctx *ctx) {
    nd_tcn_config c = {5, 3, 4, 3, 2};
    nd_tcn_model m;
    nd_error err;
    CHECK(ctx, nd_tcn_create(&m, &c, &err) == ND_OK, "%s", err.msg);
    nd_tcn_init(&m, 5);
    nd_rng r;
    nd_rng_seed(&r, 6);
    for (size_t i = 0; i < m.n_params; i++) m.params[i] += (real)(0.3 * nd_rng_normal(&r));
    enum { T = 8, B = 2 };
    int et[80], eb[80], ec[80];
    size_t n = 0;
    for (int t = 0; t < T; t++)
        for (int b = 0; b < B; b++)
            for (int k = 0; k < 5; k++)
                if (nd_rng_uniform(&r) < 0.3) { et[n] = t; eb[n] = b; ec[n] = k; n++; }
    nd_spike_events ev = {et, eb, ec, n};
    real ys[T * B], yv[T * B], wt[T * B];
    for (int i = 0; i < T * B; i++) { ys[i] = nd_rng_uniform(&r) < 0.3; yv[i] = (real)nd_rng_normal(&r); wt[i] = i >= 2 * B; }
    nd_tcn_targets tg = {ys, yv, wt, 3.0};
    nd_tcn_work *w;
    CHECK(ctx, nd_tcn_work_create(&w, &m, T, B, &err) == ND_OK, "%s", err.msg);
    real *g = calloc(m.n_params, sizeof(real));
    model_loss(&m, w, &ev, B, &tg);
    nd_tcn_backward(&m, w, g);
    double worst = 0;
    int skipped = 0;
    size_t nonzero = 0;
    for (size_t i = 0; i < m.n_params; i++) {
        real k = m.params[i];
        double f[2];
        int kink = 0;
        for (int s = 0; s < 2; s++) {
            m.params[i] = k + (s ? -H : H);
            f[s] = model_loss(&m, w, &ev, B, &tg);
        }
        m.params[i] = k;
        model_loss(&m, w, &ev, B, &tg);
        double num = (f[0] - f[1]) / (2 * H), e = relerr(g[i], num);
        /* a kink shows as a one-sided slope mismatch: compare with the one-sided differences */
        double f0 = model_loss(&m, w, &ev, B, &tg);
        if (fabs((f[0] - f0) / H - (f0 - f[1]) / H) > 1e-3 * fmax(1, fabs(num))) kink = 1;
        if (kink) { skipped++; continue; }
        if (fabs(g[i]) > 1e-10) nonzero++;
        worst = fmax(worst, e);
    }
    printf("    TCN (batch norm in training mode) depth 3, width 4, kernels 3/2, %zu input events: %zu params (%zu nonzero grads), max err %.1e, "
           "%d at a ReLU kink skipped\n", n, m.n_params, nonzero, worst, skipped);
    CHECK(ctx, worst < 1e-6, "model gradient error %.3g", worst);
    CHECK(ctx, nonzero > m.n_params / 2 && skipped < (int)m.n_params / 10, "nonzero %zu, skipped %d", nonzero, skipped);
    free(g);
    nd_tcn_work_free(w);
    nd_tcn_free(&m);
}


/* The layers split rows and channel slices over OpenMP threads when the arrays are large: 1 and 2 threads give the
 * same results (within rounding of the split products) on arrays above the threshold */
typedef struct { real *Y, *dX, *dW, *db, *Z, *Hn, *mean, *rstd, *dA, *dg, *dbeta, *S, *dWs; } layer_out;

static void run_layers(int threads, const real *X, const real *W, const real *b, const real *U, const real *g,
                       const real *beta, const nd_spike_events *ev, real *Ws, int T, int B, int C, int K, int K0,
                       int Cs, layer_out *o) {
    omp_set_num_threads(threads);
    size_t n = (size_t)T * B * C;
    conv1d_forward(o->Y, X, W, b, T, B, C, C, K);
    memset(o->dX, 0, sizeof(real) * n);
    memset(o->dW, 0, sizeof(real) * (size_t)K * C * C);
    memset(o->db, 0, sizeof(real) * C);
    conv1d_backward(o->dX, o->dW, o->db, U, X, W, T, B, C, C, K);
    relu_forward(o->Z, o->Y, n);
    batchnorm_forward_train(o->Hn, o->mean, o->rstd, o->Z, g, beta, (size_t)T * B, C);
    memset(o->dA, 0, sizeof(real) * n);
    memset(o->dg, 0, sizeof(real) * C);
    memset(o->dbeta, 0, sizeof(real) * C);
    batchnorm_backward(o->dA, o->dg, o->dbeta, U, o->Z, o->mean, o->rstd, g, (size_t)T * B, C);
    relu_backward(o->dA, U, o->Z, n);
    spikeconv_forward(o->S, ev, Ws, b, T, B, Cs, C, K0);
    memset(o->dWs, 0, sizeof(real) * (size_t)K0 * Cs * C);
    spikeconv_backward(o->dWs, NULL, U, ev, T, B, Cs, C, K0);
}

static double maxdiff(const real *a, const real *b, size_t n) {
    double e = 0;
    for (size_t i = 0; i < n; i++) e = fmax(e, fabs((double)a[i] - b[i]) / fmax(1.0, fabs((double)a[i])));
    return e;
}

static void test_threads(nd_test_ctx *ctx) {
    enum { T = 64, B = 8, C = 64, K = 3, K0 = 9, Cs = 50 };
    const size_t n = (size_t)T * B * C;
    nd_rng r;
    nd_rng_seed(&r, 11);
    real *X = rnd(&r, n, 1), *W = rnd(&r, (size_t)K * C * C, 0.2), *b = rnd(&r, C, 1), *U = rnd(&r, n, 1);
    real *g = rnd(&r, C, 1), *beta = rnd(&r, C, 1), *Ws = rnd(&r, (size_t)K0 * Cs * C, 1);
    enum { NE = 4000 };
    int *et = malloc(sizeof(int) * NE), *eb = malloc(sizeof(int) * NE), *ec = malloc(sizeof(int) * NE);
    for (int e = 0; e < NE; e++) {
        et[e] = (int)(nd_rng_uniform(&r) * (T + K0)) - K0;
        eb[e] = (int)(nd_rng_uniform(&r) * B);
        ec[e] = (int)(nd_rng_uniform(&r) * Cs);
    }
    nd_spike_events ev = {et, eb, ec, NE};
    layer_out o[2];
    for (int k = 0; k < 2; k++) {
        real **f[] = {&o[k].Y, &o[k].dX, &o[k].Z, &o[k].Hn, &o[k].dA, &o[k].S};
        for (int i = 0; i < 6; i++) *f[i] = calloc(n, sizeof(real));
        o[k].dW = calloc((size_t)K * C * C, sizeof(real));
        o[k].dWs = calloc((size_t)K0 * Cs * C, sizeof(real));
        real **v[] = {&o[k].db, &o[k].mean, &o[k].rstd, &o[k].dg, &o[k].dbeta};
        for (int i = 0; i < 5; i++) *v[i] = calloc(C, sizeof(real));
        run_layers(k + 1, X, W, b, U, g, beta, &ev, Ws, T, B, C, K, K0, Cs, &o[k]);
    }
    omp_set_num_threads(2);
    double e = 0;
    e = fmax(e, maxdiff(o[0].Y, o[1].Y, n));
    e = fmax(e, maxdiff(o[0].dX, o[1].dX, n));
    e = fmax(e, maxdiff(o[0].dW, o[1].dW, (size_t)K * C * C));
    e = fmax(e, maxdiff(o[0].db, o[1].db, C));
    e = fmax(e, maxdiff(o[0].Hn, o[1].Hn, n));
    e = fmax(e, maxdiff(o[0].dA, o[1].dA, n));
    e = fmax(e, maxdiff(o[0].dg, o[1].dg, C));
    e = fmax(e, maxdiff(o[0].S, o[1].S, n));
    e = fmax(e, maxdiff(o[0].dWs, o[1].dWs, (size_t)K0 * Cs * C));
    printf("    conv, ReLU, batch norm, sparse conv on [%d x %d][%d], 1 vs 2 threads: max rel diff %.1e\n", T, B, C, e);
    CHECK(ctx, e < 1e-12, "1 vs 2 threads differ: %.3g", e);
    for (int k = 0; k < 2; k++) {
        real *f[] = {o[k].Y, o[k].dX, o[k].Z, o[k].Hn, o[k].dA, o[k].S, o[k].dW, o[k].dWs, o[k].db, o[k].mean,
                     o[k].rstd, o[k].dg, o[k].dbeta};
        for (int i = 0; i < 13; i++) free(f[i]);
    }
    free(X); free(W); free(b); free(U); free(g); free(beta); free(Ws); free(et); free(eb); free(ec);
}

/* The fused ReLU + batch norm passes the model uses give the same values as the separate layers above (which the
 * finite differences check), at 1 and 2 threads, on an array large enough to be split over threads */
static void test_fused_relu_batchnorm(nd_test_ctx *ctx) {
    enum { T = 64, B = 8, C = 64 };
    const size_t rows = (size_t)T * B, n = rows * C;
    nd_rng r;
    nd_rng_seed(&r, 12);
    real *Zin = rnd(&r, n, 1), *g = rnd(&r, C, 1), *beta = rnd(&r, C, 1), *U = rnd(&r, n, 1);
    real *buf = calloc(10 * n + 12 * (size_t)C, sizeof(real));
    double e = 0;
    for (int threads = 1; threads <= 2; threads++) {
        omp_set_num_threads(threads);
        real *A = buf, *Y = A + n, *dA = Y + n, *dZ = dA + n, *A2 = dZ + n, *Y2 = A2 + n, *dZ2 = Y2 + n;
        real *st = buf + 10 * n, *mean = st, *rstd = st + C, *dg = st + 2 * C, *dbeta = st + 3 * C;
        real *mean2 = st + 4 * C, *rstd2 = st + 5 * C, *dg2 = st + 6 * C, *dbeta2 = st + 7 * C;
        memset(buf, 0, sizeof(real) * (10 * n + 12 * (size_t)C));
        relu_forward(A, Zin, n);
        batchnorm_forward_train(Y, mean, rstd, A, g, beta, rows, C);
        batchnorm_backward(dA, dg, dbeta, U, A, mean, rstd, g, rows, C);
        relu_backward(dZ, dA, A, n);
        for (size_t i = 0; i < n; i++) dZ2[i] = 7; /* overwritten */
        relu_batchnorm_forward_train(A2, Y2, mean2, rstd2, Zin, g, beta, rows, C);
        batchnorm_relu_backward(dZ2, dg2, dbeta2, U, A2, mean2, rstd2, g, rows, C);
        const real *a[] = {A, Y, dZ, mean, rstd, dg, dbeta}, *b[] = {A2, Y2, dZ2, mean2, rstd2, dg2, dbeta2};
        for (int k = 0; k < 7; k++)
            for (size_t i = 0; i < (k < 3 ? n : (size_t)C); i++) e = fmax(e, fabs((double)a[k][i] - b[k][i]));
    }
    omp_set_num_threads(2);
    printf("    fused relu + batch norm vs the two layers, [%d x %d][%d], 1 and 2 threads: max diff %.1g\n", T, B, C, e);
    CHECK(ctx, e == 0, "fused layers differ from the separate ones by %.3g", e);
    free(Zin); free(g); free(beta); free(U); free(buf);
}

int main(void) {
    RUN(test_conv1d);
    RUN(test_spikeconv_equals_dense);
    RUN(test_batchnorm_relu);
    RUN(test_losses);
    RUN(test_model);
    RUN(test_threads);
    RUN(test_fused_relu_batchnorm);
    TEST_MAIN_END();
}
