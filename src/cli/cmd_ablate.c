/* neurodyn ablate: silence a growing random subset of an LFADS model's factors at the read-out
 * and score the rates (Poisson NLL against the counts; rate R^2 against the truth). */
#define _GNU_SOURCE
#include "cli.h"
#include "../analysis/ablate.h"
#include "../core/blas.h"
#include "../core/mem.h"
#include "../io/checkpoint.h"
#include "../io/lfads_data.h"
#include "../models/lfads_infer.h"
#include "../models/lfads_train.h"
#include <cjson/cJSON.h>
#include <getopt.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void ablate_usage(FILE *f) {
    fprintf(f,
            "usage: neurodyn ablate RUN --data DATA.h5 [--orders 10] [--mode zero|mean] [--split valid] [--json[=FILE]]\n\n"
            "Ablation of the factors of a trained LFADS model (RUN: a run directory or a checkpoint). The factors of\n"
            "the split are inferred once (posterior means); then, for each of --orders random orders, k = 0..F\n"
            "factors are silenced (clamped to 0, or to their mean over the split's trials and bins) in the read-out\n"
            "rates = exp(factors ro_W + ro_bias); the generator is not re-run. Prints, per k, the Poisson negative\n"
            "log-likelihood per trial against the observed counts (sum over bins and neurons, as the model's\n"
            "reconstruction cost), its increase over k = 0 (mean and SD over orders) and, when DATA.h5 has the\n"
            "true rates, the rate R^2; then the factors whose single ablation costs most.\n\n"
            "options:\n"
            "  --data FILE      the data file the model was trained on (required)\n"
            "  --split NAME     train or valid (default valid)\n"
            "  --orders R       random silencing orders to average (default 10)\n"
            "  --mode zero|mean clamp silenced factors to 0 (default) or to their mean\n"
            "  --seed N         seed of the orders (default 0)\n"
            "  --threads N      threads for the inference (default 1)\n"
            "  --json[=FILE]    print the results as JSON instead of the table; --json=FILE writes the JSON to\n"
            "                   FILE (atomically) and still prints the table\n");
}

typedef struct { double v; int j; } vj;
static int cmp_desc(const void *a, const void *b) {
    const vj *x = a, *y = b;
    return x->v < y->v ? 1 : x->v > y->v ? -1 : x->j - y->j;
}

