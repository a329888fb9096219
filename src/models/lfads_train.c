/* LFADS training loop. See lfads_train.h. The run is a sequence of small steps: setup (sessions, run directory,
 * model, batches), then per epoch the batch plan's order, the epoch's batches, a roll-back on NaN/Inf, the
 * schedule (smoothing, learning-rate plateau, early stopping) and the checkpoint; the checkpoint format itself is
 * lfads_ckpt.c. */
#include "lfads_train.h"
#include "../core/progress.h"
#include "../core/blas.h"
#include "../core/mem.h"
#include "../io/checkpoint.h"
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
enum { STREAM_SHUFFLE = 1, STREAM_BATCH = 2, STREAM_VALID = 3, STREAM_SV = 5, STREAM_SESSION_SHUFFLE = 6,
       STREAM_BATCH_ORDER = 7 };

double nd_lfads_ramp(int epoch, int start, int increase) {
    double r = (double)(epoch + 1 - start) / (double)(increase + 1);
    return r < 0 ? 0 : (r > 1 ? 1 : r);
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

/* one training run: its data, files, model, optimiser, batches and counters */
typedef struct {
    const nd_train_opts *o;
    nd_lfads_data d[ND_LFADS_MAX_SESSIONS]; /* the sessions (copies: check_sessions may fill Nr, Tr) */
    int S, stitched, Din, threads, resuming;
    int n_train, n_valid, nmax, Nmax, Nrmax, sN[ND_LFADS_MAX_SESSIONS], sNr[ND_LFADS_MAX_SESSIONS];
    int dims[7];                            /* the checkpoints' dims section */
    nd_lfads_runinfo ri;                    /* sessions and data fingerprints recorded in every checkpoint */
    char last[4096], best[4096], prev[4096], cfgpath[4096];
    nd_lfads_model m;
    nd_lfads_work *w;
    real *grad, *adam_m, *adam_v;
    real *X, *XR, *EXT, *SV;
    int *idx;
    split_view tr[ND_LFADS_MAX_SESSIONS], va[ND_LFADS_MAX_SESSIONS];
    /* the batch plan: the training batches of an epoch (session, first entry in idx, size; fixed) and the order
     * they run in (drawn each epoch) */
    int nbatch, *bses, *bstart, *bsize, *order;
    nd_train_state s;
    real *snap;                             /* params | adam_m | adam_v at the start of the epoch (roll-back) */
    nd_train_state snap_s;
    double t_start, elapsed;
    const char *reason;
} trainer;

static void trainer_free(trainer *t) {
    nd_free(t->snap);
    for (int k = 0; k < t->S; k++) { nd_free(t->tr[k].sv); nd_free(t->va[k].sv); }
    free(t->bses); free(t->bstart); free(t->bsize); free(t->order);
    nd_lfads_runinfo_free(&t->ri);
    nd_lfads_work_free(t->w);
    nd_free(t->grad); nd_free(t->adam_m); nd_free(t->adam_v);
    nd_free(t->X); nd_free(t->XR); nd_free(t->EXT); nd_free(t->SV); nd_free(t->idx);
    nd_lfads_free(&t->m);
    free(t);
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
        const nd_lfads_split *tr = &d[k].split[ND_TRAIN];
        ss[k] = (nd_stitch_session){tr->n, d[k].T, d[k].N, tr->counts, tr->cond};
        have_cond &= tr->cond != NULL;
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
        if (d[k].split[ND_TRAIN].n <= 0 || d[k].split[ND_VALID].n <= 0)
            return nd_fail(err, ND_ERR_ARG, "%s: need at least one training and one validation trial", d[k].path);
        if (k && (d[k].T != d[0].T || d[k].Tr != d[0].Tr || d[k].E != d[0].E))
            return nd_fail(err, ND_ERR_ARG, "%s: %d bins (%d reconstructed) and %d external inputs, but %s has %d (%d) "
                           "and %d: the sessions of one model must agree", d[k].path, d[k].T, d[k].Tr, d[k].E,
                           d[0].path, d[0].T, d[0].Tr, d[0].E);
    }
    return ND_OK;
}


