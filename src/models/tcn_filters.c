/* First-layer templates of a fitted neuron TCN, by synapse type and distance from the soma. */
#include "tcn_train.h"
#include "../io/h5.h"
#include "../io/svg.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct { const float *v; int rows, cols; char title[128]; } heat_ctx;

static void heat(FILE *f, void *ud) {
    const heat_ctx *h = ud;
    nd_svg_heatmap(f, h->title, "lag (ms; left = same ms)", "rows: excitatory, then inhibitory, by distance", h->v,
                   h->rows, h->cols);
}

nd_status nd_tcn_filters_write(const nd_tcn_run *r, int nb, const char *h5_path, const char *svg_path,
                               nd_error *err) {
    const nd_tcn_config *c = &r->m.cfg;
    const int W = c->width, S = c->syn, K = c->first_kernel;
    if (nb < 1 || nb > 1000) return nd_fail(err, ND_ERR_ARG, "neuron filters: --distance-bins %d must be in 1..1000", nb);
    const real *W0 = r->m.L[0].W; /* [K][S][W] */
    float *w = malloc(sizeof(float) * (size_t)W * S * K), *tmpl = calloc((size_t)W * 2 * nb * K, sizeof(float));
    int *cnt = calloc((size_t)2 * nb, sizeof(int)), *bin = malloc(sizeof(int) * S);
    double *norm = calloc((size_t)W, sizeof(double));
    nd_status st = w && tmpl && cnt && bin && norm ? ND_OK : nd_fail(err, ND_ERR_NOMEM, "neuron filters: out of memory");
    double dmax = 0;
    for (int s = 0; !st && s < S; s++) dmax = fmax(dmax, r->syn_distance_um[s]);
    for (int s = 0; !st && s < S; s++) {
        int b = dmax > 0 ? (int)(r->syn_distance_um[s] / dmax * nb) : 0;
        bin[s] = (b >= nb ? nb - 1 : b) + (r->syn_type[s] != 0 ? nb : 0); /* excitatory bins, then inhibitory */
        cnt[bin[s]]++;
    }
    for (int u = 0; !st && u < W; u++)
        for (int s = 0; s < S; s++)
            for (int k = 0; k < K; k++) {
                float x = (float)W0[((size_t)k * S + s) * W + u];
                w[((size_t)u * S + s) * K + k] = x;
                tmpl[((size_t)u * 2 * nb + bin[s]) * K + k] += x;
                norm[u] += (double)x * x;
            }
    for (int u = 0; !st && u < W; u++)
        for (int b = 0; b < 2 * nb; b++)
            for (int k = 0; k < K; k++)
                tmpl[((size_t)u * 2 * nb + b) * K + k] = cnt[b] ? tmpl[((size_t)u * 2 * nb + b) * K + k] / cnt[b] : NAN;
    nd_h5file *f = NULL;
    if (!st) st = nd_h5_create(&f, h5_path, err);
    size_t d3[3] = {(size_t)W, (size_t)S, (size_t)K}, t3[3] = {(size_t)W, (size_t)2 * nb, (size_t)K}, ds = (size_t)S;
    if (!st) st = nd_h5_write_float(f, "first_layer_weights", w, 3, d3, err);
    if (!st) st = nd_h5_write_float(f, "templates_by_distance", tmpl, 3, t3, err);
    if (!st) st = nd_h5_write_float(f, "syn_type", r->syn_type, 1, &ds, err);
    if (!st) st = nd_h5_write_float(f, "syn_distance_um", r->syn_distance_um, 1, &ds, err);
    if (!st) st = nd_h5_write_float(f, "syn_branch", r->syn_branch, 1, &ds, err);
    if (!st) st = nd_h5_write_attr_string(f, "/", "cell", r->cell, err);
    if (!st) st = nd_h5_write_attr_int(f, "/", "distance_bins", nb, err);
    if (!st) st = nd_h5_write_attr_double(f, "/", "max_distance_um", dmax, err);
    if (!st) st = nd_h5_write_attr_string(f, "/", "layout",
                                          "first_layer_weights [unit][synapse][lag ms]; templates_by_distance [unit]"
                                          "[excitatory distance bins, then inhibitory][lag]: mean over the synapses of "
                                          "the bin (NaN when empty)", err);
    if (f) {
        nd_error e2;
        nd_status cs = nd_h5_close(f, st == ND_OK, st ? &e2 : err);
        if (!st) st = cs;
    }
    if (!st && svg_path) {
        int best = 0;
        for (int u = 1; u < W; u++)
            if (norm[u] > norm[best]) best = u;
        heat_ctx h = {tmpl + (size_t)best * 2 * nb * K, 2 * nb, K, {0}};
        snprintf(h.title, sizeof h.title, "%s: first-layer templates of unit %d (largest weights)", r->cell, best);
        st = nd_svg_write(svg_path, heat, &h, err);
    }
    free(w); free(tmpl); free(cnt); free(bin); free(norm);
    return st;
}

nd_status nd_tcn_filters_file(const char *run, int dist_bins, const char *h5_path, const char *svg_path,
                              nd_tcn_filters_shape *shape, nd_error *err) {
    memset(shape, 0, sizeof *shape);
    nd_tcn_run r;
    nd_status st = nd_tcn_run_load(run, &r, err);
    if (st) return st;
    st = nd_tcn_filters_write(&r, dist_bins, h5_path, svg_path, err);
    if (!st) *shape = (nd_tcn_filters_shape){r.m.cfg.width, r.m.cfg.syn, r.m.cfg.first_kernel};
    nd_tcn_run_free(&r);
    return st;
}
