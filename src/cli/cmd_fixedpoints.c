/* neurodyn fixedpoints: parse, nd_fp_run (src/analysis/fp_run.c: fixed points of a trained LFADS generator or of a
 * 'learn train --rnn' network), print the table, the JSON or the HDF5 file. */
#include "cli.h"
#include "opt.h"
#include "../analysis/fp_run.h"
#include <math.h>
#include <stdio.h>
#include <string.h>

static const char ABOUT[] =
    "Fixed points of the trained generator g' = GRU(g, u) of an LFADS run (RUN: a run directory or a\n"
    "checkpoint) with the input u held constant (Sussillo & Barak 2013): from each initial state,\n"
    "q(g) = 0.5 ||GRU(g, u) - g||^2 is minimised by Levenberg-Marquardt (analytic Jacobian, double\n"
    "precision) until q < --tol. End points with q above the tolerance are dropped (slow points),\n"
    "as are outliers farther from the centroid of the initial states than --outlier-scale times their\n"
    "mean distance to it; the rest are merged within --dedup. For each fixed point: q, the Jacobian's\n"
    "eigenvalues (stable when all |lambda| < 1: a discrete-time map, one step per bin) and, with\n"
    "--outputs, its distance to the nearest generator state the model visits on the data. With --data,\n"
    "the checkpoint's data fingerprint is checked against DATA.h5 (as infer does).\n"
    "RUN may also be a recurrent network of 'neurodyn learn train --rnn N' (leaky tanh RNN, zero input; its\n"
    "model.h5 holds valid_gen_states for --outputs); docs/learning.md.\n";

static void eig_str(char *buf, size_t cap, double re, double im) {
    if (im == 0) snprintf(buf, cap, "%.4f", re);
    else snprintf(buf, cap, "%.4f%c%.4fi", re, im < 0 ? '-' : '+', fabs(im));
}

static void print_table(const nd_fp_run_result *res, const nd_fp_lfads_opts *o, long list) {
    const nd_fp_lfads_result *x = &res->x;
    const nd_fp_result *r = &x->r;
    const char *ckpt = res->ckpt, *inputs = res->inputs_text;
    int rnn = res->rnn;
    int H = x->H, nfix = r->n_fp - r->n_slow;
    printf("fixed points of the %s of %s (%s %d, input %s) from %d starts (%s)\n", rnn ? "recurrent network" : "generator",
           ckpt, rnn ? "units" : "gen_dim", H, inputs, o->starts,
           x->has_states ? (rnn ? "sampled network states" : "sampled generator states") : "N(0, 1)");
    printf("%d fixed point%s: %d stable, %d unstable  (starts: %d converged to q < %g, %d not, %d outliers, %d merged "
           "duplicates)\n", nfix, nfix == 1 ? "" : "s", r->n_stable, r->n_unstable, r->n_converged, o->fp.tol_q,
           r->n_unconverged, r->n_outliers, r->n_duplicates);
    if (o->fp.slow_q > o->fp.tol_q) printf("%d slow point%s (q <= %g)\n", r->n_slow, r->n_slow == 1 ? "" : "s", o->fp.slow_q);
    if (!r->n_fp) return;
    printf("%-4s %9s %8s %10s %8s %-9s %7s%s  %s\n", "#", "q", "|x|", "max|lam|", "unstab", "kind", "starts",
           x->has_states ? "  dist-to-data" : "", "top eigenvalues");
    for (int f = 0; f < r->n_fp && f < list; f++) {
        double nx = 0;
        for (int j = 0; j < H; j++) nx += r->x[(size_t)f * H + j] * r->x[(size_t)f * H + j];
        char e[3][48], dd[32] = "";
        const double *er = r->eig_re + (size_t)f * H, *ei = r->eig_im + (size_t)f * H;
        for (int k = 0; k < 3; k++) eig_str(e[k], sizeof e[k], H > k ? er[k] : 0, H > k ? ei[k] : 0);
        if (x->has_states) snprintf(dd, sizeof dd, "  %12.3f", x->dist[f]);
        printf("%-4d %9.2e %8.3f %10.4f %8d %-9s %7d%s  %s, %s, %s\n", f + 1, r->q[f], sqrt(nx), r->max_abs_eig[f],
               r->n_unstable_modes[f], r->slow[f] ? "slow" : r->stable[f] ? "stable" : "unstable", r->count[f], dd,
               e[0], e[1], e[2]);
    }
    if (r->n_fp > list) printf("... %d more (--list N, or --json)\n", (int)(r->n_fp - list));
    if (x->has_states) printf("(mean distance of the visited generator states from their centroid: %.3f)\n", x->spread);
}

