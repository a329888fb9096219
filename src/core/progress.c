#include "progress.h"
#include <time.h>
#include <unistd.h>

int nd_progress_tty(FILE *f) { return f && isatty(fileno(f)); }

double nd_now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
}
