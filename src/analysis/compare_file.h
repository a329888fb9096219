/* `neurodyn compare`: representational similarity of two HDF5 datasets FILE:PATH (compare.h, rsa.h on matrices
 * loaded by data.h), as a JSON tree and the lines the CLI prints. */
#ifndef ND_ANALYSIS_COMPARE_FILE_H
#define ND_ANALYSIS_COMPARE_FILE_H
#include <cjson/cJSON.h>
#include <stdint.h>
#include "rsa.h"
#include "../core/status.h"

typedef struct {
    const char *method;  /* cca, svcca, pwcca, cka (default), cka-rbf, cka-debiased, procrustes, rsa */
    double alpha;        /* procrustes: partial whitening in [0, 1] (1) */
    double eps;          /* cca/svcca/pwcca: covariance regularisation relative to the largest variance */
    double keep;         /* svcca: fraction of variance kept per side */
    double threshold;    /* cka-rbf: bandwidth factor */
    int rbf_kernel;      /* cka-debiased: 1 = rbf kernel, 0 = linear (default) */
    int max_samples;     /* n x n methods: a seeded random subset of at most this many samples (5000) */
    uint64_t seed;       /* of that subset (0) */
    nd_rdm_distance rdm_distance;       /* rsa: correlation (default) or euclidean */
    nd_rdm_compare_method rdm_compare;  /* rsa: spearman (default), ... */
    const char *conditions;  /* FILE:PATH of 1-D integer condition ids per trial, or NULL */
    int average;             /* average the trials of each condition first (needs conditions) */
} nd_compare_file_opts;
void nd_compare_file_opts_default(nd_compare_file_opts *o);

typedef struct {
    cJSON *json;  /* method, a, b, samples, units, score and the method's details (what --json prints) */
    char *text;   /* the result as lines of text */
    double score;
} nd_compare_file_result;

/* Compare a and b (FILE:PATH each). ND_ERR_ARG: bad options or specs (unknown method, ...); other codes name the
 * file (ND_ERR_IO, ND_ERR_FORMAT for different sample counts, ND_ERR_NUMERIC for degenerate data). */
nd_status nd_compare_files(const char *a, const char *b, const nd_compare_file_opts *o, nd_compare_file_result *r,
                           nd_error *err);
void nd_compare_file_result_free(nd_compare_file_result *r);
#endif
