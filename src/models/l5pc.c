#define _GNU_SOURCE
#include "l5pc.h"
#include "tcn_train.h"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#define INSTALL_HINT "install it with 'sudo apt-get install neuron neuron-dev python3-neuron' (or 'make deps')"

void nd_l5pc_opts_default(nd_l5pc_opts *o) {
    memset(o, 0, sizeof *o);
    o->cell = "l5pc";
    o->sims = 10;
    o->seconds = 6;
    o->dt_ms = 0.025;
}

int nd_l5pc_is_cell(const char *name) { return name && (!strcmp(name, "l5pc") || !strcmp(name, "l5pc-ampa")); }

static int is_file(const char *p) {
    struct stat sb;
    return stat(p, &sb) == 0 && S_ISREG(sb.st_mode);
}

/* the directory holding l5pc_sim.py */
static int find_dir(const nd_l5pc_opts *o, char *dir, size_t n) {
    char script[PATH_MAX + 32];
    const char *env = getenv("NEURODYN_L5PC_DIR");
    const char *given = o->dir ? o->dir : env;
    if (given) {
        snprintf(dir, n, "%s", given);
        snprintf(script, sizeof script, "%s/l5pc_sim.py", dir);
        return is_file(script);
    }
    char exe[PATH_MAX];
    ssize_t k = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (k <= 0) return 0;
    exe[k] = 0;
    char *slash = strrchr(exe, '/');
    if (!slash) return 0;
    *slash = 0; /* the executable's directory: bin/ or build/tests/ */
    const char *rel[] = {"/../data/l5pc", "/../../data/l5pc", "/../share/neurodyn/l5pc"};
    for (int i = 0; i < 3; i++) {
        snprintf(dir, n, "%s%s", exe, rel[i]);
        snprintf(script, sizeof script, "%s/l5pc_sim.py", dir);
        if (is_file(script)) return 1;
    }
    return 0;
}

static void default_mech_dir(char *out, size_t n) {
    const char *c = getenv("NEURODYN_CACHE"), *x = getenv("XDG_CACHE_HOME"), *h = getenv("HOME");
    if (c && *c) snprintf(out, n, "%s/l5pc-mech", c);
    else if (x && *x) snprintf(out, n, "%s/neurodyn/l5pc-mech", x);
    else if (h && *h) snprintf(out, n, "%s/.cache/neurodyn/l5pc-mech", h);
    else snprintf(out, n, "/tmp/neurodyn-l5pc-mech-%d", (int)getuid());
}

/* mkdir -p of path's parents and path */
static int mkdirs(const char *path) {
    char tmp[PATH_MAX];
    snprintf(tmp, sizeof tmp, "%s", path);
    for (char *p = tmp + 1; *p; p++)
        if (*p == '/') {
            *p = 0;
            if (mkdir(tmp, 0777) && errno != EEXIST) return -1;
            *p = '/';
        }
    return mkdir(tmp, 0777) && errno != EEXIST ? -1 : 0;
}

