/* `neurodyn rdm`: the RDM of the patterns of an HDF5 dataset FILE:PATH (rsa.h, data.h), written to HDF5. */
#ifndef ND_ANALYSIS_RDM_FILE_H
#define ND_ANALYSIS_RDM_FILE_H
#include <stddef.h>
#include "../core/status.h"

typedef struct {
    const char *distance;   /* euclidean, correlation (default), mahalanobis, crossnobis */
    const char *conditions; /* FILE:PATH of 1-D integer condition ids per trial, or NULL */
    int average;            /* one pattern per condition (needs conditions) */
    const char *noise;      /* FILE:PATH of a channels x channels noise covariance (mahalanobis, crossnobis) */
    int folds;              /* crossnobis folds; 0: the smallest trial count of a condition */
} nd_rdm_file_opts;
void nd_rdm_file_opts_default(nd_rdm_file_opts *o);

typedef struct {
    int patterns, channels, folds; /* folds: crossnobis only */
    int conditions;                /* 1: the patterns are conditions (condition_ids written) */
    size_t pairs;
    double mean, min, max;         /* of the dissimilarities */
} nd_rdm_file_result;

/* Compute the RDM of spec's patterns and write out (rdm: the upper triangle, rdm_square, condition_ids, attributes
 * distance, source, n_patterns, folds) atomically. ND_ERR_ARG for options that do not go together (the message says
 * which); other errors name the file. */
nd_status nd_rdm_file(const char *spec, const char *out, const nd_rdm_file_opts *o, nd_rdm_file_result *r,
                      nd_error *err);
#endif
