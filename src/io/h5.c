#include "h5_quiet.h"
#include "h5.h"
#include "h5_guard.h"
#include <errno.h>
#include <fcntl.h>
#include <hdf5.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "../core/mem.h"


static char *dup_str(const char *s, const char *suffix) {
    size_t a = strlen(s), b = suffix ? strlen(suffix) : 0;
    char *p = malloc(a + b + 1);
    if (!p) return NULL;
    memcpy(p, s, a);
    if (b) memcpy(p + a, suffix, b);
    p[a + b] = 0;
    return p;
}

/* ==================================== writer ==================================== */
struct nd_h5file {
    hid_t fid;
    char *path, *tmp;
};

static void h5file_free(nd_h5file *f) {
    if (!f) return;
    free(f->path);
    free(f->tmp);
    free(f);
}

nd_status nd_h5_create(nd_h5file **out, const char *path, nd_error *err) {
    if (!out) return nd_fail(err, ND_ERR_ARG, "nd_h5_create: NULL output handle");
    *out = NULL;
    if (!path || !*path) return nd_fail(err, ND_ERR_ARG, "nd_h5_create: empty output path");
    nd_h5file *f = calloc(1, sizeof *f);
    if (!f) return nd_fail(err, ND_ERR_NOMEM, "%s: out of memory opening for writing", path);
    f->fid = H5I_INVALID_HID;
    f->path = dup_str(path, NULL);
    f->tmp = dup_str(path, ".tmp");
    if (!f->path || !f->tmp) {
        h5file_free(f);
        return nd_fail(err, ND_ERR_NOMEM, "%s: out of memory opening for writing", path);
    }
    /* Probe with stdio first: its errno gives a clear reason (no such directory, permission). */
    FILE *fp = fopen(f->tmp, "wb");
    if (!fp) {
        nd_status s = nd_fail(err, ND_ERR_IO, "%s: cannot create '%s': %s", path, f->tmp, strerror(errno));
        h5file_free(f);
        return s;
    }
    fclose(fp);
    nd_h5_quiet q;
    nd_h5_quiet_on(&q);
    hid_t fcpl = H5Pcreate(H5P_FILE_CREATE);
    if (fcpl >= 0) H5Pset_obj_track_times(fcpl, 0);
    f->fid = H5Fcreate(f->tmp, H5F_ACC_TRUNC, fcpl >= 0 ? fcpl : H5P_DEFAULT, H5P_DEFAULT);
    if (fcpl >= 0) H5Pclose(fcpl);
    nd_h5_quiet_off(&q);
    if (f->fid < 0) {
        remove(f->tmp);
        nd_status s = nd_fail(err, ND_ERR_IO, "%s: cannot create HDF5 file '%s'", path, f->tmp);
        h5file_free(f);
        return s;
    }
    *out = f;
    return ND_OK;
}

