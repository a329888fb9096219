#!/bin/sh
# End-to-end tests of the neurodyn CLI: simulate -> train -> resume -> infer -> eval,
# determinism, and clear errors on bad input. Prints ok/FAIL lines and a RESULT line.
ND=${NEURODYN:-bin/neurodyn}
case "$ND" in /*) ;; *) ND="$(pwd)/$ND" ;; esac
T=$(mktemp -d /tmp/nd_cli_XXXXXX)
trap 'rm -rf "$T"' EXIT
. "$(dirname "$0")/lib.sh"

SMALL="--set gen_dim=16 --set ic_enc_dim=8 --set ic_dim=8 --set fac_dim=6 --set con_dim=8 --set ci_enc_dim=8
 --set co_dim=2 --set batch_size=16 --set kl_increase_epoch=1 --set l2_increase_epoch=1 --quiet --threads 2"

check "simulate lorenz (small)" $ND simulate lorenz --out "$T/l.h5" --conditions 6 --trials-per-condition 10 \
    --neurons 12 --bins 20 --seed 1
check "simulate chaotic-rnn with input pulses (small)" $ND simulate chaotic-rnn --input-pulses --out "$T/c.h5" \
    --conditions 4 --trials-per-condition 5 --bins 30 --seed 2
# multi-session Lorenz (stitching): DIR/s1.h5 .. s3.h5, one stdout line each, 20-40 neurons, same trials
check "simulate lorenz --sessions 3 writes s1..s3.h5, one line per session" sh -c "$ND simulate lorenz --sessions 3 \
    --out '$T/set' --conditions 4 --trials-per-condition 5 --bins 20 --seed 1 >'$T/sess.txt' \
    && test \$(wc -l <'$T/sess.txt') -eq 3 && test -s '$T/set/s1.h5' -a -s '$T/set/s2.h5' -a -s '$T/set/s3.h5' \
    && test ! -e '$T/set/s4.h5' && test -z \"\$(ls '$T/set' | grep -v '^s[123].h5\$')\""
sessions_ok=1
for k in 1 2 3; do
    $ND inspect "$T/set/s$k.h5" >"$T/insp$k.txt" 2>&1 || sessions_ok=0
    grep -q 'format: *LFADS' "$T/insp$k.txt" || sessions_ok=0
    grep -q 'splits *16 train, 4 valid' "$T/insp$k.txt" || sessions_ok=0
    grep -q 'conditions *4 (ids in train_condition)' "$T/insp$k.txt" || sessions_ok=0
    n=$(sed -n 's/^ *neurons *\([0-9][0-9]*\) .*/\1/p' "$T/insp$k.txt")
    [ -n "$n" ] && [ "$n" -ge 20 ] && [ "$n" -le 40 ] || sessions_ok=0
done
check "inspect: each session is an LFADS file, 20 trials, 4 conditions, 20-40 neurons" [ "$sessions_ok" -eq 1 ]
check "train on one session alone" $ND train "$T/set/s2.h5" --out "$T/sess_run" $SMALL --max-epochs 1
expect_error "simulate: --sessions 0" "sessions" $ND simulate lorenz --sessions 0 --out "$T/xs"
expect_error "simulate: --sessions 257" "from 1 to 256" $ND simulate lorenz --sessions 257 --out "$T/xs"
expect_error "simulate: --neurons-min > --neurons-max" "must not exceed" $ND simulate lorenz --sessions 2 \
    --neurons-min 30 --neurons-max 10 --out "$T/xs"
