/* Small pieces every command shares: JSON output and loading a trained run. */
#include "cli.h"
#include "../io/lfads_data.h"
#include "../io/checkpoint.h"
#include "../models/lfads_infer.h"
#include "../models/lfads_train.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cli_write_json(const char *cmd, const cJSON *root, const char *path) {
    char *txt = cJSON_Print(root);
    if (!txt) {
        fprintf(stderr, "neurodyn %s: out of memory\n", cmd);
        return 1;
    }
    int rc = 0;
    if (path) {
        nd_error err;
        if (nd_write_file_atomic(path, txt, strlen(txt), &err)) {
            fprintf(stderr, "neurodyn %s: %s\n", cmd, err.msg);
            rc = 1;
        }
    } else {
        printf("%s\n", txt);
    }
    free(txt);
    return rc;
}

int cli_load_run(const char *cmd, const char *run, char *ckpt, size_t cap, nd_lfads_model *m, int mdims[3]) {
    nd_error err;
    if (nd_lfads_resolve_ckpt(run, ckpt, cap, &err) || nd_lfads_load(ckpt, m, mdims, &err)) {
        fprintf(stderr, "neurodyn %s: %s\n", cmd, err.msg);
        return 1;
    }
    return 0;
}

int cli_data_values(int recon) {
    return recon == ND_RECON_POISSON ? ND_DATA_COUNTS : recon == ND_RECON_GAUSSIAN ? ND_DATA_REAL : ND_DATA_NONNEG;
}
