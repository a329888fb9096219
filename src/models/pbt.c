/* Population-based training logic. See pbt.h. */
#include "pbt.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { STREAM_PBT_INIT = 0x50425401, STREAM_PBT_GEN = 0x50425402 };

static void add(nd_pbt_space *s, const char *name, double lo, double hi, double w, nd_pbt_sampling smp,
                double init) {
    nd_pbt_param *p = &s->p[s->n++];
    snprintf(p->name, sizeof p->name, "%s", name);
    p->min = lo;
    p->max = hi;
    p->weight = w;
    p->sample = smp;
    p->init = init;
}

void nd_pbt_space_default(nd_pbt_space *s) {
    memset(s, 0, sizeof *s);
    add(s, "lr_init", 1e-5, 5e-3, 0.3, ND_PBT_LOG, 4e-3);
    add(s, "dropout_rate", 0.0, 0.6, 0.3, ND_PBT_LINEAR, NAN);
    add(s, "cd_rate", 0.01, 0.7, 0.3, ND_PBT_LINEAR, 0.5);
    add(s, "l2_gen_scale", 1e-4, 1.0, 0.8, ND_PBT_LOG, NAN);
    add(s, "l2_con_scale", 1e-4, 1.0, 0.8, ND_PBT_LOG, NAN);
    add(s, "kl_co_scale", 1e-6, 1e-4, 0.8, ND_PBT_LOG, NAN);
    add(s, "kl_ic_scale", 1e-6, 1e-3, 0.8, ND_PBT_LOG, NAN);
}

int nd_pbt_space_find(const nd_pbt_space *s, const char *name) {
    for (int k = 0; k < s->n; k++)
        if (!strcmp(s->p[k].name, name)) return k;
    return -1;
}

static const nd_cfg_key *config_key(const char *name) {
    int n;
    const nd_cfg_key *k = nd_lfads_config_keys(&n);
    for (int i = 0; i < n; i++)
        if (!strcmp(k[i].name, name)) return &k[i];
    return NULL;
}

static int parse_num(const char *t, double *v) {
    char *end;
    *v = strtod(t, &end);
    return end != t && !*end && isfinite(*v);
}

nd_status nd_pbt_space_set(nd_pbt_space *s, const char *spec, nd_error *err) {
    char buf[256];
    if (strlen(spec) >= sizeof buf) return nd_fail(err, ND_ERR_ARG, "--space '%s': too long", spec);
    strcpy(buf, spec);
    char *eq = strchr(buf, '=');
    if (!eq) return nd_fail(err, ND_ERR_ARG, "--space '%s': expected KEY=MIN:MAX:WEIGHT[:lin|log][:INIT] or KEY=off", spec);
    *eq = 0;
    const char *name = buf, *rest = eq + 1;
    const nd_cfg_key *ck = config_key(name);
    if (!ck) return nd_fail(err, ND_ERR_ARG, "--space '%s': unknown config key '%s'", spec, name);
    if (ck->type != ND_CFG_DOUBLE)
        return nd_fail(err, ND_ERR_ARG, "--space '%s': '%s' is not a real-valued hyperparameter", spec, name);
    int k = nd_pbt_space_find(s, name);
    if (!strcmp(rest, "off")) {
        if (k < 0) return nd_fail(err, ND_ERR_ARG, "--space '%s': '%s' is not searched", spec, name);
        memmove(&s->p[k], &s->p[k + 1], sizeof s->p[0] * (size_t)(s->n - k - 1));
        s->n--;
        return ND_OK;
    }
    char *f[6];
    int nf = 0;
    for (char *t = (char *)rest; nf < 6;) {
        f[nf++] = t;
        char *c = strchr(t, ':');
        if (!c) break;
        *c = 0;
        t = c + 1;
    }
    double lo, hi, w, init = NAN;
    nd_pbt_sampling smp = ND_PBT_LINEAR;
    if (nf < 3 || nf > 5 || !parse_num(f[0], &lo) || !parse_num(f[1], &hi) || !parse_num(f[2], &w))
        return nd_fail(err, ND_ERR_ARG, "--space '%s': expected KEY=MIN:MAX:WEIGHT[:lin|log][:INIT]", spec);
    int i = 3;
    if (nf > i && (!strcmp(f[i], "lin") || !strcmp(f[i], "log"))) smp = !strcmp(f[i++], "log") ? ND_PBT_LOG : ND_PBT_LINEAR;
    if (nf > i && !parse_num(f[i++], &init))
        return nd_fail(err, ND_ERR_ARG, "--space '%s': the initial value is not a number", spec);
    if (nf > i) return nd_fail(err, ND_ERR_ARG, "--space '%s': expected KEY=MIN:MAX:WEIGHT[:lin|log][:INIT]", spec);
    if (!(lo >= 0) || !(hi > lo))
        return nd_fail(err, ND_ERR_ARG, "--space '%s': need 0 <= MIN < MAX (explore multiplies values)", spec);
    if (smp == ND_PBT_LOG && !(lo > 0)) return nd_fail(err, ND_ERR_ARG, "--space '%s': log sampling needs MIN > 0", spec);
    if (!(w > 0 && w < 1)) return nd_fail(err, ND_ERR_ARG, "--space '%s': WEIGHT must be in (0, 1)", spec);
    if (!isnan(init) && !(init >= lo && init <= hi))
        return nd_fail(err, ND_ERR_ARG, "--space '%s': the initial value is outside [MIN, MAX]", spec);
    if (k < 0) {
        if (s->n >= ND_PBT_MAX_PARAMS)
            return nd_fail(err, ND_ERR_ARG, "--space '%s': at most %d searched hyperparameters", spec, ND_PBT_MAX_PARAMS);
        k = s->n++;
    }
    nd_pbt_param *p = &s->p[k];
    snprintf(p->name, sizeof p->name, "%.31s", name); /* config keys are shorter */
    p->min = lo;
    p->max = hi;
    p->weight = w;
    p->sample = smp;
    p->init = init;
    return ND_OK;
}

