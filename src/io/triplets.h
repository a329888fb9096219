/* Spike times as (time, unit, trial) triplets in HDF5: three 1-D datasets of equal length,
 * time_ms (any numeric type, ms from the trial's start), neuron and trial (whole numbers >= 0),
 * under a group (default "spike_times"; "/" for datasets at the root).
 *
 * Trials: 0 .. max(trial) (or opts->n_trials); units: 0 .. max(neuron). Every trial spans
 * [0, D): D = opts->trial_ms, else the largest spike time rounded up to a whole bin, i.e.
 * (floor(max_t / bin) + 1) * bin — the smallest whole number of bins holding every spike
 * (a spike at exactly k * bin opens bin k, so 1999 ms at 20 ms bins gives 2000 ms, 2000 ms
 * gives 2020 ms). The window (default [0, D), whose last fp bins are then the forward-prediction
 * bins; with a window they follow it) plus forward-prediction bins must lie in [0, D];
 * spikes outside the window are not counted (spikes before 0 ms are reported in a warning).
 * opts->condition names a dataset with one value per trial (looked up in the group, then at the
 * root), e.g. a stimulus id. */
#ifndef ND_IO_TRIPLETS_H
#define ND_IO_TRIPLETS_H
#include "../core/status.h"
#include "binning.h"
#include "h5x.h"

/* The group holding time_ms / neuron / trial in an open file: `group` if given, else "spike_times", else
 * the root. Copies it into out (cap bytes) and returns 1, or 0 if there is none. */
int nd_triplets_detect(nd_h5r *r, const char *group, char *out, size_t cap);
nd_status nd_triplets_read(const char *path, const nd_bin_opts *o, nd_binned *b, nd_error *err);
/* Condition ids of b's b->n trials from a 1-D dataset (numbers or strings) named `name`, looked up in
 * `group`, then at the root; sets b->condition, condition_names and condition_source. */
nd_status nd_binned_read_condition(nd_h5r *r, const char *path, const char *group, const char *name, nd_binned *b,
                                   nd_error *err);

#endif
