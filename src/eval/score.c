/* Scoring model outputs against their data (score.h): the one implementation behind 'neurodyn eval' and nd_eval. */
#define _GNU_SOURCE
#include "score.h"
#include "metrics.h"
#include "regress.h"
#include "../core/mem.h"
#include "../core/smooth.h"
#include "../io/fingerprint.h"
#include "../io/h5.h"
#include "../io/h5x.h"
#include "../nn/recon.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void nd_eval_opts_default(nd_eval_opts *o) {
    memset(o, 0, sizeof *o);
    o->split = ND_EVAL_SPLIT_DEFAULT;
    o->psth_kernel_ms = 70;
    o->kernel_ms = 50;
    o->lag_ms = NAN;
    o->vel_avg = ND_R2_VARIANCE_WEIGHTED;
}

/* concatenation of per-split [n][inner] blocks; NULL blocks with n > 0 make the result NULL */
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

static void set_v(nd_eval_value *x, double v) { x->v = v; x->why[0] = x->brief[0] = 0; }
/* copy src into dst[cap], truncated */
static void copy_str(char *dst, size_t cap, const char *src) {
    size_t n = strlen(src);
    if (n >= cap) n = cap - 1;
    memcpy(dst, src, n);
    dst[n] = 0;
}
static void set_no(nd_eval_value *x, const char *why, const char *brief) {
    x->v = NAN;
    copy_str(x->why, sizeof x->why, why);
    copy_str(x->brief, sizeof x->brief, brief ? brief : "");
}

/* mean log-likelihood per entry of targets x [n][Tr][Nr] under params [n][Tr][Nr][P]: all entries (ll[0]), held-out
 * neurons' observed bins (ll[1]), forward-prediction bins (ll[2]); NaN where a block is empty */
static void recon_ll(int kind, double loc, const float *prm, const float *x, int n, int Tr, int Nr, int T, int N,
                     double ll[3]) {
    int P = nd_recon_nparams(kind);
    double s[3] = {0, 0, 0};
    size_t c[3] = {0, 0, 0};
    real l[3];
    for (int i = 0; i < n; i++)
        for (int t = 0; t < Tr; t++)
            for (int j = 0; j < Nr; j++) {
                size_t e = ((size_t)i * Tr + t) * Nr + j;
                for (int p = 0; p < P; p++) l[p] = (real)prm[e * P + p];
                double v = -recon_nll1(kind, l, 1, x[e], loc);
                s[0] += v, c[0]++;
                if (t < T && j >= N) s[1] += v, c[1]++;
                if (t >= T) s[2] += v, c[2]++;
            }
    for (int k = 0; k < 3; k++) ll[k] = c[k] ? s[k] / (double)c[k] : NAN;
}

typedef struct {
    const nd_lfads_data *d;
    const nd_eval_inputs *in;
    const nd_eval_opts *o;
    int T, N, Tr, Nr, nv, ns, ne;
    float *rates, *recon, *enc; /* eval trials */
} ev;

/* bits per spike of a block into x; ND_ERR_ARG (undefined here) is a reason, other errors are returned */
static nd_status bps_of(const ev *e, int t0, int t1, int j0, int j1, nd_eval_value *x, nd_nlb_bps *b, nd_error *err) {
    nd_status st = nd_nlb_bits_per_spike(e->rates, e->recon, e->ne, e->Tr, e->Nr, t0, t1, j0, j1, b, err);
    if (st == ND_ERR_ARG) { set_no(x, err->msg, NULL); return ND_OK; }
    if (st) return st;
    set_v(x, b->bps);
    if (!isfinite(b->bps)) set_no(x, "not finite", NULL);
    return ND_OK;
}

