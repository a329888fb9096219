#include "neuron_sim.h"
#include "cable.h"
#include "../core/rng.h"
#include "../core/smooth.h"
#include "../io/h5.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* RNG stream purposes (nd_rng_stream): one stream per simulation and purpose, so results do not depend on the
 * number of threads */
enum { STREAM_INPUT = 101, STREAM_CALIBRATE = 102, STREAM_SYNAPSES = 103 };

/* branched cell: synapses per compartment (peak conductances in neuron_sim.h) */
#define W_AMPA ND_NEURON_W_AMPA
#define W_NMDA ND_NEURON_W_NMDA
#define W_GABA ND_NEURON_W_GABA
#define EXC_PER_COMP 4
#define INH_PER_COMP 1
#define INH_AT_SOMA 8
/* iaf cell (spec): 80 excitatory (+1) and 20 inhibitory (-1) inputs, tau 20 ms, V = -75 + 2 sum, threshold -55 */
#define IAF_EXC 80
#define IAF_INH 20
#define IAF_TAU 20.0
#define IAF_GAIN 2.0
#define IAF_REST -75.0
#define IAF_THRESH -55.0
#define SPIKE_THRESH_MV 0.0

static const char *kind_names[] = {"iaf", "branched", "branched-ampa"};

int nd_neuron_kind_parse(const char *name) {
    for (int k = 0; k < 3; k++)
        if (!strcmp(name, kind_names[k])) return k;
    return -1;
}
const char *nd_neuron_kind_name(nd_neuron_kind k) { return k >= 0 && k <= 2 ? kind_names[k] : "?"; }

static const char *input_names[] = {"shared", "paper"};
int nd_neuron_inputs_parse(const char *name) {
    for (int k = 0; k < 2; k++)
        if (!strcmp(name, input_names[k])) return k;
    return -1;
}
const char *nd_neuron_inputs_name(nd_neuron_inputs i) { return i >= 0 && i <= 1 ? input_names[i] : "?"; }

void nd_neuron_sim_opts_default(nd_neuron_sim_opts *o) {
    memset(o, 0, sizeof *o);
    o->kind = ND_NEURON_BRANCHED;
    o->sims = 10;
    o->seconds = 6;
    o->threads = 1;
    o->dt_ms = 0.025;
    o->target_hz = 3;
}

/* ---------- the cells ---------- */

typedef struct {
    nd_cell cell;          /* branched cells only */
    int syn;               /* input synapses */
    unsigned char *type;   /* [syn] 0 exc, 1 inh */
    int *comp, *branch;    /* [syn] */
    float *dist;           /* [syn] */
} cell_model;

static void cell_model_free(cell_model *m) {
    if (m->cell.n) nd_cell_free(&m->cell);
    free(m->type); free(m->comp); free(m->branch); free(m->dist);
    memset(m, 0, sizeof *m);
}

/* append a branch of k compartments (length L um each, diameter tapering d0 -> d1) to compartment `from` */
static int add_branch(nd_cell *c, int *next, int from, int k, double L, double d0, double d1, int branch_id) {
    int prev = from;
    for (int j = 0; j < k; j++) {
        int i = (*next)++;
        c->parent[i] = prev;
        c->length_um[i] = L;
        c->diam_um[i] = k > 1 ? d0 + (d1 - d0) * j / (k - 1) : d0;
        c->branch[i] = branch_id;
        prev = i;
    }
    return prev;
}

/* Soma (20 x 20 um) with an apical trunk (10 x 30 um, 3 -> 1.5 um), two obliques off the trunk (8 x 20 um,
 * 0.8 um), two tuft branches at its end (12 x 25 um, 0.7 -> 0.5 um) and four basal dendrites (8 x 20 um,
 * 0.8 -> 0.6 um): 83 compartments; the thin distal branches have the high input impedance that lets
 * clustered NMDA input regenerate locally. Compartments are numbered depth-first (Hines order). */
