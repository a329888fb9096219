#include "learn_analysis.h"
#include "compare.h"
#include "../core/mem.h"
#include "../io/h5.h"
#include "../io/h5x.h"
#include "../io/svg.h"
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define PI 3.14159265358979323846
enum { PHASES = 16, NOISY = 500, STREAM_TUNING = 321 };

/* responses h_l of every layer to the stimuli x [n][in]: out[l] [n][n_l] (l = 1..L) */
static nd_status responses(const nd_mlp *m, const real *x, int n, double **out, nd_error *err) {
    nd_mlp_acts a;
    nd_status st = nd_mlp_acts_create(&a, m, n, err);
    if (st) return st;
    int *lab = calloc((size_t)n, sizeof(int));
    if (!lab) { nd_mlp_acts_free(&a); return nd_fail(err, ND_ERR_NOMEM, "out of memory"); }
    nd_mlp_forward(m, &a, x, n, lab, NULL, NULL);
    for (int l = 1; l <= m->L; l++)
        for (size_t i = 0; i < (size_t)n * m->n[l]; i++) out[l][i] = fabs((double)a.h[l][i]);
    free(lab);
    nd_mlp_acts_free(&a);
    return ND_OK;
}

/* linear Fisher information f'^T (S + ridge I)^-1 f' of n units from samples R [k][n] and slopes f [n] */
static double linear_fisher(const double *R, int k, int n, const double *f) {
    double *S = calloc((size_t)n * n, sizeof(double)), *mu = calloc((size_t)n, sizeof(double)), *v = malloc(sizeof(double) * n);
    double out = NAN;
    if (S && mu && v) {
        for (int s = 0; s < k; s++)
            for (int i = 0; i < n; i++) mu[i] += R[(size_t)s * n + i] / k;
        for (int s = 0; s < k; s++)
            for (int i = 0; i < n; i++)
                for (int j = 0; j < n; j++)
                    S[(size_t)i * n + j] += (R[(size_t)s * n + i] - mu[i]) * (R[(size_t)s * n + j] - mu[j]) / (k - 1);
        double tr = 0;
        for (int i = 0; i < n; i++) tr += S[(size_t)i * n + i];
        for (int i = 0; i < n; i++) { S[(size_t)i * n + i] += 1e-6 * tr / n + 1e-12; v[i] = f[i]; }
        if (LAPACKE_dposv(LAPACK_ROW_MAJOR, 'U', n, 1, S, n, v, 1) == 0) {
            out = 0;
            for (int i = 0; i < n; i++) out += f[i] * v[i];
        }
    }
    free(S); free(mu); free(v);
    return out;
}

