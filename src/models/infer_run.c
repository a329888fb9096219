/* What `neurodyn infer` runs (see infer_run.h). */
#include "infer_run.h"
#include "lfads_ckpt.h"
#include "../nn/recon.h"

int nd_lfads_data_values(int recon) {
    return recon == ND_RECON_POISSON ? ND_DATA_COUNTS : recon == ND_RECON_GAUSSIAN ? ND_DATA_REAL : ND_DATA_NONNEG;
}

nd_status nd_lfads_run_data(const char *ckpt, const nd_lfads_model *m, const char *data_path, int session,
                            int allow_mismatch, FILE *notes, nd_lfads_data *out, nd_error *err) {
    nd_lfads_data d;
    int ses = 0;
    nd_status st = nd_lfads_data_read_values(data_path, (uint64_t)m->cfg.seed, m->cfg.valid_fraction,
                                             nd_lfads_data_values(m->cfg.recon), &d, err);
    if (st) return st;
    if (!(m->S > 1 && (st = nd_lfads_ckpt_find_session(ckpt, data_path, session, m->S, &ses, err))))
        st = nd_lfads_check_data(ckpt, ses, m->S, &d, allow_mismatch, notes, err);
    if (st || !out) nd_lfads_data_free(&d);
    else *out = d;
    return st;
}

nd_status nd_lfads_infer_run(const char *run, const char *data_path, const char *out_path, const nd_infer_opts *o,
                             int allow_mismatch, FILE *notes, nd_error *err) {
    char ckpt[4096];
    nd_status st = nd_lfads_resolve_ckpt(run, ckpt, sizeof ckpt, err);
    if (st) return st;
    /* the data as the model was trained on it (split seed, valid fraction), checked against its fingerprint */
    nd_lfads_model m;
    int dims[3];
    if ((st = nd_lfads_load(ckpt, &m, dims, err))) return st;
    nd_lfads_data d;
    st = nd_lfads_run_data(ckpt, &m, data_path, o->session, allow_mismatch, notes, &d, err);
    nd_lfads_free(&m);
    if (st) return st;
    st = nd_lfads_infer_file(ckpt, &d, out_path, o, err);
    nd_lfads_data_free(&d);
    return st;
}
