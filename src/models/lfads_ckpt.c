/* The LFADS checkpoint format (see lfads_ckpt.h). */
#include "lfads_ckpt.h"
#include "../core/mem.h"
#include "../io/checkpoint.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define ND_FP_LINE 1024 /* bytes per session of the "fingerprint" section */

int nd_lfads_all_finite(const real *g, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (!isfinite(g[i])) return 0;
    return 1;
}

static void to_f32(float *dst, const real *src, size_t n) { for (size_t i = 0; i < n; i++) dst[i] = (float)src[i]; }
/* checkpoint sections are not aligned: read element-wise through memcpy */
static void from_f32(real *dst, const void *src, size_t n) {
    const unsigned char *b = src;
    for (size_t i = 0; i < n; i++) {
        float v;
        memcpy(&v, b + 4 * i, 4);
        dst[i] = v;
    }
}

static const char *base_name(const char *p) {
    const char *b = strrchr(p, '/');
    return b ? b + 1 : p;
}

nd_status nd_lfads_ckpt_save(const char *path, const char *prev, const nd_lfads_model *m, const real *adam_m,
                             const real *adam_v, const int dims[7], const nd_lfads_runinfo *si,
                             const nd_train_state *st, nd_error *err) {
    size_t n = m->n_params;
    char *cfg = nd_lfads_config_to_text(&m->cfg);
    float *buf = malloc(sizeof(float) * n * 3);
    if (!cfg || !buf) { free(cfg); free(buf); return nd_fail(err, ND_ERR_NOMEM, "%s: out of memory", path); }
    to_f32(buf, m->params, n);
    to_f32(buf + n, adam_m, n);
    to_f32(buf + 2 * n, adam_v, n);
    int32_t d[7] = {dims[0], dims[1], dims[2], dims[3], dims[4], dims[5], dims[6]};
    nd_ckpt_section s[] = {
        {"config", cfg, strlen(cfg) + 1},  {"dims", d, sizeof d},
        {"params", buf, sizeof(float) * n}, {"adam_m", buf + n, sizeof(float) * n},
        {"adam_v", buf + 2 * n, sizeof(float) * n}, {"state", st, sizeof *st},
        {"fingerprint", si->fps, si->fps ? strlen(si->fps) + 1 : 0},
        {"stitch", si->v, sizeof(int32_t) * si->n}, {"session_files", si->files, si->files ? strlen(si->files) + 1 : 0},
    };
    int ns = (int)(sizeof s / sizeof s[0]) - (si->v ? 0 : 2);
    nd_status r = prev ? nd_ckpt_write_keep(path, prev, s, ns, err) : nd_ckpt_write(path, s, ns, err);
    free(cfg);
    free(buf);
    return r;
}

