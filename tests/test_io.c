/* HDF5 helpers and the LFADS-format reader: round trips, type conversion, the seeded
 * train/valid split, lfads-torch names, and every bad-input case failing with one line
 * that names the file and the dataset. Files are written with the HDF5 C API directly.
 * ND_TEST_VERBOSE=1 prints every error message checked. */
#include "test.h"
#include "../src/core/mem.h"
#include "../src/io/h5.h"
#include "../src/io/lfads_data.h"
#include <hdf5.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

static char dir[256];

static void path_in(char *out, size_t n, const char *name) { snprintf(out, n, "%s/%s", dir, name); }

/* ---------- raw HDF5 writing helpers ---------- */
static hid_t tf_create(const char *name, char *path, size_t cap) {
    path_in(path, cap, name);
    return H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
}

static void put(hid_t f, const char *name, hid_t mtype, hid_t ftype, int rank, const hsize_t *dims, const void *x) {
    hid_t sp = rank == 0 ? H5Screate(H5S_SCALAR) : H5Screate_simple(rank, dims, NULL);
    hid_t ds = H5Dcreate2(f, name, ftype, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    hsize_t n = 1;
    for (int i = 0; i < rank; i++) n *= dims[i];
    if (n > 0) H5Dwrite(ds, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, x);
    H5Dclose(ds);
    H5Sclose(sp);
}

/* a count pattern that identifies the trial: value at (i, t, n) = (i + t + 2n) % 4, with trial id in bin 0 neuron 0 */
static float *pattern(int n, int T, int N, int id_offset) {
    float *x = nd_alloc((size_t)n * T * N * sizeof(float));
    for (int i = 0; i < n; i++)
        for (int t = 0; t < T; t++)
            for (int k = 0; k < N; k++) x[((size_t)i * T + t) * N + k] = (float)((i + t + 2 * k) % 4);
    for (int i = 0; i < n; i++) x[(size_t)i * T * N] = (float)(i + id_offset);
    return x;
}

/* float32 counts (n, T, N); poke (if idx >= 0) sets element idx to v */
static void put_counts(hid_t f, const char *name, int n, int T, int N, long idx, float v) {
    float *x = pattern(n, T, N, 0);
    if (idx >= 0) x[idx] = v;
    hsize_t d[3] = {(hsize_t)n, (hsize_t)T, (hsize_t)N};
    put(f, name, H5T_NATIVE_FLOAT, H5T_IEEE_F32LE, 3, d, x);
    nd_free(x);
}

static void put_const3(hid_t f, const char *name, int n, int T, int N, float v) {
    size_t c = (size_t)n * T * N;
    float *x = nd_alloc(c * sizeof(float) + 4);
    for (size_t i = 0; i < c; i++) x[i] = v;
    hsize_t d[3] = {(hsize_t)n, (hsize_t)T, (hsize_t)N};
    put(f, name, H5T_NATIVE_FLOAT, H5T_IEEE_F32LE, 3, d, x);
    nd_free(x);
}

static void put_range(hid_t f, const char *name, int n, int start) {
    int *x = malloc(sizeof(int) * (size_t)(n > 0 ? n : 1));
    for (int i = 0; i < n; i++) x[i] = start + i;
    hsize_t d[1] = {(hsize_t)n};
    put(f, name, H5T_NATIVE_INT, H5T_STD_I32LE, 1, d, x);
    free(x);
}

static void put_scalar(hid_t f, const char *name, double v) { put(f, name, H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE, 0, NULL, &v); }

/* ---------- h5 helpers ---------- */
static void test_h5_roundtrip(nd_test_ctx *ctx) {
    char p[512], tmp[600];
    path_in(p, sizeof p, "rt.h5");
    snprintf(tmp, sizeof tmp, "%s.tmp", p);
    nd_error err = {0};
    nd_h5file *f = NULL;
    CHECK(ctx, nd_h5_create(&f, p, &err) == ND_OK, "%s", err.msg);
    if (!f) return;
    CHECK(ctx, access(tmp, F_OK) == 0, "writes go to the .tmp file first");
    CHECK(ctx, access(p, F_OK) != 0, "final file must not exist before commit");
    enum { BIG = 5000 }; /* above the compression threshold */
    float *a = nd_alloc(BIG * sizeof(float));
    for (int i = 0; i < BIG; i++) a[i] = (float)i * 0.25f - 7.0f;
    int iv[6] = {-3, 0, 7, 2147483647, -2147483647 - 1, 42};
    size_t da[2] = {50, 100}, di[2] = {2, 3};
    double sc = 2.5;
    CHECK(ctx, nd_h5_write_float(f, "a", a, 2, da, &err) == ND_OK, "%s", err.msg);
    CHECK(ctx, nd_h5_write_int(f, "grp/sub/i", iv, 2, di, &err) == ND_OK, "%s", err.msg);
    CHECK(ctx, nd_h5_write_double(f, "s", &sc, 0, NULL, &err) == ND_OK, "%s", err.msg);
    CHECK(ctx, nd_h5_write_float(f, "a", a, 2, da, &err) == ND_ERR_ARG && strstr(err.msg, "'a'"),
          "duplicate dataset: %s", err.msg);
    CHECK(ctx, nd_h5_write_attr_double(f, "/", "bin_ms", 20.0, &err) == ND_OK, "%s", err.msg);
    CHECK(ctx, nd_h5_write_attr_double(f, "/", "bin_ms", 10.0, &err) == ND_OK, "replace: %s", err.msg);
    CHECK(ctx, nd_h5_write_attr_string(f, "a", "unit", "counts per bin", &err) == ND_OK, "%s", err.msg);
    CHECK(ctx, nd_h5_write_attr_string(f, "nope", "unit", "x", &err) == ND_ERR_IO && strstr(err.msg, "nope"),
          "attr on missing object: %s", err.msg);
    CHECK(ctx, nd_h5_close(f, 1, &err) == ND_OK, "%s", err.msg);
    CHECK(ctx, access(tmp, F_OK) != 0, "temp file left behind");
    CHECK(ctx, access(p, F_OK) == 0, "committed file missing");

    float *ra = NULL;
    int rank = -1;
    size_t dims[ND_H5_MAX_RANK];
    CHECK(ctx, nd_h5_read_float(p, "a", &ra, &rank, dims, &err) == ND_OK, "%s", err.msg);
    CHECK(ctx, rank == 2 && dims[0] == 50 && dims[1] == 100, "shape");
    if (ra) CHECK(ctx, memcmp(ra, a, BIG * sizeof(float)) == 0, "float data differ");
    nd_free(ra);
    int *ri = NULL;
    CHECK(ctx, nd_h5_read_int(p, "grp/sub/i", &ri, &rank, dims, &err) == ND_OK, "%s", err.msg);
    CHECK(ctx, rank == 2 && dims[0] == 2 && dims[1] == 3, "int shape");
    if (ri) CHECK(ctx, memcmp(ri, iv, sizeof iv) == 0, "int data differ");
    nd_free(ri);
    float *rs = NULL;
    CHECK(ctx, nd_h5_read_float(p, "s", &rs, &rank, dims, &err) == ND_OK && rank == 0 && rs && rs[0] == 2.5f,
          "scalar: %s", err.msg);
    nd_free(rs);
    CHECK(ctx, nd_h5_dims(p, "a", &rank, dims, &err) == ND_OK && rank == 2 && dims[1] == 100, "dims");
    double v = 0;
    CHECK(ctx, nd_h5_read_attr_double(p, "/", "bin_ms", &v, &err) == ND_OK && v == 10.0, "attr %g %s", v, err.msg);
    char s[64];
    CHECK(ctx, nd_h5_read_attr_string(p, "a", "unit", s, sizeof s, &err) == ND_OK && !strcmp(s, "counts per bin"),
          "string attr '%s' %s", s, err.msg);
    CHECK(ctx, nd_h5_read_attr_double(p, "/", "nope", &v, &err) == ND_ERR_FORMAT && strstr(err.msg, "nope") &&
                   strstr(err.msg, p),
          "missing attr: %s", err.msg);
    CHECK(ctx, nd_h5_exists(p, "a") && nd_h5_exists(p, "grp/sub/i") && !nd_h5_exists(p, "grp") &&
                   !nd_h5_exists(p, "zzz") && !nd_h5_exists(p, "zzz/y"),
          "exists");
    nd_free(a);

    /* abort: nothing left behind, existing file untouched */
    CHECK(ctx, nd_h5_create(&f, p, &err) == ND_OK, "%s", err.msg);
    CHECK(ctx, nd_h5_close(f, 0, &err) == ND_OK, "%s", err.msg);
    CHECK(ctx, access(tmp, F_OK) != 0, "aborted temp file left behind");
    CHECK(ctx, nd_h5_exists(p, "a"), "abort must not touch the existing file");
    /* unwritable location */
    CHECK(ctx, nd_h5_create(&f, "/nonexistent-dir/x.h5", &err) == ND_ERR_IO && strstr(err.msg, "/nonexistent-dir/x.h5"),
          "create in missing dir: %s", err.msg);
    CHECK(ctx, nd_h5_close(NULL, 1, &err) == ND_OK, "close NULL");
}

static void test_h5_types(nd_test_ctx *ctx) {
    char p[512];
    hid_t f = tf_create("types.h5", p, sizeof p);
    hsize_t d[1] = {4};
    int8_t i8[4] = {-1, 2, -3, 4};
    uint16_t u16[4] = {0, 65535, 3, 4};
    int64_t i64[4] = {-5, 6, 1LL << 40, 8};
    double f64[4] = {0.5, -1.5, 2.0, 3.0};
    double f64i[4] = {1, 2, 3, 4};
    put(f, "i8", H5T_NATIVE_INT8, H5T_STD_I8LE, 1, d, i8);
    put(f, "u16", H5T_NATIVE_UINT16, H5T_STD_U16BE, 1, d, u16);
    put(f, "i64", H5T_NATIVE_INT64, H5T_STD_I64LE, 1, d, i64);
    put(f, "f64", H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE, 1, d, f64);
    put(f, "f64i", H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE, 1, d, f64i);
    hid_t st = H5Tcopy(H5T_C_S1);
    H5Tset_size(st, 4);
    char sdata[4][4] = {"ab", "cd", "ef", "gh"};
    put(f, "str", st, st, 1, d, sdata);
    H5Tclose(st);
    H5Gclose(H5Gcreate2(f, "group", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
    H5Fclose(f);

    nd_error err = {0};
    float *x = NULL;
    int *xi = NULL, rank;
    size_t dims[ND_H5_MAX_RANK];
    CHECK(ctx, nd_h5_read_float(p, "i8", &x, &rank, dims, &err) == ND_OK && x[0] == -1 && x[3] == 4, "i8");
    nd_free(x);
    CHECK(ctx, nd_h5_read_float(p, "u16", &x, &rank, dims, &err) == ND_OK && x[1] == 65535, "u16 big-endian");
    nd_free(x);
    CHECK(ctx, nd_h5_read_float(p, "i64", &x, &rank, dims, &err) == ND_OK && x[2] == (float)(1LL << 40), "i64");
    nd_free(x);
    CHECK(ctx, nd_h5_read_float(p, "f64", &x, &rank, dims, &err) == ND_OK && x[1] == -1.5f, "f64");
    nd_free(x);
    CHECK(ctx, nd_h5_read_int(p, "u16", &xi, &rank, dims, &err) == ND_OK && xi[1] == 65535, "int from u16");
    nd_free(xi);
    CHECK(ctx, nd_h5_read_int(p, "f64i", &xi, &rank, dims, &err) == ND_OK && xi[3] == 4, "int from integral f64");
    nd_free(xi);
    CHECK(ctx, nd_h5_read_int(p, "f64", &xi, &rank, dims, &err) == ND_ERR_FORMAT && strstr(err.msg, "'f64'") && !xi,
          "int from 0.5: %s", err.msg);
    CHECK(ctx, nd_h5_read_int(p, "i64", &xi, &rank, dims, &err) == ND_ERR_FORMAT && strstr(err.msg, "'i64'"),
          "int overflow: %s", err.msg);
    CHECK(ctx, nd_h5_read_float(p, "str", &x, &rank, dims, &err) == ND_ERR_FORMAT && strstr(err.msg, "'str'") &&
                   strstr(err.msg, "not numeric") && strstr(err.msg, p) && !x,
          "string: %s", err.msg);
    CHECK(ctx, nd_h5_read_float(p, "group", &x, &rank, dims, &err) == ND_ERR_FORMAT && strstr(err.msg, "'group'"),
          "group: %s", err.msg);
    CHECK(ctx, nd_h5_read_float(p, "missing", &x, &rank, dims, &err) == ND_ERR_FORMAT && strstr(err.msg, "'missing'") &&
                   strstr(err.msg, p),
          "missing: %s", err.msg);
    char q[512];
    path_in(q, sizeof q, "does-not-exist.h5");
    CHECK(ctx, nd_h5_read_float(q, "x", &x, &rank, dims, &err) == ND_ERR_IO && strstr(err.msg, q), "no file: %s",
          err.msg);
    path_in(q, sizeof q, "text.h5");
    FILE *fp = fopen(q, "w");
    fputs("this is not hdf5\n", fp);
    fclose(fp);
    CHECK(ctx, nd_h5_read_float(q, "x", &x, &rank, dims, &err) == ND_ERR_FORMAT && strstr(err.msg, q) &&
                   strstr(err.msg, "not an HDF5 file"),
          "text file: %s", err.msg);
    CHECK(ctx, !nd_h5_exists(q, "x"), "exists on non-HDF5");
    CHECK(ctx, nd_h5_read_float(dir, "x", &x, &rank, dims, &err) == ND_ERR_IO, "directory: %s", err.msg);
}

/* ---------- LFADS reader: good files ---------- */
static void test_lfads_full(nd_test_ctx *ctx) {
    char p[512];
    hid_t f = tf_create("full.h5", p, sizeof p);
    int nt = 6, nv = 3, T = 5, N = 4, E = 2;
    put_counts(f, "train_data", nt, T, N, -1, 0);
    put_counts(f, "valid_data", nv, T, N, -1, 0);
    put_const3(f, "train_truth", nt, T, N, 3.0f);
    put_const3(f, "valid_truth", nv, T, N, 1.5f);
    put_const3(f, "train_ext_input", nt, T, E, -0.5f);
    put_const3(f, "valid_ext_input", nv, T, E, 0.25f);
    put_range(f, "train_inds", nt, 100);
    put_range(f, "valid_inds", nv, 200);
    put_scalar(f, "conversion_factor", 2.0); /* original LFADS: stored truth = counts/bin * cf */
    H5Fclose(f);
    nd_lfads_data d;
    nd_error err = {0};
    CHECK(ctx, nd_lfads_data_read(p, 1, 0.2, &d, &err) == ND_OK, "%s", err.msg);
    CHECK(ctx, d.split[ND_TRAIN].n == nt && d.split[ND_VALID].n == nv && d.T == T && d.N == N && d.E == E, "dims");
    CHECK(ctx, d.valid_from_file == 1 && d.conversion_factor == 2.0, "flags");
    float *ref = pattern(nt, T, N, 0);
    CHECK(ctx, d.split[ND_TRAIN].counts && memcmp(d.split[ND_TRAIN].counts, ref, sizeof(float) * nt * T * N) == 0, "train data");
    nd_free(ref);
    CHECK(ctx, d.split[ND_TRAIN].truth && d.split[ND_TRAIN].truth[7] == 1.5f && d.split[ND_VALID].truth && d.split[ND_VALID].truth[0] == 0.75f,
          "truth divided by conversion_factor");
    CHECK(ctx, d.split[ND_TRAIN].ext && d.split[ND_TRAIN].ext[3] == -0.5f && d.split[ND_VALID].ext && d.split[ND_VALID].ext[0] == 0.25f, "ext");
    CHECK(ctx, d.split[ND_TRAIN].inds && d.split[ND_TRAIN].inds[5] == 105 && d.split[ND_VALID].inds && d.split[ND_VALID].inds[2] == 202, "inds");
    CHECK(ctx, strcmp(d.path, p) == 0, "path");
    nd_lfads_data_free(&d);
    CHECK(ctx, d.split[ND_TRAIN].counts == NULL && d.split[ND_TRAIN].n == 0, "free zeroes");
    nd_lfads_data_free(&d); /* twice is harmless */
}

static void test_lfads_split(nd_test_ctx *ctx) {
    char p[512];
    hid_t f = tf_create("split.h5", p, sizeof p);
    int n = 50, T = 3, N = 2;
    put_counts(f, "train_data", n, T, N, -1, 0);
    /* truth and ext carry the trial index so we can check they are split with the data */
    float *tr = pattern(n, T, N, 0), *ex = pattern(n, T, 1, 0);
    hsize_t d3[3] = {(hsize_t)n, (hsize_t)T, (hsize_t)N}, e3[3] = {(hsize_t)n, (hsize_t)T, 1};
    put(f, "train_truth", H5T_NATIVE_FLOAT, H5T_IEEE_F32LE, 3, d3, tr);
    put(f, "train_ext_input", H5T_NATIVE_FLOAT, H5T_IEEE_F32LE, 3, e3, ex);
    put_range(f, "train_inds", n, 1000);
    H5Fclose(f);
    nd_free(tr);
    nd_free(ex);

    nd_lfads_data a, b, c;
    nd_error err = {0};
    CHECK(ctx, nd_lfads_data_read(p, 7, 0.2, &a, &err) == ND_OK, "%s", err.msg);
    CHECK(ctx, nd_lfads_data_read(p, 7, 0.2, &b, &err) == ND_OK, "%s", err.msg);
    CHECK(ctx, nd_lfads_data_read(p, 8, 0.2, &c, &err) == ND_OK, "%s", err.msg);
    CHECK(ctx, a.split[ND_TRAIN].n == 40 && a.split[ND_VALID].n == 10 && a.valid_from_file == 0, "sizes %d %d", a.split[ND_TRAIN].n, a.split[ND_VALID].n);
    CHECK(ctx, a.split[ND_TRAIN].truth && a.split[ND_VALID].truth && a.split[ND_TRAIN].ext && a.split[ND_VALID].ext && a.E == 1, "truth/ext split too");
    if (!a.split[ND_TRAIN].inds || !a.split[ND_VALID].inds || !b.split[ND_VALID].inds || !c.split[ND_VALID].inds) {
        CHECK(ctx, 0, "inds missing");
        goto out;
    }
    CHECK(ctx, memcmp(a.split[ND_VALID].inds, b.split[ND_VALID].inds, 10 * sizeof(int)) == 0 &&
                   memcmp(a.split[ND_TRAIN].inds, b.split[ND_TRAIN].inds, 40 * sizeof(int)) == 0,
          "same seed, same split");
    CHECK(ctx, memcmp(a.split[ND_VALID].inds, c.split[ND_VALID].inds, 10 * sizeof(int)) != 0, "different seed, different split");
    int seen[50] = {0};
    for (int i = 0; i < 40; i++) {
        int o = a.split[ND_TRAIN].inds[i] - 1000; /* file's train_inds mapped through */
        CHECK(ctx, o >= 0 && o < 50, "train ind %d", a.split[ND_TRAIN].inds[i]);
        if (o < 0 || o >= 50) continue;
        seen[o]++;
        CHECK(ctx, a.split[ND_TRAIN].counts[(size_t)i * T * N] == (float)o && a.split[ND_TRAIN].truth[(size_t)i * T * N] == (float)o &&
                       a.split[ND_TRAIN].ext[(size_t)i * T] == (float)o,
              "train row %d is not original trial %d", i, o);
        if (i) CHECK(ctx, a.split[ND_TRAIN].inds[i] > a.split[ND_TRAIN].inds[i - 1], "train kept in original order");
    }
    for (int i = 0; i < 10; i++) {
        int o = a.split[ND_VALID].inds[i] - 1000;
        CHECK(ctx, o >= 0 && o < 50, "valid ind %d", a.split[ND_VALID].inds[i]);
        if (o < 0 || o >= 50) continue;
        seen[o]++;
        CHECK(ctx, a.split[ND_VALID].counts[(size_t)i * T * N] == (float)o && a.split[ND_VALID].truth[(size_t)i * T * N] == (float)o &&
                       a.split[ND_VALID].ext[(size_t)i * T] == (float)o,
              "valid row %d is not original trial %d", i, o);
    }
    for (int i = 0; i < 50; i++) CHECK(ctx, seen[i] == 1, "trial %d appears %d times (must be exactly once)", i, seen[i]);
    /* the exposed split function agrees */
    unsigned char m[50];
    CHECK(ctx, nd_lfads_valid_mask(50, 7, 0.2, m) == 10, "split count");
    for (int i = 0, k = 0; i < 50; i++)
        if (m[i]) CHECK(ctx, a.split[ND_VALID].inds[k++] == 1000 + i, "split mask");
    CHECK(ctx, nd_lfads_valid_mask(1, 7, 0.2, m) == -1 && nd_lfads_valid_mask(10, 7, 0.0, m) == -1 &&
                   nd_lfads_valid_mask(10, 7, 1.0, m) == -1,
          "split bad args");
    CHECK(ctx, nd_lfads_valid_mask(2, 7, 0.01, m) == 1 && nd_lfads_valid_mask(2, 7, 0.99, m) == 1, "split clamps to [1, n-1]");
out:
    nd_lfads_data_free(&a);
    nd_lfads_data_free(&b);
    nd_lfads_data_free(&c);
}

static void test_lfads_torch_names(nd_test_ctx *ctx) {
    char p[512];
    hid_t f = tf_create("torch.h5", p, sizeof p);
    put_counts(f, "train_encod_data", 8, 4, 3, -1, 0);
    put_counts(f, "train_recon_data", 8, 4, 3, -1, 0);
    put_counts(f, "valid_encod_data", 2, 4, 3, -1, 0);
    put_counts(f, "valid_recon_data", 2, 4, 3, -1, 0);
    H5Fclose(f);
    nd_lfads_data d;
    nd_error err = {0};
    CHECK(ctx, nd_lfads_data_read(p, 0, 0.2, &d, &err) == ND_OK, "%s", err.msg);
    CHECK(ctx, d.split[ND_TRAIN].n == 8 && d.split[ND_VALID].n == 2 && d.valid_from_file && d.N == 3 && d.T == 4, "torch dims");
    nd_lfads_data_free(&d);

    /* held-out neurons and forward-prediction bins: recon has more neurons and bins than encod */
    f = tf_create("torch_heldout.h5", p, sizeof p);
    put_counts(f, "train_encod_data", 8, 4, 3, -1, 0);
    put_counts(f, "train_recon_data", 8, 6, 5, -1, 0);
    put_const3(f, "train_truth", 8, 6, 5, 0.5f);
    H5Fclose(f);
    CHECK(ctx, nd_lfads_data_read(p, 0, 0.25, &d, &err) == ND_OK, "held-out: %s", err.msg);
    CHECK(ctx, d.N == 3 && d.T == 4 && d.Nr == 5 && d.Tr == 6 && d.split[ND_TRAIN].recon && d.split[ND_VALID].recon &&
                   d.split[ND_TRAIN].n == 6 && d.split[ND_VALID].n == 2 && d.split[ND_VALID].truth,
          "held-out dims N %d T %d Nr %d Tr %d", d.N, d.T, d.Nr, d.Tr);
    if (d.split[ND_TRAIN].recon && d.split[ND_TRAIN].inds) {
        /* the split keeps recon rows with their encoder rows: element (i, 5, 4) of the original file */
        int orig = d.split[ND_TRAIN].inds[1];
        CHECK(ctx, d.split[ND_TRAIN].recon[((size_t)1 * 6 + 5) * 5 + 4] == (float)((orig + 5 + 8) % 4), "recon gathered");
        CHECK(ctx, nd_lfads_recon(&d, 0) == d.split[ND_TRAIN].recon && nd_lfads_recon(&d, 1) == d.split[ND_VALID].recon, "accessor");
    }
    nd_lfads_data_free(&d);
    /* recon whose held-in part is not the encoder data */
    f = tf_create("torch_inconsistent.h5", p, sizeof p);
    put_counts(f, "train_encod_data", 8, 4, 3, -1, 0);
    put_counts(f, "train_recon_data", 8, 4, 5, 7, 3.0f);
    H5Fclose(f);
    CHECK(ctx, nd_lfads_data_read(p, 0, 0.2, &d, &err) == ND_ERR_FORMAT && strstr(err.msg, "'train_recon_data'") &&
                   strstr(err.msg, "differs"),
          "inconsistent recon: %s", err.msg);
    if (getenv("ND_TEST_VERBOSE")) printf("    torch inconsistent -> %s\n", err.msg);
    /* recon with fewer neurons than encod */
    f = tf_create("torch_fewer.h5", p, sizeof p);
    put_counts(f, "train_encod_data", 8, 4, 3, -1, 0);
    put_counts(f, "train_recon_data", 8, 4, 2, -1, 0);
    H5Fclose(f);
    CHECK(ctx, nd_lfads_data_read(p, 0, 0.2, &d, &err) == ND_ERR_FORMAT && strstr(err.msg, "fewer neurons"),
          "fewer neurons: %s", err.msg);
    /* recon in valid only */
    f = tf_create("torch_fp.h5", p, sizeof p);
    put_counts(f, "train_encod_data", 8, 4, 3, -1, 0);
    put_counts(f, "valid_encod_data", 2, 4, 3, -1, 0);
    put_counts(f, "valid_recon_data", 2, 6, 3, -1, 0);
    H5Fclose(f);
    CHECK(ctx, nd_lfads_data_read(p, 0, 0.2, &d, &err) == ND_ERR_FORMAT && strstr(err.msg, "'train_recon_data'") &&
                   strstr(err.msg, "missing"),
          "recon in valid only: %s", err.msg);
    /* no valid split in a torch file: split as usual */
    f = tf_create("torch_split.h5", p, sizeof p);
    put_counts(f, "train_encod_data", 10, 4, 3, -1, 0);
    H5Fclose(f);
    CHECK(ctx, nd_lfads_data_read(p, 0, 0.3, &d, &err) == ND_OK && d.split[ND_VALID].n == 3 && d.split[ND_TRAIN].n == 7, "%s", err.msg);
    nd_lfads_data_free(&d);
}

static void test_lfads_int_counts(nd_test_ctx *ctx) {
    /* counts stored as uint8 / int32 read fine */
    char p[512];
    hid_t f = tf_create("u8.h5", p, sizeof p);
    uint8_t x[2 * 3 * 2] = {0, 1, 2, 3, 255, 5, 6, 7, 8, 9, 10, 11};
    hsize_t d3[3] = {2, 3, 2};
    put(f, "train_data", H5T_NATIVE_UINT8, H5T_STD_U8LE, 3, d3, x);
    put(f, "valid_data", H5T_NATIVE_UINT8, H5T_STD_U8LE, 3, d3, x);
    H5Fclose(f);
    nd_lfads_data d;
    nd_error err = {0};
    CHECK(ctx, nd_lfads_data_read(p, 0, 0.2, &d, &err) == ND_OK, "%s", err.msg);
    CHECK(ctx, d.split[ND_TRAIN].counts && d.split[ND_TRAIN].counts[4] == 255.0f && d.split[ND_VALID].counts[11] == 11.0f, "uint8 counts");
    nd_lfads_data_free(&d);
}

/* ---------- LFADS reader: every bad input ---------- */
typedef void (*builder)(hid_t f);

static void b_rank2(hid_t f) {
    float x[6] = {0};
    hsize_t d[2] = {2, 3};
    put(f, "train_data", H5T_NATIVE_FLOAT, H5T_IEEE_F32LE, 2, d, x);
}
static void b_valid_rank4(hid_t f) {
    put_counts(f, "train_data", 4, 5, 6, -1, 0);
    float x[2 * 5 * 6 * 2] = {0};
    hsize_t d[4] = {2, 5, 6, 2};
    put(f, "valid_data", H5T_NATIVE_FLOAT, H5T_IEEE_F32LE, 4, d, x);
}
static void b_nan(hid_t f) { put_counts(f, "train_data", 4, 5, 6, 37, NAN); }
static void b_inf(hid_t f) {
    put_counts(f, "train_data", 4, 5, 6, -1, 0);
    put_counts(f, "valid_data", 2, 5, 6, 3, INFINITY);
}
static void b_nan_f64(hid_t f) {
    double x[2 * 3 * 2] = {0, 1, 2, 3, 4, 5, 6, NAN, 8, 9, 10, 11};
    hsize_t d[3] = {2, 3, 2};
    put(f, "train_data", H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE, 3, d, x);
}
static void b_huge_f64(hid_t f) {
    double x[2 * 3 * 2] = {0, 1, 2, 3, 4, 5, 6, 1e300, 8, 9, 10, 11};
    hsize_t d[3] = {2, 3, 2};
    put(f, "train_data", H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE, 3, d, x);
}
static void b_negative(hid_t f) { put_counts(f, "train_data", 4, 5, 6, 5, -1.0f); }
static void b_nonint(hid_t f) { put_counts(f, "train_data", 4, 5, 6, 8, 0.5f); }
static void b_neurons(hid_t f) {
    put_counts(f, "train_data", 10, 5, 6, -1, 0);
    put_counts(f, "valid_data", 4, 5, 7, -1, 0);
}
static void b_bins(hid_t f) {
    put_counts(f, "train_data", 10, 5, 6, -1, 0);
    put_counts(f, "valid_data", 4, 9, 6, -1, 0);
}
static void b_truth_shape(hid_t f) {
    put_counts(f, "train_data", 4, 5, 6, -1, 0);
    put_const3(f, "train_truth", 4, 5, 5, 1.0f);
}
static void b_valid_truth_shape(hid_t f) {
    put_counts(f, "train_data", 4, 5, 6, -1, 0);
    put_counts(f, "valid_data", 2, 5, 6, -1, 0);
    put_const3(f, "valid_truth", 3, 5, 6, 1.0f);
}
static void b_truth_nan(hid_t f) {
    put_counts(f, "train_data", 4, 5, 6, -1, 0);
    put_const3(f, "train_truth", 4, 5, 6, NAN);
}
static void b_truth_negative(hid_t f) {
    put_counts(f, "train_data", 4, 5, 6, -1, 0);
    put_const3(f, "train_truth", 4, 5, 6, -0.25f);
}
static void b_ext_bins(hid_t f) {
    put_counts(f, "train_data", 4, 5, 6, -1, 0);
    put_const3(f, "train_ext_input", 4, 4, 2, 0.0f);
}
static void b_ext_trials(hid_t f) {
    put_counts(f, "train_data", 4, 5, 6, -1, 0);
    put_const3(f, "train_ext_input", 3, 5, 2, 0.0f);
}
static void b_ext_dims(hid_t f) {
    put_counts(f, "train_data", 4, 5, 6, -1, 0);
    put_counts(f, "valid_data", 2, 5, 6, -1, 0);
    put_const3(f, "train_ext_input", 4, 5, 2, 0.0f);
    put_const3(f, "valid_ext_input", 2, 5, 3, 0.0f);
}
static void b_ext_missing(hid_t f) {
    put_counts(f, "train_data", 4, 5, 6, -1, 0);
    put_counts(f, "valid_data", 2, 5, 6, -1, 0);
    put_const3(f, "train_ext_input", 4, 5, 2, 0.0f);
}
static void b_ext_inf(hid_t f) {
    put_counts(f, "train_data", 4, 5, 6, -1, 0);
    put_const3(f, "train_ext_input", 4, 5, 2, -INFINITY);
}
static void b_ext_rank(hid_t f) {
    put_counts(f, "train_data", 4, 5, 6, -1, 0);
    float x[20] = {0};
    hsize_t d[2] = {4, 5};
    put(f, "train_ext_input", H5T_NATIVE_FLOAT, H5T_IEEE_F32LE, 2, d, x);
}
static void b_inds_len(hid_t f) {
    put_counts(f, "train_data", 4, 5, 6, -1, 0);
    put_range(f, "train_inds", 3, 0);
}
static void b_valid_inds_len(hid_t f) {
    put_counts(f, "train_data", 4, 5, 6, -1, 0);
    put_counts(f, "valid_data", 2, 5, 6, -1, 0);
    put_range(f, "valid_inds", 5, 0);
}
static void b_inds_rank(hid_t f) {
    put_counts(f, "train_data", 4, 5, 6, -1, 0);
    int x[8] = {0};
    hsize_t d[2] = {2, 4};
    put(f, "train_inds", H5T_NATIVE_INT, H5T_STD_I32LE, 2, d, x);
}
static void b_missing(hid_t f) { put_counts(f, "spikes", 4, 5, 6, -1, 0); }
static void b_zero_trials(hid_t f) { put_counts(f, "train_data", 0, 5, 6, -1, 0); }
static void b_zero_valid(hid_t f) {
    put_counts(f, "train_data", 4, 5, 6, -1, 0);
    put_counts(f, "valid_data", 0, 5, 6, -1, 0);
}
static void b_zero_neurons(hid_t f) { put_counts(f, "train_data", 4, 5, 0, -1, 0); }
static void b_string(hid_t f) {
    hid_t st = H5Tcopy(H5T_C_S1);
    H5Tset_size(st, 2);
    char s[2][2] = {"a", "b"};
    hsize_t d[1] = {2};
    put(f, "train_data", st, st, 1, d, s);
    H5Tclose(st);
}
static void b_cf_zero(hid_t f) {
    put_counts(f, "train_data", 4, 5, 6, -1, 0);
    put_scalar(f, "conversion_factor", 0.0);
}
static void b_cf_array(hid_t f) {
    put_counts(f, "train_data", 4, 5, 6, -1, 0);
    put_range(f, "conversion_factor", 2, 1);
}
static void b_orphan_valid_truth(hid_t f) {
    put_counts(f, "train_data", 4, 5, 6, -1, 0);
    put_const3(f, "valid_truth", 1, 5, 6, 1.0f);
}
static void b_one_trial(hid_t f) { put_counts(f, "train_data", 1, 5, 6, -1, 0); }
/* lfads-torch files: the test split, behaviour and condition ids */
static void torch_base(hid_t f) {
    put_counts(f, "train_encod_data", 4, 5, 6, -1, 0);
    put_counts(f, "valid_encod_data", 2, 5, 6, -1, 0);
}
static void b_test_bins(hid_t f) {
    torch_base(f);
    put_counts(f, "test_encod_data", 3, 4, 6, -1, 0);
}
static void b_test_recon_differs(hid_t f) {
    torch_base(f);
    put_counts(f, "test_encod_data", 3, 5, 6, -1, 0);
    put_const3(f, "test_recon_data", 3, 5, 6, 9.0f);
}
static void b_test_ext_orphan(hid_t f) {
    torch_base(f);
    put_counts(f, "test_encod_data", 3, 5, 6, -1, 0);
    put_const3(f, "test_ext_input", 3, 5, 2, 0.0f);
}
static void b_test_ext_missing(hid_t f) {
    torch_base(f);
    put_counts(f, "test_encod_data", 3, 5, 6, -1, 0);
    put_const3(f, "train_ext_input", 4, 5, 2, 0.0f);
    put_const3(f, "valid_ext_input", 2, 5, 2, 0.0f);
}
static void b_test_truth_trials(hid_t f) {
    torch_base(f);
    put_counts(f, "test_encod_data", 3, 5, 6, -1, 0);
    put_const3(f, "test_truth", 2, 5, 6, 1.0f);
}
static void b_beh_valid_missing(hid_t f) {
    torch_base(f);
    put_const3(f, "train_behavior", 4, 5, 2, 0.0f);
}
static void b_beh_no_train(hid_t f) {
    torch_base(f);
    put_const3(f, "valid_behavior", 2, 5, 2, 0.0f);
}
static void b_beh_dims(hid_t f) {
    torch_base(f);
    put_const3(f, "train_behavior", 4, 5, 2, 0.0f);
    put_const3(f, "valid_behavior", 2, 5, 3, 0.0f);
}
static void b_test_beh_nan(hid_t f) {
    torch_base(f);
    put_counts(f, "test_encod_data", 3, 5, 6, -1, 0);
    put_const3(f, "train_behavior", 4, 5, 2, 0.0f);
    put_const3(f, "valid_behavior", 2, 5, 2, 0.0f);
    put_const3(f, "test_behavior", 3, 5, 2, NAN);
}
static void b_cond_len(hid_t f) {
    torch_base(f);
    put_range(f, "train_condition", 3, 0);
}
static void b_test_cond_len(hid_t f) {
    torch_base(f);
    put_counts(f, "test_encod_data", 3, 5, 6, -1, 0);
    put_range(f, "test_condition", 4, 0);
}

typedef struct {
    const char *label, *dataset, *phrase;
    builder build;
    nd_status code;
} bad_case;

static void test_lfads_bad_inputs(nd_test_ctx *ctx) {
    static const bad_case cases[] = {
        {"train_data rank 2", "train_data", "expected 3", b_rank2, ND_ERR_FORMAT},
        {"valid_data rank 4", "valid_data", "expected 3", b_valid_rank4, ND_ERR_FORMAT},
        {"NaN count", "train_data", "NaN", b_nan, ND_ERR_FORMAT},
        {"NaN in float64 counts", "train_data", "NaN", b_nan_f64, ND_ERR_FORMAT},
        {"1e300 in float64 counts", "train_data", "infinite", b_huge_f64, ND_ERR_FORMAT},
        {"Inf count", "valid_data", "infinite", b_inf, ND_ERR_FORMAT},
        {"negative count", "train_data", "negative", b_negative, ND_ERR_FORMAT},
        {"non-integer count", "train_data", "not an integer", b_nonint, ND_ERR_FORMAT},
        {"valid neurons differ", "valid_data", "in neurons", b_neurons, ND_ERR_FORMAT},
        {"valid bins differ", "valid_data", "in bins", b_bins, ND_ERR_FORMAT},
        {"train_truth shape", "train_truth", "does not match", b_truth_shape, ND_ERR_FORMAT},
        {"valid_truth shape", "valid_truth", "in trials", b_valid_truth_shape, ND_ERR_FORMAT},
        {"truth NaN", "train_truth", "NaN", b_truth_nan, ND_ERR_FORMAT},
        {"truth negative", "train_truth", "negative rate", b_truth_negative, ND_ERR_FORMAT},
        {"ext bins", "train_ext_input", "in bins", b_ext_bins, ND_ERR_FORMAT},
        {"ext trials", "train_ext_input", "in trials", b_ext_trials, ND_ERR_FORMAT},
        {"ext dims train vs valid", "valid_ext_input", "input dimensions", b_ext_dims, ND_ERR_FORMAT},
        {"valid ext missing", "valid_ext_input", "missing", b_ext_missing, ND_ERR_FORMAT},
        {"ext Inf", "train_ext_input", "infinite", b_ext_inf, ND_ERR_FORMAT},
        {"ext rank", "train_ext_input", "expected 3", b_ext_rank, ND_ERR_FORMAT},
        {"train_inds length", "train_inds", "length 3", b_inds_len, ND_ERR_FORMAT},
        {"valid_inds length", "valid_inds", "length 5", b_valid_inds_len, ND_ERR_FORMAT},
        {"inds 2-D", "train_inds", "1-D", b_inds_rank, ND_ERR_FORMAT},
        {"missing train_data", "train_data", "missing", b_missing, ND_ERR_FORMAT},
        {"zero trials", "train_data", "zero trials", b_zero_trials, ND_ERR_FORMAT},
        {"zero valid trials", "valid_data", "zero trials", b_zero_valid, ND_ERR_FORMAT},
        {"zero neurons", "train_data", "zero neurons", b_zero_neurons, ND_ERR_FORMAT},
        {"string data", "train_data", "not numeric", b_string, ND_ERR_FORMAT},
        {"conversion_factor 0", "conversion_factor", "positive", b_cf_zero, ND_ERR_FORMAT},
        {"conversion_factor array", "conversion_factor", "2 elements", b_cf_array, ND_ERR_FORMAT},
        {"valid_truth without valid_data", "valid_truth", "'valid_data' is missing", b_orphan_valid_truth,
         ND_ERR_FORMAT},
        {"one trial, no valid", "train_data", "only 1 trial", b_one_trial, ND_ERR_FORMAT},
        {"test bins differ", "test_encod_data", "in bins", b_test_bins, ND_ERR_FORMAT},
        {"test targets differ", "test_recon_data", "differs from 'test_encod_data'", b_test_recon_differs,
         ND_ERR_FORMAT},
        {"test inputs, no train inputs", "test_ext_input", "'train_ext_input' is missing", b_test_ext_orphan,
         ND_ERR_FORMAT},
        {"test inputs missing", "test_ext_input", "missing although 'train_ext_input'", b_test_ext_missing,
         ND_ERR_FORMAT},
        {"test truth trials", "test_truth", "in trials", b_test_truth_trials, ND_ERR_FORMAT},
        {"valid behaviour missing", "valid_behavior", "missing", b_beh_valid_missing, ND_ERR_FORMAT},
        {"behaviour without train's", "valid_behavior", "'train_behavior' is missing", b_beh_no_train, ND_ERR_FORMAT},
        {"behaviour dims differ", "valid_behavior", "does not match the train split", b_beh_dims, ND_ERR_FORMAT},
        {"test behaviour NaN", "test_behavior", "NaN", b_test_beh_nan, ND_ERR_FORMAT},
        {"condition length", "train_condition", "length 3", b_cond_len, ND_ERR_FORMAT},
        {"test condition length", "test_condition", "length 4", b_test_cond_len, ND_ERR_FORMAT},
    };
    int verbose = getenv("ND_TEST_VERBOSE") != NULL;
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const bad_case *c = &cases[i];
        char name[64], p[512];
        snprintf(name, sizeof name, "bad%02zu.h5", i);
        hid_t f = tf_create(name, p, sizeof p);
        c->build(f);
        H5Fclose(f);
        nd_lfads_data d;
        nd_error err = {0};
        char dq[80];
        snprintf(dq, sizeof dq, "'%s'", c->dataset);
        nd_status st = nd_lfads_data_read(p, 3, 0.25, &d, &err);
        CHECK(ctx, st == c->code && strncmp(err.msg, p, strlen(p)) == 0 && strstr(err.msg, dq) &&
                       strstr(err.msg, c->phrase) && !strchr(err.msg, '\n'),
              "%s: status %d, message '%s' (want %s, %s)", c->label, st, err.msg, dq, c->phrase);
        int cleared = 1;
        for (int s = 0; s < ND_NSPLITS; s++) {
            const nd_lfads_split *x = &d.split[s];
            cleared &= !x->n && !x->counts && !x->recon && !x->truth && !x->ext && !x->beh && !x->inds && !x->cond;
        }
        CHECK(ctx, cleared, "%s: output not cleared", c->label);
        if (verbose) printf("    %-32s -> %s\n", c->label, err.msg);
    }

    /* the exact example message format */
    char p[512];
    hid_t f = tf_create("lorenz.h5", p, sizeof p);
    put_counts(f, "train_data", 988, 50, 30, -1, 0);
    put_counts(f, "valid_data", 260, 50, 31, -1, 0);
    H5Fclose(f);
    nd_lfads_data d;
    nd_error err = {0};
    char want[700];
    snprintf(want, sizeof want,
             "%s: dataset 'valid_data': shape (260, 50, 31) does not match 'train_data' (988, 50, 30) in neurons", p);
    CHECK(ctx, nd_lfads_data_read(p, 0, 0.2, &d, &err) == ND_ERR_FORMAT && strcmp(err.msg, want) == 0,
          "got '%s'", err.msg);

    /* file-level problems */
    char q[512];
    path_in(q, sizeof q, "absent.h5");
    CHECK(ctx, nd_lfads_data_read(q, 0, 0.2, &d, &err) == ND_ERR_IO && strstr(err.msg, q), "absent: %s", err.msg);
    if (verbose) printf("    %-32s -> %s\n", "missing file", err.msg);
    path_in(q, sizeof q, "text.txt");
    FILE *fp = fopen(q, "w");
    fputs("x,y\n1,2\n", fp);
    fclose(fp);
    CHECK(ctx, nd_lfads_data_read(q, 0, 0.2, &d, &err) == ND_ERR_FORMAT && strstr(err.msg, q), "text: %s", err.msg);
    if (verbose) printf("    %-32s -> %s\n", "not HDF5", err.msg);
    /* valid_fraction out of range when a split is needed */
    path_in(q, sizeof q, "nosplit.h5");
    f = H5Fcreate(q, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    put_counts(f, "train_data", 10, 5, 6, -1, 0);
    H5Fclose(f);
    CHECK(ctx, nd_lfads_data_read(q, 0, 0.0, &d, &err) == ND_ERR_ARG && strstr(err.msg, q) &&
                   strstr(err.msg, "valid_fraction"),
          "vf 0: %s", err.msg);
    if (verbose) printf("    %-32s -> %s\n", "valid_fraction 0", err.msg);
    CHECK(ctx, nd_lfads_data_read(q, 0, 1.0, &d, &err) == ND_ERR_ARG, "vf 1: %s", err.msg);
}


int main(void) {
    if (!nd_test_scratch(dir, sizeof dir, "nd_test_io_")) return 1;
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL); /* the test's own raw HDF5 calls stay quiet too */
    RUN(test_h5_roundtrip);
    RUN(test_h5_types);
    RUN(test_lfads_full);
    RUN(test_lfads_split);
    RUN(test_lfads_torch_names);
    RUN(test_lfads_int_counts);
    RUN(test_lfads_bad_inputs);
    nd_test_scratch_remove(dir);
    TEST_MAIN_END();
}