/* ---- setup 1: the sessions, their sizes, what the checkpoints record, the run directory's paths ---- */
static nd_status setup_sessions(trainer *t, const nd_lfads_data *d_in, int S, const nd_lfads_config *cfg,
                                nd_error *err) {
    if (S < 1 || S > ND_LFADS_MAX_SESSIONS)
        return nd_fail(err, ND_ERR_ARG, "%d data files: training takes 1 to %d sessions", S, ND_LFADS_MAX_SESSIONS);
    nd_lfads_data *d = t->d;
    memcpy(d, d_in, sizeof *d_in * (size_t)S);
    nd_status st = check_sessions(d, S, err);
    if (st) return st;
    t->S = S;
    t->stitched = S > 1;
    for (int k = 0; k < S; k++) {
        const int ntr = d[k].split[ND_TRAIN].n, nva = d[k].split[ND_VALID].n;
        t->n_train += ntr;
        t->n_valid += nva;
        t->nmax = ntr > t->nmax ? ntr : t->nmax;
        t->nmax = nva > t->nmax ? nva : t->nmax;
        t->sN[k] = d[k].N;
        t->sNr[k] = d[k].Nr;
        t->Nmax = d[k].N > t->Nmax ? d[k].N : t->Nmax;
        t->Nrmax = d[k].Nr > t->Nrmax ? d[k].Nr : t->Nrmax;
    }
    t->Din = t->stitched ? (cfg->readin_dim > 0 ? cfg->readin_dim : cfg->fac_dim) : 0;
    /* stitched runs record the sessions' sizes and files in every checkpoint; every run its data fingerprints */
    if ((st = nd_lfads_runinfo_make(&t->ri, d, S, t->Din, err))) return st;
    const char *dir = t->o->run_dir;
    if (mkdir(dir, 0755) != 0 && errno != EEXIST)
        return nd_fail(err, ND_ERR_IO, "%s: cannot create run directory: %s", dir, strerror(errno));
    t->threads = t->o->threads > 0 ? t->o->threads : 1;
    omp_set_num_threads(t->threads);
    nd_blas_set_threads(1); /* the LFADS passes parallelise over batch rows themselves (lfads.c) */
    snprintf(t->last, sizeof t->last, "%s/last.ckpt", dir);
    snprintf(t->best, sizeof t->best, "%s/best.ckpt", dir);
    snprintf(t->cfgpath, sizeof t->cfgpath, "%s/config.txt", dir);
    snprintf(t->prev, sizeof t->prev, "%s/last.prev.ckpt", dir);
    int dims[7] = {d->N, d->T, d->E, t->n_train, t->n_valid, d->Nr, d->Tr};
    memcpy(t->dims, dims, sizeof dims);
    return ND_OK;
}

/* ---- setup 2: resume, or a new run in a directory without another run's files ---- */
static nd_status setup_run_dir(trainer *t, int *have_last, int *have_prev, nd_error *err) {
    const nd_train_opts *o = t->o;
    struct stat sb;
    *have_last = stat(t->last, &sb) == 0;
    *have_prev = stat(t->prev, &sb) == 0;
    t->resuming = o->resume && (*have_last || *have_prev);
    if (o->resume && !t->resuming && o->progress)
        fprintf(o->progress, "note: %s not found; starting a new run\n", t->last);
    if (t->resuming) return ND_OK;
    /* a new run never mixes with an old one's files (a stale best.ckpt would be taken for this run's model) */
    char found[64];
    if (!run_files_present(o->run_dir, found, sizeof found)) return ND_OK;
    if (!o->resume && !o->force)
        return nd_fail(err, ND_ERR_ARG, "%s: holds a run (%s); pass --resume to continue it, --force to delete "
                       "its files and start over, or choose another --out", o->run_dir, found);
    nd_status st = run_files_clear(o->run_dir, err);
    if (st) return st;
    if (o->progress)
        fprintf(o->progress, "note: deleted the files of the previous run in %s (%s)\n", o->run_dir,
                o->force ? "--force" : "it had no checkpoint to resume");
    return ND_OK;
}

