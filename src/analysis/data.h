/* Loading analysis inputs from HDF5: "FILE:DATASET" specs read as double matrices
 * (samples x features), flattening 3-D arrays or averaging them per condition.
 * Used by the compare / rdm / predict commands. Conventions as in pca.h. */
#ifndef ND_ANALYSIS_DATA_H
#define ND_ANALYSIS_DATA_H
#include <stddef.h>
#include "../core/status.h"

typedef enum {
    /* 3-D trials x time x units -> (trials * time) x units: one sample per time bin (CCA, CKA, predictivity) */
    ND_LAYOUT_SAMPLES,
    /* 3-D trials x time x units -> trials x (time * units): one pattern per trial, the whole trajectory (RSA) */
    ND_LAYOUT_PATTERNS
} nd_layout;

typedef struct {
    double *x;          /* [rows x cols] row-major */
    int rows, cols;
    int rank;           /* rank of the dataset as stored (1, 2 or 3) */
    int trials, T, units; /* its shape: trials x T x units (T = 1 for 2-D; units = 1 for 1-D) */
    int n_cond;         /* > 0 when averaged per condition: rows are conditions (x T for SAMPLES) */
    int *cond_ids;      /* [n_cond] condition ids, ascending (averaged only) */
    int *cond_count;    /* [n_cond] trials per condition (averaged only) */
    int *trial_cond;    /* [trials] condition id of every trial (when conditions were given) */
} nd_amatrix;

/* Split "FILE:DATASET" at the last ':' (the dataset may contain '/'). ND_ERR_ARG if there is
 * no ':' or either part is empty. */
nd_status nd_split_spec(const char *spec, char *file, size_t fcap, char *dset, size_t dcap, nd_error *err);

/* Read spec (any numeric type, via nd_h5_read_float) as a matrix in the given layout.
 * Rank 1 -> n x 1, rank 2 -> as stored, rank 3 -> see nd_layout; other ranks, NaN/Inf and
 * empty datasets fail with one line naming the file, the dataset and the problem.
 * cond_spec (may be NULL): "FILE:DATASET" of a 1-D integer dataset with one condition id
 * per trial (first axis). average != 0 (needs cond_spec) averages the trials of each
 * condition; conditions are ordered by ascending id. Free with nd_amatrix_free. */
nd_status nd_load_matrix(const char *spec, const char *cond_spec, int average, nd_layout layout, nd_amatrix *m,
                         nd_error *err);
void nd_amatrix_free(nd_amatrix *m);

/* The same from an array in memory: a [dims[0]][dims[1]][dims[2]] (rank 1..3) read as nd_load_matrix reads a file's
 * dataset; trial_cond (may be NULL; copied) one condition id per trial (dims[0]); what names the array in messages
 * ("FILE: dataset 'D'", "x"). */
nd_status nd_amatrix_from_floats(const float *a, int rank, const size_t *dims, const char *what,
                                 const int *trial_cond, int average, nd_layout layout, nd_amatrix *m, nd_error *err);

/* Keep the rows idx[0..k-1] of m (in that order), in place (rows becomes k). */
void nd_amatrix_take_rows(nd_amatrix *m, const int *idx, int k);

/* Patterns per cross-validation fold for crossnobis, from a NOT averaged matrix with
 * trial_cond (rows = trials): the j-th trial (in file order) of each condition goes to fold
 * j % F and a fold's pattern is the mean of its trials. F = n_folds, or when n_folds <= 0
 * the smallest number of trials of any condition (rsatoolbox's default: j-th repeat = fold j
 * when every condition has the same count). Every condition needs >= F >= 2 trials.
 * out [F x n_cond x cols] (nd_alloc; free with nd_free); ids [n_cond] (nd_alloc). */
nd_status nd_fold_patterns(const nd_amatrix *m, int n_folds, double **out, int *F, int *n_cond, int **ids,
                           nd_error *err);

#endif
