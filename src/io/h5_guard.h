/* Checks made before an HDF5 dataset is allocated and read (src/io/h5.c and h5x.c share them),
 * so that a small or corrupt file can neither make a reader allocate memory its dimensions only
 * claim, nor hand libhdf5 a datatype its conversion code mishandles (found by fuzzing, see
 * fuzz/FINDINGS.md, bugs 2 and 3).
 *
 * nd_h5_check_read(ds, numel, memsize, ...) passes when
 *  - numel * memsize (the buffer in memory) does not overflow and is at most nd_alloc_limit()
 *    (8 GiB, ND_MAX_ALLOC_MB);
 *  - the stored datatype is sane: integers (and enum bases) 1..16 bytes with
 *    0 < precision and offset + precision <= 8 * size; floats 1..16 bytes with sign, exponent
 *    and mantissa inside the size, a 1..32-bit exponent and a non-empty mantissa;
 *  - what the file stores (H5Dget_storage_size) can hold numel elements of the stored size:
 *      contiguous / compact layout: exactly numel * size bytes; 0 bytes = never written
 *        ("dataset has no data");
 *      chunked: numel * size <= 1100 * stored + 1 MiB (deflate expands at most ~1032:1; a
 *        dataset of at most 1 MiB may be unwritten and read as its fill value; a larger one
 *        whose chunks were never written, i.e. mostly fill value, is refused);
 *      variable-length elements (strings): at least one stored byte per element;
 *      virtual datasets are not supported.
 * Otherwise it writes the reason (one clause, no file or dataset name) into why and returns -1.
 * HDF5's error printing must be off (nd_h5_quiet). */
#ifndef ND_IO_H5_GUARD_H
#define ND_IO_H5_GUARD_H
#include <hdf5.h>
#include <stddef.h>

int nd_h5_check_read(hid_t ds, size_t numel, size_t memsize, char *why, size_t cap);
/* only the datatype part (attributes, or a type from H5Dget_type): 0 if sane */
int nd_h5_check_type(hid_t type, char *why, size_t cap);

#endif
