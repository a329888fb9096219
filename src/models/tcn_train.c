#define _POSIX_C_SOURCE 200809L
#include "tcn_train.h"
#include "../core/progress.h"
#include "../core/blas.h"
#include "../core/mem.h"
#include "../core/rng.h"
#include "../io/checkpoint.h"
#include "../io/h5.h"
#include <errno.h>
#include <omp.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

enum { STREAM_WINDOWS = 201, STREAM_INIT = 202 };
#define DISCARD_MS 500 /* the metrics leave out the first 500 ms of every simulation (the cell starts at rest) */

/* ---------- data ---------- */

void nd_neuron_data_free(nd_neuron_data *d) {
    free(d->in_time); free(d->in_syn); free(d->sim_start); free(d->soma_v); free(d->spikes);
    nd_free(d->syn_type); nd_free(d->syn_distance_um); nd_free(d->syn_branch);
    memset(d, 0, sizeof *d);
}

static nd_status read_ints(const char *path, const char *name, int **x, size_t *n, nd_error *err) {
    int rank;
    size_t dims[ND_H5_MAX_RANK];
    nd_status st = nd_h5_read_int(path, name, x, &rank, dims, err);
    if (st) return st;
    if (rank != 1) { nd_free(*x); *x = NULL; return nd_fail(err, ND_ERR_FORMAT, "%s: '%s' must be 1-D", path, name); }
    *n = dims[0];
    return ND_OK;
}

