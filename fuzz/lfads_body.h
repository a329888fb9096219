/* Body shared by fuzz_lfads_h5.c and fuzz_lfads_torch_h5.c: nd_lfads_data_read on the input
 * (written to a tmpfs file), then every invariant the rest of neurodyn relies on is checked
 * and every returned array is read end to end. */
#ifndef ND_FUZZ_LFADS_BODY_H
#define ND_FUZZ_LFADS_BODY_H
#define ND_FUZZ_HDF5
#include <math.h>
#include "fuzz_common.h"
#include "io/lfads_data.h"

static void check_counts(const float *x, size_t n, const char *name) {
    if (!x) nd_fuzz_bug("%s: NULL", name);
    for (size_t i = 0; i < n; i++)
        if (!(isfinite(x[i]) && x[i] >= 0 && x[i] == floorf(x[i])))
            nd_fuzz_bug("%s[%zu] = %g is not a whole count", name, i, (double)x[i]);
}
static void check_rates(const float *x, size_t n, const char *name) {
    for (size_t i = 0; x && i < n; i++)
        if (!(isfinite(x[i]) && x[i] >= 0)) nd_fuzz_bug("%s[%zu] = %g is not a finite rate >= 0", name, i, (double)x[i]);
}
static void check_real(const float *x, size_t n, const char *name) {
    for (size_t i = 0; x && i < n; i++)
        if (!isfinite(x[i])) nd_fuzz_bug("%s[%zu] = %g is not finite", name, i, (double)x[i]);
}

static void check_data(const nd_lfads_data *d) {
    if (d->n_train < 1 || d->n_valid < 1 || d->T < 1 || d->N < 1 || d->E < 0)
        nd_fuzz_bug("bad sizes n_train %d n_valid %d T %d N %d E %d", d->n_train, d->n_valid, d->T, d->N, d->E);
    if (d->Tr < d->T || d->Nr < d->N) nd_fuzz_bug("Tr %d < T %d or Nr %d < N %d", d->Tr, d->T, d->Nr, d->N);
    if (!(isfinite(d->conversion_factor) && d->conversion_factor > 0))
        nd_fuzz_bug("conversion_factor %g", d->conversion_factor);
    size_t nt = (size_t)d->n_train, nv = (size_t)d->n_valid, T = (size_t)d->T, N = (size_t)d->N;
    size_t Tr = (size_t)d->Tr, Nr = (size_t)d->Nr, E = (size_t)d->E;
    int recon = d->Tr != d->T || d->Nr != d->N;
    if (recon != (d->train_recon != NULL) || recon != (d->valid_recon != NULL))
        nd_fuzz_bug("recon arrays %p %p but Tr/T %d/%d Nr/N %d/%d", (void *)d->train_recon, (void *)d->valid_recon,
                    d->Tr, d->T, d->Nr, d->N);
    if ((E > 0) != (d->train_ext != NULL) || (E > 0) != (d->valid_ext != NULL))
        nd_fuzz_bug("E = %zu but ext arrays %p %p", E, (void *)d->train_ext, (void *)d->valid_ext);
    if (!d->valid_from_file && (!d->train_inds || !d->valid_inds))
        nd_fuzz_bug("split made without trial indices");
    check_counts(d->train, nt * T * N, "train");
    check_counts(d->valid, nv * T * N, "valid");
    if (d->train_recon) check_counts(d->train_recon, nt * Tr * Nr, "train_recon");
    if (d->valid_recon) check_counts(d->valid_recon, nv * Tr * Nr, "valid_recon");
    /* the first T bins / N neurons of the reconstruction are the encoder data */
    for (int s = 0; s < 2; s++) {
        const float *r = nd_lfads_recon(d, s), *x = s ? d->valid : d->train;
        size_t n = s ? nv : nt;
        for (size_t i = 0; i < n; i++)
            for (size_t t = 0; t < T; t++)
                for (size_t k = 0; k < N; k++)
                    if (r[(i * Tr + t) * Nr + k] != x[(i * T + t) * N + k])
                        nd_fuzz_bug("recon (%zu, %zu, %zu) differs from the encoder data", i, t, k);
    }
    check_rates(d->train_truth, nt * Tr * Nr, "train_truth");
    check_rates(d->valid_truth, nv * Tr * Nr, "valid_truth");
    check_real(d->train_ext, nt * Tr * E, "train_ext");
    check_real(d->valid_ext, nv * Tr * E, "valid_ext");
    if (d->train_inds) nd_fuzz_touch(d->train_inds, nt * sizeof(int));
    if (d->valid_inds) nd_fuzz_touch(d->valid_inds, nv * sizeof(int));
    if (strnlen(d->path, sizeof d->path) == sizeof d->path) nd_fuzz_bug("path not terminated");
}

static int lfads_fuzz_one(const uint8_t *data, size_t size, uint64_t seed, double valid_fraction) {
    const char *path = nd_fuzz_path(".h5");
    nd_fuzz_write(path, data, size);
    nd_lfads_data d;
    nd_error err = {ND_OK, {0}};
    nd_status st = nd_lfads_data_read(path, seed, valid_fraction, &d, &err);
    nd_fuzz_h5_check_closed("nd_lfads_data_read");
    if (st == ND_OK) {
        nd_fuzz_report("nd_lfads_data_read", st, &err);
        check_data(&d);
        nd_lfads_data_free(&d);
    } else {
        nd_fuzz_check_error(st, &err, "nd_lfads_data_read");
        /* on failure *d is left zeroed: nothing to free */
        if (d.train || d.valid || d.train_truth || d.valid_truth || d.train_ext || d.valid_ext || d.train_inds ||
            d.valid_inds || d.train_recon || d.valid_recon)
            nd_fuzz_bug("nd_lfads_data_read failed (%s) but left arrays allocated", err.msg);
    }
    return 0;
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    nd_fuzz_h5_init();
    return 0;
}
#endif