nd_status nd_learn_tuning(const char *run_dir, const char *out_h5, nd_learn_tuning_result *r, nd_error *err) {
    memset(r, 0, sizeof *r);
    nd_learn_opts o;
    char dd[4096];
    nd_mlp m = {0};
    real *init = NULL;
    nd_status st = nd_learn_run_load(run_dir, &o, dd, &m, &init, err);
    if (st) return st;
    if (o.task != ND_TASK_ORIENTATION) {
        nd_free(init);
        nd_mlp_free(&m);
        return nd_fail(err, ND_ERR_ARG, "%s: a %s run; tuning needs an orientation run (learn train --task orientation)",
                       run_dir, nd_learn_task_name(o.task));
    }
    const int L = m.L, S = o.ori_size, in = S * S, NO = ND_TUNING_ORIENTS;
    /* stimuli: NO orientations x PHASES, then ref - 2 and ref + 2 deg x PHASES, then NOISY task stimuli at ref */
    const int n_clean = (NO + 2) * PHASES, n = n_clean + NOISY;
    real *x = nd_alloc(sizeof(real) * (size_t)n * in), *fin = nd_alloc(sizeof(real) * m.n_params);
    double *resp[ND_MLP_MAX_LAYERS + 1] = {0}, *tc[2][ND_MLP_MAX_LAYERS + 1] = {{0}};
    if (!x || !fin) st = nd_fail(err, ND_ERR_NOMEM, "out of memory");
    for (int l = 1; l <= L && !st; l++) {
        resp[l] = malloc(sizeof(double) * (size_t)n * m.n[l]);
        tc[0][l] = calloc((size_t)m.n[l] * NO, sizeof(double));
        tc[1][l] = calloc((size_t)m.n[l] * NO, sizeof(double));
        if (!resp[l] || !tc[0][l] || !tc[1][l]) st = nd_fail(err, ND_ERR_NOMEM, "out of memory");
    }
    if (!st) {
        nd_rng rg;
        nd_rng_stream(&rg, o.seed, STREAM_TUNING, 0);
        for (int k = 0; k < NO + 2; k++)
            for (int p = 0; p < PHASES; p++) {
                double th = k < NO ? 5.0 * k : ND_ORI_REF_DEG + (k == NO ? -2 : 2);
                nd_grating(x + ((size_t)k * PHASES + p) * in, S, th, 2 * PI * p / PHASES, 0.75, 0, NULL);
            }
        for (int s = 0; s < NOISY; s++)
            nd_grating(x + ((size_t)n_clean + s) * in, S, ND_ORI_REF_DEG, 2 * PI * nd_rng_uniform(&rg),
                       0.5 + 0.5 * nd_rng_uniform(&rg), o.ori_noise, &rg);
        memcpy(fin, m.params, sizeof(real) * m.n_params);
    }
    for (int stage = 0; stage < 2 && !st; stage++) {
        memcpy(m.params, stage ? fin : init, sizeof(real) * m.n_params);
        if ((st = responses(&m, x, n, resp, err))) break;
        for (int l = 1; l <= L; l++) {
            const int U = m.n[l];
            double *f = malloc(sizeof(double) * U), *R = resp[l] + (size_t)n_clean * U;
            if (!f) { st = nd_fail(err, ND_ERR_NOMEM, "out of memory"); break; }
            double sl = 0, fi = 0;
            for (int u = 0; u < U; u++) {
                double lo = 0, hi = 0, mu = 0, var = 0;
                for (int k = 0; k < NO; k++) {
                    double s = 0;
                    for (int p = 0; p < PHASES; p++) s += resp[l][((size_t)k * PHASES + p) * U + u];
                    tc[stage][l][(size_t)u * NO + k] = s / PHASES;
                }
                for (int p = 0; p < PHASES; p++) {
                    lo += resp[l][((size_t)NO * PHASES + p) * U + u] / PHASES;
                    hi += resp[l][((size_t)(NO + 1) * PHASES + p) * U + u] / PHASES;
                }
                f[u] = (hi - lo) / 4;
                for (int s = 0; s < NOISY; s++) mu += R[(size_t)s * U + u] / NOISY;
                for (int s = 0; s < NOISY; s++) var += pow(R[(size_t)s * U + u] - mu, 2) / (NOISY - 1);
                sl += fabs(f[u]) / U;
                fi += f[u] * f[u] / (var + 1e-12) / U;
            }
            r->slope[stage][l - 1] = sl;
            r->fisher[stage][l - 1] = fi;
            r->fisher_pop[stage][l - 1] = linear_fisher(R, NOISY, U, f);
            free(f);
        }
    }
    for (int l = 1; l <= L && !st; l++) {
        const int U = m.n[l];
        double num = 0, den = 0;
        for (int u = 0; u < U; u++) {
                for (int k = 0; k < NO; k++) {
                num += pow(tc[1][l][(size_t)u * NO + k] - tc[0][l][(size_t)u * NO + k], 2);
                den += pow(tc[0][l][(size_t)u * NO + k], 2);
            }
        }
        r->change[l - 1] = den > 0 ? num / den : NAN;
        r->units[l - 1] = U;
    }
    r->L = L;
    if (!st) {
        nd_learn_data d;
        st = nd_learn_data_load(&o, &d, err);
        if (!st) {
            nd_mlp_acts a;
            if (!(st = nd_mlp_acts_create(&a, &m, d.n_test, err))) {
                nd_mlp_forward(&m, &a, d.x_test, d.n_test, d.l_test, NULL, NULL);
                int right = 0;
                for (int i = 0; i < d.n_test; i++) right += (a.a[L][2 * i + 1] > a.a[L][2 * i]) == d.l_test[i];
                r->accuracy = (double)right / d.n_test;
                nd_mlp_acts_free(&a);
            }
            nd_learn_data_free(&d);
        }
    }
    if (!st && out_h5) {
        nd_h5file *f;
        st = nd_h5_create(&f, out_h5, err);
        for (int l = 1; l <= L && !st; l++)
            for (int s = 0; s < 2 && !st; s++) {
                char nm[64];
                size_t dims[2] = {(size_t)m.n[l], NO};
                snprintf(nm, sizeof nm, "layer%d_tuning%s", l, s ? "" : "_init");
                st = nd_h5_write_double(f, nm, tc[s][l], 2, dims, err);
            }
        double th[ND_TUNING_ORIENTS], buf[3][2 * ND_MLP_MAX_LAYERS];
        for (int k = 0; k < NO; k++) th[k] = 5.0 * k;
        for (int s = 0; s < 2; s++)
            for (int l = 0; l < L; l++) {
                buf[0][s * L + l] = r->slope[s][l];
                buf[1][s * L + l] = r->fisher[s][l];
                buf[2][s * L + l] = r->fisher_pop[s][l];
            }
        size_t dno = NO, d2[2] = {2, (size_t)L}, dl = (size_t)L;
        if (!st) st = nd_h5_write_double(f, "orientations", th, 1, &dno, err);
        if (!st) st = nd_h5_write_double(f, "slope", buf[0], 2, d2, err);
        if (!st) st = nd_h5_write_double(f, "fisher", buf[1], 2, d2, err);
        if (!st) st = nd_h5_write_double(f, "fisher_pop", buf[2], 2, d2, err);
        if (!st) st = nd_h5_write_double(f, "change", r->change, 1, &dl, err);
        if (!st) st = nd_h5_write_attr_double(f, "/", "reference_deg", ND_ORI_REF_DEG, err);
        if (!st) st = nd_h5_write_attr_string(f, "/", "layout", "slope, fisher, fisher_pop: [stage: 0 initial, 1 trained]"
                                              "[layer 1..L]; layerK_tuning[_init]: [unit][orientation]", err);
        if (f) {
            nd_error e2;
            nd_status cs = nd_h5_close(f, st == ND_OK, st ? &e2 : err);
            if (!st) st = cs;
        }
    }
    for (int l = 1; l <= L; l++) { free(resp[l]); free(tc[0][l]); free(tc[1][l]); }
    nd_free(x); nd_free(fin); nd_free(init);
    nd_mlp_free(&m);
    return st;
}

