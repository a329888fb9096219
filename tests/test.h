/* Minimal test harness: each test binary runs named test functions; a test passes
 * when none of its CHECKs failed. The binary prints one "ok"/"FAIL" line per test
 * and a closing "RESULT <passed> <failed> <skipped>" line that tests/run.sh totals. */
#ifndef ND_TEST_H
#define ND_TEST_H
#include <stdio.h>
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

#endif
