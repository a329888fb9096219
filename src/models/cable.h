/* A multi-compartment neuron simulator: a tree of cylindrical compartments with a passive membrane,
 * Hodgkin-Huxley sodium and potassium channels at the soma, and conductance synapses (AMPA, NMDA with the
 * magnesium block, GABA_A) with double-exponential kinetics.
 *
 * Units: mV, ms, um for lengths, nA for currents, uS for conductances, nF for capacitances.
 * Time stepping: the voltage update is backward Euler over the whole tree (the cable's axial coupling and every
 * membrane conductance implicit), solved in O(n) by Hines elimination (compartments ordered so that each one's
 * parent has a smaller index; compartment 0 is the soma). Gates and synaptic conductances are advanced from the
 * voltage at the start of the step (exponential Euler), as NEURON does. */
#ifndef ND_MODELS_CABLE_H
#define ND_MODELS_CABLE_H
#include <stdint.h>
#include "../core/status.h"

enum { ND_SYN_AMPA, ND_SYN_NMDA, ND_SYN_GABA, ND_SYN_TYPES };

typedef struct {
    int n;                   /* compartments; 0 is the soma */
    int *parent;             /* [n]: parent[0] = -1, 0 <= parent[i] < i */
    double *length_um;       /* [n] */
    double *diam_um;         /* [n] */
    double *dist_um;         /* [n] path distance from the soma's centre to the compartment's centre */
    int *branch;             /* [n] branch index (0 = soma) */
    double Rm, Ra, Cm, E_L;  /* ohm cm^2, ohm cm, uF/cm^2, mV */
    double soma_gna, soma_gk, E_na, E_k; /* S/cm^2 at the soma (0: passive), reversal potentials, mV */
    double tau_rise[ND_SYN_TYPES], tau_decay[ND_SYN_TYPES], E_syn[ND_SYN_TYPES]; /* ms, ms, mV */
    double mg_mM;            /* extracellular magnesium for the NMDA block */
} nd_cell;

/* A cell with n compartments, all fields allocated (lengths/diameters zero) and the spec's constants:
 * Rm 20000, Ra 150, Cm 1, E_L -70; HH at the soma (gNa 0.12, gK 0.036, E_na 50, E_k -77);
 * AMPA 0.3/3 ms E 0, NMDA 2/70 ms E 0, GABA_A 0.2/8 ms E -80; [Mg] 1 mM. */
nd_status nd_cell_alloc(nd_cell *c, int n, nd_error *err);
void nd_cell_free(nd_cell *c);
/* check the tree (parents ordered, sizes positive); fills dist_um */
nd_status nd_cell_check(nd_cell *c, nd_error *err);

/* Per-compartment electrical constants (derived from the morphology; see cable.c). */
typedef struct {
    int n;
    double *cap_nF, *gleak_uS, *gaxial_uS; /* gaxial[i]: conductance between i and parent[i] (0 for the soma) */
    double gna_uS, gk_uS;                  /* soma channel densities times the soma's area */
} nd_cable_consts;
nd_status nd_cable_consts_make(const nd_cell *c, nd_cable_consts *k, nd_error *err);
void nd_cable_consts_free(nd_cable_consts *k);

/* Solve the tree system A x = b in place (b becomes x), where A has diagonal d[i] and the symmetric off-diagonal
 * entries A[i][parent[i]] = A[parent[i]][i] = a[i] (a[0] unused). d and b are overwritten. O(n). */
void nd_hines_solve(int n, const int *parent, double *d, const double *a, double *b);

/* NMDA magnesium block: 1 / (1 + exp(-0.062 V) [Mg] / 3.57) (Jahr & Stevens 1990) */
double nd_nmda_mg_block(double v_mV, double mg_mM);
/* peak-normalisation factor of a double exponential exp(-t/td) - exp(-t/tr) (its peak is then 1) */
double nd_syn_peak_factor(double tau_rise, double tau_decay);

/* Simulator state: voltages, soma gates, synaptic states (per compartment and type: the kinetics are linear,
 * so every synapse of a type on a compartment shares one pair of states). */
typedef struct {
    const nd_cell *cell;
    nd_cable_consts k;
    double dt;
    double *v;          /* [n] mV */
    double m, h, nk;    /* soma HH gates */
    double *sa, *sb;    /* [ND_SYN_TYPES][n] rise / decay states (uS) */
    double *d, *a, *b;  /* solver scratch [n] */
    double fa[ND_SYN_TYPES], fb[ND_SYN_TYPES], norm[ND_SYN_TYPES];
    double *inject_nA;  /* [n] constant injected current (tests, calibration); zero by default */
} nd_cable_sim;

nd_status nd_cable_sim_create(nd_cable_sim *s, const nd_cell *c, double dt_ms, nd_error *err);
void nd_cable_sim_free(nd_cable_sim *s);
/* rest: every compartment at v0, gates at their steady state for v0, synapses closed */
void nd_cable_sim_reset(nd_cable_sim *s, double v0);
/* a presynaptic event of the given weight (nS of peak conductance) on compartment i */
void nd_cable_sim_event(nd_cable_sim *s, int type, int comp, double weight_nS);
/* one time step of dt */
void nd_cable_sim_step(nd_cable_sim *s);
/* HH rate functions (per ms), exposed for tests */
void nd_hh_rates(double v, double *am, double *bm, double *ah, double *bh, double *an, double *bn);
#endif