expect_error "simulate: --neurons-min 0" "neurons-min" $ND simulate lorenz --sessions 2 --neurons-min 0 --out "$T/xs"
expect_error "simulate: --sessions for chaotic-rnn" "does not apply" $ND simulate chaotic-rnn --sessions 2 --out "$T/xs"
check "bad --sessions options left no directory" test ! -e "$T/xs"
expect_error "a mistyped command gets 'did you mean'" "did you mean 'train'" $ND trian x.h5
expect_error "an unrelated word gets no suggestion" "unknown command 'xyz' (try" $ND xyz
check "--version prints the library's version" sh -c "$ND --version | grep -qx 'neurodyn [0-9]*\.[0-9]*\.[0-9]*'"
# OpenBLAS's kernels: where OpenBLAS falls back to its generic ones on this CPU, the CLI restarts itself with the
# better core (nd_blas_suggested_core); an OPENBLAS_CORETYPE the user set is always kept
nd_clean() { env -u OPENBLAS_CORETYPE -u ND_BLAS_SET "$@"; }
blas_core=$(nd_clean $ND --blas-env | sed -n 's/^export OPENBLAS_CORETYPE=//p')
if [ -n "$blas_core" ]; then
    check "OpenBLAS does not know this CPU: the CLI runs the $blas_core kernels instead of its generic ones" sh -c \
        "env -u OPENBLAS_CORETYPE -u ND_BLAS_SET $ND --version | grep -q '^OpenBLAS kernels: $blas_core (OPENBLAS_CORETYPE set by neurodyn'"
else
    check "OpenBLAS knows this CPU: the CLI keeps its kernels (not the generic Prescott ones)" sh -c \
        "env -u OPENBLAS_CORETYPE -u ND_BLAS_SET $ND --version | grep '^OpenBLAS kernels:' | grep -vq Prescott"
fi
check "an OPENBLAS_CORETYPE the user set is kept" sh -c "env -u ND_BLAS_SET OPENBLAS_CORETYPE=Prescott $ND --version \
    | grep -qx 'OpenBLAS kernels: Prescott' && test -z \"\$(env -u ND_BLAS_SET OPENBLAS_CORETYPE=Prescott $ND --blas-env)\""
check "help of every command" sh -c "$ND --help && $ND simulate --help && $ND train --help && $ND infer --help \
    && $ND eval --help" >/dev/null

# --- analysis commands (compare, rdm, predict) on the simulated Lorenz file ---
L="$T/l.h5"
check "compare: CKA of a representation with itself is 1" sh -c \
    "$ND compare $L:train_truth $L:train_truth --method cka | grep -q 'cka (linear): 1.000000'"
for m in cca svcca pwcca cka cka-rbf cka-debiased procrustes rsa; do
    check "compare --method $m" sh -c "$ND compare $L:train_latents $L:train_truth --method $m >/dev/null"
done
check "compare --condition-average" sh -c "$ND compare $L:train_latents $L:train_truth --method cca \
    --condition-average --conditions $L:train_condition --json >/dev/null"
check "rdm (condition average) writes rdm and rdm_square" sh -c "$ND rdm $L:train_truth --out $T/rdm.h5 \
    --distance euclidean --condition-average --conditions $L:train_condition >/dev/null && test -s $T/rdm.h5"
check "rdm crossnobis" sh -c "$ND rdm $L:train_data --out $T/xn.h5 --distance crossnobis \
    --conditions $L:train_condition >/dev/null"
check "predict (ridge) with noise ceiling" sh -c "$ND predict $L:train_latents $L:train_truth --ridge 1 \
    --ceiling $L:train_truth --json >/dev/null"
check "predict (pls)" sh -c "$ND predict $L:train_latents $L:train_truth --pls 3 --folds 4 >/dev/null"
# --ridge takes its value optionally (--ridge, --ridge A, --ridge=A), as before the table parser
check "predict --ridge with no, a separate and an attached value" sh -c "$ND predict $L:train_latents $L:train_truth \
    --ridge --json | grep -q '\"alpha\":[[:space:]]*1,' && $ND predict $L:train_latents $L:train_truth --ridge 0.5 --json \
    | grep -q '\"alpha\":[[:space:]]*0.5,' && $ND predict $L:train_latents $L:train_truth --ridge=0 --folds 3 >/dev/null"
for c in "simulate lorenz --out $T/x.h5 --neuron 3:--neurons" "convert $L --out $T/x.h5 --bin-m 20:--bin-ms" \
         "compare $L:train_truth $L:train_truth --methd cca:--method" "infer $T/run --data $L --ot x.h5:--out" \
         "baseline smoothing $L --out $T/x.h5 --kernel 50:--kernel-ms" "export $T/run -o x.h5 --formt nlb:--format"; do
    expect_error "${c%% *}: a mistyped option gets 'did you mean'" "did you mean '${c##*:}'" $ND ${c%:*}
