#!/bin/bash
# The L5PC in NEURON as a deep network (docs/neuron.md "L5PC"): simulates training (seed 0) and test (seed 1)
# sets of the Hay et al. cell (--cell l5pc or l5pc-ampa; NEURON needed), fits a TCN of depth 1 and of depth 3
# with the same 80 ms receptive field, and scores both on the test set.
# Usage: nice -n 10 scripts/l5pc_fit.sh [DIR]
# env: NEURODYN=bin/neurodyn CELL=l5pc SIMS=4 TEST_SIMS=2 SECONDS_PER_SIM=2 WIDTH=32 EPOCHS=40
# (the defaults are what the development machine allowed: NEURON costs ~11 CPU-s per simulated second)
set -e
ND=${NEURODYN:-bin/neurodyn}
DIR=${1:-l5pc_out}
CELL=${CELL:-l5pc}
SIMS=${SIMS:-4}
TEST_SIMS=${TEST_SIMS:-2}
SECS=${SECONDS_PER_SIM:-2}
WIDTH=${WIDTH:-32}
EPOCHS=${EPOCHS:-40}
mkdir -p "$DIR"
[ -f "$DIR/$CELL-train.h5" ] || $ND neuron simulate --cell "$CELL" --sims "$SIMS" --seconds "$SECS" --seed 0 --out "$DIR/$CELL-train.h5"
[ -f "$DIR/$CELL-test.h5" ] || $ND neuron simulate --cell "$CELL" --sims "$TEST_SIMS" --seconds "$SECS" --seed 1 --out "$DIR/$CELL-test.h5"
for d in 1 3; do
    $ND neuron fit "$DIR/$CELL-train.h5" --out "$DIR/run_d$d" --depth $d --width "$WIDTH" --first-kernel $((80 - (d - 1) * 4)) \
        --kernel 5 --epochs "$EPOCHS" --valid-fraction 0.25 --window-ms 200 --lr 3e-3 --threads 1 --force --quiet
    echo "== depth $d"
    $ND neuron eval "$DIR/run_d$d" --data "$DIR/$CELL-test.h5"
done
