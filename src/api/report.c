/* neurodyn report: one self-contained HTML page (inline SVG from src/io/svg.c, no scripts, nothing loaded from
 * anywhere) describing a run directory. This file: the page, run-type detection and the LFADS report; the
 * figures of neuron and learn runs are in report_runs.c. */
#include "report.h"
#include "../analysis/pca.h"
#include "../core/mem.h"
#include "../core/smooth.h"
#include "../io/checkpoint.h"
#include "../io/fingerprint.h"
#include "../io/h5.h"
#include "../io/h5x.h"
#include "../io/svg.h"
#include "../models/lfads_train.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

ND_API void nd_report_options_default(nd_report_options *opts) {
    if (!opts) return;
    memset(opts, 0, sizeof *opts);
    opts->example_trials = 3;
}

/* ---------------------------------------------------------------- the page */

void rep_esc(FILE *f, const char *s) { nd_svg_xml_text(f, s); }

void rep_begin(FILE *f, const char *title) {
    fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>", f);
    rep_esc(f, title);
    fputs("</title>\n<style>\n"
          "body{font-family:Helvetica,Arial,sans-serif;max-width:1000px;margin:24px auto;padding:0 16px;color:#222;"
          "background:#fff;line-height:1.4}\n"
          "h1{font-size:22px;margin-bottom:4px}h2{font-size:17px;margin-top:32px;border-bottom:1px solid #ccc;"
          "padding-bottom:3px}\n"
          "table{border-collapse:collapse;font-size:13px;margin:8px 0}td,th{border-bottom:1px solid #ddd;"
          "padding:3px 10px;text-align:left}th{background:#f3f3f3}td.num{text-align:right;"
          "font-variant-numeric:tabular-nums}\n"
          "figure{margin:12px 0 20px 0}figcaption{font-size:13px;color:#333;max-width:920px}\n"
          "p.note{font-size:13px;color:#555}\n"
          "</style>\n</head>\n<body>\n<h1>", f);
    rep_esc(f, title);
    fputs("</h1>\n", f);
}

void rep_end(FILE *f) {
    fprintf(f, "<p class=\"note\">Made by neurodyn %s (<code>neurodyn report</code>). Figures are inline SVG; the page "
               "loads nothing and runs no script.</p>\n</body>\n</html>\n", nd_version());
}

void rep_h2(FILE *f, const char *s) {
    fputs("<h2>", f);
    rep_esc(f, s);
    fputs("</h2>\n", f);
}

void rep_note(FILE *f, const char *s) {
    fputs("<p class=\"note\">", f);
    rep_esc(f, s);
    fputs("</p>\n", f);
}

void rep_fig_begin(FILE *f, int w, int h) {
    fputs("<figure>\n", f);
    nd_svg_begin(f, w, h, 0);
}

void rep_fig_end(FILE *f, const char *caption) {
    nd_svg_end(f);
    fputs("<figcaption>", f);
    rep_esc(f, caption);
    fputs("</figcaption>\n</figure>\n", f);
}

void rep_kv_row(FILE *f, const char *k, const char *v) {
    fputs("<tr><th>", f);
    rep_esc(f, k);
    fputs("</th><td>", f);
    rep_esc(f, v);
    fputs("</td></tr>\n", f);
}

