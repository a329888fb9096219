/* What `neurodyn infer` runs: a run directory (or checkpoint) on a data file, outputs written to HDF5. */
#ifndef ND_MODELS_INFER_RUN_H
#define ND_MODELS_INFER_RUN_H
#include <stdio.h>
#include "lfads_infer.h"

/* which values the data datasets may hold for reconstruction model `recon` (ND_DATA_* of src/io/lfads_data.h) */
int nd_lfads_data_values(int recon);

/* Read data_path as model m (loaded from ckpt) was trained on it (its split seed, valid fraction and the values its
 * recon takes), find a stitched model's session (session > 0: that one, 1-based; else by the file's name) and check
 * the checkpoint's data fingerprint (allow_mismatch: accept other trials of the same session; notes go to `notes`,
 * may be NULL). out (may be NULL) gets the data, for the caller to free (nd_lfads_data_free). */
nd_status nd_lfads_run_data(const char *ckpt, const nd_lfads_model *m, const char *data_path, int session,
                            int allow_mismatch, FILE *notes, nd_lfads_data *out, nd_error *err);

/* Resolve run (a run directory: best.ckpt, else last.ckpt; or a checkpoint), read data_path as the model was trained
 * on it (its split seed, valid fraction and the values its recon takes), check the checkpoint's data fingerprint
 * (allow_mismatch: accept other trials of the same session; notes go to `notes`, may be NULL), find a stitched
 * model's session (o->session, else by the file's name), infer every split and write out_path atomically. */
nd_status nd_lfads_infer_run(const char *run, const char *data_path, const char *out_path, const nd_infer_opts *o,
                             int allow_mismatch, FILE *notes, nd_error *err);
#endif
