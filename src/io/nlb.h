/* The HDF5 files nlb_tools writes (make_train_input_tensors / make_eval_input_tensors / make_eval_target_tensors,
 * saved with save_to_h5): [trials][bins][neurons] arrays at the root, or in one group per dataset for the eval
 * targets (e.g. /mc_maze/eval_spikes_heldout):
 *   train_spikes_heldin (required), train_spikes_heldout, eval_spikes_heldin, eval_spikes_heldout,
 *   {train,eval}_spikes_{heldin,heldout}_forward  forward-prediction bins [n][fp][...],
 *   train_behavior, eval_behavior                  [n][T][B]
 * As nd_binned: the train trials, then the eval trials; units = held-in then held-out (heldout flags from that
 * order); counts [n][T + fp][N_in + N_out]. Splits: eval trials are test; train trials are the pool from which
 * convert draws the valid trials (split -2). Eval trials whose held-out neurons or forward bins are not in the
 * file (the benchmark's test phase) set no_test_targets; without eval_behavior, no_test_behavior. nlb_tools
 * files do not store the bin width: it is the reader's opts->bin_ms (convert's --bin-ms). */
#ifndef ND_IO_NLB_H
#define ND_IO_NLB_H
#include "../core/status.h"
#include "binning.h"
#include "h5x.h"

int nd_nlb_detect(nd_h5r *r);
nd_status nd_nlb_read(const char *path, const nd_bin_opts *o, nd_binned *b, nd_error *err);

#endif
