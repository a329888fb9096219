/* Trained models, inference, baselines and their outputs. */
#include "api.h"
#include "../core/mem.h"
#include "../models/lfads_ckpt.h"
#include <stdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

ND_API nd_status nd_model_open(nd_context *ctx, const char *run, nd_model **out) {
    if (out) *out = NULL;
    if (api_begin(ctx)) return ND_ERR_ARG;
    if (!run || !out) return api_fail(ctx, ND_ERR_ARG, "nd_model_open: run and out must not be NULL");
    nd_model *m = calloc(1, sizeof *m);
    if (!m) return api_fail(ctx, ND_ERR_NOMEM, "nd_model_open: out of memory");
    int dims[3];
    nd_status st = nd_lfads_resolve_ckpt(run, m->ckpt, sizeof m->ckpt, &ctx->err);
    if (!st) st = nd_lfads_load(m->ckpt, &m->m, dims, &ctx->err);
    if (st) {
        free(m);
        return api_end(ctx, st);
    }
    m->E = dims[2];
    *out = m;
    return api_end(ctx, ND_OK);
}

ND_API void nd_model_free(nd_model *model) {
    if (!model) return;
    nd_lfads_free(&model->m);
    free(model);
}

ND_API nd_status nd_model_open_data(nd_context *ctx, const nd_model *model, const char *path, nd_data **out) {
    if (!model) {
        if (out) *out = NULL;
        return api_begin(ctx) ? ND_ERR_ARG : api_fail(ctx, ND_ERR_ARG, "nd_model_open_data: model is NULL");
    }
    return nd_data_open(ctx, path, (unsigned long long)model->m.cfg.seed, model->m.cfg.valid_fraction, out);
}

ND_API int nd_model_factors(const nd_model *model) { return model ? model->m.cfg.fac_dim : 0; }
ND_API int nd_model_neurons(const nd_model *model) { return model ? model->m.sNr[0] : 0; }

ND_API void nd_infer_options_default(nd_infer_options *opts) {
    if (!opts) return;
    opts->samples = 50;
    opts->batch_size = 0;
    opts->seed = 0;
    opts->session = 0;
}

/* the outputs remember the sizes, path and trial indices of their data (for writing) */
static nd_status copy_meta(nd_outputs *o, const nd_data *data) {
    const nd_lfads_data *d = api_lfd(data);
    nd_lfads_data *m = &o->meta;
    memcpy(m->path, d->path, sizeof m->path);
    m->T = d->T, m->N = d->N, m->E = d->E, m->Tr = d->Tr, m->Nr = d->Nr;
    for (int k = 0; k < ND_NSPLITS; k++) {
        const int n = m->split[k].n = d->split[k].n;
        if (!d->split[k].inds || n <= 0) continue;
        if (!(m->split[k].inds = nd_alloc(sizeof(int) * (size_t)n))) return ND_ERR_NOMEM;
        memcpy(m->split[k].inds, d->split[k].inds, sizeof(int) * (size_t)n);
    }
    o->split_seed = data->split_seed;
    o->valid_fraction = data->valid_fraction;
    return ND_OK;
}

ND_API void nd_outputs_free(nd_outputs *outputs) {
    if (!outputs) return;
    if (outputs->kind == API_OUT_LFADS) nd_lfads_infer_out_free(&outputs->lf);
    if (outputs->kind == API_OUT_BASELINE) nd_baseline_result_free(&outputs->bl);
    for (int k = 0; k < ND_NSPLITS; k++) nd_free(outputs->meta.split[k].inds);
    free(outputs);
}

