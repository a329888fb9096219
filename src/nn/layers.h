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
/* Backward of one step. dh [B][H]: gradient w.r.t. this step's output h.
 * Overwrites dxp [B][3H]; dhprev += ...; grads g->Uzr, g->Un += ... (g->Wx, g->bx untouched:
 * the caller applies linear_backward to dxp for all steps at once). */
void gru_step_backward(real *dxp, real *dhprev, const real *dh, const real *z, const real *r, const real *n,
                       const real *hprev, const gru_params *p, const gru_params *g, int B, int H, real clip,
                       real *scratch);

/* ---------- GRU over a sequence (used twice for a bidirectional encoder) ----------
 * X [T][B][I]; h0 [H] learned initial state broadcast to the batch.
 * Hs [T][B][H] outputs (Hs[t] is the state after consuming step t; for reverse=1 the
 * sequence is consumed from t=T-1 down to 0 and Hs[t] is still indexed by input time).
 * Saves Z, R, N [T][B][H] and uses XP [T][B][3H] as workspace (kept for nothing after). */
typedef struct {
    real *XP, *Z, *R, *N, *Hs;
} gru_seq_acts;
size_t gru_seq_scratch(int B, int H); /* floats of scratch for gru_seq_forward/backward */
void gru_seq_forward(gru_seq_acts *a, const real *X, const real *h0, const gru_params *p, int T, int B, int I,
                     int H, int reverse, real clip, real *scratch);
/* dHs [T][B][H]: gradient on every output (modified in place: consumed as workspace).
 * dX [T][B][I] += (if non-NULL); dh0 [H] += ; parameter grads += . */
void gru_seq_backward(real *dX, real *dh0, real *dHs, const gru_seq_acts *a, const real *X, const real *h0,
                      const gru_params *p, const gru_params *g, int T, int B, int I, int H, int reverse,
                      real clip, real *scratch);

/* ---------- factor read-out with row-normalised weights: f[B][F] = g[B][G] Wn^T ----------
 * Wn[f][:] = W[f][:] / ||W[f][:]||. */
void factor_normalize(real *Wn, real *norms, const real *W, int F, int G);
/* dW += d(normalise)/dW applied to dWn */
void factor_normalize_backward(real *dW, const real *dWn, const real *Wn, const real *norms, int F, int G);

/* ---------- dropout with explicit masks: mask[i] in {0, 1/(1-p)} ---------- */
void dropout_mask(real *mask, size_t n, real p, nd_rng *rng);
void dropout_apply(real *out, const real *in, const real *mask, size_t n);          /* out = in*mask */
void dropout_backward(real *din, const real *dout, const real *mask, size_t n);     /* din += dout*mask */

/* ---------- Poisson negative log-likelihood on log-rates ----------
 * nll = sum_i w_i (exp(lr_i) - x_i lr_i + lgamma(x_i + 1)) with loss weights w (NULL = 1).
 * Gradient: dlr_i += scale * gmask_i * (exp(lr_i) - x_i) where gmask (NULL = 1) selects the
 * entries whose loss is back-propagated (coordinated dropout). Returns the nll (double). */
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
