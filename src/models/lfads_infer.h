/* LFADS inference: posterior mean or posterior sample-and-average, written to
 * HDF5 under the lfads-torch output names. */
#ifndef ND_MODELS_LFADS_INFER_H
#define ND_MODELS_LFADS_INFER_H
#include <stdio.h>
#include "lfads.h"
#include "../io/lfads_data.h"

typedef struct {
    int samples;      /* posterior samples to average; 0 = one pass with posterior means */
    int threads;
    int batch_size;   /* 0 = the model's batch_size */
    uint64_t seed;
    FILE *progress;   /* NULL = quiet */
    int session;      /* stitched models: the data's session, 1-based; 0 = find it by the data file's name */
} nd_infer_opts;

/* Outputs of one split, [n][T][dim] (ic_*, gen_init: [n][dim]); arrays absent for a model are NULL. */
typedef struct {
    int n, T, N, F, G, C, K, KE, icd;
    float *rates, *factors, *gen_states, *gen_init, *gen_inputs, *ic_mean, *ic_std;
    float *co_means, *co_stds, *con_states;
    /* a reconstruction model with P > 1 values per neuron (src/nn/recon.h): rates holds the distribution's mean
     * (data units) and recon_params the read-out's values [n][T][N][P] (averaged over samples); else NULL, P 1 */
    int P;
    float *recon_params;
} nd_lfads_result;

nd_status nd_lfads_infer_split(const nd_lfads_model *m, const float *x, const float *ext, int n, int T,
                               const nd_infer_opts *o, int split_id, nd_lfads_result *r, nd_error *err);
/* General form: encoder input x [n][Te][N]; the generator runs T >= Te bins (forward prediction);
 * ext [n][T][E]. Outputs have T bins and the model's Nr reconstructed neurons. */
nd_status nd_lfads_infer_split2(const nd_lfads_model *m, const float *x, const float *ext, int n, int Te, int T,
                                const nd_infer_opts *o, int split_id, nd_lfads_result *r, nd_error *err);
/* the same for session `session` (0-based) of a stitched model: x has that session's neurons */
nd_status nd_lfads_infer_session(const nd_lfads_model *m, int session, const float *x, const float *ext, int n, int Te,
                                 int T, const nd_infer_opts *o, int split_id, nd_lfads_result *r, nd_error *err);
void nd_lfads_result_free(nd_lfads_result *r);

/* Runs the train and valid splits of d, and its test split when it has one (n_test > 0), and writes
 * {train,valid,test}_* to out_path atomically. ckpt: a checkpoint file or a run directory
 * (its best.ckpt, else last.ckpt). */
nd_status nd_lfads_infer_file(const char *ckpt, const nd_lfads_data *d, const char *out_path, const nd_infer_opts *o,
                              nd_error *err);
/* The outputs of every split of a data file (nd_lfads_infer_model), what nd_lfads_infer_file writes. */
typedef struct {
    nd_lfads_result split[3]; /* train, valid, test (n = 0: the data has no test split) */
    int session, S;           /* the data's session (0-based) of S */
    int samples;
    double split_seed, valid_fraction; /* the model's split (written for eval) */
    int recon;                   /* the model's reconstruction (nd_recon_kind) and zig location, written for eval */
    double zig_loc;
    char ckpt[4096];
} nd_lfads_infer_out;
/* infer_file's computation with a loaded model (E: its external input dims; ckpt_path: for messages, and the
 * session files of a stitched model) */
nd_status nd_lfads_infer_model(const nd_lfads_model *m, int E, const char *ckpt_path, const nd_lfads_data *d,
                               const nd_infer_opts *o, nd_lfads_infer_out *out, nd_error *err);
/* infer_file's output file */
nd_status nd_lfads_infer_out_write(const nd_lfads_infer_out *r, const nd_lfads_data *d, const char *out_path,
                                 nd_error *err);
void nd_lfads_infer_out_free(nd_lfads_infer_out *r);

/* resolve a run directory to its checkpoint path */
nd_status nd_lfads_resolve_ckpt(const char *run, char *out, size_t cap, nd_error *err);

#endif
