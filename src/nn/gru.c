/* Clipped GRU cell and sequence runner. See layers.h for layouts. */
#include "layers.h"
#include "../core/blas.h"
#include "../core/vmath.h"
#include <string.h>

size_t gru_num_params(int I, int H) {
    return (size_t)I * 3 * H + (size_t)3 * H + (size_t)H * 2 * H + (size_t)H * H;
}
size_t gru_num_recurrent(int H) { return (size_t)3 * H * H; }

void gru_bind(gru_params *p, real *base, int I, int H) {
    p->Wx = base;
    p->bx = p->Wx + (size_t)I * 3 * H;
    p->Uzr = p->bx + (size_t)3 * H;
    p->Un = p->Uzr + (size_t)H * 2 * H;
}

void gru_init(const gru_params *p, int I, int H, nd_rng *rng) { gru_init_fan(p, I, H, I, H, rng); }

void gru_init_fan(const gru_params *p, int I, int H, double fan_x, double fan_h, nd_rng *rng) {
    double sx = I > 0 && fan_x > 0 ? 1.0 / sqrt(fan_x) : 0, sh = 1.0 / sqrt(fan_h);
    for (size_t i = 0; i < (size_t)I * 3 * H; i++) p->Wx[i] = (real)(sx * nd_rng_normal(rng));
    for (int j = 0; j < 3 * H; j++) p->bx[j] = j < 2 * H ? 1 : 0;
    for (size_t i = 0; i < (size_t)H * 2 * H; i++) p->Uzr[i] = (real)(sh * nd_rng_normal(rng));
    for (size_t i = 0; i < (size_t)H * H; i++) p->Un[i] = (real)(sh * nd_rng_normal(rng));
}

size_t gru_step_scratch(int B, int H) { return (size_t)B * 4 * H; }

void gru_step_forward_rh(real *h, real *z, real *r, real *n, real *rh, const real *xp, const real *hprev,
                         const gru_params *p, int B, int H, real clip, real *scratch) {
    real *hzr = scratch;                    /* [B][2H] */
    real *hn = scratch + (size_t)B * 2 * H; /* [B][H] */
    nd_gemm(0, 0, B, 2 * H, H, 1, hprev, H, p->Uzr, 2 * H, 0, hzr, 2 * H);
    for (int b = 0; b < B; b++) {
        const real *x = xp + (size_t)b * 3 * H, *hp = hprev + (size_t)b * H, *a = hzr + (size_t)b * 2 * H;
        real *zb = z + (size_t)b * H, *rb = r + (size_t)b * H, *rhb = rh + (size_t)b * H;
        #pragma omp simd
        for (int j = 0; j < H; j++) {
            zb[j] = nd_vsigmoid(x[j] + a[j]);
            real rj = nd_vsigmoid(x[H + j] + a[H + j]);
            rb[j] = rj;
            rhb[j] = rj * hp[j];
        }
    }
    nd_gemm(0, 0, B, H, H, 1, rh, H, p->Un, H, 0, hn, H);
    for (int b = 0; b < B; b++) {
        const real *x = xp + (size_t)b * 3 * H, *hp = hprev + (size_t)b * H, *c = hn + (size_t)b * H;
        const real *zb = z + (size_t)b * H;
        real *nb = n + (size_t)b * H, *hb = h + (size_t)b * H;
        #pragma omp simd
        for (int j = 0; j < H; j++) {
            real nj = nd_vtanh(x[2 * H + j] + c[j]);
            nb[j] = nj;
            real v = zb[j] * hp[j] + (1 - zb[j]) * nj;
            hb[j] = v > clip ? clip : (v < -clip ? -clip : v);
        }
    }
}

void gru_step_forward(real *h, real *z, real *r, real *n, const real *xp, const real *hprev,
                      const gru_params *p, int B, int H, real clip, real *scratch) {
    real *rh = scratch + (size_t)B * 3 * H; /* [B][H] */
    gru_step_forward_rh(h, z, r, n, rh, xp, hprev, p, B, H, clip, scratch);
}

