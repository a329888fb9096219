/* Population-based training of LFADS (AutoLFADS): the search itself, reachable without the CLI (pbt_search.h).
 *
 * One coordinator (the calling process, or MPI rank 0) and W workers. Worker i is the run directory
 * OUT/worker_ii, trained generation by generation with nd_lfads_train (resume + new hyperparameters).
 * Each training job runs in a forked child process, so a worker that dies (signal, crash) is re-run from
 * its last checkpoint without losing the search; under MPI every rank forks the jobs given to it.
 * Between generations the coordinator scores the workers (smoothed validation reconstruction from their
 * last.ckpt), exploits/explores with pbt.c and commits OUT/state.json atomically; checkpoint copies of an
 * exploit are staged (incoming.ckpt) before the commit and renamed in after it, so a job killed at any
 * moment resumes (--resume) to exactly the state an uninterrupted search reaches. */
#define _GNU_SOURCE
#include "pbt_search.h"
#include "../core/progress.h"
#include "../core/fault.h"
#include "../io/checkpoint.h"
#include "../io/lfads_data.h"
#include "lfads_train.h"
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PATHN 4096
enum { JOB_OK = 0, JOB_ERROR = 1, JOB_FAILED = 2, JOB_DIVERGED = 3, JOB_INTERRUPTED = 4 };

static int stopped(const nd_pbt_search_opts *o) { return o->stop && *o->stop; }

typedef nd_pbt_search_opts search_opts;

typedef struct {
    int gen, epoch, best_worker, exploited;
    double best, median, ratio;
    double hp[ND_PBT_MAX_PARAMS];
} hist_row;

typedef struct {
    int gen;                /* completed generations */
    int finished;
    char stop_reason[160];
    double *hp;             /* [W][np]: what each worker trains with in generation `gen` */
    double *score;          /* [W] scores after the last completed generation (NaN: none / diverged) */
    int *src;               /* [W] worker copied after it, or -1 */
    int *pending;           /* [W] 1: incoming.ckpt waits to be renamed in */
    hist_row *hist;
    int nhist;
    double best_score;
    int best_gen, best_worker, best_epoch;
    double best_hp[ND_PBT_MAX_PARAMS];
    double *timing;         /* [nhist] elapsed seconds at the end of each generation (NaN: unknown) */
} search_state;


static int gen_start(const search_opts *o, int g) { return g == 0 ? 0 : o->burn_in + g * o->epg; }
static int gen_end(const search_opts *o, int g) { return o->burn_in + (g + 1) * o->epg; }

static void worker_path(const search_opts *o, int w, const char *file, char *buf) {
    if (file) snprintf(buf, PATHN, "%s/worker_%02d/%s", o->out, w, file);
    else snprintf(buf, PATHN, "%s/worker_%02d", o->out, w);
}

static int file_exists(const char *p) {
    struct stat sb;
    return stat(p, &sb) == 0;
}

static nd_status read_whole(const char *path, char **buf, size_t *len, nd_error *err) {
    *buf = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) return nd_fail(err, ND_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    size_t cap = 1 << 16, n = 0;
    char *b = malloc(cap + 1);
    while (b) {
        size_t r = fread(b + n, 1, cap - n, f);
        n += r;
        if (n < cap) break;
        char *nb = realloc(b, 2 * cap + 1);
        if (!nb) { free(b); b = NULL; break; }
        b = nb;
        cap *= 2;
    }
    int bad = ferror(f);
    fclose(f);
    if (!b) return nd_fail(err, ND_ERR_NOMEM, "%s: out of memory", path);
    if (bad) { free(b); return nd_fail(err, ND_ERR_IO, "%s: read error", path); }
    b[n] = 0;
    *buf = b;
    if (len) *len = n;
    return ND_OK;
}

static nd_status copy_file(const char *src, const char *dst, nd_error *err) {
    char *b;
    size_t n;
    nd_status st = read_whole(src, &b, &n, err);
    if (st) return st;
    st = nd_write_file_atomic(dst, b, n, err);
    free(b);
    return st;
}

static void fsync_dir(const char *dir) {
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd >= 0) { fsync(fd); close(fd); }
}

/* ---------------------------------------------------------------- the worker (a child process) ---- */

