/* The Hay et al. (2011) layer-5 pyramidal cell in the NEURON simulator (docs/neuron.md "L5PC"): run by Debian's
 * /usr/bin/python3 with data/l5pc/l5pc_sim.py, which compiles the project's mechanisms (data/l5pc/mod) once into
 * a cache directory and writes a sims.h5 in the layout of nd_neuron_sims_write. */
#ifndef ND_MODELS_L5PC_H
#define ND_MODELS_L5PC_H
#include <stdint.h>
#include <stdio.h>
#include "../core/status.h"

typedef struct {
    const char *cell;      /* "l5pc" (AMPA + NMDA) or "l5pc-ampa" */
    int sims;
    double seconds, dt_ms; /* dt_ms: fixed integration step (default 0.025) */
    uint64_t seed;
    const char *out;       /* sims.h5, written atomically */
    const char *dir;       /* NULL: $NEURODYN_L5PC_DIR, else <executable>/../data/l5pc, else
                            * <executable>/../share/neurodyn/l5pc */
    const char *mech_dir;  /* NULL: $NEURODYN_CACHE/l5pc-mech, else $XDG_CACHE_HOME or ~/.cache /neurodyn/... */
    const char *python;    /* NULL: /usr/bin/python3 (NEURON's Python module is for Debian's interpreter) */
    FILE *progress;        /* progress lines (NULL: quiet) */
} nd_l5pc_opts;

void nd_l5pc_opts_default(nd_l5pc_opts *o);
/* 1 for "l5pc" and "l5pc-ampa" */
int nd_l5pc_is_cell(const char *name);

typedef struct { int sims, synapses; double exc_rate_hz, inh_rate_hz, output_rate_hz, seconds; long input_spikes; }
    nd_l5pc_result;
/* Runs the simulations. Errors: ND_ERR_ARG (bad options), ND_ERR_IO with one line saying how to install NEURON
 * when it (or Python) is missing, or naming the mechanism that failed to compile, or the simulator's own error. */
nd_status nd_l5pc_simulate(const nd_l5pc_opts *o, nd_l5pc_result *res, nd_error *err);
#endif
