/* Seed generator for the fuzz corpora: small valid inputs for every harness, written with the
 * library's own writers (nd_h5_*, nd_ckpt_write, nd_lfads_config_to_text).
 *   make_seeds OUTDIR     writes OUTDIR/<harness>/<seed> (no .h5 suffix: *.h5 is git-ignored)
 * fuzz/make_seeds.sh runs it, adds h5repack variants (other superblock / layout / filter
 * versions) and replaces fuzz/corpus/. Every seed is a few KB at most. */
#include <errno.h>
#include <hdf5.h>
#ifdef ND_HAVE_LIBMATIO
#include <matio.h>
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "io/checkpoint.h"
#include "io/h5.h"
#include "models/lfads.h"
#include "models/lfads_config.h"
#include "models/lfads_train.h"

static const char *outdir;

static void die(const char *what, const nd_error *e) {
    fprintf(stderr, "make_seeds: %s: %s\n", what, e ? e->msg : strerror(errno));
    exit(1);
}

static void mkdirs(const char *sub) {
    char p[1024];
    snprintf(p, sizeof p, "%s", outdir);
    mkdir(p, 0755);
    snprintf(p, sizeof p, "%s/%s", outdir, sub);
    mkdir(p, 0755);
}

static void seed_path(char *p, size_t n, const char *harness, const char *name) {
    snprintf(p, n, "%s/%s/%s", outdir, harness, name);
}

/* ---------------- HDF5 ---------------- */
typedef struct {
    nd_h5file *f;
    nd_error e;
} h5w;

static void h5_open(h5w *w, const char *harness, const char *name) {
    char p[1024];
    seed_path(p, sizeof p, harness, name);
    if (nd_h5_create(&w->f, p, &w->e)) die(p, &w->e);
}
static void h5_close(h5w *w) {
    if (nd_h5_close(w->f, 1, &w->e)) die("close", &w->e);
}

/* counts (n, T, N): small whole numbers, deterministic; as int32, float32 or float64 */
static void counts(h5w *w, const char *name, size_t n, size_t T, size_t N, int kind, unsigned salt) {
    size_t dims[3] = {n, T, N}, k = n * T * N;
    float *f = malloc(k * sizeof *f);
    int *iv = malloc(k * sizeof *iv);
    double *dv = malloc(k * sizeof *dv);
    for (size_t i = 0; i < k; i++) {
        unsigned v = (unsigned)(i * 2654435761u + salt * 40503u) >> 28;
        iv[i] = (int)(v % 4);
        f[i] = (float)iv[i];
        dv[i] = iv[i];
    }
    nd_status s = kind == 0 ? nd_h5_write_int(w->f, name, iv, 3, dims, &w->e)
                  : kind == 1 ? nd_h5_write_float(w->f, name, f, 3, dims, &w->e)
                              : nd_h5_write_double(w->f, name, dv, 3, dims, &w->e);
    if (s) die(name, &w->e);
    free(f);
    free(iv);
    free(dv);
}
/* reconstruction (n, Tr, Nr) whose first T bins / N neurons equal counts(n, T, N, salt) */
static void recon(h5w *w, const char *name, size_t n, size_t T, size_t N, size_t Tr, size_t Nr, unsigned salt) {
    size_t dims[3] = {n, Tr, Nr};
    int *iv = calloc(n * Tr * Nr, sizeof *iv);
    for (size_t i = 0; i < n; i++)
        for (size_t t = 0; t < Tr; t++)
            for (size_t k = 0; k < Nr; k++) {
                int v;
                if (t < T && k < N) {
                    size_t j = (i * T + t) * N + k;
                    v = (int)((((unsigned)(j * 2654435761u + salt * 40503u)) >> 28) % 4);
                } else v = (int)((i + 3 * t + 5 * k) % 3);
                iv[(i * Tr + t) * Nr + k] = v;
            }
    if (nd_h5_write_int(w->f, name, iv, 3, dims, &w->e)) die(name, &w->e);
    free(iv);
}
static void reals(h5w *w, const char *name, size_t n, size_t T, size_t N, float scale) {
    size_t dims[3] = {n, T, N}, k = n * T * N;
    float *f = malloc((k ? k : 1) * sizeof *f);
    for (size_t i = 0; i < k; i++) f[i] = scale * (float)((i * 7) % 11) / 11.0f;
    if (nd_h5_write_float(w->f, name, f, 3, dims, &w->e)) die(name, &w->e);
    free(f);
}
static void inds(h5w *w, const char *name, size_t n, int base) {
    int *v = malloc(n * sizeof *v);
    for (size_t i = 0; i < n; i++) v[i] = base + 2 * (int)i;
    size_t d[1] = {n};
    if (nd_h5_write_int(w->f, name, v, 1, d, &w->e)) die(name, &w->e);
    free(v);
}
static void scalar(h5w *w, const char *name, double v, int as_array) {
    size_t d[1] = {1};
    if (nd_h5_write_double(w->f, name, &v, as_array ? 1 : 0, as_array ? d : NULL, &w->e)) die(name, &w->e);
}

