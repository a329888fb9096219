#define _POSIX_C_SOURCE 200809L
#include "neuron_eval.h"
#include "spike_metrics.h"
#include "../io/svg.h"
#include <stdlib.h>
#include <string.h>

#define DISCARD_MS 500 /* the first 500 ms of each simulation are left out (the cell starts at rest) */

/* scores of simulations [k0, k1) */
static nd_status score_range(const nd_tcn_run *r, const nd_neuron_data *d, int k0, int k1, double max_fpr,
                             nd_tcn_scores *s, nd_error *err) {
    memset(s, 0, sizeof *s);
    const int T = d->ms, S = k1 - k0, keep = T > DISCARD_MS ? T - DISCARD_MS : T, skip = T - keep;
    size_t n = (size_t)S * keep;
    float *prob = malloc(sizeof(float) * (size_t)S * T), *volt = malloc(sizeof(float) * (size_t)S * T);
    float *ps = malloc(sizeof(float) * n), *pv = malloc(sizeof(float) * n), *tv = malloc(sizeof(float) * n);
    unsigned char *y = malloc(n);
    nd_status st = prob && volt && ps && pv && tv && y ? ND_OK : nd_fail(err, ND_ERR_NOMEM, "TCN: out of memory");
    if (!st) st = nd_tcn_predict(r, d, k0, k1, prob, volt, err);
    if (!st) {
        for (int k = 0; k < S; k++)
            for (int t = 0; t < keep; t++) {
                size_t i = (size_t)k * keep + t, j = (size_t)k * T + skip + t, g = (size_t)(k0 + k) * T + skip + t;
                ps[i] = prob[j];
                pv[i] = volt[j];
                tv[i] = d->soma_v[g] > ND_TCN_VCLIP ? (float)ND_TCN_VCLIP : d->soma_v[g];
                y[i] = d->spikes[g];
            }
        st = nd_roc_auc(ps, y, n, &s->auc, err);
        if (!st) st = nd_tpr_at_fpr(ps, y, n, max_fpr, &s->tpr_at_fpr, NULL, err);
        nd_voltage_metrics vm;
        nd_voltage_metrics_compute(pv, tv, n, &vm);
        s->v_ev = vm.explained_variance;
        s->v_rmse = vm.rmse;
        s->v_mae = vm.mae;
        s->fpr = max_fpr;
        s->sims = S;
        s->bins = (long)n;
    }
    free(prob); free(volt); free(ps); free(pv); free(tv); free(y);
    return st;
}

nd_status nd_tcn_evaluate(const nd_tcn_run *r, const nd_neuron_data *d, double max_fpr, nd_tcn_scores *s,
                          nd_error *err) {
    if (strcmp(d->cell, r->cell))
        return nd_fail(err, ND_ERR_ARG, "the data come from cell '%s' but the network was fitted on '%s'", d->cell, r->cell);
    return score_range(r, d, 0, d->sims, max_fpr, s, err);
}


/* ---------- the sweep ---------- */
#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

typedef struct {
    const nd_tcn_sweep_opts *o;
    const nd_tcn_sweep_row *rows;
    int ev; /* 0: spike AUC, 1: voltage EV */
} plot_ctx;

static void plot(FILE *f, void *ud) {
    const plot_ctx *p = ud;
    const nd_tcn_sweep_opts *o = p->o;
    nd_svg_series s[ND_TCN_SWEEP_MAX];
    double x[ND_TCN_SWEEP_MAX][ND_TCN_SWEEP_MAX], y[ND_TCN_SWEEP_MAX][ND_TCN_SWEEP_MAX];
    char names[ND_TCN_SWEEP_MAX][32];
    for (int j = 0; j < o->n_widths; j++) {
        for (int i = 0; i < o->n_depths; i++) {
            const nd_tcn_sweep_row *r = &p->rows[i * o->n_widths + j];
            x[j][i] = r->depth;
            y[j][i] = p->ev ? r->test.v_ev : r->test.auc;
        }
        snprintf(names[j], sizeof names[j], "width %d", o->widths[j]);
        s[j] = (nd_svg_series){names[j], x[j], y[j], o->n_depths};
    }
    nd_svg_line_plot(f, p->ev ? "Somatic voltage: explained variance (test)" : "Output spikes: ROC AUC (test)",
                     "depth (layers)", p->ev ? "explained variance" : "spike AUC", s, o->n_widths, NAN, NAN);
}