ND_API nd_status nd_infer(nd_context *ctx, const nd_model *model, const nd_data *data, const nd_infer_options *opts,
                          nd_outputs **out) {
    if (out) *out = NULL;
    if (api_begin(ctx)) return ND_ERR_ARG;
    if (!model || !data || !out) return api_fail(ctx, ND_ERR_ARG, "nd_infer: model, data and out must not be NULL");
    nd_infer_options def;
    nd_infer_options_default(&def);
    if (!opts) opts = &def;
    if (opts->samples < 0 || opts->batch_size < 0 || opts->session < 0)
        return api_fail(ctx, ND_ERR_ARG, "nd_infer: samples, batch_size and session must not be negative");
    nd_outputs *o = calloc(1, sizeof *o);
    if (!o || copy_meta(o, data)) {
        nd_outputs_free(o);
        return api_fail(ctx, ND_ERR_NOMEM, "nd_infer: out of memory");
    }
    nd_infer_opts io = {opts->samples, api_threads(ctx), opts->batch_size, (uint64_t)opts->seed,
                        ctx->progress ? stderr : NULL, opts->session};
    nd_status st = nd_lfads_infer_model(&model->m, model->E, model->ckpt, api_lfd(data), &io, &o->lf, &ctx->err);
    if (st) {
        nd_outputs_free(o);
        return api_end(ctx, st);
    }
    o->kind = API_OUT_LFADS;
    o->split_seed = o->lf.split_seed;
    o->valid_fraction = o->lf.valid_fraction;
    *out = o;
    return api_end(ctx, ND_OK);
}

ND_API void nd_baseline_options_default(nd_baseline_options *opts) {
    if (!opts) return;
    nd_baseline_opts o;
    nd_baseline_opts_default(&o);
    opts->kernel_ms = o.kernel_ms;
    opts->bin_ms = o.bin_ms;
    opts->alpha = o.alpha;
    opts->log_offset = o.log_offset;
    opts->gpfa_latents = o.gpfa.latents;
    opts->gpfa_iters = o.gpfa.max_iters;
}

ND_API nd_status nd_baseline(nd_context *ctx, const nd_data *data, nd_baseline_method method,
                             const nd_baseline_options *opts, nd_outputs **out) {
    if (out) *out = NULL;
    if (api_begin(ctx)) return ND_ERR_ARG;
    if (!data || !out) return api_fail(ctx, ND_ERR_ARG, "nd_baseline: data and out must not be NULL");
    if (method != ND_BASELINE_SMOOTHING && method != ND_BASELINE_GPFA)
        return api_fail(ctx, ND_ERR_ARG, "nd_baseline: unknown method %d (ND_BASELINE_SMOOTHING or ND_BASELINE_GPFA)",
                        (int)method);
    nd_baseline_options def;
    nd_baseline_options_default(&def);
    if (!opts) opts = &def;
    /* kernel_ms <= 0, alpha < 0, gpfa_latents <= 0: chosen by cross-validation on the train trials */
    if (!isfinite(opts->kernel_ms) || !(opts->bin_ms > 0) || !isfinite(opts->alpha) || !(opts->log_offset > 0) ||
        opts->gpfa_iters < 1)
        return api_fail(ctx, ND_ERR_ARG, "nd_baseline: options out of range (bin_ms, log_offset > 0; kernel_ms and "
                        "alpha finite; gpfa_iters >= 1)");
    nd_outputs *o = calloc(1, sizeof *o);
    if (!o || copy_meta(o, data)) {
        nd_outputs_free(o);
        return api_fail(ctx, ND_ERR_NOMEM, "nd_baseline: out of memory");
    }
    nd_baseline_opts_default(&o->bo);
    o->bo.kernel_ms = opts->kernel_ms;
    o->bo.bin_ms = opts->bin_ms;
    o->bo.alpha = opts->alpha;
    o->bo.log_offset = opts->log_offset;
    o->bo.gpfa.latents = opts->gpfa_latents;
    o->bo.gpfa.max_iters = opts->gpfa_iters;
    o->bo.threads = api_threads(ctx);
    o->bo.progress = ctx->progress ? stderr : NULL;
    nd_status st = method == ND_BASELINE_GPFA ? nd_baseline_gpfa(api_lfd(data), &o->bo, &o->bl, &ctx->err)
                                              : nd_baseline_smoothing(api_lfd(data), &o->bo, &o->bl, &ctx->err);
    if (st) {
        o->kind = 0;
        nd_outputs_free(o);
        return api_end(ctx, st);
    }
    o->kind = API_OUT_BASELINE;
    o->bo.progress = NULL;
    *out = o;
    return api_end(ctx, ND_OK);
}