int rep_file_exists(const char *dir, const char *name) {
    char p[4200];
    struct stat st;
    snprintf(p, sizeof p, "%s/%s", dir, name);
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

nd_status rep_read_double(const char *path, const char *name, double **x, int *rank, size_t dims[8], nd_error *err) {
    float *a = NULL;
    *x = NULL;
    nd_status st = nd_h5_read_float(path, name, &a, rank, dims, err);
    if (st) return st;
    size_t n = 1;
    for (int k = 0; k < *rank; k++) n *= dims[k];
    *x = nd_alloc(n * sizeof(double) + 8);
    if (!*x) {
        nd_free(a);
        return nd_fail(err, ND_ERR_NOMEM, "%s: dataset '%s': out of memory", path, name);
    }
    for (size_t i = 0; i < n; i++) (*x)[i] = a[i];
    nd_free(a);
    return ND_OK;
}

/* a whitespace/tab separated table with a header line: column names and rows of numbers ("nan" allowed) */
void rep_table_free(rep_table *t) {
    if (!t) return;
    for (int c = 0; c < t->ncol; c++) free(t->names[c]);
    free(t->names);
    free(t->v);
    memset(t, 0, sizeof *t);
}

nd_status rep_table_read(const char *path, rep_table *t, nd_error *err) {
    memset(t, 0, sizeof *t);
    FILE *f = fopen(path, "r");
    if (!f) return nd_fail(err, ND_ERR_IO, "%s: cannot open", path);
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    int cap_rows = 0;
    nd_status st = ND_OK;
    while ((len = getline(&line, &cap, f)) > 0) {
        if (line[0] == '#' || line[strspn(line, " \t\r\n")] == 0) continue;
        if (!t->names) { /* header */
            for (char *tok = strtok(line, "\t \r\n"); tok; tok = strtok(NULL, "\t \r\n")) {
                char **nn = realloc(t->names, (size_t)(t->ncol + 1) * sizeof *nn);
                if (!nn) { st = nd_fail(err, ND_ERR_NOMEM, "%s: out of memory", path); goto done; }
                t->names = nn;
                t->names[t->ncol++] = strdup(tok);
            }
            if (t->ncol == 0) { st = nd_fail(err, ND_ERR_FORMAT, "%s: empty header line", path); goto done; }
            continue;
        }
        if (t->nrow == cap_rows) {
            cap_rows = cap_rows ? 2 * cap_rows : 64;
            double *nv = realloc(t->v, (size_t)cap_rows * t->ncol * sizeof *nv);
            if (!nv) { st = nd_fail(err, ND_ERR_NOMEM, "%s: out of memory", path); goto done; }
            t->v = nv;
        }
        char *p = line;
        for (int c = 0; c < t->ncol; c++) {
            char *end;
            double x = strtod(p, &end);
            if (end == p) x = NAN;
            t->v[(size_t)t->nrow * t->ncol + c] = x;
            p = end + strspn(end, "\t \r\n");
            if (end == p && *p) { /* a word that is not a number: skip it */
                p += strcspn(p, "\t \r\n");
                p += strspn(p, "\t \r\n");
            }
        }
        t->nrow++;
    }
    if (!t->names) st = nd_fail(err, ND_ERR_FORMAT, "%s: no header line", path);
done:
    free(line);
    fclose(f);
    if (st) rep_table_free(t);
    return st;
}

int rep_table_col(const rep_table *t, const char *name) {
    for (int c = 0; c < t->ncol; c++)
        if (!strcmp(t->names[c], name)) return c;
    return -1;
}

/* ---------------------------------------------------------------- LFADS */

typedef struct {
    /* arrays of the outputs (owned by `own` when read from a file, else by the nd_outputs) */
    const float *rates[3];   /* train, valid, test [n][Tr][Nr] */
    const float *factors;    /* valid [n][Tf][F] */
    size_t fdims[3];
    const float *co;         /* valid co_means [n][Tc][C] */
    size_t codims[3];
    const float *gen;        /* valid gen_states [n][Tg][G] */
    size_t gdims[3];
    float *own[6];
} lf_out;

static void lf_out_free(lf_out *o) {
    for (int k = 0; k < 6; k++) nd_free(o->own[k]);
    memset(o, 0, sizeof *o);
}

/* read one optional 3-D float dataset of an open file (r NULL: none); 1 read, 0 absent */
static int read3(nd_h5r *r, const char *name, float **a, size_t dims[3], nd_error *err, nd_status *st) {
    const char *path = nd_h5r_file(r);
    *a = NULL;
    if (!r || nd_h5r_kind(r, name) != ND_H5R_DATASET) return 0;
    int rank = 0;
    size_t d[8] = {0};
    if ((*st = nd_h5r_read_float(r, name, a, &rank, d, err))) return 0;
    if (rank != 3) {
        nd_free(*a);
        *a = NULL;
        *st = nd_fail(err, ND_ERR_FORMAT, "%s: dataset '%s': rank %d, expected 3 (trials x bins x units)", path, name,
                      rank);
        return 0;
    }
    memcpy(dims, d, 3 * sizeof *dims);
    return 1;
}

/* an outputs file (infer or baseline layout) made from these data: its rates checked against the data's shapes */
static nd_status lf_out_read(const char *path, const nd_lfads_data *d, lf_out *o, int need_valid, nd_error *err) {
    memset(o, 0, sizeof *o);
    char fptxt[1024], what[512];
    nd_data_fp want, have;
    nd_status st = ND_OK;
    struct stat sb;
    if (stat(path, &sb) != 0) return nd_fail(err, ND_ERR_IO, "%s: cannot open (no such file)", path);
    nd_h5r *r = NULL; /* NULL when not an HDF5 file: then nothing is found in it */
    nd_error oe;
    if (nd_h5r_open(path, &r, &oe)) r = NULL;
    if (r && nd_h5r_read_attr_string(r, "/", ND_DATA_FP_ATTR, fptxt, sizeof fptxt, NULL) == ND_OK) {
        if ((st = nd_data_fp_parse(fptxt, &want, err)))
            st = nd_fail(err, st, "%s: attribute '%s': %s", path, ND_DATA_FP_ATTR, err->msg);
        else if (!(st = nd_data_fp_of(d, &have, err)) && nd_data_fp_differs(&want, &have, 0, what, sizeof what))
            st = nd_fail(err, ND_ERR_ARG, "%s was not made from %s (it was made from %s): %s differ", path, d->path,
                         want.file, what);
    }
    static const char *names[3] = {"train_output_params", "valid_output_params", "test_output_params"};
    const int Tr = d->Tr > 0 ? d->Tr : d->T, Nr = d->Nr > 0 ? d->Nr : d->N;
    for (int k = 0; k < 3 && !st; k++) {
        size_t dims[3];
        float *a;
        if (read3(r, names[k], &a, dims, err, &st)) {
            o->own[k] = a;
            o->rates[k] = a;
            const int n = d->split[k].n;
            if ((int)dims[0] != n || (int)dims[1] != Tr || (int)dims[2] != Nr) {
                st = nd_fail(err, ND_ERR_FORMAT, "%s: dataset '%s' [%zu x %zu x %zu] does not match the data's "
                             "targets (%d, %d, %d)", path, names[k], dims[0], dims[1], dims[2], n, Tr, Nr);
                break;
            }
        }
        if (st) break;
    }
    if (!st && need_valid && !o->rates[1])
        st = nd_fail(err, ND_ERR_FORMAT, "%s: dataset 'valid_output_params': missing", path);
    float *a;
    if (!st && read3(r, "valid_factors", &a, o->fdims, err, &st)) o->own[3] = a, o->factors = a;
    if (!st && read3(r, "valid_co_means", &a, o->codims, err, &st)) o->own[4] = a, o->co = a;
    if (!st && read3(r, "valid_gen_states", &a, o->gdims, err, &st)) o->own[5] = a, o->gen = a;
    nd_h5r_close(r);
    if (st) lf_out_free(o);
    return st;
}

static void lf_out_from(const nd_outputs *out, lf_out *o) {
    memset(o, 0, sizeof *o);
    static const char *names[3] = {"train_output_params", "valid_output_params", "test_output_params"};
    for (int k = 0; k < 3; k++) o->rates[k] = nd_outputs_array(out, names[k], NULL, NULL);
    o->factors = nd_outputs_array(out, "valid_factors", o->fdims, NULL);
    o->co = nd_outputs_array(out, "valid_co_means", o->codims, NULL);
    o->gen = nd_outputs_array(out, "valid_gen_states", o->gdims, NULL);
}

typedef struct {
    const nd_lfads_data *d;
    const int *cond[3];      /* condition ids per split or NULL */
    int T, N, Tr, Nr;
    double bin_ms, hz;       /* hz = 1000 / bin_ms: counts per bin -> spikes/s */
    const nd_lfads_config *cfg;
} lf_ctx;

/* up to max distinct condition ids of the valid split, ascending; when there are more, evenly spaced over them (the
 * first and the last included); returns how many */
static int top_conditions(const lf_ctx *c, int *ids, int max) {
    const int *vc = c->cond[1];
    int nv = c->d->split[ND_VALID].n, nid = 0;
    if (!vc || max <= 0) return 0;
    int *all = malloc(sizeof(int) * (size_t)(nv + 1));
    if (!all) return 0;
    for (int i = 0; i < nv; i++) {
        if (vc[i] < 0) continue;
        int k = 0;
        while (k < nid && all[k] != vc[i]) k++;
        if (k == nid) all[nid++] = vc[i];
    }
    for (int i = 0; i < nid; i++)
        for (int j = i + 1; j < nid; j++)
            if (all[j] < all[i]) { int t = all[i]; all[i] = all[j]; all[j] = t; }
    int m = nid < max ? nid : max;
    for (int i = 0; i < m; i++) ids[i] = all[m == nid ? i : (m == 1 ? 0 : (int)lround((double)i * (nid - 1) / (m - 1)))];
    free(all);
    return m;
}

/* example valid trials: the first trial of each of up to k conditions (top_conditions), then the first trials */
static int example_trials(const lf_ctx *c, int k, int *ids) {
    const nd_lfads_data *d = c->d;
    int conds[8], nex = 0;
    if (k > 4) k = 4;
    if (k < 1) k = 1;
    int nconds = top_conditions(c, conds, k);
    for (int q = 0; q < nconds && nex < k; q++)
        for (int i = 0; i < d->split[ND_VALID].n; i++)
            if (c->cond[1][i] == conds[q]) { ids[nex++] = i; break; }
    for (int i = 0; i < d->split[ND_VALID].n && nex < k; i++) {
        int used = 0;
        for (int q = 0; q < nex; q++) used |= ids[q] == i;
        if (!used) ids[nex++] = i;
    }
    return nex;
}

/* ---- figure 1: training curves ---- */
static void fig_training(FILE *f, const rep_table *log, const nd_lfads_config *cfg, int best_epoch) {
    int ce = rep_table_col(log, "epoch");
    const char *cols[8] = {"train_recon", "valid_recon", "smoothed_valid_recon", "train_kl_ic", "train_kl_co",
                           "train_l2", "lr", NULL};
    int ci[7];
    for (int k = 0; k < 7; k++) ci[k] = rep_table_col(log, cols[k]);
    const int n = log->nrow, nc = log->ncol;
    double *ep = malloc(sizeof(double) * (size_t)(n + 1)), *col = malloc(sizeof(double) * (size_t)(n + 1) * 7);
    if (!ep || !col) { free(ep); free(col); return; }
    for (int i = 0; i < n; i++) {
        ep[i] = ce >= 0 ? log->v[(size_t)i * nc + ce] + 1 : i + 1; /* epochs counted from 1, as train prints them */
        for (int k = 0; k < 7; k++) col[(size_t)k * n + i] = ci[k] >= 0 ? log->v[(size_t)i * nc + ci[k]] : NAN;
    }
    const double x0 = 0, x1 = n > 0 ? ep[n - 1] : 1;
    /* the epochs during which a ramp weight is < 1 (lfads ramp: (e + 1 - start) / (increase + 1), e from 0) */
    int kl_end = cfg->kl_start_epoch + cfg->kl_increase_epoch, l2_end = cfg->l2_start_epoch + cfg->l2_increase_epoch;
    int ramp_end = kl_end > l2_end ? kl_end : l2_end;
    const int W = 940, H = 560;
    rep_fig_begin(f, W, H);
    const double pw = 330, ph = 180, lx[2] = {80, 540}, ty[2] = {50, 320};
    const char *titles[4] = {"A  Reconstruction loss", "B  KL divergence (train)", "C  L2 penalty (train)",
                             "D  Learning rate and ramp"};
    for (int p = 0; p < 4; p++) {
        double lo = INFINITY, hi = -INFINITY, a, b;
        int ks[3], nk = 0, logy = 0;
        const char *yl = NULL;
        if (p == 0) { ks[0] = 0; ks[1] = 1; ks[2] = 2; nk = 3; yl = "NLL per trial (nats)"; }
        if (p == 1) { ks[0] = 3; nk = 1; if (cfg->co_dim > 0) ks[nk++] = 4; yl = "KL per trial (nats)"; }
        if (p == 2) { ks[0] = 5; nk = 1; yl = "L2 (weighted, per trial)"; }
        if (p == 3) { ks[0] = 6; nk = 1; yl = "learning rate"; logy = 1; }
        for (int k = 0; k < nk; k++) {
            /* the recon panel skips the first epochs' transient so that the converged part is readable */
            int i0 = p == 0 && n > 8 ? n / 10 : 0;
            if (nd_svg_range(col + (size_t)ks[k] * n + i0, (size_t)(n - i0), 1, &a, &b)) {
                lo = fmin(lo, a); hi = fmax(hi, b);
            }
        }
        if (p == 1 || p == 2) lo = fmin(lo, 0);
        nd_svg_axes ax = nd_svg_axes_make(f, lx[p % 2], ty[p / 2], pw, ph, x0, x1, lo, hi, 0.05, logy);
        if (ramp_end > 0) nd_svg_axes_vspan(&ax, 0, ramp_end + 0.5, "#999", 0.15);
        static const char *colors[3] = {"#1f77b4", "#ff7f0e", "#d62728"};
        for (int k = 0; k < nk; k++) {
            int dashed = p == 0 && k == 2;
            nd_svg_axes_line(&ax, ep, col + (size_t)ks[k] * n, n, 1, p == 1 && k == 1 ? "#2ca02c" : colors[k],
                             dashed ? 2 : 1.6, dashed ? "5,3" : NULL);
        }
        if (best_epoch >= 0) nd_svg_axes_vline(&ax, best_epoch + 1, "#444", "2,2", p == 0 ? "best.ckpt" : NULL);
        nd_svg_axes_frame(&ax, titles[p], p >= 2 ? "epoch" : NULL, yl, 1);
        if (p == 0) {
            const char *nm[3] = {"train", "valid", "valid, smoothed"}, *dl[3] = {NULL, NULL, "5,3"};
            nd_svg_axes_legend(&ax, nm, colors, dl, 3, 0);
        } else if (p == 1) {
            const char *nm[2] = {"initial condition", "controller inputs"}, *cl[2] = {"#1f77b4", "#2ca02c"};
            nd_svg_axes_legend(&ax, nm, cl, NULL, nk, 0);
        }
    }
    /* ramp weights on a second axis of panel D: drawn as their own small axes over the same x */
    {
        double *w = malloc(sizeof(double) * (size_t)(2 * n + 2));
        if (w) {
            for (int i = 0; i < n; i++) {
                int e = (int)ep[i] - 1;
                w[i] = nd_lfads_ramp(e, cfg->kl_start_epoch, cfg->kl_increase_epoch);
                w[n + i] = nd_lfads_ramp(e, cfg->l2_start_epoch, cfg->l2_increase_epoch);
            }
            nd_svg_axes ax = nd_svg_axes_make(f, lx[1], ty[1], pw, ph, x0, x1, 0, 1.0, 0.05, 0);
            nd_svg_axes_line(&ax, ep, w, n, 1, "#9467bd", 1.6, "6,3");
            nd_svg_axes_line(&ax, ep, w + n, n, 1, "#8c564b", 1.6, "2,2");
            /* right-hand axis for the ramp weights */
            double X = ax.px + ax.pw;
            fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#222\"/>\n", X, ax.py, X,
                    ax.py + ax.ph);
            for (int k = 0; k <= 4; k++) {
                double Y = nd_svg_ax_y(&ax, k * 0.25);
                char b[16];
                snprintf(b, sizeof b, "%g", k * 0.25);
                fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#222\"/>\n", X, Y, X + 4, Y);
                nd_svg_text(f, X + 7, Y + 4, "start", 11, 0, 0, b);
            }
            nd_svg_text(f, X + 44, ax.py + ax.ph / 2, "middle", 12, 0, 90, "ramp weight (KL, L2)");
            const char *nm[3] = {"learning rate", "KL weight", "L2 weight"}, *cl[3] = {"#1f77b4", "#9467bd", "#8c564b"},
                       *dl[3] = {NULL, "6,3", "2,2"};
            nd_svg_axes_legend(&ax, nm, cl, dl, 3, 0);
            free(w);
        }
    }
    char cap[1024];
    snprintf(cap, sizeof cap, "Figure 1. Training curves from train_log.tsv (%d epochs). Shaded: the KL/L2 ramp "
             "(epochs 1-%d, weights below 1); best.ckpt is chosen only after it. Dotted line: the chosen (best) "
             "checkpoint, epoch %d, lowest smoothed validation reconstruction loss. Losses are summed per trial. "
             "Panel A's y range leaves out the first tenth of the epochs.", n, ramp_end, best_epoch + 1);
    if (best_epoch < 0)
        snprintf(cap, sizeof cap, "Figure 1. Training curves from train_log.tsv (%d epochs). Shaded: the KL/L2 ramp "
                 "(epochs 1-%d). The ramps did not finish: best.ckpt holds the last epoch.", n, ramp_end);
    rep_fig_end(f, cap);
    free(ep);
    free(col);
}