done
check "help of the analysis commands" sh -c "$ND compare --help && $ND rdm --help && $ND predict --help" >/dev/null
expect_error "compare: different sample counts" "same samples" $ND compare $L:train_truth $L:valid_truth
expect_error "compare: missing dataset" "no dataset 'nope'" $ND compare $L:nope $L:train_truth
expect_error "compare: not FILE:DATASET" "FILE:DATASET" $ND compare $L $L:train_truth
expect_error "compare: unknown method" "unknown method" $ND compare $L:train_truth $L:train_truth --method foo
expect_error "rdm: crossnobis without conditions" "needs --conditions" $ND rdm $L:train_data --out $T/x.h5 \
    --distance crossnobis
expect_error "predict: bad --pls" "bad value" $ND predict $L:train_latents $L:train_truth --pls x

# training, exact resume, determinism. Each run is trained in $T/run and then renamed, so that the
# paths recorded in the outputs are identical and the files can be compared byte for byte.
train_as() { name=$1; shift; rm -rf "$T/run"; [ -d "$T/$name" ] && mv "$T/$name" "$T/run"
    $ND train "$T/l.h5" --out "$T/run" $SMALL "$@"; rc=$?; mv "$T/run" "$T/$name"; return $rc; }
infer_as() { rm -rf "$T/run"; mv "$T/$1" "$T/run"
    $ND infer "$T/run" --data "$T/l.h5" --out "$T/out.h5" --samples 3 --quiet; rc=$?
    mv "$T/run" "$T/$1"; mv "$T/out.h5" "$T/out_$1.h5"; return $rc; }
check "train 4 epochs" train_as a --max-epochs 4
check "train 2 epochs" train_as b --max-epochs 2
check "resume to 4 epochs" train_as b --max-epochs 4 --resume
check "train again with the same seed" train_as c --max-epochs 4
check "train with another seed" train_as d --max-epochs 4 --seed 5
check "run directory holds config, checkpoints, log" test -s "$T/a/config.txt" -a -s "$T/a/last.ckpt" \
    -a -s "$T/a/best.ckpt" -a -s "$T/a/train_log.tsv"
check "log has one line per epoch after resume" test "$(wc -l <"$T/b/train_log.tsv")" -eq 5
for r in a b c d; do check "infer run $r" infer_as $r; done
check "resumed run == uninterrupted run (byte-identical outputs)" cmp -s "$T/out_a.h5" "$T/out_b.h5"
check "same seed and threads -> byte-identical outputs" cmp -s "$T/out_a.h5" "$T/out_c.h5"
check "another seed -> different outputs" sh -c "! cmp -s '$T/out_a.h5' '$T/out_d.h5'"
check "infer --posterior-mean" $ND infer "$T/a" --data "$T/l.h5" --out "$T/pm.h5" --posterior-mean --quiet
check "infer progress into a pipe: no carriage return, one finished line per split" sh -c \
    "$ND infer '$T/a' --data '$T/l.h5' --out '$T/pm2.h5' --posterior-mean | tee '$T/prog.txt' >/dev/null \
     && ! grep -q \"\$(printf '\\r')\" '$T/prog.txt' && test \$(grep -c 'trials\$' '$T/prog.txt') -eq 2"
check "jpca on condition-averaged factors" sh -c "$ND jpca '$T/pm.h5' --data '$T/l.h5' --dims 4 >/dev/null"
check "fixedpoints of the trained generator" sh -c "$ND fixedpoints '$T/a' --outputs '$T/pm.h5' --starts 32 >/dev/null"
check "ablate factors" sh -c "$ND ablate '$T/a' --data '$T/l.h5' --orders 2 >/dev/null"
check "jpca --conditions FILE:PATH gives what the default {split}_condition gives" sh -c "$ND jpca '$T/pm.h5' \
    --data '$T/l.h5' --dims 4 --json >'$T/j1.json' && $ND jpca '$T/pm.h5' --data '$T/l.h5' --dims 4 \
    --conditions '$T/l.h5:valid_condition' --json >'$T/j2.json' && cmp -s '$T/j1.json' '$T/j2.json' \
    && grep -q r2_skew '$T/j1.json'"