nd_status nd_neuron_branched_tree(nd_cell *c, nd_error *err) {
    const int n = 1 + 10 + 2 * 8 + 2 * 12 + 4 * 8;
    nd_status st = nd_cell_alloc(c, n, err);
    if (st) return st;
    c->length_um[0] = c->diam_um[0] = 20;
    int next = 1, br = 1, trunk[10];
    int prev = 0;
    for (int j = 0; j < 10; j++) { /* the trunk, remembered to hang obliques on it */
        prev = add_branch(c, &next, prev, 1, 30, 3.0 - 1.5 * j / 9.0, 0, br);
        trunk[j] = prev;
    }
    br++;
    add_branch(c, &next, trunk[2], 8, 20, 0.8, 0.8, br++);
    add_branch(c, &next, trunk[5], 8, 20, 0.8, 0.8, br++);
    add_branch(c, &next, trunk[9], 12, 25, 0.7, 0.5, br++);
    add_branch(c, &next, trunk[9], 12, 25, 0.7, 0.5, br++);
    for (int b = 0; b < 4; b++) add_branch(c, &next, 0, 8, 20, 0.8, 0.6, br++);
    return nd_cell_check(c, err);
}

static nd_status build_branched(cell_model *m, nd_error *err) {
    nd_status st = nd_neuron_branched_tree(&m->cell, err);
    if (st) return st;
    const nd_cell *c = &m->cell;
    const int n = c->n;
    int dend = n - 1, syn = dend * (EXC_PER_COMP + INH_PER_COMP) + INH_AT_SOMA;
    m->syn = syn;
    m->type = calloc((size_t)syn, 1);
    m->comp = calloc((size_t)syn, sizeof(int));
    m->branch = calloc((size_t)syn, sizeof(int));
    m->dist = calloc((size_t)syn, sizeof(float));
    if (!m->type || !m->comp || !m->branch || !m->dist) return nd_fail(err, ND_ERR_NOMEM, "cell: out of memory");
    int s = 0;
    for (int i = 1; i < n; i++) /* excitatory synapses first, ordered by compartment */
        for (int k = 0; k < EXC_PER_COMP; k++, s++) { m->type[s] = 0; m->comp[s] = i; }
    for (int i = 1; i < n; i++)
        for (int k = 0; k < INH_PER_COMP; k++, s++) { m->type[s] = 1; m->comp[s] = i; }
    for (int k = 0; k < INH_AT_SOMA; k++, s++) { m->type[s] = 1; m->comp[s] = 0; }
    for (s = 0; s < syn; s++) { m->branch[s] = c->branch[m->comp[s]]; m->dist[s] = (float)c->dist_um[m->comp[s]]; }
    return ND_OK;
}

static nd_status build_iaf(cell_model *m, nd_error *err) {
    m->syn = IAF_EXC + IAF_INH;
    m->type = calloc((size_t)m->syn, 1);
    m->comp = calloc((size_t)m->syn, sizeof(int));
    m->branch = calloc((size_t)m->syn, sizeof(int));
    m->dist = calloc((size_t)m->syn, sizeof(float));
    if (!m->type || !m->comp || !m->branch || !m->dist) return nd_fail(err, ND_ERR_NOMEM, "cell: out of memory");
    for (int s = IAF_EXC; s < m->syn; s++) m->type[s] = 1;
    return ND_OK;
}

/* ---------- inputs ---------- */

/* Per simulation: a population gain per input type, piecewise constant over intervals of 25-450 ms (uniform),
 * drawn from U(0.25, 1.75) for excitation and that value times U(0.75, 1.25) for inhibition (inhibition follows
 * excitation: balanced), then smoothed with a Gaussian of SD 10 ms; and a fixed factor U(0.5, 1.5) per synapse.
 * The rate of synapse s at ms t is mean_rate x gain(t) x factor(s); spikes are Bernoulli per 1 ms bin. */
typedef struct { int *t, *s; size_t n, cap; } spike_list;

static int list_push(spike_list *l, int t, int s) {
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 4096;
        int *a = realloc(l->t, cap * sizeof(int)), *b = a ? realloc(l->s, cap * sizeof(int)) : NULL;
        if (a) l->t = a;
        if (!a || !b) return -1;
        l->s = b;
        l->cap = cap;
    }
    l->t[l->n] = t;
    l->s[l->n++] = s;
    return 0;
}

