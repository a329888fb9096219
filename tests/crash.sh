#!/bin/bash
# Crash safety: SIGKILL `neurodyn train` at 20 random moments (half of them inside a checkpoint
# write, through the ND_FAULT_WRITE_KILL hook), resume with --resume each time, and check that the
# final checkpoints equal an uninterrupted run's byte for byte.
ND=${NEURODYN:-bin/neurodyn}
case "$ND" in /*) ;; *) ND="$(pwd)/$ND" ;; esac
T=$(mktemp -d /tmp/nd_crash_XXXXXX)
trap 'rm -rf "$T"' EXIT
pass=0; fail=0
ok() { echo "ok   $1"; pass=$((pass + 1)); }
bad() { echo "FAIL $1"; fail=$((fail + 1)); }
RANDOM=7
ARGS="--set gen_dim=12 --set ic_enc_dim=8 --set ic_dim=6 --set fac_dim=5 --set con_dim=6 --set ci_enc_dim=6
 --set co_dim=2 --set batch_size=8 --set kl_increase_epoch=5 --set l2_increase_epoch=5 --max-epochs 700
 --set es_patience=100000 --set lr_stop=1e-30
 --threads 2 --quiet"
$ND simulate lorenz --out "$T/d.h5" --conditions 4 --trials-per-condition 6 --neurons 8 --bins 15 --seed 3 >/dev/null
$ND train "$T/d.h5" --out "$T/ref" $ARGS || bad "uninterrupted reference run"

tried=0; killed=0; failed_resume=0
for i in $(seq 1 20); do
    tried=$((tried + 1))
    if [ $((i % 2)) -eq 0 ]; then
        # die half-way through the k-th write of this process (checkpoints, config, log)
        ( ND_FAULT_WRITE_KILL=$((1 + RANDOM % 60)) exec $ND train "$T/d.h5" --out "$T/run" $ARGS --resume ) 2>/dev/null
        rc=$?
    else
        $ND train "$T/d.h5" --out "$T/run" $ARGS --resume &
        pid=$!
        sleep "0.$(printf '%02d' $((5 + RANDOM % 40)))"
        kill -9 $pid 2>/dev/null
        wait $pid 2>/dev/null
        rc=$?
    fi
    if [ $rc -eq 137 ]; then killed=$((killed + 1))
    elif [ $rc -ne 0 ]; then failed_resume=$((failed_resume + 1)); echo "    attempt $i: exit status $rc" >&3; fi
done 3>&1 2>/dev/null
$ND train "$T/d.h5" --out "$T/run" $ARGS --resume || bad "final resume"
echo "    SIGKILLs that landed: $killed of $tried attempts; resumes that failed: $failed_resume"
if [ $failed_resume -eq 0 ] && [ $killed -ge 10 ]; then ok "every resume after SIGKILL worked"; else bad "resumes after SIGKILL"; fi
if cmp -s "$T/ref/last.ckpt" "$T/run/last.ckpt"; then ok "final last.ckpt == uninterrupted run, byte for byte"
else bad "final last.ckpt differs from the uninterrupted run"; fi
if cmp -s "$T/ref/best.ckpt" "$T/run/best.ckpt"; then ok "final best.ckpt == uninterrupted run, byte for byte"
else bad "final best.ckpt differs from the uninterrupted run"; fi
if [ "$(cut -f1-12 "$T/ref/train_log.tsv")" = "$(cut -f1-12 "$T/run/train_log.tsv")" ]; then
    ok "training log == uninterrupted run (timing column aside)"
else bad "training log differs"; fi
echo "RESULT $pass $fail 0"
[ $fail -eq 0 ]
