/* jPCA of an output file, end to end: reads {split}_{dataset} [trials][bins][units] of an infer output, the
 * condition id of every trial ({split}_condition of the data file, or any 1-D integer dataset FILE:PATH), averages
 * the trials of each condition and runs nd_jpca (jpca.h); the HDF5 writer of the results is here too. What
 * 'neurodyn jpca' runs. */
#ifndef ND_ANALYSIS_JPCA_FILE_H
#define ND_ANALYSIS_JPCA_FILE_H
#include "jpca.h"

typedef struct {
    const char *out;        /* the outputs (infer's, or a data file for its latents / truth) */
    const char *data;       /* the data file: {split}_condition, bin_ms */
    const char *split;      /* "train" or "valid" */
    const char *dataset;    /* analyse {split}_{dataset} of out ("factors") */
    const char *conditions; /* "FILE:PATH" of the condition ids instead of data's {split}_condition, or NULL */
    double bin_ms;          /* > 0: the bin width; else data's bin_ms attribute, else unknown (-1) */
    nd_jpca_opts jpca;
} nd_jpca_file_opts;
void nd_jpca_file_opts_default(nd_jpca_file_opts *o);

typedef struct {
    char name[256];   /* out's dataset analysed ("valid_factors") */
    int n, T, F, C;   /* trials, bins, units, conditions */
    int cmin, cmax;   /* fewest and most trials of a condition */
    int *ids;         /* [C] condition ids, ascending */
    double *avg;      /* [C][T][F] condition means */
    double bin_ms;    /* -1 when unknown */
    nd_jpca_result r;
} nd_jpca_file_result;
void nd_jpca_file_result_free(nd_jpca_file_result *r);

/* ND_ERR_ARG: the window or dims do not fit the data; ND_ERR_FORMAT / ND_ERR_IO: files and datasets (named). */
nd_status nd_jpca_file(const nd_jpca_file_opts *o, nd_jpca_file_result *r, nd_error *err);
/* The part after reading: fac [n][T][F] and cond [n] (condition id per trial) -> x->ids, x->avg (condition means),
 * x->r (nd_jpca); x->name and x->bin_ms are left empty. The labels name the inputs in messages: lab_nan ("FILE:
 * dataset 'D'"), lab_spec ("FILE:D") and lab_cond (the condition ids). On failure x is freed. */
nd_status nd_jpca_average_run(const float *fac, int n, int T, int F, const int *cond, const nd_jpca_opts *jo,
                              const char *lab_nan, const char *lab_spec, const char *lab_cond, nd_jpca_file_result *x,
                              nd_error *err);
/* proj, M_skew, M_best, jpcs, pcs, plane_basis, eigenvalues, variance shares, R^2s, norm_scale, condition_mean and
 * condition_ids, and root attributes (r2_skew, r2_best, pca_var_frac, t_start, t_end as integers, source, dataset,
 * convention) to a new HDF5 file, atomically. */
nd_status nd_jpca_file_write(const char *path, const nd_jpca_file_result *r, const char *source, nd_error *err);

#endif
