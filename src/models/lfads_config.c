#include "lfads_config.h"
#include "../core/suggest.h"
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <ctype.h>
#include <math.h>

#define K(name, type, def, help) {#name, type, offsetof(nd_lfads_config, name), def, help, NULL}
#define KC(name, choices, def, help) {#name, ND_CFG_CHOICE, offsetof(nd_lfads_config, name), def, help, choices}
static const nd_cfg_key keys[] = {
    K(gen_dim, ND_CFG_INT, "100", "generator GRU units"),
    K(con_dim, ND_CFG_INT, "80", "controller GRU units (0 turns the controller off)"),
    K(co_dim, ND_CFG_INT, "4", "inferred-input dimensions (0 turns the controller off)"),
    K(ic_enc_dim, ND_CFG_INT, "100", "initial-condition encoder GRU units per direction"),
    K(ci_enc_dim, ND_CFG_INT, "80", "controller-input encoder GRU units per direction (0: controller off)"),
    K(ci_lag, ND_CFG_INT, "1", "steps the controller lags the forward CI encoder"),
    K(ci_zero_pad, ND_CFG_BOOL, "1", "forward-prediction bins: 1 = zero controller inputs past the observed bins "
      "(lfads-torch), 0 = CI encoders run through them"),
    K(ic_dim, ND_CFG_INT, "100", "initial-condition latent dimensions"),
    K(fac_dim, ND_CFG_INT, "40", "factor dimensions"),
    K(readin_dim, ND_CFG_INT, "0", "multi-session runs: width of each session's read-in (0 = fac_dim)"),
    K(readin_pcr, ND_CFG_BOOL, "1", "multi-session runs: 1 = read-ins from PCR on condition PSTHs, 0 = random"),
    K(cell_clip, ND_CFG_DOUBLE, "5.0", "GRU state clip value"),
    K(ic_post_var_min, ND_CFG_DOUBLE, "1e-4", "minimum variance of the IC posterior"),
    K(ic_prior_var, ND_CFG_DOUBLE, "0.1", "variance of the IC prior (its mean is learned)"),
    K(co_prior_ar1, ND_CFG_BOOL, "1", "1: AR(1) prior on inferred inputs, 0: Gaussian N(0, co_prior_var)"),
    K(co_prior_var, ND_CFG_DOUBLE, "0.1", "variance of the Gaussian inferred-input prior (co_prior_ar1=0)"),
    K(co_prior_analytic, ND_CFG_BOOL, "1", "Gaussian inferred-input prior (co_prior_ar1=0): 1 = learned mean, "
      "analytic KL (lfads-torch), 0 = fixed mean 0, KL sampled at the inferred inputs"),
    K(ar_tau_init, ND_CFG_DOUBLE, "10", "initial AR(1) time constant, in bins (learned)"),
    K(ar_nvar_init, ND_CFG_DOUBLE, "0.1", "initial AR(1) noise variance (learned)"),
    K(enc_init_legacy, ND_CFG_BOOL, "0", "1: encoder GRU weights N(0, 1/fan_in); 0: N(0, 1/(inputs + units)) "
      "(lfads-torch)"),
    K(dropout_rate, ND_CFG_DOUBLE, "0.05", "dropout on inputs, encoder outputs, generator states, external inputs"),
    K(ext_input_dropout, ND_CFG_BOOL, "1", "1: dropout_rate applies to the external inputs too (lfads-torch), 0: not"),
    K(cd_rate, ND_CFG_DOUBLE, "0.3", "coordinated-dropout rate (0 = off)"),
    K(sv_rate, ND_CFG_DOUBLE, "0.0", "sample-validation rate: fraction of entries held out of the input"),
    K(sv_rescale, ND_CFG_BOOL, "1", "sample validation: 1 = kept entries' loss x 1/(1-sv_rate), held-out x 1/sv_rate "
      "(lfads-torch), 0 = unscaled"),
    K(kl_ic_scale, ND_CFG_DOUBLE, "0.02", "weight of the IC KL (per-trial summed loss: 1 = ELBO; 0.02 chosen by the "
      "defaults sweep, docs/model.md; 1 before issue 16)"),
    K(kl_co_scale, ND_CFG_DOUBLE, "0.02", "weight of the inferred-input KL (1 before issue 16)"),
    K(l2_gen_scale, ND_CFG_DOUBLE, "20", "weight of 0.5*|U_gen|^2/numel (per-trial summed loss; l2_pooled; 2000 "
      "before issue 16)"),
    K(l2_con_scale, ND_CFG_DOUBLE, "0", "weight of 0.5*|U_con|^2/numel"),
    K(l2_pooled, ND_CFG_BOOL, "1", "1: L2 terms divided by the pooled size of the kernels with scale > 0 (lfads-torch), "
      "0: each by its own size"),
    K(recon_reduce_mean, ND_CFG_BOOL, "0", "1: KL/L2 scales in lfads-torch's units (mean over T_r x N_r entries)"),
    K(loss_scale, ND_CFG_DOUBLE, "1", "gradient multiplier before clipping (lfads-torch's loss_scale)"),
    K(kl_start_epoch, ND_CFG_INT, "0", "epoch at which the KL ramp starts"),
    K(kl_increase_epoch, ND_CFG_INT, "80", "epochs over which the KL weight ramps to 1"),
    K(l2_start_epoch, ND_CFG_INT, "0", "epoch at which the L2 ramp starts"),
    K(l2_increase_epoch, ND_CFG_INT, "80", "epochs over which the L2 weight ramps to 1"),
    K(lr_init, ND_CFG_DOUBLE, "0.004", "initial Adam learning rate"),
    K(lr_decay, ND_CFG_DOUBLE, "0.95", "learning-rate factor on a plateau"),
    K(lr_patience, ND_CFG_INT, "6", "epochs without improvement of the smoothed valid loss before decay"),
    KC(lr_decay_on, "recon|total", "recon", "smoothed valid loss the plateau rule watches: recon (lfads-torch) or "
       "total (with KL/L2; neurodyn before issue 16)"),
    K(lr_stop, ND_CFG_DOUBLE, "1e-5", "stop when the learning rate falls below this"),
    K(adam_beta1, ND_CFG_DOUBLE, "0.9", "Adam beta1"),
    K(adam_beta2, ND_CFG_DOUBLE, "0.999", "Adam beta2"),
    K(adam_epsilon, ND_CFG_DOUBLE, "1e-8", "Adam epsilon"),
    K(max_grad_norm, ND_CFG_DOUBLE, "200", "global gradient-norm clip"),
    K(batch_size, ND_CFG_INT, "128", "trials per mini-batch"),
    K(max_epochs, ND_CFG_INT, "1000", "maximum training epochs"),
    K(es_patience, ND_CFG_INT, "200", "early stopping: epochs without a new best smoothed valid loss"),
    K(loss_smoothing, ND_CFG_DOUBLE, "0.7", "smoothed = (1-s)*previous + s*current validation loss (lfads-torch)"),
    K(loss_smoothing_legacy, ND_CFG_BOOL, "0", "1: smoothed = s*previous + (1-s)*current (neurodyn before issue 16)"),
    K(max_nan_restarts, ND_CFG_INT, "5", "on NaN/Inf: roll back to the epoch start, halve lr; give up after this many"),
    K(valid_fraction, ND_CFG_DOUBLE, "0.2", "validation fraction when the file has no valid_data"),
    {"seed", ND_CFG_INT, offsetof(nd_lfads_config, seed), "0", "random seed (init, split, batches)", NULL},
    K(recon, ND_CFG_RECON, "poisson",
      "reconstruction model: poisson (counts), gaussian, gamma or zig (zero-inflated gamma; non-negative data)"),
    K(zig_loc, ND_CFG_DOUBLE, "0.1", "recon=zig: gamma location; non-zero data must exceed it (data units)"),
};
#undef K
#undef KC