expect_error "a mistyped option gets 'did you mean'" "unknown option '--dimz'; did you mean '--dims'" \
    $ND jpca "$T/pm.h5" --data "$T/l.h5" --dimz 4
check "eval --json (no FILE) prints only the JSON to stdout" sh -c "$ND eval '$T/pm.h5' --data '$T/l.h5' --json \
    | /usr/bin/python3 -c 'import json, sys; d = json.load(sys.stdin); assert \"rate_r2\" in d'"
check "every --help ends with an example" sh -c "for c in train eval jpca ablate fixedpoints; do $ND \$c --help \
    | tail -1 | grep -q '^  neurodyn '\$c' ' || exit 1; done"
check "help of the dynamics commands" sh -c "$ND jpca --help && $ND fixedpoints --help && $ND ablate --help" >/dev/null
check "decode the condition from the spikes (above chance)" sh -c "$ND decode '$T/l.h5' --dataset data --target condition \
    --folds 3 --json > '$T/dec.json' && /usr/bin/env awk '/\"accuracy\"/{a=\$2} /\"chance\"/{c=\$2} END{exit !(a+0 > c+0)}' '$T/dec.json'"
check "decode the condition from the factors" sh -c "$ND decode '$T/pm.h5' --data '$T/l.h5' --dataset factors \
    --target condition --folds 3 | grep -q 'accuracy'"
expect_error "decode: missing target" "train_nosuch" $ND decode "$T/pm.h5" --data "$T/l.h5" --target nosuch
expect_error "decode: FILE:DATASET needs trial indices" "train_inds" $ND decode "$T/l.h5" --dataset data \
    --target "$T/l.h5:train_condition"
expect_error "jpca: odd --dims" "dims" $ND jpca "$T/pm.h5" --data "$T/l.h5" --dims 5
expect_error "fixedpoints: outputs without gen states" "valid_gen_states" $ND fixedpoints "$T/a" --outputs "$T/l.h5"
check "eval writes JSON with rate_r2" sh -c "$ND eval '$T/out_a.h5' --data '$T/l.h5' --json '$T/m.json' >/dev/null \
    && grep -q '\"rate_r2\"' '$T/m.json'"
nlb_nc=1
for k in co_bps fp_bps vel_r2; do grep -q "\"$k\":	\"no " "$T/m.json" || nlb_nc=0; done
grep -q '^	"psth_r2":	-*[0-9]' "$T/m.json" || nlb_nc=0
check "eval: plain LFADS data: co_bps/fp_bps/vel_r2 not_computed with a reason, psth_r2 from its conditions" \
    [ "$nlb_nc" -eq 1 ]
check "train on chaotic-rnn data (controller on)" $ND train "$T/c.h5" --out "$T/e" $SMALL --max-epochs 2
check "config file round trip (--config run/config.txt)" $ND train "$T/l.h5" --out "$T/f" --config "$T/a/config.txt" \
    --max-epochs 1 --quiet