/* dims section: N, T, E, n_train, n_valid, Nr, Tr */
#define CKPT_MAX_DIM (1 << 24) /* neurons, bins, inputs: far above any recording, small enough for int sums */
static nd_status load_model_from(const nd_ckpt *ck, const char *path, nd_lfads_model *m, int32_t d[7],
                                 nd_error *err) {
    const nd_ckpt_entry *ce = nd_ckpt_find(ck, "config");
    if (!ce || ce->bytes == 0 || ((const char *)ce->data)[ce->bytes - 1] != 0)
        return nd_fail(err, ND_ERR_CHECKPOINT, "%s: section 'config' missing or malformed", path);
    const nd_ckpt_entry *de = nd_ckpt_find(ck, "dims");
    nd_status st;
    if (de && de->bytes == sizeof(int32_t) * 5) { /* written before held-out neurons existed: Nr = N, Tr = T */
        memcpy(d, de->data, sizeof(int32_t) * 5);
        d[5] = d[0];
        d[6] = d[1];
        st = ND_OK;
    } else st = nd_ckpt_get(ck, path, "dims", d, sizeof(int32_t) * 7, err);
    if (st) return st;
    nd_lfads_config c;
    nd_lfads_config_default(&c);
    st = nd_lfads_config_parse_text(&c, ce->data, path, err);
    if (st) return st;
    /* written before loss_smoothing_legacy / lr_decay_on existed: the run goes on as it was trained */
    if (!strstr(ce->data, "loss_smoothing_legacy")) {
        c.loss_smoothing_legacy = 1;
        c.lr_decay_on = ND_LR_DECAY_ON_TOTAL;
    }
    if (!strstr(ce->data, "ci_zero_pad")) c.ci_zero_pad = 0; /* its CI encoders ran through the forward bins */
    /* written before the other lfads-torch departures of issue 16 were closed: the model stays what it was (a
     * Gaussian inferred-input prior without a learned mean: the parameter buffer has no slot for one) */
    if (!strstr(ce->data, "co_prior_analytic")) {
        c.co_prior_analytic = 0;
        c.enc_init_legacy = 1;
        c.ext_input_dropout = 0;
        c.l2_pooled = c.recon_reduce_mean; /* lfads-torch's units were pooled already */
        c.sv_rescale = 0;
    }
    /* Everything that sizes the model is checked before anything is allocated (fuzz/FINDINGS.md,
     * bug 4): the config's layer sizes (nd_lfads_config_check), the dims (each at most 2^24), and the
     * parameter count they give against the bytes of the 'params' section. */
    if (d[0] <= 0 || d[1] <= 0 || d[2] < 0 || d[3] < 0 || d[4] < 0 || d[5] < d[0] || d[6] < d[1] ||
        d[5] > CKPT_MAX_DIM || d[6] > CKPT_MAX_DIM || d[2] > CKPT_MAX_DIM)
        return nd_fail(err, ND_ERR_CHECKPOINT, "%s: section 'dims' has impossible sizes", path);
    nd_error e2;
    if (nd_lfads_config_check(&c, &e2))
        return nd_fail(err, ND_ERR_CHECKPOINT, "%s: section 'config': %s", path, e2.msg);
    /* stitched: the sessions' sizes */
    int S = 1, Din = 0, sN[ND_LFADS_MAX_SESSIONS], sNr[ND_LFADS_MAX_SESSIONS];
    sN[0] = d[0];
    sNr[0] = d[5];
    const nd_ckpt_entry *se = nd_ckpt_find(ck, "stitch");
    if (se) {
        int32_t h[2];
        if (se->bytes < sizeof h) return nd_fail(err, ND_ERR_CHECKPOINT, "%s: section 'stitch' is truncated", path);
        memcpy(h, se->data, sizeof h);
        if (h[0] < 2 || h[0] > ND_LFADS_MAX_SESSIONS || h[1] < 1 || h[1] > ND_LFADS_MAX_DIM ||
            se->bytes != sizeof(int32_t) * (2 + 4 * (size_t)h[0]))
            return nd_fail(err, ND_ERR_CHECKPOINT, "%s: section 'stitch' has impossible sizes", path);
        S = h[0];
        Din = h[1];
        for (int k = 0; k < S; k++) {
            int32_t q[4];
            memcpy(q, (const char *)se->data + sizeof(int32_t) * (2 + 4 * (size_t)k), sizeof q);
            if (q[0] <= 0 || q[1] < q[0] || q[1] > CKPT_MAX_DIM || q[2] < 0 || q[3] < 0)
                return nd_fail(err, ND_ERR_CHECKPOINT, "%s: section 'stitch': session %d has impossible sizes", path,
                               k + 1);
            sN[k] = q[0];
            sNr[k] = q[1];
        }
    }
    size_t n_params = nd_lfads_sessions_num_params(&c, S, sN, sNr, Din, d[2]);
    const nd_ckpt_entry *pe = nd_ckpt_find(ck, "params");
    if (!pe || pe->bytes / sizeof(float) != n_params || pe->bytes % sizeof(float))
        return nd_fail(err, ND_ERR_CHECKPOINT, "%s: section 'params' missing or of the wrong size", path);
    st = nd_lfads_create_sessions(m, &c, S, sN, sNr, Din, d[2], err);
    if (st) return st;
    m->T = d[1];
    m->Tr = d[6];
    from_f32(m->params, pe->data, m->n_params);
    if (!nd_lfads_all_finite(m->params, m->n_params)) {
        nd_lfads_free(m);
        return nd_fail(err, ND_ERR_CHECKPOINT, "%s: parameters contain NaN/Inf", path);
    }
    return ND_OK;
}