nd_status nd_neuron_data_read(const char *path, nd_neuron_data *d, nd_error *err) {
    memset(d, 0, sizeof *d);
    int rank, *t = NULL, *s = NULL, *k = NULL;
    size_t dims[ND_H5_MAX_RANK], nt = 0, ns = 0, nk = 0, nsyn = 0;
    float *v = NULL, *sp = NULL, *dist = NULL;
    nd_status st = nd_h5_read_float(path, "soma_v", &v, &rank, dims, err);
    if (!st && rank != 2) st = nd_fail(err, ND_ERR_FORMAT, "%s: 'soma_v' must be [sims x ms]", path);
    if (!st) { d->sims = (int)dims[0]; d->ms = (int)dims[1]; }
    if (!st) st = nd_h5_read_float(path, "spikes", &sp, &rank, dims, err);
    if (!st && (rank != 2 || (int)dims[0] != d->sims || (int)dims[1] != d->ms))
        st = nd_fail(err, ND_ERR_FORMAT, "%s: 'spikes' must be [%d x %d] like 'soma_v'", path, d->sims, d->ms);
    if (!st) st = read_ints(path, "spike_times_ms", &t, &nt, err);
    if (!st) st = read_ints(path, "spike_synapse", &s, &ns, err);
    if (!st) st = read_ints(path, "spike_sim", &k, &nk, err);
    if (!st && (ns != nt || nk != nt))
        st = nd_fail(err, ND_ERR_FORMAT, "%s: spike_times_ms, spike_synapse and spike_sim differ in length", path);
    if (!st) st = nd_h5_read_float(path, "syn_distance_um", &dist, &rank, dims, err);
    if (!st) { nsyn = dims[0]; d->syn = (int)nsyn; }
    size_t nm;
    if (!st) st = nd_h5_read_float(path, "syn_type", &d->syn_type, &rank, dims, err);
    if (!st && (nm = dims[0]) != nsyn) st = nd_fail(err, ND_ERR_FORMAT, "%s: 'syn_type' has %zu entries, not %zu", path, nm, nsyn);
    if (!st) st = nd_h5_read_float(path, "syn_branch", &d->syn_branch, &rank, dims, err);
    if (!st && (nm = dims[0]) != nsyn) st = nd_fail(err, ND_ERR_FORMAT, "%s: 'syn_branch' has %zu entries, not %zu", path, nm, nsyn);
    if (!st && nd_h5_read_attr_string(path, "/", "cell", d->cell, sizeof d->cell, err))
        st = nd_fail(err, ND_ERR_FORMAT, "%s: root attribute 'cell' missing (not a 'neurodyn neuron simulate' file?)", path);
    if (!st && (d->sims < 1 || d->ms < 1 || d->syn < 1))
        st = nd_fail(err, ND_ERR_FORMAT, "%s: empty simulations (%d x %d ms, %d synapses)", path, d->sims, d->ms, d->syn);
    for (size_t i = 0; !st && i < (size_t)d->sims * d->ms; i++) {
        if (sp[i] != 0 && sp[i] != 1)
            st = nd_fail(err, ND_ERR_FORMAT, "%s: 'spikes' entry %zu is %g; spikes must be 0 or 1", path, i, sp[i]);
        else if (!isfinite(v[i])) st = nd_fail(err, ND_ERR_FORMAT, "%s: 'soma_v' entry %zu is not finite", path, i);
    }
    for (int j = 0; !st && j < d->syn; j++)
        if (d->syn_type[j] != 0 && d->syn_type[j] != 1)
            st = nd_fail(err, ND_ERR_FORMAT, "%s: 'syn_type' entry %d is %g; must be 0 (excitatory) or 1 (inhibitory)",
                         path, j, d->syn_type[j]);
    /* the inputs are binary: a synapse fires at most once per simulation and ms (stamp: the last block it fired in) */
    size_t *stamp = !st ? calloc((size_t)d->syn, sizeof(size_t)) : NULL, block = 0;
    if (!st && !stamp) st = nd_fail(err, ND_ERR_NOMEM, "%s: out of memory", path);
    for (size_t i = 0; !st && i < nt; i++) {
        if (!i || k[i] != k[i - 1] || t[i] != t[i - 1]) block++;
        if (k[i] < 0 || k[i] >= d->sims || t[i] < 0 || t[i] >= d->ms || s[i] < 0 || s[i] >= d->syn)
            st = nd_fail(err, ND_ERR_FORMAT, "%s: input spike %zu (sim %d, %d ms, synapse %d) is out of range "
                         "(%d sims x %d ms, %d synapses)", path, i, k[i], t[i], s[i], d->sims, d->ms, d->syn);
        else if (i && (k[i] < k[i - 1] || (k[i] == k[i - 1] && t[i] < t[i - 1])))
            st = nd_fail(err, ND_ERR_FORMAT, "%s: input spikes must be sorted by spike_sim, then spike_times_ms "
                         "(entry %zu is not)", path, i);
        else if (stamp[s[i]] == block)
            st = nd_fail(err, ND_ERR_FORMAT, "%s: input spike %zu repeats synapse %d in sim %d at %d ms; inputs must be "
                         "binary (at most one spike per synapse and ms)", path, i, s[i], k[i], t[i]);
        else stamp[s[i]] = block;
    }
    free(stamp);
    if (!st) {
        d->n_in = nt;
        d->in_time = malloc(sizeof(int) * (nt ? nt : 1));
        d->in_syn = malloc(sizeof(int) * (nt ? nt : 1));
        d->sim_start = calloc((size_t)d->sims + 1, sizeof(size_t));
        d->soma_v = malloc(sizeof(float) * (size_t)d->sims * d->ms);
        d->spikes = malloc((size_t)d->sims * d->ms);
        if (!d->in_time || !d->in_syn || !d->sim_start || !d->soma_v || !d->spikes)
            st = nd_fail(err, ND_ERR_NOMEM, "%s: out of memory", path);
    }
    if (!st) {
        memcpy(d->in_time, t, sizeof(int) * nt);
        memcpy(d->in_syn, s, sizeof(int) * nt);
        for (size_t i = 0; i < nt; i++) d->sim_start[k[i] + 1]++;
        for (int j = 0; j < d->sims; j++) d->sim_start[j + 1] += d->sim_start[j];
        memcpy(d->soma_v, v, sizeof(float) * (size_t)d->sims * d->ms);
        for (size_t i = 0; i < (size_t)d->sims * d->ms; i++) d->spikes[i] = sp[i] != 0;
    }
    nd_free(t); nd_free(s); nd_free(k); nd_free(v); nd_free(sp);
    if (!st) d->syn_distance_um = dist;
    else nd_free(dist);
    if (st) nd_neuron_data_free(d);
    return st;
}

/* events of simulation k in [t0, t1) (ms), appended as window-relative times (t - t0) of sequence b */
typedef struct { int *t, *b, *c; size_t n, cap; } ev_buf;

