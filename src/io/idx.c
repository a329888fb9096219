#include "idx.h"
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define IDX_MAX_BYTES ((size_t)1 << 32) /* 4 GiB: far above any IDX data set */

nd_status nd_idx_read(const char *path, nd_idx *out, nd_error *err) {
    memset(out, 0, sizeof *out);
    gzFile f = gzopen(path, "rb");
    if (!f) return nd_fail(err, ND_ERR_IO, "%s: cannot open", path);
    unsigned char h[4];
    nd_status st = ND_OK;
    if (gzread(f, h, 4) != 4) st = nd_fail(err, ND_ERR_FORMAT, "%s: not an IDX file (shorter than its header)", path);
    else if (h[0] || h[1] || h[2] != 0x08 || h[3] < 1 || h[3] > 4)
        st = nd_fail(err, ND_ERR_FORMAT, "%s: not an unsigned-byte IDX file of rank 1-4 (magic %02x%02x%02x%02x)", path,
                     h[0], h[1], h[2], h[3]);
    size_t total = 1;
    if (!st) {
        out->rank = h[3];
        for (int i = 0; i < out->rank && !st; i++) {
            unsigned char d[4];
            if (gzread(f, d, 4) != 4) { st = nd_fail(err, ND_ERR_FORMAT, "%s: truncated header", path); break; }
            out->dims[i] = ((size_t)d[0] << 24) | ((size_t)d[1] << 16) | ((size_t)d[2] << 8) | d[3];
            if (!out->dims[i] || total > IDX_MAX_BYTES / out->dims[i])
                st = nd_fail(err, ND_ERR_FORMAT, "%s: dimension %d is %zu (empty or too large)", path, i, out->dims[i]);
            else total *= out->dims[i];
        }
    }
    if (!st && !(out->data = malloc(total))) st = nd_fail(err, ND_ERR_NOMEM, "%s: out of memory for %zu bytes", path, total);
    for (size_t got = 0; !st && got < total;) {
        size_t want = total - got > (1u << 30) ? (1u << 30) : total - got;
        int n = gzread(f, out->data + got, (unsigned)want);
        if (n <= 0) st = nd_fail(err, ND_ERR_FORMAT, "%s: truncated data (%zu of %zu bytes)", path, got, total);
        else got += (size_t)n;
    }
    gzclose(f);
    if (st) nd_idx_free(out);
    return st;
}

void nd_idx_free(nd_idx *x) {
    free(x->data);
    memset(x, 0, sizeof *x);
}
