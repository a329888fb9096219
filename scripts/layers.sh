#!/bin/sh
# Checks the layering of the library and CLI sources (README "Layout"): a file never includes a header of a higher
# layer, and no two modules (foo.c + foo.h are one module) depend on each other, directly or through others.
# Layers, lowest first: core < nn < io < models < eval < analysis < api < cli. src/neurodyn_internal.h (for the
# CLI, tests and benchmarks) counts as cli; the public header include/neurodyn.h includes nothing of the tree, so
# every layer may include it (src/core/status.h takes the status codes from it).
# Prints one line per problem and exits 1 if there is any; else "layers: ok (...)"; then a RESULT line for
# tests/run.sh (make test runs it).
cd "$(dirname "$0")/.." || exit 2
edges=$(mktemp) || exit 2
trap 'rm -f "$edges"' EXIT
find src include -name '*.[ch]' | sort | xargs awk -v edges="$edges" '
function rank(p) {
    if (p ~ /^src\/core\// || p == "include/neurodyn.h") return 0
    if (p ~ /^src\/nn\//) return 1
    if (p ~ /^src\/io\//) return 2
    if (p ~ /^src\/models\//) return 3
    if (p ~ /^src\/eval\//) return 4
    if (p ~ /^src\/analysis\//) return 5
    if (p ~ /^src\/api\//) return 6
    if (p ~ /^src\/cli\// || p == "src/neurodyn_internal.h") return 7
    return 9
}
function resolve(dir, inc,    parts, n, i, k, s, out) {
    n = split(dir "/" inc, parts, "/"); k = 0
    for (i = 1; i <= n; i++) {
        if (parts[i] == "..") k--
        else if (parts[i] != "." && parts[i] != "") s[++k] = parts[i]
    }
    out = s[1]; for (i = 2; i <= k; i++) out = out "/" s[i]
    return out
}
function module(p) { sub(/\.[ch]$/, "", p); return p }
/^[ \t]*#[ \t]*include[ \t]*"/ {
    inc = $0; sub(/^[^"]*"/, "", inc); sub(/".*$/, "", inc)
    dir = FILENAME; sub(/\/[^\/]*$/, "", dir)
    p = resolve(dir, inc); n++
    if ((getline line < p) < 0) { print "layers: " FILENAME " includes \"" inc "\", not a file of the tree"; bad = 1; next }
    close(p)
    if (FILENAME == "include/neurodyn.h") { print "layers: include/neurodyn.h includes " p " (it must stand alone)"; bad = 1 }
    if (rank(p) > rank(FILENAME)) { print "layers: " FILENAME " includes " p ", a higher layer"; bad = 1 }
    if (module(FILENAME) != module(p)) print module(FILENAME), module(p) > edges
}
END { printf "%d\n", n > (edges ".n"); exit bad }' || bad=1
n=$(cat "$edges.n" 2>/dev/null); rm -f "$edges.n"
# tsort names the modules of every loop it finds
cyc=$(tsort "$edges" 2>&1 >/dev/null | sed -n 's/^tsort: //p' | grep -v 'input contains a loop')
if [ -n "$cyc" ]; then echo "layers: include cycle between modules:" $cyc; bad=1; fi
[ "${bad:-0}" = 0 ] && echo "layers: ok ($n includes; no upward include, no cycle between modules)"
# the line tests/run.sh totals
if [ "${bad:-0}" = 0 ]; then echo "RESULT 1 0 0"; else echo "RESULT 0 1 0"; fi
exit "${bad:-0}"
