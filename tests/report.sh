#!/bin/sh
# neurodyn report: a tiny LFADS run (controller on, held-out neurons from a converted file is covered by the
# real-data screenshot, not here), a smoothing baseline, jPCA and fixed points; the page's SVGs are well-formed, it
# references nothing external, its eval table matches neurodyn eval, and headless Chromium renders it to a PNG that
# is not blank (skipped with a line when chromium is absent). Also learn and neuron runs, and one-line errors.
ND=${NEURODYN:-bin/neurodyn}
case "$ND" in /*) ;; *) ND="$(pwd)/$ND" ;; esac
PY=/usr/bin/python3
CHECK="$(pwd)/tests/report_check.py"
T=$(mktemp -d /tmp/nd_report_XXXXXX)
trap 'rm -rf "$T"' EXIT
. "$(dirname "$0")/lib.sh"
SMALL="--set gen_dim=16 --set ic_enc_dim=8 --set ic_dim=8 --set fac_dim=6 --set con_dim=8 --set ci_enc_dim=8
 --set co_dim=2 --set batch_size=16 --set kl_increase_epoch=1 --set l2_increase_epoch=1 --quiet --threads 2"
$ND simulate lorenz --conditions 6 --trials-per-condition 10 --neurons 12 --bins 20 --seed 1 --out "$T/l.h5" >/dev/null
$ND train "$T/l.h5" --out "$T/run" $SMALL --max-epochs 4 >/dev/null
$ND infer "$T/run" --data "$T/l.h5" --out "$T/o.h5" --posterior-mean --quiet
$ND baseline smoothing "$T/l.h5" --out "$T/smooth.h5" --kernel-ms 50 --alpha 1 >/dev/null 2>&1
$ND jpca "$T/o.h5" --data "$T/l.h5" --dims 4 --out "$T/jpca.h5" >/dev/null
$ND fixedpoints "$T/run" --outputs "$T/o.h5" --starts 16 --out "$T/fp.h5" >/dev/null

check "report of an LFADS run (outputs inferred, baseline, jPCA, fixed points)" sh -c "$ND report '$T/run' \
    --data '$T/l.h5' --baseline '$T/smooth.h5' --jpca '$T/jpca.h5' --fixedpoints '$T/fp.h5' -o '$T/r.html' \
    >'$T/r.log' 2>&1 && grep -q 'report: inferring posterior means' '$T/r.log' && test -s '$T/r.html'"
check "every SVG well-formed, 7 figures, nothing external" $PY "$CHECK" page "$T/r.html" 7
check "page sections: scores with the baseline, training, trials, factors, inputs, PSTHs, jPCA, fixed points" \
    sh -c "for s in 'baseline: smooth.h5' 'Figure 1. Training' 'Figure 2. Example' 'Figure 3. Latent' \
    'Figure 4. Inferred inputs' 'Figure 5. Peri' 'Figure 6. Condition' 'Figure 7. Fixed'; do \
    grep -q \"\$s\" '$T/r.html' || { echo \"missing: \$s\"; exit 1; }; done"
# the eval table is neurodyn eval's numbers (same posterior-mean outputs given with --outputs)
check "eval table = neurodyn eval (rate R^2, PSTH R^2)" sh -c "$ND report '$T/run' --data '$T/l.h5' --outputs '$T/o.h5' \
    -o '$T/r2.html' --quiet && $ND eval '$T/o.h5' --data '$T/l.h5' --json '$T/e.json' >/dev/null && $PY -c '
import json, re, sys
e = json.load(open(sys.argv[1])); html = open(sys.argv[2]).read()
row = re.search(r\"<tr><td>LFADS</td>(.*?)</tr>\", html).group(1)
cells = re.findall(r\"<td class=.num.>([^<]*)</td>\", row)
psth, rate = float(cells[3]), float(cells[4])
assert abs(psth - e[\"psth_r2\"]) < 1e-4 and abs(rate - e[\"rate_r2\"]) < 1e-4, (cells, e)
' '$T/e.json' '$T/r2.html'"
check "--outputs (infer --posterior-mean) and the report's own posterior means: the same figures" sh -c "$ND report \
    '$T/run' --data '$T/l.h5' -o '$T/r4.html' --quiet && grep -v '<th>outputs</th>' '$T/r2.html' >'$T/a' \
    && grep -v '<th>outputs</th>' '$T/r4.html' >'$T/b' && cmp -s '$T/a' '$T/b'"
check "the report is deterministic" sh -c "$ND report '$T/run' --data '$T/l.h5' --outputs '$T/o.h5' -o '$T/r3.html' \
    --quiet && cmp -s '$T/r2.html' '$T/r3.html'"
if command -v chromium >/dev/null 2>&1; then
    check "headless Chromium renders the page: screenshot not blank" sh -c "timeout 120 chromium --no-sandbox \
        --headless --disable-gpu --hide-scrollbars --screenshot='$T/shot.png' --window-size=1040,1800 \
        'file://$T/r.html' >/dev/null 2>&1; $PY '$CHECK' png '$T/shot.png'"
else
    echo "skip headless Chromium render: chromium is not installed (make deps installs it)"; skip=$((skip + 1))
fi
# learn and neuron runs
$ND learn train --task teacher --rule bp --epochs 2 --threads 2 --quiet --out "$T/lr" >/dev/null
$ND learn gradients "$T/lr" --rules bp,fa,np --samples 10 >/dev/null
check "report of a learn run: curves and the bias-variance plane" sh -c "$ND report '$T/lr' -o '$T/lr.html' --quiet \
    && $PY '$CHECK' page '$T/lr.html' 2 >/dev/null && grep -q 'Bias-variance plane' '$T/lr.html'"
NF="--depth 1 --width 4 --first-kernel 20 --lr 3e-3 --threads 2 --batch 32 --quiet"
$ND neuron simulate --cell iaf --sims 20 --seconds 1 --exc-rate-hz 3.56 --out "$T/n.h5" --quiet >/dev/null
$ND neuron fit "$T/n.h5" --out "$T/nrun" $NF --epochs 2 >/dev/null
$ND neuron simulate --cell iaf --sims 3 --seconds 1 --exc-rate-hz 3.56 --seed 1 --out "$T/nte.h5" --quiet >/dev/null
check "report of a neuron run: learning curves, held-out scores and traces" sh -c "$ND report '$T/nrun' \
    --data '$T/nte.h5' -o '$T/n.html' --quiet && $PY '$CHECK' page '$T/n.html' 2 >/dev/null \
    && grep -q 'temporal convolutional network' '$T/n.html' && grep -q 'Somatic voltage, simulation 1' '$T/n.html'"
# errors: one line, non-zero exit
expect_error "LFADS run without --data" "needs its data file" $ND report "$T/run" -o "$T/x.html"
expect_error "not a run directory" "not a run directory" $ND report "$T" -o "$T/x.html"
expect_error "missing run directory" "no such directory" $ND report "$T/none" -o "$T/x.html"
expect_error "missing -o" "expected RUN_DIR and -o" $ND report "$T/run" --data "$T/l.h5"
$ND simulate lorenz --conditions 6 --trials-per-condition 10 --neurons 12 --bins 20 --seed 2 --out "$T/l2.h5" >/dev/null
$ND baseline smoothing "$T/l2.h5" --out "$T/smooth2.h5" --kernel-ms 50 --alpha 1 >/dev/null 2>&1
expect_error "a baseline of other data is refused" "was not made from" $ND report "$T/run" --data "$T/l.h5" \
    --outputs "$T/o.h5" --baseline "$T/smooth2.h5" -o "$T/x.html" --quiet
expect_error "other data than the model's are refused" "l2.h5" $ND report "$T/run" --data "$T/l2.h5" -o "$T/x.html" \
    --quiet
check "no page is left behind by a failed report" test ! -e "$T/x.html"
check "--help ends with examples" sh -c "$ND report --help | tail -2 | head -1 | grep -q '^  neurodyn report run/'"
echo "RESULT $pass $fail $skip"
[ "$fail" -eq 0 ]
