/* NWB 2.x (Neurodata Without Borders) reader, through the HDF5 C API.
 *
 * Read:
 *   /units/spike_times (seconds, all units concatenated) + /units/spike_times_index (END offset
 *   of each unit: unit i's spikes are [index[i-1], index[i])); optional /units/obs_intervals
 *   ([k][2] seconds) + /units/obs_intervals_index, /units/heldout (boolean), /units/id.
 *   /intervals/trials: start_time, stop_time, event columns (float seconds, NaN allowed),
 *   optional split (strings train / val / test / none), condition columns.
 *   Behaviour: a TimeSeries group with data ([n] or [n][B]) and timestamps ([n]) or
 *   starting_time (scalar, attribute rate in Hz); data attributes conversion / offset are applied.
 *
 * Trial cutting (nd_nwb_read): t0 = event time (--align column, else start_time) + window start;
 * bins as in binning.h. Trials are dropped, with one warning line per reason giving the count
 * and the first trial (or, with opts->strict, the first such trial is an error):
 *   - event time NaN (nlb_tools also drops these);
 *   - window (including forward-prediction bins) not inside [start_time, stop_time]
 *     (unless opts->allow_outside_trial);
 *   - window not inside an observation interval of every unit that has obs_intervals;
 *   - behaviour samples not covering every bin time, or NaN behaviour there;
 *   - split value 'none'.
 * Without a window every trial spans [start_time, stop_time) and all must have the same whole
 * number of bins, else an error asks for --window; forward-prediction bins are then the trial's
 * last fp bins. With a window they follow it: [window end, window end + fp * bin).
 * If no trial is left, that is an error. opts->condition: trials columns (comma-separated; string
 * or numeric), whose value combinations become condition ids. */
#ifndef ND_IO_NWB_H
#define ND_IO_NWB_H
#include <stdint.h>
#include "../core/status.h"
#include "binning.h"
#include "h5x.h"

typedef struct {
    int N;                  /* units */
    size_t n_spikes;
    double *times;          /* [n_spikes] seconds, sorted within each unit */
    int64_t *end;           /* [N] end offsets into times */
    int64_t *ids;           /* [N] /units/id or NULL */
    unsigned char *heldout; /* [N] or NULL */
    size_t n_obs;
    double *obs;            /* [n_obs][2] or NULL */
    int64_t *obs_end;       /* [N] end offsets into obs, or NULL */
} nd_nwb_units;

typedef struct {
    int n;          /* trials */
    double *start;  /* [n] seconds */
    double *stop;   /* [n] */
    char **columns; /* names of the other numeric 1-D columns with n rows (event times etc.) */
    int n_columns;
    int has_split;
} nd_nwb_trials;

/* 1 if the open file looks like NWB (root attribute nwb_version, or neurodata_type NWBFile, or /units). */
int nd_nwb_detect(nd_h5r *r);
/* Validate and read /units (errors: missing group, ragged / decreasing index, unsorted or NaN
 * spike times, wrong dtypes, bad heldout values). */
nd_status nd_nwb_units_read(nd_h5r *r, nd_nwb_units *u, nd_error *err);
void nd_nwb_units_free(nd_nwb_units *u);
nd_status nd_nwb_trials_read(nd_h5r *r, nd_nwb_trials *t, nd_error *err);
void nd_nwb_trials_free(nd_nwb_trials *t);

/* Cut and bin (see above). b is zeroed first; on failure nothing is left to free. */
nd_status nd_nwb_read(const char *path, const nd_bin_opts *o, nd_binned *b, nd_error *err);

#endif