static int cmp_d(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* ---- figure 2: example trials, inferred rates above spike rasters ---- */
static void fig_trials(FILE *f, const lf_ctx *c, const lf_out *o, int k_ex) {
    const nd_lfads_data *d = c->d;
    const float *spk = nd_lfads_recon(d, ND_VALID), *rates = o->rates[1];
    if (!rates || d->split[ND_VALID].n == 0) return;
    int ids[8], nex = example_trials(c, k_ex, ids);
    const int Tr = c->Tr, Nr = c->Nr;
    const size_t TN = (size_t)Tr * Nr;
    /* colour range: the 99th percentile of the shown rates (Hz) */
    size_t m = (size_t)nex * TN;
    float *hz = nd_alloc(m * sizeof(float) + 4), *tmp = nd_alloc(m * sizeof(float) + 4);
    if (!hz || !tmp) { nd_free(hz); nd_free(tmp); return; }
    for (int k = 0; k < nex; k++)
        for (size_t i = 0; i < TN; i++) {
            /* transposed to [neuron][bin] for the image */
            size_t t = i / Nr, j = i % Nr;
            hz[(size_t)k * TN + j * Tr + t] = (float)(rates[(size_t)ids[k] * TN + i] * c->hz);
        }
    memcpy(tmp, hz, m * sizeof(float));
    double *sorted = nd_alloc(m * sizeof(double) + 8);
    double vmax = 1;
    if (sorted) {
        for (size_t i = 0; i < m; i++) sorted[i] = tmp[i];
        qsort(sorted, m, sizeof(double), cmp_d);
        vmax = sorted[(size_t)(0.99 * (double)(m - 1))];
        if (!(vmax > 0)) vmax = sorted[m - 1] > 0 ? sorted[m - 1] : 1;
    }
    nd_free(sorted);
    nd_free(tmp);
    const double colw = nex == 1 ? 600 : (nex == 2 ? 380 : (nex == 3 ? 250 : 185)), gap = 36, lx = 80;
    const double hh = Nr > 60 ? 240 : (Nr > 30 ? 200 : 150);
    const int W = (int)(lx + nex * colw + (nex - 1) * gap + 110), H = (int)(2 * hh + 150);
    rep_fig_begin(f, W, H);
    const double t1 = Tr * c->bin_ms;
    for (int k = 0; k < nex; k++) {
        double px = lx + k * (colw + gap);
        char title[128];
        if (c->cond[1])
            snprintf(title, sizeof title, "valid trial %d (condition %d)", ids[k], c->cond[1][ids[k]]);
        else
            snprintf(title, sizeof title, "valid trial %d", ids[k]);
        nd_svg_axes img = nd_svg_axes_make(f, px, 50, colw, hh, 0, t1, 0, 1, 0, 0);
        img.no_yticks = 1;
        nd_svg_axes_image(&img, hz + (size_t)k * TN, Nr, Tr, 0, vmax);
        nd_svg_axes_frame(&img, NULL, NULL, NULL, 0);
        nd_svg_text(f, px, 40, "start", 13, 1, 0, title);
        if (k == 0) {
            nd_svg_text(f, px - 46, 50 + hh / 2, "middle", 12, 0, -90, "inferred rate: neuron");
        }
        /* neuron tick labels (1 and Nr; N + 1 = first held-out) on the image */
        char b[32];
        snprintf(b, sizeof b, "1");
        nd_svg_text(f, px - 7, 50 + 0.5 * hh / Nr + 4, "end", 11, 0, 0, b);
        snprintf(b, sizeof b, "%d", Nr);
        nd_svg_text(f, px - 7, 50 + hh - 0.5 * hh / Nr + 4, "end", 11, 0, 0, b);
        /* raster */
        double ry = 50 + hh + 22;
        nd_svg_axes ra = nd_svg_axes_make(f, px, ry, colw, hh, 0, t1, 0, 1, 0, 0);
        nd_svg_axes_raster(&ra, spk + (size_t)ids[k] * TN, Tr, Nr, 0, c->bin_ms, c->N, "#d62728");
        if (c->Tr > c->T) {
            nd_svg_axes_vline(&ra, c->T * c->bin_ms, "#1f77b4", "4,3", "forward prediction");
            nd_svg_axes_vline(&img, c->T * c->bin_ms, "#ffffff", "4,3", NULL);
        }
        if (c->Nr > c->N) { /* held-out neurons: a bracket on the right of the raster */
            double yA = ry + hh * c->N / Nr, yB = ry + hh;
            fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#d62728\" stroke-width=\"2\"/>\n",
                    px + colw + 4, yA, px + colw + 4, yB);
            fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#d62728\" stroke-width=\"2\"/>\n",
                    px - 4, yA, px, yA);
        }
        nd_svg_axes xa = nd_svg_axes_make(f, px, ry, colw, hh, 0, t1, 0, 1, 0, 0);
        xa.no_yticks = 1;
        fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" stroke=\"#bbb\"/>\n", px,
                ry, colw, hh);
        nd_svg_axes_frame(&xa, NULL, "time (ms)", NULL, 1);
        if (k == 0) nd_svg_text(f, px - 46, ry + hh / 2, "middle", 12, 0, -90, "spikes: neuron");
        snprintf(b, sizeof b, "1");
        nd_svg_text(f, px - 7, ry + 0.5 * hh / Nr + 4, "end", 11, 0, 0, b);
        snprintf(b, sizeof b, "%d", Nr);
        nd_svg_text(f, px - 7, ry + hh - 0.5 * hh / Nr + 4, "end", 11, 0, 0, b);
        if (c->Nr > c->N && k == nex - 1) {
            fprintf(f, "<g fill=\"#d62728\">");
            nd_svg_text(f, px + colw + 10, ry + hh * (c->N + Nr) / (2.0 * Nr) + 4, "start", 11, 0, 0, "held-out");
            fputs("</g>\n", f);
        }
    }
    nd_svg_colorbar(f, lx + nex * colw + (nex - 1) * gap + 14, 50, 14, hh, 0, vmax, "rate (spikes/s)");
    char cap[1024];
    snprintf(cap, sizeof cap, "Figure 2. Example validation trials. Top: inferred firing rates (spikes/s; colour "
             "scale clipped at the 99th percentile of the shown rates, %.3g spikes/s). Bottom: the recorded spikes "
             "of the same neurons in the same order, one tick per %g-ms bin with spikes.%s%s", vmax, c->bin_ms,
             c->Nr > c->N ? " Red: held-out neurons (not seen by the encoder; their rates are predicted from the "
                            "factors)." : "",
             c->Tr > c->T ? " Dashed: start of the forward-prediction bins." : "");
    rep_fig_end(f, cap);
    nd_free(hz);
}