static void lfads_seeds(void) {
    const char *H = "fuzz_lfads_h5";
    mkdirs(H);
    h5w w;
    /* 1. minimal: train_data only (the reader makes the validation split) */
    h5_open(&w, H, "min_train_only");
    counts(&w, "train_data", 5, 3, 2, 0, 1);
    h5_close(&w);
    /* 2. everything: both splits, truth, ext inputs, inds, scalar conversion factor, attributes */
    h5_open(&w, H, "full");
    counts(&w, "train_data", 4, 5, 3, 0, 2);
    counts(&w, "valid_data", 2, 5, 3, 0, 3);
    reals(&w, "train_truth", 4, 5, 3, 1.0f);
    reals(&w, "valid_truth", 2, 5, 3, 1.0f);
    reals(&w, "train_ext_input", 4, 5, 2, -1.0f);
    reals(&w, "valid_ext_input", 2, 5, 2, 1.0f);
    inds(&w, "train_inds", 4, 0);
    inds(&w, "valid_inds", 2, 1);
    scalar(&w, "conversion_factor", 0.5, 0);
    if (nd_h5_write_attr_double(w.f, "/", "bin_ms", 10.0, &w.e)) die("attr", &w.e);
    if (nd_h5_write_attr_string(w.f, "train_data", "unit", "counts per bin", &w.e)) die("attr", &w.e);
    h5_close(&w);
    /* 3. float32 counts, truth for train only, 1-element conversion factor, inds, no valid (split) */
    h5_open(&w, H, "float_truth_split");
    counts(&w, "train_data", 6, 4, 2, 1, 4);
    reals(&w, "train_truth", 6, 4, 2, 2.0f);
    inds(&w, "train_inds", 6, 10);
    scalar(&w, "conversion_factor", 2.0, 1);
    h5_close(&w);
    /* 4. float64 counts, ext inputs with zero input dimensions */
    h5_open(&w, H, "double_ext0");
    counts(&w, "train_data", 3, 2, 2, 2, 5);
    counts(&w, "valid_data", 2, 2, 2, 2, 6);
    reals(&w, "train_ext_input", 3, 2, 0, 1.0f);
    reals(&w, "valid_ext_input", 2, 2, 0, 1.0f);
    h5_close(&w);
    /* 5. chunked + shuffle + deflate (>= 4096 elements) */
    h5_open(&w, H, "chunked_deflate");
    counts(&w, "train_data", 8, 32, 16, 0, 7);
    h5_close(&w);
    /* 6. datasets inside a group beside the root ones (extra objects the reader must skip) */
    h5_open(&w, H, "extra_group");
    counts(&w, "train_data", 4, 2, 3, 0, 9);
    counts(&w, "meta/train_data", 1, 1, 1, 0, 1);
    scalar(&w, "meta/bin_ms", 20.0, 0);
    h5_close(&w);
}

static void torch_seeds(void) {
    const char *H = "fuzz_lfads_torch_h5";
    mkdirs(H);
    h5w w;
    /* 1. encod only, both splits */
    h5_open(&w, H, "encod_only");
    counts(&w, "train_encod_data", 4, 3, 2, 0, 11);
    counts(&w, "valid_encod_data", 2, 3, 2, 0, 12);
    h5_close(&w);
    /* 2. held-out neurons + forward-prediction bins, truth and ext inputs on the recon shape */
    h5_open(&w, H, "heldout_fp");
    counts(&w, "train_encod_data", 4, 3, 2, 0, 13);
    counts(&w, "valid_encod_data", 2, 3, 2, 0, 14);
    recon(&w, "train_recon_data", 4, 3, 2, 5, 3, 13);
    recon(&w, "valid_recon_data", 2, 3, 2, 5, 3, 14);
    reals(&w, "train_truth", 4, 5, 3, 1.0f);
    reals(&w, "valid_truth", 2, 5, 3, 1.0f);
    reals(&w, "train_ext_input", 4, 5, 1, 1.0f);
    reals(&w, "valid_ext_input", 2, 5, 1, 1.0f);
    inds(&w, "train_inds", 4, 0);
    inds(&w, "valid_inds", 2, 1);
    h5_close(&w);
    /* 3. train only, held-out neurons: the reader splits encod + recon together */
    h5_open(&w, H, "train_only_heldout");
    counts(&w, "train_encod_data", 6, 3, 2, 0, 15);
    recon(&w, "train_recon_data", 6, 3, 2, 3, 4, 15);
    reals(&w, "train_truth", 6, 3, 4, 0.5f);
    scalar(&w, "conversion_factor", 4.0, 0);
    h5_close(&w);
    /* 4. recon identical in shape to encod (reader frees it) */
    h5_open(&w, H, "recon_same_shape");
    counts(&w, "train_encod_data", 3, 2, 2, 0, 16);
    counts(&w, "valid_encod_data", 2, 2, 2, 0, 17);
    recon(&w, "train_recon_data", 3, 2, 2, 2, 2, 16);
    recon(&w, "valid_recon_data", 2, 2, 2, 2, 2, 17);
    h5_close(&w);
}


