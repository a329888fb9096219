/* The Neural Latents Benchmark submission layout (nlb_tools' make_eval_data / save_to_h5 naming) from the rates
 * of an outputs file (`neurodyn infer` / `baseline`: {split}_output_params, counts per bin). */
#ifndef ND_IO_NLB_SUBMIT_H
#define ND_IO_NLB_SUBMIT_H
#include "lfads_data.h"

/* Writes to out_path (atomically) the group `dataset` with
 *   train_rates_heldin [n][T][N], train_rates_heldout [n][T][Nr - N]         (train trials),
 *   eval_rates_heldin, eval_rates_heldout                                     (eval trials, observed bins),
 *   eval_rates_heldin_forward, eval_rates_heldout_forward [n][Tr - T][...]    (when the data has fp bins),
 * rates in counts per bin, as nlb_tools expects. eval_split: 1 = valid (the benchmark's 'val' phase: train =
 * train trials), 2 = test ('test' phase: train = train and valid trials, in original trial order when the data
 * has *_inds), 0 = test when the outputs have test_output_params, else valid. The outputs' rates must have the
 * data's reconstruction shape (ND_ERR_FORMAT naming the dataset otherwise); held-out datasets are written only
 * when the data has held-out neurons. */
nd_status nd_nlb_submission_write(const nd_lfads_data *d, const char *outputs_path, const char *dataset,
                                  int eval_split, const char *out_path, nd_error *err);

#endif
