#include "cable.h"
#include "../core/mem.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define PI 3.14159265358979323846

nd_status nd_cell_alloc(nd_cell *c, int n, nd_error *err) {
    memset(c, 0, sizeof *c);
    if (n < 1 || n > 1000000) return nd_fail(err, ND_ERR_ARG, "cell: %d compartments (need 1..1000000)", n);
    c->n = n;
    c->parent = calloc((size_t)n, sizeof *c->parent);
    c->branch = calloc((size_t)n, sizeof *c->branch);
    c->length_um = calloc((size_t)n, sizeof(double));
    c->diam_um = calloc((size_t)n, sizeof(double));
    c->dist_um = calloc((size_t)n, sizeof(double));
    if (!c->parent || !c->branch || !c->length_um || !c->diam_um || !c->dist_um) {
        nd_cell_free(c);
        return nd_fail(err, ND_ERR_NOMEM, "cell: out of memory");
    }
    c->parent[0] = -1;
    c->Rm = 20000; c->Ra = 150; c->Cm = 1; c->E_L = -70;
    c->soma_gna = 0.12; c->soma_gk = 0.036; c->E_na = 50; c->E_k = -77;
    const double tr[ND_SYN_TYPES] = {0.3, 2.0, 0.2}, td[ND_SYN_TYPES] = {3.0, 70.0, 8.0}, E[ND_SYN_TYPES] = {0, 0, -80};
    for (int k = 0; k < ND_SYN_TYPES; k++) { c->tau_rise[k] = tr[k]; c->tau_decay[k] = td[k]; c->E_syn[k] = E[k]; }
    c->mg_mM = 1.0;
    return ND_OK;
}

void nd_cell_free(nd_cell *c) {
    free(c->parent); free(c->branch); free(c->length_um); free(c->diam_um); free(c->dist_um);
    memset(c, 0, sizeof *c);
}

nd_status nd_cell_check(nd_cell *c, nd_error *err) {
    if (c->n < 1 || c->parent[0] != -1) return nd_fail(err, ND_ERR_ARG, "cell: compartment 0 must be the soma (parent -1)");
    for (int i = 0; i < c->n; i++) {
        if (i > 0 && (c->parent[i] < 0 || c->parent[i] >= i))
            return nd_fail(err, ND_ERR_ARG, "cell: compartment %d has parent %d (parents must come first)", i, c->parent[i]);
        if (!(c->length_um[i] > 0) || !(c->diam_um[i] > 0))
            return nd_fail(err, ND_ERR_ARG, "cell: compartment %d has length %g um and diameter %g um", i,
                           c->length_um[i], c->diam_um[i]);
    }
    if (!(c->Rm > 0 && c->Ra > 0 && c->Cm > 0)) return nd_fail(err, ND_ERR_ARG, "cell: Rm, Ra and Cm must be > 0");
    for (int k = 0; k < ND_SYN_TYPES; k++)
        if (!(c->tau_rise[k] > 0 && c->tau_decay[k] > c->tau_rise[k]))
            return nd_fail(err, ND_ERR_ARG, "cell: synapse type %d needs 0 < tau_rise < tau_decay", k);
    c->dist_um[0] = 0;
    for (int i = 1; i < c->n; i++) {
        int p = c->parent[i];
        /* the soma's children start at its surface; other compartments continue their parent's cylinder */
        double from_parent = p == 0 ? c->length_um[0] / 2 : c->length_um[p] / 2;
        c->dist_um[i] = c->dist_um[p] + from_parent + c->length_um[i] / 2;
    }
    return ND_OK;
}

/* half-cylinder axial resistance, ohm */
static double half_axial_ohm(double Ra, double L_um, double d_um) {
    double r_cm = d_um * 0.5e-4;
    return Ra * (L_um * 0.5e-4) / (PI * r_cm * r_cm);
}

