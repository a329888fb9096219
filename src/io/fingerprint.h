/* Data fingerprints: what a model (or an output file) was made from, so that infer and eval can refuse data that
 * is not that data (issue 16, finding 6). A fingerprint holds the source file's base name, the shapes (trials per
 * split, bins, neurons, external inputs, reconstructed bins and neurons), 64-bit FNV-1a hashes of the held-in and
 * held-out neuron ids (the file's heldin_neurons / heldout_neurons, written by 'neurodyn convert'; 0 = absent), of
 * the split indices ({train,valid,test}_inds, also those of a seeded split) and of the encoder data (train, valid,
 * test). Its text form is one line of key=value words, stored in checkpoints (section "fingerprint", one line per
 * session) and in output files (root attribute "data_fingerprint"). */
#ifndef ND_IO_FINGERPRINT_H
#define ND_IO_FINGERPRINT_H
#include <stddef.h>
#include <stdint.h>
#include "../core/status.h"
#include "h5.h"
#include "lfads_data.h"

typedef struct {
    char file[256]; /* base name of the source file */
    int n_train, n_valid, n_test, T, N, E, Tr, Nr;
    uint64_t heldin, heldout; /* hashes of the neuron ids; 0 when the file has none */
    uint64_t split;           /* hash of the trial indices of every split */
    uint64_t encod;           /* hash of the encoder data of every split */
} nd_data_fp;

#define ND_DATA_FP_ATTR "data_fingerprint"

/* The fingerprint of data read by nd_lfads_data_read (reads the neuron ids from d->path when it names a file). */
nd_status nd_data_fp_of(const nd_lfads_data *d, nd_data_fp *fp, nd_error *err);
/* one line, no newline; returns the length written (truncated at cap like snprintf) */
int nd_data_fp_to_text(const nd_data_fp *fp, char *buf, size_t cap);
/* parse one line (up to a newline or NUL); ND_ERR_FORMAT when malformed */
nd_status nd_data_fp_parse(const char *text, nd_data_fp *fp, nd_error *err);
/* Compare the data fingerprint `have` against the reference `want`. 0 when they match: everything but the file
 * name (the same data under another name is the same data). With allow_mismatch only what the model's shape and
 * neurons depend on must match (bins, neurons, inputs, reconstructed bins and neurons, neuron ids): new trials of
 * the same session pass. Otherwise 1, and `what` lists the differences ("held-out neuron ids, encoder data"). */
int nd_data_fp_differs(const nd_data_fp *want, const nd_data_fp *have, int allow_mismatch, char *what, size_t cap);
/* compute d's fingerprint and write it as the root attribute ND_DATA_FP_ATTR of h */
nd_status nd_data_fp_write_attr(nd_h5file *h, const nd_lfads_data *d, nd_error *err);

#endif