static nd_status nlb_bps(const ev *e, nd_eval_result *r, nd_error *err) {
    char nc[160];
    snprintf(nc, sizeof nc, "defined for spike counts; these outputs are of recon=%s (see recon_ll_*)",
             nd_recon_name(e->in->recon));
    nd_nlb_bps b;
    nd_status st;
    if (e->in->recon != ND_RECON_POISSON) set_no(&r->co_bps, nc, "not count data");
    else if (e->Nr > e->N) {
        if ((st = bps_of(e, 0, e->T, e->N, e->Nr, &r->co_bps, &b, err))) return nd_fail_prefix(err, st, "co_bps");
        r->co_heldout = e->Nr - e->N;
        if (!r->co_bps.why[0] || isfinite(b.bps)) r->co_spikes = b.spikes, r->co_clamped = (long)b.clamped;
    } else set_no(&r->co_bps, "no held-out neurons in the data (*_recon_data has no more neurons than *_encod_data)",
                  "no held-out neurons");
    if (e->in->recon != ND_RECON_POISSON) set_no(&r->fp_bps, nc, "not count data");
    else if (e->Tr > e->T) {
        if ((st = bps_of(e, e->T, e->Tr, 0, e->Nr, &r->fp_bps, &b, err))) return nd_fail_prefix(err, st, "fp_bps");
        r->fp_bins = e->Tr - e->T;
        r->fp_neurons = e->Nr;
        r->fp_spikes = b.spikes;
    } else set_no(&r->fp_bps, "no forward-prediction bins in the data (*_recon_data has no more bins than "
                  "*_encod_data)", "no forward-prediction bins");
    return ND_OK;
}

static nd_status ll_other(const ev *e, nd_eval_result *r, nd_error *err) {
    if (e->in->recon == ND_RECON_POISSON) return ND_OK;
    const nd_eval_inputs *in = e->in;
    size_t TrNrP = (size_t)e->Tr * e->Nr * nd_recon_nparams(in->recon);
    r->has_recon_ll = 1;
    if (!in->params[0] || (e->ns && !in->params[1])) {
        r->has_recon_ll = -1; /* reported once, under recon_ll_per_bin */
        set_no(&r->recon_ll[0], "the outputs have no *_recon_params for the eval splits", "no *_recon_params");
        return ND_OK;
    }
    float *prm = cat_f(e->nv ? in->params[0] : NULL, (size_t)e->nv, in->params[1], (size_t)e->ns, TrNrP);
    if (!prm) return nd_fail(err, ND_ERR_NOMEM, "out of memory");
    double ll[3];
    recon_ll(in->recon, in->zig_loc, prm, e->recon, e->ne, e->Tr, e->Nr, e->T, e->N, ll);
    nd_free(prm);
    static const char *const none[3] = {"no entries", "no held-out neurons in the data",
                                        "no forward-prediction bins in the data"};
    for (int k = 0; k < 3; k++) {
        if (isfinite(ll[k])) set_v(&r->recon_ll[k], ll[k]);
        else set_no(&r->recon_ll[k], none[k], NULL);
    }
    return ND_OK;
}

static nd_status vel(const ev *e, nd_eval_result *r, nd_error *err) {
    const nd_lfads_data *d = e->d;
    const nd_eval_opts *o = e->o;
    char why[512] = "";
    double lag_ms = isnan(o->lag_ms) ? e->in->file_lag_ms : o->lag_ms, shift = (lag_ms - e->in->file_lag_ms) / r->bin_ms;
    int lag = (int)lround(shift);
    float *beh = NULL;
    r->lag_ms = lag_ms;
    if (d->B == 0) snprintf(why, sizeof why, "no behaviour (*_behavior) in the data");
    else if (!e->in->rates[0])
        snprintf(why, sizeof why, "the outputs have no train_output_params (the decoder is fit on the train trials)");
    else if (e->ns && !d->split[ND_TEST].beh)
        snprintf(why, sizeof why, "the data file has no test_behavior (hidden test targets)");
    else if (e->nv && !d->split[ND_VALID].beh) snprintf(why, sizeof why, "the data file has no valid_behavior");
    else if (fabs(shift - lag) > 1e-6)
        snprintf(why, sizeof why, "--behaviour-lag-ms %g is not the file's lag (%g ms) plus a whole number of %g-ms "
                 "bins; convert with --behavior-lag-ms for that lag", lag_ms, e->in->file_lag_ms, r->bin_ms);
    else if (!(beh = cat_f(d->split[ND_VALID].beh, (size_t)e->nv, d->split[ND_TEST].beh, (size_t)e->ns,
                           (size_t)d->Tb * d->B)))
        snprintf(why, sizeof why, "out of memory");
    else {
        nd_nlb_ridge rr;
        nd_status st = nd_nlb_vel_r2(e->in->rates[0], d->split[ND_TRAIN].beh, d->split[ND_TRAIN].n, e->rates, beh,
                                     e->ne, e->Tr, d->Tb, e->T, e->Nr, d->B, lag, o->vel_avg, &rr, err);
        nd_free(beh);
        if (st == ND_ERR_ARG) copy_str(why, sizeof why, err->msg);
        else if (st) return nd_fail_prefix(err, st, "vel_r2");
        else {
            set_v(&r->vel_r2, rr.r2);
            if (!isfinite(rr.r2)) set_no(&r->vel_r2, "not finite", NULL);
            r->vel_alpha = rr.alpha;
            r->lag_extra_bins = lag;
            r->n_behaviour = d->B;
        }
    }
    if (why[0]) set_no(&r->vel_r2, why, NULL);
    return ND_OK;
}