/* index of word v in "a|b|c", or -1 */
static int choice_index(const char *choices, const char *v) {
    size_t n = strlen(v);
    int i = 0;
    for (const char *p = choices; p; i++) {
        const char *bar = strchr(p, '|');
        size_t len = bar ? (size_t)(bar - p) : strlen(p);
        if (len == n && !strncmp(p, v, n)) return i;
        p = bar ? bar + 1 : NULL;
    }
    return -1;
}

/* word i of "a|b|c" into buf */
static void choice_word(const char *choices, int i, char *buf, size_t cap) {
    const char *p = choices;
    for (int k = 0; k < i && p; k++) {
        p = strchr(p, '|');
        if (p) p++;
    }
    if (!p) { snprintf(buf, cap, "%d", i); return; }
    size_t len = strcspn(p, "|");
    snprintf(buf, cap, "%.*s", (int)len, p);
}

const nd_cfg_key *nd_lfads_config_keys(int *n) {
    *n = (int)(sizeof keys / sizeof keys[0]);
    return keys;
}

static nd_status set_text(nd_lfads_config *c, const nd_cfg_key *k, const char *v, nd_error *err) {
    char *end;
    errno = 0;
    char *p = (char *)c + k->offset;
    if (k->type == ND_CFG_RECON) {
        int r = nd_recon_parse(v);
        if (r < 0)
            return nd_fail(err, ND_ERR_ARG, "config key '%s': '%s' must be poisson, gaussian, gamma or zig", k->name, v);
        *(int *)p = r;
        return ND_OK;
    }
    if (k->type == ND_CFG_CHOICE) {
        int i = choice_index(k->choices, v);
        if (i < 0) return nd_fail(err, ND_ERR_ARG, "config key '%s': '%s' is not one of %s", k->name, v, k->choices);
        *(int *)p = i;
    } else if (k->type == ND_CFG_DOUBLE) {
        double d = strtod(v, &end);
        /* ERANGE only on overflow: an underflow (a subnormal, as nd_lfads_config_write prints it) is a
         * valid value and must survive write -> parse (fuzz/FINDINGS.md, bug 5) */
        if (end == v || *end || (errno && !(errno == ERANGE && !isinf(d))) || d != d)
            return nd_fail(err, ND_ERR_ARG, "config key '%s': '%s' is not a number", k->name, v);
        *(double *)p = d;
    } else {
        long long x = strtoll(v, &end, 10);
        if (end == v || *end || errno)
            return nd_fail(err, ND_ERR_ARG, "config key '%s': '%s' is not an integer", k->name, v);
        if (k->type == ND_CFG_BOOL && x != 0 && x != 1)
            return nd_fail(err, ND_ERR_ARG, "config key '%s': '%s' must be 0 or 1", k->name, v);
        if (k->offset == offsetof(nd_lfads_config, seed)) *(int64_t *)p = x;
        else {
            if (x < -2147483647LL || x > 2147483647LL)
                return nd_fail(err, ND_ERR_ARG, "config key '%s': '%s' is out of range", k->name, v);
            *(int *)p = (int)x;
        }
    }
    return ND_OK;
}

