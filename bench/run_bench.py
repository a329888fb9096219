#!/usr/bin/python3
"""`make bench`: neurodyn's LFADS against the PyTorch comparator (bench/torch_lfads.py) and this machine's
large-sgemm FLOP/s, all measured in the same run, interleaved, repeated, medians reported.

usage: run_bench.py BUILD_BENCH_DIR     (environment: BENCH_REPS, default 3; BENCH_SKIP_TORCH=1 skips PyTorch)
"""
import os
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
B_DIR = sys.argv[1] if len(sys.argv) > 1 else "build/bench"
REPS = int(os.environ.get("BENCH_REPS", "3"))
TORCH = os.environ.get("BENCH_SKIP_TORCH", "0") != "1"
PY = "/usr/bin/python3"
SHAPES = {"a": ("(a) Lorenz-sized", 50, 30, 1248), "b": ("(b) MC_Maze-sized", 140, 182, 2295)}
STEPS = {"a": (10, 4), "b": (4, 2)}     # timed steps: neurodyn, torch (after one warm-up step each)
INFER_N = {"a": 256, "b": 128}          # trials for the inference timing
SAMPLES = 50


def run(args, quiet=False):
    args = [str(x) for x in args]
    env = dict(os.environ)
    env.pop("OMP_NUM_THREADS", None)
    p = subprocess.run(args, capture_output=True, text=True, env=env)
    if p.returncode != 0:
        sys.exit("bench: %s failed:\n%s%s" % (" ".join(args), p.stdout, p.stderr))
    res = None
    for line in p.stdout.splitlines():
        if line.startswith("RESULT "):
            res = dict(kv.split("=", 1) for kv in line.split()[1:])
        elif not quiet:
            print(line)
    return res


def nd(*a):
    return run([os.path.join(B_DIR, "bench_train")] + [str(x) for x in a])


def th(*a):
    return run([PY, os.path.join(HERE, "torch_lfads.py")] + [str(x) for x in a])


def med(v):
    return statistics.median(v) if v else float("nan")


def blas_kernels():
    """Both sides get the same OpenBLAS kernels: where OpenBLAS does not recognise the CPU and falls back to its
    generic ones, the neurodyn CLI restarts itself with better ones (nd_blas_suggested_core); the bench binaries and
    PyTorch (whose matmuls are OpenBLAS's too) get the same OPENBLAS_CORETYPE here, so neither side is crippled."""
    nd_cli = os.path.join(HERE, "..", "bin", "neurodyn")
    if "OPENBLAS_CORETYPE" not in os.environ and os.path.exists(nd_cli):
        line = subprocess.run([nd_cli, "--blas-env"], capture_output=True, text=True).stdout.strip()
        if line.startswith("export OPENBLAS_CORETYPE="):
            os.environ["OPENBLAS_CORETYPE"] = line.split("=", 1)[1]
            print("OpenBLAS does not recognise this CPU: OPENBLAS_CORETYPE=%s for both sides (neurodyn --blas-env)"
                  % os.environ["OPENBLAS_CORETYPE"])


