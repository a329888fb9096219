/* Spike-time triplets, MATLAB v7.3 (written here with the HDF5 C API the way MATLAB lays out a struct
 * array: a group of object-reference datasets into /#refs#) and v5 (written with libmatio) readers, the
 * held-out / split selection and the lfads-torch writer, and the real recording in ../shared (skipped when
 * absent). Counts are checked against values worked out by hand; every bad input's message must name the
 * file and the path inside it. ND_TEST_VERBOSE=1 prints the messages. */
#include "test.h"
#include "../src/core/mem.h"
#include "../src/io/binning.h"
#include "../src/io/convert.h"
#include "../src/io/h5.h"
#include "../src/io/lfads_data.h"
#include "../src/io/mat.h"
#include "../src/io/triplets.h"
#include <hdf5.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "matio_weak.h"

static char dir[256];
static int verbose;

static void path_in(char *out, size_t cap, const char *name) { snprintf(out, cap, "%s/%s", dir, name); }

/* ---------------------------------------------------------------- raw HDF5 */
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
static void put_i(hid_t f, const char *name, const int *x, hsize_t n) {
    put(f, name, H5T_NATIVE_INT, H5T_STD_I32LE, 1, &n, x);
}
static void attr_fixed(hid_t f, const char *obj, const char *name, const char *v) {
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, strlen(v));
    hid_t sp = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate_by_name(f, obj, name, t, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Awrite(a, t, v);
    H5Aclose(a);
    H5Sclose(sp);
    H5Tclose(t);
}

#define C3(b, i, k, u) ((b)->counts[(((size_t)(i) * (size_t)((b)->T + (b)->fp)) + (size_t)(k)) * (size_t)(b)->N + (size_t)(u)])

static int msg_ok(const char *msg, const char *file, const char *where, const char *what) {
    if (verbose) printf("    -> %s\n", msg);
    return strstr(msg, file) && strstr(msg, where) && strstr(msg, what) && !strchr(msg, '\n');
}

/* ---------------------------------------------------------------- triplets */
typedef struct {
    int no_group, no_neuron, string_time, nan_time, short_trial, neg_neuron, frac_neuron, at_edge;
} trip_variant;

/* bin 10 ms: trial 0: neuron 0 at 0, 9.999999 (bin 0), 10 (bin 1); neuron 1 at 29.5 (bin 2);
 * trial 1: neuron 2 at 5 (bin 0); trial 2: neuron 0 at 15 (bin 1). Latest spike 29.5 -> trials span 30 ms. */
static void make_triplets(const char *path, const trip_variant *v) {
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    double t[6] = {0, 9.999999, 10, 29.5, 5, 15};
    int nu[6] = {0, 0, 0, 1, 2, 0}, tr[6] = {0, 0, 0, 0, 1, 2};
    const char *g = v->no_group ? "other" : "spike_times";
    char p[64];
    if (v->nan_time) t[2] = NAN;
    if (v->neg_neuron) nu[1] = -1;
    if (v->at_edge) t[3] = 30; /* exactly on an edge: opens bin 3 */
    snprintf(p, sizeof p, "%s/time_ms", g);
    if (v->string_time) {
        const char *s[6] = {"0", "1", "2", "3", "4", "5"};
        hid_t ty = H5Tcopy(H5T_C_S1);
        H5Tset_size(ty, H5T_VARIABLE);
        hsize_t n = 6;
        put(f, p, ty, ty, 1, &n, s);
        H5Tclose(ty);
    } else put_d(f, p, t, 6);
    snprintf(p, sizeof p, "%s/neuron", g);
    if (v->frac_neuron) {
        double fn[6] = {0, 1.5, 0, 1, 2, 0};
        put_d(f, p, fn, 6);
    } else if (!v->no_neuron) put_i(f, p, nu, 6);
    snprintf(p, sizeof p, "%s/trial", g);
    put_i(f, p, tr, v->short_trial ? 5 : 6);
    int stim[3] = {4, 4, 9};
    put_i(f, "stim", stim, 3);
    H5Fclose(f);
}

