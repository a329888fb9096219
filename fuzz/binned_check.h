/* Invariants of an nd_binned (src/io/binning.h) returned by the NWB / MAT / triplet readers:
 * sizes are sane, every array is read end to end (ASan: an array shorter than its dims),
 * counts are whole numbers >= 0, behaviour is finite, ids / splits / conditions in range,
 * strings terminated. */
#ifndef ND_FUZZ_BINNED_CHECK_H
#define ND_FUZZ_BINNED_CHECK_H
#include <math.h>
#include "fuzz_common.h"
#include "io/binning.h"

static void nd_fuzz_check_str(const char *s, size_t cap, const char *what) {
    if (strnlen(s, cap) == cap) nd_fuzz_bug("nd_binned.%s not NUL-terminated", what);
}

static void nd_fuzz_check_binned(const nd_binned *b) {
    if (b->n < 1 || b->T < 1 || b->fp < 0 || b->N < 1 || b->B < 0)
        nd_fuzz_bug("nd_binned sizes n %d T %d fp %d N %d B %d", b->n, b->T, b->fp, b->N, b->B);
    size_t n = (size_t)b->n, TB = (size_t)b->T + (size_t)b->fp, N = (size_t)b->N, B = (size_t)b->B;
    if (!b->counts || !b->trial_ids) nd_fuzz_bug("nd_binned: counts %p trial_ids %p", (void *)b->counts, (void *)b->trial_ids);
    for (size_t i = 0; i < n * TB * N; i++)
        if (!(isfinite(b->counts[i]) && b->counts[i] >= 0 && b->counts[i] == floorf(b->counts[i])))
            nd_fuzz_bug("counts[%zu] = %g is not a whole count", i, (double)b->counts[i]);
    if ((B > 0) != (b->behavior != NULL)) nd_fuzz_bug("B = %zu but behavior %p", B, (void *)b->behavior);
    for (size_t i = 0; b->behavior && i < n * (size_t)b->T * B; i++)
        if (!isfinite(b->behavior[i])) nd_fuzz_bug("behavior[%zu] = %g", i, (double)b->behavior[i]);
    for (size_t i = 0; i < n; i++)
        if (b->trial_ids[i] < 0 || (b->n_source_trials > 0 && b->trial_ids[i] >= b->n_source_trials))
            nd_fuzz_bug("trial_ids[%zu] = %d (source trials %d)", i, b->trial_ids[i], b->n_source_trials);
    if (b->n_source_trials < b->n) nd_fuzz_bug("n %d > n_source_trials %d", b->n, b->n_source_trials);
    if (b->condition) {
        if (b->n_conditions < 1 || !b->condition_names) nd_fuzz_bug("condition ids without names");
        for (size_t i = 0; i < n; i++)
            if (b->condition[i] < 0 || b->condition[i] >= b->n_conditions)
                nd_fuzz_bug("condition[%zu] = %d not in [0, %d)", i, b->condition[i], b->n_conditions);
        for (int c = 0; c < b->n_conditions; c++) {
            if (!b->condition_names[c]) nd_fuzz_bug("condition_names[%d] NULL", c);
            nd_fuzz_touch(b->condition_names[c], strlen(b->condition_names[c]));
        }
    }
    if (b->split)
        for (size_t i = 0; i < n; i++)
            if (b->split[i] < 0 || b->split[i] > 2) nd_fuzz_bug("split[%zu] = %d", i, b->split[i]);
    if (b->heldout)
        for (size_t k = 0; k < N; k++)
            if (b->heldout[k] > 1) nd_fuzz_bug("heldout[%zu] = %d", k, b->heldout[k]);
    if (b->unit_ids) nd_fuzz_touch(b->unit_ids, N * sizeof *b->unit_ids);
    if (b->n_warnings < 0 || (b->n_warnings > 0 && !b->warnings)) nd_fuzz_bug("warnings %d %p", b->n_warnings, (void *)b->warnings);
    for (int w = 0; w < b->n_warnings; w++) {
        if (!b->warnings[w]) nd_fuzz_bug("warning %d NULL", w);
        if (strchr(b->warnings[w], '\n')) nd_fuzz_bug("warning %d has a newline: %s", w, b->warnings[w]);
    }
    if (!(b->window_end_ms > b->window_start_ms)) nd_fuzz_bug("window [%g, %g)", b->window_start_ms, b->window_end_ms);
    nd_fuzz_check_str(b->source, sizeof b->source, "source");
    nd_fuzz_check_str(b->format, sizeof b->format, "format");
    nd_fuzz_check_str(b->behavior_name, sizeof b->behavior_name, "behavior_name");
    nd_fuzz_check_str(b->condition_source, sizeof b->condition_source, "condition_source");
    nd_fuzz_check_str(b->split_source, sizeof b->split_source, "split_source");
    nd_fuzz_check_str(b->heldout_source, sizeof b->heldout_source, "heldout_source");
    nd_fuzz_check_str(b->align, sizeof b->align, "align");
}