static nd_status psth(const ev *e, nd_eval_result *r, nd_error *err) {
    const nd_lfads_data *d = e->d;
    const nd_lfads_split *tr = &d->split[ND_TRAIN], *va = &d->split[ND_VALID], *te = &d->split[ND_TEST];
    const int *tc = e->in->cond[0] ? e->in->cond[0] : tr->cond, *vc = e->in->cond[1] ? e->in->cond[1] : va->cond,
              *sc = e->in->cond[2] ? e->in->cond[2] : te->cond;
    const size_t TrNr = (size_t)e->Tr * e->Nr;
    /* PSTH trials: every trial with targets and a condition id (train, valid, test with targets) */
    const int nt = te->recon && sc ? te->n : 0, nps = tr->n + va->n + nt;
    const char *why = NULL;
    int *ev_cond = NULL, *ps_cond = NULL;
    float *spk = NULL;
    nd_status st = ND_OK;
    if (!vc && !sc) why = "no condition ids (*_condition) in the data";
    else if (!(ev_cond = cat_i(vc, (size_t)e->nv, sc, (size_t)e->ns, NULL, 0)))
        why = "an eval split has no condition ids (*_condition)";
    else if (!tc || !vc) why = "train_condition and valid_condition are both needed";
    else if (!(ps_cond = cat_i(tc, (size_t)tr->n, vc, (size_t)va->n, sc, (size_t)nt))) why = "out of memory";
    else if (!(spk = nd_alloc((size_t)nps * TrNr * sizeof(float) + sizeof(float)))) why = "out of memory";
    else {
        const int np[ND_NSPLITS] = {tr->n, va->n, nt};
        for (int s = 0, off = 0; s < ND_NSPLITS; off += np[s], s++)
            if (np[s] > 0) memcpy(spk + (size_t)off * TrNr, nd_lfads_recon(d, s), (size_t)np[s] * TrNr * sizeof(float));
        double r2;
        int ncond;
        st = nd_nlb_psth_r2(e->rates, ev_cond, e->ne, e->Tr, spk, ps_cond, nps, e->Tr, e->T, e->Nr,
                            e->o->psth_kernel_ms / r->bin_ms, &r2, &ncond, err);
        if (st == ND_ERR_ARG) { why = err->msg; st = ND_OK; }
        else if (st) nd_fail_prefix(err, st, "psth_r2");
        else {
            set_v(&r->psth_r2, r2);
            if (!isfinite(r2)) set_no(&r->psth_r2, "not finite", NULL);
            r->psth_conditions = ncond;
            r->psth_trials = nps;
        }
    }
    if (why) set_no(&r->psth_r2, why, NULL);
    nd_free(ev_cond);
    nd_free(ps_cond);
    nd_free(spk);
    return st;
}

