#!/bin/bash
# Accuracy vs depth for the NMDA cell (branched), the AMPA-only cell (branched-ampa) and the integrate-and-fire
# cell (docs/neuron.md "Depth vs complexity"): simulates training and test sets with the paper's input statistics
# (--inputs paper), fits one TCN per depth at one width and one receptive field, scores each on the test set,
# and draws the three cells' curves in one figure.
# Usage: scripts/neuron_sweep.sh [DIR]        (run it with nice -n 10 on a shared machine)
# env: NEURODYN=bin/neurodyn SIMS=100 TEST_SIMS=20 SECONDS_PER_SIM=6 DEPTHS=1,2,3,5,7 WIDTH=32 RF=80 EPOCHS=8
#      THREADS=1 CELLS="iaf branched-ampa branched" PARALLEL=3 (cells fitted at once)
#      FIT_OPTS="--lr 3e-3 --window-ms 200" (more, shorter windows: more steps for the same cost)
set -e
ND=${NEURODYN:-bin/neurodyn}
DIR=${1:-neuron_sweep_out}
SIMS=${SIMS:-100}
TEST_SIMS=${TEST_SIMS:-20}
SECS=${SECONDS_PER_SIM:-6}
DEPTHS=${DEPTHS:-1,2,3,5,7}
WIDTH=${WIDTH:-32}
RF=${RF:-80}
EPOCHS=${EPOCHS:-8}
THREADS=${THREADS:-1}
CELLS=${CELLS:-"iaf branched-ampa branched"}
PARALLEL=${PARALLEL:-3}
FIT_OPTS=${FIT_OPTS:-"--lr 3e-3 --window-ms 200"}
mkdir -p "$DIR"

one_cell() {
    c=$1
    # inhibition / excitation rate: the AMPA-only cell goes into depolarisation block before it reaches 3 Hz
    # with the NMDA cell's 1.5 (as in the paper, which gave its AMPA model relatively less inhibition)
    case $c in branched) ratio=1.5 ;; branched-ampa) ratio=0.75 ;; *) ratio=1 ;; esac
    if [ ! -f "$DIR/$c/train.h5" ]; then
        mkdir -p "$DIR/$c"
        $ND neuron simulate --cell "$c" --inputs paper --inh-ratio $ratio --sims "$SIMS" --seconds "$SECS" \
            --seed 0 --threads "$THREADS" --out "$DIR/$c/train.h5" --quiet > "$DIR/$c/simulate.txt"
    fi
    if [ ! -f "$DIR/$c/test.h5" ]; then   # the test set at the training set's calibrated input rate
        rate=$(sed -n 's/.*inputs (\([0-9.]*\) \/.*/\1/p' "$DIR/$c/simulate.txt")
        $ND neuron simulate --cell "$c" --inputs paper --inh-ratio $ratio --exc-rate-hz "$rate" --sims "$TEST_SIMS" \
            --seconds "$SECS" --seed 1 --threads "$THREADS" --out "$DIR/$c/test.h5" --quiet >> "$DIR/$c/simulate.txt"
    fi
    $ND neuron sweep "$DIR/$c/train.h5" --test "$DIR/$c/test.h5" --depths "$DEPTHS" --widths "$WIDTH" \
        --receptive-field "$RF" --epochs "$EPOCHS" --threads "$THREADS" $FIT_OPTS --out "$DIR/$c/sweep" \
        > "$DIR/$c/sweep.txt"
}

running=0
for c in $CELLS; do
    one_cell "$c" &
    running=$((running + 1))
    if [ "$running" -ge "$PARALLEL" ]; then wait -n; running=$((running - 1)); fi
done
wait
for c in $CELLS; do echo "== $c"; cat "$DIR/$c/simulate.txt"; tail -n +1 "$DIR/$c/sweep.txt" | sed -n '/^depth/,$p'; done
