/* From a recording to an lfads-torch HDF5 file: format detection, held-out neuron and
 * train / valid / test selection, and the writer.
 *
 * Output datasets (float32 counts; [trials][bins][neurons]):
 *   {train,valid,test}_encod_data  held-in neurons, the T observed bins
 *   {train,valid}_recon_data       held-in neurons then held-out neurons (held-in FIRST) along the last
 *                                  axis, and the T observed bins followed by the fp forward-prediction bins:
 *                                  [n][T + fp][N_in + N_out]; recon_data[:, :T, :N_in] == encod_data
 *   test_recon_data_eval           the same full target for test trials, only with keep_test_targets
 *                                  (lfads-torch semantics: test trials carry encod_data only; their
 *                                  held-out neurons and forward bins are what evaluation scores)
 *   {split}_behavior               [n][T][B] behaviour at the observed bins (when the input has it)
 *   {split}_inds                   int32 original trial index (row of the NWB trials table, 0-based
 *                                  struct-array element, triplet trial number)
 *   {split}_condition              int32 condition id (when known; names in the condition_names attribute)
 *   heldin_neurons, heldout_neurons  int32 original unit indices (0-based position in the input), ascending
 *   unit_ids                       int64 NWB /units/id of every unit (input order), when present
 * A split with no trials is not written.
 * Root attributes: bin_ms, align_event ("" = trial start), window_start_ms, window_end_ms, window_ms
 * ("START:END"), fp_bins, seed, source_file, source_format, valid_fraction, test_fraction,
 * heldout_fraction, split_source, heldout_source, behavior ("" if none), behavior_at ("bin start" /
 * "bin centre"), behavior_lag_ms, condition_source, condition_names (one per line, id order),
 * n_source_trials, n_dropped_trials, converted_by.
 *
 * Selection (seeded, nd_rng):
 *   held-out neurons: the input's heldout column if it has one (unless ignore_file_heldout), else
 *     round(N * heldout_fraction) units (at least 1 when the fraction is > 0, at most N - 1) drawn with
 *     nd_rng_stream(seed, 2, 0).
 *   splits: the input's split column if it has one (unless ignore_file_split; trials it marks -2 form a pool
 *     from which round(pool * valid_fraction) valid trials are drawn with nd_rng_stream(seed, 1, 0), the rest
 *     train), else a shuffle with
 *     nd_rng_stream(seed, 1, 0): the first round(n * test_fraction) trials go to test, the next
 *     round(n * valid_fraction) to valid (each at least 1 when its fraction is > 0), the rest to train,
 *     which must keep at least one trial. Every split keeps the trials' original order. */
#ifndef ND_IO_CONVERT_H
#define ND_IO_CONVERT_H
#include <stdint.h>
#include "../core/status.h"
#include "binning.h"

typedef enum {
    ND_FMT_UNKNOWN = 0,
    ND_FMT_NWB,
    ND_FMT_MAT73,
    ND_FMT_MAT5,
    ND_FMT_TRIPLETS,
    ND_FMT_COUNTS,   /* already binned: a 3-D 'spikes' dataset (counts.h) */
    ND_FMT_NLB,      /* nlb_tools' tensors: train_spikes_heldin, ... (nlb.h) */
    ND_FMT_LFADS_TORCH,
    ND_FMT_LFADS,
    ND_FMT_HDF5 /* some other HDF5 file */
} nd_format;

/* Detect the format of a file. group: the triplets group to look for (NULL = default).
 * ND_FMT_UNKNOWN with err filled when the file cannot be read or is neither HDF5 nor MATLAB. */
nd_format nd_detect_format(const char *path, const char *group, nd_error *err);
const char *nd_format_name(nd_format f);

/* Read and bin any supported recording (NWB, MATLAB v7.3 / v5, triplets, binned counts). */
nd_status nd_read_binned(const char *path, const nd_bin_opts *o, nd_binned *b, nd_error *err);

typedef struct {
    double valid_fraction;   /* 0.2 */
    double test_fraction;    /* 0 */
    double heldout_fraction; /* 0 */
    uint64_t seed;           /* 0 */
    int ignore_file_split;   /* use the fractions even when the input has a split column */
    int ignore_file_heldout; /* use heldout_fraction even when the input has a heldout column */
    int keep_test_targets;   /* write test_recon_data_eval */
} nd_convert_opts;

void nd_convert_opts_default(nd_convert_opts *o);

typedef struct {
    int n_heldin, n_heldout;
    int *heldin, *heldout; /* ascending unit indices */
    signed char *split;    /* [n] 0 train, 1 valid, 2 test */
    int count[3];
    char split_source[1024], heldout_source[1024];
} nd_assignment;

nd_status nd_convert_assign(const nd_binned *b, const nd_convert_opts *o, nd_assignment *a, nd_error *err);
void nd_assignment_free(nd_assignment *a);

/* Write `out` atomically (nd_h5_create / nd_h5_close). bo: the options used to bin (for attributes). */
nd_status nd_convert_write(const nd_binned *b, const nd_assignment *a, const nd_bin_opts *bo,
                           const nd_convert_opts *o, const char *out, nd_error *err);

#endif
