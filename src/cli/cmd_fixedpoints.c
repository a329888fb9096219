/* neurodyn fixedpoints: fixed points of a trained LFADS generator (the clipped GRU with a
 * constant input), their stability and linearised dynamics. */
#define _GNU_SOURCE
#include "cli.h"
#include "../analysis/fixedpoints.h"
#include "../core/blas.h"
#include "../core/mem.h"
#include "../core/rng.h"
#include "../io/checkpoint.h"
#include "../io/h5.h"
#include "../models/lfads_infer.h"
#include "../models/lfads_train.h"
#include "../models/learn_rnn.h"
#include <cjson/cJSON.h>
#include <getopt.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { STREAM_FP_STARTS = 0xF1BED };

static void fp_usage(FILE *f) {
    fprintf(f,
            "usage: neurodyn fixedpoints RUN [--inputs zero|mean --outputs OUT.h5] [--starts 256] [--json[=FILE]]\n"
            "                            [--out fp.h5]\n\n"
            "Fixed points of the trained generator g' = GRU(g, u) of an LFADS run (RUN: a run directory or a\n"
            "checkpoint) with the input u held constant (Sussillo & Barak 2013): from each initial state,\n"
            "q(g) = 0.5 ||GRU(g, u) - g||^2 is minimised by Levenberg-Marquardt (analytic Jacobian, double\n"
            "precision) until q < --tol. End points with q above the tolerance are dropped (slow points),\n"
            "as are outliers farther from the centroid of the initial states than --outlier-scale times their\n"
            "mean distance to it; the rest are merged within --dedup. For each fixed point: q, the Jacobian's\n"
            "eigenvalues (stable when all |lambda| < 1: a discrete-time map, one step per bin) and, with\n"
            "--outputs, its distance to the nearest generator state the model visits on the data.\n"
            "RUN may also be a recurrent network of 'neurodyn learn train --rnn N' (leaky tanh RNN, zero input; its\n"
            "model.h5 holds valid_gen_states for --outputs); docs/learning.md.\n\n"
            "options:\n"
            "  --inputs zero|mean  constant generator input [inferred inputs, external inputs]: zero (default), or\n"
            "                      mean = the mean of {split}_gen_inputs of --outputs over trials and bins (a model\n"
            "                      without inputs has none: both are the same)\n"
            "  --outputs FILE      an output of 'neurodyn infer': initial states are sampled from its\n"
            "                      {split}_gen_states (default: N(0, 1) in every coordinate)\n"
            "  --split NAME        train or valid (default valid)\n"
            "  --starts N          initial states (default 256)\n"
            "  --noise SD          Gaussian noise added to sampled initial states (default 0)\n"
            "  --seed N            seed of the initial states (default 0)\n"
            "  --tol Q             converged when q < Q (default 1e-12)\n"
            "  --max-iters N       Levenberg-Marquardt iterations per start (default 200)\n"
            "  --dedup D           merge fixed points closer than D (default 1e-3)\n"
            "  --outlier-scale S   outlier distance scale (default 10; 0 keeps all)\n"
            "  --slow-q Q          also report slow points: end points with tol < q <= Q, de-duplicated like the\n"
            "                      fixed points (default 0: off)\n"
            "  --list N            print at most N fixed points (default 20)\n"
            "  --threads N         BLAS threads (default 1)\n"
            "  --json[=FILE]       print the results as JSON instead of the table; --json=FILE writes the JSON to\n"
            "                      FILE (atomically) and still prints the table\n"
            "  --out FILE          write the fixed points (x), q, Jacobians, eigenvalues, the input u and the\n"
            "                      final q of every start to HDF5\n");
}

static int read3(const char *path, const char *name, float **a, size_t dims[ND_H5_MAX_RANK], nd_error *err) {
    int rank = 0;
    if (!nd_h5_exists(path, name)) {
        snprintf(err->msg, sizeof err->msg, "%s: dataset '%s': missing (write it with 'neurodyn infer')", path, name);
        return -1;
    }
    if (nd_h5_read_float(path, name, a, &rank, dims, err)) return -1;
    if (rank != 3) {
        snprintf(err->msg, sizeof err->msg, "%s: dataset '%s': expected rank 3 (trials, bins, dims), got %d", path, name, rank);
        return -1;
    }
    return 0;
}

static void eig_str(char *buf, size_t cap, double re, double im) {
    if (im == 0) snprintf(buf, cap, "%.4f", re);
    else snprintf(buf, cap, "%.4f%c%.4fi", re, im < 0 ? '-' : '+', fabs(im));
}

