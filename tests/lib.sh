# Shared by the shell suites (cli.sh, recon.sh, trust.sh, neuron.sh, report.sh): ok/FAIL/skip lines and their
# counts for tests/run.sh's RESULT line, and the check that a bad input fails with one clear line. Source it after
# setting T (a scratch directory).
pass=0; fail=0; skip=0
ok() { echo "ok   $1"; pass=$((pass + 1)); }
bad() { echo "FAIL $1"; fail=$((fail + 1)); }
skipped() { echo "skip $1"; skip=$((skip + 1)); }
check() { name=$1; shift; if "$@"; then ok "$name"; else bad "$name"; fi; }
# expect_error NAME PATTERN CMD...: exit 1 or 2, exactly one stderr line, and it matches PATTERN
expect_error() {
    name=$1; pat=$2; shift 2
    "$@" >"$T/out" 2>"$T/err"; rc=$?
    lines=$(wc -l <"$T/err")
    if [ "$rc" -ge 1 ] && [ "$rc" -le 2 ] && [ "$lines" -eq 1 ] && grep -q -- "$pat" "$T/err"; then
        ok "$name"
    else
        bad "$name (exit $rc, stderr: $(head -c 300 "$T/err"))"
    fi
}