/* ---- setup 3a: the model, optimiser and counters of the run being resumed (last.ckpt, else last.prev.ckpt) ---- */
static nd_status setup_resume(trainer *t, const nd_lfads_config *cfg, int have_last, int have_prev, nd_error *err) {
    const nd_train_opts *o = t->o;
    nd_status st = have_last ? nd_lfads_ckpt_resume(t->last, &t->m, &t->adam_m, &t->adam_v, t->dims, &t->ri, &t->s,
                                                    err)
                             : ND_ERR_IO;
    if (st && have_prev && st != ND_ERR_ARG) { /* last.ckpt damaged or missing: the previous one */
        nd_error e2;
        nd_lfads_free(&t->m);
        nd_free(t->adam_m); nd_free(t->adam_v);
        t->adam_m = t->adam_v = NULL;
        memset(&t->s, 0, sizeof t->s);
        if (o->progress)
            fprintf(o->progress, "warning: %s; resuming from the previous checkpoint %s\n",
                    have_last ? err->msg : "last.ckpt is missing", t->prev);
        st = nd_lfads_ckpt_resume(t->prev, &t->m, &t->adam_m, &t->adam_v, t->dims, &t->ri, &t->s, &e2);
        if (st) *err = e2;
    }
    if (!st && o->new_hparams) {
        st = adopt_hparams(&t->m.cfg, cfg, t->last, err);
        t->s.lr = cfg->lr_init;
        t->s.stopped = 0;
        t->s.plateau = 0;
        t->s.es_count = 0;
    }
    return st;
}

/* ---- setup 3b: a new model (read-out biases at the training trials' mean rates; stitched: PCR read-ins) ---- */
static nd_status setup_new_model(trainer *t, const nd_lfads_config *cfg, nd_error *err) {
    const nd_lfads_data *d = t->d;
    const int S = t->S;
    nd_status st = nd_lfads_create_sessions(&t->m, cfg, S, t->sN, t->sNr, t->Din, d->E, err);
    if (st) return st;
    size_t nr_all = 0;
    for (int k = 0; k < S; k++) nr_all += (size_t)d[k].Nr;
    float *mean_rate = calloc(nr_all, sizeof(float));
    if (!mean_rate) return nd_fail(err, ND_ERR_NOMEM, "out of memory");
    for (int k = 0, off = 0; k < S; off += d[k].Nr, k++) {
        const float *rec = nd_lfads_recon(&d[k], ND_TRAIN);
        float *mr = mean_rate + off;
        const size_t rows = (size_t)d[k].split[ND_TRAIN].n * d[k].Tr;
        for (size_t i = 0; i < rows; i++)
            for (int n = 0; n < d[k].Nr; n++) mr[n] += rec[i * d[k].Nr + n];
        for (int n = 0; n < d[k].Nr; n++) mr[n] /= (float)rows;
    }
    nd_lfads_init(&t->m, (uint64_t)cfg->seed, mean_rate);
    free(mean_rate);
    if (t->stitched && cfg->readin_pcr) stitch_init(&t->m, d, S, t->o->progress);
    else if (t->stitched && t->o->progress)
        fprintf(t->o->progress, "read-ins initialised at random (readin_pcr = 0)\n");
    st = ND_ALLOC(t->adam_m, t->m.n_params, "Adam state", err);
    if (!st) st = ND_ALLOC(t->adam_v, t->m.n_params, "Adam state", err);
    if (st) return st;
    t->s.lr = cfg->lr_init;
    t->s.best_lr_loss = t->s.best_recon = INFINITY;
    t->s.best_epoch = -1;
    return ND_OK;
}

