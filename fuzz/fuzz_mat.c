/* libFuzzer harness: the MATLAB readers (src/io/mat73.c: v7.3 = HDF5 through src/io/h5x.c;
 * src/io/mat.c: v5 through libmatio). Each input (written to a tmpfs file) goes through
 *   nd_mat_version, nd_mat73_load and nd_mat5_load (both, whatever the header says), nd_mat5_list,
 *   nd_mat_read with the defaults (20 ms bins, whole trials; then converted to lfads-torch and read
 *   back, see binned_check.h) and with a window 0:200 ms, 2 forward-prediction bins, 10 ms bins and
 *   the 'condition' field.
 * Seeds: fuzz/corpus/fuzz_mat (v7.3 with and without MATLAB's 512-byte header, v5 plain and
 * compressed, numeric and char conditions). */
#define ND_FUZZ_HDF5
#define ND_FUZZ_CONVERT
#include "binned_check.h"
#include "io/mat.h"

static void check_trials(const nd_mat_trials *m, const char *what) {
    if (m->n < 1 || m->N < 0 || !m->len || !m->data) nd_fuzz_bug("%s: n %d N %d", what, m->n, m->N);
    for (int i = 0; i < m->n; i++) {
        if (m->len[i] < 0) nd_fuzz_bug("%s: len[%d] = %d", what, i, m->len[i]);
        if (m->len[i] && !m->data[i]) nd_fuzz_bug("%s: data[%d] NULL", what, i);
        nd_fuzz_touch(m->data[i], (size_t)m->N * (size_t)m->len[i] * sizeof(double));
        if (m->cond) {
            if (!m->cond[i]) nd_fuzz_bug("%s: cond[%d] NULL", what, i);
            nd_fuzz_touch(m->cond[i], strlen(m->cond[i]));
        }
    }
    if (strnlen(m->var, sizeof m->var) == sizeof m->var || strnlen(m->field, sizeof m->field) == sizeof m->field ||
        strnlen(m->condfield, sizeof m->condfield) == sizeof m->condfield)
        nd_fuzz_bug("%s: names not terminated", what);
}

static void load(const char *path, int v73) {
    nd_mat_trials m;
    memset(&m, 0x5a, sizeof m);
    nd_error err = {ND_OK, {0}};
    const char *what = v73 ? "nd_mat73_load" : "nd_mat5_load";
    nd_status st = v73 ? nd_mat73_load(path, NULL, NULL, &m, &err) : nd_mat5_load(path, NULL, NULL, &m, &err);
    if (!v73) nd_fuzz_h5_close_leftovers("libmatio (nd_mat5_load)"); /* matio's own HDF5 ids */
    nd_fuzz_h5_check_closed(what);
    if (st == ND_OK) {
        nd_fuzz_report(what, st, &err);
        check_trials(&m, what);
    } else {
        nd_fuzz_check_error(st, &err, what);
    }
    nd_mat_trials_free(&m);
}

static void read_binned(const char *path, const nd_bin_opts *o, const char *what, int convert) {
    nd_binned b;
    memset(&b, 0x5a, sizeof b); /* the reader must zero it */
    nd_error err = {ND_OK, {0}};
    nd_status st = nd_mat_read(path, o, &b, &err);
    if (nd_mat_version(path) == 5) nd_fuzz_h5_close_leftovers("libmatio (nd_mat_read)");
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
    const char *path = nd_fuzz_path(".mat");
    nd_fuzz_write(path, data, size);
    int v = nd_mat_version(path);
    if (v != 0 && v != 4 && v != 5 && v != 73) nd_fuzz_bug("nd_mat_version = %d", v);
    load(path, 1);
    load(path, 0);
    char **lines = NULL;
    size_t n = 0;
    nd_error err = {ND_OK, {0}};
    nd_status st = nd_mat5_list(path, &lines, &n, &err);
    nd_fuzz_h5_close_leftovers("libmatio (nd_mat5_list)");
    if (st == ND_OK) {
        for (size_t i = 0; i < n; i++) {
            nd_fuzz_touch(lines[i], strlen(lines[i]));
            free(lines[i]);
        }
        free(lines);
    } else nd_fuzz_check_error(st, &err, "nd_mat5_list");

    nd_bin_opts o;
    nd_bin_opts_default(&o);
    o.bin_ms = 20;
    read_binned(path, &o, "nd_mat_read (defaults)", 1);
    nd_bin_opts a;
    nd_bin_opts_default(&a);
    a.bin_ms = 10;
    a.has_window = 1;
    a.win_start_ms = 0;
    a.win_end_ms = 200;
    a.fp_bins = 2;
    a.condition = "condition";
    read_binned(path, &a, "nd_mat_read (window)", 0);
    return 0;
}