nd_status nd_lfads_load(const char *path, nd_lfads_model *m, int dims[3], nd_error *err) {
    nd_ckpt ck;
    nd_status st = nd_ckpt_read(path, &ck, err);
    if (st) return st;
    int32_t d[7];
    st = load_model_from(&ck, path, m, d, err);
    nd_ckpt_free(&ck);
    if (!st) { dims[0] = d[0]; dims[1] = d[1]; dims[2] = d[2]; }
    return st;
}

nd_status nd_lfads_ckpt_find_session(const char *path, const char *data_path, int want, int S, int *out,
                                     nd_error *err) {
    *out = 0;
    if (want > 0) {
        if (want > S) return nd_fail(err, ND_ERR_ARG, "--session %d: %s is stitched over %d sessions", want, path, S);
        *out = want - 1;
        return ND_OK;
    }
    nd_ckpt ck;
    nd_status st = nd_ckpt_read(path, &ck, err);
    if (st) return st;
    const nd_ckpt_entry *fe = nd_ckpt_find(&ck, "session_files");
    const char *txt = fe && fe->bytes > 0 && ((const char *)fe->data)[fe->bytes - 1] == 0 ? fe->data : "";
    const char *want_name = base_name(data_path);
    size_t wl = strlen(want_name);
    int k = 0, found = -1;
    for (const char *p = txt; *p && found < 0; k++) {
        const char *e = strchr(p, '\n');
        size_t l = e ? (size_t)(e - p) : strlen(p);
        if (l == wl && memcmp(p, want_name, l) == 0) found = k;
        p += l + (e ? 1 : 0);
    }
    if (found < 0 || found >= S) {
        char list[256];
        snprintf(list, sizeof list, "%s", txt);
        for (char *q = list; *q; q++) *q = *q == '\n' ? ' ' : *q;
        st = nd_fail(err, ND_ERR_ARG, "%s: %s is not one of the %d session files this model was stitched over (%s); "
                     "pass --session K", path, data_path, S, list);
    }
    else *out = found;
    nd_ckpt_free(&ck);
    return st;
}

/* line `session` of a "fingerprint" section text (NUL-terminated), or NULL */
static const char *fp_line(const char *txt, int session) {
    for (int k = 0; k < session && txt; k++) {
        txt = strchr(txt, '\n');
        if (txt) txt++;
    }
    return txt && *txt ? txt : NULL;
}

static nd_status ckpt_fingerprint(const nd_ckpt *ck, const char *path, int session, nd_data_fp *fp, int *has,
                                  nd_error *err) {
    *has = 0;
    const nd_ckpt_entry *e = nd_ckpt_find(ck, "fingerprint");
    if (!e) return ND_OK;
    const char *txt = e->data;
    if (e->bytes == 0 || txt[e->bytes - 1] != 0 || !(txt = fp_line(txt, session)))
        return nd_fail(err, ND_ERR_CHECKPOINT, "%s: section 'fingerprint' is malformed", path);
    nd_error e2;
    if (nd_data_fp_parse(txt, fp, &e2)) return nd_fail(err, ND_ERR_CHECKPOINT, "%s: section 'fingerprint': %s", path, e2.msg);
    *has = 1;
    return ND_OK;
}

