/* neurodyn jpca: rotational dynamics (jPCA) of condition-averaged LFADS factors. */
#define _GNU_SOURCE
#include "cli.h"
#include "../analysis/jpca.h"
#include "../core/mem.h"
#include "../io/checkpoint.h"
#include "../io/h5.h"
#include <cjson/cJSON.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void jpca_usage(FILE *f) {
    fprintf(f,
            "usage: neurodyn jpca OUT.h5 --data DATA.h5 [--dims 6] [--split valid] [--json[=FILE]] [--out jpca.h5]\n\n"
            "jPCA (Churchland et al. 2012): averages the {split}_factors of OUT.h5 (from 'neurodyn infer') over\n"
            "the trials of each condition (condition ids: {split}_condition of DATA.h5, as written by\n"
            "'neurodyn simulate'), soft-normalises each unit (x / (range + soft-norm)), subtracts the\n"
            "cross-condition mean at every bin, reduces to DIMS principal components and fits dX = X M with\n"
            "M skew-symmetric (M_skew, pure rotation) and unconstrained (M_best). Prints, per rotation plane\n"
            "(sorted by rotation speed), the rotation rate omega = |Im lambda| of M_skew in radians per bin,\n"
            "as a frequency and a period, the share of variance in the plane and the R^2 of M_skew and M_best\n"
            "restricted to it; then R^2 of M_skew vs M_best in all DIMS dimensions.\n\n"
            "options:\n"
            "  --data FILE       data file with {split}_condition (required)\n"
            "  --split NAME      train or valid (default valid)\n"
            "  --dataset NAME    analyse {split}_NAME of OUT.h5 (default factors; e.g. gen_states, output_params;\n"
            "                    with OUT.h5 = DATA.h5, 'latents' or 'truth' analyse the ground truth)\n"
            "  --dims K          jPCA dimensions, even (default 6)\n"
            "  --start BIN       first bin of the analysis window (default 0)\n"
            "  --end BIN         one past the last bin of the window (default: all bins)\n"
            "  --soft-norm X     soft-normalisation constant (default 10, for rates in Hz)\n"
            "  --no-normalize    skip the soft normalisation\n"
            "  --bin-ms MS       bin width for frequencies in Hz (default: DATA.h5's bin_ms attribute, else\n"
            "                    frequencies are given per bin only)\n"
            "  --json[=FILE]     print the results as JSON instead of the table; --json=FILE writes the JSON to\n"
            "                    FILE (atomically) and still prints the table\n"
            "  --out FILE        write the projections [conditions][bins][dims] (proj), M_skew, M_best (row\n"
            "                    convention dX = X M), the jPC and PC axes, eigenvalues and condition ids to HDF5\n");
}

