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
 * targets, as in a benchmark's test phase; then split[ND_TEST].beh is NULL) and condition ids
 * ({split}_condition, 1-D integers; negative = no condition).
 *
 * Truth is returned in counts per bin: stored truth / conversion_factor (the original
 * LFADS convention: model rates * conversion_factor are comparable to the stored truth,
 * e.g. chaotic-RNN truth in [0, 1] with conversion_factor = 1 / (max_rate * dt)).
 *
 * Optional datasets may be present for one split only: e.g. split[ND_VALID].truth is NULL when the
 * file has train_truth but no valid_truth (ext inputs, however, must be in both or neither).
 *
 * The file is opened once (one nd_h5r handle, h5x.h) and every dataset is read through it.
 *
 * Every validation failure is ND_ERR_FORMAT (ND_ERR_IO for a missing/unreadable file)
 * with one line "<file>: dataset '<name>': <problem>". */
#ifndef ND_IO_LFADS_DATA_H
#define ND_IO_LFADS_DATA_H
#include <stdint.h>
#include "../core/status.h"

/* The three splits, in this order everywhere: index of nd_lfads_data.split and nd_lfads_recon's split. */
enum { ND_TRAIN = 0, ND_VALID = 1, ND_TEST = 2, ND_NSPLITS = 3 };

/* One split's trials. Every array belongs to the nd_lfads_data that holds it (nd_lfads_data_free frees it);
 * an absent one is NULL. The shapes use the sizes of nd_lfads_data below. */
typedef struct {
    int n;         /* trials; 0 for a test split the file does not have (train and valid always have >= 1) */
    float *counts; /* the encoder's data [n][T][N] (spike counts, or the values ND_DATA_* allowed) */
    float *recon;  /* reconstruction targets [n][Tr][Nr]. train/valid: NULL when Tr == T and Nr == N (the targets
                    * are then `counts`; nd_lfads_recon hides the difference). test: always a separate copy when the
                    * file has targets, NULL when it has none */
    float *truth;  /* true rates in counts/bin [n][Tr][Nr], or NULL */
    float *ext;    /* external inputs [n][Tr][E], or NULL (always NULL when E = 0) */
    float *beh;    /* behaviour [n][Tb][B], or NULL (test: NULL when the targets are hidden) */
    int *inds;     /* original trial indices [n], or NULL */
    int *cond;     /* condition ids [n] (negative = no condition), or NULL */
} nd_lfads_split;

typedef struct {
    char path[1024];
    int T, N, E;                /* observed bins, encoder neurons, external input dims (0 if none) */
    /* lfads-torch layout: what the model reconstructs may have more neurons (held-out, appended after the
     * N held-in ones) and more bins (forward prediction, after the T observed ones) than what the encoder
     * sees. Nr >= N, Tr >= T. Truth, when present, has the reconstruction's shape; external inputs span Tr bins. */
    int Nr, Tr;
    int B, Tb;                  /* behaviour dims and bins (Tb = T or Tr); 0 when no split has behaviour */
    double conversion_factor;   /* 1 if absent */
    int valid_from_file;        /* 1 if valid_data was in the file (else split[ND_VALID] was split off train) */
    /* split[ND_TRAIN], split[ND_VALID] and split[ND_TEST]. The lfads-torch test split is never split off
     * train: split[ND_TEST].n = 0 when the file has none. */
    nd_lfads_split split[ND_NSPLITS];
    int value_kind; /* internal: which values the data datasets were checked for (see nd_lfads_data_read_values) */
} nd_lfads_data;

/* what the data datasets (*_data, *_encod_data, *_recon_data) may hold: spike counts (whole numbers >= 0; the
 * default, for recon=poisson), non-negative reals (recon=gamma, zig: e.g. deconvolved calcium traces) or any
 * finite reals (recon=gaussian) */
enum { ND_DATA_COUNTS = 0, ND_DATA_NONNEG = 1, ND_DATA_REAL = 2 };

/* Read and validate. When the file has no validation split, trials are split with
 * nd_rng seeded by split_seed: round(n * valid_fraction) trials (at least 1, at most
 * n - 1) go to valid; both sides keep ascending original order; split[ND_TRAIN/ND_VALID].inds
 * then hold the original indices (mapped through the file's train_inds if present).
 * valid_fraction must be in (0, 1) when a split is needed (else ND_ERR_ARG).
 * On failure *d is left zeroed (nothing to free). */
nd_status nd_lfads_data_read(const char *path, uint64_t split_seed, double valid_fraction, nd_lfads_data *d,
                             nd_error *err);
/* the same, with the data's values checked as `values` (ND_DATA_*) */
nd_status nd_lfads_data_read_values(const char *path, uint64_t split_seed, double valid_fraction, int values,
                                    nd_lfads_data *d, nd_error *err);
void nd_lfads_data_free(nd_lfads_data *d);
/* reconstruction targets of a split (ND_TRAIN, ND_VALID, ND_TEST): [n][Tr][Nr]; NULL for a test split
 * without targets (or a split index outside 0..2) */
const float *nd_lfads_recon(const nd_lfads_data *d, int split);

/* The split used when valid_data is absent, exposed for tests and tools: fills
 * is_valid[0..n-1] with 0/1. Returns the number of validation trials, or -1 if n < 2
 * or valid_fraction is not in (0, 1). */
int nd_lfads_valid_mask(int n, uint64_t seed, double valid_fraction, unsigned char *is_valid);

#endif
