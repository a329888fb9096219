/* libFuzzer harness: the NWB 2.x reader (src/io/nwb.c on src/io/h5x.c, binning in src/io/binning.c).
 * Each input (an HDF5 file, written to a tmpfs file) is read
 *   1. with nd_h5r_open + nd_nwb_detect, nd_nwb_units_read, nd_nwb_trials_read (each part on its own,
 *      so a broken trials table does not hide the units code);
 *   2. with nd_nwb_read and the default options (whole trials, 20 ms bins); a successful read is then
 *      converted as 'neurodyn convert' does (nd_convert_assign + nd_convert_write, 30% held-out units)
 *      and the lfads-torch file read back with nd_lfads_data_read (shapes must match);
 *   3. with nd_nwb_read aligned to the 'go_cue' column, window -100:200 ms, 2 forward-prediction bins,
 *      conditions from 'cond', behaviour hand_vel at bin centres with a 10 ms lag, grid alignment.
 * Seeds: fuzz/corpus/fuzz_nwb (made by fuzz/make_seeds.c). */
#define ND_FUZZ_HDF5
#define ND_FUZZ_CONVERT
#include "binned_check.h"
#include "io/nwb.h"

static void check_units(const nd_nwb_units *u) {
    if (u->N < 1 || !u->end) nd_fuzz_bug("units: N %d end %p", u->N, (void *)u->end);
    int64_t prev = 0;
    for (int k = 0; k < u->N; k++) {
        if (u->end[k] < prev || (uint64_t)u->end[k] > u->n_spikes)
            nd_fuzz_bug("units: end[%d] = %lld (previous %lld, %zu spikes)", k, (long long)u->end[k], (long long)prev,
                        u->n_spikes);
        prev = u->end[k];
    }
    nd_fuzz_touch(u->times, u->n_spikes * sizeof *u->times);
    for (size_t i = 0; i < u->n_spikes; i++)
        if (!isfinite(u->times[i])) nd_fuzz_bug("units: spike time %zu = %g", i, u->times[i]);
    if (u->ids) nd_fuzz_touch(u->ids, (size_t)u->N * sizeof *u->ids);
    if (u->heldout) nd_fuzz_touch(u->heldout, (size_t)u->N);
    if (u->obs) nd_fuzz_touch(u->obs, u->n_obs * 2 * sizeof *u->obs);
    if (u->obs_end) {
        prev = 0;
        for (int k = 0; k < u->N; k++) {
            if (u->obs_end[k] < prev || (uint64_t)u->obs_end[k] > u->n_obs)
                nd_fuzz_bug("units: obs_end[%d] = %lld (%zu intervals)", k, (long long)u->obs_end[k], u->n_obs);
            prev = u->obs_end[k];
        }
    }
}

static void check_trials(const nd_nwb_trials *t) {
    if (t->n < 1 || !t->start || !t->stop) nd_fuzz_bug("trials: n %d", t->n);
    nd_fuzz_touch(t->start, (size_t)t->n * sizeof *t->start);
    nd_fuzz_touch(t->stop, (size_t)t->n * sizeof *t->stop);
    if (t->n_columns < 0 || (t->n_columns > 0 && !t->columns)) nd_fuzz_bug("trials: %d columns", t->n_columns);
    for (int c = 0; c < t->n_columns; c++) nd_fuzz_touch(t->columns[c], strlen(t->columns[c]));
}

static void read_parts(const char *path) {
    nd_h5r *r = NULL;
    nd_error err = {ND_OK, {0}};
    nd_status st = nd_h5r_open(path, &r, &err);
    if (st) {
        nd_fuzz_check_error(st, &err, "nd_h5r_open");
        if (r) nd_fuzz_bug("nd_h5r_open failed but returned a handle");
        return;
    }
    (void)nd_nwb_detect(r);
    nd_nwb_units u;
    memset(&u, 0, sizeof u);
    st = nd_nwb_units_read(r, &u, &err);
    if (st == ND_OK) check_units(&u);
    else nd_fuzz_check_error(st, &err, "nd_nwb_units_read");
    nd_nwb_units_free(&u);
    nd_nwb_trials t;
    memset(&t, 0, sizeof t);
    nd_error e2 = {ND_OK, {0}};
    st = nd_nwb_trials_read(r, &t, &e2);
    if (st == ND_OK) check_trials(&t);
    else nd_fuzz_check_error(st, &e2, "nd_nwb_trials_read");
    nd_nwb_trials_free(&t);
    nd_h5r_close(r);
}

static void read_binned(const char *path, const nd_bin_opts *o, const char *what, int convert) {
    nd_binned b;
    memset(&b, 0x5a, sizeof b); /* the reader must zero it */
    nd_error err = {ND_OK, {0}};
    nd_status st = nd_nwb_read(path, o, &b, &err);
    nd_fuzz_h5_check_closed(what);
    if (st == ND_OK) {
        nd_fuzz_report(what, st, &err);
        nd_fuzz_check_binned(&b);
        if (convert) nd_fuzz_convert_roundtrip(&b, o);
        nd_binned_free(&b);
    } else {
        nd_fuzz_check_error(st, &err, what);
        nd_fuzz_check_binned_empty(&b, what);
    }
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    nd_fuzz_h5_init();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *path = nd_fuzz_path(".nwb");
    nd_fuzz_write(path, data, size);
    read_parts(path);
    nd_fuzz_h5_check_closed("nd_nwb_units_read / nd_nwb_trials_read");

    nd_bin_opts o;
    nd_bin_opts_default(&o);
    o.bin_ms = 20;
    read_binned(path, &o, "nd_nwb_read (defaults)", 1);

    nd_bin_opts a;
    nd_bin_opts_default(&a);
    a.bin_ms = 10;
    a.align = "go_cue";
    a.has_window = 1;
    a.win_start_ms = -100;
    a.win_end_ms = 200;
    a.fp_bins = 2;
    a.condition = "cond";
    a.behavior = "hand_vel";
    a.behavior_center = 1;
    a.behavior_lag_ms = 10;
    a.grid_align = 1;
    read_binned(path, &a, "nd_nwb_read (aligned)", 0);
    return 0;
}
