/* MATLAB files in the DataHigh / GPFA convention: a struct array D (or dat) with one element per
 * trial; D(i).data (or dat(i).spikes) is a neurons x time matrix of spike counts in 1-ms bins;
 * the optional D(i).condition (a string or a number) labels the trial's condition.
 *
 *   v7.3 files are HDF5 (MATLAB writes a struct array as a group whose fields are datasets of
 *   object references into /#refs#): read by mat73.c through the HDF5 C API.
 *   v5 files are read by mat.c through Debian's libmatio (libmatio-dev, link -lmatio). mat.c is
 *   the only file that needs libmatio; it references it weakly, so a program linked without
 *   -lmatio still builds and nd_mat5_available() then returns 0.
 *
 * Binning (nd_mat_bin): --bin-ms must be a whole number of ms. Trial i's bin k sums the 1-ms bins
 * [w0 + k*bin, w0 + (k+1)*bin) with the window [w0, w1) in ms from the trial's start (default: the
 * whole trial; all trials must then have the same length, a remainder shorter than a bin is left
 * out with a warning). Trials shorter than the window plus forward-prediction bins are dropped
 * with a warning (an error with opts->strict). Values must be finite whole numbers >= 0.
 * Messages name the element in MATLAB's 1-based notation, e.g. "D(3).data(2,17)". */
#ifndef ND_IO_MAT_H
#define ND_IO_MAT_H
#include <stddef.h>
#include "../core/status.h"
#include "binning.h"

typedef struct {
    int n;            /* trials (struct elements) */
    int N;            /* neurons (rows of every data matrix) */
    int *len;         /* [n] 1-ms bins per trial */
    double **data;    /* [n] column-major N x len[i]: (neuron j, ms t) at j + t * N */
    char **cond;      /* [n] condition labels, or NULL */
    char var[64];     /* struct variable name, e.g. "D" */
    char field[64];   /* data field, e.g. "data" */
    char condfield[64];
} nd_mat_trials;

/* 73 for a v7.3 (HDF5) MAT file, 5 for v5, 4 for an (unsupported) header-less file that is not HDF5,
 * 0 if the file cannot be read. Looks at the 128-byte header only. */
int nd_mat_version(const char *path);
int nd_mat5_available(void);
/* var: NULL tries "D" then "dat"; condfield: NULL uses "condition" when present. */
nd_status nd_mat73_load(const char *path, const char *var, const char *condfield, nd_mat_trials *m, nd_error *err);
nd_status nd_mat5_load(const char *path, const char *var, const char *condfield, nd_mat_trials *m, nd_error *err);
void nd_mat_trials_free(nd_mat_trials *m);
/* The variables of a v5 file, one line each ("D  struct 1x12"), for inspect. */
nd_status nd_mat5_list(const char *path, char ***lines, size_t *n, nd_error *err);
nd_status nd_mat_bin(const nd_mat_trials *m, const char *path, const char *format, const nd_bin_opts *o,
                     nd_binned *b, nd_error *err);
/* MATLAB char data as a new NUL-terminated UTF-8 string (malloc), or NULL when out of memory: n code units
 * of unit_bytes each, 2 (UTF-16, as v5 stores them), 8 (UTF-16 code units stored as doubles, as v7.3
 * reads them) or 1 (one byte each). Code units are encoded one by one (no surrogate pairs). */
char *nd_mat_utf8(const void *units, size_t n, int unit_bytes);
/* load (v7.3 or v5, by header) and bin */
nd_status nd_mat_read(const char *path, const nd_bin_opts *o, nd_binned *b, nd_error *err);

#endif
