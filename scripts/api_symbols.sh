#!/bin/sh
# The functions the public header declares, one per line (the symbols libneurodyn.so exports).
#   scripts/api_symbols.sh include/neurodyn.h          names
#   scripts/api_symbols.sh --map include/neurodyn.h    a linker version script exporting only those
#     (anonymous version node: unversioned symbols, so `nm -D` lists the functions and nothing else)
# A declaration starts at column 0 with its return type and has the name before the '(' on that line.
map=0
[ "$1" = --map ] && { map=1; shift; }
h=${1:-include/neurodyn.h}
names=$(sed -n 's/^[a-z][a-z_ ]*[ *]\(nd_[a-z0-9_]*\)(.*/\1/p' "$h" | sort -u)
[ -n "$names" ] || { echo "api_symbols.sh: $h: no nd_ function declarations found" >&2; exit 1; }
if [ $map -eq 0 ]; then echo "$names"; exit 0; fi
echo "{"
echo "  global:"
for n in $names; do echo "    $n;"; done
echo "  local: *;"
echo "};"
