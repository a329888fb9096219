/* Fixed points of a trained LFADS generator, end to end: the constant input (zero, or the mean of an infer
 * output's {split}_gen_inputs), the initial states (N(0, 1), or generator states sampled from an infer output's
 * {split}_gen_states plus Gaussian noise, from a seeded stream), the search (fixedpoints.h), and, with visited
 * states, each point's distance to the nearest one and the states' spread (mean distance from their centroid).
 * What 'neurodyn fixedpoints' runs (through fp_run.h); the HDF5 writer is here too so that the file layout has one
 * definition. */
#ifndef ND_ANALYSIS_FP_LFADS_H
#define ND_ANALYSIS_FP_LFADS_H
#include <stdint.h>
#include "fixedpoints.h"
#include "../models/lfads.h"

typedef struct {
    int input_mean;      /* 0: zero input; 1: mean of {split}_gen_inputs of outputs (needs outputs when n_in > 0) */
    const char *outputs; /* an output file of 'neurodyn infer' to sample the starts from, or NULL: N(0, 1) */
    const char *split;   /* "train" or "valid" (default valid) */
    int starts;          /* initial states (default 256) */
    double noise;        /* SD of the noise added to sampled starts (default 0) */
    uint64_t seed;       /* seed of the starts (default 0) */
    nd_fp_opts fp;
} nd_fp_lfads_opts;
void nd_fp_lfads_opts_default(nd_fp_lfads_opts *o);

typedef struct {
    int H, n_in;       /* generator units; generator inputs (controller outputs + external inputs) */
    double *u;         /* [n_in] the constant input */
    int has_states;    /* the starts were sampled from visited states */
    double *dist;      /* [r.n_fp] distance to the nearest visited state (has_states), else NULL */
    double spread;     /* mean distance of the visited states from their centroid (NaN without) */
    nd_fp_result r;
} nd_fp_lfads_result;
void nd_fp_lfads_result_free(nd_fp_lfads_result *r);

/* The generator's inputs: co_dim (with a controller) + external inputs. */
int nd_fp_lfads_inputs(const nd_lfads_model *m);
/* ND_ERR_ARG (input_mean without outputs, shapes that do not match the model), ND_ERR_IO / ND_ERR_FORMAT (outputs
 * file), ND_ERR_NOMEM; messages name the file and dataset. */
nd_status nd_fp_lfads(const nd_lfads_model *m, const nd_fp_lfads_opts *o, nd_fp_lfads_result *r, nd_error *err);
/* The same for a recurrent network of 'learn train --rnn' (a leaky tanh RNN with zero input; no generator inputs):
 * starts from o->outputs' {split}_gen_states (the run's model.h5) or N(0, 1). */
nd_status nd_fp_rnn(const nd_fp_leaky_tanh_map *rnn, const nd_fp_lfads_opts *o, nd_fp_lfads_result *r, nd_error *err);
/* Write x, q, jacobian, eig_re/eig_im, max_abs_eig, stable, count, slow, dist_to_states, u, start_q and the root
 * attributes n_fixed_points (integer), checkpoint, inputs, jacobian_layout to a new HDF5 file (atomically). */
nd_status nd_fp_lfads_write(const char *path, const nd_fp_lfads_result *r, const char *ckpt, const char *inputs,
                            nd_error *err);

#endif
