/* Reconstruction distributions of the LFADS read-out (docs/model.md "Reconstruction models"), as plain
 * functions over flat arrays.
 *
 * The read-out emits P values per reconstructed neuron. A row of R = P*Nr values holds them parameter-major:
 * value p of neuron n is at row[p*Nr + n] (lfads-torch's torch.chunk order), so P = 1 is the plain log-rate
 * read-out. Per element (x: the target, l: the row's values of that neuron):
 *   poisson  P 1  l0 = log rate;                     nll = e^l0 - x l0 + lgamma(x+1);     mean = e^l0
 *   gaussian P 2  l0 = mean, l1 = log variance;       v = e^l1 + ND_RECON_VMIN
 *                 nll = 0.5 (log 2pi + log v + (x - l0)^2 / v);                          mean = l0
 *   gamma    P 2  l0 = log alpha (shape), l1 = log beta (rate); y = max(x, ND_RECON_XMIN)
 *                 nll = lgamma(a) - a log b - (a-1) log y + b y;                          mean = a / b
 *   zig      P 3  l0 = log alpha, l1 = log beta, l2 = logit q (probability of a non-zero value); location loc:
 *                 x == 0: nll = -log(1-q);  x > 0: nll = -log q + gamma nll at y = max(x - loc, ND_RECON_XMIN)
 *                 mean = q (a/b + loc)
 * All nll are full negative log-densities (no constant dropped), so they are comparable across models. */
#ifndef ND_NN_RECON_H
#define ND_NN_RECON_H
#include <stddef.h>
#include "../core/real.h"

typedef enum { ND_RECON_POISSON = 0, ND_RECON_GAUSSIAN, ND_RECON_GAMMA, ND_RECON_ZIG, ND_RECON_COUNT } nd_recon_kind;
#define ND_RECON_VMIN 1e-6 /* variance floor of the Gaussian (lfads-torch clamps at the same value) */
#define ND_RECON_XMIN 1e-4 /* gamma / zig: targets below this are scored at it (log 0 is -inf) */

const char *nd_recon_name(int kind);
int nd_recon_parse(const char *name); /* "poisson", "gaussian", "gamma", "zig" -> kind; else -1 */
int nd_recon_nparams(int kind);

/* one neuron: l points at its first value, the next ones are stride apart */
double recon_nll1(int kind, const real *l, size_t stride, double x, double loc);
/* g[p] = scale * d nll / d l_p, p = 0..P-1 (contiguous) */
void recon_grad1(int kind, double *g, const real *l, size_t stride, double x, double loc, double scale);
double recon_mean1(int kind, const real *l, size_t stride, double loc);

/* rows x n elements: prm [rows][P*n], x and w [rows][n]. nll = sum_i w_i nll_i (w NULL = 1). */
double recon_nll_forward(int kind, const real *prm, const real *x, const real *w, size_t rows, int n, double loc);
/* dprm [rows][P*n] += scale * gmask_i * d nll_i / d prm (gmask NULL = 1) */
void recon_nll_backward(int kind, real *dprm, const real *prm, const real *x, const real *gmask, real scale,
                        size_t rows, int n, double loc);
/* mean [rows][n] of the distribution */
void recon_mean(int kind, real *mean, const real *prm, size_t rows, int n, double loc);
/* digamma function (psi = d lgamma / dx), x > 0 */
double nd_digamma(double x);

#endif