void nd_lfads_config_default(nd_lfads_config *c) {
    memset(c, 0, sizeof *c);
    int n;
    const nd_cfg_key *k = nd_lfads_config_keys(&n);
    for (int i = 0; i < n; i++) set_text(c, &k[i], k[i].def, NULL);
}

nd_status nd_lfads_config_set(nd_lfads_config *c, const char *key, const char *value, nd_error *err) {
    int n;
    const nd_cfg_key *k = nd_lfads_config_keys(&n);
    for (int i = 0; i < n; i++)
        if (!strcmp(k[i].name, key)) return set_text(c, &k[i], value, err);
    const char *names[sizeof keys / sizeof keys[0]];
    for (int i = 0; i < n; i++) names[i] = k[i].name;
    const char *near = nd_suggest(key, names, n);
    if (near)
        return nd_fail(err, ND_ERR_ARG, "unknown config key '%s'; did you mean '%s'? (see 'neurodyn train --help')",
                       key, near);
    return nd_fail(err, ND_ERR_ARG, "unknown config key '%s' (see 'neurodyn train --help')", key);
}

static char *trim(char *s) {
    while (isspace((unsigned char)*s)) s++;
    char *e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1])) *--e = 0;
    return s;
}

nd_status nd_lfads_config_set_kv(nd_lfads_config *c, const char *kv, nd_error *err) {
    char buf[512];
    if (strlen(kv) >= sizeof buf) return nd_fail(err, ND_ERR_ARG, "--set value too long");
    strcpy(buf, kv);
    char *eq = strchr(buf, '=');
    if (!eq) return nd_fail(err, ND_ERR_ARG, "--set '%s': expected key=value", kv);
    *eq = 0;
    return nd_lfads_config_set(c, trim(buf), trim(eq + 1), err);
}

static nd_status parse_lines(nd_lfads_config *c, FILE *f, const char *origin, nd_error *err);

nd_status nd_lfads_config_load(nd_lfads_config *c, const char *path, nd_error *err) {
    FILE *f = fopen(path, "r");
    if (!f) return nd_fail(err, ND_ERR_IO, "%s: cannot open config file", path);
    nd_status st = parse_lines(c, f, path, err);
    fclose(f);
    return st;
}

int nd_lfads_controller_on(const nd_lfads_config *c) {
    return c->co_dim > 0 && c->con_dim > 0 && c->ci_enc_dim > 0;
}

