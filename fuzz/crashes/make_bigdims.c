/* Makes the tiny HDF5 files that declare huge datasets without storing them (never-written
 * datasets read back as the fill value, so they are valid HDF5). Used for the reproducers
 *   fuzz/crashes/fuzz_lfads_h5/nd_alloc-size-wrap     f32 chunked 3x715827883x2147483647 train_data
 *   fuzz/crashes/fuzz_lfads_h5/unwritten-3GiB         f32 contig  3x1024x262144 train_data
 *   fuzz/crashes/fuzz_{h5x,nwb}/numel-overflow-2p61   f64 chunked 2305843009213693953 /units/spike_times
 *   fuzz/crashes/fuzz_triplets/numel-overflow-2p61    same for /spike_times/{time_ms,neuron,trial}
 * Build: clang $(pkg-config --cflags hdf5) make_bigdims.c -o make_bigdims $(pkg-config --libs hdf5)
 * Usage: make_bigdims OUT f32|f64 chunked|contig D0xD1x... NAME [NAME...] */
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
int main(int argc, char **argv) {
    if (argc < 6) {
        fprintf(stderr, "usage: make_bigdims OUT f32|f64 chunked|contig D0xD1x... NAME...\n");
        return 2;
    }
    hsize_t d[8], c[8];
    int rank = 0;
    for (char *p = argv[4]; *p && rank < 8; rank++) {
        d[rank] = strtoull(p, &p, 10);
        c[rank] = 1;
        if (*p == 'x') p++;
    }
    c[rank - 1] = d[rank - 1] < 64 ? d[rank - 1] : 64;
    hid_t fcpl = H5Pcreate(H5P_FILE_CREATE);
    H5Pset_obj_track_times(fcpl, 0);
    hid_t f = H5Fcreate(argv[1], H5F_ACC_TRUNC, fcpl, H5P_DEFAULT);
    hid_t sp = H5Screate_simple(rank, d, NULL);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_obj_track_times(dcpl, 0);
    if (!strcmp(argv[3], "chunked")) H5Pset_chunk(dcpl, rank, c);
    else H5Pset_alloc_time(dcpl, H5D_ALLOC_TIME_LATE);
    hid_t l = H5Pcreate(H5P_LINK_CREATE);
    H5Pset_create_intermediate_group(l, 1);
    hid_t t = !strcmp(argv[2], "f64") ? H5T_IEEE_F64LE : H5T_IEEE_F32LE;
    int bad = f < 0 || sp < 0;
    for (int i = 5; i < argc && !bad; i++) {
        hid_t ds = H5Dcreate2(f, argv[i], t, sp, l, dcpl, H5P_DEFAULT);
        if (ds < 0) bad = 1;
        else H5Dclose(ds);
    }
    H5Pclose(dcpl);
    H5Pclose(l);
    H5Pclose(fcpl);
    H5Sclose(sp);
    H5Fclose(f);
    if (bad) fprintf(stderr, "make_bigdims: failed\n");
    return bad;
}