void nd_learn_compare_free(nd_learn_compare_result *r) {
    for (int k = 0; k < r->n_runs; k++) free(r->curves[k]);
    memset(r, 0, sizeof *r);
}

/* a rank-2 dataset of path, open as h (NULL when not an HDF5 file: every dataset is then missing) */
static nd_status read_d(nd_h5r *h, const char *path, const char *name, double **out, size_t *rows, size_t *cols,
                        nd_error *err) {
    float *a = NULL;
    int rank = 0;
    size_t dims[ND_H5R_MAX_RANK];
    if (!h || nd_h5r_kind(h, name) != ND_H5R_DATASET) return nd_fail(err, ND_ERR_FORMAT, "%s: dataset '%s': missing (a learn run's model.h5?)", path, name);
    nd_status st = nd_h5r_read_float(h, name, &a, &rank, dims, err);
    if (st) return st;
    if (rank != 2) { nd_free(a); return nd_fail(err, ND_ERR_FORMAT, "%s: dataset '%s': expected rank 2, got %d", path, name, rank); }
    *rows = dims[0]; *cols = dims[1];
    *out = malloc(sizeof(double) * (dims[0] * dims[1] > 0 ? dims[0] * dims[1] : 1));
    if (!*out) { nd_free(a); return nd_fail(err, ND_ERR_NOMEM, "out of memory"); }
    for (size_t i = 0; i < dims[0] * dims[1]; i++) (*out)[i] = a[i];
    nd_free(a);
    return ND_OK;
}