static int worker_main(const search_opts *o, int w, int g, const double *hp, int attempt) {
    /* tests: "W:G[:K]" kills worker W in generation G (1-based) half-way through its K-th file write (default 60:
     * a few epochs in, inside a checkpoint write) on the first attempt */
    const char *hook = getenv("ND_FAULT_SEARCH_KILL");
    if (hook && attempt == 0) {
        int hw = -1, hg = -1, hk = 60;
        char k[32];
        if (sscanf(hook, "%d:%d:%d", &hw, &hg, &hk) >= 2 && hw == w && hg == g + 1) {
            snprintf(k, sizeof k, "%d", hk);
            setenv("ND_FAULT_WRITE_KILL", k, 1);
        }
    }
    char dir[PATHN], last[PATHN], prev[PATHN], logp[PATHN];
    worker_path(o, w, NULL, dir);
    worker_path(o, w, "last.ckpt", last);
    worker_path(o, w, "last.prev.ckpt", prev);
    worker_path(o, w, "train.out", logp);
    nd_error err;
    nd_lfads_data d;
    if (nd_lfads_data_read(o->data, (uint64_t)o->base.seed, o->base.valid_fraction, &d, &err)) {
        fprintf(stderr, "neurodyn search: worker %d: %s\n", w, err.msg);
        return JOB_ERROR;
    }
    nd_lfads_config c = o->base;
    /* all workers must validate on the same trials: with a file split they get their own seeds (different
     * initial weights and batches); with a seeded split (no valid_data) they share the split's seed */
    c.seed = d.valid_from_file ? o->base.seed + w : o->base.seed;
    c.max_epochs = gen_end(o, g);
    int rc = JOB_ERROR;
    FILE *log = NULL;
    if (nd_pbt_to_config(&o->space, hp, (int64_t)d.Tr * d.Nr, &c, &err) || nd_lfads_config_check(&c, &err)) {
        fprintf(stderr, "neurodyn search: worker %d: %s\n", w, err.msg);
        goto out;
    }
    /* new hyperparameters take effect at the start of the generation; a re-run that resumes in the middle
     * of one goes on with those its checkpoint already holds */
    int new_hp = 1;
    nd_train_state s;
    if (!nd_lfads_ckpt_state(last, &s, &err) || (file_exists(prev) && !nd_lfads_ckpt_state(prev, &s, &err)))
        new_hp = s.epoch <= gen_start(o, g);
    mkdir(dir, 0755);
    log = fopen(logp, "a");
    if (log) {
        setvbuf(log, NULL, _IOLBF, 0);
        fprintf(log, "== generation %d: epochs %d..%d%s\n", g + 1, gen_start(o, g) + 1, gen_end(o, g),
                attempt ? " (re-run after a failure)" : "");
        fflush(log);
    }
    nd_train_opts to = {dir, o->threads, 1, c.max_epochs, log, new_hp, 0, o->stop, NULL, NULL};
    nd_train_result res;
    nd_status st = nd_lfads_train(&d, &c, &to, &res, &err);
    if (st == ND_OK) rc = res.interrupted ? JOB_INTERRUPTED : JOB_OK;
    else if (st == ND_ERR_NUMERIC) {
        rc = JOB_DIVERGED;
        if (log) fprintf(log, "diverged: %s\n", err.msg);
    } else fprintf(stderr, "neurodyn search: worker %d: %s\n", w, err.msg);
out:
    if (log) fclose(log);
    nd_lfads_data_free(&d);
    return rc;
}

/* Run the jobs of generation g for the workers in which[0..n) in at most `parallel` child processes.
 * status[w] gets JOB_OK, JOB_DIVERGED, or JOB_FAILED (after `retries` re-runs). Returns 0 if none failed. */
static int run_pool(const search_opts *o, int g, const double *hp, const int *which, int n, int parallel,
                    int *status) {
    int np = o->space.n, cap = n * (o->retries + 1) + 1, ntodo = n, next = 0, running = 0, failed = 0, forwarded = 0;
    int *todo = malloc(sizeof(int) * (size_t)cap), *attempt = calloc((size_t)o->workers, sizeof(int));
    pid_t *pids = calloc((size_t)o->workers, sizeof(pid_t));
    if (!todo || !attempt || !pids) {
        free(todo); free(attempt); free(pids);
        fprintf(stderr, "neurodyn search: out of memory\n");
        for (int i = 0; i < n; i++) status[which[i]] = JOB_FAILED;
        return 1;
    }
    for (int i = 0; i < n; i++) todo[i] = which[i];
    pid_t parent = getpid();
    while (next < ntodo || running > 0) {
        if (stopped(o) && !forwarded) { /* a signal only the coordinator got: pass it on */
            for (int i = 0; i < o->workers; i++)
                if (pids[i] > 0) kill(pids[i], SIGINT);
            forwarded = 1;
        }
        while (running < parallel && next < ntodo && !stopped(o)) {
            int w = todo[next++];
            fflush(NULL);
            pid_t p = fork();
            if (p == 0) {
                prctl(PR_SET_PDEATHSIG, SIGKILL); /* workers never outlive the search */
                if (getppid() != parent) _exit(JOB_FAILED);
                int rc = worker_main(o, w, g, hp + (size_t)w * np, attempt[w]);
                fflush(NULL);
                _exit(rc);
            }
            if (p < 0) {
                fprintf(stderr, "neurodyn search: cannot start a worker process: %s\n", strerror(errno));
                status[w] = JOB_FAILED;
                failed = 1;
                continue;
            }
            pids[w] = p;
            running++;
        }
        if (!running) break;
        int ws;
        pid_t p = waitpid(-1, &ws, 0);
        if (p < 0) {
            if (errno == EINTR) continue;
            break;
        }
        int w = -1;
        for (int i = 0; i < o->workers; i++)
            if (pids[i] == p) w = i;
        if (w < 0) continue;
        pids[w] = 0;
        running--;
        if (WIFEXITED(ws) && (WEXITSTATUS(ws) == JOB_OK || WEXITSTATUS(ws) == JOB_DIVERGED)) {
            status[w] = WEXITSTATUS(ws);
            continue;
        }
        if (stopped(o) || (WIFEXITED(ws) && WEXITSTATUS(ws) == JOB_INTERRUPTED)) {
            status[w] = JOB_FAILED; /* no re-run: its last.ckpt resumes it */
            failed = 1;
            continue;
        }
        char how[64];
        if (WIFSIGNALED(ws)) snprintf(how, sizeof how, "was killed by signal %d", WTERMSIG(ws));
        else snprintf(how, sizeof how, "exited with status %d", WEXITSTATUS(ws));
        if (++attempt[w] <= o->retries) {
            fprintf(stderr, "neurodyn search: worker %d %s in generation %d; re-running its slot from its last "
                            "checkpoint (%d of %d)\n", w, how, g + 1, attempt[w], o->retries);
            todo[ntodo++] = w;
        } else {
            fprintf(stderr, "neurodyn search: worker %d %s in generation %d, %d times; giving up\n", w, how, g + 1,
                    attempt[w]);
            status[w] = JOB_FAILED;
            failed = 1;
        }
    }
    free(todo);
    free(attempt);
    free(pids);
    return failed || stopped(o);
}

/* ------------------------------------------------------------------------------ state.json ---- */

/* a JSON number that reads back to exactly v (cJSON's own printing may be 1 ulp off), or null if not finite */
static cJSON *num_or_null(double v) {
    if (!isfinite(v)) return cJSON_CreateNull();
    char b[40];
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(b, sizeof b, "%.*g", prec, v);
        if (strtod(b, NULL) == v) break;
    }
    return cJSON_CreateRaw(b);
}

