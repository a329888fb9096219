/* LFADS training loop. See lfads_train.h. */
#include "lfads_train.h"
#include "../core/blas.h"
#include "../core/mem.h"
#include "../io/checkpoint.h"
#include "../core/fault.h"
#include <errno.h>
#include <stddef.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

enum { STREAM_SHUFFLE = 1, STREAM_BATCH = 2, STREAM_VALID = 3, STREAM_SV = 5 };

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

/* Adam with bias correction; returns the gradient norm before clipping */
static double adam_step(trainer *t, const nd_lfads_config *c, double lr, int64_t step) {
    size_t n = t->m.n_params;
    double ss = 0;
    for (size_t i = 0; i < n; i++) ss += (double)t->grad[i] * t->grad[i];
    double norm = sqrt(ss), clipf = norm > c->max_grad_norm ? c->max_grad_norm / norm : 1.0;
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

/* evaluate a whole split with dropout off, posterior sampling on (fixed streams) */
static void eval_split(trainer *t, const split_view *s, const nd_lfads_config *c, double rkl, double rl2,
                       loss_sum *out) {
    memset(out, 0, sizeof *out);
    nd_lfads_mode mode = {1, 0, rkl, rl2, 0};
    int Bmax = c->batch_size;
    for (int i = 0; i < s->n; i++) t->idx[i] = i;
    for (int k = 0, start = 0; start < s->n; k++, start += Bmax) {
        int B = s->n - start < Bmax ? s->n - start : Bmax;
        fill_batch(t->X, t->XR, t->EXT, s->sv ? t->SV : NULL, s, t->idx + start, B);
        nd_rng r;
        nd_rng_stream(&r, (uint64_t)c->seed, STREAM_VALID, (uint64_t)k);
        nd_lfads_loss L;
        nd_lfads_forward_recon(&t->m, t->w, t->X, t->XR, t->EXT, s->sv ? t->SV : NULL, B, &mode, &r, &L);
        loss_add(out, &L, B);
    }
    loss_div(out, s->n);
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

static nd_status save_ckpt(const char *path, const char *prev, const trainer *t, const int dims[7],
                           const nd_train_state *st, nd_error *err) {
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
    };
    int ns = (int)(sizeof s / sizeof s[0]);
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
    /* Everything that sizes the model is checked before anything is allocated (fuzz/FINDINGS.md,
     * bug 4): the config's layer sizes (nd_lfads_config_check), the dims (each at most 2^24), and the
     * parameter count they give against the bytes of the 'params' section. */
    if (d[0] <= 0 || d[1] <= 0 || d[2] < 0 || d[3] < 0 || d[4] < 0 || d[5] < d[0] || d[6] < d[1] ||
        d[5] > CKPT_MAX_DIM || d[6] > CKPT_MAX_DIM || d[2] > CKPT_MAX_DIM)
        return nd_fail(err, ND_ERR_CHECKPOINT, "%s: section 'dims' has impossible sizes", path);
    nd_error e2;
    if (nd_lfads_config_check(&c, &e2))
        return nd_fail(err, ND_ERR_CHECKPOINT, "%s: section 'config': %s", path, e2.msg);
    nd_lfads_views views;
    size_t n_params = nd_lfads_bind(&views, NULL, &c, d[0], d[5], d[2]);
    const nd_ckpt_entry *pe = nd_ckpt_find(ck, "params");
    if (!pe || pe->bytes / sizeof(float) != n_params || pe->bytes % sizeof(float))
        return nd_fail(err, ND_ERR_CHECKPOINT, "%s: section 'params' missing or of the wrong size", path);
    st = nd_lfads_create_heldout(m, &c, d[0], d[5], d[2], err);
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
    };
    for (size_t i = 0; i < sizeof arch / sizeof arch[0]; i++) {
        int a = *(const int *)((const char *)c + arch[i].off), b = *(const int *)((const char *)n + arch[i].off);
        if (a != b)
            return nd_fail(err, ND_ERR_ARG, "%s: checkpoint has %s = %d, the new configuration %d (the architecture "
                                            "cannot change on resume)", path, arch[i].name, a, b);
    }
    *c = *n;
    return ND_OK;
}

