/* Data handles: LFADS files and simulated Lorenz data. */
#include "api.h"
#include "../core/mem.h"
#include <stdlib.h>
#include <string.h>

ND_API nd_status nd_data_open(nd_context *ctx, const char *path, unsigned long long split_seed, double valid_fraction,
                              nd_data **out) {
    if (out) *out = NULL;
    if (api_begin(ctx)) return ND_ERR_ARG;
    if (!path || !out) return api_fail(ctx, ND_ERR_ARG, "nd_data_open: path and out must not be NULL");
    nd_data *d = calloc(1, sizeof *d);
    if (!d) return api_fail(ctx, ND_ERR_NOMEM, "nd_data_open: out of memory");
    nd_status st = nd_lfads_data_read(path, (uint64_t)split_seed, valid_fraction, &d->own, &ctx->err);
    if (st) {
        free(d);
        return api_end(ctx, st);
    }
    d->split_seed = (double)split_seed;
    d->valid_fraction = valid_fraction;
    *out = d;
    return api_end(ctx, ND_OK);
}

ND_API void nd_data_free(nd_data *data) {
    if (!data) return;
    if (data->synth) {
        nd_synth_free(data->synth);
        free(data->synth);
    }
    nd_lfads_data_free(&data->own);
    free(data);
}

/* the public nd_split values index nd_lfads_data.split */
_Static_assert((int)ND_SPLIT_TRAIN == ND_TRAIN && (int)ND_SPLIT_VALID == ND_VALID && (int)ND_SPLIT_TEST == ND_TEST,
               "nd_split and the split[] index differ");

ND_API int nd_data_trials(const nd_data *data, nd_split split) {
    if (!data || (int)split < 0 || (int)split >= ND_NSPLITS) return 0;
    return api_lfd(data)->split[split].n;
}
ND_API int nd_data_bins(const nd_data *data) { return data ? api_lfd(data)->T : 0; }
ND_API int nd_data_neurons(const nd_data *data) { return data ? api_lfd(data)->N : 0; }
ND_API int nd_data_recon_bins(const nd_data *data) {
    return !data ? 0 : api_lfd(data)->Tr > 0 ? api_lfd(data)->Tr : api_lfd(data)->T;
}
ND_API int nd_data_recon_neurons(const nd_data *data) {
    return !data ? 0 : api_lfd(data)->Nr > 0 ? api_lfd(data)->Nr : api_lfd(data)->N;
}
ND_API int nd_data_ext_dims(const nd_data *data) { return data ? api_lfd(data)->E : 0; }

ND_API const float *nd_data_counts(const nd_data *data, nd_split split) {
    if (!data || nd_data_trials(data, split) <= 0) return NULL;
    return api_lfd(data)->split[split].counts;
}

ND_API void nd_lorenz_options_default(nd_lorenz_options *opts) {
    if (!opts) return;
    nd_lorenz_opts o;
    nd_lorenz_opts_default(&o);
    opts->conditions = o.conditions;
    opts->trials_per_condition = o.trials_per_condition;
    opts->neurons = o.neurons;
    opts->bins = o.bins;
    opts->bin_ms = o.bin_ms;
    opts->base_rate_hz = o.base_rate_hz;
    opts->valid_fraction = o.valid_fraction;
    opts->seed = (unsigned long long)o.seed;
}

ND_API nd_status nd_simulate_lorenz(nd_context *ctx, const nd_lorenz_options *opts, nd_data **out) {
    if (out) *out = NULL;
    if (api_begin(ctx)) return ND_ERR_ARG;
    if (!opts || !out) return api_fail(ctx, ND_ERR_ARG, "nd_simulate_lorenz: opts and out must not be NULL");
    nd_lorenz_opts o;
    nd_lorenz_opts_default(&o);
    o.conditions = opts->conditions;
    o.trials_per_condition = opts->trials_per_condition;
    o.neurons = opts->neurons;
    o.bins = opts->bins;
    o.bin_ms = opts->bin_ms;
    o.base_rate_hz = opts->base_rate_hz;
    o.valid_fraction = opts->valid_fraction;
    o.seed = (uint64_t)opts->seed;
    nd_data *d = calloc(1, sizeof *d);
    if (d) d->synth = calloc(1, sizeof *d->synth);
    if (!d || !d->synth) {
        free(d);
        return api_fail(ctx, ND_ERR_NOMEM, "nd_simulate_lorenz: out of memory");
    }
    nd_status st = nd_synth_lorenz(&o, d->synth, &ctx->err);
    if (st) {
        free(d->synth);
        free(d);
        return api_end(ctx, st);
    }
    d->split_seed = (double)o.seed;
    d->valid_fraction = o.valid_fraction;
    *out = d;
    return api_end(ctx, ND_OK);
}

ND_API nd_status nd_data_write(nd_context *ctx, const nd_data *data, const char *path) {
    if (api_begin(ctx)) return ND_ERR_ARG;
    if (!data || !path) return api_fail(ctx, ND_ERR_ARG, "nd_data_write: data and path must not be NULL");
    if (!data->synth)
        return api_fail(ctx, ND_ERR_ARG, "nd_data_write: %s: only simulated data can be written (this was read "
                        "from that file)", data->own.path);
    return api_end(ctx, nd_synth_write(data->synth, path, &ctx->err));
}
