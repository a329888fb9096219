/* Spike counts that are already binned: an HDF5 file with a 3-D numeric dataset of
 * trials x bins x units (default name "spikes"; another with --group) and the bin width as
 * a `bin_ms` attribute of the dataset or the root. Optional, at the root or beside it:
 *   split       strings, one per trial: train / val / valid / validation / test (none / "" drops it)
 *   heldout     one 0/1 per unit
 *   a condition dataset named by opts->condition (one number or string per trial)
 * The output bin width must be a whole multiple of the file's: k consecutive bins are summed
 * (a trailing remainder of fewer than k bins is dropped, with a warning). opts->has_window
 * selects [win_start_ms, win_end_ms) from each trial's start (multiples of the output bin);
 * forward-prediction bins follow the window, or are the trial's last fp_bins without one.
 * Counts must be finite, >= 0 and whole. */
#ifndef ND_IO_COUNTS_H
#define ND_IO_COUNTS_H
#include "../core/status.h"
#include "binning.h"
#include "h5x.h"

/* The counts dataset of an open file: `name` if given, else "spikes"; 1 (path copied to out) if it is a
 * rank-3 numeric dataset. */
int nd_counts_detect(nd_h5r *r, const char *name, char *out, size_t cap);
nd_status nd_counts_read(const char *path, const nd_bin_opts *o, nd_binned *b, nd_error *err);

#endif