# bad input -> one clear line, exit 1/2, never a crash
echo "not hdf5" >"$T/text.h5"
expect_error "missing data file" "nope.h5" $ND train "$T/nope.h5" --out "$T/x"
expect_error "data file that is not HDF5" "text.h5" $ND train "$T/text.h5" --out "$T/x"
expect_error "unknown --set key, with 'did you mean'" "unknown config key 'gen_dimm'; did you mean 'gen_dim'" $ND train "$T/l.h5" --out "$T/x" --set gen_dimm=3
expect_error "bad --set value" "gen_dim" $ND train "$T/l.h5" --out "$T/x" --set gen_dim=abc
expect_error "out-of-range value" "dropout_rate" $ND train "$T/l.h5" --out "$T/x" --set dropout_rate=1.5
expect_error "missing --out" "out" $ND train "$T/l.h5"
expect_error "unknown option" "" $ND train "$T/l.h5" --out "$T/x" --bogus
expect_error "infer without a run" "no such run" $ND infer "$T/none" --data "$T/l.h5" --out "$T/x.h5"
cp "$T/a/best.ckpt" "$T/trunc.ckpt"; truncate -s 1000 "$T/trunc.ckpt"
expect_error "truncated checkpoint" "trunc.ckpt" $ND infer "$T/trunc.ckpt" --data "$T/l.h5" --out "$T/x.h5"
expect_error "model/data mismatch" "neurons" $ND infer "$T/a" --data "$T/c.h5" --out "$T/x.h5"
expect_error "resume on different data" "shape" $ND train "$T/c.h5" --out "$T/a" $SMALL --resume
expect_error "unknown simulate generator" "generator" $ND simulate henon --out "$T/x.h5"
expect_error "unknown command" "unknown command" $ND frobnicate
# lfads-torch model YAML: keys carried over (scales in lfads-torch units), unusable keys listed on stderr
printf 'model:\n  gen_dim: 12\n  ic_enc_dim: 8\n  ic_dim: 8\n  fac_dim: 5\n  con_dim: 0\n  co_dim: 0\n  ci_enc_dim: 0\n  recon_reduce_mean: True\n  loss_scale: 1.0e+4\n  kl_ic_scale: 1.0e-6\n  weight_decay: 0.01\n' >"$T/torch.yaml"
check "train --config lfads-torch YAML" sh -c "$ND train '$T/l.h5' --out '$T/yrun' --config '$T/torch.yaml' --max-epochs 1 \
    --set batch_size=16 --quiet 2>'$T/yerr' && grep -q '^gen_dim *= *12' '$T/yrun/config.txt' \
    && grep -q '^recon_reduce_mean *= *1' '$T/yrun/config.txt' && grep -Eq '^kl_ic_scale *= *(1e-0?6|9[.]99999)' '$T/yrun/config.txt' \
    && grep -q weight_decay '$T/yerr' && test -s '$T/yrun/best.ckpt'"
printf 'model:\n  gen_dim: [12\n' >"$T/broken.yaml"
expect_error "broken YAML config names the file and line" "broken.yaml: line" $ND train "$T/l.h5" --out "$T/ybad" \
    --config "$T/broken.yaml"
check "inspect an LFADS file" sh -c "$ND inspect '$T/l.h5' | grep -q 'format: *LFADS'"
check "help of convert and inspect" sh -c "$ND convert --help && $ND inspect --help" >/dev/null
# inspect's uniform --json: to stdout instead of the text, --json=FILE and the older --json FILE.json write the same
# JSON and still print the text
check "inspect --json (stdout), --json=FILE and --json FILE.json agree" sh -c "$ND inspect '$T/l.h5' --json >'$T/i1.json' \
    && $ND inspect '$T/l.h5' --json='$T/i2.json' | grep -q '^summary:' && $ND inspect '$T/l.h5' --json '$T/i3.json' >/dev/null \
    && cmp -s '$T/i2.json' '$T/i3.json' && /usr/bin/python3 -c 'import json,sys; a=json.load(open(sys.argv[1])); \
b=json.load(open(sys.argv[2])); sys.exit(not (a == b and a[\"format\"] == \"LFADS\" and a[\"summary\"][\"train_trials\"] > 0))' \
    '$T/i1.json' '$T/i2.json'"
expect_error "inspect: a mistyped option gets 'did you mean'" "did you mean '--bin-ms'" $ND inspect "$T/l.h5" --bin-m 5
expect_error "convert an LFADS file" "already an LFADS file" $ND convert "$T/l.h5" --out "$T/x.h5" --bin-ms 20
expect_error "convert a text file" "text.h5" $ND convert "$T/text.h5" --out "$T/x.h5" --bin-ms 20
expect_error "convert without --bin-ms" "bin-ms" $ND convert "$T/l.h5" --out "$T/x.h5"
# neuron simulate: a small iaf file with the documented datasets; bad options give one line
check "neuron simulate --cell iaf" sh -c "$ND neuron simulate --cell iaf --sims 2 --seconds 1 --exc-rate-hz 5 --quiet \
    --out '$T/iaf.h5' >/dev/null && $ND inspect '$T/iaf.h5' >/dev/null 2>&1; test -s '$T/iaf.h5'"