/* The reader contract: on failure nothing is left to free (b zeroed). */
static void nd_fuzz_check_binned_empty(const nd_binned *b, const char *what) {
    if (b->counts || b->behavior || b->trial_ids || b->condition || b->condition_names || b->split || b->heldout ||
        b->unit_ids || b->warnings)
        nd_fuzz_bug("%s failed but left arrays allocated", what);
}

#ifdef ND_FUZZ_CONVERT
#include "io/convert.h"
#include "io/lfads_data.h"
/* What 'neurodyn convert' does next: assign splits / held-out units, write the lfads-torch file
 * (to a second tmpfs file), then read it back with the LFADS reader: it must load, with the
 * shapes the binned data had. */
static void nd_fuzz_convert_roundtrip(const nd_binned *b, const nd_bin_opts *bo) {
    static char out[600];
    if (!out[0]) {
        snprintf(out, sizeof out, "%s.lfads", nd_fuzz_path(".h5"));
    }
    nd_convert_opts co;
    nd_convert_opts_default(&co);
    co.heldout_fraction = 0.3;
    co.seed = 7;
    nd_assignment a;
    nd_error err = {ND_OK, {0}};
    nd_status st = nd_convert_assign(b, &co, &a, &err);
    if (st) {
        nd_fuzz_check_error(st, &err, "nd_convert_assign");
        nd_assignment_free(&a);
        return;
    }
    if (a.n_heldin + a.n_heldout != b->N || a.n_heldin < 1)
        nd_fuzz_bug("nd_convert_assign: %d held-in + %d held-out units of %d", a.n_heldin, a.n_heldout, b->N);
    if (a.count[0] + a.count[1] + a.count[2] != b->n)
        nd_fuzz_bug("nd_convert_assign: splits %d + %d + %d of %d trials", a.count[0], a.count[1], a.count[2], b->n);
    st = nd_convert_write(b, &a, bo, &co, out, &err);
    if (st) {
        nd_fuzz_check_error(st, &err, "nd_convert_write");
    } else {
        nd_lfads_data d;
        nd_error e2 = {ND_OK, {0}};
        nd_status rs = nd_lfads_data_read(out, 1, 0.2, &d, &e2);
        int must = a.count[0] >= 1 && (a.count[1] >= 1 || a.count[0] >= 2);
        if (rs == ND_OK) {
            if (d.T != b->T || d.N != a.n_heldin || d.Tr != b->T + b->fp || d.Nr != b->N)
                nd_fuzz_bug("converted file reads back as T %d N %d Tr %d Nr %d, binned T %d fp %d N %d (held-in %d)",
                            d.T, d.N, d.Tr, d.Nr, b->T, b->fp, b->N, a.n_heldin);
            nd_lfads_data_free(&d);
        } else if (must) {
            nd_fuzz_bug("the converted file does not read back: %s", e2.msg);
        }
        unlink(out);
    }
    nd_assignment_free(&a);
}
#endif
#endif