static cJSON *hp_object(const nd_pbt_space *s, const double *hp) {
    cJSON *o = cJSON_CreateObject();
    for (int k = 0; k < s->n; k++) cJSON_AddItemToObject(o, s->p[k].name, num_or_null(hp[k]));
    return o;
}

static nd_status state_write(const search_opts *o, const search_state *S, const nd_lfads_data *d, nd_error *err) {
    int np = o->space.n, W = o->workers;
    cJSON *r = cJSON_CreateObject();
    cJSON_AddStringToObject(r, "format", "neurodyn PBT search state");
    cJSON_AddNumberToObject(r, "version", 1);
    cJSON_AddNumberToObject(r, "seed", (double)o->base.seed);
    cJSON_AddNumberToObject(r, "workers", W);
    cJSON_AddNumberToObject(r, "epochs_per_generation", o->epg);
    cJSON_AddNumberToObject(r, "burn_in", o->burn_in);
    cJSON_AddNumberToObject(r, "patience", o->patience);
    cJSON_AddItemToObject(r, "min_improvement", num_or_null(o->min_improvement));
    cJSON *dd = cJSON_AddObjectToObject(r, "data");
    cJSON_AddNumberToObject(dd, "train_trials", d->split[ND_TRAIN].n);
    cJSON_AddNumberToObject(dd, "valid_trials", d->split[ND_VALID].n);
    cJSON_AddNumberToObject(dd, "bins", d->T);
    cJSON_AddNumberToObject(dd, "neurons", d->N);
    cJSON_AddNumberToObject(dd, "recon_bins", d->Tr);
    cJSON_AddNumberToObject(dd, "recon_neurons", d->Nr);
    cJSON_AddNumberToObject(dd, "ext_inputs", d->E);
    cJSON *sp = cJSON_AddArrayToObject(r, "space");
    for (int k = 0; k < np; k++) {
        const nd_pbt_param *p = &o->space.p[k];
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "name", p->name);
        cJSON_AddItemToObject(e, "min", num_or_null(p->min));
        cJSON_AddItemToObject(e, "max", num_or_null(p->max));
        cJSON_AddItemToObject(e, "weight", num_or_null(p->weight));
        cJSON_AddStringToObject(e, "sampling", p->sample == ND_PBT_LOG ? "log" : "lin");
        cJSON_AddItemToObject(e, "init", num_or_null(p->init));
        cJSON_AddItemToObject(e, "to_config_factor",
                              num_or_null(nd_pbt_config_factor(p->name, &o->base, (int64_t)d->Tr * d->Nr)));
        cJSON_AddItemToArray(sp, e);
    }
    char *ct = nd_lfads_config_to_text(&o->base);
    cJSON_AddStringToObject(r, "base_config", ct ? ct : "");
    free(ct);
    cJSON_AddNumberToObject(r, "generation", S->gen);
    cJSON_AddBoolToObject(r, "finished", S->finished);
    cJSON_AddStringToObject(r, "stop_reason", S->stop_reason);
    cJSON *pop = cJSON_AddArrayToObject(r, "population");
    for (int i = 0; i < W; i++) {
        cJSON *e = cJSON_CreateObject();
        cJSON_AddNumberToObject(e, "worker", i);
        cJSON_AddItemToObject(e, "hparams", hp_object(&o->space, S->hp + (size_t)i * np));
        cJSON_AddItemToObject(e, "last_score", num_or_null(S->score[i]));
        cJSON_AddNumberToObject(e, "copied_from", S->src[i]);
        cJSON_AddBoolToObject(e, "pending_copy", S->pending[i]);
        cJSON_AddItemToArray(pop, e);
    }
    cJSON *h = cJSON_AddArrayToObject(r, "history");
    for (int i = 0; i < S->nhist; i++) {
        const hist_row *x = &S->hist[i];
        cJSON *e = cJSON_CreateObject();
        cJSON_AddNumberToObject(e, "generation", x->gen);
        cJSON_AddNumberToObject(e, "epoch", x->epoch);
        cJSON_AddItemToObject(e, "best", num_or_null(x->best));
        cJSON_AddItemToObject(e, "median", num_or_null(x->median));
        cJSON_AddNumberToObject(e, "best_worker", x->best_worker);
        cJSON_AddItemToObject(e, "best_hparams", hp_object(&o->space, x->hp));
        cJSON_AddNumberToObject(e, "exploited", x->exploited);
        cJSON_AddItemToObject(e, "improvement_ratio", num_or_null(x->ratio));
        cJSON_AddItemToArray(h, e);
    }
    cJSON *b = cJSON_AddObjectToObject(r, "best");
    cJSON_AddItemToObject(b, "score", num_or_null(S->best_score));
    cJSON_AddNumberToObject(b, "generation", S->best_gen);
    cJSON_AddNumberToObject(b, "worker", S->best_worker);
    cJSON_AddNumberToObject(b, "epoch", S->best_epoch);
    cJSON_AddItemToObject(b, "hparams", hp_object(&o->space, S->best_hp));
    cJSON_AddStringToObject(b, "run_dir", "best");
    char *txt = cJSON_Print(r);
    cJSON_Delete(r);
    if (!txt) return nd_fail(err, ND_ERR_NOMEM, "out of memory writing the search state");
    char path[PATHN];
    snprintf(path, sizeof path, "%s/state.json", o->out);
    nd_status st = nd_write_file_atomic(path, txt, strlen(txt), err);
    free(txt);
    return st;
}

static double jnum(const cJSON *o, const char *key, int *ok) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (cJSON_IsNumber(v)) return v->valuedouble;
    if (cJSON_IsNull(v)) return NAN;
    *ok = 0;
    return NAN;
}

static int read_hp(const cJSON *obj, const nd_pbt_space *s, double *hp) {
    int ok = cJSON_IsObject(obj);
    for (int k = 0; ok && k < s->n; k++) hp[k] = jnum(obj, s->p[k].name, &ok);
    return ok;
}

