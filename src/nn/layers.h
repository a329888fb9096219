/* Neural-network layers as plain functions over flat `real` arrays.
 *
 * Conventions
 *  - Within one time step data are batch-major: x[b*D + d]. Sequences are
 *    time-major: X[(t*B + b)*D + d], so one time step is a contiguous [B][D]
 *    block and the input projections of all steps are one GEMM.
 *  - Weight matrices are stored [in][out] row-major (y = x W + b), except the
 *    factor matrix which is [F][G] (one row per factor, rows are normalised).
 *  - *_backward functions ACCUMULATE (+=) into parameter gradients and into
 *    input gradients, unless documented as overwriting. The caller zeroes.
 */
#ifndef ND_NN_LAYERS_H
#define ND_NN_LAYERS_H
#include <stddef.h>
#include "../core/real.h"
#include "../core/rng.h"

/* ---------- linear: out[B][O] = in[B][I] W[I][O] + b[O] (b may be NULL) ---------- */
void linear_forward(real *out, const real *in, const real *W, const real *b, int B, int I, int O);
/* dW += in^T dout; db += colsum(dout) (if db); din += dout W^T (if din) */
void linear_backward(real *din, real *dW, real *db, const real *dout, const real *in, const real *W, int B,
                     int I, int O);

/* ---------- clipped GRU cell (spec: z, r gates; candidate n = tanh(Wn x + Un (r*h) + bn)) ----------
 * Parameters (one contiguous block, this order): Wx [I][3H] (gate columns z | r | n),
 * bx [3H], Uzr [H][2H], Un [H][H]. */
typedef struct {
    real *Wx, *bx, *Uzr, *Un;
} gru_params;
size_t gru_num_params(int I, int H);
size_t gru_num_recurrent(int H); /* elements of Uzr and Un (for L2) */
void gru_bind(gru_params *p, real *base, int I, int H);
/* Weights ~ N(0, 1/fan_in) (Wx: fan_in = I, U: fan_in = H), z/r biases 1, n bias 0. */
void gru_init(const gru_params *p, int I, int H, nd_rng *rng);
/* The same with explicit fan-ins: Wx ~ N(0, 1/fan_x), U ~ N(0, 1/fan_h) (lfads-torch's encoders: both I + H).
 * Draws the same numbers as gru_init. */
void gru_init_fan(const gru_params *p, int I, int H, double fan_x, double fan_h, nd_rng *rng);
/* Scratch needed by one step forward/backward: floats. */
size_t gru_step_scratch(int B, int H);
/* One step. xp [B][3H] = x Wx + bx (precomputed). Writes h [B][H] and saves z, r, n [B][H]. */
void gru_step_forward(real *h, real *z, real *r, real *n, const real *xp, const real *hprev,
                      const gru_params *p, int B, int H, real clip, real *scratch);
/* Same, also saving rh = r * hprev [B][H] (needed for the U_n gradient). Scratch: B*3H. */
void gru_step_forward_rh(real *h, real *z, real *r, real *n, real *rh, const real *xp, const real *hprev,
                         const gru_params *p, int B, int H, real clip, real *scratch);
/* The data part of the step backward: overwrites dxp [B][3H] with the gate pre-activation gradients
 * (daz | dar | dan) and adds to dhprev; no parameter gradient (the caller forms U_zr += hprev^T dxp[:, :2H]
 * and U_n += rh^T dxp[:, 2H:] over many steps at once). Scratch: B*H. */
void gru_step_backward_data(real *dxp, real *dhprev, const real *dh, const real *z, const real *r, const real *n,
                            const real *hprev, const gru_params *p, int B, int H, real clip, real *scratch);
/* One weight-gradient product over K rows: C[M][N] += A^T B, with A [K][lda] (its first M columns), B [K][ldb]
 * (its first N columns) and C of row stride ldc. */
typedef struct {
    const real *A, *B;
    int lda, ldb, ldc, M, N;
    real *C;
} wgrad_atb;
/* The weight gradients of a GRU from the gate pre-activation gradients dXP [K][3H] of K rows (steps x batch rows),
 * as products (the one statement of them: gru_weight_grads runs them in turn, lfads.c splits them into row pieces
 * of its parallel weight-gradient pass): Uzr += Hprev^T dXP[:, :2H], Un += RH^T dXP[:, 2H:] and, when X is given,
 * Wx += X^T dXP; Hprev [K][H] the states each step started from, RH [K][H] = r * hprev, X [K][I] the inputs. The
 * bias, bx += colsum(dXP), is the caller's. Fills p and returns the number of products (2, or 3 with X). */
int gru_weight_grad_tasks(const gru_params *g, const real *Hprev, const real *RH, const real *X, const real *dXP,
                          int I, int H, wgrad_atb p[3]);
/* Those products and the bias, one after another (X NULL: Wx, bx untouched). */
void gru_weight_grads(const gru_params *g, const real *Hprev, const real *RH, const real *X, const real *dXP, int I,
                      int H, int K);

