#include "mem.h"
#include "fault.h"
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <errno.h>

void *nd_alloc(size_t bytes) {
    if (nd_fault_hit("ND_FAULT_ALLOC")) return NULL; /* allocation-failure injection (tests) */
    if (bytes == 0) bytes = 64;
    if (bytes > SIZE_MAX - 64) return NULL; /* rounding up would wrap (found by fuzz_lfads_h5) */
    size_t rounded = (bytes + 63) & ~(size_t)63;
    void *p = aligned_alloc(64, rounded);
    if (p) memset(p, 0, rounded);
    return p;
}

void nd_free(void *p) { free(p); }

size_t nd_alloc_limit(void) {
    const char *v = getenv("ND_MAX_ALLOC_MB");
    if (!v || !*v) return ND_ALLOC_LIMIT_DEFAULT;
    char *end;
    errno = 0;
    unsigned long long mb = strtoull(v, &end, 10);
    if (*end || errno || mb == 0 || v[0] == '-') return ND_ALLOC_LIMIT_DEFAULT;
    if (mb > (unsigned long long)(SIZE_MAX >> 20)) return SIZE_MAX;
    return (size_t)mb << 20;
}

nd_status nd_alloc_or_fail(void **out, size_t bytes, const char *what, nd_error *err) {
    *out = nd_alloc(bytes);
    if (!*out) return nd_fail(err, ND_ERR_NOMEM, "out of memory allocating %zu bytes for %s", bytes, what);
    return ND_OK;
}
