/* lfads-torch model configs (Hydra YAML) read into an nd_lfads_config. neurodyn's keys carry lfads-torch's names,
 * so most keys map one to one; the scales stay in lfads-torch's units (recon_reduce_mean, loss_scale) and are
 * converted per batch by nd_lfads_effective_scales. Parsing is libyaml's; nothing here interprets YAML itself. */
#include "lfads_yaml.h"
#include <yaml.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    yaml_document_t *doc;
    const char *path;
    nd_lfads_config *c;
    char *notes;
    size_t len, cap;
    nd_error *err;
} yctx;

static void note(yctx *y, const char *fmt, ...) {
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    size_t need = y->len + strlen(line) + 2;
    if (need > y->cap) {
        size_t cap = need * 2;
        char *p = realloc(y->notes, cap);
        if (!p) return; /* notes are advisory: losing one is better than failing the load */
        y->notes = p;
        y->cap = cap;
    }
    y->len += (size_t)sprintf(y->notes + y->len, "%s\n", line);
}

static const char *scalar(const yaml_node_t *n) {
    return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

static yaml_node_t *map_get(yaml_document_t *d, const yaml_node_t *map, const char *key) {
    if (!map || map->type != YAML_MAPPING_NODE) return NULL;
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
        const char *k = scalar(yaml_document_get_node(d, p->key));
        if (k && !strcmp(k, key)) return yaml_document_get_node(d, p->value);
    }
    return NULL;
}

/* the class name of a Hydra node: the part of _target_ after the last dot */
static const char *target_class(yaml_document_t *d, const yaml_node_t *n) {
    const char *t = scalar(map_get(d, n, "_target_"));
    if (!t) return NULL;
    const char *dot = strrchr(t, '.');
    return dot ? dot + 1 : t;
}

static int is_true(const char *v) { return !strcmp(v, "True") || !strcmp(v, "true") || !strcmp(v, "1"); }
static int is_false(const char *v) { return !strcmp(v, "False") || !strcmp(v, "false") || !strcmp(v, "0"); }

/* set neurodyn key `key` from the scalar node n (YAML key `ykey`), naming the file and line on error */
static nd_status set_from(yctx *y, const char *key, const char *ykey, const yaml_node_t *n) {
    const char *v = scalar(n);
    unsigned line = n ? (unsigned)n->start_mark.line + 1 : 0;
    if (!v)
        return nd_fail(y->err, ND_ERR_FORMAT, "%s: line %u: '%s' must be a plain value", y->path, line, ykey);
    if (strstr(v, "${"))
        return nd_fail(y->err, ND_ERR_FORMAT, "%s: line %u: '%s': interpolation '%s' is not resolved; write the value",
                       y->path, line, ykey, v);
    char buf[64];
    if (is_true(v) || is_false(v)) { snprintf(buf, sizeof buf, "%d", is_true(v)); v = buf; }
    nd_error e;
    if (nd_lfads_config_set(y->c, key, v, &e) != ND_OK)
        return nd_fail(y->err, ND_ERR_FORMAT, "%s: line %u: %s", y->path, line, e.msg);
    return ND_OK;
}

/* a scalar that is zero / false: settings lfads-torch has and neurodyn lacks are fine when switched off */
static int is_off(const yaml_node_t *n) {
    const char *v = scalar(n);
    if (!v) return 0;
    if (is_false(v)) return 1;
    char *end;
    double x = strtod(v, &end);
    return end != v && !*end && x == 0;
}

static nd_status prior_co(yctx *y, const yaml_node_t *n) {
    const char *cls = target_class(y->doc, n);
    nd_status st = ND_OK;
    if (cls && !strcmp(cls, "AutoregressiveMultivariateNormal")) {
        st = nd_lfads_config_set(y->c, "co_prior_ar1", "1", y->err);
        if (!st && map_get(y->doc, n, "tau")) st = set_from(y, "ar_tau_init", "co_prior.tau", map_get(y->doc, n, "tau"));
        if (!st && map_get(y->doc, n, "nvar")) st = set_from(y, "ar_nvar_init", "co_prior.nvar", map_get(y->doc, n, "nvar"));
    } else if (cls && !strcmp(cls, "MultivariateNormal")) {
        st = nd_lfads_config_set(y->c, "co_prior_ar1", "0", y->err);
        if (!st && map_get(y->doc, n, "variance"))
            st = set_from(y, "co_prior_var", "co_prior.variance", map_get(y->doc, n, "variance"));
        if (!st && map_get(y->doc, n, "mean") && !is_off(map_get(y->doc, n, "mean")))
            note(y, "co_prior.mean: ignored (neurodyn's Gaussian inferred-input prior has mean 0)");
    } else if (cls) {
        note(y, "co_prior: %s is not supported; the AR(1) prior is kept", cls);
    }
    return st;
}

