/* Layer-level gradient checks (double precision build): every *_backward in
 * src/nn/layers.h agrees with central differences of its forward.
 *
 * Method: each layer gets a scalar objective L (sum of upstream weights times the
 * outputs, or the loss itself times a scale) and every input and parameter is
 * perturbed by +-h, h = 1e-6. Error metric per entry:
 *     |analytic - numeric| / max(1, |analytic|, |numeric|)
 * and a test passes when the maximum over all checked entries is < 1e-6.
 * Gradient buffers are pre-filled with random values before the backward call and
 * those are subtracted afterwards, so the documented "+=" (accumulate) semantics
 * are checked too; outputs documented as overwritten are pre-filled with garbage.
 * For the clipped GRU the objective is only piecewise smooth: entries whose +-h
 * perturbation changes which cell outputs are clipped are skipped (and counted). */
#include "test.h"
#include "../src/nn/layers.h"
#include "../src/nn/recon.h"
#include "../src/core/blas.h"
#include "../src/core/rng.h"
#include <stdint.h>
#include <stdlib.h>

#define FD_H 1e-6
#define GC_TOL 1e-6
#define GC_PI 3.14159265358979323846

/* ------------------------------------------------------------------ helpers */

typedef double (*gc_objfn)(void *ctx, uint64_t *sig);

static real *gc_alloc(size_t n) {
    real *p = calloc(n ? n : 1, sizeof(real));
    if (!p) { fprintf(stderr, "out of memory\n"); exit(2); }
    return p;
}

static void gc_randn(nd_rng *r, real *x, size_t n, double sd) {
    for (size_t i = 0; i < n; i++) x[i] = (real)(sd * nd_rng_normal(r));
}

static double gc_dot(const real *a, const real *b, size_t n) {
    double s = 0;
    for (size_t i = 0; i < n; i++) s += (double)a[i] * b[i];
    return s;
}

/* a[i] -= b[i] : turns "pre + accumulated" into "accumulated" */
static void gc_sub(real *a, const real *b, size_t n) {
    for (size_t i = 0; i < n; i++) a[i] -= b[i];
}

static uint64_t gc_mix(uint64_t s, uint64_t v) { return (s ^ v) * 0x100000001b3ULL + 0x9e3779b97f4a7c15ULL; }

/* Compare analytic gradient an[0..n) with central differences of f w.r.t. x[0..n).
 * Entries whose perturbation changes the non-smoothness signature are skipped. */
static double gc_fd(gc_objfn f, void *ctx, real *x, size_t n, const real *an, int *nskip, size_t *nnonzero) {
    double worst = 0;
    uint64_t s0 = 0, sp = 0, sm = 0;
    f(ctx, &s0);
    for (size_t i = 0; i < n; i++) {
        real x0 = x[i];
        real xp = x0 + (real)FD_H, xm = x0 - (real)FD_H;
        x[i] = xp;
        double fp = f(ctx, &sp);
        x[i] = xm;
        double fm = f(ctx, &sm);
        x[i] = x0;
        if (sp != s0 || sm != s0) {
            if (nskip) (*nskip)++;
            continue;
        }
        double num = (fp - fm) / ((double)xp - (double)xm), a = an[i];
        double e = fabs(a - num) / fmax(1.0, fmax(fabs(a), fabs(num)));
        if (isnan(e)) e = INFINITY;
        if (e > worst) worst = e;
        if (nnonzero && fabs(a) > 1e-8) (*nnonzero)++;
    }
    f(ctx, &s0); /* leave the forward state at the base point */
    return worst;
}

/* per-test accumulator of errors, printed as one line */
typedef struct {
    double maxerr;
    int nskip;
    size_t nchecked, nnonzero;
    char detail[768];
} gc_acc;

static void gc_check(nd_test_ctx *ctx, gc_acc *acc, const char *label, gc_objfn f, void *fctx, real *x, size_t n,
                     const real *an) {
    int skip = 0;
    size_t nz = 0;
    double e = gc_fd(f, fctx, x, n, an, &skip, &nz);
    if (e > acc->maxerr) acc->maxerr = e;
    acc->nskip += skip;
    acc->nchecked += n - (size_t)skip;
    acc->nnonzero += nz;
    size_t len = strlen(acc->detail);
    snprintf(acc->detail + len, sizeof acc->detail - len, "%s%s %.1e", len ? ", " : "", label, e);
    CHECK(ctx, e < GC_TOL, "d/d%s: max rel err %.3e (tol %.0e)", label, e, GC_TOL);
    CHECK(ctx, skip * 4 <= (int)n, "d/d%s: %d of %zu entries skipped at the clip boundary", label, skip, n);
}

static void gc_report(nd_test_ctx *ctx, const char *name, const gc_acc *acc) {
    printf("    %s: max rel err %.1e  [%s]", name, acc->maxerr, acc->detail);
    if (acc->nskip) printf(" (%d entries skipped at the clip boundary)", acc->nskip);
    printf("\n");
    /* guard against a vacuous pass: most analytic gradients should be non-zero */
    CHECK(ctx, acc->nnonzero * 4 >= acc->nchecked, "only %zu of %zu checked gradients are non-zero",
          acc->nnonzero, acc->nchecked);
}

/* ------------------------------------------------------------------ linear */

typedef struct {
    int B, I, O;
    real *in, *W, *b, *w, *out;
} lin_ctx;

static double lin_obj(void *c, uint64_t *sig) {
    lin_ctx *L = c;
    *sig = 0;
    linear_forward(L->out, L->in, L->W, L->b, L->B, L->I, L->O);
    return gc_dot(L->w, L->out, (size_t)L->B * L->O);
}

