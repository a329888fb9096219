/* libFuzzer harness: the generic HDF5 reader layer used by the NWB / MATLAB v7.3 / triplet readers
 * (src/io/h5x.c). Opens the input (written to a tmpfs file), lists the root, visits every dataset
 * and reads each one the way its class calls for (numbers as double and int64, strings, object
 * references), plus the kind / group / attribute queries on every path met.
 * Seeds: the NWB and triplet seeds (fuzz/corpus/fuzz_h5x). */
#define ND_FUZZ_HDF5
#include "fuzz_common.h"
#include "core/mem.h"
#include "io/h5x.h"

typedef struct {
    nd_h5r *r;
    int visited;
} visit_ctx;

static void check_info(const nd_h5r_info *in, const char *path) {
    if (in->rank < 0 || in->rank > ND_H5R_MAX_RANK) nd_fuzz_bug("%s: rank %d", path, in->rank);
    /* numel is the product of the dims, or SIZE_MAX when that exceeds SIZE_MAX / 16 (h5x.h) */
    size_t n = 1;
    int big = 0;
    for (int i = 0; i < in->rank; i++)
        if (in->dims[i] == 0) n = 0;
    for (int i = 0; i < in->rank && n; i++) {
        if (n > SIZE_MAX / 16 / in->dims[i]) {
            big = 1;
            break;
        }
        n *= in->dims[i];
    }
    if (big ? in->numel != SIZE_MAX : n != in->numel)
        nd_fuzz_bug("%s: numel %zu but dims give %s%zu", path, in->numel, big ? "more than " : "", n);
    nd_fuzz_touch(in->dtype, strnlen(in->dtype, sizeof in->dtype));
    if (strnlen(in->dtype, sizeof in->dtype) == sizeof in->dtype) nd_fuzz_bug("%s: dtype not terminated", path);
}

static void check_strings(char **s, size_t n, const char *what) {
    if (n && !s) nd_fuzz_bug("%s: %zu strings, NULL array", what, n);
    for (size_t i = 0; i < n; i++) {
        if (!s[i]) nd_fuzz_bug("%s: string %zu NULL", what, i);
        nd_fuzz_touch(s[i], strlen(s[i]));
    }
}

static int on_dataset(const char *path, const nd_h5r_info *info, void *ud) {
    visit_ctx *c = ud;
    nd_h5r *r = c->r;
    if (++c->visited > 64) return 1; /* enough: bounded work per input */
    check_info(info, path);
    nd_h5r_info in;
    nd_error err = {ND_OK, {0}};
    nd_status st = nd_h5r_info_of(r, path, &in, &err);
    if (st) {
        nd_fuzz_check_error(st, &err, "nd_h5r_info_of");
        return 0;
    }
    check_info(&in, path);
    if (nd_h5r_kind(r, path) != ND_H5R_DATASET) nd_fuzz_bug("%s: visited as a dataset, kind says otherwise", path);
    double *x = NULL;
    st = nd_h5r_read_f64(r, path, &x, &in, &err);
    if (st == ND_OK) nd_fuzz_touch(x, in.numel * sizeof *x);
    else nd_fuzz_check_error(st, &err, "nd_h5r_read_f64");
    nd_free(x);
    int64_t *iv = NULL;
    st = nd_h5r_read_i64(r, path, &iv, &in, &err);
    if (st == ND_OK) nd_fuzz_touch(iv, in.numel * sizeof *iv);
    else nd_fuzz_check_error(st, &err, "nd_h5r_read_i64");
    nd_free(iv);
    char **s = NULL;
    size_t n = 0;
    st = nd_h5r_read_strings(r, path, &s, &n, &err);
    if (st == ND_OK) {
        check_strings(s, n, "nd_h5r_read_strings");
        nd_h5r_free_strings(s, n);
    } else nd_fuzz_check_error(st, &err, "nd_h5r_read_strings");
    s = NULL;
    n = 0;
    st = nd_h5r_read_refs(r, path, &s, &n, &err);
    if (st == ND_OK) {
        check_strings(s, n, "nd_h5r_read_refs");
        for (size_t i = 0; i < n && i < 8; i++) (void)nd_h5r_kind(r, s[i]);
        nd_h5r_free_strings(s, n);
    } else nd_fuzz_check_error(st, &err, "nd_h5r_read_refs");
    char buf[256];
    double v;
    (void)nd_h5r_attr_string(r, path, "unit", buf, sizeof buf);
    (void)nd_h5r_attr_string(r, path, "MATLAB_class", buf, sizeof buf);
    (void)nd_h5r_attr_f64(r, path, "conversion", &v);
    (void)nd_h5r_attr_f64(r, path, "rate", &v);
    return 0;
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    nd_fuzz_h5_init();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *path = nd_fuzz_path(".h5");
    nd_fuzz_write(path, data, size);
    nd_h5r *r = NULL;
    nd_error err = {ND_OK, {0}};
    nd_status st = nd_h5r_open(path, &r, &err);
    if (st) {
        nd_fuzz_check_error(st, &err, "nd_h5r_open");
        nd_fuzz_h5_check_closed("nd_h5r_open");
        return 0;
    }
    char buf[64];
    double v;
    (void)nd_h5r_attr_string(r, "/", "nwb_version", buf, sizeof buf);
    (void)nd_h5r_attr_f64(r, "/", "rate", &v);
    char **names = NULL;
    size_t nn = 0;
    st = nd_h5r_children(r, "/", &names, &nn, &err);
    if (st == ND_OK) {
        check_strings(names, nn, "nd_h5r_children");
        for (size_t i = 0; i < nn && i < 16; i++) {
            char p[1100];
            snprintf(p, sizeof p, "/%s", names[i]);
            /* (no cross-check of kind against require_group: on a corrupt object header H5Oopen
             * can fail once and succeed on the next call, as HDF5's metadata cache fills) */
            int k = nd_h5r_kind(r, p);
            if (k < ND_H5R_MISSING || k > ND_H5R_OTHER) nd_fuzz_bug("%s: kind %d", p, k);
            nd_error e2 = {ND_OK, {0}};
            nd_status gs = nd_h5r_require_group(r, p, "fuzz", &e2);
            if (gs) nd_fuzz_check_error(gs, &e2, "nd_h5r_require_group");
        }
        nd_h5r_free_strings(names, nn);
    } else nd_fuzz_check_error(st, &err, "nd_h5r_children");
    visit_ctx c = {r, 0};
    nd_error e3 = {ND_OK, {0}};
    st = nd_h5r_visit(r, on_dataset, &c, &e3);
    if (st) nd_fuzz_check_error(st, &e3, "nd_h5r_visit");
    nd_h5r_close(r);
    nd_fuzz_h5_check_closed("nd_h5r_*");
    return 0;
}
