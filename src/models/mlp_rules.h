/* Learning rules beyond backprop on a multilayer perceptron (shared/spec/learning-rules.md): each rule is a
 * function that turns a mini-batch into an estimate g_hat of dE/dW for every layer, over the same layer code
 * (nn/linear). Measured against the exact gradient (backprop on the same batch): the bias (angle, relative norm)
 * and the variance of each estimator.
 *
 * Network: a_l = h_{l-1} W_l + b_l (W_l [n_{l-1}][n_l], the nn/ convention), h_l = tanh(a_l) for hidden layers,
 * h_L = a_L. Loss: mean over the batch of softmax cross-entropy (labels) or 0.5 |y - target|^2 (regression). */
#ifndef ND_MODELS_MLP_RULES_H
#define ND_MODELS_MLP_RULES_H
#include <stdint.h>
#include "../core/real.h"
#include "../core/rng.h"
#include "../core/status.h"

#define ND_MLP_MAX_LAYERS 16

typedef enum { ND_RULE_BP, ND_RULE_FA, ND_RULE_DFA, ND_RULE_SIGN, ND_RULE_NP, ND_RULE_WP, ND_RULE_COUNT } nd_rule;
/* "bp", "fa", "dfa", "sign", "np", "wp" -> rule; -1 if unknown */
int nd_rule_parse(const char *name);
const char *nd_rule_name(nd_rule r);

typedef enum { ND_LOSS_XENT, ND_LOSS_MSE } nd_mlp_loss;

typedef struct {
    int L;                         /* weight layers */
    int n[ND_MLP_MAX_LAYERS + 1];  /* widths n_0 (input) .. n_L (output) */
    nd_mlp_loss loss;
    size_t n_params;
    real *params;                  /* [W_1 b_1 W_2 b_2 ...] */
    real *W[ND_MLP_MAX_LAYERS], *b[ND_MLP_MAX_LAYERS];
    real *feedback;                /* fixed random feedback: FA B_l [n_l][n_{l-1}] for l >= 2; DFA D_l [n_L][n_l] */
    real *B_fa[ND_MLP_MAX_LAYERS], *D_dfa[ND_MLP_MAX_LAYERS];
} nd_mlp;

/* widths: L + 1 entries. Weights N(0, 1/fan_in), biases 0; feedback matrices N(0, 1/fan_in of the matrix they
 * stand for), fixed for the life of the network. */
nd_status nd_mlp_create(nd_mlp *m, int L, const int *widths, nd_mlp_loss loss, uint64_t seed, nd_error *err);
void nd_mlp_free(nd_mlp *m);
/* views of a parameter-shaped buffer */
void nd_mlp_bind(const nd_mlp *m, real *base, real **W, real **b);

/* activations of one batch */
typedef struct {
    int Bmax, B;
    real *a[ND_MLP_MAX_LAYERS + 1], *h[ND_MLP_MAX_LAYERS + 1]; /* h[0] = input; a[l], h[l] [B][n_l] */
    real *d[ND_MLP_MAX_LAYERS + 1];                            /* deltas [B][n_l] */
    real *loss_each;                                           /* [B] per-example loss */
    real *buf;
} nd_mlp_acts;
nd_status nd_mlp_acts_create(nd_mlp_acts *a, const nd_mlp *m, int Bmax, nd_error *err);
void nd_mlp_acts_free(nd_mlp_acts *a);

/* forward of B examples x [B][n_0]; targets: labels [B] (cross-entropy) or y [B][n_L] (MSE). noise (may be NULL):
 * added to every pre-activation a_l (node perturbation), layout as the a[l] arrays one after another.
 * Returns the mean loss. */
double nd_mlp_forward(const nd_mlp *m, nd_mlp_acts *a, const real *x, int B, const int *labels, const real *y,
                      const real *noise);

/* One estimate of dE/dW, dE/db for every layer into g (parameter-shaped, overwritten). Deterministic rules
 * (bp, fa, dfa, sign) need one forward already done on the batch; the perturbation rules (np, wp) draw their
 * noise (SD sigma) from rng and run their own forwards. scratch: a parameter-shaped buffer and a second acts. */
typedef struct {
    double sigma;          /* perturbation SD (np, wp) */
    /* Running reward baseline (Werfel, Xie & Seung 2005): with running_baseline set, np and wp compare the
     * perturbed loss with `baseline`, a running average of past perturbed losses (one forward per estimate
     * instead of two), then update it: baseline += baseline_rate (batch mean - baseline). The first batch
     * initialises it with the unperturbed loss. The reward estimator (nd_rule_estimate_reward) always uses it,
     * as the mean past reward. */
    int running_baseline, baseline_set;
    double baseline, baseline_rate;
    nd_rng *rng;
    real *scratch;         /* n_params (wp) */
    nd_mlp_acts *acts2;    /* perturbed pass */
    real *noise;           /* sum of n_1..n_L times Bmax (np) */
} nd_rule_ctx;
nd_status nd_rule_ctx_create(nd_rule_ctx *c, const nd_mlp *m, int Bmax, double sigma, nd_rng *rng, nd_error *err);
void nd_rule_ctx_free(nd_rule_ctx *c);
void nd_rule_estimate(nd_rule rule, const nd_mlp *m, nd_mlp_acts *a, const real *x, int B, const int *labels,
                      const real *y, nd_rule_ctx *ctx, real *g);

/* Learning from a scalar reward only (classification tasks: reward 1 when the chosen class is the label, else
 * 0); g estimates the gradient of -E[reward] (so SGD on g ascends the reward). What each rule optimises:
 *   bp, fa, dfa, sign: REINFORCE (Williams 1992) on the stochastic softmax policy pi = softmax(a_L): the action
 *     k_b is drawn from pi_b (ctx->rng), the output delta is -(R_b - baseline)(onehot(k_b) - pi_b) / B, and it
 *     reaches hidden layers by the rule's own feedback (bp: the exact score-function gradient of E[R]);
 *   np: the network acts greedily (argmax) on pre-activations perturbed by N(0, sigma^2) noise, which is its
 *     exploration; g_l = -mean_b (R_b - baseline) / sigma^2 h_{l-1,b} xi_{l,b}: the gradient of the
 *     Gaussian-smoothed reward of the greedy policy (REINFORCE on the node noise);
 *   wp: the same with noise on every weight, one draw per batch and the batch-mean reward.
 * The baseline is ctx->baseline (the running mean reward; it is updated after the estimate). Needs a forward
 * of the batch first (its loss_each and activations); returns the batch's mean reward. */
double nd_rule_estimate_reward(nd_rule rule, const nd_mlp *m, nd_mlp_acts *a, const real *x, int B,
                               const int *labels, nd_rule_ctx *ctx, real *g);

/* Bias and variance of a rule's estimate on one batch against the exact (bp) gradient, per layer (weights only)
 * and for the whole network (index L): the angle in degrees between the mean estimate over `samples` draws and
 * the gradient, |mean| / |gradient|, and E|g_hat - mean|^2 / |gradient|^2 (0 for the deterministic rules). */
typedef struct {
    double angle_deg[ND_MLP_MAX_LAYERS + 1], rel_norm[ND_MLP_MAX_LAYERS + 1], variance[ND_MLP_MAX_LAYERS + 1];
} nd_rule_stats;
nd_status nd_rule_bias_variance(nd_rule rule, const nd_mlp *m, const real *x, int B, const int *labels, const real *y,
                                int samples, double sigma, uint64_t seed, nd_rule_stats *s, nd_error *err);
#endif
