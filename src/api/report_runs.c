/* nd_report for `neuron fit` runs (learning curves, AUC / explained variance vs depth of a sweep, the held-out
 * scores) and `learn train` runs (learning curves, the bias-variance plane of gradients.h5). */
#include "report.h"
#include "../core/mem.h"
#include "../eval/neuron_eval.h"
#include "../io/h5.h"
#include "../io/svg.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

rep_kind rep_detect(const char *run) {
    char path[4200], line[1024];
    snprintf(path, sizeof path, "%s/train_log.tsv", run);
    FILE *f = fopen(path, "r");
    if (f) {
        rep_kind k = REP_NONE;
        if (fgets(line, sizeof line, f)) {
            if (strstr(line, "train_recon")) k = REP_LFADS;
            else if (strstr(line, "train_bce")) k = REP_NEURON;
        }
        fclose(f);
        if (k == REP_LFADS && !rep_file_exists(run, "best.ckpt") && !rep_file_exists(run, "last.ckpt")) k = REP_NONE;
        return k;
    }
    if (rep_file_exists(run, "curves.tsv")) return REP_LEARN;
    return REP_NONE;
}

/* one panel of columns of a table against its first column */
static void curves_panel(FILE *f, const rep_table *t, double px, double py, double pw, double ph, const char *title,
                         const char *const *cols, const char *const *labels, int nc, const char *xlabel,
                         const char *ylabel, int logy, int best_row) {
    const int n = t->nrow;
    double *x = malloc(sizeof(double) * (size_t)(n + 1)), *y = malloc(sizeof(double) * (size_t)(n + 1) * nc);
    if (!x || !y) { free(x); free(y); return; }
    int c0 = rep_table_col(t, "epoch");
    for (int i = 0; i < n; i++) x[i] = c0 >= 0 ? t->v[(size_t)i * t->ncol + c0] + 1 : i + 1;
    double lo = INFINITY, hi = -INFINITY, a, b;
    const char *shown[8], *colors[8];
    int ns = 0;
    for (int k = 0; k < nc && k < 8; k++) {
        int c = rep_table_col(t, cols[k]);
        for (int i = 0; i < n; i++) y[(size_t)k * n + i] = c >= 0 ? t->v[(size_t)i * t->ncol + c] : NAN;
        if (c < 0) continue;
        if (nd_svg_range(y + (size_t)k * n, (size_t)n, 1, &a, &b)) { lo = fmin(lo, a); hi = fmax(hi, b); }
    }
    nd_svg_axes ax = nd_svg_axes_make(f, px, py, pw, ph, 0.5, n > 0 ? x[n - 1] + 0.5 : 1, lo, hi, 0.05, logy);
    for (int k = 0; k < nc && k < 8; k++) {
        if (rep_table_col(t, cols[k]) < 0) continue;
        nd_svg_axes_line(&ax, x, y + (size_t)k * n, n, 1, nd_svg_color(k), 1.8, NULL);
        if (n <= 30) nd_svg_axes_points(&ax, x, y + (size_t)k * n, n, nd_svg_color(k), 2.5, 1);
        shown[ns] = labels[k];
        colors[ns++] = nd_svg_color(k);
    }
    if (!isfinite(lo)) nd_svg_text(f, px + pw / 2, py + ph / 2, "middle", 12, 0, 0, "not recorded for this run");
    if (best_row >= 0 && best_row < n) nd_svg_axes_vline(&ax, x[best_row], "#444", "2,2", "best");
    nd_svg_axes_frame(&ax, title, xlabel, ylabel, 1);
    if (ns > 1) nd_svg_axes_legend(&ax, shown, colors, NULL, ns, 0);
    free(x);
    free(y);
}

