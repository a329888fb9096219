#include "lfads_infer.h"
#include "lfads_ckpt.h"
#include "../io/fingerprint.h"
#include "../core/blas.h"
#include "../core/mem.h"
#include "../core/progress.h"
#include "../io/h5.h"
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

enum { STREAM_INFER = 4 };

void nd_lfads_result_free(nd_lfads_result *r) {
    float **arrs[] = {&r->rates, &r->factors, &r->gen_states, &r->gen_init, &r->gen_inputs, &r->ic_mean,
                      &r->ic_std, &r->co_means, &r->co_stds, &r->con_states, &r->recon_params};
    for (size_t i = 0; i < sizeof arrs / sizeof arrs[0]; i++) { nd_free(*arrs[i]); *arrs[i] = NULL; }
}

/* out[(start+b)][t][d] += w * f(src[t][b][d]) for a time-major batch */
static void acc_seq(float *out, const real *src, int start, int B, int T, int D, float w, int op) {
    if (!out || !src || D == 0) return;
    for (int t = 0; t < T; t++)
        for (int b = 0; b < B; b++) {
            const real *s = src + ((size_t)t * B + b) * D;
            float *o = out + (((size_t)(start + b)) * T + t) * D;
            for (int d = 0; d < D; d++) {
                real v = s[d];
                if (op == 1) v = REXP(v);                 /* log-rate -> rate */
                else if (op == 2) v = REXP((real)0.5 * v); /* logvar -> std */
                o[d] += w * (float)v;
            }
        }
}

/* out[(start+b)][t][n][p] += w * src[t][b][p*N + n] (the read-out's parameter-major rows, neuron-major out) */
static void acc_params(float *out, const real *src, int start, int B, int T, int N, int P, float w) {
    if (!out || !src) return;
    for (int t = 0; t < T; t++)
        for (int b = 0; b < B; b++) {
            const real *s = src + ((size_t)t * B + b) * P * N;
            float *o = out + (((size_t)(start + b)) * T + t) * N * P;
            for (int n = 0; n < N; n++)
                for (int p = 0; p < P; p++) o[(size_t)n * P + p] += w * (float)s[(size_t)p * N + n];
        }
}

static void acc_vec(float *out, const real *src, int start, int B, int D, float w, int op, real vmin) {
    if (!out || !src) return;
    for (int b = 0; b < B; b++)
        for (int d = 0; d < D; d++) {
            real v = src[(size_t)b * D + d];
            if (op == 2) v = RSQRT(REXP(v) + vmin);
            out[((size_t)(start + b)) * D + d] += w * (float)v;
        }
}

nd_status nd_lfads_infer_split(const nd_lfads_model *m, const float *x, const float *ext, int n, int T,
                               const nd_infer_opts *o, int split_id, nd_lfads_result *r, nd_error *err) {
    return nd_lfads_infer_split2(m, x, ext, n, T, T, o, split_id, r, err);
}

nd_status nd_lfads_infer_split2(const nd_lfads_model *m, const float *x, const float *ext, int n, int Te, int T,
                                const nd_infer_opts *o, int split_id, nd_lfads_result *r, nd_error *err) {
    return nd_lfads_infer_session(m, 0, x, ext, n, Te, T, o, split_id, r, err);
}

