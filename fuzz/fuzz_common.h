/* Shared helpers for the libFuzzer harnesses (fuzz/fuzz_*.c).
 *
 * The readers under test take a path (and the HDF5 ones open the file many times, through
 * H5Fopen with the default property list), so the input cannot be routed through an HDF5 file
 * image without changing src/: each input is written to one per-process file on tmpfs
 * (/dev/shm, else $TMPDIR, else /tmp), overwritten on every input and removed at exit.
 *
 * A harness reports a bug by abort()ing with a line starting "FUZZ-INVARIANT:" (libFuzzer saves
 * the input as a crash). Checks done here, after every input:
 *   - HDF5 harnesses: no HDF5 object (file, dataset, dataspace, type, attribute, group) is left
 *     open by our code (H5Fget_obj_count over all files == 0);
 *   - every returned array is read end to end (ASan catches an array shorter than its dims);
 *   - an error leaves a non-empty, NUL-terminated one-line message. */
#ifndef ND_FUZZ_COMMON_H
#define ND_FUZZ_COMMON_H
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "core/status.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* A failed allocation returns NULL, as malloc does (the readers must handle it), instead of ASan
 * aborting on sizes over its 1 TB maximum; a single allocation over libFuzzer's -malloc_limit_mb
 * (default: -rss_limit_mb, 2048) is still reported as an out-of-memory bug. */
const char *__asan_default_options(void);
const char *__asan_default_options(void) { return "allocator_may_return_null=1"; }

/* neurodyn's own cap on arrays sized by a file (nd_alloc_limit, 8 GiB by default) is lowered
 * below -malloc_limit_mb, so that refusing a large declared size is what the fuzzer sees (unless
 * the run sets ND_MAX_ALLOC_MB itself) */
__attribute__((constructor)) static void nd_fuzz_alloc_limit(void) { setenv("ND_MAX_ALLOC_MB", "1024", 0); }

static char nd_fuzz_path_buf[512];

static void nd_fuzz_cleanup(void) {
    if (!nd_fuzz_path_buf[0]) return;
    char p[600];
    unlink(nd_fuzz_path_buf);
    snprintf(p, sizeof p, "%s.lfads", nd_fuzz_path_buf); /* binned_check.h's converted file */
    unlink(p);
    snprintf(p, sizeof p, "%s.lfads.tmp", nd_fuzz_path_buf);
    unlink(p);
}

/* A crashed harness leaves its file behind (atexit does not run): remove ndfuzz-<pid>* files
 * of processes that no longer exist. */
static void nd_fuzz_sweep(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strncmp(e->d_name, "ndfuzz-", 7) != 0) continue;
        char *end;
        long pid = strtol(e->d_name + 7, &end, 10);
        if (end == e->d_name + 7 || pid <= 0 || pid == (long)getpid()) continue;
        if (kill((pid_t)pid, 0) == 0 || errno != ESRCH) continue;
        char p[1024];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        unlink(p);
    }
    closedir(d);
}

/* The per-process temp file path (suffix e.g. ".h5"), created on first use. */
static const char *nd_fuzz_path(const char *suffix) {
    if (!nd_fuzz_path_buf[0]) {
        const char *dir = "/dev/shm";
        if (access(dir, W_OK) != 0) dir = getenv("TMPDIR");
        if (!dir || access(dir, W_OK) != 0) dir = "/tmp";
        snprintf(nd_fuzz_path_buf, sizeof nd_fuzz_path_buf, "%s/ndfuzz-%ld%s", dir, (long)getpid(), suffix);
        nd_fuzz_sweep(dir);
        atexit(nd_fuzz_cleanup);
    }
    return nd_fuzz_path_buf;
}

/* Write the input to path; 0 on success. */
static int nd_fuzz_write(const char *path, const void *data, size_t size) {
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0) { perror(path); abort(); }
    const unsigned char *p = data;
    while (size) {
        ssize_t w = write(fd, p, size);
        if (w <= 0) { perror(path); abort(); }
        p += w;
        size -= (size_t)w;
    }
    close(fd);
    return 0;
}

__attribute__((noreturn, format(printf, 1, 2))) static void nd_fuzz_bug(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "FUZZ-INVARIANT: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    abort();
}

/* ND_FUZZ_VERBOSE=1 in the environment prints every reader's result (for reproducing by hand). */
static void nd_fuzz_report(const char *what, nd_status st, const nd_error *err) {
    static int verbose = -1;
    if (verbose < 0) verbose = getenv("ND_FUZZ_VERBOSE") && *getenv("ND_FUZZ_VERBOSE") == '1';
    if (verbose) fprintf(stderr, "%s: %s%s%s\n", what, st ? "error: " : "ok", st ? err->msg : "", "");
}

