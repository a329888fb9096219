/* The analyses on arrays and on runs for the Python package (issue 17): rates in Hz in the original trial and
 * neuron order, RSA dissimilarity matrices, jPCA, neural predictivity, factor ablation and fixed points. Thin: each
 * call checks its arguments, runs the src/analysis code the CLI runs and copies the results into an nd_result. */
#include "api.h"
#include "../analysis/ablate.h"
#include "../analysis/data.h"
#include "../analysis/decode.h"
#include "../analysis/fp_lfads.h"
#include "../analysis/jpca_file.h"
#include "../analysis/predict.h"
#include "../analysis/rsa.h"
#include "../core/blas.h"
#include "../core/mem.h"
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- nd_result: named double arrays */

typedef struct {
    char name[48];
    int rank;        /* 0: scalar */
    size_t dims[3];
    double *v;
} res_entry;

struct nd_result {
    int n, cap;
    res_entry *e;
};

ND_API void nd_result_free(nd_result *r) {
    if (!r) return;
    for (int i = 0; i < r->n; i++) nd_free(r->e[i].v);
    free(r->e);
    free(r);
}

ND_API int nd_result_count(const nd_result *r) { return r ? r->n : 0; }

ND_API const char *nd_result_name(const nd_result *r, int i) { return r && i >= 0 && i < r->n ? r->e[i].name : NULL; }

ND_API const double *nd_result_get(const nd_result *r, const char *name, size_t dims[3], int *rank) {
    if (!r || !name) return NULL;
    for (int i = 0; i < r->n; i++)
        if (!strcmp(r->e[i].name, name)) {
            if (dims)
                for (int k = 0; k < 3; k++) dims[k] = k < r->e[i].rank ? r->e[i].dims[k] : 0;
            if (rank) *rank = r->e[i].rank;
            return r->e[i].v;
        }
    return NULL;
}

/* a new entry of rank 0..3 (dims may be NULL for a scalar); its values zeroed; NULL when out of memory */
static double *res_add(nd_result *r, const char *name, int rank, const size_t *dims) {
    if (r->n == r->cap) {
        int cap = r->cap ? 2 * r->cap : 16;
        res_entry *e = realloc(r->e, sizeof *e * (size_t)cap);
        if (!e) return NULL;
        r->e = e, r->cap = cap;
    }
    size_t len = 1;
    res_entry *e = &r->e[r->n];
    memset(e, 0, sizeof *e);
    snprintf(e->name, sizeof e->name, "%s", name);
    e->rank = rank;
    for (int k = 0; k < rank; k++) len *= (e->dims[k] = dims[k]);
    if (!(e->v = nd_alloc(sizeof(double) * (len ? len : 1)))) return NULL;
    r->n++;
    return e->v;
}

static int res_scalar(nd_result *r, const char *name, double v) {
    double *p = res_add(r, name, 0, NULL);
    if (p) *p = v;
    return p ? 0 : -1;
}

static int res_doubles(nd_result *r, const char *name, const double *src, int rank, size_t d0, size_t d1, size_t d2) {
    const size_t dims[3] = {d0, d1, d2};
    double *p = res_add(r, name, rank, dims);
    if (!p) return -1;
    size_t len = 1;
    for (int k = 0; k < rank; k++) len *= dims[k];
    if (src) memcpy(p, src, sizeof(double) * len);
    return 0;
}

static int res_ints(nd_result *r, const char *name, const int *src, size_t len) {
    const size_t dims[1] = {len};
    double *p = res_add(r, name, 1, dims);
    if (!p) return -1;
    for (size_t i = 0; i < len; i++) p[i] = src[i];
    return 0;
}

static nd_status res_new(nd_context *ctx, const char *fn, nd_result **out) {
    if (!(*out = calloc(1, sizeof **out))) return api_fail(ctx, ND_ERR_NOMEM, "%s: out of memory", fn);
    return ND_OK;
}

/* end a producing call: on success hand over r, else free it */
static nd_status res_end(nd_context *ctx, nd_status st, nd_result *r, nd_result **out) {
    if (st) nd_result_free(r);
    else *out = r;
    return api_end(ctx, st);
}

/* ---------------------------------------------------------------- rates in Hz, original order */

typedef struct { int key, pos; } keypos;
static int cmp_keypos(const void *a, const void *b) { /* a stable sort: ties keep their position */
    const keypos *x = a, *y = b;
    return x->key != y->key ? (x->key > y->key) - (x->key < y->key) : x->pos - y->pos;
}

