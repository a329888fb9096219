/* MATLAB v7.3 (HDF5) struct-array reader, the binning shared with the v5 reader, and dispatch. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../core/mem.h"
#include "h5x.h"
#include "mat.h"

/* 2^24: the largest count a float bin holds exactly; more per 1-ms bin is a corrupt file */
#define ND_MAT_MAX_COUNT 16777216

int nd_mat_version(const char *path) {
    FILE *fp = fopen(path, "rb");
    if (!fp) return 0;
    unsigned char h[128];
    size_t got = fread(h, 1, sizeof h, fp);
    unsigned char sig[8];
    int h5_at_512 = 0;
    if (fseek(fp, 512, SEEK_SET) == 0 && fread(sig, 1, 8, fp) == 8) h5_at_512 = !memcmp(sig, "\211HDF\r\n\032\n", 8);
    fclose(fp);
    if (got >= 19 && !memcmp(h, "MATLAB 7.3 MAT-file", 19)) return 73;
    if (got == 128 && !memcmp(h, "MATLAB 5.0 MAT-file", 19)) return 5;
    if (got >= 8 && !memcmp(h, "\211HDF\r\n\032\n", 8)) return 73; /* HDF5 without MATLAB's header */
    if (h5_at_512) return 73;
    if (got == 128 && h[124] == 0 && h[125] == 1 && (!memcmp(h + 126, "IM", 2) || !memcmp(h + 126, "MI", 2))) return 5;
    return got ? 4 : 0;
}

void nd_mat_trials_free(nd_mat_trials *m) {
    if (!m) return;
    if (m->data)
        for (int i = 0; i < m->n; i++) nd_free(m->data[i]);
    free(m->data);
    free(m->len);
    if (m->cond)
        for (int i = 0; i < m->n; i++) free(m->cond[i]);
    free(m->cond);
    memset(m, 0, sizeof *m);
}

char *nd_mat_utf8(const void *units, size_t n, int unit_bytes) {
    char *s = malloc(n * 3 + 1);
    if (!s) return NULL;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned c;
        if (unit_bytes == 8) c = (unsigned)((const double *)units)[i];
        else if (unit_bytes == 2) {
            uint16_t u;
            memcpy(&u, (const unsigned char *)units + 2 * i, 2);
            c = u;
        } else c = ((const unsigned char *)units)[i];
        if (c < 0x80) s[o++] = (char)c;
        else if (c < 0x800) {
            s[o++] = (char)(0xC0 | (c >> 6));
            s[o++] = (char)(0x80 | (c & 0x3F));
        } else {
            s[o++] = (char)(0xE0 | (c >> 12));
            s[o++] = (char)(0x80 | ((c >> 6) & 0x3F));
            s[o++] = (char)(0x80 | (c & 0x3F));
        }
    }
    s[o] = 0;
    return s;
}

/* Read one MATLAB value stored at HDF5 path p (a dataset). kind 0: numeric matrix -> *x, dims (rows, cols)
 * in MATLAB terms; kind 1: label (char -> string, number -> %.15g) -> *label. */