static nd_status write_tables(const nd_tcn_sweep_opts *o, const nd_tcn_sweep_row *rows, const char *cell,
                              nd_error *err) {
    char path[4200];
    int n = o->n_depths * o->n_widths;
    snprintf(path, sizeof path, "%s/sweep.tsv", o->out_dir);
    FILE *f = fopen(path, "w");
    if (!f) return nd_fail(err, ND_ERR_IO, "%s: cannot write", path);
    fprintf(f, "depth\twidth\treceptive_field_ms\tparams\tspike_auc\ttpr_at_0.25pct_fpr\tvoltage_ev\tvoltage_rmse_mv\t"
               "voltage_mae_mv\tfit_seconds\n");
    for (int k = 0; k < n; k++) {
        const nd_tcn_sweep_row *r = &rows[k];
        fprintf(f, "%d\t%d\t%d\t%zu\t%.5f\t%.5f\t%.5f\t%.4f\t%.4f\t%.1f\n", r->depth, r->width, r->receptive_field_ms,
                r->params, r->test.auc, r->test.tpr_at_fpr, r->test.v_ev, r->test.v_rmse, r->test.v_mae, r->seconds);
    }
    if (fclose(f)) return nd_fail(err, ND_ERR_IO, "%s: write failed", path);
    cJSON *root = cJSON_CreateObject(), *arr = cJSON_AddArrayToObject(root, "networks");
    cJSON_AddStringToObject(root, "cell", cell);
    for (int k = 0; k < n; k++) {
        const nd_tcn_sweep_row *r = &rows[k];
        cJSON *e = cJSON_CreateObject();
        cJSON_AddNumberToObject(e, "depth", r->depth);
        cJSON_AddNumberToObject(e, "width", r->width);
        cJSON_AddNumberToObject(e, "receptive_field_ms", r->receptive_field_ms);
        cJSON_AddNumberToObject(e, "params", (double)r->params);
        cJSON_AddNumberToObject(e, "spike_auc", isfinite(r->test.auc) ? r->test.auc : -1);
        cJSON_AddNumberToObject(e, "tpr_at_fpr", isfinite(r->test.tpr_at_fpr) ? r->test.tpr_at_fpr : -1);
        cJSON_AddNumberToObject(e, "voltage_explained_variance", isfinite(r->test.v_ev) ? r->test.v_ev : -1);
        cJSON_AddNumberToObject(e, "voltage_rmse_mv", r->test.v_rmse);
        cJSON_AddItemToArray(arr, e);
    }
    char *txt = cJSON_Print(root);
    cJSON_Delete(root);
    snprintf(path, sizeof path, "%s/sweep.json", o->out_dir);
    f = txt ? fopen(path, "w") : NULL;
    nd_status st = f && fputs(txt, f) >= 0 ? ND_OK : nd_fail(err, ND_ERR_IO, "%s: cannot write", path);
    if (f && fclose(f) && !st) st = nd_fail(err, ND_ERR_IO, "%s: write failed", path);
    free(txt);
    for (int ev = 0; ev < 2 && !st; ev++) {
        plot_ctx p = {o, rows, ev};
        snprintf(path, sizeof path, "%s/%s", o->out_dir, ev ? "ev_vs_depth.svg" : "auc_vs_depth.svg");
        st = nd_svg_write(path, plot, &p, err);
    }
    return st;
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

nd_status nd_tcn_sweep(const nd_neuron_data *train, const char *train_path, const nd_neuron_data *test,
                       const nd_tcn_sweep_opts *o, nd_tcn_sweep_row **rows_out, nd_error *err) {
    *rows_out = NULL;
    if (o->n_depths < 1 || o->n_widths < 1 || o->n_depths > ND_TCN_SWEEP_MAX || o->n_widths > ND_TCN_SWEEP_MAX)
        return nd_fail(err, ND_ERR_ARG, "neuron sweep: 1..%d depths and widths", ND_TCN_SWEEP_MAX);
    if (strcmp(train->cell, test->cell) || train->syn != test->syn)
        return nd_fail(err, ND_ERR_ARG, "neuron sweep: the test file is from cell '%s' (%d synapses), the training "
                       "file from '%s' (%d)", test->cell, test->syn, train->cell, train->syn);
    if (mkdir(o->out_dir, 0777) != 0 && errno != EEXIST)
        return nd_fail(err, ND_ERR_IO, "%s: cannot create (%s)", o->out_dir, strerror(errno));
    if (o->receptive_field_ms > 0)
        for (int i = 0; i < o->n_depths; i++)
            if (o->receptive_field_ms - (o->depths[i] - 1) * (o->fit.net.kernel - 1) < 1)
                return nd_fail(err, ND_ERR_ARG, "neuron sweep: --receptive-field %d ms is too short for depth %d with "
                               "kernel %d", o->receptive_field_ms, o->depths[i], o->fit.net.kernel);
    int n = o->n_depths * o->n_widths;
    nd_tcn_sweep_row *rows = calloc((size_t)n, sizeof *rows);
    if (!rows) return nd_fail(err, ND_ERR_NOMEM, "neuron sweep: out of memory");
    nd_status st = ND_OK;
    for (int i = 0; i < o->n_depths && !st; i++)
        for (int j = 0; j < o->n_widths && !st; j++) {
            char dir[4200], last[4300];
            snprintf(dir, sizeof dir, "%s/d%d_w%d", o->out_dir, o->depths[i], o->widths[j]);
            snprintf(last, sizeof last, "%s/last.ckpt", dir);
            struct stat sb;
            nd_tcn_fit_opts f = o->fit;
            f.run_dir = dir;
            f.net.depth = o->depths[i];
            f.net.width = o->widths[j];
            if (o->receptive_field_ms > 0)
                f.net.first_kernel = o->receptive_field_ms - (f.net.depth - 1) * (f.net.kernel - 1);
            f.resume = stat(last, &sb) == 0; /* finished runs return at once; interrupted ones continue */
            f.force = !f.resume; /* a directory without last.ckpt (stopped in its first epoch) holds nothing to keep */
            if (f.progress) fprintf(f.progress, "== depth %d, width %d -> %s\n", f.net.depth, f.net.width, dir);
            double t0 = now_s();
            nd_tcn_fit_result res;
            st = nd_tcn_fit(train, train_path, &f, &res, err);
            nd_tcn_sweep_row *r = &rows[i * o->n_widths + j];
            r->depth = f.net.depth;
            r->width = f.net.width;
            r->seconds = now_s() - t0;
            nd_tcn_run run;
            if (!st) st = nd_tcn_run_load(dir, &run, err);
            if (!st) {
                r->receptive_field_ms = nd_tcn_receptive_field(&run.m.cfg);
                r->params = run.m.n_params;
                st = nd_tcn_evaluate(&run, test, 0.0025, &r->test, err);
                nd_tcn_run_free(&run);
                if (!st && f.progress)
                    fprintf(f.progress, "   test spike AUC %.4f, voltage EV %.4f\n", r->test.auc, r->test.v_ev);
            }
        }
    if (!st) st = write_tables(o, rows, train->cell, err);
    if (st) { free(rows); return st; }
    *rows_out = rows;
    return ND_OK;
}

/* ---------- several sweeps in one figure ---------- */

#define CMP_MAX_CURVES 32
typedef struct {
    int n;
    char name[CMP_MAX_CURVES][64];
    double x[CMP_MAX_CURVES][ND_TCN_SWEEP_MAX], auc[CMP_MAX_CURVES][ND_TCN_SWEEP_MAX], ev[CMP_MAX_CURVES][ND_TCN_SWEEP_MAX];
    int len[CMP_MAX_CURVES];
    int which; /* 0 AUC, 1 EV */
} cmp_ctx;

static void cmp_plot(FILE *f, void *ud) {
    const cmp_ctx *c = ud;
    nd_svg_series s[CMP_MAX_CURVES];
    for (int i = 0; i < c->n; i++) s[i] = (nd_svg_series){c->name[i], c->x[i], c->which ? c->ev[i] : c->auc[i], c->len[i]};
    nd_svg_line_plot(f, c->which ? "Somatic voltage: explained variance (test)" : "Output spikes: ROC AUC (test)",
                     "depth (layers)", c->which ? "explained variance" : "spike AUC", s, c->n, NAN, NAN);
}

static char *slurp(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *buf = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        if (n + 4096 + 1 > cap) {
            cap = cap ? 2 * cap : 65536;
            char *b = realloc(buf, cap);
            if (!b) { free(buf); fclose(f); return NULL; }
            buf = b;
        }
        size_t k = fread(buf + n, 1, 4096, f);
        n += k;
        if (k < 4096) break;
    }
    fclose(f);
    buf[n] = 0;
    return buf;
}

