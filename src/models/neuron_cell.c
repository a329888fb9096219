/* Any ground-truth cell by name into a sims file (see neuron_cell.h). */
#include "neuron_cell.h"
#include "l5pc.h"
#include <string.h>

/* the message of a failed call, starting with "neuron simulate: " as the simulators' own messages do */
static nd_status fail_simulate(nd_error *err, nd_status st) {
    if (err && strncmp(err->msg, "neuron simulate: ", 17)) return nd_fail_prefix(err, st, "neuron simulate");
    return st;
}

nd_status nd_neuron_simulate_file(const char *cell, const nd_neuron_sim_opts *o, const char *out,
                                  nd_neuron_sim_summary *r, nd_error *err) {
    memset(r, 0, sizeof *r);
    if (!cell || !out) return nd_fail(err, ND_ERR_ARG, "neuron simulate: a cell and an output file are needed");
    if (nd_l5pc_is_cell(cell)) {
        nd_l5pc_opts lo;
        nd_l5pc_opts_default(&lo);
        lo.cell = cell;
        lo.sims = o->sims;
        lo.seconds = o->seconds;
        lo.seed = o->seed;
        lo.dt_ms = o->dt_ms;
        lo.out = out;
        lo.progress = o->progress;
        nd_l5pc_result lr;
        nd_status st = nd_l5pc_simulate(&lo, &lr, err);
        if (st) return fail_simulate(err, st);
        *r = (nd_neuron_sim_summary){lr.sims, lr.synapses, o->seconds, lr.exc_rate_hz, lr.inh_rate_hz,
                                     lr.output_rate_hz, lr.input_spikes, 1, lr.seconds};
        return ND_OK;
    }
    int kind = nd_neuron_kind_parse(cell);
    if (kind < 0) return nd_fail(err, ND_ERR_ARG, "neuron simulate: unknown --cell '%s' (%s)", cell, ND_NEURON_CELLS);
    nd_neuron_sim_opts so = *o;
    so.kind = (nd_neuron_kind)kind;
    nd_neuron_sims s;
    memset(&s, 0, sizeof s);
    nd_status st = nd_neuron_simulate(&so, &s, err);
    if (!st) st = nd_neuron_sims_write(out, &s, err);
    if (!st)
        *r = (nd_neuron_sim_summary){s.sims, s.syn, s.ms / 1000.0, s.exc_rate_hz, s.inh_rate_hz, s.mean_rate_hz,
                                     (long)s.n_in, 0, 0};
    nd_neuron_sims_free(&s);
    return st ? fail_simulate(err, st) : ND_OK;
}