static nd_status read_value(nd_h5r *r, const char *p, const char *label_for_msg, int kind, double **x, int *rows,
                            int *cols, char **label, nd_error *err) {
    const char *f = nd_h5r_file(r);
    char cls[64] = "";
    double empty = 0;
    int k = nd_h5r_kind(r, p);
    nd_h5r_attr_string(r, p, "MATLAB_class", cls, sizeof cls);
    if (k == ND_H5R_GROUP) {
        double sp = 0;
        if (nd_h5r_attr_f64(r, p, "MATLAB_sparse", &sp))
            return nd_fail(err, ND_ERR_FORMAT, "%s: %s: sparse matrices are not supported (save full(...) instead)", f,
                           label_for_msg);
        return nd_fail(err, ND_ERR_FORMAT, "%s: %s: is a MATLAB %s, expected a numeric matrix", f, label_for_msg,
                       cls[0] ? cls : "group");
    }
    if (k != ND_H5R_DATASET) return nd_fail(err, ND_ERR_FORMAT, "%s: %s: missing (dangling reference)", f, label_for_msg);
    int is_empty = nd_h5r_attr_f64(r, p, "MATLAB_empty", &empty) && empty != 0;
    if (!strcmp(cls, "cell") || !strcmp(cls, "struct") || !strcmp(cls, "function_handle"))
        return nd_fail(err, ND_ERR_FORMAT, "%s: %s: is a MATLAB %s, expected %s", f, label_for_msg, cls,
                       kind ? "a string or a number" : "a numeric matrix");
    if (kind == 0 && !strcmp(cls, "char"))
        return nd_fail(err, ND_ERR_FORMAT, "%s: %s: is a MATLAB char array, expected a numeric matrix", f, label_for_msg);
    if (is_empty) {
        if (kind == 1) {
            *label = strdup("");
            return *label ? ND_OK : nd_fail(err, ND_ERR_NOMEM, "%s: out of memory", f);
        }
        *x = NULL;
        *rows = *cols = 0;
        return ND_OK;
    }
    nd_h5r_info in;
    double *v = NULL;
    nd_error e2;
    nd_status st = nd_h5r_read_f64(r, p, &v, &in, &e2);
    if (st) { /* re-label the message with the MATLAB name */
        nd_h5r_info in2;
        if (nd_h5r_info_of(r, p, &in2, &e2) == ND_OK && in2.cls != ND_H5R_INT && in2.cls != ND_H5R_FLOAT &&
            in2.cls != ND_H5R_BOOL)
            return nd_fail(err, ND_ERR_FORMAT, "%s: %s: type %s is not numeric", f, label_for_msg, in2.dtype);
        return nd_fail(err, st, "%s", e2.msg);
    }
    if (in.rank > 2) {
        nd_free(v);
        return nd_fail(err, ND_ERR_FORMAT, "%s: %s: has %d dimensions, expected a neurons x time matrix", f,
                       label_for_msg, in.rank);
    }
    if (kind == 1) {
        if (!strcmp(cls, "char")) *label = nd_mat_utf8(v, in.numel, 8);
        else {
            char buf[64];
            snprintf(buf, sizeof buf, "%.15g", in.numel ? v[0] : NAN);
            *label = strdup(buf);
        }
        nd_free(v);
        return *label ? ND_OK : nd_fail(err, ND_ERR_NOMEM, "%s: out of memory", f);
    }
    /* HDF5 dims are MATLAB's reversed: (cols, rows); the row-major buffer is MATLAB's column-major order */
    *cols = in.rank == 2 ? (int)in.dims[0] : (int)in.numel;
    *rows = in.rank == 2 ? (int)in.dims[1] : 1;
    *x = v;
    return ND_OK;
}

