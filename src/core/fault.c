#include "fault.h"
#include <stdlib.h>
#include <string.h>

#define MAX_FAULTS 16

static struct { const char *name; long calls; } counters[MAX_FAULTS];

int nd_fault_hit(const char *name) {
    const char *v = getenv(name);
    if (!v || !*v) return 0;
    char *end;
    long k = strtol(v, &end, 10);
    int from_k_on = *end == '+';
    int i;
    for (i = 0; i < MAX_FAULTS && counters[i].name; i++)
        if (!strcmp(counters[i].name, name)) break;
    if (i == MAX_FAULTS) return 0;
    if (!counters[i].name) counters[i].name = name;
    long c = ++counters[i].calls;
    return from_k_on ? c >= k : c == k;
}
