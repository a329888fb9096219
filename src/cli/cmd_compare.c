/* neurodyn compare A.h5:DATASET B.h5:DATASET --method ... : representational similarity of two
 * representations of the same samples (src/analysis/compare.h, rsa.h). */
#define _GNU_SOURCE
#include "cli.h"
#include "../analysis/compare.h"
#include "../analysis/data.h"
#include "../analysis/rsa.h"
#include "../core/mem.h"
#include "../core/rng.h"
#include <cjson/cJSON.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void compare_usage(FILE *f) {
    fprintf(f,
            "usage: neurodyn compare A.h5:DATASET B.h5:DATASET [--method M] [--json] [options]\n\n"
            "Compares two representations of the same samples, e.g. the factors of two LFADS runs\n"
            "(out1.h5:valid_factors out2.h5:valid_factors) or model units and recorded neurons.\n"
            "A DATASET is any numeric HDF5 dataset: 2-D samples x units, or 3-D trials x time x units,\n"
            "flattened to (trials*time) x units (or averaged per condition, see --condition-average).\n"
            "Both must hold the same samples in the same order; the unit counts may differ.\n\n"
            "methods (--method, default cka):\n"
            "  cca           mean canonical correlation; all min(p, q) correlations listed\n"
            "  svcca         CCA after keeping each side's top singular directions (--keep of the variance)\n"
            "  pwcca         projection-weighted CCA (Morcos et al. 2018)\n"
            "  cka           linear centred kernel alignment (Kornblith et al. 2019)\n"
            "  cka-rbf       CKA with a Gaussian kernel, sigma = --threshold x median distance\n"
            "  cka-debiased  CKA with the unbiased HSIC estimator (--kernel linear|rbf)\n"
            "  procrustes    angular shape distance in radians, 0 = same shape up to rotation (--alpha)\n"
            "  rsa           correlation between the RDMs of the two representations; here 3-D data give one\n"
            "                pattern per trial (or condition) with time*units channels\n\n"
            "options:\n"
            "  --method M            one of the methods above (default cka)\n"
            "  --json                print the result as JSON on stdout instead of text\n"
            "  --alpha A             procrustes: partial whitening in [0, 1] (default 1: rotations only;\n"
            "                        0: any linear map, cos(distance) = mean CCA)\n"
            "  --eps E               cca/svcca/pwcca: covariance regularisation, relative to the largest\n"
            "                        variance (default 1e-10)\n"
            "  --keep F              svcca: fraction of variance kept per side (default 0.99)\n"
            "  --threshold T         cka-rbf: bandwidth factor (default 1.0)\n"
            "  --kernel K            cka-debiased: linear or rbf (default linear)\n"
            "  --max-samples N       cka-rbf, rsa and cka-debiased --kernel rbf build n x n matrices: use a\n"
            "                        seeded random subset of at most N samples (default 5000)\n"
            "  --seed S              seed of that subset (default 0)\n"
            "  --rdm-distance D      rsa: correlation, euclidean (default correlation)\n"
            "  --rdm-compare C       rsa: spearman, pearson, cosine, tau-a, tau-b, rho-a (default spearman)\n"
            "  --condition-average   average the trials of each condition first (needs --conditions)\n"
            "  --conditions F:PATH   1-D integer condition id per trial, for both inputs\n"
            "                        (e.g. data.h5:valid_condition)\n");
}

static const char *methods[] = {"cca", "svcca", "pwcca", "cka", "cka-rbf", "cka-debiased", "procrustes", "rsa"};
enum { M_CCA, M_SVCCA, M_PWCCA, M_CKA, M_CKA_RBF, M_CKA_DEB, M_PROCRUSTES, M_RSA };

static cJSON *json_array(const double *v, int n) {
    cJSON *a = cJSON_CreateArray();
    for (int i = 0; i < n; i++) cJSON_AddItemToArray(a, cJSON_CreateNumber(v[i]));
    return a;
}

static int parse_double(const char *s, double *v) {
    char *end = NULL;
    *v = strtod(s, &end);
    return end != s && !*end && isfinite(*v);
}

