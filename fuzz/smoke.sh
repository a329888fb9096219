#!/bin/sh
# Fuzz smoke run for `make test` (prints ok/FAIL/skip lines and "RESULT <passed> <failed> <skipped>",
# the format tests/run.sh totals).
#   1. builds the harnesses (make -C fuzz; cached in fuzz/build/, only changed sources recompile);
#   2. replays every saved reproducer in fuzz/crashes/<harness>/ (regressions: each must run clean
#      once its bug is fixed; fuzz/crashes/hdf5/ holds libhdf5-internal ones and is not replayed);
#   3. fuzzes each harness from its corpus with a fixed seed (-seed=1) for a fixed number of runs
#      or a few seconds, whichever ends first (new inputs go to a temporary directory, never into
#      fuzz/corpus; a crash is copied to fuzz/build/smoke-artifacts/). A fault inside libhdf5 /
#      libmatio themselves (fuzz_classify in common.sh) ends that harness's run with an "ok" line
#      naming it: not a neurodyn bug (see fuzz/README.md, "library-internal faults").
# Without clang + libFuzzer, or with FUZZ_SMOKE=skip (make asan), it prints one skip line and RESULT 0 0 1.
# FUZZ_SMOKE_SECONDS (default: 40 / number of harnesses, at most 5) sets the time per harness.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/common.sh"

if [ "${FUZZ_SMOKE:-}" = skip ]; then
    echo "skip fuzz smoke: FUZZ_SMOKE=skip (make asan: the harnesses are sanitizer builds already run by make test)"
    echo "RESULT 0 0 1"
    exit 0
fi
if ! fuzz_toolchain_ok; then
    echo "skip fuzz smoke: clang with libFuzzer + ASan/UBSan not found (Debian: apt-get install clang libclang-rt-14-dev libomp-dev)"
    echo "RESULT 0 0 1"
    exit 0
fi

passed=0 failed=0
ok() { echo "ok   $1"; passed=$((passed + 1)); }
fail() { echo "FAIL $1"; failed=$((failed + 1)); }

blog=$FUZZ_BUILD/smoke-build.log
mkdir -p "$FUZZ_BUILD"
if ! make -C "$here" -s -j2 all >"$blog" 2>&1; then
    tail -20 "$blog"
    fail "fuzz build (log: $blog)"
    echo "RESULT $passed $failed 0"
    exit 1
fi

hs=$(fuzz_harnesses)
n=$(echo "$hs" | wc -w)
secs=${FUZZ_SMOKE_SECONDS:-$((40 / (n > 0 ? n : 1)))}
[ "$secs" -gt 5 ] && [ -z "$FUZZ_SMOKE_SECONDS" ] && secs=5
[ "$secs" -lt 1 ] && secs=1
tmp=$(mktemp -d "${TMPDIR:-/tmp}/ndfuzzsmoke.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

for h in $hs; do
    bin=$FUZZ_BUILD/$h
    # regressions: saved reproducers of fixed bugs must run clean
    if [ -d "$here/crashes/$h" ] && [ -n "$(ls -A "$here/crashes/$h" 2>/dev/null)" ]; then
        bad=""
        for r in "$here/crashes/$h"/*; do
            [ -f "$r" ] || continue
            if ! timeout 60 "$bin" -runs=1 "$r" >"$tmp/repro.log" 2>&1; then
                bad="$bad $(basename "$r")"
                grep -E "ERROR|FUZZ-INVARIANT|SUMMARY|runtime error" "$tmp/repro.log" | head -3 | sed 's/^/    /'
            fi
        done
        if [ -n "$bad" ]; then fail "$h reproducers in fuzz/crashes/$h:$bad"; else ok "$h reproducers"; fi
    fi
    # short fuzzing run from the corpus
    mkdir -p "$tmp/$h"
    dict=$(fuzz_dict "$h")
    timeout $((secs + 30)) "$bin" -seed=1 -runs="$(fuzz_smoke_runs "$h")" -max_total_time="$secs" -timeout=5 -rss_limit_mb=2048 -print_final_stats=1 \
        ${dict:+-dict="$dict"} -artifact_prefix="$tmp/$h/" "$tmp/$h" "$here/corpus/$h" >"$tmp/$h.log" 2>&1
    rc=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$tmp/$h.log" | tail -1)
    if [ $rc -eq 0 ]; then
        ok "$h (${execs:-?} execs, seed 1, limit ${secs}s)"
        continue
    fi
    saved=""
    mkdir -p "$FUZZ_BUILD/smoke-artifacts"
    for a in "$tmp/$h"/crash-* "$tmp/$h"/leak-* "$tmp/$h"/oom-* "$tmp/$h"/timeout-*; do
        [ -f "$a" ] || continue
        saved="$FUZZ_BUILD/smoke-artifacts/$h-$(basename "$a")"
        cp "$a" "$saved"
    done
    cls=$(fuzz_classify "$tmp/$h.log")
    # a per-input timeout on a loaded machine is not a hang: replayed alone without libFuzzer's 5 s limit, an
    # input that finishes within 60 s is reported, not counted (a real hang still fails)
    to=$(ls "$tmp/$h"/timeout-* 2>/dev/null | head -1)
    if [ -n "$to" ] && ! ls "$tmp/$h"/crash-* "$tmp/$h"/leak-* "$tmp/$h"/oom-* >/dev/null 2>&1; then
        t0=$(date +%s)
        if timeout 60 "$bin" -runs=1 "$to" >"$tmp/replay.log" 2>&1; then
            ok "$h (${execs:-?} execs; one input passed libFuzzer's 5 s limit under load (load $(cut -d' ' -f1 /proc/loadavg)), but finished in $(( $(date +%s) - t0 )) s when replayed alone: ${saved:-no copy})"
            continue
        fi
    fi
    case $cls in
    hdf5* | matio*)
        # a fault inside the (uninstrumented) library itself: reported, not counted as ours
        ok "$h (${execs:-?} execs; stopped on a lib${cls%% *}-internal fault: ${cls#* }${saved:+, input $saved})" ;;
    *)
        grep -E "ERROR|FUZZ-INVARIANT|SUMMARY|runtime error" "$tmp/$h.log" | head -4 | sed 's/^/    /'
        fail "$h: ${cls#ours }${saved:+; input saved as $saved}" ;;
    esac
done
echo "RESULT $passed $failed 0"
[ "$failed" -eq 0 ]
