/* What `neurodyn infer` runs (see infer_run.h). */
#include "infer_run.h"
#include "lfads_ckpt.h"
#include "../nn/recon.h"

int nd_lfads_data_values(int recon) {
    return recon == ND_RECON_POISSON ? ND_DATA_COUNTS : recon == ND_RECON_GAUSSIAN ? ND_DATA_REAL : ND_DATA_NONNEG;
}

nd_status nd_lfads_infer_run(const char *run, const char *data_path, const char *out_path, const nd_infer_opts *o,
                             int allow_mismatch, FILE *notes, nd_error *err) {
    char ckpt[4096];
    nd_status st = nd_lfads_resolve_ckpt(run, ckpt, sizeof ckpt, err);
    if (st) return st;
    /* split seed and valid fraction: those the model was trained with */
    nd_lfads_model m;
    int dims[3];
    if ((st = nd_lfads_load(ckpt, &m, dims, err))) return st;
    uint64_t split_seed = (uint64_t)m.cfg.seed;
    double vf = m.cfg.valid_fraction;
    int S = m.S, ses = 0, values = nd_lfads_data_values(m.cfg.recon);
    nd_lfads_free(&m);
    nd_lfads_data d;
    if ((st = nd_lfads_data_read_values(data_path, split_seed, vf, values, &d, err))) return st;
    if (!(S > 1 && (st = nd_lfads_ckpt_find_session(ckpt, data_path, o->session, S, &ses, err))) &&
        !(st = nd_lfads_check_data(ckpt, ses, S, &d, allow_mismatch, notes, err)))
        st = nd_lfads_infer_file(ckpt, &d, out_path, o, err);
    nd_lfads_data_free(&d);
    return st;
}
