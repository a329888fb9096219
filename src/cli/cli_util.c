/* Small pieces every command shares: JSON output and loading a trained run. */
#include "cli.h"
#include "../io/lfads_data.h"
#include "../io/checkpoint.h"
#include "../models/lfads_infer.h"
#include "../models/infer_run.h"
#include "../models/lfads_train.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <unistd.h>

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

int cli_data_values(int recon) { return nd_lfads_data_values(recon); }

int cli_check_data(const char *cmd, const char *ckpt, const nd_lfads_model *m, const char *data, int allow,
                   nd_lfads_data *out) {
    nd_error err;
    if (nd_lfads_run_data(ckpt, m, data, 0, allow, stderr, out, &err)) {
        fprintf(stderr, "neurodyn %s: %s\n", cmd, err.msg);
        return 1;
    }
    return 0;
}

/* the one piece of process-wide state in the CLI: a signal handler can only talk through a static flag */
static volatile sig_atomic_t interrupted;
static pid_t interrupt_pid; /* the process that installed the handler says so; its forked workers stay quiet */

static void on_interrupt(int sig) {
    static const char msg[] = "\nneurodyn: interrupted; stopping after this epoch's checkpoint (press Ctrl-C again to "
                              "abort at once)\n";
    (void)sig;
    interrupted = 1;
    if (getpid() == interrupt_pid) {
        ssize_t w = write(STDERR_FILENO, msg, sizeof msg - 1);
        (void)w;
    }
}

volatile sig_atomic_t *cli_catch_interrupt(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    interrupt_pid = getpid();
    sa.sa_handler = on_interrupt;
    sa.sa_flags = SA_RESETHAND; /* a second Ctrl-C takes the default action: the process ends at once */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    return &interrupted;
}