static nd_status prior_ic(yctx *y, const yaml_node_t *n) {
    const char *cls = target_class(y->doc, n);
    if (cls && strcmp(cls, "MultivariateNormal")) note(y, "ic_prior: %s is not supported; a Gaussian prior is used", cls);
    if (map_get(y->doc, n, "mean") && !is_off(map_get(y->doc, n, "mean")))
        note(y, "ic_prior.mean: ignored (neurodyn learns the IC prior mean starting from 0)");
    if (map_get(y->doc, n, "variance")) return set_from(y, "ic_prior_var", "ic_prior.variance", map_get(y->doc, n, "variance"));
    return ND_OK;
}

static nd_status augmentations(yctx *y, const yaml_node_t *stack) {
    const yaml_node_t *tr = map_get(y->doc, stack, "transforms");
    if (!tr || tr->type != YAML_SEQUENCE_NODE) return ND_OK;
    for (yaml_node_item_t *it = tr->data.sequence.items.start; it < tr->data.sequence.items.top; it++) {
        const yaml_node_t *t = yaml_document_get_node(y->doc, *it);
        const char *cls = target_class(y->doc, t);
        if (cls && !strcmp(cls, "CoordinatedDropout")) {
            if (map_get(y->doc, t, "cd_rate")) {
                nd_status st = set_from(y, "cd_rate", "train_aug_stack.CoordinatedDropout.cd_rate", map_get(y->doc, t, "cd_rate"));
                if (st) return st;
            }
            if (map_get(y->doc, t, "cd_pass_rate") && !is_off(map_get(y->doc, t, "cd_pass_rate")))
                note(y, "CoordinatedDropout.cd_pass_rate: ignored (neurodyn passes no dropped entries' gradient)");
        } else {
            note(y, "train_aug_stack: %s ignored (neurodyn has coordinated dropout only)", cls ? cls : "(unnamed transform)");
        }
    }
    return ND_OK;
}

static nd_status reconstruction(yctx *y, const yaml_node_t *n) {
    const yaml_node_t *first = n;
    if (n && n->type == YAML_SEQUENCE_NODE) {
        if (n->data.sequence.items.top - n->data.sequence.items.start > 1)
            note(y, "reconstruction: one entry per session; the first is used for every session");
        first = n->data.sequence.items.top > n->data.sequence.items.start
                    ? yaml_document_get_node(y->doc, *n->data.sequence.items.start) : NULL;
    }
    const char *cls = target_class(y->doc, first);
    if (!cls || !strcmp(cls, "Poisson")) return ND_OK;
    static const struct { const char *cls, *value; } recons[] = {
        {"Gaussian", "gaussian"}, {"Gamma", "gamma"}, {"ZeroInflatedGamma", "zig"}};
    for (size_t i = 0; i < sizeof recons / sizeof recons[0]; i++)
        if (!strcmp(cls, recons[i].cls)) {
            nd_error e;
            if (nd_lfads_config_set(y->c, "recon", recons[i].value, &e) == ND_OK) return ND_OK;
            break;
        }
    return nd_fail(y->err, ND_ERR_FORMAT, "%s: line %u: reconstruction %s is not supported by this build", y->path,
                   (unsigned)first->start_mark.line + 1, cls);
}

/* lfads-torch keys whose neurodyn key has another name */
static const struct { const char *torch, *nd; } renamed[] = {
    {"lr_adam_beta1", "adam_beta1"}, {"lr_adam_beta2", "adam_beta2"}, {"lr_adam_epsilon", "adam_epsilon"}};
/* keys neurodyn takes from the data file, or that describe lfads-torch's module wiring */
static const char *from_data[] = {"_target_", "encod_data_dim", "encod_seq_len", "recon_seq_len", "ext_input_dim",
                                  "readin", "readout", "infer_aug_stack"};
