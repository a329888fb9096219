#!/bin/bash
# neurodyn search (PBT) end to end on tiny Lorenz data: a worker killed mid-generation is re-run and the
# search ends exactly where an uninterrupted one does; so does a whole job killed (right after a commit,
# and at random moments) and continued with --resume; search/best works with infer/eval; the stop rule;
# option errors; and, when the build has MPI and mpirun exists, mpirun -np 3 gives the same state.json.
ND=${NEURODYN:-bin/neurodyn}
case "$ND" in /*) ;; *) ND="$(pwd)/$ND" ;; esac
T=$(mktemp -d /tmp/nd_search_XXXXXX)
trap 'rm -rf "$T"' EXIT
cd "$T" || exit 1
pass=0; fail=0; skip=0
ok() { echo "ok   $1"; pass=$((pass + 1)); }
bad() { echo "FAIL $1"; fail=$((fail + 1)); }
RANDOM=11
$ND simulate lorenz --out d.h5 --conditions 4 --trials-per-condition 6 --neurons 8 --bins 15 --seed 3 >/dev/null
SMALL="--set gen_dim=12 --set ic_enc_dim=8 --set ic_dim=6 --set fac_dim=5 --set con_dim=6 --set ci_enc_dim=6
 --set co_dim=2 --set batch_size=8 --set kl_increase_epoch=2 --set l2_increase_epoch=2"
A="d.h5 --workers 4 --generations 4 --epochs-per-generation 3 --seed 5 --threads 1 --parallel 2 $SMALL"
same() { cmp -s "$1/state.json" "$2/state.json" && cmp -s "$1/best/best.ckpt" "$2/best/best.ckpt"; }

# the reference: an uninterrupted search
t0=$(date +%s%N)
if $ND search $A --out ref 2>ref.err; then ok "uninterrupted search"; else bad "uninterrupted search"; cat ref.err; fi
ref_ms=$(( ($(date +%s%N) - t0) / 1000000 ))
rows=$(grep -cE '^ +[0-9]+ +[0-9]+ +[0-9.]+ +[0-9.]+ +[0-9]+ ' ref.err)
if grep -q 'gen  *epoch  *best  *median  *worker  *lr_init  *dropout' ref.err && [ "$rows" -eq 4 ] &&
   [ "$(wc -l < ref/generations.tsv)" -eq 5 ]; then ok "per-generation table on stderr and in generations.tsv"
else bad "generation table ($rows rows)"; cat ref.err; fi
# PBT did something: some worker copied another
if grep -q '"exploited":[[:space:]]*[1-9]' ref/state.json; then ok "workers exploited better ones"
else bad "no exploit in 4 generations"; fi
# the best run's config holds the searched kl_ic_scale times bins x neurons (15 x 8 = 120)
kl_state=$(awk '/"best":[[:space:]]*[{]/{b=1} b && /"kl_ic_scale"/{gsub(/[,\t ]/,""); split($0,a,":"); print a[2]; exit}' ref/state.json)
kl_cfg=$(awk -F' = ' '$1=="kl_ic_scale"{print $2}' ref/best/config.txt)
if awk -v a="$kl_state" -v b="$kl_cfg" 'BEGIN{exit !(a > 0 && (b / (a * 120) - 1)^2 < 1e-20)}'; then
    ok "best/config.txt: kl_ic_scale = searched value x 120 elements per trial ($kl_state -> $kl_cfg)"
else bad "kl_ic_scale mapping: state $kl_state, config $kl_cfg"; fi

# a worker killed half-way through a checkpoint write in generation 2: its slot is re-run
ND_FAULT_SEARCH_KILL=2:2 $ND search $A --out kw 2>kw.err
if grep -q 'worker 2 was killed by signal 9 in generation 2; re-running' kw.err &&
   grep -q '(re-run after a failure)' kw/worker_02/train.out; then ok "killed worker detected and re-run"
else bad "killed worker"; cat kw.err; fi
if same ref kw; then ok "search with a killed worker == uninterrupted (state.json, best.ckpt)"
else bad "search with a killed worker differs"; fi

# the whole job killed right after the commit of generation 2 (exploit copies staged, not renamed in)
{ ( ND_FAULT_SEARCH_DIE=2 exec $ND search $A --out kj ); rc=$?; } 2>/dev/null
ls kj/worker_*/incoming.ckpt >/dev/null 2>&1 && staged=1 || staged=0
$ND search $A --out kj 2>kj.err && bad "existing search without --resume accepted" ||
    { grep -q 'exists: continue it with --resume' kj.err && ok "existing search needs --resume" || bad "message: $(cat kj.err)"; }
$ND search $A --out kj --resume 2>kj.err
if [ $rc -eq 137 ] && [ $staged -eq 1 ] && grep -q 'resuming the search in kj after generation 2' kj.err && same ref kj; then
    ok "job killed after a commit, --resume == uninterrupted"
else bad "kill after commit (rc $rc, staged $staged)"; cat kj.err; fi