expect_error "neuron simulate: unknown cell" "unknown --cell" $ND neuron simulate --cell pyramidal --out "$T/x.h5"
expect_error "neuron simulate: too short" "seconds" $ND neuron simulate --cell iaf --seconds 0.1 --out "$T/x.h5"
# neuron fit / eval: a 1-layer network learns the integrate-and-fire cell (held-out AUC well above chance),
# an extended --resume is bit-identical, and misuse gives one line
NF="--depth 1 --width 8 --first-kernel 50 --lr 3e-3 --threads 2 --batch 32 --quiet"
$ND neuron simulate --cell iaf --sims 150 --seconds 3 --exc-rate-hz 3.56 --out "$T/n_tr.h5" --quiet >/dev/null
$ND neuron simulate --cell iaf --sims 10 --seconds 3 --exc-rate-hz 3.56 --seed 1 --out "$T/n_te.h5" --quiet >/dev/null
check "neuron fit + eval: held-out spike AUC > 0.75" sh -c "$ND neuron fit '$T/n_tr.h5' --out '$T/nrun' $NF --epochs 4 \
    && $ND neuron eval '$T/nrun' --data '$T/n_te.h5' --json='$T/n.json' \
    && awk -F: '/spike_auc/ { exit !(\$2 + 0 > 0.75) }' '$T/n.json'"
check "neuron fit --resume (2 then 4 epochs) is bit-identical to 4 epochs" sh -c "$ND neuron fit '$T/n_tr.h5' \
    --out '$T/nrun2' $NF --epochs 2 && $ND neuron fit '$T/n_tr.h5' --out '$T/nrun2' $NF --epochs 4 --resume \
    && cmp '$T/nrun/last.ckpt' '$T/nrun2/last.ckpt' && cmp '$T/nrun/best.ckpt' '$T/nrun2/best.ckpt'"
check "neuron sweep: table, JSON and well-formed SVG curves; a rerun reuses the finished networks" sh -c "\
    $ND neuron sweep '$T/n_tr.h5' --test '$T/n_te.h5' --depths 1,2 --widths 4 --epochs 1 $NF --out '$T/sw' >/dev/null \
    && test \$(wc -l <'$T/sw/sweep.tsv') -eq 3 && grep -q spike_auc '$T/sw/sweep.json' \
    && /usr/bin/python3 -c 'import sys, xml.etree.ElementTree as E; [E.parse(f) for f in sys.argv[1:]]' \
       '$T/sw/auc_vs_depth.svg' '$T/sw/ev_vs_depth.svg' \
    && cp '$T/sw/d2_w4/last.ckpt' '$T/sw_before' \
    && $ND neuron sweep '$T/n_tr.h5' --test '$T/n_te.h5' --depths 1,2 --widths 4 --epochs 1 $NF --out '$T/sw' >/dev/null \
    && cmp '$T/sw_before' '$T/sw/d2_w4/last.ckpt'"
expect_error "neuron sweep: bad --depths" "depths" $ND neuron sweep "$T/n_tr.h5" --test "$T/n_te.h5" --depths 1,x --out "$T/sw2"
check "neuron filters: HDF5 written, SVG well-formed" sh -c "\
    $ND neuron filters '$T/nrun' --out '$T/filt.h5' --svg '$T/filt.svg' --distance-bins 1 >/dev/null \
    && /usr/bin/python3 -c 'import xml.etree.ElementTree as E; E.parse(\"$T/filt.svg\")' \
    && $ND inspect '$T/filt.h5' >/dev/null 2>&1; test -s '$T/filt.h5'"
