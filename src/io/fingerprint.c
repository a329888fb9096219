/* Data fingerprints. See fingerprint.h. */
#include "fingerprint.h"
#include "../core/mem.h"
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FNV_OFFSET 14695981039346656037ULL
#define FNV_PRIME 1099511628211ULL

static uint64_t fnv(uint64_t h, const void *p, size_t n) {
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) {
        h ^= b[i];
        h *= FNV_PRIME;
    }
    return h;
}

/* a block of n elements: its length first, so that moving trials between blocks changes the hash */
static uint64_t fnv_block(uint64_t h, const void *p, size_t n, size_t elem) {
    uint64_t len = p ? (uint64_t)n : UINT64_MAX;
    h = fnv(h, &len, sizeof len);
    return p ? fnv(h, p, n * elem) : h;
}

static nd_status ids_hash(const char *path, const char *name, uint64_t *out, nd_error *err) {
    *out = 0;
    if (!path[0] || !nd_h5_exists(path, name)) return ND_OK;
    int *ids = NULL, rank = 0;
    size_t dims[ND_H5_MAX_RANK];
    nd_status st = nd_h5_read_int(path, name, &ids, &rank, dims, err);
    if (st) return st;
    size_t n = 1;
    for (int i = 0; i < rank; i++) n *= dims[i];
    *out = fnv_block(FNV_OFFSET, ids, n, sizeof(int));
    if (!*out) *out = 1; /* 0 means "no ids" */
    nd_free(ids);
    return ND_OK;
}

nd_status nd_data_fp_of(const nd_lfads_data *d, nd_data_fp *fp, nd_error *err) {
    memset(fp, 0, sizeof *fp);
    const char *slash = strrchr(d->path, '/');
    const char *base = slash ? slash + 1 : d->path;
    size_t bl = strlen(base) < sizeof fp->file - 1 ? strlen(base) : sizeof fp->file - 1;
    memcpy(fp->file, base, bl);
    fp->file[bl] = 0;
    /* a space or '=' in a file name would break the key=value text: replace them */
    for (char *c = fp->file; *c; c++)
        if (*c == ' ' || *c == '=' || *c == '\t' || *c == '\n') *c = '_';
    if (!fp->file[0]) snprintf(fp->file, sizeof fp->file, "-");
    fp->n_train = d->split[ND_TRAIN].n;
    fp->n_valid = d->split[ND_VALID].n;
    fp->n_test = d->split[ND_TEST].n;
    fp->T = d->T;
    fp->N = d->N;
    fp->E = d->E;
    fp->Tr = d->Tr > 0 ? d->Tr : d->T;
    fp->Nr = d->Nr > 0 ? d->Nr : d->N;
    nd_status st = ids_hash(d->path, "heldin_neurons", &fp->heldin, err);
    if (!st) st = ids_hash(d->path, "heldout_neurons", &fp->heldout, err);
    if (st) return st;
    size_t TN = (size_t)d->T * d->N;
    fp->split = fp->encod = FNV_OFFSET;
    for (int s = 0; s < ND_NSPLITS; s++) {
        const nd_lfads_split *sp = &d->split[s];
        fp->split = fnv_block(fp->split, sp->n > 0 ? sp->inds : NULL, (size_t)sp->n, sizeof(int));
        fp->encod = fnv_block(fp->encod, sp->n > 0 ? sp->counts : NULL, (size_t)sp->n * TN, sizeof(float));
    }
    return ND_OK;
}

int nd_data_fp_to_text(const nd_data_fp *fp, char *buf, size_t cap) {
    return snprintf(buf, cap,
                    "file=%s train=%d valid=%d test=%d bins=%d neurons=%d inputs=%d recon_bins=%d recon_neurons=%d "
                    "heldin=%016" PRIx64 " heldout=%016" PRIx64 " split=%016" PRIx64 " encod=%016" PRIx64,
                    fp->file, fp->n_train, fp->n_valid, fp->n_test, fp->T, fp->N, fp->E, fp->Tr, fp->Nr, fp->heldin,
                    fp->heldout, fp->split, fp->encod);
}