ND_API nd_status nd_rates(nd_context *ctx, const nd_outputs *outputs, const nd_data *data, double bin_ms, float *hz,
                          size_t cap, int *trial_ids, int *neuron_ids, size_t dims[3]) {
    if (api_begin(ctx)) return ND_ERR_ARG;
    if (!outputs || !data || !dims) return api_fail(ctx, ND_ERR_ARG, "nd_rates: outputs, data and dims must not be NULL");
    const char *src = nd_data_path(data)[0] ? nd_data_path(data) : "data";
    double b = bin_ms > 0 ? bin_ms : nd_data_bin_ms(data);
    if (!(b > 0) || !isfinite(b))
        return api_fail(ctx, ND_ERR_ARG, "%s: bin width unknown (no bin_ms attribute); pass bin_ms", src);
    static const char *const names[3] = {"train_output_params", "valid_output_params", "test_output_params"};
    static const char *const splits[3] = {"train", "valid", "test"};
    const float *part[3] = {NULL, NULL, NULL};
    size_t n[3] = {0, 0, 0}, n_all = 0, Tr = 0, Nr = 0;
    for (int s = 0; s < 3; s++) {
        size_t d[3];
        int rank = 0;
        part[s] = nd_outputs_array(outputs, names[s], d, &rank);
        if (!part[s]) continue;
        if (rank != 3 || (Tr && (d[1] != Tr || d[2] != Nr)))
            return api_fail(ctx, ND_ERR_ARG, "nd_rates: outputs '%s': shape does not match the other splits'", names[s]);
        if (d[0] != (size_t)nd_data_trials(data, (nd_split)s))
            return api_fail(ctx, ND_ERR_ARG, "%s: the %s split has %d trials but the outputs' %s has %zu (outputs of "
                            "other data?)", src, splits[s], nd_data_trials(data, (nd_split)s), names[s], d[0]);
        n[s] = d[0], Tr = d[1], Nr = d[2], n_all += d[0];
    }
    if (!n_all) return api_fail(ctx, ND_ERR_ARG, "nd_rates: the outputs have no *_output_params");
    if ((int)Nr != nd_data_recon_neurons(data))
        return api_fail(ctx, ND_ERR_ARG, "%s: %d reconstructed neurons but the outputs have %zu (outputs of other data?)",
                        src, nd_data_recon_neurons(data), Nr);
    dims[0] = n_all, dims[1] = Tr, dims[2] = Nr;
    if (!hz && !trial_ids && !neuron_ids) return api_end(ctx, ND_OK);
    if (hz && cap < n_all * Tr * Nr)
        return api_fail(ctx, ND_ERR_ARG, "nd_rates: cap %zu is less than the %zu x %zu x %zu rates", cap, n_all, Tr, Nr);
    keypos *to = malloc(sizeof *to * n_all), *no = malloc(sizeof *no * Nr);
    int *ids = malloc(sizeof *ids * Nr);
    const float **row = malloc(sizeof *row * n_all);
    nd_status st = to && no && ids && row ? ND_OK : api_fail(ctx, ND_ERR_NOMEM, "nd_rates: out of memory");
    /* trials: every split's rows, keyed by the data's original trial index (else their running position) */
    for (int s = 0, k = 0; !st && s < 3; s++) {
        const int *ti = part[s] ? nd_data_trial_inds(data, (nd_split)s) : NULL;
        for (size_t i = 0; i < n[s]; i++, k++) {
            to[k].key = ti ? ti[i] : k, to[k].pos = k;
            row[k] = part[s] + i * Tr * Nr;
        }
    }
    if (!st) st = nd_data_neuron_ids(ctx, data, ids, (int)Nr);
    if (!st) {
        qsort(to, n_all, sizeof *to, cmp_keypos);
        for (size_t j = 0; j < Nr; j++) no[j].key = ids[j], no[j].pos = (int)j;
        qsort(no, Nr, sizeof *no, cmp_keypos);
        const float f = (float)(1000.0 / b);
        for (size_t i = 0; i < n_all; i++) {
            if (trial_ids) trial_ids[i] = to[i].key;
            if (!hz) continue;
            const float *r = row[to[i].pos];
            float *o = hz + i * Tr * Nr;
            for (size_t t = 0; t < Tr; t++)
                for (size_t j = 0; j < Nr; j++) o[t * Nr + j] = r[t * Nr + (size_t)no[j].pos] * f;
        }
        if (neuron_ids)
            for (size_t j = 0; j < Nr; j++) neuron_ids[j] = no[j].key;
    }
    free(to), free(no), free(ids), free(row);
    return api_end(ctx, st);
}

/* ---------------------------------------------------------------- arrays in: the analysis matrix */