expect_error "neuron fit into a used run directory" "already holds a run" $ND neuron fit "$T/n_tr.h5" --out "$T/nrun" $NF
$ND neuron simulate --cell branched-ampa --sims 1 --seconds 0.6 --exc-rate-hz 3 --out "$T/n_br.h5" --quiet >/dev/null
expect_error "neuron eval on another cell's simulations" "fitted on" $ND neuron eval "$T/nrun" --data "$T/n_br.h5"
expect_error "neuron eval without a run" "no such run" $ND neuron eval "$T/none" --data "$T/n_te.h5"
expect_error "neuron fit on an LFADS file" "soma_v" $ND neuron fit "$T/l.h5" --out "$T/nrun3" $NF
# learn: rules on the teacher task, exact resume, gradient measurement; Fashion-MNIST when its package is there
LT="--task teacher --rule fa --threads 2 --quiet"
check "learn train --resume (2 then 3 epochs) is bit-identical to 3 epochs" sh -c "$ND learn train $LT --epochs 3 \
    --out '$T/la' && $ND learn train $LT --epochs 2 --out '$T/lb' && $ND learn train --resume --epochs 3 --out '$T/lb' \
    --quiet && cmp '$T/la/last.ckpt' '$T/lb/last.ckpt' && test -s '$T/la/model.h5'"
check "learn gradients: bp exact, wp variance large" sh -c "$ND learn gradients '$T/la' --rules bp,wp --samples 50 \
    --json='$T/lg.json' >/dev/null && test -s '$T/la/gradients.h5' \
    && /usr/bin/python3 -c 'import json,sys; e=json.load(open(sys.argv[1]))[\"estimates\"]; \
assert e[0][\"angle_deg\"] < 0.01 and e[0][\"variance\"] == 0 and e[2][\"variance\"] > 10, e' '$T/lg.json'"
LB="--task teacher --rule np --baseline running --sigma 0.3 --lr 0.01 --threads 2 --quiet"
check "learn train np --baseline running: --resume (2 then 3 epochs) is bit-identical (the baseline is checkpointed)" \
    sh -c "$ND learn train $LB --epochs 3 --out '$T/lrb1' && $ND learn train $LB --epochs 2 --out '$T/lrb2' && \
    $ND learn train --resume --epochs 3 --threads 2 --out '$T/lrb2' --quiet && cmp '$T/lrb1/last.ckpt' '$T/lrb2/last.ckpt'"
expect_error "learn train: unknown rule" "unknown --rule" $ND learn train --task teacher --rule hebb --out "$T/lx"
expect_error "learn train: unknown task" "unknown --task" $ND learn train --task mnist --rule bp --out "$T/lx"
expect_error "learn train: flipflop needs --rnn" "needs a recurrent network" $ND learn train --task flipflop --rule bp --out "$T/lx"
expect_error "learn train: --rnn on a feed-forward task" "not recurrent" $ND learn train --task orientation --rnn 8 --rule bptt --out "$T/lx"
expect_error "learn train: a feed-forward rule for --rnn" "bptt, rflo" $ND learn train --task flipflop --rnn 8 --rule fa --out "$T/lx"
expect_error "learn train: bptt without --rnn" "needs --rnn" $ND learn train --task teacher --rule bptt --out "$T/lx"
expect_error "learn train: architecture that does not fit the orientation task" "256 inputs and 2 outputs" $ND learn train \
    --task orientation --rule bp --arch 784-10 --out "$T/lx"
expect_error "learn tuning on a run of another task" "needs an orientation run" $ND learn tuning "$T/la"
expect_error "learn compare without a run" "not found" $ND learn compare "$T/la" "$T/none"
# reward learning, tuning, compare: a hierarchical network on orientation (1 epoch), the teacher runs
check "learn train --task orientation (reward only) + learn tuning: a table for layers 1..4 and tuning.h5" sh -c "\
    $ND learn train --task orientation --rule bp --epochs 1 --threads 2 --out '$T/lor' --quiet && \
    $ND learn tuning '$T/lor' > '$T/tun.txt' && test -s '$T/lor/tuning.h5' && grep -q '^4 ' '$T/tun.txt'"
check "learn compare: a run's CKA to itself is 1, to another rule's below 1; SVG parses" sh -c "\
    $ND learn train --task teacher --rule bp --epochs 3 --threads 2 --out '$T/lbp' --quiet && \
    $ND learn compare '$T/la' '$T/lbp' --svg '$T/lc.svg' > '$T/lc.txt' && \
    /usr/bin/python3 -c 'import xml.etree.ElementTree as E; E.parse(\"$T/lc.svg\")' && \
    awk '/trained vs/ {t = 1; next} t && NR > 0 {print}' '$T/lc.txt' | head -2 > '$T/lc2.txt' && \
    awk 'NR == 1 && \$NF != \"1.000\" {exit 1} NR == 2 && \$NF + 0 >= 0.9999 {exit 1}' '$T/lc2.txt'"