void nd_lfads_effective_scales(const nd_lfads_config *c, int controller, int64_t elems, nd_lfads_scales *s) {
    s->kl_ic = c->kl_ic_scale;
    s->kl_co = c->kl_co_scale;
    s->l2_gen = c->l2_gen_scale;
    s->l2_con = c->l2_con_scale;
    s->grad_scale = c->loss_scale;
    /* the L2 terms are computed as scale 0.5 |U|^2 / numel(U) per kernel: pooling multiplies each scale by
     * numel(U) / (sum of numel over the kernels whose scale is > 0) */
    double ng = 3.0 * c->gen_dim * c->gen_dim, nc = controller ? 3.0 * c->con_dim * c->con_dim : 0;
    double pooled = (c->l2_gen_scale > 0 ? ng : 0) + (c->l2_con_scale > 0 ? nc : 0);
    if (c->l2_pooled) {
        s->l2_gen = pooled > 0 ? s->l2_gen * ng / pooled : 0;
        s->l2_con = pooled > 0 && nc > 0 ? s->l2_con * nc / pooled : 0;
    }
    if (!c->recon_reduce_mean || elems < 1) return;
    double e = (double)elems;
    s->kl_ic *= e;
    s->kl_co *= e;
    s->l2_gen *= e;
    s->l2_con *= e;
    s->grad_scale = c->loss_scale / e;
}

nd_status nd_lfads_config_check(const nd_lfads_config *c, nd_error *err) {
#define NEED(cond, key, what) \
    if (!(cond)) return nd_fail(err, ND_ERR_ARG, "config key '%s': %s", key, what)
    /* layer sizes: at most ND_LFADS_MAX_DIM, so that no parameter count can overflow (a 65535 x 65535
     * matrix is already 16 GiB) and a corrupt checkpoint cannot ask for absurd models (bug 4) */
#define SIZE_OK(x, lo) ((x) >= (lo) && (x) <= ND_LFADS_MAX_DIM)
#define SIZE_MSG(lo) ((lo) ? "must be in 1..65535" : "must be in 0..65535")
    NEED(SIZE_OK(c->gen_dim, 1), "gen_dim", SIZE_MSG(1));
    NEED(SIZE_OK(c->ic_enc_dim, 1), "ic_enc_dim", SIZE_MSG(1));
    NEED(SIZE_OK(c->ic_dim, 1), "ic_dim", SIZE_MSG(1));
    NEED(SIZE_OK(c->fac_dim, 1), "fac_dim", SIZE_MSG(1));
    NEED(SIZE_OK(c->readin_dim, 0), "readin_dim", SIZE_MSG(0));
    NEED(SIZE_OK(c->con_dim, 0), "con_dim", SIZE_MSG(0));
    NEED(SIZE_OK(c->co_dim, 0), "co_dim", SIZE_MSG(0));
    NEED(SIZE_OK(c->ci_enc_dim, 0), "ci_enc_dim", SIZE_MSG(0));
#undef SIZE_OK
#undef SIZE_MSG
    NEED(c->ci_lag >= 0, "ci_lag", "must be >= 0");
    NEED(c->cell_clip > 0, "cell_clip", "must be > 0");
    NEED(c->ic_post_var_min >= 0, "ic_post_var_min", "must be >= 0");
    NEED(c->ic_prior_var > 0, "ic_prior_var", "must be > 0");
    NEED(c->co_prior_var > 0, "co_prior_var", "must be > 0");
    NEED(c->ar_tau_init > 0, "ar_tau_init", "must be > 0");
    NEED(c->ar_nvar_init > 0, "ar_nvar_init", "must be > 0");
    NEED(c->dropout_rate >= 0 && c->dropout_rate < 1, "dropout_rate", "must be in [0, 1)");
    NEED(c->cd_rate >= 0 && c->cd_rate < 1, "cd_rate", "must be in [0, 1)");
    NEED(c->sv_rate >= 0 && c->sv_rate < 1, "sv_rate", "must be in [0, 1)");
    NEED(c->kl_ic_scale >= 0 && c->kl_co_scale >= 0, "kl_ic_scale", "KL scales must be >= 0");
    NEED(c->l2_gen_scale >= 0 && c->l2_con_scale >= 0, "l2_gen_scale", "L2 scales must be >= 0");
    NEED(c->kl_increase_epoch >= 0 && c->l2_increase_epoch >= 0, "kl_increase_epoch", "must be >= 0");
    NEED(c->loss_scale > 0 && c->loss_scale <= 1e12, "loss_scale", "must be in (0, 1e12]");
    NEED(c->lr_init > 0, "lr_init", "must be > 0");
    NEED(c->lr_decay > 0 && c->lr_decay <= 1, "lr_decay", "must be in (0, 1]");
    NEED(c->lr_patience >= 0, "lr_patience", "must be >= 0");
    NEED(c->adam_beta1 >= 0 && c->adam_beta1 < 1, "adam_beta1", "must be in [0, 1)");
    NEED(c->adam_beta2 >= 0 && c->adam_beta2 < 1, "adam_beta2", "must be in [0, 1)");
    NEED(c->adam_epsilon > 0, "adam_epsilon", "must be > 0");
    NEED(c->max_grad_norm > 0, "max_grad_norm", "must be > 0");
    NEED(c->batch_size > 0, "batch_size", "must be > 0");
    NEED(c->max_epochs >= 0, "max_epochs", "must be >= 0");
    NEED(c->es_patience > 0, "es_patience", "must be > 0");
    if (c->loss_smoothing_legacy) {
        NEED(c->loss_smoothing >= 0 && c->loss_smoothing < 1, "loss_smoothing",
             "must be in [0, 1) with loss_smoothing_legacy=1");
    } else {
        NEED(c->loss_smoothing > 0 && c->loss_smoothing <= 1, "loss_smoothing", "must be in (0, 1]");
    }
    NEED(c->lr_decay_on == ND_LR_DECAY_ON_RECON || c->lr_decay_on == ND_LR_DECAY_ON_TOTAL, "lr_decay_on",
         "must be recon or total");
    NEED(c->max_nan_restarts >= 0, "max_nan_restarts", "must be >= 0");
    NEED(c->valid_fraction > 0 && c->valid_fraction < 1, "valid_fraction", "must be in (0, 1)");
    NEED(c->recon >= 0 && c->recon < ND_RECON_COUNT, "recon", "must be poisson, gaussian, gamma or zig");
    NEED(c->zig_loc >= 0 && isfinite(c->zig_loc), "zig_loc", "must be >= 0");
#undef NEED
    return ND_OK;
}