nd_status nd_tcn_sweep_compare(const char *const *dirs, int n, const char *out_dir, nd_error *err) {
    if (n < 1) return nd_fail(err, ND_ERR_ARG, "neuron compare: no sweep directories");
    if (mkdir(out_dir, 0777) != 0 && errno != EEXIST)
        return nd_fail(err, ND_ERR_IO, "%s: cannot create (%s)", out_dir, strerror(errno));
    cmp_ctx *c = calloc(1, sizeof *c);
    if (!c) return nd_fail(err, ND_ERR_NOMEM, "neuron compare: out of memory");
    char path[4200];
    snprintf(path, sizeof path, "%s/compare.tsv", out_dir);
    FILE *tsv = fopen(path, "w");
    if (!tsv) { free(c); return nd_fail(err, ND_ERR_IO, "%s: cannot write", path); }
    fprintf(tsv, "cell\tdepth\twidth\treceptive_field_ms\tparams\tspike_auc\ttpr_at_0.25pct_fpr\tvoltage_ev\n");
    nd_status st = ND_OK;
    for (int d = 0; d < n && !st; d++) {
        snprintf(path, sizeof path, "%s/sweep.json", dirs[d]);
        char *txt = slurp(path);
        cJSON *root = txt ? cJSON_Parse(txt) : NULL;
        free(txt);
        const cJSON *cell = root ? cJSON_GetObjectItem(root, "cell") : NULL, *nets = root ? cJSON_GetObjectItem(root, "networks") : NULL;
        if (!root || !cJSON_IsString(cell) || !cJSON_IsArray(nets)) {
            st = nd_fail(err, ND_ERR_FORMAT, "%s: %s", path, root ? "not a neuron sweep's sweep.json (no cell or networks)"
                                                               : "missing or not JSON (run 'neuron sweep' first)");
            cJSON_Delete(root);
            break;
        }
        const cJSON *e;
        cJSON_ArrayForEach(e, nets) {
            int depth = (int)cJSON_GetNumberValue(cJSON_GetObjectItem(e, "depth"));
            int width = (int)cJSON_GetNumberValue(cJSON_GetObjectItem(e, "width"));
            double auc = cJSON_GetNumberValue(cJSON_GetObjectItem(e, "spike_auc"));
            double ev = cJSON_GetNumberValue(cJSON_GetObjectItem(e, "voltage_explained_variance"));
            fprintf(tsv, "%s\t%d\t%d\t%d\t%.0f\t%.5f\t%.5f\t%.5f\n", cell->valuestring, depth, width,
                    (int)cJSON_GetNumberValue(cJSON_GetObjectItem(e, "receptive_field_ms")),
                    cJSON_GetNumberValue(cJSON_GetObjectItem(e, "params")), auc,
                    cJSON_GetNumberValue(cJSON_GetObjectItem(e, "tpr_at_fpr")), ev);
            char name[64];
            snprintf(name, sizeof name, "%s, width %d", cell->valuestring, width);
            int k = 0;
            while (k < c->n && strcmp(c->name[k], name)) k++;
            if (k == c->n) {
                if (c->n == CMP_MAX_CURVES) continue;
                snprintf(c->name[c->n++], sizeof c->name[0], "%s", name);
            }
            if (c->len[k] == ND_TCN_SWEEP_MAX) continue;
            c->x[k][c->len[k]] = depth;
            c->auc[k][c->len[k]] = auc >= 0 ? auc : NAN;
            c->ev[k][c->len[k]++] = ev > -1 ? ev : NAN;
        }
        cJSON_Delete(root);
    }
    if (fclose(tsv) && !st) st = nd_fail(err, ND_ERR_IO, "%s/compare.tsv: write failed", out_dir);
    for (int w = 0; w < 2 && !st; w++) {
        c->which = w;
        snprintf(path, sizeof path, "%s/%s", out_dir, w ? "ev_vs_depth.svg" : "auc_vs_depth.svg");
        st = nd_svg_write(path, cmp_plot, c, err);
    }
    free(c);
    return st;
}