/* x [trials][bins][units] (bins 1: a 2-D array) with optional condition ids, as nd_load_matrix reads a file */
static nd_status array_matrix(nd_context *ctx, const char *fn, const float *x, int trials, int bins, int units,
                              const int *conditions, int average, nd_layout layout, nd_amatrix *m) {
    if (!x || trials < 1 || bins < 1 || units < 1)
        return api_fail(ctx, ND_ERR_ARG, "%s: x must not be NULL; trials, bins and units >= 1", fn);
    if (average && !conditions)
        return api_fail(ctx, ND_ERR_ARG, "%s: condition averaging needs the condition ids", fn);
    const size_t dims[3] = {(size_t)trials, (size_t)bins, (size_t)units};
    const size_t d2[2] = {(size_t)trials, (size_t)units};
    return nd_amatrix_from_floats(x, bins > 1 ? 3 : 2, bins > 1 ? dims : d2, "x", conditions, average, layout, m,
                                  &ctx->err);
}

/* ---------------------------------------------------------------- RSA */

ND_API void nd_rsa_options_default(nd_rsa_options *o) {
    if (!o) return;
    memset(o, 0, sizeof *o);
    o->distance = "correlation"; /* as the CLI's --distance */
}

ND_API nd_status nd_rsa_rdm(nd_context *ctx, const float *x, int trials, int bins, int units, const int *conditions,
                            const nd_rsa_options *opts, nd_result **out) {
    if (out) *out = NULL;
    if (api_begin(ctx)) return ND_ERR_ARG;
    nd_rsa_options o;
    nd_rsa_options_default(&o);
    if (opts) o = *opts;
    if (!out || !o.distance) return api_fail(ctx, ND_ERR_ARG, "nd_rsa_rdm: out and opts->distance must not be NULL");
    const int xnobis = !strcmp(o.distance, "crossnobis");
    const int dist = xnobis ? ND_RDM_MAHALANOBIS : nd_rdm_distance_from_name(o.distance);
    if (dist < 0)
        return api_fail(ctx, ND_ERR_ARG, "nd_rsa_rdm: unknown distance '%s' (euclidean, correlation, mahalanobis or "
                        "crossnobis)", o.distance);
    if (xnobis && (!conditions || o.condition_average))
        return api_fail(ctx, ND_ERR_ARG, "nd_rsa_rdm: crossnobis needs the condition ids (folds are repeats of a "
                        "condition) and averages per fold itself (no condition_average)");
    if (o.folds && !xnobis) return api_fail(ctx, ND_ERR_ARG, "nd_rsa_rdm: folds applies to crossnobis only");
    nd_amatrix m;
    nd_status st = array_matrix(ctx, "nd_rsa_rdm", x, trials, bins, units, conditions, o.condition_average,
                                ND_LAYOUT_PATTERNS, &m);
    if (st) return api_end(ctx, st);
    nd_result *r = NULL;
    int n = m.rows, ch = m.cols, F = 0, *ids = NULL;
    double *P = NULL, *rdm = NULL, *sq = NULL;
    if ((st = res_new(ctx, "nd_rsa_rdm", &r))) goto done;
    if (xnobis && (st = nd_fold_patterns(&m, o.folds, &P, &F, &n, &ids, &ctx->err))) goto done;
    if (!xnobis && o.condition_average) ids = m.cond_ids;
    if (n < 2) {
        st = api_fail(ctx, ND_ERR_ARG, "nd_rsa_rdm: needs at least 2 patterns (got %d)", n);
        goto done;
    }
    size_t len = nd_rdm_len(n);
    rdm = nd_alloc(sizeof(double) * len);
    sq = nd_alloc(sizeof(double) * (size_t)n * n);
    if (!rdm || !sq) {
        st = api_fail(ctx, ND_ERR_NOMEM, "nd_rsa_rdm: out of memory for an RDM of %d patterns", n);
        goto done;
    }
    st = xnobis ? nd_rdm_crossnobis(P, F, n, ch, NULL, rdm, &ctx->err)
                : nd_rdm(m.x, n, ch, (nd_rdm_distance)dist, NULL, rdm, &ctx->err);
    if (st) goto done;
    nd_rdm_to_square(rdm, n, sq);
    double mean = 0, mn = INFINITY, mx = -INFINITY;
    for (size_t i = 0; i < len; i++) mean += rdm[i], mn = fmin(mn, rdm[i]), mx = fmax(mx, rdm[i]);
    mean /= (double)len;
    if (res_doubles(r, "rdm", rdm, 1, len, 0, 0) || res_doubles(r, "rdm_square", sq, 2, (size_t)n, (size_t)n, 0) ||
        (ids && res_ints(r, "condition_ids", ids, (size_t)n)) || res_scalar(r, "patterns", n) ||
        res_scalar(r, "channels", ch) || (xnobis && res_scalar(r, "folds", F)) || res_scalar(r, "mean", mean) ||
        res_scalar(r, "min", mn) || res_scalar(r, "max", mx))
        st = api_fail(ctx, ND_ERR_NOMEM, "nd_rsa_rdm: out of memory");
done:
    if (ids != m.cond_ids) nd_free(ids);
    nd_free(P), nd_free(rdm), nd_free(sq);
    nd_amatrix_free(&m);
    return res_end(ctx, st, r, out);
}