void gru_step_backward_data(real *dxp, real *dhprev, const real *dh, const real *z, const real *r, const real *n,
                            const real *hprev, const gru_params *p, int B, int H, real clip, real *scratch) {
    real *drh = scratch; /* [B][H] */
    /* candidate path first: need d(rh) = dan Un^T */
    for (int b = 0; b < B; b++) {
        const real *hp = hprev + (size_t)b * H, *zb = z + (size_t)b * H, *nb = n + (size_t)b * H;
        const real *dhb = dh + (size_t)b * H;
        real *dx = dxp + (size_t)b * 3 * H, *dhp = dhprev + (size_t)b * H;
        #pragma omp simd
        for (int j = 0; j < H; j++) {
            real raw = zb[j] * hp[j] + (1 - zb[j]) * nb[j];
            real d = (raw > clip || raw < -clip) ? 0 : dhb[j];
            dx[j] = d * (hp[j] - nb[j]);                            /* dz, activated below */
            dx[2 * H + j] = d * (1 - zb[j]) * (1 - nb[j] * nb[j]); /* dan */
            dhp[j] += d * zb[j];
        }
    }
    nd_gemm(0, 1, B, H, H, 1, dxp + 2 * H, 3 * H, p->Un, H, 0, drh, H);
    for (int b = 0; b < B; b++) {
        const real *hp = hprev + (size_t)b * H, *zb = z + (size_t)b * H, *rb = r + (size_t)b * H;
        const real *drhb = drh + (size_t)b * H;
        real *dx = dxp + (size_t)b * 3 * H, *dhp = dhprev + (size_t)b * H;
        #pragma omp simd
        for (int j = 0; j < H; j++) {
            real daz = dx[j] * zb[j] * (1 - zb[j]);
            real dr = drhb[j] * hp[j];
            dx[H + j] = dr * rb[j] * (1 - rb[j]);
            dhp[j] += drhb[j] * rb[j];
            dx[j] = daz;
        }
    }
    /* dhprev += [daz | dar] Uzr^T */
    nd_gemm(0, 1, B, H, 2 * H, 1, dxp, 3 * H, p->Uzr, 2 * H, 1, dhprev, H);
}

void gru_step_backward(real *dxp, real *dhprev, const real *dh, const real *z, const real *r, const real *n,
                       const real *hprev, const gru_params *p, const gru_params *g, int B, int H, real clip,
                       real *scratch) {
    real *rh = scratch + (size_t)B * H; /* [B][H] */
    gru_step_backward_data(dxp, dhprev, dh, z, r, n, hprev, p, B, H, clip, scratch);
    for (size_t i = 0; i < (size_t)B * H; i++) rh[i] = r[i] * hprev[i];
    /* dUn += rh^T dan ; dUzr += hprev^T [daz | dar] */
    nd_gemm(1, 0, H, H, B, 1, rh, H, dxp + 2 * H, 3 * H, 1, g->Un, H);
    nd_gemm(1, 0, H, 2 * H, B, 1, hprev, H, dxp, 3 * H, 1, g->Uzr, 2 * H);
}

void gru_seq_forward(gru_seq_acts *a, const real *X, const real *h0, const gru_params *p, int T, int B, int I,
                     int H, int reverse, real clip, real *scratch) {
    /* all input projections in one GEMM */
    linear_forward(a->XP, X, p->Wx, p->bx, T * B, I, 3 * H);
    real *h0b = scratch + gru_step_scratch(B, H); /* [B][H] broadcast initial state */
    for (int b = 0; b < B; b++) memcpy(h0b + (size_t)b * H, h0, sizeof(real) * H);
    const real *hprev = h0b;
    for (int s = 0; s < T; s++) {
        int t = reverse ? T - 1 - s : s;
        size_t o = (size_t)t * B * H;
        gru_step_forward(a->Hs + o, a->Z + o, a->R + o, a->N + o, a->XP + (size_t)t * B * 3 * H, hprev, p, B, H,
                         clip, scratch);
        hprev = a->Hs + o;
    }
}

void gru_seq_backward(real *dX, real *dh0, real *dHs, const gru_seq_acts *a, const real *X, const real *h0,
                      const gru_params *p, const gru_params *g, int T, int B, int I, int H, int reverse,
                      real clip, real *scratch) {
    real *h0b = scratch + gru_step_scratch(B, H);
    real *dh0b = h0b + (size_t)B * H;
    for (int b = 0; b < B; b++) memcpy(h0b + (size_t)b * H, h0, sizeof(real) * H);
    memset(dh0b, 0, sizeof(real) * B * H);
    /* a->XP is reused as dXP (its forward values are not needed in backward) */
    real *dXP = a->XP;
    for (int s = T - 1; s >= 0; s--) {
        int t = reverse ? T - 1 - s : s;
        int tp = reverse ? t + 1 : t - 1; /* the step that produced hprev */
        size_t o = (size_t)t * B * H;
        const real *hprev = s == 0 ? h0b : a->Hs + (size_t)tp * B * H;
        real *dhprev = s == 0 ? dh0b : dHs + (size_t)tp * B * H;
        gru_step_backward(dXP + (size_t)t * B * 3 * H, dhprev, dHs + o, a->Z + o, a->R + o, a->N + o, hprev, p,
                          g, B, H, clip, scratch);
    }
    linear_backward(dX, g->Wx, g->bx, dXP, X, p->Wx, T * B, I, 3 * H);
    for (int b = 0; b < B; b++)
        for (int j = 0; j < H; j++) dh0[j] += dh0b[(size_t)b * H + j];
}

size_t gru_seq_scratch(int B, int H) { return gru_step_scratch(B, H) + (size_t)2 * B * H; }
