/* Fixed points of a trained LFADS generator end to end (fp_lfads.h). */
#include "fp_lfads.h"
#include "../core/mem.h"
#include "../core/rng.h"
#include "../io/h5.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { STREAM_FP_STARTS = 0xF1BED };

void nd_fp_lfads_opts_default(nd_fp_lfads_opts *o) {
    memset(o, 0, sizeof *o);
    o->split = "valid";
    o->starts = 256;
    nd_fp_opts_default(&o->fp);
}

void nd_fp_lfads_result_free(nd_fp_lfads_result *r) {
    nd_free(r->u);
    nd_free(r->dist);
    nd_fp_result_free(&r->r);
    memset(r, 0, sizeof *r);
}

int nd_fp_lfads_inputs(const nd_lfads_model *m) { return (m->ctrl ? m->cfg.co_dim : 0) + m->E; }

/* a rank-3 dataset [trials, bins, width] of an infer output, flattened to rows x width */
static nd_status read_rows(const char *path, const char *split, const char *what, int width, const char *wname,
                           float **a, int *rows, nd_error *err) {
    char name[128];
    snprintf(name, sizeof name, "%s_%s", split, what);
    if (!nd_h5_exists(path, name))
        return nd_fail(err, ND_ERR_FORMAT, "%s: dataset '%s': missing (write it with 'neurodyn infer')", path, name);
    size_t d[ND_H5_MAX_RANK];
    int rank = 0;
    nd_status st = nd_h5_read_float(path, name, a, &rank, d, err);
    if (st) return st;
    if (rank != 3) return nd_fail(err, ND_ERR_FORMAT, "%s: dataset '%s': expected rank 3 (trials, bins, dims), got %d",
                                  path, name, rank);
    if ((int)d[2] != width)
        return nd_fail(err, ND_ERR_ARG, "%s: dataset '%s': %zu %s, but the model's generator has %d", path, name, d[2],
                       wname, width);
    *rows = (int)(d[0] * d[1]);
    if (*rows < 1) return nd_fail(err, ND_ERR_FORMAT, "%s: dataset '%s': empty", path, name);
    return ND_OK;
}

/* distance of each point to the nearest state, and the states' mean distance from their centroid */
static void state_distances(const float *gs, int n_states, int H, const nd_fp_result *fr, double *dist,
                            double *spread) {
    double *mean = calloc((size_t)H, sizeof(double));
    if (mean) {
        for (int i = 0; i < n_states; i++)
            for (int j = 0; j < H; j++) mean[j] += gs[(size_t)i * H + j] / n_states;
        double s2 = 0;
        for (int i = 0; i < n_states; i++) {
            double d = 0;
            for (int j = 0; j < H; j++) d += pow(gs[(size_t)i * H + j] - mean[j], 2);
            s2 += sqrt(d) / n_states;
        }
        *spread = s2;
        free(mean);
    }
    for (int f = 0; f < fr->n_fp; f++) {
        double best = INFINITY;
        const double *x = fr->x + (size_t)f * H;
        for (int i = 0; i < n_states; i++) {
            double d = 0;
            const float *g = gs + (size_t)i * H;
            for (int j = 0; j < H && d < best; j++) d += (x[j] - g[j]) * (x[j] - g[j]);
            if (d < best) best = d;
        }
        dist[f] = sqrt(best);
    }
}

