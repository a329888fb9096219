/* neurodyn ablate: silence a growing random subset of an LFADS model's factors at the read-out
 * and score the rates (Poisson NLL against the counts; rate R^2 against the truth). */
#define _GNU_SOURCE
#include "cli.h"
#include "opt.h"
#include "../analysis/ablate.h"
#include "../core/blas.h"
#include "../core/mem.h"
#include "../io/checkpoint.h"
#include "../io/lfads_data.h"
#include "../models/lfads_infer.h"
#include "../models/lfads_train.h"
#include <cjson/cJSON.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct { double v; int j; } vj;
static int cmp_desc(const void *a, const void *b) {
    const vj *x = a, *y = b;
    return x->v < y->v ? 1 : x->v > y->v ? -1 : x->j - y->j;
}

static const char ABOUT[] =
    "Ablation of the factors of a trained LFADS model (RUN: a run directory or a checkpoint). The factors of\n"
    "the split are inferred once (posterior means); then, for each of --orders random orders, k = 0..F\n"
    "factors are silenced (clamped to 0, or to their mean over the split's trials and bins) in the read-out\n"
    "rates = exp(factors ro_W + ro_bias); the generator is not re-run. Prints, per k, the Poisson negative\n"
    "log-likelihood per trial against the observed counts (sum over bins and neurons, as the model's\n"
    "reconstruction cost), its increase over k = 0 (mean and SD over orders) and, when DATA.h5 has the\n"
    "true rates, the rate R^2; then the factors whose single ablation costs most. DATA.h5 must be the data\n"
    "the model was trained on (the checkpoint's data fingerprint is checked, as by infer).\n";

int cmd_ablate(int argc, char **argv) {
    const char *data = NULL, *split = NULL, *mode = NULL;
    long orders = 0, seed = 0, threads = 0;
    int allow = 0;
    cli_json json = {0, NULL};
    const cli_opt opts[] = {
        {"data", 'd', CLI_STR, NULL, "the data file the model was trained on (required)", &data, 0, 0, NULL, "FILE"},
        {"allow-data-mismatch", 0, CLI_FLAG, NULL, "accept other trials of the same session (bins, neurons, ids must match)",
         &allow, 0, 0, NULL, NULL},
        {"split", 0, CLI_CHOICE, "valid", "the trials to score", &split, 0, 0, "train|valid", NULL},
        {"orders", 0, CLI_INT, "10", "random silencing orders to average", &orders, 1, 100000, NULL, "R"},
        {"mode", 0, CLI_CHOICE, "zero", "clamp silenced factors to 0 or to their mean", &mode, 0, 0, "zero|mean", NULL},
        {"seed", 0, CLI_INT, "0", "seed of the orders", &seed, 0, 9.2e18, NULL, NULL},
        {"threads", 't', CLI_THREADS, NULL, "threads for the inference", &threads, 0, 0, NULL, NULL},
        {"json", 0, CLI_JSON, NULL, "the results as JSON: to stdout instead of the table, or to FILE (atomically)",
         &json, 0, 0, NULL, NULL},
        {0}};
    const cli_spec spec = {"ablate", "RUN --data DATA.h5 [--orders 10] [--mode zero|mean] [--split valid] [--json[=FILE]]",
                           ABOUT, "run/ --data lorenz.h5 --orders 10\nrun/ --data lorenz.h5 --mode mean --json=ablate.json",
                           opts, 1, 1, "one RUN (run directory or checkpoint)", NULL};
    char *pos[argc > 0 ? argc : 1];
    int npos, rc = cli_parse(&spec, argc, argv, pos, &npos);
    if (rc) return rc < 0 ? 0 : rc;
    if (!data) {
        fprintf(stderr, "neurodyn ablate: expected RUN and --data DATA.h5 (see --help)\n");
        return 2;
    }
    nd_ablate_opts ao;
    nd_ablate_opts_default(&ao);
    ao.orders = (int)orders;
    ao.mode = strcmp(mode, "mean") ? ND_ABLATE_ZERO : ND_ABLATE_MEAN;
    ao.seed = (uint64_t)seed;
    nd_error err;
    char ckpt[4096];
    nd_lfads_model m;
    int mdims[3];
    if (cli_load_run("ablate", pos[0], ckpt, sizeof ckpt, &m, mdims)) return 1;
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
    if (cli_check_data("ablate", ckpt, &m, data, allow, &d)) {
        nd_lfads_free(&m);
        return 1;
    }
    rc = 1;
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
    const nd_lfads_split *s = &d.split[sp ? ND_VALID : ND_TRAIN];
    int n = s->n;
    if (n < 1) { fprintf(stderr, "neurodyn ablate: %s: the %s split has no trials\n", data, split); goto done; }
    const float *x = s->counts, *ext = s->ext, *truth = s->truth;
    const float *counts = nd_lfads_recon(&d, sp ? ND_VALID : ND_TRAIN);
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
    if (!json.on || json.path) {
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
    if ((json.on) && cli_write_json("ablate", root, json.path)) rc = 1;
done:
    cJSON_Delete(root);
    nd_ablate_result_free(&r);
    nd_lfads_data_free(&d);
    nd_lfads_free(&m);
    return rc;
}
