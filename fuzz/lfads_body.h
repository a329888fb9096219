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
    static const char *const name[ND_NSPLITS] = {"train", "valid", "test"};
    const nd_lfads_split *sp = d->split;
    if (sp[ND_TRAIN].n < 1 || sp[ND_VALID].n < 1 || sp[ND_TEST].n < 0 || d->T < 1 || d->N < 1 || d->E < 0)
        nd_fuzz_bug("bad sizes n %d/%d/%d T %d N %d E %d", sp[0].n, sp[1].n, sp[2].n, d->T, d->N, d->E);
    if (d->Tr < d->T || d->Nr < d->N) nd_fuzz_bug("Tr %d < T %d or Nr %d < N %d", d->Tr, d->T, d->Nr, d->N);
    if (!(isfinite(d->conversion_factor) && d->conversion_factor > 0))
        nd_fuzz_bug("conversion_factor %g", d->conversion_factor);
    size_t T = (size_t)d->T, N = (size_t)d->N, Tr = (size_t)d->Tr, Nr = (size_t)d->Nr, E = (size_t)d->E;
    size_t Tb = (size_t)d->Tb, B = (size_t)d->B;
    int recon = d->Tr != d->T || d->Nr != d->N;
    for (int s = 0; s < ND_NSPLITS; s++) {
        const nd_lfads_split *x = &sp[s];
        size_t n = (size_t)x->n;
        if (n == 0) {
            if (x->counts || x->recon || x->truth || x->ext || x->beh || x->inds || x->cond)
                nd_fuzz_bug("%s: no trials but arrays allocated", name[s]);
            continue;
        }
        /* train/valid targets are kept only when they differ in shape from the encoder data */
        if (s != ND_TEST && recon != (x->recon != NULL))
            nd_fuzz_bug("%s recon array %p but Tr/T %d/%d Nr/N %d/%d", name[s], (void *)x->recon, d->Tr, d->T, d->Nr,
                        d->N);
        if ((E > 0) != (x->ext != NULL)) nd_fuzz_bug("E = %zu but %s ext array %p", E, name[s], (void *)x->ext);
        if (!d->valid_from_file && s != ND_TEST && !x->inds) nd_fuzz_bug("split made without trial indices");
        check_counts(x->counts, n * T * N, name[s]);
        if (x->recon) check_counts(x->recon, n * Tr * Nr, "recon");
        /* the first T bins / N neurons of the reconstruction are the encoder data */
        const float *r = nd_lfads_recon(d, s);
        for (size_t i = 0; r && i < n; i++)
            for (size_t t = 0; t < T; t++)
                for (size_t k = 0; k < N; k++)
                    if (r[(i * Tr + t) * Nr + k] != x->counts[(i * T + t) * N + k])
                        nd_fuzz_bug("%s recon (%zu, %zu, %zu) differs from the encoder data", name[s], i, t, k);
        check_rates(x->truth, n * Tr * Nr, "truth");
        check_real(x->ext, n * Tr * E, "ext");
        check_real(x->beh, n * Tb * B, "behavior");
        if (x->inds) nd_fuzz_touch(x->inds, n * sizeof(int));
        if (x->cond) nd_fuzz_touch(x->cond, n * sizeof(int));
    }
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
        int left = 0;
        for (int s = 0; s < ND_NSPLITS; s++) {
            const nd_lfads_split *x = &d.split[s];
            left |= x->n || x->counts || x->recon || x->truth || x->ext || x->beh || x->inds || x->cond;
        }
        if (left)
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