/* ---------- the neuron commands' calls ---------- */
nd_status nd_tcn_evaluate_file(const char *run, const char *data, double max_fpr, nd_tcn_scores *s, nd_error *err) {
    memset(s, 0, sizeof *s);
    nd_tcn_run r;
    nd_neuron_data d;
    nd_status st = nd_tcn_run_load(run, &r, err);
    if (st) return st;
    st = nd_neuron_data_read(data, &d, err); /* its errors name the file */
    if (!st) {
        st = nd_tcn_evaluate(&r, &d, max_fpr, s, err);
        if (st) nd_fail_prefix(err, st, data);
        nd_neuron_data_free(&d);
    }
    nd_tcn_run_free(&r);
    return st;
}

cJSON *nd_tcn_scores_json(const nd_tcn_scores *s) {
    cJSON *o = cJSON_CreateObject();
    if (!o) return NULL;
    cJSON_AddNumberToObject(o, "spike_auc", s->auc);
    cJSON_AddNumberToObject(o, "tpr_at_fpr", s->tpr_at_fpr);
    cJSON_AddNumberToObject(o, "fpr", s->fpr);
    cJSON_AddNumberToObject(o, "voltage_explained_variance", s->v_ev);
    cJSON_AddNumberToObject(o, "voltage_rmse_mv", s->v_rmse);
    cJSON_AddNumberToObject(o, "voltage_mae_mv", s->v_mae);
    cJSON_AddNumberToObject(o, "simulations", s->sims);
    cJSON_AddNumberToObject(o, "bins", (double)s->bins);
    return o;
}

