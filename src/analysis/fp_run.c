/* `neurodyn fixedpoints RUN` end to end (fp_run.h). */
#include "fp_run.h"
#include "../core/blas.h"
#include "../core/mem.h"
#include "../models/infer_run.h"
#include "../models/learn_rnn.h"
#include "../models/lfads_ckpt.h"
#include <math.h>
#include <omp.h>
#include <string.h>

void nd_fp_run_opts_default(nd_fp_run_opts *o) {
    memset(o, 0, sizeof *o);
    nd_fp_lfads_opts_default(&o->fp);
}

void nd_fp_run_result_free(nd_fp_run_result *r) {
    nd_fp_lfads_result_free(&r->x);
    memset(r, 0, sizeof *r);
}

static void set_threads(int threads) {
    if (threads < 1) return;
    omp_set_num_threads(threads);
    nd_blas_set_threads(threads);
}

/* ND_ERR_ARG is kept for the options that do not fit the model: any other failure of a step names a file */
static nd_status not_arg(nd_status st, nd_error *err) {
    if (st != ND_ERR_ARG) return st;
    if (err) err->code = ND_ERR_FORMAT;
    return ND_ERR_FORMAT;
}

/* a recurrent network of 'learn train --rnn': its weights as the leaky tanh map, zero input */
static nd_status run_rnn(const nd_fp_run_opts *o, nd_fp_run_result *r, nd_error *err) {
    nd_rnn rn;
    nd_status st = nd_learn_rnn_load(o->run, &rn, NULL, NULL, err);
    if (st) return not_arg(st, err);
    size_t NN = (size_t)rn.N * rn.N;
    double *w = nd_alloc(sizeof(double) * (NN + rn.N));
    if (!w) { nd_rnn_free(&rn); return nd_fail(err, ND_ERR_NOMEM, "out of memory"); }
    for (size_t i = 0; i < NN; i++) w[i] = rn.W[i];
    for (int i = 0; i < rn.N; i++) w[NN + i] = rn.b[i];
    nd_fp_leaky_tanh_map map = {rn.N, rn.alpha, w, w + NN};
    nd_rnn_free(&rn);
    snprintf(r->ckpt, sizeof r->ckpt, "%s/last.ckpt", o->run);
    r->rnn = 1;
    r->inputs = r->inputs_text = "none";
    set_threads(o->threads);
    st = nd_fp_rnn(&map, &o->fp, &r->x, err);
    nd_free(w);
    return not_arg(st, err);
}

static nd_status run_lfads(const nd_fp_run_opts *o, nd_fp_run_result *r, nd_error *err) {
    nd_lfads_model m;
    int mdims[3];
    nd_status st = nd_lfads_resolve_ckpt(o->run, r->ckpt, sizeof r->ckpt, err);
    if (st || (st = nd_lfads_load(r->ckpt, &m, mdims, err))) return not_arg(st, err);
    int nin = nd_fp_lfads_inputs(&m);
    if (o->data && (st = nd_lfads_run_data(r->ckpt, &m, o->data, 0, o->allow_mismatch, o->notes, NULL, err))) {
        st = not_arg(st, err);
    } else if (o->fp.input_mean && nin > 0 && !o->fp.outputs) {
        st = nd_fail(err, ND_ERR_ARG, "--inputs mean needs --outputs OUT.h5 (the model has %d generator inputs)", nin);
    } else {
        set_threads(o->threads);
        st = not_arg(nd_fp_lfads(&m, &o->fp, &r->x, err), err);
        r->inputs = nin ? (o->fp.input_mean ? "mean" : "zero") : "none";
        r->inputs_text = nin ? (o->fp.input_mean ? "mean of gen_inputs" : "zero") : "none";
    }
    nd_lfads_free(&m);
    return st;
}

nd_status nd_fp_run(const nd_fp_run_opts *o, nd_fp_run_result *r, nd_error *err) {
    memset(r, 0, sizeof *r);
    if (!o->run) return nd_fail(err, ND_ERR_ARG, "fixed points: no run given");
    nd_status st = nd_learn_rnn_is_run(o->run) ? run_rnn(o, r, err) : run_lfads(o, r, err);
    if (st) nd_fp_run_result_free(r);
    return st;
}

cJSON *nd_fp_run_json(const nd_fp_run_opts *o, const nd_fp_run_result *res) {
    const nd_fp_lfads_result *x = &res->x;
    const nd_fp_result *r = &x->r;
    int H = x->H;
    cJSON *root = cJSON_CreateObject();
    if (!root) return NULL;
    cJSON_AddStringToObject(root, "checkpoint", res->ckpt);
    cJSON_AddNumberToObject(root, "gen_dim", H);
    cJSON_AddStringToObject(root, "inputs", res->inputs);
    cJSON_AddStringToObject(root, "starts_from", x->has_states ? o->fp.outputs : "N(0, 1)");
    cJSON_AddNumberToObject(root, "starts", r->n_starts);
    cJSON_AddNumberToObject(root, "fixed_points", r->n_fp - r->n_slow);
    cJSON_AddNumberToObject(root, "slow_points", r->n_slow);
    cJSON_AddNumberToObject(root, "stable", r->n_stable);
    cJSON_AddNumberToObject(root, "unstable", r->n_unstable);
    cJSON_AddNumberToObject(root, "converged_starts", r->n_converged);
    cJSON_AddNumberToObject(root, "unconverged_starts", r->n_unconverged);
    cJSON_AddNumberToObject(root, "outliers", r->n_outliers);
    cJSON_AddNumberToObject(root, "duplicates", r->n_duplicates);
    if (x->has_states) cJSON_AddNumberToObject(root, "state_spread", x->spread);
    cJSON *arr = cJSON_AddArrayToObject(root, "points");
    for (int f = 0; arr && f < r->n_fp; f++) {
        cJSON *p = cJSON_CreateObject();
        if (!p) break;
        double nx = 0;
        for (int j = 0; j < H; j++) nx += r->x[(size_t)f * H + j] * r->x[(size_t)f * H + j];
        cJSON_AddNumberToObject(p, "q", r->q[f]);
        cJSON_AddNumberToObject(p, "norm", sqrt(nx));
        cJSON_AddNumberToObject(p, "max_abs_eig", r->max_abs_eig[f]);
        cJSON_AddNumberToObject(p, "unstable_modes", r->n_unstable_modes[f]);
        cJSON_AddBoolToObject(p, "stable", r->stable[f]);
        cJSON_AddBoolToObject(p, "slow", r->slow[f]);
        cJSON_AddNumberToObject(p, "starts", r->count[f]);
        if (x->has_states) cJSON_AddNumberToObject(p, "dist_to_states", x->dist[f]);
        cJSON *ev = cJSON_AddArrayToObject(p, "top_eigenvalues");
        for (int j = 0; ev && j < H && j < 6; j++) {
            cJSON *e = cJSON_CreateArray();
            cJSON_AddItemToArray(e, cJSON_CreateNumber(r->eig_re[(size_t)f * H + j]));
            cJSON_AddItemToArray(e, cJSON_CreateNumber(r->eig_im[(size_t)f * H + j]));
            cJSON_AddItemToArray(ev, e);
        }
        cJSON_AddItemToArray(arr, p);
    }
    return root;
}
