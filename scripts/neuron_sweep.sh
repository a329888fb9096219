#!/bin/bash
# Accuracy vs depth for the NMDA cell (branched), the AMPA-only cell (branched-ampa) and the integrate-and-fire
# cell (docs/neuron.md "Depth vs complexity"): simulates training and test sets with the paper's input statistics
# (--inputs paper), fits one TCN per cell and depth (width WIDTH, the same receptive field RF at every depth),
# scores each on the test set, and draws the three cells' curves in one figure (neuron compare).
# Usage: nice -n 10 scripts/neuron_sweep.sh [DIR]
# env: NEURODYN=bin/neurodyn SIMS=100 TEST_SIMS=20 SECONDS_PER_SIM=6 DEPTHS="1 3" WIDTH=32 RF=80 EPOCHS=8
#      THREADS=1 CELLS="iaf branched-ampa branched" PARALLEL=5 (fits at once; each depth is its own sweep
#      DIR/CELL/sweep_dD, so depths run in parallel), FIT_OPTS="--lr 3e-3 --window-ms 200" (more, shorter
#      windows: more steps for the same cost). Finished fits are reused and interrupted ones resumed.
set -e
ND=${NEURODYN:-bin/neurodyn}
DIR=${1:-neuron_sweep_out}
SIMS=${SIMS:-100}
TEST_SIMS=${TEST_SIMS:-20}
SECS=${SECONDS_PER_SIM:-6}
DEPTHS=${DEPTHS:-"1 3"}
WIDTH=${WIDTH:-32}
RF=${RF:-80}
EPOCHS=${EPOCHS:-8}
THREADS=${THREADS:-1}
CELLS=${CELLS:-"iaf branched-ampa branched"}
PARALLEL=${PARALLEL:-5}
FIT_OPTS=${FIT_OPTS:-"--lr 3e-3 --window-ms 200"}
mkdir -p "$DIR"

simulate() {
    c=$1
    # inhibition / excitation rate: the AMPA-only cell goes into depolarisation block before it reaches 3 Hz
    # with the NMDA cell's 1.5 (the paper too gave its AMPA model relatively less inhibition)
    case $c in branched) ratio=1.5 ;; branched-ampa) ratio=0.75 ;; *) ratio=1 ;; esac
    mkdir -p "$DIR/$c"
    if [ ! -f "$DIR/$c/train.h5" ]; then
        $ND neuron simulate --cell "$c" --inputs paper --inh-ratio $ratio --sims "$SIMS" --seconds "$SECS" \
            --seed 0 --threads "$THREADS" --out "$DIR/$c/train.h5" --quiet > "$DIR/$c/simulate.txt"
    fi
    if [ ! -f "$DIR/$c/test.h5" ]; then   # the test set at the training set's calibrated input rate
        rate=$(sed -n '1s/.*inputs (\([0-9.]*\) \/.*/\1/p' "$DIR/$c/simulate.txt")
        $ND neuron simulate --cell "$c" --inputs paper --inh-ratio $ratio --exc-rate-hz "$rate" --sims "$TEST_SIMS" \
            --seconds "$SECS" --seed 1 --threads "$THREADS" --out "$DIR/$c/test.h5" --quiet >> "$DIR/$c/simulate.txt"
    fi
}

fit() {  # one cell, one depth
    # shellcheck disable=SC2086
    $ND neuron sweep "$DIR/$1/train.h5" --test "$DIR/$1/test.h5" --depths "$2" --widths "$WIDTH" \
        --receptive-field "$RF" --epochs "$EPOCHS" --threads "$THREADS" $FIT_OPTS --out "$DIR/$1/sweep_d$2" \
        > "$DIR/$1/sweep_d$2.txt"
}

for c in $CELLS; do simulate "$c" & done
wait
running=0
for d in $DEPTHS; do
    for c in $CELLS; do
        fit "$c" "$d" &
        running=$((running + 1))
        if [ "$running" -ge "$PARALLEL" ]; then wait -n; running=$((running - 1)); fi
    done
done
wait
dirs=""
for c in $CELLS; do for d in $DEPTHS; do dirs="$dirs $DIR/$c/sweep_d$d"; done; done
# shellcheck disable=SC2086
$ND neuron compare $dirs --out "$DIR/figures" >/dev/null
for c in $CELLS; do echo "== $c"; cat "$DIR/$c/simulate.txt"; done
column -t "$DIR/figures/compare.tsv"