/* ---- setup 4: the workspace, batch buffers, the batch plan and the sample-validation masks ---- */
static nd_status setup_batches(trainer *t, nd_error *err) {
    const nd_lfads_data *d = t->d;
    nd_lfads_config *c = &t->m.cfg;
    int Bmax = c->batch_size, T = d->T, E = d->E, Tr = d->Tr;
    t->m.T = T;
    t->m.Tr = Tr;
    if (Bmax > t->nmax) Bmax = t->nmax;
    for (int k = 0; k < t->S; k++) t->nbatch += (d[k].split[ND_TRAIN].n + Bmax - 1) / Bmax;
    const size_t nb = (size_t)t->nbatch;
    nd_status st = nd_lfads_work_create2(&t->w, &t->m, Bmax, T, Tr, err);
    if (!st) st = ND_ALLOC(t->grad, t->m.n_params, "gradients", err);
    if (!st) st = ND_ALLOC(t->X, (size_t)T * Bmax * t->Nmax, "batch", err);
    if (!st) st = ND_ALLOC(t->XR, (size_t)Tr * Bmax * t->Nrmax, "batch", err);
    if (!st) st = ND_ALLOC(t->EXT, (size_t)Tr * Bmax * (E ? E : 1), "batch", err);
    if (!st) st = ND_ALLOC(t->SV, (size_t)T * Bmax * t->Nmax, "batch", err);
    if (!st) st = ND_ALLOC(t->idx, (size_t)t->n_train + t->nmax, "batch indices", err);
    if (!st && !((t->bses = malloc(sizeof(int) * nb)) && (t->bstart = malloc(sizeof(int) * nb)) &&
                 (t->bsize = malloc(sizeof(int) * nb)) && (t->order = malloc(sizeof(int) * nb))))
        st = nd_fail(err, ND_ERR_NOMEM, "out of memory");
    for (int ses = 0, off = 0, k = 0; ses < t->S && !st; off += d[ses].split[ND_TRAIN].n, ses++) {
        const int n = d[ses].split[ND_TRAIN].n;
        for (int start = 0; start < n; start += Bmax, k++) {
            t->bses[k] = ses;
            t->bstart[k] = off + start;
            t->bsize[k] = n - start < Bmax ? n - start : Bmax;
        }
    }
    for (int k = 0; k < t->S && !st; k++) {
        const nd_lfads_split *tr = &d[k].split[ND_TRAIN], *va = &d[k].split[ND_VALID];
        t->tr[k] = (split_view){tr->n, T, d[k].N, E, Tr, d[k].Nr, tr->counts, tr->ext, nd_lfads_recon(&d[k], ND_TRAIN),
                                NULL};
        t->va[k] = (split_view){va->n, T, d[k].N, E, Tr, d[k].Nr, va->counts, va->ext, nd_lfads_recon(&d[k], ND_VALID),
                                NULL};
        st = make_sv(&t->tr[k].sv, &t->tr[k], c, 2 * k, err);
        if (!st) st = make_sv(&t->va[k].sv, &t->va[k], c, 2 * k + 1, err);
    }
    if (st) return st;
    c->batch_size = Bmax;
    /* the state at the start of the epoch, to roll back to after a NaN/Inf */
    t->snap = nd_alloc(sizeof(real) * t->m.n_params * 3);
    if (!t->snap) return nd_fail(err, ND_ERR_NOMEM, "out of memory for the roll-back copy of the model");
    return ND_OK;
}

static void print_header(const trainer *t) {
    FILE *f = t->o->progress;
    if (!f) return;
    const nd_lfads_data *d = t->d;
    const int T = d->T, Tr = d->Tr, E = d->E, threads = t->threads;
    if (!t->stitched)
        fprintf(f, "%s LFADS: %d params | %d train + %d valid trials x %d bins x %d neurons%s%s | "
                   "controller %s | %d thread%s\n", t->resuming ? "resuming" : "training", (int)t->m.n_params,
                d->split[ND_TRAIN].n, d->split[ND_VALID].n, T, d->N, E ? " + inputs" : "",
                d->Nr > d->N || Tr > T ? " (reconstructing more: see below)" : "", t->m.ctrl ? "on" : "off", threads,
                threads > 1 ? "s" : "");
    else {
        fprintf(f, "%s LFADS stitched over %d sessions: %d params | %d train + %d valid trials x %d bins%s | "
                   "read-in %d | controller %s | %d thread%s\n", t->resuming ? "resuming" : "training", t->S,
                (int)t->m.n_params, t->n_train, t->n_valid, T, E ? " + inputs" : "", t->Din, t->m.ctrl ? "on" : "off",
                threads, threads > 1 ? "s" : "");
        for (int k = 0; k < t->S; k++)
            fprintf(f, "  session %d: %s, %d train + %d valid trials x %d neurons%s\n", k + 1, d[k].path,
                    d[k].split[ND_TRAIN].n, d[k].split[ND_VALID].n, d[k].N, d[k].Nr > d[k].N ? " (+ held-out)" : "");
    }
    if (d->Nr > d->N || Tr > T)
        fprintf(f, "  the read-out predicts %d neurons (%d held out) over %d bins (%d forward-prediction)\n",
                d->Nr, d->Nr - d->N, Tr, Tr - T);
}

