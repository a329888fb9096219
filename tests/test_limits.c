/* Sizes that files declare, checked before anything is allocated or read: the fixes of the bugs
 * the fuzzers found (fuzz/FINDINGS.md, bugs 2-10). Every input is made here: HDF5 files with the
 * C API (never-written datasets declare any size in a few KB, as fuzz/crashes/make_bigdims.c
 * does; a few bytes are patched to make corrupt ones), MATLAB v5 files with libmatio (patched
 * likewise), checkpoints with nd_ckpt_write. Each case must fail with one line naming the file,
 * the dataset or field and the size, or read back the right values. ND_TEST_VERBOSE=1 prints
 * the messages; ND_TEST_KEEP=1 keeps the files. */
#include "test.h"
#include "../src/core/mem.h"
#include "../src/io/binning.h"
#include "../src/io/checkpoint.h"
#include "../src/io/h5.h"
#include "../src/io/h5x.h"
#include "../src/io/mat.h"
#include "../src/models/lfads.h"
#include "../src/models/lfads_config.h"
#include "../src/models/lfads_train.h"
#include <float.h>
#include <hdf5.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "matio_weak.h"

static char dir[256];
static int verbose;

static void path_in(char *out, size_t cap, const char *name) { snprintf(out, cap, "%s/%s", dir, name); }

static int has(const char *msg, const char *part) { return strstr(msg, part) != NULL; }
static void show(const char *what, const nd_error *e) {
    if (verbose) printf("    [%s] %s\n", what, e->msg);
}

/* ---------------------------------------------------------------- HDF5 files */
/* a dataset of the given shape that is never written (chunked: chunks of 1 x ... x min(64, last)) */
static void make_unwritten(const char *path, const char *name, hid_t ftype, int chunked, int rank,
                           const hsize_t *d) {
    hsize_t c[8];
    for (int i = 0; i < rank; i++) c[i] = 1;
    c[rank - 1] = d[rank - 1] < 64 ? d[rank - 1] : 64;
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    hid_t sp = H5Screate_simple(rank, d, NULL);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    if (chunked) H5Pset_chunk(dcpl, rank, c);
    else H5Pset_alloc_time(dcpl, H5D_ALLOC_TIME_LATE);
    hid_t l = H5Pcreate(H5P_LINK_CREATE);
    H5Pset_create_intermediate_group(l, 1);
    hid_t ds = H5Dcreate2(f, name, ftype, sp, l, dcpl, H5P_DEFAULT);
    H5Dclose(ds);
    H5Pclose(l);
    H5Pclose(dcpl);
    H5Sclose(sp);
    H5Fclose(f);
}