nd_status nd_lfads_ckpt_fingerprint(const char *path, int session, nd_data_fp *fp, int *has, nd_error *err) {
    nd_ckpt ck;
    *has = 0;
    nd_status st = nd_ckpt_read(path, &ck, err);
    if (st) return st;
    st = ckpt_fingerprint(&ck, path, session, fp, has, err);
    nd_ckpt_free(&ck);
    return st;
}

nd_status nd_lfads_check_data(const char *path, int session, int S, const nd_lfads_data *d, int allow, FILE *note,
                              nd_error *err) {
    nd_data_fp want, have;
    int has = 0;
    char what[512];
    nd_status st = nd_lfads_ckpt_fingerprint(path, session, &want, &has, err);
    if (st) return st;
    if (!has) {
        if (note)
            fprintf(note, "warning: %s has no data fingerprint (written before checkpoint version 2): %s cannot be "
                          "checked against the training data\n", path, d->path[0] ? d->path : "the data");
        return ND_OK;
    }
    if ((st = nd_data_fp_of(d, &have, err))) return st;
    char ses[32] = "";
    if (S > 1) snprintf(ses, sizeof ses, "session %d: ", session + 1);
    if (nd_data_fp_differs(&want, &have, allow, what, sizeof what))
        return nd_fail(err, ND_ERR_ARG, "%s is not the data %s was trained on (%s%s): %s differ%s", d->path, path, ses,
                       want.file, what, allow ? " (--allow-data-mismatch still needs the same bins, neurons and neuron "
                       "ids)" : "; --allow-data-mismatch runs it anyway (e.g. new trials of the same session)");
    if (allow && nd_data_fp_differs(&want, &have, 0, what, sizeof what) && note)
        fprintf(note, "note: %s differs from the training data (%s): %s (allowed by --allow-data-mismatch)\n",
                d->path, want.file, what);
    return ND_OK;
}

nd_status nd_lfads_ckpt_state(const char *path, nd_train_state *s, nd_error *err) {
    nd_ckpt ck;
    nd_status st = nd_ckpt_read(path, &ck, err);
    if (st) return st;
    st = nd_ckpt_get(&ck, path, "state", s, sizeof *s, err);
    nd_ckpt_free(&ck);
    return st;
}

nd_status nd_lfads_ckpt_resume(const char *path, nd_lfads_model *m, real **adam_m, real **adam_v, const int dims[7],
                               const nd_lfads_runinfo *si, nd_train_state *s, nd_error *err) {
    nd_ckpt ck;
    nd_status st = nd_ckpt_read(path, &ck, err);
    if (st) return st;
    int32_t d[7];
    st = load_model_from(&ck, path, m, d, err);
    if (!st) {
        const nd_ckpt_entry *se = nd_ckpt_find(&ck, "stitch");
        size_t want = si->v ? sizeof(int32_t) * si->n : 0;
        if ((se ? se->bytes : 0) != want || (want && memcmp(se->data, si->v, want) != 0))
            st = nd_fail(err, ND_ERR_ARG, "%s: checkpoint was trained on %s sessions than given now (or sessions of "
                         "other sizes, or in another order)", path, se ? "other" : "fewer");
    }
    if (!st) {
        for (int i = 0; i < 7; i++)
            if (d[i] != dims[i]) {
                st = nd_fail(err, ND_ERR_ARG,
                             "%s: checkpoint was trained on data of shape (%d+%d trials, %d/%d bins, %d/%d neurons, "
                             "%d inputs), this data is (%d+%d, %d/%d, %d/%d, %d)", path, d[3], d[4], d[1], d[6], d[0],
                             d[5], d[2], dims[3], dims[4], dims[1], dims[6], dims[0], dims[5], dims[2]);
                break;
            }
    }
    /* the data must be the data the run was trained on (checkpoints before version 2 have no fingerprint) */
    for (int k = 0; !st && si->fps && k < (si->v ? si->v[0] : 1); k++) {
        nd_data_fp want, have;
        int has = 0;
        char what[512];
        st = ckpt_fingerprint(&ck, path, k, &want, &has, err);
        if (st || !has) break;
        if (nd_data_fp_parse(fp_line(si->fps, k), &have, err)) { st = ND_ERR_ARG; break; }
        char ses[32] = "";
        if (si->v) snprintf(ses, sizeof ses, " as session %d", k + 1);
        if (nd_data_fp_differs(&want, &have, 0, what, sizeof what))
            st = nd_fail(err, ND_ERR_ARG, "%s: this run was trained on other data (%s%s): %s differ; train into "
                         "a new directory, or --force to start over", path, want.file, ses, what);
    }
    size_t n = m->n_params;
    float *tmp = st ? NULL : malloc(sizeof(float) * (n ? n : 1));
    if (!st && !tmp) st = nd_fail(err, ND_ERR_NOMEM, "out of memory");
    if (!st) st = ND_ALLOC(*adam_m, n, "Adam state", err);
    if (!st) st = ND_ALLOC(*adam_v, n, "Adam state", err);
    if (!st) st = nd_ckpt_get(&ck, path, "adam_m", tmp, sizeof(float) * n, err);
    if (!st) from_f32(*adam_m, tmp, n);
    if (!st) st = nd_ckpt_get(&ck, path, "adam_v", tmp, sizeof(float) * n, err);
    if (!st) from_f32(*adam_v, tmp, n);
    if (!st) st = nd_ckpt_get(&ck, path, "state", s, sizeof *s, err);
    free(tmp);
    nd_ckpt_free(&ck);
    return st;
}

