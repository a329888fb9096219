/* Fault injection for the reliability tests (docs/reliability.md).
 * nd_fault_hit(NAME) returns 1 when the environment variable NAME is "k" and this is the
 * k-th call with that NAME in this process, or "k+" and this is the k-th call or a later one.
 * Without the variable it returns 0 at the cost of one getenv. The per-name call counters are
 * the library's only process-wide mutable state; they exist for tests only. */
#ifndef ND_CORE_FAULT_H
#define ND_CORE_FAULT_H

int nd_fault_hit(const char *name);

#endif