static int make_inputs_shared(const cell_model *m, int ms, double exc_hz, double inh_hz, nd_rng *r,
                              spike_list *out) {
    double *ge = calloc((size_t)ms * 3, sizeof(double)), *gi = ge ? ge + ms : NULL, *tmp = ge ? ge + 2 * ms : NULL;
    double *factor = malloc(sizeof(double) * m->syn);
    if (!ge || !factor) { free(ge); free(factor); return -1; }
    for (int t = 0; t < ms;) {
        int len = 25 + (int)(nd_rng_uniform(r) * 426);
        double e = 0.25 + 1.5 * nd_rng_uniform(r), i = e * (0.75 + 0.5 * nd_rng_uniform(r));
        for (int k = 0; k < len && t < ms; k++, t++) { ge[t] = e; gi[t] = i; }
    }
    nd_smooth_gaussian_d(tmp, ge, 1, ms, 1, 10); /* the project's Gaussian smoothing (renormalised at the edges) */
    memcpy(ge, tmp, sizeof(double) * ms);
    nd_smooth_gaussian_d(tmp, gi, 1, ms, 1, 10);
    memcpy(gi, tmp, sizeof(double) * ms);
    for (int s = 0; s < m->syn; s++) factor[s] = 0.5 + nd_rng_uniform(r);
    int rc = 0;
    for (int t = 0; t < ms && !rc; t++)
        for (int s = 0; s < m->syn && !rc; s++) {
            double p = (m->type[s] ? inh_hz * gi[t] : exc_hz * ge[t]) * factor[s] * 1e-3;
            if (nd_rng_uniform(r) < p) rc = list_push(out, t, s);
        }
    free(ge);
    free(factor);
    return rc;
}

/* moving average of half-width h over x[0..n) into y (edges: the mean of the taps inside) */
static void box_pass(double *y, const double *x, int n, int h) {
    double acc = 0;
    int lo = 0, hi = -1; /* window [lo, hi] */
    for (int t = 0; t < n; t++) {
        int a = t - h < 0 ? 0 : t - h, b = t + h >= n ? n - 1 : t + h;
        while (hi < b) acc += x[++hi];
        while (lo < a) acc -= x[lo++];
        y[t] = acc / (hi - lo + 1);
    }
}

/* The generator of Beniaguev, Segev & London (2021; shared/spec/neuron-dnn.md), re-implemented: per simulation an
 * interval length (one of 25..450 ms, +-20 ms jitter) and a smoothing SD (one of 25..600 ms, +-20 ms jitter); per
 * interval and tree (basal: soma and basal branches, apical: trunk, obliques and tuft; iaf: one tree) an
 * excitatory drive E ~ U(0, 2) and an inhibitory one I ~ U(max(0, E - 1.5), E + 0.5) (the paper's NMDA ranges,
 * 0..800 and -600..+200 spikes per 100 ms, in units of 400); per interval and compartment (iaf: synapse) a
 * factor U(0.5, 1.5) for each type. The rate of a synapse is its rate (exc_hz or inh_hz) x drive x factor,
 * smoothed along time (a Gaussian of that SD, as three box passes of the same variance), and each 1 ms bin
 * fires with probability rate x Exp(1). */
static const int paper_interval_ms[] = {25, 30, 35, 40, 45, 55, 60, 65, 70, 75, 80, 85, 90, 100, 150, 200, 300, 450};
static const int paper_sigma_ms[] = {25, 30, 35, 40, 50, 60, 80, 100, 150, 200, 300, 400, 500, 600};