nd_status nd_lfads_infer_session(const nd_lfads_model *m, int session, const float *x, const float *ext, int n, int Te,
                                 int T, const nd_infer_opts *o, int split_id, nd_lfads_result *r, nd_error *err) {
    memset(r, 0, sizeof *r);
    const nd_lfads_config *c = &m->cfg;
    if (session < 0 || session >= m->S)
        return nd_fail(err, ND_ERR_ARG, "session %d: the model has %d", session + 1, m->S);
    int N = m->sNr[session], Nin = m->sN[session], E = m->E, G = c->gen_dim, F = c->fac_dim, icd = c->ic_dim;
    int C = m->ctrl ? c->con_dim : 0, K = m->ctrl ? c->co_dim : 0, KE = K + E;
    r->n = n; r->T = T; r->N = N; r->F = F; r->G = G; r->C = C; r->K = K; r->KE = KE; r->icd = icd;
    r->P = nd_recon_nparams(c->recon);
    if (n <= 0) return ND_OK;
    if (Te > T) return nd_fail(err, ND_ERR_ARG, "inference: %d encoder bins but only %d generator bins", Te, T);
    int Bmax = o->batch_size > 0 ? o->batch_size : c->batch_size;
    if (Bmax > n) Bmax = n;
    size_t nT = (size_t)n * T;
    nd_status st = ND_OK;
    nd_lfads_work *w = NULL;
    real *X = NULL, *EXT = NULL;
    st = ND_ALLOC(r->rates, nT * N, "rates", err);
    if (!st) st = ND_ALLOC(r->factors, nT * F, "factors", err);
    if (!st) st = ND_ALLOC(r->gen_states, nT * G, "generator states", err);
    if (!st) st = ND_ALLOC(r->gen_init, (size_t)n * G, "generator initial states", err);
    if (!st && KE) st = ND_ALLOC(r->gen_inputs, nT * KE, "generator inputs", err);
    if (!st) st = ND_ALLOC(r->ic_mean, (size_t)n * icd, "IC means", err);
    if (!st) st = ND_ALLOC(r->ic_std, (size_t)n * icd, "IC stds", err);
    if (!st && K) st = ND_ALLOC(r->co_means, nT * K, "inferred-input means", err);
    if (!st && K) st = ND_ALLOC(r->co_stds, nT * K, "inferred-input stds", err);
    if (!st && C) st = ND_ALLOC(r->con_states, nT * C, "controller states", err);
    if (!st && r->P > 1) st = ND_ALLOC(r->recon_params, nT * N * r->P, "reconstruction parameters", err);
    if (!st) st = nd_lfads_work_create2(&w, m, Bmax, Te, T, err);
    if (!st) st = ND_ALLOC(X, (size_t)Te * Bmax * Nin, "batch", err);
    if (!st) st = ND_ALLOC(EXT, (size_t)T * Bmax * (E ? E : 1), "batch", err);
    if (st) goto done;
    int S = o->samples > 0 ? o->samples : 1;
    nd_lfads_mode mode = {o->samples > 0, 0, 1, 1, session};
    float wgt = 1.0f / (float)S;
    for (int start = 0, k = 0; start < n; start += Bmax, k++) {
        int B = n - start < Bmax ? n - start : Bmax;
        for (int b = 0; b < B; b++)
            for (int t = 0; t < Te; t++) {
                const float *xs = x + ((size_t)(start + b) * Te + t) * Nin;
                real *xd = X + ((size_t)t * B + b) * Nin;
                for (int i = 0; i < Nin; i++) xd[i] = xs[i];
            }
        for (int b = 0; b < B; b++)
            for (int t = 0; t < T; t++) {
                if (E) {
                    const float *es = ext + ((size_t)(start + b) * T + t) * E;
                    real *ed = EXT + ((size_t)t * B + b) * E;
                    for (int i = 0; i < E; i++) ed[i] = es[i];
                }
            }
        for (int s = 0; s < S; s++) {
            nd_rng rng;
            nd_rng_stream(&rng, o->seed, STREAM_INFER, ((uint64_t)split_id << 40) ^ ((uint64_t)k << 20) ^ (uint64_t)s);
            nd_lfads_loss L;
            nd_lfads_forward_recon(m, w, X, NULL, EXT, NULL, B, &mode, &rng, &L);
            nd_lfads_outputs out;
            nd_lfads_outputs_get(m, w, &out);
            if (out.P > 1) acc_seq(r->rates, out.means, start, B, T, N, wgt, 0);
            else acc_seq(r->rates, out.log_rates, start, B, T, N, wgt, 1);
            acc_params(r->recon_params, out.recon_params, start, B, T, N, r->P, wgt);
            acc_seq(r->factors, out.factors, start, B, T, F, wgt, 0);
            acc_seq(r->gen_states, out.gen_states, start, B, T, G, wgt, 0);
            acc_vec(r->gen_init, out.gen_init, start, B, G, wgt, 0, 0);
            acc_seq(r->gen_inputs, out.gen_inputs, start, B, T, KE, wgt, 0);
            acc_seq(r->co_means, out.co_mean, start, B, T, K, wgt, 0);
            acc_seq(r->co_stds, out.co_logvar, start, B, T, K, wgt, 2);
            acc_seq(r->con_states, out.con_states, start, B, T, C, wgt, 0);
            acc_vec(r->ic_mean, out.ic_mean, start, B, icd, wgt, 0, 0);
            acc_vec(r->ic_std, out.ic_logvar, start, B, icd, wgt, 2, (real)c->ic_post_var_min);
        }
        /* on a terminal the line updates every 10 batches; in a pipe or file only the finished line is written */
        const int last = start + B >= n, tty = nd_progress_tty(o->progress);
        if (o->progress && (last || (tty && k % 10 == 9))) {
            fprintf(o->progress, "%s  %s: %d/%d trials%s", tty ? "\r" : "",
                    split_id == 0 ? "train" : split_id == 1 ? "valid" : "test", start + B, n, last ? "\n" : "");
            fflush(o->progress);
        }
    }
    for (size_t i = 0; i < nT * N; i++)
        if (!isfinite(r->rates[i])) {
            st = nd_fail(err, ND_ERR_NUMERIC, "inferred rates contain NaN/Inf (trial %zu): the model is unusable",
                         i / ((size_t)T * N));
            break;
        }
done:
    nd_lfads_work_free(w);
    nd_free(X);
    nd_free(EXT);
    if (st) nd_lfads_result_free(r);
    return st;
}