static void linear_case(nd_test_ctx *ctx, const char *name, int bias, uint64_t seed) {
    const int B = 3, I = 4, O = 5;
    nd_rng r;
    nd_rng_seed(&r, seed);
    lin_ctx L = {B, I, O, gc_alloc(B * I), gc_alloc(I * O), bias ? gc_alloc(O) : NULL, gc_alloc(B * O),
                 gc_alloc(B * O)};
    gc_randn(&r, L.in, B * I, 1);
    gc_randn(&r, L.W, I * O, 1);
    if (bias) gc_randn(&r, L.b, O, 1);
    gc_randn(&r, L.w, B * O, 1);
    real *din = gc_alloc(B * I), *dW = gc_alloc(I * O), *db = gc_alloc(O);
    real *pin = gc_alloc(B * I), *pW = gc_alloc(I * O), *pb = gc_alloc(O);
    gc_randn(&r, pin, B * I, 1);
    gc_randn(&r, pW, I * O, 1);
    gc_randn(&r, pb, O, 1);
    memcpy(din, pin, sizeof(real) * B * I);
    memcpy(dW, pW, sizeof(real) * I * O);
    memcpy(db, pb, sizeof(real) * O);
    linear_backward(din, dW, bias ? db : NULL, L.w, L.in, L.W, B, I, O);
    gc_sub(din, pin, B * I);
    gc_sub(dW, pW, I * O);
    gc_sub(db, pb, O);
    gc_acc acc = {0};
    gc_check(ctx, &acc, "in", lin_obj, &L, L.in, B * I, din);
    gc_check(ctx, &acc, "W", lin_obj, &L, L.W, I * O, dW);
    if (bias) gc_check(ctx, &acc, "b", lin_obj, &L, L.b, O, db);
    /* NULL din / db must be accepted and leave dW unchanged */
    real *dW2 = gc_alloc(I * O);
    linear_backward(NULL, dW2, NULL, L.w, L.in, L.W, B, I, O);
    double dmax = 0;
    for (int i = 0; i < I * O; i++) dmax = fmax(dmax, fabs(dW2[i] - dW[i]));
    CHECK(ctx, dmax < 1e-12, "dW with din=db=NULL differs by %.3e", dmax);
    gc_report(ctx, name, &acc);
    free(L.in); free(L.W); free(L.b); free(L.w); free(L.out);
    free(din); free(dW); free(db); free(pin); free(pW); free(pb); free(dW2);
}

static void test_linear_bias(nd_test_ctx *ctx) { linear_case(ctx, "linear (bias)", 1, 11); }
static void test_linear_nobias(nd_test_ctx *ctx) { linear_case(ctx, "linear (no bias)", 0, 12); }

/* ------------------------------------------------------------------ GRU step */

/* signature of which outputs are clipped: raw = z*hp + (1-z)*n against +-clip */
static uint64_t clip_sig(const real *z, const real *n, const real *hprev, int B, int H, real clip, int *nclip) {
    uint64_t s = 0;
    for (int i = 0; i < B * H; i++) {
        real raw = z[i] * hprev[i] + (1 - z[i]) * n[i];
        int st = raw > clip ? 1 : (raw < -clip ? 2 : 0);
        if (nclip && st) (*nclip)++;
        s = gc_mix(s, (uint64_t)st);
    }
    return s;
}

typedef struct {
    int B, I, H;
    real clip;
    real *xp, *hprev, *w, *h, *z, *r, *n, *scr;
    gru_params p;
} step_ctx;

static double step_obj(void *c, uint64_t *sig) {
    step_ctx *S = c;
    gru_step_forward(S->h, S->z, S->r, S->n, S->xp, S->hprev, &S->p, S->B, S->H, S->clip, S->scr);
    *sig = clip_sig(S->z, S->n, S->hprev, S->B, S->H, S->clip, NULL);
    return gc_dot(S->w, S->h, (size_t)S->B * S->H);
}

static void gru_step_case(nd_test_ctx *ctx, const char *name, real clip, double in_sd, uint64_t seed) {
    const int B = 3, I = 4, H = 5;
    nd_rng r;
    nd_rng_seed(&r, seed);
    size_t np = gru_num_params(I, H);
    real *P = gc_alloc(np), *G = gc_alloc(np), *Gpre = gc_alloc(np);
    step_ctx S = {B, I, H, clip, gc_alloc(B * 3 * H), gc_alloc(B * H), gc_alloc(B * H), gc_alloc(B * H),
                  gc_alloc(B * H), gc_alloc(B * H), gc_alloc(B * H), gc_alloc(gru_step_scratch(B, H)), {0}};
    gru_bind(&S.p, P, I, H);
    gru_init(&S.p, I, H, &r);
    for (size_t i = 0; i < np; i++) P[i] += (real)(0.1 * nd_rng_normal(&r));
    gc_randn(&r, S.xp, B * 3 * H, in_sd);
    gc_randn(&r, S.hprev, B * H, in_sd);
    gc_randn(&r, S.w, B * H, 1);
    gru_params g;
    gru_bind(&g, G, I, H);
    gc_randn(&r, Gpre, np, 1);
    memcpy(G, Gpre, sizeof(real) * np);
    real *dxp = gc_alloc(B * 3 * H), *dhp = gc_alloc(B * H), *dhp_pre = gc_alloc(B * H);
    for (int i = 0; i < B * 3 * H; i++) dxp[i] = (real)1e3; /* documented as overwritten */
    gc_randn(&r, dhp_pre, B * H, 1);
    memcpy(dhp, dhp_pre, sizeof(real) * B * H);

    uint64_t sig;
    step_obj(&S, &sig);
    int nclip = 0;
    clip_sig(S.z, S.n, S.hprev, B, H, clip, &nclip);
    gru_step_backward_data(dxp, dhp, S.w, S.z, S.r, S.n, S.hprev, &S.p, B, H, clip, S.scr);
    real *rh = gc_alloc(B * H);
    for (int i = 0; i < B * H; i++) rh[i] = S.r[i] * S.hprev[i];
    gru_weight_grads(&g, S.hprev, rh, NULL, dxp, I, H, B); /* the recurrent weights' share of one step */
    free(rh);
    gc_sub(dhp, dhp_pre, B * H);
    /* Wx, bx grads must be untouched without inputs */
    size_t nx = (size_t)I * 3 * H + 3 * H;
    double dmax = 0;
    for (size_t i = 0; i < nx; i++) dmax = fmax(dmax, fabs(G[i] - Gpre[i]));
    CHECK(ctx, dmax == 0, "gru_weight_grads without X modified g->Wx / g->bx (max change %.3e)", dmax);
    gc_sub(G, Gpre, np);

    gc_acc acc = {0};
    gc_check(ctx, &acc, "xp", step_obj, &S, S.xp, B * 3 * H, dxp);
    gc_check(ctx, &acc, "hprev", step_obj, &S, S.hprev, B * H, dhp);
    gc_check(ctx, &acc, "Uzr", step_obj, &S, S.p.Uzr, (size_t)H * 2 * H, g.Uzr);
    gc_check(ctx, &acc, "Un", step_obj, &S, S.p.Un, (size_t)H * H, g.Un);
    if (clip < 100) {
        printf("    %s: %d of %d outputs clipped\n", name, nclip, B * H);
        CHECK(ctx, nclip > 0 && nclip < B * H, "clipping should be active on some but not all outputs (%d of %d)",
              nclip, B * H);
    } else {
        CHECK(ctx, nclip == 0, "no output should clip (%d did)", nclip);
    }
    gc_report(ctx, name, &acc);
    free(P); free(G); free(Gpre); free(S.xp); free(S.hprev); free(S.w); free(S.h); free(S.z); free(S.r);
    free(S.n); free(S.scr); free(dxp); free(dhp); free(dhp_pre);
}

