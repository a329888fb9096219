#include "status.h"
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

nd_status nd_fail(nd_error *err, nd_status code, const char *fmt, ...) {
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
        /* keep it one line */
        for (char *p = err->msg; *p; p++)
            if (*p == '\n' || *p == '\r') *p = ' ';
        err->code = code;
    }
    return code;
}

void nd_error_clear(nd_error *err) {
    if (err) { err->code = ND_OK; err->msg[0] = 0; }
}

const char *nd_status_name(nd_status s) {
    switch (s) {
    case ND_OK: return "ok";
    case ND_ERR_ARG: return "bad argument";
    case ND_ERR_IO: return "i/o error";
    case ND_ERR_FORMAT: return "bad format";
    case ND_ERR_NOMEM: return "out of memory";
    case ND_ERR_NUMERIC: return "numerical error";
    case ND_ERR_CHECKPOINT: return "bad checkpoint";
    case ND_ERR_INTERNAL: return "internal error";
    case ND_INTERRUPTED: return "interrupted";
    }
    return "unknown";
}

nd_status nd_fail_prefix(nd_error *err, nd_status code, const char *prefix) {
    if (!err) return code;
    char m[sizeof err->msg];
    memcpy(m, err->msg, sizeof m);
    return nd_fail(err, code, "%s: %s", prefix, m);
}
