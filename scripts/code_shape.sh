#!/bin/sh
# The shape of the code (issue 15): the longest functions, the longest cmd_*.c files and, when the `duplicates`
# tool is installed, its duplicated-block figure. Run from the repository root (or give it one):
#   scripts/code_shape.sh [ROOT]
# A function is counted from its opening line at column 0 (a name and '(' ... ending in '{') to the next '}' at
# column 0, so lines of a function's body and its comments count, the comment above it does not.
cd "${1:-.}" || exit 1
echo "longest functions (lines, file:line name):"
for f in $(find src -name '*.c' | sort); do
    awk -v f="$f" '
        start == 0 && /^[A-Za-z_].*\(/ && !/;[ \t]*$/ && !/^(typedef|struct|enum|#)/ { cand = NR; name = $0; }
        start == 0 && cand && /\{[ \t]*$/ && (NR - cand) < 6 { start = cand; sub(/\(.*/, "", name); n = split(name, w, /[ *]+/); name = w[n]; }
        start && /^\}/ { print NR - start + 1, f ":" start, name; start = 0; cand = 0; }
    ' "$f"
done | sort -rn | head -${SHAPE_TOP:-5} | sed 's/^/  /'
echo "longest cmd_*.c (lines):"
wc -l src/cli/cmd_*.c | grep -v ' total$' | sort -rn | head -${SHAPE_TOP:-5} | sed 's/^ */  /'
echo "cmd_*.c over 200 lines: $(wc -l src/cli/cmd_*.c | grep -v ' total$' | awk '$1 > 200' | wc -l) of $(ls src/cli/cmd_*.c | wc -l)"
if command -v duplicates >/dev/null 2>&1; then
    echo "duplicates (src/):"
    duplicates --repo src --seconds ${SHAPE_DUP_SECONDS:-120} --most ${SHAPE_TOP:-5} 2>&1 | sed 's/^/  /'
else
    echo "duplicates: tool not installed (skipped)"
fi
