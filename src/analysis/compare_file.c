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

/* what one method writes: its JSON fields into root, its text lines into out, its score */
typedef struct {
    const nd_amatrix *A, *B;
    int n, p, q;
    const nd_compare_file_opts *o;
    cJSON *root;
    FILE *out;
} cmp_job;

static nd_status cmp_cca(const cmp_job *j, int svcca, double *score, nd_error *err) {
    const nd_compare_file_opts *o = j->o;
    int n = j->n, p = j->p, q = j->q;
    nd_cca_result r;
    nd_status st = !svcca ? nd_cca(j->A->x, j->B->x, n, p, q, o->eps, 0, &r, err)
                          : nd_svcca(j->A->x, j->B->x, n, p, q, o->keep, o->eps, 0, &r, err);
    if (st) return st;
    *score = r.mean;
    cJSON_AddNumberToObject(j->root, "score", r.mean);
    cJSON_AddItemToObject(j->root, "canonical_correlations", json_array(r.rho, r.k));
    cJSON_AddNumberToObject(j->root, "eps", o->eps);
    if (svcca) {
        cJSON_AddNumberToObject(j->root, "keep", o->keep);
        cJSON_AddNumberToObject(j->root, "dims_a", r.kx);
        cJSON_AddNumberToObject(j->root, "dims_b", r.ky);
        fprintf(j->out, "svcca: mean canonical correlation %.6f  (kept %d of %d and %d of %d dims for %.0f%% of the variance; %d samples)\n",
                r.mean, r.kx, p, r.ky, q, 100 * o->keep, n);
    } else {
        fprintf(j->out, "cca: mean canonical correlation %.6f  (%d pairs; %d samples, %d and %d units)\n", r.mean, r.k, n, p, q);
    }
    fprintf(j->out, "canonical correlations:");
    for (int i = 0; i < r.k && i < 20; i++) fprintf(j->out, " %.4f", r.rho[i]);
    fprintf(j->out, "%s\n", r.k > 20 ? " ... (all with --json)" : "");
    nd_cca_free(&r);
    return ND_OK;
}

static nd_status cmp_pwcca(const cmp_job *j, double *score, nd_error *err) {
    nd_pwcca_result r;
    nd_status st = nd_pwcca(j->A->x, j->B->x, j->n, j->p, j->q, j->o->eps, ND_PWCCA_INNER, &r, err);
    if (st) return st;
    *score = r.pwcca;
    cJSON_AddNumberToObject(j->root, "score", r.pwcca);
    cJSON_AddNumberToObject(j->root, "mean_cca", r.mean_cca);
    cJSON_AddStringToObject(j->root, "weights_from", r.side ? "b" : "a");
    cJSON_AddItemToObject(j->root, "canonical_correlations", json_array(r.rho, r.k));
    cJSON_AddItemToObject(j->root, "weights", json_array(r.weights, r.k));
    fprintf(j->out, "pwcca: %.6f  (unweighted mean CCA %.6f; weights from the variates of %s, the side with fewer units; %d samples)\n",
            r.pwcca, r.mean_cca, r.side ? "B" : "A", j->n);
    nd_pwcca_free(&r);
    return ND_OK;
}

static nd_status cmp_cka(const cmp_job *j, int meth, double *score, nd_error *err) {
    const nd_compare_file_opts *o = j->o;
    int n = j->n, p = j->p, q = j->q;
    nd_status st;
    if (meth == M_CKA) {
        if ((st = nd_cka_linear(j->A->x, j->B->x, n, p, q, score, err))) return st;
        cJSON_AddNumberToObject(j->root, "score", *score);
        fprintf(j->out, "cka (linear): %.6f  (%d samples, %d and %d units)\n", *score, n, p, q);
        return ND_OK;
    }
    int rbf = meth == M_CKA_RBF || o->rbf_kernel;
    if (!rbf) st = nd_cka_linear_debiased(j->A->x, j->B->x, n, p, q, score, err);
    else st = nd_cka_rbf(j->A->x, j->B->x, n, p, q, o->threshold, meth == M_CKA_DEB, score, err);
    if (st) return st;
    cJSON_AddNumberToObject(j->root, "score", *score);
    cJSON_AddStringToObject(j->root, "kernel", rbf ? "rbf" : "linear");
    if (rbf) cJSON_AddNumberToObject(j->root, "threshold", o->threshold);
    cJSON_AddBoolToObject(j->root, "debiased", meth == M_CKA_DEB);
    char line[128];
    if (rbf) snprintf(line, sizeof line, ", rbf kernel, threshold %g", o->threshold);
    else snprintf(line, sizeof line, ", linear kernel");
    fprintf(j->out, "%s: %.6f  (%d samples%s)\n", meth == M_CKA_DEB ? "cka (debiased)" : "cka (rbf)", *score, n, line);
    return ND_OK;
}

