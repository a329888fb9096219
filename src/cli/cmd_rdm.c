/* neurodyn rdm DATA.h5:DATASET --distance ... --out RDM.h5 : representational dissimilarity
 * matrix of condition / trial patterns (src/analysis/rsa.h). */
#define _GNU_SOURCE
#include "cli.h"
#include "../analysis/data.h"
#include "../analysis/rsa.h"
#include "../core/mem.h"
#include "../io/h5.h"
#include <cjson/cJSON.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void rdm_usage(FILE *f) {
    fprintf(f,
            "usage: neurodyn rdm DATA.h5:DATASET --out RDM.h5 [--distance D] [--condition-average]\n"
            "                    [--conditions F:PATH] [--noise F:PATH] [--folds K] [--json]\n\n"
            "Computes the representational dissimilarity matrix (RDM) between patterns, with rsatoolbox's\n"
            "definitions. A 2-D dataset gives one pattern per row (conditions x channels); a 3-D dataset\n"
            "(trials x time x units) one pattern per trial with time*units channels, or per condition with\n"
            "--condition-average.\n\n"
            "distances (--distance, default correlation):\n"
            "  euclidean     squared Euclidean distance / number of channels\n"
            "  correlation   1 - Pearson r between the two patterns\n"
            "  mahalanobis   (a-b)^T S^-1 (a-b) / channels, S = --noise covariance (identity if none)\n"
            "  crossnobis    cross-validated Mahalanobis, leave one fold out: the mean over folds f of\n"
            "                (a_i - a_j)^T S^-1 (b_i - b_j) / channels, a = fold f's condition means, b = the\n"
            "                other folds' means. Needs --conditions; the k-th trial of every condition goes\n"
            "                to fold k mod K. Unbiased: can be negative.\n\n"
            "The output file holds 'rdm' (the upper triangle, row-major: (0,1), (0,2), ..., (1,2), ...),\n"
            "'rdm_square' (n x n), 'condition_ids' when patterns are conditions, and the attributes\n"
            "distance, source and n_patterns.\n\n"
            "options:\n"
            "  --out FILE            output HDF5 file (required; written atomically)\n"
            "  --distance D          euclidean, correlation, mahalanobis, crossnobis (default correlation)\n"
            "  --condition-average   one pattern per condition: the mean of its trials (needs --conditions)\n"
            "  --conditions F:PATH   1-D integer condition id per trial (e.g. data.h5:valid_condition)\n"
            "  --noise F:PATH        channels x channels noise covariance for mahalanobis / crossnobis\n"
            "                        (default identity)\n"
            "  --folds K             crossnobis folds (default: the smallest trial count of a condition)\n"
            "  --json                print a JSON summary on stdout\n");
}

