/* The compartmental simulator against exact and analytic references: the Hines tree solve against a dense
 * LAPACK solve, one passive compartment against its exponential charging curve (and backward Euler's first-
 * order convergence), a finely divided passive cable against the sealed-end cable equation, the synaptic
 * kinetics' peak, and the Hodgkin-Huxley soma's firing. */
#include "test.h"
#include "../src/models/cable.h"
#include "../src/core/rng.h"
#include <lapacke.h>

static void test_hines_vs_dense(nd_test_ctx *ctx) {
    const int n = 40;
    int parent[40];
    double d[40], a[40], b[40], A[40 * 40], x[40];
    nd_rng r;
    nd_rng_seed(&r, 3);
    memset(A, 0, sizeof A);
    parent[0] = -1;
    for (int i = 1; i < n; i++) parent[i] = (int)(nd_rng_uniform(&r) * i);
    for (int i = 0; i < n; i++) { d[i] = 1 + nd_rng_uniform(&r); b[i] = nd_rng_normal(&r); a[i] = 0; }
    for (int i = 1; i < n; i++) {
        a[i] = -0.5 * nd_rng_uniform(&r);
        d[i] += -a[i];
        d[parent[i]] += -a[i]; /* diagonally dominant, as a cable's matrix */
    }
    for (int i = 0; i < n; i++) {
        A[i * n + i] = d[i];
        x[i] = b[i];
        if (i) { A[i * n + parent[i]] = a[i]; A[parent[i] * n + i] = a[i]; }
    }
    lapack_int ipiv[40];
    CHECK(ctx, LAPACKE_dgesv(LAPACK_ROW_MAJOR, n, 1, A, n, ipiv, x, 1) == 0, "dgesv failed");
    nd_hines_solve(n, parent, d, a, b);
    double e = 0;
    for (int i = 0; i < n; i++) e = fmax(e, fabs(b[i] - x[i]));
    CHECK(ctx, e < 1e-12, "Hines vs LAPACK: max difference %.3g", e);
}

/* a single passive compartment charged by a current step: V = E_L + I R (1 - exp(-t / tau)) */
static double passive_error(double dt, double *v_end) {
    nd_cell c;
    nd_error err;
    nd_cell_alloc(&c, 1, &err);
    c.length_um[0] = c.diam_um[0] = 20;
    c.soma_gna = c.soma_gk = 0;
    nd_cell_check(&c, &err);
    nd_cable_sim s;
    nd_cable_sim_create(&s, &c, dt, &err);
    s.inject_nA[0] = 0.05;
    double R_MOhm = 1 / s.k.gleak_uS[0], tau = s.k.cap_nF[0] / s.k.gleak_uS[0], e = 0;
    int steps = (int)lround(60 / dt);
    for (int k = 1; k <= steps; k++) {
        nd_cable_sim_step(&s);
        double t = k * dt, exact = c.E_L + 0.05 * R_MOhm * (1 - exp(-t / tau));
        e = fmax(e, fabs(s.v[0] - exact));
    }
    *v_end = s.v[0];
    nd_cable_sim_free(&s);
    nd_cell_free(&c);
    return e;
}

static void test_single_compartment(nd_test_ctx *ctx) {
    double v1, v2;
    double e1 = passive_error(0.05, &v1), e2 = passive_error(0.025, &v2);
    /* tau = Rm Cm = 20 ms; amplitude I R = 0.05 nA x 796 MOhm = 39.8 mV */
    CHECK(ctx, e1 < 0.05, "max error %.4f mV at dt 0.05", e1);
    CHECK(ctx, e1 / e2 > 1.8 && e1 / e2 < 2.2, "backward Euler is first order: errors %.5f, %.5f", e1, e2);
    CHECK(ctx, fabs(v2 - (-70 + 0.05 / (3.14159265358979 * 20 * 20 * 1e-8 / 20000 * 1e6) * (1 - exp(-3.0))))
                   < 0.05, "v(60 ms) %.3f", v2);
}

/* a uniform sealed-end cable of length L: input resistance R_inf coth(L / lambda) and attenuation
 * 1 / cosh(L / lambda) to the far end (the first compartment stands in for x = 0) */