static void test_gru_step(nd_test_ctx *ctx) { gru_step_case(ctx, "gru_step (no clip)", 1000, 1.0, 21); }
static void test_gru_step_clipped(nd_test_ctx *ctx) { gru_step_case(ctx, "gru_step (clip 0.3)", 0.3, 1.5, 22); }

/* ------------------------------------------------------------------ GRU sequence */

typedef struct {
    int T, B, I, H, reverse;
    real clip;
    real *X, *h0, *w, *Hbuf, *RH, *scr;
    gru_params p;
    gru_seq_acts a;
} seq_ctx;

static uint64_t seq_sig(const seq_ctx *S, int *nclip) {
    uint64_t s = 0;
    const int B = S->B, H = S->H, T = S->T;
    for (int t = 0; t < T; t++) {
        int tp = S->reverse ? t + 1 : t - 1; /* the initial state's slot is step -1 (forward) or T (reverse) */
        size_t o = (size_t)t * B * H;
        s = gc_mix(s, clip_sig(S->a.Z + o, S->a.N + o, S->a.Hs + (ptrdiff_t)tp * B * H, B, H, S->clip, nclip));
    }
    return s;
}

/* the rows in two chunks (as lfads.c runs them in parallel): [0, 1) and [1, B) */
static void seq_forward(seq_ctx *S) {
    linear_forward(S->a.XP, S->X, S->p.Wx, S->p.bx, S->T * S->B, S->I, 3 * S->H);
    gru_seq_forward(&S->a, S->RH, S->h0, &S->p, S->T, S->B, S->H, S->reverse, S->clip, 0, 1, S->scr);
    gru_seq_forward(&S->a, S->RH, S->h0, &S->p, S->T, S->B, S->H, S->reverse, S->clip, 1, S->B - 1, S->scr);
}

static double seq_obj(void *c, uint64_t *sig) {
    seq_ctx *S = c;
    seq_forward(S);
    *sig = seq_sig(S, NULL);
    return gc_dot(S->w, S->a.Hs, (size_t)S->T * S->B * S->H);
}

static void gru_seq_case(nd_test_ctx *ctx, const char *name, int reverse, real clip, double in_sd, uint64_t seed) {
    const int T = 6, B = 3, I = 4, H = 5;
    const size_t TBH = (size_t)T * B * H;
    nd_rng r;
    nd_rng_seed(&r, seed);
    size_t np = gru_num_params(I, H);
    real *P = gc_alloc(np), *G = gc_alloc(np), *Gpre = gc_alloc(np);
    seq_ctx S = {T, B, I, H, reverse, clip, gc_alloc((size_t)T * B * I), gc_alloc(H), gc_alloc(TBH),
                 gc_alloc(TBH + (size_t)B * H), gc_alloc(TBH), gc_alloc(gru_step_scratch(B, H)), {0}, {0}};
    S.a.XP = gc_alloc(TBH * 3);
    S.a.Z = gc_alloc(TBH);
    S.a.R = gc_alloc(TBH);
    S.a.N = gc_alloc(TBH);
    S.a.Hs = S.Hbuf + (reverse ? 0 : (size_t)B * H);
    gru_bind(&S.p, P, I, H);
    gru_init(&S.p, I, H, &r);
    for (size_t i = 0; i < np; i++) P[i] += (real)(0.1 * nd_rng_normal(&r));
    gc_randn(&r, S.X, (size_t)T * B * I, in_sd);
    gc_randn(&r, S.h0, H, in_sd);
    gc_randn(&r, S.w, TBH, 1);
    gru_params g;
    gru_bind(&g, G, I, H);
    gc_randn(&r, Gpre, np, 1);
    memcpy(G, Gpre, sizeof(real) * np);
    real *dX = gc_alloc((size_t)T * B * I), *dh0rows = gc_alloc((size_t)B * H), *dh0 = gc_alloc(H);
    real *dHs = gc_alloc(TBH);
    for (size_t i = 0; i < (size_t)B * H; i++) dh0rows[i] = (real)1e3; /* documented as overwritten */

    uint64_t sig;
    seq_obj(&S, &sig); /* fresh forward: the backward consumes a->XP */
    int nclip = 0;
    seq_sig(&S, &nclip);
    memcpy(dHs, S.w, sizeof(real) * TBH); /* dHs is consumed as workspace */
    /* the rows in the other chunking than the forward's: [0, 2) and [2, B) */
    gru_seq_backward_data(&S.a, dHs, dh0rows, &S.p, T, B, H, reverse, clip, 0, 2, S.scr);
    gru_seq_backward_data(&S.a, dHs, dh0rows, &S.p, T, B, H, reverse, clip, 2, B - 2, S.scr);
    const real *Hprev = S.a.Hs + (reverse ? (ptrdiff_t)B * H : -(ptrdiff_t)B * H);
    gru_weight_grads(&g, Hprev, S.RH, S.X, S.a.XP, I, H, T * B);
    linear_backward(dX, NULL, NULL, S.a.XP, S.X, S.p.Wx, T * B, I, 3 * H);
    for (int b = 0; b < B; b++)
        for (int j = 0; j < H; j++) dh0[j] += dh0rows[(size_t)b * H + j];
    gc_sub(G, Gpre, np);

    gc_acc acc = {0};
    gc_check(ctx, &acc, "X", seq_obj, &S, S.X, (size_t)T * B * I, dX);
    gc_check(ctx, &acc, "h0", seq_obj, &S, S.h0, H, dh0);
    gc_check(ctx, &acc, "Wx", seq_obj, &S, S.p.Wx, (size_t)I * 3 * H, g.Wx);
    gc_check(ctx, &acc, "bx", seq_obj, &S, S.p.bx, (size_t)3 * H, g.bx);
    gc_check(ctx, &acc, "Uzr", seq_obj, &S, S.p.Uzr, (size_t)H * 2 * H, g.Uzr);
    gc_check(ctx, &acc, "Un", seq_obj, &S, S.p.Un, (size_t)H * H, g.Un);
    if (clip < 100) {
        printf("    %s: %d of %zu outputs clipped\n", name, nclip, TBH);
        CHECK(ctx, nclip > 0 && (size_t)nclip < TBH, "clipping should be active on some outputs (%d of %zu)", nclip,
              TBH);
    }
    gc_report(ctx, name, &acc);
    free(P); free(G); free(Gpre); free(S.X); free(S.h0); free(S.w); free(S.Hbuf); free(S.RH); free(S.scr);
    free(S.a.XP); free(S.a.Z); free(S.a.R); free(S.a.N);
    free(dX); free(dh0rows); free(dh0); free(dHs);
}