/* Load OUT/state.json and check it belongs to the same search (options, space, configuration, data). */
static nd_status state_read(const search_opts *o, search_state *S, const nd_lfads_data *d, int hist_cap,
                            nd_error *err) {
    char path[PATHN], *txt;
    snprintf(path, sizeof path, "%s/state.json", o->out);
    nd_status st = read_whole(path, &txt, NULL, err);
    if (st) return st;
    cJSON *r = cJSON_Parse(txt);
    free(txt);
    if (!r) return nd_fail(err, ND_ERR_FORMAT, "%s: not valid JSON", path);
    int ok = 1, np = o->space.n, W = o->workers;
    st = ND_OK;
#define DIFFER(what) do { st = nd_fail(err, ND_ERR_ARG, "%s: %s differs from this command's; resume with the same " \
                                   "options (or start a new search in another --out)", path, what); goto done; } while (0)
    if (jnum(r, "version", &ok) != 1 || !ok) { st = nd_fail(err, ND_ERR_FORMAT, "%s: not a search state (version 1)", path); goto done; }
    if (jnum(r, "workers", &ok) != W) DIFFER("--workers");
    if (jnum(r, "epochs_per_generation", &ok) != o->epg) DIFFER("--epochs-per-generation");
    if (jnum(r, "burn_in", &ok) != o->burn_in) DIFFER("--burn-in");
    if (jnum(r, "seed", &ok) != (double)o->base.seed) DIFFER("--seed");
    const cJSON *dd = cJSON_GetObjectItemCaseSensitive(r, "data");
    if (!cJSON_IsObject(dd) || jnum(dd, "train_trials", &ok) != d->split[ND_TRAIN].n ||
        jnum(dd, "valid_trials", &ok) != d->split[ND_VALID].n ||
        jnum(dd, "bins", &ok) != d->T || jnum(dd, "neurons", &ok) != d->N || jnum(dd, "recon_bins", &ok) != d->Tr ||
        jnum(dd, "recon_neurons", &ok) != d->Nr || jnum(dd, "ext_inputs", &ok) != d->E)
        DIFFER("the data's shape");
    const cJSON *sp = cJSON_GetObjectItemCaseSensitive(r, "space");
    if (!cJSON_IsArray(sp) || cJSON_GetArraySize(sp) != np) DIFFER("the search space (--space)");
    for (int k = 0; k < np; k++) {
        const cJSON *e = cJSON_GetArrayItem(sp, k), *nm = cJSON_GetObjectItemCaseSensitive(e, "name");
        const cJSON *smp = cJSON_GetObjectItemCaseSensitive(e, "sampling");
        const nd_pbt_param *p = &o->space.p[k];
        double init = jnum(e, "init", &ok);
        if (!cJSON_IsString(nm) || strcmp(nm->valuestring, p->name) || jnum(e, "min", &ok) != p->min ||
            jnum(e, "max", &ok) != p->max || jnum(e, "weight", &ok) != p->weight || !cJSON_IsString(smp) ||
            strcmp(smp->valuestring, p->sample == ND_PBT_LOG ? "log" : "lin") ||
            (isnan(init) != isnan(p->init)) || (!isnan(init) && init != p->init))
            DIFFER("the search space (--space)");
    }
    const cJSON *bc = cJSON_GetObjectItemCaseSensitive(r, "base_config");
    char *ct = nd_lfads_config_to_text(&o->base);
    int same = cJSON_IsString(bc) && ct && !strcmp(bc->valuestring, ct);
    free(ct);
    if (!same) DIFFER("the model configuration (--set/--config)");
    S->gen = (int)jnum(r, "generation", &ok);
    const cJSON *fin = cJSON_GetObjectItemCaseSensitive(r, "finished");
    S->finished = cJSON_IsTrue(fin);
    const cJSON *sr = cJSON_GetObjectItemCaseSensitive(r, "stop_reason");
    snprintf(S->stop_reason, sizeof S->stop_reason, "%s", cJSON_IsString(sr) ? sr->valuestring : "");
    const cJSON *pop = cJSON_GetObjectItemCaseSensitive(r, "population");
    if (!cJSON_IsArray(pop) || cJSON_GetArraySize(pop) != W) ok = 0;
    for (int i = 0; ok && i < W; i++) {
        const cJSON *e = cJSON_GetArrayItem(pop, i);
        ok = read_hp(cJSON_GetObjectItemCaseSensitive(e, "hparams"), &o->space, S->hp + (size_t)i * np);
        S->score[i] = jnum(e, "last_score", &ok);
        S->src[i] = (int)jnum(e, "copied_from", &ok);
        S->pending[i] = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(e, "pending_copy"));
    }
    const cJSON *h = cJSON_GetObjectItemCaseSensitive(r, "history");
    int nh = cJSON_IsArray(h) ? cJSON_GetArraySize(h) : -1;
    if (nh != S->gen) ok = 0;
    if (ok && nh > hist_cap) {
        st = nd_fail(err, ND_ERR_ARG, "%s: has %d generations, more than --generations %d", path, nh, o->generations);
        goto done;
    }
    for (int i = 0; ok && i < nh; i++) {
        const cJSON *e = cJSON_GetArrayItem(h, i);
        hist_row *x = &S->hist[i];
        x->gen = (int)jnum(e, "generation", &ok);
        x->epoch = (int)jnum(e, "epoch", &ok);
        x->best = jnum(e, "best", &ok);
        x->median = jnum(e, "median", &ok);
        x->best_worker = (int)jnum(e, "best_worker", &ok);
        x->exploited = (int)jnum(e, "exploited", &ok);
        x->ratio = jnum(e, "improvement_ratio", &ok);
        if (ok) ok = read_hp(cJSON_GetObjectItemCaseSensitive(e, "best_hparams"), &o->space, x->hp);
    }
    if (ok) S->nhist = nh;
    const cJSON *b = cJSON_GetObjectItemCaseSensitive(r, "best");
    if (ok && cJSON_IsObject(b)) {
        S->best_score = jnum(b, "score", &ok);
        S->best_gen = (int)jnum(b, "generation", &ok);
        S->best_worker = (int)jnum(b, "worker", &ok);
        S->best_epoch = (int)jnum(b, "epoch", &ok);
        if (ok) ok = read_hp(cJSON_GetObjectItemCaseSensitive(b, "hparams"), &o->space, S->best_hp);
    } else ok = 0;
    if (!ok) st = nd_fail(err, ND_ERR_FORMAT, "%s: malformed search state (a field is missing or has the wrong type)", path);
