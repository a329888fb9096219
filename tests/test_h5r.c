/* One HDF5 reader (issue 15): the h5.h path-based reads are wrappers over h5x.h's handle. Here many
 * datasets and attributes of one file are read through one nd_h5r and checked against the values the
 * test wrote with the raw HDF5 C API; the handle's errors are checked against the exact h5.h wording
 * and against what the path-based readers say for the same case; the lenient attribute reads
 * (nd_h5r_attr_*) against the strict ones. ND_TEST_VERBOSE=1 prints every error message checked. */
#include "test.h"
#include "../src/core/mem.h"
#include "../src/io/h5.h"
#include "../src/io/h5x.h"
#include <hdf5.h>
#include <stdint.h>

static char dir[256];

static void put(hid_t f, const char *name, hid_t mtype, hid_t ftype, int rank, const hsize_t *dims, const void *x) {
    hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
    H5Pset_create_intermediate_group(lcpl, 1);
    hid_t sp = rank == 0 ? H5Screate(H5S_SCALAR) : H5Screate_simple(rank, dims, NULL);
    hid_t ds = H5Dcreate2(f, name, ftype, sp, lcpl, H5P_DEFAULT, H5P_DEFAULT);
    H5Dwrite(ds, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, x);
    H5Dclose(ds);
    H5Sclose(sp);
    H5Pclose(lcpl);
}

static void put_attr(hid_t f, const char *obj, const char *name, hid_t mtype, hid_t ftype, hsize_t n, const void *x) {
    hid_t sp = n == 0 ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, &n, NULL);
    hid_t a = H5Acreate_by_name(f, obj, name, ftype, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Awrite(a, mtype, x);
    H5Aclose(a);
    H5Sclose(sp);
}

