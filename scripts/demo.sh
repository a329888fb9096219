#!/bin/sh
# make demo: simulate Lorenz data with ground truth, train LFADS, infer rates, score them.
# Everything goes to demo/ (override with DEMO_DIR). Takes about a minute on 2 cores.
set -e
ND=${NEURODYN:-bin/neurodyn}
DIR=${DEMO_DIR:-demo}
THREADS=${THREADS:-2}
EPOCHS=${DEMO_EPOCHS:-120}
mkdir -p "$DIR"
echo "== 1/4 simulate: Lorenz system, 65 conditions x 24 trials, 30 neurons, 50 bins of 20 ms"
$ND simulate lorenz --out "$DIR/lorenz.h5" --seed 0
echo "== 2/4 train: LFADS (demo size: controller off, gen 64, factors 20), $EPOCHS epochs"
rm -rf "$DIR/run"
$ND train "$DIR/lorenz.h5" --out "$DIR/run" --threads "$THREADS" --max-epochs "$EPOCHS" \
    --set co_dim=0 --set gen_dim=64 --set ic_enc_dim=64 --set ic_dim=64 --set fac_dim=20 \
    --set lr_init=0.01 --set kl_increase_epoch=50 --set l2_increase_epoch=50
echo "== 3/4 infer: posterior sample-and-average (50 samples)"
$ND infer "$DIR/run" --data "$DIR/lorenz.h5" --out "$DIR/lorenz_out.h5" --threads "$THREADS"
echo "== 4/4 score: inferred rates vs the true rates (and a Gaussian-smoothing baseline)"
$ND eval "$DIR/lorenz_out.h5" --data "$DIR/lorenz.h5" --json "$DIR/metrics.json"
echo "outputs: $DIR/lorenz_out.h5 (h5py: f['valid_output_params'] = rates in counts/bin), $DIR/metrics.json"