/* condition-averaged [nc][T][F] of x [n][T][F] over trials with cond == ids[c] (all trials when cond is NULL) */
static void cond_mean(const float *x, const int *cond, int n, int T, int F, const int *ids, int nc, double *out) {
    const size_t TF = (size_t)T * F;
    memset(out, 0, sizeof(double) * (size_t)nc * TF);
    for (int c = 0; c < nc; c++) {
        int cnt = 0;
        for (int i = 0; i < n; i++) {
            if (cond && cond[i] != ids[c]) continue;
            cnt++;
            for (size_t k = 0; k < TF; k++) out[(size_t)c * TF + k] += x[(size_t)i * TF + k];
        }
        if (cnt)
            for (size_t k = 0; k < TF; k++) out[(size_t)c * TF + k] /= cnt;
    }
}

/* ---- figure 3: factors on their top principal components ---- */
static void fig_factors(FILE *f, const lf_ctx *c, const lf_out *o, nd_error *err) {
    if (!o->factors) return;
    const int n = (int)o->fdims[0], Tf = (int)o->fdims[1], F = (int)o->fdims[2];
    const int T = Tf < c->Tr ? Tf : c->Tr;
    int ids[10], nc = top_conditions(c, ids, 10), by_trial = nc == 0;
    if (by_trial) { nc = n < 10 ? n : 10; for (int k = 0; k < nc; k++) ids[k] = k; }
    const size_t TF = (size_t)Tf * F;
    double *X = nd_alloc(sizeof(double) * (size_t)n * TF + 8), *avg = nd_alloc(sizeof(double) * (size_t)nc * TF + 8);
    nd_pca_result pca;
    memset(&pca, 0, sizeof pca);
    if (!X || !avg) goto done;
    for (size_t i = 0; i < (size_t)n * TF; i++) X[i] = o->factors[i];
    if (nd_pca(X, n * Tf, F, 3, &pca, err) != ND_OK || pca.k < 2) goto done;
    if (by_trial)
        for (int k = 0; k < nc; k++) memcpy(avg + (size_t)k * TF, X + (size_t)k * TF, TF * sizeof(double));
    else {
        float *fx = nd_alloc(sizeof(float) * (size_t)n * TF + 8);
        if (!fx) goto done;
        memcpy(fx, o->factors, sizeof(float) * (size_t)n * TF);
        cond_mean(fx, c->cond[1], n, Tf, F, ids, nc, avg);
        nd_free(fx);
    }
    double *s3 = nd_alloc(sizeof(double) * (size_t)nc * Tf * pca.k + 8);
    if (!s3) goto done;
    nd_pca_transform(&pca, avg, nc * Tf, s3);
    const int K = pca.k;
    const int W = 940, H = 350;
    rep_fig_begin(f, W, H);
    double *tx = nd_alloc(sizeof(double) * (size_t)Tf + 8);
    for (int t = 0; t < Tf; t++) tx[t] = (t + 0.5) * c->bin_ms;
    const double pw = 220, ph = 210, py = 50;
    const double lxs[3] = {80, 380, 680};
    for (int p = 0; p < 3; p++) {
        int ax_i = p == 0 ? 0 : 1, ay_i = p == 0 ? 1 : 2;
        char xl[64], yl[64], title[64];
        if (p < 2 && ay_i >= K) continue;
        double xlo, xhi, ylo, yhi;
        if (p < 2) {
            nd_svg_range(s3 + ax_i, (size_t)nc * Tf, (size_t)K, &xlo, &xhi);
            nd_svg_range(s3 + ay_i, (size_t)nc * Tf, (size_t)K, &ylo, &yhi);
            double px0 = xlo, px1 = xhi, pad = 0.05 * (xhi - xlo);
            nd_svg_axes a = nd_svg_axes_make(f, lxs[p], py, pw, ph, px0 - pad, px1 + pad, ylo, yhi, 0.05, 0);
            for (int k = 0; k < nc; k++) {
                double *xs = nd_alloc(sizeof(double) * (size_t)T + 8), *ys = nd_alloc(sizeof(double) * (size_t)T + 8);
                if (!xs || !ys) { nd_free(xs); nd_free(ys); continue; }
                for (int t = 0; t < T; t++) {
                    xs[t] = s3[((size_t)k * Tf + t) * K + ax_i];
                    ys[t] = s3[((size_t)k * Tf + t) * K + ay_i];
                }
                nd_svg_axes_line(&a, xs, ys, T, 1, nd_svg_color(k), 1.6, NULL);
                nd_svg_axes_points(&a, xs, ys, 1, nd_svg_color(k), 3.5, 1);
                nd_free(xs);
                nd_free(ys);
            }
            snprintf(xl, sizeof xl, "PC%d (%.0f%% var.)", ax_i + 1, 100 * pca.explained_variance_ratio[ax_i]);
            snprintf(yl, sizeof yl, "PC%d (%.0f%% var.)", ay_i + 1, 100 * pca.explained_variance_ratio[ay_i]);
            snprintf(title, sizeof title, "%s  PC%d vs PC%d", p == 0 ? "A" : "B", ay_i + 1, ax_i + 1);
            nd_svg_axes_frame(&a, title, xl, yl, 1);
        } else {
            nd_svg_range(s3, (size_t)nc * Tf, (size_t)K, &ylo, &yhi);
            nd_svg_axes a = nd_svg_axes_make(f, lxs[p], py, pw, ph, 0, Tf * c->bin_ms, ylo, yhi, 0.05, 0);
            for (int k = 0; k < nc; k++)
                nd_svg_axes_line(&a, tx, s3 + (size_t)k * Tf * K, Tf, (size_t)K, nd_svg_color(k), 1.6, NULL);
            if (Tf > c->T) nd_svg_axes_vline(&a, c->T * c->bin_ms, "#444", "4,3", NULL);
            nd_svg_axes_frame(&a, "C  PC1 over time", "time (ms)", "PC1", 1);
        }
    }
    /* legend of the conditions (or trials) to the right of the panels */
    {
        char cap[1024];
        const char *nm[10], *cl[10];
        char buf[10][32];
        for (int k = 0; k < nc; k++) {
            snprintf(buf[k], sizeof buf[k], by_trial ? "trial %d" : "cond. %d", ids[k]);
            nm[k] = buf[k];
            cl[k] = nd_svg_color(k);
        }
        (void)nm; (void)cl;
        double y = 334;
        double x = 80;
        for (int k = 0; k < nc; k++) {
            double xx = x + (k % 10) * 86;
            fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" stroke-width=\"2.5\"/>\n", xx,
                    y, xx + 18, y, cl[k]);
            nd_svg_text(f, xx + 22, y + 4, "start", 11, 0, 0, nm[k]);
        }
        nd_free(tx);
        nd_svg_end(f);
        snprintf(cap, sizeof cap, "Figure 3. Latent factors (%d) of the validation trials projected on their top "
                 "principal components (PCA over all valid trials and bins; PC1-3 explain %.0f%%, %.0f%%, %.0f%% of "
                 "the variance). %s Dots: trial start.", F, 100 * pca.explained_variance_ratio[0],
                 100 * pca.explained_variance_ratio[1], K > 2 ? 100 * pca.explained_variance_ratio[2] : 0.0,
                 by_trial ? "The data have no condition ids: single trials are shown." :
                 "Lines: condition averages (up to 10 conditions, evenly spaced over the condition ids).");
        fputs("<figcaption>", f);
        rep_esc(f, cap);
        fputs("</figcaption>\n</figure>\n", f);
    }
    nd_free(s3);
