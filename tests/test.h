/* Minimal test harness: each test binary runs named test functions; a test passes
 * when none of its CHECKs failed. The binary prints one "ok"/"FAIL" line per test
 * and a closing "RESULT <passed> <failed> <skipped>" line that tests/run.sh totals. */
#ifndef ND_TEST_H
#define ND_TEST_H
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>

typedef struct { int failed_checks, skipped; char skip_reason[256]; } nd_test_ctx;
static int nd_tests_passed, nd_tests_failed, nd_tests_skipped;

#define CHECK(ctx, cond, ...)                                                                          \
    do {                                                                                               \
        if (!(cond)) {                                                                                 \
            (ctx)->failed_checks++;                                                                    \
            printf("    check failed %s:%d: %s: ", __FILE__, __LINE__, #cond);                        \
            printf(__VA_ARGS__);                                                                       \
            printf("\n");                                                                              \
        }                                                                                              \
    } while (0)

#define SKIP(ctx, ...)                                                                                 \
    do {                                                                                               \
        (ctx)->skipped = 1;                                                                            \
        snprintf((ctx)->skip_reason, sizeof (ctx)->skip_reason, __VA_ARGS__);                          \
        return;                                                                                        \
    } while (0)

#define RUN(fn)                                                                                        \
    do {                                                                                               \
        nd_test_ctx c_ = {0, 0, {0}};                                                                  \
        fflush(stdout);                                                                                \
        fn(&c_);                                                                                       \
        if (c_.skipped) { nd_tests_skipped++; printf("skip %s: %s\n", #fn, c_.skip_reason); }          \
        else if (c_.failed_checks) { nd_tests_failed++; printf("FAIL %s\n", #fn); }                    \
        else { nd_tests_passed++; printf("ok   %s\n", #fn); }                                          \
        fflush(stdout);                                                                                \
    } while (0)

#define TEST_MAIN_END()                                                                                \
    do {                                                                                               \
        printf("RESULT %d %d %d\n", nd_tests_passed, nd_tests_failed, nd_tests_skipped);               \
        return nd_tests_failed ? 1 : 0;                                                                \
    } while (0)

/* A scratch directory for tests that write files: /tmp/<prefix>XXXXXX (prefix starting "nd_"), made by
 * nd_test_scratch and removed with its contents by nd_test_scratch_remove, unless ND_TEST_KEEP is set (to look
 * at the files). */
static inline int nd_test_scratch(char *dir, size_t cap, const char *prefix) {
    snprintf(dir, cap, "/tmp/%sXXXXXX", prefix);
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 0;
    }
    return 1;
}

static inline void nd_test_scratch_remove(const char *dir) {
    if (!dir[0] || getenv("ND_TEST_KEEP") || strncmp(dir, "/tmp/nd_", 8) != 0) return; /* only our own */
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
}

#endif