/* lfads-torch switches neurodyn lacks: fine when off */
static const char *must_be_off[] = {"weight_decay", "l2_ic_enc_scale", "l2_ci_enc_scale", "ic_enc_seq_len"};

static int in_list(const char *k, const char *const *list, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (!strcmp(k, list[i])) return 1;
    return 0;
}

static nd_status one_key(yctx *y, const char *k, const yaml_node_t *v) {
    if (!strcmp(k, "co_prior")) return prior_co(y, v);
    if (!strcmp(k, "ic_prior")) return prior_ic(y, v);
    if (!strcmp(k, "train_aug_stack")) return augmentations(y, v);
    if (!strcmp(k, "reconstruction")) return reconstruction(y, v);
    if (!strcmp(k, "variational")) {
        if (is_off(v)) note(y, "variational: False ignored (neurodyn always samples the posteriors in training)");
        return ND_OK;
    }
    if (!strcmp(k, "lr_scheduler")) {
        /* without a scheduler lfads-torch keeps the learning rate constant */
        if (is_off(v)) {
            note(y, "lr_scheduler: False -> lr_decay = 1 (constant learning rate)");
            return nd_lfads_config_set(y->c, "lr_decay", "1", y->err);
        }
        return ND_OK;
    }
    if (in_list(k, from_data, sizeof from_data / sizeof from_data[0])) return ND_OK;
    if (in_list(k, must_be_off, sizeof must_be_off / sizeof must_be_off[0])) {
        if (!is_off(v)) note(y, "%s: %s ignored (neurodyn has no such term)", k, scalar(v) ? scalar(v) : "(value)");
        return ND_OK;
    }
    for (size_t i = 0; i < sizeof renamed / sizeof renamed[0]; i++)
        if (!strcmp(k, renamed[i].torch)) return set_from(y, renamed[i].nd, k, v);
    int n;
    const nd_cfg_key *keys = nd_lfads_config_keys(&n);
    for (int i = 0; i < n; i++)
        if (!strcmp(keys[i].name, k)) return set_from(y, k, k, v);
    note(y, "%s: unknown lfads-torch key, ignored", k);
    return ND_OK;
}

nd_status nd_lfads_config_load_torch_yaml(nd_lfads_config *c, const char *path, char **notes, nd_error *err) {
    if (notes) *notes = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) return nd_fail(err, ND_ERR_IO, "%s: cannot open", path);
    yaml_parser_t parser;
    yaml_document_t doc;
    if (!yaml_parser_initialize(&parser)) {
        fclose(f);
        return nd_fail(err, ND_ERR_NOMEM, "%s: out of memory", path);
    }
    yaml_parser_set_input_file(&parser, f);
    nd_status st = ND_OK;
    if (!yaml_parser_load(&parser, &doc)) {
        st = nd_fail(err, ND_ERR_FORMAT, "%s: line %u: not valid YAML: %s", path,
                     (unsigned)parser.problem_mark.line + 1, parser.problem ? parser.problem : "parse error");
        yaml_parser_delete(&parser);
        fclose(f);
        return st;
    }
    yaml_parser_delete(&parser);
    fclose(f);
    yctx y = {&doc, path, c, NULL, 0, 0, err};
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    yaml_node_t *model = map_get(&doc, root, "model");
    if (model && model->type == YAML_MAPPING_NODE) root = model; /* a composed Hydra config: its model: section */
    if (!root || root->type != YAML_MAPPING_NODE) {
        st = nd_fail(err, ND_ERR_FORMAT, "%s: expected a mapping of lfads-torch model keys (or a 'model:' section)", path);
    } else {
        for (yaml_node_pair_t *p = root->data.mapping.pairs.start; !st && p < root->data.mapping.pairs.top; p++) {
            const char *k = scalar(yaml_document_get_node(&doc, p->key));
            if (k) st = one_key(&y, k, yaml_document_get_node(&doc, p->value));
        }
    }
    yaml_document_delete(&doc);
    nd_error e;
    if (!st && nd_lfads_config_check(c, &e) != ND_OK) st = nd_fail(err, e.code, "%s: %s", path, e.msg);
    if (st || !notes) free(y.notes);
    else *notes = y.notes;
    return st;
}

int nd_lfads_config_is_yaml(const char *path) {
    size_t n = strlen(path);
    return (n > 5 && !strcmp(path + n - 5, ".yaml")) || (n > 4 && !strcmp(path + n - 4, ".yml"));
}