done:
    nd_pca_free(&pca);
    nd_free(X);
    nd_free(avg);
}

/* ---- figure 4: inferred inputs ---- */
static void fig_inputs(FILE *f, const lf_ctx *c, const lf_out *o, int k_ex) {
    if (!c->cfg || c->cfg->co_dim <= 0) {
        rep_note(f, "The controller is off (co_dim = 0): this model infers no inputs.");
        return;
    }
    if (!o->co) {
        rep_note(f, "The outputs hold no valid_co_means: the inferred inputs cannot be shown.");
        return;
    }
    const int n = (int)o->codims[0], Tc = (int)o->codims[1], C = (int)o->codims[2];
    int show = C < 4 ? C : 4, ex[8];
    if (n != c->d->split[ND_VALID].n) return;
    k_ex = example_trials(c, k_ex, ex);
    const int W = 940, H = 40 + show * 150 + 40;
    rep_fig_begin(f, W, H);
    double *tx = nd_alloc(sizeof(double) * (size_t)Tc + 8);
    double *y = nd_alloc(sizeof(double) * (size_t)Tc + 8);
    if (!tx || !y) { nd_free(tx); nd_free(y); nd_svg_end(f); fputs("</figure>\n", f); return; }
    for (int t = 0; t < Tc; t++) tx[t] = (t + 0.5) * c->bin_ms;
    for (int j = 0; j < show; j++) {
        double lo = INFINITY, hi = -INFINITY;
        for (int i = 0; i < k_ex; i++)
            for (int t = 0; t < Tc; t++) {
                double v = o->co[((size_t)ex[i] * Tc + t) * C + j];
                lo = fmin(lo, v); hi = fmax(hi, v);
            }
        nd_svg_axes a = nd_svg_axes_make(f, 80, 40 + j * 150, 660, 110, 0, Tc * c->bin_ms, lo, hi, 0.05, 0);
        for (int i = 0; i < k_ex; i++) {
            for (int t = 0; t < Tc; t++) y[t] = o->co[((size_t)ex[i] * Tc + t) * C + j];
            nd_svg_axes_line(&a, tx, y, Tc, 1, nd_svg_color(i), 1.5, NULL);
        }
        char title[64], yl[32];
        snprintf(title, sizeof title, "input %d", j + 1);
        snprintf(yl, sizeof yl, "u%d (a.u.)", j + 1);
        nd_svg_axes_frame(&a, title, j == show - 1 ? "time (ms)" : NULL, yl, j == show - 1);
        if (j == 0) {
            const char *nm[6], *cl[6];
            char b[6][48];
            for (int i = 0; i < k_ex; i++) {
                if (c->cond[1]) snprintf(b[i], sizeof b[i], "trial %d (cond. %d)", ex[i], c->cond[1][ex[i]]);
                else snprintf(b[i], sizeof b[i], "valid trial %d", ex[i]);
                nm[i] = b[i];
                cl[i] = nd_svg_color(i);
            }
            nd_svg_axes legend_ax = a;
            legend_ax.pw += 190;
            nd_svg_axes_legend(&legend_ax, nm, cl, NULL, k_ex, 0);
        }
    }
    char cap[512];
    snprintf(cap, sizeof cap, "Figure 4. Inferred inputs: posterior means of the controller outputs (%d input%s%s) "
             "over time for the %d example validation trials of Figure 2.", C, C == 1 ? "" : "s",
             C > show ? ", first 4 shown" : "", k_ex);
    rep_fig_end(f, cap);
    nd_free(tx);
    nd_free(y);
}

/* ---- figure 5: PSTHs, data vs model ---- */
static void fig_psth(FILE *f, const lf_ctx *c, const lf_out *o, double kernel_ms) {
    const nd_lfads_data *d = c->d;
    const int Tr = c->Tr, Nr = c->Nr;
    const size_t TN = (size_t)Tr * Nr;
    int ids[4], nc = top_conditions(c, ids, 4), all = nc == 0;
    if (all) { nc = 1; ids[0] = 0; }
    /* trials: train + valid (all trials with model rates) */
    const int nt = o->rates[0] ? d->split[ND_TRAIN].n : 0, nv = d->split[ND_VALID].n, n = nt + nv;
    float *spk = nd_alloc(sizeof(float) * (size_t)n * TN + 8), *rt = nd_alloc(sizeof(float) * (size_t)n * TN + 8);
    int *cond = calloc((size_t)n + 1, sizeof(int));
    double *ps = nd_alloc(sizeof(double) * (size_t)nc * TN * 2 + 8);
    float *sm = nd_alloc(sizeof(float) * (size_t)n * TN + 8);
    if (!spk || !rt || !cond || !ps || !sm) goto done;
    if (nt) {
        memcpy(spk, nd_lfads_recon(d, ND_TRAIN), sizeof(float) * (size_t)nt * TN);
        memcpy(rt, o->rates[0], sizeof(float) * (size_t)nt * TN);
    }
    memcpy(spk + (size_t)nt * TN, nd_lfads_recon(d, ND_VALID), sizeof(float) * (size_t)nv * TN);
    memcpy(rt + (size_t)nt * TN, o->rates[1], sizeof(float) * (size_t)nv * TN);
    for (int i = 0; i < n; i++)
        cond[i] = all ? 0 : (i < nt ? (c->cond[0] ? c->cond[0][i] : -1) : c->cond[1][i - nt]);
    nd_smooth_gaussian(sm, spk, n, Tr, Nr, kernel_ms / c->bin_ms);
    cond_mean(sm, cond, n, Tr, Nr, ids, nc, ps);
    cond_mean(rt, cond, n, Tr, Nr, ids, nc, ps + (size_t)nc * TN);
    /* neurons: the 4 held-in with the highest mean rate, and up to 2 held-out */
    int nb[6], nn = 0;
    double *mr = nd_alloc(sizeof(double) * (size_t)Nr + 8);
    if (!mr) goto done;
    for (int j = 0; j < Nr; j++) {
        mr[j] = 0;
        for (size_t i = 0; i < (size_t)n * Tr; i++) mr[j] += spk[i * Nr + j];
    }
    int n_in = c->Nr > c->N ? 4 : 6;
    for (int pass = 0; pass < 2; pass++) {
        int j0 = pass ? c->N : 0, j1 = pass ? Nr : c->N, want = pass ? 6 - nn : n_in;
        for (int k = 0; k < want; k++) {
            int best = -1;
            for (int j = j0; j < j1; j++) {
                int used = 0;
                for (int q = 0; q < nn; q++) used |= nb[q] == j;
                if (!used && (best < 0 || mr[j] > mr[best])) best = j;
            }
            if (best < 0) break;
            nb[nn++] = best;
        }
    }
    nd_free(mr);
    const int W = 940, rows = (nn + 2) / 3, H = 40 + rows * 200 + 40;
    rep_fig_begin(f, W, H);
    double *tx = nd_alloc(sizeof(double) * (size_t)Tr + 8), *y = nd_alloc(sizeof(double) * (size_t)Tr + 8);
    if (!tx || !y) { nd_free(tx); nd_free(y); nd_svg_end(f); fputs("</figure>\n", f); goto done; }
    for (int t = 0; t < Tr; t++) tx[t] = (t + 0.5) * c->bin_ms;
    for (int p = 0; p < nn; p++) {
        int j = nb[p];
        double lo = 0, hi = 0;
        for (int s = 0; s < 2; s++)
            for (int k = 0; k < nc; k++)
                for (int t = 0; t < Tr; t++) hi = fmax(hi, ps[(size_t)s * nc * TN + (size_t)k * TN + (size_t)t * Nr + j] * c->hz);
        nd_svg_axes a = nd_svg_axes_make(f, 80 + (p % 3) * 300, 40 + (p / 3) * 200, 230, 130, 0, Tr * c->bin_ms, lo,
                                         hi > 0 ? hi * 1.1 : 1, 0, 0);
        for (int k = 0; k < nc; k++)
            for (int s = 0; s < 2; s++) {
                for (int t = 0; t < Tr; t++) y[t] = ps[(size_t)s * nc * TN + (size_t)k * TN + (size_t)t * Nr + j] * c->hz;
                nd_svg_axes_line(&a, tx, y, Tr, 1, nd_svg_color(k), s ? 2 : 1.3, s ? NULL : "4,3");
            }
        if (c->Tr > c->T) nd_svg_axes_vline(&a, c->T * c->bin_ms, "#888", "2,2", NULL);
        char title[64];
        snprintf(title, sizeof title, "neuron %d%s", j + 1, j >= c->N ? " (held-out)" : "");
        nd_svg_axes_frame(&a, title, p / 3 == rows - 1 ? "time (ms)" : NULL, p % 3 == 0 ? "rate (spikes/s)" : NULL, 1);
    }
    /* legend: line styles and conditions */
    {
        double ly = 40 + rows * 200 + 10;
        fprintf(f, "<line x1=\"80\" y1=\"%.1f\" x2=\"104\" y2=\"%.1f\" stroke=\"#222\" stroke-width=\"1.3\" "
                   "stroke-dasharray=\"4,3\"/>\n", ly, ly);
        nd_svg_text(f, 108, ly + 4, "start", 11, 0, 0, "data (smoothed spikes)");
        fprintf(f, "<line x1=\"250\" y1=\"%.1f\" x2=\"274\" y2=\"%.1f\" stroke=\"#222\" stroke-width=\"2\"/>\n", ly, ly);
        nd_svg_text(f, 278, ly + 4, "start", 11, 0, 0, "model (mean inferred rate)");
        for (int k = 0; k < nc && !all; k++) {
            double xx = 460 + k * 100;
            char b[32];
            snprintf(b, sizeof b, "condition %d", ids[k]);
            fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" stroke-width=\"2.5\"/>\n",
                    xx, ly, xx + 18, ly, nd_svg_color(k));
            nd_svg_text(f, xx + 22, ly + 4, "start", 11, 0, 0, b);
        }
    }
    char cap[768];
    snprintf(cap, sizeof cap, "Figure 5. Peri-stimulus time histograms, data vs model, over the train and valid "
             "trials (%d). Dashed: spikes smoothed with a Gaussian of SD %g ms, averaged per condition; solid: the "
             "mean inferred rate. %s Neurons: the %s highest mean rates%s.", n, kernel_ms,
             all ? "The data have no condition ids: all trials are averaged." :
                   "Colours: up to 4 conditions, evenly spaced over the condition ids.",
             c->Nr > c->N ? "held-in neurons with the" : "neurons with the",
             c->Nr > c->N ? ", and the held-out neurons with the highest rates" : "");
    rep_fig_end(f, cap);
    nd_free(tx);
    nd_free(y);