/* held-out scores and traces, true vs predicted, of the first simulation of a test file */
static nd_status neuron_traces(nd_context *ctx, const char *run, const char *data, FILE *f) {
    nd_tcn_run r;
    nd_neuron_data d;
    memset(&r, 0, sizeof r);
    memset(&d, 0, sizeof d);
    float *prob = NULL, *volt = NULL;
    double *tx = NULL, *y = NULL;
    nd_tcn_scores sc;
    nd_status st = nd_tcn_run_load(run, &r, &ctx->err);
    if (!st) st = nd_neuron_data_read(data, &d, &ctx->err);
    if (!st && strcmp(d.cell, r.cell))
        st = nd_fail(&ctx->err, ND_ERR_ARG, "%s: simulations of the '%s' cell, but %s was fitted on '%s'", data, d.cell,
                     run, r.cell);
    if (!st) st = nd_tcn_evaluate(&r, &d, 0.0025, &sc, &ctx->err);
    const int T = d.ms;
    if (!st) {
        prob = nd_alloc(sizeof(float) * (size_t)T + 8);
        volt = nd_alloc(sizeof(float) * (size_t)T + 8);
        tx = nd_alloc(sizeof(double) * (size_t)T + 8);
        y = nd_alloc(sizeof(double) * (size_t)T * 2 + 8);
        if (!prob || !volt || !tx || !y) st = nd_fail(&ctx->err, ND_ERR_NOMEM, "out of memory");
    }
    if (!st) st = nd_tcn_predict(&r, &d, 0, 1, prob, volt, &ctx->err);
    if (st) goto done;
    rep_h2(f, "Held-out simulations");
    fputs("<table>\n<tr><th>test file</th><th>simulations</th><th>spike AUC</th><th>TPR at 0.25% FPR</th>"
          "<th>voltage explained variance</th><th>voltage RMSE (mV)</th></tr>\n<tr><td>", f);
    rep_esc(f, data);
    fprintf(f, "</td><td class=\"num\">%d</td><td class=\"num\">%.4f</td><td class=\"num\">%.4f</td>"
               "<td class=\"num\">%.4f</td><td class=\"num\">%.3f</td></tr>\n</table>\n",
            sc.sims, sc.auc, sc.tpr_at_fpr, sc.v_ev, sc.v_rmse);
    rep_note(f, "Scores of neurodyn neuron eval: every simulation, the first 500 ms left out; the voltage against "
                "the truth clipped at -55 mV.");
    {
        /* 2 s after the first 500 ms (or what there is) */
        int t0 = T > 1000 ? 500 : 0, t1 = t0 + 2000 < T ? t0 + 2000 : T, n = t1 - t0;
        for (int t = 0; t < n; t++) {
            tx[t] = t0 + t;
            y[t] = d.soma_v[t0 + t];
            y[n + t] = volt[t0 + t];
        }
        double lo, hi, a, b;
        nd_svg_range(y, (size_t)n, 1, &lo, &hi);
        if (nd_svg_range(y + n, (size_t)n, 1, &a, &b)) { lo = fmin(lo, a); hi = fmax(hi, b); }
        rep_fig_begin(f, 940, 420);
        nd_svg_axes av = nd_svg_axes_make(f, 80, 40, 700, 180, t0, t1, lo, hi, 0.05, 0);
        nd_svg_axes_line(&av, tx, y, n, 1, "#222222", 1.2, NULL);
        nd_svg_axes_line(&av, tx, y + n, n, 1, "#d62728", 1.2, NULL);
        nd_svg_axes_frame(&av, "A  Somatic voltage, simulation 1", NULL, "voltage (mV)", 1);
        const char *nm[2] = {"simulated", "predicted"}, *cl[2] = {"#222222", "#d62728"};
        nd_svg_axes legend_ax = av;
        legend_ax.pw += 150;
        nd_svg_axes_legend(&legend_ax, nm, cl, NULL, 2, 0);
        for (int t = 0; t < n; t++) y[t] = prob[t0 + t];
        nd_svg_axes ap = nd_svg_axes_make(f, 80, 260, 700, 110, t0, t1, 0, 1, 0.05, 0);
        nd_svg_axes_line(&ap, tx, y, n, 1, "#d62728", 1.2, NULL);
        int ns = 0;
        for (int t = 0; t < n; t++)
            if (d.spikes[t0 + t]) {
                nd_svg_axes_vline(&ap, t0 + t, "#222222", NULL, NULL);
                ns++;
            }
        nd_svg_axes_frame(&ap, "B  Output spikes", "time (ms)", "spike probability", 1);
        const char *nm2[2] = {"simulated spike", "predicted"};
        legend_ax = ap;
        legend_ax.pw += 150;
        nd_svg_axes_legend(&legend_ax, nm2, cl, NULL, 2, 0);
        char cap[512];
        snprintf(cap, sizeof cap, "Figure 2. The first simulation of %s, %d-%d ms (%d output spikes): A, the somatic "
                 "voltage simulated (black) and predicted by the network (red; trained against the voltage clipped "
                 "at -55 mV, so spikes are not reproduced in it); B, the predicted spike probability per ms and the "
                 "simulated spikes (vertical lines).", data, t0, t1, ns);
        rep_fig_end(f, cap);
    }
done:
    nd_free(prob);
    nd_free(volt);
    nd_free(tx);
    nd_free(y);
    nd_neuron_data_free(&d);
    nd_tcn_run_free(&r);
    return st ? api_end(ctx, st) : ND_OK;
}