static void test_gru_seq_forward_dir(nd_test_ctx *ctx) { gru_seq_case(ctx, "gru_seq (reverse=0)", 0, 1000, 1.0, 31); }
static void test_gru_seq_reverse(nd_test_ctx *ctx) { gru_seq_case(ctx, "gru_seq (reverse=1)", 1, 1000, 1.0, 32); }
static void test_gru_seq_clipped(nd_test_ctx *ctx) {
    gru_seq_case(ctx, "gru_seq (reverse=0, clip 0.3)", 0, 0.3, 1.5, 33);
}
static void test_gru_seq_reverse_clipped(nd_test_ctx *ctx) {
    gru_seq_case(ctx, "gru_seq (reverse=1, clip 0.3)", 1, 0.3, 1.5, 34);
}

/* ------------------------------------------------------------------ factor read-out */

typedef struct {
    int B, F, G;
    real *W, *Wn, *norms, *g, *w, *f;
} fac_ctx;

static double fac_obj(void *c, uint64_t *sig) {
    fac_ctx *Fc = c;
    *sig = 0;
    factor_normalize(Fc->Wn, Fc->norms, Fc->W, Fc->F, Fc->G);
    /* f[B][F] = g[B][G] Wn^T */
    nd_gemm(0, 1, Fc->B, Fc->F, Fc->G, 1, Fc->g, Fc->G, Fc->Wn, Fc->G, 0, Fc->f, Fc->F);
    return gc_dot(Fc->w, Fc->f, (size_t)Fc->B * Fc->F);
}

static void test_factor_normalize(nd_test_ctx *ctx) {
    const int B = 3, F = 4, G = 5;
    nd_rng r;
    nd_rng_seed(&r, 41);
    fac_ctx Fc = {B, F, G, gc_alloc(F * G), gc_alloc(F * G), gc_alloc(F), gc_alloc(B * G), gc_alloc(B * F),
                  gc_alloc(B * F)};
    gc_randn(&r, Fc.W, F * G, 0.7);
    gc_randn(&r, Fc.g, B * G, 1);
    gc_randn(&r, Fc.w, B * F, 1);
    real *dWn = gc_alloc(F * G), *dW = gc_alloc(F * G), *pre = gc_alloc(F * G);
    uint64_t sig;
    fac_obj(&Fc, &sig);
    /* dWn[F][G] = w^T g */
    nd_gemm(1, 0, F, G, B, 1, Fc.w, F, Fc.g, G, 0, dWn, G);
    gc_randn(&r, pre, F * G, 1);
    memcpy(dW, pre, sizeof(real) * F * G);
    factor_normalize_backward(dW, dWn, Fc.Wn, Fc.norms, F, G);
    gc_sub(dW, pre, F * G);
    /* the forward really normalises */
    double nerr = 0;
    for (int f = 0; f < F; f++) nerr = fmax(nerr, fabs(gc_dot(Fc.Wn + f * G, Fc.Wn + f * G, G) - 1));
    CHECK(ctx, nerr < 1e-12, "rows of Wn are not unit norm (err %.3e)", nerr);
    gc_acc acc = {0};
    gc_check(ctx, &acc, "W", fac_obj, &Fc, Fc.W, F * G, dW);
    gc_report(ctx, "factor_normalize", &acc);
    free(Fc.W); free(Fc.Wn); free(Fc.norms); free(Fc.g); free(Fc.w); free(Fc.f);
    free(dWn); free(dW); free(pre);
}

/* ------------------------------------------------------------------ dropout */

typedef struct {
    size_t n;
    real *in, *mask, *w, *out;
} drop_ctx;

static double drop_obj(void *c, uint64_t *sig) {
    drop_ctx *D = c;
    *sig = 0;
    dropout_apply(D->out, D->in, D->mask, D->n);
    return gc_dot(D->w, D->out, D->n);
}

static void test_dropout(nd_test_ctx *ctx) {
    const size_t n = 3 * 4 * 6;
    nd_rng r;
    nd_rng_seed(&r, 51);
    drop_ctx D = {n, gc_alloc(n), gc_alloc(n), gc_alloc(n), gc_alloc(n)};
    dropout_mask(D.mask, n, 0.3, &r);
    size_t nzero = 0;
    for (size_t i = 0; i < n; i++) nzero += D.mask[i] == 0;
    CHECK(ctx, nzero > 0 && nzero < n, "mask should drop some but not all entries (%zu of %zu)", nzero, n);
    gc_randn(&r, D.in, n, 1);
    gc_randn(&r, D.w, n, 1);
    real *din = gc_alloc(n), *pre = gc_alloc(n);
    gc_randn(&r, pre, n, 1);
    memcpy(din, pre, sizeof(real) * n);
    dropout_backward(din, D.w, D.mask, n);
    gc_sub(din, pre, n);
    gc_acc acc = {0};
    gc_check(ctx, &acc, "in", drop_obj, &D, D.in, n, din);
    gc_report(ctx, "dropout", &acc);
    free(D.in); free(D.mask); free(D.w); free(D.out); free(din); free(pre);
}

/* ------------------------------------------------------------------ Poisson NLL */

typedef struct {
    size_t n;
    real scale;
    real *lr, *x, *w;
} pois_ctx;

