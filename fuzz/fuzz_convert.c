/* libFuzzer harness: 'neurodyn convert' end to end (src/io/convert.c): nd_detect_format on any file,
 * nd_read_binned (dispatch to the NWB / MATLAB / triplet readers), then nd_convert_assign +
 * nd_convert_write and the written lfads-torch file read back by nd_lfads_data_read.
 * Seeds: fuzz/corpus/fuzz_convert (every NWB, MATLAB and triplet seed, and LFADS files, which
 * convert must refuse). */
#define ND_FUZZ_HDF5
#define ND_FUZZ_CONVERT
#include "binned_check.h"

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    nd_fuzz_h5_init();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *path = nd_fuzz_path(".in");
    nd_fuzz_write(path, data, size);
    nd_error err = {ND_OK, {0}};
    nd_format f = nd_detect_format(path, NULL, &err);
    nd_fuzz_h5_check_closed("nd_detect_format");
    if (f == ND_FMT_UNKNOWN) nd_fuzz_check_error(err.code, &err, "nd_detect_format");
    (void)nd_format_name(f);
    nd_bin_opts o;
    nd_bin_opts_default(&o);
    o.bin_ms = 20;
    nd_binned b;
    memset(&b, 0x5a, sizeof b);
    nd_error e2 = {ND_OK, {0}};
    nd_status st = nd_read_binned(path, &o, &b, &e2);
    if (f == ND_FMT_MAT5) nd_fuzz_h5_close_leftovers("libmatio (nd_read_binned)"); /* matio's own HDF5 ids */
    nd_fuzz_h5_check_closed("nd_read_binned");
    if (st == ND_OK) {
        nd_fuzz_report("nd_read_binned", st, &e2);
        nd_fuzz_check_binned(&b);
        nd_fuzz_convert_roundtrip(&b, &o);
        nd_fuzz_h5_check_closed("nd_convert_write / nd_lfads_data_read");
        nd_binned_free(&b);
    } else {
        nd_fuzz_check_error(st, &e2, "nd_read_binned");
        nd_fuzz_check_binned_empty(&b, "nd_read_binned");
    }
    return 0;
}