int cmd_fixedpoints(int argc, char **argv) {
    const char *inputs = NULL, *split = NULL, *outp = NULL;
    long starts = 0, list = 0, threads = 0, seed = 0, iters = 0;
    cli_json json = {0, NULL};
    nd_fp_run_opts fo;
    nd_fp_run_opts_default(&fo);
    const cli_opt opts[] = {
        {"inputs", 0, CLI_CHOICE, "zero", "constant generator input: zero, or the mean of {split}_gen_inputs of\n"
         "                             --outputs (a model without inputs has none: both are the same)", &inputs, 0, 0, "zero|mean", NULL},
        {"outputs", 0, CLI_STR, NULL, "an output of 'neurodyn infer': starts are sampled from its {split}_gen_states\n"
         "                             (default: N(0, 1) in every coordinate)", &fo.fp.outputs, 0, 0, NULL, "FILE"},
        {"data", 0, CLI_STR, NULL, "the data the model was trained on: its fingerprint is checked", &fo.data, 0, 0, NULL, "FILE"},
        {"allow-data-mismatch", 0, CLI_FLAG, NULL, "accept other trials of the same session (bins, neurons, ids must match)",
         &fo.allow_mismatch, 0, 0, NULL, NULL},
        {"split", 0, CLI_CHOICE, "valid", "split of --outputs to use", &split, 0, 0, "train|valid", NULL},
        {"starts", 0, CLI_INT, "256", "initial states", &starts, 1, 1000000, NULL, NULL},
        {"noise", 0, CLI_REAL, "0", "SD of the Gaussian noise added to sampled starts", &fo.fp.noise, 0, 1e300, NULL, "SD"},
        {"seed", 0, CLI_INT, "0", "seed of the initial states", &seed, 0, 2147483647, NULL, NULL},
        {"tol", 0, CLI_REAL, "1e-12", "converged when q < Q", &fo.fp.fp.tol_q, 1e-300, 1e300, NULL, "Q"},
        {"max-iters", 0, CLI_INT, "200", "Levenberg-Marquardt iterations per start", &iters, 1, 1000000, NULL, NULL},
        {"dedup", 0, CLI_REAL, "1e-3", "merge fixed points closer than D", &fo.fp.fp.dedup_tol, 0, 1e300, NULL, "D"},
        {"outlier-scale", 0, CLI_REAL, "10", "outlier distance scale (0 keeps all)", &fo.fp.fp.outlier_scale, 0, 1e300, NULL, "S"},
        {"slow-q", 0, CLI_REAL, "0", "also report slow points with tol < q <= Q (0: off)", &fo.fp.fp.slow_q, 0, 1e300, NULL, "Q"},
        {"list", 0, CLI_INT, "20", "print at most N fixed points", &list, 0, 1e9, NULL, NULL},
        {"threads", 't', CLI_THREADS, NULL, "BLAS threads", &threads, 0, 0, NULL, NULL},
        {"json", 0, CLI_JSON, NULL, "the results as JSON: to stdout instead of the table, or to FILE (atomically)",
         &json, 0, 0, NULL, NULL},
        {"out", 'o', CLI_STR, NULL, "write the fixed points (x), q, Jacobians, eigenvalues, u and every start's final\n"
         "                             q to HDF5", &outp, 0, 0, NULL, "FILE"},
        {0}};
    const cli_spec spec = {"fixedpoints", "RUN [--inputs zero|mean --outputs OUT.h5] [--starts 256] [--data DATA.h5]\n"
                           "                            [--json[=FILE]] [-o fp.h5]", ABOUT,
                           "run/ --outputs lorenz_out.h5 --starts 64 -o fp.h5\n"
                           "run/ --inputs mean --outputs lorenz_out.h5 --data lorenz.h5 --json=fp.json",
                           opts, 1, 1, "one RUN (run directory or checkpoint)", NULL};
    char *pos[argc > 0 ? argc : 1];
    int npos, rc = cli_parse(&spec, argc, argv, pos, &npos);
    if (rc) return rc < 0 ? 0 : rc;
    fo.run = pos[0], fo.notes = stderr, fo.threads = (int)threads;
    fo.fp.input_mean = !strcmp(inputs, "mean");
    fo.fp.split = split;
    fo.fp.starts = (int)starts;
    fo.fp.seed = (uint64_t)seed;
    fo.fp.fp.max_iters = (int)iters;
    nd_fp_run_result x;
    nd_error err;
    nd_status st = nd_fp_run(&fo, &x, &err);
    if (st) {
        fprintf(stderr, "neurodyn fixedpoints: %s\n", err.msg);
        return st == ND_ERR_ARG ? 2 : 1;
    }
    if (!json.on || json.path) print_table(&x, &fo.fp, list);
    cJSON *root = json.on ? nd_fp_run_json(&fo, &x) : NULL;
    rc = json.on && (!root || cli_write_json("fixedpoints", root, json.path)) ? 1 : 0;
    if (outp) {
        if (nd_fp_lfads_write(outp, &x.x, x.ckpt, x.inputs, &err)) { fprintf(stderr, "neurodyn fixedpoints: %s\n", err.msg); rc = 1; }
        else if (!json.on || json.path) printf("wrote %s\n", outp);
    }
    cJSON_Delete(root);
    nd_fp_run_result_free(&x);
    return rc;
}