nd_status nd_cable_consts_make(const nd_cell *c, nd_cable_consts *k, nd_error *err) {
    memset(k, 0, sizeof *k);
    int n = c->n;
    k->n = n;
    k->cap_nF = calloc((size_t)n, sizeof(double));
    k->gleak_uS = calloc((size_t)n, sizeof(double));
    k->gaxial_uS = calloc((size_t)n, sizeof(double));
    if (!k->cap_nF || !k->gleak_uS || !k->gaxial_uS) {
        nd_cable_consts_free(k);
        return nd_fail(err, ND_ERR_NOMEM, "cell: out of memory");
    }
    for (int i = 0; i < n; i++) {
        double area_cm2 = PI * c->diam_um[i] * c->length_um[i] * 1e-8;
        k->cap_nF[i] = c->Cm * area_cm2 * 1e3;
        k->gleak_uS[i] = area_cm2 / c->Rm * 1e6;
        if (i == 0) {
            k->gna_uS = c->soma_gna * area_cm2 * 1e6;
            k->gk_uS = c->soma_gk * area_cm2 * 1e6;
        } else {
            int p = c->parent[i];
            double R = half_axial_ohm(c->Ra, c->length_um[i], c->diam_um[i]) +
                       half_axial_ohm(c->Ra, c->length_um[p], c->diam_um[p]);
            k->gaxial_uS[i] = 1e6 / R;
        }
    }
    return ND_OK;
}

void nd_cable_consts_free(nd_cable_consts *k) {
    free(k->cap_nF); free(k->gleak_uS); free(k->gaxial_uS);
    memset(k, 0, sizeof *k);
}

void nd_hines_solve(int n, const int *parent, double *d, const double *a, double *b) {
    for (int i = n - 1; i > 0; i--) { /* eliminate each compartment into its parent, leaves first */
        int p = parent[i];
        double f = a[i] / d[i];
        d[p] -= f * a[i];
        b[p] -= f * b[i];
    }
    b[0] /= d[0];
    for (int i = 1; i < n; i++) b[i] = (b[i] - a[i] * b[parent[i]]) / d[i];
}

double nd_nmda_mg_block(double v, double mg) { return 1.0 / (1.0 + exp(-0.062 * v) * mg / 3.57); }

double nd_syn_peak_factor(double tr, double td) {
    double tp = tr * td / (td - tr) * log(td / tr);
    return 1.0 / (exp(-tp / td) - exp(-tp / tr));
}

/* x / (1 - exp(-x / s)) with its limit s at x = 0 */
static double vtrap(double x, double s) {
    return fabs(x / s) < 1e-6 ? s * (1 + x / s / 2) : x / (1 - exp(-x / s));
}

void nd_hh_rates(double v, double *am, double *bm, double *ah, double *bh, double *an, double *bn) {
    /* Hodgkin & Huxley (1952), membrane potential in absolute mV with rest near -65 mV */
    *am = 0.1 * vtrap(v + 40, 10);
    *bm = 4 * exp(-(v + 65) / 18);
    *ah = 0.07 * exp(-(v + 65) / 20);
    *bh = 1 / (1 + exp(-(v + 35) / 10));
    *an = 0.01 * vtrap(v + 55, 10);
    *bn = 0.125 * exp(-(v + 65) / 80);
}

nd_status nd_cable_sim_create(nd_cable_sim *s, const nd_cell *c, double dt, nd_error *err) {
    memset(s, 0, sizeof *s);
    if (!(dt > 0 && dt <= 1)) return nd_fail(err, ND_ERR_ARG, "cell simulation: dt %g ms must be in (0, 1]", dt);
    nd_status st = nd_cable_consts_make(c, &s->k, err);
    if (st) return st;
    int n = c->n;
    s->cell = c;
    s->dt = dt;
    s->v = calloc((size_t)n, sizeof(double));
    s->sa = calloc((size_t)n * ND_SYN_TYPES, sizeof(double));
    s->sb = calloc((size_t)n * ND_SYN_TYPES, sizeof(double));
    s->d = calloc((size_t)n, sizeof(double));
    s->a = calloc((size_t)n, sizeof(double));
    s->b = calloc((size_t)n, sizeof(double));
    s->inject_nA = calloc((size_t)n, sizeof(double));
    if (!s->v || !s->sa || !s->sb || !s->d || !s->a || !s->b || !s->inject_nA) {
        nd_cable_sim_free(s);
        return nd_fail(err, ND_ERR_NOMEM, "cell simulation: out of memory");
    }
    for (int t = 0; t < ND_SYN_TYPES; t++) {
        s->fa[t] = exp(-dt / c->tau_rise[t]);
        s->fb[t] = exp(-dt / c->tau_decay[t]);
        s->norm[t] = nd_syn_peak_factor(c->tau_rise[t], c->tau_decay[t]);
    }
    nd_cable_sim_reset(s, c->E_L);
    return ND_OK;
}

