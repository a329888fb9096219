/* Aligned allocation (64 bytes, one cache line / AVX-512 vector). */
#ifndef ND_CORE_MEM_H
#define ND_CORE_MEM_H
#include <stddef.h>
#include "status.h"

void *nd_alloc(size_t bytes);            /* zeroed; NULL on failure */
void nd_free(void *p);
/* allocate or fail with a message naming what */
nd_status nd_alloc_or_fail(void **out, size_t bytes, const char *what, nd_error *err);
/* Largest single array the readers allocate from sizes a file declares (HDF5 datasets, binned
 * spike counts): 8 GiB, or ND_MAX_ALLOC_MB=<MiB> from the environment (a positive integer).
 * Files asking for more are refused with a message naming the size, instead of the process
 * being killed for memory. */
size_t nd_alloc_limit(void);
#define ND_ALLOC_LIMIT_DEFAULT ((size_t)8 << 30)
#define ND_ALLOC(ptr, n, what, err) nd_alloc_or_fail((void **)&(ptr), (size_t)(n) * sizeof *(ptr), what, err)

#endif