#undef DIFFER
done:
    cJSON_Delete(r);
    return st;
}

/* ------------------------------------------------------------------------- progress output ---- */

static void timing_write(const search_opts *o, const search_state *S) {
    char path[PATHN], *buf = NULL;
    size_t len = 0;
    snprintf(path, sizeof path, "%s/timing.tsv", o->out);
    FILE *m = open_memstream(&buf, &len);
    if (!m) return;
    for (int i = 0; i < S->nhist; i++)
        if (isfinite(S->timing[i])) fprintf(m, "%d\t%.3f\n", i + 1, S->timing[i]);
    fclose(m);
    nd_write_file_atomic(path, buf, len, NULL);
    free(buf);
}

static void timing_read(const search_opts *o, search_state *S) {
    char path[PATHN];
    snprintf(path, sizeof path, "%s/timing.tsv", o->out);
    FILE *f = fopen(path, "r");
    if (!f) return;
    int g;
    double t;
    while (fscanf(f, "%d\t%lf", &g, &t) == 2)
        if (g >= 1 && g <= S->nhist) S->timing[g - 1] = t;
    fclose(f);
}

static void fmt_dur(char *buf, size_t n, double s) {
    if (!isfinite(s)) snprintf(buf, n, "-");
    else if (s < 100) snprintf(buf, n, "%.0fs", s);
    else if (s < 6000) snprintf(buf, n, "%.0fm%02.0fs", floor(s / 60), fmod(s, 60));
    else snprintf(buf, n, "%.0fh%02.0fm", floor(s / 3600), fmod(floor(s / 60), 60));
}

/* column title: the key without _scale/_init/_rate, unless that leaves "cd" */
static void short_name(const char *name, char *buf, size_t n) {
    snprintf(buf, n, "%s", name);
    size_t l = strlen(buf);
    static const char *suf[] = {"_scale", "_init", "_rate"};
    for (int i = 0; i < 3; i++) {
        size_t s = strlen(suf[i]);
        if (l > s + 2 && !strcmp(buf + l - s, suf[i])) { buf[l - s] = 0; break; }
    }
}

static void table_header(const search_opts *o, FILE *f) {
    fprintf(f, "%4s %6s %10s %10s %6s", "gen", "epoch", "best", "median", "worker");
    for (int k = 0; k < o->space.n; k++) {
        char nm[32];
        short_name(o->space.p[k].name, nm, sizeof nm);
        fprintf(f, " %9.9s", nm);
    }
    fprintf(f, " %6s %8s\n", "copied", "elapsed");
}

static void table_row(const search_opts *o, const search_state *S, int i, FILE *f) {
    const hist_row *x = &S->hist[i];
    char el[32];
    fmt_dur(el, sizeof el, S->timing[i]);
    fprintf(f, "%4d %6d %10.3f %10.3f %6d", x->gen, x->epoch, x->best, x->median, x->best_worker);
    for (int k = 0; k < o->space.n; k++) fprintf(f, " %9.3g", x->hp[k]);
    fprintf(f, " %6d %8s\n", x->exploited, el);
    fflush(f);
}

static void generations_write(const search_opts *o, const search_state *S) {
    char path[PATHN], *buf = NULL;
    size_t len = 0;
    snprintf(path, sizeof path, "%s/generations.tsv", o->out);
    FILE *m = open_memstream(&buf, &len);
    if (!m) return;
    fprintf(m, "generation\tepoch\tbest_smoothed_valid_recon\tmedian_smoothed_valid_recon\tbest_worker");
    for (int k = 0; k < o->space.n; k++) fprintf(m, "\t%s", o->space.p[k].name);
    fprintf(m, "\texploited\timprovement_ratio\telapsed_s\n");
    for (int i = 0; i < S->nhist; i++) {
        const hist_row *x = &S->hist[i];
        fprintf(m, "%d\t%d\t%.6f\t%.6f\t%d", x->gen, x->epoch, x->best, x->median, x->best_worker);
        for (int k = 0; k < o->space.n; k++) fprintf(m, "\t%.6g", x->hp[k]);
        fprintf(m, "\t%d\t%.6g\t%.1f\n", x->exploited, x->ratio, S->timing[i]);
    }
    fclose(m);
    nd_write_file_atomic(path, buf, len, NULL);
    free(buf);
}

/* ------------------------------------------------------------------------------ exploit copies ---- */

/* phase A: stage the winners' checkpoints next to the losers' (no worker's own files change) */
static nd_status stage_copies(const search_opts *o, const int *src, nd_error *err) {
    for (int i = 0; i < o->workers; i++) {
        if (src[i] < 0) continue;
        char a[PATHN], b[PATHN];
        worker_path(o, src[i], "last.ckpt", a);
        worker_path(o, i, "incoming.ckpt", b);
        nd_status st = copy_file(a, b, err);
        if (st) return st;
        worker_path(o, src[i], "best.ckpt", a);
        worker_path(o, i, "incoming_best.ckpt", b);
        if (file_exists(a)) {
            if ((st = copy_file(a, b, err))) return st;
        } else unlink(b);
    }
    return ND_OK;
}

