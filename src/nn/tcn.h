/* Layers of a temporally convolutional network (TCN), as plain functions over flat `real` arrays (the
 * neuron-as-deep-network model, docs/neuron.md).
 *
 * Conventions: a batch of B sequences is time-major X[(t*B + b)*C + c], so a time shift of k steps is a shift
 * of k*B rows and each tap of a convolution is one GEMM over all sequences; convolution weights are W[k][Cin][Cout] (tap k looks k steps
 * into the past: causal); *_backward ACCUMULATE (+=) into every gradient they are given, except where a comment
 * says "overwrites". */
#ifndef ND_NN_TCN_H
#define ND_NN_TCN_H
#include <stddef.h>
#include "../core/real.h"

/* ---------- causal convolution: Y[t] = b + sum_{k < K, t - k >= 0} X[t - k] W[k]; Y [T][B][Cout] overwritten ---------- */
void conv1d_forward(real *Y, const real *X, const real *W, const real *b, int T, int B, int Cin, int Cout, int K);
/* dW += X-lag^T dY, db += colsum(dY) (if db), dX += dY W^T (if dX) */
void conv1d_backward(real *dX, real *dW, real *db, const real *dY, const real *X, const real *W, int T, int B,
                     int Cin, int Cout, int K);

/* ---------- the same convolution of a sparse binary input: events (time, sequence, channel), time relative to
 * the sequence start and possibly negative (spikes in the context before it). Cost: events x K x Cout, not
 * T x Cin x K x Cout. Y [T][B][Cout] overwritten. ---------- */
typedef struct { const int *t, *b, *c; size_t n; } nd_spike_events;
void spikeconv_forward(real *Y, const nd_spike_events *ev, const real *W, const real *b, int T, int B, int Cin,
                       int Cout, int K);
/* dW[t - t_e][c_e] += dY[t][b_e] for every event and tap; db += colsum(dY) (if db) */
void spikeconv_backward(real *dW, real *db, const real *dY, const nd_spike_events *ev, int T, int B, int Cin,
                        int Cout, int K);

/* ---------- ReLU: Y = max(X, 0) (Y may be X); backward dX += dY [Y > 0] ---------- */
void relu_forward(real *Y, const real *X, size_t n);
void relu_backward(real *dX, const real *dY, const real *Y, size_t n);

/* ---------- batch norm over the rows (time steps x sequences) of each of C channels, as in the source
 * article's network. Training: Y = g (X - mean) rstd + beta with the batch's statistics, saved in mean and rstd
 * [C] (the backward needs them). Inference: the running statistics, so each output depends only on its own
 * inputs (causal, independent of the batch). A per-time-step norm (layer norm) would remove the overall size
 * of a step's activity, which is what the voltage is. ---------- */
#define ND_BATCHNORM_EPS 1e-5
void batchnorm_forward_train(real *Y, real *mean, real *rstd, const real *X, const real *g, const real *beta,
                             size_t rows, int C);
void batchnorm_forward_eval(real *Y, const real *X, const real *g, const real *beta, const real *run_mean,
                            const real *run_var, size_t rows, int C);
void batchnorm_backward(real *dX, real *dg, real *dbeta, const real *dY, const real *X, const real *mean,
                        const real *rstd, const real *g, size_t rows, int C);
/* The layer's ReLU and batch norm in one pass each way (the same bits as the two functions in turn, fewer passes
 * over memory): forward A = relu(Z) (saved for the backward), Y = batch norm of A; backward dZ = [A > 0] times
 * batch norm's dA, which OVERWRITES dZ (dg, dbeta accumulate). */
void relu_batchnorm_forward_train(real *A, real *Y, real *mean, real *rstd, const real *Z, const real *g,
                                  const real *beta, size_t rows, int C);
void batchnorm_relu_backward(real *dZ, real *dg, real *dbeta, const real *dY, const real *A, const real *mean,
                             const real *rstd, const real *g, size_t rows, int C);

/* ---------- losses, summed with per-entry weights w (NULL = 1) ----------
 * binary cross-entropy on logits z: sum w (softplus(z) - y z); dz += scale w (sigmoid(z) - y)
 * squared error: sum w (p - y)^2; dp += scale 2 w (p - y) */
double bce_logits_forward(const real *z, const real *y, const real *w, size_t n);
void bce_logits_backward(real *dz, const real *z, const real *y, const real *w, real scale, size_t n);
double sqerr_forward(const real *p, const real *y, const real *w, size_t n);
void sqerr_backward(real *dp, const real *p, const real *y, const real *w, real scale, size_t n);
#endif