/* ---------------------------------------------------------------- jPCA */

ND_API void nd_jpca_options_default(nd_jpca_options *o) {
    if (!o) return;
    nd_jpca_opts j;
    nd_jpca_opts_default(&j);
    memset(o, 0, sizeof *o);
    o->dims = j.k, o->normalize = j.normalize, o->soft_norm = j.soft_norm, o->t_start = j.t_start, o->t_end = j.t_end;
}

ND_API nd_status nd_jpca_arrays(nd_context *ctx, const float *x, int trials, int bins, int units,
                                const int *conditions, const nd_jpca_options *opts, nd_result **out) {
    if (out) *out = NULL;
    if (api_begin(ctx)) return ND_ERR_ARG;
    nd_jpca_options o;
    nd_jpca_options_default(&o);
    if (opts) o = *opts;
    if (!out || !x || !conditions || trials < 1 || bins < 1 || units < 1)
        return api_fail(ctx, ND_ERR_ARG, "nd_jpca_arrays: x, conditions and out must not be NULL; trials, bins and "
                        "units >= 1");
    if (o.dims < 2 || o.dims % 2 || o.t_start < 0 || !(o.soft_norm >= 0))
        return api_fail(ctx, ND_ERR_ARG, "nd_jpca_arrays: dims %d must be even and >= 2, t_start >= 0, soft_norm >= 0",
                        o.dims);
    nd_jpca_file_result fr;
    nd_jpca_opts jo;
    nd_jpca_opts_default(&jo);
    jo.k = o.dims, jo.normalize = o.normalize ? 1 : 0, jo.soft_norm = o.soft_norm, jo.t_start = o.t_start;
    jo.t_end = o.t_end;
    nd_status st = nd_jpca_average_run(x, trials, bins, units, conditions, &jo, "x", "x", "conditions", &fr, &ctx->err);
    if (st) return api_end(ctx, st);
    nd_result *r = NULL;
    const nd_jpca_result *j = &fr.r;
    const size_t k = (size_t)j->k, np = (size_t)j->nplanes, C = (size_t)fr.C, T = (size_t)fr.T, F = (size_t)fr.F;
    if (!(st = res_new(ctx, "nd_jpca_arrays", &r))) {
        int bad = res_doubles(r, "proj", j->proj, 3, C, T, k) || res_doubles(r, "M_skew", j->M_skew, 2, k, k, 0) ||
                  res_doubles(r, "M_best", j->M_best, 2, k, k, 0) || res_doubles(r, "jpcs", j->jpcs, 2, F, k, 0) ||
                  res_doubles(r, "pcs", j->pcs, 2, F, k, 0) || res_doubles(r, "eig_re", j->eig_re, 1, k, 0, 0) ||
                  res_doubles(r, "eig_im", j->eig_im, 1, k, 0, 0) || res_doubles(r, "omega", j->omega, 1, np, 0, 0) ||
                  res_doubles(r, "plane_var_frac", j->plane_var_frac, 1, np, 0, 0) ||
                  res_doubles(r, "r2_skew_plane", j->r2_skew_plane, 1, np, 0, 0) ||
                  res_doubles(r, "r2_best_plane", j->r2_best_plane, 1, np, 0, 0) ||
                  res_doubles(r, "condition_mean", fr.avg, 3, C, T, F) || res_ints(r, "condition_ids", fr.ids, C) ||
                  res_scalar(r, "r2_skew", j->r2_skew) || res_scalar(r, "r2_best", j->r2_best) ||
                  res_scalar(r, "pca_var_frac", j->pca_var_frac) || res_scalar(r, "t_start", j->t_start) ||
                  res_scalar(r, "t_end", j->t_end) || res_scalar(r, "conditions", fr.C);
        if (bad) st = api_fail(ctx, ND_ERR_NOMEM, "nd_jpca_arrays: out of memory");
    }
    nd_jpca_file_result_free(&fr);
    return res_end(ctx, st, r, out);
}

/* ---------------------------------------------------------------- neural predictivity */

