#!/bin/sh
# Figures of the long runs (fuzz/run.sh) for fuzz/README.md: one line per harness with a log in
# fuzz/build/long_<harness>.log, and the artifacts classified (fuzz/triage.sh).
#   fuzz/report.sh [-n] [HARNESS...]     (default: every harness with a log; -n: no triage, artifact counts only)
here=$(cd "$(dirname "$0")" && pwd)
. "$here/common.sh"
triage=1
[ "$1" = -n ] && triage=0 && shift
hs=${*:-$(for f in "$FUZZ_BUILD"/long_*.log; do [ -f "$f" ] && basename "$f" .log | sed 's/^long_//'; done)}
printf '| harness | time (s) | execs | execs/s | coverage (cov / ft) | corpus | ours | library-internal |\n'
printf '|---|---|---|---|---|---|---|---|\n'
for h in $hs; do
    log=$FUZZ_BUILD/long_$h.log
    [ -f "$log" ] || continue
    last=$(grep -E '^#[0-9]+: cov' "$log" | tail -1)
    n=$(echo "$last" | sed -E 's/^#([0-9]+):.*/\1/')
    t=$(echo "$last" | sed -E 's/.* time: ([0-9]+)s.*/\1/')
    cov=$(echo "$last" | sed -E 's/.* cov: ([0-9]+) ft: ([0-9]+).*/\1 \/ \2/')
    corp=$(echo "$last" | sed -E 's/.* corp: ([0-9]+).*/\1/')
    ours=0 lib=0 gone=0
    if [ $triage = 0 ]; then
        ours="-"; lib="$(ls "$FUZZ_BUILD/art/$h" 2>/dev/null | wc -l) artifacts"
    elif [ -d "$FUZZ_BUILD/art/$h" ] && [ -n "$(ls "$FUZZ_BUILD/art/$h")" ]; then
        tri=$(sh "$here/triage.sh" "$h" "$FUZZ_BUILD/art/$h"/*)
        ours=$(echo "$tri" | grep -c ': ours')
        lib=$(echo "$tri" | grep -cE ': (hdf5|matio)')
        echo "$tri" | sed "s/^/    $h: /" >&2
    fi
    printf '| %s | %s | %s | %s | %s | %s | %s | %s |\n' "$h" "$t" "$n" "$((n / (t > 0 ? t : 1)))" "$cov" "$corp" "$ours" "$lib"
done
