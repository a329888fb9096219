/* MATLAB v5 struct-array reader through libmatio (the only file that needs -lmatio).
 *
 * Build with -DND_HAVE_LIBMATIO and link -lmatio: ordinary (strong) references to libmatio.
 * Without ND_HAVE_LIBMATIO, libmatio is referenced weakly, so a program linked without -lmatio
 * still links and nd_mat5_available() returns 0 (note that with the linker's --as-needed, which
 * Debian's gcc passes, weak references alone do not keep -lmatio: define ND_HAVE_LIBMATIO when
 * linking it). Built without matio.h at all (libmatio-dev not installed), the reader reports
 * that it is unavailable. */
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../core/mem.h"
#include "mat.h"

#if defined(__has_include)
#if __has_include(<matio.h>)
#include <matio.h>
#define ND_HAVE_MATIO_H 1
#endif
#endif

#ifdef ND_HAVE_MATIO_H
#ifndef ND_HAVE_LIBMATIO
#pragma weak Mat_Open
#pragma weak Mat_Close
#pragma weak Mat_VarRead
#pragma weak Mat_VarFree
#pragma weak Mat_LogInitFunc
#pragma weak Mat_GetDir
#pragma weak Mat_VarReadNextInfo
#pragma weak Mat_VarGetNumberOfFields
#pragma weak Mat_VarGetStructFieldnames
#define LINKED(f) ((f) != NULL)
#else
#define LINKED(f) 1
#endif

int nd_mat5_available(void) { return LINKED(Mat_Open) && LINKED(Mat_VarRead) && LINKED(Mat_VarReadNextInfo); }

static void quiet_log(int level, char *msg) {
    (void)level;
    (void)msg;
}

/* element e of a numeric matvar as double; 0 if the type is not numeric */
static int get_num(const matvar_t *v, size_t e, double *out) {
    const void *d = v->data;
    switch (v->data_type) {
    case MAT_T_DOUBLE: *out = ((const double *)d)[e]; return 1;
    case MAT_T_SINGLE: *out = ((const float *)d)[e]; return 1;
    case MAT_T_INT8: *out = ((const int8_t *)d)[e]; return 1;
    case MAT_T_UINT8: *out = ((const uint8_t *)d)[e]; return 1;
    case MAT_T_INT16: *out = ((const int16_t *)d)[e]; return 1;
    case MAT_T_UINT16: *out = ((const uint16_t *)d)[e]; return 1;
    case MAT_T_INT32: *out = ((const int32_t *)d)[e]; return 1;
    case MAT_T_UINT32: *out = ((const uint32_t *)d)[e]; return 1;
    case MAT_T_INT64: *out = (double)((const int64_t *)d)[e]; return 1;
    case MAT_T_UINT64: *out = (double)((const uint64_t *)d)[e]; return 1;
    default: return 0;
    }
}

static const char *class_name(enum matio_classes c) {
    switch (c) {
    case MAT_C_EMPTY: return "empty";
    case MAT_C_CELL: return "cell";
    case MAT_C_STRUCT: return "struct";
    case MAT_C_OBJECT: return "object";
    case MAT_C_CHAR: return "char";
    case MAT_C_SPARSE: return "sparse";
    case MAT_C_FUNCTION: return "function";
    case MAT_C_OPAQUE: return "opaque";
    default: return "numeric";
    }
}

/* struct elements (trials) accepted: far above any recording, far below INT_MAX (m->n); a corrupt
 * file declared 50 million empty ones */
#define ND_MAT_MAX_TRIALS 10000000

/* elements by the declared dims; SIZE_MAX if their product overflows */
static size_t numel(const matvar_t *v) {
    size_t n = 1;
    if (v->rank < 0 || (v->rank > 0 && !v->dims)) return SIZE_MAX;
    for (int i = 0; i < v->rank; i++)
        if (v->dims[i] == 0) return 0;
    for (int i = 0; i < v->rank; i++) {
        if (n > SIZE_MAX / v->dims[i]) return SIZE_MAX;
        n *= v->dims[i];
    }
    return n;
}

/* bytes per element of v->data as label_of / get_num read it; 0 if not a type they read */
static size_t elem_size(const matvar_t *v) {
    if (v->class_type == MAT_C_CHAR)
        return v->data_size == 2 || v->data_type == MAT_T_UINT16 || v->data_type == MAT_T_UTF16 ? 2 : 1;
    switch (v->data_type) {
    case MAT_T_DOUBLE: case MAT_T_INT64: case MAT_T_UINT64: return 8;
    case MAT_T_SINGLE: case MAT_T_INT32: case MAT_T_UINT32: return 4;
    case MAT_T_INT16: case MAT_T_UINT16: return 2;
    case MAT_T_INT8: case MAT_T_UINT8: return 1;
    default: return 0;
    }
}

