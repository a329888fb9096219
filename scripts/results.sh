#!/bin/sh
# Regenerates the tables of docs/results.md: LFADS beside the spike-smoothing and GPFA baselines on the
# two rat recordings of ../shared/data (co-bps on held-out neurons, and decoding of the behaviour /
# stimulus from each model's single-trial rates).
#   scripts/results.sh [WORKDIR]      (default results/; ND_SHARED_DIR overrides ../shared)
# LFADS_EPOCHS, THREADS and SEED change the run; the whole script takes about an hour on 2 cores.
# PBT_WORKERS=4 (PBT_GENERATIONS, PBT_EPOCHS) adds an LFADS row tuned by neurodyn search (PBT).
# The motor GPFA searches 2..12 latents (--max-latents 12): its 100-bin trials make each EM iteration with
# 16-20 latents cost minutes on 2 cores.
set -e
ND=${NEURODYN:-bin/neurodyn}
SHARED=${ND_SHARED_DIR:-../shared}
W=${1:-results}
THREADS=${THREADS:-2}
EPOCHS=${LFADS_EPOCHS:-150}
# PBT_WORKERS > 0 adds an LFADS row tuned by `neurodyn search` (PBT): PBT_WORKERS x PBT_GENERATIONS x PBT_EPOCHS
PBT_WORKERS=${PBT_WORKERS:-0}
PBT_GENERATIONS=${PBT_GENERATIONS:-4}
PBT_EPOCHS=${PBT_EPOCHS:-10}
SEED=${SEED:-0}
for f in rat_motor_cortex_lever.h5 rat_auditory_cortex.h5; do
    [ -f "$SHARED/data/$f" ] || { echo "results.sh: $SHARED/data/$f not found (set ND_SHARED_DIR)" >&2; exit 1; }
done
mkdir -p "$W"

# json KEY FILE: the number stored under "KEY" in a JSON file written by neurodyn (or "-")
json() { v=$(sed -n "s/^[[:space:]]*\"$1\":[[:space:]]*\([-0-9.eE+]*\),*$/\1/p" "$2" 2>/dev/null | head -1)
    if [ -n "$v" ]; then printf '%.3f' "$v"; else echo -; fi; }

run_dataset() { # NAME INPUT CONVERT-ARGS DECODE-TARGET DECODE-KIND LFADS-ARGS GPFA-ARGS
    name=$1 input=$2 cargs=$3 target=$4 kind=$5 largs=$6 gargs=$7
    d="$W/$name"
    mkdir -p "$d"
    echo "== $name: convert"
    $ND convert "$input" --out "$d/data.h5" $cargs --seed "$SEED"
    echo "== $name: LFADS ($EPOCHS epochs)"
    [ -d "$d/run" ] && resume=--resume || resume=  # a run there: continue it (train refuses to start over in it)
    $ND train "$d/data.h5" --out "$d/run" --threads "$THREADS" --max-epochs "$EPOCHS" --seed "$SEED" $largs $resume
    $ND infer "$d/run" --data "$d/data.h5" --out "$d/lfads.h5" --threads "$THREADS" --quiet
    models="smoothing gpfa lfads"
    if [ "$PBT_WORKERS" -gt 0 ]; then
        echo "== $name: LFADS PBT search ($PBT_WORKERS workers x $PBT_GENERATIONS generations x $PBT_EPOCHS epochs)"
        $ND search "$d/data.h5" --out "$d/search" --workers "$PBT_WORKERS" --generations "$PBT_GENERATIONS" \
            --epochs-per-generation "$PBT_EPOCHS" --threads "$THREADS" $([ -d "$d/search" ] && echo --resume) >"$d/search.log"
        $ND infer "$d/search/best" --data "$d/data.h5" --out "$d/lfads_pbt.h5" --threads "$THREADS" --quiet
        models="$models lfads_pbt"
    fi
    echo "== $name: baselines"
    # kernel, GLM penalty and GPFA latent dimension chosen by K-fold CV over the train trials (the defaults)
    $ND baseline smoothing "$d/data.h5" --out "$d/smoothing.h5" --threads "$THREADS" >"$d/smoothing.log"
    $ND baseline gpfa "$d/data.h5" --out "$d/gpfa.h5" --threads "$THREADS" $gargs >"$d/gpfa.raw"
    tr '\r' '\n' <"$d/gpfa.raw" | grep -v 'EM iteration' >"$d/gpfa.log"
    cat "$d/smoothing.log" "$d/gpfa.log"
    for m in $models; do
        $ND eval "$d/$m.h5" --data "$d/data.h5" --eval-split test --json "$d/eval_$m.json" >/dev/null
        $ND decode "$d/$m.h5" --data "$d/data.h5" --target "$target" --test-split test --json="$d/decode_$m.json" >/dev/null
    done
    $ND decode "$d/data.h5" --dataset encod_data --target "$target" --test-split test --json="$d/decode_spikes.json" >/dev/null
    metric=$([ "$kind" = classify ] && echo accuracy || echo r2)
    {
        echo "| $name (test trials) | co-bps | psth R2 | decode $metric |"
        echo "|---|---|---|---|"
        echo "| held-in spike counts (no model) | - | - | $(json "$metric" "$d/decode_spikes.json") |"
        for m in $models; do
            echo "| $m | $(json co_bps "$d/eval_$m.json") | $(json psth_r2 "$d/eval_$m.json") | $(json "$metric" "$d/decode_$m.json") |"
        done
        [ "$kind" = classify ] && echo "| chance | | | $(json chance "$d/decode_lfads.json") |"
        echo
        echo "smoothing $(grep '^chosen:' "$d/smoothing.log")"
        echo "gpfa $(grep '^chosen:' "$d/gpfa.log"); $(grep '^GPFA: .*timescales' "$d/gpfa.log" | sed 's/.*timescales/timescales/')"
        echo
    } >"$d/table.md"
    cat "$d/table.md"
}

run_dataset rat_motor_cortex "$SHARED/data/rat_motor_cortex_lever.h5" \
    "--bin-ms 20 --heldout-fraction 0.25 --valid-fraction 0.15 --test-fraction 0.2 --keep-test-targets" \
    "$SHARED/data/rat_motor_cortex_lever.h5:tap2_ms" regress "" "--max-latents 12"
run_dataset rat_auditory_cortex "$SHARED/data/rat_auditory_cortex.h5" \
    "--bin-ms 10 --heldout-fraction 0.25 --condition sound_id --keep-test-targets" \
    condition classify "" ""
cat "$W"/*/table.md >"$W/tables.md"
echo "tables: $W/tables.md"
