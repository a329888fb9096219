/* Representational similarity of two HDF5 datasets (`neurodyn compare`; see compare_file.h). */
#define _GNU_SOURCE
#include "compare_file.h"
#include "compare.h"
#include "data.h"
#include "../core/mem.h"
#include "../core/rng.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *methods[] = {"cca", "svcca", "pwcca", "cka", "cka-rbf", "cka-debiased", "procrustes", "rsa"};
enum { M_CCA, M_SVCCA, M_PWCCA, M_CKA, M_CKA_RBF, M_CKA_DEB, M_PROCRUSTES, M_RSA };

void nd_compare_file_opts_default(nd_compare_file_opts *o) {
    memset(o, 0, sizeof *o);
    o->method = "cka";
    o->alpha = 1;
    o->eps = ND_CCA_EPS_DEFAULT;
    o->keep = ND_SVCCA_KEEP_DEFAULT;
    o->threshold = ND_CKA_RBF_THRESHOLD_DEFAULT;
    o->max_samples = 5000;
    o->rdm_distance = ND_RDM_CORRELATION;
    o->rdm_compare = ND_RDMCMP_SPEARMAN;
}

static cJSON *json_array(const double *v, int n) {
    cJSON *a = cJSON_CreateArray();
    for (int i = 0; i < n; i++) cJSON_AddItemToArray(a, cJSON_CreateNumber(v[i]));
    return a;
}