/* A failed call must leave a one-line message (and the status it returned). */
static void nd_fuzz_check_error(nd_status st, const nd_error *err, const char *what) {
    nd_fuzz_report(what, st, err);
    if (err->code != st) nd_fuzz_bug("%s: returned %d but err.code = %d", what, (int)st, (int)err->code);
    size_t n = strnlen(err->msg, sizeof err->msg);
    if (n == 0 || n == sizeof err->msg) nd_fuzz_bug("%s: empty or unterminated error message", what);
    if (memchr(err->msg, '\n', n)) nd_fuzz_bug("%s: error message has a newline: %s", what, err->msg);
}

/* Read every element (ASan reports an array shorter than claimed); returns a checksum. */
static volatile double nd_fuzz_sink;
static void nd_fuzz_touch(const void *p, size_t bytes) {
    const volatile unsigned char *b = p;
    unsigned s = 0;
    for (size_t i = 0; i < bytes; i++) s += b[i];
    nd_fuzz_sink += s;
}

#ifdef ND_FUZZ_HDF5
#include <hdf5.h>
/* libhdf5 / libmatio are not instrumented; they leak on some corrupt inputs (README, "HDF5-internal").
 * Leaks whose allocation stack passes through libhdf5 are suppressed: our own allocations
 * (nd_alloc / malloc in src/) never have a libhdf5 frame, so they are still reported; a handle
 * our code forgets to close is caught by nd_fuzz_h5_check_closed instead. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void) { return "leak:libhdf5\nleak:libmatio\n"; }

/* src/io/h5.h promises that HDF5's own error stack is never printed: every call into HDF5 runs
 * with automatic printing off. The harness installs a handler that turns a print into a bug. */
static herr_t nd_fuzz_h5_printed(hid_t estack, void *data) {
    (void)data;
    H5Eprint2(estack, stderr);
    nd_fuzz_bug("HDF5 printed its error stack (a call into HDF5 outside the quiet sections of src/io/h5.c)");
}

static void nd_fuzz_h5_init(void) {
    H5open();
    H5Eset_auto2(H5E_DEFAULT, nd_fuzz_h5_printed, NULL);
}

/* libmatio reads v7.3 files through HDF5 itself and can leave ids open on corrupt files
 * (libmatio-internal, see README): close whatever is left and say so once, so that the leak does
 * not pile up over the run. Returns the number closed. */
static ssize_t nd_fuzz_h5_close_leftovers(const char *who) {
    ssize_t n = H5Fget_obj_count((hid_t)H5F_OBJ_ALL, H5F_OBJ_ALL);
    if (n <= 0) return 0;
    hid_t *ids = calloc((size_t)n, sizeof *ids);
    if (!ids) return 0;
    n = H5Fget_obj_ids((hid_t)H5F_OBJ_ALL, H5F_OBJ_ALL, (size_t)n, ids);
    for (ssize_t i = 0; i < n; i++) {
        switch (H5Iget_type(ids[i])) {
        case H5I_DATASET: H5Dclose(ids[i]); break;
        case H5I_GROUP: H5Gclose(ids[i]); break;
        case H5I_DATATYPE: H5Tclose(ids[i]); break;
        case H5I_ATTR: H5Aclose(ids[i]); break;
        case H5I_FILE: H5Fclose(ids[i]); break;
        default: break;
        }
    }
    free(ids);
    static int said;
    if (!said++) fprintf(stderr, "fuzz: %s left %zd HDF5 object(s) open (library-internal); closed them\n", who, n);
    return n;
}

/* No HDF5 object (file, group, dataset, named datatype, attribute) may stay open after a reader
 * returns (dataspaces and transient types cannot be counted through the public API). */
static void nd_fuzz_h5_check_closed(const char *what) {
    ssize_t n = H5Fget_obj_count((hid_t)H5F_OBJ_ALL, H5F_OBJ_ALL);
    if (n != 0) {
        ssize_t nf = H5Fget_obj_count((hid_t)H5F_OBJ_ALL, H5F_OBJ_FILE);
        ssize_t nd = H5Fget_obj_count((hid_t)H5F_OBJ_ALL, H5F_OBJ_DATASET);
        ssize_t ng = H5Fget_obj_count((hid_t)H5F_OBJ_ALL, H5F_OBJ_GROUP);
        ssize_t na = H5Fget_obj_count((hid_t)H5F_OBJ_ALL, H5F_OBJ_ATTR);
        nd_fuzz_bug("%s: %zd HDF5 objects left open (files %zd, datasets %zd, groups %zd, attributes %zd)", what, n,
                    nf, nd, ng, na);
    }
}
#endif

#endif
