/* LFADS hyperparameters. Names follow lfads-torch so configs carry over. */
#ifndef ND_MODELS_LFADS_CONFIG_H
#define ND_MODELS_LFADS_CONFIG_H
#include <stdio.h>
#include <stdint.h>
#include "../core/status.h"
#include "../nn/recon.h"

/* largest layer size nd_lfads_config_check accepts (the messages say 65535) */
#define ND_LFADS_MAX_DIM 65535

typedef struct {
    /* architecture */
    int gen_dim, con_dim, co_dim, ic_enc_dim, ci_enc_dim, ci_lag, ic_dim, fac_dim;
    int readin_dim;          /* stitched models: width of the per-session read-ins (0 = fac_dim) */
    int readin_pcr;          /* stitched models: 1 = PCR initialisation of read-ins / read-outs, 0 = random */
    double cell_clip, ic_post_var_min, ic_prior_var;
    int co_prior_ar1;        /* 1: AR(1) prior on inferred inputs; 0: N(0, co_prior_var) */
    int ci_zero_pad;         /* 1: CI encoders over the observed bins, zero controller inputs past them (lfads-torch);
                                0: CI encoders through the forward-prediction bins too (neurodyn before issue 16) */
    double co_prior_var, ar_tau_init, ar_nvar_init;
    int co_prior_analytic;   /* Gaussian prior (co_prior_ar1 = 0): 1 = learned mean, analytic KL (lfads-torch);
                                0 = fixed mean 0, KL sampled at u (neurodyn before issue 16) */
    int enc_init_legacy;     /* 1: encoder GRU weights N(0, 1/fan_in) (neurodyn before issue 16); 0: N(0, 1/(I+H)) */
    int ext_input_dropout;   /* 1: dropout on the external inputs (lfads-torch); 0: none (before issue 16) */
    int l2_pooled;           /* 1: L2 normalised by the pooled size of the penalised kernels (lfads-torch);
                                0: each kernel by its own size */
    int sv_rescale;          /* 1: kept entries' loss x 1/(1 - sv_rate), held-out x 1/sv_rate (lfads-torch); 0: not */
    /* regularisation */
    double dropout_rate, cd_rate, sv_rate;
    double kl_ic_scale, kl_co_scale, l2_gen_scale, l2_con_scale;
    int recon_reduce_mean;   /* 1: the KL/L2 scales are lfads-torch's (per-element mean reconstruction) */
    double loss_scale;       /* multiplies the gradient before clipping (lfads-torch's loss_scale) */
    int kl_start_epoch, kl_increase_epoch, l2_start_epoch, l2_increase_epoch;
    /* optimisation */
    double lr_init, lr_decay, lr_stop, adam_beta1, adam_beta2, adam_epsilon, max_grad_norm;
    int lr_patience, batch_size, max_epochs, es_patience;
    double loss_smoothing; /* weight of the current epoch in the smoothed validation losses (as lfads-torch) */
    int loss_smoothing_legacy; /* 1: loss_smoothing weighs the previous smoothed value (neurodyn before issue 16) */
    int lr_decay_on;       /* ND_LR_DECAY_ON_RECON (default) or ND_LR_DECAY_ON_TOTAL: what the plateau rule watches */
    int max_nan_restarts;  /* roll-backs after NaN/Inf before giving up */
    /* data */
    double valid_fraction;
    int64_t seed;
    /* reconstruction distribution (nd_recon_kind) and the zero-inflated gamma's location (data units) */
    int recon;
    double zig_loc;
} nd_lfads_config;

enum { ND_LR_DECAY_ON_RECON = 0, ND_LR_DECAY_ON_TOTAL = 1 };

/* ND_CFG_CHOICE: an int holding the index of one of the words in `choices` ("recon|total"), set and written as
 * the word */
typedef enum { ND_CFG_INT, ND_CFG_DOUBLE, ND_CFG_BOOL, ND_CFG_CHOICE, ND_CFG_RECON } nd_cfg_type;
/* ND_CFG_RECON: an int holding an nd_recon_kind, set and written as its name */
typedef struct {
    const char *name;
    nd_cfg_type type;
    size_t offset;
    const char *def;  /* default, as text */
    const char *help;
    const char *choices; /* ND_CFG_CHOICE: the words, '|'-separated; else NULL */
} nd_cfg_key;

void nd_lfads_config_default(nd_lfads_config *c);
/* set one key from text; error names the key and the problem */
nd_status nd_lfads_config_set(nd_lfads_config *c, const char *key, const char *value, nd_error *err);
/* parse "key=value" */
nd_status nd_lfads_config_set_kv(nd_lfads_config *c, const char *kv, nd_error *err);
/* read a config file: "key = value" lines, '#' comments (also accepts "key: value") */
nd_status nd_lfads_config_load(nd_lfads_config *c, const char *path, nd_error *err);
nd_status nd_lfads_config_check(const nd_lfads_config *c, nd_error *err);
void nd_lfads_config_write(FILE *f, const nd_lfads_config *c);
const nd_cfg_key *nd_lfads_config_keys(int *n);
int nd_lfads_controller_on(const nd_lfads_config *c);

/* The loss weights a batch is trained with. With l2_pooled = 1 (lfads-torch) the L2 normalisation is pooled over
 * the recurrent kernels whose scale is > 0: l2_* x n_group / n_pooled (the L2 terms divide by their own size).
 * neurodyn's objective is summed per trial; with recon_reduce_mean = 1 the configured scales are lfads-torch's,
 * whose objective is loss_scale x (mean over the E = T_r x N_r reconstruction entries + l2 + KL terms).
 * Multiplying lfads-torch's objective by E / loss_scale gives neurodyn's with kl_* x E and l2_* x E, and a
 * gradient factor loss_scale / E restores lfads-torch's gradient for clipping. With recon_reduce_mean = 0 the
 * scales are used as they are (up to pooling) and grad_scale = loss_scale. */
typedef struct { double kl_ic, kl_co, l2_gen, l2_con, grad_scale; } nd_lfads_scales;
void nd_lfads_effective_scales(const nd_lfads_config *c, int controller, int64_t elems, nd_lfads_scales *s);



/* parse text of "key = value" lines (as written by nd_lfads_config_write) */
nd_status nd_lfads_config_parse_text(nd_lfads_config *c, const char *text, const char *origin, nd_error *err);
/* the config as text (malloc'd, caller frees) */
char *nd_lfads_config_to_text(const nd_lfads_config *c);
#endif
