/* libFuzzer harness: the same reader (nd_lfads_data_read) on lfads-torch layouts. Seeds:
 * fuzz/corpus/fuzz_lfads_torch_h5 ({train,valid}_encod_data / {train,valid}_recon_data with
 * held-out neurons and forward-prediction bins, truth, ext inputs, inds). A different split seed
 * and fraction than fuzz_lfads_h5, so the no-valid-split path is exercised differently. */
#include "lfads_body.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    return lfads_fuzz_one(data, size, 99, 0.5);
}