nd_status nd_mat73_load(const char *path, const char *var, const char *condfield, nd_mat_trials *m, nd_error *err) {
    memset(m, 0, sizeof *m);
    nd_h5r *r = NULL;
    nd_status st = nd_h5r_open(path, &r, err);
    if (st) return st;
    char **refs = NULL, **crefs = NULL;
    size_t nrefs = 0, ncrefs = 0;
    char vp[128], fp[256], cp[256];
    if (var) snprintf(m->var, sizeof m->var, "%s", var);
    else snprintf(m->var, sizeof m->var, "%s", nd_h5r_kind(r, "/dat") != ND_H5R_MISSING && nd_h5r_kind(r, "/D") == ND_H5R_MISSING ? "dat" : "D");
    snprintf(vp, sizeof vp, "/%s", m->var);
    int k = nd_h5r_kind(r, vp);
    char cls[64] = "";
    nd_h5r_attr_string(r, vp, "MATLAB_class", cls, sizeof cls);
    if (k == ND_H5R_MISSING) {
        st = nd_fail(err, ND_ERR_FORMAT,
                     "%s: %s: missing variable (expected a struct array %s(i).data, the DataHigh / GPFA convention; "
                     "--group names another variable)",
                     path, vp, m->var);
        goto done;
    }
    if (k != ND_H5R_GROUP || (cls[0] && strcmp(cls, "struct") != 0)) {
        st = nd_fail(err, ND_ERR_FORMAT, "%s: %s: is a MATLAB %s, expected a struct array", path, vp,
                     cls[0] ? cls : "dataset");
        goto done;
    }
    /* data field: data (DataHigh) or spikes (GPFA) */
    const char *fields[2] = {"data", "spikes"};
    for (int i = 0; i < 2 && !m->field[0]; i++) {
        snprintf(fp, sizeof fp, "%s/%s", vp, fields[i]);
        if (nd_h5r_kind(r, fp) != ND_H5R_MISSING) snprintf(m->field, sizeof m->field, "%s", fields[i]);
    }
    if (!m->field[0]) {
        st = nd_fail(err, ND_ERR_FORMAT, "%s: %s: struct has no field 'data' (or 'spikes')", path, vp);
        goto done;
    }
    snprintf(fp, sizeof fp, "%s/%s", vp, m->field);
    nd_h5r_info in;
    int scalar = 0;
    if (nd_h5r_kind(r, fp) == ND_H5R_DATASET && nd_h5r_info_of(r, fp, &in, err) == ND_OK && in.cls == ND_H5R_REF) {
        if ((st = nd_h5r_read_refs(r, fp, &refs, &nrefs, err))) goto done;
    } else {
        scalar = 1; /* a 1x1 struct stores its fields directly */
        nrefs = 1;
        refs = calloc(1, sizeof *refs);
        if (!refs || !(refs[0] = strdup(fp))) {
            st = nd_fail(err, ND_ERR_NOMEM, "%s: out of memory", path);
            goto done;
        }
    }
    if (nrefs == 0) {
        st = nd_fail(err, ND_ERR_FORMAT, "%s: %s.%s: the struct array is empty", path, m->var, m->field);
        goto done;
    }
    /* condition field */
    const char *cf = condfield ? condfield : "condition";
    snprintf(cp, sizeof cp, "%s/%s", vp, cf);
    if (nd_h5r_kind(r, cp) != ND_H5R_MISSING) {
        snprintf(m->condfield, sizeof m->condfield, "%s", cf);
        if (!scalar) {
            if ((st = nd_h5r_read_refs(r, cp, &crefs, &ncrefs, err))) goto done;
            if (ncrefs != nrefs) {
                st = nd_fail(err, ND_ERR_FORMAT, "%s: %s: has %zu elements, %s.%s has %zu", path, cp, ncrefs, m->var,
                             m->field, nrefs);
                goto done;
            }
        } else {
            ncrefs = 1;
            crefs = calloc(1, sizeof *crefs);
            if (!crefs || !(crefs[0] = strdup(cp))) {
                st = nd_fail(err, ND_ERR_NOMEM, "%s: out of memory", path);
                goto done;
            }
        }
    } else if (condfield) {
        st = nd_fail(err, ND_ERR_FORMAT, "%s: %s: struct has no field '%s'", path, vp, condfield);
        goto done;
    }
    if (nrefs > 100000000) {
        st = nd_fail(err, ND_ERR_FORMAT, "%s: %s: too many trials", path, fp);
        goto done;
    }
    m->n = (int)nrefs;
    m->len = calloc(nrefs, sizeof(int));
    m->data = calloc(nrefs, sizeof(double *));
    if (crefs) m->cond = calloc(nrefs, sizeof(char *));
    if (!m->len || !m->data || (crefs && !m->cond)) {
        st = nd_fail(err, ND_ERR_NOMEM, "%s: out of memory", path);
        goto done;
    }
    for (int i = 0; i < m->n; i++) {
        char label[256];
        snprintf(label, sizeof label, "%s(%d).%s", m->var, i + 1, m->field);
        int rows, cols;
        if ((st = read_value(r, refs[i], label, 0, &m->data[i], &rows, &cols, NULL, err))) goto done;
        if (i == 0 || m->N == 0) m->N = rows;
        if (rows != m->N && rows * cols != 0) {
            st = nd_fail(err, ND_ERR_FORMAT, "%s: %s: has %d rows (neurons), %s(1).%s has %d", path, label, rows,
                         m->var, m->field, m->N);
            goto done;
        }
        m->len[i] = rows ? cols : 0;
        if (crefs) {
            snprintf(label, sizeof label, "%s(%d).%s", m->var, i + 1, m->condfield);
            if ((st = read_value(r, crefs[i], label, 1, NULL, NULL, NULL, &m->cond[i], err))) goto done;
        }
    }
done:
    nd_h5r_free_strings(refs, nrefs);
    nd_h5r_free_strings(crefs, ncrefs);
    nd_h5r_close(r);
    if (st) nd_mat_trials_free(m);
    return st;
}

