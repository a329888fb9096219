/* Clipped GRU cell and sequence runner. See layers.h for layouts. */
#include "layers.h"
#include "../core/blas.h"
#include "../core/vmath.h"
#include <stddef.h>
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

/* Recurrence over batch rows [b0, b0 + nb) of a time-major sequence whose input projections a->XP are computed; the
 * initial state h0 is written into the extra slot before (forward) or after (reverse) the T steps of a->Hs. */
void gru_seq_forward(const gru_seq_acts *a, real *RH, const real *h0, const gru_params *p, int T, int B, int H,
                     int reverse, real clip, int b0, int nb, real *scr) {
    real *init = a->Hs + ((ptrdiff_t)(reverse ? T : -1) * B + b0) * H;
    for (int b = 0; b < nb; b++) memcpy(init + (size_t)b * H, h0, sizeof(real) * H);
    for (int s = 0; s < T; s++) {
        int t = reverse ? T - 1 - s : s, tp = reverse ? t + 1 : t - 1;
        size_t o = ((size_t)t * B + b0) * H;
        gru_step_forward_rh(a->Hs + o, a->Z + o, a->R + o, a->N + o, RH + o, a->XP + ((size_t)t * B + b0) * 3 * H,
                            a->Hs + ((ptrdiff_t)tp * B + b0) * H, p, nb, H, clip, scr);
    }
}

/* Backward of gru_seq_forward for the same rows: dHs [T][B][H] (consumed as workspace), a->XP overwritten by the
 * gate pre-activation gradients, dh0 rows [B][H] = gradient on the broadcast initial state. */
void gru_seq_backward_data(const gru_seq_acts *a, real *dHs, real *dh0, const gru_params *p, int T, int B, int H,
                           int reverse, real clip, int b0, int nb, real *scr) {
    for (int s = T - 1; s >= 0; s--) {
        int t = reverse ? T - 1 - s : s, tp = reverse ? t + 1 : t - 1;
        size_t o = ((size_t)t * B + b0) * H;
        real *dhprev = s == 0 ? dh0 + (size_t)b0 * H : dHs + ((size_t)tp * B + b0) * H;
        if (s == 0) memset(dhprev, 0, sizeof(real) * nb * H);
        gru_step_backward_data(a->XP + ((size_t)t * B + b0) * 3 * H, dhprev, dHs + o, a->Z + o, a->R + o, a->N + o,
                               a->Hs + ((ptrdiff_t)tp * B + b0) * H, p, nb, H, clip, scr);
    }
}

int gru_weight_grad_tasks(const gru_params *g, const real *Hprev, const real *RH, const real *X, const real *dXP,
                          int I, int H, wgrad_atb p[3]) {
    p[0] = (wgrad_atb){Hprev, dXP, H, 3 * H, 2 * H, H, 2 * H, g->Uzr};
    p[1] = (wgrad_atb){RH, dXP + 2 * H, H, 3 * H, H, H, H, g->Un};
    if (!X) return 2;
    p[2] = (wgrad_atb){X, dXP, I, 3 * H, 3 * H, I, 3 * H, g->Wx};
    return 3;
}

void gru_weight_grads(const gru_params *g, const real *Hprev, const real *RH, const real *X, const real *dXP, int I,
                      int H, int K) {
    wgrad_atb p[3];
    int n = gru_weight_grad_tasks(g, Hprev, RH, X, dXP, I, H, p);
    for (int k = 0; k < n; k++) nd_gemm(1, 0, p[k].M, p[k].N, K, 1, p[k].A, p[k].lda, p[k].B, p[k].ldb, 1, p[k].C, p[k].ldc);
    if (X) linear_backward(NULL, NULL, g->bx, dXP, X, NULL, K, I, 3 * H);
}