static void test_passive_cable(nd_test_ctx *ctx) {
    const int n = 400;
    const double diam = 2, Lc = 1000; /* um */
    nd_cell c;
    nd_error err;
    CHECK(ctx, nd_cell_alloc(&c, n, &err) == ND_OK, "%s", err.msg);
    c.soma_gna = c.soma_gk = 0;
    for (int i = 0; i < n; i++) { c.parent[i] = i - 1; c.length_um[i] = Lc / n; c.diam_um[i] = diam; }
    CHECK(ctx, nd_cell_check(&c, &err) == ND_OK, "%s", err.msg);
    nd_cable_sim s;
    CHECK(ctx, nd_cable_sim_create(&s, &c, 0.5, &err) == ND_OK, "%s", err.msg);
    const double Iinj = 0.1;
    s.inject_nA[0] = Iinj;
    for (int k = 0; k < 2000; k++) nd_cable_sim_step(&s); /* 1 s = 50 tau: steady state */
    double a_cm = diam / 2 * 1e-4, lambda_cm = sqrt(c.Rm * a_cm / (2 * c.Ra));
    double Rinf_MOhm = c.Ra * lambda_cm / (3.14159265358979 * a_cm * a_cm) * 1e-6, Lr = Lc * 1e-4 / lambda_cm;
    double Rin = (s.v[0] - c.E_L) / Iinj, Rin_exact = Rinf_MOhm / tanh(Lr);
    double att = (s.v[n - 1] - c.E_L) / (s.v[0] - c.E_L), att_exact = 1 / cosh(Lr);
    printf("    cable L/lambda %.3f: input resistance %.2f MOhm (cable equation %.2f), end/start %.4f (%.4f)\n", Lr,
           Rin, Rin_exact, att, att_exact);
    CHECK(ctx, fabs(Rin / Rin_exact - 1) < 0.01, "input resistance %.3f vs %.3f", Rin, Rin_exact);
    CHECK(ctx, fabs(att / att_exact - 1) < 0.01, "attenuation %.4f vs %.4f", att, att_exact);
    nd_cable_sim_free(&s);
    nd_cell_free(&c);
}

/* one event of weight w: the conductance peaks at w at t_peak = tr td / (td - tr) ln(td / tr) */
static void test_synapse_peak(nd_test_ctx *ctx) {
    nd_cell c;
    nd_error err;
    nd_cell_alloc(&c, 1, &err);
    c.length_um[0] = c.diam_um[0] = 20;
    nd_cell_check(&c, &err);
    nd_cable_sim s;
    nd_cable_sim_create(&s, &c, 0.01, &err);
    for (int t = 0; t < ND_SYN_TYPES; t++) {
        nd_cable_sim_reset(&s, -70);
        nd_cable_sim_event(&s, t, 0, 2.0);
        double best = 0, tbest = 0;
        for (int k = 1; k < 20000; k++) {
            nd_cable_sim_step(&s);
            double g = (s.sb[t] - s.sa[t]) * 1e3; /* nS */
            if (g > best) { best = g; tbest = k * 0.01; }
        }
        double tr = c.tau_rise[t], td = c.tau_decay[t], tp = tr * td / (td - tr) * log(td / tr);
        CHECK(ctx, fabs(best - 2.0) < 2e-3 && fabs(tbest - tp) < 0.02, "type %d: peak %.4f nS at %.3f ms (%.3f)", t,
              best, tbest, tp);
    }
    nd_cable_sim_free(&s);
    nd_cell_free(&c);
}

/* the NMDA block opens with depolarisation: under 3% at -80 mV, about half at -20 mV, over 80% at +20 mV */
static void test_mg_block(nd_test_ctx *ctx) {
    double b80 = nd_nmda_mg_block(-80, 1), b20 = nd_nmda_mg_block(-20, 1), bp = nd_nmda_mg_block(20, 1);
    CHECK(ctx, b80 < 0.03 && b20 > 0.4 && b20 < 0.6 && bp > 0.8, "block %.4f %.4f %.4f", b80, b20, bp);
    CHECK(ctx, nd_nmda_mg_block(-40, 0) == 1.0, "no magnesium, no block");
}

/* The HH soma rests without input and fires repetitively under a suprathreshold step. */
static int count_spikes(double inject_nA, double *v_rest) {
    nd_cell c;
    nd_error err;
    nd_cell_alloc(&c, 1, &err);
    c.length_um[0] = c.diam_um[0] = 20;
    nd_cell_check(&c, &err);
    nd_cable_sim s;
    nd_cable_sim_create(&s, &c, 0.025, &err);
    for (int k = 0; k < 8000; k++) nd_cable_sim_step(&s); /* settle 200 ms */
    *v_rest = s.v[0];
    s.inject_nA[0] = inject_nA;
    int spikes = 0, above = 0;
    for (int k = 0; k < 20000; k++) { /* 500 ms */
        nd_cable_sim_step(&s);
        if (s.v[0] > 0 && !above) spikes++;
        above = s.v[0] > 0;
    }
    nd_cable_sim_free(&s);
    nd_cell_free(&c);
    return spikes;
}

static void test_hh_soma(nd_test_ctx *ctx) {
    double rest;
    int quiet = count_spikes(0, &rest), weak = count_spikes(0.005, &rest), strong = count_spikes(0.2, &rest);
    printf("    HH soma: rest %.2f mV; spikes in 500 ms at 0 / 0.005 / 0.2 nA: %d / %d / %d\n", rest, quiet, weak, strong);
    CHECK(ctx, rest < -60 && rest > -75, "resting potential %.2f mV", rest);
    CHECK(ctx, quiet == 0 && weak == 0, "spikes without (or with a tiny) input: %d, %d", quiet, weak);
    CHECK(ctx, strong >= 10 && strong <= 100, "%d spikes in 500 ms at 0.2 nA", strong);
}

int main(void) {
    RUN(test_hines_vs_dense);
    RUN(test_single_compartment);
    RUN(test_passive_cable);
    RUN(test_synapse_peak);
    RUN(test_mg_block);
    RUN(test_hh_soma);
    TEST_MAIN_END();
}
