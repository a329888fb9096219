/* Fixed points of a discrete-time map x -> F(x, u) with a constant input u
 * (Sussillo & Barak 2013; Golub & Sussillo 2018, fixed-point-finder).
 *
 * From each initial state, q(x) = 0.5 ||F(x) - x||^2 is minimised by Levenberg-Marquardt on
 * the residual r(x) = F(x) - x with Jacobian J - I (grad q = (J - I)^T r): steps solve
 * ((J - I)^T (J - I) + mu I) d = -(J - I)^T r (LAPACK dgesv); a step is accepted when it lowers
 * q (then mu /= 3), otherwise mu *= 10 and the step is retried. A start stops when q < tol_q
 * (converged), after max_iters iterations, or when it stalls (mu > 1e16, or a step shorter
 * than 1e-15 (1 + ||x||)).
 *
 * Which end points are reported (the rules, in this order):
 *   1. converged: q <= tol_q; the others are counted as n_unconverged (slow points / local
 *      minima of q) and dropped, except that with slow_q > tol_q those with q <= slow_q are
 *      kept as "slow points" (flag slow = 1; they go through rules 2 and 3 like the others);
 *   2. outliers (fixed-point-finder's distance rule): with c the centroid of the initial
 *      states and d the mean distance of the initial states from c, a point farther than
 *      outlier_scale * d from c (default 10) is dropped and counted in n_outliers (no test when
 *      d = 0 or outlier_scale <= 0);
 *   3. de-duplication: the remaining points in increasing q; a point within dedup_tol
 *      (Euclidean, default 1e-3) of an already kept one is merged into it (count += 1).
 * For each kept point: the Jacobian dF/dx, its eigenvalues (LAPACK dgeev) sorted by |lambda|
 * descending, stable when every |lambda| < 1 (a discrete-time map).
 *
 * Maps provided: h' = tanh(W h + b) and the clipped GRU of src/nn/layers.h, both in double
 * precision with analytic Jacobians. */
#ifndef ND_ANALYSIS_FIXEDPOINTS_H
#define ND_ANALYSIS_FIXEDPOINTS_H
#include "../core/status.h"
#include "../nn/layers.h"

/* F(x) into Fx [n]; when J != NULL also the Jacobian J[i*n + j] = dF_i / dx_j. */
typedef void (*nd_fp_map)(void *ctx, const double *x, double *Fx, double *J);

typedef struct {
    int max_iters;        /* LM iterations per start (default 200) */
    double tol_q;         /* stop / converged when q <= tol_q (default 1e-12) */
    double dedup_tol;     /* 1e-3 */
    double outlier_scale; /* 10; <= 0 disables the outlier rule */
    double slow_q;        /* also keep unconverged end points with q <= slow_q as slow points (default 0: off) */
} nd_fp_opts;
void nd_fp_opts_default(nd_fp_opts *o);

typedef struct {
    int n, n_starts;
    int n_fp;                 /* unique points kept: fixed points (and slow points when slow_q > tol_q) */
    double *x;                /* [n_fp][n], in increasing q */
    double *q;                /* [n_fp] */
    int *count;               /* [n_fp] starts that ended at this point */
    double *jac;              /* [n_fp][n][n] dF/dx */
    double *eig_re, *eig_im;  /* [n_fp][n] eigenvalues of the Jacobian, |lambda| descending */
    double *max_abs_eig;      /* [n_fp] */
    int *n_unstable_modes;    /* [n_fp] eigenvalues with |lambda| >= 1 */
    int *stable;              /* [n_fp] 1 when max |lambda| < 1 */
    int *slow;                /* [n_fp] 1 for a slow point (q > tol_q), 0 for a fixed point */
    int n_stable, n_unstable; /* among the fixed points (slow points not counted) */
    int n_slow;               /* slow points kept */
    int n_converged;          /* starts that reached q <= tol_q */
    int n_unconverged;        /* starts that did not (including those kept as slow points) */
    int n_outliers, n_duplicates;
    double *start_q;          /* [n_starts] final q of every start */
    int *start_iters;         /* [n_starts] LM iterations used */
} nd_fp_result;
void nd_fp_result_free(nd_fp_result *r);

/* Minimise q from one start: x [n] in/out. *q_out, *iters_out may be NULL. Returns ND_OK
 * (whether or not q reached tol_q), or an error (allocation, non-finite F). */
nd_status nd_fp_minimize(nd_fp_map F, void *ctx, int n, double *x, const nd_fp_opts *o, double *q_out, int *iters_out,
                         nd_error *err);
/* Search from n_starts initial states starts [n_starts][n]. */
nd_status nd_fixed_points(nd_fp_map F, void *ctx, int n, const double *starts, int n_starts, const nd_fp_opts *o,
                          nd_fp_result *r, nd_error *err);

/* ---------- h' = tanh(W h + b): column-vector convention (W h)_i = sum_j W[i*n + j] h_j ---------- */
typedef struct {
    int n;
    const double *W; /* [n][n] */
    const double *b; /* [n] or NULL */
} nd_fp_tanh_map;
void nd_fp_tanh_fn(void *ctx, const double *x, double *Fx, double *J);

/* ---------- a leaky tanh RNN h' = (1 - alpha) h + alpha tanh(W h + b) (models/rnn_rules.h, zero input) ----------
 * Its fixed points are those of tanh(W h + b), but their stability is that of the leaky map:
 * J = (1 - alpha) I + alpha diag(1 - tanh^2) W. Same W convention as nd_fp_tanh_map. */
typedef struct {
    int n;
    double alpha;
    const double *W, *b;
} nd_fp_leaky_tanh_map;
void nd_fp_leaky_tanh_fn(void *ctx, const double *x, double *Fx, double *J);

/* ---------- the clipped GRU (layers.h) in double, input held constant ----------
 * h' = clamp(z h + (1 - z) n, -clip, clip), z = sigmoid(xp_z + h Uz), r = sigmoid(xp_r + h Ur),
 * n = tanh(xp_n + (r * h) Un), xp = u Wx + bx (row vectors, as in layers.h). The clamp makes F
 * piecewise smooth: a coordinate that is clamped has a zero row in the Jacobian. */
typedef struct {
    int H, n_in;
    double clip;
    double *xp;          /* [3H] */
    double *Uzr, *Un;    /* [H][2H], [H][H] in double */
    double *work;        /* scratch */
} nd_fp_gru_map;
/* u [n_in] (NULL: zero input). The weights are copied (converted to double). */
nd_status nd_fp_gru_map_init(nd_fp_gru_map *m, const gru_params *p, int n_in, int H, double clip, const double *u,
                             nd_error *err);
void nd_fp_gru_map_free(nd_fp_gru_map *m);
void nd_fp_gru_fn(void *ctx, const double *x, double *Fx, double *J);

#endif