static double pois_obj(void *c, uint64_t *sig) {
    pois_ctx *Pc = c;
    *sig = 0;
    return Pc->scale * poisson_nll_forward(Pc->lr, Pc->x, Pc->w, Pc->n);
}

static void poisson_case(nd_test_ctx *ctx, const char *name, int use_gmask, uint64_t seed) {
    const size_t n = 3 * 6 * 4;
    nd_rng r;
    nd_rng_seed(&r, seed);
    pois_ctx Pc = {n, (real)0.7, gc_alloc(n), gc_alloc(n), NULL};
    real *gmask = gc_alloc(n);
    size_t nmask = 0;
    for (size_t i = 0; i < n; i++) {
        Pc.lr[i] = (real)(0.3 + 0.6 * nd_rng_normal(&r));
        Pc.x[i] = (real)nd_rng_poisson(&r, 1.5);
        gmask[i] = (real)nd_rng_bernoulli(&r, 0.6);
        nmask += gmask[i] != 0;
    }
    CHECK(ctx, nmask > 0 && nmask < n, "gmask should select some entries (%zu of %zu)", nmask, n);
    if (use_gmask) Pc.w = gmask; /* the gradient with gmask is that of the nll restricted to gmask = 1 */
    /* value check against a direct computation */
    double direct = 0;
    for (size_t i = 0; i < n; i++) {
        if (use_gmask && gmask[i] == 0) continue;
        double lam = exp((double)Pc.lr[i]), k = Pc.x[i];
        direct += -(k * log(lam) - lam - lgamma(k + 1)); /* -log Poisson(k; lam) */
    }
    double val = poisson_nll_forward(Pc.lr, Pc.x, Pc.w, n);
    CHECK(ctx, fabs(val - direct) <= 1e-12 * fmax(1, fabs(direct)), "nll %.15g vs direct %.15g", val, direct);
    /* the three weightings the LFADS loss forms in one pass (poisson_nll_sums) agree with one at a time */
    const real *wts[3] = {gmask, NULL, Pc.w};
    double sums[3];
    poisson_nll_sums(sums, 3, wts, Pc.lr, Pc.x, n, NULL, 0);
    double one0 = poisson_nll_forward(Pc.lr, Pc.x, gmask, n), one1 = poisson_nll_forward(Pc.lr, Pc.x, NULL, n);
    CHECK(ctx, sums[0] == one0 && sums[1] == one1 && sums[2] == val, "sums %.15g %.15g %.15g vs %.15g %.15g %.15g",
          sums[0], sums[1], sums[2], one0, one1, val);
    /* the same with the lgamma table of whole counts the model passes */
    double lgam[8];
    for (int j = 0; j < 8; j++) lgam[j] = lgamma(j + 1.0);
    poisson_nll_sums(sums, 1, wts + 2, Pc.lr, Pc.x, n, lgam, 8);
    CHECK(ctx, fabs(sums[0] - val) <= 1e-12 * fmax(1, fabs(val)), "with lgamma table %.15g vs %.15g", sums[0], val);
    /* the gradient overwrites: garbage before, exactly 0 where gmask is 0 after */
    real *dlr = gc_alloc(n);
    gc_randn(&r, dlr, n, 1);
    poisson_nll_backward(dlr, Pc.lr, Pc.x, use_gmask ? gmask : NULL, Pc.scale, n);
    size_t nonzero_masked = 0;
    for (size_t i = 0; i < n; i++) nonzero_masked += use_gmask && gmask[i] == 0 && dlr[i] != 0;
    CHECK(ctx, nonzero_masked == 0, "%zu entries outside gmask have a gradient", nonzero_masked);
    gc_acc acc = {0};
    gc_check(ctx, &acc, "lr", pois_obj, &Pc, Pc.lr, n, dlr);
    gc_report(ctx, name, &acc);
    free(Pc.lr); free(Pc.x); free(gmask); free(dlr);
}

static void test_poisson_nll(nd_test_ctx *ctx) { poisson_case(ctx, "poisson_nll (gmask NULL)", 0, 61); }
static void test_poisson_nll_gmask(nd_test_ctx *ctx) { poisson_case(ctx, "poisson_nll (0/1 gmask)", 1, 62); }

/* ------------------------------------------------------------------ analytic Gaussian KL */

typedef struct {
    int B, D;
    real pv, vmin, scale;
    real *mu, *lv, *pm;
} klg_ctx;

static double klg_obj(void *c, uint64_t *sig) {
    klg_ctx *K = c;
    *sig = 0;
    return K->scale * kl_gauss_forward(K->mu, K->lv, K->pm, K->pv, K->vmin, K->B, K->D);
}

static void test_kl_gauss(nd_test_ctx *ctx) {
    const int B = 3, D = 4;
    nd_rng r;
    nd_rng_seed(&r, 71);
    klg_ctx K = {B, D, (real)0.1, (real)1e-4, (real)1.3, gc_alloc(B * D), gc_alloc(B * D), gc_alloc(D)};
    gc_randn(&r, K.mu, B * D, 0.5);
    for (int i = 0; i < B * D; i++) K.lv[i] = (real)(-2 + nd_rng_normal(&r));
    gc_randn(&r, K.pm, D, 0.3);
    /* value against the textbook formula KL = log(sp/sq) + (vq + (mq-mp)^2) / (2 vp) - 1/2 */
    double direct = 0;
    for (int b = 0; b < B; b++)
        for (int d = 0; d < D; d++) {
            double vq = exp((double)K.lv[b * D + d]) + K.vmin, dm = (double)K.mu[b * D + d] - K.pm[d];
            direct += log(sqrt((double)K.pv) / sqrt(vq)) + (vq + dm * dm) / (2 * (double)K.pv) - 0.5;
        }
    double val = kl_gauss_forward(K.mu, K.lv, K.pm, K.pv, K.vmin, B, D);
    CHECK(ctx, fabs(val - direct) <= 1e-12 * fmax(1, fabs(direct)), "kl %.15g vs direct %.15g", val, direct);
    real *dmu = gc_alloc(B * D), *dlv = gc_alloc(B * D), *dpm = gc_alloc(D);
    real *pmu = gc_alloc(B * D), *plv = gc_alloc(B * D), *ppm = gc_alloc(D);
    gc_randn(&r, pmu, B * D, 1);
    gc_randn(&r, plv, B * D, 1);
    gc_randn(&r, ppm, D, 1);
    memcpy(dmu, pmu, sizeof(real) * B * D);
    memcpy(dlv, plv, sizeof(real) * B * D);
    memcpy(dpm, ppm, sizeof(real) * D);
    kl_gauss_backward(dmu, dlv, dpm, K.mu, K.lv, K.pm, K.pv, K.vmin, K.scale, B, D);
    gc_sub(dmu, pmu, B * D);
    gc_sub(dlv, plv, B * D);
    gc_sub(dpm, ppm, D);
    gc_acc acc = {0};
    gc_check(ctx, &acc, "mu", klg_obj, &K, K.mu, B * D, dmu);
    gc_check(ctx, &acc, "lv", klg_obj, &K, K.lv, B * D, dlv);
    gc_check(ctx, &acc, "pm", klg_obj, &K, K.pm, D, dpm);
    gc_report(ctx, "kl_gauss", &acc);
    free(K.mu); free(K.lv); free(K.pm); free(dmu); free(dlv); free(dpm); free(pmu); free(plv); free(ppm);
}

