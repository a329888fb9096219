#include "h5_quiet.h"
#include "h5.h"
#include "h5x.h"
#include <errno.h>
#include <fcntl.h>
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>


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
nd_status nd_h5_write_u8(nd_h5file *f, const char *name, const unsigned char *data, int rank, const size_t *dims,
                         nd_error *err) {
    return write_dataset(f, name, data, H5T_NATIVE_UCHAR, H5T_STD_U8LE, rank, dims, err);
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

nd_status nd_h5_write_attr_int(nd_h5file *f, const char *obj, const char *attr, long long value, nd_error *err) {
    return write_attr(f, obj, attr, H5T_STD_I64LE, H5T_NATIVE_LLONG, &value, err);
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

/* ==================================== reader ====================================
 * Thin wrappers: open an nd_h5r, read through it, close (h5x.c has the one implementation). */
_Static_assert(ND_H5_MAX_RANK == ND_H5R_MAX_RANK, "h5.h and h5x.h ranks differ");

nd_status nd_h5_check_file(const char *path, nd_error *err) { return nd_h5r_check_file(path, err); }

/* the checks the path-based readers make before opening, in their order */
static nd_status open_for(const char *path, const char *name, nd_h5r **r, nd_error *err) {
    *r = NULL;
    if (!name || !*name) return nd_fail(err, ND_ERR_ARG, "%s: empty dataset name", path ? path : "?");
    if (!path || !*path) return nd_fail(err, ND_ERR_ARG, "HDF5 read: empty file name");
    return nd_h5r_open(path, r, err);
}

int nd_h5_exists(const char *path, const char *name) {
    nd_h5r *r;
    int found = open_for(path, name, &r, NULL) == ND_OK && nd_h5r_kind(r, name) == ND_H5R_DATASET;
    nd_h5r_close(r);
    return found;
}

nd_status nd_h5_dims(const char *path, const char *name, int *rank, size_t dims[ND_H5_MAX_RANK], nd_error *err) {
    *rank = 0;
    nd_h5r *r;
    nd_status st = open_for(path, name, &r, err);
    if (!st) st = nd_h5r_dims(r, name, rank, dims, err);
    nd_h5r_close(r);
    return st;
}

nd_status nd_h5_read_float(const char *path, const char *name, float **data, int *rank,
                           size_t dims[ND_H5_MAX_RANK], nd_error *err) {
    *data = NULL;
    *rank = 0;
    nd_h5r *r;
    nd_status st = open_for(path, name, &r, err);
    if (!st) st = nd_h5r_read_float(r, name, data, rank, dims, err);
    nd_h5r_close(r);
    return st;
}

nd_status nd_h5_read_int(const char *path, const char *name, int **data, int *rank, size_t dims[ND_H5_MAX_RANK],
                         nd_error *err) {
    *data = NULL;
    *rank = 0;
    nd_h5r *r;
    nd_status st = open_for(path, name, &r, err);
    if (!st) st = nd_h5r_read_int(r, name, data, rank, dims, err);
    nd_h5r_close(r);
    return st;
}

nd_status nd_h5_read_attr_double(const char *path, const char *obj, const char *attr, double *value,
                                 nd_error *err) {
    nd_h5r *r;
    nd_status st = open_for(path, "/", &r, err);
    if (!st) st = nd_h5r_read_attr_double(r, obj, attr, value, err);
    nd_h5r_close(r);
    return st;
}

nd_status nd_h5_read_attr_string(const char *path, const char *obj, const char *attr, char *buf, size_t cap,
                                 nd_error *err) {
    if (!buf || cap == 0) return nd_fail(err, ND_ERR_ARG, "nd_h5_read_attr_string: no buffer");
    buf[0] = 0;
    nd_h5r *r;
    nd_status st = open_for(path, "/", &r, err);
    if (!st) st = nd_h5r_read_attr_string(r, obj, attr, buf, cap, err);
    nd_h5r_close(r);
    return st;
}