nd_status nd_data_fp_parse(const char *text, nd_data_fp *fp, nd_error *err) {
    memset(fp, 0, sizeof *fp);
    char line[1024];
    size_t n = strcspn(text, "\n");
    if (n >= sizeof line) return nd_fail(err, ND_ERR_FORMAT, "data fingerprint: line too long");
    memcpy(line, text, n);
    line[n] = 0;
    int *ints[] = {&fp->n_train, &fp->n_valid, &fp->n_test, &fp->T, &fp->N, &fp->E, &fp->Tr, &fp->Nr};
    static const char *const int_keys[] = {"train", "valid", "test", "bins", "neurons", "inputs", "recon_bins",
                                           "recon_neurons"};
    uint64_t *hs[] = {&fp->heldin, &fp->heldout, &fp->split, &fp->encod};
    static const char *const h_keys[] = {"heldin", "heldout", "split", "encod"};
    unsigned seen = 0, all = (1u << 13) - 1;
    char *save = NULL;
    for (char *w = strtok_r(line, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
        char *eq = strchr(w, '=');
        if (!eq) return nd_fail(err, ND_ERR_FORMAT, "data fingerprint: '%.40s' is not key=value", w);
        *eq = 0;
        const char *v = eq + 1;
        char *end = NULL;
        int k = -1;
        if (!strcmp(w, "file")) {
            if (!*v || strlen(v) >= sizeof fp->file) return nd_fail(err, ND_ERR_FORMAT, "data fingerprint: bad file name");
            snprintf(fp->file, sizeof fp->file, "%s", v);
            k = 0;
        }
        for (int i = 0; i < 8 && k < 0; i++)
            if (!strcmp(w, int_keys[i])) {
                long x = strtol(v, &end, 10);
                if (!*v || *end || x < 0 || x > (1L << 30))
                    return nd_fail(err, ND_ERR_FORMAT, "data fingerprint: bad value for '%s'", w);
                *ints[i] = (int)x;
                k = 1 + i;
            }
        for (int i = 0; i < 4 && k < 0; i++)
            if (!strcmp(w, h_keys[i])) {
                unsigned long long x = strtoull(v, &end, 16);
                if (!*v || *end || *v == '-') return nd_fail(err, ND_ERR_FORMAT, "data fingerprint: bad value for '%s'", w);
                *hs[i] = (uint64_t)x;
                k = 9 + i;
            }
        if (k < 0) continue; /* keys of later versions */
        seen |= 1u << k;
    }
    if (seen != all) return nd_fail(err, ND_ERR_FORMAT, "data fingerprint: incomplete");
    return ND_OK;
}

static void add(char *what, size_t cap, const char *item) {
    size_t n = strlen(what);
    snprintf(what + n, cap - n, "%s%s", n ? ", " : "", item);
}

int nd_data_fp_differs(const nd_data_fp *w, const nd_data_fp *h, int allow, char *what, size_t cap) {
    char tmp[160];
    what[0] = 0;
    if (w->T != h->T || w->Tr != h->Tr) {
        snprintf(tmp, sizeof tmp, "bins %d (%d reconstructed) vs %d (%d)", w->T, w->Tr, h->T, h->Tr);
        add(what, cap, tmp);
    }
    if (w->N != h->N || w->Nr != h->Nr) {
        snprintf(tmp, sizeof tmp, "neurons %d held-in + %d held-out vs %d + %d", w->N, w->Nr - w->N, h->N, h->Nr - h->N);
        add(what, cap, tmp);
    }
    if (w->E != h->E) {
        snprintf(tmp, sizeof tmp, "external inputs %d vs %d", w->E, h->E);
        add(what, cap, tmp);
    }
    if (w->heldin != h->heldin) add(what, cap, "held-in neuron ids");
    if (w->heldout != h->heldout) add(what, cap, "held-out neuron ids");
    if (!allow) {
        if (w->n_train != h->n_train || w->n_valid != h->n_valid || w->n_test != h->n_test) {
            snprintf(tmp, sizeof tmp, "trials %d/%d/%d vs %d/%d/%d (train/valid/test)", w->n_train, w->n_valid,
                     w->n_test, h->n_train, h->n_valid, h->n_test);
            add(what, cap, tmp);
        }
        if (w->split != h->split) add(what, cap, "split indices");
        if (w->encod != h->encod) add(what, cap, "encoder data");
    }
    return what[0] != 0;
}

nd_status nd_data_fp_write_attr(nd_h5file *h, const nd_lfads_data *d, nd_error *err) {
    nd_data_fp fp;
    char txt[1024];
    nd_status st = nd_data_fp_of(d, &fp, err);
    if (st) return st;
    nd_data_fp_to_text(&fp, txt, sizeof txt);
    return nd_h5_write_attr_string(h, "/", ND_DATA_FP_ATTR, txt, err);
}
