/* `neurodyn decode` end to end: the features of one value per trial ({split}_DATASET of an output file, each
 * trial's bins averaged into time chunks by nd_decode_features, the one implementation that nd_decode_arrays of
 * the public API uses too), the target (a per-trial dataset of the data or output file, or a dataset of the
 * original recording picked with the output's {split}_inds), the split to score, and the cross-validated ridge
 * decoding of decode.h. What 'neurodyn decode' runs; the CLI only prints the result. */
#ifndef ND_ANALYSIS_DECODE_FILE_H
#define ND_ANALYSIS_DECODE_FILE_H
#include <stdint.h>
#include "decode.h"

typedef struct {
    const char *out;       /* OUT.h5: the features {split}_{dataset} (from infer or baseline) */
    const char *data;      /* DATA.h5 holding {split}_condition / {split}_NAME targets, or NULL */
    const char *target;    /* "condition", NAME or FILE:DATASET (one value or row per original trial) */
    const char *dataset;   /* the features' name ("output_params") */
    const char *split;     /* "valid" or "test"; NULL (default): test when OUT.h5 has test_{dataset} and the
                              target exists for the test trials, else valid */
    int classify;          /* -1 (default): a classification for target "condition", else a regression; 0; 1 */
    int time_bins;         /* average each trial's bins into K chunks first; 0 (default): keep every bin */
    double alpha_log10_lo, alpha_log10_hi; /* penalties 10^lo .. 10^hi (-2, 6) */
    int n_alphas;          /* log-spaced (17) */
    int folds;             /* CV folds on the train trials (5) */
    int shuffle;           /* 1 (default): folds over a permutation seeded by seed; 0: contiguous folds */
    uint64_t seed;         /* (0) */
} nd_decode_file_opts;
void nd_decode_file_opts_default(nd_decode_file_opts *o);

typedef struct {
    char split[8];          /* the split scored: "valid" or "test" */
    const char *split_why;  /* why, when the split was the default (a static string), else NULL */
    int classify;           /* the kind of decoding done */
    int n_train, n_test, n_features, q;
    int n_alphas;
    double *alphas;         /* [n_alphas] the penalties tried */
    double best_cv;         /* the highest mean CV score (that of r.best_alpha) */
    int alpha_at_edge;      /* the chosen penalty is the first or last of alphas */
    nd_decode_result r;
} nd_decode_file_result;
void nd_decode_file_result_free(nd_decode_file_result *r);

/* ND_ERR_ARG for bad options; ND_ERR_IO / ND_ERR_FORMAT for files and datasets (the message names the file and
 * dataset: missing, wrong shape, non-finite target, splits that differ); errors of nd_decode are prefixed with
 * OUT.h5. On failure r is freed. */
nd_status nd_decode_file(const nd_decode_file_opts *o, nd_decode_file_result *r, nd_error *err);
#endif