/* phase B (after the commit): rename them in; idempotent */
static void commit_copies(const search_opts *o, search_state *S) {
    for (int i = 0; i < o->workers; i++) {
        if (!S->pending[i]) continue;
        char in[PATHN], inb[PATHN], last[PATHN], prev[PATHN], best[PATHN], dir[PATHN];
        worker_path(o, i, "incoming.ckpt", in);
        worker_path(o, i, "incoming_best.ckpt", inb);
        worker_path(o, i, "last.ckpt", last);
        worker_path(o, i, "last.prev.ckpt", prev);
        worker_path(o, i, "best.ckpt", best);
        worker_path(o, i, NULL, dir);
        if (file_exists(in)) {
            unlink(prev); /* the old lineage must not be a fallback */
            if (file_exists(inb)) rename(inb, best);
            else unlink(best);
            rename(in, last);
            fsync_dir(dir);
            char logp[PATHN];
            worker_path(o, i, "train.out", logp);
            FILE *f = fopen(logp, "a");
            if (f) {
                fprintf(f, "== took the weights and hyperparameters of worker %d (exploit), perturbed\n", S->src[i]);
                fclose(f);
            }
        }
        S->pending[i] = 0;
    }
}

static nd_status export_best(const search_opts *o, int w, nd_error *err) {
    char dir[PATHN], a[PATHN], b[PATHN + 16];
    snprintf(dir, sizeof dir, "%s/best", o->out);
    if (mkdir(dir, 0755) != 0 && errno != EEXIST)
        return nd_fail(err, ND_ERR_IO, "%s: cannot create: %s", dir, strerror(errno));
    worker_path(o, w, "last.ckpt", a);
    snprintf(b, sizeof b, "%s/best.ckpt", dir);
    nd_status st = copy_file(a, b, err);
    if (st) return st;
    worker_path(o, w, "config.txt", a);
    snprintf(b, sizeof b, "%s/config.txt", dir);
    return copy_file(a, b, err);
}

/* ------------------------------------------------------------------------------ the coordinator ---- */

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

typedef nd_pbt_transport transport;

/* every rank: run the share of generation g's jobs that falls to `rank` */
static int run_share(const search_opts *o, int g, const double *hp, int rank, int size, int parallel, int *status) {
    int *which = malloc(sizeof(int) * (size_t)o->workers), n = 0;
    if (!which) return 1;
    for (int w = 0; w < o->workers; w++)
        if (w % size == rank) which[n++] = w;
    int r = n ? run_pool(o, g, hp, which, n, parallel, status) : 0;
    free(which);
    return r;
}

static int run_generation(const search_opts *o, const transport *tp, int g, double *hp, int *status) {
    int W = o->workers;
    for (int i = 0; i < W; i++) status[i] = -1;
    if (!tp->mpi) return run_share(o, g, hp, 0, 1, o->parallel, status);
    int hdr[2] = {1, g};
    tp->bcast(tp->ctx, hdr, 2, NULL, 0);
    tp->bcast(tp->ctx, NULL, 0, hp, W * o->space.n);
    run_share(o, g, hp, 0, tp->size, o->parallel, status);
    tp->reduce_max(tp->ctx, status, W);
    for (int i = 0; i < W; i++)
        if (status[i] != JOB_OK && status[i] != JOB_DIVERGED) return 1;
    return 0;
}

static void state_free(search_state *S) {
    free(S->hp); free(S->score); free(S->src); free(S->pending); free(S->hist); free(S->timing);
}