/* libmatio sizes v->data from the file's data element, not from the dims (fuzz/FINDINGS.md, bug 8):
 * 1 if v->data holds the numel(v) elements of esz bytes the dims declare */
static int data_holds(const matvar_t *v, size_t n, size_t esz) {
    return v->data && esz && n != SIZE_MAX && n <= v->nbytes / esz;
}

static nd_status corrupt_data(const char *path, const char *label, const matvar_t *v, nd_error *err) {
    size_t n = numel(v);
    if (n == SIZE_MAX) return nd_fail(err, ND_ERR_FORMAT, "%s: %s: corrupt (its dims overflow)", path, label);
    return nd_fail(err, ND_ERR_FORMAT, "%s: %s: corrupt (dims say %zu elements, %zu bytes stored)", path, label, n,
                   v->data ? v->nbytes : 0);
}

/* index of a field in the struct's name list, -1 if absent */
static int field_index(char *const *names, unsigned nf, const char *name) {
    for (unsigned k = 0; k < nf; k++)
        if (!strcmp(names[k], name)) return (int)k;
    return -1;
}

/* field k of struct element i (k < 0: NULL); the caller checked that v->data holds n x nf pointers */
static matvar_t *field_at(const matvar_t *v, unsigned nf, int k, size_t i) {
    return k < 0 ? NULL : ((matvar_t *const *)v->data)[i * nf + (size_t)k];
}

/* the condition label of one trial: a char array as UTF-8, a number as %.15g ("" if empty) */
static nd_status label_of(const matvar_t *v, const char *path, const char *label, char **out, nd_error *err) {
    char buf[64];
    *out = NULL;
    if (!v || !v->data || numel(v) == 0) {
        *out = strdup("");
    } else if (v->class_type == MAT_C_CHAR) {
        size_t n = numel(v), esz = elem_size(v);
        if (!data_holds(v, n, esz)) return corrupt_data(path, label, v, err);
        *out = nd_mat_utf8(v->data, n, esz == 2 ? 2 : 1); /* n <= nbytes: no overflow */
        if (!*out) return nd_fail(err, ND_ERR_NOMEM, "%s: out of memory", path);
        return ND_OK;
    } else {
        double x;
        if (!elem_size(v) || v->isComplex || v->class_type == MAT_C_SPARSE) *out = strdup("?");
        else if (!data_holds(v, 1, elem_size(v))) return corrupt_data(path, label, v, err);
        else {
            get_num(v, 0, &x);
            snprintf(buf, sizeof buf, "%.15g", x);
            *out = strdup(buf);
        }
    }
    if (!*out) return nd_fail(err, ND_ERR_NOMEM, "%s: out of memory", path);
    return ND_OK;
}