/* ---- setup: everything before the first epoch ---- */
static nd_status train_setup(trainer *t, const nd_lfads_data *d_in, int S, const nd_lfads_config *cfg,
                             nd_error *err) {
    nd_status st = setup_sessions(t, d_in, S, cfg, err);
    int have_last = 0, have_prev = 0;
    if (!st) st = setup_run_dir(t, &have_last, &have_prev, err);
    if (!st) st = t->resuming ? setup_resume(t, cfg, have_last, have_prev, err) : setup_new_model(t, cfg, err);
    if (st) return st;
    nd_lfads_config *c = &t->m.cfg;
    if (t->o->max_epochs >= 0) c->max_epochs = t->o->max_epochs;
    char *txt = nd_lfads_config_to_text(c);
    st = txt ? nd_write_file_atomic(t->cfgpath, txt, strlen(txt), err) : nd_fail(err, ND_ERR_NOMEM, "out of memory");
    free(txt);
    if (!st) st = setup_batches(t, err);
    if (st) return st;
    if (t->resuming) log_truncate(t->o->run_dir, t->s.epoch);
    print_header(t);
    t->elapsed = t->resuming ? read_elapsed(t->o->run_dir) : 0;
    t->t_start = nd_now_seconds() - t->elapsed;
    t->reason = t->s.stopped ? "already finished" : "max_epochs reached";
    return ND_OK;
}

/* ---- the batch plan of epoch e: each session's trials shuffled, then cut into the fixed batches; with several
 * sessions the batches run in a shuffled order (one session per batch) ---- */
static void epoch_order(trainer *t, int e) {
    const nd_lfads_config *c = &t->m.cfg;
    nd_rng r;
    for (int ses = 0, off = 0; ses < t->S; off += t->d[ses].split[ND_TRAIN].n, ses++) {
        if (ses == 0) nd_rng_stream(&r, (uint64_t)c->seed, STREAM_SHUFFLE, (uint64_t)e);
        else nd_rng_stream(&r, (uint64_t)c->seed, STREAM_SESSION_SHUFFLE, (uint64_t)e * ND_LFADS_MAX_SESSIONS + ses);
        int *idx = t->idx + off, n = t->d[ses].split[ND_TRAIN].n;
        for (int i = 0; i < n; i++) idx[i] = i;
        nd_rng_shuffle(&r, idx, n);
    }
    const int nb = t->nbatch;
    int *order = t->order;
    for (int k = 0; k < nb; k++) order[k] = k;
    if (!t->stitched) return;
    nd_rng_stream(&r, (uint64_t)c->seed, STREAM_BATCH_ORDER, (uint64_t)e);
    for (int i = nb - 1; i > 0; i--) {
        int j = (int)(nd_rng_uniform(&r) * (i + 1)), tmp = order[i];
        if (j > i) j = i;
        order[i] = order[j];
        order[j] = tmp;
    }
}

/* ---- one epoch: its batches (forward, backward, Adam), then the validation losses. Returns -1, or the batch
 * (nbatch: the validation) where a NaN/Inf appeared ---- */
