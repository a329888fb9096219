#!/bin/sh
# Multi-session stitching experiment (docs/stitching.md): 5 synthetic Lorenz sessions (same latent dynamics,
# 20-40 different neurons each, few trials per session). One model stitched across all five vs one model per
# session; rate R^2 vs the true rates on each session's valid trials, and the mean canonical correlation
# between the condition-averaged factors of every pair of sessions.
# Usage: scripts/stitch.sh [DIR]
# env: NEURODYN=bin/neurodyn THREADS=2 EPOCHS=1000 SEED=0 SESSIONS=5, MODEL (train --set options, default the
# make-demo model), DATA (simulate options, default 20 conditions x 10 trials x 50 bins). tests/stitch.sh runs a
# small version.
set -e
ND=${NEURODYN:-bin/neurodyn}
DIR=${1:-stitch_out}
THREADS=${THREADS:-2}
EPOCHS=${EPOCHS:-1000}
SEED=${SEED:-0}
S=${SESSIONS:-5}
MODEL=${MODEL:-"--set co_dim=0 --set gen_dim=64 --set ic_enc_dim=64 --set ic_dim=64 --set fac_dim=20"}
DATA=${DATA:-"--conditions 20 --trials-per-condition 10 --bins 50"}
CFG="$MODEL --set lr_init=0.01 --set kl_increase_epoch=50 --set l2_increase_epoch=50 --seed $SEED"
mkdir -p "$DIR"
# shellcheck disable=SC2086
$ND simulate lorenz --sessions $S --neurons-min 20 --neurons-max 40 $DATA --seed "$SEED" --out "$DIR/data" >/dev/null
files=""
for k in $(seq 1 $S); do files="$files $DIR/data/s$k.h5"; done
t0=$(date +%s)
# shellcheck disable=SC2086
$ND train $files --out "$DIR/stitched" --threads "$THREADS" --max-epochs "$EPOCHS" $CFG --quiet
t1=$(date +%s)
for k in $(seq 1 $S); do
    # shellcheck disable=SC2086
    $ND train "$DIR/data/s$k.h5" --out "$DIR/single$k" --threads "$THREADS" --max-epochs "$EPOCHS" $CFG --quiet
done
t2=$(date +%s)
r2() { $ND eval "$1" --data "$2" > "$1.txt"; awk -v k="$3" '$1 == k { printf "%.3f", $2; exit }' "$1.txt"; }
printf '| session | neurons | stitched rate R^2 | single-session rate R^2 | smoothing |\n|---|---|---|---|---|\n'
for k in $(seq 1 $S); do
    d="$DIR/data/s$k.h5"
    $ND infer "$DIR/stitched" --data "$d" --out "$DIR/stitched_s$k.h5" --threads "$THREADS" --quiet
    $ND infer "$DIR/single$k" --data "$d" --out "$DIR/single_s$k.h5" --threads "$THREADS" --quiet
    a=$(r2 "$DIR/stitched_s$k.h5" "$d" rate_r2); b=$(r2 "$DIR/single_s$k.h5" "$d" rate_r2)
    sm=$(awk '$1 == "smoothing_rate_r2" { printf "%.3f", $2; exit }' "$DIR/single_s$k.h5.txt")
    n=$($ND inspect "$d" | awk '$1 == "neurons" { print $2; exit }')
    printf '| %d | %s | %s | %s | %s |\n' "$k" "$n" "$a" "$b" "$sm"
done
cca() { $ND compare "$1:valid_factors" "$2:valid_factors" --method cca --condition-average \
        --conditions "$DIR/data/s1.h5:valid_condition" | awk '$1 == "cca:" { print $5; exit }'; }
sc=""; ss=""
for a in $(seq 1 $S); do for b in $(seq $((a + 1)) $S); do
    sc="$sc $(cca "$DIR/stitched_s$a.h5" "$DIR/stitched_s$b.h5")"
    ss="$ss $(cca "$DIR/single_s$a.h5" "$DIR/single_s$b.h5")"
done; done
stats() { echo "$1" | tr ' ' '\n' | awk 'NF { s += $1; n++; if (m == "" || $1 < m) m = $1 } END { printf "%.3f (min %.3f)", s / n, m }'; }
echo "mean CCA between sessions' condition-averaged factors ($((S * (S - 1) / 2)) pairs): stitched $(stats "$sc"), separate models $(stats "$ss")"
echo "train time: stitched $((t1 - t0)) s, $S single-session models $((t2 - t1)) s ($EPOCHS epochs each, $THREADS threads)"