ND_API void nd_predict_options_default(nd_predict_options *o) {
    if (!o) return;
    nd_predict_opts p;
    nd_predict_opts_default(&p);
    memset(o, 0, sizeof *o);
    o->pls_components = p.ncomp, o->ridge_alpha = p.alpha, o->scale = p.scale, o->folds = p.folds;
}

ND_API nd_status nd_predict_arrays(nd_context *ctx, const float *x, const float *y, int trials, int bins, int p, int q,
                                   const int *conditions, const nd_predict_options *opts, nd_result **out) {
    if (out) *out = NULL;
    if (api_begin(ctx)) return ND_ERR_ARG;
    nd_predict_options o;
    nd_predict_options_default(&o);
    if (opts) o = *opts;
    if (!out || !y || q < 1) return api_fail(ctx, ND_ERR_ARG, "nd_predict_arrays: x, y and out must not be NULL; p, q >= 1");
    if (o.pls_components < 0 || !(o.ridge_alpha >= 0) || o.folds < 2)
        return api_fail(ctx, ND_ERR_ARG, "nd_predict_arrays: pls_components >= 0, ridge_alpha >= 0 and folds >= 2");
    nd_predict_opts po;
    nd_predict_opts_default(&po);
    po.kind = o.pls_components > 0 ? ND_MAP_PLS : ND_MAP_RIDGE;
    if (o.pls_components > 0) po.ncomp = o.pls_components;
    po.alpha = o.ridge_alpha, po.scale = o.scale ? 1 : 0, po.folds = o.folds;
    po.shuffle = o.shuffle ? 1 : 0, po.seed = o.seed;
    nd_amatrix X, Y;
    memset(&Y, 0, sizeof Y);
    nd_status st = array_matrix(ctx, "nd_predict_arrays", x, trials, bins, p, conditions, o.condition_average,
                                ND_LAYOUT_SAMPLES, &X);
    if (!st) st = array_matrix(ctx, "nd_predict_arrays", y, trials, bins, q, conditions, o.condition_average,
                               ND_LAYOUT_SAMPLES, &Y);
    nd_result *r = NULL;
    nd_predict_result pr;
    memset(&pr, 0, sizeof pr);
    if (st) goto done;
    const int n = X.rows;
    if (po.kind == ND_MAP_PLS && po.ncomp > p) po.ncomp = p; /* as the CLI: capped at the model's units */
    if (po.folds > n / 2) {
        st = api_fail(ctx, ND_ERR_ARG, "nd_predict_arrays: %d samples are too few for %d folds (each fold must hold "
                      ">= 2 samples)", n, po.folds);
        goto done;
    }
    if ((st = nd_predictivity(X.x, Y.x, n, p, q, &po, &pr, &ctx->err))) goto done;
    if ((st = res_new(ctx, "nd_predict_arrays", &r))) goto done;
    if (res_doubles(r, "r", pr.r, 1, (size_t)q, 0, 0) || res_doubles(r, "pred", pr.pred, 2, (size_t)n, (size_t)q, 0) ||
        res_scalar(r, "median_r", pr.median_r) || res_scalar(r, "fold_median_mean", pr.fold_median_mean) ||
        res_scalar(r, "n_valid", pr.n_valid) || res_scalar(r, "samples", n) ||
        res_scalar(r, "components", po.kind == ND_MAP_PLS ? po.ncomp : 0))
        st = api_fail(ctx, ND_ERR_NOMEM, "nd_predict_arrays: out of memory");
done:
    nd_predict_result_free(&pr);
    nd_amatrix_free(&X), nd_amatrix_free(&Y);
    return res_end(ctx, st, r, out);
}

/* ---------------------------------------------------------------- ablation of a model's factors */

ND_API void nd_ablate_options_default(nd_ablate_options *o) {
    if (!o) return;
    nd_ablate_opts a;
    nd_ablate_opts_default(&a);
    memset(o, 0, sizeof *o);
    o->orders = a.orders, o->split = ND_SPLIT_VALID;
}

