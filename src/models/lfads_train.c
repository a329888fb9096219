/* LFADS training loop. See lfads_train.h. */
#include "lfads_train.h"
#include "../core/blas.h"
#include "../core/mem.h"
#include "../io/checkpoint.h"
#include "../io/fingerprint.h"
#include "stitch_init.h"
#include "../core/fault.h"
#include <errno.h>
#include <stddef.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* PCR initialisation of stitched read-ins: PSTH smoothing (Gaussian SD, bins) and ridge penalty */
#define STITCH_KERNEL_BINS 2.0
#define STITCH_RIDGE_ALPHA 1.0
#define STITCH_READOUT_MAX_NORM 3.0
#define ND_FP_LINE 1024 /* bytes per session of the "fingerprint" section */
enum { STREAM_SHUFFLE = 1, STREAM_BATCH = 2, STREAM_VALID = 3, STREAM_SV = 5, STREAM_SESSION_SHUFFLE = 6,
       STREAM_BATCH_ORDER = 7 };

double nd_lfads_ramp(int epoch, int start, int increase) {
    double r = (double)(epoch + 1 - start) / (double)(increase + 1);
    return r < 0 ? 0 : (r > 1 ? 1 : r);
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

/* ---- one split of the data, as the trainer sees it ---- */
typedef struct {
    int n, T, N, E, Tr, Nr;
    const float *x, *ext; /* encoder input [n][T][N]; external inputs [n][Tr][E] */
    const float *xr;      /* reconstruction targets [n][Tr][Nr] */
    float *sv;            /* sample-validation entries (1) [n][T][N], or NULL */
} split_view;

/* time-major batch from trials idx[0..B) */
static void fill_batch(real *X, real *XR, real *EXT, real *SV, const split_view *s, const int *idx, int B) {
    int T = s->T, N = s->N, E = s->E, Tr = s->Tr, Nr = s->Nr;
    for (int b = 0; b < B; b++) {
        size_t src = (size_t)idx[b] * T, srcr = (size_t)idx[b] * Tr;
        for (int t = 0; t < T; t++) {
            const float *xs = s->x + (src + t) * N;
            real *xd = X + ((size_t)t * B + b) * N;
            for (int n = 0; n < N; n++) xd[n] = xs[n];
            if (SV && s->sv) {
                const float *ss = s->sv + (src + t) * N;
                real *sd = SV + ((size_t)t * B + b) * N;
                for (int n = 0; n < N; n++) sd[n] = ss[n];
            }
        }
        for (int t = 0; t < Tr; t++) {
            const float *rs = s->xr + (srcr + t) * Nr;
            real *rd = XR + ((size_t)t * B + b) * Nr;
            for (int n = 0; n < Nr; n++) rd[n] = rs[n];
            if (E) {
                const float *es = s->ext + (srcr + t) * E;
                real *ed = EXT + ((size_t)t * B + b) * E;
                for (int e = 0; e < E; e++) ed[e] = es[e];
            }
        }
    }
}

typedef struct {
    double recon, recon_sv, kl_ic, kl_co, l2, total;
} loss_sum;

static void loss_add(loss_sum *a, const nd_lfads_loss *l, int B) {
    a->recon += l->recon * B; a->recon_sv += l->recon_sv * B; a->kl_ic += l->kl_ic * B;
    a->kl_co += l->kl_co * B; a->l2 += l->l2 * B; a->total += l->total * B;
}
static void loss_div(loss_sum *a, int n) {
    a->recon /= n; a->recon_sv /= n; a->kl_ic /= n; a->kl_co /= n; a->l2 /= n; a->total /= n;
}

typedef struct {
    nd_lfads_model m;
    nd_lfads_work *w;
    real *grad, *adam_m, *adam_v;
    real *X, *XR, *EXT, *SV;
    int *idx;
} trainer;

static void trainer_free(trainer *t) {
    nd_lfads_work_free(t->w);
    nd_free(t->grad); nd_free(t->adam_m); nd_free(t->adam_v);
    nd_free(t->X); nd_free(t->XR); nd_free(t->EXT); nd_free(t->SV); nd_free(t->idx);
    nd_lfads_free(&t->m);
}

static int all_finite(const real *g, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (!isfinite(g[i])) return 0;
    return 1;
}

/* Adam with bias correction; gscale multiplies the gradient first (loss_scale, see nd_lfads_effective_scales);
 * returns the gradient norm before clipping */
static double adam_step(trainer *t, const nd_lfads_config *c, double lr, int64_t step, double gscale) {
    size_t n = t->m.n_params;
    double ss = 0;
    for (size_t i = 0; i < n; i++) ss += (double)t->grad[i] * t->grad[i];
    double norm = sqrt(ss) * gscale, clipf = norm > c->max_grad_norm ? c->max_grad_norm / norm : 1.0;
    clipf *= gscale;
    double b1 = c->adam_beta1, b2 = c->adam_beta2;
    double bc1 = 1 - pow(b1, (double)step), bc2 = 1 - pow(b2, (double)step);
    real a = (real)(lr / bc1), eps = (real)c->adam_epsilon, rb2 = (real)(1 / sqrt(bc2));
    real fb1 = (real)b1, fb2 = (real)b2, cf = (real)clipf;
    real *p = t->m.params, *m = t->adam_m, *v = t->adam_v, *g = t->grad;
    #pragma omp parallel for schedule(static)
    for (size_t i = 0; i < n; i++) {
        real gi = g[i] * cf;
        m[i] = fb1 * m[i] + (1 - fb1) * gi;
        v[i] = fb2 * v[i] + (1 - fb2) * gi * gi;
        p[i] -= a * m[i] / (RSQRT(v[i]) * rb2 + eps);
    }
    return norm;
}

/* evaluate the valid split of every session with dropout off, posterior sampling on (fixed streams);
 * losses per trial over all sessions' trials */
static void eval_split(trainer *t, const split_view *sv, int S, const nd_lfads_config *c, double rkl, double rl2,
                       loss_sum *out) {
    memset(out, 0, sizeof *out);
    int Bmax = c->batch_size, k = 0, ntot = 0;
    for (int ses = 0; ses < S; ses++) {
        const split_view *s = &sv[ses];
        nd_lfads_mode mode = {1, 0, rkl, rl2, ses};
        for (int i = 0; i < s->n; i++) t->idx[i] = i;
        for (int start = 0; start < s->n; k++, start += Bmax) {
            int B = s->n - start < Bmax ? s->n - start : Bmax;
            fill_batch(t->X, t->XR, t->EXT, s->sv ? t->SV : NULL, s, t->idx + start, B);
            nd_rng r;
            nd_rng_stream(&r, (uint64_t)c->seed, STREAM_VALID, (uint64_t)k);
            nd_lfads_loss L;
            nd_lfads_forward_recon(&t->m, t->w, t->X, t->XR, t->EXT, s->sv ? t->SV : NULL, B, &mode, &r, &L);
            loss_add(out, &L, B);
        }
        ntot += s->n;
    }
    loss_div(out, ntot);
}

/* ---- checkpoints ---- */
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

/* Stitched runs add two sections: "stitch" = int32 {S, Din, then per session N, Nr, n_train, n_valid} and
 * "session_files" = the sessions' data file names, one per line. */
typedef struct {
    int32_t *v;      /* 2 + 4 S values, or NULL for a plain run */
    size_t n;
    char *files;     /* NUL-terminated */
    char *fps;       /* the sessions' data fingerprints (src/io/fingerprint.h), one line each; section "fingerprint" */
} stitch_info;

static nd_status save_ckpt(const char *path, const char *prev, const trainer *t, const int dims[7],
                           const stitch_info *si, const nd_train_state *st, nd_error *err) {
    size_t n = t->m.n_params;
    char *cfg = nd_lfads_config_to_text(&t->m.cfg);
    float *buf = malloc(sizeof(float) * n * 3);
    if (!cfg || !buf) { free(cfg); free(buf); return nd_fail(err, ND_ERR_NOMEM, "%s: out of memory", path); }
    to_f32(buf, t->m.params, n);
    to_f32(buf + n, t->adam_m, n);
    to_f32(buf + 2 * n, t->adam_v, n);
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
    if (!all_finite(m->params, m->n_params)) {
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

static const char *base_name(const char *p) {
    const char *b = strrchr(p, '/');
    return b ? b + 1 : p;
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

/* new hyperparameters for a resumed run (new_hparams): everything but the architecture may change */
static nd_status adopt_hparams(nd_lfads_config *c, const nd_lfads_config *n, const char *path, nd_error *err) {
    static const struct { const char *name; size_t off; } arch[] = {
        {"gen_dim", offsetof(nd_lfads_config, gen_dim)},       {"con_dim", offsetof(nd_lfads_config, con_dim)},
        {"co_dim", offsetof(nd_lfads_config, co_dim)},         {"ic_enc_dim", offsetof(nd_lfads_config, ic_enc_dim)},
        {"ci_enc_dim", offsetof(nd_lfads_config, ci_enc_dim)}, {"ci_lag", offsetof(nd_lfads_config, ci_lag)},
        {"ic_dim", offsetof(nd_lfads_config, ic_dim)},         {"fac_dim", offsetof(nd_lfads_config, fac_dim)},
        {"co_prior_ar1", offsetof(nd_lfads_config, co_prior_ar1)},
        {"readin_dim", offsetof(nd_lfads_config, readin_dim)}, {"recon", offsetof(nd_lfads_config, recon)},
    };
    for (size_t i = 0; i < sizeof arch / sizeof arch[0]; i++) {
        int a = *(const int *)((const char *)c + arch[i].off), b = *(const int *)((const char *)n + arch[i].off);
        if (a != b)
            return nd_fail(err, ND_ERR_ARG, "%s: checkpoint has %s = %d, the new configuration %d (the architecture "
                                            "cannot change on resume)", path, arch[i].name, a, b);
    }
    /* a learned Gaussian prior mean is a slot in the parameter buffer */
    int ma = !c->co_prior_ar1 && c->co_prior_analytic, mb = !n->co_prior_ar1 && n->co_prior_analytic;
    if (ma != mb)
        return nd_fail(err, ND_ERR_ARG, "%s: checkpoint has co_prior_analytic = %d, the new configuration %d (the "
                                        "architecture cannot change on resume)", path, c->co_prior_analytic,
                       n->co_prior_analytic);
    *c = *n;
    return ND_OK;
}

static nd_status resume_from(const char *path, trainer *t, const int dims[7], const stitch_info *si,
                             nd_train_state *s, nd_error *err) {
    nd_ckpt ck;
    nd_status st = nd_ckpt_read(path, &ck, err);
    if (st) return st;
    int32_t d[7];
    st = load_model_from(&ck, path, &t->m, d, err);
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
    size_t n = t->m.n_params;
    float *tmp = st ? NULL : malloc(sizeof(float) * (n ? n : 1));
    if (!st && !tmp) st = nd_fail(err, ND_ERR_NOMEM, "out of memory");
    if (!st) st = ND_ALLOC(t->adam_m, n, "Adam state", err);
    if (!st) st = ND_ALLOC(t->adam_v, n, "Adam state", err);
    if (!st) st = nd_ckpt_get(&ck, path, "adam_m", tmp, sizeof(float) * n, err);
    if (!st) from_f32(t->adam_m, tmp, n);
    if (!st) st = nd_ckpt_get(&ck, path, "adam_v", tmp, sizeof(float) * n, err);
    if (!st) from_f32(t->adam_v, tmp, n);
    if (!st) st = nd_ckpt_get(&ck, path, "state", s, sizeof *s, err);
    free(tmp);
    nd_ckpt_free(&ck);
    return st;
}

/* Training time lives outside the checkpoints so that an interrupted and an uninterrupted run
 * write byte-identical checkpoints. */
static double read_elapsed(const char *run_dir) {
    char path[4096];
    snprintf(path, sizeof path, "%s/train_time.txt", run_dir);
    FILE *f = fopen(path, "r");
    double v = 0;
    if (f) {
        if (fscanf(f, "%lf", &v) != 1 || !(v >= 0)) v = 0;
        fclose(f);
    }
    return v;
}

static void write_elapsed(const char *run_dir, double v) {
    char path[4096], buf[64];
    snprintf(path, sizeof path, "%s/train_time.txt", run_dir);
    int n = snprintf(buf, sizeof buf, "%.3f\n", v);
    nd_write_file_atomic(path, buf, (size_t)n, NULL);
}

/* ---- the files a run writes (and --force deletes): nothing else in the directory is touched ---- */
static const char *const RUN_FILES[] = {"last.ckpt", "last.prev.ckpt", "best.ckpt", "config.txt", "train_log.tsv",
                                        "train_time.txt"};
#define N_RUN_FILES (sizeof RUN_FILES / sizeof RUN_FILES[0])

/* 1 if run_dir holds any of them (or their temp files); `found` names the first */
static int run_files_present(const char *run_dir, char *found, size_t cap) {
    char path[4096];
    struct stat sb;
    for (size_t i = 0; i < 2 * N_RUN_FILES; i++) {
        snprintf(path, sizeof path, "%s/%s%s", run_dir, RUN_FILES[i % N_RUN_FILES], i < N_RUN_FILES ? "" : ".tmp");
        if (stat(path, &sb) == 0) {
            snprintf(found, cap, "%s%s", RUN_FILES[i % N_RUN_FILES], i < N_RUN_FILES ? "" : ".tmp");
            return 1;
        }
    }
    return 0;
}

static nd_status run_files_clear(const char *run_dir, nd_error *err) {
    char path[4096];
    for (size_t i = 0; i < 2 * N_RUN_FILES; i++) {
        snprintf(path, sizeof path, "%s/%s%s", run_dir, RUN_FILES[i % N_RUN_FILES], i < N_RUN_FILES ? "" : ".tmp");
        if (unlink(path) != 0 && errno != ENOENT)
            return nd_fail(err, ND_ERR_IO, "%s: cannot delete the previous run's file: %s", path, strerror(errno));
    }
    return ND_OK;
}

/* ---- log ---- */
static void log_line(const char *run_dir, int64_t epoch, const loss_sum *tr, const loss_sum *va,
                     const nd_train_state *s, double secs) {
    char path[4096];
    snprintf(path, sizeof path, "%s/train_log.tsv", run_dir);
    FILE *f = fopen(path, epoch == 0 ? "w" : "a");
    if (!f) return;
    if (epoch == 0)
        fprintf(f, "epoch\ttrain_total\ttrain_recon\ttrain_kl_ic\ttrain_kl_co\ttrain_l2\tvalid_total\tvalid_recon\t"
                   "valid_recon_sv\tsmoothed_valid_total\tsmoothed_valid_recon\tlr\tseconds\n");
    fprintf(f, "%lld\t%.6f\t%.6f\t%.6f\t%.6f\t%.6f\t%.6f\t%.6f\t%.6f\t%.6f\t%.6f\t%.3e\t%.2f\n", (long long)epoch,
            tr->total, tr->recon, tr->kl_ic, tr->kl_co, tr->l2, va->total, va->recon, va->recon_sv,
            s->smoothed_total, s->smoothed_recon, s->lr, secs);
    fclose(f);
}

/* keep only the log lines of epochs < epoch (used on resume so lines are not duplicated) */
static void log_truncate(const char *run_dir, int64_t epoch) {
    char path[4096], line[4096];
    snprintf(path, sizeof path, "%s/train_log.tsv", run_dir);
    FILE *f = fopen(path, "r");
    if (!f) return;
    char *out = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&out, &len);
    if (!m) { fclose(f); return; }
    while (fgets(line, sizeof line, f)) {
        char *end;
        long long e = strtoll(line, &end, 10);
        if (end == line || e < epoch) fputs(line, m);
    }
    fclose(f);
    fclose(m);
    nd_write_file_atomic(path, out, len, NULL);
    free(out);
}

static void fmt_dur(char *buf, size_t n, double s) {
    if (s < 100) snprintf(buf, n, "%.0fs", s);
    else if (s < 6000) snprintf(buf, n, "%.0fm%02.0fs", floor(s / 60), fmod(s, 60));
    else snprintf(buf, n, "%.0fh%02.0fm", floor(s / 3600), fmod(floor(s / 60), 60));
}

static nd_status make_sv(float **out, const split_view *s, const nd_lfads_config *c, int which, nd_error *err) {
    *out = NULL;
    if (c->sv_rate <= 0) return ND_OK;
    size_t n = (size_t)s->n * s->T * s->N;
    nd_status st = ND_ALLOC(*out, n, "sample-validation mask", err);
    if (st) return st;
    nd_rng r;
    nd_rng_stream(&r, (uint64_t)c->seed, STREAM_SV, (uint64_t)which);
    for (size_t i = 0; i < n; i++) (*out)[i] = nd_rng_uniform(&r) < c->sv_rate ? 1.0f : 0.0f;
    return ND_OK;
}

nd_status nd_lfads_train(const nd_lfads_data *d, const nd_lfads_config *cfg, const nd_train_opts *o,
                         nd_train_result *res, nd_error *err) {
    return nd_lfads_train_sessions(d, 1, cfg, o, res, err);
}

/* Read-in / read-out initialisation of a stitched model by principal-component regression (shared/spec/lfads.md
 * "Multi-session stitching", src/models/stitch_init.h) on the training trials' condition-averaged PSTHs: the
 * read-in maps each session's neurons onto the top Din PCs of all sessions' PSTHs, so the shared encoders see
 * aligned inputs from the first step. When Din == fac_dim the read-out starts from the pseudo-inverse, turned
 * into log-rates to first order around each neuron's mean rate (log r ~ log m + (r - m) / m). Without condition
 * ids shared by all sessions the random initialisation stays. */
static void stitch_init(nd_lfads_model *m, const nd_lfads_data *d, int S, FILE *progress) {
    const int D = m->Din, F = m->cfg.fac_dim;
    nd_stitch_session ss[ND_LFADS_MAX_SESSIONS];
    float *riW[ND_LFADS_MAX_SESSIONS], *rib[ND_LFADS_MAX_SESSIONS], *roW[ND_LFADS_MAX_SESSIONS];
    int have_cond = 1, ok = 1, capped = 0;
    for (int k = 0; k < S; k++) {
        ss[k] = (nd_stitch_session){d[k].n_train, d[k].T, d[k].N, d[k].train, d[k].train_cond};
        have_cond &= d[k].train_cond != NULL;
        riW[k] = malloc(sizeof(float) * (size_t)d[k].N * D);
        rib[k] = malloc(sizeof(float) * (size_t)D);
        roW[k] = malloc(sizeof(float) * (size_t)d[k].N * D);
        ok &= riW[k] && rib[k] && roW[k];
    }
    nd_error e;
    nd_status st = ND_OK;
    if (!have_cond) st = nd_fail(&e, ND_ERR_ARG, "a session file has no train_condition");
    else if (!ok) st = nd_fail(&e, ND_ERR_NOMEM, "out of memory");
    else st = nd_stitch_pcr_init(ss, S, D, STITCH_KERNEL_BINS, STITCH_RIDGE_ALPHA, riW, rib, roW, &e);
    for (int k = 0; k < S && !st; k++) {
        nd_lfads_session_views sv;
        nd_lfads_session_bind(m, m->params, k, &sv);
        for (size_t i = 0; i < (size_t)sv.N * D; i++) sv.ri_W[i] = riW[k][i];
        for (int j = 0; j < D; j++) sv.ri_bias[j] = rib[k][j];
        if (D != F || sv.P != 1) continue; /* the read-out's first-order log-rate form is Poisson's */
        /* a session whose PSTHs barely span some component has a near-singular read-in, and its pseudo-inverse
         * would start the read-out with huge weights (exp overflows at once): cap the largest neuron's weight
         * norm at STITCH_READOUT_MAX_NORM (about 1 for the random init), scaling the session's read-out as a whole */
        double maxnorm = 0;
        for (int n = 0; n < sv.N; n++) {
            double ss = 0;
            for (int j = 0; j < D; j++) {
                double v = roW[k][(size_t)j * sv.N + n] / REXP(sv.ro_bias[n]);
                ss += v * v;
            }
            maxnorm = sqrt(ss) > maxnorm ? sqrt(ss) : maxnorm;
        }
        double scale = maxnorm > STITCH_READOUT_MAX_NORM ? STITCH_READOUT_MAX_NORM / maxnorm : 1;
        if (scale < 1) capped++;
        for (int j = 0; j < D; j++)
            for (int n = 0; n < sv.N; n++) /* held-out neurons (n >= N) keep their random read-out */
                sv.ro_W[(size_t)j * sv.Nr + n] = (real)(scale * roW[k][(size_t)j * sv.N + n] / REXP(sv.ro_bias[n]));
    }
    if (progress) {
        if (st) fprintf(progress, "note: read-ins initialised at random (no PCR initialisation: %s)\n", e.msg);
        else fprintf(progress, "read-ins%s initialised by PCR on condition-averaged PSTHs (%d PCs)%s\n",
                     D == F ? " and read-outs" : "", D, capped ? "; some read-outs scaled down (near-singular)" : "");
    }
    for (int k = 0; k < S; k++) { free(riW[k]); free(rib[k]); free(roW[k]); }
}

/* the sessions of a stitched run must agree on everything but their neurons and trials */
static nd_status check_sessions(nd_lfads_data *d, int S, nd_error *err) {
    for (int k = 0; k < S; k++) {
        if (d[k].Nr <= 0) d[k].Nr = d[k].N; /* data built by hand without the reconstruction fields */
        if (d[k].Tr <= 0) d[k].Tr = d[k].T;
        if (d[k].n_train <= 0 || d[k].n_valid <= 0)
            return nd_fail(err, ND_ERR_ARG, "%s: need at least one training and one validation trial", d[k].path);
        if (k && (d[k].T != d[0].T || d[k].Tr != d[0].Tr || d[k].E != d[0].E))
            return nd_fail(err, ND_ERR_ARG, "%s: %d bins (%d reconstructed) and %d external inputs, but %s has %d (%d) "
                           "and %d: the sessions of one model must agree", d[k].path, d[k].T, d[k].Tr, d[k].E,
                           d[0].path, d[0].T, d[0].Tr, d[0].E);
    }
    return ND_OK;
}

nd_status nd_lfads_train_sessions(const nd_lfads_data *d_in, int S, const nd_lfads_config *cfg_in,
                                  const nd_train_opts *o, nd_train_result *res, nd_error *err) {
    memset(res, 0, sizeof *res);
    res->best_epoch = -1;
    if (S < 1 || S > ND_LFADS_MAX_SESSIONS)
        return nd_fail(err, ND_ERR_ARG, "%d data files: training takes 1 to %d sessions", S, ND_LFADS_MAX_SESSIONS);
    nd_lfads_data dd[ND_LFADS_MAX_SESSIONS], *d = dd;
    memcpy(dd, d_in, sizeof *d_in * (size_t)S);
    nd_status st = check_sessions(dd, S, err);
    if (st) return st;
    const int stitched = S > 1;
    int n_train = 0, n_valid = 0, nmax = 0, Nmax = 0, Nrmax = 0, sN[ND_LFADS_MAX_SESSIONS], sNr[ND_LFADS_MAX_SESSIONS];
    for (int k = 0; k < S; k++) {
        n_train += d[k].n_train;
        n_valid += d[k].n_valid;
        nmax = d[k].n_train > nmax ? d[k].n_train : nmax;
        nmax = d[k].n_valid > nmax ? d[k].n_valid : nmax;
        sN[k] = d[k].N;
        sNr[k] = d[k].Nr;
        Nmax = d[k].N > Nmax ? d[k].N : Nmax;
        Nrmax = d[k].Nr > Nrmax ? d[k].Nr : Nrmax;
    }
    const int Din = stitched ? (cfg_in->readin_dim > 0 ? cfg_in->readin_dim : cfg_in->fac_dim) : 0;
    /* stitched runs record the sessions' sizes and files in every checkpoint */
    int32_t stv[2 + 4 * ND_LFADS_MAX_SESSIONS];
    char *files = NULL;
    stitch_info si = {NULL, 0, NULL, NULL};
    if (stitched) {
        stv[0] = S;
        stv[1] = Din;
        size_t flen = 1;
        for (int k = 0; k < S; k++) {
            int32_t *q = stv + 2 + 4 * k;
            q[0] = d[k].N; q[1] = d[k].Nr; q[2] = d[k].n_train; q[3] = d[k].n_valid;
            flen += strlen(base_name(d[k].path)) + 1;
        }
        files = calloc(flen, 1);
        if (!files) return nd_fail(err, ND_ERR_NOMEM, "out of memory");
        for (int k = 0; k < S; k++) {
            strcat(files, base_name(d[k].path));
            strcat(files, "\n");
        }
        si = (stitch_info){stv, 2 + 4 * (size_t)S, files, NULL};
    }
    /* the data fingerprints, one line per session */
    char *fps = calloc((size_t)S, ND_FP_LINE);
    if (!fps) { free(files); return nd_fail(err, ND_ERR_NOMEM, "out of memory"); }
    for (int k = 0, off = 0; k < S; k++) {
        nd_data_fp fp;
        if ((st = nd_data_fp_of(&d[k], &fp, err))) { free(files); free(fps); return st; }
        off += nd_data_fp_to_text(&fp, fps + off, ND_FP_LINE - 1);
        fps[off++] = k + 1 < S ? '\n' : 0;
    }
    si.fps = fps;
    if (mkdir(o->run_dir, 0755) != 0 && errno != EEXIST) {
        free(files);
        free(fps);
        return nd_fail(err, ND_ERR_IO, "%s: cannot create run directory: %s", o->run_dir, strerror(errno));
    }
    int threads = o->threads > 0 ? o->threads : 1;
    omp_set_num_threads(threads);
    nd_blas_set_threads(1); /* the LFADS passes parallelise over batch rows themselves (lfads.c) */

    char last[4096], best[4096], cfgpath[4096];
    snprintf(last, sizeof last, "%s/last.ckpt", o->run_dir);
    snprintf(best, sizeof best, "%s/best.ckpt", o->run_dir);
    snprintf(cfgpath, sizeof cfgpath, "%s/config.txt", o->run_dir);
    int dims[7] = {d->N, d->T, d->E, n_train, n_valid, d->Nr, d->Tr};
    trainer t;
    memset(&t, 0, sizeof t);
    nd_train_state s;
    memset(&s, 0, sizeof s);
    split_view tr[ND_LFADS_MAX_SESSIONS], va[ND_LFADS_MAX_SESSIONS];
    memset(tr, 0, sizeof tr);
    memset(va, 0, sizeof va);
    /* the training batches of an epoch: session, first entry in t.idx, size (fixed); the order they run in */
    int *bses = NULL, *bstart = NULL, *bsize = NULL, *order = NULL;
    real *snap = NULL;
    struct stat sb;
    char prev[4096];
    snprintf(prev, sizeof prev, "%s/last.prev.ckpt", o->run_dir);
    int have_last = stat(last, &sb) == 0, have_prev = stat(prev, &sb) == 0;
    int resuming = o->resume && (have_last || have_prev);
    if (o->resume && !resuming && o->progress)
        fprintf(o->progress, "note: %s not found; starting a new run\n", last);
    /* a new run never mixes with an old one's files (a stale best.ckpt would be taken for this run's model) */
    if (!resuming) {
        char found[64];
        if (run_files_present(o->run_dir, found, sizeof found)) {
            if (!o->resume && !o->force) {
                st = nd_fail(err, ND_ERR_ARG, "%s: holds a run (%s); pass --resume to continue it, --force to delete "
                             "its files and start over, or choose another --out", o->run_dir, found);
                goto done;
            }
            if ((st = run_files_clear(o->run_dir, err))) goto done;
            if (o->progress)
                fprintf(o->progress, "note: deleted the files of the previous run in %s (%s)\n", o->run_dir,
                        o->force ? "--force" : "it had no checkpoint to resume");
        }
    }
    if (resuming) {
        st = have_last ? resume_from(last, &t, dims, &si, &s, err) : ND_ERR_IO;
        if (st && have_prev && st != ND_ERR_ARG) { /* last.ckpt damaged or missing: the previous one */
            nd_error e2;
            nd_lfads_free(&t.m);
            nd_free(t.adam_m); nd_free(t.adam_v);
            t.adam_m = t.adam_v = NULL;
            memset(&s, 0, sizeof s);
            if (o->progress)
                fprintf(o->progress, "warning: %s; resuming from the previous checkpoint %s\n",
                        have_last ? err->msg : "last.ckpt is missing", prev);
            st = resume_from(prev, &t, dims, &si, &s, &e2);
            if (st) *err = e2;
        }
        if (!st && o->new_hparams) {
            st = adopt_hparams(&t.m.cfg, cfg_in, last, err);
            s.lr = cfg_in->lr_init;
            s.stopped = 0;
            s.plateau = 0;
            s.es_count = 0;
        }
        if (st) goto done;
    } else {
        st = nd_lfads_create_sessions(&t.m, cfg_in, S, sN, sNr, Din, d->E, err);
        if (st) goto done;
        size_t nr_all = 0;
        for (int k = 0; k < S; k++) nr_all += (size_t)d[k].Nr;
        float *mean_rate = calloc(nr_all, sizeof(float));
        if (!mean_rate) { st = nd_fail(err, ND_ERR_NOMEM, "out of memory"); goto done; }
        for (int k = 0, off = 0; k < S; off += d[k].Nr, k++) {
            const float *rec = nd_lfads_recon(&d[k], 0);
            float *mr = mean_rate + off;
            for (size_t i = 0; i < (size_t)d[k].n_train * d[k].Tr; i++)
                for (int n = 0; n < d[k].Nr; n++) mr[n] += rec[i * d[k].Nr + n];
            for (int n = 0; n < d[k].Nr; n++) mr[n] /= (float)((size_t)d[k].n_train * d[k].Tr);
        }
        nd_lfads_init(&t.m, (uint64_t)cfg_in->seed, mean_rate);
        free(mean_rate);
        if (stitched && cfg_in->readin_pcr) stitch_init(&t.m, d, S, o->progress);
        else if (stitched && o->progress) fprintf(o->progress, "read-ins initialised at random (readin_pcr = 0)\n");
        st = ND_ALLOC(t.adam_m, t.m.n_params, "Adam state", err);
        if (!st) st = ND_ALLOC(t.adam_v, t.m.n_params, "Adam state", err);
        if (st) goto done;
        s.lr = cfg_in->lr_init;
        s.best_lr_loss = s.best_recon = INFINITY;
        s.best_epoch = -1;
    }
    nd_lfads_config *c = &t.m.cfg;
    if (o->max_epochs >= 0) c->max_epochs = o->max_epochs;
    {
        char *txt = nd_lfads_config_to_text(c);
        st = txt ? nd_write_file_atomic(cfgpath, txt, strlen(txt), err) : nd_fail(err, ND_ERR_NOMEM, "out of memory");
        free(txt);
        if (st) goto done;
    }
    int Bmax = c->batch_size, T = d->T, E = d->E, Tr = d->Tr;
    t.m.T = T;
    t.m.Tr = Tr;
    if (Bmax > nmax) Bmax = nmax;
    int nbatch = 0; /* training batches per epoch, over all sessions */
    for (int k = 0; k < S; k++) nbatch += (d[k].n_train + Bmax - 1) / Bmax;
    st = nd_lfads_work_create2(&t.w, &t.m, Bmax, T, Tr, err);
    if (!st) st = ND_ALLOC(t.grad, t.m.n_params, "gradients", err);
    if (!st) st = ND_ALLOC(t.X, (size_t)T * Bmax * Nmax, "batch", err);
    if (!st) st = ND_ALLOC(t.XR, (size_t)Tr * Bmax * Nrmax, "batch", err);
    if (!st) st = ND_ALLOC(t.EXT, (size_t)Tr * Bmax * (E ? E : 1), "batch", err);
    if (!st) st = ND_ALLOC(t.SV, (size_t)T * Bmax * Nmax, "batch", err);
    if (!st) st = ND_ALLOC(t.idx, (size_t)n_train + nmax, "batch indices", err);
    if (!st && !((bses = malloc(sizeof(int) * (size_t)nbatch)) && (bstart = malloc(sizeof(int) * (size_t)nbatch)) &&
                 (bsize = malloc(sizeof(int) * (size_t)nbatch)) && (order = malloc(sizeof(int) * (size_t)nbatch))))
        st = nd_fail(err, ND_ERR_NOMEM, "out of memory");
    for (int ses = 0, off = 0, k = 0; ses < S && !st; off += d[ses].n_train, ses++)
        for (int start = 0; start < d[ses].n_train; start += Bmax, k++) {
            bses[k] = ses;
            bstart[k] = off + start;
            bsize[k] = d[ses].n_train - start < Bmax ? d[ses].n_train - start : Bmax;
        }
    for (int k = 0; k < S && !st; k++) {
        tr[k] = (split_view){d[k].n_train, T, d[k].N, E, Tr, d[k].Nr, d[k].train, d[k].train_ext,
                             nd_lfads_recon(&d[k], 0), NULL};
        va[k] = (split_view){d[k].n_valid, T, d[k].N, E, Tr, d[k].Nr, d[k].valid, d[k].valid_ext,
                             nd_lfads_recon(&d[k], 1), NULL};
        st = make_sv(&tr[k].sv, &tr[k], c, 2 * k, err);
        if (!st) st = make_sv(&va[k].sv, &va[k], c, 2 * k + 1, err);
    }
    if (st) goto done;
    c->batch_size = Bmax;
    if (resuming) log_truncate(o->run_dir, s.epoch);
    if (o->progress && !stitched)
        fprintf(o->progress, "%s LFADS: %d params | %d train + %d valid trials x %d bins x %d neurons%s%s | "
                             "controller %s | %d thread%s\n", resuming ? "resuming" : "training", (int)t.m.n_params,
                d->n_train, d->n_valid, T, d->N, E ? " + inputs" : "",
                d->Nr > d->N || Tr > T ? " (reconstructing more: see below)" : "", t.m.ctrl ? "on" : "off", threads,
                threads > 1 ? "s" : "");
    if (o->progress && stitched) {
        fprintf(o->progress, "%s LFADS stitched over %d sessions: %d params | %d train + %d valid trials x %d bins%s | "
                             "read-in %d | controller %s | %d thread%s\n", resuming ? "resuming" : "training", S,
                (int)t.m.n_params, n_train, n_valid, T, E ? " + inputs" : "", Din, t.m.ctrl ? "on" : "off", threads,
                threads > 1 ? "s" : "");
        for (int k = 0; k < S; k++)
            fprintf(o->progress, "  session %d: %s, %d train + %d valid trials x %d neurons%s\n", k + 1, d[k].path,
                    d[k].n_train, d[k].n_valid, d[k].N, d[k].Nr > d[k].N ? " (+ held-out)" : "");
    }
    if (o->progress && (d->Nr > d->N || Tr > T))
        fprintf(o->progress, "  the read-out predicts %d neurons (%d held out) over %d bins (%d forward-prediction)\n",
                d->Nr, d->Nr - d->N, Tr, Tr - T);

    double elapsed = resuming ? read_elapsed(o->run_dir) : 0, t_start = now_s() - elapsed;
    const char *reason = s.stopped ? "already finished" : "max_epochs reached";
    /* the state at the start of the epoch, to roll back to after a NaN/Inf */
    size_t np = t.m.n_params;
    snap = nd_alloc(sizeof(real) * np * 3);
    if (!snap) { st = nd_fail(err, ND_ERR_NOMEM, "out of memory for the roll-back copy of the model"); goto done; }
    nd_train_state snap_s;
    while (!s.stopped && s.epoch < c->max_epochs) {
        memcpy(snap, t.m.params, sizeof(real) * np);
        memcpy(snap + np, t.adam_m, sizeof(real) * np);
        memcpy(snap + 2 * np, t.adam_v, sizeof(real) * np);
        snap_s = s;
    retry_epoch:;
        double t_ep = now_s();
        int e = (int)s.epoch;
        int bad_batch = -1;
        double rkl = nd_lfads_ramp(e, c->kl_start_epoch, c->kl_increase_epoch);
        double rl2 = nd_lfads_ramp(e, c->l2_start_epoch, c->l2_increase_epoch);
        nd_lfads_mode mode = {1, 1, rkl, rl2, 0};
        nd_rng r;
        /* each session's trials shuffled, then cut into the fixed batches; with several sessions the batches run
         * in a shuffled order (one session per batch) */
        const int nb = nbatch;
        for (int ses = 0, off = 0; ses < S; off += d[ses].n_train, ses++) {
            if (ses == 0) nd_rng_stream(&r, (uint64_t)c->seed, STREAM_SHUFFLE, (uint64_t)e);
            else nd_rng_stream(&r, (uint64_t)c->seed, STREAM_SESSION_SHUFFLE, (uint64_t)e * ND_LFADS_MAX_SESSIONS + ses);
            int *idx = t.idx + off;
            for (int i = 0; i < d[ses].n_train; i++) idx[i] = i;
            nd_rng_shuffle(&r, idx, d[ses].n_train);
        }
        for (int k = 0; k < nb; k++) order[k] = k;
        if (stitched) {
            nd_rng_stream(&r, (uint64_t)c->seed, STREAM_BATCH_ORDER, (uint64_t)e);
            for (int i = nb - 1; i > 0; i--) {
                int j = (int)(nd_rng_uniform(&r) * (i + 1)), tmp = order[i];
                if (j > i) j = i;
                order[i] = order[j];
                order[j] = tmp;
            }
        }
        loss_sum trs;
        memset(&trs, 0, sizeof trs);
        for (int k = 0; k < nb; k++) {
            const int ses = bses[order[k]], start = bstart[order[k]], B = bsize[order[k]];
            const split_view *tv = &tr[ses];
            mode.session = ses;
            fill_batch(t.X, t.XR, t.EXT, tv->sv ? t.SV : NULL, tv, t.idx + start, B);
            nd_rng_stream(&r, (uint64_t)c->seed, STREAM_BATCH, (uint64_t)e * 1000003u + (uint64_t)k);
            nd_lfads_loss L;
            nd_lfads_forward_recon(&t.m, t.w, t.X, t.XR, t.EXT, tv->sv ? t.SV : NULL, B, &mode, &r, &L);
            memset(t.grad, 0, sizeof(real) * t.m.n_params);
            nd_lfads_backward(&t.m, t.w, t.grad);
            if (nd_fault_hit("ND_FAULT_NAN_STEP")) t.grad[0] = NAN; /* divergence injection (tests) */
            if (!isfinite(L.objective) || !all_finite(t.grad, t.m.n_params)) { bad_batch = k; break; }
            s.step++;
            nd_lfads_scales sc;
            nd_lfads_effective_scales(c, t.m.ctrl, (int64_t)t.m.Tr * t.m.sNr[ses], &sc);
            adam_step(&t, c, s.lr, s.step, sc.grad_scale);
            loss_add(&trs, &L, B);
        }
        loss_sum vas;
        memset(&vas, 0, sizeof vas);
        if (bad_batch < 0) {
            loss_div(&trs, n_train);
            eval_split(&t, va, S, c, rkl, rl2, &vas);
            if (!isfinite(vas.total) || !all_finite(t.m.params, np)) bad_batch = nb; /* after the epoch */
        }
        if (bad_batch >= 0) { /* NaN/Inf: roll back to the start of the epoch with half the learning rate */
            int64_t restarts = s.nan_restarts + 1;
            if (restarts > c->max_nan_restarts) {
                st = nd_fail(err, ND_ERR_NUMERIC,
                             "training diverged: NaN/Inf at epoch %d %s%d after %d roll-backs with halved learning "
                             "rates (max_nan_restarts); the last good state is in %s", e + 1,
                             bad_batch < nb ? "batch " : "validation ", bad_batch < nb ? bad_batch : 0,
                             (int)s.nan_restarts, last);
                goto done;
            }
            memcpy(t.m.params, snap, sizeof(real) * np);
            memcpy(t.adam_m, snap + np, sizeof(real) * np);
            memcpy(t.adam_v, snap + 2 * np, sizeof(real) * np);
            s = snap_s;
            s.nan_restarts = restarts;
            s.lr = snap_s.lr * 0.5;
            snap_s.nan_restarts = restarts;
            snap_s.lr = s.lr;
            if (o->progress)
                fprintf(o->progress, "warning: NaN/Inf in epoch %d; rolled back to the start of the epoch, lr %.2e "
                                     "(roll-back %d of at most %d)\n", e + 1, s.lr, (int)restarts, c->max_nan_restarts);
            goto retry_epoch;
        }
        double vrec = va[0].sv ? vas.recon_sv : vas.recon;
        if (!s.has_smoothed) { s.smoothed_total = vas.total; s.smoothed_recon = vrec; s.has_smoothed = 1; }
        else { /* lfads-torch: loss_smoothing weighs the current epoch; legacy: the previous smoothed value */
            double keep = c->loss_smoothing_legacy ? c->loss_smoothing : 1 - c->loss_smoothing;
            s.smoothed_total = keep * s.smoothed_total + (1 - keep) * vas.total;
            s.smoothed_recon = keep * s.smoothed_recon + (1 - keep) * vrec;
        }
        int ramps_done = rkl >= 1 && rl2 >= 1;
        int new_best = 0;
        if (ramps_done) {
            /* the plateau rule watches the smoothed reconstruction (lfads-torch) or, lr_decay_on=total, the total */
            double watched = c->lr_decay_on == ND_LR_DECAY_ON_TOTAL ? s.smoothed_total : s.smoothed_recon;
            if (watched < s.best_lr_loss) { s.best_lr_loss = watched; s.plateau = 0; }
            else if (++s.plateau > c->lr_patience) { s.lr *= c->lr_decay; s.plateau = 0; }
            if (s.smoothed_recon < s.best_recon) {
                s.best_recon = s.smoothed_recon; s.best_epoch = e; s.es_count = 0; new_best = 1;
            } else s.es_count++;
        }
        s.epoch = e + 1;
        elapsed = now_s() - t_start;
        if (s.lr < c->lr_stop) { s.stopped = 1; reason = "learning rate fell below lr_stop"; }
        else if (s.es_count >= c->es_patience) { s.stopped = 1; reason = "early stopping (es_patience)"; }
        /* log first: a resume truncates log lines of epochs it redoes */
        log_line(o->run_dir, e, &trs, &vas, &s, now_s() - t_ep);
        if (new_best && (st = save_ckpt(best, NULL, &t, dims, &si, &s, err))) goto done;
        if ((st = save_ckpt(last, prev, &t, dims, &si, &s, err))) goto done;
        write_elapsed(o->run_dir, elapsed);
        if (o->progress) {
            char el[32], eta[32];
            double per = elapsed / (double)(s.epoch > 0 ? s.epoch : 1);
            fmt_dur(el, sizeof el, elapsed);
            fmt_dur(eta, sizeof eta, per * (double)(c->max_epochs - s.epoch));
            fprintf(o->progress,
                    "epoch %4d/%d  train %.2f (recon %.2f kl_ic %.2f kl_co %.2f l2 %.2f)  valid %.2f recon %.2f "
                    "smoothed %.2f%s  lr %.2e  %.1fs  elapsed %s  eta <= %s\n",
                    e + 1, c->max_epochs, trs.total, trs.recon, trs.kl_ic, trs.kl_co, trs.l2, vas.total, vrec,
                    s.smoothed_recon, new_best ? " *" : "", s.lr, now_s() - t_ep, el, eta);
            fflush(o->progress);
        }
        if (o->stop && *o->stop && !s.stopped && s.epoch < c->max_epochs) {
            res->interrupted = 1;
            reason = "interrupted";
            break;
        }
        /* a stop asked after the last epoch changes nothing: the run is finished */
        if (o->on_epoch && o->on_epoch(o->on_epoch_user, (int)s.epoch, c->max_epochs, s.smoothed_recon) &&
            !s.stopped && s.epoch < c->max_epochs) {
            st = nd_fail(err, ND_INTERRUPTED, "training interrupted after epoch %d of %d; %s holds it: resume to "
                         "continue", (int)s.epoch, c->max_epochs, last);
            goto done;
        }
    }
    if (s.epoch >= c->max_epochs && !s.stopped) reason = "max_epochs reached";
    /* no best yet (ramps never finished): the final state is the best we have */
    if (s.best_epoch < 0) {
        if ((st = save_ckpt(best, NULL, &t, dims, &si, &s, err))) goto done;
        if (o->progress)
            fprintf(o->progress, "note: the KL/L2 ramps did not finish; best.ckpt holds the last epoch (%d)\n",
                    (int)s.epoch);
    }
    res->epochs_run = (int)s.epoch;
    res->best_epoch = (int)s.best_epoch;
    res->best_valid_recon = s.best_recon;
    res->seconds = elapsed;
    snprintf(res->stop_reason, sizeof res->stop_reason, "%s", reason);
    if (o->progress) {
        char el[32];
        fmt_dur(el, sizeof el, elapsed);
        if (s.best_epoch >= 0)
            fprintf(o->progress, "done: %d epochs in %s (%s); best epoch %d, smoothed valid recon %.3f per trial -> %s\n",
                    res->epochs_run, el, reason, res->best_epoch + 1, res->best_valid_recon, best);
        else
            fprintf(o->progress, "done: %d epochs in %s (%s) -> %s\n", res->epochs_run, el, reason, best);
    }
    st = ND_OK;
done:
    nd_free(snap);
    for (int k = 0; k < S; k++) { nd_free(tr[k].sv); nd_free(va[k].sv); }
    free(bses); free(bstart); free(bsize); free(order);
    free(files);
    free(fps);
    trainer_free(&t);
    return st;
}
