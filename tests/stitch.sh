#!/bin/bash
# Stitched (multi-session) LFADS end to end on tiny synthetic sessions: train over three sessions, resume
# exactly, infer each session (found by file name, or --session), and clear errors for sessions that do not
# fit together or a data file the model was not stitched over.
ND=${NEURODYN:-bin/neurodyn}
case "$ND" in /*) ;; *) ND="$(pwd)/$ND" ;; esac
EXPERIMENT="$(pwd)/scripts/stitch.sh"
T=$(mktemp -d /tmp/nd_stitch_XXXXXX)
trap 'rm -rf "$T"' EXIT
cd "$T" || exit 1
pass=0; fail=0; skip=0
ok() { echo "ok   $1"; pass=$((pass + 1)); }
bad() { echo "FAIL $1"; fail=$((fail + 1)); }
$ND simulate lorenz --sessions 3 --neurons-min 6 --neurons-max 12 --conditions 4 --trials-per-condition 6 \
    --bins 15 --seed 3 --out d >/dev/null
SMALL="--set gen_dim=12 --set ic_enc_dim=8 --set ic_dim=6 --set fac_dim=5 --set con_dim=6 --set ci_enc_dim=6
 --set co_dim=2 --set batch_size=8 --set kl_increase_epoch=1 --set l2_increase_epoch=1 --threads 1"
S3="d/s1.h5 d/s2.h5 d/s3.h5"
# shellcheck disable=SC2086
if $ND train $S3 --out full --max-epochs 4 $SMALL >full.out 2>&1 && grep -q 'stitched over 3 sessions' full.out &&
   [ "$(grep -c '^  session [123]:' full.out)" -eq 3 ] && [ -s full/best.ckpt ]; then
    ok "train S1 S2 S3: one stitched model"
else bad "stitched train"; cat full.out; fi
grep -q '^readin_dim = 0' full/config.txt && ok "config.txt records readin_dim" || bad "readin_dim not in config.txt"
# near-singular read-ins (4 conditions, 7 PCs): the PCR read-out is scaled down instead of overflowing exp()
if $ND train $S3 --out sing --max-epochs 3 --set gen_dim=12 --set fac_dim=7 --threads 1 >sing.out 2>&1 &&
   ! grep -q 'NaN' sing.out && grep -q 'scaled down' sing.out; then ok "near-singular PCR read-outs: no divergence"
else bad "near-singular PCR read-outs"; cat sing.out; fi
# resume: 2 epochs, then 2 more, byte-identical to 4 at once
# shellcheck disable=SC2086
$ND train $S3 --out part --max-epochs 2 $SMALL --quiet && $ND train $S3 --out part --max-epochs 4 $SMALL --resume --quiet
if cmp -s full/last.ckpt part/last.ckpt; then ok "stitched resume: identical checkpoint"
else bad "stitched resume differs"; fi
# shellcheck disable=SC2086
if ! $ND train d/s2.h5 d/s1.h5 d/s3.h5 --out part --max-epochs 5 $SMALL --resume --quiet 2>ord.err &&
   grep -q 'sessions' ord.err; then ok "resume with the sessions in another order: refused"
else bad "reordered resume accepted"; cat ord.err; fi
# infer: each session by file name, rates with that session's neurons
good=1
for k in 1 2 3; do
    n=$($ND inspect d/s$k.h5 | awk '$1 == "neurons" { print $2; exit }')
    if $ND infer full --data d/s$k.h5 --out o$k.h5 --samples 2 --quiet 2>inf.err &&
       $ND inspect o$k.h5 | grep -qE "valid_output_params .*\([0-9]+, 15, $n\)"; then :; else good=0; cat inf.err; fi
    $ND eval o$k.h5 --data d/s$k.h5 --json o$k.json >/dev/null 2>&1 || good=0
    grep -q '"rate_r2"' o$k.json || good=0
done
[ $good = 1 ] && ok "infer + eval of each session (rates of the session's neurons)" || bad "per-session infer/eval"
cp d/s2.h5 renamed.h5
if ! $ND infer full --data renamed.h5 --out x.h5 --quiet 2>ren.err && grep -q 'pass --session' ren.err &&
   [ "$(wc -l < ren.err)" -eq 1 ]; then ok "unknown session file: one-line error asking for --session"
else bad "unknown session file"; cat ren.err; fi
if $ND infer full --data renamed.h5 --session 2 --out x.h5 --quiet && $ND inspect x.h5 | grep -q valid_output_params
then ok "--session 2"
else bad "--session 2"; fi
if ! $ND infer full --data renamed.h5 --session 1 --out y.h5 --quiet 2>s1.err && grep -q 'session 1' s1.err; then
    ok "--session with the wrong neurons: clear error"
else bad "--session 1 on session 2's data"; cat s1.err; fi
# sessions that do not fit together: other bin counts
$ND simulate lorenz --out other.h5 --conditions 4 --trials-per-condition 6 --neurons 7 --bins 20 >/dev/null
# shellcheck disable=SC2086
if ! $ND train d/s1.h5 other.h5 --out bad --max-epochs 1 $SMALL --quiet 2>bins.err && grep -q 'must agree' bins.err; then
    ok "sessions with different bin counts: refused"
else bad "mismatched sessions"; cat bins.err; fi
if ! $ND ablate full --data d/s1.h5 2>abl.err && grep -q 'stitched' abl.err; then ok "ablate refuses stitched models"
else bad "ablate on a stitched model"; cat abl.err; fi
# A small stitching experiment (scripts/stitch.sh; docs/stitching.md has the full one): 3 sessions of 20-40
# neurons, 12 conditions x 8 trials x 30 bins, a small model, 300 epochs each. The stitched model must beat the
# per-session models on every session's rate R^2, and its sessions' condition-averaged factors must agree
# (mean CCA > 0.95, above that of the separate models). ~30 s; skipped under make asan (STITCH_EXPERIMENT=skip).
if [ "${STITCH_EXPERIMENT:-run}" = skip ]; then
    echo "skip stitching experiment (STITCH_EXPERIMENT=skip)"; skip=$((skip + 1))
else
    NEURODYN="$ND" SESSIONS=3 EPOCHS=300 THREADS=2 SEED=1 \
    MODEL="--set co_dim=0 --set gen_dim=32 --set ic_enc_dim=32 --set ic_dim=32 --set fac_dim=10" \
    DATA="--conditions 12 --trials-per-condition 8 --bins 30" sh "$EXPERIMENT" exp >exp.out 2>&1
    rows=$(grep -cE '^\| [0-9]+ \|' exp.out)
    better=$(awk -F'|' '$2 ~ /^ [0-9]+ $/ && $4 + 0 > $5 + 0' exp.out | wc -l)
    cca_ok=$(awk '/mean CCA/ { s = $(NF - 7); m = $(NF - 2); exit !(s > 0.95 && s > m) }' exp.out && echo 1)
    if [ "$rows" -eq 3 ] && [ "$better" -eq 3 ] && [ "$cca_ok" = 1 ]; then
        ok "stitched beats per-session models on all 3 sessions; shared factors ($(grep 'mean CCA' exp.out))"
    else bad "stitching experiment"; cat exp.out; fi
fi
echo "RESULT $pass $fail $skip"
[ $fail = 0 ]