/* ------------------------------------------------------------------ sampled KL vs AR(1) prior */

typedef struct {
    int T, B, K;
    real scale;
    real *u, *mu, *lv, *logtau, *lognvar;
} ar1_ctx;

static double ar1_obj(void *c, uint64_t *sig) {
    ar1_ctx *A = c;
    *sig = 0;
    return A->scale * kl_ar1_forward(A->u, A->mu, A->lv, A->logtau, A->lognvar, A->T, A->B, A->K);
}

static void ar1_fill(ar1_ctx *A, nd_rng *r) {
    size_t n = (size_t)A->T * A->B * A->K;
    for (size_t i = 0; i < n; i++) {
        A->mu[i] = (real)(0.5 * nd_rng_normal(r));
        A->lv[i] = (real)(-1.5 + 0.5 * nd_rng_normal(r));
        A->u[i] = (real)(A->mu[i] + exp(0.5 * A->lv[i]) * nd_rng_normal(r));
    }
    for (int k = 0; k < A->K; k++) {
        A->logtau[k] = (real)(log(3.0 + 4 * k) + 0.2 * nd_rng_normal(r));
        A->lognvar[k] = (real)(log(0.2) + 0.3 * nd_rng_normal(r));
    }
}

static double log_normal_pdf(double x, double m, double v) {
    return -0.5 * log(2 * GC_PI * v) - (x - m) * (x - m) / (2 * v);
}

static void test_kl_ar1(nd_test_ctx *ctx) {
    const int T = 5, B = 3, K = 2;
    const size_t n = (size_t)T * B * K;
    nd_rng r;
    nd_rng_seed(&r, 81);
    ar1_ctx A = {T, B, K, (real)0.9, gc_alloc(n), gc_alloc(n), gc_alloc(n), gc_alloc(K), gc_alloc(K)};
    ar1_fill(&A, &r);
    real *du = gc_alloc(n), *dmu = gc_alloc(n), *dlv = gc_alloc(n), *dlt = gc_alloc(K), *dln = gc_alloc(K);
    real *pu = gc_alloc(n), *pmu = gc_alloc(n), *plv = gc_alloc(n), *plt = gc_alloc(K), *pln = gc_alloc(K);
    gc_randn(&r, pu, n, 1);
    gc_randn(&r, pmu, n, 1);
    gc_randn(&r, plv, n, 1);
    gc_randn(&r, plt, K, 1);
    gc_randn(&r, pln, K, 1);
    memcpy(du, pu, sizeof(real) * n);
    memcpy(dmu, pmu, sizeof(real) * n);
    memcpy(dlv, plv, sizeof(real) * n);
    memcpy(dlt, plt, sizeof(real) * K);
    memcpy(dln, pln, sizeof(real) * K);
    kl_ar1_backward(du, dmu, dlv, dlt, dln, A.u, A.mu, A.lv, A.logtau, A.lognvar, A.scale, T, B, K);
    gc_sub(du, pu, n);
    gc_sub(dmu, pmu, n);
    gc_sub(dlv, plv, n);
    gc_sub(dlt, plt, K);
    gc_sub(dln, pln, K);
    gc_acc acc = {0};
    gc_check(ctx, &acc, "u", ar1_obj, &A, A.u, n, du);
    gc_check(ctx, &acc, "mu", ar1_obj, &A, A.mu, n, dmu);
    gc_check(ctx, &acc, "lv", ar1_obj, &A, A.lv, n, dlv);
    gc_check(ctx, &acc, "logtau", ar1_obj, &A, A.logtau, K, dlt);
    gc_check(ctx, &acc, "lognvar", ar1_obj, &A, A.lognvar, K, dln);
    gc_report(ctx, "kl_ar1", &acc);
    free(A.u); free(A.mu); free(A.lv); free(A.logtau); free(A.lognvar);
    free(du); free(dmu); free(dlv); free(dlt); free(dln); free(pu); free(pmu); free(plv); free(plt); free(pln);
}

/* kl_ar1_forward's value against explicit log densities (2*pi terms included) */
static void test_kl_ar1_value(nd_test_ctx *ctx) {
    const int T = 4, B = 2, K = 2;
    const size_t n = (size_t)T * B * K;
    nd_rng r;
    nd_rng_seed(&r, 82);
    ar1_ctx A = {T, B, K, 1, gc_alloc(n), gc_alloc(n), gc_alloc(n), gc_alloc(K), gc_alloc(K)};
    ar1_fill(&A, &r);
    double direct = 0;
    for (int b = 0; b < B; b++)
        for (int k = 0; k < K; k++) {
            double tau = exp((double)A.logtau[k]), alpha = exp(-1 / tau), nvar = exp((double)A.lognvar[k]);
            double prev = 0;
            for (int t = 0; t < T; t++) {
                size_t i = ((size_t)t * B + b) * K + k;
                double u = A.u[i];
                double logq = log_normal_pdf(u, A.mu[i], exp((double)A.lv[i]));
                double logp = t == 0 ? log_normal_pdf(u, 0, nvar / (1 - alpha * alpha))
                                     : log_normal_pdf(u, alpha * prev, nvar);
                direct += logq - logp;
                prev = u;
            }
        }
    double val = kl_ar1_forward(A.u, A.mu, A.lv, A.logtau, A.lognvar, T, B, K);
    double e = fabs(val - direct) / fmax(1, fabs(direct));
    printf("    kl_ar1 value: %.12g vs direct %.12g, rel err %.1e\n", val, direct, e);
    CHECK(ctx, e < 1e-12, "kl_ar1_forward %.15g vs direct %.15g", val, direct);
    free(A.u); free(A.mu); free(A.lv); free(A.logtau); free(A.lognvar);
}

