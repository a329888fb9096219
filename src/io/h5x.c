#include "h5_guard.h"
#include "h5_quiet.h"
#include "h5x.h"
#include <errno.h>
#include <hdf5.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include "../core/mem.h"

struct nd_h5r {
    hid_t fid;
    char *path;
};


/* "/a/b" for "a/b" or "/a/b" */
static const char *disp(const char *obj, char *buf, size_t cap) {
    if (!obj) return "?";
    if (obj[0] == '/') return obj;
    snprintf(buf, cap, "/%s", obj);
    return buf;
}
#define DISP(obj) disp((obj), dbuf_, sizeof dbuf_)

const char *nd_h5r_file(const nd_h5r *r) { return r ? r->path : "?"; }

/* quiet must be on */
static nd_status check_file_quiet(const char *path, nd_error *err) {
    if (!path || !*path) return nd_fail(err, ND_ERR_ARG, "HDF5 read: empty file name");
    struct stat sb;
    if (stat(path, &sb) != 0) return nd_fail(err, ND_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    if (S_ISDIR(sb.st_mode)) return nd_fail(err, ND_ERR_IO, "%s: cannot open: is a directory", path);
    FILE *fp = fopen(path, "rb");
    if (!fp) return nd_fail(err, ND_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    fclose(fp);
#if H5_VERSION_GE(1, 12, 0)
    htri_t is_h5 = H5Fis_accessible(path, H5P_DEFAULT);
#else
    htri_t is_h5 = H5Fis_hdf5(path);
#endif
    if (is_h5 <= 0) return nd_fail(err, ND_ERR_FORMAT, "%s: not an HDF5 file", path);
    return ND_OK;
}

nd_status nd_h5r_check_file(const char *path, nd_error *err) {
    nd_h5_quiet q;
    nd_h5_quiet_on(&q);
    nd_status st = check_file_quiet(path, err);
    nd_h5_quiet_off(&q);
    return st;
}

nd_status nd_h5r_open(const char *path, nd_h5r **out, nd_error *err) {
    *out = NULL;
    if (!path || !*path) return nd_fail(err, ND_ERR_ARG, "empty input path");
    nd_h5_quiet q;
    nd_h5_quiet_on(&q);
    nd_status st = check_file_quiet(path, err);
    hid_t fid = st ? H5I_INVALID_HID : H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    nd_h5_quiet_off(&q);
    if (st) return st;
    if (fid < 0) return nd_fail(err, ND_ERR_IO, "%s: cannot open as HDF5 (corrupt, truncated or locked?)", path);
    nd_h5r *r = calloc(1, sizeof *r);
    if (r) r->path = strdup(path);
    if (!r || !r->path) {
        free(r);
        H5Fclose(fid);
        return nd_fail(err, ND_ERR_NOMEM, "%s: out of memory", path);
    }
    r->fid = fid;
    *out = r;
    return ND_OK;
}

void nd_h5r_close(nd_h5r *r) {
    if (!r) return;
    nd_h5_quiet q;
    nd_h5_quiet_on(&q);
    if (r->fid >= 0) H5Fclose(r->fid);
    nd_h5_quiet_off(&q);
    free(r->path);
    free(r);
}

/* quiet must be on: 1 if every prefix of obj is a link */
static int links_exist(hid_t fid, const char *obj) {
    char buf[2048];
    size_t n = strlen(obj);
    if (n == 0 || n >= sizeof buf) return 0;
    if (strcmp(obj, "/") == 0) return 1;
    memcpy(buf, obj, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (i == n || buf[i] == '/') {
            char c = buf[i];
            buf[i] = 0;
            int ok = H5Lexists(fid, buf, H5P_DEFAULT) > 0;
            buf[i] = c;
            if (!ok) return 0;
        }
    }
    return 1;
}

static int kind_quiet(hid_t fid, const char *obj) {
    if (!obj || !*obj) return ND_H5R_MISSING;
    if (!links_exist(fid, obj)) return ND_H5R_MISSING;
    hid_t o = H5Oopen(fid, obj, H5P_DEFAULT);
    if (o < 0) return ND_H5R_OTHER;
    H5I_type_t t = H5Iget_type(o);
    H5Oclose(o);
    return t == H5I_GROUP ? ND_H5R_GROUP : t == H5I_DATASET ? ND_H5R_DATASET : ND_H5R_OTHER;
}

int nd_h5r_kind(nd_h5r *r, const char *obj) {
    nd_h5_quiet q;
    nd_h5_quiet_on(&q);
    int k = kind_quiet(r->fid, obj);
    nd_h5_quiet_off(&q);
    return k;
}

nd_status nd_h5r_require_group(nd_h5r *r, const char *obj, const char *why, nd_error *err) {
    char dbuf_[1100];
    int k = nd_h5r_kind(r, obj);
    if (k == ND_H5R_GROUP) return ND_OK;
    if (k == ND_H5R_MISSING)
        return nd_fail(err, ND_ERR_FORMAT, "%s: %s: missing group%s%s%s", r->path, DISP(obj), why ? " (" : "",
                       why ? why : "", why ? ")" : "");
    return nd_fail(err, ND_ERR_FORMAT, "%s: %s: is not a group", r->path, DISP(obj));
}

/* ---------- types ---------- */
static int is_bool_enum(hid_t t) {
    int n = H5Tget_nmembers(t);
    if (n != 2) return 0;
    int ok = 1;
    for (int i = 0; i < 2; i++) {
        char *nm = H5Tget_member_name(t, (unsigned)i);
        if (!nm) return 0;
        if (strcasecmp(nm, "FALSE") != 0 && strcasecmp(nm, "TRUE") != 0) ok = 0;
        H5free_memory(nm);
    }
    return ok;
}

static void describe_type(hid_t t, nd_h5r_info *in) {
    H5T_class_t c = H5Tget_class(t);
    in->size = H5Tget_size(t);
    in->is_signed = 0;
    switch (c) {
    case H5T_INTEGER:
        in->cls = ND_H5R_INT;
        in->is_signed = H5Tget_sign(t) == H5T_SGN_2;
        snprintf(in->dtype, sizeof in->dtype, "%sint%zu", in->is_signed ? "" : "u", in->size * 8);
        break;
    case H5T_FLOAT:
        in->cls = ND_H5R_FLOAT;
        snprintf(in->dtype, sizeof in->dtype, "float%zu", in->size * 8);
        break;
    case H5T_STRING:
        in->cls = ND_H5R_STRING;
        if (H5Tis_variable_str(t) > 0) snprintf(in->dtype, sizeof in->dtype, "string");
        else snprintf(in->dtype, sizeof in->dtype, "string[%zu]", in->size);
        break;
    case H5T_ENUM:
        in->cls = is_bool_enum(t) ? ND_H5R_BOOL : ND_H5R_OTHERTYPE;
        snprintf(in->dtype, sizeof in->dtype, "%s", in->cls == ND_H5R_BOOL ? "bool" : "enum");
        if (in->cls != ND_H5R_BOOL) in->cls = ND_H5R_INT; /* other enums: read their integer values */
        {
            hid_t s = H5Tget_super(t);
            if (s >= 0) {
                in->is_signed = H5Tget_sign(s) == H5T_SGN_2;
                H5Tclose(s);
            }
        }
        break;
    case H5T_REFERENCE:
        in->cls = ND_H5R_REF;
        snprintf(in->dtype, sizeof in->dtype, "reference");
        break;
    case H5T_COMPOUND:
        in->cls = ND_H5R_COMPOUND;
        snprintf(in->dtype, sizeof in->dtype, "compound");
        break;
    case H5T_VLEN:
        in->cls = ND_H5R_OTHERTYPE;
        snprintf(in->dtype, sizeof in->dtype, "variable-length");
        break;
    default:
        in->cls = ND_H5R_OTHERTYPE;
        snprintf(in->dtype, sizeof in->dtype, "%s",
                 c == H5T_OPAQUE ? "opaque" : c == H5T_BITFIELD ? "bitfield" : c == H5T_ARRAY ? "array" : "unknown");
    }
}

/* quiet must be on; fills info from an open dataset: 1, 0 (unsupported rank) or -1 (numel would
 * exceed SIZE_MAX / 16: info->numel is then SIZE_MAX; such a dataset cannot be read) */
static int info_quiet(hid_t ds, nd_h5r_info *in) {
    memset(in, 0, sizeof *in);
    hid_t t = H5Dget_type(ds), sp = H5Dget_space(ds);
    int ok = t >= 0 && sp >= 0;
    if (ok) {
        describe_type(t, in);
        int r = H5Sget_simple_extent_type(sp) == H5S_NULL ? 0 : H5Sget_simple_extent_ndims(sp);
        if (r < 0 || r > ND_H5R_MAX_RANK) ok = 0;
        else {
            hsize_t hd[ND_H5R_MAX_RANK];
            if (r > 0) H5Sget_simple_extent_dims(sp, hd, NULL);
            in->rank = r;
            in->numel = H5Sget_simple_extent_type(sp) == H5S_NULL ? 0 : 1;
            for (int i = 0; i < r; i++) {
                in->dims[i] = (size_t)hd[i];
                if (hd[i] == 0) in->numel = 0;
            }
            for (int i = 0; i < r && in->numel; i++) {
                if (in->numel > SIZE_MAX / 16 / hd[i]) {
                    ok = -1;
                    in->numel = SIZE_MAX;
                    break;
                }
                in->numel *= (size_t)hd[i];
            }
        }
    }
    if (t >= 0) H5Tclose(t);
    if (sp >= 0) H5Sclose(sp);
    return ok;
}

/* quiet must be on: open dataset obj or fail with a message */
static nd_status open_ds(nd_h5r *r, const char *obj, hid_t *ds, nd_h5r_info *in, nd_error *err) {
    char dbuf_[1100];
    *ds = H5I_INVALID_HID;
    int k = kind_quiet(r->fid, obj);
    if (k == ND_H5R_MISSING) return nd_fail(err, ND_ERR_FORMAT, "%s: %s: missing dataset", r->path, DISP(obj));
    if (k != ND_H5R_DATASET)
        return nd_fail(err, ND_ERR_FORMAT, "%s: %s: is a %s, expected a dataset", r->path, DISP(obj),
                       k == ND_H5R_GROUP ? "group" : "non-dataset object");
    *ds = H5Dopen2(r->fid, obj, H5P_DEFAULT);
    if (*ds < 0) return nd_fail(err, ND_ERR_FORMAT, "%s: %s: cannot open dataset", r->path, DISP(obj));
    int ok = info_quiet(*ds, in);
    if (ok <= 0) {
        H5Dclose(*ds);
        *ds = H5I_INVALID_HID;
        if (ok < 0) return nd_fail(err, ND_ERR_FORMAT, "%s: %s: too large (its dims overflow the element count)",
                                   r->path, DISP(obj));
        return nd_fail(err, ND_ERR_FORMAT, "%s: %s: unsupported shape (rank > %d?)", r->path, DISP(obj),
                       ND_H5R_MAX_RANK);
    }
    return ND_OK;
}

nd_status nd_h5r_info_of(nd_h5r *r, const char *obj, nd_h5r_info *info, nd_error *err) {
    nd_h5_quiet q;
    nd_h5_quiet_on(&q);
    hid_t ds;
    nd_status st = open_ds(r, obj, &ds, info, err);
    if (ds >= 0) H5Dclose(ds);
    nd_h5_quiet_off(&q);
    return st;
}

static int is_enum_ds(hid_t ds) {
    hid_t t = H5Dget_type(ds);
    int e = t >= 0 && H5Tget_class(t) == H5T_ENUM;
    if (t >= 0) H5Tclose(t);
    return e;
}

/* ---------- reading ---------- */
/* The one place a dataset's elements are allocated and read (quiet must be on; in->numel and
 * in->dtype describe ds): checks with nd_h5_check_read (h5_guard.h: element count and bytes,
 * datatype, stored size) before allocating, then reads all of ds as memtype into a zeroed nd_alloc
 * buffer of max(numel, 1) elements plus `extra` bytes. outsize: bytes per element of what the
 * caller makes of it (counted against the allocation limit when larger than memtype's size).
 * what names the dataset in messages ("<file>: <what>: <problem>"): "/a/b" here, "dataset 'a/b'"
 * for the h5.h-worded reads below. */
static nd_status read_all(nd_h5r *r, const char *what, hid_t ds, const nd_h5r_info *in, hid_t memtype,
                          size_t outsize, size_t extra, void **out, nd_error *err) {
    char why[256];
    *out = NULL;
    size_t msz = H5Tget_size(memtype);
    if (msz == 0) return nd_fail(err, ND_ERR_FORMAT, "%s: %s: unsupported datatype %s", r->path, what, in->dtype);
    if (nd_h5_check_read(ds, in->numel, msz > outsize ? msz : outsize, why, sizeof why))
        return nd_fail(err, ND_ERR_FORMAT, "%s: %s: %s", r->path, what, why);
    size_t n = in->numel ? in->numel : 1;
    if (n > (SIZE_MAX - extra - 64) / msz)
        return nd_fail(err, ND_ERR_FORMAT, "%s: %s: too large (%zu elements)", r->path, what, in->numel);
    void *buf = nd_alloc(n * msz + extra);
    if (!buf)
        return nd_fail(err, ND_ERR_NOMEM, "%s: %s: out of memory (%zu elements of %zu bytes)", r->path, what,
                       in->numel, msz);
    if (in->numel > 0 && H5Dread(ds, memtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0) {
        nd_free(buf);
        return nd_fail(err, ND_ERR_FORMAT, "%s: %s: read failed (corrupt file or unavailable filter)", r->path,
                       what);
    }
    *out = buf;
    return ND_OK;
}

/* an enum dataset (h5py / HDMF booleans) as its raw integer values, converted to int64 */
static nd_status read_enum_i64(nd_h5r *r, const char *obj, hid_t ds, const nd_h5r_info *in, int64_t **out,
                               nd_error *err) {
    char dbuf_[1100];
    *out = NULL;
    hid_t ft = H5Dget_type(ds);
    hid_t mt = ft >= 0 ? H5Tget_native_type(ft, H5T_DIR_ASCEND) : H5I_INVALID_HID;
    size_t sz = mt >= 0 ? H5Tget_size(mt) : 0;
    unsigned char *raw = NULL;
    nd_status st;
    if (sz != 1 && sz != 2 && sz != 4 && sz != 8)
        st = nd_fail(err, ND_ERR_FORMAT, "%s: %s: enum of %zu-byte integers is not supported", r->path, DISP(obj), sz);
    else st = read_all(r, DISP(obj), ds, in, mt, sizeof(int64_t), 0, (void **)&raw, err);
    int64_t *v = NULL;
    if (!st) {
        v = nd_alloc((in->numel ? in->numel : 1) * sizeof *v);
        if (!v) st = nd_fail(err, ND_ERR_NOMEM, "%s: %s: out of memory", r->path, DISP(obj));
    }
    for (size_t i = 0; !st && i < in->numel; i++) {
        const unsigned char *p = raw + i * sz;
        if (sz == 1) v[i] = in->is_signed ? (int64_t)(int8_t)p[0] : (int64_t)p[0];
        else if (sz == 2) {
            uint16_t u;
            memcpy(&u, p, 2);
            v[i] = in->is_signed ? (int64_t)(int16_t)u : (int64_t)u;
        } else if (sz == 4) {
            uint32_t u;
            memcpy(&u, p, 4);
            v[i] = in->is_signed ? (int64_t)(int32_t)u : (int64_t)u;
        } else memcpy(&v[i], p, 8);
    }
    nd_free(raw);
    if (mt >= 0) H5Tclose(mt);
    if (ft >= 0) H5Tclose(ft);
    if (st) nd_free(v);
    else *out = v;
    return st;
}

/* A numeric dataset (integer, float, enum / bool) as double (as_double) or int64 (float data must
 * then hold whole numbers). int64 and double arrays are converted in place (both 8 bytes). */
static nd_status read_numeric(nd_h5r *r, const char *obj, int as_double, void **x, nd_h5r_info *info,
                              nd_error *err) {
    char dbuf_[1100];
    nd_h5r_info tmp;
    if (!info) info = &tmp;
    *x = NULL;
    nd_h5_quiet q;
    nd_h5_quiet_on(&q);
    hid_t ds;
    void *buf = NULL;
    nd_status st = open_ds(r, obj, &ds, info, err);
    if (st) goto done;
    if (info->cls != ND_H5R_INT && info->cls != ND_H5R_FLOAT && info->cls != ND_H5R_BOOL) {
        st = nd_fail(err, ND_ERR_FORMAT, "%s: %s: type %s is not %s", r->path, DISP(obj), info->dtype,
                     as_double ? "numeric" : "an integer type");
        goto done;
    }
    unsigned char *p;
    if (is_enum_ds(ds)) {
        st = read_enum_i64(r, obj, ds, info, (int64_t **)&buf, err);
        p = buf;
        for (size_t i = 0; !st && as_double && i < info->numel; i++) {
            int64_t w;
            memcpy(&w, p + 8 * i, 8);
            double d = (double)w;
            memcpy(p + 8 * i, &d, 8);
        }
    } else if (as_double || info->cls != ND_H5R_FLOAT) {
        hid_t mt = as_double ? H5T_NATIVE_DOUBLE : H5T_NATIVE_INT64;
        st = read_all(r, DISP(obj), ds, info, mt, 8, 0, &buf, err);
    } else {
        st = read_all(r, DISP(obj), ds, info, H5T_NATIVE_DOUBLE, 8, 0, &buf, err);
        p = buf;
        for (size_t i = 0; !st && i < info->numel; i++) {
            double v;
            memcpy(&v, p + 8 * i, 8);
            if (!isfinite(v) || v != floor(v) || fabs(v) > 9.0e15) {
                st = nd_fail(err, ND_ERR_FORMAT, "%s: %s: element %zu = %g is not a whole number", r->path, DISP(obj),
                             i, v);
                break;
            }
            int64_t w = (int64_t)v;
            memcpy(p + 8 * i, &w, 8);
        }
    }
done:
    if (ds >= 0) H5Dclose(ds);
    nd_h5_quiet_off(&q);
    if (st) nd_free(buf);
    else *x = buf;
    return st;
}

nd_status nd_h5r_read_f64(nd_h5r *r, const char *obj, double **x, nd_h5r_info *info, nd_error *err) {
    return read_numeric(r, obj, 1, (void **)x, info, err);
}

nd_status nd_h5r_read_i64(nd_h5r *r, const char *obj, int64_t **x, nd_h5r_info *info, nd_error *err) {
    return read_numeric(r, obj, 0, (void **)x, info, err);
}

/* free what libhdf5 allocated for the variable-length strings (memory type mt, space sp) read into buf */
static void reclaim_vlen(hid_t mt, hid_t sp, void *buf) {
#if H5_VERSION_GE(1, 12, 0)
    H5Treclaim(mt, sp, H5P_DEFAULT, buf);
#else
    H5Dvlen_reclaim(mt, sp, H5P_DEFAULT, buf);
#endif
}

void nd_h5r_free_strings(char **s, size_t n) {
    if (!s) return;
    for (size_t i = 0; i < n; i++) free(s[i]);
    free(s);
}

nd_status nd_h5r_read_strings(nd_h5r *r, const char *obj, char ***out, size_t *nout, nd_error *err) {
    char dbuf_[1100];
    *out = NULL;
    *nout = 0;
    nd_h5r_info in;
    nd_h5_quiet q;
    nd_h5_quiet_on(&q);
    hid_t ds, ft = H5I_INVALID_HID, mt = H5I_INVALID_HID, sp = H5I_INVALID_HID;
    char **res = NULL;
    nd_status st = open_ds(r, obj, &ds, &in, err);
    if (st) goto done;
    if (in.cls != ND_H5R_STRING) {
        st = nd_fail(err, ND_ERR_FORMAT, "%s: %s: type %s, expected strings", r->path, DISP(obj), in.dtype);
        goto done;
    }
    ft = H5Dget_type(ds);
    sp = H5Dget_space(ds);
    mt = H5Tcopy(H5T_C_S1);
    H5Tset_cset(mt, H5Tget_cset(ft));
    int vlen = H5Tis_variable_str(ft) > 0;
    size_t sz = H5Tget_size(ft);
    if (vlen) H5Tset_size(mt, H5T_VARIABLE);
    else {
        H5Tset_size(mt, sz);
        H5Tset_strpad(mt, H5Tget_strpad(ft));
    }
    void *raw = NULL;
    if ((st = read_all(r, DISP(obj), ds, &in, mt, sizeof(char *), 1, &raw, err))) goto done;
    res = calloc(in.numel ? in.numel : 1, sizeof *res);
    for (size_t i = 0; res && i < in.numel; i++) {
        if (vlen) {
            const char *s = ((char **)raw)[i];
            res[i] = strdup(s ? s : "");
        } else {
            const char *p = (const char *)raw + i * sz;
            size_t len = 0;
            while (len < sz && p[len]) len++;
            while (len > 0 && p[len - 1] == ' ') len--; /* space-padded */
            res[i] = malloc(len + 1);
            if (res[i]) {
                memcpy(res[i], p, len);
                res[i][len] = 0;
            }
        }
    }
    if (vlen) reclaim_vlen(mt, sp, raw);
    nd_free(raw);
    for (size_t i = 0; i < in.numel && !st; i++)
        if (!res || !res[i]) st = nd_fail(err, ND_ERR_NOMEM, "%s: %s: out of memory", r->path, DISP(obj));
done:
    if (mt >= 0) H5Tclose(mt);
    if (ft >= 0) H5Tclose(ft);
    if (sp >= 0) H5Sclose(sp);
    if (ds >= 0) H5Dclose(ds);
    nd_h5_quiet_off(&q);
    if (st) nd_h5r_free_strings(res, res ? in.numel : 0);
    else {
        *out = res;
        *nout = in.numel;
    }
    return st;
}

nd_status nd_h5r_read_refs(nd_h5r *r, const char *obj, char ***out, size_t *nout, nd_error *err) {
    char dbuf_[1100];
    *out = NULL;
    *nout = 0;
    nd_h5r_info in;
    nd_h5_quiet q;
    nd_h5_quiet_on(&q);
    hid_t ds;
    char **res = NULL;
    hobj_ref_t *refs = NULL;
    nd_status st = open_ds(r, obj, &ds, &in, err);
    if (st) goto done;
    if (in.cls != ND_H5R_REF) {
        st = nd_fail(err, ND_ERR_FORMAT, "%s: %s: type %s, expected object references", r->path, DISP(obj),
                     in.dtype);
        goto done;
    }
    st = read_all(r, DISP(obj), ds, &in, H5T_STD_REF_OBJ, sizeof(char *), 0, (void **)&refs, err);
    if (st) goto done;
    res = calloc(in.numel ? in.numel : 1, sizeof *res);
    if (!res) {
        st = nd_fail(err, ND_ERR_NOMEM, "%s: %s: out of memory", r->path, DISP(obj));
        goto done;
    }
    for (size_t i = 0; i < in.numel; i++) {
        hid_t o = H5Rdereference2(ds, H5P_DEFAULT, H5R_OBJECT, &refs[i]);
        char name[1024] = "";
        ssize_t len = o >= 0 ? H5Iget_name(o, name, sizeof name) : -1;
        if (o >= 0) H5Oclose(o);
        if (len <= 0) {
            st = nd_fail(err, ND_ERR_FORMAT, "%s: %s: element %zu is a dangling or anonymous reference", r->path,
                         DISP(obj), i);
            goto done;
        }
        res[i] = strdup(name);
        if (!res[i]) {
            st = nd_fail(err, ND_ERR_NOMEM, "%s: %s: out of memory", r->path, DISP(obj));
            goto done;
        }
    }
done:
    nd_free(refs);
    if (ds >= 0) H5Dclose(ds);
    nd_h5_quiet_off(&q);
    if (st) nd_h5r_free_strings(res, res ? in.numel : 0);
    else {
        *out = res;
        *nout = in.numel;
    }
    return st;
}


/* ---------- attributes ---------- */
/* attributes are small (HDF5 keeps them in the object header); a larger claim is a corrupt file */
#define ATTR_MAX_ELEMENTS ((hssize_t)1 << 20)
#define ATTR_MAX_BYTES ((size_t)64 << 20)

/* an open attribute with its type and space */
typedef struct {
    hid_t a, t, sp;
} attr_handles;

/* quiet must be on: open attribute attr of obj ("/" = root), its type and space (close with attr_close) */
static nd_status attr_open(nd_h5r *r, const char *obj, const char *attr, attr_handles *h, nd_error *err) {
    h->a = h->t = h->sp = H5I_INVALID_HID;
    if (!obj || !attr || !links_exist(r->fid, obj))
        return nd_fail(err, ND_ERR_FORMAT, "%s: no object '%s'", r->path, obj ? obj : "(null)");
    if (H5Aexists_by_name(r->fid, obj, attr, H5P_DEFAULT) <= 0)
        return nd_fail(err, ND_ERR_FORMAT, "%s: object '%s' has no attribute '%s'", r->path, obj, attr);
    h->a = H5Aopen_by_name(r->fid, obj, attr, H5P_DEFAULT, H5P_DEFAULT);
    if (h->a < 0) return nd_fail(err, ND_ERR_FORMAT, "%s: object '%s': cannot open attribute '%s'", r->path, obj, attr);
    h->t = H5Aget_type(h->a);
    h->sp = H5Aget_space(h->a);
    return ND_OK;
}

static void attr_close(attr_handles *h) {
    if (h->sp >= 0) H5Sclose(h->sp);
    if (h->t >= 0) H5Tclose(h->t);
    if (h->a >= 0) H5Aclose(h->a);
}

/* quiet must be on: the first string of attribute a (string type t) into buf, truncated to cap - 1.
 * ND_OK; ND_ERR_NOMEM; ND_ERR_FORMAT if the read fails or the attribute claims more than
 * ATTR_MAX_*. *null_str = 1 when a variable-length string is NULL (buf is then ""). */
static nd_status attr_string_quiet(hid_t a, hid_t t, char *buf, size_t cap, int *null_str) {
    *null_str = 0;
    nd_status st = ND_ERR_FORMAT;
    hid_t mt = H5Tcopy(H5T_C_S1), sp = H5Aget_space(a);
    hssize_t np = sp >= 0 ? H5Sget_simple_extent_npoints(sp) : 0;
    if (mt < 0 || np < 1 || np > ATTR_MAX_ELEMENTS) goto done;
    H5Tset_cset(mt, H5Tget_cset(t));
    if (H5Tis_variable_str(t) > 0) {
        H5Tset_size(mt, H5T_VARIABLE);
        char **v = calloc((size_t)np, sizeof *v);
        if (!v) st = ND_ERR_NOMEM;
        else if (H5Aread(a, mt, v) >= 0) {
            *null_str = !v[0];
            snprintf(buf, cap, "%s", v[0] ? v[0] : "");
            st = ND_OK;
            reclaim_vlen(mt, sp, v);
        }
        free(v);
    } else {
        size_t sz = H5Tget_size(t);
        if (sz > ATTR_MAX_BYTES / (size_t)np) goto done;
        char *tmp = calloc(sz * (size_t)np + 1, 1);
        H5Tset_size(mt, sz);
        H5Tset_strpad(mt, H5Tget_strpad(t));
        if (!tmp) st = ND_ERR_NOMEM;
        else if (H5Aread(a, mt, tmp) >= 0) {
            size_t len = 0;
            while (len < sz && tmp[len]) len++;
            tmp[len] = 0;
            snprintf(buf, cap, "%s", tmp);
            st = ND_OK;
        }
        free(tmp);
    }
done:
    if (mt >= 0) H5Tclose(mt);
    if (sp >= 0) H5Sclose(sp);
    return st;
}

/* a string attribute; single: it must hold exactly one string (else the first of an array is taken) */
static nd_status attr_string(nd_h5r *r, const char *obj, const char *attr, char *buf, size_t cap, int single,
                             nd_error *err) {
    buf[0] = 0;
    nd_h5_quiet q;
    nd_h5_quiet_on(&q);
    attr_handles h;
    int null_str = 0;
    nd_status st = attr_open(r, obj, attr, &h, err);
    if (st) goto done;
    if (h.t < 0 || H5Tget_class(h.t) != H5T_STRING)
        st = nd_fail(err, ND_ERR_FORMAT, "%s: object '%s': attribute '%s' is not a string", r->path, obj, attr);
    else if (single && (h.sp < 0 || H5Sget_simple_extent_npoints(h.sp) != 1))
        st = nd_fail(err, ND_ERR_FORMAT, "%s: object '%s': attribute '%s' is not a single string", r->path, obj,
                     attr);
    else if ((st = attr_string_quiet(h.a, h.t, buf, cap, &null_str)) == ND_ERR_NOMEM)
        st = nd_fail(err, ND_ERR_NOMEM, "%s: attribute '%s': out of memory", r->path, attr);
    else if (st || (single && null_str))
        st = nd_fail(err, ND_ERR_FORMAT, "%s: object '%s': attribute '%s': read failed", r->path, obj, attr);
done:
    attr_close(&h);
    nd_h5_quiet_off(&q);
    return st;
}

nd_status nd_h5r_read_attr_string(nd_h5r *r, const char *obj, const char *attr, char *buf, size_t cap,
                                  nd_error *err) {
    if (!buf || cap == 0) return nd_fail(err, ND_ERR_ARG, "nd_h5r_read_attr_string: no buffer");
    return attr_string(r, obj, attr, buf, cap, 1, err);
}

int nd_h5r_attr_string(nd_h5r *r, const char *obj, const char *attr, char *buf, size_t cap) {
    return buf && cap && attr_string(r, obj, attr, buf, cap, 0, NULL) == ND_OK;
}

static const char *class_name(H5T_class_t c) {
    switch (c) {
    case H5T_INTEGER: return "integer";
    case H5T_FLOAT: return "float";
    case H5T_STRING: return "string";
    case H5T_BITFIELD: return "bitfield";
    case H5T_OPAQUE: return "opaque";
    case H5T_COMPOUND: return "compound";
    case H5T_REFERENCE: return "reference";
    case H5T_ENUM: return "enum (e.g. boolean)";
    case H5T_VLEN: return "variable-length";
    case H5T_ARRAY: return "array";
    default: return "unknown";
    }
}

nd_status nd_h5r_read_attr_double(nd_h5r *r, const char *obj, const char *attr, double *value, nd_error *err) {
    nd_h5_quiet q;
    nd_h5_quiet_on(&q);
    attr_handles h;
    char why[256];
    nd_status st = attr_open(r, obj, attr, &h, err);
    if (st) goto done;
    H5T_class_t c = h.t >= 0 ? H5Tget_class(h.t) : H5T_NO_CLASS;
    if (c != H5T_INTEGER && c != H5T_FLOAT)
        st = nd_fail(err, ND_ERR_FORMAT, "%s: object '%s': attribute '%s': type %s is not numeric", r->path, obj,
                     attr, class_name(c));
    else if (h.sp < 0 || H5Sget_simple_extent_npoints(h.sp) != 1)
        st = nd_fail(err, ND_ERR_FORMAT, "%s: object '%s': attribute '%s' is not a single number", r->path, obj,
                     attr);
    else if (nd_h5_check_type(h.t, why, sizeof why))
        st = nd_fail(err, ND_ERR_FORMAT, "%s: object '%s': attribute '%s': %s", r->path, obj, attr, why);
    else if (H5Aread(h.a, H5T_NATIVE_DOUBLE, value) < 0)
        st = nd_fail(err, ND_ERR_FORMAT, "%s: object '%s': attribute '%s': read failed", r->path, obj, attr);
done:
    attr_close(&h);
    nd_h5_quiet_off(&q);
    return st;
}

int nd_h5r_attr_f64(nd_h5r *r, const char *obj, const char *attr, double *v) {
    return nd_h5r_read_attr_double(r, obj, attr, v, NULL) == ND_OK;
}

/* ---------- the reads of h5.h (nd_h5_read_float ...), worded as h5.h words them ---------- */
/* quiet must be on: open dataset name */
static nd_status open_named(nd_h5r *r, const char *name, hid_t *ds, nd_error *err) {
    *ds = H5I_INVALID_HID;
    if (!name || !*name) return nd_fail(err, ND_ERR_ARG, "%s: empty dataset name", r->path);
    if (!links_exist(r->fid, name)) return nd_fail(err, ND_ERR_FORMAT, "%s: no dataset '%s'", r->path, name);
    *ds = H5Dopen2(r->fid, name, H5P_DEFAULT);
    if (*ds < 0) return nd_fail(err, ND_ERR_FORMAT, "%s: '%s' is not a dataset (a group?)", r->path, name);
    return ND_OK;
}

/* quiet must be on: the rank and dims of dataspace space (of dataset name) */
static nd_status dims_named(nd_h5r *r, const char *name, hid_t space, int *rank, size_t dims[ND_H5R_MAX_RANK],
                            nd_error *err) {
    int rk = H5Sget_simple_extent_ndims(space);
    if (rk < 0 || rk > ND_H5R_MAX_RANK)
        return nd_fail(err, ND_ERR_FORMAT, "%s: dataset '%s': rank %d not supported (max %d)", r->path, name, rk,
                       ND_H5R_MAX_RANK);
    hsize_t hd[ND_H5R_MAX_RANK];
    if (rk > 0) H5Sget_simple_extent_dims(space, hd, NULL);
    for (int i = 0; i < rk; i++) dims[i] = (size_t)hd[i];
    *rank = rk;
    return ND_OK;
}

nd_status nd_h5r_dims(nd_h5r *r, const char *name, int *rank, size_t dims[ND_H5R_MAX_RANK], nd_error *err) {
    *rank = 0;
    nd_h5_quiet q;
    nd_h5_quiet_on(&q);
    hid_t ds, space = H5I_INVALID_HID;
    nd_status st = open_named(r, name, &ds, err);
    if (!st && (space = H5Dget_space(ds)) < 0)
        st = nd_fail(err, ND_ERR_FORMAT, "%s: dataset '%s': cannot read its shape", r->path, name);
    if (!st) st = dims_named(r, name, space, rank, dims, err);
    if (space >= 0) H5Sclose(space);
    if (ds >= 0) H5Dclose(ds);
    nd_h5_quiet_off(&q);
    return st;
}

/* numeric dataset name, whole, as int_memtype (integer data) or float_memtype (float data) into a new
 * nd_alloc array; *cls (if cls is not NULL) receives the stored class. */
static nd_status read_named(nd_h5r *r, const char *name, hid_t int_memtype, hid_t float_memtype, void **data,
                            int *rank, size_t dims[ND_H5R_MAX_RANK], H5T_class_t *cls, nd_error *err) {
    H5T_class_t cls_;
    if (!cls) cls = &cls_;
    *data = NULL;
    *rank = 0;
    *cls = H5T_NO_CLASS;
    nd_h5_quiet q;
    nd_h5_quiet_on(&q);
    hid_t ds, type = H5I_INVALID_HID, space = H5I_INVALID_HID;
    int rk = 0;
    nd_status st = open_named(r, name, &ds, err);
    if (st) goto done;
    type = H5Dget_type(ds);
    *cls = type >= 0 ? H5Tget_class(type) : H5T_NO_CLASS;
    if (*cls != H5T_INTEGER && *cls != H5T_FLOAT)
        st = nd_fail(err, ND_ERR_FORMAT, "%s: dataset '%s': type %s is not numeric", r->path, name,
                     class_name(*cls));
    else if ((space = H5Dget_space(ds)) < 0 || H5Sget_simple_extent_type(space) == H5S_NULL)
        st = nd_fail(err, ND_ERR_FORMAT, "%s: dataset '%s': has no dataspace (empty)", r->path, name);
    else st = dims_named(r, name, space, &rk, dims, err);
    hid_t memtype = *cls == H5T_FLOAT ? float_memtype : int_memtype;
    size_t elsize = H5Tget_size(memtype);
    nd_h5r_info in = {.numel = 1};
    for (int i = 0; !st && i < rk; i++) {
        if (dims[i] != 0 && in.numel > SIZE_MAX / elsize / dims[i])
            st = nd_fail(err, ND_ERR_FORMAT, "%s: dataset '%s': too large", r->path, name);
        in.numel *= dims[i];
    }
    if (!st) {
        char what[1100];
        snprintf(what, sizeof what, "dataset '%s'", name);
        describe_type(type, &in);
        st = read_all(r, what, ds, &in, memtype, elsize, 0, data, err);
    }
    if (!st) *rank = rk;
done:
    if (space >= 0) H5Sclose(space);
    if (type >= 0) H5Tclose(type);
    if (ds >= 0) H5Dclose(ds);
    nd_h5_quiet_off(&q);
    return st;
}

nd_status nd_h5r_read_float(nd_h5r *r, const char *name, float **data, int *rank, size_t dims[ND_H5R_MAX_RANK],
                            nd_error *err) {
    return read_named(r, name, H5T_NATIVE_FLOAT, H5T_NATIVE_FLOAT, (void **)data, rank, dims, NULL, err);
}

nd_status nd_h5r_read_int(nd_h5r *r, const char *name, int **data, int *rank, size_t dims[ND_H5R_MAX_RANK],
                          nd_error *err) {
    *data = NULL;
    H5T_class_t cls;
    void *buf;
    /* integers via long long (HDF5 clips silently on overflow, so range-check ourselves); floats via double */
    nd_status st = read_named(r, name, H5T_NATIVE_LLONG, H5T_NATIVE_DOUBLE, &buf, rank, dims, &cls, err);
    if (st) return st;
    size_t n = 1;
    for (int i = 0; i < *rank; i++) n *= dims[i];
    int *out = nd_alloc(n * sizeof(int));
    if (!out) {
        nd_free(buf);
        return nd_fail(err, ND_ERR_NOMEM, "%s: dataset '%s': out of memory", r->path, name);
    }
    for (size_t i = 0; i < n; i++) {
        double v;
        int ok;
        if (cls == H5T_FLOAT) {
            v = ((const double *)buf)[i];
            ok = isfinite(v) && v == floor(v) && v >= INT_MIN && v <= INT_MAX;
        } else {
            long long w = ((const long long *)buf)[i];
            v = (double)w;
            ok = w >= INT_MIN && w <= INT_MAX;
        }
        if (!ok) {
            nd_free(buf);
            nd_free(out);
            return nd_fail(err, ND_ERR_FORMAT, "%s: dataset '%s': element %zu = %g is not an integer in int range",
                           r->path, name, i, v);
        }
        out[i] = (int)v;
    }
    nd_free(buf);
    *data = out;
    return ND_OK;
}

/* ---------- listings ---------- */
typedef struct {
    char **names;
    size_t n, cap;
    int fail;
} namelist;

static int push_name(namelist *l, const char *name) {
    if (l->n == l->cap) {
        size_t c = l->cap ? 2 * l->cap : 16;
        char **p = realloc(l->names, c * sizeof *p);
        if (!p) return -1;
        l->names = p;
        l->cap = c;
    }
    l->names[l->n] = strdup(name);
    if (!l->names[l->n]) return -1;
    l->n++;
    return 0;
}

static herr_t child_cb(hid_t g, const char *name, const H5L_info_t *info, void *ud) {
    (void)g;
    (void)info;
    namelist *l = ud;
    if (push_name(l, name)) {
        l->fail = 1;
        return -1;
    }
    return 0;
}

nd_status nd_h5r_children(nd_h5r *r, const char *group, char ***names, size_t *n, nd_error *err) {
    *names = NULL;
    *n = 0;
    nd_status st = nd_h5r_require_group(r, group, NULL, err);
    if (st) return st;
    nd_h5_quiet q;
    nd_h5_quiet_on(&q);
    namelist l = {0};
    hid_t g = H5Gopen2(r->fid, group, H5P_DEFAULT);
    hsize_t idx = 0;
    if (g >= 0) H5Literate(g, H5_INDEX_NAME, H5_ITER_INC, &idx, child_cb, &l);
    if (g >= 0) H5Gclose(g);
    nd_h5_quiet_off(&q);
    if (l.fail) {
        nd_h5r_free_strings(l.names, l.n);
        return nd_fail(err, ND_ERR_NOMEM, "%s: out of memory listing a group", r->path);
    }
    *names = l.names;
    *n = l.n;
    return ND_OK;
}

typedef struct {
    int (*cb)(const char *, const nd_h5r_info *, void *);
    void *ud;
    int stop;
} visit_ud;

static herr_t visit_cb(hid_t g, const char *name, const H5L_info_t *info, void *p) {
    visit_ud *v = p;
    if (info->type != H5L_TYPE_HARD) return 0;
    hid_t o = H5Oopen(g, name, H5P_DEFAULT);
    if (o < 0) return 0;
    if (H5Iget_type(o) == H5I_DATASET) {
        nd_h5r_info in;
        if (info_quiet(o, &in) != 0) { /* listed with its dims even when too large to read */
            char path[2048];
            snprintf(path, sizeof path, "/%s", name);
            if (v->cb(path, &in, v->ud)) v->stop = 1;
        }
    }
    H5Oclose(o);
    return v->stop ? 1 : 0;
}

nd_status nd_h5r_visit(nd_h5r *r, int (*cb)(const char *, const nd_h5r_info *, void *), void *ud, nd_error *err) {
    nd_h5_quiet q;
    nd_h5_quiet_on(&q);
    visit_ud v = {cb, ud, 0};
    herr_t e = H5Lvisit(r->fid, H5_INDEX_NAME, H5_ITER_INC, visit_cb, &v);
    nd_h5_quiet_off(&q);
    if (e < 0) return nd_fail(err, ND_ERR_FORMAT, "%s: cannot list the file's contents", r->path);
    return ND_OK;
}
