/* nd_inspect (the library behind `neurodyn inspect`): on a small LFADS file written here with the HDF5 C API, the
 * report's splits, neurons and rates match counts computed in the test, a silent neuron is warned about, a
 * train_data of the wrong rank is an error of the report (not of the call), and a missing file fails the call with
 * its name. The text is what the CLI prints (tests/cli.sh compares the CLI with it). */
#include <neurodyn.h>
#include "test.h"
#include <cjson/cJSON.h>
#include <hdf5.h>

enum { NT = 6, NV = 2, T = 5, N = 4 };

static int count(int i, int t, int j) { return j == 3 ? 0 : (i * 3 + t * 2 + j) % 4; } /* neuron 3 is silent */

static void put(hid_t f, const char *name, int rank, const hsize_t *dims, const int *x) {
    hid_t sp = H5Screate_simple(rank, dims, NULL);
    hid_t d = H5Dcreate2(f, name, H5T_STD_I32LE, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Dwrite(d, H5T_NATIVE_INT, H5S_ALL, H5S_ALL, H5P_DEFAULT, x);
    H5Dclose(d);
    H5Sclose(sp);
}

static void make_file(const char *path, int bad_rank) {
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    int x[(NT + NV) * T * N];
    for (int i = 0; i < NT + NV; i++)
        for (int t = 0; t < T; t++)
            for (int j = 0; j < N; j++) x[(i * T + t) * N + j] = count(i, t, j);
    hsize_t dt[3] = {NT, T, N}, dv[3] = {NV, T, N}, d2[2] = {NT * T, N};
    if (bad_rank) put(f, "train_data", 2, d2, x);
    else put(f, "train_data", 3, dt, x);
    put(f, "valid_data", 3, dv, x + NT * T * N);
    double b = 10;
    hid_t sp = H5Screate(H5S_SCALAR), a = H5Acreate2(f, "bin_ms", H5T_IEEE_F64LE, sp, H5P_DEFAULT, H5P_DEFAULT);
    H5Awrite(a, H5T_NATIVE_DOUBLE, &b);
    H5Aclose(a);
    H5Sclose(sp);
    H5Fclose(f);
}

static double num(const cJSON *o, const char *k) {
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsNumber(x) ? x->valuedouble : NAN;
}

static void test_inspect_lfads(nd_test_ctx *t) {
    char dir[256], path[300];
    if (!nd_test_scratch(dir, sizeof dir, "nd_insp_")) SKIP(t, "no scratch dir");
    snprintf(path, sizeof path, "%s/d.h5", dir);
    make_file(path, 0);
    nd_context *ctx = NULL;
    nd_context_create(&ctx);
    nd_inspection *r = NULL;
    nd_inspect_options o;
    nd_inspect_options_default(&o);
    CHECK(t, nd_inspect(ctx, path, &o, &r) == ND_OK && r, "%s", nd_errmsg(ctx));
    if (r) {
        const char *txt = nd_inspection_text(r);
        CHECK(t, !strncmp(txt, "file: ", 6) && strstr(txt, "\nformat: LFADS\n") && strstr(txt, "/train_data"), "%s", txt);
        cJSON *j = cJSON_Parse(nd_inspection_json(r));
        const cJSON *s = cJSON_GetObjectItemCaseSensitive(j, "summary");
        CHECK(t, num(s, "train_trials") == NT && num(s, "valid_trials") == NV && num(s, "test_trials") == 0, "splits");
        CHECK(t, num(s, "neurons_heldin") == N && num(s, "neurons_heldout") == 0 && num(s, "bin_ms") == 10, "sizes");
        double hz[N], secs = (NT + NV) * T * 10 / 1000.0, mx = 0;
        for (int n = 0; n < N; n++) {
            double tot = 0;
            for (int i = 0; i < NT + NV; i++)
                for (int b = 0; b < T; b++) tot += count(i, b, n);
            hz[n] = tot / secs;
            if (hz[n] > mx) mx = hz[n];
        }
        CHECK(t, fabs(num(s, "rate_max") - mx) < 1e-9 && num(s, "rate_min") == 0, "rates %g vs %g", num(s, "rate_max"), mx);
        CHECK(t, nd_inspection_errors(r) == 0 && nd_inspection_warnings(r) == 1, "%d errors, %d warnings",
              nd_inspection_errors(r), nd_inspection_warnings(r));
        const char *w = nd_inspection_warning(r, 0);
        CHECK(t, w && strstr(w, "1 of 4 neurons is silent") && strstr(w, "neuron 3"), "%s", w ? w : "(none)");
        CHECK(t, nd_inspection_warning(r, 1) == NULL && nd_inspection_error(r, 0) == NULL, "out of range");
        cJSON_Delete(j);
    }
    nd_inspection_free(r);
    r = NULL;
    make_file(path, 1); /* train_data of rank 2: the report's error, the call succeeds */
    CHECK(t, nd_inspect(ctx, path, NULL, &r) == ND_OK && r, "%s", nd_errmsg(ctx));
    CHECK(t, r && nd_inspection_errors(r) >= 1 && strstr(nd_inspection_error(r, 0), "train_data: has rank 2"), "%s",
          r && nd_inspection_errors(r) ? nd_inspection_error(r, 0) : "(no error)");
    CHECK(t, r && strstr(nd_inspection_text(r), "\nerrors:\n  - "), "errors listed in the text");
    nd_inspection_free(r);
    snprintf(path, sizeof path, "%s/missing.h5", dir);
    r = (nd_inspection *)1;
    CHECK(t, nd_inspect(ctx, path, NULL, &r) != ND_OK && r == NULL, "missing file");
    CHECK(t, strstr(nd_errmsg(ctx), "missing.h5") != NULL, "message names the file: %s", nd_errmsg(ctx));
    o.bin_ms = -1;
    CHECK(t, nd_inspect(ctx, path, &o, &r) == ND_ERR_ARG, "negative bin_ms");
    nd_context_free(ctx);
    nd_test_scratch_remove(dir);
}

int main(void) {
    RUN(test_inspect_lfads);
    TEST_MAIN_END();
}
