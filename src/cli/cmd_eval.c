#define _GNU_SOURCE
#include "cli.h"
#include "../core/mem.h"
#include "../eval/metrics.h"
#include "../eval/regress.h"
#include "../io/checkpoint.h"
#include "../io/h5.h"
#include "../io/lfads_data.h"
#include <cjson/cJSON.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void eval_usage(FILE *f) {
    fprintf(f,
            "usage: neurodyn eval OUT.h5 --data DATA.h5 [--json metrics.json] [--kernel-ms 50] [--bin-ms MS]\n\n"
            "Scores inferred rates (OUT.h5 from 'neurodyn infer', or any file with valid_output_params in\n"
            "counts per bin) against what DATA.h5 knows:\n"
            "  rate_r2          R^2 of valid rates vs valid_truth (mean over neurons, as sklearn r2_score)\n"
            "  smoothing_rate_r2  the same for Gaussian-smoothed spikes (--kernel-ms), a baseline\n"
            "  latent_r2        R^2 of a linear map factors -> true latents (fit on train, scored on valid)\n"
            "  input_peak_*     timing of inferred-input peaks vs true input pulses (chaotic-rnn --input-pulses);\n"
            "                   the first and last 5 bins are not searched (start-of-trial transient)\n"
            "co_bps, fp_bps, vel_r2, psth_r2 need held-out neurons/bins/behaviour; when not computable they are\n"
            "listed with the reason under \"not_computed\" in the JSON.\n\n"
            "options:\n"
            "  --data FILE      the data file the outputs were inferred from (required)\n"
            "  --json FILE      write the metrics as JSON (atomically)\n"
            "  --kernel-ms MS   smoothing baseline kernel SD in ms (default 50)\n"
            "  --bin-ms MS      bin size in ms (default: the data file's bin_ms attribute, else 20)\n");
}

typedef struct {
    float *a;
    size_t dims[8];
    int rank;
} arr;

static int read_opt(const char *path, const char *name, arr *x, nd_error *err) {
    memset(x, 0, sizeof *x);
    if (!nd_h5_exists(path, name)) return 0;
    if (nd_h5_read_float(path, name, &x->a, &x->rank, x->dims, err) != ND_OK) return -1;
    return 1;
}

