/* Spike binning and trial alignment shared by the NWB, MATLAB and triplet readers, and the
 * binned dataset they all produce (which convert.h writes in the lfads-torch layout).
 *
 * Binning rule (the one the Neural Latents Benchmark tools use): a trial's bin k counts the
 * spikes with time in [t0 + k*bin, t0 + (k+1)*bin), t0 = event time + window start. Times are
 * compared on an integer nanosecond clock: t -> llround(t * 1e9) for seconds (1e6 for ms),
 * so spikes placed exactly on a bin edge fall in the bin that starts there, and decimal
 * times like 0.1 + 0.2 do not slip into the previous bin by floating-point error
 * (nlb_tools likewise rounds times to 1e-6 ms before truncating them to bin indices).
 *
 * Behaviour is linearly interpolated at each bin's start (default; nlb_tools keeps the sample
 * at each bin's start time of its bin grid) or centre, plus an optional lag. */
#ifndef ND_IO_BINNING_H
#define ND_IO_BINNING_H
#include <stddef.h>
#include <stdint.h>
#include "../core/status.h"

typedef struct {
    double bin_ms;                   /* bin width in ms (> 0, a whole number of ns) */
    const char *align;               /* NWB: event column of /intervals/trials; NULL: trial start_time */
    int has_window;                  /* 1: [win_start_ms, win_end_ms) relative to the event / trial start */
    double win_start_ms, win_end_ms; /* NWB: required with align; default: the whole trial */
    int fp_bins;                     /* forward-prediction bins after the window (>= 0) */
    const char *behavior;            /* NWB TimeSeries name under /processing/behavior or an absolute path;
                                        NULL: hand_vel if present; "none": no behaviour */
    double behavior_lag_ms;          /* behaviour of bin k is taken at bin time + lag */
    int behavior_center;             /* 0: bin start (default), 1: bin centre */
    const char *condition;           /* NWB: trial column(s) "a,b"; MAT: struct field (default "condition");
                                        triplets: a dataset with one value per trial; NULL: default / none */
    const char *group;               /* triplets: group holding time_ms/neuron/trial (default "spike_times");
                                        MAT: the struct-array variable (default "D", else "dat") */
    int n_trials;                    /* triplets: number of trials (0: max(trial) + 1) */
    double trial_ms;                 /* triplets: trial duration in ms (0: max spike time rounded up to a bin) */
    int strict;                      /* 1: trials that would be dropped are errors instead */
    int allow_outside_trial;         /* NWB: windows may extend beyond [start_time, stop_time] */
    int grid_align;                  /* NWB: move each window start up to the next multiple of bin_ms on the
                                        recording clock, as nlb_tools' make_trial_data does */
} nd_bin_opts;

void nd_bin_opts_default(nd_bin_opts *o);

/* What every reader produces: trials x bins x units counts plus what is known about them. */
typedef struct {
    char source[1024];       /* input file */
    char format[32];         /* "nwb", "mat-v7.3", "mat-v5", "triplets" */
    int n;                   /* trials kept */
    int T;                   /* observed bins (the window) */
    int fp;                  /* forward-prediction bins after them */
    int N;                   /* units, in the file's order */
    int B;                   /* behaviour dimensions (0: none) */
    float *counts;           /* [n][T + fp][N] */
    float *behavior;         /* [n][T][B] or NULL */
    char behavior_name[1024]; /* the TimeSeries path */
    int *trial_ids;          /* [n] original trial index (row of the trials table, struct index, trial number) */
    int n_source_trials;     /* trials in the file before any was dropped */
    int *condition;          /* [n] condition ids 0..n_conditions-1 (first-appearance order), or NULL */
    char **condition_names;  /* [n_conditions] */
    int n_conditions;
    char condition_source[1024];
    signed char *split;      /* [n] from the file: 0 train, 1 valid, 2 test; or NULL */
    char split_source[1024];
    unsigned char *heldout;  /* [N] from the file (1 = held out), or NULL */
    char heldout_source[1024];
    int64_t *unit_ids;       /* [N] the file's unit ids, or NULL */
    double window_start_ms, window_end_ms; /* effective window (relative to event / trial start) */
    char align[256];         /* the event aligned to ("" = trial start) */
    unsigned char no_test_targets;  /* test trials' held-out neurons / forward bins are unknown (zeros here) */
    unsigned char no_test_behavior; /* test trials' behaviour is unknown (zeros here): not written */
    char **warnings;         /* one-line warnings (trials dropped, empty units, ...) */
    int n_warnings;
} nd_binned;

/* Allocate counts (zeroed), trial_ids and (B > 0) behaviour. */
nd_status nd_binned_alloc(nd_binned *b, int n, int T, int fp, int N, int B, nd_error *err);
void nd_binned_free(nd_binned *b);
void nd_binned_warn(nd_binned *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Condition ids from one key string per kept trial: ids in order of first appearance. */
nd_status nd_binned_set_conditions(nd_binned *b, char *const *keys, nd_error *err);

/* ---------- primitives ---------- */
#define ND_TIME_NS_MAX ((int64_t)1 << 61)
int64_t nd_time_ns(double t, double ns_per_unit);      /* llround(t * ns_per_unit), clamped to +-ND_TIME_NS_MAX */
int64_t nd_floor_div64(int64_t a, int64_t b);          /* b > 0 */
/* Bin index of time t (in units with ns_per_unit) relative to t0_ns: floor((ns(t) - t0_ns) / bin_ns). */
int64_t nd_bin_index(double t, double ns_per_unit, int64_t t0_ns, int64_t bin_ns);
/* Count ascending spike times into nbins bins starting at t0_ns: out[k * stride] += 1.
 * Returns the number of spikes counted. */
size_t nd_bin_sorted(const double *t, size_t n, double ns_per_unit, int64_t t0_ns, int64_t bin_ns, int nbins,
                     float *out, size_t stride);
/* Linear interpolation of x ([n][B], at non-decreasing times ts) at time t into out[0..B-1].
 * Returns 0, or -1 if t is outside [ts[0], ts[n-1]] or the result is not finite. */
int nd_interp_linear(const double *ts, const double *x, size_t n, int B, double t, float *out);

/* "-250:450" -> start, end (ms). 0 on success. */
int nd_parse_window(const char *s, double *start, double *end);

#endif