static void test_triplets(nd_test_ctx *ctx) {
    char p[512];
    path_in(p, sizeof p, "trip.h5");
    trip_variant v = {0};
    make_triplets(p, &v);
    nd_bin_opts o;
    nd_bin_opts_default(&o);
    o.bin_ms = 10;
    nd_binned b;
    nd_error err = {0};
    nd_status st = nd_triplets_read(p, &o, &b, &err);
    CHECK(ctx, st == ND_OK && b.n == 3 && b.T == 3 && b.N == 3 && b.fp == 0, "%s n %d T %d N %d", err.msg, b.n, b.T,
          b.N);
    if (!st) {
        float want[3][3][3] = {{{0}}};
        want[0][0][0] = 2;
        want[0][1][0] = 1;
        want[0][2][1] = 1;
        want[1][0][2] = 1;
        want[2][1][0] = 1;
        int bad = 0;
        for (int i = 0; i < 3; i++)
            for (int k = 0; k < 3; k++)
                for (int u = 0; u < 3; u++)
                    if (C3(&b, i, k, u) != want[i][k][u] && bad++ < 5)
                        CHECK(ctx, 0, "trial %d bin %d unit %d: %g want %g", i, k, u, (double)C3(&b, i, k, u),
                              (double)want[i][k][u]);
        CHECK(ctx, b.window_start_ms == 0 && b.window_end_ms == 30, "extent %g..%g", b.window_start_ms, b.window_end_ms);
        nd_binned_free(&b);
    }
    /* window 10:20 + 1 forward bin; condition dataset at the root; --trials beyond the largest index */
    o.has_window = 1;
    o.win_start_ms = 10;
    o.win_end_ms = 20;
    o.fp_bins = 1;
    o.n_trials = 4;
    st = nd_triplets_read(p, &o, &b, &err);
    CHECK(ctx, st == ND_OK && b.n == 4 && b.T == 1 && b.fp == 1, "%s", err.msg);
    if (!st) {
        CHECK(ctx, C3(&b, 0, 0, 0) == 1 && C3(&b, 0, 1, 1) == 1 && C3(&b, 2, 0, 0) == 1 && C3(&b, 1, 0, 2) == 0,
              "window 10:20 + fp");
        nd_binned_free(&b);
    }
    o.n_trials = 0;
    o.condition = "stim";
    st = nd_triplets_read(p, &o, &b, &err);
    CHECK(ctx, st == ND_OK && b.condition && b.n_conditions == 2 && b.condition[0] == 0 && b.condition[1] == 0 &&
                   b.condition[2] == 1 && !strcmp(b.condition_names[1], "9"),
          "conditions: %s", err.msg);
    if (!st) nd_binned_free(&b);
    /* forward bins without a window: the trial's last bins */
    nd_bin_opts_default(&o);
    o.bin_ms = 10;
    o.fp_bins = 1;
    st = nd_triplets_read(p, &o, &b, &err);
    CHECK(ctx, st == ND_OK && b.T == 2 && b.fp == 1 && C3(&b, 0, 2, 1) == 1, "fp without window: %s", err.msg);
    if (!st) nd_binned_free(&b);
    /* a spike exactly at 30 ms needs a fourth bin */
    path_in(p, sizeof p, "trip_edge.h5");
    v.at_edge = 1;
    make_triplets(p, &v);
    o.fp_bins = 0;
    st = nd_triplets_read(p, &o, &b, &err);
    CHECK(ctx, st == ND_OK && b.T == 4 && C3(&b, 0, 3, 1) == 1 && C3(&b, 0, 2, 1) == 0, "edge: %s T %d", err.msg, b.T);
    if (!st) nd_binned_free(&b);
    /* through the format dispatcher */
    path_in(p, sizeof p, "trip.h5");
    CHECK(ctx, nd_detect_format(p, NULL, &err) == ND_FMT_TRIPLETS, "detect");
    st = nd_read_binned(p, &o, &b, &err);
    CHECK(ctx, st == ND_OK && !strcmp(b.format, "triplets"), "%s", err.msg);
    if (!st) nd_binned_free(&b);
}

static void trip_bad(nd_test_ctx *ctx, const char *name, const trip_variant *v, const nd_bin_opts *o, const char *where,
                     const char *what) {
    char p[512];
    path_in(p, sizeof p, name);
    make_triplets(p, v);
    nd_binned b;
    nd_error err = {0};
    nd_status st = nd_triplets_read(p, o, &b, &err);
    CHECK(ctx, st != ND_OK && msg_ok(err.msg, p, where, what), "%s: '%s' (want %s ... %s)", name,
          st ? err.msg : "success", where, what);
    if (!st) nd_binned_free(&b);
}

static void test_triplets_bad(nd_test_ctx *ctx) {
    nd_bin_opts o;
    nd_bin_opts_default(&o);
    o.bin_ms = 10;
    trip_variant v;
#define TBAD(field, name, where, what)                                                                                 \
    do {                                                                                                               \
        memset(&v, 0, sizeof v);                                                                                       \
        v.field = 1;                                                                                                   \
        trip_bad(ctx, name, &v, &o, where, what);                                                                      \
    } while (0)
    TBAD(no_group, "t_nogroup.h5", "/spike_times", "missing group");
    TBAD(no_neuron, "t_noneuron.h5", "/spike_times/neuron", "missing dataset");
    TBAD(string_time, "t_string.h5", "/spike_times/time_ms", "type string is not numeric");
    TBAD(nan_time, "t_nan.h5", "/spike_times/time_ms", "element 2 is NaN");
    TBAD(short_trial, "t_short.h5", "/spike_times/trial", "has 5 elements (rank 1), /spike_times/time_ms has 6");
    TBAD(neg_neuron, "t_neg.h5", "/spike_times/neuron", "element 1 = -1 is not a unit index");
    TBAD(frac_neuron, "t_frac.h5", "/spike_times/neuron", "element 1 = 1.5 is not a whole number");
    memset(&v, 0, sizeof v);
    o.has_window = 1;
    o.win_start_ms = 0;
    o.win_end_ms = 40;
    trip_bad(ctx, "t_window.h5", &v, &o, "/spike_times/time_ms", "outside the trials' extent [0, 30) ms");
    /* the dispatcher on an HDF5 file with nothing it knows */
    char p[512];
    path_in(p, sizeof p, "t_nogroup.h5");
    nd_bin_opts_default(&o);
    o.bin_ms = 10;
    nd_binned b;
    nd_error err = {0};
    CHECK(ctx, nd_read_binned(p, &o, &b, &err) == ND_ERR_FORMAT && msg_ok(err.msg, p, "/:", "no /units (NWB)"),
          "dispatch: %s", err.msg);
    o.group = "other"; /* the triplets are there under another name */
    nd_status st = nd_read_binned(p, &o, &b, &err);
    CHECK(ctx, st == ND_OK && b.n == 3, "--group other: %s", err.msg);
    if (!st) nd_binned_free(&b);
    path_in(p, sizeof p, "t_noneuron.h5");
    o.group = "spike_times";
    CHECK(ctx, nd_read_binned(p, &o, &b, &err) == ND_ERR_FORMAT &&
                   msg_ok(err.msg, p, "/spike_times/neuron", "missing dataset"),
          "dispatch with --group: %s", err.msg);
#undef TBAD
}

/* ---------------------------------------------------------------- MATLAB */
/* 3 trials x 2 neurons x 10 ms: trial 0: (n0, 0 ms), (n0, 4), (n0, 5), 2 x (n1, 9); trial 1: (n1, 3);
 * trial 2: 3 x (n0, 7). At 5 ms bins: trial 0 bin 0 n0 = 2, bin 1 n0 = 1, bin 1 n1 = 2; trial 1 bin 0 n1 = 1;
 * trial 2 bin 1 n0 = 3. Conditions "left", "right", "left". */
enum { MN = 2, ML = 10, MT = 3 };
typedef struct {
    int unequal, fraction, rows, char_data, wrong_var, numeric_cond;
} mat_variant;