/* ------------------------------------------------------------------ sampled KL vs N(0, pv) */

typedef struct {
    size_t n;
    real pv, scale;
    real *u, *mu, *lv;
} kls_ctx;

static double kls_obj(void *c, uint64_t *sig) {
    kls_ctx *S = c;
    *sig = 0;
    return S->scale * kl_gauss_sampled_forward(S->u, S->mu, S->lv, S->pv, S->n);
}

static void test_kl_gauss_sampled(nd_test_ctx *ctx) {
    const size_t n = 6 * 3 * 2;
    nd_rng r;
    nd_rng_seed(&r, 91);
    kls_ctx S = {n, (real)0.1, (real)1.1, gc_alloc(n), gc_alloc(n), gc_alloc(n)};
    for (size_t i = 0; i < n; i++) {
        S.mu[i] = (real)(0.5 * nd_rng_normal(&r));
        S.lv[i] = (real)(-1.5 + 0.5 * nd_rng_normal(&r));
        S.u[i] = (real)(S.mu[i] + exp(0.5 * S.lv[i]) * nd_rng_normal(&r));
    }
    double direct = 0;
    for (size_t i = 0; i < n; i++)
        direct += log_normal_pdf(S.u[i], S.mu[i], exp((double)S.lv[i])) - log_normal_pdf(S.u[i], 0, S.pv);
    double val = kl_gauss_sampled_forward(S.u, S.mu, S.lv, S.pv, n);
    CHECK(ctx, fabs(val - direct) <= 1e-12 * fmax(1, fabs(direct)), "kl %.15g vs direct %.15g", val, direct);
    real *du = gc_alloc(n), *dmu = gc_alloc(n), *dlv = gc_alloc(n);
    real *pu = gc_alloc(n), *pmu = gc_alloc(n), *plv = gc_alloc(n);
    gc_randn(&r, pu, n, 1);
    gc_randn(&r, pmu, n, 1);
    gc_randn(&r, plv, n, 1);
    memcpy(du, pu, sizeof(real) * n);
    memcpy(dmu, pmu, sizeof(real) * n);
    memcpy(dlv, plv, sizeof(real) * n);
    kl_gauss_sampled_backward(du, dmu, dlv, S.u, S.mu, S.lv, S.pv, S.scale, n);
    gc_sub(du, pu, n);
    gc_sub(dmu, pmu, n);
    gc_sub(dlv, plv, n);
    gc_acc acc = {0};
    gc_check(ctx, &acc, "u", kls_obj, &S, S.u, n, du);
    gc_check(ctx, &acc, "mu", kls_obj, &S, S.mu, n, dmu);
    gc_check(ctx, &acc, "lv", kls_obj, &S, S.lv, n, dlv);
    gc_report(ctx, "kl_gauss_sampled", &acc);
    free(S.u); free(S.mu); free(S.lv); free(du); free(dmu); free(dlv); free(pu); free(pmu); free(plv);
}

/* ------------------------------------------------------------------ L2 */

typedef struct {
    size_t n, numel;
    real scale;
    real *U;
} l2_ctx;

static double l2_obj(void *c, uint64_t *sig) {
    l2_ctx *L = c;
    *sig = 0;
    return l2_forward(L->U, L->n, L->scale, L->numel);
}

static void test_l2(nd_test_ctx *ctx) {
    const size_t n = 3 * 5 * 5;
    nd_rng r;
    nd_rng_seed(&r, 101);
    l2_ctx L = {n, 2 * n + 3, (real)5.0, gc_alloc(n)};
    gc_randn(&r, L.U, n, 1);
    real *dU = gc_alloc(n), *pre = gc_alloc(n);
    gc_randn(&r, pre, n, 1);
    memcpy(dU, pre, sizeof(real) * n);
    l2_backward(dU, L.U, n, L.scale, L.numel);
    gc_sub(dU, pre, n);
    double val = l2_forward(L.U, n, L.scale, L.numel), direct = 0.5 * L.scale * gc_dot(L.U, L.U, n) / L.numel;
    CHECK(ctx, fabs(val - direct) <= 1e-12 * fmax(1, fabs(direct)), "l2 %.15g vs direct %.15g", val, direct);
    gc_acc acc = {0};
    gc_check(ctx, &acc, "U", l2_obj, &L, L.U, n, dU);
    gc_report(ctx, "l2", &acc);
    free(L.U); free(dU); free(pre);
}

/* ------------------------------------------------------------------ reconstruction distributions */

typedef struct {
    int kind, n;
    size_t rows;
    double loc;
    real scale;
    real *prm, *x, *w;
} rec_ctx;

static double rec_obj(void *c, uint64_t *sig) {
    rec_ctx *R = c;
    *sig = 0;
    return R->scale * recon_nll_forward(R->kind, R->prm, R->x, R->w, R->rows, R->n, R->loc);
}

/* -log density computed independently of recon.c (textbook formulas) */
static double rec_direct(int kind, const double *l, double x, double loc) {
    switch (kind) {
    case ND_RECON_POISSON: return -(x * l[0] - exp(l[0]) - lgamma(x + 1));
    case ND_RECON_GAUSSIAN: {
        double v = exp(l[1]) + ND_RECON_VMIN;
        return -log(exp(-(x - l[0]) * (x - l[0]) / (2 * v)) / sqrt(2 * GC_PI * v));
    }
    case ND_RECON_GAMMA: {
        double a = exp(l[0]), b = exp(l[1]);
        return -log(pow(b, a) * pow(x, a - 1) * exp(-b * x) / tgamma(a));
    }
    default: {
        double q = 1 / (1 + exp(-l[2]));
        if (x == 0) return -log(1 - q);
        double a = exp(l[0]), b = exp(l[1]), y = x - loc;
        return -log(q * pow(b, a) * pow(y, a - 1) * exp(-b * y) / tgamma(a));
    }
    }
}