/* the page's start for a neuron or learn run: its log (run/LOG_NAME) read into *log, the title and the run table */
static nd_status run_header(nd_context *ctx, const char *run, const char *log_name, const char *kind,
                            const nd_report_options *opts, FILE *f, rep_table *log) {
    char path[4200], title[4400];
    snprintf(path, sizeof path, "%s/%s", run, log_name);
    if (rep_table_read(path, log, &ctx->err)) return api_end(ctx, ctx->err.code);
    if (opts->title) snprintf(title, sizeof title, "%s", opts->title);
    else snprintf(title, sizeof title, "neurodyn report: %s run %s", kind, run);
    rep_begin(f, title);
    fputs("<table>\n", f);
    rep_kv_row(f, "run", run);
    snprintf(path, sizeof path, "%d epochs logged", log->nrow);
    rep_kv_row(f, "training", path);
    fputs("</table>\n", f);
    return ND_OK;
}

nd_status rep_neuron(nd_context *ctx, const char *run, const nd_report_options *opts, FILE *f) {
    char path[4200];
    rep_table log, sw;
    memset(&sw, 0, sizeof sw);
    nd_status hs = run_header(ctx, run, "train_log.tsv", "neuron fit", opts, f, &log);
    if (hs) return hs;
    /* best epoch: lowest valid loss */
    int cv = rep_table_col(&log, "valid_loss"), best = -1;
    for (int i = 0; cv >= 0 && i < log.nrow; i++) {
        double v = log.v[(size_t)i * log.ncol + cv];
        if (isfinite(v) && (best < 0 || v < log.v[(size_t)best * log.ncol + cv])) best = i;
    }
    rep_h2(f, "Training");
    rep_fig_begin(f, 940, 560);
    const char *c1[2] = {"train_loss", "valid_loss"}, *l1[2] = {"train", "valid"};
    const char *c2[2] = {"train_bce", "valid_bce"}, *c3[2] = {"train_mse", "valid_mse"}, *c4[1] = {"lr"},
               *l4[1] = {"learning rate"};
    curves_panel(f, &log, 80, 50, 330, 180, "A  Total loss", c1, l1, 2, NULL, "loss", 0, best);
    curves_panel(f, &log, 560, 50, 330, 180, "B  Spike loss (binary cross-entropy)", c2, l1, 2, NULL, "BCE", 0, best);
    curves_panel(f, &log, 80, 320, 330, 180, "C  Voltage loss (mean squared error)", c3, l1, 2, "epoch", "MSE", 0, best);
    curves_panel(f, &log, 560, 320, 330, 180, "D  Learning rate", c4, l4, 1, "epoch", "learning rate", 1, -1);
    rep_fig_end(f, "Figure 1. Learning curves of the temporal convolutional network (train_log.tsv). Dotted: the "
                   "epoch with the lowest validation loss.");
    if (opts->data) {
        nd_status st = neuron_traces(ctx, run, opts->data, f);
        if (st) {
            rep_table_free(&log);
            return st;
        }
    }
    if (opts->sweep) {
        snprintf(path, sizeof path, "%s/sweep.tsv", opts->sweep);
        nd_error e;
        if (rep_table_read(path, &sw, &e)) {
            rep_table_free(&log);
            return api_fail(ctx, e.code, "%s", e.msg);
        }
        rep_h2(f, "Accuracy vs network depth (sweep)");
        int cd = rep_table_col(&sw, "depth"), cw = rep_table_col(&sw, "width"), ca = rep_table_col(&sw, "spike_auc"),
            ce = rep_table_col(&sw, "voltage_ev");
        if (cd < 0 || cw < 0 || ca < 0 || ce < 0) {
            rep_table_free(&log);
            rep_table_free(&sw);
            return api_fail(ctx, ND_ERR_FORMAT, "%s: expected the columns depth, width, spike_auc and voltage_ev "
                            "(neurodyn neuron sweep)", path);
        }
        rep_fig_begin(f, 940, 320);
        double widths[8];
        int nw = 0;
        for (int i = 0; i < sw.nrow; i++) {
            double w = sw.v[(size_t)i * sw.ncol + cw];
            int k = 0;
            while (k < nw && widths[k] != w) k++;
            if (k == nw && nw < 8) widths[nw++] = w;
        }
        for (int p = 0; p < 2; p++) {
            int cy = p ? ce : ca;
            double xlo, xhi, ylo, yhi;
            nd_svg_range(sw.v + cd, (size_t)sw.nrow, (size_t)sw.ncol, &xlo, &xhi);
            nd_svg_range(sw.v + cy, (size_t)sw.nrow, (size_t)sw.ncol, &ylo, &yhi);
            nd_svg_axes ax = nd_svg_axes_make(f, 80 + p * 480, 50, 330, 200, xlo - 0.5, xhi + 0.5, ylo, yhi, 0.1, 0);
            const char *nm[8], *cl[8];
            char b[8][32];
            for (int k = 0; k < nw; k++) {
                double xs[64], ys[64];
                int m = 0;
                for (int i = 0; i < sw.nrow && m < 64; i++)
                    if (sw.v[(size_t)i * sw.ncol + cw] == widths[k]) {
                        xs[m] = sw.v[(size_t)i * sw.ncol + cd];
                        ys[m++] = sw.v[(size_t)i * sw.ncol + cy];
                    }
                nd_svg_axes_line(&ax, xs, ys, m, 1, nd_svg_color(k), 1.8, NULL);
                nd_svg_axes_points(&ax, xs, ys, m, nd_svg_color(k), 3.5, 1);
                snprintf(b[k], sizeof b[k], "width %g", widths[k]);
                nm[k] = b[k];
                cl[k] = nd_svg_color(k);
            }
            nd_svg_axes_frame(&ax, p ? "B  Somatic voltage" : "A  Output spikes", "depth (layers)",
                              p ? "explained variance" : "spike AUC", 1);
            nd_svg_axes_legend(&ax, nm, cl, NULL, nw, 0);
        }
        rep_fig_end(f, "Figure 3. Held-out accuracy of networks of each depth and width (sweep.tsv of neurodyn neuron "
                       "sweep): the area under the ROC curve of the spike predictions and the explained variance of "
                       "the somatic voltage on the test simulations.");
    }
    rep_end(f);
    rep_table_free(&log);
    rep_table_free(&sw);
    return ND_OK;
}