static void mat_data(const mat_variant *v, double d[MT][MN * 12], int len[MT], int rows[MT]) {
    memset(d, 0, sizeof(double) * MT * MN * 12);
    for (int i = 0; i < MT; i++) len[i] = ML, rows[i] = MN;
#define SET(i, j, t, x) d[i][(t) * MN + (j)] = (x)
    SET(0, 0, 0, 1);
    SET(0, 0, 4, 1);
    SET(0, 0, 5, 1);
    SET(0, 1, 9, 2);
    SET(1, 1, 3, 1);
    SET(2, 0, 7, 3);
    if (v->fraction) SET(1, 0, 2, 0.5);
#undef SET
    if (v->unequal) len[2] = 8;
    if (v->rows) rows[1] = 1;
}

static const char *const CONDS[MT] = {"left", "right", "left"};

static void make_mat73(const char *path, const mat_variant *v) {
    double d[MT][MN * 12];
    int len[MT], rows[MT];
    mat_data(v, d, len, rows);
    hid_t fcpl = H5Pcreate(H5P_FILE_CREATE);
    H5Pset_userblock(fcpl, 512);
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, fcpl, H5P_DEFAULT);
    H5Pclose(fcpl);
    const char *var = v->wrong_var ? "/X" : "/D";
    hid_t g = H5Gcreate2(f, var, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Gclose(g);
    attr_fixed(f, var, "MATLAB_class", "struct");
    g = H5Gcreate2(f, "/#refs#", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Gclose(g);
    hobj_ref_t rd[MT], rc[MT];
    for (int i = 0; i < MT; i++) {
        char p[64];
        snprintf(p, sizeof p, "/#refs#/d%d", i);
        hsize_t dims[2] = {(hsize_t)len[i], (hsize_t)rows[i]}; /* MATLAB rows x cols, stored reversed */
        if (v->char_data && i == 1) {
            uint16_t s[4] = {'a', 'b', 'c', 'd'};
            hsize_t cd[2] = {4, 1};
            put(f, p, H5T_NATIVE_UINT16, H5T_STD_U16LE, 2, cd, s);
            attr_fixed(f, p, "MATLAB_class", "char");
        } else {
            double buf[MN * 12];
            for (int t = 0; t < len[i]; t++)
                for (int j = 0; j < rows[i]; j++) buf[t * rows[i] + j] = d[i][t * MN + j];
            put(f, p, H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE, 2, dims, buf);
            attr_fixed(f, p, "MATLAB_class", "double");
        }
        H5Rcreate(&rd[i], f, p, H5R_OBJECT, -1);
        snprintf(p, sizeof p, "/#refs#/c%d", i);
        if (v->numeric_cond) {
            double x = i == 1 ? 7 : 3;
            hsize_t cd[2] = {1, 1};
            put(f, p, H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE, 2, cd, &x);
            attr_fixed(f, p, "MATLAB_class", "double");
        } else {
            uint16_t s[8];
            size_t n = strlen(CONDS[i]);
            for (size_t k = 0; k < n; k++) s[k] = (uint16_t)CONDS[i][k];
            hsize_t cd[2] = {n, 1};
            put(f, p, H5T_NATIVE_UINT16, H5T_STD_U16LE, 2, cd, s);
            attr_fixed(f, p, "MATLAB_class", "char");
        }
        H5Rcreate(&rc[i], f, p, H5R_OBJECT, -1);
    }
    char p[64];
    hsize_t rdims[2] = {MT, 1};
    snprintf(p, sizeof p, "%s/data", var);
    put(f, p, H5T_STD_REF_OBJ, H5T_STD_REF_OBJ, 2, rdims, rd);
    attr_fixed(f, p, "MATLAB_class", "cell");
    snprintf(p, sizeof p, "%s/condition", var);
    put(f, p, H5T_STD_REF_OBJ, H5T_STD_REF_OBJ, 2, rdims, rc);
    H5Fclose(f);
    /* MATLAB's 128-byte text header in the user block */
    FILE *fp = fopen(path, "r+b");
    char h[128];
    memset(h, ' ', sizeof h);
    const char *txt = "MATLAB 7.3 MAT-file, Platform: GLNXA64, Created on: Mon Jan  1 00:00:00 2024 HDF5 schema 1.00 .";
    memcpy(h, txt, strlen(txt));
    memset(h + 116, 0, 8);
    h[124] = 0;
    h[125] = 2;
    h[126] = 'I';
    h[127] = 'M';
    fwrite(h, 1, sizeof h, fp);
    fclose(fp);
}

static int make_mat5(const char *path, const mat_variant *v) {
#ifdef HAVE_MATIO_H
    if (!LINKED(Mat_CreateVer) || !LINKED(Mat_VarCreateStruct)) return 0;
    double d[MT][MN * 12];
    int len[MT], rows[MT];
    mat_data(v, d, len, rows);
    mat_t *m = Mat_CreateVer(path, NULL, MAT_FT_MAT5);
    if (!m) return 0;
    const char *fields[2] = {"data", "condition"};
    size_t sd[2] = {1, MT};
    matvar_t *s = Mat_VarCreateStruct(v->wrong_var ? "X" : "D", 2, sd, fields, 2);
    for (int i = 0; i < MT; i++) {
        size_t dims[2] = {(size_t)rows[i], (size_t)len[i]};
        double buf[MN * 12]; /* column-major rows x len */
        for (int t = 0; t < len[i]; t++)
            for (int j = 0; j < rows[i]; j++) buf[t * rows[i] + j] = d[i][t * MN + j];
        matvar_t *f;
        if (v->char_data && i == 1) {
            size_t cd[2] = {1, 4};
            f = Mat_VarCreate(NULL, MAT_C_CHAR, MAT_T_UTF8, 2, cd, (void *)"abcd", 0);
        } else f = Mat_VarCreate(NULL, MAT_C_DOUBLE, MAT_T_DOUBLE, 2, dims, buf, 0);
        Mat_VarSetStructFieldByName(s, "data", (size_t)i, f);
        matvar_t *c;
        if (v->numeric_cond) {
            double x = i == 1 ? 7 : 3;
            size_t cd[2] = {1, 1};
            c = Mat_VarCreate(NULL, MAT_C_DOUBLE, MAT_T_DOUBLE, 2, cd, &x, 0);
        } else {
            size_t cd[2] = {1, strlen(CONDS[i])};
            c = Mat_VarCreate(NULL, MAT_C_CHAR, MAT_T_UTF8, 2, cd, (void *)CONDS[i], 0);
        }
        Mat_VarSetStructFieldByName(s, "condition", (size_t)i, c);
    }
    Mat_VarWrite(m, s, MAT_COMPRESSION_NONE);
    Mat_VarFree(s);
    Mat_Close(m);
    return 1;
#else
    (void)path;
    (void)v;
    return 0;
#endif
}

static void check_mat_counts(nd_test_ctx *ctx, const char *what, const char *p, int v73) {
    nd_bin_opts o;
    nd_bin_opts_default(&o);
    o.bin_ms = 5;
    nd_binned b;
    nd_error err = {0};
    nd_status st = nd_read_binned(p, &o, &b, &err);
    CHECK(ctx, st == ND_OK, "%s: %s", what, err.msg);
    if (st) return;
    CHECK(ctx, b.n == 3 && b.T == 2 && b.N == 2 && !strcmp(b.format, v73 ? "mat-v7.3" : "mat-v5"), "%s: shape %d %d %d %s",
          what, b.n, b.T, b.N, b.format);
    float want[3][2][2] = {{{2, 0}, {1, 2}}, {{0, 1}, {0, 0}}, {{0, 0}, {3, 0}}};
    int bad = 0;
    for (int i = 0; i < 3 && b.n == 3; i++)
        for (int k = 0; k < 2; k++)
            for (int u = 0; u < 2; u++)
                if (C3(&b, i, k, u) != want[i][k][u] && bad++ < 5)
                    CHECK(ctx, 0, "%s: trial %d bin %d neuron %d: %g want %g", what, i, k, u, (double)C3(&b, i, k, u),
                          (double)want[i][k][u]);
    CHECK(ctx, b.condition && b.n_conditions == 2 && b.condition[0] == 0 && b.condition[1] == 1 && b.condition[2] == 0 &&
                   !strcmp(b.condition_names[0], "left") && !strcmp(b.condition_names[1], "right"),
          "%s: conditions", what);
    nd_binned_free(&b);
    /* window 5:10 -> the second 5 ms; window 0:5 + 1 forward bin */
    o.has_window = 1;
    o.win_start_ms = 5;
    o.win_end_ms = 10;
    st = nd_read_binned(p, &o, &b, &err);
    CHECK(ctx, st == ND_OK && b.T == 1 && C3(&b, 0, 0, 0) == 1 && C3(&b, 0, 0, 1) == 2 && C3(&b, 2, 0, 0) == 3,
          "%s: window 5:10 %s", what, err.msg);
    if (!st) nd_binned_free(&b);
    o.win_start_ms = 0;
    o.win_end_ms = 5;
    o.fp_bins = 1;
    st = nd_read_binned(p, &o, &b, &err);
    CHECK(ctx, st == ND_OK && b.T == 1 && b.fp == 1 && C3(&b, 0, 1, 1) == 2, "%s: fp %s", what, err.msg);
    if (!st) nd_binned_free(&b);
}

static void test_mat73(nd_test_ctx *ctx) {
    char p[512];
    path_in(p, sizeof p, "d73.mat");
    mat_variant v = {0};
    make_mat73(p, &v);
    nd_error err = {0};
    CHECK(ctx, nd_mat_version(p) == 73 && nd_detect_format(p, NULL, &err) == ND_FMT_MAT73, "detect v7.3");
    check_mat_counts(ctx, "v7.3", p, 1);
    v.numeric_cond = 1;
    path_in(p, sizeof p, "d73n.mat");
    make_mat73(p, &v);
    nd_bin_opts o;
    nd_bin_opts_default(&o);
    o.bin_ms = 5;
    nd_binned b;
    nd_status st = nd_read_binned(p, &o, &b, &err);
    CHECK(ctx, st == ND_OK && b.n_conditions == 2 && !strcmp(b.condition_names[0], "3") &&
                   !strcmp(b.condition_names[1], "7"),
          "numeric conditions: %s", err.msg);
    if (!st) nd_binned_free(&b);
}

static void mat_bad(nd_test_ctx *ctx, int v73, const char *name, const mat_variant *v, const nd_bin_opts *o,
                    const char *where, const char *what) {
    char p[512];
    path_in(p, sizeof p, name);
    if (v73) make_mat73(p, v);
    else if (!make_mat5(p, v)) return;
    nd_binned b;
    nd_error err = {0};
    nd_status st = nd_read_binned(p, o, &b, &err);
    CHECK(ctx, st != ND_OK && msg_ok(err.msg, p, where, what), "%s: '%s' (want %s ... %s)", name,
          st ? err.msg : "success", where, what);
    if (!st) nd_binned_free(&b);
}

static void mat_bad_all(nd_test_ctx *ctx, int v73) {
    nd_bin_opts o;
    nd_bin_opts_default(&o);
    o.bin_ms = 5;
    mat_variant v;
    char nm[64];
#define MBAD(field, tag, where, what)                                                                                  \
    do {                                                                                                               \
        memset(&v, 0, sizeof v);                                                                                       \
        v.field = 1;                                                                                                   \
        snprintf(nm, sizeof nm, "%s_%s.mat", tag, v73 ? "73" : "5");                                                   \
        mat_bad(ctx, v73, nm, &v, &o, where, what);                                                                    \
    } while (0)
    MBAD(unequal, "unequal", "D.data", "trials have different lengths (8 ms in D(3), 10 ms in D(1))");
    MBAD(fraction, "fraction", "D(2).data(1,3)", "= 0.5 is not a whole spike count");
    MBAD(rows, "rows", "D(2).data", "has 1 rows (neurons)");
    MBAD(char_data, "chardata", "D(2).data", "is a MATLAB char");
    MBAD(wrong_var, "novar", v73 ? "/D" : "D", "missing variable");
    /* a window that the short trial cannot hold: dropped with a warning, an error with --strict */
    memset(&v, 0, sizeof v);
    v.unequal = 1;
    char p[512];
    snprintf(nm, sizeof nm, "short_%s.mat", v73 ? "73" : "5");
    path_in(p, sizeof p, nm);
    if (v73 || make_mat5(p, &v)) {
        if (v73) make_mat73(p, &v);
        o.has_window = 1;
        o.win_start_ms = 0;
        o.win_end_ms = 10;
        nd_binned b;
        nd_error err = {0};
        nd_status st = nd_read_binned(p, &o, &b, &err);
        CHECK(ctx, st == ND_OK && b.n == 2 && b.n_warnings >= 1 &&
                       msg_ok(b.warnings[0], p, "D.data", "dropped 1 of 3 trials shorter than the window"),
              "short trial dropped: %s", st ? err.msg : (b.n_warnings ? b.warnings[0] : "no warning"));
        if (!st) nd_binned_free(&b);
        o.strict = 1;
        st = nd_read_binned(p, &o, &b, &err);
        CHECK(ctx, st == ND_ERR_FORMAT && msg_ok(err.msg, p, "D(3).data", "8 ms is shorter than the window"),
              "strict short: %s", err.msg);
        o.strict = 0;
        o.win_end_ms = 7; /* not a whole number of 5 ms bins */
        CHECK(ctx, nd_read_binned(p, &o, &b, &err) == ND_ERR_ARG && strstr(err.msg, "whole"), "window: %s", err.msg);
        o.has_window = 0;
        o.bin_ms = 2.5;
        CHECK(ctx, nd_read_binned(p, &o, &b, &err) == ND_ERR_ARG && strstr(err.msg, "whole number of ms"), "bin: %s",
              err.msg);
    }
#undef MBAD
}

static void test_mat73_bad(nd_test_ctx *ctx) { mat_bad_all(ctx, 1); }

/* MATLAB char data to UTF-8, as v5 (1- or 2-byte code units) and v7.3 (code units as doubles) store it */
static void test_mat_utf8(nd_test_ctx *ctx) {
    const char *want = "A\xc3\xa9\xe2\x82\xac"; /* A, e acute (U+00E9), euro sign (U+20AC) */
    const uint16_t u16[3] = {0x41, 0xE9, 0x20AC};
    const double f64[3] = {0x41, 0xE9, 0x20AC};
    const unsigned char u8[2] = {0x41, 0xE9};
    char *a = nd_mat_utf8(u16, 3, 2), *b = nd_mat_utf8(f64, 3, 8), *c = nd_mat_utf8(u8, 2, 1), *e = nd_mat_utf8(u8, 0, 1);
    CHECK(ctx, a && !strcmp(a, want), "UTF-16 units: '%s'", a ? a : "(null)");
    CHECK(ctx, b && !strcmp(b, want), "units as doubles: '%s'", b ? b : "(null)");
    CHECK(ctx, c && !strcmp(c, "A\xc3\xa9"), "bytes: '%s'", c ? c : "(null)");
    CHECK(ctx, e && !e[0], "empty");
    free(a);
    free(b);
    free(c);
    free(e);
}

static void test_mat5(nd_test_ctx *ctx) {
    if (!nd_mat5_available()) SKIP(ctx, "built without libmatio (-lmatio): MATLAB v5 reading is unavailable");
    char p[512];
    path_in(p, sizeof p, "d5.mat");
    mat_variant v = {0};
    if (!make_mat5(p, &v)) SKIP(ctx, "libmatio's writer is unavailable in this build");
    nd_error err = {0};
    CHECK(ctx, nd_mat_version(p) == 5 && nd_detect_format(p, NULL, &err) == ND_FMT_MAT5, "detect v5");
    check_mat_counts(ctx, "v5", p, 0);
    mat_bad_all(ctx, 0);
    /* not a MAT-file */
    path_in(p, sizeof p, "junk.mat");
    FILE *fp = fopen(p, "w");
    fputs("%% just text\n", fp);
    fclose(fp);
    nd_bin_opts o;
    nd_bin_opts_default(&o);
    o.bin_ms = 5;
    nd_binned b;
    CHECK(ctx, nd_read_binned(p, &o, &b, &err) != ND_OK && strstr(err.msg, p), "junk: %s", err.msg);
}

/* ---------------------------------------------------------------- selection and writer */
static void fake_binned(nd_binned *b, int n, int T, int fp, int N) {
    memset(b, 0, sizeof *b);
    snprintf(b->source, sizeof b->source, "fake.nwb");
    snprintf(b->format, sizeof b->format, "nwb");
    nd_error err;
    nd_binned_alloc(b, n, T, fp, N, 1, &err);
    for (int i = 0; i < n; i++) {
        b->trial_ids[i] = 100 + i;
        for (int t = 0; t < T + fp; t++)
            for (int u = 0; u < N; u++) C3(b, i, t, u) = (float)(i * 100 + t * 10 + u);
        for (int t = 0; t < T; t++) b->behavior[(size_t)i * T + t] = (float)i + 0.5f * (float)t;
    }
    char *keys[64];
    for (int i = 0; i < n; i++) keys[i] = i % 3 ? "a" : "b";
    nd_binned_set_conditions(b, keys, &err);
    snprintf(b->behavior_name, sizeof b->behavior_name, "/processing/behavior/hand_vel");
    b->n_source_trials = n + 2;
    b->window_start_ms = -250;
    b->window_end_ms = -230;
    snprintf(b->align, sizeof b->align, "move_onset_time");
}

static void test_assign_and_write(nd_test_ctx *ctx) {
    nd_binned b;
    fake_binned(&b, 10, 4, 2, 5);
    nd_convert_opts co;
    nd_convert_opts_default(&co);
    co.heldout_fraction = 0.4;
    co.test_fraction = 0.1;
    co.seed = 7;
    co.keep_test_targets = 1;
    nd_assignment a, a2;
    nd_error err = {0};
    nd_status st = nd_convert_assign(&b, &co, &a, &err);
    CHECK(ctx, st == ND_OK, "%s", err.msg);
    if (st) {
        nd_binned_free(&b);
        return;
    }
    CHECK(ctx, a.n_heldout == 2 && a.n_heldin == 3, "held out %d", a.n_heldout);
    CHECK(ctx, a.count[0] == 7 && a.count[1] == 2 && a.count[2] == 1, "splits %d %d %d", a.count[0], a.count[1],
          a.count[2]);
    for (int j = 1; j < a.n_heldin; j++) CHECK(ctx, a.heldin[j] > a.heldin[j - 1], "held-in ascending");
    CHECK(ctx, nd_convert_assign(&b, &co, &a2, &err) == ND_OK && !memcmp(a.split, a2.split, 10) &&
                   !memcmp(a.heldout, a2.heldout, sizeof(int) * 2),
          "same seed, same selection");
    nd_assignment_free(&a2);
    /* the file's own split / heldout columns win unless ignored */
    b.split = nd_alloc(10);
    b.heldout = nd_alloc(5);
    for (int i = 0; i < 10; i++) b.split[i] = i < 6 ? 0 : i < 9 ? 1 : 2;
    b.heldout[4] = 1;
    snprintf(b.split_source, sizeof b.split_source, "/intervals/trials/split");
    CHECK(ctx, nd_convert_assign(&b, &co, &a2, &err) == ND_OK && a2.count[1] == 3 && a2.count[2] == 1 &&
                   a2.n_heldout == 1 && a2.heldout[0] == 4 && !strcmp(a2.split_source, "/intervals/trials/split"),
          "file split and heldout");
    nd_assignment_free(&a2);
    co.ignore_file_split = co.ignore_file_heldout = 1;
    CHECK(ctx, nd_convert_assign(&b, &co, &a2, &err) == ND_OK && !memcmp(a.split, a2.split, 10) && a2.n_heldout == 2,
          "ignore the file's columns");
    nd_assignment_free(&a2);
    /* impossible fractions */
    nd_convert_opts bad = co;
    bad.valid_fraction = 0.5;
    bad.test_fraction = 0.5;
    CHECK(ctx, nd_convert_assign(&b, &bad, &a2, &err) == ND_ERR_ARG && strstr(err.msg, "no training trial"), "%s",
          err.msg);
    bad = co;
    bad.heldout_fraction = 0.95;
    CHECK(ctx, nd_convert_assign(&b, &bad, &a2, &err) == ND_ERR_ARG && strstr(err.msg, "no held-in"), "%s", err.msg);

    /* write and read back */
    char p[512];
    path_in(p, sizeof p, "out.h5");
    nd_bin_opts bo;
    nd_bin_opts_default(&bo);
    bo.bin_ms = 5;
    st = nd_convert_write(&b, &a, &bo, &co, p, &err);
    CHECK(ctx, st == ND_OK, "%s", err.msg);
    if (st) goto done;
    static const char *const sp[3] = {"train", "valid", "test"};
    for (int s = 0; s < 3; s++) {
        char nm[64];
        float *enc = NULL, *rec = NULL;
        int *inds = NULL, *cond = NULL, rank;
        size_t de[8], dr[8], di[8];
        snprintf(nm, sizeof nm, "%s_encod_data", sp[s]);
        CHECK(ctx, nd_h5_read_float(p, nm, &enc, &rank, de, &err) == ND_OK && rank == 3 && de[0] == (size_t)a.count[s] &&
                       de[1] == 4 && de[2] == 3,
              "%s %s", nm, err.msg);
        snprintf(nm, sizeof nm, s < 2 ? "%s_recon_data" : "%s_recon_data_eval", sp[s]);
        CHECK(ctx, nd_h5_read_float(p, nm, &rec, &rank, dr, &err) == ND_OK && rank == 3 && dr[1] == 6 && dr[2] == 5,
              "%s %s", nm, err.msg);
        snprintf(nm, sizeof nm, "%s_inds", sp[s]);
        CHECK(ctx, nd_h5_read_int(p, nm, &inds, &rank, di, &err) == ND_OK && di[0] == (size_t)a.count[s], "%s", nm);
        snprintf(nm, sizeof nm, "%s_condition", sp[s]);
        CHECK(ctx, nd_h5_read_int(p, nm, &cond, &rank, di, &err) == ND_OK, "%s", nm);
        if (enc && rec && inds && cond) {
            for (int q = 0; q < a.count[s]; q++) {
                int i = inds[q] - 100;
                CHECK(ctx, i >= 0 && i < 10 && a.split[i] == s && (q == 0 || inds[q] > inds[q - 1]), "inds");
                if (i < 0 || i >= 10) continue;
                CHECK(ctx, cond[q] == (i % 3 ? 1 : 0), "condition of trial %d", i);
                for (int t = 0; t < 6; t++)
                    for (int u = 0; u < 5; u++) {
                        int orig = u < 3 ? a.heldin[u] : a.heldout[u - 3]; /* held-in first */
                        float want = (float)(i * 100 + t * 10 + orig);
                        if (rec[((size_t)q * 6 + t) * 5 + u] != want) {
                            CHECK(ctx, 0, "%s recon trial %d bin %d col %d", sp[s], i, t, u);
                            t = 6;
                            break;
                        }
                        if (t < 4 && u < 3 && enc[((size_t)q * 4 + t) * 3 + u] != want) {
                            CHECK(ctx, 0, "%s encod trial %d bin %d col %d", sp[s], i, t, u);
                            t = 6;
                            break;
                        }
                    }
            }
        }
        nd_free(enc);
        nd_free(rec);
        nd_free(inds);
        nd_free(cond);
    }
    CHECK(ctx, !nd_h5_exists(p, "test_recon_data"), "test trials carry no recon_data");
    float *beh = NULL;
    int rank;
    size_t db[8];
    CHECK(ctx, nd_h5_read_float(p, "valid_behavior", &beh, &rank, db, &err) == ND_OK && rank == 3 && db[1] == 4 &&
                   db[2] == 1,
          "behaviour %s", err.msg);
    nd_free(beh);
    int *hi = NULL, *ho = NULL;
    size_t dh[8];
    CHECK(ctx, nd_h5_read_int(p, "heldin_neurons", &hi, &rank, dh, &err) == ND_OK && dh[0] == 3 && hi[0] == a.heldin[0],
          "heldin_neurons");
    CHECK(ctx, nd_h5_read_int(p, "heldout_neurons", &ho, &rank, dh, &err) == ND_OK && dh[0] == 2 && ho[1] == a.heldout[1],
          "heldout_neurons");
    nd_free(hi);
    nd_free(ho);
    double bin = 0, fpb = 0;
    char s[256];
    CHECK(ctx, nd_h5_read_attr_double(p, "/", "bin_ms", &bin, &err) == ND_OK && bin == 5, "bin_ms");
    CHECK(ctx, nd_h5_read_attr_double(p, "/", "fp_bins", &fpb, &err) == ND_OK && fpb == 2, "fp_bins");
    CHECK(ctx, nd_h5_read_attr_string(p, "/", "window_ms", s, sizeof s, &err) == ND_OK && !strcmp(s, "-250:-230"),
          "window_ms '%s'", s);
    CHECK(ctx, nd_h5_read_attr_string(p, "/", "align_event", s, sizeof s, &err) == ND_OK && !strcmp(s, "move_onset_time"),
          "align_event");
    CHECK(ctx, nd_h5_read_attr_string(p, "/", "condition_names", s, sizeof s, &err) == ND_OK && !strcmp(s, "b\na"),
          "condition_names '%s'", s);
    /* the LFADS reader takes it: held-out neurons and forward bins in recon_data */
    nd_lfads_data d;
    st = nd_lfads_data_read(p, 0, 0.2, &d, &err);
    CHECK(ctx, st == ND_OK && d.N == 3 && d.Nr == 5 && d.T == 4 && d.Tr == 6 && d.split[ND_TRAIN].n == 7 && d.split[ND_VALID].n == 2,
          "nd_lfads_data_read: %s", err.msg);
    if (!st) nd_lfads_data_free(&d);
    /* atomic: a failed write leaves no file */
    path_in(p, sizeof p, "nodir/out.h5");
    CHECK(ctx, nd_convert_write(&b, &a, &bo, &co, p, &err) == ND_ERR_IO && strstr(err.msg, p), "bad dir: %s", err.msg);
done:
    nd_assignment_free(&a);
    nd_binned_free(&b);
}

/* ---------------------------------------------------------------- binned counts */
static void attr_double(hid_t f, const char *obj, const char *name, double v) {
    hid_t sp = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate_by_name(f, obj, name, H5T_IEEE_F64LE, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Awrite(a, H5T_NATIVE_DOUBLE, &v);
    H5Aclose(a);
    H5Sclose(sp);
}

/* 4 trials x 7 bins of 10 ms x 2 units, count(i, t, u) = i + t + u (trial 1: one 0.5 when frac);
 * split train, val, none, test; condition 5, 7, 5, 9 */
static void make_counts(const char *path, int with_bin_ms, int frac) {
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    double x[4 * 7 * 2];
    for (int i = 0; i < 4; i++)
        for (int t = 0; t < 7; t++)
            for (int u = 0; u < 2; u++) x[(i * 7 + t) * 2 + u] = i + t + u;
    if (frac) x[17] = 0.5;
    hsize_t d[3] = {4, 7, 2};
    put(f, "spikes", H5T_NATIVE_DOUBLE, frac ? H5T_IEEE_F64LE : H5T_STD_U16LE, 3, d, x);
    if (with_bin_ms) attr_double(f, "/", "bin_ms", 10);
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, 5);
    const char sp[4][5] = {"train", "val", "none", "test"};
    hsize_t n4 = 4;
    put(f, "split", t, t, 1, &n4, sp);
    H5Tclose(t);
    int cond[4] = {5, 7, 5, 9};
    put_i(f, "sound", cond, 4);
    H5Fclose(f);
}

static void test_counts(nd_test_ctx *ctx) {
    char p[512];
    path_in(p, sizeof p, "counts.h5");
    make_counts(p, 1, 0);
    nd_error err = {0};
    CHECK(ctx, nd_detect_format(p, NULL, &err) == ND_FMT_COUNTS, "format");
    nd_bin_opts o;
    nd_bin_opts_default(&o);
    o.bin_ms = 20;
    o.condition = "sound";
    nd_binned b;
    nd_status st = nd_read_binned(p, &o, &b, &err);
    CHECK(ctx, st == ND_OK, "%s", err.msg);
    if (st) return;
    /* 7 bins of 10 ms -> 3 of 20 ms (the 7th dropped, with a warning); trial 2 ('none') dropped */
    CHECK(ctx, b.n == 3 && b.T == 3 && b.N == 2 && b.n_warnings == 2, "n %d T %d N %d warnings %d", b.n, b.T, b.N,
          b.n_warnings);
    int ids[3] = {0, 1, 3};
    for (int k = 0; k < b.n && k < 3; k++) {
        int i = ids[k];
        CHECK(ctx, b.trial_ids[k] == i && b.split[k] == (k == 2 ? 2 : k), "trial %d id %d split %d", k, b.trial_ids[k],
              b.split[k]);
        for (int t = 0; t < 3; t++)
            for (int u = 0; u < 2; u++)
                CHECK(ctx, C3(&b, k, t, u) == (float)(2 * (i + u) + 4 * t + 1), "count (%d, %d, %d) = %g", k, t, u,
                      C3(&b, k, t, u));
    }
    CHECK(ctx, b.n_conditions == 3 && b.condition[0] == 0 && b.condition[1] == 1 && b.condition[2] == 2 &&
                   !strcmp(b.condition_names[2], "9"), "conditions %d", b.n_conditions);
    nd_binned_free(&b);
    /* a window of 10-ms bins [20, 50) plus 1 forward bin */
    o.bin_ms = 10;
    o.has_window = 1;
    o.win_start_ms = 20;
    o.win_end_ms = 50;
    o.fp_bins = 1;
    st = nd_read_binned(p, &o, &b, &err);
    CHECK(ctx, st == ND_OK && b.T == 3 && b.fp == 1 && C3(&b, 0, 0, 1) == 3 && C3(&b, 0, 3, 0) == 5, "window: %s",
          err.msg);
    if (!st) nd_binned_free(&b);
    /* bad input: one line naming the file, the dataset and the problem */
    o.has_window = 0;
    o.fp_bins = 0;
    o.bin_ms = 15;
    CHECK(ctx, nd_read_binned(p, &o, &b, &err) == ND_ERR_ARG && msg_ok(err.msg, p, "spikes", "whole multiple"), "%s",
          err.msg);
    o.bin_ms = 10;
    o.has_window = 1;
    o.win_start_ms = 20;
    o.win_end_ms = 90;
    CHECK(ctx, nd_read_binned(p, &o, &b, &err) == ND_ERR_ARG && msg_ok(err.msg, p, "spikes", "outside"), "%s", err.msg);
    o.has_window = 0;
    make_counts(p, 0, 0);
    CHECK(ctx, nd_read_binned(p, &o, &b, &err) == ND_ERR_FORMAT && msg_ok(err.msg, p, "spikes", "bin_ms"), "%s",
          err.msg);
    make_counts(p, 1, 1);
    CHECK(ctx, nd_read_binned(p, &o, &b, &err) == ND_ERR_FORMAT && msg_ok(err.msg, p, "(1, 1, 1)", "spike count"),
          "%s", err.msg);
}

/* ---------------------------------------------------------------- the real recording */
static void test_real_rat_lever(nd_test_ctx *ctx) {
    const char *shared = getenv("ND_SHARED_DIR") ? getenv("ND_SHARED_DIR") : "../shared";
    char p[200];
    snprintf(p, sizeof p, "%.150s/data/rat_motor_cortex_lever.h5", shared);
    struct stat sb;
    if (stat(shared, &sb) != 0 || stat(p, &sb) != 0) SKIP(ctx, "no %s (set ND_SHARED_DIR to the shared folder)", p);
    nd_bin_opts o;
    nd_bin_opts_default(&o);
    o.bin_ms = 20;
    o.has_window = 1;
    o.win_start_ms = 0;
    o.win_end_ms = 2000;
    nd_binned b;
    nd_error err = {0};
    nd_status st = nd_read_binned(p, &o, &b, &err);
    CHECK(ctx, st == ND_OK && !strcmp(b.format, "triplets"), "%s", err.msg);
    if (st) return;
    float *ref = NULL;
    int rank;
    size_t dims[8];
    CHECK(ctx, nd_h5_read_float(p, "spikes", &ref, &rank, dims, &err) == ND_OK, "%s", err.msg);
    CHECK(ctx, b.n == 1266 && b.T == 100 && b.N == 30 && rank == 3 && dims[0] == 1266 && dims[1] == 100 && dims[2] == 30,
          "shape %d %d %d", b.n, b.T, b.N);
    if (ref && b.n == 1266 && b.T == 100 && b.N == 30) {
        size_t diff = 0, n = (size_t)1266 * 100 * 30;
        double total = 0;
        for (size_t i = 0; i < n; i++) {
            diff += b.counts[i] != ref[i];
            total += b.counts[i];
        }
        CHECK(ctx, diff == 0, "%zu of %zu counts differ from 'spikes'", diff, n);
        CHECK(ctx, total == 648889, "total spikes %.0f", total);
    }
    nd_free(ref);
    /* the default extent (latest spike 1999 ms rounded up to a bin) is the same window */
    nd_binned b2;
    o.has_window = 0;
    st = nd_read_binned(p, &o, &b2, &err);
    CHECK(ctx, st == ND_OK && b2.T == 100 && !memcmp(b2.counts, b.counts, sizeof(float) * 1266 * 100 * 30),
          "default window: %s", err.msg);
    if (!st) nd_binned_free(&b2);
    /* converted with 25% held-out neurons, the LFADS reader takes it */
    nd_convert_opts co;
    nd_convert_opts_default(&co);
    co.heldout_fraction = 0.25;
    nd_assignment a;
    char out[512];
    path_in(out, sizeof out, "rat.h5");
    st = nd_convert_assign(&b, &co, &a, &err);
    if (!st) st = nd_convert_write(&b, &a, &o, &co, out, &err);
    CHECK(ctx, st == ND_OK, "%s", err.msg);
    nd_lfads_data d;
    if (!st && nd_lfads_data_read(out, 0, 0.2, &d, &err) == ND_OK) {
        CHECK(ctx, d.N == 22 && d.Nr == 30 && d.T == 100 && d.split[ND_TRAIN].n + d.split[ND_VALID].n == 1266, "N %d Nr %d", d.N, d.Nr);
        nd_lfads_data_free(&d);
    } else CHECK(ctx, 0, "read back: %s", err.msg);
    if (!st) nd_assignment_free(&a);
    nd_binned_free(&b);
}


int main(void) {
    verbose = getenv("ND_TEST_VERBOSE") && atoi(getenv("ND_TEST_VERBOSE"));
    if (!nd_test_scratch(dir, sizeof dir, "nd_test_convert_")) return 1;
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    RUN(test_triplets);
    RUN(test_triplets_bad);
    RUN(test_mat73);
    RUN(test_mat73_bad);
    RUN(test_mat_utf8);
    RUN(test_mat5);
    RUN(test_assign_and_write);
    RUN(test_counts);
    RUN(test_real_rat_lever);
    nd_test_scratch_remove(dir);
    TEST_MAIN_END();
}