int cmd_fixedpoints(int argc, char **argv) {
    static const struct option opts[] = {
        {"inputs", required_argument, 0, 'i'},  {"outputs", required_argument, 0, 'O'},
        {"split", required_argument, 0, 's'},   {"starts", required_argument, 0, 'n'},
        {"noise", required_argument, 0, 'z'},   {"seed", required_argument, 0, 'S'},
        {"tol", required_argument, 0, 'q'},     {"max-iters", required_argument, 0, 'm'},
        {"dedup", required_argument, 0, 'd'},   {"outlier-scale", required_argument, 0, 'x'},
        {"list", required_argument, 0, 'l'},    {"threads", required_argument, 0, 't'},
        {"slow-q", required_argument, 0, 'w'},
        {"json", optional_argument, 0, 'j'},    {"out", required_argument, 0, 'o'},
        {"help", no_argument, 0, 'h'},          {0, 0, 0, 0}};
    const char *inputs = "zero", *outputs = NULL, *split = "valid", *json_path = NULL, *outp = NULL;
    long starts = 256, list = 20, threads = 1;
    long long seed = 0;
    double noise = 0;
    int json_stdout = 0, c, li = -1;
    nd_fp_opts fo;
    nd_fp_opts_default(&fo);
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", opts, &li)) != -1) {
        char *end = NULL;
        long v;
        switch (c) {
        case 'i': inputs = optarg; if (strcmp(inputs, "zero") && strcmp(inputs, "mean")) goto bad; break;
        case 'O': outputs = optarg; break;
        case 's': split = optarg; if (strcmp(split, "train") && strcmp(split, "valid")) goto bad; break;
        case 'n': starts = strtol(optarg, &end, 10); if (*end || starts < 1 || starts > 1000000) goto bad; break;
        case 'z': noise = strtod(optarg, &end); if (*end || !(noise >= 0) || !isfinite(noise)) goto bad; break;
        case 'S': seed = strtoll(optarg, &end, 10); if (*end || seed < 0) goto bad; break;
        case 'q': fo.tol_q = strtod(optarg, &end); if (*end || !(fo.tol_q > 0) || !isfinite(fo.tol_q)) goto bad; break;
        case 'm': v = strtol(optarg, &end, 10); if (*end || v < 1 || v > 1000000) goto bad; fo.max_iters = (int)v; break;
        case 'd': fo.dedup_tol = strtod(optarg, &end); if (*end || !(fo.dedup_tol >= 0) || !isfinite(fo.dedup_tol)) goto bad; break;
        case 'x': fo.outlier_scale = strtod(optarg, &end); if (*end || !(fo.outlier_scale >= 0) || !isfinite(fo.outlier_scale)) goto bad; break;
        case 'w': fo.slow_q = strtod(optarg, &end); if (*end || !(fo.slow_q >= 0) || !isfinite(fo.slow_q)) goto bad; break;
        case 'l': list = strtol(optarg, &end, 10); if (*end || list < 0) goto bad; break;
        case 't': threads = strtol(optarg, &end, 10); if (*end || threads < 1 || threads > 1024) goto bad; break;
        case 'j': if (optarg) json_path = optarg; else json_stdout = 1; break;
        case 'o': outp = optarg; break;
        case 'h': fp_usage(stdout); return 0;
        default: cli_bad_option("fixedpoints", argv); return 2;
        }
        continue;
    bad:
        fprintf(stderr, "neurodyn fixedpoints: bad value '%s' for --%s (see --help)\n", optarg, li >= 0 ? opts[li].name : "?");
        return 2;
    }
    if (optind != argc - 1) {
        fprintf(stderr, "neurodyn fixedpoints: expected one RUN (run directory or checkpoint) (see --help)\n");
        return 2;
    }
    nd_error err;
    char ckpt[4096];
    nd_lfads_model m;
    memset(&m, 0, sizeof m);
    int mdims[3];
    /* a recurrent network of 'learn train --rnn' (a leaky tanh RNN, zero input), or an LFADS generator */
    nd_fp_leaky_tanh_map rmap = {0, 0, NULL, NULL};
    double *rW = NULL;
    if (nd_learn_rnn_is_run(argv[optind])) {
        nd_rnn rn;
        if (nd_learn_rnn_load(argv[optind], &rn, NULL, NULL, &err)) { fprintf(stderr, "neurodyn fixedpoints: %s\n", err.msg); return 1; }
        rW = nd_alloc(sizeof(double) * ((size_t)rn.N * rn.N + rn.N));
        if (!rW) { nd_rnn_free(&rn); fprintf(stderr, "neurodyn fixedpoints: out of memory\n"); return 1; }
        for (size_t i = 0; i < (size_t)rn.N * rn.N; i++) rW[i] = rn.W[i];
        for (int i = 0; i < rn.N; i++) rW[(size_t)rn.N * rn.N + i] = rn.b[i];
        rmap.n = rn.N; rmap.alpha = rn.alpha; rmap.W = rW; rmap.b = rW + (size_t)rn.N * rn.N;
        snprintf(ckpt, sizeof ckpt, "%s/last.ckpt", argv[optind]);
        nd_rnn_free(&rn);
    } else if (cli_load_run("fixedpoints", argv[optind], ckpt, sizeof ckpt, &m, mdims)) return 1;
    omp_set_num_threads((int)threads);
    nd_blas_set_threads((int)threads);
    int H = rW ? rmap.n : m.cfg.gen_dim, K = !rW && m.ctrl ? m.cfg.co_dim : 0, nin = rW ? 0 : K + m.E, rc = 1, n_states = 0;
    float *gs = NULL, *gi = NULL;
    double *u = NULL, *st0 = NULL;
    size_t gd[ND_H5_MAX_RANK], id[ND_H5_MAX_RANK];
    nd_fp_gru_map map;
    memset(&map, 0, sizeof map);
    nd_fp_result r;
    memset(&r, 0, sizeof r);
    cJSON *root = NULL;
    char name[128];
    u = nd_alloc(sizeof(double) * (nin ? nin : 1));
    st0 = nd_alloc(sizeof(double) * (size_t)starts * H);
    if (!u || !st0) { fprintf(stderr, "neurodyn fixedpoints: out of memory\n"); goto done; }
    if (outputs) {
        snprintf(name, sizeof name, "%s_gen_states", split);
        if (read3(outputs, name, &gs, gd, &err)) { fprintf(stderr, "neurodyn fixedpoints: %s\n", err.msg); goto done; }
        if ((int)gd[2] != H) {
            fprintf(stderr, "neurodyn fixedpoints: %s: dataset '%s': %zu generator units, but %s has gen_dim %d\n", outputs,
                    name, gd[2], ckpt, H);
            goto done;
        }
        n_states = (int)(gd[0] * gd[1]);
        if (n_states < 1) { fprintf(stderr, "neurodyn fixedpoints: %s: dataset '%s': empty\n", outputs, name); goto done; }
    }
    if (!strcmp(inputs, "mean") && nin > 0) {
        if (!outputs) {
            fprintf(stderr, "neurodyn fixedpoints: --inputs mean needs --outputs OUT.h5 (the model has %d generator inputs)\n", nin);
            rc = 2;
            goto done;
        }
        snprintf(name, sizeof name, "%s_gen_inputs", split);
        if (read3(outputs, name, &gi, id, &err)) { fprintf(stderr, "neurodyn fixedpoints: %s\n", err.msg); goto done; }
        if ((int)id[2] != nin) {
            fprintf(stderr, "neurodyn fixedpoints: %s: dataset '%s': %zu inputs, but the generator of %s takes %d\n", outputs,
                    name, id[2], ckpt, nin);
            goto done;
        }
        size_t rows = id[0] * id[1];
        for (size_t i = 0; i < rows; i++)
            for (int j = 0; j < nin; j++) u[j] += gi[i * nin + j];
        for (int j = 0; j < nin; j++) u[j] /= rows ? (double)rows : 1;
    }
    if (!rW && nd_fp_gru_map_init(&map, &m.p.gen, nin, H, m.cfg.cell_clip, u, &err)) { fprintf(stderr, "neurodyn fixedpoints: %s\n", err.msg); goto done; }
    nd_rng rng;
    nd_rng_stream(&rng, (uint64_t)seed, STREAM_FP_STARTS, 0);
    for (long s = 0; s < starts; s++) {
        double *x = st0 + (size_t)s * H;
        if (gs) {
            const float *g = gs + (size_t)nd_rng_below(&rng, (uint64_t)n_states) * H;
            for (int j = 0; j < H; j++) x[j] = g[j] + noise * nd_rng_normal(&rng);
        } else
            for (int j = 0; j < H; j++) x[j] = nd_rng_normal(&rng);
    }
    if (rW ? nd_fixed_points(nd_fp_leaky_tanh_fn, &rmap, H, st0, (int)starts, &fo, &r, &err)
           : nd_fixed_points(nd_fp_gru_fn, &map, H, st0, (int)starts, &fo, &r, &err)) {
        fprintf(stderr, "neurodyn fixedpoints: %s: %s\n", ckpt, err.msg);
        goto done;
    }
    /* distance of each fixed point to the nearest visited generator state, and the typical spread of the states */
    double *dnear = nd_alloc(sizeof(double) * (r.n_fp ? r.n_fp : 1)), spread = NAN;
    if (!dnear) { fprintf(stderr, "neurodyn fixedpoints: out of memory\n"); goto done; }
    if (gs) {
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
            spread = s2;
            free(mean);
        }
        for (int f = 0; f < r.n_fp; f++) {
            double best = INFINITY;
            const double *x = r.x + (size_t)f * H;
            for (int i = 0; i < n_states; i++) {
                double d = 0;
                const float *g = gs + (size_t)i * H;
                for (int j = 0; j < H && d < best; j++) d += (x[j] - g[j]) * (x[j] - g[j]);
                if (d < best) best = d;
            }
            dnear[f] = sqrt(best);
        }
    }
    root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "checkpoint", ckpt);
    cJSON_AddNumberToObject(root, "gen_dim", H);
    cJSON_AddStringToObject(root, "inputs", nin ? inputs : "none");
    cJSON_AddStringToObject(root, "starts_from", gs ? outputs : "N(0, 1)");
    cJSON_AddNumberToObject(root, "starts", (double)starts);
    cJSON_AddNumberToObject(root, "fixed_points", r.n_fp - r.n_slow);
    cJSON_AddNumberToObject(root, "slow_points", r.n_slow);
    cJSON_AddNumberToObject(root, "stable", r.n_stable);
    cJSON_AddNumberToObject(root, "unstable", r.n_unstable);
    cJSON_AddNumberToObject(root, "converged_starts", r.n_converged);
    cJSON_AddNumberToObject(root, "unconverged_starts", r.n_unconverged);
    cJSON_AddNumberToObject(root, "outliers", r.n_outliers);
    cJSON_AddNumberToObject(root, "duplicates", r.n_duplicates);
    if (gs) cJSON_AddNumberToObject(root, "state_spread", spread);
    cJSON *arr = cJSON_AddArrayToObject(root, "points");
    for (int f = 0; f < r.n_fp; f++) {
        cJSON *o = cJSON_CreateObject();
        double nx = 0;
        for (int j = 0; j < H; j++) nx += r.x[(size_t)f * H + j] * r.x[(size_t)f * H + j];
        cJSON_AddNumberToObject(o, "q", r.q[f]);
        cJSON_AddNumberToObject(o, "norm", sqrt(nx));
        cJSON_AddNumberToObject(o, "max_abs_eig", r.max_abs_eig[f]);
        cJSON_AddNumberToObject(o, "unstable_modes", r.n_unstable_modes[f]);
        cJSON_AddBoolToObject(o, "stable", r.stable[f]);
        cJSON_AddBoolToObject(o, "slow", r.slow[f]);
        cJSON_AddNumberToObject(o, "starts", r.count[f]);
        if (gs) cJSON_AddNumberToObject(o, "dist_to_states", dnear[f]);
        cJSON *ev = cJSON_AddArrayToObject(o, "top_eigenvalues");
        for (int j = 0; j < H && j < 6; j++) {
            cJSON *e = cJSON_CreateArray();
            cJSON_AddItemToArray(e, cJSON_CreateNumber(r.eig_re[(size_t)f * H + j]));
            cJSON_AddItemToArray(e, cJSON_CreateNumber(r.eig_im[(size_t)f * H + j]));
            cJSON_AddItemToArray(ev, e);
        }
        cJSON_AddItemToArray(arr, o);
    }
    if (!json_stdout) {
        printf("fixed points of the %s of %s (%s %d, input %s) from %ld starts (%s)\n", rW ? "recurrent network" : "generator", ckpt, rW ? "units" : "gen_dim", H,
               nin ? (strcmp(inputs, "mean") ? "zero" : "mean of gen_inputs") : "none", starts,
               gs ? "sampled generator states" : "N(0, 1)");
        int nfix = r.n_fp - r.n_slow;
        printf("%d fixed point%s: %d stable, %d unstable  (starts: %d converged to q < %g, %d not, %d outliers, %d merged "
               "duplicates)\n", nfix, nfix == 1 ? "" : "s", r.n_stable, r.n_unstable, r.n_converged, fo.tol_q,
               r.n_unconverged, r.n_outliers, r.n_duplicates);
        if (fo.slow_q > fo.tol_q) printf("%d slow point%s (q <= %g)\n", r.n_slow, r.n_slow == 1 ? "" : "s", fo.slow_q);
        if (r.n_fp) {
            printf("%-4s %9s %8s %10s %8s %-9s %7s%s  %s\n", "#", "q", "|x|", "max|lam|", "unstab", "kind", "starts",
                   gs ? "  dist-to-data" : "", "top eigenvalues");
            for (int f = 0; f < r.n_fp && f < list; f++) {
                double nx = 0;
                for (int j = 0; j < H; j++) nx += r.x[(size_t)f * H + j] * r.x[(size_t)f * H + j];
                char e1[48], e2[48], e3[48];
                const double *er = r.eig_re + (size_t)f * H, *ei = r.eig_im + (size_t)f * H;
                eig_str(e1, sizeof e1, er[0], ei[0]);
                eig_str(e2, sizeof e2, H > 1 ? er[1] : 0, H > 1 ? ei[1] : 0);
                eig_str(e3, sizeof e3, H > 2 ? er[2] : 0, H > 2 ? ei[2] : 0);
                char dd[32] = "";
                if (gs) snprintf(dd, sizeof dd, "  %12.3f", dnear[f]);
                printf("%-4d %9.2e %8.3f %10.4f %8d %-9s %7d%s  %s, %s, %s\n", f + 1, r.q[f], sqrt(nx), r.max_abs_eig[f],
                       r.n_unstable_modes[f], r.slow[f] ? "slow" : r.stable[f] ? "stable" : "unstable", r.count[f], dd, e1, e2, e3);
            }
            if (r.n_fp > list) printf("... %d more (--list N, or --json)\n", (int)(r.n_fp - list));
            if (gs) printf("(mean distance of the visited generator states from their centroid: %.3f)\n", spread);
        }
    }
    rc = 0;
    if ((json_stdout || json_path) && cli_write_json("fixedpoints", root, json_path)) rc = 1;
    if (outp) {
        nd_h5file *h = NULL;
        nd_status st = nd_h5_create(&h, outp, &err);
        size_t nf = (size_t)r.n_fp, Hz = (size_t)H, d2[2] = {nf, Hz}, d3[3] = {nf, Hz, Hz}, d1[1] = {nf},
               ds[1] = {(size_t)starts}, du[1] = {(size_t)nin};
        if (!st && nf) st = nd_h5_write_double(h, "x", r.x, 2, d2, &err);
        if (!st && nf) st = nd_h5_write_double(h, "q", r.q, 1, d1, &err);
        if (!st && nf) st = nd_h5_write_double(h, "jacobian", r.jac, 3, d3, &err);
        if (!st && nf) st = nd_h5_write_double(h, "eig_re", r.eig_re, 2, d2, &err);
        if (!st && nf) st = nd_h5_write_double(h, "eig_im", r.eig_im, 2, d2, &err);
        if (!st && nf) st = nd_h5_write_double(h, "max_abs_eig", r.max_abs_eig, 1, d1, &err);
        if (!st && nf) st = nd_h5_write_int(h, "stable", r.stable, 1, d1, &err);
        if (!st && nf) st = nd_h5_write_int(h, "count", r.count, 1, d1, &err);
        if (!st && nf) st = nd_h5_write_int(h, "slow", r.slow, 1, d1, &err);
        if (!st && nf && gs) st = nd_h5_write_double(h, "dist_to_states", dnear, 1, d1, &err);
        if (!st && nin) st = nd_h5_write_double(h, "u", u, 1, du, &err);
        if (!st) st = nd_h5_write_double(h, "start_q", r.start_q, 1, ds, &err);
        if (!st) st = nd_h5_write_attr_double(h, "/", "n_fixed_points", r.n_fp, &err);
        if (!st) st = nd_h5_write_attr_string(h, "/", "checkpoint", ckpt, &err);
        if (!st) st = nd_h5_write_attr_string(h, "/", "inputs", nin ? inputs : "none", &err);
        if (!st) st = nd_h5_write_attr_string(h, "/", "jacobian_layout", "jacobian[f][i][j] = d g'_i / d g_j", &err);
        if (h) {
            nd_error e2;
            nd_status cs = nd_h5_close(h, st == ND_OK, st ? &e2 : &err);
            if (!st) st = cs;
        }
        if (st) { fprintf(stderr, "neurodyn fixedpoints: %s\n", err.msg); rc = 1; }
        else if (!json_stdout) printf("wrote %s\n", outp);
    }
    nd_free(dnear);
done:
    cJSON_Delete(root);
    nd_fp_result_free(&r);
    nd_fp_gru_map_free(&map);
    nd_free(gs); nd_free(gi); nd_free(u); nd_free(st0); nd_free(rW);
    if (!rW) nd_lfads_free(&m);
    return rc;
}
