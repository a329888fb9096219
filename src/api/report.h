/* Internals of nd_report (src/api/report.c: the page, LFADS; src/api/report_runs.c: neuron and learn runs). */
#ifndef ND_API_REPORT_H
#define ND_API_REPORT_H
#include "api.h"
#include <stdio.h>

typedef enum { REP_NONE = 0, REP_LFADS, REP_NEURON, REP_LEARN } rep_kind;

/* which command made the run directory: LFADS (train_log.tsv with train_recon), neuron fit (train_log.tsv with
 * train_bce), learn train (curves.tsv) */
rep_kind rep_detect(const char *run);

/* a tab/space separated table with a header line of column names; numbers (words that are not numbers: NaN) */
typedef struct {
    char **names;
    int ncol, nrow;
    double *v; /* [nrow][ncol] */
} rep_table;
nd_status rep_table_read(const char *path, rep_table *t, nd_error *err);
void rep_table_free(rep_table *t);
int rep_table_col(const rep_table *t, const char *name); /* -1 when absent */
int rep_file_exists(const char *dir, const char *name);
/* a numeric dataset as doubles (read as float: for figures); free with nd_free */
nd_status rep_read_double(const char *path, const char *name, double **x, int *rank, size_t dims[8], nd_error *err);

/* page pieces (text is escaped) */
void rep_esc(FILE *f, const char *s);
void rep_begin(FILE *f, const char *title);
void rep_end(FILE *f);
void rep_h2(FILE *f, const char *s);
void rep_note(FILE *f, const char *s);
void rep_kv_row(FILE *f, const char *k, const char *v);
void rep_fig_begin(FILE *f, int w, int h); /* <figure><svg ...> */
void rep_fig_end(FILE *f, const char *caption); /* </svg><figcaption>...</figcaption></figure> */

nd_status rep_neuron(nd_context *ctx, const char *run, const nd_report_options *opts, FILE *f);
nd_status rep_learn(nd_context *ctx, const char *run, const nd_report_options *opts, FILE *f);
#endif