done:
    nd_free(spk);
    nd_free(rt);
    free(cond);
    nd_free(ps);
    nd_free(sm);
}

/* ---- the eval table ---- */
static void eval_row(FILE *f, const char *name, const nd_metrics *m, const char *err) {
    fputs("<tr><td>", f);
    rep_esc(f, name);
    fputs("</td>", f);
    if (err) {
        fputs("<td colspan=\"6\">", f);
        rep_esc(f, err);
        fputs("</td></tr>\n", f);
        return;
    }
    const double v[5] = {m->co_bps, m->fp_bps, m->vel_r2, m->psth_r2, m->rate_r2};
    const int bit[5] = {ND_METRIC_CO_BPS, ND_METRIC_FP_BPS, ND_METRIC_VEL_R2, ND_METRIC_PSTH_R2, ND_METRIC_RATE_R2};
    for (int k = 0; k < 5; k++) {
        if (m->computed & bit[k]) fprintf(f, "<td class=\"num\">%.4f</td>", v[k]);
        else fputs("<td class=\"num\">-</td>", f);
    }
    fprintf(f, "<td class=\"num\">%d</td></tr>\n", m->eval_trials);
}

/* eval trials as neurodyn eval picks them by default: test when the data hold its targets and the outputs its
 * rates, else valid */
static nd_status eval_of(nd_context *ctx, const nd_data *data, const lf_out *o, nd_metrics *m, int *used_test) {
    const nd_lfads_data *d = api_lfd(data);
    int test = d->split[ND_TEST].n > 0 && d->split[ND_TEST].recon && o->rates[2];
    *used_test = test;
    return api_eval_rates(ctx, data, o->rates[0], test ? NULL : o->rates[1], test ? o->rates[2] : NULL, NULL, m);
}

/* the baseline files are read first: one that is not of these data stops the report */
static nd_status eval_table(FILE *f, nd_context *ctx, const nd_data *data, const lf_out *o, const char *model_name,
                            const nd_report_options *opts) {
    const nd_lfads_data *d = api_lfd(data);
    for (int b = 0; b < opts->n_baselines; b++) {
        lf_out bo;
        if (lf_out_read(opts->baselines[b], d, &bo, 1, &ctx->err)) return api_end(ctx, ctx->err.code);
        lf_out_free(&bo);
    }
    fputs("<table>\n<tr><th>model</th><th>co-bps</th><th>fp-bps</th><th>vel R<sup>2</sup></th>"
          "<th>PSTH R<sup>2</sup></th><th>rate R<sup>2</sup> vs truth</th><th>eval trials</th></tr>\n", f);
    nd_metrics m;
    int used_test = 0;
    if (eval_of(ctx, data, o, &m, &used_test)) eval_row(f, model_name, NULL, nd_errmsg(ctx));
    else eval_row(f, model_name, &m, NULL);
    for (int b = 0; b < opts->n_baselines; b++) {
        lf_out bo;
        nd_error err;
        const char *path = opts->baselines[b];
        char name[512];
        const char *base = strrchr(path, '/');
        snprintf(name, sizeof name, "baseline: %s", base ? base + 1 : path);
        if (lf_out_read(path, d, &bo, 1, &err)) return api_fail(ctx, err.code, "%s", err.msg);
        int ut = 0;
        if (eval_of(ctx, data, &bo, &m, &ut)) eval_row(f, name, NULL, nd_errmsg(ctx));
        else eval_row(f, name, &m, NULL);
        lf_out_free(&bo);
    }
    fputs("</table>\n", f);
    char note[768];
    snprintf(note, sizeof note, "Eval trials: the %s split (%s), as neurodyn eval picks them by default. co-bps: bits "
             "per spike of the held-out neurons; fp-bps: of the forward-prediction bins; vel R2: ridge decoding of "
             "the behaviour; PSTH R2: condition-averaged rates vs smoothed PSTHs (70 ms); rate R2: vs the true rates "
             "(simulated data). '-': the data do not support the metric (definitions: README, Scores).",
             used_test ? "test" : "valid",
             used_test ? "the data hold the test targets" : "the data hold no test targets, or the outputs no test "
                                                            "rates");
    rep_note(f, note);
    return ND_OK;
}