nd_status nd_mat5_load(const char *path, const char *var, const char *condfield, nd_mat_trials *m, nd_error *err) {
    memset(m, 0, sizeof *m);
    if (!nd_mat5_available())
        return nd_fail(err, ND_ERR_FORMAT, "%s: MATLAB v5 files need libmatio, which this build does not link (install "
                                           "libmatio-dev and rebuild)", path);
    if (LINKED(Mat_LogInitFunc)) Mat_LogInitFunc("neurodyn", quiet_log);
    FILE *probe = fopen(path, "rb");
    if (!probe) return nd_fail(err, ND_ERR_IO, "%s: cannot open", path);
    fclose(probe);
    mat_t *mf = Mat_Open(path, MAT_ACC_RDONLY);
    if (!mf) return nd_fail(err, ND_ERR_FORMAT, "%s: not a MATLAB v5 MAT-file libmatio can read", path);
    matvar_t *v = NULL;
    nd_status st = ND_OK;
    if (var) {
        snprintf(m->var, sizeof m->var, "%s", var);
        v = Mat_VarRead(mf, var);
    } else {
        snprintf(m->var, sizeof m->var, "D");
        v = Mat_VarRead(mf, "D");
        if (!v) {
            v = Mat_VarRead(mf, "dat");
            if (v) snprintf(m->var, sizeof m->var, "dat");
            else snprintf(m->var, sizeof m->var, "D");
        }
    }
    if (!v) {
        st = nd_fail(err, ND_ERR_FORMAT,
                     "%s: %s: missing variable (expected a struct array %s(i).data, the DataHigh / GPFA convention; "
                     "--group names another variable)",
                     path, m->var, m->var);
        goto done;
    }
    if (v->class_type != MAT_C_STRUCT) {
        st = nd_fail(err, ND_ERR_FORMAT, "%s: %s: is a MATLAB %s, expected a struct array", path, m->var,
                     class_name(v->class_type));
        goto done;
    }
    size_t n = numel(v);
    if (n == 0) {
        st = nd_fail(err, ND_ERR_FORMAT, "%s: %s: the struct array is empty", path, m->var);
        goto done;
    }
    /* field_at indexes v->data (n x fields pointers) by the dims: check that
     * libmatio really read that many (a corrupt file declares more), and bound n for m->n */
    unsigned nf = LINKED(Mat_VarGetNumberOfFields) ? Mat_VarGetNumberOfFields(v) : 0;
    if (n > ND_MAT_MAX_TRIALS || nf == 0 || !data_holds(v, n, nf * sizeof(matvar_t *))) {
        if (n > ND_MAT_MAX_TRIALS)
            st = nd_fail(err, ND_ERR_FORMAT, "%s: %s: %zu struct elements (trials), more than %d", path, m->var, n,
                         ND_MAT_MAX_TRIALS);
        else if (nf == 0) st = nd_fail(err, ND_ERR_FORMAT, "%s: %s: the struct has no fields", path, m->var);
        else st = corrupt_data(path, m->var, v, err);
        goto done;
    }
    /* every field must be named (a NULL name crashed libmatio's Mat_VarGetStructFieldByName) */
    char *const *fnames = LINKED(Mat_VarGetStructFieldnames) ? Mat_VarGetStructFieldnames(v) : NULL;
    for (unsigned k = 0; k < nf; k++)
        if (!fnames || !fnames[k]) {
            st = nd_fail(err, ND_ERR_FORMAT, "%s: %s: corrupt struct (field %u has no name)", path, m->var, k + 1);
            goto done;
        }
    /* fields are then read straight from v->data (n x nf pointers, element-major, as libmatio's
     * Mat_VarGetStructFieldByName reads them, which would compare every name on every call:
     * O(n x nf) string compares timed out on a large declared struct) */
    const char *fields[2] = {"data", "spikes"};
    int fdata = -1;
    for (int i = 0; i < 2 && !m->field[0]; i++)
        if ((fdata = field_index(fnames, nf, fields[i])) >= 0 && field_at(v, nf, fdata, 0))
            snprintf(m->field, sizeof m->field, "%s", fields[i]);
    if (!m->field[0]) {
        /* an element whose field is empty still names the field; check the field list */
        st = nd_fail(err, ND_ERR_FORMAT, "%s: %s: struct has no field 'data' (or 'spikes')", path, m->var);
        goto done;
    }
    const char *cf = condfield ? condfield : "condition";
    int has_cond = 0, fcond = field_index(fnames, nf, cf);
    for (size_t i = 0; i < n && !has_cond && fcond >= 0; i++) has_cond = field_at(v, nf, fcond, i) != NULL;
    if (has_cond) snprintf(m->condfield, sizeof m->condfield, "%s", cf);
    else if (condfield) {
        st = nd_fail(err, ND_ERR_FORMAT, "%s: %s: struct has no field '%s'", path, m->var, condfield);
        goto done;
    }
    m->n = (int)n;
    m->len = calloc(n, sizeof(int));
    m->data = calloc(n, sizeof(double *));
    if (has_cond) m->cond = calloc(n, sizeof(char *));
    if (!m->len || !m->data || (has_cond && !m->cond)) {
        st = nd_fail(err, ND_ERR_NOMEM, "%s: out of memory", path);
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        matvar_t *d = field_at(v, nf, fdata, i);
        char label[256]; /* formatted only where a message may need it: a corrupt file can declare
                            tens of millions of empty elements */
        if (!d || numel(d) == 0 || d->class_type == MAT_C_EMPTY || !d->data) {
            m->len[i] = 0;
        } else {
            snprintf(label, sizeof label, "%s(%zu).%s", m->var, i + 1, m->field);
            if (d->class_type == MAT_C_SPARSE) {
                st = nd_fail(err, ND_ERR_FORMAT, "%s: %s: sparse matrices are not supported (save full(...) instead)",
                             path, label);
                goto done;
            }
            if (d->isComplex) {
                st = nd_fail(err, ND_ERR_FORMAT, "%s: %s: is complex, expected spike counts", path, label);
                goto done;
            }
            if (d->class_type == MAT_C_CHAR || d->class_type == MAT_C_CELL || d->class_type == MAT_C_STRUCT ||
                !elem_size(d)) {
                st = nd_fail(err, ND_ERR_FORMAT, "%s: %s: is a MATLAB %s, expected a numeric matrix", path, label,
                             class_name(d->class_type));
                goto done;
            }
            if (!data_holds(d, numel(d), elem_size(d))) {
                st = corrupt_data(path, label, d, err);
                goto done;
            }
            if (d->rank != 2) {
                st = nd_fail(err, ND_ERR_FORMAT, "%s: %s: has %d dimensions, expected a neurons x time matrix", path,
                             label, d->rank);
                goto done;
            }
            if (d->dims[0] > INT_MAX || d->dims[1] > INT_MAX) {
                st = nd_fail(err, ND_ERR_FORMAT, "%s: %s: %zu x %zu is too large", path, label, d->dims[0],
                             d->dims[1]);
                goto done;
            }
            int rows = (int)d->dims[0], cols = (int)d->dims[1];
            if (m->N == 0) m->N = rows;
            if (rows != m->N) {
                st = nd_fail(err, ND_ERR_FORMAT, "%s: %s: has %d rows (neurons), an earlier trial has %d", path, label,
                             rows, m->N);
                goto done;
            }
            m->len[i] = cols;
            size_t cnt = (size_t)rows * (size_t)cols;
            m->data[i] = nd_alloc(cnt * sizeof(double));
            if (!m->data[i]) {
                st = nd_fail(err, ND_ERR_NOMEM, "%s: %s: out of memory", path, label);
                goto done;
            }
            for (size_t e = 0; e < cnt; e++) get_num(d, e, &m->data[i][e]); /* both column-major */
        }
        if (has_cond) {
            matvar_t *c = field_at(v, nf, fcond, i);
            if (c && c->data && numel(c) != 0) snprintf(label, sizeof label, "%s(%zu).%s", m->var, i + 1, cf);
            if ((st = label_of(c, path, label, &m->cond[i], err))) goto done;
        }
    }
done:
    if (v) Mat_VarFree(v);
    Mat_Close(mf);
    if (st) nd_mat_trials_free(m);
    return st;
}