void nd_tcn_sweep_opts_default(nd_tcn_sweep_opts *o) {
    memset(o, 0, sizeof *o);
    nd_tcn_fit_opts_default(&o->fit);
    static const int depths[] = {1, 2, 3, 5, 7}, widths[] = {32, 128};
    o->n_depths = 5;
    memcpy(o->depths, depths, sizeof depths);
    o->n_widths = 2;
    memcpy(o->widths, widths, sizeof widths);
}

/* "1,2,3" -> v[0..*n); ND_ERR_ARG naming opt */
static nd_status int_list(const char *opt, const char *s, int lo, int hi, int *v, int *n, nd_error *err) {
    *n = 0;
    for (const char *p = s; *p;) {
        char *end;
        errno = 0;
        long x = strtol(p, &end, 10);
        if (end == p || errno || x < lo || x > hi || *n >= ND_TCN_SWEEP_MAX || (*end && *end != ','))
            return nd_fail(err, ND_ERR_ARG, "%s '%s': expected up to %d comma-separated integers in %d..%d", opt, s,
                           ND_TCN_SWEEP_MAX, lo, hi);
        v[(*n)++] = (int)x;
        p = *end ? end + 1 : end;
    }
    return *n ? ND_OK : nd_fail(err, ND_ERR_ARG, "%s is empty", opt);
}

nd_status nd_tcn_sweep_set_lists(nd_tcn_sweep_opts *o, const char *depths, const char *widths, nd_error *err) {
    int d[ND_TCN_SWEEP_MAX], w[ND_TCN_SWEEP_MAX], nd = 0, nw = 0;
    nd_status st = depths ? int_list("--depths", depths, 1, ND_TCN_MAX_DEPTH, d, &nd, err) : ND_OK;
    if (!st && widths) st = int_list("--widths", widths, 1, 4096, w, &nw, err);
    if (st) return st;
    if (depths) { memcpy(o->depths, d, sizeof d); o->n_depths = nd; }
    if (widths) { memcpy(o->widths, w, sizeof w); o->n_widths = nw; }
    return ND_OK;
}

nd_status nd_tcn_sweep_files(const char *train_path, const char *test_path, const nd_tcn_sweep_opts *o,
                             nd_tcn_sweep_row **rows, nd_error *err) {
    *rows = NULL;
    nd_neuron_data tr, te;
    nd_status st = nd_neuron_data_read(train_path, &tr, err);
    if (st) return st;
    st = nd_neuron_data_read(test_path, &te, err);
    if (!st) {
        st = nd_tcn_sweep(&tr, train_path, &te, o, rows, err);
        nd_neuron_data_free(&te);
    }
    nd_neuron_data_free(&tr);
    return st;
}
