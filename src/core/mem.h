/* Aligned allocation (64 bytes, one cache line / AVX-512 vector). */
#ifndef ND_CORE_MEM_H
#define ND_CORE_MEM_H
#include <stddef.h>
#include "status.h"

void *nd_alloc(size_t bytes);            /* zeroed; NULL on failure */
void nd_free(void *p);
/* allocate or fail with a message naming what */
nd_status nd_alloc_or_fail(void **out, size_t bytes, const char *what, nd_error *err);
#define ND_ALLOC(ptr, n, what, err) nd_alloc_or_fail((void **)&(ptr), (size_t)(n) * sizeof *(ptr), what, err)

#endif
