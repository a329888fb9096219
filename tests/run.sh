#!/bin/sh
# Runs every test binary given on the command line, totals their RESULT lines and
# ends with "N passed, N failed[, N skipped]". Exit status 1 on any failure.
# Every test (C binaries, Python, the C example) runs the OpenBLAS kernels the CLI chooses (neurodyn --blas-env),
# so results compared across front ends come from the same matrix-product code.
[ -n "$NEURODYN" ] && [ -x "$NEURODYN" ] && eval "$("$NEURODYN" --blas-env)"
passed=0; failed=0; skipped=0
for t in "$@"; do
    echo "== $(basename "$t")"
    out=$("$t" 2>&1); rc=$?
    echo "$out" | grep -v '^RESULT '
    res=$(echo "$out" | grep '^RESULT ' | tail -1)
    if [ -z "$res" ]; then
        echo "FAIL $(basename "$t"): exited with status $rc before reporting"
        failed=$((failed + 1)); continue
    fi

    p=$(echo "$res" | cut -d' ' -f2); f=$(echo "$res" | cut -d' ' -f3); s=$(echo "$res" | cut -d' ' -f4)
    passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s))
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
        echo "FAIL $(basename "$t"): exit status $rc"; failed=$((failed + 1))
    fi
done
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
