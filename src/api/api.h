/* The public API's handles (include/neurodyn.h) over the internal layers. src/api is the top library layer:
 * it may include any lower layer and nothing below includes it. */
#ifndef ND_API_API_H
#define ND_API_API_H
#include "../../include/neurodyn.h"
#include "../core/status.h"
#include "../io/lfads_data.h"
#include "../models/baseline.h"
#include "../models/lfads.h"
#include "../models/lfads_config.h"
#include "../models/lfads_infer.h"
#include "../models/synth.h"

/* definitions of public functions: exported from libneurodyn.so (everything else is built hidden) */
#define ND_API __attribute__((visibility("default")))

struct nd_context {
    nd_error err;
    int threads;  /* 0 = all cores */
    int progress;
    nd_progress_fn progress_fn; /* nd_set_progress_callback */
    void *progress_user;
};

struct nd_data {
    nd_lfads_data own;     /* read from a file */
    nd_synth *synth;       /* or simulated (its data member) */
    double split_seed, valid_fraction;
    double bin_ms;         /* nd_data_from_arrays (0: unknown) */
};

struct nd_train_options {
    nd_lfads_config cfg;
    int max_epochs_set;    /* max_epochs was set: it also extends a resumed run (as --max-epochs) */
};

struct nd_model {
    nd_lfads_model m;
    int E;                 /* external input dims */
    char ckpt[4096];
};

typedef enum { API_OUT_LFADS = 1, API_OUT_BASELINE = 2 } api_out_kind;
struct nd_outputs {
    api_out_kind kind;
    nd_lfads_infer_out lf;
    nd_baseline_result bl;
    nd_baseline_opts bo;
    nd_lfads_data meta;    /* of the data they came from: sizes, path, own copies of the *_inds */
    double split_seed, valid_fraction;
};

/* start a call: ND_ERR_ARG if ctx is NULL, else clears its error */
nd_status api_begin(nd_context *ctx);
/* end a call: records st (and keeps the message filled by the callee) */
nd_status api_end(nd_context *ctx, nd_status st);
/* fail with a formatted message */
nd_status api_fail(nd_context *ctx, nd_status code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* the thread count to use (ctx->threads, or all cores) */
int api_threads(const nd_context *ctx);
/* the dataset behind a data handle */
const nd_lfads_data *api_lfd(const nd_data *data);

/* nd_eval's metrics on given rates ([trials][Tr][Nr] of the data's splits): valid_rates NULL leaves the valid
 * trials out, test_rates (used when the data hold the test targets) adds the test trials; train_rates (for vel_r2)
 * may be NULL. Does not begin or end the call (the caller does). */
nd_status api_eval_rates(nd_context *ctx, const nd_data *data, const float *train_rates, const float *valid_rates,
                         const float *test_rates, const nd_eval_options *opts, nd_metrics *metrics);

#endif