ND_API nd_status nd_ablate(nd_context *ctx, const nd_model *model, const nd_data *data, const nd_ablate_options *opts,
                           nd_result **out) {
    if (out) *out = NULL;
    if (api_begin(ctx)) return ND_ERR_ARG;
    nd_ablate_options o;
    nd_ablate_options_default(&o);
    if (opts) o = *opts;
    if (!out || !model || !data) return api_fail(ctx, ND_ERR_ARG, "nd_ablate: model, data and out must not be NULL");
    if (o.orders < 1 || (o.split != ND_SPLIT_TRAIN && o.split != ND_SPLIT_VALID))
        return api_fail(ctx, ND_ERR_ARG, "nd_ablate: orders >= 1 and split train or valid");
    const nd_lfads_model *m = &model->m;
    const nd_lfads_data *d = api_lfd(data);
    if (m->S > 1)
        return api_fail(ctx, ND_ERR_ARG, "%s: a model stitched over %d sessions; ablate supports single-session models",
                        model->ckpt, m->S);
    if (m->cfg.recon != ND_RECON_POISSON)
        return api_fail(ctx, ND_ERR_ARG, "%s: a model with recon=%s; ablate supports Poisson models", model->ckpt,
                        nd_recon_name(m->cfg.recon));
    if (m->N != d->N || model->E != d->E || m->Nr != d->Nr || m->Tr - m->T != d->Tr - d->T)
        return api_fail(ctx, ND_ERR_ARG, "%s: model was trained with %d input neurons (%d reconstructed), %d forward bins "
                        "and %d external inputs; %s has %d, %d, %d and %d", model->ckpt, m->N, m->Nr, m->Tr - m->T,
                        model->E, nd_data_path(data), d->N, d->Nr, d->Tr - d->T, d->E);
    const int sp = o.split == ND_SPLIT_VALID;
    const nd_lfads_split *s = &d->split[sp ? ND_VALID : ND_TRAIN];
    const int n = s->n;
    if (n < 1) return api_fail(ctx, ND_ERR_ARG, "%s: the %s split has no trials", nd_data_path(data), sp ? "valid" : "train");
    nd_ablate_opts ao;
    nd_ablate_opts_default(&ao);
    ao.orders = o.orders, ao.mode = o.mode_mean ? ND_ABLATE_MEAN : ND_ABLATE_ZERO, ao.seed = (uint64_t)o.seed;
    ao.threads = api_threads(ctx);
    omp_set_num_threads(ao.threads);
    nd_blas_set_threads(ao.threads);
    nd_ablate_result ar;
    memset(&ar, 0, sizeof ar);
    nd_result *r = NULL;
    nd_status st = nd_ablate_lfads(m, s->counts, s->ext, nd_lfads_recon(d, sp ? ND_VALID : ND_TRAIN), s->truth, n, d->T,
                                   d->Tr, sp, &ao, &ar, &ctx->err);
    if (st) {
        char pre[4200];
        snprintf(pre, sizeof pre, "%s", model->ckpt);
        nd_fail_prefix(&ctx->err, st, pre);
    } else if (!(st = res_new(ctx, "nd_ablate", &r))) {
        const size_t F = (size_t)ar.F;
        double *inc = res_add(r, "nll_increase", 1, (size_t[]){F + 1});
        if (inc)
            for (size_t k = 0; k <= F; k++) inc[k] = ar.nll[k] - ar.nll[0];
        if (!inc || res_doubles(r, "nll", ar.nll, 1, F + 1, 0, 0) || res_doubles(r, "nll_sd", ar.nll_sd, 1, F + 1, 0, 0) ||
            (ar.r2 && (res_doubles(r, "rate_r2", ar.r2, 1, F + 1, 0, 0) ||
                       res_doubles(r, "rate_r2_sd", ar.r2_sd, 1, F + 1, 0, 0))) ||
            res_doubles(r, "single_factor_nll_increase", ar.single_dnll, 1, F, 0, 0) ||
            res_doubles(r, "clamp", ar.clamp, 1, F, 0, 0) || res_ints(r, "orders", ar.perm, (size_t)ar.orders * F) ||
            res_scalar(r, "factors", ar.F) || res_scalar(r, "trials", n))
            st = api_fail(ctx, ND_ERR_NOMEM, "nd_ablate: out of memory");
        else /* the silencing orders as [orders][factors] */
            for (int i = 0; i < r->n; i++)
                if (!strcmp(r->e[i].name, "orders")) r->e[i].rank = 2, r->e[i].dims[0] = (size_t)ar.orders, r->e[i].dims[1] = F;
    }
    nd_ablate_result_free(&ar);
    return res_end(ctx, st, r, out);
}

/* ---------------------------------------------------------------- fixed points of a model's generator */

ND_API void nd_fixedpoints_options_default(nd_fixedpoints_options *o) {
    if (!o) return;
    nd_fp_lfads_opts f;
    nd_fp_lfads_opts_default(&f);
    memset(o, 0, sizeof *o);
    o->split = ND_SPLIT_VALID, o->starts = f.starts, o->noise = f.noise, o->seed = f.seed;
    o->max_iters = f.fp.max_iters, o->tol_q = f.fp.tol_q, o->dedup_tol = f.fp.dedup_tol;
    o->outlier_scale = f.fp.outlier_scale, o->slow_q = f.fp.slow_q;
}