static int ev_add_window(ev_buf *e, const nd_neuron_data *d, int k, int t0, int t1, int b) {
    size_t lo = d->sim_start[k], hi = d->sim_start[k + 1];
    while (lo < hi) { /* first event at or after t0 */
        size_t mid = (lo + hi) / 2;
        if (d->in_time[mid] < t0) lo = mid + 1;
        else hi = mid;
    }
    for (size_t i = lo; i < d->sim_start[k + 1] && d->in_time[i] < t1; i++) {
        if (e->n == e->cap) {
            size_t cap = e->cap ? 2 * e->cap : 65536;
            int *a = realloc(e->t, cap * sizeof(int));
            if (!a) return -1;
            e->t = a;
            if (!(a = realloc(e->b, cap * sizeof(int)))) return -1;
            e->b = a;
            if (!(a = realloc(e->c, cap * sizeof(int)))) return -1;
            e->c = a;
            e->cap = cap;
        }
        e->t[e->n] = d->in_time[i] - t0;
        e->b[e->n] = b;
        e->c[e->n++] = d->in_syn[i];
    }
    return 0;
}

static void ev_free(ev_buf *e) { free(e->t); free(e->b); free(e->c); memset(e, 0, sizeof *e); }

/* ---------- prediction and scores ---------- */

#define PREDICT_CHUNK 4

nd_status nd_tcn_predict(const nd_tcn_run *r, const nd_neuron_data *d, int k0, int k1, float *prob, float *volt,
                         nd_error *err) {
    if (d->syn != r->m.cfg.syn)
        return nd_fail(err, ND_ERR_ARG, "the data have %d synapses but the network was fitted on %d", d->syn, r->m.cfg.syn);
    const int T = d->ms, B = PREDICT_CHUNK;
    nd_blas_set_threads(1); /* the layers split their products over OpenMP threads themselves (src/nn/tcn.c) */
    nd_tcn_work *w;
    nd_status st = nd_tcn_work_create(&w, &r->m, T, B, err);
    if (st) return st;
    ev_buf e = {0};
    for (int k = k0; k < k1 && !st; k += B) {
        int nb = k1 - k < B ? k1 - k : B;
        e.n = 0;
        for (int b = 0; b < nb; b++)
            if (ev_add_window(&e, d, k + b, 0, T, b)) st = nd_fail(err, ND_ERR_NOMEM, "TCN: out of memory");
        if (st) break;
        nd_spike_events ev = {e.t, e.b, e.c, e.n};
        const real *lg, *vo;
        nd_tcn_forward((nd_tcn_model *)&r->m, w, &ev, B, 0, NULL, NULL, &lg, &vo); /* eval mode: m unchanged */
        for (int b = 0; b < nb; b++)
            for (int t = 0; t < T; t++) {
                size_t o = (size_t)(k - k0 + b) * T + t, i = (size_t)t * B + b;
                prob[o] = nd_sigmoid(lg[i]);
                volt[o] = (float)(vo[i] * r->v_sd + r->v_mean);
            }
    }
    ev_free(&e);
    nd_tcn_work_free(w);
    return st;
}

/* loss per weighted bin on simulations [k0, k1), whole simulations in inference mode, the first 500 ms left out */
static nd_status valid_loss(nd_tcn_model *m, const nd_neuron_data *d, int k0, int k1, double v_mean, double v_sd,
                            double spike_weight, nd_tcn_loss *out, nd_error *err) {
    const int T = d->ms, B = PREDICT_CHUNK;
    nd_tcn_work *w;
    nd_status st = nd_tcn_work_create(&w, m, T, B, err);
    if (st) return st;
    real *ys = malloc(sizeof(real) * T * B), *yv = malloc(sizeof(real) * T * B), *wt = malloc(sizeof(real) * T * B);
    ev_buf e = {0};
    double sb = 0, sm = 0, sw = 0;
    if (!ys || !yv || !wt) st = nd_fail(err, ND_ERR_NOMEM, "TCN: out of memory");
    for (int k = k0; k < k1 && !st; k += B) {
        int nb = k1 - k < B ? k1 - k : B;
        e.n = 0;
        for (int b = 0; b < B; b++)
            for (int t = 0; t < T; t++) {
                size_t i = (size_t)t * B + b, g = (size_t)(k + b) * T + t;
                int in = b < nb;
                float v = in ? d->soma_v[g] : 0;
                ys[i] = in ? d->spikes[g] : 0;
                yv[i] = in ? (real)(((v > ND_TCN_VCLIP ? ND_TCN_VCLIP : v) - v_mean) / v_sd) : 0;
                wt[i] = in && (t >= DISCARD_MS || T <= DISCARD_MS) ? 1 : 0;
            }
        for (int b = 0; b < nb && !st; b++)
            if (ev_add_window(&e, d, k + b, 0, T, b)) st = nd_fail(err, ND_ERR_NOMEM, "TCN: out of memory");
        if (st) break;
        nd_spike_events ev = {e.t, e.b, e.c, e.n};
        nd_tcn_targets tg = {ys, yv, wt, spike_weight};
        nd_tcn_loss L;
        nd_tcn_forward(m, w, &ev, B, 0, &tg, &L, NULL, NULL);
        double n = 0;
        for (size_t i = 0; i < (size_t)T * B; i++) n += wt[i];
        sb += L.bce * n;
        sm += L.mse * n;
        sw += n;
    }
    if (!st) {
        out->bce = sw > 0 ? sb / sw : 0;
        out->mse = sw > 0 ? sm / sw : 0;
        out->total = spike_weight * out->bce + out->mse;
    }
    ev_free(&e);
    free(ys); free(yv); free(wt);
    nd_tcn_work_free(w);
    return st;
}

