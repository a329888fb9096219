/* A leaky tanh recurrent network and two learning rules for it (shared/spec/learning-rules.md, "Recurrent"):
 * backpropagation through time and RFLO (random feedback local online learning; Murray, eLife 2019), plus the
 * 3-bit flip-flop task (Sussillo & Barak 2013).
 *
 * Network (column vectors; W[i*N + j] multiplies h_j): u_t = W h_{t-1} + U x_t + b,
 * h_t = (1 - alpha) h_{t-1} + alpha tanh(u_t), y_t = V h_t + c, h_0 = 0. Loss: the batch mean of
 * (1/T) sum_t 0.5 |y_t - target_t|^2. With the input held at zero the state map is
 * F(h) = (1 - alpha) h + alpha tanh(W h + b), which `neurodyn fixedpoints` analyses. */
#ifndef ND_MODELS_RNN_RULES_H
#define ND_MODELS_RNN_RULES_H
#include "../core/real.h"
#include "../core/rng.h"
#include "../core/status.h"

typedef enum { ND_RNN_BPTT, ND_RNN_RFLO, ND_RNN_RULE_COUNT } nd_rnn_rule;
/* "bptt", "rflo" -> rule; -1 if unknown */
int nd_rnn_rule_parse(const char *name);
const char *nd_rnn_rule_name(nd_rnn_rule r);

typedef struct {
    int N, I, O;
    double alpha;
    size_t n_params;
    real *params;          /* [W U b V c] */
    real *W, *U, *b, *V, *c;
    real *fb;              /* RFLO's fixed random feedback [N][O], N(0, 1/N) (stands for V^T) */
} nd_rnn;
/* W N(0, g^2/N) with g = 0.9 (below the edge of chaos), U N(0, 1/I), V N(0, 1/N), biases 0 */
nd_status nd_rnn_create(nd_rnn *r, int N, int I, int O, double alpha, uint64_t seed, nd_error *err);
void nd_rnn_free(nd_rnn *r);
/* W, U, b, V, c views of a parameter-shaped buffer */
void nd_rnn_bind(const nd_rnn *r, real *base, real **W, real **U, real **b, real **V, real **c);

/* one batch's activity: h [B][T+1][N] (h[.][0] = 0), r = tanh(u) [B][T][N], y [B][T][O] */
typedef struct { int B, T; real *h, *r, *y, *work; } nd_rnn_acts;
nd_status nd_rnn_acts_create(nd_rnn_acts *a, const nd_rnn *r, int B, int T, nd_error *err);
void nd_rnn_acts_free(nd_rnn_acts *a);

/* forward of x [B][T][I]; with target [B][T][O] returns the loss (else 0) */
double nd_rnn_forward(const nd_rnn *r, nd_rnn_acts *a, const real *x, const real *target);

/* Exact gradient of the loss (after nd_rnn_forward on the same batch) by backpropagation through time into g
 * (parameter-shaped, overwritten). */
void nd_rnn_bptt(const nd_rnn *r, const nd_rnn_acts *a, const real *x, const real *target, real *g);

/* RFLO (Murray 2019): each weight keeps an eligibility trace of its own pre- and post-synaptic activity,
 * P_ij(t) = (1 - alpha) P_ij(t-1) + alpha tanh'(u_i(t)) h_j(t-1) (x_j(t) for U, 1 for b), updated online, and
 * the output error reaches unit i through the fixed random feedback fb: g_W_ij = sum_t (fb e_t)_i P_ij(t),
 * e_t = dE/dy_t. The read-out V, c gets its exact (local) gradient. fb = NULL uses r->fb. With fb = V^T and W = 0
 * this is the exact gradient (the trace is then the full sensitivity dh_i/dW_ij). g overwritten; work: N*(N+I+1)
 * reals. */
void nd_rnn_rflo(const nd_rnn *r, const nd_rnn_acts *a, const real *x, const real *target, const real *fb, real *g,
                 real *work);

/* 3-bit flip-flop: inputs x [B][T][3] are +-1 pulses (every channel pulses at t = 0, then with probability p
 * per step), targets hold the sign of each channel's last pulse. */
void nd_flipflop(int B, int T, double p, nd_rng *rng, real *x, real *target);
#endif
