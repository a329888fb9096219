#!/bin/sh
# The KL / L2 defaults sweep of docs/model.md ("Choosing the default scales"): LFADS at its default architecture
# on synthetic benchmarks (Lorenz, small and full size; the chaotic RNN with input pulses; 3-session Lorenz, stitched) and, when the
# rat recordings are given, on them (test co-bps of held-out neurons). One line per run in $W/sweep.tsv:
#   dataset setting seed metric value kl_ic_per_trial best_epoch
# Settings are in neurodyn's per-trial units (the loss is the per-trial sum, as the ELBO):
#   old   kl_ic = kl_co = 1,    l2_gen 2000   (the original TF LFADS defaults)
#   kl.1  kl_ic = kl_co = 0.1,  l2_gen 2000
#   l2.1  kl_ic = kl_co = 0.1,  l2_gen 200
#   weak  kl_ic = kl_co = 0.02, l2_gen 20     (~ the middle of AutoLFADS's search ranges, converted)
#   vweak kl_ic = kl_co = 0.005, l2_gen 5     (a step further, to see which side of the optimum weak is on)
# Usage: scripts/defaults_sweep.sh WORKDIR [SEEDS="0 1 2"] [SETTINGS=...] [DATASETS=...] [RAT=/path/to/shared/data]
set -e
ND=${NEURODYN:-bin/neurodyn}
W=${1:?usage: defaults_sweep.sh WORKDIR}
SEEDS=${SEEDS:-0 1 2}
SETTINGS=${SETTINGS:-old kl.1 l2.1 weak}
DATASETS=${DATASETS:-lorenz crnn sessions}
EPOCHS=${EPOCHS:-120}
THREADS=${THREADS:-1}
mkdir -p "$W"
setting() {
    case $1 in
        old)  echo "--set kl_ic_scale=1 --set kl_co_scale=1 --set l2_gen_scale=2000" ;;
        kl.1) echo "--set kl_ic_scale=0.1 --set kl_co_scale=0.1 --set l2_gen_scale=2000" ;;
        l2.1) echo "--set kl_ic_scale=0.1 --set kl_co_scale=0.1 --set l2_gen_scale=200" ;;
        weak) echo "--set kl_ic_scale=0.02 --set kl_co_scale=0.02 --set l2_gen_scale=20" ;;
        vweak) echo "--set kl_ic_scale=0.005 --set kl_co_scale=0.005 --set l2_gen_scale=5" ;;
        *) echo "unknown setting $1" >&2; exit 2 ;;
    esac
}
# the data: small versions of the benchmarks (520 Lorenz trials; lfull: the default Lorenz set, 1560 trials; 500 chaotic-RNN trials, 3 x 520 session trials)
make_data() {
    [ -f "$W/lorenz.h5" ] || $ND simulate lorenz --out "$W/lorenz.h5" --trials-per-condition 8 --seed 100 >/dev/null
    [ -f "$W/lfull.h5" ] || $ND simulate lorenz --out "$W/lfull.h5" --seed 100 >/dev/null  # the default set, 1560 trials
    [ -f "$W/crnn.h5" ] || $ND simulate chaotic-rnn --input-pulses --conditions 100 --trials-per-condition 5 \
        --out "$W/crnn.h5" --seed 100 >/dev/null
    [ -f "$W/sessions/s3.h5" ] || $ND simulate lorenz --sessions 3 --trials-per-condition 8 --out "$W/sessions" \
        --seed 100 >/dev/null
    if [ -n "$RAT" ]; then
        [ -f "$W/auditory.h5" ] || $ND convert "$RAT/rat_auditory_cortex.h5" --out "$W/auditory.h5" --bin-ms 10 \
            --heldout-fraction 0.25 --condition sound_id --keep-test-targets --seed 0 >/dev/null
        [ -f "$W/motor.h5" ] || $ND convert "$RAT/rat_motor_cortex_lever.h5" --out "$W/motor.h5" --bin-ms 20 \
            --heldout-fraction 0.25 --valid-fraction 0.15 --test-fraction 0.2 --keep-test-targets --seed 0 >/dev/null
    fi
}
jget() { /usr/bin/python3 -c "import json,sys; print(json.load(open(sys.argv[1])).get(sys.argv[2], 'nan'))" "$1" "$2"; }
# KL_ic per trial (unweighted) and the best epoch, from the run's log at its best smoothed valid recon
klic() { /usr/bin/python3 - "$1" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1] + "/train_log.tsv"), delimiter="\t"))
best = min(rows, key=lambda r: float(r["smoothed_valid_recon"]))
print(f'{float(best["train_kl_ic"]):.3f} {best["epoch"]}')
PY
}
run_one() { # DATASET SETTING SEED
    d="$W/$1.$2.s$3"; line="$W/done/$1.$2.s$3"
    [ -f "$line" ] && return 0
    rm -rf "$d"; mkdir -p "$W/done"
    case $1 in
        sessions) files="$W/sessions/s1.h5 $W/sessions/s2.h5 $W/sessions/s3.h5" ;;
        *) files="$W/$1.h5" ;;
    esac
    # shellcheck disable=SC2046,SC2086
    $ND train $files --out "$d" --threads "$THREADS" --max-epochs "$EPOCHS" --seed "$3" --quiet $(setting "$2") \
        > "$d.train.log" 2>&1
    kl=$(klic "$d")
    case $1 in
        auditory|motor) split="--eval-split test"; metric=co_bps ;;
        *) split=; metric=rate_r2 ;;
    esac
    sum=0; n=0
    for f in $files; do
        $ND infer "$d" --data "$f" --out "$d.out.h5" --threads "$THREADS" --quiet >/dev/null
        # shellcheck disable=SC2086
        $ND eval "$d.out.h5" --data "$f" $split --json "$d.eval.json" >/dev/null
        v=$(jget "$d.eval.json" $metric); sum=$(awk "BEGIN{print $sum + $v}"); n=$((n + 1))
        rm -f "$d.out.h5"
    done
    printf '%s\t%s\t%s\t%s\t%.4f\t%s\n' "$1" "$2" "$3" "$metric" "$(awk "BEGIN{print $sum / $n}")" "$kl" | tr ' ' '\t' \
        | tee -a "$W/sweep.tsv"
    touch "$line"
}
make_data
for seed in $SEEDS; do
    for ds in $DATASETS; do
        for s in $SETTINGS; do run_one "$ds" "$s" "$seed"; done
    done
done