/* ---------- checkpoints ---------- */

typedef struct {
    double epoch_done, step, best_loss, best_epoch, v_mean, v_sd;
    double lr, lr_decay, lr_step, sw_start, sw_end, batch, window, valid_fraction, seed, sw_epochs;
} fit_state;

static nd_status save_ckpt(const char *path, const char *prev, const nd_tcn_model *m, const real *am, const real *av,
                           const fit_state *fs, const char *cell, const nd_neuron_data *d, nd_error *err) {
    int cfg[5] = {m->cfg.syn, m->cfg.depth, m->cfg.width, m->cfg.first_kernel, m->cfg.kernel};
    char c[32] = {0};
    snprintf(c, sizeof c, "%s", cell);
    size_t np = m->n_params * sizeof(real), nb = sizeof(real) * 2 * (size_t)m->cfg.depth * m->cfg.width;
    size_t ns = sizeof(float) * (size_t)m->cfg.syn;
    nd_ckpt_section sec[] = {{"kind", "neuron-tcn", 11}, {"tcn_config", cfg, sizeof cfg}, {"cell", c, sizeof c},
                             {"state", fs, sizeof *fs}, {"params", m->params, np}, {"bn_stats", m->bn_stats, nb},
                             {"syn_type", d->syn_type, ns}, {"syn_distance_um", d->syn_distance_um, ns},
                             {"syn_branch", d->syn_branch, ns},
                             {"adam_m", am, am ? np : 0}, {"adam_v", av, av ? np : 0}};
    int n = am ? 11 : 9; /* best.ckpt: no optimiser state */
    return prev ? nd_ckpt_write_keep(path, prev, sec, n, err) : nd_ckpt_write(path, sec, n, err);
}

static nd_status load_ckpt(const char *path, nd_tcn_model *m, real **am, real **av, fit_state *fs, char *cell,
                           nd_error *err) {
    nd_ckpt c;
    nd_status st = nd_ckpt_read(path, &c, err);
    if (st) return st;
    const nd_ckpt_entry *k = nd_ckpt_find(&c, "kind");
    int cfg[5];
    if (!k || k->bytes != 11 || memcmp(k->data, "neuron-tcn", 11))
        st = nd_fail(err, ND_ERR_CHECKPOINT, "%s: not a neuron TCN checkpoint", path);
    if (!st) st = nd_ckpt_get(&c, path, "tcn_config", cfg, sizeof cfg, err);
    if (!st) st = nd_ckpt_get(&c, path, "cell", cell, 32, err);
    if (!st) st = nd_ckpt_get(&c, path, "state", fs, sizeof *fs, err);
    cell[31] = 0;
    nd_tcn_config tc = {cfg[0], cfg[1], cfg[2], cfg[3], cfg[4]};
    nd_error e2;
    if (!st && nd_tcn_create(m, &tc, &e2) != ND_OK) st = nd_fail(err, ND_ERR_CHECKPOINT, "%s: %s", path, e2.msg);
    size_t np = m->n_params * sizeof(real);
    if (!st) st = nd_ckpt_get(&c, path, "params", m->params, np, err);
    if (!st) st = nd_ckpt_get(&c, path, "bn_stats", m->bn_stats, sizeof(real) * 2 * (size_t)tc.depth * tc.width, err);
    if (!st && am) {
        *am = nd_alloc(np);
        *av = nd_alloc(np);
        if (!*am || !*av) st = nd_fail(err, ND_ERR_NOMEM, "%s: out of memory", path);
        if (!st) st = nd_ckpt_get(&c, path, "adam_m", *am, np, err);
        if (!st) st = nd_ckpt_get(&c, path, "adam_v", *av, np, err);
    }
    nd_ckpt_free(&c);
    if (st && m->params) nd_tcn_free(m);
    return st;
}