/* a written contiguous dataset; returns its data's file address */
static haddr_t make_written(const char *path, const char *name, hid_t mtype, hid_t ftype, hsize_t n,
                            const void *x) {
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    hid_t sp = H5Screate_simple(1, &n, NULL);
    hid_t ds = H5Dcreate2(f, name, ftype, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Dwrite(ds, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, x);
    haddr_t a = H5Dget_offset(ds);
    H5Dclose(ds);
    H5Sclose(sp);
    H5Fclose(f);
    return a;
}

/* replaces, at the only occurrence of pat in the file, n bytes at offset off of it; the number of
 * occurrences found (the patch is made only when it is 1) */
static int patch(const char *path, const unsigned char *pat, size_t plen, size_t off, const void *rep, size_t n) {
    FILE *fp = fopen(path, "r+b");
    if (!fp) return 0;
    unsigned char buf[1 << 16];
    size_t len = fread(buf, 1, sizeof buf, fp);
    int found = 0;
    long at = -1;
    for (size_t i = 0; i + plen <= len; i++)
        if (!memcmp(buf + i, pat, plen)) found++, at = (long)i;
    if (found == 1) {
        fseek(fp, at + (long)off, SEEK_SET);
        fwrite(rep, 1, n, fp);
    }
    fclose(fp);
    return found;
}

/* bug 3: h5.c read_dataset compares the declared size with what is stored before allocating */
static void test_h5_declared_size(nd_test_ctx *ctx) {
    char p[512];
    float *x = NULL;
    int rank;
    size_t dims[ND_H5_MAX_RANK];
    nd_error e = {0};
    /* contiguous, never written, 3 GiB declared */
    path_in(p, sizeof p, "unwritten.h5");
    hsize_t d1[3] = {3, 1024, 262144};
    make_unwritten(p, "train_data", H5T_IEEE_F32LE, 0, 3, d1);
    nd_status st = nd_h5_read_float(p, "train_data", &x, &rank, dims, &e);
    show("contiguous unwritten", &e);
    CHECK(ctx, st == ND_ERR_FORMAT && has(e.msg, p) && has(e.msg, "'train_data'") && has(e.msg, "has no data"),
          "st %d: %s", st, e.msg);
    nd_free(x);
    x = NULL;
    /* chunked, never written: 256 MiB of fill value from 0 stored bytes */
    hsize_t d2[3] = {64, 1024, 1024};
    make_unwritten(p, "train_data", H5T_IEEE_F32LE, 1, 3, d2);
    st = nd_h5_read_float(p, "train_data", &x, &rank, dims, &e);
    show("chunked unwritten 256 MiB", &e);
    CHECK(ctx, st == ND_ERR_FORMAT && has(e.msg, "'train_data'") && has(e.msg, "268435456 bytes"), "st %d: %s", st,
          e.msg);
    nd_free(x);
    x = NULL;
    /* numel * 4 = 2^64 - 4 (bug 1): too large, with the size */
    hsize_t d3[3] = {3, 715827883, 2147483647};
    make_unwritten(p, "train_data", H5T_IEEE_F32LE, 1, 3, d3);
    st = nd_h5_read_float(p, "train_data", &x, &rank, dims, &e);
    show("2^64 bytes", &e);
    CHECK(ctx, st == ND_ERR_FORMAT && has(e.msg, "too large") && has(e.msg, "ND_MAX_ALLOC_MB"), "st %d: %s", st,
          e.msg);
    nd_free(x);
    x = NULL;
    /* a small never-written chunked dataset reads as its fill value (0) */
    hsize_t d4[2] = {4, 5};
    make_unwritten(p, "train_data", H5T_IEEE_F32LE, 1, 2, d4);
    st = nd_h5_read_float(p, "train_data", &x, &rank, dims, &e);
    CHECK(ctx, st == ND_OK && rank == 2 && dims[0] == 4 && dims[1] == 5, "small unwritten chunked: %s", e.msg);
    int zeros = 1;
    for (int i = 0; st == ND_OK && i < 20; i++) zeros &= x[i] == 0.0f;
    CHECK(ctx, zeros, "fill value");
    nd_free(x);
    x = NULL;
}

/* bug 3: contiguous data smaller than the dims (patched layout message), and a corrupt integer type */
static void test_h5_corrupt_layout_and_type(nd_test_ctx *ctx) {
    char p[512];
    float v[16];
    for (int i = 0; i < 16; i++) v[i] = (float)i;
    path_in(p, sizeof p, "layout.h5");
    haddr_t a = make_written(p, "train_data", H5T_NATIVE_FLOAT, H5T_IEEE_F32LE, 16, v);
    /* layout message, version 3, contiguous: 3, 1, address (8 bytes LE), size (8 bytes LE) */
    unsigned char pat[10] = {3, 1};
    for (int i = 0; i < 8; i++) pat[2 + i] = (unsigned char)(a >> (8 * i));
    uint64_t small = 32;
    unsigned char s8[8];
    for (int i = 0; i < 8; i++) s8[i] = (unsigned char)(small >> (8 * i));
    int found = patch(p, pat, sizeof pat, sizeof pat, s8, 8);
    CHECK(ctx, found == 1, "layout message found %d times", found);
    float *x = NULL;
    int rank;
    size_t dims[ND_H5_MAX_RANK];
    nd_error e = {0};
    nd_status st = nd_h5_read_float(p, "train_data", &x, &rank, dims, &e);
    show("contiguous 64 bytes declared, 32 stored", &e);
    CHECK(ctx, st == ND_ERR_FORMAT && has(e.msg, "'train_data'") && has(e.msg, "need 64 bytes") &&
          has(e.msg, "stores 32"), "st %d: %s", st, e.msg);
    nd_free(x);
    x = NULL;
    /* int32 with precision 0 (crashed libhdf5's integer -> float conversion) */
    int32_t iv[6] = {1, 2, 3, 4, 5, 6};
    make_written(p, "train_data", H5T_NATIVE_INT32, H5T_STD_I32LE, 6, iv);
    /* datatype message: version 1 / class integer, flags (signed), size 4, offset 0, precision 32 */
    const unsigned char tpat[12] = {0x10, 0x08, 0, 0, 4, 0, 0, 0, 0, 0, 32, 0};
    const unsigned char zero2[2] = {0, 0};
    found = patch(p, tpat, sizeof tpat, 10, zero2, 2);
    CHECK(ctx, found == 1, "datatype message found %d times", found);
    st = nd_h5_read_float(p, "train_data", &x, &rank, dims, &e);
    show("integer precision 0", &e);
    CHECK(ctx, st == ND_ERR_FORMAT && has(e.msg, "'train_data'") && has(e.msg, "corrupt integer type"), "st %d: %s",
          st, e.msg);
    nd_free(x);
}

/* the global cap (ND_MAX_ALLOC_MB) on what a dataset may make us allocate */
static void test_h5_alloc_limit(nd_test_ctx *ctx) {
    char p[512];
    path_in(p, sizeof p, "two_mib.h5");
    size_t n = 512 * 1024;
    float *v = calloc(n, sizeof *v);
    if (!v) SKIP(ctx, "out of memory");
    v[n - 1] = 7;
    make_written(p, "train_data", H5T_NATIVE_FLOAT, H5T_IEEE_F32LE, n, v);
    free(v);
    float *x = NULL;
    int rank;
    size_t dims[ND_H5_MAX_RANK];
    nd_error e = {0};
    setenv("ND_MAX_ALLOC_MB", "1", 1);
    CHECK(ctx, nd_alloc_limit() == ((size_t)1 << 20), "limit %zu", nd_alloc_limit());
    nd_status st = nd_h5_read_float(p, "train_data", &x, &rank, dims, &e);
    show("2 MiB, limit 1 MiB", &e);
    CHECK(ctx, st == ND_ERR_FORMAT && has(e.msg, "2097152 bytes") && has(e.msg, "limit of 1048576 bytes"),
          "st %d: %s", st, e.msg);
    nd_free(x);
    x = NULL;
    unsetenv("ND_MAX_ALLOC_MB");
    CHECK(ctx, nd_alloc_limit() == ND_ALLOC_LIMIT_DEFAULT, "default limit %zu", nd_alloc_limit());
    st = nd_h5_read_float(p, "train_data", &x, &rank, dims, &e);
    CHECK(ctx, st == ND_OK && dims[0] == n && x[n - 1] == 7.0f, "without the limit: %s", e.msg);
    nd_free(x);
}

/* bug 2 (and 3) in the h5x readers: numel overflow, unwritten data; and the readers' conversions */
static void test_h5x_sizes(nd_test_ctx *ctx) {
    char p[512];
    path_in(p, sizeof p, "h5x.h5");
    hsize_t big = ((hsize_t)1 << 61) + 1; /* x 8 bytes wraps around 2^64 */
    make_unwritten(p, "/units/spike_times", H5T_IEEE_F64LE, 1, 1, &big);
    nd_h5r *r = NULL;
    nd_error e = {0};
    CHECK(ctx, nd_h5r_open(p, &r, &e) == ND_OK, "%s", e.msg);
    if (!r) return;
    double *x = NULL;
    int64_t *iv = NULL;
    nd_h5r_info in;
    nd_status st = nd_h5r_read_f64(r, "/units/spike_times", &x, &in, &e);
    show("2^61 + 1 doubles", &e);
    CHECK(ctx, st == ND_ERR_FORMAT && !x && has(e.msg, "/units/spike_times") && has(e.msg, "too large"), "st %d: %s",
          st, e.msg);
    st = nd_h5r_read_i64(r, "/units/spike_times", &iv, &in, &e);
    CHECK(ctx, st == ND_ERR_FORMAT && !iv && has(e.msg, "too large"), "i64: st %d: %s", st, e.msg);
    char **s = NULL;
    size_t ns = 0;
    st = nd_h5r_read_strings(r, "/units/spike_times", &s, &ns, &e);
    CHECK(ctx, st == ND_ERR_FORMAT && !s, "strings: %s", e.msg);
    nd_h5r_close(r);

    /* 1 GiB of never-written chunked doubles */
    hsize_t n = (hsize_t)1 << 27;
    make_unwritten(p, "/units/spike_times", H5T_IEEE_F64LE, 1, 1, &n);
    CHECK(ctx, nd_h5r_open(p, &r, &e) == ND_OK, "%s", e.msg);
    if (!r) return;
    st = nd_h5r_read_f64(r, "/units/spike_times", &x, &in, &e);
    show("1 GiB unwritten", &e);
    CHECK(ctx, st == ND_ERR_FORMAT && !x && has(e.msg, "1073741824 bytes") && has(e.msg, "chunked"), "st %d: %s", st,
          e.msg);
    nd_h5r_close(r);

    /* the conversions the shared read path does in place: float -> int64, bool enum -> double */
    hid_t f = H5Fcreate(p, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    hsize_t three = 3;
    hid_t sp = H5Screate_simple(1, &three, NULL);
    double dv[3] = {-2, 0, 9.0e15};
    hid_t ds = H5Dcreate2(f, "whole", H5T_IEEE_F64LE, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Dwrite(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, dv);
    H5Dclose(ds);
    dv[1] = 0.5;
    ds = H5Dcreate2(f, "half", H5T_IEEE_F64LE, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Dwrite(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, dv);
    H5Dclose(ds);
    hid_t bt = H5Tenum_create(H5T_NATIVE_INT8);
    int8_t fv = 0, tv = 1;
    H5Tenum_insert(bt, "FALSE", &fv);
    H5Tenum_insert(bt, "TRUE", &tv);
    int8_t bv[3] = {1, 0, 1};
    ds = H5Dcreate2(f, "flags", bt, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Dwrite(ds, bt, H5S_ALL, H5S_ALL, H5P_DEFAULT, bv);
    H5Dclose(ds);
    H5Tclose(bt);
    H5Sclose(sp);
    H5Fclose(f);
    CHECK(ctx, nd_h5r_open(p, &r, &e) == ND_OK, "%s", e.msg);
    if (!r) return;
    st = nd_h5r_read_i64(r, "/whole", &iv, &in, &e);
    CHECK(ctx, st == ND_OK && iv[0] == -2 && iv[1] == 0 && iv[2] == 9000000000000000LL, "whole: %s", e.msg);
    nd_free(iv);
    iv = NULL;
    st = nd_h5r_read_i64(r, "/half", &iv, &in, &e);
    CHECK(ctx, st == ND_ERR_FORMAT && !iv && has(e.msg, "/half") && has(e.msg, "element 1 = 0.5"), "half: %s",
          e.msg);
    st = nd_h5r_read_f64(r, "/flags", &x, &in, &e);
    CHECK(ctx, st == ND_OK && in.cls == ND_H5R_BOOL && x[0] == 1 && x[1] == 0 && x[2] == 1, "bool: %s", e.msg);
    nd_free(x);
    nd_h5r_close(r);
}

/* ---------------------------------------------------------------- checkpoints and config */
static nd_lfads_config small_config(void) {
    nd_lfads_config c;
    nd_lfads_config_default(&c);
    c.gen_dim = 4;
    c.con_dim = 0;
    c.co_dim = 0;
    c.ci_enc_dim = 0;
    c.ic_enc_dim = 3;
    c.ic_dim = 2;
    c.fac_dim = 2;
    return c;
}

static nd_status write_ckpt(const char *path, const nd_lfads_config *c, const int32_t d[7], size_t param_bytes) {
    char *txt = nd_lfads_config_to_text(c);
    void *params = calloc(param_bytes ? param_bytes : 1, 1);
    nd_ckpt_section s[3] = {{"config", txt, txt ? strlen(txt) + 1 : 0},
                            {"dims", d, 7 * sizeof(int32_t)},
                            {"params", params, param_bytes}};
    nd_error e;
    nd_status st = txt && params ? nd_ckpt_write(path, s, 3, &e) : ND_ERR_NOMEM;
    free(txt);
    free(params);
    return st;
}

/* bug 4: model sizes from a checkpoint are checked before the model is allocated */
static void test_ckpt_sizes(nd_test_ctx *ctx) {
    nd_lfads_config c = small_config();
    nd_error e = {0};
    /* upper limits in the config check */
    c.gen_dim = 65536;
    CHECK(ctx, nd_lfads_config_check(&c, &e) == ND_ERR_ARG && has(e.msg, "gen_dim") && has(e.msg, "65535"), "%s",
          e.msg);
    c.gen_dim = 65535;
    CHECK(ctx, nd_lfads_config_check(&c, &e) == ND_OK, "%s", e.msg);
    c.co_dim = 70000;
    CHECK(ctx, nd_lfads_config_check(&c, &e) == ND_ERR_ARG && has(e.msg, "co_dim"), "%s", e.msg);
    c.co_dim = 0;
    /* parameter count in size_t: only fac_W (F x G) and ro_W (F x Nr) depend on F without the
     * controller, so n(F) - n(1) = (F - 1) (G + Nr); F * G = 4294836225 > INT_MAX */
    nd_lfads_views v;
    c.fac_dim = 1;
    size_t n1 = nd_lfads_bind(&v, NULL, &c, 2, 3, 0);
    c.fac_dim = 65535;
    size_t nF = nd_lfads_bind(&v, NULL, &c, 2, 3, 0);
    CHECK(ctx, nF - n1 == (size_t)65534 * (65535 + 3), "n(F) - n(1) = %zu", nF - n1);

    char p[512];
    path_in(p, sizeof p, "model.ckpt");
    nd_lfads_model m;
    int dims[3];
    /* gen_dim = fac_dim = 65536 (signed overflow in nd_lfads_bind before) */
    c = small_config();
    c.gen_dim = c.fac_dim = 65536;
    int32_t d[7] = {3, 4, 1, 10, 3, 3, 4};
    CHECK(ctx, write_ckpt(p, &c, d, 16) == ND_OK, "write");
    nd_status st = nd_lfads_load(p, &m, dims, &e);
    show("gen_dim 65536", &e);
    CHECK(ctx, st == ND_ERR_CHECKPOINT && has(e.msg, p) && has(e.msg, "gen_dim"), "st %d: %s", st, e.msg);
    if (!st) nd_lfads_free(&m);
    /* dims from the fuzzer: 6.5 GB of parameters */
    c = small_config();
    int32_t d2[7] = {3, 4, 1, 10, 3, 543293439, 5876482};
    CHECK(ctx, write_ckpt(p, &c, d2, 16) == ND_OK, "write");
    st = nd_lfads_load(p, &m, dims, &e);
    show("huge dims", &e);
    CHECK(ctx, st == ND_ERR_CHECKPOINT && has(e.msg, "'dims'"), "st %d: %s", st, e.msg);
    if (!st) nd_lfads_free(&m);
    /* plausible dims (2^24 neurons) but a 16-byte params section: refused before allocating ~1 GB */
    int32_t d3[7] = {1 << 24, 4, 0, 10, 3, 1 << 24, 4};
    CHECK(ctx, write_ckpt(p, &c, d3, 16) == ND_OK, "write");
    st = nd_lfads_load(p, &m, dims, &e);
    show("2^24 neurons, 16 bytes of params", &e);
    CHECK(ctx, st == ND_ERR_CHECKPOINT && has(e.msg, "'params'"), "st %d: %s", st, e.msg);
    if (!st) nd_lfads_free(&m);
    /* and the right size loads */
    nd_lfads_views vv;
    size_t np = nd_lfads_bind(&vv, NULL, &c, 3, 3, 1);
    CHECK(ctx, write_ckpt(p, &c, d, np * sizeof(float)) == ND_OK, "write");
    st = nd_lfads_load(p, &m, dims, &e);
    CHECK(ctx, st == ND_OK && m.n_params == np && dims[0] == 3 && dims[1] == 4 && dims[2] == 1, "good: %s", e.msg);
    if (!st) nd_lfads_free(&m);
}

/* bug 5: a subnormal value survives write -> parse; overflow is still an error */
static void test_config_subnormal(nd_test_ctx *ctx) {
    nd_lfads_config c, back;
    nd_lfads_config_default(&c);
    nd_error e = {0};
    CHECK(ctx, nd_lfads_config_set(&c, "lr_init", "0x1p-1074", &e) == ND_OK, "%s", e.msg);
    CHECK(ctx, c.lr_init == 4.9406564584124654e-324, "lr_init %g", c.lr_init);
    char *txt = nd_lfads_config_to_text(&c);
    nd_lfads_config_default(&back);
    nd_status st = txt ? nd_lfads_config_parse_text(&back, txt, "roundtrip", &e) : ND_ERR_NOMEM;
    CHECK(ctx, st == ND_OK && back.lr_init == c.lr_init, "round trip: %s", e.msg);
    free(txt);
    CHECK(ctx, nd_lfads_config_set(&c, "lr_init", "1e-400", &e) == ND_OK && c.lr_init == 0, "underflow to 0: %s",
          e.msg);
    CHECK(ctx, nd_lfads_config_set(&c, "lr_init", "1e400", &e) == ND_ERR_ARG && has(e.msg, "lr_init"),
          "overflow: %s", e.msg);
}

/* ---------------------------------------------------------------- binned data */
/* bug 6: behaviour beyond the float range is a missing sample, never inf */
static void test_interp_float_range(nd_test_ctx *ctx) {
    const double ts[2] = {0, 1};
    const double big[2] = {1e39, 1e39}, neg[2] = {0, -1e39}, ok[2] = {3e38, -3e38};
    float out = 0;
    CHECK(ctx, nd_interp_linear(ts, big, 2, 1, 0.0, &out) == -1, "1e39 accepted as %g", out);
    CHECK(ctx, nd_interp_linear(ts, neg, 2, 1, 1.0, &out) == -1, "-1e39 accepted as %g", out);
    CHECK(ctx, nd_interp_linear(ts, ok, 2, 1, 0.0, &out) == 0 && out == 3e38f, "3e38: %g", out);
    CHECK(ctx, nd_interp_linear(ts, ok, 2, 1, 0.5, &out) == 0 && out == 0.0f, "midpoint: %g", out);
}

/* bug 10: the ns clock saturates instead of overflowing int64 (huge NWB trial times) */
static void test_time_clock_range(nd_test_ctx *ctx) {
    CHECK(ctx, nd_time_ns(1.5, 1e9) == 1500000000LL, "1.5 s");
    CHECK(ctx, nd_time_ns(-0.25, 1e6) == -250000LL, "-0.25 ms");
    CHECK(ctx, nd_time_ns(5.6e305, 1e9) == ND_TIME_NS_MAX, "5.6e305 s -> %lld", (long long)nd_time_ns(5.6e305, 1e9));
    CHECK(ctx, nd_time_ns(-INFINITY, 1e9) == -ND_TIME_NS_MAX, "-inf");
    CHECK(ctx, nd_time_ns(NAN, 1e9) == 0, "NaN");
    /* the binning arithmetic on such times stays defined (UBSan in make asan) and far outside any trial */
    CHECK(ctx, nd_bin_index(1e300, 1e9, -ND_TIME_NS_MAX, 1000000) > 0, "bin of a huge time");
    CHECK(ctx, nd_bin_index(-1e300, 1e9, ND_TIME_NS_MAX, 1000000) < 0, "bin of a huge negative time");
}

/* bug 9: the binned array is capped (8 GiB, ND_MAX_ALLOC_MB) with a message naming the sizes */
static void test_binned_limit(nd_test_ctx *ctx) {
    nd_binned b;
    memset(&b, 0, sizeof b);
    snprintf(b.source, sizeof b.source, "spikes.h5");
    nd_error e = {0};
    setenv("ND_MAX_ALLOC_MB", "1", 1);
    nd_status st = nd_binned_alloc(&b, 1000, 90, 10, 10, 0, &e); /* 4,000,000 bytes */
    show("binned over the limit", &e);
    CHECK(ctx, st == ND_ERR_NOMEM && has(e.msg, "spikes.h5") && has(e.msg, "1000 trials x 100 bins x 10 units") &&
          has(e.msg, "4000000 bytes") && has(e.msg, "ND_MAX_ALLOC_MB"), "st %d: %s", st, e.msg);
    nd_binned_free(&b);
    snprintf(b.source, sizeof b.source, "spikes.h5");
    st = nd_binned_alloc(&b, 100, 90, 10, 10, 300, &e); /* counts 400,000 bytes, behaviour 10,800,000 */
    CHECK(ctx, st == ND_ERR_NOMEM && has(e.msg, "300 behaviour dimensions"), "behaviour: %s", e.msg);
    nd_binned_free(&b);
    snprintf(b.source, sizeof b.source, "spikes.h5");
    st = nd_binned_alloc(&b, 100, 90, 10, 10, 2, &e);
    CHECK(ctx, st == ND_OK && b.counts && b.behavior && b.n == 100 && b.T == 90, "under the limit: %s", e.msg);
    nd_binned_free(&b);
    unsetenv("ND_MAX_ALLOC_MB");
    /* the default limit: 8 GiB; 2000 x 1100 x 1000 float32 = 8.8 GB is refused without allocating */
    snprintf(b.source, sizeof b.source, "spikes.h5");
    st = nd_binned_alloc(&b, 2000, 1100, 0, 1000, 0, &e);
    CHECK(ctx, st == ND_ERR_NOMEM && has(e.msg, "8589934592"), "default limit: %s", e.msg);
    nd_binned_free(&b);
}

/* ---------------------------------------------------------------- MATLAB v5 */
#ifdef HAVE_MATIO_H
/* D(1).data = 2 x 3 doubles (x), D(1).condition = 'xyz' */
static int make_mat5(const char *path, const double x[6]) {
    if (!LINKED(Mat_CreateVer) || !LINKED(Mat_VarCreateStruct)) return 0;
    mat_t *m = Mat_CreateVer(path, NULL, MAT_FT_MAT5);
    if (!m) return 0;
    const char *fields[2] = {"data", "condition"};
    size_t sd[2] = {1, 1}, dd[2] = {2, 3}, cd[2] = {1, 3};
    matvar_t *s = Mat_VarCreateStruct("D", 2, sd, fields, 2);
    Mat_VarSetStructFieldByName(s, "data", 0, Mat_VarCreate(NULL, MAT_C_DOUBLE, MAT_T_DOUBLE, 2, dd, (void *)x, 0));
    Mat_VarSetStructFieldByName(s, "condition", 0, Mat_VarCreate(NULL, MAT_C_CHAR, MAT_T_UTF8, 2, cd, "xyz", 0));
    Mat_VarWrite(m, s, MAT_COMPRESSION_NONE);
    Mat_VarFree(s);
    Mat_Close(m);
    return 1;
}
#endif

/* bug 7: counts above 2^24 per 1-ms bin are refused (they became inf as float sums) */
static void test_mat_counts(nd_test_ctx *ctx) {
#ifdef HAVE_MATIO_H
    char p[512];
    path_in(p, sizeof p, "counts.mat");
    double x[6] = {0, 1, 16777216, 0, 2, 3};
    if (!make_mat5(p, x)) SKIP(ctx, "libmatio not linked");
    nd_bin_opts o;
    nd_bin_opts_default(&o);
    o.bin_ms = 1;
    nd_binned b;
    nd_error e = {0};
    nd_status st = nd_mat_read(p, &o, &b, &e);
    CHECK(ctx, st == ND_OK && b.n == 1 && b.T == 3 && b.N == 2 && b.counts[2] == 16777216.0f, "2^24: %s", e.msg);
    if (!st) nd_binned_free(&b);
    x[2] = 16777217;
    make_mat5(p, x);
    st = nd_mat_read(p, &o, &b, &e);
    show("2^24 + 1", &e);
    CHECK(ctx, st == ND_ERR_FORMAT && has(e.msg, "D(1).data(1,2)") && has(e.msg, "not a plausible spike count"),
          "st %d: %s", st, e.msg);
    if (!st) nd_binned_free(&b);
    x[2] = 1e300;
    make_mat5(p, x);
    st = nd_mat_read(p, &o, &b, &e);
    CHECK(ctx, st == ND_ERR_FORMAT && has(e.msg, "1e+300"), "1e300: %s", e.msg);
    if (!st) nd_binned_free(&b);
#else
    SKIP(ctx, "built without matio.h");
#endif
}

/* bug 8: a char array whose dims claim more characters than the file stores (patched dims) */
static void test_mat_corrupt_dims(nd_test_ctx *ctx) {
#ifdef HAVE_MATIO_H
    char p[512];
    path_in(p, sizeof p, "dims.mat");
    const double x[6] = {0, 1, 2, 0, 2, 3};
    if (!make_mat5(p, x)) SKIP(ctx, "libmatio not linked");
    nd_mat_trials m;
    nd_error e = {0};
    CHECK(ctx, nd_mat5_load(p, NULL, NULL, &m, &e) == ND_OK && m.n == 1 && !strcmp(m.cond[0], "xyz"), "good: %s",
          e.msg);
    nd_mat_trials_free(&m);
    /* dimensions sub-element (miINT32, 8 bytes): 1 x 3 of the condition -> 1 x 1000 */
    const unsigned char cpat[16] = {5, 0, 0, 0, 8, 0, 0, 0, 1, 0, 0, 0, 3, 0, 0, 0};
    const unsigned char c1000[4] = {0xe8, 0x03, 0, 0};
    int found = patch(p, cpat, sizeof cpat, 12, c1000, 4);
    CHECK(ctx, found == 1, "condition dims found %d times", found);
    nd_status st = nd_mat5_load(p, NULL, NULL, &m, &e);
    show("condition 1 x 1000, 3 bytes", &e);
    CHECK(ctx, st == ND_ERR_FORMAT && has(e.msg, p) && has(e.msg, "D(1).condition") &&
          has(e.msg, "dims say 1000 elements"), "st %d: %s", st, e.msg);
    if (!st) nd_mat_trials_free(&m);
    /* (numeric matrices and struct arrays are not affected: libmatio sizes their buffers by the
     * dims; char arrays it sizes by the stored bytes) */
#else
    SKIP(ctx, "built without matio.h");
#endif
}


int main(void) {
    verbose = getenv("ND_TEST_VERBOSE") != NULL;
    unsetenv("ND_MAX_ALLOC_MB");
    if (!nd_test_scratch(dir, sizeof dir, "nd_limits_")) return 1;
    RUN(test_h5_declared_size);
    RUN(test_h5_corrupt_layout_and_type);
    RUN(test_h5_alloc_limit);
    RUN(test_h5x_sizes);
    RUN(test_ckpt_sizes);
    RUN(test_config_subnormal);
    RUN(test_interp_float_range);
    RUN(test_time_clock_range);
    RUN(test_binned_limit);
    RUN(test_mat_counts);
    RUN(test_mat_corrupt_dims);
    nd_test_scratch_remove(dir);
    TEST_MAIN_END();
}
