/* The LFADS checkpoint format: a model, its optimiser state and the trainer's counters as named sections of a
 * src/io/checkpoint.h file (atomic, versioned, CRC-checked). Sections:
 *   config        the effective configuration as text (nd_lfads_config_to_text), NUL-terminated
 *   dims          int32 {N, T, E, n_train, n_valid, Nr, Tr} (5 values before held-out neurons existed)
 *   params        float32 [n_params]; adam_m, adam_v: Adam's moments, float32 [n_params]
 *   state         nd_train_state (plain numbers)
 *   fingerprint   the sessions' data fingerprints (src/io/fingerprint.h), one line each (version 2)
 *   stitch        stitched runs: int32 {S, Din, then per session N, Nr, n_train, n_valid}
 *   session_files stitched runs: the sessions' data file base names, one per line
 * Inference reads a model through this module alone; the trainer (lfads_train.h) writes and resumes through it. */
#ifndef ND_MODELS_LFADS_CKPT_H
#define ND_MODELS_LFADS_CKPT_H
#include <stdio.h>
#include <stdint.h>
#include "lfads.h"
#include "../io/lfads_data.h"
#include "../io/fingerprint.h"

/* Trainer state saved in checkpoints (plain numbers; layout is part of checkpoint version 1). */
typedef struct {
    int64_t epoch;         /* next epoch to run */
    int64_t step;          /* Adam steps taken */
    double lr;
    double smoothed_total, smoothed_recon;
    double best_lr_loss;   /* best smoothed validation loss the plateau rule watches (lr_decay_on) */
    double best_recon;     /* best smoothed valid recon after the ramps */
    int64_t best_epoch, plateau, es_count, has_smoothed, stopped;
    int64_t nan_restarts;  /* times training rolled back after a NaN/Inf */
} nd_train_state;

/* What a run records about its data in every checkpoint: the sessions of a stitched run (v: 2 + 4 S int32 values
 * of section "stitch", files: "session_files"; both NULL for a plain run) and the data fingerprints (fps: one line
 * per session, section "fingerprint"). Owned by whoever fills it: nd_lfads_ckpt_runinfo_make / _free. */
typedef struct {
    int32_t *v;
    size_t n;
    char *files;
    char *fps;
} nd_lfads_runinfo;

/* The run information of S sessions d[0..S-1] (Din: the read-in width of a stitched model). */
nd_status nd_lfads_runinfo_make(nd_lfads_runinfo *ri, const nd_lfads_data *d, int S, int Din, nd_error *err);
void nd_lfads_runinfo_free(nd_lfads_runinfo *ri);

/* Write a checkpoint of model m with Adam moments adam_m, adam_v [m->n_params], dims {N, T, E, n_train, n_valid,
 * Nr, Tr} and trainer state st. prev != NULL: an existing `path` is first renamed to prev. */
nd_status nd_lfads_ckpt_save(const char *path, const char *prev, const nd_lfads_model *m, const real *adam_m,
                             const real *adam_v, const int dims[7], const nd_lfads_runinfo *ri,
                             const nd_train_state *st, nd_error *err);

/* Read everything a resumed run needs from `path`: the model (*m, created here), the Adam moments (*adam_m,
 * *adam_v, allocated here with nd_alloc) and the trainer state. The checkpoint must have been trained on data of
 * these dims, these sessions (ri->v) and these fingerprints (ri->fps): else ND_ERR_ARG naming what differs.
 * On error, whatever was allocated is left in *m / *adam_m / *adam_v for the caller to free. */
nd_status nd_lfads_ckpt_resume(const char *path, nd_lfads_model *m, real **adam_m, real **adam_v, const int dims[7],
                               const nd_lfads_runinfo *ri, nd_train_state *s, nd_error *err);

/* Load a model from a checkpoint (best.ckpt or last.ckpt). dims = {N, T, E}. */
nd_status nd_lfads_load(const char *ckpt_path, nd_lfads_model *m, int dims[3], nd_error *err);

/* Stitched checkpoints: which session (0-based, *out) a data file is. want > 0 picks session want (1-based) and checks
 * nothing else; else the file's base name must match one of the session files the model was trained on. */
nd_status nd_lfads_ckpt_find_session(const char *ckpt_path, const char *data_path, int want, int S, int *out,
                                     nd_error *err);

/* The data fingerprint (src/io/fingerprint.h) of session `session` (0-based) stored in a checkpoint; *has = 0 for
 * checkpoints written before fingerprints existed (version 1). */
nd_status nd_lfads_ckpt_fingerprint(const char *ckpt_path, int session, nd_data_fp *fp, int *has, nd_error *err);

/* Is d the data the checkpoint's session `session` (0-based, of S) was trained on? ND_ERR_ARG with one line naming both
 * files and what differs when not. allow = 1 (--allow-data-mismatch): only the bins, neurons and neuron ids must
 * match (a note to `note` lists the rest). A checkpoint without a fingerprint: a warning to `note`, ND_OK. */
nd_status nd_lfads_check_data(const char *ckpt_path, int session, int S, const nd_lfads_data *d, int allow,
                              FILE *note, nd_error *err);

/* The trainer counters stored in a checkpoint (epoch reached, smoothed validation losses, ...). */
nd_status nd_lfads_ckpt_state(const char *ckpt_path, nd_train_state *s, nd_error *err);

/* 1 if all n values are finite */
int nd_lfads_all_finite(const real *x, size_t n);

#endif