/* the search for an LFADS generator (m) or a leaky tanh RNN (rnn, zero input) */
static nd_status fp_run(const nd_lfads_model *m, const nd_fp_leaky_tanh_map *rnn, const nd_fp_lfads_opts *o,
                        nd_fp_lfads_result *r, nd_error *err) {
    memset(r, 0, sizeof *r);
    r->spread = NAN;
    int H = m ? m->cfg.gen_dim : rnn->n, nin = m ? nd_fp_lfads_inputs(m) : 0, n_states = 0, rows = 0;
    r->H = H;
    r->n_in = nin;
    if (o->starts < 1) return nd_fail(err, ND_ERR_ARG, "fixed points: starts must be >= 1, got %d", o->starts);
    if (o->input_mean && nin > 0 && !o->outputs)
        return nd_fail(err, ND_ERR_ARG, "the mean input needs an infer output file (the model has %d generator inputs)",
                       nin);
    float *gs = NULL, *gi = NULL;
    double *st0 = NULL;
    nd_fp_gru_map map;
    memset(&map, 0, sizeof map);
    nd_status st = ND_OK;
    r->u = nd_alloc(sizeof(double) * (nin ? nin : 1));
    st0 = nd_alloc(sizeof(double) * (size_t)o->starts * H);
    if (!r->u || !st0) { st = nd_fail(err, ND_ERR_NOMEM, "fixed points: out of memory"); goto done; }
    memset(r->u, 0, sizeof(double) * (nin ? nin : 1));
    if (o->outputs) {
        if ((st = read_rows(o->outputs, o->split, "gen_states", H, "generator units", &gs, &n_states, err))) goto done;
        r->has_states = 1;
    }
    if (o->input_mean && nin > 0) {
        if ((st = read_rows(o->outputs, o->split, "gen_inputs", nin, "inputs", &gi, &rows, err))) goto done;
        for (size_t i = 0; i < (size_t)rows; i++)
            for (int j = 0; j < nin; j++) r->u[j] += gi[i * nin + j];
        for (int j = 0; j < nin; j++) r->u[j] /= rows;
    }
    if (m && (st = nd_fp_gru_map_init(&map, &m->p.gen, nin, H, m->cfg.cell_clip, r->u, err))) goto done;
    nd_rng rng;
    nd_rng_stream(&rng, o->seed, STREAM_FP_STARTS, 0);
    for (int s = 0; s < o->starts; s++) {
        double *x = st0 + (size_t)s * H;
        if (gs) {
            const float *g = gs + (size_t)nd_rng_below(&rng, (uint64_t)n_states) * H;
            for (int j = 0; j < H; j++) x[j] = g[j] + o->noise * nd_rng_normal(&rng);
        } else
            for (int j = 0; j < H; j++) x[j] = nd_rng_normal(&rng);
    }
    st = m ? nd_fixed_points(nd_fp_gru_fn, &map, H, st0, o->starts, &o->fp, &r->r, err)
           : nd_fixed_points(nd_fp_leaky_tanh_fn, (void *)rnn, H, st0, o->starts, &o->fp, &r->r, err);
    if (st) goto done;
    if (gs) {
        r->dist = nd_alloc(sizeof(double) * (r->r.n_fp ? r->r.n_fp : 1));
        if (!r->dist) { st = nd_fail(err, ND_ERR_NOMEM, "fixed points: out of memory"); goto done; }
        state_distances(gs, n_states, H, &r->r, r->dist, &r->spread);
    }
done:
    nd_fp_gru_map_free(&map);
    nd_free(gs);
    nd_free(gi);
    nd_free(st0);
    if (st) nd_fp_lfads_result_free(r);
    return st;
}

nd_status nd_fp_lfads(const nd_lfads_model *m, const nd_fp_lfads_opts *o, nd_fp_lfads_result *r, nd_error *err) {
    return fp_run(m, NULL, o, r, err);
}

nd_status nd_fp_rnn(const nd_fp_leaky_tanh_map *rnn, const nd_fp_lfads_opts *o, nd_fp_lfads_result *r, nd_error *err) {
    return fp_run(NULL, rnn, o, r, err);
}

nd_status nd_fp_lfads_write(const char *path, const nd_fp_lfads_result *res, const char *ckpt, const char *inputs,
                            nd_error *err) {
    const nd_fp_result *r = &res->r;
    nd_h5file *h = NULL;
    nd_status st = nd_h5_create(&h, path, err);
    size_t nf = (size_t)r->n_fp, Hz = (size_t)res->H, d2[2] = {nf, Hz}, d3[3] = {nf, Hz, Hz}, d1[1] = {nf},
           ds[1] = {(size_t)r->n_starts}, du[1] = {(size_t)res->n_in};
    if (!st && nf) st = nd_h5_write_double(h, "x", r->x, 2, d2, err);
    if (!st && nf) st = nd_h5_write_double(h, "q", r->q, 1, d1, err);
    if (!st && nf) st = nd_h5_write_double(h, "jacobian", r->jac, 3, d3, err);
    if (!st && nf) st = nd_h5_write_double(h, "eig_re", r->eig_re, 2, d2, err);
    if (!st && nf) st = nd_h5_write_double(h, "eig_im", r->eig_im, 2, d2, err);
    if (!st && nf) st = nd_h5_write_double(h, "max_abs_eig", r->max_abs_eig, 1, d1, err);
    if (!st && nf) st = nd_h5_write_int(h, "stable", r->stable, 1, d1, err);
    if (!st && nf) st = nd_h5_write_int(h, "count", r->count, 1, d1, err);
    if (!st && nf) st = nd_h5_write_int(h, "slow", r->slow, 1, d1, err);
    if (!st && nf && res->dist) st = nd_h5_write_double(h, "dist_to_states", res->dist, 1, d1, err);
    if (!st && res->n_in) st = nd_h5_write_double(h, "u", res->u, 1, du, err);
    if (!st) st = nd_h5_write_double(h, "start_q", r->start_q, 1, ds, err);
    if (!st) st = nd_h5_write_attr_int(h, "/", "n_fixed_points", r->n_fp, err);
    if (!st) st = nd_h5_write_attr_string(h, "/", "checkpoint", ckpt, err);
    if (!st) st = nd_h5_write_attr_string(h, "/", "inputs", inputs, err);
    if (!st) st = nd_h5_write_attr_string(h, "/", "jacobian_layout", "jacobian[f][i][j] = d g'_i / d g_j", err);
    if (h) {
        nd_error e2;
        nd_status cs = nd_h5_close(h, st == ND_OK, st ? &e2 : err);
        if (!st) st = cs;
    }
    return st;
}
