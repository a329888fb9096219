/* neurodyn search: population-based training of LFADS (AutoLFADS), see docs/search.md. The search is
 * nd_pbt_search (src/models/pbt_search.c); this file parses the options, wires the MPI transport
 * (src/cli/search_mpi.c) when started by mpirun, and prints the outcome. */
#include "cli.h"
#include "search_mpi.h"
#include "../models/pbt_search.h"
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void mpi_bcast(void *ctx, int *ints, int ni, double *d, int nd) { (void)ctx; search_mpi_bcast(ints, ni, d, nd); }
static void mpi_reduce_max(void *ctx, int *v, int n) { (void)ctx; search_mpi_reduce_max(v, n); }

/* ---------------------------------------------------------------------------------- the command ---- */

static void search_usage(FILE *f) {
    fprintf(f,
            "usage: neurodyn search DATA.h5 --out DIR [--workers 20] [--generations 50 --epochs-per-generation 25]\n"
            "                       [--resume] [options]\n"
            "       mpirun -np N neurodyn search DATA.h5 --out DIR [options]   (one job per MPI rank, any hosts)\n\n"
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
            "with OpenMPI) rank 0 coordinates, worker i runs on rank i %% N, and DIR must be on a file system every\n"
            "rank sees. Either way a job that dies is re-run from its last checkpoint (--retries times), and the\n"
            "same seed gives the same search.\n\n"
            "options:\n"
            "  --out DIR                    output directory (required)\n"
            "  --workers N                  population size (default 20)\n"
            "  --generations N              at most N generations (default 50)\n"
            "  --epochs-per-generation N    epochs between exploits (default 25)\n"
            "  --burn-in N                  extra epochs in the first generation (default 0)\n"
            "  --patience N                 generations in the stop rule's window (default 4)\n"
            "  --min-improvement R          stop when (first - min)/mean|.| of the window's best scores < R\n"
            "                               (default 5e-4; 0 never stops early)\n"
            "  --seed N                     seed of the search and of worker i's model (N + i) (default 0)\n"
            "  --threads N                  threads per job (default 1)\n"
            "  --parallel N                 jobs at a time (default: cores / threads locally, 1 per MPI rank)\n"
            "  --retries N                  re-runs of a job that died before the search gives up (default 2)\n"
            "  --set KEY=VALUE              fixed hyperparameter for every worker (see 'neurodyn train --help')\n"
            "  --config FILE                'key = value' lines; --set wins\n"
            "  --space KEY=MIN:MAX:W[:lin|log][:INIT]   search KEY in [MIN, MAX] with explore weight W; initial\n"
            "                               values uniform/log-uniform, or INIT for every worker\n"
            "  --space KEY=off              do not search KEY\n"
            "  --resume                     continue DIR/state.json\n\n"
            "searched by default (AutoLFADS; lfads-torch scale, mapped onto neurodyn's per-trial losses):\n");
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

static int parse_int(const char *s, int lo, int hi, int *v) {
    char *end;
    errno = 0;
    long x = strtol(s, &end, 10);
    if (end == s || *end || errno || x < lo || x > hi) return 0;
    *v = (int)x;
    return 1;
}

int cmd_search(int argc, char **argv) {
    static const struct option opts[] = {
        {"out", required_argument, 0, 'o'},        {"workers", required_argument, 0, 'w'},
        {"generations", required_argument, 0, 'g'}, {"epochs-per-generation", required_argument, 0, 'e'},
        {"burn-in", required_argument, 0, 'b'},    {"patience", required_argument, 0, 'p'},
        {"min-improvement", required_argument, 0, 'm'}, {"seed", required_argument, 0, 's'},
        {"threads", required_argument, 0, 't'},    {"parallel", required_argument, 0, 'P'},
        {"retries", required_argument, 0, 'R'},    {"set", required_argument, 0, 'S'},
        {"config", required_argument, 0, 'c'},     {"space", required_argument, 0, 'x'},
        {"resume", no_argument, 0, 'r'},           {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0}};
    nd_pbt_search_opts o;
    nd_pbt_search_opts_default(&o);
    int parallel = 0, c, rc = 2;
    const char *config = NULL, *seed = NULL;
    char **sets = calloc((size_t)argc + 1, sizeof *sets), **spaces = calloc((size_t)argc + 1, sizeof *spaces);
    int nsets = 0, nspaces = 0;
    if (!sets || !spaces) { free(sets); free(spaces); return 1; }
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        int ok = 1;
        char *end;
        switch (c) {
        case 'o': o.out = optarg; break;
        case 'w': ok = parse_int(optarg, 1, 10000, &o.workers); break;
        case 'g': ok = parse_int(optarg, 1, 100000, &o.generations); break;
        case 'e': ok = parse_int(optarg, 1, 1000000, &o.epg); break;
        case 'b': ok = parse_int(optarg, 0, 1000000, &o.burn_in); break;
        case 'p': ok = parse_int(optarg, 1, 4096, &o.patience); break;
        case 'm': o.min_improvement = strtod(optarg, &end); ok = end != optarg && !*end && o.min_improvement >= 0; break;
        case 's': seed = optarg; break;
        case 't': ok = parse_int(optarg, 1, 1024, &o.threads); break;
        case 'P': ok = parse_int(optarg, 1, 100000, &parallel); break;
        case 'R': ok = parse_int(optarg, 0, 1000, &o.retries); break;
        case 'S': sets[nsets++] = optarg; break;
        case 'c': config = optarg; break;
        case 'x': spaces[nspaces++] = optarg; break;
        case 'r': o.resume = 1; break;
        case 'h': search_usage(stdout); free(sets); free(spaces); return 0;
        default: cli_bad_option("search", argv); free(sets); free(spaces); return 2;
        }
        if (!ok) {
            fprintf(stderr, "neurodyn search: bad value '%s' for --%s (see --help)\n", optarg,
                    c == 'w' ? "workers" : c == 'g' ? "generations" : c == 'e' ? "epochs-per-generation" :
                    c == 'b' ? "burn-in" : c == 'p' ? "patience" : c == 'm' ? "min-improvement" :
                    c == 't' ? "threads" : c == 'P' ? "parallel" : "retries");
            free(sets);
            free(spaces);
            return 2;
        }
    }
    nd_error err;
    if (optind != argc - 1 || !o.out) {
        fprintf(stderr, "neurodyn search: expected one DATA.h5 and --out DIR (see --help)\n");
        goto done;
    }
    o.data = argv[optind];
    for (int i = 0; i < nspaces; i++)
        if (nd_pbt_space_set(&o.space, spaces[i], &err)) goto usage_err;
    if (config && nd_lfads_config_load(&o.base, config, &err)) goto usage_err;
    if (seed && nd_lfads_config_set(&o.base, "seed", seed, &err)) goto usage_err;
    for (int i = 0; i < nsets; i++) {
        char key[128];
        size_t kl = strcspn(sets[i], "=");
        snprintf(key, sizeof key, "%.*s", (int)(kl < sizeof key ? kl : sizeof key - 1), sets[i]);
        char *t = key + strlen(key);
        while (t > key && (t[-1] == ' ')) *--t = 0;
        if (nd_pbt_space_find(&o.space, key) >= 0) {
            fprintf(stderr, "neurodyn search: --set %s: this hyperparameter is searched; change its range or initial "
                            "value with --space, or stop searching it with --space %s=off\n", sets[i], key);
            goto done;
        }
        if (nd_lfads_config_set_kv(&o.base, sets[i], &err)) goto usage_err;
    }
    if (o.base.seed < 0) { fprintf(stderr, "neurodyn search: --seed must be >= 0\n"); goto done; }
    if (nd_lfads_config_check(&o.base, &err)) goto usage_err;
    free(sets);
    free(spaces);
    sets = spaces = NULL;

    nd_pbt_transport tp = {0, 0, 1, NULL, mpi_bcast, mpi_reduce_max};
    if (search_mpi_launched()) {
        if (!search_mpi_available()) {
            fprintf(stderr, "neurodyn search: started by mpirun, but this neurodyn was built without MPI (install "
                            "libopenmpi-dev and rebuild)\n");
            return 1;
        }
        if (search_mpi_init(&tp.rank, &tp.size)) {
            fprintf(stderr, "neurodyn search: MPI_Init failed\n");
            return 1;
        }
        tp.mpi = 1;
        o.parallel = parallel ? parallel : 1;
    } else {
        long cores = sysconf(_SC_NPROCESSORS_ONLN);
        int def = (int)(cores > 0 ? cores : 1) / o.threads;
        o.parallel = parallel ? parallel : (def < 1 ? 1 : def);
        if (o.parallel > o.workers) o.parallel = o.workers;
    }
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
usage_err:
    fprintf(stderr, "neurodyn search: %s\n", err.msg);
done:
    free(sets);
    free(spaces);
    return rc;
}