nd_status nd_tcn_run_load(const char *run, nd_tcn_run *r, nd_error *err) {
    memset(r, 0, sizeof *r);
    char path[4096];
    struct stat sb;
    if (stat(run, &sb) == 0 && S_ISDIR(sb.st_mode)) snprintf(path, sizeof path, "%s/best.ckpt", run);
    else snprintf(path, sizeof path, "%s", run);
    if (stat(path, &sb) != 0) return nd_fail(err, ND_ERR_IO, "%s: no such run (expected a run directory or checkpoint)", path);
    fit_state fs;
    nd_status st = load_ckpt(path, &r->m, NULL, NULL, &fs, r->cell, err);
    if (st) return st;
    r->v_mean = fs.v_mean;
    r->v_sd = fs.v_sd;
    size_t ns = sizeof(float) * (size_t)r->m.cfg.syn;
    r->syn_type = malloc(ns);
    r->syn_distance_um = malloc(ns);
    r->syn_branch = malloc(ns);
    nd_ckpt c;
    if (!r->syn_type || !r->syn_distance_um || !r->syn_branch) st = nd_fail(err, ND_ERR_NOMEM, "%s: out of memory", path);
    if (!st) st = nd_ckpt_read(path, &c, err);
    if (!st) {
        st = nd_ckpt_get(&c, path, "syn_type", r->syn_type, ns, err);
        if (!st) st = nd_ckpt_get(&c, path, "syn_distance_um", r->syn_distance_um, ns, err);
        if (!st) st = nd_ckpt_get(&c, path, "syn_branch", r->syn_branch, ns, err);
        nd_ckpt_free(&c);
    }
    if (st) nd_tcn_run_free(r);
    return st;
}

void nd_tcn_run_free(nd_tcn_run *r) {
    free(r->syn_type); free(r->syn_distance_um); free(r->syn_branch);
    nd_tcn_free(&r->m);
    memset(r, 0, sizeof *r);
}

/* ---------- fitting ---------- */

void nd_tcn_fit_opts_default(nd_tcn_fit_opts *o) {
    memset(o, 0, sizeof *o);
    o->net = (nd_tcn_config){0, 7, 128, 35, 5};
    o->epochs = 20;
    o->batch = 16;
    o->window_ms = 400;
    o->lr = 1e-3;
    o->lr_decay = 0.5;
    o->lr_step = 8;
    o->spike_weight_start = 1;
    o->spike_weight_end = 4;
    o->spike_weight_epochs = 10;
    o->valid_fraction = 0.1;
    o->threads = 1;
}


/* voltage standardisation from the training simulations, truth clipped at -55 mV */
static void volt_stats(const nd_neuron_data *d, int n_train, double *mean, double *sd) {
    double s = 0, s2 = 0;
    size_t n = (size_t)n_train * d->ms;
    for (size_t i = 0; i < n; i++) {
        double v = d->soma_v[i] > ND_TCN_VCLIP ? ND_TCN_VCLIP : d->soma_v[i];
        s += v;
        s2 += v * v;
    }
    *mean = s / n;
    double var = s2 / n - *mean * *mean;
    *sd = var > 1e-12 ? sqrt(var) : 1;
}

