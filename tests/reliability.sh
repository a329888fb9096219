#!/bin/bash
# Divergence and resource failures: NaN roll-back, give-up limit, damaged checkpoints, unwritable
# output, disk full and allocation failures -> clear errors, exit != 0, previous outputs intact.
ND=${NEURODYN:-bin/neurodyn}
case "$ND" in /*) ;; *) ND="$(pwd)/$ND" ;; esac
T=$(mktemp -d /tmp/nd_rel_XXXXXX)
trap '[ -n "$KEEP" ] || rm -rf "$T"' EXIT
pass=0; fail=0
ok() { echo "ok   $1"; pass=$((pass + 1)); }
bad() { echo "FAIL $1"; fail=$((fail + 1)); }
ARGS="--set gen_dim=12 --set ic_enc_dim=8 --set ic_dim=6 --set fac_dim=5 --set con_dim=6 --set ci_enc_dim=6
 --set co_dim=2 --set batch_size=8 --set kl_increase_epoch=1 --set l2_increase_epoch=1 --threads 2"
$ND simulate lorenz --out "$T/d.h5" --conditions 4 --trials-per-condition 6 --neurons 8 --bins 15 --seed 3 >/dev/null

# 1. one NaN: roll back, halve the learning rate, finish; nothing non-finite reaches the outputs
ND_FAULT_NAN_STEP=7 $ND train "$T/d.h5" --out "$T/nan1" $ARGS --max-epochs 6 >"$T/o1" 2>&1; rc=$?
if [ $rc -eq 0 ] && grep -q "rolled back to the start of the epoch" "$T/o1"; then ok "a NaN gradient is rolled back and training finishes"
else bad "NaN roll-back (exit $rc): $(tail -2 "$T/o1")"; fi
if $ND infer "$T/nan1" --data "$T/d.h5" --out "$T/nan1.h5" --quiet && $ND eval "$T/nan1.h5" --data "$T/d.h5" --json "$T/m.json" >/dev/null \
   && ! grep -Eqi ':[[:space:]]*(null|-?nan|-?inf)' "$T/m.json"; then ok "outputs after a roll-back are finite"; else bad "outputs after a roll-back"; fi

# 2. NaN from step 10 on: give up after max_nan_restarts with a clear message; earlier checkpoints stay usable
ND_FAULT_NAN_STEP=10+ $ND train "$T/d.h5" --out "$T/nan2" $ARGS --max-epochs 20 --set max_nan_restarts=3 >"$T/o2" 2>"$T/e2"; rc=$?
if [ $rc -eq 1 ] && grep -q "training diverged" "$T/e2" && [ "$(grep -c "rolled back" "$T/o2")" -eq 3 ]; then
    ok "persistent NaN: 3 roll-backs, then a clear error"
else bad "persistent NaN (exit $rc): $(cat "$T/e2")"; fi
if $ND infer "$T/nan2" --data "$T/d.h5" --out "$T/nan2.h5" --quiet --samples 2; then ok "the last good checkpoint is still usable"
else bad "last good checkpoint after giving up"; fi

# 3. damaged last.ckpt: resume falls back to last.prev.ckpt; both damaged: clear error
$ND train "$T/d.h5" --out "$T/dmg" $ARGS --max-epochs 3 --quiet
head -c 500 "$T/dmg/last.ckpt" >"$T/x" && mv "$T/x" "$T/dmg/last.ckpt"
if $ND train "$T/d.h5" --out "$T/dmg" $ARGS --max-epochs 4 --resume 2>&1 | grep -q "resuming from the previous checkpoint"; then
    ok "truncated last.ckpt: resumed from last.prev.ckpt"
else bad "fallback to last.prev.ckpt"; fi
printf 'garbage' >"$T/dmg/last.ckpt"; printf 'garbage' >"$T/dmg/last.prev.ckpt"
$ND train "$T/d.h5" --out "$T/dmg" $ARGS --max-epochs 5 --resume --quiet >/dev/null 2>"$T/e3"; rc=$?
if [ $rc -eq 1 ] && [ "$(wc -l <"$T/e3")" -eq 1 ] && grep -q "last.prev.ckpt" "$T/e3"; then ok "both checkpoints damaged: one clear error"
else bad "both damaged (exit $rc): $(cat "$T/e3")"; fi

# 4. unwritable output directory
echo x >"$T/file"
$ND train "$T/d.h5" --out "$T/file/run" $ARGS --max-epochs 1 --quiet 2>"$T/e4"; rc=$?
if [ $rc -eq 1 ] && grep -q "cannot create run directory" "$T/e4"; then ok "unwritable output directory: clear error"
else bad "unwritable output (exit $rc): $(cat "$T/e4")"; fi

# 5. disk full while writing a checkpoint: error, the previous checkpoint intact
$ND train "$T/d.h5" --out "$T/full" $ARGS --max-epochs 2 --quiet
cp "$T/full/last.ckpt" "$T/last.before"
ND_FAULT_WRITE_ENOSPC=3 $ND train "$T/d.h5" --out "$T/full" $ARGS --max-epochs 4 --resume --quiet 2>"$T/e5"; rc=$?
if [ $rc -eq 1 ] && grep -q "No space left on device" "$T/e5" && cmp -s "$T/full/last.ckpt" "$T/last.before" \
   && ! ls "$T/full"/*.tmp >/dev/null 2>&1; then ok "disk full: clear error, previous checkpoint intact, no temp files"
else bad "disk full (exit $rc): $(cat "$T/e5")"; fi

# 6. allocation failures at many points: clean error or success, never a crash
crashes=0; clean=0
for k in 1 2 3 4 5 6 8 10 13 17 22 30 40 55 75 100; do
    ND_FAULT_ALLOC=$k $ND train "$T/d.h5" --out "$T/oom$k" $ARGS --max-epochs 1 --quiet >/dev/null 2>"$T/e6"; rc=$?
    if [ $rc -eq 0 ]; then :
    elif [ $rc -eq 1 ] && [ "$(wc -l <"$T/e6")" -eq 1 ] && grep -q "out of memory" "$T/e6"; then clean=$((clean + 1))
    else crashes=$((crashes + 1)); echo "    ND_FAULT_ALLOC=$k: exit $rc: $(head -c 200 "$T/e6")"; fi
done
if [ $crashes -eq 0 ] && [ $clean -ge 5 ]; then ok "allocation failures: $clean clean 'out of memory' errors, no crash"
else bad "allocation failures: $crashes bad exits"; fi

# Ctrl-C (SIGINT) during train: stops after the epoch's checkpoint, exit 130, prints the --resume command; resuming
# gives the bits of an uninterrupted run. The signal is sent once the first epoch is logged, so it lands mid-run.
$ND train "$T/d.h5" --out "$T/ci_ref" $ARGS --max-epochs 12 --quiet
$ND train "$T/d.h5" --out "$T/ci" $ARGS --max-epochs 12 >"$T/ci.out" 2>"$T/ci.err" & p=$!
for i in $(seq 1 400); do grep -q "^epoch" "$T/ci.out" 2>/dev/null && break; sleep 0.05; done
kill -INT $p; wait $p; rc=$?
n=$(grep -c "^epoch" "$T/ci.out")
if [ $rc -eq 130 ] && [ "$n" -lt 12 ] && grep -q "continue with: neurodyn train .* --out $T/ci .*--resume" "$T/ci.err" \
   && grep -q "(interrupted)" "$T/ci.out"; then ok "Ctrl-C stops train after epoch $n's checkpoint and prints the --resume line"
else bad "Ctrl-C (exit $rc, $n epochs): $(cat "$T/ci.err")"; fi
$ND train "$T/d.h5" --out "$T/ci" $ARGS --max-epochs 12 --resume --quiet
if cmp -s "$T/ci/last.ckpt" "$T/ci_ref/last.ckpt" && cmp -s "$T/ci/best.ckpt" "$T/ci_ref/best.ckpt"; then
    ok "after Ctrl-C, --resume == an uninterrupted run (bit for bit)"
else bad "resume after Ctrl-C differs from the uninterrupted run"; fi

echo "RESULT $pass $fail 0"
[ $fail -eq 0 ]