static int coordinate(const search_opts *o, const transport *tp, nd_pbt_search_result *res) {
    int W = o->workers, np = o->space.n, rc = 1;
    nd_error err;
    nd_lfads_data d;
    if (nd_lfads_data_read(o->data, (uint64_t)o->base.seed, o->base.valid_fraction, &d, &err)) {
        fprintf(stderr, "neurodyn search: %s\n", err.msg);
        return 1;
    }
    search_state S;
    memset(&S, 0, sizeof S);
    int maxg = o->generations;
    S.hp = malloc(sizeof(double) * (size_t)W * np + 1);
    S.score = malloc(sizeof(double) * (size_t)W);
    S.src = malloc(sizeof(int) * (size_t)W);
    S.pending = calloc((size_t)W, sizeof(int));
    int *status = malloc(sizeof(int) * (size_t)W);
    double *sorted = malloc(sizeof(double) * (size_t)W);
    S.hist = calloc((size_t)maxg + 1, sizeof(hist_row));
    S.timing = malloc(sizeof(double) * ((size_t)maxg + 1));
    if (!S.hp || !S.score || !S.src || !S.pending || !status || !sorted || !S.hist || !S.timing) {
        fprintf(stderr, "neurodyn search: out of memory\n");
        goto out;
    }
    for (int i = 0; i <= maxg; i++) S.timing[i] = NAN;
    if (mkdir(o->out, 0755) != 0 && errno != EEXIST) {
        fprintf(stderr, "neurodyn search: %s: cannot create the output directory: %s\n", o->out, strerror(errno));
        goto out;
    }
    char spath[PATHN];
    snprintf(spath, sizeof spath, "%s/state.json", o->out);
    int have_state = file_exists(spath);
    if (have_state && !o->resume) {
        fprintf(stderr, "neurodyn search: %s exists: continue it with --resume, or choose another --out\n", spath);
        goto out;
    }
    if (have_state) {
        if (state_read(o, &S, &d, maxg, &err)) {
            fprintf(stderr, "neurodyn search: %s\n", err.msg);
            goto out;
        }
        /* a search that ended at --generations may be extended with a larger --generations */
        if (S.finished && S.gen < maxg && !strncmp(S.stop_reason, "--generations", 13)) S.finished = 0;
        timing_read(o, &S);
        commit_copies(o, &S);
        if (state_write(o, &S, &d, &err)) { fprintf(stderr, "neurodyn search: %s\n", err.msg); goto out; }
        fprintf(stderr, "resuming the search in %s after generation %d of at most %d\n", o->out, S.gen, maxg);
    } else {
        if (o->resume) fprintf(stderr, "note: %s not found; starting a new search\n", spath);
        nd_pbt_init(&o->space, (uint64_t)o->base.seed, W, S.hp);
        for (int i = 0; i < W; i++) { S.score[i] = NAN; S.src[i] = -1; }
        S.best_score = NAN;
        S.best_gen = S.best_worker = S.best_epoch = -1;
        for (int k = 0; k < np; k++) S.best_hp[k] = NAN;
        if (state_write(o, &S, &d, &err)) { fprintf(stderr, "neurodyn search: %s\n", err.msg); goto out; }
    }
    {
        char spl[64] = "";
        if (!d.valid_from_file) snprintf(spl, sizeof spl, "; seeded split, one seed for all workers");
        fprintf(stderr, "PBT search: %d workers, %d epochs per generation%s, at most %d generations | %s: %d train + %d "
                        "valid trials x %d bins x %d neurons%s | %s\n", W, o->epg,
                o->burn_in ? " (+ burn-in)" : "", maxg, o->data, d.split[ND_TRAIN].n, d.split[ND_VALID].n, d.T, d.N,
                spl,
                tp->mpi ? "MPI" : "local processes");
        if (tp->mpi) fprintf(stderr, "  %d MPI ranks, %d job%s at a time each, %d thread%s per job\n", tp->size,
                             o->parallel, o->parallel > 1 ? "s" : "", o->threads, o->threads > 1 ? "s" : "");
        else fprintf(stderr, "  %d job%s at a time, %d thread%s per job\n", o->parallel, o->parallel > 1 ? "s" : "",
                     o->threads, o->threads > 1 ? "s" : "");
        fprintf(stderr, "  scores: smoothed validation reconstruction NLL per trial (lower is better); hyperparameters "
                        "in the search's (lfads-torch) scale, see docs/search.md\n");
    }
    table_header(o, stderr);
    for (int i = 0; i < S.nhist; i++) table_row(o, &S, i, stderr);
    double t0 = nd_now_seconds() - (S.nhist > 0 && isfinite(S.timing[S.nhist - 1]) ? S.timing[S.nhist - 1] : 0);
    while (!S.finished && S.gen < maxg) {
        int g = S.gen;
        if (run_generation(o, tp, g, S.hp, status)) {
            if (stopped(o)) {
                res->interrupted = 1;
                fprintf(stderr, "neurodyn search: interrupted in generation %d; %s/state.json holds generation %d\n",
                        g + 1, o->out, g);
                goto out;
            }
            fprintf(stderr, "neurodyn search: generation %d failed (see above); fix the cause and continue with "
                            "--resume\n", g + 1);
            goto out;
        }
        int nfin = 0, end = gen_end(o, g);
        for (int i = 0; i < W; i++) {
            S.score[i] = NAN;
            if (status[i] == JOB_DIVERGED) continue;
            char last[PATHN];
            worker_path(o, i, "last.ckpt", last);
            nd_train_state ts;
            if (nd_lfads_ckpt_state(last, &ts, &err)) {
                fprintf(stderr, "neurodyn search: worker %d: %s\n", i, err.msg);
                goto out;
            }
            if (ts.epoch != end) {
                fprintf(stderr, "neurodyn search: worker %d: %s is at epoch %d, expected %d\n", i, last,
                        (int)ts.epoch, end);
                goto out;
            }
            S.score[i] = isfinite(ts.smoothed_recon) ? ts.smoothed_recon : NAN;
            if (isfinite(S.score[i])) sorted[nfin++] = S.score[i];
        }
        if (!nfin) {
            fprintf(stderr, "neurodyn search: every worker diverged in generation %d (NaN/Inf); try a smaller "
                            "lr_init range (--space)\n", g + 1);
            goto out;
        }
        qsort(sorted, (size_t)nfin, sizeof(double), cmp_double);
        hist_row *x = &S.hist[S.nhist];
        x->gen = g + 1;
        x->epoch = end;
        x->best = sorted[0];
        x->median = nfin % 2 ? sorted[nfin / 2] : 0.5 * (sorted[nfin / 2 - 1] + sorted[nfin / 2]);
        x->best_worker = -1;
        for (int i = 0; i < W && x->best_worker < 0; i++)
            if (S.score[i] == x->best) x->best_worker = i;
        memcpy(x->hp, S.hp + (size_t)x->best_worker * np, sizeof(double) * np);
        S.nhist++;
        if (!(x->best >= S.best_score)) { /* NaN best_score: first generation */
            if (export_best(o, x->best_worker, &err)) { fprintf(stderr, "neurodyn search: %s\n", err.msg); goto out; }
            S.best_score = x->best;
            S.best_gen = g + 1;
            S.best_worker = x->best_worker;
            S.best_epoch = end;
            memcpy(S.best_hp, x->hp, sizeof(double) * np);
        }
        double bests[4096];
        int nb = S.nhist < 4096 ? S.nhist : 4096;
        for (int i = 0; i < nb; i++) bests[i] = S.hist[S.nhist - nb + i].best;
        int stop = nd_pbt_should_stop(bests, nb, o->patience, o->min_improvement, &x->ratio);
        x->exploited = 0;
        for (int i = 0; i < W; i++) S.src[i] = -1;
        if (stop) {
            S.finished = 1;
            snprintf(S.stop_reason, sizeof S.stop_reason, "the best score improved by a ratio %.3g < %g over the "
                     "last %d generations", x->ratio, o->min_improvement, o->patience);
        } else {
            /* also after the last generation: a search extended later with a larger --generations then goes on
             * exactly as one started with it */
            int n = nd_pbt_exploit(&o->space, (uint64_t)o->base.seed, g + 1, W, S.score, S.hp, S.src);
            if (n < 0) { fprintf(stderr, "neurodyn search: out of memory\n"); goto out; }
            x->exploited = n;
            if (stage_copies(o, S.src, &err)) { fprintf(stderr, "neurodyn search: %s\n", err.msg); goto out; }
            for (int i = 0; i < W; i++) S.pending[i] = S.src[i] >= 0;
            if (g + 1 >= maxg) {
                S.finished = 1;
                snprintf(S.stop_reason, sizeof S.stop_reason, "--generations %d reached", maxg);
            }
        }
        S.gen = g + 1;
        S.timing[S.nhist - 1] = nd_now_seconds() - t0; /* timing first: a later generation's line is ignored on resume */
        timing_write(o, &S);
        if (state_write(o, &S, &d, &err)) { fprintf(stderr, "neurodyn search: %s\n", err.msg); goto out; }
        if (nd_fault_hit("ND_FAULT_SEARCH_DIE")) raise(SIGKILL); /* tests: die right after a commit */
        generations_write(o, &S);
        table_row(o, &S, S.nhist - 1, stderr);
        if (x->exploited) {
            commit_copies(o, &S);
            if (state_write(o, &S, &d, &err)) { fprintf(stderr, "neurodyn search: %s\n", err.msg); goto out; }
        }
    }
    generations_write(o, &S);
    res->generations = S.gen;
    res->epochs = S.gen ? gen_end(o, S.gen - 1) : 0;
    snprintf(res->stop_reason, sizeof res->stop_reason, "%s", S.stop_reason);
    res->best_worker = S.best_worker;
    res->best_gen = S.best_gen;
    res->best_epoch = S.best_epoch;
    res->best_score = S.best_score;
    memcpy(res->best_hp, S.best_hp, sizeof(double) * np);
    rc = 0;
out:
    free(status);
    free(sorted);
    state_free(&S);
    nd_lfads_data_free(&d);
    return rc;
}