static void recon_case(nd_test_ctx *ctx, int kind, int use_gmask, uint64_t seed) {
    const int n = 5, P = nd_recon_nparams(kind);
    const size_t rows = 6, ne = rows * n, np = ne * P;
    const double loc = kind == ND_RECON_ZIG ? 0.2 : 0;
    nd_rng r;
    nd_rng_seed(&r, seed);
    rec_ctx R = {kind, n, rows, loc, (real)0.7, gc_alloc(np), gc_alloc(ne), NULL};
    real *gmask = gc_alloc(ne);
    size_t nzero = 0, nmask = 0;
    for (size_t i = 0; i < np; i++) R.prm[i] = (real)(0.2 + 0.5 * nd_rng_normal(&r));
    for (size_t i = 0; i < ne; i++) {
        double u = nd_rng_uniform(&r);
        if (kind == ND_RECON_POISSON) R.x[i] = (real)nd_rng_poisson(&r, 1.5);
        else if (kind == ND_RECON_GAUSSIAN) R.x[i] = (real)(2 * u - 0.5);
        else if (kind == ND_RECON_GAMMA) R.x[i] = (real)(0.05 + 2 * u);
        else R.x[i] = u < 0.35 ? 0 : (real)(loc + 0.05 + 2 * u);
        nzero += R.x[i] == 0;
        gmask[i] = (real)nd_rng_bernoulli(&r, 0.6);
        nmask += gmask[i] != 0;
    }
    CHECK(ctx, nmask > 0 && nmask < ne, "gmask should select some entries (%zu of %zu)", nmask, ne);
    if (kind == ND_RECON_ZIG) CHECK(ctx, nzero > 0 && nzero < ne, "zig data should mix zeros and non-zeros");
    if (use_gmask) R.w = gmask;
    double direct = 0, mean_err = 0;
    for (size_t row = 0; row < rows; row++)
        for (int j = 0; j < n; j++) {
            size_t i = row * n + j;
            double l[3];
            for (int p = 0; p < P; p++) l[p] = R.prm[row * P * n + (size_t)p * n + j];
            if (!use_gmask || gmask[i] != 0) direct += rec_direct(kind, l, R.x[i], loc);
            double m = recon_mean1(kind, R.prm + row * P * n + j, (size_t)n, loc), want;
            if (kind == ND_RECON_POISSON) want = exp(l[0]);
            else if (kind == ND_RECON_GAUSSIAN) want = l[0];
            else if (kind == ND_RECON_GAMMA) want = exp(l[0]) / exp(l[1]);
            else want = (exp(l[0]) / exp(l[1]) + loc) / (1 + exp(-l[2]));
            mean_err = fmax(mean_err, fabs(m - want) / fmax(1, fabs(want)));
        }
    double val = recon_nll_forward(kind, R.prm, R.x, R.w, rows, n, loc);
    CHECK(ctx, fabs(val - direct) <= 1e-10 * fmax(1, fabs(direct)), "%s nll %.15g vs direct %.15g",
          nd_recon_name(kind), val, direct);
    CHECK(ctx, mean_err < 1e-12, "%s mean: rel err %.3g", nd_recon_name(kind), mean_err);
    real *d = gc_alloc(np), *pre = gc_alloc(np);
    gc_randn(&r, pre, np, 1);
    memcpy(d, pre, sizeof(real) * np);
    recon_nll_backward(kind, d, R.prm, R.x, use_gmask ? gmask : NULL, R.scale, rows, n, loc);
    gc_sub(d, pre, np);
    gc_acc acc = {0};
    gc_check(ctx, &acc, "params", rec_obj, &R, R.prm, np, d);
    char name[64];
    snprintf(name, sizeof name, "recon %s (%s)", nd_recon_name(kind), use_gmask ? "0/1 gmask" : "gmask NULL");
    gc_report(ctx, name, &acc);
    free(R.prm); free(R.x); free(gmask); free(d); free(pre);
}

static void test_recon_poisson(nd_test_ctx *ctx) { recon_case(ctx, ND_RECON_POISSON, 1, 71); }
static void test_recon_gaussian(nd_test_ctx *ctx) { recon_case(ctx, ND_RECON_GAUSSIAN, 0, 72); recon_case(ctx, ND_RECON_GAUSSIAN, 1, 73); }
static void test_recon_gamma(nd_test_ctx *ctx) { recon_case(ctx, ND_RECON_GAMMA, 0, 74); recon_case(ctx, ND_RECON_GAMMA, 1, 75); }
static void test_recon_zig(nd_test_ctx *ctx) { recon_case(ctx, ND_RECON_ZIG, 0, 76); recon_case(ctx, ND_RECON_ZIG, 1, 77); }

/* digamma against lgamma's central difference and known values */
static void test_digamma(nd_test_ctx *ctx) {
    double worst = 0;
    for (double x = 0.05; x < 40; x *= 1.37) {
        double h = 1e-5 * fmax(x, 1e-3), fd = (lgamma(x + h) - lgamma(x - h)) / (2 * h);
        worst = fmax(worst, fabs(nd_digamma(x) - fd) / fmax(1, fabs(fd)));
    }
    CHECK(ctx, worst < 1e-7, "digamma vs d lgamma: rel err %.3g", worst);
    CHECK(ctx, fabs(nd_digamma(1) + 0.57721566490153286) < 1e-12, "digamma(1) = %.17g", nd_digamma(1));
}

int main(void) {
    nd_blas_set_threads(1);
    RUN(test_linear_bias);
    RUN(test_linear_nobias);
    RUN(test_gru_step);
    RUN(test_gru_step_clipped);
    RUN(test_gru_seq_forward_dir);
    RUN(test_gru_seq_reverse);
    RUN(test_gru_seq_clipped);
    RUN(test_gru_seq_reverse_clipped);
    RUN(test_factor_normalize);
    RUN(test_dropout);
    RUN(test_poisson_nll);
    RUN(test_poisson_nll_gmask);
    RUN(test_kl_gauss);
    RUN(test_kl_ar1);
    RUN(test_kl_ar1_value);
    RUN(test_kl_gauss_sampled);
    RUN(test_l2);
    RUN(test_recon_poisson);
    RUN(test_recon_gaussian);
    RUN(test_recon_gamma);
    RUN(test_recon_zig);
    RUN(test_digamma);
    TEST_MAIN_END();
}