void nd_tcn_adam(real *p, real *m, real *v, const real *g, size_t n, double lr, int64_t step) {
    const double b1 = 0.9, b2 = 0.999, eps = 1e-8;
    double bc1 = 1 - pow(b1, (double)step), bc2 = 1 - pow(b2, (double)step);
    #pragma omp parallel for schedule(static) if (n >= 1 << 16) /* element-wise: the same bits for any thread count */
    for (size_t i = 0; i < n; i++) {
        m[i] = (real)(b1 * m[i] + (1 - b1) * g[i]);
        v[i] = (real)(b2 * v[i] + (1 - b2) * (double)g[i] * g[i]);
        p[i] -= (real)(lr * (m[i] / bc1) / (sqrt(v[i] / bc2) + eps));
    }
}

static int run_exists(const char *dir) {
    const char *files[] = {"last.ckpt", "best.ckpt", "train_log.tsv"};
    char p[4096];
    struct stat sb;
    for (int i = 0; i < 3; i++) {
        snprintf(p, sizeof p, "%s/%s", dir, files[i]);
        if (stat(p, &sb) == 0) return 1;
    }
    return 0;
}

static void clear_run(const char *dir) {
    const char *files[] = {"last.ckpt", "last.prev.ckpt", "best.ckpt", "train_log.tsv", "config.txt"};
    char p[4096];
    for (int i = 0; i < 5; i++) {
        snprintf(p, sizeof p, "%s/%s", dir, files[i]);
        unlink(p);
    }
}