/* ---- jPCA and fixed points (files of neurodyn jpca --out / fixedpoints --out) ---- */
static void fig_jpca(FILE *f, const char *path, double bin_ms, nd_error *err, nd_status *st) {
    double *proj = NULL;
    int rank = 0;
    size_t dims[8] = {0};
    if ((*st = rep_read_double(path, "proj", &proj, &rank, dims, err))) return;
    if (rank != 3 || dims[2] < 2) {
        nd_free(proj);
        *st = nd_fail(err, ND_ERR_FORMAT, "%s: dataset 'proj': expected [conditions x bins x dims >= 2] (neurodyn "
                      "jpca --out)", path);
        return;
    }
    const int C = (int)dims[0], T = (int)dims[1], K = (int)dims[2];
    double r2s = NAN, r2b = NAN, ts = 0;
    nd_h5_read_attr_double(path, "/", "r2_skew", &r2s, NULL);
    nd_h5_read_attr_double(path, "/", "r2_best", &r2b, NULL);
    nd_h5_read_attr_double(path, "/", "t_start", &ts, NULL);
    double *om = NULL;
    int r1 = 0;
    size_t d1[8] = {0};
    double omega = NAN;
    if (rep_read_double(path, "omega", &om, &r1, d1, NULL) == ND_OK && d1[0] > 0) omega = om[0];
    nd_free(om);
    double xlo, xhi, ylo, yhi;
    nd_svg_range(proj, (size_t)C * T, (size_t)K, &xlo, &xhi);
    nd_svg_range(proj + 1, (size_t)C * T, (size_t)K, &ylo, &yhi);
    double span = fmax(xhi - xlo, yhi - ylo), cx = (xlo + xhi) / 2, cy = (ylo + yhi) / 2;
    rep_fig_begin(f, 500, 400);
    nd_svg_axes a = nd_svg_axes_make(f, 80, 40, 300, 300, cx - 0.55 * span, cx + 0.55 * span, cy - 0.55 * span,
                                     cy + 0.55 * span, 0, 0);
    double *xs = nd_alloc(sizeof(double) * (size_t)T + 8), *ys = nd_alloc(sizeof(double) * (size_t)T + 8);
    for (int c = 0; xs && ys && c < C; c++) {
        for (int t = 0; t < T; t++) {
            xs[t] = proj[((size_t)c * T + t) * K];
            ys[t] = proj[((size_t)c * T + t) * K + 1];
        }
        nd_svg_axes_line(&a, xs, ys, T, 1, nd_svg_color(c), 1.3, NULL);
        nd_svg_axes_points(&a, xs, ys, 1, nd_svg_color(c), 3, 1);
        nd_svg_axes_points(&a, xs + T - 1, ys + T - 1, 1, nd_svg_color(c), 3, 0);
    }
    nd_free(xs);
    nd_free(ys);
    nd_svg_axes_frame(&a, "jPCA plane 1", "jPC1 (a.u.)", "jPC2 (a.u.)", 1);
    char cap[512];
    snprintf(cap, sizeof cap, "Figure 6. Condition-averaged factors (%d conditions) in the first jPCA plane (from "
             "%s). Filled dots: start of the analysis window; open: its end. Skew-symmetric fit R2 %.3f vs best "
             "linear fit %.3f%s%.3g%s.", C, path, r2s, r2b, isfinite(omega) ? "; rotation frequency of plane 1: " : "",
             isfinite(omega) ? omega : 0.0, isfinite(omega) ? " rad/bin" : "");
    (void)bin_ms;
    rep_fig_end(f, cap);
    nd_free(proj);
}

static void fig_fixedpoints(FILE *f, const char *path, const lf_out *o, nd_error *err, nd_status *st) {
    double *x = NULL, *er = NULL, *ei = NULL;
    int *stable = NULL;
    int rank = 0;
    size_t dx[8] = {0}, de[8] = {0}, ds[8] = {0};
    double nfp = 0;
    nd_h5_read_attr_double(path, "/", "n_fixed_points", &nfp, NULL);
    if (nfp <= 0) {
        char note[600];
        snprintf(note, sizeof note, "Fixed points (%s): none found.", path);
        rep_note(f, note);
        return;
    }
    if ((*st = rep_read_double(path, "x", &x, &rank, dx, err)) ||
        (*st = rep_read_double(path, "eig_re", &er, &rank, de, err)) ||
        (*st = rep_read_double(path, "eig_im", &ei, &rank, de, err)))
        goto done;
    nd_h5_read_int(path, "stable", &stable, &rank, ds, NULL);
    const int nf = (int)dx[0], G = (int)dx[1];
    rep_fig_begin(f, 940, 400);
    /* A: eigenvalues of the Jacobians in the complex plane, unit circle */
    nd_svg_axes a = nd_svg_axes_make(f, 80, 40, 300, 300, -1.25, 1.25, -1.25, 1.25, 0, 0);
    fprintf(f, "<ellipse cx=\"%.1f\" cy=\"%.1f\" rx=\"%.1f\" ry=\"%.1f\" fill=\"none\" stroke=\"#888\" "
               "stroke-dasharray=\"3,3\"/>\n", nd_svg_ax_x(&a, 0), nd_svg_ax_y(&a, 0),
            nd_svg_ax_x(&a, 1) - nd_svg_ax_x(&a, 0), nd_svg_ax_y(&a, 0) - nd_svg_ax_y(&a, 1));
    for (int k = 0; k < nf; k++) nd_svg_axes_points(&a, er + (size_t)k * G, ei + (size_t)k * G, G, nd_svg_color(k), 2.5, 1);
    nd_svg_axes_frame(&a, "A  Jacobian eigenvalues", "real part", "imaginary part", 1);
    /* B: fixed points on the top 2 PCs of the generator states */
    if (o->gen && (int)o->gdims[2] == G) {
        const int n = (int)o->gdims[0], Tg = (int)o->gdims[1];
        double *X = nd_alloc(sizeof(double) * (size_t)n * Tg * G + 8);
        nd_pca_result pca;
        memset(&pca, 0, sizeof pca);
        nd_error e2;
        if (X) {
            for (size_t i = 0; i < (size_t)n * Tg * G; i++) X[i] = o->gen[i];
            if (nd_pca(X, n * Tg, G, 2, &pca, &e2) == ND_OK && pca.k == 2) {
                int ntr = n < 20 ? n : 20;
                double *s = nd_alloc(sizeof(double) * (size_t)ntr * Tg * 2 + 8), *fs = nd_alloc(sizeof(double) * nf * 2 + 8);
                if (s && fs) {
                    nd_pca_transform(&pca, X, ntr * Tg, s);
                    nd_pca_transform(&pca, x, nf, fs);
                    double xlo, xhi, ylo, yhi, a0, a1, b0, b1;
                    nd_svg_range(s, (size_t)ntr * Tg, 2, &xlo, &xhi);
                    nd_svg_range(s + 1, (size_t)ntr * Tg, 2, &ylo, &yhi);
                    nd_svg_range(fs, (size_t)nf, 2, &a0, &a1);
                    nd_svg_range(fs + 1, (size_t)nf, 2, &b0, &b1);
                    xlo = fmin(xlo, a0); xhi = fmax(xhi, a1); ylo = fmin(ylo, b0); yhi = fmax(yhi, b1);
                    double pad = 0.05 * (xhi - xlo);
                    nd_svg_axes b = nd_svg_axes_make(f, 560, 40, 300, 300, xlo - pad, xhi + pad, ylo, yhi, 0.05, 0);
                    double *xs = nd_alloc(sizeof(double) * (size_t)Tg + 8), *ys = nd_alloc(sizeof(double) * (size_t)Tg + 8);
                    for (int i = 0; xs && ys && i < ntr; i++) {
                        for (int t = 0; t < Tg; t++) {
                            xs[t] = s[((size_t)i * Tg + t) * 2];
                            ys[t] = s[((size_t)i * Tg + t) * 2 + 1];
                        }
                        nd_svg_axes_line(&b, xs, ys, Tg, 1, "#bbbbbb", 1, NULL);
                    }
                    nd_free(xs);
                    nd_free(ys);
                    for (int k = 0; k < nf; k++) {
                        int stab = stable ? stable[k] : 0;
                        nd_svg_axes_points(&b, fs + 2 * k, fs + 2 * k + 1, 1, nd_svg_color(k), 5, stab);
                    }
                    char xl[48], yl[48];
                    snprintf(xl, sizeof xl, "PC1 (%.0f%% var.)", 100 * pca.explained_variance_ratio[0]);
                    snprintf(yl, sizeof yl, "PC2 (%.0f%% var.)", 100 * pca.explained_variance_ratio[1]);
                    nd_svg_axes_frame(&b, "B  Fixed points and generator states", xl, yl, 1);
                }
                nd_free(s);
                nd_free(fs);
            }
        }
        nd_pca_free(&pca);
        nd_free(X);
    }
    char cap[768];
    snprintf(cap, sizeof cap, "Figure 7. Fixed points of the trained generator (%d, from %s). A: eigenvalues of the "
             "generator's Jacobian at each fixed point (one colour per fixed point); dashed: the unit circle (inside: "
             "decaying modes of the discrete-time map). B: the fixed points (filled: stable; open: unstable) on the "
             "top two principal components of the validation trials' generator states (grey: 20 trials).", nf, path);
    rep_fig_end(f, cap);
done:
    nd_free(x);
    nd_free(er);
    nd_free(ei);
    nd_free(stable);
}

