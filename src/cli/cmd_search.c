/* neurodyn search: population-based training of LFADS (AutoLFADS), see docs/search.md. The search is
 * nd_pbt_search (src/models/pbt_search.c) and nd_pbt_search_configure applies the options given as text; this file
 * parses them, wires the MPI transport (src/cli/search_mpi.c) when started by mpirun, and prints the outcome. */
#include "cli.h"
#include "opt.h"
#include "search_mpi.h"
#include "../models/pbt_search.h"
#include <math.h>
#include <stdio.h>
#include <string.h>

static const char ABOUT[] =
    "Population-based training of LFADS (AutoLFADS). Each worker is a run directory DIR/worker_XX trained\n"
    "for --epochs-per-generation epochs per generation. After each generation every worker is compared with\n"
    "a randomly drawn other worker (binary tournament) on its smoothed validation reconstruction loss; if it\n"
    "is worse (or diverged) it takes that worker's weights and hyperparameters and multiplies each searched\n"
    "hyperparameter by 1 +/- U(0.002 w, w), kept within its bounds. The search stops when the best score\n"
    "improved by a ratio < --min-improvement over the last --patience generations, or at --generations.\n\n"
    "Outputs: DIR/best (best.ckpt + config.txt of the best worker seen: a run directory for infer/eval),\n"
    "DIR/generations.tsv (per generation: best and median score, the best worker and its hyperparameters,\n"
    "exploits, elapsed time; the same table goes to stderr), DIR/state.json (the search state, written\n"
    "atomically after every generation; --resume continues from it).\n\n"
    "Without mpirun the jobs run in local child processes, --parallel at a time. Under mpirun (needs a build\n"
    "with OpenMPI) rank 0 coordinates, worker i runs on rank i % N, and DIR must be on a file system every\n"
    "rank sees. Either way a job that dies is re-run from its last checkpoint (--retries times), and the\n"
    "same seed gives the same search.\n";

/* the searched hyperparameters, after the options */
static void space_help(FILE *f) {
    fprintf(f, "\nsearched by default (AutoLFADS; lfads-torch scale, mapped onto neurodyn's per-trial losses):\n");
    nd_pbt_space s;
    nd_pbt_space_default(&s);
    for (int k = 0; k < s.n; k++) {
        char init[48];
        if (isnan(s.p[k].init)) snprintf(init, sizeof init, "initial %s", s.p[k].sample == ND_PBT_LOG ? "log-uniform" : "uniform");
        else snprintf(init, sizeof init, "initial %g", s.p[k].init);
        fprintf(f, "  %-14s [%g, %g]  w %.1f  %s\n", s.p[k].name, s.p[k].min, s.p[k].max, s.p[k].weight, init);
    }
    fprintf(f, "kl_*_scale are multiplied by (bins x neurons reconstructed per trial) and l2_*_scale by that times the\n"
               "kernel's share of the recurrent weights (docs/search.md). Workers run with lr_decay=1 (lr is searched),\n"
               "es_patience=1000000000 and lr_stop=0 unless set otherwise.\n");
}

static void mpi_bcast(void *ctx, int *ints, int ni, double *d, int nd) { (void)ctx; search_mpi_bcast(ints, ni, d, nd); }
static void mpi_reduce_max(void *ctx, int *v, int n) { (void)ctx; search_mpi_reduce_max(v, n); }