static int make_inputs_paper(const cell_model *m, int ms, double exc_hz, double inh_hz, nd_rng *r,
                             spike_list *out) {
    const int iaf = m->cell.n == 0, units = iaf ? m->syn : m->cell.n;
    int len = paper_interval_ms[nd_rng_below(r, sizeof paper_interval_ms / sizeof(int))] +
              (int)(40 * nd_rng_uniform(r) - 20);
    int sigma = paper_sigma_ms[nd_rng_below(r, sizeof paper_sigma_ms / sizeof(int))] +
                (int)(40 * nd_rng_uniform(r) - 20);
    if (len < 5) len = 5;
    if (sigma < 5) sigma = 5;
    int w = (int)lround(sqrt(4.0 * sigma * sigma + 1)), h = (w - 1) / 2;
    /* rates [2 types][units][ms] */
    double *rate = malloc(sizeof(double) * 2 * (size_t)units * ms), *tmp = malloc(sizeof(double) * ms);
    if (!rate || !tmp) { free(rate); free(tmp); return -1; }
    for (int t0 = 0; t0 < ms; t0 += len) {
        double e[2], i[2];
        for (int g = 0; g < 2; g++) {
            e[g] = 2 * nd_rng_uniform(r);
            double lo = e[g] - 1.5 < 0 ? 0 : e[g] - 1.5;
            i[g] = lo + (e[g] + 0.5 - lo) * nd_rng_uniform(r);
        }
        for (int u = 0; u < units; u++) {
            int g = iaf ? 0 : (m->cell.branch[u] >= 1 && m->cell.branch[u] <= 5);
            double fe = (0.5 + nd_rng_uniform(r)) * e[g], fi = (0.5 + nd_rng_uniform(r)) * i[g];
            for (int t = t0; t < t0 + len && t < ms; t++) {
                rate[(size_t)u * ms + t] = fe;
                rate[((size_t)units + u) * ms + t] = fi;
            }
        }
    }
    for (int k = 0; k < 2 * units; k++) {
        double *x = rate + (size_t)k * ms;
        box_pass(tmp, x, ms, h);
        box_pass(x, tmp, ms, h);
        box_pass(tmp, x, ms, h);
        memcpy(x, tmp, sizeof(double) * ms);
    }
    int rc = 0;
    for (int t = 0; t < ms && !rc; t++)
        for (int s = 0; s < m->syn && !rc; s++) {
            int u = iaf ? s : m->comp[s];
            double p = m->type[s] ? inh_hz * rate[((size_t)units + u) * ms + t] : exc_hz * rate[(size_t)u * ms + t];
            p *= 1e-3 * -log(1 - nd_rng_uniform(r)); /* the Exp(1) jitter */
            if (nd_rng_uniform(r) < p) rc = list_push(out, t, s);
        }
    free(rate);
    free(tmp);
    return rc;
}

static int make_inputs(const cell_model *m, nd_neuron_inputs inputs, int ms, double exc_hz, double inh_hz, nd_rng *r,
                       spike_list *out) {
    return inputs == ND_INPUTS_PAPER ? make_inputs_paper(m, ms, exc_hz, inh_hz, r, out)
                                     : make_inputs_shared(m, ms, exc_hz, inh_hz, r, out);
}

/* ---------- one simulation ---------- */

/* integrate-and-fire (spec): V = rest + gain * I + C, I = exponentially filtered signed input, C the reset
 * correction (decaying with the same kernel); a spike at t when V(t) > threshold sets V(t + 1) to rest. */
static void run_iaf(const cell_model *m, int ms, const spike_list *in, float *v_out, unsigned char *sp_out) {
    const double decay = exp(-1.0 / IAF_TAU);
    double I = 0, C = 0;
    size_t e = 0;
    int spiked = 0;
    for (int t = 0; t < ms; t++) {
        I *= decay;
        C *= decay;
        for (; e < in->n && in->t[e] == t; e++) I += m->type[in->s[e]] ? -1.0 : 1.0;
        double v = IAF_REST + IAF_GAIN * I + C;
        if (spiked) { C -= v - IAF_REST; v = IAF_REST; }
        spiked = v > IAF_THRESH && t + 1 < ms;
        v_out[t] = (float)v;
        sp_out[t] = (unsigned char)spiked;
    }
}

static nd_status run_branched(const cell_model *m, int nmda, double dt, int ms, const spike_list *in, float *v_out,
                              unsigned char *sp_out, nd_error *err) {
    nd_cable_sim s;
    nd_status st = nd_cable_sim_create(&s, &m->cell, dt, err);
    if (st) return st;
    const int sub = (int)lround(1.0 / dt);
    size_t e = 0;
    int above = 0;
    for (int t = 0; t < ms; t++) {
        for (; e < in->n && in->t[e] == t; e++) {
            int syn = in->s[e], c = m->comp[syn];
            if (m->type[syn]) nd_cable_sim_event(&s, ND_SYN_GABA, c, W_GABA);
            else {
                nd_cable_sim_event(&s, ND_SYN_AMPA, c, W_AMPA);
                if (nmda) nd_cable_sim_event(&s, ND_SYN_NMDA, c, W_NMDA);
            }
        }
        int spike = 0;
        for (int k = 0; k < sub; k++) {
            nd_cable_sim_step(&s);
            if (s.v[0] > SPIKE_THRESH_MV && !above) spike = 1;
            above = s.v[0] > SPIKE_THRESH_MV;
        }
        v_out[t] = (float)s.v[0];
        sp_out[t] = (unsigned char)spike;
    }
    nd_cable_sim_free(&s);
    return ND_OK;
}