int cmd_rdm(int argc, char **argv) {
    static const struct option opts[] = {{"out", required_argument, 0, 'o'},        {"distance", required_argument, 0, 'd'},
                                         {"condition-average", no_argument, 0, 'c'}, {"conditions", required_argument, 0, 'n'},
                                         {"noise", required_argument, 0, 'N'},       {"folds", required_argument, 0, 'f'},
                                         {"json", no_argument, 0, 'j'},              {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char *out = NULL, *conds = NULL, *noise = NULL, *dname = "correlation";
    int average = 0, folds = 0, json = 0, c, li = 0, xnobis = 0;
    nd_rdm_distance dist = ND_RDM_CORRELATION;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", opts, &li)) != -1) {
        char *end = NULL;
        switch (c) {
        case 'o': out = optarg; break;
        case 'd':
            dname = optarg;
            if (!strcmp(optarg, "crossnobis")) xnobis = 1;
            else {
                int v = nd_rdm_distance_from_name(optarg);
                if (v < 0) {
                    fprintf(stderr, "neurodyn rdm: unknown distance '%s' (euclidean, correlation, mahalanobis, crossnobis)\n", optarg);
                    return 2;
                }
                dist = (nd_rdm_distance)v;
                xnobis = 0;
            }
            break;
        case 'c': average = 1; break;
        case 'n': conds = optarg; break;
        case 'N': noise = optarg; break;
        case 'f': {
            long v = strtol(optarg, &end, 10);
            if (!*optarg || *end || v < 2 || v > 1000000) {
                fprintf(stderr, "neurodyn rdm: bad value '%s' for --folds (an integer >= 2)\n", optarg);
                return 2;
            }
            folds = (int)v;
            break;
        }
        case 'j': json = 1; break;
        case 'h': rdm_usage(stdout); return 0;
        default: cli_bad_option("rdm", argv); return 2;
        }
    }
    (void)li;
    if (optind != argc - 1 || !out) {
        fprintf(stderr, "neurodyn rdm: expected DATA.h5:DATASET and --out RDM.h5 (see --help)\n");
        return 2;
    }
    if (average && !conds) { fprintf(stderr, "neurodyn rdm: --condition-average needs --conditions FILE:DATASET\n"); return 2; }
    if (xnobis && !conds) { fprintf(stderr, "neurodyn rdm: crossnobis needs --conditions FILE:DATASET (folds are repeats of a condition)\n"); return 2; }
    if (xnobis && average) { fprintf(stderr, "neurodyn rdm: crossnobis averages per fold itself; drop --condition-average\n"); return 2; }
    if (noise && !xnobis && dist != ND_RDM_MAHALANOBIS) { fprintf(stderr, "neurodyn rdm: --noise applies to mahalanobis and crossnobis only\n"); return 2; }
    if (folds && !xnobis) { fprintf(stderr, "neurodyn rdm: --folds applies to crossnobis only\n"); return 2; }
    const char *spec = argv[optind];
    nd_error err;
    nd_amatrix m;
    nd_status st = nd_load_matrix(spec, conds, average, ND_LAYOUT_PATTERNS, &m, &err);
    if (st) { fprintf(stderr, "neurodyn rdm: %s\n", err.msg); return st == ND_ERR_ARG ? 2 : 1; }
    int rc = 1, n = m.rows, ch = m.cols, F = 0, *ids = NULL;
    double *rdm = NULL, *sq = NULL, *P = NULL;
    float *nz = NULL;
    double *S = NULL;
    nd_h5file *h = NULL;
    cJSON *root = NULL;
    if (noise) {
        char f[4096], d[1024];
        int r = 0;
        size_t dims[ND_H5_MAX_RANK];
        if (nd_split_spec(noise, f, sizeof f, d, sizeof d, &err) || nd_h5_read_float(f, d, &nz, &r, dims, &err)) {
            fprintf(stderr, "neurodyn rdm: --noise: %s\n", err.msg);
            goto done;
        }
        if (r != 2 || (int)dims[0] != ch || (int)dims[1] != ch) {
            fprintf(stderr, "neurodyn rdm: %s: noise covariance must be %d x %d (one row/column per channel)\n", noise, ch, ch);
            goto done;
        }
        S = nd_alloc(sizeof(double) * ch * ch);
        if (!S) { fprintf(stderr, "neurodyn rdm: out of memory\n"); goto done; }
        for (size_t i = 0; i < (size_t)ch * ch; i++) S[i] = nz[i];
    }
    if (xnobis) {
        if ((st = nd_fold_patterns(&m, folds, &P, &F, &n, &ids, &err))) {
            fprintf(stderr, "neurodyn rdm: %s: %s\n", spec, err.msg);
            goto done;
        }
    } else if (average) ids = m.cond_ids;
    if (n < 2) { fprintf(stderr, "neurodyn rdm: %s: needs at least 2 patterns (got %d)\n", spec, n); goto done; }
    size_t len = nd_rdm_len(n);
    rdm = nd_alloc(sizeof(double) * len);
    sq = nd_alloc(sizeof(double) * n * n);
    if (!rdm || !sq) { fprintf(stderr, "neurodyn rdm: out of memory for an RDM of %d patterns\n", n); goto done; }
    st = xnobis ? nd_rdm_crossnobis(P, F, n, ch, S, rdm, &err) : nd_rdm(m.x, n, ch, dist, S, rdm, &err);
    if (st) { fprintf(stderr, "neurodyn rdm: %s: %s\n", spec, err.msg); goto done; }
    nd_rdm_to_square(rdm, n, sq);
    size_t d1[1] = {len}, d2[2] = {(size_t)n, (size_t)n}, d3[1] = {(size_t)n};
    if (nd_h5_create(&h, out, &err) || nd_h5_write_double(h, "rdm", rdm, 1, d1, &err) ||
        nd_h5_write_double(h, "rdm_square", sq, 2, d2, &err) || (ids && nd_h5_write_int(h, "condition_ids", ids, 1, d3, &err)) ||
        nd_h5_write_attr_string(h, "/", "distance", dname, &err) || nd_h5_write_attr_string(h, "/", "source", spec, &err) ||
        nd_h5_write_attr_double(h, "/", "n_patterns", n, &err) || (xnobis && nd_h5_write_attr_double(h, "/", "folds", F, &err)) ||
        nd_h5_close(h, 1, &err)) {
        if (h) nd_h5_close(h, 0, NULL);
        h = NULL;
        fprintf(stderr, "neurodyn rdm: %s\n", err.msg);
        goto done;
    }
    h = NULL;
    double mean = 0, mn = INFINITY, mx = -INFINITY;
    for (size_t i = 0; i < len; i++) { mean += rdm[i]; mn = fmin(mn, rdm[i]); mx = fmax(mx, rdm[i]); }
    mean /= (double)len;
    if (json) {
        root = cJSON_CreateObject();
        cJSON_AddStringToObject(root, "source", spec);
        cJSON_AddStringToObject(root, "out", out);
        cJSON_AddStringToObject(root, "distance", dname);
        cJSON_AddNumberToObject(root, "patterns", n);
        cJSON_AddNumberToObject(root, "channels", ch);
        if (xnobis) cJSON_AddNumberToObject(root, "folds", F);
        cJSON_AddNumberToObject(root, "mean", mean);
        cJSON_AddNumberToObject(root, "min", mn);
        cJSON_AddNumberToObject(root, "max", mx);
        if (cli_write_json("rdm", root, NULL)) goto done;
    } else {
        printf("wrote %s: %s RDM of %d %s (%d channels", out, dname, n, ids ? "conditions" : "patterns", ch);
        if (xnobis) printf(", %d folds", F);
        printf(")\n");
        printf("dissimilarity: mean %.6g, min %.6g, max %.6g over %zu pairs\n", mean, mn, mx, len);
    }
    rc = 0;
done:
    if (h) nd_h5_close(h, 0, NULL);
    cJSON_Delete(root);
    if (ids != m.cond_ids) nd_free(ids);
    nd_free(rdm); nd_free(sq); nd_free(P); nd_free(nz); nd_free(S);
    nd_amatrix_free(&m);
    return rc;
}