void nd_lfads_config_write(FILE *f, const nd_lfads_config *c) {
    int n;
    const nd_cfg_key *k = nd_lfads_config_keys(&n);
    for (int i = 0; i < n; i++) {
        const char *p = (const char *)c + k[i].offset;
        /* the reconstruction keys appear only when they matter, so that a Poisson model's config (and checkpoint)
         * is byte-identical to one written before they existed */
        if (k[i].offset == offsetof(nd_lfads_config, recon) && c->recon == ND_RECON_POISSON) continue;
        if (k[i].offset == offsetof(nd_lfads_config, zig_loc) && c->recon != ND_RECON_ZIG) continue;
        if (k[i].type == ND_CFG_RECON) fprintf(f, "%s = %s\n", k[i].name, nd_recon_name(*(const int *)p));
        else if (k[i].type == ND_CFG_DOUBLE) fprintf(f, "%s = %.17g\n", k[i].name, *(const double *)p);
        else if (k[i].type == ND_CFG_CHOICE) {
            char w[64];
            choice_word(k[i].choices, *(const int *)p, w, sizeof w);
            fprintf(f, "%s = %s\n", k[i].name, w);
        }
        else if (k[i].offset == offsetof(nd_lfads_config, seed))
            fprintf(f, "%s = %lld\n", k[i].name, (long long)*(const int64_t *)p);
        else fprintf(f, "%s = %d\n", k[i].name, *(const int *)p);
    }
}

static nd_status parse_lines(nd_lfads_config *c, FILE *f, const char *origin, nd_error *err) {
    char line[1024];
    int lineno = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        char *h = strchr(line, '#');
        if (h) *h = 0;
        char *s = trim(line);
        if (!*s) continue;
        char *sep = strchr(s, '=');
        if (!sep) sep = strchr(s, ':');
        if (!sep) return nd_fail(err, ND_ERR_FORMAT, "%s:%d: expected 'key = value'", origin, lineno);
        *sep = 0;
        nd_error e2;
        if (nd_lfads_config_set(c, trim(s), trim(sep + 1), &e2) != ND_OK)
            return nd_fail(err, e2.code, "%s:%d: %s", origin, lineno, e2.msg);
    }
    return ND_OK;
}

nd_status nd_lfads_config_parse_text(nd_lfads_config *c, const char *text, const char *origin, nd_error *err) {
    FILE *f = fmemopen((void *)text, strlen(text), "r");
    if (!f) return nd_fail(err, ND_ERR_NOMEM, "%s: cannot parse config text", origin);
    nd_status st = parse_lines(c, f, origin, err);
    fclose(f);
    return st;
}

char *nd_lfads_config_to_text(const nd_lfads_config *c) {
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f) return NULL;
    nd_lfads_config_write(f, c);
    fclose(f);
    return buf;
}
