/* What a data file holds: the report of `neurodyn inspect` and nd_inspect (src/api/inspect.c). */
#ifndef ND_IO_INSPECT_H
#define ND_IO_INSPECT_H
#include <cjson/cJSON.h>
#include "../core/status.h"

/* neurons firing above this are warned about */
#define ND_INSPECT_HIGH_RATE_HZ 200.0

typedef struct {
    char *text;       /* the report as `neurodyn inspect` prints it: file, format, datasets, summary, warnings, errors */
    cJSON *root;      /* the same as JSON: file, format, datasets, summary, warnings, errors */
    cJSON *warnings;  /* arrays of strings inside root */
    cJSON *errors;    /* what `neurodyn convert` would refuse; empty when the file is usable */
} nd_inspect_report;

/* Describe the data file at path (NWB 2.x, MATLAB v7.3/v5, spike-time triplets under `group` (NULL: spike_times,
 * then /), LFADS or lfads-torch HDF5, any other HDF5). bin_ms > 0: the bin size for rates when the file gives none
 * (0: unknown). Problems found in the file go into the report's errors, not the status: the status fails only when
 * the file's format cannot be told or it cannot be opened (err names the file). Free with nd_inspect_report_free. */
nd_status nd_inspect_file(const char *path, const char *group, double bin_ms, nd_inspect_report *out, nd_error *err);
void nd_inspect_report_free(nd_inspect_report *r);

#endif
