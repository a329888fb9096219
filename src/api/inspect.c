/* nd_inspect: the report of `neurodyn inspect` (src/io/inspect.c) behind an opaque handle. */
#include "api.h"
#include "../io/inspect.h"
#include <stdlib.h>
#include <string.h>

struct nd_inspection {
    nd_inspect_report r;
    char *json; /* cJSON_Print of r.root */
};

ND_API void nd_inspect_options_default(nd_inspect_options *opts) {
    if (opts) memset(opts, 0, sizeof *opts);
}

ND_API nd_status nd_inspect(nd_context *ctx, const char *path, const nd_inspect_options *opts, nd_inspection **out) {
    if (api_begin(ctx)) return ND_ERR_ARG;
    if (!out) return api_end(ctx, api_fail(ctx, ND_ERR_ARG, "nd_inspect: out is NULL"));
    *out = NULL;
    if (!path) return api_end(ctx, api_fail(ctx, ND_ERR_ARG, "nd_inspect: path is NULL"));
    nd_inspect_options o;
    nd_inspect_options_default(&o);
    if (opts) o = *opts;
    if (!(o.bin_ms >= 0) || o.bin_ms > 1e12)
        return api_end(ctx, api_fail(ctx, ND_ERR_ARG, "nd_inspect: bin_ms %g: must be > 0, or 0 for unknown", o.bin_ms));
    nd_inspection *x = calloc(1, sizeof *x);
    if (!x) return api_end(ctx, api_fail(ctx, ND_ERR_NOMEM, "nd_inspect: out of memory"));
    nd_status st = nd_inspect_file(path, o.group, o.bin_ms, &x->r, &ctx->err);
    if (st) {
        free(x);
        return api_end(ctx, st);
    }
    x->json = cJSON_Print(x->r.root);
    *out = x;
    return api_end(ctx, ND_OK);
}

ND_API void nd_inspection_free(nd_inspection *report) {
    if (!report) return;
    nd_inspect_report_free(&report->r);
    free(report->json);
    free(report);
}

ND_API const char *nd_inspection_text(const nd_inspection *report) { return report ? report->r.text : ""; }
ND_API const char *nd_inspection_json(const nd_inspection *report) { return report ? report->json : NULL; }

static const char *item(const cJSON *a, int i) {
    const cJSON *x = i >= 0 ? cJSON_GetArrayItem(a, i) : NULL;
    return x ? x->valuestring : NULL;
}
ND_API int nd_inspection_warnings(const nd_inspection *report) {
    return report ? cJSON_GetArraySize(report->r.warnings) : 0;
}
ND_API const char *nd_inspection_warning(const nd_inspection *report, int i) {
    return report ? item(report->r.warnings, i) : NULL;
}
ND_API int nd_inspection_errors(const nd_inspection *report) {
    return report ? cJSON_GetArraySize(report->r.errors) : 0;
}
ND_API const char *nd_inspection_error(const nd_inspection *report, int i) {
    return report ? item(report->r.errors, i) : NULL;
}