/* MPI ranks > 0: run the jobs rank 0 hands out until it says stop */
static int serve(const search_opts *o, const transport *tp) {
    int rank = tp->rank, size = tp->size;
    int W = o->workers, np = o->space.n;
    double *hp = malloc(sizeof(double) * (size_t)W * np + 1);
    int *status = malloc(sizeof(int) * (size_t)W);
    if (!hp || !status) { free(hp); free(status); return 1; } /* rank 0 will hang; nothing better to do */
    for (;;) {
        int hdr[2];
        tp->bcast(tp->ctx, hdr, 2, NULL, 0);
        if (hdr[0] == 0) break;
        tp->bcast(tp->ctx, NULL, 0, hp, W * np);
        for (int i = 0; i < W; i++) status[i] = -1;
        run_share(o, hdr[1], hp, rank, size, o->parallel, status);
        tp->reduce_max(tp->ctx, status, W);
    }
    free(hp);
    free(status);
    return 0;
}

/* ---------------------------------------------------------------------------------- entry point ---- */

void nd_pbt_search_opts_default(nd_pbt_search_opts *o) {
    memset(o, 0, sizeof *o);
    o->workers = 20;
    o->generations = 50;
    o->epg = 25;
    o->patience = 4;
    o->min_improvement = 5e-4;
    o->threads = 1;
    o->retries = 2;
    o->parallel = 1;
    nd_pbt_space_default(&o->space);
    nd_lfads_config_default(&o->base);
    o->base.lr_decay = 1.0;
    o->base.es_patience = 1000000000;
    o->base.lr_stop = 0;
}

nd_status nd_pbt_search_configure(nd_pbt_search_opts *o, const nd_pbt_search_args *a, nd_error *err) {
    nd_status st = ND_OK;
    for (int i = 0; i < a->nspaces; i++)
        if ((st = nd_pbt_space_set(&o->space, a->spaces[i], err))) return st;
    if (a->config && (st = nd_lfads_config_load(&o->base, a->config, err))) return st;
    if (a->seed && (st = nd_lfads_config_set(&o->base, "seed", a->seed, err))) return st;
    for (int i = 0; i < a->nsets; i++) {
        char key[128];
        size_t kl = strcspn(a->sets[i], "=");
        snprintf(key, sizeof key, "%.*s", (int)(kl < sizeof key ? kl : sizeof key - 1), a->sets[i]);
        char *t = key + strlen(key);
        while (t > key && (t[-1] == ' ')) *--t = 0;
        if (nd_pbt_space_find(&o->space, key) >= 0)
            return nd_fail(err, ND_ERR_ARG, "--set %s: this hyperparameter is searched; change its range or initial "
                           "value with --space, or stop searching it with --space %s=off", a->sets[i], key);
        if ((st = nd_lfads_config_set_kv(&o->base, a->sets[i], err))) return st;
    }
    if (o->base.seed < 0) return nd_fail(err, ND_ERR_ARG, "--seed must be >= 0");
    if ((st = nd_lfads_config_check(&o->base, err))) return st;
    if (a->mpi) {
        o->parallel = a->parallel ? a->parallel : 1;
    } else {
        long cores = sysconf(_SC_NPROCESSORS_ONLN);
        int def = (int)(cores > 0 ? cores : 1) / (o->threads > 0 ? o->threads : 1);
        o->parallel = a->parallel ? a->parallel : (def < 1 ? 1 : def);
        if (o->parallel > o->workers) o->parallel = o->workers;
    }
    return ND_OK;
}

int nd_pbt_search(const nd_pbt_search_opts *o, const nd_pbt_transport *tp, nd_pbt_search_result *res) {
    static const nd_pbt_transport local = {0, 0, 1, NULL, NULL, NULL};
    if (!tp) tp = &local;
    memset(res, 0, sizeof *res);
    res->best_worker = res->best_gen = res->best_epoch = -1;
    res->best_score = NAN;
    if (tp->mpi && tp->rank != 0) return serve(o, tp);
    int rc = coordinate(o, tp, res);
    if (tp->mpi) { /* tell the other ranks to stop */
        int hdr[2] = {0, 0};
        tp->bcast(tp->ctx, hdr, 2, NULL, 0);
    }
    return rc;
}
