/* Training LFADS: Adam, gradient-norm clipping, ramps, smoothed validation loss,
 * lr decay on plateau, early stopping, atomic checkpoints (lfads_ckpt.h) and exact resume. */
#ifndef ND_MODELS_LFADS_TRAIN_H
#define ND_MODELS_LFADS_TRAIN_H
#include <signal.h>
#include <stdio.h>
#include "lfads_ckpt.h"

typedef struct {
    const char *run_dir;  /* created if missing */
    int threads;          /* OpenMP + BLAS threads */
    int resume;           /* continue from run_dir/last.ckpt */
    int max_epochs;       /* >= 0 overrides cfg.max_epochs (also on resume); -1 keeps it */
    FILE *progress;       /* one line per epoch; NULL = quiet */
    int new_hparams;      /* with resume: go on with cfg's hyperparameters instead of the checkpoint's (same
                             architecture required) and restart the learning rate at cfg->lr_init; used by the
                             PBT search at the start of each generation */
    int force;            /* without resume: delete the run files already in run_dir (else such a directory is an
                             error: a new run never leaves an old best.ckpt behind). With resume and no checkpoint to
                             resume, the run files left are always deleted. */
    volatile sig_atomic_t *stop; /* NULL, or a flag (set by a signal handler): when it is non-zero at the end of an
                             epoch, training stops there after writing last.ckpt (and best.ckpt), as a run with
                             max_epochs = that epoch would; res->interrupted = 1. --resume continues it exactly. */
    /* called after every epoch once its checkpoints are written (epochs done, max_epochs, smoothed valid recon);
     * non-zero stops training: ND_INTERRUPTED, the run resumable exactly. NULL: none. */
    int (*on_epoch)(void *user, int epoch, int max_epochs, double valid_recon);
    void *on_epoch_user;
} nd_train_opts;

typedef struct {
    int epochs_run;        /* epochs completed in total (including before a resume) */
    int best_epoch;        /* -1 if no best checkpoint yet (ramps not finished) */
    double best_valid_recon; /* smoothed valid reconstruction NLL per trial at the best epoch */
    double seconds;
    char stop_reason[128];
    int interrupted;       /* stopped by o->stop (resume to go on) */
} nd_train_result;

nd_status nd_lfads_train(const nd_lfads_data *d, const nd_lfads_config *cfg, const nd_train_opts *o,
                         nd_train_result *res, nd_error *err);

/* One model stitched across S sessions (d[0..S-1]): shared encoders, generator and factors, a read-in and read-out
 * per session (different neuron counts allowed; bins and external inputs must agree). S = 1 is nd_lfads_train. */
nd_status nd_lfads_train_sessions(const nd_lfads_data *d, int S, const nd_lfads_config *cfg, const nd_train_opts *o,
                                  nd_train_result *res, nd_error *err);

double nd_lfads_ramp(int epoch, int start, int increase);

#endif