nd_status nd_compare_files(const char *sa, const char *sb, const nd_compare_file_opts *o, nd_compare_file_result *res,
                           nd_error *err) {
    memset(res, 0, sizeof *res);
    int meth = -1;
    for (int i = 0; i < (int)(sizeof methods / sizeof *methods); i++)
        if (o->method && !strcmp(o->method, methods[i])) meth = i;
    if (meth < 0)
        return nd_fail(err, ND_ERR_ARG, "unknown method '%s' (cca, svcca, pwcca, cka, cka-rbf, cka-debiased, procrustes, "
                                        "rsa)", o->method ? o->method : "(null)");
    if (o->average && !o->conditions)
        return nd_fail(err, ND_ERR_ARG, "--condition-average needs --conditions FILE:DATASET");
    nd_amatrix A, B;
    nd_layout lay = meth == M_RSA ? ND_LAYOUT_PATTERNS : ND_LAYOUT_SAMPLES;
    for (int s = 0; s < 2; s++) {
        nd_status st = nd_load_matrix(s ? sb : sa, o->conditions, o->average, lay, s ? &B : &A, err);
        if (st) {
            if (s) nd_amatrix_free(&A);
            return st;
        }
    }
    nd_status st = ND_OK;
    char *text = NULL;
    size_t text_len = 0;
    FILE *out = open_memstream(&text, &text_len);
    cJSON *root = cJSON_CreateObject();
    double *rdmA = NULL, *rdmB = NULL;
    int *idx = NULL;
    if (!out || !root) { st = nd_fail(err, ND_ERR_NOMEM, "out of memory"); goto done; }
    if (A.rows != B.rows) {
        st = nd_fail(err, ND_ERR_FORMAT, "%s has %d samples but %s has %d; both must hold the same samples%s", sa, A.rows,
                     sb, B.rows, lay == ND_LAYOUT_PATTERNS ? " (patterns)" : "");
        goto done;
    }
    int n = A.rows, p = A.cols, q = B.cols, sub = 0;
    int needs_nn = meth == M_CKA_RBF || meth == M_RSA || (meth == M_CKA_DEB && o->rbf_kernel);
    if (needs_nn && n > o->max_samples) {
        /* seeded random subset, kept in the original order */
        idx = nd_alloc(sizeof(int) * n);
        if (!idx) { st = nd_fail(err, ND_ERR_NOMEM, "out of memory"); goto done; }
        for (int i = 0; i < n; i++) idx[i] = i;
        nd_rng r;
        nd_rng_seed(&r, o->seed);
        nd_rng_shuffle(&r, idx, n);
        /* the first max_samples shuffled indices, back in ascending order */
        {
            char *mark = calloc((size_t)n, 1);
            if (!mark) { st = nd_fail(err, ND_ERR_NOMEM, "out of memory"); goto done; }
            for (int i = 0; i < o->max_samples; i++) mark[idx[i]] = 1;
            int k = 0;
            for (int i = 0; i < n; i++)
                if (mark[i]) idx[k++] = i;
            free(mark);
        }
        nd_amatrix_take_rows(&A, idx, o->max_samples);
        nd_amatrix_take_rows(&B, idx, o->max_samples);
        sub = n;
        n = o->max_samples;
    }
    cJSON_AddStringToObject(root, "method", methods[meth]);
    cJSON_AddStringToObject(root, "a", sa);
    cJSON_AddStringToObject(root, "b", sb);
    cJSON_AddNumberToObject(root, "samples", n);
    if (sub) cJSON_AddNumberToObject(root, "samples_available", sub);
    cJSON_AddNumberToObject(root, "units_a", p);
    cJSON_AddNumberToObject(root, "units_b", q);
    if (o->average) cJSON_AddNumberToObject(root, "conditions", A.n_cond);
    char line[512];
    double score = NAN;
    switch (meth) {
    case M_CCA:
    case M_SVCCA: {
        nd_cca_result r;
        st = meth == M_CCA ? nd_cca(A.x, B.x, n, p, q, o->eps, 0, &r, err) : nd_svcca(A.x, B.x, n, p, q, o->keep, o->eps, 0, &r, err);
        if (st) break;
        score = r.mean;
        cJSON_AddNumberToObject(root, "score", r.mean);
        cJSON_AddItemToObject(root, "canonical_correlations", json_array(r.rho, r.k));
        cJSON_AddNumberToObject(root, "eps", o->eps);
        if (meth == M_SVCCA) {
            cJSON_AddNumberToObject(root, "keep", o->keep);
            cJSON_AddNumberToObject(root, "dims_a", r.kx);
            cJSON_AddNumberToObject(root, "dims_b", r.ky);
        }
        {
            if (meth == M_SVCCA)
                fprintf(out, "svcca: mean canonical correlation %.6f  (kept %d of %d and %d of %d dims for %.0f%% of the variance; %d samples)\n",
                       r.mean, r.kx, p, r.ky, q, 100 * o->keep, n);
            else fprintf(out, "cca: mean canonical correlation %.6f  (%d pairs; %d samples, %d and %d units)\n", r.mean, r.k, n, p, q);
            fprintf(out, "canonical correlations:");
            for (int i = 0; i < r.k && i < 20; i++) fprintf(out, " %.4f", r.rho[i]);
            fprintf(out, "%s\n", r.k > 20 ? " ... (all with --json)" : "");
        }
        nd_cca_free(&r);
        break;
    }
    case M_PWCCA: {
        nd_pwcca_result r;
        if ((st = nd_pwcca(A.x, B.x, n, p, q, o->eps, ND_PWCCA_INNER, &r, err))) break;
        score = r.pwcca;
        cJSON_AddNumberToObject(root, "score", r.pwcca);
        cJSON_AddNumberToObject(root, "mean_cca", r.mean_cca);
        cJSON_AddStringToObject(root, "weights_from", r.side ? "b" : "a");
        cJSON_AddItemToObject(root, "canonical_correlations", json_array(r.rho, r.k));
        cJSON_AddItemToObject(root, "weights", json_array(r.weights, r.k));
                    fprintf(out, "pwcca: %.6f  (unweighted mean CCA %.6f; weights from the variates of %s, the side with fewer units; %d samples)\n",
                   r.pwcca, r.mean_cca, r.side ? "B" : "A", n);
        nd_pwcca_free(&r);
        break;
    }
    case M_CKA:
        if ((st = nd_cka_linear(A.x, B.x, n, p, q, &score, err))) break;
        cJSON_AddNumberToObject(root, "score", score);
        fprintf(out, "cka (linear): %.6f  (%d samples, %d and %d units)\n", score, n, p, q);
        break;
    case M_CKA_RBF:
    case M_CKA_DEB:
        if (meth == M_CKA_DEB && !o->rbf_kernel) st = nd_cka_linear_debiased(A.x, B.x, n, p, q, &score, err);
        else st = nd_cka_rbf(A.x, B.x, n, p, q, o->threshold, meth == M_CKA_DEB, &score, err);
        if (st) break;
        cJSON_AddNumberToObject(root, "score", score);
        cJSON_AddStringToObject(root, "kernel", meth == M_CKA_RBF || o->rbf_kernel ? "rbf" : "linear");
        if (meth == M_CKA_RBF || o->rbf_kernel) cJSON_AddNumberToObject(root, "threshold", o->threshold);
        cJSON_AddBoolToObject(root, "debiased", meth == M_CKA_DEB);
        {
            if (meth == M_CKA_RBF || o->rbf_kernel) snprintf(line, sizeof line, ", rbf kernel, threshold %g", o->threshold);
            else snprintf(line, sizeof line, ", linear kernel");
            fprintf(out, "%s: %.6f  (%d samples%s)\n", meth == M_CKA_DEB ? "cka (debiased)" : "cka (rbf)", score, n, line);
        }
        break;
    case M_PROCRUSTES:
        if ((st = nd_shape_distance(A.x, B.x, n, p, q, o->alpha, &score, err))) break;
        cJSON_AddNumberToObject(root, "score", score);
        cJSON_AddNumberToObject(root, "distance_radians", score);
        cJSON_AddNumberToObject(root, "similarity_cos", cos(score));
        cJSON_AddNumberToObject(root, "alpha", o->alpha);
                    fprintf(out, "procrustes: angular shape distance %.6f rad (cos %.6f; alpha %g; %d samples, %d and %d units)\n", score,
                   cos(score), o->alpha, n, p, q);
        break;
    case M_RSA: {
        size_t m = nd_rdm_len(n);
        rdmA = nd_alloc(sizeof(double) * (m ? m : 1));
        rdmB = nd_alloc(sizeof(double) * (m ? m : 1));
        if (!rdmA || !rdmB) { st = nd_fail(err, ND_ERR_NOMEM, "out of memory for two RDMs of %d patterns", n); break; }
        if ((st = nd_rdm(A.x, n, p, o->rdm_distance, NULL, rdmA, err)) || (st = nd_rdm(B.x, n, q, o->rdm_distance, NULL, rdmB, err)) ||
            (st = nd_rdm_compare(rdmA, rdmB, m, o->rdm_compare, &score, err)))
            break;
        cJSON_AddNumberToObject(root, "score", score);
        cJSON_AddStringToObject(root, "rdm_distance", o->rdm_distance == ND_RDM_EUCLIDEAN ? "euclidean" : "correlation");
        cJSON_AddStringToObject(root, "rdm_compare", nd_rdm_compare_name(o->rdm_compare));
                    fprintf(out, "rsa: %s %.6f between the %s-distance RDMs of %d patterns (%d and %d channels)\n", nd_rdm_compare_name(o->rdm_compare),
                   score, o->rdm_distance == ND_RDM_EUCLIDEAN ? "euclidean" : "correlation", n, p, q);
        break;
    }
    }
    if (st) {
        char msg[sizeof err->msg];
        snprintf(msg, sizeof msg, "%s", err->msg);
        nd_fail(err, st, "%s vs %s: %s", sa, sb, msg);
        goto done;
    }
    if (sub) {
        snprintf(line, sizeof line, "used a random subset of %d of the %d samples (--max-samples, --seed %llu)", n, sub,
                 (unsigned long long)o->seed);
        cJSON_AddStringToObject(root, "note", line);
        fprintf(out, "note: %s\n", line);
    }
done:
    if (out) fclose(out);
    nd_free(rdmA);
    nd_free(rdmB);
    nd_free(idx);
    nd_amatrix_free(&A);
    nd_amatrix_free(&B);
    if (st || !text) {
        free(text);
        cJSON_Delete(root);
        return st ? st : nd_fail(err, ND_ERR_NOMEM, "out of memory");
    }
    res->json = root;
    res->text = text;
    res->score = score;
    return ND_OK;
}

void nd_compare_file_result_free(nd_compare_file_result *r) {
    cJSON_Delete(r->json);
    free(r->text);
    memset(r, 0, sizeof *r);
}