static int run_epoch(trainer *t, int e, double rkl, double rl2, loss_sum *trs, loss_sum *vas) {
    const nd_lfads_config *c = &t->m.cfg;
    nd_lfads_mode mode = {1, 1, rkl, rl2, 0};
    nd_rng r;
    epoch_order(t, e);
    memset(trs, 0, sizeof *trs);
    memset(vas, 0, sizeof *vas);
    for (int k = 0; k < t->nbatch; k++) {
        const int ses = t->bses[t->order[k]], start = t->bstart[t->order[k]], B = t->bsize[t->order[k]];
        const split_view *tv = &t->tr[ses];
        mode.session = ses;
        fill_batch(t->X, t->XR, t->EXT, tv->sv ? t->SV : NULL, tv, t->idx + start, B);
        nd_rng_stream(&r, (uint64_t)c->seed, STREAM_BATCH, (uint64_t)e * 1000003u + (uint64_t)k);
        nd_lfads_loss L;
        nd_lfads_forward_recon(&t->m, t->w, t->X, t->XR, t->EXT, tv->sv ? t->SV : NULL, B, &mode, &r, &L);
        memset(t->grad, 0, sizeof(real) * t->m.n_params);
        nd_lfads_backward(&t->m, t->w, t->grad);
        if (nd_fault_hit("ND_FAULT_NAN_STEP")) t->grad[0] = NAN; /* divergence injection (tests) */
        if (!isfinite(L.objective) || !nd_lfads_all_finite(t->grad, t->m.n_params)) return k;
        t->s.step++;
        nd_lfads_scales sc;
        nd_lfads_effective_scales(c, t->m.ctrl, (int64_t)t->m.Tr * t->m.sNr[ses], &sc);
        adam_step(t, c, t->s.lr, t->s.step, sc.grad_scale);
        loss_add(trs, &L, B);
    }
    loss_div(trs, t->n_train);
    eval_split(t, t->va, t->S, c, rkl, rl2, vas);
    if (!isfinite(vas->total) || !nd_lfads_all_finite(t->m.params, t->m.n_params)) return t->nbatch;
    return -1;
}

/* ---- roll-back: keep the state at the start of an epoch; after a NaN/Inf go back to it with half the learning
 * rate, at most max_nan_restarts times ---- */
static void snapshot_take(trainer *t) {
    size_t np = t->m.n_params;
    memcpy(t->snap, t->m.params, sizeof(real) * np);
    memcpy(t->snap + np, t->adam_m, sizeof(real) * np);
    memcpy(t->snap + 2 * np, t->adam_v, sizeof(real) * np);
    t->snap_s = t->s;
}

static nd_status rollback(trainer *t, int e, int bad_batch, nd_error *err) {
    const nd_lfads_config *c = &t->m.cfg;
    size_t np = t->m.n_params;
    int64_t restarts = t->s.nan_restarts + 1;
    if (restarts > c->max_nan_restarts)
        return nd_fail(err, ND_ERR_NUMERIC,
                       "training diverged: NaN/Inf at epoch %d %s%d after %d roll-backs with halved learning "
                       "rates (max_nan_restarts); the last good state is in %s", e + 1,
                       bad_batch < t->nbatch ? "batch " : "validation ", bad_batch < t->nbatch ? bad_batch : 0,
                       (int)t->s.nan_restarts, t->last);
    memcpy(t->m.params, t->snap, sizeof(real) * np);
    memcpy(t->adam_m, t->snap + np, sizeof(real) * np);
    memcpy(t->adam_v, t->snap + 2 * np, sizeof(real) * np);
    t->s = t->snap_s;
    t->s.nan_restarts = restarts;
    t->s.lr = t->snap_s.lr * 0.5;
    t->snap_s.nan_restarts = restarts;
    t->snap_s.lr = t->s.lr;
    if (t->o->progress)
        fprintf(t->o->progress, "warning: NaN/Inf in epoch %d; rolled back to the start of the epoch, lr %.2e "
                                "(roll-back %d of at most %d)\n", e + 1, t->s.lr, (int)restarts, c->max_nan_restarts);
    return ND_OK;
}

/* ---- the schedule after epoch e: smoothed validation losses, learning-rate decay on plateau, the best epoch,
 * early stopping. Returns 1 if this epoch is the new best. ---- */
