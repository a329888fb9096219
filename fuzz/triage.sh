#!/bin/sh
# Classifies saved fuzzer artifacts (crash-*, leak-*, oom-*, timeout-*): runs each on its harness
# and prints "<artifact>: ours|hdf5|matio <kind> at|in <frame>" (fuzz_classify in common.sh), or
# "no longer reproduces". With -v, also the report of every artifact classified "ours".
# usage: fuzz/triage.sh [-v] HARNESS ARTIFACT...
here=$(cd "$(dirname "$0")" && pwd)
. "$here/common.sh"
verbose=0
[ "$1" = -v ] && verbose=1 && shift
h=$1; shift
tmp=$(mktemp "${TMPDIR:-/tmp}/ndtriage.XXXXXX")
trap 'rm -f "$tmp"' EXIT
for a in "$@"; do
    ASAN_OPTIONS=fast_unwind_on_malloc=0:malloc_context_size=60:allocator_may_return_null=1 \
        timeout 30 "$FUZZ_BUILD/$h" -runs=1 -timeout=5 -rss_limit_mb=2048 "$a" >"$tmp" 2>&1
    if [ $? -eq 0 ]; then
        echo "$(basename "$a"): no longer reproduces"
        continue
    fi
    c=$(fuzz_classify "$tmp" | sed 's/ (\/lib[^)]*)//')
    case $c in
    *rss-limit*) # find the allocation: any single one over 256 MB is reported with its stack
        ASAN_OPTIONS=allocator_may_return_null=1 timeout 30 "$FUZZ_BUILD/$h" -runs=1 -timeout=5 -malloc_limit_mb=256 \
            -rss_limit_mb=8192 "$a" >"$tmp" 2>&1
        c="$(fuzz_classify "$tmp" | sed 's/ (\/lib[^)]*)//') (rss limit; found with -malloc_limit_mb=256)" ;;
    esac
    echo "$(basename "$a"): $c"
    case $c in
    ours*) [ $verbose = 1 ] && grep -vE "^ +(major|minor)|HDF5-DIAG|^  #[0-9]{3}:|^INFO|^Running|^Executed" "$tmp" | head -40 ;;
    esac
done