/* ---------- GRU over a sequence, over a range of batch rows (what the LFADS encoders run) ----------
 * Time-major [T][B][.]; the rows [b0, b0 + nb) of the batch of B run alone (chunks of rows run in parallel).
 * a->XP [T][B][3H] holds the input projections x Wx + bx of every step (one GEMM, by the caller). a->Hs [T][B][H]
 * are the outputs (Hs[t]: the state after consuming step t; reverse = 1 consumes t = T-1 down to 0) inside a
 * buffer of T + 1 steps: the initial state h0 [H] is broadcast into the extra step before Hs (reverse = 0) or
 * after it (reverse = 1), so Hprev for gru_weight_grads is Hs - B*H or Hs + B*H. Saves Z, R, N [T][B][H] and
 * RH [T][B][H] = r * hprev. Scratch: gru_step_scratch(nb, H). */
typedef struct {
    real *XP, *Z, *R, *N, *Hs;
} gru_seq_acts;
void gru_seq_forward(const gru_seq_acts *a, real *RH, const real *h0, const gru_params *p, int T, int B, int H,
                     int reverse, real clip, int b0, int nb, real *scr);
/* Backward of the same rows: dHs [T][B][H] the gradient on every output (consumed as workspace); overwrites
 * a->XP with the gate pre-activation gradients (for gru_weight_grads and the input gradient dX += dXP Wx^T) and
 * the rows of dh0 [B][H] with the gradient on each row's initial state. */
void gru_seq_backward_data(const gru_seq_acts *a, real *dHs, real *dh0, const gru_params *p, int T, int B, int H,
                           int reverse, real clip, int b0, int nb, real *scr);

/* ---------- factor read-out with row-normalised weights: f[B][F] = g[B][G] Wn^T ----------
 * Wn[f][:] = W[f][:] / ||W[f][:]||. */
void factor_normalize(real *Wn, real *norms, const real *W, int F, int G);
/* dW += d(normalise)/dW applied to dWn */
void factor_normalize_backward(real *dW, const real *dWn, const real *Wn, const real *norms, int F, int G);

/* ---------- dropout with explicit masks: mask[i] in {0, 1/(1-p)} ---------- */
void dropout_mask(real *mask, size_t n, real p, nd_rng *rng);
void dropout_apply(real *out, const real *in, const real *mask, size_t n);          /* out = in*mask */
void dropout_backward(real *din, const real *dout, const real *mask, size_t n);     /* din += dout*mask */

/* ---------- Poisson negative log-likelihood on log-rates (what the LFADS read-out runs) ----------
 * nll_i = exp(lr_i) - x_i lr_i + lgamma(x_i + 1), exp by nd_vexp (src/core/vmath.h). poisson_nll_sums forms K <= 3
 * weighted sums at once: out[k] = sum_i w[k][i] nll_i (w[k] NULL = weight 1; an entry whose K weights are all 0 is
 * skipped), in double; lgam (or NULL) holds lgamma(j + 1) for whole counts 0 <= j < nlgam. poisson_nll_forward
 * is K = 1 without a table. Gradient: OVERWRITES dlr_i = scale * gmask_i * (exp(lr_i) - x_i), 0 where gmask_i
 * is 0 (gmask NULL = 1; gmask selects the entries whose loss is back-propagated: coordinated dropout). */
void poisson_nll_sums(double *out, int K, const real *const *w, const real *lr, const real *x, size_t n,
                      const double *lgam, int nlgam);
double poisson_nll_forward(const real *lr, const real *x, const real *w, size_t n);
void poisson_nll_backward(real *dlr, const real *lr, const real *x, const real *gmask, real scale, size_t n);

/* ---------- analytic KL( N(mu, exp(lv) + vmin) || N(pm, pv) ), summed over B x D ----------
 * pm [D] (prior mean, learned), pv scalar (fixed prior variance). */
double kl_gauss_forward(const real *mu, const real *lv, const real *pm, real pv, real vmin, int B, int D);
void kl_gauss_backward(real *dmu, real *dlv, real *dpm, const real *mu, const real *lv, const real *pm, real pv,
                       real vmin, real scale, int B, int D);

/* ---------- sampled KL of q(u) against an AR(1) prior, summed over T x B x K ----------
 * u, mu, lv [T][B][K] (u a sample of N(mu, exp(lv))); prior per dimension k: tau = exp(logtau[k]),
 * nvar = exp(lognvar[k]), alpha = exp(-1/tau); u_0 ~ N(0, nvar/(1-alpha^2)),
 * u_t | u_{t-1} ~ N(alpha u_{t-1}, nvar). KL = sum_t [log q(u_t) - log p(u_t | u_{t-1})]. */
double kl_ar1_forward(const real *u, const real *mu, const real *lv, const real *logtau, const real *lognvar,
                      int T, int B, int K);
/* du, dmu, dlv, dlogtau, dlognvar += scale * partial derivatives (u treated as an independent input). */
void kl_ar1_backward(real *du, real *dmu, real *dlv, real *dlogtau, real *dlognvar, const real *u,
                     const real *mu, const real *lv, const real *logtau, const real *lognvar, real scale, int T,
                     int B, int K);

/* ---------- sampled KL against a plain N(0, pv) prior (the alternative to AR(1)) ---------- */
double kl_gauss_sampled_forward(const real *u, const real *mu, const real *lv, real pv, size_t n);
void kl_gauss_sampled_backward(real *du, real *dmu, real *dlv, const real *u, const real *mu, const real *lv,
                               real pv, real scale, size_t n);

/* ---------- L2 penalty: 0.5 * scale * ||U||^2 / numel ---------- */
double l2_forward(const real *U, size_t n, real scale, size_t numel);
void l2_backward(real *dU, const real *U, size_t n, real scale, size_t numel);

#endif