ND_API nd_status nd_fixedpoints(nd_context *ctx, const nd_model *model, const nd_fixedpoints_options *opts,
                                nd_result **out) {
    if (out) *out = NULL;
    if (api_begin(ctx)) return ND_ERR_ARG;
    nd_fixedpoints_options o;
    nd_fixedpoints_options_default(&o);
    if (opts) o = *opts;
    if (!out || !model) return api_fail(ctx, ND_ERR_ARG, "nd_fixedpoints: model and out must not be NULL");
    if (o.starts < 1 || o.max_iters < 1 || !(o.noise >= 0) || !(o.tol_q > 0) || !(o.dedup_tol >= 0) ||
        (o.split != ND_SPLIT_TRAIN && o.split != ND_SPLIT_VALID))
        return api_fail(ctx, ND_ERR_ARG, "nd_fixedpoints: starts >= 1, max_iters >= 1, noise >= 0, tol_q > 0, "
                        "dedup_tol >= 0, split train or valid");
    nd_fp_lfads_opts fo;
    nd_fp_lfads_opts_default(&fo);
    fo.input_mean = o.input_mean ? 1 : 0, fo.outputs = o.outputs, fo.split = o.split == ND_SPLIT_TRAIN ? "train" : "valid";
    fo.starts = o.starts, fo.noise = o.noise, fo.seed = (uint64_t)o.seed;
    fo.fp.max_iters = o.max_iters, fo.fp.tol_q = o.tol_q, fo.fp.dedup_tol = o.dedup_tol;
    fo.fp.outlier_scale = o.outlier_scale, fo.fp.slow_q = o.slow_q;
    if (fo.input_mean && nd_fp_lfads_inputs(&model->m) > 0 && !fo.outputs)
        return api_fail(ctx, ND_ERR_ARG, "nd_fixedpoints: input_mean needs the outputs (the mean of their "
                        "{split}_gen_inputs)");
    const int th = api_threads(ctx);
    omp_set_num_threads(th);
    nd_blas_set_threads(th);
    nd_fp_lfads_result x;
    memset(&x, 0, sizeof x);
    nd_result *r = NULL;
    nd_status st = nd_fp_lfads(&model->m, &fo, &x, &ctx->err);
    if (!st && !(st = res_new(ctx, "nd_fixedpoints", &r))) {
        const nd_fp_result *f = &x.r;
        const size_t k = (size_t)f->n_fp, H = (size_t)f->n;
        if (res_doubles(r, "x", f->x, 2, k, H, 0) || res_doubles(r, "q", f->q, 1, k, 0, 0) ||
            res_doubles(r, "jacobian", f->jac, 3, k, H, H) || res_doubles(r, "eig_re", f->eig_re, 2, k, H, 0) ||
            res_doubles(r, "eig_im", f->eig_im, 2, k, H, 0) || res_doubles(r, "max_abs_eig", f->max_abs_eig, 1, k, 0, 0) ||
            res_ints(r, "stable", f->stable, k) || res_ints(r, "slow", f->slow, k) || res_ints(r, "count", f->count, k) ||
            (x.dist && res_doubles(r, "dist_to_states", x.dist, 1, k, 0, 0)) ||
            res_doubles(r, "u", x.u, 1, (size_t)x.n_in, 0, 0) ||
            res_doubles(r, "start_q", f->start_q, 1, (size_t)f->n_starts, 0, 0) ||
            res_scalar(r, "n_fixed_points", f->n_fp) || res_scalar(r, "n_stable", f->n_stable) ||
            res_scalar(r, "n_unstable", f->n_unstable) || res_scalar(r, "n_slow", f->n_slow) ||
            res_scalar(r, "n_converged", f->n_converged) || res_scalar(r, "n_unconverged", f->n_unconverged) ||
            res_scalar(r, "n_outliers", f->n_outliers) || res_scalar(r, "n_duplicates", f->n_duplicates) ||
            res_scalar(r, "spread", x.spread))
            st = api_fail(ctx, ND_ERR_NOMEM, "nd_fixedpoints: out of memory");
    }
    nd_fp_lfads_result_free(&x);
    return res_end(ctx, st, r, out);
}

/* ---------------------------------------------------------------- decoding a per-trial variable */

ND_API void nd_decode_options_default(nd_decode_options *o) {
    if (!o) return;
    memset(o, 0, sizeof *o);
    o->alpha_log10_lo = -2, o->alpha_log10_hi = 6, o->n_alphas = 17, o->folds = 5, o->shuffle = 1;
}

