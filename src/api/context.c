/* Contexts, errors, version. */
#include "api.h"
#include "../core/blas.h"
#include <omp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef ND_LIB_VERSION
#define ND_LIB_VERSION "0.1.0"
#endif

ND_API const char *nd_version(void) { return ND_LIB_VERSION; }

ND_API const char *nd_blas_core(void) { return nd_blas_corename(); }

ND_API const char *nd_blas_suggested_core(void) { return nd_blas_better_core(); }

ND_API int nd_version_number(void) {
    int a = 0, b = 0, c = 0;
    sscanf(ND_LIB_VERSION, "%d.%d.%d", &a, &b, &c);
    return a * 10000 + b * 100 + c;
}

ND_API const char *nd_status_string(nd_status status) { return nd_status_name(status); }

ND_API nd_status nd_context_create(nd_context **out) {
    if (!out) return ND_ERR_ARG;
    *out = calloc(1, sizeof **out);
    return *out ? ND_OK : ND_ERR_NOMEM;
}

ND_API void nd_context_free(nd_context *ctx) { free(ctx); }

ND_API const char *nd_errmsg(const nd_context *ctx) { return ctx ? ctx->err.msg : "no context (NULL)"; }

ND_API nd_status nd_errcode(const nd_context *ctx) { return ctx ? ctx->err.code : ND_ERR_ARG; }

ND_API nd_status nd_set_threads(nd_context *ctx, int threads) {
    if (api_begin(ctx)) return ND_ERR_ARG;
    if (threads < 0 || threads > 1024)
        return api_fail(ctx, ND_ERR_ARG, "nd_set_threads: %d threads: must be 1..1024, or 0 for all cores", threads);
    ctx->threads = threads;
    return ND_OK;
}

ND_API int nd_get_threads(const nd_context *ctx) { return ctx ? api_threads(ctx) : 1; }

ND_API void nd_set_progress(nd_context *ctx, int on) {
    if (ctx) ctx->progress = on != 0;
}

nd_status api_begin(nd_context *ctx) {
    if (!ctx) return ND_ERR_ARG;
    nd_error_clear(&ctx->err);
    return ND_OK;
}

nd_status api_end(nd_context *ctx, nd_status st) {
    ctx->err.code = st;
    if (st && !ctx->err.msg[0]) snprintf(ctx->err.msg, sizeof ctx->err.msg, "%s", nd_status_name(st));
    if (!st) ctx->err.msg[0] = 0;
    return st;
}

nd_status api_fail(nd_context *ctx, nd_status code, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ctx->err.msg, sizeof ctx->err.msg, fmt, ap);
    va_end(ap);
    ctx->err.code = code;
    return code;
}

int api_threads(const nd_context *ctx) {
    if (ctx->threads > 0) return ctx->threads;
    int n = omp_get_num_procs();
    return n < 1 ? 1 : n > 1024 ? 1024 : n;
}

const nd_lfads_data *api_lfd(const nd_data *data) { return data->synth ? &data->synth->data : &data->own; }
