#!/bin/sh
# End-to-end tests of the reconstruction models (--set recon=...) and simulate --calcium: data checks, the config
# key in the run, infer's outputs and eval's log-likelihood. Prints ok/FAIL lines and a RESULT line.
ND=${NEURODYN:-bin/neurodyn}
case "$ND" in /*) ;; *) ND="$(pwd)/$ND" ;; esac
T=$(mktemp -d /tmp/nd_recon_XXXXXX)
trap 'rm -rf "$T"' EXIT
. "$(dirname "$0")/lib.sh"
SMALL="--set gen_dim=16 --set ic_enc_dim=8 --set ic_dim=8 --set fac_dim=6 --set con_dim=8 --set ci_enc_dim=8
 --set co_dim=2 --set batch_size=16 --set kl_increase_epoch=1 --set l2_increase_epoch=1 --quiet --threads 2"
SIM="--conditions 6 --trials-per-condition 10 --neurons 12 --bins 20 --seed 1"

check "simulate lorenz --calcium" sh -c "$ND simulate lorenz --calcium $SIM --out '$T/ca.h5' | grep -q 'calcium traces'"
check "simulate --calcium is deterministic" sh -c "$ND simulate lorenz --calcium $SIM --out '$T/ca2.h5' >/dev/null \
    && cmp -s '$T/ca.h5' '$T/ca2.h5' || { h5dump -d train_data '$T/ca.h5' >'$T/d1' 2>/dev/null; \
    h5dump -d train_data '$T/ca2.h5' >'$T/d2' 2>/dev/null; cmp -s '$T/d1' '$T/d2'; }"
expect_error "calcium options need --calcium" "need --calcium" $ND simulate lorenz --calcium-noise 0.3 --out "$T/x.h5"
expect_error "--calcium with --sessions" "does not apply" $ND simulate lorenz --calcium --sessions 2 --out "$T/xd"
expect_error "Poisson refuses calcium traces" "is not an integer (spike counts must be whole numbers)" \
    $ND train "$T/ca.h5" --out "$T/p" $SMALL --max-epochs 1
expect_error "bad recon name" "'recon'" $ND train "$T/ca.h5" --out "$T/x" --set recon=lognormal
for r in zig gamma gaussian; do
    check "train recon=$r on calcium traces" $ND train "$T/ca.h5" --out "$T/r_$r" $SMALL --max-epochs 2 --set recon=$r
    check "config.txt of recon=$r names it" grep -q "^recon = $r\$" "$T/r_$r/config.txt"
    check "infer recon=$r" $ND infer "$T/r_$r" --data "$T/ca.h5" --out "$T/o_$r.h5" --samples 2 --quiet
    check "eval recon=$r: recon_ll_per_bin, rate_r2_affine, co_bps not computed" sh -c "$ND eval '$T/o_$r.h5' \
        --data '$T/ca.h5' --json '$T/e_$r.json' >/dev/null && grep -q '\"recon_ll_per_bin\"' '$T/e_$r.json' \
        && grep -q '\"rate_r2_affine\"' '$T/e_$r.json' && grep -q '\"co_bps\":.*defined for spike counts' '$T/e_$r.json'"
done
check "zig config stores zig_loc, gamma's does not" sh -c "grep -q '^zig_loc = ' '$T/r_zig/config.txt' \
    && ! grep -q zig_loc '$T/r_gamma/config.txt'"
check "resume a zig run (data read as traces from its config)" $ND train "$T/ca.h5" --out "$T/r_zig" $SMALL \
    --max-epochs 3 --resume
# a Poisson run's config has no recon line (checkpoints byte-identical to earlier versions)
check "simulate lorenz (spikes)" sh -c "$ND simulate lorenz $SIM --out '$T/sp.h5' >/dev/null"
check "train Poisson (spikes)" $ND train "$T/sp.h5" --out "$T/p" $SMALL --max-epochs 1
check "Poisson config.txt has no recon key" sh -c "! grep -q '^recon \\|^zig_loc' '$T/p/config.txt'"
expect_error "ablate refuses a zig model" "recon=zig" $ND ablate "$T/r_zig" --data "$T/ca.h5"

echo "RESULT $pass $fail $skip"
[ "$fail" -eq 0 ]
