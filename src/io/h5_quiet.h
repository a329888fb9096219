/* Silence HDF5's automatic error-stack printing for the duration of a call, so that users see
 * only neurodyn's one-line messages. Shared by the HDF5 readers and writers of src/io. */
#ifndef ND_IO_H5_QUIET_H
#define ND_IO_H5_QUIET_H
#include <hdf5.h>

typedef struct {
    H5E_auto2_t func;
    void *data;
} nd_h5_quiet;

static inline void nd_h5_quiet_on(nd_h5_quiet *q) {
    q->func = NULL;
    q->data = NULL;
    H5Eget_auto2(H5E_DEFAULT, &q->func, &q->data);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
}
static inline void nd_h5_quiet_off(const nd_h5_quiet *q) { H5Eset_auto2(H5E_DEFAULT, q->func, q->data); }

#endif
