/* Scoring outputs against their data: the NLB metrics and the rate R^2 of `neurodyn eval`, computed the same way
 * (valid trials, plus test trials when the data has their targets and the outputs their rates). */
#include "api.h"
#include "../core/mem.h"
#include "../eval/metrics.h"
#include "../eval/nlb.h"
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

/* [na + nb][inner] from two blocks; NULL if a non-empty block is missing or out of memory */
static float *cat_f(const float *a, size_t na, const float *b, size_t nb, size_t inner) {
    if ((na && !a) || (nb && !b)) return NULL;
    float *o = nd_alloc((na + nb) * inner * sizeof(float) + sizeof(float));
    if (!o) return NULL;
    if (na) memcpy(o, a, na * inner * sizeof(float));
    if (nb) memcpy(o + na * inner, b, nb * inner * sizeof(float));
    return o;
}
static int *cat_i(const int *a, size_t na, const int *b, size_t nb, const int *c, size_t nc) {
    if ((na && !a) || (nb && !b) || (nc && !c)) return NULL;
    int *o = nd_alloc((na + nb + nc) * sizeof(int) + sizeof(int));
    if (!o) return NULL;
    if (na) memcpy(o, a, na * sizeof(int));
    if (nb) memcpy(o + na, b, nb * sizeof(int));
    if (nc) memcpy(o + na + nb, c, nc * sizeof(int));
    return o;
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

typedef struct {
    const nd_lfads_data *d;
    int T, N, Tr, Nr, nv, ns, ne;
    const float *train_rates;
    const int *train_cond, *valid_cond; /* condition ids (simulated data keeps them beside its dataset) */
    float *rates, *recon; /* eval trials [ne][Tr][Nr] */
} eval_set;

/* a block's bits per spike; ND_ERR_ARG (undefined for this data) leaves the metric out */
static nd_status bps(nd_context *ctx, const eval_set *e, int t0, int t1, int j0, int j1, double *v, int bit,
                     int *computed) {
    nd_nlb_bps b;
    nd_error err;
    nd_status st = nd_nlb_bits_per_spike(e->rates, e->recon, e->ne, e->Tr, e->Nr, t0, t1, j0, j1, &b, &err);
    if (st == ND_ERR_ARG) return ND_OK;
    if (st) return api_fail(ctx, st, "nd_eval: %s", err.msg);
    *v = b.bps;
    *computed |= bit;
    return ND_OK;
}

static nd_status vel(nd_context *ctx, const eval_set *e, const nd_eval_options *o, nd_metrics *m) {
    const nd_lfads_data *d = e->d;
    if (d->B == 0 || !e->train_rates) return ND_OK;
    float *beh = cat_f(d->valid_beh, (size_t)e->nv, d->test_beh, (size_t)e->ns, (size_t)d->Tb * d->B);
    if (!beh) return api_fail(ctx, ND_ERR_NOMEM, "nd_eval: out of memory");
    nd_nlb_ridge rr;
    nd_error err;
    nd_status st = nd_nlb_vel_r2(e->train_rates, d->train_beh, d->n_train, e->rates, beh, e->ne, e->Tr, d->Tb, e->T,
                                 e->Nr, d->B, o->behaviour_lag_bins,
                                 o->vel_r2_uniform ? ND_R2_UNIFORM : ND_R2_VARIANCE_WEIGHTED, &rr, &err);
    nd_free(beh);
    if (st == ND_ERR_ARG) return ND_OK;
    if (st) return api_fail(ctx, st, "nd_eval: vel_r2: %s", err.msg);
    m->vel_r2 = rr.r2;
    m->computed |= ND_METRIC_VEL_R2;
    return ND_OK;
}

static nd_status psth(nd_context *ctx, const eval_set *e, const nd_eval_options *o, double bin_ms, nd_metrics *m) {
    const nd_lfads_data *d = e->d;
    const int *tc = e->train_cond, *vc = e->valid_cond;
    if (!tc || !vc || (e->ns && !d->test_cond)) return ND_OK;
    const size_t TrNr = (size_t)e->Tr * e->Nr;
    const int nt = d->test_recon && d->test_cond ? d->n_test : 0, nps = d->n_train + d->n_valid + nt;
    int *ev_cond = cat_i(vc, (size_t)e->nv, d->test_cond, (size_t)e->ns, NULL, 0);
    int *ps_cond = cat_i(tc, (size_t)d->n_train, vc, (size_t)d->n_valid, d->test_cond, (size_t)nt);
    float *spk = cat_f(nd_lfads_recon(d, 0), (size_t)d->n_train, nd_lfads_recon(d, 1), (size_t)d->n_valid, TrNr);
    float *all = spk ? cat_f(spk, (size_t)(d->n_train + d->n_valid), d->test_recon, (size_t)nt, TrNr) : NULL;
    nd_status st = ND_OK;
    if (!ev_cond || !ps_cond || !all) st = api_fail(ctx, ND_ERR_NOMEM, "nd_eval: out of memory");
    else {
        double r2;
        int ncond;
        nd_error err;
        st = nd_nlb_psth_r2(e->rates, ev_cond, e->ne, e->Tr, all, ps_cond, nps, e->Tr, e->T, e->Nr,
                            o->psth_kernel_ms / bin_ms, &r2, &ncond, &err);
        if (st == ND_ERR_ARG) st = ND_OK;
        else if (st) api_fail(ctx, st, "nd_eval: psth_r2: %s", err.msg);
        else {
            m->psth_r2 = r2;
            m->computed |= ND_METRIC_PSTH_R2;
        }
    }
    nd_free(ev_cond);
    nd_free(ps_cond);
    nd_free(spk);
    nd_free(all);
    return st;
}

static nd_status rate_r2(nd_context *ctx, const eval_set *e, nd_metrics *m) {
    const nd_lfads_data *d = e->d;
    if ((e->nv && !d->valid_truth) || (e->ns && !d->test_truth)) return ND_OK;
    float *truth = cat_f(d->valid_truth, (size_t)e->nv, d->test_truth, (size_t)e->ns, (size_t)e->Tr * e->Nr);
    if (!truth) return api_fail(ctx, ND_ERR_NOMEM, "nd_eval: out of memory");
    double r2 = nd_r2_score_3d(e->rates, truth, e->ne, e->Tr, e->Nr);
    nd_free(truth);
    if (isfinite(r2)) {
        m->rate_r2 = r2;
        m->computed |= ND_METRIC_RATE_R2;
    }
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
    eval_set e;
    memset(&e, 0, sizeof e);
    const nd_lfads_data *d = e.d = api_lfd(data);
    e.train_cond = data->synth ? data->synth->train_condition : d->train_cond;
    e.valid_cond = data->synth ? data->synth->valid_condition : d->valid_cond;
    e.T = d->T, e.N = d->N, e.Tr = d->Tr > 0 ? d->Tr : d->T, e.Nr = d->Nr > 0 ? d->Nr : d->N;
    e.train_rates = train_rates;
    const float *rs = d->n_test > 0 && d->test_recon ? test_rates : NULL;
    e.nv = valid_rates ? d->n_valid : 0, e.ns = rs ? d->n_test : 0, e.ne = e.nv + e.ns;
    if (e.ne == 0) return api_fail(ctx, ND_ERR_ARG, "nd_eval: no eval trials (no valid rates, no scorable test rates)");
    nd_status st = ND_OK;
    e.rates = cat_f(valid_rates, (size_t)e.nv, rs, (size_t)e.ns, (size_t)e.Tr * e.Nr);
    e.recon = cat_f(nd_lfads_recon(d, 1), (size_t)e.nv, d->test_recon, (size_t)e.ns, (size_t)e.Tr * e.Nr);
    if (!e.rates || !e.recon) st = api_fail(ctx, ND_ERR_NOMEM, "nd_eval: out of memory");
    if (!st && e.Nr > e.N) st = bps(ctx, &e, 0, e.T, e.N, e.Nr, &m.co_bps, ND_METRIC_CO_BPS, &m.computed);
    if (!st && e.Tr > e.T) st = bps(ctx, &e, e.T, e.Tr, 0, e.Nr, &m.fp_bps, ND_METRIC_FP_BPS, &m.computed);
    if (!st) st = vel(ctx, &e, opts, &m);
    if (!st) st = psth(ctx, &e, opts, bin_ms_of(data, opts), &m);
    if (!st) st = rate_r2(ctx, &e, &m);
    nd_free(e.rates);
    nd_free(e.recon);
    if (st) return st;
    m.eval_trials = e.ne;
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
    nd_status st = rates_of(ctx, outputs, "valid_output_params", d->n_valid, Tr, Nr, &rv);
    if (!st && !rv) st = api_fail(ctx, ND_ERR_FORMAT, "nd_eval: the outputs have no valid_output_params");
    if (!st) st = rates_of(ctx, outputs, "train_output_params", d->n_train, Tr, Nr, &rt);
    if (!st && opts->use_test && d->n_test > 0 && d->test_recon)
        st = rates_of(ctx, outputs, "test_output_params", d->n_test, Tr, Nr, &rs);
    if (!st) st = api_eval_rates(ctx, data, rt, rv, rs, opts, metrics);
    return st ? st : api_end(ctx, ND_OK);
}
