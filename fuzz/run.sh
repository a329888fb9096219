#!/bin/sh
# Long fuzzing runs and crash reproduction (see fuzz/README.md).
#   fuzz/run.sh HARNESS [SECONDS]      fuzz for SECONDS (default 600) on one core, in libFuzzer's fork
#                                      mode: a crash, leak, OOM or timeout is saved under
#                                      fuzz/build/art/HARNESS/ and fuzzing goes on. New inputs go to
#                                      fuzz/build/work/HARNESS (the committed corpus is read, not written).
#   fuzz/run.sh --merge HARNESS        add to fuzz/corpus/HARNESS the inputs of fuzz/build/work/HARNESS
#                                      that bring new coverage (libFuzzer -merge=1, smallest first), then
#                                      drop the largest merged inputs beyond FUZZ_CORPUS_BUDGET bytes
#   fuzz/run.sh --repro HARNESS FILE   run one input with full stacks and the readers' messages
#   fuzz/run.sh --min HARNESS FILE     minimise a crashing input (-minimize_crash=1, 60 s)
# Huge allocations return NULL as they would from malloc (ASAN_OPTIONS=allocator_may_return_null=1);
# a single allocation over 2 GB is still reported (libFuzzer -malloc_limit_mb, saved as oom-*).
here=$(cd "$(dirname "$0")" && pwd)
. "$here/common.sh"
export ASAN_OPTIONS="${ASAN_OPTIONS:-allocator_may_return_null=1}"

case $1 in
--merge)
    h=$2
    make -C "$here" -s "$FUZZ_BUILD/$h" || exit 1
    mkdir -p "$here/corpus/$h" "$FUZZ_BUILD/work/$h"
    mkdir -p "$FUZZ_BUILD/art/$h"
    (cd "$FUZZ_BUILD" && "$FUZZ_BUILD/$h" -merge=1 -rss_limit_mb=2048 -timeout=10 -artifact_prefix="$FUZZ_BUILD/art/$h/" \
        "$here/corpus/$h" "$FUZZ_BUILD/work/$h")
    # keep the repository small: drop the largest merged (non-seed) inputs until the harness's
    # corpus fits FUZZ_CORPUS_BUDGET bytes (default 180000; 10 harnesses stay under 2 MB)
    budget=${FUZZ_CORPUS_BUDGET:-180000}
    total=$(find "$here/corpus/$h" -type f -printf '%s\n' | awk '{s += $1} END {print s + 0}')
    find "$here/corpus/$h" -type f ! -name 'seed-*' -printf '%s %p\n' | sort -rn | while read -r sz f; do
        [ "$total" -le "$budget" ] && break
        rm -f "$f"
        total=$((total - sz))
    done
    echo "corpus/$h: $(ls "$here/corpus/$h" | wc -l) files, $(find "$here/corpus/$h" -type f -printf '%s\n' | awk '{s += $1} END {print s + 0}') bytes"
    ;;
--repro)
    h=$2 f=$3
    make -C "$here" -s "$FUZZ_BUILD/$h" || exit 1
    ND_FUZZ_VERBOSE=1 ASAN_OPTIONS="fast_unwind_on_malloc=0:malloc_context_size=60:$ASAN_OPTIONS" \
        "$FUZZ_BUILD/$h" -runs=1 -rss_limit_mb=2048 "$f"
    ;;
--min)
    h=$2 f=$3
    make -C "$here" -s "$FUZZ_BUILD/$h" || exit 1
    mkdir -p "$FUZZ_BUILD/min"
    f=$(cd "$(dirname "$f")" && pwd)/$(basename "$f")
    (cd "$FUZZ_BUILD" && "$FUZZ_BUILD/$h" -minimize_crash=1 -max_total_time=60 -rss_limit_mb=2048 \
        -exact_artifact_path="$FUZZ_BUILD/min/$(basename "$f").min" "$f")
    echo "minimised: $FUZZ_BUILD/min/$(basename "$f").min"
    ;;
*)
    h=${1:?usage: fuzz/run.sh HARNESS [SECONDS] | --merge HARNESS | --repro HARNESS FILE | --min HARNESS FILE}
    t=${2:-600}
    make -C "$here" -s -j2 "$FUZZ_BUILD/$h" || exit 1
    mkdir -p "$FUZZ_BUILD/work/$h" "$FUZZ_BUILD/art/$h"
    dict=$(fuzz_dict "$h")
    log=$FUZZ_BUILD/long_$h.log
    echo "fuzzing $h for ${t}s (log: $log, artifacts: $FUZZ_BUILD/art/$h/)"
    cd "$FUZZ_BUILD" || exit 1 # libFuzzer writes fuzz-N.log files into the current directory
    "$FUZZ_BUILD/$h" -fork=1 -ignore_crashes=1 -ignore_ooms=1 -ignore_timeouts=1 -max_total_time="$t" \
        -timeout=10 -rss_limit_mb=2048 ${dict:+-dict="$dict"} -artifact_prefix="$FUZZ_BUILD/art/$h/" \
        "$FUZZ_BUILD/work/$h" "$here/corpus/$h" >"$log" 2>&1
    grep -E '^#[0-9]+: cov' "$log" | tail -1
    echo "artifacts: $(ls "$FUZZ_BUILD/art/$h" | wc -l) (crash/leak/oom/timeout files in $FUZZ_BUILD/art/$h/)"
    ;;
esac