int cmd_eval(int argc, char **argv) {
    static const struct option opts[] = {{"data", required_argument, 0, 'd'},   {"json", required_argument, 0, 'j'},
                                         {"kernel-ms", required_argument, 0, 'k'}, {"bin-ms", required_argument, 0, 'b'},
                                         {"help", no_argument, 0, 'h'},          {0, 0, 0, 0}};
    const char *data = NULL, *json = NULL;
    double kernel_ms = 50, bin_ms = -1;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        char *end = NULL;
        switch (c) {
        case 'd': data = optarg; break;
        case 'j': json = optarg; break;
        case 'k': kernel_ms = strtod(optarg, &end); if (*end || !(kernel_ms > 0)) goto bad; break;
        case 'b': bin_ms = strtod(optarg, &end); if (*end || !(bin_ms > 0)) goto bad; break;
        case 'h': eval_usage(stdout); return 0;
        default: cli_bad_option("eval", argv); return 2;
        }
        continue;
    bad:
        fprintf(stderr, "neurodyn eval: bad value '%s' (see --help)\n", optarg);
        return 2;
    }
    if (optind != argc - 1 || !data) {
        fprintf(stderr, "neurodyn eval: expected OUT.h5 and --data DATA.h5 (see --help)\n");
        return 2;
    }
    const char *out = argv[optind];
    nd_error err;
    int rc = 1;
    double split_seed = 0, vf = 0.2;
    nd_h5_read_attr_double(out, "/", "split_seed", &split_seed, NULL);
    nd_h5_read_attr_double(out, "/", "valid_fraction", &vf, NULL);
    if (bin_ms <= 0 && nd_h5_read_attr_double(data, "/", "bin_ms", &bin_ms, NULL) != ND_OK) bin_ms = 20;
    nd_lfads_data d;
    arr rates = {0}, fac_tr = {0}, fac_va = {0}, lat_tr = {0}, lat_va = {0}, u_va = {0}, co_va = {0};
    float *smooth = NULL;
    cJSON *root = cJSON_CreateObject(), *nc = cJSON_CreateObject();
    if (nd_lfads_data_read(data, (uint64_t)split_seed, vf, &d, &err) != ND_OK) {
        fprintf(stderr, "neurodyn eval: %s\n", err.msg);
        cJSON_Delete(root); cJSON_Delete(nc);
        return 1;
    }
    if (read_opt(out, "valid_output_params", &rates, &err) <= 0) {
        if (!rates.a) snprintf(err.msg, sizeof err.msg, "%s: dataset 'valid_output_params': missing", out);
        fprintf(stderr, "neurodyn eval: %s\n", err.msg);
        goto done;
    }
    if (rates.rank != 3 || (int)rates.dims[0] != d.n_valid || (int)rates.dims[1] != d.Tr || (int)rates.dims[2] != d.Nr) {
        fprintf(stderr, "neurodyn eval: %s: dataset 'valid_output_params': shape does not match the validation "
                        "targets of %s (%d, %d, %d)\n", out, data, d.n_valid, d.Tr, d.Nr);
        goto done;
    }
    cJSON_AddStringToObject(root, "outputs", out);
    cJSON_AddStringToObject(root, "data", data);
    cJSON_AddNumberToObject(root, "valid_trials", d.n_valid);
    printf("%-28s %s\n", "metric (valid trials)", "value");
    if (d.valid_truth) {
        double r2 = nd_r2_score_3d(rates.a, d.valid_truth, d.n_valid, d.Tr, d.Nr);
        size_t n = (size_t)d.n_valid * d.T * d.N;
        smooth = nd_alloc(sizeof(float) * n * 2);
        if (!smooth) { fprintf(stderr, "neurodyn eval: out of memory\n"); goto done; }
        /* the baseline smooths the observed (held-in) spikes: score it on that block of the truth */
        float *tin = smooth + n;
        for (int i = 0; i < d.n_valid; i++)
            for (int t = 0; t < d.T; t++)
                memcpy(tin + ((size_t)i * d.T + t) * d.N, d.valid_truth + ((size_t)i * d.Tr + t) * d.Nr,
                       sizeof(float) * d.N);
        nd_smooth_gaussian(smooth, d.valid, d.n_valid, d.T, d.N, kernel_ms / bin_ms);
        double r2s = nd_r2_score_3d(smooth, tin, d.n_valid, d.T, d.N);
        printf("%-28s %.4f\n", "rate_r2", r2);
        printf("%-28s %.4f  (Gaussian kernel SD %.0f ms)\n", "smoothing_rate_r2", r2s, kernel_ms);
        cJSON_AddNumberToObject(root, "rate_r2", r2);
        cJSON_AddNumberToObject(root, "smoothing_rate_r2", r2s);
        cJSON_AddNumberToObject(root, "smoothing_kernel_ms", kernel_ms);
    } else {
        cJSON_AddStringToObject(nc, "rate_r2", "the data file has no valid_truth (true rates)");
        printf("%-28s -  (no valid_truth in the data)\n", "rate_r2");
    }
    /* latent recovery: linear map from factors to the true latents */
    int have = read_opt(out, "train_factors", &fac_tr, &err) > 0 && read_opt(out, "valid_factors", &fac_va, &err) > 0 &&
               read_opt(data, "train_latents", &lat_tr, &err) > 0 && read_opt(data, "valid_latents", &lat_va, &err) > 0;
    if (have && fac_tr.rank == 3 && lat_tr.rank == 3 && fac_va.rank == 3 && lat_va.rank == 3 &&
        fac_tr.dims[0] * fac_tr.dims[1] == lat_tr.dims[0] * lat_tr.dims[1] &&
        fac_va.dims[0] * fac_va.dims[1] == lat_va.dims[0] * lat_va.dims[1] && lat_tr.dims[2] == lat_va.dims[2]) {
        double r2;
        if (nd_lstsq_r2(fac_tr.a, lat_tr.a, fac_tr.dims[0] * fac_tr.dims[1], fac_va.a, lat_va.a,
                        fac_va.dims[0] * fac_va.dims[1], (int)fac_tr.dims[2], (int)lat_tr.dims[2], &r2, &err) == ND_OK) {
            printf("%-28s %.4f  (linear map factors -> %zu true latents, fit on train)\n", "latent_r2", r2,
                   lat_tr.dims[2]);
            cJSON_AddNumberToObject(root, "latent_r2", r2);
        } else cJSON_AddStringToObject(nc, "latent_r2", err.msg);
    } else cJSON_AddStringToObject(nc, "latent_r2", "needs train/valid factors and *_latents of matching shape");
    /* input pulses */
    if (read_opt(data, "valid_inputs", &u_va, &err) > 0 && read_opt(out, "valid_co_means", &co_va, &err) > 0 &&
        u_va.rank == 3 && co_va.rank == 3 && (int)u_va.dims[0] == d.n_valid && (int)co_va.dims[0] == d.n_valid &&
        (int)u_va.dims[1] == d.Tr && (int)co_va.dims[1] == d.Tr) {
        double med, frac, mean;
        int m = nd_pulse_timing(u_va.a, (int)u_va.dims[2], co_va.a, (int)co_va.dims[2], d.n_valid, d.Tr, 2, 5, &med, &frac,
                                &mean);
        if (m > 0) {
            printf("%-28s %.1f bins  (%d trials; %.0f%% within 2 bins; mean signed %.2f; first/last 5 bins not "
                   "searched)\n",
                   "input_peak_median_offset", med, m, 100 * frac, mean);
            cJSON_AddNumberToObject(root, "input_peak_median_abs_offset_bins", med);
            cJSON_AddNumberToObject(root, "input_peak_frac_within_2_bins", frac);
            cJSON_AddNumberToObject(root, "input_peak_mean_offset_bins", mean);
            cJSON_AddNumberToObject(root, "input_pulse_trials", m);
        }
    }
    cJSON_AddStringToObject(nc, "co_bps", "no held-out neurons in the data");
    cJSON_AddStringToObject(nc, "fp_bps", "no forward-prediction bins in the data");
    cJSON_AddStringToObject(nc, "vel_r2", "no behaviour in the data");
    cJSON_AddStringToObject(nc, "psth_r2", "no condition ids / true PSTHs in the data");
    cJSON_AddItemToObject(root, "not_computed", nc);
    nc = NULL;
    rc = 0;
    if (json) {
        char *txt = cJSON_Print(root);
        if (!txt || nd_write_file_atomic(json, txt, strlen(txt), &err) != ND_OK) {
            fprintf(stderr, "neurodyn eval: %s\n", txt ? err.msg : "out of memory");
            rc = 1;
        }
        free(txt);
    }
done:
    cJSON_Delete(root);
    cJSON_Delete(nc);
    nd_free(smooth);
    nd_free(rates.a); nd_free(fac_tr.a); nd_free(fac_va.a); nd_free(lat_tr.a); nd_free(lat_va.a);
    nd_free(u_va.a); nd_free(co_va.a);
    nd_lfads_data_free(&d);
    return rc;
}