int cmd_compare(int argc, char **argv) {
    static const struct option opts[] = {
        {"method", required_argument, 0, 'm'},      {"json", no_argument, 0, 'j'},
        {"alpha", required_argument, 0, 'a'},       {"eps", required_argument, 0, 'e'},
        {"keep", required_argument, 0, 'k'},        {"threshold", required_argument, 0, 't'},
        {"kernel", required_argument, 0, 'K'},      {"max-samples", required_argument, 0, 'M'},
        {"seed", required_argument, 0, 's'},        {"rdm-distance", required_argument, 0, 'D'},
        {"rdm-compare", required_argument, 0, 'C'}, {"condition-average", no_argument, 0, 'c'},
        {"conditions", required_argument, 0, 'n'},  {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0}};
    int method = M_CKA, json = 0, rbf_kernel = 0, average = 0, max_samples = 5000;
    double alpha = 1, eps = ND_CCA_EPS_DEFAULT, keep = ND_SVCCA_KEEP_DEFAULT, threshold = ND_CKA_RBF_THRESHOLD_DEFAULT, d;
    unsigned long long seed = 0;
    nd_rdm_distance rdist = ND_RDM_CORRELATION;
    nd_rdm_compare_method rcmp = ND_RDMCMP_SPEARMAN;
    const char *conds = NULL;
    int c, li = 0;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", opts, &li)) != -1) {
        char *end = NULL;
        switch (c) {
        case 'm': {
            method = -1;
            for (int i = 0; i < (int)(sizeof methods / sizeof *methods); i++)
                if (!strcmp(optarg, methods[i])) method = i;
            if (method < 0) {
                fprintf(stderr, "neurodyn compare: unknown method '%s' (cca, svcca, pwcca, cka, cka-rbf, cka-debiased, "
                                "procrustes, rsa)\n", optarg);
                return 2;
            }
            break;
        }
        case 'j': json = 1; break;
        case 'a': if (!parse_double(optarg, &alpha) || alpha < 0 || alpha > 1) goto bad; break;
        case 'e': if (!parse_double(optarg, &eps) || eps < 0) goto bad; break;
        case 'k': if (!parse_double(optarg, &keep) || !(keep > 0 && keep <= 1)) goto bad; break;
        case 't': if (!parse_double(optarg, &threshold) || !(threshold > 0)) goto bad; break;
        case 'K':
            if (!strcmp(optarg, "rbf")) rbf_kernel = 1;
            else if (!strcmp(optarg, "linear")) rbf_kernel = 0;
            else goto bad;
            break;
        case 'M': if (!parse_double(optarg, &d) || d < 4 || d != floor(d) || d > 1e9) goto bad; max_samples = (int)d; break;
        case 's': seed = strtoull(optarg, &end, 10); if (!*optarg || *end || *optarg == '-') goto bad; break;
        case 'D': {
            int v = nd_rdm_distance_from_name(optarg);
            if (v != ND_RDM_EUCLIDEAN && v != ND_RDM_CORRELATION) goto bad;
            rdist = (nd_rdm_distance)v;
            break;
        }
        case 'C': {
            int v = nd_rdm_compare_from_name(optarg);
            if (v < 0) goto bad;
            rcmp = (nd_rdm_compare_method)v;
            break;
        }
        case 'c': average = 1; break;
        case 'n': conds = optarg; break;
        case 'h': compare_usage(stdout); return 0;
        default: cli_bad_option("compare", argv); return 2;
        }
        continue;
    bad:
        fprintf(stderr, "neurodyn compare: bad value '%s' for --%s (see --help)\n", optarg, opts[li].name);
        return 2;
    }
    if (optind != argc - 2) {
        fprintf(stderr, "neurodyn compare: expected two inputs A.h5:DATASET B.h5:DATASET (see --help)\n");
        return 2;
    }
    if (average && !conds) {
        fprintf(stderr, "neurodyn compare: --condition-average needs --conditions FILE:DATASET\n");
        return 2;
    }
    const char *sa = argv[optind], *sb = argv[optind + 1];
    nd_error err;
    nd_amatrix A, B;
    nd_layout lay = method == M_RSA ? ND_LAYOUT_PATTERNS : ND_LAYOUT_SAMPLES;
    for (int s = 0; s < 2; s++) {
        nd_status st = nd_load_matrix(s ? sb : sa, conds, average, lay, s ? &B : &A, &err);
        if (st) {
            fprintf(stderr, "neurodyn compare: %s\n", err.msg);
            if (s) nd_amatrix_free(&A);
            return st == ND_ERR_ARG ? 2 : 1;
        }
    }
    int rc = 1;
    cJSON *root = cJSON_CreateObject();
    double *rdmA = NULL, *rdmB = NULL;
    int *idx = NULL;
    if (A.rows != B.rows) {
        fprintf(stderr, "neurodyn compare: %s has %d samples but %s has %d; both must hold the same samples%s\n", sa, A.rows,
                sb, B.rows, lay == ND_LAYOUT_PATTERNS ? " (patterns)" : "");
        goto done;
    }
    int n = A.rows, p = A.cols, q = B.cols, sub = 0;
    int needs_nn = method == M_CKA_RBF || method == M_RSA || (method == M_CKA_DEB && rbf_kernel);
    if (needs_nn && n > max_samples) {
        /* seeded random subset, kept in the original order */
        idx = nd_alloc(sizeof(int) * n);
        if (!idx) { fprintf(stderr, "neurodyn compare: out of memory\n"); goto done; }
        for (int i = 0; i < n; i++) idx[i] = i;
        nd_rng r;
        nd_rng_seed(&r, seed);
        nd_rng_shuffle(&r, idx, n);
        /* the first max_samples shuffled indices, back in ascending order */
        {
            char *mark = calloc((size_t)n, 1);
            if (!mark) { fprintf(stderr, "neurodyn compare: out of memory\n"); goto done; }
            for (int i = 0; i < max_samples; i++) mark[idx[i]] = 1;
            int k = 0;
            for (int i = 0; i < n; i++)
                if (mark[i]) idx[k++] = i;
            free(mark);
        }
        nd_amatrix_take_rows(&A, idx, max_samples);
        nd_amatrix_take_rows(&B, idx, max_samples);
        sub = n;
        n = max_samples;
    }
    cJSON_AddStringToObject(root, "method", methods[method]);
    cJSON_AddStringToObject(root, "a", sa);
    cJSON_AddStringToObject(root, "b", sb);
    cJSON_AddNumberToObject(root, "samples", n);
    if (sub) cJSON_AddNumberToObject(root, "samples_available", sub);
    cJSON_AddNumberToObject(root, "units_a", p);
    cJSON_AddNumberToObject(root, "units_b", q);
    if (average) cJSON_AddNumberToObject(root, "conditions", A.n_cond);
    char line[512];
    nd_status st = ND_OK;
    double score = NAN;
    switch (method) {
    case M_CCA:
    case M_SVCCA: {
        nd_cca_result r;
        st = method == M_CCA ? nd_cca(A.x, B.x, n, p, q, eps, 0, &r, &err) : nd_svcca(A.x, B.x, n, p, q, keep, eps, 0, &r, &err);
        if (st) break;
        score = r.mean;
        cJSON_AddNumberToObject(root, "score", r.mean);
        cJSON_AddItemToObject(root, "canonical_correlations", json_array(r.rho, r.k));
        cJSON_AddNumberToObject(root, "eps", eps);
        if (method == M_SVCCA) {
            cJSON_AddNumberToObject(root, "keep", keep);
            cJSON_AddNumberToObject(root, "dims_a", r.kx);
            cJSON_AddNumberToObject(root, "dims_b", r.ky);
        }
        if (!json) {
            if (method == M_SVCCA)
                printf("svcca: mean canonical correlation %.6f  (kept %d of %d and %d of %d dims for %.0f%% of the variance; %d samples)\n",
                       r.mean, r.kx, p, r.ky, q, 100 * keep, n);
            else printf("cca: mean canonical correlation %.6f  (%d pairs; %d samples, %d and %d units)\n", r.mean, r.k, n, p, q);
            printf("canonical correlations:");
            for (int i = 0; i < r.k && i < 20; i++) printf(" %.4f", r.rho[i]);
            printf("%s\n", r.k > 20 ? " ... (all with --json)" : "");
        }
        nd_cca_free(&r);
        break;
    }
    case M_PWCCA: {
        nd_pwcca_result r;
        if ((st = nd_pwcca(A.x, B.x, n, p, q, eps, ND_PWCCA_INNER, &r, &err))) break;
        score = r.pwcca;
        cJSON_AddNumberToObject(root, "score", r.pwcca);
        cJSON_AddNumberToObject(root, "mean_cca", r.mean_cca);
        cJSON_AddStringToObject(root, "weights_from", r.side ? "b" : "a");
        cJSON_AddItemToObject(root, "canonical_correlations", json_array(r.rho, r.k));
        cJSON_AddItemToObject(root, "weights", json_array(r.weights, r.k));
        if (!json)
            printf("pwcca: %.6f  (unweighted mean CCA %.6f; weights from the variates of %s, the side with fewer units; %d samples)\n",
                   r.pwcca, r.mean_cca, r.side ? "B" : "A", n);
        nd_pwcca_free(&r);
        break;
    }
    case M_CKA:
        if ((st = nd_cka_linear(A.x, B.x, n, p, q, &score, &err))) break;
        cJSON_AddNumberToObject(root, "score", score);
        if (!json) printf("cka (linear): %.6f  (%d samples, %d and %d units)\n", score, n, p, q);
        break;
    case M_CKA_RBF:
    case M_CKA_DEB:
        if (method == M_CKA_DEB && !rbf_kernel) st = nd_cka_linear_debiased(A.x, B.x, n, p, q, &score, &err);
        else st = nd_cka_rbf(A.x, B.x, n, p, q, threshold, method == M_CKA_DEB, &score, &err);
        if (st) break;
        cJSON_AddNumberToObject(root, "score", score);
        cJSON_AddStringToObject(root, "kernel", method == M_CKA_RBF || rbf_kernel ? "rbf" : "linear");
        if (method == M_CKA_RBF || rbf_kernel) cJSON_AddNumberToObject(root, "threshold", threshold);
        cJSON_AddBoolToObject(root, "debiased", method == M_CKA_DEB);
        if (!json) {
            if (method == M_CKA_RBF || rbf_kernel) snprintf(line, sizeof line, ", rbf kernel, threshold %g", threshold);
            else snprintf(line, sizeof line, ", linear kernel");
            printf("%s: %.6f  (%d samples%s)\n", method == M_CKA_DEB ? "cka (debiased)" : "cka (rbf)", score, n, line);
        }
        break;
    case M_PROCRUSTES:
        if ((st = nd_shape_distance(A.x, B.x, n, p, q, alpha, &score, &err))) break;
        cJSON_AddNumberToObject(root, "score", score);
        cJSON_AddNumberToObject(root, "distance_radians", score);
        cJSON_AddNumberToObject(root, "similarity_cos", cos(score));
        cJSON_AddNumberToObject(root, "alpha", alpha);
        if (!json)
            printf("procrustes: angular shape distance %.6f rad (cos %.6f; alpha %g; %d samples, %d and %d units)\n", score,
                   cos(score), alpha, n, p, q);
        break;
    case M_RSA: {
        size_t m = nd_rdm_len(n);
        rdmA = nd_alloc(sizeof(double) * (m ? m : 1));
        rdmB = nd_alloc(sizeof(double) * (m ? m : 1));
        if (!rdmA || !rdmB) { snprintf(err.msg, sizeof err.msg, "out of memory for two RDMs of %d patterns", n); st = ND_ERR_NOMEM; break; }
        if ((st = nd_rdm(A.x, n, p, rdist, NULL, rdmA, &err)) || (st = nd_rdm(B.x, n, q, rdist, NULL, rdmB, &err)) ||
            (st = nd_rdm_compare(rdmA, rdmB, m, rcmp, &score, &err)))
            break;
        cJSON_AddNumberToObject(root, "score", score);
        cJSON_AddStringToObject(root, "rdm_distance", rdist == ND_RDM_EUCLIDEAN ? "euclidean" : "correlation");
        cJSON_AddStringToObject(root, "rdm_compare", nd_rdm_compare_name(rcmp));
        if (!json)
            printf("rsa: %s %.6f between the %s-distance RDMs of %d patterns (%d and %d channels)\n", nd_rdm_compare_name(rcmp),
                   score, rdist == ND_RDM_EUCLIDEAN ? "euclidean" : "correlation", n, p, q);
        break;
    }
    }
    if (st) {
        fprintf(stderr, "neurodyn compare: %s vs %s: %s\n", sa, sb, err.msg);
        goto done;
    }
    if (sub) {
        snprintf(line, sizeof line, "used a random subset of %d of the %d samples (--max-samples, --seed %llu)", n, sub, seed);
        cJSON_AddStringToObject(root, "note", line);
        if (!json) printf("note: %s\n", line);
    }
    if (json) {
        if (cli_write_json("compare", root, NULL)) goto done;
    }
    rc = 0;
done:
    cJSON_Delete(root);
    nd_free(rdmA); nd_free(rdmB); nd_free(idx);
    nd_amatrix_free(&A);
    nd_amatrix_free(&B);
    return rc;
}
