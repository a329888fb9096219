#!/bin/sh
# End-to-end test of the NLB metrics in `neurodyn eval`: scores the tiny lfads-torch-layout file
# tests/fixtures/nlb_tiny_data.h5 (held-out neurons, forward bins, behaviour, conditions, a test split with
# targets, truth) with the rates in tests/fixtures/nlb_tiny_out.h5, and compares the JSON with the values
# tests/fixtures/nlb_reference.py computed with numpy/scipy/sklearn (tests/fixtures/nlb_tiny_ref.txt).
# Prints ok/FAIL lines and a RESULT line.
ND=${NEURODYN:-bin/neurodyn}
case "$ND" in /*) ;; *) ND="$(pwd)/$ND" ;; esac
FX=$(cd "$(dirname "$0")/fixtures" && pwd)
T=$(mktemp -d /tmp/nd_nlb_XXXXXX)
trap 'rm -rf "$T"' EXIT
pass=0; fail=0
ok() { echo "ok   $1"; pass=$((pass + 1)); }
bad() { echo "FAIL $1"; fail=$((fail + 1)); }
check() { name=$1; shift; if "$@"; then ok "$name"; else bad "$name"; fi; }

# json_num FILE KEY: the number cJSON printed for a top-level key ("key":<tab>value,)
json_num() { sed -n "s/^	\"$2\":	\([-0-9.eE+]*\),*\$/\1/p" "$1"; }
# near A B: |A - B| <= 1e-6 (1 + |B|)
near() { awk -v a="$1" -v b="$2" 'BEGIN { d = a - b; if (d < 0) d = -d; m = b < 0 ? -b : b;
    exit !(a != "" && d <= 1e-6 * (1 + m)) }'; }

D="$FX/nlb_tiny_data.h5"; O="$FX/nlb_tiny_out.h5"
if $ND eval "$O" --data "$D" --eval-split all --behaviour-lag-ms 40 --psth-kernel-ms 30 --json "$T/m.json" \
    >"$T/table" 2>"$T/err"; then
    ok "eval on a tiny lfads-torch file"
else
    bad "eval on a tiny lfads-torch file ($(head -c 300 "$T/err"))"
fi
for k in co_bps fp_bps vel_r2 psth_r2 rate_r2 vel_r2_alpha; do
    want=$(sed -n "s/^$k //p" "$FX/nlb_tiny_ref.txt"); got=$(json_num "$T/m.json" $k)
    if near "$got" "$want"; then ok "$k = $got (reference $want)"; else bad "$k = '$got', reference $want"; fi
done
check "eval trials are valid + test (6 + 5)" sh -c "grep -q '\"eval_splits\":	\"valid+test\"' '$T/m.json' \
    && grep -q '\"eval_trials\":	11' '$T/m.json'"
check "no NaN/null in the JSON" sh -c "! grep -q -i 'nan\|null' '$T/m.json'"
check "human-readable table lists the metrics" sh -c "grep -q '^co_bps ' '$T/table' && grep -q '^psth_r2 ' '$T/table'"

# --eval-split valid scores 6 trials; --eval-split test 5
check "--eval-split valid" sh -c "$ND eval '$O' --data '$D' --eval-split valid --json '$T/v.json' >/dev/null \
    && grep -q '\"eval_trials\":	6' '$T/v.json'"
check "--eval-split test" sh -c "$ND eval '$O' --data '$D' --eval-split test --json '$T/t.json' >/dev/null \
    && grep -q '\"eval_trials\":	5' '$T/t.json'"
# the default: the test split, as the file holds its targets (the valid trials chose best.ckpt)
check "default eval split: test (5 trials), named in the table" sh -c "$ND eval '$O' --data '$D' --json '$T/d.json' \
    >'$T/d.txt' && grep -q '\"eval_trials\":	5' '$T/d.json' && grep -q 'eval trials: 5 (test); default' '$T/d.txt'"
# a lag that is not the file's lag plus whole bins: vel_r2 not computed, with the reason
check "vel_r2 not computed for a lag of half a bin" sh -c "$ND eval '$O' --data '$D' --behaviour-lag-ms 10 \
    --json '$T/l.json' >/dev/null && grep -q '\"vel_r2\":	\".*whole number' '$T/l.json'"
# uniform averaging is accepted and gives a number
check "--vel-r2-average uniform" sh -c "$ND eval '$O' --data '$D' --vel-r2-average uniform --json '$T/u.json' \
    >/dev/null && grep -q '\"vel_r2_average\":	\"uniform\"' '$T/u.json'"
# infer writes the test split of an lfads-torch file (test_output_params), which eval then scores
check "train + infer on the tiny file, eval scores valid + test" sh -c "$ND train '$D' --out '$T/run' --max-epochs 2 \
    --quiet --threads 1 --set gen_dim=8 --set ic_enc_dim=4 --set ic_dim=4 --set fac_dim=3 --set con_dim=0 \
    --set co_dim=0 --set ci_enc_dim=0 --set batch_size=8 && $ND infer '$T/run' --data '$D' --out '$T/inf.h5' \
    --posterior-mean >/dev/null && $ND eval '$T/inf.h5' --data '$D' --eval-split all --json '$T/i.json' >/dev/null \
    && grep -q '\"eval_splits\":	\"valid+test\"' '$T/i.json' && grep -q '\"co_bps\":	-*[0-9]' '$T/i.json'"
"$ND" simulate lorenz --out "$T/l.h5" --conditions 2 --trials-per-condition 5 --neurons 6 --bins 10 >/dev/null 2>&1
# eval needs valid_output_params: a simulate file has none -> clear error, exit 1
"$ND" eval "$T/l.h5" --data "$T/l.h5" >"$T/out" 2>"$T/err"; rc=$?
if [ "$rc" -eq 1 ] && [ "$(wc -l <"$T/err")" -eq 1 ] && grep -q "valid_output_params" "$T/err"; then
    ok "outputs without valid_output_params: one clear line"
else
    bad "outputs without valid_output_params (exit $rc: $(head -c 200 "$T/err"))"
fi
"$ND" eval "$O" --data "$D" --eval-split nope >"$T/out" 2>"$T/err"; rc=$?
check "bad --eval-split is a usage error" sh -c "[ $rc -eq 2 ] && grep -q 'eval-split' '$T/err'"
# nlb_tools' tensor files (make_*_tensors + save_to_h5; tests/fixtures/make_nlb_tensors_fixture.py): convert reads
# them, entry by entry as the generator's formula says (tests/fixtures/check_nlb_tensors.py), and train reads the
# result of the test phase (hidden eval targets)
NV="$FX/nlb_tensors_val.h5"; NT="$FX/nlb_tensors_test.h5"
check "convert: nlb_tools validation-phase tensors (eval targets in a group), --keep-test-targets" \
    sh -c "$ND convert '$NV' --out '$T/nv.h5' --bin-ms 5 --keep-test-targets >'$T/cv' 2>&1 && grep -q nlb_tools '$T/cv' \
    && grep -q '24 train, 6 valid, 10 test' '$T/cv'"
check "convert: nlb_tools test-phase tensors (hidden eval targets): a warning" \
    sh -c "$ND convert '$NT' --out '$T/nt.h5' --bin-ms 5 2>'$T/ct' >/dev/null && grep -q 'hidden test targets' '$T/ct'"
if /usr/bin/python3 -c 'import h5py, numpy' 2>/dev/null; then
    check "nlb_tools validation phase: every entry, split, neuron list and behaviour" \
        /usr/bin/python3 "$FX/check_nlb_tensors.py" "$T/nv.h5" val
    check "nlb_tools test phase: no test targets or behaviour written" \
        /usr/bin/python3 "$FX/check_nlb_tensors.py" "$T/nt.h5" test
else
    echo "skip nlb_tools tensor contents: /usr/bin/python3 with h5py and numpy not available"
fi
"$ND" convert "$NT" --out "$T/nt2.h5" --bin-ms 5 --keep-test-targets >/dev/null 2>"$T/err"; rc=$?
check "--keep-test-targets with hidden eval targets: one clear line" sh -c "[ $rc -ne 0 ] \
    && grep -q 'keep-test-targets.*not in the input' '$T/err'"
"$ND" convert "$NT" --out "$T/nt3.h5" >/dev/null 2>"$T/err"; rc=$?
check "nlb_tools tensors without --bin-ms: usage error" sh -c "[ $rc -eq 2 ] && grep -q 'bin-ms' '$T/err'"
check "train reads the converted test-phase file (1 epoch)" sh -c "$ND train '$T/nt.h5' --out '$T/nrun' --max-epochs 1 \
    --threads 1 --set gen_dim=8 --set ic_enc_dim=8 --set ic_dim=4 --set fac_dim=4 --set con_dim=0 >/dev/null 2>'$T/err'"
echo "RESULT $pass $fail 0"
[ "$fail" -eq 0 ]