nd_status rep_learn(nd_context *ctx, const char *run, const nd_report_options *opts, FILE *f) {
    char path[4200];
    rep_table cv;
    nd_status hs = run_header(ctx, run, "curves.tsv", "learn", opts, f, &cv);
    if (hs) return hs;
    rep_h2(f, "Training");
    rep_fig_begin(f, 940, 320);
    const char *c1[2] = {"train_loss", "test_loss"}, *l1[2] = {"train", "test"}, *c2[1] = {"test_accuracy"},
               *l2[1] = {"test"};
    curves_panel(f, &cv, 80, 50, 330, 200, "A  Loss", c1, l1, 2, "epoch", "loss", 0, -1);
    curves_panel(f, &cv, 560, 50, 330, 200, "B  Test accuracy", c2, l2, 1, "epoch", "accuracy", 0, -1);
    rep_fig_end(f, "Figure 1. Learning curves (curves.tsv): the mean training loss of each epoch, and the test loss "
                   "and accuracy after it.");
    rep_h2(f, "Gradient estimates: bias and variance");
    snprintf(path, sizeof path, "%s/gradients.h5", run);
    if (!rep_file_exists(run, "gradients.h5")) {
        rep_note(f, "No gradients.h5 in the run directory: run neurodyn learn gradients RUN to add the bias-variance "
                    "plane.");
    } else {
        double *ang = NULL, *var = NULL;
        int rank = 0;
        size_t d[8] = {0}, d2[8] = {0};
        char rules[256] = "";
        nd_error e;
        nd_status st = rep_read_double(path, "angle_deg", &ang, &rank, d, &e);
        if (!st) st = rep_read_double(path, "variance", &var, &rank, d2, &e);
        if (!st && (rank != 3 || d[1] != 2 || memcmp(d, d2, sizeof(size_t) * 3)))
            st = nd_fail(&e, ND_ERR_FORMAT, "%s: angle_deg / variance: expected [rule][2][layers + 1]", path);
        nd_h5_read_attr_string(path, "/", "rules", rules, sizeof rules, NULL);
        if (st) {
            nd_free(ang);
            nd_free(var);
            rep_table_free(&cv);
            return api_fail(ctx, st, "%s", e.msg);
        }
        const int R = (int)d[0], L1 = (int)d[2];
        char *names[16] = {0}, *save = NULL;
        int nr = 0;
        for (char *tok = strtok_r(rules, ",", &save); tok && nr < 16; tok = strtok_r(NULL, ",", &save)) names[nr++] = tok;
        rep_fig_begin(f, 940, 360);
        for (int s = 0; s < 2; s++) {
            double xs[16], ys[16], xlo = INFINITY, xhi = -INFINITY, a, b;
            int m = R < 16 ? R : 16;
            for (int r = 0; r < m; r++) {
                xs[r] = ang[((size_t)r * 2 + s) * L1 + L1 - 1];
                ys[r] = var[((size_t)r * 2 + s) * L1 + L1 - 1];
                if (!(ys[r] > 0)) ys[r] = NAN; /* deterministic rules: no variance on a log axis (listed below) */
            }
            double ylo = 1e-3, yhi = 1;
            if (nd_svg_range(ys, (size_t)m, 1, &a, &b)) { ylo = a; yhi = b; }
            if (nd_svg_range(xs, (size_t)m, 1, &a, &b)) { xlo = a; xhi = b; }
            nd_svg_axes ax = nd_svg_axes_make(f, 80 + s * 480, 50, 330, 240, fmin(0, xlo), fmax(90, xhi + 5), ylo, yhi,
                                              0.15, 1);
            const char *nm[16], *cl[16];
            char lb[16][48];
            for (int r = 0; r < m; r++) {
                double yy = isfinite(ys[r]) ? ys[r] : ax.y0 * 1.2;
                nd_svg_axes_points(&ax, &xs[r], &yy, 1, nd_svg_color(r), 5, isfinite(ys[r]));
                snprintf(lb[r], sizeof lb[r], "%s%s", r < nr ? names[r] : "rule", isfinite(ys[r]) ? "" : " (var. 0)");
                nm[r] = lb[r];
                cl[r] = nd_svg_color(r);
            }
            nd_svg_axes_frame(&ax, s ? "B  Final weights" : "A  Initial weights", "angle to the gradient (deg)",
                              "relative variance", 1);
            nd_svg_axes_legend(&ax, nm, cl, NULL, m, 0);
        }
        rep_fig_end(f, "Figure 2. Bias-variance plane of each rule's gradient estimate over the whole network "
                       "(gradients.h5 of neurodyn learn gradients): bias as the angle between the mean estimate and "
                       "the exact gradient, variance as E|g - mean|^2 / |gradient|^2 (log scale). Open circles at the "
                       "bottom: deterministic rules (variance 0).");
        nd_free(ang);
        nd_free(var);
    }
    rep_end(f);
    rep_table_free(&cv);
    return ND_OK;
}