static nd_status truth(const ev *e, nd_eval_result *r, nd_error *err) {
    const nd_lfads_data *d = e->d;
    const int ne = e->ne, T = e->T, N = e->N, Tr = e->Tr, Nr = e->Nr;
    if ((e->nv && !d->split[ND_VALID].truth) || (e->ns && !d->split[ND_TEST].truth)) {
        set_no(&r->rate_r2, "the data file has no true rates (*_truth) for the eval trials", "no *_truth in the data");
        return ND_OK;
    }
    size_t n = (size_t)ne * T * N;
    float *tr = cat_f(d->split[ND_VALID].truth, (size_t)e->nv, d->split[ND_TEST].truth, (size_t)e->ns,
                      (size_t)Tr * Nr);
    float *sm = nd_alloc(sizeof(float) * n + sizeof(float)), *tin = nd_alloc(sizeof(float) * n + sizeof(float));
    if (!tr || !sm || !tin) {
        nd_free(tr); nd_free(sm); nd_free(tin);
        return nd_fail(err, ND_ERR_NOMEM, "out of memory");
    }
    r->has_truth = 1;
    const char *few = "R^2 undefined (fewer than 2 rows)", *flat = "no neuron with varying rates";
    double r2 = nd_r2_score_3d(e->rates, tr, ne, Tr, Nr);
    /* the baseline smooths the observed (held-in) spikes: score it on that block of the truth */
    for (int i = 0; i < ne; i++)
        for (int t = 0; t < T; t++)
            memcpy(tin + ((size_t)i * T + t) * N, tr + ((size_t)i * Tr + t) * Nr, sizeof(float) * N);
    nd_smooth_gaussian(sm, e->enc, ne, T, N, e->o->kernel_ms / r->bin_ms);
    double r2s = nd_r2_score_3d(sm, tin, ne, T, N);
    if (isfinite(r2)) set_v(&r->rate_r2, r2); else set_no(&r->rate_r2, few, "fewer than 2 rows");
    if (isfinite(r2s)) set_v(&r->smoothing_rate_r2, r2s); else set_no(&r->smoothing_rate_r2, few, NULL);
    if (e->in->recon != ND_RECON_POISSON) { /* traces vs rates: other units, so also the best affine map per neuron */
        double a = nd_r2_affine_3d(e->rates, tr, ne, Tr, Nr), as = nd_r2_affine_3d(sm, tin, ne, T, N);
        if (isfinite(a)) set_v(&r->rate_r2_affine, a); else set_no(&r->rate_r2_affine, flat, NULL);
        if (isfinite(as)) set_v(&r->smoothing_rate_r2_affine, as); else set_no(&r->smoothing_rate_r2_affine, flat, NULL);
    }
    nd_free(tr); nd_free(sm); nd_free(tin);
    return ND_OK;
}

static void latents_and_pulses(const ev *e, nd_eval_result *r) {
    const nd_eval_inputs *in = e->in;
    nd_error err;
    if (in->factors[0] && in->factors[1] && in->latents[0] && in->latents[1] && in->fac_rows[0] == in->lat_rows[0] &&
        in->fac_rows[1] == in->lat_rows[1] && in->F > 0 && in->L > 0) {
        double r2 = NAN;
        nd_status st = nd_lstsq_r2(in->factors[0], in->latents[0], in->fac_rows[0], in->factors[1], in->latents[1],
                                   in->fac_rows[1], in->F, in->L, &r2, &err);
        r->latent_dims = in->L;
        if (st == ND_OK && isfinite(r2)) set_v(&r->latent_r2, r2);
        else set_no(&r->latent_r2, st ? err.msg : "R^2 undefined", NULL);
    } else set_no(&r->latent_r2, "needs train/valid factors and *_latents of matching shape", NULL);
    if (in->inputs && in->co_means && in->U > 0 && in->K > 0)
        r->pulse_trials = nd_pulse_timing(in->inputs, in->U, in->co_means, in->K, e->d->split[ND_VALID].n, e->Tr, 2,
                                          5, &r->pulse_median, &r->pulse_frac, &r->pulse_mean);
}

/* which splits: by default test when the data hold its targets, else valid (which chose best.ckpt) */
static nd_status pick_splits(const nd_lfads_data *d, const nd_eval_inputs *in, const nd_eval_opts *o, int *use_valid,
                             int *use_test, nd_eval_result *r, nd_error *err) {
    int given = o->split != ND_EVAL_SPLIT_DEFAULT;
    *use_valid = o->split != ND_EVAL_SPLIT_TEST;
    *use_test = o->split != ND_EVAL_SPLIT_VALID;
    const nd_lfads_split *te = &d->split[ND_TEST];
    if (!given) {
        *use_valid = !(te->n > 0 && te->recon);
        *use_test = !*use_valid;
        snprintf(r->split_reason, sizeof r->split_reason, "%s", *use_test ? "default: the data hold the test targets"
                 : "default: the data hold no test targets");
    }
    if (!*use_test) return ND_OK;
    const char *why = NULL;
    if (te->n == 0) why = "the data file has no test split";
    else if (!te->recon) why = "the data file has no test targets (test_recon_data / test_recon_data_eval)";
    else if (!in->rates[2]) why = "the outputs have no test_output_params";
    if (!why) return ND_OK;
    if (o->split == ND_EVAL_SPLIT_TEST) return nd_fail(err, ND_ERR_ARG, "--split test: %s", why);
    if (!given) { /* test targets but no test outputs: valid, said so */
        *use_valid = 1;
        snprintf(r->split_reason, sizeof r->split_reason, "%s", why);
    }
    if (te->n > 0) snprintf(r->test_not_scored, sizeof r->test_not_scored, "%s", why);
    *use_test = 0;
    return ND_OK;
}

