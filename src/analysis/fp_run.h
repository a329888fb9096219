/* `neurodyn fixedpoints RUN` end to end: RUN is an LFADS run directory or checkpoint (the generator's fixed points,
 * fp_lfads.h) or a recurrent network of 'learn train --rnn' (its leaky tanh map, zero input); with a data file the
 * checkpoint's data fingerprint is checked first, as infer does. The result's JSON document is built here too, so
 * that the CLI only prints; the HDF5 file is nd_fp_lfads_write's. */
#ifndef ND_ANALYSIS_FP_RUN_H
#define ND_ANALYSIS_FP_RUN_H
#include <cjson/cJSON.h>
#include <stdio.h>
#include "fp_lfads.h"

typedef struct {
    const char *run;      /* a run directory or checkpoint of LFADS, or a 'learn train --rnn' run directory */
    const char *data;     /* the data the LFADS model was trained on, to check its fingerprint, or NULL */
    int allow_mismatch;   /* accept other trials of the same session (bins, neurons, ids must match) */
    FILE *notes;          /* where the fingerprint check's notes go (may be NULL) */
    int threads;          /* OpenMP and BLAS threads (<= 0: left as they are) */
    nd_fp_lfads_opts fp;  /* inputs, outputs, split, starts, ... (nd_fp_lfads_opts_default) */
} nd_fp_run_opts;
void nd_fp_run_opts_default(nd_fp_run_opts *o);

typedef struct {
    char ckpt[4096];         /* the checkpoint analysed (RUN/last.ckpt for a recurrent network) */
    int rnn;                 /* 1: a recurrent network of 'learn train --rnn' rather than an LFADS generator */
    const char *inputs;      /* the constant input by name: "zero", "mean" or "none" (the map has no inputs) */
    const char *inputs_text; /* the same in words: "zero", "mean of gen_inputs" or "none" */
    nd_fp_lfads_result x;
} nd_fp_run_result;
void nd_fp_run_result_free(nd_fp_run_result *r);

/* ND_ERR_ARG only for options that do not fit the model (the mean input of a model with generator inputs needs
 * o->fp.outputs); a data file that is not the model's, or outputs whose shapes do not fit it, are ND_ERR_FORMAT;
 * ND_ERR_IO for files that cannot be read. Messages name the file and dataset. On failure r is freed. */
nd_status nd_fp_run(const nd_fp_run_opts *o, nd_fp_run_result *r, nd_error *err);
/* The result as the JSON document of 'neurodyn fixedpoints --json' (checkpoint, counts, points with q, norm,
 * eigenvalues, ...); NULL when out of memory. Free with cJSON_Delete. */
cJSON *nd_fp_run_json(const nd_fp_run_opts *o, const nd_fp_run_result *r);
#endif