static nd_status cmp_procrustes(const cmp_job *j, double *score, nd_error *err) {
    const nd_compare_file_opts *o = j->o;
    nd_status st = nd_shape_distance(j->A->x, j->B->x, j->n, j->p, j->q, o->alpha, score, err);
    if (st) return st;
    cJSON_AddNumberToObject(j->root, "score", *score);
    cJSON_AddNumberToObject(j->root, "distance_radians", *score);
    cJSON_AddNumberToObject(j->root, "similarity_cos", cos(*score));
    cJSON_AddNumberToObject(j->root, "alpha", o->alpha);
    fprintf(j->out, "procrustes: angular shape distance %.6f rad (cos %.6f; alpha %g; %d samples, %d and %d units)\n",
            *score, cos(*score), o->alpha, j->n, j->p, j->q);
    return ND_OK;
}

static nd_status cmp_rsa(const cmp_job *j, double *score, nd_error *err) {
    const nd_compare_file_opts *o = j->o;
    int n = j->n;
    size_t m = nd_rdm_len(n);
    double *rdmA = nd_alloc(sizeof(double) * (m ? m : 1)), *rdmB = nd_alloc(sizeof(double) * (m ? m : 1));
    nd_status st = ND_OK;
    if (!rdmA || !rdmB) st = nd_fail(err, ND_ERR_NOMEM, "out of memory for two RDMs of %d patterns", n);
    if (!st && !(st = nd_rdm(j->A->x, n, j->p, o->rdm_distance, NULL, rdmA, err)) &&
        !(st = nd_rdm(j->B->x, n, j->q, o->rdm_distance, NULL, rdmB, err)))
        st = nd_rdm_compare(rdmA, rdmB, m, o->rdm_compare, score, err);
    nd_free(rdmA);
    nd_free(rdmB);
    if (st) return st;
    const char *dist = o->rdm_distance == ND_RDM_EUCLIDEAN ? "euclidean" : "correlation";
    cJSON_AddNumberToObject(j->root, "score", *score);
    cJSON_AddStringToObject(j->root, "rdm_distance", dist);
    cJSON_AddStringToObject(j->root, "rdm_compare", nd_rdm_compare_name(o->rdm_compare));
    fprintf(j->out, "rsa: %s %.6f between the %s-distance RDMs of %d patterns (%d and %d channels)\n",
            nd_rdm_compare_name(o->rdm_compare), *score, dist, n, j->p, j->q);
    return ND_OK;
}

static nd_status cmp_method(const cmp_job *j, int meth, double *score, nd_error *err) {
    switch (meth) {
    case M_CCA: return cmp_cca(j, 0, score, err);
    case M_SVCCA: return cmp_cca(j, 1, score, err);
    case M_PWCCA: return cmp_pwcca(j, score, err);
    case M_CKA: case M_CKA_RBF: case M_CKA_DEB: return cmp_cka(j, meth, score, err);
    case M_PROCRUSTES: return cmp_procrustes(j, score, err);
    default: return cmp_rsa(j, score, err);
    }
}

/* a seeded random subset of `keep` of the n rows of A and B, kept in their original order */
static nd_status subsample_rows(nd_amatrix *A, nd_amatrix *B, int n, int keep, uint64_t seed, nd_error *err) {
    int *idx = nd_alloc(sizeof(int) * n);
    char *mark = calloc((size_t)n, 1);
    if (!idx || !mark) { nd_free(idx); free(mark); return nd_fail(err, ND_ERR_NOMEM, "out of memory"); }
    for (int i = 0; i < n; i++) idx[i] = i;
    nd_rng r;
    nd_rng_seed(&r, seed);
    nd_rng_shuffle(&r, idx, n);
    for (int i = 0; i < keep; i++) mark[idx[i]] = 1; /* the first `keep` shuffled indices, back in ascending order */
    int k = 0;
    for (int i = 0; i < n; i++)
        if (mark[i]) idx[k++] = i;
    free(mark);
    nd_amatrix_take_rows(A, idx, keep);
    nd_amatrix_take_rows(B, idx, keep);
    nd_free(idx);
    return ND_OK;
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
    double score = NAN;
    char line[512];
    if (!out || !root) { st = nd_fail(err, ND_ERR_NOMEM, "out of memory"); goto done; }
    if (A.rows != B.rows) {
        st = nd_fail(err, ND_ERR_FORMAT, "%s has %d samples but %s has %d; both must hold the same samples%s", sa, A.rows,
                     sb, B.rows, lay == ND_LAYOUT_PATTERNS ? " (patterns)" : "");
        goto done;
    }
    int n = A.rows, sub = 0;
    int needs_nn = meth == M_CKA_RBF || meth == M_RSA || (meth == M_CKA_DEB && o->rbf_kernel);
    if (needs_nn && n > o->max_samples) {
        if ((st = subsample_rows(&A, &B, n, o->max_samples, o->seed, err))) goto done;
        sub = n;
        n = o->max_samples;
    }
    cJSON_AddStringToObject(root, "method", methods[meth]);
    cJSON_AddStringToObject(root, "a", sa);
    cJSON_AddStringToObject(root, "b", sb);
    cJSON_AddNumberToObject(root, "samples", n);
    if (sub) cJSON_AddNumberToObject(root, "samples_available", sub);
    cJSON_AddNumberToObject(root, "units_a", A.cols);
    cJSON_AddNumberToObject(root, "units_b", B.cols);
    if (o->average) cJSON_AddNumberToObject(root, "conditions", A.n_cond);
    const cmp_job job = {&A, &B, n, A.cols, B.cols, o, root, out};
    if ((st = cmp_method(&job, meth, &score, err))) {
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