static int schedule(trainer *t, int e, const loss_sum *vas, double vrec, double rkl, double rl2) {
    const nd_lfads_config *c = &t->m.cfg;
    nd_train_state *s = &t->s;
    if (!s->has_smoothed) { s->smoothed_total = vas->total; s->smoothed_recon = vrec; s->has_smoothed = 1; }
    else { /* lfads-torch: loss_smoothing weighs the current epoch; legacy: the previous smoothed value */
        double keep = c->loss_smoothing_legacy ? c->loss_smoothing : 1 - c->loss_smoothing;
        s->smoothed_total = keep * s->smoothed_total + (1 - keep) * vas->total;
        s->smoothed_recon = keep * s->smoothed_recon + (1 - keep) * vrec;
    }
    int new_best = 0;
    if (rkl >= 1 && rl2 >= 1) { /* the ramps are done */
        /* the plateau rule watches the smoothed reconstruction (lfads-torch) or, lr_decay_on=total, the total */
        double watched = c->lr_decay_on == ND_LR_DECAY_ON_TOTAL ? s->smoothed_total : s->smoothed_recon;
        if (watched < s->best_lr_loss) { s->best_lr_loss = watched; s->plateau = 0; }
        else if (++s->plateau > c->lr_patience) { s->lr *= c->lr_decay; s->plateau = 0; }
        if (s->smoothed_recon < s->best_recon) {
            s->best_recon = s->smoothed_recon; s->best_epoch = e; s->es_count = 0; new_best = 1;
        } else s->es_count++;
    }
    s->epoch = e + 1;
    t->elapsed = nd_now_seconds() - t->t_start;
    if (s->lr < c->lr_stop) { s->stopped = 1; t->reason = "learning rate fell below lr_stop"; }
    else if (s->es_count >= c->es_patience) { s->stopped = 1; t->reason = "early stopping (es_patience)"; }
    return new_best;
}

/* ---- the checkpoint of an epoch: the log line first (a resume truncates log lines of epochs it redoes), then
 * best.ckpt (a new best), last.ckpt (keeping the previous one) and the training time ---- */
static nd_status checkpoint_epoch(trainer *t, int e, const loss_sum *trs, const loss_sum *vas, int new_best,
                                  double secs, nd_error *err) {
    log_line(t->o->run_dir, e, trs, vas, &t->s, secs);
    nd_status st = ND_OK;
    if (new_best) st = nd_lfads_ckpt_save(t->best, NULL, &t->m, t->adam_m, t->adam_v, t->dims, &t->ri, &t->s, err);
    if (!st) st = nd_lfads_ckpt_save(t->last, t->prev, &t->m, t->adam_m, t->adam_v, t->dims, &t->ri, &t->s, err);
    if (!st) write_elapsed(t->o->run_dir, t->elapsed);
    return st;
}

static void report_epoch(const trainer *t, int e, const loss_sum *trs, const loss_sum *vas, double vrec,
                         int new_best, double t_ep) {
    FILE *f = t->o->progress;
    if (!f) return;
    const nd_lfads_config *c = &t->m.cfg;
    const nd_train_state *s = &t->s;
    char el[32], eta[32];
    double per = t->elapsed / (double)(s->epoch > 0 ? s->epoch : 1);
    fmt_dur(el, sizeof el, t->elapsed);
    fmt_dur(eta, sizeof eta, per * (double)(c->max_epochs - s->epoch));
    fprintf(f, "epoch %4d/%d  train %.2f (recon %.2f kl_ic %.2f kl_co %.2f l2 %.2f)  valid %.2f recon %.2f "
               "smoothed %.2f%s  lr %.2e  %.1fs  elapsed %s  eta <= %s\n",
            e + 1, c->max_epochs, trs->total, trs->recon, trs->kl_ic, trs->kl_co, trs->l2, vas->total, vrec,
            s->smoothed_recon, new_best ? " *" : "", s->lr, nd_now_seconds() - t_ep, el, eta);
    fflush(f);
}

/* ---- one epoch with its roll-backs, schedule and checkpoint. *stop = 1 when the run should end here (finished
 * or interrupted); ND_INTERRUPTED when on_epoch asked to stop ---- */
