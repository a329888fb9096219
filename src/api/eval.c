/* Scoring outputs against their data: the NLB metrics and the rate R^2 of `neurodyn eval`, computed the same way
 * (valid trials, plus test trials when the data has their targets and the outputs their rates). */
#include "api.h"
#include "../core/mem.h"
#include "../eval/score.h"
#include "../nn/recon.h"
#include "../io/h5.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

ND_API void nd_eval_options_default(nd_eval_options *opts) {
    if (!opts) return;
    opts->use_test = 1;
    opts->bin_ms = 0;
    opts->psth_kernel_ms = 70;
    opts->behaviour_lag_bins = 0;
    opts->vel_r2_uniform = 0;
}

/* rates of a split with the data's reconstruction shape: ND_OK (NULL when absent) or ND_ERR_FORMAT */
static nd_status rates_of(nd_context *ctx, const nd_outputs *out, const char *name, int n, int Tr, int Nr,
                          const float **r) {
    size_t dims[3];
    int rank = 0;
    *r = nd_outputs_array(out, name, dims, &rank);
    if (*r && (rank != 3 || (int)dims[0] != n || (int)dims[1] != Tr || (int)dims[2] != Nr))
        return api_fail(ctx, ND_ERR_FORMAT, "nd_eval: outputs '%s' [%zu x %zu x %zu] do not match the data's "
                        "targets (%d, %d, %d)", name, dims[0], dims[1], dims[2], n, Tr, Nr);
    return ND_OK;
}

static double bin_ms_of(const nd_data *data, const nd_eval_options *o) {
    double b = o->bin_ms;
    if (b > 0 && isfinite(b)) return b;
    if (data->synth) return data->synth->bin_ms;
    if (nd_h5_read_attr_double(data->own.path, "/", "bin_ms", &b, NULL) == ND_OK && b > 0 && isfinite(b)) return b;
    return 20;
}

nd_status api_eval_rates(nd_context *ctx, const nd_data *data, const float *train_rates, const float *valid_rates,
                         const float *test_rates, const nd_eval_options *opts, nd_metrics *metrics) {
    nd_eval_options def;
    nd_eval_options_default(&def);
    if (!opts) opts = &def;
    if (!(opts->psth_kernel_ms >= 0) || !isfinite(opts->psth_kernel_ms))
        return api_fail(ctx, ND_ERR_ARG, "nd_eval: psth_kernel_ms %g must be >= 0", opts->psth_kernel_ms);
    nd_metrics m = {NAN, NAN, NAN, NAN, NAN, 0, 0};
    *metrics = m;
    const nd_lfads_data *d = api_lfd(data);
    nd_eval_inputs in;
    memset(&in, 0, sizeof in);
    in.recon = ND_RECON_POISSON;
    in.cond[0] = data->synth ? data->synth->train_condition : NULL;
    in.cond[1] = data->synth ? data->synth->valid_condition : NULL;
    in.rates[0] = train_rates;
    in.rates[1] = valid_rates;
    in.rates[2] = opts->use_test && d->split[ND_TEST].n > 0 && d->split[ND_TEST].recon ? test_rates : NULL;
    if (!in.rates[1] && !in.rates[2])
        return api_fail(ctx, ND_ERR_ARG, "nd_eval: no eval trials (no valid rates, no scorable test rates)");
    nd_eval_opts o;
    nd_eval_opts_default(&o);
    /* no valid rates (e.g. a report's test-only outputs): the test split alone */
    o.split = !in.rates[1] ? ND_EVAL_SPLIT_TEST : in.rates[2] ? ND_EVAL_SPLIT_ALL : ND_EVAL_SPLIT_VALID;
    o.bin_ms = bin_ms_of(data, opts);
    o.psth_kernel_ms = opts->psth_kernel_ms;
    o.lag_ms = opts->behaviour_lag_bins * o.bin_ms; /* in.file_lag_ms = 0: the shift in whole bins */
    o.vel_avg = opts->vel_r2_uniform ? ND_R2_UNIFORM : ND_R2_VARIANCE_WEIGHTED;
    nd_eval_result r;
    nd_error err;
    nd_status st;
    if ((st = nd_eval_score(d, &in, &o, &r, &err))) return api_fail(ctx, st, "nd_eval: %s", err.msg);
    const struct { const nd_eval_value *x; double *v; int bit; } got[] = {
        {&r.co_bps, &m.co_bps, ND_METRIC_CO_BPS},    {&r.fp_bps, &m.fp_bps, ND_METRIC_FP_BPS},
        {&r.vel_r2, &m.vel_r2, ND_METRIC_VEL_R2},    {&r.psth_r2, &m.psth_r2, ND_METRIC_PSTH_R2},
        {&r.rate_r2, &m.rate_r2, ND_METRIC_RATE_R2}};
    for (size_t k = 0; k < sizeof got / sizeof got[0]; k++)
        if (!got[k].x->why[0] && isfinite(got[k].x->v)) { *got[k].v = got[k].x->v; m.computed |= got[k].bit; }
    m.eval_trials = r.ne;
    *metrics = m;
    return ND_OK;
}

ND_API nd_status nd_eval(nd_context *ctx, const nd_data *data, const nd_outputs *outputs, const nd_eval_options *opts,
                         nd_metrics *metrics) {
    if (api_begin(ctx)) return ND_ERR_ARG;
    if (!data || !outputs || !metrics)
        return api_fail(ctx, ND_ERR_ARG, "nd_eval: data, outputs and metrics must not be NULL");
    nd_eval_options def;
    nd_eval_options_default(&def);
    if (!opts) opts = &def;
    const nd_lfads_data *d = api_lfd(data);
    const int Tr = d->Tr > 0 ? d->Tr : d->T, Nr = d->Nr > 0 ? d->Nr : d->N;
    const float *rv, *rt, *rs = NULL;
    const nd_lfads_split *te = &d->split[ND_TEST];
    nd_status st = rates_of(ctx, outputs, "valid_output_params", d->split[ND_VALID].n, Tr, Nr, &rv);
    if (!st && !rv) st = api_fail(ctx, ND_ERR_FORMAT, "nd_eval: the outputs have no valid_output_params");
    if (!st) st = rates_of(ctx, outputs, "train_output_params", d->split[ND_TRAIN].n, Tr, Nr, &rt);
    if (!st && opts->use_test && te->n > 0 && te->recon)
        st = rates_of(ctx, outputs, "test_output_params", te->n, Tr, Nr, &rs);
    if (!st) st = api_eval_rates(ctx, data, rt, rv, rs, opts, metrics);
    return st ? st : api_end(ctx, ND_OK);
}