nd_status nd_mat5_list(const char *path, char ***lines, size_t *n, nd_error *err) {
    *lines = NULL;
    *n = 0;
    if (!nd_mat5_available())
        return nd_fail(err, ND_ERR_FORMAT, "%s: MATLAB v5 files need libmatio, which this build does not link", path);
    if (LINKED(Mat_LogInitFunc)) Mat_LogInitFunc("neurodyn", quiet_log);
    mat_t *mf = Mat_Open(path, MAT_ACC_RDONLY);
    if (!mf) return nd_fail(err, ND_ERR_FORMAT, "%s: not a MATLAB v5 MAT-file libmatio can read", path);
    size_t cap = 0;
    char **out = NULL;
    matvar_t *v;
    while ((v = Mat_VarReadNextInfo(mf)) != NULL) {
        char dims[128] = "";
        size_t o = 0;
        for (int i = 0; i < v->rank && o < sizeof dims; i++)
            o += (size_t)snprintf(dims + o, sizeof dims - o, i ? "x%zu" : "%zu", v->dims[i]);
        char line[512];
        const char *cls = class_name(v->class_type);
        if (!strcmp(cls, "numeric")) {
            static const char *const nm[] = {"", "", "", "", "", "", "double", "single", "int8", "uint8", "int16",
                                             "uint16", "int32", "uint32", "int64", "uint64"};
            cls = v->class_type <= MAT_C_UINT64 ? nm[v->class_type] : "numeric";
            if (v->isLogical) cls = "logical";
        }
        snprintf(line, sizeof line, "%-24s %-8s %s", v->name ? v->name : "?", cls, dims);
        Mat_VarFree(v);
        if (*n == cap) {
            cap = cap ? 2 * cap : 8;
            char **p = realloc(out, cap * sizeof *p);
            if (!p) break;
            out = p;
        }
        out[*n] = strdup(line);
        if (out[*n]) (*n)++;
    }
    Mat_Close(mf);
    *lines = out;
    return ND_OK;
}

#else /* built without matio.h */

nd_status nd_mat5_list(const char *path, char ***lines, size_t *n, nd_error *err) {
    *lines = NULL;
    *n = 0;
    return nd_fail(err, ND_ERR_FORMAT, "%s: MATLAB v5 files need libmatio, which this build lacks", path);
}

int nd_mat5_available(void) { return 0; }

nd_status nd_mat5_load(const char *path, const char *var, const char *condfield, nd_mat_trials *m, nd_error *err) {
    (void)var;
    (void)condfield;
    memset(m, 0, sizeof *m);
    return nd_fail(err, ND_ERR_FORMAT, "%s: MATLAB v5 files need libmatio, which this build lacks (install "
                                       "libmatio-dev and rebuild)", path);
}

#endif
