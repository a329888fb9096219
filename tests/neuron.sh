#!/bin/sh
# neurodyn neuron: bad sims files (one line, non-zero exit), the L5PC in NEURON (a tiny simulation whose soma
# fires sanely; NEURON missing; a mechanism that does not compile). The NEURON checks skip with a line saying
# why when NEURON is not installed. Prints ok/FAIL/skip lines and a RESULT line.
ND=${NEURODYN:-bin/neurodyn}
case "$ND" in /*) ;; *) ND="$(pwd)/$ND" ;; esac
ROOT=$(pwd)
T=$(mktemp -d /tmp/nd_neuron_XXXXXX)
trap 'rm -rf "$T"' EXIT
# the compiled mechanisms are kept between runs (build/cache), the rest is thrown away
CACHE=${NEURODYN_CACHE:-$ROOT/build/cache}
. "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3

# ---- bad sims files: wrong shapes, non-binary outputs and inputs, another cell's file
$ND neuron simulate --cell iaf --sims 3 --seconds 1 --exc-rate-hz 5 --quiet --out "$T/iaf.h5" >/dev/null
if $PY -c 'import h5py, numpy' 2>/dev/null; then
    $PY - "$T" <<'PYEOF'
import sys, shutil, h5py, numpy as np
T = sys.argv[1]
def variant(name, edit):
    shutil.copy(T + "/iaf.h5", T + "/" + name + ".h5")
    with h5py.File(T + "/" + name + ".h5", "r+") as f:
        edit(f)
def flat(f):
    v = f["soma_v"][:].ravel(); del f["soma_v"]; f["soma_v"] = v
def twos(f):
    s = f["spikes"][:]; s[0, 700] = 2; del f["spikes"]; f["spikes"] = s
def dup(f):  # the first input spike twice: a count of 2 in one bin
    for n in ("spike_times_ms", "spike_synapse", "spike_sim"):
        x = f[n][:]; del f[n]; f[n] = np.r_[x[:1], x]
def short_meta(f):
    x = f["syn_type"][:]; del f["syn_type"]; f["syn_type"] = x[:-1]
variant("flat", flat); variant("twos", twos); variant("dup", dup); variant("meta", short_meta)
PYEOF
    NF="--depth 1 --width 4 --first-kernel 20 --epochs 1 --threads 1 --quiet"
    expect_error "neuron fit: soma_v of the wrong rank" "soma_v' must be \[sims x ms\]" $ND neuron fit "$T/flat.h5" --out "$T/r1" $NF
    expect_error "neuron fit: non-binary output spikes" "spikes must be 0 or 1" $ND neuron fit "$T/twos.h5" --out "$T/r2" $NF
    expect_error "neuron fit: non-binary input (a synapse twice in one ms)" "inputs must be binary" $ND neuron fit "$T/dup.h5" --out "$T/r3" $NF
    expect_error "neuron fit: synapse metadata of the wrong length" "syn_type' has" $ND neuron fit "$T/meta.h5" --out "$T/r4" $NF
    check "failed fits left no run directories" sh -c "test ! -e '$T/r1/last.ckpt' && test ! -e '$T/r3/last.ckpt'"
    $ND neuron fit "$T/iaf.h5" --out "$T/run" $NF >/dev/null
    $ND neuron simulate --cell branched --sims 3 --seconds 0.6 --exc-rate-hz 2 --quiet --out "$T/br.h5" >/dev/null
    cp "$T/run/best.ckpt" "$T/best_before"
    expect_error "neuron eval: a sims file of another cell" "fitted on 'iaf'" $ND neuron eval "$T/run" --data "$T/br.h5"
    expect_error "neuron fit --resume on another cell's file" "fitted on cell 'iaf'" $ND neuron fit "$T/br.h5" --out "$T/run" $NF --epochs 2 --resume
    check "the run survived the refused resume" cmp "$T/run/best.ckpt" "$T/best_before"
    # sweep at a fixed receptive field (the first kernel shrinks with depth), then two sweeps in one figure
    check "neuron sweep --receptive-field: equal extent at every depth; neuron compare: table and figures" sh -c "\
        $ND neuron sweep '$T/iaf.h5' --test '$T/iaf.h5' --depths 1,3 --widths 2 --receptive-field 12 --kernel 3 \
            --epochs 1 --window-ms 100 --threads 1 --quiet --out '$T/sw' >/dev/null \
        && grep -q '^first_kernel = 12' '$T/sw/d1_w2/config.txt' && grep -q '^first_kernel = 8' '$T/sw/d3_w2/config.txt' \
        && awk -F'\t' 'NR > 1 && \$3 != 12 { exit 1 }' '$T/sw/sweep.tsv' \
        && $ND neuron compare '$T/sw' '$T/sw' --out '$T/cmp' >/dev/null && test \$(wc -l <'$T/cmp/compare.tsv') -eq 5 \
        && $PY -c 'import sys, xml.etree.ElementTree as E; [E.parse(f) for f in sys.argv[1:]]' '$T/cmp/auc_vs_depth.svg' \
           '$T/cmp/ev_vs_depth.svg'"
    expect_error "neuron compare: not a sweep directory" "run 'neuron sweep' first" $ND neuron compare "$T/run" --out "$T/cmp2"
else
    skipped "bad sims files (needs python3-h5py to write them)"
fi
expect_error "neuron simulate: unknown --inputs" "unknown --inputs" $ND neuron simulate --cell iaf --inputs poisson --out "$T/x.h5"
check "neuron simulate --inputs paper: same seed, same file" sh -c "\
    $ND neuron simulate --cell iaf --inputs paper --sims 2 --seconds 1 --exc-rate-hz 4 --threads 1 --quiet --out '$T/p1.h5' >/dev/null \
    && $ND neuron simulate --cell iaf --inputs paper --sims 2 --seconds 1 --exc-rate-hz 4 --threads 2 --quiet --out '$T/p2.h5' >/dev/null \
    && $PY -c 'import h5py, sys, numpy as np; a, b = h5py.File(sys.argv[1]), h5py.File(sys.argv[2]); \
sys.exit(not (a.attrs[\"inputs\"] == \"paper\" and all(np.array_equal(a[k][:], b[k][:]) for k in (\"spike_times_ms\", \"spike_synapse\", \"soma_v\"))))' \
       '$T/p1.h5' '$T/p2.h5'"

# ---- the L5PC in NEURON
# NEURON missing: a Python path whose 'neuron' module fails to import, as on a machine without python3-neuron
mkdir -p "$T/fake/neuron"
echo 'raise ImportError("No module named neuron")' >"$T/fake/neuron/__init__.py"
expect_error "neuron simulate --cell l5pc without NEURON: one line saying how to install it" "apt-get install neuron" \
    env PYTHONPATH="$T/fake" NEURODYN_CACHE="$T/cache" $ND neuron simulate --cell l5pc --sims 1 --seconds 1 --out "$T/l5.h5"
check "... and no output file" test ! -e "$T/l5.h5"
if ! $PY -c 'import neuron' >/dev/null 2>&1 || ! command -v nrnivmodl >/dev/null; then
    skipped "l5pc simulation (NEURON is not installed: sudo apt-get install neuron neuron-dev python3-neuron, or make deps)"
else
    # a mechanism that does not compile: a copy of data/l5pc with one broken .mod file
    mkdir -p "$T/l5bad/mod"
    cp "$ROOT"/data/l5pc/mod/*.mod "$T/l5bad/mod/"
    ln -s "$ROOT/data/l5pc/l5pc_sim.py" "$ROOT/data/l5pc/cell1.asc" "$T/l5bad/"
    printf 'NEURON { SUFFIX broken }\nBREAKPOINT { x = }\n' >"$T/l5bad/mod/broken.mod"
    expect_error "neuron simulate --cell l5pc: a mechanism that does not compile" "failed to compile" \
        env NEURODYN_L5PC_DIR="$T/l5bad" NEURODYN_CACHE="$T/cache" $ND neuron simulate --cell l5pc --sims 1 --seconds 1 --quiet --out "$T/l5.h5"
    # a tiny simulation: 1 s (the simulator reads its file back with the training data's checks); the soma fires
    # at a sane rate with action potentials
    if NEURODYN_CACHE="$CACHE" $ND neuron simulate --cell l5pc --sims 1 --seconds 1 --seed 0 --quiet --out "$T/l5.h5" >"$T/l5.txt" 2>"$T/l5.err"; then
        check "l5pc: 1 s simulation, sims.h5 layout, sane firing and AP shape" $PY - "$T/l5.h5" <<'PYEOF'
import sys, h5py, numpy as np
f = h5py.File(sys.argv[1])
v, s = f["soma_v"][0], f["spikes"][0]
n = int(s.sum())
ok = f.attrs["cell"] == "l5pc" and f["syn_type"].shape == (int(f.attrs["synapses"]),) and v.shape == (1000,)
ok &= 1 <= n <= 60                                   # 1-60 Hz
ok &= -95 < v.min() and v.max() < 60                 # no runaway voltage
ok &= -85 < np.median(v) < -50                       # between spikes: near rest
idx = np.nonzero(s)[0]
# each spike is an action potential (seen at 1 ms samples): depolarised in its bin, repolarised 2 ms later
ok &= bool(np.all([v[i] > -35 and v[i + 2] < v[i] - 15 for i in idx if i + 2 < 1000]))
ok &= bool(np.all(np.diff(idx) >= 2))                # refractory
print("l5pc: %d spikes in 1 s, V %.1f..%.1f mV, median %.1f" % (n, v.min(), v.max(), np.median(v)))
sys.exit(0 if ok else 1)
PYEOF
    else
        bad "l5pc: 1 s simulation ($(head -c 300 "$T/l5.err"))"
    fi
fi
echo "RESULT $pass $fail $skip"
[ "$fail" -eq 0 ]