static nd_status train_epoch(trainer *t, nd_train_result *res, int *stop, nd_error *err) {
    const nd_train_opts *o = t->o;
    const nd_lfads_config *c = &t->m.cfg;
    snapshot_take(t);
    int e, bad;
    double t_ep, rkl, rl2;
    loss_sum trs, vas;
    nd_status st;
    do {
        t_ep = nd_now_seconds();
        e = (int)t->s.epoch;
        rkl = nd_lfads_ramp(e, c->kl_start_epoch, c->kl_increase_epoch);
        rl2 = nd_lfads_ramp(e, c->l2_start_epoch, c->l2_increase_epoch);
        bad = run_epoch(t, e, rkl, rl2, &trs, &vas);
        if (bad >= 0 && (st = rollback(t, e, bad, err))) return st;
    } while (bad >= 0);
    double vrec = t->va[0].sv ? vas.recon_sv : vas.recon;
    int new_best = schedule(t, e, &vas, vrec, rkl, rl2);
    if ((st = checkpoint_epoch(t, e, &trs, &vas, new_best, nd_now_seconds() - t_ep, err))) return st;
    report_epoch(t, e, &trs, &vas, vrec, new_best, t_ep);
    const nd_train_state *s = &t->s;
    if (o->stop && *o->stop && !s->stopped && s->epoch < c->max_epochs) {
        res->interrupted = 1;
        t->reason = "interrupted";
        *stop = 1;
        return ND_OK;
    }
    /* a stop asked after the last epoch changes nothing: the run is finished */
    if (o->on_epoch && o->on_epoch(o->on_epoch_user, (int)s->epoch, c->max_epochs, s->smoothed_recon) &&
        !s->stopped && s->epoch < c->max_epochs)
        return nd_fail(err, ND_INTERRUPTED, "training interrupted after epoch %d of %d; %s holds it: resume to "
                       "continue", (int)s->epoch, c->max_epochs, t->last);
    return ND_OK;
}

/* ---- the end of a run: best.ckpt when no epoch could be best, the result, the summary line ---- */
static nd_status train_finish(trainer *t, nd_train_result *res, nd_error *err) {
    const nd_lfads_config *c = &t->m.cfg;
    const nd_train_state *s = &t->s;
    FILE *f = t->o->progress;
    if (s->epoch >= c->max_epochs && !s->stopped) t->reason = "max_epochs reached";
    /* no best yet (ramps never finished): the final state is the best we have */
    if (s->best_epoch < 0) {
        nd_status st = nd_lfads_ckpt_save(t->best, NULL, &t->m, t->adam_m, t->adam_v, t->dims, &t->ri, s, err);
        if (st) return st;
        if (f) fprintf(f, "note: the KL/L2 ramps did not finish; best.ckpt holds the last epoch (%d)\n", (int)s->epoch);
    }
    res->epochs_run = (int)s->epoch;
    res->best_epoch = (int)s->best_epoch;
    res->best_valid_recon = s->best_recon;
    res->seconds = t->elapsed;
    snprintf(res->stop_reason, sizeof res->stop_reason, "%s", t->reason);
    if (f) {
        char el[32];
        fmt_dur(el, sizeof el, t->elapsed);
        if (s->best_epoch >= 0)
            fprintf(f, "done: %d epochs in %s (%s); best epoch %d, smoothed valid recon %.3f per trial -> %s\n",
                    res->epochs_run, el, t->reason, res->best_epoch + 1, res->best_valid_recon, t->best);
        else
            fprintf(f, "done: %d epochs in %s (%s) -> %s\n", res->epochs_run, el, t->reason, t->best);
    }
    return ND_OK;
}

nd_status nd_lfads_train_sessions(const nd_lfads_data *d, int S, const nd_lfads_config *cfg, const nd_train_opts *o,
                                  nd_train_result *res, nd_error *err) {
    memset(res, 0, sizeof *res);
    res->best_epoch = -1;
    trainer *t = calloc(1, sizeof *t);
    if (!t) return nd_fail(err, ND_ERR_NOMEM, "out of memory");
    t->o = o;
    nd_status st = train_setup(t, d, S, cfg, err);
    int stop = 0;
    while (!st && !stop && !t->s.stopped && t->s.epoch < t->m.cfg.max_epochs) st = train_epoch(t, res, &stop, err);
    if (!st) st = train_finish(t, res, err);
    trainer_free(t);
    return st;
}

nd_status nd_lfads_train(const nd_lfads_data *d, const nd_lfads_config *cfg, const nd_train_opts *o,
                         nd_train_result *res, nd_error *err) {
    return nd_lfads_train_sessions(d, 1, cfg, o, res, err);
}
