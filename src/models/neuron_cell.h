/* `neurodyn neuron simulate` as one library call: any cell by name into a sims file, whether it is simulated in C
 * (iaf, branched, branched-ampa: neuron_sim.h) or in NEURON (l5pc, l5pc-ampa: l5pc.h). docs/neuron.md */
#ifndef ND_MODELS_NEURON_CELL_H
#define ND_MODELS_NEURON_CELL_H
#include "neuron_sim.h"

/* the cell names nd_neuron_simulate_file takes, for help and error text */
#define ND_NEURON_CELLS "iaf, branched, branched-ampa, l5pc, l5pc-ampa"

/* What was written. */
typedef struct {
    int sims, synapses;
    double seconds;                    /* length of each simulation */
    double exc_rate_hz, inh_rate_hz;   /* mean input rate per excitatory / inhibitory synapse */
    double output_rate_hz;             /* the cell's mean firing rate */
    long input_spikes;
    int neuron;                        /* 1: simulated by NEURON (l5pc cells) */
    double neuron_seconds;             /* NEURON's wall time (neuron = 1) */
} nd_neuron_sim_summary;

/* Simulates o->sims x o->seconds of `cell` and writes `out` atomically (layout of nd_neuron_sims_write). For the
 * C cells every field of o applies (o->kind is set from cell); for the NEURON cells sims, seconds, seed, dt_ms and
 * progress do. Errors start with "neuron simulate: ": ND_ERR_ARG for an unknown cell or bad options, ND_ERR_IO
 * when NEURON is missing (saying how to install it) or the file cannot be written. */
nd_status nd_neuron_simulate_file(const char *cell, const nd_neuron_sim_opts *o, const char *out,
                                  nd_neuron_sim_summary *r, nd_error *err);
#endif