int cmd_ablate(int argc, char **argv) {
    static const struct option opts[] = {
        {"data", required_argument, 0, 'd'},  {"split", required_argument, 0, 's'},
        {"orders", required_argument, 0, 'r'}, {"mode", required_argument, 0, 'm'},
        {"seed", required_argument, 0, 'S'},  {"threads", required_argument, 0, 't'},
        {"json", optional_argument, 0, 'j'},  {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0}};
    const char *data = NULL, *split = "valid", *json_path = NULL;
    int json_stdout = 0, c, li = -1;
    long threads = 1;
    nd_ablate_opts ao;
    nd_ablate_opts_default(&ao);
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", opts, &li)) != -1) {
        char *end = NULL;
        long v;
        long long s;
        switch (c) {
        case 'd': data = optarg; break;
        case 's': split = optarg; if (strcmp(split, "train") && strcmp(split, "valid")) goto bad; break;
        case 'r': v = strtol(optarg, &end, 10); if (*end || v < 1 || v > 100000) goto bad; ao.orders = (int)v; break;
        case 'm':
            if (!strcmp(optarg, "zero")) ao.mode = ND_ABLATE_ZERO;
            else if (!strcmp(optarg, "mean")) ao.mode = ND_ABLATE_MEAN;
            else goto bad;
            break;
        case 'S': s = strtoll(optarg, &end, 10); if (*end || s < 0) goto bad; ao.seed = (uint64_t)s; break;
        case 't': threads = strtol(optarg, &end, 10); if (*end || threads < 1 || threads > 1024) goto bad; break;
        case 'j': if (optarg) json_path = optarg; else json_stdout = 1; break;
        case 'h': ablate_usage(stdout); return 0;
        default: cli_bad_option("ablate", argv); return 2;
        }
        continue;
    bad:
        fprintf(stderr, "neurodyn ablate: bad value '%s' for --%s (see --help)\n", optarg, li >= 0 ? opts[li].name : "?");
        return 2;
    }
    if (optind != argc - 1 || !data) {
        fprintf(stderr, "neurodyn ablate: expected RUN and --data DATA.h5 (see --help)\n");
        return 2;
    }
    nd_error err;
    char ckpt[4096];
    nd_lfads_model m;
    int mdims[3];
    if (cli_load_run("ablate", argv[optind], ckpt, sizeof ckpt, &m, mdims)) return 1;
    if (m.S > 1) { /* the per-session read-outs are not wired into ablate */
        fprintf(stderr, "neurodyn ablate: %s: a model stitched over %d sessions; ablate supports single-session models\n",
                ckpt, m.S);
        nd_lfads_free(&m);
        return 1;
    }
    if (m.cfg.recon != ND_RECON_POISSON) { /* ablate scores Poisson log-rates of the read-out */
        fprintf(stderr, "neurodyn ablate: %s: a model with recon=%s; ablate supports Poisson models\n", ckpt,
                nd_recon_name(m.cfg.recon));
        nd_lfads_free(&m);
        return 1;
    }
    nd_lfads_data d;
    if (nd_lfads_data_read(data, (uint64_t)m.cfg.seed, m.cfg.valid_fraction, &d, &err)) {
        fprintf(stderr, "neurodyn ablate: %s\n", err.msg);
        nd_lfads_free(&m);
        return 1;
    }
    int rc = 1;
    nd_ablate_result r;
    memset(&r, 0, sizeof r);
    cJSON *root = NULL;
    if (mdims[0] != d.N || mdims[2] != d.E || m.Nr != d.Nr || (m.Tr - m.T) != (d.Tr - d.T)) {
        fprintf(stderr, "neurodyn ablate: %s: model was trained with %d input neurons (%d reconstructed), %d forward bins "
                        "and %d external inputs; %s has %d (%d), %d and %d\n", ckpt, mdims[0], m.Nr, m.Tr - m.T, mdims[2],
                data, d.N, d.Nr, d.Tr - d.T, d.E);
        goto done;
    }
    int sp = strcmp(split, "train") ? 1 : 0;
    int n = sp ? d.n_valid : d.n_train;
    if (n < 1) { fprintf(stderr, "neurodyn ablate: %s: the %s split has no trials\n", data, split); goto done; }
    const float *x = sp ? d.valid : d.train, *ext = sp ? d.valid_ext : d.train_ext;
    const float *truth = sp ? d.valid_truth : d.train_truth, *counts = nd_lfads_recon(&d, sp);
    omp_set_num_threads((int)threads);
    nd_blas_set_threads((int)threads);
    ao.threads = (int)threads;
    if (nd_ablate_lfads(&m, x, ext, counts, truth, n, d.T, d.Tr, sp, &ao, &r, &err)) {
        fprintf(stderr, "neurodyn ablate: %s: %s\n", ckpt, err.msg);
        goto done;
    }
    int F = r.F;
    root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "checkpoint", ckpt);
    cJSON_AddStringToObject(root, "data", data);
    cJSON_AddStringToObject(root, "split", split);
    cJSON_AddNumberToObject(root, "trials", n);
    cJSON_AddNumberToObject(root, "factors", F);
    cJSON_AddNumberToObject(root, "orders", ao.orders);
    cJSON_AddStringToObject(root, "mode", ao.mode == ND_ABLATE_MEAN ? "mean" : "zero");
    cJSON *rows = cJSON_AddArrayToObject(root, "rows");
    for (int k = 0; k <= F; k++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "k", k);
        cJSON_AddNumberToObject(o, "nll_per_trial", r.nll[k]);
        cJSON_AddNumberToObject(o, "nll_increase", r.nll[k] - r.nll[0]);
        cJSON_AddNumberToObject(o, "nll_sd", r.nll_sd[k]);
        if (r.r2) { cJSON_AddNumberToObject(o, "rate_r2", r.r2[k]); cJSON_AddNumberToObject(o, "rate_r2_sd", r.r2_sd[k]); }
        cJSON_AddItemToArray(rows, o);
    }
    cJSON *single = cJSON_AddArrayToObject(root, "single_factor_nll_increase");
    for (int j = 0; j < F; j++) cJSON_AddItemToArray(single, cJSON_CreateNumber(r.single_dnll[j]));
    if (!json_stdout) {
        printf("ablation of the %d factors of %s on %d %s trials (%s; clamp to %s; mean over %d orders)\n", F, ckpt, n,
               split, data, ao.mode == ND_ABLATE_MEAN ? "mean" : "0", ao.orders);
        printf("%-4s %14s %12s %10s", "k", "NLL/trial", "increase", "sd");
        if (r.r2) printf(" %9s %8s", "rate R2", "sd");
        printf("\n");
        for (int k = 0; k <= F; k++) {
            printf("%-4d %14.2f %12.2f %10.2f", k, r.nll[k], r.nll[k] - r.nll[0], r.nll_sd[k]);
            if (r.r2) printf(" %9.4f %8.4f", r.r2[k], r.r2_sd[k]);
            printf("\n");
        }
        vj *ord = malloc(sizeof(vj) * (size_t)F);
        if (ord) {
            for (int j = 0; j < F; j++) { ord[j].v = r.single_dnll[j]; ord[j].j = j; }
            qsort(ord, (size_t)F, sizeof *ord, cmp_desc);
            printf("single-factor ablation, largest NLL increases per trial:");
            for (int j = 0; j < F && j < 5; j++) printf(" f%d +%.1f%s", ord[j].j, ord[j].v, j + 1 < F && j < 4 ? "," : "");
            printf("\n");
            free(ord);
        }
    }
    rc = 0;
    if ((json_stdout || json_path) && cli_write_json("ablate", root, json_path)) rc = 1;
done:
    cJSON_Delete(root);
    nd_ablate_result_free(&r);
    nd_lfads_data_free(&d);
    nd_lfads_free(&m);
    return rc;
}