nd_status nd_eval_score(const nd_lfads_data *d, const nd_eval_inputs *in, const nd_eval_opts *o, nd_eval_result *r,
                        nd_error *err) {
    memset(r, 0, sizeof *r);
    nd_eval_value *all[] = {&r->co_bps, &r->fp_bps, &r->recon_ll[0], &r->recon_ll[1], &r->recon_ll[2], &r->vel_r2,
                            &r->psth_r2, &r->rate_r2, &r->smoothing_rate_r2, &r->rate_r2_affine,
                            &r->smoothing_rate_r2_affine, &r->latent_r2};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) all[i]->v = NAN;
    r->recon = in->recon;
    r->bin_ms = o->bin_ms > 0 && isfinite(o->bin_ms) ? o->bin_ms : 20;
    if (!(o->psth_kernel_ms >= 0) || !isfinite(o->psth_kernel_ms) || !(o->kernel_ms > 0))
        return nd_fail(err, ND_ERR_ARG, "eval: kernel SDs must be positive (psth %g ms, smoothing %g ms)",
                       o->psth_kernel_ms, o->kernel_ms);
    if (!in->rates[1] && o->split != ND_EVAL_SPLIT_TEST) /* test-only outputs may be scored on test alone */
        return nd_fail(err, ND_ERR_FORMAT, "the outputs have no valid_output_params");
    int use_valid, use_test;
    nd_status st = pick_splits(d, in, o, &use_valid, &use_test, r, err);
    if (st) return st;
    const int nv = use_valid ? d->split[ND_VALID].n : 0, ns = use_test ? d->split[ND_TEST].n : 0;
    ev e = {d, in, o, d->T, d->N, d->Tr, d->Nr, nv, ns, 0, NULL, NULL, NULL};
    e.ne = e.nv + e.ns;
    r->nv = e.nv, r->ns = e.ns, r->ne = e.ne;
    r->splits = e.nv && e.ns ? "valid+test" : e.nv ? "valid" : "test";
    const size_t TrNr = (size_t)e.Tr * e.Nr;
    e.rates = cat_f(in->rates[1], (size_t)e.nv, in->rates[2], (size_t)e.ns, TrNr);
    e.recon = cat_f(nd_lfads_recon(d, ND_VALID), (size_t)e.nv, nd_lfads_recon(d, ND_TEST), (size_t)e.ns, TrNr);
    e.enc = cat_f(d->split[ND_VALID].counts, (size_t)e.nv, d->split[ND_TEST].counts, (size_t)e.ns, (size_t)e.T * e.N);
    if (!e.rates || !e.recon || !e.enc) st = nd_fail(err, ND_ERR_NOMEM, "out of memory");
    if (!st) st = nlb_bps(&e, r, err);
    if (!st) st = ll_other(&e, r, err);
    if (!st) st = vel(&e, r, err);
    if (!st) st = psth(&e, r, err);
    if (!st) st = truth(&e, r, err);
    if (!st) latents_and_pulses(&e, r);
    nd_free(e.rates);
    nd_free(e.recon);
    nd_free(e.enc);
    return st;
}

/* ------------------------------------------------------------------------------ from files ---- */

typedef struct {
    float *a;
    size_t dims[ND_H5_MAX_RANK];
    int rank;
} arr;

/* an optional dataset of an open file (r NULL: none): ND_OK (x->a NULL when absent) or the read error */
static nd_status read_opt(nd_h5r *r, const char *name, arr *x, nd_error *err) {
    memset(x, 0, sizeof *x);
    if (!r || nd_h5r_kind(r, name) != ND_H5R_DATASET) return ND_OK;
    return nd_h5r_read_float(r, name, &x->a, &x->rank, x->dims, err);
}

