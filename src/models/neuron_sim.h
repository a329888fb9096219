/* Ground-truth neurons for "a single neuron as a deep network" (shared/spec/neuron-dnn.md): an integrate-and-fire
 * cell, and a branched cell (Hodgkin-Huxley soma + passive dendritic tree with AMPA, NMDA and GABA_A synapses;
 * the -ampa variant has no NMDA), driven by inhomogeneous Poisson inputs, simulated at 1 ms output resolution. */
#ifndef ND_MODELS_NEURON_SIM_H
#define ND_MODELS_NEURON_SIM_H
#include <stdint.h>
#include <stdio.h>
#include "../core/status.h"
#include "cable.h"

/* branched cells: peak conductance of one synapse (nS); an excitatory synapse has AMPA + NMDA (AMPA only in
 * branched-ampa) */
#define ND_NEURON_W_AMPA 0.25
#define ND_NEURON_W_NMDA 0.5
#define ND_NEURON_W_GABA 1.0

typedef enum { ND_NEURON_IAF, ND_NEURON_BRANCHED, ND_NEURON_BRANCHED_AMPA } nd_neuron_kind;
/* "iaf", "branched", "branched-ampa" -> kind; -1 if unknown */
int nd_neuron_kind_parse(const char *name);
const char *nd_neuron_kind_name(nd_neuron_kind k);

/* input statistics: SHARED (one population gain for all synapses, SD-10 ms smoothing, inhibition tracking
 * excitation) or PAPER (Beniaguev et al. 2021's generator: independent basal / apical drives, decorrelated
 * excitation and inhibition, a per-compartment factor redrawn every interval, smoothing SD 25-600 ms, an
 * exponential per-bin rate jitter); docs/neuron.md "Inputs" */
typedef enum { ND_INPUTS_SHARED, ND_INPUTS_PAPER } nd_neuron_inputs;
/* "shared", "paper" -> value; -1 if unknown */
int nd_neuron_inputs_parse(const char *name);
const char *nd_neuron_inputs_name(nd_neuron_inputs i);

typedef struct {
    nd_neuron_kind kind;
    nd_neuron_inputs inputs; /* input statistics (default SHARED) */
    int sims;              /* simulations */
    double seconds;        /* length of each simulation */
    uint64_t seed;
    int threads;           /* simulations run in parallel; results do not depend on it */
    double dt_ms;          /* branched cells: integration step (default 0.025 ms) */
    double exc_rate_hz;    /* mean input rate per excitatory synapse; <= 0: calibrated to target_hz */
    double inh_rate_hz;    /* mean rate per inhibitory synapse; <= 0: exc_rate_hz x inh_ratio */
    double inh_ratio;      /* inhibitory / excitatory rate when inh_rate_hz <= 0 (default 1.5 branched, 1 iaf) */
    double target_hz;      /* output rate the calibration aims at (default 3 Hz) */
    FILE *progress;        /* a progress line per simulation batch (NULL: quiet) */
} nd_neuron_sim_opts;

void nd_neuron_sim_opts_default(nd_neuron_sim_opts *o);

/* Simulations: dense outputs, sparse inputs (one entry per input spike, sorted by simulation then time). */
typedef struct {
    nd_neuron_kind kind;
    nd_neuron_inputs inputs;
    int sims, ms, syn;            /* simulations, 1 ms bins per simulation, input synapses */
    float *soma_v;                /* [sims][ms] mV at the end of each ms */
    unsigned char *spikes;        /* [sims][ms] 1 where a somatic spike starts in that ms */
    size_t n_in;                  /* input spikes */
    int *in_time_ms, *in_syn, *in_sim; /* [n_in] */
    unsigned char *syn_type;      /* [syn] 0 excitatory, 1 inhibitory */
    int *syn_section;             /* [syn] compartment (0 = soma; iaf: 0) */
    int *syn_branch;              /* [syn] branch (0 = soma) */
    float *syn_distance_um;       /* [syn] path distance from the soma */
    double exc_rate_hz, inh_rate_hz, dt_ms, mean_rate_hz;
    uint64_t seed;
} nd_neuron_sims;

/* the branched cells' tree (83 compartments, Hines order; see neuron_sim.c); free with nd_cell_free */
nd_status nd_neuron_branched_tree(nd_cell *c, nd_error *err);

nd_status nd_neuron_simulate(const nd_neuron_sim_opts *o, nd_neuron_sims *out, nd_error *err);
void nd_neuron_sims_free(nd_neuron_sims *s);
/* write sims.h5 (atomic); layout in docs/neuron.md */
nd_status nd_neuron_sims_write(const char *path, const nd_neuron_sims *s, nd_error *err);
#endif
