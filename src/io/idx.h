/* IDX files (the MNIST / Fashion-MNIST format), plain or gzip-compressed: a big-endian header (magic: two zero
 * bytes, the element type, the number of dimensions; then each dimension as a 32-bit count) and uint8 data. */
#ifndef ND_IO_IDX_H
#define ND_IO_IDX_H
#include <stddef.h>
#include "../core/status.h"

typedef struct {
    int rank;
    size_t dims[4];
    unsigned char *data; /* malloc'd, prod(dims) bytes */
} nd_idx;

/* Reads an unsigned-byte IDX array of rank 1..4; errors name the file and the problem (truncated, wrong type,
 * absurd size). zlib reads both compressed and plain files. */
nd_status nd_idx_read(const char *path, nd_idx *out, nd_error *err);
void nd_idx_free(nd_idx *x);
#endif