int cmd_search(int argc, char **argv) {
    nd_pbt_search_opts o;
    nd_pbt_search_opts_default(&o);
    nd_pbt_search_args a = {0};
    long workers = 0, gens = 0, epg = 0, burn_in = 0, patience = 0, threads = 0, parallel = 0, retries = 0;
    cli_list sets = {0}, spaces = {0};
    const cli_opt opts[] = {
        {"out", 'o', CLI_STR, NULL, "output directory (required)", &o.out, 0, 0, NULL, "DIR"},
        {"workers", 0, CLI_INT, "20", "population size", &workers, 1, 10000, NULL, NULL},
        {"generations", 0, CLI_INT, "50", "at most N generations", &gens, 1, 100000, NULL, NULL},
        {"epochs-per-generation", 0, CLI_INT, "25", "epochs between exploits", &epg, 1, 1000000, NULL, NULL},
        {"burn-in", 0, CLI_INT, "0", "extra epochs in the first generation", &burn_in, 0, 1000000, NULL, NULL},
        {"patience", 0, CLI_INT, "4", "generations in the stop rule's window", &patience, 1, 4096, NULL, NULL},
        {"min-improvement", 0, CLI_REAL, "5e-4", "stop when (first - min)/mean|.| of the window's best scores < R\n"
         "                             (0 never stops early)", &o.min_improvement, 0, 1e300, NULL, "R"},
        {"seed", 0, CLI_STR, NULL, "seed of the search and of worker i's model (N + i) (default 0)", &a.seed, 0, 0, NULL,
         "N"},
        {"threads", 't', CLI_INT, "1", "threads per job", &threads, 1, 1024, NULL, NULL},
        {"parallel", 0, CLI_INT, NULL, "jobs at a time (default: cores / threads locally, 1 per MPI rank)", &parallel,
         1, 100000, NULL, NULL},
        {"retries", 0, CLI_INT, "2", "re-runs of a job that died before the search gives up", &retries, 0, 1000, NULL,
         NULL},
        {"set", 0, CLI_LIST, NULL, "fixed hyperparameter for every worker (see 'neurodyn train --help')", &sets, 0, 0,
         NULL, "KEY=VALUE"},
        {"config", 0, CLI_STR, NULL, "'key = value' lines; --set wins", &a.config, 0, 0, NULL, "FILE"},
        {"space", 0, CLI_LIST, NULL, "KEY=MIN:MAX:W[:lin|log][:INIT]: search KEY in [MIN, MAX] with explore\n"
         "                             weight W; initial values uniform/log-uniform, or INIT for every worker.\n"
         "                             KEY=off: do not search KEY", &spaces, 0, 0, NULL, "SPEC"},
        {"resume", 0, CLI_FLAG, NULL, "continue DIR/state.json", &o.resume, 0, 0, NULL, NULL},
        {0}};
    const cli_spec spec = {"search", "DATA.h5 --out DIR [--workers 20] [--generations 50 --epochs-per-generation 25]\n"
                           "                       [--resume] [options]\n"
                           "       mpirun -np N neurodyn search DATA.h5 --out DIR [options]   (one job per MPI rank, "
                           "any hosts)", ABOUT,
                           "lorenz.h5 --out search/ --workers 8 --generations 20 --epochs-per-generation 10\n"
                           "lorenz.h5 --out search/ --space dropout_rate=off --space lr_init=1e-4:0.01:0.3:log --set gen_dim=64",
                           opts, 1, 1, "one DATA.h5 and --out DIR", space_help};
    char *pos[argc > 0 ? argc : 1];
    int npos, rc = cli_parse(&spec, argc, argv, pos, &npos);
    if (rc || !o.out) {
        if (!rc) fprintf(stderr, "neurodyn search: expected one DATA.h5 and --out DIR (see --help)\n");
        cli_list_free(&sets);
        cli_list_free(&spaces);
        return rc < 0 ? 0 : 2;
    }
    o.data = pos[0];
    o.workers = (int)workers, o.generations = (int)gens, o.epg = (int)epg, o.burn_in = (int)burn_in;
    o.patience = (int)patience, o.threads = (int)threads, o.retries = (int)retries;
    a.sets = sets.v, a.nsets = sets.n, a.spaces = spaces.v, a.nspaces = spaces.n;
    a.parallel = (int)parallel, a.mpi = search_mpi_launched();
    nd_error err;
    nd_status st = nd_pbt_search_configure(&o, &a, &err);
    cli_list_free(&sets);
    cli_list_free(&spaces);
    if (st) { fprintf(stderr, "neurodyn search: %s\n", err.msg); return 2; }
    nd_pbt_transport tp = {0, 0, 1, NULL, mpi_bcast, mpi_reduce_max};
    if (a.mpi && !search_mpi_available()) {
        fprintf(stderr, "neurodyn search: started by mpirun, but this neurodyn was built without MPI (install "
                        "libopenmpi-dev and rebuild)\n");
        return 1;
    }
    if (a.mpi && search_mpi_init(&tp.rank, &tp.size)) { fprintf(stderr, "neurodyn search: MPI_Init failed\n"); return 1; }
    tp.mpi = a.mpi;
    nd_pbt_search_result res;
    o.stop = cli_catch_interrupt();
    rc = nd_pbt_search(&o, &tp, &res);
    if (tp.mpi) search_mpi_finalize();
    if (res.interrupted && tp.rank == 0) {
        fprintf(stderr, "interrupted: continue with: neurodyn search");
        for (int i = 1; i < argc; i++)
            if (strcmp(argv[i], "--resume")) fprintf(stderr, strpbrk(argv[i], " \t'\"$") ? " '%s'" : " %s", argv[i]);
        fprintf(stderr, " --resume\n");
        return 130;
    }
    if (rc || tp.rank != 0) return rc;
    fprintf(stderr, "done: %s after %d generations (%d epochs per worker)\n", res.stop_reason, res.generations,
            res.epochs);
    if (res.best_worker >= 0) {
        fprintf(stderr, "best: worker %d after generation %d (epoch %d), smoothed valid recon %.3f per trial ->"
                        " %s/best (a run directory for infer/eval)\n  ", res.best_worker, res.best_gen, res.best_epoch,
                res.best_score, o.out);
        for (int k = 0; k < o.space.n; k++)
            fprintf(stderr, "%s=%.4g%s", o.space.p[k].name, res.best_hp[k], k + 1 < o.space.n ? " " : "\n");
    }
    return 0;
}
