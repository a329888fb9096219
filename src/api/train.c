/* Training options and training into a run directory. */
#include "api.h"
#include "../models/lfads_train.h"
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

ND_API nd_status nd_train_options_create(nd_context *ctx, nd_train_options **out) {
    if (out) *out = NULL;
    if (api_begin(ctx)) return ND_ERR_ARG;
    if (!out) return api_fail(ctx, ND_ERR_ARG, "nd_train_options_create: out must not be NULL");
    nd_train_options *o = calloc(1, sizeof *o);
    if (!o) return api_fail(ctx, ND_ERR_NOMEM, "nd_train_options_create: out of memory");
    nd_lfads_config_default(&o->cfg);
    *out = o;
    return api_end(ctx, ND_OK);
}

ND_API void nd_train_options_free(nd_train_options *opts) { free(opts); }

ND_API nd_status nd_train_options_set(nd_context *ctx, nd_train_options *opts, const char *key, const char *value) {
    if (api_begin(ctx)) return ND_ERR_ARG;
    if (!opts || !key || !value)
        return api_fail(ctx, ND_ERR_ARG, "nd_train_options_set: opts, key and value must not be NULL");
    nd_status st = nd_lfads_config_set(&opts->cfg, key, value, &ctx->err);
    if (!st && !strcmp(key, "max_epochs")) opts->max_epochs_set = 1;
    return api_end(ctx, st);
}

ND_API nd_status nd_train_options_load(nd_context *ctx, nd_train_options *opts, const char *path) {
    if (api_begin(ctx)) return ND_ERR_ARG;
    if (!opts || !path) return api_fail(ctx, ND_ERR_ARG, "nd_train_options_load: opts and path must not be NULL");
    return api_end(ctx, nd_lfads_config_load(&opts->cfg, path, &ctx->err));
}

ND_API nd_status nd_train_options_get(nd_context *ctx, const nd_train_options *opts, const char *key, char *buf,
                                      size_t cap) {
    if (api_begin(ctx)) return ND_ERR_ARG;
    if (!opts || !key || !buf || cap == 0)
        return api_fail(ctx, ND_ERR_ARG, "nd_train_options_get: opts, key and buf must not be NULL, cap > 0");
    int n;
    const nd_cfg_key *k = nd_lfads_config_keys(&n);
    for (int i = 0; i < n; i++) {
        if (strcmp(k[i].name, key)) continue;
        const char *p = (const char *)&opts->cfg + k[i].offset;
        int len;
        if (k[i].type == ND_CFG_DOUBLE) len = snprintf(buf, cap, "%.17g", *(const double *)p);
        else if (k[i].offset == offsetof(nd_lfads_config, seed))
            len = snprintf(buf, cap, "%lld", (long long)*(const int64_t *)p);
        else len = snprintf(buf, cap, "%d", *(const int *)p);
        if (len < 0 || (size_t)len >= cap)
            return api_fail(ctx, ND_ERR_ARG, "nd_train_options_get: '%s': buffer of %zu bytes too small", key, cap);
        return api_end(ctx, ND_OK);
    }
    nd_lfads_config probe = opts->cfg; /* the setter's message, with its "did you mean" */
    return api_end(ctx, nd_lfads_config_set(&probe, key, "0", &ctx->err));
}

ND_API nd_status nd_train(nd_context *ctx, const nd_data *data, const nd_train_options *opts, const char *run_dir,
                          int resume, nd_train_report *report) {
    if (api_begin(ctx)) return ND_ERR_ARG;
    if (!data || !opts || !run_dir)
        return api_fail(ctx, ND_ERR_ARG, "nd_train: data, opts and run_dir must not be NULL");
    nd_status st = nd_lfads_config_check(&opts->cfg, &ctx->err);
    if (st) return api_end(ctx, st);
    nd_train_opts o = {run_dir, api_threads(ctx), resume != 0, opts->max_epochs_set ? opts->cfg.max_epochs : -1,
                       ctx->progress ? stderr : NULL, 0, 0, NULL, ctx->progress_fn, ctx->progress_user};
    /* no force: a used run_dir is an error */
    nd_train_result res;
    memset(&res, 0, sizeof res);
    st = nd_lfads_train(api_lfd(data), &opts->cfg, &o, &res, &ctx->err);
    if (!st && report) {
        report->epochs_run = res.epochs_run;
        report->best_epoch = res.best_epoch;
        report->best_valid_recon = res.best_valid_recon;
        report->seconds = res.seconds;
    }
    return api_end(ctx, st);
}