def main():
    global TORCH
    sys.stdout.reconfigure(line_buffering=True)
    if TORCH and subprocess.run([PY, "-c", "import torch"], capture_output=True).returncode != 0:
        print("python3-torch is not installed (apt-get install python3-torch): PyTorch columns skipped")
        TORCH = False
    blas_kernels()
    print("load before: " + open("/proc/loadavg").read().strip())
    if os.environ.get("BENCH_ONLY") == "tcn":  # the neuron TCN tables alone (BENCH_ONLY=tcn make bench-run)
        tcn_bench()
        print("load after: " + open("/proc/loadavg").read().strip())
        return
    # 1. same loss as neurodyn on fixed weights and a fixed batch
    if TORCH:
        print("\n== PyTorch comparator vs neurodyn: loss and gradient on a fixed batch (50 x 30, B 128) ==")
        for exe in ("export_fixture_f64", "export_fixture"):
            d = os.path.join(B_DIR, "fixture_" + exe)
            os.makedirs(d, exist_ok=True)
            run([os.path.join(B_DIR, exe), d, "50", "30", "128"], quiet=True)
            th("check", d)
    # 2. data shared by both sides
    data = {}
    for k, (_, T, N, n) in SHAPES.items():
        data[k] = os.path.join(B_DIR, "spikes_%s_%dx%dx%d.u8" % (k, n, T, N))
        if not os.path.exists(data[k]):
            nd("data", data[k], T, N, n)
    # 3. training, interleaved
    sg = {1: [], 2: []}
    tr = {}
    for rep in range(REPS):
        for thr in (1, 2):
            sg[thr].append(float(nd("sgemm", thr)["gflops"]))
            for k, (_, T, N, n) in SHAPES.items():
                r = nd("train", data[k], T, N, n, thr, STEPS[k][0])
                tr.setdefault(("nd", k, thr), []).append(r)
                if TORCH:
                    tr.setdefault(("torch", k, thr), []).append(th("train", data[k], T, N, n, thr, STEPS[k][1]))
        print("  rep %d/%d done (load %s)" % (rep + 1, REPS, open("/proc/loadavg").read().split()[0]))
    print("\n== Training step (forward + backward + Adam), medians of %d interleaved runs ==" % REPS)
    print("| data | threads | neurodyn ms/step (CPU ms) | epoch s | PyTorch ms/step | epoch s | speed-up | GFLOP/s "
          "| sgemm GFLOP/s | % of sgemm | peak RSS neurodyn / torch |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for k, (name, T, N, n) in SHAPES.items():
        for thr in (1, 2):
            rs = tr[("nd", k, thr)]
            ms = med([float(r["ms_per_step"]) for r in rs])
            cpu = med([float(r["cpu_ms_per_step"]) for r in rs])
            ep = med([float(r["epoch_s"]) for r in rs])
            gf = float(rs[0]["gflop_per_step"]) / (ms / 1e3)
            pk = med(sg[thr])
            rss = max(float(r["rss_mb"]) for r in rs)
            if TORCH:
                ts = tr[("torch", k, thr)]
                tms = med([float(r["ms_per_step"]) for r in ts])
                tep = med([float(r["epoch_s"]) for r in ts])
                trss = max(float(r["rss_mb"]) for r in ts)
                tcol = "%.0f | %.2f | **%.1fx**" % (tms, tep, tms / ms)
            else:
                tcol, trss = "- | - | -", float("nan")
            print("| %s %dx%dx%d | %d | %.0f (%.0f) | %.2f | %s | %.1f | %.1f | %.0f%% | %.0f / %.0f MB |"
                  % (name, n, T, N, thr, ms, cpu, ep, tcol, gf, pk, 100 * gf / pk, rss, trss))
    # 4. inference: posterior sample-and-average
    print("\n== Inference: posterior sample-and-average, %d samples ==" % SAMPLES)
    print("| data | threads | neurodyn trials/s | PyTorch trials/s | speed-up |")
    print("|---|---|---|---|---|")
    for k, (name, T, N, n) in SHAPES.items():
        for thr in (1, 2):
            a = float(nd("infer", data[k], T, N, INFER_N[k], thr, SAMPLES)["trials_per_s"])
            if TORCH:
                r = th("infer", data[k], T, N, INFER_N[k], thr, SAMPLES)
                b = float(r["trials_per_s"])
                note = "" if r["passes"].split("/")[0] == r["passes"].split("/")[1] else " (from %s passes)" % r["passes"]
                print("| %s (%d trials) | %d | %.1f | %.1f%s | **%.1fx** |" % (name, INFER_N[k], thr, a, b, note, a / b))
            else:
                print("| %s (%d trials) | %d | %.1f | - | - |" % (name, INFER_N[k], thr, a))
    # 5. scaling of neurodyn: double T, B, N, gen_dim from (a); one thread
    print("\n== Scaling (neurodyn, 1 thread, 1248 trials, from (a) 50 bins x 30 neurons, B 128, gen 100) ==")
    print("| change | T | B | N | gen | ms/step | epoch s | epoch / base | peak RSS MB |")
    print("|---|---|---|---|---|---|---|---|---|")
    base = None
    for label, T, B, N, G in (("base", 50, 128, 30, 100), ("T x2", 100, 128, 30, 100), ("B x2", 50, 256, 30, 100),
                              ("N x2", 50, 128, 60, 100), ("gen x2", 50, 128, 30, 200)):
        rs = [nd("train", "-", T, N, 1248, 1, 6, B, G) for _ in range(max(1, REPS - 1))]
        ms = med([float(r["ms_per_step"]) for r in rs])
        ep = med([float(r["epoch_s"]) for r in rs])
        base = base or ep
        print("| %s | %d | %d | %d | %d | %.0f | %.2f | %.2f | %.0f |"
              % (label, T, B, N, G, ms, ep, ep / base, max(float(r["rss_mb"]) for r in rs)))
    print("\nthread scaling 1 -> 2 (epoch time ratio): " + ", ".join(
        "%s %.2fx" % (SHAPES[k][0], med([float(r["epoch_s"]) for r in tr[("nd", k, 1)]]) /
                      med([float(r["epoch_s"]) for r in tr[("nd", k, 2)]])) for k in SHAPES))
    tcn_bench()
    learn_bench()
    print("load after: " + open("/proc/loadavg").read().strip())


def learn_bench():
    """learning rules (docs/learning.md): bp on the 784-256-256-10 MLP, batch 64, SGD, vs its PyTorch twin; wall
    and process CPU ms per step (on a shared machine the CPU column is the comparable one)"""
    print("\n== Learning rules: bp step (forward + backward + SGD), MLP 784-256-256-10, batch 64 ==")
    print("| threads | neurodyn ms/step (CPU) | epoch s | PyTorch ms/step (CPU) | epoch s | PyTorch / neurodyn wall (CPU) |")
    print("|---|---|---|---|---|---|")
    for thr in (1, 2):
        ra, rb = [], []
        for _ in range(REPS):  # interleaved
            ra.append(run([os.path.join(B_DIR, "bench_learn"), thr, 200]))
            if TORCH:
                rb.append(run([PY, os.path.join(HERE, "torch_learn.py"), thr, 200]))
        a, ac = med([float(r["ms_per_step"]) for r in ra]), med([float(r["cpu_ms_per_step"]) for r in ra])
        if TORCH:
            b, bc = med([float(r["ms_per_step"]) for r in rb]), med([float(r["cpu_ms_per_step"]) for r in rb])
            print("| %d | %.2f (%.2f) | %.2f | %.2f (%.2f) | %.2f | **%.2fx** (%.2fx) |"
                  % (thr, a, ac, a * 0.937, b, bc, b * 0.937, b / a, bc / ac))
        else:
            print("| %d | %.2f (%.2f) | %.2f | - | - | - |" % (thr, a, ac, a * 0.937))


# neuron TCN (docs/neuron.md): the source article's 7 x 128 network, first kernel 35, kernel 5; windows of 400 loss
# bins plus the 58 ms receptive field; batch 16; inputs at 2 Hz per synapse
TCN_SHAPES = {"branched": ("branched cell, 418 synapses", 418, 16), "l5pc": ("L5PC-sized, 2556 synapses", 2556, 8)}
TCN_NET = (7, 128, 35, 5)
TCN_T = 458


def tcn(*a):
    return run([os.path.join(B_DIR, "bench_tcn")] + [str(x) for x in a])


def tcn_bench():
    print("\n== Neuron TCN: fit step (forward + backward + Adam), depth %d, width %d, kernels %d/%d, T %d =="
          % (TCN_NET + (TCN_T,)))
    print("| input | batch | threads | neurodyn ms/step | PyTorch ms/step | speed-up |")
    print("|---|---|---|---|---|---|")
    for key, (name, syn, B) in TCN_SHAPES.items():
        path = os.path.join(B_DIR, "tcn_%s_%dx%dx%d.u8" % (key, B, TCN_T, syn))
        if not os.path.exists(path):
            tcn("data", path, syn, TCN_T, B, 2.0, 1)
        for thr in (1, 2):
            a = med([float(tcn("train", path, syn, TCN_T, B, *TCN_NET, thr, 3)["ms_per_step"]) for _ in range(REPS)])
            if TORCH:
                b = med([float(run([PY, os.path.join(HERE, "torch_tcn.py"), "train", path, syn, TCN_T, B, *TCN_NET,
                                    thr, 2])["ms_per_step"]) for _ in range(REPS)])
                print("| %s | %d | %d | %.0f | %.0f | **%.1fx** |" % (name, B, thr, a, b, b / a))
            else:
                print("| %s | %d | %d | %.0f | - | - |" % (name, B, thr, a))
    print("\n== Neuron: simulator vs TCN prediction, compute ms per simulated second (1 thread) ==")
    print("| cell | simulator ms/s | TCN (%d x %d) ms/s | simulator / TCN |" % TCN_NET[:2])
    for cell, syn in (("iaf", 100), ("branched", 418), ("branched-ampa", 418)):
        sim = float(tcn("sim", cell, 6)["ms_per_sim_s"])
        net = float(tcn("infer", syn, 6, *TCN_NET, 1, 2.0)["ms_per_sim_s"])
        print("| %s | %.1f | %.1f | %.2f |" % (cell, sim, net, sim / net))
    l5pc_row()


def l5pc_row():
    """the NEURON L5PC (1,278 inputs) against a TCN of that input size: skipped without NEURON"""
    nd_bin = os.path.join(HERE, "..", "bin", "neurodyn")
    if subprocess.run([PY, "-c", "import neuron, h5py"], capture_output=True).returncode != 0:
        print("| l5pc | - (NEURON not installed) | - | - |")
        return
    out = os.path.join(B_DIR, "l5pc_bench.h5")
    env = dict(os.environ, NEURODYN_CACHE=os.path.join(B_DIR, "..", "cache"))
    p = subprocess.run([nd_bin, "neuron", "simulate", "--cell", "l5pc", "--sims", "1", "--seconds", "1", "--quiet",
                        "--out", out], capture_output=True, text=True, env=env)
    if p.returncode != 0:
        print("| l5pc | - (%s) | - | - |" % p.stderr.strip())
        return
    # the simulation loop's own time (the file's simulate_seconds: NEURON's start-up and the cell's set-up left out)
    q = subprocess.run([PY, "-c", "import h5py, sys; print(h5py.File(sys.argv[1]).attrs['simulate_seconds'])", out],
                       capture_output=True, text=True)
    sim = 1e3 * float(q.stdout) / 1.0
    net = float(tcn("infer", 1278, 6, *TCN_NET, 1, 2.0)["ms_per_sim_s"])
    print("| l5pc (NEURON, dt 0.025 ms) | %.0f | %.1f | %.0f |" % (sim, net, sim / net))


if __name__ == "__main__":  # (was indented into tcn_bench, so that run_bench.py ran nothing)
    main()