/* {split}_{what} with shape (n, Tr, Nr[, P]): ND_OK (absent: NULL) or ND_ERR_FORMAT naming the dataset */
static nd_status read_split(nd_h5r *ro, const char *split, const char *what, int n, int Tr, int Nr, int P, arr *x,
                            nd_error *err) {
    const char *out = nd_h5r_file(ro);
    char name[64];
    snprintf(name, sizeof name, "%s_%s", split, what);
    nd_status st = read_opt(ro, name, x, err);
    if (st || !x->a) return st;
    int rank = P ? 4 : 3;
    if (x->rank != rank || (int)x->dims[0] != n || (int)x->dims[1] != Tr || (int)x->dims[2] != Nr ||
        (P && (int)x->dims[3] != P)) {
        if (P) return nd_fail(err, ND_ERR_FORMAT, "%s: dataset '%s': shape is not (%d, %d, %d, %d) (the %s targets x %d "
                              "parameters)", out, name, n, Tr, Nr, P, split, P);
        return nd_fail(err, ND_ERR_FORMAT, "%s: dataset '%s': shape does not match the %s targets of the data (%d, %d, "
                       "%d)", out, name, split, n, Tr, Nr);
    }
    return ND_OK;
}

/* the outputs must come from these data (when they say which) */
static nd_status check_fp(nd_h5r *ro, const char *data, const nd_lfads_data *d, int allow, nd_eval_result *r,
                          nd_error *err) {
    const char *out = nd_h5r_file(ro);
    char txt[1024], what[512];
    nd_data_fp want, have;
    if (nd_h5r_read_attr_string(ro, "/", ND_DATA_FP_ATTR, txt, sizeof txt, NULL) != ND_OK) return ND_OK;
    nd_status st = nd_data_fp_parse(txt, &want, err);
    if (st) {
        char pre[1200];
        snprintf(pre, sizeof pre, "%s: attribute '%s'", out, ND_DATA_FP_ATTR);
        return nd_fail_prefix(err, st, pre);
    }
    if ((st = nd_data_fp_of(d, &have, err))) return st;
    if (nd_data_fp_differs(&want, &have, allow, what, sizeof what))
        return nd_fail(err, ND_ERR_ARG, "%s was not made from %s (it was made from %s): %s differ%s", out, data,
                       want.file, what, allow ? " (--allow-data-mismatch still needs the same bins, neurons and neuron "
                       "ids)" : "; --allow-data-mismatch scores it anyway");
    if (allow && nd_data_fp_differs(&want, &have, 0, what, sizeof what))
        snprintf(r->note, sizeof r->note, "%s was made from other data than %s (%s): %s (allowed by "
                 "--allow-data-mismatch)", out, data, want.file, what);
    return ND_OK;
}