static nd_status simulate_one(const cell_model *m, nd_neuron_kind kind, nd_neuron_inputs inputs, double dt, int ms,
                              double exc_hz, double inh_hz, nd_rng *r, spike_list *in, float *v, unsigned char *sp,
                              nd_error *err) {
    in->n = 0;
    if (make_inputs(m, inputs, ms, exc_hz, inh_hz, r, in)) return nd_fail(err, ND_ERR_NOMEM, "neuron simulate: out of memory");
    if (kind == ND_NEURON_IAF) {
        run_iaf(m, ms, in, v, sp);
        return ND_OK;
    }
    return run_branched(m, kind == ND_NEURON_BRANCHED, dt, ms, in, v, sp, err);
}

/* ---------- calibration ---------- */

/* the output rate (Hz, first 500 ms left out) of `n` simulations of `ms` at the given input rates */
static nd_status output_rate(const cell_model *m, const nd_neuron_sim_opts *o, int n, int ms, double exc_hz,
                             double inh_hz, double *hz, nd_error *err) {
    long spikes = 0;
    nd_status st = ND_OK;
    #pragma omp parallel for schedule(dynamic, 1) num_threads(o->threads) reduction(+ : spikes)
    for (int k = 0; k < n; k++) {
        spike_list in = {0};
        float *v = malloc(sizeof(float) * ms);
        unsigned char *sp = malloc((size_t)ms);
        nd_rng r;
        nd_rng_stream(&r, o->seed, STREAM_CALIBRATE, (uint64_t)k);
        nd_error e;
        nd_status s1 = v && sp ? simulate_one(m, o->kind, o->inputs, o->dt_ms, ms, exc_hz, inh_hz, &r, &in, v, sp, &e)
                               : nd_fail(&e, ND_ERR_NOMEM, "neuron simulate: out of memory");
        if (!s1)
            for (int t = 500; t < ms; t++) spikes += sp[t];
        #pragma omp critical
        if (s1 && !st) { st = s1; *err = e; }
        free(v); free(sp); free(in.t); free(in.s);
    }
    if (st) return st;
    *hz = spikes / (n * (ms - 500) * 1e-3);
    return ND_OK;
}

/* bisection on log(exc rate) for target_hz (inhibition at inh_ratio x excitation) */
static nd_status calibrate(const cell_model *m, const nd_neuron_sim_opts *o, double ratio, double *exc_hz,
                           nd_error *err) {
    double lo = log(0.05), hi = log(200.0), hz = 0;
    for (int it = 0; it < 10; it++) { /* the bracket spans 8.4 e-folds: 10 halvings leave under 1% */
        double mid = 0.5 * (lo + hi);
        nd_status st = output_rate(m, o, 4, 3000, exp(mid), exp(mid) * ratio, &hz, err);
        if (st) return st;
        if (hz < o->target_hz) lo = mid;
        else hi = mid;
    }
    *exc_hz = exp(0.5 * (lo + hi));
    if (o->progress)
        fprintf(o->progress, "calibrated: %.3f Hz per excitatory synapse gives %.2f Hz output (target %.2f)\n",
                *exc_hz, hz, o->target_hz);
    return ND_OK;
}

/* ---------- driver ---------- */

void nd_neuron_sims_free(nd_neuron_sims *s) {
    free(s->soma_v); free(s->spikes); free(s->in_time_ms); free(s->in_syn); free(s->in_sim);
    free(s->syn_type); free(s->syn_section); free(s->syn_branch); free(s->syn_distance_um);
    memset(s, 0, sizeof *s);
}

