/* libFuzzer harness: the LFADS HDF5 data reader (nd_lfads_data_read, src/io/lfads_data.c reading
 * through one nd_h5r handle of src/io/h5x.c) on arbitrary bytes. Seeds: fuzz/corpus/fuzz_lfads_h5 (LFADS layout:
 * train_data / valid_data / truth / ext_input / inds / conversion_factor). */
#include "lfads_body.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    return lfads_fuzz_one(data, size, 1234, 0.2);
}
