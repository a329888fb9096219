/* Progress lines that update in place. On a terminal an update rewrites the line with '\r'; into a pipe or a
 * file (logs, CI) the intermediate updates are left out, so a log holds each finished line once and no '\r'. */
#ifndef ND_CORE_PROGRESS_H
#define ND_CORE_PROGRESS_H
#include <stdio.h>

/* 1 when f is a terminal (updates may use '\r'), else 0; 0 for NULL */
int nd_progress_tty(FILE *f);

/* seconds on the monotonic clock, for elapsed times and rates in progress lines */
double nd_now_seconds(void);

#endif
