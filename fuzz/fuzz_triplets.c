/* libFuzzer harness: the spike-triplet reader (nd_triplets_read, src/io/triplets.c on src/io/h5x.c).
 * Each input (an HDF5 file, written to a tmpfs file) is read with the defaults (group spike_times,
 * else the root; 20 ms bins; trial length from the data) and with explicit options (10 ms bins,
 * 300 ms trials, window 0:200 ms + 3 forward-prediction bins, condition dataset 'stim', 4 trials).
 * A successful default read is converted to lfads-torch and read back (see binned_check.h).
 * Seeds: fuzz/corpus/fuzz_triplets. */
#define ND_FUZZ_HDF5
#define ND_FUZZ_CONVERT
#include "binned_check.h"
#include "io/triplets.h"

static void read_binned(const char *path, const nd_bin_opts *o, const char *what, int convert) {
    nd_binned b;
    memset(&b, 0x5a, sizeof b); /* the reader must zero it */
    nd_error err = {ND_OK, {0}};
    nd_status st = nd_triplets_read(path, o, &b, &err);
    nd_fuzz_h5_check_closed(what);
    if (st == ND_OK) {
        nd_fuzz_report(what, st, &err);
        nd_fuzz_check_binned(&b);
        if (convert) nd_fuzz_convert_roundtrip(&b, o);
        nd_binned_free(&b);
    } else {
        nd_fuzz_check_error(st, &err, what);
        nd_fuzz_check_binned_empty(&b, what);
    }
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    nd_fuzz_h5_init();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *path = nd_fuzz_path(".h5");
    nd_fuzz_write(path, data, size);
    nd_bin_opts o;
    nd_bin_opts_default(&o);
    o.bin_ms = 20;
    read_binned(path, &o, "nd_triplets_read (defaults)", 1);

    nd_bin_opts a;
    nd_bin_opts_default(&a);
    a.bin_ms = 10;
    a.trial_ms = 300;
    a.has_window = 1;
    a.win_start_ms = 0;
    a.win_end_ms = 200;
    a.fp_bins = 3;
    a.condition = "stim";
    a.n_trials = 4;
    read_binned(path, &a, "nd_triplets_read (options)", 0);
    return 0;
}