typedef struct { int id, count; } cond_t;
static int cmp_int(const void *a, const void *b) {
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

static nd_status write_out(const char *path, const nd_jpca_result *r, const double *avg, const int *ids, int F,
                           const char *src, const char *dsname, nd_error *err) {
    nd_h5file *h = NULL;
    nd_status st = nd_h5_create(&h, path, err);
    size_t k = (size_t)r->k, np = (size_t)r->nplanes, C = (size_t)r->C, T = (size_t)r->T, Fz = (size_t)F;
    size_t dproj[3] = {C, T, k}, dkk[2] = {k, k}, dfk[2] = {Fz, k}, d1k[1] = {k}, d1p[1] = {np}, d1c[1] = {C},
           davg[3] = {C, T, Fz}, d1f[1] = {Fz};
    if (!st) st = nd_h5_write_double(h, "proj", r->proj, 3, dproj, err);
    if (!st) st = nd_h5_write_double(h, "M_skew", r->M_skew, 2, dkk, err);
    if (!st) st = nd_h5_write_double(h, "M_best", r->M_best, 2, dkk, err);
    if (!st) st = nd_h5_write_double(h, "jpcs", r->jpcs, 2, dfk, err);
    if (!st) st = nd_h5_write_double(h, "pcs", r->pcs, 2, dfk, err);
    if (!st) st = nd_h5_write_double(h, "plane_basis", r->plane_basis, 2, dkk, err);
    if (!st) st = nd_h5_write_double(h, "eig_re", r->eig_re, 1, d1k, err);
    if (!st) st = nd_h5_write_double(h, "eig_im", r->eig_im, 1, d1k, err);
    if (!st) st = nd_h5_write_double(h, "pc_var_frac", r->pc_var_frac, 1, d1k, err);
    if (!st) st = nd_h5_write_double(h, "omega", r->omega, 1, d1p, err);
    if (!st) st = nd_h5_write_double(h, "plane_var_frac", r->plane_var_frac, 1, d1p, err);
    if (!st) st = nd_h5_write_double(h, "r2_skew_plane", r->r2_skew_plane, 1, d1p, err);
    if (!st) st = nd_h5_write_double(h, "r2_best_plane", r->r2_best_plane, 1, d1p, err);
    if (!st) st = nd_h5_write_double(h, "norm_scale", r->norm_scale, 1, d1f, err);
    if (!st) st = nd_h5_write_double(h, "condition_mean", avg, 3, davg, err);
    if (!st) st = nd_h5_write_int(h, "condition_ids", ids, 1, d1c, err);
    if (!st) st = nd_h5_write_attr_double(h, "/", "r2_skew", r->r2_skew, err);
    if (!st) st = nd_h5_write_attr_double(h, "/", "r2_best", r->r2_best, err);
    if (!st) st = nd_h5_write_attr_double(h, "/", "pca_var_frac", r->pca_var_frac, err);
    if (!st) st = nd_h5_write_attr_double(h, "/", "t_start", r->t_start, err);
    if (!st) st = nd_h5_write_attr_double(h, "/", "t_end", r->t_end, err);
    if (!st) st = nd_h5_write_attr_string(h, "/", "source", src, err);
    if (!st) st = nd_h5_write_attr_string(h, "/", "dataset", dsname, err);
    if (!st) st = nd_h5_write_attr_string(h, "/", "convention",
                                          "row vectors: dX = X M; omega = |Im lambda| of M_skew in radians per bin", err);
    if (h) {
        nd_error e2;
        nd_status cs = nd_h5_close(h, st == ND_OK, st ? &e2 : err);
        if (!st) st = cs;
    }
    return st;
}

int cmd_jpca(int argc, char **argv) {
    static const struct option opts[] = {
        {"data", required_argument, 0, 'd'},      {"split", required_argument, 0, 's'},
        {"dataset", required_argument, 0, 'D'},   {"dims", required_argument, 0, 'k'},
        {"start", required_argument, 0, 'a'},     {"end", required_argument, 0, 'e'},
        {"soft-norm", required_argument, 0, 'n'}, {"no-normalize", no_argument, 0, 'N'},
        {"bin-ms", required_argument, 0, 'b'},    {"json", optional_argument, 0, 'j'},
        {"out", required_argument, 0, 'o'},       {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0}};
    const char *data = NULL, *split = "valid", *dsname = "factors", *json_path = NULL, *outp = NULL;
    int json_stdout = 0, c, li = -1;
    nd_jpca_opts jo;
    nd_jpca_opts_default(&jo);
    double bin_ms = -1;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", opts, &li)) != -1) {
        char *end = NULL;
        long v;
        switch (c) {
        case 'd': data = optarg; break;
        case 's': split = optarg; if (strcmp(split, "train") && strcmp(split, "valid")) goto bad; break;
        case 'D': dsname = optarg; if (!*dsname || strlen(dsname) > 200) goto bad; break;
        case 'k': v = strtol(optarg, &end, 10); if (*end || v < 2 || v % 2 || v > 10000) goto bad; jo.k = (int)v; break;
        case 'a': v = strtol(optarg, &end, 10); if (*end || v < 0 || v > 1000000) goto bad; jo.t_start = (int)v; break;
        case 'e': v = strtol(optarg, &end, 10); if (*end || v < 1 || v > 1000000) goto bad; jo.t_end = (int)v; break;
        case 'n': jo.soft_norm = strtod(optarg, &end); if (*end || !(jo.soft_norm >= 0) || !isfinite(jo.soft_norm)) goto bad; break;
        case 'N': jo.normalize = 0; break;
        case 'b': bin_ms = strtod(optarg, &end); if (*end || !(bin_ms > 0) || !isfinite(bin_ms)) goto bad; break;
        case 'j': if (optarg) json_path = optarg; else json_stdout = 1; break;
        case 'o': outp = optarg; break;
        case 'h': jpca_usage(stdout); return 0;
        default: cli_bad_option("jpca", argv); return 2;
        }
        continue;
    bad:
        fprintf(stderr, "neurodyn jpca: bad value '%s' for --%s (see --help)\n", optarg, li >= 0 ? opts[li].name : "?");
        return 2;
    }
    if (optind != argc - 1 || !data) {
        fprintf(stderr, "neurodyn jpca: expected OUT.h5 and --data DATA.h5 (see --help)\n");
        return 2;
    }
    if (jo.t_end > 0 && jo.t_end - jo.t_start < 2) {
        fprintf(stderr, "neurodyn jpca: the window --start %d --end %d holds fewer than 2 bins\n", jo.t_start, jo.t_end);
        return 2;
    }
    const char *out = argv[optind];
    nd_error err;
    int rc = 1;
    char fname[256], cname[64];
    snprintf(fname, sizeof fname, "%s_%s", split, dsname);
    snprintf(cname, sizeof cname, "%s_condition", split);
    float *fac = NULL;
    int *cond = NULL, *ids = NULL;
    double *avg = NULL;
    int *cnt = NULL;
    nd_jpca_result r;
    memset(&r, 0, sizeof r);
    cJSON *root = NULL;
    int rank = 0, crank = 0;
    size_t dims[ND_H5_MAX_RANK], cdims[ND_H5_MAX_RANK];
    if (nd_h5_check_file(out, &err) || nd_h5_check_file(data, &err)) { fprintf(stderr, "neurodyn jpca: %s\n", err.msg); return 1; }
    if (!nd_h5_exists(out, fname)) {
        fprintf(stderr, "neurodyn jpca: %s: dataset '%s': missing (run 'neurodyn infer' to get factors)\n", out, fname);
        return 1;
    }
    if (!nd_h5_exists(data, cname)) {
        fprintf(stderr, "neurodyn jpca: %s: dataset '%s': missing (jPCA needs a condition id per trial to average "
                        "trials; 'neurodyn simulate' writes them)\n", data, cname);
        return 1;
    }
    if (nd_h5_read_float(out, fname, &fac, &rank, dims, &err) || nd_h5_read_int(data, cname, &cond, &crank, cdims, &err)) {
        fprintf(stderr, "neurodyn jpca: %s\n", err.msg);
        goto done;
    }
    if (rank != 3) { fprintf(stderr, "neurodyn jpca: %s: dataset '%s': expected rank 3 (trials, bins, units), got rank %d\n", out, fname, rank); goto done; }
    if (crank != 1 || cdims[0] != dims[0]) {
        fprintf(stderr, "neurodyn jpca: %s: dataset '%s': expected %zu condition ids (one per trial of %s:%s), got shape %s%zu\n",
                data, cname, dims[0], out, fname, crank == 1 ? "" : "rank != 1, first dim ", crank ? cdims[0] : 0);
        goto done;
    }
    int n = (int)dims[0], T = (int)dims[1], F = (int)dims[2];
    for (size_t i = 0; i < (size_t)n * T * F; i++)
        if (!isfinite(fac[i])) { fprintf(stderr, "neurodyn jpca: %s: dataset '%s': NaN/Inf at trial %zu\n", out, fname, i / ((size_t)T * F)); goto done; }
    /* distinct condition ids, ascending */
    ids = malloc(sizeof(int) * (n ? n : 1));
    if (!ids) { fprintf(stderr, "neurodyn jpca: out of memory\n"); goto done; }
    memcpy(ids, cond, sizeof(int) * n);
    qsort(ids, (size_t)n, sizeof(int), cmp_int);
    int C = 0;
    for (int i = 0; i < n; i++) if (i == 0 || ids[i] != ids[i - 1]) ids[C++] = ids[i];
    if (C < 2) { fprintf(stderr, "neurodyn jpca: %s: dataset '%s': jPCA needs at least 2 conditions (got %d)\n", data, cname, C); goto done; }
    avg = nd_alloc(sizeof(double) * (size_t)C * T * F);
    cnt = nd_alloc(sizeof(int) * (size_t)C);
    if (!avg || !cnt) { fprintf(stderr, "neurodyn jpca: out of memory\n"); goto done; }
    for (int i = 0; i < n; i++) {
        int *p = bsearch(&cond[i], ids, (size_t)C, sizeof(int), cmp_int);
        int ci = (int)(p - ids);
        cnt[ci]++;
        for (size_t j = 0; j < (size_t)T * F; j++) avg[(size_t)ci * T * F + j] += fac[(size_t)i * T * F + j];
    }
    for (int ci = 0; ci < C; ci++)
        for (size_t j = 0; j < (size_t)T * F; j++) avg[(size_t)ci * T * F + j] /= cnt[ci];
    if (jo.t_end > T || jo.t_start > T - 2 || (jo.t_end > 0 && jo.t_end - jo.t_start < 2)) {
        fprintf(stderr, "neurodyn jpca: window [%d, %d) must hold >= 2 bins within the %d bins of %s:%s\n", jo.t_start, jo.t_end > 0 ? jo.t_end : T, T, out, fname);
        rc = 2;
        goto done;
    }
    if (jo.k > F) {
        fprintf(stderr, "neurodyn jpca: --dims %d exceeds the %d units of %s:%s\n", jo.k, F, out, fname);
        rc = 2;
        goto done;
    }
    if (nd_jpca(avg, C, T, F, &jo, &r, &err)) { fprintf(stderr, "neurodyn jpca: %s:%s: %s\n", out, fname, err.msg); goto done; }
    if (bin_ms <= 0 && nd_h5_read_attr_double(data, "/", "bin_ms", &bin_ms, NULL) != ND_OK) bin_ms = -1;
    int np = r.nplanes, cmin = n, cmax = 0;
    for (int ci = 0; ci < C; ci++) { if (cnt[ci] < cmin) cmin = cnt[ci]; if (cnt[ci] > cmax) cmax = cnt[ci]; }
    root = cJSON_CreateObject();
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
    rc = 0;
    if ((json_stdout || json_path) && cli_write_json("jpca", root, json_path)) rc = 1;
    if (outp) {
        char src[1200];
        snprintf(src, sizeof src, "%s", out);
        if (write_out(outp, &r, avg, ids, F, src, fname, &err)) { fprintf(stderr, "neurodyn jpca: %s\n", err.msg); rc = 1; }
        else if (!json_stdout) printf("wrote %s\n", outp);
    }
done:
    cJSON_Delete(root);
    nd_jpca_result_free(&r);
    nd_free(fac); nd_free(cond); free(ids); nd_free(avg); nd_free(cnt);
    return rc;
}