/* trial k of 5: a [3 x 4] float32 block of k * 100 + i; counts k as uint16; a time as float64 */
static void write_file(const char *p) {
    hid_t f = H5Fcreate(p, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    for (int k = 0; k < 5; k++) {
        char name[64];
        float x[12];
        for (int i = 0; i < 12; i++) x[i] = (float)(k * 100 + i);
        hsize_t d2[2] = {3, 4}, d1[1] = {2};
        snprintf(name, sizeof name, "trials/t%d/x", k);
        put(f, name, H5T_NATIVE_FLOAT, H5T_IEEE_F32LE, 2, d2, x);
        uint16_t c[2] = {(uint16_t)k, (uint16_t)(65535 - k)};
        snprintf(name, sizeof name, "trials/t%d/counts", k);
        put(f, name, H5T_NATIVE_UINT16, H5T_STD_U16BE, 1, d1, c);
        double t = 0.25 * k;
        snprintf(name, sizeof name, "trials/t%d", k);
        put_attr(f, name, "start_s", H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE, 0, &t);
    }
    double half[2] = {1.0, 2.5};
    hsize_t d1[1] = {2};
    put(f, "half", H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE, 1, d1, half);
    hid_t s4 = H5Tcopy(H5T_C_S1);
    H5Tset_size(s4, 4);
    char names[2][4] = {"ab", "cd"};
    put(f, "names", s4, s4, 1, d1, names);
    put_attr(f, "/", "labels", s4, s4, 2, names);
    put_attr(f, "/", "label", s4, s4, 0, names[1]);
    H5Tclose(s4);
    long long bin = 20;
    put_attr(f, "/", "bin_ms", H5T_NATIVE_LLONG, H5T_STD_I64LE, 0, &bin);
    put_attr(f, "/", "pair", H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE, 2, half);
    H5Fclose(f);
}

static void test_one_handle_many_reads(nd_test_ctx *ctx) {
    char p[512];
    snprintf(p, sizeof p, "%s/many.h5", dir);
    write_file(p);
    nd_h5r *r = NULL;
    nd_error e = {0};
    CHECK(ctx, nd_h5r_open(p, &r, &e) == ND_OK, "%s", e.msg);
    if (!r) return;
    int bad = 0;
    for (int k = 0; k < 5; k++) {
        char name[64];
        float *x = NULL;
        int *c = NULL, rank = -1;
        size_t dims[ND_H5R_MAX_RANK];
        double t = -1;
        snprintf(name, sizeof name, "trials/t%d/x", k);
        if (nd_h5r_read_float(r, name, &x, &rank, dims, &e) || rank != 2 || dims[0] != 3 || dims[1] != 4) bad++;
        for (int i = 0; x && i < 12; i++) bad += x[i] != (float)(k * 100 + i);
        if (nd_h5r_dims(r, name, &rank, dims, &e) || rank != 2 || dims[1] != 4) bad++;
        snprintf(name, sizeof name, "/trials/t%d/counts", k);
        if (nd_h5r_read_int(r, name, &c, &rank, dims, &e) || rank != 1 || dims[0] != 2) bad++;
        if (c) bad += c[0] != k || c[1] != 65535 - k;
        snprintf(name, sizeof name, "trials/t%d", k);
        if (nd_h5r_read_attr_double(r, name, "start_s", &t, &e) || t != 0.25 * k) bad++;
        nd_free(x);
        nd_free(c);
    }
    CHECK(ctx, bad == 0, "%d wrong reads (last error: %s)", bad, e.msg);
    double bin = 0;
    char s[8];
    CHECK(ctx, nd_h5r_read_attr_double(r, "/", "bin_ms", &bin, &e) == ND_OK && bin == 20, "bin_ms %g %s", bin, e.msg);
    CHECK(ctx, nd_h5r_read_attr_string(r, "/", "label", s, sizeof s, &e) == ND_OK && !strcmp(s, "cd"), "'%s' %s", s,
          e.msg);
    int *iv = NULL, rank;
    size_t dims[ND_H5R_MAX_RANK];
    CHECK(ctx, nd_h5r_read_int(r, "half", &iv, &rank, dims, &e) == ND_ERR_FORMAT && !iv, "2.5 as int");
    nd_h5r_close(r);
}

/* the handle's messages are h5.h's, word for word, and the same as the path-based reads give */
static void test_wording(nd_test_ctx *ctx) {
    char p[512], want[1200];
    snprintf(p, sizeof p, "%s/many.h5", dir);
    nd_h5r *r = NULL;
    nd_error e = {0}, pe = {0};
    CHECK(ctx, nd_h5r_open(p, &r, &e) == ND_OK, "%s", e.msg);
    if (!r) return;
    struct {
        const char *name, *want;
    } cases[] = {
        {"nope", "%s: no dataset 'nope'"},
        {"trials/t9/x", "%s: no dataset 'trials/t9/x'"},
        {"trials", "%s: 'trials' is not a dataset (a group?)"},
        {"names", "%s: dataset 'names': type string is not numeric"},
        {"half", "%s: dataset 'half': element 1 = 2.5 is not an integer in int range"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int *x = NULL, rank;
        size_t dims[ND_H5R_MAX_RANK];
        nd_status st = nd_h5r_read_int(r, cases[i].name, &x, &rank, dims, &e);
        nd_status pst = nd_h5_read_int(p, cases[i].name, &x, &rank, dims, &pe);
        snprintf(want, sizeof want, cases[i].want, p);
        CHECK(ctx, st == ND_ERR_FORMAT && pst == st && !strcmp(e.msg, want) && !strcmp(pe.msg, want) && !x,
              "%s: handle '%s', path '%s'", cases[i].name, e.msg, pe.msg);
        if (getenv("ND_TEST_VERBOSE")) printf("    %-12s -> %s\n", cases[i].name, e.msg);
    }
    double v;
    char s[8];
    snprintf(want, sizeof want, "%s: object '/' has no attribute 'nope'", p);
    CHECK(ctx, nd_h5r_read_attr_double(r, "/", "nope", &v, &e) == ND_ERR_FORMAT && !strcmp(e.msg, want), "%s", e.msg);
    snprintf(want, sizeof want, "%s: object '/': attribute 'pair' is not a single number", p);
    CHECK(ctx, nd_h5r_read_attr_double(r, "/", "pair", &v, &e) == ND_ERR_FORMAT && !strcmp(e.msg, want), "%s", e.msg);
    CHECK(ctx, nd_h5_read_attr_double(p, "/", "pair", &v, &pe) == ND_ERR_FORMAT && !strcmp(pe.msg, want), "%s",
          pe.msg);
    snprintf(want, sizeof want, "%s: object '/': attribute 'labels' is not a single string", p);
    CHECK(ctx, nd_h5r_read_attr_string(r, "/", "labels", s, sizeof s, &e) == ND_ERR_FORMAT && !strcmp(e.msg, want),
          "%s", e.msg);
    snprintf(want, sizeof want, "%s: no object 'zz'", p);
    CHECK(ctx, nd_h5r_read_attr_string(r, "zz", "a", s, sizeof s, &e) == ND_ERR_FORMAT && !strcmp(e.msg, want), "%s",
          e.msg);
    /* the lenient reads: 0 instead of an error; the first of an array of strings */
    CHECK(ctx, nd_h5r_attr_string(r, "/", "labels", s, sizeof s) == 1 && !strcmp(s, "ab"), "first label '%s'", s);
    CHECK(ctx, nd_h5r_attr_string(r, "/", "bin_ms", s, sizeof s) == 0 && !s[0], "number as string");
    CHECK(ctx, nd_h5r_attr_f64(r, "/", "pair", &v) == 0 && nd_h5r_attr_f64(r, "/", "nope", &v) == 0, "lenient f64");
    CHECK(ctx, nd_h5r_attr_f64(r, "/trials/t2", "start_s", &v) == 1 && v == 0.5, "start_s %g", v);
    nd_h5r_close(r);
}

int main(void) {
    if (!nd_test_scratch(dir, sizeof dir, "nd_test_h5r_")) return 1;
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    RUN(test_one_handle_many_reads);
    RUN(test_wording);
    nd_test_scratch_remove(dir);
    TEST_MAIN_END();
}