nd_status nd_neuron_simulate(const nd_neuron_sim_opts *o, nd_neuron_sims *out, nd_error *err) {
    memset(out, 0, sizeof *out);
    if (o->kind < ND_NEURON_IAF || o->kind > ND_NEURON_BRANCHED_AMPA)
        return nd_fail(err, ND_ERR_ARG, "neuron simulate: unknown cell kind %d", (int)o->kind);
    if (o->sims < 1 || o->sims > 10000000) return nd_fail(err, ND_ERR_ARG, "neuron simulate: --sims %d must be >= 1", o->sims);
    if (!(o->seconds >= 0.6 && o->seconds <= 3600))
        return nd_fail(err, ND_ERR_ARG, "neuron simulate: --seconds %g must be in 0.6..3600 (the first 0.5 s are "
                       "discarded by the metrics)", o->seconds);
    if (o->kind != ND_NEURON_IAF && !(o->dt_ms > 0 && o->dt_ms <= 0.1 && fabs(1 / o->dt_ms - lround(1 / o->dt_ms)) < 1e-9))
        return nd_fail(err, ND_ERR_ARG, "neuron simulate: dt %g ms must divide 1 ms and be <= 0.1 ms", o->dt_ms);
    if (o->threads < 1) return nd_fail(err, ND_ERR_ARG, "neuron simulate: threads must be >= 1");
    cell_model m = {0};
    nd_status st = o->kind == ND_NEURON_IAF ? build_iaf(&m, err) : build_branched(&m, err);
    if (st) { cell_model_free(&m); return st; }
    double ratio = o->inh_ratio > 0 ? o->inh_ratio : (o->kind == ND_NEURON_IAF ? 1.0 : 1.5);
    double exc = o->exc_rate_hz;
    if (exc <= 0 && (st = calibrate(&m, o, ratio, &exc, err))) { cell_model_free(&m); return st; }
    double inh = o->inh_rate_hz > 0 ? o->inh_rate_hz : exc * ratio;
    const int ms = (int)lround(o->seconds * 1000), S = o->sims;
    out->kind = o->kind;
    out->inputs = o->inputs;
    out->sims = S;
    out->ms = ms;
    out->syn = m.syn;
    out->exc_rate_hz = exc;
    out->inh_rate_hz = inh;
    out->dt_ms = o->kind == ND_NEURON_IAF ? 1.0 : o->dt_ms;
    out->seed = o->seed;
    out->soma_v = malloc(sizeof(float) * (size_t)S * ms);
    out->spikes = malloc((size_t)S * ms);
    spike_list *lists = calloc((size_t)S, sizeof *lists);
    if (!out->soma_v || !out->spikes || !lists) {
        free(lists); cell_model_free(&m); nd_neuron_sims_free(out);
        return nd_fail(err, ND_ERR_NOMEM, "neuron simulate: out of memory for %d x %d ms", S, ms);
    }
    int done = 0;
    #pragma omp parallel for schedule(dynamic, 1) num_threads(o->threads)
    for (int k = 0; k < S; k++) {
        if (st) continue;
        nd_rng r;
        nd_rng_stream(&r, o->seed, STREAM_INPUT, (uint64_t)k);
        nd_error e;
        nd_status s1 = simulate_one(&m, o->kind, o->inputs, o->dt_ms, ms, exc, inh, &r, &lists[k], out->soma_v + (size_t)k * ms,
                                    out->spikes + (size_t)k * ms, &e);
        #pragma omp critical
        {
            if (s1 && !st) { st = s1; *err = e; }
            done++;
            if (o->progress && (done == S || done % 10 == 0))
                fprintf(o->progress, "simulated %d / %d\n", done, S), fflush(o->progress);
        }
    }
    size_t total = 0;
    for (int k = 0; k < S; k++) total += lists[k].n;
    if (!st) {
        out->n_in = total;
        out->in_time_ms = malloc(sizeof(int) * (total ? total : 1));
        out->in_syn = malloc(sizeof(int) * (total ? total : 1));
        out->in_sim = malloc(sizeof(int) * (total ? total : 1));
        out->syn_type = malloc((size_t)m.syn);
        out->syn_section = malloc(sizeof(int) * m.syn);
        out->syn_branch = malloc(sizeof(int) * m.syn);
        out->syn_distance_um = malloc(sizeof(float) * m.syn);
        if (!out->in_time_ms || !out->in_syn || !out->in_sim || !out->syn_type || !out->syn_section ||
            !out->syn_branch || !out->syn_distance_um)
            st = nd_fail(err, ND_ERR_NOMEM, "neuron simulate: out of memory for %zu input spikes", total);
    }
    if (!st) {
        size_t j = 0;
        for (int k = 0; k < S; k++) {
            memcpy(out->in_time_ms + j, lists[k].t, sizeof(int) * lists[k].n);
            memcpy(out->in_syn + j, lists[k].s, sizeof(int) * lists[k].n);
            for (size_t i = 0; i < lists[k].n; i++) out->in_sim[j + i] = k;
            j += lists[k].n;
        }
        memcpy(out->syn_type, m.type, (size_t)m.syn);
        memcpy(out->syn_section, m.comp, sizeof(int) * m.syn);
        memcpy(out->syn_branch, m.branch, sizeof(int) * m.syn);
        memcpy(out->syn_distance_um, m.dist, sizeof(float) * m.syn);
        long spikes = 0;
        for (size_t i = 0; i < (size_t)S * ms; i++) spikes += out->spikes[i];
        out->mean_rate_hz = spikes / (S * o->seconds);
    }
    for (int k = 0; k < S; k++) { free(lists[k].t); free(lists[k].s); }
    free(lists);
    cell_model_free(&m);
    if (st) nd_neuron_sims_free(out);
    return st;
}

