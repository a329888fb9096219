/* Status codes and error reporting. The library never exits: every fallible
 * function returns an nd_status and, on failure, fills an nd_error with one
 * human-readable line naming the file, field and problem. */
#ifndef ND_CORE_STATUS_H
#define ND_CORE_STATUS_H
#include <stddef.h>

/* nd_status (ND_OK, ND_ERR_ARG, ...) is part of the public API: its one definition is in the public header */
#include "../../include/neurodyn.h"

typedef struct {
    nd_status code;
    char msg[1024];
} nd_error;

/* Fill err (if non-NULL) and return code. printf-style message, one line. */
nd_status nd_fail(nd_error *err, nd_status code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* "PREFIX: <err's message>" into err (the message is copied first); returns code */
nd_status nd_fail_prefix(nd_error *err, nd_status code, const char *prefix);
const char *nd_status_name(nd_status s);
void nd_error_clear(nd_error *err);

#endif