nd_status nd_lfads_resolve_ckpt(const char *run, char *out, size_t cap, nd_error *err) {
    struct stat sb;
    if (stat(run, &sb) != 0) return nd_fail(err, ND_ERR_IO, "%s: no such run directory or checkpoint", run);
    if (!S_ISDIR(sb.st_mode)) { snprintf(out, cap, "%s", run); return ND_OK; }
    snprintf(out, cap, "%s/best.ckpt", run);
    if (stat(out, &sb) == 0) return ND_OK;
    snprintf(out, cap, "%s/last.ckpt", run);
    if (stat(out, &sb) == 0) return ND_OK;
    return nd_fail(err, ND_ERR_IO, "%s: run directory has no best.ckpt or last.ckpt (train it first)", run);
}

static nd_status write_split(nd_h5file *h, const char *split, const nd_lfads_result *r, nd_error *err) {
    char name[128];
    size_t d3[3] = {(size_t)r->n, (size_t)r->T, 0}, d2[2] = {(size_t)r->n, 0};
    struct { const char *suffix; const float *a; int dim; int rank; } outs[] = {
        {"output_params", r->rates, r->N, 3}, {"factors", r->factors, r->F, 3},
        {"gen_states", r->gen_states, r->G, 3}, {"gen_init", r->gen_init, r->G, 2},
        {"gen_inputs", r->gen_inputs, r->KE, 3}, {"ic_mean", r->ic_mean, r->icd, 2},
        {"ic_std", r->ic_std, r->icd, 2}, {"co_means", r->co_means, r->K, 3},
        {"co_stds", r->co_stds, r->K, 3}, {"con_states", r->con_states, r->C, 3},
    };
    for (size_t i = 0; i < sizeof outs / sizeof outs[0]; i++) {
        if (!outs[i].a) continue;
        snprintf(name, sizeof name, "%s_%s", split, outs[i].suffix);
        d3[2] = (size_t)outs[i].dim;
        d2[1] = (size_t)outs[i].dim;
        nd_status st = nd_h5_write_float(h, name, outs[i].a, outs[i].rank, outs[i].rank == 3 ? d3 : d2, err);
        if (st) return st;
    }
    if (r->recon_params) {
        size_t d4[4] = {(size_t)r->n, (size_t)r->T, (size_t)r->N, (size_t)r->P};
        snprintf(name, sizeof name, "%s_recon_params", split);
        return nd_h5_write_float(h, name, r->recon_params, 4, d4, err);
    }
    return ND_OK;
}

void nd_lfads_infer_out_free(nd_lfads_infer_out *r) {
    for (int k = 0; k < 3; k++) nd_lfads_result_free(&r->split[k]);
}

nd_status nd_lfads_infer_model(const nd_lfads_model *m, int E, const char *ckpt_path, const nd_lfads_data *d_in,
                               const nd_infer_opts *o, nd_lfads_infer_out *out, nd_error *err) {
    memset(out, 0, sizeof *out);
    nd_lfads_data dd = *d_in, *d = &dd;
    if (d->Nr <= 0) d->Nr = d->N;
    if (d->Tr <= 0) d->Tr = d->T;
    int ses = 0; /* stitched: which session the data is */
    if (m->S > 1) {
        nd_status st = nd_lfads_ckpt_find_session(ckpt_path, d->path, o->session, m->S, &ses, err);
        if (st) return st;
    }
    if (m->sN[ses] != d->N || E != d->E || m->sNr[ses] != d->Nr || (m->Tr - m->T) != (d->Tr - d->T)) {
        char which[32] = "";
        if (m->S > 1) snprintf(which, sizeof which, " (session %d)", ses + 1);
        return nd_fail(err, ND_ERR_ARG,
                       "%s: model%s was trained with %d input neurons (%d reconstructed), %d forward bins and %d "
                       "external inputs; %s has %d (%d), %d and %d", ckpt_path, which, m->sN[ses], m->sNr[ses],
                       m->Tr - m->T, E, d->path, d->N, d->Nr, d->Tr - d->T, d->E);
    }
    int threads = o->threads > 0 ? o->threads : 1;
    omp_set_num_threads(threads);
    nd_blas_set_threads(1); /* the LFADS passes parallelise over batch rows themselves (lfads.c) */
    if (o->progress)
        fprintf(o->progress, "inferring with %s: %s\n", ckpt_path,
                o->samples > 0 ? "posterior sample-and-average" : "posterior mean");
    if (o->progress && m->S > 1) fprintf(o->progress, "  %s is session %d of %d\n", d->path, ses + 1, m->S);
    /* train, valid and lfads-torch's test split (encoder data only: its rates are what a held-out evaluation
     * scores) */
    nd_status st = ND_OK;
    for (int s = 0; s < ND_NSPLITS && !st; s++) {
        const nd_lfads_split *sp = &d->split[s];
        if (s == ND_TEST && sp->n <= 0) continue;
        st = nd_lfads_infer_session(m, ses, sp->counts, sp->ext, sp->n, d->T, d->Tr, o, s, &out->split[s], err);
    }
    if (st) {
        nd_lfads_infer_out_free(out);
        return st;
    }
    out->session = ses;
    out->S = m->S;
    out->samples = o->samples;
    out->split_seed = (double)m->cfg.seed;
    out->valid_fraction = m->cfg.valid_fraction;
    out->recon = m->cfg.recon;
    out->zig_loc = m->cfg.zig_loc;
    snprintf(out->ckpt, sizeof out->ckpt, "%s", ckpt_path);
    return ND_OK;
}