ND_API nd_status nd_outputs_write(nd_context *ctx, const nd_outputs *outputs, const char *path) {
    if (api_begin(ctx)) return ND_ERR_ARG;
    if (!outputs || !path) return api_fail(ctx, ND_ERR_ARG, "nd_outputs_write: outputs and path must not be NULL");
    nd_status st = outputs->kind == API_OUT_LFADS
                       ? nd_lfads_infer_out_write(&outputs->lf, &outputs->meta, path, &ctx->err)
                       : nd_baseline_write(path, &outputs->meta, &outputs->bl, &outputs->bo, outputs->split_seed,
                                           outputs->valid_fraction, &ctx->err);
    return api_end(ctx, st);
}

/* "<split>_<suffix>" -> split index and suffix; -1 if the prefix is not a split */
static int split_of(const char *name, const char **suffix) {
    static const char *const pre[3] = {"train_", "valid_", "test_"};
    for (int k = 0; k < 3; k++) {
        size_t n = strlen(pre[k]);
        if (!strncmp(name, pre[k], n)) {
            *suffix = name + n;
            return k;
        }
    }
    return -1;
}

static const float *lfads_array(const nd_lfads_result *r, const char *suffix, size_t dims[3], int *rank) {
    const struct { const char *suffix; const float *a; int dim, rank; } outs[] = {
        {"output_params", r->rates, r->N, 3}, {"factors", r->factors, r->F, 3},
        {"gen_states", r->gen_states, r->G, 3}, {"gen_init", r->gen_init, r->G, 2},
        {"gen_inputs", r->gen_inputs, r->KE, 3}, {"ic_mean", r->ic_mean, r->icd, 2},
        {"ic_std", r->ic_std, r->icd, 2}, {"co_means", r->co_means, r->K, 3},
        {"co_stds", r->co_stds, r->K, 3}, {"con_states", r->con_states, r->C, 3},
    };
    for (size_t i = 0; i < sizeof outs / sizeof outs[0]; i++) {
        if (strcmp(outs[i].suffix, suffix) || !outs[i].a) continue;
        size_t d[3] = {(size_t)r->n, outs[i].rank == 3 ? (size_t)r->T : (size_t)outs[i].dim, (size_t)outs[i].dim};
        if (dims) memcpy(dims, d, sizeof d);
        if (rank) *rank = outs[i].rank;
        return outs[i].a;
    }
    return NULL;
}

ND_API const float *nd_outputs_array(const nd_outputs *outputs, const char *name, size_t dims[3], int *rank) {
    const char *suffix = NULL;
    int k = outputs && name ? split_of(name, &suffix) : -1;
    if (k < 0) return NULL;
    if (outputs->kind == API_OUT_LFADS) return outputs->lf.split[k].n > 0 ? lfads_array(&outputs->lf.split[k], suffix, dims, rank) : NULL;
    const nd_baseline_result *r = &outputs->bl;
    if (r->n[k] <= 0) return NULL;
    const float *a = !strcmp(suffix, "output_params") ? r->rates[k] : !strcmp(suffix, "factors") ? r->factors[k] : NULL;
    if (!a) return NULL;
    if (dims) {
        dims[0] = (size_t)r->n[k];
        dims[1] = (size_t)r->Tr;
        dims[2] = (size_t)(a == r->rates[k] ? r->Nr : r->F);
    }
    if (rank) *rank = 3;
    return a;
}
