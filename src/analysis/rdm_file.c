/* `neurodyn rdm` (see rdm_file.h). */
#include "rdm_file.h"
#include "data.h"
#include "rsa.h"
#include "../core/mem.h"
#include "../io/h5.h"
#include <math.h>
#include <string.h>

void nd_rdm_file_opts_default(nd_rdm_file_opts *o) {
    memset(o, 0, sizeof *o);
    o->distance = "correlation";
}

static nd_status check_opts(const nd_rdm_file_opts *o, int xnobis, int *dist, nd_error *err) {
    *dist = xnobis ? 0 : nd_rdm_distance_from_name(o->distance);
    if (*dist < 0)
        return nd_fail(err, ND_ERR_ARG, "unknown distance '%s' (euclidean, correlation, mahalanobis, crossnobis)",
                       o->distance);
    if (o->average && !o->conditions) return nd_fail(err, ND_ERR_ARG, "--condition-average needs --conditions FILE:DATASET");
    if (xnobis && !o->conditions)
        return nd_fail(err, ND_ERR_ARG, "crossnobis needs --conditions FILE:DATASET (folds are repeats of a condition)");
    if (xnobis && o->average)
        return nd_fail(err, ND_ERR_ARG, "crossnobis averages per fold itself; drop --condition-average");
    if (o->noise && !xnobis && *dist != ND_RDM_MAHALANOBIS)
        return nd_fail(err, ND_ERR_ARG, "--noise applies to mahalanobis and crossnobis only");
    if (o->folds && !xnobis) return nd_fail(err, ND_ERR_ARG, "--folds applies to crossnobis only");
    return ND_OK;
}

/* the channels x channels noise covariance of spec, as doubles */
static nd_status read_noise(const char *spec, int ch, double **S, nd_error *err) {
    char f[4096], d[1024];
    int r = 0;
    size_t dims[ND_H5_MAX_RANK];
    float *nz = NULL;
    nd_status st;
    if ((st = nd_split_spec(spec, f, sizeof f, d, sizeof d, err)) || (st = nd_h5_read_float(f, d, &nz, &r, dims, err)))
        return nd_fail_prefix(err, st, "--noise");
    if (r != 2 || (int)dims[0] != ch || (int)dims[1] != ch) {
        nd_free(nz);
        return nd_fail(err, ND_ERR_FORMAT, "%s: noise covariance must be %d x %d (one row/column per channel)", spec, ch,
                       ch);
    }
    *S = nd_alloc(sizeof(double) * ch * ch);
    if (*S)
        for (size_t i = 0; i < (size_t)ch * ch; i++) (*S)[i] = nz[i];
    nd_free(nz);
    return *S ? ND_OK : nd_fail(err, ND_ERR_NOMEM, "out of memory");
}

static nd_status write_rdm(const char *out, const char *spec, const nd_rdm_file_opts *o, const double *rdm,
                           const double *sq, const int *ids, int n, int F, int xnobis, nd_error *err) {
    nd_h5file *h = NULL;
    size_t d1[1] = {nd_rdm_len(n)}, d2[2] = {(size_t)n, (size_t)n}, d3[1] = {(size_t)n};
    nd_status st;
    if ((st = nd_h5_create(&h, out, err)) || (st = nd_h5_write_double(h, "rdm", rdm, 1, d1, err)) ||
        (st = nd_h5_write_double(h, "rdm_square", sq, 2, d2, err)) ||
        (ids && (st = nd_h5_write_int(h, "condition_ids", ids, 1, d3, err))) ||
        (st = nd_h5_write_attr_string(h, "/", "distance", o->distance, err)) ||
        (st = nd_h5_write_attr_string(h, "/", "source", spec, err)) ||
        (st = nd_h5_write_attr_double(h, "/", "n_patterns", n, err)) ||
        (xnobis && (st = nd_h5_write_attr_double(h, "/", "folds", F, err))) || (st = nd_h5_close(h, 1, err))) {
        if (h) nd_h5_close(h, 0, NULL);
        return st;
    }
    return ND_OK;
}

nd_status nd_rdm_file(const char *spec, const char *out, const nd_rdm_file_opts *o, nd_rdm_file_result *r,
                      nd_error *err) {
    memset(r, 0, sizeof *r);
    int xnobis = !strcmp(o->distance, "crossnobis"), dist;
    nd_status st = check_opts(o, xnobis, &dist, err);
    if (st) return st;
    nd_amatrix m;
    if ((st = nd_load_matrix(spec, o->conditions, o->average, ND_LAYOUT_PATTERNS, &m, err))) return st;
    int n = m.rows, ch = m.cols, F = 0, *ids = NULL;
    double *rdm = NULL, *sq = NULL, *P = NULL, *S = NULL;
    if (o->noise && (st = read_noise(o->noise, ch, &S, err))) goto done;
    if (xnobis) {
        if ((st = nd_fold_patterns(&m, o->folds, &P, &F, &n, &ids, err))) { nd_fail_prefix(err, st, spec); goto done; }
    } else if (o->average) ids = m.cond_ids;
    if (n < 2) { st = nd_fail(err, ND_ERR_FORMAT, "%s: needs at least 2 patterns (got %d)", spec, n); goto done; }
    size_t len = nd_rdm_len(n);
    rdm = nd_alloc(sizeof(double) * len);
    sq = nd_alloc(sizeof(double) * n * n);
    if (!rdm || !sq) { st = nd_fail(err, ND_ERR_NOMEM, "out of memory for an RDM of %d patterns", n); goto done; }
    st = xnobis ? nd_rdm_crossnobis(P, F, n, ch, S, rdm, err) : nd_rdm(m.x, n, ch, (nd_rdm_distance)dist, S, rdm, err);
    if (st) { nd_fail_prefix(err, st, spec); goto done; }
    nd_rdm_to_square(rdm, n, sq);
    if ((st = write_rdm(out, spec, o, rdm, sq, ids, n, F, xnobis, err))) goto done;
    r->patterns = n;
    r->channels = ch;
    r->folds = F;
    r->conditions = ids != NULL;
    r->pairs = len;
    r->min = INFINITY;
    r->max = -INFINITY;
    for (size_t i = 0; i < len; i++) { r->mean += rdm[i]; r->min = fmin(r->min, rdm[i]); r->max = fmax(r->max, rdm[i]); }
    r->mean /= (double)len;
done:
    if (ids != m.cond_ids) nd_free(ids);
    nd_free(rdm); nd_free(sq); nd_free(P); nd_free(S);
    nd_amatrix_free(&m);
    return st;
}
