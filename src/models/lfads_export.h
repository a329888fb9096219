/* A trained LFADS model's weights under lfads-torch's names: the state_dict of its `LFADS` module
 * (lfads_torch/model.py and modules/), one HDF5 dataset per parameter, named by its state_dict key
 * ("encoder.ic_enc.fwd_gru.cell.weight_ih", ...), with its torch shape and orientation. */
#ifndef ND_MODELS_LFADS_EXPORT_H
#define ND_MODELS_LFADS_EXPORT_H
#include "lfads.h"

/* Write m's parameters to path (atomically). Mapping (ours -> lfads-torch):
 *  - GRU cells (ClippedGRUCell; both use gate order z, r, n and n = tanh(Wn x + bn + Un (r * h))):
 *    weight_ih = Wx^T [3H][I], bias_ih = bx, weight_hh = [Uzr^T; Un^T] [3H][H], bias_hh = 0 (frozen in lfads-torch);
 *  - nn.Linear weights are [out][in]: the transposes of our [in][out] matrices; fac_linear.weight = fac_W [F][G]
 *    (row-normalised in the forward pass by both);
 *  - encoder.{ic,ci}_enc_h0 [2][1][H] (forward, backward); decoder.con_h0 [1][C];
 *  - ic_prior.mean, ic_prior.logvar (= log ic_prior_var); co_prior.logtaus, co_prior.lognvars (AR(1) prior) or
 *    co_prior.mean (0), co_prior.logvar;
 *  - readout.S.weight [P*Nr][F], readout.S.bias per session S (0-based); stitched models also readin.S.weight
 *    [readin_dim][N_S], readin.S.bias.
 * Root attributes give the LFADS constructor's sizes (encod_data_dim, encod_seq_len, recon_seq_len, ext_input_dim,
 * ic_enc_dim, ci_enc_dim, ci_lag, con_dim, co_dim, ic_dim, gen_dim, fac_dim, cell_clip, ic_post_var_min), the
 * reconstruction ("recon") and format = "lfads-torch". */
nd_status nd_lfads_export_torch(const nd_lfads_model *m, const char *path, nd_error *err);

#endif
