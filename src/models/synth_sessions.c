/* nd_synth_lorenz_sessions_write: a multi-session Lorenz set on disk, one session at a time (see synth.h). */
#include "synth.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static nd_status ensure_dir(const char *dir, nd_error *err) {
    struct stat sb;
    if (mkdir(dir, 0755) != 0 && errno != EEXIST)
        return nd_fail(err, ND_ERR_IO, "cannot create directory '%s': %s", dir, strerror(errno));
    if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode))
        return nd_fail(err, ND_ERR_ARG, "--out '%s' is not a directory (needed with --sessions)", dir);
    return ND_OK;
}

nd_status nd_synth_lorenz_sessions_write(const nd_lorenz_opts *o, int sessions, int neurons_min, int neurons_max,
                                         const char *dir, FILE *progress, nd_error *err) {
    size_t dlen = strlen(dir), cap = dlen + 32;
    while (dlen > 1 && dir[dlen - 1] == '/') dlen--; /* DIR/ -> DIR/s1.h5, not DIR//s1.h5 */
    char *path = malloc(cap);
    if (!path) return nd_fail(err, ND_ERR_NOMEM, "out of memory");
    nd_status st = ND_OK;
    for (int k = 1; k <= sessions && !st; k++) {
        nd_synth s;
        st = nd_synth_lorenz_session(o, k, sessions, neurons_min, neurons_max, &s, err);
        if (st) break;
        if (k == 1) st = ensure_dir(dir, err);
        if (!st) {
            snprintf(path, cap, "%.*s/s%d.h5", (int)dlen, dir, k);
            st = nd_synth_write(&s, path, err);
        }
        if (!st && progress) {
            const nd_lfads_data *d = &s.data;
            fprintf(progress, "neurodyn simulate: lorenz session %d/%d: %d neurons, %d trials (%d train, %d valid) x %d "
                              "bins of %g ms, mean rate %.2f Hz -> wrote %s\n",
                    k, sessions, d->N, d->split[ND_TRAIN].n + d->split[ND_VALID].n, d->split[ND_TRAIN].n,
                    d->split[ND_VALID].n, d->T, s.bin_ms,
                    nd_synth_mean_rate_hz(&s), path);
            fflush(progress);
        }
        nd_synth_free(&s);
    }
    free(path);
    return st;
}
