#include "h5_guard.h"
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include "../core/mem.h"

#define MIB ((hsize_t)1 << 20)
/* deflate's worst case is about 1032:1; a little margin for the chunk index */
#define CHUNK_EXPANSION 1100

static int bad(char *why, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int bad(char *why, size_t cap, const char *fmt, ...) {
    if (why && cap) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(why, cap, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* an integer (or an enum's base type): its bits inside its size */
static int check_int(hid_t t, char *why, size_t cap) {
    size_t size = H5Tget_size(t), prec = H5Tget_precision(t);
    int off = H5Tget_offset(t);
    if (size == 0 || size > 16) return bad(why, cap, "integer type of %zu bytes is not supported", size);
    if (prec == 0 || off < 0 || (size_t)off + prec > 8 * size)
        return bad(why, cap, "corrupt integer type (%zu bytes, precision %zu, offset %d bits)", size, prec, off);
    return 0;
}

/* a float: sign, exponent and mantissa inside its size */
static int check_float(hid_t t, char *why, size_t cap) {
    size_t size = H5Tget_size(t), prec = H5Tget_precision(t);
    int off = H5Tget_offset(t);
    size_t spos, epos, esize, mpos, msize;
    if (size == 0 || size > 16) return bad(why, cap, "float type of %zu bytes is not supported", size);
    if (prec == 0 || off < 0 || (size_t)off + prec > 8 * size ||
        H5Tget_fields(t, &spos, &epos, &esize, &mpos, &msize) < 0)
        return bad(why, cap, "corrupt float type (%zu bytes, precision %zu, offset %d bits)", size, prec, off);
    size_t bits = 8 * size;
    if (spos >= bits || esize == 0 || esize > 32 || epos + esize > bits || msize == 0 || mpos + msize > bits)
        return bad(why, cap, "corrupt float type (%zu bytes, exponent %zu bits at %zu, mantissa %zu bits at %zu)",
                   size, esize, epos, msize, mpos);
    return 0;
}

int nd_h5_check_type(hid_t t, char *why, size_t cap) {
    switch (H5Tget_class(t)) {
    case H5T_INTEGER: return check_int(t, why, cap);
    case H5T_FLOAT: return check_float(t, why, cap);
    case H5T_ENUM: {
        hid_t s = H5Tget_super(t);
        if (s < 0) return bad(why, cap, "corrupt enum type");
        int r = H5Tget_class(s) == H5T_INTEGER ? check_int(s, why, cap) : bad(why, cap, "enum of a non-integer type");
        H5Tclose(s);
        return r;
    }
    case H5T_STRING:
        if (H5Tis_variable_str(t) <= 0 && H5Tget_size(t) == 0) return bad(why, cap, "corrupt string type (size 0)");
        return 0;
    case H5T_REFERENCE: return 0;
    default: return bad(why, cap, "unsupported datatype");
    }
}

int nd_h5_check_read(hid_t ds, size_t numel, size_t memsize, char *why, size_t cap) {
    size_t limit = nd_alloc_limit();
    if (memsize && numel > SIZE_MAX / memsize)
        return bad(why, cap, "too large (%zu elements of %zu bytes overflow the address space)", numel, memsize);
    if (numel * memsize > limit)
        return bad(why, cap, "too large: reading it needs %zu bytes, more than the limit of %zu bytes (set "
                             "ND_MAX_ALLOC_MB to raise it)", numel * memsize, limit);
    hid_t t = H5Dget_type(ds);
    if (t < 0) return bad(why, cap, "cannot read its datatype");
    int r = nd_h5_check_type(t, why, cap);
    size_t fsize = H5Tget_size(t);
    H5T_class_t cls = H5Tget_class(t);
    int vlen = cls == H5T_VLEN || (cls == H5T_STRING && H5Tis_variable_str(t) > 0);
    H5Tclose(t);
    if (r || numel == 0) return r;
    hid_t dcpl = H5Dget_create_plist(ds);
    H5D_layout_t layout = dcpl >= 0 ? H5Pget_layout(dcpl) : H5D_LAYOUT_ERROR;
    if (dcpl >= 0) H5Pclose(dcpl);
    if (layout == H5D_LAYOUT_ERROR) return bad(why, cap, "cannot read its storage layout");
    if (layout == H5D_VIRTUAL) return bad(why, cap, "virtual datasets are not supported");
    hsize_t stored = H5Dget_storage_size(ds);
    if (vlen) { /* variable-length elements: at least one stored byte each */
        if (stored < numel)
            return bad(why, cap, "corrupt: %zu variable-length elements, %llu bytes stored", numel,
                       (unsigned long long)stored);
        return 0;
    }
    if (fsize == 0 || numel > SIZE_MAX / fsize)
        return bad(why, cap, "too large (%zu elements of %zu bytes)", numel, fsize);
    hsize_t need = (hsize_t)numel * fsize;
    if (layout == H5D_CONTIGUOUS || layout == H5D_COMPACT) {
        if (stored == 0) return bad(why, cap, "dataset has no data (never written; its dims say %zu elements)", numel);
        if (stored != need)
            return bad(why, cap, "corrupt: its dims need %llu bytes, the file stores %llu", (unsigned long long)need,
                       (unsigned long long)stored);
        return 0;
    }
    /* chunked (maybe compressed) */
    if (stored <= (HSIZE_UNDEF - MIB) / CHUNK_EXPANSION && need > CHUNK_EXPANSION * stored + MIB)
        return bad(why, cap, "corrupt or mostly unwritten: its dims need %llu bytes, the file stores only %llu "
                             "(chunked)", (unsigned long long)need, (unsigned long long)stored);
    return 0;
}