typedef struct { const nd_learn_compare_result *r; const char *const *names; } plot_ud;
static void plot(FILE *f, void *u) {
    const plot_ud *p = u;
    nd_svg_series s[ND_COMPARE_MAX_RUNS];
    double *x[ND_COMPARE_MAX_RUNS], *y[ND_COMPARE_MAX_RUNS];
    for (int k = 0; k < p->r->n_runs; k++) {
        int E = p->r->epochs[k];
        x[k] = malloc(sizeof(double) * (E ? E : 1));
        y[k] = malloc(sizeof(double) * (E ? E : 1));
        for (int e = 0; x[k] && y[k] && e < E; e++) { x[k][e] = p->r->curves[k][4 * e] + 1; y[k][e] = p->r->curves[k][4 * e + 3]; }
        s[k].name = p->names[k]; s[k].x = x[k]; s[k].y = y[k]; s[k].n = x[k] && y[k] ? E : 0;
    }
    nd_svg_line_plot(f, "Test accuracy during learning", "epoch", "test accuracy", s, p->r->n_runs, NAN, NAN);
    for (int k = 0; k < p->r->n_runs; k++) { free(x[k]); free(y[k]); }
}

nd_status nd_learn_compare(const char *const *runs, int n_runs, const char *svg_path, nd_learn_compare_result *r,
                           nd_error *err) {
    memset(r, 0, sizeof *r);
    if (n_runs < 1 || n_runs > ND_COMPARE_MAX_RUNS) return nd_fail(err, ND_ERR_ARG, "learn compare: 1..%d runs, got %d", ND_COMPARE_MAX_RUNS, n_runs);
    nd_status st = ND_OK;
    char path[ND_COMPARE_MAX_RUNS][4096];
    nd_h5r *h[ND_COMPARE_MAX_RUNS] = {NULL};
    r->L = ND_MLP_MAX_LAYERS;
    for (int k = 0; k < n_runs && !st; k++) {
        snprintf(path[k], sizeof path[k], "%s/model.h5", runs[k]);
        FILE *t = fopen(path[k], "r");
        if (!t) { st = nd_fail(err, ND_ERR_IO, "%s: not found (a finished 'learn train' run?)", path[k]); break; }
        fclose(t);
        nd_error oe;
        if (nd_h5r_open(path[k], &h[k], &oe)) h[k] = NULL;
        size_t rows, cols;
        r->n_runs = k + 1;
        if ((st = read_d(h[k], path[k], "curves", &r->curves[k], &rows, &cols, err))) break;
        if (cols != 4) { st = nd_fail(err, ND_ERR_FORMAT, "%s: dataset 'curves': %zu columns, expected 4", path[k], cols); break; }
        r->epochs[k] = (int)rows;
        int L = 0;
        char nm[64];
        for (;;) {
            snprintf(nm, sizeof nm, "layer%d_activity", L + 1);
            if (L >= ND_MLP_MAX_LAYERS || !h[k] || nd_h5r_kind(h[k], nm) != ND_H5R_DATASET) break;
            L++;
        }
        if (!L) { st = nd_fail(err, ND_ERR_FORMAT, "%s: no layer1_activity", path[k]); break; }
        if (L < r->L) r->L = L;
    }
    for (int l = 1; l <= r->L && !st; l++) {
        char nm[64];
        double *ref = NULL;
        size_t rn = 0, rp = 0;
        snprintf(nm, sizeof nm, "layer%d_activity", l);
        st = read_d(h[0], path[0], nm, &ref, &rn, &rp, err);
        for (int k = 0; k < n_runs && !st; k++) {
            double *A = NULL, *A0 = NULL;
            size_t n1, p1, n0, p0;
            snprintf(nm, sizeof nm, "layer%d_activity", l);
            st = read_d(h[k], path[k], nm, &A, &n1, &p1, err);
            snprintf(nm, sizeof nm, "layer%d_activity_init", l);
            if (!st) st = read_d(h[k], path[k], nm, &A0, &n0, &p0, err);
            if (!st && (n1 != rn || n0 != n1))
                st = nd_fail(err, ND_ERR_ARG, "%s: layer %d activity of %zu examples, but %s has %zu: runs on different "
                             "tasks?", path[k], l, n1, path[0], rn);
            if (!st) st = nd_cka_linear(A, A0, (int)n1, (int)p1, (int)p0, &r->cka_init[k][l - 1], err);
            if (!st) st = nd_cka_linear(A, ref, (int)n1, (int)p1, (int)rp, &r->cka_ref[k][l - 1], err);
            free(A); free(A0);
        }
        free(ref);
    }
    for (int k = 0; k < n_runs; k++) nd_h5r_close(h[k]);
    if (!st && svg_path) {
        plot_ud u = {r, runs};
        st = nd_svg_write(svg_path, plot, &u, err);
    }
    if (st) nd_learn_compare_free(r);
    return st;
}