nd_status nd_eval_file(const char *out, const char *data, const nd_eval_opts *o_in, nd_eval_result *r, nd_error *err) {
    memset(r, 0, sizeof *r);
    nd_status st = nd_h5_check_file(out, err);
    if (st) return st;
    nd_h5r *ro = NULL, *rd = NULL; /* the outputs; the data (best effort: its reads below are optional) */
    if ((st = nd_h5r_open(out, &ro, err))) return st;
    nd_eval_opts o = *o_in;
    nd_eval_inputs in;
    memset(&in, 0, sizeof in);
    double split_seed = 0, vf = 0.2;
    nd_h5r_read_attr_double(ro, "/", "split_seed", &split_seed, NULL);
    nd_h5r_read_attr_double(ro, "/", "valid_fraction", &vf, NULL);
    /* the reconstruction model of the outputs (attribute absent: Poisson rates) */
    char recon_name[32] = "poisson";
    if (nd_h5r_read_attr_string(ro, "/", "recon", recon_name, sizeof recon_name, NULL) != ND_OK)
        snprintf(recon_name, sizeof recon_name, "poisson");
    if ((in.recon = nd_recon_parse(recon_name)) < 0) {
        nd_h5r_close(ro);
        return nd_fail(err, ND_ERR_FORMAT, "%s: attribute 'recon': '%s' is not poisson, gaussian, gamma or zig", out,
                       recon_name);
    }
    nd_h5r_read_attr_double(ro, "/", "zig_loc", &in.zig_loc, NULL);
    nd_error e2;
    if (nd_h5r_open(data, &rd, &e2)) rd = NULL;
    if (o.bin_ms <= 0 && (!rd || nd_h5r_read_attr_double(rd, "/", "bin_ms", &o.bin_ms, NULL) != ND_OK)) o.bin_ms = 20;
    if (!(o.bin_ms > 0) || !isfinite(o.bin_ms)) o.bin_ms = 20;
    if (rd) nd_h5r_read_attr_double(rd, "/", "behavior_lag_ms", &in.file_lag_ms, NULL);
    if (!isfinite(in.file_lag_ms)) in.file_lag_ms = 0;
    int values = in.recon == ND_RECON_POISSON ? ND_DATA_COUNTS : in.recon == ND_RECON_GAUSSIAN ? ND_DATA_REAL
                                                                                                : ND_DATA_NONNEG;
    nd_lfads_data d;
    if ((st = nd_lfads_data_read_values(data, (uint64_t)split_seed, vf, values, &d, err))) {
        nd_h5r_close(ro);
        nd_h5r_close(rd);
        return st;
    }
    arr rt = {0}, rv = {0}, rs = {0}, pv = {0}, ps = {0}, f0 = {0}, f1 = {0}, l0 = {0}, l1 = {0}, u = {0}, co = {0};
    const int Tr = d.Tr, Nr = d.Nr, P = in.recon == ND_RECON_POISSON ? 0 : nd_recon_nparams(in.recon);
    if ((st = check_fp(ro, data, &d, o.allow_mismatch, r, err))) goto done;
    char note[sizeof r->note];
    memcpy(note, r->note, sizeof note);
    const int ntr = d.split[ND_TRAIN].n, nva = d.split[ND_VALID].n, nte = d.split[ND_TEST].n;
    if ((st = read_split(ro, "valid", "output_params", nva, Tr, Nr, 0, &rv, err))) goto done;
    if (!rv.a) { st = nd_fail(err, ND_ERR_FORMAT, "%s: dataset 'valid_output_params': missing", out); goto done; }
    if ((st = read_split(ro, "train", "output_params", ntr, Tr, Nr, 0, &rt, err))) goto done;
    if (nte > 0 && d.split[ND_TEST].recon && (st = read_split(ro, "test", "output_params", nte, Tr, Nr, 0, &rs, err)))
        goto done;
    if (P && (st = read_split(ro, "valid", "recon_params", nva, Tr, Nr, P, &pv, err))) goto done;
    if (P && rs.a && (st = read_split(ro, "test", "recon_params", nte, Tr, Nr, P, &ps, err))) goto done;
    in.rates[0] = rt.a, in.rates[1] = rv.a, in.rates[2] = rs.a;
    in.params[0] = pv.a, in.params[1] = ps.a;
    /* latent recovery and input pulses: best effort (absent or unreadable: not computed) */
    if (!read_opt(ro, "train_factors", &f0, &e2) && !read_opt(ro, "valid_factors", &f1, &e2) &&
        !read_opt(rd, "train_latents", &l0, &e2) && !read_opt(rd, "valid_latents", &l1, &e2) && f0.a && f1.a &&
        l0.a && l1.a && f0.rank == 3 && f1.rank == 3 && l0.rank == 3 && l1.rank == 3 && f0.dims[2] == f1.dims[2] &&
        l0.dims[2] == l1.dims[2]) {
        in.factors[0] = f0.a, in.factors[1] = f1.a, in.latents[0] = l0.a, in.latents[1] = l1.a;
        in.fac_rows[0] = f0.dims[0] * f0.dims[1], in.fac_rows[1] = f1.dims[0] * f1.dims[1];
        in.lat_rows[0] = l0.dims[0] * l0.dims[1], in.lat_rows[1] = l1.dims[0] * l1.dims[1];
        in.F = (int)f0.dims[2], in.L = (int)l0.dims[2];
    }
    if (!read_opt(rd, "valid_inputs", &u, &e2) && !read_opt(ro, "valid_co_means", &co, &e2) && u.a && co.a &&
        u.rank == 3 && co.rank == 3 && (int)u.dims[0] == nva && (int)co.dims[0] == nva &&
        (int)u.dims[1] == Tr && (int)co.dims[1] == Tr) {
        in.inputs = u.a, in.co_means = co.a, in.U = (int)u.dims[2], in.K = (int)co.dims[2];
    }
    st = nd_eval_score(&d, &in, &o, r, err);
    memcpy(r->note, note, sizeof note);
done:
    nd_free(rt.a); nd_free(rv.a); nd_free(rs.a); nd_free(pv.a); nd_free(ps.a);
    nd_free(f0.a); nd_free(f1.a); nd_free(l0.a); nd_free(l1.a); nd_free(u.a); nd_free(co.a);
    nd_lfads_data_free(&d);
    nd_h5r_close(ro);
    nd_h5r_close(rd);
    return st;
}
