/* NWB reader: small NWB files are built here with the HDF5 C API (the layout pynwb writes: /units
 * spike_times + spike_times_index, obs_intervals, a boolean heldout enum, /intervals/trials with event
 * and split columns, /processing/behavior TimeSeries) and the binned counts, alignment, dropped trials,
 * behaviour resampling and every bad-input message are checked against values worked out by hand.
 * ND_TEST_VERBOSE=1 prints every message checked. */
#include "test.h"
#include "../src/core/mem.h"
#include "../src/io/binning.h"
#include "../src/io/nwb.h"
#include <hdf5.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

static char dir[256];
static int verbose;

/* ---------------------------------------------------------------- file building */
static void put(hid_t f, const char *name, hid_t mt, hid_t ft, int rank, const hsize_t *dims, const void *x) {
    hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
    H5Pset_create_intermediate_group(lcpl, 1);
    hid_t sp = rank == 0 ? H5Screate(H5S_SCALAR) : H5Screate_simple(rank, dims, NULL);
    hid_t ds = H5Dcreate2(f, name, ft, sp, lcpl, H5P_DEFAULT, H5P_DEFAULT);
    hsize_t n = 1;
    for (int i = 0; i < rank; i++) n *= dims[i];
    if (n > 0) H5Dwrite(ds, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, x);
    H5Dclose(ds);
    H5Sclose(sp);
    H5Pclose(lcpl);
}
static void put_d(hid_t f, const char *name, const double *x, hsize_t n) {
    put(f, name, H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE, 1, &n, x);
}
static void put_i64(hid_t f, const char *name, const int64_t *x, hsize_t n) {
    put(f, name, H5T_NATIVE_INT64, H5T_STD_I64LE, 1, &n, x);
}
static void put_strs(hid_t f, const char *name, const char *const *s, hsize_t n) {
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, H5T_VARIABLE);
    H5Tset_cset(t, H5T_CSET_UTF8);
    put(f, name, t, t, 1, &n, s);
    H5Tclose(t);
}
/* h5py's boolean: an int8 enum FALSE = 0, TRUE = 1 */
static void put_bool(hid_t f, const char *name, const signed char *x, hsize_t n) {
    hid_t t = H5Tenum_create(H5T_NATIVE_SCHAR);
    signed char v0 = 0, v1 = 1;
    H5Tenum_insert(t, "FALSE", &v0);
    H5Tenum_insert(t, "TRUE", &v1);
    put(f, name, t, t, 1, &n, x);
    H5Tclose(t);
}
static void attr_str(hid_t f, const char *obj, const char *name, const char *v) {
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, H5T_VARIABLE);
    hid_t sp = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate_by_name(f, obj, name, t, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Awrite(a, t, &v);
    H5Aclose(a);
    H5Sclose(sp);
    H5Tclose(t);
}
static void attr_d(hid_t f, const char *obj, const char *name, double v) {
    hid_t sp = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate_by_name(f, obj, name, H5T_IEEE_F64LE, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Awrite(a, H5T_NATIVE_DOUBLE, &v);
    H5Aclose(a);
    H5Sclose(sp);
}
static void mkgroup(hid_t f, const char *name) {
    hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
    H5Pset_create_intermediate_group(lcpl, 1);
    hid_t g = H5Gcreate2(f, name, lcpl, H5P_DEFAULT, H5P_DEFAULT);
    H5Gclose(g);
    H5Pclose(lcpl);
}

/* The reference file. bin 5 ms, window -10:20 ms around move_onset_time (6 bins) + 2 forward bins.
 *  trial 0: [0, 1] s, event 0.5   -> t0 = 0.490
 *  trial 1: [1, 2] s, event 1.3   -> t0 = 1.290
 *  trial 2: [2, 3] s, event NaN   -> dropped
 *  trial 3: [3, 4] s, event 3.005 -> t0 = 2.995 < start_time: dropped
 * unit 0: 0.489999999 (before t0), 0.49 (bin 0), 0.494999999 (bin 0), 0.495 (bin 1), 0.52 (bin 6: forward),
 *         0.53 (bin 8: past the forward bins), 1.305 (trial 1 bin 3)
 * unit 1: no spikes
 * unit 2: 0.5, 0.5 (bin 2 twice), 0.514999 (bin 4), 1.3149 (trial 1 bin 4) */
typedef struct {
    int no_units, no_index, no_trials, string_times, ragged, decreasing, unsorted, nan_time, bad_heldout;
    int no_split, bad_split, with_obs, unequal, no_event_col, beh_mode; /* beh_mode: 0 none, 1 timestamps, 2 rate, 3 neither */
    int short_behaviour;
    int huge_time; /* a stop_time of 5.6e305 s (its ns clock overflowed int64: fuzz/FINDINGS.md, bug 10) */
} nwb_variant;

static const double TIMES[] = {0.489999999, 0.49, 0.494999999, 0.495, 0.52, 0.53, 1.305, 0.5, 0.5, 0.514999, 1.3149};
static const int64_t INDEX[] = {7, 7, 11};

static void make_nwb(const char *path, const nwb_variant *v) {
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    attr_str(f, "/", "nwb_version", "2.5.0");
    attr_str(f, "/", "neurodata_type", "NWBFile");
    if (!v->no_units) {
        mkgroup(f, "units");
        attr_str(f, "/units", "neurodata_type", "Units");
        double t[11];
        memcpy(t, TIMES, sizeof t);
        if (v->unsorted) t[2] = 0.4; /* unit 0: 0.49 then 0.4 */
        if (v->nan_time) t[9] = NAN;
        if (v->string_times) {
            const char *s[11] = {"0.1", "0.2", "0.3", "0.4", "0.5", "0.6", "0.7", "0.8", "0.9", "1.0", "1.1"};
            put_strs(f, "units/spike_times", s, 11);
        } else put_d(f, "units/spike_times", t, 11);
        int64_t idx[3] = {INDEX[0], INDEX[1], INDEX[2]};
        if (v->ragged) idx[2] = 10;
        if (v->decreasing) idx[1] = 5;
        if (!v->no_index) put_i64(f, "units/spike_times_index", idx, 3);
        int64_t ids[3] = {10, 11, 12};
        put_i64(f, "units/id", ids, 3);
        signed char ho[3] = {0, 0, 1};
        if (v->bad_heldout) {
            int64_t h2[3] = {0, 2, 1};
            put_i64(f, "units/heldout", h2, 3);
        } else put_bool(f, "units/heldout", ho, 3);
        if (v->with_obs) { /* every unit observed over [0, 1.2] s: trial 1 falls outside */
            double obs[6] = {0, 1.2, 0, 1.2, 0, 1.2};
            hsize_t d2[2] = {3, 2};
            put(f, "units/obs_intervals", H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE, 2, d2, obs);
            int64_t oi[3] = {1, 2, 3};
            put_i64(f, "units/obs_intervals_index", oi, 3);
        }
    }
    if (!v->no_trials) {
        mkgroup(f, "intervals/trials");
        attr_str(f, "/intervals/trials", "neurodata_type", "TimeIntervals");
        double st[4] = {0, 1, 2, 3}, sp[4] = {1, 2, 3, 4}, ev[4] = {0.5, 1.3, NAN, 3.005};
        if (v->unequal) sp[1] = 1.5;
        if (v->huge_time) sp[0] = 5.6e305;
        put_d(f, "intervals/trials/start_time", st, 4);
        put_d(f, "intervals/trials/stop_time", sp, 4);
        if (!v->no_event_col) put_d(f, "intervals/trials/move_onset_time", ev, 4);
        double go[4] = {0.4, 1.2, 2.4, 3.4};
        put_d(f, "intervals/trials/go_cue_time", go, 4);
        int64_t id[4] = {0, 1, 2, 3};
        put_i64(f, "intervals/trials/id", id, 4);
        const char *split[4] = {"train", "val", "test", "none"};
        if (v->bad_split) split[1] = "validation-ish";
        if (!v->no_split) put_strs(f, "intervals/trials/split", split, 4);
        const char *cond[4] = {"left", "right", "left", "up"};
        put_strs(f, "intervals/trials/target", cond, 4);
        double ver[4] = {1, 1, 2, 1};
        put_d(f, "intervals/trials/version", ver, 4);
    }
    if (v->beh_mode) {
        /* hand_vel = (10 t, -t), sampled every 1 ms over [0, 4] s (or [0, 1.3] s when short) */
        int n = v->short_behaviour ? 1301 : 4001;
        double *x = malloc(sizeof(double) * (size_t)n * 2), *ts = malloc(sizeof(double) * (size_t)n);
        for (int i = 0; i < n; i++) {
            ts[i] = i * 0.001;
            x[2 * i] = 10 * ts[i];
            x[2 * i + 1] = -ts[i];
        }
        hsize_t d2[2] = {(hsize_t)n, 2};
        put(f, "processing/behavior/hand_vel/data", H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE, 2, d2, x);
        attr_d(f, "/processing/behavior/hand_vel/data", "conversion", 1.0);
        if (v->beh_mode == 1) put_d(f, "processing/behavior/hand_vel/timestamps", ts, (hsize_t)n);
        if (v->beh_mode == 2) {
            double s0 = 0;
            put(f, "processing/behavior/hand_vel/starting_time", H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE, 0, NULL, &s0);
            attr_d(f, "/processing/behavior/hand_vel/starting_time", "rate", 1000.0);
        }
        free(x);
        free(ts);
    }
    H5Fclose(f);
}

static void nwb_path(char *out, size_t cap, const char *name) { snprintf(out, cap, "%s/%s", dir, name); }

static void std_opts(nd_bin_opts *o) {
    nd_bin_opts_default(o);
    o->bin_ms = 5;
    o->align = "move_onset_time";
    o->has_window = 1;
    o->win_start_ms = -10;
    o->win_end_ms = 20;
    o->fp_bins = 2;
    o->behavior = "none";
}

#define C3(b, i, k, u) ((b)->counts[(((size_t)(i) * (size_t)((b)->T + (b)->fp)) + (size_t)(k)) * (size_t)(b)->N + (size_t)(u)])

static int has_warning(const nd_binned *b, const char *a, const char *c) {
    for (int i = 0; i < b->n_warnings; i++) {
        if (verbose) printf("    warning: %s\n", b->warnings[i]);
        if (strstr(b->warnings[i], a) && (!c || strstr(b->warnings[i], c))) return 1;
    }
    return 0;
}

/* ---------------------------------------------------------------- tests */
static void test_nwb_binning_and_alignment(nd_test_ctx *ctx) {
    char p[512];
    nwb_path(p, sizeof p, "ref.nwb");
    nwb_variant v = {0};
    make_nwb(p, &v);
    nd_bin_opts o;
    std_opts(&o);
    nd_binned b;
    nd_error err = {0};
    nd_status st = nd_nwb_read(p, &o, &b, &err);
    CHECK(ctx, st == ND_OK, "%s", err.msg);
    if (st) return;
    CHECK(ctx, b.n == 2 && b.T == 6 && b.fp == 2 && b.N == 3, "shape n %d T %d fp %d N %d", b.n, b.T, b.fp, b.N);
    CHECK(ctx, b.n_source_trials == 4 && b.trial_ids[0] == 0 && b.trial_ids[1] == 1, "trial ids");
    /* expected counts [trial][bin][unit], worked out in the comment above make_nwb */
    float want[2][8][3] = {{{0}}};
    want[0][0][0] = 2; /* 0.49 and 0.494999999 */
    want[0][1][0] = 1; /* 0.495: a spike on the edge opens the next bin */
    want[0][6][0] = 1; /* 0.52: first forward bin */
    want[0][2][2] = 2; /* two spikes at 0.5 */
    want[0][4][2] = 1; /* 0.514999 */
    want[1][3][0] = 1; /* 1.305 */
    want[1][4][2] = 1; /* 1.3149 */
    int bad = 0;
    for (int i = 0; i < 2; i++)
        for (int k = 0; k < 8; k++)
            for (int u = 0; u < 3; u++)
                if (C3(&b, i, k, u) != want[i][k][u] && bad++ < 5)
                    CHECK(ctx, 0, "trial %d bin %d unit %d: %g, want %g", i, k, u, (double)C3(&b, i, k, u),
                          (double)want[i][k][u]);
    CHECK(ctx, b.heldout && !b.heldout[0] && !b.heldout[1] && b.heldout[2], "heldout column (bool enum)");
    CHECK(ctx, b.unit_ids && b.unit_ids[0] == 10 && b.unit_ids[2] == 12, "unit ids");
    CHECK(ctx, b.split && b.split[0] == 0 && b.split[1] == 1, "split column: train, val");
    CHECK(ctx, has_warning(&b, "/intervals/trials/move_onset_time", "dropped 1 of 4 trials whose event time is NaN"),
          "NaN event warning");
    CHECK(ctx, has_warning(&b, p, "not inside [start_time, stop_time] (first: trial 3)"), "outside-trial warning");
    CHECK(ctx, has_warning(&b, "/units/spike_times_index", "1 of 3 units have no spikes"), "empty unit warning");
    CHECK(ctx, b.window_start_ms == -10 && b.window_end_ms == 20 && !strcmp(b.align, "move_onset_time"), "window");
    nd_binned_free(&b);

    /* window relative to start_time (no --align): trial 0 t0 = 0.49 too with window 490:520 */
    std_opts(&o);
    o.align = NULL;
    o.win_start_ms = 490;
    o.win_end_ms = 520;
    o.fp_bins = 0;
    st = nd_nwb_read(p, &o, &b, &err);
    CHECK(ctx, st == ND_OK && b.n == 3 && b.T == 6, "%s n %d", err.msg, b.n); /* trial 3's split is 'none' */
    if (!st) {
        CHECK(ctx, C3(&b, 0, 0, 0) == 2 && C3(&b, 0, 1, 0) == 1 && C3(&b, 0, 2, 2) == 2, "start_time alignment");
        CHECK(ctx, has_warning(&b, "/intervals/trials/split", "dropped 1 of 4 trials whose split is 'none' (first: trial 3)"),
              "split none warning");
        nd_binned_free(&b);
    }

    /* whole trials (no window): 1 s / 5 ms = 200 bins; forward bins are the last ones */
    std_opts(&o);
    o.align = NULL;
    o.has_window = 0;
    o.fp_bins = 10;
    st = nd_nwb_read(p, &o, &b, &err);
    CHECK(ctx, st == ND_OK && b.n == 3 && b.T == 190 && b.fp == 10, "%s T %d", err.msg, b.T);
    if (!st) {
        CHECK(ctx, C3(&b, 0, 98, 0) == 2 && C3(&b, 0, 99, 0) == 1 && C3(&b, 0, 104, 0) == 1 && C3(&b, 0, 106, 0) == 1,
              "whole-trial bins 98 %g 99 %g 104 %g 106 %g", (double)C3(&b, 0, 98, 0), (double)C3(&b, 0, 99, 0),
              (double)C3(&b, 0, 104, 0), (double)C3(&b, 0, 106, 0));
        nd_binned_free(&b);
    }

    /* nlb_tools grid: event 0.5 + window -7:23 -> t0 = 0.493 moves up to 0.495 */
    std_opts(&o);
    o.win_start_ms = -7;
    o.win_end_ms = 23;
    o.fp_bins = 0;
    o.grid_align = 1;
    st = nd_nwb_read(p, &o, &b, &err);
    CHECK(ctx, st == ND_OK, "%s", err.msg);
    if (!st) {
        CHECK(ctx, C3(&b, 0, 0, 0) == 1 && C3(&b, 0, 1, 2) == 2, "grid-aligned t0 = 0.495: %g %g",
              (double)C3(&b, 0, 0, 0), (double)C3(&b, 0, 1, 2));
        nd_binned_free(&b);
    }
    o.grid_align = 0; /* exact t0 = 0.493: 0.494999999 and 0.495 both in bin 0 */
    st = nd_nwb_read(p, &o, &b, &err);
    if (!st) {
        CHECK(ctx, C3(&b, 0, 0, 0) == 2 && C3(&b, 0, 1, 2) == 2, "exact t0 = 0.493: %g", (double)C3(&b, 0, 0, 0));
        nd_binned_free(&b);
    }

    /* conditions from two columns */
    std_opts(&o);
    o.condition = "target,version";
    st = nd_nwb_read(p, &o, &b, &err);
    CHECK(ctx, st == ND_OK && b.condition && b.n_conditions == 2, "%s conditions %d", err.msg, b.n_conditions);
    if (!st) {
        CHECK(ctx, !strcmp(b.condition_names[0], "left|1") && !strcmp(b.condition_names[1], "right|1"), "names %s %s",
              b.condition_names[0], b.n_conditions > 1 ? b.condition_names[1] : "");
        nd_binned_free(&b);
    }

    /* --strict turns the first dropped trial into an error naming file and column */
    std_opts(&o);
    o.strict = 1;
    st = nd_nwb_read(p, &o, &b, &err);
    if (verbose) printf("    %s\n", err.msg);
    CHECK(ctx, st == ND_ERR_FORMAT && strstr(err.msg, p) && strstr(err.msg, "/intervals/trials/move_onset_time") &&
                   strstr(err.msg, "trial 2: event time is NaN"),
          "strict NaN: %s", err.msg);
    /* windows outside the trial are kept with allow_outside_trial (a file without split column: trial 3 is
     * not 'none' there) */
    nwb_path(p, sizeof p, "nosplit.nwb");
    v.no_split = 1;
    make_nwb(p, &v);
    std_opts(&o);
    o.allow_outside_trial = 1;
    st = nd_nwb_read(p, &o, &b, &err);
    CHECK(ctx, st != ND_OK || !b.split, "no split column");
    CHECK(ctx, st == ND_OK && b.n == 3 && b.trial_ids[2] == 3, "allow outside: %s", err.msg);
    if (!st) nd_binned_free(&b);
}

static void test_nwb_obs_intervals(nd_test_ctx *ctx) {
    char p[512];
    nwb_path(p, sizeof p, "obs.nwb");
    nwb_variant v = {0};
    v.with_obs = 1;
    make_nwb(p, &v);
    nd_bin_opts o;
    std_opts(&o);
    nd_binned b;
    nd_error err = {0};
    nd_status st = nd_nwb_read(p, &o, &b, &err);
    CHECK(ctx, st == ND_OK && b.n == 1 && b.trial_ids[0] == 0, "%s n %d", err.msg, b.n);
    if (!st) {
        CHECK(ctx, has_warning(&b, "/units/obs_intervals", "outside a unit's observation intervals (first: trial 1"),
              "obs warning");
        nd_binned_free(&b);
    }
    o.strict = 1;
    o.allow_outside_trial = 1;
    v.with_obs = 1;
    st = nd_nwb_read(p, &o, &b, &err);
    /* trial 2 (NaN) comes before trial 3 but trial 1 is the first outside obs_intervals */
    CHECK(ctx, st == ND_ERR_FORMAT && strstr(err.msg, "/units/obs_intervals") && strstr(err.msg, "trial 1"),
          "strict obs: %s", err.msg);
}

static void test_nwb_behaviour(nd_test_ctx *ctx) {
    for (int mode = 1; mode <= 2; mode++) {
        char p[512];
        nwb_path(p, sizeof p, mode == 1 ? "beh_ts.nwb" : "beh_rate.nwb");
        nwb_variant v = {0};
        v.beh_mode = mode;
        make_nwb(p, &v);
        nd_bin_opts o;
        std_opts(&o);
        o.behavior = NULL; /* default: hand_vel */
        o.behavior_lag_ms = 100;
        nd_binned b;
        nd_error err = {0};
        nd_status st = nd_nwb_read(p, &o, &b, &err);
        CHECK(ctx, st == ND_OK && b.B == 2 && b.behavior, "%s B %d", err.msg, b.B);
        if (st) continue;
        CHECK(ctx, !strcmp(b.behavior_name, "/processing/behavior/hand_vel"), "name %s", b.behavior_name);
        /* value at bin start + lag: trial 1 bin 3 -> t = 1.29 + 0.015 + 0.1 = 1.405 -> (14.05, -1.405) */
        float x = b.behavior[((size_t)1 * 6 + 3) * 2], y = b.behavior[((size_t)1 * 6 + 3) * 2 + 1];
        CHECK(ctx, fabsf(x - 14.05f) < 1e-4f && fabsf(y + 1.405f) < 1e-5f, "mode %d: behaviour %g %g", mode, (double)x,
              (double)y);
        nd_binned_free(&b);
        /* bin centre, no lag, interpolated between samples: trial 0 bin 0 -> 0.4925 s */
        o.behavior_lag_ms = 0;
        o.behavior_center = 1;
        st = nd_nwb_read(p, &o, &b, &err);
        if (!st) {
            CHECK(ctx, fabsf(b.behavior[0] - 4.925f) < 1e-4f, "centre: %g", (double)b.behavior[0]);
            nd_binned_free(&b);
        }
    }
    /* behaviour that ends at 1.3 s: trial 1 (needs 1.29 .. 1.315) is dropped */
    char p[512];
    nwb_path(p, sizeof p, "beh_short.nwb");
    nwb_variant v = {0};
    v.beh_mode = 1;
    v.short_behaviour = 1;
    make_nwb(p, &v);
    nd_bin_opts o;
    std_opts(&o);
    o.behavior = "hand_vel";
    nd_binned b;
    nd_error err = {0};
    nd_status st = nd_nwb_read(p, &o, &b, &err);
    CHECK(ctx, st == ND_OK && b.n == 1, "%s", err.msg);
    if (!st) {
        CHECK(ctx, has_warning(&b, "/processing/behavior/hand_vel", "behaviour samples do not cover"), "warning");
        nd_binned_free(&b);
    }
}

/* one bad-input case: the read fails, the message names the file and `where` and contains `what` */
static void expect_bad(nd_test_ctx *ctx, const char *name, const nwb_variant *v, const nd_bin_opts *o,
                       const char *where, const char *what) {
    char p[512];
    nwb_path(p, sizeof p, name);
    make_nwb(p, v);
    nd_binned b;
    nd_error err = {0};
    nd_status st = nd_nwb_read(p, o, &b, &err);
    if (verbose) printf("    %-18s -> %s\n", name, err.msg);
    CHECK(ctx, st != ND_OK && strstr(err.msg, p) && strstr(err.msg, where) && strstr(err.msg, what) &&
                   !strchr(err.msg, '\n'),
          "%s: got '%s' (want '%s' ... '%s')", name, st ? err.msg : "success", where, what);
    if (!st) nd_binned_free(&b);
}

static void test_nwb_bad_inputs(nd_test_ctx *ctx) {
    nd_bin_opts o;
    std_opts(&o);
    nwb_variant v;
#define BAD(field, name, where, what)                                                                                  \
    do {                                                                                                               \
        memset(&v, 0, sizeof v);                                                                                       \
        v.field = 1;                                                                                                   \
        expect_bad(ctx, name, &v, &o, where, what);                                                                    \
    } while (0)
    BAD(no_units, "no_units.nwb", "/units", "missing group");
    BAD(no_index, "no_index.nwb", "/units/spike_times_index", "missing dataset");
    BAD(ragged, "ragged.nwb", "/units/spike_times_index", "ragged: the last end offset is 10 but /units/spike_times has 11");
    BAD(decreasing, "decreasing.nwb", "/units/spike_times_index", "decreasing at element 1");
    BAD(unsorted, "unsorted.nwb", "/units/spike_times", "unit 0's spike times are not sorted");
    BAD(string_times, "strings.nwb", "/units/spike_times", "type string is not numeric");
    BAD(nan_time, "nan_spike.nwb", "/units/spike_times", "element 9 is NaN");
    BAD(bad_heldout, "bad_heldout.nwb", "/units/heldout", "element 1 = 2 is not a boolean");
    BAD(no_trials, "no_trials.nwb", "/intervals/trials", "missing group");
    BAD(no_event_col, "no_event.nwb", "/intervals/trials/move_onset_time", "missing event column (numeric columns: go_cue_time, version)");
    BAD(bad_split, "bad_split.nwb", "/intervals/trials/split", "unknown split 'validation-ish'");
    BAD(huge_time, "huge_time.nwb", "/intervals/trials/stop_time", "trial 0: 5.6e+305 s is outside the supported range");
    /* trials of different lengths without a window */
    memset(&v, 0, sizeof v);
    v.unequal = 1;
    nd_bin_opts w = o;
    w.align = NULL;
    w.has_window = 0;
    w.fp_bins = 0;
    expect_bad(ctx, "unequal.nwb", &v, &w, "/intervals/trials", "trials have different lengths");
    /* behaviour TimeSeries without timestamps or starting_time */
    memset(&v, 0, sizeof v);
    v.beh_mode = 3;
    w = o;
    w.behavior = "hand_vel";
    expect_bad(ctx, "beh_neither.nwb", &v, &w, "/processing/behavior/hand_vel", "has neither timestamps nor starting_time");
    /* a behaviour that does not exist */
    memset(&v, 0, sizeof v);
    w.behavior = "eye_pos";
    expect_bad(ctx, "beh_missing.nwb", &v, &w, "/processing/behavior/eye_pos", "missing TimeSeries group");
    /* no trial left: a window far after every event */
    memset(&v, 0, sizeof v);
    w = o;
    w.win_start_ms = 5000;
    w.win_end_ms = 5030;
    expect_bad(ctx, "none_left.nwb", &v, &w, "/intervals/trials/move_onset_time", "no trials left");
    /* --strict window outside the trial (trial 3; trial 2 has a NaN event and no window) */
    memset(&v, 0, sizeof v);
    w = o;
    w.strict = 1;
    w.align = "go_cue_time"; /* trial 0: go cue 0.4 s + 700 ms is past its stop_time (1 s) */
    w.win_start_ms = 700;
    w.win_end_ms = 730;
    expect_bad(ctx, "strict_out.nwb", &v, &w, "/intervals/trials", "trial 0: window [1.1, 1.14) s is not inside");
    /* a window that is not a whole number of bins */
    w = o;
    w.win_end_ms = 21;
    char p[512];
    nwb_path(p, sizeof p, "ref.nwb");
    nd_binned b;
    nd_error err = {0};
    CHECK(ctx, nd_nwb_read(p, &w, &b, &err) == ND_ERR_ARG && strstr(err.msg, "whole"), "window: %s", err.msg);
    /* not HDF5 at all */
    nwb_path(p, sizeof p, "text.nwb");
    FILE *fp = fopen(p, "w");
    fputs("hello\n", fp);
    fclose(fp);
    CHECK(ctx, nd_nwb_read(p, &o, &b, &err) == ND_ERR_FORMAT && strstr(err.msg, p) && strstr(err.msg, "not an HDF5"),
          "text: %s", err.msg);
    nwb_path(p, sizeof p, "missing.nwb");
    CHECK(ctx, nd_nwb_read(p, &o, &b, &err) == ND_ERR_IO && strstr(err.msg, p), "missing file: %s", err.msg);
#undef BAD
}


int main(void) {
    verbose = getenv("ND_TEST_VERBOSE") && atoi(getenv("ND_TEST_VERBOSE"));
    if (!nd_test_scratch(dir, sizeof dir, "nd_test_nwb_")) return 1;
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    RUN(test_nwb_binning_and_alignment);
    RUN(test_nwb_obs_intervals);
    RUN(test_nwb_behaviour);
    RUN(test_nwb_bad_inputs);
    nd_test_scratch_remove(dir);
    TEST_MAIN_END();
}