/* ---------- learn gradients ---------- */
void nd_learn_gradients_opts_default(nd_learn_gradients_opts *o) {
    memset(o, 0, sizeof *o);
    o->samples = 200;
    o->batch = 100;
    o->sigma = 1e-3;
}

nd_status nd_learn_gradients_run(const char *run_dir, const nd_learn_gradients_opts *o, nd_learn_gradients_result *r,
                                 nd_error *err) {
    memset(r, 0, sizeof *r);
    if (!o->rules)
        for (int k = 0; k < ND_RULE_COUNT; k++) r->rules[r->n_rules++] = (nd_rule)k;
    for (const char *p = o->rules; p && *p;) {
        size_t n = strcspn(p, ",");
        char name[32];
        snprintf(name, sizeof name, "%.*s", (int)(n < sizeof name ? n : sizeof name - 1), p);
        int k = nd_rule_parse(name);
        if (n && (k < 0 || r->n_rules >= ND_RULE_COUNT))
            return nd_fail(err, ND_ERR_ARG, "--rules: %s rule '%s' (bp, fa, dfa, sign, np, wp)",
                           k < 0 ? "unknown" : "too many:", name);
        if (n) r->rules[r->n_rules++] = (nd_rule)k; /* empty entries ("bp,,fa", "bp,") are skipped */
        p += n;
        if (*p) p++;
    }
    if (!r->n_rules) return nd_fail(err, ND_ERR_ARG, "--rules is empty");
    nd_status st = nd_learn_gradients(run_dir, r->rules, r->n_rules, o->samples, o->sigma, o->batch, r->s, &r->L, err);
    if (!st && o->svg) st = nd_learn_gradients_svg(o->svg, r->rules, r->n_rules, r->s, r->L, err);
    return st;
}

cJSON *nd_learn_gradients_json(const nd_learn_gradients_result *r) {
    cJSON *root = cJSON_CreateObject(), *arr = root ? cJSON_AddArrayToObject(root, "estimates") : NULL;
    if (!arr) { cJSON_Delete(root); return NULL; }
    for (int k = 0; k < r->n_rules; k++)
        for (int stage = 0; stage < 2; stage++) {
            const nd_rule_stats *t = &r->s[2 * k + stage];
            cJSON *e = cJSON_CreateObject();
            cJSON_AddStringToObject(e, "rule", nd_rule_name(r->rules[k]));
            cJSON_AddStringToObject(e, "weights", stage ? "final" : "initial");
            cJSON_AddNumberToObject(e, "angle_deg", t->angle_deg[r->L]);
            cJSON_AddNumberToObject(e, "rel_norm", t->rel_norm[r->L]);
            cJSON_AddNumberToObject(e, "variance", t->variance[r->L]);
            cJSON *pl = cJSON_AddArrayToObject(e, "angle_deg_per_layer");
            for (int l = 0; l < r->L; l++) cJSON_AddItemToArray(pl, cJSON_CreateNumber(t->angle_deg[l]));
            cJSON_AddItemToArray(arr, e);
        }
    return root;
}