nd_status nd_l5pc_simulate(const nd_l5pc_opts *o, nd_l5pc_result *res, nd_error *err) {
    memset(res, 0, sizeof *res);
    if (!nd_l5pc_is_cell(o->cell))
        return nd_fail(err, ND_ERR_ARG, "neuron simulate: unknown L5PC cell '%s' (l5pc, l5pc-ampa)", o->cell ? o->cell : "");
    if (o->sims < 1) return nd_fail(err, ND_ERR_ARG, "neuron simulate: --sims %d must be >= 1", o->sims);
    if (!(o->seconds >= 0.6 && o->seconds <= 3600))
        return nd_fail(err, ND_ERR_ARG, "neuron simulate: --seconds %g must be in 0.6..3600", o->seconds);
    if (!(o->dt_ms > 0 && o->dt_ms <= 0.1 && fabs(1 / o->dt_ms - lround(1 / o->dt_ms)) < 1e-9))
        return nd_fail(err, ND_ERR_ARG, "neuron simulate: dt %g ms must divide 1 ms and be <= 0.1 ms", o->dt_ms);
    if (!o->out) return nd_fail(err, ND_ERR_ARG, "neuron simulate: no output file");
    const char *py = o->python ? o->python : "/usr/bin/python3";
    if (access(py, X_OK))
        return nd_fail(err, ND_ERR_IO, "neuron simulate: --cell %s needs NEURON and %s, which is missing: "
                       INSTALL_HINT, o->cell, py);
    char dir[PATH_MAX], script[PATH_MAX + 32], mech[PATH_MAX];
    if (!find_dir(o, dir, sizeof dir))
        return nd_fail(err, ND_ERR_IO, "neuron simulate: cannot find l5pc_sim.py (the project's data/l5pc; set "
                       "NEURODYN_L5PC_DIR)");
    snprintf(script, sizeof script, "%s/l5pc_sim.py", dir);
    if (o->mech_dir) snprintf(mech, sizeof mech, "%s", o->mech_dir);
    else default_mech_dir(mech, sizeof mech);
    char *slash = strrchr(mech, '/');
    if (slash && slash != mech) { /* the cache's parent must exist; l5pc_sim.py makes the directory itself */
        *slash = 0;
        int bad = mkdirs(mech);
        *slash = '/';
        if (bad) return nd_fail(err, ND_ERR_IO, "neuron simulate: cannot create %s (%s)", mech, strerror(errno));
    }
    char a_sims[32], a_sec[32], a_seed[32], a_dt[32];
    snprintf(a_sims, sizeof a_sims, "%d", o->sims);
    snprintf(a_sec, sizeof a_sec, "%.17g", o->seconds);
    snprintf(a_seed, sizeof a_seed, "%llu", (unsigned long long)o->seed);
    snprintf(a_dt, sizeof a_dt, "%.17g", o->dt_ms);
    char *argv[] = {(char *)py, script, "--cell", (char *)o->cell, "--sims", a_sims, "--seconds", a_sec,
                    "--seed", a_seed, "--dt", a_dt, "--mech-dir", mech, "--out", (char *)o->out,
                    o->progress ? NULL : "--quiet", NULL};
    int fd[2];
    if (pipe(fd)) return nd_fail(err, ND_ERR_IO, "neuron simulate: pipe: %s", strerror(errno));
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        close(fd[0]); close(fd[1]);
        return nd_fail(err, ND_ERR_IO, "neuron simulate: fork: %s", strerror(errno));
    }
    if (pid == 0) {
        dup2(fd[1], 1);
        dup2(fd[1], 2);
        close(fd[0]);
        close(fd[1]);
        setenv("NEURON_MODULE_OPTIONS", "-nogui", 1);
        /* nrnivmodl builds the mechanisms with make: when neurodyn itself runs under make (its tests, make asan),
         * the parent's command-line variables (CFLAGS=-fsanitize=...) would reach that build through these */
        unsetenv("MAKEFLAGS");
        unsetenv("MFLAGS");
        unsetenv("MAKELEVEL");
        execv(py, argv);
        _exit(127);
    }
    close(fd[1]);
    FILE *in = fdopen(fd[0], "r");
    char line[1024], last[1024] = "";
    int got = 0;
    while (in && fgets(line, sizeof line, in)) {
        line[strcspn(line, "\n")] = 0;
        if (!*line || strstr(line, "DISPLAY") || strstr(line, "No graphics")) continue;
        if (!strncmp(line, "simulated ", 10) || !strncmp(line, "compiling ", 10)) {
            if (o->progress) fprintf(o->progress, "%s\n", line), fflush(o->progress);
            continue;
        }
        if (sscanf(line, "%d %d %lf %lf %lf %ld %lf", &res->sims, &res->synapses, &res->exc_rate_hz,
                   &res->inh_rate_hz, &res->output_rate_hz, &res->input_spikes, &res->seconds) == 7) {
            got = 1;
            continue;
        }
        snprintf(last, sizeof last, "%s", line); /* the simulator's error, if it fails: its last line */
    }
    if (in) fclose(in);
    else close(fd[0]);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
    if (code == 0 && got) { /* the file must read back with the training data's checks */
        nd_neuron_data d;
        nd_status st = nd_neuron_data_read(o->out, &d, err);
        if (!st) nd_neuron_data_free(&d);
        return st;
    }
    if (code == 127 && !*last)
        return nd_fail(err, ND_ERR_IO, "neuron simulate: cannot run %s: " INSTALL_HINT, py);
    return nd_fail(err, code == 2 ? ND_ERR_ARG : ND_ERR_IO, "neuron simulate: %s", *last ? last :
                   "the L5PC simulation failed without a message");
}