void nd_cable_sim_free(nd_cable_sim *s) {
    nd_cable_consts_free(&s->k);
    free(s->v); free(s->sa); free(s->sb); free(s->d); free(s->a); free(s->b); free(s->inject_nA);
    memset(s, 0, sizeof *s);
}

void nd_cable_sim_reset(nd_cable_sim *s, double v0) {
    int n = s->cell->n;
    for (int i = 0; i < n; i++) s->v[i] = v0;
    memset(s->sa, 0, sizeof(double) * n * ND_SYN_TYPES);
    memset(s->sb, 0, sizeof(double) * n * ND_SYN_TYPES);
    double am, bm, ah, bh, an, bn;
    nd_hh_rates(v0, &am, &bm, &ah, &bh, &an, &bn);
    s->m = am / (am + bm);
    s->h = ah / (ah + bh);
    s->nk = an / (an + bn);
}

void nd_cable_sim_event(nd_cable_sim *s, int type, int comp, double w_nS) {
    size_t j = (size_t)type * s->cell->n + comp;
    double x = w_nS * 1e-3 * s->norm[type];
    s->sa[j] += x;
    s->sb[j] += x;
}

/* gate x toward its steady state over dt (exponential Euler) */
static double gate(double x, double alpha, double beta, double dt) {
    double inf = alpha / (alpha + beta), tau = 1 / (alpha + beta);
    return inf + (x - inf) * exp(-dt / tau);
}

void nd_cable_sim_step(nd_cable_sim *s) {
    const nd_cell *c = s->cell;
    const nd_cable_consts *k = &s->k;
    const int n = c->n;
    const double dt = s->dt;
    double *v = s->v, *d = s->d, *a = s->a, *b = s->b;
    const double *gA = s->sb, *rA = s->sa;
    for (int i = 0; i < n; i++) {
        double cdt = k->cap_nF[i] / dt, g = k->gleak_uS[i], gE = k->gleak_uS[i] * c->E_L;
        for (int t = 0; t < ND_SYN_TYPES; t++) {
            size_t j = (size_t)t * n + i;
            double gs = gA[j] - rA[j];
            if (gs == 0) continue;
            if (t == ND_SYN_NMDA) gs *= nd_nmda_mg_block(v[i], c->mg_mM);
            g += gs;
            gE += gs * c->E_syn[t];
        }
        d[i] = cdt + g;
        b[i] = cdt * v[i] + gE + s->inject_nA[i];
        a[i] = -k->gaxial_uS[i];
    }
    for (int i = 1; i < n; i++) { /* axial coupling: both ends of each parent-child link */
        d[i] += k->gaxial_uS[i];
        d[c->parent[i]] += k->gaxial_uS[i];
    }
    if (k->gna_uS > 0 || k->gk_uS > 0) { /* soma channels at the gates of the start of the step */
        double am, bm, ah, bh, an, bn;
        nd_hh_rates(v[0], &am, &bm, &ah, &bh, &an, &bn);
        s->m = gate(s->m, am, bm, dt);
        s->h = gate(s->h, ah, bh, dt);
        s->nk = gate(s->nk, an, bn, dt);
        double gna = k->gna_uS * s->m * s->m * s->m * s->h, n2 = s->nk * s->nk, gk = k->gk_uS * n2 * n2;
        d[0] += gna + gk;
        b[0] += gna * c->E_na + gk * c->E_k;
    }
    nd_hines_solve(n, c->parent, d, a, b);
    memcpy(v, b, sizeof(double) * n);
    /* decay; states under 1e-12 uS (a millionth of a single synapse's peak) end at exactly zero, so they never
     * reach the subnormal range, where arithmetic is ~100x slower */
    for (int t = 0; t < ND_SYN_TYPES; t++) {
        double fa = s->fa[t], fb = s->fb[t];
        double *sa = s->sa + (size_t)t * n, *sb = s->sb + (size_t)t * n;
        for (int i = 0; i < n; i++) {
            double x = sa[i] * fa, y = sb[i] * fb;
            sa[i] = x < 1e-12 ? 0 : x;
            sb[i] = y < 1e-12 ? 0 : y;
        }
    }
}
