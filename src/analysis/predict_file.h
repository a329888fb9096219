/* `neurodyn predict`: cross-validated predictivity of one HDF5 dataset FILE:PATH from another (predict.h on
 * matrices loaded by data.h), with an optional split-half noise ceiling. */
#ifndef ND_ANALYSIS_PREDICT_FILE_H
#define ND_ANALYSIS_PREDICT_FILE_H
#include "compare_file.h"
#include "predict.h"

typedef struct {
    nd_predict_opts map;     /* PLS (default) or ridge, folds, seed (nd_predict_opts_default) */
    const char *ceiling;     /* FILE:PATH of a second repeat of the neurons' responses, or NULL */
    const char *conditions;  /* FILE:PATH of 1-D integer condition ids per trial, or NULL */
    int average;             /* average the trials of each condition first (needs conditions) */
} nd_predict_file_opts;
void nd_predict_file_opts_default(nd_predict_file_opts *o);

/* Predict y's units from x's (FILE:PATH each); r gets the JSON tree (per-neuron r, ceiling), the text and the median
 * r as score (free with nd_compare_file_result_free). ND_ERR_ARG for bad options; other errors name the files. */
nd_status nd_predict_files(const char *x, const char *y, const nd_predict_file_opts *o, nd_compare_file_result *r,
                           nd_error *err);
#endif
