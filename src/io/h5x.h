/* Reading HDF5 files that other tools wrote (NWB, MATLAB v7.3, spike-time triplets):
 * one open handle for many reads, every object addressed by its path inside the file,
 * strings (fixed and variable length), booleans (h5py/HDMF store them as an enum),
 * object references (MATLAB v7.3 struct fields) and group listings.
 *
 * Like h5.h, every call silences HDF5's own error printing while it runs. Every failure
 * is one line "<file>: <path inside>: <problem>" (path shown with a leading '/').
 * Arrays are allocated with nd_alloc (free with nd_free); string lists with
 * nd_h5r_free_strings. Every read is checked first (h5_guard.h): element count, datatype and
 * stored size against the declared dims, and the 8 GiB cap (ND_MAX_ALLOC_MB). */
#ifndef ND_IO_H5X_H
#define ND_IO_H5X_H
#include <stddef.h>
#include <stdint.h>
#include "../core/status.h"

#define ND_H5R_MAX_RANK 8

typedef struct nd_h5r nd_h5r;

/* what an object is */
enum { ND_H5R_MISSING = 0, ND_H5R_GROUP, ND_H5R_DATASET, ND_H5R_OTHER };
/* element classes */
enum { ND_H5R_INT = 1, ND_H5R_FLOAT, ND_H5R_STRING, ND_H5R_BOOL, ND_H5R_REF, ND_H5R_COMPOUND, ND_H5R_OTHERTYPE };

typedef struct {
    int rank;
    size_t dims[ND_H5R_MAX_RANK];
    size_t numel;     /* product of dims; SIZE_MAX if that exceeds SIZE_MAX / 16 (cannot be read) */
    int cls;          /* ND_H5R_* element class */
    size_t size;      /* bytes per element as stored */
    int is_signed;    /* integers */
    char dtype[32];   /* e.g. "float64", "int32", "uint16", "bool", "string", "reference" */
} nd_h5r_info;

/* ND_OK if path exists, is readable and is an HDF5 file (without opening it); else ND_ERR_IO (missing /
 * unreadable) or ND_ERR_FORMAT (not HDF5). */
nd_status nd_h5r_check_file(const char *path, nd_error *err);
/* Open for reading. Errors: as nd_h5r_check_file, and ND_ERR_IO when libhdf5 cannot open it (corrupt). */
nd_status nd_h5r_open(const char *path, nd_h5r **r, nd_error *err);
void nd_h5r_close(nd_h5r *r);
const char *nd_h5r_file(const nd_h5r *r);

/* ND_H5R_MISSING / GROUP / DATASET / OTHER (missing intermediate groups give MISSING) */
int nd_h5r_kind(nd_h5r *r, const char *obj);
/* ND_OK if obj is a group, else "<file>: <obj>: missing group (<why>)" or "... is not a group" */
nd_status nd_h5r_require_group(nd_h5r *r, const char *obj, const char *why, nd_error *err);

/* Shape and type of a dataset. */
nd_status nd_h5r_info_of(nd_h5r *r, const char *obj, nd_h5r_info *info, nd_error *err);
/* Read integer / float / bool datasets as double. Other types: "<file>: <obj>: type string is not numeric". */
nd_status nd_h5r_read_f64(nd_h5r *r, const char *obj, double **x, nd_h5r_info *info, nd_error *err);
/* Integers (and bools) as int64; float datasets must hold whole finite numbers. */
nd_status nd_h5r_read_i64(nd_h5r *r, const char *obj, int64_t **x, nd_h5r_info *info, nd_error *err);
/* A string dataset (any rank, flattened; fixed or variable length) as NUL-terminated copies.
 * A numeric dataset is an error ("... is float64, expected strings"). */
nd_status nd_h5r_read_strings(nd_h5r *r, const char *obj, char ***s, size_t *n, nd_error *err);
void nd_h5r_free_strings(char **s, size_t n);
/* Object-reference dataset: the path of each referenced object (e.g. "/#refs#/b"). */
nd_status nd_h5r_read_refs(nd_h5r *r, const char *obj, char ***paths, size_t *n, nd_error *err);

/* Attributes of obj ("/" = root). 1 if found and of the right kind, else 0 (no error). */
int nd_h5r_attr_string(nd_h5r *r, const char *obj, const char *attr, char *buf, size_t cap);
int nd_h5r_attr_f64(nd_h5r *r, const char *obj, const char *attr, double *v);

/* The reads behind h5.h's path-based readers (nd_h5_read_float ...), for a caller that reads many
 * datasets of one file through one handle. Same contracts and messages as h5.h: "<file>: no dataset
 * '<name>'", "<file>: dataset '<name>': <problem>", "<file>: object '<obj>' has no attribute '<attr>'".
 * nd_h5r_read_float: integer or float datasets (not enums / booleans) as float, *rank 0 for a scalar;
 * nd_h5r_read_int: integers that fit in int, or floats holding whole numbers in int range;
 * nd_h5r_dims: the shape of any dataset without reading it;
 * nd_h5r_read_attr_double / _string: a numeric or string attribute with one element (strings truncated
 * to cap - 1). nd_h5r_attr_f64 / nd_h5r_attr_string above are the same reads with a 0 instead of an
 * error (nd_h5r_attr_string also takes the first of an array of strings). */
nd_status nd_h5r_read_float(nd_h5r *r, const char *name, float **data, int *rank, size_t dims[ND_H5R_MAX_RANK],
                            nd_error *err);
nd_status nd_h5r_read_int(nd_h5r *r, const char *name, int **data, int *rank, size_t dims[ND_H5R_MAX_RANK],
                          nd_error *err);
nd_status nd_h5r_dims(nd_h5r *r, const char *name, int *rank, size_t dims[ND_H5R_MAX_RANK], nd_error *err);
nd_status nd_h5r_read_attr_double(nd_h5r *r, const char *obj, const char *attr, double *value, nd_error *err);
nd_status nd_h5r_read_attr_string(nd_h5r *r, const char *obj, const char *attr, char *buf, size_t cap,
                                  nd_error *err);

/* Names of the direct children of a group, sorted. */
nd_status nd_h5r_children(nd_h5r *r, const char *group, char ***names, size_t *n, nd_error *err);

/* Every dataset in the file, depth first in name order: cb(path with leading '/', info, ud).
 * Stops early when cb returns non-zero. */
nd_status nd_h5r_visit(nd_h5r *r, int (*cb)(const char *path, const nd_h5r_info *info, void *ud), void *ud,
                       nd_error *err);

#endif