nd_status nd_mat_bin(const nd_mat_trials *m, const char *path, const char *format, const nd_bin_opts *o,
                     nd_binned *b, nd_error *err) {
    memset(b, 0, sizeof *b);
    snprintf(b->source, sizeof b->source, "%s", path);
    snprintf(b->format, sizeof b->format, "%s", format);
    double binr = round(o->bin_ms);
    if (!(o->bin_ms >= 1) || fabs(o->bin_ms - binr) > 1e-9)
        return nd_fail(err, ND_ERR_ARG, "--bin-ms %g: MATLAB data come in 1-ms bins, so the bin must be a whole number "
                                        "of ms", o->bin_ms);
    if (o->align)
        return nd_fail(err, ND_ERR_ARG, "--align does not apply to MATLAB struct arrays (use --window, in ms from the "
                                        "trial's start)");
    if (o->fp_bins < 0) return nd_fail(err, ND_ERR_ARG, "forward-prediction bins must be >= 0");
    const int bin = (int)binr;
    char lab[256];
    snprintf(lab, sizeof lab, "%s.%s", m->var, m->field);
    long w0, w1;
    if (o->has_window) {
        if (fabs(o->win_start_ms - round(o->win_start_ms)) > 1e-9 || fabs(o->win_end_ms - round(o->win_end_ms)) > 1e-9)
            return nd_fail(err, ND_ERR_ARG, "--window %g:%g: MATLAB data come in 1-ms bins, so the window must be in "
                                            "whole ms", o->win_start_ms, o->win_end_ms);
        w0 = lround(o->win_start_ms);
        w1 = lround(o->win_end_ms);
        if (w0 < 0) return nd_fail(err, ND_ERR_ARG, "--window %ld:%ld starts before the trial's start", w0, w1);
        if (w1 <= w0 || (w1 - w0) % bin)
            return nd_fail(err, ND_ERR_ARG, "window %ld:%ld ms is not a whole, positive number of %d ms bins", w0, w1,
                           bin);
    } else {
        int lmin = m->len[0], lmax = m->len[0], imin = 0, imax = 0;
        for (int i = 1; i < m->n; i++) {
            if (m->len[i] < lmin) lmin = m->len[i], imin = i;
            if (m->len[i] > lmax) lmax = m->len[i], imax = i;
        }
        if (lmin != lmax)
            return nd_fail(err, ND_ERR_FORMAT,
                           "%s: %s: trials have different lengths (%d ms in %s(%d), %d ms in %s(%d)); pass --window "
                           "START:END (ms from the trial's start)",
                           path, lab, lmin, m->var, imin + 1, lmax, m->var, imax + 1);
        if (lmin < bin)
            return nd_fail(err, ND_ERR_FORMAT, "%s: %s: trials (%d ms) are shorter than one %d ms bin", path, lab, lmin,
                           bin);
        w0 = 0;
        w1 = (long)(lmin / bin) * bin;
        if (o->fp_bins) w1 -= (long)o->fp_bins * bin; /* without a window the forward bins are the trial's last */
        if (w1 <= 0)
            return nd_fail(err, ND_ERR_ARG, "--fp-bins %d: trials of %d ms leave no observed bins", o->fp_bins, lmin);
        if (lmin % bin)
            nd_binned_warn(b, "%s: %s: the last %d ms of each %d ms trial (less than a %d ms bin) are left out", path, lab,
                           lmin % bin, lmin, bin);
    }
    const int T = (int)((w1 - w0) / bin), TB = T + o->fp_bins;
    const long need = w1 + (long)o->fp_bins * bin;
    /* values */
    for (int i = 0; i < m->n; i++) {
        size_t cnt = (size_t)m->N * (size_t)m->len[i];
        for (size_t e = 0; e < cnt; e++) {
            double v = m->data[i][e];
            /* above 2^24 spikes in one 1-ms bin is no recording, and the float sums of a bin would lose
             * counts or overflow to inf (fuzz/FINDINGS.md, bug 7) */
            if (!isfinite(v) || v < 0 || v != floor(v) || v > ND_MAT_MAX_COUNT) {
                if (isfinite(v) && v > ND_MAT_MAX_COUNT)
                    nd_fail(err, ND_ERR_FORMAT, "%s: %s(%d).%s(%zu,%zu) = %g is not a plausible spike count (at most "
                            "%d per 1-ms bin)", path, m->var, i + 1, m->field, e % (size_t)m->N + 1,
                            e / (size_t)m->N + 1, v, ND_MAT_MAX_COUNT);
                else
                    nd_fail(err, ND_ERR_FORMAT, "%s: %s(%d).%s(%zu,%zu) = %g is not a whole spike count >= 0 (1-ms "
                            "bins expected)", path, m->var, i + 1, m->field, e % (size_t)m->N + 1,
                            e / (size_t)m->N + 1, v);
                nd_binned_free(b);
                return ND_ERR_FORMAT;
            }
        }
    }
    int *kept = malloc((size_t)m->n * sizeof(int));
    if (!kept) return nd_fail(err, ND_ERR_NOMEM, "%s: out of memory", path);
    int nk = 0, dropped = 0, first = -1;
    for (int i = 0; i < m->n; i++) {
        if (m->len[i] < need) {
            if (o->strict) {
                free(kept);
                nd_binned_free(b);
                return nd_fail(err, ND_ERR_FORMAT,
                               "%s: %s(%d).%s: %d ms is shorter than the window + forward bins (%ld ms) (--strict)",
                               path, m->var, i + 1, m->field, m->len[i], need);
            }
            if (dropped++ == 0) first = i;
            continue;
        }
        kept[nk++] = i;
    }
    if (dropped)
        nd_binned_warn(b, "%s: %s: dropped %d of %d trials shorter than the window + forward bins (%ld ms) (first: %s(%d))",
                       path, lab, dropped, m->n, need, m->var, first + 1);
    if (nk == 0) {
        free(kept);
        nd_binned_free(b);
        return nd_fail(err, ND_ERR_FORMAT, "%s: %s: no trials left: all are shorter than the window + forward bins (%ld ms)",
                       path, lab, need);
    }
    /* nd_binned_alloc keeps the warnings already collected */
    nd_status st = nd_binned_alloc(b, nk, T, o->fp_bins, m->N, 0, err);
    if (st) {
        free(kept);
        nd_binned_free(b);
        return st;
    }
    b->n_source_trials = m->n;
    b->window_start_ms = (double)w0;
    b->window_end_ms = (double)w1;
    const int N = m->N;
    for (int q = 0; q < nk; q++) {
        int i = kept[q];
        b->trial_ids[q] = i;
        float *c = b->counts + (size_t)q * (size_t)TB * (size_t)N;
        for (int k = 0; k < TB; k++)
            for (long t = w0 + (long)k * bin; t < w0 + (long)(k + 1) * bin; t++) {
                const double *col = m->data[i] + (size_t)t * (size_t)N;
                for (int j = 0; j < N; j++) c[(size_t)k * (size_t)N + (size_t)j] += (float)col[j];
            }
    }
    {
        int empty = 0, fe = -1;
        for (int j = 0; j < N; j++) {
            double s = 0;
            for (int i = 0; i < m->n; i++)
                for (int t = 0; t < m->len[i]; t++) s += m->data[i][(size_t)t * (size_t)N + (size_t)j];
            if (s == 0 && empty++ == 0) fe = j;
        }
        if (empty)
            nd_binned_warn(b, "%s: %s: %d of %d neurons have no spikes (first: row %d); kept", path, lab, empty, N, fe + 1);
    }
    if (m->cond) {
        char **keys = malloc((size_t)nk * sizeof *keys);
        if (!keys) {
            free(kept);
            nd_binned_free(b);
            return nd_fail(err, ND_ERR_NOMEM, "%s: out of memory", path);
        }
        for (int q = 0; q < nk; q++) keys[q] = m->cond[kept[q]];
        st = nd_binned_set_conditions(b, keys, err);
        free(keys);
        snprintf(b->condition_source, sizeof b->condition_source, "%s.%s", m->var, m->condfield);
        if (st) {
            free(kept);
            nd_binned_free(b);
            return st;
        }
    }
    free(kept);
    return ND_OK;
}

nd_status nd_mat_read(const char *path, const nd_bin_opts *o, nd_binned *b, nd_error *err) {
    memset(b, 0, sizeof *b);
    nd_mat_trials m;
    nd_status st;
    int v = nd_mat_version(path);
    const char *fmt;
    if (v == 73) {
        fmt = "mat-v7.3";
        st = nd_mat73_load(path, o->group, o->condition, &m, err);
    } else if (v == 5) {
        fmt = "mat-v5";
        st = nd_mat5_load(path, o->group, o->condition, &m, err);
    } else if (v == 0) {
        FILE *fp = fopen(path, "rb");
        if (fp) fclose(fp);
        return nd_fail(err, ND_ERR_IO, "%s: cannot open or empty file", path);
    } else
        return nd_fail(err, ND_ERR_FORMAT, "%s: not a MATLAB v5 or v7.3 MAT-file (v4 files are not supported)", path);
    if (st) return st;
    st = nd_mat_bin(&m, path, fmt, o, b, err);
    nd_mat_trials_free(&m);
    return st;
}