nd_status nd_neuron_sims_write(const char *path, const nd_neuron_sims *s, nd_error *err) {
    nd_h5file *f;
    nd_status st = nd_h5_create(&f, path, err);
    if (st) return st;
    size_t d2[2] = {(size_t)s->sims, (size_t)s->ms}, n1 = s->n_in, ns = (size_t)s->syn;
    if (!st) st = nd_h5_write_float(f, "soma_v", s->soma_v, 2, d2, err);
    if (!st) st = nd_h5_write_u8(f, "spikes", s->spikes, 2, d2, err);
    if (!st) st = nd_h5_write_int(f, "spike_times_ms", s->in_time_ms, 1, &n1, err);
    if (!st) st = nd_h5_write_int(f, "spike_synapse", s->in_syn, 1, &n1, err);
    if (!st) st = nd_h5_write_int(f, "spike_sim", s->in_sim, 1, &n1, err);
    if (!st) st = nd_h5_write_u8(f, "syn_type", s->syn_type, 1, &ns, err);
    if (!st) st = nd_h5_write_int(f, "syn_section", s->syn_section, 1, &ns, err);
    if (!st) st = nd_h5_write_int(f, "syn_branch", s->syn_branch, 1, &ns, err);
    if (!st) st = nd_h5_write_float(f, "syn_distance_um", s->syn_distance_um, 1, &ns, err);
    if (!st) st = nd_h5_write_attr_string(f, "/", "cell", nd_neuron_kind_name(s->kind), err);
    if (!st) st = nd_h5_write_attr_string(f, "/", "inputs", nd_neuron_inputs_name(s->inputs), err);
    if (!st) st = nd_h5_write_attr_double(f, "/", "dt", s->dt_ms, err);
    if (!st) st = nd_h5_write_attr_double(f, "/", "bin_ms", 1.0, err);
    if (!st) st = nd_h5_write_attr_int(f, "/", "seed", (long long)s->seed, err);
    if (!st) st = nd_h5_write_attr_int(f, "/", "sims", s->sims, err);
    if (!st) st = nd_h5_write_attr_int(f, "/", "ms_per_sim", s->ms, err);
    if (!st) st = nd_h5_write_attr_int(f, "/", "synapses", s->syn, err);
    if (!st) st = nd_h5_write_attr_double(f, "/", "exc_rate_hz", s->exc_rate_hz, err);
    if (!st) st = nd_h5_write_attr_double(f, "/", "inh_rate_hz", s->inh_rate_hz, err);
    if (!st) st = nd_h5_write_attr_double(f, "/", "output_rate_hz", s->mean_rate_hz, err);
    if (!st) st = nd_h5_write_attr_string(f, "/", "simulator",
                                          s->kind == ND_NEURON_IAF ? "neurodyn iaf (1 ms, spec kernel model)"
                                                                   : "neurodyn cable (backward Euler, Hines)", err);
    if (!st) st = nd_h5_write_attr_string(f, "/", "neurodyn_version", "0.1.0", err);
    if (!st) st = nd_h5_write_attr_string(f, "/", "syn_type_values", "0 = excitatory, 1 = inhibitory", err);
    nd_error ignored;
    nd_status cs = nd_h5_close(f, st == ND_OK, st ? &ignored : err);
    return st ? st : cs;
}