# recurrent: BPTT on the 3-bit flip-flop, exact resume, fixed points of the trained network (8 stable)
LR="--task flipflop --rnn 16 --rule bptt --batch 16 --lr 0.01 --threads 1 --quiet"
check "learn train --rnn --resume (2 then 6 epochs) is bit-identical to 6 epochs" sh -c "$ND learn train $LR --epochs 6 \
    --out '$T/lr1' && $ND learn train $LR --epochs 2 --out '$T/lr2' && $ND learn train --resume --epochs 6 --out '$T/lr2' \
    --quiet && cmp '$T/lr1/last.ckpt' '$T/lr2/last.ckpt'"
check "fixedpoints of a flip-flop RNN (16 units, BPTT): 8 stable fixed points" sh -c "$ND fixedpoints '$T/lr1' \
    --outputs '$T/lr1/model.h5' --starts 128 --noise 0.1 --json='$T/ffp.json' >/dev/null && \
    /usr/bin/python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); assert j[\"stable\"] == 8, j[\"stable\"]' '$T/ffp.json'"
expect_error "learn gradients on a recurrent run" "recurrent (--rnn) run" $ND learn gradients "$T/lr1"
check "learn train --rnn --rule rflo runs (1 epoch)" $ND learn train --task flipflop --rnn 8 --rule rflo --epochs 1 \
    --threads 1 --quiet --out "$T/lr3"
expect_error "learn train: missing Fashion-MNIST" "dataset-fashion-mnist" $ND learn train --task fashion-mnist --rule bp \
    --data-dir /nonexistent --out "$T/lx"
expect_error "learn train into a used run directory" "already holds a run" $ND learn train $LT --out "$T/la"
# neuron and learn on the common option parser: every subcommand's --help ends with its examples, a mistyped
# subcommand or option gets "did you mean", the older --json FILE.json form is accepted
check "neuron and learn: every subcommand's --help ends with an example" sh -c "for c in 'neuron simulate' 'neuron fit' \
    'neuron eval' 'neuron sweep' 'neuron filters' 'neuron compare' 'learn train' 'learn gradients' 'learn compare' \
    'learn tuning'; do $ND \$c --help | tail -1 | grep -q \"^  neurodyn \$c \" || exit 1; done \
    && $ND neuron --help | tail -1 | grep -q '^  neurodyn neuron ' && $ND learn --help | tail -1 | grep -q '^  neurodyn learn '"
expect_error "neuron: a mistyped subcommand gets 'did you mean'" "did you mean 'sweep'" $ND neuron swep x.h5
expect_error "learn train: a mistyped option gets 'did you mean'" "did you mean '--epochs'" $ND learn train $LT --epoch 2 \
    --out "$T/lx"
check "neuron eval --json FILE.json (the older form) writes the file" sh -c "$ND neuron eval '$T/nrun' --data '$T/n_te.h5' \
    --json '$T/n2.json' >/dev/null && cmp '$T/n.json' '$T/n2.json'"
if [ -r /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ]; then
    expect_error "learn train: architecture that does not fit Fashion-MNIST" "inputs" $ND learn train \
        --task fashion-mnist --rule bp --arch 100-10 --out "$T/lx"
    check "learn train: bp on Fashion-MNIST, 784-64-10, 1 epoch: test accuracy > 0.80" sh -c "$ND learn train \
        --task fashion-mnist --rule bp --arch 784-64-10 --epochs 1 --out '$T/lfm' --threads 2 | \
        awk '/^epoch/ { a = \$NF } END { exit !(a > 0.80) }'"
else
    echo "skip learn on Fashion-MNIST: /usr/share/datasets/fashion-mnist not installed (apt-get install dataset-fashion-mnist)"
fi
check "failed runs left no output files" test ! -e "$T/x.h5"

echo "RESULT $pass $fail $skip"
[ "$fail" -eq 0 ]