nd_status nd_lfads_infer_out_write(const nd_lfads_infer_out *r, const nd_lfads_data *d, const char *out_path,
                                 nd_error *err) {
    static const char *const names[3] = {"train", "valid", "test"};
    const int has_test = d->split[ND_TEST].n > 0;
    nd_h5file *h = NULL;
    nd_status st = nd_h5_create(&h, out_path, err);
    for (int k = 0; k < 3 && !st; k++)
        if (k < 2 || has_test) st = write_split(h, names[k], &r->split[k], err);
    for (int k = 0; k < 3 && !st; k++) {
        const nd_lfads_split *sp = &d->split[k];
        if (!sp->inds || (k == 2 && !has_test)) continue;
        char name[32];
        size_t n1 = (size_t)sp->n;
        snprintf(name, sizeof name, "%s_inds", names[k]);
        st = nd_h5_write_int(h, name, sp->inds, 1, &n1, err);
    }
    if (!st) st = nd_h5_write_attr_string(h, "/", "checkpoint", r->ckpt, err);
    if (!st) st = nd_h5_write_attr_string(h, "/", "data", d->path, err);
    if (!st) st = nd_h5_write_attr_string(h, "/", "mode", r->samples > 0 ? "posterior_sample_average" : "posterior_mean", err);
    if (!st) st = nd_h5_write_attr_int(h, "/", "samples", (long long)(r->samples), err);
    /* the split the model was trained with, so eval can rebuild it when the data file has no valid_data */
    if (!st) st = nd_h5_write_attr_int(h, "/", "split_seed", (long long)(r->split_seed), err);
    if (!st) st = nd_h5_write_attr_double(h, "/", "valid_fraction", r->valid_fraction, err);
    if (!st && r->recon == ND_RECON_POISSON) st = nd_h5_write_attr_string(h, "/", "rate_units", "counts per bin", err);
    /* another reconstruction model: output_params is its mean in data units; eval scores recon_params with it */
    if (!st && r->recon != ND_RECON_POISSON) {
        st = nd_h5_write_attr_string(h, "/", "rate_units", "data units (mean of the reconstruction distribution)", err);
        if (!st) st = nd_h5_write_attr_string(h, "/", "recon", nd_recon_name(r->recon), err);
        if (!st && r->recon == ND_RECON_ZIG) st = nd_h5_write_attr_double(h, "/", "zig_loc", r->zig_loc, err);
    }
    if (!st) st = nd_data_fp_write_attr(h, d, err); /* what eval checks its data against */
    if (!st && r->S > 1) st = nd_h5_write_attr_int(h, "/", "session", (long long)(r->session + 1), err);
    if (!st && r->S > 1) st = nd_h5_write_attr_int(h, "/", "sessions", (long long)(r->S), err);
    if (h) {
        nd_error e2;
        nd_status cs = nd_h5_close(h, st == ND_OK, st ? &e2 : err);
        if (!st) st = cs;
    }
    return st;
}

nd_status nd_lfads_infer_file(const char *ckpt, const nd_lfads_data *d, const char *out_path,
                              const nd_infer_opts *o, nd_error *err) {
    char path[4096];
    nd_status st = nd_lfads_resolve_ckpt(ckpt, path, sizeof path, err);
    if (st) return st;
    nd_lfads_model m;
    int dims[3];
    st = nd_lfads_load(path, &m, dims, err);
    if (st) return st;
    nd_lfads_infer_out r;
    st = nd_lfads_infer_model(&m, dims[2], path, d, o, &r, err);
    if (!st) st = nd_lfads_infer_out_write(&r, d, out_path, err);
    nd_lfads_infer_out_free(&r);
    nd_lfads_free(&m);
    return st;
}
