/* neurodyn jpca: parse, nd_jpca_file (src/analysis/jpca_file.c), print the table and the JSON. */
#define _GNU_SOURCE
#include "cli.h"
#include "opt.h"
#include "../analysis/jpca_file.h"
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

static const char ABOUT[] =
    "jPCA (Churchland et al. 2012): averages the {split}_factors of OUT.h5 (from 'neurodyn infer') over\n"
    "the trials of each condition (condition ids: {split}_condition of DATA.h5, as written by\n"
    "'neurodyn simulate'), soft-normalises each unit (x / (range + soft-norm)), subtracts the\n"
    "cross-condition mean at every bin, reduces to DIMS principal components and fits dX = X M with\n"
    "M skew-symmetric (M_skew, pure rotation) and unconstrained (M_best). Prints, per rotation plane\n"
    "(sorted by rotation speed), the rotation rate omega = |Im lambda| of M_skew in radians per bin,\n"
    "as a frequency and a period, the share of variance in the plane and the R^2 of M_skew and M_best\n"
    "restricted to it; then R^2 of M_skew vs M_best in all DIMS dimensions.\n";

int cmd_jpca(int argc, char **argv) {
    const char *outp = NULL;
    long k = 0, t0 = 0, t1 = 0;
    int no_norm = 0;
    cli_json json = {0, NULL};
    nd_jpca_file_opts fo;
    nd_jpca_file_opts_default(&fo);
    const cli_opt opts[] = {
        {"data", 'd', CLI_STR, NULL, "data file with {split}_condition (required)", &fo.data, 0, 0, NULL, "FILE"},
        {"split", 0, CLI_CHOICE, "valid", "the trials to average", &fo.split, 0, 0, "train|valid", NULL},
        {"conditions|condition", 0, CLI_STR, NULL, "condition ids of the trials, a 1-D integer dataset (default:\n"
         "                             {split}_condition of --data)", &fo.conditions, 0, 0, NULL, "FILE:PATH"},
        {"dataset", 0, CLI_STR, "factors", "analyse {split}_NAME of OUT.h5 (e.g. gen_states, output_params; with\n"
         "                             OUT.h5 = DATA.h5, 'latents' or 'truth' analyse the ground truth)", &fo.dataset, 0, 0,
         NULL, "NAME"},
        {"dims", 0, CLI_INT, "6", "jPCA dimensions, even", &k, 2, 10000, NULL, "K"},
        {"start", 0, CLI_INT, "0", "first bin of the analysis window", &t0, 0, 1000000, NULL, "BIN"},
        {"end", 0, CLI_INT, NULL, "one past the last bin of the window (default: all bins)", &t1, 1, 1000000, NULL, "BIN"},
        {"soft-norm", 0, CLI_REAL, "10", "soft-normalisation constant (for rates in Hz)", &fo.jpca.soft_norm, 0, 1e300,
         NULL, "X"},
        {"no-normalize", 0, CLI_FLAG, NULL, "skip the soft normalisation", &no_norm, 0, 0, NULL, NULL},
        {"bin-ms", 0, CLI_REAL, NULL, "bin width for frequencies in Hz (default: DATA.h5's bin_ms attribute, else\n"
         "                             frequencies are given per bin only)", &fo.bin_ms, 1e-300, 1e300, NULL, "MS"},
        {"json", 0, CLI_JSON, NULL, "the results as JSON: to stdout instead of the table, or to FILE (atomically)",
         &json, 0, 0, NULL, NULL},
        {"out", 'o', CLI_STR, NULL, "write the projections [conditions][bins][dims] (proj), M_skew, M_best (row\n"
         "                             convention dX = X M), the jPC and PC axes, eigenvalues and condition ids to HDF5",
         &outp, 0, 0, NULL, "FILE"},
        {0}};
    const cli_spec spec = {"jpca", "OUT.h5 --data DATA.h5 [--dims 6] [--split valid] [--conditions FILE:PATH]\n"
                           "                     [--json[=FILE]] [-o jpca.h5]", ABOUT,
                           "lorenz_out.h5 --data lorenz.h5 --dims 6 -o jpca.h5\n"
                           "lorenz.h5 --data lorenz.h5 --dataset latents --dims 2 --json",
                           opts, 1, 1, "OUT.h5 and --data DATA.h5", NULL};
    char *pos[argc > 0 ? argc : 1];
    int npos, rc = cli_parse(&spec, argc, argv, pos, &npos);
    if (rc) return rc < 0 ? 0 : rc;
    if (!fo.data) {
        fprintf(stderr, "neurodyn jpca: expected OUT.h5 and --data DATA.h5 (see --help)\n");
        return 2;
    }
    if (k % 2) { fprintf(stderr, "neurodyn jpca: bad value '%ld' for --dims (an even number)\n", k); return 2; }
    if (!*fo.dataset || strlen(fo.dataset) > 200) { fprintf(stderr, "neurodyn jpca: bad --dataset\n"); return 2; }
    fo.out = pos[0];
    fo.jpca.k = (int)k;
    fo.jpca.t_start = (int)t0;
    fo.jpca.t_end = (int)t1;
    if (no_norm) fo.jpca.normalize = 0;
    const nd_jpca_opts jo = fo.jpca;
    if (jo.t_end > 0 && jo.t_end - jo.t_start < 2) {
        fprintf(stderr, "neurodyn jpca: the window --start %d --end %d holds fewer than 2 bins\n", jo.t_start, jo.t_end);
        return 2;
    }
    nd_jpca_file_result x;
    nd_error err;
    nd_status st = nd_jpca_file(&fo, &x, &err);
    if (st) {
        fprintf(stderr, "neurodyn jpca: %s\n", err.msg);
        return st == ND_ERR_ARG ? 2 : 1;
    }
    const char *out = fo.out, *fname = x.name;
    const nd_jpca_result r = x.r;
    const int C = x.C, n = x.n, T = x.T, F = x.F, cmin = x.cmin, cmax = x.cmax, np = r.nplanes;
    const double bin_ms = x.bin_ms;
    const int json_stdout = json.on && !json.path;
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "outputs", out);
    cJSON_AddStringToObject(root, "dataset", fname);
    cJSON_AddNumberToObject(root, "conditions", C);
    cJSON_AddNumberToObject(root, "trials", n);
    cJSON_AddNumberToObject(root, "bins", T);
    cJSON_AddNumberToObject(root, "units", F);
    cJSON_AddNumberToObject(root, "dims", r.k);
    cJSON_AddNumberToObject(root, "t_start", r.t_start);
    cJSON_AddNumberToObject(root, "t_end", r.t_end);
    cJSON_AddNumberToObject(root, "soft_norm", jo.normalize ? jo.soft_norm : -1);
    cJSON_AddNumberToObject(root, "pca_var_frac", r.pca_var_frac);
    if (bin_ms > 0) cJSON_AddNumberToObject(root, "bin_ms", bin_ms);
    cJSON *pl = cJSON_AddArrayToObject(root, "planes");
    for (int p = 0; p < np; p++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "omega_rad_per_bin", r.omega[p]);
        cJSON_AddNumberToObject(o, "cycles_per_bin", r.omega[p] / (2 * M_PI));
        if (bin_ms > 0) cJSON_AddNumberToObject(o, "freq_hz", r.omega[p] / (2 * M_PI) / (bin_ms / 1000));
        cJSON_AddNumberToObject(o, "var_frac", r.plane_var_frac[p]);
        cJSON_AddNumberToObject(o, "r2_skew", r.r2_skew_plane[p]);
        cJSON_AddNumberToObject(o, "r2_best", r.r2_best_plane[p]);
        cJSON_AddItemToArray(pl, o);
    }
    cJSON_AddNumberToObject(root, "r2_skew", r.r2_skew);
    cJSON_AddNumberToObject(root, "r2_best", r.r2_best);
    if (!json_stdout) {
        printf("jPCA of %s:%s: %d conditions (%d-%d trials each), window [%d, %d) of %d bins, %d units\n", out, fname, C,
               cmin, cmax, r.t_start, r.t_end, T, F);
        char sn[32] = "off";
        if (jo.normalize) snprintf(sn, sizeof sn, "%g", jo.soft_norm);
        printf("%d PCs hold %.1f%% of the variance (soft-norm %s)\n", r.k, 100 * r.pca_var_frac, sn);
        printf("%-6s %13s %10s %13s %7s %9s %9s\n", "plane", "omega rad/bin", bin_ms > 0 ? "freq Hz" : "cyc/bin",
               "period bins", "var %", "R2 skew", "R2 best");
        for (int p = 0; p < np; p++) {
            double f = r.omega[p] / (2 * M_PI);
            printf("%-6d %13.4f %10.4g %13.1f %7.1f %9.3f %9.3f\n", p + 1, r.omega[p], bin_ms > 0 ? f / (bin_ms / 1000) : f,
                   r.omega[p] > 0 ? 2 * M_PI / r.omega[p] : INFINITY, 100 * r.plane_var_frac[p], r.r2_skew_plane[p],
                   r.r2_best_plane[p]);
        }
        printf("R^2 of dX = X M in %d dims: M_skew %.3f, M_best %.3f (skew/best %.2f)\n", r.k, r.r2_skew, r.r2_best,
               r.r2_best > 0 ? r.r2_skew / r.r2_best : NAN);
    }
    rc = json.on && cli_write_json("jpca", root, json.path) ? 1 : 0;
    if (outp) {
        if (nd_jpca_file_write(outp, &x, out, &err)) { fprintf(stderr, "neurodyn jpca: %s\n", err.msg); rc = 1; }
        else if (!json_stdout) printf("wrote %s\n", outp);
    }
    cJSON_Delete(root);
    nd_jpca_file_result_free(&x);
    return rc;
}