static nd_status report_lfads(nd_context *ctx, const char *run, const nd_report_options *opts, FILE *f) {
    nd_error *err = &ctx->err;
    if (!opts || !opts->data) return api_fail(ctx, ND_ERR_ARG, "%s: an LFADS run needs its data file (--data)", run);
    nd_model *model = NULL;
    nd_data *data = NULL;
    nd_outputs *out = NULL;
    lf_out lo;
    memset(&lo, 0, sizeof lo);
    rep_table log;
    memset(&log, 0, sizeof log);
    nd_status st;
    if ((st = nd_model_open(ctx, run, &model))) return st;
    if ((st = nd_model_open_data(ctx, model, opts->data, &data))) goto done;
    const nd_lfads_data *d = api_lfd(data);
    if (model->m.S > 1) {
        st = api_fail(ctx, ND_ERR_ARG, "%s: a model stitched across %d sessions: the report covers one-session runs",
                      run, model->m.S);
        goto done;
    }
    if ((st = nd_lfads_check_data(model->ckpt, 0, 1, d, 0, NULL, err))) goto done;
    char path[4200];
    snprintf(path, sizeof path, "%s/train_log.tsv", run);
    if ((st = rep_table_read(path, &log, err))) goto done;
    nd_train_state ts;
    int best_epoch = -1;
    snprintf(path, sizeof path, "%s/best.ckpt", run);
    if (rep_file_exists(run, "best.ckpt") && nd_lfads_ckpt_state(path, &ts, NULL) == ND_OK) best_epoch = (int)ts.best_epoch;
    /* outputs */
    if (opts->outputs) {
        if ((st = lf_out_read(opts->outputs, d, &lo, 1, err))) goto done;
    } else {
        if (ctx->progress)
            fprintf(stderr, "report: inferring posterior means of %d train + %d valid%s trials\n",
                    d->split[ND_TRAIN].n, d->split[ND_VALID].n, d->split[ND_TEST].n ? " + test" : "");
        nd_infer_options io;
        nd_infer_options_default(&io);
        io.samples = 0;
        int prog = ctx->progress;
        ctx->progress = 0;
        st = nd_infer(ctx, model, data, &io, &out);
        ctx->progress = prog;
        if (st) goto done;
        lf_out_from(out, &lo);
    }
    lf_ctx c;
    memset(&c, 0, sizeof c);
    c.d = d;
    for (int s = 0; s < ND_NSPLITS; s++) c.cond[s] = d->split[s].cond;
    c.T = d->T, c.N = d->N, c.Tr = d->Tr > 0 ? d->Tr : d->T, c.Nr = d->Nr > 0 ? d->Nr : d->N;
    c.bin_ms = 0;
    if (nd_h5_read_attr_double(d->path, "/", "bin_ms", &c.bin_ms, NULL) != ND_OK || !(c.bin_ms > 0) || !isfinite(c.bin_ms))
        c.bin_ms = 20;
    c.hz = 1000.0 / c.bin_ms;
    c.cfg = &model->m.cfg;
    const nd_lfads_config *cfg = c.cfg;
    if (ctx->progress) fprintf(stderr, "report: drawing the figures\n");
    /* header */
    char title[4400], buf[4400];
    if (opts->title) snprintf(title, sizeof title, "%s", opts->title);
    else snprintf(title, sizeof title, "neurodyn report: LFADS run %s", run);
    rep_begin(f, title);
    fputs("<table>\n", f);
    rep_kv_row(f, "run", run);
    rep_kv_row(f, "data", opts->data);
    snprintf(buf, sizeof buf, "%d train, %d valid, %d test", d->split[ND_TRAIN].n, d->split[ND_VALID].n,
             d->split[ND_TEST].n);
    rep_kv_row(f, "trials", buf);
    snprintf(buf, sizeof buf, "%d observed%s of %g ms", c.T, c.Tr > c.T ? " + forward-prediction bins" : " bins",
             c.bin_ms);
    if (c.Tr > c.T)
        snprintf(buf, sizeof buf, "%d observed + %d forward-prediction bins of %g ms", c.T, c.Tr - c.T, c.bin_ms);
    rep_kv_row(f, "bins", buf);
    snprintf(buf, sizeof buf, "%d held-in, %d held-out", c.N, c.Nr - c.N);
    rep_kv_row(f, "neurons", buf);
    snprintf(buf, sizeof buf, "generator %d, factors %d, initial condition %d, controller %d (inputs %d), dropout "
             "%.2g, coordinated dropout %.2g", cfg->gen_dim, cfg->fac_dim, cfg->ic_dim, cfg->co_dim > 0 ? cfg->con_dim : 0,
             cfg->co_dim, cfg->dropout_rate, cfg->cd_rate);
    rep_kv_row(f, "model", buf);
    snprintf(buf, sizeof buf, "%d epochs logged; best.ckpt: %s", log.nrow, best_epoch >= 0 ? "" : "the last epoch "
             "(the KL/L2 ramps did not finish)");
    if (best_epoch >= 0) snprintf(buf, sizeof buf, "%d epochs logged; best.ckpt: epoch %d", log.nrow, best_epoch + 1);
    rep_kv_row(f, "training", buf);
    if (opts->outputs) snprintf(buf, sizeof buf, "%s", opts->outputs);
    else snprintf(buf, sizeof buf, "posterior means (one deterministic pass), inferred by this report");
    rep_kv_row(f, "outputs", buf);
    fputs("</table>\n", f);
    rep_h2(f, "Scores");
    if ((st = eval_table(f, ctx, data, &lo, "LFADS", opts))) goto done;
    rep_h2(f, "Training");
    fig_training(f, &log, cfg, best_epoch);
    rep_h2(f, "Example trials");
    fig_trials(f, &c, &lo, opts->example_trials);
    rep_h2(f, "Latent factors");
    if (lo.factors) fig_factors(f, &c, &lo, err);
    else rep_note(f, "The outputs hold no valid_factors.");
    rep_h2(f, "Inferred inputs");
    fig_inputs(f, &c, &lo, opts->example_trials);
    rep_h2(f, "PSTHs: data vs model");
    fig_psth(f, &c, &lo, 70);
    if (opts->jpca) {
        rep_h2(f, "Rotational dynamics (jPCA)");
        fig_jpca(f, opts->jpca, c.bin_ms, err, &st);
        if (st) { api_end(ctx, st); goto done; }
    }
    if (opts->fixedpoints) {
        rep_h2(f, "Fixed points");
        fig_fixedpoints(f, opts->fixedpoints, &lo, err, &st);
        if (st) { api_end(ctx, st); goto done; }
    }
    rep_end(f);
    st = ND_OK;
done:
    rep_table_free(&log);
    lf_out_free(&lo);
    nd_outputs_free(out);
    nd_data_free(data);
    nd_model_free(model);
    return st;
}

/* ---------------------------------------------------------------- entry point */

ND_API nd_status nd_report(nd_context *ctx, const char *run, const nd_report_options *opts, const char *html_path) {
    if (api_begin(ctx)) return ND_ERR_ARG;
    if (!run || !html_path) return api_fail(ctx, ND_ERR_ARG, "nd_report: run and html_path must not be NULL");
    nd_report_options def;
    nd_report_options_default(&def);
    if (!opts) opts = &def;
    struct stat sb;
    if (stat(run, &sb) != 0 || !S_ISDIR(sb.st_mode))
        return api_fail(ctx, ND_ERR_IO, "%s: not a run directory (no such directory)", run);
    char *page = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&page, &len);
    if (!f) return api_fail(ctx, ND_ERR_NOMEM, "nd_report: out of memory");
    nd_status st;
    rep_kind kind = rep_detect(run);
    if (kind == REP_LFADS) st = report_lfads(ctx, run, opts, f);
    else if (kind == REP_NEURON) st = rep_neuron(ctx, run, opts, f);
    else if (kind == REP_LEARN) st = rep_learn(ctx, run, opts, f);
    else st = api_fail(ctx, ND_ERR_FORMAT, "%s: not a run directory of neurodyn train, neuron fit or learn train (no "
                       "train_log.tsv with best.ckpt/last.ckpt, no tcn run, no learn run)", run);
    if (fclose(f) != 0 && !st) st = api_fail(ctx, ND_ERR_NOMEM, "nd_report: out of memory");
    if (!st) {
        nd_error e;
        if (nd_write_file_atomic(html_path, page, len, &e)) st = api_fail(ctx, e.code, "%s", e.msg);
        else if (ctx->progress) fprintf(stderr, "report: wrote %s (%zu kB)\n", html_path, (len + 512) / 1024);
    }
    free(page);
    return st ? st : api_end(ctx, ND_OK);
}
