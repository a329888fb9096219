/* The LFADS model: parameters in one contiguous buffer with named views,
 * a workspace holding every activation the backward pass needs, and
 * forward/backward over one mini-batch (time-major: X[t][b][n]). */
#ifndef ND_MODELS_LFADS_H
#define ND_MODELS_LFADS_H
#include "../core/real.h"
#include "../core/rng.h"
#include "../core/status.h"
#include "../nn/layers.h"
#include "lfads_config.h"

/* Named views into a parameter (or gradient) buffer. */
typedef struct {
    gru_params ic_f, ic_b;                /* IC encoder, forward / backward direction */
    real *ic_h0_f, *ic_h0_b;              /* learned initial states [ic_enc_dim] */
    real *ic_W, *ic_bias;                 /* [2*ic_enc][2*ic_dim] -> (mean | logvar) */
    real *ic_prior_mean;                  /* [ic_dim] */
    real *g0_W, *g0_bias;                 /* [ic_dim][gen_dim] */
    gru_params ci_f, ci_b;                /* CI encoder (controller on) */
    real *ci_h0_f, *ci_h0_b;              /* [ci_enc_dim] */
    gru_params con;                       /* input [2*ci_enc + fac] */
    real *con_h0;                         /* [con_dim] */
    real *co_W, *co_bias;                 /* [con_dim][2*co_dim] -> (mean | logvar) */
    real *ar_logtau, *ar_lognvar;         /* [co_dim] AR(1) prior */
    real *co_prior_mean;                  /* [co_dim] learned mean of the Gaussian prior (co_prior_ar1 = 0 and
                                             co_prior_analytic = 1 only; else NULL and absent from the buffer) */
    gru_params gen;                       /* input [co_dim + ext_dim] */
    real *fac_W;                          /* [fac_dim][gen_dim], rows normalised in forward */
    real *ro_W, *ro_bias;                 /* [fac_dim][N], [N]; of session 0 in a stitched model */
} nd_lfads_views;

/* Multi-session ("stitched") models: the encoders, generator and factors are shared; each session has its own
 * read-in (x' = x ri_W + ri_bias, [N_s][Din] and [Din]) and read-out ([fac_dim][Nr_s], [Nr_s]). Session blocks
 * follow the shared parameters in session order: [ri_W ri_bias] (stitched only) [ro_W ro_bias]. A plain model is
 * one session without a read-in (its encoders see the N neurons directly): the same layout as before stitching. */
#define ND_LFADS_MAX_SESSIONS 128
typedef struct {
    real *ri_W, *ri_bias; /* NULL without a read-in */
    real *ro_W, *ro_bias; /* [fac_dim][P*Nr], [P*Nr]: P values per neuron, parameter-major (src/nn/recon.h) */
    int N, Nr;
    int P;                /* read-out values per reconstructed neuron (nd_recon_nparams of cfg.recon) */
} nd_lfads_session_views;

typedef struct {
    nd_lfads_config cfg;
    int N, Nr, E;     /* input neurons, reconstructed neurons (Nr >= N: held-out ones last), ext-input dims */
    int ctrl;         /* controller on */
    int T, Tr;        /* encoder / reconstruction bins of the training data (0 if unknown) */
    int S;            /* sessions (1 for a plain model) */
    int Din;          /* encoder input width: N for a plain model, the read-in dimension when stitched */
    int readin;       /* 1: per-session read-ins (stitched); then N, Nr are the largest session's */
    int sN[ND_LFADS_MAX_SESSIONS], sNr[ND_LFADS_MAX_SESSIONS];
    size_t soff[ND_LFADS_MAX_SESSIONS]; /* offset of each session's block in the parameter buffer */
    size_t n_params;
    real *params;
    nd_lfads_views p;
} nd_lfads_model;

typedef struct {
    int sample;   /* sample posteriors (IC, inferred inputs); else use means */
    int dropout;  /* apply dropout and coordinated dropout */
    double ramp_kl, ramp_l2;
    int session;  /* the session every trial of the batch comes from, 0 <= session < S (0 for a plain model) */
} nd_lfads_mode;

typedef struct {
    double recon;      /* reconstruction NLL (cfg.recon's distribution; Poisson by default) per trial over scored (non-sample-validation) entries */
    double recon_sv;   /* NLL per trial over the sample-validation entries (0 if none) */
    double kl_ic, kl_co, l2; /* unscaled KL per trial; L2 already scaled by l2_*_scale */
    double total;      /* recon + ramped, scaled KL + ramped L2 */
    double objective;  /* what the gradient is of (differs from total only with coordinated dropout) */
} nd_lfads_loss;

