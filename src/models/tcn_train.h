/* Fitting and scoring the neuron TCN on simulations (sims.h5 from nd_neuron_sims_write; docs/neuron.md). */
#ifndef ND_MODELS_TCN_TRAIN_H
#define ND_MODELS_TCN_TRAIN_H
#include <stdio.h>
#include <stdint.h>
#include "tcn.h"

/* Simulations as read from sims.h5 (sparse inputs, dense outputs). */
typedef struct {
    char cell[32];
    int sims, ms, syn;
    size_t n_in;
    int *in_time, *in_syn; /* [n_in], sorted by simulation then time */
    size_t *sim_start;     /* [sims + 1]: the events of simulation k are [sim_start[k], sim_start[k+1]) */
    float *soma_v;         /* [sims][ms] */
    unsigned char *spikes; /* [sims][ms] */
    float *syn_type, *syn_distance_um, *syn_branch; /* [syn] synapse metadata (type 0 exc, 1 inh) */
} nd_neuron_data;

/* Reads and checks a sims file: shapes, sorted sparse inputs within range, binary spikes, finite voltages;
 * errors name the file and dataset. */
nd_status nd_neuron_data_read(const char *path, nd_neuron_data *d, nd_error *err);
void nd_neuron_data_free(nd_neuron_data *d);

/* One Adam step (betas 0.9 / 0.999, eps 1e-8, bias-corrected; step counts from 1) over n parameters, moments m, v
 * updated in place; threads split the elements (same bits for any thread count). */
void nd_tcn_adam(real *p, real *m, real *v, const real *g, size_t n, double lr, int64_t step);

typedef struct {
    const char *run_dir;
    nd_tcn_config net;     /* syn is taken from the data */
    int epochs;            /* total epochs (a resumed run continues to this) */
    int batch, window_ms;  /* windows per batch, loss bins per window */
    double lr, lr_decay;   /* Adam learning rate, multiplied by lr_decay every lr_step epochs */
    int lr_step;
    double spike_weight_start, spike_weight_end; /* BCE weight, raised linearly over spike_weight_epochs */
    int spike_weight_epochs;
    double valid_fraction; /* last simulations held out to choose best.ckpt */
    uint64_t seed;
    int threads;
    int resume, force;
    FILE *progress;
} nd_tcn_fit_opts;

void nd_tcn_fit_opts_default(nd_tcn_fit_opts *o);

typedef struct { int epochs_run, best_epoch; double best_valid_loss; } nd_tcn_fit_result;
/* Fits on data; writes run_dir/last.ckpt every epoch (atomically, previous kept as last.prev.ckpt), best.ckpt
 * (lowest validation loss: whole held-out simulations, first 500 ms left out, at the final spike weight),
 * config.txt and train_log.tsv. A resumed run is bit-identical to an uninterrupted
 * one (same threads). */
nd_status nd_tcn_fit(const nd_neuron_data *d, const char *data_path, const nd_tcn_fit_opts *o, nd_tcn_fit_result *res,
                     nd_error *err);
/* `neurodyn neuron fit`: reads and checks sims_path (nd_neuron_data_read), then nd_tcn_fit */
nd_status nd_tcn_fit_file(const char *sims_path, const nd_tcn_fit_opts *o, nd_tcn_fit_result *res, nd_error *err);

/* A fitted network with what it needs to read new data. */
typedef struct {
    nd_tcn_model m;
    char cell[32];
    double v_mean, v_sd; /* voltage standardisation (truth clipped at ND_TCN_VCLIP) */
    float *syn_type, *syn_distance_um, *syn_branch; /* [m.cfg.syn] the training data's synapse metadata */
} nd_tcn_run;
#define ND_TCN_VCLIP (-55.0)
/* RUN is a run directory (best.ckpt) or a checkpoint file */
nd_status nd_tcn_run_load(const char *run, nd_tcn_run *r, nd_error *err);
void nd_tcn_run_free(nd_tcn_run *r);
/* spike probability and voltage (mV) of simulations [k0, k1) of d: prob, volt [(k1 - k0)][ms] */
nd_status nd_tcn_predict(const nd_tcn_run *r, const nd_neuron_data *d, int k0, int k1, float *prob, float *volt,
                         nd_error *err);

/* First-layer templates of a fitted network: the weights [width][syn][first_kernel] (lag 0 = the same ms), the
 * synapse metadata, and per unit the mean template of excitatory and inhibitory synapses in `dist_bins` equal
 * bins of distance from the soma; written to an HDF5 file, with a heat map (SVG) of the strongest unit. */
nd_status nd_tcn_filters_write(const nd_tcn_run *r, int dist_bins, const char *h5_path, const char *svg_path,
                               nd_error *err);
/* `neurodyn neuron filters`: loads RUN (nd_tcn_run_load) and writes its templates; shape: what was written */
typedef struct { int units, synapses, lags; } nd_tcn_filters_shape;
nd_status nd_tcn_filters_file(const char *run, int dist_bins, const char *h5_path, const char *svg_path,
                              nd_tcn_filters_shape *shape, nd_error *err);
#endif