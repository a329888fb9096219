#!/bin/sh
# The measurements of docs/learning.md "Results", end to end (about 40 CPU-minutes on one core).
# usage: scripts/learn_science.sh OUT_DIR   (NEURODYN=bin/neurodyn; run it under nice -n 10 on a shared machine)
set -e
ND=${NEURODYN:-bin/neurodyn}
case "$ND" in /*) ;; *) ND="$(pwd)/$ND" ;; esac
O=${1:?usage: learn_science.sh OUT_DIR}
mkdir -p "$O" && cd "$O"
L="--threads 1 --force --quiet"
# 1. bias-variance plane and width/depth scaling (teacher-student, 1 epoch of bp, then every rule's estimate)
for a in 20-25-5 20-50-5 20-100-5 20-200-5 20-50-50-5 20-50-50-50-5; do
    $ND learn train --task teacher --rule bp --arch $a --epochs 1 --out bv_$a $L
    $ND learn gradients bv_$a --samples 200 --json=bv_$a.json --svg bv_$a.svg > bv_$a.txt
done
# feedback alignment during learning: fa trained 20 epochs, angle at the initial vs trained weights
$ND learn train --task teacher --rule fa --arch 20-50-50-5 --epochs 20 --out fa_align $L
$ND learn gradients fa_align --rules bp,fa,dfa,sign --json=fa_align.json > fa_align.txt
# 2. Fashion-MNIST, every rule, 784-256-256-10, 3 epochs
for r in bp fa dfa sign np wp; do
    lr=0.05; [ $r = np ] && lr=0.01; [ $r = wp ] && lr=0.001
    $ND learn train --task fashion-mnist --rule $r --epochs 3 --lr $lr --out fm_$r $L
done
$ND learn train --task fashion-mnist --rule bp --epochs 10 --out fm_bp10 $L
$ND learn compare fm_bp fm_fa fm_dfa fm_sign fm_np fm_wp --svg fm_curves.svg > fm_compare.txt
# 3. orientation from reward: bp, fa, np; tuning per layer
$ND learn train --task orientation --rule bp --noise 0.5 --angle 20 --lr 0.1 --epochs 20 --out or_bp $L
$ND learn train --task orientation --rule fa --noise 0.5 --angle 20 --lr 0.1 --epochs 20 --out or_fa $L
$ND learn train --task orientation --rule np --noise 0.5 --angle 20 --lr 0.002 --sigma 0.05 --epochs 20 --out or_np $L
for r in bp fa np; do $ND learn tuning or_$r > or_$r.tuning.txt; done
$ND learn compare or_bp or_fa or_np --svg or_curves.svg > or_compare.txt
# 4. flip-flop RNN: BPTT and RFLO, fixed points
$ND learn train --task flipflop --rnn 32 --rule bptt --epochs 10 --out ff_bptt $L
$ND learn train --task flipflop --rnn 32 --rule rflo --epochs 30 --out ff_rflo $L
for r in bptt rflo; do $ND fixedpoints ff_$r --outputs ff_$r/model.h5 --starts 256 --noise 0.1 > ff_$r.fp.txt; done
echo "done: $O"