nd_status nd_tcn_fit(const nd_neuron_data *d, const char *data_path, const nd_tcn_fit_opts *o, nd_tcn_fit_result *res,
                     nd_error *err) {
    memset(res, 0, sizeof *res);
    res->best_epoch = -1;
    if (o->epochs < 1 || o->batch < 1 || o->window_ms < 1 || !(o->lr > 0) || !(o->lr_decay > 0 && o->lr_decay <= 1) ||
        o->lr_step < 1 || o->spike_weight_epochs < 0 || !(o->valid_fraction > 0 && o->valid_fraction < 1))
        return nd_fail(err, ND_ERR_ARG, "neuron fit: bad options (epochs, batch, window, lr, lr decay/step, valid fraction)");
    const int n_valid = (int)ceil(d->sims * o->valid_fraction), n_train = d->sims - n_valid;
    if (n_train < 1 || n_valid < 1)
        return nd_fail(err, ND_ERR_ARG, "%s: %d simulations are too few to hold out %.0f%% for validation", data_path,
                       d->sims, 100 * o->valid_fraction);
    if (mkdir(o->run_dir, 0777) != 0 && errno != EEXIST)
        return nd_fail(err, ND_ERR_IO, "%s: cannot create the run directory (%s)", o->run_dir, strerror(errno));
    char last[4096], prev[4096], best[4096], cfgp[4096], logp[4096];
    snprintf(last, sizeof last, "%s/last.ckpt", o->run_dir);
    snprintf(prev, sizeof prev, "%s/last.prev.ckpt", o->run_dir);
    snprintf(best, sizeof best, "%s/best.ckpt", o->run_dir);
    snprintf(cfgp, sizeof cfgp, "%s/config.txt", o->run_dir);
    snprintf(logp, sizeof logp, "%s/train_log.tsv", o->run_dir);
    if (!o->resume && run_exists(o->run_dir)) {
        if (!o->force)
            return nd_fail(err, ND_ERR_ARG, "%s already holds a run; use --resume to continue it or --force to replace it",
                           o->run_dir);
        clear_run(o->run_dir);
    }
    nd_blas_set_threads(1); /* the layers split their products over OpenMP threads themselves (src/nn/tcn.c) */
    omp_set_num_threads(o->threads);
    nd_tcn_model m = {0};
    real *am = NULL, *av = NULL, *g = NULL;
    fit_state fs;
    char cell[32];
    nd_status st = ND_OK;
    if (o->resume) {
        st = load_ckpt(last, &m, &am, &av, &fs, cell, err);
        if (!st && (m.cfg.syn != d->syn || strcmp(cell, d->cell)))
            st = nd_fail(err, ND_ERR_ARG, "%s: the run was fitted on cell '%s' with %d synapses; %s has '%s' with %d",
                         last, cell, m.cfg.syn, data_path, d->cell, d->syn);
    } else {
        nd_tcn_config c = o->net;
        c.syn = d->syn;
        st = nd_tcn_create(&m, &c, err);
        if (!st) {
            nd_tcn_init(&m, o->seed * 1000003u + STREAM_INIT);
            am = nd_alloc(sizeof(real) * m.n_params);
            av = nd_alloc(sizeof(real) * m.n_params);
            if (!am || !av) st = nd_fail(err, ND_ERR_NOMEM, "neuron fit: out of memory");
            else { memset(am, 0, sizeof(real) * m.n_params); memset(av, 0, sizeof(real) * m.n_params); }
        }
        memset(&fs, 0, sizeof fs);
        fs.best_loss = INFINITY;
        fs.best_epoch = -1;
        volt_stats(d, n_train, &fs.v_mean, &fs.v_sd);
        fs.lr = o->lr; fs.lr_decay = o->lr_decay; fs.lr_step = o->lr_step;
        fs.sw_start = o->spike_weight_start; fs.sw_end = o->spike_weight_end; fs.sw_epochs = o->spike_weight_epochs;
        fs.batch = o->batch; fs.window = o->window_ms; fs.valid_fraction = o->valid_fraction; fs.seed = (double)o->seed;
        snprintf(cell, sizeof cell, "%s", d->cell);
        if (!st) {
            FILE *f = fopen(cfgp, "w");
            if (!f) st = nd_fail(err, ND_ERR_IO, "%s: cannot write", cfgp);
            else {
                fprintf(f, "data = %s\ncell = %s\nsynapses = %d\ndepth = %d\nwidth = %d\nfirst_kernel = %d\nkernel = %d\n"
                        "receptive_field_ms = %d\nparameters = %zu\nepochs = %d\nbatch = %d\nwindow_ms = %d\nlr = %g\n"
                        "lr_decay = %g\nlr_step = %d\nspike_weight = %g -> %g over %d epochs\nvalid_fraction = %g\nseed = %llu\n",
                        data_path, d->cell, d->syn, m.cfg.depth, m.cfg.width, m.cfg.first_kernel, m.cfg.kernel,
                        nd_tcn_receptive_field(&m.cfg), m.n_params, o->epochs, o->batch, o->window_ms, o->lr,
                        o->lr_decay, o->lr_step, o->spike_weight_start, o->spike_weight_end, o->spike_weight_epochs, o->valid_fraction,
                        (unsigned long long)o->seed);
                fclose(f);
            }
            f = st ? NULL : fopen(logp, "w");
            if (f) { fprintf(f, "epoch\ttrain_loss\ttrain_bce\ttrain_mse\tvalid_loss\tvalid_bce\tvalid_mse\tlr\tseconds\n"); fclose(f); }
        }
    }
    const int B = (int)fs.batch, Tout = (int)fs.window, C = nd_tcn_receptive_field(&m.cfg) - 1, T = Tout + C;
    nd_tcn_work *w = NULL;
    if (!st) st = nd_tcn_work_create(&w, &m, T, B, err);
    g = st ? NULL : nd_alloc(sizeof(real) * m.n_params);
    real *ys = malloc(sizeof(real) * T * B), *yv = malloc(sizeof(real) * T * B), *wt = malloc(sizeof(real) * T * B);
    if (!st && (!g || !ys || !yv || !wt)) st = nd_fail(err, ND_ERR_NOMEM, "neuron fit: out of memory");
    ev_buf e = {0};
    const int64_t windows = ((int64_t)n_train * d->ms + Tout - 1) / Tout, steps = (windows + B - 1) / B;
    for (int ep = (int)fs.epoch_done; !st && ep < o->epochs; ep++) {
        double t0 = nd_now_seconds(), lr = fs.lr * pow(fs.lr_decay, floor(ep / fs.lr_step));
        /* the schedules depend on the epoch only (not on --epochs), so a resumed, extended run is exact */
        double ramp = fs.sw_epochs > 0 ? fmin(1.0, ep / fs.sw_epochs) : 1.0;
        double sw = fs.sw_start + (fs.sw_end - fs.sw_start) * ramp;
        double tl = 0, tb = 0, tm = 0;
        for (int64_t k = 0; k < steps && !st; k++) {
            nd_rng r;
            nd_rng_stream(&r, (uint64_t)fs.seed, STREAM_WINDOWS, (uint64_t)ep * 1000003u + (uint64_t)k);
            e.n = 0;
            for (int b = 0; b < B; b++) {
                int sim = (int)(nd_rng_uniform(&r) * n_train), span = d->ms - Tout;
                if (sim >= n_train) sim = n_train - 1;
                int s0 = span > 0 ? (int)(nd_rng_uniform(&r) * (span + 1)) : 0;
                if (s0 > span && span > 0) s0 = span;
                if (ev_add_window(&e, d, sim, s0 - C, s0 + Tout, b)) st = nd_fail(err, ND_ERR_NOMEM, "neuron fit: out of memory");
                for (int t = 0; t < T; t++) {
                    int abs_t = s0 - C + t;
                    size_t i = (size_t)t * B + b;
                    int in = abs_t >= 0 && abs_t < d->ms;
                    float v = in ? d->soma_v[(size_t)sim * d->ms + abs_t] : 0;
                    ys[i] = in ? d->spikes[(size_t)sim * d->ms + abs_t] : 0;
                    yv[i] = in ? (real)(((v > ND_TCN_VCLIP ? ND_TCN_VCLIP : v) - fs.v_mean) / fs.v_sd) : 0;
                    wt[i] = in && t >= C ? 1 : 0;
                }
            }
            if (st) break;
            nd_spike_events ev = {e.t, e.b, e.c, e.n};
            nd_tcn_targets tg = {ys, yv, wt, sw};
            nd_tcn_loss L;
            nd_tcn_forward(&m, w, &ev, B, 1, &tg, &L, NULL, NULL);
            memset(g, 0, sizeof(real) * m.n_params);
            nd_tcn_backward(&m, w, g);
            if (!isfinite(L.total)) { st = nd_fail(err, ND_ERR_NUMERIC, "neuron fit: the loss diverged at epoch %d; "
                                                   "lower --lr", ep + 1); break; }
            fs.step++;
            nd_tcn_adam(m.params, am, av, g, m.n_params, lr, (int64_t)fs.step);
            tl += L.total; tb += L.bce; tm += L.mse;
        }
        if (st) break;
        /* validation loss at the final spike weight, so that epochs compare on one scale */
        nd_tcn_loss vl = {0, 0, 0};
        st = valid_loss(&m, d, n_train, d->sims, fs.v_mean, fs.v_sd, fs.sw_end, &vl, err);
        if (st) break;
        fs.epoch_done = ep + 1;
        int is_best = vl.total < fs.best_loss;
        if (is_best) { fs.best_loss = vl.total; fs.best_epoch = ep; }
        if (is_best && (st = save_ckpt(best, NULL, &m, NULL, NULL, &fs, cell, d, err))) break;
        if ((st = save_ckpt(last, prev, &m, am, av, &fs, cell, d, err))) break;
        double secs = nd_now_seconds() - t0;
        FILE *f = fopen(logp, "a");
        if (f) {
            fprintf(f, "%d\t%.6f\t%.6f\t%.6f\t%.6f\t%.6f\t%.6f\t%.3e\t%.2f\n", ep, tl / steps, tb / steps, tm / steps,
                    vl.total, vl.bce, vl.mse, lr, secs);
            fclose(f);
        }
        if (o->progress) {
            fprintf(o->progress, "epoch %d/%d  loss %.4f (BCE %.4f, MSE %.4f)  valid %.4f (BCE %.4f, MSE %.4f)%s  "
                    "lr %.1e  %.1fs\n", ep + 1, o->epochs, tl / steps, tb / steps, tm / steps, vl.total, vl.bce, vl.mse,
                    is_best ? " *" : "", lr, secs);
            fflush(o->progress);
        }
        res->epochs_run++;
    }
    res->best_epoch = (int)fs.best_epoch;
    res->best_valid_loss = fs.best_loss;
    ev_free(&e);
    free(ys); free(yv); free(wt);
    nd_free(g); nd_free(am); nd_free(av);
    nd_tcn_work_free(w);
    nd_tcn_free(&m);
    return st;
}

nd_status nd_tcn_fit_file(const char *sims_path, const nd_tcn_fit_opts *o, nd_tcn_fit_result *res, nd_error *err) {
    memset(res, 0, sizeof *res);
    res->best_epoch = -1;
    nd_neuron_data d;
    nd_status st = nd_neuron_data_read(sims_path, &d, err);
    if (st) return st;
    st = nd_tcn_fit(&d, sims_path, o, res, err);
    nd_neuron_data_free(&d);
    return st;
}