typedef struct nd_lfads_work nd_lfads_work;

size_t nd_lfads_bind(nd_lfads_views *v, real *base, const nd_lfads_config *c, int N, int Nr, int E);
nd_status nd_lfads_create(nd_lfads_model *m, const nd_lfads_config *c, int N, int E, nd_error *err);
/* A model whose read-out predicts Nr >= N neurons: the N input neurons first, then held-out ones. */
nd_status nd_lfads_create_heldout(nd_lfads_model *m, const nd_lfads_config *c, int N, int Nr, int E,
                                  nd_error *err);
/* A stitched model over S sessions with N[s] input and Nr[s] >= N[s] reconstructed neurons and a read-in of
 * width Din >= 1. (S = 1 and Din = 0 gives the plain model.) */
nd_status nd_lfads_create_sessions(nd_lfads_model *m, const nd_lfads_config *c, int S, const int *N, const int *Nr,
                                   int Din, int E, nd_error *err);
/* the parameter count nd_lfads_create_sessions would allocate (checked by loaders before allocating) */
size_t nd_lfads_sessions_num_params(const nd_lfads_config *c, int S, const int *N, const int *Nr, int Din, int E);
/* session s's read-in / read-out views over base (m->params, or a gradient buffer of the same layout) */
void nd_lfads_session_bind(const nd_lfads_model *m, real *base, int s, nd_lfads_session_views *v);
/* Random init; readout bias = log(mean_rate[n]) when mean_rate is given (counts per bin; stitched: the sessions'
 * Nr[s] rates one after another). */
void nd_lfads_init(nd_lfads_model *m, uint64_t seed, const float *mean_rate);
void nd_lfads_free(nd_lfads_model *m);
/* Parameters that L2 regularises / sizes, for reporting */
size_t nd_lfads_num_params(const nd_lfads_model *m);

nd_status nd_lfads_work_create(nd_lfads_work **w, const nd_lfads_model *m, int Bmax, int T, nd_error *err);
/* Encoders see T bins; the generator and read-out run Tr >= T bins (forward prediction). */
nd_status nd_lfads_work_create2(nd_lfads_work **w, const nd_lfads_model *m, int Bmax, int T, int Tr,
                                nd_error *err);
void nd_lfads_work_free(nd_lfads_work *w);

/* Forward over a batch (of session mode->session: N, Nr below are that session's). X [T][B][N] counts; EXT [T][B][E] or NULL; SV [T][B][N] 1 marks sample-validation
 * entries (or NULL). rng draws masks and posterior samples (required when mode->sample or mode->dropout). */
void nd_lfads_forward(const nd_lfads_model *m, nd_lfads_work *w, const real *X, const real *EXT, const real *SV,
                      int B, const nd_lfads_mode *mode, nd_rng *rng, nd_lfads_loss *loss);
/* General form: X [T][B][N] encoder input; XR [Tr][B][Nr] reconstruction targets (NULL: no loss, e.g. test
 * trials); EXT [Tr][B][E]; SV [T][B][N]. X and XR must agree on the first T bins and N neurons. */
void nd_lfads_forward_recon(const nd_lfads_model *m, nd_lfads_work *w, const real *X, const real *XR,
                            const real *EXT, const real *SV, int B, const nd_lfads_mode *mode, nd_rng *rng,
                            nd_lfads_loss *loss);
/* Backward of loss->objective; ACCUMULATES into grads (same layout as params). */
void nd_lfads_backward(const nd_lfads_model *m, nd_lfads_work *w, real *grads);

/* Views of the last forward pass's outputs (time-major, [T][B][dim]; *_init / ic [B][dim]). */
typedef struct {
    const real *log_rates, *factors, *gen_states, *con_states, *co_mean, *co_logvar, *gen_inputs;
    const real *ic_mean, *ic_logvar, *gen_init;
    int T, B;
    /* the read-out [T][B][P*Nr] (src/nn/recon.h layout; for Poisson the log-rates) and, for P > 1, the
     * distribution's mean [T][B][Nr] (log_rates is then NULL) */
    int P;
    const real *recon_params, *means;
} nd_lfads_outputs;
void nd_lfads_outputs_get(const nd_lfads_model *m, const nd_lfads_work *w, nd_lfads_outputs *o);

#endif