/* Stitched runs add two sections: "stitch" = int32 {S, Din, then per session N, Nr, n_train, n_valid} and
 * "session_files" = the sessions' data file names, one per line. Every run has "fingerprint": one line per session. */
nd_status nd_lfads_runinfo_make(nd_lfads_runinfo *si, const nd_lfads_data *d, int S, int Din, nd_error *err) {
    memset(si, 0, sizeof *si);
    nd_status st;
    if (S > 1) {
        si->n = 2 + 4 * (size_t)S;
        si->v = malloc(sizeof(int32_t) * si->n);
        if (!si->v) return nd_fail(err, ND_ERR_NOMEM, "out of memory");
        si->v[0] = S;
        si->v[1] = Din;
        size_t flen = 1;
        for (int k = 0; k < S; k++) {
            int32_t *q = si->v + 2 + 4 * k;
            q[0] = d[k].N; q[1] = d[k].Nr; q[2] = d[k].split[ND_TRAIN].n; q[3] = d[k].split[ND_VALID].n;
            flen += strlen(base_name(d[k].path)) + 1;
        }
        si->files = calloc(flen, 1);
        if (!si->files) { nd_lfads_runinfo_free(si); return nd_fail(err, ND_ERR_NOMEM, "out of memory"); }
        for (int k = 0; k < S; k++) {
            strcat(si->files, base_name(d[k].path));
            strcat(si->files, "\n");
        }
    }
    si->fps = calloc((size_t)S, ND_FP_LINE);
    if (!si->fps) { nd_lfads_runinfo_free(si); return nd_fail(err, ND_ERR_NOMEM, "out of memory"); }
    for (int k = 0, off = 0; k < S; k++) {
        nd_data_fp fp;
        if ((st = nd_data_fp_of(&d[k], &fp, err))) { nd_lfads_runinfo_free(si); return st; }
        off += nd_data_fp_to_text(&fp, si->fps + off, ND_FP_LINE - 1);
        si->fps[off++] = k + 1 < S ? '\n' : 0;
    }
    return ND_OK;
}

void nd_lfads_runinfo_free(nd_lfads_runinfo *si) {
    free(si->v);
    free(si->files);
    free(si->fps);
    memset(si, 0, sizeof *si);
}