ND_API nd_status nd_decode_arrays(nd_context *ctx, const float *x_train, const float *y_train, int n_train,
                                  const float *x_test, const float *y_test, int n_test, int bins, int units, int q,
                                  const nd_decode_options *opts, nd_result **out) {
    if (out) *out = NULL;
    if (api_begin(ctx)) return ND_ERR_ARG;
    nd_decode_options o;
    nd_decode_options_default(&o);
    if (opts) o = *opts;
    if (!out || !x_train || !y_train || !x_test || !y_test || n_train < 1 || n_test < 1 || bins < 1 || units < 1 || q < 1)
        return api_fail(ctx, ND_ERR_ARG, "nd_decode_arrays: x and y of both splits and out must not be NULL; trials, "
                        "bins, units and q >= 1");
    if (nd_decode_alpha_grid(o.alpha_log10_lo, o.alpha_log10_hi, o.n_alphas, NULL))
        return api_fail(ctx, ND_ERR_ARG, "nd_decode_arrays: alphas 10^lo .. 10^hi need lo <= hi within +-300 and "
                        "1..1000 values");
    if (o.classify && q != 1)
        return api_fail(ctx, ND_ERR_ARG, "nd_decode_arrays: a classification needs one label per trial, the target "
                        "has %d columns", q);
    if (o.folds < 2 || o.folds > n_train)
        return api_fail(ctx, ND_ERR_ARG, "nd_decode_arrays: folds %d must be 2 .. the %d train trials", o.folds, n_train);
    const size_t K = (size_t)nd_decode_chunks(bins, o.time_bins);
    const size_t p = K * (size_t)units;
    double *alphas = nd_alloc(sizeof(double) * (size_t)o.n_alphas);
    double *Xtr = nd_alloc(sizeof(double) * (size_t)n_train * p), *Xte = nd_alloc(sizeof(double) * (size_t)n_test * p);
    double *Ytr = nd_alloc(sizeof(double) * (size_t)n_train * q), *Yte = nd_alloc(sizeof(double) * (size_t)n_test * q);
    nd_result *r = NULL;
    nd_decode_result dr;
    memset(&dr, 0, sizeof dr);
    nd_status st = alphas && Xtr && Xte && Ytr && Yte ? ND_OK : api_fail(ctx, ND_ERR_NOMEM, "nd_decode_arrays: out of memory");
    if (st) goto done;
    const int n_a = o.n_alphas;
    nd_decode_alpha_grid(o.alpha_log10_lo, o.alpha_log10_hi, n_a, alphas);
    nd_decode_features(x_train, n_train, bins, units, o.time_bins, Xtr);
    nd_decode_features(x_test, n_test, bins, units, o.time_bins, Xte);
    for (size_t i = 0; i < (size_t)n_train * q; i++) Ytr[i] = y_train[i];
    for (size_t i = 0; i < (size_t)n_test * q; i++) Yte[i] = y_test[i];
    for (size_t i = 0; i < (size_t)n_train * q + (size_t)n_test * q; i++) {
        double v = i < (size_t)n_train * q ? Ytr[i] : Yte[i - (size_t)n_train * q];
        if (!isfinite(v)) {
            st = api_fail(ctx, ND_ERR_ARG, "nd_decode_arrays: target value %zu is not finite", i);
            goto done;
        }
    }
    nd_decode_opts d = {alphas, n_a, o.folds, o.classify ? 1 : 0, o.shuffle ? 1 : 0, (uint64_t)o.seed};
    if ((st = nd_decode(Xtr, Ytr, n_train, Xte, Yte, n_test, (int)p, q, &d, &dr, &ctx->err))) goto done;
    if ((st = res_new(ctx, "nd_decode_arrays", &r))) goto done;
    if (res_scalar(r, o.classify ? "accuracy" : "r2", dr.test_score) || res_scalar(r, "chance", dr.chance) ||
        (o.classify && res_scalar(r, "n_classes", dr.n_classes)) || res_scalar(r, "alpha", dr.best_alpha) ||
        res_doubles(r, "alphas", alphas, 1, (size_t)n_a, 0, 0) || res_doubles(r, "cv_score", dr.cv_score, 1, (size_t)n_a, 0, 0) ||
        res_doubles(r, "pred", dr.pred, o.classify ? 1 : 2, (size_t)n_test, (size_t)q, 0) ||
        res_scalar(r, "n_features", (double)p))
        st = api_fail(ctx, ND_ERR_NOMEM, "nd_decode_arrays: out of memory");
done:
    nd_decode_result_free(&dr);
    nd_free(alphas), nd_free(Xtr), nd_free(Xte), nd_free(Ytr), nd_free(Yte);
    return res_end(ctx, st, r, out);
}