static double sample(const nd_pbt_param *p, nd_rng *r) {
    double u = nd_rng_uniform(r);
    if (p->sample == ND_PBT_LOG) return exp(log(p->min) + u * (log(p->max) - log(p->min)));
    return p->min + u * (p->max - p->min);
}

void nd_pbt_init(const nd_pbt_space *s, uint64_t seed, int workers, double *hp) {
    nd_rng r;
    nd_rng_stream(&r, seed, STREAM_PBT_INIT, 0);
    for (int i = 0; i < workers; i++)
        for (int k = 0; k < s->n; k++) hp[(size_t)i * s->n + k] = isnan(s->p[k].init) ? sample(&s->p[k], &r) : s->p[k].init;
}

double nd_pbt_perturb(const nd_pbt_param *p, double v, nd_rng *r) {
    double lo = 0.002 * p->weight, hi = p->weight, nv = v;
    for (int tries = 0; tries < 100; tries++) {
        double u = lo + (hi - lo) * nd_rng_uniform(r);
        double sign = nd_rng_uniform(r) < 0.5 ? 1.0 : -1.0;
        nv = v * (1 + sign * u);
        if (nv >= p->min && nv <= p->max) return nv;
    }
    return nv < p->min ? p->min : (nv > p->max ? p->max : nv);
}

int nd_pbt_exploit(const nd_pbt_space *s, uint64_t seed, int generation, int workers, const double *scores,
                   double *hp, int *src) {
    nd_rng r;
    nd_rng_stream(&r, seed, STREAM_PBT_GEN, (uint64_t)generation);
    int copies = 0;
    for (int i = 0; i < workers; i++) {
        src[i] = -1;
        if (workers < 2) continue;
        int j = (int)nd_rng_below(&r, (uint64_t)(workers - 1));
        if (j >= i) j++;
        double a = scores[i], b = scores[j];
        if (!isnan(b) && (isnan(a) || b < a)) { src[i] = j; copies++; }
    }
    if (!copies) return 0;
    size_t np = (size_t)s->n;
    double *old = malloc(sizeof(double) * np * (size_t)workers + 1);
    if (!old) return -1;
    memcpy(old, hp, sizeof(double) * np * (size_t)workers);
    for (int i = 0; i < workers; i++)
        if (src[i] >= 0)
            for (size_t k = 0; k < np; k++)
                hp[i * np + k] = nd_pbt_perturb(&s->p[k], old[(size_t)src[i] * np + k], &r);
    free(old);
    return copies;
}

int nd_pbt_should_stop(const double *best, int n, int patience, double min_improvement, double *ratio) {
    if (ratio) *ratio = NAN;
    if (patience < 1 || n < patience) return 0;
    const double *w = best + (n - patience);
    double mn = w[0], mean_abs = 0;
    for (int i = 0; i < patience; i++) {
        if (w[i] < mn) mn = w[i];
        mean_abs += fabs(w[i]);
    }
    mean_abs /= patience;
    double q = mean_abs > 0 ? (w[0] - mn) / mean_abs : 0;
    if (ratio) *ratio = q;
    return q < min_improvement;
}

double nd_pbt_config_factor(const char *name, const nd_lfads_config *c, int64_t elems) {
    double e = (double)elems;
    if (c->recon_reduce_mean) return 1.0; /* the model converts lfads-torch's units itself (nd_lfads_effective_scales) */
    if (!strcmp(name, "kl_ic_scale") || !strcmp(name, "kl_co_scale")) return e;
    if (!strcmp(name, "l2_gen_scale") || !strcmp(name, "l2_con_scale")) {
        if (c->l2_pooled) return e; /* the model pools the L2 normalisation itself (nd_lfads_effective_scales) */
        double ng = 3.0 * c->gen_dim * c->gen_dim;
        double nc = nd_lfads_controller_on(c) ? 3.0 * c->con_dim * c->con_dim : 0;
        return e * (!strcmp(name, "l2_gen_scale") ? ng : nc) / (ng + nc);
    }
    return 1.0;
}

nd_status nd_pbt_to_config(const nd_pbt_space *s, const double *hp, int64_t elems, nd_lfads_config *c,
                           nd_error *err) {
    for (int k = 0; k < s->n; k++) {
        const nd_cfg_key *ck = config_key(s->p[k].name);
        if (!ck || ck->type != ND_CFG_DOUBLE)
            return nd_fail(err, ND_ERR_ARG, "searched key '%s' is not a real-valued hyperparameter", s->p[k].name);
        double f = nd_pbt_config_factor(s->p[k].name, c, elems);
        *(double *)((char *)c + ck->offset) = hp[k] * f;
    }
    return ND_OK;
}
