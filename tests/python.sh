#!/bin/sh
# The Python package (python/neurodyn): its pytest suite from the build tree (python/tests: bit-for-bit against the
# CLI, export checked with torch when present), then an installed copy (make install into a temporary PREFIX) used
# from another directory with only PYTHONPATH set. Prints ok/FAIL/skip lines and a RESULT line.
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT" || exit 1
PY=/usr/bin/python3
ND=${NEURODYN:-bin/neurodyn}
case $ND in /*) ;; *) ND="$ROOT/$ND" ;; esac
pass=0; fail=0; skip=0
ok() { echo "ok   $1"; pass=$((pass + 1)); }
bad() { echo "FAIL $1"; fail=$((fail + 1)); }
skipped() { echo "skip $1"; skip=$((skip + 1)); }
for m in cffi numpy h5py pytest; do
    if ! $PY -c "import $m" 2>/dev/null; then
        skipped "Python package tests: $PY has no $m (make deps installs python3-$m)"
        echo "RESULT $pass $fail $skip"; exit 0
    fi
done
if [ ! -e "$ROOT/lib/libneurodyn.so.0" ] && [ -z "${NEURODYN_LIB:-}" ]; then
    skipped "Python package tests: lib/libneurodyn.so.0 is not built (make asan builds only its sanitizer tree, which Python cannot load; make test runs these)"
    echo "RESULT $pass $fail $skip"; exit 0
fi
T=$(mktemp -d /tmp/nd_py_XXXXXX)
trap 'rm -rf "$T"' EXIT
$PY -c 'import torch' 2>/dev/null || skipped "lfads-torch export check: no torch for $PY (python3-torch)"
if NEURODYN="$ND" OMP_NUM_THREADS=1 $PY -m pytest -q -p no:cacheprovider --basetemp="$T/pytest" python/tests \
      >"$T/pytest.log" 2>&1; then
    ok "pytest python/tests: $(tail -1 "$T/pytest.log")"
else
    bad "pytest python/tests: $(grep -E '^(FAILED|ERROR)' "$T/pytest.log" | head -5) $(tail -1 "$T/pytest.log")"
    sed -n '1,80p' "$T/pytest.log"
fi
if [ "${API_INSTALL:-}" = skip ]; then
    skipped "installed package (API_INSTALL=skip)"
else
    P="$T/prefix"
    if make -s --no-print-directory install PREFIX="$P" >"$T/install.log" 2>&1; then
        mkdir -p "$T/elsewhere"
        "$P/bin/neurodyn" simulate lorenz --conditions 4 --trials-per-condition 5 --neurons 8 --bins 12 \
            --out "$T/elsewhere/d.h5" >/dev/null 2>&1
        if (cd "$T/elsewhere" && env -u LD_LIBRARY_PATH PYTHONPATH="$P/lib/python3/dist-packages" OMP_NUM_THREADS=1 \
              $PY -c '
import neurodyn as nd, os, sys
assert nd.__file__.startswith(sys.argv[1]), nd.__file__
data = nd.load_data("d.h5")
run = nd.train(data, out="run/", gen_dim=8, con_dim=4, co_dim=1, ic_enc_dim=4, ci_enc_dim=4, ic_dim=4, fac_dim=3,
               batch_size=8, max_epochs=2, threads=1)
out = nd.infer(run, data, samples=2, threads=1)
hz = nd.rates(out, data)
m = nd.evaluate(out, data)
c = nd.compare(out["valid_factors"], out["valid_gen_states"], method="cka")
out.write("py_out.h5")
print("rates", hz.shape, "rate_r2 %.3f cka %.3f" % (m["rate_r2"], c))' "$P") >"$T/inst.log" 2>&1 \
           && "$P/bin/neurodyn" infer "$T/elsewhere/run" --data "$T/elsewhere/d.h5" --out "$T/elsewhere/cli.h5" \
                --samples 2 --threads 1 --quiet >>"$T/inst.log" 2>&1 \
           && "${H5CMP:-build/tests/h5cmp}" "$T/elsewhere/py_out.h5" "$T/elsewhere/cli.h5" train_output_params \
                valid_output_params valid_factors >>"$T/inst.log" 2>&1; then
            ok "installed package (PYTHONPATH=PREFIX/lib/python3/dist-packages only) trains and infers from another directory; rates equal the installed CLI's ($(grep '^rates' "$T/inst.log"))"
        else
            bad "installed package: $(tail -5 "$T/inst.log")"
        fi
        make -s --no-print-directory uninstall PREFIX="$P" >/dev/null 2>&1
        if [ -z "$(find "$P" -type f -o -type l)" ]; then ok "make uninstall removes the Python package"
        else bad "make uninstall left: $(find "$P" -type f -o -type l | head -3)"; fi
    else
        bad "make install PREFIX=$P: $(tail -3 "$T/install.log")"
    fi
fi
echo "RESULT $pass $fail $skip"