/* ---------------- raw HDF5 (NWB / triplets): the layouts pynwb / h5py write ---------------- */
static hid_t rf; /* the open file */

static void raw_open(const char *harness, const char *name, int latest) {
    char p[1024];
    mkdirs(harness);
    seed_path(p, sizeof p, harness, name);
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    if (latest) H5Pset_libver_bounds(fapl, H5F_LIBVER_LATEST, H5F_LIBVER_LATEST);
    hid_t fcpl = H5Pcreate(H5P_FILE_CREATE);
    H5Pset_obj_track_times(fcpl, 0);
    rf = H5Fcreate(p, H5F_ACC_TRUNC, fcpl, fapl);
    H5Pclose(fapl);
    H5Pclose(fcpl);
    if (rf < 0) die(p, NULL);
}
static void raw_close(void) { H5Fclose(rf); }

static hid_t lcpl(void) {
    hid_t l = H5Pcreate(H5P_LINK_CREATE);
    H5Pset_create_intermediate_group(l, 1);
    return l;
}
static void raw_group(const char *name) {
    hid_t l = lcpl();
    hid_t g = H5Gcreate2(rf, name, l, H5P_DEFAULT, H5P_DEFAULT);
    H5Pclose(l);
    if (g < 0) die(name, NULL);
    H5Gclose(g);
}
static void raw_write(const char *name, hid_t ftype, hid_t mtype, int rank, const hsize_t *dims, const void *data) {
    hid_t sp = rank ? H5Screate_simple(rank, dims, NULL) : H5Screate(H5S_SCALAR);
    hid_t l = lcpl();
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_obj_track_times(dcpl, 0);
    hid_t d = H5Dcreate2(rf, name, ftype, sp, l, dcpl, H5P_DEFAULT);
    if (d < 0 || H5Dwrite(d, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0) die(name, NULL);
    H5Dclose(d);
    H5Pclose(dcpl);
    H5Pclose(l);
    H5Sclose(sp);
}
static void raw_f64(const char *name, const double *x, hsize_t n) {
    raw_write(name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 1, &n, x);
}
static void raw_f64_2d(const char *name, const double *x, hsize_t n, hsize_t m) {
    hsize_t d[2] = {n, m};
    raw_write(name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 2, d, x);
}
static void raw_i64(const char *name, const int64_t *x, hsize_t n, hid_t ftype) {
    raw_write(name, ftype, H5T_NATIVE_INT64, 1, &n, x);
}
static hid_t vlen_str(void) {
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, H5T_VARIABLE);
    H5Tset_cset(t, H5T_CSET_UTF8);
    return t;
}
static void raw_strings(const char *name, const char *const *v, hsize_t n, int fixed) {
    hid_t t = H5Tcopy(H5T_C_S1);
    if (fixed) {
        size_t w = 1;
        for (hsize_t i = 0; i < n; i++) if (strlen(v[i]) > w) w = strlen(v[i]);
        char *buf = calloc(n, w);
        for (hsize_t i = 0; i < n; i++) memcpy(buf + i * w, v[i], strlen(v[i]));
        H5Tset_size(t, w);
        H5Tset_strpad(t, H5T_STR_NULLPAD);
        raw_write(name, t, t, 1, &n, buf);
        free(buf);
    } else {
        H5Tclose(t);
        t = vlen_str();
        raw_write(name, t, t, 1, &n, v);
    }
    H5Tclose(t);
}
static void raw_bool(const char *name, const signed char *v, hsize_t n) {
    hid_t t = H5Tenum_create(H5T_NATIVE_SCHAR);
    signed char f = 0, tr = 1;
    H5Tenum_insert(t, "FALSE", &f);
    H5Tenum_insert(t, "TRUE", &tr);
    raw_write(name, t, t, 1, &n, v);
    H5Tclose(t);
}
static void raw_attr_str(const char *obj, const char *attr, const char *value) {
    hid_t t = vlen_str(), sp = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate_by_name(rf, obj, attr, t, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (a < 0 || H5Awrite(a, t, &value) < 0) die(attr, NULL);
    H5Aclose(a);
    H5Sclose(sp);
    H5Tclose(t);
}
static void raw_attr_f64(const char *obj, const char *attr, double value) {
    hid_t sp = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate_by_name(rf, obj, attr, H5T_IEEE_F64LE, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (a < 0 || H5Awrite(a, H5T_NATIVE_DOUBLE, &value) < 0) die(attr, NULL);
    H5Aclose(a);
    H5Sclose(sp);
}

/* An NWB file: 3 units, 4 trials of 400 ms, go_cue events, split, condition, hand_vel behaviour. */
static void nwb_file(const char *harness, const char *name, int latest, int with_behavior, int with_obs,
                     int fixed_strings) {
    raw_open(harness, name, latest);
    raw_attr_str("/", "nwb_version", "2.5.0");
    raw_attr_str("/", "neurodata_type", "NWBFile");
    /* units: spikes of unit k at 0.013 * j * (k + 1) s over 1.7 s, sorted within each unit */
    double t[64];
    int64_t end[3], ids[3] = {11, 12, 13};
    size_t ns = 0;
    for (int k = 0; k < 3; k++) {
        for (int j = 0; ns < 64 && j < 20 - 5 * k; j++) t[ns++] = 0.05 + 0.083 * j * (k + 1);
        end[k] = (int64_t)ns;
    }
    raw_group("/units");
    raw_attr_str("/units", "neurodata_type", "Units");
    raw_f64("/units/spike_times", t, ns);
    raw_i64("/units/spike_times_index", end, 3, H5T_STD_U32LE);
    raw_i64("/units/id", ids, 3, H5T_STD_I64LE);
    signed char ho[3] = {0, 0, 1};
    raw_bool("/units/heldout", ho, 3);
    if (with_obs) {
        double obs[8] = {0, 1.0, 1.1, 1.8, 0, 1.8, 0, 1.8};
        int64_t oe[3] = {2, 3, 4};
        raw_f64_2d("/units/obs_intervals", obs, 4, 2);
        raw_i64("/units/obs_intervals_index", oe, 3, H5T_STD_U64LE);
    }
    /* trials */
    double st[4] = {0.0, 0.4, 0.8, 1.2}, sp[4] = {0.4, 0.8, 1.2, 1.6}, go[4] = {0.15, 0.55, 0.95, 1.35};
    int64_t cond[4] = {1, 2, 1, 2};
    const char *split[4] = {"train", "val", "test", "train"};
    raw_group("/intervals/trials");
    raw_attr_str("/intervals/trials", "neurodata_type", "TimeIntervals");
    raw_f64("/intervals/trials/start_time", st, 4);
    raw_f64("/intervals/trials/stop_time", sp, 4);
    raw_f64("/intervals/trials/go_cue", go, 4);
    raw_i64("/intervals/trials/cond", cond, 4, H5T_STD_I32LE);
    raw_strings("/intervals/trials/split", split, 4, fixed_strings);
    if (with_behavior == 1) { /* hand_vel with timestamps, 100 Hz over 1.7 s */
        double ts[170], x[340];
        for (int i = 0; i < 170; i++) {
            ts[i] = 0.01 * i;
            x[2 * i] = (i % 13) * 0.1;
            x[2 * i + 1] = -(i % 7) * 0.2;
        }
        raw_group("/processing/behavior/hand_vel");
        raw_attr_str("/processing/behavior/hand_vel", "neurodata_type", "TimeSeries");
        raw_f64_2d("/processing/behavior/hand_vel/data", x, 170, 2);
        raw_attr_f64("/processing/behavior/hand_vel/data", "conversion", 0.5);
        raw_attr_f64("/processing/behavior/hand_vel/data", "offset", 1.0);
        raw_f64("/processing/behavior/hand_vel/timestamps", ts, 170);
    } else if (with_behavior == 2) { /* regularly sampled: starting_time + rate */
        double x[170];
        for (int i = 0; i < 170; i++) x[i] = (i % 11) * 0.3;
        raw_group("/processing/behavior/hand_vel");
        raw_f64("/processing/behavior/hand_vel/data", x, 170);
        double t0 = 0.0;
        raw_write("/processing/behavior/hand_vel/starting_time", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 0, NULL, &t0);
        raw_attr_f64("/processing/behavior/hand_vel/starting_time", "rate", 100.0);
    }
    raw_close();
}

static void nwb_seeds(void) {
    nwb_file("fuzz_nwb", "full", 0, 1, 1, 0);
    nwb_file("fuzz_nwb", "latest_rate_behaviour", 1, 2, 0, 1);
    nwb_file("fuzz_nwb", "no_behaviour", 0, 0, 0, 0);
}

/* Triplets: 4 trials, 3 neurons, spikes in ms, a per-trial 'stim' dataset. */
static void triplet_file(const char *harness, const char *name, const char *group, int latest, int float_ids) {
    raw_open(harness, name, latest);
    double t[40];
    int64_t nu[40], tr[40], stim[4] = {3, 1, 3, 2};
    for (int i = 0; i < 40; i++) {
        t[i] = (i * 37) % 290 + 0.5 * (i % 2);
        nu[i] = i % 3;
        tr[i] = (i / 3) % 4;
    }
    char p[256];
    const char *g = group ? group : "";
    snprintf(p, sizeof p, "%s/time_ms", g);
    raw_f64(p, t, 40);
    snprintf(p, sizeof p, "%s/neuron", g);
    if (float_ids) {
        double d[40];
        for (int i = 0; i < 40; i++) d[i] = (double)nu[i];
        raw_f64(p, d, 40);
    } else raw_i64(p, nu, 40, H5T_STD_U16LE);
    snprintf(p, sizeof p, "%s/trial", g);
    raw_i64(p, tr, 40, H5T_STD_I32LE);
    snprintf(p, sizeof p, "%s/stim", g);
    raw_i64(p, stim, 4, H5T_STD_I8LE);
    raw_close();
}

static void triplet_seeds(void) {
    triplet_file("fuzz_triplets", "group", "/spike_times", 0, 0);
    triplet_file("fuzz_triplets", "root_latest", NULL, 1, 1);
}

/* The generic h5x harness starts from every NWB / triplet layout (strings, bools, refs-free). */
static void h5x_seeds(void) {
    nwb_file("fuzz_h5x", "nwb", 0, 1, 1, 0);
    nwb_file("fuzz_h5x", "nwb_latest_fixed_strings", 1, 2, 0, 1);
    triplet_file("fuzz_h5x", "triplets", "/spike_times", 0, 1);
    /* object references, as MATLAB v7.3 stores cell arrays / struct fields */
    raw_open("fuzz_h5x", "refs", 0);
    double a[3] = {1, 2, 3}, b[2] = {4, 5};
    raw_f64("/#refs#/a", a, 3);
    raw_f64("/#refs#/b", b, 2);
    hobj_ref_t refs[2];
    H5Rcreate(&refs[0], rf, "/#refs#/a", H5R_OBJECT, -1);
    H5Rcreate(&refs[1], rf, "/#refs#/b", H5R_OBJECT, -1);
    hsize_t n = 2;
    raw_write("/D/spikes", H5T_STD_REF_OBJ, H5T_STD_REF_OBJ, 1, &n, refs);
    raw_attr_str("/D/spikes", "MATLAB_class", "cell");
    raw_close();
}


/* ---------------- MATLAB ---------------- */
/* trial i: an N x T matrix of 1-ms spike counts (0/1), column-major (neuron j, ms t) at j + t * N */
static void mat_counts(double *x, int N, int T, int i) {
    for (int t = 0; t < T; t++)
        for (int j = 0; j < N; j++) x[j + t * N] = ((t * 7 + j * 13 + i * 29) % 37) == 0;
}

static void raw_attr_fixed(const char *obj, const char *attr, const char *value) {
    hid_t t = H5Tcopy(H5T_C_S1), sp = H5Screate(H5S_SCALAR);
    H5Tset_size(t, strlen(value));
    hid_t a = H5Acreate_by_name(rf, obj, attr, t, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (a < 0 || H5Awrite(a, t, value) < 0) die(attr, NULL);
    H5Aclose(a);
    H5Sclose(sp);
    H5Tclose(t);
}

/* MATLAB v7.3: a 512-byte user block with MATLAB's header, struct array /D (fields data, condition)
 * whose fields are object references into /#refs#; matrices stored transposed ([T][N]), gzip'd. */
static void mat73_file(const char *harness, const char *name, int header, int char_cond, const char *var) {
    char p[1024];
    mkdirs(harness);
    seed_path(p, sizeof p, harness, name);
    hid_t fcpl = H5Pcreate(H5P_FILE_CREATE);
    H5Pset_obj_track_times(fcpl, 0);
    if (header) H5Pset_userblock(fcpl, 512);
    rf = H5Fcreate(p, H5F_ACC_TRUNC, fcpl, H5P_DEFAULT);
    H5Pclose(fcpl);
    if (rf < 0) die(p, NULL);
    enum { NT = 3, N = 2, T = 220 };
    char vp[64], fp[96];
    snprintf(vp, sizeof vp, "/%s", var);
    raw_group(vp);
    raw_attr_fixed(vp, "MATLAB_class", "struct");
    { /* MATLAB_fields: the field names, each a variable-length array of 1-byte chars */
        hid_t ct = H5Tcopy(H5T_C_S1);
        H5Tset_size(ct, 1);
        hid_t vt = H5Tvlen_create(ct);
        hvl_t names[2] = {{4, (void *)"data"}, {9, (void *)"condition"}};
        hsize_t two = 2;
        hid_t sp = H5Screate_simple(1, &two, NULL);
        hid_t g = H5Gopen2(rf, vp, H5P_DEFAULT);
        hid_t a = H5Acreate2(g, "MATLAB_fields", vt, sp, H5P_DEFAULT, H5P_DEFAULT);
        if (a < 0 || H5Awrite(a, vt, names) < 0) die("MATLAB_fields", NULL);
        H5Aclose(a);
        H5Gclose(g);
        H5Sclose(sp);
        H5Tclose(vt);
        H5Tclose(ct);
    }
    raw_group("/#refs#");
    hobj_ref_t dref[NT], cref[NT];
    for (int i = 0; i < NT; i++) {
        double x[N * T];
        mat_counts(x, N, T, i);
        char rp[64];
        snprintf(rp, sizeof rp, "/#refs#/d%d", i);
        hsize_t d[2] = {T, N}, c[2] = {T, N};
        hid_t sp = H5Screate_simple(2, d, NULL), dcpl = H5Pcreate(H5P_DATASET_CREATE);
        H5Pset_obj_track_times(dcpl, 0);
        H5Pset_chunk(dcpl, 2, c);
        H5Pset_deflate(dcpl, 3);
        hid_t ds = H5Dcreate2(rf, rp, H5T_IEEE_F64LE, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
        if (ds < 0 || H5Dwrite(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, x) < 0) die(rp, NULL);
        H5Dclose(ds);
        H5Pclose(dcpl);
        H5Sclose(sp);
        raw_attr_fixed(rp, "MATLAB_class", "double");
        H5Rcreate(&dref[i], rf, rp, H5R_OBJECT, -1);
        snprintf(rp, sizeof rp, "/#refs#/c%d", i);
        if (char_cond) { /* 'reach1' etc. as UTF-16 code units */
            const char *lab = i == 1 ? "left" : "right";
            uint16_t u[8];
            hsize_t ln = strlen(lab), dd[2] = {ln, 1};
            for (hsize_t k = 0; k < ln; k++) u[k] = (uint16_t)lab[k];
            raw_write(rp, H5T_STD_U16LE, H5T_NATIVE_UINT16, 2, dd, u);
            raw_attr_fixed(rp, "MATLAB_class", "char");
        } else {
            double v = 1 + (i % 2);
            hsize_t dd[2] = {1, 1};
            raw_write(rp, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 2, dd, &v);
            raw_attr_fixed(rp, "MATLAB_class", "double");
        }
        H5Rcreate(&cref[i], rf, rp, H5R_OBJECT, -1);
    }
    hsize_t rd[2] = {NT, 1};
    snprintf(fp, sizeof fp, "%s/data", vp);
    raw_write(fp, H5T_STD_REF_OBJ, H5T_STD_REF_OBJ, 2, rd, dref);
    snprintf(fp, sizeof fp, "%s/condition", vp);
    raw_write(fp, H5T_STD_REF_OBJ, H5T_STD_REF_OBJ, 2, rd, cref);
    raw_close();
    if (header) { /* MATLAB's 128-byte text header at the start of the user block */
        unsigned char h[128];
        memset(h, ' ', sizeof h);
        const char *txt = "MATLAB 7.3 MAT-file, Platform: GLNXA64, Created on: Mon Jan  1 00:00:00 2024 HDF5 schema 1.00 .";
        memcpy(h, txt, strlen(txt));
        memset(h + 116, 0, 8);
        h[124] = 0;
        h[125] = 2;
        h[126] = 'I';
        h[127] = 'M';
        FILE *f = fopen(p, "r+b");
        if (!f || fwrite(h, 1, sizeof h, f) != sizeof h) die(p, NULL);
        fclose(f);
    }
}

#ifdef ND_HAVE_LIBMATIO
/* MATLAB v5 via libmatio: struct array D (1 x 3) with fields data (N x T double) and condition */
static void mat5_file(const char *harness, const char *name, int compress, int char_cond) {
    char p[1024];
    mkdirs(harness);
    seed_path(p, sizeof p, harness, name);
    mat_t *mf = Mat_CreateVer(p, NULL, MAT_FT_MAT5);
    if (!mf) die(p, NULL);
    enum { NT = 3, N = 2, T = 220 };
    size_t sd[2] = {1, NT};
    const char *fields[2] = {"data", "condition"};
    matvar_t *st = Mat_VarCreateStruct("D", 2, sd, fields, 2);
    for (int i = 0; i < NT; i++) {
        double x[N * T];
        mat_counts(x, N, T, i);
        size_t dd[2] = {N, T};
        Mat_VarSetStructFieldByName(st, "data", (size_t)i, Mat_VarCreate(NULL, MAT_C_DOUBLE, MAT_T_DOUBLE, 2, dd, x, 0));
        if (char_cond) {
            const char *lab = i == 1 ? "left" : "right";
            size_t cd[2] = {1, strlen(lab)};
            Mat_VarSetStructFieldByName(st, "condition", (size_t)i,
                                        Mat_VarCreate(NULL, MAT_C_CHAR, MAT_T_UTF8, 2, cd, (void *)lab, 0));
        } else {
            double v = 1 + (i % 2);
            size_t cd[2] = {1, 1};
            Mat_VarSetStructFieldByName(st, "condition", (size_t)i,
                                        Mat_VarCreate(NULL, MAT_C_DOUBLE, MAT_T_DOUBLE, 2, cd, &v, 0));
        }
    }
    if (Mat_VarWrite(mf, st, compress ? MAT_COMPRESSION_ZLIB : MAT_COMPRESSION_NONE) != 0) die(p, NULL);
    Mat_VarFree(st);
    Mat_Close(mf);
}
#endif

static void mat_seeds(const char *H) {
    mat73_file(H, "v73_header_charcond", 1, 1, "D");
    mat73_file(H, "v73_noheader_numcond_dat", 0, 0, "dat");
#ifdef ND_HAVE_LIBMATIO
    mat5_file(H, "v5_plain_charcond", 0, 1);
    mat5_file(H, "v5_zlib_numcond", 1, 0);
#endif
}

/* ---------------- checkpoints ---------------- */
static void write_seed_bytes(const char *harness, const char *name, unsigned char mode, const unsigned char *b,
                             size_t n) {
    char p[1024];
    seed_path(p, sizeof p, harness, name);
    FILE *f = fopen(p, "wb");
    if (!f) die(p, NULL);
    fputc(mode, f);
    if (n) fwrite(b, 1, n, f);
    fclose(f);
}

/* a checkpoint as nd_lfads_train writes it, for a tiny model */
static void ckpt_seed(const char *name, const char *cfgtext, int N, int T, int E, int Nr, int Tr, int old_dims) {
    const char *H = "fuzz_ckpt";
    mkdirs(H);
    nd_lfads_config c;
    nd_lfads_config_default(&c);
    nd_error e;
    if (nd_lfads_config_parse_text(&c, cfgtext, name, &e)) die(name, &e);
    nd_lfads_model m;
    if (nd_lfads_create_heldout(&m, &c, N, Nr, E, &e)) die(name, &e);
    nd_lfads_init(&m, 1, NULL);
    size_t n = m.n_params;
    float *buf = malloc(sizeof(float) * n * 3);
    for (size_t i = 0; i < n; i++) {
        buf[i] = (float)m.params[i];
        buf[n + i] = 0.01f * (float)(i % 7);
        buf[2 * n + i] = 0.001f * (float)(i % 5);
    }
    char *cfg = nd_lfads_config_to_text(&m.cfg);
    int32_t d[7] = {N, T, E, 10, 3, Nr, Tr};
    nd_train_state st;
    memset(&st, 0, sizeof st);
    st.epoch = 3;
    st.step = 12;
    st.lr = 0.004;
    st.best_epoch = -1;
    nd_ckpt_section s[] = {
        {"config", cfg, strlen(cfg) + 1},     {"dims", d, old_dims ? sizeof(int32_t) * 5 : sizeof d},
        {"params", buf, sizeof(float) * n}, {"adam_m", buf + n, sizeof(float) * n},
        {"adam_v", buf + 2 * n, sizeof(float) * n}, {"state", &st, sizeof st},
    };
    char p[1024];
    snprintf(p, sizeof p, "%s/%s/.tmp.ckpt", outdir, H);
    if (nd_ckpt_write(p, s, 6, &e)) die(p, &e);
    FILE *f = fopen(p, "rb");
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    rewind(f);
    unsigned char *b = malloc((size_t)size);
    if (fread(b, 1, (size_t)size, f) != (size_t)size) die(p, NULL);
    fclose(f);
    remove(p);
    char nm[256];
    snprintf(nm, sizeof nm, "%s_raw", name);
    write_seed_bytes(H, nm, 1, b, (size_t)size); /* odd mode byte: the file as is */
    snprintf(nm, sizeof nm, "%s_fixcrc", name);
    write_seed_bytes(H, nm, 0, b, (size_t)size - 12); /* even: harness appends CRC + trailer */
    free(b);
    free(cfg);
    free(buf);
    nd_lfads_free(&m);
}

/* config text: only the keys that differ from the defaults (the full text is also a seed) */
static const char *TINY_CTRL = "gen_dim = 3\ncon_dim = 2\nco_dim = 1\nic_enc_dim = 2\nci_enc_dim = 2\n"
                               "ic_dim = 2\nfac_dim = 2\n";
static const char *TINY_NOCTRL = "gen_dim: 2\ncon_dim: 0\nco_dim: 0\nic_enc_dim: 2\nci_enc_dim: 0\n"
                                 "ic_dim: 1\nfac_dim: 2\n";

static void ckpt_seeds(void) {
    ckpt_seed("ctrl_heldout", TINY_CTRL, 3, 4, 1, 4, 5, 0);
    ckpt_seed("noctrl", TINY_NOCTRL, 2, 3, 0, 2, 3, 0);
    ckpt_seed("old_dims5", TINY_NOCTRL, 2, 3, 0, 2, 3, 1);
}

static void write_text(const char *harness, const char *name, const char *text) {
    char p[1024];
    mkdirs(harness);
    seed_path(p, sizeof p, harness, name);
    FILE *f = fopen(p, "wb");
    if (!f) die(p, NULL);
    fputs(text, f);
    fclose(f);
}

static void config_seeds(void) {
    nd_lfads_config c;
    nd_lfads_config_default(&c);
    char *t = nd_lfads_config_to_text(&c);
    write_text("fuzz_config", "defaults", t);
    free(t);
    write_text("fuzz_config", "tiny_ctrl", TINY_CTRL);
    write_text("fuzz_config", "tiny_colon", TINY_NOCTRL);
    write_text("fuzz_config", "comments",
               "# LFADS config\n\n  lr_init = 1e-3   # Adam\nkl_ic_scale=0.5\r\nseed = -42\nco_prior_ar1 = 0\n"
               "valid_fraction = 0.25\nmax_grad_norm = 2.5e2\n");
    write_text("fuzz_config_set", "one", "gen_dim=64");
    write_text("fuzz_config_set", "several", "lr_init = 0.01\nseed=123456789012\nco_prior_ar1=1\ndropout_rate=0.3");
    write_text("fuzz_config_set", "spaces", "  batch_size =  16 \nadam_epsilon=1e-8\ncell_clip=5.0");
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: make_seeds OUTDIR\n");
        return 2;
    }
    outdir = argv[1];
    mkdir(outdir, 0755);
    lfads_seeds();
    torch_seeds();
    ckpt_seeds();
    config_seeds();
    nwb_seeds();
    triplet_seeds();
    h5x_seeds();
    mat_seeds("fuzz_mat");
    /* 'neurodyn convert' reads all of them (and must refuse LFADS files) */
    mat_seeds("fuzz_convert");
    nwb_file("fuzz_convert", "nwb", 0, 1, 1, 0);
    triplet_file("fuzz_convert", "triplets", "/spike_times", 0, 0);
    h5w w;
    mkdirs("fuzz_convert");
    h5_open(&w, "fuzz_convert", "lfads_torch");
    counts(&w, "train_encod_data", 3, 2, 2, 0, 21);
    h5_close(&w);
    return 0;
}