# the whole process group killed at random moments, resumed each time
# kill moments: random fractions (5-85%) of the uninterrupted search's wall time, which depends on the machine
killed=0
for i in 1 2 3 4 5 6; do
    setsid $ND search $A --out kr --resume 2>/dev/null &
    p=$!
    sleep "$(awk -v ms="$ref_ms" -v r="$RANDOM" 'BEGIN{printf "%.3f", ms * (0.05 + 0.8 * (r % 1000) / 1000) / 1000}')"
    kill -9 -- -$p 2>/dev/null
    wait $p 2>/dev/null
    [ $? -eq 137 ] && killed=$((killed + 1))
done
sleep 0.2
$ND search $A --out kr --resume 2>kr.err
echo "    random SIGKILLs of the whole job that landed: $killed of 6"
if [ $killed -ge 1 ] && same ref kr; then ok "job killed at random moments, --resume == uninterrupted"
else bad "random kills (landed $killed)"; cat kr.err; fi
if [ -z "$(pgrep -f "search d.h5 .* --out kr" 2>/dev/null)" ]; then ok "no worker outlives a killed search"
else bad "orphan workers"; fi

# Ctrl-C of the whole job (SIGINT to its process group, as a terminal sends it) half-way: the running jobs stop
# after their epoch's checkpoint, exit 130 with the --resume command; resumed, it ends as an uninterrupted search
setsid $ND search $A --out ki 2>ki.err &
p=$!
sleep "$(awk -v ms="$ref_ms" 'BEGIN{printf "%.3f", ms * 0.5 / 1000}')"
kill -INT -- -$p 2>/dev/null
wait $p; rc=$?
$ND search $A --out ki --resume 2>/dev/null
if { [ $rc -eq 130 ] && grep -q 'continue with: neurodyn search .*--resume' ki.err; } || [ $rc -eq 0 ]; then
    if same ref ki; then ok "Ctrl-C (exit $rc) then --resume == uninterrupted"; else bad "Ctrl-C: resumed search differs"; fi
else bad "Ctrl-C (exit $rc): $(tail -2 ki.err)"; fi

# a search that reached --generations 2, extended to 4 with --resume, == one run for 4 generations
$ND search ${A/--generations 4/--generations 2} --out ext 2>/dev/null
$ND search $A --out ext --resume 2>ext.err
if grep -q 'resuming the search in ext after generation 2 of at most 4' ext.err && same ref ext; then
    ok "--generations extended on --resume == a longer search from the start"
else bad "extended search differs"; cat ext.err; fi

# a different option on resume is refused
$ND search ${A/--epochs-per-generation 3/--epochs-per-generation 4} --out ref --resume 2>e.err
if [ $? -ne 0 ] && grep -q -- '--epochs-per-generation differs' e.err; then ok "resume with other options refused"
else bad "resume with other options: $(cat e.err)"; fi

# search/best is a normal run directory
if $ND infer ref/best --data d.h5 --out out.h5 --samples 2 --quiet && $ND eval out.h5 --data d.h5 --json m.json >/dev/null &&
   grep -q rate_r2 m.json; then ok "infer + eval accept search/best"; else bad "infer/eval on search/best"; fi

# the stop rule: a huge --min-improvement stops as soon as the window (2 generations) is full
$ND search d.h5 --workers 2 --generations 5 --epochs-per-generation 2 --patience 2 --min-improvement 10 $SMALL --out st 2>st.err
if grep -q 'done: the best score improved by a ratio .* < 10 over the last 2 generations after 2 generations' st.err; then
    ok "stop rule ends the search"; else bad "stop rule"; cat st.err; fi

# option errors
$ND search d.h5 --out x --set kl_ic_scale=1 2>e.err
[ $? -eq 2 ] && grep -q 'is searched' e.err && ok "--set on a searched key refused" || bad "--set searched: $(cat e.err)"
$ND search d.h5 --out x --space lr_init=1:0:0.3 2>e.err
[ $? -eq 2 ] && grep -q -- '--space' e.err && ok "bad --space refused" || bad "--space: $(cat e.err)"
$ND search d.h5 --out x --workers 0 2>e.err
[ $? -eq 2 ] && grep -q -- '--workers' e.err && ok "bad --workers refused" || bad "--workers: $(cat e.err)"

# MPI: the same search with one job per rank
if command -v mpirun >/dev/null 2>&1 && ldd "$ND" 2>/dev/null | grep -q libmpi; then
    LSAN_OPTIONS=detect_leaks=0 timeout 120 mpirun -np 3 --oversubscribe --allow-run-as-root -x LSAN_OPTIONS \
        $ND search ${A/--parallel 2/} --out mpi 2>mpi.err >/dev/null
    if grep -q '| MPI' mpi.err && same ref mpi; then ok "mpirun -np 3: same state.json and best.ckpt as local workers"
    else bad "mpirun search differs"; cat mpi.err; fi
else
    echo "skip mpirun: not installed or neurodyn built without MPI"; skip=$((skip + 1))
fi
echo "RESULT $pass $fail $skip"
[ $fail -eq 0 ]