static void fsync_path(const char *p, int dir) {
    int fd = open(p, dir ? (O_RDONLY | O_DIRECTORY) : O_RDONLY);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

nd_status nd_h5_close(nd_h5file *f, int commit, nd_error *err) {
    if (!f) return ND_OK;
    nd_status st = ND_OK;
    nd_h5_quiet q;
    nd_h5_quiet_on(&q);
    int bad = 0;
    if (f->fid >= 0) {
        if (commit && H5Fflush(f->fid, H5F_SCOPE_GLOBAL) < 0) bad = 1;
        if (H5Fclose(f->fid) < 0) bad = 1;
        f->fid = H5I_INVALID_HID;
    }
    nd_h5_quiet_off(&q);
    if (!commit) {
        remove(f->tmp);
    } else if (bad) {
        remove(f->tmp);
        st = nd_fail(err, ND_ERR_IO, "%s: writing '%s' failed while flushing/closing (disk full?)", f->path,
                     f->tmp);
    } else {
        fsync_path(f->tmp, 0);
        if (rename(f->tmp, f->path) != 0) {
            st = nd_fail(err, ND_ERR_IO, "%s: cannot rename '%s' into place: %s", f->path, f->tmp,
                         strerror(errno));
            remove(f->tmp);
        } else {
            /* make the rename itself durable */
            char *dir = dup_str(f->path, NULL);
            if (dir) {
                char *slash = strrchr(dir, '/');
                if (!slash) fsync_path(".", 1);
                else {
                    if (slash == dir) slash[1] = 0;
                    else *slash = 0;
                    fsync_path(dir, 1);
                }
                free(dir);
            }
        }
    }
    h5file_free(f);
    return st;
}

static nd_status check_writer(nd_h5file *f, const char *name, nd_error *err) {
    if (!f || f->fid < 0) return nd_fail(err, ND_ERR_ARG, "HDF5 write: file is not open");
    if (!name || !*name) return nd_fail(err, ND_ERR_ARG, "%s: HDF5 write: empty dataset name", f->path);
    return ND_OK;
}

static nd_status write_dataset(nd_h5file *f, const char *name, const void *data, hid_t memtype, hid_t filetype,
                               int rank, const size_t *dims, nd_error *err) {
    nd_status st = check_writer(f, name, err);
    if (st) return st;
    if (rank < 0 || rank > ND_H5_MAX_RANK)
        return nd_fail(err, ND_ERR_ARG, "%s: dataset '%s': rank %d not in [0, %d]", f->path, name, rank,
                       ND_H5_MAX_RANK);
    if (rank > 0 && !dims) return nd_fail(err, ND_ERR_ARG, "%s: dataset '%s': NULL dims", f->path, name);
    hsize_t hd[ND_H5_MAX_RANK];
    size_t numel = 1;
    for (int i = 0; i < rank; i++) {
        hd[i] = (hsize_t)dims[i];
        numel *= dims[i];
    }
    if (numel > 0 && !data) return nd_fail(err, ND_ERR_ARG, "%s: dataset '%s': NULL data", f->path, name);

    nd_h5_quiet q;
    nd_h5_quiet_on(&q);
    hid_t space = H5I_INVALID_HID, lcpl = H5I_INVALID_HID, dcpl = H5I_INVALID_HID, ds = H5I_INVALID_HID;
    const char *what = NULL;
    if (H5Lexists(f->fid, name, H5P_DEFAULT) > 0) {
        what = "already exists";
        goto done;
    }
    space = rank == 0 ? H5Screate(H5S_SCALAR) : H5Screate_simple(rank, hd, NULL);
    lcpl = H5Pcreate(H5P_LINK_CREATE);
    dcpl = H5Pcreate(H5P_DATASET_CREATE);
    if (space < 0 || lcpl < 0 || dcpl < 0) {
        what = "cannot set up dataspace";
        goto done;
    }
    H5Pset_create_intermediate_group(lcpl, 1);
    H5Pset_obj_track_times(dcpl, 0); /* no timestamps: same inputs give byte-identical files */
    if (rank > 0 && numel >= 4096 && H5Zfilter_avail(H5Z_FILTER_DEFLATE) > 0) {
        /* chunks of at most ~64k elements, cut along the leading dimensions */
        hsize_t ch[ND_H5_MAX_RANK];
        const hsize_t target = 65536;
        hsize_t total = 1;
        for (int i = 0; i < rank; i++) {
            ch[i] = hd[i];
            total *= ch[i];
        }
        for (int i = 0; i < rank && total > target; i++) {
            hsize_t rest = total / ch[i];
            hsize_t c = rest >= target ? 1 : target / rest;
            if (c < 1) c = 1;
            if (c < ch[i]) {
                total = rest * c;
                ch[i] = c;
            }
        }
        if (H5Pset_chunk(dcpl, rank, ch) >= 0) {
            H5Pset_shuffle(dcpl);
            H5Pset_deflate(dcpl, 1);
        }
    }
    ds = H5Dcreate2(f->fid, name, filetype, space, lcpl, dcpl, H5P_DEFAULT);
    if (ds < 0) {
        what = "cannot create dataset";
        goto done;
    }
    if (numel > 0 && H5Dwrite(ds, memtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0) what = "write failed (disk full?)";
done:
    if (ds >= 0) H5Dclose(ds);
    if (dcpl >= 0) H5Pclose(dcpl);
    if (lcpl >= 0) H5Pclose(lcpl);
    if (space >= 0) H5Sclose(space);
    nd_h5_quiet_off(&q);
    if (what)
        return nd_fail(err, strcmp(what, "already exists") == 0 ? ND_ERR_ARG : ND_ERR_IO, "%s: dataset '%s': %s",
                       f->path, name, what);
    return ND_OK;
}

nd_status nd_h5_write_float(nd_h5file *f, const char *name, const float *data, int rank, const size_t *dims,
                            nd_error *err) {
    return write_dataset(f, name, data, H5T_NATIVE_FLOAT, H5T_IEEE_F32LE, rank, dims, err);
}
nd_status nd_h5_write_int(nd_h5file *f, const char *name, const int *data, int rank, const size_t *dims,
                          nd_error *err) {
    return write_dataset(f, name, data, H5T_NATIVE_INT, H5T_STD_I32LE, rank, dims, err);
}
nd_status nd_h5_write_double(nd_h5file *f, const char *name, const double *data, int rank, const size_t *dims,
                             nd_error *err) {
    return write_dataset(f, name, data, H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE, rank, dims, err);
}

/* Open obj (for attributes), replace attr if present, create it with `ftype`, write `buf` as `mtype`. */
static nd_status write_attr(nd_h5file *f, const char *obj, const char *attr, hid_t ftype, hid_t mtype,
                            const void *buf, nd_error *err) {
    nd_status st = check_writer(f, obj, err);
    if (st) return st;
    if (!attr || !*attr) return nd_fail(err, ND_ERR_ARG, "%s: object '%s': empty attribute name", f->path, obj);
    nd_h5_quiet q;
    nd_h5_quiet_on(&q);
    const char *what = NULL;
    hid_t oid = H5I_INVALID_HID, space = H5I_INVALID_HID, a = H5I_INVALID_HID;
    if (strcmp(obj, "/") != 0 && H5Lexists(f->fid, obj, H5P_DEFAULT) <= 0) {
        what = "object does not exist";
        goto done;
    }
    oid = H5Oopen(f->fid, obj, H5P_DEFAULT);
    if (oid < 0) {
        what = "cannot open object";
        goto done;
    }
    if (H5Aexists(oid, attr) > 0 && H5Adelete(oid, attr) < 0) {
        what = "cannot replace existing attribute";
        goto done;
    }
    space = H5Screate(H5S_SCALAR);
    a = space >= 0 ? H5Acreate2(oid, attr, ftype, space, H5P_DEFAULT, H5P_DEFAULT) : H5I_INVALID_HID;
    if (a < 0) {
        what = "cannot create attribute";
        goto done;
    }
    if (H5Awrite(a, mtype, buf) < 0) what = "cannot write attribute";
done:
    if (a >= 0) H5Aclose(a);
    if (space >= 0) H5Sclose(space);
    if (oid >= 0) H5Oclose(oid);
    nd_h5_quiet_off(&q);
    if (what) return nd_fail(err, ND_ERR_IO, "%s: object '%s': attribute '%s': %s", f->path, obj, attr, what);
    return ND_OK;
}

nd_status nd_h5_write_attr_double(nd_h5file *f, const char *obj, const char *attr, double value, nd_error *err) {
    return write_attr(f, obj, attr, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &value, err);
}

nd_status nd_h5_write_attr_int(nd_h5file *f, const char *obj, const char *attr, int value, nd_error *err) {
    return write_attr(f, obj, attr, H5T_STD_I32LE, H5T_NATIVE_INT, &value, err);
}

nd_status nd_h5_write_attr_string(nd_h5file *f, const char *obj, const char *attr, const char *value,
                                  nd_error *err) {
    nd_h5_quiet q;
    nd_h5_quiet_on(&q);
    hid_t t = H5Tcopy(H5T_C_S1);
    if (t >= 0) {
        H5Tset_size(t, H5T_VARIABLE);
        H5Tset_cset(t, H5T_CSET_UTF8);
    }
    nd_h5_quiet_off(&q);
    if (t < 0) return nd_fail(err, ND_ERR_INTERNAL, "HDF5: cannot create a string type");
    const char *buf[1] = {value ? value : ""};
    nd_status st = write_attr(f, obj, attr, t, t, buf, err);
    nd_h5_quiet_on(&q);
    H5Tclose(t);
    nd_h5_quiet_off(&q);
    return st;
}

/* ==================================== reader ==================================== */
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

nd_status nd_h5_check_file(const char *path, nd_error *err) {
    nd_h5_quiet q;
    nd_h5_quiet_on(&q);
    nd_status st = check_file_quiet(path, err);
    nd_h5_quiet_off(&q);
    return st;
}

/* quiet must be on */
static nd_status open_file(const char *path, hid_t *fid, nd_error *err) {
    *fid = H5I_INVALID_HID;
    nd_status st = check_file_quiet(path, err);
    if (st) return st;
    *fid = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (*fid < 0) return nd_fail(err, ND_ERR_IO, "%s: cannot open as HDF5 (corrupt, truncated or locked?)", path);
    return ND_OK;
}

/* 1 if every prefix of name is a link (avoids H5Lexists failing on a missing intermediate group) */
static int link_exists(hid_t fid, const char *name) {
    char buf[1024];
    size_t n = strlen(name);
    if (n == 0 || n >= sizeof buf) return 0;
    memcpy(buf, name, n + 1);
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

int nd_h5_exists(const char *path, const char *name) {
    if (!path || !name || !*name) return 0;
    nd_h5_quiet q;
    nd_h5_quiet_on(&q);
    int found = 0;
    hid_t fid = H5I_INVALID_HID;
    nd_error e;
    if (open_file(path, &fid, &e) == ND_OK && link_exists(fid, name)) {
        hid_t ds = H5Dopen2(fid, name, H5P_DEFAULT);
        if (ds >= 0) {
            found = 1;
            H5Dclose(ds);
        }
    }
    if (fid >= 0) H5Fclose(fid);
    nd_h5_quiet_off(&q);
    return found;
}

nd_status nd_h5_dims(const char *path, const char *name, int *rank, size_t dims[ND_H5_MAX_RANK], nd_error *err) {
    *rank = 0;
    if (!name || !*name) return nd_fail(err, ND_ERR_ARG, "%s: empty dataset name", path ? path : "?");
    nd_h5_quiet q;
    nd_h5_quiet_on(&q);
    hid_t fid, ds = H5I_INVALID_HID, space = H5I_INVALID_HID;
    nd_status st = open_file(path, &fid, err);
    if (st) {
        nd_h5_quiet_off(&q);
        return st;
    }
    if (!link_exists(fid, name)) st = nd_fail(err, ND_ERR_FORMAT, "%s: no dataset '%s'", path, name);
    else if ((ds = H5Dopen2(fid, name, H5P_DEFAULT)) < 0)
        st = nd_fail(err, ND_ERR_FORMAT, "%s: '%s' is not a dataset (a group?)", path, name);
    else if ((space = H5Dget_space(ds)) < 0)
        st = nd_fail(err, ND_ERR_FORMAT, "%s: dataset '%s': cannot read its shape", path, name);
    else {
        int r = H5Sget_simple_extent_ndims(space);
        if (r < 0 || r > ND_H5_MAX_RANK)
            st = nd_fail(err, ND_ERR_FORMAT, "%s: dataset '%s': rank %d not supported (max %d)", path, name, r,
                         ND_H5_MAX_RANK);
        else {
            hsize_t hd[ND_H5_MAX_RANK];
            if (r > 0) H5Sget_simple_extent_dims(space, hd, NULL);
            for (int i = 0; i < r; i++) dims[i] = (size_t)hd[i];
            *rank = r;
        }
    }
    if (space >= 0) H5Sclose(space);
    if (ds >= 0) H5Dclose(ds);
    H5Fclose(fid);
    nd_h5_quiet_off(&q);
    return st;
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

/* Read dataset `name` as memtype (elsize bytes). *cls receives the stored class. Quiet must be on. */
static nd_status read_dataset(const char *path, const char *name, hid_t memtype, size_t elsize, void **data,
                              int *rank, size_t dims[ND_H5_MAX_RANK], H5T_class_t *cls, nd_error *err) {
    *data = NULL;
    *rank = 0;
    if (!name || !*name) return nd_fail(err, ND_ERR_ARG, "%s: empty dataset name", path ? path : "?");
    hid_t fid, ds = H5I_INVALID_HID, type = H5I_INVALID_HID, space = H5I_INVALID_HID;
    nd_status st = open_file(path, &fid, err);
    if (st) return st;
    void *buf = NULL;
    if (!link_exists(fid, name)) {
        st = nd_fail(err, ND_ERR_FORMAT, "%s: no dataset '%s'", path, name);
        goto done;
    }
    ds = H5Dopen2(fid, name, H5P_DEFAULT);
    if (ds < 0) {
        st = nd_fail(err, ND_ERR_FORMAT, "%s: '%s' is not a dataset (a group?)", path, name);
        goto done;
    }
    type = H5Dget_type(ds);
    *cls = type >= 0 ? H5Tget_class(type) : H5T_NO_CLASS;
    if (*cls != H5T_INTEGER && *cls != H5T_FLOAT) {
        st = nd_fail(err, ND_ERR_FORMAT, "%s: dataset '%s': type %s is not numeric", path, name, class_name(*cls));
        goto done;
    }
    space = H5Dget_space(ds);
    if (space < 0 || H5Sget_simple_extent_type(space) == H5S_NULL) {
        st = nd_fail(err, ND_ERR_FORMAT, "%s: dataset '%s': has no dataspace (empty)", path, name);
        goto done;
    }
    int r = H5Sget_simple_extent_ndims(space);
    if (r < 0 || r > ND_H5_MAX_RANK) {
        st = nd_fail(err, ND_ERR_FORMAT, "%s: dataset '%s': rank %d not supported (max %d)", path, name, r,
                     ND_H5_MAX_RANK);
        goto done;
    }
    hsize_t hd[ND_H5_MAX_RANK];
    if (r > 0) H5Sget_simple_extent_dims(space, hd, NULL);
    size_t numel = 1;
    for (int i = 0; i < r; i++) {
        if (hd[i] != 0 && numel > SIZE_MAX / elsize / hd[i]) {
            st = nd_fail(err, ND_ERR_FORMAT, "%s: dataset '%s': too large", path, name);
            goto done;
        }
        numel *= (size_t)hd[i];
        dims[i] = (size_t)hd[i];
    }
    char why[256];
    if (nd_h5_check_read(ds, numel, elsize, why, sizeof why)) { /* before allocating: see h5_guard.h */
        st = nd_fail(err, ND_ERR_FORMAT, "%s: dataset '%s': %s", path, name, why);
        goto done;
    }
    buf = nd_alloc(numel * elsize);
    if (!buf) {
        st = nd_fail(err, ND_ERR_NOMEM, "%s: dataset '%s': out of memory (%zu elements)", path, name, numel);
        goto done;
    }
    if (numel > 0 && H5Dread(ds, memtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0) {
        st = nd_fail(err, ND_ERR_FORMAT, "%s: dataset '%s': read failed (corrupt file or unavailable filter)",
                     path, name);
        goto done;
    }
    *rank = r;
    *data = buf;
    buf = NULL;
done:
    nd_free(buf);
    if (space >= 0) H5Sclose(space);
    if (type >= 0) H5Tclose(type);
    if (ds >= 0) H5Dclose(ds);
    H5Fclose(fid);
    return st;
}

nd_status nd_h5_read_float(const char *path, const char *name, float **data, int *rank,
                           size_t dims[ND_H5_MAX_RANK], nd_error *err) {
    nd_h5_quiet q;
    nd_h5_quiet_on(&q);
    H5T_class_t cls;
    void *buf;
    nd_status st = read_dataset(path, name, H5T_NATIVE_FLOAT, sizeof(float), &buf, rank, dims, &cls, err);
    nd_h5_quiet_off(&q);
    *data = buf;
    return st;
}

static size_t numel_of(int rank, const size_t *dims) {
    size_t n = 1;
    for (int i = 0; i < rank; i++) n *= dims[i];
    return n;
}

nd_status nd_h5_read_int(const char *path, const char *name, int **data, int *rank, size_t dims[ND_H5_MAX_RANK],
                         nd_error *err) {
    *data = NULL;
    nd_h5_quiet q;
    nd_h5_quiet_on(&q);
    H5T_class_t cls = H5T_NO_CLASS;
    void *buf = NULL;
    /* integers via long long (HDF5 clips silently on overflow, so range-check ourselves); floats via double */
    nd_status st = read_dataset(path, name, H5T_NATIVE_LLONG, sizeof(long long), &buf, rank, dims, &cls, err);
    if (st == ND_OK && cls == H5T_FLOAT) {
        nd_free(buf);
        buf = NULL;
        st = read_dataset(path, name, H5T_NATIVE_DOUBLE, sizeof(double), &buf, rank, dims, &cls, err);
    }
    nd_h5_quiet_off(&q);
    if (st) return st;
    size_t n = numel_of(*rank, dims);
    int *out = nd_alloc(n * sizeof(int));
    if (!out) {
        nd_free(buf);
        return nd_fail(err, ND_ERR_NOMEM, "%s: dataset '%s': out of memory", path, name);
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
                           path, name, i, v);
        }
        out[i] = (int)v;
    }
    nd_free(buf);
    *data = out;
    return ND_OK;
}

/* quiet must be on; opens the attribute, *fid and *a returned open */
static nd_status open_attr(const char *path, const char *obj, const char *attr, hid_t *fid, hid_t *a,
                           nd_error *err) {
    *a = H5I_INVALID_HID;
    nd_status st = open_file(path, fid, err);
    if (st) return st;
    if (!obj || !attr || (strcmp(obj, "/") != 0 && !link_exists(*fid, obj)))
        st = nd_fail(err, ND_ERR_FORMAT, "%s: no object '%s'", path, obj ? obj : "(null)");
    else if (H5Aexists_by_name(*fid, obj, attr, H5P_DEFAULT) <= 0)
        st = nd_fail(err, ND_ERR_FORMAT, "%s: object '%s' has no attribute '%s'", path, obj, attr);
    else if ((*a = H5Aopen_by_name(*fid, obj, attr, H5P_DEFAULT, H5P_DEFAULT)) < 0)
        st = nd_fail(err, ND_ERR_FORMAT, "%s: object '%s': cannot open attribute '%s'", path, obj, attr);
    if (st) {
        H5Fclose(*fid);
        *fid = H5I_INVALID_HID;
    }
    return st;
}

nd_status nd_h5_read_attr_double(const char *path, const char *obj, const char *attr, double *value,
                                 nd_error *err) {
    nd_h5_quiet q;
    nd_h5_quiet_on(&q);
    hid_t fid, a, type = H5I_INVALID_HID, space = H5I_INVALID_HID;
    nd_status st = open_attr(path, obj, attr, &fid, &a, err);
    if (st) {
        nd_h5_quiet_off(&q);
        return st;
    }
    char why[256];
    type = H5Aget_type(a);
    H5T_class_t cls = type >= 0 ? H5Tget_class(type) : H5T_NO_CLASS;
    space = H5Aget_space(a);
    if (cls != H5T_INTEGER && cls != H5T_FLOAT)
        st = nd_fail(err, ND_ERR_FORMAT, "%s: object '%s': attribute '%s': type %s is not numeric", path, obj,
                     attr, class_name(cls));
    else if (space < 0 || H5Sget_simple_extent_npoints(space) != 1)
        st = nd_fail(err, ND_ERR_FORMAT, "%s: object '%s': attribute '%s' is not a single number", path, obj,
                     attr);
    else if (nd_h5_check_type(type, why, sizeof why))
        st = nd_fail(err, ND_ERR_FORMAT, "%s: object '%s': attribute '%s': %s", path, obj, attr, why);
    else if (H5Aread(a, H5T_NATIVE_DOUBLE, value) < 0)
        st = nd_fail(err, ND_ERR_FORMAT, "%s: object '%s': attribute '%s': read failed", path, obj, attr);
    if (space >= 0) H5Sclose(space);
    if (type >= 0) H5Tclose(type);
    H5Aclose(a);
    H5Fclose(fid);
    nd_h5_quiet_off(&q);
    return st;
}

nd_status nd_h5_read_attr_string(const char *path, const char *obj, const char *attr, char *buf, size_t cap,
                                 nd_error *err) {
    if (!buf || cap == 0) return nd_fail(err, ND_ERR_ARG, "nd_h5_read_attr_string: no buffer");
    buf[0] = 0;
    nd_h5_quiet q;
    nd_h5_quiet_on(&q);
    hid_t fid, a, type = H5I_INVALID_HID, mt = H5I_INVALID_HID;
    nd_status st = open_attr(path, obj, attr, &fid, &a, err);
    if (st) {
        nd_h5_quiet_off(&q);
        return st;
    }
    type = H5Aget_type(a);
    hid_t space = H5Aget_space(a);
    hssize_t np = space >= 0 ? H5Sget_simple_extent_npoints(space) : -1;
    if (space >= 0) H5Sclose(space);
    if (type < 0 || H5Tget_class(type) != H5T_STRING) {
        st = nd_fail(err, ND_ERR_FORMAT, "%s: object '%s': attribute '%s' is not a string", path, obj, attr);
    } else if (np != 1) { /* H5Aread writes every element: the buffers below hold one */
        st = nd_fail(err, ND_ERR_FORMAT, "%s: object '%s': attribute '%s' is not a single string", path, obj, attr);
    } else if (H5Tis_variable_str(type) > 0) {
        char *s = NULL;
        mt = H5Tcopy(H5T_C_S1);
        H5Tset_size(mt, H5T_VARIABLE);
        H5Tset_cset(mt, H5Tget_cset(type));
        if (H5Aread(a, mt, &s) < 0 || !s) {
            st = nd_fail(err, ND_ERR_FORMAT, "%s: object '%s': attribute '%s': read failed", path, obj, attr);
        } else {
            snprintf(buf, cap, "%s", s);
            H5free_memory(s);
        }
    } else {
        size_t sz = H5Tget_size(type);
        char *tmp = calloc(sz + 1, 1);
        mt = H5Tcopy(H5T_C_S1);
        H5Tset_size(mt, sz);
        H5Tset_cset(mt, H5Tget_cset(type));
        H5Tset_strpad(mt, H5Tget_strpad(type));
        if (!tmp) st = nd_fail(err, ND_ERR_NOMEM, "%s: attribute '%s': out of memory", path, attr);
        else if (H5Aread(a, mt, tmp) < 0)
            st = nd_fail(err, ND_ERR_FORMAT, "%s: object '%s': attribute '%s': read failed", path, obj, attr);
        else snprintf(buf, cap, "%s", tmp);
        free(tmp);
    }
    if (mt >= 0) H5Tclose(mt);
    if (type >= 0) H5Tclose(type);
    H5Aclose(a);
    H5Fclose(fid);
    nd_h5_quiet_off(&q);
    return st;
}
