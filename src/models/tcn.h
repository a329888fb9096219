/* The neuron-as-deep-network model (shared/spec/neuron-dnn.md): a causal temporally convolutional network from
 * the binary input spike trains of all synapses to the neuron's spike probability and somatic voltage, each 1 ms.
 * Layer l: causal conv (layer 0: sparse over input spikes, kernel first_kernel; then kernel) -> ReLU -> batch norm
 * (batch statistics in training, running statistics at inference).
 * Heads on the last layer: spike logit (sigmoid, bias started at -2) and voltage (linear, standardised units).
 * Parameters live in one buffer with named views; activations are saved in a workspace for the backward pass. */
#ifndef ND_MODELS_TCN_H
#define ND_MODELS_TCN_H
#include <stdint.h>
#include "../core/real.h"
#include "../core/status.h"
#include "../nn/tcn.h"

#define ND_TCN_MAX_DEPTH 64

typedef struct {
    int syn;          /* input channels (synapses) */
    int depth, width; /* layers, channels per layer */
    int first_kernel, kernel;
} nd_tcn_config;

typedef struct {
    real *W, *b, *g, *beta; /* conv [K][Cin][width], bias, batch-norm gain and shift [width] */
} nd_tcn_layer;

typedef struct {
    nd_tcn_config cfg;
    size_t n_params;
    real *params;
    nd_tcn_layer L[ND_TCN_MAX_DEPTH];
    real *w_spike, *b_spike, *w_volt, *b_volt; /* heads [width], [1] */
    real *bn_stats; /* [depth][2][width]: running mean and variance of each batch norm (not trained) */
} nd_tcn_model;
#define ND_TCN_BN_MOMENTUM 0.05

/* views of a parameter-shaped buffer (parameters or gradients) */
size_t nd_tcn_bind(const nd_tcn_config *c, real *base, nd_tcn_layer *L, real **ws, real **bs, real **wv, real **bv);
nd_status nd_tcn_config_check(const nd_tcn_config *c, nd_error *err);
/* inputs that reach one output: first_kernel + (depth - 1)(kernel - 1) ms */
int nd_tcn_receptive_field(const nd_tcn_config *c);
nd_status nd_tcn_create(nd_tcn_model *m, const nd_tcn_config *c, nd_error *err);
void nd_tcn_free(nd_tcn_model *m);
/* He-normal conv weights (fan-in K x Cin), zero biases, unit gains, spike bias -2, small head weights */
void nd_tcn_init(nd_tcn_model *m, uint64_t seed);

/* Targets of a batch [T][B]: spikes (0/1), voltage (standardised), per-bin loss weights (0 for context bins). */
typedef struct {
    const real *spike, *volt, *weight;
    double spike_weight; /* loss = (spike_weight BCE + squared error) summed with the weights / sum of weights */
} nd_tcn_targets;

typedef struct { double total, bce, mse; /* bce, mse per weighted bin */ } nd_tcn_loss;

typedef struct nd_tcn_work nd_tcn_work;
nd_status nd_tcn_work_create(nd_tcn_work **w, const nd_tcn_model *m, int T, int Bmax, nd_error *err);
void nd_tcn_work_free(nd_tcn_work *w);
/* Forward over B sequences of T steps; logits and voltages [T][B] are returned in *logit / *volt (pointers into
 * the workspace). With targets, computes the loss. train = 1: batch-norm batch statistics, and the running ones
 * updated (momentum ND_TCN_BN_MOMENTUM; that is why m is not const); train = 0: running statistics. */
void nd_tcn_forward(nd_tcn_model *m, nd_tcn_work *w, const nd_spike_events *ev, int B, int train,
                    const nd_tcn_targets *tg, nd_tcn_loss *loss, const real **logit, const real **volt);
/* grads += d loss / d params (after a training-mode forward with targets) */
void nd_tcn_backward(const nd_tcn_model *m, nd_tcn_work *w, real *grads);
#endif
