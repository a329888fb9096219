#include "progress.h"
#include <unistd.h>

int nd_progress_tty(FILE *f) { return f && isatty(fileno(f)); }
