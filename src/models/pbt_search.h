/* Population-based training of LFADS (AutoLFADS) as a library call: nd_pbt_search runs the whole search that
 * 'neurodyn search' runs (docs/search.md): worker pool in forked child processes, generation loop, exploit/explore
 * (pbt.h), the atomic OUT/state.json commit protocol, --resume, OUT/best, OUT/generations.tsv. Progress and
 * per-generation table rows go to stderr. The search can be spread over processes on several hosts through a
 * transport: two collective operations the caller provides (the CLI wires MPI in src/cli/search_mpi.c; this
 * file never sees mpi.h). */
#ifndef ND_MODELS_PBT_SEARCH_H
#define ND_MODELS_PBT_SEARCH_H
#include <signal.h>
#include "lfads_config.h"
#include "pbt.h"

typedef struct {
    const char *data, *out;   /* the data file; the search directory */
    int workers;              /* population size (20) */
    int generations;          /* at most this many generations (50) */
    int epg;                  /* epochs per generation (25) */
    int burn_in;              /* extra epochs in the first generation (0) */
    int threads;              /* threads per training job (1) */
    int parallel;             /* jobs at a time in this process (1) */
    int patience;             /* generations in the stop rule's window (4) */
    int retries;              /* re-runs of a job that died (2) */
    int resume;               /* continue OUT/state.json */
    double min_improvement;   /* stop rule threshold (5e-4) */
    nd_lfads_config base;     /* fixed hyperparameters of every worker (lr_decay 1, es_patience 1e9, lr_stop 0) */
    nd_pbt_space space;       /* the searched hyperparameters (AutoLFADS's by default) */
    volatile sig_atomic_t *stop; /* NULL, or a flag a signal handler sets: no new jobs start, running ones get
                                    SIGINT and stop after their epoch's checkpoint (nd_train_opts.stop), and the
                                    search returns 1 with res->interrupted = 1; resume = 1 goes on exactly */
} nd_pbt_search_opts;
void nd_pbt_search_opts_default(nd_pbt_search_opts *o);

/* The options of `neurodyn search` that arrive as text, applied to o by nd_pbt_search_configure. */
typedef struct {
    const char *config;         /* 'key = value' lines of fixed hyperparameters, or NULL */
    const char *seed;           /* the search's seed (worker i's model gets seed + i), or NULL: the config's (0) */
    const char *const *sets;    /* [nsets] "KEY=VALUE": a fixed hyperparameter of every worker; wins over config */
    int nsets;
    const char *const *spaces;  /* [nspaces] "KEY=MIN:MAX:W[:lin|log][:INIT]" (search KEY) or "KEY=off" */
    int nspaces;
    int parallel;               /* jobs at a time in this process; 0: the default, 1 under MPI, else the online
                                   cores / o->threads (at least 1, at most o->workers) */
    int mpi;                    /* the jobs are spread over MPI ranks */
} nd_pbt_search_args;

/* Apply a to o (whose workers and threads are set): the spaces, then config, seed and sets (a searched key is
 * refused: its range belongs to --space), then check the resulting config and set o->parallel. Fails (nothing
 * else to undo: o is left half-set) with one line naming the option, ND_ERR_ARG (ND_ERR_IO for an unreadable
 * config file). */
nd_status nd_pbt_search_configure(nd_pbt_search_opts *o, const nd_pbt_search_args *a, nd_error *err);

/* How the coordinator (rank 0) hands out jobs: with mpi = 0 (or tp NULL) every job runs in this process's children.
 * Otherwise rank r of size runs workers w with w % size == r; bcast sends ints[0..ni) then doubles[0..nd) from rank 0
 * to every rank, reduce_max takes the element-wise maximum of v[0..n) over the ranks into rank 0. */
typedef struct {
    int mpi, rank, size;
    void *ctx;
    void (*bcast)(void *ctx, int *ints, int ni, double *doubles, int nd);
    void (*reduce_max)(void *ctx, int *v, int n);
} nd_pbt_transport;

typedef struct {
    int generations;        /* completed generations */
    int epochs;             /* epochs per worker so far */
    char stop_reason[160];  /* why it stopped ("--generations 50 reached", the stop rule) */
    int best_worker, best_gen, best_epoch; /* -1 when none */
    double best_score;      /* smoothed validation reconstruction NLL per trial of OUT/best (NaN: none) */
    double best_hp[ND_PBT_MAX_PARAMS]; /* its hyperparameters, in the space's scale */
    int interrupted;        /* stopped by opts.stop */
} nd_pbt_search_result;

/* Run the search (rank 0) or serve rank 0's jobs (other ranks; res then stays empty). 0 on success; 1 after a
 * one-line message on stderr (bad data, a generation whose jobs failed: continue with resume = 1). */
int nd_pbt_search(const nd_pbt_search_opts *o, const nd_pbt_transport *tp, nd_pbt_search_result *res);

#endif