static nd_status resume_from(const char *path, trainer *t, const int dims[7], nd_train_state *s, nd_error *err) {
    nd_ckpt ck;
    nd_status st = nd_ckpt_read(path, &ck, err);
    if (st) return st;
    int32_t d[7];
    st = load_model_from(&ck, path, &t->m, d, err);
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

nd_status nd_lfads_train(const nd_lfads_data *d_in, const nd_lfads_config *cfg_in, const nd_train_opts *o,
                         nd_train_result *res, nd_error *err) {
    memset(res, 0, sizeof *res);
    nd_lfads_data dd = *d_in, *d = &dd;
    if (d->Nr <= 0) d->Nr = d->N; /* data built by hand without the reconstruction fields */
    if (d->Tr <= 0) d->Tr = d->T;
    res->best_epoch = -1;
    if (d->n_train <= 0 || d->n_valid <= 0)
        return nd_fail(err, ND_ERR_ARG, "%s: need at least one training and one validation trial", d->path);
    if (mkdir(o->run_dir, 0755) != 0 && errno != EEXIST)
        return nd_fail(err, ND_ERR_IO, "%s: cannot create run directory: %s", o->run_dir, strerror(errno));
    int threads = o->threads > 0 ? o->threads : 1;
    omp_set_num_threads(threads);
    nd_blas_set_threads(1); /* the LFADS passes parallelise over batch rows themselves (lfads.c) */

    char last[4096], best[4096], cfgpath[4096];
    snprintf(last, sizeof last, "%s/last.ckpt", o->run_dir);
    snprintf(best, sizeof best, "%s/best.ckpt", o->run_dir);
    snprintf(cfgpath, sizeof cfgpath, "%s/config.txt", o->run_dir);
    int dims[7] = {d->N, d->T, d->E, d->n_train, d->n_valid, d->Nr, d->Tr};
    trainer t;
    memset(&t, 0, sizeof t);
    nd_train_state s;
    memset(&s, 0, sizeof s);
    nd_status st;
    struct stat sb;
    char prev[4096];
    snprintf(prev, sizeof prev, "%s/last.prev.ckpt", o->run_dir);
    int have_last = stat(last, &sb) == 0, have_prev = stat(prev, &sb) == 0;
    int resuming = o->resume && (have_last || have_prev);
    if (o->resume && !resuming && o->progress)
        fprintf(o->progress, "note: %s not found; starting a new run\n", last);
    if (resuming) {
        st = have_last ? resume_from(last, &t, dims, &s, err) : ND_ERR_IO;
        if (st && have_prev && st != ND_ERR_ARG) { /* last.ckpt damaged or missing: the previous one */
            nd_error e2;
            nd_lfads_free(&t.m);
            nd_free(t.adam_m); nd_free(t.adam_v);
            t.adam_m = t.adam_v = NULL;
            memset(&s, 0, sizeof s);
            if (o->progress)
                fprintf(o->progress, "warning: %s; resuming from the previous checkpoint %s\n",
                        have_last ? err->msg : "last.ckpt is missing", prev);
            st = resume_from(prev, &t, dims, &s, &e2);
            if (st) *err = e2;
        }
        if (!st && o->new_hparams) {
            st = adopt_hparams(&t.m.cfg, cfg_in, last, err);
            s.lr = cfg_in->lr_init;
            s.stopped = 0;
            s.plateau = 0;
            s.es_count = 0;
        }
        if (st) { trainer_free(&t); return st; }
    } else {
        st = nd_lfads_create_heldout(&t.m, cfg_in, d->N, d->Nr, d->E, err);
        if (st) return st;
        float *mean_rate = calloc((size_t)d->Nr, sizeof(float));
        if (!mean_rate) { trainer_free(&t); return nd_fail(err, ND_ERR_NOMEM, "out of memory"); }
        const float *rec = nd_lfads_recon(d, 0);
        for (size_t i = 0; i < (size_t)d->n_train * d->Tr; i++)
            for (int n = 0; n < d->Nr; n++) mean_rate[n] += rec[i * d->Nr + n];
        for (int n = 0; n < d->Nr; n++) mean_rate[n] /= (float)((size_t)d->n_train * d->Tr);
        nd_lfads_init(&t.m, (uint64_t)cfg_in->seed, mean_rate);
        free(mean_rate);
        st = ND_ALLOC(t.adam_m, t.m.n_params, "Adam state", err);
        if (!st) st = ND_ALLOC(t.adam_v, t.m.n_params, "Adam state", err);
        if (st) { trainer_free(&t); return st; }
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
        if (st) { trainer_free(&t); return st; }
    }
    int Bmax = c->batch_size, T = d->T, N = d->N, E = d->E, Tr = d->Tr, Nr = d->Nr;
    t.m.T = T;
    t.m.Tr = Tr;
    int nmax = d->n_train > d->n_valid ? d->n_train : d->n_valid;
    if (Bmax > nmax) Bmax = nmax;
    st = nd_lfads_work_create2(&t.w, &t.m, Bmax, T, Tr, err);
    if (!st) st = ND_ALLOC(t.grad, t.m.n_params, "gradients", err);
    if (!st) st = ND_ALLOC(t.X, (size_t)T * Bmax * N, "batch", err);
    if (!st) st = ND_ALLOC(t.XR, (size_t)Tr * Bmax * Nr, "batch", err);
    if (!st) st = ND_ALLOC(t.EXT, (size_t)Tr * Bmax * (E ? E : 1), "batch", err);
    if (!st) st = ND_ALLOC(t.SV, (size_t)T * Bmax * N, "batch", err);
    if (!st) st = ND_ALLOC(t.idx, nmax, "batch indices", err);
    split_view tr = {d->n_train, T, N, E, Tr, Nr, d->train, d->train_ext, nd_lfads_recon(d, 0), NULL};
    split_view va = {d->n_valid, T, N, E, Tr, Nr, d->valid, d->valid_ext, nd_lfads_recon(d, 1), NULL};
    if (!st) st = make_sv(&tr.sv, &tr, c, 0, err);
    if (!st) st = make_sv(&va.sv, &va, c, 1, err);
    if (st) { nd_free(tr.sv); nd_free(va.sv); trainer_free(&t); return st; }
    c->batch_size = Bmax;
    if (resuming) log_truncate(o->run_dir, s.epoch);
    if (o->progress)
        fprintf(o->progress, "%s LFADS: %d params | %d train + %d valid trials x %d bins x %d neurons%s%s | "
                             "controller %s | %d thread%s\n", resuming ? "resuming" : "training", (int)t.m.n_params,
                d->n_train, d->n_valid, T, N, E ? " + inputs" : "",
                Nr > N || Tr > T ? " (reconstructing more: see below)" : "", t.m.ctrl ? "on" : "off", threads,
                threads > 1 ? "s" : "");
    if (o->progress && (Nr > N || Tr > T))
        fprintf(o->progress, "  the read-out predicts %d neurons (%d held out) over %d bins (%d forward-prediction)\n",
                Nr, Nr - N, Tr, Tr - T);

    double elapsed = resuming ? read_elapsed(o->run_dir) : 0, t_start = now_s() - elapsed;
    const char *reason = s.stopped ? "already finished" : "max_epochs reached";
    /* the state at the start of the epoch, to roll back to after a NaN/Inf */
    size_t np = t.m.n_params;
    real *snap = nd_alloc(sizeof(real) * np * 3);
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
        nd_rng_stream(&r, (uint64_t)c->seed, STREAM_SHUFFLE, (uint64_t)e);
        for (int i = 0; i < d->n_train; i++) t.idx[i] = i;
        nd_rng_shuffle(&r, t.idx, d->n_train);
        loss_sum trs;
        memset(&trs, 0, sizeof trs);
        for (int k = 0, start = 0; start < d->n_train; k++, start += Bmax) {
            int B = d->n_train - start < Bmax ? d->n_train - start : Bmax;
            fill_batch(t.X, t.XR, t.EXT, tr.sv ? t.SV : NULL, &tr, t.idx + start, B);
            nd_rng_stream(&r, (uint64_t)c->seed, STREAM_BATCH, (uint64_t)e * 1000003u + (uint64_t)k);
            nd_lfads_loss L;
            nd_lfads_forward_recon(&t.m, t.w, t.X, t.XR, t.EXT, tr.sv ? t.SV : NULL, B, &mode, &r, &L);
            memset(t.grad, 0, sizeof(real) * t.m.n_params);
            nd_lfads_backward(&t.m, t.w, t.grad);
            if (nd_fault_hit("ND_FAULT_NAN_STEP")) t.grad[0] = NAN; /* divergence injection (tests) */
            if (!isfinite(L.objective) || !all_finite(t.grad, t.m.n_params)) { bad_batch = k; break; }
            s.step++;
            adam_step(&t, c, s.lr, s.step);
            loss_add(&trs, &L, B);
        }
        loss_sum vas;
        memset(&vas, 0, sizeof vas);
        if (bad_batch < 0) {
            loss_div(&trs, d->n_train);
            eval_split(&t, &va, c, rkl, rl2, &vas);
            if (!isfinite(vas.total) || !all_finite(t.m.params, np)) bad_batch = d->n_train; /* after the epoch */
        }
        if (bad_batch >= 0) { /* NaN/Inf: roll back to the start of the epoch with half the learning rate */
            int64_t restarts = s.nan_restarts + 1;
            if (restarts > c->max_nan_restarts) {
                st = nd_fail(err, ND_ERR_NUMERIC,
                             "training diverged: NaN/Inf at epoch %d %s%d after %d roll-backs with halved learning "
                             "rates (max_nan_restarts); the last good state is in %s", e + 1,
                             bad_batch < d->n_train ? "batch " : "validation ", bad_batch < d->n_train ? bad_batch : 0,
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
        double vrec = va.sv ? vas.recon_sv : vas.recon;
        if (!s.has_smoothed) { s.smoothed_total = vas.total; s.smoothed_recon = vrec; s.has_smoothed = 1; }
        else {
            double a = c->loss_smoothing;
            s.smoothed_total = a * s.smoothed_total + (1 - a) * vas.total;
            s.smoothed_recon = a * s.smoothed_recon + (1 - a) * vrec;
        }
        int ramps_done = rkl >= 1 && rl2 >= 1;
        int new_best = 0;
        if (ramps_done) {
            if (s.smoothed_total < s.best_lr_loss) { s.best_lr_loss = s.smoothed_total; s.plateau = 0; }
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
        if (new_best && (st = save_ckpt(best, NULL, &t, dims, &s, err))) goto done;
        if ((st = save_ckpt(last, prev, &t, dims, &s, err))) goto done;
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
    }
    if (s.epoch >= c->max_epochs && !s.stopped) reason = "max_epochs reached";
    /* no best yet (ramps never finished): the final state is the best we have */
    if (s.best_epoch < 0) {
        struct stat b2;
        if (stat(best, &b2) != 0 && (st = save_ckpt(best, NULL, &t, dims, &s, err))) goto done;
        if (o->progress)
            fprintf(o->progress, "note: the KL/L2 ramps did not finish; best.ckpt holds the last epoch\n");
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
    nd_free(tr.sv);
    nd_free(va.sv);
    trainer_free(&t);
    return st;
}
