/* Thin HDF5 helpers: an atomic writer (everything goes to <path>.tmp, which is
 * renamed over <path> only on a successful commit) and readers that convert any
 * numeric dataset to float or int. Each reader opens the file, reads one thing and
 * closes it: it is a wrapper over the one HDF5 reader, h5x.h (nd_h5r_read_float and
 * friends, same checks and messages); a caller reading many datasets of one file
 * opens one nd_h5r and reads through it.
 *
 * Every function silences HDF5's own error-stack printing while it runs (and
 * restores the previous handler afterwards), so a user only ever sees our
 * one-line nd_error message, which names the file, the dataset and the problem.
 *
 * Dataset names may contain '/' (intermediate groups are created on write).
 * Arrays returned by the readers are allocated with nd_alloc; free with nd_free. */
#ifndef ND_IO_H5_H
#define ND_IO_H5_H
#include <stddef.h>
#include "../core/status.h"

#define ND_H5_MAX_RANK 8

/* ---------- writer ---------- */
typedef struct nd_h5file nd_h5file;

/* Create <path>.tmp for writing (truncating any stale one). */
nd_status nd_h5_create(nd_h5file **f, const char *path, nd_error *err);
/* commit = 1: flush, close, fsync and atomically rename <path>.tmp over <path>.
 * commit = 0: close and remove <path>.tmp (path is left untouched).
 * Always frees f (f == NULL is a no-op returning ND_OK). */
nd_status nd_h5_close(nd_h5file *f, int commit, nd_error *err);

/* rank 0 writes a scalar dataset (dims may then be NULL). Datasets of 4096
 * elements or more are chunked and gzip-compressed. Stored as float32 / int32 / float64. */
nd_status nd_h5_write_float(nd_h5file *f, const char *name, const float *data, int rank, const size_t *dims,
                            nd_error *err);
nd_status nd_h5_write_int(nd_h5file *f, const char *name, const int *data, int rank, const size_t *dims,
                          nd_error *err);
nd_status nd_h5_write_double(nd_h5file *f, const char *name, const double *data, int rank, const size_t *dims,
                             nd_error *err);
/* unsigned 8-bit (binary spike arrays) */
nd_status nd_h5_write_u8(nd_h5file *f, const char *name, const unsigned char *data, int rank, const size_t *dims,
                         nd_error *err);
/* Attributes on an existing object: obj is "/" for the root group or a dataset/group
 * name. An existing attribute of the same name is replaced. Strings are stored as
 * variable-length UTF-8 (h5py reads them as str). */
nd_status nd_h5_write_attr_double(nd_h5file *f, const char *obj, const char *attr, double value, nd_error *err);
/* an integer attribute, stored as int64 */
nd_status nd_h5_write_attr_int(nd_h5file *f, const char *obj, const char *attr, long long value, nd_error *err);
nd_status nd_h5_write_attr_string(nd_h5file *f, const char *obj, const char *attr, const char *value,
                                  nd_error *err);

/* ---------- reader ---------- */
/* ND_OK if path exists, is readable and is an HDF5 file; else ND_ERR_IO (missing /
 * unreadable) or ND_ERR_FORMAT (not HDF5). */
nd_status nd_h5_check_file(const char *path, nd_error *err);
/* 1 if `name` exists in the file and is a dataset, else 0 (also 0 if the file cannot be opened). */
int nd_h5_exists(const char *path, const char *name);
/* Shape of a dataset without reading it (any type). Errors as for nd_h5_read_float. */
nd_status nd_h5_dims(const char *path, const char *name, int *rank, size_t dims[ND_H5_MAX_RANK], nd_error *err);
/* Read a numeric dataset (integers of any width/sign, float32/64) as float.
 * rank receives the rank (0 for a scalar, which has one element); dims[0..rank-1] the shape.
 * Errors: ND_ERR_IO (file missing/unreadable), ND_ERR_FORMAT (not HDF5, no such dataset,
 * not a dataset, non-numeric type, rank > 8; a size, datatype or stored size that h5_guard.h
 * refuses before anything is allocated: too large, corrupt, never written), ND_ERR_NOMEM. */
nd_status nd_h5_read_float(const char *path, const char *name, float **data, int *rank,
                           size_t dims[ND_H5_MAX_RANK], nd_error *err);
/* Same, as int: integer types must fit in int; float types must hold integral finite
 * values that fit in int (else ND_ERR_FORMAT naming the element). */
nd_status nd_h5_read_int(const char *path, const char *name, int **data, int *rank, size_t dims[ND_H5_MAX_RANK],
                         nd_error *err);
/* Numeric attribute (scalar or first element of a 1-element array) of obj ("/" = root). */
nd_status nd_h5_read_attr_double(const char *path, const char *obj, const char *attr, double *value,
                                 nd_error *err);
/* String attribute (fixed or variable length), copied NUL-terminated into buf (truncated to cap-1). */
nd_status nd_h5_read_attr_string(const char *path, const char *obj, const char *attr, char *buf, size_t cap,
                                 nd_error *err);

#endif
