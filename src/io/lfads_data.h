/* The LFADS-format HDF5 dataset (see shared/spec/formats.md sections 1 and 2).
 *
 * Datasets read (shapes: trials x time x neurons):
 *   train_data (required), valid_data (optional; if absent train_data is split with a
 *   seeded shuffle), train_truth / valid_truth, train_ext_input / valid_ext_input,
 *   train_inds / valid_inds, conversion_factor (scalar or 1-element array).
 * lfads-torch files: when train_data is absent, train_encod_data / valid_encod_data are
 * used; {split}_recon_data (if present) may add held-out neurons and forward-prediction bins
 * (see Nr, Tr below). They may also have a test split (test_encod_data, its targets in
 * test_recon_data or neurodyn convert's test_recon_data_eval, test_truth, test_ext_input,
 * test_inds), behaviour ({split}_behavior [n][T or Tr][B], finite; test_behavior may be absent: hidden test
 * targets, as in a benchmark's test phase; then test_beh is NULL) and condition ids
 * ({split}_condition, 1-D integers; negative = no condition).
 *
 * Truth is returned in counts per bin: stored truth / conversion_factor (the original
 * LFADS convention: model rates * conversion_factor are comparable to the stored truth,
 * e.g. chaotic-RNN truth in [0, 1] with conversion_factor = 1 / (max_rate * dt)).
 *
 * Optional datasets may be present for one split only: e.g. valid_truth is NULL when the
 * file has train_truth but no valid_truth (ext inputs, however, must be in both or neither).
 *
 * Every validation failure is ND_ERR_FORMAT (ND_ERR_IO for a missing/unreadable file)
 * with one line "<file>: dataset '<name>': <problem>". */
#ifndef ND_IO_LFADS_DATA_H
#define ND_IO_LFADS_DATA_H
#include <stdint.h>
#include "../core/status.h"

typedef struct {
    char path[1024];
    int n_train, n_valid, T, N, E;    /* E = external input dims, 0 if none */
    float *train, *valid;             /* counts [n][T][N] */
    float *train_truth, *valid_truth; /* true rates in counts/bin, or NULL */
    float *train_ext, *valid_ext;     /* [n][T][E] or NULL */
    int *train_inds, *valid_inds;     /* original trial indices, or NULL */
    int valid_from_file;              /* 1 if valid_data was in the file */
    /* lfads-torch layout: what the model reconstructs may have more neurons (held-out, appended after the
     * N held-in ones) and more bins (forward prediction, after the T observed ones) than what the encoder
     * sees. Nr >= N, Tr >= T. When equal, train_recon/valid_recon are NULL: the targets are train/valid.
     * Truth, when present, has the reconstruction's shape; external inputs span Tr bins. */
    int Nr, Tr;
    float *train_recon, *valid_recon; /* [n][Tr][Nr] or NULL */
    double conversion_factor;         /* 1 if absent */
    /* lfads-torch test split (never split off train): n_test = 0 when the file has none. test_recon holds the
     * targets [n_test][Tr][Nr] when the file has them (always a separate copy), else NULL. */
    int n_test;
    float *test, *test_recon, *test_truth, *test_ext;
    int *test_inds;
    /* behaviour [n][Tb][B] (Tb = T or Tr) and condition ids, per split; NULL / B = 0 when absent */
    int B, Tb;
    float *train_beh, *valid_beh, *test_beh;
    int *train_cond, *valid_cond, *test_cond;
    int value_kind; /* internal: which values the data datasets were checked for (see nd_lfads_data_read_values) */
} nd_lfads_data;

/* what the data datasets (*_data, *_encod_data, *_recon_data) may hold: spike counts (whole numbers >= 0; the
 * default, for recon=poisson), non-negative reals (recon=gamma, zig: e.g. deconvolved calcium traces) or any
 * finite reals (recon=gaussian) */
enum { ND_DATA_COUNTS = 0, ND_DATA_NONNEG = 1, ND_DATA_REAL = 2 };

/* Read and validate. When the file has no validation split, trials are split with
 * nd_rng seeded by split_seed: round(n * valid_fraction) trials (at least 1, at most
 * n - 1) go to valid; both sides keep ascending original order; train_inds/valid_inds
 * then hold the original indices (mapped through the file's train_inds if present).
 * valid_fraction must be in (0, 1) when a split is needed (else ND_ERR_ARG).
 * On failure *d is left zeroed (nothing to free). */
nd_status nd_lfads_data_read(const char *path, uint64_t split_seed, double valid_fraction, nd_lfads_data *d,
                             nd_error *err);
/* the same, with the data's values checked as `values` (ND_DATA_*) */
nd_status nd_lfads_data_read_values(const char *path, uint64_t split_seed, double valid_fraction, int values,
                                    nd_lfads_data *d, nd_error *err);
void nd_lfads_data_free(nd_lfads_data *d);
/* reconstruction targets of a split (0 train, 1 valid, 2 test): [n][Tr][Nr]; NULL for a test split
 * without targets */
const float *nd_lfads_recon(const nd_lfads_data *d, int split);

/* The split used when valid_data is absent, exposed for tests and tools: fills
 * is_valid[0..n-1] with 0/1. Returns the number of validation trials, or -1 if n < 2
 * or valid_fraction is not in (0, 1). */
int nd_lfads_split(int n, uint64_t seed, double valid_fraction, unsigned char *is_valid);

#endif
